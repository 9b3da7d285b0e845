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
    hmap_init(&ns->devs);
    hmap_init(&ns->by_eui);
    hmap_init(&ns->by_addr);
    hmap_init(&ns->gws);
    hmap_init(&ns->dedup);
    buf_init(&ns->out);
    ns->rng = (uint32_t)(io->wall_us ? io->wall_us(io->ud) : 12345) | 1u;
    return ns;
}

static void dev_free(lw_ns *ns, ns_dev *d) {
    ns_queue_clear(ns, d);
    lw_dev_rec_clear(&d->r);
    free(d);
}

void lw_ns_free(lw_ns *ns) {
    if (!ns) return;
    size_t it = 0;
    const void *k;
    size_t kn;
    void *v;
    while ((v = hmap_next(&ns->devs, &it, &k, &kn))) dev_free(ns, v);
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
    hmap_free(&ns->devs);
    hmap_free(&ns->by_eui);
    hmap_free(&ns->by_addr);
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
    ns->io.event(ns->io.ud, kind, d ? d->r.app_id : "", d ? d->r.dev_id : "", msg);
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
    size_t it = 0;
    const void *k;
    size_t kn;
    void *v;
    ns_dev *gone[64];
    for (;;) {
        size_t n = 0;
        it = 0;
        while (n < 64 && (v = hmap_next(&ns->devs, &it, &k, &kn)))
            if (!strcmp(((ns_dev *)v)->r.app_id, app_id)) gone[n++] = v;
        if (!n) break;
        for (size_t i = 0; i < n; i++) lw_ns_dev_remove(ns, gone[i]->r.app_id, gone[i]->r.dev_id);
    }
}

/* ---- devices ---- */

ns_dev *ns_dev_find(const lw_ns *ns, const char *app_id, const char *dev_id) {
    char key[2 * LW_ID_MAX + 2];
    int n = snprintf(key, sizeof key, "%s/%s", app_id, dev_id);
    if (n < 0 || (size_t)n >= sizeof key) return NULL;
    return hmap_get(&ns->devs, key, (size_t)n);
}

const lw_dev_rec *lw_ns_dev_get(const lw_ns *ns, const char *app_id, const char *dev_id) {
    ns_dev *d = ns_dev_find(ns, app_id, dev_id);
    return d ? &d->r : NULL;
}

static void addr_unindex(lw_ns *ns, ns_dev *d) {
    if (!d->addr_indexed) return;
    uint32_t a = d->indexed_addr;
    ns_dev *head = hmap_get(&ns->by_addr, &a, 4);
    if (head == d) {
        hmap_del(&ns->by_addr, &a, 4);
        if (d->addr_next) hmap_put(&ns->by_addr, &d->addr_next->indexed_addr, 4, d->addr_next);
    } else {
        for (ns_dev *p = head; p; p = p->addr_next)
            if (p->addr_next == d) {
                p->addr_next = d->addr_next;
                break;
            }
    }
    d->addr_next = NULL;
    d->addr_indexed = false;
}

void ns_dev_index_addr(lw_ns *ns, ns_dev *d) {
    addr_unindex(ns, d);
    if (!d->r.s.active) return;
    d->indexed_addr = d->r.s.dev_addr;
    ns_dev *head = hmap_get(&ns->by_addr, &d->indexed_addr, 4);
    d->addr_next = head;
    /* the key lives in the head device: re-put with the new head's key */
    if (head) hmap_del(&ns->by_addr, &d->indexed_addr, 4);
    if (hmap_put(&ns->by_addr, &d->indexed_addr, 4, d) == 0) d->addr_indexed = true;
    else if (head) hmap_put(&ns->by_addr, &head->indexed_addr, 4, head);
}

static bool session_identity_changed(const lw_dev_rec *old, const lw_dev_rec *nw) {
    if (old->otaa != nw->otaa) return true;
    if (memcmp(old->app_key, nw->app_key, 16)) return true;
    if (!nw->otaa) {
        if (old->s.dev_addr != nw->s.dev_addr) return true;
        if (memcmp(old->s.nwk_s_key, nw->s.nwk_s_key, 16) || memcmp(old->s.app_s_key, nw->s.app_s_key, 16)) return true;
    }
    return false;
}

int lw_ns_dev_put(lw_ns *ns, const lw_dev_rec *src) {
    ns_dev *d = ns_dev_find(ns, src->app_id, src->dev_id);
    lw_session keep;
    bool keep_session = false;
    if (d) {
        keep_session = !session_identity_changed(&d->r, src);
        keep = d->r.s;
        hmap_del(&ns->devs, d->key, strlen(d->key));
        if (hmap_get(&ns->by_eui, d->eui_key, 16) == d) hmap_del(&ns->by_eui, d->eui_key, 16);
        addr_unindex(ns, d);
        lw_dev_rec_clear(&d->r);
    } else {
        d = calloc(1, sizeof *d);
        if (!d) return -1;
    }
    if (lw_dev_rec_copy(&d->r, src)) {
        free(d);
        return -1;
    }
    if (keep_session) d->r.s = keep;
    d->region = lw_region_get(d->r.region[0] ? d->r.region : "EU868");
    if (!d->region) d->region = lw_region_get("EU868");
    if (!d->r.s.nb_trans) d->r.s.nb_trans = 1;
    if (!d->r.s.rx1_delay_s) d->r.s.rx1_delay_s = ns->conf.rx1_delay_s;
    if (!d->r.s.rx2_freq_hz) {
        d->r.s.rx2_freq_hz = d->region->rx2_freq_hz;
        d->r.s.rx2_dr = d->region->rx2_dr;
    }
    snprintf(d->key, sizeof d->key, "%s/%s", d->r.app_id, d->r.dev_id);
    memcpy(d->eui_key, d->r.join_eui, 8);
    memcpy(d->eui_key + 8, d->r.dev_eui, 8);
    if (hmap_put(&ns->devs, d->key, strlen(d->key), d)) {
        lw_dev_rec_clear(&d->r);
        free(d);
        return -1;
    }
    hmap_put(&ns->by_eui, d->eui_key, 16, d);
    ns_dev_index_addr(ns, d);
    return 0;
}

void lw_ns_dev_remove(lw_ns *ns, const char *app_id, const char *dev_id) {
    ns_dev *d = ns_dev_find(ns, app_id, dev_id);
    if (!d) return;
    hmap_del(&ns->devs, d->key, strlen(d->key));
    if (hmap_get(&ns->by_eui, d->eui_key, 16) == d) hmap_del(&ns->by_eui, d->eui_key, 16);
    addr_unindex(ns, d);
    dev_free(ns, d);
}

size_t lw_ns_device_count(const lw_ns *ns) { return ns->devs.count; }

void ns_dev_dirty(lw_ns *ns, ns_dev *d) {
    if (ns->io.session_dirty) ns->io.session_dirty(ns->io.ud, &d->r);
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
    ids->app_id = d->r.app_id;
    ids->dev_id = d->r.dev_id;
    ids->tenant = ns->tenant;
    ids->dev_eui = d->r.dev_eui;
    ids->join_eui = d->r.join_eui;
    if (d->r.s.active) {
        ids->has_dev_addr = true;
        ids->dev_addr = d->r.s.dev_addr;
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
    if (d->r.fmt != LW_FMT_INHERIT) {
        *kind = d->r.fmt;
        *src = d->r.fmt_src;
        return;
    }
    ns_app *a = ns_app_find(ns, d->r.app_id);
    *kind = a ? a->r.fmt : LW_FMT_NONE;
    *src = a ? a->r.fmt_src : NULL;
}
