/* Unit tests for lorawan/gwproto: PROTOCOL.TXT-style datagrams (PUSH_DATA with two rxpk and a stat,
 * PULL_DATA, TX_ACK with and without error) in versions 1 and 2, every rejection class (garbage,
 * truncated header, wrong version, bad JSON, wrong types, huge numbers, bad base64, size mismatch,
 * too many rxpk), truncation at every byte, ACK building, and PULL_RESP re-parsed with jansson. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "lorawan/gwproto.h"

static const uint8_t EUI[8] = {0xaa, 0x55, 0x5a, 0x00, 0x00, 0x00, 0x01, 0x01};

static const char PUSH_JSON[] =
    "{\"rxpk\":[{\"time\":\"2013-03-31T16:21:17.528002Z\",\"tmst\":3512348611,\"chan\":2,\"rfch\":0,"
    "\"freq\":866.349812,\"stat\":1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/6\",\"rssi\":-35,"
    "\"lsnr\":5.1,\"size\":12,\"data\":\"QAEAAAKAAQABmIY6\"},"
    "{\"time\":\"2013-03-31T16:21:17.530974Z\",\"tmst\":3512348514,\"chan\":9,\"rfch\":1,\"freq\":869.1,"
    "\"stat\":1,\"modu\":\"FSK\",\"datr\":50000,\"rssi\":-75,\"size\":3,\"data\":\"AAEC\"}],"
    "\"stat\":{\"time\":\"2014-01-12 08:59:28 GMT\",\"lati\":46.24000,\"long\":3.25230,\"alti\":145,"
    "\"rxnb\":2,\"rxok\":2,\"rxfw\":2,\"ackr\":100.0,\"dwnb\":2,\"txnb\":2}}";

/* datagram = header (+EUI) + body */
static size_t mk(uint8_t *buf, size_t cap, uint8_t ver, uint8_t ident, bool eui, const char *body) {
    size_t n = 0;
    buf[n++] = ver;
    buf[n++] = 0x37;
    buf[n++] = 0xa1;
    buf[n++] = ident;
    if (eui) {
        memcpy(buf + n, EUI, 8);
        n += 8;
    }
    size_t bl = body ? strlen(body) : 0;
    assert_true(n + bl <= cap);
    if (bl) memcpy(buf + n, body, bl);
    return n + bl;
}

static lw_gw_msg msg;

/* standard base64 with padding, independent of the codec's own */
static void b64enc(const uint8_t *p, size_t n, char *out) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        out[o++] = t[p[i] >> 2];
        out[o++] = t[(p[i] & 3) << 4 | p[i + 1] >> 4];
        out[o++] = t[(p[i + 1] & 15) << 2 | p[i + 2] >> 6];
        out[o++] = t[p[i + 2] & 63];
    }
    if (n - i == 1) {
        out[o++] = t[p[i] >> 2];
        out[o++] = t[(p[i] & 3) << 4];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        out[o++] = t[p[i] >> 2];
        out[o++] = t[(p[i] & 3) << 4 | p[i + 1] >> 4];
        out[o++] = t[(p[i + 1] & 15) << 2];
        out[o++] = '=';
    }
    out[o] = 0;
}

static int parse_body(uint8_t ver, const char *body, char *err, size_t el) {
    uint8_t buf[4096];
    size_t n = mk(buf, sizeof buf, ver, LW_GW_PUSH_DATA, true, body);
    return lw_gw_parse(buf, n, &msg, err, el);
}

static void expect_push_err(const char *body, int want, const char *substr) {
    char err[256] = "";
    int rc = parse_body(2, body, err, sizeof err);
    if (rc != want) fail_msg("body %s: rc %d (%s), want %d", body, rc, err, want);
    if (substr && !strstr(err, substr)) fail_msg("body %s: message '%s' lacks '%s'", body, err, substr);
    assert_true(err[0] != 0);
    assert_int_equal(msg.n_rxpk, 0);
    assert_false(msg.has_stat);
}

static void check_push(uint8_t ver) {
    char err[256] = "";
    int rc = parse_body(ver, PUSH_JSON, err, sizeof err);
    if (rc) fail_msg("rc %d: %s", rc, err);
    assert_int_equal(msg.version, ver);
    assert_int_equal(msg.token, 0x37a1);
    assert_int_equal(msg.ident, LW_GW_PUSH_DATA);
    assert_true(msg.has_eui);
    assert_memory_equal(msg.eui, EUI, 8);
    assert_int_equal(msg.n_rxpk, 2);
    const lw_gw_rxpk *a = &msg.rxpk[0], *b = &msg.rxpk[1];
    assert_string_equal(a->time, "2013-03-31T16:21:17.528002Z");
    assert_int_equal(a->tmst, 3512348611u);
    assert_int_equal(a->freq_hz, 866349812u);
    assert_int_equal(a->chan, 2);
    assert_int_equal(a->rfch, 0);
    assert_int_equal(a->stat, 1);
    assert_int_equal(a->modu, LW_GW_MODU_LORA);
    assert_int_equal(a->sf, 7);
    assert_int_equal(a->bw_khz, 125);
    assert_string_equal(a->codr, "4/6");
    assert_int_equal(a->rssi, -35);
    assert_true(a->lsnr > 5.09f && a->lsnr < 5.11f);
    assert_int_equal(a->size, 12);
    static const uint8_t p0[12] = {0x40, 0x01, 0x00, 0x00, 0x02, 0x80, 0x01, 0x00, 0x01, 0x98, 0x86, 0x3a};
    assert_memory_equal(a->data, p0, 12);
    unsigned want =
        LW_GW_RX_TIME | LW_GW_RX_CHAN | LW_GW_RX_RFCH | LW_GW_RX_STAT | LW_GW_RX_CODR | LW_GW_RX_RSSI | LW_GW_RX_LSNR;
    assert_int_equal(a->has, want);
    assert_int_equal(b->modu, LW_GW_MODU_FSK);
    assert_int_equal(b->bitrate, 50000);
    assert_int_equal(b->freq_hz, 869100000u);
    assert_int_equal(b->size, 3);
    assert_int_equal(b->data[2], 2);
    assert_false(b->has & LW_GW_RX_LSNR);
    assert_true(msg.has_stat);
    assert_string_equal(msg.stat.time, "2014-01-12 08:59:28 GMT");
    assert_true(msg.stat.lati > 46.2399 && msg.stat.lati < 46.2401);
    assert_true(msg.stat.lon > 3.2522 && msg.stat.lon < 3.2524);
    assert_int_equal(msg.stat.alti, 145);
    assert_int_equal(msg.stat.rxnb, 2);
    assert_int_equal(msg.stat.rxok, 2);
    assert_int_equal(msg.stat.rxfw, 2);
    assert_int_equal(msg.stat.dwnb, 2);
    assert_int_equal(msg.stat.txnb, 2);
    assert_true(msg.stat.ackr == 100.0);
    assert_int_equal(msg.stat.has, 0x3ff);
}

static void test_push_data_v1_v2(void **st) {
    (void)st;
    check_push(1);
    check_push(2);
}

static void test_push_data_variants(void **st) {
    (void)st;
    char err[256] = "";
    /* tmms, rssis, unknown members, padding-less base64, trailing NUL, empty object */
    assert_int_equal(parse_body(2,
                                "{\"rxpk\":[{\"tmms\":1234567890123,\"tmst\":0,\"freq\":868.1,\"modu\":\"LORA\","
                                "\"datr\":\"SF12BW500\",\"codr\":\"4/5\",\"rssis\":-40,\"rsig\":[],\"size\":2,"
                                "\"data\":\"AAE\"}],\"foo\":1}",
                                err, sizeof err),
                     0);
    assert_int_equal(msg.rxpk[0].tmms, 1234567890123ull);
    assert_int_equal(msg.rxpk[0].rssis, -40);
    assert_int_equal(msg.rxpk[0].sf, 12);
    assert_int_equal(msg.rxpk[0].bw_khz, 500);
    assert_int_equal(msg.rxpk[0].size, 2);
    assert_int_equal(parse_body(2, "{}", err, sizeof err), 0);
    assert_int_equal(msg.n_rxpk, 0);
    assert_false(msg.has_stat);
    uint8_t buf[64];
    size_t n = mk(buf, sizeof buf, 2, LW_GW_PUSH_DATA, true, "{\"rxpk\":[]}");
    buf[n++] = 0;
    assert_int_equal(lw_gw_parse(buf, n, &msg, err, sizeof err), 0);
    /* 256-byte payload is the limit; 257 is refused */
    uint8_t pl[257];
    for (int i = 0; i < 257; i++) pl[i] = (uint8_t)i;
    char b64[400], body[600];
    b64enc(pl, 256, b64);
    snprintf(body, sizeof body,
             "{\"rxpk\":[{\"tmst\":5,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/5\","
             "\"size\":256,\"data\":\"%s\"}]}",
             b64);
    assert_int_equal(parse_body(2, body, err, sizeof err), 0);
    assert_int_equal(msg.rxpk[0].size, 256);
    assert_memory_equal(msg.rxpk[0].data, pl, 256);
    b64enc(pl, 257, b64);
    snprintf(body, sizeof body,
             "{\"rxpk\":[{\"tmst\":5,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/5\","
             "\"size\":255,\"data\":\"%s\"}]}",
             b64);
    expect_push_err(body, LW_GW_ERR_BASE64, "rxpk[0].data");
}

#define RX(extra)                                                                                                      \
    "{\"rxpk\":[{\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/5\",\"size\":4,"       \
    "\"data\":\"AAECAw==\"" extra "}]}"
#define RXD(fields) "{\"rxpk\":[{" fields "}]}"

static void test_rejections(void **st) {
    (void)st;
    char err[256];
    uint8_t buf[64];
    /* garbage and truncated header */
    static const uint8_t junk[] = {0xff, 0x00, 0x13, 0x37, 0x42};
    assert_int_equal(lw_gw_parse(junk, sizeof junk, &msg, err, sizeof err), LW_GW_ERR_VERSION);
    assert_int_equal(lw_gw_parse(junk, 3, &msg, err, sizeof err), LW_GW_ERR_TRUNCATED);
    assert_int_equal(lw_gw_parse(NULL, 0, &msg, err, sizeof err), LW_GW_ERR_TRUNCATED);
    assert_int_equal(lw_gw_parse(junk, 4, NULL, err, sizeof err), LW_GW_ERR_ARG);
    /* wrong version */
    size_t n = mk(buf, sizeof buf, 3, LW_GW_PULL_DATA, true, NULL);
    assert_int_equal(lw_gw_parse(buf, n, &msg, err, sizeof err), LW_GW_ERR_VERSION);
    assert_non_null(strstr(err, "version 3"));
    n = mk(buf, sizeof buf, 0, LW_GW_PULL_DATA, true, NULL);
    assert_int_equal(lw_gw_parse(buf, n, &msg, err, sizeof err), LW_GW_ERR_VERSION);
    /* unknown identifier, PULL_RESP not decoded, TX_ACK in v1 */
    n = mk(buf, sizeof buf, 2, 0x06, true, NULL);
    assert_int_equal(lw_gw_parse(buf, n, &msg, err, sizeof err), LW_GW_ERR_IDENT);
    n = mk(buf, sizeof buf, 2, LW_GW_PULL_RESP, false, "{}");
    assert_int_equal(lw_gw_parse(buf, n, &msg, err, sizeof err), LW_GW_ERR_IDENT);
    n = mk(buf, sizeof buf, 1, LW_GW_TX_ACK, true, NULL);
    assert_int_equal(lw_gw_parse(buf, n, &msg, err, sizeof err), LW_GW_ERR_IDENT);
    /* missing EUI, extra bytes after PULL_DATA / ACKs */
    n = mk(buf, sizeof buf, 2, LW_GW_PULL_DATA, false, "abcd");
    assert_int_equal(lw_gw_parse(buf, n, &msg, err, sizeof err), LW_GW_ERR_TRUNCATED);
    n = mk(buf, sizeof buf, 2, LW_GW_PULL_DATA, true, "x");
    assert_int_equal(lw_gw_parse(buf, n, &msg, err, sizeof err), LW_GW_ERR_JSON);
    n = mk(buf, sizeof buf, 2, LW_GW_PUSH_ACK, false, "x");
    assert_int_equal(lw_gw_parse(buf, n, &msg, err, sizeof err), LW_GW_ERR_JSON);
    /* error buffer may be NULL or tiny */
    assert_int_equal(lw_gw_parse(junk, 3, &msg, NULL, 0), LW_GW_ERR_TRUNCATED);
    char tiny[4];
    assert_int_equal(lw_gw_parse(junk, 3, &msg, tiny, sizeof tiny), LW_GW_ERR_TRUNCATED);
    assert_int_equal(strlen(tiny), 3);

    /* bad JSON */
    expect_push_err("", LW_GW_ERR_JSON, "json");
    expect_push_err("{\"rxpk\":[", LW_GW_ERR_JSON, "json");
    expect_push_err("[1,2]", LW_GW_ERR_JSON, "not an object");
    expect_push_err("{\"stat\":{},\"stat\":{}}", LW_GW_ERR_JSON, "json");
    expect_push_err("{} trailing", LW_GW_ERR_JSON, "json");
    expect_push_err("\xff\xfe", LW_GW_ERR_JSON, "json");
    /* wrong types */
    expect_push_err("{\"rxpk\":{}}", LW_GW_ERR_FIELD, "rxpk: not an array");
    expect_push_err("{\"rxpk\":[1]}", LW_GW_ERR_FIELD, "rxpk[0]: not an object");
    expect_push_err("{\"stat\":[]}", LW_GW_ERR_FIELD, "stat");
    expect_push_err("{\"stat\":{\"rxnb\":\"2\"}}", LW_GW_ERR_FIELD, "stat.rxnb");
    expect_push_err("{\"stat\":{\"lati\":95}}", LW_GW_ERR_FIELD, "stat.lati");
    expect_push_err("{\"stat\":{\"ackr\":\"x\"}}", LW_GW_ERR_FIELD, "stat.ackr");
    expect_push_err(RXD("\"tmst\":\"1\",\"freq\":868.1"), LW_GW_ERR_FIELD, "rxpk[0].tmst");
    expect_push_err(RXD("\"freq\":868.1"), LW_GW_ERR_FIELD, "rxpk[0].tmst: missing");
    expect_push_err(RXD("\"tmst\":1,\"freq\":\"868.1\""), LW_GW_ERR_FIELD, "rxpk[0].freq");
    expect_push_err(RX(",\"chan\":1.5"), LW_GW_ERR_FIELD, "rxpk[0].chan");
    expect_push_err(RX(",\"stat\":2"), LW_GW_ERR_FIELD, "rxpk[0].stat");
    expect_push_err(RX(",\"rssi\":null"), LW_GW_ERR_FIELD, "rxpk[0].rssi");
    expect_push_err(RX(",\"time\":5"), LW_GW_ERR_FIELD, "rxpk[0].time");
    expect_push_err(RX(",\"time\":\"0123456789012345678901234567890123456789\""), LW_GW_ERR_FIELD, "time");
    expect_push_err(RXD("\"tmst\":1,\"freq\":868.1,\"modu\":\"OOK\",\"datr\":\"SF7BW125\""), LW_GW_ERR_FIELD, "modu");
    expect_push_err(RXD("\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":50000"), LW_GW_ERR_FIELD, "datr");
    expect_push_err(RXD("\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF13BW125\""), LW_GW_ERR_FIELD, "datr");
    expect_push_err(RXD("\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125x\""), LW_GW_ERR_FIELD, "datr");
    expect_push_err(RXD("\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/9\""),
                    LW_GW_ERR_FIELD, "codr");
    expect_push_err(RXD("\"tmst\":1,\"freq\":868.1,\"modu\":\"FSK\",\"datr\":\"50000\""), LW_GW_ERR_FIELD, "datr");
    expect_push_err(RXD("\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/5\","
                        "\"size\":4,\"data\":4"),
                    LW_GW_ERR_FIELD, "data");
    expect_push_err(RXD("\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/5\","
                        "\"size\":4"),
                    LW_GW_ERR_FIELD, "data: missing");
    /* huge numbers */
    expect_push_err(RXD("\"tmst\":4294967296,\"freq\":868.1"), LW_GW_ERR_FIELD, "out of range");
    expect_push_err(RXD("\"tmst\":-1,\"freq\":868.1"), LW_GW_ERR_FIELD, "out of range");
    expect_push_err(RXD("\"tmst\":99999999999999999999999,\"freq\":868.1"), LW_GW_ERR_JSON, "json");
    expect_push_err(RXD("\"tmst\":1,\"freq\":1e400"), LW_GW_ERR_JSON, "json");
    expect_push_err(RXD("\"tmst\":1,\"freq\":1e30"), LW_GW_ERR_FIELD, "freq");
    expect_push_err(RXD("\"tmst\":1,\"freq\":-868.1"), LW_GW_ERR_FIELD, "freq");
    expect_push_err(RX(",\"rssi\":-1e300"), LW_GW_ERR_FIELD, "rssi");
    expect_push_err(RX(",\"lsnr\":1e20"), LW_GW_ERR_FIELD, "lsnr");
    expect_push_err("{\"stat\":{\"rxok\":4294967296}}", LW_GW_ERR_FIELD, "stat.rxok");
    /* size and data */
    expect_push_err(RXD("\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/5\","
                        "\"size\":5,\"data\":\"AAECAw==\""),
                    LW_GW_ERR_SIZE, "size");
    expect_push_err(RXD("\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/5\","
                        "\"size\":300,\"data\":\"AAECAw==\""),
                    LW_GW_ERR_FIELD, "size");
    static const char *const bad64[] = {
        "AAECA", "AAEC*w==", "AA=CAw==", "AAECAw=", "AAECAx==", "-DS4CGaD", "AAEC Aw=", "A===", "AAECAw==="};
    for (size_t i = 0; i < sizeof bad64 / sizeof bad64[0]; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 RXD("\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/5\","
                     "\"size\":4,\"data\":\"%s\""),
                 bad64[i]);
        expect_push_err(body, LW_GW_ERR_BASE64, "base64");
    }
    /* too many rxpk; an error in the second packet leaves nothing */
    char big[8192] = "{\"rxpk\":[";
    for (int i = 0; i < 17; i++) {
        strcat(big, i ? "," : "");
        strcat(big, "{\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/5\",\"size\":0,"
                    "\"data\":\"\"}");
    }
    strcat(big, "]}");
    expect_push_err(big, LW_GW_ERR_TOOMANY, "at most 16");
    expect_push_err("{\"rxpk\":[{\"tmst\":1,\"freq\":868.1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/5\","
                    "\"size\":0,\"data\":\"\"},{}]}",
                    LW_GW_ERR_FIELD, "rxpk[1]");
}

static void test_pull_data_and_acks(void **st) {
    (void)st;
    char err[256] = "";
    uint8_t buf[64];
    for (uint8_t v = 1; v <= 2; v++) {
        size_t n = mk(buf, sizeof buf, v, LW_GW_PULL_DATA, true, NULL);
        assert_int_equal(lw_gw_parse(buf, n, &msg, err, sizeof err), 0);
        assert_int_equal(msg.ident, LW_GW_PULL_DATA);
        assert_int_equal(msg.version, v);
        assert_int_equal(msg.token, 0x37a1);
        assert_memory_equal(msg.eui, EUI, 8);
        /* PULL_ACK echoes the token byte-exactly */
        uint8_t ack[8];
        size_t al = 0;
        assert_int_equal(lw_gw_build_ack(v, msg.token, LW_GW_PULL_ACK, ack, sizeof ack, &al), 0);
        assert_int_equal(al, 4);
        assert_int_equal(ack[0], v);
        assert_memory_equal(ack + 1, buf + 1, 2);
        assert_int_equal(ack[3], LW_GW_PULL_ACK);
        assert_int_equal(lw_gw_parse(ack, al, &msg, err, sizeof err), 0);
        assert_int_equal(msg.ident, LW_GW_PULL_ACK);
        assert_false(msg.has_eui);
        assert_int_equal(lw_gw_build_ack(v, 0xbeef, LW_GW_PUSH_ACK, ack, sizeof ack, &al), 0);
        assert_int_equal(ack[1], 0xbe);
        assert_int_equal(ack[2], 0xef);
        assert_int_equal(ack[3], LW_GW_PUSH_ACK);
    }
    size_t al = 9;
    uint8_t ack[8];
    assert_int_equal(lw_gw_build_ack(2, 1, LW_GW_PULL_ACK, ack, 3, &al), LW_GW_ERR_NOSPACE);
    assert_int_equal(al, 0);
    assert_int_equal(lw_gw_build_ack(3, 1, LW_GW_PULL_ACK, ack, 8, &al), LW_GW_ERR_ARG);
    assert_int_equal(lw_gw_build_ack(2, 1, LW_GW_PULL_DATA, ack, 8, &al), LW_GW_ERR_ARG);
    assert_int_equal(lw_gw_build_ack(2, 1, LW_GW_PULL_ACK, NULL, 8, &al), LW_GW_ERR_ARG);
}

static void test_tx_ack(void **st) {
    (void)st;
    char err[256] = "";
    uint8_t buf[256];
    size_t n = mk(buf, sizeof buf, 2, LW_GW_TX_ACK, true, NULL);
    msg.tx_error = 99;
    assert_int_equal(lw_gw_parse(buf, n, &msg, err, sizeof err), 0);
    assert_int_equal(msg.ident, LW_GW_TX_ACK);
    assert_int_equal(msg.tx_error, LW_GW_TXERR_NONE);
    static const char *const names[] = {"NONE",    "TOO_LATE", "TOO_EARLY",   "COLLISION_PACKET", "COLLISION_BEACON",
                                        "TX_FREQ", "TX_POWER", "GPS_UNLOCKED"};
    for (int i = 0; i < 8; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"txpk_ack\":{\"error\":\"%s\"}}", names[i]);
        n = mk(buf, sizeof buf, 2, LW_GW_TX_ACK, true, body);
        assert_int_equal(lw_gw_parse(buf, n, &msg, err, sizeof err), 0);
        assert_int_equal(msg.tx_error, i);
        assert_string_equal(lw_gw_txerr_name(i), names[i]);
    }
    /* trailing NUL sent by some forwarders; an empty txpk_ack */
    n = mk(buf, sizeof buf, 2, LW_GW_TX_ACK, true, "{\"txpk_ack\":{\"error\":\"TX_FREQ\"}}");
    buf[n++] = 0;
    assert_int_equal(lw_gw_parse(buf, n, &msg, err, sizeof err), 0);
    assert_int_equal(msg.tx_error, LW_GW_TXERR_TX_FREQ);
    n = mk(buf, sizeof buf, 2, LW_GW_TX_ACK, true, "{\"txpk_ack\":{}}");
    assert_int_equal(lw_gw_parse(buf, n, &msg, err, sizeof err), 0);
    assert_int_equal(msg.tx_error, LW_GW_TXERR_NONE);
    /* rejections */
    static const struct {
        const char *body;
        int rc;
    } bad[] = {{"{\"txpk_ack\":{\"error\":\"LATE\"}}", LW_GW_ERR_FIELD},
               {"{\"txpk_ack\":{\"error\":\"NONEX\"}}", LW_GW_ERR_FIELD},
               {"{\"txpk_ack\":{\"error\":7}}", LW_GW_ERR_FIELD},
               {"{\"txpk_ack\":[]}", LW_GW_ERR_FIELD},
               {"{\"txpk_ack\":", LW_GW_ERR_JSON},
               {"\"NONE\"", LW_GW_ERR_JSON}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        n = mk(buf, sizeof buf, 2, LW_GW_TX_ACK, true, bad[i].body);
        assert_int_equal(lw_gw_parse(buf, n, &msg, err, sizeof err), bad[i].rc);
        assert_true(err[0] != 0);
    }
    /* a NUL inside a string is refused by the JSON parser (no JSON_ALLOW_NUL) */
    static const char nul[] = "{\"txpk_ack\":{\"error\":\"NONE\\u0000X\"}}";
    n = mk(buf, sizeof buf, 2, LW_GW_TX_ACK, true, nul);
    assert_int_equal(lw_gw_parse(buf, n, &msg, err, sizeof err), LW_GW_ERR_JSON);
}

/* cut a valid datagram at every length: never a crash, and only the complete one (or a complete
 * header for PULL_DATA/TX_ACK) is accepted */
static void truncate_all(const uint8_t *d, size_t n) {
    char err[256];
    for (size_t i = 0; i < n; i++) {
        uint8_t *copy = malloc(i ? i : 1); /* exact-size copy so ASan sees any over-read */
        assert_non_null(copy);
        memcpy(copy, d, i);
        err[0] = 0;
        int rc = lw_gw_parse(copy, i, &msg, err, sizeof err);
        bool ok_prefix = d[3] == LW_GW_TX_ACK && i == LW_GW_EUI_HDR_LEN;
        if (ok_prefix)
            assert_int_equal(rc, 0);
        else {
            if (rc == 0) fail_msg("prefix of %zu/%zu bytes accepted", i, n);
            assert_true(err[0] != 0);
        }
        free(copy);
    }
    assert_int_equal(lw_gw_parse(d, n, &msg, err, sizeof err), 0);
}

static void test_truncation(void **st) {
    (void)st;
    uint8_t buf[4096];
    size_t n = mk(buf, sizeof buf, 2, LW_GW_PUSH_DATA, true, PUSH_JSON);
    truncate_all(buf, n);
    n = mk(buf, sizeof buf, 1, LW_GW_PUSH_DATA, true, PUSH_JSON);
    truncate_all(buf, n);
    n = mk(buf, sizeof buf, 2, LW_GW_PULL_DATA, true, NULL);
    truncate_all(buf, n);
    n = mk(buf, sizeof buf, 2, LW_GW_TX_ACK, true, "{\"txpk_ack\":{\"error\":\"COLLISION_BEACON\"}}");
    truncate_all(buf, n);
}

static json_t *resp_json(const uint8_t *d, size_t n, uint8_t ver, uint16_t token) {
    assert_true(n > 4);
    assert_int_equal(d[0], ver);
    assert_int_equal(d[1], token >> 8);
    assert_int_equal(d[2], token & 0xff);
    assert_int_equal(d[3], LW_GW_PULL_RESP);
    json_error_t je;
    json_t *j = json_loadb((const char *)d + 4, n - 4, JSON_REJECT_DUPLICATES, &je);
    if (!j) fail_msg("PULL_RESP JSON: %s", je.text);
    json_t *t = json_object_get(j, "txpk");
    assert_true(json_is_object(t));
    assert_int_equal(json_object_size(j), 1);
    return j;
}

static void test_pull_resp(void **st) {
    (void)st;
    static const uint8_t pl[] = {0x60, 0x04, 0x03, 0x02, 0x01, 0x00, 0x01, 0x00, 0xa1, 0xb2, 0xc3, 0xd4};
    lw_gw_txpk tx = {.has_tmst = true,
                     .tmst = 3513348611u,
                     .freq_hz = 869525000,
                     .rfch = 0,
                     .powe = 14,
                     .modu = LW_GW_MODU_LORA,
                     .sf = 9,
                     .bw_khz = 125,
                     .codr = "4/5",
                     .ipol = true,
                     .size = sizeof pl,
                     .data = pl};
    uint8_t out[1024];
    size_t len = 0;
    for (uint8_t v = 1; v <= 2; v++) {
        assert_int_equal(lw_gw_build_pull_resp(&tx, v, 0x1234, out, sizeof out, &len), 0);
        json_t *j = resp_json(out, len, v, 0x1234);
        json_t *t = json_object_get(j, "txpk");
        assert_int_equal(json_integer_value(json_object_get(t, "tmst")), 3513348611ll);
        assert_true(json_is_real(json_object_get(t, "freq")));
        double f = json_real_value(json_object_get(t, "freq"));
        assert_true(f > 869.524999 && f < 869.525001);
        assert_int_equal(json_integer_value(json_object_get(t, "rfch")), 0);
        assert_int_equal(json_integer_value(json_object_get(t, "powe")), 14);
        assert_string_equal(json_string_value(json_object_get(t, "modu")), "LORA");
        assert_string_equal(json_string_value(json_object_get(t, "datr")), "SF9BW125");
        assert_string_equal(json_string_value(json_object_get(t, "codr")), "4/5");
        assert_true(json_is_true(json_object_get(t, "ipol")));
        assert_int_equal(json_integer_value(json_object_get(t, "size")), sizeof pl);
        assert_string_equal(json_string_value(json_object_get(t, "data")), "YAQDAgEAAQChssPU");
        assert_null(json_object_get(t, "imme"));
        assert_null(json_object_get(t, "ncrc"));
        json_decref(j);
        /* the same frame, as a gateway would report it, decodes back to the bytes */
        char body[512];
        snprintf(body, sizeof body,
                 RXD("\"tmst\":1,\"freq\":869.525,\"modu\":\"LORA\",\"datr\":\"SF9BW125\",\"codr\":\"4/5\","
                     "\"size\":12,\"data\":\"YAQDAgEAAQChssPU\""));
        char err[256] = "";
        assert_int_equal(parse_body(v, body, err, sizeof err), 0);
        assert_memory_equal(msg.rxpk[0].data, pl, sizeof pl);
        assert_int_equal(msg.rxpk[0].freq_hz, 869525000u);
    }
    /* immediate FSK with tmms, ncrc, fdev, preamble */
    lw_gw_txpk fsk = {.imme = true,
                      .has_tmms = true,
                      .tmms = 1234567890123ull,
                      .freq_hz = 868800000,
                      .rfch = 1,
                      .powe = 27,
                      .modu = LW_GW_MODU_FSK,
                      .bitrate = 50000,
                      .fdev = 25000,
                      .prea = 5,
                      .ncrc = true,
                      .size = 1,
                      .data = pl};
    assert_int_equal(lw_gw_build_pull_resp(&fsk, 2, 7, out, sizeof out, &len), 0);
    json_t *j = resp_json(out, len, 2, 7);
    json_t *t = json_object_get(j, "txpk");
    assert_true(json_is_true(json_object_get(t, "imme")));
    assert_int_equal(json_integer_value(json_object_get(t, "tmms")), 1234567890123ll);
    assert_string_equal(json_string_value(json_object_get(t, "modu")), "FSK");
    assert_int_equal(json_integer_value(json_object_get(t, "datr")), 50000);
    assert_int_equal(json_integer_value(json_object_get(t, "fdev")), 25000);
    assert_int_equal(json_integer_value(json_object_get(t, "prea")), 5);
    assert_true(json_is_true(json_object_get(t, "ncrc")));
    assert_string_equal(json_string_value(json_object_get(t, "data")), "YA==");
    assert_null(json_object_get(t, "ipol"));
    json_decref(j);
    /* too small a buffer: refused, nothing claimed */
    size_t full = len;
    for (size_t cap = 0; cap < full; cap += 7) {
        len = 99;
        assert_int_equal(lw_gw_build_pull_resp(&fsk, 2, 7, out, cap, &len), LW_GW_ERR_NOSPACE);
        assert_int_equal(len, 0);
    }
    assert_int_equal(lw_gw_build_pull_resp(&fsk, 2, 7, out, full, &len), 0);
    /* bad arguments */
    lw_gw_txpk b = tx;
    b.sf = 13;
    assert_int_equal(lw_gw_build_pull_resp(&b, 2, 0, out, sizeof out, &len), LW_GW_ERR_ARG);
    b = tx;
    b.bw_khz = 200;
    assert_int_equal(lw_gw_build_pull_resp(&b, 2, 0, out, sizeof out, &len), LW_GW_ERR_ARG);
    b = tx;
    b.size = 257;
    assert_int_equal(lw_gw_build_pull_resp(&b, 2, 0, out, sizeof out, &len), LW_GW_ERR_ARG);
    b = tx;
    b.has_tmst = false;
    assert_int_equal(lw_gw_build_pull_resp(&b, 2, 0, out, sizeof out, &len), LW_GW_ERR_ARG);
    b = tx;
    b.codr = "4/9";
    assert_int_equal(lw_gw_build_pull_resp(&b, 2, 0, out, sizeof out, &len), LW_GW_ERR_ARG);
    b = tx;
    b.modu = 0;
    assert_int_equal(lw_gw_build_pull_resp(&b, 2, 0, out, sizeof out, &len), LW_GW_ERR_ARG);
    assert_int_equal(lw_gw_build_pull_resp(&tx, 3, 0, out, sizeof out, &len), LW_GW_ERR_ARG);
    assert_int_equal(lw_gw_build_pull_resp(NULL, 2, 0, out, sizeof out, &len), LW_GW_ERR_ARG);
    /* 256-byte payload fits */
    uint8_t pl256[256] = {0};
    b = tx;
    b.size = 256;
    b.data = pl256;
    assert_int_equal(lw_gw_build_pull_resp(&b, 2, 0, out, sizeof out, &len), 0);
}

static void test_strerror(void **st) {
    (void)st;
    for (int rc = 0; rc >= LW_GW_ERR_NOSPACE; rc--) assert_string_not_equal(lw_gw_strerror(rc), "unknown error");
    assert_string_equal(lw_gw_strerror(-99), "unknown error");
    assert_string_equal(lw_gw_txerr_name(99), "?");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_data_v1_v2), cmocka_unit_test(test_push_data_variants),
        cmocka_unit_test(test_rejections),      cmocka_unit_test(test_pull_data_and_acks),
        cmocka_unit_test(test_tx_ack),          cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_pull_resp),       cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
