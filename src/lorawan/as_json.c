/* The application server's MQTT messages in The Things Stack v3 JSON (see as_json.h): hand-written
 * builders for the hot uplink path (no jansson, no allocation beyond growing the buf_t), member order
 * and encodings as TTS's generated jsonplugin marshalers write them, and the jansson-based parser of
 * the down/push and down/replace payloads. */
#include "lorawan/as_json.h"
#include "base/b64.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writer: appends to a buf_t, remembers the first allocation failure ---- */

typedef struct {
    buf_t *b;
    int fail;
} jw;

static inline void w_raw(jw *w, const char *s, size_t n) {
    buf_t *b = w->b;
    if (b->cap - b->len >= n && !w->fail) { /* the usual case: the buffer was reserved up front */
        if (n) memcpy(b->data + b->len, s, n);
        b->len += n;
        return;
    }
    if (w->fail || n == 0) return;
    if (buf_append(b, s, n) != 0) w->fail = 1;
}
static void w_lit(jw *w, const char *s) { w_raw(w, s, strlen(s)); }

/* JSON string with escaping: quote, backslash, control characters (\b \f \n \r \t or \u00XX);
 * everything else, UTF-8 included, passes through unchanged. */
static void w_str(jw *w, const char *s) {
    static const char hex[] = "0123456789abcdef";
    w_raw(w, "\"", 1);
    const char *run = s;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        w_raw(w, run, (size_t)(p - run));
        char e[6] = {'\\', 0, 0, 0, 0, 0};
        size_t en = 2;
        switch (c) {
        case '"':
            e[1] = '"';
            break;
        case '\\':
            e[1] = '\\';
            break;
        case '\b':
            e[1] = 'b';
            break;
        case '\f':
            e[1] = 'f';
            break;
        case '\n':
            e[1] = 'n';
            break;
        case '\r':
            e[1] = 'r';
            break;
        case '\t':
            e[1] = 't';
            break;
        default:
            e[1] = 'u', e[2] = '0', e[3] = '0', e[4] = hex[c >> 4], e[5] = hex[c & 15];
            en = 6;
        }
        w_raw(w, e, en);
        run = p + 1;
    }
    w_raw(w, run, strlen(run));
    w_raw(w, "\"", 1);
}

static int put_u64(char *d, uint64_t v);
static void w_u64(jw *w, uint64_t v) {
    char t[24];
    w_raw(w, t, (size_t)put_u64(t, v));
}
static void w_i64(jw *w, int64_t v) {
    if (v < 0) {
        w_raw(w, "-", 1);
        w_u64(w, (uint64_t)0 - (uint64_t)v);
    } else {
        w_u64(w, (uint64_t)v);
    }
}

static void w_hex(jw *w, const uint8_t *p, size_t n, int upper) {
    const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char t[64];
    for (size_t i = 0; i < n && i < 32; i++) t[2 * i] = d[p[i] >> 4], t[2 * i + 1] = d[p[i] & 15];
    w_raw(w, t, 2 * (n < 32 ? n : 32));
}

/* standard base64 with padding, as a JSON string (Go's base64.StdEncoding) */
static void w_b64(jw *w, const uint8_t *p, size_t n) {
    char t[B64_LEN(255) + 1];
    if (n > 255) n = 255;
    size_t o = b64_encode(p, n, t);
    w_raw(w, "\"", 1);
    w_raw(w, t, o);
    w_raw(w, "\"", 1);
}

/* decimal digits of v into d (no NUL); count */
static int put_u64(char *d, uint64_t v) {
    char t[24];
    int i = (int)sizeof t;
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    int n = (int)sizeof t - i;
    memcpy(d, t + i, (size_t)n);
    return n;
}

/* v (0..10^width-1) as exactly width digits, zero-padded */
static void put_fixed(char *d, uint32_t v, int width) {
    for (int i = width - 1; i >= 0; i--) d[i] = (char)('0' + v % 10), v /= 10;
}

/* Shortest decimal that reads back as the same float32 (is32) or double, laid out like Go's
 * strconv.AppendFloat(v, 'f' or 'e', -1, bits) as jsoniter/encoding/json choose it: fixed notation
 * unless |v| < 1e-6 or |v| >= 1e21, exponent "e-7" not "e-07". NaN/Inf are written as TTS does. */
static size_t fmt_float(char *out, size_t cap, double v, int is32) {
    if (isnan(v)) return (size_t)snprintf(out, cap, "\"NaN\"");
    if (isinf(v)) return (size_t)snprintf(out, cap, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    if (v == 0) return (size_t)snprintf(out, cap, signbit(v) ? "-0" : "0");
    /* Fast path: the fewest decimals k whose rounding r = v * 10^k reads back exactly. With r and 10^k
     * exact in the type (float: |r| < 2^24, k <= 10; double: |r| < 2^53, k <= 22) the one division is
     * correctly rounded, i.e. the same value strtof/strtod gives for the decimal text. */
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    double a0 = fabs(v);
    if (a0 >= 1e-6 && a0 < 1e21) {
        int kmax = is32 ? 10 : 22;
        double rmax = is32 ? 16777216.0 : 9007199254740992.0;
        for (int k = 0; k <= kmax; k++) {
            double r = nearbyint(a0 * p10[k]);
            if (r >= rmax) break;
            int same = is32 ? (float)r / (float)p10[k] == (float)a0 : r / p10[k] == a0;
            if (!same) continue;
            char d[24];
            int nd = put_u64(d, (uint64_t)r), o = 0;
            char t[48];
            if (v < 0) t[o++] = '-';
            if (nd <= k) { /* 0.000ddd */
                t[o++] = '0', t[o++] = '.';
                for (int i = nd; i < k; i++) t[o++] = '0';
                memcpy(t + o, d, (size_t)nd), o += nd;
            } else {
                memcpy(t + o, d, (size_t)(nd - k)), o += nd - k;
                if (k) t[o++] = '.', memcpy(t + o, d + nd - k, (size_t)k), o += k;
            }
            if ((size_t)o >= cap) return 0;
            memcpy(out, t, (size_t)o);
            out[o] = 0;
            return (size_t)o;
        }
    }
    char t[40];
    int maxp = is32 ? 9 : 17;
    for (int p = 1; p <= maxp; p++) {
        snprintf(t, sizeof t, "%.*e", p - 1, v);
        if (is32 ? strtof(t, NULL) == (float)v : strtod(t, NULL) == v) break;
    }
    /* t = [-]d[.ddd]e[+-]XX */
    const char *q = t;
    int neg = *q == '-';
    if (neg) q++;
    char dig[24];
    int nd = 0;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9') dig[nd++] = *q;
    int ex = atoi(q + 1);
    while (nd > 1 && dig[nd - 1] == '0') nd--;
    char r[64];
    size_t o = 0;
    if (neg) r[o++] = '-';
    double a = fabs(v);
    if (a < 1e-6 || a >= 1e21) {
        r[o++] = dig[0];
        if (nd > 1) {
            r[o++] = '.';
            for (int i = 1; i < nd; i++) r[o++] = dig[i];
        }
        o += (size_t)snprintf(r + o, sizeof r - o, "e%c%d", ex < 0 ? '-' : '+', ex < 0 ? -ex : ex);
        /* Go prints at least two exponent digits ("e+21"), and json cleans "e-07" to "e-7" only */
        if (ex >= 0 && ex < 10) {
            r[o - 1] = '0', r[o++] = (char)('0' + ex);
        }
    } else {
        int dp = ex + 1; /* digits before the point */
        if (dp <= 0) {
            r[o++] = '0', r[o++] = '.';
            for (int i = 0; i < -dp; i++) r[o++] = '0';
            for (int i = 0; i < nd; i++) r[o++] = dig[i];
        } else if (dp >= nd) {
            for (int i = 0; i < nd; i++) r[o++] = dig[i];
            for (int i = nd; i < dp; i++) r[o++] = '0';
        } else {
            for (int i = 0; i < dp; i++) r[o++] = dig[i];
            r[o++] = '.';
            for (int i = dp; i < nd; i++) r[o++] = dig[i];
        }
    }
    r[o] = 0;
    return (size_t)snprintf(out, cap, "%s", r);
}

static void w_float(jw *w, double v, int is32) {
    char t[64];
    size_t n = fmt_float(t, sizeof t, v, is32);
    w_raw(w, t, n < sizeof t ? n : sizeof t - 1);
}

/* ---- time ---- */

/* days since 1970-01-01 -> civil date (H. Hinnant's algorithm) */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* seconds + nanoseconds -> RFC 3339 UTC, fraction as TTS's jsonplugin WriteTime: 9 digits with
 * "000" trimmed twice and ".000" once, i.e. 0, 3, 6 or 9 digits. Years 0..9999 only. */
static size_t fmt_time(int64_t sec, uint32_t nsec, char *out, size_t cap) {
    int64_t days = sec / 86400, sod = sec % 86400; /* floor division, no negation (INT64_MIN) */
    if (sod < 0) days--, sod += 86400;
    int64_t y;
    unsigned mo, d;
    civil_from_days(days, &y, &mo, &d);
    if (y < 0 || y > 9999 || nsec > 999999999u) return 0;
    char t[40];
    put_fixed(t, (uint32_t)y, 4), t[4] = '-', put_fixed(t + 5, mo, 2), t[7] = '-', put_fixed(t + 8, d, 2);
    t[10] = 'T', put_fixed(t + 11, (uint32_t)(sod / 3600), 2), t[13] = ':';
    put_fixed(t + 14, (uint32_t)(sod / 60 % 60), 2), t[16] = ':', put_fixed(t + 17, (uint32_t)(sod % 60), 2);
    int n = 19;
    if (nsec) {
        int digits = 9;
        uint32_t f = nsec;
        if (f % 1000 == 0) f /= 1000, digits = 6;
        if (digits == 6 && f % 1000 == 0) f /= 1000, digits = 3;
        t[n++] = '.';
        put_fixed(t + n, f, digits);
        n += digits;
    }
    t[n++] = 'Z';
    t[n] = 0;
    if ((size_t)n + 1 > cap) return 0;
    memcpy(out, t, (size_t)n + 1);
    return (size_t)n;
}

size_t lw_rfc3339(int64_t us, char *out, size_t cap) {
    int64_t sec = us / 1000000, rem = us % 1000000;
    if (rem < 0) sec--, rem += 1000000;
    uint32_t frac = (uint32_t)rem;
    size_t n = fmt_time(sec, frac * 1000u, out, cap);
    if (n == 0 && out && cap) out[0] = 0;
    return n;
}

static int digits(const char **p, int n, int *v) {
    int r = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return -1;
        r = r * 10 + (c - '0');
    }
    *p += n;
    *v = r;
    return 0;
}

/* RFC 3339 ("2026-11-25T12:00:00.123456789Z", 'T'/'t'/' ', 'Z'/'z' or +hh:mm) -> sec, nsec */
static int parse_time(const char *s, int64_t *sec, uint32_t *nsec) {
    int y, mo, d, h, mi, se;
    const char *p = s;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d)) return -1;
    if (*p != 'T' && *p != 't' && *p != ' ') return -1;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &se)) return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 ||
        se > 60)
        return -1;
    if (se == 60) se = 59; /* leap second, as Go's parser would reject; keep the reading instead */
    uint32_t ns = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        while (*p >= '0' && *p <= '9') {
            if (nd < 9) ns = ns * 10 + (uint32_t)(*p - '0');
            nd++, p++;
        }
        if (nd == 0) return -1;
        for (int i = nd; i < 9; i++) ns *= 10;
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59) return -1;
        off = sign * (oh * 3600 + om * 60);
    } else {
        return -1;
    }
    if (*p) return -1;
    *sec = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off;
    *nsec = ns;
    return 0;
}

/* "name":"<time>" for epoch microseconds; nothing when us == 0 (unset) */
static void w_time_member(jw *w, const char *member, int64_t us) {
    char t[40];
    if (us == 0 || lw_rfc3339(us, t, sizeof t) == 0) return;
    w_lit(w, member);
    w_raw(w, "\"", 1);
    w_lit(w, t);
    w_raw(w, "\"", 1);
}

/* "name":"<time>" for a gateway-reported RFC 3339 string, normalized; nothing when absent/invalid */
static void w_time_str_member(jw *w, const char *member, const char *s) {
    int64_t sec;
    uint32_t ns;
    char t[40];
    if (!s || parse_time(s, &sec, &ns) != 0 || fmt_time(sec, ns, t, sizeof t) == 0) return;
    w_lit(w, member);
    w_raw(w, "\"", 1);
    w_lit(w, t);
    w_raw(w, "\"", 1);
}

/* Duration as jsonplugin WriteDuration: "%.09f" seconds with "000" trimmed twice, ".000" once */
static void w_duration_us(jw *w, uint32_t us) {
    char t[40];
    int n = 0;
    t[n++] = '"';
    n += put_u64(t + n, us / 1000000u);
    uint32_t f = us % 1000000u;
    if (f) {
        t[n++] = '.';
        if (f % 1000) {
            put_fixed(t + n, f, 6), n += 6;
        } else {
            put_fixed(t + n, f / 1000, 3), n += 3;
        }
    }
    t[n++] = 's';
    t[n++] = '"';
    w_raw(w, t, (size_t)n);
}

/* ---- shared pieces ---- */

/* ',' unless first, then "name": */
static void w_member(jw *w, int *more, const char *name) {
    if (*more) w_raw(w, ",", 1);
    *more = 1;
    w_raw(w, "\"", 1);
    w_lit(w, name);
    w_raw(w, "\":", 2);
}

static void w_ids(jw *w, const lw_as_ids *ids) {
    w_lit(w, "\"end_device_ids\":{\"device_id\":");
    w_str(w, ids->dev_id ? ids->dev_id : "");
    w_lit(w, ",\"application_ids\":{\"application_id\":");
    w_str(w, ids->app_id ? ids->app_id : "");
    w_raw(w, "}", 1);
    if (ids->dev_eui) {
        w_lit(w, ",\"dev_eui\":\"");
        w_hex(w, ids->dev_eui, 8, 1);
        w_raw(w, "\"", 1);
    }
    if (ids->join_eui) {
        w_lit(w, ",\"join_eui\":\"");
        w_hex(w, ids->join_eui, 8, 1);
        w_raw(w, "\"", 1);
    }
    if (ids->has_dev_addr) {
        uint8_t a[4] = {(uint8_t)(ids->dev_addr >> 24), (uint8_t)(ids->dev_addr >> 16), (uint8_t)(ids->dev_addr >> 8),
                        (uint8_t)ids->dev_addr};
        w_lit(w, ",\"dev_addr\":\"");
        w_hex(w, a, 4, 1);
        w_raw(w, "\"", 1);
    }
    w_raw(w, "}", 1);
}

static void w_corr1(jw *w, const char *id) {
    if (!id || !*id) return;
    w_lit(w, ",\"correlation_ids\":[");
    w_str(w, id);
    w_raw(w, "]", 1);
}

/* JSON text that TTS would omit: NULL, blank or an empty array ("[]") */
static int json_text_empty(const char *s) {
    if (!s) return 1;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    if (!*s) return 1;
    if (*s != '[') return 0; /* an empty decoded_payload object is still written, as TTS does */
    s++;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    return *s == ']';
}

static void w_settings(jw *w, const lw_as_settings *s) {
    w_lit(w, "{\"data_rate\":{");
    if (s->lora) {
        w_lit(w, "\"lora\":{");
        int more = 0;
        if (s->bw_hz) w_lit(w, "\"bandwidth\":"), w_u64(w, s->bw_hz), more = 1;
        if (s->sf) w_lit(w, more ? ",\"spreading_factor\":" : "\"spreading_factor\":"), w_u64(w, s->sf), more = 1;
        if (s->coding_rate && *s->coding_rate) {
            w_lit(w, more ? ",\"coding_rate\":" : "\"coding_rate\":");
            w_str(w, s->coding_rate);
        }
        w_raw(w, "}", 1);
    } else {
        w_lit(w, "\"fsk\":{");
        if (s->bitrate) w_lit(w, "\"bit_rate\":"), w_u64(w, s->bitrate);
        w_raw(w, "}", 1);
    }
    w_raw(w, "}", 1);
    if (s->freq_hz) w_lit(w, ",\"frequency\":\""), w_u64(w, s->freq_hz), w_raw(w, "\"", 1);
    if (s->tmst) w_lit(w, ",\"timestamp\":"), w_u64(w, s->tmst);
    w_time_str_member(w, ",\"time\":", s->time);
    w_raw(w, "}", 1);
}

static void w_rx(jw *w, const lw_as_rx *r) {
    w_lit(w, "{\"gateway_ids\":{\"gateway_id\":");
    if (r->gw_id && *r->gw_id) {
        w_str(w, r->gw_id);
    } else {
        w_lit(w, "\"eui-");
        w_hex(w, r->gw_eui, 8, 0);
        w_raw(w, "\"", 1);
    }
    w_lit(w, ",\"eui\":\"");
    w_hex(w, r->gw_eui, 8, 1);
    w_lit(w, "\"}");
    w_time_str_member(w, ",\"time\":", r->time);
    if (r->tmst) w_lit(w, ",\"timestamp\":"), w_u64(w, r->tmst);
    if (r->rssi) w_lit(w, ",\"rssi\":"), w_i64(w, r->rssi);
    if (r->has_signal_rssi) w_lit(w, ",\"signal_rssi\":"), w_i64(w, r->signal_rssi);
    if (r->rssi) w_lit(w, ",\"channel_rssi\":"), w_i64(w, r->rssi);
    if (r->snr != 0) w_lit(w, ",\"snr\":"), w_float(w, r->snr, 1);
    if (r->has_location) {
        w_lit(w, ",\"location\":{");
        int more = 0;
        if (r->lat != 0) w_lit(w, "\"latitude\":"), w_float(w, r->lat, 0), more = 1;
        if (r->lon != 0) w_lit(w, more ? ",\"longitude\":" : "\"longitude\":"), w_float(w, r->lon, 0), more = 1;
        if (r->alt != 0) w_lit(w, more ? ",\"altitude\":" : "\"altitude\":"), w_i64(w, r->alt), more = 1;
        w_lit(w, more ? ",\"source\":\"SOURCE_REGISTRY\"}" : "\"source\":\"SOURCE_REGISTRY\"}");
    }
    /* uplink_token: ours (opaque): gateway EUI, concentrator timestamp, reception time in microseconds */
    uint8_t tok[20];
    memcpy(tok, r->gw_eui, 8);
    for (int i = 0; i < 4; i++) tok[8 + i] = (uint8_t)(r->tmst >> (24 - 8 * i));
    for (int i = 0; i < 8; i++) tok[12 + i] = (uint8_t)((uint64_t)r->received_at_us >> (56 - 8 * i));
    w_lit(w, ",\"uplink_token\":");
    w_b64(w, tok, sizeof tok);
    if (r->channel_index) w_lit(w, ",\"channel_index\":"), w_u64(w, r->channel_index);
    w_time_member(w, ",\"received_at\":", r->received_at_us);
    w_raw(w, "}", 1);
}

static int finish(jw *w, size_t start) {
    if (w->fail) {
        w->b->len = start;
        return -1;
    }
    return 0;
}

/* ---- builders ---- */

int lw_as_uplink_json(const lw_as_uplink *up, buf_t *out) {
    jw w = {out, 0};
    size_t start = out->len;
    if (buf_reserve(out, 700 + up->frm_len * 2 + up->n_rx * 420 + (up->decoded_json ? strlen(up->decoded_json) : 0)) !=
        0)
        return -1;
    w_raw(&w, "{", 1);
    w_ids(&w, &up->ids);
    w_corr1(&w, up->correlation_id);
    w_time_member(&w, ",\"received_at\":", up->received_at_us);
    w_lit(&w, ",\"uplink_message\":{");
    int more = 0;
    if (up->session_key_id && up->session_key_id_len) {
        w_member(&w, &more, "session_key_id");
        w_b64(&w, up->session_key_id, up->session_key_id_len);
    }
    if (up->has_fport && up->f_port) w_member(&w, &more, "f_port"), w_u64(&w, up->f_port);
    if (up->f_cnt) w_member(&w, &more, "f_cnt"), w_u64(&w, up->f_cnt);
    if (up->frm && up->frm_len) w_member(&w, &more, "frm_payload"), w_b64(&w, up->frm, up->frm_len);
    if (up->decoded_json && *up->decoded_json) w_member(&w, &more, "decoded_payload"), w_lit(&w, up->decoded_json);
    if (!json_text_empty(up->warnings_json))
        w_member(&w, &more, "decoded_payload_warnings"), w_lit(&w, up->warnings_json);
    if (up->decode_error && *up->decode_error) {
        w_member(&w, &more, "decoded_payload_errors");
        w_raw(&w, "[", 1);
        w_str(&w, up->decode_error);
        w_raw(&w, "]", 1);
    }
    if (up->rx && up->n_rx) {
        w_member(&w, &more, "rx_metadata");
        w_raw(&w, "[", 1);
        for (size_t i = 0; i < up->n_rx; i++) {
            if (i) w_raw(&w, ",", 1);
            w_rx(&w, &up->rx[i]);
        }
        w_raw(&w, "]", 1);
    }
    w_member(&w, &more, "settings");
    w_settings(&w, &up->settings); /* from here on more == 1 */
    w_time_member(&w, ",\"received_at\":", up->received_at_us);
    if (up->last_a_f_cnt_down) w_lit(&w, ",\"last_a_f_cnt_down\":"), w_u64(&w, up->last_a_f_cnt_down);
    if (up->confirmed) w_lit(&w, ",\"confirmed\":true");
    w_lit(&w, ",\"consumed_airtime\":");
    w_duration_us(&w, up->consumed_airtime_us);
    uint8_t nid[3] = {(uint8_t)(up->net_id >> 16), (uint8_t)(up->net_id >> 8), (uint8_t)up->net_id};
    w_lit(&w, ",\"network_ids\":{\"net_id\":\"");
    w_hex(&w, nid, 3, 1);
    w_raw(&w, "\"", 1);
    const char *tenant = up->ids.tenant ? up->ids.tenant : "ttn";
    if (*tenant) w_lit(&w, ",\"tenant_id\":"), w_str(&w, tenant);
    if (up->cluster_id && *up->cluster_id) w_lit(&w, ",\"cluster_id\":"), w_str(&w, up->cluster_id);
    w_lit(&w, "}}}");
    return finish(&w, start);
}

int lw_as_join_json(const lw_as_ids *ids, const lw_as_join *join, buf_t *out) {
    jw w = {out, 0};
    size_t start = out->len;
    w_raw(&w, "{", 1);
    w_ids(&w, ids);
    w_corr1(&w, join->correlation_id);
    w_time_member(&w, ",\"received_at\":", join->received_at_us);
    w_lit(&w, ",\"join_accept\":{");
    int more = 0;
    if (join->session_key_id && join->session_key_id_len) {
        w_lit(&w, "\"session_key_id\":");
        w_b64(&w, join->session_key_id, join->session_key_id_len);
        more = 1;
    }
    if (join->received_at_us) w_time_member(&w, more ? ",\"received_at\":" : "\"received_at\":", join->received_at_us);
    w_lit(&w, "}}");
    return finish(&w, start);
}

const char *lw_as_priority_name(lw_as_priority p) {
    static const char *const names[] = {"LOWEST", "LOW", "BELOW_NORMAL", "NORMAL", "ABOVE_NORMAL", "HIGH", "HIGHEST"};
    return (unsigned)p < sizeof names / sizeof names[0] ? names[p] : "NORMAL";
}

/* ApplicationDownlink: session_key_id, f_port, f_cnt, frm_payload, decoded_payload, confirmed,
 * priority (omitted when LOWEST, the enum's zero), correlation_ids */
static void w_downlink(jw *w, const lw_as_downlink *dl) {
    w_raw(w, "{", 1);
    int more = 0;
#define SEP(name) w_lit(w, more ? "," name : name), more = 1
    if (dl->session_key_id[0]) {
        SEP("\"session_key_id\":");
        char k[sizeof dl->session_key_id + 1];
        memcpy(k, dl->session_key_id, sizeof dl->session_key_id);
        k[sizeof dl->session_key_id] = 0;
        w_str(w, k);
    }
    if (dl->f_port) SEP("\"f_port\":"), w_u64(w, dl->f_port);
    if (dl->f_cnt) SEP("\"f_cnt\":"), w_u64(w, dl->f_cnt);
    if (dl->has_frm && dl->frm_len) {
        SEP("\"frm_payload\":");
        w_b64(w, dl->frm, dl->frm_len <= sizeof dl->frm ? dl->frm_len : sizeof dl->frm);
    }
    if (dl->decoded_json && *dl->decoded_json) SEP("\"decoded_payload\":"), w_lit(w, dl->decoded_json);
    if (dl->confirmed) SEP("\"confirmed\":true");
    if (dl->priority != LW_PRIO_LOWEST) {
        SEP("\"priority\":");
        w_str(w, lw_as_priority_name(dl->priority));
    }
    if (!json_text_empty(dl->correlation_ids_json)) SEP("\"correlation_ids\":"), w_lit(w, dl->correlation_ids_json);
#undef SEP
    w_raw(w, "}", 1);
}

/* TTS error name: the message lower-cased, runs of other characters as '_' ("too long" -> "too_long") */
static void w_error(jw *w, const char *msg) {
    char name[64];
    size_t n = 0;
    for (const char *p = msg; *p && n < sizeof name - 1; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            name[n++] = c;
        } else if (n && name[n - 1] != '_') {
            name[n++] = '_';
        }
    }
    while (n && name[n - 1] == '_') n--;
    name[n] = 0;
    w_lit(w, "{\"namespace\":\"tinyedge/ns\",\"name\":");
    w_str(w, n ? name : "downlink_failed");
    w_lit(w, ",\"message_format\":");
    w_str(w, msg);
    w_raw(w, "}", 1);
}

int lw_as_down_event_json(const lw_as_ids *ids, lw_as_down_kind kind, const lw_as_downlink *dl, const char *error,
                          int64_t now_us, buf_t *out) {
    static const char *const member[] = {"downlink_queued", "downlink_sent", "downlink_ack", "downlink_nack",
                                         "downlink_failed"};
    if ((unsigned)kind > LW_DOWN_FAILED) return -1;
    jw w = {out, 0};
    size_t start = out->len;
    w_raw(&w, "{", 1);
    w_ids(&w, ids);
    if (!json_text_empty(dl->correlation_ids_json))
        w_lit(&w, ",\"correlation_ids\":"), w_lit(&w, dl->correlation_ids_json);
    w_time_member(&w, ",\"received_at\":", now_us);
    w_lit(&w, ",\"");
    w_lit(&w, member[kind]);
    w_lit(&w, "\":");
    if (kind == LW_DOWN_FAILED) {
        w_lit(&w, "{\"downlink\":");
        w_downlink(&w, dl);
        w_lit(&w, ",\"error\":");
        w_error(&w, error && *error ? error : "downlink failed");
        w_raw(&w, "}", 1);
    } else {
        w_downlink(&w, dl);
    }
    w_raw(&w, "}", 1);
    return finish(&w, start);
}

/* ---- topics ---- */

static int id_ok(const char *s, int allow_at) {
    if (!s || !*s) return 0;
    for (; *s; s++)
        if (*s == '+' || *s == '#' || *s == '/' || (!allow_at && *s == '@') || (unsigned char)*s < 0x20) return 0;
    return 1;
}

int lw_as_topic(const lw_as_ids *ids, const char *suffix, char *out, size_t cap) {
    static const char *const known[] = {"up",        "join",        "down/queued", "down/sent",   "down/ack",
                                        "down/nack", "down/failed", "down/push",   "down/replace"};
    int ok = 0;
    for (size_t i = 0; suffix && i < sizeof known / sizeof known[0]; i++) ok |= strcmp(suffix, known[i]) == 0;
    if (!ok || !ids || !id_ok(ids->app_id, 0) || !id_ok(ids->dev_id, 1) || !out || !cap) return -1;
    const char *tenant = ids->tenant ? ids->tenant : "ttn";
    if (*tenant && !id_ok(tenant, 0)) return -1;
    int n = snprintf(out, cap, "v3/%s%s%s/devices/%s/%s", ids->app_id, *tenant ? "@" : "", tenant, ids->dev_id, suffix);
    if (n < 0 || (size_t)n >= cap) {
        out[0] = 0;
        return -1;
    }
    return n;
}

/* ---- downlink parser ---- */

static int fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void lw_as_downlink_clear(lw_as_downlink *dl) {
    if (!dl) return;
    free(dl->decoded_json);
    free(dl->correlation_ids_json);
    dl->decoded_json = NULL;
    dl->correlation_ids_json = NULL;
}

#define LW_AS_MAX_FRM 242

static int parse_one(json_t *o, size_t i, lw_as_downlink *dl, char *err, size_t errlen) {
    memset(dl, 0, sizeof *dl);
    dl->priority = LW_PRIO_NORMAL;
    if (!json_is_object(o)) return fail(err, errlen, "downlinks[%zu]: must be an object", i);

    json_t *v = json_object_get(o, "f_port");
    if (!v || json_is_null(v)) return fail(err, errlen, "downlinks[%zu].f_port: missing", i);
    if (!json_is_integer(v)) return fail(err, errlen, "downlinks[%zu].f_port: must be an integer", i);
    json_int_t port = json_integer_value(v);
    if (port < 1 || port > 223)
        return fail(err, errlen, "downlinks[%zu].f_port: %lld out of range 1..223", i, (long long)port);
    dl->f_port = (uint8_t)port;

    v = json_object_get(o, "frm_payload");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v)) return fail(err, errlen, "downlinks[%zu].frm_payload: must be a base64 string", i);
        long n = b64_decode(json_string_value(v), json_string_length(v), dl->frm, LW_AS_MAX_FRM, B64_PADDED);
        if (n == -2) return fail(err, errlen, "downlinks[%zu].frm_payload: longer than %d bytes", i, LW_AS_MAX_FRM);
        if (n < 0) return fail(err, errlen, "downlinks[%zu].frm_payload: invalid base64", i);
        dl->frm_len = (size_t)n;
        dl->has_frm = true;
    }

    v = json_object_get(o, "decoded_payload");
    if (v && !json_is_null(v)) {
        if (!json_is_object(v)) return fail(err, errlen, "downlinks[%zu].decoded_payload: must be an object", i);
        dl->decoded_json = json_dumps(v, JSON_COMPACT);
        if (!dl->decoded_json) return fail(err, errlen, "downlinks[%zu].decoded_payload: out of memory", i);
    }
    if (!dl->has_frm && !dl->decoded_json)
        return fail(err, errlen, "downlinks[%zu]: needs frm_payload or decoded_payload", i);

    v = json_object_get(o, "confirmed");
    if (v && !json_is_null(v)) {
        if (!json_is_boolean(v)) return fail(err, errlen, "downlinks[%zu].confirmed: must be true or false", i);
        dl->confirmed = json_is_true(v);
    }

    v = json_object_get(o, "priority");
    if (v && !json_is_null(v)) {
        int found = -1;
        if (json_is_string(v)) {
            for (int p = LW_PRIO_LOWEST; p <= LW_PRIO_HIGHEST; p++)
                if (strcmp(json_string_value(v), lw_as_priority_name((lw_as_priority)p)) == 0) found = p;
        } else if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= LW_PRIO_HIGHEST) {
            found = (int)json_integer_value(v);
        }
        if (found < 0)
            return fail(err, errlen,
                        "downlinks[%zu].priority: must be one of LOWEST, LOW, BELOW_NORMAL, NORMAL, ABOVE_NORMAL, "
                        "HIGH, HIGHEST",
                        i);
        dl->priority = (lw_as_priority)found;
    }

    v = json_object_get(o, "correlation_ids");
    if (v && !json_is_null(v)) {
        if (!json_is_array(v))
            return fail(err, errlen, "downlinks[%zu].correlation_ids: must be an array of strings", i);
        size_t k;
        json_t *e;
        json_array_foreach(v, k, e) {
            if (!json_is_string(e))
                return fail(err, errlen, "downlinks[%zu].correlation_ids[%zu]: must be a string", i, k);
        }
        if (json_array_size(v)) {
            dl->correlation_ids_json = json_dumps(v, JSON_COMPACT);
            if (!dl->correlation_ids_json) return fail(err, errlen, "downlinks[%zu].correlation_ids: out of memory", i);
        }
    }
    return 0;
}

int lw_as_parse_downlinks(const char *json, size_t n, lw_as_downlink *out, size_t max, size_t *count, char *err,
                          size_t errlen) {
    if (count) *count = 0;
    if (!json || !count || (max && !out)) return fail(err, errlen, "invalid arguments");
    json_error_t je;
    json_t *root = json_loadb(json, n, JSON_REJECT_DUPLICATES, &je);
    if (!root) return fail(err, errlen, "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
    int rc = 0;
    json_t *arr = json_is_object(root) ? json_object_get(root, "downlinks") : NULL;
    if (!json_is_object(root)) {
        rc = fail(err, errlen, "the payload must be a JSON object {\"downlinks\":[...]}");
    } else if (!arr || json_is_null(arr)) {
        rc = fail(err, errlen, "missing \"downlinks\" array");
    } else if (!json_is_array(arr)) {
        rc = fail(err, errlen, "\"downlinks\" must be an array");
    } else if (json_array_size(arr) > max) {
        rc = fail(err, errlen, "too many downlinks: %zu (at most %zu)", json_array_size(arr), max);
    } else {
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e) {
            rc = parse_one(e, i, &out[i], err, errlen);
            if (rc != 0) {
                for (size_t k = 0; k <= i; k++) lw_as_downlink_clear(&out[k]);
                break;
            }
        }
        if (rc == 0) *count = json_array_size(arr);
    }
    json_decref(root);
    return rc;
}
