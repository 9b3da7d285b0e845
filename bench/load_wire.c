/* bench/load_wire.c: the load generator's own minimal client-side MQTT 3.1.1 / 5.0 encoder and
 * decoder (CONNECT, SUBSCRIBE, PUBLISH, acks, PINGREQ, DISCONNECT out; packet framing, CONNACK,
 * SUBACK, PUBLISH in), plus the growable byte buffer they write into. */
#include "load.h"
#include <stdlib.h>
#include <string.h>

int lbuf_reserve(lbuf *b, size_t n) {
    if (b->cap - b->len >= n) return 0;
    if (b->off > 0) {
        memmove(b->p, b->p + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->cap - b->len >= n) return 0;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

void lbuf_consume(lbuf *b, size_t n) {
    b->off += n;
    if (b->off >= b->len) b->off = b->len = 0;
}

void lbuf_free(lbuf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

static size_t varint_size(size_t v) { return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4; }

static uint8_t *put_varint(uint8_t *w, size_t v) {
    do {
        uint8_t d = v % 128;
        v /= 128;
        *w++ = d | (v ? 0x80 : 0);
    } while (v);
    return w;
}

static uint8_t *put_u16(uint8_t *w, uint16_t v) {
    w[0] = (uint8_t)(v >> 8);
    w[1] = (uint8_t)v;
    return w + 2;
}

static uint8_t *put_str(uint8_t *w, const char *s, size_t n) {
    w = put_u16(w, (uint16_t)n);
    memcpy(w, s, n);
    return w + n;
}

/* Reserve and write the fixed header; returns the write pointer for the rest. */
static uint8_t *begin(lbuf *b, uint8_t first, size_t rl) {
    if (lbuf_reserve(b, 1 + varint_size(rl) + rl)) return NULL;
    uint8_t *w = b->p + b->len;
    *w++ = first;
    return put_varint(w, rl);
}

static void end(lbuf *b, uint8_t *w) { b->len = (size_t)(w - b->p); }

int lw_connect(lbuf *b, int ver, const char *client_id, uint16_t keepalive) {
    size_t idl = strlen(client_id);
    size_t rl = 10 + (ver == 5 ? 1 : 0) + 2 + idl;
    uint8_t *w = begin(b, 0x10, rl);
    if (!w) return -1;
    w = put_str(w, "MQTT", 4);
    *w++ = (uint8_t)ver;
    *w++ = 0x02; /* clean session / clean start */
    w = put_u16(w, keepalive);
    if (ver == 5) *w++ = 0; /* no properties */
    w = put_str(w, client_id, idl);
    end(b, w);
    return 0;
}

int lw_subscribe(lbuf *b, int ver, uint16_t pid, const char *filter, int qos) {
    size_t fl = strlen(filter);
    size_t rl = 2 + (ver == 5 ? 1 : 0) + 2 + fl + 1;
    uint8_t *w = begin(b, 0x82, rl);
    if (!w) return -1;
    w = put_u16(w, pid);
    if (ver == 5) *w++ = 0;
    w = put_str(w, filter, fl);
    *w++ = (uint8_t)qos;
    end(b, w);
    return 0;
}

uint8_t *lw_publish(lbuf *b, int ver, const char *topic, size_t tlen, int qos, uint16_t pid, size_t plen) {
    size_t rl = 2 + tlen + (qos ? 2 : 0) + (ver == 5 ? 1 : 0) + plen;
    uint8_t *w = begin(b, (uint8_t)(0x30 | (qos << 1)), rl);
    if (!w) return NULL;
    w = put_str(w, topic, tlen);
    if (qos) w = put_u16(w, pid);
    if (ver == 5) *w++ = 0;
    end(b, w + plen);
    return w;
}

int lw_ack(lbuf *b, int type, uint16_t pid) {
    uint8_t *w = begin(b, (uint8_t)((type << 4) | (type == LW_PUBREL ? 2 : 0)), 2);
    if (!w) return -1;
    end(b, put_u16(w, pid));
    return 0;
}

int lw_simple(lbuf *b, int type) {
    uint8_t *w = begin(b, (uint8_t)(type << 4), 0);
    if (!w) return -1;
    end(b, w);
    return 0;
}

int lw_frame(const uint8_t *p, size_t n, lw_pkt *pkt, size_t *used) {
    if (n < 2) return 0;
    size_t rl = 0, i = 1;
    unsigned shift = 0;
    for (;;) {
        if (i >= n) return 0;
        if (i > 4) return -1;
        uint8_t d = p[i++];
        rl |= (size_t)(d & 0x7f) << shift;
        shift += 7;
        if (!(d & 0x80)) break;
    }
    if (n - i < rl) return 0;
    pkt->type = p[0] >> 4;
    pkt->flags = p[0] & 0x0f;
    pkt->body = p + i;
    pkt->body_len = rl;
    *used = i + rl;
    return 1;
}

/* Reads a variable byte integer from p[*i, n); -1 when malformed. */
static int get_varint(const uint8_t *p, size_t n, size_t *i, size_t *v) {
    size_t r = 0;
    unsigned shift = 0;
    for (int k = 0; k < 4; k++) {
        if (*i >= n) return -1;
        uint8_t d = p[(*i)++];
        r |= (size_t)(d & 0x7f) << shift;
        shift += 7;
        if (!(d & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

int lw_publish_parse(const lw_pkt *pkt, int ver, const uint8_t **topic, size_t *tlen, uint16_t *pid,
                     const uint8_t **payload, size_t *plen) {
    const uint8_t *p = pkt->body;
    size_t n = pkt->body_len, i = 0;
    int qos = (pkt->flags >> 1) & 3;
    if (n < 2) return -1;
    size_t tl = (size_t)p[0] << 8 | p[1];
    i = 2;
    if (n - i < tl) return -1;
    *topic = p + i;
    *tlen = tl;
    i += tl;
    *pid = 0;
    if (qos) {
        if (n - i < 2) return -1;
        *pid = (uint16_t)(p[i] << 8 | p[i + 1]);
        i += 2;
    }
    if (ver == 5) {
        size_t pl;
        if (get_varint(p, n, &i, &pl) || n - i < pl) return -1;
        i += pl;
    }
    *payload = p + i;
    *plen = n - i;
    return 0;
}

/* Size of a v5 property value by identifier; -1 for an unknown one, -2 for a variable integer. */
static int prop_size(uint8_t id) {
    switch (id) {
    case 0x01:
    case 0x17:
    case 0x19:
    case 0x24:
    case 0x25:
    case 0x28:
    case 0x29:
    case 0x2A:
        return 1;
    case 0x13:
    case 0x21:
    case 0x22:
    case 0x23:
        return 2;
    case 0x02:
    case 0x11:
    case 0x18:
    case 0x27:
        return 4;
    case 0x0B:
        return -2;
    case 0x03:
    case 0x08:
    case 0x12:
    case 0x15:
    case 0x1A:
    case 0x1C:
    case 0x1F:
    case 0x09:
    case 0x16:
        return -3;
    case 0x26:
        return -4;
    default:
        return -1;
    }
}

int lw_connack_parse(const lw_pkt *pkt, int ver, int *rc, int *recv_max) {
    const uint8_t *p = pkt->body;
    size_t n = pkt->body_len;
    if (pkt->type != LW_CONNACK || n < 2) return -1;
    *rc = p[1];
    *recv_max = 0;
    if (ver != 5 || n == 2) return 0;
    size_t i = 2, pl;
    if (get_varint(p, n, &i, &pl) || n - i < pl) return -1;
    size_t e = i + pl;
    while (i < e) {
        uint8_t id = p[i++];
        int sz = prop_size(id);
        if (sz == -1) return -1;
        if (sz == -2) {
            size_t v;
            if (get_varint(p, e, &i, &v)) return -1;
            continue;
        }
        int strings = sz == -3 ? 1 : sz == -4 ? 2 : 0;
        if (strings) {
            for (int k = 0; k < strings; k++) {
                if (e - i < 2) return -1;
                size_t l = (size_t)p[i] << 8 | p[i + 1];
                if (e - i - 2 < l) return -1;
                i += 2 + l;
            }
            continue;
        }
        if (e - i < (size_t)sz) return -1;
        if (id == 0x21) *recv_max = p[i] << 8 | p[i + 1];
        i += (size_t)sz;
    }
    return 0;
}

int lw_suback_ok(const lw_pkt *pkt, int ver) {
    const uint8_t *p = pkt->body;
    size_t n = pkt->body_len, i = 2;
    if (pkt->type != LW_SUBACK || n < 3) return 0;
    if (ver == 5) {
        size_t pl;
        if (get_varint(p, n, &i, &pl) || n - i < pl) return 0;
        i += pl;
    }
    if (i >= n) return 0;
    for (; i < n; i++)
        if (p[i] >= 0x80) return 0;
    return 1;
}
