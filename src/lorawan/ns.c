/* LoRaWAN server engine: lifecycle, the in-memory registry of applications, devices and gateways
 * (indexed by id, JoinEUI+DevEUI and DevAddr), the tick, rate-limited cause logging and the
 * helpers shared by the uplink, join and downlink files. */
#include "lorawan/ns_internal.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/log.h"
#include "lorawan/crypto.h"

void lw_ns_conf_defaults(lw_ns_conf *c) {
    memset(c, 0, sizeof *c);
    c->tenant = "ttn";
    c->cluster_id = "tinyedge";
    c->net_id = 0x000013;
    c->dedup_ms = 200;
    c->rx1_delay_s = 1;
    c->join_delay_s = 5;
    c->adr_margin_db = 10.0f;
    c->confirmed_retries = 3;
    c->max_queue = 16;
    c->allow_unknown_gateways = true;
    c->tx_ack_timeout_ms = 2000;
}

lw_ns *lw_ns_new(const lw_ns_conf *conf, const lw_ns_io *io, lw_fmt_engine *fmt) {
    lw_ns *ns = calloc(1, sizeof *ns);
    if (!ns) return NULL;
    ns->conf = *conf;
    ns->io = *io;
    ns->fmt = fmt;
    snprintf(ns->tenant, sizeof ns->tenant, "%s", conf->tenant ? conf->tenant : "ttn");
    snprintf(ns->cluster, sizeof ns->cluster, "%s", conf->cluster_id ? conf->cluster_id : "");
    ns->conf.tenant = ns->tenant;
    ns->conf.cluster_id = ns->cluster;
    if (ns->conf.rx1_delay_s < 1 || ns->conf.rx1_delay_s > 15) ns->conf.rx1_delay_s = 1;
    if (ns->conf.join_delay_s < 1 || ns->conf.join_delay_s > 15) ns->conf.join_delay_s = 5;
    hmap_init(&ns->apps);
    hmap_init(&ns->app_ids);
    idx32_init(&ns->devs);
    idx32_init(&ns->by_eui);
    idx32_init(&ns->by_addr);
    ns->dev_free = IDX32_NONE;
    hmap_init(&ns->gws);
    hmap_init(&ns->dedup);
    buf_init(&ns->out);
    ns->rng = (uint32_t)(io->wall_us ? io->wall_us(io->ud) : 12345) | 1u;
    return ns;
}

void lw_ns_free(lw_ns *ns) {
    if (!ns) return;
    size_t it = 0;
    const void *k;
    size_t kn;
    void *v;
    for (uint32_t id = 0; id < ns->dev_hi; id++) {
        ns_dev *d = &ns->dev_pages[id >> NS_DEV_PAGE_SHIFT][id & (NS_DEV_PAGE - 1)];
        if (!d->dev_id[0]) continue;
        ns_queue_clear(ns, d);
        free(d->x);
        free(d->fmt_src);
    }
    for (uint32_t i = 0; i < ns->dev_npages; i++) free(ns->dev_pages[i]);
    free(ns->dev_pages);
    while ((v = hmap_next(&ns->app_ids, &it, &k, &kn))) free(v);
    it = 0;
    while ((v = hmap_next(&ns->apps, &it, &k, &kn))) {
        lw_app_rec_clear(&((ns_app *)v)->r);
        free(v);
    }
    it = 0;
    while ((v = hmap_next(&ns->gws, &it, &k, &kn))) free(v);
    for (ns_up *u = ns->up_head, *n; u; u = n) { n = u->next; free(u); }
    for (ns_up *u = ns->up_free, *n; u; u = n) { n = u->next; free(u); }
    for (ns_tx *t = ns->tx_head, *n; t; t = n) {
        n = t->next;
        if (t->dl) ns_down_free(t->dl);
        free(t);
    }
    hmap_free(&ns->apps);
    hmap_free(&ns->app_ids);
    idx32_free(&ns->devs);
    idx32_free(&ns->by_eui);
    idx32_free(&ns->by_addr);
    hmap_free(&ns->gws);
    hmap_free(&ns->dedup);
    buf_free(&ns->out);
    free(ns);
}

/* ---- logging once per cause ---- */

void ns_note(lw_ns *ns, int cause, uint64_t now, const char *fmt, ...) {
    if (cause < 0 || cause >= NS_CAUSES) cause = 0;
    if (ns->cause_last[cause] && now - ns->cause_last[cause] < 60000) {
        ns->cause_suppressed[cause]++;
        return;
    }
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ns->cause_suppressed[cause])
        LOG_WARN("lorawan", "%s (%llu more like this in the last minute)", msg,
                 (unsigned long long)ns->cause_suppressed[cause]);
    else
        LOG_WARN("lorawan", "%s", msg);
    ns->cause_last[cause] = now ? now : 1;
    ns->cause_suppressed[cause] = 0;
}

void ns_event(lw_ns *ns, const char *kind, const ns_dev *d, const char *fmt, ...) {
    if (!ns->io.event) return;
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ns->io.event(ns->io.ud, kind, d ? d->app->id : "", d ? d->dev_id : "", msg);
}

uint32_t ns_rand(lw_ns *ns) {
    /* xorshift32: DevAddr allocation and tokens need uniqueness, not secrecy */
    uint32_t x = ns->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    ns->rng = x ? x : 0x9e3779b9u;
    return x;
}

/* ---- applications ---- */

ns_app *ns_app_find(const lw_ns *ns, const char *app_id) {
    return hmap_get(&ns->apps, app_id, strlen(app_id));
}

int lw_ns_app_put(lw_ns *ns, const lw_app_rec *a) {
    ns_app *x = ns_app_find(ns, a->app_id);
    if (!x) {
        x = calloc(1, sizeof *x);
        if (!x) return -1;
    } else {
        hmap_del(&ns->apps, x->r.app_id, strlen(x->r.app_id));
        lw_app_rec_clear(&x->r);
    }
    x->r = *a;
    x->r.fmt_src = a->fmt_src ? strdup(a->fmt_src) : NULL;
    if (hmap_put(&ns->apps, x->r.app_id, strlen(x->r.app_id), x)) {
        lw_app_rec_clear(&x->r);
        free(x);
        return -1;
    }
    return 0;
}

void lw_ns_app_remove(lw_ns *ns, const char *app_id) {
    ns_app *x = hmap_del(&ns->apps, app_id, strlen(app_id));
    if (x) {
        lw_app_rec_clear(&x->r);
        free(x);
    }
    /* its devices go too */
    for (uint32_t id = 0; id < ns->dev_hi; id++) {
        ns_dev *d = &ns->dev_pages[id >> NS_DEV_PAGE_SHIFT][id & (NS_DEV_PAGE - 1)];
        if (d->dev_id[0] && !strcmp(d->app->id, app_id)) {
            char dev[LW_ID_MAX + 1];
            memcpy(dev, d->dev_id, sizeof dev);
            lw_ns_dev_remove(ns, app_id, dev);
        }
    }
}

/* ---- devices: pages of records, three compact indexes ---- */

static ns_dev *dev_at(const lw_ns *ns, uint32_t id) {
    return &ns->dev_pages[id >> NS_DEV_PAGE_SHIFT][id & (NS_DEV_PAGE - 1)];
}

typedef struct id_key {
    const char *app, *dev;
} id_key;

static uint32_t fnv(uint32_t h, const void *k, size_t n) {
    const uint8_t *p = k;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static uint32_t id_hash(const char *app, const char *dev) {
    uint32_t h = fnv(2166136261u, app, strlen(app));
    h = fnv(h, "/", 1);
    return fnv(h, dev, strlen(dev));
}

static uint32_t eui_hash(const uint8_t join_eui[8], const uint8_t dev_eui[8]) {
    return fnv(fnv(2166136261u, join_eui, 8), dev_eui, 8);
}

static uint32_t addr_hash(uint32_t a) {
    a ^= a >> 16;
    a *= 0x7feb352du;
    a ^= a >> 15;
    a *= 0x846ca68bu;
    return a ^ (a >> 16);
}

static bool id_eq(const void *ctx, uint32_t id, const void *key) {
    const ns_dev *d = dev_at(ctx, id);
    const id_key *k = key;
    return !strcmp(d->dev_id, k->dev) && !strcmp(d->app->id, k->app);
}
static uint32_t id_rehash(const void *ctx, uint32_t id) {
    const ns_dev *d = dev_at(ctx, id);
    return id_hash(d->app->id, d->dev_id);
}
static bool eui_eq(const void *ctx, uint32_t id, const void *key) {
    const ns_dev *d = dev_at(ctx, id);
    const uint8_t *k = key;
    return !memcmp(d->join_eui, k, 8) && !memcmp(d->dev_eui, k + 8, 8);
}
static uint32_t eui_rehash(const void *ctx, uint32_t id) {
    const ns_dev *d = dev_at(ctx, id);
    return eui_hash(d->join_eui, d->dev_eui);
}
static bool addr_eq(const void *ctx, uint32_t id, const void *key) {
    const ns_dev *d = dev_at(ctx, id);
    return d->addr_indexed && d->indexed_addr == *(const uint32_t *)key;
}
static uint32_t addr_rehash(const void *ctx, uint32_t id) { return addr_hash(dev_at(ctx, id)->indexed_addr); }

ns_dev *ns_dev_find(const lw_ns *ns, const char *app_id, const char *dev_id) {
    id_key k = {app_id, dev_id};
    uint32_t id = idx32_find(&ns->devs, id_hash(app_id, dev_id), id_eq, ns, &k);
    return id == IDX32_NONE ? NULL : dev_at(ns, id);
}

ns_dev *ns_dev_by_eui(const lw_ns *ns, const uint8_t join_eui[8], const uint8_t dev_eui[8]) {
    uint8_t k[16];
    memcpy(k, join_eui, 8);
    memcpy(k + 8, dev_eui, 8);
    uint32_t id = idx32_find(&ns->by_eui, eui_hash(join_eui, dev_eui), eui_eq, ns, k);
    return id == IDX32_NONE ? NULL : dev_at(ns, id);
}

ns_dev *ns_dev_by_addr(const lw_ns *ns, uint32_t dev_addr) {
    uint32_t id = idx32_find(&ns->by_addr, addr_hash(dev_addr), addr_eq, ns, &dev_addr);
    return id == IDX32_NONE ? NULL : dev_at(ns, id);
}

ns_dev *ns_dev_addr_next(const lw_ns *ns, const ns_dev *d) {
    return d->addr_next == IDX32_NONE ? NULL : dev_at(ns, d->addr_next);
}

void ns_dev_to_rec(const ns_dev *d, lw_dev_rec *r) {
    memset(r, 0, sizeof *r);
    snprintf(r->app_id, sizeof r->app_id, "%s", d->app->id);
    memcpy(r->dev_id, d->dev_id, sizeof r->dev_id);
    memcpy(r->dev_eui, d->dev_eui, 8);
    memcpy(r->join_eui, d->join_eui, 8);
    r->otaa = d->otaa;
    memcpy(r->app_key, d->app_key, 16);
    r->mac_minor = d->mac_minor;
    snprintf(r->region, sizeof r->region, "%s", d->region->name);
    r->dev_class = d->dev_class;
    r->adr = d->adr;
    r->abp_relax_fcnt = d->abp_relax_fcnt;
    r->fmt = (lw_fmt_kind)d->fmt;
    r->fmt_src = d->fmt_src; /* borrowed */
    r->created_ms = d->created_ms;
    r->s = d->s;
}

int lw_ns_dev_get(const lw_ns *ns, const char *app_id, const char *dev_id, lw_dev_rec *out) {
    ns_dev *d = ns_dev_find(ns, app_id, dev_id);
    if (!d) return -1;
    ns_dev_to_rec(d, out);
    return 0;
}

ns_dev_x *ns_dev_x_get(ns_dev *d) {
    if (!d->x) d->x = calloc(1, sizeof *d->x);
    return d->x;
}

void ns_dev_x_trim(ns_dev *d) {
    ns_dev_x *x = d->x;
    if (!x || x->q_head || x->awaiting_ack || x->mac_out_len || x->adr_req_pending || x->has_dev_status) return;
    free(x);
    d->x = NULL;
}

static void addr_unindex(lw_ns *ns, ns_dev *d) {
    if (!d->addr_indexed) return;
    uint32_t a = d->indexed_addr, h = addr_hash(a);
    ns_dev *head = ns_dev_by_addr(ns, a);
    if (head == d) {
        if (d->addr_next != IDX32_NONE) idx32_replace(&ns->by_addr, h, d->id, d->addr_next);
        else idx32_remove(&ns->by_addr, h, d->id);
    } else {
        for (ns_dev *p = head; p; p = ns_dev_addr_next(ns, p))
            if (p->addr_next == d->id) {
                p->addr_next = d->addr_next;
                break;
            }
    }
    d->addr_next = IDX32_NONE;
    d->addr_indexed = false;
}

void ns_dev_index_addr(lw_ns *ns, ns_dev *d) {
    addr_unindex(ns, d);
    if (!d->s.active) return;
    uint32_t a = d->s.dev_addr, h = addr_hash(a);
    ns_dev *head = ns_dev_by_addr(ns, a);
    if (head) { /* d becomes the chain's head */
        if (idx32_replace(&ns->by_addr, h, head->id, d->id)) return;
        d->addr_next = head->id;
    } else {
        d->indexed_addr = a;
        d->addr_indexed = true; /* the rehash callback reads it */
        if (idx32_insert(&ns->by_addr, h, d->id, addr_rehash, ns)) {
            d->addr_indexed = false;
            return;
        }
        d->addr_next = IDX32_NONE;
    }
    d->indexed_addr = a;
    d->addr_indexed = true;
}

static bool session_identity_changed(const ns_dev *old, const lw_dev_rec *nw) {
    if (old->otaa != nw->otaa) return true;
    if (memcmp(old->app_key, nw->app_key, 16)) return true;
    if (!nw->otaa) {
        if (old->s.dev_addr != nw->s.dev_addr) return true;
        if (memcmp(old->s.nwk_s_key, nw->s.nwk_s_key, 16) || memcmp(old->s.app_s_key, nw->s.app_s_key, 16)) return true;
    }
    return false;
}

static const ns_appid *appid_ref(lw_ns *ns, const char *app_id) {
    ns_appid *a = hmap_get(&ns->app_ids, app_id, strlen(app_id));
    if (!a) {
        a = calloc(1, sizeof *a);
        if (!a) return NULL;
        snprintf(a->id, sizeof a->id, "%s", app_id);
        if (hmap_put(&ns->app_ids, a->id, strlen(a->id), a)) {
            free(a);
            return NULL;
        }
    }
    a->refs++;
    return a;
}

static void appid_unref(lw_ns *ns, const ns_appid *c) {
    ns_appid *a = hmap_get(&ns->app_ids, c->id, strlen(c->id));
    if (!a || --a->refs) return;
    hmap_del(&ns->app_ids, a->id, strlen(a->id));
    free(a);
}

/* a free slot (from the free list or a new one at dev_hi), zeroed; NULL when out of memory */
static ns_dev *dev_alloc(lw_ns *ns) {
    uint32_t id;
    if (ns->dev_free != IDX32_NONE) {
        id = ns->dev_free;
        ns->dev_free = dev_at(ns, id)->addr_next;
    } else {
        if (ns->dev_hi >= IDX32_NONE - 2) return NULL;
        id = ns->dev_hi;
        uint32_t page = id >> NS_DEV_PAGE_SHIFT;
        if (page >= ns->dev_npages) {
            ns_dev **pages = realloc(ns->dev_pages, (size_t)(page + 1) * sizeof *pages);
            if (!pages) return NULL;
            ns->dev_pages = pages;
            pages[page] = calloc(NS_DEV_PAGE, sizeof(ns_dev));
            if (!pages[page]) return NULL;
            ns->dev_npages = page + 1;
        }
        ns->dev_hi++;
    }
    ns_dev *d = dev_at(ns, id);
    memset(d, 0, sizeof *d);
    d->id = id;
    d->addr_next = IDX32_NONE;
    return d;
}

static void dev_release(lw_ns *ns, ns_dev *d) {
    uint32_t id = d->id;
    memset(d, 0, sizeof *d); /* dev_id[0] == 0: free */
    d->id = id;
    d->addr_next = ns->dev_free;
    ns->dev_free = id;
}

int lw_ns_dev_put(lw_ns *ns, const lw_dev_rec *src) {
    if (!src->dev_id[0]) return -1;
    ns_dev *d = ns_dev_find(ns, src->app_id, src->dev_id);
    char *fmt_src = src->fmt_src ? strdup(src->fmt_src) : NULL;
    if (src->fmt_src && !fmt_src) return -1;
    bool fresh = d == NULL;
    if (fresh) {
        const ns_appid *app = appid_ref(ns, src->app_id);
        d = app ? dev_alloc(ns) : NULL;
        if (!d) {
            if (app) appid_unref(ns, app);
            free(fmt_src);
            return -1;
        }
        d->app = app;
        memcpy(d->dev_id, src->dev_id, sizeof d->dev_id);
        d->dev_id[LW_ID_MAX] = 0;
        d->s = src->s;
    } else {
        bool keep_session = !session_identity_changed(d, src);
        /* the EUI index is keyed by the record: out while the EUIs change */
        if (ns_dev_by_eui(ns, d->join_eui, d->dev_eui) == d)
            idx32_remove(&ns->by_eui, eui_hash(d->join_eui, d->dev_eui), d->id);
        if (!keep_session) d->s = src->s;
        free(d->fmt_src);
    }
    d->fmt_src = fmt_src;
    memcpy(d->dev_eui, src->dev_eui, 8);
    memcpy(d->join_eui, src->join_eui, 8);
    d->otaa = src->otaa;
    memcpy(d->app_key, src->app_key, 16);
    d->mac_minor = src->mac_minor;
    d->dev_class = src->dev_class;
    d->adr = src->adr;
    d->abp_relax_fcnt = src->abp_relax_fcnt;
    d->fmt = (int8_t)src->fmt;
    d->created_ms = src->created_ms;
    d->region = lw_region_get(src->region[0] ? src->region : "EU868");
    if (!d->region) d->region = lw_region_get("EU868");
    if (!d->s.nb_trans) d->s.nb_trans = 1;
    if (!d->s.rx1_delay_s) d->s.rx1_delay_s = ns->conf.rx1_delay_s;
    if (!d->s.rx2_freq_hz) {
        d->s.rx2_freq_hz = d->region->rx2_freq_hz;
        d->s.rx2_dr = d->region->rx2_dr;
    }
    if (fresh) {
        if (idx32_insert(&ns->devs, id_hash(d->app->id, d->dev_id), d->id, id_rehash, ns)) {
            free(d->fmt_src);
            appid_unref(ns, d->app);
            dev_release(ns, d);
            return -1;
        }
        ns->dev_count++;
    }
    /* the newest registration of a JoinEUI+DevEUI wins */
    uint32_t eh = eui_hash(d->join_eui, d->dev_eui);
    ns_dev *other = ns_dev_by_eui(ns, d->join_eui, d->dev_eui);
    if (other) idx32_replace(&ns->by_eui, eh, other->id, d->id);
    else idx32_insert(&ns->by_eui, eh, d->id, eui_rehash, ns);
    ns_dev_index_addr(ns, d);
    return 0;
}

void lw_ns_dev_remove(lw_ns *ns, const char *app_id, const char *dev_id) {
    ns_dev *d = ns_dev_find(ns, app_id, dev_id);
    if (!d) return;
    idx32_remove(&ns->devs, id_hash(d->app->id, d->dev_id), d->id);
    if (ns_dev_by_eui(ns, d->join_eui, d->dev_eui) == d)
        idx32_remove(&ns->by_eui, eui_hash(d->join_eui, d->dev_eui), d->id);
    addr_unindex(ns, d);
    ns_queue_clear(ns, d);
    free(d->x);
    free(d->fmt_src);
    appid_unref(ns, d->app);
    dev_release(ns, d);
    ns->dev_count--;
}

size_t lw_ns_device_count(const lw_ns *ns) { return ns->dev_count; }

void ns_dev_dirty(lw_ns *ns, ns_dev *d) {
    if (!ns->io.session_dirty) return;
    lw_dev_rec r;
    ns_dev_to_rec(d, &r);
    ns->io.session_dirty(ns->io.ud, &r);
}

/* ---- gateways ---- */

ns_gw *ns_gw_get_or_add(lw_ns *ns, const uint8_t eui[8], uint64_t now) {
    ns_gw *g = hmap_get(&ns->gws, eui, 8);
    if (g) return g;
    g = calloc(1, sizeof *g);
    if (!g) return NULL;
    memcpy(g->rec.eui, eui, 8);
    char hex[17];
    lw_hex_format(eui, 8, hex, 0);
    snprintf(g->rec.gw_id, sizeof g->rec.gw_id, "eui-%s", hex);
    g->token = (uint16_t)ns_rand(ns);
    if (hmap_put(&ns->gws, g->rec.eui, 8, g)) {
        free(g);
        return NULL;
    }
    return g;
}

int lw_ns_gw_put(lw_ns *ns, const lw_gw_rec *r) {
    ns_gw *g = ns_gw_get_or_add(ns, r->eui, 0);
    if (!g) return -1;
    int64_t seen = g->rec.last_seen_ms;
    g->rec = *r;
    g->rec.last_seen_ms = seen;
    if (!g->rec.gw_id[0]) {
        char hex[17];
        lw_hex_format(r->eui, 8, hex, 0);
        snprintf(g->rec.gw_id, sizeof g->rec.gw_id, "eui-%s", hex);
    }
    g->known = true;
    return 0;
}

void lw_ns_gw_remove(lw_ns *ns, const uint8_t eui[8]) {
    /* receptions in flight point at the gateway: keep the struct, forget the registration */
    ns_gw *g = hmap_get(&ns->gws, eui, 8);
    if (g) g->known = false;
}

void lw_ns_gw_status(const lw_ns *ns, void (*cb)(void *ud, const lw_ns_gw_info *g), void *ud) {
    size_t it = 0;
    const void *k;
    size_t kn;
    void *v;
    while ((v = hmap_next(&ns->gws, &it, &k, &kn))) {
        ns_gw *g = v;
        lw_ns_gw_info i = {.rec = &g->rec, .known = g->known, .has_pull_addr = g->has_pull,
                           .last_seen_mono_ms = g->last_seen, .last_seen_wall_us = g->last_seen_wall,
                           .has_stat = g->has_stat, .stat = g->stat, .rx = g->rx, .tx = g->tx};
        cb(ud, &i);
    }
}

const lw_ns_stats *lw_ns_stats_get(const lw_ns *ns) { return &ns->st; }

/* ---- tick ---- */

void lw_ns_tick(lw_ns *ns, uint64_t now) {
    while (ns->up_head && ns->up_head->deadline <= now) {
        ns_up *u = ns->up_head;
        ns->up_head = u->next;
        if (!ns->up_head) ns->up_tail = NULL;
        hmap_del(&ns->dedup, u->phy, u->len);
        ns_process_uplink(ns, u, now);
        ns_up_release(ns, u);
    }
    ns_tx_expire(ns, now);
}

uint64_t lw_ns_next_deadline(const lw_ns *ns) {
    uint64_t d = UINT64_MAX;
    if (ns->up_head) d = ns->up_head->deadline;
    for (const ns_tx *t = ns->tx_head; t; t = t->next)
        if (t->deadline < d) d = t->deadline;
    return d;
}

/* ---- shared helpers ---- */

void ns_ids(const lw_ns *ns, const ns_dev *d, lw_as_ids *ids) {
    memset(ids, 0, sizeof *ids);
    ids->app_id = d->app->id;
    ids->dev_id = d->dev_id;
    ids->tenant = ns->tenant;
    ids->dev_eui = d->dev_eui;
    ids->join_eui = d->join_eui;
    if (d->s.active) {
        ids->has_dev_addr = true;
        ids->dev_addr = d->s.dev_addr;
    }
}

void ns_publish(lw_ns *ns, const ns_dev *d, const char *suffix) {
    lw_as_ids ids;
    ns_ids(ns, d, &ids);
    char topic[200];
    if (lw_as_topic(&ids, suffix, topic, sizeof topic) < 0) return;
    if (ns->io.publish) ns->io.publish(ns->io.ud, topic, ns->out.data, ns->out.len);
    ns->st.published++;
}

void ns_correlation_id(lw_ns *ns, const char *prefix, char *out, size_t cap) {
    /* ULID-like: 48-bit ms time + 80 bits (sequence + random), Crockford base32 */
    static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    uint64_t ms = ns->io.wall_us ? (uint64_t)ns->io.wall_us(ns->io.ud) / 1000 : 0;
    uint64_t hi = ++ns->corr_seq;
    uint32_t lo = ns_rand(ns);
    char u[27];
    for (int i = 9; i >= 0; i--) { u[i] = b32[ms & 31]; ms >>= 5; }
    for (int i = 17; i >= 10; i--) { u[i] = b32[hi & 31]; hi >>= 5; }
    for (int i = 25; i >= 18; i--) { u[i] = b32[lo & 31]; lo >>= 4; }
    u[26] = 0;
    size_t pl = strlen(prefix);
    if (pl + 27 > cap) {
        if (cap) out[0] = 0;
        return;
    }
    memcpy(out, prefix, pl);
    memcpy(out + pl, u, 27);
}

void ns_session_key_id(const lw_session *s, uint8_t out[16]) {
    /* a stable, non-reversible identifier of the session's keys */
    uint8_t zero[16] = {0};
    if (lw_aes128_ecb_encrypt(s->nwk_s_key, zero, out)) memset(out, 0, 16);
}

void ns_fmt_kind(const lw_ns *ns, const ns_dev *d, lw_fmt_kind *kind, const char **src) {
    if (d->fmt != LW_FMT_INHERIT) {
        *kind = (lw_fmt_kind)d->fmt;
        *src = d->fmt_src;
        return;
    }
    ns_app *a = ns_app_find(ns, d->app->id);
    *kind = a ? a->r.fmt : LW_FMT_NONE;
    *src = a ? a->r.fmt_src : NULL;
}
