/* Unit tests for lorawan/as_json: a three-gateway uplink parsed back with jansson and every member
 * and JSON type checked against The Things Stack's encodings, one uplink/join/event compared byte for
 * byte, member omission rules, string escaping, RFC 3339 / duration / float32 formatting as TTS's
 * jsonplugin writes them, MQTT topics, and every acceptance and rejection of the downlink parser. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "lorawan/as_json.h"

static const uint8_t DEV_EUI[8] = {0x00, 0x04, 0xa3, 0x0b, 0x00, 0x1c, 0x05, 0x30};
static const uint8_t JOIN_EUI[8] = {0x80, 0, 0, 0, 0, 0, 0, 0x0c};
static const uint8_t SKID[4] = {0x11, 0x22, 0x33, 0x44};
static const uint8_t FRM[3] = {0x82, 0x41, 0xde};

/* 2020-02-12T15:15:45.789585Z in microseconds */
#define T0 INT64_C(1581520545789585)

static lw_as_ids ids_full(void) {
    lw_as_ids ids = {.app_id = "app1",
                     .dev_id = "dev1",
                     .tenant = NULL,
                     .dev_eui = DEV_EUI,
                     .join_eui = JOIN_EUI,
                     .has_dev_addr = true,
                     .dev_addr = 0x00BCB929};
    return ids;
}

static lw_as_uplink uplink_base(lw_as_rx *rx, size_t n) {
    lw_as_uplink up;
    memset(&up, 0, sizeof up);
    up.ids = ids_full();
    up.correlation_id = "as:up:01E0WZGT6Y7657CPFPE5WEYDSQ";
    up.received_at_us = T0;
    up.session_key_id = SKID;
    up.session_key_id_len = sizeof SKID;
    up.has_fport = true;
    up.f_port = 1;
    up.f_cnt = 1;
    up.frm = FRM;
    up.frm_len = sizeof FRM;
    up.rx = rx;
    up.n_rx = n;
    up.settings = (lw_as_settings){.lora = true,
                                   .sf = 7,
                                   .bw_hz = 125000,
                                   .coding_rate = "4/5",
                                   .freq_hz = 868300000,
                                   .tmst = 2463457000u,
                                   .time = NULL};
    up.consumed_airtime_us = 56576;
    up.net_id = 0x13;
    return up;
}

static char *to_str(buf_t *b) {
    char *s = malloc(b->len + 1);
    assert_non_null(s);
    memcpy(s, b->data, b->len);
    s[b->len] = 0;
    return s;
}

static json_t *parse_buf(buf_t *b) {
    json_error_t e;
    json_t *j = json_loadb((const char *)b->data, b->len, JSON_REJECT_DUPLICATES, &e);
    if (!j) fail_msg("output is not JSON: %s: %.*s", e.text, (int)b->len, (const char *)b->data);
    return j;
}

static json_t *get(json_t *o, const char *path) {
    /* dotted path; "[n]" array index as a separate component: "a.b.0.c" */
    char tmp[200];
    snprintf(tmp, sizeof tmp, "%s", path);
    json_t *cur = o;
    for (char *save = NULL, *tok = strtok_r(tmp, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
        if (json_is_array(cur))
            cur = json_array_get(cur, (size_t)atoi(tok));
        else
            cur = json_object_get(cur, tok);
        if (!cur) return NULL;
    }
    return cur;
}

static void expect_str(json_t *o, const char *path, const char *want) {
    json_t *v = get(o, path);
    if (!json_is_string(v)) fail_msg("%s: not a string", path);
    if (strcmp(json_string_value(v), want) != 0) fail_msg("%s: \"%s\" != \"%s\"", path, json_string_value(v), want);
}
static void expect_int(json_t *o, const char *path, long long want) {
    json_t *v = get(o, path);
    if (!json_is_integer(v)) fail_msg("%s: not an integer", path);
    if (json_integer_value(v) != want) fail_msg("%s: %lld != %lld", path, (long long)json_integer_value(v), want);
}
static void expect_real(json_t *o, const char *path, double want) {
    json_t *v = get(o, path);
    if (!json_is_number(v)) fail_msg("%s: not a number", path);
    if (json_number_value(v) != want) fail_msg("%s: %g != %g", path, json_number_value(v), want);
}
static void expect_absent(json_t *o, const char *path) {
    if (get(o, path)) fail_msg("%s: present, expected omitted", path);
}
static void expect_keys(json_t *o, const char *path, const char *const *keys) {
    json_t *v = path ? get(o, path) : o;
    assert_true(json_is_object(v));
    size_t n = 0;
    while (keys[n]) n++;
    if (json_object_size(v) != n)
        fail_msg("%s: %zu members, expected %zu", path ? path : "root", json_object_size(v), n);
    /* order too: jansson keeps insertion order */
    size_t i = 0;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        if (strcmp(k, keys[i]) != 0) fail_msg("%s: member %zu is %s, expected %s", path ? path : "root", i, k, keys[i]);
        i++;
    }
}

static void test_uplink_three_gateways(void **state) {
    (void)state;
    lw_as_rx rx[3];
    memset(rx, 0, sizeof rx);
    const uint8_t e0[8] = {0x9c, 0x5c, 0x8e, 0, 0, 0x1a, 0x05, 0xc4};
    memcpy(rx[0].gw_eui, e0, 8);
    rx[0].gw_id = "gtw1";
    rx[0].tmst = 2463457000u;
    rx[0].time = "2020-02-12T15:15:45.787Z";
    rx[0].received_at_us = T0 - 2000;
    rx[0].rssi = -35;
    rx[0].snr = 9.25f;
    rx[0].channel_index = 2;
    rx[0].has_location = true;
    rx[0].lat = 37.97155556731436;
    rx[0].lon = 23.72678801175413;
    rx[0].alt = 10;
    for (int i = 0; i < 8; i++) rx[1].gw_eui[i] = (uint8_t)(0xa0 + i);
    rx[1].gw_id = NULL; /* -> eui-a0a1... */
    rx[1].tmst = 1;
    rx[1].rssi = -118;
    rx[1].has_signal_rssi = true;
    rx[1].signal_rssi = -121;
    rx[1].snr = -4.2f;
    rx[1].received_at_us = T0 - 1000;
    memset(rx[2].gw_eui, 0xff, 8);
    rx[2].gw_id = "gw-three";
    rx[2].tmst = 4294967295u;
    rx[2].rssi = -90;
    rx[2].snr = 0; /* omitted, as TTS omits a zero float */
    rx[2].time = "not a time";
    lw_as_uplink up = uplink_base(rx, 3);
    up.decoded_json = "{\"temperature\":1.5,\"luminosity\":64}";
    up.warnings_json = "[\"low battery\"]";
    up.confirmed = true;
    up.last_a_f_cnt_down = 7;
    up.cluster_id = "eu1";
    buf_t b;
    buf_init(&b);
    assert_int_equal(lw_as_uplink_json(&up, &b), 0);
    json_t *j = parse_buf(&b);

    static const char *const top[] = {"end_device_ids", "correlation_ids", "received_at", "uplink_message", NULL};
    expect_keys(j, NULL, top);
    static const char *const idk[] = {"device_id", "application_ids", "dev_eui", "join_eui", "dev_addr", NULL};
    expect_keys(j, "end_device_ids", idk);
    expect_str(j, "end_device_ids.device_id", "dev1");
    expect_str(j, "end_device_ids.application_ids.application_id", "app1");
    expect_str(j, "end_device_ids.dev_eui", "0004A30B001C0530");
    expect_str(j, "end_device_ids.join_eui", "800000000000000C");
    expect_str(j, "end_device_ids.dev_addr", "00BCB929");
    assert_int_equal(json_array_size(get(j, "correlation_ids")), 1);
    expect_str(j, "correlation_ids.0", "as:up:01E0WZGT6Y7657CPFPE5WEYDSQ");
    expect_str(j, "received_at", "2020-02-12T15:15:45.789585Z");

    static const char *const um[] = {
        "session_key_id", "f_port",   "f_cnt",       "frm_payload",       "decoded_payload", "decoded_payload_warnings",
        "rx_metadata",    "settings", "received_at", "last_a_f_cnt_down", "confirmed",       "consumed_airtime",
        "network_ids",    NULL};
    expect_keys(j, "uplink_message", um);
    expect_str(j, "uplink_message.session_key_id", "ESIzRA==");
    expect_int(j, "uplink_message.f_port", 1);
    expect_int(j, "uplink_message.f_cnt", 1);
    expect_str(j, "uplink_message.frm_payload", "gkHe");
    expect_real(j, "uplink_message.decoded_payload.temperature", 1.5);
    expect_int(j, "uplink_message.decoded_payload.luminosity", 64);
    expect_str(j, "uplink_message.decoded_payload_warnings.0", "low battery");
    expect_str(j, "uplink_message.received_at", "2020-02-12T15:15:45.789585Z");
    expect_int(j, "uplink_message.last_a_f_cnt_down", 7);
    assert_true(json_is_true(get(j, "uplink_message.confirmed")));
    expect_str(j, "uplink_message.consumed_airtime", "0.056576s");
    static const char *const nk[] = {"net_id", "tenant_id", "cluster_id", NULL};
    expect_keys(j, "uplink_message.network_ids", nk);
    expect_str(j, "uplink_message.network_ids.net_id", "000013");
    expect_str(j, "uplink_message.network_ids.tenant_id", "ttn");
    expect_str(j, "uplink_message.network_ids.cluster_id", "eu1");

    static const char *const sk[] = {"data_rate", "frequency", "timestamp", NULL};
    expect_keys(j, "uplink_message.settings", sk);
    static const char *const lk[] = {"bandwidth", "spreading_factor", "coding_rate", NULL};
    expect_keys(j, "uplink_message.settings.data_rate.lora", lk);
    expect_int(j, "uplink_message.settings.data_rate.lora.bandwidth", 125000);
    expect_int(j, "uplink_message.settings.data_rate.lora.spreading_factor", 7);
    expect_str(j, "uplink_message.settings.data_rate.lora.coding_rate", "4/5");
    expect_str(j, "uplink_message.settings.frequency", "868300000");  /* uint64 -> string */
    expect_int(j, "uplink_message.settings.timestamp", 2463457000LL); /* uint32 -> number */

    json_t *rxa = get(j, "uplink_message.rx_metadata");
    assert_int_equal(json_array_size(rxa), 3);
    static const char *const r0[] = {"gateway_ids",   "time",        "timestamp", "rssi",
                                     "channel_rssi",  "snr",         "location",  "uplink_token",
                                     "channel_index", "received_at", NULL};
    expect_keys(j, "uplink_message.rx_metadata.0", r0);
    expect_str(j, "uplink_message.rx_metadata.0.gateway_ids.gateway_id", "gtw1");
    expect_str(j, "uplink_message.rx_metadata.0.gateway_ids.eui", "9C5C8E00001A05C4");
    expect_str(j, "uplink_message.rx_metadata.0.time", "2020-02-12T15:15:45.787Z");
    expect_int(j, "uplink_message.rx_metadata.0.timestamp", 2463457000LL);
    expect_int(j, "uplink_message.rx_metadata.0.rssi", -35);
    expect_int(j, "uplink_message.rx_metadata.0.channel_rssi", -35);
    expect_real(j, "uplink_message.rx_metadata.0.snr", 9.25);
    expect_real(j, "uplink_message.rx_metadata.0.location.latitude", 37.97155556731436);
    expect_real(j, "uplink_message.rx_metadata.0.location.longitude", 23.72678801175413);
    expect_int(j, "uplink_message.rx_metadata.0.location.altitude", 10);
    expect_str(j, "uplink_message.rx_metadata.0.location.source", "SOURCE_REGISTRY");
    assert_true(json_is_string(get(j, "uplink_message.rx_metadata.0.uplink_token")));
    expect_int(j, "uplink_message.rx_metadata.0.channel_index", 2);
    expect_str(j, "uplink_message.rx_metadata.0.received_at", "2020-02-12T15:15:45.787585Z");

    static const char *const r1[] = {"gateway_ids", "timestamp",    "rssi",        "signal_rssi", "channel_rssi",
                                     "snr",         "uplink_token", "received_at", NULL};
    expect_keys(j, "uplink_message.rx_metadata.1", r1);
    expect_str(j, "uplink_message.rx_metadata.1.gateway_ids.gateway_id", "eui-a0a1a2a3a4a5a6a7");
    expect_str(j, "uplink_message.rx_metadata.1.gateway_ids.eui", "A0A1A2A3A4A5A6A7");
    expect_int(j, "uplink_message.rx_metadata.1.signal_rssi", -121);
    /* float32 printed shortest: reads back as -4.2 (double), which narrows to the same float */
    expect_real(j, "uplink_message.rx_metadata.1.snr", -4.2);
    assert_true((float)json_number_value(get(j, "uplink_message.rx_metadata.1.snr")) == -4.2f);

    /* invalid gateway time and zero snr omitted, timestamp 4294967295 stays a number */
    static const char *const r2[] = {"gateway_ids", "timestamp", "rssi", "channel_rssi", "uplink_token", NULL};
    expect_keys(j, "uplink_message.rx_metadata.2", r2);
    expect_int(j, "uplink_message.rx_metadata.2.timestamp", 4294967295LL);
    expect_absent(j, "uplink_message.rx_metadata.2.snr");
    expect_absent(j, "uplink_message.rx_metadata.2.time");
    expect_absent(j, "simulated");
    /* the three tokens differ (they carry the gateway EUI) */
    assert_string_not_equal(json_string_value(get(j, "uplink_message.rx_metadata.0.uplink_token")),
                            json_string_value(get(j, "uplink_message.rx_metadata.1.uplink_token")));
    /* the float32 text is the shortest form, as TTS prints it */
    char *s = to_str(&b);
    assert_non_null(strstr(s, "\"snr\":9.25,"));
    assert_non_null(strstr(s, "\"snr\":-4.2,"));
    free(s);
    json_decref(j);
    buf_free(&b);
}

static void test_uplink_exact(void **state) {
    (void)state;
    lw_as_rx rx;
    memset(&rx, 0, sizeof rx);
    const uint8_t e0[8] = {0x9c, 0x5c, 0x8e, 0, 0, 0x1a, 0x05, 0xc4};
    memcpy(rx.gw_eui, e0, 8);
    rx.gw_id = "gtw1";
    rx.tmst = 2463457000u;
    rx.time = "2020-02-12T15:15:45.787000000Z";
    rx.received_at_us = 0;
    rx.rssi = -35;
    rx.snr = 5;
    rx.channel_index = 2;
    lw_as_uplink up = uplink_base(&rx, 1);
    up.settings.time = "2020-02-12T17:15:45.787+02:00";
    buf_t b;
    buf_init(&b);
    buf_append(&b, "prefix", 6); /* builders append */
    assert_int_equal(lw_as_uplink_json(&up, &b), 0);
    char *s = to_str(&b);
    const char *want =
        "prefix{\"end_device_ids\":{\"device_id\":\"dev1\",\"application_ids\":{\"application_id\":\"app1\"},"
        "\"dev_eui\":\"0004A30B001C0530\",\"join_eui\":\"800000000000000C\",\"dev_addr\":\"00BCB929\"},"
        "\"correlation_ids\":[\"as:up:01E0WZGT6Y7657CPFPE5WEYDSQ\"],\"received_at\":\"2020-02-12T15:15:45.789585Z\","
        "\"uplink_message\":{\"session_key_id\":\"ESIzRA==\",\"f_port\":1,\"f_cnt\":1,\"frm_payload\":\"gkHe\","
        "\"rx_metadata\":[{\"gateway_ids\":{\"gateway_id\":\"gtw1\",\"eui\":\"9C5C8E00001A05C4\"},"
        "\"time\":\"2020-02-12T15:15:45.787Z\",\"timestamp\":2463457000,\"rssi\":-35,\"channel_rssi\":-35,\"snr\":5,"
        "\"uplink_token\":\"nFyOAAAaBcSS1V7oAAAAAAAAAAA=\",\"channel_index\":2}],"
        "\"settings\":{\"data_rate\":{\"lora\":{\"bandwidth\":125000,\"spreading_factor\":7,\"coding_rate\":\"4/5\"}},"
        "\"frequency\":\"868300000\",\"timestamp\":2463457000,\"time\":\"2020-02-12T15:15:45.787Z\"},"
        "\"received_at\":\"2020-02-12T15:15:45.789585Z\",\"consumed_airtime\":\"0.056576s\","
        "\"network_ids\":{\"net_id\":\"000013\",\"tenant_id\":\"ttn\"}}}";
    assert_string_equal(s, want);
    free(s);
    buf_free(&b);
}

static void test_uplink_minimal_and_fsk(void **state) {
    (void)state;
    /* no session key, no port (MAC-only), f_cnt 0, no rx: uplink_message starts with settings */
    lw_as_uplink up;
    memset(&up, 0, sizeof up);
    up.ids = (lw_as_ids){.app_id = "a", .dev_id = "d", .tenant = ""};
    up.settings = (lw_as_settings){.lora = false, .bitrate = 50000, .freq_hz = 868800000};
    up.consumed_airtime_us = 1000000;
    up.decode_error = "Error: \"bad\"\n";
    up.warnings_json = " [ ] ";
    buf_t b;
    buf_init(&b);
    assert_int_equal(lw_as_uplink_json(&up, &b), 0);
    char *s = to_str(&b);
    assert_string_equal(s, "{\"end_device_ids\":{\"device_id\":\"d\",\"application_ids\":{\"application_id\":\"a\"}},"
                           "\"uplink_message\":{\"decoded_payload_errors\":[\"Error: \\\"bad\\\"\\n\"],"
                           "\"settings\":{\"data_rate\":{\"fsk\":{\"bit_rate\":50000}},\"frequency\":\"868800000\"},"
                           "\"consumed_airtime\":\"1s\",\"network_ids\":{\"net_id\":\"000000\"}}}");
    free(s);
    buf_free(&b);
}

static void test_escaping(void **state) {
    (void)state;
    lw_as_ids ids = {.app_id = "a\"b\\c", .dev_id = "\x01\x1f\t\r\n\b\f\x7f\xc3\xa9"};
    lw_as_join jn;
    memset(&jn, 0, sizeof jn);
    buf_t b;
    buf_init(&b);
    assert_int_equal(lw_as_join_json(&ids, &jn, &b), 0);
    char *s = to_str(&b);
    assert_string_equal(s, "{\"end_device_ids\":{\"device_id\":\"\\u0001\\u001f\\t\\r\\n\\b\\f\x7f\xc3\xa9\","
                           "\"application_ids\":{\"application_id\":\"a\\\"b\\\\c\"}},\"join_accept\":{}}");
    json_t *j = parse_buf(&b);
    expect_str(j, "end_device_ids.device_id", "\x01\x1f\t\r\n\b\f\x7f\xc3\xa9");
    expect_str(j, "end_device_ids.application_ids.application_id", "a\"b\\c");
    json_decref(j);
    free(s);
    buf_free(&b);
}

static void test_join_exact(void **state) {
    (void)state;
    lw_as_ids ids = ids_full();
    const uint8_t sk[16] = {0x01, 0x70, 0x52, 0x1f, 0x53, 0xe4, 0xe9, 0x9d,
                            0x06, 0xd7, 0xae, 0x91, 0x94, 0x7d, 0x7a, 0x09};
    lw_as_join jn = {.correlation_id = "as:up:01E191YN5F2HMBQCBCVRF731VY",
                     .received_at_us = INT64_C(1581925749736532),
                     .session_key_id = sk,
                     .session_key_id_len = sizeof sk,
                     .net_id = 0x13};
    buf_t b;
    buf_init(&b);
    assert_int_equal(lw_as_join_json(&ids, &jn, &b), 0);
    char *s = to_str(&b);
    assert_string_equal(s,
                        "{\"end_device_ids\":{\"device_id\":\"dev1\",\"application_ids\":{\"application_id\":\"app1\"},"
                        "\"dev_eui\":\"0004A30B001C0530\",\"join_eui\":\"800000000000000C\",\"dev_addr\":\"00BCB929\"},"
                        "\"correlation_ids\":[\"as:up:01E191YN5F2HMBQCBCVRF731VY\"],"
                        "\"received_at\":\"2020-02-17T07:49:09.736532Z\",\"join_accept\":{\"session_key_id\":"
                        "\"AXBSH1Pk6Z0G166RlH16CQ==\",\"received_at\":\"2020-02-17T07:49:09.736532Z\"}}");
    free(s);
    buf_free(&b);
}

static void expect_time(int64_t us, const char *want) {
    char out[40];
    size_t n = lw_rfc3339(us, out, sizeof out);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void test_rfc3339(void **state) {
    (void)state;
    expect_time(INT64_C(1764072000000000), "2025-11-25T12:00:00Z");
    expect_time(INT64_C(1764072000123456), "2025-11-25T12:00:00.123456Z");
    expect_time(INT64_C(1764072000120000), "2025-11-25T12:00:00.120Z"); /* 3 digits, not ".12" */
    expect_time(INT64_C(1764072000100000), "2025-11-25T12:00:00.100Z");
    expect_time(INT64_C(1764072000000001), "2025-11-25T12:00:00.000001Z");
    expect_time(INT64_C(1764072000001000), "2025-11-25T12:00:00.001Z");
    expect_time(INT64_C(1764072000123450), "2025-11-25T12:00:00.123450Z");
    expect_time(0, "1970-01-01T00:00:00Z");
    expect_time(-1, "1969-12-31T23:59:59.999999Z");
    expect_time(INT64_C(951782400000000), "2000-02-29T00:00:00Z");
    expect_time(INT64_C(253402300799999999), "9999-12-31T23:59:59.999999Z");
    char out[40] = "x";
    assert_int_equal(lw_rfc3339(INT64_C(253402300800000000), out, sizeof out), 0); /* year 10000 */
    assert_string_equal(out, "");
    assert_int_equal(lw_rfc3339(INT64_C(-62167219200000001), out, sizeof out), 0); /* year -1 */
    assert_int_equal(lw_rfc3339(INT64_MIN, out, sizeof out), 0);
    assert_int_equal(lw_rfc3339(INT64_MAX, out, sizeof out), 0);
    expect_time(INT64_C(-62167219200000000), "0000-01-01T00:00:00Z");
    char small[27];
    assert_int_equal(lw_rfc3339(INT64_C(1764072000123456), small, sizeof small), 0); /* needs 28 */
    assert_string_equal(small, "");
    char exact[28];
    assert_int_equal(lw_rfc3339(INT64_C(1764072000123456), exact, sizeof exact), 27);
}

/* gateway time strings are normalized; duration and snr formatting through the uplink builder */
static char *uplink_with(const char *gwtime, float snr, uint32_t airtime_us) {
    lw_as_rx rx;
    memset(&rx, 0, sizeof rx);
    rx.time = gwtime;
    rx.snr = snr;
    lw_as_uplink up = uplink_base(&rx, 1);
    up.consumed_airtime_us = airtime_us;
    buf_t b;
    buf_init(&b);
    assert_int_equal(lw_as_uplink_json(&up, &b), 0);
    char *s = to_str(&b);
    buf_free(&b);
    return s;
}

static void expect_in_uplink(const char *gwtime, float snr, uint32_t airtime_us, const char *needle) {
    char *s = uplink_with(gwtime, snr, airtime_us);
    if (!strstr(s, needle)) fail_msg("\"%s\" not in %s", needle, s);
    free(s);
}

static void test_gateway_time_snr_duration(void **state) {
    (void)state;
    expect_in_uplink("2013-03-31T16:21:17.528002Z", 1, 1, "\"time\":\"2013-03-31T16:21:17.528002Z\"");
    expect_in_uplink("2013-03-31T16:21:17.5Z", 1, 1, "\"time\":\"2013-03-31T16:21:17.500Z\"");
    expect_in_uplink("2013-03-31T16:21:17.123456789Z", 1, 1, "\"time\":\"2013-03-31T16:21:17.123456789Z\"");
    expect_in_uplink("2013-03-31T16:21:17.1234567891Z", 1, 1, "\"time\":\"2013-03-31T16:21:17.123456789Z\"");
    expect_in_uplink("2013-03-31T16:21:17Z", 1, 1, "\"time\":\"2013-03-31T16:21:17Z\"");
    expect_in_uplink("2013-03-31t16:21:17.000z", 1, 1, "\"time\":\"2013-03-31T16:21:17Z\"");
    expect_in_uplink("2013-03-31T18:21:17+02:00", 1, 1, "\"time\":\"2013-03-31T16:21:17Z\"");
    expect_in_uplink("2013-03-31T00:21:17-01:30", 1, 1, "\"time\":\"2013-03-31T01:51:17Z\"");
    const char *bad[] = {
        "2013-02-29T00:00:00Z",  "2013-13-01T00:00:00Z", "2013-03-31T24:00:00Z",     "2013-03-31T16:21:17",
        "2013-03-31T16:21:17.Z", "2013-03-31",           "2013-03-31T16:21:17Zjunk", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *s = uplink_with(bad[i], 1, 1);
        if (strstr(s, "\"time\"")) fail_msg("invalid time %s was written: %s", bad[i], s);
        free(s);
    }
    expect_in_uplink(NULL, 9.25f, 1, "\"snr\":9.25");
    expect_in_uplink(NULL, -4.2f, 1, "\"snr\":-4.2,");
    expect_in_uplink(NULL, 0.1f, 1, "\"snr\":0.1,");
    expect_in_uplink(NULL, -20.0f, 1, "\"snr\":-20,");
    expect_in_uplink(NULL, 13.75f, 1, "\"snr\":13.75,");
    expect_in_uplink(NULL, 1e-7f, 1, "\"snr\":1e-7,");
    expect_in_uplink(NULL, 0.000123f, 1, "\"snr\":0.000123,");
    expect_in_uplink(NULL, 1e22f, 1, "\"snr\":1e+22,");
    expect_in_uplink(NULL, 123456790.0f, 1, "\"snr\":123456790,");
    expect_in_uplink(NULL, 1, 56576, "\"consumed_airtime\":\"0.056576s\"");
    expect_in_uplink(NULL, 1, 51200, "\"consumed_airtime\":\"0.051200s\"");
    expect_in_uplink(NULL, 1, 41000, "\"consumed_airtime\":\"0.041s\"");
    expect_in_uplink(NULL, 1, 2000000, "\"consumed_airtime\":\"2s\"");
    expect_in_uplink(NULL, 1, 1500000, "\"consumed_airtime\":\"1.500s\"");
    expect_in_uplink(NULL, 1, 0, "\"consumed_airtime\":\"0s\"");
    expect_in_uplink(NULL, 1, 1, "\"consumed_airtime\":\"0.000001s\"");
}

/* digits of the shortest %.*e text that reads back as v (float32 or double): the reference */
static int shortest_digits(double v, int is32) {
    char t[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(t, sizeof t, "%.*e", p - 1, v);
        if (is32 ? strtof(t, NULL) == (float)v : strtod(t, NULL) == v) return p;
    }
    return 17;
}
static int sig_digits(const char *s, size_t n) {
    int d = 0, lead = 1, zeros = 0;
    for (size_t i = 0; i < n && s[i] != 'e'; i++) {
        if (s[i] < '0' || s[i] > '9') continue;
        if (lead && s[i] == '0') continue;
        lead = 0;
        if (s[i] == '0') {
            zeros++;
        } else {
            d += zeros + 1;
            zeros = 0;
        }
    }
    return d;
}

/* snr (float32) and latitude (double) text: reads back exactly and is as short as possible */
static void check_number_text(double v, int is32) {
    if (v == 0) return; /* omitted, as TTS omits zero floats (tested above) */
    lw_as_rx rx;
    memset(&rx, 0, sizeof rx);
    rx.snr = (float)v;
    rx.has_location = true;
    rx.lat = v;
    lw_as_uplink up = uplink_base(&rx, 1);
    buf_t b;
    buf_init(&b);
    assert_int_equal(lw_as_uplink_json(&up, &b), 0);
    char *s = to_str(&b);
    const char *key = is32 ? "\"snr\":" : "\"latitude\":";
    const char *p = strstr(s, key);
    if (!p) {
        fail_msg("%s missing for %.17g", key, v);
        return;
    }
    p += strlen(key);
    size_t n = strcspn(p, ",}");
    char num[64];
    snprintf(num, sizeof num, "%.*s", (int)n, p);
    if (is32 ? strtof(num, NULL) != (float)v : strtod(num, NULL) != v)
        fail_msg("%s does not read back as %.17g", num, v);
    if (sig_digits(num, n) != shortest_digits(v, is32))
        fail_msg("%s for %.17g: %d digits, shortest is %d", num, v, sig_digits(num, n), shortest_digits(v, is32));
    if (strchr(num, 'e') && fabs(v) >= 1e-6 && fabs(v) < 1e21) fail_msg("%s: exponent in the fixed range", num);
    free(s);
    buf_free(&b);
}

static void test_float_shortest(void **state) {
    (void)state;
    for (int i = -3000; i <= 3000; i++) check_number_text((double)(float)(i / 100.0), 1);
    for (int i = -400; i <= 400; i++) check_number_text(i * 0.25, 1);
    uint32_t x = 12345;
    for (int i = 0; i < 3000; i++) {
        x = x * 1103515245u + 12345u;
        float f;
        uint32_t bits = (x & 0x807fffffu) | ((uint32_t)(100 + (x >> 8) % 60) << 23); /* |f| ~ 1e-8 .. 1e10 */
        memcpy(&f, &bits, 4);
        check_number_text(f, 1);
    }
    const double dv[] = {37.97155556731436, 23.72678801175413, -33.8688,      151.2093, 52.1, 0.1,           1e-7,
                         123456789.123,     89.99999999999999, -179.99999999, 4.35,     1e20, 5e-324 * 1e300};
    for (size_t i = 0; i < sizeof dv / sizeof dv[0]; i++) check_number_text(dv[i], 0);
    for (int i = 0; i < 3000; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t y = x * 2654435761u;
        double d = ((double)x / 4294967296.0 - 0.5) * 180.0 + (double)y / 4294967296.0 * 1e-9;
        check_number_text(d, 0);
    }
}

static void test_topics(void **state) {
    (void)state;
    char t[128];
    lw_as_ids ids = {.app_id = "app1", .dev_id = "dev1"};
    assert_int_equal(lw_as_topic(&ids, "up", t, sizeof t), (int)strlen("v3/app1@ttn/devices/dev1/up"));
    assert_string_equal(t, "v3/app1@ttn/devices/dev1/up");
    ids.tenant = "acme";
    assert_true(lw_as_topic(&ids, "down/failed", t, sizeof t) > 0);
    assert_string_equal(t, "v3/app1@acme/devices/dev1/down/failed");
    ids.tenant = "";
    assert_true(lw_as_topic(&ids, "down/push", t, sizeof t) > 0);
    assert_string_equal(t, "v3/app1/devices/dev1/down/push");
    const char *sfx[] = {"join", "down/queued", "down/sent", "down/ack", "down/nack", "down/replace"};
    for (size_t i = 0; i < 6; i++) assert_true(lw_as_topic(&ids, sfx[i], t, sizeof t) > 0);
    assert_int_equal(lw_as_topic(&ids, "down", t, sizeof t), -1);
    assert_int_equal(lw_as_topic(&ids, "up/#", t, sizeof t), -1);
    assert_int_equal(lw_as_topic(&ids, NULL, t, sizeof t), -1);
    const char *badids[] = {"a+b", "a#", "a/b", "", NULL, "a\nb"};
    for (size_t i = 0; i < 6; i++) {
        lw_as_ids x = {.app_id = "app1", .dev_id = badids[i]};
        assert_int_equal(lw_as_topic(&x, "up", t, sizeof t), -1);
        x = (lw_as_ids){.app_id = badids[i], .dev_id = "dev1"};
        assert_int_equal(lw_as_topic(&x, "up", t, sizeof t), -1);
        x = (lw_as_ids){.app_id = "app1", .dev_id = "dev1", .tenant = badids[i] ? badids[i] : "+"};
        if (badids[i] && !*badids[i]) continue; /* "" tenant is the open-source layout */
        assert_int_equal(lw_as_topic(&x, "up", t, sizeof t), -1);
    }
    lw_as_ids at = {.app_id = "a@b", .dev_id = "d"};
    assert_int_equal(lw_as_topic(&at, "up", t, sizeof t), -1);
    ids.tenant = NULL;
    char small[27]; /* "v3/app1@ttn/devices/dev1/up" is 27 chars */
    assert_int_equal(lw_as_topic(&ids, "up", small, sizeof small), -1);
    char fits[28];
    assert_int_equal(lw_as_topic(&ids, "up", fits, sizeof fits), 27);
}

static void test_down_events(void **state) {
    (void)state;
    lw_as_ids ids = ids_full();
    lw_as_downlink dl;
    memset(&dl, 0, sizeof dl);
    snprintf(dl.session_key_id, sizeof dl.session_key_id, "AXBSp8v2brG0jqkri+sIkw==");
    dl.f_port = 15;
    dl.f_cnt = 1;
    dl.frm[0] = 0xbe, dl.frm[1] = 0xef;
    dl.frm_len = 2;
    dl.has_frm = true;
    dl.confirmed = true;
    dl.priority = LW_PRIO_NORMAL;
    char corr[] = "[\"as:downlink:01E19B99501X84X6CV471TVSZ1\"]";
    dl.correlation_ids_json = corr;
    const int64_t now = INT64_C(1581935544590413);
    const char *idjson =
        "{\"end_device_ids\":{\"device_id\":\"dev1\",\"application_ids\":{\"application_id\":\"app1\"},"
        "\"dev_eui\":\"0004A30B001C0530\",\"join_eui\":\"800000000000000C\",\"dev_addr\":\"00BCB929\"},"
        "\"correlation_ids\":[\"as:downlink:01E19B99501X84X6CV471TVSZ1\"],"
        "\"received_at\":\"2020-02-17T10:32:24.590413Z\",";
    const char *dljson = "{\"session_key_id\":\"AXBSp8v2brG0jqkri+sIkw==\",\"f_port\":15,\"f_cnt\":1,"
                         "\"frm_payload\":\"vu8=\",\"confirmed\":true,\"priority\":\"NORMAL\","
                         "\"correlation_ids\":[\"as:downlink:01E19B99501X84X6CV471TVSZ1\"]}";
    const char *names[] = {"downlink_queued", "downlink_sent", "downlink_ack", "downlink_nack"};
    for (int k = LW_DOWN_QUEUED; k <= LW_DOWN_NACK; k++) {
        buf_t b;
        buf_init(&b);
        assert_int_equal(lw_as_down_event_json(&ids, (lw_as_down_kind)k, &dl, "ignored", now, &b), 0);
        char want[1024];
        snprintf(want, sizeof want, "%s\"%s\":%s}", idjson, names[k], dljson);
        char *s = to_str(&b);
        assert_string_equal(s, want);
        free(s);
        buf_free(&b);
    }
    buf_t b;
    buf_init(&b);
    assert_int_equal(
        lw_as_down_event_json(&ids, LW_DOWN_FAILED, &dl, "Application downlink payload is too long", now, &b), 0);
    char want[1024];
    snprintf(want, sizeof want,
             "%s\"downlink_failed\":{\"downlink\":%s,\"error\":{\"namespace\":\"tinyedge/ns\","
             "\"name\":\"application_downlink_payload_is_too_long\","
             "\"message_format\":\"Application downlink payload is too long\"}}}",
             idjson, dljson);
    char *s = to_str(&b);
    assert_string_equal(s, want);
    free(s);
    /* decoded payload, LOWEST priority omitted, no ids extras, no correlation ids, bad kind */
    buf_reset(&b);
    lw_as_downlink d2;
    memset(&d2, 0, sizeof d2);
    d2.f_port = 2;
    char dec[] = "{\"on\":true}";
    d2.decoded_json = dec;
    d2.priority = LW_PRIO_LOWEST;
    lw_as_ids small = {.app_id = "a", .dev_id = "d"};
    assert_int_equal(lw_as_down_event_json(&small, LW_DOWN_FAILED, &d2, NULL, 0, &b), 0);
    s = to_str(&b);
    assert_string_equal(s, "{\"end_device_ids\":{\"device_id\":\"d\",\"application_ids\":{\"application_id\":\"a\"}},"
                           "\"downlink_failed\":{\"downlink\":{\"f_port\":2,\"decoded_payload\":{\"on\":true}},"
                           "\"error\":{\"namespace\":\"tinyedge/ns\",\"name\":\"downlink_failed\","
                           "\"message_format\":\"downlink failed\"}}}");
    free(s);
    size_t before = b.len;
    assert_int_equal(lw_as_down_event_json(&small, (lw_as_down_kind)99, &d2, NULL, 0, &b), -1);
    assert_int_equal(b.len, before);
    /* every priority name */
    const char *pn[] = {"LOWEST", "LOW", "BELOW_NORMAL", "NORMAL", "ABOVE_NORMAL", "HIGH", "HIGHEST"};
    for (int p = 0; p < 7; p++) assert_string_equal(lw_as_priority_name((lw_as_priority)p), pn[p]);
    assert_string_equal(lw_as_priority_name((lw_as_priority)42), "NORMAL");
    buf_free(&b);
}

/* ---- parser ---- */

static size_t parse_ok(const char *json, lw_as_downlink *out, size_t max) {
    size_t count = 99;
    char err[256] = "";
    int rc = lw_as_parse_downlinks(json, strlen(json), out, max, &count, err, sizeof err);
    if (rc != 0) fail_msg("parse %s: %s", json, err);
    return count;
}

static void test_parse_good(void **state) {
    (void)state;
    lw_as_downlink dl[4];
    size_t n =
        parse_ok("{\"end_device_ids\":{\"device_id\":\"x\"},\"downlinks\":[{\"f_port\":15,\"frm_payload\":\"vu8=\","
                 "\"priority\":\"HIGH\",\"confirmed\":true,\"correlation_ids\":[\"custom-id\",\"b\"],"
                 "\"unknown\":{\"x\":[1]}},"
                 "{\"f_port\":223,\"decoded_payload\":{\"temperature\":1.0,\"luminosity\":0.64,\"s\":\"\\u00e9\"}},"
                 "{\"f_port\":1,\"frm_payload\":\"\",\"confirmed\":false,\"priority\":0,\"correlation_ids\":[]},"
                 "{\"f_port\":2,\"frm_payload\":null,\"decoded_payload\":{},\"priority\":null,\"confirmed\":null,"
                 "\"correlation_ids\":null}]}",
                 dl, 4);
    assert_int_equal(n, 4);
    assert_int_equal(dl[0].f_port, 15);
    assert_true(dl[0].has_frm);
    assert_int_equal(dl[0].frm_len, 2);
    assert_int_equal(dl[0].frm[0], 0xbe);
    assert_int_equal(dl[0].frm[1], 0xef);
    assert_null(dl[0].decoded_json);
    assert_true(dl[0].confirmed);
    assert_int_equal(dl[0].priority, LW_PRIO_HIGH);
    assert_string_equal(dl[0].correlation_ids_json, "[\"custom-id\",\"b\"]");
    assert_int_equal(dl[0].f_cnt, 0);
    assert_string_equal(dl[0].session_key_id, "");

    assert_int_equal(dl[1].f_port, 223);
    assert_false(dl[1].has_frm);
    assert_non_null(dl[1].decoded_json);
    json_t *d = json_loads(dl[1].decoded_json, 0, NULL);
    assert_non_null(d);
    assert_true(json_number_value(json_object_get(d, "temperature")) == 1.0);
    assert_true(json_number_value(json_object_get(d, "luminosity")) == 0.64);
    assert_string_equal(json_string_value(json_object_get(d, "s")), "\xc3\xa9");
    json_decref(d);
    assert_null(strchr(dl[1].decoded_json, ' ')); /* compact */
    assert_false(dl[1].confirmed);
    assert_int_equal(dl[1].priority, LW_PRIO_NORMAL); /* default */
    assert_null(dl[1].correlation_ids_json);

    assert_true(dl[2].has_frm);
    assert_int_equal(dl[2].frm_len, 0);
    assert_int_equal(dl[2].priority, LW_PRIO_LOWEST);
    assert_null(dl[2].correlation_ids_json); /* empty array kept as none */

    assert_false(dl[3].has_frm);
    assert_string_equal(dl[3].decoded_json, "{}");
    assert_int_equal(dl[3].priority, LW_PRIO_NORMAL);
    for (size_t i = 0; i < n; i++) lw_as_downlink_clear(&dl[i]);
    assert_null(dl[0].correlation_ids_json);
    lw_as_downlink_clear(&dl[0]); /* twice is fine */
    lw_as_downlink_clear(NULL);

    /* every priority name; max-size payload; empty list (replace = clear) */
    const char *pn[] = {"LOWEST", "LOW", "BELOW_NORMAL", "NORMAL", "ABOVE_NORMAL", "HIGH", "HIGHEST"};
    for (int p = 0; p < 7; p++) {
        char j[128];
        snprintf(j, sizeof j, "{\"downlinks\":[{\"f_port\":3,\"frm_payload\":\"AA==\",\"priority\":\"%s\"}]}", pn[p]);
        assert_int_equal(parse_ok(j, dl, 1), 1);
        assert_int_equal(dl[0].priority, p);
        lw_as_downlink_clear(&dl[0]);
    }
    char big[512];
    /* 241 bytes: 80 full groups (240 bytes) + "AA==" */
    int o = snprintf(big, sizeof big, "{\"downlinks\":[{\"f_port\":3,\"frm_payload\":\"");
    for (int i = 0; i < 320; i++) big[o++] = 'A';
    o += snprintf(big + o, sizeof big - (size_t)o, "AA==\"}]}");
    assert_int_equal(parse_ok(big, dl, 1), 1);
    assert_int_equal(dl[0].frm_len, 241);
    lw_as_downlink_clear(&dl[0]);
    o = snprintf(big, sizeof big, "{\"downlinks\":[{\"f_port\":3,\"frm_payload\":\"");
    for (int i = 0; i < 320; i++) big[o++] = 'A';
    o += snprintf(big + o, sizeof big - (size_t)o, "AAA=\"}]}");
    assert_int_equal(parse_ok(big, dl, 1), 1);
    assert_int_equal(dl[0].frm_len, 242);
    lw_as_downlink_clear(&dl[0]);
    assert_int_equal(parse_ok("{\"downlinks\":[]}", dl, 4), 0);
    assert_int_equal(parse_ok("{\"downlinks\":[]}", NULL, 0), 0);
}

static void expect_reject(const char *json, size_t max, const char *msg_part) {
    lw_as_downlink dl[3];
    size_t count = 99;
    char err[256] = "";
    int rc = lw_as_parse_downlinks(json, strlen(json), dl, max, &count, err, sizeof err);
    if (rc != -1) fail_msg("accepted: %s", json);
    assert_int_equal(count, 0);
    if (!strstr(err, msg_part)) fail_msg("error for %s is \"%s\", expected to contain \"%s\"", json, err, msg_part);
}

static void test_parse_bad(void **state) {
    (void)state;
    expect_reject("", 3, "invalid JSON");
    expect_reject("garbage", 3, "invalid JSON");
    expect_reject("{\"downlinks\":[{\"f_port\":1,\"frm_payload\":\"AA==\"}]", 3, "invalid JSON");
    expect_reject("{\"downlinks\":[],\"downlinks\":[]}", 3, "invalid JSON"); /* duplicate member */
    expect_reject("[]", 3, "must be a JSON object");
    expect_reject("{}", 3, "missing \"downlinks\"");
    expect_reject("{\"downlinks\":null}", 3, "missing \"downlinks\"");
    expect_reject("{\"downlinks\":{}}", 3, "\"downlinks\" must be an array");
    expect_reject("{\"downlinks\":[{\"f_port\":1,\"frm_payload\":\"\"},{\"f_port\":1,\"frm_payload\":\"\"}]}", 1,
                  "too many downlinks: 2 (at most 1)");
    expect_reject("{\"downlinks\":[1]}", 3, "downlinks[0]: must be an object");
    expect_reject("{\"downlinks\":[{\"frm_payload\":\"AA==\"}]}", 3, "downlinks[0].f_port: missing");
    expect_reject("{\"downlinks\":[{\"f_port\":null,\"frm_payload\":\"AA==\"}]}", 3, "f_port: missing");
    expect_reject("{\"downlinks\":[{\"f_port\":\"1\",\"frm_payload\":\"AA==\"}]}", 3, "f_port: must be an integer");
    expect_reject("{\"downlinks\":[{\"f_port\":1.5,\"frm_payload\":\"AA==\"}]}", 3, "f_port: must be an integer");
    expect_reject("{\"downlinks\":[{\"f_port\":0,\"frm_payload\":\"AA==\"}]}", 3, "f_port: 0 out of range 1..223");
    expect_reject("{\"downlinks\":[{\"f_port\":224,\"frm_payload\":\"AA==\"}]}", 3, "f_port: 224 out of range");
    expect_reject("{\"downlinks\":[{\"f_port\":-1,\"frm_payload\":\"AA==\"}]}", 3, "f_port: -1 out of range");
    expect_reject("{\"downlinks\":[{\"f_port\":99999999999,\"frm_payload\":\"AA==\"}]}", 3, "out of range");
    expect_reject("{\"downlinks\":[{\"f_port\":1,\"frm_payload\":12}]}", 3, "frm_payload: must be a base64 string");
    const char *badb64[] = {
        "A", "AA", "AA=", "AA=A", "A===", "====", "AB==", "AAB=", "AA==AA==", "AA A", "AA-_", "AA\\u0000A"};
    for (size_t i = 0; i < sizeof badb64 / sizeof badb64[0]; i++) {
        char j[128];
        snprintf(j, sizeof j, "{\"downlinks\":[{\"f_port\":1,\"frm_payload\":\"%s\"}]}", badb64[i]);
        expect_reject(j, 3, i == 11 ? "invalid JSON" : "frm_payload: invalid base64");
    }
    char big[512];
    int o = snprintf(big, sizeof big, "{\"downlinks\":[{\"f_port\":3,\"frm_payload\":\"");
    for (int i = 0; i < 324; i++) big[o++] = 'A'; /* 243 bytes */
    snprintf(big + o, sizeof big - (size_t)o, "\"}]}");
    expect_reject(big, 3, "frm_payload: longer than 242 bytes");
    expect_reject("{\"downlinks\":[{\"f_port\":1}]}", 3, "downlinks[0]: needs frm_payload or decoded_payload");
    expect_reject("{\"downlinks\":[{\"f_port\":1,\"decoded_payload\":[1]}]}", 3, "decoded_payload: must be an object");
    expect_reject("{\"downlinks\":[{\"f_port\":1,\"decoded_payload\":\"x\"}]}", 3,
                  "decoded_payload: must be an object");
    expect_reject("{\"downlinks\":[{\"f_port\":1,\"frm_payload\":\"\",\"confirmed\":1}]}", 3,
                  "confirmed: must be true or false");
    expect_reject("{\"downlinks\":[{\"f_port\":1,\"frm_payload\":\"\",\"confirmed\":\"true\"}]}", 3,
                  "confirmed: must be");
    expect_reject("{\"downlinks\":[{\"f_port\":1,\"frm_payload\":\"\",\"priority\":\"normal\"}]}", 3,
                  "priority: must be one of LOWEST");
    expect_reject("{\"downlinks\":[{\"f_port\":1,\"frm_payload\":\"\",\"priority\":7}]}", 3, "priority: must be");
    expect_reject("{\"downlinks\":[{\"f_port\":1,\"frm_payload\":\"\",\"priority\":-1}]}", 3, "priority: must be");
    expect_reject("{\"downlinks\":[{\"f_port\":1,\"frm_payload\":\"\",\"priority\":true}]}", 3, "priority: must be");
    expect_reject("{\"downlinks\":[{\"f_port\":1,\"frm_payload\":\"\",\"correlation_ids\":\"a\"}]}", 3,
                  "correlation_ids: must be an array of strings");
    expect_reject("{\"downlinks\":[{\"f_port\":1,\"frm_payload\":\"\",\"correlation_ids\":[\"a\",2]}]}", 3,
                  "downlinks[0].correlation_ids[1]: must be a string");
    /* a later element fails: earlier ones (with owned strings) are released (ASan would report a leak) */
    expect_reject("{\"downlinks\":[{\"f_port\":1,\"decoded_payload\":{\"a\":1},\"correlation_ids\":[\"x\"]},"
                  "{\"f_port\":1,\"decoded_payload\":{\"a\":1},\"correlation_ids\":[\"x\"]},{\"f_port\":0}]}",
                  3, "downlinks[2].f_port: 0 out of range");
    expect_reject("{\"downlinks\":[{\"f_port\":1,\"decoded_payload\":{\"a\":1},\"correlation_ids\":[5]}]}", 3,
                  "correlation_ids[0]: must be a string");
    /* NUL inside the input, and arguments */
    lw_as_downlink dl[1];
    size_t count = 5;
    char err[128] = "";
    assert_int_equal(lw_as_parse_downlinks("{\"downlinks\":[]}\0x", 18, dl, 1, &count, err, sizeof err), -1);
    assert_int_equal(lw_as_parse_downlinks(NULL, 0, dl, 1, &count, err, sizeof err), -1);
    assert_int_equal(count, 0);
    assert_int_equal(lw_as_parse_downlinks("{\"downlinks\":[]}", 16, dl, 1, NULL, err, sizeof err), -1);
    assert_int_equal(lw_as_parse_downlinks("x", 1, dl, 1, &count, NULL, 0), -1); /* no err buffer: no crash */
}

/* a downlink parsed from a push comes back out identically in the queued event */
static void test_parse_then_event(void **state) {
    (void)state;
    const char *in = "{\"downlinks\":[{\"f_port\":15,\"frm_payload\":\"vu8=\",\"confirmed\":true,\"priority\":\"HIGH\","
                     "\"correlation_ids\":[\"my-id\"]}]}";
    lw_as_downlink dl[1];
    assert_int_equal(parse_ok(in, dl, 1), 1);
    lw_as_ids ids = {.app_id = "a", .dev_id = "d"};
    buf_t b;
    buf_init(&b);
    assert_int_equal(lw_as_down_event_json(&ids, LW_DOWN_QUEUED, &dl[0], NULL, 0, &b), 0);
    char *s = to_str(&b);
    assert_string_equal(s,
                        "{\"end_device_ids\":{\"device_id\":\"d\",\"application_ids\":{\"application_id\":\"a\"}},"
                        "\"correlation_ids\":[\"my-id\"],\"downlink_queued\":{\"f_port\":15,\"frm_payload\":\"vu8=\","
                        "\"confirmed\":true,\"priority\":\"HIGH\",\"correlation_ids\":[\"my-id\"]}}");
    free(s);
    buf_free(&b);
    lw_as_downlink_clear(&dl[0]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uplink_three_gateways),
        cmocka_unit_test(test_uplink_exact),
        cmocka_unit_test(test_uplink_minimal_and_fsk),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_join_exact),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_gateway_time_snr_duration),
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_down_events),
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_parse_then_event),
        cmocka_unit_test(test_float_shortest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
