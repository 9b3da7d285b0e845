/* Unit tests for the gateway side of lorawan/gwproto: PUSH_DATA (rxpk + stat), PULL_DATA and TX_ACK
 * builders checked by round trip through the server-side lw_gw_parse, lw_gw_parse_pull_resp on
 * PULL_RESPs made by lw_gw_build_pull_resp (LoRa/FSK, tmst/imme/tmms), hand-written ones from
 * ChirpStack/TTS-style servers, and hostile ones (every truncation, byte flips, wrong types, bad
 * base64, size mismatch) which must fail cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lorawan/gwproto.h"

static const uint8_t EUI[8] = {0xb8, 0x27, 0xeb, 0xff, 0xfe, 0x00, 0x01, 0x02};

static lw_gw_msg msg;

static void test_push_data_round_trip(void **state) {
    (void)state;
    lw_gw_rxpk rx[2];
    memset(rx, 0, sizeof rx);
    rx[0].has = LW_GW_RX_TIME | LW_GW_RX_CHAN | LW_GW_RX_RFCH | LW_GW_RX_STAT | LW_GW_RX_CODR | LW_GW_RX_RSSI | LW_GW_RX_LSNR;
    strcpy(rx[0].time, "2026-11-25T12:00:00.123456Z");
    rx[0].tmst = 4294967295u;
    rx[0].freq_hz = 868100000;
    rx[0].chan = 0;
    rx[0].rfch = 1;
    rx[0].stat = 1;
    rx[0].modu = LW_GW_MODU_LORA;
    rx[0].sf = 12;
    rx[0].bw_khz = 125;
    strcpy(rx[0].codr, "4/5");
    rx[0].rssi = -117;
    rx[0].lsnr = -13.5f;
    rx[0].size = 23;
    for (int i = 0; i < 23; i++) rx[0].data[i] = (uint8_t)(i * 11);
    rx[1] = rx[0];
    rx[1].has = LW_GW_RX_STAT;
    rx[1].tmst = 7;
    rx[1].freq_hz = 867900000;
    rx[1].sf = 7;
    rx[1].size = 0;
    lw_gw_stat st;
    memset(&st, 0, sizeof st);
    st.has = LW_GW_ST_TIME | LW_GW_ST_RXNB | LW_GW_ST_RXOK | LW_GW_ST_RXFW | LW_GW_ST_ACKR | LW_GW_ST_DWNB | LW_GW_ST_TXNB;
    strcpy(st.time, "2026-11-25 12:00:00 GMT");
    st.rxnb = 5, st.rxok = 4, st.rxfw = 3, st.ackr = 50.0, st.dwnb = 2, st.txnb = 1;
    uint8_t out[4096];
    size_t len = 0;
    assert_int_equal(lw_gw_build_push_data(rx, 2, &st, 2, 0xabcd, EUI, out, sizeof out, &len), 0);
    assert_int_equal(out[0], 2);
    assert_int_equal(out[3], LW_GW_PUSH_DATA);
    char err[200];
    assert_int_equal(lw_gw_parse(out, len, &msg, err, sizeof err), 0);
    assert_int_equal(msg.token, 0xabcd);
    assert_memory_equal(msg.eui, EUI, 8);
    assert_int_equal(msg.n_rxpk, 2);
    const lw_gw_rxpk *p = &msg.rxpk[0];
    assert_string_equal(p->time, rx[0].time);
    assert_int_equal(p->tmst, 4294967295u);
    assert_int_equal(p->freq_hz, 868100000);
    assert_int_equal(p->rfch, 1);
    assert_int_equal(p->stat, 1);
    assert_int_equal(p->sf, 12);
    assert_int_equal(p->bw_khz, 125);
    assert_string_equal(p->codr, "4/5");
    assert_int_equal(p->rssi, -117);
    assert_true(p->lsnr > -13.51f && p->lsnr < -13.49f);
    assert_int_equal(p->size, 23);
    assert_memory_equal(p->data, rx[0].data, 23);
    assert_int_equal(msg.rxpk[1].size, 0);
    assert_int_equal(msg.rxpk[1].freq_hz, 867900000);
    assert_false(msg.rxpk[1].has & LW_GW_RX_RSSI);
    assert_true(msg.has_stat);
    assert_int_equal(msg.stat.rxnb, 5);
    assert_int_equal(msg.stat.txnb, 1);
    assert_true(msg.stat.ackr == 50.0);
    assert_string_equal(msg.stat.time, st.time);
    /* stat only, v1; no room; bad arguments */
    assert_int_equal(lw_gw_build_push_data(NULL, 0, &st, 1, 1, EUI, out, sizeof out, &len), 0);
    assert_int_equal(lw_gw_parse(out, len, &msg, err, sizeof err), 0);
    assert_int_equal(msg.n_rxpk, 0);
    assert_true(msg.has_stat);
    assert_int_equal(lw_gw_build_push_data(rx, 2, &st, 2, 1, EUI, out, 40, &len), LW_GW_ERR_NOSPACE);
    assert_int_equal(lw_gw_build_push_data(rx, 2, &st, 3, 1, EUI, out, sizeof out, &len), LW_GW_ERR_ARG);
    rx[0].sf = 13;
    assert_int_equal(lw_gw_build_push_data(rx, 1, NULL, 2, 1, EUI, out, sizeof out, &len), LW_GW_ERR_ARG);
    rx[0].sf = 7;
    rx[0].modu = 9;
    assert_int_equal(lw_gw_build_push_data(rx, 1, NULL, 2, 1, EUI, out, sizeof out, &len), LW_GW_ERR_ARG);
    /* FSK */
    rx[0].modu = LW_GW_MODU_FSK;
    rx[0].bitrate = 50000;
    rx[0].has = 0;
    assert_int_equal(lw_gw_build_push_data(rx, 1, NULL, 2, 1, EUI, out, sizeof out, &len), 0);
    assert_int_equal(lw_gw_parse(out, len, &msg, err, sizeof err), 0);
    assert_int_equal(msg.rxpk[0].modu, LW_GW_MODU_FSK);
    assert_int_equal(msg.rxpk[0].bitrate, 50000);
}

static void test_pull_data_tx_ack(void **state) {
    (void)state;
    uint8_t out[256];
    size_t len;
    char err[200];
    assert_int_equal(lw_gw_build_pull_data(2, 0x0102, EUI, out, sizeof out, &len), 0);
    assert_int_equal(len, 12);
    assert_int_equal(lw_gw_parse(out, len, &msg, err, sizeof err), 0);
    assert_int_equal(msg.ident, LW_GW_PULL_DATA);
    assert_int_equal(msg.token, 0x0102);
    assert_memory_equal(msg.eui, EUI, 8);
    assert_int_equal(lw_gw_build_pull_data(2, 1, EUI, out, 11, &len), LW_GW_ERR_NOSPACE);
    for (int e = LW_GW_TXERR_NONE; e <= LW_GW_TXERR_GPS_UNLOCKED; e++) {
        assert_int_equal(lw_gw_build_tx_ack(0x7777, EUI, e, out, sizeof out, &len), 0);
        assert_int_equal(lw_gw_parse(out, len, &msg, err, sizeof err), 0);
        assert_int_equal(msg.ident, LW_GW_TX_ACK);
        assert_int_equal(msg.version, 2);
        assert_int_equal(msg.token, 0x7777);
        assert_int_equal(msg.tx_error, e);
    }
    assert_int_equal(lw_gw_build_tx_ack(1, EUI, 99, out, sizeof out, &len), LW_GW_ERR_ARG);
    assert_int_equal(lw_gw_build_tx_ack(1, EUI, -1, out, sizeof out, &len), LW_GW_ERR_ARG);
}

static void test_pull_resp_round_trip(void **state) {
    (void)state;
    uint8_t payload[33];
    for (int i = 0; i < 33; i++) payload[i] = (uint8_t)(255 - i);
    lw_gw_txpk tx;
    memset(&tx, 0, sizeof tx);
    tx.has_tmst = true;
    tx.tmst = 3000000000u;
    tx.freq_hz = 869525000;
    tx.powe = 27;
    tx.modu = LW_GW_MODU_LORA;
    tx.sf = 12;
    tx.bw_khz = 125;
    tx.codr = "4/5";
    tx.ipol = true;
    tx.size = 33;
    tx.data = payload;
    uint8_t out[1024];
    size_t len;
    assert_int_equal(lw_gw_build_pull_resp(&tx, 2, 0x4242, out, sizeof out, &len), 0);
    lw_gw_pull_resp pr;
    char err[200];
    assert_int_equal(lw_gw_parse_pull_resp(out, len, &pr, err, sizeof err), 0);
    assert_int_equal(pr.version, 2);
    assert_int_equal(pr.token, 0x4242);
    assert_true(pr.tx.has_tmst);
    assert_false(pr.tx.imme);
    assert_int_equal(pr.tx.tmst, 3000000000u);
    assert_int_equal(pr.tx.freq_hz, 869525000);
    assert_int_equal(pr.tx.powe, 27);
    assert_int_equal(pr.tx.sf, 12);
    assert_int_equal(pr.tx.bw_khz, 125);
    assert_string_equal(pr.tx.codr, "4/5");
    assert_true(pr.tx.ipol);
    assert_int_equal(pr.tx.size, 33);
    assert_ptr_equal(pr.tx.data, pr.data);
    assert_memory_equal(pr.data, payload, 33);
    /* immediate FSK, v1 */
    memset(&tx, 0, sizeof tx);
    tx.imme = true;
    tx.freq_hz = 868800000;
    tx.modu = LW_GW_MODU_FSK;
    tx.bitrate = 50000;
    tx.fdev = 25000;
    tx.size = 3;
    tx.data = payload;
    assert_int_equal(lw_gw_build_pull_resp(&tx, 1, 0, out, sizeof out, &len), 0);
    assert_int_equal(lw_gw_parse_pull_resp(out, len, &pr, err, sizeof err), 0);
    assert_true(pr.tx.imme);
    assert_int_equal(pr.tx.modu, LW_GW_MODU_FSK);
    assert_int_equal(pr.tx.bitrate, 50000);
    assert_int_equal(pr.tx.fdev, 25000);
    /* a server-written one with trailing NULs and members in another order */
    const char *js = "{\"txpk\":{\"data\":\"AQID\",\"size\":3,\"ipol\":true,\"codr\":\"4/5\",\"datr\":\"SF9BW125\","
                     "\"modu\":\"LORA\",\"powe\":14,\"rfch\":0,\"freq\":868.3,\"tmst\":12345}}";
    uint8_t d[512] = {2, 0, 9, LW_GW_PULL_RESP};
    size_t n = strlen(js);
    memcpy(d + 4, js, n);
    d[4 + n] = 0;
    assert_int_equal(lw_gw_parse_pull_resp(d, 4 + n + 1, &pr, err, sizeof err), 0);
    assert_int_equal(pr.tx.freq_hz, 868300000);
    assert_int_equal(pr.tx.sf, 9);
    assert_int_equal(pr.tx.tmst, 12345);
    assert_int_equal(pr.token, 9);
}

static void expect_bad(const char *json, int want) {
    uint8_t d[1024] = {2, 0, 1, LW_GW_PULL_RESP};
    size_t n = strlen(json);
    assert_true(n + 4 <= sizeof d);
    memcpy(d + 4, json, n);
    lw_gw_pull_resp pr;
    char err[200] = "";
    int rc = lw_gw_parse_pull_resp(d, 4 + n, &pr, err, sizeof err);
    if (rc != want) print_message("json %s: rc %d (%s)\n", json, rc, err);
    assert_int_equal(rc, want);
    assert_true(err[0] != 0);
    assert_null(pr.tx.data);
}

static void test_pull_resp_hostile(void **state) {
    (void)state;
    expect_bad("", LW_GW_ERR_JSON);
    expect_bad("[1]", LW_GW_ERR_JSON);
    expect_bad("{}", LW_GW_ERR_FIELD);
    expect_bad("{\"txpk\":1}", LW_GW_ERR_FIELD);
    expect_bad("{\"txpk\":{\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"size\":0,\"data\":\"\"}}", LW_GW_ERR_FIELD);
    expect_bad("{\"txpk\":{\"tmst\":-1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"size\":0,\"data\":\"\"}}", LW_GW_ERR_FIELD);
    expect_bad("{\"txpk\":{\"tmst\":1,\"freq\":\"868.1\",\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"size\":0,\"data\":\"\"}}", LW_GW_ERR_FIELD);
    expect_bad("{\"txpk\":{\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF13BW125\",\"size\":0,\"data\":\"\"}}", LW_GW_ERR_FIELD);
    expect_bad("{\"txpk\":{\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/9\",\"size\":0,\"data\":\"\"}}", LW_GW_ERR_FIELD);
    expect_bad("{\"txpk\":{\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"ipol\":1,\"size\":0,\"data\":\"\"}}", LW_GW_ERR_FIELD);
    expect_bad("{\"txpk\":{\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"size\":2,\"data\":\"AQID\"}}", LW_GW_ERR_SIZE);
    expect_bad("{\"txpk\":{\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"size\":3,\"data\":\"AQ!D\"}}", LW_GW_ERR_BASE64);
    expect_bad("{\"txpk\":{\"tmst\":1,\"freq\":868.1,\"modu\":\"OOK\",\"datr\":\"SF7BW125\",\"size\":0,\"data\":\"\"}}", LW_GW_ERR_FIELD);
    expect_bad("{\"txpk\":{\"tmst\":1,\"freq\":868.1,\"modu\":\"FSK\",\"datr\":\"SF7BW125\",\"size\":0,\"data\":\"\"}}", LW_GW_ERR_FIELD);
    expect_bad("{\"txpk\":{\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"size\":300,\"data\":\"\"}}", LW_GW_ERR_FIELD);
    /* header problems */
    lw_gw_pull_resp pr;
    char err[200];
    const uint8_t v3[] = {3, 0, 0, 3, '{', '}'}, ack[] = {2, 0, 0, 1};
    assert_int_equal(lw_gw_parse_pull_resp(v3, sizeof v3, &pr, err, sizeof err), LW_GW_ERR_VERSION);
    assert_int_equal(lw_gw_parse_pull_resp(ack, sizeof ack, &pr, err, sizeof err), LW_GW_ERR_IDENT);
    assert_int_equal(lw_gw_parse_pull_resp(NULL, 0, &pr, err, sizeof err), LW_GW_ERR_TRUNCATED);
    assert_int_equal(lw_gw_parse_pull_resp(ack, 4, NULL, err, sizeof err), LW_GW_ERR_ARG);
    /* every truncation and every single-byte corruption of a valid one: no crash, sane result */
    uint8_t pay[40] = {0};
    lw_gw_txpk tx;
    memset(&tx, 0, sizeof tx);
    tx.has_tmst = true;
    tx.tmst = 99;
    tx.freq_hz = 868100000;
    tx.modu = LW_GW_MODU_LORA;
    tx.sf = 7;
    tx.bw_khz = 125;
    tx.ipol = true;
    tx.size = 40;
    tx.data = pay;
    uint8_t out[1024], mut[1024];
    size_t len;
    assert_int_equal(lw_gw_build_pull_resp(&tx, 2, 5, out, sizeof out, &len), 0);
    for (size_t cut = 0; cut < len; cut++) {
        int rc = lw_gw_parse_pull_resp(out, cut, &pr, err, sizeof err);
        assert_true(rc < 0);
    }
    for (size_t i = 0; i < len; i++) {
        memcpy(mut, out, len);
        mut[i] ^= 0x5a;
        int rc = lw_gw_parse_pull_resp(mut, len, &pr, err, sizeof err);
        if (rc == 0) assert_true(pr.tx.size <= LW_GW_MAX_PAYLOAD);
        else assert_true(rc < 0 && err[0]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_data_round_trip),
        cmocka_unit_test(test_pull_data_tx_ack),
        cmocka_unit_test(test_pull_resp_round_trip),
        cmocka_unit_test(test_pull_resp_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
