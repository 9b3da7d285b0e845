/* hmap: open-addressing hash map from byte-string keys to pointers. Keys are not copied: the
 * caller keeps each key's bytes alive while it is in the map (usually the key lives in the value).
 *   hmap_init(m)                    empty map, no allocation
 *   hmap_get(m, k, n)               value or NULL
 *   hmap_put(m, k, n, v)            insert or replace; 0 or -1 (out of memory)
 *   hmap_del(m, k, n)               remove; returns the old value or NULL
 *   hmap_next(m, &it, &k, &n)       iterate: it = 0 to start; returns value, NULL at the end
 *   hmap_free(m)                    release the table (not the values) */
#ifndef TE_BASE_HMAP_H
#define TE_BASE_HMAP_H
#include <stddef.h>
#include <stdint.h>

typedef struct hmap_slot {
    const void *key;
    uint32_t len, hash;
    void *val; /* NULL = empty; key == NULL && val == tombstone marker = deleted */
} hmap_slot;

typedef struct hmap {
    hmap_slot *slots;
    size_t cap, count, used; /* used counts tombstones too */
} hmap;

uint32_t hmap_hash(const void *k, size_t n);
void hmap_init(hmap *m);
void hmap_free(hmap *m);
void *hmap_get(const hmap *m, const void *k, size_t n);
int hmap_put(hmap *m, const void *k, size_t n, void *v);
void *hmap_del(hmap *m, const void *k, size_t n);
void *hmap_next(const hmap *m, size_t *it, const void **k, size_t *n);
#endif
