/* Fuzz target for tsdb/lineproto: parses the input as a line protocol body (default options, and
 * again with unsigned integers allowed, second precision and small limits) and checks that nothing
 * crashes, that every bad line has an "unable to parse '...': reason" message, that parse_all agrees
 * with the iterator, that accepted points are well formed (measurement, >= 1 field, tags strictly
 * sorted), and that every accepted point the encoder can write re-encodes, re-parses to the same
 * point, re-encodes to the same bytes, and that its canonical series key parses back to itself. */
#include "tsdb/lineproto.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(c)                                                                                                  \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            fprintf(stderr, "tsdb_lineproto fuzz: check failed: %s (line %d)\n", #c, __LINE__);                       \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static int str_eq(tsdb_lp_str a, tsdb_lp_str b) { return a.len == b.len && (!a.len || !memcmp(a.ptr, b.ptr, a.len)); }

static int str_cmp(tsdb_lp_str a, tsdb_lp_str b) {
    size_t m = a.len < b.len ? a.len : b.len;
    int c = m ? memcmp(a.ptr, b.ptr, m) : 0;
    return c ? c : (a.len < b.len ? -1 : a.len > b.len);
}

static int same_key(const tsdb_lp_point *a, const tsdb_lp_point *b) {
    if (!str_eq(a->measurement, b->measurement) || a->ntags != b->ntags || !str_eq(a->series_key, b->series_key))
        return 0;
    for (size_t i = 0; i < a->ntags; i++)
        if (!str_eq(a->tags[i].key, b->tags[i].key) || !str_eq(a->tags[i].value, b->tags[i].value)) return 0;
    return 1;
}

static int same_point(const tsdb_lp_point *a, const tsdb_lp_point *b) {
    if (!same_key(a, b) || a->nfields != b->nfields || a->has_time != b->has_time || a->time_ns != b->time_ns) return 0;
    for (size_t i = 0; i < a->nfields; i++) {
        const tsdb_lp_field *x = &a->fields[i], *y = &b->fields[i];
        if (!str_eq(x->key, y->key) || x->type != y->type) return 0;
        switch (x->type) {
        case TSDB_LP_FLOAT:
            if (x->v.f != y->v.f || signbit(x->v.f) != signbit(y->v.f)) return 0;
            break;
        case TSDB_LP_INT: if (x->v.i != y->v.i) return 0; break;
        case TSDB_LP_UINT: if (x->v.u != y->v.u) return 0; break;
        case TSDB_LP_BOOL: if (x->v.b != y->v.b) return 0; break;
        case TSDB_LP_STRING: if (!str_eq(x->v.s, y->v.s)) return 0; break;
        }
    }
    return 1;
}

static char *enc1, *enc2, *keyline, *msg;
static void *arena1, *arena2;
static size_t alen;

static void check_point(const tsdb_lp_point *pt, const tsdb_lp_opts *o) {
    FUZZ_CHECK(pt->measurement.len > 0 && pt->nfields > 0 && pt->series_key.len >= pt->measurement.len);
    for (size_t i = 1; i < pt->ntags; i++) FUZZ_CHECK(str_cmp(pt->tags[i - 1].key, pt->tags[i].key) < 0);
    for (size_t i = 0; i < pt->ntags; i++) FUZZ_CHECK(pt->tags[i].key.len > 0 && pt->tags[i].value.len > 0);
    for (size_t i = 0; i < pt->nfields; i++) {
        FUZZ_CHECK(pt->fields[i].key.len > 0);
        for (size_t j = 0; j < i; j++) FUZZ_CHECK(!str_eq(pt->fields[i].key, pt->fields[j].key));
        if (pt->fields[i].type == TSDB_LP_FLOAT) FUZZ_CHECK(isfinite(pt->fields[i].v.f));
        if (pt->fields[i].type == TSDB_LP_STRING) FUZZ_CHECK(pt->fields[i].v.s.len <= TSDB_LP_MAX_STRING);
    }
    FUZZ_CHECK(pt->time_ns >= TSDB_LP_MIN_NS && pt->time_ns <= TSDB_LP_MAX_NS);

    size_t len = 0, len2 = 0, cap = 4 * o->max_line + 4096;
    int rc = tsdb_lp_encode(pt, o->precision, enc1, cap, &len);
    if (rc == TSDB_LP_EINVAL) return; /* e.g. a key ending in a backslash: not representable */
    FUZZ_CHECK(rc == 0 && len > 0 && enc1[len - 1] == '\n');
    tsdb_lp_opts o2 = *o;
    o2.max_line = 4 * o->max_line + 4096;
    tsdb_lp_parser p;
    tsdb_lp_point back;
    FUZZ_CHECK(tsdb_lp_parser_init(&p, enc1, len, &o2, arena2, alen) == 0);
    rc = tsdb_lp_next(&p, &back);
    if (rc != 1) {
        tsdb_lp_error_message(&p, msg, 4096);
        fprintf(stderr, "re-parse failed: %s\n", msg);
    }
    FUZZ_CHECK(rc == 1);
    FUZZ_CHECK(same_point(pt, &back));
    FUZZ_CHECK(tsdb_lp_next(&p, &back) == 0);
    FUZZ_CHECK(tsdb_lp_encode(&back, o->precision, enc2, cap, &len2) == 0);
    FUZZ_CHECK(len2 == len && !memcmp(enc1, enc2, len));

    /* the canonical series key is itself a valid key section that reads back the same */
    memcpy(keyline, pt->series_key.ptr, pt->series_key.len);
    memcpy(keyline + pt->series_key.len, " f=1", 4);
    FUZZ_CHECK(tsdb_lp_parser_init(&p, keyline, pt->series_key.len + 4, &o2, arena2, alen) == 0);
    FUZZ_CHECK(tsdb_lp_next(&p, &back) == 1);
    FUZZ_CHECK(same_key(pt, &back));
}

static void run(const uint8_t *data, size_t size, const tsdb_lp_opts *o) {
    tsdb_lp_parser p;
    tsdb_lp_point pt;
    FUZZ_CHECK(tsdb_lp_parser_init(&p, (const char *)data, size, o, arena1, alen) == 0);
    size_t good = 0, bad = 0;
    int rc;
    while ((rc = tsdb_lp_next(&p, &pt)) != 0) {
        if (rc < 0) {
            bad++;
            size_t n = tsdb_lp_error_message(&p, msg, 4096);
            FUZZ_CHECK(n > 20 && !strncmp(msg, "unable to parse '", 17) && p.reason[0] != 0);
            FUZZ_CHECK(strstr(msg, "': ") != NULL);
            continue;
        }
        FUZZ_CHECK(rc == 1);
        good++;
        check_point(&pt, o);
    }
    tsdb_lp_result res;
    long nbad = tsdb_lp_parse_all((const char *)data, size, o, arena1, alen, NULL, NULL, &res, msg, 4096);
    FUZZ_CHECK(nbad == (long)bad && res.points == good && res.dropped == bad);
    FUZZ_CHECK(bad == 0 || !strncmp(msg, "unable to parse '", 17));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tsdb_lp_opts a, b;
    tsdb_lp_opts_default(&a);
    a.max_line = 1 << 20;
    a.now_ns = 1700000000123456789LL;
    tsdb_lp_opts_default(&b);
    b.max_line = 300;
    b.max_tags = 3;
    b.max_fields = 4;
    b.flags = TSDB_LP_ALLOW_UNSIGNED;
    b.precision = TSDB_LP_PREC_S;
    b.now_ns = -1500000001;
    if (!arena1) {
        tsdb_lp_opts big = a;
        big.max_line = 4 * a.max_line + 4096;
        alen = tsdb_lp_arena_size(&big);
        arena1 = malloc(alen);
        arena2 = malloc(alen);
        enc1 = malloc(big.max_line);
        enc2 = malloc(big.max_line);
        keyline = malloc(big.max_line);
        msg = malloc(4096);
        FUZZ_CHECK(arena1 && arena2 && enc1 && enc2 && keyline && msg);
    }
    run(data, size, &a);
    run(data, size, &b);
    return 0;
}
