/* idx32: linear-probing index of 32-bit record ids, keys compared through the caller (idx32.h). */
#include "base/idx32.h"
#include <stdlib.h>
#include <string.h>

#define EMPTY 0u
#define TOMB 1u

void idx32_init(idx32 *ix) { memset(ix, 0, sizeof *ix); }

void idx32_free(idx32 *ix) {
    free(ix->slots);
    idx32_init(ix);
}

uint32_t idx32_find(const idx32 *ix, uint32_t h, idx32_eq_fn eq, const void *ctx, const void *key) {
    if (!ix->cap) return IDX32_NONE;
    uint32_t mask = ix->cap - 1;
    for (uint32_t i = h & mask, n = 0; n < ix->cap; i = (i + 1) & mask, n++) {
        uint32_t v = ix->slots[i];
        if (v == EMPTY) return IDX32_NONE;
        if (v != TOMB && eq(ctx, v - 2, key)) return v - 2;
    }
    return IDX32_NONE;
}

static int grow(idx32 *ix, idx32_hash_fn hash_of, const void *ctx) {
    uint32_t ncap = ix->cap ? ix->cap : 16;
    if (ix->count * 2 >= ix->cap) { /* else mostly tombstones: rehash at the same size */
        if (ncap > UINT32_MAX / 4) return -1;
        ncap = ix->cap ? ix->cap * 2 : 16;
    }
    uint32_t *ns = calloc(ncap, sizeof *ns);
    if (!ns) return -1;
    for (uint32_t i = 0; i < ix->cap; i++) {
        uint32_t v = ix->slots[i];
        if (v == EMPTY || v == TOMB) continue;
        uint32_t j = hash_of(ctx, v - 2) & (ncap - 1);
        while (ns[j] != EMPTY) j = (j + 1) & (ncap - 1);
        ns[j] = v;
    }
    free(ix->slots);
    ix->slots = ns;
    ix->cap = ncap;
    ix->used = ix->count;
    return 0;
}

int idx32_insert(idx32 *ix, uint32_t h, uint32_t id, idx32_hash_fn hash_of, const void *ctx) {
    if (id >= IDX32_NONE - 1) return -1;
    if ((uint64_t)(ix->used + 1) * 4 > (uint64_t)ix->cap * 3 && grow(ix, hash_of, ctx)) return -1;
    uint32_t mask = ix->cap - 1, i = h & mask;
    while (ix->slots[i] != EMPTY && ix->slots[i] != TOMB) i = (i + 1) & mask;
    if (ix->slots[i] == EMPTY) ix->used++;
    ix->slots[i] = id + 2;
    ix->count++;
    return 0;
}

static uint32_t *slot_of(const idx32 *ix, uint32_t h, uint32_t id) {
    if (!ix->cap) return NULL;
    uint32_t mask = ix->cap - 1;
    for (uint32_t i = h & mask, n = 0; n < ix->cap; i = (i + 1) & mask, n++) {
        uint32_t v = ix->slots[i];
        if (v == EMPTY) return NULL;
        if (v == id + 2) return &ix->slots[i];
    }
    return NULL;
}

int idx32_replace(idx32 *ix, uint32_t h, uint32_t old_id, uint32_t new_id) {
    uint32_t *s = slot_of(ix, h, old_id);
    if (!s || new_id >= IDX32_NONE - 1) return -1;
    *s = new_id + 2;
    return 0;
}

int idx32_remove(idx32 *ix, uint32_t h, uint32_t id) {
    uint32_t *s = slot_of(ix, h, id);
    if (!s) return -1;
    *s = TOMB;
    ix->count--;
    return 0;
}

size_t idx32_bytes(const idx32 *ix) { return (size_t)ix->cap * sizeof(uint32_t); }
