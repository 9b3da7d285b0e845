/* Unit tests for tsdb/json_points: Telegraf's documented json parser examples reproduced exactly
 * (plugins/parsers/json/README.md: basic, name/tags/string fields, arrays with a Go time layout,
 * json_query), flattening of objects and arrays, string/bool handling with globs, tag_keys on numbers,
 * bools and nested keys, every json_time_format, name_override, the topic tag, topic_parsing (the
 * Telegraf docs' "sensors/+/+/temperature" example), hostile JSON (deep nesting, huge arrays,
 * too many points, long keys, output limit: clear errors, nothing appended), and the LoRaWAN uplink
 * mapping on uplink JSON built by src/lorawan/as_json.c and on the exact text of docs/lorawan-mqtt.md's
 * shape. Every output is checked as line protocol text and re-parsed with tsdb/lineproto. */
#include "base/buf.h"
#include "lorawan/as_json.h"
#include "tsdb/json_points.h"
#include "tsdb/lineproto.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define NOW 1700000000123456789LL /* 2023-11-14T22:13:20.123456789Z */

static char g_out[1 << 16];
static char g_err[256];
static size_t g_np;

/* every line must parse back with the line protocol parser, with the same field count */
static void reparse(const char *lp, size_t len) {
    tsdb_lp_opts o;
    tsdb_lp_opts_default(&o);
    o.max_fields = 100000; /* the hostile tests raise our own limit past the parser's default */
    size_t alen = tsdb_lp_arena_size(&o);
    void *arena = malloc(alen);
    assert_non_null(arena);
    char eb[512];
    tsdb_lp_result res;
    long bad = tsdb_lp_parse_all(lp, len, &o, arena, alen, NULL, NULL, &res, eb, sizeof eb);
    if (bad != 0) fail_msg("re-parse failed: %s\n%s", eb, lp);
    free(arena);
}

static int run(const tsdb_jp_config *c, const char *topic, const char *json) {
    buf_t b;
    buf_init(&b);
    buf_append(&b, "X", 1); /* output is appended */
    int rc = tsdb_jp_to_lp(c, topic, json, strlen(json), NOW, &b, &g_np, g_err, sizeof g_err);
    assert_true(b.len >= 1 && b.data[0] == 'X');
    if (rc) assert_int_equal(b.len, 1); /* nothing appended on error */
    assert_true(b.len - 1 < sizeof g_out);
    memcpy(g_out, b.data + 1, b.len - 1);
    g_out[b.len - 1] = 0;
    if (!rc) reparse(g_out, b.len - 1);
    buf_free(&b);
    return rc;
}

static void expect(const tsdb_jp_config *c, const char *topic, const char *json, const char *want) {
    if (run(c, topic, json)) fail_msg("unexpected error: %s", g_err);
    assert_string_equal(g_out, want);
}

static void expect_err(const tsdb_jp_config *c, const char *topic, const char *json, const char *msg_part) {
    assert_int_equal(run(c, topic, json), -1);
    assert_int_equal(g_np, 0);
    if (!strstr(g_err, msg_part)) fail_msg("error \"%s\" lacks \"%s\"", g_err, msg_part);
}

/* ---- Telegraf README examples ---- */

static void test_readme_basic(void **state) {
    (void)state;
    tsdb_jp_config c;
    tsdb_jp_config_default(&c);
    c.name_override = "myjsonmetric";
    expect(&c, NULL, "{\n    \"a\": 5,\n    \"b\": {\n        \"c\": 6\n    },\n    \"ignored\": \"I'm a string\"\n}\n",
           "myjsonmetric a=5,b_c=6 1700000000123456789\n");
    assert_int_equal(g_np, 1);
}

static void test_readme_name_tags_strings(void **state) {
    (void)state;
    tsdb_jp_config c;
    tsdb_jp_config_default(&c);
    static const char *const tags[] = {"my_tag_1"};
    static const char *const strs[] = {"b_my_field"};
    c.name_key = "name";
    c.tag_keys = tags;
    c.n_tag_keys = 1;
    c.string_fields = strs;
    c.n_string_fields = 1;
    expect(&c, NULL,
           "{\"a\": 5, \"b\": {\"c\": 6, \"my_field\": \"description\"}, \"my_tag_1\": \"foo\", \"name\": \"my_json\"}",
           "my_json,my_tag_1=foo a=5,b_c=6,b_my_field=\"description\" 1700000000123456789\n");
}

static void test_readme_arrays_time_layout(void **state) {
    (void)state;
    tsdb_jp_config c;
    tsdb_jp_config_default(&c);
    c.measurement = "file";
    c.time_key = "b_time";
    c.time_format = "02 Jan 06 15:04 MST";
    expect(&c, NULL,
           "[{\"a\": 5, \"b\": {\"c\": 6, \"time\":\"04 Jan 06 15:04 MST\"}},"
           " {\"a\": 7, \"b\": {\"c\": 8, \"time\":\"11 Jan 07 15:04 MST\"}}]",
           "file a=5,b_c=6 1136387040000000000\nfile a=7,b_c=8 1168527840000000000\n");
    assert_int_equal(g_np, 2);
}

static void test_readme_query(void **state) {
    (void)state;
    tsdb_jp_config c;
    tsdb_jp_config_default(&c);
    static const char *const tags[] = {"first"};
    static const char *const strs[] = {"last"};
    c.measurement = "file";
    c.tag_keys = tags;
    c.n_tag_keys = 1;
    c.string_fields = strs;
    c.n_string_fields = 1;
    c.query = "obj.friends";
    const char *in = "{\"obj\": {\"name\": {\"first\": \"Tom\", \"last\": \"Anderson\"}, \"age\":37,"
                     " \"children\": [\"Sara\",\"Alex\",\"Jack\"], \"fav.movie\": \"Deer Hunter\","
                     " \"friends\": [{\"first\": \"Dale\", \"last\": \"Murphy\", \"age\": 44},"
                     " {\"first\": \"Roger\", \"last\": \"Craig\", \"age\": 68},"
                     " {\"first\": \"Jane\", \"last\": \"Murphy\", \"age\": 47}]}}";
    expect(&c, NULL, in,
           "file,first=Dale last=\"Murphy\",age=44 1700000000123456789\n"
           "file,first=Roger last=\"Craig\",age=68 1700000000123456789\n"
           "file,first=Jane last=\"Murphy\",age=47 1700000000123456789\n");
    /* GJSON subset: index into an array, escaped dot, missing path = no metric */
    c.query = "obj.friends.1";
    expect(&c, NULL, in, "file,first=Roger last=\"Craig\",age=68 1700000000123456789\n");
    c.query = "obj.name";
    expect(&c, NULL, in, "file,first=Tom last=\"Anderson\" 1700000000123456789\n");
    c.query = "obj.nope";
    expect(&c, NULL, in, "");
    assert_int_equal(g_np, 0);
    c.query = "obj.age";
    expect_err(&c, NULL, in, "query path must lead to a JSON object");
    c.query = "obj.fav\\.movie";
    expect_err(&c, NULL, in, "query path must lead");
}

/* ---- flattening and types ---- */

static void test_flatten(void **state) {
    (void)state;
    tsdb_jp_config c;
    tsdb_jp_config_default(&c);
    expect(&c, "s/1",
           "{\"t\":21.5,\"n\":{\"x\":{\"y\":1}},\"arr\":[1,[2,3],{\"k\":4}],\"nul\":null,\"ok\":true,\"s\":\"x\","
           "\"big\":12345678901234567890,\"neg\":-0.001,\"e\":1e300}",
           "mqtt_consumer,topic=s/1 t=21.5,n_x_y=1,arr_0=1,arr_1_0=2,arr_1_1=3,arr_2_k=4,big=1.2345678901234567e+19,"
           "neg=-0.001,e=1e+300 1700000000123456789\n");
    /* a flattened key seen twice: first position, last value */
    expect(&c, NULL, "{\"a_b\":1,\"z\":2,\"a\":{\"b\":3}}", "mqtt_consumer a_b=3,z=2 1700000000123456789\n");
    /* nothing numeric: no point, no error (Telegraf drops it) */
    expect(&c, "t", "{\"s\":\"x\",\"b\":false,\"n\":null,\"o\":{},\"a\":[]}", "");
    assert_int_equal(g_np, 0);
    /* empty payload / whitespace / BOM: no metric, no error */
    expect(&c, "t", "", "");
    expect(&c, "t", " \r\n", "");
    expect(&c, NULL, "\xef\xbb\xbf{\"a\":1}", "mqtt_consumer a=1 1700000000123456789\n");
    /* escaping of keys and topic in the output */
    expect(&c, "a b,c=d", "{\"x y,z=\":1}", "mqtt_consumer,topic=a\\ b\\,c\\=d x\\ y\\,z\\==1 1700000000123456789\n");
    /* an empty key cannot be written: dropped */
    expect(&c, NULL, "{\"\":1,\"a\":2}", "mqtt_consumer a=2 1700000000123456789\n");
}

static void test_string_fields_glob_and_bools(void **state) {
    (void)state;
    tsdb_jp_config c;
    tsdb_jp_config_default(&c);
    static const char *const strs[] = {"st*", "?ool"};
    c.string_fields = strs;
    c.n_string_fields = 2;
    expect(&c, NULL, "{\"status\":\"ok\",\"stx\":\"a\\\"b\\\\c\",\"other\":\"dropped\",\"bool\":true,\"cool\":false,\"x\":false,\"v\":1}",
           "mqtt_consumer status=\"ok\",stx=\"a\\\"b\\\\c\",bool=true,cool=false,v=1 1700000000123456789\n");
    assert_int_equal(tsdb_jp_glob("*", ""), 1);
    assert_int_equal(tsdb_jp_glob("a*b*c", "axxbyyc"), 1);
    assert_int_equal(tsdb_jp_glob("a*b*c", "axxbyy"), 0);
    assert_int_equal(tsdb_jp_glob("a?c", "abc"), 1);
    assert_int_equal(tsdb_jp_glob("a?c", "ac"), 0);
    assert_int_equal(tsdb_jp_glob("abc", "abcd"), 0);
}

static void test_tag_keys(void **state) {
    (void)state;
    tsdb_jp_config c;
    tsdb_jp_config_default(&c);
    static const char *const tags[] = {"id", "loc_*", "on", "b"};
    c.tag_keys = tags;
    c.n_tag_keys = 4;
    /* numbers as tags use Go's FormatFloat(v,'f',-1,64); tags sorted; matched numbers are no fields */
    expect(&c, "dev/7",
           "{\"v\":1.25,\"id\":1e21,\"loc\":{\"room\":\"k 1\",\"floor\":2},\"on\":true,\"b\":0.000001,\"n\":null}",
           "mqtt_consumer,b=0.000001,id=1000000000000000000000,loc_floor=2,loc_room=k\\ 1,on=true,topic=dev/7 "
           "v=1.25 1700000000123456789\n");
    /* the topic tag wins over a JSON tag of the same name; topic_tag "" disables it */
    static const char *const t2[] = {"topic"};
    c.tag_keys = t2;
    c.n_tag_keys = 1;
    expect(&c, "real", "{\"topic\":\"fake\",\"v\":1}", "mqtt_consumer,topic=real v=1 1700000000123456789\n");
    c.topic_tag = "";
    expect(&c, "real", "{\"topic\":\"fake\",\"v\":1}", "mqtt_consumer,topic=fake v=1 1700000000123456789\n");
    c.topic_tag = "t";
    expect(&c, "real", "{\"v\":1}", "mqtt_consumer,t=real v=1 1700000000123456789\n");
    /* an empty tag value cannot be written: dropped */
    c.topic_tag = NULL;
    expect(&c, "real", "{\"topic\":\"\",\"v\":1}", "mqtt_consumer v=1 1700000000123456789\n");
    char buf[64];
    assert_int_equal(tsdb_jp_format_fixed(0.1, buf, sizeof buf), 3);
    assert_string_equal(buf, "0.1");
    tsdb_jp_format_fixed(-123.456, buf, sizeof buf);
    assert_string_equal(buf, "-123.456");
    tsdb_jp_format_fixed(5e-7, buf, sizeof buf);
    assert_string_equal(buf, "0.0000005");
    tsdb_jp_format_fixed(100, buf, sizeof buf);
    assert_string_equal(buf, "100");
    assert_int_equal(tsdb_jp_format_fixed(1e300, buf, 10), 0);
}

static void test_names(void **state) {
    (void)state;
    tsdb_jp_config c;
    tsdb_jp_config_default(&c);
    c.name_key = "kind";
    expect(&c, NULL, "{\"kind\":\"env\",\"v\":1}", "env v=1 1700000000123456789\n");
    expect(&c, NULL, "{\"kind\":3,\"v\":1}", "mqtt_consumer kind=3,v=1 1700000000123456789\n"); /* not a string */
    expect(&c, NULL, "{\"v\":1}", "mqtt_consumer v=1 1700000000123456789\n");
    c.name_override = "over";
    expect(&c, NULL, "{\"kind\":\"env\",\"v\":1}", "over v=1 1700000000123456789\n");
    c.name_override = NULL;
    c.name_key = NULL;
    c.measurement = "weather station";
    expect(&c, NULL, "{\"v\":1}", "weather\\ station v=1 1700000000123456789\n");
}

static void test_time_formats(void **state) {
    (void)state;
    tsdb_jp_config c;
    tsdb_jp_config_default(&c);
    c.time_key = "ts";
    struct {
        const char *fmt, *json, *want;
    } ok[] = {
        {"unix", "{\"ts\":1568338208,\"v\":1}", "mqtt_consumer v=1 1568338208000000000\n"},
        {"unix", "{\"ts\":1568338208.5,\"v\":1}", "mqtt_consumer v=1 1568338208500000000\n"},
        {"unix", "{\"ts\":\"1568338208.123456789\",\"v\":1}", "mqtt_consumer v=1 1568338208123456789\n"},
        {"unix_ms", "{\"ts\":1568338208123,\"v\":1}", "mqtt_consumer v=1 1568338208123000000\n"},
        {"unix_us", "{\"ts\":1568338208123456,\"v\":1}", "mqtt_consumer v=1 1568338208123456000\n"},
        {"unix_ns", "{\"ts\":\"1568338208123456789\",\"v\":1}", "mqtt_consumer v=1 1568338208123456789\n"},
        {"unix", "{\"ts\":-1,\"v\":1}", "mqtt_consumer v=1 -1000000000\n"},
        {"2006-01-02T15:04:05Z07:00", "{\"ts\":\"2020-02-12T15:15:45.789585Z\",\"v\":1}",
         "mqtt_consumer v=1 1581520545789585000\n"},
        {"2006-01-02T15:04:05Z07:00", "{\"ts\":\"2020-02-12T17:15:45+02:00\",\"v\":1}",
         "mqtt_consumer v=1 1581520545000000000\n"},
        {"2006-01-02T15:04:05.000Z0700", "{\"ts\":\"2020-02-12T15:15:45.120-0130\",\"v\":1}",
         "mqtt_consumer v=1 1581525945120000000\n"},
        {"01/02/2006 15:04:05", "{\"ts\":\"02/29/2024 23:59:59\",\"v\":1}", "mqtt_consumer v=1 1709251199000000000\n"},
        {"Mon Jan _2 03:04:05 PM 2006", "{\"ts\":\"Fri Feb  7 01:02:03 PM 2025\",\"v\":1}",
         "mqtt_consumer v=1 1738933323000000000\n"},
        {"Jan 2 15:04", "{\"ts\":\"Mar 5 10:00\",\"v\":1}", "mqtt_consumer v=1 1678010400000000000\n"}, /* year of NOW */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        c.time_format = ok[i].fmt;
        if (run(&c, NULL, ok[i].json)) fail_msg("%s on %s: %s", ok[i].fmt, ok[i].json, g_err);
        if (strcmp(g_out, ok[i].want)) fail_msg("%s on %s: %s != %s", ok[i].fmt, ok[i].json, g_out, ok[i].want);
    }
    /* errors */
    c.time_format = NULL;
    expect_err(&c, NULL, "{\"ts\":1,\"v\":1}", "requires 'json_time_format'");
    c.time_format = "unix";
    expect_err(&c, NULL, "{\"v\":1}", "JSON time key could not be found");
    expect_err(&c, NULL, "{\"ts\":\"12x\",\"v\":1}", "cannot parse");
    expect_err(&c, NULL, "{\"ts\":1e30,\"v\":1}", "cannot parse");
    c.time_format = "2006-01-02T15:04:05Z07:00";
    expect_err(&c, NULL, "{\"ts\":\"2020-02-30T00:00:00Z\",\"v\":1}", "out of range");
    expect_err(&c, NULL, "{\"ts\":\"2020-02-12 00:00:00Z\",\"v\":1}", "does not match");
    expect_err(&c, NULL, "{\"ts\":12,\"v\":1}", "not a string");
    /* one bad element fails the whole message, as in Telegraf */
    expect_err(&c, NULL, "[{\"ts\":\"2020-02-12T00:00:00Z\",\"v\":1},{\"ts\":\"x\",\"v\":2}]", "does not match");
}

static void test_topic_parsing(void **state) {
    (void)state;
    tsdb_jp_config c;
    tsdb_jp_config_default(&c);
    tsdb_jp_topic_rule r[2] = {
        {"sensors/+/+/temperature", "_/_/_/measurement", "_/line/device/_", NULL},
        {"telegraf/+/cpu/23", "_/_/measurement/_", "tag/_/_/_", "_/_/_/test"},
    };
    c.topic_rules = r;
    c.n_topic_rules = 2;
    expect(&c, "sensors/l1/d7/temperature", "{\"value\":76.2}",
           "temperature,device=d7,line=l1,topic=sensors/l1/d7/temperature value=76.2 1700000000123456789\n");
    expect(&c, "telegraf/one/cpu/23", "{\"value\":45}",
           "cpu,tag=telegraf,topic=telegraf/one/cpu/23 value=45,test=\"23\" 1700000000123456789\n");
    /* no rule matches: plain mapping */
    expect(&c, "other/x", "{\"value\":1}", "mqtt_consumer,topic=other/x value=1 1700000000123456789\n");
}

/* ---- hostile input ---- */

static void test_hostile(void **state) {
    (void)state;
    tsdb_jp_config c;
    tsdb_jp_config_default(&c);
    /* deep nesting: our limit, then jansson's own */
    char *deep = malloc(200000);
    assert_non_null(deep);
    size_t k = 0;
    for (int i = 0; i < 40; i++) deep[k++] = '[';
    deep[k++] = '1';
    for (int i = 0; i < 40; i++) deep[k++] = ']';
    deep[k] = 0;
    memmove(deep + 5, deep, k + 1);
    memcpy(deep, "{\"a\":", 5);
    strcat(deep, "}");
    expect_err(&c, NULL, deep, "nested deeper than 32");
    k = 0;
    for (int i = 0; i < 60000; i++) deep[k++] = '[';
    deep[k] = 0;
    expect_err(&c, NULL, deep, "invalid JSON");
    /* huge array: bounded by max_fields */
    k = 0;
    k += (size_t)sprintf(deep + k, "{\"a\":[");
    for (int i = 0; i < 5000; i++) k += (size_t)sprintf(deep + k, "%s%d", i ? "," : "", i);
    strcpy(deep + k, "]}");
    expect_err(&c, NULL, deep, "more than 1024 fields");
    c.lim.max_fields = 10000;
    assert_int_equal(run(&c, NULL, deep), 0);
    assert_non_null(strstr(g_out, ",a_4999=4999 "));
    /* too many points */
    c.lim.max_points = 3;
    expect_err(&c, NULL, "[{\"a\":1},{\"a\":1},{\"a\":1},{\"a\":1}]", "more than 3 points");
    expect(&c, NULL, "[{\"a\":1},{\"s\":\"x\"},{\"a\":1},{\"a\":1}]",
           "mqtt_consumer a=1 1700000000123456789\nmqtt_consumer a=1 1700000000123456789\n"
           "mqtt_consumer a=1 1700000000123456789\n");
    /* output limit */
    c.lim.max_output = 60;
    expect_err(&c, NULL, "[{\"a\":1},{\"a\":2}]", "exceeds 60 bytes");
    tsdb_jp_config_default(&c);
    /* long flattened key */
    c.lim.max_key = 8;
    expect_err(&c, NULL, "{\"abcd\":{\"efgh\":1}}", "longer than 8 bytes");
    tsdb_jp_config_default(&c);
    /* not JSON, scalars, non-object array elements, NUL */
    expect_err(&c, NULL, "{\"a\":", "invalid JSON");
    expect_err(&c, NULL, "42", "not an object or an array");
    expect_err(&c, NULL, "[{\"a\":1},3]", "array element 1 is not a JSON object");
    c.strict = 0;
    expect(&c, NULL, "[{\"a\":1},3,\"x\"]", "mqtt_consumer a=1 1700000000123456789\n");
    expect_err(&c, NULL, "{\"a\\u0000b\":1}", "invalid JSON");
    /* a newline in a string field is written escaped? no: line protocol cannot carry it in keys */
    static const char *const all[] = {"*"};
    c.string_fields = all;
    c.n_string_fields = 1;
    expect(&c, NULL, "{\"s\":\"line1\\nline2\"}", "mqtt_consumer s=\"line1\nline2\" 1700000000123456789\n");
    expect_err(&c, NULL, "{\"a\\nb\":1}", "cannot be written as line protocol");
    free(deep);
}

/* ---- LoRaWAN ---- */

static int lw(const char *json, char *out, size_t cap) {
    buf_t b;
    buf_init(&b);
    int rc = tsdb_jp_lorawan_uplink(NULL, json, strlen(json), NOW, &b, &g_np, g_err, sizeof g_err);
    if (rc) assert_int_equal(b.len, 0);
    assert_true(b.len < cap);
    if (b.len) memcpy(out, b.data, b.len);
    out[b.len] = 0;
    if (!rc) reparse(out, b.len);
    buf_free(&b);
    return rc;
}

static void test_lorawan_built_uplink(void **state) {
    (void)state;
    const uint8_t dev_eui[8] = {0x00, 0x04, 0xa3, 0x0b, 0x00, 0x1c, 0x05, 0x30};
    lw_as_rx rx[3];
    memset(rx, 0, sizeof rx);
    rx[0].gw_id = "gtw1";
    rx[0].rssi = -35;
    rx[0].snr = -4.25f;
    rx[1].gw_id = "gtw2";
    rx[1].rssi = -118;
    rx[1].snr = 9.5f;
    rx[2].gw_id = "gtw3";
    rx[2].rssi = -90; /* snr 0: omitted in the JSON */
    lw_as_uplink up;
    memset(&up, 0, sizeof up);
    up.ids = (lw_as_ids){.app_id = "farm", .dev_id = "soil-1", .tenant = "ttn", .dev_eui = dev_eui};
    up.correlation_id = "as:up:01";
    up.received_at_us = 1581520545789585LL;
    up.has_fport = true;
    up.f_port = 2;
    up.f_cnt = 4242;
    up.decoded_json = "{\"temperature\":21.5,\"humidity\":40,\"accelerometer\":[{\"x\":1,\"y\":-2}],\"label\":\"x\","
                      "\"alarm\":true,\"rssi\":1,\"nested\":{\"n\":null}}";
    up.rx = rx;
    up.n_rx = 3;
    up.settings = (lw_as_settings){.lora = true, .sf = 7, .bw_hz = 125000, .coding_rate = "4/5", .freq_hz = 868100000};
    buf_t b;
    buf_init(&b);
    assert_int_equal(lw_as_uplink_json(&up, &b), 0);
    buf_append(&b, "", 1);
    char out[4096];
    assert_int_equal(lw((const char *)b.data, out, sizeof out), 0);
    assert_int_equal(g_np, 1);
    assert_string_equal(out, "farm,dev_eui=0004A30B001C0530,device_id=soil-1 temperature=21.5,humidity=40,"
                             "accelerometer_0_x=1,accelerometer_0_y=-2,alarm=true,rssi=-35,snr=9.5,f_cnt=4242i,"
                             "f_port=2i 1581520545789585000\n");
    buf_free(&b);

    /* no decoded payload, no rx, f_cnt 0 (omitted in the JSON), no received_at: f_cnt=0i at the receive time */
    memset(&up, 0, sizeof up);
    up.ids = (lw_as_ids){.app_id = "a", .dev_id = "d"};
    up.settings = (lw_as_settings){.lora = true, .sf = 12, .bw_hz = 125000, .coding_rate = "4/5", .freq_hz = 868100000};
    buf_init(&b);
    assert_int_equal(lw_as_uplink_json(&up, &b), 0);
    buf_append(&b, "", 1);
    assert_int_equal(lw((const char *)b.data, out, sizeof out), 0);
    assert_string_equal(out, "a,device_id=d f_cnt=0i 1700000000123456789\n");
    buf_free(&b);
}

static void test_lorawan_doc_shape(void **state) {
    (void)state;
    char out[4096];
    /* the uplink pinned by tests/unit/lorawan/test_as_json.c (docs/lorawan-mqtt.md's member order) */
    const char *j =
        "{\"end_device_ids\":{\"device_id\":\"dev1\",\"application_ids\":{\"application_id\":\"app1\"},"
        "\"dev_eui\":\"0004A30B001C0530\",\"join_eui\":\"800000000000000C\",\"dev_addr\":\"00BCB929\"},"
        "\"correlation_ids\":[\"as:up:01E0WZGT6Y7657CPFPE5WEYDSQ\"],\"received_at\":\"2020-02-12T15:15:45.789585Z\","
        "\"uplink_message\":{\"session_key_id\":\"ESIzRA==\",\"f_port\":1,\"f_cnt\":1,\"frm_payload\":\"gkHe\","
        "\"decoded_payload\":{\"bytes\":[130,65,222]},"
        "\"rx_metadata\":[{\"gateway_ids\":{\"gateway_id\":\"gtw1\",\"eui\":\"9C5C8E00001A05C4\"},"
        "\"time\":\"2020-02-12T15:15:45.787Z\",\"timestamp\":2463457000,\"rssi\":-35,\"channel_rssi\":-35,\"snr\":5,"
        "\"uplink_token\":\"nFyOAAAaBcSS1V7oAAAAAAAAAAA=\",\"channel_index\":2}],"
        "\"settings\":{\"data_rate\":{\"lora\":{\"bandwidth\":125000,\"spreading_factor\":7,\"coding_rate\":\"4/5\"}},"
        "\"frequency\":\"868300000\",\"timestamp\":2463457000,\"time\":\"2020-02-12T15:15:45.787Z\"},"
        "\"received_at\":\"2020-02-12T15:15:45.789585Z\",\"consumed_airtime\":\"0.056576s\","
        "\"network_ids\":{\"net_id\":\"000013\",\"tenant_id\":\"ttn\"}}}";
    assert_int_equal(lw(j, out, sizeof out), 0);
    assert_string_equal(out, "app1,dev_eui=0004A30B001C0530,device_id=dev1 bytes_0=130,bytes_1=65,bytes_2=222,rssi=-35,"
                             "snr=5,f_cnt=1i,f_port=1i 1581520545789585000\n");
    /* errors: not JSON, not an uplink, no application id; unreadable received_at -> receive time */
    assert_int_equal(lw("{", out, sizeof out), -1);
    assert_non_null(strstr(g_err, "invalid JSON"));
    assert_int_equal(lw("{\"end_device_ids\":{},\"join_accept\":{}}", out, sizeof out), -1);
    assert_non_null(strstr(g_err, "not an uplink"));
    assert_int_equal(lw("{\"end_device_ids\":{\"device_id\":\"d\"},\"uplink_message\":{}}", out, sizeof out), -1);
    assert_non_null(strstr(g_err, "application_id"));
    assert_int_equal(lw("{\"end_device_ids\":{\"application_ids\":{\"application_id\":\"a\"}},\"received_at\":\"x\","
                        "\"uplink_message\":{\"f_cnt\":7,\"decoded_payload\":{\"t\":\"s\",\"c\":18446744073709551616}}}",
                        out, sizeof out),
                     0);
    assert_string_equal(out, "a c=1.8446744073709552e+19,f_cnt=7i 1700000000123456789\n");
    /* hostile decoded payload: bounded */
    char *big = malloc(100000);
    assert_non_null(big);
    size_t k = (size_t)sprintf(big, "{\"end_device_ids\":{\"application_ids\":{\"application_id\":\"a\"}},"
                                    "\"uplink_message\":{\"decoded_payload\":{\"v\":[");
    for (int i = 0; i < 3000; i++) k += (size_t)sprintf(big + k, "%s%d", i ? "," : "", i);
    strcpy(big + k, "]}}}");
    assert_int_equal(lw(big, out, sizeof out), -1);
    assert_non_null(strstr(g_err, "more than 1024 fields"));
    free(big);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readme_basic),
        cmocka_unit_test(test_readme_name_tags_strings),
        cmocka_unit_test(test_readme_arrays_time_layout),
        cmocka_unit_test(test_readme_query),
        cmocka_unit_test(test_flatten),
        cmocka_unit_test(test_string_fields_glob_and_bools),
        cmocka_unit_test(test_tag_keys),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_time_formats),
        cmocka_unit_test(test_topic_parsing),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_lorawan_built_uplink),
        cmocka_unit_test(test_lorawan_doc_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
