/* Unit tests for sim/gateway (the simulated packet forwarder): PULL_DATA keepalive every 5 s, rxpk
 * forwarded in PUSH_DATA at once with the concentrator tmst (offset, 32-bit wrap), stat every 30 s,
 * PUSH_ACK/PULL_ACK accounting, PULL_RESP scheduling at its tmst with TX_ACK NONE, and the TX_ACK
 * errors TOO_LATE, TOO_EARLY, COLLISION_PACKET, TX_FREQ, GPS_UNLOCKED; garbage from the server is
 * counted, never fatal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/gateway.h"

static const uint8_t EUI[8] = {0xb8, 0x27, 0xeb, 0xff, 0xfe, 0, 0, 1};
static lw_gw_msg msg;

static int next_msg(lw_sgw *g, uint64_t now) {
    uint8_t out[4096];
    size_t len;
    int rc = lw_sgw_poll(g, now, out, sizeof out, &len);
    if (rc != 1) return rc;
    char err[200];
    assert_int_equal(lw_gw_parse(out, len, &msg, err, sizeof err), 0);
    assert_memory_equal(msg.eui, EUI, 8);
    return 1;
}

static void pull_resp(lw_sgw *g, uint64_t now, uint32_t tmst, uint32_t freq, uint16_t token, bool tmms) {
    uint8_t data[12] = {0x60, 1, 2, 3, 4, 0, 0, 0, 9, 9, 9, 9};
    lw_gw_txpk tx;
    memset(&tx, 0, sizeof tx);
    if (tmms)
        tx.has_tmms = true, tx.tmms = 1;
    else
        tx.has_tmst = true, tx.tmst = tmst;
    tx.freq_hz = freq;
    tx.powe = 14;
    tx.modu = LW_GW_MODU_LORA;
    tx.sf = 7;
    tx.bw_khz = 125;
    tx.ipol = true;
    tx.size = sizeof data;
    tx.data = data;
    uint8_t out[1024];
    size_t len;
    assert_int_equal(lw_gw_build_pull_resp(&tx, 2, token, out, sizeof out, &len), 0);
    char err[200];
    assert_int_equal(lw_sgw_input(g, now, out, len, err, sizeof err), LW_GW_PULL_RESP);
}

static void test_uplink_and_keepalive(void **state) {
    (void)state;
    lw_sgw g;
    lw_sgw_init(&g, lw_region_get("EU868"), EUI, 0xFFFFFF00u, 1764072000000000ull, 0);
    assert_int_equal(lw_sgw_next_us(&g), 0);
    assert_int_equal(next_msg(&g, 0), 1);
    assert_int_equal(msg.ident, LW_GW_PULL_DATA);
    assert_int_equal(next_msg(&g, 1), 0);
    assert_int_equal(lw_sgw_next_us(&g), 5000000);
    /* PULL_ACK / PUSH_ACK */
    uint8_t ack[4] = {2, 0, 0, LW_GW_PULL_ACK};
    assert_int_equal(lw_sgw_input(&g, 10, ack, 4, NULL, 0), LW_GW_PULL_ACK);
    assert_int_equal(g.stats.pull_acked, 1);
    /* a frame heard at t = 1000 us: tmst wraps past 2^32 */
    const uint8_t phy[5] = {0x40, 1, 2, 3, 4};
    assert_int_equal(lw_sgw_receive(&g, 1000, 868300000, 9, 125000, -101.4, -3.26, phy, 5), 0);
    assert_int_equal(lw_sgw_next_us(&g), 0);
    assert_int_equal(next_msg(&g, 1000), 1);
    assert_int_equal(msg.ident, LW_GW_PUSH_DATA);
    assert_int_equal(msg.n_rxpk, 1);
    assert_false(msg.has_stat);
    assert_int_equal(msg.rxpk[0].tmst, (uint32_t)(0xFFFFFF00u + 1000u));
    assert_int_equal(msg.rxpk[0].tmst, 744);
    assert_int_equal(msg.rxpk[0].freq_hz, 868300000);
    assert_int_equal(msg.rxpk[0].sf, 9);
    assert_int_equal(msg.rxpk[0].rssi, -101);
    assert_true(msg.rxpk[0].lsnr > -3.31f && msg.rxpk[0].lsnr < -3.29f);
    assert_int_equal(msg.rxpk[0].stat, 1);
    assert_int_equal(msg.rxpk[0].chan, 1);
    assert_memory_equal(msg.rxpk[0].data, phy, 5);
    assert_true(msg.rxpk[0].has & LW_GW_RX_TIME);
    assert_string_equal(msg.rxpk[0].time, "2025-11-25T12:00:00.001000Z");
    uint8_t pack[4] = {2, msg.token >> 8, msg.token & 0xff, LW_GW_PUSH_ACK};
    assert_int_equal(lw_sgw_input(&g, 1100, pack, 4, NULL, 0), LW_GW_PUSH_ACK);
    /* keepalive at 5 s, stat at 30 s */
    assert_int_equal(next_msg(&g, 5000000), 1);
    assert_int_equal(msg.ident, LW_GW_PULL_DATA);
    assert_int_equal(next_msg(&g, 30000000), 1);
    assert_int_equal(msg.ident, LW_GW_PUSH_DATA);
    assert_true(msg.has_stat);
    assert_int_equal(msg.stat.rxnb, 1);
    assert_int_equal(msg.stat.rxfw, 1);
    assert_true(msg.stat.ackr == 100.0);
    assert_int_equal(g.stats.push_sent, 2);
    /* garbage from the server: counted, not fatal */
    const uint8_t junk[] = {7, 7, 7};
    char err[100];
    assert_true(lw_sgw_input(&g, 1, junk, sizeof junk, err, sizeof err) < 0);
    const uint8_t pd[12] = {2, 0, 0, LW_GW_PULL_DATA};
    assert_int_equal(lw_sgw_input(&g, 1, pd, 12, err, sizeof err), LW_GW_ERR_IDENT);
    assert_int_equal(g.stats.bad_datagrams, 2);
}

static void test_downlink_schedule(void **state) {
    (void)state;
    lw_sgw g;
    lw_sgw_init(&g, lw_region_get("EU868"), EUI, 5000, 0, 0);
    while (next_msg(&g, 0) == 1) {
    }
    uint64_t now = 10000000;
    uint32_t tm = lw_sgw_tmst(&g, now);
    assert_int_equal(tm, 10005000);
    pull_resp(&g, now, tm + 1000000, 868100000, 0x0101, false); /* ok */
    pull_resp(&g, now, tm - 10, 868100000, 0x0102, false);      /* too late */
    pull_resp(&g, now, tm + 1000100, 868300000, 0x0103, false); /* overlaps the first */
    pull_resp(&g, now, tm + 2000000, 915000000, 0x0104, false); /* not EU868 */
    pull_resp(&g, now, tm + 90000000, 868100000, 0x0105, false); /* 90 s ahead */
    pull_resp(&g, now, 0, 868100000, 0x0106, true);             /* tmms without GPS */
    pull_resp(&g, now, tm + 2000000, 869525000, 0x0107, false); /* ok (RX2) */
    static const int want[] = {LW_GW_TXERR_NONE,    LW_GW_TXERR_TOO_LATE,  LW_GW_TXERR_COLLISION_PACKET,
                               LW_GW_TXERR_TX_FREQ, LW_GW_TXERR_TOO_EARLY, LW_GW_TXERR_GPS_UNLOCKED,
                               LW_GW_TXERR_NONE};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(next_msg(&g, now), 1);
        assert_int_equal(msg.ident, LW_GW_TX_ACK);
        assert_int_equal(msg.token, 0x0101 + i);
        assert_int_equal(msg.tx_error, want[i]);
    }
    assert_int_equal(g.stats.tx_err[LW_GW_TXERR_NONE], 2);
    assert_int_equal(g.stats.pull_resp, 7);
    /* the queued ones come out at their time, in order */
    lw_sgw_down dn;
    assert_int_equal(next_msg(&g, now), 1); /* the keepalive that fell due meanwhile */
    assert_int_equal(msg.ident, LW_GW_PULL_DATA);
    assert_int_equal(lw_sgw_next_us(&g), now + 1000000);
    assert_int_equal(lw_sgw_tx_due(&g, now + 999999, &dn), 0);
    assert_int_equal(lw_sgw_tx_due(&g, now + 1000000, &dn), 1);
    assert_int_equal(dn.start_us, now + 1000000);
    assert_int_equal(dn.freq_hz, 868100000);
    assert_int_equal(dn.sf, 7);
    assert_true(dn.ipol);
    assert_int_equal(dn.size, 12);
    assert_true(dn.airtime_us > 30000 && dn.airtime_us < 60000);
    assert_int_equal(lw_sgw_tx_due(&g, now + 3000000, &dn), 1);
    assert_int_equal(dn.freq_hz, 869525000);
    assert_int_equal(lw_sgw_tx_due(&g, now + 9000000, &dn), 0);
    assert_int_equal(g.stats.txnb, 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uplink_and_keepalive),
        cmocka_unit_test(test_downlink_schedule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
