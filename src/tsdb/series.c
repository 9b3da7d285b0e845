/* tsdb/series: in-memory series index (key <-> id, inverted tag index, field types), see series.h.
 *
 * Layout: an intern table of refcounted strings (ids "sids"); series records in 4096-entry pages
 * indexed by series id; open-addressed u32 tables (linear probing, backward-shift deletion) for
 * key -> series id, string -> sid and name -> measurement; per measurement a sorted array of tag
 * keys, each with its values in insertion order plus a hash table over them, each value with a
 * postings list. Every allocation goes through mem_* so tsdb_sidx_memory can report the total. */
#include "tsdb/series.h"

#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ allocation accounting */

static void *mem_alloc(size_t *acct, size_t n) {
    void *p = malloc(n ? n : 1);
    if (p) *acct += n;
    return p;
}
static void *mem_realloc(size_t *acct, void *p, size_t old, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (q) *acct = *acct - old + n;
    return q;
}
static void mem_free(size_t *acct, void *p, size_t n) {
    if (!p) return;
    *acct -= n;
    free(p);
}

static uint32_t hash_bytes(const void *k, size_t n) { /* FNV-1a, then a final mix */
    const unsigned char *p = k;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    return h;
}
static uint32_t hash_u32(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

static int bytes_cmp(const char *a, size_t al, const char *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

/* ------------------------------------------------------------------ types */

typedef struct istr {
    uint32_t refs, len, hash;
    char s[]; /* len bytes + NUL */
} istr;

typedef struct postings { /* sorted unique ids; cap <= 2: inline */
    uint32_t n, cap;
    union {
        uint32_t *p;
        uint32_t in[2];
    } u;
} postings;

typedef struct tval {
    uint32_t sid;
    postings pl;
} tval;

typedef struct u32tab { /* slots hold element+1, 0 = empty */
    uint32_t *slot;
    uint32_t cap, count;
} u32tab;

typedef struct tkey {
    uint32_t sid;
    uint32_t nvals, capvals;
    tval *vals; /* insertion order */
    u32tab tab; /* value sid -> index in vals (only when nvals > SMALL_VALS) */
} tkey;

typedef struct field {
    uint32_t sid;
    uint8_t type;
} field;

typedef struct meas {
    uint32_t sid;
    postings series;
    tkey *keys; /* sorted by key string */
    uint32_t nkeys, capkeys;
    field *fields; /* sorted by name */
    uint32_t nfields, capfields;
} meas;

typedef struct series {
    uint32_t meas; /* index in ix->meas */
    uint32_t keylen, hash, ntags;
    uint32_t tags[]; /* 2*ntags sids (key, value), sorted by key; then keylen bytes of key + NUL */
} series;

#define PAGE_BITS 12u
#define PAGE_SIZE (1u << PAGE_BITS)
#define SMALL_VALS 8u

typedef struct spage {
    uint32_t live;
    series *s[PAGE_SIZE];
} spage;

struct tsdb_sidx {
    size_t bytes;
    /* strings */
    istr **strs;
    uint32_t nstrs, capstrs;
    uint32_t *sfree;
    uint32_t nsfree, capsfree;
    u32tab stab;
    /* measurements */
    meas **meas;
    uint32_t nmeas, capmeas;
    uint32_t *mfree;
    uint32_t nmfree, capmfree;
    u32tab mtab;
    /* series */
    spage **pages;
    uint32_t npages;
    uint32_t next_id;
    size_t live;
    u32tab ktab;
};

struct tsdb_spred {
    tsdb_sp_op op;
    char *k, *v;
    size_t kl, vl;
    regex_t re;
    int has_re, re_empty; /* re_empty: the regex matches "" */
    tsdb_spred *l, *r;
};

static const char *sstr(const tsdb_sidx *ix, uint32_t sid) { return ix->strs[sid]->s; }
static uint32_t slen(const tsdb_sidx *ix, uint32_t sid) { return ix->strs[sid]->len; }

static series *ser_get(const tsdb_sidx *ix, uint32_t id) {
    uint32_t pg = id >> PAGE_BITS;
    if (id == TSDB_SID_NONE || pg >= ix->npages || !ix->pages[pg]) return NULL;
    return ix->pages[pg]->s[id & (PAGE_SIZE - 1)];
}
static const char *ser_key(const series *s) { return (const char *)(s->tags + 2 * (size_t)s->ntags); }
static size_t ser_size(uint32_t ntags, uint32_t keylen) {
    return sizeof(series) + 8u * (size_t)ntags + keylen + 1;
}

/* ------------------------------------------------------------------ u32 hash tables */

typedef uint32_t (*elem_hash_fn)(const void *ctx, uint32_t elem);

static int tab_rehash(size_t *acct, u32tab *t, uint32_t ncap, elem_hash_fn h, const void *ctx) {
    uint32_t *ns = mem_alloc(acct, (size_t)ncap * 4);
    if (!ns) return -1;
    memset(ns, 0, (size_t)ncap * 4);
    for (uint32_t i = 0; i < t->cap; i++) {
        if (!t->slot[i]) continue;
        uint32_t j = h(ctx, t->slot[i] - 1) & (ncap - 1);
        while (ns[j]) j = (j + 1) & (ncap - 1);
        ns[j] = t->slot[i];
    }
    mem_free(acct, t->slot, (size_t)t->cap * 4);
    t->slot = ns;
    t->cap = ncap;
    return 0;
}

static int tab_grow(size_t *acct, u32tab *t, elem_hash_fn h, const void *ctx) {
    uint32_t ncap = t->cap ? t->cap * 2 : 16;
    if (ncap < t->cap) return -1;
    return tab_rehash(acct, t, ncap, h, ctx);
}

/* after many removals: halve the table while it stays at most a quarter full (best effort) */
static void tab_shrink(size_t *acct, u32tab *t, elem_hash_fn h, const void *ctx) {
    if (t->cap <= 64 || t->count * 8 >= t->cap) return;
    uint32_t ncap = t->cap;
    while (ncap > 64 && t->count * 4 < ncap / 2) ncap /= 2;
    tab_rehash(acct, t, ncap, h, ctx);
}

/* insert elem (known absent) with hash hv */
static int tab_insert(size_t *acct, u32tab *t, uint32_t elem, uint32_t hv, elem_hash_fn h, const void *ctx) {
    if ((t->count + 1) * 4 > t->cap * 3 && tab_grow(acct, t, h, ctx)) return -1;
    uint32_t j = hv & (t->cap - 1);
    while (t->slot[j]) j = (j + 1) & (t->cap - 1);
    t->slot[j] = elem + 1;
    t->count++;
    return 0;
}

static void tab_remove(u32tab *t, uint32_t elem, uint32_t hv, elem_hash_fn h, const void *ctx) {
    if (!t->cap) return;
    uint32_t mask = t->cap - 1, j = hv & mask;
    while (t->slot[j] && t->slot[j] != elem + 1) j = (j + 1) & mask;
    if (!t->slot[j]) return;
    t->slot[j] = 0;
    t->count--;
    for (uint32_t k = (j + 1) & mask; t->slot[k]; k = (k + 1) & mask) { /* backward shift */
        uint32_t home = h(ctx, t->slot[k] - 1) & mask;
        /* move slot k into hole j when home is not cyclically within (j, k] */
        if ((k > j && (home <= j || home > k)) || (k < j && (home <= j && home > k))) {
            t->slot[j] = t->slot[k];
            t->slot[k] = 0;
            j = k;
        }
    }
}

static void tab_free(size_t *acct, u32tab *t) {
    mem_free(acct, t->slot, (size_t)t->cap * 4);
    memset(t, 0, sizeof *t);
}

static uint32_t str_elem_hash(const void *ctx, uint32_t e) { return ((const tsdb_sidx *)ctx)->strs[e]->hash; }
static uint32_t meas_elem_hash(const void *ctx, uint32_t e) {
    const tsdb_sidx *ix = ctx;
    return ix->strs[ix->meas[e]->sid]->hash;
}
static uint32_t ser_elem_hash(const void *ctx, uint32_t e) { return ser_get(ctx, e)->hash; }
static uint32_t val_elem_hash(const void *ctx, uint32_t e) { return hash_u32(((const tkey *)ctx)->vals[e].sid); }

/* ------------------------------------------------------------------ small vectors */

static int grow_arr(size_t *acct, void **p, uint32_t *cap, uint32_t need, size_t elsz) {
    if (need <= *cap) return 0;
    uint64_t nc = *cap ? (uint64_t)*cap + *cap / 2 + 1 : 4;
    if (nc < need) nc = need;
    if (nc > UINT32_MAX) nc = UINT32_MAX;
    void *q = mem_realloc(acct, *p, (size_t)*cap * elsz, (size_t)nc * elsz);
    if (!q) return -1;
    *p = q;
    *cap = (uint32_t)nc;
    return 0;
}

static uint32_t *pl_data(postings *p) { return p->cap > 2 ? p->u.p : p->u.in; }
static const uint32_t *pl_cdata(const postings *p) { return p->cap > 2 ? p->u.p : p->u.in; }

static int pl_push(size_t *acct, postings *p, uint32_t id) {
    if (p->n == (p->cap > 2 ? p->cap : 2)) {
        uint32_t nc = p->cap > 2 ? p->cap + p->cap / 2 + 1 : 4;
        if (p->cap > 2) {
            uint32_t *q = mem_realloc(acct, p->u.p, (size_t)p->cap * 4, (size_t)nc * 4);
            if (!q) return -1;
            p->u.p = q;
        } else {
            uint32_t *q = mem_alloc(acct, (size_t)nc * 4);
            if (!q) return -1;
            memcpy(q, p->u.in, (size_t)p->n * 4);
            p->u.p = q;
        }
        p->cap = nc;
    }
    pl_data(p)[p->n++] = id;
    return 0;
}

static void pl_free(size_t *acct, postings *p) {
    if (p->cap > 2) mem_free(acct, p->u.p, (size_t)p->cap * 4);
    memset(p, 0, sizeof *p);
}

static int id_in(const uint32_t *d, size_t n, uint32_t id) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d[mid] < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && d[lo] == id;
}

/* remove ids present in sorted d from p; shrink storage when it becomes sparse */
static void pl_filter(size_t *acct, postings *p, const uint32_t *d, size_t nd) {
    uint32_t *x = pl_data(p), w = 0;
    for (uint32_t i = 0; i < p->n; i++)
        if (!id_in(d, nd, x[i])) x[w++] = x[i];
    p->n = w;
    if (p->cap > 2 && w <= 2) {
        uint32_t *old = p->u.p, oc = p->cap;
        memcpy(p->u.in, old, (size_t)w * 4);
        mem_free(acct, old, (size_t)oc * 4);
        p->cap = 0;
    } else if (p->cap > 8 && w < p->cap / 4) {
        uint32_t nc = w + w / 2 + 1;
        uint32_t *q = mem_realloc(acct, p->u.p, (size_t)p->cap * 4, (size_t)nc * 4);
        if (q) {
            p->u.p = q;
            p->cap = nc;
        }
    }
}

/* ------------------------------------------------------------------ intern table */

static uint32_t intern_find(const tsdb_sidx *ix, const char *s, size_t n, uint32_t h) {
    if (!ix->stab.cap) return TSDB_SID_NONE;
    uint32_t mask = ix->stab.cap - 1;
    for (uint32_t j = h & mask; ix->stab.slot[j]; j = (j + 1) & mask) {
        const istr *e = ix->strs[ix->stab.slot[j] - 1];
        if (e->hash == h && e->len == n && !memcmp(e->s, s, n)) return ix->stab.slot[j] - 1;
    }
    return TSDB_SID_NONE;
}

/* sid of s with one more reference, created if needed; TSDB_SID_NONE when out of memory */
static uint32_t intern_ref(tsdb_sidx *ix, const char *s, size_t n) {
    uint32_t h = hash_bytes(s, n);
    uint32_t sid = intern_find(ix, s, n, h);
    if (sid != TSDB_SID_NONE) {
        ix->strs[sid]->refs++;
        return sid;
    }
    if (n > UINT32_MAX - 64) return TSDB_SID_NONE;
    istr *e = mem_alloc(&ix->bytes, sizeof(istr) + n + 1);
    if (!e) return TSDB_SID_NONE;
    e->refs = 1;
    e->len = (uint32_t)n;
    e->hash = h;
    if (n) memcpy(e->s, s, n);
    e->s[n] = 0;
    if (ix->nsfree) {
        sid = ix->sfree[--ix->nsfree];
    } else {
        if (ix->nstrs == TSDB_SID_NONE - 1 ||
            grow_arr(&ix->bytes, (void **)&ix->strs, &ix->capstrs, ix->nstrs + 1, sizeof(istr *))) {
            mem_free(&ix->bytes, e, sizeof(istr) + n + 1);
            return TSDB_SID_NONE;
        }
        sid = ix->nstrs++;
    }
    ix->strs[sid] = e;
    if (tab_insert(&ix->bytes, &ix->stab, sid, h, str_elem_hash, ix)) {
        ix->strs[sid] = NULL;
        if (sid == ix->nstrs - 1) ix->nstrs--;
        else ix->sfree[ix->nsfree++] = sid; /* sfree has room: sid came from it */
        mem_free(&ix->bytes, e, sizeof(istr) + n + 1);
        return TSDB_SID_NONE;
    }
    return sid;
}

static void intern_unref(tsdb_sidx *ix, uint32_t sid) {
    istr *e = ix->strs[sid];
    if (--e->refs) return;
    tab_remove(&ix->stab, sid, e->hash, str_elem_hash, ix);
    ix->strs[sid] = NULL;
    mem_free(&ix->bytes, e, sizeof(istr) + e->len + 1);
    if (!grow_arr(&ix->bytes, (void **)&ix->sfree, &ix->capsfree, ix->nsfree + 1, 4)) ix->sfree[ix->nsfree++] = sid;
    /* else: the sid slot is leaked (never reused); harmless */
}

/* ------------------------------------------------------------------ measurements */

static uint32_t meas_find(const tsdb_sidx *ix, const char *m, size_t ml) {
    if (!ix->mtab.cap) return TSDB_SID_NONE;
    uint32_t h = hash_bytes(m, ml), mask = ix->mtab.cap - 1;
    for (uint32_t j = h & mask; ix->mtab.slot[j]; j = (j + 1) & mask) {
        uint32_t mi = ix->mtab.slot[j] - 1;
        const istr *e = ix->strs[ix->meas[mi]->sid];
        if (e->hash == h && e->len == ml && !memcmp(e->s, m, ml)) return mi;
    }
    return TSDB_SID_NONE;
}

static uint32_t meas_get_or_create(tsdb_sidx *ix, const char *m, size_t ml) {
    uint32_t mi = meas_find(ix, m, ml);
    if (mi != TSDB_SID_NONE) return mi;
    meas *me = mem_alloc(&ix->bytes, sizeof *me);
    if (!me) return TSDB_SID_NONE;
    memset(me, 0, sizeof *me);
    me->sid = intern_ref(ix, m, ml);
    if (me->sid == TSDB_SID_NONE) goto fail;
    if (ix->nmfree) {
        mi = ix->mfree[--ix->nmfree];
    } else {
        if (grow_arr(&ix->bytes, (void **)&ix->meas, &ix->capmeas, ix->nmeas + 1, sizeof(meas *))) goto fail_sid;
        mi = ix->nmeas++;
    }
    ix->meas[mi] = me;
    if (tab_insert(&ix->bytes, &ix->mtab, mi, ix->strs[me->sid]->hash, meas_elem_hash, ix)) {
        ix->meas[mi] = NULL;
        if (mi == ix->nmeas - 1) ix->nmeas--;
        else ix->mfree[ix->nmfree++] = mi;
        goto fail_sid;
    }
    return mi;
fail_sid:
    intern_unref(ix, me->sid);
fail:
    mem_free(&ix->bytes, me, sizeof *me);
    return TSDB_SID_NONE;
}

static void tkey_free(tsdb_sidx *ix, tkey *k) {
    for (uint32_t i = 0; i < k->nvals; i++) {
        pl_free(&ix->bytes, &k->vals[i].pl);
        intern_unref(ix, k->vals[i].sid);
    }
    mem_free(&ix->bytes, k->vals, (size_t)k->capvals * sizeof(tval));
    tab_free(&ix->bytes, &k->tab);
    intern_unref(ix, k->sid);
}

static void meas_remove(tsdb_sidx *ix, uint32_t mi) {
    meas *me = ix->meas[mi];
    tab_remove(&ix->mtab, mi, ix->strs[me->sid]->hash, meas_elem_hash, ix);
    for (uint32_t i = 0; i < me->nkeys; i++) tkey_free(ix, &me->keys[i]);
    mem_free(&ix->bytes, me->keys, (size_t)me->capkeys * sizeof(tkey));
    for (uint32_t i = 0; i < me->nfields; i++) intern_unref(ix, me->fields[i].sid);
    mem_free(&ix->bytes, me->fields, (size_t)me->capfields * sizeof(field));
    pl_free(&ix->bytes, &me->series);
    intern_unref(ix, me->sid);
    mem_free(&ix->bytes, me, sizeof *me);
    ix->meas[mi] = NULL;
    if (!grow_arr(&ix->bytes, (void **)&ix->mfree, &ix->capmfree, ix->nmfree + 1, 4)) ix->mfree[ix->nmfree++] = mi;
}

/* index of tag key k in me->keys, or -(insertion point)-1 */
static long tkey_search(const tsdb_sidx *ix, const meas *me, const char *k, size_t kl) {
    size_t lo = 0, hi = me->nkeys;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = bytes_cmp(sstr(ix, me->keys[mid].sid), slen(ix, me->keys[mid].sid), k, kl);
        if (!c) return (long)mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -(long)lo - 1;
}

static tval *tval_find(const tkey *k, uint32_t vsid) {
    if (k->nvals <= SMALL_VALS || !k->tab.cap) {
        for (uint32_t i = 0; i < k->nvals; i++)
            if (k->vals[i].sid == vsid) return &k->vals[i];
        return NULL;
    }
    uint32_t mask = k->tab.cap - 1;
    for (uint32_t j = hash_u32(vsid) & mask; k->tab.slot[j]; j = (j + 1) & mask)
        if (k->vals[k->tab.slot[j] - 1].sid == vsid) return &k->vals[k->tab.slot[j] - 1];
    return NULL;
}

static int tkey_rebuild_tab(size_t *acct, tkey *k) {
    tab_free(acct, &k->tab);
    if (k->nvals <= SMALL_VALS) return 0;
    for (uint32_t i = 0; i < k->nvals; i++)
        if (tab_insert(acct, &k->tab, i, hash_u32(k->vals[i].sid), val_elem_hash, k)) {
            tab_free(acct, &k->tab); /* tval_find falls back to a linear scan */
            return -1;
        }
    return 0;
}

/* add series id (the largest so far in this measurement) to postings of tag (ksid, vsid) */
static int meas_add_tag(tsdb_sidx *ix, meas *me, uint32_t ksid, uint32_t vsid, uint32_t id) {
    long ki = tkey_search(ix, me, sstr(ix, ksid), slen(ix, ksid));
    if (ki < 0) {
        size_t at = (size_t)(-ki - 1);
        if (grow_arr(&ix->bytes, (void **)&me->keys, &me->capkeys, me->nkeys + 1, sizeof(tkey))) return -1;
        memmove(me->keys + at + 1, me->keys + at, (me->nkeys - at) * sizeof(tkey));
        memset(&me->keys[at], 0, sizeof(tkey));
        me->keys[at].sid = ksid;
        ix->strs[ksid]->refs++;
        me->nkeys++;
        ki = (long)at;
    }
    tkey *k = &me->keys[ki];
    tval *v = tval_find(k, vsid);
    if (!v) {
        if (grow_arr(&ix->bytes, (void **)&k->vals, &k->capvals, k->nvals + 1, sizeof(tval))) return -1;
        v = &k->vals[k->nvals];
        memset(v, 0, sizeof *v);
        v->sid = vsid;
        ix->strs[vsid]->refs++;
        k->nvals++;
        if (k->nvals == SMALL_VALS + 1) {
            tkey_rebuild_tab(&ix->bytes, k); /* failure only costs speed */
        } else if (k->nvals > SMALL_VALS + 1 && k->tab.cap) {
            if (tab_insert(&ix->bytes, &k->tab, k->nvals - 1, hash_u32(vsid), val_elem_hash, k))
                tab_free(&ix->bytes, &k->tab);
        }
    }
    return pl_push(&ix->bytes, &v->pl, id);
}

/* remove the sorted ids d from measurement mi's postings, dropping emptied values and keys;
 * the measurement itself goes when it has no series left (and, if keep_fields, no fields) */
static void meas_filter(tsdb_sidx *ix, uint32_t mi, const uint32_t *d, size_t nd, int keep_fields) {
    meas *me = ix->meas[mi];
    pl_filter(&ix->bytes, &me->series, d, nd);
    uint32_t kw = 0;
    for (uint32_t ki = 0; ki < me->nkeys; ki++) {
        tkey *k = &me->keys[ki];
        uint32_t w = 0;
        for (uint32_t i = 0; i < k->nvals; i++) {
            pl_filter(&ix->bytes, &k->vals[i].pl, d, nd);
            if (!k->vals[i].pl.n) {
                pl_free(&ix->bytes, &k->vals[i].pl);
                intern_unref(ix, k->vals[i].sid);
            } else {
                k->vals[w++] = k->vals[i];
            }
        }
        int changed = w != k->nvals;
        k->nvals = w;
        if (!w) {
            k->nvals = 0;
            tkey_free(ix, k);
            continue;
        }
        if (changed) {
            if (k->capvals > 8 && w < k->capvals / 4) {
                tval *q = mem_realloc(&ix->bytes, k->vals, (size_t)k->capvals * sizeof(tval), (size_t)w * sizeof(tval));
                if (q) {
                    k->vals = q;
                    k->capvals = w;
                }
            }
            tkey_rebuild_tab(&ix->bytes, k);
        }
        me->keys[kw++] = *k;
    }
    me->nkeys = kw;
    if (!me->series.n && (!keep_fields || !me->nfields)) meas_remove(ix, mi);
}

/* ------------------------------------------------------------------ series */

tsdb_sidx *tsdb_sidx_new(void) {
    tsdb_sidx *ix = calloc(1, sizeof *ix);
    if (ix) ix->bytes = sizeof *ix;
    return ix;
}

void tsdb_sidx_free(tsdb_sidx *ix) {
    if (!ix) return;
    for (uint32_t p = 0; p < ix->npages; p++) {
        if (!ix->pages[p]) continue;
        for (uint32_t i = 0; i < PAGE_SIZE; i++) free(ix->pages[p]->s[i]);
        free(ix->pages[p]);
    }
    free(ix->pages);
    for (uint32_t mi = 0; mi < ix->nmeas; mi++) {
        meas *me = ix->meas[mi];
        if (!me) continue;
        for (uint32_t k = 0; k < me->nkeys; k++) {
            for (uint32_t v = 0; v < me->keys[k].nvals; v++)
                if (me->keys[k].vals[v].pl.cap > 2) free(me->keys[k].vals[v].pl.u.p);
            free(me->keys[k].vals);
            free(me->keys[k].tab.slot);
        }
        free(me->keys);
        free(me->fields);
        if (me->series.cap > 2) free(me->series.u.p);
        free(me);
    }
    free(ix->meas);
    free(ix->mfree);
    free(ix->mtab.slot);
    for (uint32_t s = 0; s < ix->nstrs; s++) free(ix->strs[s]);
    free(ix->strs);
    free(ix->sfree);
    free(ix->stab.slot);
    free(ix->ktab.slot);
    free(ix);
}

uint32_t tsdb_sidx_lookup(const tsdb_sidx *ix, const char *key, size_t len) {
    if (!ix->ktab.cap || len > UINT32_MAX) return TSDB_SID_NONE;
    uint32_t h = hash_bytes(key, len), mask = ix->ktab.cap - 1;
    for (uint32_t j = h & mask; ix->ktab.slot[j]; j = (j + 1) & mask) {
        const series *s = ser_get(ix, ix->ktab.slot[j] - 1);
        if (s->hash == h && s->keylen == len && !memcmp(ser_key(s), key, len)) return ix->ktab.slot[j] - 1;
    }
    return TSDB_SID_NONE;
}

static size_t esc_put(char *d, const char *s, size_t n, int tag) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ',' || c == ' ' || (tag && c == '=')) {
            if (d) d[k] = '\\';
            k++;
        }
        if (d) d[k] = c;
        k++;
    }
    return k;
}

/* canonical key of (m, tags) into a malloc'd buffer */
static char *build_key(const char *m, size_t ml, const tsdb_lp_tag *tags, size_t n, size_t *len) {
    size_t need = esc_put(NULL, m, ml, 0);
    for (size_t i = 0; i < n; i++)
        need += 2 + esc_put(NULL, tags[i].key.ptr, tags[i].key.len, 1) + esc_put(NULL, tags[i].value.ptr, tags[i].value.len, 1);
    char *b = malloc(need + 1);
    if (!b) return NULL;
    size_t k = esc_put(b, m, ml, 0);
    for (size_t i = 0; i < n; i++) {
        b[k++] = ',';
        k += esc_put(b + k, tags[i].key.ptr, tags[i].key.len, 1);
        b[k++] = '=';
        k += esc_put(b + k, tags[i].value.ptr, tags[i].value.len, 1);
    }
    b[k] = 0;
    *len = k;
    return b;
}

static int check_parts(const char *m, size_t ml, const tsdb_lp_tag *tags, size_t n) {
    if (!ml || n > TSDB_SIDX_MAX_TAGS) return -1;
    for (size_t i = 0; i < n; i++) {
        if (!tags[i].key.len || !tags[i].value.len) return -1;
        if (i && bytes_cmp(tags[i - 1].key.ptr, tags[i - 1].key.len, tags[i].key.ptr, tags[i].key.len) >= 0) return -1;
    }
    (void)m;
    return 0;
}

static void ser_set(tsdb_sidx *ix, uint32_t id, series *s) {
    spage *pg = ix->pages[id >> PAGE_BITS];
    if (s && !pg->s[id & (PAGE_SIZE - 1)]) pg->live++;
    if (!s && pg->s[id & (PAGE_SIZE - 1)]) pg->live--;
    pg->s[id & (PAGE_SIZE - 1)] = s;
}

static int ser_reserve(tsdb_sidx *ix, uint32_t id) {
    uint32_t pg = id >> PAGE_BITS;
    if (pg >= ix->npages) {
        uint32_t np = pg + 1 + (pg + 1) / 2;
        if (np > (UINT32_MAX >> PAGE_BITS) + 1) np = (UINT32_MAX >> PAGE_BITS) + 1;
        spage **q = mem_realloc(&ix->bytes, ix->pages, (size_t)ix->npages * sizeof *q, (size_t)np * sizeof *q);
        if (!q) return -1;
        memset(q + ix->npages, 0, (size_t)(np - ix->npages) * sizeof *q);
        ix->pages = q;
        ix->npages = np;
    }
    if (!ix->pages[pg]) {
        spage *p = mem_alloc(&ix->bytes, sizeof *p);
        if (!p) return -1;
        memset(p, 0, sizeof *p);
        ix->pages[pg] = p;
    }
    return 0;
}

/* release series id's record, its strings and its page when it becomes empty (postings untouched) */
static void ser_release(tsdb_sidx *ix, uint32_t id, int in_ktab) {
    series *s = ser_get(ix, id);
    if (in_ktab) tab_remove(&ix->ktab, id, s->hash, ser_elem_hash, ix);
    for (uint32_t i = 0; i < 2 * s->ntags; i++) intern_unref(ix, s->tags[i]);
    ser_set(ix, id, NULL);
    mem_free(&ix->bytes, s, ser_size(s->ntags, s->keylen));
    uint32_t pg = id >> PAGE_BITS;
    if (!ix->pages[pg]->live) {
        mem_free(&ix->bytes, ix->pages[pg], sizeof(spage));
        ix->pages[pg] = NULL;
    }
}

/* create series `id` (or the next id when id == NONE) from validated parts and its prebuilt key */
static int create_series(tsdb_sidx *ix, const char *m, size_t ml, const tsdb_lp_tag *tags, size_t n,
                         const char *key, size_t klen, uint32_t h, uint32_t id, uint32_t *out) {
    if (id == TSDB_SID_NONE) {
        if (ix->next_id == TSDB_SID_NONE) return TSDB_SIDX_EFULL;
        id = ix->next_id;
    }
    if (klen > UINT32_MAX - 64) return TSDB_SIDX_EINVAL;
    uint32_t mi = meas_get_or_create(ix, m, ml);
    if (mi == TSDB_SID_NONE) return TSDB_SIDX_ENOMEM;
    if (ser_reserve(ix, id)) goto fail_meas;
    size_t sz = ser_size((uint32_t)n, (uint32_t)klen);
    series *s = mem_alloc(&ix->bytes, sz);
    if (!s) goto fail_meas;
    s->meas = mi;
    s->keylen = (uint32_t)klen;
    s->hash = h;
    s->ntags = 0;
    memcpy((char *)(s->tags + 2 * n), key, klen);
    ((char *)(s->tags + 2 * n))[klen] = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t ks = intern_ref(ix, tags[i].key.ptr, tags[i].key.len);
        if (ks == TSDB_SID_NONE) goto fail_tags;
        uint32_t vs = intern_ref(ix, tags[i].value.ptr, tags[i].value.len);
        if (vs == TSDB_SID_NONE) {
            intern_unref(ix, ks);
            goto fail_tags;
        }
        s->tags[2 * i] = ks;
        s->tags[2 * i + 1] = vs;
        s->ntags++;
    }
    /* ntags counted up as strings were referenced; the key sits after the full tag array */
    ser_set(ix, id, s);
    meas *me = ix->meas[mi];
    if (pl_push(&ix->bytes, &me->series, id)) goto fail_index;
    for (size_t i = 0; i < n; i++)
        if (meas_add_tag(ix, me, s->tags[2 * i], s->tags[2 * i + 1], id)) goto fail_index;
    if (tab_insert(&ix->bytes, &ix->ktab, id, h, ser_elem_hash, ix)) goto fail_index;
    ix->live++;
    if (id >= ix->next_id) ix->next_id = id + 1;
    *out = id;
    return 0;
fail_index:
    meas_filter(ix, mi, &id, 1, 1);
    ser_release(ix, id, 0);
    return TSDB_SIDX_ENOMEM;
fail_tags:
    for (uint32_t i = 0; i < 2 * s->ntags; i++) intern_unref(ix, s->tags[i]);
    mem_free(&ix->bytes, s, sz);
fail_meas:
    if (ix->meas[mi] && !ix->meas[mi]->series.n && !ix->meas[mi]->nfields) meas_remove(ix, mi);
    return TSDB_SIDX_ENOMEM;
}

int tsdb_sidx_get_or_create(tsdb_sidx *ix, const char *m, size_t ml, const tsdb_lp_tag *tags, size_t ntags,
                            uint32_t *id, int *created) {
    if (created) *created = 0;
    if (check_parts(m, ml, tags, ntags)) return TSDB_SIDX_EINVAL;
    size_t klen;
    char *key = build_key(m, ml, tags, ntags, &klen);
    if (!key) return TSDB_SIDX_ENOMEM;
    uint32_t found = tsdb_sidx_lookup(ix, key, klen);
    int rc = 0;
    if (found != TSDB_SID_NONE) {
        *id = found;
    } else {
        rc = create_series(ix, m, ml, tags, ntags, key, klen, hash_bytes(key, klen), TSDB_SID_NONE, id);
        if (!rc && created) *created = 1;
    }
    free(key);
    return rc;
}

/* split a canonical key into unescaped parts (in buf, tags array malloc'd); -1 malformed/OOM */
static int parse_key(const char *key, size_t len, char **buf, tsdb_lp_tag **tags, size_t *ntags, tsdb_lp_str *m) {
    size_t commas = 0;
    for (size_t i = 0; i < len; i++) commas += key[i] == ',';
    char *b = malloc(len + 1);
    tsdb_lp_tag *t = malloc((commas + 1) * sizeof *t);
    if (!b || !t) goto fail;
    size_t i = 0, w = 0, n = 0;
    m->ptr = b;
    while (i < len && key[i] != ',') {
        if (key[i] == ' ') goto fail;
        if (key[i] == '\\' && i + 1 < len && (key[i + 1] == ',' || key[i + 1] == ' ')) i++;
        b[w++] = key[i++];
    }
    m->len = w;
    while (i < len) { /* key[i] == ',' */
        i++;
        t[n].key.ptr = b + w;
        size_t st = w;
        while (i < len && key[i] != '=' && key[i] != ',') {
            if (key[i] == ' ') goto fail;
            if (key[i] == '\\' && i + 1 < len && (key[i + 1] == ',' || key[i + 1] == ' ' || key[i + 1] == '=')) i++;
            b[w++] = key[i++];
        }
        if (i >= len || key[i] != '=') goto fail;
        t[n].key.len = w - st;
        i++;
        t[n].value.ptr = b + w;
        st = w;
        while (i < len && key[i] != ',') {
            if (key[i] == ' ' || key[i] == '=') goto fail;
            if (key[i] == '\\' && i + 1 < len && (key[i + 1] == ',' || key[i + 1] == ' ' || key[i + 1] == '=')) i++;
            b[w++] = key[i++];
        }
        t[n].value.len = w - st;
        n++;
    }
    *buf = b;
    *tags = t;
    *ntags = n;
    return 0;
fail:
    free(b);
    free(t);
    return -1;
}

int tsdb_sidx_create_key(tsdb_sidx *ix, const char *key, size_t len, uint32_t *id, int *created) {
    if (created) *created = 0;
    uint32_t found = tsdb_sidx_lookup(ix, key, len);
    if (found != TSDB_SID_NONE) {
        *id = found;
        return 0;
    }
    char *buf;
    tsdb_lp_tag *tags;
    size_t n, klen;
    tsdb_lp_str m;
    if (parse_key(key, len, &buf, &tags, &n, &m)) return TSDB_SIDX_EINVAL;
    int rc = TSDB_SIDX_EINVAL;
    if (!check_parts(m.ptr, m.len, tags, n)) {
        char *k2 = build_key(m.ptr, m.len, tags, n, &klen);
        if (!k2) rc = TSDB_SIDX_ENOMEM;
        else if (klen == len && !memcmp(k2, key, len))
            rc = create_series(ix, m.ptr, m.len, tags, n, key, len, hash_bytes(key, len), TSDB_SID_NONE, id);
        free(k2);
        if (!rc && created) *created = 1;
    }
    free(buf);
    free(tags);
    return rc;
}

size_t tsdb_sidx_series_count(const tsdb_sidx *ix) { return ix->live; }
uint32_t tsdb_sidx_next_id(const tsdb_sidx *ix) { return ix->next_id; }

const char *tsdb_sidx_series_key(const tsdb_sidx *ix, uint32_t id, size_t *len) {
    const series *s = ser_get(ix, id);
    if (!s) return NULL;
    if (len) *len = s->keylen;
    return ser_key(s);
}

const char *tsdb_sidx_series_measurement(const tsdb_sidx *ix, uint32_t id, size_t *len) {
    const series *s = ser_get(ix, id);
    if (!s) return NULL;
    uint32_t sid = ix->meas[s->meas]->sid;
    if (len) *len = slen(ix, sid);
    return sstr(ix, sid);
}

size_t tsdb_sidx_series_ntags(const tsdb_sidx *ix, uint32_t id) {
    const series *s = ser_get(ix, id);
    return s ? s->ntags : 0;
}

int tsdb_sidx_series_tag(const tsdb_sidx *ix, uint32_t id, size_t i, const char **k, size_t *kl, const char **v,
                         size_t *vl) {
    const series *s = ser_get(ix, id);
    if (!s || i >= s->ntags) return -1;
    *k = sstr(ix, s->tags[2 * i]);
    *kl = slen(ix, s->tags[2 * i]);
    *v = sstr(ix, s->tags[2 * i + 1]);
    *vl = slen(ix, s->tags[2 * i + 1]);
    return 0;
}

static const istr *ser_tag_value(const tsdb_sidx *ix, const series *s, const char *k, size_t kl) {
    size_t lo = 0, hi = s->ntags;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const istr *e = ix->strs[s->tags[2 * mid]];
        int c = bytes_cmp(e->s, e->len, k, kl);
        if (!c) return ix->strs[s->tags[2 * mid + 1]];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const char *tsdb_sidx_series_tag_value(const tsdb_sidx *ix, uint32_t id, const char *k, size_t kl, size_t *vl) {
    const series *s = ser_get(ix, id);
    if (!s) return NULL;
    const istr *e = ser_tag_value(ix, s, k, kl);
    if (!e) return NULL;
    if (vl) *vl = e->len;
    return e->s;
}

const uint32_t *tsdb_sidx_measurement_series(const tsdb_sidx *ix, const char *m, size_t ml, size_t *n) {
    uint32_t mi = meas_find(ix, m, ml);
    *n = 0;
    if (mi == TSDB_SID_NONE || !ix->meas[mi]->series.n) return NULL;
    *n = ix->meas[mi]->series.n;
    return pl_cdata(&ix->meas[mi]->series);
}

/* ------------------------------------------------------------------ fields */

const char *tsdb_sidx_field_type_name(int type) {
    switch (type) {
    case TSDB_LP_FLOAT: return "float";
    case TSDB_LP_INT: return "integer";
    case TSDB_LP_UINT: return "unsigned";
    case TSDB_LP_STRING: return "string";
    case TSDB_LP_BOOL: return "boolean";
    default: return "unknown";
    }
}

static long field_search(const tsdb_sidx *ix, const meas *me, const char *f, size_t fl) {
    size_t lo = 0, hi = me->nfields;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = bytes_cmp(sstr(ix, me->fields[mid].sid), slen(ix, me->fields[mid].sid), f, fl);
        if (!c) return (long)mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -(long)lo - 1;
}

int tsdb_sidx_field_type(const tsdb_sidx *ix, const char *m, size_t ml, const char *f, size_t fl) {
    uint32_t mi = meas_find(ix, m, ml);
    if (mi == TSDB_SID_NONE) return 0;
    long fi = field_search(ix, ix->meas[mi], f, fl);
    return fi < 0 ? 0 : ix->meas[mi]->fields[fi].type;
}

static void conflict_msg(char *err, size_t cap, const char *m, size_t ml, const char *f, size_t fl, int type, int had) {
    if (!err || !cap) return;
    snprintf(err, cap, "field type conflict: input field \"%.*s\" on measurement \"%.*s\" is type %s, already exists as type %s",
             (int)(fl > 4096 ? 4096 : fl), f, (int)(ml > 4096 ? 4096 : ml), m, tsdb_sidx_field_type_name(type),
             tsdb_sidx_field_type_name(had));
}

int tsdb_sidx_field_check(const tsdb_sidx *ix, const char *m, size_t ml, const tsdb_lp_field *fields, size_t n,
                          char *err, size_t cap) {
    uint32_t mi = meas_find(ix, m, ml);
    if (mi == TSDB_SID_NONE) return 0;
    for (size_t i = 0; i < n; i++) {
        long fi = field_search(ix, ix->meas[mi], fields[i].key.ptr, fields[i].key.len);
        if (fi >= 0 && ix->meas[mi]->fields[fi].type != fields[i].type) {
            conflict_msg(err, cap, m, ml, fields[i].key.ptr, fields[i].key.len, (int)fields[i].type,
                         ix->meas[mi]->fields[fi].type);
            return TSDB_SIDX_ECONFLICT;
        }
    }
    return 0;
}

int tsdb_sidx_field_add(tsdb_sidx *ix, const char *m, size_t ml, const char *f, size_t fl, int type, char *err,
                        size_t cap) {
    if (!ml || !fl || type < TSDB_LP_FLOAT || type > TSDB_LP_BOOL) return TSDB_SIDX_EINVAL;
    uint32_t mi = meas_get_or_create(ix, m, ml);
    if (mi == TSDB_SID_NONE) return TSDB_SIDX_ENOMEM;
    meas *me = ix->meas[mi];
    long fi = field_search(ix, me, f, fl);
    if (fi >= 0) {
        if (me->fields[fi].type == type) return 0;
        conflict_msg(err, cap, m, ml, f, fl, type, me->fields[fi].type);
        return TSDB_SIDX_ECONFLICT;
    }
    size_t at = (size_t)(-fi - 1);
    uint32_t sid;
    if (grow_arr(&ix->bytes, (void **)&me->fields, &me->capfields, me->nfields + 1, sizeof(field)) ||
        (sid = intern_ref(ix, f, fl)) == TSDB_SID_NONE) {
        if (!me->series.n && !me->nfields) meas_remove(ix, mi);
        return TSDB_SIDX_ENOMEM;
    }
    memmove(me->fields + at + 1, me->fields + at, (me->nfields - at) * sizeof(field));
    me->fields[at].sid = sid;
    me->fields[at].type = (uint8_t)type;
    me->nfields++;
    return 0;
}

/* ------------------------------------------------------------------ predicates */

static int compile_re(regex_t *re, const char *src, char *err, size_t cap) {
    int rc = regcomp(re, src, REG_EXTENDED | REG_NOSUB);
    if (rc) {
        char m[128];
        regerror(rc, re, m, sizeof m);
        if (err && cap) snprintf(err, cap, "invalid regular expression /%.200s/: %s", src, m);
        return -1;
    }
    return 0;
}

tsdb_spred *tsdb_spred_tag(tsdb_sp_op op, const char *k, size_t kl, const char *v, size_t vl, char *err,
                           size_t cap) {
    if (op != TSDB_SP_EQ && op != TSDB_SP_NEQ && op != TSDB_SP_MATCH && op != TSDB_SP_NMATCH) {
        if (err && cap) snprintf(err, cap, "unsupported tag predicate operator");
        return NULL;
    }
    tsdb_spred *p = calloc(1, sizeof *p);
    if (!p) goto oom;
    p->op = op;
    p->k = malloc(kl + 1);
    p->v = malloc(vl + 1);
    if (!p->k || !p->v) goto oom;
    memcpy(p->k, k, kl);
    p->k[kl] = 0;
    memcpy(p->v, v, vl);
    p->v[vl] = 0;
    p->kl = kl;
    p->vl = vl;
    if (op == TSDB_SP_MATCH || op == TSDB_SP_NMATCH) {
        if (memchr(v, 0, vl)) {
            if (err && cap) snprintf(err, cap, "invalid regular expression: NUL byte");
            tsdb_spred_free(p);
            return NULL;
        }
        if (compile_re(&p->re, p->v, err, cap)) {
            tsdb_spred_free(p);
            return NULL;
        }
        p->has_re = 1;
        p->re_empty = regexec(&p->re, "", 0, NULL, 0) == 0;
    }
    return p;
oom:
    if (err && cap) snprintf(err, cap, "out of memory");
    tsdb_spred_free(p);
    return NULL;
}

tsdb_spred *tsdb_spred_const(int b) {
    tsdb_spred *p = calloc(1, sizeof *p);
    if (p) p->op = b ? TSDB_SP_TRUE : TSDB_SP_FALSE;
    return p;
}

static tsdb_spred *combine(tsdb_sp_op op, tsdb_spred *l, tsdb_spred *r) {
    if (!l || !r) goto fail;
    tsdb_spred *p = calloc(1, sizeof *p);
    if (!p) goto fail;
    p->op = op;
    p->l = l;
    p->r = r;
    return p;
fail:
    tsdb_spred_free(l);
    tsdb_spred_free(r);
    return NULL;
}
tsdb_spred *tsdb_spred_and(tsdb_spred *l, tsdb_spred *r) { return combine(TSDB_SP_AND, l, r); }
tsdb_spred *tsdb_spred_or(tsdb_spred *l, tsdb_spred *r) { return combine(TSDB_SP_OR, l, r); }

void tsdb_spred_free(tsdb_spred *p) {
    if (!p) return;
    tsdb_spred_free(p->l);
    tsdb_spred_free(p->r);
    if (p->has_re) regfree(&p->re);
    free(p->k);
    free(p->v);
    free(p);
}

static int leaf_value_match(const tsdb_spred *p, const char *val, size_t vl) {
    switch (p->op) {
    case TSDB_SP_EQ: return vl == p->vl && !memcmp(val, p->v, vl);
    case TSDB_SP_NEQ: return !(vl == p->vl && !memcmp(val, p->v, vl));
    case TSDB_SP_MATCH: return regexec(&p->re, val, 0, NULL, 0) == 0;
    case TSDB_SP_NMATCH: return regexec(&p->re, val, 0, NULL, 0) != 0;
    default: return 0;
    }
}

int tsdb_spred_eval_series(const tsdb_sidx *ix, const tsdb_spred *p, uint32_t id) {
    const series *s = ser_get(ix, id);
    if (!s) return 0;
    if (!p) return 1;
    switch (p->op) {
    case TSDB_SP_TRUE: return 1;
    case TSDB_SP_FALSE: return 0;
    case TSDB_SP_AND: return tsdb_spred_eval_series(ix, p->l, id) && tsdb_spred_eval_series(ix, p->r, id);
    case TSDB_SP_OR: return tsdb_spred_eval_series(ix, p->l, id) || tsdb_spred_eval_series(ix, p->r, id);
    default: {
        const istr *v = ser_tag_value(ix, s, p->k, p->kl);
        return leaf_value_match(p, v ? v->s : "", v ? v->len : 0);
    }
    }
}

/* ------------------------------------------------------------------ id lists */

size_t tsdb_ids_intersect(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, uint32_t *out) {
    size_t i = 0, j = 0, k = 0;
    while (i < na && j < nb) {
        if (a[i] < b[j]) i++;
        else if (a[i] > b[j]) j++;
        else {
            out[k++] = a[i];
            i++;
            j++;
        }
    }
    return k;
}

size_t tsdb_ids_union(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, uint32_t *out) {
    size_t i = 0, j = 0, k = 0;
    while (i < na || j < nb) {
        if (j >= nb || (i < na && a[i] < b[j])) out[k++] = a[i++];
        else if (i >= na || b[j] < a[i]) out[k++] = b[j++];
        else {
            out[k++] = a[i];
            i++;
            j++;
        }
    }
    return k;
}

size_t tsdb_ids_difference(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, uint32_t *out) {
    size_t i = 0, j = 0, k = 0;
    while (i < na) {
        if (j >= nb || a[i] < b[j]) out[k++] = a[i++];
        else if (a[i] > b[j]) j++;
        else {
            i++;
            j++;
        }
    }
    return k;
}

void tsdb_ids_free(tsdb_ids *l) {
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int ids_reserve(tsdb_ids *l, size_t n) {
    if (n <= l->cap) return 0;
    size_t nc = l->cap ? l->cap * 2 : 16;
    if (nc < n) nc = n;
    uint32_t *q = realloc(l->v, nc * 4);
    if (!q) return -1;
    l->v = q;
    l->cap = nc;
    return 0;
}

static int ids_set(tsdb_ids *l, const uint32_t *a, size_t n) {
    if (ids_reserve(l, n)) return -1;
    if (n) memcpy(l->v, a, n * 4);
    l->n = n;
    return 0;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* union of the postings of the values of k for which the leaf's value test equals want; the
 * postings of one tag key are disjoint, so a concatenation and a sort give the union */
static int values_union(const tsdb_spred *p, const tsdb_sidx *ix, const tkey *k, int want, tsdb_ids *out) {
    out->n = 0;
    if (!k) return 0;
    for (uint32_t i = 0; i < k->nvals; i++) {
        const tval *v = &k->vals[i];
        if (leaf_value_match(p, sstr(ix, v->sid), slen(ix, v->sid)) != want) continue;
        if (ids_reserve(out, out->n + v->pl.n)) return -1;
        if (v->pl.n) memcpy(out->v + out->n, pl_cdata(&v->pl), (size_t)v->pl.n * 4);
        out->n += v->pl.n;
    }
    if (out->n > 1) qsort(out->v, out->n, 4, cmp_u32);
    return 0;
}

static int eval_set(const tsdb_sidx *ix, const meas *me, const tsdb_spred *p, tsdb_ids *out, int depth) {
    const uint32_t *all = pl_cdata(&me->series);
    size_t nall = me->series.n;
    if (depth > 10000) return TSDB_SIDX_EINVAL;
    switch (p->op) {
    case TSDB_SP_TRUE: return ids_set(out, all, nall) ? TSDB_SIDX_ENOMEM : 0;
    case TSDB_SP_FALSE: out->n = 0; return 0;
    case TSDB_SP_AND:
    case TSDB_SP_OR: {
        tsdb_ids b = {0};
        int rc = eval_set(ix, me, p->l, out, depth + 1);
        if (rc) return rc;
        if (p->op == TSDB_SP_AND && !out->n) return 0;
        if ((rc = eval_set(ix, me, p->r, &b, depth + 1))) {
            tsdb_ids_free(&b);
            return rc;
        }
        if (p->op == TSDB_SP_AND) {
            out->n = tsdb_ids_intersect(out->v, out->n, b.v, b.n, out->v); /* in place: out index <= i */
        } else {
            size_t ucap = out->n + b.n + 1;
            uint32_t *u = malloc(ucap * 4);
            if (!u) {
                tsdb_ids_free(&b);
                return TSDB_SIDX_ENOMEM;
            }
            size_t n = tsdb_ids_union(out->v, out->n, b.v, b.n, u);
            free(out->v);
            out->v = u;
            out->n = n;
            out->cap = ucap;
        }
        tsdb_ids_free(&b);
        return 0;
    }
    default: break;
    }
    long ki = tkey_search(ix, me, p->k, p->kl);
    const tkey *k = ki >= 0 ? &me->keys[ki] : NULL;
    if ((p->op == TSDB_SP_EQ || p->op == TSDB_SP_NEQ) && p->vl) { /* direct postings lookup */
        uint32_t vsid = intern_find(ix, p->v, p->vl, hash_bytes(p->v, p->vl));
        const tval *v = k && vsid != TSDB_SID_NONE ? tval_find(k, vsid) : NULL;
        const uint32_t *pv = v ? pl_cdata(&v->pl) : NULL;
        size_t pn = v ? v->pl.n : 0;
        if (p->op == TSDB_SP_EQ) return ids_set(out, pv, pn) ? TSDB_SIDX_ENOMEM : 0;
        if (ids_reserve(out, nall)) return TSDB_SIDX_ENOMEM;
        out->n = tsdb_ids_difference(all, nall, pv, pn, out->v);
        return 0;
    }
    int empty_matches = leaf_value_match(p, "", 0); /* series without the tag have value "" */
    if (!empty_matches) return values_union(p, ix, k, 1, out) ? TSDB_SIDX_ENOMEM : 0;
    /* everything except the series whose value fails the test */
    tsdb_ids fail = {0};
    if (values_union(p, ix, k, 0, &fail) || ids_reserve(out, nall)) {
        tsdb_ids_free(&fail);
        return TSDB_SIDX_ENOMEM;
    }
    out->n = tsdb_ids_difference(all, nall, fail.v, fail.n, out->v);
    tsdb_ids_free(&fail);
    return 0;
}

int tsdb_sidx_match(const tsdb_sidx *ix, const char *m, size_t ml, const tsdb_spred *p, tsdb_ids *out) {
    out->n = 0;
    uint32_t mi = meas_find(ix, m, ml);
    if (mi == TSDB_SID_NONE) return 0;
    const meas *me = ix->meas[mi];
    if (!p) return ids_set(out, pl_cdata(&me->series), me->series.n) ? TSDB_SIDX_ENOMEM : 0;
    int rc = eval_set(ix, me, p, out, 0);
    if (rc) out->n = 0;
    return rc;
}

/* ------------------------------------------------------------------ SHOW helpers */

void tsdb_strs_free(tsdb_strs *l) {
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int strs_push(tsdb_strs *l, const char *s, uint32_t len, const char *v, uint32_t vl, int type) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        tsdb_sidx_str *q = realloc(l->v, nc * sizeof *q);
        if (!q) return -1;
        l->v = q;
        l->cap = nc;
    }
    tsdb_sidx_str *e = &l->v[l->n++];
    e->s = s;
    e->len = len;
    e->val = v;
    e->vlen = vl;
    e->type = type;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    const tsdb_sidx_str *x = a, *y = b;
    int c = bytes_cmp(x->s, x->len, y->s, y->len);
    if (c || !x->val || !y->val) return c;
    return bytes_cmp(x->val, x->vlen, y->val, y->vlen);
}

/* sort, and drop adjacent duplicates (interned strings: same pointer) */
static void strs_sort_unique(tsdb_strs *l, size_t from) {
    if (l->n - from > 1) qsort(l->v + from, l->n - from, sizeof *l->v, cmp_str);
    size_t w = from;
    for (size_t i = from; i < l->n; i++)
        if (w == from || l->v[w - 1].s != l->v[i].s || l->v[w - 1].val != l->v[i].val) l->v[w++] = l->v[i];
    l->n = w;
}

static int meas_has_match(const tsdb_sidx *ix, const meas *me, const tsdb_spred *p, int *has) {
    tsdb_ids ids = {0};
    int rc = eval_set(ix, me, p, &ids, 0);
    *has = ids.n > 0;
    tsdb_ids_free(&ids);
    return rc;
}

int tsdb_sidx_measurements(const tsdb_sidx *ix, const char *re, const tsdb_spred *p, tsdb_strs *out, char *err,
                           size_t cap) {
    out->n = 0;
    regex_t rx;
    if (re && compile_re(&rx, re, err, cap)) return TSDB_SIDX_EINVAL;
    int rc = 0;
    for (uint32_t mi = 0; mi < ix->nmeas && !rc; mi++) {
        const meas *me = ix->meas[mi];
        if (!me || !me->series.n) continue;
        if (re && regexec(&rx, sstr(ix, me->sid), 0, NULL, 0)) continue;
        if (p) {
            int has;
            if ((rc = meas_has_match(ix, me, p, &has)) || !has) continue;
        }
        if (strs_push(out, sstr(ix, me->sid), slen(ix, me->sid), NULL, 0, 0)) rc = TSDB_SIDX_ENOMEM;
    }
    if (re) regfree(&rx);
    if (rc) {
        out->n = 0;
        return rc;
    }
    strs_sort_unique(out, 0);
    return 0;
}

int tsdb_sidx_tag_keys(const tsdb_sidx *ix, const char *m, size_t ml, const tsdb_spred *p, tsdb_strs *out) {
    out->n = 0;
    uint32_t mi = meas_find(ix, m, ml);
    if (mi == TSDB_SID_NONE) return 0;
    const meas *me = ix->meas[mi];
    if (!p) {
        for (uint32_t i = 0; i < me->nkeys; i++)
            if (strs_push(out, sstr(ix, me->keys[i].sid), slen(ix, me->keys[i].sid), NULL, 0, 0)) goto oom;
        return 0;
    }
    tsdb_ids ids = {0};
    int rc = eval_set(ix, me, p, &ids, 0);
    for (size_t i = 0; i < ids.n && !rc; i++) {
        const series *s = ser_get(ix, ids.v[i]);
        for (uint32_t t = 0; t < s->ntags; t++)
            if (strs_push(out, sstr(ix, s->tags[2 * t]), slen(ix, s->tags[2 * t]), NULL, 0, 0)) {
                rc = TSDB_SIDX_ENOMEM;
                break;
            }
    }
    tsdb_ids_free(&ids);
    if (rc) {
        out->n = 0;
        return rc;
    }
    strs_sort_unique(out, 0);
    return 0;
oom:
    out->n = 0;
    return TSDB_SIDX_ENOMEM;
}

static int key_selected(tsdb_sp_op kop, const char *const *keys, size_t nk, const regex_t *rx, const istr *k) {
    switch (kop) {
    case TSDB_SP_EQ:
    case TSDB_SP_IN:
        for (size_t i = 0; i < nk; i++)
            if (strlen(keys[i]) == k->len && !memcmp(keys[i], k->s, k->len)) return 1;
        return 0;
    case TSDB_SP_NEQ:
        for (size_t i = 0; i < nk; i++)
            if (strlen(keys[i]) == k->len && !memcmp(keys[i], k->s, k->len)) return 0;
        return 1;
    case TSDB_SP_MATCH: return regexec(rx, k->s, 0, NULL, 0) == 0;
    case TSDB_SP_NMATCH: return regexec(rx, k->s, 0, NULL, 0) != 0;
    default: return 0;
    }
}

int tsdb_sidx_tag_values(const tsdb_sidx *ix, const char *m, size_t ml, tsdb_sp_op kop, const char *const *keys,
                         size_t nkeys, const tsdb_spred *p, tsdb_strs *out, char *err, size_t cap) {
    out->n = 0;
    regex_t rx;
    int has_rx = 0;
    if (kop == TSDB_SP_MATCH || kop == TSDB_SP_NMATCH) {
        if (nkeys < 1) return TSDB_SIDX_EINVAL;
        if (compile_re(&rx, keys[0], err, cap)) return TSDB_SIDX_EINVAL;
        has_rx = 1;
    } else if (kop != TSDB_SP_EQ && kop != TSDB_SP_NEQ && kop != TSDB_SP_IN) {
        if (err && cap) snprintf(err, cap, "unsupported WITH KEY operator");
        return TSDB_SIDX_EINVAL;
    }
    int rc = 0;
    uint32_t mi = meas_find(ix, m, ml);
    if (mi == TSDB_SID_NONE) goto done;
    const meas *me = ix->meas[mi];
    if (!p) {
        for (uint32_t i = 0; i < me->nkeys && !rc; i++) {
            const tkey *k = &me->keys[i];
            const istr *ks = ix->strs[k->sid];
            if (!key_selected(kop, keys, nkeys, &rx, ks)) continue;
            size_t from = out->n;
            for (uint32_t v = 0; v < k->nvals && !rc; v++)
                if (strs_push(out, ks->s, ks->len, sstr(ix, k->vals[v].sid), slen(ix, k->vals[v].sid), 0))
                    rc = TSDB_SIDX_ENOMEM;
            if (!rc) strs_sort_unique(out, from); /* keys are already in order */
        }
    } else {
        tsdb_ids ids = {0};
        rc = eval_set(ix, me, p, &ids, 0);
        for (size_t i = 0; i < ids.n && !rc; i++) {
            const series *s = ser_get(ix, ids.v[i]);
            for (uint32_t t = 0; t < s->ntags && !rc; t++) {
                const istr *ks = ix->strs[s->tags[2 * t]], *vs = ix->strs[s->tags[2 * t + 1]];
                if (key_selected(kop, keys, nkeys, &rx, ks) && strs_push(out, ks->s, ks->len, vs->s, vs->len, 0))
                    rc = TSDB_SIDX_ENOMEM;
            }
        }
        tsdb_ids_free(&ids);
        if (!rc) strs_sort_unique(out, 0);
    }
done:
    if (has_rx) regfree(&rx);
    if (rc) out->n = 0;
    return rc;
}

static int push_series_keys(const tsdb_sidx *ix, const meas *me, const tsdb_spred *p, tsdb_strs *out) {
    tsdb_ids ids = {0};
    const uint32_t *v = pl_cdata(&me->series);
    size_t n = me->series.n;
    if (p) {
        int rc = eval_set(ix, me, p, &ids, 0);
        if (rc) return rc;
        v = ids.v;
        n = ids.n;
    }
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const series *s = ser_get(ix, v[i]);
        if (strs_push(out, ser_key(s), s->keylen, NULL, 0, 0)) rc = TSDB_SIDX_ENOMEM;
    }
    tsdb_ids_free(&ids);
    return rc;
}

int tsdb_sidx_series_keys(const tsdb_sidx *ix, const char *m, size_t ml, const tsdb_spred *p, tsdb_strs *out) {
    out->n = 0;
    int rc = 0;
    if (m) {
        uint32_t mi = meas_find(ix, m, ml);
        if (mi != TSDB_SID_NONE) rc = push_series_keys(ix, ix->meas[mi], p, out);
    } else {
        for (uint32_t mi = 0; mi < ix->nmeas && !rc; mi++)
            if (ix->meas[mi]) rc = push_series_keys(ix, ix->meas[mi], p, out);
    }
    if (rc) {
        out->n = 0;
        return rc;
    }
    if (out->n > 1) qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return 0;
}

int tsdb_sidx_field_keys(const tsdb_sidx *ix, const char *m, size_t ml, tsdb_strs *out) {
    out->n = 0;
    uint32_t mi = meas_find(ix, m, ml);
    if (mi == TSDB_SID_NONE) return 0;
    const meas *me = ix->meas[mi];
    for (uint32_t i = 0; i < me->nfields; i++)
        if (strs_push(out, sstr(ix, me->fields[i].sid), slen(ix, me->fields[i].sid), NULL, 0, me->fields[i].type)) {
            out->n = 0;
            return TSDB_SIDX_ENOMEM;
        }
    return 0;
}

/* ------------------------------------------------------------------ drops */

typedef struct mid_pair {
    uint32_t meas, id;
} mid_pair;

static int cmp_pair(const void *a, const void *b) {
    const mid_pair *x = a, *y = b;
    if (x->meas != y->meas) return x->meas < y->meas ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* drop the live series among ids (any order, duplicates allowed) */
static size_t drop_ids(tsdb_sidx *ix, const uint32_t *ids, size_t n) {
    mid_pair *pairs = malloc((n ? n : 1) * sizeof *pairs);
    uint32_t *d = malloc((n ? n : 1) * 4);
    size_t np = 0, dropped = 0;
    if (!pairs || !d) { /* fall back to one series at a time */
        free(pairs);
        free(d);
        for (size_t i = 0; i < n; i++) {
            series *s = ser_get(ix, ids[i]);
            if (!s) continue;
            uint32_t mi = s->meas, id = ids[i];
            meas_filter(ix, mi, &id, 1, 0);
            ser_release(ix, id, 1);
            ix->live--;
            dropped++;
        }
        return dropped;
    }
    for (size_t i = 0; i < n; i++) {
        series *s = ser_get(ix, ids[i]);
        if (s) pairs[np++] = (mid_pair){s->meas, ids[i]};
    }
    if (np > 1) qsort(pairs, np, sizeof *pairs, cmp_pair);
    for (size_t i = 0; i < np;) {
        size_t j = i, nd = 0;
        while (j < np && pairs[j].meas == pairs[i].meas) {
            if (!nd || d[nd - 1] != pairs[j].id) d[nd++] = pairs[j].id;
            j++;
        }
        meas_filter(ix, pairs[i].meas, d, nd, 0);
        for (size_t k = 0; k < nd; k++) {
            ser_release(ix, d[k], 1);
            ix->live--;
            dropped++;
        }
        i = j;
    }
    free(pairs);
    free(d);
    tab_shrink(&ix->bytes, &ix->ktab, ser_elem_hash, ix);
    tab_shrink(&ix->bytes, &ix->stab, str_elem_hash, ix);
    return dropped;
}

size_t tsdb_sidx_drop_series(tsdb_sidx *ix, const uint32_t *ids, size_t n) { return drop_ids(ix, ids, n); }

long tsdb_sidx_drop_measurement(tsdb_sidx *ix, const char *m, size_t ml) {
    uint32_t mi = meas_find(ix, m, ml);
    if (mi == TSDB_SID_NONE) return -1;
    meas *me = ix->meas[mi];
    size_t n = me->series.n;
    if (!n) {
        meas_remove(ix, mi);
        return 0;
    }
    uint32_t *copy = malloc(n * 4);
    if (!copy) { /* drop one at a time from the end (no allocation needed) */
        long cnt = 0;
        while (ix->meas[mi] == me && me->series.n) {
            uint32_t id = pl_cdata(&me->series)[me->series.n - 1];
            cnt += (long)drop_ids(ix, &id, 1);
        }
        return cnt;
    }
    memcpy(copy, pl_cdata(&me->series), n * 4);
    long cnt = (long)drop_ids(ix, copy, n);
    free(copy);
    return cnt; /* the emptied measurement went with its last series, fields included */
}

size_t tsdb_sidx_memory(const tsdb_sidx *ix) { return ix->bytes; }

/* ------------------------------------------------------------------ serialization */

/* Format (all integers unsigned LEB128 varints):
 *   "TSX1" next_id nstrings {len bytes}* nmeas {name nfields {name type}* nseries {iddelta ntags {k v}*}*}*
 * strings are referenced by index in the table; series ids of one measurement ascend (the first
 * delta is the id itself, later ones are id - previous id, > 0). */

typedef struct wbuf {
    uint8_t *p;
    size_t n, cap;
    int oom;
} wbuf;

static void wb_put(wbuf *w, const void *d, size_t n) {
    if (w->oom) return;
    if (w->n + n > w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 256;
        while (nc < w->n + n) nc *= 2;
        uint8_t *q = realloc(w->p, nc);
        if (!q) {
            w->oom = 1;
            return;
        }
        w->p = q;
        w->cap = nc;
    }
    memcpy(w->p + w->n, d, n);
    w->n += n;
}

static void wb_var(wbuf *w, uint64_t v) {
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) b[n] |= 0x80;
        n++;
    } while (v);
    wb_put(w, b, n);
}

int tsdb_sidx_serialize(const tsdb_sidx *ix, uint8_t **buf, size_t *len) {
    wbuf w = {0};
    uint32_t *remap = malloc(((size_t)ix->nstrs + 1) * 4);
    if (!remap) return TSDB_SIDX_ENOMEM;
    uint32_t ns = 0;
    for (uint32_t s = 0; s < ix->nstrs; s++) remap[s] = ix->strs[s] ? ns++ : TSDB_SID_NONE;
    wb_put(&w, "TSX1", 4);
    wb_var(&w, ix->next_id);
    wb_var(&w, ns);
    for (uint32_t s = 0; s < ix->nstrs; s++) {
        if (!ix->strs[s]) continue;
        wb_var(&w, ix->strs[s]->len);
        wb_put(&w, ix->strs[s]->s, ix->strs[s]->len);
    }
    uint32_t nm = 0;
    for (uint32_t mi = 0; mi < ix->nmeas; mi++) nm += ix->meas[mi] != NULL;
    wb_var(&w, nm);
    for (uint32_t mi = 0; mi < ix->nmeas; mi++) {
        const meas *me = ix->meas[mi];
        if (!me) continue;
        wb_var(&w, remap[me->sid]);
        wb_var(&w, me->nfields);
        for (uint32_t f = 0; f < me->nfields; f++) {
            wb_var(&w, remap[me->fields[f].sid]);
            wb_var(&w, me->fields[f].type);
        }
        wb_var(&w, me->series.n);
        uint32_t prev = 0;
        for (uint32_t i = 0; i < me->series.n; i++) {
            uint32_t id = pl_cdata(&me->series)[i];
            const series *s = ser_get(ix, id);
            wb_var(&w, i ? id - prev : id);
            prev = id;
            wb_var(&w, s->ntags);
            for (uint32_t t = 0; t < 2 * s->ntags; t++) wb_var(&w, remap[s->tags[t]]);
        }
    }
    free(remap);
    if (w.oom) {
        free(w.p);
        return TSDB_SIDX_ENOMEM;
    }
    *buf = w.p;
    *len = w.n;
    return 0;
}

typedef struct rbuf {
    const uint8_t *p;
    size_t n, pos;
} rbuf;

static int rb_var(rbuf *r, uint64_t *v, uint64_t max) {
    uint64_t x = 0;
    for (int sh = 0; sh < 64; sh += 7) {
        if (r->pos >= r->n) return -1;
        uint8_t b = r->p[r->pos++];
        if (sh == 63 && b > 1) return -1;
        x |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) {
            if (x > max) return -1;
            *v = x;
            return 0;
        }
    }
    return -1;
}

static void derr(char *err, size_t cap, const char *fmt, ...) {
    if (!err || !cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

tsdb_sidx *tsdb_sidx_deserialize(const uint8_t *buf, size_t len, char *err, size_t cap) {
    rbuf r = {buf, len, 0};
    tsdb_sidx *ix = NULL;
    tsdb_lp_str *strs = NULL;
    tsdb_lp_tag *tags = NULL;
    uint64_t next_id, ns, nm;
    if (len < 4 || memcmp(buf, "TSX1", 4)) {
        derr(err, cap, "series index: bad magic");
        return NULL;
    }
    r.pos = 4;
    if (rb_var(&r, &next_id, UINT32_MAX) || rb_var(&r, &ns, len)) goto trunc;
    strs = malloc((ns ? ns : 1) * sizeof *strs);
    size_t tcap = 16;
    tags = malloc(tcap * sizeof *tags);
    ix = tsdb_sidx_new();
    if (!strs || !tags || !ix) goto oom;
    for (uint64_t i = 0; i < ns; i++) {
        uint64_t l;
        if (rb_var(&r, &l, UINT32_MAX) || l > r.n - r.pos) goto trunc;
        strs[i].ptr = (const char *)r.p + r.pos;
        strs[i].len = (size_t)l;
        r.pos += (size_t)l;
    }
    if (rb_var(&r, &nm, len)) goto trunc;
    for (uint64_t mi = 0; mi < nm; mi++) {
        uint64_t name, nf, nser;
        if (rb_var(&r, &name, ns ? ns - 1 : 0) || !ns) goto bad;
        if (meas_find(ix, strs[name].ptr, strs[name].len) != TSDB_SID_NONE) {
            derr(err, cap, "series index: duplicate measurement");
            goto fail;
        }
        if (rb_var(&r, &nf, len)) goto trunc;
        for (uint64_t f = 0; f < nf; f++) {
            uint64_t fn, ft;
            if (rb_var(&r, &fn, ns - 1) || rb_var(&r, &ft, TSDB_LP_BOOL)) goto bad;
            int rc = tsdb_sidx_field_add(ix, strs[name].ptr, strs[name].len, strs[fn].ptr, strs[fn].len, (int)ft,
                                         NULL, 0);
            if (rc == TSDB_SIDX_ENOMEM) goto oom;
            if (rc) goto bad;
        }
        if (rb_var(&r, &nser, len)) goto trunc;
        uint64_t prev = 0;
        for (uint64_t si = 0; si < nser; si++) {
            uint64_t delta, nt;
            if (rb_var(&r, &delta, UINT32_MAX) || rb_var(&r, &nt, TSDB_SIDX_MAX_TAGS)) goto bad;
            uint64_t id = si ? prev + delta : delta;
            if ((si && !delta) || id >= next_id || ser_get(ix, (uint32_t)id)) {
                derr(err, cap, "series index: bad series id");
                goto fail;
            }
            prev = id;
            if (nt > tcap) {
                if (nt > r.n - r.pos) goto trunc; /* each tag takes at least two bytes */
                tsdb_lp_tag *q = realloc(tags, (size_t)nt * sizeof *q);
                if (!q) goto oom;
                tags = q;
                tcap = (size_t)nt;
            }
            for (uint64_t t = 0; t < nt; t++) {
                uint64_t k, v;
                if (rb_var(&r, &k, ns - 1) || rb_var(&r, &v, ns - 1)) goto bad;
                tags[t].key = strs[k];
                tags[t].value = strs[v];
            }
            if (check_parts(strs[name].ptr, strs[name].len, tags, (size_t)nt)) goto bad;
            size_t klen;
            char *key = build_key(strs[name].ptr, strs[name].len, tags, (size_t)nt, &klen);
            if (!key) goto oom;
            if (tsdb_sidx_lookup(ix, key, klen) != TSDB_SID_NONE) {
                free(key);
                derr(err, cap, "series index: duplicate series key");
                goto fail;
            }
            uint32_t got;
            int rc = create_series(ix, strs[name].ptr, strs[name].len, tags, (size_t)nt, key, klen,
                                   hash_bytes(key, klen), (uint32_t)id, &got);
            free(key);
            if (rc == TSDB_SIDX_ENOMEM) goto oom;
            if (rc) goto bad;
            uint32_t gm = meas_find(ix, strs[name].ptr, strs[name].len);
            if (ix->meas[gm]->series.n != si + 1) { /* key collided with another measurement's */
                derr(err, cap, "series index: inconsistent series");
                goto fail;
            }
        }
        uint32_t gm = meas_find(ix, strs[name].ptr, strs[name].len);
        if (gm == TSDB_SID_NONE) {
            derr(err, cap, "series index: measurement without series or fields");
            goto fail;
        }
    }
    if (r.pos != r.n) {
        derr(err, cap, "series index: %zu trailing bytes", r.n - r.pos);
        goto fail;
    }
    ix->next_id = (uint32_t)next_id;
    free(strs);
    free(tags);
    return ix;
trunc:
    derr(err, cap, "series index: truncated at byte %zu", r.pos);
    goto fail;
bad:
    derr(err, cap, "series index: malformed entry before byte %zu", r.pos);
    goto fail;
oom:
    derr(err, cap, "series index: out of memory");
fail:
    free(strs);
    free(tags);
    tsdb_sidx_free(ix);
    return NULL;
}
