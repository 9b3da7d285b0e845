/* mqtt/broker: the MQTT broker engine, sans-I/O. It is fed bytes per connection and emits bytes
 * through the host's callbacks; it owns sessions, subscriptions, retained messages, in-flight and
 * queued messages, wills and $SYS. Timers are driven by mqtt_broker_tick(). Persistence goes
 * through an optional mqtt_store (mqtt/store.h) the host attaches.
 *
 *   mqtt_broker_new(conf, io)             a broker; conf is copied (pointers in it must outlive it)
 *   mqtt_broker_free(b)                   frees everything (connections must be closed by the host)
 *   mqtt_broker_accept(b, conn, peer, now) a new transport connection -> engine client handle
 *                                         (`peer` must stay valid until mqtt_broker_closed)
 *   mqtt_broker_input(b, c, p, n, now)    bytes received; may call io->write / io->close
 *   mqtt_broker_closed(b, c, now)         the transport is gone (after io->close or a peer close);
 *                                         `c` is freed; wills are handled here
 *   mqtt_broker_tick(b, now)              keep-alive, connect timeout, will delay, session and
 *                                         message expiry, $SYS publication; call every ~100-250 ms
 *   mqtt_broker_publish(b, ...)           publish from inside the process (LoRaWAN, alerts, ...)
 *   mqtt_broker_publish_ex(b, ...)        the same with v5 properties (raw forwardable block) and an
 *                                         `origin` tag that internal subscribers see (bridges use it
 *                                         to avoid sending a message back where it came from)
 *   mqtt_broker_subscribe_internal(...)   an in-process subscriber called synchronously per message
 *   mqtt_broker_stats(b)                  counters for /metrics and $SYS
 *   mqtt_broker_shutdown(b)               send DISCONNECT 0x8B (v5) to every client and close them
 *   mqtt_broker_resume_input(b, c)        host: retry input held back by back-pressure
 *   mqtt_broker_drained(b, c, now)        host: client c's backed-up output reached the kernel;
 *                                         publishers paused on slow subscribers are resumed
 *   mqtt_broker_paused_count(b)           clients whose input is held (0: nothing to resume)
 * All `now` values are monotonic milliseconds. */
#ifndef TE_MQTT_BROKER_H
#define TE_MQTT_BROKER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mqtt_broker mqtt_broker;
typedef struct mqtt_client mqtt_client;
struct mqtt_store;

enum { MQTT_ACCESS_READ = 1, MQTT_ACCESS_WRITE = 2, MQTT_ACCESS_SUBSCRIBE = 4 };

typedef struct mqtt_broker_conf {
    uint32_t max_inflight;        /* outgoing QoS 1/2 window per client, also our Receive Maximum (20) */
    uint32_t max_queued;          /* messages queued per session beyond the window (1000); 0 = no limit */
    uint64_t max_queued_bytes;    /* payload bytes queued per session; 0 = no limit */
    uint32_t max_connections;     /* connected clients at most; 0 = no limit */
    uint32_t persistent_expiry_s; /* sessions that would never expire (3.1.1 clean=0, v5 0xFFFFFFFF)
                                     expire after this long offline; 0 = never (mosquitto's
                                     persistent_client_expiration) */
    uint32_t max_packet_size;     /* incoming packet limit, 0 = protocol maximum */
    uint32_t message_size_limit;  /* payload limit, 0 = none */
    uint16_t max_keepalive;       /* 65535 */
    uint16_t topic_alias_max;     /* aliases a client may set (10) */
    bool retain_available;        /* true */
    bool allow_anonymous;         /* true when no password check is configured */
    bool allow_zero_length_clientid; /* true */
    bool queue_qos0_offline;      /* queue QoS 0 for offline persistent sessions (false) */
    uint32_t connect_timeout_ms;  /* a CONNECT must complete within this (10000) */
    uint32_t sys_interval_s;      /* $SYS publication period, 0 = off (10) */
    uint64_t out_high_water;      /* transport bytes queued to a subscriber above which the publishers
                                     feeding it stop being read until it drains (1 MiB) */
    uint64_t max_out_pending;     /* transport bytes queued to a client before QoS 0 is dropped (8 MiB) */
    const char *version_string;   /* for $SYS/broker/version */
    /* Authentication: return 1 to accept. NULL = accept when allow_anonymous or any credentials. */
    int (*auth)(void *ud, const char *client_id, const char *username, const uint8_t *password,
                size_t password_len, const char *tls_cn);
    /* Authorization: return 1 to allow `access` (MQTT_ACCESS_*) on a topic or filter. NULL = allow. */
    int (*acl)(void *ud, const char *client_id, const char *username, const char *topic, int access);
    void *auth_ud;
} mqtt_broker_conf;

void mqtt_broker_conf_defaults(mqtt_broker_conf *c);

typedef struct mqtt_broker_io {
    void *ud;
    /* queue bytes to the client's transport; return 0, or -1 if the transport is gone */
    int (*write)(void *ud, void *conn, const uint8_t *p, size_t n);
    /* flush then close; the host calls mqtt_broker_closed() later (never from inside this call) */
    void (*close)(void *ud, void *conn);
    /* bytes queued in the transport not yet sent (for slow-subscriber handling); may be NULL */
    size_t (*pending)(void *ud, void *conn);
    /* stop / restart reading from a connection (back-pressure); may be NULL */
    void (*pause)(void *ud, void *conn, bool paused);
} mqtt_broker_io;

typedef struct mqtt_broker_stats {
    uint64_t clients_connected, clients_total, clients_maximum, clients_expired;
    uint64_t msgs_received, msgs_sent, pub_received, pub_sent, pub_dropped, pub_refused;
    uint64_t bytes_received, bytes_sent, pub_bytes_received, pub_bytes_sent;
    uint64_t retained_count, subscriptions_count, sessions_count, queued_count, inflight_count;
    uint64_t connect_refused, protocol_errors;
    uint64_t started_ms;
} mqtt_broker_stats;

/* the message an internal subscriber sees; valid only during the callback */
typedef struct mqtt_msg_view {
    const char *topic;
    size_t topic_len;
    const uint8_t *payload;
    size_t payload_len;
    uint8_t qos;
    bool retain;
    const uint8_t *props;  /* forwardable v5 properties (raw), may be empty */
    size_t props_len;
    const void *origin;    /* as given to mqtt_broker_publish_ex, NULL for clients' messages */
} mqtt_msg_view;
typedef void (*mqtt_internal_cb)(void *ud, const mqtt_msg_view *m);

mqtt_broker *mqtt_broker_new(const mqtt_broker_conf *conf, const mqtt_broker_io *io);
void mqtt_broker_free(mqtt_broker *b);
void mqtt_broker_set_store(mqtt_broker *b, struct mqtt_store *st);
mqtt_client *mqtt_broker_accept(mqtt_broker *b, void *conn, const char *peer, const char *tls_cn,
                                uint64_t now);
int mqtt_broker_input(mqtt_broker *b, mqtt_client *c, const uint8_t *p, size_t n, uint64_t now);
void mqtt_broker_closed(mqtt_broker *b, mqtt_client *c, uint64_t now);
void mqtt_broker_tick(mqtt_broker *b, uint64_t now);
int mqtt_broker_publish(mqtt_broker *b, const char *topic, const void *payload, size_t len, uint8_t qos,
                        bool retain, uint64_t now);
int mqtt_broker_publish_ex(mqtt_broker *b, const char *topic, const void *payload, size_t len, uint8_t qos,
                           bool retain, const uint8_t *props, size_t props_len, const void *origin, uint64_t now);
int mqtt_broker_subscribe_internal(mqtt_broker *b, const char *filter, mqtt_internal_cb cb, void *ud);
const mqtt_broker_stats *mqtt_broker_stats_get(mqtt_broker *b);
void mqtt_broker_shutdown(mqtt_broker *b);
void mqtt_broker_resume_input(mqtt_broker *b, mqtt_client *c, uint64_t now);
void mqtt_broker_drained(mqtt_broker *b, mqtt_client *c, uint64_t now);
size_t mqtt_broker_paused_count(const mqtt_broker *b);
#endif
