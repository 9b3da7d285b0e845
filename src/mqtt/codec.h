/* mqtt/codec: MQTT 3.1, 3.1.1 and 5.0 packet decoder and encoder. Pure: no I/O, no allocation
 * while decoding (decoded fields are views into the caller's input bytes).
 *
 * Decoding
 *   mqtt_decode(in, len, ver, max, pkt, used)  one packet from the front of `in`:
 *        MQTT_OK and *used = its size; MQTT_NEED_MORE when `in` holds only part of it;
 *        a negative MQTT_E_* with pkt->reason = the v5 reason code to send (0x81 malformed,
 *        0x82 protocol error, 0x95 packet too large, 0x84 unsupported protocol version).
 *        `ver` is the connection's protocol level (3, 4 or 5); 0 before CONNECT, when only a
 *        CONNECT is accepted (its own level then drives parsing). `max` = 0: no size limit.
 *        Every length, UTF-8 string (no U+0000, no surrogates), property id and repetition, QoS,
 *        flag bit and packet id is checked, so an MQTT_OK packet is well-formed.
 *   mqtt_sub_next(&it, ver, &filter, &opts)     iterate a SUBSCRIBE's (filter, options) entries;
 *   mqtt_unsub_next(&it, &filter)               ... or an UNSUBSCRIBE's filters; 1 = got one, 0 = end.
 *   mqtt_props_next(&it, &id, &prop)            iterate a raw property block (any packet);
 *        1 = got one, 0 = end, -1 = malformed (never for a block from an MQTT_OK packet).
 *   mqtt_props_forwardable(raw, out)           append the properties a broker forwards unchanged
 *        with a PUBLISH or will (payload format, content type, response topic, correlation data,
 *        user properties), in their original order, as raw property bytes (no length prefix).
 *
 * Encoding (append one complete packet to `out`; return 0, or -1 on out of memory)
 *   mqtt_encode_connect / connack / publish / ack (PUBACK/PUBREC/PUBREL/PUBCOMP) / subscribe /
 *   suback (SUBACK/UNSUBACK) / unsubscribe / ping (PINGREQ/PINGRESP) / disconnect / auth.
 *   Properties given as a raw block (`props`, `props_len`, already encoded with mqtt_prop_put_*)
 *   are written for v5 only; for v3/v4 properties and reason codes beyond the 3.1.1 ones are dropped.
 *   mqtt_prop_put_u8/u16/u32/varint/str/bin/pair(out, id, ...)  append one encoded property.
 *   mqtt_varint_put(out, v), mqtt_varint_size(v)                  variable byte integers.
 *   mqtt_publish_size(...)                                         exact encoded size of a PUBLISH.
 */
#ifndef TE_MQTT_CODEC_H
#define TE_MQTT_CODEC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/buf.h"

enum mqtt_type {
    MQTT_CONNECT = 1, MQTT_CONNACK, MQTT_PUBLISH, MQTT_PUBACK, MQTT_PUBREC, MQTT_PUBREL,
    MQTT_PUBCOMP, MQTT_SUBSCRIBE, MQTT_SUBACK, MQTT_UNSUBSCRIBE, MQTT_UNSUBACK, MQTT_PINGREQ,
    MQTT_PINGRESP, MQTT_DISCONNECT, MQTT_AUTH
};

/* decode results */
enum { MQTT_OK = 0, MQTT_NEED_MORE = 1, MQTT_E_MALFORMED = -1, MQTT_E_PROTOCOL = -2,
       MQTT_E_TOO_LARGE = -3, MQTT_E_VERSION = -4 };

/* v5 property identifiers */
enum mqtt_prop_id {
    MQTT_PROP_PAYLOAD_FORMAT = 0x01, MQTT_PROP_MESSAGE_EXPIRY = 0x02, MQTT_PROP_CONTENT_TYPE = 0x03,
    MQTT_PROP_RESPONSE_TOPIC = 0x08, MQTT_PROP_CORRELATION_DATA = 0x09, MQTT_PROP_SUBSCRIPTION_ID = 0x0B,
    MQTT_PROP_SESSION_EXPIRY = 0x11, MQTT_PROP_ASSIGNED_CLIENT_ID = 0x12, MQTT_PROP_SERVER_KEEP_ALIVE = 0x13,
    MQTT_PROP_AUTH_METHOD = 0x15, MQTT_PROP_AUTH_DATA = 0x16, MQTT_PROP_REQUEST_PROBLEM_INFO = 0x17,
    MQTT_PROP_WILL_DELAY = 0x18, MQTT_PROP_REQUEST_RESPONSE_INFO = 0x19, MQTT_PROP_RESPONSE_INFO = 0x1A,
    MQTT_PROP_SERVER_REFERENCE = 0x1C, MQTT_PROP_REASON_STRING = 0x1F, MQTT_PROP_RECEIVE_MAX = 0x21,
    MQTT_PROP_TOPIC_ALIAS_MAX = 0x22, MQTT_PROP_TOPIC_ALIAS = 0x23, MQTT_PROP_MAX_QOS = 0x24,
    MQTT_PROP_RETAIN_AVAILABLE = 0x25, MQTT_PROP_USER_PROPERTY = 0x26, MQTT_PROP_MAX_PACKET_SIZE = 0x27,
    MQTT_PROP_WILDCARD_SUB_AVAILABLE = 0x28, MQTT_PROP_SUB_ID_AVAILABLE = 0x29,
    MQTT_PROP_SHARED_SUB_AVAILABLE = 0x2A
};

/* v5 reason codes used by the broker */
enum mqtt_rc {
    MQTT_RC_SUCCESS = 0x00, MQTT_RC_GRANTED_QOS1 = 0x01, MQTT_RC_GRANTED_QOS2 = 0x02,
    MQTT_RC_DISCONNECT_WITH_WILL = 0x04, MQTT_RC_NO_MATCHING_SUBSCRIBERS = 0x10,
    MQTT_RC_NO_SUBSCRIPTION_EXISTED = 0x11, MQTT_RC_UNSPECIFIED = 0x80, MQTT_RC_MALFORMED = 0x81,
    MQTT_RC_PROTOCOL_ERROR = 0x82, MQTT_RC_IMPL_SPECIFIC = 0x83, MQTT_RC_UNSUPPORTED_VERSION = 0x84,
    MQTT_RC_CLIENT_ID_NOT_VALID = 0x85, MQTT_RC_BAD_USERNAME_PASSWORD = 0x86,
    MQTT_RC_NOT_AUTHORIZED = 0x87, MQTT_RC_SERVER_UNAVAILABLE = 0x88, MQTT_RC_SERVER_BUSY = 0x89,
    MQTT_RC_BANNED = 0x8A, MQTT_RC_SERVER_SHUTTING_DOWN = 0x8B, MQTT_RC_BAD_AUTH_METHOD = 0x8C,
    MQTT_RC_KEEP_ALIVE_TIMEOUT = 0x8D, MQTT_RC_SESSION_TAKEN_OVER = 0x8E,
    MQTT_RC_TOPIC_FILTER_INVALID = 0x8F, MQTT_RC_TOPIC_NAME_INVALID = 0x90,
    MQTT_RC_PACKET_ID_IN_USE = 0x91, MQTT_RC_PACKET_ID_NOT_FOUND = 0x92,
    MQTT_RC_RECEIVE_MAX_EXCEEDED = 0x93, MQTT_RC_TOPIC_ALIAS_INVALID = 0x94,
    MQTT_RC_PACKET_TOO_LARGE = 0x95, MQTT_RC_MESSAGE_RATE_TOO_HIGH = 0x96,
    MQTT_RC_QUOTA_EXCEEDED = 0x97, MQTT_RC_ADMIN_ACTION = 0x98, MQTT_RC_PAYLOAD_FORMAT_INVALID = 0x99,
    MQTT_RC_RETAIN_NOT_SUPPORTED = 0x9A, MQTT_RC_QOS_NOT_SUPPORTED = 0x9B,
    MQTT_RC_USE_ANOTHER_SERVER = 0x9C, MQTT_RC_SERVER_MOVED = 0x9D,
    MQTT_RC_SHARED_SUB_NOT_SUPPORTED = 0x9E, MQTT_RC_CONNECTION_RATE_EXCEEDED = 0x9F,
    MQTT_RC_MAX_CONNECT_TIME = 0xA0, MQTT_RC_SUB_ID_NOT_SUPPORTED = 0xA1,
    MQTT_RC_WILDCARD_SUB_NOT_SUPPORTED = 0xA2
};

/* 3.1.1 CONNACK return codes */
enum { MQTT_V3_ACCEPTED = 0, MQTT_V3_BAD_VERSION = 1, MQTT_V3_ID_REJECTED = 2,
       MQTT_V3_UNAVAILABLE = 3, MQTT_V3_BAD_USER_PASS = 4, MQTT_V3_NOT_AUTHORIZED = 5 };

typedef struct mqtt_bytes {
    const uint8_t *p;
    uint32_t len;
} mqtt_bytes;

/* The properties a broker acts on, decoded; `raw` is the whole block for pass-through and
 * iteration. `has` is a bitmask: bit (1ull << id) set when property `id` was present. */
typedef struct mqtt_props {
    uint64_t has;
    mqtt_bytes raw;
    uint8_t payload_format, request_problem_info, request_response_info, max_qos, retain_available;
    uint32_t message_expiry, session_expiry, will_delay, max_packet_size, sub_id;
    uint16_t receive_max, topic_alias_max, topic_alias, server_keep_alive;
    mqtt_bytes content_type, response_topic, correlation_data, auth_method, auth_data,
        reason_string, assigned_client_id;
} mqtt_props;
#define MQTT_HAS(props, id) (((props).has >> (id)) & 1u)

typedef struct mqtt_packet {
    uint8_t type;        /* enum mqtt_type */
    uint8_t flags;       /* low 4 bits of the fixed header */
    uint8_t reason;      /* decode error: reason code to answer with; acks: their reason code */
    uint32_t size;       /* whole packet size in bytes */
    mqtt_props props;
    /* CONNECT */
    uint8_t proto_level; /* 3, 4 or 5 */
    bool bridge;         /* level had mosquitto's bridge bit (0x83/0x84): proto_level is without it */
    bool clean_start, will_flag, will_retain, has_username, has_password;
    uint8_t will_qos;
    uint16_t keep_alive;
    mqtt_bytes proto_name, client_id, will_topic, will_payload, username, password;
    mqtt_props will_props;
    /* CONNACK */
    bool session_present;
    /* PUBLISH (and packet id of acks, SUBSCRIBE, UNSUBSCRIBE, SUBACK, UNSUBACK) */
    uint8_t qos;
    bool dup, retain;
    uint16_t packet_id;
    mqtt_bytes topic, payload;
    /* SUBSCRIBE / UNSUBSCRIBE: entries to iterate; SUBACK / UNSUBACK: reason codes */
    mqtt_bytes entries;
} mqtt_packet;

int mqtt_decode(const uint8_t *in, size_t len, uint8_t ver, uint32_t max_size, mqtt_packet *pkt,
                size_t *used);
int mqtt_sub_next(mqtt_bytes *it, uint8_t ver, mqtt_bytes *filter, uint8_t *opts);
int mqtt_unsub_next(mqtt_bytes *it, mqtt_bytes *filter);

/* one property, as iterated from a raw block */
typedef struct mqtt_prop {
    uint32_t num;        /* byte, two-byte, four-byte and varint values */
    mqtt_bytes str, str2; /* string / binary value; user property: str = key, str2 = value */
} mqtt_prop;
int mqtt_props_next(mqtt_bytes *it, uint8_t *id, mqtt_prop *prop);
int mqtt_props_forwardable(mqtt_bytes raw, buf_t *out);

int mqtt_varint_put(buf_t *out, uint32_t v);
int mqtt_varint_size(uint32_t v);

int mqtt_prop_put_u8(buf_t *out, uint8_t id, uint8_t v);
int mqtt_prop_put_u16(buf_t *out, uint8_t id, uint16_t v);
int mqtt_prop_put_u32(buf_t *out, uint8_t id, uint32_t v);
int mqtt_prop_put_varint(buf_t *out, uint8_t id, uint32_t v);
int mqtt_prop_put_str(buf_t *out, uint8_t id, const void *s, size_t len); /* also binary data */
int mqtt_prop_put_pair(buf_t *out, uint8_t id, const void *k, size_t klen, const void *v, size_t vlen);

/* Client side CONNECT (bridges, load generator, tests). */
typedef struct mqtt_connect_opts {
    uint8_t proto_level; /* 3, 4 or 5 */
    bool clean_start;
    uint16_t keep_alive;
    const char *client_id, *username, *password; /* NULL = absent */
    const char *will_topic;                      /* NULL = no will */
    const void *will_payload;
    size_t will_payload_len;
    uint8_t will_qos;
    bool will_retain;
    const uint8_t *props, *will_props;           /* raw v5 property blocks, may be NULL */
    size_t props_len, will_props_len;
} mqtt_connect_opts;

int mqtt_encode_connect(buf_t *out, const mqtt_connect_opts *o);
int mqtt_encode_connack(buf_t *out, uint8_t ver, bool session_present, uint8_t rc,
                        const uint8_t *props, size_t props_len);
/* PUBLISH: `props` (v5 only) is the complete property block minus its length prefix. */
int mqtt_encode_publish(buf_t *out, uint8_t ver, uint8_t qos, bool retain, bool dup, uint16_t packet_id,
                        const void *topic, size_t topic_len, const uint8_t *props, size_t props_len,
                        const void *payload, size_t payload_len);
size_t mqtt_publish_size(uint8_t ver, uint8_t qos, size_t topic_len, size_t props_len, size_t payload_len);
/* type = MQTT_PUBACK/PUBREC/PUBREL/PUBCOMP. v5: reason code and properties omitted when rc == 0
 * and props_len == 0, as the spec allows. */
int mqtt_encode_ack(buf_t *out, uint8_t type, uint8_t ver, uint16_t packet_id, uint8_t rc,
                    const uint8_t *props, size_t props_len);
/* SUBSCRIBE: n entries of (filter, options); v5 options byte carries QoS, NL, RAP, RH. */
int mqtt_encode_subscribe(buf_t *out, uint8_t ver, uint16_t packet_id, const char *const *filters,
                          const uint8_t *opts, size_t n, const uint8_t *props, size_t props_len);
int mqtt_encode_unsubscribe(buf_t *out, uint8_t ver, uint16_t packet_id, const char *const *filters,
                            size_t n, const uint8_t *props, size_t props_len);
/* type = MQTT_SUBACK or MQTT_UNSUBACK (v3/v4 UNSUBACK carries no codes). */
int mqtt_encode_suback(buf_t *out, uint8_t type, uint8_t ver, uint16_t packet_id, const uint8_t *codes,
                       size_t n, const uint8_t *props, size_t props_len);
int mqtt_encode_ping(buf_t *out, uint8_t type);
/* v3/v4: a bare DISCONNECT (clients only; servers just close). */
int mqtt_encode_disconnect(buf_t *out, uint8_t ver, uint8_t rc, const uint8_t *props, size_t props_len);
int mqtt_encode_auth(buf_t *out, uint8_t rc, const uint8_t *props, size_t props_len);

/* Short name of a packet type for logs ("CONNECT", ...); "?" when out of range. */
const char *mqtt_type_name(uint8_t type);
#endif
