/* Unit tests for mqtt/codec: captured and spec byte vectors, round trips of every packet type
 * in MQTT 3.1 / 3.1.1 / 5.0, every rejection rule, truncations, varints, properties. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "mqtt/codec.h"

#define ARR(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static int check_count;

/* Decode p[0..n) at version ver: must be one complete OK packet of n bytes, and every strict
 * prefix must be MQTT_NEED_MORE (each prefix in an exact-size copy so ASan sees overreads). */
static void dec_ok(const uint8_t *p, size_t n, uint8_t ver, mqtt_packet *pkt) {
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *part = malloc(cut ? cut : 1);
        memcpy(part, p, cut);
        mqtt_packet tmp;
        size_t used = 99;
        int rc = mqtt_decode(part, cut, ver, 0, &tmp, &used);
        if (rc != MQTT_NEED_MORE) print_error("prefix %zu of %zu: rc %d\n", cut, n, rc);
        assert_int_equal(rc, MQTT_NEED_MORE);
        free(part);
    }
    uint8_t *copy = malloc(n);
    memcpy(copy, p, n);
    size_t used = 0;
    int rc = mqtt_decode(copy, n, ver, 0, pkt, &used);
    if (rc != MQTT_OK) print_error("decode rc %d reason 0x%02x\n", rc, pkt->reason);
    assert_int_equal(rc, MQTT_OK);
    assert_int_equal(used, n);
    assert_int_equal(pkt->size, n);
    free(copy); /* pkt views into p remain valid: re-decode from p for the caller */
    assert_int_equal(mqtt_decode(p, n, ver, 0, pkt, &used), MQTT_OK);
    check_count++;
}

static void dec_err(const uint8_t *p, size_t n, uint8_t ver, int code, uint8_t reason) {
    uint8_t *copy = malloc(n);
    memcpy(copy, p, n);
    mqtt_packet pkt;
    size_t used = 0;
    int rc = mqtt_decode(copy, n, ver, 0, &pkt, &used);
    if (rc != code || pkt.reason != reason)
        print_error("expected %d/0x%02x got %d/0x%02x\n", code, reason, rc, pkt.reason);
    assert_int_equal(rc, code);
    assert_int_equal(pkt.reason, reason);
    free(copy);
    check_count++;
}
#define MALF(ver, ...) dec_err(ARR(__VA_ARGS__), ver, MQTT_E_MALFORMED, MQTT_RC_MALFORMED)
#define PROTO(ver, ...) dec_err(ARR(__VA_ARGS__), ver, MQTT_E_PROTOCOL, MQTT_RC_PROTOCOL_ERROR)

/* Body-form vectors: first byte, then the body; the remaining length is computed. */
static uint8_t vec_buf[512];
static size_t vec(uint8_t first, const uint8_t *body, size_t n) {
    vec_buf[0] = first;
    size_t h = 1;
    size_t v = n;
    do {
        vec_buf[h++] = (uint8_t)((v & 0x7F) | (v > 127 ? 0x80 : 0));
        v >>= 7;
    } while (v);
    memcpy(vec_buf + h, body, n);
    return h + n;
}
#define VEC(first, ...) vec_buf, vec(first, ARR(__VA_ARGS__))
#define OKB(ver, pkt, first, ...) dec_ok(VEC(first, __VA_ARGS__), ver, pkt)
#define ERRB(ver, code, rc, first, ...) dec_err(VEC(first, __VA_ARGS__), ver, code, rc)
#define MALFB(ver, first, ...) ERRB(ver, MQTT_E_MALFORMED, MQTT_RC_MALFORMED, first, __VA_ARGS__)
#define PROTOB(ver, first, ...) ERRB(ver, MQTT_E_PROTOCOL, MQTT_RC_PROTOCOL_ERROR, first, __VA_ARGS__)

static void assert_bytes(mqtt_bytes b, const char *s) {
    assert_int_equal(b.len, strlen(s));
    assert_memory_equal(b.p, s, b.len);
}

/* ------------------------------------------------------------------ varints */

static void test_varint(void **st) {
    (void)st;
    static const struct { uint32_t v; int n; uint8_t b[4]; } cases[] = {
        {0, 1, {0x00}}, {127, 1, {0x7F}}, {128, 2, {0x80, 0x01}}, {16383, 2, {0xFF, 0x7F}},
        {16384, 3, {0x80, 0x80, 0x01}}, {2097151, 3, {0xFF, 0xFF, 0x7F}},
        {2097152, 4, {0x80, 0x80, 0x80, 0x01}}, {268435455, 4, {0xFF, 0xFF, 0xFF, 0x7F}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_t b;
        buf_init(&b);
        assert_int_equal(mqtt_varint_put(&b, cases[i].v), 0);
        assert_int_equal(b.len, cases[i].n);
        assert_int_equal(mqtt_varint_size(cases[i].v), cases[i].n);
        assert_memory_equal(b.data, cases[i].b, b.len);
        /* as a remaining length: a PUBLISH header announcing v bytes needs more (or is empty) */
        uint8_t hdr[5] = {0x30};
        memcpy(hdr + 1, cases[i].b, (size_t)cases[i].n);
        mqtt_packet pkt;
        size_t used;
        int rc = mqtt_decode(hdr, 1 + (size_t)cases[i].n, 4, 0, &pkt, &used);
        if (cases[i].v == 0) assert_int_equal(rc, MQTT_E_MALFORMED);
        else {
            assert_int_equal(rc, MQTT_NEED_MORE);
            assert_int_equal(pkt.size, 1 + cases[i].n + cases[i].v);
        }
        buf_free(&b);
    }
    buf_t b;
    buf_init(&b);
    assert_int_equal(mqtt_varint_put(&b, 268435456u), -1);
    buf_free(&b);
    /* 5-byte and non-minimal remaining lengths are malformed; 4 continuation bytes need more */
    MALF(4, 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F);
    MALF(4, 0x30, 0x80, 0x80, 0x80, 0x80);
    MALF(4, 0xC0, 0x80, 0x00);
    MALF(4, 0x30, 0x83, 0x80, 0x00);
    mqtt_packet pkt;
    size_t used;
    assert_int_equal(mqtt_decode(ARR(0x30, 0xFF, 0xFF, 0xFF), 4, 0, &pkt, &used), MQTT_NEED_MORE);
}

static void test_too_large(void **st) {
    (void)st;
    mqtt_packet pkt;
    size_t used;
    /* header only: 1 + 2 + 200 bytes announced, limit 100 -> rejected before the body arrives */
    assert_int_equal(mqtt_decode(ARR(0x30, 0xC8, 0x01), 4, 100, &pkt, &used), MQTT_E_TOO_LARGE);
    assert_int_equal(pkt.reason, MQTT_RC_PACKET_TOO_LARGE);
    assert_int_equal(pkt.size, 203);
    /* exactly at the limit is fine */
    const uint8_t p[] = {0x30, 0x05, 0x00, 0x01, 'a', 'h', 'i'};
    assert_int_equal(mqtt_decode(p, sizeof p, 4, 7, &pkt, &used), MQTT_OK);
    assert_int_equal(mqtt_decode(p, sizeof p, 4, 6, &pkt, &used), MQTT_E_TOO_LARGE);
    assert_int_equal(mqtt_decode(p, 2, 4, 6, &pkt, &used), MQTT_E_TOO_LARGE);
    assert_int_equal(mqtt_decode(p, 1, 4, 6, &pkt, &used), MQTT_NEED_MORE);
    /* a CONNECT before the version is known is limited too */
    assert_int_equal(mqtt_decode(ARR(0x10, 0xFF, 0x7F), 0, 1000, &pkt, &used), MQTT_E_TOO_LARGE);
}

/* ------------------------------------------------------------------ captured vectors */

/* mosquitto_pub -V 31 -i capclient -u user -P pass -q 1 -t a/b -m hello --will-topic will/t
 * --will-payload bye --will-qos 1 -k 30, then its PUBLISH */
static const uint8_t cap_v31[] = {
    0x10, 0x30, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0xCE, 0x00, 0x1E, 0x00, 0x09, 'c', 'a',
    'p', 'c', 'l', 'i', 'e', 'n', 't', 0x00, 0x06, 'w', 'i', 'l', 'l', '/', 't', 0x00, 0x03, 'b', 'y', 'e',
    0x00, 0x04, 'u', 's', 'e', 'r', 0x00, 0x04, 'p', 'a', 's', 's',
    0x32, 0x0C, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 'h', 'e', 'l', 'l', 'o'};
/* the same with -V 5 -D publish user-property k v -D publish content-type text/plain
 * -D connect session-expiry-interval 60 */
static const uint8_t cap_v5[] = {
    0x10, 0x38, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0xCE, 0x00, 0x1E, 0x08, 0x11, 0x00, 0x00, 0x00,
    0x3C, 0x21, 0x00, 0x14, 0x00, 0x09, 'c', 'a', 'p', 'c', 'l', 'i', 'e', 'n', 't', 0x00, 0x00, 0x06,
    'w', 'i', 'l', 'l', '/', 't', 0x00, 0x03, 'b', 'y', 'e', 0x00, 0x04, 'u', 's', 'e', 'r', 0x00, 0x04,
    'p', 'a', 's', 's',
    0x32, 0x21, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 0x14, 0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v',
    0x03, 0x00, 0x0A, 't', 'e', 'x', 't', '/', 'p', 'l', 'a', 'i', 'n', 'h', 'e', 'l', 'l', 'o'};
/* mosquitto_sub -V 311 -i subc -q 2 -t a/+ -t '#' -c: CONNECT, SUBSCRIBE, DISCONNECT */
static const uint8_t cap_sub_v311[] = {
    0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x00, 0x00, 0x3C, 0x00, 0x04, 's', 'u', 'b', 'c',
    0x82, 0x0C, 0x00, 0x01, 0x00, 0x03, 'a', '/', '+', 0x02, 0x00, 0x01, '#', 0x02, 0xE0, 0x00};
/* mosquitto_sub -V 5 ... -D subscribe user-property a b -D subscribe subscription-identifier 7 */
static const uint8_t cap_sub_v5[] = {
    0x10, 0x14, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3C, 0x03, 0x21, 0x00, 0x14, 0x00,
    0x04, 's', 'u', 'b', 'c', 0x82, 0x16, 0x00, 0x01, 0x09, 0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b',
    0x0B, 0x07, 0x00, 0x03, 'a', '/', '+', 0x02, 0x00, 0x01, '#', 0x02, 0xE0, 0x01, 0x04};

static void test_capture_v31(void **st) {
    (void)st;
    mqtt_packet pkt;
    size_t used;
    assert_int_equal(mqtt_decode(cap_v31, sizeof cap_v31, 0, 0, &pkt, &used), MQTT_OK);
    assert_int_equal(used, 50);
    dec_ok(cap_v31, used, 0, &pkt);
    assert_int_equal(pkt.type, MQTT_CONNECT);
    assert_int_equal(pkt.proto_level, 3);
    assert_bytes(pkt.proto_name, "MQIsdp");
    assert_true(pkt.clean_start && pkt.will_flag && pkt.has_username && pkt.has_password);
    assert_false(pkt.will_retain);
    assert_int_equal(pkt.will_qos, 1);
    assert_int_equal(pkt.keep_alive, 30);
    assert_bytes(pkt.client_id, "capclient");
    assert_bytes(pkt.will_topic, "will/t");
    assert_bytes(pkt.will_payload, "bye");
    assert_bytes(pkt.username, "user");
    assert_bytes(pkt.password, "pass");
    dec_ok(cap_v31 + used, sizeof cap_v31 - used, 3, &pkt);
    assert_int_equal(pkt.type, MQTT_PUBLISH);
    assert_int_equal(pkt.qos, 1);
    assert_int_equal(pkt.packet_id, 1);
    assert_bytes(pkt.topic, "a/b");
    assert_bytes(pkt.payload, "hello");
    /* re-encoding produces the captured bytes */
    buf_t b;
    buf_init(&b);
    mqtt_connect_opts o = {.proto_level = 3, .clean_start = true, .keep_alive = 30,
                           .client_id = "capclient", .username = "user", .password = "pass",
                           .will_topic = "will/t", .will_payload = "bye", .will_payload_len = 3,
                           .will_qos = 1};
    assert_int_equal(mqtt_encode_connect(&b, &o), 0);
    assert_int_equal(mqtt_encode_publish(&b, 3, 1, false, false, 1, "a/b", 3, NULL, 0, "hello", 5), 0);
    assert_int_equal(b.len, sizeof cap_v31);
    assert_memory_equal(b.data, cap_v31, b.len);
    /* 3.1.1 capture differs only in protocol name and level */
    buf_reset(&b);
    o.proto_level = 4;
    assert_int_equal(mqtt_encode_connect(&b, &o), 0);
    const uint8_t v311_head[] = {0x10, 0x2E, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xCE, 0x00, 0x1E};
    assert_memory_equal(b.data, v311_head, sizeof v311_head);
    assert_memory_equal(b.data + 12, cap_v31 + 14, 36);
    dec_ok(b.data, b.len, 0, &pkt);
    assert_int_equal(pkt.proto_level, 4);
    buf_free(&b);
}

static void test_capture_v5(void **st) {
    (void)st;
    mqtt_packet pkt;
    size_t used;
    assert_int_equal(mqtt_decode(cap_v5, sizeof cap_v5, 0, 0, &pkt, &used), MQTT_OK);
    assert_int_equal(used, 58);
    dec_ok(cap_v5, used, 0, &pkt);
    assert_int_equal(pkt.proto_level, 5);
    assert_true(MQTT_HAS(pkt.props, MQTT_PROP_SESSION_EXPIRY));
    assert_int_equal(pkt.props.session_expiry, 60);
    assert_int_equal(pkt.props.receive_max, 20);
    assert_int_equal(pkt.props.raw.len, 8);
    assert_int_equal(pkt.will_props.raw.len, 0);
    assert_int_equal(pkt.will_props.has, 0);
    assert_bytes(pkt.will_topic, "will/t");
    assert_bytes(pkt.password, "pass");
    dec_ok(cap_v5 + used, sizeof cap_v5 - used, 5, &pkt);
    assert_int_equal(pkt.type, MQTT_PUBLISH);
    assert_bytes(pkt.topic, "a/b");
    assert_bytes(pkt.payload, "hello");
    assert_bytes(pkt.props.content_type, "text/plain");
    assert_true(MQTT_HAS(pkt.props, MQTT_PROP_USER_PROPERTY));
    mqtt_bytes it = pkt.props.raw;
    uint8_t id;
    mqtt_prop pr = {0};
    assert_int_equal(mqtt_props_next(&it, &id, &pr), 1);
    assert_int_equal(id, MQTT_PROP_USER_PROPERTY);
    assert_bytes(pr.str, "k");
    assert_bytes(pr.str2, "v");
    assert_int_equal(mqtt_props_next(&it, &id, &pr), 1);
    assert_int_equal(id, MQTT_PROP_CONTENT_TYPE);
    assert_int_equal(mqtt_props_next(&it, &id, &pr), 0);
    /* the same PUBLISH decoded at v4 is a malformed topic? no: the props become payload-less bytes.
     * Re-encode at v5 from the decoded fields gives the captured bytes. */
    buf_t b;
    buf_init(&b);
    assert_int_equal(mqtt_encode_publish(&b, 5, 1, false, false, 1, pkt.topic.p, pkt.topic.len,
                                         pkt.props.raw.p, pkt.props.raw.len, pkt.payload.p,
                                         pkt.payload.len), 0);
    assert_int_equal(b.len, sizeof cap_v5 - used);
    assert_memory_equal(b.data, cap_v5 + used, b.len);
    assert_int_equal(mqtt_publish_size(5, 1, 3, pkt.props.raw.len, 5), b.len);
    buf_free(&b);
}

static void test_capture_subscribe(void **st) {
    (void)st;
    mqtt_packet pkt;
    size_t used, off = 0;
    uint8_t ver = 0;
    int n = 0;
    while (off < sizeof cap_sub_v311) {
        assert_int_equal(mqtt_decode(cap_sub_v311 + off, sizeof cap_sub_v311 - off, ver, 0, &pkt, &used), MQTT_OK);
        dec_ok(cap_sub_v311 + off, used, ver, &pkt);
        if (pkt.type == MQTT_CONNECT) {
            ver = pkt.proto_level;
            assert_false(pkt.clean_start);
            assert_int_equal(pkt.keep_alive, 60);
        } else if (pkt.type == MQTT_SUBSCRIBE) {
            mqtt_bytes it = pkt.entries, f;
            uint8_t o;
            assert_int_equal(mqtt_sub_next(&it, ver, &f, &o), 1);
            assert_bytes(f, "a/+");
            assert_int_equal(o, 2);
            assert_int_equal(mqtt_sub_next(&it, ver, &f, &o), 1);
            assert_bytes(f, "#");
            assert_int_equal(mqtt_sub_next(&it, ver, &f, &o), 0);
        }
        off += used;
        n++;
    }
    assert_int_equal(n, 3);
    assert_int_equal(pkt.type, MQTT_DISCONNECT);

    off = 0;
    ver = 0;
    n = 0;
    while (off < sizeof cap_sub_v5) {
        assert_int_equal(mqtt_decode(cap_sub_v5 + off, sizeof cap_sub_v5 - off, ver, 0, &pkt, &used), MQTT_OK);
        dec_ok(cap_sub_v5 + off, used, ver, &pkt);
        if (pkt.type == MQTT_CONNECT) ver = pkt.proto_level;
        if (pkt.type == MQTT_SUBSCRIBE) {
            assert_int_equal(pkt.props.sub_id, 7);
            assert_int_equal(pkt.packet_id, 1);
            buf_t b;
            buf_init(&b);
            const char *fl[] = {"a/+", "#"};
            const uint8_t opts[] = {2, 2};
            assert_int_equal(mqtt_encode_subscribe(&b, 5, 1, fl, opts, 2, pkt.props.raw.p, pkt.props.raw.len), 0);
            assert_int_equal(b.len, used);
            assert_memory_equal(b.data, cap_sub_v5 + off, used);
            buf_free(&b);
        }
        off += used;
        n++;
    }
    assert_int_equal(n, 3);
    assert_int_equal(pkt.type, MQTT_DISCONNECT);
    assert_int_equal(pkt.reason, MQTT_RC_DISCONNECT_WITH_WILL);
}

/* ------------------------------------------------------------------ spec vectors */

static void test_spec_vectors(void **st) {
    (void)st;
    mqtt_packet pkt;
    /* PINGREQ / PINGRESP / 3.1.1 DISCONNECT / CONNACK / PUBACK */
    dec_ok(ARR(0xC0, 0x00), 4, &pkt);
    assert_int_equal(pkt.type, MQTT_PINGREQ);
    dec_ok(ARR(0xD0, 0x00), 5, &pkt);
    assert_int_equal(pkt.type, MQTT_PINGRESP);
    dec_ok(ARR(0xE0, 0x00), 4, &pkt);
    assert_int_equal(pkt.type, MQTT_DISCONNECT);
    dec_ok(ARR(0x20, 0x02, 0x01, 0x00), 4, &pkt);
    assert_true(pkt.session_present);
    assert_int_equal(pkt.reason, 0);
    dec_ok(ARR(0x20, 0x02, 0x00, 0x05), 4, &pkt);
    assert_int_equal(pkt.reason, MQTT_V3_NOT_AUTHORIZED);
    dec_ok(ARR(0x20, 0x02, 0x00, 0x01), 3, &pkt); /* 3.1 CONNACK */
    dec_ok(ARR(0x40, 0x02, 0x12, 0x34), 4, &pkt);
    assert_int_equal(pkt.packet_id, 0x1234);
    dec_ok(ARR(0x62, 0x02, 0x00, 0x07), 4, &pkt);
    assert_int_equal(pkt.type, MQTT_PUBREL);
    /* v5 PUBACK forms: bare, with reason, with reason and properties */
    dec_ok(ARR(0x40, 0x02, 0x00, 0x01), 5, &pkt);
    assert_int_equal(pkt.reason, 0);
    OKB(5, &pkt, 0x40, 0x00, 0x01, 0x10);
    assert_int_equal(pkt.reason, MQTT_RC_NO_MATCHING_SUBSCRIBERS);
    OKB(5, &pkt, 0x50, 0x00, 0x01, 0x80, 0x00);
    assert_int_equal(pkt.reason, 0x80);
    OKB(5, &pkt, 0x40, 0x00, 0x01, 0x97, 0x04, 0x1F, 0x00, 0x01, 'q');
    assert_int_equal(pkt.reason, MQTT_RC_QUOTA_EXCEEDED);
    assert_bytes(pkt.props.reason_string, "q");
    OKB(5, &pkt, 0x70, 0x00, 0x01, 0x92);
    assert_int_equal(pkt.reason, MQTT_RC_PACKET_ID_NOT_FOUND);
    /* v5 DISCONNECT forms, AUTH forms */
    dec_ok(ARR(0xE0, 0x00), 5, &pkt);
    OKB(5, &pkt, 0xE0, 0x8E);
    assert_int_equal(pkt.reason, MQTT_RC_SESSION_TAKEN_OVER);
    OKB(5, &pkt, 0xE0, 0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x0A);
    assert_int_equal(pkt.props.session_expiry, 10);
    dec_ok(ARR(0xF0, 0x00), 5, &pkt);
    assert_int_equal(pkt.type, MQTT_AUTH);
    OKB(5, &pkt, 0xF0, 0x18, 0x08, 0x15, 0x00, 0x02, 'x', 'y', 0x16, 0x00, 0x00);
    assert_int_equal(pkt.reason, 0x18);
    assert_bytes(pkt.props.auth_method, "xy");
    assert_int_equal(pkt.props.auth_data.len, 0);
    /* v5 CONNACK with properties */
    OKB(5, &pkt, 0x20, 0x00, 0x00, 0x07, 0x24, 0x01, 0x25, 0x00, 0x22, 0x00, 0x0A);
    assert_int_equal(pkt.props.max_qos, 1);
    assert_true(MQTT_HAS(pkt.props, MQTT_PROP_RETAIN_AVAILABLE));
    assert_int_equal(pkt.props.retain_available, 0);
    assert_int_equal(pkt.props.topic_alias_max, 10);
    /* SUBACK / UNSUBACK */
    OKB(4, &pkt, 0x90, 0x00, 0x02, 0x00, 0x01, 0x80);
    assert_int_equal(pkt.entries.len, 3);
    assert_int_equal(pkt.entries.p[2], 0x80);
    OKB(4, &pkt, 0xB0, 0x00, 0x02);
    assert_int_equal(pkt.entries.len, 0);
    OKB(5, &pkt, 0x90, 0x00, 0x02, 0x00, 0x02, 0x8F);
    OKB(5, &pkt, 0xB0, 0x00, 0x02, 0x00, 0x00, 0x11);
    assert_int_equal(pkt.entries.p[1], MQTT_RC_NO_SUBSCRIPTION_EXISTED);
    /* PUBLISH qos 0 with empty payload; retained qos 2 with DUP */
    OKB(4, &pkt, 0x30, 0x00, 0x01, 't');
    assert_int_equal(pkt.payload.len, 0);
    OKB(4, &pkt, 0x3D, 0x00, 0x01, 't', 0xAB, 0xCD, 'x');
    assert_true(pkt.dup && pkt.retain);
    assert_int_equal(pkt.qos, 2);
    assert_int_equal(pkt.packet_id, 0xABCD);
    /* v5 PUBLISH with topic alias and empty topic */
    OKB(5, &pkt, 0x30, 0x00, 0x00, 0x03, 0x23, 0x00, 0x05, 'p');
    assert_int_equal(pkt.props.topic_alias, 5);
    assert_int_equal(pkt.topic.len, 0);
    assert_bytes(pkt.payload, "p");
    /* non-ASCII UTF-8 topic (U+00E9, U+20AC, U+1F600) */
    OKB(4, &pkt, 0x30, 0x00, 0x09, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80);
    /* UNSUBSCRIBE */
    OKB(4, &pkt, 0xA2, 0x00, 0x09, 0x00, 0x01, '#');
    mqtt_bytes it = pkt.entries, f;
    assert_int_equal(mqtt_unsub_next(&it, &f), 1);
    assert_bytes(f, "#");
    assert_int_equal(mqtt_unsub_next(&it, &f), 0);
}

/* ------------------------------------------------------------------ round trips */

static void roundtrip_connect(uint8_t lvl, bool will, bool creds) {
    buf_t b, props, wprops;
    buf_init(&b);
    buf_init(&props);
    buf_init(&wprops);
    assert_int_equal(mqtt_prop_put_u32(&props, MQTT_PROP_SESSION_EXPIRY, 3600), 0);
    assert_int_equal(mqtt_prop_put_u16(&props, MQTT_PROP_RECEIVE_MAX, 100), 0);
    assert_int_equal(mqtt_prop_put_u32(&props, MQTT_PROP_MAX_PACKET_SIZE, 65536), 0);
    assert_int_equal(mqtt_prop_put_u16(&props, MQTT_PROP_TOPIC_ALIAS_MAX, 8), 0);
    assert_int_equal(mqtt_prop_put_u8(&props, MQTT_PROP_REQUEST_RESPONSE_INFO, 1), 0);
    assert_int_equal(mqtt_prop_put_u8(&props, MQTT_PROP_REQUEST_PROBLEM_INFO, 0), 0);
    assert_int_equal(mqtt_prop_put_pair(&props, MQTT_PROP_USER_PROPERTY, "k", 1, "v", 1), 0);
    assert_int_equal(mqtt_prop_put_pair(&props, MQTT_PROP_USER_PROPERTY, "k", 1, "w", 1), 0);
    assert_int_equal(mqtt_prop_put_str(&props, MQTT_PROP_AUTH_METHOD, "SCRAM", 5), 0);
    assert_int_equal(mqtt_prop_put_str(&props, MQTT_PROP_AUTH_DATA, "\x01\x00\x02", 3), 0);
    assert_int_equal(mqtt_prop_put_u32(&wprops, MQTT_PROP_WILL_DELAY, 5), 0);
    assert_int_equal(mqtt_prop_put_u8(&wprops, MQTT_PROP_PAYLOAD_FORMAT, 1), 0);
    assert_int_equal(mqtt_prop_put_u32(&wprops, MQTT_PROP_MESSAGE_EXPIRY, 77), 0);
    assert_int_equal(mqtt_prop_put_str(&wprops, MQTT_PROP_CONTENT_TYPE, "json", 4), 0);
    assert_int_equal(mqtt_prop_put_str(&wprops, MQTT_PROP_RESPONSE_TOPIC, "r/t", 3), 0);
    assert_int_equal(mqtt_prop_put_str(&wprops, MQTT_PROP_CORRELATION_DATA, "\x00\x01", 2), 0);
    mqtt_connect_opts o = {.proto_level = lvl, .clean_start = !will, .keep_alive = 65535,
                           .client_id = creds ? "dev-1" : "", .props = props.data,
                           .props_len = props.len, .will_props = wprops.data,
                           .will_props_len = wprops.len};
    if (will) {
        o.will_topic = "dev/1/status";
        o.will_payload = "\x00offline";
        o.will_payload_len = 8;
        o.will_qos = 2;
        o.will_retain = true;
    }
    if (creds) {
        o.username = "alice";
        o.password = "s3cret";
    }
    assert_int_equal(mqtt_encode_connect(&b, &o), 0);
    mqtt_packet pkt;
    dec_ok(b.data, b.len, 0, &pkt);
    assert_int_equal(pkt.type, MQTT_CONNECT);
    assert_int_equal(pkt.proto_level, lvl);
    assert_int_equal(pkt.clean_start, !will);
    assert_int_equal(pkt.keep_alive, 65535);
    assert_bytes(pkt.client_id, creds ? "dev-1" : "");
    assert_int_equal(pkt.will_flag, will);
    if (will) {
        assert_bytes(pkt.will_topic, "dev/1/status");
        assert_int_equal(pkt.will_payload.len, 8);
        assert_memory_equal(pkt.will_payload.p, "\x00offline", 8);
        assert_int_equal(pkt.will_qos, 2);
        assert_true(pkt.will_retain);
    }
    assert_int_equal(pkt.has_username, creds);
    assert_int_equal(pkt.has_password, creds);
    if (creds) {
        assert_bytes(pkt.username, "alice");
        assert_bytes(pkt.password, "s3cret");
    }
    if (lvl == 5) {
        assert_int_equal(pkt.props.raw.len, props.len);
        assert_int_equal(pkt.props.session_expiry, 3600);
        assert_int_equal(pkt.props.receive_max, 100);
        assert_int_equal(pkt.props.max_packet_size, 65536);
        assert_int_equal(pkt.props.topic_alias_max, 8);
        assert_int_equal(pkt.props.request_response_info, 1);
        assert_true(MQTT_HAS(pkt.props, MQTT_PROP_REQUEST_PROBLEM_INFO));
        assert_int_equal(pkt.props.request_problem_info, 0);
        assert_bytes(pkt.props.auth_method, "SCRAM");
        assert_int_equal(pkt.props.auth_data.len, 3);
        if (will) {
            assert_int_equal(pkt.will_props.will_delay, 5);
            assert_int_equal(pkt.will_props.payload_format, 1);
            assert_int_equal(pkt.will_props.message_expiry, 77);
            assert_bytes(pkt.will_props.content_type, "json");
            assert_bytes(pkt.will_props.response_topic, "r/t");
            assert_int_equal(pkt.will_props.correlation_data.len, 2);
        }
    } else {
        assert_int_equal(pkt.props.has, 0);
    }
    buf_free(&b);
    buf_free(&props);
    buf_free(&wprops);
}

static void test_roundtrip_connect(void **st) {
    (void)st;
    for (uint8_t lvl = 3; lvl <= 5; lvl++)
        for (int m = 0; m < 4; m++) roundtrip_connect(lvl, m & 1, m & 2);
    /* v5: password without user name is allowed */
    buf_t b;
    buf_init(&b);
    mqtt_connect_opts o = {.proto_level = 5, .client_id = "c", .password = "p"};
    assert_int_equal(mqtt_encode_connect(&b, &o), 0);
    mqtt_packet pkt;
    dec_ok(b.data, b.len, 0, &pkt);
    assert_true(pkt.has_password && !pkt.has_username);
    /* ... but not in 3.1.1 */
    buf_reset(&b);
    o.proto_level = 4;
    assert_int_equal(mqtt_encode_connect(&b, &o), 0);
    dec_err(b.data, b.len, 0, MQTT_E_MALFORMED, MQTT_RC_MALFORMED);
    buf_free(&b);
}

static void test_roundtrip_connack(void **st) {
    (void)st;
    for (uint8_t ver = 3; ver <= 5; ver++) {
        buf_t b, props;
        buf_init(&b);
        buf_init(&props);
        mqtt_prop_put_str(&props, MQTT_PROP_ASSIGNED_CLIENT_ID, "auto-1", 6);
        mqtt_prop_put_u16(&props, MQTT_PROP_SERVER_KEEP_ALIVE, 30);
        mqtt_prop_put_u8(&props, MQTT_PROP_WILDCARD_SUB_AVAILABLE, 1);
        mqtt_prop_put_u8(&props, MQTT_PROP_SHARED_SUB_AVAILABLE, 0);
        mqtt_prop_put_u8(&props, MQTT_PROP_SUB_ID_AVAILABLE, 1);
        mqtt_prop_put_str(&props, MQTT_PROP_RESPONSE_INFO, "ri", 2);
        mqtt_prop_put_u16(&props, MQTT_PROP_RECEIVE_MAX, 65535);
        assert_int_equal(mqtt_encode_connack(&b, ver, true, 0, props.data, props.len), 0);
        mqtt_packet pkt;
        dec_ok(b.data, b.len, ver, &pkt);
        assert_int_equal(pkt.type, MQTT_CONNACK);
        assert_int_equal(pkt.session_present, ver >= 4);
        assert_int_equal(pkt.reason, 0);
        if (ver == 5) {
            assert_bytes(pkt.props.assigned_client_id, "auto-1");
            assert_int_equal(pkt.props.server_keep_alive, 30);
            assert_int_equal(pkt.props.receive_max, 65535);
        } else {
            assert_int_equal(b.len, 4);
        }
        /* a v5 reason code maps to the 3.1.1 return code */
        buf_reset(&b);
        assert_int_equal(mqtt_encode_connack(&b, ver, false, MQTT_RC_BAD_USERNAME_PASSWORD, NULL, 0), 0);
        dec_ok(b.data, b.len, ver, &pkt);
        assert_int_equal(pkt.reason, ver == 5 ? MQTT_RC_BAD_USERNAME_PASSWORD : MQTT_V3_BAD_USER_PASS);
        buf_reset(&b);
        assert_int_equal(mqtt_encode_connack(&b, ver, false, MQTT_RC_UNSUPPORTED_VERSION, NULL, 0), 0);
        dec_ok(b.data, b.len, ver, &pkt);
        assert_int_equal(pkt.reason, ver == 5 ? 0x84 : MQTT_V3_BAD_VERSION);
        buf_reset(&b);
        assert_int_equal(mqtt_encode_connack(&b, ver, false, MQTT_RC_SERVER_BUSY, NULL, 0), 0);
        dec_ok(b.data, b.len, ver, &pkt);
        assert_int_equal(pkt.reason, ver == 5 ? 0x89 : MQTT_V3_UNAVAILABLE);
        static const uint8_t map[][2] = {{0x85, 2}, {0x87, 5}, {0x8A, 5}, {0x86, 4}, {0x80, 3}, {0x9F, 3}};
        for (size_t i = 0; ver < 5 && i < sizeof map / sizeof map[0]; i++) {
            buf_reset(&b);
            assert_int_equal(mqtt_encode_connack(&b, ver, true, map[i][0], NULL, 0), 0);
            dec_ok(b.data, b.len, ver, &pkt);
            assert_int_equal(pkt.reason, map[i][1]);
            assert_false(pkt.session_present); /* only with success */
        }
        buf_free(&b);
        buf_free(&props);
    }
}

static void test_roundtrip_publish(void **st) {
    (void)st;
    static const size_t sizes[] = {0, 1, 100, 120, 121, 122, 127, 128, 16370, 16384, 70000, 2097151};
    uint8_t *payload = malloc(2097151);
    for (size_t i = 0; i < 2097151; i++) payload[i] = (uint8_t)(i * 7);
    for (uint8_t ver = 3; ver <= 5; ver++)
        for (uint8_t qos = 0; qos <= 2; qos++)
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                buf_t b, props;
                buf_init(&b);
                buf_init(&props);
                mqtt_prop_put_u8(&props, MQTT_PROP_PAYLOAD_FORMAT, 0);
                mqtt_prop_put_u32(&props, MQTT_PROP_MESSAGE_EXPIRY, 10);
                mqtt_prop_put_u16(&props, MQTT_PROP_TOPIC_ALIAS, 3);
                mqtt_prop_put_str(&props, MQTT_PROP_RESPONSE_TOPIC, "resp", 4);
                mqtt_prop_put_str(&props, MQTT_PROP_CORRELATION_DATA, "c", 1);
                mqtt_prop_put_varint(&props, MQTT_PROP_SUBSCRIPTION_ID, 268435455);
                mqtt_prop_put_varint(&props, MQTT_PROP_SUBSCRIPTION_ID, 1);
                mqtt_prop_put_pair(&props, MQTT_PROP_USER_PROPERTY, "a", 1, "", 0);
                mqtt_prop_put_pair(&props, MQTT_PROP_USER_PROPERTY, "a", 1, "b", 1);
                mqtt_prop_put_str(&props, MQTT_PROP_CONTENT_TYPE, "", 0);
                const char *topic = "sensors/room-1/temp";
                size_t tl = strlen(topic);
                bool retain = s & 1, dup = qos && (s & 2);
                assert_int_equal(mqtt_encode_publish(&b, ver, qos, retain, dup, (uint16_t)(s + 1), topic, tl,
                                                     props.data, props.len, payload, sizes[s]), 0);
                assert_int_equal(b.len, mqtt_publish_size(ver, qos, tl, props.len, sizes[s]));
                mqtt_packet pkt;
                size_t used;
                if (sizes[s] <= 128) {
                    dec_ok(b.data, b.len, ver, &pkt);
                } else {
                    assert_int_equal(mqtt_decode(b.data, b.len, ver, 0, &pkt, &used), MQTT_OK);
                    assert_int_equal(used, b.len);
                    assert_int_equal(mqtt_decode(b.data, b.len - 1, ver, 0, &pkt, &used), MQTT_NEED_MORE);
                    assert_int_equal(mqtt_decode(b.data, b.len, ver, 0, &pkt, &used), MQTT_OK);
                }
                assert_int_equal(pkt.type, MQTT_PUBLISH);
                assert_int_equal(pkt.qos, qos);
                assert_int_equal(pkt.retain, retain);
                assert_int_equal(pkt.dup, dup);
                assert_int_equal(pkt.packet_id, qos ? s + 1 : 0);
                assert_bytes(pkt.topic, topic);
                assert_int_equal(pkt.payload.len, sizes[s]);
                if (sizes[s]) assert_memory_equal(pkt.payload.p, payload, sizes[s]);
                if (ver == 5) {
                    assert_int_equal(pkt.props.raw.len, props.len);
                    assert_memory_equal(pkt.props.raw.p, props.data, props.len);
                    assert_int_equal(pkt.props.sub_id, 268435455);
                    assert_int_equal(pkt.props.topic_alias, 3);
                    assert_int_equal(pkt.props.message_expiry, 10);
                    assert_true(MQTT_HAS(pkt.props, MQTT_PROP_CONTENT_TYPE));
                    assert_int_equal(pkt.props.content_type.len, 0);
                }
                buf_free(&b);
                buf_free(&props);
            }
    free(payload);
}

static void test_roundtrip_acks(void **st) {
    (void)st;
    for (uint8_t ver = 3; ver <= 5; ver++)
        for (uint8_t type = MQTT_PUBACK; type <= MQTT_PUBCOMP; type++)
            for (int form = 0; form < 3; form++) {
                buf_t b, props;
                buf_init(&b);
                buf_init(&props);
                if (form == 2) {
                    mqtt_prop_put_str(&props, MQTT_PROP_REASON_STRING, "why", 3);
                    mqtt_prop_put_pair(&props, MQTT_PROP_USER_PROPERTY, "k", 1, "v", 1);
                }
                bool rel = type == MQTT_PUBREL || type == MQTT_PUBCOMP;
                uint8_t rc = form == 0 ? 0 : rel ? 0x92 : 0x87;
                assert_int_equal(mqtt_encode_ack(&b, type, ver, 0xFFFF, rc, props.data, props.len), 0);
                mqtt_packet pkt;
                dec_ok(b.data, b.len, ver, &pkt);
                assert_int_equal(pkt.type, type);
                assert_int_equal(pkt.flags, type == MQTT_PUBREL ? 2 : 0);
                assert_int_equal(pkt.packet_id, 0xFFFF);
                if (ver == 5) {
                    assert_int_equal(pkt.reason, rc);
                    assert_int_equal(b.len, form == 0 ? 4 : form == 1 ? 5 : 4 + 1 + 1 + props.len);
                    if (form == 2) assert_bytes(pkt.props.reason_string, "why");
                } else {
                    assert_int_equal(b.len, 4);
                    assert_int_equal(pkt.reason, 0);
                }
                buf_free(&b);
                buf_free(&props);
            }
    buf_t b;
    buf_init(&b);
    assert_int_equal(mqtt_encode_ack(&b, MQTT_SUBACK, 4, 1, 0, NULL, 0), -1);
    buf_free(&b);
}

static void test_roundtrip_subscribe(void **st) {
    (void)st;
    const char *filters[] = {"a/b", "+/x/#", "$share/g/t/+", "#", "\xc3\xa9"};
    const uint8_t opts[] = {0x00, 0x01 | 0x04, 0x02 | 0x08, 0x01 | 0x10, 0x22};
    for (uint8_t ver = 3; ver <= 5; ver++) {
        buf_t b, props;
        buf_init(&b);
        buf_init(&props);
        mqtt_prop_put_varint(&props, MQTT_PROP_SUBSCRIPTION_ID, 16384);
        mqtt_prop_put_pair(&props, MQTT_PROP_USER_PROPERTY, "x", 1, "y", 1);
        assert_int_equal(mqtt_encode_subscribe(&b, ver, 42, filters, opts, 5, props.data, props.len), 0);
        mqtt_packet pkt;
        dec_ok(b.data, b.len, ver, &pkt);
        assert_int_equal(pkt.type, MQTT_SUBSCRIBE);
        assert_int_equal(pkt.flags, 2);
        assert_int_equal(pkt.packet_id, 42);
        if (ver == 5) assert_int_equal(pkt.props.sub_id, 16384);
        mqtt_bytes it = pkt.entries, f;
        uint8_t o;
        for (int i = 0; i < 5; i++) {
            assert_int_equal(mqtt_sub_next(&it, ver, &f, &o), 1);
            assert_bytes(f, filters[i]);
            assert_int_equal(o, ver == 5 ? opts[i] : (opts[i] & 3));
        }
        assert_int_equal(mqtt_sub_next(&it, ver, &f, &o), 0);

        /* SUBACK with codes, v5 failure codes become 0x80 for 3.1.1 */
        const uint8_t codes[] = {0, 1, 2, 0x80, 0x8F, 0xA2};
        buf_reset(&b);
        buf_reset(&props);
        mqtt_prop_put_str(&props, MQTT_PROP_REASON_STRING, "r", 1);
        assert_int_equal(mqtt_encode_suback(&b, MQTT_SUBACK, ver, 42, codes, 6, props.data, props.len), 0);
        dec_ok(b.data, b.len, ver, &pkt);
        assert_int_equal(pkt.type, MQTT_SUBACK);
        assert_int_equal(pkt.entries.len, 6);
        for (int i = 0; i < 6; i++)
            assert_int_equal(pkt.entries.p[i], ver == 5 || codes[i] < 0x80 ? codes[i] : 0x80);

        /* UNSUBSCRIBE / UNSUBACK */
        buf_reset(&b);
        buf_reset(&props);
        mqtt_prop_put_pair(&props, MQTT_PROP_USER_PROPERTY, "x", 1, "y", 1);
        assert_int_equal(mqtt_encode_unsubscribe(&b, ver, 7, filters, 5, props.data, props.len), 0);
        dec_ok(b.data, b.len, ver, &pkt);
        assert_int_equal(pkt.type, MQTT_UNSUBSCRIBE);
        assert_int_equal(pkt.flags, 2);
        it = pkt.entries;
        for (int i = 0; i < 5; i++) {
            assert_int_equal(mqtt_unsub_next(&it, &f), 1);
            assert_bytes(f, filters[i]);
        }
        assert_int_equal(mqtt_unsub_next(&it, &f), 0);
        const uint8_t ucodes[] = {0x00, 0x11, 0x87};
        buf_reset(&b);
        assert_int_equal(mqtt_encode_suback(&b, MQTT_UNSUBACK, ver, 7, ucodes, 3, NULL, 0), 0);
        dec_ok(b.data, b.len, ver, &pkt);
        assert_int_equal(pkt.type, MQTT_UNSUBACK);
        assert_int_equal(pkt.packet_id, 7);
        assert_int_equal(pkt.entries.len, ver == 5 ? 3 : 0);
        if (ver == 5) assert_memory_equal(pkt.entries.p, ucodes, 3);
        else assert_int_equal(b.len, 4);
        buf_free(&b);
        buf_free(&props);
    }
}

static void test_roundtrip_misc(void **st) {
    (void)st;
    buf_t b, props;
    buf_init(&b);
    buf_init(&props);
    mqtt_packet pkt;
    for (uint8_t ver = 3; ver <= 5; ver++) {
        buf_reset(&b);
        assert_int_equal(mqtt_encode_ping(&b, MQTT_PINGREQ), 0);
        assert_int_equal(mqtt_encode_ping(&b, MQTT_PINGRESP), 0);
        assert_int_equal(b.len, 4);
        dec_ok(b.data, 2, ver, &pkt);
        assert_int_equal(pkt.type, MQTT_PINGREQ);
        dec_ok(b.data + 2, 2, ver, &pkt);
        assert_int_equal(pkt.type, MQTT_PINGRESP);
        buf_reset(&b);
        assert_int_equal(mqtt_encode_disconnect(&b, ver, 0, NULL, 0), 0);
        assert_int_equal(b.len, 2);
        dec_ok(b.data, b.len, ver, &pkt);
        assert_int_equal(pkt.type, MQTT_DISCONNECT);
        buf_reset(&b);
        mqtt_prop_put_u32(&props, MQTT_PROP_SESSION_EXPIRY, 0);
        mqtt_prop_put_str(&props, MQTT_PROP_SERVER_REFERENCE, "other:1883", 10);
        mqtt_prop_put_str(&props, MQTT_PROP_REASON_STRING, "bye", 3);
        assert_int_equal(mqtt_encode_disconnect(&b, ver, MQTT_RC_USE_ANOTHER_SERVER, props.data, props.len), 0);
        dec_ok(b.data, b.len, ver, &pkt);
        if (ver == 5) {
            assert_int_equal(pkt.reason, MQTT_RC_USE_ANOTHER_SERVER);
            assert_true(MQTT_HAS(pkt.props, MQTT_PROP_SESSION_EXPIRY));
            assert_bytes(pkt.props.reason_string, "bye");
        } else {
            assert_int_equal(b.len, 2);
        }
        buf_reset(&b);
        assert_int_equal(mqtt_encode_disconnect(&b, ver, MQTT_RC_SERVER_SHUTTING_DOWN, NULL, 0), 0);
        assert_int_equal(b.len, ver == 5 ? 3 : 2);
        dec_ok(b.data, b.len, ver, &pkt);
        assert_int_equal(pkt.reason, ver == 5 ? MQTT_RC_SERVER_SHUTTING_DOWN : 0);
        buf_reset(&props);
    }
    /* AUTH (v5 only) */
    buf_reset(&b);
    assert_int_equal(mqtt_encode_auth(&b, 0, NULL, 0), 0);
    assert_int_equal(b.len, 2);
    dec_ok(b.data, b.len, 5, &pkt);
    buf_reset(&b);
    mqtt_prop_put_str(&props, MQTT_PROP_AUTH_METHOD, "SCRAM-SHA-1", 11);
    mqtt_prop_put_str(&props, MQTT_PROP_AUTH_DATA, "\x00\xff", 2);
    assert_int_equal(mqtt_encode_auth(&b, 0x18, props.data, props.len), 0);
    dec_ok(b.data, b.len, 5, &pkt);
    assert_int_equal(pkt.type, MQTT_AUTH);
    assert_int_equal(pkt.reason, 0x18);
    assert_bytes(pkt.props.auth_method, "SCRAM-SHA-1");
    buf_reset(&b);
    assert_int_equal(mqtt_encode_auth(&b, 0x19, NULL, 0), 0);
    dec_ok(b.data, b.len, 5, &pkt);
    assert_int_equal(pkt.reason, 0x19);
    assert_int_equal(mqtt_encode_ping(&b, MQTT_PUBLISH), -1);
    assert_int_equal(mqtt_encode_suback(&b, MQTT_PUBACK, 5, 1, NULL, 0, NULL, 0), -1);
    buf_free(&b);
    buf_free(&props);
}

/* several packets back to back are decoded one at a time */
static void test_stream(void **st) {
    (void)st;
    buf_t b;
    buf_init(&b);
    mqtt_connect_opts o = {.proto_level = 5, .client_id = "s"};
    static const char payload[64] = "xyz";
    mqtt_encode_connect(&b, &o);
    for (int i = 0; i < 50; i++)
        mqtt_encode_publish(&b, 5, (uint8_t)(i % 3), false, false, (uint16_t)(i + 1), "t", 1, NULL, 0, payload,
                            (size_t)i);
    mqtt_encode_ping(&b, MQTT_PINGREQ);
    mqtt_encode_disconnect(&b, 5, 0, NULL, 0);
    size_t off = 0, used;
    uint8_t ver = 0;
    int n = 0;
    mqtt_packet pkt;
    while (off < b.len) {
        int rc = mqtt_decode(b.data + off, b.len - off, ver, 0, &pkt, &used);
        assert_int_equal(rc, MQTT_OK);
        if (pkt.type == MQTT_CONNECT) ver = pkt.proto_level;
        off += used;
        n++;
    }
    assert_int_equal(n, 53);
    assert_int_equal(pkt.type, MQTT_DISCONNECT);
    buf_free(&b);
}

/* ------------------------------------------------------------------ rejections */

static void test_reject_fixed_header(void **st) {
    (void)st;
    /* reserved type 0; AUTH before v5 */
    MALF(4, 0x00, 0x00);
    MALF(4, 0xF0, 0x00);
    MALF(3, 0xF0, 0x00);
    /* wrong flag bits, every type */
    MALF(0, 0x11, 0x00);
    MALFB(4, 0x21, 0x00, 0x00);
    MALFB(4, 0x48, 0x00, 0x01);
    MALFB(4, 0x51, 0x00, 0x01);
    MALFB(4, 0x60, 0x00, 0x01);
    MALFB(4, 0x63, 0x00, 0x01);
    MALFB(4, 0x72, 0x00, 0x01);
    MALFB(4, 0x80, 0x00, 0x01, 0x00, 0x01, 'a', 0x00);
    MALFB(4, 0x83, 0x00, 0x01, 0x00, 0x01, 'a', 0x00);
    MALFB(4, 0x92, 0x00, 0x01, 0x00);
    MALFB(4, 0xA0, 0x00, 0x01, 0x00, 0x01, 'a');
    MALFB(4, 0xB4, 0x00, 0x01);
    MALF(4, 0xC1, 0x00);
    MALF(4, 0xD8, 0x00);
    MALF(4, 0xE2, 0x00);
    MALF(5, 0xF1, 0x00);
    /* PUBLISH QoS 3 and DUP on QoS 0 */
    MALFB(4, 0x36, 0x00, 0x01, 't', 0x00, 0x01);
    MALFB(5, 0x38, 0x00, 0x01, 't', 0x00);
    MALFB(3, 0x39, 0x00, 0x01, 't');
    /* first-byte errors are reported without waiting for more bytes */
    MALF(4, 0x36);
    /* before CONNECT only CONNECT is accepted */
    PROTOB(0, 0x30, 0x00, 0x01, 't');
    PROTO(0, 0xC0, 0x00);
    PROTO(0, 0xF0, 0x00);
    PROTO(0, 0x20);
    /* unknown connection version */
    dec_err(ARR(0xC0, 0x00), 6, MQTT_E_VERSION, MQTT_RC_UNSUPPORTED_VERSION);
    /* bodies that do not fit their packet */
    MALFB(4, 0xC0, 0x00);
    MALFB(4, 0xD0, 0x00);
    MALFB(4, 0xE0, 0x00);
    MALFB(4, 0x40, 0x00, 0x01, 0x00);
    MALFB(4, 0x40, 0x00);
    MALFB(5, 0x40, 0x00);
    MALFB(4, 0x20, 0x00, 0x00, 0x00);
    MALFB(4, 0x20, 0x00);
    MALFB(4, 0xB0, 0x00, 0x01, 0x00);
    MALFB(4, 0x30, 0x00);
    MALFB(4, 0x30, 0x00, 0x05, 'a', 'b');
    MALFB(4, 0x32, 0x00, 0x01, 'a', 0x00);
    MALFB(5, 0x30, 0x00, 0x01, 'a');          /* v5: property length missing */
    MALFB(5, 0x42, 0x00, 0x01, 0x00, 0x00, 0x00); /* flags checked before body */
}

static void test_reject_publish(void **st) {
    (void)st;
    /* packet id 0 */
    PROTOB(4, 0x32, 0x00, 0x01, 't', 0x00, 0x00);
    PROTOB(5, 0x34, 0x00, 0x01, 't', 0x00, 0x00, 0x00);
    /* empty topic: v4 always, v5 without a topic alias */
    PROTOB(4, 0x30, 0x00, 0x00, 'x');
    PROTOB(5, 0x30, 0x00, 0x00, 0x00);
    /* wildcards in the topic name: 0x90 */
    ERRB(4, MQTT_E_PROTOCOL, MQTT_RC_TOPIC_NAME_INVALID, 0x30, 0x00, 0x03, 'a', '/', '+');
    ERRB(5, MQTT_E_PROTOCOL, MQTT_RC_TOPIC_NAME_INVALID, 0x30, 0x00, 0x01, '#', 0x00);
    /* bad UTF-8 in the topic: NUL, surrogate, overlong, truncated, stray continuation, > U+10FFFF */
    MALFB(4, 0x30, 0x00, 0x02, 'a', 0x00);
    MALFB(4, 0x30, 0x00, 0x03, 0xED, 0xA0, 0x80);
    MALFB(4, 0x30, 0x00, 0x03, 0xED, 0xBF, 0xBF);
    MALFB(4, 0x30, 0x00, 0x02, 0xC0, 0x80);
    MALFB(4, 0x30, 0x00, 0x03, 0xE0, 0x80, 0x80);
    MALFB(4, 0x30, 0x00, 0x04, 0xF0, 0x80, 0x80, 0x80);
    MALFB(4, 0x30, 0x00, 0x02, 'a', 0xC3);
    MALFB(4, 0x30, 0x00, 0x01, 0x80);
    MALFB(4, 0x30, 0x00, 0x04, 0xF4, 0x90, 0x80, 0x80);
    MALFB(4, 0x30, 0x00, 0x01, 0xFF);
    MALFB(4, 0x30, 0x00, 0x0A, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 0x00);
    /* v5 properties: topic alias 0 is 0x94 */
    ERRB(5, MQTT_E_PROTOCOL, MQTT_RC_TOPIC_ALIAS_INVALID, 0x30, 0x00, 0x01, 't', 0x03, 0x23, 0x00, 0x00);
    /* property not allowed in PUBLISH; unknown id; id with a continuation bit */
    MALFB(5, 0x30, 0x00, 0x01, 't', 0x05, 0x11, 0x00, 0x00, 0x00, 0x01);
    MALFB(5, 0x30, 0x00, 0x01, 't', 0x02, 0x05, 0x00);
    MALFB(5, 0x30, 0x00, 0x01, 't', 0x02, 0x81, 0x00);
    MALFB(5, 0x30, 0x00, 0x01, 't', 0x02, 0x00, 0x00);
    /* property length beyond the packet; property cut short inside its block */
    MALFB(5, 0x30, 0x00, 0x01, 't', 0x05, 0x01);
    MALFB(5, 0x30, 0x00, 0x01, 't', 0x02, 0x02, 0x00, 0x00);
    /* non-minimal / 5-byte property length */
    MALFB(5, 0x30, 0x00, 0x01, 't', 0x80, 0x00);
    MALFB(5, 0x30, 0x00, 0x01, 't', 0x80, 0x80, 0x80, 0x80, 0x01);
    /* repeated single properties: protocol error; repeated user property / sub id: fine */
    PROTOB(5, 0x30, 0x00, 0x01, 't', 0x04, 0x01, 0x00, 0x01, 0x01);
    PROTOB(5, 0x30, 0x00, 0x01, 't', 0x0A, 0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 1);
    PROTOB(5, 0x30, 0x00, 0x01, 't', 0x06, 0x23, 0x00, 0x01, 0x23, 0x00, 0x01);
    mqtt_packet pkt;
    OKB(5, &pkt, 0x30, 0x00, 0x01, 't', 0x04, 0x0B, 0x01, 0x0B, 0x02);
    assert_int_equal(pkt.props.sub_id, 1);
    OKB(5, &pkt, 0x30, 0x00, 0x01, 't', 0x0C, 0x26, 0, 0, 0, 0, 0x26, 0, 1, 'a', 0, 1, 'b');
    /* bad property values */
    PROTOB(5, 0x30, 0x00, 0x01, 't', 0x02, 0x01, 0x02);          /* payload format 2 */
    PROTOB(5, 0x30, 0x00, 0x01, 't', 0x02, 0x0B, 0x00);          /* sub id 0 */
    PROTOB(5, 0x30, 0x00, 0x01, 't', 0x04, 0x08, 0x00, 0x01, '+'); /* wildcard response topic */
    PROTOB(5, 0x30, 0x00, 0x01, 't', 0x03, 0x08, 0x00, 0x00);    /* empty response topic */
    MALFB(5, 0x30, 0x00, 0x01, 't', 0x04, 0x03, 0x00, 0x01, 0x00); /* NUL in content type */
    MALFB(5, 0x30, 0x00, 0x01, 't', 0x07, 0x26, 0x00, 0x01, 'k', 0x00, 0x01, 0xC1); /* user prop value */
    MALFB(5, 0x30, 0x00, 0x01, 't', 0x07, 0x26, 0x00, 0x01, 0xC1, 0x00, 0x01, 'v'); /* user prop key */
    /* properties are payload at v4: the same bytes decode fine */
    OKB(4, &pkt, 0x30, 0x00, 0x01, 't', 0x02, 0x01, 0x02);
    assert_int_equal(pkt.payload.len, 3);
}

static void test_reject_acks(void **st) {
    (void)st;
    PROTOB(4, 0x40, 0x00, 0x00);
    PROTOB(5, 0x62, 0x00, 0x00);
    PROTOB(4, 0x50, 0x00, 0x00);
    PROTOB(4, 0x70, 0x00, 0x00);
    /* v3/v4 acks carry nothing after the packet id */
    MALFB(4, 0x40, 0x00, 0x01, 0x00);
    /* invalid reason codes per packet */
    PROTOB(5, 0x40, 0x00, 0x01, 0x92);
    PROTOB(5, 0x70, 0x00, 0x01, 0x10);
    PROTOB(5, 0x50, 0x00, 0x01, 0x01);
    PROTOB(5, 0x62, 0x00, 0x01, 0x80);
    /* properties not allowed in acks */
    MALFB(5, 0x40, 0x00, 0x01, 0x00, 0x02, 0x01, 0x00);
    /* reason string twice */
    PROTOB(5, 0x40, 0x00, 0x01, 0x00, 0x06, 0x1F, 0, 0, 0x1F, 0, 0);
    /* trailing byte after the properties */
    MALFB(5, 0x40, 0x00, 0x01, 0x00, 0x00, 0x00);
    /* SUBACK / UNSUBACK */
    PROTOB(4, 0x90, 0x00, 0x01);
    PROTOB(4, 0x90, 0x00, 0x01, 0x03);
    PROTOB(4, 0x90, 0x00, 0x00, 0x00);
    PROTOB(5, 0x90, 0x00, 0x01, 0x00, 0x11);
    PROTOB(5, 0xB0, 0x00, 0x01, 0x00, 0x01);
    PROTOB(5, 0xB0, 0x00, 0x01, 0x00);
    MALFB(5, 0x90, 0x00, 0x01, 0x02, 0x0B, 0x01, 0x00);
    /* CONNACK */
    MALFB(4, 0x20, 0x02, 0x00);
    PROTOB(4, 0x20, 0x00, 0x06);
    PROTOB(4, 0x20, 0x01, 0x05);                       /* session present with an error */
    PROTOB(5, 0x20, 0x01, 0x80, 0x00);                 /* session present with an error */
    PROTOB(5, 0x20, 0x00, 0x01, 0x00);                 /* 3.1.1 code in v5 */
    PROTOB(5, 0x20, 0x00, 0x00, 0x02, 0x24, 0x02);     /* maximum QoS 2 */
    PROTOB(5, 0x20, 0x00, 0x00, 0x02, 0x28, 0x02);     /* wildcard available 2 */
    PROTOB(5, 0x20, 0x00, 0x00, 0x05, 0x27, 0, 0, 0, 0); /* maximum packet size 0 */
    MALFB(5, 0x20, 0x00, 0x00, 0x01);
    MALFB(5, 0x20, 0x00, 0x00);                        /* property length missing */
    MALFB(5, 0x20, 0x00, 0x00, 0x02, 0x0B, 0x01);       /* sub id not allowed in CONNACK */
    /* DISCONNECT / AUTH */
    PROTOB(5, 0xE0, 0x01);
    PROTOB(5, 0xF0, 0x04);
    MALFB(5, 0xE0, 0x00, 0x02, 0x23, 0x00);
    MALFB(5, 0xE0, 0x00, 0x00, 0x00);
    MALFB(5, 0xF0, 0x18, 0x05, 0x11, 0, 0, 0, 1);
    PROTOB(5, 0xF0, 0x18, 0x04, 0x16, 0x00, 0x01, 'x'); /* auth data without method */
}

static void test_reject_subscribe(void **st) {
    (void)st;
    /* no entries */
    PROTOB(4, 0x82, 0x00, 0x01);
    PROTOB(5, 0x82, 0x00, 0x01, 0x00);
    PROTOB(4, 0xA2, 0x00, 0x01);
    PROTOB(5, 0xA2, 0x00, 0x01, 0x00);
    /* packet id 0 */
    PROTOB(4, 0x82, 0x00, 0x00, 0x00, 0x01, 'a', 0x00);
    PROTOB(4, 0xA2, 0x00, 0x00, 0x00, 0x01, 'a');
    /* options: reserved bits (v4: bits 2-7, v5: bits 6-7), QoS 3, retain handling 3 */
    MALFB(4, 0x82, 0x00, 0x01, 0x00, 0x01, 'a', 0x04);
    MALFB(3, 0x82, 0x00, 0x01, 0x00, 0x01, 'a', 0x80);
    MALFB(4, 0x82, 0x00, 0x01, 0x00, 0x01, 'a', 0x03);
    MALFB(5, 0x82, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x40);
    MALFB(5, 0x82, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x80);
    MALFB(5, 0x82, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x03);
    MALFB(5, 0x82, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x30);
    /* a bad second entry spoils the packet */
    MALFB(4, 0x82, 0x00, 0x01, 0x00, 0x01, 'a', 0x00, 0x00, 0x01, 'b', 0x07);
    mqtt_packet pkt;
    OKB(5, &pkt, 0x82, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x2E);
    /* No Local on a shared subscription is a protocol error (v5 only) */
    PROTOB(5, 0x82, 0x00, 0x01, 0x00, 0x00, 0x0A, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', 't', 0x04);
    OKB(5, &pkt, 0x82, 0x00, 0x01, 0x00, 0x00, 0x0A, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', 't', 0x01);
    OKB(4, &pkt, 0x82, 0x00, 0x01, 0x00, 0x0A, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', 't', 0x01);
    /* entry cut short: missing options byte; filter length beyond the packet */
    MALFB(4, 0x82, 0x00, 0x01, 0x00, 0x01, 'a');
    MALFB(4, 0x82, 0x00, 0x01, 0x00, 0x05, 'a', 0x00);
    MALFB(4, 0xA2, 0x00, 0x01, 0x00, 0x02, 'a');
    MALFB(4, 0xA2, 0x00, 0x01, 0x00);
    /* filter with bad UTF-8 */
    MALFB(4, 0x82, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00);
    MALFB(4, 0xA2, 0x00, 0x01, 0x00, 0x01, 0xFE);
    /* subscription identifier: once only, never 0, 5-byte varint malformed */
    PROTOB(5, 0x82, 0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B, 0x02, 0x00, 0x01, 'a', 0x00);
    PROTOB(5, 0x82, 0x00, 0x01, 0x02, 0x0B, 0x00, 0x00, 0x01, 'a', 0x00);
    MALFB(5, 0x82, 0x00, 0x01, 0x06, 0x0B, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x01, 'a', 0x00);
    OKB(5, &pkt, 0x82, 0x00, 0x01, 0x05, 0x0B, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x01, 'a', 0x00);
    assert_int_equal(pkt.props.sub_id, 268435455);
    /* SUBSCRIBE may not carry other properties; UNSUBSCRIBE only user properties */
    MALFB(5, 0x82, 0x00, 0x01, 0x03, 0x23, 0x00, 0x01, 0x00, 0x01, 'a', 0x00);
    MALFB(5, 0xA2, 0x00, 0x01, 0x02, 0x0B, 0x01, 0x00, 0x01, 'a');
    OKB(5, &pkt, 0xA2, 0x00, 0x01, 0x05, 0x26, 0, 0, 0, 0, 0x00, 0x01, 'a');
}

static void test_reject_connect(void **st) {
    (void)st;
    mqtt_packet pkt;
    /* base: v4, keep alive 10, client id "c" */
#define C4(flags, ...) 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, flags, 0x00, 0x0A, 0x00, 0x01, 'c'
    OKB(0, &pkt, C4(0x02));
    MALFB(0, C4(0x03));           /* reserved flag */
    MALFB(0, C4(0x08));           /* will QoS without will flag */
    MALFB(0, C4(0x20));           /* will retain without will flag */
    MALFB(0, C4(0x1C), 0x00, 0x01, 'w', 0x00, 0x00); /* will QoS 3 */
    MALFB(0, C4(0x40), 0x00, 0x01, 'p');              /* password without user name in 3.1.1 */
    MALFB(0, C4(0x80));           /* user name flag but no user name */
    MALFB(0, C4(0x04));           /* will flag but no will */
    MALFB(0, C4(0x04), 0x00, 0x01, 'w');              /* will payload missing */
    MALFB(0, C4(0xC0), 0x00, 0x01, 'u');              /* password missing */
    MALFB(0, C4(0x02), 'x');      /* trailing garbage */
    OKB(0, &pkt, C4(0xC0), 0x00, 0x01, 'u', 0x00, 0x00);
    assert_true(pkt.has_password);
    assert_int_equal(pkt.password.len, 0);
    OKB(0, &pkt, C4(0x04 | 0x10 | 0x20), 0x00, 0x01, 'w', 0x00, 0x00);
    assert_int_equal(pkt.will_qos, 2);
    /* password is binary: any bytes */
    OKB(0, &pkt, C4(0xC0), 0x00, 0x01, 'u', 0x00, 0x02, 0x00, 0xFF);
    /* protocol name and level */
    PROTOB(0, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'X', 0x04, 0x02, 0x00, 0x0A, 0x00, 0x01, 'c');
    PROTOB(0, 0x10, 0x00, 0x03, 'M', 'Q', 'T', 0x04, 0x02, 0x00, 0x0A, 0x00, 0x01, 'c');
    PROTOB(0, 0x10, 0x00, 0x04, 'm', 'q', 't', 't', 0x04, 0x02, 0x00, 0x0A, 0x00, 0x01, 'c');
    ERRB(0, MQTT_E_VERSION, MQTT_RC_UNSUPPORTED_VERSION,
         0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x06, 0x02, 0x00, 0x0A, 0x00, 0x01, 'c');
    ERRB(0, MQTT_E_VERSION, MQTT_RC_UNSUPPORTED_VERSION,
         0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x03, 0x02, 0x00, 0x0A, 0x00, 0x01, 'c');
    ERRB(0, MQTT_E_VERSION, MQTT_RC_UNSUPPORTED_VERSION,
         0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x85, 0x02, 0x00, 0x0A, 0x00, 0x01, 'c');
    ERRB(0, MQTT_E_VERSION, MQTT_RC_UNSUPPORTED_VERSION,
         0x10, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x04, 0x02, 0x00, 0x0A, 0x00, 0x01, 'c');
    /* the version error reports the level the client asked for */
    size_t used;
    /* mosquitto's bridge bit on 3.1.1 is accepted as a bridge connection */
    assert_int_equal(mqtt_decode(VEC(0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x84, 0x02, 0x00, 0x0A, 0x00,
                                     0x01, 'c'), 0, 0, &pkt, &used), MQTT_OK);
    assert_true(pkt.bridge);
    assert_int_equal(pkt.proto_level, 4);
    assert_int_equal(mqtt_decode(VEC(0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x07, 0x02, 0x00, 0x0A, 0x00,
                                     0x01, 'c'), 0, 0, &pkt, &used), MQTT_E_VERSION);
    assert_int_equal(pkt.proto_level, 7);
    /* client id: NUL, bad UTF-8; user name: bad UTF-8 */
    MALFB(0, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x0A, 0x00, 0x01, 0x00);
    MALFB(0, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x0A, 0x00, 0x01, 0xC3);
    MALFB(0, C4(0x82), 0x00, 0x01, 0xED);
    /* will topic with wildcard, empty will topic: 0x90; bad UTF-8 will topic: malformed */
    ERRB(0, MQTT_E_PROTOCOL, MQTT_RC_TOPIC_NAME_INVALID, C4(0x06), 0x00, 0x01, '#', 0x00, 0x00);
    ERRB(0, MQTT_E_PROTOCOL, MQTT_RC_TOPIC_NAME_INVALID, C4(0x06), 0x00, 0x00, 0x00, 0x00);
    MALFB(0, C4(0x06), 0x00, 0x01, 0xC0, 0x00, 0x00);
    /* a second CONNECT on an open connection still decodes (the broker rejects it) */
    OKB(4, &pkt, C4(0x02));
    /* v5: CONNECT properties */
#define C5(plen, ...) 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x0A, plen, __VA_ARGS__, 0x00, 0x01, 'c'
    OKB(0, &pkt, C5(3, 0x21, 0x00, 0x01));
    assert_int_equal(pkt.props.receive_max, 1);
    PROTOB(0, C5(3, 0x21, 0x00, 0x00));                     /* receive max 0 */
    PROTOB(0, C5(5, 0x27, 0x00, 0x00, 0x00, 0x00));         /* max packet size 0 */
    PROTOB(0, C5(2, 0x17, 0x02));                           /* request problem info 2 */
    PROTOB(0, C5(2, 0x19, 0x05));                           /* request response info 5 */
    PROTOB(0, C5(10, 0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 1));  /* session expiry twice */
    PROTOB(0, C5(4, 0x16, 0x00, 0x01, 'x'));                /* auth data without method */
    PROTOB(0, C5(8, 0x15, 0x00, 0x01, 'x', 0x15, 0x00, 0x01, 'y')); /* auth method twice */
    MALFB(0, C5(3, 0x23, 0x00, 0x01));                      /* topic alias in CONNECT */
    MALFB(0, C5(2, 0x01, 0x00));                            /* payload format in CONNECT */
    MALFB(0, C5(4, 0x15, 0x00, 0x01, 0x00));                /* NUL in auth method */
    MALFB(0, C5(4, 0x11, 0x00, 0x00, 0x00));                /* truncated u32 */
    /* v5 will properties */
#define C5W(plen, ...) 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x06, 0x00, 0x0A, 0x00, 0x00, 0x01, 'c', \
        plen, __VA_ARGS__, 0x00, 0x01, 'w', 0x00, 0x01, 'p'
    OKB(0, &pkt, C5W(5, 0x18, 0x00, 0x00, 0x00, 0x09));
    assert_int_equal(pkt.will_props.will_delay, 9);
    assert_bytes(pkt.will_topic, "w");
    assert_bytes(pkt.will_payload, "p");
    OKB(0, &pkt, C5W(10, 0x26, 0, 0, 0, 0, 0x26, 0, 0, 0, 0));
    MALFB(0, C5W(5, 0x11, 0x00, 0x00, 0x00, 0x09));         /* session expiry in will */
    MALFB(0, C5W(3, 0x23, 0x00, 0x01));                     /* topic alias in will */
    MALFB(0, C5W(2, 0x0B, 0x01));                           /* sub id in will */
    PROTOB(0, C5W(4, 0x01, 0x01, 0x01, 0x01));              /* payload format twice */
    PROTOB(0, C5W(2, 0x01, 0x03));                          /* payload format 3 */
    MALFB(0, C5W(4, 0x03, 0x00, 0x01, 0xF8));               /* content type bad UTF-8 */
    PROTOB(0, C5W(4, 0x08, 0x00, 0x01, '#'));               /* wildcard response topic */
    /* v5 allows a password without a user name */
    OKB(0, &pkt, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x40, 0x00, 0x0A, 0x00, 0x00, 0x01, 'c', 0x00, 0x01, 'p');
    assert_true(pkt.has_password && !pkt.has_username);
}

/* ------------------------------------------------------------------ properties */

static void test_props_iterate(void **st) {
    (void)st;
    buf_t p;
    buf_init(&p);
    assert_int_equal(mqtt_prop_put_u8(&p, MQTT_PROP_PAYLOAD_FORMAT, 1), 0);
    assert_int_equal(mqtt_prop_put_u16(&p, MQTT_PROP_TOPIC_ALIAS, 0x1234), 0);
    assert_int_equal(mqtt_prop_put_u32(&p, MQTT_PROP_MESSAGE_EXPIRY, 0xDEADBEEF), 0);
    assert_int_equal(mqtt_prop_put_varint(&p, MQTT_PROP_SUBSCRIPTION_ID, 300), 0);
    assert_int_equal(mqtt_prop_put_str(&p, MQTT_PROP_CONTENT_TYPE, "text", 4), 0);
    assert_int_equal(mqtt_prop_put_str(&p, MQTT_PROP_CORRELATION_DATA, "\x00\x01\x02", 3), 0);
    assert_int_equal(mqtt_prop_put_pair(&p, MQTT_PROP_USER_PROPERTY, "key", 3, "value", 5), 0);
    assert_int_equal(mqtt_prop_put_varint(&p, MQTT_PROP_SUBSCRIPTION_ID, 268435456), -1);
    const uint8_t expect[] = {0x01, 0x01, 0x23, 0x12, 0x34, 0x02, 0xDE, 0xAD, 0xBE, 0xEF, 0x0B, 0xAC, 0x02,
                              0x03, 0x00, 0x04, 't', 'e', 'x', 't', 0x09, 0x00, 0x03, 0x00, 0x01, 0x02,
                              0x26, 0x00, 0x03, 'k', 'e', 'y', 0x00, 0x05, 'v', 'a', 'l', 'u', 'e'};
    assert_int_equal(p.len, sizeof expect);
    assert_memory_equal(p.data, expect, sizeof expect);
    mqtt_bytes it = {p.data, (uint32_t)p.len};
    uint8_t id;
    mqtt_prop v = {0};
    assert_int_equal(mqtt_props_next(&it, &id, &v), 1);
    assert_int_equal(id, 0x01);
    assert_int_equal(v.num, 1);
    assert_int_equal(mqtt_props_next(&it, &id, &v), 1);
    assert_int_equal(v.num, 0x1234);
    assert_int_equal(mqtt_props_next(&it, &id, &v), 1);
    assert_int_equal(v.num, 0xDEADBEEF);
    assert_int_equal(mqtt_props_next(&it, &id, &v), 1);
    assert_int_equal(id, MQTT_PROP_SUBSCRIPTION_ID);
    assert_int_equal(v.num, 300);
    assert_int_equal(mqtt_props_next(&it, &id, &v), 1);
    assert_bytes(v.str, "text");
    assert_int_equal(mqtt_props_next(&it, &id, &v), 1);
    assert_int_equal(v.str.len, 3);
    assert_int_equal(mqtt_props_next(&it, &id, &v), 1);
    assert_int_equal(id, MQTT_PROP_USER_PROPERTY);
    assert_bytes(v.str, "key");
    assert_bytes(v.str2, "value");
    assert_int_equal(mqtt_props_next(&it, &id, &v), 0);
    assert_int_equal(mqtt_props_next(&it, &id, &v), 0);
    /* malformed blocks: every truncation of the block fails, as do unknown ids */
    for (size_t cut = 1; cut < p.len; cut++) {
        uint8_t *part = malloc(cut);
        memcpy(part, p.data, cut);
        mqtt_bytes t = {part, (uint32_t)cut};
        int r;
        while ((r = mqtt_props_next(&t, &id, &v)) == 1) {}
        bool boundary = cut == 2 || cut == 5 || cut == 10 || cut == 13 || cut == 20 || cut == 26;
        assert_int_equal(r, boundary ? 0 : -1);
        free(part);
    }
    mqtt_bytes bad = {(const uint8_t *)"\x05\x00", 2};
    assert_int_equal(mqtt_props_next(&bad, &id, &v), -1);
    bad = (mqtt_bytes){(const uint8_t *)"\x0B\xFF\xFF\xFF\xFF\x01", 6};
    assert_int_equal(mqtt_props_next(&bad, &id, &v), -1);
    buf_free(&p);
}

static void test_props_forwardable(void **st) {
    (void)st;
    buf_t p, out;
    buf_init(&p);
    buf_init(&out);
    mqtt_prop_put_u16(&p, MQTT_PROP_TOPIC_ALIAS, 4);
    mqtt_prop_put_pair(&p, MQTT_PROP_USER_PROPERTY, "b", 1, "2", 1);
    mqtt_prop_put_u32(&p, MQTT_PROP_MESSAGE_EXPIRY, 60);
    mqtt_prop_put_str(&p, MQTT_PROP_RESPONSE_TOPIC, "re/sp", 5);
    mqtt_prop_put_varint(&p, MQTT_PROP_SUBSCRIPTION_ID, 9);
    mqtt_prop_put_u8(&p, MQTT_PROP_PAYLOAD_FORMAT, 1);
    mqtt_prop_put_str(&p, MQTT_PROP_CORRELATION_DATA, "id", 2);
    mqtt_prop_put_str(&p, MQTT_PROP_CONTENT_TYPE, "a/b", 3);
    mqtt_prop_put_pair(&p, MQTT_PROP_USER_PROPERTY, "a", 1, "1", 1);
    buf_t want;
    buf_init(&want);
    mqtt_prop_put_pair(&want, MQTT_PROP_USER_PROPERTY, "b", 1, "2", 1);
    mqtt_prop_put_str(&want, MQTT_PROP_RESPONSE_TOPIC, "re/sp", 5);
    mqtt_prop_put_u8(&want, MQTT_PROP_PAYLOAD_FORMAT, 1);
    mqtt_prop_put_str(&want, MQTT_PROP_CORRELATION_DATA, "id", 2);
    mqtt_prop_put_str(&want, MQTT_PROP_CONTENT_TYPE, "a/b", 3);
    mqtt_prop_put_pair(&want, MQTT_PROP_USER_PROPERTY, "a", 1, "1", 1);
    buf_put_u8(&out, 0xAA); /* appends after existing content */
    assert_int_equal(mqtt_props_forwardable((mqtt_bytes){p.data, (uint32_t)p.len}, &out), 0);
    assert_int_equal(out.len, 1 + want.len);
    assert_memory_equal(out.data + 1, want.data, want.len);
    /* through a decoded PUBLISH: forwardable props re-encode to a valid PUBLISH */
    buf_t pub;
    buf_init(&pub);
    assert_int_equal(mqtt_encode_publish(&pub, 5, 1, false, false, 3, "t", 1, p.data, p.len, "x", 1), 0);
    mqtt_packet pkt;
    dec_ok(pub.data, pub.len, 5, &pkt);
    buf_reset(&out);
    assert_int_equal(mqtt_props_forwardable(pkt.props.raw, &out), 0);
    assert_int_equal(out.len, want.len);
    /* nothing to forward; empty block; malformed block */
    buf_reset(&out);
    buf_reset(&p);
    mqtt_prop_put_u16(&p, MQTT_PROP_TOPIC_ALIAS, 4);
    assert_int_equal(mqtt_props_forwardable((mqtt_bytes){p.data, (uint32_t)p.len}, &out), 0);
    assert_int_equal(out.len, 0);
    assert_int_equal(mqtt_props_forwardable((mqtt_bytes){NULL, 0}, &out), 0);
    assert_int_equal(mqtt_props_forwardable((mqtt_bytes){(const uint8_t *)"\x26\x00", 2}, &out), -1);
    buf_free(&p);
    buf_free(&out);
    buf_free(&want);
    buf_free(&pub);
}

static void test_type_name(void **st) {
    (void)st;
    assert_string_equal(mqtt_type_name(MQTT_CONNECT), "CONNECT");
    assert_string_equal(mqtt_type_name(MQTT_PUBLISH), "PUBLISH");
    assert_string_equal(mqtt_type_name(MQTT_UNSUBACK), "UNSUBACK");
    assert_string_equal(mqtt_type_name(MQTT_AUTH), "AUTH");
    assert_string_equal(mqtt_type_name(0), "?");
    assert_string_equal(mqtt_type_name(16), "?");
    assert_string_equal(mqtt_type_name(255), "?");
}

static void test_encode_limits(void **st) {
    (void)st;
    buf_t b;
    buf_init(&b);
    static char big[70000];
    memset(big, 'a', sizeof big - 1);
    assert_int_equal(mqtt_encode_publish(&b, 4, 3, false, false, 1, "t", 1, NULL, 0, NULL, 0), -1);
    assert_int_equal(mqtt_encode_publish(&b, 4, 0, false, false, 0, big, 65536, NULL, 0, NULL, 0), -1);
    assert_int_equal(mqtt_encode_publish(&b, 4, 0, false, false, 0, big, 65535, NULL, 0, NULL, 0), 0);
    mqtt_packet pkt;
    size_t used;
    assert_int_equal(mqtt_decode(b.data, b.len, 4, 0, &pkt, &used), MQTT_OK);
    assert_int_equal(pkt.topic.len, 65535);
    buf_reset(&b);
    assert_int_equal(mqtt_encode_publish(&b, 5, 0, false, false, 0, "t", 1, NULL, 0, big, 268435455), -1);
    mqtt_connect_opts o = {.proto_level = 6, .client_id = "c"};
    assert_int_equal(mqtt_encode_connect(&b, &o), -1);
    o.proto_level = 4;
    o.client_id = big;
    assert_int_equal(mqtt_encode_connect(&b, &o), -1);
    const char *filters[] = {big};
    assert_int_equal(mqtt_encode_subscribe(&b, 4, 1, filters, NULL, 1, NULL, 0), -1);
    assert_int_equal(mqtt_prop_put_str(&b, MQTT_PROP_CONTENT_TYPE, big, 65536), -1);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_capture_v31),
        cmocka_unit_test(test_capture_v5),
        cmocka_unit_test(test_capture_subscribe),
        cmocka_unit_test(test_spec_vectors),
        cmocka_unit_test(test_roundtrip_connect),
        cmocka_unit_test(test_roundtrip_connack),
        cmocka_unit_test(test_roundtrip_publish),
        cmocka_unit_test(test_roundtrip_acks),
        cmocka_unit_test(test_roundtrip_subscribe),
        cmocka_unit_test(test_roundtrip_misc),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_reject_fixed_header),
        cmocka_unit_test(test_reject_publish),
        cmocka_unit_test(test_reject_acks),
        cmocka_unit_test(test_reject_subscribe),
        cmocka_unit_test(test_reject_connect),
        cmocka_unit_test(test_props_iterate),
        cmocka_unit_test(test_props_forwardable),
        cmocka_unit_test(test_type_name),
        cmocka_unit_test(test_encode_limits),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    print_message("codec checks: %d decode vectors\n", check_count);
    return rc;
}
