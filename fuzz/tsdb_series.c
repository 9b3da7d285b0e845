/* Fuzz target for tsdb/series. The first byte picks the mode:
 *   even: the rest is a serialized index for tsdb_sidx_deserialize (the bounds-checked decoder);
 *   odd:  the rest is lines of operations building an index: "k<key>" creates a series from a
 *         canonical key, "f<meas> <field> <type digit>" adds a field, "d<n>" drops series id n,
 *         "D<meas>" drops a measurement, "q<key>=<value>" / "r<key>=<regex>" matches tag predicates.
 * Whatever decodes or gets built must be self-consistent: every live series is found by its key,
 * matching with no predicate returns each measurement's series, predicate results agree with the
 * per-series evaluation, and serialize -> deserialize gives the same keys and ids. Any
 * disagreement aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsdb/series.h"

#define FUZZ_CHECK(c)                                                                                                  \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            fprintf(stderr, "tsdb_series fuzz: check failed: %s (line %d)\n", #c, __LINE__);                           \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static void check_pred(tsdb_sidx *ix, const tsdb_spred *p) {
    tsdb_strs ms = {0};
    tsdb_ids out = {0};
    FUZZ_CHECK(tsdb_sidx_measurements(ix, NULL, NULL, &ms, NULL, 0) == 0);
    for (size_t i = 0; i < ms.n; i++) {
        size_t n;
        const uint32_t *all = tsdb_sidx_measurement_series(ix, ms.v[i].s, ms.v[i].len, &n);
        FUZZ_CHECK(tsdb_sidx_match(ix, ms.v[i].s, ms.v[i].len, p, &out) == 0);
        size_t j = 0;
        for (size_t k = 0; k < n; k++) {
            if (k) FUZZ_CHECK(all[k - 1] < all[k]);
            if (!tsdb_spred_eval_series(ix, p, all[k])) continue;
            FUZZ_CHECK(j < out.n && out.v[j] == all[k]);
            j++;
        }
        FUZZ_CHECK(j == out.n);
    }
    tsdb_ids_free(&out);
    tsdb_strs_free(&ms);
}

/* every live series, by walking the measurements (ids can be sparse up to 2^32-1) */
static void check_index(tsdb_sidx *ix) {
    tsdb_strs ms = {0};
    FUZZ_CHECK(tsdb_sidx_measurements(ix, NULL, NULL, &ms, NULL, 0) == 0);
    check_pred(ix, NULL);
    uint8_t *buf;
    size_t len;
    FUZZ_CHECK(tsdb_sidx_serialize(ix, &buf, &len) == 0);
    char err[256];
    tsdb_sidx *back = tsdb_sidx_deserialize(buf, len, err, sizeof err);
    if (!back) {
        fprintf(stderr, "tsdb_series fuzz: re-decode failed: %s\n", err);
        abort();
    }
    FUZZ_CHECK(tsdb_sidx_series_count(back) == tsdb_sidx_series_count(ix));
    FUZZ_CHECK(tsdb_sidx_next_id(back) == tsdb_sidx_next_id(ix));
    size_t live = 0;
    for (size_t i = 0; i < ms.n; i++) {
        size_t n, nb;
        const uint32_t *ids = tsdb_sidx_measurement_series(ix, ms.v[i].s, ms.v[i].len, &n);
        const uint32_t *idb = tsdb_sidx_measurement_series(back, ms.v[i].s, ms.v[i].len, &nb);
        FUZZ_CHECK(n == nb && n > 0 && !memcmp(ids, idb, n * 4));
        for (size_t j = 0; j < n; j++) {
            size_t la, lb, ml;
            const char *a = tsdb_sidx_series_key(ix, ids[j], &la), *b = tsdb_sidx_series_key(back, ids[j], &lb);
            FUZZ_CHECK(a && b && la == lb && !memcmp(a, b, la));
            FUZZ_CHECK(tsdb_sidx_lookup(ix, a, la) == ids[j]);
            FUZZ_CHECK(ids[j] < tsdb_sidx_next_id(ix));
            const char *m = tsdb_sidx_series_measurement(ix, ids[j], &ml);
            FUZZ_CHECK(m && ml == ms.v[i].len && !memcmp(m, ms.v[i].s, ml));
            live++;
        }
    }
    FUZZ_CHECK(live == tsdb_sidx_series_count(ix));
    tsdb_sidx_free(back);
    free(buf);
    tsdb_strs_free(&ms);
}

static void run_ops(tsdb_sidx *ix, const char *s, size_t n) {
    size_t pos = 0;
    while (pos < n) {
        const char *e = memchr(s + pos, '\n', n - pos);
        size_t ll = e ? (size_t)(e - (s + pos)) : n - pos;
        const char *l = s + pos;
        pos += ll + 1;
        if (!ll) continue;
        char op = l[0];
        const char *a = l + 1;
        size_t al = ll - 1;
        uint32_t id;
        int created;
        if (op == 'k') {
            tsdb_sidx_create_key(ix, a, al, &id, &created);
        } else if (op == 'f') {
            const char *sp = memchr(a, ' ', al);
            if (!sp) continue;
            const char *sp2 = memchr(sp + 1, ' ', al - (size_t)(sp + 1 - a));
            if (!sp2 || sp2 + 1 >= a + al) continue;
            tsdb_sidx_field_add(ix, a, (size_t)(sp - a), sp + 1, (size_t)(sp2 - sp - 1), sp2[1] - '0', NULL, 0);
        } else if (op == 'd') {
            char num[16];
            size_t k = al < 15 ? al : 15;
            memcpy(num, a, k);
            num[k] = 0;
            uint32_t x = (uint32_t)strtoul(num, NULL, 10);
            tsdb_sidx_drop_series(ix, &x, 1);
        } else if (op == 'D') {
            tsdb_sidx_drop_measurement(ix, a, al);
        } else if (op == 'q' || op == 'r') {
            const char *eq = memchr(a, '=', al);
            if (!eq) continue;
            tsdb_spred *p = tsdb_spred_tag(op == 'q' ? TSDB_SP_EQ : TSDB_SP_MATCH, a, (size_t)(eq - a), eq + 1,
                                           al - (size_t)(eq + 1 - a), NULL, 0);
            if (!p) continue;
            check_pred(ix, p);
            p = tsdb_spred_or(p, tsdb_spred_tag(TSDB_SP_NEQ, a, (size_t)(eq - a), "", 0, NULL, 0));
            if (p) check_pred(ix, p);
            tsdb_spred_free(p);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > (1u << 20)) return 0;
    tsdb_sidx *ix;
    if (data[0] % 2 == 0) {
        char err[256];
        ix = tsdb_sidx_deserialize(data + 1, size - 1, err, sizeof err);
        if (!ix) return 0;
    } else {
        ix = tsdb_sidx_new();
        if (!ix) return 0;
        run_ops(ix, (const char *)data + 1, size - 1);
    }
    check_index(ix);
    tsdb_sidx_free(ix);
    return 0;
}
