/* server/bridge: Mosquitto-style bridges. One te_bridge_link per `connection` of the
 * configuration: an MQTT 3.1.1 or 5.0 client connection (TCP, or TLS when a CA file is set) from
 * this broker to a remote broker, with topic remapping as mosquitto.conf(5) documents it:
 *   `out`  an internal subscription on local_prefix+pattern; each message is published to the
 *          remote as remote_prefix+rest, at min(message QoS, topic QoS);
 *   `in`   a SUBSCRIBE on the remote to remote_prefix+pattern at the topic QoS; each message is
 *          published locally as local_prefix+rest with this link as its `origin`;
 *   `both` both, with loop prevention: messages whose origin is this link are never sent back,
 *          v5 remote subscriptions use No Local, and on 3.1.1 (no No Local) the copies of our own
 *          messages that the remote echoes back are recognised and dropped.
 * QoS 1/2 towards the remote go through an in-flight window with packet ids; while the link is
 * down QoS 1/2 messages are queued in memory (bounded; overflow is counted and logged; QoS 0 is
 * dropped, as mosquitto does) and sent in order once the link returns, after the unacknowledged
 * in-flight ones, which are resent with DUP. The link reconnects with exponential backoff (1 s
 * doubling to 30 s, with jitter), pings the remote every keepalive and drops it when a PINGRESP
 * does not come within another keepalive. The state is published locally, retained, on
 * $SYS/broker/connection/<remote_clientid>/state ("1" up, "0" down) and, as mosquitto does, to the
 * remote as well ("1" after CONNACK, "0" as the CONNECT's will). Malformed input from the remote
 * closes the link (then it reconnects).
 *
 *   te_bridge_start(loop, broker, conf, opts, &out, err, n)  set up one bridge and start
 *                                        connecting; 0, or -1 with a message (bad topic mapping)
 *   te_bridge_stop(l)                    publish state "0" to both sides, DISCONNECT and close the
 *                                        link, stop timers; messages arriving later are ignored
 *   te_bridge_free(l)                    release everything; only after stop and after the loop
 *                                        has run its pending callbacks (and the broker is gone or
 *                                        will never route again)
 *   te_bridge_connected(l)               true while the link is up (CONNACK accepted)
 *   te_bridge_stats_get(l)               counters (sent, received, queued, dropped, connects)
 * `conf` must outlive the link. */
#ifndef TE_SERVER_BRIDGE_H
#define TE_SERVER_BRIDGE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "mqtt/broker.h"
#include "server/config.h"

typedef struct te_bridge_link te_bridge_link;

typedef struct te_bridge_opts {
    uint32_t max_inflight;     /* QoS 1/2 messages unacknowledged by the remote (0 = 20) */
    uint32_t max_queued;       /* messages held while the window is full or the link is down
                                  (0 = 10000) */
    uint64_t max_queued_bytes; /* payload+topic bytes held (0 = 64 MiB) */
    uint32_t max_packet_size;  /* largest packet accepted from the remote (0 = protocol max) */
} te_bridge_opts;

typedef struct te_bridge_stats {
    uint64_t connects;      /* CONNACKs accepted */
    uint64_t attempts;      /* connection attempts */
    uint64_t sent, received; /* PUBLISHes to / from the remote (first sends, not resends) */
    uint64_t resent;        /* DUP resends after reconnect */
    uint64_t echoes;        /* 3.1.1 echoes of our own messages dropped */
    uint64_t dropped;       /* queue overflow, and QoS 0 while down */
    uint64_t queued, inflight; /* current */
} te_bridge_stats;

int te_bridge_start(uv_loop_t *loop, mqtt_broker *broker, const te_bridge *conf, const te_bridge_opts *opts,
                    te_bridge_link **out, char *err, size_t errlen);
void te_bridge_stop(te_bridge_link *l);
void te_bridge_free(te_bridge_link *l);
bool te_bridge_connected(const te_bridge_link *l);
const te_bridge_stats *te_bridge_stats_get(const te_bridge_link *l);
#endif
