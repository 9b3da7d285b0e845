/* Unit tests for lorawan/lpp: the Cayenne LPP documentation examples and The Things Stack's own
 * cayennelpp test vector decoded to TTS's decoded_payload JSON shape, every type, truncation at every
 * byte, unknown and extended types, small output buffers (never written past their capacity),
 * duplicate keys, downlink values, and encode -> decode round trips. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lorawan/lpp.h"
#include "lw_test_hex.h"

/* hex into out, failing the test on bad input */
static size_t unhex(const char *s, uint8_t *out, size_t cap) {
    int n = lwt_unhex(s, out, cap);
    assert_true(n >= 0);
    return (size_t)n;
}


static void expect_json(const char *hex, unsigned flags, const char *want) {
    uint8_t p[600];
    size_t n = unhex(hex, p, sizeof p);
    char out[2048], err[200] = "";
    size_t len = 99;
    int rc = lw_lpp_decode_json_ex(p, n, flags, out, sizeof out, &len, err, sizeof err);
    if (rc != 0) fail_msg("decode %s: rc %d: %s", hex, rc, err);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
}

static void expect_err(const char *hex, unsigned flags, int want_rc, const char *want_msg) {
    uint8_t p[600];
    size_t n = unhex(hex, p, sizeof p);
    char out[256], err[200] = "";
    size_t len = 99;
    memset(out, 'x', sizeof out);
    int rc = lw_lpp_decode_json_ex(p, n, flags, out, sizeof out, &len, err, sizeof err);
    assert_int_equal(rc, want_rc);
    assert_int_equal(len, 0);
    assert_int_equal(out[0], 0);
    if (!strstr(err, want_msg)) fail_msg("error '%s' lacks '%s'", err, want_msg);
}

static void test_docs_examples(void **state) {
    (void)state;
    expect_json("03 67 01 10 05 67 00 FF", LW_LPP_TTS, "{\"temperature_3\":27.2,\"temperature_5\":25.5}");
    expect_json("01 67 FF D7", LW_LPP_TTS, "{\"temperature_1\":-4.1}");
    expect_json("06 71 04 D2 FB 2E 00 00", LW_LPP_TTS, "{\"accelerometer_6\":{\"x\":1.234,\"y\":-1.234,\"z\":0}}");
    expect_json("01 88 06 76 5f f2 96 0a 00 03 e8", LW_LPP_TTS,
                "{\"gps_1\":{\"altitude\":10,\"latitude\":42.3519,\"longitude\":-87.9094}}");
    expect_json("", LW_LPP_TTS, "{}");
}

/* pkg/messageprocessors/cayennelpp/cayennelpp_test.go TestDecode, as TTS marshals it */
static void test_tts_vector(void **state) {
    (void)state;
    expect_json("01 00 ff 02 01 64 03 02 15 4a 04 03 ea b6 05 65 01 f4 06 66 32 07 67 ff 64 08 68 63"
                " 09 71 fe 58 00 0f 06 82 0a 73 29 ef 0b 86 01 63 02 31 fe 66 0c 88 07 fd 87 00 be f5 00 08 6a",
                LW_LPP_TTS,
                "{\"accelerometer_9\":{\"x\":-0.424,\"y\":0.015,\"z\":1.666},\"analog_in_3\":54.5,"
                "\"analog_out_4\":-54.5,\"barometric_pressure_10\":1073.5,\"digital_in_1\":255,"
                "\"digital_out_2\":100,\"gps_12\":{\"altitude\":21.54,\"latitude\":52.3655,\"longitude\":4.8885},"
                "\"gyrometer_11\":{\"x\":3.55,\"y\":5.61,\"z\":-4.1},\"luminosity_5\":500,\"presence_6\":50,"
                "\"relative_humidity_8\":49.5,\"temperature_7\":-15.6}");
}

static void test_every_type_extremes(void **state) {
    (void)state;
    expect_json("00 00 00 01 01 01", LW_LPP_TTS, "{\"digital_in_0\":0,\"digital_out_1\":1}");
    expect_json("02 02 80 00 03 03 7f ff", LW_LPP_TTS, "{\"analog_in_2\":-327.68,\"analog_out_3\":327.67}");
    expect_json("05 65 ff ff 06 66 00", LW_LPP_TTS, "{\"luminosity_5\":65535,\"presence_6\":0}");
    expect_json("07 67 80 00 08 68 ff", LW_LPP_TTS, "{\"relative_humidity_8\":127.5,\"temperature_7\":-3276.8}");
    expect_json("07 67 00 05 08 68 01", LW_LPP_TTS, "{\"relative_humidity_8\":0.5,\"temperature_7\":0.5}");
    expect_json("07 67 ff ff", LW_LPP_TTS, "{\"temperature_7\":-0.1}");
    /* TTS reads barometric pressure as int16 */
    expect_json("0a 73 ff ff 0b 73 27 95", LW_LPP_TTS,
                "{\"barometric_pressure_10\":-0.1,\"barometric_pressure_11\":1013.3}");
    expect_json("0b 86 80 00 7f ff 00 01", LW_LPP_TTS, "{\"gyrometer_11\":{\"x\":-327.68,\"y\":327.67,\"z\":0.01}}");
    expect_json("0c 88 80 00 00 7f ff ff ff ff ff", LW_LPP_TTS,
                "{\"gps_12\":{\"altitude\":-0.01,\"latitude\":-838.8608,\"longitude\":838.8607}}");
    /* extended types */
    expect_json("01 64 ff ff ff ff 02 74 01 2c 03 75 03 e9 04 76 00 0f 42 40 05 78 64", LW_LPP_EXTENDED,
                "{\"current_3\":1.001,\"frequency_4\":1000000,\"generic_sensor_1\":4294967295,"
                "\"percentage_5\":100,\"voltage_2\":3}");
    expect_json("06 79 ff 9c 07 7d 01 90 08 80 ff ff 09 82 00 00 30 39 0a 83 00 01 e2 40", LW_LPP_EXTENDED,
                "{\"altitude_6\":-100,\"concentration_7\":400,\"distance_9\":12.345,\"energy_10\":123.456,"
                "\"power_8\":65535}");
    expect_json("0b 84 01 68 0c 85 67 5b 1a 00 0d 87 ff 80 00 0e 8e 01", LW_LPP_EXTENDED,
                "{\"colour_13\":{\"b\":0,\"g\":128,\"r\":255},\"direction_11\":360,\"switch_14\":1,"
                "\"unix_time_12\":1734023680}");
    /* the TTS types decode identically with LW_LPP_EXTENDED */
    expect_json("03 67 01 10", LW_LPP_EXTENDED, "{\"temperature_3\":27.2}");
}

static void test_keys_sorted_and_last_wins(void **state) {
    (void)state;
    expect_json("03 67 00 01 0a 67 00 02 02 00 01", LW_LPP_TTS,
                "{\"digital_in_2\":1,\"temperature_10\":0.2,\"temperature_3\":0.1}");
    expect_json("01 67 00 0a 01 68 10 01 67 00 14", LW_LPP_TTS, "{\"relative_humidity_1\":8,\"temperature_1\":2}");
    expect_json("ff 67 00 0a", LW_LPP_TTS, "{\"temperature_255\":1}");
}

static void test_unknown_and_extended(void **state) {
    (void)state;
    expect_err("01 ff 00", LW_LPP_TTS, LW_LPP_ERR_UNKNOWN_TYPE, "unknown type 255 on channel 1 at offset 1");
    expect_err("03 67 01 10 07 05 00", LW_LPP_TTS, LW_LPP_ERR_UNKNOWN_TYPE, "unknown type 5 on channel 7 at offset 5");
    expect_err("03 74 01 10", LW_LPP_TTS, LW_LPP_ERR_UNKNOWN_TYPE, "type 116 (voltage) on channel 3 at offset 1");
    expect_err("03 7f 01 10", LW_LPP_EXTENDED, LW_LPP_ERR_UNKNOWN_TYPE, "unknown type 127 on channel 3");
    expect_err("03", LW_LPP_TTS, LW_LPP_ERR_TRUNCATED, "truncated item header at offset 0");
    expect_err("03 67 01", LW_LPP_TTS, LW_LPP_ERR_TRUNCATED,
               "truncated temperature (type 103) on channel 3 at offset 2: needs 2 bytes, 1 left");
    uint8_t big[LW_LPP_MAX_PAYLOAD + 1];
    memset(big, 0, sizeof big);
    char out[16], err[100];
    size_t len;
    assert_int_equal(lw_lpp_decode_json(big, sizeof big, out, sizeof out, &len, err, sizeof err), LW_LPP_ERR_TOO_LONG);
    assert_int_equal(lw_lpp_decode_json(NULL, 3, out, sizeof out, &len, err, sizeof err), LW_LPP_ERR_ARG);
    assert_int_equal(lw_lpp_decode_json(NULL, 0, out, sizeof out, &len, err, sizeof err), 0);
    assert_string_equal(out, "{}");
}

static size_t all_types(uint8_t *buf, size_t cap) {
    lw_lpp_writer w;
    lw_lpp_writer_init(&w, buf, cap);
    assert_int_equal(lw_lpp_add_digital_in(&w, 1, 200), 0);
    assert_int_equal(lw_lpp_add_digital_out(&w, 2, 1), 0);
    assert_int_equal(lw_lpp_add_analog_in(&w, 3, -12.34), 0);
    assert_int_equal(lw_lpp_add_analog_out(&w, 4, 3.3), 0);
    assert_int_equal(lw_lpp_add_generic_sensor(&w, 5, 123456789u), 0);
    assert_int_equal(lw_lpp_add_luminosity(&w, 6, 1234), 0);
    assert_int_equal(lw_lpp_add_presence(&w, 7, 1), 0);
    assert_int_equal(lw_lpp_add_temperature(&w, 8, -4.1), 0);
    assert_int_equal(lw_lpp_add_relative_humidity(&w, 9, 55.5), 0);
    assert_int_equal(lw_lpp_add_accelerometer(&w, 10, 1.234, -1.234, 0), 0);
    assert_int_equal(lw_lpp_add_barometric_pressure(&w, 11, 1013.2), 0);
    assert_int_equal(lw_lpp_add_voltage(&w, 12, 3.71), 0);
    assert_int_equal(lw_lpp_add_current(&w, 13, 0.25), 0);
    assert_int_equal(lw_lpp_add_frequency(&w, 14, 868100000u), 0);
    assert_int_equal(lw_lpp_add_percentage(&w, 15, 42), 0);
    assert_int_equal(lw_lpp_add_altitude(&w, 16, -12), 0);
    assert_int_equal(lw_lpp_add_concentration(&w, 17, 415), 0);
    assert_int_equal(lw_lpp_add_power(&w, 18, 2300), 0);
    assert_int_equal(lw_lpp_add_distance(&w, 19, 1.5), 0);
    assert_int_equal(lw_lpp_add_energy(&w, 20, 7.125), 0);
    assert_int_equal(lw_lpp_add_direction(&w, 21, 270), 0);
    assert_int_equal(lw_lpp_add_unix_time(&w, 22, 1764072000u), 0);
    assert_int_equal(lw_lpp_add_gyrometer(&w, 23, 3.55, 5.61, -4.1), 0);
    assert_int_equal(lw_lpp_add_colour(&w, 24, 255, 128, 0), 0);
    assert_int_equal(lw_lpp_add_gps(&w, 25, 42.3519, -87.9094, 10), 0);
    assert_int_equal(lw_lpp_add_switch(&w, 26, 1), 0);
    return w.len;
}

static const char *ALL_JSON =
    "{\"accelerometer_10\":{\"x\":1.234,\"y\":-1.234,\"z\":0},\"altitude_16\":-12,\"analog_in_3\":-12.34,"
    "\"analog_out_4\":3.3,\"barometric_pressure_11\":1013.2,\"colour_24\":{\"b\":0,\"g\":128,\"r\":255},"
    "\"concentration_17\":415,\"current_13\":0.25,\"digital_in_1\":200,\"digital_out_2\":1,\"direction_21\":270,"
    "\"distance_19\":1.5,\"energy_20\":7.125,\"frequency_14\":868100000,\"generic_sensor_5\":123456789,"
    "\"gps_25\":{\"altitude\":10,\"latitude\":42.3519,\"longitude\":-87.9094},"
    "\"gyrometer_23\":{\"x\":3.55,\"y\":5.61,\"z\":-4.1},\"luminosity_6\":1234,\"percentage_15\":42,"
    "\"power_18\":2300,\"presence_7\":1,\"relative_humidity_9\":55.5,\"switch_26\":1,\"temperature_8\":-4.1,"
    "\"unix_time_22\":1764072000,\"voltage_12\":3.71}";

static void test_roundtrip_all_types(void **state) {
    (void)state;
    uint8_t buf[256];
    size_t n = all_types(buf, sizeof buf);
    assert_int_equal(n, 26 * 2 + 1 + 1 + 2 + 2 + 4 + 2 + 1 + 2 + 1 + 6 + 2 + 2 + 2 + 4 + 1 + 2 + 2 + 2 + 4 + 4 + 2 + 4 +
                            6 + 3 + 9 + 1);
    char out[2048], err[200] = "";
    size_t len = 0;
    int rc = lw_lpp_decode_json_ex(buf, n, LW_LPP_EXTENDED, out, sizeof out, &len, err, sizeof err);
    if (rc) fail_msg("rc %d: %s", rc, err);
    assert_string_equal(out, ALL_JSON);
    /* docs example bytes come out of the encoder too */
    lw_lpp_writer w;
    lw_lpp_writer_init(&w, buf, sizeof buf);
    assert_int_equal(lw_lpp_add_gps(&w, 1, 42.3519, -87.9094, 10), 0);
    uint8_t want[16];
    size_t wn = unhex("01 88 06 76 5f f2 96 0a 00 03 e8", want, sizeof want);
    assert_int_equal(w.len, wn);
    assert_memory_equal(buf, want, wn);
}

static void test_truncation_every_byte(void **state) {
    (void)state;
    uint8_t buf[256];
    size_t n = all_types(buf, sizeof buf);
    /* item boundaries */
    int boundary[257] = {0};
    size_t off = 0;
    lw_lpp_item it;
    boundary[0] = 1;
    while (lw_lpp_next(buf, n, &off, LW_LPP_EXTENDED, &it, NULL, 0) == 1) boundary[off] = 1;
    assert_int_equal(off, n);
    for (size_t k = 0; k <= n; k++) {
        char out[2048], err[200] = "";
        size_t len = 7;
        int rc = lw_lpp_decode_json_ex(buf, k, LW_LPP_EXTENDED, out, sizeof out, &len, err, sizeof err);
        if (boundary[k]) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, LW_LPP_ERR_TRUNCATED);
            assert_int_equal(len, 0);
            assert_non_null(strstr(err, "truncated"));
            assert_non_null(strstr(err, "offset"));
        }
        /* in TTS mode the first extended item fails instead, or truncation before it */
        rc = lw_lpp_decode_json(buf, k, out, sizeof out, &len, err, sizeof err);
        assert_true(rc == 0 || rc == LW_LPP_ERR_TRUNCATED || rc == LW_LPP_ERR_UNKNOWN_TYPE);
    }
}

static void test_small_output_buffer(void **state) {
    (void)state;
    uint8_t buf[256];
    size_t n = all_types(buf, sizeof buf);
    size_t need = strlen(ALL_JSON);
    static char out[4096];
    for (size_t cap = 0; cap <= need + 1; cap++) {
        memset(out, '#', sizeof out);
        char err[200] = "";
        size_t len = 0;
        int rc = lw_lpp_decode_json_ex(buf, n, LW_LPP_EXTENDED, out, cap, &len, err, sizeof err);
        for (size_t i = cap; i < sizeof out; i++)
            if (out[i] != '#') fail_msg("cap %zu: byte %zu written", cap, i);
        assert_int_equal(len, need);
        if (cap <= need) {
            assert_int_equal(rc, LW_LPP_ERR_NOSPACE);
            if (cap) assert_int_equal(out[0], 0);
            assert_non_null(strstr(err, "needs"));
        } else {
            assert_int_equal(rc, 0);
            assert_string_equal(out, ALL_JSON);
        }
    }
    /* NULL output with cap 0 reports the size needed */
    size_t len = 0;
    assert_int_equal(lw_lpp_decode_json_ex(buf, n, LW_LPP_EXTENDED, NULL, 0, &len, NULL, 0), LW_LPP_ERR_NOSPACE);
    assert_int_equal(len, need);
}

static void test_encoder_errors(void **state) {
    (void)state;
    uint8_t buf[8];
    lw_lpp_writer w;
    lw_lpp_writer_init(&w, buf, sizeof buf);
    assert_int_equal(lw_lpp_add_temperature(&w, 1, 3276.8), LW_LPP_ERR_RANGE);
    assert_int_equal(lw_lpp_add_temperature(&w, 1, NAN), LW_LPP_ERR_RANGE);
    assert_int_equal(lw_lpp_add_relative_humidity(&w, 1, -0.5), LW_LPP_ERR_RANGE);
    assert_int_equal(lw_lpp_add_relative_humidity(&w, 1, 128), LW_LPP_ERR_RANGE);
    assert_int_equal(lw_lpp_add_gps(&w, 1, 900, 0, 0), LW_LPP_ERR_RANGE);
    assert_int_equal(lw_lpp_add_switch(&w, 1, 2), LW_LPP_ERR_RANGE);
    int64_t raw[3] = {1, 2, 3};
    assert_int_equal(lw_lpp_add_raw(&w, 1, 0x7f, raw, 1), LW_LPP_ERR_UNKNOWN_TYPE);
    assert_int_equal(lw_lpp_add_raw(&w, 1, LW_LPP_TEMPERATURE, raw, 3), LW_LPP_ERR_ARG);
    double v[1] = {1};
    assert_int_equal(lw_lpp_add(&w, 1, LW_LPP_GPS, v, 1), LW_LPP_ERR_ARG);
    assert_int_equal(w.len, 0);
    assert_int_equal(lw_lpp_add_temperature(&w, 1, 21.5), 0);
    assert_int_equal(lw_lpp_add_temperature(&w, 2, 21.5), 0);
    assert_int_equal(lw_lpp_add_temperature(&w, 3, 21.5), LW_LPP_ERR_NOSPACE);
    assert_int_equal(w.len, 8);
    char out[64];
    size_t len;
    assert_int_equal(lw_lpp_decode_json(buf, w.len, out, sizeof out, &len, NULL, 0), 0);
    assert_string_equal(out, "{\"temperature_1\":21.5,\"temperature_2\":21.5}");
    /* generic add with physical values, rounding to nearest */
    lw_lpp_writer_init(&w, buf, sizeof buf);
    double t[1] = {-4.149};
    assert_int_equal(lw_lpp_add(&w, 1, LW_LPP_TEMPERATURE, t, 1), 0);
    assert_int_equal(buf[2], 0xff);
    assert_int_equal(buf[3], 0xd7);
}

static void test_raw_roundtrip_random(void **state) {
    (void)state;
    static const uint8_t types[] = {0,   1,   2,   3,   100, 101, 102, 103, 104, 113, 115, 116, 117,
                                    118, 120, 121, 125, 128, 130, 131, 132, 133, 134, 135, 136, 142};
    srand(1234);
    for (int iter = 0; iter < 2000; iter++) {
        uint8_t buf[242];
        lw_lpp_writer w;
        lw_lpp_writer_init(&w, buf, sizeof buf);
        int64_t want[40][3];
        uint8_t wt[40], wc[40];
        int k = 0;
        while (k < 40) {
            uint8_t ty = types[rand() % (int)sizeof types];
            const lw_lpp_type_info *t = lw_lpp_type_info_of(ty, LW_LPP_EXTENDED);
            assert_non_null(t);
            int64_t raw[3] = {0, 0, 0};
            for (unsigned f = 0; f < t->nfields; f++) {
                uint64_t r = ((uint64_t)(unsigned)rand() << 32) ^ (uint64_t)(unsigned)rand();
                unsigned bits = 8u * t->width[f];
                r &= (bits >= 64) ? ~0ull : ((1ull << bits) - 1);
                raw[f] = (t->is_signed && (r >> (bits - 1))) ? (int64_t)r - (int64_t)(1ull << bits) : (int64_t)r;
            }
            if (ty == LW_LPP_SWITCH) raw[0] &= 1;
            uint8_t ch = (uint8_t)rand();
            int rc = lw_lpp_add_raw(&w, ch, ty, raw, t->nfields);
            if (rc == LW_LPP_ERR_NOSPACE) break;
            assert_int_equal(rc, 0);
            memcpy(want[k], raw, sizeof raw);
            wt[k] = ty;
            wc[k] = ch;
            k++;
        }
        size_t off = 0;
        lw_lpp_item it;
        for (int i = 0; i < k; i++) {
            assert_int_equal(lw_lpp_next(buf, w.len, &off, LW_LPP_EXTENDED, &it, NULL, 0), 1);
            assert_int_equal(it.type, wt[i]);
            assert_int_equal(it.channel, wc[i]);
            for (unsigned f = 0; f < it.info->nfields; f++) assert_true(it.raw[f] == want[i][f]);
        }
        assert_int_equal(lw_lpp_next(buf, w.len, &off, LW_LPP_EXTENDED, &it, NULL, 0), 0);
        char out[4096];
        size_t len;
        assert_int_equal(lw_lpp_decode_json_ex(buf, w.len, LW_LPP_EXTENDED, out, sizeof out, &len, NULL, 0), 0);
        assert_int_equal(strlen(out), len);
    }
}

static void test_downlink(void **state) {
    (void)state;
    uint8_t buf[16];
    lw_lpp_writer w;
    lw_lpp_writer_init(&w, buf, sizeof buf);
    /* TTS TestEncode: {"value_2": -50.51} -> 02 EC 45 */
    assert_int_equal(lw_lpp_add_value(&w, 2, -50.51), 0);
    assert_int_equal(w.len, 3);
    assert_int_equal(buf[0], 2);
    assert_int_equal(buf[1], 236);
    assert_int_equal(buf[2], 69);
    assert_int_equal(lw_lpp_add_value(&w, 0xff, 1), LW_LPP_ERR_ARG);
    assert_int_equal(lw_lpp_add_value(&w, 1, 400), LW_LPP_ERR_RANGE);
    assert_int_equal(lw_lpp_add_value(&w, 1, 12), 0);
    char out[128], err[128];
    size_t len;
    assert_int_equal(lw_lpp_decode_downlink_json(buf, w.len, out, sizeof out, &len, err, sizeof err), 0);
    assert_string_equal(out, "{\"value_1\":12,\"value_2\":-50.51}");
    /* 0xFF ends the list; a short value is an error */
    uint8_t p[] = {3, 0, 5, 0xff, 9, 9};
    assert_int_equal(lw_lpp_decode_downlink_json(p, sizeof p, out, sizeof out, &len, err, sizeof err), 0);
    assert_string_equal(out, "{\"value_3\":0.05}");
    assert_int_equal(lw_lpp_decode_downlink_json(p, 2, out, sizeof out, &len, err, sizeof err), LW_LPP_ERR_TRUNCATED);
    assert_non_null(strstr(err, "channel 3 at offset 1"));
}

static void test_format_fixed(void **state) {
    (void)state;
    char b[32];
    assert_int_equal(lw_lpp_format_fixed(0, 3, b, sizeof b), 1);
    assert_string_equal(b, "0");
    lw_lpp_format_fixed(-5, 1, b, sizeof b);
    assert_string_equal(b, "-0.5");
    lw_lpp_format_fixed(-1234, 3, b, sizeof b);
    assert_string_equal(b, "-1.234");
    lw_lpp_format_fixed(1200, 2, b, sizeof b);
    assert_string_equal(b, "12");
    lw_lpp_format_fixed(1020, 2, b, sizeof b);
    assert_string_equal(b, "10.2");
    lw_lpp_format_fixed(7, 4, b, sizeof b);
    assert_string_equal(b, "0.0007");
    lw_lpp_format_fixed(INT64_MIN, 0, b, sizeof b);
    assert_string_equal(b, "-9223372036854775808");
    assert_int_equal(lw_lpp_format_fixed(-1234, 3, b, 6), 0);
    assert_int_equal(lw_lpp_format_fixed(-1234, 3, b, 7), 6);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docs_examples),
        cmocka_unit_test(test_tts_vector),
        cmocka_unit_test(test_every_type_extremes),
        cmocka_unit_test(test_keys_sorted_and_last_wins),
        cmocka_unit_test(test_unknown_and_extended),
        cmocka_unit_test(test_roundtrip_all_types),
        cmocka_unit_test(test_truncation_every_byte),
        cmocka_unit_test(test_small_output_buffer),
        cmocka_unit_test(test_encoder_errors),
        cmocka_unit_test(test_raw_roundtrip_random),
        cmocka_unit_test(test_downlink),
        cmocka_unit_test(test_format_fixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
