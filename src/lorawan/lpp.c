/* Cayenne LPP decoder (to The Things Stack's decoded_payload JSON) and encoder; see lpp.h for the
 * format and the TTS compatibility rules. Pure C11: no allocation, no libm, integer number
 * formatting, output bounded by the caller's capacity. */
#include "lorawan/lpp.h"

#include <stdio.h>
#include <string.h>

static const lw_lpp_type_info TYPES[] = {
    {LW_LPP_DIGITAL_IN, "digital_in", 1, 1, 0, 1, {1, 0, 0}, {0, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_DIGITAL_OUT, "digital_out", 1, 1, 0, 1, {1, 0, 0}, {0, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_ANALOG_IN, "analog_in", 2, 1, 1, 1, {2, 0, 0}, {2, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_ANALOG_OUT, "analog_out", 2, 1, 1, 1, {2, 0, 0}, {2, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_GENERIC_SENSOR, "generic_sensor", 4, 1, 0, 0, {4, 0, 0}, {0, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_LUMINOSITY, "luminosity", 2, 1, 0, 1, {2, 0, 0}, {0, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_PRESENCE, "presence", 1, 1, 0, 1, {1, 0, 0}, {0, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_TEMPERATURE, "temperature", 2, 1, 1, 1, {2, 0, 0}, {1, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_RELATIVE_HUMIDITY, "relative_humidity", 1, 1, 0, 1, {1, 0, 0}, {0, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_ACCELEROMETER, "accelerometer", 6, 3, 1, 1, {2, 2, 2}, {3, 3, 3}, {"x", "y", "z"}, {0, 1, 2}},
    /* signed: go-cayenne-lib reads an int16 (the LPP table says unsigned) */
    {LW_LPP_BAROMETRIC_PRESSURE,
     "barometric_pressure",
     2,
     1,
     1,
     1,
     {2, 0, 0},
     {1, 0, 0},
     {NULL, NULL, NULL},
     {0, 0, 0}},
    {LW_LPP_VOLTAGE, "voltage", 2, 1, 0, 0, {2, 0, 0}, {2, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_CURRENT, "current", 2, 1, 0, 0, {2, 0, 0}, {3, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_FREQUENCY, "frequency", 4, 1, 0, 0, {4, 0, 0}, {0, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_PERCENTAGE, "percentage", 1, 1, 0, 0, {1, 0, 0}, {0, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_ALTITUDE, "altitude", 2, 1, 1, 0, {2, 0, 0}, {0, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_CONCENTRATION, "concentration", 2, 1, 0, 0, {2, 0, 0}, {0, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_POWER, "power", 2, 1, 0, 0, {2, 0, 0}, {0, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_DISTANCE, "distance", 4, 1, 0, 0, {4, 0, 0}, {3, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_ENERGY, "energy", 4, 1, 0, 0, {4, 0, 0}, {3, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_DIRECTION, "direction", 2, 1, 0, 0, {2, 0, 0}, {0, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_UNIX_TIME, "unix_time", 4, 1, 0, 0, {4, 0, 0}, {0, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
    {LW_LPP_GYROMETER, "gyrometer", 6, 3, 1, 1, {2, 2, 2}, {2, 2, 2}, {"x", "y", "z"}, {0, 1, 2}},
    {LW_LPP_COLOUR, "colour", 3, 3, 0, 0, {1, 1, 1}, {0, 0, 0}, {"r", "g", "b"}, {2, 1, 0}},
    {LW_LPP_GPS, "gps", 9, 3, 1, 1, {3, 3, 3}, {4, 4, 2}, {"latitude", "longitude", "altitude"}, {2, 0, 1}},
    {LW_LPP_SWITCH, "switch", 1, 1, 0, 0, {1, 0, 0}, {0, 0, 0}, {NULL, NULL, NULL}, {0, 0, 0}},
};

/* relative humidity is 0.5 % per bit: handled as a special scale (raw * 5, one decimal) */
#define IS_RH(info) ((info)->type == LW_LPP_RELATIVE_HUMIDITY)

/* TTS downlink item: [channel][int16 value*100] -> "value_<channel>" */
static const lw_lpp_type_info DOWNLINK_VALUE = {0,        "value", 2, 1, 1, 1, {2, 0, 0}, {2, 0, 0}, {NULL, NULL, NULL},
                                                {0, 0, 0}};

static const lw_lpp_type_info *find_type(uint8_t type) {
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (TYPES[i].type == type) return &TYPES[i];
    return NULL;
}

const lw_lpp_type_info *lw_lpp_type_info_of(uint8_t type, unsigned flags) {
    const lw_lpp_type_info *t = find_type(type);
    if (t && !t->tts && !(flags & LW_LPP_EXTENDED)) return NULL;
    return t;
}

static void seterr(char *err, size_t errlen, const char *msg) {
    if (err && errlen) snprintf(err, errlen, "%s", msg);
}

static int64_t read_be(const uint8_t *p, unsigned width, int is_signed) {
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++) v = (v << 8) | p[i];
    if (is_signed && width < 8 && (v >> (8 * width - 1)) & 1u) return (int64_t)v - ((int64_t)1 << (8 * width));
    return (int64_t)v;
}

static void fill_fields(const lw_lpp_type_info *t, const uint8_t *v, lw_lpp_item *item) {
    unsigned at = 0;
    for (unsigned f = 0; f < 3; f++) item->raw[f] = 0;
    for (unsigned f = 0; f < t->nfields; f++) {
        item->raw[f] = read_be(v + at, t->width[f], t->is_signed);
        at += t->width[f];
    }
}

int lw_lpp_next(const uint8_t *p, size_t n, size_t *off, unsigned flags, lw_lpp_item *item, char *err, size_t errlen) {
    if (!off || !item || (!p && n)) {
        seterr(err, errlen, "lpp: bad arguments");
        return LW_LPP_ERR_ARG;
    }
    size_t o = *off;
    if (o >= n) return 0;
    if (n - o < 2) {
        if (err && errlen)
            snprintf(err, errlen, "lpp: truncated item header at offset %zu: channel %u without a type", o,
                     (unsigned)p[o]);
        return LW_LPP_ERR_TRUNCATED;
    }
    uint8_t ch = p[o], ty = p[o + 1];
    const lw_lpp_type_info *t = find_type(ty);
    if (!t || (!t->tts && !(flags & LW_LPP_EXTENDED))) {
        if (err && errlen) {
            if (t)
                snprintf(err, errlen,
                         "lpp: type %u (%s) on channel %u at offset %zu is an extended LPP type, not decoded by "
                         "The Things Stack",
                         (unsigned)ty, t->name, (unsigned)ch, o + 1);
            else
                snprintf(err, errlen, "lpp: unknown type %u on channel %u at offset %zu", (unsigned)ty, (unsigned)ch,
                         o + 1);
        }
        return LW_LPP_ERR_UNKNOWN_TYPE;
    }
    if (n - o - 2 < t->size) {
        if (err && errlen)
            snprintf(err, errlen, "lpp: truncated %s (type %u) on channel %u at offset %zu: needs %u bytes, %zu left",
                     t->name, (unsigned)ty, (unsigned)ch, o + 2, (unsigned)t->size, n - o - 2);
        return LW_LPP_ERR_TRUNCATED;
    }
    item->channel = ch;
    item->type = ty;
    item->offset = o;
    item->info = t;
    fill_fields(t, p + o + 2, item);
    *off = o + 2 + t->size;
    return 1;
}

/* downlink: [channel][int16]... up to the end or a 0xFF channel (TTS DecodeDownlink) */
static int next_downlink(const uint8_t *p, size_t n, size_t *off, lw_lpp_item *item, char *err, size_t errlen) {
    size_t o = *off;
    if (o >= n || p[o] == 0xFF) return 0;
    if (n - o < 3) {
        if (err && errlen)
            snprintf(err, errlen, "lpp: truncated downlink value on channel %u at offset %zu: needs 2 bytes, %zu left",
                     (unsigned)p[o], o + 1, n - o - 1);
        return LW_LPP_ERR_TRUNCATED;
    }
    item->channel = p[o];
    item->type = 0;
    item->offset = o;
    item->info = &DOWNLINK_VALUE;
    fill_fields(&DOWNLINK_VALUE, p + o + 1, item);
    *off = o + 3;
    return 1;
}

size_t lw_lpp_format_fixed(int64_t raw, unsigned dec, char *out, size_t cap) {
    char tmp[32];
    size_t k = 0;
    uint64_t mag = raw < 0 ? (uint64_t)0 - (uint64_t)raw : (uint64_t)raw;
    if (dec > 9) return 0;
    uint64_t div = 1;
    for (unsigned i = 0; i < dec; i++) div *= 10;
    uint64_t ip = mag / div, fp = mag % div;
    unsigned fd = dec;
    while (fd > 0 && fp % 10 == 0) {
        fp /= 10;
        fd--;
    }
    /* build reversed: fraction digits, '.', integer digits, sign */
    if (fd > 0) {
        for (unsigned i = 0; i < fd; i++) {
            tmp[k++] = (char)('0' + fp % 10);
            fp /= 10;
        }
        tmp[k++] = '.';
    }
    do {
        tmp[k++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    if (raw < 0) tmp[k++] = '-';
    if (!out || cap < k + 1) return 0;
    for (size_t i = 0; i < k; i++) out[i] = tmp[k - 1 - i];
    out[k] = 0;
    return k;
}

/* bounded JSON text writer: keeps counting past the capacity so the caller learns the size needed */
typedef struct {
    char *out;
    size_t cap;
    size_t len;
} jw;

static void jw_putn(jw *j, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (j->out && j->len + 1 < j->cap) j->out[j->len] = s[i];
        j->len++;
    }
}
static void jw_puts(jw *j, const char *s) { jw_putn(j, s, strlen(s)); }

static void jw_num(jw *j, int64_t raw, unsigned dec) {
    char b[32];
    size_t k = lw_lpp_format_fixed(raw, dec, b, sizeof b);
    jw_putn(j, b, k);
}

static void jw_field(jw *j, const lw_lpp_type_info *t, const lw_lpp_item *it, unsigned f) {
    if (IS_RH(t))
        jw_num(j, it->raw[f] * 5, 1);
    else
        jw_num(j, it->raw[f], t->dec[f]);
}

static size_t key_of(const lw_lpp_item *it, char *k, size_t cap) {
    int r = snprintf(k, cap, "%s_%u", it->info->name, (unsigned)it->channel);
    return r < 0 ? 0 : (size_t)r;
}

typedef int (*next_fn)(const uint8_t *, size_t, size_t *, unsigned, lw_lpp_item *, char *, size_t);

static int next_dl_adapter(const uint8_t *p, size_t n, size_t *off, unsigned flags, lw_lpp_item *item, char *err,
                           size_t errlen) {
    (void)flags;
    return next_downlink(p, n, off, item, err, errlen);
}

static int decode_json(next_fn next, const uint8_t *p, size_t n, unsigned flags, char *out, size_t cap, size_t *len,
                       char *err, size_t errlen) {
    if (len) *len = 0;
    if (out && cap) out[0] = 0;
    if ((!p && n) || (!out && cap)) {
        seterr(err, errlen, "lpp: bad arguments");
        return LW_LPP_ERR_ARG;
    }
    if (n > LW_LPP_MAX_PAYLOAD) {
        if (err && errlen) snprintf(err, errlen, "lpp: payload of %zu bytes exceeds %d", n, LW_LPP_MAX_PAYLOAD);
        return LW_LPP_ERR_TOO_LONG;
    }
    /* validate everything first: any error fails the whole payload, as in TTS */
    lw_lpp_item it;
    memset(&it, 0, sizeof it);
    size_t off = 0;
    int rc;
    while ((rc = next(p, n, &off, flags, &it, err, errlen)) == 1) {
    }
    if (rc < 0) return rc;

    /* emit keys in ascending byte order; a duplicate key takes its last occurrence (selection by
     * repeated scans: no allocation, O(items^2) with items <= LW_LPP_MAX_PAYLOAD / 3) */
    jw j = {out, cap, 0};
    jw_putn(&j, "{", 1);
    char prev[40] = "", cand[40], k[40];
    int have_prev = 0, first = 1;
    for (;;) {
        lw_lpp_item best = it;
        int found = 0;
        off = 0;
        while (next(p, n, &off, flags, &it, NULL, 0) == 1) {
            key_of(&it, k, sizeof k);
            if (have_prev && strcmp(k, prev) <= 0) continue;
            int c = found ? strcmp(k, cand) : -1;
            if (c <= 0) { /* smaller, or equal and later: take it */
                best = it;
                memcpy(cand, k, sizeof cand);
                found = 1;
            }
        }
        if (!found) break;
        if (!first) jw_putn(&j, ",", 1);
        first = 0;
        jw_putn(&j, "\"", 1);
        jw_puts(&j, cand);
        jw_putn(&j, "\":", 2);
        const lw_lpp_type_info *t = best.info;
        if (t->nfields == 1) {
            jw_field(&j, t, &best, 0);
        } else {
            jw_putn(&j, "{", 1);
            for (unsigned i = 0; i < t->nfields; i++) {
                unsigned f = t->out_order[i];
                if (i) jw_putn(&j, ",", 1);
                jw_putn(&j, "\"", 1);
                jw_puts(&j, t->field[f]);
                jw_putn(&j, "\":", 2);
                jw_field(&j, t, &best, f);
            }
            jw_putn(&j, "}", 1);
        }
        memcpy(prev, cand, sizeof prev);
        have_prev = 1;
    }
    jw_putn(&j, "}", 1);
    if (len) *len = j.len;
    if (j.len + 1 > cap) {
        if (out && cap) out[0] = 0;
        if (err && errlen) snprintf(err, errlen, "lpp: JSON output needs %zu bytes, buffer holds %zu", j.len + 1, cap);
        return LW_LPP_ERR_NOSPACE;
    }
    out[j.len] = 0;
    return 0;
}

int lw_lpp_decode_json_ex(const uint8_t *p, size_t n, unsigned flags, char *out, size_t cap, size_t *len, char *err,
                          size_t errlen) {
    return decode_json(lw_lpp_next, p, n, flags, out, cap, len, err, errlen);
}

int lw_lpp_decode_json(const uint8_t *p, size_t n, char *out, size_t cap, size_t *len, char *err, size_t errlen) {
    return decode_json(lw_lpp_next, p, n, LW_LPP_TTS, out, cap, len, err, errlen);
}

int lw_lpp_decode_downlink_json(const uint8_t *p, size_t n, char *out, size_t cap, size_t *len, char *err,
                                size_t errlen) {
    return decode_json(next_dl_adapter, p, n, 0, out, cap, len, err, errlen);
}

/* ---- encoder ---- */

void lw_lpp_writer_init(lw_lpp_writer *w, uint8_t *buf, size_t cap) {
    if (!w) return;
    w->buf = buf;
    w->cap = buf ? cap : 0;
    w->len = 0;
}

static int in_range(int64_t v, unsigned width, int is_signed) {
    if (is_signed) {
        int64_t lim = (int64_t)1 << (8 * width - 1);
        return v >= -lim && v < lim;
    }
    return v >= 0 && v < ((int64_t)1 << (8 * width));
}

static int put_item(lw_lpp_writer *w, uint8_t channel, uint8_t type, int with_type, const lw_lpp_type_info *t,
                    const int64_t *raw, size_t nraw) {
    if (!w || !raw || nraw != t->nfields) return LW_LPP_ERR_ARG;
    for (unsigned f = 0; f < t->nfields; f++)
        if (!in_range(raw[f], t->width[f], t->is_signed)) return LW_LPP_ERR_RANGE;
    size_t need = (with_type ? 2u : 1u) + t->size;
    if (w->len > w->cap || w->cap - w->len < need) return LW_LPP_ERR_NOSPACE;
    uint8_t *o = w->buf + w->len;
    *o++ = channel;
    if (with_type) *o++ = type;
    for (unsigned f = 0; f < t->nfields; f++) {
        uint64_t u = (uint64_t)raw[f];
        for (unsigned b = t->width[f]; b > 0; b--) *o++ = (uint8_t)(u >> (8 * (b - 1)));
    }
    w->len += need;
    return 0;
}

int lw_lpp_add_raw(lw_lpp_writer *w, uint8_t channel, uint8_t type, const int64_t *raw, size_t nraw) {
    const lw_lpp_type_info *t = find_type(type);
    if (!t) return LW_LPP_ERR_UNKNOWN_TYPE;
    return put_item(w, channel, type, 1, t, raw, nraw);
}

/* physical value -> fixed point, rounded half away from zero; out of int64-safe range fails */
static int to_raw(double v, unsigned dec, int rh, int64_t *raw) {
    double s = v;
    if (rh)
        s *= 2.0;
    else
        for (unsigned i = 0; i < dec; i++) s *= 10.0;
    if (!(s > -4.0e12 && s < 4.0e12)) return LW_LPP_ERR_RANGE; /* also rejects NaN */
    *raw = (int64_t)(s < 0 ? s - 0.5 : s + 0.5);
    return 0;
}

int lw_lpp_add(lw_lpp_writer *w, uint8_t channel, uint8_t type, const double *vals, size_t nvals) {
    const lw_lpp_type_info *t = find_type(type);
    if (!t) return LW_LPP_ERR_UNKNOWN_TYPE;
    if (!vals || nvals != t->nfields) return LW_LPP_ERR_ARG;
    int64_t raw[3] = {0, 0, 0};
    for (unsigned f = 0; f < t->nfields; f++)
        if (to_raw(vals[f], t->dec[f], IS_RH(t), &raw[f]) != 0) return LW_LPP_ERR_RANGE;
    return put_item(w, channel, type, 1, t, raw, nvals);
}

int lw_lpp_add_value(lw_lpp_writer *w, uint8_t channel, double value) {
    int64_t raw;
    if (channel == 0xFF) return LW_LPP_ERR_ARG; /* 0xFF ends a downlink */
    if (to_raw(value, 2, 0, &raw) != 0) return LW_LPP_ERR_RANGE;
    return put_item(w, channel, 0, 0, &DOWNLINK_VALUE, &raw, 1);
}

static int add1(lw_lpp_writer *w, uint8_t ch, uint8_t type, double v) { return lw_lpp_add(w, ch, type, &v, 1); }
static int add1i(lw_lpp_writer *w, uint8_t ch, uint8_t type, int64_t v) { return lw_lpp_add_raw(w, ch, type, &v, 1); }
static int add3(lw_lpp_writer *w, uint8_t ch, uint8_t type, double a, double b, double c) {
    double v[3] = {a, b, c};
    return lw_lpp_add(w, ch, type, v, 3);
}

int lw_lpp_add_digital_in(lw_lpp_writer *w, uint8_t ch, uint8_t v) { return add1i(w, ch, LW_LPP_DIGITAL_IN, v); }
int lw_lpp_add_digital_out(lw_lpp_writer *w, uint8_t ch, uint8_t v) { return add1i(w, ch, LW_LPP_DIGITAL_OUT, v); }
int lw_lpp_add_analog_in(lw_lpp_writer *w, uint8_t ch, double v) { return add1(w, ch, LW_LPP_ANALOG_IN, v); }
int lw_lpp_add_analog_out(lw_lpp_writer *w, uint8_t ch, double v) { return add1(w, ch, LW_LPP_ANALOG_OUT, v); }
int lw_lpp_add_generic_sensor(lw_lpp_writer *w, uint8_t ch, uint32_t v) {
    return add1i(w, ch, LW_LPP_GENERIC_SENSOR, v);
}
int lw_lpp_add_luminosity(lw_lpp_writer *w, uint8_t ch, uint16_t lux) { return add1i(w, ch, LW_LPP_LUMINOSITY, lux); }
int lw_lpp_add_presence(lw_lpp_writer *w, uint8_t ch, uint8_t v) { return add1i(w, ch, LW_LPP_PRESENCE, v); }
int lw_lpp_add_temperature(lw_lpp_writer *w, uint8_t ch, double c) { return add1(w, ch, LW_LPP_TEMPERATURE, c); }
int lw_lpp_add_relative_humidity(lw_lpp_writer *w, uint8_t ch, double pct) {
    return add1(w, ch, LW_LPP_RELATIVE_HUMIDITY, pct);
}
int lw_lpp_add_accelerometer(lw_lpp_writer *w, uint8_t ch, double x, double y, double z) {
    return add3(w, ch, LW_LPP_ACCELEROMETER, x, y, z);
}
int lw_lpp_add_barometric_pressure(lw_lpp_writer *w, uint8_t ch, double hpa) {
    return add1(w, ch, LW_LPP_BAROMETRIC_PRESSURE, hpa);
}
int lw_lpp_add_voltage(lw_lpp_writer *w, uint8_t ch, double v) { return add1(w, ch, LW_LPP_VOLTAGE, v); }
int lw_lpp_add_current(lw_lpp_writer *w, uint8_t ch, double a) { return add1(w, ch, LW_LPP_CURRENT, a); }
int lw_lpp_add_frequency(lw_lpp_writer *w, uint8_t ch, uint32_t hz) { return add1i(w, ch, LW_LPP_FREQUENCY, hz); }
int lw_lpp_add_percentage(lw_lpp_writer *w, uint8_t ch, uint8_t pct) { return add1i(w, ch, LW_LPP_PERCENTAGE, pct); }
int lw_lpp_add_altitude(lw_lpp_writer *w, uint8_t ch, int16_t m) { return add1i(w, ch, LW_LPP_ALTITUDE, m); }
int lw_lpp_add_concentration(lw_lpp_writer *w, uint8_t ch, uint16_t ppm) {
    return add1i(w, ch, LW_LPP_CONCENTRATION, ppm);
}
int lw_lpp_add_power(lw_lpp_writer *w, uint8_t ch, uint16_t watts) { return add1i(w, ch, LW_LPP_POWER, watts); }
int lw_lpp_add_distance(lw_lpp_writer *w, uint8_t ch, double m) { return add1(w, ch, LW_LPP_DISTANCE, m); }
int lw_lpp_add_energy(lw_lpp_writer *w, uint8_t ch, double kwh) { return add1(w, ch, LW_LPP_ENERGY, kwh); }
int lw_lpp_add_direction(lw_lpp_writer *w, uint8_t ch, uint16_t deg) { return add1i(w, ch, LW_LPP_DIRECTION, deg); }
int lw_lpp_add_unix_time(lw_lpp_writer *w, uint8_t ch, uint32_t s) { return add1i(w, ch, LW_LPP_UNIX_TIME, s); }
int lw_lpp_add_gyrometer(lw_lpp_writer *w, uint8_t ch, double x, double y, double z) {
    return add3(w, ch, LW_LPP_GYROMETER, x, y, z);
}
int lw_lpp_add_colour(lw_lpp_writer *w, uint8_t ch, uint8_t r, uint8_t g, uint8_t b) {
    int64_t v[3] = {r, g, b};
    return lw_lpp_add_raw(w, ch, LW_LPP_COLOUR, v, 3);
}
int lw_lpp_add_gps(lw_lpp_writer *w, uint8_t ch, double lat, double lon, double alt) {
    return add3(w, ch, LW_LPP_GPS, lat, lon, alt);
}
int lw_lpp_add_switch(lw_lpp_writer *w, uint8_t ch, uint8_t on) {
    if (on > 1) return LW_LPP_ERR_RANGE;
    return add1i(w, ch, LW_LPP_SWITCH, on);
}
