/* Unit tests for tsdb/codec: bit-exact round trips of every codec and mode on random and adversarial
 * data (empty, one value, constant, monotonic, int64/uint64 extremes, full-range doubles, -0.0,
 * denormals, infinities, NaN payloads, decimal-scaled sensor walks, irregular and out-of-order
 * timestamps, large n), every truncation and corruption of encoded columns and blocks (an error,
 * never a crash), string zlib choice and size cap, and a measurement printing the bytes/value and
 * throughput of a simulated IoT day (1000 devices x 3 fields x 8640 points; env TE_CODEC_DEVICES
 * overrides the device count). */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tsdb/codec.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}
static int64_t rnd_range(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }

static double bits_to_d(uint64_t u) {
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* every strict prefix must fail; every single-byte corruption must not crash and stay within max */
enum { COL_I64, COL_F64, COL_BOOL };
static void hostile_column(int kind, const uint8_t *enc, size_t len, size_t n) {
    size_t max = n + 8;
    void *out = malloc((max ? max : 1) * 8);
    uint8_t *cp = malloc(len ? len : 1);
    assert_non_null(out);
    assert_non_null(cp);
    for (size_t cut = 0; cut < len; cut++) {
        memcpy(cp, enc, cut);
        ptrdiff_t r = kind == COL_I64   ? te_codec_decode_i64(cp, cut, out, max)
                      : kind == COL_F64 ? te_codec_decode_f64(cp, cut, out, max)
                                        : te_codec_decode_bool(cp, cut, out, max);
        assert_true(r < 0);
    }
    size_t step = len > 400 ? len / 200 : 1;
    for (size_t pos = 0; pos < len; pos += step) {
        for (int f = 0; f < 3; f++) {
            memcpy(cp, enc, len);
            cp[pos] ^= f == 0 ? 0xFF : f == 1 ? 0x01 : 0x80;
            ptrdiff_t r = kind == COL_I64   ? te_codec_decode_i64(cp, len, out, max)
                          : kind == COL_F64 ? te_codec_decode_f64(cp, len, out, max)
                                            : te_codec_decode_bool(cp, len, out, max);
            assert_true(r < 0 || (size_t)r <= max);
        }
    }
    free(out);
    free(cp);
}

/* encode (auto and every forced mode), decode, compare; returns the auto-encoded size */
static size_t rt_i64(const int64_t *v, size_t n, int hostile) {
    size_t cap = te_codec_bound(n);
    uint8_t *buf = malloc(cap + 3 * n); /* forced modes (RLE of random data) may exceed the bound */
    int64_t *back = malloc((n + 1) * 8);
    assert_non_null(buf);
    assert_non_null(back);
    ptrdiff_t len = te_codec_encode_i64(v, n, buf, cap);
    assert_true(len > 0);
    assert_true((size_t)len <= cap);
    assert_int_equal(te_codec_decode_i64(buf, (size_t)len, back, n), (ptrdiff_t)n);
    if (n) assert_memory_equal(back, v, n * 8);
    assert_int_equal(te_codec_count(buf, (size_t)len), (ptrdiff_t)n);
    if (n) assert_int_equal(te_codec_decode_i64(buf, (size_t)len, back, n - 1), TE_CODEC_ETOOMANY);
    /* too small an output buffer: ENOSPC, never an overrun (ASan checks) */
    if (len > 1) {
        uint8_t *tight = malloc((size_t)len - 1);
        assert_int_equal(te_codec_encode_i64(v, n, tight, (size_t)len - 1), TE_CODEC_ENOSPC);
        free(tight);
    }
    for (int mode = TE_CODEC_INT_RAW; mode <= TE_CODEC_INT_LINEAR; mode++) {
        ptrdiff_t l2 = te_codec_encode_i64_as(mode, v, n, buf, cap + 3 * n);
        assert_true(l2 >= len); /* auto picked the smallest */
        assert_int_equal(te_codec_id(buf, (size_t)l2), mode);
        memset(back, 0xA5, (n + 1) * 8);
        assert_int_equal(te_codec_decode_i64(buf, (size_t)l2, back, n), (ptrdiff_t)n);
        if (n) assert_memory_equal(back, v, n * 8);
        if (hostile) hostile_column(COL_I64, buf, (size_t)l2, n);
    }
    /* unsigned view of the same bits */
    len = te_codec_encode_u64((const uint64_t *)(const void *)v, n, buf, cap);
    assert_true(len > 0);
    assert_int_equal(te_codec_decode_u64(buf, (size_t)len, (uint64_t *)(void *)back, n), (ptrdiff_t)n);
    if (n) assert_memory_equal(back, v, n * 8);
    free(buf);
    free(back);
    return (size_t)len;
}

static size_t rt_f64(const double *v, size_t n, int hostile) {
    size_t cap = te_codec_bound(n);
    uint8_t *buf = malloc(cap + 3 * n);
    double *back = malloc((n + 1) * 8);
    assert_non_null(buf);
    assert_non_null(back);
    ptrdiff_t len = te_codec_encode_f64(v, n, buf, cap);
    assert_true(len > 0);
    assert_int_equal(te_codec_decode_f64(buf, (size_t)len, back, n), (ptrdiff_t)n);
    if (n) assert_memory_equal(back, v, n * 8); /* bitwise: -0.0 and NaN payloads too */
    if (hostile) hostile_column(COL_F64, buf, (size_t)len, n);
    static const int codecs[] = {TE_CODEC_F64_RAW, TE_CODEC_F64_GORILLA, TE_CODEC_F64_DECIMAL};
    for (size_t c = 0; c < 3; c++) {
        ptrdiff_t l2 = te_codec_encode_f64_as(codecs[c], v, n, buf, cap + 3 * n);
        if (l2 == TE_CODEC_EINVAL && codecs[c] == TE_CODEC_F64_DECIMAL) continue;
        assert_true(l2 >= len);
        memset(back, 0x5A, (n + 1) * 8);
        assert_int_equal(te_codec_decode_f64(buf, (size_t)l2, back, n), (ptrdiff_t)n);
        if (n) assert_memory_equal(back, v, n * 8);
        if (hostile) hostile_column(COL_F64, buf, (size_t)l2, n);
    }
    free(buf);
    free(back);
    return (size_t)len;
}

static void test_int_edge(void **state) {
    (void)state;
    int64_t v[300] = {0};
    rt_i64(v, 0, 1);
    v[0] = 42;
    rt_i64(v, 1, 1);
    v[0] = INT64_MIN;
    rt_i64(v, 1, 1);
    for (int i = 0; i < 300; i++) v[i] = 7;
    size_t csz = rt_i64(v, 300, 1);
    assert_true(csz <= 6); /* constant: one RLE run */
    for (int i = 0; i < 300; i++) v[i] = i % 2 ? INT64_MAX : INT64_MIN;
    rt_i64(v, 300, 1);
    for (int i = 0; i < 300; i++) v[i] = (i % 3 == 0) ? INT64_MIN : (i % 3 == 1) ? INT64_MAX : 0;
    rt_i64(v, 300, 1);
    for (int i = 0; i < 300; i++) v[i] = 1000 + 3 * i;
    size_t msz = rt_i64(v, 300, 1);
    assert_true(msz <= 10); /* monotonic with a constant step */
    for (int i = 0; i < 300; i++) v[i] = (int64_t)rnd();
    rt_i64(v, 300, 1);
    for (int i = 0; i < 300; i++) v[i] = rnd_range(-3, 3);
    size_t ssz = rt_i64(v, 300, 1);
    assert_true(ssz < 300); /* 3 bits a value */
    for (int i = 0; i < 300; i++) v[i] = i == 150 ? INT64_MAX : i;
    rt_i64(v, 300, 1);
    for (int i = 0; i < 300; i++) v[i] = 1000000 * (int64_t)rnd_range(0, 50); /* gcd */
    rt_i64(v, 300, 0);
}

static void test_uint_extremes(void **state) {
    (void)state;
    uint64_t v[200], back[200];
    uint8_t buf[4096];
    for (int i = 0; i < 200; i++) v[i] = i % 2 ? UINT64_MAX : (uint64_t)i;
    ptrdiff_t len = te_codec_encode_u64(v, 200, buf, sizeof buf);
    assert_true(len > 0);
    assert_int_equal(te_codec_decode_u64(buf, (size_t)len, back, 200), 200);
    assert_memory_equal(back, v, sizeof v);
    for (int i = 0; i < 200; i++) v[i] = UINT64_MAX - (uint64_t)i;
    len = te_codec_encode_u64(v, 200, buf, sizeof buf);
    assert_true(len > 0 && len < 20);
    assert_int_equal(te_codec_decode_u64(buf, (size_t)len, back, 200), 200);
    assert_memory_equal(back, v, sizeof v);
}

static void test_timestamps(void **state) {
    (void)state;
    enum { N = 8640 };
    int64_t *t = malloc(N * 8), *back = malloc(N * 8);
    uint8_t *buf = malloc(te_codec_bound(N));
    int64_t t0 = 1764000000000000000ll;
    for (int i = 0; i < N; i++) t[i] = t0 + (int64_t)i * 10000000000ll;
    ptrdiff_t len = te_codec_encode_ts(t, N, buf, te_codec_bound(N));
    assert_true(len > 0 && len <= 24); /* constant interval: a single delta run */
    assert_int_equal(te_codec_id(buf, (size_t)len), TE_CODEC_INT_DELTA_RLE);
    assert_int_equal(te_codec_decode_ts(buf, (size_t)len, back, N), N);
    assert_memory_equal(back, t, N * 8);
    /* ms jitter: gcd scaling keeps it a few bits per value */
    for (int i = 0; i < N; i++) t[i] = t0 + (int64_t)i * 10000000000ll + rnd_range(-100, 100) * 1000000ll;
    len = te_codec_encode_ts(t, N, buf, te_codec_bound(N));
    assert_true(len > 0 && (size_t)len < N * 2);
    assert_int_equal(te_codec_id(buf, (size_t)len), TE_CODEC_INT_LINEAR); /* residuals from the 10 s line */
    assert_true((size_t)len < N * 9 / 8 + 200);                             /* ~8 bits for +-100 ms */
    assert_int_equal(te_codec_decode_ts(buf, (size_t)len, back, N), N);
    assert_memory_equal(back, t, N * 8);
    /* irregular, out of order, duplicates, huge range */
    for (int i = 0; i < 2000; i++) t[i] = (int64_t)rnd();
    t[5] = INT64_MIN;
    t[6] = INT64_MAX;
    t[7] = INT64_MIN;
    t[8] = t[9];
    rt_i64(t, 2000, 0);
    for (int i = 0; i < 400; i++) t[i] = t0 + (int64_t)i * 1000 + (i % 7 == 0 ? 100000000000ll : 0);
    rt_i64(t, 400, 1);
    for (int i = 0; i < 400; i++) t[i] = t0 - (int64_t)i * 1000000;
    rt_i64(t, 400, 0);
    free(t);
    free(back);
    free(buf);
}

static void test_float_decimal(void **state) {
    (void)state;
    enum { N = 1000 };
    double v[N];
    int64_t k = 2137;
    for (int i = 0; i < N; i++) {
        k += rnd_range(-3, 3);
        v[i] = (double)k / 100.0;
    }
    uint8_t buf[16000];
    ptrdiff_t len = te_codec_encode_f64(v, N, buf, sizeof buf);
    assert_true(len > 0);
    assert_int_equal(te_codec_id(buf, (size_t)len), TE_CODEC_F64_DECIMAL);
    assert_int_equal(buf[2 + 1], 2); /* codec, n (2 bytes for 1000), digits */
    assert_true(len < N / 2);        /* < 4 bits a value */
    rt_f64(v, N, 0);
    rt_f64(v, 60, 1);
    /* strtod-produced values */
    const char *txt[] = {"21.37", "-0.5", "0.001", "123456.789012", "3", "-17.25", "0.1", "0.2", "0.3"};
    double w[9];
    for (int i = 0; i < 9; i++) w[i] = strtod(txt[i], NULL);
    len = te_codec_encode_f64(w, 9, buf, sizeof buf);
    rt_f64(w, 9, 1);
    assert_int_equal(te_codec_encode_f64_as(TE_CODEC_F64_DECIMAL, w, 9, buf, sizeof buf) > 0, 1);
    /* 7 decimals: not decimal-scaled */
    w[0] = 0.1234567;
    assert_int_equal(te_codec_encode_f64_as(TE_CODEC_F64_DECIMAL, w, 9, buf, sizeof buf), TE_CODEC_EINVAL);
    rt_f64(w, 9, 1);
    /* -0.0 is not 0/10^d: must not be turned into +0.0 */
    double z[4] = {1.5, -0.0, 0.0, 2.5};
    assert_int_equal(te_codec_encode_f64_as(TE_CODEC_F64_DECIMAL, z, 4, buf, sizeof buf), TE_CODEC_EINVAL);
    rt_f64(z, 4, 1);
    /* integers beyond 2^53 are not decimal-scaled */
    double big[2] = {9007199254740992.0, 1.0};
    assert_int_equal(te_codec_encode_f64_as(TE_CODEC_F64_DECIMAL, big, 2, buf, sizeof buf), TE_CODEC_EINVAL);
    rt_f64(big, 2, 1);
}

static void test_float_adversarial(void **state) {
    (void)state;
    enum { N = 500 };
    double v[N] = {0};
    rt_f64(v, 0, 1);
    v[0] = 3.14;
    rt_f64(v, 1, 1);
    for (int i = 0; i < N; i++) v[i] = bits_to_d(rnd()); /* full range incl. NaN payloads, inf */
    v[3] = -0.0;
    v[4] = 0.0;
    v[5] = bits_to_d(1);                     /* smallest denormal */
    v[6] = bits_to_d(0x000FFFFFFFFFFFFFull); /* largest denormal */
    v[7] = INFINITY;
    v[8] = -INFINITY;
    v[9] = bits_to_d(0x7FF0000000000001ull); /* signalling NaN payload */
    v[10] = bits_to_d(0xFFF8DEADBEEF0000ull);
    v[11] = v[10];
    v[12] = DBL_MAX;
    size_t sz = rt_f64(v, N, 0);
    assert_true(sz <= 8 * N + 11); /* raw fallback bounds random data */
    rt_f64(v, 40, 1);
    for (int i = 0; i < N; i++) v[i] = -0.0;
    sz = rt_f64(v, N, 1);
    assert_true(sz < 80); /* gorilla: one bit per repeat */
    for (int i = 0; i < N; i++) v[i] = sin(i * 0.01) * 1000.0; /* smooth but not decimal */
    sz = rt_f64(v, N, 0);
    rt_f64(v, 50, 1);
    for (int i = 0; i < N; i++) v[i] = bits_to_d((uint64_t)rnd_range(1, 1000)); /* denormals */
    rt_f64(v, N, 0);
    for (int i = 0; i < N; i++) v[i] = (double)i; /* integers: decimal with d = 0 */
    sz = rt_f64(v, N, 0);
    assert_true(sz < 20);
}

static void test_float_large_n(void **state) {
    (void)state;
    size_t n = 1000000;
    double *v = malloc(n * 8);
    int64_t *t = malloc(n * 8);
    assert_non_null(v);
    assert_non_null(t);
    int64_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k += rnd_range(-20, 20);
        v[i] = (double)k / 1000.0;
        t[i] = (int64_t)i * 1000000000ll + rnd_range(0, 999);
    }
    rt_f64(v, n, 0);
    rt_i64(t, n, 0);
    free(v);
    free(t);
}

static void test_bool(void **state) {
    (void)state;
    enum { N = 1000 };
    uint8_t v[N], back[N], buf[512];
    for (int mode = 0; mode < 4; mode++) {
        for (int i = 0; i < N; i++)
            v[i] = mode == 0 ? 1 : mode == 1 ? (uint8_t)(rnd() & 1) : mode == 2 ? (uint8_t)(i % 2) : (i / 300) % 2;
        ptrdiff_t len = te_codec_encode_bool(v, N, buf, sizeof buf);
        assert_true(len > 0);
        assert_true(len <= 1 + 2 + N / 8);
        if (mode == 0 || mode == 3) {
            assert_int_equal(te_codec_id(buf, (size_t)len), TE_CODEC_BOOL_RLE);
            assert_true(len < 12);
        }
        assert_int_equal(te_codec_decode_bool(buf, (size_t)len, back, N), N);
        assert_memory_equal(back, v, N);
        hostile_column(COL_BOOL, buf, (size_t)len, N);
    }
    /* any non-zero byte is true */
    uint8_t odd[3] = {0, 7, 255};
    ptrdiff_t len = te_codec_encode_bool(odd, 3, buf, sizeof buf);
    assert_int_equal(te_codec_decode_bool(buf, (size_t)len, back, 3), 3);
    assert_int_equal(back[0], 0);
    assert_int_equal(back[1], 1);
    assert_int_equal(back[2], 1);
    assert_int_equal(te_codec_encode_bool(odd, 0, buf, sizeof buf), 2);
    assert_int_equal(te_codec_decode_bool(buf, 2, back, 0), 0);
    assert_int_equal(te_codec_decode_bool(buf, 2, back, 0), 0);
    /* a float decoder refuses a bool column */
    double d[4];
    assert_int_equal(te_codec_decode_f64(buf, 2, d, 4), TE_CODEC_ETYPE);
}

static void str_rt(const char *const *s, const size_t *lens, size_t n, int expect_codec) {
    size_t cap = te_codec_str_bound(lens, n);
    uint8_t *buf = malloc(cap);
    ptrdiff_t len = te_codec_encode_str(s, lens, n, buf, cap);
    assert_true(len > 0 && (size_t)len <= cap);
    if (expect_codec) assert_int_equal(te_codec_id(buf, (size_t)len), expect_codec);
    ptrdiff_t need = te_codec_str_arena_need(buf, (size_t)len);
    assert_true(need >= 0);
    char *arena = malloc((size_t)need + 1);
    size_t *offs = malloc((n + 1) * sizeof *offs), *lb = malloc((n + 1) * sizeof *lb);
    assert_int_equal(te_codec_decode_str(buf, (size_t)len, offs, lb, n, arena, (size_t)need), (ptrdiff_t)n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(lb[i], lens[i]);
        if (lens[i]) assert_memory_equal(arena + offs[i], s[i], lens[i]);
    }
    if (need > 0)
        assert_int_equal(te_codec_decode_str(buf, (size_t)len, offs, lb, n, arena, (size_t)need - 1),
                         TE_CODEC_ENOSPC);
    /* truncations and corruptions */
    uint8_t *cp = malloc((size_t)len);
    for (size_t cut = 0; cut < (size_t)len; cut++) {
        memcpy(cp, buf, cut);
        assert_true(te_codec_decode_str(cp, cut, offs, lb, n, arena, (size_t)need) < 0);
    }
    for (size_t pos = 0; pos < (size_t)len; pos++) {
        memcpy(cp, buf, (size_t)len);
        cp[pos] ^= 0x5A;
        ptrdiff_t r = te_codec_decode_str(cp, (size_t)len, offs, lb, n, arena, (size_t)need);
        assert_true(r < 0 || (size_t)r <= n);
        if (r >= 0)
            for (ptrdiff_t i = 0; i < r; i++) assert_true(offs[i] + lb[i] <= (size_t)need);
    }
    free(cp);
    free(buf);
    free(arena);
    free(offs);
    free(lb);
}

static void test_strings(void **state) {
    (void)state;
    str_rt(NULL, NULL, 0, TE_CODEC_STR_PLAIN);
    const char *a[] = {"", "x", "", "hello world"};
    size_t al[] = {0, 1, 0, 11};
    str_rt(a, al, 4, TE_CODEC_STR_PLAIN);
    enum { N = 200 };
    const char *s[N];
    size_t l[N];
    static char bin[N][16];
    for (int i = 0; i < N; i++) {
        s[i] = i % 2 ? "status=ok;fw=1.2.3" : "status=ok;fw=1.2.4";
        l[i] = strlen(s[i]);
    }
    str_rt(s, l, N, TE_CODEC_STR_ZLIB); /* repetitive: zlib wins */
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < 16; j++) bin[i][j] = (char)rnd();
        s[i] = bin[i];
        l[i] = 16;
    }
    str_rt(s, l, N, 0); /* random bytes (the repeated lengths may still deflate) */
    static char one[300];
    for (int j = 0; j < 300; j++) one[j] = (char)rnd();
    s[0] = one;
    l[0] = sizeof one;
    str_rt(s, l, 1, TE_CODEC_STR_PLAIN); /* incompressible: plain */
    /* size cap */
    size_t huge = (size_t)TE_CODEC_STR_MAX_TOTAL + 1;
    const char *hs[1] = {"x"};
    uint8_t buf[64];
    assert_int_equal(te_codec_encode_str(hs, &huge, 1, buf, sizeof buf), TE_CODEC_EINVAL);
    assert_int_equal(te_codec_str_bound(&huge, 1), SIZE_MAX);
    /* short output */
    for (int i = 0; i < N; i++) l[i] = 16;
    assert_int_equal(te_codec_encode_str(s, l, N, buf, sizeof buf), TE_CODEC_ENOSPC);
}

static void test_blocks(void **state) {
    (void)state;
    enum { N = 300 };
    int64_t ts[N], tb[N];
    double f[N], fb[N];
    int64_t iv[N], ib[N];
    uint8_t bv[N], bb[N];
    for (int i = 0; i < N; i++) {
        ts[i] = 1700000000000000000ll + i * 10000000000ll;
        f[i] = (double)(2000 + i % 7) / 100.0;
        iv[i] = i * i;
        bv[i] = i % 5 == 0;
    }
    size_t cap = 2 * te_codec_bound(N) + 64;
    uint8_t *buf = malloc(cap), *cp = malloc(cap);
    for (unsigned flags = 0; flags <= TE_BLOCK_FLAG_CRC; flags++) {
        for (int type = TE_BLOCK_F64; type <= TE_BLOCK_BOOL; type++) {
            const void *vals = type == TE_BLOCK_F64 ? (const void *)f : type == TE_BLOCK_BOOL ? (const void *)bv : iv;
            void *back = type == TE_BLOCK_F64 ? (void *)fb : type == TE_BLOCK_BOOL ? (void *)bb : ib;
            ptrdiff_t len = te_block_encode(type, ts, vals, N, flags, buf, cap);
            assert_true(len > 0);
            te_block_info bi;
            assert_int_equal(te_block_parse(buf, (size_t)len, &bi), 0);
            assert_int_equal(bi.type, type);
            assert_int_equal(bi.n, N);
            assert_int_equal(te_block_decode(buf, (size_t)len, tb, back, N), N);
            assert_memory_equal(tb, ts, sizeof ts);
            assert_memory_equal(back, vals, type == TE_BLOCK_BOOL ? N : N * 8);
            assert_int_equal(te_block_decode(buf, (size_t)len, tb, back, N - 1), TE_CODEC_ETOOMANY);
            for (size_t cut = 0; cut < (size_t)len; cut++)
                assert_true(te_block_decode(buf, cut, tb, back, N) < 0);
            for (size_t pos = 0; pos < (size_t)len; pos++) {
                memcpy(cp, buf, (size_t)len);
                cp[pos] ^= 0x21;
                ptrdiff_t r = te_block_decode(cp, (size_t)len, tb, back, N);
                if (flags & TE_BLOCK_FLAG_CRC) assert_true(r < 0); /* CRC catches any 1-byte error */
                else assert_true(r < 0 || r <= N);
            }
            assert_int_equal(te_block_encode(type, ts, vals, N, flags, buf, 20), TE_CODEC_ENOSPC);
        }
        /* strings */
        const char *s[N];
        size_t l[N];
        for (int i = 0; i < N; i++) {
            s[i] = i % 3 ? "on" : "off";
            l[i] = strlen(s[i]);
        }
        te_codec_strs ss = {s, l};
        ptrdiff_t len = te_block_encode(TE_BLOCK_STR, ts, &ss, N, flags, buf, cap);
        assert_true(len > 0);
        char arena[4096];
        size_t offs[N], lb[N];
        assert_int_equal(te_block_decode_str(buf, (size_t)len, tb, offs, lb, N, arena, sizeof arena), N);
        for (int i = 0; i < N; i++) {
            assert_int_equal(lb[i], l[i]);
            assert_memory_equal(arena + offs[i], s[i], l[i]);
        }
        assert_int_equal(te_block_decode(buf, (size_t)len, tb, fb, N), TE_CODEC_ETYPE);
        for (size_t cut = 0; cut < (size_t)len; cut++)
            assert_true(te_block_decode_str(buf, cut, tb, offs, lb, N, arena, sizeof arena) < 0);
    }
    assert_int_equal(te_block_encode(9, ts, f, N, 0, buf, cap), TE_CODEC_EINVAL);
    free(buf);
    free(cp);
}

/* ---- the IoT day: 1000 devices x (temperature, humidity, battery) every 10 s ---- */
typedef struct {
    size_t bytes, values;
    size_t ts_bytes; /* bytes of the timestamp columns (with their length prefix) */
    double enc_s, dec_s;
    size_t codec_count[256];
} iot_stats;

static void iot_block(iot_stats *st, const int64_t *ts, const double *v, size_t n, uint8_t *buf, size_t cap,
                      int64_t *tb, double *vb) {
    double t0 = now_s();
    ptrdiff_t len = te_block_encode(TE_BLOCK_F64, ts, v, n, 0, buf, cap);
    double t1 = now_s();
    assert_true(len > 0);
    assert_int_equal(te_block_decode(buf, (size_t)len, tb, vb, n), (ptrdiff_t)n);
    double t2 = now_s();
    assert_memory_equal(tb, ts, n * 8);
    assert_memory_equal(vb, v, n * 8);
    te_block_info bi;
    assert_int_equal(te_block_parse(buf, (size_t)len, &bi), 0);
    st->codec_count[bi.val[0]]++;
    st->ts_bytes += bi.ts_len + (bi.ts_len < 128 ? 1 : bi.ts_len < 16384 ? 2 : 3);
    st->bytes += (size_t)len;
    st->values += n;
    st->enc_s += t1 - t0;
    st->dec_s += t2 - t1;
}

static void test_iot_day(void **state) {
    (void)state;
    enum { PTS = 8640 };
    /* the headline figure (no jitter, day blocks) on the full fleet; the variants on 100 devices
     * (per-device figures do not depend on the fleet size) to keep the sanitizer run short */
    int full = 1000, part = 100;
    const char *env = getenv("TE_CODEC_DEVICES");
    if (env && atoi(env) > 0) full = part = atoi(env);
    int64_t *ts = malloc(PTS * 8), *tb = malloc(PTS * 8);
    double *fld[3], *vb = malloc(PTS * 8);
    for (int f = 0; f < 3; f++) fld[f] = malloc(PTS * 8);
    size_t cap = 2 * te_codec_bound(PTS) + 64;
    uint8_t *buf = malloc(cap);
    static const char *jname[3] = {"no jitter", "jitter +-100 ms (ms precision)", "jitter +-100 ms (ns precision)"};
    static const char *fname[3] = {"temperature", "humidity", "battery"};
    for (int jit = 0; jit < 3; jit++) {
        for (int bs = 0; bs < 2; bs++) {
            size_t block = bs == 0 ? PTS : 1000;
            int devices = jit == 0 && bs == 0 ? full : part;
            iot_stats all, per[3];
            memset(&all, 0, sizeof all);
            memset(per, 0, sizeof per);
            rng_state = 0x1234567ull + (uint64_t)jit; /* same data for both block sizes */
            for (int d = 0; d < devices; d++) {
                int64_t t0 = 1764028800000000000ll; /* 2025-11-25 00:00 UTC */
                int64_t kt = 1800 + rnd_range(-300, 600), kh = 450 + rnd_range(-100, 100),
                        kb = 3700 - rnd_range(0, 400);
                for (int i = 0; i < PTS; i++) {
                    int64_t j = jit == 0 ? 0 : jit == 1 ? rnd_range(-100, 100) * 1000000ll : rnd_range(-100000000, 100000000);
                    ts[i] = t0 + (int64_t)i * 10000000000ll + j;
                    kt += rnd_range(-3, 3); /* 0.01 degC steps */
                    if (rnd() % 4 == 0) kh += rnd_range(-1, 1); /* 0.1 % steps */
                    if (rnd() % 50 == 0) kb -= 1; /* 1 mV */
                    fld[0][i] = (double)kt / 100.0;
                    fld[1][i] = (double)kh / 10.0;
                    fld[2][i] = (double)kb / 1000.0;
                }
                for (int f = 0; f < 3; f++)
                    for (size_t o = 0; o < PTS; o += block) {
                        size_t n = PTS - o < block ? PTS - o : block;
                        iot_block(&per[f], ts + o, fld[f] + o, n, buf, cap, tb, vb);
                    }
            }
            for (int f = 0; f < 3; f++) {
                all.bytes += per[f].bytes;
                all.values += per[f].values;
                all.ts_bytes += per[f].ts_bytes;
                all.enc_s += per[f].enc_s;
                all.dec_s += per[f].dec_s;
            }
            print_message("[ iot ] %d devices x 3 fields x %d pts, %s, blocks of %zu: %.3f bytes/value "
                          "(%zu bytes, %zu values); encode %.2f Mvalues/s, decode %.2f Mvalues/s\n",
                          devices, PTS, jname[jit], block, (double)all.bytes / (double)all.values, all.bytes,
                          all.values, all.values / all.enc_s / 1e6, all.values / all.dec_s / 1e6);
            /* what a segment sharing one timestamp column between a series' 3 fields would store */
            size_t shared = all.bytes - all.ts_bytes + per[0].ts_bytes;
            print_message("[ iot ]     timestamps %.3f bytes/value of it; with one timestamp column shared "
                          "by the 3 fields: %.3f bytes/value\n",
                          (double)all.ts_bytes / (double)all.values, (double)shared / (double)all.values);
            for (int f = 0; f < 3; f++)
                print_message("[ iot ]     %-11s %.3f bytes/value (decimal blocks %zu, gorilla %zu, raw %zu)\n",
                              fname[f], (double)per[f].bytes / (double)per[f].values,
                              per[f].codec_count[TE_CODEC_F64_DECIMAL], per[f].codec_count[TE_CODEC_F64_GORILLA],
                              per[f].codec_count[TE_CODEC_F64_RAW]);
            /* sensor readings with 1-3 decimals are decimal-scaled ints: the decimal codec must win */
            for (int f = 0; f < 3; f++)
                assert_int_equal(per[f].codec_count[TE_CODEC_F64_DECIMAL], per[f].bytes ? (size_t)devices * ((PTS + block - 1) / block) : 0);
        }
    }
    free(ts);
    free(tb);
    free(vb);
    for (int f = 0; f < 3; f++) free(fld[f]);
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int_edge),        cmocka_unit_test(test_uint_extremes),
        cmocka_unit_test(test_timestamps),      cmocka_unit_test(test_float_decimal),
        cmocka_unit_test(test_float_adversarial), cmocka_unit_test(test_float_large_n),
        cmocka_unit_test(test_bool),            cmocka_unit_test(test_strings),
        cmocka_unit_test(test_blocks),          cmocka_unit_test(test_iot_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
