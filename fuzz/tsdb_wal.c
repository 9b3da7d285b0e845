/* Fuzz target for the time-series WAL's segment/record decoder (tsdb/wal.c). The first byte picks
 * how the rest becomes a segment image: 0 raw bytes (header included), 1 a valid header followed by
 * the raw bytes, 2 a valid header followed by records framed from the input (1 length byte, 1 type
 * byte, body; a length byte >= 0x80 gets a wrong CRC) and the leftover as a tail. The image is
 * decoded in memory, then written as <dir>/00000001.wal and recovered by tsdb_wal_open; both must
 * agree, the file must be cut exactly at the last good record, and an append after recovery must be
 * replayed by the next open. Any disagreement aborts. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "tsdb/wal.h"

typedef struct cnt {
    uint64_t n, last;
} cnt;

static int count_cb(void *ud, uint64_t lsn, uint8_t type, const uint8_t *p, size_t len) {
    cnt *c = ud;
    if (type == 0 || len > TSDB_WAL_MAX_RECORD || (c->n && lsn <= c->last)) abort();
    if (len) { volatile uint8_t x = p[0] ^ p[len - 1]; (void)x; } /* touch the ends: ASan checks bounds */
    c->n++;
    c->last = lsn;
    return 0;
}

static void clean(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[256];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

static void put_be32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }

static void header(buf_t *b) {
    uint8_t h[TSDB_WAL_HEADER_SIZE] = {'T', 'E', 'W', 'L', 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    put_be32(h + 20, tsdb_crc32c(0, h, 20));
    buf_append(b, h, sizeof h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/te-fuzz-wal.%d", (int)getpid());
        te_log_set_level(TE_LOG_NONE);
    }
    if (size < 1) return 0;
    int mode = data[0] % 3;
    data++;
    size--;
    buf_t img;
    buf_init(&img);
    if (mode == 0) {
        buf_append(&img, data, size);
    } else if (mode == 1) {
        header(&img);
        buf_append(&img, data, size);
    } else {
        header(&img);
        size_t off = 0;
        while (off + 2 <= size) {
            size_t n = data[off] & 0x7f;
            int bad = data[off] & 0x80;
            uint8_t type = data[off + 1];
            off += 2;
            if (n > size - off) break;
            uint8_t h[TSDB_WAL_RECORD_OVERHEAD];
            uint32_t crc = tsdb_crc32c(tsdb_crc32c(0, &type, 1), data + off, n);
            put_be32(h, (uint32_t)n);
            put_be32(h + 4, bad ? ~crc : crc);
            h[8] = type;
            buf_append(&img, h, sizeof h);
            buf_append(&img, data + off, n);
            off += n;
        }
        buf_append(&img, data + off, size - off);
    }

    /* in memory */
    cnt mem = {0, 0};
    tsdb_wal_scan sc;
    int hdr_ok = tsdb_wal_decode_segment(img.data, img.len, count_cb, &mem, &sc) == 0;
    if (hdr_ok && (mem.n != sc.valid || sc.good_end > img.len || sc.valid > sc.count ||
                   (sc.damaged && sc.bad_offset != sc.good_end) || (!sc.damaged && sc.good_end != img.len)))
        abort();

    /* on disk */
    mkdir(dir, 0700);
    clean(dir);
    char path[128];
    snprintf(path, sizeof path, "%s/00000001.wal", dir);
    FILE *f = fopen(path, "wb");
    if (!f) goto out;
    if (img.len) fwrite(img.data, 1, img.len, f);
    fclose(f);
    tsdb_wal_conf c;
    tsdb_wal_conf_defaults(&c);
    c.policy = TSDB_FSYNC_NEVER;
    char err[256];
    cnt disk = {0, 0};
    tsdb_wal_stats st;
    tsdb_wal *w = tsdb_wal_open(dir, &c, 0, count_cb, &disk, &st, err, sizeof err);
    if (!w) abort(); /* the log opens whatever the files hold */
    if (hdr_ok) {
        struct stat sb;
        if (disk.n != mem.n || stat(path, &sb) || (uint64_t)sb.st_size != sc.good_end) abort();
    } else if (disk.n) {
        abort();
    }
    uint64_t lsn = tsdb_wal_append(w, 7, "after", 5);
    if (!lsn || tsdb_wal_flush(w, 0)) abort();
    tsdb_wal_close(w);
    cnt again = {0, 0};
    w = tsdb_wal_open(dir, &c, 0, count_cb, &again, NULL, err, sizeof err);
    if (!w || again.n != disk.n + 1 || again.last != lsn) abort();
    tsdb_wal_close(w);
    clean(dir);
out:
    buf_free(&img);
    return 0;
}
