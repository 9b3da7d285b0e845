/* tsdb/lineproto: InfluxDB line protocol parser and encoder, pure C11 (no I/O, no allocation).
 *
 * Parses a whole write body line by line, the way InfluxDB 1.x (models/points.go) does: lines are
 * split on '\n' outside quoted string values, blank and '#' lines are skipped, each bad line yields
 * InfluxDB's message "unable to parse '<line>': <reason>" and parsing goes on with the next line.
 * Elements are returned zero-copy (pointers into the body) unless they contain a backslash, in which
 * case they are unescaped into the parser's arena. All memory comes from one caller-provided arena
 * (tsdb_lp_arena_size() tells how big); nothing is allocated per point.
 *
 * Escapes (what the parser unescapes, as InfluxDB does): measurement and field keys \, \  \= \" ;
 * tag keys and values \, \  \= ; string field values \" \\ . Any other backslash stays literal.
 * Tags come out sorted by (unescaped) key; series_key is the canonical "measurement,k=v,..." with
 * measurement escaping ", " and tag escaping ",= " (InfluxDB's models.MakeKey form). A field key seen
 * twice in one line keeps its first position and its last value. See docs/tsdb-lineproto.md.
 *
 * Contract, one line per function:
 *   tsdb_lp_opts_default(o)             defaults: ns precision, now 0, limits below, no unsigned
 *   tsdb_lp_precision_parse(s)          "", n, ns, u, us, ms, s, m, h -> TSDB_LP_PREC_*, -1 otherwise
 *   tsdb_lp_precision_mult(p)           nanoseconds per unit of precision p (1 for an unknown p)
 *   tsdb_lp_arena_size(o)               bytes of arena a parser with options o needs
 *   tsdb_lp_parser_init(p,buf,n,o,arena,alen)  start parsing buf[0..n); -1 if arena too small/bad opts
 *   tsdb_lp_next(p,pt)                  next line: 1 point in *pt (valid until the next call),
 *                                       0 end of body, -1 bad line (tsdb_lp_error_message tells why)
 *   tsdb_lp_error_message(p,out,cap)    the last bad line's InfluxDB message, NUL-terminated, truncated
 *                                       to cap; returns the full length (like snprintf)
 *   tsdb_lp_parse_all(buf,n,o,arena,alen,cb,ctx,res,errbuf,errcap)  parse a whole body: cb per point
 *                                       (nonzero return stops), errors joined by '\n' into errbuf as
 *                                       InfluxDB joins them; returns bad-line count or -1 (arena)
 *   tsdb_lp_time_to_ns(ts,prec,&ns,err,el)  timestamp in precision units -> ns with InfluxDB's checks
 *   tsdb_lp_encode(pt,prec,out,cap,&len)    point -> one line (with '\n'); 0, TSDB_LP_ENOSPACE (len =
 *                                       bytes needed) or TSDB_LP_EINVAL (unrepresentable point)
 *   tsdb_lp_format_float(v,out,cap)     shortest text that parses back to exactly v; length or 0
 */
#ifndef TE_TSDB_LINEPROTO_H
#define TE_TSDB_LINEPROTO_H

#include <stddef.h>
#include <stdint.h>

#define TSDB_LP_ENOSPACE (-1) /* encoder: output buffer too small */
#define TSDB_LP_EINVAL (-2)   /* encoder: point cannot be written as line protocol */

/* InfluxDB's representable time range (models.MinNanoTime / MaxNanoTime) */
#define TSDB_LP_MIN_NS (INT64_MIN + 2)
#define TSDB_LP_MAX_NS (INT64_MAX - 1)

#define TSDB_LP_DEFAULT_MAX_LINE (256u * 1024u) /* bytes per line (InfluxDB: unlimited) */
#define TSDB_LP_DEFAULT_MAX_TAGS 256u
#define TSDB_LP_DEFAULT_MAX_FIELDS 1024u
#define TSDB_LP_MAX_STRING 65536u  /* bytes of an unescaped string field value (InfluxDB docs: 64 KB) */
#define TSDB_LP_MAX_KEY 65535u     /* InfluxDB's models.MaxKeyLength */
#define TSDB_LP_REASON_MAX 160

enum { TSDB_LP_PREC_NS = 0, TSDB_LP_PREC_US, TSDB_LP_PREC_MS, TSDB_LP_PREC_S, TSDB_LP_PREC_M, TSDB_LP_PREC_H };

#define TSDB_LP_ALLOW_UNSIGNED 1u /* accept `123u` fields (InfluxDB 1.x rejects them: "invalid number") */

typedef enum { TSDB_LP_FLOAT = 1, TSDB_LP_INT, TSDB_LP_UINT, TSDB_LP_STRING, TSDB_LP_BOOL } tsdb_lp_type;

typedef struct {
    const char *ptr; /* not NUL-terminated */
    size_t len;
} tsdb_lp_str;

typedef struct {
    tsdb_lp_str key, value;
} tsdb_lp_tag;

typedef struct {
    tsdb_lp_str key;
    tsdb_lp_type type;
    union {
        double f;
        int64_t i;
        uint64_t u;
        int b;         /* 0 or 1 */
        tsdb_lp_str s; /* unescaped */
    } v;
} tsdb_lp_field;

typedef struct {
    tsdb_lp_str measurement; /* unescaped */
    tsdb_lp_str series_key;  /* canonical escaped "measurement,k=v,..." (tags sorted) */
    tsdb_lp_tag *tags;       /* sorted by key, no duplicates, unescaped */
    size_t ntags;
    tsdb_lp_field *fields; /* line order, duplicates merged (last value wins) */
    size_t nfields;
    int64_t time_ns;  /* the line's timestamp, or now truncated to the precision */
    int has_time;     /* 1 when the line carried a timestamp */
    tsdb_lp_str line; /* the raw line (leading blanks and trailing CR stripped) */
} tsdb_lp_point;

typedef struct {
    int precision;     /* TSDB_LP_PREC_*: unit of the lines' timestamps */
    int64_t now_ns;    /* time of lines without a timestamp (truncated to the precision) */
    size_t max_line;   /* longer lines are rejected ("max line length exceeded") */
    size_t max_tags;   /* per line */
    size_t max_fields; /* per line */
    unsigned flags;    /* TSDB_LP_ALLOW_UNSIGNED */
} tsdb_lp_opts;

typedef struct {
    const char *buf;
    size_t len, pos;
    tsdb_lp_opts o;
    tsdb_lp_tag *tags;
    tsdb_lp_field *fields;
    char *scratch; /* unescaped elements and the series key */
    size_t scratch_cap, scratch_used;
    char *numbuf; /* NUL-terminated copies of long numbers for strtod */
    size_t numbuf_cap;
    size_t lineno;      /* 1-based line number of the last line returned */
    tsdb_lp_str errline; /* last bad line */
    char reason[TSDB_LP_REASON_MAX];
} tsdb_lp_parser;

typedef struct {
    size_t points;  /* accepted */
    size_t dropped; /* bad lines */
    int stopped;    /* the callback asked to stop */
    int truncated;  /* errbuf could not hold every message */
} tsdb_lp_result;

typedef int (*tsdb_lp_point_cb)(void *ctx, const tsdb_lp_point *pt);

void tsdb_lp_opts_default(tsdb_lp_opts *o);
int tsdb_lp_precision_parse(const char *s);
int64_t tsdb_lp_precision_mult(int precision);
size_t tsdb_lp_arena_size(const tsdb_lp_opts *o);
int tsdb_lp_parser_init(tsdb_lp_parser *p, const char *buf, size_t len, const tsdb_lp_opts *o, void *arena,
                        size_t arena_len);
int tsdb_lp_next(tsdb_lp_parser *p, tsdb_lp_point *pt);
size_t tsdb_lp_error_message(const tsdb_lp_parser *p, char *out, size_t cap);
long tsdb_lp_parse_all(const char *buf, size_t len, const tsdb_lp_opts *o, void *arena, size_t arena_len,
                       tsdb_lp_point_cb cb, void *ctx, tsdb_lp_result *res, char *errbuf, size_t errcap);
int tsdb_lp_time_to_ns(int64_t ts, int precision, int64_t *ns, char *err, size_t errlen);
int tsdb_lp_encode(const tsdb_lp_point *pt, int precision, char *out, size_t cap, size_t *len);
size_t tsdb_lp_format_float(double v, char *out, size_t cap);

#endif
