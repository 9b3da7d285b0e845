/* LoRaWAN network, join and application server in one sans-I/O engine. The host feeds it UDP
 * datagrams from gateways (Semtech packet forwarder, gwproto.h), MQTT downlink requests and the
 * clock; the engine answers through lw_ns_io callbacks: datagrams to send, MQTT messages to publish
 * (The Things Stack v3 JSON, as_json.h), sessions to persist, DevNonces to check.
 *
 * Uplink path: PUSH_DATA -> PUSH_ACK; each CRC-ok rxpk is deduplicated by PHYPayload for
 * conf.dedup_ms (every gateway's reception collected); when the window closes the frame is parsed,
 * matched to a device by DevAddr + MIC (several devices may share a DevAddr), the 32-bit FCnt is
 * reconstructed and replays rejected, MAC commands are answered, ADR runs (adr.h), FRMPayload is
 * decrypted, the formatter decodes it, and the uplink is published on v3/{app}@{tenant}/devices/{dev}/up.
 * Join path: JoinRequest -> device by (JoinEUI, DevEUI), MIC with AppKey, DevNonce replay check
 * (io.devnonce_use), new DevAddr and session keys, JoinAccept (CFList for the region) in RX1 at
 * tmst + 5 s or RX2 at + 6 s, /join published.
 * Downlinks (class A): sent after an uplink when there is something to say (ACK of a confirmed
 * uplink, MAC commands, ADRACKReq, queued application data) through the gateway that heard the
 * uplink best, in RX1 (tmst + RX1 delay) or RX2 (one second later, region's RX2 frequency/DR) when
 * RX1 cannot carry the payload or the gateway's duty cycle forbids it; a TX_ACK error moves an RX1
 * downlink to RX2. Confirmed downlinks wait for the ACK bit in the next uplink: /down/ack, else
 * /down/nack and a retry, up to conf.confirmed_retries, then /down/failed.
 *
 * Contract (ints: 0 ok, -1 error with a message in err):
 *   lw_ns_conf_defaults(c)
 *   lw_ns_new(conf,io,fmt)                 engine; fmt may be NULL (formatters then off)
 *   lw_ns_free(ns)
 *   lw_ns_app_put(ns,a) / lw_ns_app_remove(ns,id)       application registration (copied)
 *   lw_ns_dev_put(ns,d) / lw_ns_dev_remove(ns,app,dev)  device registration + stored session (copied;
 *                                          a re-put keeps the engine's newer session unless keys,
 *                                          DevAddr or activation changed)
 *   lw_ns_gw_put(ns,g)                     a known gateway (id, location)
 *   lw_ns_udp_input(ns,from,d,n,now)       one datagram from a gateway at address `from`
 *   lw_ns_downlink_push(ns,app,dev,json,n,replace,now,err,n)  TTS {"downlinks":[...]} for a device
 *   lw_ns_tick(ns,now)                     close due dedup windows, expire waits; call at
 *                                          lw_ns_next_deadline(ns) (ms, UINT64_MAX = nothing due)
 *   lw_ns_dev_get(ns,app,dev,out)          fill *out with the engine's record, session included (0), or
 *                                          -1 if unknown. The engine keeps no device name (out->name is
 *                                          empty); out->fmt_src is borrowed (valid until the device is
 *                                          put/removed again): do not lw_dev_rec_clear out
 *   lw_ns_stats_get(ns)                    counters (for /metrics and the logs)
 *   lw_ns_gw_status(ns,cb,ud)              each gateway seen: record, last seen, last stat
 * `now` is monotonic milliseconds; wall-clock times come from io.wall_us. */
#ifndef TE_LORAWAN_NS_H
#define TE_LORAWAN_NS_H
#include "lorawan/device.h"
#include "lorawan/formatter.h"
#include "lorawan/gwproto.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* an opaque peer address (the host's sockaddr bytes) */
typedef struct lw_ns_addr {
    uint8_t b[28];
    uint8_t len;
} lw_ns_addr;

typedef struct lw_ns_conf {
    const char *tenant;          /* "ttn": topics v3/{app}@ttn/... as on The Things Network */
    const char *cluster_id;      /* network_ids.cluster_id ("tinyedge") */
    uint32_t net_id;             /* 24-bit NetID (0x000013, The Things Network's) */
    uint32_t dedup_ms;           /* deduplication window (200) */
    uint8_t rx1_delay_s;         /* RX1 delay given at join (1; 1..15) */
    uint8_t join_delay_s;        /* JOIN_ACCEPT_DELAY1 (5) */
    float adr_margin_db;         /* installation margin (10) */
    uint8_t confirmed_retries;   /* confirmed downlink retries before /down/failed (3) */
    uint32_t max_queue;          /* queued downlinks per device (16) */
    bool allow_unknown_gateways; /* accept traffic from gateways not registered (true) */
    uint32_t tx_ack_timeout_ms;  /* no TX_ACK within this: treat the downlink as sent (2000) */
} lw_ns_conf;

typedef struct lw_ns_io {
    void *ud;
    void (*send)(void *ud, const lw_ns_addr *to, const uint8_t *d, size_t n);
    void (*publish)(void *ud, const char *topic, const uint8_t *payload, size_t n);
    /* the session of d changed (FCnt, join, MAC state): persist it (hosts batch these). In this and
     * devnonce_use, d is a temporary built for the call (no name, fmt_src borrowed): copy what you keep */
    void (*session_dirty)(void *ud, const lw_dev_rec *d);
    /* 1 if the DevNonce was never used by this device (and is now recorded), 0 if replayed, <0 error */
    int (*devnonce_use)(void *ud, const lw_dev_rec *d, uint16_t nonce);
    int64_t (*wall_us)(void *ud);
    /* optional: every event as one line for live views/logs (kind "up", "join", "down", "drop") */
    void (*event)(void *ud, const char *kind, const char *app_id, const char *dev_id, const char *detail);
} lw_ns_io;

typedef struct lw_ns_stats {
    uint64_t datagrams, bad_datagrams, push_data, pull_data, tx_ack, tx_ack_errors;
    uint64_t rxpk, rxpk_crc_bad, rxpk_dup, unknown_gateway;
    uint64_t uplinks, uplinks_confirmed, retransmissions, joins, join_rejected, devnonce_replays;
    uint64_t bad_frames, mic_failures, unknown_devaddr, unknown_deveui, fcnt_replays, oversize;
    uint64_t downlinks, downlinks_rx2, downlinks_failed, downlinks_acked, downlinks_nacked;
    uint64_t mac_commands_in, mac_commands_out, adr_requests, formatter_errors, published;
} lw_ns_stats;

typedef struct lw_ns_gw_info {
    const lw_gw_rec *rec;     /* registered data or the defaults for an unknown gateway */
    bool known;
    bool has_pull_addr;       /* downlinks possible */
    uint64_t last_seen_mono_ms;
    int64_t last_seen_wall_us;
    bool has_stat;
    lw_gw_stat stat;
    uint64_t rx, tx;
} lw_ns_gw_info;

typedef struct lw_ns lw_ns;

void lw_ns_conf_defaults(lw_ns_conf *c);
lw_ns *lw_ns_new(const lw_ns_conf *conf, const lw_ns_io *io, lw_fmt_engine *fmt);
void lw_ns_free(lw_ns *ns);
int lw_ns_app_put(lw_ns *ns, const lw_app_rec *a);
void lw_ns_app_remove(lw_ns *ns, const char *app_id);
int lw_ns_dev_put(lw_ns *ns, const lw_dev_rec *d);
void lw_ns_dev_remove(lw_ns *ns, const char *app_id, const char *dev_id);
int lw_ns_gw_put(lw_ns *ns, const lw_gw_rec *g);
void lw_ns_gw_remove(lw_ns *ns, const uint8_t eui[8]);
void lw_ns_udp_input(lw_ns *ns, const lw_ns_addr *from, const uint8_t *d, size_t n, uint64_t now);
int lw_ns_downlink_push(lw_ns *ns, const char *app_id, const char *dev_id, const char *json, size_t n, bool replace,
                        uint64_t now, char *err, size_t errlen);
void lw_ns_tick(lw_ns *ns, uint64_t now);
uint64_t lw_ns_next_deadline(const lw_ns *ns);
int lw_ns_dev_get(const lw_ns *ns, const char *app_id, const char *dev_id, lw_dev_rec *out);
const lw_ns_stats *lw_ns_stats_get(const lw_ns *ns);
void lw_ns_gw_status(const lw_ns *ns, void (*cb)(void *ud, const lw_ns_gw_info *g), void *ud);
size_t lw_ns_device_count(const lw_ns *ns);
#endif
