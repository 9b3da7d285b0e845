/* tests/unit/tsdb/test_wal: the time-series write-ahead log (tsdb/wal) on real files in a temporary
 * directory: append/replay round trips over several segments, rotation, checkpoints, torn tails
 * cut at every byte offset of the last record, flipped bits in the last, a middle and an older
 * segment's record, empty/header-only/garbage files, LSN continuity after truncation and after a
 * caller checkpoint, fsync policies, a child process that dies without closing (kill -9 and
 * _exit), the in-memory segment decoder, CRC-32C vectors. Prints append throughput. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "base/log.h"
#include "tsdb/wal.h"

typedef struct fixture {
    char dir[64];
} fixture;

static void rm_dir_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/te_wal_XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    *state = f;
    te_log_set_level(TE_LOG_ERROR); /* the warnings are expected; tests check the stats instead */
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    rm_dir_files(f->dir);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- deterministic records ---- */

static size_t rec_len(uint64_t i) { return 1 + (size_t)((i * 37) % 300); }
static void rec_fill(uint64_t i, uint8_t *p, size_t n) {
    for (size_t k = 0; k < n; k++) p[k] = (uint8_t)(i * 131 + k * 7);
}
static uint8_t rec_type(uint64_t i) { return (uint8_t)(1 + i % 3); }

typedef struct got {
    uint64_t lsn;
    uint8_t type;
    size_t len;
    uint8_t *p;
} got;

typedef struct coll {
    got *r;
    size_t n, cap;
} coll;

static int collect(void *ud, uint64_t lsn, uint8_t type, const uint8_t *p, size_t len) {
    coll *c = ud;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->r = realloc(c->r, c->cap * sizeof *c->r);
    }
    got *g = &c->r[c->n++];
    g->lsn = lsn;
    g->type = type;
    g->len = len;
    g->p = malloc(len ? len : 1);
    memcpy(g->p, p, len);
    return 0;
}

static void coll_free(coll *c) {
    for (size_t i = 0; i < c->n; i++) free(c->r[i].p);
    free(c->r);
    memset(c, 0, sizeof *c);
}

/* record number i (its LSN when nothing was lost) matches the generator */
static void check_rec(const got *g, uint64_t i) {
    assert_int_equal(g->lsn, i);
    assert_int_equal(g->type, rec_type(i));
    size_t n = rec_len(i);
    assert_int_equal(g->len, n);
    uint8_t *exp = malloc(n);
    rec_fill(i, exp, n);
    assert_memory_equal(g->p, exp, n);
    free(exp);
}

static uint64_t append_i(tsdb_wal *w, uint64_t i) {
    size_t n = rec_len(i);
    uint8_t *p = malloc(n);
    rec_fill(i, p, n);
    uint64_t lsn = tsdb_wal_append(w, rec_type(i), p, n);
    free(p);
    return lsn;
}

static tsdb_wal *wopen(fixture *f, const tsdb_wal_conf *c, uint64_t after, coll *out, tsdb_wal_stats *st) {
    char err[256] = "";
    tsdb_wal *w = tsdb_wal_open(f->dir, c, after, out ? collect : NULL, out, st, err, sizeof err);
    if (!w) fail_msg("wal open: %s", err);
    return w;
}

static void small_conf(tsdb_wal_conf *c, uint64_t seg, size_t bufcap) {
    tsdb_wal_conf_defaults(c);
    c->policy = TSDB_FSYNC_NEVER;
    c->segment_size = seg;
    c->buffer_cap = bufcap;
}

static void write_n(fixture *f, const tsdb_wal_conf *c, uint64_t n) {
    tsdb_wal *w = wopen(f, c, 0, NULL, NULL);
    uint64_t first = tsdb_wal_next_lsn(w);
    for (uint64_t i = first; i < first + n; i++) assert_int_equal(append_i(w, i), i);
    assert_int_equal(tsdb_wal_flush(w, 0), 0);
    tsdb_wal_close(w);
}

static int count_files(const char *dir, const char *suffix) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t a = strlen(e->d_name), b = strlen(suffix);
        if (a >= b && !strcmp(e->d_name + a - b, suffix)) n++;
    }
    closedir(d);
    return n;
}

/* path of the highest-numbered segment */
static void last_segment(fixture *f, char *out, size_t n) {
    DIR *d = opendir(f->dir);
    struct dirent *e;
    unsigned best = 0;
    while ((e = readdir(d))) {
        unsigned v;
        char tail[8];
        if (sscanf(e->d_name, "%u.%7s", &v, tail) == 2 && !strcmp(tail, "wal") && v > best) best = v;
    }
    closedir(d);
    snprintf(out, n, "%s/%08u.wal", f->dir, best);
}

static uint8_t *read_file(const char *p, size_t *n) {
    FILE *fp = fopen(p, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc(sz ? (size_t)sz : 1);
    assert_int_equal(fread(b, 1, (size_t)sz, fp), (size_t)sz);
    fclose(fp);
    *n = (size_t)sz;
    return b;
}

static void write_file(const char *p, const uint8_t *b, size_t n) {
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    if (n) assert_int_equal(fwrite(b, 1, n, fp), n);
    fclose(fp);
}

static off_t file_size(const char *p) {
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    return sb.st_size;
}

/* ---- tests ---- */

static void test_crc32c(void **state) {
    (void)state;
    assert_int_equal(tsdb_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(tsdb_crc32c(0, "", 0), 0);
    uint8_t buf[1000];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 7 + 3);
    uint32_t whole = tsdb_crc32c(0, buf, sizeof buf);
    for (size_t cut = 0; cut <= sizeof buf; cut += 13) /* chaining, every alignment */
        assert_int_equal(tsdb_crc32c(tsdb_crc32c(0, buf, cut), buf + cut, sizeof buf - cut), whole);
    /* 32 zero bytes: RFC 3720 test vector */
    uint8_t z[32] = {0};
    assert_int_equal(tsdb_crc32c(0, z, 32), 0x8A9136AAu);
}

static void test_policy_parse_and_bad_args(void **state) {
    fixture *f = *state;
    assert_int_equal(tsdb_wal_policy_parse("never"), TSDB_FSYNC_NEVER);
    assert_int_equal(tsdb_wal_policy_parse("batch"), TSDB_FSYNC_BATCH);
    assert_int_equal(tsdb_wal_policy_parse("always"), TSDB_FSYNC_ALWAYS);
    assert_int_equal(tsdb_wal_policy_parse("sometimes"), -1);
    assert_int_equal(tsdb_wal_policy_parse(NULL), -1);
    tsdb_wal_conf c;
    tsdb_wal_conf_defaults(&c);
    assert_int_equal(c.policy, TSDB_FSYNC_BATCH);
    assert_int_equal(c.segment_size, 16u << 20);
    c.policy = 7;
    char err[256] = "";
    assert_null(tsdb_wal_open(f->dir, &c, 0, NULL, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "policy"));
    /* the directory path is a regular file */
    char p[128];
    snprintf(p, sizeof p, "%s/afile", f->dir);
    write_file(p, (const uint8_t *)"x", 1);
    err[0] = 0;
    assert_null(tsdb_wal_open(p, NULL, 0, NULL, NULL, NULL, err, sizeof err));
    assert_true(err[0] != 0);
    unlink(p);
    tsdb_wal *w = wopen(f, NULL, 0, NULL, NULL);
    assert_int_equal(tsdb_wal_append(w, 0, "x", 1), 0);      /* type 0 is reserved */
    assert_int_equal(tsdb_wal_append(w, 1, NULL, 5), 0);     /* no payload */
    assert_int_equal(tsdb_wal_append(w, 1, NULL, 0), 1);     /* empty payload is fine */
    tsdb_wal_close(w);
}

static void test_roundtrip_segments(void **state) {
    fixture *f = *state;
    tsdb_wal_conf c;
    small_conf(&c, 8192, 1024);
    tsdb_wal *w = wopen(f, &c, 0, NULL, NULL);
    assert_int_equal(tsdb_wal_next_lsn(w), 1);
    for (uint64_t i = 1; i <= 600; i++) {
        assert_int_equal(append_i(w, i), i);
        if (i % 50 == 0) assert_int_equal(tsdb_wal_flush(w, i), 0);
    }
    /* a record bigger than the append buffer goes straight to the file */
    uint8_t big[5000];
    memset(big, 0xAB, sizeof big);
    assert_int_equal(tsdb_wal_append(w, 9, big, sizeof big), 601);
    assert_int_equal(tsdb_wal_append(w, 9, big, 10), 602);
    assert_int_equal(tsdb_wal_flush(w, 1000), 0);
    assert_int_equal(tsdb_wal_written_lsn(w), 602);
    size_t nseg = tsdb_wal_segments(w);
    assert_true(nseg >= 8);
    tsdb_wal_close(w);
    assert_int_equal(count_files(f->dir, ".wal"), (int)nseg);

    coll got_ = {0};
    tsdb_wal_stats st;
    w = wopen(f, &c, 0, &got_, &st);
    assert_int_equal(got_.n, 602);
    for (uint64_t i = 1; i <= 600; i++) check_rec(&got_.r[i - 1], i);
    assert_int_equal(got_.r[600].lsn, 601);
    assert_int_equal(got_.r[600].type, 9);
    assert_int_equal(got_.r[600].len, sizeof big);
    assert_memory_equal(got_.r[600].p, big, sizeof big);
    assert_int_equal(got_.r[601].len, 10);
    assert_int_equal(st.segments, nseg);
    assert_int_equal(st.records, 602);
    assert_int_equal(st.delivered, 602);
    assert_int_equal(st.first_lsn, 1);
    assert_int_equal(st.last_lsn, 602);
    assert_int_equal(st.torn_bytes, 0);
    assert_int_equal(st.corrupt_records + st.corrupt_regions + st.ignored_files, 0);
    assert_int_equal(tsdb_wal_next_lsn(w), 603);
    assert_int_equal(append_i(w, 603), 603);
    tsdb_wal_close(w);
    coll_free(&got_);
    w = wopen(f, &c, 0, &got_, &st);
    assert_int_equal(got_.n, 603);
    check_rec(&got_.r[602], 603);
    tsdb_wal_close(w);
    coll_free(&got_);
}

static void test_rotation(void **state) {
    fixture *f = *state;
    tsdb_wal_conf c;
    small_conf(&c, 1000, 4096);
    write_n(f, &c, 200);
    DIR *d = opendir(f->dir);
    struct dirent *e;
    char p[512];
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
        assert_true(file_size(p) <= 1000); /* no record here is larger than a segment */
        assert_true(file_size(p) >= TSDB_WAL_HEADER_SIZE);
        n++;
    }
    closedir(d);
    assert_true(n > 20);
    /* a record larger than the segment size gets a segment of its own */
    tsdb_wal *w = wopen(f, &c, 0, NULL, NULL);
    size_t before = tsdb_wal_segments(w);
    uint8_t big[3000] = {1};
    assert_int_equal(tsdb_wal_append(w, 1, big, sizeof big), 201);
    assert_int_equal(append_i(w, 202), 202);
    assert_int_equal(tsdb_wal_flush(w, 0), 0);
    assert_int_equal(tsdb_wal_segments(w), before + 2);
    /* explicit rotation; a second one with nothing written is a no-op */
    assert_int_equal(tsdb_wal_rotate(w), 0);
    assert_int_equal(tsdb_wal_rotate(w), 0);
    assert_int_equal(tsdb_wal_segments(w), before + 3);
    tsdb_wal_close(w);
    coll got_ = {0};
    w = wopen(f, &c, 0, &got_, NULL);
    assert_int_equal(got_.n, 202);
    assert_int_equal(got_.r[200].len, sizeof big);
    check_rec(&got_.r[201], 202);
    assert_int_equal(tsdb_wal_next_lsn(w), 203);
    tsdb_wal_close(w);
    coll_free(&got_);
}

static void test_checkpoint(void **state) {
    fixture *f = *state;
    tsdb_wal_conf c;
    small_conf(&c, 2048, 4096);
    tsdb_wal *w = wopen(f, &c, 0, NULL, NULL);
    for (uint64_t i = 1; i <= 300; i++) assert_int_equal(append_i(w, i), i);
    assert_int_equal(tsdb_wal_flush(w, 0), 0);
    size_t nseg = tsdb_wal_segments(w);
    assert_true(nseg > 10);
    assert_int_equal(tsdb_wal_checkpoint(w, 0), 0);
    int del = tsdb_wal_checkpoint(w, 150);
    assert_true(del > 0);
    assert_int_equal(tsdb_wal_segments(w), nseg - (size_t)del);
    assert_int_equal(count_files(f->dir, ".wal"), (int)(nseg - (size_t)del));
    tsdb_wal_close(w);
    /* whatever is left still starts at or before 151 and is contiguous to 300 */
    coll got_ = {0};
    tsdb_wal_stats st;
    w = wopen(f, &c, 0, &got_, &st);
    assert_true(got_.n >= 150 && got_.n < 300);
    uint64_t first = got_.r[0].lsn;
    assert_true(first > 1 && first <= 151);
    for (size_t k = 0; k < got_.n; k++) check_rec(&got_.r[k], first + k);
    coll_free(&got_);
    tsdb_wal_close(w);
    /* replay after the caller's checkpoint: exactly 151..300 */
    w = wopen(f, &c, 150, &got_, &st);
    assert_int_equal(got_.n, 150);
    for (size_t k = 0; k < got_.n; k++) check_rec(&got_.r[k], 151 + k);
    assert_true(st.records > st.delivered);
    /* everything checkpointed: only the active segment stays */
    assert_true(tsdb_wal_checkpoint(w, 300) > 0);
    assert_int_equal(tsdb_wal_segments(w), 1);
    assert_int_equal(append_i(w, 301), 301);
    tsdb_wal_close(w);
    coll_free(&got_);
    w = wopen(f, &c, 300, &got_, NULL);
    assert_int_equal(got_.n, 1);
    check_rec(&got_.r[0], 301);
    tsdb_wal_close(w);
    coll_free(&got_);
}

/* cut the last record at every byte: replay returns exactly the complete records, the file is
 * truncated to them, and appending continues with the next LSN */
static void test_torn_tail_every_offset(void **state) {
    fixture *f = *state;
    tsdb_wal_conf c;
    small_conf(&c, 1 << 20, 4096);
    write_n(f, &c, 5);
    char seg[128];
    last_segment(f, seg, sizeof seg);
    size_t n;
    uint8_t *orig = read_file(seg, &n);
    size_t last_start = n - (TSDB_WAL_RECORD_OVERHEAD + rec_len(5));
    for (size_t cut = last_start; cut < n; cut++) {
        rm_dir_files(f->dir);
        write_file(seg, orig, cut);
        coll got_ = {0};
        tsdb_wal_stats st;
        tsdb_wal *w = wopen(f, &c, 0, &got_, &st);
        assert_int_equal(got_.n, 4);
        for (uint64_t i = 1; i <= 4; i++) check_rec(&got_.r[i - 1], i);
        assert_int_equal(st.torn_bytes, cut - last_start);
        assert_int_equal(st.corrupt_regions, 0);
        assert_int_equal(file_size(seg), (off_t)last_start);
        assert_int_equal(tsdb_wal_next_lsn(w), 5);
        assert_int_equal(append_i(w, 5), 5);
        assert_int_equal(tsdb_wal_flush(w, 0), 0);
        tsdb_wal_close(w);
        coll_free(&got_);
        w = wopen(f, &c, 0, &got_, &st);
        assert_int_equal(got_.n, 5);
        for (uint64_t i = 1; i <= 5; i++) check_rec(&got_.r[i - 1], i);
        assert_int_equal(st.torn_bytes, 0);
        tsdb_wal_close(w);
        coll_free(&got_);
        uint8_t *now = read_file(seg, &n);
        assert_memory_equal(now, orig, n); /* byte for byte what an uninterrupted run writes */
        free(now);
    }
    free(orig);
}

static void flip(const char *path, size_t off, uint8_t mask) {
    size_t n;
    uint8_t *b = read_file(path, &n);
    assert_true(off < n);
    b[off] ^= mask;
    write_file(path, b, n);
    free(b);
}

/* offset of record number k (1-based) in a segment written from LSN base */
static size_t rec_off(uint64_t base, uint64_t k) {
    size_t off = TSDB_WAL_HEADER_SIZE;
    for (uint64_t i = base; i < base + k - 1; i++) off += TSDB_WAL_RECORD_OVERHEAD + rec_len(i);
    return off;
}

static void test_bitflip_last_record(void **state) {
    fixture *f = *state;
    tsdb_wal_conf c;
    small_conf(&c, 1 << 20, 4096);
    write_n(f, &c, 5);
    char seg[128];
    last_segment(f, seg, sizeof seg);
    size_t o5 = rec_off(1, 5);
    flip(seg, o5 + TSDB_WAL_RECORD_OVERHEAD + 3, 0x10); /* payload bit */
    coll got_ = {0};
    tsdb_wal_stats st;
    tsdb_wal *w = wopen(f, &c, 0, &got_, &st);
    assert_int_equal(got_.n, 4);
    assert_int_equal(st.torn_bytes, TSDB_WAL_RECORD_OVERHEAD + rec_len(5));
    assert_int_equal(file_size(seg), (off_t)o5);
    assert_int_equal(append_i(w, 5), 5);
    tsdb_wal_close(w);
    coll_free(&got_);
    /* the type byte and the length field of the last record */
    flip(seg, o5 + 8, 0x01);
    w = wopen(f, &c, 0, &got_, &st);
    assert_int_equal(got_.n, 4);
    tsdb_wal_close(w);
    coll_free(&got_);
    write_n(f, &c, 1);
    flip(seg, o5 + 1, 0x40); /* length now far beyond the end of the file */
    w = wopen(f, &c, 0, &got_, &st);
    assert_int_equal(got_.n, 4);
    assert_int_equal(file_size(seg), (off_t)o5);
    tsdb_wal_close(w);
    coll_free(&got_);
}

static void test_bitflip_middle_record(void **state) {
    fixture *f = *state;
    tsdb_wal_conf c;
    small_conf(&c, 1 << 20, 4096);
    write_n(f, &c, 6);
    char seg[128];
    last_segment(f, seg, sizeof seg);
    off_t size = file_size(seg);
    /* a payload bit of record 3: it alone is skipped, its LSN stays used */
    flip(seg, rec_off(1, 3) + TSDB_WAL_RECORD_OVERHEAD, 0x02);
    coll got_ = {0};
    tsdb_wal_stats st;
    tsdb_wal *w = wopen(f, &c, 0, &got_, &st);
    assert_int_equal(got_.n, 5);
    check_rec(&got_.r[0], 1);
    check_rec(&got_.r[1], 2);
    check_rec(&got_.r[2], 4);
    check_rec(&got_.r[3], 5);
    check_rec(&got_.r[4], 6);
    assert_int_equal(st.corrupt_records, 1);
    assert_int_equal(st.torn_bytes, 0);
    assert_int_equal(file_size(seg), size); /* nothing cut */
    assert_int_equal(tsdb_wal_next_lsn(w), 7);
    tsdb_wal_close(w);
    coll_free(&got_);
    /* the length field of record 3: no way to find record 4; the rest of the newest segment is cut */
    rm_dir_files(f->dir);
    write_n(f, &c, 6);
    flip(seg, rec_off(1, 3) + 3, 0x04);
    w = wopen(f, &c, 0, &got_, &st);
    assert_int_equal(got_.n, 2);
    assert_int_equal(st.corrupt_regions, 1);
    assert_int_equal(file_size(seg), (off_t)rec_off(1, 3));
    assert_int_equal(append_i(w, 3), 3);
    tsdb_wal_close(w);
    coll_free(&got_);
}

/* corruption inside an older segment: the rest of that segment is skipped, the next segments are
 * replayed with their own LSNs, the damaged file is left as it is */
static void test_corrupt_older_segment(void **state) {
    fixture *f = *state;
    tsdb_wal_conf c;
    small_conf(&c, 1024, 4096);
    write_n(f, &c, 40);
    char seg1[128];
    snprintf(seg1, sizeof seg1, "%s/00000001.wal", f->dir);
    off_t size1 = file_size(seg1);
    size_t o2 = rec_off(1, 2);
    flip(seg1, o2 + 2, 0x08); /* length of record 2 */
    coll got_ = {0};
    tsdb_wal_stats st;
    tsdb_wal *w = wopen(f, &c, 0, &got_, &st);
    assert_int_equal(st.corrupt_regions, 1);
    assert_int_equal(st.torn_bytes, 0);
    assert_int_equal(file_size(seg1), size1);
    check_rec(&got_.r[0], 1);
    /* segment 2 starts right after where segment 1 ended when it was written */
    uint64_t next = got_.r[1].lsn;
    assert_true(next > 3);
    for (size_t k = 1; k < got_.n; k++) check_rec(&got_.r[k], next + k - 1);
    assert_int_equal(got_.r[got_.n - 1].lsn, 40);
    assert_int_equal(tsdb_wal_next_lsn(w), 41);
    tsdb_wal_close(w);
    coll_free(&got_);
}

static void test_empty_and_header_only(void **state) {
    fixture *f = *state;
    tsdb_wal_conf c;
    small_conf(&c, 1 << 20, 4096);
    /* an empty directory: one header-only segment */
    tsdb_wal *w = wopen(f, &c, 0, NULL, NULL);
    tsdb_wal_close(w);
    char seg[128];
    snprintf(seg, sizeof seg, "%s/00000001.wal", f->dir);
    assert_int_equal(file_size(seg), TSDB_WAL_HEADER_SIZE);
    coll got_ = {0};
    tsdb_wal_stats st;
    w = wopen(f, &c, 0, &got_, &st);
    assert_int_equal(got_.n, 0);
    assert_int_equal(st.segments, 1);
    assert_int_equal(tsdb_wal_next_lsn(w), 1);
    assert_int_equal(append_i(w, 1), 1);
    assert_int_equal(tsdb_wal_rotate(w), 0); /* segment 2: header only */
    tsdb_wal_close(w);
    /* an empty and a short segment after it: interrupted creations, removed */
    char p[128];
    snprintf(p, sizeof p, "%s/00000003.wal", f->dir);
    write_file(p, NULL, 0);
    snprintf(p, sizeof p, "%s/00000004.wal", f->dir);
    write_file(p, (const uint8_t *)"TEWL\0\1", 6);
    w = wopen(f, &c, 0, &got_, &st);
    assert_int_equal(got_.n, 1);
    check_rec(&got_.r[0], 1);
    assert_int_equal(st.segments, 2);
    assert_int_equal(count_files(f->dir, ".wal"), 2);
    assert_int_equal(append_i(w, 2), 2);
    tsdb_wal_close(w);
    coll_free(&got_);
    w = wopen(f, &c, 0, &got_, &st);
    assert_int_equal(got_.n, 2);
    check_rec(&got_.r[1], 2);
    tsdb_wal_close(w);
    coll_free(&got_);
}

static void test_garbage_files(void **state) {
    fixture *f = *state;
    tsdb_wal_conf c;
    small_conf(&c, 1024, 4096);
    write_n(f, &c, 30);
    char p[128];
    snprintf(p, sizeof p, "%s/notes.txt", f->dir);
    write_file(p, (const uint8_t *)"hello", 5);
    snprintf(p, sizeof p, "%s/0000000x.wal", f->dir);
    write_file(p, (const uint8_t *)"hello", 5);
    snprintf(p, sizeof p, "%s/00000900.wal", f->dir); /* a segment name with garbage inside */
    uint8_t junk[200];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 13);
    write_file(p, junk, sizeof junk);
    snprintf(p, sizeof p, "%s/00000901.wal.tmp", f->dir); /* leftover of an interrupted creation */
    write_file(p, junk, 10);
    snprintf(p, sizeof p, "%s/subdir", f->dir);
    mkdir(p, 0755);
    coll got_ = {0};
    tsdb_wal_stats st;
    tsdb_wal *w = wopen(f, &c, 0, &got_, &st);
    rmdir(p);
    assert_int_equal(got_.n, 30);
    for (uint64_t i = 1; i <= 30; i++) check_rec(&got_.r[i - 1], i);
    assert_int_equal(st.ignored_files, 4);
    assert_int_equal(count_files(f->dir, ".tmp"), 0);
    /* new segments are numbered after the unusable one, which is left alone */
    for (uint64_t i = 31; i <= 60; i++) assert_int_equal(append_i(w, i), i);
    assert_int_equal(tsdb_wal_flush(w, 0), 0);
    snprintf(p, sizeof p, "%s/00000901.wal", f->dir);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/00000900.wal", f->dir);
    assert_int_equal(file_size(p), sizeof junk);
    tsdb_wal_close(w);
    coll_free(&got_);
    w = wopen(f, &c, 0, &got_, &st);
    assert_int_equal(got_.n, 60);
    for (uint64_t i = 1; i <= 60; i++) check_rec(&got_.r[i - 1], i);
    tsdb_wal_close(w);
    coll_free(&got_);
}

/* the caller says it has everything up to 1000 elsewhere (the WAL lost that knowledge): new
 * records must not reuse LSNs at or below it */
static void test_after_lsn_jump(void **state) {
    fixture *f = *state;
    tsdb_wal_conf c;
    small_conf(&c, 1 << 20, 4096);
    write_n(f, &c, 10);
    coll got_ = {0};
    tsdb_wal *w = wopen(f, &c, 1000, &got_, NULL);
    assert_int_equal(got_.n, 0);
    assert_int_equal(tsdb_wal_next_lsn(w), 1001);
    assert_int_equal(tsdb_wal_append(w, 5, "abc", 3), 1001);
    tsdb_wal_close(w);
    w = wopen(f, &c, 0, &got_, NULL);
    assert_int_equal(got_.n, 11);
    check_rec(&got_.r[9], 10);
    assert_int_equal(got_.r[10].lsn, 1001);
    /* the old segment is taken to end where the next begins (1000): kept until that is covered */
    assert_int_equal(tsdb_wal_checkpoint(w, 999), 0);
    assert_int_equal(tsdb_wal_checkpoint(w, 1000), 1);
    assert_int_equal(tsdb_wal_segments(w), 1);
    tsdb_wal_close(w);
    coll_free(&got_);
}

static void test_fsync_policies(void **state) {
    fixture *f = *state;
    tsdb_wal_conf c;
    small_conf(&c, 1 << 20, 4096);
    c.policy = TSDB_FSYNC_ALWAYS;
    tsdb_wal *w = wopen(f, &c, 0, NULL, NULL);
    assert_int_equal(append_i(w, 1), 1);
    assert_int_equal(tsdb_wal_written_lsn(w), 0); /* buffered only */
    assert_int_equal(tsdb_wal_flush(w, 5), 0);
    assert_int_equal(tsdb_wal_written_lsn(w), 1);
    assert_int_equal(tsdb_wal_synced_lsn(w), 1);
    tsdb_wal_close(w);

    c.policy = TSDB_FSYNC_BATCH;
    c.fsync_ms = 1000;
    w = wopen(f, &c, 0, NULL, NULL);
    assert_int_equal(append_i(w, 2), 2);
    assert_int_equal(tsdb_wal_flush(w, 10000), 0); /* first sync is due at once */
    assert_int_equal(tsdb_wal_synced_lsn(w), 2);
    assert_int_equal(append_i(w, 3), 3);
    assert_int_equal(tsdb_wal_flush(w, 10500), 0); /* written, not yet synced */
    assert_int_equal(tsdb_wal_written_lsn(w), 3);
    assert_int_equal(tsdb_wal_synced_lsn(w), 2);
    assert_int_equal(tsdb_wal_flush(w, 11000), 0); /* interval over: synced with no new write */
    assert_int_equal(tsdb_wal_synced_lsn(w), 3);
    assert_int_equal(append_i(w, 4), 4);
    assert_int_equal(tsdb_wal_sync(w), 0);
    assert_int_equal(tsdb_wal_synced_lsn(w), 4);
    tsdb_wal_close(w);

    c.policy = TSDB_FSYNC_NEVER;
    w = wopen(f, &c, 0, NULL, NULL);
    assert_int_equal(append_i(w, 5), 5);
    assert_int_equal(tsdb_wal_flush(w, 99999), 0);
    assert_int_equal(tsdb_wal_written_lsn(w), 5);
    assert_int_equal(tsdb_wal_synced_lsn(w), 4);
    tsdb_wal_close(w);
    coll got_ = {0};
    w = wopen(f, &c, 0, &got_, NULL);
    assert_int_equal(got_.n, 5);
    for (uint64_t i = 1; i <= 5; i++) check_rec(&got_.r[i - 1], i);
    tsdb_wal_close(w);
    coll_free(&got_);
}

/* a child appends and flushes, then dies without closing: everything flushed is there */
static void test_crash_exit_without_close(void **state) {
    fixture *f = *state;
    tsdb_wal_conf c;
    small_conf(&c, 64 << 10, 1 << 20);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[256];
        tsdb_wal *w = tsdb_wal_open(f->dir, &c, 0, NULL, NULL, NULL, err, sizeof err);
        if (!w) _exit(2);
        for (uint64_t i = 1; i <= 1000; i++)
            if (append_i(w, i) != i) _exit(3);
        if (tsdb_wal_flush(w, 0)) _exit(4);
        for (uint64_t i = 1001; i <= 1010; i++) append_i(w, i); /* appended, never flushed */
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    coll got_ = {0};
    tsdb_wal *w = wopen(f, &c, 0, &got_, NULL);
    assert_int_equal(got_.n, 1000); /* the unflushed ones were never acknowledged */
    for (uint64_t i = 1; i <= 1000; i++) check_rec(&got_.r[i - 1], i);
    tsdb_wal_close(w);
    coll_free(&got_);
}

/* kill -9 at a random moment while a child appends, flushes and reports what it acknowledged */
static void test_crash_sigkill(void **state) {
    fixture *f = *state;
    tsdb_wal_conf c;
    small_conf(&c, 32 << 10, 8192);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        char err[256];
        tsdb_wal *w = tsdb_wal_open(f->dir, &c, 0, NULL, NULL, NULL, err, sizeof err);
        if (!w) _exit(2);
        for (uint64_t i = 1;; i++) {
            if (append_i(w, i) != i) _exit(3);
            if (i % 7 == 0) {
                if (tsdb_wal_flush(w, 0)) _exit(4);
                if (write(pfd[1], &i, sizeof i) != sizeof i) _exit(5); /* the acknowledgement */
            }
        }
    }
    close(pfd[1]);
    uint64_t acked = 0, v;
    while (acked < 3000 && read(pfd[0], &v, sizeof v) == sizeof v) acked = v;
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    while (read(pfd[0], &v, sizeof v) == sizeof v) acked = v; /* acknowledged before it died */
    close(pfd[0]);
    coll got_ = {0};
    tsdb_wal *w = wopen(f, &c, 0, &got_, NULL);
    assert_true(got_.n >= acked);
    for (uint64_t i = 1; i <= got_.n; i++) check_rec(&got_.r[i - 1], i);
    assert_int_equal(tsdb_wal_next_lsn(w), got_.n + 1);
    tsdb_wal_close(w);
    coll_free(&got_);
}

static void test_decode_segment_memory(void **state) {
    fixture *f = *state;
    tsdb_wal_conf c;
    small_conf(&c, 1 << 20, 4096);
    write_n(f, &c, 8);
    char seg[128];
    last_segment(f, seg, sizeof seg);
    size_t n;
    uint8_t *img = read_file(seg, &n);
    coll got_ = {0};
    tsdb_wal_scan sc;
    assert_int_equal(tsdb_wal_decode_segment(img, n, collect, &got_, &sc), 0);
    assert_int_equal(sc.base_lsn, 1);
    assert_int_equal(sc.count, 8);
    assert_int_equal(sc.valid, 8);
    assert_int_equal(sc.good_end, n);
    assert_int_equal(sc.damaged, 0);
    for (uint64_t i = 1; i <= 8; i++) check_rec(&got_.r[i - 1], i);
    coll_free(&got_);
    assert_int_equal(tsdb_wal_decode_segment(img, n - 1, NULL, NULL, &sc), 0);
    assert_int_equal(sc.valid, 7);
    assert_true(sc.damaged && sc.torn);
    assert_int_equal(sc.bad_offset, rec_off(1, 8));
    assert_int_equal(tsdb_wal_decode_segment(img, 10, NULL, NULL, &sc), -1);
    img[0] = 'X';
    assert_int_equal(tsdb_wal_decode_segment(img, n, NULL, NULL, &sc), -1);
    img[0] = 'T';
    img[12] ^= 1; /* first LSN changed: header CRC catches it */
    assert_int_equal(tsdb_wal_decode_segment(img, n, NULL, NULL, &sc), -1);
    free(img);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_throughput(void **state) {
    fixture *f = *state;
    tsdb_wal_conf c;
    tsdb_wal_conf_defaults(&c);
    c.policy = TSDB_FSYNC_NEVER;
    tsdb_wal *w = wopen(f, &c, 0, NULL, NULL);
    uint8_t rec[1024];
    for (size_t i = 0; i < sizeof rec; i++) rec[i] = (uint8_t)(i * 3);
    const uint64_t n = 48 * 1024; /* 48 MiB: three segment rotations */
    double t0 = now_s();
    for (uint64_t i = 1; i <= n; i++) {
        rec[0] = (uint8_t)i;
        assert_true(tsdb_wal_append(w, 1, rec, sizeof rec) == i);
        if (i % 1000 == 0) assert_int_equal(tsdb_wal_flush(w, 0), 0); /* like a host loop turn */
    }
    assert_int_equal(tsdb_wal_flush(w, 0), 0);
    double dt = now_s() - t0;
    tsdb_wal_close(w);
    t0 = now_s();
    tsdb_wal_stats st;
    w = wopen(f, &c, 0, NULL, &st);
    double rt = now_s() - t0;
    tsdb_wal_close(w);
    assert_int_equal(st.records, n);
    printf("[ info ] wal append, 1 KiB records, policy never: %.1f MB/s, %.0f records/s (%llu records, %.3f s); "
           "replay scan %.1f MB/s\n",
           (double)n * 1024 / dt / 1e6, (double)n / dt, (unsigned long long)n, dt, (double)n * 1024 / rt / 1e6);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test_setup_teardown(test_policy_parse_and_bad_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bitflip_last_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bitflip_middle_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_older_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_header_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_after_lsn_jump, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_exit_without_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_segment_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_throughput, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
