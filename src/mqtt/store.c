/* mqtt/store: broker persistence as an append-only, CRC-checked log (see store.h for the contract
 * and the fsync policies). Plain POSIX file I/O, no event loop: the host decides when to flush.
 *
 * Record: u32 length, u32 crc32(payload), payload = u8 type + fields (big-endian integers, strings
 * as u16 length + bytes, blobs as u32 length + bytes). A message body (R_MSG) is written once and
 * referenced by id from deliveries (R_OUT_*) and the retained store (R_RETAIN). */
#include "mqtt/store.h"
#include "base/fileio.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "base/clock.h"
#include "base/log.h"
#include "mqtt/broker_internal.h"

enum { R_SESSION = 1, R_SESSION_DEL, R_MSG, R_OUT_ADD, R_OUT_UPD, R_OUT_DEL, R_RXQ2, R_RETAIN, R_RETAIN_DEL };

struct mqtt_store {
    char *path, *tmp_path;
    int fd;
    int policy;
    uint32_t fsync_ms;
    buf_t pending;          /* records not yet written */
    buf_t rec;              /* record under construction */
    uint64_t size;          /* bytes in the file */
    uint64_t live_size;     /* size right after the last compaction */
    uint64_t last_fsync;
    bool dirty;             /* written since the last fsync */
    uint64_t next_msg_id, next_out_id;
    bool failed;
};

/* ---- encoding ---- */

static void rec_begin(mqtt_store *st, uint8_t type) {
    buf_reset(&st->rec);
    buf_put_u8(&st->rec, type);
}
static void put_u64(buf_t *b, uint64_t v) { buf_put_u32(b, (uint32_t)(v >> 32)); buf_put_u32(b, (uint32_t)v); }
static void put_str(buf_t *b, const void *p, size_t n) { buf_put_u16(b, (uint16_t)n); buf_append(b, p, n); }
static void put_blob(buf_t *b, const void *p, size_t n) { buf_put_u32(b, (uint32_t)n); buf_append(b, p, n); }

static void rec_end_to(mqtt_store *st, buf_t *dst) {
    uint32_t crc = (uint32_t)crc32(0L, st->rec.data, (uInt)st->rec.len);
    buf_put_u32(dst, (uint32_t)st->rec.len);
    buf_put_u32(dst, crc);
    buf_append(dst, st->rec.data, st->rec.len);
}
static void rec_end(mqtt_store *st) { rec_end_to(st, &st->pending); }

static uint64_t wall_of(uint64_t mono_at) {
    if (!mono_at) return 0;
    uint64_t now = te_mono_ms(), wall = te_wall_ms();
    return mono_at > now ? wall + (mono_at - now) : wall - (now - mono_at < wall ? now - mono_at : 0);
}
static uint64_t mono_of(uint64_t wall_at) {
    if (!wall_at) return 0;
    uint64_t now = te_mono_ms(), wall = te_wall_ms();
    if (wall_at >= wall) return now + (wall_at - wall);
    return now > wall - wall_at ? now - (wall - wall_at) : 1;
}

static void write_msg(mqtt_store *st, mqtt_msg *m, buf_t *dst) {
    if (!m->store_id) m->store_id = st->next_msg_id++;
    rec_begin(st, R_MSG);
    put_u64(&st->rec, m->store_id);
    buf_put_u8(&st->rec, m->qos);
    buf_put_u8(&st->rec, m->retain);
    put_u64(&st->rec, wall_of(m->expiry_at));
    buf_put_u32(&st->rec, m->expiry_s);
    put_str(&st->rec, m->topic, m->topic_len);
    put_blob(&st->rec, m->props, m->props_len);
    put_blob(&st->rec, m->payload, m->payload_len);
    rec_end_to(st, dst);
}

static void session_rec(mqtt_store *st, mqtt_session *s, buf_t *dst) {
    rec_begin(st, R_SESSION);
    put_str(&st->rec, s->id, s->id_len);
    buf_put_u32(&st->rec, s->expiry_s);
    put_u64(&st->rec, s->c ? 0 : wall_of(s->offline_since ? s->offline_since : te_mono_ms()));
    buf_put_u32(&st->rec, (uint32_t)s->nsubs);
    for (size_t i = 0; i < s->nsubs; i++) {
        put_str(&st->rec, s->subs[i].filter, strlen(s->subs[i].filter));
        buf_put_u8(&st->rec, s->subs[i].opts);
        buf_put_u32(&st->rec, s->subs[i].subid);
    }
    buf_put_u8(&st->rec, s->username != NULL);
    if (s->username) put_str(&st->rec, s->username, strlen(s->username));
    rec_end_to(st, dst);
}

void mqtt_store_session(mqtt_store *st, mqtt_session *s) {
    if (s->isub) return;
    bool first = !s->stored;
    s->stored = true;
    session_rec(st, s, &st->pending);
    if (first) { /* deliveries queued before the session became persistent */
        for (mqtt_out *o = s->inflight.head; o; o = o->next) { mqtt_store_out_add(st, s, o); mqtt_store_out_update(st, s, o); }
        for (mqtt_out *o = s->queue.head; o; o = o->next) mqtt_store_out_add(st, s, o);
        for (size_t i = 0; i < s->nrx_qos2; i++) mqtt_store_rx_qos2(st, s, s->rx_qos2[i], 1);
    }
}

void mqtt_store_session_del(mqtt_store *st, mqtt_session *s) {
    if (!s->stored) return;
    s->stored = false;
    rec_begin(st, R_SESSION_DEL);
    put_str(&st->rec, s->id, s->id_len);
    rec_end(st);
}

static void out_add_rec(mqtt_store *st, mqtt_session *s, mqtt_out *o, buf_t *dst) {
    rec_begin(st, R_OUT_ADD);
    put_str(&st->rec, s->id, s->id_len);
    put_u64(&st->rec, o->store_id);
    put_u64(&st->rec, o->m->store_id);
    buf_put_u8(&st->rec, o->qos);
    buf_put_u8(&st->rec, o->retain);
    buf_put_u8(&st->rec, o->nsubids);
    for (uint8_t i = 0; i < o->nsubids; i++) buf_put_u32(&st->rec, o->subids[i]);
    rec_end_to(st, dst);
}

static void out_upd_rec(mqtt_store *st, mqtt_session *s, mqtt_out *o, buf_t *dst) {
    rec_begin(st, R_OUT_UPD);
    put_str(&st->rec, s->id, s->id_len);
    put_u64(&st->rec, o->store_id);
    buf_put_u16(&st->rec, o->pid);
    buf_put_u8(&st->rec, o->state);
    rec_end_to(st, dst);
}

static void rxq2_rec(mqtt_store *st, mqtt_session *s, uint16_t pid, int add, buf_t *dst) {
    rec_begin(st, R_RXQ2);
    put_str(&st->rec, s->id, s->id_len);
    buf_put_u16(&st->rec, pid);
    buf_put_u8(&st->rec, (uint8_t)add);
    rec_end_to(st, dst);
}

void mqtt_store_out_add(mqtt_store *st, mqtt_session *s, mqtt_out *o) {
    if (!s->stored) return;
    if (!o->m->store_id) write_msg(st, o->m, &st->pending);
    o->store_id = st->next_out_id++;
    out_add_rec(st, s, o, &st->pending);
}

void mqtt_store_out_update(mqtt_store *st, mqtt_session *s, mqtt_out *o) {
    if (!s->stored || !o->store_id) return;
    out_upd_rec(st, s, o, &st->pending);
}

void mqtt_store_out_del(mqtt_store *st, mqtt_session *s, mqtt_out *o) {
    if (!s->stored || !o->store_id) return;
    rec_begin(st, R_OUT_DEL);
    put_str(&st->rec, s->id, s->id_len);
    put_u64(&st->rec, o->store_id);
    rec_end(st);
}

void mqtt_store_rx_qos2(mqtt_store *st, mqtt_session *s, uint16_t pid, int add) {
    if (s->stored) rxq2_rec(st, s, pid, add, &st->pending);
}

void mqtt_store_retain(mqtt_store *st, mqtt_msg *m) {
    if (!m->store_id) write_msg(st, m, &st->pending);
    rec_begin(st, R_RETAIN);
    put_u64(&st->rec, m->store_id);
    rec_end(st);
}

void mqtt_store_retain_del(mqtt_store *st, const char *topic, size_t tlen) {
    rec_begin(st, R_RETAIN_DEL);
    put_str(&st->rec, topic, tlen);
    rec_end(st);
}

/* ---- file ---- */


mqtt_store *mqtt_store_open(const char *dir, int policy, uint32_t fsync_ms, char *err, size_t errlen) {
    mqtt_store *st = calloc(1, sizeof *st);
    if (!st) { snprintf(err, errlen, "out of memory"); return NULL; }
    size_t n = strlen(dir) + 32;
    st->path = malloc(n);
    st->tmp_path = malloc(n);
    if (!st->path || !st->tmp_path) { free(st->path); free(st->tmp_path); free(st); snprintf(err, errlen, "out of memory"); return NULL; }
    snprintf(st->path, n, "%s/mqtt.db", dir);
    snprintf(st->tmp_path, n, "%s/mqtt.db.tmp", dir);
    mkdir(dir, 0755);
    st->fd = open(st->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (st->fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", st->path, strerror(errno));
        free(st->path); free(st->tmp_path); free(st);
        return NULL;
    }
    st->policy = policy;
    st->fsync_ms = fsync_ms ? fsync_ms : 1000;
    st->next_msg_id = st->next_out_id = 1;
    buf_init(&st->pending);
    buf_init(&st->rec);
    return st;
}

uint64_t mqtt_store_size(const mqtt_store *st) { return st->size + st->pending.len; }

int mqtt_store_flush(mqtt_store *st, uint64_t now) {
    if (st->pending.len) {
        if (te_write_all(st->fd, st->pending.data, st->pending.len)) {
            if (!st->failed) LOG_ERROR("store", "event=write_failed path=%s err=\"%s\"", st->path, strerror(errno));
            st->failed = true;
            return -1;
        }
        st->failed = false;
        st->size += st->pending.len;
        buf_reset(&st->pending);
        st->dirty = true;
        if (st->policy == MQTT_FSYNC_ALWAYS) {
            fdatasync(st->fd);
            st->dirty = false;
            st->last_fsync = now;
        }
    }
    if (st->dirty && st->policy == MQTT_FSYNC_BATCH && now - st->last_fsync >= st->fsync_ms) {
        fdatasync(st->fd);
        st->dirty = false;
        st->last_fsync = now;
    }
    return 0;
}

void mqtt_store_close(mqtt_store *st) {
    if (!st) return;
    mqtt_store_flush(st, te_mono_ms());
    if (st->policy != MQTT_FSYNC_NEVER || st->dirty) fdatasync(st->fd);
    close(st->fd);
    buf_free(&st->pending);
    buf_free(&st->rec);
    free(st->path);
    free(st->tmp_path);
    free(st);
}

/* Rewrite the file from live state: sessions with their deliveries, incoming QoS 2 ids, retained. */
int mqtt_store_compact(mqtt_store *st, mqtt_broker *b) {
    buf_t out;
    buf_init(&out);
    hmap written; /* message pointer -> written */
    hmap_init(&written);
    for (mqtt_session *s = b->all_sessions; s; s = s->next_all) {
        if (!s->stored || s->isub) continue;
        session_rec(st, s, &out);
        for (int pass = 0; pass < 2; pass++) {
            for (mqtt_out *o = pass == 0 ? s->inflight.head : s->queue.head; o; o = o->next) {
                if (!hmap_get(&written, &o->m, sizeof o->m)) {
                    write_msg(st, o->m, &out);
                    hmap_put(&written, &o->m, sizeof o->m, o);
                }
                if (!o->store_id) o->store_id = st->next_out_id++;
                out_add_rec(st, s, o, &out);
                if (pass == 0) out_upd_rec(st, s, o, &out);
            }
        }
        for (size_t i = 0; i < s->nrx_qos2; i++) rxq2_rec(st, s, s->rx_qos2[i], 1, &out);
    }
    size_t it = 0;
    mqtt_msg *m;
    while ((m = hmap_next(&b->retained, &it, NULL, NULL))) {
        if (!strncmp(m->topic, "$SYS/", 5)) continue;
        if (!hmap_get(&written, &m, sizeof m)) write_msg(st, m, &out);
        rec_begin(st, R_RETAIN);
        put_u64(&st->rec, m->store_id);
        rec_end_to(st, &out);
    }
    /* hmap keys point into the outs/messages themselves: they stay valid during this function */
    hmap_free(&written);
    int fd = open(st->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || te_write_all(fd, out.data, out.len) || fdatasync(fd)) {
        LOG_ERROR("store", "event=compact_failed path=%s err=\"%s\"", st->tmp_path, strerror(errno));
        if (fd >= 0) close(fd);
        buf_free(&out);
        return -1;
    }
    close(fd);
    if (rename(st->tmp_path, st->path)) {
        LOG_ERROR("store", "event=compact_failed err=\"%s\"", strerror(errno));
        buf_free(&out);
        return -1;
    }
    close(st->fd);
    st->fd = open(st->path, O_RDWR | O_APPEND | O_CLOEXEC);
    buf_reset(&st->pending); /* everything pending is contained in the snapshot */
    st->size = st->live_size = out.len;
    st->dirty = false;
    buf_free(&out);
    LOG_INFO("store", "event=compacted bytes=%llu", (unsigned long long)st->size);
    return st->fd < 0 ? -1 : 0;
}

int mqtt_store_maybe_compact(mqtt_store *st, mqtt_broker *b, int periodic) {
    uint64_t size = st->size + st->pending.len;
    if (size > 4 * st->live_size + (4u << 20) || (periodic && size > 2 * st->live_size + (64u << 10)))
        return mqtt_store_compact(st, b) == 0;
    return 0;
}

/* ---- loading ---- */

typedef struct rd { const uint8_t *p; size_t n; bool bad; } rd;
static uint8_t g8(rd *r) { if (r->n < 1) { r->bad = true; return 0; } r->n--; return *r->p++; }
static uint16_t g16(rd *r) { uint16_t v = (uint16_t)(g8(r) << 8); return v | g8(r); }
static uint32_t g32(rd *r) { uint32_t v = (uint32_t)g16(r) << 16; return v | g16(r); }
static uint64_t g64(rd *r) { uint64_t v = (uint64_t)g32(r) << 32; return v | g32(r); }
static const uint8_t *gbytes(rd *r, size_t n) {
    if (r->n < n) { r->bad = true; return NULL; }
    const uint8_t *p = r->p;
    r->p += n;
    r->n -= n;
    return p;
}

typedef struct loaded_out { uint64_t id; mqtt_out *o; } loaded_out;

static mqtt_out *find_out(mqtt_session *s, uint64_t id, mqtt_outlist **list) {
    for (mqtt_out *o = s->queue.head; o; o = o->next) if (o->store_id == id) { *list = &s->queue; return o; }
    for (mqtt_out *o = s->inflight.head; o; o = o->next) if (o->store_id == id) { *list = &s->inflight; return o; }
    return NULL;
}

static int apply(mqtt_store *st, mqtt_broker *b, hmap *msgs, rd *r) {
    uint8_t type = g8(r);
    uint16_t idn;
    const uint8_t *id;
    mqtt_session *s = NULL;
    if (type != R_MSG && type != R_RETAIN && type != R_RETAIN_DEL) {
        idn = g16(r);
        id = gbytes(r, idn);
        if (r->bad) return -1;
        s = hmap_get(&b->sessions, id, idn);
        if (!s && type == R_SESSION) {
            s = session_new(b, (const char *)id, idn);
            if (!s) return -1;
            s->persistent = true;
            s->stored = true;
        }
        if (!s) return 0; /* records of a deleted session */
    }
    switch (type) {
    case R_SESSION: {
        s->expiry_s = g32(r);
        uint64_t off = g64(r);
        s->offline_since = off ? mono_of(off) : te_mono_ms();
        session_remove_all_subs(b, s);
        uint32_t n = g32(r);
        for (uint32_t i = 0; i < n && !r->bad; i++) {
            uint16_t fl = g16(r);
            const uint8_t *f = gbytes(r, fl);
            uint8_t opts = g8(r);
            uint32_t subid = g32(r);
            if (r->bad) break;
            char *filter = strndup((const char *)f, fl);
            bool existed;
            if (filter) session_add_sub(b, s, filter, opts, subid, &existed);
            free(filter);
        }
        if (!r->bad && r->n && g8(r)) { /* user name of the last connection (ACL checks) */
            uint16_t ul = g16(r);
            const uint8_t *u = gbytes(r, ul);
            if (u) { free(s->username); s->username = strndup((const char *)u, ul); }
        }
        break;
    }
    case R_SESSION_DEL:
        session_free(b, s);
        break;
    case R_MSG: {
        uint64_t mid = g64(r);
        uint8_t qos = g8(r), retain = g8(r);
        uint64_t exp = g64(r);
        uint32_t exp_s = g32(r);
        uint16_t tl = g16(r);
        const uint8_t *t = gbytes(r, tl);
        uint32_t pl = g32(r);
        const uint8_t *pp = gbytes(r, pl);
        uint32_t len = g32(r);
        const uint8_t *pay = gbytes(r, len);
        if (r->bad) return -1;
        mqtt_msg *m = mqtt_msg_new(t, tl, pp, pl, pay, len, qos & 3, retain, mono_of(exp));
        if (!m) return -1;
        m->store_id = mid;
        m->expiry_s = exp_s;
        if (mid >= st->next_msg_id) st->next_msg_id = mid + 1;
        mqtt_msg *old = hmap_get(msgs, &m->store_id, sizeof m->store_id);
        if (old) { hmap_del(msgs, &old->store_id, sizeof old->store_id); mqtt_msg_unref(old); }
        hmap_put(msgs, &m->store_id, sizeof m->store_id, m);
        break;
    }
    case R_OUT_ADD: {
        uint64_t oid = g64(r), mid = g64(r);
        uint8_t qos = g8(r), retain = g8(r), ns = g8(r);
        uint32_t subids[256];
        for (uint8_t i = 0; i < ns; i++) subids[i] = g32(r);
        if (r->bad) return -1;
        mqtt_msg *m = hmap_get(msgs, &mid, sizeof mid);
        if (!m) return 0;
        mqtt_out *o = out_new(m, qos & 3, retain, subids, ns);
        if (!o) return -1;
        o->store_id = oid;
        if (oid >= st->next_out_id) st->next_out_id = oid + 1;
        outlist_push(&s->queue, o);
        s->queued_bytes += m->payload_len;
        b->st.queued_count++;
        break;
    }
    case R_OUT_UPD: {
        uint64_t oid = g64(r);
        uint16_t pid = g16(r);
        uint8_t state = g8(r);
        if (r->bad) return -1;
        mqtt_outlist *l;
        mqtt_out *o = find_out(s, oid, &l);
        if (!o) return 0;
        o->pid = pid;
        o->state = state;
        if (l == &s->queue) {
            outlist_remove(&s->queue, o);
            s->queued_bytes -= o->m->payload_len;
            b->st.queued_count--;
            outlist_push(&s->inflight, o);
            b->st.inflight_count++;
        }
        break;
    }
    case R_OUT_DEL: {
        uint64_t oid = g64(r);
        if (r->bad) return -1;
        mqtt_outlist *l;
        mqtt_out *o = find_out(s, oid, &l);
        if (!o) return 0;
        outlist_remove(l, o);
        if (l == &s->queue) { b->st.queued_count--; s->queued_bytes -= o->m->payload_len; }
        else b->st.inflight_count--;
        out_free(o);
        break;
    }
    case R_RXQ2: {
        uint16_t pid = g16(r);
        uint8_t add = g8(r);
        if (r->bad) return -1;
        size_t i = 0;
        while (i < s->nrx_qos2 && s->rx_qos2[i] != pid) i++;
        if (add && i == s->nrx_qos2) {
            uint16_t *na = realloc(s->rx_qos2, (s->nrx_qos2 + 1) * sizeof *na);
            if (!na) return -1;
            s->rx_qos2 = na;
            s->caprx_qos2 = s->nrx_qos2 + 1;
            s->rx_qos2[s->nrx_qos2++] = pid;
        } else if (!add && i < s->nrx_qos2) {
            s->rx_qos2[i] = s->rx_qos2[--s->nrx_qos2];
        }
        break;
    }
    case R_RETAIN: {
        uint64_t mid = g64(r);
        if (r->bad) return -1;
        mqtt_msg *m = hmap_get(msgs, &mid, sizeof mid);
        if (!m) return 0;
        mqtt_msg *old = hmap_get(&b->retained, m->topic, m->topic_len);
        hmap_put(&b->retained, m->topic, m->topic_len, mqtt_msg_ref(m));
        mqtt_msg_unref(old);
        break;
    }
    case R_RETAIN_DEL: {
        uint16_t tl = g16(r);
        const uint8_t *t = gbytes(r, tl);
        if (r->bad) return -1;
        mqtt_msg *old = hmap_del(&b->retained, t, tl);
        mqtt_msg_unref(old);
        break;
    }
    default:
        return -1;
    }
    return r->bad ? -1 : 0;
}

int mqtt_store_load(mqtt_store *st, mqtt_broker *b, char *err, size_t errlen) {
    struct stat sb;
    if (fstat(st->fd, &sb)) { snprintf(err, errlen, "stat %s: %s", st->path, strerror(errno)); return -1; }
    size_t n = (size_t)sb.st_size;
    uint8_t *data = n ? malloc(n) : NULL;
    if (n && !data) { snprintf(err, errlen, "out of memory reading %s", st->path); return -1; }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(st->fd, data + got, n - got, (off_t)got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    hmap msgs;
    hmap_init(&msgs);
    size_t off = 0, records = 0;
    while (off + 8 <= got) {
        uint32_t len = (uint32_t)data[off] << 24 | (uint32_t)data[off + 1] << 16 | (uint32_t)data[off + 2] << 8 | data[off + 3];
        uint32_t crc = (uint32_t)data[off + 4] << 24 | (uint32_t)data[off + 5] << 16 | (uint32_t)data[off + 6] << 8 | data[off + 7];
        if (len == 0 || off + 8 + len > got) break;
        if ((uint32_t)crc32(0L, data + off + 8, len) != crc) break;
        rd r = {data + off + 8, len, false};
        if (apply(st, b, &msgs, &r)) {
            LOG_WARN("store", "event=bad_record offset=%zu", off);
            break;
        }
        off += 8 + len;
        records++;
    }
    if (off < got) {
        LOG_WARN("store", "event=torn_tail path=%s offset=%zu cut_bytes=%zu", st->path, off, got - off);
        if (ftruncate(st->fd, (off_t)off)) LOG_ERROR("store", "event=truncate_failed err=\"%s\"", strerror(errno));
    }
    free(data);
    size_t it = 0;
    mqtt_msg *m;
    while ((m = hmap_next(&msgs, &it, NULL, NULL))) mqtt_msg_unref(m);
    hmap_free(&msgs);
    /* sessions restored offline; in-flight deliveries are resent with DUP when their client returns */
    uint64_t sessions = 0;
    for (mqtt_session *s = b->all_sessions; s; s = s->next_all) if (s->stored) sessions++;
    st->size = st->live_size = off;
    lseek(st->fd, (off_t)off, SEEK_SET);
    LOG_INFO("store", "event=loaded path=%s records=%zu sessions=%llu retained=%zu queued=%llu inflight=%llu", st->path,
             records, (unsigned long long)sessions, b->retained.count, (unsigned long long)b->st.queued_count,
             (unsigned long long)b->st.inflight_count);
    /* start from a compact file so the log does not carry history forever */
    return mqtt_store_compact(st, b);
}
