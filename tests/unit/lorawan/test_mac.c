/* Unit tests for lorawan/mac: byte vectors for every LoRaWAN 1.0.4 MAC command in both directions
 * (derived from the spec's field layouts), round trips, multi-command sequences (a US915 LinkADRReq
 * block), truncation at every byte, unknown and proprietary CIDs, the DevStatusAns margin sign,
 * frequency scaling, encoder range checks, and the MAC commands inside the FOpts / FPort-0 payloads
 * of $TE_SOURCE_DIR/../shared/data/lorawan/vectors.json. */
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
#include "lw_test_hex.h"

/* hex into out, failing the test on bad input */
static size_t unhex(const char *s, uint8_t *out, size_t cap) {
    int n = lwt_unhex(s, out, cap);
    assert_true(n >= 0);
    return (size_t)n;
}

#define UP true
#define DOWN false
#define NCMD 32



/* a single command: its bytes and the expected parse (static storage: padding is zero for memcmp) */
typedef struct {
    bool uplink;
    const char *hex;
    const char *name;
    lw_mac_cmd cmd;
} vec_t;

static const vec_t VECS[] = {
    /* uplink: end-device -> network */
    {UP, "02", "LinkCheckReq", {.cid = 0x02}},
    {UP, "03 07", "LinkADRAns", {.cid = 0x03, .u.ans.status = 0x07}},
    {UP, "03 05", "LinkADRAns", {.cid = 0x03, .u.ans.status = LW_MAC_LINK_ADR_POWER_ACK | LW_MAC_LINK_ADR_CHMASK_ACK}},
    {UP, "04", "DutyCycleAns", {.cid = 0x04}},
    {UP, "05 06", "RXParamSetupAns", {.cid = 0x05, .u.ans.status = 0x06}},
    {UP, "06 73 07", "DevStatusAns", {.cid = 0x06, .u.dev_status_ans = {.battery = 115, .margin = 7}}},
    {UP, "06 ff 3e", "DevStatusAns", {.cid = 0x06, .u.dev_status_ans = {.battery = 255, .margin = -2}}},
    {UP, "07 03", "NewChannelAns", {.cid = 0x07, .u.ans.status = 0x03}},
    {UP, "08", "RXTimingSetupAns", {.cid = 0x08}},
    {UP, "09", "TxParamSetupAns", {.cid = 0x09}},
    {UP, "0a 02", "DlChannelAns", {.cid = 0x0A, .u.ans.status = LW_MAC_DL_CHANNEL_UL_FREQ_EXISTS}},
    {UP, "0d", "DeviceTimeReq", {.cid = 0x0D}},
    /* downlink: network -> end-device */
    {DOWN, "02 14 03", "LinkCheckAns", {.cid = 0x02, .u.link_check_ans = {.margin = 20, .gw_cnt = 3}}},
    {DOWN,
     "03 51 07 00 01",
     "LinkADRReq",
     {.cid = 0x03, .u.link_adr_req = {.data_rate = 5, .tx_power = 1, .ch_mask = 0x0007, .nb_trans = 1}}},
    {DOWN,
     "03 30 02 00 71",
     "LinkADRReq",
     {.cid = 0x03, .u.link_adr_req = {.data_rate = 3, .ch_mask = 0x0002, .ch_mask_cntl = 7, .nb_trans = 1}}},
    {DOWN, "04 0a", "DutyCycleReq", {.cid = 0x04, .u.duty_cycle_req = {.max_dcycle = 10}}},
    {DOWN,
     "05 23 d2 ad 84",
     "RXParamSetupReq",
     {.cid = 0x05, .u.rx_param_setup_req = {.rx1_dr_offset = 2, .rx2_data_rate = 3, .frequency = 869525000}}},
    {DOWN, "06", "DevStatusReq", {.cid = 0x06}},
    {DOWN,
     "07 03 28 76 84 50",
     "NewChannelReq",
     {.cid = 0x07, .u.new_channel_req = {.ch_index = 3, .frequency = 868100000, .min_dr = 0, .max_dr = 5}}},
    {DOWN, "07 0f 00 00 00 00", "NewChannelReq", {.cid = 0x07, .u.new_channel_req = {.ch_index = 15}}},
    {DOWN, "08 01", "RXTimingSetupReq", {.cid = 0x08, .u.rx_timing_setup_req = {.delay = 1}}},
    {DOWN,
     "09 35",
     "TxParamSetupReq",
     {.cid = 0x09, .u.tx_param_setup_req = {.max_eirp = 5, .uplink_dwell_time = true, .downlink_dwell_time = true}}},
    {DOWN,
     "09 1d",
     "TxParamSetupReq",
     {.cid = 0x09, .u.tx_param_setup_req = {.max_eirp = 13, .uplink_dwell_time = true}}},
    {DOWN,
     "0a 03 38 9d 84",
     "DlChannelReq",
     {.cid = 0x0A, .u.dl_channel_req = {.ch_index = 3, .frequency = 869100000}}},
    {DOWN,
     "0d 00 4e 72 53 80",
     "DeviceTimeAns",
     {.cid = 0x0D, .u.device_time_ans = {.gps_seconds = 1400000000u, .fraction = 0x80}}},
};

static void check_vec(const vec_t *v) {
    uint8_t in[64], out[64];
    size_t n = unhex(v->hex, in, sizeof in), count = 99, len = 99;
    lw_mac_cmd cmds[4];
    char err[128] = "";
    int rc = lw_mac_parse(in, n, v->uplink, cmds, 4, &count, err, sizeof err);
    if (rc != 0) fail_msg("%s %s: rc %d: %s", v->name, v->hex, rc, err);
    assert_int_equal(count, 1);
    if (memcmp(&cmds[0], &v->cmd, sizeof cmds[0]) != 0) fail_msg("%s %s: fields differ", v->name, v->hex);
    assert_string_equal(lw_mac_name(cmds[0].cid, v->uplink), v->name);
    assert_int_equal(lw_mac_payload_len(cmds[0].cid, v->uplink), (int)n - 1);
    assert_int_equal(lw_mac_size(&v->cmd, 1, v->uplink), (int)n);
    /* encode the expected struct: the same bytes */
    assert_int_equal(lw_mac_encode(&v->cmd, 1, v->uplink, out, sizeof out, &len), 0);
    assert_int_equal(len, n);
    assert_memory_equal(out, in, n);
    /* one byte short of room */
    assert_int_equal(lw_mac_encode(&v->cmd, 1, v->uplink, out, n - 1, &len), LW_ERR_BUFFER);
}

static void test_uplink_vectors(void **st) {
    (void)st;
    int seen = 0;
    for (size_t i = 0; i < sizeof VECS / sizeof VECS[0]; i++)
        if (VECS[i].uplink) check_vec(&VECS[i]), seen++;
    assert_true(seen >= 10);
}

static void test_downlink_vectors(void **st) {
    (void)st;
    int seen = 0;
    for (size_t i = 0; i < sizeof VECS / sizeof VECS[0]; i++)
        if (!VECS[i].uplink) check_vec(&VECS[i]), seen++;
    assert_true(seen >= 10);
}

/* every standard CID has a layout in both directions; the direction decides the length */
static void test_length_table(void **st) {
    (void)st;
    static const struct {
        uint8_t cid;
        int up, down;
    } T[] = {{0x02, 0, 2}, {0x03, 1, 4}, {0x04, 0, 1}, {0x05, 1, 4}, {0x06, 2, 0},
             {0x07, 1, 5}, {0x08, 0, 1}, {0x09, 0, 1}, {0x0A, 1, 4}, {0x0D, 0, 5}};
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        assert_int_equal(lw_mac_payload_len(T[i].cid, UP), T[i].up);
        assert_int_equal(lw_mac_payload_len(T[i].cid, DOWN), T[i].down);
    }
    static const uint8_t unknown[] = {0x00, 0x01, 0x0B, 0x0C, 0x0E, 0x0F, 0x10, 0x20, 0x7F};
    for (size_t i = 0; i < sizeof unknown; i++) {
        assert_int_equal(lw_mac_payload_len(unknown[i], UP), LW_ERR_UNSUPPORTED);
        assert_int_equal(lw_mac_payload_len(unknown[i], DOWN), LW_ERR_UNSUPPORTED);
        assert_string_equal(lw_mac_name(unknown[i], UP), "Unknown");
    }
    assert_int_equal(lw_mac_payload_len(0x80, UP), LW_MAC_LEN_REST);
    assert_int_equal(lw_mac_payload_len(0xFF, DOWN), LW_MAC_LEN_REST);
    assert_string_equal(lw_mac_name(0xC3, DOWN), "Proprietary");
}

static lw_mac_cmd parse1(const char *hex, bool uplink) {
    uint8_t in[16];
    size_t n = unhex(hex, in, sizeof in), count = 0;
    lw_mac_cmd c[2];
    assert_int_equal(lw_mac_parse(in, n, uplink, c, 2, &count, NULL, 0), 0);
    assert_int_equal(count, 1);
    return c[0];
}

static void enc1(const lw_mac_cmd *c, bool uplink, const char *hex) {
    uint8_t want[16], out[16];
    size_t n = unhex(hex, want, sizeof want), len = 0;
    assert_int_equal(lw_mac_encode(c, 1, uplink, out, sizeof out, &len), 0);
    assert_int_equal(len, n);
    assert_memory_equal(out, want, n);
}

static void test_margin_sign(void **st) {
    (void)st;
    static const struct {
        const char *hex;
        int margin, rfu;
    } T[] = {{"06 00 00", 0, 0},   {"06 00 01", 1, 0},   {"06 00 1f", 31, 0}, {"06 00 20", -32, 0},
             {"06 00 21", -31, 0}, {"06 00 3f", -1, 0},  {"06 00 3e", -2, 0}, {"06 00 7f", -1, 1},
             {"06 00 c5", 5, 3},   {"06 00 e0", -32, 3}, {"06 00 40", 0, 1}};
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        lw_mac_cmd c = parse1(T[i].hex, UP);
        assert_int_equal(c.u.dev_status_ans.margin, T[i].margin);
        assert_int_equal(c.u.dev_status_ans.rfu, T[i].rfu);
        enc1(&c, UP, T[i].hex);
    }
    lw_mac_cmd c = {.cid = 0x06, .u.dev_status_ans = {.battery = 1, .margin = -1}};
    enc1(&c, UP, "06 01 3f");
    c.u.dev_status_ans.margin = -32;
    enc1(&c, UP, "06 01 20");
    uint8_t out[8];
    size_t len;
    c.u.dev_status_ans.margin = 32;
    assert_int_equal(lw_mac_encode(&c, 1, UP, out, sizeof out, &len), LW_ERR_ARG);
    c.u.dev_status_ans.margin = -33;
    assert_int_equal(lw_mac_encode(&c, 1, UP, out, sizeof out, &len), LW_ERR_ARG);
    c.u.dev_status_ans.margin = 0;
    c.u.dev_status_ans.rfu = 4;
    assert_int_equal(lw_mac_encode(&c, 1, UP, out, sizeof out, &len), LW_ERR_ARG);
}

static void test_frequency_scaling(void **st) {
    (void)st;
    /* 24 bits of 100 Hz units, little-endian, in RXParamSetupReq, NewChannelReq and DlChannelReq */
    lw_mac_cmd c = parse1("05 00 ff ff ff", DOWN);
    assert_int_equal(c.u.rx_param_setup_req.frequency, 1677721500u);
    c = parse1("05 00 01 00 00", DOWN);
    assert_int_equal(c.u.rx_param_setup_req.frequency, 100u);
    c = parse1("07 08 68 e2 8c 30", DOWN); /* 923.3 MHz, DR0..3 */
    assert_int_equal(c.u.new_channel_req.frequency, 923300000u);
    assert_int_equal(c.u.new_channel_req.max_dr, 3);
    assert_int_equal(c.u.new_channel_req.min_dr, 0);
    c = parse1("0a 00 28 76 84", DOWN);
    assert_int_equal(c.u.dl_channel_req.frequency, 868100000u);

    lw_mac_cmd r = {.cid = 0x05, .u.rx_param_setup_req = {.rx2_data_rate = 0, .frequency = 869525000}};
    enc1(&r, DOWN, "05 00 d2 ad 84");
    uint8_t out[8];
    size_t len;
    r.u.rx_param_setup_req.frequency = 869525050; /* not a multiple of 100 Hz */
    assert_int_equal(lw_mac_encode(&r, 1, DOWN, out, sizeof out, &len), LW_ERR_ARG);
    r.u.rx_param_setup_req.frequency = 1677721600u; /* 2^24 * 100: does not fit */
    assert_int_equal(lw_mac_encode(&r, 1, DOWN, out, sizeof out, &len), LW_ERR_ARG);
    r.u.rx_param_setup_req.frequency = 1677721500u;
    enc1(&r, DOWN, "05 00 ff ff ff");
    lw_mac_cmd nc = {.cid = 0x07, .u.new_channel_req = {.ch_index = 2, .frequency = 923300001u}};
    assert_int_equal(lw_mac_encode(&nc, 1, DOWN, out, sizeof out, &len), LW_ERR_ARG);
    lw_mac_cmd dl = {.cid = 0x0A, .u.dl_channel_req = {.ch_index = 2, .frequency = 1}};
    assert_int_equal(lw_mac_encode(&dl, 1, DOWN, out, sizeof out, &len), LW_ERR_ARG);
}

/* parse hex as a sequence, check the count and the names, and that it re-encodes to the same bytes */
static void check_seq(const char *hex, bool uplink, size_t want, const char *const *names) {
    uint8_t in[256], out[256];
    size_t n = unhex(hex, in, sizeof in), count = 0, len = 0;
    lw_mac_cmd c[NCMD];
    char err[128] = "";
    int rc = lw_mac_parse(in, n, uplink, c, NCMD, &count, err, sizeof err);
    if (rc != 0) fail_msg("%s: rc %d: %s", hex, rc, err);
    assert_int_equal(count, want);
    for (size_t i = 0; i < count; i++) assert_string_equal(lw_mac_name(c[i].cid, uplink), names[i]);
    assert_int_equal(lw_mac_size(c, count, uplink), (int)n);
    assert_int_equal(lw_mac_encode(c, count, uplink, out, sizeof out, &len), 0);
    assert_int_equal(len, n);
    assert_memory_equal(out, in, n);
}

static const char US915_BLOCK[] = "03 30 02 00 71  03 30 00 ff 01  03 30 00 00 41"; /* 15 bytes */

static void test_linkadr_block_us915(void **st) {
    (void)st;
    /* a US915 network moving a device to sub-band 2 (channels 8..15 + 65): ChMaskCntl 7 (all 125 kHz
     * channels off, mask over 64..71 = channel 65), then bank 0 = channels 8..15, then bank 4 off */
    static const char *const names[] = {"LinkADRReq", "LinkADRReq", "LinkADRReq"};
    check_seq(US915_BLOCK, DOWN, 3, names);
    uint8_t in[16];
    size_t n = unhex(US915_BLOCK, in, sizeof in), count = 0;
    assert_int_equal(n, LW_MAC_FOPTS_MAX);
    lw_mac_cmd c[4];
    assert_int_equal(lw_mac_parse(in, n, DOWN, c, 4, &count, NULL, 0), 0);
    assert_int_equal(c[0].u.link_adr_req.ch_mask_cntl, 7);
    assert_int_equal(c[0].u.link_adr_req.ch_mask, 0x0002);
    assert_int_equal(c[1].u.link_adr_req.ch_mask_cntl, 0);
    assert_int_equal(c[1].u.link_adr_req.ch_mask, 0xFF00);
    assert_int_equal(c[2].u.link_adr_req.ch_mask_cntl, 4);
    assert_int_equal(c[2].u.link_adr_req.ch_mask, 0x0000);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(c[i].u.link_adr_req.data_rate, 3);
        assert_int_equal(c[i].u.link_adr_req.tx_power, 0);
        assert_int_equal(c[i].u.link_adr_req.nb_trans, 1);
    }
    /* one more command no longer fits into FOpts: the caller sees it with lw_mac_size */
    c[3] = c[2];
    assert_true(lw_mac_size(c, 4, DOWN) > LW_MAC_FOPTS_MAX);
    /* the device answers each LinkADRReq of the block */
    static const char *const ans[] = {"LinkADRAns", "LinkADRAns", "LinkADRAns"};
    check_seq("03 07 03 07 03 07", UP, 3, ans);
}

static void test_sequences(void **st) {
    (void)st;
    static const char *const up[] = {"LinkCheckReq",    "LinkADRAns",   "DevStatusAns",  "DeviceTimeReq",
                                     "RXParamSetupAns", "DutyCycleAns", "NewChannelAns", "RXTimingSetupAns",
                                     "TxParamSetupAns", "DlChannelAns"};
    check_seq("02 03 05 06 73 07 0d 05 07 04 07 03 08 09 0a 01", UP, 10, up);
    static const char *const down[] = {"LinkCheckAns",    "DeviceTimeAns",   "DevStatusReq",  "LinkADRReq",
                                       "DutyCycleReq",    "RXParamSetupReq", "NewChannelReq", "RXTimingSetupReq",
                                       "TxParamSetupReq", "DlChannelReq"};
    check_seq("02 14 03 0d 00 4e 72 53 80 06 03 51 07 00 01 04 0a 05 23 d2 ad 84 07 03 28 76 84 50 08 01 09 35 "
              "0a 03 38 9d 84",
              DOWN, 10, down);
    /* RFU bits survive a round trip */
    static const char *const rfu[] = {"LinkADRReq", "DutyCycleReq", "RXParamSetupReq", "RXTimingSetupReq",
                                      "TxParamSetupReq"};
    check_seq("03 51 07 00 81 04 fa 05 a3 d2 ad 84 08 f1 09 f5", DOWN, 5, rfu);
    /* empty input: nothing, no error */
    size_t count = 7;
    lw_mac_cmd c[1];
    assert_int_equal(lw_mac_parse(NULL, 0, UP, c, 1, &count, NULL, 0), 0);
    assert_int_equal(count, 0);
    size_t len = 9;
    assert_int_equal(lw_mac_encode(NULL, 0, UP, NULL, 0, &len), 0);
    assert_int_equal(len, 0);
}

/* cut a sequence at every byte: at a command boundary it parses, inside a command it is truncated
 * with the commands before it returned and the cut command named in the message */
static void truncate_all(const char *hex, bool uplink) {
    uint8_t in[256];
    size_t n = unhex(hex, in, sizeof in), full = 0;
    lw_mac_cmd all[NCMD], c[NCMD];
    assert_int_equal(lw_mac_parse(in, n, uplink, all, NCMD, &full, NULL, 0), 0);
    size_t starts[NCMD + 1], off = 0;
    for (size_t i = 0; i < full; i++) {
        starts[i] = off;
        off += (size_t)lw_mac_size(&all[i], 1, uplink);
    }
    starts[full] = n;
    for (size_t k = 0; k <= n; k++) {
        size_t before = 0;
        while (before < full && starts[before + 1] <= k) before++;
        char err[128] = "";
        size_t count = 99;
        int rc = lw_mac_parse(in, k, uplink, c, NCMD, &count, err, sizeof err);
        assert_int_equal(count, before);
        assert_int_equal(lw_mac_size(c, count, uplink), (int)starts[before]);
        if (before == full || starts[before] == k) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, LW_ERR_TRUNCATED);
            const char *name = lw_mac_name(all[before].cid, uplink);
            if (!strstr(err, name) || !strstr(err, "truncated")) fail_msg("cut at %zu: '%s' lacks %s", k, err, name);
        }
    }
}

static void test_truncation_every_byte(void **st) {
    (void)st;
    for (size_t i = 0; i < sizeof VECS / sizeof VECS[0]; i++) truncate_all(VECS[i].hex, VECS[i].uplink);
    truncate_all("02 03 05 06 73 07 0d 05 07 04 07 03 08 09 0a 01", UP);
    truncate_all("02 14 03 0d 00 4e 72 53 80 06 03 51 07 00 01 04 0a 05 23 d2 ad 84 07 03 28 76 84 50 08 01 09 35 "
                 "0a 03 38 9d 84",
                 DOWN);
    truncate_all(US915_BLOCK, DOWN);
    /* the message for a cut LinkADRReq */
    uint8_t in[] = {0x03, 0x51, 0x07};
    char err[128] = "";
    size_t count = 9;
    lw_mac_cmd c[4];
    assert_int_equal(lw_mac_parse(in, sizeof in, DOWN, c, 4, &count, err, sizeof err), LW_ERR_TRUNCATED);
    assert_int_equal(count, 0);
    assert_string_equal(err, "truncated LinkADRReq (CID 0x03) at offset 0");
}

static void test_unknown_cid(void **st) {
    (void)st;
    lw_mac_cmd c[8];
    char err[128] = "";
    size_t count = 99;
    /* uplink: LinkCheckReq, then 0x0B (RekeyInd is 1.1 only): stops there */
    uint8_t a[] = {0x02, 0x0B, 0x01, 0x06, 0x73, 0x07};
    assert_int_equal(lw_mac_parse(a, sizeof a, UP, c, 8, &count, err, sizeof err), LW_ERR_UNSUPPORTED);
    assert_int_equal(count, 1);
    assert_int_equal(c[0].cid, 0x02);
    assert_int_equal(lw_mac_size(c, count, UP), 1); /* the offset of the unknown CID */
    assert_non_null(strstr(err, "0x0b"));
    assert_non_null(strstr(err, "offset 1"));
    /* downlink: LinkADRReq then 0x7F at offset 5 */
    uint8_t b[] = {0x03, 0x51, 0x07, 0x00, 0x01, 0x7F, 0x00};
    assert_int_equal(lw_mac_parse(b, sizeof b, DOWN, c, 8, &count, err, sizeof err), LW_ERR_UNSUPPORTED);
    assert_int_equal(count, 1);
    assert_int_equal(c[0].u.link_adr_req.data_rate, 5);
    assert_int_equal(lw_mac_size(c, count, DOWN), 5);
    assert_non_null(strstr(err, "0x7f"));
    assert_non_null(strstr(err, "offset 5"));
    /* first byte unknown, class B PingSlotInfoReq (0x10) not handled */
    uint8_t d[] = {0x10, 0x02};
    assert_int_equal(lw_mac_parse(d, sizeof d, UP, c, 8, &count, err, sizeof err), LW_ERR_UNSUPPORTED);
    assert_int_equal(count, 0);
    assert_non_null(strstr(err, "offset 0"));
    /* 0x00 is not a command either */
    uint8_t z[] = {0x00};
    assert_int_equal(lw_mac_parse(z, 1, DOWN, c, 8, &count, NULL, 0), LW_ERR_UNSUPPORTED);
    /* the encoder refuses a CID without a layout */
    lw_mac_cmd u = {.cid = 0x0B};
    uint8_t out[8];
    size_t len = 5;
    assert_int_equal(lw_mac_encode(&u, 1, UP, out, sizeof out, &len), LW_ERR_UNSUPPORTED);
    assert_int_equal(len, 0);
    assert_int_equal(lw_mac_size(&u, 1, DOWN), LW_ERR_UNSUPPORTED);
}

static void test_proprietary(void **st) {
    (void)st;
    lw_mac_cmd c[8];
    size_t count = 0, len = 0;
    uint8_t a[] = {0x02, 0x06, 0x73, 0x07, 0x80, 0xAA, 0xBB, 0x02};
    assert_int_equal(lw_mac_parse(a, sizeof a, UP, c, 8, &count, NULL, 0), 0);
    assert_int_equal(count, 3);
    assert_int_equal(c[2].cid, 0x80);
    assert_ptr_equal(c[2].u.proprietary.data, a + 5);
    assert_int_equal(c[2].u.proprietary.len, 3); /* everything after the CID: its length is unknown */
    uint8_t out[16];
    assert_int_equal(lw_mac_encode(c, count, UP, out, sizeof out, &len), 0);
    assert_int_equal(len, sizeof a);
    assert_memory_equal(out, a, sizeof a);
    /* a bare proprietary CID, downlink */
    uint8_t b[] = {0xFF};
    assert_int_equal(lw_mac_parse(b, 1, DOWN, c, 8, &count, NULL, 0), 0);
    assert_int_equal(count, 1);
    assert_int_equal(c[0].u.proprietary.len, 0);
    assert_int_equal(lw_mac_size(c, 1, DOWN), 1);
    /* a proprietary command that is not last could not be parsed back */
    lw_mac_cmd p[2] = {{.cid = 0x90, .u.proprietary = {.data = a, .len = 1}}, {.cid = 0x02}};
    assert_int_equal(lw_mac_encode(p, 2, UP, out, sizeof out, &len), LW_ERR_ARG);
    /* data missing */
    lw_mac_cmd q = {.cid = 0x90, .u.proprietary = {.data = NULL, .len = 2}};
    assert_int_equal(lw_mac_encode(&q, 1, UP, out, sizeof out, &len), LW_ERR_ARG);
}

static void test_encode_range_and_room(void **st) {
    (void)st;
    uint8_t out[32];
    size_t len = 0;
    lw_mac_cmd c = {.cid = 0x03, .u.link_adr_req = {.data_rate = 16}};
    assert_int_equal(lw_mac_encode(&c, 1, DOWN, out, sizeof out, &len), LW_ERR_ARG);
    c.u.link_adr_req.data_rate = 15;
    c.u.link_adr_req.ch_mask_cntl = 8;
    assert_int_equal(lw_mac_encode(&c, 1, DOWN, out, sizeof out, &len), LW_ERR_ARG);
    c.u.link_adr_req.ch_mask_cntl = 7;
    c.u.link_adr_req.tx_power = 15;
    c.u.link_adr_req.nb_trans = 15;
    c.u.link_adr_req.ch_mask = 0xFFFF;
    enc1(&c, DOWN, "03 ff ff ff 7f");
    lw_mac_cmd d = {.cid = 0x04, .u.duty_cycle_req = {.max_dcycle = 16}};
    assert_int_equal(lw_mac_encode(&d, 1, DOWN, out, sizeof out, &len), LW_ERR_ARG);
    lw_mac_cmd t = {.cid = 0x08, .u.rx_timing_setup_req = {.delay = 16}};
    assert_int_equal(lw_mac_encode(&t, 1, DOWN, out, sizeof out, &len), LW_ERR_ARG);
    lw_mac_cmd x = {.cid = 0x09, .u.tx_param_setup_req = {.max_eirp = 16}};
    assert_int_equal(lw_mac_encode(&x, 1, DOWN, out, sizeof out, &len), LW_ERR_ARG);
    lw_mac_cmd r = {.cid = 0x05, .u.rx_param_setup_req = {.rx1_dr_offset = 8}};
    assert_int_equal(lw_mac_encode(&r, 1, DOWN, out, sizeof out, &len), LW_ERR_ARG);
    lw_mac_cmd n = {.cid = 0x07, .u.new_channel_req = {.max_dr = 16}};
    assert_int_equal(lw_mac_encode(&n, 1, DOWN, out, sizeof out, &len), LW_ERR_ARG);
    /* the direction matters: a LinkADRAns is one byte, a LinkADRReq four */
    lw_mac_cmd a = {.cid = 0x03, .u.ans.status = 0x07};
    assert_int_equal(lw_mac_size(&a, 1, UP), 2);
    assert_int_equal(lw_mac_size(&a, 1, DOWN), 5);
    /* room for exactly the bytes, and one byte less */
    lw_mac_cmd seq[3] = {{.cid = 0x02}, {.cid = 0x03, .u.ans.status = 7}, {.cid = 0x0D}};
    assert_int_equal(lw_mac_size(seq, 3, UP), 4);
    assert_int_equal(lw_mac_encode(seq, 3, UP, out, 4, &len), 0);
    assert_int_equal(len, 4);
    assert_int_equal(lw_mac_encode(seq, 3, UP, out, 3, &len), LW_ERR_BUFFER);
    assert_int_equal(lw_mac_encode(seq, 3, UP, NULL, 4, &len), LW_ERR_ARG);
    assert_int_equal(lw_mac_encode(seq, 3, UP, out, 4, NULL), LW_ERR_ARG);
    /* the parser's room: max commands */
    uint8_t in[] = {0x02, 0x0D, 0x04};
    lw_mac_cmd c2[2];
    size_t count = 0;
    char err[96];
    assert_int_equal(lw_mac_parse(in, sizeof in, UP, c2, 2, &count, err, sizeof err), LW_ERR_BUFFER);
    assert_int_equal(count, 2);
    assert_int_equal(lw_mac_parse(in, sizeof in, UP, NULL, 0, &count, NULL, 0), LW_ERR_BUFFER);
    assert_int_equal(lw_mac_parse(in, sizeof in, UP, c2, 2, NULL, NULL, 0), LW_ERR_ARG);
    assert_int_equal(lw_mac_parse(NULL, 3, UP, c2, 2, &count, NULL, 0), LW_ERR_ARG);
    /* a tiny error buffer is still terminated */
    char small[6];
    uint8_t bad[] = {0x0E};
    assert_int_equal(lw_mac_parse(bad, 1, UP, c2, 2, &count, small, sizeof small), LW_ERR_UNSUPPORTED);
    assert_int_equal(strlen(small), 5);
}

/* ---- vectors.json: the MAC commands inside FOpts and FPort-0 payloads ---- */

static const char *jstr(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void check_known_vector(const char *id, const lw_mac_cmd *c, size_t count, int *known) {
    if (!strcmp(id, "up-lrwn-1")) { /* DevStatusAns(battery=115, margin=7) */
        assert_int_equal(count, 1);
        assert_int_equal(c[0].cid, LW_MAC_DEV_STATUS);
        assert_int_equal(c[0].u.dev_status_ans.battery, 115);
        assert_int_equal(c[0].u.dev_status_ans.margin, 7);
    } else if (!strcmp(id, "up-brocaar-3") || !strcmp(id, "up-brocaar-4")) { /* LinkCheckReq + LinkADRAns */
        assert_int_equal(count, 2);
        assert_int_equal(c[0].cid, LW_MAC_LINK_CHECK);
        assert_int_equal(c[1].cid, LW_MAC_LINK_ADR);
        assert_int_equal(c[1].u.ans.status, LW_MAC_LINK_ADR_POWER_ACK | LW_MAC_LINK_ADR_CHMASK_ACK);
    } else if (!strcmp(id, "up-lorapacket-8") || !strcmp(id, "up-lorapacket-7")) { /* LinkCheckReq */
        assert_int_equal(count, 1);
        assert_int_equal(c[0].cid, LW_MAC_LINK_CHECK);
    } else if (!strcmp(id, "gen-down-confirmed")) { /* LinkADRReq(DR5, pwr1, chmask 0007, NbTrans1) */
        assert_int_equal(count, 1);
        assert_int_equal(c[0].cid, LW_MAC_LINK_ADR);
        assert_int_equal(c[0].u.link_adr_req.data_rate, 5);
        assert_int_equal(c[0].u.link_adr_req.tx_power, 1);
        assert_int_equal(c[0].u.link_adr_req.ch_mask, 0x0007);
        assert_int_equal(c[0].u.link_adr_req.ch_mask_cntl, 0);
        assert_int_equal(c[0].u.link_adr_req.nb_trans, 1);
    } else {
        return;
    }
    (*known)++;
}

static void test_vectors_json_mac(void **st) {
    (void)st;
    const char *root = getenv("TE_SOURCE_DIR");
    if (!root) fail_msg("TE_SOURCE_DIR is not set (ctest sets it to the project root)");
    char path[4096];
    snprintf(path, sizeof path, "%s/../shared/data/lorawan/vectors.json", root);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) fail_msg("cannot read %s: %s (line %d)", path, jerr.text, jerr.line);
    json_t *vs = json_object_get(doc, "vectors"), *v;
    assert_true(json_is_array(vs));
    size_t i;
    int with_mac = 0, known = 0;
    json_array_foreach(vs, i, v) {
        const char *kind = jstr(v, "kind"), *id = jstr(v, "id");
        json_t *in = json_object_get(v, "inputs"), *ex = json_object_get(v, "expected");
        if (!kind || !id || (strcmp(kind, "data_up") && strcmp(kind, "data_down"))) continue;
        const char *phyhex = jstr(ex, "phy");
        if (!phyhex) continue;
        bool up = !strcmp(kind, "data_up");
        uint8_t phy[LW_PHY_MAX];
        size_t n = unhex(phyhex, phy, sizeof phy);
        lw_frame f;
        char err[160] = "";
        if (lw_frame_parse(phy, n, up ? LW_EXPECT_UP : LW_EXPECT_DOWN, &f, err, sizeof err) != 0)
            fail_msg("%s: frame: %s", id, err);
        uint8_t mac[LW_PHY_MAX];
        size_t mlen = 0;
        if (f.fopts_len) {
            memcpy(mac, f.fopts, f.fopts_len);
            mlen = f.fopts_len;
        } else if (f.has_fport && f.fport == 0 && f.frm_len) {
            uint8_t key[16];
            const char *ks = jstr(in, "nwkskey");
            json_t *fc = json_object_get(in, "fcnt");
            if (!ks || unhex(ks, key, sizeof key) != 16 || !json_is_integer(fc)) continue;
            lw_keys k = {.nwk_s_key = key};
            assert_int_equal(lw_frm_decrypt(&f, &k, (uint32_t)json_integer_value(fc), mac), 0);
            mlen = f.frm_len;
        } else {
            continue;
        }
        lw_mac_cmd c[NCMD];
        size_t count = 0;
        int rc = lw_mac_parse(mac, mlen, up, c, NCMD, &count, err, sizeof err);
        if (rc != 0) fail_msg("%s: MAC commands: %s", id, err);
        uint8_t out[LW_PHY_MAX];
        size_t len = 0;
        assert_int_equal(lw_mac_encode(c, count, up, out, sizeof out, &len), 0);
        assert_int_equal(len, mlen);
        assert_memory_equal(out, mac, mlen);
        check_known_vector(id, c, count, &known);
        with_mac++;
    }
    json_decref(doc);
    print_message("vectors.json: %d frames carry MAC commands, %d checked field by field\n", with_mac, known);
    assert_true(with_mac >= 6);
    assert_int_equal(known, with_mac);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uplink_vectors),
        cmocka_unit_test(test_downlink_vectors),
        cmocka_unit_test(test_length_table),
        cmocka_unit_test(test_margin_sign),
        cmocka_unit_test(test_frequency_scaling),
        cmocka_unit_test(test_linkadr_block_us915),
        cmocka_unit_test(test_sequences),
        cmocka_unit_test(test_truncation_every_byte),
        cmocka_unit_test(test_unknown_cid),
        cmocka_unit_test(test_proprietary),
        cmocka_unit_test(test_encode_range_and_room),
        cmocka_unit_test(test_vectors_json_mac),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
