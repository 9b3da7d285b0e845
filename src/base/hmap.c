/* hmap: linear-probing hash map with FNV-1a hashing and tombstones (see hmap.h). */
#include "base/hmap.h"
#include <stdlib.h>
#include <string.h>

static char tomb;
#define TOMB ((void *)&tomb)

uint32_t hmap_hash(const void *k, size_t n) {
    const uint8_t *p = k;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h ? h : 1;
}

void hmap_init(hmap *m) { memset(m, 0, sizeof *m); }
void hmap_free(hmap *m) { free(m->slots); hmap_init(m); }

static hmap_slot *find(const hmap *m, const void *k, size_t n, uint32_t h) {
    if (!m->cap) return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        hmap_slot *s = &m->slots[i];
        if (!s->val) return NULL;
        if (s->key && s->hash == h && s->len == n && memcmp(s->key, k, n) == 0) return s;
    }
}

void *hmap_get(const hmap *m, const void *k, size_t n) {
    hmap_slot *s = find(m, k, n, hmap_hash(k, n));
    return s ? s->val : NULL;
}

static int grow(hmap *m) {
    size_t ncap = m->cap ? m->cap * 2 : 16;
    if (m->count * 4 < m->cap) ncap = m->cap; /* mostly tombstones: rehash in place size */
    hmap_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns) return -1;
    for (size_t i = 0; i < m->cap; i++) {
        hmap_slot *s = &m->slots[i];
        if (!s->key) continue;
        size_t j = s->hash & (ncap - 1);
        while (ns[j].val) j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    m->used = m->count;
    return 0;
}

int hmap_put(hmap *m, const void *k, size_t n, void *v) {
    uint32_t h = hmap_hash(k, n);
    hmap_slot *s = find(m, k, n, h);
    if (s) { s->val = v; s->key = k; return 0; }
    if ((m->used + 1) * 4 >= m->cap * 3 && grow(m)) return -1;
    size_t mask = m->cap - 1, i = h & mask;
    while (m->slots[i].val && m->slots[i].key) i = (i + 1) & mask;
    if (!m->slots[i].val) m->used++;
    m->slots[i] = (hmap_slot){k, (uint32_t)n, h, v};
    m->count++;
    return 0;
}

void *hmap_del(hmap *m, const void *k, size_t n) {
    hmap_slot *s = find(m, k, n, hmap_hash(k, n));
    if (!s) return NULL;
    void *v = s->val;
    s->key = NULL;
    s->val = TOMB;
    m->count--;
    return v;
}

void *hmap_next(const hmap *m, size_t *it, const void **k, size_t *n) {
    while (*it < m->cap) {
        hmap_slot *s = &m->slots[(*it)++];
        if (s->key) {
            if (k) *k = s->key;
            if (n) *n = s->len;
            return s->val;
        }
    }
    return NULL;
}
