/* LoRaWAN server engine (lorawan/ns.h) without sockets: PUSH_DATA datagrams in, MQTT messages and
 * PULL_RESP datagrams out. ABP and OTAA devices, dedup over gateways, FCnt replay, MAC/ADR,
 * downlink queue, TX_ACK fallback to RX2, and hostile datagrams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "lorawan/crypto.h"
#include "lorawan/formatter.h"
#include "lorawan/frame.h"
#include "lorawan/ns.h"

typedef struct {
    char topic[200];
    char *payload;
} pub;

static pub pubs[64];
static int npubs;
static uint8_t sent[16][1024];
static size_t sent_len[16];
static int nsent;
static int64_t wall = 1764072000000000LL;
static int nonce_seen[65536];

static void io_send(void *ud, const lw_ns_addr *to, const uint8_t *d, size_t n) {
    if (nsent < 16 && n <= sizeof sent[0]) {
        memcpy(sent[nsent], d, n);
        sent_len[nsent++] = n;
    }
}
static void io_publish(void *ud, const char *topic, const uint8_t *p, size_t n) {
    if (npubs >= 64) return;
    snprintf(pubs[npubs].topic, sizeof pubs[npubs].topic, "%s", topic);
    pubs[npubs].payload = strndup((const char *)p, n);
    npubs++;
}
static int io_devnonce(void *ud, const lw_dev_rec *d, uint16_t nonce) {
    if (nonce_seen[nonce]) return 0;
    nonce_seen[nonce] = 1;
    return 1;
}
static int64_t io_wall(void *ud) { return wall; }

static void reset_io(void) {
    for (int i = 0; i < npubs; i++) free(pubs[i].payload);
    npubs = 0;
    nsent = 0;
}

static const uint8_t NWK[16] = {0x44, 0x02, 0x42, 0x41, 0xed, 0x4c, 0xe9, 0xa6, 0x8c, 0x6a, 0x8b, 0xc0, 0x55, 0x23, 0x3f, 0xd3};
static const uint8_t APP[16] = {0xec, 0x92, 0x58, 0x02, 0xae, 0x43, 0x0c, 0xa7, 0x7f, 0xd3, 0xdd, 0x73, 0xcb, 0x2c, 0xc5, 0x88};
static const uint8_t APPKEY[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};

static lw_ns *make_ns(uint32_t dedup) {
    lw_ns_conf c;
    lw_ns_conf_defaults(&c);
    c.dedup_ms = dedup;
    lw_ns_io io = {NULL, io_send, io_publish, NULL, io_devnonce, io_wall, NULL};
    lw_ns *ns = lw_ns_new(&c, &io, NULL);
    assert_non_null(ns);
    lw_app_rec a;
    memset(&a, 0, sizeof a);
    strcpy(a.app_id, "lab");
    a.fmt = LW_FMT_NONE;
    assert_int_equal(lw_ns_app_put(ns, &a), 0);
    lw_dev_rec d;
    memset(&d, 0, sizeof d);
    strcpy(d.app_id, "lab");
    strcpy(d.dev_id, "abp1");
    d.fmt = LW_FMT_INHERIT;
    d.mac_minor = 4;
    strcpy(d.region, "EU868");
    d.dev_class = 'A';
    d.adr = true;
    d.s.active = true;
    d.s.dev_addr = 0x26011bda;
    memcpy(d.s.nwk_s_key, NWK, 16);
    memcpy(d.s.app_s_key, APP, 16);
    assert_int_equal(lw_ns_dev_put(ns, &d), 0);
    memset(&d, 0, sizeof d);
    strcpy(d.app_id, "lab");
    strcpy(d.dev_id, "otaa1");
    d.fmt = LW_FMT_INHERIT;
    d.otaa = true;
    memcpy(d.app_key, APPKEY, 16);
    for (int i = 0; i < 8; i++) d.dev_eui[i] = (uint8_t)(0x10 + i), d.join_eui[i] = (uint8_t)(0x70 + i);
    strcpy(d.region, "EU868");
    d.adr = true;
    assert_int_equal(lw_ns_dev_put(ns, &d), 0);
    return ns;
}

static size_t up_frame(uint8_t *out, uint32_t fcnt, bool confirmed, const char *fopts_hex, const uint8_t *keys_nwk) {
    lw_frame f;
    memset(&f, 0, sizeof f);
    f.mtype = confirmed ? LW_MTYPE_CONFIRMED_UP : LW_MTYPE_UNCONFIRMED_UP;
    f.dev_addr = 0x26011bda;
    f.fctrl.adr = true;
    if (fopts_hex) {
        size_t n = strlen(fopts_hex) / 2;
        for (size_t i = 0; i < n; i++) sscanf(fopts_hex + 2 * i, "%2hhx", &f.fopts[i]);
        f.fopts_len = (uint8_t)n;
    }
    f.has_fport = true;
    f.fport = 1;
    const uint8_t pl[] = {0x01, 0x67, 0x01, 0x10};
    memcpy(f.frm, pl, sizeof pl);
    f.frm_len = sizeof pl;
    lw_keys k = {.nwk_s_key = keys_nwk, .app_s_key = APP};
    size_t n = 0;
    assert_int_equal(lw_frame_seal(&f, &k, fcnt, out, LW_PHY_MAX, &n, NULL, 0), 0);
    return n;
}

static size_t push_data(uint8_t *d, int gw, const uint8_t *phy, size_t n, uint32_t tmst, float snr, const char *datr) {
    unsigned char b64[400];
    EVP_EncodeBlock(b64, phy, (int)n);
    d[0] = 2;
    d[1] = 0x12;
    d[2] = (uint8_t)gw;
    d[3] = 0;
    for (int i = 0; i < 8; i++) d[4 + i] = (uint8_t)(0xa0 + gw);
    int len = snprintf((char *)d + 12, 900,
                       "{\"rxpk\":[{\"tmst\":%u,\"chan\":0,\"rfch\":0,\"freq\":868.1,\"stat\":1,\"modu\":\"LORA\","
                       "\"datr\":\"%s\",\"codr\":\"4/5\",\"rssi\":-50,\"lsnr\":%.1f,\"size\":%zu,\"data\":\"%s\"}]}",
                       tmst, datr, snr, n, b64);
    return 12 + (size_t)len;
}

static size_t pull_data(uint8_t *d, int gw) {
    d[0] = 2;
    d[1] = 0;
    d[2] = 1;
    d[3] = 2;
    for (int i = 0; i < 8; i++) d[4 + i] = (uint8_t)(0xa0 + gw);
    return 12;
}

static lw_ns_addr addr_of(int gw) {
    lw_ns_addr a;
    memset(&a, 0, sizeof a);
    a.len = 4;
    a.b[0] = (uint8_t)gw;
    return a;
}

static int count_topic(const char *suffix) {
    int n = 0;
    size_t sl = strlen(suffix);
    for (int i = 0; i < npubs; i++) {
        size_t tl = strlen(pubs[i].topic);
        if (tl >= sl && !strcmp(pubs[i].topic + tl - sl, suffix)) n++;
    }
    return n;
}

static void test_dedup_three_gateways(void **st) {
    reset_io();
    lw_ns *ns = make_ns(200);
    uint8_t phy[256], dg[1024];
    size_t n = up_frame(phy, 1, false, NULL, NWK);
    for (int g = 0; g < 3; g++) {
        lw_ns_addr a = addr_of(g);
        size_t dl = push_data(dg, g, phy, n, 1000u * (unsigned)g, (float)g, "SF7BW125");
        lw_ns_udp_input(ns, &a, dg, dl, 1000 + (uint64_t)g * 10);
    }
    assert_int_equal(nsent, 3); /* three PUSH_ACKs */
    assert_int_equal(npubs, 0);
    assert_int_equal(lw_ns_next_deadline(ns), 1200);
    lw_ns_tick(ns, 1199);
    assert_int_equal(npubs, 0);
    lw_ns_tick(ns, 1200);
    assert_int_equal(count_topic("/up"), 1);
    assert_string_equal(pubs[0].topic, "v3/lab@ttn/devices/abp1/up");
    json_t *j = json_loads(pubs[0].payload, 0, NULL);
    assert_non_null(j);
    json_t *um = json_object_get(j, "uplink_message");
    assert_int_equal(json_integer_value(json_object_get(um, "f_cnt")), 1);
    assert_int_equal(json_array_size(json_object_get(um, "rx_metadata")), 3);
    json_decref(j);
    const lw_ns_stats *s = lw_ns_stats_get(ns);
    assert_int_equal(s->uplinks, 1);
    assert_int_equal(s->rxpk_dup, 2);
    /* replay of an older FCnt and the same FCnt later */
    reset_io();
    n = up_frame(phy, 5, false, NULL, NWK);
    lw_ns_addr a0 = addr_of(0);
    size_t dl = push_data(dg, 0, phy, n, 5000, 1, "SF7BW125");
    lw_ns_udp_input(ns, &a0, dg, dl, 2000);
    lw_ns_tick(ns, 2300);
    assert_int_equal(count_topic("/up"), 1);
    n = up_frame(phy, 3, false, NULL, NWK);
    dl = push_data(dg, 0, phy, n, 6000, 1, "SF7BW125");
    lw_ns_udp_input(ns, &a0, dg, dl, 3000);
    lw_ns_tick(ns, 3300);
    assert_int_equal(count_topic("/up"), 1);
    assert_int_equal(lw_ns_stats_get(ns)->fcnt_replays, 1);
    /* wrong key: MIC failure, nobody credited */
    uint8_t other[16] = {1};
    n = up_frame(phy, 9, false, NULL, other);
    dl = push_data(dg, 0, phy, n, 7000, 1, "SF7BW125");
    lw_ns_udp_input(ns, &a0, dg, dl, 4000);
    lw_ns_tick(ns, 4300);
    assert_int_equal(lw_ns_stats_get(ns)->mic_failures, 1);
    assert_int_equal(count_topic("/up"), 1);
    reset_io();
    lw_ns_free(ns);
}

static void test_confirmed_uplink_gets_ack_in_rx1(void **st) {
    reset_io();
    lw_ns *ns = make_ns(0);
    uint8_t phy[256], dg[1024];
    for (int g = 0; g < 2; g++) {
        lw_ns_addr a = addr_of(g);
        size_t dl = pull_data(dg, g);
        lw_ns_udp_input(ns, &a, dg, dl, 10);
    }
    reset_io();
    size_t n = up_frame(phy, 1, true, NULL, NWK);
    lw_ns_addr a1 = addr_of(1);
    size_t dl = push_data(dg, 1, phy, n, 4000000000u, 3.0f, "SF9BW125");
    lw_ns_udp_input(ns, &a1, dg, dl, 100);
    /* PUSH_ACK + PULL_RESP */
    assert_int_equal(nsent, 2);
    assert_int_equal(sent[1][3], 0x03);
    json_t *j = json_loadb((const char *)sent[1] + 4, sent_len[1] - 4, 0, NULL);
    assert_non_null(j);
    json_t *tx = json_object_get(j, "txpk");
    assert_int_equal(json_integer_value(json_object_get(tx, "tmst")), (uint32_t)(4000000000u + 1000000u));
    assert_string_equal(json_string_value(json_object_get(tx, "datr")), "SF9BW125");
    assert_true(json_is_true(json_object_get(tx, "ipol")));
    /* the frame: an unconfirmed downlink with the ACK bit, FCnt 0 */
    const char *b64 = json_string_value(json_object_get(tx, "data"));
    uint8_t down[256];
    int dn = EVP_DecodeBlock(down, (const unsigned char *)b64, (int)strlen(b64));
    while (dn > 0 && b64[strlen(b64) - 1] == '=' && dn > (int)json_integer_value(json_object_get(tx, "size"))) dn--;
    lw_frame f;
    assert_int_equal(lw_frame_parse(down, (size_t)dn, LW_EXPECT_DOWN, &f, NULL, 0), 0);
    assert_int_equal(f.mtype, LW_MTYPE_UNCONFIRMED_DOWN);
    assert_true(f.fctrl.ack);
    assert_int_equal(f.fcnt16, 0);
    lw_keys k = {.nwk_s_key = NWK, .app_s_key = APP};
    assert_int_equal(lw_mic_check(down, (size_t)dn, &f, &k, 0), 0);
    json_decref(j);
    reset_io();
    lw_ns_free(ns);
}

static void test_join_and_devnonce_replay(void **st) {
    reset_io();
    memset(nonce_seen, 0, sizeof nonce_seen);
    lw_ns *ns = make_ns(0);
    uint8_t dg[1024], phy[64];
    lw_ns_addr a = addr_of(0);
    size_t dl = pull_data(dg, 0);
    lw_ns_udp_input(ns, &a, dg, dl, 1);
    lw_frame jr;
    memset(&jr, 0, sizeof jr);
    jr.mtype = LW_MTYPE_JOIN_REQUEST;
    for (int i = 0; i < 8; i++) jr.dev_eui[i] = (uint8_t)(0x10 + i), jr.join_eui[i] = (uint8_t)(0x70 + i);
    jr.dev_nonce = 42;
    lw_keys k = {.app_key = APPKEY};
    size_t n = 0;
    assert_int_equal(lw_frame_seal(&jr, &k, 0, phy, sizeof phy, &n, NULL, 0), 0);
    reset_io();
    dl = push_data(dg, 0, phy, n, 100, 5, "SF7BW125");
    lw_ns_udp_input(ns, &a, dg, dl, 10);
    assert_int_equal(count_topic("/join"), 1);
    assert_int_equal(nsent, 2);
    json_t *j = json_loadb((const char *)sent[1] + 4, sent_len[1] - 4, 0, NULL);
    json_t *tx = json_object_get(j, "txpk");
    assert_int_equal(json_integer_value(json_object_get(tx, "tmst")), 5000100);
    const char *b64 = json_string_value(json_object_get(tx, "data"));
    uint8_t ja[64];
    int jn = EVP_DecodeBlock(ja, (const unsigned char *)b64, (int)strlen(b64));
    jn = (int)json_integer_value(json_object_get(tx, "size"));
    lw_frame f;
    assert_int_equal(lw_frame_parse(ja, (size_t)jn, LW_EXPECT_DOWN, &f, NULL, 0), 0);
    assert_int_equal(lw_join_accept_open(APPKEY, &f, NULL, 0), 0);
    assert_int_equal(f.net_id, 0x13);
    assert_int_equal(f.dev_addr >> 25, 0x13);
    lw_dev_rec d;
    assert_int_equal(lw_ns_dev_get(ns, "lab", "otaa1", &d), 0);
    assert_true(d.s.active);
    assert_int_equal(d.s.dev_addr, f.dev_addr);
    assert_string_equal(d.app_id, "lab");
    assert_string_equal(d.dev_id, "otaa1");
    assert_int_equal(lw_ns_dev_get(ns, "lab", "nope", &d), -1);
    json_decref(j);
    /* the same JoinRequest again: refused */
    reset_io();
    lw_ns_udp_input(ns, &a, dg, dl, 20);
    assert_int_equal(count_topic("/join"), 0);
    assert_int_equal(lw_ns_stats_get(ns)->devnonce_replays, 1);
    reset_io();
    lw_ns_free(ns);
}

static void test_hostile_datagrams(void **st) {
    reset_io();
    lw_ns *ns = make_ns(100);
    lw_ns_addr a = addr_of(0);
    uint8_t buf[1500];
    uint32_t x = 12345;
    for (int i = 0; i < 20000; i++) {
        size_t n = (size_t)(x % sizeof buf);
        for (size_t k = 0; k < n; k++) {
            x = x * 1103515245u + 12345u;
            buf[k] = (uint8_t)(x >> 16);
        }
        if (n > 4 && (i & 1)) {
            buf[0] = 2;
            buf[3] = (uint8_t)(i % 6);
        }
        lw_ns_udp_input(ns, &a, buf, n, (uint64_t)i);
        lw_ns_tick(ns, (uint64_t)i);
        reset_io();
    }
    lw_ns_tick(ns, 1000000);
    assert_true(lw_ns_stats_get(ns)->bad_datagrams > 0);
    reset_io();
    lw_ns_free(ns);
}

static void test_downlink_queue_rx2_fallback(void **st) {
    reset_io();
    lw_ns *ns = make_ns(0);
    uint8_t phy[256], dg[1024];
    lw_ns_addr a = addr_of(0);
    size_t dl = pull_data(dg, 0);
    lw_ns_udp_input(ns, &a, dg, dl, 1);
    char err[200];
    const char *push = "{\"downlinks\":[{\"f_port\":7,\"frm_payload\":\"AQID\"}]}";
    assert_int_equal(lw_ns_downlink_push(ns, "lab", "abp1", push, strlen(push), false, 2, err, sizeof err), 0);
    assert_int_equal(count_topic("/down/queued"), 1);
    assert_int_not_equal(lw_ns_downlink_push(ns, "lab", "nobody", push, strlen(push), false, 2, err, sizeof err), 0);
    const char *bad = "{\"downlinks\":[{\"f_port\":0,\"frm_payload\":\"AQID\"}]}";
    assert_int_not_equal(lw_ns_downlink_push(ns, "lab", "abp1", bad, strlen(bad), false, 2, err, sizeof err), 0);
    reset_io();
    size_t n = up_frame(phy, 1, false, NULL, NWK);
    dl = push_data(dg, 0, phy, n, 1000, 5, "SF7BW125");
    lw_ns_udp_input(ns, &a, dg, dl, 10);
    assert_int_equal(nsent, 2);
    /* TX_ACK TOO_LATE -> the same frame in RX2 */
    uint8_t ack[128];
    memcpy(ack, sent[1], 3);
    ack[0] = 2;
    ack[3] = 5;
    for (int i = 0; i < 8; i++) ack[4 + i] = 0xa0;
    int al = 12 + snprintf((char *)ack + 12, 100, "{\"txpk_ack\":{\"error\":\"TOO_LATE\"}}");
    reset_io();
    lw_ns_udp_input(ns, &a, ack, (size_t)al, 20);
    assert_int_equal(nsent, 1);
    json_t *j = json_loadb((const char *)sent[0] + 4, sent_len[0] - 4, 0, NULL);
    json_t *tx = json_object_get(j, "txpk");
    assert_int_equal(json_integer_value(json_object_get(tx, "tmst")), 1000 + 2000000);
    assert_string_equal(json_string_value(json_object_get(tx, "datr")), "SF12BW125");
    json_decref(j);
    /* no TX_ACK for it: after the timeout it counts as sent */
    lw_ns_tick(ns, 5000);
    assert_int_equal(count_topic("/down/sent"), 1);
    reset_io();
    lw_ns_free(ns);
}

/* the compact device store: thousands of devices, several on one DevAddr (matched by MIC), removals
 * and re-puts (slots reused), lw_ns_dev_get, the EUI index for joins, an application removed */
static void put_abp(lw_ns *ns, const char *app, int i, uint32_t addr) {
    lw_dev_rec d;
    memset(&d, 0, sizeof d);
    snprintf(d.app_id, sizeof d.app_id, "%s", app);
    snprintf(d.dev_id, sizeof d.dev_id, "dev-%d", i);
    d.fmt = LW_FMT_INHERIT;
    strcpy(d.region, "EU868");
    d.dev_class = 'A';
    d.s.active = true;
    d.s.dev_addr = addr;
    memcpy(d.s.nwk_s_key, NWK, 16);
    d.s.nwk_s_key[15] = (uint8_t)i; /* its own key */
    d.s.nwk_s_key[14] = (uint8_t)(i >> 8);
    memcpy(d.s.app_s_key, APP, 16);
    d.dev_eui[0] = (uint8_t)(i >> 8);
    d.dev_eui[1] = (uint8_t)i;
    assert_int_equal(lw_ns_dev_put(ns, &d), 0);
}

static bool uplink_from(lw_ns *ns, int i, uint32_t addr, uint32_t fcnt, uint64_t *now) {
    uint8_t key[16], phy[256], dg[1024];
    memcpy(key, NWK, 16);
    key[15] = (uint8_t)i;
    key[14] = (uint8_t)(i >> 8);
    lw_frame f;
    memset(&f, 0, sizeof f);
    f.mtype = LW_MTYPE_UNCONFIRMED_UP;
    f.dev_addr = addr;
    f.has_fport = true;
    f.fport = 1;
    f.frm[0] = 0x42;
    f.frm_len = 1;
    lw_keys k = {.nwk_s_key = key, .app_s_key = APP};
    size_t n = 0;
    assert_int_equal(lw_frame_seal(&f, &k, fcnt, phy, sizeof phy, &n, NULL, 0), 0);
    lw_ns_addr a = addr_of(0);
    size_t dl = push_data(dg, 0, phy, n, 1000, 1, "SF7BW125");
    reset_io();
    lw_ns_udp_input(ns, &a, dg, dl, *now);
    *now += 300;
    lw_ns_tick(ns, *now);
    char want[100];
    snprintf(want, sizeof want, "/devices/dev-%d/up", i);
    return count_topic(want) == 1;
}

static void test_many_devices_shared_devaddr(void **st) {
    reset_io();
    lw_ns *ns = make_ns(200);
    const int N = 3000;
    /* devices 0..9 share abp1's DevAddr, the others spread over 500 DevAddrs */
    for (int i = 0; i < N; i++) put_abp(ns, i % 2 ? "lab" : "other", i, i < 10 ? 0x26011bda : 0x26100000u + (uint32_t)(i % 500));
    assert_int_equal(lw_ns_device_count(ns), (size_t)N + 2);
    lw_dev_rec r;
    assert_int_equal(lw_ns_dev_get(ns, "other", "dev-1234", &r), 0);
    assert_int_equal(lw_ns_dev_get(ns, "lab", "dev-1235", &r), 0);
    assert_string_equal(r.app_id, "lab");
    assert_int_equal(r.s.dev_addr, 0x26100000u + 1235 % 500);
    assert_int_equal(r.dev_eui[1], 1235 & 0xff);
    assert_int_equal(lw_ns_dev_get(ns, "lab", "dev-1234", &r), -1);
    uint64_t now = 10000;
    assert_true(uplink_from(ns, 7, 0x26011bda, 1, &now));    /* on abp1's DevAddr */
    assert_true(uplink_from(ns, 2999, 0x26100000u + 499, 1, &now)); /* on a DevAddr shared by 6 */
    assert_true(uplink_from(ns, 499, 0x26100000u + 499, 1, &now));
    /* abp1 still matched among the 11 on its DevAddr */
    uint8_t phy[256], dg[1024];
    size_t n = up_frame(phy, 1, false, NULL, NWK);
    lw_ns_addr a = addr_of(0);
    size_t dl = push_data(dg, 0, phy, n, 1000, 1, "SF7BW125");
    reset_io();
    lw_ns_udp_input(ns, &a, dg, dl, now);
    now += 300;
    lw_ns_tick(ns, now);
    assert_int_equal(count_topic("/devices/abp1/up"), 1);
    /* remove every third device (chain heads, middles and tails), then the survivors still match */
    for (int i = 0; i < N; i += 3) {
        char id[20];
        snprintf(id, sizeof id, "dev-%d", i);
        lw_ns_dev_remove(ns, i % 2 ? "lab" : "other", id);
    }
    assert_int_equal(lw_ns_device_count(ns), (size_t)N + 2 - 1000);
    assert_false(uplink_from(ns, 3, 0x26011bda, 2, &now));
    assert_true(uplink_from(ns, 7, 0x26011bda, 2, &now));
    assert_true(uplink_from(ns, 2998, 0x26100000u + 498, 1, &now));
    assert_true(uplink_from(ns, 1000, 0x26100000u, 1, &now));
    assert_int_equal(lw_ns_dev_get(ns, "other", "dev-0", &r), -1);
    /* re-put (slots reused); a re-put with the same keys keeps the session (FCnt 2 seen) */
    for (int i = 0; i < N; i += 3) put_abp(ns, i % 2 ? "lab" : "other", i, 0x26011bda);
    put_abp(ns, "lab", 7, 0x26011bda);
    assert_int_equal(lw_ns_device_count(ns), (size_t)N + 2);
    assert_int_equal(lw_ns_dev_get(ns, "lab", "dev-7", &r), 0);
    assert_true(r.s.fcnt_up_seen);
    assert_int_equal(r.s.fcnt_up, 2);
    assert_true(uplink_from(ns, 2997, 0x26011bda, 1, &now)); /* now one of ~1000 on abp1's DevAddr */
    assert_false(uplink_from(ns, 7, 0x26011bda, 2, &now));   /* FCnt 2 again: a retransmission, not published */
    assert_true(uplink_from(ns, 7, 0x26011bda, 3, &now));
    /* the other application goes with its devices */
    lw_ns_app_remove(ns, "other");
    assert_int_equal(lw_ns_device_count(ns), (size_t)N / 2 + 2);
    assert_false(uplink_from(ns, 2998, 0x26100000u + 498, 2, &now));
    assert_true(uplink_from(ns, 2997, 0x26011bda, 2, &now));
    reset_io();
    lw_ns_free(ns);
}


/* US915: uplink on channel 0 (902.3 MHz, SF10/125 = DR0); the ACK goes in RX1 on downlink channel
 * 0 % 8 = 923.3 MHz at DR10 (SF10/500), one second after the uplink's tmst */
static void test_us915_rx1_mapping(void **st) {
    reset_io();
    lw_ns_conf c;
    lw_ns_conf_defaults(&c);
    c.dedup_ms = 0;
    lw_ns_io io = {NULL, io_send, io_publish, NULL, io_devnonce, io_wall, NULL};
    lw_ns *ns = lw_ns_new(&c, &io, NULL);
    lw_app_rec a;
    memset(&a, 0, sizeof a);
    strcpy(a.app_id, "us");
    assert_int_equal(lw_ns_app_put(ns, &a), 0);
    lw_dev_rec d;
    memset(&d, 0, sizeof d);
    strcpy(d.app_id, "us");
    strcpy(d.dev_id, "abp-us");
    d.fmt = LW_FMT_INHERIT;
    strcpy(d.region, "US915");
    d.s.active = true;
    d.s.dev_addr = 0x26011bda;
    memcpy(d.s.nwk_s_key, NWK, 16);
    memcpy(d.s.app_s_key, APP, 16);
    assert_int_equal(lw_ns_dev_put(ns, &d), 0);
    uint8_t dg[1024], phy[256];
    lw_ns_addr ga = addr_of(0);
    size_t dl = pull_data(dg, 0);
    lw_ns_udp_input(ns, &ga, dg, dl, 1);
    reset_io();
    size_t n = up_frame(phy, 1, true, NULL, NWK);
    unsigned char b64[400];
    EVP_EncodeBlock(b64, phy, (int)n);
    dg[0] = 2, dg[1] = 0, dg[2] = 7, dg[3] = 0;
    for (int i = 0; i < 8; i++) dg[4 + i] = 0xa0;
    int len = snprintf((char *)dg + 12, 900,
                       "{\"rxpk\":[{\"tmst\":5000,\"chan\":0,\"rfch\":0,\"freq\":902.3,\"stat\":1,\"modu\":\"LORA\","
                       "\"datr\":\"SF10BW125\",\"codr\":\"4/5\",\"rssi\":-80,\"lsnr\":5.0,\"size\":%zu,\"data\":\"%s\"}]}",
                       n, b64);
    lw_ns_udp_input(ns, &ga, dg, 12 + (size_t)len, 10);
    assert_int_equal(count_topic("/up"), 1);
    assert_int_equal(nsent, 2);
    json_t *j = json_loadb((const char *)sent[1] + 4, sent_len[1] - 4, 0, NULL);
    assert_non_null(j);
    json_t *tx = json_object_get(j, "txpk");
    assert_int_equal(json_integer_value(json_object_get(tx, "tmst")), 5000 + 1000000);
    assert_true(json_real_value(json_object_get(tx, "freq")) > 923.29 && json_real_value(json_object_get(tx, "freq")) < 923.31);
    assert_string_equal(json_string_value(json_object_get(tx, "datr")), "SF10BW500");
    json_decref(j);
    reset_io();
    lw_ns_free(ns);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dedup_three_gateways),
        cmocka_unit_test(test_confirmed_uplink_gets_ack_in_rx1),
        cmocka_unit_test(test_join_and_devnonce_replay),
        cmocka_unit_test(test_downlink_queue_rx2_fallback),
        cmocka_unit_test(test_hostile_datagrams),
        cmocka_unit_test(test_us915_rx1_mapping),
        cmocka_unit_test(test_many_devices_shared_devaddr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
