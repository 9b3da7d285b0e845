/* Unit tests for lorawan/formatter: Cayenne LPP uplink decode and TTS downlink encode/decode round
 * trips; JavaScript formatters through the sandbox worker with The Things Stack's semantics (the
 * documented decodeUplink example, warnings, errors[], exceptions with line numbers, syntax errors,
 * wrong result shapes, bytes/fPort validation, legacy Decoder/Encoder, decodeDownlink); the sandbox
 * limits (endless loop -> timeout and a respawned worker, memory bombs, a killed worker, output and
 * source size caps); the compiled-script cache and its LRU bound; and the call rate. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lorawan/formatter.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static lw_fmt_engine *engine(uint32_t timeout_ms, uint32_t mem, uint32_t max_scripts) {
    lw_fmt_limits l;
    lw_fmt_limits_default(&l);
    /* generous unless the test is about time: sanitizer builds on a loaded machine are slow */
    l.timeout_ms = timeout_ms ? timeout_ms : 2000;
    if (mem) l.memory_bytes = mem;
    if (max_scripts) l.max_scripts = max_scripts;
    char err[128] = "";
    lw_fmt_engine *e = lw_fmt_engine_new(&l, err, sizeof err);
    if (!e) fail_msg("engine: %s", err);
    return e;
}

static int up(lw_fmt_engine *e, const char *src, uint8_t fport, const uint8_t *b, size_t n, lw_fmt_result *r) {
    return lw_fmt_decode_uplink(e, LW_FMT_JS, src, fport, b, n, 1596380400000LL, r);
}

/* decode an uplink with src and expect rc; on success compare the data JSON */
static void expect_up(lw_fmt_engine *e, const char *src, const uint8_t *b, size_t n, int want_rc, const char *want) {
    lw_fmt_result r;
    int rc = up(e, src, 2, b, n, &r);
    if (rc != want_rc) fail_msg("rc %d (want %d): %s", rc, want_rc, r.error);
    if (rc == 0) {
        assert_non_null(r.json);
        assert_string_equal(r.json, want);
    } else {
        assert_null(r.json);
        if (want && !strstr(r.error, want)) fail_msg("error \"%s\" lacks \"%s\"", r.error, want);
        assert_null(strchr(r.error, '\n'));
    }
    lw_fmt_result_clear(&r);
}

static void expect_enc(lw_fmt_engine *e, const char *src, const char *data, uint8_t fport_in, int want_rc,
                       const char *want_err_or_hex, uint8_t want_fport) {
    lw_fmt_result r;
    int rc = lw_fmt_encode_downlink(e, LW_FMT_JS, src, data, fport_in, &r);
    if (rc != want_rc) fail_msg("rc %d (want %d): %s", rc, want_rc, r.error);
    if (rc == 0) {
        char hex[600] = "";
        for (size_t i = 0; i < r.n_bytes; i++) sprintf(hex + 2 * i, "%02X", r.bytes[i]);
        assert_string_equal(hex, want_err_or_hex);
        assert_int_equal(r.fport, want_fport);
    } else if (!strstr(r.error, want_err_or_hex)) {
        fail_msg("error \"%s\" lacks \"%s\"", r.error, want_err_or_hex);
    }
    lw_fmt_result_clear(&r);
}

/* ---- none and Cayenne LPP ---- */

static void test_none(void **state) {
    (void)state;
    lw_fmt_engine *e = engine(0, 0, 0);
    lw_fmt_result r;
    uint8_t b[2] = {1, 2};
    assert_int_equal(lw_fmt_decode_uplink(e, LW_FMT_NONE, NULL, 1, b, 2, 0, &r), LW_FMT_ERR_NONE_SET);
    assert_null(r.json);
    lw_fmt_result_clear(&r);
    assert_int_equal(lw_fmt_encode_downlink(e, LW_FMT_NONE, NULL, "{}", 1, &r), LW_FMT_ERR_NONE_SET);
    assert_true(r.error[0] != 0);
    lw_fmt_result_clear(&r);
    lw_fmt_engine_free(e);
}

static void test_lpp_uplink(void **state) {
    (void)state;
    lw_fmt_engine *e = engine(0, 0, 0);
    lw_fmt_result r;
    /* the Cayenne LPP documentation's two temperature sensors */
    const uint8_t p[] = {0x03, 0x67, 0x01, 0x10, 0x05, 0x67, 0x00, 0xFF};
    assert_int_equal(lw_fmt_decode_uplink(e, LW_FMT_LPP, NULL, 1, p, sizeof p, 0, &r), 0);
    assert_string_equal(r.json, "{\"temperature_3\":27.2,\"temperature_5\":25.5}");
    assert_null(r.warnings_json);
    lw_fmt_result_clear(&r);
    const uint8_t bad[] = {0x03, 0x67, 0x01};
    assert_int_equal(lw_fmt_decode_uplink(e, LW_FMT_LPP, NULL, 1, bad, sizeof bad, 0, &r), LW_FMT_ERR_INPUT);
    assert_non_null(strstr(r.error, "cayennelpp"));
    assert_null(r.json);
    lw_fmt_result_clear(&r);
    /* a large payload (GPS items) decodes whole: the output buffer grows */
    uint8_t big[242];
    size_t n = 0;
    for (int ch = 0; n + 11 <= sizeof big; ch++) {
        const uint8_t gps[11] = {(uint8_t)ch, 0x88, 0x06, 0x76, 0x5f, 0xf2, 0x96, 0x0a, 0x00, 0x03, 0xe8};
        memcpy(big + n, gps, 11);
        n += 11;
    }
    assert_int_equal(lw_fmt_decode_uplink(e, LW_FMT_LPP, NULL, 1, big, n, 0, &r), 0);
    assert_non_null(strstr(r.json, "\"gps_21\":{\"altitude\":10,\"latitude\":42.3519,\"longitude\":-87.9094}"));
    lw_fmt_result_clear(&r);
    assert_int_equal(lw_fmt_stats_get(e)->calls, 3);
    assert_int_equal(lw_fmt_stats_get(e)->errors, 1);
    lw_fmt_engine_free(e);
}

static void test_lpp_downlink_round_trip(void **state) {
    (void)state;
    lw_fmt_engine *e = engine(0, 0, 0);
    lw_fmt_result r;
    assert_int_equal(lw_fmt_encode_downlink(e, LW_FMT_LPP, NULL, "{\"value_2\": -1.5, \"value_1\": 12.34}", 0, &r), 0);
    const uint8_t want[] = {0x01, 0x04, 0xD2, 0x02, 0xFF, 0x6A};
    assert_int_equal(r.n_bytes, sizeof want);
    assert_memory_equal(r.bytes, want, sizeof want);
    assert_int_equal(r.fport, 1);
    uint8_t bytes[256];
    size_t n = r.n_bytes;
    memcpy(bytes, r.bytes, n);
    lw_fmt_result_clear(&r);
    assert_int_equal(lw_fmt_decode_downlink(e, LW_FMT_LPP, NULL, 1, bytes, n, &r), 0);
    assert_string_equal(r.json, "{\"value_1\":12.34,\"value_2\":-1.5}");
    char json[256];
    snprintf(json, sizeof json, "%s", r.json);
    lw_fmt_result_clear(&r);
    assert_int_equal(lw_fmt_encode_downlink(e, LW_FMT_LPP, NULL, json, 9, &r), 0);
    assert_int_equal(r.n_bytes, n);
    assert_memory_equal(r.bytes, bytes, n);
    assert_int_equal(r.fport, 9);
    lw_fmt_result_clear(&r);

    static const char *bad[][2] = {
        {"{\"foo\": 1}", "unsupported key \"foo\""},
        {"{\"value_x\": 1}", "unsupported key"},
        {"{\"value_300\": 1}", "unsupported key"},
        {"{\"value_255\": 1}", "unsupported key"},
        {"{\"value_1\": \"7\"}", "not a number"},
        {"{\"value_1\": 1000}", "out of range"},
        {"{\"value_1\": 1, \"value_01\": 2}", "twice"},
        {"{\"value_1\": 1, \"value_1\": 2}", "invalid JSON"},
        {"[1,2]", "must be a JSON object"},
        {"{\"value_1\": ", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = lw_fmt_encode_downlink(e, LW_FMT_LPP, NULL, bad[i][0], 1, &r);
        if (rc != LW_FMT_ERR_INPUT || !strstr(r.error, bad[i][1]))
            fail_msg("%s: rc %d error \"%s\" (want \"%s\")", bad[i][0], rc, r.error, bad[i][1]);
        assert_int_equal(r.n_bytes, 0);
        lw_fmt_result_clear(&r);
    }
    /* more values than a FRMPayload holds */
    char many[4096];
    size_t o = (size_t)snprintf(many, sizeof many, "{");
    for (int ch = 0; ch < 100; ch++) o += (size_t)snprintf(many + o, sizeof many - o, "%s\"value_%d\":1", ch ? "," : "", ch);
    snprintf(many + o, sizeof many - o, "}");
    assert_int_equal(lw_fmt_encode_downlink(e, LW_FMT_LPP, NULL, many, 1, &r), LW_FMT_ERR_INPUT);
    assert_non_null(strstr(r.error, "longer than 242"));
    lw_fmt_result_clear(&r);
    /* LPP never starts the worker */
    assert_int_equal(lw_fmt_stats_get(e)->worker_restarts, 0);
    assert_int_equal(lw_fmt_stats_get(e)->compiles, 0);
    lw_fmt_engine_free(e);
}

/* ---- JavaScript ---- */

/* The Things Stack documentation's decodeUplink example */
static const char TTS_EXAMPLE[] = "function decodeUplink(input) {\n"
                                  "  var data = {};\n"
                                  "  var events = {\n"
                                  "    1: 'setup',\n"
                                  "    2: 'interval',\n"
                                  "    3: 'motion',\n"
                                  "    4: 'button'\n"
                                  "  };\n"
                                  "  data.event = events[input.fPort];\n"
                                  "  data.battery = (input.bytes[0] << 8) + input.bytes[1];\n"
                                  "  data.light = (input.bytes[2] << 8) + input.bytes[3];\n"
                                  "  if (input.bytes[4] > 127) {\n"
                                  "    data.temperature = ((input.bytes[4] << 8) + input.bytes[5] - 65536) / 100;\n"
                                  "  } else {\n"
                                  "    data.temperature = ((input.bytes[4] << 8) + input.bytes[5]) / 100;\n"
                                  "  }\n"
                                  "  var warnings = [];\n"
                                  "  if (data.temperature < -10) {\n"
                                  "    warnings.push(\"it's cold\");\n"
                                  "  }\n"
                                  "  return {\n"
                                  "    data: data,\n"
                                  "    warnings: warnings\n"
                                  "  };\n"
                                  "}\n";

static void test_js_tts_example(void **state) {
    (void)state;
    lw_fmt_engine *e = engine(0, 0, 0);
    lw_fmt_result r;
    const uint8_t cold[] = {0x0C, 0xB2, 0x04, 0x80, 0xF7, 0xAE};
    assert_int_equal(up(e, TTS_EXAMPLE, 2, cold, sizeof cold, &r), 0);
    assert_string_equal(r.json, "{\"event\":\"interval\",\"battery\":3250,\"light\":1152,\"temperature\":-21.3}");
    assert_non_null(r.warnings_json);
    assert_string_equal(r.warnings_json, "[\"it's cold\"]");
    lw_fmt_result_clear(&r);
    const uint8_t warm[] = {0x0C, 0xB2, 0x04, 0x80, 0x08, 0x34};
    assert_int_equal(up(e, TTS_EXAMPLE, 4, warm, sizeof warm, &r), 0);
    assert_string_equal(r.json, "{\"event\":\"button\",\"battery\":3250,\"light\":1152,\"temperature\":21}");
    assert_null(r.warnings_json); /* empty warnings: none */
    lw_fmt_result_clear(&r);
    /* input shape: bytes is a real array, recvTime a Date */
    expect_up(e,
              "function decodeUplink(i) { return { data: { n: i.bytes.length, arr: Array.isArray(i.bytes),"
              " t: i.recvTime.getTime(), iso: i.recvTime.toISOString(), p: i.fPort } }; }",
              cold, 2, 0, "{\"n\":2,\"arr\":true,\"t\":1596380400000,\"iso\":\"2020-08-02T15:00:00.000Z\",\"p\":2}");
    /* an empty payload */
    expect_up(e, "function decodeUplink(i) { return { data: { n: i.bytes.length } }; }", NULL, 0, 0, "{\"n\":0}");
    lw_fmt_engine_free(e);
}

static void test_js_errors(void **state) {
    (void)state;
    lw_fmt_engine *e = engine(0, 0, 0);
    uint8_t b[3] = {1, 2, 3};
    expect_up(e, "function decodeUplink(i) { return { data: {}, errors: ['bad length', 'unknown port'] }; }", b, 3,
              LW_FMT_ERR_SCRIPT, "decodeUplink: errors: bad length, unknown port");
    /* an empty errors array is no failure */
    expect_up(e, "function decodeUplink(i) { return { data: {a: 1}, errors: [] }; }", b, 3, 0, "{\"a\":1}");
    expect_up(e, "function decodeUplink(input) {\n  var x = 1;\n  throw new Error('boom');\n}\n", b, 3,
              LW_FMT_ERR_SCRIPT, "Error: boom (line 3)");
    expect_up(e, "function decodeUplink(input) { return input.nothing.deeper; }", b, 3, LW_FMT_ERR_SCRIPT,
              "TypeError");
    expect_up(e, "function decodeUplink(input) { throw 'plain string'; }", b, 3, LW_FMT_ERR_SCRIPT, "plain string");
    expect_up(e, "function decodeUplink(input) { return {data: {}; }", b, 3, LW_FMT_ERR_SCRIPT, "compile: SyntaxError");
    expect_up(e, "throw new Error('at load');", b, 3, LW_FMT_ERR_SCRIPT, "at load");
    expect_up(e, "function f() {}", b, 3, LW_FMT_ERR_SCRIPT, "no decodeUplink or Decoder function");
    expect_up(e, "", b, 3, LW_FMT_ERR_SCRIPT, "no decodeUplink or Decoder function");
    /* unbounded recursion (not a tail call, which Duktape runs as a loop) */
    expect_up(e, "function decodeUplink(i) { return 1 + decodeUplink(i); }", b, 3, LW_FMT_ERR_SCRIPT, "RangeError");
    /* a syntax error is cached too: the second call does not recompile */
    uint64_t c0 = lw_fmt_stats_get(e)->compiles;
    expect_up(e, "function decodeUplink(input) { return {data: {}; }", b, 3, LW_FMT_ERR_SCRIPT, "SyntaxError");
    assert_int_equal(lw_fmt_stats_get(e)->compiles, c0);
    lw_fmt_engine_free(e);
}

static void test_js_output_shapes(void **state) {
    (void)state;
    lw_fmt_engine *e = engine(0, 0, 0);
    uint8_t b[1] = {7};
    expect_up(e, "function decodeUplink(i) { return 42; }", b, 1, LW_FMT_ERR_OUTPUT, "must be an object");
    expect_up(e, "function decodeUplink(i) { }", b, 1, LW_FMT_ERR_OUTPUT, "must be an object");
    expect_up(e, "function decodeUplink(i) { return { data: 5 }; }", b, 1, LW_FMT_ERR_OUTPUT,
              "data must be an object, not number");
    expect_up(e, "function decodeUplink(i) { return { data: [1, 2] }; }", b, 1, LW_FMT_ERR_OUTPUT, "an array");
    expect_up(e, "function decodeUplink(i) { return { data: null }; }", b, 1, LW_FMT_ERR_OUTPUT, "null");
    expect_up(e, "function decodeUplink(i) { return { warnings: [] }; }", b, 1, LW_FMT_ERR_OUTPUT, "no data");
    expect_up(e, "function decodeUplink(i) { return { data: { x: 0 / 0 } }; }", b, 1, LW_FMT_ERR_OUTPUT,
              "NaN is not a valid JSON number (key \"x\")");
    expect_up(e, "function decodeUplink(i) { return { data: { y: [1, 1 / 0] } }; }", b, 1, LW_FMT_ERR_OUTPUT,
              "Infinity");
    expect_up(e, "function decodeUplink(i) { var d = {}; d.me = d; return { data: d }; }", b, 1, LW_FMT_ERR_OUTPUT,
              "data:");
    expect_up(e, "function decodeUplink(i) { return { data: {}, warnings: [1] }; }", b, 1, LW_FMT_ERR_OUTPUT,
              "warnings[0] is not a string");
    expect_up(e, "function decodeUplink(i) { return { data: {}, warnings: 'w' }; }", b, 1, LW_FMT_ERR_OUTPUT,
              "warnings must be an array");
    /* undefined members and functions are dropped as JSON.stringify does; dates become strings */
    expect_up(e, "function decodeUplink(i) { return { data: { u: undefined, f: function () {}, d: new Date(0) } }; }", b,
              1, 0, "{\"d\":\"1970-01-01T00:00:00.000Z\"}");
    /* the output cap */
    expect_up(e, "function decodeUplink(i) { var s = 'x'; while (s.length < 70000) s += s; return { data: { s: s } }; }",
              b, 1, LW_FMT_ERR_OUTPUT, "more than 65536");
    /* globals the script clobbers do not break the glue */
    expect_up(e, "JSON = null; Array.isArray = null; String = null; function decodeUplink(i) { return { data: { a: 1 } }; }",
              b, 1, 0, "{\"a\":1}");
    lw_fmt_engine_free(e);
}

static void test_js_encode(void **state) {
    (void)state;
    lw_fmt_engine *e = engine(0, 0, 0);
    const char *enc = "function encodeDownlink(input) {\n"
                      "  return { bytes: [input.data.on ? 1 : 0, input.data.level], fPort: input.data.port,\n"
                      "           warnings: input.data.level > 200 ? ['loud'] : [] };\n"
                      "}\n";
    expect_enc(e, enc, "{\"on\": true, \"level\": 10, \"port\": 4}", 0, 0, "010A", 4);
    expect_enc(e, enc, "{\"on\": false, \"level\": 255}", 7, 0, "00FF", 7); /* no fPort: the request's */
    expect_enc(e, enc, "{\"on\": false, \"level\": 255}", 0, 0, "00FF", 1); /* neither: 1 */
    expect_enc(e, enc, "{\"on\": true, \"level\": 256}", 1, LW_FMT_ERR_OUTPUT, "bytes[1] = 256 is not an integer in 0..255", 0);
    expect_enc(e, enc, "{\"on\": true, \"level\": -1}", 1, LW_FMT_ERR_OUTPUT, "bytes[1] = -1", 0);
    expect_enc(e, enc, "{\"on\": true, \"level\": 1.5}", 1, LW_FMT_ERR_OUTPUT, "bytes[1] = 1.5", 0);
    expect_enc(e, enc, "{\"on\": true, \"level\": \"3\"}", 1, LW_FMT_ERR_OUTPUT, "bytes[1]", 0);
    expect_enc(e, enc, "{\"on\": true, \"level\": 1, \"port\": 0}", 1, LW_FMT_ERR_OUTPUT, "fPort 0 is not in 1..223", 0);
    expect_enc(e, enc, "{\"on\": true, \"level\": 1, \"port\": 300}", 1, LW_FMT_ERR_OUTPUT, "fPort 300", 0);
    expect_enc(e, enc, "{\"on\": true, \"level\": 1, \"port\": 224}", 1, LW_FMT_ERR_OUTPUT, "fPort 224", 0);
    expect_enc(e, enc, "{\"on\": true, \"level\": 1, \"port\": 223}", 1, 0, "0101", 223);
    expect_enc(e, enc, "not json", 1, LW_FMT_ERR_INPUT, "data:", 0);
    expect_enc(e, enc, "[1]", 1, LW_FMT_ERR_INPUT, "data must be a JSON object", 0);
    lw_fmt_result r;
    assert_int_equal(lw_fmt_encode_downlink(e, LW_FMT_JS, enc, "{\"on\":1,\"level\":201}", 3, &r), 0);
    assert_string_equal(r.warnings_json, "[\"loud\"]");
    lw_fmt_result_clear(&r);
    expect_enc(e, "function encodeDownlink(i) { return { bytes: 'abc' }; }", "{}", 1, LW_FMT_ERR_OUTPUT,
               "bytes must be an array", 0);
    expect_enc(e, "function encodeDownlink(i) { var b = []; for (var k = 0; k < 243; k++) b.push(0); return { bytes: b }; }",
               "{}", 1, LW_FMT_ERR_OUTPUT, "more than 242", 0);
    expect_enc(e, "function encodeDownlink(i) { return { bytes: [], errors: ['no such command'] }; }", "{}", 1,
               LW_FMT_ERR_SCRIPT, "encodeDownlink: errors: no such command", 0);
    expect_enc(e, "function encodeDownlink(i) { return { bytes: [], fPort: i.fPort + 1 }; }", "{}", 5, 0, "", 6);
    expect_enc(e, "function decodeUplink(i) { return {data:{}}; }", "{}", 1, LW_FMT_ERR_SCRIPT,
               "no encodeDownlink or Encoder function", 0);
    lw_fmt_engine_free(e);
}

static void test_js_decode_downlink(void **state) {
    (void)state;
    lw_fmt_engine *e = engine(0, 0, 0);
    lw_fmt_result r;
    const char *src = "function decodeDownlink(input) { return { data: { on: input.bytes[0] === 1, port: input.fPort },"
                      " warnings: [] }; }";
    const uint8_t b[] = {1, 10};
    assert_int_equal(lw_fmt_decode_downlink(e, LW_FMT_JS, src, 4, b, 2, &r), 0);
    assert_string_equal(r.json, "{\"on\":true,\"port\":4}");
    lw_fmt_result_clear(&r);
    assert_int_equal(lw_fmt_decode_downlink(e, LW_FMT_JS, TTS_EXAMPLE, 4, b, 2, &r), LW_FMT_ERR_SCRIPT);
    assert_non_null(strstr(r.error, "no decodeDownlink function"));
    lw_fmt_result_clear(&r);
    lw_fmt_engine_free(e);
}

static void test_js_legacy(void **state) {
    (void)state;
    lw_fmt_engine *e = engine(0, 0, 0);
    const char *v2 = "function Decoder(bytes, port) { return { led: bytes[0], port: port, n: bytes.length }; }\n"
                     "function Encoder(object, port) { return [object.led ? 1 : 0, port]; }\n";
    const uint8_t b[] = {1, 2, 3};
    expect_up(e, v2, b, 3, 0, "{\"led\":1,\"port\":2,\"n\":3}");
    expect_enc(e, v2, "{\"led\": true}", 9, 0, "0109", 9);
    expect_up(e, "function Decoder(bytes, port) { return 3; }", b, 3, LW_FMT_ERR_OUTPUT, "data must be an object");
    expect_up(e, "function Decoder(bytes, port) { }", b, 3, LW_FMT_ERR_OUTPUT, "no data");
    expect_enc(e, "function Encoder(o, p) { return [1, 999]; }", "{}", 1, LW_FMT_ERR_OUTPUT, "Encoder: bytes[1] = 999", 0);
    /* decodeUplink wins over Decoder */
    expect_up(e, "function Decoder(b) { return { v: 2 }; } function decodeUplink(i) { return { data: { v: 3 } }; }", b, 3,
              0, "{\"v\":3}");
    lw_fmt_engine_free(e);
}

/* ---- sandbox limits ---- */

static void test_js_timeout(void **state) {
    (void)state;
    /* 300 ms rather than the default 100: a fresh worker's first call (compile, copy-on-write
     * faults) is slow under sanitizers on a loaded machine */
    lw_fmt_engine *e = engine(300, 0, 0);
    lw_fmt_result r;
    uint8_t b[1] = {1};
    /* warm the worker so the fork is not in the measured call */
    expect_up(e, "function decodeUplink(i) { return { data: {} }; }", b, 1, 0, "{}");
    double t0 = now_s();
    int rc = up(e, "function decodeUplink(i) { while (true) {} }", 1, b, 1, &r);
    double dt = now_s() - t0;
    assert_int_equal(rc, LW_FMT_ERR_TIMEOUT);
    assert_string_equal(r.error, "timeout after 300 ms");
    lw_fmt_result_clear(&r);
    printf("# endless loop stopped after %.0f ms\n", dt * 1000);
    assert_true(dt >= 0.295 && dt < 5.0); /* stopped at the limit, not hung (no tighter timing) */
    assert_int_equal(lw_fmt_stats_get(e)->timeouts, 1);
    /* the next call works again on a fresh worker */
    expect_up(e, "function decodeUplink(i) { return { data: { ok: i.bytes[0] } }; }", b, 1, 0, "{\"ok\":1}");
    assert_int_equal(lw_fmt_stats_get(e)->worker_restarts, 1);
    /* an endless loop at load time */
    t0 = now_s();
    assert_int_equal(up(e, "for (;;) {}", 1, b, 1, &r), LW_FMT_ERR_TIMEOUT);
    assert_true(now_s() - t0 < 5.0);
    lw_fmt_result_clear(&r);
    expect_up(e, "function decodeUplink(i) { return { data: { ok: 2 } }; }", b, 1, 0, "{\"ok\":2}");
    assert_int_equal(lw_fmt_stats_get(e)->worker_restarts, 2);
    lw_fmt_engine_free(e);
}

static void test_js_memory(void **state) {
    (void)state;
    lw_fmt_engine *e = engine(2000, 4u * 1024u * 1024u, 0);
    uint8_t b[1] = {1};
    static const char *bombs[] = {
        "function decodeUplink(i) { var s = 'ab'; while (true) s = s + s; }",
        "function decodeUplink(i) { var a = []; while (true) a.push({ x: a.length, y: 'yy' + a.length }); }",
        "var keep = []; function decodeUplink(i) { while (true) keep.push(new Array(1000).join('x') + keep.length); }",
        "function decodeUplink(i) { return { data: { big: new Array(1e9).join('z') } }; }",
        "var s = 'x'; while (true) s += s;",
    };
    for (size_t k = 0; k < sizeof bombs / sizeof bombs[0]; k++) {
        lw_fmt_result r;
        int rc = up(e, bombs[k], 1, b, 1, &r);
        if (rc != LW_FMT_ERR_MEMORY && rc != LW_FMT_ERR_TIMEOUT) fail_msg("bomb %zu: rc %d: %s", k, rc, r.error);
        printf("# memory bomb %zu: %s\n", k, r.error);
        assert_null(r.json);
        lw_fmt_result_clear(&r);
        /* the engine stays usable */
        expect_up(e, "function decodeUplink(i) { return { data: { after: 1 } }; }", b, 1, 0, "{\"after\":1}");
    }
    assert_true(lw_fmt_stats_get(e)->memory_errors >= 1);
    /* a script caught its RangeError: still a memory error */
    expect_up(e, "function decodeUplink(i) { try { var s = 'ab'; while (true) s = s + s; } catch (x) {} return { data: {} }; }",
              b, 1, LW_FMT_ERR_MEMORY, "memory limit");
    lw_fmt_engine_free(e);
}

/* the worker is a child of this process; find it through /proc and kill it */
static int kill_children(void) {
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    int killed = 0;
    for (char *p = buf, *end; *p; p = end) {
        long pid = strtol(p, &end, 10);
        if (end == p) break;
        if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0) killed++;
    }
    return killed;
}

static void test_js_worker_killed(void **state) {
    (void)state;
    lw_fmt_engine *e = engine(0, 0, 0);
    uint8_t b[1] = {1};
    const char *src = "function decodeUplink(i) { return { data: { v: i.bytes[0] } }; }";
    expect_up(e, src, b, 1, 0, "{\"v\":1}");
    int k = kill_children();
    if (k <= 0) {
        lw_fmt_engine_free(e);
        skip();
    }
    usleep(20000);
    lw_fmt_result r;
    int rc = up(e, src, 1, b, 1, &r);
    assert_int_equal(rc, LW_FMT_ERR_WORKER);
    lw_fmt_result_clear(&r);
    expect_up(e, src, b, 1, 0, "{\"v\":1}");
    assert_int_equal(lw_fmt_stats_get(e)->worker_restarts, 1);
    lw_fmt_engine_free(e);
}

static void test_js_cache(void **state) {
    (void)state;
    lw_fmt_engine *e = engine(0, 0, 2);
    uint8_t b[1] = {5};
    const char *a = "function decodeUplink(i) { return { data: { a: i.bytes[0] } }; }";
    const char *bsrc = "function decodeUplink(i) { return { data: { b: i.bytes[0] } }; }";
    const char *c = "function decodeUplink(i) { return { data: { c: i.bytes[0] } }; }";
    for (int i = 0; i < 10; i++) expect_up(e, a, b, 1, 0, "{\"a\":5}");
    assert_int_equal(lw_fmt_stats_get(e)->compiles, 1);
    expect_up(e, bsrc, b, 1, 0, "{\"b\":5}");
    expect_up(e, a, b, 1, 0, "{\"a\":5}");
    assert_int_equal(lw_fmt_stats_get(e)->compiles, 2);
    /* a third script evicts the least recently used (bsrc); a stays */
    expect_up(e, c, b, 1, 0, "{\"c\":5}");
    expect_up(e, a, b, 1, 0, "{\"a\":5}");
    assert_int_equal(lw_fmt_stats_get(e)->compiles, 3);
    expect_up(e, bsrc, b, 1, 0, "{\"b\":5}");
    assert_int_equal(lw_fmt_stats_get(e)->compiles, 4);
    /* a copy of the same text at another address is the same script */
    char copy[256];
    snprintf(copy, sizeof copy, "%s", bsrc);
    expect_up(e, copy, b, 1, 0, "{\"b\":5}");
    assert_int_equal(lw_fmt_stats_get(e)->compiles, 4);
    lw_fmt_engine_free(e);
}

static void test_limits(void **state) {
    (void)state;
    lw_fmt_limits l;
    lw_fmt_limits_default(&l);
    assert_int_equal(l.timeout_ms, 100);
    assert_int_equal(l.memory_bytes, 16u * 1024u * 1024u);
    assert_int_equal(l.max_scripts, 256);
    assert_int_equal(l.max_src_bytes, 256u * 1024u);
    char err[128] = "";
    l.timeout_ms = 0;
    assert_null(lw_fmt_engine_new(&l, err, sizeof err));
    assert_non_null(strstr(err, "timeout"));
    lw_fmt_limits_default(&l);
    l.max_src_bytes = 100;
    lw_fmt_engine *e = lw_fmt_engine_new(&l, err, sizeof err);
    assert_non_null(e);
    char src[200];
    memset(src, ' ', sizeof src - 1);
    src[sizeof src - 1] = 0;
    lw_fmt_result r;
    assert_int_equal(up(e, src, 1, NULL, 0, &r), LW_FMT_ERR_INPUT);
    assert_non_null(strstr(r.error, "larger than 100 bytes"));
    lw_fmt_result_clear(&r);
    assert_int_equal(up(e, NULL, 1, NULL, 0, &r), LW_FMT_ERR_INPUT);
    lw_fmt_result_clear(&r);
    lw_fmt_engine_free(e);
}

static void test_js_rate(void **state) {
    (void)state;
    lw_fmt_engine *e = engine(0, 0, 0);
    const uint8_t p[] = {0x0C, 0xB2, 0x04, 0x80, 0xF7, 0xAE};
    lw_fmt_result r;
    assert_int_equal(up(e, TTS_EXAMPLE, 2, p, sizeof p, &r), 0);
    lw_fmt_result_clear(&r);
    double t0 = now_s();
    for (int i = 0; i < 1000; i++) {
        int rc = up(e, TTS_EXAMPLE, 2, p, sizeof p, &r);
        if (rc != 0) fail_msg("call %d: %s", i, r.error);
        lw_fmt_result_clear(&r);
    }
    double dt = now_s() - t0;
    printf("# 1000 decodeUplink calls in %.3f s (%.0f calls/s)\n", dt, 1000 / dt);
    assert_int_equal(lw_fmt_stats_get(e)->compiles, 1);
    assert_int_equal(lw_fmt_stats_get(e)->calls, 1001);
    assert_int_equal(lw_fmt_stats_get(e)->errors, 0);
    lw_fmt_engine_free(e);
}


/* a script that keeps timing out is disabled for a minute: callers stop paying the time limit */
static void test_js_repeated_timeouts_disable(void **state) {
    (void)state;
    lw_fmt_engine *e = engine(100, 0, 0);
    lw_fmt_result r;
    uint8_t b[1] = {1};
    const char *loop = "function decodeUplink(i) { while (true) {} }";
    for (int k = 0; k < 3; k++) {
        assert_int_equal(up(e, loop, 1, b, 1, &r), LW_FMT_ERR_TIMEOUT);
        assert_string_equal(r.error, "timeout after 100 ms");
        lw_fmt_result_clear(&r);
    }
    uint64_t restarts = lw_fmt_stats_get(e)->worker_restarts;
    assert_int_equal(up(e, loop, 1, b, 1, &r), LW_FMT_ERR_TIMEOUT);
    assert_string_equal(r.error, "formatter disabled for a minute after repeated timeouts");
    lw_fmt_result_clear(&r);
    /* answered without the worker: no new restart */
    assert_int_equal(lw_fmt_stats_get(e)->worker_restarts, restarts);
    /* other scripts are not affected */
    expect_up(e, "function decodeUplink(i) { return { data: { ok: 3 } }; }", b, 1, 0, "{\"ok\":3}");
    lw_fmt_engine_free(e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_lpp_uplink),
        cmocka_unit_test(test_lpp_downlink_round_trip),
        cmocka_unit_test(test_js_tts_example),
        cmocka_unit_test(test_js_errors),
        cmocka_unit_test(test_js_output_shapes),
        cmocka_unit_test(test_js_encode),
        cmocka_unit_test(test_js_decode_downlink),
        cmocka_unit_test(test_js_legacy),
        cmocka_unit_test(test_js_timeout),
        cmocka_unit_test(test_js_repeated_timeouts_disable),
        cmocka_unit_test(test_js_memory),
        cmocka_unit_test(test_js_worker_killed),
        cmocka_unit_test(test_js_cache),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_js_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
