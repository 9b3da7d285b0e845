/* Semtech UDP packet-forwarder protocol codec (see gwproto.h): header checks, the PUSH_DATA rxpk/stat
 * JSON, TX_ACK's txpk_ack, and building PUSH_ACK/PULL_ACK/PULL_RESP. Strict base64 is our own. */
#include "lorawan/gwproto.h"
#include "base/b64.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---- typed JSON member access: 0 found, 1 absent, <0 error (message written) ---- */

typedef struct {
    char *err;
    size_t errlen;
    const char *where; /* "rxpk[3]" or "stat" */
} ctx;

static int get_int(const ctx *c, json_t *o, const char *key, long long lo, long long hi, long long *v, bool req) {
    json_t *j = json_object_get(o, key);
    if (!j) return req ? fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s.%s: missing", c->where, key) : 1;
    if (!json_is_integer(j)) return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s.%s: not an integer", c->where, key);
    long long x = json_integer_value(j);
    if (x < lo || x > hi)
        return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s.%s: %lld out of range %lld..%lld", c->where, key, x, lo,
                    hi);
    *v = x;
    return 0;
}

static int get_num(const ctx *c, json_t *o, const char *key, double lo, double hi, double *v, bool req) {
    json_t *j = json_object_get(o, key);
    if (!j) return req ? fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s.%s: missing", c->where, key) : 1;
    if (!json_is_number(j)) return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s.%s: not a number", c->where, key);
    double x = json_number_value(j);
    if (!isfinite(x) || x < lo || x > hi)
        return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s.%s: out of range %g..%g", c->where, key, lo, hi);
    *v = x;
    return 0;
}

static int get_str(const ctx *c, json_t *o, const char *key, char *dst, size_t cap, bool req) {
    json_t *j = json_object_get(o, key);
    if (!j) return req ? fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s.%s: missing", c->where, key) : 1;
    if (!json_is_string(j)) return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s.%s: not a string", c->where, key);
    size_t n = json_string_length(j);
    if (n >= cap) return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s.%s: longer than %zu", c->where, key, cap - 1);
    const char *s = json_string_value(j);
    if (memchr(s, 0, n)) return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s.%s: contains NUL", c->where, key);
    memcpy(dst, s, n);
    dst[n] = 0;
    return 0;
}

/* "SF7BW125" -> sf, bw; false if not exactly that shape */
static bool parse_lora_datr(const char *s, uint8_t *sf, uint16_t *bw) {
    if (s[0] != 'S' || s[1] != 'F') return false;
    s += 2;
    unsigned v = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 3) v = v * 10 + (unsigned)(*s++ - '0'), digits++;
    if (!digits || v < 5 || v > 12) return false;
    *sf = (uint8_t)v;
    if (s[0] != 'B' || s[1] != 'W') return false;
    s += 2;
    unsigned b = 0;
    digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 4) b = b * 10 + (unsigned)(*s++ - '0'), digits++;
    if (*s || (b != 125 && b != 250 && b != 500)) return false;
    *bw = (uint16_t)b;
    return true;
}

static bool valid_codr(const char *s) {
    return !strcmp(s, "4/5") || !strcmp(s, "4/6") || !strcmp(s, "4/7") || !strcmp(s, "4/8") || !strcmp(s, "OFF") ||
           !strcmp(s, "2/3") || !strcmp(s, "1/2");
}

#define TRY(e)                                                                                                         \
    do {                                                                                                               \
        r = (e);                                                                                                       \
        if (r < 0) return r;                                                                                           \
    } while (0)

static int parse_rxpk(const ctx *c, json_t *o, lw_gw_rxpk *p) {
    if (!json_is_object(o)) return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s: not an object", c->where);
    int r;
    long long v;
    double d;
    TRY(get_str(c, o, "time", p->time, sizeof p->time, false));
    if (r == 0) p->has |= LW_GW_RX_TIME;
    TRY(get_int(c, o, "tmms", 0, (long long)1 << 53, &v, false));
    if (r == 0) p->has |= LW_GW_RX_TMMS, p->tmms = (uint64_t)v;
    TRY(get_int(c, o, "tmst", 0, UINT32_MAX, &v, true));
    p->tmst = (uint32_t)v;
    TRY(get_num(c, o, "freq", 0.000001, 4000.0, &d, true));
    p->freq_hz = (uint32_t)llround(d * 1e6);
    TRY(get_int(c, o, "chan", 0, 255, &v, false));
    if (r == 0) p->has |= LW_GW_RX_CHAN, p->chan = (uint8_t)v;
    TRY(get_int(c, o, "rfch", 0, 255, &v, false));
    if (r == 0) p->has |= LW_GW_RX_RFCH, p->rfch = (uint8_t)v;
    TRY(get_int(c, o, "stat", -1, 1, &v, false));
    if (r == 0) p->has |= LW_GW_RX_STAT, p->stat = (int8_t)v;

    char modu[8];
    TRY(get_str(c, o, "modu", modu, sizeof modu, true));
    json_t *datr = json_object_get(o, "datr");
    if (!datr) return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s.datr: missing", c->where);
    if (!strcmp(modu, "LORA")) {
        p->modu = LW_GW_MODU_LORA;
        if (!json_is_string(datr) || !parse_lora_datr(json_string_value(datr), &p->sf, &p->bw_khz))
            return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s.datr: not a LoRa data rate like \"SF7BW125\"",
                        c->where);
        TRY(get_str(c, o, "codr", p->codr, sizeof p->codr, true));
        if (!valid_codr(p->codr))
            return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s.codr: unknown coding rate", c->where);
        p->has |= LW_GW_RX_CODR;
    } else if (!strcmp(modu, "FSK")) {
        p->modu = LW_GW_MODU_FSK;
        TRY(get_int(c, o, "datr", 500, 1000000, &v, true));
        p->bitrate = (uint32_t)v;
        TRY(get_str(c, o, "codr", p->codr, sizeof p->codr, false));
        if (r == 0) p->has |= LW_GW_RX_CODR;
    } else {
        return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s.modu: not LORA or FSK", c->where);
    }

    TRY(get_num(c, o, "rssi", -300, 100, &d, false));
    if (r == 0) p->has |= LW_GW_RX_RSSI, p->rssi = (int16_t)lround(d);
    TRY(get_num(c, o, "rssis", -300, 100, &d, false));
    if (r == 0) p->has |= LW_GW_RX_RSSIS, p->rssis = (int16_t)lround(d);
    TRY(get_num(c, o, "lsnr", -100, 100, &d, false));
    if (r == 0) p->has |= LW_GW_RX_LSNR, p->lsnr = (float)d;

    TRY(get_int(c, o, "size", 0, LW_GW_MAX_PAYLOAD, &v, true));
    json_t *data = json_object_get(o, "data");
    if (!data) return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s.data: missing", c->where);
    if (!json_is_string(data)) return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s.data: not a string", c->where);
    long got = b64_decode(json_string_value(data), json_string_length(data), p->data, sizeof p->data, 0);
    if (got < 0)
        return fail(c->err, c->errlen, LW_GW_ERR_BASE64, "%s.data: invalid base64 or over %d bytes", c->where,
                    LW_GW_MAX_PAYLOAD);
    if (got != v)
        return fail(c->err, c->errlen, LW_GW_ERR_SIZE, "%s.size: %lld but data holds %ld bytes", c->where, v, got);
    p->size = (uint16_t)got;
    return 0;
}

static int parse_stat(const ctx *c, json_t *o, lw_gw_stat *s) {
    if (!json_is_object(o)) return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "stat: not an object");
    int r;
    long long v;
    double d;
    TRY(get_str(c, o, "time", s->time, sizeof s->time, false));
    if (r == 0) s->has |= LW_GW_ST_TIME;
    TRY(get_num(c, o, "lati", -90, 90, &d, false));
    if (r == 0) s->has |= LW_GW_ST_LATI, s->lati = d;
    TRY(get_num(c, o, "long", -180, 180, &d, false));
    if (r == 0) s->has |= LW_GW_ST_LONG, s->lon = d;
    TRY(get_num(c, o, "alti", -20000, 1000000, &d, false));
    if (r == 0) s->has |= LW_GW_ST_ALTI, s->alti = (int32_t)lround(d);
    static const struct {
        const char *key;
        unsigned bit;
        size_t off;
    } counters[] = {
        {"rxnb", LW_GW_ST_RXNB, offsetof(lw_gw_stat, rxnb)}, {"rxok", LW_GW_ST_RXOK, offsetof(lw_gw_stat, rxok)},
        {"rxfw", LW_GW_ST_RXFW, offsetof(lw_gw_stat, rxfw)}, {"dwnb", LW_GW_ST_DWNB, offsetof(lw_gw_stat, dwnb)},
        {"txnb", LW_GW_ST_TXNB, offsetof(lw_gw_stat, txnb)},
    };
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        TRY(get_int(c, o, counters[i].key, 0, UINT32_MAX, &v, false));
        if (r == 0) {
            s->has |= counters[i].bit;
            uint32_t u = (uint32_t)v;
            memcpy((char *)s + counters[i].off, &u, sizeof u);
        }
    }
    TRY(get_num(c, o, "ackr", 0, 100, &d, false));
    if (r == 0) s->has |= LW_GW_ST_ACKR, s->ackr = d;
    return 0;
}

static const char *const txerr_names[] = {"NONE",    "TOO_LATE", "TOO_EARLY",   "COLLISION_PACKET", "COLLISION_BEACON",
                                          "TX_FREQ", "TX_POWER", "GPS_UNLOCKED"};

const char *lw_gw_txerr_name(int code) {
    if (code < 0 || (size_t)code >= sizeof txerr_names / sizeof txerr_names[0]) return "?";
    return txerr_names[code];
}

const char *lw_gw_strerror(int rc) {
    switch (rc) {
    case 0:
        return "ok";
    case LW_GW_ERR_ARG:
        return "bad argument";
    case LW_GW_ERR_TRUNCATED:
        return "truncated";
    case LW_GW_ERR_VERSION:
        return "bad version";
    case LW_GW_ERR_IDENT:
        return "bad identifier";
    case LW_GW_ERR_JSON:
        return "bad json";
    case LW_GW_ERR_FIELD:
        return "bad field";
    case LW_GW_ERR_BASE64:
        return "bad base64";
    case LW_GW_ERR_SIZE:
        return "size mismatch";
    case LW_GW_ERR_TOOMANY:
        return "too many packets";
    case LW_GW_ERR_NOSPACE:
        return "no space";
    default:
        return "unknown error";
    }
}

/* load the JSON object body (trailing NULs stripped); NULL with a message on failure */
static json_t *load_body(const uint8_t *p, size_t n, char *err, size_t errlen, int *rc) {
    while (n > 0 && p[n - 1] == 0) n--;
    json_error_t je;
    json_t *root = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        *rc = fail(err, errlen, LW_GW_ERR_JSON, "json: %s (at byte %d)", je.text, je.position);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        *rc = fail(err, errlen, LW_GW_ERR_JSON, "json: body is not an object");
        return NULL;
    }
    return root;
}

static int parse_push_data(const uint8_t *p, size_t n, lw_gw_msg *out, char *err, size_t errlen) {
    int rc = 0;
    json_t *root = load_body(p, n, err, errlen, &rc);
    if (!root) return rc;
    char where[16];
    ctx c = {err, errlen, where};
    json_t *rx = json_object_get(root, "rxpk");
    if (rx) {
        if (!json_is_array(rx)) {
            rc = fail(err, errlen, LW_GW_ERR_FIELD, "rxpk: not an array");
            goto out;
        }
        size_t cnt = json_array_size(rx);
        if (cnt > LW_GW_MAX_RXPK) {
            rc = fail(err, errlen, LW_GW_ERR_TOOMANY, "rxpk: %zu packets, at most %d", cnt, LW_GW_MAX_RXPK);
            goto out;
        }
        for (size_t i = 0; i < cnt; i++) {
            snprintf(where, sizeof where, "rxpk[%zu]", i);
            rc = parse_rxpk(&c, json_array_get(rx, i), &out->rxpk[i]);
            if (rc < 0) goto out;
        }
        out->n_rxpk = cnt;
    }
    json_t *st = json_object_get(root, "stat");
    if (st) {
        snprintf(where, sizeof where, "stat");
        rc = parse_stat(&c, st, &out->stat);
        if (rc < 0) goto out;
        out->has_stat = true;
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

static int parse_tx_ack(const uint8_t *p, size_t n, lw_gw_msg *out, char *err, size_t errlen) {
    out->tx_error = LW_GW_TXERR_NONE;
    size_t m = n;
    while (m > 0 && p[m - 1] == 0) m--;
    if (m == 0) return 0; /* no body: success */
    int rc = 0;
    json_t *root = load_body(p, n, err, errlen, &rc);
    if (!root) return rc;
    json_t *ack = json_object_get(root, "txpk_ack");
    if (ack) {
        if (!json_is_object(ack)) {
            rc = fail(err, errlen, LW_GW_ERR_FIELD, "txpk_ack: not an object");
            goto out;
        }
        json_t *e = json_object_get(ack, "error");
        if (e) {
            if (!json_is_string(e)) {
                rc = fail(err, errlen, LW_GW_ERR_FIELD, "txpk_ack.error: not a string");
                goto out;
            }
            size_t i;
            for (i = 0; i < sizeof txerr_names / sizeof txerr_names[0]; i++)
                if (!strcmp(json_string_value(e), txerr_names[i]) && json_string_length(e) == strlen(txerr_names[i]))
                    break;
            if (i == sizeof txerr_names / sizeof txerr_names[0]) {
                rc = fail(err, errlen, LW_GW_ERR_FIELD, "txpk_ack.error: unknown code");
                goto out;
            }
            out->tx_error = (int)i;
        }
    }
out:
    json_decref(root);
    return rc;
}

int lw_gw_parse(const uint8_t *d, size_t n, lw_gw_msg *out, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    if (!out || (!d && n)) return fail(err, errlen, LW_GW_ERR_ARG, "NULL argument");
    memset(out, 0, sizeof *out);
    if (n < LW_GW_HDR_LEN) return fail(err, errlen, LW_GW_ERR_TRUNCATED, "datagram of %zu bytes, header needs 4", n);
    if (d[0] != 1 && d[0] != 2) return fail(err, errlen, LW_GW_ERR_VERSION, "protocol version %u, want 1 or 2", d[0]);
    out->version = d[0];
    out->token = (uint16_t)(d[1] << 8 | d[2]);
    out->ident = d[3];
    int rc;
    switch (d[3]) {
    case LW_GW_PUSH_ACK:
    case LW_GW_PULL_ACK:
        if (n != LW_GW_HDR_LEN) return fail(err, errlen, LW_GW_ERR_JSON, "ack with %zu extra bytes", n - 4);
        return 0;
    case LW_GW_PUSH_DATA:
    case LW_GW_PULL_DATA:
    case LW_GW_TX_ACK:
        if (d[3] == LW_GW_TX_ACK && d[0] < 2) return fail(err, errlen, LW_GW_ERR_IDENT, "TX_ACK needs version 2");
        if (n < LW_GW_EUI_HDR_LEN)
            return fail(err, errlen, LW_GW_ERR_TRUNCATED, "datagram of %zu bytes, header with EUI needs 12", n);
        memcpy(out->eui, d + 4, 8);
        out->has_eui = true;
        break;
    case LW_GW_PULL_RESP:
        return fail(err, errlen, LW_GW_ERR_IDENT, "PULL_RESP is server->gateway, not decoded here");
    default:
        return fail(err, errlen, LW_GW_ERR_IDENT, "unknown identifier 0x%02x", d[3]);
    }
    const uint8_t *body = d + LW_GW_EUI_HDR_LEN;
    size_t bn = n - LW_GW_EUI_HDR_LEN;
    if (d[3] == LW_GW_PULL_DATA) {
        if (bn) return fail(err, errlen, LW_GW_ERR_JSON, "PULL_DATA with %zu extra bytes", bn);
        return 0;
    }
    if (d[3] == LW_GW_TX_ACK)
        rc = parse_tx_ack(body, bn, out, err, errlen);
    else
        rc = parse_push_data(body, bn, out, err, errlen);
    if (rc < 0) {
        /* leave no half-filled result behind */
        memset(out, 0, sizeof *out);
        out->version = d[0];
        out->token = (uint16_t)(d[1] << 8 | d[2]);
        out->ident = d[3];
    }
    return rc;
}

static void put_hdr(uint8_t *o, uint8_t version, uint16_t token, uint8_t ident) {
    o[0] = version;
    o[1] = (uint8_t)(token >> 8);
    o[2] = (uint8_t)token;
    o[3] = ident;
}

int lw_gw_build_ack(uint8_t version, uint16_t token, uint8_t ident, uint8_t *out, size_t cap, size_t *len) {
    if (len) *len = 0;
    if (!out || !len || (version != 1 && version != 2) || (ident != LW_GW_PUSH_ACK && ident != LW_GW_PULL_ACK))
        return LW_GW_ERR_ARG;
    if (cap < LW_GW_HDR_LEN) return LW_GW_ERR_NOSPACE;
    put_hdr(out, version, token, ident);
    *len = LW_GW_HDR_LEN;
    return 0;
}

/* set a member, counting allocation failures */
static void set(json_t *o, const char *k, json_t *v, int *bad) {
    if (!v || json_object_set_new(o, k, v) != 0) (*bad)++;
}

int lw_gw_build_pull_resp(const lw_gw_txpk *tx, uint8_t version, uint16_t token, uint8_t *out, size_t cap,
                          size_t *len) {
    if (len) *len = 0;
    if (!tx || !out || !len || (version != 1 && version != 2)) return LW_GW_ERR_ARG;
    if (tx->size > LW_GW_MAX_PAYLOAD || (tx->size && !tx->data)) return LW_GW_ERR_ARG;
    if (!tx->imme && !tx->has_tmst && !tx->has_tmms) return LW_GW_ERR_ARG;
    if (tx->freq_hz == 0) return LW_GW_ERR_ARG;
    char datr[16];
    if (tx->modu == LW_GW_MODU_LORA) {
        if (tx->sf < 5 || tx->sf > 12 || (tx->bw_khz != 125 && tx->bw_khz != 250 && tx->bw_khz != 500))
            return LW_GW_ERR_ARG;
        if (tx->codr && !valid_codr(tx->codr)) return LW_GW_ERR_ARG;
        snprintf(datr, sizeof datr, "SF%uBW%u", (unsigned)tx->sf, (unsigned)tx->bw_khz);
    } else if (tx->modu == LW_GW_MODU_FSK) {
        if (tx->bitrate < 500 || tx->bitrate > 1000000) return LW_GW_ERR_ARG;
    } else {
        return LW_GW_ERR_ARG;
    }

    char b64[B64_LEN(LW_GW_MAX_PAYLOAD) + 1];
    b64_encode(tx->data, tx->size, b64);
    int bad = 0;
    json_t *root = json_object();
    json_t *t = json_object();
    if (!root || !t) {
        json_decref(root);
        json_decref(t);
        return LW_GW_ERR_NOSPACE;
    }
    set(root, "txpk", t, &bad);
    if (tx->imme) set(t, "imme", json_true(), &bad);
    if (tx->has_tmst) set(t, "tmst", json_integer(tx->tmst), &bad);
    if (tx->has_tmms) set(t, "tmms", json_integer((json_int_t)tx->tmms), &bad);
    set(t, "freq", json_real(tx->freq_hz / 1e6), &bad);
    set(t, "rfch", json_integer(tx->rfch), &bad);
    set(t, "powe", json_integer(tx->powe), &bad);
    if (tx->modu == LW_GW_MODU_LORA) {
        set(t, "modu", json_string("LORA"), &bad);
        set(t, "datr", json_string(datr), &bad);
        set(t, "codr", json_string(tx->codr ? tx->codr : "4/5"), &bad);
        set(t, "ipol", json_boolean(tx->ipol), &bad);
    } else {
        set(t, "modu", json_string("FSK"), &bad);
        set(t, "datr", json_integer(tx->bitrate), &bad);
        if (tx->fdev) set(t, "fdev", json_integer(tx->fdev), &bad);
    }
    if (tx->prea) set(t, "prea", json_integer(tx->prea), &bad);
    set(t, "size", json_integer(tx->size), &bad);
    set(t, "data", json_string(b64), &bad);
    if (tx->ncrc) set(t, "ncrc", json_true(), &bad);
    int rc = 0;
    char *s = bad ? NULL : json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (!s) return LW_GW_ERR_NOSPACE;
    size_t sl = strlen(s);
    if (cap < LW_GW_HDR_LEN || cap - LW_GW_HDR_LEN < sl) {
        rc = LW_GW_ERR_NOSPACE;
    } else {
        put_hdr(out, version, token, LW_GW_PULL_RESP);
        memcpy(out + LW_GW_HDR_LEN, s, sl);
        *len = LW_GW_HDR_LEN + sl;
    }
    free(s);
    return rc;
}

/* ---- gateway side: PUSH_DATA, PULL_DATA, TX_ACK builders and the PULL_RESP decoder ---- */

static int dump_after_hdr(json_t *root, int bad, uint8_t version, uint16_t token, uint8_t ident, const uint8_t eui[8],
                          uint8_t *out, size_t cap, size_t *len) {
    char *s = bad ? NULL : json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (!s) return LW_GW_ERR_NOSPACE;
    size_t sl = strlen(s);
    int rc = 0;
    if (cap < LW_GW_EUI_HDR_LEN || cap - LW_GW_EUI_HDR_LEN < sl) {
        rc = LW_GW_ERR_NOSPACE;
    } else {
        put_hdr(out, version, token, ident);
        memcpy(out + LW_GW_HDR_LEN, eui, 8);
        memcpy(out + LW_GW_EUI_HDR_LEN, s, sl);
        *len = LW_GW_EUI_HDR_LEN + sl;
    }
    free(s);
    return rc;
}

static json_t *rxpk_json(const lw_gw_rxpk *p, int *bad) {
    json_t *o = json_object();
    if (!o) return NULL;
    char b64[B64_LEN(LW_GW_MAX_PAYLOAD) + 1];
    if (p->has & LW_GW_RX_TIME) set(o, "time", json_string(p->time), bad);
    if (p->has & LW_GW_RX_TMMS) set(o, "tmms", json_integer((json_int_t)p->tmms), bad);
    set(o, "tmst", json_integer(p->tmst), bad);
    if (p->has & LW_GW_RX_CHAN) set(o, "chan", json_integer(p->chan), bad);
    if (p->has & LW_GW_RX_RFCH) set(o, "rfch", json_integer(p->rfch), bad);
    set(o, "freq", json_real(p->freq_hz / 1e6), bad);
    if (p->has & LW_GW_RX_STAT) set(o, "stat", json_integer(p->stat), bad);
    if (p->modu == LW_GW_MODU_LORA) {
        char datr[16];
        snprintf(datr, sizeof datr, "SF%uBW%u", (unsigned)p->sf, (unsigned)p->bw_khz);
        set(o, "modu", json_string("LORA"), bad);
        set(o, "datr", json_string(datr), bad);
        set(o, "codr", json_string(p->codr[0] ? p->codr : "4/5"), bad);
    } else {
        set(o, "modu", json_string("FSK"), bad);
        set(o, "datr", json_integer(p->bitrate), bad);
        if (p->has & LW_GW_RX_CODR) set(o, "codr", json_string(p->codr), bad);
    }
    if (p->has & LW_GW_RX_RSSI) set(o, "rssi", json_integer(p->rssi), bad);
    if (p->has & LW_GW_RX_RSSIS) set(o, "rssis", json_integer(p->rssis), bad);
    if (p->has & LW_GW_RX_LSNR) set(o, "lsnr", json_real(round((double)p->lsnr * 10) / 10), bad);
    set(o, "size", json_integer(p->size), bad);
    b64_encode(p->data, p->size, b64);
    set(o, "data", json_string(b64), bad);
    return o;
}

int lw_gw_build_push_data(const lw_gw_rxpk *rx, size_t n, const lw_gw_stat *stat, uint8_t version, uint16_t token,
                          const uint8_t eui[8], uint8_t *out, size_t cap, size_t *len) {
    if (len) *len = 0;
    if (!out || !len || !eui || (n && !rx) || n > LW_GW_MAX_RXPK || (version != 1 && version != 2))
        return LW_GW_ERR_ARG;
    for (size_t i = 0; i < n; i++) {
        const lw_gw_rxpk *p = &rx[i];
        if (p->size > LW_GW_MAX_PAYLOAD || p->freq_hz == 0) return LW_GW_ERR_ARG;
        if (p->modu == LW_GW_MODU_LORA) {
            if (p->sf < 5 || p->sf > 12 || (p->bw_khz != 125 && p->bw_khz != 250 && p->bw_khz != 500))
                return LW_GW_ERR_ARG;
            if (p->codr[0] && !valid_codr(p->codr)) return LW_GW_ERR_ARG;
        } else if (p->modu == LW_GW_MODU_FSK) {
            if (p->bitrate < 500 || p->bitrate > 1000000) return LW_GW_ERR_ARG;
        } else {
            return LW_GW_ERR_ARG;
        }
    }
    int bad = 0;
    json_t *root = json_object();
    if (!root) return LW_GW_ERR_NOSPACE;
    if (n) {
        json_t *arr = json_array();
        set(root, "rxpk", arr, &bad);
        for (size_t i = 0; arr && i < n; i++) {
            json_t *o = rxpk_json(&rx[i], &bad);
            if (!o || json_array_append_new(arr, o) != 0) bad++;
        }
    }
    if (stat) {
        json_t *o = json_object();
        set(root, "stat", o, &bad);
        if (o) {
            if (stat->has & LW_GW_ST_TIME) set(o, "time", json_string(stat->time), &bad);
            if (stat->has & LW_GW_ST_LATI) set(o, "lati", json_real(stat->lati), &bad);
            if (stat->has & LW_GW_ST_LONG) set(o, "long", json_real(stat->lon), &bad);
            if (stat->has & LW_GW_ST_ALTI) set(o, "alti", json_integer(stat->alti), &bad);
            if (stat->has & LW_GW_ST_RXNB) set(o, "rxnb", json_integer(stat->rxnb), &bad);
            if (stat->has & LW_GW_ST_RXOK) set(o, "rxok", json_integer(stat->rxok), &bad);
            if (stat->has & LW_GW_ST_RXFW) set(o, "rxfw", json_integer(stat->rxfw), &bad);
            if (stat->has & LW_GW_ST_ACKR) set(o, "ackr", json_real(stat->ackr), &bad);
            if (stat->has & LW_GW_ST_DWNB) set(o, "dwnb", json_integer(stat->dwnb), &bad);
            if (stat->has & LW_GW_ST_TXNB) set(o, "txnb", json_integer(stat->txnb), &bad);
        }
    }
    return dump_after_hdr(root, bad, version, token, LW_GW_PUSH_DATA, eui, out, cap, len);
}

int lw_gw_build_pull_data(uint8_t version, uint16_t token, const uint8_t eui[8], uint8_t *out, size_t cap, size_t *len) {
    if (len) *len = 0;
    if (!out || !len || !eui || (version != 1 && version != 2)) return LW_GW_ERR_ARG;
    if (cap < LW_GW_EUI_HDR_LEN) return LW_GW_ERR_NOSPACE;
    put_hdr(out, version, token, LW_GW_PULL_DATA);
    memcpy(out + LW_GW_HDR_LEN, eui, 8);
    *len = LW_GW_EUI_HDR_LEN;
    return 0;
}

int lw_gw_build_tx_ack(uint16_t token, const uint8_t eui[8], int error, uint8_t *out, size_t cap, size_t *len) {
    if (len) *len = 0;
    if (!out || !len || !eui || error < 0 || (size_t)error >= sizeof txerr_names / sizeof txerr_names[0])
        return LW_GW_ERR_ARG;
    int bad = 0;
    json_t *root = json_object(), *ack = json_object();
    if (!root || !ack) {
        json_decref(root);
        json_decref(ack);
        return LW_GW_ERR_NOSPACE;
    }
    set(root, "txpk_ack", ack, &bad);
    set(ack, "error", json_string(txerr_names[error]), &bad);
    return dump_after_hdr(root, bad, 2, token, LW_GW_TX_ACK, eui, out, cap, len);
}

static int get_bool(const ctx *c, json_t *o, const char *key, bool *v) {
    json_t *j = json_object_get(o, key);
    if (!j) return 1;
    if (!json_is_boolean(j)) return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "%s.%s: not a boolean", c->where, key);
    *v = json_is_true(j);
    return 0;
}

static int parse_txpk(const ctx *c, json_t *o, lw_gw_pull_resp *out) {
    if (!json_is_object(o)) return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "txpk: not an object");
    lw_gw_txpk *t = &out->tx;
    int r;
    long long v;
    double d;
    TRY(get_bool(c, o, "imme", &t->imme));
    TRY(get_int(c, o, "tmst", 0, UINT32_MAX, &v, false));
    if (r == 0) t->has_tmst = true, t->tmst = (uint32_t)v;
    TRY(get_int(c, o, "tmms", 0, (long long)1 << 53, &v, false));
    if (r == 0) t->has_tmms = true, t->tmms = (uint64_t)v;
    if (!t->imme && !t->has_tmst && !t->has_tmms)
        return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "txpk: none of imme, tmst, tmms");
    TRY(get_num(c, o, "freq", 0.000001, 4000.0, &d, true));
    t->freq_hz = (uint32_t)llround(d * 1e6);
    TRY(get_int(c, o, "rfch", 0, 255, &v, false));
    if (r == 0) t->rfch = (uint8_t)v;
    TRY(get_int(c, o, "powe", -128, 127, &v, false));
    if (r == 0) t->powe = (int8_t)v;
    char modu[8];
    TRY(get_str(c, o, "modu", modu, sizeof modu, true));
    json_t *datr = json_object_get(o, "datr");
    if (!datr) return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "txpk.datr: missing");
    if (!strcmp(modu, "LORA")) {
        t->modu = LW_GW_MODU_LORA;
        if (!json_is_string(datr) || !parse_lora_datr(json_string_value(datr), &t->sf, &t->bw_khz))
            return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "txpk.datr: not a LoRa data rate like \"SF7BW125\"");
        TRY(get_str(c, o, "codr", out->codr, sizeof out->codr, false));
        if (r == 1) strcpy(out->codr, "4/5");
        if (!valid_codr(out->codr)) return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "txpk.codr: unknown coding rate");
        t->codr = out->codr;
    } else if (!strcmp(modu, "FSK")) {
        t->modu = LW_GW_MODU_FSK;
        TRY(get_int(c, o, "datr", 500, 1000000, &v, true));
        t->bitrate = (uint32_t)v;
        TRY(get_int(c, o, "fdev", 0, 1000000, &v, false));
        if (r == 0) t->fdev = (uint32_t)v;
    } else {
        return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "txpk.modu: not LORA or FSK");
    }
    TRY(get_bool(c, o, "ipol", &t->ipol));
    TRY(get_int(c, o, "prea", 0, 65535, &v, false));
    if (r == 0) t->prea = (uint16_t)v;
    TRY(get_bool(c, o, "ncrc", &t->ncrc));
    TRY(get_int(c, o, "size", 0, LW_GW_MAX_PAYLOAD, &v, true));
    json_t *data = json_object_get(o, "data");
    if (!data) return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "txpk.data: missing");
    if (!json_is_string(data)) return fail(c->err, c->errlen, LW_GW_ERR_FIELD, "txpk.data: not a string");
    long got = b64_decode(json_string_value(data), json_string_length(data), out->data, sizeof out->data, 0);
    if (got < 0)
        return fail(c->err, c->errlen, LW_GW_ERR_BASE64, "txpk.data: invalid base64 or over %d bytes", LW_GW_MAX_PAYLOAD);
    if (got != v) return fail(c->err, c->errlen, LW_GW_ERR_SIZE, "txpk.size: %lld but data holds %ld bytes", v, got);
    t->size = (uint16_t)got;
    t->data = out->data;
    return 0;
}

int lw_gw_parse_pull_resp(const uint8_t *d, size_t n, lw_gw_pull_resp *out, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    if (!out || (!d && n)) return fail(err, errlen, LW_GW_ERR_ARG, "NULL argument");
    memset(out, 0, sizeof *out);
    if (n < LW_GW_HDR_LEN) return fail(err, errlen, LW_GW_ERR_TRUNCATED, "datagram of %zu bytes, header needs 4", n);
    if (d[0] != 1 && d[0] != 2) return fail(err, errlen, LW_GW_ERR_VERSION, "protocol version %u, want 1 or 2", d[0]);
    if (d[3] != LW_GW_PULL_RESP) return fail(err, errlen, LW_GW_ERR_IDENT, "identifier 0x%02x is not PULL_RESP", d[3]);
    uint8_t version = d[0];
    uint16_t token = (uint16_t)(d[1] << 8 | d[2]);
    int rc = 0;
    json_t *root = load_body(d + LW_GW_HDR_LEN, n - LW_GW_HDR_LEN, err, errlen, &rc);
    if (!root) return rc;
    ctx c = {err, errlen, "txpk"};
    json_t *t = json_object_get(root, "txpk");
    if (!t)
        rc = fail(err, errlen, LW_GW_ERR_FIELD, "txpk: missing");
    else
        rc = parse_txpk(&c, t, out);
    json_decref(root);
    if (rc < 0) memset(out, 0, sizeof *out);
    out->version = version;
    out->token = token;
    if (rc == 0) {
        out->tx.data = out->data;
        if (out->tx.modu == LW_GW_MODU_LORA) out->tx.codr = out->codr;
    }
    return rc;
}
