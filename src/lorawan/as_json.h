/* The application server's MQTT messages in The Things Stack v3 JSON (pure; writes into a buf_t,
 * parses with jansson): uplink, join, downlink events, and the downlink push/replace requests.
 * Member names, order, nesting and encodings follow TTS's generated marshalers (pkg/ttnpb/..._json.pb.go,
 * jsonplugin): compact JSON, uint64 (frequency) as strings, uint32 (timestamp, f_cnt) as numbers,
 * bytes as standard padded base64, EUIs/DevAddr/NetID as upper-case hex, durations as "0.056576s",
 * timestamps RFC 3339 UTC with the fraction written as 0, 3, 6 or 9 digits (jsonplugin WriteTime:
 * .120000 -> ".120", .000000 -> none), float32 (snr) as the shortest round-trip decimal ("9.25",
 * "-4.2"), enums by name. Members that are zero/empty/unset are omitted as TTS omits them (rssi 0,
 * snr 0, timestamp 0, received_at_us 0, f_port 0, priority LOWEST, ...). See docs/lorawan-mqtt.md.
 * decoded_json, warnings_json and correlation_ids_json are inserted verbatim: they must be valid JSON.
 *
 * Topics (lw_as_topic): v3/{app}@{tenant}/devices/{dev}/{suffix} (tenant NULL -> "ttn"; tenant "" ->
 * v3/{app}/devices/..., the open-source layout) where suffix is "up", "join", "down/queued",
 * "down/sent", "down/ack", "down/nack", "down/failed", "down/push", "down/replace". Ids must be
 * non-empty without '+', '#', '/' or control characters ('@' also refused in app and tenant).
 *
 * Contract (ints: 0 ok, -1 with a message in err for the parser, -1 on allocation failure for
 * builders, which then leave out as it was; builders append to out):
 *   lw_as_topic(ids,suffix,out,cap)            topic string; length or -1 (bad id/suffix, does not fit)
 *   lw_as_uplink_json(up,out)                  {"end_device_ids":..,"correlation_ids":[..],
 *                                              "received_at":..,"uplink_message":{...}}
 *   lw_as_join_json(ids,join,out)              {"end_device_ids":..,"correlation_ids":..,
 *                                              "received_at":..,"join_accept":{"session_key_id","received_at"}}
 *   lw_as_down_event_json(ids,kind,dl,error,now_us,out)  "downlink_queued" / "downlink_sent" /
 *                                              "downlink_ack" / "downlink_nack" / "downlink_failed"
 *                                              ({"downlink":..,"error":{namespace,name,message_format}});
 *                                              error is used for FAILED only; -1 for a bad kind
 *   lw_as_parse_downlinks(json,n,out,max,&count,err,n)  {"downlinks":[{f_port (1..223), frm_payload
 *                                              (strict base64, <= 242 bytes) and/or decoded_payload
 *                                              (object, kept as compact JSON text for the formatter),
 *                                              confirmed, priority (name or 0..6; default NORMAL),
 *                                              correlation_ids}]}; unknown members ignored, duplicate
 *                                              members refused; [] accepted (count 0: replace = clear).
 *                                              On error nothing is left allocated and count is 0.
 *   lw_as_downlink_clear(dl)                   free a parsed downlink's owned strings
 *   lw_rfc3339(us,out,cap)                     epoch microseconds -> "2026-11-25T12:00:00.123456Z";
 *                                              length, or 0 (out "") if it does not fit (28 bytes
 *                                              always do) or the year is not 0..9999
 *   lw_as_priority_name(p)                     "LOWEST".."HIGHEST" ("NORMAL" for out-of-range)
 */
#ifndef TE_LORAWAN_AS_JSON_H
#define TE_LORAWAN_AS_JSON_H
#include "base/buf.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lw_as_ids {
    const char *app_id, *dev_id, *tenant; /* tenant "ttn" by default */
    const uint8_t *dev_eui;               /* 8 bytes or NULL */
    const uint8_t *join_eui;              /* 8 bytes or NULL */
    bool has_dev_addr;
    uint32_t dev_addr;
} lw_as_ids;

typedef struct lw_as_rx {
    uint8_t gw_eui[8];
    const char *gw_id;     /* registered id, or NULL -> "eui-<lower hex>" */
    uint32_t tmst;         /* "timestamp" */
    const char *time;      /* gateway's time (RFC 3339) or NULL; rewritten normalized, omitted if invalid */
    int64_t received_at_us; /* server reception; 0 = omitted; also in our uplink_token */
    int16_t rssi;          /* "rssi" and "channel_rssi" */
    bool has_signal_rssi;
    int16_t signal_rssi;
    float snr;
    uint8_t channel_index;
    uint8_t rf_chain;      /* not in TTS JSON */
    bool has_location;
    double lat, lon;
    int32_t alt;
} lw_as_rx;

typedef struct lw_as_settings {
    bool lora;             /* else FSK */
    uint8_t sf;
    uint32_t bw_hz;
    const char *coding_rate; /* "4/5" */
    uint32_t bitrate;      /* FSK */
    uint32_t freq_hz;      /* "frequency": "868100000" */
    uint32_t tmst;         /* "timestamp" */
    const char *time;      /* or NULL */
} lw_as_settings;

typedef struct lw_as_uplink {
    lw_as_ids ids;
    const char *correlation_id; /* e.g. "as:up:01J..." (one id, ULID-like), NULL = none */
    int64_t received_at_us;     /* when the network server received it (first gateway) */
    const uint8_t *session_key_id; size_t session_key_id_len; /* base64 in JSON; may be NULL */
    bool confirmed;             /* "confirmed": true only when set */
    bool has_fport;
    uint8_t f_port;
    uint32_t f_cnt;
    const uint8_t *frm; size_t frm_len; /* decrypted FRMPayload */
    const char *decoded_json;   /* object text from the formatter, or NULL */
    const char *warnings_json;  /* array text, or NULL */
    const char *decode_error;   /* formatter error (reported in "decoded_payload_errors": [msg]) or NULL */
    const lw_as_rx *rx; size_t n_rx;
    lw_as_settings settings;
    uint32_t consumed_airtime_us;
    uint32_t net_id;            /* "network_ids": {"net_id": "000013", "tenant_id": .., "cluster_id": ..} */
    const char *cluster_id;     /* NULL = omitted */
    uint32_t last_a_f_cnt_down; /* TTS: last_a_f_cnt_down, omitted when 0 */
} lw_as_uplink;

typedef struct lw_as_join {
    const char *correlation_id;
    int64_t received_at_us;
    const uint8_t *session_key_id; size_t session_key_id_len;
    const lw_as_rx *rx; size_t n_rx;      /* TTS's join message carries no rx_metadata; kept for logs */
    lw_as_settings settings;
    uint32_t net_id;
} lw_as_join;

typedef enum {
    LW_PRIO_LOWEST, LW_PRIO_LOW, LW_PRIO_BELOW_NORMAL, LW_PRIO_NORMAL, LW_PRIO_ABOVE_NORMAL, LW_PRIO_HIGH,
    LW_PRIO_HIGHEST
} lw_as_priority;

typedef struct lw_as_downlink {
    uint8_t f_port;
    uint8_t frm[256];
    size_t frm_len;
    bool has_frm;          /* frm_payload given (else decoded_json must be set) */
    char *decoded_json;    /* "decoded_payload" object text (owned), or NULL */
    bool confirmed;
    lw_as_priority priority;
    uint32_t f_cnt;        /* set when sent (in events after queued) */
    char *correlation_ids_json; /* array text (owned) as given, or NULL */
    char session_key_id[48];    /* base64, "" = omitted */
} lw_as_downlink;

typedef enum {
    LW_DOWN_QUEUED, LW_DOWN_SENT, LW_DOWN_ACK, LW_DOWN_NACK, LW_DOWN_FAILED
} lw_as_down_kind;

int lw_as_topic(const lw_as_ids *ids, const char *suffix, char *out, size_t cap);
int lw_as_uplink_json(const lw_as_uplink *up, buf_t *out);
int lw_as_join_json(const lw_as_ids *ids, const lw_as_join *join, buf_t *out);
int lw_as_down_event_json(const lw_as_ids *ids, lw_as_down_kind kind, const lw_as_downlink *dl, const char *error,
                          int64_t now_us, buf_t *out);
int lw_as_parse_downlinks(const char *json, size_t n, lw_as_downlink *out, size_t max, size_t *count, char *err,
                          size_t errlen);
void lw_as_downlink_clear(lw_as_downlink *dl);
size_t lw_rfc3339(int64_t us, char *out, size_t cap);
const char *lw_as_priority_name(lw_as_priority p);
#endif
