/* idx32: compact open-addressing hash index whose slots hold only a 32-bit record id (4 bytes a
 * slot): the keys live in the caller's records and are compared through a callback, so an index
 * costs ~5-11 bytes a record (linear probing, load <= 0.75, tombstones reclaimed on growth).
 * Ids are any value below IDX32_NONE - 1; the caller gives each record's hash (and can recompute
 * it for a given id: growth rehashes through that callback).
 *   idx32_init(ix) / idx32_free(ix)             empty index, no allocation / release the table
 *   idx32_find(ix,h,eq,ctx,key)                 id of the record whose key eq() accepts, else IDX32_NONE
 *   idx32_insert(ix,h,id,hash_of,ctx)           add id (no check for an equal key); 0 or -1 (no memory)
 *   idx32_replace(ix,h,old,new)                 the slot holding old now holds new; 0 or -1 if absent
 *   idx32_remove(ix,h,id)                       remove id; 0 or -1 if absent
 *   idx32_bytes(ix)                             table size in bytes (for memory accounting) */
#ifndef TE_BASE_IDX32_H
#define TE_BASE_IDX32_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDX32_NONE UINT32_MAX

typedef struct idx32 {
    uint32_t *slots; /* 0 = empty, 1 = tombstone, id + 2 otherwise */
    uint32_t cap, count, used; /* used counts tombstones too */
} idx32;

typedef bool (*idx32_eq_fn)(const void *ctx, uint32_t id, const void *key);
typedef uint32_t (*idx32_hash_fn)(const void *ctx, uint32_t id);

void idx32_init(idx32 *ix);
void idx32_free(idx32 *ix);
uint32_t idx32_find(const idx32 *ix, uint32_t h, idx32_eq_fn eq, const void *ctx, const void *key);
int idx32_insert(idx32 *ix, uint32_t h, uint32_t id, idx32_hash_fn hash_of, const void *ctx);
int idx32_replace(idx32 *ix, uint32_t h, uint32_t old_id, uint32_t new_id);
int idx32_remove(idx32 *ix, uint32_t h, uint32_t id);
size_t idx32_bytes(const idx32 *ix);
#endif
