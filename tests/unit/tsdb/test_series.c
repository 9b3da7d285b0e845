/* Unit tests for tsdb/series (the in-memory series index): create/lookup by parts and by key (keys
 * identical to the line protocol parser's series_key, escaping included), reverse accessors, bad
 * input, 100k series with 3 tags (prints bytes per series), postings checked against a brute-force
 * model on thousands of random series with random predicate trees and random drops, InfluxDB's
 * missing-tag semantics, regexes, field type conflicts with InfluxDB's exact message, drops, SHOW
 * helper ordering, set operations, serialize round trip, and every truncation and many corruptions
 * of a serialized index (an error or a consistent index, never a crash). */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tsdb/lineproto.h"
#include "tsdb/series.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static tsdb_lp_str S(const char *s) { return (tsdb_lp_str){s, strlen(s)}; }
static tsdb_lp_tag T(const char *k, const char *v) { return (tsdb_lp_tag){S(k), S(v)}; }

static uint32_t mk(tsdb_sidx *ix, const char *m, const tsdb_lp_tag *t, size_t n) {
    uint32_t id = TSDB_SID_NONE;
    int created = -1;
    assert_int_equal(tsdb_sidx_get_or_create(ix, m, strlen(m), t, n, &id, &created), 0);
    return id;
}

/* ---------------------------------------------------------------- create / lookup */

static void test_create_lookup(void **st) {
    (void)st;
    tsdb_sidx *ix = tsdb_sidx_new();
    assert_non_null(ix);
    tsdb_lp_tag t1[] = {T("host", "a"), T("region", "eu")};
    uint32_t id;
    int created;
    assert_int_equal(tsdb_sidx_get_or_create(ix, "cpu", 3, t1, 2, &id, &created), 0);
    assert_int_equal(id, 0);
    assert_int_equal(created, 1);
    assert_int_equal(tsdb_sidx_get_or_create(ix, "cpu", 3, t1, 2, &id, &created), 0);
    assert_int_equal(id, 0);
    assert_int_equal(created, 0);
    const char *key = "cpu,host=b,region=eu";
    assert_int_equal(tsdb_sidx_create_key(ix, key, strlen(key), &id, &created), 0);
    assert_int_equal(id, 1);
    assert_int_equal(created, 1);
    assert_int_equal(tsdb_sidx_lookup(ix, "cpu,host=a,region=eu", 20), 0);
    assert_int_equal(tsdb_sidx_lookup(ix, key, strlen(key)), 1);
    assert_int_equal(tsdb_sidx_lookup(ix, "cpu,host=c,region=eu", 20), TSDB_SID_NONE);
    assert_int_equal(tsdb_sidx_lookup(ix, "cpu", 3), TSDB_SID_NONE);
    assert_int_equal(mk(ix, "cpu", NULL, 0), 2); /* no tags */
    assert_int_equal(tsdb_sidx_lookup(ix, "cpu", 3), 2);
    assert_int_equal(tsdb_sidx_series_count(ix), 3);
    assert_int_equal(tsdb_sidx_next_id(ix), 3);

    size_t l;
    assert_string_equal(tsdb_sidx_series_key(ix, 1, &l), key);
    assert_int_equal(l, strlen(key));
    assert_string_equal(tsdb_sidx_series_measurement(ix, 1, &l), "cpu");
    assert_int_equal(tsdb_sidx_series_ntags(ix, 1), 2);
    const char *k, *v;
    size_t kl, vl;
    assert_int_equal(tsdb_sidx_series_tag(ix, 1, 1, &k, &kl, &v, &vl), 0);
    assert_string_equal(k, "region");
    assert_string_equal(v, "eu");
    assert_int_equal(tsdb_sidx_series_tag(ix, 1, 2, &k, &kl, &v, &vl), -1);
    assert_string_equal(tsdb_sidx_series_tag_value(ix, 1, "host", 4, &vl), "b");
    assert_null(tsdb_sidx_series_tag_value(ix, 1, "zone", 4, &vl));
    assert_null(tsdb_sidx_series_key(ix, 99, &l));
    assert_null(tsdb_sidx_series_key(ix, TSDB_SID_NONE, &l));
    size_t n;
    const uint32_t *ids = tsdb_sidx_measurement_series(ix, "cpu", 3, &n);
    assert_int_equal(n, 3);
    assert_int_equal(ids[0], 0);
    assert_int_equal(ids[2], 2);
    assert_null(tsdb_sidx_measurement_series(ix, "mem", 3, &n));
    assert_int_equal(n, 0);

    /* bad parts and keys */
    tsdb_lp_tag unsorted[] = {T("b", "1"), T("a", "1")};
    tsdb_lp_tag dup[] = {T("a", "1"), T("a", "2")};
    tsdb_lp_tag emptyv[] = {T("a", "")};
    tsdb_lp_tag emptyk[] = {T("", "x")};
    assert_int_equal(tsdb_sidx_get_or_create(ix, "m", 1, unsorted, 2, &id, &created), TSDB_SIDX_EINVAL);
    assert_int_equal(tsdb_sidx_get_or_create(ix, "m", 1, dup, 2, &id, &created), TSDB_SIDX_EINVAL);
    assert_int_equal(tsdb_sidx_get_or_create(ix, "m", 1, emptyv, 1, &id, &created), TSDB_SIDX_EINVAL);
    assert_int_equal(tsdb_sidx_get_or_create(ix, "m", 1, emptyk, 1, &id, &created), TSDB_SIDX_EINVAL);
    assert_int_equal(tsdb_sidx_get_or_create(ix, "", 0, NULL, 0, &id, &created), TSDB_SIDX_EINVAL);
    const char *bad[] = {"", ",a=b", "m,a", "m,a=", "m,=b", "m,b=1,a=2", "m,a=1,a=2", "m x", "m,a=b c", "m,a=b=c",
                         "m,"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(tsdb_sidx_create_key(ix, bad[i], strlen(bad[i]), &id, &created), TSDB_SIDX_EINVAL);
    assert_int_equal(tsdb_sidx_series_count(ix), 3);
    tsdb_sidx_free(ix);
}

/* keys built from parts must equal the line protocol parser's series_key, escapes included */
typedef struct lp_ctx {
    tsdb_sidx *ix;
    int n;
} lp_ctx;

static int lp_cb(void *ud, const tsdb_lp_point *pt) {
    lp_ctx *c = ud;
    uint32_t id, id2;
    int created;
    assert_int_equal(tsdb_sidx_get_or_create(c->ix, pt->measurement.ptr, pt->measurement.len, pt->tags, pt->ntags,
                                             &id, &created), 0);
    assert_int_equal(created, 1);
    size_t l;
    const char *k = tsdb_sidx_series_key(c->ix, id, &l);
    assert_int_equal(l, pt->series_key.len);
    assert_memory_equal(k, pt->series_key.ptr, l);
    assert_int_equal(tsdb_sidx_lookup(c->ix, pt->series_key.ptr, pt->series_key.len), id);
    /* the key form parses back to the same series in a fresh index */
    tsdb_sidx *ix2 = tsdb_sidx_new();
    assert_int_equal(tsdb_sidx_create_key(ix2, pt->series_key.ptr, pt->series_key.len, &id2, &created), 0);
    size_t ml;
    const char *m = tsdb_sidx_series_measurement(ix2, id2, &ml);
    assert_int_equal(ml, pt->measurement.len);
    assert_memory_equal(m, pt->measurement.ptr, ml);
    assert_int_equal(tsdb_sidx_series_ntags(ix2, id2), pt->ntags);
    for (size_t i = 0; i < pt->ntags; i++) {
        const char *tk, *tv;
        size_t kl, vl;
        assert_int_equal(tsdb_sidx_series_tag(ix2, id2, i, &tk, &kl, &tv, &vl), 0);
        assert_int_equal(kl, pt->tags[i].key.len);
        assert_memory_equal(tk, pt->tags[i].key.ptr, kl);
        assert_int_equal(vl, pt->tags[i].value.len);
        assert_memory_equal(tv, pt->tags[i].value.ptr, vl);
    }
    tsdb_sidx_free(ix2);
    c->n++;
    return 0;
}

static void test_keys_match_lineproto(void **st) {
    (void)st;
    const char *body = "cpu,host=a,region=eu v=1\n"
                       "my\\ meas\\,x,tag\\ key=val\\=ue,z=1 v=1\n"
                       "eq=meas,a\\=b=c\\,d v=1\n"
                       "w,b=2,a=1,c=x\\ y v=1\n"
                       "back\\slash,t=a\\b v=1\n"
                       "unicodé,ключ=значение v=1\n";
    tsdb_lp_opts o;
    tsdb_lp_opts_default(&o);
    size_t al = tsdb_lp_arena_size(&o);
    void *arena = malloc(al);
    lp_ctx c = {tsdb_sidx_new(), 0};
    tsdb_lp_result res;
    char err[512];
    assert_int_equal(tsdb_lp_parse_all(body, strlen(body), &o, arena, al, lp_cb, &c, &res, err, sizeof err), 0);
    assert_int_equal(c.n, 6);
    free(arena);
    tsdb_sidx_free(c.ix);
}

/* ---------------------------------------------------------------- many series, memory */

static void test_many_series(void **st) {
    (void)st;
    tsdb_sidx *ix = tsdb_sidx_new();
    size_t base = tsdb_sidx_memory(ix);
    const uint32_t N = 100000;
    char dev[32], site[32], typ[32];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (uint32_t i = 0; i < N; i++) {
        snprintf(dev, sizeof dev, "dev%06u", i);
        snprintf(site, sizeof site, "site%u", i % 100);
        snprintf(typ, sizeof typ, "type%u", i % 7);
        tsdb_lp_tag t[] = {T("dev_eui", dev), T("site", site), T("type", typ)};
        assert_int_equal(mk(ix, "sensors", t, 3), i);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    size_t mem = tsdb_sidx_memory(ix) - base;
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("# series index: %u series x 3 tags: %zu bytes (%.1f bytes/series, allocator overhead not included), "
           "%.0f creates/s\n", N, mem, (double)mem / N, N / secs);
    char key[96];
    for (uint32_t i = 0; i < N; i += 7) {
        int l = snprintf(key, sizeof key, "sensors,dev_eui=dev%06u,site=site%u,type=type%u", i, i % 100, i % 7);
        assert_int_equal(tsdb_sidx_lookup(ix, key, (size_t)l), i);
    }
    tsdb_spred *p = tsdb_spred_tag(TSDB_SP_EQ, "site", 4, "site42", 6, NULL, 0);
    tsdb_ids out = {0};
    assert_int_equal(tsdb_sidx_match(ix, "sensors", 7, p, &out), 0);
    assert_int_equal(out.n, N / 100);
    for (size_t i = 0; i < out.n; i++) assert_int_equal(out.v[i], 42 + 100 * i);
    tsdb_spred_free(p);
    tsdb_strs vals = {0};
    const char *keys[] = {"type"};
    assert_int_equal(tsdb_sidx_tag_values(ix, "sensors", 7, TSDB_SP_EQ, keys, 1, NULL, &vals, NULL, 0), 0);
    assert_int_equal(vals.n, 7);
    assert_string_equal(vals.v[0].val, "type0");
    assert_string_equal(vals.v[6].val, "type6");
    /* drop all but every 10th series, then everything: memory falls back */
    uint32_t *drop = malloc(N * 4);
    size_t nd = 0;
    for (uint32_t i = 0; i < N; i++)
        if (i % 10) drop[nd++] = i;
    assert_int_equal(tsdb_sidx_drop_series(ix, drop, nd), nd);
    assert_int_equal(tsdb_sidx_series_count(ix), N / 10);
    assert_int_equal(tsdb_sidx_match(ix, "sensors", 7, NULL, &out), 0);
    assert_int_equal(out.n, N / 10);
    assert_int_equal(tsdb_sidx_drop_measurement(ix, "sensors", 7), (long)(N / 10));
    assert_int_equal(tsdb_sidx_series_count(ix), 0);
    size_t after = tsdb_sidx_memory(ix) - base;
    printf("# series index: after dropping everything: %zu bytes (slot arrays keep their peak size)\n", after);
    assert_true(after < mem / 4);
    free(drop);
    tsdb_ids_free(&out);
    tsdb_strs_free(&vals);
    tsdb_sidx_free(ix);
}

/* ---------------------------------------------------------------- random model vs index */

#define NMEAS 3
#define NKEYS 4
static const char *MEAS[NMEAS] = {"m0", "m1", "m2"};
static const char *KEYS[NKEYS] = {"a", "b", "c", "d"};
static const char *VALS[] = {"v0", "v1", "v2", "v3", "v4", "v5", "x y", "p,q", "e=f"};
#define NVALS (sizeof VALS / sizeof *VALS)
static const char *RES[] = {"^v[0-2]$", "v", "^$", ".*", "3", "^(v1|x y)$", "q$", "^[^v]", "[,=]"};
#define NRES (sizeof RES / sizeof *RES)

typedef struct mser {
    int live, meas;
    uint32_t id;
    int val[NKEYS]; /* -1 = tag missing */
} mser;

typedef struct mpred {
    int op; /* tsdb_sp_op */
    int key; /* NKEYS = a key no series has */
    const char *v;
    regex_t re;
    struct mpred *l, *r;
} mpred;

static const char *key_name(int k) { return k < NKEYS ? KEYS[k] : "zz"; }

static mpred *gen_pred(tsdb_spred **out, int depth) {
    mpred *p = calloc(1, sizeof *p);
    if (depth < 3 && rnd() % 3 == 0) {
        tsdb_spred *a, *b;
        p->op = rnd() % 2 ? TSDB_SP_AND : TSDB_SP_OR;
        p->l = gen_pred(&a, depth + 1);
        p->r = gen_pred(&b, depth + 1);
        *out = p->op == TSDB_SP_AND ? tsdb_spred_and(a, b) : tsdb_spred_or(a, b);
        assert_non_null(*out);
        return p;
    }
    p->op = TSDB_SP_EQ + (int)(rnd() % 4);
    p->key = (int)(rnd() % (NKEYS + 1));
    if (p->op == TSDB_SP_EQ || p->op == TSDB_SP_NEQ) {
        uint64_t r = rnd() % (NVALS + 2);
        p->v = r < NVALS ? VALS[r] : r == NVALS ? "" : "nope";
    } else {
        p->v = RES[rnd() % NRES];
        assert_int_equal(regcomp(&p->re, p->v, REG_EXTENDED | REG_NOSUB), 0);
    }
    const char *k = key_name(p->key);
    char err[256];
    *out = tsdb_spred_tag((tsdb_sp_op)p->op, k, strlen(k), p->v, strlen(p->v), err, sizeof err);
    assert_non_null(*out);
    return p;
}

static void free_mpred(mpred *p) {
    if (!p) return;
    free_mpred(p->l);
    free_mpred(p->r);
    if (p->op == TSDB_SP_MATCH || p->op == TSDB_SP_NMATCH) regfree(&p->re);
    free(p);
}

static int eval_model(const mpred *p, const mser *s) {
    if (p->op == TSDB_SP_AND) return eval_model(p->l, s) && eval_model(p->r, s);
    if (p->op == TSDB_SP_OR) return eval_model(p->l, s) || eval_model(p->r, s);
    const char *v = p->key < NKEYS && s->val[p->key] >= 0 ? VALS[s->val[p->key]] : "";
    switch (p->op) {
    case TSDB_SP_EQ: return !strcmp(v, p->v);
    case TSDB_SP_NEQ: return strcmp(v, p->v) != 0;
    case TSDB_SP_MATCH: return regexec(&p->re, v, 0, NULL, 0) == 0;
    default: return regexec(&p->re, v, 0, NULL, 0) != 0;
    }
}

static void check_model(tsdb_sidx *ix, const mser *ms, size_t n, int npreds) {
    size_t live = 0;
    for (size_t i = 0; i < n; i++) live += ms[i].live;
    assert_int_equal(tsdb_sidx_series_count(ix), live);
    tsdb_ids out = {0};
    for (int q = 0; q < npreds; q++) {
        tsdb_spred *sp;
        mpred *mp = gen_pred(&sp, 0);
        for (int m = 0; m < NMEAS; m++) {
            assert_int_equal(tsdb_sidx_match(ix, MEAS[m], 2, sp, &out), 0);
            size_t j = 0;
            for (size_t i = 0; i < n; i++) {
                if (!ms[i].live || ms[i].meas != m || !eval_model(mp, &ms[i])) continue;
                assert_true(j < out.n);
                assert_int_equal(out.v[j], ms[i].id);
                assert_int_equal(tsdb_spred_eval_series(ix, sp, ms[i].id), 1);
                j++;
            }
            assert_int_equal(j, out.n);
        }
        tsdb_spred_free(sp);
        free_mpred(mp);
    }
    /* SHOW TAG VALUES of every key against the model */
    tsdb_strs vals = {0};
    for (int m = 0; m < NMEAS; m++)
        for (int k = 0; k < NKEYS; k++) {
            int seen[NVALS] = {0};
            size_t want = 0;
            for (size_t i = 0; i < n; i++)
                if (ms[i].live && ms[i].meas == m && ms[i].val[k] >= 0 && !seen[ms[i].val[k]]++) want++;
            const char *keys[] = {KEYS[k]};
            assert_int_equal(tsdb_sidx_tag_values(ix, MEAS[m], 2, TSDB_SP_EQ, keys, 1, NULL, &vals, NULL, 0), 0);
            assert_int_equal(vals.n, want);
            for (size_t i = 0; i < vals.n; i++) {
                if (i) assert_true(strcmp(vals.v[i - 1].val, vals.v[i].val) < 0);
                int found = 0;
                for (size_t x = 0; x < NVALS; x++) found |= seen[x] && !strcmp(VALS[x], vals.v[i].val);
                assert_true(found);
            }
        }
    tsdb_strs_free(&vals);
    tsdb_ids_free(&out);
}

static void test_random_vs_model(void **st) {
    (void)st;
    const size_t N = 4000;
    mser *ms = calloc(N, sizeof *ms);
    tsdb_sidx *ix = tsdb_sidx_new();
    size_t n = 0;
    for (int round = 0; round < 4; round++) {
        for (size_t i = 0; i < N / 4 * 3 / 4 * 4 / 3 && n < N; i++) {
            mser s = {1, (int)(rnd() % NMEAS), 0, {0}};
            tsdb_lp_tag t[NKEYS];
            size_t nt = 0;
            for (int k = 0; k < NKEYS; k++) {
                s.val[k] = rnd() % 4 == 0 ? -1 : (int)(rnd() % NVALS);
                if (s.val[k] >= 0) t[nt++] = T(KEYS[k], VALS[s.val[k]]);
            }
            uint32_t id;
            int created;
            assert_int_equal(tsdb_sidx_get_or_create(ix, MEAS[s.meas], 2, t, nt, &id, &created), 0);
            if (!created) { /* same series as an earlier live one */
                size_t j = 0;
                while (j < n && !(ms[j].live && ms[j].id == id)) j++;
                assert_true(j < n);
                assert_int_equal(ms[j].meas, s.meas);
                assert_memory_equal(ms[j].val, s.val, sizeof s.val);
                continue;
            }
            s.id = id;
            ms[n++] = s;
        }
        check_model(ix, ms, n, 150);
        /* drop a random third of the live series, by predicate sometimes */
        uint32_t *d = malloc(n * 4);
        size_t nd = 0;
        for (size_t i = 0; i < n; i++)
            if (ms[i].live && rnd() % 3 == 0) {
                d[nd++] = ms[i].id;
                ms[i].live = 0;
            }
        assert_int_equal(tsdb_sidx_drop_series(ix, d, nd), nd);
        assert_int_equal(tsdb_sidx_drop_series(ix, d, nd), 0); /* already gone */
        free(d);
        check_model(ix, ms, n, 150);
    }
    tsdb_sidx_free(ix);
    free(ms);
}

/* ---------------------------------------------------------------- semantics */

static size_t match_n(tsdb_sidx *ix, const char *m, tsdb_spred *p, uint32_t *first) {
    tsdb_ids out = {0};
    assert_int_equal(tsdb_sidx_match(ix, m, strlen(m), p, &out), 0);
    size_t n = out.n;
    if (first && n) *first = out.v[0];
    tsdb_ids_free(&out);
    tsdb_spred_free(p);
    return n;
}

static tsdb_spred *P(tsdb_sp_op op, const char *k, const char *v) {
    char err[256];
    tsdb_spred *p = tsdb_spred_tag(op, k, strlen(k), v, strlen(v), err, sizeof err);
    assert_non_null(p);
    return p;
}

static void test_missing_tag_semantics(void **st) {
    (void)st;
    tsdb_sidx *ix = tsdb_sidx_new();
    tsdb_lp_tag a[] = {T("host", "a")};
    tsdb_lp_tag b[] = {T("host", "b"), T("rack", "1")};
    uint32_t ia = mk(ix, "cpu", a, 1), ib = mk(ix, "cpu", b, 2), in = mk(ix, "cpu", NULL, 0);
    uint32_t f = 99;
    assert_int_equal(match_n(ix, "cpu", P(TSDB_SP_EQ, "rack", ""), &f), 2); /* a and the tagless one */
    assert_int_equal(f, ia);
    assert_int_equal(match_n(ix, "cpu", P(TSDB_SP_NEQ, "rack", ""), &f), 1);
    assert_int_equal(f, ib);
    assert_int_equal(match_n(ix, "cpu", P(TSDB_SP_NEQ, "rack", "1"), NULL), 2);
    assert_int_equal(match_n(ix, "cpu", P(TSDB_SP_NEQ, "host", "a"), &f), 2);
    assert_int_equal(f, ib);
    assert_int_equal(match_n(ix, "cpu", P(TSDB_SP_EQ, "host", "a"), &f), 1);
    assert_int_equal(match_n(ix, "cpu", P(TSDB_SP_EQ, "nokey", ""), NULL), 3);
    assert_int_equal(match_n(ix, "cpu", P(TSDB_SP_EQ, "nokey", "x"), NULL), 0);
    assert_int_equal(match_n(ix, "cpu", P(TSDB_SP_NEQ, "nokey", "x"), NULL), 3);
    /* regexes: a regex matching "" also selects series without the tag */
    assert_int_equal(match_n(ix, "cpu", P(TSDB_SP_MATCH, "rack", ".*"), NULL), 3);
    assert_int_equal(match_n(ix, "cpu", P(TSDB_SP_MATCH, "rack", "^$"), NULL), 2);
    assert_int_equal(match_n(ix, "cpu", P(TSDB_SP_MATCH, "rack", "."), &f), 1);
    assert_int_equal(f, ib);
    assert_int_equal(match_n(ix, "cpu", P(TSDB_SP_NMATCH, "rack", "."), NULL), 2);
    assert_int_equal(match_n(ix, "cpu", P(TSDB_SP_NMATCH, "rack", ".*"), NULL), 0);
    assert_int_equal(match_n(ix, "cpu", P(TSDB_SP_MATCH, "host", "^(a|b)$"), NULL), 2);
    assert_int_equal(match_n(ix, "cpu", P(TSDB_SP_MATCH, "host", "A"), NULL), 0); /* case-sensitive */
    assert_int_equal(match_n(ix, "cpu", P(TSDB_SP_NMATCH, "host", "^a"), &f), 2);
    assert_int_equal(f, ib);
    /* AND / OR, constants */
    assert_int_equal(match_n(ix, "cpu", tsdb_spred_and(P(TSDB_SP_EQ, "host", "b"), P(TSDB_SP_EQ, "rack", "1")), NULL), 1);
    assert_int_equal(match_n(ix, "cpu", tsdb_spred_or(P(TSDB_SP_EQ, "host", "a"), P(TSDB_SP_EQ, "rack", "1")), NULL), 2);
    assert_int_equal(match_n(ix, "cpu", tsdb_spred_and(tsdb_spred_const(1), P(TSDB_SP_EQ, "host", "")), &f), 1);
    assert_int_equal(f, in);
    assert_int_equal(match_n(ix, "cpu", tsdb_spred_or(tsdb_spred_const(0), tsdb_spred_const(0)), NULL), 0);
    assert_int_equal(match_n(ix, "nomeas", tsdb_spred_const(1), NULL), 0);
    /* bad regex: an error message, no predicate */
    char err[256] = "";
    assert_null(tsdb_spred_tag(TSDB_SP_MATCH, "host", 4, "(a", 2, err, sizeof err));
    assert_non_null(strstr(err, "invalid regular expression /(a/"));
    assert_null(tsdb_spred_tag(TSDB_SP_IN, "host", 4, "a", 1, err, sizeof err));
    assert_null(tsdb_spred_and(NULL, tsdb_spred_const(1))); /* frees the other side */
    tsdb_sidx_free(ix);
}

static void test_field_types(void **st) {
    (void)st;
    tsdb_sidx *ix = tsdb_sidx_new();
    char err[512] = "";
    assert_int_equal(tsdb_sidx_field_add(ix, "m", 1, "x", 1, TSDB_LP_FLOAT, err, sizeof err), 0);
    assert_int_equal(tsdb_sidx_field_add(ix, "m", 1, "x", 1, TSDB_LP_FLOAT, err, sizeof err), 0);
    assert_int_equal(tsdb_sidx_field_add(ix, "m", 1, "x", 1, TSDB_LP_INT, err, sizeof err), TSDB_SIDX_ECONFLICT);
    assert_string_equal(err, "field type conflict: input field \"x\" on measurement \"m\" is type integer, "
                             "already exists as type float");
    assert_int_equal(tsdb_sidx_field_add(ix, "m", 1, "s", 1, TSDB_LP_STRING, err, sizeof err), 0);
    assert_int_equal(tsdb_sidx_field_add(ix, "m", 1, "b", 1, TSDB_LP_BOOL, err, sizeof err), 0);
    assert_int_equal(tsdb_sidx_field_add(ix, "m", 1, "u", 1, TSDB_LP_UINT, err, sizeof err), 0);
    assert_int_equal(tsdb_sidx_field_add(ix, "m2", 2, "x", 1, TSDB_LP_INT, err, sizeof err), 0); /* per measurement */
    assert_int_equal(tsdb_sidx_field_add(ix, "m", 1, "y", 1, 9, err, sizeof err), TSDB_SIDX_EINVAL);
    assert_int_equal(tsdb_sidx_field_type(ix, "m", 1, "x", 1), TSDB_LP_FLOAT);
    assert_int_equal(tsdb_sidx_field_type(ix, "m2", 2, "x", 1), TSDB_LP_INT);
    assert_int_equal(tsdb_sidx_field_type(ix, "m", 1, "nope", 4), 0);
    tsdb_lp_field fs[2] = {{S("s"), TSDB_LP_STRING, {0}}, {S("b"), TSDB_LP_FLOAT, {0}}};
    assert_int_equal(tsdb_sidx_field_check(ix, "m", 1, fs, 2, err, sizeof err), TSDB_SIDX_ECONFLICT);
    assert_string_equal(err, "field type conflict: input field \"b\" on measurement \"m\" is type float, "
                             "already exists as type boolean");
    fs[1].type = TSDB_LP_BOOL;
    assert_int_equal(tsdb_sidx_field_check(ix, "m", 1, fs, 2, err, sizeof err), 0);
    assert_int_equal(tsdb_sidx_field_check(ix, "new", 3, fs, 2, err, sizeof err), 0);
    fs[0].type = TSDB_LP_UINT;
    fs[0].key = S("u");
    fs[1].type = TSDB_LP_STRING;
    assert_int_equal(tsdb_sidx_field_check(ix, "m", 1, fs, 1, err, sizeof err), 0);
    assert_int_equal(tsdb_sidx_field_check(ix, "m", 1, fs + 1, 1, err, sizeof err), TSDB_SIDX_ECONFLICT);
    assert_string_equal(err, "field type conflict: input field \"b\" on measurement \"m\" is type string, "
                             "already exists as type boolean");
    assert_int_equal(tsdb_sidx_field_add(ix, "m", 1, "u", 1, TSDB_LP_INT, err, sizeof err), TSDB_SIDX_ECONFLICT);
    assert_string_equal(err, "field type conflict: input field \"u\" on measurement \"m\" is type integer, "
                             "already exists as type unsigned");
    tsdb_strs fk = {0};
    assert_int_equal(tsdb_sidx_field_keys(ix, "m", 1, &fk), 0);
    assert_int_equal(fk.n, 4);
    const char *names[] = {"b", "s", "u", "x"};
    int types[] = {TSDB_LP_BOOL, TSDB_LP_STRING, TSDB_LP_UINT, TSDB_LP_FLOAT};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(fk.v[i].s, names[i]);
        assert_int_equal(fk.v[i].type, types[i]);
    }
    assert_string_equal(tsdb_sidx_field_type_name(TSDB_LP_INT), "integer");
    /* dropping the measurement's last series drops its fields too */
    uint32_t id = mk(ix, "m", NULL, 0);
    assert_int_equal(tsdb_sidx_drop_series(ix, &id, 1), 1);
    assert_int_equal(tsdb_sidx_field_type(ix, "m", 1, "x", 1), 0);
    assert_int_equal(tsdb_sidx_field_add(ix, "m", 1, "x", 1, TSDB_LP_INT, err, sizeof err), 0);
    tsdb_strs_free(&fk);
    tsdb_sidx_free(ix);
}

/* ---------------------------------------------------------------- SHOW helpers */

static void test_show(void **st) {
    (void)st;
    tsdb_sidx *ix = tsdb_sidx_new();
    const char *meas[] = {"zeta", "cpu!", "cpu", "Alpha", "cpu2"};
    for (int m = 0; m < 5; m++)
        for (int h = 3; h >= 0; h--) {
            char hv[16];
            snprintf(hv, sizeof hv, "h%d", h);
            tsdb_lp_tag t[] = {T("host", hv), T("zone", h % 2 ? "b" : "a")};
            mk(ix, meas[m], h == 3 ? t + 1 : t, h == 3 ? 1 : 2);
        }
    tsdb_strs out = {0};
    char err[256];
    assert_int_equal(tsdb_sidx_measurements(ix, NULL, NULL, &out, err, sizeof err), 0);
    const char *ms[] = {"Alpha", "cpu", "cpu!", "cpu2", "zeta"};
    assert_int_equal(out.n, 5);
    for (int i = 0; i < 5; i++) assert_string_equal(out.v[i].s, ms[i]);
    assert_int_equal(tsdb_sidx_measurements(ix, "^cpu", NULL, &out, err, sizeof err), 0);
    assert_int_equal(out.n, 3);
    assert_string_equal(out.v[0].s, "cpu");
    assert_string_equal(out.v[2].s, "cpu2");
    assert_int_equal(tsdb_sidx_measurements(ix, "(", NULL, &out, err, sizeof err), TSDB_SIDX_EINVAL);
    uint32_t id = tsdb_sidx_lookup(ix, "zeta,host=h0,zone=a", 19);
    assert_int_not_equal(id, TSDB_SID_NONE);
    assert_int_equal(tsdb_sidx_drop_series(ix, &id, 1), 1);
    tsdb_spred *p = P(TSDB_SP_EQ, "host", "h0");
    assert_int_equal(tsdb_sidx_measurements(ix, NULL, p, &out, err, sizeof err), 0);
    assert_int_equal(out.n, 4); /* zeta has no h0 any more */
    assert_string_equal(out.v[3].s, "cpu2");
    tsdb_spred_free(p);

    assert_int_equal(tsdb_sidx_tag_keys(ix, "cpu", 3, NULL, &out), 0);
    assert_int_equal(out.n, 2);
    assert_string_equal(out.v[0].s, "host");
    assert_string_equal(out.v[1].s, "zone");
    p = P(TSDB_SP_EQ, "host", "");
    assert_int_equal(tsdb_sidx_tag_keys(ix, "cpu", 3, p, &out), 0); /* only the series without host */
    assert_int_equal(out.n, 1);
    assert_string_equal(out.v[0].s, "zone");
    tsdb_spred_free(p);

    const char *k1[] = {"host"};
    assert_int_equal(tsdb_sidx_tag_values(ix, "cpu", 3, TSDB_SP_EQ, k1, 1, NULL, &out, err, sizeof err), 0);
    assert_int_equal(out.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(out.v[i].s, "host");
        char hv[16];
        snprintf(hv, sizeof hv, "h%d", i);
        assert_string_equal(out.v[i].val, hv);
    }
    const char *kin[] = {"zone", "host", "nokey"};
    assert_int_equal(tsdb_sidx_tag_values(ix, "cpu", 3, TSDB_SP_IN, kin, 3, NULL, &out, err, sizeof err), 0);
    assert_int_equal(out.n, 5); /* host h0 h1 h2, zone a b */
    assert_string_equal(out.v[2].val, "h2");
    assert_string_equal(out.v[3].s, "zone");
    assert_string_equal(out.v[3].val, "a");
    const char *kre[] = {"^z"};
    assert_int_equal(tsdb_sidx_tag_values(ix, "cpu", 3, TSDB_SP_MATCH, kre, 1, NULL, &out, err, sizeof err), 0);
    assert_int_equal(out.n, 2);
    assert_int_equal(tsdb_sidx_tag_values(ix, "cpu", 3, TSDB_SP_NEQ, kre, 1, NULL, &out, err, sizeof err), 0);
    assert_int_equal(out.n, 5);
    p = P(TSDB_SP_EQ, "zone", "b");
    assert_int_equal(tsdb_sidx_tag_values(ix, "cpu", 3, TSDB_SP_IN, kin, 2, p, &out, err, sizeof err), 0);
    assert_int_equal(out.n, 2); /* host h1 (h3 has no host), zone b once */
    assert_string_equal(out.v[0].s, "host");
    assert_string_equal(out.v[0].val, "h1");
    assert_string_equal(out.v[1].s, "zone");
    assert_string_equal(out.v[1].val, "b");
    tsdb_spred_free(p);
    assert_int_equal(tsdb_sidx_tag_values(ix, "cpu", 3, TSDB_SP_AND, k1, 1, NULL, &out, err, sizeof err), TSDB_SIDX_EINVAL);

    assert_int_equal(tsdb_sidx_series_keys(ix, NULL, 0, NULL, &out), 0);
    assert_int_equal(out.n, 19);
    for (size_t i = 1; i < out.n; i++) assert_true(strcmp(out.v[i - 1].s, out.v[i].s) < 0);
    assert_string_equal(out.v[0].s, "Alpha,host=h0,zone=a");
    assert_string_equal(out.v[4].s, "cpu!,host=h0,zone=a"); /* byte order of whole keys, as InfluxDB sorts */
    assert_string_equal(out.v[8].s, "cpu,host=h0,zone=a");
    p = P(TSDB_SP_MATCH, "host", "^h[12]$");
    assert_int_equal(tsdb_sidx_series_keys(ix, "cpu2", 4, p, &out), 0);
    assert_int_equal(out.n, 2);
    assert_string_equal(out.v[1].s, "cpu2,host=h2,zone=a");
    tsdb_spred_free(p);
    assert_int_equal(tsdb_sidx_series_keys(ix, "nope", 4, NULL, &out), 0);
    assert_int_equal(out.n, 0);

    assert_int_equal(tsdb_sidx_drop_measurement(ix, "cpu", 3), 4);
    assert_int_equal(tsdb_sidx_drop_measurement(ix, "cpu", 3), -1);
    assert_int_equal(tsdb_sidx_measurements(ix, NULL, NULL, &out, err, sizeof err), 0);
    assert_int_equal(out.n, 4);
    assert_string_equal(out.v[1].s, "cpu!");
    assert_int_equal(tsdb_sidx_lookup(ix, "cpu,host=h0,zone=a", 18), TSDB_SID_NONE);
    /* ids are not reused */
    uint32_t before = tsdb_sidx_next_id(ix);
    tsdb_lp_tag t[] = {T("host", "h0"), T("zone", "a")};
    assert_int_equal(mk(ix, "cpu", t, 2), before);
    tsdb_strs_free(&out);
    tsdb_sidx_free(ix);
}

static void test_set_ops(void **st) {
    (void)st;
    uint32_t a[] = {1, 3, 5, 7, 9}, b[] = {2, 3, 4, 9, 10}, out[16];
    uint32_t wi[] = {3, 9}, wu[] = {1, 2, 3, 4, 5, 7, 9, 10}, wd[] = {1, 5, 7};
    assert_int_equal(tsdb_ids_intersect(a, 5, b, 5, out), 2);
    assert_memory_equal(out, wi, sizeof wi);
    assert_int_equal(tsdb_ids_union(a, 5, b, 5, out), 8);
    assert_memory_equal(out, wu, sizeof wu);
    assert_int_equal(tsdb_ids_difference(a, 5, b, 5, out), 3);
    assert_memory_equal(out, wd, sizeof wd);
    assert_int_equal(tsdb_ids_union(a, 0, b, 5, out), 5);
    assert_int_equal(tsdb_ids_difference(a, 5, b, 0, out), 5);
    assert_int_equal(tsdb_ids_intersect(a, 5, b, 0, out), 0);
    /* random against a bitmap */
    for (int r = 0; r < 200; r++) {
        uint8_t in_a[256] = {0}, in_b[256] = {0};
        uint32_t x[256], y[256], o[512];
        size_t nx = 0, ny = 0;
        for (uint32_t i = 0; i < 256; i++) {
            if (rnd() % 3 == 0) { x[nx++] = i; in_a[i] = 1; }
            if (rnd() % 4 == 0) { y[ny++] = i; in_b[i] = 1; }
        }
        size_t n = tsdb_ids_union(x, nx, y, ny, o), k = 0;
        for (uint32_t i = 0; i < 256; i++) if (in_a[i] || in_b[i]) assert_int_equal(o[k++], i);
        assert_int_equal(n, k);
        n = tsdb_ids_intersect(x, nx, y, ny, o), k = 0;
        for (uint32_t i = 0; i < 256; i++) if (in_a[i] && in_b[i]) assert_int_equal(o[k++], i);
        assert_int_equal(n, k);
        n = tsdb_ids_difference(x, nx, y, ny, o), k = 0;
        for (uint32_t i = 0; i < 256; i++) if (in_a[i] && !in_b[i]) assert_int_equal(o[k++], i);
        assert_int_equal(n, k);
    }
}

/* ---------------------------------------------------------------- serialization */

static tsdb_sidx *sample_index(void) {
    tsdb_sidx *ix = tsdb_sidx_new();
    char v[16];
    for (int i = 0; i < 300; i++) {
        snprintf(v, sizeof v, "d%d", i);
        tsdb_lp_tag t[] = {T("dev", v), T("site", i % 3 ? "s,1" : "s 2")};
        mk(ix, i % 2 ? "air" : "water quality", t, i % 5 ? 2 : 1);
    }
    mk(ix, "bare", NULL, 0);
    assert_int_equal(tsdb_sidx_field_add(ix, "air", 3, "temp", 4, TSDB_LP_FLOAT, NULL, 0), 0);
    assert_int_equal(tsdb_sidx_field_add(ix, "air", 3, "ok", 2, TSDB_LP_BOOL, NULL, 0), 0);
    assert_int_equal(tsdb_sidx_field_add(ix, "fieldsonly", 10, "n", 1, TSDB_LP_INT, NULL, 0), 0);
    uint32_t d[] = {0, 7, 8, 100};
    assert_int_equal(tsdb_sidx_drop_series(ix, d, 4), 4);
    return ix;
}

static void assert_same_index(tsdb_sidx *a, tsdb_sidx *b) {
    assert_int_equal(tsdb_sidx_series_count(a), tsdb_sidx_series_count(b));
    assert_int_equal(tsdb_sidx_next_id(a), tsdb_sidx_next_id(b));
    for (uint32_t id = 0; id < tsdb_sidx_next_id(a); id++) {
        size_t la, lb;
        const char *ka = tsdb_sidx_series_key(a, id, &la), *kb = tsdb_sidx_series_key(b, id, &lb);
        assert_true((ka == NULL) == (kb == NULL));
        if (!ka) continue;
        assert_int_equal(la, lb);
        assert_memory_equal(ka, kb, la);
        assert_int_equal(tsdb_sidx_lookup(b, ka, la), id);
    }
    tsdb_strs sa = {0}, sb = {0}, fa = {0}, fb = {0};
    assert_int_equal(tsdb_sidx_measurements(a, NULL, NULL, &sa, NULL, 0), 0);
    assert_int_equal(tsdb_sidx_measurements(b, NULL, NULL, &sb, NULL, 0), 0);
    assert_int_equal(sa.n, sb.n);
    for (size_t i = 0; i < sa.n; i++) assert_string_equal(sa.v[i].s, sb.v[i].s);
    const char *extra[] = {"fieldsonly", "nope"};
    for (size_t i = 0; i < sa.n + 2; i++) {
        const char *m = i < sa.n ? sa.v[i].s : extra[i - sa.n];
        assert_int_equal(tsdb_sidx_field_keys(a, m, strlen(m), &fa), 0);
        assert_int_equal(tsdb_sidx_field_keys(b, m, strlen(m), &fb), 0);
        assert_int_equal(fa.n, fb.n);
        for (size_t j = 0; j < fa.n; j++) {
            assert_string_equal(fa.v[j].s, fb.v[j].s);
            assert_int_equal(fa.v[j].type, fb.v[j].type);
        }
        const char *keys[] = {"."};
        assert_int_equal(tsdb_sidx_tag_values(a, m, strlen(m), TSDB_SP_MATCH, keys, 1, NULL, &fa, NULL, 0), 0);
        assert_int_equal(tsdb_sidx_tag_values(b, m, strlen(m), TSDB_SP_MATCH, keys, 1, NULL, &fb, NULL, 0), 0);
        assert_int_equal(fa.n, fb.n);
        for (size_t j = 0; j < fa.n; j++) assert_string_equal(fa.v[j].val, fb.v[j].val);
    }
    tsdb_strs_free(&sa);
    tsdb_strs_free(&sb);
    tsdb_strs_free(&fa);
    tsdb_strs_free(&fb);
}

static void test_serialize(void **st) {
    (void)st;
    tsdb_sidx *ix = sample_index();
    uint8_t *buf;
    size_t len;
    assert_int_equal(tsdb_sidx_serialize(ix, &buf, &len), 0);
    printf("# series index: serialized %zu series in %zu bytes\n", tsdb_sidx_series_count(ix), len);
    char err[256];
    tsdb_sidx *back = tsdb_sidx_deserialize(buf, len, err, sizeof err);
    assert_non_null(back);
    assert_same_index(ix, back);
    /* the copy keeps working: new ids continue after the old next id */
    tsdb_lp_tag t[] = {T("dev", "new")};
    assert_int_equal(mk(back, "air", t, 1), tsdb_sidx_next_id(ix));
    uint8_t *buf2;
    size_t len2;
    assert_int_equal(tsdb_sidx_serialize(back, &buf2, &len2), 0);
    tsdb_sidx *back2 = tsdb_sidx_deserialize(buf2, len2, err, sizeof err);
    assert_non_null(back2);
    assert_same_index(back, back2);
    tsdb_sidx_free(back2);
    free(buf2);
    tsdb_sidx_free(back);

    tsdb_sidx *empty = tsdb_sidx_new();
    assert_int_equal(tsdb_sidx_serialize(empty, &buf2, &len2), 0);
    back = tsdb_sidx_deserialize(buf2, len2, err, sizeof err);
    assert_non_null(back);
    assert_int_equal(tsdb_sidx_series_count(back), 0);
    tsdb_sidx_free(back);
    tsdb_sidx_free(empty);
    free(buf2);

    /* every truncation fails cleanly */
    for (size_t cut = 0; cut < len; cut++) {
        err[0] = 0;
        assert_null(tsdb_sidx_deserialize(buf, cut, err, sizeof err));
        assert_true(err[0] != 0);
    }
    /* trailing garbage */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    assert_null(tsdb_sidx_deserialize(longer, len + 1, err, sizeof err));
    assert_non_null(strstr(err, "trailing"));
    free(longer);
    /* flipped bytes: an error or an index that is consistent (serializes and decodes again) */
    uint8_t *c = malloc(len);
    int ok = 0, bad = 0;
    for (int r = 0; r < 3000; r++) {
        memcpy(c, buf, len);
        int flips = 1 + (int)(rnd() % 3);
        for (int f = 0; f < flips; f++) c[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
        tsdb_sidx *x = tsdb_sidx_deserialize(c, len, err, sizeof err);
        if (!x) {
            bad++;
            continue;
        }
        ok++;
        uint8_t *b3;
        size_t l3;
        assert_int_equal(tsdb_sidx_serialize(x, &b3, &l3), 0);
        tsdb_sidx *y = tsdb_sidx_deserialize(b3, l3, err, sizeof err);
        assert_non_null(y);
        assert_same_index(x, y);
        tsdb_sidx_free(y);
        free(b3);
        tsdb_sidx_free(x);
    }
    printf("# series index: corrupted copies: %d rejected, %d decoded consistently\n", bad, ok);
    assert_true(bad > 0);
    const uint8_t junk[][12] = {{'T', 'S', 'X', '2'}, {'T', 'S', 'X', '1', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
                                {'T', 'S', 'X', '1', 5, 0xff, 0xff, 0xff, 0x0f}};
    for (size_t i = 0; i < 3; i++) assert_null(tsdb_sidx_deserialize(junk[i], 12, err, sizeof err));
    free(c);
    free(buf);
    tsdb_sidx_free(ix);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_lookup),    cmocka_unit_test(test_keys_match_lineproto),
        cmocka_unit_test(test_many_series),      cmocka_unit_test(test_random_vs_model),
        cmocka_unit_test(test_missing_tag_semantics), cmocka_unit_test(test_field_types),
        cmocka_unit_test(test_show),             cmocka_unit_test(test_set_ops),
        cmocka_unit_test(test_serialize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
