/* Fuzz target for tsdb/codec: decodes the input with every column decoder and both block decoders
 * (at a roomy and a tiny capacity; results must stay within max and inside the string arena), then
 * derives values from the input -- raw int64/double bit patterns, decimal-scaled sensor walks,
 * booleans, strings split at 0x00 -- and checks the encode -> decode round trip is bit-exact for
 * the automatic choice and every forced integer mode and float codec. */
#include "tsdb/codec.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(c)                                                                                                  \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            fprintf(stderr, "tsdb_codec fuzz: check failed: %s (line %d)\n", #c, __LINE__);                            \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

#define MAXV 4096
static int64_t iv[MAXV], ib[MAXV], tsb[MAXV];
static double dv[MAXV], db[MAXV];
static uint8_t bv[MAXV], bb[MAXV];
static uint8_t enc[16 * MAXV + 256];
static char arena[65536];
static size_t offs[MAXV], lens[MAXV];
static const char *strs[MAXV];

static void decode_all(const uint8_t *p, size_t n, size_t max) {
    ptrdiff_t r;
    r = te_codec_decode_i64(p, n, ib, max);
    FUZZ_CHECK(r < 0 || (size_t)r <= max);
    r = te_codec_decode_u64(p, n, (uint64_t *)(void *)ib, max);
    FUZZ_CHECK(r < 0 || (size_t)r <= max);
    r = te_codec_decode_f64(p, n, db, max);
    FUZZ_CHECK(r < 0 || (size_t)r <= max);
    r = te_codec_decode_bool(p, n, bb, max);
    FUZZ_CHECK(r < 0 || (size_t)r <= max);
    if (r >= 0)
        for (ptrdiff_t i = 0; i < r; i++) FUZZ_CHECK(bb[i] <= 1);
    r = te_codec_decode_str(p, n, offs, lens, max, arena, sizeof arena);
    FUZZ_CHECK(r < 0 || (size_t)r <= max);
    if (r >= 0)
        for (ptrdiff_t i = 0; i < r; i++) FUZZ_CHECK(offs[i] <= sizeof arena && lens[i] <= sizeof arena - offs[i]);
    (void)te_codec_str_arena_need(p, n);
    (void)te_codec_count(p, n);
    te_block_info bi;
    if (te_block_parse(p, n, &bi) == 0) FUZZ_CHECK(bi.ts + bi.ts_len <= p + n && bi.val + bi.val_len <= p + n);
    int64_t *vals = ib;
    r = te_block_decode(p, n, tsb, vals, max);
    FUZZ_CHECK(r < 0 || (size_t)r <= max);
    r = te_block_decode_str(p, n, tsb, offs, lens, max, arena, sizeof arena);
    FUZZ_CHECK(r < 0 || (size_t)r <= max);
}

static void rt_i64(size_t n) {
    ptrdiff_t len = te_codec_encode_i64(iv, n, enc, sizeof enc);
    FUZZ_CHECK(len > 0 && (size_t)len <= te_codec_bound(n));
    FUZZ_CHECK(te_codec_decode_i64(enc, (size_t)len, ib, MAXV) == (ptrdiff_t)n);
    FUZZ_CHECK(memcmp(ib, iv, n * 8) == 0);
    for (int m = TE_CODEC_INT_RAW; m <= TE_CODEC_INT_LINEAR; m++) {
        ptrdiff_t l2 = te_codec_encode_i64_as(m, iv, n, enc, sizeof enc);
        FUZZ_CHECK(l2 >= len);
        FUZZ_CHECK(te_codec_decode_i64(enc, (size_t)l2, ib, MAXV) == (ptrdiff_t)n);
        FUZZ_CHECK(memcmp(ib, iv, n * 8) == 0);
    }
}

static void rt_f64(size_t n) {
    ptrdiff_t len = te_codec_encode_f64(dv, n, enc, sizeof enc);
    FUZZ_CHECK(len > 0 && (size_t)len <= te_codec_bound(n));
    FUZZ_CHECK(te_codec_decode_f64(enc, (size_t)len, db, MAXV) == (ptrdiff_t)n);
    FUZZ_CHECK(memcmp(db, dv, n * 8) == 0);
    static const int codecs[] = {TE_CODEC_F64_RAW, TE_CODEC_F64_GORILLA, TE_CODEC_F64_DECIMAL};
    for (int c = 0; c < 3; c++) {
        ptrdiff_t l2 = te_codec_encode_f64_as(codecs[c], dv, n, enc, sizeof enc);
        if (l2 == TE_CODEC_EINVAL && codecs[c] == TE_CODEC_F64_DECIMAL) continue;
        FUZZ_CHECK(l2 >= len);
        FUZZ_CHECK(te_codec_decode_f64(enc, (size_t)l2, db, MAXV) == (ptrdiff_t)n);
        FUZZ_CHECK(memcmp(db, dv, n * 8) == 0);
    }
    /* as a block with the int64s as timestamps */
    len = te_block_encode(TE_BLOCK_F64, iv, dv, n, TE_BLOCK_FLAG_CRC, enc, sizeof enc);
    FUZZ_CHECK(len > 0);
    FUZZ_CHECK(te_block_decode(enc, (size_t)len, tsb, db, MAXV) == (ptrdiff_t)n);
    FUZZ_CHECK(memcmp(db, dv, n * 8) == 0 && memcmp(tsb, iv, n * 8) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    decode_all(data, size, MAXV);
    decode_all(data, size, 3);
    if (size < 1) return 0;
    uint8_t sel = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1 < 16384 ? size - 1 : 16384; /* keeps every derived column within enc/arena */

    /* raw 64-bit patterns */
    size_t m = n / 8 < MAXV ? n / 8 : MAXV;
    for (size_t i = 0; i < m; i++) {
        uint64_t u = 0;
        for (int k = 0; k < 8; k++) u |= (uint64_t)p[8 * i + (size_t)k] << (8 * k);
        iv[i] = (int64_t)u;
        memcpy(&dv[i], &u, 8);
    }
    rt_i64(m);
    rt_f64(m);

    /* sensor-like walk: each byte a signed step, sel picks decimals and the step scale */
    m = n < MAXV ? n : MAXV;
    int digits = sel % 7;
    static const double p10[7] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
    int64_t k = (int64_t)(sel >> 3) * 1000 - 5000, t = 1700000000000000000ll;
    for (size_t i = 0; i < m; i++) {
        k += (int8_t)p[i] >> (sel & 4 ? 4 : 0);
        dv[i] = (double)k / p10[digits];
        t += 10000000000ll + ((sel & 8) ? (int64_t)(int8_t)p[i] * 1000000 : 0);
        iv[i] = t;
        bv[i] = (uint8_t)(p[i] & (sel & 16 ? 0x80 : 0x01));
    }
    rt_i64(m);
    rt_f64(m);

    /* booleans */
    ptrdiff_t len = te_codec_encode_bool(bv, m, enc, sizeof enc);
    FUZZ_CHECK(len > 0 && (size_t)len <= te_codec_bound(m));
    FUZZ_CHECK(te_codec_decode_bool(enc, (size_t)len, bb, MAXV) == (ptrdiff_t)m);
    for (size_t i = 0; i < m; i++) FUZZ_CHECK(bb[i] == (bv[i] != 0));

    /* strings split at 0x00 */
    size_t ns = 0, start = 0;
    for (size_t i = 0; i <= n && ns < MAXV; i++) {
        if (i == n || p[i] == 0) {
            strs[ns] = (const char *)p + start;
            lens[ns] = i - start;
            ns++;
            start = i + 1;
        }
    }
    size_t cap = te_codec_str_bound(lens, ns);
    FUZZ_CHECK(cap <= sizeof enc);
    len = te_codec_encode_str(strs, lens, ns, enc, cap);
    FUZZ_CHECK(len > 0 && (size_t)len <= cap);
    size_t want[MAXV];
    memcpy(want, lens, ns * sizeof *lens);
    ptrdiff_t need = te_codec_str_arena_need(enc, (size_t)len);
    FUZZ_CHECK(need >= 0 && (size_t)need <= sizeof arena);
    FUZZ_CHECK(te_codec_decode_str(enc, (size_t)len, offs, lens, MAXV, arena, sizeof arena) == (ptrdiff_t)ns);
    for (size_t i = 0; i < ns; i++) {
        FUZZ_CHECK(lens[i] == want[i]);
        FUZZ_CHECK(memcmp(arena + offs[i], strs[i], lens[i]) == 0);
    }
    return 0;
}
