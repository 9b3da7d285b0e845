/* Column compression codecs of the time-series store (src/tsdb), pure C11: no I/O, no allocation
 * (except zlib's own deflate/inflate state for string columns), no libuv. One encoded column is a
 * self-describing byte string that starts with a codec id byte and the value count; decoders are
 * strictly bounds-checked: hostile bytes give a negative error, never a crash or an out-of-bounds
 * read/write, and a column must be consumed exactly (trailing bytes are an error).
 * Byte-by-byte formats, the automatic codec choice and measured sizes: docs/tsdb-codecs.md.
 *
 * Integers (int64, uint64 bit-cast, timestamps in ns) are coded as one of RAW, RLE, DELTA (delta,
 * divided by the gcd of the deltas, chunked frame-of-reference bit packing), DOD (same on
 * delta-of-deltas), DELTA_RLE (run-length of deltas: the constant-interval case), FOR (chunked
 * frame-of-reference on the values) or LINEAR (FOR on the residuals from a line: jittered regular
 * timestamps); the encoder sizes every mode without writing and keeps the
 * smallest. Floats: DECIMAL (every value is k/10^d exactly, d in 0..6: the ints k go through the
 * integer modes), GORILLA (Facebook's XOR scheme) or RAW, smallest wins. Every float codec is
 * bit-exact: -0.0, denormals, infinities and NaN payloads come back with the same 64 bits.
 * Booleans: BITS or RLE. Strings: length-prefixed concatenation, zlib-compressed if smaller.
 *
 * Contract, one line per function (ptrdiff_t results: >= 0 on success, else a TE_CODEC_E* value):
 *   te_codec_bound(n)                         worst-case size of an automatically encoded numeric/bool
 *                                             column of n values (8n+32); forced modes may need 11n+11
 *   te_codec_encode_i64(v,n,out,cap)          int64 column -> bytes used (best mode)
 *   te_codec_encode_i64_as(mode,v,n,out,cap)  same with a forced TE_CODEC_INT_* mode (tests, tools)
 *   te_codec_decode_i64(in,len,out,max)       bytes -> values written (<= max, else ETOOMANY)
 *   te_codec_encode_u64 / te_codec_decode_u64 same for uint64 (bit-cast, wrap-around arithmetic)
 *   te_codec_encode_ts / te_codec_decode_ts   same for timestamps (int64 ns, any order, any range)
 *   te_codec_encode_f64(v,n,out,cap)          double column -> bytes (DECIMAL, GORILLA or RAW)
 *   te_codec_encode_f64_as(codec,v,n,out,cap) forced TE_CODEC_F64_* codec; EINVAL if DECIMAL does not fit
 *   te_codec_decode_f64(in,len,out,max)       bytes -> values written
 *   te_codec_encode_bool(v,n,out,cap)         bytes 0/non-0 -> BITS or RLE column
 *   te_codec_decode_bool(in,len,out,max)      -> values written (each 0 or 1)
 *   te_codec_str_bound(lens,n)                exact size of the plain string column (encode never needs more)
 *   te_codec_encode_str(s,lens,n,out,cap)     strings (not NUL-terminated, lens[i] bytes) -> bytes
 *   te_codec_str_arena_need(in,len)           bytes of arena te_codec_decode_str needs, or error
 *   te_codec_decode_str(in,len,offs,lens,max,arena,acap)  -> n; string i is arena[offs[i]], lens[i] bytes
 *   te_codec_id(in,len) / te_codec_count(in,len)  codec id byte / value count of a column, or error
 *   te_codec_name(id) / te_codec_strerror(err)    static strings
 *   te_block_encode(type,ts,vals,n,flags,out,cap) one series+field block: header, ts column, value
 *                                             column[, CRC]; needs cap >= 2*te_codec_bound(n)+40 (numeric)
 *   te_block_parse(in,len,&info)              validate a block's framing (and CRC) -> 0 or error
 *   te_block_decode(in,len,ts,vals,max)       numeric/bool block -> n; vals typed by the block's type
 *   te_block_decode_str(in,len,ts,offs,lens,max,arena,acap)  string block -> n
 */
#ifndef TE_TSDB_CODEC_H
#define TE_TSDB_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* errors (negative results) */
#define TE_CODEC_ENOSPC (-1)   /* output buffer too small */
#define TE_CODEC_ECORRUPT (-2) /* malformed, truncated or trailing bytes */
#define TE_CODEC_ETOOMANY (-3) /* the column holds more values than max */
#define TE_CODEC_EINVAL (-4)   /* bad argument (unknown mode, value not representable, size cap) */
#define TE_CODEC_ETYPE (-5)    /* wrong column or block type for this decoder */

/* codec id: first byte of every column */
#define TE_CODEC_INT_RAW 0x01
#define TE_CODEC_INT_RLE 0x02
#define TE_CODEC_INT_DELTA 0x03
#define TE_CODEC_INT_DOD 0x04
#define TE_CODEC_INT_DELTA_RLE 0x05
#define TE_CODEC_INT_FOR 0x06
#define TE_CODEC_INT_LINEAR 0x07
#define TE_CODEC_F64_RAW 0x10
#define TE_CODEC_F64_GORILLA 0x11
#define TE_CODEC_F64_DECIMAL 0x12
#define TE_CODEC_BOOL_BITS 0x20
#define TE_CODEC_BOOL_RLE 0x21
#define TE_CODEC_STR_PLAIN 0x30
#define TE_CODEC_STR_ZLIB 0x31

#define TE_CODEC_DECIMAL_MAX_DIGITS 6
#define TE_CODEC_STR_MAX_TOTAL (64u * 1024u * 1024u) /* cap on a string column's raw payload */

size_t te_codec_bound(size_t n);

ptrdiff_t te_codec_encode_i64(const int64_t *v, size_t n, uint8_t *out, size_t cap);
ptrdiff_t te_codec_encode_i64_as(int mode, const int64_t *v, size_t n, uint8_t *out, size_t cap);
ptrdiff_t te_codec_decode_i64(const uint8_t *in, size_t len, int64_t *out, size_t max);
ptrdiff_t te_codec_encode_u64(const uint64_t *v, size_t n, uint8_t *out, size_t cap);
ptrdiff_t te_codec_decode_u64(const uint8_t *in, size_t len, uint64_t *out, size_t max);
ptrdiff_t te_codec_encode_ts(const int64_t *ts, size_t n, uint8_t *out, size_t cap);
ptrdiff_t te_codec_decode_ts(const uint8_t *in, size_t len, int64_t *out, size_t max);

ptrdiff_t te_codec_encode_f64(const double *v, size_t n, uint8_t *out, size_t cap);
ptrdiff_t te_codec_encode_f64_as(int codec, const double *v, size_t n, uint8_t *out, size_t cap);
ptrdiff_t te_codec_decode_f64(const uint8_t *in, size_t len, double *out, size_t max);

ptrdiff_t te_codec_encode_bool(const uint8_t *v, size_t n, uint8_t *out, size_t cap);
ptrdiff_t te_codec_decode_bool(const uint8_t *in, size_t len, uint8_t *out, size_t max);

size_t te_codec_str_bound(const size_t *lens, size_t n);
ptrdiff_t te_codec_encode_str(const char *const *s, const size_t *lens, size_t n, uint8_t *out, size_t cap);
ptrdiff_t te_codec_str_arena_need(const uint8_t *in, size_t len);
ptrdiff_t te_codec_decode_str(const uint8_t *in, size_t len, size_t *offs, size_t *lens, size_t max, char *arena,
                              size_t arena_cap);

int te_codec_id(const uint8_t *in, size_t len);
ptrdiff_t te_codec_count(const uint8_t *in, size_t len);
const char *te_codec_name(int id);
const char *te_codec_strerror(int err);

/* ---- blocks: one series' one field over a time range ---- */
enum te_block_type { TE_BLOCK_F64 = 1, TE_BLOCK_I64 = 2, TE_BLOCK_U64 = 3, TE_BLOCK_BOOL = 4, TE_BLOCK_STR = 5 };
#define TE_BLOCK_FLAG_CRC 0x01u /* append a CRC-32 (zlib polynomial) of everything before it */
#define TE_BLOCK_MAGIC 0xB7
#define TE_BLOCK_VERSION 1

/* values for a TE_BLOCK_STR block (vals argument of te_block_encode) */
typedef struct te_codec_strs {
    const char *const *s;
    const size_t *lens;
} te_codec_strs;

typedef struct te_block_info {
    int type;           /* enum te_block_type */
    unsigned flags;     /* TE_BLOCK_FLAG_* */
    size_t n;           /* points in the block */
    const uint8_t *ts;  /* timestamp column (a te_codec_decode_ts input) */
    size_t ts_len;
    const uint8_t *val; /* value column */
    size_t val_len;
} te_block_info;

/* vals: const double* (F64), const int64_t* (I64), const uint64_t* (U64), const uint8_t* (BOOL),
 * const te_codec_strs* (STR). Returns the block size. */
ptrdiff_t te_block_encode(int type, const int64_t *ts, const void *vals, size_t n, unsigned flags, uint8_t *out,
                          size_t cap);
int te_block_parse(const uint8_t *in, size_t len, te_block_info *info);
/* vals: double*, int64_t*, uint64_t* or uint8_t* matching the block's type; ETYPE for a string block */
ptrdiff_t te_block_decode(const uint8_t *in, size_t len, int64_t *ts, void *vals, size_t max);
ptrdiff_t te_block_decode_str(const uint8_t *in, size_t len, int64_t *ts, size_t *offs, size_t *lens, size_t max,
                              char *arena, size_t arena_cap);

#endif
