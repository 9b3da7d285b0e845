/* tsdb/series: the in-memory series index of the time-series store, pure C11 (no I/O).
 *
 * Maps a canonical series key ("measurement,k1=v1,k2=v2" with tags sorted by key, escaped like
 * tsdb_lp_point.series_key / InfluxDB's models.MakeKey) to a dense u32 series id and back, and keeps
 * an inverted index per measurement: its series (sorted ids), its tag keys, per tag key its values,
 * per value a postings list (sorted ids). It also holds each measurement's field keys with their type
 * and detects type conflicts the way InfluxDB does. Every string (measurement, tag key, tag value,
 * field key) is stored once in an intern table; postings are sorted u32 arrays (one or two ids live
 * inline). Ids are handed out in increasing order and never reused after a drop, so a dropped id
 * cannot alias a new series in data the engine still holds. See docs/tsdb-series.md.
 *
 * Strings returned by the index point into it: NUL-terminated, valid until the next call that
 * changes the index (create, field add, drop, free). Results the caller owns (id lists, string lists)
 * are released with tsdb_ids_free / tsdb_strs_free. Not thread-safe: the caller serializes access.
 *
 * Contract, one line per function:
 *   tsdb_sidx_new()                         empty index, NULL when out of memory
 *   tsdb_sidx_free(ix)                      release everything (NULL is fine)
 *   tsdb_sidx_lookup(ix,key,len)            id of the series with that canonical key, TSDB_SID_NONE if none
 *   tsdb_sidx_get_or_create(ix,m,ml,tags,n,&id,&created)  series of measurement m with tags (sorted by
 *                                           key, unique, non-empty keys and values); 0 or TSDB_SIDX_E*
 *   tsdb_sidx_create_key(ix,key,len,&id,&created)  same from a canonical key (parsed, must re-escape to
 *                                           exactly the key); 0 or TSDB_SIDX_E*
 *   tsdb_sidx_series_count(ix)              live series; tsdb_sidx_next_id(ix): the id the next new series gets
 *   tsdb_sidx_series_key(ix,id,&len)        key of a live series, NULL if id is not live
 *   tsdb_sidx_series_measurement(ix,id,&len) its measurement (unescaped), NULL if not live
 *   tsdb_sidx_series_ntags(ix,id)           number of its tags (0 if not live)
 *   tsdb_sidx_series_tag(ix,id,i,&k,&kl,&v,&vl)  its i-th tag (sorted by key); 0 or -1
 *   tsdb_sidx_series_tag_value(ix,id,k,kl,&vl)   value of tag k of series id, NULL if it has none
 *   tsdb_sidx_measurement_series(ix,m,ml,&n)     sorted ids of measurement m's series (NULL, n=0 if none)
 *   tsdb_sidx_field_type(ix,m,ml,f,fl)      type (TSDB_LP_FLOAT..BOOL) of field f of m, 0 if unknown
 *   tsdb_sidx_field_check(ix,m,ml,fields,n,err,cap)  0 if every field fits the known types, else
 *                                           TSDB_SIDX_ECONFLICT with InfluxDB's exact message in err
 *   tsdb_sidx_field_add(ix,m,ml,f,fl,type,err,cap)   record field f of m (creates m if needed); 0, or
 *                                           TSDB_SIDX_ECONFLICT (message as above) / ENOMEM / EINVAL
 *   tsdb_sidx_field_type_name(type)         "float", "integer", "unsigned", "string", "boolean"
 *   tsdb_spred_tag(op,k,kl,v,vl,err,cap)    leaf predicate (EQ/NEQ compare v; MATCH/NMATCH compile v as a
 *                                           POSIX extended regex); NULL with a message on a bad regex/OOM
 *   tsdb_spred_const(b)                     constant true/false leaf (for conditions that are not on tags)
 *   tsdb_spred_and(l,r) / tsdb_spred_or(l,r)  combine (takes ownership of l and r, frees them on OOM)
 *   tsdb_spred_free(p)                      release a predicate tree (NULL is fine)
 *   tsdb_spred_eval_series(ix,p,id)         1 if live series id satisfies p (missing tag = value "")
 *   tsdb_sidx_match(ix,m,ml,p,out)          sorted ids of m's series satisfying p (p NULL = all); 0/ENOMEM
 *   tsdb_ids_intersect/union/difference(a,na,b,nb,out)  set ops on sorted unique u32 lists; out needs
 *                                           room for na (intersect, difference) or na+nb (union); count
 *   tsdb_sidx_measurements(ix,re,p,out,err,cap)  sorted measurement names, optionally matching POSIX
 *                                           regex re and having a series satisfying p; 0/EINVAL/ENOMEM
 *   tsdb_sidx_tag_keys(ix,m,ml,p,out)       sorted tag keys of m (of its series satisfying p if p)
 *   tsdb_sidx_tag_values(ix,m,ml,kop,keys,nk,p,out,err,cap)  sorted (key, value) pairs of m for the
 *                                           keys selected by kop (EQ/NEQ/IN: keys; MATCH/NMATCH: keys[0]
 *                                           is a regex), values of series satisfying p if p
 *   tsdb_sidx_series_keys(ix,m,ml,p,out)    sorted series keys of m (m NULL: of all measurements)
 *   tsdb_sidx_field_keys(ix,m,ml,out)       sorted field keys of m, each with its type in .type
 *   tsdb_sidx_drop_series(ix,ids,n)         drop the live series among sorted ids; measurements left
 *                                           without series disappear (with their fields); count dropped
 *   tsdb_sidx_drop_measurement(ix,m,ml)     drop m, all its series and fields; series dropped, -1 if none
 *   tsdb_sidx_memory(ix)                    bytes the index has allocated (requested sizes)
 *   tsdb_sidx_serialize(ix,&buf,&len)       whole index -> malloc'd byte buffer; 0/ENOMEM
 *   tsdb_sidx_deserialize(buf,len,err,cap)  bounds-checked decode into a new index; NULL with a message
 *   tsdb_ids_free(l) / tsdb_strs_free(l)    release a result list's storage (struct left empty)
 */
#ifndef TE_TSDB_SERIES_H
#define TE_TSDB_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "tsdb/lineproto.h"

#define TSDB_SID_NONE UINT32_MAX

#define TSDB_SIDX_ENOMEM (-1)
#define TSDB_SIDX_EINVAL (-2)    /* malformed key / tags / regex */
#define TSDB_SIDX_ECONFLICT (-3) /* field type conflict */
#define TSDB_SIDX_EFULL (-4)     /* 2^32-1 ids handed out */

#define TSDB_SIDX_MAX_TAGS 65535u

typedef struct tsdb_sidx tsdb_sidx;

typedef struct tsdb_ids {
    uint32_t *v;
    size_t n, cap;
} tsdb_ids;

typedef struct tsdb_sidx_str {
    const char *s; /* NUL-terminated, points into the index */
    uint32_t len;
    const char *val; /* tag values: the value (s is the key); NULL otherwise */
    uint32_t vlen;
    int type;        /* field keys: TSDB_LP_FLOAT..TSDB_LP_BOOL; 0 otherwise */
} tsdb_sidx_str;

typedef struct tsdb_strs {
    tsdb_sidx_str *v;
    size_t n, cap;
} tsdb_strs;

typedef enum { TSDB_SP_EQ = 1, TSDB_SP_NEQ, TSDB_SP_MATCH, TSDB_SP_NMATCH, TSDB_SP_IN, TSDB_SP_AND, TSDB_SP_OR,
               TSDB_SP_TRUE, TSDB_SP_FALSE } tsdb_sp_op;

typedef struct tsdb_spred tsdb_spred;

tsdb_sidx *tsdb_sidx_new(void);
void tsdb_sidx_free(tsdb_sidx *ix);
uint32_t tsdb_sidx_lookup(const tsdb_sidx *ix, const char *key, size_t len);
int tsdb_sidx_get_or_create(tsdb_sidx *ix, const char *m, size_t ml, const tsdb_lp_tag *tags, size_t ntags,
                            uint32_t *id, int *created);
int tsdb_sidx_create_key(tsdb_sidx *ix, const char *key, size_t len, uint32_t *id, int *created);
size_t tsdb_sidx_series_count(const tsdb_sidx *ix);
uint32_t tsdb_sidx_next_id(const tsdb_sidx *ix);
const char *tsdb_sidx_series_key(const tsdb_sidx *ix, uint32_t id, size_t *len);
const char *tsdb_sidx_series_measurement(const tsdb_sidx *ix, uint32_t id, size_t *len);
size_t tsdb_sidx_series_ntags(const tsdb_sidx *ix, uint32_t id);
int tsdb_sidx_series_tag(const tsdb_sidx *ix, uint32_t id, size_t i, const char **k, size_t *kl, const char **v,
                         size_t *vl);
const char *tsdb_sidx_series_tag_value(const tsdb_sidx *ix, uint32_t id, const char *k, size_t kl, size_t *vl);
const uint32_t *tsdb_sidx_measurement_series(const tsdb_sidx *ix, const char *m, size_t ml, size_t *n);

int tsdb_sidx_field_type(const tsdb_sidx *ix, const char *m, size_t ml, const char *f, size_t fl);
int tsdb_sidx_field_check(const tsdb_sidx *ix, const char *m, size_t ml, const tsdb_lp_field *fields, size_t n,
                          char *err, size_t cap);
int tsdb_sidx_field_add(tsdb_sidx *ix, const char *m, size_t ml, const char *f, size_t fl, int type, char *err,
                        size_t cap);
const char *tsdb_sidx_field_type_name(int type);

tsdb_spred *tsdb_spred_tag(tsdb_sp_op op, const char *k, size_t kl, const char *v, size_t vl, char *err,
                           size_t cap);
tsdb_spred *tsdb_spred_const(int b);
tsdb_spred *tsdb_spred_and(tsdb_spred *l, tsdb_spred *r);
tsdb_spred *tsdb_spred_or(tsdb_spred *l, tsdb_spred *r);
void tsdb_spred_free(tsdb_spred *p);
int tsdb_spred_eval_series(const tsdb_sidx *ix, const tsdb_spred *p, uint32_t id);
int tsdb_sidx_match(const tsdb_sidx *ix, const char *m, size_t ml, const tsdb_spred *p, tsdb_ids *out);

size_t tsdb_ids_intersect(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, uint32_t *out);
size_t tsdb_ids_union(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, uint32_t *out);
size_t tsdb_ids_difference(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, uint32_t *out);

int tsdb_sidx_measurements(const tsdb_sidx *ix, const char *re, const tsdb_spred *p, tsdb_strs *out, char *err,
                           size_t cap);
int tsdb_sidx_tag_keys(const tsdb_sidx *ix, const char *m, size_t ml, const tsdb_spred *p, tsdb_strs *out);
int tsdb_sidx_tag_values(const tsdb_sidx *ix, const char *m, size_t ml, tsdb_sp_op kop, const char *const *keys,
                         size_t nkeys, const tsdb_spred *p, tsdb_strs *out, char *err, size_t cap);
int tsdb_sidx_series_keys(const tsdb_sidx *ix, const char *m, size_t ml, const tsdb_spred *p, tsdb_strs *out);
int tsdb_sidx_field_keys(const tsdb_sidx *ix, const char *m, size_t ml, tsdb_strs *out);

size_t tsdb_sidx_drop_series(tsdb_sidx *ix, const uint32_t *ids, size_t n);
long tsdb_sidx_drop_measurement(tsdb_sidx *ix, const char *m, size_t ml);
size_t tsdb_sidx_memory(const tsdb_sidx *ix);

int tsdb_sidx_serialize(const tsdb_sidx *ix, uint8_t **buf, size_t *len);
tsdb_sidx *tsdb_sidx_deserialize(const uint8_t *buf, size_t len, char *err, size_t cap);

void tsdb_ids_free(tsdb_ids *l);
void tsdb_strs_free(tsdb_strs *l);

#endif
