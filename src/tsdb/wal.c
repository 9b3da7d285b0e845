/* tsdb/wal: write-ahead log of the time-series store (see wal.h for the contract, docs/tsdb-wal.md
 * for the format). Plain synchronous POSIX file I/O like mqtt/store.c; the host decides when to
 * flush. Integers on disk are big-endian, as everywhere in tinyedge.
 *
 * Segment header (24 bytes): "TEWL" | u16 version (1) | u16 flags (0) | u64 first LSN |
 *                            u32 reserved (0) | u32 crc32c of bytes 0..19
 * Record: u32 payload length | u32 crc32c(type + payload) | u8 type (1..255) | payload
 * A record's LSN is the segment's first LSN plus its index in the segment. */
#include "tsdb/wal.h"
#include "base/fileio.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "base/buf.h"
#include "base/log.h"

#define WAL_VERSION 1
#define READ_CHUNK (256u << 10)

/* ---- CRC-32C (Castagnoli, reflected 0x82F63B78): slice-by-8, SSE4.2 when the CPU has it ---- */

static uint32_t crc_tab[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
#if defined(__x86_64__)
static bool crc_hw;
#endif

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++) crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xff];
#if defined(__x86_64__)
    __builtin_cpu_init();
    crc_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t crc_sw(uint32_t c, const uint8_t *p, size_t n) {
    while (n && ((uintptr_t)p & 7)) { c = crc_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8); n--; }
    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        lo = __builtin_bswap32(lo);
        hi = __builtin_bswap32(hi);
#endif
        lo ^= c;
        c = crc_tab[7][lo & 0xff] ^ crc_tab[6][(lo >> 8) & 0xff] ^ crc_tab[5][(lo >> 16) & 0xff] ^ crc_tab[4][lo >> 24] ^
            crc_tab[3][hi & 0xff] ^ crc_tab[2][(hi >> 8) & 0xff] ^ crc_tab[1][(hi >> 16) & 0xff] ^ crc_tab[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) c = crc_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_x86(uint32_t c, const uint8_t *p, size_t n) {
    uint64_t c64 = c;
    while (n && ((uintptr_t)p & 7)) { c64 = __builtin_ia32_crc32qi((uint32_t)c64, *p++); n--; }
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = __builtin_ia32_crc32di(c64, v);
        p += 8;
        n -= 8;
    }
    while (n--) c64 = __builtin_ia32_crc32qi((uint32_t)c64, *p++);
    return (uint32_t)c64;
}
#endif

uint32_t tsdb_crc32c(uint32_t crc, const void *p, size_t n) {
    pthread_once(&crc_once, crc_init);
    uint32_t c = ~crc;
#if defined(__x86_64__)
    if (crc_hw) return ~crc_x86(c, p, n);
#endif
    return ~crc_sw(c, p, n);
}

/* ---- small helpers ---- */

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }
static void put32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)(v >> 32)); put32(p + 4, (uint32_t)v); }

static void make_header(uint8_t h[TSDB_WAL_HEADER_SIZE], uint64_t base) {
    memcpy(h, "TEWL", 4);
    h[4] = 0; h[5] = WAL_VERSION; h[6] = 0; h[7] = 0;
    put64(h + 8, base);
    put32(h + 16, 0);
    put32(h + 20, tsdb_crc32c(0, h, 20));
}

/* 0 valid, -1 not a WAL header (or an unknown version) */
static int parse_header(const uint8_t *h, uint64_t *base) {
    if (memcmp(h, "TEWL", 4) || tsdb_crc32c(0, h, 20) != be32(h + 20)) return -1;
    if (h[4] != 0 || h[5] != WAL_VERSION) return -1;
    *base = be64(h + 8);
    return *base == 0 || *base > (UINT64_C(1) << 62) ? -1 : 0; /* LSNs start at 1 and never wrap */
}

static void make_rec_header(uint8_t h[TSDB_WAL_RECORD_OVERHEAD], uint8_t type, const void *p, size_t n) {
    uint32_t crc = tsdb_crc32c(0, &type, 1);
    if (n) crc = tsdb_crc32c(crc, p, n);
    put32(h, (uint32_t)n);
    put32(h + 4, crc);
    h[8] = type;
}


/* ---- reading: a window over a file or a memory image ---- */

typedef struct rdr {
    int fd;                 /* -1: memory image */
    const uint8_t *mem;
    uint64_t size;
    uint8_t *buf;
    size_t cap, blen;
    uint64_t boff;
    int ioerr;              /* errno of a failed read */
} rdr;

/* n bytes at off, or NULL when they are not all in the image (or reading failed: r->ioerr) */
static const uint8_t *rd_at(rdr *r, uint64_t off, size_t n) {
    if (off > r->size || n > r->size - off) return NULL;
    if (r->fd < 0) return r->mem + off;
    if (off >= r->boff && off + n <= r->boff + r->blen) return r->buf + (off - r->boff);
    size_t want = n > READ_CHUNK ? n : READ_CHUNK;
    if (want > r->cap) {
        uint8_t *nb = realloc(r->buf, want);
        if (!nb) { r->ioerr = ENOMEM; return NULL; }
        r->buf = nb;
        r->cap = want;
    }
    if (want > r->size - off) want = (size_t)(r->size - off);
    size_t got = 0;
    while (got < want) {
        ssize_t k = pread(r->fd, r->buf + got, want - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) { r->ioerr = errno; r->blen = 0; return NULL; }
        if (k == 0) break;
        got += (size_t)k;
    }
    r->boff = off;
    r->blen = got;
    if (got < n) { r->ioerr = EIO; return NULL; } /* the file shrank under us */
    return r->buf;
}

/* a complete, checksummed record at off: its payload length, or -1 */
static int64_t rec_valid(rdr *r, uint64_t off) {
    const uint8_t *h = rd_at(r, off, TSDB_WAL_RECORD_OVERHEAD);
    if (!h) return -1;
    uint32_t len = be32(h), crc = be32(h + 4);
    if (len > TSDB_WAL_MAX_RECORD || off + TSDB_WAL_RECORD_OVERHEAD + len > r->size) return -1;
    const uint8_t *body = rd_at(r, off + 8, 1 + (size_t)len);
    if (!body || body[0] == 0 || tsdb_crc32c(0, body, 1 + (size_t)len) != crc) return -1;
    return len;
}

static bool all_zero(rdr *r, uint64_t off) {
    while (off < r->size) {
        size_t n = r->size - off > 65536 ? 65536 : (size_t)(r->size - off);
        const uint8_t *p = rd_at(r, off, n);
        if (!p) return false;
        for (size_t i = 0; i < n; i++) if (p[i]) return false;
        off += n;
    }
    return true;
}

typedef struct deliver {
    tsdb_wal_fn fn;
    void *ud;
    uint64_t after;          /* deliver only LSNs above this (raised as records are delivered) */
    uint64_t delivered, bytes, first, last;
    bool aborted;
} deliver;

/* scan records after the header; deliver valid ones; fill sc (base_lsn already set) */
static void scan_records(rdr *r, tsdb_wal_scan *sc, deliver *d, const char *name) {
    uint64_t off = TSDB_WAL_HEADER_SIZE;
    sc->good_end = off;
    while (off < r->size && !r->ioerr && !(d && d->aborted)) {
        int64_t len = rec_valid(r, off);
        if (r->ioerr) break;
        if (len < 0) {
            const uint8_t *h = rd_at(r, off, TSDB_WAL_RECORD_OVERHEAD);
            uint64_t next = h ? off + TSDB_WAL_RECORD_OVERHEAD + be32(h) : UINT64_MAX;
            if (!h || be32(h) > TSDB_WAL_MAX_RECORD || next >= r->size) {
                /* incomplete or the last thing in the file: a torn write */
                sc->damaged = sc->torn = 1;
                sc->bad_offset = off;
                break;
            }
            if (rec_valid(r, next) >= 0) { /* one bad record between good ones: skip it, keep its LSN */
                if (name)
                    LOG_WARN("tsdb", "event=wal_corrupt_record file=%s offset=%llu lsn=%llu bytes=%llu action=skipped",
                             name, (unsigned long long)off, (unsigned long long)(sc->base_lsn + sc->count),
                             (unsigned long long)(next - off));
                sc->count++;
                sc->corrupt_records++;
                off = next;
                sc->good_end = off;
                continue;
            }
            sc->damaged = 1;
            sc->torn = all_zero(r, off); /* a zero-filled tail is what a lost write-back leaves */
            sc->bad_offset = off;
            break;
        }
        const uint8_t *body = rd_at(r, off + 8, 1 + (size_t)len);
        uint64_t lsn = sc->base_lsn + sc->count;
        sc->count++;
        sc->valid++;
        if (d && lsn > d->after) {
            if (d->fn && d->fn(d->ud, lsn, body[0], body + 1, (size_t)len)) d->aborted = true;
            if (!d->first) d->first = lsn;
            d->last = lsn;
            d->after = lsn;
            d->delivered++;
            d->bytes += (uint64_t)len;
        }
        off += TSDB_WAL_RECORD_OVERHEAD + (uint64_t)len;
        sc->good_end = off;
    }
}

int tsdb_wal_decode_segment(const uint8_t *p, size_t n, tsdb_wal_fn fn, void *ud, tsdb_wal_scan *scan) {
    memset(scan, 0, sizeof *scan);
    if (n < TSDB_WAL_HEADER_SIZE || parse_header(p, &scan->base_lsn)) return -1;
    rdr r = {.fd = -1, .mem = p, .size = n};
    deliver d = {.fn = fn, .ud = ud};
    scan_records(&r, scan, &d, NULL);
    return 0;
}

/* ---- the log ---- */

typedef struct seg {
    uint32_t num;
    uint64_t base;
} seg;

struct tsdb_wal {
    char *dir;
    int dfd;                  /* the directory, for fsync after creating a segment */
    tsdb_wal_conf c;
    seg *segs;                /* sorted by number; the last is the active one */
    size_t nsegs, capsegs;
    uint32_t max_num;         /* highest number seen in the directory (also unusable files) */
    int fd;                   /* active segment */
    uint64_t seg_bytes;       /* bytes written to the active segment */
    uint64_t seg_records;     /* LSNs used in the active segment (pending included) */
    buf_t pending;
    uint64_t next_lsn, written_lsn, synced_lsn;
    uint64_t last_fsync;
    bool dirty, failed, broken;
};

void tsdb_wal_conf_defaults(tsdb_wal_conf *c) {
    c->policy = TSDB_FSYNC_BATCH;
    c->fsync_ms = 1000;
    c->segment_size = 16u << 20;
    c->buffer_cap = 1u << 20;
}

int tsdb_wal_policy_parse(const char *s) {
    if (!s) return -1;
    if (!strcmp(s, "never")) return TSDB_FSYNC_NEVER;
    if (!strcmp(s, "batch")) return TSDB_FSYNC_BATCH;
    if (!strcmp(s, "always")) return TSDB_FSYNC_ALWAYS;
    return -1;
}

static void seg_path(const tsdb_wal *w, uint32_t num, const char *suffix, char *out, size_t n) {
    snprintf(out, n, "%s/%08u.wal%s", w->dir, num, suffix);
}

static int segs_push(tsdb_wal *w, uint32_t num, uint64_t base) {
    if (w->nsegs == w->capsegs) {
        size_t nc = w->capsegs ? 2 * w->capsegs : 8;
        seg *ns = realloc(w->segs, nc * sizeof *ns);
        if (!ns) return -1;
        w->segs = ns;
        w->capsegs = nc;
    }
    w->segs[w->nsegs++] = (seg){num, base};
    if (num > w->max_num) w->max_num = num;
    return 0;
}

static int do_sync(tsdb_wal *w) {
    if (fdatasync(w->fd)) {
        LOG_ERROR("tsdb", "event=wal_fsync_failed dir=%s err=\"%s\" action=read_only_until_reopen", w->dir, strerror(errno));
        w->broken = true;
        return -1;
    }
    w->synced_lsn = w->written_lsn;
    w->dirty = false;
    return 0;
}

/* write() the pending records; on failure cut what was partly written so the file stays clean */
static int write_pending(tsdb_wal *w) {
    if (!w->pending.len) return 0;
    if (te_write_all(w->fd, w->pending.data, w->pending.len)) {
        int e = errno;
        if (!w->failed) LOG_ERROR("tsdb", "event=wal_write_failed dir=%s err=\"%s\"", w->dir, strerror(e));
        w->failed = true;
        if (ftruncate(w->fd, (off_t)w->seg_bytes)) w->broken = true;
        errno = e;
        return -1;
    }
    w->failed = false;
    w->seg_bytes += w->pending.len;
    buf_reset(&w->pending);
    w->written_lsn = w->next_lsn - 1;
    w->dirty = true;
    return 0;
}

/* create segment `num` starting at LSN `base` and make it the active one */
static int create_segment(tsdb_wal *w, uint32_t num, uint64_t base, char *err, size_t errlen) {
    size_t pl = strlen(w->dir) + 32;
    char *tmp = malloc(pl), *fin = malloc(pl);
    int fd = -1;
    if (!tmp || !fin) { snprintf(err, errlen, "out of memory"); goto fail; }
    seg_path(w, num, ".tmp", tmp, pl);
    seg_path(w, num, "", fin, pl);
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    uint8_t h[TSDB_WAL_HEADER_SIZE];
    make_header(h, base);
    if (fd < 0 || te_write_all(fd, h, sizeof h) || (w->c.policy != TSDB_FSYNC_NEVER && fdatasync(fd)) || rename(tmp, fin)) {
        snprintf(err, errlen, "cannot create %s: %s", fin, strerror(errno));
        if (fd >= 0) unlink(tmp);
        goto fail;
    }
    if (w->c.policy != TSDB_FSYNC_NEVER && w->dfd >= 0) fsync(w->dfd);
    if (segs_push(w, num, base)) { snprintf(err, errlen, "out of memory"); goto fail; }
    if (w->fd >= 0) close(w->fd);
    w->fd = fd;
    w->seg_bytes = TSDB_WAL_HEADER_SIZE;
    w->seg_records = 0;
    free(tmp);
    free(fin);
    return 0;
fail:
    if (fd >= 0) close(fd);
    free(tmp);
    free(fin);
    return -1;
}

int tsdb_wal_rotate(tsdb_wal *w) {
    if (w->broken) return -1;
    if (!w->seg_records) return 0;
    if (write_pending(w)) return -1;
    if (w->dirty && w->c.policy != TSDB_FSYNC_NEVER && do_sync(w)) return -1;
    char err[256];
    if (create_segment(w, w->max_num + 1, w->next_lsn, err, sizeof err)) {
        LOG_ERROR("tsdb", "event=wal_rotate_failed err=\"%s\"", err);
        return -1;
    }
    return 0;
}

uint64_t tsdb_wal_append(tsdb_wal *w, uint8_t type, const void *p, size_t n) {
    if (w->broken || type == 0 || n > TSDB_WAL_MAX_RECORD || (n && !p)) return 0;
    uint64_t rec = TSDB_WAL_RECORD_OVERHEAD + (uint64_t)n;
    if (w->seg_records && w->seg_bytes + w->pending.len + rec > w->c.segment_size && tsdb_wal_rotate(w)) return 0;
    if (w->pending.len + rec > w->c.buffer_cap && write_pending(w)) return 0;
    uint8_t h[TSDB_WAL_RECORD_OVERHEAD];
    make_rec_header(h, type, p, n);
    if (rec > w->c.buffer_cap) { /* huge record: straight to the file, no copy */
        struct iovec iov[2] = {{h, sizeof h}, {(void *)p, n}};
        size_t done = 0, total = (size_t)rec;
        while (done < total) {
            struct iovec v[2];
            int cnt = 0;
            size_t skip = done;
            for (int i = 0; i < 2; i++) {
                if (skip >= iov[i].iov_len) { skip -= iov[i].iov_len; continue; }
                v[cnt].iov_base = (uint8_t *)iov[i].iov_base + skip;
                v[cnt].iov_len = iov[i].iov_len - skip;
                skip = 0;
                cnt++;
            }
            ssize_t k = writev(w->fd, v, cnt);
            if (k < 0 && errno == EINTR) continue;
            if (k < 0) {
                if (!w->failed) LOG_ERROR("tsdb", "event=wal_write_failed dir=%s err=\"%s\"", w->dir, strerror(errno));
                w->failed = true;
                if (ftruncate(w->fd, (off_t)w->seg_bytes)) w->broken = true;
                return 0;
            }
            done += (size_t)k;
        }
        w->failed = false;
        w->seg_bytes += rec;
        w->seg_records++;
        w->written_lsn = w->next_lsn;
        w->dirty = true;
        return w->next_lsn++;
    }
    size_t before = w->pending.len;
    if (buf_append(&w->pending, h, sizeof h) || (n && buf_append(&w->pending, p, n))) {
        w->pending.len = before; /* out of memory: nothing appended */
        return 0;
    }
    w->seg_records++;
    return w->next_lsn++;
}

int tsdb_wal_flush(tsdb_wal *w, uint64_t now_ms) {
    if (w->broken) return -1;
    if (write_pending(w)) return -1;
    if (!w->dirty) return 0;
    if (w->c.policy == TSDB_FSYNC_ALWAYS ||
        (w->c.policy == TSDB_FSYNC_BATCH && (now_ms < w->last_fsync || now_ms - w->last_fsync >= w->c.fsync_ms))) {
        if (do_sync(w)) return -1;
        w->last_fsync = now_ms;
    }
    return 0;
}

int tsdb_wal_sync(tsdb_wal *w) {
    if (w->broken || write_pending(w)) return -1;
    return w->dirty ? do_sync(w) : 0;
}

uint64_t tsdb_wal_written_lsn(const tsdb_wal *w) { return w->written_lsn; }
uint64_t tsdb_wal_synced_lsn(const tsdb_wal *w) { return w->synced_lsn; }
uint64_t tsdb_wal_next_lsn(const tsdb_wal *w) { return w->next_lsn; }
size_t tsdb_wal_segments(const tsdb_wal *w) { return w->nsegs; }

int tsdb_wal_checkpoint(tsdb_wal *w, uint64_t lsn) {
    size_t del = 0;
    int rc = 0;
    size_t pl = strlen(w->dir) + 32;
    char *path = malloc(pl);
    if (!path) return -1;
    /* segment i holds LSNs [base_i, base_{i+1} - 1]; the active (last) one always stays */
    while (del + 1 < w->nsegs && w->segs[del + 1].base - 1 <= lsn) {
        seg_path(w, w->segs[del].num, "", path, pl);
        if (unlink(path) && errno != ENOENT) {
            LOG_ERROR("tsdb", "event=wal_checkpoint_failed file=%s err=\"%s\"", path, strerror(errno));
            rc = -1;
            break;
        }
        del++;
    }
    free(path);
    if (del) {
        memmove(w->segs, w->segs + del, (w->nsegs - del) * sizeof *w->segs);
        w->nsegs -= del;
        LOG_DEBUG("tsdb", "event=wal_checkpoint lsn=%llu deleted=%zu", (unsigned long long)lsn, del);
    }
    return rc ? rc : (int)del;
}

/* ---- open / recovery ---- */

typedef struct dirent_seg {
    uint32_t num;
    char name[32];
} dirent_seg;

static int cmp_seg(const void *a, const void *b) {
    uint32_t x = ((const dirent_seg *)a)->num, y = ((const dirent_seg *)b)->num;
    return x < y ? -1 : x > y;
}

/* "<digits>.wal" with 1..10 digits fitting in u32 */
static bool parse_seg_name(const char *s, uint32_t *num) {
    size_t nd = 0;
    uint64_t v = 0;
    while (s[nd] >= '0' && s[nd] <= '9') { v = v * 10 + (uint64_t)(s[nd] - '0'); nd++; if (nd > 10) return false; }
    if (nd == 0 || strcmp(s + nd, ".wal") || v > UINT32_MAX) return false;
    *num = (uint32_t)v;
    return true;
}

static bool has_suffix(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

void tsdb_wal_close(tsdb_wal *w) {
    if (!w) return;
    if (w->fd >= 0) {
        if (!w->broken) {
            write_pending(w);
            if (w->dirty && w->c.policy != TSDB_FSYNC_NEVER) do_sync(w);
        }
        close(w->fd);
    }
    if (w->dfd >= 0) close(w->dfd);
    buf_free(&w->pending);
    free(w->segs);
    free(w->dir);
    free(w);
}

tsdb_wal *tsdb_wal_open(const char *dir, const tsdb_wal_conf *c, uint64_t after_lsn, tsdb_wal_fn fn, void *ud,
                        tsdb_wal_stats *stats, char *err, size_t errlen) {
    tsdb_wal_stats st_local;
    tsdb_wal_stats *st = stats ? stats : &st_local;
    memset(st, 0, sizeof *st);
    tsdb_wal *w = calloc(1, sizeof *w);
    if (!w || !(w->dir = strdup(dir))) { free(w); snprintf(err, errlen, "out of memory"); return NULL; }
    w->fd = -1;
    w->dfd = -1;
    tsdb_wal_conf_defaults(&w->c);
    if (c) {
        w->c.policy = c->policy;
        if (c->fsync_ms) w->c.fsync_ms = c->fsync_ms;
        if (c->segment_size) w->c.segment_size = c->segment_size;
        if (c->buffer_cap) w->c.buffer_cap = c->buffer_cap;
    }
    if (w->c.policy < TSDB_FSYNC_NEVER || w->c.policy > TSDB_FSYNC_ALWAYS) {
        snprintf(err, errlen, "bad fsync policy %d", w->c.policy);
        tsdb_wal_close(w);
        return NULL;
    }
    buf_init(&w->pending);
    if (mkdir(dir, 0755) && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        tsdb_wal_close(w);
        return NULL;
    }
    w->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dh = opendir(dir);
    if (w->dfd < 0 || !dh) {
        snprintf(err, errlen, "cannot open %s: %s", dir, strerror(errno));
        if (dh) closedir(dh);
        tsdb_wal_close(w);
        return NULL;
    }
    /* list the directory */
    dirent_seg *ents = NULL;
    size_t nents = 0, capents = 0;
    size_t pl = strlen(dir) + 300;
    char *path = malloc(pl);
    struct dirent *de;
    int rc = path ? 0 : -1;
    while (rc == 0 && (de = readdir(dh))) {
        const char *nm = de->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, "..")) continue;
        uint32_t num;
        if (parse_seg_name(nm, &num)) {
            if (nents == capents) {
                size_t ncap = capents ? 2 * capents : 16;
                dirent_seg *ne = realloc(ents, ncap * sizeof *ne);
                if (!ne) { rc = -1; break; }
                ents = ne;
                capents = ncap;
            }
            ents[nents].num = num;
            snprintf(ents[nents].name, sizeof ents[nents].name, "%s", nm);
            nents++;
        } else if (has_suffix(nm, ".wal.tmp") && strlen(nm) < 40) {
            snprintf(path, pl, "%s/%s", dir, nm);
            LOG_WARN("tsdb", "event=wal_leftover file=%s action=removed", path);
            unlink(path);
        } else {
            LOG_WARN("tsdb", "event=wal_foreign_file dir=%s file=\"%s\" action=ignored", dir, nm);
            st->ignored_files++;
        }
    }
    closedir(dh);
    if (rc) {
        snprintf(err, errlen, "out of memory");
        free(ents);
        free(path);
        tsdb_wal_close(w);
        return NULL;
    }
    if (nents) qsort(ents, nents, sizeof *ents, cmp_seg);

    /* replay the segments in order */
    deliver d = {.fn = fn, .ud = ud, .after = after_lsn};
    rdr r = {.fd = -1};
    uint64_t expect = 0;           /* first LSN after the previous valid segment */
    int last_fd = -1;              /* the newest valid segment, kept open for appending */
    tsdb_wal_scan last;            /* its scan */
    uint64_t last_size = 0;
    char *last_path = malloc(pl);
    if (!last_path) { rc = -1; snprintf(err, errlen, "out of memory"); }
    else last_path[0] = 0;
    memset(&last, 0, sizeof last);
    for (size_t i = 0; i < nents && rc == 0; i++) {
        snprintf(path, pl, "%s/%s", dir, ents[i].name);
        if (ents[i].num > w->max_num) w->max_num = ents[i].num;
        int fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
        struct stat sb;
        if (fd < 0 || fstat(fd, &sb)) {
            snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
            if (fd >= 0) close(fd);
            rc = -1;
            break;
        }
        if (!S_ISREG(sb.st_mode)) {
            LOG_WARN("tsdb", "event=wal_foreign_file file=%s action=ignored reason=not_a_file", path);
            st->ignored_files++;
            close(fd);
            continue;
        }
        r.fd = fd;
        r.size = (uint64_t)sb.st_size;
        r.blen = 0;
        r.ioerr = 0;
        tsdb_wal_scan sc;
        memset(&sc, 0, sizeof sc);
        const uint8_t *h = rd_at(&r, 0, TSDB_WAL_HEADER_SIZE);
        if (r.ioerr) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(r.ioerr));
            close(fd);
            rc = -1;
            break;
        }
        if (!h) { /* shorter than a header: an interrupted creation, holds no records */
            LOG_WARN("tsdb", "event=wal_empty_segment file=%s bytes=%llu action=removed", path, (unsigned long long)r.size);
            close(fd);
            unlink(path);
            continue;
        }
        if (parse_header(h, &sc.base_lsn)) {
            LOG_WARN("tsdb", "event=wal_bad_header file=%s action=ignored", path);
            st->ignored_files++;
            close(fd);
            continue;
        }
        if (expect && sc.base_lsn < expect)
            LOG_WARN("tsdb", "event=wal_lsn_overlap file=%s first_lsn=%llu expected=%llu action=older_lsns_skipped", path,
                     (unsigned long long)sc.base_lsn, (unsigned long long)expect);
        scan_records(&r, &sc, &d, path);
        if (r.ioerr || d.aborted) {
            if (r.ioerr) snprintf(err, errlen, "cannot read %s: %s", path, strerror(r.ioerr));
            else snprintf(err, errlen, "replay aborted at %s", path);
            close(fd);
            rc = -1;
            break;
        }
        if (segs_push(w, ents[i].num, sc.base_lsn)) {
            snprintf(err, errlen, "out of memory");
            close(fd);
            rc = -1;
            break;
        }
        st->segments++;
        st->records += sc.valid;
        st->corrupt_records += sc.corrupt_records;
        if (last_fd >= 0) { /* the previous segment is an older one: its damage is skipped, not cut */
            close(last_fd);
            if (last.damaged) {
                LOG_WARN("tsdb", "event=wal_%s file=%s offset=%llu bytes=%llu action=rest_of_segment_skipped",
                         last.torn ? "torn_segment" : "corrupt_segment", last_path, (unsigned long long)last.bad_offset,
                         (unsigned long long)(last_size - last.bad_offset));
                st->corrupt_regions++;
            }
        }
        last_fd = fd;
        last = sc;
        last_size = r.size;
        snprintf(last_path, pl, "%s", path);
        uint64_t end = sc.base_lsn + sc.count;
        if (end > expect) expect = end;
    }
    free(r.buf);
    free(ents);
    free(path);
    if (rc) {
        if (last_fd >= 0) close(last_fd);
        free(last_path);
        tsdb_wal_close(w);
        return NULL;
    }
    if (last_fd >= 0) {
        if (last.good_end < last_size) { /* torn tail (or corruption) of the newest segment: cut it */
            uint64_t cut = last_size - last.good_end;
            LOG_WARN("tsdb", "event=wal_%s file=%s offset=%llu cut_bytes=%llu action=truncated",
                     last.torn ? "torn_tail" : "corrupt_tail", last_path, (unsigned long long)last.good_end,
                     (unsigned long long)cut);
            if (last.torn) st->torn_bytes += cut;
            else st->corrupt_regions++;
            if (ftruncate(last_fd, (off_t)last.good_end) || fdatasync(last_fd)) {
                snprintf(err, errlen, "cannot truncate %s: %s", last_path, strerror(errno));
                close(last_fd);
                free(last_path);
                tsdb_wal_close(w);
                return NULL;
            }
        }
        w->fd = last_fd;
        w->seg_bytes = last.good_end;
        w->seg_records = last.count;
    }
    free(last_path);
    st->delivered = d.delivered;
    st->bytes = d.bytes;
    st->first_lsn = d.first;
    st->last_lsn = d.last;
    /* appends continue after everything seen and after what the caller already has elsewhere */
    w->next_lsn = expect ? expect : 1;
    if (w->next_lsn <= after_lsn) w->next_lsn = after_lsn + 1;
    if (w->fd < 0 || w->segs[w->nsegs - 1].base + w->seg_records != w->next_lsn) {
        if (create_segment(w, w->max_num + 1, w->next_lsn, err, errlen)) {
            tsdb_wal_close(w);
            return NULL;
        }
    }
    w->written_lsn = w->synced_lsn = w->next_lsn - 1;
    LOG_INFO("tsdb", "event=wal_open dir=%s segments=%zu records=%llu replayed=%llu next_lsn=%llu", dir, w->nsegs,
             (unsigned long long)st->records, (unsigned long long)st->delivered, (unsigned long long)w->next_lsn);
    return w;
}
