/* Fuzz target for lorawan/as_json: parses the input as a down/push payload (several list capacities)
 * and checks every accepted downlink against the contract (f_port 1..223, <= 242 bytes, payload or
 * decoded object, JSON texts that re-parse), writes each one back out as every downlink event and
 * checks that jansson reads the event; then uses the input as ids, gateway time and formatter error
 * text of an uplink and a join, whose JSON must parse and carry the strings back unchanged. */
#include "lorawan/as_json.h"
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(c)                                                                                                  \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            fprintf(stderr, "lorawan_as_json fuzz: check failed: %s (line %d)\n", #c, __LINE__);                       \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

/* JSON_DECODE_INT_AS_REAL: a float32 such as 2.8e20 is written in fixed notation, as Go does, and is
 * beyond jansson's integers though valid JSON */
static json_t *load(const buf_t *b) {
    json_error_t e;
    json_t *j = json_loadb((const char *)b->data, b->len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &e);
    if (!j) fprintf(stderr, "not JSON (%s): %.*s\n", e.text, (int)b->len, (const char *)b->data);
    FUZZ_CHECK(j != NULL);
    return j;
}

static void check_downlinks(const uint8_t *data, size_t size, size_t max) {
    lw_as_downlink dl[8];
    size_t count = 12345;
    char err[256];
    err[0] = 0;
    int rc = lw_as_parse_downlinks((const char *)data, size, dl, max, &count, err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(rc == -1);
        FUZZ_CHECK(count == 0);
        FUZZ_CHECK(err[0] != 0);
        return;
    }
    FUZZ_CHECK(count <= max);
    lw_as_ids ids = {.app_id = "app", .dev_id = "dev"};
    buf_t b;
    buf_init(&b);
    for (size_t i = 0; i < count; i++) {
        FUZZ_CHECK(dl[i].f_port >= 1 && dl[i].f_port <= 223);
        FUZZ_CHECK(dl[i].frm_len <= 242);
        FUZZ_CHECK(dl[i].has_frm || dl[i].decoded_json);
        FUZZ_CHECK(dl[i].priority >= LW_PRIO_LOWEST && dl[i].priority <= LW_PRIO_HIGHEST);
        if (dl[i].decoded_json) {
            json_t *d = json_loads(dl[i].decoded_json, 0, NULL);
            FUZZ_CHECK(json_is_object(d));
            json_decref(d);
        }
        if (dl[i].correlation_ids_json) {
            json_t *c = json_loads(dl[i].correlation_ids_json, 0, NULL);
            FUZZ_CHECK(json_is_array(c) && json_array_size(c) > 0);
            json_decref(c);
        }
        for (int k = LW_DOWN_QUEUED; k <= LW_DOWN_FAILED; k++) {
            buf_reset(&b);
            FUZZ_CHECK(lw_as_down_event_json(&ids, (lw_as_down_kind)k, &dl[i], "err \"x\"", 1700000000000000, &b) == 0);
            json_t *j = load(&b);
            json_t *d = k == LW_DOWN_FAILED ? json_object_get(json_object_get(j, "downlink_failed"), "downlink")
                                            : json_object_get(j, k == LW_DOWN_QUEUED ? "downlink_queued"
                                                                 : k == LW_DOWN_SENT ? "downlink_sent"
                                                                 : k == LW_DOWN_ACK  ? "downlink_ack"
                                                                                     : "downlink_nack");
            FUZZ_CHECK(json_is_object(d));
            FUZZ_CHECK(json_number_value(json_object_get(d, "f_port")) == dl[i].f_port);
            json_decref(j);
        }
    }
    buf_free(&b);
    for (size_t i = 0; i < count; i++) lw_as_downlink_clear(&dl[i]);
}

/* the input as a C string, bytes >= 0x80 made '?' so that jansson (UTF-8 only) can read it back */
static char *ascii(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    FUZZ_CHECK(s != NULL);
    size_t o = 0;
    for (size_t i = 0; i < size && data[i]; i++) s[o++] = data[i] >= 0x80 ? '?' : (char)data[i];
    s[o] = 0;
    return s;
}

static void check_builders(const uint8_t *data, size_t size) {
    char *s = ascii(data, size);
    int64_t t = 0;
    for (size_t i = 0; i < size && i < 8; i++) t = (int64_t)((uint64_t)t << 8 | data[i]);
    char ts[40];
    size_t tn = lw_rfc3339(t, ts, sizeof ts);
    FUZZ_CHECK(tn == strlen(ts) && tn <= 27);

    lw_as_rx rx[2];
    memset(rx, 0, sizeof rx);
    rx[0].gw_id = s;
    rx[0].time = s;
    rx[0].received_at_us = t;
    rx[0].rssi = -100;
    float snr = 0;
    if (size >= 4) memcpy(&snr, data, 4);
    rx[0].snr = snr;
    rx[0].has_location = true;
    double lat = 0;
    if (size >= 8) memcpy(&lat, data, 8);
    rx[0].lat = lat;
    rx[1].time = "2020-02-12T15:15:45.787Z";
    lw_as_uplink up;
    memset(&up, 0, sizeof up);
    up.ids = (lw_as_ids){.app_id = s, .dev_id = s, .tenant = s};
    up.correlation_id = s;
    up.received_at_us = t;
    up.has_fport = true;
    up.f_port = 1;
    up.frm = data;
    up.frm_len = size;
    up.decode_error = s;
    up.rx = rx;
    up.n_rx = 2;
    up.settings = (lw_as_settings){.lora = true, .sf = 7, .bw_hz = 125000, .coding_rate = s, .time = s};
    up.consumed_airtime_us = (uint32_t)t;
    up.cluster_id = s;
    buf_t b;
    buf_init(&b);
    FUZZ_CHECK(lw_as_uplink_json(&up, &b) == 0);
    json_t *j = load(&b);
    json_t *ids = json_object_get(j, "end_device_ids");
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(ids, "device_id")), s) == 0);
    json_t *um = json_object_get(j, "uplink_message");
    FUZZ_CHECK(json_is_object(um));
    if (*s) {
        json_t *e = json_array_get(json_object_get(um, "decoded_payload_errors"), 0);
        FUZZ_CHECK(e && strcmp(json_string_value(e), s) == 0);
    }
    json_decref(j);

    lw_as_join jn = {.correlation_id = s, .received_at_us = t, .session_key_id = data, .session_key_id_len = size};
    buf_reset(&b);
    FUZZ_CHECK(lw_as_join_json(&up.ids, &jn, &b) == 0);
    json_decref(load(&b));
    char topic[64];
    int tl = lw_as_topic(&up.ids, "up", topic, sizeof topic);
    FUZZ_CHECK(tl == -1 || (tl > 0 && (size_t)tl == strlen(topic) && !strchr(s, '+') && !strchr(s, '#')));
    buf_free(&b);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_downlinks(data, size, 8);
    check_downlinks(data, size, 1);
    check_downlinks(data, size, 0);
    check_builders(data, size);
    return 0;
}
