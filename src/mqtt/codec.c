/* mqtt/codec: MQTT 3.1 / 3.1.1 / 5.0 packet decoder and encoder (contract in codec.h).
 * Decoding validates everything in one pass over the caller's bytes and allocates nothing;
 * encoding computes the exact size first, reserves once and writes directly. */
#include "mqtt/codec.h"
#include <string.h>
#include "mqtt/topic.h"

#define MQTT_VARINT_MAX 268435455u

/* ---------------------------------------------------------------- property tables */

enum { PT_NONE = 0, PT_BYTE, PT_U16, PT_U32, PT_VARINT, PT_STR, PT_BIN, PT_PAIR };

static const uint8_t prop_type[64] = {
    [MQTT_PROP_PAYLOAD_FORMAT] = PT_BYTE,        [MQTT_PROP_MESSAGE_EXPIRY] = PT_U32,
    [MQTT_PROP_CONTENT_TYPE] = PT_STR,           [MQTT_PROP_RESPONSE_TOPIC] = PT_STR,
    [MQTT_PROP_CORRELATION_DATA] = PT_BIN,       [MQTT_PROP_SUBSCRIPTION_ID] = PT_VARINT,
    [MQTT_PROP_SESSION_EXPIRY] = PT_U32,         [MQTT_PROP_ASSIGNED_CLIENT_ID] = PT_STR,
    [MQTT_PROP_SERVER_KEEP_ALIVE] = PT_U16,      [MQTT_PROP_AUTH_METHOD] = PT_STR,
    [MQTT_PROP_AUTH_DATA] = PT_BIN,              [MQTT_PROP_REQUEST_PROBLEM_INFO] = PT_BYTE,
    [MQTT_PROP_WILL_DELAY] = PT_U32,             [MQTT_PROP_REQUEST_RESPONSE_INFO] = PT_BYTE,
    [MQTT_PROP_RESPONSE_INFO] = PT_STR,          [MQTT_PROP_SERVER_REFERENCE] = PT_STR,
    [MQTT_PROP_REASON_STRING] = PT_STR,          [MQTT_PROP_RECEIVE_MAX] = PT_U16,
    [MQTT_PROP_TOPIC_ALIAS_MAX] = PT_U16,        [MQTT_PROP_TOPIC_ALIAS] = PT_U16,
    [MQTT_PROP_MAX_QOS] = PT_BYTE,               [MQTT_PROP_RETAIN_AVAILABLE] = PT_BYTE,
    [MQTT_PROP_USER_PROPERTY] = PT_PAIR,         [MQTT_PROP_MAX_PACKET_SIZE] = PT_U32,
    [MQTT_PROP_WILDCARD_SUB_AVAILABLE] = PT_BYTE, [MQTT_PROP_SUB_ID_AVAILABLE] = PT_BYTE,
    [MQTT_PROP_SHARED_SUB_AVAILABLE] = PT_BYTE,
};

#define B(id) (1ull << (id))
#define ALLOW_CONNECT                                                                              \
    (B(0x11) | B(0x21) | B(0x27) | B(0x22) | B(0x19) | B(0x17) | B(0x26) | B(0x15) | B(0x16))
#define ALLOW_WILL (B(0x18) | B(0x01) | B(0x02) | B(0x03) | B(0x08) | B(0x09) | B(0x26))
#define ALLOW_CONNACK                                                                              \
    (B(0x11) | B(0x21) | B(0x24) | B(0x25) | B(0x27) | B(0x12) | B(0x22) | B(0x1F) | B(0x26) |      \
     B(0x28) | B(0x29) | B(0x2A) | B(0x13) | B(0x1A) | B(0x1C) | B(0x15) | B(0x16))
#define ALLOW_PUBLISH                                                                              \
    (B(0x01) | B(0x02) | B(0x23) | B(0x08) | B(0x09) | B(0x26) | B(0x0B) | B(0x03))
#define ALLOW_ACK (B(0x1F) | B(0x26))
#define ALLOW_SUBSCRIBE (B(0x0B) | B(0x26))
#define ALLOW_UNSUBSCRIBE (B(0x26))
#define ALLOW_DISCONNECT (B(0x11) | B(0x1F) | B(0x26) | B(0x1C))
#define ALLOW_AUTH (B(0x15) | B(0x16) | B(0x1F) | B(0x26))
#define REPEAT_DEFAULT (B(0x26))
#define REPEAT_PUBLISH (B(0x26) | B(0x0B))

/* valid v5 reason codes per packet */
#define RC_SET(s) (const uint8_t *)(s), sizeof(s) - 1
static const char rc_connack[] = "\x00\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8A\x8C\x90\x95\x97"
                                 "\x99\x9A\x9B\x9C\x9D\x9F";
static const char rc_puback[] = "\x00\x10\x80\x83\x87\x90\x91\x97\x99";
static const char rc_pubrel[] = "\x00\x92";
static const char rc_suback[] = "\x00\x01\x02\x80\x83\x87\x8F\x91\x97\x9E\xA1\xA2";
static const char rc_unsuback[] = "\x00\x11\x80\x83\x87\x8F\x91";
static const char rc_disconnect[] = "\x00\x04\x80\x81\x82\x83\x87\x89\x8B\x8D\x8E\x8F\x90\x93\x94\x95"
                                    "\x96\x97\x98\x99\x9A\x9B\x9C\x9D\x9E\x9F\xA0\xA1\xA2";
static const char rc_auth[] = "\x00\x18\x19";

static bool rc_in(const uint8_t *set, size_t n, uint8_t rc) { return memchr(set, rc, n) != NULL; }

/* ---------------------------------------------------------------- reading */

typedef struct {
    const uint8_t *p, *end;
} rd_t;

/* varint from p[0..n): bytes used (1..4), 0 = need more, -1 = malformed (5th byte or not minimal) */
static int varint_get(const uint8_t *p, size_t n, uint32_t *v) {
    uint32_t val = 0;
    for (int i = 0; i < 4; i++) {
        if ((size_t)i >= n) return 0;
        uint8_t b = p[i];
        val |= (uint32_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            if (i > 0 && b == 0) return -1; /* MQTT-1.5.5-1: minimum number of bytes */
            *v = val;
            return i + 1;
        }
    }
    return -1;
}

static inline size_t rd_left(const rd_t *r) { return (size_t)(r->end - r->p); }

static inline int rd_u8(rd_t *r, uint8_t *v) {
    if (r->p >= r->end) return -1;
    *v = *r->p++;
    return 0;
}

static inline int rd_u16(rd_t *r, uint16_t *v) {
    if (rd_left(r) < 2) return -1;
    *v = (uint16_t)((r->p[0] << 8) | r->p[1]);
    r->p += 2;
    return 0;
}

static inline int rd_u32(rd_t *r, uint32_t *v) {
    if (rd_left(r) < 4) return -1;
    *v = ((uint32_t)r->p[0] << 24) | ((uint32_t)r->p[1] << 16) | ((uint32_t)r->p[2] << 8) | r->p[3];
    r->p += 4;
    return 0;
}

static inline int rd_varint(rd_t *r, uint32_t *v) {
    int n = varint_get(r->p, rd_left(r), v);
    if (n <= 0) return -1;
    r->p += n;
    return 0;
}

static inline int rd_bin(rd_t *r, mqtt_bytes *b) {
    uint16_t n;
    if (rd_u16(r, &n) || rd_left(r) < n) return -1;
    b->p = r->p;
    b->len = n;
    r->p += n;
    return 0;
}

static inline int rd_str(rd_t *r, mqtt_bytes *b) {
    if (rd_bin(r, b)) return -1;
    return mqtt_utf8_valid(b->p, b->len) ? 0 : -1;
}

/* one property; -1 = malformed (unknown id, truncated, bad UTF-8 when check_utf8) */
static int prop_read(rd_t *r, uint8_t *id, mqtt_prop *v, bool check_utf8) {
    uint8_t i, b8;
    uint16_t b16;
    if (rd_u8(r, &i)) return -1;
    if (i >= 64 || prop_type[i] == PT_NONE) return -1; /* ids >= 0x80 would be multi-byte: unknown */
    *id = i;
    v->num = 0;
    v->str.p = v->str2.p = NULL;
    v->str.len = v->str2.len = 0;
    switch (prop_type[i]) {
    case PT_BYTE:
        if (rd_u8(r, &b8)) return -1;
        v->num = b8;
        return 0;
    case PT_U16:
        if (rd_u16(r, &b16)) return -1;
        v->num = b16;
        return 0;
    case PT_U32: return rd_u32(r, &v->num);
    case PT_VARINT: return rd_varint(r, &v->num);
    case PT_STR: return check_utf8 ? rd_str(r, &v->str) : rd_bin(r, &v->str);
    case PT_BIN: return rd_bin(r, &v->str);
    case PT_PAIR:
        if (check_utf8) return rd_str(r, &v->str) || rd_str(r, &v->str2) ? -1 : 0;
        return rd_bin(r, &v->str) || rd_bin(r, &v->str2) ? -1 : 0;
    }
    return -1;
}

/* Property block (length varint + properties) for a packet kind; fills `out`. Returns 0 or an
 * MQTT_E_* code with *reason set. */
static int props_parse(rd_t *r, mqtt_props *out, uint64_t allowed, uint64_t repeatable, uint8_t *reason) {
    uint32_t plen;
    if (rd_varint(r, &plen) || plen > rd_left(r)) goto malformed;
    out->raw.p = r->p;
    out->raw.len = plen;
    rd_t pr = {r->p, r->p + plen};
    r->p += plen;
    while (pr.p < pr.end) {
        uint8_t id;
        mqtt_prop v;
        if (prop_read(&pr, &id, &v, true)) goto malformed;
        uint64_t bit = 1ull << id;
        if (!(allowed & bit)) goto malformed; /* 2.2.2.2: id not valid for this packet */
        if ((out->has & bit) && !(repeatable & bit)) goto protocol;
        bool first = !(out->has & bit);
        out->has |= bit;
        switch (id) {
        case MQTT_PROP_PAYLOAD_FORMAT:
            if (v.num > 1) goto protocol;
            out->payload_format = (uint8_t)v.num;
            break;
        case MQTT_PROP_MESSAGE_EXPIRY: out->message_expiry = v.num; break;
        case MQTT_PROP_CONTENT_TYPE: out->content_type = v.str; break;
        case MQTT_PROP_RESPONSE_TOPIC:
            if (!mqtt_topic_name_valid(v.str.p, v.str.len)) goto protocol; /* MQTT-3.3.2-14 */
            out->response_topic = v.str;
            break;
        case MQTT_PROP_CORRELATION_DATA: out->correlation_data = v.str; break;
        case MQTT_PROP_SUBSCRIPTION_ID:
            if (v.num == 0) goto protocol;
            if (first) out->sub_id = v.num;
            break;
        case MQTT_PROP_SESSION_EXPIRY: out->session_expiry = v.num; break;
        case MQTT_PROP_ASSIGNED_CLIENT_ID: out->assigned_client_id = v.str; break;
        case MQTT_PROP_SERVER_KEEP_ALIVE: out->server_keep_alive = (uint16_t)v.num; break;
        case MQTT_PROP_AUTH_METHOD: out->auth_method = v.str; break;
        case MQTT_PROP_AUTH_DATA: out->auth_data = v.str; break;
        case MQTT_PROP_REQUEST_PROBLEM_INFO:
            if (v.num > 1) goto protocol;
            out->request_problem_info = (uint8_t)v.num;
            break;
        case MQTT_PROP_WILL_DELAY: out->will_delay = v.num; break;
        case MQTT_PROP_REQUEST_RESPONSE_INFO:
            if (v.num > 1) goto protocol;
            out->request_response_info = (uint8_t)v.num;
            break;
        case MQTT_PROP_REASON_STRING: out->reason_string = v.str; break;
        case MQTT_PROP_RECEIVE_MAX:
            if (v.num == 0) goto protocol;
            out->receive_max = (uint16_t)v.num;
            break;
        case MQTT_PROP_TOPIC_ALIAS_MAX: out->topic_alias_max = (uint16_t)v.num; break;
        case MQTT_PROP_TOPIC_ALIAS:
            if (v.num == 0) { *reason = MQTT_RC_TOPIC_ALIAS_INVALID; return MQTT_E_PROTOCOL; }
            out->topic_alias = (uint16_t)v.num;
            break;
        case MQTT_PROP_MAX_QOS:
            if (v.num > 1) goto protocol;
            out->max_qos = (uint8_t)v.num;
            break;
        case MQTT_PROP_RETAIN_AVAILABLE:
            if (v.num > 1) goto protocol;
            out->retain_available = (uint8_t)v.num;
            break;
        case MQTT_PROP_MAX_PACKET_SIZE:
            if (v.num == 0) goto protocol;
            out->max_packet_size = v.num;
            break;
        case MQTT_PROP_WILDCARD_SUB_AVAILABLE:
        case MQTT_PROP_SUB_ID_AVAILABLE:
        case MQTT_PROP_SHARED_SUB_AVAILABLE:
            if (v.num > 1) goto protocol;
            break;
        default: break; /* user property, response info, server reference: raw only */
        }
    }
    if ((out->has & B(MQTT_PROP_AUTH_DATA)) && !(out->has & B(MQTT_PROP_AUTH_METHOD))) goto protocol;
    return 0;
malformed:
    *reason = MQTT_RC_MALFORMED;
    return MQTT_E_MALFORMED;
protocol:
    *reason = MQTT_RC_PROTOCOL_ERROR;
    return MQTT_E_PROTOCOL;
}

/* ---------------------------------------------------------------- decoding per type */

#define FAIL(code, rc)                                                                             \
    do {                                                                                           \
        pkt->reason = (rc);                                                                        \
        return (code);                                                                             \
    } while (0)
#define MALFORMED() FAIL(MQTT_E_MALFORMED, MQTT_RC_MALFORMED)
#define PROTOCOL() FAIL(MQTT_E_PROTOCOL, MQTT_RC_PROTOCOL_ERROR)
#define PROPS(r, dst, allow, rep)                                                                  \
    do {                                                                                           \
        int e_ = props_parse((r), (dst), (allow), (rep), &pkt->reason);                            \
        if (e_) return e_;                                                                         \
    } while (0)

/* a topic name that failed mqtt_topic_name_valid: bad UTF-8 is malformed, the rest is 0x90 */
static int topic_error(mqtt_packet *pkt, mqtt_bytes t) {
    if (!mqtt_utf8_valid(t.p, t.len)) FAIL(MQTT_E_MALFORMED, MQTT_RC_MALFORMED);
    FAIL(MQTT_E_PROTOCOL, MQTT_RC_TOPIC_NAME_INVALID);
}

static int decode_connect(rd_t *r, mqtt_packet *pkt) {
    uint8_t level, flags;
    if (rd_bin(r, &pkt->proto_name) || rd_u8(r, &level)) MALFORMED();
    /* mosquitto bridges set the top bit on 3.1 / 3.1.1 ("try_private"): a bridge connection */
    pkt->bridge = (level == 0x83 || level == 0x84);
    if (pkt->bridge) level &= 0x7F;
    pkt->proto_level = level;
    const mqtt_bytes *pn = &pkt->proto_name;
    if (pn->len == 4 && memcmp(pn->p, "MQTT", 4) == 0) {
        if (level != 4 && level != 5) FAIL(MQTT_E_VERSION, MQTT_RC_UNSUPPORTED_VERSION);
    } else if (pn->len == 6 && memcmp(pn->p, "MQIsdp", 6) == 0) {
        if (level != 3) FAIL(MQTT_E_VERSION, MQTT_RC_UNSUPPORTED_VERSION);
    } else {
        PROTOCOL(); /* MQTT-3.1.2-1: not MQTT at all */
    }
    if (rd_u8(r, &flags) || rd_u16(r, &pkt->keep_alive)) MALFORMED();
    if (flags & 0x01) MALFORMED(); /* MQTT-3.1.2-3 reserved bit */
    pkt->clean_start = flags & 0x02;
    pkt->will_flag = flags & 0x04;
    pkt->will_qos = (flags >> 3) & 3;
    pkt->will_retain = flags & 0x20;
    pkt->has_password = flags & 0x40;
    pkt->has_username = flags & 0x80;
    if (pkt->will_qos == 3) MALFORMED();
    if (!pkt->will_flag && (pkt->will_qos || pkt->will_retain)) MALFORMED();
    if (level < 5 && pkt->has_password && !pkt->has_username) MALFORMED(); /* MQTT-3.1.2-22 */
    if (level == 5) PROPS(r, &pkt->props, ALLOW_CONNECT, REPEAT_DEFAULT);
    if (rd_str(r, &pkt->client_id)) MALFORMED();
    if (pkt->will_flag) {
        if (level == 5) PROPS(r, &pkt->will_props, ALLOW_WILL, REPEAT_DEFAULT);
        if (rd_bin(r, &pkt->will_topic)) MALFORMED();
        if (!mqtt_topic_name_valid(pkt->will_topic.p, pkt->will_topic.len))
            return topic_error(pkt, pkt->will_topic);
        if (rd_bin(r, &pkt->will_payload)) MALFORMED();
    }
    if (pkt->has_username && rd_str(r, &pkt->username)) MALFORMED();
    if (pkt->has_password && rd_bin(r, &pkt->password)) MALFORMED();
    if (rd_left(r)) MALFORMED();
    return MQTT_OK;
}

static int decode_connack(rd_t *r, uint8_t ver, mqtt_packet *pkt) {
    uint8_t ack, rc;
    if (rd_u8(r, &ack) || rd_u8(r, &rc)) MALFORMED();
    if (ver == 3) ack = 0; /* 3.1: the first byte is unused */
    if (ack & 0xFE) MALFORMED();
    pkt->session_present = ack & 1;
    if (ver == 5) {
        if (!rc_in(RC_SET(rc_connack), rc)) PROTOCOL();
        if (rc && pkt->session_present) PROTOCOL(); /* MQTT-3.2.2-6 */
        PROPS(r, &pkt->props, ALLOW_CONNACK, REPEAT_DEFAULT);
    } else if (rc > MQTT_V3_NOT_AUTHORIZED || (rc && pkt->session_present)) {
        PROTOCOL(); /* MQTT-3.2.2-4: session present only with return code 0 */
    }
    if (rd_left(r)) MALFORMED();
    pkt->reason = rc;
    return MQTT_OK;
}

static int decode_publish(rd_t *r, uint8_t ver, mqtt_packet *pkt) {
    if (rd_bin(r, &pkt->topic)) MALFORMED();
    if (pkt->qos) {
        if (rd_u16(r, &pkt->packet_id)) MALFORMED();
        if (pkt->packet_id == 0) PROTOCOL();
    }
    if (ver == 5) PROPS(r, &pkt->props, ALLOW_PUBLISH, REPEAT_PUBLISH);
    pkt->payload.p = r->p;
    pkt->payload.len = (uint32_t)rd_left(r);
    if (pkt->topic.len == 0) {
        if (ver == 5 && (pkt->props.has & B(MQTT_PROP_TOPIC_ALIAS))) return MQTT_OK;
        PROTOCOL();
    }
    if (!mqtt_topic_name_valid(pkt->topic.p, pkt->topic.len)) return topic_error(pkt, pkt->topic);
    return MQTT_OK;
}

static int decode_ack(rd_t *r, uint8_t ver, mqtt_packet *pkt) {
    if (rd_u16(r, &pkt->packet_id)) MALFORMED();
    if (pkt->packet_id == 0) PROTOCOL();
    if (ver == 5 && rd_left(r)) {
        uint8_t rc = 0;
        rd_u8(r, &rc);
        bool rel = pkt->type == MQTT_PUBREL || pkt->type == MQTT_PUBCOMP;
        if (rel ? !rc_in(RC_SET(rc_pubrel), rc) : !rc_in(RC_SET(rc_puback), rc)) PROTOCOL();
        if (rd_left(r)) PROPS(r, &pkt->props, ALLOW_ACK, REPEAT_DEFAULT);
        pkt->reason = rc;
    }
    if (rd_left(r)) MALFORMED();
    return MQTT_OK;
}

static int decode_subscribe(rd_t *r, uint8_t ver, mqtt_packet *pkt) {
    if (rd_u16(r, &pkt->packet_id)) MALFORMED();
    if (pkt->packet_id == 0) PROTOCOL();
    if (ver == 5) PROPS(r, &pkt->props, ALLOW_SUBSCRIBE, REPEAT_DEFAULT);
    pkt->entries.p = r->p;
    pkt->entries.len = (uint32_t)rd_left(r);
    if (!rd_left(r)) PROTOCOL(); /* MQTT-3.8.3-2 / -3: at least one entry */
    uint8_t reserved = ver == 5 ? 0xC0 : 0xFC;
    while (rd_left(r)) {
        mqtt_bytes f;
        uint8_t o;
        if (rd_str(r, &f) || rd_u8(r, &o)) MALFORMED();
        if ((o & reserved) || (o & 3) == 3) MALFORMED();
        if (ver == 5 && ((o >> 4) & 3) == 3) MALFORMED(); /* retain handling 3 */
        if (ver == 5 && (o & 0x04) && mqtt_share_parse(f.p, f.len, NULL, NULL) == 1)
            PROTOCOL(); /* MQTT-3.8.3-4: No Local on a shared subscription */
    }
    return MQTT_OK;
}

static int decode_unsubscribe(rd_t *r, uint8_t ver, mqtt_packet *pkt) {
    if (rd_u16(r, &pkt->packet_id)) MALFORMED();
    if (pkt->packet_id == 0) PROTOCOL();
    if (ver == 5) PROPS(r, &pkt->props, ALLOW_UNSUBSCRIBE, REPEAT_DEFAULT);
    pkt->entries.p = r->p;
    pkt->entries.len = (uint32_t)rd_left(r);
    if (!rd_left(r)) PROTOCOL();
    while (rd_left(r)) {
        mqtt_bytes f;
        if (rd_str(r, &f)) MALFORMED();
    }
    return MQTT_OK;
}

static int decode_suback(rd_t *r, uint8_t ver, mqtt_packet *pkt) {
    if (rd_u16(r, &pkt->packet_id)) MALFORMED();
    if (pkt->packet_id == 0) PROTOCOL();
    bool unsub = pkt->type == MQTT_UNSUBACK;
    if (ver == 5) PROPS(r, &pkt->props, ALLOW_ACK, REPEAT_DEFAULT);
    pkt->entries.p = r->p;
    pkt->entries.len = (uint32_t)rd_left(r);
    if (unsub && ver != 5) {
        if (rd_left(r)) MALFORMED();
        return MQTT_OK;
    }
    if (!rd_left(r)) PROTOCOL();
    for (uint32_t i = 0; i < pkt->entries.len; i++) {
        uint8_t c = pkt->entries.p[i];
        bool ok = ver == 5 ? (unsub ? rc_in(RC_SET(rc_unsuback), c) : rc_in(RC_SET(rc_suback), c))
                           : (c <= 2 || c == 0x80);
        if (!ok) PROTOCOL();
    }
    return MQTT_OK;
}

static int decode_disconnect_auth(rd_t *r, uint8_t ver, mqtt_packet *pkt) {
    if (ver != 5) {
        if (rd_left(r)) MALFORMED();
        return MQTT_OK;
    }
    uint8_t rc = 0;
    if (rd_left(r)) {
        rd_u8(r, &rc);
        bool auth = pkt->type == MQTT_AUTH;
        if (auth ? !rc_in(RC_SET(rc_auth), rc) : !rc_in(RC_SET(rc_disconnect), rc)) PROTOCOL();
        if (rd_left(r))
            PROPS(r, &pkt->props, auth ? ALLOW_AUTH : ALLOW_DISCONNECT, REPEAT_DEFAULT);
        if (rd_left(r)) MALFORMED();
    }
    pkt->reason = rc;
    return MQTT_OK;
}

int mqtt_decode(const uint8_t *in, size_t len, uint8_t ver, uint32_t max_size, mqtt_packet *pkt,
                size_t *used) {
    memset(pkt, 0, sizeof *pkt);
    if (used) *used = 0;
    if (len == 0) return MQTT_NEED_MORE;
    if (ver != 0 && ver != 3 && ver != 4 && ver != 5) FAIL(MQTT_E_VERSION, MQTT_RC_UNSUPPORTED_VERSION);
    uint8_t type = in[0] >> 4, flags = in[0] & 0x0F;
    pkt->type = type;
    pkt->flags = flags;
    /* fixed header: type and flag bits (2.1.3: invalid flags are a malformed packet) */
    switch (type) {
    case MQTT_PUBLISH:
        pkt->dup = flags & 8;
        pkt->qos = (flags >> 1) & 3;
        pkt->retain = flags & 1;
        if (pkt->qos == 3) MALFORMED();
        if (pkt->dup && pkt->qos == 0) MALFORMED(); /* MQTT-3.3.1-2 */
        break;
    case MQTT_PUBREL:
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE:
        if (flags != 2) MALFORMED();
        break;
    case MQTT_AUTH:
        if (ver != 5 && ver != 0) MALFORMED(); /* reserved type before v5 */
        if (flags) MALFORMED();
        break;
    case 0: MALFORMED();
    default:
        if (flags) MALFORMED();
        break;
    }
    if (ver == 0 && type != MQTT_CONNECT) PROTOCOL(); /* MQTT-3.1.0-1: CONNECT comes first */

    uint32_t rl;
    int n = varint_get(in + 1, len - 1, &rl);
    if (n == 0) return MQTT_NEED_MORE;
    if (n < 0) MALFORMED();
    uint64_t total = 1u + (uint64_t)n + rl;
    pkt->size = (uint32_t)total;
    if (max_size && total > max_size) FAIL(MQTT_E_TOO_LARGE, MQTT_RC_PACKET_TOO_LARGE);
    if (len < total) return MQTT_NEED_MORE;

    rd_t r = {in + 1 + n, in + total};
    int rc;
    switch (type) {
    case MQTT_CONNECT: rc = decode_connect(&r, pkt); break;
    case MQTT_CONNACK: rc = decode_connack(&r, ver, pkt); break;
    case MQTT_PUBLISH: rc = decode_publish(&r, ver, pkt); break;
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP: rc = decode_ack(&r, ver, pkt); break;
    case MQTT_SUBSCRIBE: rc = decode_subscribe(&r, ver, pkt); break;
    case MQTT_UNSUBSCRIBE: rc = decode_unsubscribe(&r, ver, pkt); break;
    case MQTT_SUBACK:
    case MQTT_UNSUBACK: rc = decode_suback(&r, ver, pkt); break;
    case MQTT_PINGREQ:
    case MQTT_PINGRESP: rc = rl ? (pkt->reason = MQTT_RC_MALFORMED, MQTT_E_MALFORMED) : MQTT_OK; break;
    default: rc = decode_disconnect_auth(&r, ver, pkt); break; /* DISCONNECT, AUTH */
    }
    if (rc == MQTT_OK && used) *used = (size_t)total;
    return rc;
}

/* ---------------------------------------------------------------- iterators */

int mqtt_sub_next(mqtt_bytes *it, uint8_t ver, mqtt_bytes *filter, uint8_t *opts) {
    rd_t r = {it->p, it->p + it->len};
    uint8_t o;
    if (!it->len || rd_bin(&r, filter) || rd_u8(&r, &o)) return 0;
    if (opts) *opts = ver == 5 ? o : (uint8_t)(o & 3);
    it->len -= (uint32_t)(r.p - it->p);
    it->p = r.p;
    return 1;
}

int mqtt_unsub_next(mqtt_bytes *it, mqtt_bytes *filter) {
    rd_t r = {it->p, it->p + it->len};
    if (!it->len || rd_bin(&r, filter)) return 0;
    it->len -= (uint32_t)(r.p - it->p);
    it->p = r.p;
    return 1;
}

int mqtt_props_next(mqtt_bytes *it, uint8_t *id, mqtt_prop *prop) {
    memset(prop, 0, sizeof *prop);
    if (!it->len) return 0;
    rd_t r = {it->p, it->p + it->len};
    if (prop_read(&r, id, prop, false)) return -1;
    it->len -= (uint32_t)(r.p - it->p);
    it->p = r.p;
    return 1;
}

int mqtt_props_forwardable(mqtt_bytes raw, buf_t *out) {
    const uint64_t fwd = B(MQTT_PROP_PAYLOAD_FORMAT) | B(MQTT_PROP_CONTENT_TYPE) |
                         B(MQTT_PROP_RESPONSE_TOPIC) | B(MQTT_PROP_CORRELATION_DATA) |
                         B(MQTT_PROP_USER_PROPERTY);
    mqtt_bytes it = raw;
    for (;;) {
        const uint8_t *start = it.p;
        uint8_t id;
        mqtt_prop v;
        int k = mqtt_props_next(&it, &id, &v);
        if (k == 0) return 0;
        if (k < 0) return -1;
        if ((fwd >> id) & 1 && buf_append(out, start, (size_t)(it.p - start))) return -1;
    }
}

/* ---------------------------------------------------------------- encoding helpers */

int mqtt_varint_size(uint32_t v) { return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4; }

static inline uint8_t *w_varint(uint8_t *w, uint32_t v) {
    do {
        uint8_t b = v & 0x7F;
        v >>= 7;
        *w++ = v ? (uint8_t)(b | 0x80) : b;
    } while (v);
    return w;
}

static inline uint8_t *w_u16(uint8_t *w, uint16_t v) {
    w[0] = (uint8_t)(v >> 8);
    w[1] = (uint8_t)v;
    return w + 2;
}

static inline uint8_t *w_bytes(uint8_t *w, const void *p, size_t n) {
    if (n) memcpy(w, p, n);
    return w + n;
}

static inline uint8_t *w_bin(uint8_t *w, const void *p, size_t n) {
    return w_bytes(w_u16(w, (uint16_t)n), p, n);
}

int mqtt_varint_put(buf_t *out, uint32_t v) {
    if (v > MQTT_VARINT_MAX || buf_reserve(out, 4)) return -1;
    out->len = (size_t)(w_varint(out->data + out->len, v) - out->data);
    return 0;
}

/* Reserve room for a packet of remaining length `rl` and write its fixed header. NULL = too big
 * or out of memory. The caller writes exactly rl bytes and then calls pkt_end. */
static uint8_t *pkt_begin(buf_t *out, uint8_t first, size_t rl) {
    if (rl > MQTT_VARINT_MAX || buf_reserve(out, 1 + 4 + rl)) return NULL;
    uint8_t *w = out->data + out->len;
    *w++ = first;
    return w_varint(w, (uint32_t)rl);
}

static inline int pkt_end(buf_t *out, uint8_t *w) {
    out->len = (size_t)(w - out->data);
    return 0;
}

static inline size_t props_size(uint8_t ver, size_t props_len) {
    return ver == 5 ? (size_t)mqtt_varint_size((uint32_t)props_len) + props_len : 0;
}

static inline uint8_t *w_props(uint8_t *w, const uint8_t *props, size_t props_len) {
    return w_bytes(w_varint(w, (uint32_t)props_len), props, props_len);
}

/* ---------------------------------------------------------------- properties */

static int prop_put(buf_t *out, uint8_t id, const uint8_t *v, size_t n) {
    if (buf_reserve(out, 1 + n)) return -1;
    out->data[out->len++] = id;
    memcpy(out->data + out->len, v, n);
    out->len += n;
    return 0;
}

int mqtt_prop_put_u8(buf_t *out, uint8_t id, uint8_t v) { return prop_put(out, id, &v, 1); }

int mqtt_prop_put_u16(buf_t *out, uint8_t id, uint16_t v) {
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    return prop_put(out, id, x, 2);
}

int mqtt_prop_put_u32(buf_t *out, uint8_t id, uint32_t v) {
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return prop_put(out, id, x, 4);
}

int mqtt_prop_put_varint(buf_t *out, uint8_t id, uint32_t v) {
    if (v > MQTT_VARINT_MAX) return -1;
    uint8_t x[4];
    return prop_put(out, id, x, (size_t)(w_varint(x, v) - x));
}

int mqtt_prop_put_str(buf_t *out, uint8_t id, const void *s, size_t len) {
    if (len > 65535 || buf_reserve(out, 3 + len)) return -1;
    uint8_t *w = out->data + out->len;
    *w++ = id;
    return pkt_end(out, w_bin(w, s, len));
}

int mqtt_prop_put_pair(buf_t *out, uint8_t id, const void *k, size_t klen, const void *v, size_t vlen) {
    if (klen > 65535 || vlen > 65535 || buf_reserve(out, 5 + klen + vlen)) return -1;
    uint8_t *w = out->data + out->len;
    *w++ = id;
    return pkt_end(out, w_bin(w_bin(w, k, klen), v, vlen));
}

/* ---------------------------------------------------------------- packets */

static size_t opt_len(const char *s) { return s ? strlen(s) : 0; }

int mqtt_encode_connect(buf_t *out, const mqtt_connect_opts *o) {
    uint8_t lvl = o->proto_level;
    if (lvl != 3 && lvl != 4 && lvl != 5) return -1;
    const char *name = lvl == 3 ? "MQIsdp" : "MQTT";
    size_t nlen = strlen(name), cid = opt_len(o->client_id);
    size_t plen = o->props ? o->props_len : 0, wplen = o->will_props ? o->will_props_len : 0;
    size_t wt = opt_len(o->will_topic), wp = o->will_topic ? o->will_payload_len : 0;
    size_t un = opt_len(o->username), pw = opt_len(o->password);
    if (cid > 65535 || wt > 65535 || wp > 65535 || un > 65535 || pw > 65535 || o->will_qos > 2)
        return -1;
    size_t rl = 2 + nlen + 1 + 1 + 2 + props_size(lvl, plen) + 2 + cid;
    if (o->will_topic) rl += props_size(lvl, wplen) + 2 + wt + 2 + wp;
    if (o->username) rl += 2 + un;
    if (o->password) rl += 2 + pw;
    uint8_t flags = o->clean_start ? 0x02 : 0;
    if (o->will_topic) {
        flags |= 0x04 | (uint8_t)(o->will_qos << 3);
        if (o->will_retain) flags |= 0x20;
    }
    if (o->password) flags |= 0x40;
    if (o->username) flags |= 0x80;
    uint8_t *w = pkt_begin(out, MQTT_CONNECT << 4, rl);
    if (!w) return -1;
    w = w_bin(w, name, nlen);
    *w++ = lvl;
    *w++ = flags;
    w = w_u16(w, o->keep_alive);
    if (lvl == 5) w = w_props(w, o->props, plen);
    w = w_bin(w, o->client_id, cid);
    if (o->will_topic) {
        if (lvl == 5) w = w_props(w, o->will_props, wplen);
        w = w_bin(w, o->will_topic, wt);
        w = w_bin(w, o->will_payload, wp);
    }
    if (o->username) w = w_bin(w, o->username, un);
    if (o->password) w = w_bin(w, o->password, pw);
    return pkt_end(out, w);
}

/* a v5 CONNACK reason for a 3.1/3.1.1 client */
static uint8_t connack_v3_code(uint8_t rc) {
    if (rc <= MQTT_V3_NOT_AUTHORIZED) return rc;
    switch (rc) {
    case MQTT_RC_UNSUPPORTED_VERSION: return MQTT_V3_BAD_VERSION;
    case MQTT_RC_CLIENT_ID_NOT_VALID: return MQTT_V3_ID_REJECTED;
    case MQTT_RC_BAD_USERNAME_PASSWORD: return MQTT_V3_BAD_USER_PASS;
    case MQTT_RC_NOT_AUTHORIZED:
    case MQTT_RC_BANNED: return MQTT_V3_NOT_AUTHORIZED;
    default: return MQTT_V3_UNAVAILABLE;
    }
}

int mqtt_encode_connack(buf_t *out, uint8_t ver, bool session_present, uint8_t rc,
                        const uint8_t *props, size_t props_len) {
    if (!props) props_len = 0;
    uint8_t *w = pkt_begin(out, MQTT_CONNACK << 4, 2 + props_size(ver, props_len));
    if (!w) return -1;
    *w++ = (ver >= 4 && session_present && rc == 0) ? 1 : 0; /* MQTT-3.2.2-4 / -6 */
    *w++ = ver == 5 ? rc : connack_v3_code(rc);
    if (ver == 5) w = w_props(w, props, props_len);
    return pkt_end(out, w);
}

size_t mqtt_publish_size(uint8_t ver, uint8_t qos, size_t topic_len, size_t props_len, size_t payload_len) {
    size_t rl = 2 + topic_len + (qos ? 2 : 0) + props_size(ver, props_len) + payload_len;
    return 1 + (size_t)mqtt_varint_size((uint32_t)(rl > MQTT_VARINT_MAX ? MQTT_VARINT_MAX : rl)) + rl;
}

int mqtt_encode_publish(buf_t *out, uint8_t ver, uint8_t qos, bool retain, bool dup, uint16_t packet_id,
                        const void *topic, size_t topic_len, const uint8_t *props, size_t props_len,
                        const void *payload, size_t payload_len) {
    if (qos > 2 || topic_len > 65535) return -1;
    if (!props) props_len = 0;
    size_t rl = 2 + topic_len + (qos ? 2 : 0) + props_size(ver, props_len) + payload_len;
    uint8_t first = (uint8_t)(MQTT_PUBLISH << 4 | (dup && qos ? 8 : 0) | qos << 1 | (retain ? 1 : 0));
    uint8_t *w = pkt_begin(out, first, rl);
    if (!w) return -1;
    w = w_bin(w, topic, topic_len);
    if (qos) w = w_u16(w, packet_id);
    if (ver == 5) w = w_props(w, props, props_len);
    w = w_bytes(w, payload, payload_len);
    return pkt_end(out, w);
}

int mqtt_encode_ack(buf_t *out, uint8_t type, uint8_t ver, uint16_t packet_id, uint8_t rc,
                    const uint8_t *props, size_t props_len) {
    if (type < MQTT_PUBACK || type > MQTT_PUBCOMP) return -1;
    if (!props) props_len = 0;
    size_t rl = 2;
    if (ver == 5 && (rc || props_len)) rl = props_len ? 3 + props_size(5, props_len) : 3;
    uint8_t *w = pkt_begin(out, (uint8_t)(type << 4 | (type == MQTT_PUBREL ? 2 : 0)), rl);
    if (!w) return -1;
    w = w_u16(w, packet_id);
    if (rl > 2) *w++ = rc;
    if (rl > 3) w = w_props(w, props, props_len);
    return pkt_end(out, w);
}

int mqtt_encode_subscribe(buf_t *out, uint8_t ver, uint16_t packet_id, const char *const *filters,
                          const uint8_t *opts, size_t n, const uint8_t *props, size_t props_len) {
    if (!props) props_len = 0;
    size_t rl = 2 + props_size(ver, props_len);
    for (size_t i = 0; i < n; i++) {
        size_t fl = strlen(filters[i]);
        if (fl > 65535) return -1;
        rl += 3 + fl;
    }
    uint8_t *w = pkt_begin(out, MQTT_SUBSCRIBE << 4 | 2, rl);
    if (!w) return -1;
    w = w_u16(w, packet_id);
    if (ver == 5) w = w_props(w, props, props_len);
    for (size_t i = 0; i < n; i++) {
        w = w_bin(w, filters[i], strlen(filters[i]));
        uint8_t o = opts ? opts[i] : 0;
        *w++ = ver == 5 ? o : (uint8_t)(o & 3);
    }
    return pkt_end(out, w);
}

int mqtt_encode_unsubscribe(buf_t *out, uint8_t ver, uint16_t packet_id, const char *const *filters,
                            size_t n, const uint8_t *props, size_t props_len) {
    if (!props) props_len = 0;
    size_t rl = 2 + props_size(ver, props_len);
    for (size_t i = 0; i < n; i++) {
        size_t fl = strlen(filters[i]);
        if (fl > 65535) return -1;
        rl += 2 + fl;
    }
    uint8_t *w = pkt_begin(out, MQTT_UNSUBSCRIBE << 4 | 2, rl);
    if (!w) return -1;
    w = w_u16(w, packet_id);
    if (ver == 5) w = w_props(w, props, props_len);
    for (size_t i = 0; i < n; i++) w = w_bin(w, filters[i], strlen(filters[i]));
    return pkt_end(out, w);
}

int mqtt_encode_suback(buf_t *out, uint8_t type, uint8_t ver, uint16_t packet_id, const uint8_t *codes,
                       size_t n, const uint8_t *props, size_t props_len) {
    if (type != MQTT_SUBACK && type != MQTT_UNSUBACK) return -1;
    if (!props) props_len = 0;
    if (type == MQTT_UNSUBACK && ver != 5) n = 0;
    size_t rl = 2 + props_size(ver, props_len) + n;
    uint8_t *w = pkt_begin(out, (uint8_t)(type << 4), rl);
    if (!w) return -1;
    w = w_u16(w, packet_id);
    if (ver == 5) w = w_props(w, props, props_len);
    for (size_t i = 0; i < n; i++) *w++ = ver == 5 || codes[i] < 0x80 ? codes[i] : 0x80;
    return pkt_end(out, w);
}

int mqtt_encode_ping(buf_t *out, uint8_t type) {
    if (type != MQTT_PINGREQ && type != MQTT_PINGRESP) return -1;
    uint8_t *w = pkt_begin(out, (uint8_t)(type << 4), 0);
    return w ? pkt_end(out, w) : -1;
}

/* DISCONNECT and AUTH share a body: reason code then properties, both omitted when empty */
static int encode_rc_props(buf_t *out, uint8_t type, uint8_t ver, uint8_t rc, const uint8_t *props,
                           size_t props_len) {
    if (!props) props_len = 0;
    size_t rl = 0;
    if (ver == 5 && (rc || props_len))
        rl = (props_len || type == MQTT_AUTH) ? 1 + props_size(5, props_len) : 1;
    uint8_t *w = pkt_begin(out, (uint8_t)(type << 4), rl);
    if (!w) return -1;
    if (rl) *w++ = rc;
    if (rl > 1) w = w_props(w, props, props_len);
    return pkt_end(out, w);
}

int mqtt_encode_disconnect(buf_t *out, uint8_t ver, uint8_t rc, const uint8_t *props, size_t props_len) {
    return encode_rc_props(out, MQTT_DISCONNECT, ver, rc, props, props_len);
}

int mqtt_encode_auth(buf_t *out, uint8_t rc, const uint8_t *props, size_t props_len) {
    return encode_rc_props(out, MQTT_AUTH, 5, rc, props, props_len);
}

const char *mqtt_type_name(uint8_t type) {
    static const char *const names[] = {"?",         "CONNECT",    "CONNACK",  "PUBLISH",
                                        "PUBACK",    "PUBREC",     "PUBREL",   "PUBCOMP",
                                        "SUBSCRIBE", "SUBACK",     "UNSUBSCRIBE", "UNSUBACK",
                                        "PINGREQ",   "PINGRESP",   "DISCONNECT", "AUTH"};
    return type < 16 ? names[type] : "?";
}
