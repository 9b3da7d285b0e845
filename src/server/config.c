/* server/config: the option table (defaults, flags, INI keys), INI loading with inih, flag
 * parsing, and the mosquitto.conf subset reader. */
#include "server/config.h"
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "base/log.h"

enum { T_STR, T_INT, T_BOOL };
typedef struct opt {
    const char *key; /* INI key; the flag is the same with '-' for '_' */
    int type;
    size_t off;
    const char *def;
    const char *help;
} opt;

#define O(k, t, f, d, h) {k, t, offsetof(te_config, f), d, h}
static const opt opts[] = {
    O("data_dir", T_STR, data_dir, "./data", "where persistent state lives"),
    O("bind", T_STR, bind, "0.0.0.0", "address every listener binds to"),
    O("log_level", T_STR, log_level, "info", "debug, info, notice, warn or error"),
    O("http_port", T_INT, http_port, "8080", "HTTP API: /health, /metrics (0 = off)"),
    O("http_api_key", T_STR, http_api_key, NULL,
      "token for /api/ (Authorization: Bearer TOKEN); unset = /api/ only from this machine (loopback)"),
    O("mqtt_port", T_INT, mqtt_port, "1883", "MQTT over TCP (0 = off)"),
    O("mqtt_tls_port", T_INT, mqtt_tls_port, "0", "MQTT over TLS (needs mqtt_certfile, mqtt_keyfile)"),
    O("mqtt_ws_port", T_INT, mqtt_ws_port, "0", "MQTT over WebSocket, subprotocol mqtt"),
    O("mqtt_wss_port", T_INT, mqtt_wss_port, "0", "MQTT over WebSocket with TLS"),
    O("mqtt_certfile", T_STR, mqtt_certfile, NULL, "PEM certificate chain for TLS listeners"),
    O("mqtt_keyfile", T_STR, mqtt_keyfile, NULL, "PEM private key for TLS listeners"),
    O("mqtt_cafile", T_STR, mqtt_cafile, NULL, "CA to verify client certificates"),
    O("mqtt_require_certificate", T_BOOL, mqtt_require_certificate, "false", "TLS clients must present a certificate"),
    O("mqtt_allow_anonymous", T_BOOL, mqtt_allow_anonymous, "true", "accept clients without a user name"),
    O("mqtt_password_file", T_STR, mqtt_password_file, NULL, "mosquitto_passwd file"),
    O("mqtt_acl_file", T_STR, mqtt_acl_file, NULL, "mosquitto ACL file"),
    O("mqtt_max_inflight_messages", T_INT, mqtt_max_inflight_messages, "20", "QoS 1/2 in flight per client"),
    O("mqtt_max_queued_messages", T_INT, mqtt_max_queued_messages, "1000", "queued per session (0 = no limit)"),
    O("mqtt_max_packet_size", T_INT, mqtt_max_packet_size, "0", "largest packet accepted (0 = protocol max)"),
    O("mqtt_message_size_limit", T_INT, mqtt_message_size_limit, "0", "largest payload accepted (0 = none)"),
    O("mqtt_max_keepalive", T_INT, mqtt_max_keepalive, "65535", "largest keep-alive granted, seconds"),
    O("mqtt_retain_available", T_BOOL, mqtt_retain_available, "true", "accept retained messages"),
    O("mqtt_persistence", T_BOOL, mqtt_persistence, "true", "persist sessions, queues and retained messages"),
    O("mqtt_fsync", T_STR, mqtt_fsync, "batch", "never | batch | always (see docs/configuration.md)"),
    O("mqtt_fsync_interval_ms", T_INT, mqtt_fsync_interval_ms, "1000", "batch: longest time between fsyncs"),
    O("mqtt_autosave_interval", T_INT, mqtt_autosave_interval, "60", "seconds between store compaction checks"),
    O("mqtt_sys_interval", T_INT, mqtt_sys_interval, "10", "seconds between $SYS updates (0 = off)"),
    O("mqtt_queue_qos0_messages", T_BOOL, mqtt_queue_qos0_messages, "false", "queue QoS 0 for offline sessions"),
    O("mqtt_max_queued_bytes", T_INT, mqtt_max_queued_bytes, "0", "payload bytes queued per session (0 = no limit)"),
    O("mqtt_max_connections", T_INT, mqtt_max_connections, "0", "connected clients at most (0 = no limit)"),
    O("mqtt_persistent_client_expiration", T_INT, mqtt_persistent_client_expiration, "0",
      "seconds offline after which a never-expiring session is removed (0 = never)"),
    O("mqtt_allow_zero_length_clientid", T_BOOL, mqtt_allow_zero_length_clientid, "true",
      "assign an id to clients that send none (3.1.1 clean, 5.0)"),
    O("lorawan", T_BOOL, lorawan, "true", "LoRaWAN gateway bridge and network/join/application server"),
    O("udp_port", T_INT, udp_port, "1700", "Semtech UDP packet forwarder port for LoRaWAN gateways (0 = off)"),
    O("lorawan_tenant", T_STR, lorawan_tenant, "ttn", "tenant in MQTT topics v3/{app}@{tenant}/devices/{dev}/..."),
    O("lorawan_net_id", T_STR, lorawan_net_id, "000013", "NetID (6 hex digits); DevAddrs are allocated in its prefix"),
    O("lorawan_cluster_id", T_STR, lorawan_cluster_id, "tinyedge", "network_ids.cluster_id in uplink messages"),
    O("lorawan_dedup_ms", T_INT, lorawan_dedup_ms, "200", "deduplication window for an uplink heard by several gateways"),
    O("lorawan_rx1_delay", T_INT, lorawan_rx1_delay, "1", "RX1 delay in seconds given to devices at join (1..15)"),
    O("lorawan_adr_margin_db", T_INT, lorawan_adr_margin_db, "10", "ADR installation margin in dB"),
    O("lorawan_confirmed_retries", T_INT, lorawan_confirmed_retries, "3", "confirmed downlink retries before down/failed"),
    O("lorawan_formatter_timeout_ms", T_INT, lorawan_formatter_timeout_ms, "100", "time limit of a JavaScript payload formatter call"),
    O("lorawan_formatter_memory_mb", T_INT, lorawan_formatter_memory_mb, "16", "memory limit of a JavaScript payload formatter"),
    O("lorawan_allow_unknown_gateways", T_BOOL, lorawan_allow_unknown_gateways, "true", "accept gateways that are not registered"),
    O("lorawan_mqtt_private", T_BOOL, lorawan_mqtt_private, "false",
      "v3/{app}@{tenant}/# only for that application's API key (user {app}@{tenant}); else open to all clients"),
};
#define NOPTS (sizeof opts / sizeof opts[0])

static int set_opt(te_config *c, const opt *o, const char *val, char *err, size_t errlen) {
    void *p = (char *)c + o->off;
    switch (o->type) {
    case T_STR: {
        char **s = p;
        free(*s);
        *s = val ? strdup(val) : NULL;
        return 0;
    }
    case T_INT: {
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (errno || end == val || *end || v < 0 || v > INT32_MAX) {
            snprintf(err, errlen, "%s: '%s' is not a valid number", o->key, val);
            return -1;
        }
        *(int *)p = (int)v;
        return 0;
    }
    case T_BOOL:
        if (!strcasecmp(val, "true") || !strcmp(val, "1") || !strcasecmp(val, "yes") || !strcasecmp(val, "on"))
            *(bool *)p = true;
        else if (!strcasecmp(val, "false") || !strcmp(val, "0") || !strcasecmp(val, "no") || !strcasecmp(val, "off"))
            *(bool *)p = false;
        else {
            snprintf(err, errlen, "%s: '%s' is not true or false", o->key, val);
            return -1;
        }
        return 0;
    }
    return -1;
}

static const opt *find_opt(const char *key) {
    for (size_t i = 0; i < NOPTS; i++)
        if (!strcmp(opts[i].key, key)) return &opts[i];
    return NULL;
}

void te_config_init(te_config *c) {
    memset(c, 0, sizeof *c);
    char err[128];
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].def) set_opt(c, &opts[i], opts[i].def, err, sizeof err);
}

static void listener_free(te_listener *l) {
    free(l->bind); free(l->certfile); free(l->keyfile); free(l->cafile); free(l->capath);
    memset(l, 0, sizeof *l);
}

void te_config_free(te_config *c) {
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].type == T_STR) free(*(char **)((char *)c + opts[i].off));
    for (int i = 0; i < c->nlisteners; i++) listener_free(&c->listeners[i]);
    for (int i = 0; i < c->nbridges; i++) {
        te_bridge *b = &c->bridges[i];
        free(b->name); free(b->host); free(b->remote_clientid); free(b->remote_username); free(b->remote_password);
        free(b->cafile); free(b->certfile); free(b->keyfile);
        for (int j = 0; j < b->ntopics; j++) {
            free(b->topics[j].pattern); free(b->topics[j].local_prefix); free(b->topics[j].remote_prefix);
        }
    }
    memset(c, 0, sizeof *c);
}

void te_config_usage(FILE *f) {
    fprintf(f, "options (flag --name VALUE, or INI key name = value; [section] key means section_key):\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", opts[i].key);
        for (char *p = flag + 2; *p; p++) if (*p == '_') *p = '-';
        fprintf(f, "  %-30s %s (default: %s)\n", flag, opts[i].help, opts[i].def ? opts[i].def : "none");
    }
    fprintf(f, "  %-30s %s\n", "--config FILE", "INI file with the keys above");
}

typedef struct ini_ctx { te_config *c; char *err; size_t errlen; int failed; } ini_ctx;

static int ini_cb(void *ud, const char *section, const char *name, const char *value) {
    ini_ctx *x = ud;
    char key[128];
    if (!section[0] || !strcmp(section, "server")) snprintf(key, sizeof key, "%s", name);
    else snprintf(key, sizeof key, "%s_%s", section, name);
    for (char *p = key; *p; p++) if (*p == '-') *p = '_';
    const opt *o = find_opt(key);
    if (!o && section[0]) o = find_opt(name); /* [lorawan] udp_port = ... */
    if (!o) {
        LOG_WARN("config", "event=unknown_key key=%s (ignored)", key);
        return 1;
    }
    if (set_opt(x->c, o, value, x->err, x->errlen)) { x->failed = 1; return 0; }
    return 1;
}

int te_config_load_ini(te_config *c, const char *path, char *err, size_t errlen) {
    ini_ctx x = {c, err, errlen, 0};
    int r = ini_parse(path, ini_cb, &x);
    if (x.failed) return -1;
    if (r < 0) { snprintf(err, errlen, "cannot read %s", path); return -1; }
    if (r > 0) { snprintf(err, errlen, "%s:%d: syntax error", path, r); return -1; }
    return 0;
}

int te_config_parse_args(te_config *c, int argc, char **argv, int *idx, char *err, size_t errlen) {
    int i = *idx;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) break;
        char name[128];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (n >= sizeof name) n = sizeof name - 1;
        memcpy(name, a + 2, n);
        name[n] = 0;
        for (char *p = name; *p; p++) if (*p == '-') *p = '_';
        if (!strcmp(name, "config")) {
            val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!val) { snprintf(err, errlen, "--config needs a file"); return -1; }
            if (te_config_load_ini(c, val, err, errlen)) return -1;
            continue;
        }
        const opt *o = find_opt(name);
        if (!o) { snprintf(err, errlen, "unknown option %s", a); return -1; }
        if (eq) val = eq + 1;
        else if (o->type == T_BOOL && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)) val = "true";
        else if (i + 1 < argc) val = argv[++i];
        else { snprintf(err, errlen, "%s needs a value", a); return -1; }
        if (set_opt(c, o, val, err, errlen)) return -1;
    }
    *idx = i;
    return 0;
}

static te_listener *add_listener(te_config *c, int port, const char *bind) {
    if (c->nlisteners >= TE_MAX_LISTENERS) return NULL;
    te_listener *l = &c->listeners[c->nlisteners++];
    memset(l, 0, sizeof *l);
    l->port = port;
    l->bind = bind && *bind ? strdup(bind) : NULL;
    return l;
}

void te_config_listeners(te_config *c) {
    if (c->listeners_explicit) return;
    te_listener *l;
    if (c->mqtt_port && (l = add_listener(c, c->mqtt_port, c->bind))) (void)l;
    if (c->mqtt_tls_port && (l = add_listener(c, c->mqtt_tls_port, c->bind))) {
        l->certfile = c->mqtt_certfile ? strdup(c->mqtt_certfile) : NULL;
        l->keyfile = c->mqtt_keyfile ? strdup(c->mqtt_keyfile) : NULL;
        l->cafile = c->mqtt_cafile ? strdup(c->mqtt_cafile) : NULL;
        l->require_certificate = c->mqtt_require_certificate;
    }
    if (c->mqtt_ws_port && (l = add_listener(c, c->mqtt_ws_port, c->bind))) l->websockets = true;
    if (c->mqtt_wss_port && (l = add_listener(c, c->mqtt_wss_port, c->bind))) {
        l->websockets = true;
        l->certfile = c->mqtt_certfile ? strdup(c->mqtt_certfile) : NULL;
        l->keyfile = c->mqtt_keyfile ? strdup(c->mqtt_keyfile) : NULL;
        l->cafile = c->mqtt_cafile ? strdup(c->mqtt_cafile) : NULL;
        l->require_certificate = c->mqtt_require_certificate;
    }
}

/* ---- mosquitto.conf ---- */

static bool parse_bool(const char *v, bool *out) {
    if (!strcmp(v, "true")) { *out = true; return true; }
    if (!strcmp(v, "false")) { *out = false; return true; }
    return false;
}

static void set_str(char **dst, const char *v) { free(*dst); *dst = strdup(v); }

int te_config_load_mosquitto(te_config *c, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) { snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno)); return -1; }
    char line[4096];
    int lineno = 0;
    te_listener *cur = NULL;  /* settings after `listener` apply to it */
    te_bridge *br = NULL;
    bool default_listener_settings = false;
    int rc = 0;
    c->mqtt_allow_anonymous = false; /* mosquitto 2.0 default once a config file is used */
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p)) p++;
        size_t n = strlen(p);
        while (n && isspace((unsigned char)p[n - 1])) p[--n] = 0;
        if (!*p || *p == '#') continue;
        char *key = p;
        while (*p && !isspace((unsigned char)*p)) p++;
        if (*p) *p++ = 0;
        while (isspace((unsigned char)*p)) p++;
        char *val = p; /* rest of line */
        bool b;
        int iv = atoi(val);
#define NEED_VAL() do { if (!*val) { snprintf(err, errlen, "%s:%d: %s needs a value", path, lineno, key); rc = -1; goto out; } } while (0)
#define NEED_BOOL() do { if (!parse_bool(val, &b)) { snprintf(err, errlen, "%s:%d: %s must be true or false", path, lineno, key); rc = -1; goto out; } } while (0)
        if (!strcmp(key, "listener")) {
            NEED_VAL();
            char *sp = val;
            while (*sp && !isspace((unsigned char)*sp)) sp++;
            char *bind = NULL;
            if (*sp) { *sp++ = 0; while (isspace((unsigned char)*sp)) sp++; if (*sp) bind = sp; }
            if (!c->listeners_explicit) { c->listeners_explicit = true; }
            cur = add_listener(c, atoi(val), bind);
            if (!cur) { snprintf(err, errlen, "%s:%d: too many listeners", path, lineno); rc = -1; goto out; }
            br = NULL;
        } else if (!strcmp(key, "port")) {
            NEED_VAL();
            c->mqtt_port = iv;
            default_listener_settings = true;
        } else if (!strcmp(key, "bind_address")) {
            NEED_VAL();
            set_str(&c->bind, val);
        } else if (!strcmp(key, "protocol")) {
            if (!strcmp(val, "websockets")) { if (cur) cur->websockets = true; else c->mqtt_ws_port = c->mqtt_port; }
            else if (strcmp(val, "mqtt")) { snprintf(err, errlen, "%s:%d: unknown protocol %s", path, lineno, val); rc = -1; goto out; }
        } else if (!strcmp(key, "certfile") || !strcmp(key, "keyfile") || !strcmp(key, "cafile") || !strcmp(key, "capath")) {
            NEED_VAL();
            if (cur) {
                char **dst = !strcmp(key, "certfile") ? &cur->certfile : !strcmp(key, "keyfile") ? &cur->keyfile
                           : !strcmp(key, "cafile") ? &cur->cafile : &cur->capath;
                set_str(dst, val);
            } else {
                if (!strcmp(key, "certfile")) set_str(&c->mqtt_certfile, val);
                else if (!strcmp(key, "keyfile")) set_str(&c->mqtt_keyfile, val);
                else if (!strcmp(key, "cafile")) set_str(&c->mqtt_cafile, val);
            }
        } else if (!strcmp(key, "require_certificate")) {
            NEED_BOOL();
            if (cur) cur->require_certificate = b; else c->mqtt_require_certificate = b;
        } else if (!strcmp(key, "use_identity_as_username")) {
            NEED_BOOL();
            if (cur) cur->use_identity_as_username = b;
        } else if (!strcmp(key, "allow_anonymous")) {
            NEED_BOOL();
            c->mqtt_allow_anonymous = b;
        } else if (!strcmp(key, "password_file")) {
            NEED_VAL();
            set_str(&c->mqtt_password_file, val);
        } else if (!strcmp(key, "acl_file")) {
            NEED_VAL();
            set_str(&c->mqtt_acl_file, val);
        } else if (!strcmp(key, "persistence")) {
            NEED_BOOL();
            c->mqtt_persistence = b;
        } else if (!strcmp(key, "persistence_location")) {
            NEED_VAL();
            set_str(&c->data_dir, val);
        } else if (!strcmp(key, "autosave_interval")) {
            c->mqtt_autosave_interval = iv;
        } else if (!strcmp(key, "max_inflight_messages")) {
            c->mqtt_max_inflight_messages = iv;
        } else if (!strcmp(key, "max_queued_messages")) {
            c->mqtt_max_queued_messages = iv;
        } else if (!strcmp(key, "max_packet_size")) {
            c->mqtt_max_packet_size = iv;
        } else if (!strcmp(key, "message_size_limit")) {
            c->mqtt_message_size_limit = iv;
        } else if (!strcmp(key, "max_keepalive")) {
            c->mqtt_max_keepalive = iv;
        } else if (!strcmp(key, "retain_available")) {
            NEED_BOOL();
            c->mqtt_retain_available = b;
        } else if (!strcmp(key, "sys_interval")) {
            c->mqtt_sys_interval = iv;
        } else if (!strcmp(key, "max_queued_bytes")) {
            c->mqtt_max_queued_bytes = iv;
        } else if (!strcmp(key, "max_connections")) {
            c->mqtt_max_connections = iv < 0 ? 0 : iv;
        } else if (!strcmp(key, "allow_zero_length_clientid")) {
            NEED_BOOL();
            c->mqtt_allow_zero_length_clientid = b;
        } else if (!strcmp(key, "persistent_client_expiration")) {
            /* mosquitto's form: a number and a unit h, d, w, m or y */
            char *end;
            long num = strtol(val, &end, 10);
            long unit = *end == 'h' ? 3600 : *end == 'd' ? 86400 : *end == 'w' ? 604800 : *end == 'm' ? 2592000
                      : *end == 'y' ? 31536000 : 0;
            if (num <= 0 || !unit || end[1]) {
                snprintf(err, errlen, "%s:%d: persistent_client_expiration must be like 2h, 14d, 1w, 6m or 1y", path, lineno);
                rc = -1;
                goto out;
            }
            c->mqtt_persistent_client_expiration = num > INT32_MAX / unit ? INT32_MAX : (int)(num * unit);
        } else if (!strcmp(key, "set_tcp_nodelay")) {
            /* tinyedge always sets TCP_NODELAY */
        } else if (!strcmp(key, "queue_qos0_messages")) {
            NEED_BOOL();
            c->mqtt_queue_qos0_messages = b;
        } else if (!strcmp(key, "connection")) {
            NEED_VAL();
            if (c->nbridges >= TE_MAX_BRIDGES) { snprintf(err, errlen, "%s:%d: too many bridges", path, lineno); rc = -1; goto out; }
            br = &c->bridges[c->nbridges++];
            memset(br, 0, sizeof *br);
            br->name = strdup(val);
            br->port = 1883;
            br->cleansession = false;
            br->keepalive = 60;
            br->protocol_version = 4;
            cur = NULL;
        } else if (br && !strcmp(key, "address")) {
            NEED_VAL();
            char *first = strtok(val, " ,");
            char *colon = first ? strrchr(first, ':') : NULL;
            if (colon) { *colon = 0; br->port = atoi(colon + 1); }
            set_str(&br->host, first ? first : val);
        } else if (br && !strcmp(key, "topic")) {
            NEED_VAL();
            if (br->ntopics >= TE_MAX_BRIDGE_TOPICS) { snprintf(err, errlen, "%s:%d: too many bridge topics", path, lineno); rc = -1; goto out; }
            te_bridge_topic *t = &br->topics[br->ntopics++];
            memset(t, 0, sizeof *t);
            char *fields[5] = {0};
            int nf = 0;
            for (char *tok = strtok(val, " \t"); tok && nf < 5; tok = strtok(NULL, " \t")) fields[nf++] = tok;
            t->pattern = strdup(fields[0]);
            t->direction = 2;
            if (nf > 1) {
                if (!strcmp(fields[1], "in")) t->direction = 1;
                else if (!strcmp(fields[1], "out")) t->direction = 2;
                else if (!strcmp(fields[1], "both")) t->direction = 0;
                else { snprintf(err, errlen, "%s:%d: bridge topic direction must be in, out or both", path, lineno); rc = -1; goto out; }
            }
            t->qos = nf > 2 ? atoi(fields[2]) : 0;
            if (t->qos < 0 || t->qos > 2) { snprintf(err, errlen, "%s:%d: bridge topic qos must be 0-2", path, lineno); rc = -1; goto out; }
            if (nf > 3 && strcmp(fields[3], "\"\"")) t->local_prefix = strdup(fields[3]);
            if (nf > 4 && strcmp(fields[4], "\"\"")) t->remote_prefix = strdup(fields[4]);
        } else if (br && (!strcmp(key, "remote_clientid") || !strcmp(key, "clientid"))) {
            set_str(&br->remote_clientid, val);
        } else if (br && (!strcmp(key, "remote_username") || !strcmp(key, "username"))) {
            set_str(&br->remote_username, val);
        } else if (br && (!strcmp(key, "remote_password") || !strcmp(key, "password"))) {
            set_str(&br->remote_password, val);
        } else if (br && !strcmp(key, "cleansession")) {
            NEED_BOOL();
            br->cleansession = b;
        } else if (br && !strcmp(key, "keepalive_interval")) {
            br->keepalive = iv;
        } else if (br && !strcmp(key, "bridge_protocol_version")) {
            br->protocol_version = !strcmp(val, "mqttv50") ? 5 : 4;
        } else if (br && !strcmp(key, "bridge_cafile")) {
            set_str(&br->cafile, val); br->tls = true;
        } else if (br && !strcmp(key, "bridge_certfile")) {
            set_str(&br->certfile, val);
        } else if (br && !strcmp(key, "bridge_keyfile")) {
            set_str(&br->keyfile, val);
        } else if (br && !strcmp(key, "bridge_insecure")) {
            NEED_BOOL();
            br->insecure = b;
        } else if (!strcmp(key, "log_dest") || !strcmp(key, "log_type") || !strcmp(key, "log_timestamp") ||
                   !strcmp(key, "log_timestamp_format") || !strcmp(key, "pid_file") || !strcmp(key, "user") ||
                   !strcmp(key, "connection_messages") || !strcmp(key, "per_listener_settings") ||
                   !strcmp(key, "persistence_file") || !strcmp(key, "include_dir") || !strcmp(key, "socket_domain")) {
            LOG_WARN("config", "event=unsupported_key file=%s line=%d key=%s (ignored: tinyedge logs to stderr and "
                     "keeps its own file names)", path, lineno, key);
        } else {
            LOG_WARN("config", "event=unknown_key file=%s line=%d key=%s (ignored)", path, lineno, key);
        }
    }
    if (!c->listeners_explicit && default_listener_settings) { /* `port` without `listener` */ }
out:
    fclose(f);
    return rc;
}
