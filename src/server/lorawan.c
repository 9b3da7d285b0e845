/* server/lorawan: the LoRaWAN services on the loop (see lorawan.h). */
#include "server/lorawan.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include "base/clock.h"
#include "base/hmap.h"
#include "base/log.h"
#include <jansson.h>
#include "lorawan/as_json.h"
#include "lorawan/formatter.h"
#include "lorawan/ns.h"
#include "lorawan/registry.h"
#include "mqtt/topic.h"
#if __has_include("server/lorawan_rest.h")
#include "server/lorawan_rest.h"
#define TE_HAVE_LW_REST 1
#endif

typedef struct dirty_key {
    char key[2 * LW_ID_MAX + 2];
} dirty_key;

struct te_lorawan {
    uv_loop_t *loop;
    const te_config *cfg;
    mqtt_broker *broker;
    lw_registry *reg;
    lw_fmt_engine *fmt;
    lw_ns *ns;
    net_udp *udp;
    uv_timer_t tick, flush, poll;
    int64_t change_seq;
    hmap dirty;   /* "app/dev" -> dirty_key */
    char tenant[LW_ID_MAX + 1];
    size_t tenant_len;
    uint64_t session_saves, session_save_errors;
    bool timers;
    /* session write-back on libuv's thread pool, through a registry handle of its own */
    lw_registry *wreg;
    uv_work_t work;
    bool work_busy;
    lw_dev_rec *batch;
    size_t batch_n;
    int batch_rc;
};

/* ---- engine io ---- */

static void io_send(void *ud, const lw_ns_addr *to, const uint8_t *d, size_t n) {
    te_lorawan *l = ud;
    if (!l->udp) return;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, to->b, to->len < sizeof ss ? to->len : sizeof ss);
    net_udp_send(l->udp, (const struct sockaddr *)&ss, d, n);
}

static void io_publish(void *ud, const char *topic, const uint8_t *p, size_t n) {
    te_lorawan *l = ud;
    mqtt_broker_publish(l->broker, topic, p, n, 1, false, te_mono_ms());
}

static void io_session_dirty(void *ud, const lw_dev_rec *d) {
    te_lorawan *l = ud;
    char key[2 * LW_ID_MAX + 2];
    int n = snprintf(key, sizeof key, "%s/%s", d->app_id, d->dev_id);
    if (n <= 0 || (size_t)n >= sizeof key || hmap_get(&l->dirty, key, (size_t)n)) return;
    dirty_key *k = malloc(sizeof *k);
    if (!k) return;
    memcpy(k->key, key, (size_t)n + 1);
    if (hmap_put(&l->dirty, k->key, (size_t)n, k)) free(k);
}

static int io_devnonce(void *ud, const lw_dev_rec *d, uint16_t nonce) {
    te_lorawan *l = ud;
    return lw_reg_devnonce_use(l->reg, d, nonce);
}

static int64_t io_wall_us(void *ud) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void io_event(void *ud, const char *kind, const char *app, const char *dev, const char *detail) {
    LOG_DEBUG("lorawan", "event=%s app=%s dev=%s %s", kind, app, dev, detail);
}

/* ---- timers ---- */

static void arm_tick(te_lorawan *l);

static void on_tick(uv_timer_t *t) {
    te_lorawan *l = t->data;
    lw_ns_tick(l->ns, te_mono_ms());
    arm_tick(l);
}

static void arm_tick(te_lorawan *l) {
    uint64_t d = lw_ns_next_deadline(l->ns);
    if (d == UINT64_MAX) {
        uv_timer_stop(&l->tick);
        return;
    }
    uint64_t now = te_mono_ms();
    uv_timer_start(&l->tick, on_tick, d > now ? d - now : 0, 0);
}

/* copy the dirty sessions out of the engine and forget the dirty set; n copied, -1 out of memory */
static long take_dirty(te_lorawan *l, lw_dev_rec **out) {
    *out = NULL;
    if (!l->dirty.count) return 0;
    lw_dev_rec *v = malloc(l->dirty.count * sizeof *v);
    if (!v) return -1;
    size_t n = 0, it = 0;
    const void *k;
    size_t kn;
    void *p;
    while ((p = hmap_next(&l->dirty, &it, &k, &kn))) {
        dirty_key *dk = p;
        char app[LW_ID_MAX + 1], dev[LW_ID_MAX + 1];
        const char *slash = strchr(dk->key, '/');
        if (slash && (size_t)(slash - dk->key) <= LW_ID_MAX && strlen(slash + 1) <= LW_ID_MAX) {
            memcpy(app, dk->key, (size_t)(slash - dk->key));
            app[slash - dk->key] = 0;
            snprintf(dev, sizeof dev, "%s", slash + 1);
            if (lw_ns_dev_get(l->ns, app, dev, &v[n]) == 0) {
                v[n].fmt_src = NULL; /* the copy owns nothing: only ids and session are written */
                n++;
            }
        }
        free(dk);
    }
    hmap_free(&l->dirty);
    hmap_init(&l->dirty);
    *out = v;
    return (long)n;
}

static int save_batch(lw_registry *reg, const lw_dev_rec *v, size_t n, uint64_t *saves, uint64_t *errors) {
    if (!n) return 0;
    if (lw_reg_begin(reg)) return -1;
    for (size_t i = 0; i < n; i++) {
        if (lw_reg_session_save(reg, &v[i]) == 0) (*saves)++;
        else (*errors)++;
    }
    return lw_reg_commit(reg);
}

static void work_save(uv_work_t *w) {
    te_lorawan *l = w->data;
    uint64_t saves = 0, errors = 0;
    if (!l->wreg) {
        char err[256];
        if (lw_reg_open(l->cfg->data_dir, &l->wreg, err, sizeof err)) l->wreg = NULL;
    }
    l->batch_rc = l->wreg ? save_batch(l->wreg, l->batch, l->batch_n, &saves, &errors) : -1;
    l->session_saves += saves; /* read by the loop only after the work is done */
    l->session_save_errors += errors;
}

static void work_saved(uv_work_t *w, int status) {
    te_lorawan *l = w->data;
    if (status || l->batch_rc) LOG_WARN("lorawan", "event=session_save_failed sessions=%zu", l->batch_n);
    free(l->batch);
    l->batch = NULL;
    l->work_busy = false;
}

/* the loop's write-back, every second: on the thread pool, so SQLite's commit and checkpoint
 * (fsync) never stall the loop */
static void on_flush(uv_timer_t *t) {
    te_lorawan *l = t->data;
    if (l->work_busy || !l->dirty.count) return;
    lw_dev_rec *v;
    long n = take_dirty(l, &v);
    if (n <= 0) {
        free(v);
        return;
    }
    l->batch = v;
    l->batch_n = (size_t)n;
    l->work.data = l;
    l->work_busy = true;
    if (uv_queue_work(l->loop, &l->work, work_save, work_saved)) {
        l->work_busy = false;
        save_batch(l->reg, v, (size_t)n, &l->session_saves, &l->session_save_errors);
        free(v);
        l->batch = NULL;
    }
}

/* synchronous write-back on the loop's handle (registry reloads, shutdown); not while a batch
 * is in flight, which could land after it with older data */
static void flush_sessions(te_lorawan *l) {
    if (l->work_busy) return;
    lw_dev_rec *v;
    long n = take_dirty(l, &v);
    if (n > 0) save_batch(l->reg, v, (size_t)n, &l->session_saves, &l->session_save_errors);
    free(v);
}

/* ---- registry -> engine ---- */

static int load_app(void *ud, const lw_app_rec *a) {
    lw_ns_app_put(ud, a);
    return 0;
}
static int load_dev(void *ud, const lw_dev_rec *d) {
    /* sessions are written back every 100 ms: after a crash the stored downlink FCnt may be behind
     * what went on air, and a device drops a downlink whose FCnt it has seen; skip ahead a little */
    lw_dev_rec c = *d;
    if (c.s.active) c.s.fcnt_down += 16;
    lw_ns_dev_put(ud, &c);
    return 0;
}
static int load_gw(void *ud, const lw_gw_rec *g) {
    lw_ns_gw_put(ud, g);
    return 0;
}

typedef struct change {
    char kind[8], app[LW_ID_MAX + 1], id[LW_ID_MAX + 1];
} change;
typedef struct change_list {
    change *v;
    size_t n, cap;
} change_list;

static void collect_change(void *ud, const char *kind, const char *app, const char *id) {
    change_list *cl = ud;
    if (cl->n == cl->cap) {
        size_t nc = cl->cap ? cl->cap * 2 : 16;
        change *nv = realloc(cl->v, nc * sizeof *nv);
        if (!nv) return;
        cl->v = nv;
        cl->cap = nc;
    }
    change *c = &cl->v[cl->n++];
    snprintf(c->kind, sizeof c->kind, "%s", kind ? kind : "");
    snprintf(c->app, sizeof c->app, "%s", app ? app : "");
    snprintf(c->id, sizeof c->id, "%s", id ? id : "");
}

static void apply_change(te_lorawan *l, const change *c) {
    if (!strcmp(c->kind, "app")) {
        lw_app_rec a;
        memset(&a, 0, sizeof a);
        if (lw_reg_app_get(l->reg, c->app[0] ? c->app : c->id, &a) == 0) {
            lw_ns_app_put(l->ns, &a);
            lw_app_rec_clear(&a);
        } else {
            lw_ns_app_remove(l->ns, c->app[0] ? c->app : c->id);
        }
    } else if (!strcmp(c->kind, "dev")) {
        flush_sessions(l); /* the stored session must be current before it is read back */
        lw_dev_rec d;
        memset(&d, 0, sizeof d);
        if (lw_reg_dev_get(l->reg, c->app, c->id, &d) == 0) {
            lw_ns_dev_put(l->ns, &d);
            lw_dev_rec_clear(&d);
        } else {
            lw_ns_dev_remove(l->ns, c->app, c->id);
        }
    } else if (!strcmp(c->kind, "gw")) {
        uint8_t eui[8];
        const char *hex = c->id;
        if (!strncmp(hex, "eui-", 4)) hex += 4;
        if (lw_hex_parse(hex, eui, 8)) return;
        lw_gw_rec g;
        memset(&g, 0, sizeof g);
        if (lw_reg_gw_get(l->reg, eui, &g) == 0) lw_ns_gw_put(l->ns, &g);
        else lw_ns_gw_remove(l->ns, eui);
    }
}

static void poll_changes(te_lorawan *l) {
    change_list cl = {0};
    int64_t last = 0;
    if (lw_reg_changes(l->reg, l->change_seq, collect_change, &cl, &last) == 0 && last > l->change_seq) {
        l->change_seq = last;
        for (size_t i = 0; i < cl.n; i++) apply_change(l, &cl.v[i]);
        if (cl.n) LOG_INFO("lorawan", "event=registry_reload changes=%zu devices=%zu", cl.n, lw_ns_device_count(l->ns));
    }
    free(cl.v);
}

static void on_poll(uv_timer_t *t) { poll_changes(t->data); }

/* ---- transports ---- */

static void on_udp(void *ud, const struct sockaddr *from, unsigned fromlen, const uint8_t *p, size_t n) {
    te_lorawan *l = ud;
    lw_ns_addr a;
    memset(&a, 0, sizeof a);
    a.len = (uint8_t)(fromlen < sizeof a.b ? fromlen : sizeof a.b);
    memcpy(a.b, from, a.len);
    lw_ns_udp_input(l->ns, &a, p, n, te_mono_ms());
    arm_tick(l);
}

/* v3/{app}@{tenant}/devices/{dev}/down/push|replace */
static void on_down(void *ud, const mqtt_msg_view *m) {
    te_lorawan *l = ud;
    char topic[300];
    if (m->topic_len >= sizeof topic) return;
    memcpy(topic, m->topic, m->topic_len);
    topic[m->topic_len] = 0;
    char *parts[8];
    int np = 0;
    for (char *s = topic, *save = NULL, *tok; np < 8 && (tok = strtok_r(s, "/", &save)); s = NULL) parts[np++] = tok;
    if (np != 6 || strcmp(parts[0], "v3") || strcmp(parts[2], "devices") || strcmp(parts[4], "down")) return;
    bool replace = !strcmp(parts[5], "replace");
    if (!replace && strcmp(parts[5], "push")) return;
    char *at = strchr(parts[1], '@');
    if (!at || strcmp(at + 1, l->tenant)) return;
    *at = 0;
    char err[256];
    if (lw_ns_downlink_push(l->ns, parts[1], parts[3], (const char *)m->payload, m->payload_len, replace, te_mono_ms(),
                            err, sizeof err))
        LOG_WARN("lorawan", "event=downlink_rejected app=%s dev=%s err=\"%s\"", parts[1], parts[3], err);
}

static int rest_queue_down(void *ud, const char *app, const char *dev, const char *json, size_t len, bool replace,
                           char *err, size_t errlen) {
    te_lorawan *l = ud;
    return lw_ns_downlink_push(l->ns, app, dev, json, len, replace, te_mono_ms(), err, errlen);
}

/* GET /api/v1/lorawan/status: what the engine sees now (gateways online, counters) */
static void gw_status_json(void *ud, const lw_ns_gw_info *g) {
    json_t *arr = ud;
    char eui[17], seen[40] = "";
    lw_hex_format(g->rec->eui, 8, eui, 1);
    if (g->last_seen_wall_us) lw_rfc3339(g->last_seen_wall_us, seen, sizeof seen);
    uint64_t now = te_mono_ms();
    json_t *o = json_pack("{s:s,s:s,s:b,s:b,s:b,s:I,s:I}", "eui", eui, "gateway_id", g->rec->gw_id, "registered", g->known,
                          "downlink_path", g->has_pull_addr, "online",
                          g->last_seen_mono_ms && now - g->last_seen_mono_ms < 60000, "rx_packets", (json_int_t)g->rx,
                          "tx_packets", (json_int_t)g->tx);
    if (!o) return;
    if (seen[0]) json_object_set_new(o, "last_seen", json_string(seen));
    if (g->rec->has_location)
        json_object_set_new(o, "location", json_pack("{s:f,s:f,s:i}", "latitude", g->rec->lat, "longitude", g->rec->lon,
                                                     "altitude", (int)g->rec->alt));
    if (g->has_stat) {
        json_t *st = json_object();
        if (g->stat.has & LW_GW_ST_RXNB) json_object_set_new(st, "rxnb", json_integer(g->stat.rxnb));
        if (g->stat.has & LW_GW_ST_RXOK) json_object_set_new(st, "rxok", json_integer(g->stat.rxok));
        if (g->stat.has & LW_GW_ST_RXFW) json_object_set_new(st, "rxfw", json_integer(g->stat.rxfw));
        if (g->stat.has & LW_GW_ST_ACKR) json_object_set_new(st, "ackr", json_real(g->stat.ackr));
        if (g->stat.has & LW_GW_ST_DWNB) json_object_set_new(st, "dwnb", json_integer(g->stat.dwnb));
        if (g->stat.has & LW_GW_ST_TXNB) json_object_set_new(st, "txnb", json_integer(g->stat.txnb));
        json_object_set_new(o, "stat", st);
    }
    json_array_append_new(arr, o);
}

static void serve_status(net_http_req *req, te_lorawan *l) {
    const lw_ns_stats *s = lw_ns_stats_get(l->ns);
    json_t *gws = json_array();
    lw_ns_gw_status(l->ns, gw_status_json, gws);
    json_t *o = json_pack("{s:I,s:o,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}}", "devices",
                          (json_int_t)lw_ns_device_count(l->ns), "gateways", gws, "counters", "uplinks",
                          (json_int_t)s->uplinks, "joins", (json_int_t)s->joins, "downlinks", (json_int_t)s->downlinks,
                          "downlinks_failed", (json_int_t)s->downlinks_failed, "mic_failures",
                          (json_int_t)s->mic_failures, "fcnt_replays", (json_int_t)s->fcnt_replays, "devnonce_replays",
                          (json_int_t)s->devnonce_replays, "unknown_devaddr", (json_int_t)s->unknown_devaddr,
                          "bad_datagrams", (json_int_t)s->bad_datagrams, "duplicates", (json_int_t)s->rxpk_dup,
                          "formatter_errors", (json_int_t)s->formatter_errors);
    char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (txt) net_http_respond(req, 200, "application/json", NULL, txt, strlen(txt));
    else net_http_respond(req, 500, "application/json", NULL, "{\"error\":\"out of memory\"}", 27);
    free(txt);
    json_decref(o);
}

int te_lorawan_http(net_http_req *req, void *ud) {
    if (!strcmp(req->path, "/api/v1/lorawan/status") && !strcmp(req->method, "GET")) {
        serve_status(req, ud);
        return 1;
    }
#ifdef TE_HAVE_LW_REST
    te_lorawan *l = ud;
    lw_rest_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.reg = l->reg;
    ctx.tenant = l->tenant;
    ctx.queue_down = rest_queue_down;
    ctx.ud = l;
    int r = lw_rest_handle(req, &ctx);
    if (r) poll_changes(l); /* apply the edit at once */
    return r;
#else
    (void)rest_queue_down;
    return 0;
#endif
}

/* ---- MQTT credentials of applications ---- */

static const char *app_of_user(te_lorawan *l, const char *user, char *app, size_t cap) {
    if (!user) return NULL;
    const char *at = strchr(user, '@');
    if (!at || strcmp(at + 1, l->tenant) || (size_t)(at - user) >= cap || at == user) return NULL;
    memcpy(app, user, (size_t)(at - user));
    app[at - user] = 0;
    return app;
}

int te_lorawan_mqtt_auth(void *ud, const char *username, const uint8_t *pw, size_t n) {
    te_lorawan *l = ud;
    char app[LW_ID_MAX + 1];
    if (!l || !app_of_user(l, username, app, sizeof app)) return -1;
    char key[256];
    if (!pw || n >= sizeof key) return 0;
    memcpy(key, pw, n);
    key[n] = 0;
    return lw_reg_app_key_check(l->reg, app, key) == 1 ? 1 : 0;
}

int te_lorawan_mqtt_acl(void *ud, const char *username, const char *topic, int access) {
    te_lorawan *l = ud;
    if (!l) return -1;
    char app[LW_ID_MAX + 1];
    char prefix[LW_ID_MAX * 2 + 8];
    bool v3 = !strncmp(topic, "v3/", 3) || !strcmp(topic, "v3") || topic[0] == '#' || !strncmp(topic, "+/", 2);
    if (app_of_user(l, username, app, sizeof app)) {
        /* an application's key: its own topics only */
        int pn = snprintf(prefix, sizeof prefix, "v3/%s@%s/", app, l->tenant);
        if (strncmp(topic, prefix, (size_t)pn)) return 0;
        if (access == MQTT_ACCESS_WRITE) {
            size_t tl = strlen(topic);
            bool push = tl > 10 && !strcmp(topic + tl - 10, "/down/push");
            bool repl = tl > 13 && !strcmp(topic + tl - 13, "/down/replace");
            return push || repl;
        }
        return 1;
    }
    if (l->cfg->lorawan_mqtt_private && v3) return 0;
    return -1;
}

void te_lorawan_metrics(buf_t *b, void *ud) {
    te_lorawan *l = ud;
    const lw_ns_stats *s = lw_ns_stats_get(l->ns);
    char line[8192];
    int n = snprintf(line, sizeof line,
        "# HELP tinyedge_lorawan_devices Registered LoRaWAN devices.\n# TYPE tinyedge_lorawan_devices gauge\n"
        "tinyedge_lorawan_devices %zu\n"
        "# HELP tinyedge_lorawan_datagrams_total Gateway datagrams received.\n# TYPE tinyedge_lorawan_datagrams_total counter\n"
        "tinyedge_lorawan_datagrams_total %" PRIu64 "\n"
        "tinyedge_lorawan_bad_datagrams_total %" PRIu64 "\n"
        "# HELP tinyedge_lorawan_uplinks_total Unique data uplinks accepted.\n# TYPE tinyedge_lorawan_uplinks_total counter\n"
        "tinyedge_lorawan_uplinks_total %" PRIu64 "\n"
        "tinyedge_lorawan_rxpk_total %" PRIu64 "\n"
        "tinyedge_lorawan_rxpk_duplicates_total %" PRIu64 "\n"
        "tinyedge_lorawan_joins_total %" PRIu64 "\n"
        "tinyedge_lorawan_joins_rejected_total %" PRIu64 "\n"
        "tinyedge_lorawan_mic_failures_total %" PRIu64 "\n"
        "tinyedge_lorawan_fcnt_replays_total %" PRIu64 "\n"
        "tinyedge_lorawan_devnonce_replays_total %" PRIu64 "\n"
        "tinyedge_lorawan_unknown_devaddr_total %" PRIu64 "\n"
        "tinyedge_lorawan_bad_frames_total %" PRIu64 "\n"
        "tinyedge_lorawan_downlinks_total %" PRIu64 "\n"
        "tinyedge_lorawan_downlinks_failed_total %" PRIu64 "\n"
        "tinyedge_lorawan_adr_requests_total %" PRIu64 "\n"
        "tinyedge_lorawan_formatter_errors_total %" PRIu64 "\n"
        "tinyedge_lorawan_published_total %" PRIu64 "\n",
        lw_ns_device_count(l->ns), s->datagrams, s->bad_datagrams, s->uplinks, s->rxpk, s->rxpk_dup, s->joins,
        s->join_rejected, s->mic_failures, s->fcnt_replays, s->devnonce_replays, s->unknown_devaddr, s->bad_frames,
        s->downlinks, s->downlinks_failed, s->adr_requests, s->formatter_errors, s->published);
    if (n > 0) buf_append(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* ---- lifecycle ---- */

int te_lorawan_start(uv_loop_t *loop, const te_config *cfg, mqtt_broker *b, te_lorawan **out, char *err,
                     size_t errlen) {
    te_lorawan *l = calloc(1, sizeof *l);
    if (!l) return -1;
    l->loop = loop;
    l->cfg = cfg;
    l->broker = b;
    hmap_init(&l->dirty);
    snprintf(l->tenant, sizeof l->tenant, "%s", cfg->lorawan_tenant ? cfg->lorawan_tenant : "ttn");
    if (!lw_id_valid(l->tenant)) {
        snprintf(err, errlen, "lorawan_tenant '%s' is not a valid id", l->tenant);
        free(l);
        return -1;
    }
    uint8_t nid[3];
    if (!cfg->lorawan_net_id || lw_hex_parse(cfg->lorawan_net_id, nid, 3)) {
        snprintf(err, errlen, "lorawan_net_id must be 6 hex digits");
        free(l);
        return -1;
    }
    if (lw_reg_open(cfg->data_dir, &l->reg, err, errlen)) {
        free(l);
        return -1;
    }
    lw_reg_autocheckpoint(l->reg, 0); /* the thread-pool handle checkpoints (see on_flush) */
    lw_fmt_limits lim;
    lw_fmt_limits_default(&lim);
    if (cfg->lorawan_formatter_timeout_ms > 0) lim.timeout_ms = (uint32_t)cfg->lorawan_formatter_timeout_ms;
    if (cfg->lorawan_formatter_memory_mb > 0) lim.memory_bytes = (uint32_t)cfg->lorawan_formatter_memory_mb << 20;
    l->fmt = lw_fmt_engine_new(&lim, err, errlen);
    if (!l->fmt) LOG_WARN("lorawan", "event=formatters_off err=\"%s\"", err);

    lw_ns_conf nc;
    lw_ns_conf_defaults(&nc);
    nc.tenant = l->tenant;
    nc.cluster_id = cfg->lorawan_cluster_id;
    nc.net_id = (uint32_t)nid[0] << 16 | (uint32_t)nid[1] << 8 | nid[2];
    nc.dedup_ms = (uint32_t)cfg->lorawan_dedup_ms;
    if (cfg->lorawan_rx1_delay >= 1 && cfg->lorawan_rx1_delay <= 15) nc.rx1_delay_s = (uint8_t)cfg->lorawan_rx1_delay;
    nc.adr_margin_db = (float)cfg->lorawan_adr_margin_db;
    nc.confirmed_retries = (uint8_t)(cfg->lorawan_confirmed_retries > 15 ? 15 : cfg->lorawan_confirmed_retries);
    nc.allow_unknown_gateways = cfg->lorawan_allow_unknown_gateways;
    lw_ns_io io = {l, io_send, io_publish, io_session_dirty, io_devnonce, io_wall_us, io_event};
    l->ns = lw_ns_new(&nc, &io, l->fmt);
    if (!l->ns) {
        snprintf(err, errlen, "out of memory");
        te_lorawan_free(l);
        return -1;
    }
    /* remember where the change log is, then load everything */
    change_list cl = {0};
    lw_reg_changes(l->reg, 0, collect_change, &cl, &l->change_seq);
    free(cl.v);
    lw_reg_app_list(l->reg, load_app, l->ns);
    lw_reg_dev_list(l->reg, NULL, load_dev, l->ns);
    lw_reg_gw_list(l->reg, load_gw, l->ns);

    if (cfg->udp_port > 0) {
        if (net_udp_open(loop, cfg->bind, cfg->udp_port, on_udp, l, &l->udp, err, errlen)) {
            te_lorawan_free(l);
            return -1;
        }
    }
    mqtt_broker_subscribe_internal(b, "v3/+/devices/+/down/+", on_down, l);
    uv_timer_init(loop, &l->tick);
    uv_timer_init(loop, &l->flush);
    uv_timer_init(loop, &l->poll);
    l->tick.data = l->flush.data = l->poll.data = l;
    uv_timer_start(&l->flush, on_flush, 1000, 1000);
    uv_timer_start(&l->poll, on_poll, 1000, 1000);
    l->timers = true;
    LOG_NOTICE("server", "event=listening service=lorawan-udp bind=%s port=%d devices=%zu tenant=%s", cfg->bind,
               l->udp ? net_udp_port(l->udp) : 0, lw_ns_device_count(l->ns), l->tenant);
    *out = l;
    return 0;
}

void te_lorawan_stop(te_lorawan *l) {
    if (!l) return;
    if (l->timers) {
        uv_timer_stop(&l->tick);
        uv_timer_stop(&l->flush);
        uv_timer_stop(&l->poll);
    }
    if (l->udp) net_udp_close(l->udp);
    l->udp = NULL;
}

void te_lorawan_free(te_lorawan *l) {
    if (!l) return;
    flush_sessions(l); /* after the loop: no batch is in flight any more */
    hmap_free(&l->dirty);
    lw_reg_close(l->wreg);
    lw_ns_free(l->ns);
    lw_fmt_engine_free(l->fmt);
    lw_reg_close(l->reg);
    free(l);
}
