/* Unit tests for sim/sim (the simulated world) driven in virtual time against a minimal in-test
 * network server speaking the Semtech UDP protocol: PUSH_ACK/PULL_ACK, JoinAccept in RX1 at tmst + 5 s
 * (or RX2 at + 6 s on 869.525 MHz SF12), ACK of confirmed uplinks and a LinkADRReq in RX1 at
 * tmst + 1 s. Checks joins, uplink MICs, acknowledged confirmed uplinks, an ADR change, TX_ACKs, the
 * report JSON, reproducibility with a seed, ABP, and collisions in a crowded cell. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "lorawan/frame.h"
#include "lorawan/mac.h"
#include "sim/sim.h"

#define MAXDEV 64

typedef struct {
    const lw_sim_config *c;
    bool use_rx2;
    struct {
        bool joined;
        uint32_t addr;
        uint8_t nwk[16], app[16];
        uint32_t fcnt_down, last_up;
        bool adr_sent, seen_up;
        uint16_t last_nonce;
        bool seen_nonce;
    } dev[MAXDEV];
    uint32_t join_nonce;
    unsigned joins, ups, mic_bad, tx_ack, tx_ack_err;
    uint8_t out[MAXDEV][1024];
    size_t out_len[MAXDEV];
    unsigned out_gw[MAXDEV], n_out;
} mini_ns;

static void ns_queue(mini_ns *ns, unsigned gw, const uint8_t *d, size_t n) {
    assert_true(ns->n_out < MAXDEV);
    memcpy(ns->out[ns->n_out], d, n);
    ns->out_len[ns->n_out] = n;
    ns->out_gw[ns->n_out++] = gw;
}

static void ns_down(mini_ns *ns, unsigned gw, const lw_gw_rxpk *rx, uint32_t delay_us, const uint8_t *phy, size_t n) {
    lw_gw_txpk tx;
    memset(&tx, 0, sizeof tx);
    tx.has_tmst = true;
    tx.tmst = rx->tmst + delay_us;
    const lw_region *r = ns->c->region;
    int up_dr = lw_region_dr_find(r, rx->sf, (uint32_t)rx->bw_khz * 1000u, LW_DRDIR_UP);
    assert_true(up_dr >= 0);
    int dr = lw_region_rx1_dr(r, up_dr, 0);
    tx.freq_hz = lw_region_rx1_freq(r, rx->freq_hz, -1);
    if (ns->use_rx2) {
        tx.tmst += 1000000;
        tx.freq_hz = r->rx2_freq_hz;
        dr = r->rx2_dr;
    }
    assert_true(dr >= 0 && tx.freq_hz != 0);
    const lw_dr_def *e = lw_region_dr(r, dr);
    tx.sf = e->sf;
    tx.bw_khz = (uint16_t)(e->bw_hz / 1000);
    tx.powe = 14;
    tx.modu = LW_GW_MODU_LORA;
    tx.ipol = true;
    tx.size = (uint16_t)n;
    tx.data = phy;
    uint8_t out[1024];
    size_t len;
    assert_int_equal(lw_gw_build_pull_resp(&tx, 2, 0x1000 + (uint16_t)ns->n_out, out, sizeof out, &len), 0);
    ns_queue(ns, gw, out, len);
}

static void ns_handle(mini_ns *ns, unsigned gw, const uint8_t *d, size_t n) {
    static lw_gw_msg m;
    char err[200];
    assert_int_equal(lw_gw_parse(d, n, &m, err, sizeof err), 0);
    uint8_t ack[4];
    size_t al;
    if (m.ident == LW_GW_TX_ACK) {
        ns->tx_ack++;
        if (m.tx_error) ns->tx_ack_err++;
        return;
    }
    assert_int_equal(lw_gw_build_ack(m.version, m.token, m.ident == LW_GW_PULL_DATA ? LW_GW_PULL_ACK : LW_GW_PUSH_ACK,
                                     ack, sizeof ack, &al), 0);
    ns_queue(ns, gw, ack, al);
    for (size_t k = 0; k < m.n_rxpk; k++) {
        const lw_gw_rxpk *rx = &m.rxpk[k];
        lw_frame f;
        assert_int_equal(lw_frame_parse(rx->data, rx->size, LW_EXPECT_UP, &f, NULL, 0), 0);
        if (f.mtype == LW_MTYPE_JOIN_REQUEST) {
            unsigned i = (unsigned)(f.dev_eui[6] << 8 | f.dev_eui[7]);
            assert_true(i < ns->c->n_devices);
            lw_sim_identity id;
            lw_sim_identity_of(ns->c, i, &id);
            assert_memory_equal(id.dev_eui, f.dev_eui, 8);
            lw_keys jk = {.app_key = id.app_key};
            assert_int_equal(lw_mic_check(rx->data, rx->size, &f, &jk, 0), 0);
            if (ns->dev[i].seen_nonce && ns->dev[i].last_nonce == f.dev_nonce) continue; /* other gateway */
            ns->dev[i].seen_nonce = true;
            ns->dev[i].last_nonce = f.dev_nonce;
            ns->dev[i].seen_up = false;
            lw_frame ja;
            memset(&ja, 0, sizeof ja);
            ja.mtype = LW_MTYPE_JOIN_ACCEPT;
            ja.join_nonce = ++ns->join_nonce;
            ja.net_id = 0x13;
            ja.dev_addr = 0x27000000u + i;
            ja.rx_delay = 1;
            ja.dl_settings = ns->c->region->rx2_dr; /* RX1DROffset 0, the region's RX2 DR */
            uint8_t phy[64];
            size_t pn;
            assert_int_equal(lw_frame_seal(&ja, &jk, 0, phy, sizeof phy, &pn, NULL, 0), 0);
            ns->dev[i].joined = true;
            ns->dev[i].addr = ja.dev_addr;
            ns->dev[i].fcnt_down = 0;
            lw_derive_session_keys(id.app_key, ja.join_nonce, 0x13, f.dev_nonce, ns->dev[i].nwk, ns->dev[i].app);
            ns->joins++;
            ns_down(ns, gw, rx, 5000000, phy, pn);
            continue;
        }
        unsigned i = f.dev_addr & 0xFFFF;
        bool abp = (f.dev_addr & 0xFF000000u) == 0x26000000u;
        if (abp && !ns->dev[i].joined) {
            lw_sim_identity id;
            lw_sim_identity_of(ns->c, i, &id);
            ns->dev[i].joined = true;
            ns->dev[i].addr = id.dev_addr;
            memcpy(ns->dev[i].nwk, id.nwk_s_key, 16);
            memcpy(ns->dev[i].app, id.app_s_key, 16);
        }
        assert_true(i < ns->c->n_devices && ns->dev[i].joined && ns->dev[i].addr == f.dev_addr);
        lw_keys sk = {.nwk_s_key = ns->dev[i].nwk, .app_s_key = ns->dev[i].app};
        if (lw_mic_check(rx->data, rx->size, &f, &sk, f.fcnt16) != 0) {
            ns->mic_bad++;
            continue;
        }
        if (ns->dev[i].seen_up && ns->dev[i].last_up == f.fcnt16) continue; /* duplicate or repetition */
        ns->dev[i].seen_up = true;
        ns->dev[i].last_up = f.fcnt16;
        uint8_t plain[256];
        assert_int_equal(lw_frm_decrypt(&f, &sk, f.fcnt16, plain), 0);
        assert_int_equal(f.fport, 2);
        assert_int_equal(plain[0], 1); /* LPP temperature on channel 1 */
        assert_int_equal(plain[1], 103);
        ns->ups++;
        bool conf = f.mtype == LW_MTYPE_CONFIRMED_UP;
        if (!conf && ns->dev[i].adr_sent) continue;
        lw_frame dn;
        memset(&dn, 0, sizeof dn);
        dn.mtype = LW_MTYPE_UNCONFIRMED_DOWN;
        dn.dev_addr = f.dev_addr;
        dn.fctrl.ack = conf;
        if (!ns->dev[i].adr_sent) {
            lw_mac_cmd c;
            memset(&c, 0, sizeof c);
            c.cid = LW_MAC_LINK_ADR;
            c.u.link_adr_req = (struct lw_mac_link_adr_req){.data_rate = 4, .tx_power = 1, .ch_mask = 7, .nb_trans = 1};
            size_t fl;
            assert_int_equal(lw_mac_encode(&c, 1, false, dn.fopts, 15, &fl), 0);
            dn.fopts_len = (uint8_t)fl;
            ns->dev[i].adr_sent = true;
        }
        uint8_t phy[64];
        size_t pn;
        assert_int_equal(lw_frame_seal(&dn, &sk, ns->dev[i].fcnt_down++, phy, sizeof phy, &pn, NULL, 0), 0);
        ns_down(ns, gw, rx, 1000000, phy, pn);
    }
}

/* run the world for `seconds` of virtual time */
static void run(lw_sim *s, mini_ns *ns, double seconds) {
    uint64_t now = 0, end = (uint64_t)(seconds * 1e6);
    uint8_t buf[8192];
    size_t len;
    unsigned gw;
    while (now < end) {
        lw_sim_step(s, now);
        while (lw_sim_poll_out(s, now, &gw, buf, sizeof buf, &len) == 1) {
            if (!ns) continue;
            ns_handle(ns, gw, buf, len);
            for (unsigned k = 0; k < ns->n_out; k++) lw_sim_input(s, ns->out_gw[k], now, ns->out[k], ns->out_len[k]);
            ns->n_out = 0;
        }
        uint64_t nx = lw_sim_next_us(s);
        now = nx > now ? nx : now + 1000;
    }
}

static void test_otaa_world(void **state) {
    (void)state;
    lw_sim_config c;
    lw_sim_config_default(&c);
    c.n_devices = 6;
    c.n_gateways = 2;
    c.radius_m = 800;
    c.interval_s = 40;
    c.confirmed_every = 2;
    c.seed = 5;
    lw_sim *s;
    char err[200];
    assert_int_equal(lw_sim_init(&s, &c, 0, err, sizeof err), 0);
    mini_ns *ns = calloc(1, sizeof *ns);
    ns->c = &c;
    run(s, ns, 900);
    const lw_sim_stats *t = lw_sim_stats_get(s);
    assert_int_equal(t->joins_ok, 6);
    assert_int_equal(ns->mic_bad, 0);
    assert_true(t->app_uplinks >= 6 * 10);
    assert_true(ns->ups >= t->app_uplinks * 8 / 10);
    assert_true(t->confirmed_sent > 10);
    assert_true(t->acked + t->unacked <= t->confirmed_sent);
    assert_true(t->acked >= t->confirmed_sent / 2);
    assert_int_equal(t->adr_changes, 6);
    assert_true(t->downlinks_rx >= 6);
    assert_true(ns->tx_ack > 0);
    for (unsigned i = 0; i < 6; i++) {
        const lw_device *d = lw_sim_device(s, i);
        assert_true(d->joined);
        assert_int_equal(d->dr, 4);
        assert_int_equal(d->tx_power, 1);
    }
    for (unsigned j = 0; j < 2; j++) {
        const lw_sgw *g = lw_sim_gateway(s, j);
        assert_int_equal(g->stats.push_sent, g->stats.push_acked);
        assert_int_equal(g->stats.pull_sent, g->stats.pull_acked);
        assert_true(g->stats.pull_sent >= 900 / 5);
    }
    /* the report is JSON with the summary and the events */
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    assert_int_equal(lw_sim_write_report(s, f), 0);
    fclose(f);
    json_error_t je;
    json_t *r = json_loads(buf, 0, &je);
    assert_non_null(r);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "summary"), "joins_ok")), 6);
    json_t *evs = json_object_get(r, "events");
    size_t k;
    json_t *e;
    int joined = 0, adr = 0;
    json_array_foreach(evs, k, e) {
        const char *name = json_string_value(json_object_get(e, "event"));
        joined += !strcmp(name, "joined");
        adr += !strcmp(name, "adr_change");
    }
    assert_int_equal(joined, 6);
    assert_int_equal(adr, 6);
    json_decref(r);
    free(buf);
    lw_sim_free(s);
    free(ns);
}

static void test_rx2_and_abp(void **state) {
    (void)state;
    lw_sim_config c;
    lw_sim_config_default(&c);
    c.n_devices = 3;
    c.radius_m = 500;
    c.interval_s = 30;
    c.confirmed_every = 1;
    c.abp = true;
    lw_sim *s;
    char err[200];
    assert_int_equal(lw_sim_init(&s, &c, 0, err, sizeof err), 0);
    mini_ns *ns = calloc(1, sizeof *ns);
    ns->c = &c;
    ns->use_rx2 = true;
    run(s, ns, 300);
    const lw_sim_stats *t = lw_sim_stats_get(s);
    assert_int_equal(t->joins_sent, 0);
    assert_true(t->acked >= 3 * 5);
    assert_int_equal(t->adr_changes, 3);
    lw_sim_free(s);
    free(ns);
}

static void test_us915(void **state) {
    (void)state;
    for (int rx2 = 0; rx2 < 2; rx2++) {
        lw_sim_config c;
        lw_sim_config_default(&c);
        c.region = lw_region_get("US915");
        c.n_devices = 4;
        c.radius_m = 600;
        c.interval_s = 30;
        c.confirmed_every = 1;
        c.seed = 77;
        lw_sim *s;
        char err[200];
        assert_int_equal(lw_sim_init(&s, &c, 0, err, sizeof err), 0);
        mini_ns *ns = calloc(1, sizeof *ns);
        ns->c = &c;
        ns->use_rx2 = rx2;
        run(s, ns, 400);
        const lw_sim_stats *t = lw_sim_stats_get(s);
        assert_int_equal(t->joins_ok, 4);
        if (t->acked < 4 * 3) print_message("rx2=%d acked %llu unacked %llu conf %llu up %llu dl %llu rej %llu joins %llu\n", rx2, (unsigned long long)t->acked, (unsigned long long)t->unacked, (unsigned long long)t->confirmed_sent, (unsigned long long)t->app_uplinks, (unsigned long long)t->downlinks_rx, (unsigned long long)t->downlinks_rejected, (unsigned long long)t->joins_ok);
        assert_true(t->acked >= 4 * 3);
        assert_int_equal(ns->mic_bad, 0);
        lw_sim_free(s);
        free(ns);
    }
}

static void stats_of(uint64_t seed, lw_sim_stats *out, bool with_ns) {
    lw_sim_config c;
    lw_sim_config_default(&c);
    c.n_devices = 40;
    c.radius_m = 300;
    c.interval_s = 5;
    c.dr = 0; /* SF12: long frames collide */
    c.abp = true;
    c.adr = false;
    c.seed = seed;
    lw_sim *s;
    char err[200];
    assert_int_equal(lw_sim_init(&s, &c, 0, err, sizeof err), 0);
    mini_ns *ns = with_ns ? calloc(1, sizeof *ns) : NULL;
    if (ns) ns->c = &c;
    for (unsigned i = 0; ns && i < MAXDEV; i++) ns->dev[i].adr_sent = true;
    run(s, ns, 600);
    *out = *lw_sim_stats_get(s);
    lw_sim_free(s);
    free(ns);
}

static void test_collisions_and_determinism(void **state) {
    (void)state;
    lw_sim_stats a, b, d;
    stats_of(11, &a, false);
    stats_of(11, &b, false);
    stats_of(12, &d, false);
    assert_memory_equal(&a, &b, sizeof a);
    assert_true(memcmp(&a, &d, sizeof a) != 0);
    assert_true(a.lost_collision > 0);
    assert_true(a.deferred > 0); /* SF12 every ~5 s: the 1 % duty cycle holds frames back */
    assert_int_equal(a.heard[0] + a.heard[1], a.frames);
    assert_true(a.heard[1] > 0);
}

static void test_bad_config(void **state) {
    (void)state;
    lw_sim_config c;
    lw_sim_config_default(&c);
    c.n_devices = 0;
    lw_sim *s;
    char err[200];
    assert_true(lw_sim_init(&s, &c, 0, err, sizeof err) < 0);
    assert_non_null(strstr(err, "devices"));
    lw_sim_config_default(&c);
    c.dr = 14;
    assert_true(lw_sim_init(&s, &c, 0, err, sizeof err) < 0);
    /* identities are deterministic and distinct */
    lw_sim_identity i0, i1, j0;
    lw_sim_config_default(&c);
    lw_sim_identity_of(&c, 0, &i0);
    lw_sim_identity_of(&c, 1, &i1);
    lw_sim_identity_of(&c, 0, &j0);
    assert_memory_equal(&i0, &j0, sizeof i0);
    assert_true(memcmp(i0.app_key, i1.app_key, 16) != 0);
    assert_string_equal(i0.dev_id, "sim-0001-0");
    assert_int_equal(i1.dev_eui[7], 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otaa_world),
        cmocka_unit_test(test_rx2_and_abp),
        cmocka_unit_test(test_us915),
        cmocka_unit_test(test_collisions_and_determinism),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
