/* tsdb/lineproto: InfluxDB line protocol parser and encoder (see lineproto.h for the contract and
 * docs/tsdb-lineproto.md for what is accepted). The scanners follow InfluxDB 1.x models/points.go
 * step by step (scanLine, scanMeasurement, scanTagsKey/Value, scanFields, scanNumber, scanBoolean,
 * scanTime) so that the same lines fail with the same messages; values are converted while scanning. */
#include "tsdb/lineproto.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- options, precision, time */

void tsdb_lp_opts_default(tsdb_lp_opts *o) {
    memset(o, 0, sizeof *o);
    o->precision = TSDB_LP_PREC_NS;
    o->max_line = TSDB_LP_DEFAULT_MAX_LINE;
    o->max_tags = TSDB_LP_DEFAULT_MAX_TAGS;
    o->max_fields = TSDB_LP_DEFAULT_MAX_FIELDS;
}

int tsdb_lp_precision_parse(const char *s) {
    if (!s || !*s || !strcmp(s, "n") || !strcmp(s, "ns")) return TSDB_LP_PREC_NS;
    if (!strcmp(s, "u") || !strcmp(s, "us")) return TSDB_LP_PREC_US;
    if (!strcmp(s, "ms")) return TSDB_LP_PREC_MS;
    if (!strcmp(s, "s")) return TSDB_LP_PREC_S;
    if (!strcmp(s, "m")) return TSDB_LP_PREC_M;
    if (!strcmp(s, "h")) return TSDB_LP_PREC_H;
    return -1;
}

int64_t tsdb_lp_precision_mult(int precision) {
    switch (precision) {
    case TSDB_LP_PREC_US: return 1000;
    case TSDB_LP_PREC_MS: return 1000000;
    case TSDB_LP_PREC_S: return 1000000000;
    case TSDB_LP_PREC_M: return 60LL * 1000000000;
    case TSDB_LP_PREC_H: return 3600LL * 1000000000;
    default: return 1;
    }
}

static void set_err(char *err, size_t el, const char *fmt, ...) {
    if (!err || !el) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, el, fmt, ap);
    va_end(ap);
}

#define TIME_RANGE_MSG "time outside range -9223372036854775806 - 9223372036854775806"

int tsdb_lp_time_to_ns(int64_t ts, int precision, int64_t *ns, char *err, size_t errlen) {
    int64_t m = tsdb_lp_precision_mult(precision), r;
    if (__builtin_mul_overflow(ts, m, &r) || r < TSDB_LP_MIN_NS || r > TSDB_LP_MAX_NS) {
        set_err(err, errlen, "%s", TIME_RANGE_MSG);
        return -1;
    }
    *ns = r;
    return 0;
}

/* ---------------------------------------------------------------- arena */

#define ALIGN_UP(x) (((x) + 15u) & ~(size_t)15u)

static int opts_ok(const tsdb_lp_opts *o) {
    return o && o->max_line > 0 && o->max_line <= (SIZE_MAX / 4) && o->max_tags <= (1u << 20) &&
           o->max_fields > 0 && o->max_fields <= (1u << 20) && o->precision >= TSDB_LP_PREC_NS &&
           o->precision <= TSDB_LP_PREC_H;
}

static size_t scratch_need(const tsdb_lp_opts *o) { return 2 * o->max_line + o->max_tags + 64; }

size_t tsdb_lp_arena_size(const tsdb_lp_opts *o) {
    if (!opts_ok(o)) return 0;
    return ALIGN_UP(o->max_tags * sizeof(tsdb_lp_tag)) + ALIGN_UP(o->max_fields * sizeof(tsdb_lp_field)) +
           ALIGN_UP(scratch_need(o)) + ALIGN_UP(o->max_line + 1) + 16;
}

int tsdb_lp_parser_init(tsdb_lp_parser *p, const char *buf, size_t len, const tsdb_lp_opts *o, void *arena,
                        size_t arena_len) {
    if (!p || (!buf && len) || !opts_ok(o) || !arena || arena_len < tsdb_lp_arena_size(o)) return -1;
    memset(p, 0, sizeof *p);
    p->buf = buf;
    p->len = len;
    p->o = *o;
    uintptr_t a = ((uintptr_t)arena + 15u) & ~(uintptr_t)15u;
    p->tags = (tsdb_lp_tag *)a;
    a += ALIGN_UP(o->max_tags * sizeof(tsdb_lp_tag));
    p->fields = (tsdb_lp_field *)a;
    a += ALIGN_UP(o->max_fields * sizeof(tsdb_lp_field));
    p->scratch = (char *)a;
    p->scratch_cap = scratch_need(o);
    a += ALIGN_UP(scratch_need(o));
    p->numbuf = (char *)a;
    p->numbuf_cap = o->max_line + 1;
    return 0;
}

/* ---------------------------------------------------------------- helpers */

static int fail(tsdb_lp_parser *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->reason, sizeof p->reason, fmt, ap);
    va_end(ap);
    return -1;
}

static char *salloc(tsdb_lp_parser *p, size_t n) {
    if (p->scratch_cap - p->scratch_used < n) return NULL;
    char *r = p->scratch + p->scratch_used;
    p->scratch_used += n;
    return r;
}

enum { ESC_MEAS, ESC_TAG, ESC_FKEY, ESC_STR };

/* which X turns "\X" into X when unescaping (InfluxDB: escape.Unescape, unescapeTag, unescapeStringField) */
static int unesc_char(int kind, char c) {
    switch (kind) {
    case ESC_MEAS:
    case ESC_FKEY: return c == ',' || c == ' ' || c == '=' || c == '"';
    case ESC_TAG: return c == ',' || c == ' ' || c == '=';
    default: return c == '"' || c == '\\';
    }
}

/* element [s, s+n) of the line -> *out, unescaped into scratch only when it holds a backslash */
static int element(tsdb_lp_parser *p, const char *s, size_t n, int kind, tsdb_lp_str *out) {
    if (!memchr(s, '\\', n)) {
        out->ptr = s;
        out->len = n;
        return 0;
    }
    char *d = salloc(p, n);
    if (!d) return fail(p, "line too complex");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && unesc_char(kind, s[i + 1])) i++;
        d[k++] = s[i];
    }
    out->ptr = d;
    out->len = k;
    p->scratch_used -= n - k;
    return 0;
}

static int str_cmp(tsdb_lp_str a, tsdb_lp_str b) {
    size_t m = a.len < b.len ? a.len : b.len;
    int c = m ? memcmp(a.ptr, b.ptr, m) : 0;
    if (c) return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

static int str_eq(tsdb_lp_str a, tsdb_lp_str b) { return a.len == b.len && (!a.len || !memcmp(a.ptr, b.ptr, a.len)); }

static int tag_cmp(const void *a, const void *b) {
    return str_cmp(((const tsdb_lp_tag *)a)->key, ((const tsdb_lp_tag *)b)->key);
}

static int is_numeric(char c) { return (c >= '0' && c <= '9') || c == '.'; }

static size_t skip_ws(const char *b, size_t n, size_t i) {
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == 0)) i++;
    return i;
}

static const double pow10_tab[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* float token (already validated by scan_number's grammar): exact fast path when the decimal
 * mantissa fits 2^53 and the power of ten is exact, else strtod. 0 ok, -1 not a finite double. */
static int parse_float(tsdb_lp_parser *p, const char *s, size_t n, double *out) {
    size_t i = 0;
    int neg = 0;
    if (i < n && s[i] == '-') neg = 1, i++;
    uint64_t mant = 0;
    int digits = 0, frac = 0, seen = 0, dot = 0, ok = 1;
    for (; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            seen = 1;
            if (dot) frac++;
            if (mant == 0 && c == '0') continue;
            if (++digits > 19) {
                ok = 0;
                break;
            }
            mant = mant * 10 + (uint64_t)(c - '0');
        } else if (c == '.') {
            dot = 1;
        } else {
            break;
        }
    }
    long e = 0;
    if (ok && i < n) { /* exponent */
        if (s[i] != 'e' && s[i] != 'E') ok = 0;
        else {
            i++;
            int eneg = 0, ed = 0;
            if (i < n && (s[i] == '+' || s[i] == '-')) eneg = s[i] == '-', i++;
            for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, ed++)
                if (e < 100000) e = e * 10 + (s[i] - '0');
            if (!ed || i != n) ok = 0;
            if (eneg) e = -e;
        }
    }
    if (ok && seen) {
        long p10 = e - frac;
        if (mant == 0) {
            *out = neg ? -0.0 : 0.0;
            return 0;
        }
        if (mant <= (1ULL << 53) && p10 >= -22 && p10 <= 22) {
            double d = (double)mant;
            d = p10 < 0 ? d / pow10_tab[-p10] : d * pow10_tab[p10];
            *out = neg ? -d : d;
            return 0;
        }
    }
    if (n >= p->numbuf_cap) return -1;
    memcpy(p->numbuf, s, n);
    p->numbuf[n] = 0;
    char *end = NULL;
    errno = 0;
    double d = strtod(p->numbuf, &end);
    if (end != p->numbuf + n || isinf(d) || isnan(d)) return -1;
    *out = d;
    return 0;
}

/* decimal digits (optional '-' when !uns) -> value; -1 on overflow/syntax like Go's strconv */
static int parse_i64(const char *s, size_t n, int64_t *out) {
    size_t i = 0;
    int neg = 0;
    if (n && s[0] == '-') neg = 1, i = 1;
    if (i >= n) return -2; /* invalid syntax */
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -2;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) return -1;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX) return -1;
        *out = (int64_t)v;
    }
    return 0;
}

static int parse_u64(const char *s, size_t n, uint64_t *out) {
    if (!n) return -2;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -2;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* ---------------------------------------------------------------- field values */

/* scanNumber: value at b[s..], ends at ',' ' ' or n; *end = terminator position */
static int scan_number(tsdb_lp_parser *p, const char *b, size_t n, size_t s, size_t *end, tsdb_lp_field *f) {
    size_t i = s;
    int is_int = 0, is_uns = 0, decimal = 0, sci = 0;
    if (i < n && b[i] == '-') {
        i++;
        if (i == n) return fail(p, "invalid number");
    }
    for (;;) {
        if (i >= n) break;
        char c = b[i];
        if (c == ',' || c == ' ') break;
        if (c == 'i' && i > s && !(is_int || is_uns)) {
            is_int = 1;
            i++;
            continue;
        } else if (c == 'u' && i > s && !(is_int || is_uns)) {
            is_uns = 1;
            i++;
            continue;
        }
        if (c == '.') {
            if (decimal) return fail(p, "invalid number");
            decimal = 1;
        }
        if (i > s && (c == 'e' || c == 'E')) {
            sci = 1;
            i++;
            continue;
        }
        if ((c == '+' || c == '-') && (b[i - 1] == 'e' || b[i - 1] == 'E')) {
            i++;
            continue;
        }
        if (i + 2 < n && (c == 'N' || c == 'n')) return fail(p, "invalid number");
        if (!is_numeric(c)) return fail(p, "invalid number");
        i++;
    }
    *end = i;
    if ((is_int || is_uns) && (decimal || sci)) return fail(p, "invalid number");
    size_t nd = i - s;
    if (is_int) nd--;
    if (decimal) nd--;
    if (b[s] == '-') nd--;
    if (nd == 0) return fail(p, "invalid number");
    if (is_int) {
        if (b[i - 1] != 'i') return fail(p, "invalid number");
        size_t len = i - 1 - s;
        int r = parse_i64(b + s, len, &f->v.i);
        if (r)
            return fail(p, "unable to parse integer %.*s: strconv.ParseInt: parsing \"%.*s\": %s", (int)(len > 40 ? 40 : len),
                        b + s, (int)(len > 40 ? 40 : len), b + s, r == -1 ? "value out of range" : "invalid syntax");
        f->type = TSDB_LP_INT;
    } else if (is_uns) {
        if (!(p->o.flags & TSDB_LP_ALLOW_UNSIGNED)) return fail(p, "invalid number");
        if (b[i - 1] != 'u' || b[s] == '-') return fail(p, "invalid number");
        size_t len = i - 1 - s;
        int r = parse_u64(b + s, len, &f->v.u);
        if (r)
            return fail(p, "unable to parse unsigned %.*s: strconv.ParseUint: parsing \"%.*s\": %s",
                        (int)(len > 40 ? 40 : len), b + s, (int)(len > 40 ? 40 : len), b + s,
                        r == -1 ? "value out of range" : "invalid syntax");
        f->type = TSDB_LP_UINT;
    } else {
        if (parse_float(p, b + s, i - s, &f->v.f)) return fail(p, "invalid float");
        f->type = TSDB_LP_FLOAT;
    }
    return 0;
}

/* scanBoolean */
static int scan_boolean(tsdb_lp_parser *p, const char *b, size_t n, size_t s, size_t *end, tsdb_lp_field *f) {
    size_t i = s;
    char c0 = b[s];
    if (c0 != 't' && c0 != 'f' && c0 != 'T' && c0 != 'F') {
        *end = i;
        return fail(p, "invalid boolean");
    }
    i++;
    while (i < n && b[i] != ',' && b[i] != ' ') i++;
    *end = i;
    size_t len = i - s;
    const char *t = b + s;
    int valid = 0;
    if (len == 1) valid = 1;
    else if (len == 4)
        valid = !memcmp(t, "true", 4) || !memcmp(t, "TRUE", 4) || !memcmp(t, "True", 4);
    else if (len == 5)
        valid = !memcmp(t, "false", 5) || !memcmp(t, "FALSE", 5) || !memcmp(t, "False", 5);
    if (!valid) return fail(p, "invalid boolean");
    f->type = TSDB_LP_BOOL;
    f->v.b = c0 == 't' || c0 == 'T';
    return 0;
}

/* ---------------------------------------------------------------- one line */

static size_t esc_append(char *d, const char *s, size_t n, int tag) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ',' || c == ' ' || (tag && c == '=')) d[k++] = '\\';
        d[k++] = c;
    }
    return k;
}

static size_t esc_len(const char *s, size_t n, int tag) {
    size_t k = n;
    for (size_t i = 0; i < n; i++) k += s[i] == ',' || s[i] == ' ' || (tag && s[i] == '=');
    return k;
}

/* record field f (key raw [ks,ke)), merging a duplicate key (last value wins) */
static int add_field(tsdb_lp_parser *p, tsdb_lp_point *pt, const char *b, size_t ks, size_t ke,
                     const tsdb_lp_field *f) {
    if (ks == ke) return fail(p, "missing field key");
    if (pt->series_key.len + 4 + (ke - ks) > TSDB_LP_MAX_KEY)
        return fail(p, "max key length exceeded: %zu > %u", pt->series_key.len + 4 + (ke - ks), TSDB_LP_MAX_KEY);
    tsdb_lp_str key;
    size_t mark = p->scratch_used;
    if (element(p, b + ks, ke - ks, ESC_FKEY, &key)) return -1;
    for (size_t j = 0; j < pt->nfields; j++) {
        if (str_eq(p->fields[j].key, key)) {
            p->fields[j].type = f->type;
            p->fields[j].v = f->v;
            if (key.ptr != b + ks) p->scratch_used = mark; /* key copy not needed */
            return 0;
        }
    }
    if (pt->nfields >= p->o.max_fields) return fail(p, "too many fields (more than %zu)", p->o.max_fields);
    p->fields[pt->nfields] = *f;
    p->fields[pt->nfields].key = key;
    pt->nfields++;
    return 0;
}

static int parse_line(tsdb_lp_parser *p, const char *b, size_t n, tsdb_lp_point *pt) {
    p->scratch_used = 0;
    pt->tags = p->tags;
    pt->fields = p->fields;
    pt->ntags = pt->nfields = 0;

    /* scanMeasurement */
    if (n == 0 || b[0] == ',') return fail(p, "missing measurement");
    size_t i = 0, mend;
    int to_tags;
    for (;;) {
        i++;
        if (i >= n) return fail(p, "missing fields");
        if (b[i - 1] == '\\') continue;
        if (b[i] == ',') {
            to_tags = 1;
            break;
        }
        if (b[i] == ' ') {
            to_tags = 0;
            break;
        }
    }
    mend = i;
    if (to_tags) i++;

    /* scanTags */
    int sorted = 1, eq_first = 0;
    while (to_tags) {
        if (i >= n || b[i] == ' ' || b[i] == ',' || b[i] == '=') return fail(p, "missing tag key");
        size_t ks = i;
        for (;;) {
            i++;
            if (i >= n || ((b[i] == ' ' || b[i] == ',') && b[i - 1] != '\\')) return fail(p, "missing tag value");
            if (b[i] == '=' && b[i - 1] != '\\') break;
        }
        size_t ke = i++;
        if (i >= n || b[i] == ',' || b[i] == ' ') return fail(p, "missing tag value");
        size_t vs = i;
        if (b[i] == '=') eq_first = 1;
        for (;;) {
            i++;
            if (i >= n) return fail(p, "missing fields");
            if (b[i] == '=' && b[i - 1] != '\\') return fail(p, "invalid tag format");
            if (b[i] == ',' && b[i - 1] != '\\') break;
            if (b[i] == ' ' && b[i - 1] != '\\') {
                to_tags = 0;
                break;
            }
        }
        if (pt->ntags >= p->o.max_tags) return fail(p, "too many tags (more than %zu)", p->o.max_tags);
        tsdb_lp_tag *t = &p->tags[pt->ntags++];
        if (element(p, b + ks, ke - ks, ESC_TAG, &t->key) || element(p, b + vs, i - vs, ESC_TAG, &t->value)) return -1;
        if (pt->ntags > 1 && str_cmp(p->tags[pt->ntags - 2].key, t->key) >= 0) sorted = 0;
        if (to_tags) i++;
    }
    size_t keyend = i; /* at the space */
    if (element(p, b, mend, ESC_MEAS, &pt->measurement)) return -1;

    /* sort tags, reject duplicates */
    if (!sorted) {
        if (pt->ntags <= 24) {
            for (size_t a = 1; a < pt->ntags; a++) {
                tsdb_lp_tag t = p->tags[a];
                size_t c = a;
                while (c > 0 && str_cmp(p->tags[c - 1].key, t.key) > 0) {
                    p->tags[c] = p->tags[c - 1];
                    c--;
                }
                p->tags[c] = t;
            }
        } else {
            qsort(p->tags, pt->ntags, sizeof *p->tags, tag_cmp);
        }
        for (size_t a = 1; a < pt->ntags; a++)
            if (str_eq(p->tags[a - 1].key, p->tags[a].key)) return fail(p, "duplicate tags");
    }

    /* canonical series key */
    if (sorted && !eq_first && !memchr(b, '\\', keyend)) {
        pt->series_key.ptr = b;
        pt->series_key.len = keyend;
    } else {
        size_t need = esc_len(pt->measurement.ptr, pt->measurement.len, 0);
        for (size_t a = 0; a < pt->ntags; a++)
            need += 2 + esc_len(p->tags[a].key.ptr, p->tags[a].key.len, 1) +
                    esc_len(p->tags[a].value.ptr, p->tags[a].value.len, 1);
        char *d = salloc(p, need); /* need <= keyend + ntags: every escaped byte came from a "\X" pair */
        if (!d) return fail(p, "line too complex");
        size_t k = esc_append(d, pt->measurement.ptr, pt->measurement.len, 0);
        for (size_t a = 0; a < pt->ntags; a++) {
            d[k++] = ',';
            k += esc_append(d + k, p->tags[a].key.ptr, p->tags[a].key.len, 1);
            d[k++] = '=';
            k += esc_append(d + k, p->tags[a].value.ptr, p->tags[a].value.len, 1);
        }
        pt->series_key.ptr = d;
        pt->series_key.len = k;
    }
    if (pt->series_key.len > TSDB_LP_MAX_KEY)
        return fail(p, "max key length exceeded: %zu > %u", pt->series_key.len, TSDB_LP_MAX_KEY);

    /* scanFields */
    size_t start = skip_ws(b, n, i);
    i = start;
    int quoted = 0;
    size_t equals = 0, commas = 0, fstart = start, kend = 0, sstart = 0;
    tsdb_lp_field f;
    for (;;) {
        if (i >= n) break;
        char c = b[i];
        if (c == '\\' && i + 1 < n) {
            i += 2;
            continue;
        }
        if (c == '"' && equals > commas) {
            quoted = !quoted;
            if (!quoted) { /* closing quote: the string value ends here */
                if (i + 1 < n && b[i + 1] != ',' && b[i + 1] != ' ') return fail(p, "invalid field format");
                memset(&f, 0, sizeof f);
                f.type = TSDB_LP_STRING;
                size_t mark = p->scratch_used;
                const char *s = b + sstart;
                size_t sl = i - sstart;
                if (!memchr(s, '\\', sl)) {
                    f.v.s.ptr = s;
                    f.v.s.len = sl;
                } else {
                    char *d = salloc(p, sl);
                    if (!d) return fail(p, "line too complex");
                    size_t k = 0;
                    for (size_t j = 0; j < sl; j++) {
                        if (s[j] == '\\' && j + 1 < sl && (s[j + 1] == '\\' || s[j + 1] == '"')) j++;
                        d[k++] = s[j];
                    }
                    p->scratch_used = mark + k;
                    f.v.s.ptr = d;
                    f.v.s.len = k;
                }
                if (f.v.s.len > TSDB_LP_MAX_STRING)
                    return fail(p, "max string field length exceeded: %zu > %u", f.v.s.len, TSDB_LP_MAX_STRING);
                if (add_field(p, pt, b, fstart, kend, &f)) return -1;
            }
            i++;
            continue;
        }
        if (c == '=' && !quoted) {
            equals++;
            if (i >= 1 && b[i - 1] == ' ' && (i < 2 || b[i - 2] != '\\')) return fail(p, "missing field key");
            if (i >= 1 && b[i - 1] == ',' && (i < 2 || b[i - 2] != '\\')) return fail(p, "missing field key");
            if (i + 1 >= n) return fail(p, "missing field value");
            char v = b[i + 1];
            if (v == ',' || v == ' ') return fail(p, "missing field value");
            kend = i;
            if (is_numeric(v) || v == '-' || v == 'N' || v == 'n') {
                memset(&f, 0, sizeof f);
                if (scan_number(p, b, n, i + 1, &i, &f)) return -1;
                if (add_field(p, pt, b, fstart, kend, &f)) return -1;
                continue;
            }
            if (v != '"') {
                memset(&f, 0, sizeof f);
                if (scan_boolean(p, b, n, i + 1, &i, &f)) return -1;
                if (add_field(p, pt, b, fstart, kend, &f)) return -1;
                continue;
            }
            sstart = i + 2;
        }
        if (c == ',' && !quoted) {
            commas++;
            fstart = i + 1;
        }
        if (c == ' ' && !quoted) break;
        i++;
    }
    if (quoted) return fail(p, "unbalanced quotes");
    if (equals == 0 || commas != equals - 1) return fail(p, "invalid field format");
    if (pt->nfields == 0) return fail(p, "missing fields");

    /* scanTime */
    size_t ts = skip_ws(b, n, i);
    i = ts;
    for (;;) {
        if (i >= n || b[i] == '\n' || b[i] == ' ') break;
        if (i == ts && b[i] == '-') {
            i++;
            continue;
        }
        if (b[i] < '0' || b[i] > '9') return fail(p, "bad timestamp");
        i++;
    }
    if (i > ts) {
        int64_t t;
        int r = parse_i64(b + ts, i - ts, &t);
        if (r) {
            int l = (int)(i - ts > 40 ? 40 : i - ts);
            return fail(p, "strconv.ParseInt: parsing \"%.*s\": %s", l, b + ts,
                        r == -1 ? "value out of range" : "invalid syntax");
        }
        if (tsdb_lp_time_to_ns(t, p->o.precision, &pt->time_ns, NULL, 0)) return fail(p, "%s", TIME_RANGE_MSG);
        pt->has_time = 1;
        for (; i < n; i++)
            if (b[i] != ' ') return fail(p, "point is invalid");
    } else {
        int64_t m = tsdb_lp_precision_mult(p->o.precision), now = p->o.now_ns;
        int64_t r = now % m;
        if (r < 0) r += m;
        pt->time_ns = now - r;
        pt->has_time = 0;
    }
    return 0;
}

/* ---------------------------------------------------------------- body iteration */

/* scanLine: end of the line starting at i ('\n' inside a quoted field value does not end it) */
static size_t scan_line(const char *buf, size_t len, size_t i) {
    const char *nl = memchr(buf + i, '\n', len - i);
    size_t e = nl ? (size_t)(nl - buf) : len;
    if (!memchr(buf + i, '"', e - i) && !memchr(buf + i, '\\', e - i)) return e;
    int quoted = 0, fields = 0;
    size_t equals = 0, commas = 0;
    for (;;) {
        if (i >= len) break;
        char c = buf[i];
        if (c == '\\' && i + 2 < len) {
            i += 2;
            continue;
        }
        if (c == ' ') fields = 1;
        if (fields) {
            if (!quoted && c == '=') {
                i++;
                equals++;
                continue;
            } else if (!quoted && c == ',') {
                i++;
                commas++;
                continue;
            } else if (c == '"' && equals > commas) {
                i++;
                quoted = !quoted;
                continue;
            }
        }
        if (c == '\n' && !quoted) break;
        i++;
    }
    return i;
}

int tsdb_lp_next(tsdb_lp_parser *p, tsdb_lp_point *pt) {
    while (p->pos < p->len) {
        size_t s = p->pos, st = skip_ws(p->buf, p->len, s), e;
        if (st < p->len && p->buf[st] == '#') { /* a comment ends at the next newline, quotes or not */
            const char *nl = memchr(p->buf + st, '\n', p->len - st);
            p->pos = (nl ? (size_t)(nl - p->buf) : p->len) + 1;
            p->lineno++;
            continue;
        }
        e = scan_line(p->buf, p->len, s);
        p->pos = e + 1;
        p->lineno++;
        if (st >= e) continue;
        if (p->buf[e - 1] == '\r') e--; /* CRLF tolerated (InfluxDB 1.x is not) */
        if (st >= e) continue;
        const char *b = p->buf + st;
        size_t n = e - st;
        memset(pt, 0, sizeof *pt);
        pt->line.ptr = b;
        pt->line.len = n;
        p->errline = pt->line;
        if (n > p->o.max_line) {
            fail(p, "max line length exceeded: %zu > %zu", n, p->o.max_line);
            return -1;
        }
        if (parse_line(p, b, n, pt)) {
            memset(pt, 0, sizeof *pt);
            pt->line.ptr = b;
            pt->line.len = n;
            return -1;
        }
        return 1;
    }
    return 0;
}

size_t tsdb_lp_error_message(const tsdb_lp_parser *p, char *out, size_t cap) {
    int r = snprintf(out, cap, "unable to parse '%.*s': %s", (int)(p->errline.len > (size_t)INT32_MAX ? INT32_MAX : p->errline.len),
                     p->errline.ptr ? p->errline.ptr : "", p->reason);
    return r < 0 ? 0 : (size_t)r;
}

long tsdb_lp_parse_all(const char *buf, size_t len, const tsdb_lp_opts *o, void *arena, size_t arena_len,
                       tsdb_lp_point_cb cb, void *ctx, tsdb_lp_result *res, char *errbuf, size_t errcap) {
    tsdb_lp_parser p;
    tsdb_lp_result r = {0, 0, 0, 0};
    if (errbuf && errcap) errbuf[0] = 0;
    if (tsdb_lp_parser_init(&p, buf, len, o, arena, arena_len)) return -1;
    size_t used = 0;
    tsdb_lp_point pt;
    int rc;
    while ((rc = tsdb_lp_next(&p, &pt)) != 0) {
        if (rc < 0) {
            r.dropped++;
            if (errbuf && errcap) {
                if (r.dropped > 1 && used + 1 < errcap) errbuf[used++] = '\n', errbuf[used] = 0;
                size_t want = tsdb_lp_error_message(&p, errbuf + used, errcap - used);
                if (used + want >= errcap) {
                    r.truncated = 1;
                    used = errcap - 1;
                } else {
                    used += want;
                }
            }
            continue;
        }
        r.points++;
        if (cb && cb(ctx, &pt)) {
            r.stopped = 1;
            break;
        }
    }
    if (res) *res = r;
    return (long)r.dropped;
}

/* ---------------------------------------------------------------- encoder */

size_t tsdb_lp_format_float(double v, char *out, size_t cap) {
    if (!isfinite(v)) return 0;
    char tmp[40];
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) break;
    }
    if (v == 0) n = snprintf(tmp, sizeof tmp, signbit(v) ? "-0" : "0");
    if (n <= 0 || (size_t)n >= cap) return 0;
    memcpy(out, tmp, (size_t)n + 1);
    return (size_t)n;
}

typedef struct {
    char *out;
    size_t cap, len;
} wr;

static void w_put(wr *w, const char *s, size_t n) {
    if (w->len < w->cap) memcpy(w->out + w->len, s, w->len + n <= w->cap ? n : w->cap - w->len);
    w->len += n;
}

static void w_ch(wr *w, char c) { w_put(w, &c, 1); }

/* key-like element: refuse what cannot be written unambiguously; escape the delimiters */
static int w_elem(wr *w, tsdb_lp_str e, int kind) {
    if (!e.len || (e.len && !e.ptr)) return -1;
    if (e.ptr[0] == '\t' || e.ptr[0] == 0) return -1;
    if (memchr(e.ptr, '\n', e.len)) return -1;
    for (size_t i = 0; i < e.len; i++) {
        char c = e.ptr[i];
        if (c == '\\' && (i + 1 == e.len || e.ptr[i + 1] == '\\' || unesc_char(kind, e.ptr[i + 1]))) return -1;
        if (c == ',' || c == ' ' || (kind != ESC_MEAS && c == '=')) w_ch(w, '\\');
        w_ch(w, c);
    }
    return 0;
}

int tsdb_lp_encode(const tsdb_lp_point *pt, int precision, char *out, size_t cap, size_t *len) {
    wr w = {out, cap, 0};
    if (len) *len = 0;
    if (!pt || pt->nfields == 0 || !pt->fields || (pt->ntags && !pt->tags)) return TSDB_LP_EINVAL;
    if (pt->measurement.len && pt->measurement.ptr && pt->measurement.ptr[0] == '#') return TSDB_LP_EINVAL;
    if (w_elem(&w, pt->measurement, ESC_MEAS)) return TSDB_LP_EINVAL;
    for (size_t i = 0; i < pt->ntags; i++) {
        w_ch(&w, ',');
        if (w_elem(&w, pt->tags[i].key, ESC_TAG)) return TSDB_LP_EINVAL;
        w_ch(&w, '=');
        if (w_elem(&w, pt->tags[i].value, ESC_TAG)) return TSDB_LP_EINVAL;
    }
    for (size_t i = 0; i < pt->nfields; i++) {
        const tsdb_lp_field *f = &pt->fields[i];
        w_ch(&w, i ? ',' : ' ');
        if (w_elem(&w, f->key, ESC_FKEY)) return TSDB_LP_EINVAL;
        w_ch(&w, '=');
        char num[48];
        int k;
        switch (f->type) {
        case TSDB_LP_FLOAT: {
            size_t fl = tsdb_lp_format_float(f->v.f, num, sizeof num);
            if (!fl) return TSDB_LP_EINVAL;
            w_put(&w, num, fl);
            break;
        }
        case TSDB_LP_INT:
            k = snprintf(num, sizeof num, "%lldi", (long long)f->v.i);
            w_put(&w, num, (size_t)k);
            break;
        case TSDB_LP_UINT:
            k = snprintf(num, sizeof num, "%lluu", (unsigned long long)f->v.u);
            w_put(&w, num, (size_t)k);
            break;
        case TSDB_LP_BOOL: w_put(&w, f->v.b ? "true" : "false", f->v.b ? 4 : 5); break;
        case TSDB_LP_STRING:
            if (f->v.s.len > TSDB_LP_MAX_STRING || (f->v.s.len && !f->v.s.ptr)) return TSDB_LP_EINVAL;
            w_ch(&w, '"');
            for (size_t j = 0; j < f->v.s.len; j++) {
                char c = f->v.s.ptr[j];
                if (c == '"' || c == '\\') w_ch(&w, '\\');
                w_ch(&w, c);
            }
            w_ch(&w, '"');
            break;
        default: return TSDB_LP_EINVAL;
        }
    }
    if (pt->has_time) {
        char num[32];
        int64_t m = tsdb_lp_precision_mult(precision);
        int k = snprintf(num, sizeof num, " %lld", (long long)(pt->time_ns / m));
        w_put(&w, num, (size_t)k);
    }
    w_ch(&w, '\n');
    if (len) *len = w.len;
    if (w.len > cap) return TSDB_LP_ENOSPACE;
    return 0;
}
