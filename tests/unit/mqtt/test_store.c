/* tests/unit/mqtt/test_store: broker persistence (mqtt/store) end to end through the fake host of
 * broker_harness.h: a broker with a store in a temporary directory builds up sessions,
 * subscriptions, queued and in-flight QoS 1/2 deliveries, incoming QoS 2 state and retained
 * messages; it is freed, a new broker loads the log, and clients reconnect to find their state.
 * Also: a torn or garbage tail loads what is intact, and compaction keeps the state. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/clock.h"
#include "broker_harness.h"
#include "mqtt/store.h"

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture;

static int setup(void **st) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/te_store_XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/mqtt.db", f->dir);
    *st = f;
    return 0;
}

static int teardown(void **st) {
    fixture *f = *st;
    unlink(f->path);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->path);
    unlink(tmp);
    rmdir(f->dir);
    free(f);
    return 0;
}

typedef struct pworld {
    world *w;
    mqtt_store *st;
} pworld;

static pworld p_open(fixture *f) {
    pworld p;
    p.w = w_new(NULL);
    p.w->now = te_mono_ms(); /* the store converts monotonic times with the real clock */
    char err[256] = "";
    p.st = mqtt_store_open(f->dir, MQTT_FSYNC_NEVER, 0, err, sizeof err);
    if (!p.st) fail_msg("store open: %s", err);
    if (mqtt_store_load(p.st, p.w->b, err, sizeof err)) fail_msg("store load: %s", err);
    mqtt_broker_set_store(p.w->b, p.st);
    return p;
}

static void p_flush(pworld *p) { assert_int_equal(mqtt_store_flush(p->st, p->w->now), 0); }

/* the process goes away: flush what is pending (as the host does each loop turn) and free all */
static void p_close(pworld *p) {
    p_flush(p);
    w_free_conns(p->w); /* transports gone: the broker records the sessions as offline */
    p_flush(p);
    mqtt_broker_free(p->w->b);
    free(p->w);
    mqtt_store_close(p->st);
}

/* crash: no orderly close of the connections, just what reached the file */
static void p_crash(pworld *p) {
    p_flush(p);
    for (int i = 0; i < p->w->n; i++) {
        buf_free(&p->w->conns[i].out);
        buf_free(&p->w->conns[i].last);
    }
    p->w->n = 0;
    mqtt_broker_free(p->w->b);
    free(p->w);
    mqtt_store_close(p->st);
}

static off_t file_size(const char *path) {
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return sb.st_size;
}

/* Build the reference state; returns the packet ids the subscriber holds (see the checks). */
typedef struct state_ids {
    uint16_t a1, a2, a3;
} state_ids;

static state_ids build_state(pworld *p, uint8_t ver) {
    world *w = p->w;
    state_ids ids;
    copts so = {.id = "sub", .clean = false, .session_expiry = 3600};
    tconn *s = t_conn_ex(w, ver, &so, 0);
    t_sub_ex(w, s, "a/#", 2, 11);
    t_sub_ex(w, s, "b", 1, 0);
    tconn *pub = t_conn(w, ver, "pub", 0);
    t_pub_done(w, pub, "ret/x", "kept", 1, true);
    t_pub_done(w, pub, "ret/y", "gone", 0, true);
    t_pub_done(w, pub, "ret/y", "", 0, true); /* deleted */
    t_pub_done(w, pub, "a/1", "one", 1, false);
    t_pub_done(w, pub, "a/2", "two", 2, false);
    t_pub_done(w, pub, "a/3", "three", 2, false);
    ids.a1 = t_expect_pub(s, "a/1", "one", 1)->packet_id;
    ids.a2 = t_expect_pub(s, "a/2", "two", 2)->packet_id;
    ids.a3 = t_expect_pub(s, "a/3", "three", 2)->packet_id;
    t_ack(w, s, MQTT_PUBREC, ids.a2); /* a/2 waits for PUBCOMP, a/1 and a/3 for their first ack */
    t_expect(s, MQTT_PUBREL);
    t_none(s);
    t_drop(w, s);
    t_pub_done(w, pub, "a/4", "four", 1, false); /* queued while offline */
    t_pub_done(w, pub, "b", "bee", 2, false);
    t_pub_done(w, pub, "a/0", "zero", 0, false); /* QoS 0: not queued */
    /* a persistent publisher with an incoming QoS 2 message before PUBREL */
    copts qo = {.id = "q2pub", .clean = false, .session_expiry = 3600};
    tconn *q = t_conn_ex(w, ver, &qo, 0);
    buf_t b;
    buf_init(&b);
    mqtt_encode_publish(&b, ver, 2, false, false, 77, "a/q2", 4, NULL, 0, "dup?", 4);
    t_send(w, q, &b);
    assert_int_equal(t_expect(q, MQTT_PUBREC)->packet_id, 77);
    return ids;
}

static void check_state(pworld *p, uint8_t ver, state_ids ids) {
    world *w = p->w;
    /* the incoming QoS 2 id survived: a retransmission is not delivered again */
    copts qo = {.id = "q2pub", .clean = false, .session_expiry = 3600};
    tconn *q = t_conn_ex(w, ver, &qo, 1);
    buf_t b;
    buf_init(&b);
    mqtt_encode_publish(&b, ver, 2, false, true, 77, "a/q2", 4, NULL, 0, "dup?", 4);
    t_send(w, q, &b);
    assert_int_equal(t_expect(q, MQTT_PUBREC)->packet_id, 77);
    t_ack(w, q, MQTT_PUBREL, 77);
    mqtt_packet *k = t_expect(q, MQTT_PUBCOMP);
    assert_int_equal(k->reason, 0);

    copts so = {.id = "sub", .clean = false, .session_expiry = 3600};
    tconn *s = t_conn_ex(w, ver, &so, 1);
    k = t_expect_pub(s, "a/1", "one", 1);
    assert_true(k->dup);
    assert_int_equal(k->packet_id, ids.a1);
    uint16_t p1 = k->packet_id;
    /* a/2 (PUBREL stage) and a/3, in the order they went in flight */
    uint16_t p3 = 0;
    bool saw_rel = false;
    for (int i = 0; i < 2; i++) {
        k = t_next(s);
        assert_non_null(k);
        if (k->type == MQTT_PUBREL) {
            assert_int_equal(k->packet_id, ids.a2);
            saw_rel = true;
        } else {
            assert_int_equal(k->type, MQTT_PUBLISH);
            assert_true(bytes_eq(k->topic, "a/3"));
            assert_true(k->dup);
            assert_int_equal(k->qos, 2);
            assert_int_equal(k->packet_id, ids.a3);
            p3 = k->packet_id;
        }
    }
    assert_true(saw_rel);
    /* then the queue: a/q2 (the QoS 2 publish routed before the restart), a/4, b */
    int got = 0;
    while ((k = t_next(s))) {
        assert_int_equal(k->type, MQTT_PUBLISH);
        assert_false(k->dup);
        if (bytes_eq(k->topic, "a/4")) {
            assert_true(bytes_eq(k->payload, "four"));
            if (ver == 5) {
                mqtt_prop v = {0};
                assert_int_equal(prop_find(k->props.raw, MQTT_PROP_SUBSCRIPTION_ID, 0, &v), 1);
                assert_int_equal(v.num, 11);
            }
            got |= 1;
        } else if (bytes_eq(k->topic, "b")) {
            assert_true(bytes_eq(k->payload, "bee"));
            assert_int_equal(k->qos, 1);
            got |= 2;
        } else if (bytes_eq(k->topic, "a/q2")) {
            got |= 4;
        } else {
            fail_msg("unexpected %.*s", (int)k->topic.len, k->topic.p);
        }
        t_pub_ack(w, s, k->qos, k->packet_id);
    }
    assert_int_equal(got, 7);
    t_ack(w, s, MQTT_PUBACK, p1);
    t_ack(w, s, MQTT_PUBCOMP, ids.a2);
    t_pub_ack(w, s, 2, p3);
    t_none(s);
    assert_int_equal(mqtt_broker_stats_get(w->b)->inflight_count, 0);
    assert_int_equal(mqtt_broker_stats_get(w->b)->queued_count, 0);
    /* subscriptions work */
    tconn *pub = t_conn(w, ver, "pub2", 0);
    t_pub_done(w, pub, "a/5", "five", 1, false);
    k = t_expect_pub(s, "a/5", "five", 1);
    t_pub_ack(w, s, 1, k->packet_id);
    /* retained messages */
    tconn *r = t_conn(w, ver, "r", 0);
    t_sub(w, r, "ret/#", 1);
    k = t_expect_pub(r, "ret/x", "kept", 1);
    assert_true(k->retain);
    t_pub_ack(w, r, 1, k->packet_id);
    t_none(r);
}

static void restart_roundtrip(void **st, uint8_t ver, bool crash) {
    fixture *f = *st;
    pworld p = p_open(f);
    state_ids ids = build_state(&p, ver);
    if (crash) p_crash(&p);
    else p_close(&p);
    p = p_open(f);
    assert_int_equal(mqtt_broker_stats_get(p.w->b)->retained_count, 1);
    check_state(&p, ver, ids);
    p_close(&p);
    /* and once more: the state after the acknowledgements is empty of deliveries */
    p = p_open(f);
    assert_int_equal(mqtt_broker_stats_get(p.w->b)->inflight_count, 0);
    assert_int_equal(mqtt_broker_stats_get(p.w->b)->queued_count, 0);
    assert_int_equal(mqtt_broker_stats_get(p.w->b)->retained_count, 1);
    copts so = {.id = "sub", .clean = false, .session_expiry = 3600};
    tconn *s = t_conn_ex(p.w, ver, &so, 1);
    t_none(s);
    p_close(&p);
}

static void test_restart_v4(void **st) { restart_roundtrip(st, 4, false); }
static void test_restart_v5(void **st) { restart_roundtrip(st, 5, false); }
static void test_crash_v4(void **st) { restart_roundtrip(st, 4, true); }
static void test_crash_v5(void **st) { restart_roundtrip(st, 5, true); }

/* a clean session is never stored; a persistent one that ends is deleted */
static void test_clean_and_ended_sessions(void **st) {
    fixture *f = *st;
    pworld p = p_open(f);
    tconn *c = t_conn(p.w, 4, "clean", 0);
    t_sub(p.w, c, "x", 1);
    copts o = {.id = "short", .clean = false, .session_expiry = 1};
    tconn *s = t_conn_ex(p.w, 5, &o, 0);
    t_sub(p.w, s, "x", 1);
    t_disconnect(p.w, s, 0, NULL);
    w_run(p.w, 1500, 250); /* expires */
    copts o2 = {.id = "gone", .clean = false, .session_expiry = 100};
    s = t_conn_ex(p.w, 5, &o2, 0);
    t_sub(p.w, s, "x", 1);
    t_disconnect(p.w, s, 0, NULL);
    copts o3 = {.id = "gone", .clean = true};
    s = t_conn_ex(p.w, 5, &o3, 0); /* clean start: the stored session ends */
    t_disconnect(p.w, s, 0, NULL);
    p_close(&p);
    p = p_open(f);
    assert_int_equal(mqtt_broker_stats_get(p.w->b)->sessions_count, 0);
    assert_int_equal(mqtt_broker_stats_get(p.w->b)->subscriptions_count, 0);
    t_conn_ex(p.w, 5, &o, 0);
    t_conn_ex(p.w, 5, &o2, 0);
    copts o4 = {.id = "clean", .clean = false};
    t_conn_ex(p.w, 4, &o4, 0);
    p_close(&p);
}

static void torn_tail(void **st, int how) {
    fixture *f = *st;
    pworld p = p_open(f);
    world *w = p.w;
    copts so = {.id = "sub", .clean = false, .session_expiry = 3600};
    tconn *s = t_conn_ex(w, 5, &so, 0);
    t_sub(w, s, "t/#", 1);
    t_drop(w, s);
    tconn *pub = t_conn(w, 5, "pub", 0);
    t_pub_done(w, pub, "t/1", "one", 1, true);
    p_flush(&p);
    off_t good = file_size(f->path);
    t_pub_done(w, pub, "t/2", "two", 1, false); /* the record that gets torn */
    p_crash(&p);
    off_t full = file_size(f->path);
    assert_true(full > good);
    if (how == 0) {
        assert_int_equal(truncate(f->path, full - 3), 0);
    } else if (how == 1) {
        int fd = open(f->path, O_WRONLY | O_APPEND);
        assert_true(fd >= 0);
        static const uint8_t junk[] = {0x00, 0x00, 0x00, 0x20, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3};
        assert_int_equal(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
        close(fd);
    } else {
        /* flip a byte inside the last record: its CRC fails */
        int fd = open(f->path, O_RDWR);
        uint8_t c;
        assert_int_equal(pread(fd, &c, 1, full - 2), 1);
        c ^= 0xFF;
        assert_int_equal(pwrite(fd, &c, 1, full - 2), 1);
        close(fd);
    }
    p = p_open(f);
    s = t_conn_ex(p.w, 5, &so, 1);
    mqtt_packet *k = t_expect_pub(s, "t/1", "one", 1);
    t_pub_ack(p.w, s, 1, k->packet_id);
    if (how == 1) { /* garbage after intact records: t/2 is intact */
        k = t_expect_pub(s, "t/2", "two", 1);
        t_pub_ack(p.w, s, 1, k->packet_id);
    }
    t_none(s);
    tconn *r = t_conn(p.w, 5, "r", 0);
    t_sub(p.w, r, "t/#", 0);
    t_expect_pub(r, "t/1", "one", 0);
    t_none(r);
    p_close(&p);
    /* the cut file loads cleanly again */
    p = p_open(f);
    assert_int_equal(mqtt_broker_stats_get(p.w->b)->retained_count, 1);
    p_close(&p);
}
static void test_torn_truncated(void **st) { torn_tail(st, 0); }
static void test_torn_garbage(void **st) { torn_tail(st, 1); }
static void test_torn_crc(void **st) { torn_tail(st, 2); }

static void test_compaction_keeps_state(void **st) {
    fixture *f = *st;
    pworld p = p_open(f);
    world *w = p.w;
    copts so = {.id = "sub", .clean = false, .session_expiry = 3600};
    tconn *s = t_conn_ex(w, 5, &so, 0);
    t_sub(w, s, "c/#", 1);
    tconn *pub = t_conn(w, 5, "pub", 0);
    /* churn: many delivered-and-acked messages make the log large */
    for (int i = 0; i < 200; i++) {
        t_pub_done(w, pub, "c/churn", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1, i % 10 == 0);
        mqtt_packet *k = t_expect_pub(s, "c/churn", NULL, 1);
        t_pub_ack(w, s, 1, k->packet_id);
    }
    t_pub_done(w, pub, "c/kept", "in flight", 1, false);
    uint16_t inflight = t_expect_pub(s, "c/kept", "in flight", 1)->packet_id;
    t_drop(w, s);
    t_pub_done(w, pub, "c/q", "queued", 1, false);
    p_flush(&p);
    off_t before = file_size(f->path);
    assert_int_equal(mqtt_store_compact(p.st, w->b), 0);
    off_t after = file_size(f->path);
    assert_true(after < before / 4);
    /* records appended after a compaction land in the new file */
    t_pub_done(w, pub, "c/after", "late", 1, false);
    p_crash(&p);
    p = p_open(f);
    s = t_conn_ex(p.w, 5, &so, 1);
    mqtt_packet *k = t_expect_pub(s, "c/kept", "in flight", 1);
    assert_true(k->dup);
    assert_int_equal(k->packet_id, inflight);
    t_ack(p.w, s, MQTT_PUBACK, inflight);
    k = t_expect_pub(s, "c/q", "queued", 1);
    t_pub_ack(p.w, s, 1, k->packet_id);
    k = t_expect_pub(s, "c/after", "late", 1);
    t_pub_ack(p.w, s, 1, k->packet_id);
    t_none(s);
    tconn *r = t_conn(p.w, 5, "r", 0);
    t_sub(p.w, r, "c/#", 0);
    assert_true(t_expect_pub(r, "c/churn", NULL, 0)->retain);
    t_none(r);
    p_close(&p);
}

/* message expiry is stored in wall-clock time and honoured after a restart */
static void test_expiry_across_restart(void **st) {
    fixture *f = *st;
    pworld p = p_open(f);
    copts so = {.id = "sub", .clean = false, .session_expiry = 3600};
    tconn *s = t_conn_ex(p.w, 5, &so, 0);
    t_sub(p.w, s, "e/#", 1);
    t_drop(p.w, s);
    tconn *pub = t_conn(p.w, 5, "pub", 0);
    buf_t pr;
    buf_init(&pr);
    mqtt_prop_put_u32(&pr, MQTT_PROP_MESSAGE_EXPIRY, 1000);
    t_pub_ex(p.w, pub, "e/long", "l", 1, 1, false, &pr);
    t_expect(pub, MQTT_PUBACK);
    buf_free(&pr);
    p_close(&p);
    p = p_open(f);
    s = t_conn_ex(p.w, 5, &so, 1);
    mqtt_packet *k = t_expect_pub(s, "e/long", "l", 1);
    mqtt_prop v = {0};
    assert_int_equal(prop_find(k->props.raw, MQTT_PROP_MESSAGE_EXPIRY, 0, &v), 1);
    assert_true(v.num >= 998 && v.num <= 1000);
    t_pub_ack(p.w, s, 1, k->packet_id);
    p_close(&p);
}

int main(void) {
    te_log_set_level(getenv("TE_TEST_LOG") ? TE_LOG_DEBUG : TE_LOG_NONE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_restart_v4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_v5, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_v4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_v5, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clean_and_ended_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_crc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction_keeps_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_across_restart, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
