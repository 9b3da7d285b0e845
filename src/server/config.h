/* server/config: every option of `tinyedge serve` and `tinyedge broker`, with its default, its
 * command-line flag and its INI key, in one table; plus the mosquitto.conf reader for
 * `tinyedge broker -c`. An option set nowhere keeps its default, so no file is needed.
 *
 *   te_config_init(cfg)                      defaults
 *   te_config_load_ini(cfg, path, err, n)    read a tinyedge INI file (keys as in --help)
 *   te_config_parse_args(cfg, argc, argv, &i, err, n)  flags; stops at the first non-flag
 *   te_config_load_mosquitto(cfg, path, err, n)  read a mosquitto.conf (common subset; unknown
 *                                            keys are warned about by name)
 *   te_config_usage(f)                       the option table for --help
 *   te_config_listeners(cfg)                 fill cfg->listeners from the port options when
 *                                            no listener was configured explicitly
 *   te_config_free(cfg)                      release strings and lists */
#ifndef TE_SERVER_CONFIG_H
#define TE_SERVER_CONFIG_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define TE_MAX_LISTENERS 16
#define TE_MAX_BRIDGES 8
#define TE_MAX_BRIDGE_TOPICS 32

typedef struct te_listener {
    int port;
    char *bind;
    bool websockets;
    char *certfile, *keyfile, *cafile, *capath;
    bool require_certificate;
    bool use_identity_as_username;
} te_listener;

typedef struct te_bridge_topic {
    char *pattern;
    int direction; /* 0 both, 1 in, 2 out */
    int qos;
    char *local_prefix, *remote_prefix;
} te_bridge_topic;

typedef struct te_bridge {
    char *name;
    char *host;
    int port;
    char *remote_clientid, *remote_username, *remote_password;
    bool cleansession;
    int keepalive;
    int protocol_version; /* 4 (3.1.1) or 5 */
    bool tls;
    char *cafile, *certfile, *keyfile;
    bool insecure;
    te_bridge_topic topics[TE_MAX_BRIDGE_TOPICS];
    int ntopics;
} te_bridge;

typedef struct te_config {
    /* [server] */
    char *data_dir;
    char *bind;
    char *log_level;
    int http_port;
    char *http_api_key;
    /* [mqtt] */
    int mqtt_port, mqtt_tls_port, mqtt_ws_port, mqtt_wss_port;
    char *mqtt_certfile, *mqtt_keyfile, *mqtt_cafile;
    bool mqtt_require_certificate;
    bool mqtt_allow_anonymous;
    char *mqtt_password_file, *mqtt_acl_file;
    int mqtt_max_inflight_messages, mqtt_max_queued_messages;
    int mqtt_max_packet_size, mqtt_message_size_limit, mqtt_max_keepalive;
    bool mqtt_retain_available;
    bool mqtt_persistence;
    char *mqtt_fsync;                 /* never | batch | always */
    int mqtt_fsync_interval_ms;
    int mqtt_autosave_interval;       /* seconds between compaction checks */
    int mqtt_sys_interval;
    bool mqtt_queue_qos0_messages;
    int mqtt_max_queued_bytes, mqtt_max_connections, mqtt_persistent_client_expiration;
    bool mqtt_allow_zero_length_clientid;
    /* [lorawan] */
    bool lorawan;                     /* gateway bridge + network/join/application server */
    int udp_port;                     /* Semtech UDP packet forwarder port */
    char *lorawan_tenant, *lorawan_net_id, *lorawan_cluster_id;
    int lorawan_dedup_ms, lorawan_rx1_delay, lorawan_adr_margin_db, lorawan_confirmed_retries;
    int lorawan_formatter_timeout_ms, lorawan_formatter_memory_mb;
    bool lorawan_allow_unknown_gateways, lorawan_mqtt_private;
    /* explicit listeners (mosquitto.conf `listener`), else derived from the ports */
    te_listener listeners[TE_MAX_LISTENERS];
    int nlisteners;
    bool listeners_explicit;
    te_bridge bridges[TE_MAX_BRIDGES];
    int nbridges;
    bool daemon;
    bool verbose;
} te_config;

void te_config_init(te_config *c);
void te_config_free(te_config *c);
int te_config_load_ini(te_config *c, const char *path, char *err, size_t errlen);
int te_config_parse_args(te_config *c, int argc, char **argv, int *idx, char *err, size_t errlen);
int te_config_load_mosquitto(te_config *c, const char *path, char *err, size_t errlen);
void te_config_usage(FILE *f);
void te_config_listeners(te_config *c);
#endif
