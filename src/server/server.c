/* server: the one event loop. Builds the broker from the configuration, attaches its store,
 * opens the MQTT listeners (TCP, TLS, WebSocket) and the HTTP listener, drives the broker's timers,
 * flushes the store before transport output each loop turn, and shuts down cleanly on a signal. */
#include "server/server.h"
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "base/clock.h"
#include "base/log.h"
#include "mqtt/broker.h"
#include "mqtt/store.h"
#include "net/net.h"
#include "server/bridge.h"
#include "server/mqtt_auth_glue.h"
#include "server/http_api.h"
#include "server/lorawan.h"

typedef struct listener_ctx {
    struct te_server *srv;
    const te_listener *conf;
    net_listener *l;
} listener_ctx;

typedef struct te_server {
    uv_loop_t *loop;
    te_config *cfg;
    mqtt_broker *broker;
    mqtt_store *store;
    te_auth *auth;
    listener_ctx listeners[TE_MAX_LISTENERS];
    int nlisteners;
    net_listener *http;
    te_bridge_link *bridges[TE_MAX_BRIDGES];
    int nbridges;
    uv_timer_t tick;
    uv_idle_t resume;
    uv_signal_t sigint, sigterm;
    te_lorawan *lorawan;
    uint64_t last_compact, last_autosave;
    bool stopping;
} te_server;

/* ---- broker <-> transport ---- */

static int io_write(void *ud, void *conn, const uint8_t *p, size_t n) { return net_conn_write(conn, p, n); }
static void io_close(void *ud, void *conn) { net_conn_close(conn); }
static size_t io_pending(void *ud, void *conn) { return net_conn_pending(conn); }
static void io_pause(void *ud, void *conn, bool paused) {
    if (paused) net_conn_pause_read(conn);
    else net_conn_resume_read(conn);
}

static void mqtt_on_open(net_conn *c, void *ud) {
    listener_ctx *lc = ud;
    te_server *s = lc->srv;
    const char *cn = lc->conf->use_identity_as_username ? net_conn_tls_cn(c) : NULL;
    mqtt_client *mc = mqtt_broker_accept(s->broker, c, net_conn_peer(c), cn, te_mono_ms());
    if (!mc) { net_conn_abort(c); return; }
    net_conn_set_data(c, mc);
}

/* one server per process: the transport callbacks reach it here */
static te_server *g_srv;

static void mqtt_on_data(net_conn *c, const uint8_t *p, size_t n) {
    mqtt_client *mc = net_conn_data(c);
    if (mc) mqtt_broker_input(g_srv->broker, mc, p, n, te_mono_ms());
}

static void mqtt_on_close(net_conn *c) {
    mqtt_client *mc = net_conn_data(c);
    if (mc) mqtt_broker_closed(g_srv->broker, mc, te_mono_ms());
    net_conn_set_data(c, NULL);
}

/* A subscriber's output drained: resume paused publishers, but from the loop's idle phase, not
 * from inside the transport's flush (the store must be flushed before any acknowledgement that
 * the resumed input produces is sent; that happens in the next flush). */
static void on_resume_idle(uv_idle_t *h) {
    te_server *s = h->data;
    uv_idle_stop(h);
    mqtt_broker_drained(s->broker, NULL, te_mono_ms());
}

static void mqtt_on_drain(net_conn *c) {
    if (mqtt_broker_paused_count(g_srv->broker) && !uv_is_active((uv_handle_t *)&g_srv->resume))
        uv_idle_start(&g_srv->resume, on_resume_idle);
}

static const net_conn_cbs mqtt_cbs = {mqtt_on_open, mqtt_on_data, mqtt_on_close, NULL, mqtt_on_drain};

static void before_flush(void *ud) {
    te_server *s = ud;
    if (s->store) mqtt_store_flush(s->store, te_mono_ms());
}

static void on_tick(uv_timer_t *t) {
    te_server *s = t->data;
    uint64_t now = te_mono_ms();
    mqtt_broker_tick(s->broker, now);
    if (s->store) mqtt_store_flush(s->store, now); /* records that no acknowledgement pushed out */
    /* compact when the log has grown well past the live state (checked every second: a busy
     * persistent QoS 1 flow appends ~150 B per message), and in any case every autosave_interval */
    if (s->store && now - s->last_compact >= 1000u) {
        bool periodic = s->cfg->mqtt_autosave_interval > 0 &&
                        now - s->last_autosave >= (uint64_t)s->cfg->mqtt_autosave_interval * 1000u;
        if (periodic) s->last_autosave = now;
        if (mqtt_store_maybe_compact(s->store, s->broker, periodic)) s->last_compact = now;
    }
}

static void close_walk(uv_handle_t *h, void *arg) {
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

static void on_signal(uv_signal_t *sig, int signum) {
    te_server *s = sig->data;
    if (s->stopping) return;
    s->stopping = true;
    LOG_NOTICE("server", "event=shutdown signal=%d", signum);
    for (int i = 0; i < s->nbridges; i++) te_bridge_stop(s->bridges[i]);
    mqtt_broker_shutdown(s->broker);
    for (int i = 0; i < s->nlisteners; i++) if (s->listeners[i].l) net_listener_close(s->listeners[i].l);
    if (s->http) net_listener_close(s->http);
    te_lorawan_stop(s->lorawan);
    uv_timer_stop(&s->tick);
    uv_idle_stop(&s->resume);
    uv_signal_stop(&s->sigint);
    uv_signal_stop(&s->sigterm);
    uv_stop(s->loop);
}

static void raise_nofile(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int start_mqtt_listener(te_server *s, const te_listener *l) {
    listener_ctx *lc = &s->listeners[s->nlisteners];
    lc->srv = s;
    lc->conf = l;
    net_listen_opts o;
    memset(&o, 0, sizeof o);
    o.bind = l->bind ? l->bind : s->cfg->bind;
    o.port = l->port;
    o.tls = l->certfile != NULL;
    o.tls_opts.certfile = l->certfile;
    o.tls_opts.keyfile = l->keyfile;
    o.tls_opts.cafile = l->cafile;
    o.tls_opts.capath = l->capath;
    o.tls_opts.require_certificate = l->require_certificate;
    o.websocket = l->websockets;
    o.ws_subprotocol = l->websockets ? "mqtt" : NULL;
    char err[256];
    if (net_listen(s->loop, &o, &mqtt_cbs, lc, &lc->l, err, sizeof err)) {
        LOG_ERROR("server", "event=listen_failed service=mqtt port=%d err=\"%s\"", l->port, err);
        return -1;
    }
    s->nlisteners++;
    LOG_NOTICE("server", "event=listening service=mqtt%s%s bind=%s port=%d", o.websocket ? "-ws" : "",
               o.tls ? "-tls" : "", o.bind && *o.bind ? o.bind : "0.0.0.0", net_listener_port(lc->l));
    return 0;
}

int te_server_run(te_config *cfg) {
    static te_server srv;
    te_server *s = &srv;
    memset(s, 0, sizeof *s);
    g_srv = s;
    s->cfg = cfg;
    s->loop = uv_default_loop();
    raise_nofile();
    signal(SIGPIPE, SIG_IGN);

    char err[512];
    mqtt_broker_conf bc;
    mqtt_broker_conf_defaults(&bc);
    bc.max_inflight = (uint32_t)cfg->mqtt_max_inflight_messages;
    bc.max_queued = (uint32_t)cfg->mqtt_max_queued_messages;
    bc.max_packet_size = (uint32_t)cfg->mqtt_max_packet_size;
    bc.message_size_limit = (uint32_t)cfg->mqtt_message_size_limit;
    bc.max_keepalive = (uint16_t)(cfg->mqtt_max_keepalive > 65535 ? 65535 : cfg->mqtt_max_keepalive);
    bc.retain_available = cfg->mqtt_retain_available;
    bc.allow_anonymous = cfg->mqtt_allow_anonymous;
    bc.sys_interval_s = (uint32_t)cfg->mqtt_sys_interval;
    bc.queue_qos0_offline = cfg->mqtt_queue_qos0_messages;
    bc.max_queued_bytes = (uint64_t)cfg->mqtt_max_queued_bytes;
    bc.max_connections = (uint32_t)cfg->mqtt_max_connections;
    bc.persistent_expiry_s = (uint32_t)cfg->mqtt_persistent_client_expiration;
    bc.allow_zero_length_clientid = cfg->mqtt_allow_zero_length_clientid;
    bc.version_string = "tinyedge version " TE_VERSION;
    if (te_auth_setup(&s->auth, cfg, &bc, err, sizeof err)) {
        LOG_ERROR("server", "event=config_error err=\"%s\"", err);
        return 1;
    }
    mqtt_broker_io io = {s, io_write, io_close, io_pending, io_pause};
    s->broker = mqtt_broker_new(&bc, &io);
    if (!s->broker) return 1;

    if (cfg->mqtt_persistence) {
        int policy = MQTT_FSYNC_BATCH;
        if (cfg->mqtt_fsync && !strcmp(cfg->mqtt_fsync, "never")) policy = MQTT_FSYNC_NEVER;
        else if (cfg->mqtt_fsync && !strcmp(cfg->mqtt_fsync, "always")) policy = MQTT_FSYNC_ALWAYS;
        else if (cfg->mqtt_fsync && strcmp(cfg->mqtt_fsync, "batch")) {
            LOG_ERROR("server", "event=config_error err=\"mqtt_fsync must be never, batch or always\"");
            return 1;
        }
        s->store = mqtt_store_open(cfg->data_dir, policy, (uint32_t)cfg->mqtt_fsync_interval_ms, err, sizeof err);
        if (!s->store || mqtt_store_load(s->store, s->broker, err, sizeof err)) {
            LOG_ERROR("server", "event=store_error err=\"%s\"", err);
            return 1;
        }
        mqtt_broker_set_store(s->broker, s->store);
        net_before_flush(s->loop, before_flush, s);
    }

    te_config_listeners(cfg);
    for (int i = 0; i < cfg->nlisteners; i++)
        if (start_mqtt_listener(s, &cfg->listeners[i])) return 1;
    if (cfg->http_port) {
        if (te_http_api_start(s->loop, cfg, s->broker, &s->http, err, sizeof err)) {
            LOG_ERROR("server", "event=listen_failed service=http port=%d err=\"%s\"", cfg->http_port, err);
            return 1;
        }
    }

    if (cfg->lorawan) {
        if (te_lorawan_start(s->loop, cfg, s->broker, &s->lorawan, err, sizeof err)) {
            LOG_ERROR("server", "event=lorawan_failed err=\"%s\"", err);
            return 1;
        }
        te_http_api_set_ext(te_lorawan_http, te_lorawan_metrics, s->lorawan);
        te_auth_set_ext(s->auth, te_lorawan_mqtt_auth, te_lorawan_mqtt_acl, s->lorawan);
    }

    /* bridges last: they publish into the broker and need the loop */
    for (int i = 0; i < cfg->nbridges; i++) {
        te_bridge_opts bo = {(uint32_t)cfg->mqtt_max_inflight_messages,
                             cfg->mqtt_max_queued_messages > 10000 ? (uint32_t)cfg->mqtt_max_queued_messages : 0, 0,
                             (uint32_t)cfg->mqtt_max_packet_size};
        te_bridge_link *bl = NULL;
        int brc = te_bridge_start(s->loop, s->broker, &cfg->bridges[i], &bo, &bl, err, sizeof err);
        if (bl) s->bridges[s->nbridges++] = bl;
        if (brc) {
            LOG_ERROR("server", "event=config_error err=\"%s\"", err);
            return 1;
        }
    }

    uv_idle_init(s->loop, &s->resume);
    s->resume.data = s;
    uv_timer_init(s->loop, &s->tick);
    s->tick.data = s;
    uv_timer_start(&s->tick, on_tick, 100, 100);
    s->last_compact = s->last_autosave = te_mono_ms();
    uv_signal_init(s->loop, &s->sigint);
    uv_signal_init(s->loop, &s->sigterm);
    s->sigint.data = s->sigterm.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    LOG_NOTICE("server", "event=started version=%s data_dir=%s persistence=%s", TE_VERSION, cfg->data_dir,
               s->store ? cfg->mqtt_fsync : "off");

    uv_run(s->loop, UV_RUN_DEFAULT);

    /* let the shutdown DISCONNECTs and closes go out */
    for (int i = 0; i < 20 && uv_run(s->loop, UV_RUN_NOWAIT); i++) {}
    uv_walk(s->loop, close_walk, NULL);
    uv_run(s->loop, UV_RUN_DEFAULT);
    if (s->store) {
        mqtt_store_flush(s->store, te_mono_ms());
        mqtt_store_close(s->store);
    }
    mqtt_broker_set_store(s->broker, NULL);
    te_lorawan_free(s->lorawan);
    mqtt_broker_free(s->broker);
    for (int i = 0; i < s->nbridges; i++) te_bridge_free(s->bridges[i]);
    te_auth_free(s->auth);
    uv_loop_close(s->loop);
    LOG_NOTICE("server", "event=stopped");
    return 0;
}
