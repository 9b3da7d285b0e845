/* Column compression codecs of the time-series store: integer (RAW/RLE/DELTA/DOD/DELTA_RLE/FOR),
 * float (DECIMAL/GORILLA/RAW), boolean (BITS/RLE) and string (PLAIN/ZLIB) columns, and the per
 * series+field block framing. Encoders size each candidate with a dry run of the same writer code
 * (out == NULL counts bytes), then write the smallest. See codec.h and docs/tsdb-codecs.md. */
#include "tsdb/codec.h"

#include <math.h>
#include <string.h>
#include <zlib.h>

#define CHUNK 128 /* values per frame-of-reference chunk */

/* ------------------------------------------------------------------ writer (dry run if buf NULL) */
typedef struct {
    uint8_t *buf;
    size_t cap, pos;
    uint64_t acc; /* pending bits, LSB-first */
    unsigned nacc;
    int full;
} wr;

static void wr_init(wr *w, uint8_t *buf, size_t cap) {
    w->buf = buf;
    w->cap = cap;
    w->pos = 0;
    w->acc = 0;
    w->nacc = 0;
    w->full = 0;
}

static void wr_byte(wr *w, uint8_t b) {
    if (w->buf) {
        if (w->pos >= w->cap) {
            w->full = 1;
            return;
        }
        w->buf[w->pos] = b;
    }
    w->pos++;
}

static void wr_bytes(wr *w, const void *p, size_t n) {
    if (w->buf) {
        if (w->cap - w->pos < n || w->pos > w->cap) {
            w->full = 1;
            return;
        }
        memcpy(w->buf + w->pos, p, n);
    }
    w->pos += n;
}

static void wr_uv(wr *w, uint64_t v) {
    while (v >= 0x80) {
        wr_byte(w, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    wr_byte(w, (uint8_t)v);
}

static size_t uv_len(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static uint64_t zz(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static int64_t unzz(uint64_t u) { return (int64_t)(u >> 1) ^ -(int64_t)(u & 1); }

static void wr_sv(wr *w, int64_t v) { wr_uv(w, zz(v)); }

static void wr_u64le(wr *w, uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    wr_bytes(w, b, 8);
}

/* put nb (0..32) low bits of v */
static void wr_bits32(wr *w, uint64_t v, unsigned nb) {
    if (nb == 0) return;
    v &= (nb == 64) ? ~0ull : ((1ull << nb) - 1);
    w->acc |= v << w->nacc;
    w->nacc += nb;
    while (w->nacc >= 8) {
        wr_byte(w, (uint8_t)w->acc);
        w->acc >>= 8;
        w->nacc -= 8;
    }
}

static void wr_bits(wr *w, uint64_t v, unsigned nb) {
    if (nb > 32) {
        wr_bits32(w, v, 32);
        wr_bits32(w, v >> 32, nb - 32);
    } else {
        wr_bits32(w, v, nb);
    }
}

static void wr_align(wr *w) {
    if (w->nacc) {
        wr_byte(w, (uint8_t)w->acc);
        w->acc = 0;
        w->nacc = 0;
    }
}

/* ------------------------------------------------------------------ reader */
typedef struct {
    const uint8_t *p;
    size_t len, pos;
    uint64_t acc;
    unsigned nacc;
    int bad;
} rd;

static void rd_init(rd *r, const uint8_t *p, size_t len) {
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->acc = 0;
    r->nacc = 0;
    r->bad = 0;
}

static uint8_t rd_byte(rd *r) {
    if (r->pos >= r->len) {
        r->bad = 1;
        return 0;
    }
    return r->p[r->pos++];
}

static uint64_t rd_uv(rd *r) {
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        uint8_t b = rd_byte(r);
        if (r->bad) return 0;
        if (i == 9 && b > 1) break;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) return v;
    }
    r->bad = 1;
    return 0;
}

static int64_t rd_sv(rd *r) { return unzz(rd_uv(r)); }

static uint64_t rd_u64le(rd *r) {
    if (r->len - r->pos < 8) {
        r->bad = 1;
        r->pos = r->len;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)r->p[r->pos + i] << (8 * i);
    r->pos += 8;
    return v;
}

static uint64_t rd_bits32(rd *r, unsigned nb) {
    if (nb == 0) return 0;
    while (r->nacc < nb) {
        if (r->pos >= r->len) {
            r->bad = 1;
            return 0;
        }
        r->acc |= (uint64_t)r->p[r->pos++] << r->nacc;
        r->nacc += 8;
    }
    uint64_t v = r->acc & ((1ull << nb) - 1);
    r->acc >>= nb;
    r->nacc -= nb;
    return v;
}

static uint64_t rd_bits(rd *r, unsigned nb) {
    if (nb > 32) {
        uint64_t lo = rd_bits32(r, 32);
        return lo | (rd_bits32(r, nb - 32) << 32);
    }
    return rd_bits32(r, nb);
}

/* drop the bits left in the current byte; they must be zero (canonical padding) */
static void rd_align(rd *r) {
    if (r->acc != 0) r->bad = 1;
    r->acc = 0;
    r->nacc = 0;
}

static ptrdiff_t wr_finish(const wr *w) {
    if (w->full) return TE_CODEC_ENOSPC;
    if (w->pos > (size_t)PTRDIFF_MAX) return TE_CODEC_EINVAL;
    return (ptrdiff_t)w->pos;
}

/* ------------------------------------------------------------------ integer sequences */
/* value source: an int64 array, or doubles scaled to decimal ints */
typedef struct {
    const int64_t *iv;
    const double *dv;
    double scale;
} src;

static inline int64_t src_get(const src *s, size_t i) {
    if (s->iv) return s->iv[i];
    return (int64_t)llrint(s->dv[i] * s->scale);
}

static unsigned width_of(uint64_t range) {
    unsigned w = 0;
    while (range) {
        w++;
        range >>= 1;
    }
    return w;
}

/* chunked frame-of-reference of a derived stream x[0..m) where x is produced by a generator */
typedef struct {
    const src *s;
    int kind; /* 0 value, 1 delta/g, 2 dod of delta/g, 3 residual from the line v0 + i*step, /g */
    int64_t g;
    size_t start; /* first source index used for x[0] */
    uint64_t v0, step;
} gen;

static inline int64_t lin_res(const src *s, size_t i, uint64_t v0, uint64_t step) {
    return (int64_t)((uint64_t)src_get(s, i) - v0 - (uint64_t)i * step);
}

/* x_j for the generator: j-th element of the derived stream (wrap-around arithmetic) */
static inline uint64_t gen_x(const gen *ge, size_t j) {
    size_t i = ge->start + j;
    if (ge->kind == 0) return (uint64_t)src_get(ge->s, i);
    if (ge->kind == 3) return (uint64_t)(lin_res(ge->s, i, ge->v0, ge->step) / ge->g);
    int64_t d = (int64_t)((uint64_t)src_get(ge->s, i) - (uint64_t)src_get(ge->s, i - 1));
    int64_t q = d / ge->g;
    if (ge->kind == 1) return (uint64_t)q;
    int64_t dp = (int64_t)((uint64_t)src_get(ge->s, i - 1) - (uint64_t)src_get(ge->s, i - 2));
    int64_t qp = dp / ge->g;
    return (uint64_t)q - (uint64_t)qp;
}

static void put_for(wr *w, const gen *ge, size_t m) {
    for (size_t c = 0; c < m; c += CHUNK) {
        size_t cnt = m - c < CHUNK ? m - c : CHUNK;
        int64_t mn = INT64_MAX, mx = INT64_MIN;
        for (size_t j = 0; j < cnt; j++) {
            int64_t x = (int64_t)gen_x(ge, c + j);
            if (x < mn) mn = x;
            if (x > mx) mx = x;
        }
        unsigned wd = width_of((uint64_t)mx - (uint64_t)mn);
        wr_byte(w, (uint8_t)wd);
        wr_sv(w, mn);
        if (wd == 0) continue;
        if (!w->buf) { /* dry run: size only */
            w->pos += (cnt * wd + 7) / 8;
            continue;
        }
        for (size_t j = 0; j < cnt; j++) wr_bits(w, gen_x(ge, c + j) - (uint64_t)mn, wd);
        wr_align(w);
    }
}

/* read m FOR-coded elements into x (uint64 bit patterns) */
static void get_for(rd *r, uint64_t *x, size_t m) {
    for (size_t c = 0; c < m && !r->bad; c += CHUNK) {
        size_t cnt = m - c < CHUNK ? m - c : CHUNK;
        unsigned wd = rd_byte(r);
        uint64_t mn = (uint64_t)rd_sv(r);
        if (r->bad || wd > 64) {
            r->bad = 1;
            return;
        }
        if (r->len - r->pos < (cnt * wd + 7) / 8) {
            r->bad = 1;
            return;
        }
        for (size_t j = 0; j < cnt; j++) x[c + j] = mn + rd_bits(r, wd);
        rd_align(r);
    }
}

static uint64_t gcd_step(uint64_t g, int64_t d) {
    uint64_t a = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
    while (a) {
        uint64_t t = g % a;
        g = a;
        a = t;
    }
    return g;
}

/* LINEAR mode parameters: the step of the line through the first and last value (a multiple of
 * the deltas' gcd g), and the gcd of the residuals */
static void linear_params(const src *s, size_t n, int64_t g, uint64_t *step, int64_t *gr) {
    *step = 0;
    *gr = 1;
    if (n < 2) return;
    uint64_t v0 = (uint64_t)src_get(s, 0);
    int64_t span = (int64_t)((uint64_t)src_get(s, n - 1) - v0);
    int64_t st = span / (int64_t)(n - 1);
    *step = (uint64_t)((st / g) * g);
    uint64_t gg = 0;
    for (size_t i = 1; i < n && gg != 1; i++) gg = gcd_step(gg, lin_res(s, i, v0, *step));
    *gr = (gg == 0 || gg > (uint64_t)INT64_MAX) ? 1 : (int64_t)gg;
}

static int64_t gcd_of_deltas(const src *s, size_t n) {
    uint64_t g = 0;
    for (size_t i = 1; i < n; i++) {
        int64_t d = (int64_t)((uint64_t)src_get(s, i) - (uint64_t)src_get(s, i - 1));
        uint64_t a = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
        while (a) {
            uint64_t t = g % a;
            g = a;
            a = t;
        }
        if (g == 1) return 1;
    }
    if (g == 0 || g > (uint64_t)INT64_MAX) return 1;
    return (int64_t)g;
}

/* body of an integer mode (after the codec byte and count) */
static void put_int_body(wr *w, int mode, const src *s, size_t n, int64_t g) {
    if (n == 0) return;
    switch (mode) {
    case TE_CODEC_INT_RAW:
        for (size_t i = 0; i < n; i++) wr_u64le(w, (uint64_t)src_get(s, i));
        break;
    case TE_CODEC_INT_RLE: {
        size_t i = 0;
        while (i < n) {
            int64_t v = src_get(s, i);
            size_t j = i + 1;
            while (j < n && src_get(s, j) == v) j++;
            wr_sv(w, v);
            wr_uv(w, j - i);
            i = j;
        }
        break;
    }
    case TE_CODEC_INT_DELTA_RLE: {
        wr_sv(w, src_get(s, 0));
        size_t i = 1;
        while (i < n) {
            uint64_t d = (uint64_t)src_get(s, i) - (uint64_t)src_get(s, i - 1);
            size_t j = i + 1;
            while (j < n && (uint64_t)src_get(s, j) - (uint64_t)src_get(s, j - 1) == d) j++;
            wr_sv(w, (int64_t)d);
            wr_uv(w, j - i);
            i = j;
        }
        break;
    }
    case TE_CODEC_INT_FOR: {
        gen ge = {s, 0, 1, 0, 0, 0};
        put_for(w, &ge, n);
        break;
    }
    case TE_CODEC_INT_DELTA: {
        wr_sv(w, src_get(s, 0));
        wr_uv(w, (uint64_t)g);
        gen ge = {s, 1, g, 1, 0, 0};
        put_for(w, &ge, n - 1);
        break;
    }
    case TE_CODEC_INT_DOD: {
        wr_sv(w, src_get(s, 0));
        wr_uv(w, (uint64_t)g);
        if (n < 2) break;
        int64_t d = (int64_t)((uint64_t)src_get(s, 1) - (uint64_t)src_get(s, 0));
        wr_sv(w, d / g);
        gen ge = {s, 2, g, 2, 0, 0};
        put_for(w, &ge, n - 2);
        break;
    }
    case TE_CODEC_INT_LINEAR: {
        uint64_t step;
        int64_t gr;
        linear_params(s, n, g, &step, &gr);
        uint64_t v0 = (uint64_t)src_get(s, 0);
        wr_sv(w, (int64_t)v0);
        wr_sv(w, (int64_t)step);
        wr_uv(w, (uint64_t)gr);
        gen ge = {s, 3, gr, 1, v0, step};
        put_for(w, &ge, n - 1);
        break;
    }
    default:
        break;
    }
}

static int int_mode_ok(int mode) { return mode >= TE_CODEC_INT_RAW && mode <= TE_CODEC_INT_LINEAR; }

/* the smallest mode for s (size of the body only); *gout gets the gcd used */
static int best_int_mode(const src *s, size_t n, size_t *size_out, int64_t *gout) {
    int64_t g = n > 1 ? gcd_of_deltas(s, n) : 1;
    static const int order[] = {TE_CODEC_INT_DELTA_RLE, TE_CODEC_INT_RLE, TE_CODEC_INT_DELTA, TE_CODEC_INT_DOD,
                                TE_CODEC_INT_LINEAR, TE_CODEC_INT_FOR, TE_CODEC_INT_RAW};
    int best = TE_CODEC_INT_RAW;
    size_t bsz = SIZE_MAX;
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        wr w;
        wr_init(&w, NULL, 0);
        if (order[k] == TE_CODEC_INT_RAW) {
            w.pos = n * 8;
        } else {
            put_int_body(&w, order[k], s, n, g);
        }
        if (w.pos < bsz) {
            bsz = w.pos;
            best = order[k];
        }
    }
    *size_out = bsz;
    *gout = g;
    return best;
}

/* decode an integer body of mode into out[0..n) */
static void get_int_body(rd *r, int mode, uint64_t *out, size_t n) {
    if (n == 0) return;
    switch (mode) {
    case TE_CODEC_INT_RAW:
        if ((r->len - r->pos) / 8 < n) {
            r->bad = 1;
            return;
        }
        for (size_t i = 0; i < n; i++) out[i] = rd_u64le(r);
        break;
    case TE_CODEC_INT_RLE: {
        size_t i = 0;
        while (i < n && !r->bad) {
            uint64_t v = (uint64_t)rd_sv(r);
            uint64_t c = rd_uv(r);
            if (r->bad || c == 0 || c > n - i) {
                r->bad = 1;
                return;
            }
            for (uint64_t k = 0; k < c; k++) out[i++] = v;
        }
        break;
    }
    case TE_CODEC_INT_DELTA_RLE: {
        out[0] = (uint64_t)rd_sv(r);
        size_t i = 1;
        while (i < n && !r->bad) {
            uint64_t d = (uint64_t)rd_sv(r);
            uint64_t c = rd_uv(r);
            if (r->bad || c == 0 || c > n - i) {
                r->bad = 1;
                return;
            }
            for (uint64_t k = 0; k < c; k++, i++) out[i] = out[i - 1] + d;
        }
        break;
    }
    case TE_CODEC_INT_FOR:
        get_for(r, out, n);
        break;
    case TE_CODEC_INT_DELTA: {
        uint64_t first = (uint64_t)rd_sv(r);
        uint64_t g = rd_uv(r);
        if (r->bad || g == 0 || g > (uint64_t)INT64_MAX) {
            r->bad = 1;
            return;
        }
        get_for(r, out + 1, n - 1); /* q values */
        out[0] = first;
        for (size_t i = 1; i < n; i++) out[i] = out[i - 1] + out[i] * g;
        break;
    }
    case TE_CODEC_INT_DOD: {
        uint64_t first = (uint64_t)rd_sv(r);
        uint64_t g = rd_uv(r);
        if (r->bad || g == 0 || g > (uint64_t)INT64_MAX) {
            r->bad = 1;
            return;
        }
        out[0] = first;
        if (n < 2) break;
        uint64_t q = (uint64_t)rd_sv(r);
        get_for(r, out + 2, n - 2); /* dod values */
        if (r->bad) return;
        out[1] = first + q * g;
        for (size_t i = 2; i < n; i++) {
            q += out[i];
            out[i] = out[i - 1] + q * g;
        }
        break;
    }
    case TE_CODEC_INT_LINEAR: {
        uint64_t v0 = (uint64_t)rd_sv(r);
        uint64_t step = (uint64_t)rd_sv(r);
        uint64_t g = rd_uv(r);
        if (r->bad || g == 0 || g > (uint64_t)INT64_MAX) {
            r->bad = 1;
            return;
        }
        get_for(r, out + 1, n - 1); /* residuals / g */
        out[0] = v0;
        for (size_t i = 1; i < n; i++) out[i] = v0 + (uint64_t)i * step + out[i] * g;
        break;
    }
    default:
        r->bad = 1;
        break;
    }
}

static ptrdiff_t enc_int(int mode, const src *s, size_t n, uint8_t *out, size_t cap) {
    int64_t g;
    if (mode == 0) {
        size_t sz;
        mode = best_int_mode(s, n, &sz, &g);
    } else {
        if (!int_mode_ok(mode)) return TE_CODEC_EINVAL;
        g = n > 1 ? gcd_of_deltas(s, n) : 1;
    }
    wr w;
    wr_init(&w, out, cap);
    wr_byte(&w, (uint8_t)mode);
    wr_uv(&w, n);
    put_int_body(&w, mode, s, n, g);
    wr_align(&w);
    return wr_finish(&w);
}

static ptrdiff_t dec_int(const uint8_t *in, size_t len, uint64_t *out, size_t max) {
    if (!in && len) return TE_CODEC_EINVAL;
    rd r;
    rd_init(&r, in, len);
    int mode = rd_byte(&r);
    uint64_t n = rd_uv(&r);
    if (r.bad) return TE_CODEC_ECORRUPT;
    if (!int_mode_ok(mode)) return TE_CODEC_ETYPE;
    if (n > max) return TE_CODEC_ETOOMANY;
    if (n > (uint64_t)PTRDIFF_MAX) return TE_CODEC_ECORRUPT;
    if (n && !out) return TE_CODEC_EINVAL;
    get_int_body(&r, mode, out, (size_t)n);
    rd_align(&r);
    if (r.bad || r.pos != r.len) return TE_CODEC_ECORRUPT;
    return (ptrdiff_t)n;
}

size_t te_codec_bound(size_t n) {
    if (n > (SIZE_MAX - 32) / 8) return SIZE_MAX;
    return 8 * n + 32;
}

ptrdiff_t te_codec_encode_i64(const int64_t *v, size_t n, uint8_t *out, size_t cap) {
    if ((!v && n) || !out) return TE_CODEC_EINVAL;
    src s = {v, NULL, 0};
    return enc_int(0, &s, n, out, cap);
}

ptrdiff_t te_codec_encode_i64_as(int mode, const int64_t *v, size_t n, uint8_t *out, size_t cap) {
    if ((!v && n) || !out || !int_mode_ok(mode)) return TE_CODEC_EINVAL;
    src s = {v, NULL, 0};
    return enc_int(mode, &s, n, out, cap);
}

ptrdiff_t te_codec_decode_i64(const uint8_t *in, size_t len, int64_t *out, size_t max) {
    return dec_int(in, len, (uint64_t *)(void *)out, max);
}

ptrdiff_t te_codec_encode_u64(const uint64_t *v, size_t n, uint8_t *out, size_t cap) {
    return te_codec_encode_i64((const int64_t *)(const void *)v, n, out, cap);
}

ptrdiff_t te_codec_decode_u64(const uint8_t *in, size_t len, uint64_t *out, size_t max) {
    return dec_int(in, len, out, max);
}

ptrdiff_t te_codec_encode_ts(const int64_t *ts, size_t n, uint8_t *out, size_t cap) {
    return te_codec_encode_i64(ts, n, out, cap);
}

ptrdiff_t te_codec_decode_ts(const uint8_t *in, size_t len, int64_t *out, size_t max) {
    return te_codec_decode_i64(in, len, out, max);
}

/* ------------------------------------------------------------------ floats */
static const double pow10tab[TE_CODEC_DECIMAL_MAX_DIGITS + 1] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};

static uint64_t dbits(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static double bitsd(uint64_t u) {
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* smallest d such that every value is exactly k/10^d with |k| < 2^53; -1 if none */
static int decimal_digits(const double *v, size_t n) {
    int d = 0;
    for (size_t i = 0; i < n; i++) {
        for (;;) {
            double x = v[i] * pow10tab[d];
            if (x > -9007199254740992.0 && x < 9007199254740992.0) { /* false for NaN/inf */
                double k = (double)llrint(x); /* integer k: -0.0 cannot pass (0/p is +0.0) */
                if (dbits(k / pow10tab[d]) == dbits(v[i])) break;
            }
            if (++d > TE_CODEC_DECIMAL_MAX_DIGITS) return -1;
            i = 0; /* k/10^d == 10k/10^(d+1) as rationals, so earlier values stay exact unless */
                   /* 10k leaves the 2^53 range: recheck from the start at the new scale */
        }
    }
    return d;
}

static void put_gorilla(wr *w, const double *v, size_t n) {
    if (n == 0) return;
    uint64_t prev = dbits(v[0]);
    wr_bits(w, prev, 64);
    unsigned pl = 65, pt = 0; /* no window yet */
    for (size_t i = 1; i < n; i++) {
        uint64_t cur = dbits(v[i]);
        uint64_t x = cur ^ prev;
        prev = cur;
        if (x == 0) {
            wr_bits32(w, 0, 1);
            continue;
        }
        unsigned lz = (unsigned)__builtin_clzll(x), tz = (unsigned)__builtin_ctzll(x);
        if (lz > 31) lz = 31;
        if (pl <= 64 && lz >= pl && tz >= pt) {
            wr_bits32(w, 1, 2); /* bits '1','0' (LSB first: 1 then 0) */
            wr_bits(w, x >> pt, 64 - pl - pt);
        } else {
            unsigned len = 64 - lz - tz;
            wr_bits32(w, 3, 2);
            wr_bits32(w, lz, 5);
            wr_bits32(w, len & 63, 6); /* 64 is coded as 0 */
            wr_bits(w, x >> tz, len);
            pl = lz;
            pt = tz;
        }
    }
}

static void get_gorilla(rd *r, double *out, size_t n) {
    if (n == 0) return;
    uint64_t prev = rd_bits(r, 64);
    out[0] = bitsd(prev);
    unsigned pl = 65, pt = 0;
    for (size_t i = 1; i < n; i++) {
        if (r->bad) return;
        if (rd_bits32(r, 1) == 0) {
            out[i] = bitsd(prev);
            continue;
        }
        uint64_t x;
        if (rd_bits32(r, 1) == 0) {
            if (pl > 64) {
                r->bad = 1;
                return;
            }
            x = rd_bits(r, 64 - pl - pt) << pt;
        } else {
            unsigned lz = (unsigned)rd_bits32(r, 5);
            unsigned len = (unsigned)rd_bits32(r, 6);
            if (len == 0) len = 64;
            if (lz + len > 64) {
                r->bad = 1;
                return;
            }
            pl = lz;
            pt = 64 - lz - len;
            x = rd_bits(r, len) << pt;
        }
        prev ^= x;
        out[i] = bitsd(prev);
    }
}

static ptrdiff_t enc_f64(int codec, const double *v, size_t n, uint8_t *out, size_t cap) {
    int dig = -1;
    src s = {NULL, v, 1.0};
    int imode = 0;
    int64_t g = 1;
    if (codec == 0 || codec == TE_CODEC_F64_DECIMAL) dig = decimal_digits(v, n);
    if (codec == TE_CODEC_F64_DECIMAL && dig < 0) return TE_CODEC_EINVAL;
    if (codec == 0) {
        size_t best = n * 8; /* raw */
        codec = TE_CODEC_F64_RAW;
        if (dig >= 0) {
            s.scale = pow10tab[dig];
            size_t isz;
            imode = best_int_mode(&s, n, &isz, &g);
            if (isz + 2 < best) {
                best = isz + 2;
                codec = TE_CODEC_F64_DECIMAL;
            }
        }
        wr w;
        wr_init(&w, NULL, 0);
        put_gorilla(&w, v, n);
        wr_align(&w);
        if (w.pos < best) codec = TE_CODEC_F64_GORILLA;
    } else if (codec == TE_CODEC_F64_DECIMAL) {
        s.scale = pow10tab[dig];
        size_t isz;
        imode = best_int_mode(&s, n, &isz, &g);
    } else if (codec != TE_CODEC_F64_RAW && codec != TE_CODEC_F64_GORILLA) {
        return TE_CODEC_EINVAL;
    }
    wr w;
    wr_init(&w, out, cap);
    wr_byte(&w, (uint8_t)codec);
    wr_uv(&w, n);
    if (codec == TE_CODEC_F64_RAW) {
        for (size_t i = 0; i < n; i++) wr_u64le(&w, dbits(v[i]));
    } else if (codec == TE_CODEC_F64_GORILLA) {
        put_gorilla(&w, v, n);
    } else {
        wr_byte(&w, (uint8_t)dig);
        wr_byte(&w, (uint8_t)imode);
        put_int_body(&w, imode, &s, n, g);
    }
    wr_align(&w);
    return wr_finish(&w);
}

ptrdiff_t te_codec_encode_f64(const double *v, size_t n, uint8_t *out, size_t cap) {
    if ((!v && n) || !out) return TE_CODEC_EINVAL;
    return enc_f64(0, v, n, out, cap);
}

ptrdiff_t te_codec_encode_f64_as(int codec, const double *v, size_t n, uint8_t *out, size_t cap) {
    if ((!v && n) || !out || codec == 0) return TE_CODEC_EINVAL;
    return enc_f64(codec, v, n, out, cap);
}

ptrdiff_t te_codec_decode_f64(const uint8_t *in, size_t len, double *out, size_t max) {
    if (!in && len) return TE_CODEC_EINVAL;
    rd r;
    rd_init(&r, in, len);
    int codec = rd_byte(&r);
    uint64_t n = rd_uv(&r);
    if (r.bad) return TE_CODEC_ECORRUPT;
    if (codec != TE_CODEC_F64_RAW && codec != TE_CODEC_F64_GORILLA && codec != TE_CODEC_F64_DECIMAL)
        return TE_CODEC_ETYPE;
    if (n > max) return TE_CODEC_ETOOMANY;
    if (n > (uint64_t)PTRDIFF_MAX) return TE_CODEC_ECORRUPT;
    if (n && !out) return TE_CODEC_EINVAL;
    if (codec == TE_CODEC_F64_RAW) {
        if ((r.len - r.pos) / 8 < n) return TE_CODEC_ECORRUPT;
        for (size_t i = 0; i < n; i++) out[i] = bitsd(rd_u64le(&r));
    } else if (codec == TE_CODEC_F64_GORILLA) {
        get_gorilla(&r, out, (size_t)n);
    } else {
        unsigned dig = rd_byte(&r);
        int imode = rd_byte(&r);
        if (r.bad || dig > TE_CODEC_DECIMAL_MAX_DIGITS || !int_mode_ok(imode)) return TE_CODEC_ECORRUPT;
        /* the ints k are decoded in place (same size as double), read back bytewise */
        get_int_body(&r, imode, (uint64_t *)(void *)out, (size_t)n);
        if (r.bad) return TE_CODEC_ECORRUPT;
        for (size_t i = 0; i < n; i++) {
            uint64_t k;
            memcpy(&k, &out[i], 8);
            out[i] = (double)(int64_t)k / pow10tab[dig];
        }
    }
    rd_align(&r);
    if (r.bad || r.pos != r.len) return TE_CODEC_ECORRUPT;
    return (ptrdiff_t)n;
}

/* ------------------------------------------------------------------ booleans */
ptrdiff_t te_codec_encode_bool(const uint8_t *v, size_t n, uint8_t *out, size_t cap) {
    if ((!v && n) || !out) return TE_CODEC_EINVAL;
    /* RLE size: first value byte + run lengths */
    size_t rle = 1;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && !v[j] == !v[i]) j++;
        rle += uv_len(j - i);
        i = j;
    }
    size_t bits = (n + 7) / 8;
    wr w;
    wr_init(&w, out, cap);
    if (n > 0 && rle < bits) {
        wr_byte(&w, TE_CODEC_BOOL_RLE);
        wr_uv(&w, n);
        wr_byte(&w, v[0] ? 1 : 0);
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && !v[j] == !v[i]) j++;
            wr_uv(&w, j - i);
            i = j;
        }
    } else {
        wr_byte(&w, TE_CODEC_BOOL_BITS);
        wr_uv(&w, n);
        for (size_t i = 0; i < n; i++) wr_bits32(&w, v[i] ? 1 : 0, 1);
        wr_align(&w);
    }
    return wr_finish(&w);
}

ptrdiff_t te_codec_decode_bool(const uint8_t *in, size_t len, uint8_t *out, size_t max) {
    if (!in && len) return TE_CODEC_EINVAL;
    rd r;
    rd_init(&r, in, len);
    int codec = rd_byte(&r);
    uint64_t n = rd_uv(&r);
    if (r.bad) return TE_CODEC_ECORRUPT;
    if (codec != TE_CODEC_BOOL_BITS && codec != TE_CODEC_BOOL_RLE) return TE_CODEC_ETYPE;
    if (n > max) return TE_CODEC_ETOOMANY;
    if (n > (uint64_t)PTRDIFF_MAX) return TE_CODEC_ECORRUPT;
    if (n && !out) return TE_CODEC_EINVAL;
    if (codec == TE_CODEC_BOOL_BITS) {
        if (r.len - r.pos < (n + 7) / 8) return TE_CODEC_ECORRUPT;
        for (size_t i = 0; i < n; i++) out[i] = (uint8_t)rd_bits32(&r, 1);
        rd_align(&r);
    } else {
        if (n == 0) return TE_CODEC_ECORRUPT; /* the encoder never writes an empty RLE column */
        uint8_t b = rd_byte(&r);
        if (b > 1) return TE_CODEC_ECORRUPT;
        size_t i = 0;
        while (i < n && !r.bad) {
            uint64_t c = rd_uv(&r);
            if (r.bad || c == 0 || c > n - i) return TE_CODEC_ECORRUPT;
            memset(out + i, b, (size_t)c);
            i += (size_t)c;
            b ^= 1;
        }
    }
    if (r.bad || r.pos != r.len) return TE_CODEC_ECORRUPT;
    return (ptrdiff_t)n;
}

/* ------------------------------------------------------------------ strings
 * payload = [uvarint len_0] ... [uvarint len_{n-1}] [bytes of all strings]
 * PLAIN: [0x30][uvarint n][uvarint payload size][payload]
 * ZLIB:  [0x31][uvarint n][uvarint payload size][zlib stream of the payload] */
static size_t str_payload(const size_t *lens, size_t n, int *over) {
    size_t p = 0;
    *over = 0;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] > TE_CODEC_STR_MAX_TOTAL) {
            *over = 1;
            return 0;
        }
        p += uv_len(lens[i]) + lens[i];
        if (p > TE_CODEC_STR_MAX_TOTAL) {
            *over = 1;
            return 0;
        }
    }
    return p;
}

size_t te_codec_str_bound(const size_t *lens, size_t n) {
    int over;
    size_t p = str_payload(lens, n, &over);
    if (over) return SIZE_MAX;
    return 1 + uv_len(n) + uv_len(p) + p;
}

/* deflate the payload into out[0..cap); returns the compressed size or 0 if it did not fit */
static size_t str_deflate(const char *const *s, const size_t *lens, size_t n, uint8_t *out, size_t cap) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit(&z, 6) != Z_OK) return 0;
    z.next_out = out;
    z.avail_out = cap > UINT32_MAX ? UINT32_MAX : (uInt)cap;
    uint8_t tmp[512];
    size_t i = 0, nl = 0;
    int ok = 1;
    /* lengths, in batches through tmp */
    while (ok && i < n) {
        nl = 0;
        while (i < n && nl + 10 <= sizeof tmp) {
            uint64_t v = lens[i++];
            while (v >= 0x80) {
                tmp[nl++] = (uint8_t)(v | 0x80);
                v >>= 7;
            }
            tmp[nl++] = (uint8_t)v;
        }
        z.next_in = tmp;
        z.avail_in = (uInt)nl;
        while (z.avail_in && ok) {
            if (deflate(&z, Z_NO_FLUSH) != Z_OK || z.avail_out == 0) ok = 0;
        }
    }
    for (i = 0; ok && i < n; i++) {
        if (lens[i] == 0) continue;
        z.next_in = (Bytef *)(uintptr_t)s[i];
        z.avail_in = (uInt)lens[i];
        while (z.avail_in && ok) {
            if (deflate(&z, Z_NO_FLUSH) != Z_OK || z.avail_out == 0) ok = 0;
        }
    }
    if (ok) {
        z.avail_in = 0;
        int rc = deflate(&z, Z_FINISH);
        if (rc != Z_STREAM_END) ok = 0;
    }
    size_t used = ok ? (size_t)z.total_out : 0;
    deflateEnd(&z);
    return used;
}

ptrdiff_t te_codec_encode_str(const char *const *s, const size_t *lens, size_t n, uint8_t *out, size_t cap) {
    if ((!s || !lens) && n) return TE_CODEC_EINVAL;
    if (!out) return TE_CODEC_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!s[i] && lens[i]) return TE_CODEC_EINVAL;
    int over;
    size_t p = str_payload(lens, n, &over);
    if (over) return TE_CODEC_EINVAL;
    size_t hdr = 1 + uv_len(n) + uv_len(p);
    size_t plain = hdr + p;
    if (p >= 64 && cap > hdr) { /* zlib only when it can pay for itself */
        size_t room = cap - hdr;
        if (room > plain - hdr - 1) room = plain - hdr - 1; /* must be strictly smaller than plain */
        size_t zl = str_deflate(s, lens, n, out + hdr, room);
        if (zl > 0) {
            wr w;
            wr_init(&w, out, hdr);
            wr_byte(&w, TE_CODEC_STR_ZLIB);
            wr_uv(&w, n);
            wr_uv(&w, p);
            if (w.full) return TE_CODEC_ENOSPC;
            return (ptrdiff_t)(hdr + zl);
        }
    }
    wr w;
    wr_init(&w, out, cap);
    if (cap < plain) return TE_CODEC_ENOSPC;
    wr_byte(&w, TE_CODEC_STR_PLAIN);
    wr_uv(&w, n);
    wr_uv(&w, p);
    for (size_t i = 0; i < n; i++) wr_uv(&w, lens[i]);
    for (size_t i = 0; i < n; i++)
        if (lens[i]) wr_bytes(&w, s[i], lens[i]);
    return wr_finish(&w);
}

/* header of a string column: codec, n, payload size, offset of the body */
static ptrdiff_t str_header(const uint8_t *in, size_t len, int *codec, uint64_t *n, uint64_t *p, size_t *body) {
    if (!in && len) return TE_CODEC_EINVAL;
    rd r;
    rd_init(&r, in, len);
    *codec = rd_byte(&r);
    *n = rd_uv(&r);
    if (r.bad) return TE_CODEC_ECORRUPT;
    if (*codec != TE_CODEC_STR_PLAIN && *codec != TE_CODEC_STR_ZLIB) return TE_CODEC_ETYPE;
    *p = rd_uv(&r);
    if (r.bad) return TE_CODEC_ECORRUPT;
    if (*p > TE_CODEC_STR_MAX_TOTAL || *n > *p) return TE_CODEC_ECORRUPT; /* each string costs >= 1 byte */
    if (*codec == TE_CODEC_STR_PLAIN && r.len - r.pos != *p) return TE_CODEC_ECORRUPT;
    *body = r.pos;
    return 0;
}

ptrdiff_t te_codec_str_arena_need(const uint8_t *in, size_t len) {
    int codec;
    uint64_t n, p;
    size_t body;
    ptrdiff_t rc = str_header(in, len, &codec, &n, &p, &body);
    return rc < 0 ? rc : (ptrdiff_t)p;
}

ptrdiff_t te_codec_decode_str(const uint8_t *in, size_t len, size_t *offs, size_t *lens, size_t max, char *arena,
                              size_t arena_cap) {
    int codec;
    uint64_t n, p;
    size_t body;
    ptrdiff_t rc = str_header(in, len, &codec, &n, &p, &body);
    if (rc < 0) return rc;
    if (n > max) return TE_CODEC_ETOOMANY;
    if (p > arena_cap) return TE_CODEC_ENOSPC;
    if ((n && (!offs || !lens)) || (p && !arena)) return TE_CODEC_EINVAL;
    if (codec == TE_CODEC_STR_PLAIN) {
        if (p) memcpy(arena, in + body, (size_t)p);
    } else {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (inflateInit(&z) != Z_OK) return TE_CODEC_ECORRUPT;
        z.next_in = (Bytef *)(uintptr_t)(in + body);
        z.avail_in = (uInt)(len - body);
        if (len - body > UINT32_MAX) {
            inflateEnd(&z);
            return TE_CODEC_ECORRUPT;
        }
        uint8_t spare;
        z.next_out = p ? (Bytef *)arena : &spare;
        z.avail_out = (uInt)p;
        int zr = inflate(&z, Z_FINISH);
        int ok = zr == Z_STREAM_END && z.total_out == p && z.avail_in == 0;
        inflateEnd(&z);
        if (!ok) return TE_CODEC_ECORRUPT;
    }
    /* lengths then bytes, inside arena[0..p) */
    rd r;
    rd_init(&r, (const uint8_t *)arena, (size_t)p);
    for (size_t i = 0; i < n; i++) {
        uint64_t l = rd_uv(&r);
        if (r.bad) return TE_CODEC_ECORRUPT;
        if (l > p) return TE_CODEC_ECORRUPT;
        lens[i] = (size_t)l;
    }
    size_t off = r.pos;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] > p - off) return TE_CODEC_ECORRUPT;
        offs[i] = off;
        off += lens[i];
    }
    if (off != p) return TE_CODEC_ECORRUPT;
    return (ptrdiff_t)n;
}

/* ------------------------------------------------------------------ misc */
int te_codec_id(const uint8_t *in, size_t len) {
    if (!in || len == 0) return TE_CODEC_ECORRUPT;
    return in[0];
}

ptrdiff_t te_codec_count(const uint8_t *in, size_t len) {
    if (!in && len) return TE_CODEC_EINVAL;
    rd r;
    rd_init(&r, in, len);
    (void)rd_byte(&r);
    uint64_t n = rd_uv(&r);
    if (r.bad || n > (uint64_t)PTRDIFF_MAX) return TE_CODEC_ECORRUPT;
    return (ptrdiff_t)n;
}

const char *te_codec_name(int id) {
    switch (id) {
    case TE_CODEC_INT_RAW: return "int-raw";
    case TE_CODEC_INT_RLE: return "int-rle";
    case TE_CODEC_INT_DELTA: return "int-delta";
    case TE_CODEC_INT_DOD: return "int-dod";
    case TE_CODEC_INT_DELTA_RLE: return "int-delta-rle";
    case TE_CODEC_INT_FOR: return "int-for";
    case TE_CODEC_INT_LINEAR: return "int-linear";
    case TE_CODEC_F64_RAW: return "f64-raw";
    case TE_CODEC_F64_GORILLA: return "f64-gorilla";
    case TE_CODEC_F64_DECIMAL: return "f64-decimal";
    case TE_CODEC_BOOL_BITS: return "bool-bits";
    case TE_CODEC_BOOL_RLE: return "bool-rle";
    case TE_CODEC_STR_PLAIN: return "str-plain";
    case TE_CODEC_STR_ZLIB: return "str-zlib";
    default: return "unknown";
    }
}

const char *te_codec_strerror(int err) {
    switch (err) {
    case TE_CODEC_ENOSPC: return "output buffer too small";
    case TE_CODEC_ECORRUPT: return "corrupt or truncated column";
    case TE_CODEC_ETOOMANY: return "more values than the output holds";
    case TE_CODEC_EINVAL: return "invalid argument";
    case TE_CODEC_ETYPE: return "wrong column type";
    default: return err >= 0 ? "ok" : "unknown error";
    }
}

/* ------------------------------------------------------------------ blocks
 * [magic 0xB7][version 1][type][flags][uvarint n][uvarint ts_len][ts column][uvarint val_len]
 * [value column][CRC-32 LE of all preceding bytes, if flags & TE_BLOCK_FLAG_CRC] */
static ptrdiff_t enc_values(int type, const void *vals, size_t n, uint8_t *out, size_t cap) {
    switch (type) {
    case TE_BLOCK_F64: return te_codec_encode_f64((const double *)vals, n, out, cap);
    case TE_BLOCK_I64: return te_codec_encode_i64((const int64_t *)vals, n, out, cap);
    case TE_BLOCK_U64: return te_codec_encode_u64((const uint64_t *)vals, n, out, cap);
    case TE_BLOCK_BOOL: return te_codec_encode_bool((const uint8_t *)vals, n, out, cap);
    case TE_BLOCK_STR: {
        const te_codec_strs *ss = (const te_codec_strs *)vals;
        if (!ss) return TE_CODEC_EINVAL;
        return te_codec_encode_str(ss->s, ss->lens, n, out, cap);
    }
    default: return TE_CODEC_EINVAL;
    }
}

ptrdiff_t te_block_encode(int type, const int64_t *ts, const void *vals, size_t n, unsigned flags, uint8_t *out,
                          size_t cap) {
    if (!out || (n && (!ts || !vals)) || (flags & ~TE_BLOCK_FLAG_CRC)) return TE_CODEC_EINVAL;
    if (type < TE_BLOCK_F64 || type > TE_BLOCK_STR) return TE_CODEC_EINVAL;
    uint8_t scratch[4 + 10 + 10];
    wr w;
    wr_init(&w, out, cap);
    wr_byte(&w, TE_BLOCK_MAGIC);
    wr_byte(&w, TE_BLOCK_VERSION);
    wr_byte(&w, (uint8_t)type);
    wr_byte(&w, (uint8_t)flags);
    wr_uv(&w, n);
    if (w.full) return TE_CODEC_ENOSPC;
    /* the ts column is written after a 10-byte gap for its length, then moved down */
    size_t at = w.pos;
    if (cap - at < 10) return TE_CODEC_ENOSPC;
    ptrdiff_t tl = te_codec_encode_ts(ts, n, out + at + 10, cap - at - 10);
    if (tl < 0) return tl;
    wr_init(&w, scratch, sizeof scratch);
    wr_uv(&w, (uint64_t)tl);
    size_t ll = w.pos;
    memmove(out + at + ll, out + at + 10, (size_t)tl);
    memcpy(out + at, scratch, ll);
    at += ll + (size_t)tl;
    if (cap - at < 10) return TE_CODEC_ENOSPC;
    ptrdiff_t vl = enc_values(type, vals, n, out + at + 10, cap - at - 10);
    if (vl < 0) return vl;
    wr_init(&w, scratch, sizeof scratch);
    wr_uv(&w, (uint64_t)vl);
    ll = w.pos;
    memmove(out + at + ll, out + at + 10, (size_t)vl);
    memcpy(out + at, scratch, ll);
    at += ll + (size_t)vl;
    if (flags & TE_BLOCK_FLAG_CRC) {
        if (cap - at < 4) return TE_CODEC_ENOSPC;
        uLong c = crc32(0L, Z_NULL, 0);
        size_t done = 0;
        while (done < at) {
            size_t step = at - done > (1u << 30) ? (1u << 30) : at - done;
            c = crc32(c, out + done, (uInt)step);
            done += step;
        }
        for (int i = 0; i < 4; i++) out[at + (size_t)i] = (uint8_t)(c >> (8 * i));
        at += 4;
    }
    return (ptrdiff_t)at;
}

int te_block_parse(const uint8_t *in, size_t len, te_block_info *info) {
    if (!info || (!in && len)) return TE_CODEC_EINVAL;
    rd r;
    rd_init(&r, in, len);
    uint8_t magic = rd_byte(&r), ver = rd_byte(&r), type = rd_byte(&r), flags = rd_byte(&r);
    uint64_t n = rd_uv(&r);
    if (r.bad || magic != TE_BLOCK_MAGIC || ver != TE_BLOCK_VERSION) return TE_CODEC_ECORRUPT;
    if (type < TE_BLOCK_F64 || type > TE_BLOCK_STR || (flags & ~TE_BLOCK_FLAG_CRC)) return TE_CODEC_ECORRUPT;
    size_t end = len;
    if (flags & TE_BLOCK_FLAG_CRC) {
        if (len < 4) return TE_CODEC_ECORRUPT;
        end = len - 4;
        uLong c = crc32(0L, Z_NULL, 0);
        size_t done = 0;
        while (done < end) {
            size_t step = end - done > (1u << 30) ? (1u << 30) : end - done;
            c = crc32(c, in + done, (uInt)step);
            done += step;
        }
        uint32_t stored = (uint32_t)in[end] | (uint32_t)in[end + 1] << 8 | (uint32_t)in[end + 2] << 16 |
                          (uint32_t)in[end + 3] << 24;
        if ((uint32_t)c != stored) return TE_CODEC_ECORRUPT;
        r.len = end;
        if (r.pos > end) return TE_CODEC_ECORRUPT;
    }
    uint64_t tl = rd_uv(&r);
    if (r.bad || tl > r.len - r.pos) return TE_CODEC_ECORRUPT;
    info->ts = in + r.pos;
    info->ts_len = (size_t)tl;
    r.pos += (size_t)tl;
    uint64_t vl = rd_uv(&r);
    if (r.bad || vl != r.len - r.pos) return TE_CODEC_ECORRUPT;
    info->val = in + r.pos;
    info->val_len = (size_t)vl;
    if (n > (uint64_t)PTRDIFF_MAX) return TE_CODEC_ECORRUPT;
    /* both columns must state the block's count */
    if (te_codec_count(info->ts, info->ts_len) != (ptrdiff_t)n ||
        te_codec_count(info->val, info->val_len) != (ptrdiff_t)n)
        return TE_CODEC_ECORRUPT;
    info->type = type;
    info->flags = flags;
    info->n = (size_t)n;
    return 0;
}

static ptrdiff_t block_ts(const te_block_info *bi, int64_t *ts, size_t max) {
    if (bi->n > max) return TE_CODEC_ETOOMANY;
    ptrdiff_t k = te_codec_decode_ts(bi->ts, bi->ts_len, ts, max);
    if (k < 0) return k == TE_CODEC_ETYPE ? TE_CODEC_ECORRUPT : k;
    return k == (ptrdiff_t)bi->n ? k : TE_CODEC_ECORRUPT;
}

ptrdiff_t te_block_decode(const uint8_t *in, size_t len, int64_t *ts, void *vals, size_t max) {
    te_block_info bi;
    int rc = te_block_parse(in, len, &bi);
    if (rc < 0) return rc;
    if (bi.type == TE_BLOCK_STR) return TE_CODEC_ETYPE;
    ptrdiff_t k = block_ts(&bi, ts, max);
    if (k < 0) return k;
    switch (bi.type) {
    case TE_BLOCK_F64: k = te_codec_decode_f64(bi.val, bi.val_len, (double *)vals, max); break;
    case TE_BLOCK_I64: k = te_codec_decode_i64(bi.val, bi.val_len, (int64_t *)vals, max); break;
    case TE_BLOCK_U64: k = te_codec_decode_u64(bi.val, bi.val_len, (uint64_t *)vals, max); break;
    default: k = te_codec_decode_bool(bi.val, bi.val_len, (uint8_t *)vals, max); break;
    }
    if (k < 0) return k == TE_CODEC_ETYPE ? TE_CODEC_ECORRUPT : k;
    return k == (ptrdiff_t)bi.n ? k : TE_CODEC_ECORRUPT;
}

ptrdiff_t te_block_decode_str(const uint8_t *in, size_t len, int64_t *ts, size_t *offs, size_t *lens, size_t max,
                              char *arena, size_t arena_cap) {
    te_block_info bi;
    int rc = te_block_parse(in, len, &bi);
    if (rc < 0) return rc;
    if (bi.type != TE_BLOCK_STR) return TE_CODEC_ETYPE;
    ptrdiff_t k = block_ts(&bi, ts, max);
    if (k < 0) return k;
    k = te_codec_decode_str(bi.val, bi.val_len, offs, lens, max, arena, arena_cap);
    if (k < 0) return k == TE_CODEC_ETYPE ? TE_CODEC_ECORRUPT : k;
    return k == (ptrdiff_t)bi.n ? k : TE_CODEC_ECORRUPT;
}
