/* Fuzz target for tsdb/json_points: the input is an MQTT payload, mapped with the Telegraf json
 * mapping (default config, then a config with tag/string-field globs, a name key, a unix time key,
 * a query, topic parsing and small limits) and with the LoRaWAN uplink mapping; the first line of the
 * input is also tried as a Go time layout against the rest. Checks: no crash, an error appends
 * nothing and says why, a success appends exactly *np '\n'-terminated lines that the line protocol
 * parser accepts (np of them, none rejected), within the output limit. */
#include "base/buf.h"
#include "tsdb/json_points.h"
#include "tsdb/lineproto.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(c)                                                                                                  \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            fprintf(stderr, "tsdb_json_points fuzz: check failed: %s (line %d)\n", #c, __LINE__);                     \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static void check_output(int rc, const buf_t *b, size_t base, size_t np, const char *err, size_t max_output) {
    if (rc) {
        FUZZ_CHECK(rc == -1);
        FUZZ_CHECK(b->len == base);
        FUZZ_CHECK(np == 0);
        FUZZ_CHECK(err[0] != 0);
        return;
    }
    size_t len = b->len - base;
    const char *s = (const char *)b->data + base;
    FUZZ_CHECK(len <= max_output);
    if (!np) {
        FUZZ_CHECK(len == 0);
        return;
    }
    FUZZ_CHECK(s[len - 1] == '\n');
    tsdb_lp_opts o;
    tsdb_lp_opts_default(&o);
    o.max_fields = 100000;
    o.max_line = len + 1; /* no line is longer than the whole output */
    size_t alen = tsdb_lp_arena_size(&o);
    void *arena = malloc(alen);
    FUZZ_CHECK(arena != NULL);
    tsdb_lp_result res;
    char eb[256];
    long bad = tsdb_lp_parse_all(s, len, &o, arena, alen, NULL, NULL, &res, eb, sizeof eb);
    if (bad != 0) fprintf(stderr, "bad output: %s\n%.*s\n", eb, (int)(len > 2000 ? 2000 : len), s);
    FUZZ_CHECK(bad == 0);
    FUZZ_CHECK(res.points == np);
    free(arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = (const char *)data;
    char err[256];
    size_t np;
    buf_t b;
    buf_init(&b);
    buf_append(&b, "pre", 3);

    tsdb_jp_config c;
    tsdb_jp_config_default(&c);
    err[0] = 0;
    int rc = tsdb_jp_to_lp(&c, "sensors/a b/t", p, size, 1700000000000000000LL, &b, &np, err, sizeof err);
    check_output(rc, &b, 3, np, err, c.lim.max_output);

    static const char *const tags[] = {"*id*", "t?g"};
    static const char *const strs[] = {"s*", "*_on"};
    static const tsdb_jp_topic_rule rules[] = {{"sensors/+/+", "_/_/measurement", "_/site/_", "f/_/_"}};
    c.tag_keys = tags;
    c.n_tag_keys = 2;
    c.string_fields = strs;
    c.n_string_fields = 2;
    c.name_key = "name";
    c.name_override = size & 1 ? "over" : NULL;
    c.strict = (int)(size & 2);
    c.topic_rules = rules;
    c.n_topic_rules = 1;
    c.lim.max_points = 8;
    c.lim.max_fields = 64;
    c.lim.max_depth = 6;
    c.lim.max_key = 40;
    c.lim.max_output = 4096;
    static const char *const fmts[] = {"unix", "unix_ms", "unix_us", "unix_ns", "2006-01-02T15:04:05Z07:00",
                                       "02 Jan 06 15:04 MST"};
    c.time_key = "ts";
    c.time_format = fmts[size % 6];
    size_t base = b.len;
    rc = tsdb_jp_to_lp(&c, "sensors/a b/t", p, size, -1, &b, &np, err, sizeof err);
    check_output(rc, &b, base, np, err, c.lim.max_output);
    c.query = "data.0";
    c.time_key = NULL;
    base = b.len;
    rc = tsdb_jp_to_lp(&c, NULL, p, size, 0, &b, &np, err, sizeof err);
    check_output(rc, &b, base, np, err, c.lim.max_output);

    base = b.len;
    rc = tsdb_jp_lorawan_uplink(NULL, p, size, 1700000000000000000LL, &b, &np, err, sizeof err);
    check_output(rc, &b, base, np, err, TSDB_JP_DEFAULT_MAX_OUTPUT);
    FUZZ_CHECK(np <= 1);

    /* first line = a Go layout, the rest = the value */
    const char *nl = memchr(p, '\n', size);
    if (nl && size < 4096) {
        char *lay = strndup(p, (size_t)(nl - p));
        char *val = strndup(nl + 1, size - (size_t)(nl - p) - 1);
        FUZZ_CHECK(lay && val);
        int64_t ns;
        err[0] = 0;
        if (tsdb_jp_parse_layout(lay, val, 1700000000000000000LL, &ns, err, sizeof err)) FUZZ_CHECK(err[0] != 0);
        free(lay);
        free(val);
    }
    buf_free(&b);
    return 0;
}
