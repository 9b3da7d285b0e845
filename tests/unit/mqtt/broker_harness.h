/* tests/unit/mqtt/broker_harness: a fake host for the sans-I/O broker engine, shared by the broker
 * and store tests. Each fake connection collects what the broker writes; a close only marks it, and
 * the harness then calls mqtt_broker_closed() after the engine call returns, as a real host would.
 * Client packets are built with the codec's encoders and the broker's output is read back with
 * mqtt_decode(). Header-only (static functions) since each test file is its own executable. */
#ifndef TE_TEST_BROKER_HARNESS_H
#define TE_TEST_BROKER_HARNESS_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "base/buf.h"
#include "base/log.h"
#include "mqtt/broker.h"
#include "mqtt/codec.h"

#define H_MAX_CONNS 32
#define H_FN static inline __attribute__((unused))

typedef struct tconn {
    int idx;
    uint8_t ver;
    mqtt_client *c;   /* NULL once the broker was told the transport is gone */
    bool closed;      /* io->close was called */
    buf_t out;        /* everything the broker wrote */
    size_t rpos;      /* read position in out */
    buf_t last;       /* bytes of the last packet read (the views of `pkt` point here) */
    mqtt_packet pkt;
    uint16_t next_pid;
    size_t pending;   /* what io->pending reports */
    int paused;       /* io->pause state */
    bool fail_writes; /* io->write reports the transport gone */
    int writes_failed;
} tconn;

typedef struct world {
    mqtt_broker *b;
    mqtt_broker_conf conf;
    tconn conns[H_MAX_CONNS];
    int n;
    uint64_t now;
} world;

H_FN int h_write(void *ud, void *conn, const uint8_t *p, size_t n) {
    (void)ud;
    tconn *t = conn;
    assert_false(t->closed); /* the engine never writes after closing */
    if (t->fail_writes) { t->writes_failed++; return -1; }
    return buf_append(&t->out, p, n);
}
H_FN void h_close(void *ud, void *conn) {
    (void)ud;
    tconn *t = conn;
    assert_false(t->closed); /* closed once */
    t->closed = true;
}
H_FN size_t h_pending(void *ud, void *conn) { (void)ud; return ((tconn *)conn)->pending; }
H_FN void h_pause(void *ud, void *conn, bool paused) { (void)ud; ((tconn *)conn)->paused = paused; }

static const mqtt_broker_io h_io = {NULL, h_write, h_close, h_pending, h_pause};

H_FN void w_conf_defaults(mqtt_broker_conf *c) {
    mqtt_broker_conf_defaults(c);
    c->sys_interval_s = 0; /* tests that want $SYS turn it on */
}

H_FN world *w_new(const mqtt_broker_conf *conf) {
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    if (conf) w->conf = *conf;
    else w_conf_defaults(&w->conf);
    w->now = 1000000;
    w->b = mqtt_broker_new(&w->conf, &h_io);
    assert_non_null(w->b);
    return w;
}

/* tell the broker about every transport it asked to close */
H_FN void w_reap(world *w) {
    for (int i = 0; i < w->n; i++) {
        tconn *t = &w->conns[i];
        if (t->closed && t->c) {
            mqtt_client *c = t->c;
            t->c = NULL;
            mqtt_broker_closed(w->b, c, w->now);
        }
    }
}

H_FN void w_free_conns(world *w) {
    for (int i = 0; i < w->n; i++) {
        tconn *t = &w->conns[i];
        if (t->c) { mqtt_client *c = t->c; t->c = NULL; t->closed = true; mqtt_broker_closed(w->b, c, w->now); }
        buf_free(&t->out);
        buf_free(&t->last);
    }
    w->n = 0;
}

H_FN void w_free(world *w) {
    w_free_conns(w);
    mqtt_broker_free(w->b);
    free(w);
}

H_FN void w_tick(world *w, uint64_t advance_ms) {
    w->now += advance_ms;
    mqtt_broker_tick(w->b, w->now);
    w_reap(w);
}

/* advance time in steps of `step` ms, ticking each time */
H_FN void w_run(world *w, uint64_t total_ms, uint64_t step) {
    for (uint64_t t = 0; t < total_ms; t += step) w_tick(w, step);
}

H_FN tconn *t_accept(world *w) {
    assert_true(w->n < H_MAX_CONNS);
    tconn *t = &w->conns[w->n];
    memset(t, 0, sizeof *t);
    t->idx = w->n++;
    t->next_pid = 1;
    buf_init(&t->out);
    buf_init(&t->last);
    t->c = mqtt_broker_accept(w->b, t, "127.0.0.1:1", NULL, w->now);
    assert_non_null(t->c);
    return t;
}

H_FN int t_input(world *w, tconn *t, const void *p, size_t n) {
    assert_non_null(t->c);
    int r = mqtt_broker_input(w->b, t->c, p, n, w->now);
    w_reap(w);
    return r;
}
H_FN int t_send(world *w, tconn *t, buf_t *pkt) {
    int r = t_input(w, t, pkt->data, pkt->len);
    buf_free(pkt);
    return r;
}

/* the peer goes away (no DISCONNECT) */
H_FN void t_drop(world *w, tconn *t) {
    if (!t->c) return;
    mqtt_client *c = t->c;
    t->c = NULL;
    t->closed = true;
    mqtt_broker_closed(w->b, c, w->now);
}

/* Next packet the broker wrote, or NULL when there is none (asserts that it decodes). */
H_FN mqtt_packet *t_next(tconn *t) {
    if (t->rpos >= t->out.len) return NULL;
    mqtt_packet p;
    size_t used = 0;
    int r = mqtt_decode(t->out.data + t->rpos, t->out.len - t->rpos, t->ver ? t->ver : 4, 0, &p, &used);
    if (r != MQTT_OK) fail_msg("conn %d: broker output does not decode: r=%d reason=0x%02x", t->idx, r, p.reason);
    buf_reset(&t->last);
    buf_append(&t->last, t->out.data + t->rpos, used);
    t->rpos += used;
    r = mqtt_decode(t->last.data, t->last.len, t->ver ? t->ver : 4, 0, &t->pkt, &used);
    assert_int_equal(r, MQTT_OK);
    return &t->pkt;
}

H_FN mqtt_packet *t_expect(tconn *t, uint8_t type) {
    mqtt_packet *p = t_next(t);
    if (!p) fail_msg("conn %d: expected %s, got nothing", t->idx, mqtt_type_name(type));
    if (p->type != type) fail_msg("conn %d: expected %s, got %s", t->idx, mqtt_type_name(type), mqtt_type_name(p->type));
    return p;
}

H_FN void t_none(tconn *t) {
    mqtt_packet *p = t_next(t);
    if (p) fail_msg("conn %d: expected no output, got %s", t->idx, mqtt_type_name(p->type));
}

H_FN int t_count(tconn *t, uint8_t type) {
    int n = 0;
    mqtt_packet *p;
    while ((p = t_next(t))) n += p->type == type;
    return n;
}

H_FN bool bytes_eq(mqtt_bytes b, const char *s) { return b.len == strlen(s) && !memcmp(b.p, s, b.len); }

H_FN mqtt_packet *t_expect_pub(tconn *t, const char *topic, const char *payload, uint8_t qos) {
    mqtt_packet *p = t_expect(t, MQTT_PUBLISH);
    if (topic && !bytes_eq(p->topic, topic))
        fail_msg("conn %d: PUBLISH topic '%.*s', expected '%s'", t->idx, (int)p->topic.len, p->topic.p, topic);
    if (payload && !bytes_eq(p->payload, payload))
        fail_msg("conn %d: PUBLISH payload '%.*s', expected '%s'", t->idx, (int)p->payload.len, p->payload.p, payload);
    assert_int_equal(p->qos, qos);
    return p;
}

/* a v5 property from a decoded block; 1 when found */
H_FN int prop_find(mqtt_bytes raw, uint8_t want, int nth, mqtt_prop *out) {
    mqtt_bytes it = raw;
    uint8_t id;
    mqtt_prop pr = {0};
    while (mqtt_props_next(&it, &id, &pr) == 1)
        if (id == want && nth-- == 0) { *out = pr; return 1; }
    return 0;
}

/* ---- client packets ---- */

typedef struct copts {
    const char *id;
    bool clean;
    uint16_t keepalive;
    uint32_t session_expiry;       /* v5 property when != 0 */
    uint16_t receive_max;          /* v5 property when != 0 */
    uint16_t alias_max;            /* v5 property when != 0 */
    uint32_t max_packet;           /* v5 property when != 0 */
    const char *will_topic, *will_payload;
    uint8_t will_qos;
    bool will_retain;
    uint32_t will_delay;           /* v5 will property when != 0 */
    uint32_t will_expiry;          /* v5 will property when != 0 */
    const char *user, *pass;
} copts;

H_FN void enc_connect(buf_t *out, uint8_t ver, const copts *o) {
    buf_t pr, wpr;
    buf_init(&pr);
    buf_init(&wpr);
    if (ver == 5) {
        if (o->session_expiry) mqtt_prop_put_u32(&pr, MQTT_PROP_SESSION_EXPIRY, o->session_expiry);
        if (o->receive_max) mqtt_prop_put_u16(&pr, MQTT_PROP_RECEIVE_MAX, o->receive_max);
        if (o->alias_max) mqtt_prop_put_u16(&pr, MQTT_PROP_TOPIC_ALIAS_MAX, o->alias_max);
        if (o->max_packet) mqtt_prop_put_u32(&pr, MQTT_PROP_MAX_PACKET_SIZE, o->max_packet);
        if (o->will_delay) mqtt_prop_put_u32(&wpr, MQTT_PROP_WILL_DELAY, o->will_delay);
        if (o->will_expiry) mqtt_prop_put_u32(&wpr, MQTT_PROP_MESSAGE_EXPIRY, o->will_expiry);
    }
    mqtt_connect_opts co = {0};
    co.proto_level = ver;
    co.clean_start = o->clean;
    co.keep_alive = o->keepalive;
    co.client_id = o->id ? o->id : "";
    co.username = o->user;
    co.password = o->pass;
    co.will_topic = o->will_topic;
    co.will_payload = o->will_payload;
    co.will_payload_len = o->will_payload ? strlen(o->will_payload) : 0;
    co.will_qos = o->will_qos;
    co.will_retain = o->will_retain;
    co.props = pr.data;
    co.props_len = pr.len;
    co.will_props = wpr.data;
    co.will_props_len = wpr.len;
    assert_int_equal(mqtt_encode_connect(out, &co), 0);
    buf_free(&pr);
    buf_free(&wpr);
}

/* connect on a new transport and return it; the CONNACK is left unread */
H_FN tconn *t_open(world *w, uint8_t ver, const copts *o) {
    tconn *t = t_accept(w);
    t->ver = ver;
    buf_t b;
    buf_init(&b);
    enc_connect(&b, ver, o);
    t_send(w, t, &b);
    return t;
}

/* connect, expect a successful CONNACK with the given session-present flag (-1: don't care) */
H_FN tconn *t_conn_ex(world *w, uint8_t ver, const copts *o, int present) {
    tconn *t = t_open(w, ver, o);
    mqtt_packet *p = t_expect(t, MQTT_CONNACK);
    assert_int_equal(p->reason, 0);
    if (present >= 0) assert_int_equal(p->session_present, present);
    return t;
}

/* the common case: clean or persistent (v5: expiry given; v4: clean = expiry == 0) */
H_FN tconn *t_conn(world *w, uint8_t ver, const char *id, uint32_t expiry) {
    copts o = {.id = id, .clean = expiry == 0, .session_expiry = expiry};
    return t_conn_ex(w, ver, &o, -1);
}

H_FN uint16_t t_pid(tconn *t) {
    uint16_t p = t->next_pid++;
    if (!t->next_pid) t->next_pid = 1;
    return p;
}

/* SUBSCRIBE one filter; returns the SUBACK code */
H_FN int t_sub_ex(world *w, tconn *t, const char *filter, uint8_t opts, uint32_t subid) {
    buf_t b, pr;
    buf_init(&b);
    buf_init(&pr);
    if (t->ver == 5 && subid) mqtt_prop_put_varint(&pr, MQTT_PROP_SUBSCRIPTION_ID, subid);
    const char *fs[1] = {filter};
    uint16_t pid = t_pid(t);
    assert_int_equal(mqtt_encode_subscribe(&b, t->ver, pid, fs, &opts, 1, pr.data, pr.len), 0);
    buf_free(&pr);
    t_send(w, t, &b);
    mqtt_packet *p = t_expect(t, MQTT_SUBACK);
    assert_int_equal(p->packet_id, pid);
    assert_int_equal(p->entries.len, 1);
    return p->entries.p[0];
}
H_FN int t_sub(world *w, tconn *t, const char *filter, uint8_t qos) {
    int rc = t_sub_ex(w, t, filter, qos, 0);
    assert_int_equal(rc, qos);
    return rc;
}

H_FN int t_unsub(world *w, tconn *t, const char *filter) {
    buf_t b;
    buf_init(&b);
    const char *fs[1] = {filter};
    uint16_t pid = t_pid(t);
    assert_int_equal(mqtt_encode_unsubscribe(&b, t->ver, pid, fs, 1, NULL, 0), 0);
    t_send(w, t, &b);
    mqtt_packet *p = t_expect(t, MQTT_UNSUBACK);
    assert_int_equal(p->packet_id, pid);
    return t->ver == 5 ? p->entries.p[0] : 0;
}

/* PUBLISH; returns the packet id used (0 for QoS 0). Acks are left unread. */
H_FN uint16_t t_pub_ex(world *w, tconn *t, const char *topic, const void *payload, size_t len, uint8_t qos,
                         bool retain, const buf_t *props) {
    buf_t b;
    buf_init(&b);
    uint16_t pid = qos ? t_pid(t) : 0;
    assert_int_equal(mqtt_encode_publish(&b, t->ver, qos, retain, false, pid, topic, strlen(topic),
                                         props ? props->data : NULL, props ? props->len : 0, payload, len),
                     0);
    t_send(w, t, &b);
    return pid;
}
H_FN uint16_t t_pub(world *w, tconn *t, const char *topic, const char *payload, uint8_t qos, bool retain) {
    return t_pub_ex(w, t, topic, payload, strlen(payload), qos, retain, NULL);
}

H_FN void t_ack(world *w, tconn *t, uint8_t type, uint16_t pid) {
    buf_t b;
    buf_init(&b);
    assert_int_equal(mqtt_encode_ack(&b, type, t->ver, pid, 0, NULL, 0), 0);
    t_send(w, t, &b);
}

/* publish and complete the publisher side of the exchange (PUBACK, or PUBREC/PUBREL/PUBCOMP) */
H_FN void t_pub_done(world *w, tconn *t, const char *topic, const char *payload, uint8_t qos, bool retain) {
    uint16_t pid = t_pub(w, t, topic, payload, qos, retain);
    if (qos == 1) {
        mqtt_packet *p = t_expect(t, MQTT_PUBACK);
        assert_int_equal(p->packet_id, pid);
    } else if (qos == 2) {
        mqtt_packet *p = t_expect(t, MQTT_PUBREC);
        assert_int_equal(p->packet_id, pid);
        t_ack(w, t, MQTT_PUBREL, pid);
        p = t_expect(t, MQTT_PUBCOMP);
        assert_int_equal(p->packet_id, pid);
    }
}

/* the subscriber side: acknowledge a received PUBLISH completely */
H_FN void t_pub_ack(world *w, tconn *t, uint8_t qos, uint16_t pid) {
    if (qos == 1) {
        t_ack(w, t, MQTT_PUBACK, pid);
    } else if (qos == 2) {
        t_ack(w, t, MQTT_PUBREC, pid);
        mqtt_packet *p = t_expect(t, MQTT_PUBREL);
        assert_int_equal(p->packet_id, pid);
        t_ack(w, t, MQTT_PUBCOMP, pid);
    }
}

H_FN void t_disconnect(world *w, tconn *t, uint8_t rc, const buf_t *props) {
    buf_t b;
    buf_init(&b);
    assert_int_equal(mqtt_encode_disconnect(&b, t->ver, rc, props ? props->data : NULL, props ? props->len : 0), 0);
    t_send(w, t, &b);
    assert_true(t->closed);
    assert_null(t->c);
}

/* the broker closed this connection; for v5 with a DISCONNECT carrying `rc` (-1: no check) */
H_FN void t_expect_closed(tconn *t, int rc) {
    if (t->ver == 5 && rc >= 0) {
        mqtt_packet *p = t_expect(t, MQTT_DISCONNECT);
        if (p->reason != rc) fail_msg("conn %d: DISCONNECT 0x%02x, expected 0x%02x", t->idx, p->reason, rc);
    }
    t_none(t);
    assert_true(t->closed);
    assert_null(t->c);
}
#endif
