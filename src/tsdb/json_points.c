/* tsdb/json_points: Telegraf mqtt_consumer json mapping and the LoRaWAN uplink mapping (see the header). */
#include "tsdb/json_points.h"
#include "mqtt/topic.h"
#include "tsdb/lineproto.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S 1000000000LL

static void seterr(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void tsdb_jp_config_default(tsdb_jp_config *c) {
    memset(c, 0, sizeof *c);
    c->measurement = "mqtt_consumer";
    c->topic_tag = "topic";
    c->strict = 1;
    c->lim.max_points = TSDB_JP_DEFAULT_MAX_POINTS;
    c->lim.max_fields = TSDB_JP_DEFAULT_MAX_FIELDS;
    c->lim.max_depth = TSDB_JP_DEFAULT_MAX_DEPTH;
    c->lim.max_key = TSDB_JP_DEFAULT_MAX_KEY;
    c->lim.max_output = TSDB_JP_DEFAULT_MAX_OUTPUT;
}

static int empty(const char *s) { return !s || !*s; }

/* ---------- small helpers ---------- */

int tsdb_jp_glob(const char *p, const char *s) {
    const char *star = NULL, *ss = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            ss = s;
        } else if (*p == '?' || (*p && *p == *s)) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++ss;
        } else {
            return 0;
        }
    }
    while (*p == '*') p++;
    return *p == 0;
}

static int glob_any(const char *const *pats, size_t n, const char *s) {
    for (size_t i = 0; i < n; i++)
        if (pats[i] && tsdb_jp_glob(pats[i], s)) return 1;
    return 0;
}

size_t tsdb_jp_format_fixed(double v, char *out, size_t cap) {
    char tmp[64], digits[24];
    if (!isfinite(v) || !out || !cap) return 0;
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v) break;
    }
    /* tmp: [-]d[.ddd]e[+-]xx */
    const char *q = tmp;
    int neg = 0;
    if (*q == '-') {
        neg = 1;
        q++;
    }
    size_t nd = 0;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9') digits[nd++] = *q;
    int e = atoi(q + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--; /* shortest */
    char buf[400];
    size_t k = 0;
    if (neg) buf[k++] = '-';
    if (v == 0) {
        buf[k++] = '0';
    } else if (e >= 0) {
        for (int i = 0; i <= e; i++) buf[k++] = (size_t)i < nd ? digits[i] : '0';
        if ((size_t)e + 1 < nd) {
            buf[k++] = '.';
            for (size_t i = (size_t)e + 1; i < nd; i++) buf[k++] = digits[i];
        }
    } else {
        buf[k++] = '0';
        buf[k++] = '.';
        for (int i = 0; i < -e - 1; i++) buf[k++] = '0';
        for (size_t i = 0; i < nd; i++) buf[k++] = digits[i];
    }
    if (k + 1 > cap) return 0;
    memcpy(out, buf, k);
    out[k] = 0;
    return k;
}

/* ---------- time ---------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int year_of_ns(int64_t ns) {
    int64_t days = ns / NS_PER_S / 86400;
    if (ns < 0 && (ns / NS_PER_S) % 86400) days--;
    /* civil_from_days */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return (int)(y + (m <= 2));
}

static int leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int mdays(int64_t y, int m) {
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

static const char *const MONTHS[] = {"January", "February", "March",     "April",   "May",      "June",
                                     "July",    "August",   "September", "October", "November", "December"};
static const char *const DAYS[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

static int ci_prefix(const char *s, const char *word, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char a = s[i], b = word[i];
        if (!a) return 0;
        if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z') b = (char)(b - 'A' + 'a');
        if (a != b) return 0;
    }
    return 1;
}

/* n digits exactly (fixed) or 1..n digits */
static int getnum(const char **s, int n, int fixed, int *out) {
    int v = 0, k = 0;
    while (k < n && (*s)[k] >= '0' && (*s)[k] <= '9') {
        v = v * 10 + ((*s)[k] - '0');
        k++;
    }
    if (k == 0 || (fixed && k != n)) return -1;
    *s += k;
    *out = v;
    return 0;
}

static int layout_has(const char *l, const char *w) { return strncmp(l, w, strlen(w)) == 0; }

/* the zone offset forms: "-0700" style, colon for ":" forms, seconds for 6-digit forms */
static int parse_offset(const char **s, int colon, int with_sec, int hours_only, int *off) {
    const char *v = *s;
    if (*v != '+' && *v != '-') return -1;
    int sign = *v == '-' ? -1 : 1, hh, mm = 0, ss = 0;
    v++;
    if (getnum(&v, 2, 1, &hh)) return -1;
    if (!hours_only) {
        if (colon && *v++ != ':') return -1;
        if (getnum(&v, 2, 1, &mm)) return -1;
        if (with_sec) {
            if (colon && *v++ != ':') return -1;
            if (getnum(&v, 2, 1, &ss)) return -1;
        }
    }
    if (hh > 23 || mm > 59 || ss > 59) return -1;
    *off = sign * (hh * 3600 + mm * 60 + ss);
    *s = v;
    return 0;
}

int tsdb_jp_parse_layout(const char *layout, const char *s, int64_t now_ns, int64_t *ns, char *err, size_t errlen) {
    int year = 0, month = 1, day = 1, hour = 0, min = 0, sec = 0, pm = -1, off = 0, has_year = 0;
    int64_t frac = 0;
    const char *l = layout, *v = s;
    if (!layout || !s) {
        seterr(err, errlen, "no time layout");
        return -1;
    }
    while (*l) {
        int n;
        if (layout_has(l, "January") || layout_has(l, "Jan")) {
            size_t wl = layout_has(l, "January") ? 7 : 3, i;
            for (i = 0; i < 12; i++) {
                size_t ml = wl == 7 ? strlen(MONTHS[i]) : 3;
                if (ci_prefix(v, MONTHS[i], ml)) {
                    v += ml;
                    break;
                }
            }
            if (i == 12) goto bad;
            month = (int)i + 1;
            l += wl;
        } else if (layout_has(l, "Monday") || layout_has(l, "Mon")) {
            size_t wl = layout_has(l, "Monday") ? 6 : 3, i;
            for (i = 0; i < 7; i++) {
                size_t dl = wl == 6 ? strlen(DAYS[i]) : 3;
                if (ci_prefix(v, DAYS[i], dl)) {
                    v += dl;
                    break;
                }
            }
            if (i == 7) goto bad;
            l += wl;
        } else if (layout_has(l, "MST")) {
            /* Go: an abbreviation it does not know as the local zone gets offset 0 */
            size_t k = 0;
            while (v[k] >= 'A' && v[k] <= 'Z') k++;
            if (k < 3 || k > 5) goto bad;
            v += k;
            l += 3;
        } else if (layout_has(l, "2006")) {
            if (getnum(&v, 4, 1, &year)) goto bad;
            has_year = 1;
            l += 4;
        } else if (layout_has(l, "01")) {
            if (getnum(&v, 2, 1, &month)) goto bad;
            l += 2;
        } else if (layout_has(l, "02")) {
            if (getnum(&v, 2, 1, &day)) goto bad;
            l += 2;
        } else if (layout_has(l, "03")) {
            if (getnum(&v, 2, 1, &hour)) goto bad;
            if (pm < 0) pm = 2; /* 12-hour clock, AM/PM may follow */
            l += 2;
        } else if (layout_has(l, "04")) {
            if (getnum(&v, 2, 1, &min)) goto bad;
            l += 2;
        } else if (layout_has(l, "05")) {
            if (getnum(&v, 2, 1, &sec)) goto bad;
            l += 2;
            goto maybe_frac;
        } else if (layout_has(l, "06")) {
            if (getnum(&v, 2, 1, &n)) goto bad;
            year = n >= 69 ? 1900 + n : 2000 + n;
            has_year = 1;
            l += 2;
        } else if (layout_has(l, "15")) {
            if (getnum(&v, 2, 0, &hour)) goto bad;
            l += 2;
        } else if (layout_has(l, "_2")) {
            if (*v == ' ') v++;
            if (getnum(&v, 2, 0, &day)) goto bad;
            l += 2;
        } else if (*l == '1') {
            if (getnum(&v, 2, 0, &month)) goto bad;
            l++;
        } else if (*l == '2') {
            if (getnum(&v, 2, 0, &day)) goto bad;
            l++;
        } else if (*l == '3') {
            if (getnum(&v, 2, 0, &hour)) goto bad;
            if (pm < 0) pm = 2;
            l++;
        } else if (*l == '4') {
            if (getnum(&v, 2, 0, &min)) goto bad;
            l++;
        } else if (*l == '5') {
            if (getnum(&v, 2, 0, &sec)) goto bad;
            l++;
            goto maybe_frac;
        } else if (layout_has(l, "PM") || layout_has(l, "pm")) {
            if (ci_prefix(v, "PM", 2)) pm = 1;
            else if (ci_prefix(v, "AM", 2)) pm = 0;
            else goto bad;
            v += 2;
            l += 2;
        } else if (*l == 'Z' || *l == '-') {
            static const struct { const char *w; int colon, secs, hours; } zf[] = {
                {"070000", 0, 1, 0}, {"07:00:00", 1, 1, 0}, {"0700", 0, 0, 0}, {"07:00", 1, 0, 0}, {"07", 0, 0, 1}};
            size_t i;
            for (i = 0; i < 5; i++)
                if (layout_has(l + 1, zf[i].w)) break;
            if (i == 5) {
                if (*v != *l) goto bad;
                v++;
                l++;
                continue;
            }
            if (*l == 'Z' && *v == 'Z') {
                v++;
                off = 0;
            } else if (parse_offset(&v, zf[i].colon, zf[i].secs, zf[i].hours, &off)) {
                goto bad;
            }
            l += 1 + strlen(zf[i].w);
        } else if ((*l == '.' || *l == ',') && (l[1] == '0' || l[1] == '9')) {
            char c = l[1];
            size_t k = 1;
            while (l[k] == c) k++;
            if (l[k] >= '0' && l[k] <= '9') goto literal;
            /* a fraction not right after seconds: Go still reads it as the seconds' fraction */
            if (*v != '.' && *v != ',') {
                if (c == '9') { /* optional */
                    l += k;
                    continue;
                }
                goto bad;
            }
            v++;
            int nd = 0;
            frac = 0;
            while (*v >= '0' && *v <= '9') {
                if (nd < 9) frac = frac * 10 + (*v - '0');
                nd++;
                v++;
            }
            if (c == '0' && (size_t)nd != k - 1) goto bad;
            if (nd == 0) goto bad;
            for (int j = nd; j < 9; j++) frac *= 10;
            l += k;
        } else {
        literal:
            if (*v != *l) goto bad;
            v++;
            l++;
        }
        continue;
    maybe_frac:
        /* Go accepts a fractional second after "05" even when the layout has none */
        if ((*v == '.' || *v == ',') && v[1] >= '0' && v[1] <= '9' && !((*l == '.' || *l == ',') && (l[1] == '0' || l[1] == '9'))) {
            v++;
            int nd = 0;
            frac = 0;
            while (*v >= '0' && *v <= '9') {
                if (nd < 9) frac = frac * 10 + (*v - '0');
                nd++;
                v++;
            }
            for (int j = nd; j < 9; j++) frac *= 10;
        }
        continue;
    }
    if (*v) goto bad;
    if (pm == 2 || pm == 1 || pm == 0) {
        if (pm != 2) {
            if (hour < 1 || hour > 12) goto range;
            if (pm == 1 && hour < 12) hour += 12;
            if (pm == 0 && hour == 12) hour = 0;
        }
    }
    if (!has_year || year == 0) year = year_of_ns(now_ns); /* Telegraf: year 0 -> the current year */
    if (month < 1 || month > 12 || day < 1 || day > mdays(year, month) || hour > 23 || min > 59 || sec > 59)
        goto range;
    int64_t secs = days_from_civil(year, (unsigned)month, (unsigned)day) * 86400 + hour * 3600 + min * 60 + sec - off;
    if (secs > INT64_MAX / NS_PER_S - 1 || secs < INT64_MIN / NS_PER_S + 1) goto range;
    *ns = secs * NS_PER_S + frac;
    return 0;
bad:
    seterr(err, errlen, "parsing time \"%.64s\" as \"%.64s\": does not match the layout", s, layout);
    return -1;
range:
    seterr(err, errlen, "parsing time \"%.64s\": value out of range", s);
    return -1;
}

/* "[-]int[.frac]" -> ns with unit = ns per integer unit */
static int parse_unix_text(const char *t, int64_t unit, int64_t *ns) {
    int neg = 0;
    if (*t == '-') {
        neg = 1;
        t++;
    } else if (*t == '+') {
        t++;
    }
    if (!(*t >= '0' && *t <= '9')) return -1;
    int64_t ip = 0;
    while (*t >= '0' && *t <= '9') {
        if (ip > (INT64_MAX - 9) / 10) return -1;
        ip = ip * 10 + (*t++ - '0');
    }
    int64_t fp = 0, scale = unit;
    if (*t == '.') {
        t++;
        while (*t >= '0' && *t <= '9') {
            if (scale >= 10) {
                scale /= 10;
                fp += (*t - '0') * scale;
            }
            t++;
        }
    }
    if (*t) return -1;
    if (ip > (INT64_MAX - 2 - fp) / unit) return -1;
    int64_t r = ip * unit + fp;
    *ns = neg ? -r : r;
    return 0;
}

int tsdb_jp_parse_time(const char *format, const json_t *v, int64_t now_ns, int64_t *ns, char *err, size_t errlen) {
    if (empty(format)) {
        seterr(err, errlen, "use of 'json_time_key' requires 'json_time_format'");
        return -1;
    }
    int64_t unit = 0;
    if (!strcmp(format, "unix")) unit = NS_PER_S;
    else if (!strcmp(format, "unix_ms")) unit = 1000000;
    else if (!strcmp(format, "unix_us")) unit = 1000;
    else if (!strcmp(format, "unix_ns")) unit = 1;
    if (unit) {
        char tmp[400];
        const char *t;
        if (json_is_string(v)) {
            t = json_string_value(v);
        } else if (json_is_integer(v)) {
            snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
            t = tmp;
        } else if (json_is_real(v)) {
            if (!tsdb_jp_format_fixed(json_real_value(v), tmp, sizeof tmp)) goto badunix;
            t = tmp;
        } else {
            seterr(err, errlen, "time: value of the time key is neither a number nor a string");
            return -1;
        }
        if (parse_unix_text(t, unit, ns)) goto badunix;
        return 0;
    badunix:
        seterr(err, errlen, "time: cannot parse \"%.64s\" as %s", json_is_string(v) ? json_string_value(v) : "number",
               format);
        return -1;
    }
    if (!json_is_string(v)) {
        seterr(err, errlen, "time: value of the time key is not a string (format \"%.64s\")", format);
        return -1;
    }
    return tsdb_jp_parse_layout(format, json_string_value(v), now_ns, ns, err, errlen);
}

/* ---------- flattening and points ---------- */

enum { F_FLOAT = 1, F_INT, F_STRING, F_BOOL };

typedef struct {
    char *key;
    int type;
    double f;
    int64_t i;
    int b;
    const char *s; /* owned by the JSON document */
    size_t slen;
    int dead;
} fld;

typedef struct {
    char *key, *val;
} tagkv;

typedef struct {
    const tsdb_jp_limits *lim;
    fld *f;
    size_t n, cap, live;
    tagkv *t;
    size_t nt, tcap;
    char *key; /* flattening key buffer, lim->max_key + 1 */
    int strings, bools; /* keep string / bool leaves */
    char *err;
    size_t errlen;
} pt_t;

static void pt_reset(pt_t *p) {
    for (size_t i = 0; i < p->n; i++) free(p->f[i].key);
    for (size_t i = 0; i < p->nt; i++) {
        free(p->t[i].key);
        free(p->t[i].val);
    }
    p->n = p->nt = p->live = 0;
}

static void pt_free(pt_t *p) {
    pt_reset(p);
    free(p->f);
    free(p->t);
    free(p->key);
}

static int pt_init(pt_t *p, const tsdb_jp_limits *lim, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    p->lim = lim;
    p->err = err;
    p->errlen = errlen;
    p->key = malloc(lim->max_key + 1);
    if (!p->key) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static fld *pt_find(pt_t *p, const char *key) {
    for (size_t i = 0; i < p->n; i++)
        if (!p->f[i].dead && !strcmp(p->f[i].key, key)) return &p->f[i];
    return NULL;
}

/* a field with this key (last value wins, first position kept) */
static fld *pt_field(pt_t *p, const char *key) {
    fld *f = pt_find(p, key);
    if (f) return f;
    if (p->live + p->nt >= p->lim->max_fields) {
        seterr(p->err, p->errlen, "more than %zu fields in one point", p->lim->max_fields);
        return NULL;
    }
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 16;
        fld *nf = realloc(p->f, nc * sizeof *nf);
        if (!nf) goto oom;
        p->f = nf;
        p->cap = nc;
    }
    f = &p->f[p->n];
    memset(f, 0, sizeof *f);
    f->key = strdup(key);
    if (!f->key) goto oom;
    p->n++;
    p->live++;
    return f;
oom:
    seterr(p->err, p->errlen, "out of memory");
    return NULL;
}

static void pt_kill(pt_t *p, fld *f) {
    f->dead = 1;
    p->live--;
}

static int pt_tag(pt_t *p, const char *key, const char *val, size_t vlen) {
    for (size_t i = 0; i < p->nt; i++)
        if (!strcmp(p->t[i].key, key)) {
            char *nv = strndup(val, vlen);
            if (!nv) goto oom;
            free(p->t[i].val);
            p->t[i].val = nv;
            return 0;
        }
    if (p->live + p->nt >= p->lim->max_fields) {
        seterr(p->err, p->errlen, "more than %zu fields and tags in one point", p->lim->max_fields);
        return -1;
    }
    if (p->nt == p->tcap) {
        size_t nc = p->tcap ? p->tcap * 2 : 8;
        tagkv *nt = realloc(p->t, nc * sizeof *nt);
        if (!nt) goto oom;
        p->t = nt;
        p->tcap = nc;
    }
    p->t[p->nt].key = strdup(key);
    p->t[p->nt].val = strndup(val, vlen);
    if (!p->t[p->nt].key || !p->t[p->nt].val) {
        free(p->t[p->nt].key);
        free(p->t[p->nt].val);
        goto oom;
    }
    p->nt++;
    return 0;
oom:
    seterr(p->err, p->errlen, "out of memory");
    return -1;
}

/* flatten v under key p->key[0..klen) */
static int flatten(pt_t *p, const json_t *v, size_t klen, size_t depth) {
    if (depth > p->lim->max_depth) {
        seterr(p->err, p->errlen, "JSON nested deeper than %zu levels", p->lim->max_depth);
        return -1;
    }
    p->key[klen] = 0;
    if (json_is_object(v) || json_is_array(v)) {
        const char *k;
        json_t *x;
        char idx[24];
        size_t n = json_is_array(v) ? json_array_size(v) : 0;
        void *it = json_is_object(v) ? json_object_iter((json_t *)v) : NULL;
        for (size_t i = 0;; i++) {
            if (json_is_array(v)) {
                if (i >= n) break;
                x = json_array_get(v, i);
                snprintf(idx, sizeof idx, "%zu", i);
                k = idx;
            } else {
                if (!it) break;
                k = json_object_iter_key(it);
                x = json_object_iter_value(it);
                it = json_object_iter_next((json_t *)v, it);
            }
            size_t kl = strlen(k), nl = klen ? klen + 1 + kl : kl;
            if (nl > p->lim->max_key) {
                seterr(p->err, p->errlen, "flattened key longer than %zu bytes", p->lim->max_key);
                return -1;
            }
            if (klen) p->key[klen] = '_';
            memcpy(p->key + (klen ? klen + 1 : 0), k, kl);
            if (flatten(p, x, nl, depth + 1)) return -1;
            p->key[klen] = 0;
        }
        return 0;
    }
    fld *f;
    if (json_is_number(v)) {
        if (!(f = pt_field(p, p->key))) return -1;
        f->type = F_FLOAT;
        f->f = json_number_value(v);
    } else if (json_is_string(v)) {
        if (!p->strings) return 0;
        if (!(f = pt_field(p, p->key))) return -1;
        f->type = F_STRING;
        f->s = json_string_value(v);
        f->slen = json_string_length(v);
    } else if (json_is_boolean(v)) {
        if (!p->bools) return 0;
        if (!(f = pt_field(p, p->key))) return -1;
        f->type = F_BOOL;
        f->b = json_is_true(v);
    }
    return 0; /* null */
}

static int tag_cmp(const void *a, const void *b) {
    return strcmp(((const tagkv *)a)->key, ((const tagkv *)b)->key);
}

/* encode one point; 1 written, 0 no fields (dropped), -1 error */
static int pt_emit(pt_t *p, const char *name, int64_t t_ns, buf_t *out, size_t base, size_t max_output) {
    if (!p->live) return 0;
    if (empty(name)) {
        seterr(p->err, p->errlen, "empty measurement name");
        return -1;
    }
    size_t ntags = 0;
    for (size_t i = 0; i < p->nt; i++)
        if (p->t[i].val[0]) ntags++; /* an empty tag value cannot be written (Telegraf drops it too) */
    tsdb_lp_tag *tags = calloc(ntags + 1, sizeof *tags);
    tsdb_lp_field *fs = calloc(p->live, sizeof *fs);
    int rc = -1;
    if (!tags || !fs) {
        seterr(p->err, p->errlen, "out of memory");
        goto done;
    }
    if (p->nt > 1) qsort(p->t, p->nt, sizeof *p->t, tag_cmp);
    size_t k = 0;
    for (size_t i = 0; i < p->nt; i++) {
        if (!p->t[i].val[0]) continue;
        tags[k].key = (tsdb_lp_str){p->t[i].key, strlen(p->t[i].key)};
        tags[k].value = (tsdb_lp_str){p->t[i].val, strlen(p->t[i].val)};
        k++;
    }
    k = 0;
    for (size_t i = 0; i < p->n; i++) {
        const fld *f = &p->f[i];
        if (f->dead) continue;
        fs[k].key = (tsdb_lp_str){f->key, strlen(f->key)};
        switch (f->type) {
        case F_FLOAT: fs[k].type = TSDB_LP_FLOAT; fs[k].v.f = f->f; break;
        case F_INT: fs[k].type = TSDB_LP_INT; fs[k].v.i = f->i; break;
        case F_BOOL: fs[k].type = TSDB_LP_BOOL; fs[k].v.b = f->b; break;
        default: fs[k].type = TSDB_LP_STRING; fs[k].v.s = (tsdb_lp_str){f->s, f->slen}; break;
        }
        k++;
    }
    tsdb_lp_point pt;
    memset(&pt, 0, sizeof pt);
    pt.measurement = (tsdb_lp_str){name, strlen(name)};
    pt.tags = tags;
    pt.ntags = ntags;
    pt.fields = fs;
    pt.nfields = k;
    pt.time_ns = t_ns;
    pt.has_time = 1;
    size_t need = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        size_t room = out->cap - out->len;
        int e = tsdb_lp_encode(&pt, TSDB_LP_PREC_NS, room ? (char *)out->data + out->len : NULL, room, &need);
        if (e == TSDB_LP_EINVAL) {
            seterr(p->err, p->errlen, "point of measurement \"%.64s\" cannot be written as line protocol "
                                      "(empty key, newline, NUL, bad backslash or string longer than %u bytes)",
                   name, TSDB_LP_MAX_STRING);
            goto done;
        }
        if (out->len + need - base > max_output) {
            seterr(p->err, p->errlen, "line protocol output of one message exceeds %zu bytes", max_output);
            goto done;
        }
        if (e == 0) {
            out->len += need;
            rc = 1;
            goto done;
        }
        if (buf_reserve(out, need + 1)) {
            seterr(p->err, p->errlen, "out of memory");
            goto done;
        }
    }
    seterr(p->err, p->errlen, "line protocol encoding failed");
done:
    free(tags);
    free(fs);
    return rc;
}

/* ---------- Telegraf json ---------- */

/* GJSON dotted subset: "a.b.0.c", "\." is a literal dot; a key not found -> NULL */
static const json_t *query(const json_t *root, const char *path, int *bad) {
    char comp[1024];
    const json_t *cur = root;
    const char *p = path;
    *bad = 0;
    while (*p) {
        size_t k = 0;
        while (*p && *p != '.') {
            if (*p == '\\' && p[1]) p++;
            if (k + 1 >= sizeof comp) {
                *bad = 1;
                return NULL;
            }
            comp[k++] = *p++;
        }
        comp[k] = 0;
        if (*p == '.') p++;
        if (json_is_object(cur)) {
            cur = json_object_get(cur, comp);
        } else if (json_is_array(cur)) {
            char *end;
            if (!k || comp[0] < '0' || comp[0] > '9') return NULL;
            unsigned long long i = strtoull(comp, &end, 10);
            if (*end) return NULL;
            cur = i < json_array_size(cur) ? json_array_get(cur, (size_t)i) : NULL;
        } else {
            return NULL;
        }
        if (!cur) return NULL;
    }
    return cur;
}

/* topic level i of topic (0-based) -> [*s, *n); 0 if it exists */
static int level(const char *s, size_t i, const char **ls, size_t *ln) {
    while (i--) {
        s = strchr(s, '/');
        if (!s) return -1;
        s++;
    }
    const char *e = strchr(s, '/');
    *ls = s;
    *ln = e ? (size_t)(e - s) : strlen(s);
    return 0;
}

static size_t nlevels(const char *s) {
    size_t n = 1;
    for (; *s; s++) n += *s == '/';
    return n;
}

/* apply matching topic_parsing rules; measurement may be replaced (points into name_buf) */
static int apply_topic_rules(const tsdb_jp_config *c, const char *topic, pt_t *p, char *name_buf, size_t cap,
                             const char **name) {
    if (!topic) return 0;
    for (size_t r = 0; r < c->n_topic_rules; r++) {
        const tsdb_jp_topic_rule *tr = &c->topic_rules[r];
        if (!empty(tr->topic) && (!mqtt_topic_filter_valid((const uint8_t *)tr->topic, strlen(tr->topic)) ||
                                  !mqtt_topic_match((const uint8_t *)tr->topic, strlen(tr->topic), (const uint8_t *)topic, strlen(topic))))
            continue;
        const char *tmpl[3] = {tr->measurement, tr->tags, tr->fields};
        for (int w = 0; w < 3; w++) {
            if (empty(tmpl[w])) continue;
            size_t nl = nlevels(tmpl[w]);
            for (size_t i = 0; i < nl; i++) {
                const char *ts = NULL, *vs = NULL;
                size_t tn = 0, vn = 0;
                level(tmpl[w], i, &ts, &tn);
                if (tn == 0 || (tn == 1 && ts[0] == '_')) continue;
                if (level(topic, i, &vs, &vn)) continue; /* topic shorter than the template */
                if (w == 0) {
                    if (vn + 1 > cap) continue;
                    memcpy(name_buf, vs, vn);
                    name_buf[vn] = 0;
                    *name = name_buf;
                    continue;
                }
                char key[256];
                if (tn + 1 > sizeof key) continue;
                memcpy(key, ts, tn);
                key[tn] = 0;
                if (w == 1) {
                    if (pt_tag(p, key, vs, vn)) return -1;
                } else {
                    fld *f = pt_field(p, key);
                    if (!f) return -1;
                    f->type = F_STRING;
                    f->s = vs;
                    f->slen = vn;
                }
            }
        }
    }
    return 0;
}

static int one_object(const tsdb_jp_config *c, const char *topic, const json_t *obj, int64_t now_ns, pt_t *p,
                      buf_t *out, size_t base, size_t *np) {
    pt_reset(p);
    p->strings = p->bools = 1;
    if (flatten(p, obj, 0, 1)) return -1;
    const char *name = empty(c->measurement) ? "mqtt_consumer" : c->measurement;
    char name_buf[256];
    if (!empty(c->name_key)) {
        fld *f = pt_find(p, c->name_key);
        if (f && f->type == F_STRING && f->slen < sizeof name_buf && f->slen == strlen(f->s)) {
            memcpy(name_buf, f->s, f->slen + 1);
            name = name_buf;
        }
    }
    int64_t t = now_ns;
    if (!empty(c->time_key)) {
        if (empty(c->time_format)) {
            seterr(p->err, p->errlen, "use of 'json_time_key' requires 'json_time_format'");
            return -1;
        }
        fld *f = pt_find(p, c->time_key);
        if (!f) {
            seterr(p->err, p->errlen, "JSON time key could not be found");
            return -1;
        }
        json_t *tv = f->type == F_STRING   ? json_stringn(f->s, f->slen)
                     : f->type == F_BOOL ? json_boolean(f->b)
                                           : json_real(f->f);
        if (!tv) {
            seterr(p->err, p->errlen, "time: value of the time key is not valid");
            return -1;
        }
        int e = tsdb_jp_parse_time(c->time_format, tv, now_ns, &t, p->err, p->errlen);
        json_decref(tv);
        if (e) return -1;
        pt_kill(p, f);
    }
    for (size_t i = 0; i < p->n; i++) /* "" can be neither a tag key nor a field key */
        if (!p->f[i].dead && !p->f[i].key[0]) pt_kill(p, &p->f[i]);
    for (size_t i = 0; i < p->n; i++) {
        fld *f = &p->f[i];
        if (f->dead || !glob_any(c->tag_keys, c->n_tag_keys, f->key)) continue;
        char num[400];
        const char *v = num;
        size_t vl;
        if (f->type == F_STRING) {
            v = f->s;
            vl = f->slen;
        } else if (f->type == F_BOOL) {
            v = f->b ? "true" : "false";
            vl = strlen(v);
        } else {
            vl = tsdb_jp_format_fixed(f->f, num, sizeof num);
        }
        pt_kill(p, f); /* before pt_tag: the tag takes its place in the count */
        if (pt_tag(p, f->key, v, vl)) return -1;
    }
    for (size_t i = 0; i < p->n; i++) {
        fld *f = &p->f[i];
        if (f->dead || f->type == F_FLOAT) continue;
        if (!glob_any(c->string_fields, c->n_string_fields, f->key)) pt_kill(p, f);
    }
    if (apply_topic_rules(c, topic, p, name_buf, sizeof name_buf, &name)) return -1;
    if (topic && !empty(c->topic_tag) && pt_tag(p, c->topic_tag, topic, strlen(topic))) return -1;
    if (!empty(c->name_override)) name = c->name_override;
    if (p->live && *np >= c->lim.max_points) {
        seterr(p->err, p->errlen, "more than %zu points in one message", c->lim.max_points);
        return -1;
    }
    int r = pt_emit(p, name, t, out, base, c->lim.max_output);
    if (r < 0) return -1;
    *np += (size_t)r;
    return 0;
}

int tsdb_jp_to_lp(const tsdb_jp_config *c, const char *topic, const char *payload, size_t len, int64_t now_ns,
                  buf_t *out, size_t *npoints, char *err, size_t errlen) {
    size_t base = out->len, np = 0;
    if (npoints) *npoints = 0;
    if (err && errlen) err[0] = 0;
    if (!c || (!payload && len)) {
        seterr(err, errlen, "no configuration or payload");
        return -1;
    }
    if (!c->lim.max_points || !c->lim.max_fields || !c->lim.max_key || !c->lim.max_output) {
        seterr(err, errlen, "bad limits");
        return -1;
    }
    /* Telegraf: trim space and a UTF-8 BOM; an empty payload is no metric and no error */
    while (len && (payload[len - 1] == ' ' || payload[len - 1] == '\t' || payload[len - 1] == '\n' ||
                   payload[len - 1] == '\r'))
        len--;
    while (len && (*payload == ' ' || *payload == '\t' || *payload == '\n' || *payload == '\r')) {
        payload++;
        len--;
    }
    if (len >= 3 && !memcmp(payload, "\xef\xbb\xbf", 3)) {
        payload += 3;
        len -= 3;
    }
    if (!len) return 0;
    json_error_t je;
    json_t *root = json_loadb(payload, len, JSON_DECODE_INT_AS_REAL | JSON_DECODE_ANY, &je);
    if (!root) {
        seterr(err, errlen, "invalid JSON: %s (line %d, column %d)", je.text, je.line, je.column);
        return -1;
    }
    int rc = -1;
    pt_t p;
    if (pt_init(&p, &c->lim, err, errlen)) {
        json_decref(root);
        return -1;
    }
    const json_t *doc = root;
    if (!empty(c->query)) {
        int bad;
        doc = query(root, c->query, &bad);
        if (bad) {
            seterr(err, errlen, "json_query path component too long");
            goto done;
        }
        if (!doc || json_is_null(doc)) { /* nothing selected: no metric */
            rc = 0;
            goto done;
        }
    }
    if (json_is_object(doc)) {
        if (one_object(c, topic, doc, now_ns, &p, out, base, &np)) goto done;
    } else if (json_is_array(doc)) {
        for (size_t i = 0; i < json_array_size(doc); i++) {
            const json_t *e = json_array_get(doc, i);
            if (!json_is_object(e)) {
                if (!c->strict) continue;
                seterr(err, errlen, "array element %zu is not a JSON object", i);
                goto done;
            }
            if (one_object(c, topic, e, now_ns, &p, out, base, &np)) goto done;
        }
    } else {
        seterr(err, errlen, !empty(c->query) ? "query path must lead to a JSON object or array of objects"
                                             : "JSON payload is not an object or an array of objects");
        goto done;
    }
    rc = 0;
done:
    pt_free(&p);
    json_decref(root);
    if (rc) {
        out->len = base;
        np = 0;
    }
    if (npoints) *npoints = np;
    return rc;
}

/* ---------- LoRaWAN (The Things Stack v3 uplink) ---------- */

static const json_t *get_path(const json_t *o, const char *a, const char *b, const char *c) {
    const json_t *v = json_object_get(o, a);
    if (v && b) v = json_object_get(v, b);
    if (v && c) v = json_object_get(v, c);
    return v;
}

int tsdb_jp_lorawan_uplink(const tsdb_jp_limits *lim, const char *payload, size_t len, int64_t now_ns, buf_t *out,
                           size_t *npoints, char *err, size_t errlen) {
    tsdb_jp_limits dl = {TSDB_JP_DEFAULT_MAX_POINTS, TSDB_JP_DEFAULT_MAX_FIELDS, TSDB_JP_DEFAULT_MAX_DEPTH,
                         TSDB_JP_DEFAULT_MAX_KEY, TSDB_JP_DEFAULT_MAX_OUTPUT};
    if (!lim) lim = &dl;
    size_t base = out->len;
    if (npoints) *npoints = 0;
    if (err && errlen) err[0] = 0;
    if (!lim->max_fields || !lim->max_key || !lim->max_output) {
        seterr(err, errlen, "bad limits");
        return -1;
    }
    if (!payload) len = 0;
    json_error_t je;
    /* numbers as doubles (like the Telegraf path): a huge integer in a decoded payload is no error */
    json_t *root = json_loadb(payload ? payload : "", len, JSON_DECODE_INT_AS_REAL, &je);
    if (!root) {
        seterr(err, errlen, "invalid JSON: %s (line %d, column %d)", je.text, je.line, je.column);
        return -1;
    }
    int rc = -1;
    pt_t p;
    if (pt_init(&p, lim, err, errlen)) {
        json_decref(root);
        return -1;
    }
    const json_t *um = json_object_get(root, "uplink_message");
    const json_t *app = get_path(root, "end_device_ids", "application_ids", "application_id");
    const json_t *dev = get_path(root, "end_device_ids", "device_id", NULL);
    const json_t *eui = get_path(root, "end_device_ids", "dev_eui", NULL);
    if (!json_is_object(root) || !json_is_object(um)) {
        seterr(err, errlen, "not an uplink message (no uplink_message object)");
        goto done;
    }
    if (!json_is_string(app) || !json_string_length(app)) {
        seterr(err, errlen, "uplink without end_device_ids.application_ids.application_id");
        goto done;
    }
    const char *appname = json_string_value(app);
    if (strlen(appname) != json_string_length(app)) {
        seterr(err, errlen, "application id contains NUL");
        goto done;
    }
    if (json_is_string(dev) && pt_tag(&p, "device_id", json_string_value(dev), json_string_length(dev))) goto done;
    if (json_is_string(eui) && pt_tag(&p, "dev_eui", json_string_value(eui), json_string_length(eui))) goto done;
    const json_t *dp = json_object_get(um, "decoded_payload");
    p.bools = 1;
    p.strings = 0;
    if (dp && (json_is_object(dp) || json_is_array(dp)) && flatten(&p, dp, 0, 1)) goto done;
    /* radio metadata: best gateway (TTS omits zero rssi/snr, so an absent value is 0) */
    const json_t *rx = json_object_get(um, "rx_metadata");
    if (json_is_array(rx)) {
        int have = 0;
        double rssi = 0, snr = 0;
        for (size_t i = 0; i < json_array_size(rx); i++) {
            const json_t *g = json_array_get(rx, i);
            if (!json_is_object(g)) continue;
            const json_t *r = json_object_get(g, "rssi"), *s = json_object_get(g, "snr");
            double rv = json_is_number(r) ? json_number_value(r) : 0, sv = json_is_number(s) ? json_number_value(s) : 0;
            if (!have || rv > rssi) rssi = rv;
            if (!have || sv > snr) snr = sv;
            have = 1;
        }
        if (have) {
            fld *f = pt_field(&p, "rssi");
            if (!f) goto done;
            f->type = F_FLOAT;
            f->f = rssi;
            if (!(f = pt_field(&p, "snr"))) goto done;
            f->type = F_FLOAT;
            f->f = snr;
        }
    }
    const json_t *fc = json_object_get(um, "f_cnt"), *fp = json_object_get(um, "f_port");
    fld *f = pt_field(&p, "f_cnt");
    if (!f) goto done;
    f->type = F_INT;
    f->i = json_is_number(fc) && json_number_value(fc) >= 0 && json_number_value(fc) <= 4294967295.0
               ? (int64_t)json_number_value(fc)
               : 0;
    if (json_is_number(fp) && json_number_value(fp) >= 0 && json_number_value(fp) <= 255) {
        if (!(f = pt_field(&p, "f_port"))) goto done;
        f->type = F_INT;
        f->i = (int64_t)json_number_value(fp);
    }
    int64_t t = now_ns;
    const json_t *ra = json_object_get(root, "received_at");
    if (!json_is_string(ra)) ra = json_object_get(um, "received_at");
    if (json_is_string(ra) &&
        tsdb_jp_parse_layout("2006-01-02T15:04:05Z07:00", json_string_value(ra), now_ns, &t, NULL, 0))
        t = now_ns; /* unreadable received_at: the receive time (documented) */
    size_t np = 0;
    int r = pt_emit(&p, appname, t, out, base, lim->max_output);
    if (r < 0) goto done;
    np = (size_t)r;
    if (npoints) *npoints = np;
    rc = 0;
done:
    pt_free(&p);
    json_decref(root);
    if (rc) out->len = base;
    return rc;
}
