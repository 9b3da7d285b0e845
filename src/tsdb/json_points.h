/* tsdb/json_points: MQTT message payloads -> InfluxDB line protocol, pure C11 (jansson, no I/O).
 *
 * Two mappings:
 *  - Telegraf's `mqtt_consumer` input with `data_format = "json"` (plugins/parsers/json): the payload
 *    is an object (one point) or an array of objects (one point each); nested objects are flattened
 *    with "_" (b.c -> b_c), arrays with their index (a[1] -> a_1); every number is a float field
 *    (JSON numbers are read as doubles, as Go's encoding/json does); strings and booleans are dropped
 *    unless their flattened key matches a json_string_fields glob (then string / bool fields) or a
 *    tag_keys glob (then tags; numbers matching tag_keys become tags too, "%f"-style shortest text);
 *    null is ignored. Measurement: name_override, else the json_name_key string, else `measurement`
 *    ("mqtt_consumer"). json_time_key + json_time_format ("unix", "unix_ms", "unix_us", "unix_ns" or a
 *    Go reference layout such as "2006-01-02T15:04:05Z07:00") give the time (the key is then no field),
 *    else the receive time. json_query (GJSON, dotted subset "a.b.0.c", "\." escapes a dot) selects the
 *    part of the document to parse. topic_tag ("topic", "" = none) adds the MQTT topic as a tag.
 *    topic_parsing rules ([[inputs.mqtt_consumer.topic_parsing]]) take measurement / tags / fields
 *    from topic levels. A point without fields is dropped, as Telegraf drops it.
 *  - tinyedge's LoRaWAN uplink mapping for The Things Stack v3 uplink JSON (docs/lorawan-mqtt.md):
 *    measurement = application id, tags device_id and dev_eui, fields = numeric/bool leaves of
 *    uplink_message.decoded_payload flattened with "_" (floats/bools) plus rssi, snr (floats, best
 *    gateway: max over rx_metadata, an omitted value meaning 0 as in TTS JSON), f_cnt (integer, 0 when
 *    omitted) and f_port (integer, when present); metadata fields win over payload keys of the same
 *    name; time = received_at (top level, else uplink_message.received_at, else the receive time).
 *
 * Output: line protocol lines ('\n'-terminated, ns timestamps, tags sorted by key, fields in document
 * order with a repeated key keeping its first position and last value) appended to a buf_t. On error
 * nothing is appended and err holds a one-line reason. Hostile input is bounded by the limits below.
 * See docs/tsdb-mqtt-consumer.md.
 *
 * Contract, one line per function:
 *   tsdb_jp_config_default(c)          Telegraf defaults (measurement "mqtt_consumer", topic_tag
 *                                      "topic", strict) and the default limits
 *   tsdb_jp_to_lp(c,topic,p,n,now_ns,out,&np,err,errlen)  Telegraf json mapping of one message; 0 ok
 *                                      (np points appended, maybe 0), -1 error (nothing appended)
 *   tsdb_jp_lorawan_uplink(lim,p,n,now_ns,out,&np,err,errlen)  TTS v3 uplink mapping; 0 ok (np is 0
 *                                      or 1), -1 error (not JSON, not an uplink, no application id ...)
 *   tsdb_jp_parse_time(fmt,v,now_ns,&ns,err,errlen)  Telegraf's json_time_format on a JSON value; 0/-1
 *   tsdb_jp_parse_layout(layout,s,now_ns,&ns,err,errlen)  Go time.Parse subset on a string; 0/-1
 *   tsdb_jp_glob(pattern,s)            1 when s matches pattern ('*' any run, '?' one byte), else 0
 *   tsdb_jp_format_fixed(v,out,cap)    Go strconv.FormatFloat(v,'f',-1,64); length, or 0 if it does not fit
 */
#ifndef TE_TSDB_JSON_POINTS_H
#define TE_TSDB_JSON_POINTS_H

#include "base/buf.h"
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define TSDB_JP_DEFAULT_MAX_POINTS 1000u    /* points per message */
#define TSDB_JP_DEFAULT_MAX_FIELDS 1024u    /* fields + tags per point */
#define TSDB_JP_DEFAULT_MAX_DEPTH 32u       /* object/array nesting */
#define TSDB_JP_DEFAULT_MAX_KEY 1024u       /* bytes of a flattened key */
#define TSDB_JP_DEFAULT_MAX_OUTPUT (4u << 20) /* bytes of line protocol per message */
#define TSDB_JP_MAX_TOPIC_RULES 16

typedef struct {
    size_t max_points, max_fields, max_depth, max_key, max_output;
} tsdb_jp_limits;

/* [[inputs.mqtt_consumer.topic_parsing]]: topic "+/+/+" (filter the topic must match), and
 * '/'-separated templates with the same number of levels: "_" skips a level, a name takes it. */
typedef struct {
    const char *topic;       /* MQTT filter ('+', '#'); NULL or "" = every topic */
    const char *measurement; /* e.g. "_/_/measurement" (at most one named level), NULL = none */
    const char *tags;        /* e.g. "_/site/_" */
    const char *fields;      /* e.g. "_/_/_/room": a string field (Telegraf's default; its per-field
                              * "types" conversion is not supported) */
} tsdb_jp_topic_rule;

typedef struct {
    const char *measurement;   /* the input's name; default "mqtt_consumer" */
    const char *name_override; /* NULL/"" = none */
    const char *name_key;      /* json_name_key; NULL/"" = none */
    const char *const *tag_keys;      /* globs */
    size_t n_tag_keys;
    const char *const *string_fields; /* json_string_fields globs */
    size_t n_string_fields;
    const char *time_key;    /* json_time_key; NULL/"" = receive time */
    const char *time_format; /* json_time_format */
    const char *query;       /* json_query; NULL/"" = whole document */
    const char *topic_tag;   /* default "topic"; NULL or "" = no topic tag */
    int strict;              /* json_strict (default 1): a non-object array element is an error, else skipped */
    const tsdb_jp_topic_rule *topic_rules;
    size_t n_topic_rules;
    tsdb_jp_limits lim;
} tsdb_jp_config;

void tsdb_jp_config_default(tsdb_jp_config *c);
int tsdb_jp_to_lp(const tsdb_jp_config *c, const char *topic, const char *payload, size_t len, int64_t now_ns,
                  buf_t *out, size_t *npoints, char *err, size_t errlen);
int tsdb_jp_lorawan_uplink(const tsdb_jp_limits *lim, const char *payload, size_t len, int64_t now_ns, buf_t *out,
                           size_t *npoints, char *err, size_t errlen);

int tsdb_jp_parse_time(const char *format, const json_t *v, int64_t now_ns, int64_t *ns, char *err,
                       size_t errlen);
int tsdb_jp_parse_layout(const char *layout, const char *s, int64_t now_ns, int64_t *ns, char *err, size_t errlen);
int tsdb_jp_glob(const char *pattern, const char *s);
size_t tsdb_jp_format_fixed(double v, char *out, size_t cap);

#endif
