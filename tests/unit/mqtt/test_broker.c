/* tests/unit/mqtt/test_broker: the sans-I/O MQTT broker engine driven through a fake host
 * (broker_harness.h): CONNECT/CONNACK rules, QoS 0/1/2 flows, subscriptions and their v5 options,
 * retained messages, shared subscriptions, wills and will delay, sessions (take-over, persistence,
 * redelivery, in-flight window, expiry), timers, topic aliases, limits, back-pressure, internal
 * subscribers, $SYS, and the auth / ACL hooks. Most tests run for MQTT 3.1.1 and 5.0. */
#include "broker_harness.h"

#define BOTH(fn)                                                                                             \
    static void fn##_v4(void **st) { (void)st; fn(4); }                                                     \
    static void fn##_v5(void **st) { (void)st; fn(5); }
#define T2(fn) cmocka_unit_test(fn##_v4), cmocka_unit_test(fn##_v5)

/* ------------------------------------------------------------------ CONNECT / CONNACK */

static void connect_session_present(uint8_t ver) {
    world *w = w_new(NULL);
    copts o = {.id = "p1", .clean = false, .session_expiry = 100};
    tconn *a = t_conn_ex(w, ver, &o, 0);
    t_disconnect(w, a, 0, NULL);
    a = t_conn_ex(w, ver, &o, 1); /* the session was kept */
    t_disconnect(w, a, 0, NULL);
    o.clean = true;
    a = t_conn_ex(w, ver, &o, 0); /* clean start discards it */
    t_disconnect(w, a, 0, NULL);
    /* a clean (3.1.1) / expiry 0 (v5) session does not survive */
    copts c = {.id = "c1", .clean = true};
    a = t_conn_ex(w, ver, &c, 0);
    t_disconnect(w, a, 0, NULL);
    c.clean = false;
    c.session_expiry = ver == 5 ? 0 : 0;
    a = t_conn_ex(w, ver, &c, 0);
    t_none(a);
    w_free(w);
}
BOTH(connect_session_present)

static void test_connect_assigned_id_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    copts o = {.id = "", .clean = true};
    tconn *a = t_open(w, 5, &o);
    mqtt_packet *p = t_expect(a, MQTT_CONNACK);
    assert_int_equal(p->reason, 0);
    mqtt_prop pr = {0};
    assert_int_equal(prop_find(p->props.raw, MQTT_PROP_ASSIGNED_CLIENT_ID, 0, &pr), 1);
    assert_true(pr.str.len > 0);
    char id[64];
    snprintf(id, sizeof id, "%.*s", (int)pr.str.len, pr.str.p);
    /* two clients get different identifiers */
    tconn *b = t_open(w, 5, &o);
    p = t_expect(b, MQTT_CONNACK);
    assert_int_equal(prop_find(p->props.raw, MQTT_PROP_ASSIGNED_CLIENT_ID, 0, &pr), 1);
    assert_false(bytes_eq(pr.str, id));
    assert_false(a->closed);
    w_free(w);
}

static void test_connect_empty_id_v4(void **st) {
    (void)st;
    world *w = w_new(NULL);
    copts o = {.id = "", .clean = true};
    tconn *a = t_open(w, 4, &o);
    mqtt_packet *p = t_expect(a, MQTT_CONNACK);
    assert_int_equal(p->reason, MQTT_V3_ACCEPTED);
    assert_false(a->closed);
    o.clean = false; /* MQTT-3.1.3-8: identifier rejected, then close */
    tconn *b = t_open(w, 4, &o);
    p = t_expect(b, MQTT_CONNACK);
    assert_int_equal(p->reason, MQTT_V3_ID_REJECTED);
    assert_false(p->session_present);
    assert_true(b->closed);
    t_none(b);
    w_free(w);
}

static void test_connect_bad_version(void **st) {
    (void)st;
    world *w = w_new(NULL);
    buf_t b;
    buf_init(&b);
    copts o = {.id = "x", .clean = true};
    enc_connect(&b, 4, &o);
    assert_int_equal(b.data[8], 4); /* protocol level */
    b.data[8] = 6;
    tconn *a = t_accept(w);
    a->ver = 4;
    t_send(w, a, &b);
    mqtt_packet *p = t_expect(a, MQTT_CONNACK);
    assert_int_equal(p->reason, MQTT_V3_BAD_VERSION);
    t_none(a);
    assert_true(a->closed);
    w_free(w);
}

static void second_connect(uint8_t ver) {
    world *w = w_new(NULL);
    tconn *a = t_conn(w, ver, "twice", 0);
    buf_t b;
    buf_init(&b);
    copts o = {.id = "twice", .clean = true};
    enc_connect(&b, ver, &o);
    t_send(w, a, &b);
    t_expect_closed(a, MQTT_RC_PROTOCOL_ERROR);
    /* ... also when that CONNECT carries an unsupported protocol level (found by the fuzzer:
     * the engine answered DISCONNECT 0x84, a code DISCONNECT may not carry) */
    a = t_conn(w, ver, "twice2", 0);
    buf_init(&b);
    enc_connect(&b, 4, &o);
    b.data[8] = 9;
    t_send(w, a, &b);
    t_expect_closed(a, MQTT_RC_PROTOCOL_ERROR);
    w_free(w);
}
BOTH(second_connect)

static void test_first_packet_not_connect(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *a = t_accept(w);
    buf_t b;
    buf_init(&b);
    mqtt_encode_ping(&b, MQTT_PINGREQ);
    t_send(w, a, &b);
    t_none(a);
    assert_true(a->closed);
    assert_null(a->c);
    /* a PUBLISH first, too */
    tconn *c = t_accept(w);
    c->ver = 4;
    t_pub(w, c, "a", "x", 0, false);
    t_none(c);
    assert_true(c->closed);
    w_free(w);
}

static void test_connect_byte_by_byte(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *a = t_accept(w);
    a->ver = 5;
    buf_t b;
    buf_init(&b);
    copts o = {.id = "slow", .clean = true, .session_expiry = 5};
    enc_connect(&b, 5, &o);
    const char *fs[1] = {"s/#"};
    uint8_t opt = 1;
    mqtt_encode_subscribe(&b, 5, 7, fs, &opt, 1, NULL, 0);
    mqtt_encode_ping(&b, MQTT_PINGREQ);
    for (size_t i = 0; i < b.len; i++) assert_int_equal(t_input(w, a, b.data + i, 1), 0);
    buf_free(&b);
    t_expect(a, MQTT_CONNACK);
    assert_int_equal(t_expect(a, MQTT_SUBACK)->packet_id, 7);
    t_expect(a, MQTT_PINGRESP);
    t_none(a);
    w_free(w);
}

/* ------------------------------------------------------------------ PUBLISH flows */

static void publish_qos_flows(uint8_t ver) {
    world *w = w_new(NULL);
    tconn *s = t_conn(w, ver, "sub", 0);
    tconn *p = t_conn(w, ver, "pub", 0);
    t_sub(w, s, "a/b", 2);

    t_pub(w, p, "a/b", "zero", 0, false);
    t_none(p);
    t_expect_pub(s, "a/b", "zero", 0);

    uint16_t pid = t_pub(w, p, "a/b", "one", 1, false);
    mqtt_packet *k = t_expect(p, MQTT_PUBACK);
    assert_int_equal(k->packet_id, pid);
    assert_int_equal(k->reason, 0);
    k = t_expect_pub(s, "a/b", "one", 1);
    uint16_t spid = k->packet_id;
    assert_false(k->dup);
    assert_false(k->retain);
    assert_int_equal(mqtt_broker_stats_get(w->b)->inflight_count, 1);
    t_ack(w, s, MQTT_PUBACK, spid);
    assert_int_equal(mqtt_broker_stats_get(w->b)->inflight_count, 0);

    pid = t_pub(w, p, "a/b", "two", 2, false);
    k = t_expect(p, MQTT_PUBREC);
    assert_int_equal(k->packet_id, pid);
    k = t_expect_pub(s, "a/b", "two", 2);
    spid = k->packet_id;
    /* a retransmission of the PUBLISH before PUBREL is not delivered twice */
    buf_t b;
    buf_init(&b);
    mqtt_encode_publish(&b, ver, 2, false, true, pid, "a/b", 3, NULL, 0, "two", 3);
    t_send(w, p, &b);
    assert_int_equal(t_expect(p, MQTT_PUBREC)->packet_id, pid);
    t_none(s);
    t_ack(w, p, MQTT_PUBREL, pid);
    assert_int_equal(t_expect(p, MQTT_PUBCOMP)->packet_id, pid);
    /* after PUBCOMP the id is free: the same id is a new message */
    t_ack(w, s, MQTT_PUBREC, spid);
    assert_int_equal(t_expect(s, MQTT_PUBREL)->packet_id, spid);
    t_ack(w, s, MQTT_PUBCOMP, spid);
    assert_int_equal(mqtt_broker_stats_get(w->b)->inflight_count, 0);
    t_none(s);
    t_none(p);

    /* QoS is downgraded to the subscription's */
    t_sub(w, s, "d/#", 1);
    t_pub_done(w, p, "d/x", "q2", 2, false);
    k = t_expect_pub(s, "d/x", "q2", 1);
    t_pub_ack(w, s, 1, k->packet_id);
    t_none(s);
    w_free(w);
}
BOTH(publish_qos_flows)

static void test_publish_mixed_versions(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *s4 = t_conn(w, 4, "s4", 0);
    tconn *s5 = t_conn(w, 5, "s5", 0);
    tconn *p5 = t_conn(w, 5, "p5", 0);
    t_sub(w, s4, "m", 2);
    t_sub(w, s5, "m", 2);
    buf_t pr;
    buf_init(&pr);
    mqtt_prop_put_pair(&pr, MQTT_PROP_USER_PROPERTY, "k", 1, "v", 1);
    mqtt_prop_put_str(&pr, MQTT_PROP_CONTENT_TYPE, "text/plain", 10);
    t_pub_ex(w, p5, "m", "hi", 2, 1, false, &pr);
    buf_free(&pr);
    t_expect(p5, MQTT_PUBACK);
    mqtt_packet *k = t_expect_pub(s4, "m", "hi", 1);
    t_pub_ack(w, s4, 1, k->packet_id);
    k = t_expect_pub(s5, "m", "hi", 1);
    mqtt_prop v = {0};
    assert_int_equal(prop_find(k->props.raw, MQTT_PROP_USER_PROPERTY, 0, &v), 1);
    assert_true(bytes_eq(v.str, "k") && bytes_eq(v.str2, "v"));
    assert_int_equal(prop_find(k->props.raw, MQTT_PROP_CONTENT_TYPE, 0, &v), 1);
    t_pub_ack(w, s5, 1, k->packet_id);
    w_free(w);
}

static void test_puback_no_subscribers_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *p = t_conn(w, 5, "p", 0);
    t_pub(w, p, "nobody", "x", 1, false);
    assert_int_equal(t_expect(p, MQTT_PUBACK)->reason, MQTT_RC_NO_MATCHING_SUBSCRIBERS);
    w_free(w);
}

static void overlapping_one_copy(uint8_t ver) {
    world *w = w_new(NULL);
    tconn *s = t_conn(w, ver, "s", 0);
    tconn *p = t_conn(w, ver, "p", 0);
    t_sub(w, s, "a/+", 1);
    t_sub(w, s, "a/#", 2);
    t_sub(w, s, "a/b", 0);
    t_sub(w, s, "+/b", 0);
    t_pub_done(w, p, "a/b", "x", 2, false);
    mqtt_packet *k = t_expect_pub(s, "a/b", "x", 2);
    t_pub_ack(w, s, 2, k->packet_id);
    t_none(s);
    t_pub_done(w, p, "a/b", "y", 1, false);
    k = t_expect_pub(s, "a/b", "y", 1);
    t_pub_ack(w, s, 1, k->packet_id);
    t_none(s);
    /* after unsubscribing the QoS 2 one, the highest remaining is 1 */
    assert_int_equal(t_unsub(w, s, "a/#"), 0);
    t_pub_done(w, p, "a/b", "z", 2, false);
    k = t_expect_pub(s, "a/b", "z", 1);
    t_pub_ack(w, s, 1, k->packet_id);
    t_none(s);
    if (ver == 5) assert_int_equal(t_unsub(w, s, "never"), MQTT_RC_NO_SUBSCRIPTION_EXISTED);
    w_free(w);
}
BOTH(overlapping_one_copy)

static void test_subscription_ids_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *s = t_conn(w, 5, "s", 0);
    tconn *p = t_conn(w, 5, "p", 0);
    assert_int_equal(t_sub_ex(w, s, "a/+", 1, 5), 1);
    assert_int_equal(t_sub_ex(w, s, "a/#", 0, 7), 0);
    assert_int_equal(t_sub_ex(w, s, "a/b", 0, 0), 0);
    assert_int_equal(t_sub_ex(w, s, "x/#", 0, 9), 0);
    t_pub_done(w, p, "a/b", "x", 1, false);
    mqtt_packet *k = t_expect_pub(s, "a/b", "x", 1);
    mqtt_prop v = {0};
    uint32_t seen = 0;
    for (int i = 0; prop_find(k->props.raw, MQTT_PROP_SUBSCRIPTION_ID, i, &v); i++) seen |= 1u << v.num;
    assert_int_equal(seen, (1u << 5) | (1u << 7));
    t_pub_ack(w, s, 1, k->packet_id);
    t_none(s);
    /* a message matching only the id-less subscription carries none */
    t_sub_ex(w, s, "c", 0, 0);
    t_pub(w, p, "c", "y", 0, false);
    k = t_expect_pub(s, "c", "y", 0);
    assert_int_equal(prop_find(k->props.raw, MQTT_PROP_SUBSCRIPTION_ID, 0, &v), 0);
    w_free(w);
}

static void test_no_local_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *s = t_conn(w, 5, "s", 0);
    tconn *p = t_conn(w, 5, "p", 0);
    assert_int_equal(t_sub_ex(w, s, "nl", 0x04 | 1, 0), 1);
    t_pub_done(w, s, "nl", "mine", 1, false);
    t_none(s);
    t_pub_done(w, p, "nl", "theirs", 1, false);
    mqtt_packet *k = t_expect_pub(s, "nl", "theirs", 1);
    t_pub_ack(w, s, 1, k->packet_id);
    /* without no-local, own messages come back */
    t_sub_ex(w, p, "nl", 0, 0);
    t_pub(w, p, "nl", "echo", 0, false);
    t_expect_pub(p, "nl", "echo", 0);
    t_expect_pub(s, "nl", "echo", 0);
    w_free(w);
}

static void test_retain_as_published_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *s1 = t_conn(w, 5, "s1", 0);
    tconn *s2 = t_conn(w, 5, "s2", 0);
    tconn *p = t_conn(w, 5, "p", 0);
    t_sub_ex(w, s1, "r/#", 0x08, 0);
    t_sub_ex(w, s2, "r/#", 0, 0);
    t_pub(w, p, "r/x", "v", 0, true);
    assert_true(t_expect_pub(s1, "r/x", "v", 0)->retain);
    assert_false(t_expect_pub(s2, "r/x", "v", 0)->retain);
    t_pub(w, p, "r/y", "n", 0, false);
    assert_false(t_expect_pub(s1, "r/y", "n", 0)->retain);
    /* retained messages sent because of a subscription always carry retain */
    tconn *s3 = t_conn(w, 5, "s3", 0);
    t_sub_ex(w, s3, "r/x", 0, 0);
    assert_true(t_expect_pub(s3, "r/x", "v", 0)->retain);
    w_free(w);
}

static void test_retain_handling_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *p = t_conn(w, 5, "p", 0);
    tconn *s = t_conn(w, 5, "s", 0);
    t_pub(w, p, "rh/x", "kept", 0, true);
    /* RH 0: on every subscribe */
    t_sub_ex(w, s, "rh/#", 0x00, 0);
    t_expect_pub(s, "rh/x", "kept", 0);
    t_sub_ex(w, s, "rh/#", 0x00, 0);
    t_expect_pub(s, "rh/x", "kept", 0);
    t_none(s);
    /* RH 1: only when the subscription is new */
    t_sub_ex(w, s, "rh/+", 0x10, 0);
    t_expect_pub(s, "rh/x", "kept", 0);
    t_sub_ex(w, s, "rh/+", 0x10, 0);
    t_none(s);
    /* RH 2: never */
    t_sub_ex(w, s, "+/x", 0x20, 0);
    t_none(s);
    w_free(w);
}

static void retained_messages(uint8_t ver) {
    world *w = w_new(NULL);
    tconn *p = t_conn(w, ver, "p", 0);
    t_pub_done(w, p, "ret/a", "1", 1, true);
    t_pub_done(w, p, "ret/b/c", "2", 2, true);
    t_pub_done(w, p, "other", "3", 0, true);
    t_pub_done(w, p, "ret/a", "1b", 1, true); /* replaces */
    tconn *s = t_conn(w, ver, "s", 0);
    t_sub(w, s, "ret/#", 2);
    int got = 0;
    mqtt_packet *k;
    while ((k = t_next(s))) {
        assert_int_equal(k->type, MQTT_PUBLISH);
        assert_true(k->retain);
        if (bytes_eq(k->topic, "ret/a")) { assert_true(bytes_eq(k->payload, "1b")); assert_int_equal(k->qos, 1); got |= 1; }
        else if (bytes_eq(k->topic, "ret/b/c")) { assert_true(bytes_eq(k->payload, "2")); assert_int_equal(k->qos, 2); got |= 2; }
        else fail_msg("unexpected retained topic %.*s", (int)k->topic.len, k->topic.p);
        t_pub_ack(w, s, k->qos, k->packet_id);
    }
    assert_int_equal(got, 3);
    tconn *s2 = t_conn(w, ver, "s2", 0);
    t_sub(w, s2, "ret/+", 0);
    t_expect_pub(s2, "ret/a", "1b", 0);
    t_none(s2);
    assert_int_equal(mqtt_broker_stats_get(w->b)->retained_count, 3);
    /* an empty retained payload deletes; live subscribers still get it (not as retained) */
    t_pub_done(w, p, "ret/a", "", 1, true);
    k = t_expect_pub(s2, "ret/a", "", 0);
    assert_false(k->retain);
    k = t_expect_pub(s, "ret/a", "", 1);
    t_pub_ack(w, s, 1, k->packet_id);
    assert_int_equal(mqtt_broker_stats_get(w->b)->retained_count, 2);
    tconn *s3 = t_conn(w, ver, "s3", 0);
    t_sub(w, s3, "#", 0);
    int n = 0;
    while ((k = t_next(s3))) {
        assert_false(bytes_eq(k->topic, "ret/a"));
        n++;
    }
    assert_int_equal(n, 2);
    /* deleting what is not there is harmless */
    t_pub_done(w, p, "ret/none", "", 0, true);
    w_free(w);
}
BOTH(retained_messages)

static void dollar_topics(uint8_t ver) {
    world *w = w_new(NULL);
    tconn *s = t_conn(w, ver, "s", 0);
    tconn *d = t_conn(w, ver, "d", 0);
    tconn *p = t_conn(w, ver, "p", 0);
    t_sub(w, s, "#", 0);
    t_sub(w, s, "+/x", 0);
    t_sub(w, s, "+/+", 0);
    t_sub(w, d, "$foo/#", 0);
    t_pub(w, p, "$foo/x", "d", 0, true);
    t_none(s);
    t_expect_pub(d, "$foo/x", "d", 0);
    t_pub(w, p, "foo/x", "n", 0, false);
    t_expect_pub(s, "foo/x", "n", 0);
    t_none(s);
    /* retained $ messages are not sent to '#' or '+' subscribers either */
    tconn *s2 = t_conn(w, ver, "s2", 0);
    t_sub(w, s2, "#", 0);
    t_sub(w, s2, "+/x", 0);
    t_none(s2);
    t_sub(w, s2, "$foo/+", 0);
    t_expect_pub(s2, "$foo/x", "d", 0);
    w_free(w);
}
BOTH(dollar_topics)

static void shared_round_robin(uint8_t ver) {
    world *w = w_new(NULL);
    tconn *a = t_conn(w, ver, "a", 0);
    tconn *b = t_conn(w, ver, "b", 0);
    tconn *n = t_conn(w, ver, "n", 0);
    tconn *p = t_conn(w, ver, "p", 0);
    t_pub(w, p, "sh/t", "old", 0, true);
    t_sub(w, a, "$share/g/sh/t", 1);
    t_none(a); /* no retained messages for shared subscriptions */
    t_sub(w, b, "$share/g/sh/t", 1);
    t_none(b);
    t_sub(w, n, "sh/t", 1);
    t_expect_pub(n, "sh/t", "old", 0);
    int ga = 0, gb = 0;
    for (int i = 0; i < 6; i++) {
        char pl[8];
        snprintf(pl, sizeof pl, "m%d", i);
        t_pub_done(w, p, "sh/t", pl, 1, false);
        mqtt_packet *k = t_expect_pub(n, "sh/t", pl, 1);
        t_pub_ack(w, n, 1, k->packet_id);
        int da = 0, db = 0;
        while ((k = t_next(a))) { da++; t_pub_ack(w, a, 1, k->packet_id); }
        while ((k = t_next(b))) { db++; t_pub_ack(w, b, 1, k->packet_id); }
        assert_int_equal(da + db, 1);
        if (i > 0) assert_true(da ? gb == ga : ga == gb + 1); /* alternating */
        ga += da;
        gb += db;
    }
    assert_int_equal(ga, 3);
    assert_int_equal(gb, 3);
    /* a member leaving: the other gets everything */
    t_unsub(w, a, "$share/g/sh/t");
    for (int i = 0; i < 3; i++) {
        t_pub_done(w, p, "sh/t", "x", 0, false);
        t_expect_pub(b, "sh/t", "x", 0);
        t_expect_pub(n, "sh/t", "x", 0);
    }
    t_none(a);
    w_free(w);
}
BOTH(shared_round_robin)

/* ------------------------------------------------------------------ wills */

static void will_basic(uint8_t ver) {
    world *w = w_new(NULL);
    tconn *s = t_conn(w, ver, "s", 0);
    t_sub(w, s, "will/#", 1);
    copts o = {.id = "w", .clean = true, .will_topic = "will/w", .will_payload = "bye", .will_qos = 1};
    tconn *c = t_conn_ex(w, ver, &o, 0);
    t_drop(w, c); /* unclean close */
    mqtt_packet *k = t_expect_pub(s, "will/w", "bye", 1);
    t_pub_ack(w, s, 1, k->packet_id);
    /* a normal DISCONNECT discards it */
    c = t_conn_ex(w, ver, &o, 0);
    t_disconnect(w, c, 0, NULL);
    t_none(s);
    /* a keep-alive timeout publishes it */
    o.keepalive = 2;
    c = t_conn_ex(w, ver, &o, 0);
    w_run(w, 3200, 100);
    assert_true(c->closed);
    k = t_expect_pub(s, "will/w", "bye", 1);
    t_pub_ack(w, s, 1, k->packet_id);
    /* a retained will is retained */
    o.keepalive = 0;
    o.will_retain = true;
    o.will_topic = "will/r";
    c = t_conn_ex(w, ver, &o, 0);
    t_drop(w, c);
    k = t_expect_pub(s, "will/r", "bye", 1);
    t_pub_ack(w, s, 1, k->packet_id);
    tconn *s2 = t_conn(w, ver, "s2", 0);
    t_sub(w, s2, "will/r", 0);
    assert_true(t_expect_pub(s2, "will/r", "bye", 0)->retain);
    w_free(w);
}
BOTH(will_basic)

static void test_will_disconnect_with_will_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *s = t_conn(w, 5, "s", 0);
    t_sub(w, s, "will/#", 0);
    copts o = {.id = "w", .clean = true, .will_topic = "will/w", .will_payload = "bye"};
    tconn *c = t_conn_ex(w, 5, &o, 0);
    t_disconnect(w, c, MQTT_RC_DISCONNECT_WITH_WILL, NULL);
    t_expect_pub(s, "will/w", "bye", 0);
    w_free(w);
}

static void test_will_delay_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *s = t_conn(w, 5, "s", 0);
    t_sub(w, s, "will/#", 0);
    /* reconnecting within the delay: no will */
    copts o = {.id = "w", .clean = false, .session_expiry = 100, .will_topic = "will/w", .will_payload = "bye",
               .will_delay = 5};
    tconn *c = t_conn_ex(w, 5, &o, 0);
    t_drop(w, c);
    w_run(w, 2000, 250);
    t_none(s);
    c = t_conn_ex(w, 5, &o, 1);
    w_run(w, 10000, 250);
    t_none(s);
    /* not reconnecting: sent after the delay */
    t_drop(w, c);
    w_run(w, 4500, 250);
    t_none(s);
    w_run(w, 1000, 250);
    t_expect_pub(s, "will/w", "bye", 0);
    t_none(s);
    o.clean = true;
    c = t_conn_ex(w, 5, &o, 0);
    t_disconnect(w, c, 0, NULL);
    /* the session expires before the delay: the will goes when the session ends */
    o.session_expiry = 2;
    o.will_delay = 30;
    c = t_conn_ex(w, 5, &o, 0);
    t_drop(w, c);
    w_run(w, 1500, 250);
    t_none(s);
    w_run(w, 1000, 250);
    t_expect_pub(s, "will/w", "bye", 0);
    /* ... immediately when the session ends at the close (expiry 0) */
    o.session_expiry = 0;
    c = t_conn_ex(w, 5, &o, 0);
    t_drop(w, c);
    t_expect_pub(s, "will/w", "bye", 0);
    /* a new connection with clean start ends the old session: the will is sent then */
    o.session_expiry = 100;
    o.will_delay = 60;
    c = t_conn_ex(w, 5, &o, 0);
    t_drop(w, c);
    t_none(s);
    copts o2 = {.id = "w", .clean = true};
    c = t_conn_ex(w, 5, &o2, 0);
    t_expect_pub(s, "will/w", "bye", 0);
    t_none(s);
    w_free(w);
}

/* ------------------------------------------------------------------ sessions */

static void takeover(uint8_t ver) {
    world *w = w_new(NULL);
    copts o = {.id = "dup", .clean = false, .session_expiry = 100};
    tconn *a = t_conn_ex(w, ver, &o, 0);
    t_sub(w, a, "to/#", 1);
    tconn *b = t_conn_ex(w, ver, &o, 1);
    t_expect_closed(a, MQTT_RC_SESSION_TAKEN_OVER);
    assert_int_equal(mqtt_broker_stats_get(w->b)->clients_connected, 1);
    /* the subscription moved to the new connection */
    tconn *p = t_conn(w, ver, "p", 0);
    t_pub_done(w, p, "to/x", "m", 1, false);
    mqtt_packet *k = t_expect_pub(b, "to/x", "m", 1);
    t_pub_ack(w, b, 1, k->packet_id);
    t_none(b);
    /* take-over with clean start: the old session is gone */
    o.clean = true;
    tconn *c = t_conn_ex(w, ver, &o, 0);
    t_expect_closed(b, MQTT_RC_SESSION_TAKEN_OVER);
    t_pub(w, p, "to/x", "n", 0, false);
    t_none(c);
    assert_int_equal(mqtt_broker_stats_get(w->b)->clients_connected, 2);
    w_free(w);
}
BOTH(takeover)

static void takeover_will(uint8_t ver) {
    world *w = w_new(NULL);
    tconn *s = t_conn(w, ver, "s", 0);
    t_sub(w, s, "will/#", 0);
    copts o = {.id = "tw", .clean = true, .will_topic = "will/tw", .will_payload = "bye"};
    tconn *a = t_conn_ex(w, ver, &o, 0);
    copts o2 = {.id = "tw", .clean = true};
    t_conn_ex(w, ver, &o2, 0);
    assert_true(a->closed);
    t_expect_pub(s, "will/tw", "bye", 0);
    t_none(s);
    w_free(w);
}
BOTH(takeover_will)

static void persistent_queue(uint8_t ver) {
    world *w = w_new(NULL);
    copts o = {.id = "ps", .clean = false, .session_expiry = 3600};
    tconn *s = t_conn_ex(w, ver, &o, 0);
    t_sub(w, s, "q/#", 2);
    t_disconnect(w, s, 0, NULL);
    tconn *p = t_conn(w, ver, "p", 0);
    t_pub_done(w, p, "q/1", "one", 1, false);
    t_pub_done(w, p, "q/0", "zero", 0, false); /* QoS 0 is not queued for offline sessions */
    t_pub_done(w, p, "q/2", "two", 2, false);
    t_pub_done(w, p, "q/3", "three", 1, false);
    assert_int_equal(mqtt_broker_stats_get(w->b)->queued_count, 3);
    s = t_conn_ex(w, ver, &o, 1);
    mqtt_packet *k = t_expect_pub(s, "q/1", "one", 1);
    assert_false(k->dup);
    uint16_t p1 = k->packet_id;
    k = t_expect_pub(s, "q/2", "two", 2);
    uint16_t p2 = k->packet_id;
    k = t_expect_pub(s, "q/3", "three", 1);
    uint16_t p3 = k->packet_id;
    t_none(s);
    t_pub_ack(w, s, 1, p1);
    t_pub_ack(w, s, 2, p2);
    t_pub_ack(w, s, 1, p3);
    assert_int_equal(mqtt_broker_stats_get(w->b)->queued_count, 0);
    assert_int_equal(mqtt_broker_stats_get(w->b)->inflight_count, 0);
    /* the subscription survived */
    t_pub_done(w, p, "q/4", "four", 0, false);
    t_expect_pub(s, "q/4", "four", 0);
    w_free(w);
}
BOTH(persistent_queue)

static void inflight_redelivery(uint8_t ver) {
    world *w = w_new(NULL);
    copts o = {.id = "rd", .clean = false, .session_expiry = 3600};
    tconn *s = t_conn_ex(w, ver, &o, 0);
    t_sub(w, s, "r/#", 2);
    tconn *p = t_conn(w, ver, "p", 0);
    t_pub_done(w, p, "r/1", "one", 1, false);
    t_pub_done(w, p, "r/2", "two", 2, false);
    t_pub_done(w, p, "r/3", "three", 2, false);
    uint16_t p1 = t_expect_pub(s, "r/1", "one", 1)->packet_id;
    uint16_t p2 = t_expect_pub(s, "r/2", "two", 2)->packet_id;
    uint16_t p3 = t_expect_pub(s, "r/3", "three", 2)->packet_id;
    t_ack(w, s, MQTT_PUBREC, p3); /* r/3 reaches the PUBREL stage */
    assert_int_equal(t_expect(s, MQTT_PUBREL)->packet_id, p3);
    t_drop(w, s);
    s = t_conn_ex(w, ver, &o, 1);
    mqtt_packet *k = t_expect_pub(s, "r/1", "one", 1);
    assert_true(k->dup);
    assert_int_equal(k->packet_id, p1);
    k = t_expect_pub(s, "r/2", "two", 2);
    assert_true(k->dup);
    assert_int_equal(k->packet_id, p2);
    assert_int_equal(t_expect(s, MQTT_PUBREL)->packet_id, p3);
    t_none(s);
    t_ack(w, s, MQTT_PUBACK, p1);
    t_pub_ack(w, s, 2, p2);
    t_ack(w, s, MQTT_PUBCOMP, p3);
    assert_int_equal(mqtt_broker_stats_get(w->b)->inflight_count, 0);
    t_none(s);
    w_free(w);
}
BOTH(inflight_redelivery)

static void inflight_window(uint8_t ver) {
    mqtt_broker_conf conf;
    w_conf_defaults(&conf);
    conf.max_inflight = 2;
    world *w = w_new(&conf);
    tconn *s = t_conn(w, ver, "s", 0);
    t_sub(w, s, "win", 1);
    tconn *p = t_conn(w, ver, "p", 0);
    for (int i = 0; i < 6; i++) {
        char pl[8];
        snprintf(pl, sizeof pl, "m%d", i);
        t_pub_done(w, p, "win", pl, 1, false);
    }
    uint16_t pids[6];
    pids[0] = t_expect_pub(s, "win", "m0", 1)->packet_id;
    pids[1] = t_expect_pub(s, "win", "m1", 1)->packet_id;
    t_none(s);
    for (int i = 2; i < 6; i++) {
        t_ack(w, s, MQTT_PUBACK, pids[i - 2]);
        char pl[8];
        snprintf(pl, sizeof pl, "m%d", i);
        pids[i] = t_expect_pub(s, "win", pl, 1)->packet_id;
        t_none(s);
    }
    t_ack(w, s, MQTT_PUBACK, pids[4]);
    t_ack(w, s, MQTT_PUBACK, pids[5]);
    t_none(s);
    /* QoS 0 behind a full window waits its turn too, in order */
    t_sub(w, s, "win0", 0);
    t_pub_done(w, p, "win", "a", 1, false);
    t_pub_done(w, p, "win", "b", 1, false);
    t_pub_done(w, p, "win", "c", 1, false);
    t_pub_done(w, p, "win0", "d", 0, false);
    uint16_t pa = t_expect_pub(s, "win", "a", 1)->packet_id;
    t_expect_pub(s, "win", "b", 1);
    t_expect_pub(s, "win0", "d", 0); /* QoS 0 to a live client is not held back */
    t_none(s);
    t_ack(w, s, MQTT_PUBACK, pa);
    t_expect_pub(s, "win", "c", 1);
    w_free(w);
}
BOTH(inflight_window)

static void test_receive_maximum_from_client_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    copts o = {.id = "s", .clean = true, .receive_max = 1};
    tconn *s = t_conn_ex(w, 5, &o, 0);
    t_sub(w, s, "rm", 2);
    tconn *p = t_conn(w, 5, "p", 0);
    t_pub_done(w, p, "rm", "1", 2, false);
    t_pub_done(w, p, "rm", "2", 2, false);
    uint16_t a = t_expect_pub(s, "rm", "1", 2)->packet_id;
    t_none(s);
    t_ack(w, s, MQTT_PUBREC, a);
    t_expect(s, MQTT_PUBREL);
    t_none(s); /* still in flight until PUBCOMP */
    t_ack(w, s, MQTT_PUBCOMP, a);
    t_expect_pub(s, "rm", "2", 2);
    w_free(w);
}

static void test_receive_maximum_exceeded_v5(void **st) {
    (void)st;
    mqtt_broker_conf conf;
    w_conf_defaults(&conf);
    conf.max_inflight = 2;
    world *w = w_new(&conf);
    tconn *p = t_open(w, 5, &(copts){.id = "p", .clean = true});
    mqtt_packet *k = t_expect(p, MQTT_CONNACK);
    assert_int_equal(k->props.receive_max, 2);
    t_pub(w, p, "x", "1", 2, false);
    t_expect(p, MQTT_PUBREC);
    t_pub(w, p, "x", "2", 2, false);
    t_expect(p, MQTT_PUBREC);
    t_pub(w, p, "x", "3", 2, false);
    t_expect_closed(p, MQTT_RC_RECEIVE_MAX_EXCEEDED);
    w_free(w);
}

static void keepalive_timeout(uint8_t ver) {
    world *w = w_new(NULL);
    copts o = {.id = "ka", .clean = true, .keepalive = 10};
    tconn *c = t_conn_ex(w, ver, &o, 0);
    w_run(w, 9000, 250);
    buf_t b;
    buf_init(&b);
    mqtt_encode_ping(&b, MQTT_PINGREQ);
    t_send(w, c, &b);
    t_expect(c, MQTT_PINGRESP);
    w_run(w, 14750, 250); /* 1.5 x 10 s since the ping, minus a little */
    assert_false(c->closed);
    w_run(w, 750, 250);
    assert_true(c->closed);
    t_expect_closed(c, MQTT_RC_KEEP_ALIVE_TIMEOUT);
    /* keep alive 0: never */
    o.keepalive = 0;
    c = t_conn_ex(w, ver, &o, 0);
    w_run(w, 100000, 5000);
    assert_false(c->closed);
    w_free(w);
}
BOTH(keepalive_timeout)

static void test_connect_timeout(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *a = t_accept(w);
    tconn *b = t_accept(w);
    buf_t cb;
    buf_init(&cb);
    enc_connect(&cb, 4, &(copts){.id = "half", .clean = true});
    t_input(w, b, cb.data, cb.len - 2); /* a partial CONNECT */
    buf_free(&cb);
    w_run(w, 9750, 250);
    assert_false(a->closed);
    assert_false(b->closed);
    w_run(w, 750, 250);
    assert_true(a->closed);
    assert_true(b->closed);
    assert_null(a->c);
    t_none(a);
    t_none(b);
    w_free(w);
}

static void test_session_expiry_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    copts o = {.id = "se", .clean = false, .session_expiry = 2};
    tconn *c = t_conn_ex(w, 5, &o, 0);
    t_disconnect(w, c, 0, NULL);
    w_run(w, 1500, 250);
    c = t_conn_ex(w, 5, &o, 1);
    t_disconnect(w, c, 0, NULL);
    w_run(w, 2500, 250);
    c = t_conn_ex(w, 5, &o, 0);
    /* expiry changed at DISCONNECT: 0 ends the session */
    buf_t pr;
    buf_init(&pr);
    mqtt_prop_put_u32(&pr, MQTT_PROP_SESSION_EXPIRY, 0);
    t_disconnect(w, c, 0, &pr);
    buf_free(&pr);
    c = t_conn_ex(w, 5, &o, 0);
    t_disconnect(w, c, 0, NULL);
    /* 0 at CONNECT then non-zero at DISCONNECT is a protocol error */
    o.session_expiry = 0;
    o.clean = true;
    c = t_conn_ex(w, 5, &o, 0);
    buf_init(&pr);
    mqtt_prop_put_u32(&pr, MQTT_PROP_SESSION_EXPIRY, 30);
    buf_t b;
    buf_init(&b);
    mqtt_encode_disconnect(&b, 5, 0, pr.data, pr.len);
    buf_free(&pr);
    t_send(w, c, &b);
    t_expect_closed(c, MQTT_RC_PROTOCOL_ERROR);
    w_free(w);
}

/* ------------------------------------------------------------------ v5 features */

static void test_topic_alias_from_client_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *s = t_conn(w, 5, "s", 0);
    t_sub(w, s, "al/#", 0);
    tconn *p = t_open(w, 5, &(copts){.id = "p", .clean = true});
    assert_int_equal(t_expect(p, MQTT_CONNACK)->props.topic_alias_max, 10);
    buf_t pr;
    buf_init(&pr);
    mqtt_prop_put_u16(&pr, MQTT_PROP_TOPIC_ALIAS, 1);
    t_pub_ex(w, p, "al/t", "1", 1, 0, false, &pr);
    t_expect_pub(s, "al/t", "1", 0);
    t_pub_ex(w, p, "", "2", 1, 0, false, &pr);
    t_expect_pub(s, "al/t", "2", 0);
    t_pub_ex(w, p, "al/u", "3", 1, 0, false, &pr); /* re-pointed */
    t_expect_pub(s, "al/u", "3", 0);
    t_pub_ex(w, p, "", "4", 1, 0, false, &pr);
    t_expect_pub(s, "al/u", "4", 0);
    buf_free(&pr);
    t_none(p);
    /* an alias never set */
    buf_init(&pr);
    mqtt_prop_put_u16(&pr, MQTT_PROP_TOPIC_ALIAS, 2);
    t_pub_ex(w, p, "", "5", 1, 0, false, &pr);
    buf_free(&pr);
    t_expect_closed(p, MQTT_RC_PROTOCOL_ERROR);
    /* above the maximum */
    p = t_conn(w, 5, "p2", 0);
    buf_init(&pr);
    mqtt_prop_put_u16(&pr, MQTT_PROP_TOPIC_ALIAS, 11);
    t_pub_ex(w, p, "al/t", "6", 1, 0, false, &pr);
    buf_free(&pr);
    t_expect_closed(p, MQTT_RC_TOPIC_ALIAS_INVALID);
    /* zero */
    p = t_conn(w, 5, "p3", 0);
    buf_init(&pr);
    mqtt_prop_put_u16(&pr, MQTT_PROP_TOPIC_ALIAS, 0);
    t_pub_ex(w, p, "al/t", "7", 1, 0, false, &pr);
    buf_free(&pr);
    t_expect_closed(p, MQTT_RC_TOPIC_ALIAS_INVALID);
    t_none(s);
    w_free(w);
}

static void test_topic_alias_to_client_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    copts o = {.id = "s", .clean = true, .alias_max = 2};
    tconn *s = t_conn_ex(w, 5, &o, 0);
    t_sub(w, s, "ta/#", 0);
    tconn *p = t_conn(w, 4, "p", 0);
    const char *seq[] = {"ta/1", "ta/1", "ta/2", "ta/3", "ta/2", "ta/3"};
    /* expected: alias and whether the topic is present */
    const int alias[] = {1, 1, 2, 0, 2, 0};
    const bool with_topic[] = {true, false, true, true, false, true};
    for (int i = 0; i < 6; i++) {
        t_pub(w, p, seq[i], "x", 0, false);
        mqtt_packet *k = t_expect(s, MQTT_PUBLISH);
        mqtt_prop v = {0};
        int has = prop_find(k->props.raw, MQTT_PROP_TOPIC_ALIAS, 0, &v);
        assert_int_equal(has ? (int)v.num : 0, alias[i]);
        if (with_topic[i]) assert_true(bytes_eq(k->topic, seq[i]));
        else assert_int_equal(k->topic.len, 0);
    }
    /* a client without Topic Alias Maximum gets none */
    tconn *s2 = t_conn(w, 5, "s2", 0);
    t_sub(w, s2, "ta/#", 0);
    t_pub(w, p, "ta/1", "x", 0, false);
    t_next(s);
    mqtt_packet *k = t_expect_pub(s2, "ta/1", "x", 0);
    mqtt_prop v = {0};
    assert_int_equal(prop_find(k->props.raw, MQTT_PROP_TOPIC_ALIAS, 0, &v), 0);
    w_free(w);
}

static void test_message_expiry_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    copts o = {.id = "me", .clean = false, .session_expiry = 3600};
    tconn *s = t_conn_ex(w, 5, &o, 0);
    t_sub(w, s, "me/#", 1);
    t_disconnect(w, s, 0, NULL);
    tconn *p = t_conn(w, 5, "p", 0);
    buf_t pr;
    buf_init(&pr);
    mqtt_prop_put_u32(&pr, MQTT_PROP_MESSAGE_EXPIRY, 2);
    t_pub_ex(w, p, "me/short", "s", 1, 1, false, &pr);
    t_expect(p, MQTT_PUBACK);
    buf_reset(&pr);
    mqtt_prop_put_u32(&pr, MQTT_PROP_MESSAGE_EXPIRY, 100);
    t_pub_ex(w, p, "me/long", "l", 1, 1, true, &pr);
    t_expect(p, MQTT_PUBACK);
    buf_free(&pr);
    w_run(w, 3000, 250);
    s = t_conn_ex(w, 5, &o, 1);
    mqtt_packet *k = t_expect_pub(s, "me/long", "l", 1);
    mqtt_prop v = {0};
    assert_int_equal(prop_find(k->props.raw, MQTT_PROP_MESSAGE_EXPIRY, 0, &v), 1);
    assert_true(v.num >= 96 && v.num <= 97);
    t_pub_ack(w, s, 1, k->packet_id);
    t_none(s);
    /* the retained copy expires too */
    w_run(w, 98000, 1000);
    tconn *s2 = t_conn(w, 5, "s2", 0);
    t_sub(w, s2, "me/#", 1);
    t_none(s2);
    w_free(w);
}

static void test_max_packet_size_v5(void **st) {
    (void)st;
    mqtt_broker_conf conf;
    w_conf_defaults(&conf);
    conf.max_packet_size = 100;
    world *w = w_new(&conf);
    tconn *p = t_open(w, 5, &(copts){.id = "p", .clean = true});
    assert_int_equal(t_expect(p, MQTT_CONNACK)->props.max_packet_size, 100);
    char big[200];
    memset(big, 'x', sizeof big);
    t_pub_ex(w, p, "big", big, sizeof big, 0, false, NULL);
    t_expect_closed(p, MQTT_RC_PACKET_TOO_LARGE);
    /* 3.1.1: just closed */
    tconn *q = t_conn(w, 4, "q", 0);
    t_pub_ex(w, q, "big", big, sizeof big, 0, false, NULL);
    t_expect_closed(q, -1);
    w_free(w);
}

static void test_client_max_packet_size_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    copts o = {.id = "s", .clean = true, .max_packet = 64};
    tconn *s = t_conn_ex(w, 5, &o, 0);
    t_sub(w, s, "mp", 1);
    tconn *p = t_conn(w, 5, "p", 0);
    char big[100];
    memset(big, 'y', sizeof big);
    t_pub_ex(w, p, "mp", big, sizeof big, 1, false, NULL);
    t_expect(p, MQTT_PUBACK);
    t_none(s); /* dropped for that client */
    t_pub_done(w, p, "mp", "small", 1, false);
    mqtt_packet *k = t_expect_pub(s, "mp", "small", 1);
    t_pub_ack(w, s, 1, k->packet_id);
    assert_int_equal(mqtt_broker_stats_get(w->b)->inflight_count, 0);
    w_free(w);
}

static void invalid_topic(uint8_t ver) {
    world *w = w_new(NULL);
    tconn *s = t_conn(w, ver, "s", 0);
    t_sub(w, s, "#", 0);
    tconn *p = t_conn(w, ver, "p", 0);
    t_pub(w, p, "a/+", "x", 0, false);
    t_expect_closed(p, MQTT_RC_TOPIC_NAME_INVALID);
    p = t_conn(w, ver, "p", 0);
    t_pub(w, p, "a/#", "x", 1, false);
    t_expect_closed(p, MQTT_RC_TOPIC_NAME_INVALID);
    t_none(s);
    /* an invalid filter is refused in SUBACK (not a disconnect) */
    int rc = t_sub_ex(w, s, "a/#/b", 1, 0);
    assert_int_equal(rc, ver == 5 ? MQTT_RC_TOPIC_FILTER_INVALID : 0x80);
    rc = t_sub_ex(w, s, "$share/g", 1, 0);
    assert_int_equal(rc, ver == 5 ? MQTT_RC_TOPIC_FILTER_INVALID : 0x80);
    assert_false(s->closed);
    w_free(w);
}
BOTH(invalid_topic)

static void malformed(uint8_t ver) {
    world *w = w_new(NULL);
    tconn *p = t_conn(w, ver, "p", 0);
    static const uint8_t bad[] = {0x36, 0x05, 0x00, 0x01, 'a', 0x00, 0x01}; /* QoS 3 */
    t_input(w, p, bad, sizeof bad);
    t_expect_closed(p, MQTT_RC_MALFORMED);
    p = t_conn(w, ver, "p", 0);
    static const uint8_t badlen[] = {0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}; /* 5-byte varint */
    t_input(w, p, badlen, sizeof badlen);
    t_expect_closed(p, MQTT_RC_MALFORMED);
    p = t_conn(w, ver, "p", 0);
    static const uint8_t badsub[] = {0x82, 0x04, 0x00, 0x01, 0x00, 0x05}; /* string runs past the end */
    t_input(w, p, badsub, sizeof badsub);
    t_expect_closed(p, MQTT_RC_MALFORMED);
    w_free(w);
}
BOTH(malformed)

/* ------------------------------------------------------------------ limits and back-pressure */

static void test_queue_full_v5(void **st) {
    (void)st;
    mqtt_broker_conf conf;
    w_conf_defaults(&conf);
    conf.max_inflight = 1;
    conf.max_queued = 2;
    world *w = w_new(&conf);
    tconn *s = t_conn(w, 5, "s", 0);
    t_sub(w, s, "qf", 1);
    tconn *p = t_conn(w, 5, "p", 0);
    for (int i = 0; i < 3; i++) {
        t_pub(w, p, "qf", "m", 1, false);
        assert_int_equal(t_expect(p, MQTT_PUBACK)->reason, 0);
    }
    t_pub(w, p, "qf", "m", 1, false);
    assert_int_equal(t_expect(p, MQTT_PUBACK)->reason, MQTT_RC_QUOTA_EXCEEDED);
    t_pub(w, p, "qf", "m", 2, false);
    assert_int_equal(t_expect(p, MQTT_PUBREC)->reason, MQTT_RC_QUOTA_EXCEEDED);
    assert_int_equal(t_count(s, MQTT_PUBLISH), 1);
    w_free(w);
}

static void test_max_queued_bytes_v5(void **st) {
    (void)st;
    mqtt_broker_conf conf;
    w_conf_defaults(&conf);
    conf.max_inflight = 1;
    conf.max_queued = 0;
    conf.max_queued_bytes = 10; /* two 5-byte payloads */
    world *w = w_new(&conf);
    tconn *s = t_conn(w, 5, "s", 0);
    t_sub(w, s, "qb", 1);
    tconn *p = t_conn(w, 5, "p", 0);
    for (int i = 0; i < 3; i++) { /* one in flight, two queued */
        t_pub(w, p, "qb", "12345", 1, false);
        assert_int_equal(t_expect(p, MQTT_PUBACK)->reason, 0);
    }
    t_pub(w, p, "qb", "12345", 1, false);
    assert_int_equal(t_expect(p, MQTT_PUBACK)->reason, MQTT_RC_QUOTA_EXCEEDED);
    w_free(w);
}

static void test_max_connections(void **st) {
    (void)st;
    mqtt_broker_conf conf;
    w_conf_defaults(&conf);
    conf.max_connections = 2;
    world *w = w_new(&conf);
    t_conn(w, 5, "a", 0);
    tconn *b = t_conn(w, 4, "b", 60);
    copts o = {.id = "c", .clean = true};
    tconn *c5 = t_open(w, 5, &o);
    assert_int_equal(t_expect(c5, MQTT_CONNACK)->reason, MQTT_RC_QUOTA_EXCEEDED);
    tconn *c4 = t_open(w, 4, &o);
    assert_int_equal(t_expect(c4, MQTT_CONNACK)->reason, MQTT_V3_UNAVAILABLE);
    /* taking over an existing session does not count twice */
    copts ob = {.id = "b", .clean = false};
    t_conn_ex(w, 4, &ob, 1);
    (void)b;
    w_free(w);
}

static void test_persistent_client_expiration(void **st) {
    (void)st;
    mqtt_broker_conf conf;
    w_conf_defaults(&conf);
    conf.persistent_expiry_s = 10;
    world *w = w_new(&conf);
    tconn *a = t_conn(w, 4, "forever", 60); /* 3.1.1 clean=0: would never expire */
    t_sub(w, a, "pe", 1);
    t_drop(w, a);
    w_run(w, 5000, 250);
    copts o = {.id = "forever", .clean = false};
    tconn *b = t_conn_ex(w, 4, &o, 1); /* still there after 5 s */
    t_drop(w, b);
    w_run(w, 11000, 250);
    t_conn_ex(w, 4, &o, 0); /* gone after 10 s offline */
    w_free(w);
}

static void test_queue_full_held_v4(void **st) {
    (void)st;
    mqtt_broker_conf conf;
    w_conf_defaults(&conf);
    conf.max_inflight = 1;
    conf.max_queued = 2;
    world *w = w_new(&conf);
    tconn *s = t_conn(w, 4, "s", 0);
    t_sub(w, s, "qf", 1);
    tconn *p = t_conn(w, 4, "p", 0);
    uint16_t pids[4];
    for (int i = 0; i < 3; i++) {
        char pl[4];
        snprintf(pl, sizeof pl, "m%d", i);
        pids[i] = t_pub(w, p, "qf", pl, 1, false);
        assert_int_equal(t_expect(p, MQTT_PUBACK)->packet_id, pids[i]);
    }
    pids[3] = t_pub(w, p, "qf", "m3", 1, false);
    t_none(p); /* held: no PUBACK */
    assert_int_equal(p->paused, 1);
    /* more input while paused is buffered, not processed */
    buf_t b;
    buf_init(&b);
    mqtt_encode_ping(&b, MQTT_PINGREQ);
    t_send(w, p, &b);
    t_none(p);
    w_tick(w, 300);
    t_none(p);
    uint16_t sp = t_expect_pub(s, "qf", "m0", 1)->packet_id;
    t_none(s);
    t_ack(w, s, MQTT_PUBACK, sp); /* m1 goes in flight, the queue has room */
    sp = t_expect_pub(s, "qf", "m1", 1)->packet_id;
    w_tick(w, 300);
    assert_int_equal(t_expect(p, MQTT_PUBACK)->packet_id, pids[3]);
    t_expect(p, MQTT_PINGRESP);
    assert_int_equal(p->paused, 0);
    t_ack(w, s, MQTT_PUBACK, sp);
    sp = t_expect_pub(s, "qf", "m2", 1)->packet_id;
    t_ack(w, s, MQTT_PUBACK, sp);
    sp = t_expect_pub(s, "qf", "m3", 1)->packet_id;
    t_ack(w, s, MQTT_PUBACK, sp);
    t_none(s);
    w_free(w);
}

static void test_slow_subscriber_qos0_dropped(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *s = t_conn(w, 4, "s", 0);
    t_sub(w, s, "slow", 1);
    tconn *p = t_conn(w, 4, "p", 0);
    s->pending = 9u << 20;
    t_pub_done(w, p, "slow", "0", 0, false);
    t_none(s);
    t_pub_done(w, p, "slow", "1", 1, false); /* QoS 1 is still delivered */
    t_expect_pub(s, "slow", "1", 1);
    assert_true(mqtt_broker_stats_get(w->b)->pub_dropped >= 1);
    w_free(w);
}

/* ------------------------------------------------------------------ in-process API */

typedef struct icap {
    int n;
    char topic[64], payload[64];
    uint8_t qos;
    bool retain;
} icap;

static void icb(void *ud, const mqtt_msg_view *m) {
    icap *c = ud;
    c->n++;
    snprintf(c->topic, sizeof c->topic, "%.*s", (int)m->topic_len, m->topic);
    snprintf(c->payload, sizeof c->payload, "%.*s", (int)m->payload_len, (const char *)m->payload);
    c->qos = m->qos;
    c->retain = m->retain;
}

static void test_internal_subscriber(void **st) {
    (void)st;
    world *w = w_new(NULL);
    icap cap = {0};
    assert_int_equal(mqtt_broker_subscribe_internal(w->b, "sensors/#", icb, &cap), 0);
    tconn *p = t_conn(w, 5, "p", 0);
    t_pub_done(w, p, "sensors/t1", "21.5", 1, false);
    assert_int_equal(cap.n, 1);
    assert_string_equal(cap.topic, "sensors/t1");
    assert_string_equal(cap.payload, "21.5");
    t_pub_done(w, p, "other", "x", 1, false);
    assert_int_equal(cap.n, 1);
    /* mqtt_broker_publish reaches clients */
    tconn *s = t_conn(w, 4, "s", 0);
    t_sub(w, s, "cmd/#", 1);
    assert_int_equal(mqtt_broker_publish(w->b, "cmd/x", "go", 2, 1, false, w->now), 0);
    mqtt_packet *k = t_expect_pub(s, "cmd/x", "go", 1);
    t_pub_ack(w, s, 1, k->packet_id);
    assert_int_equal(mqtt_broker_publish(w->b, "cmd/r", "kept", 4, 0, true, w->now), 0);
    t_expect_pub(s, "cmd/r", "kept", 0);
    tconn *s2 = t_conn(w, 4, "s2", 0);
    t_sub(w, s2, "cmd/+", 0);
    assert_true(t_expect_pub(s2, "cmd/r", "kept", 0)->retain);
    /* internal publish reaches internal subscribers too */
    assert_int_equal(mqtt_broker_publish(w->b, "sensors/int", "1", 1, 0, false, w->now), 0);
    assert_int_equal(cap.n, 2);
    assert_string_equal(cap.topic, "sensors/int");
    assert_int_equal(mqtt_broker_publish(w->b, "bad/+", "1", 1, 0, false, w->now) < 0, 1);
    /* the internal session's identifier is not usable by a client */
    tconn *x = t_open(w, 5, &(copts){.id = "$internal/1", .clean = false});
    assert_int_equal(t_expect(x, MQTT_CONNACK)->reason, MQTT_RC_CLIENT_ID_NOT_VALID);
    assert_true(x->closed);
    w_free(w);
}

static void test_sys_topics(void **st) {
    (void)st;
    mqtt_broker_conf conf;
    w_conf_defaults(&conf);
    conf.sys_interval_s = 10;
    conf.version_string = "tinyedge-test";
    world *w = w_new(&conf);
    tconn *s = t_conn(w, 4, "s", 0);
    t_sub(w, s, "$SYS/broker/#", 0);
    w_tick(w, 100);
    int n = 0;
    bool version = false;
    mqtt_packet *k;
    while ((k = t_next(s))) {
        assert_int_equal(k->type, MQTT_PUBLISH);
        n++;
        if (bytes_eq(k->topic, "$SYS/broker/version")) version = bytes_eq(k->payload, "tinyedge-test");
        if (bytes_eq(k->topic, "$SYS/broker/clients/connected")) assert_true(bytes_eq(k->payload, "1"));
    }
    assert_true(n > 10);
    assert_true(version);
    w_tick(w, 5000);
    t_none(s);
    w_tick(w, 5000);
    assert_true(t_count(s, MQTT_PUBLISH) > 10);
    /* retained: a new subscriber gets them at once */
    tconn *s2 = t_conn(w, 5, "s2", 0);
    t_sub(w, s2, "$SYS/broker/version", 0);
    assert_true(t_expect_pub(s2, "$SYS/broker/version", "tinyedge-test", 0)->retain);
    w_free(w);
}

static void test_shutdown(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *a = t_conn(w, 5, "a", 0);
    tconn *b = t_conn(w, 4, "b", 0);
    tconn *c = t_accept(w);
    mqtt_broker_shutdown(w->b);
    w_reap(w);
    t_expect_closed(a, MQTT_RC_SERVER_SHUTTING_DOWN);
    t_expect_closed(b, -1);
    assert_true(c->closed);
    w_free(w);
}

/* ------------------------------------------------------------------ auth and ACL */

static int deny_auth(void *ud, const char *client_id, const char *username, const uint8_t *password,
                     size_t password_len, const char *tls_cn) {
    (void)ud; (void)client_id; (void)tls_cn;
    return username && !strcmp(username, "good") && password_len == 2 && !memcmp(password, "pw", 2);
}

static void test_auth_refused(void **st) {
    (void)st;
    mqtt_broker_conf conf;
    w_conf_defaults(&conf);
    conf.auth = deny_auth;
    world *w = w_new(&conf);
    tconn *a = t_open(w, 5, &(copts){.id = "a", .clean = true, .user = "bad", .pass = "pw"});
    mqtt_packet *k = t_expect(a, MQTT_CONNACK);
    assert_int_equal(k->reason, MQTT_RC_BAD_USERNAME_PASSWORD);
    assert_true(a->closed);
    tconn *b = t_open(w, 4, &(copts){.id = "b", .clean = true, .user = "bad", .pass = "pw"});
    assert_int_equal(t_expect(b, MQTT_CONNACK)->reason, MQTT_V3_BAD_USER_PASS);
    assert_true(b->closed);
    tconn *c = t_open(w, 4, &(copts){.id = "c", .clean = true, .user = "good", .pass = "pw"});
    assert_int_equal(t_expect(c, MQTT_CONNACK)->reason, 0);
    assert_false(c->closed);
    tconn *d = t_open(w, 5, &(copts){.id = "d", .clean = true});
    assert_int_equal(t_expect(d, MQTT_CONNACK)->reason, MQTT_RC_NOT_AUTHORIZED);
    /* allow_anonymous = false without a hook */
    mqtt_broker_conf c2;
    w_conf_defaults(&c2);
    c2.allow_anonymous = false;
    world *w2 = w_new(&c2);
    tconn *e = t_open(w2, 4, &(copts){.id = "e", .clean = true});
    assert_int_equal(t_expect(e, MQTT_CONNACK)->reason, MQTT_V3_NOT_AUTHORIZED);
    assert_true(e->closed);
    w_free(w2);
    assert_int_equal(mqtt_broker_stats_get(w->b)->clients_connected, 1);
    w_free(w);
}

static int acl_hook(void *ud, const char *client_id, const char *username, const char *topic, int access) {
    (void)ud; (void)client_id; (void)username;
    if (access == MQTT_ACCESS_SUBSCRIBE && !strncmp(topic, "secret", 6)) return 0;
    if (access == MQTT_ACCESS_WRITE && !strncmp(topic, "ro/", 3)) return 0;
    if (access == MQTT_ACCESS_READ && !strncmp(topic, "hidden/", 7)) return 0;
    return 1;
}

static void acl(uint8_t ver) {
    mqtt_broker_conf conf;
    w_conf_defaults(&conf);
    conf.acl = acl_hook;
    world *w = w_new(&conf);
    tconn *s = t_conn(w, ver, "s", 0);
    tconn *p = t_conn(w, ver, "p", 0);
    assert_int_equal(t_sub_ex(w, s, "secret/#", 1, 0), ver == 5 ? MQTT_RC_NOT_AUTHORIZED : 0x80);
    t_sub(w, s, "#", 1);
    t_pub(w, p, "ro/x", "w", 1, false);
    assert_int_equal(t_expect(p, MQTT_PUBACK)->reason, ver == 5 ? MQTT_RC_NOT_AUTHORIZED : 0);
    t_none(s);
    t_pub_done(w, p, "hidden/x", "h", 1, false);
    t_none(s);
    t_pub_done(w, p, "open/x", "o", 1, false);
    mqtt_packet *k = t_expect_pub(s, "open/x", "o", 1);
    t_pub_ack(w, s, 1, k->packet_id);
    /* retained messages obey READ too */
    t_pub_done(w, p, "hidden/r", "h", 0, true);
    t_pub_done(w, p, "open/r", "o", 0, true);
    t_next(s);
    t_none(s);
    tconn *s2 = t_conn(w, ver, "s2", 0);
    t_sub(w, s2, "+/r", 0);
    t_expect_pub(s2, "open/r", "o", 0);
    t_none(s2);
    /* a will on a forbidden topic refuses the connection */
    tconn *x = t_open(w, ver, &(copts){.id = "x", .clean = true, .will_topic = "ro/w", .will_payload = "b"});
    assert_int_equal(t_expect(x, MQTT_CONNACK)->reason, ver == 5 ? MQTT_RC_NOT_AUTHORIZED : MQTT_V3_NOT_AUTHORIZED);
    w_free(w);
}
BOTH(acl)

/* ------------------------------------------------------------------ regressions */

/* a message too large for the client must not leave behind an alias the client never learnt */
static void test_alias_not_burnt_by_dropped_message_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    copts o = {.id = "s", .clean = true, .alias_max = 4, .max_packet = 64};
    tconn *s = t_conn_ex(w, 5, &o, 0);
    t_sub(w, s, "t/#", 0);
    tconn *p = t_conn(w, 5, "p", 0);
    char big[100];
    memset(big, 'z', sizeof big);
    t_pub_ex(w, p, "t/x", big, sizeof big, 0, false, NULL);
    t_none(s);
    t_pub(w, p, "t/x", "small", 0, false);
    mqtt_packet *k = t_expect(s, MQTT_PUBLISH);
    assert_true(bytes_eq(k->topic, "t/x")); /* the first one the client sees names the topic */
    w_free(w);
}

/* v5 3.1.2.5: only DISCONNECT 0x00 discards the will; other reason codes keep it */
static void test_will_kept_on_error_disconnect_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *s = t_conn(w, 5, "s", 0);
    t_sub(w, s, "will/#", 0);
    copts o = {.id = "w", .clean = true, .will_topic = "will/w", .will_payload = "bye"};
    tconn *c = t_conn_ex(w, 5, &o, 0);
    t_disconnect(w, c, MQTT_RC_UNSPECIFIED, NULL);
    t_expect_pub(s, "will/w", "bye", 0);
    w_free(w);
}

/* an offline persistent subscriber with a full queue must not block a 3.1.1 publisher forever:
 * its copies are dropped (as Mosquitto does) */
static void offline_full_queue_does_not_block(uint8_t ver) {
    mqtt_broker_conf conf;
    w_conf_defaults(&conf);
    conf.max_queued = 2;
    world *w = w_new(&conf);
    copts o = {.id = "off", .clean = false, .session_expiry = 3600};
    tconn *s = t_conn_ex(w, ver, &o, 0);
    t_sub(w, s, "ofq", 1);
    t_disconnect(w, s, 0, NULL);
    tconn *live = t_conn(w, ver, "live", 0);
    t_sub(w, live, "ofq", 1);
    tconn *p = t_conn(w, ver, "p", 0);
    for (int i = 0; i < 4; i++) {
        uint16_t pid = t_pub(w, p, "ofq", "m", 1, false);
        mqtt_packet *k = t_expect(p, MQTT_PUBACK);
        assert_int_equal(k->packet_id, pid);
        k = t_expect_pub(live, "ofq", "m", 1);
        t_pub_ack(w, live, 1, k->packet_id);
    }
    s = t_conn_ex(w, ver, &o, 1);
    assert_int_equal(t_count(s, MQTT_PUBLISH), 2);
    w_free(w);
}
BOTH(offline_full_queue_does_not_block)

/* ------------------------------------------------------------------ more protocol corners */

static void test_mqtt31(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *s = t_conn(w, 3, "v31-sub", 0);
    tconn *p = t_conn(w, 4, "v311-pub", 0);
    t_sub(w, s, "x/#", 2);
    t_pub_done(w, p, "x/y", "hello", 2, false);
    mqtt_packet *k = t_expect_pub(s, "x/y", "hello", 2);
    t_pub_ack(w, s, 2, k->packet_id);
    /* 3.1: empty client id refused */
    tconn *e = t_open(w, 3, &(copts){.id = "", .clean = true});
    assert_int_equal(t_expect(e, MQTT_CONNACK)->reason, MQTT_V3_ID_REJECTED);
    assert_true(e->closed);
    w_free(w);
}

static void takeover_inflight(uint8_t ver) {
    world *w = w_new(NULL);
    copts o = {.id = "tk", .clean = false, .session_expiry = 100};
    tconn *a = t_conn_ex(w, ver, &o, 0);
    t_sub(w, a, "ti", 1);
    tconn *p = t_conn(w, ver, "p", 0);
    t_pub_done(w, p, "ti", "m", 1, false);
    uint16_t pid = t_expect_pub(a, "ti", "m", 1)->packet_id;
    tconn *b = t_conn_ex(w, ver, &o, 1);
    assert_true(a->closed);
    mqtt_packet *k = t_expect_pub(b, "ti", "m", 1);
    assert_true(k->dup);
    assert_int_equal(k->packet_id, pid);
    t_ack(w, b, MQTT_PUBACK, pid);
    assert_int_equal(mqtt_broker_stats_get(w->b)->inflight_count, 0);
    w_free(w);
}
BOTH(takeover_inflight)

static void test_pubrel_unknown_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *c = t_conn(w, 5, "c", 0);
    t_ack(w, c, MQTT_PUBREL, 42);
    mqtt_packet *k = t_expect(c, MQTT_PUBCOMP);
    assert_int_equal(k->packet_id, 42);
    assert_int_equal(k->reason, MQTT_RC_PACKET_ID_NOT_FOUND);
    /* a PUBACK for nothing is ignored */
    t_ack(w, c, MQTT_PUBACK, 9);
    t_none(c);
    assert_false(c->closed);
    w_free(w);
}

static void test_pubrec_error_ends_exchange_v5(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *s = t_conn(w, 5, "s", 0);
    t_sub(w, s, "e", 2);
    tconn *p = t_conn(w, 5, "p", 0);
    t_pub_done(w, p, "e", "m", 2, false);
    uint16_t pid = t_expect_pub(s, "e", "m", 2)->packet_id;
    buf_t b;
    buf_init(&b);
    mqtt_encode_ack(&b, MQTT_PUBREC, 5, pid, MQTT_RC_UNSPECIFIED, NULL, 0);
    t_send(w, s, &b);
    t_none(s);
    assert_int_equal(mqtt_broker_stats_get(w->b)->inflight_count, 0);
    w_free(w);
}

static void test_queue_qos0_offline(void **st) {
    (void)st;
    mqtt_broker_conf conf;
    w_conf_defaults(&conf);
    conf.queue_qos0_offline = true;
    world *w = w_new(&conf);
    copts o = {.id = "q0", .clean = false};
    tconn *s = t_conn_ex(w, 4, &o, 0);
    t_sub(w, s, "z", 0);
    t_disconnect(w, s, 0, NULL);
    tconn *p = t_conn(w, 4, "p", 0);
    t_pub(w, p, "z", "a", 0, false);
    t_pub(w, p, "z", "b", 1, false);
    s = t_conn_ex(w, 4, &o, 1);
    t_expect_pub(s, "z", "a", 0);
    t_expect_pub(s, "z", "b", 0);
    t_none(s);
    w_free(w);
}

static void test_v5_refusals(void **st) {
    (void)st;
    mqtt_broker_conf conf;
    w_conf_defaults(&conf);
    conf.retain_available = false;
    conf.max_keepalive = 20;
    world *w = w_new(&conf);
    /* server keep alive */
    tconn *c = t_open(w, 5, &(copts){.id = "k", .clean = true, .keepalive = 60});
    mqtt_packet *k = t_expect(c, MQTT_CONNACK);
    assert_true(MQTT_HAS(k->props, MQTT_PROP_SERVER_KEEP_ALIVE));
    assert_int_equal(k->props.server_keep_alive, 20);
    assert_true(MQTT_HAS(k->props, MQTT_PROP_RETAIN_AVAILABLE));
    assert_int_equal(k->props.retain_available, 0);
    w_run(w, 29000, 500);
    assert_false(c->closed);
    w_run(w, 2000, 500);
    t_expect_closed(c, MQTT_RC_KEEP_ALIVE_TIMEOUT);
    /* retain when not available */
    c = t_conn(w, 5, "r", 0);
    t_pub(w, c, "x", "y", 0, true);
    t_expect_closed(c, MQTT_RC_RETAIN_NOT_SUPPORTED);
    /* invalid UTF-8 with payload format 1 */
    c = t_conn(w, 5, "u", 0);
    buf_t pr;
    buf_init(&pr);
    mqtt_prop_put_u8(&pr, MQTT_PROP_PAYLOAD_FORMAT, 1);
    t_pub_ex(w, c, "x", "\xff\xfe", 2, 1, false, &pr);
    buf_free(&pr);
    assert_int_equal(t_expect(c, MQTT_PUBACK)->reason, MQTT_RC_PAYLOAD_FORMAT_INVALID);
    /* no local on a shared subscription: protocol error */
    buf_t b;
    buf_init(&b);
    const char *fs[1] = {"$share/g/x"};
    uint8_t opt = 0x04 | 1;
    mqtt_encode_subscribe(&b, 5, 1, fs, &opt, 1, NULL, 0);
    t_send(w, c, &b);
    t_expect_closed(c, MQTT_RC_PROTOCOL_ERROR);
    /* enhanced authentication is not supported */
    buf_t cp;
    buf_init(&cp);
    mqtt_prop_put_str(&cp, MQTT_PROP_AUTH_METHOD, "SCRAM", 5);
    mqtt_connect_opts co = {.proto_level = 5, .clean_start = true, .client_id = "am", .props = cp.data,
                            .props_len = cp.len};
    buf_init(&b);
    mqtt_encode_connect(&b, &co);
    buf_free(&cp);
    c = t_accept(w);
    c->ver = 5;
    t_send(w, c, &b);
    assert_int_equal(t_expect(c, MQTT_CONNACK)->reason, MQTT_RC_BAD_AUTH_METHOD);
    assert_true(c->closed);
    w_free(w);
}

static void test_write_failure(void **st) {
    (void)st;
    world *w = w_new(NULL);
    tconn *s = t_conn(w, 4, "s", 0);
    t_sub(w, s, "wf", 1);
    tconn *p = t_conn(w, 4, "p", 0);
    s->fail_writes = true;
    t_pub_done(w, p, "wf", "x", 1, false);
    assert_int_equal(s->writes_failed, 1);
    t_pub_done(w, p, "wf", "y", 1, false); /* the engine stops writing to a dead transport */
    assert_int_equal(s->writes_failed, 1);
    assert_false(s->closed);
    t_drop(w, s); /* the host reports the close */
    t_pub_done(w, p, "wf", "z", 0, false);
    t_none(p);
    w_free(w);
}

/* a 3.1.1 client publishing into its own full queue must not be held: its PUBACKs for the
 * deliveries it is sent sit behind the held PUBLISH, so nothing could ever drain */
static void test_self_publish_full_queue_no_deadlock_v4(void **st) {
    (void)st;
    mqtt_broker_conf conf;
    w_conf_defaults(&conf);
    conf.max_inflight = 1;
    conf.max_queued = 2;
    world *w = w_new(&conf);
    tconn *a = t_conn(w, 4, "a", 0);
    t_sub(w, a, "loop", 1);
    uint16_t pub[4], got;
    pub[0] = t_pub(w, a, "loop", "m0", 1, false);
    got = t_expect_pub(a, "loop", "m0", 1)->packet_id; /* routed before the PUBACK goes out */
    assert_int_equal(t_expect(a, MQTT_PUBACK)->packet_id, pub[0]);
    for (int i = 1; i < 4; i++) pub[i] = t_pub(w, a, "loop", "mx", 1, false);
    /* the client acknowledges what it got */
    t_ack(w, a, MQTT_PUBACK, got);
    w_run(w, 1000, 250);
    int acks = 0, pubs = 0;
    mqtt_packet *k;
    while ((k = t_next(a))) {
        if (k->type == MQTT_PUBACK) acks++;
        else if (k->type == MQTT_PUBLISH) pubs++;
    }
    assert_int_equal(acks, 3); /* every PUBLISH acknowledged */
    assert_int_equal(pubs, 1); /* the next delivery went out after its PUBACK */
    assert_int_equal(a->paused, 0);
    w_free(w);
}

int main(void) {
    te_log_set_level(getenv("TE_TEST_LOG") ? TE_LOG_DEBUG : TE_LOG_NONE);
    const struct CMUnitTest tests[] = {
        T2(connect_session_present),
        cmocka_unit_test(test_connect_assigned_id_v5),
        cmocka_unit_test(test_connect_empty_id_v4),
        cmocka_unit_test(test_connect_bad_version),
        T2(second_connect),
        cmocka_unit_test(test_first_packet_not_connect),
        cmocka_unit_test(test_connect_byte_by_byte),
        T2(publish_qos_flows),
        cmocka_unit_test(test_publish_mixed_versions),
        cmocka_unit_test(test_puback_no_subscribers_v5),
        T2(overlapping_one_copy),
        cmocka_unit_test(test_subscription_ids_v5),
        cmocka_unit_test(test_no_local_v5),
        cmocka_unit_test(test_retain_as_published_v5),
        cmocka_unit_test(test_retain_handling_v5),
        T2(retained_messages),
        T2(dollar_topics),
        T2(shared_round_robin),
        T2(will_basic),
        cmocka_unit_test(test_will_disconnect_with_will_v5),
        cmocka_unit_test(test_will_delay_v5),
        T2(takeover),
        T2(takeover_will),
        T2(persistent_queue),
        T2(inflight_redelivery),
        T2(inflight_window),
        cmocka_unit_test(test_receive_maximum_from_client_v5),
        cmocka_unit_test(test_receive_maximum_exceeded_v5),
        T2(keepalive_timeout),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_session_expiry_v5),
        cmocka_unit_test(test_topic_alias_from_client_v5),
        cmocka_unit_test(test_topic_alias_to_client_v5),
        cmocka_unit_test(test_message_expiry_v5),
        cmocka_unit_test(test_max_packet_size_v5),
        cmocka_unit_test(test_client_max_packet_size_v5),
        T2(invalid_topic),
        T2(malformed),
        cmocka_unit_test(test_queue_full_v5),
        cmocka_unit_test(test_max_queued_bytes_v5),
        cmocka_unit_test(test_max_connections),
        cmocka_unit_test(test_persistent_client_expiration),
        cmocka_unit_test(test_queue_full_held_v4),
        cmocka_unit_test(test_slow_subscriber_qos0_dropped),
        cmocka_unit_test(test_internal_subscriber),
        cmocka_unit_test(test_sys_topics),
        cmocka_unit_test(test_shutdown),
        cmocka_unit_test(test_auth_refused),
        T2(acl),
        cmocka_unit_test(test_alias_not_burnt_by_dropped_message_v5),
        cmocka_unit_test(test_will_kept_on_error_disconnect_v5),
        T2(offline_full_queue_does_not_block),
        cmocka_unit_test(test_mqtt31),
        T2(takeover_inflight),
        cmocka_unit_test(test_pubrel_unknown_v5),
        cmocka_unit_test(test_pubrec_error_ends_exchange_v5),
        cmocka_unit_test(test_queue_qos0_offline),
        cmocka_unit_test(test_v5_refusals),
        cmocka_unit_test(test_write_failure),
        cmocka_unit_test(test_self_publish_full_queue_no_deadlock_v4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
