/* Unit tests for sim/lw_device (the LoRaWAN 1.0.4 class A end-device stack): OTAA join against a
 * JoinAccept sealed with lw_frame_seal (keys, DLSettings, RxDelay, CFList), rejection of a JoinAccept
 * under the wrong key and outside the windows, join retries with a new DevNonce, uplink MIC/FCnt/
 * encryption checked with lw_mic_check, downlink acceptance in RX1 and RX2 and rejection (bad MIC,
 * replayed FCnt, wrong frequency/DR, outside the window), confirmed uplinks (NbTrans retransmissions
 * with the same FCnt, ACK stops them), every MAC command applied and answered (sticky answers repeated
 * until a downlink), the ADRACKReq backoff and duty-cycle deferral. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lorawan/airtime.h"
#include "lorawan/frame.h"
#include "lorawan/mac.h"
#include "sim/lw_device.h"

static const uint8_t APPKEY[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t NWKS[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0};
static const uint8_t APPS[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};
#define ADDR 0x26011234u

static const lw_region *eu(void) { return lw_region_get("EU868"); }

static void cfg_abp(lw_dev_config *c, uint8_t dr) {
    memset(c, 0, sizeof *c);
    c->region = eu();
    c->otaa = false;
    c->dev_addr = ADDR;
    memcpy(c->nwk_s_key, NWKS, 16);
    memcpy(c->app_s_key, APPS, 16);
    c->dr = dr;
    c->adr = true;
    c->battery = 200;
    c->seed = 42;
}

static void cfg_otaa(lw_dev_config *c, uint8_t dr) {
    memset(c, 0, sizeof *c);
    c->region = eu();
    c->otaa = true;
    static const uint8_t de[8] = {0x70, 0xb3, 0xd5, 0x7e, 0xd0, 0, 0, 1}, je[8] = {0x70, 0xb3, 0xd5, 0x7e, 0xd0, 0, 0xff, 0xff};
    memcpy(c->dev_eui, de, 8);
    memcpy(c->join_eui, je, 8);
    memcpy(c->app_key, APPKEY, 16);
    c->dr = dr;
    c->adr = true;
    c->battery = 255;
    c->seed = 7;
    c->dev_nonce = 100;
}

static int count_events(lw_device *d, int type, lw_dev_event *last) {
    int n = 0;
    lw_dev_event ev = {0};
    while (lw_dev_event_pop(d, &ev))
        if (ev.type == type) {
            n++;
            if (last) *last = ev;
        }
    return n;
}

/* a downlink built by "the network" with the session keys */
static size_t make_down(uint8_t *out, uint32_t fcnt, bool confirmed, bool ack, const uint8_t *fopts, size_t nfopts,
                        int fport, const uint8_t *pl, size_t n) {
    lw_frame f;
    memset(&f, 0, sizeof f);
    f.mtype = confirmed ? LW_MTYPE_CONFIRMED_DOWN : LW_MTYPE_UNCONFIRMED_DOWN;
    f.dev_addr = ADDR;
    f.fctrl.ack = ack;
    f.fopts_len = (uint8_t)nfopts;
    if (nfopts) memcpy(f.fopts, fopts, nfopts);
    if (fport >= 0) {
        f.has_fport = true;
        f.fport = (uint8_t)fport;
        f.frm_len = n;
        if (n) memcpy(f.frm, pl, n);
    }
    lw_keys k = {.nwk_s_key = NWKS, .app_s_key = APPS};
    size_t len = 0;
    assert_int_equal(lw_frame_seal(&f, &k, fcnt, out, LW_PHY_MAX, &len, NULL, 0), 0);
    return len;
}

/* send one uplink and return its tx; the clock moves to the start */
static void uplink(lw_device *d, uint64_t *now, bool confirmed, lw_dev_tx *tx) {
    uint8_t p[3] = {1, 2, 3};
    int src = lw_dev_send(d, *now, 2, p, 3, confirmed);
    if (src) print_message("send: rc %d phase %d tries %u/%u got %d\n", src, d->phase, d->cur_tries, d->cur_max, d->got_downlink);
    assert_int_equal(src, 0);
    int rc = lw_dev_poll(d, *now, tx);
    while (rc == 0) {
        uint64_t t = lw_dev_next_us(d);
        assert_true(t != UINT64_MAX);
        *now = t;
        rc = lw_dev_poll(d, *now, tx);
    }
    assert_int_equal(rc, 1);
}

/* let the windows of the current frame close without a downlink */
static void close_windows(lw_device *d, uint64_t *now) {
    lw_dev_tx tx;
    *now = d->rx2_us + LW_DEV_RX_TOLERANCE_US + 1;
    assert_int_equal(lw_dev_poll(d, *now, &tx), 0);
}

/* run the device until its frame is done (repetitions included), no downlinks */
static void finish(lw_device *d, uint64_t *now) {
    lw_dev_tx tx;
    for (int guard = 0; guard < 100 && lw_dev_busy(d); guard++) {
        uint64_t t = lw_dev_next_us(d);
        if (t > *now) *now = t;
        lw_dev_poll(d, *now, &tx);
    }
    assert_false(lw_dev_busy(d));
}

/* parse an uplink and return its decoded FOpts commands */
static size_t up_fopts(const lw_dev_tx *tx, lw_frame *f, lw_mac_cmd *cmds) {
    assert_int_equal(lw_frame_parse(tx->phy, tx->len, LW_EXPECT_UP, f, NULL, 0), 0);
    size_t cnt = 0;
    assert_int_equal(lw_mac_parse(f->fopts, f->fopts_len, true, cmds, 16, &cnt, NULL, 0), 0);
    return cnt;
}

static void test_join(void **state) {
    (void)state;
    lw_dev_config c;
    cfg_otaa(&c, 5);
    lw_device d;
    assert_int_equal(lw_dev_init(&d, &c), 0);
    assert_false(d.joined);
    lw_dev_tx tx;
    assert_int_equal(lw_dev_send(&d, 0, 1, NULL, 0, false), LW_DEV_ERR_STATE);
    assert_int_equal(lw_dev_join(&d, 0), 0);
    assert_int_equal(lw_dev_poll(&d, 0, &tx), 1);
    assert_int_equal(tx.dr, 5);
    assert_true(tx.freq_hz == 868100000 || tx.freq_hz == 868300000 || tx.freq_hz == 868500000);
    assert_int_equal(tx.airtime_us, lw_region_airtime_us(eu(), 5, 23, true));
    lw_frame jr;
    assert_int_equal(lw_frame_parse(tx.phy, tx.len, LW_EXPECT_UP, &jr, NULL, 0), 0);
    assert_int_equal(jr.mtype, LW_MTYPE_JOIN_REQUEST);
    assert_int_equal(jr.dev_nonce, 100);
    assert_memory_equal(jr.dev_eui, c.dev_eui, 8);
    lw_keys jk = {.app_key = APPKEY};
    assert_int_equal(lw_mic_check(tx.phy, tx.len, &jr, &jk, 0), 0);

    /* the JoinAccept */
    lw_frame ja;
    memset(&ja, 0, sizeof ja);
    ja.mtype = LW_MTYPE_JOIN_ACCEPT;
    ja.join_nonce = 0x000001;
    ja.net_id = 0x000013;
    ja.dev_addr = ADDR;
    ja.dl_settings = (2 << 4) | 3; /* RX1DROffset 2, RX2 DR3 */
    ja.rx_delay = 3;
    ja.has_cflist = true;
    const uint32_t freqs[5] = {867100000, 867300000, 867500000, 867700000, 867900000};
    lw_cflist_build_freqs(freqs, ja.cflist);
    uint8_t phy[64];
    size_t n;
    assert_int_equal(lw_frame_seal(&ja, &jk, 0, phy, sizeof phy, &n, NULL, 0), 0);

    uint64_t end = tx.airtime_us;
    uint64_t rx1 = end + 5000000;
    /* under a different key: rejected */
    lw_frame bad = ja;
    uint8_t bphy[64];
    size_t bn;
    uint8_t other[16];
    memset(other, 9, 16);
    lw_keys ok2 = {.app_key = other};
    assert_int_equal(lw_frame_seal(&bad, &ok2, 0, bphy, sizeof bphy, &bn, NULL, 0), 0);
    assert_true(lw_dev_rx(&d, rx1, tx.freq_hz, 5, bphy, bn, -80, 5) < 0);
    assert_false(d.joined);
    /* outside the window (100 ms late) and at the wrong DR: ignored */
    assert_int_equal(lw_dev_rx(&d, rx1 + 100000, tx.freq_hz, 5, phy, n, -80, 5), 0);
    assert_int_equal(lw_dev_rx(&d, rx1, tx.freq_hz, 4, phy, n, -80, 5), 0);
    /* the good one in RX1 */
    assert_int_equal(lw_dev_rx(&d, rx1, tx.freq_hz, 5, phy, n, -80, 5), 1);
    assert_true(d.joined);
    assert_int_equal(d.dev_addr, ADDR);
    uint8_t nk[16], ak[16];
    assert_int_equal(lw_derive_session_keys(APPKEY, 1, 0x13, 100, nk, ak), 0);
    assert_memory_equal(d.nwk_s_key, nk, 16);
    assert_memory_equal(d.app_s_key, ak, 16);
    assert_int_equal(d.rx1_dr_offset, 2);
    assert_int_equal(d.rx2_dr, 3);
    assert_int_equal(d.rx1_delay_s, 3);
    assert_int_equal(lw_chmask_count(&d.mask), 8);
    assert_int_equal(d.ch_freq[7], 867900000);
    assert_int_equal(d.fcnt_up, 0);
    lw_dev_event ev = {0};
    assert_int_equal(count_events(&d, LW_DEV_EV_JOINED, &ev), 1);
    assert_int_equal((uint32_t)ev.a, ADDR);
    assert_int_equal(lw_dev_poll(&d, rx1 + 1, &tx), 0);
    assert_false(lw_dev_busy(&d));

    /* first data uplink: MIC with the derived NwkSKey, RX1 at the new delay and DR offset */
    uint64_t now = rx1 + 10000000;
    uplink(&d, &now, false, &tx);
    lw_frame up;
    assert_int_equal(lw_frame_parse(tx.phy, tx.len, LW_EXPECT_UP, &up, NULL, 0), 0);
    lw_keys sk = {.nwk_s_key = nk, .app_s_key = ak};
    assert_int_equal(lw_mic_check(tx.phy, tx.len, &up, &sk, 0), 0);
    assert_int_equal(d.rx1_us, now + tx.airtime_us + 3000000);
    assert_int_equal(d.rx1_dr, 3); /* DR5 with offset 2 */
}

static void test_join_retry(void **state) {
    (void)state;
    lw_dev_config c;
    cfg_otaa(&c, 2);
    lw_device d;
    assert_int_equal(lw_dev_init(&d, &c), 0);
    lw_dev_tx tx;
    assert_int_equal(lw_dev_join(&d, 0), 0);
    assert_int_equal(lw_dev_poll(&d, 0, &tx), 1);
    uint64_t now = d.rx2_us + LW_DEV_RX_TOLERANCE_US;
    assert_int_equal(lw_dev_poll(&d, now, &tx), 0);
    assert_int_equal(count_events(&d, LW_DEV_EV_JOIN_FAILED, NULL), 1);
    assert_int_equal(d.stats.joins_failed, 1);
    uint64_t next = lw_dev_next_us(&d);
    assert_true(next > now);
    /* join backoff: 1 % in the first hour -> at least 99 airtimes after the first JoinRequest */
    assert_true(next >= (uint64_t)tx.airtime_us * 100);
    assert_int_equal(lw_dev_poll(&d, next, &tx), 1);
    lw_frame jr;
    assert_int_equal(lw_frame_parse(tx.phy, tx.len, LW_EXPECT_UP, &jr, NULL, 0), 0);
    assert_int_equal(jr.dev_nonce, 101); /* a new DevNonce per attempt */
    assert_int_equal(tx.dr, 1);          /* one DR lower */
}

static void test_uplink_frames(void **state) {
    (void)state;
    lw_dev_config c;
    cfg_abp(&c, 5);
    lw_device d;
    assert_int_equal(lw_dev_init(&d, &c), 0);
    assert_int_equal(lw_dev_join(&d, 0), LW_DEV_ERR_STATE);
    uint64_t now = 0;
    lw_dev_tx tx;
    uint8_t big[250] = {0};
    assert_int_equal(lw_dev_send(&d, now, 2, big, 250, false), LW_ERR_TOO_LONG);
    assert_int_equal(lw_dev_send(&d, now, 0, big, 1, false), LW_ERR_ARG);
    for (uint32_t k = 0; k < 3; k++) {
        uplink(&d, &now, k == 1, &tx);
        assert_int_equal(lw_dev_send(&d, now, 2, big, 1, false), LW_DEV_ERR_BUSY);
        lw_frame f;
        assert_int_equal(lw_frame_parse(tx.phy, tx.len, LW_EXPECT_UP, &f, NULL, 0), 0);
        assert_int_equal(f.mtype, k == 1 ? LW_MTYPE_CONFIRMED_UP : LW_MTYPE_UNCONFIRMED_UP);
        assert_int_equal(f.fcnt16, k);
        assert_true(f.fctrl.adr);
        assert_false(f.fctrl.adr_ack_req);
        lw_keys keys = {.nwk_s_key = NWKS, .app_s_key = APPS};
        assert_int_equal(lw_mic_check(tx.phy, tx.len, &f, &keys, k), 0);
        assert_int_equal(lw_mic_check(tx.phy, tx.len, &f, &keys, k + 1), LW_ERR_MIC);
        uint8_t plain[16];
        assert_int_equal(lw_frm_decrypt(&f, &keys, k, plain), 0);
        assert_int_equal(f.frm_len, 3);
        assert_int_equal(plain[2], 3);
        assert_int_equal(tx.power_dbm, 16);
        close_windows(&d, &now);
        now += 30000000;
    }
    assert_int_equal(d.stats.unacked, 1); /* the confirmed one, NbTrans 1 */
}

static void test_downlinks(void **state) {
    (void)state;
    lw_dev_config c;
    cfg_abp(&c, 5);
    lw_device d;
    assert_int_equal(lw_dev_init(&d, &c), 0);
    uint64_t now = 0;
    lw_dev_tx tx;
    uint8_t phy[64];
    const uint8_t pl[2] = {0xbe, 0xef};
    uplink(&d, &now, false, &tx);
    size_t n = make_down(phy, 0, false, false, NULL, 0, 5, pl, 2);
    /* wrong frequency: ignored; right one: accepted with the payload */
    assert_int_equal(lw_dev_rx(&d, d.rx1_us, 869525000, 5, phy, n, -70, 8), 0);
    assert_int_equal(lw_dev_rx(&d, d.rx1_us, tx.freq_hz, 5, phy, n, -70, 8), 1);
    lw_dev_event ev = {0};
    assert_int_equal(count_events(&d, LW_DEV_EV_DOWNLINK, &ev), 1);
    assert_int_equal(ev.b, 5);
    assert_int_equal(d.rx_len, 2);
    assert_memory_equal(d.rx_payload, pl, 2);
    /* RX2 is not opened after a frame in RX1 */
    size_t n1 = make_down(phy, 1, false, false, NULL, 0, 5, pl, 2);
    assert_int_equal(lw_dev_rx(&d, d.rx2_us, 869525000, 0, phy, n1, -70, 8), 0);
    assert_int_equal(lw_dev_poll(&d, now + 1, &tx), 0);
    assert_false(lw_dev_busy(&d));

    /* replay of FCnt 0: rejected; bad MIC: rejected; outside the window: ignored; RX2: accepted */
    now += 60000000;
    uplink(&d, &now, false, &tx);
    n = make_down(phy, 0, false, false, NULL, 0, 5, pl, 2);
    assert_int_equal(lw_dev_rx(&d, d.rx1_us, tx.freq_hz, 5, phy, n, -70, 8), LW_DEV_ERR_FCNT_OLD);
    n = make_down(phy, 7, false, false, NULL, 0, 5, pl, 2);
    phy[n - 1] ^= 1;
    assert_int_equal(lw_dev_rx(&d, d.rx1_us, tx.freq_hz, 5, phy, n, -70, 8), LW_ERR_MIC);
    phy[n - 1] ^= 1;
    assert_int_equal(lw_dev_rx(&d, d.rx1_us + 500000, tx.freq_hz, 5, phy, n, -70, 8), 0);
    assert_int_equal(lw_dev_rx(&d, d.rx2_us, 869525000, 0, phy, n, -70, 8), 1);
    assert_int_equal(d.fcnt_down, 8);
    assert_int_equal(d.stats.rx_rejected, 2);
    assert_int_equal(count_events(&d, LW_DEV_EV_RX_REJECTED, NULL), 2);
    /* another device's DevAddr: not for us */
    now += 60000000;
    close_windows(&d, &now);
    uplink(&d, &now, false, &tx);
    lw_frame f;
    memset(&f, 0, sizeof f);
    f.mtype = LW_MTYPE_UNCONFIRMED_DOWN;
    f.dev_addr = ADDR + 1;
    lw_keys k = {.nwk_s_key = NWKS, .app_s_key = APPS};
    assert_int_equal(lw_frame_seal(&f, &k, 9, phy, sizeof phy, &n, NULL, 0), 0);
    assert_int_equal(lw_dev_rx(&d, d.rx1_us, tx.freq_hz, 5, phy, n, -70, 8), 0);
    /* a confirmed downlink is acknowledged in the next uplink */
    n = make_down(phy, 9, true, false, NULL, 0, 5, pl, 2);
    assert_int_equal(lw_dev_rx(&d, d.rx1_us, tx.freq_hz, 5, phy, n, -70, 8), 1);
    assert_true(d.ack_pending);
    now += 60000000;
    uplink(&d, &now, false, &tx);
    assert_int_equal(lw_frame_parse(tx.phy, tx.len, LW_EXPECT_UP, &f, NULL, 0), 0);
    assert_true(f.fctrl.ack);
    assert_false(d.ack_pending);
}

static void test_confirmed(void **state) {
    (void)state;
    lw_dev_config c;
    cfg_abp(&c, 5);
    lw_device d;
    assert_int_equal(lw_dev_init(&d, &c), 0);
    d.nb_trans = 3;
    uint64_t now = 0;
    lw_dev_tx tx;
    uplink(&d, &now, true, &tx);
    uint32_t times = 1;
    uint64_t last_rx2 = d.rx2_us;
    for (;;) {
        close_windows(&d, &now);
        if (!lw_dev_busy(&d)) break;
        uint64_t t = lw_dev_next_us(&d);
        /* ACK_TIMEOUT 2 +/- 1 s after RX2 (duty cycle may add more) */
        assert_true(t >= last_rx2 + 1000000);
        now = t;
        int rc = lw_dev_poll(&d, now, &tx);
        while (rc == 0) now = lw_dev_next_us(&d), rc = lw_dev_poll(&d, now, &tx);
        lw_frame f;
        assert_int_equal(lw_frame_parse(tx.phy, tx.len, LW_EXPECT_UP, &f, NULL, 0), 0);
        assert_int_equal(f.fcnt16, 0); /* same FCnt */
        last_rx2 = d.rx2_us;
        times++;
    }
    assert_int_equal(times, 3);
    lw_dev_event ev = {0};
    assert_int_equal(count_events(&d, LW_DEV_EV_UNACKED, &ev), 1);
    assert_int_equal(d.stats.retransmissions, 2);
    assert_int_equal(d.fcnt_up, 1);

    /* acknowledged at the second transmission: stops */
    now += 60000000;
    uplink(&d, &now, true, &tx);
    close_windows(&d, &now);
    now = lw_dev_next_us(&d);
    int rc = lw_dev_poll(&d, now, &tx);
    while (rc == 0) now = lw_dev_next_us(&d), rc = lw_dev_poll(&d, now, &tx);
    uint8_t phy[64];
    size_t n = make_down(phy, 0, false, true, NULL, 0, -1, NULL, 0);
    assert_int_equal(lw_dev_rx(&d, d.rx1_us, tx.freq_hz, 5, phy, n, -70, 8), 1);
    assert_int_equal(count_events(&d, LW_DEV_EV_ACKED, NULL), 1);
    assert_int_equal(lw_dev_poll(&d, d.rx1_us + 1, &tx), 0);
    assert_false(lw_dev_busy(&d));
    assert_int_equal(d.stats.acked, 1);
}

/* deliver MAC commands in FOpts of a downlink in RX1 of a fresh uplink */
static void mac_down(lw_device *d, uint64_t *now, uint32_t fcnt, const lw_mac_cmd *cmds, size_t ncmd) {
    lw_dev_tx tx;
    uplink(d, now, false, &tx);
    uint8_t fo[64];
    size_t fl = 0;
    assert_int_equal(lw_mac_encode(cmds, ncmd, false, fo, sizeof fo, &fl), 0);
    uint8_t phy[128];
    size_t n = fl <= 15 ? make_down(phy, fcnt, false, false, fo, fl, -1, NULL, 0) /* FOpts */
                        : make_down(phy, fcnt, false, false, NULL, 0, 0, fo, fl); /* FPort 0 */
    assert_int_equal(lw_dev_rx(d, d->rx1_us, d->rx1_freq, d->rx1_dr, phy, n, -70, 7), 1);
    lw_dev_poll(d, d->rx1_us + 1, &tx);
    *now += 60000000;
}

static void test_mac_commands(void **state) {
    (void)state;
    lw_dev_config c;
    cfg_abp(&c, 5);
    lw_device d;
    assert_int_equal(lw_dev_init(&d, &c), 0);
    uint64_t now = 0;
    lw_dev_tx tx;
    lw_frame f;
    lw_mac_cmd in[4], out[16];
    memset(in, 0, sizeof in);
    size_t cnt;

    /* LinkADRReq: DR3, power 2, channels 0..1, NbTrans 2; plus DevStatusReq */
    in[0].cid = LW_MAC_LINK_ADR;
    in[0].u.link_adr_req = (struct lw_mac_link_adr_req){.data_rate = 3, .tx_power = 2, .ch_mask = 0x0003, .nb_trans = 2};
    in[1].cid = LW_MAC_DEV_STATUS;
    mac_down(&d, &now, 0, in, 2);
    assert_int_equal(d.dr, 3);
    assert_int_equal(d.tx_power, 2);
    assert_int_equal(d.nb_trans, 2);
    assert_int_equal(lw_chmask_count(&d.mask), 2);
    uplink(&d, &now, false, &tx);
    assert_int_equal(tx.dr, 3);
    assert_int_equal(tx.power_dbm, 16 - 4);
    assert_true(tx.freq_hz == 868100000 || tx.freq_hz == 868300000);
    cnt = up_fopts(&tx, &f, out);
    assert_int_equal(cnt, 2);
    assert_int_equal(out[0].cid, LW_MAC_LINK_ADR);
    assert_int_equal(out[0].u.ans.status, 7);
    assert_int_equal(out[1].cid, LW_MAC_DEV_STATUS);
    assert_int_equal(out[1].u.dev_status_ans.battery, 200);
    assert_int_equal(out[1].u.dev_status_ans.margin, 7);
    finish(&d, &now); /* NbTrans 2: with the repetition */
    now += 60000000;

    /* LinkADRReq enabling an undefined channel (10): ChMask NACK, nothing applied; invalid DR 9 */
    in[0].u.link_adr_req = (struct lw_mac_link_adr_req){.data_rate = 9, .tx_power = 1, .ch_mask = 0x0403, .nb_trans = 1};
    mac_down(&d, &now, 1, in, 1);
    assert_int_equal(d.dr, 3);
    assert_int_equal(d.tx_power, 2);
    uplink(&d, &now, false, &tx);
    cnt = up_fopts(&tx, &f, out);
    assert_int_equal(cnt, 1);
    assert_int_equal(out[0].u.ans.status, LW_MAC_LINK_ADR_POWER_ACK);
    finish(&d, &now);
    now += 60000000;

    /* RXParamSetupReq + RXTimingSetupReq + DutyCycleReq: sticky answers repeat until a downlink */
    memset(in, 0, sizeof in);
    in[0].cid = LW_MAC_RX_PARAM_SETUP;
    in[0].u.rx_param_setup_req = (struct lw_mac_rx_param_setup_req){.rx1_dr_offset = 1, .rx2_data_rate = 3, .frequency = 869525000};
    in[1].cid = LW_MAC_RX_TIMING_SETUP;
    in[1].u.rx_timing_setup_req.delay = 4;
    in[2].cid = LW_MAC_DUTY_CYCLE;
    in[2].u.duty_cycle_req.max_dcycle = 2;
    mac_down(&d, &now, 2, in, 3);
    assert_int_equal(d.rx1_dr_offset, 1);
    assert_int_equal(d.rx2_dr, 3);
    assert_int_equal(d.rx1_delay_s, 4);
    assert_int_equal(d.dc.agg_inverse, 4);
    for (int rep = 0; rep < 2; rep++) {
        uplink(&d, &now, false, &tx);
        cnt = up_fopts(&tx, &f, out);
        if (rep == 0) {
            assert_int_equal(cnt, 3);
            assert_int_equal(out[2].cid, LW_MAC_DUTY_CYCLE);
        } else {
            assert_int_equal(cnt, 2); /* DutyCycleAns is not sticky */
        }
        assert_int_equal(out[0].cid, LW_MAC_RX_PARAM_SETUP);
        assert_int_equal(out[0].u.ans.status, 7);
        assert_int_equal(out[1].cid, LW_MAC_RX_TIMING_SETUP);
        assert_int_equal(d.rx1_us, now + tx.airtime_us + 4000000);
        finish(&d, &now);
        now += 600000000;
    }
    /* a downlink (RX2 now at DR3) clears them */
    uplink(&d, &now, false, &tx);
    uint8_t phy[64];
    size_t n = make_down(phy, 3, false, false, NULL, 0, -1, NULL, 0);
    assert_int_equal(lw_dev_rx(&d, d.rx2_us, 869525000, 0, phy, n, -70, 7), 0); /* old RX2 DR: not heard */
    assert_int_equal(lw_dev_rx(&d, d.rx2_us, 869525000, 3, phy, n, -70, 7), 1);
    lw_dev_poll(&d, d.rx2_us + 1, &tx);
    now += 600000000;
    uplink(&d, &now, false, &tx);
    assert_int_equal(up_fopts(&tx, &f, out), 0);
    finish(&d, &now);
    now += 600000000;

    /* NewChannelReq (index 3 ok, index 1 refused), DlChannelReq (ch 3), TxParamSetupReq (ignored in EU868) */
    memset(in, 0, sizeof in);
    in[0].cid = LW_MAC_NEW_CHANNEL;
    in[0].u.new_channel_req = (struct lw_mac_new_channel_req){.ch_index = 3, .frequency = 867100000, .min_dr = 0, .max_dr = 5};
    in[1].cid = LW_MAC_NEW_CHANNEL;
    in[1].u.new_channel_req = (struct lw_mac_new_channel_req){.ch_index = 1, .frequency = 867300000, .min_dr = 0, .max_dr = 5};
    in[2].cid = LW_MAC_DL_CHANNEL;
    in[2].u.dl_channel_req.ch_index = 3;
    in[2].u.dl_channel_req.frequency = 868900000;
    in[3].cid = LW_MAC_TX_PARAM_SETUP;
    in[3].u.tx_param_setup_req.max_eirp = 5;
    mac_down(&d, &now, 4, in, 4);
    assert_int_equal(d.ch_freq[3], 867100000);
    assert_true(lw_chmask_test(&d.mask, 3));
    assert_int_equal(d.ch_freq[1], 868300000);
    assert_int_equal(d.ch_dl_freq[3], 868900000);
    assert_int_equal(d.max_eirp_dbm, 0);
    uplink(&d, &now, false, &tx);
    cnt = up_fopts(&tx, &f, out);
    assert_int_equal(cnt, 3);
    assert_int_equal(out[0].cid, LW_MAC_NEW_CHANNEL);
    assert_int_equal(out[0].u.ans.status, 3);
    assert_int_equal(out[1].u.ans.status, 0);
    assert_int_equal(out[2].cid, LW_MAC_DL_CHANNEL);
    assert_int_equal(out[2].u.ans.status, 3);
    finish(&d, &now);
    now += 600000000;

    /* LinkCheckReq / DeviceTimeReq requested, answers surface as events */
    assert_int_equal(lw_dev_request(&d, LW_MAC_LINK_CHECK), 0);
    assert_int_equal(lw_dev_request(&d, LW_MAC_DEVICE_TIME), 0);
    assert_int_equal(lw_dev_request(&d, LW_MAC_DEV_STATUS), LW_ERR_ARG);
    uplink(&d, &now, false, &tx);
    cnt = up_fopts(&tx, &f, out);
    assert_int_equal(cnt, 3); /* DlChannelAns (sticky) + the two requests */
    memset(in, 0, sizeof in);
    in[0].cid = LW_MAC_LINK_CHECK;
    in[0].u.link_check_ans.margin = 12;
    in[0].u.link_check_ans.gw_cnt = 2;
    in[1].cid = LW_MAC_DEVICE_TIME;
    in[1].u.device_time_ans.gps_seconds = 1400000000;
    uint8_t fo[15];
    size_t fl;
    assert_int_equal(lw_mac_encode(in, 2, false, fo, sizeof fo, &fl), 0);
    n = make_down(phy, 5, false, false, fo, fl, -1, NULL, 0);
    while (lw_dev_event_pop(&d, &(lw_dev_event){0})) {
    }
    assert_int_equal(lw_dev_rx(&d, d.rx1_us, d.rx1_freq, d.rx1_dr, phy, n, -70, 7), 1);
    lw_dev_event ev = {0};
    int lc = 0, dt = 0;
    while (lw_dev_event_pop(&d, &ev)) {
        if (ev.type == LW_DEV_EV_LINK_CHECK) lc++, assert_int_equal(ev.a, 12), assert_int_equal(ev.b, 2);
        if (ev.type == LW_DEV_EV_DEVICE_TIME) dt++, assert_int_equal(ev.c, 1400000000u);
    }
    assert_int_equal(lc, 1);
    assert_int_equal(dt, 1);

    /* MAC commands in an FPort-0 payload */
    lw_dev_poll(&d, d.rx1_us + 1, &tx);
    now += 600000000;
    uplink(&d, &now, false, &tx);
    memset(in, 0, sizeof in);
    in[0].cid = LW_MAC_LINK_ADR;
    in[0].u.link_adr_req = (struct lw_mac_link_adr_req){.data_rate = 1, .tx_power = 15, .ch_mask = 0, .ch_mask_cntl = 6, .nb_trans = 0};
    assert_int_equal(lw_mac_encode(in, 1, false, fo, sizeof fo, &fl), 0);
    n = make_down(phy, 6, false, false, NULL, 0, 0, fo, fl);
    assert_int_equal(lw_dev_rx(&d, d.rx1_us, d.rx1_freq, d.rx1_dr, phy, n, -70, 7), 1);
    assert_int_equal(d.dr, 1);
    assert_int_equal(d.tx_power, 2); /* 15 = keep */
    assert_int_equal(d.nb_trans, 1);
    assert_int_equal(lw_chmask_count(&d.mask), 4); /* ChMaskCntl 6: all defined channels */
}

static void test_adr_backoff(void **state) {
    (void)state;
    lw_dev_config c;
    cfg_abp(&c, 5);
    lw_device d;
    assert_int_equal(lw_dev_init(&d, &c), 0);
    d.tx_power = 3;
    uint64_t now = 0;
    lw_dev_tx tx;
    lw_frame f;
    for (int k = 1; k <= 96 + 32; k++) {
        uplink(&d, &now, false, &tx);
        assert_int_equal(lw_frame_parse(tx.phy, tx.len, LW_EXPECT_UP, &f, NULL, 0), 0);
        assert_int_equal(f.fctrl.adr_ack_req, k > 64);
        close_windows(&d, &now);
        now += 20000000;
        if (k == 95) assert_int_equal(d.tx_power, 3);
        if (k == 96) assert_int_equal(d.tx_power, 0), assert_int_equal(d.dr, 5);
        if (k == 128) assert_int_equal(d.dr, 4);
    }
    assert_int_equal(d.stats.adr_backoffs, 2);
    /* any downlink resets the counter */
    uplink(&d, &now, false, &tx);
    uint8_t phy[64];
    size_t n = make_down(phy, 0, false, false, NULL, 0, -1, NULL, 0);
    assert_int_equal(lw_dev_rx(&d, d.rx1_us, d.rx1_freq, d.rx1_dr, phy, n, -70, 7), 1);
    assert_int_equal(d.adr_ack_cnt, 0);
}

static void test_duty_cycle(void **state) {
    (void)state;
    lw_dev_config c;
    cfg_abp(&c, 0); /* SF12: ~1.2 s on air, 1 % band -> ~2 min off */
    lw_device d;
    assert_int_equal(lw_dev_init(&d, &c), 0);
    uint64_t now = 0;
    lw_dev_tx tx;
    uint8_t p[10] = {0};
    assert_int_equal(lw_dev_send(&d, now, 2, p, 10, false), 0);
    assert_int_equal(lw_dev_poll(&d, now, &tx), 1);
    uint32_t air = tx.airtime_us;
    close_windows(&d, &now);
    assert_int_equal(lw_dev_send(&d, now, 2, p, 10, false), 0);
    assert_int_equal(lw_dev_poll(&d, now, &tx), 0); /* the three default channels share the 1 % band */
    lw_dev_event ev = {0};
    assert_int_equal(count_events(&d, LW_DEV_EV_DEFERRED, &ev), 1);
    assert_int_equal(d.stats.deferred, 1);
    uint64_t t = lw_dev_next_us(&d);
    assert_int_equal(t, (uint64_t)air * 100);
    assert_int_equal(lw_dev_poll(&d, t - 1, &tx), 0);
    assert_int_equal(d.stats.deferred, 1); /* counted once per frame */
    assert_int_equal(lw_dev_poll(&d, t, &tx), 1);
}

static void test_bad_args(void **state) {
    (void)state;
    lw_dev_config c;
    cfg_abp(&c, 5);
    c.dr = 12; /* RFU in EU868 */
    lw_device d;
    assert_int_equal(lw_dev_init(&d, &c), LW_ERR_ARG);
    cfg_abp(&c, 5);
    assert_int_equal(lw_dev_init(&d, &c), 0);
    lw_dev_tx tx;
    uint64_t now = 0;
    uplink(&d, &now, false, &tx);
    /* garbage and truncated frames in the window: ignored, no crash */
    uint8_t junk[40];
    for (size_t n = 0; n < sizeof junk; n++) {
        for (size_t i = 0; i < n; i++) junk[i] = (uint8_t)(i * 37 + n);
        junk[0] = 0x60;
        assert_true(lw_dev_rx(&d, d.rx1_us, d.rx1_freq, d.rx1_dr, junk, n, -70, 7) <= 0);
    }
    assert_string_equal(lw_dev_event_name(LW_DEV_EV_JOINED), "joined");
    assert_string_equal(lw_dev_event_name(99), "?");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join),          cmocka_unit_test(test_join_retry),  cmocka_unit_test(test_uplink_frames),
        cmocka_unit_test(test_downlinks),     cmocka_unit_test(test_confirmed),   cmocka_unit_test(test_mac_commands),
        cmocka_unit_test(test_adr_backoff),   cmocka_unit_test(test_duty_cycle),  cmocka_unit_test(test_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
