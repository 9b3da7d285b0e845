/* The simulated world of `tinyedge sim` (see sim.h): devices, gateways and the air between them. */
#include "sim/sim.h"

#include "lorawan/lpp.h"
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t t_us;
    uint32_t dev;
    uint8_t type;
    int32_t a, b;
    uint32_t c;
} sim_event;

typedef struct {
    lw_device d;
    double x, y;
    double *shadow; /* per gateway, dB */
    bool started;   /* OTAA join started */
    uint64_t start_us, next_uplink_us;
    uint32_t uplink_no;
    double temp, hum, light, batt;
} sim_dev;

typedef struct {
    lw_sgw g;
    double x, y;
    uint64_t busy_from, busy_to; /* last downlink on air (half duplex) */
} sim_gw;

typedef struct {
    unsigned dev;
    uint64_t start, end;
    uint32_t freq, bw;
    uint8_t sf, dr;
    bool resolved;
    size_t len;
    uint8_t phy[LW_PHY_MAX];
    double *rssi, *snr; /* per gateway */
} sim_frame;

struct lw_sim {
    lw_sim_config c;
    lw_rng rng;
    sim_dev *dev;
    sim_gw *gw;
    sim_frame **air;
    size_t n_air, cap_air;
    sim_event *ev;
    size_t n_ev, cap_ev;
    uint64_t events_dropped;
    unsigned out_rr;
    lw_sim_stats st;
};

void lw_sim_config_default(lw_sim_config *c) {
    memset(c, 0, sizeof *c);
    c->region = lw_region_get("EU868");
    c->n_devices = 10;
    c->n_gateways = 1;
    c->radius_m = 2000;
    c->seed = 1;
    c->interval_s = 60;
    c->dr = -1;
    c->adr = true;
    lw_radio_model_default(&c->radio);
    c->max_events = 100000;
}

static void rand_bytes(lw_rng *g, uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(lw_rng_next(g) >> 24);
}

void lw_sim_identity_of(const lw_sim_config *c, unsigned i, lw_sim_identity *id) {
    memset(id, 0, sizeof *id);
    lw_rng g;
    lw_rng_seed(&g, c->seed * 0x100000001B3ull + i + 0x51D);
    unsigned s16 = (unsigned)(c->seed & 0xFFFF);
    snprintf(id->dev_id, sizeof id->dev_id, "sim-%04x-%u", s16, i);
    uint64_t eui = 0x70B3D57ED0000000ull + ((uint64_t)s16 << 16) + (i & 0xFFFF);
    for (int k = 0; k < 8; k++) id->dev_eui[k] = (uint8_t)(eui >> (56 - 8 * k));
    static const uint8_t join_eui[8] = {0x70, 0xB3, 0xD5, 0x7E, 0xD0, 0x00, 0xFF, 0xFF};
    memcpy(id->join_eui, join_eui, 8);
    rand_bytes(&g, id->app_key, 16);
    rand_bytes(&g, id->nwk_s_key, 16);
    rand_bytes(&g, id->app_s_key, 16);
    id->dev_addr = 0x26000000u | ((uint32_t)(c->seed & 0xFF) << 16) | (i & 0xFFFF);
}

void lw_sim_gw_eui(const lw_sim_config *c, unsigned j, uint8_t eui[8]) {
    uint64_t v = 0xB827EBFFFE000000ull | ((c->seed & 0xFFFF) << 8) | (j & 0xFF);
    for (int k = 0; k < 8; k++) eui[k] = (uint8_t)(v >> (56 - 8 * k));
}

static double dist(double x1, double y1, double x2, double y2) { return hypot(x1 - x2, y1 - y2); }

/* extra event kinds of the world (after the device's own) */
enum { SIM_EV_HEARD = 100, SIM_EV_COLLISION, SIM_EV_OUT_OF_RANGE, SIM_EV_GW_TX, SIM_EV_SKIPPED_BUSY };

static const char *sim_event_name(int type);

/* one readable line per event */
static void format_event(char *line, size_t cap, uint64_t t, unsigned dev, int type, int32_t a, int32_t b, uint32_t c) {
    int n = dev == UINT32_MAX ? snprintf(line, cap, "t=%.3f event=%s", t / 1e6, sim_event_name(type))
                              : snprintf(line, cap, "t=%.3f dev=%u event=%s", t / 1e6, dev, sim_event_name(type));
    if (n < 0 || (size_t)n >= cap) return;
    char *p = line + n;
    size_t left = cap - (size_t)n;
    switch (type) {
    case LW_DEV_EV_TX:
        if (a < 0)
            snprintf(p, left, " frame=join_request freq=%.1f", c / 1e6);
        else
            snprintf(p, left, " fcnt=%d retransmission=%d freq=%.1f", (int)a, (int)b, c / 1e6);
        break;
    case LW_DEV_EV_DEFERRED: snprintf(p, left, " fcnt=%d wait_ms=%u", (int)a, c / 1000); break;
    case LW_DEV_EV_JOIN_SENT: snprintf(p, left, " dev_nonce=%d attempt=%d", (int)a, (int)b); break;
    case LW_DEV_EV_JOINED: snprintf(p, left, " dev_addr=%08x", c); break;
    case LW_DEV_EV_JOIN_FAILED: snprintf(p, left, " attempt=%d", (int)a); break;
    case LW_DEV_EV_DOWNLINK: snprintf(p, left, " fcnt=%d fport=%d bytes=%u", (int)a, (int)b, c); break;
    case LW_DEV_EV_ACKED:
    case LW_DEV_EV_UNACKED: snprintf(p, left, " fcnt=%d transmissions=%d", (int)a, (int)b); break;
    case LW_DEV_EV_MAC: snprintf(p, left, " cmd=%s ok=%d", lw_mac_name((uint8_t)a, false), (int)b); break;
    case LW_DEV_EV_ADR_CHANGE: snprintf(p, left, " dr=%d tx_power=%d nb_trans=%u", (int)a, (int)b, c); break;
    case LW_DEV_EV_ADR_BACKOFF: snprintf(p, left, " dr=%d tx_power=%d", (int)a, (int)b); break;
    case LW_DEV_EV_LINK_CHECK: snprintf(p, left, " margin=%d gateways=%d", (int)a, (int)b); break;
    case LW_DEV_EV_DEVICE_TIME: snprintf(p, left, " gps_seconds=%u", c); break;
    case LW_DEV_EV_RX_REJECTED: snprintf(p, left, " reason=%s", a == LW_DEV_ERR_FCNT_OLD ? "fcnt replay" : lw_strerror(a)); break;
    case SIM_EV_HEARD: snprintf(p, left, " gateways=%d dr=%d freq=%.1f", (int)a, (int)b, c / 1e6); break;
    case SIM_EV_COLLISION:
    case SIM_EV_OUT_OF_RANGE: snprintf(p, left, " dr=%d freq=%.1f", (int)b, c / 1e6); break;
    case SIM_EV_SKIPPED_BUSY: snprintf(p, left, " reason=previous frame still in progress"); break;
    case SIM_EV_GW_TX: snprintf(p, left, " gw=%d sf=%d freq=%.3f", (int)a, (int)b, c / 1e6); break;
    default: snprintf(p, left, " a=%d b=%d c=%u", (int)a, (int)b, c); break;
    }
}

static void record(lw_sim *s, uint64_t t, unsigned dev, int type, int32_t a, int32_t b, uint32_t c) {
    if (s->n_ev >= s->c.max_events) {
        s->events_dropped++;
    } else {
        if (s->n_ev == s->cap_ev) {
            size_t nc = s->cap_ev ? s->cap_ev * 2 : 1024;
            if (nc > s->c.max_events) nc = s->c.max_events;
            sim_event *p = realloc(s->ev, nc * sizeof *p);
            if (!p) {
                s->events_dropped++;
                goto log;
            }
            s->ev = p;
            s->cap_ev = nc;
        }
        s->ev[s->n_ev++] = (sim_event){t, dev, (uint8_t)type, a, b, c};
    }
log:
    if (s->c.log) {
        char line[200];
        format_event(line, sizeof line, t, dev, type, a, b, c);
        s->c.log(s->c.log_ud, line);
    }
}

static const char *sim_event_name(int type) {
    switch (type) {
    case SIM_EV_HEARD:
        return "heard";
    case SIM_EV_COLLISION:
        return "collision";
    case SIM_EV_OUT_OF_RANGE:
        return "out_of_range";
    case SIM_EV_GW_TX:
        return "gw_tx";
    case SIM_EV_SKIPPED_BUSY:
        return "skipped_busy";
    default:
        return lw_dev_event_name(type);
    }
}

static void srecord(lw_sim *s, uint64_t t, unsigned dev, int type, int32_t a, int32_t b, uint32_t c) {
    record(s, t, dev, type, a, b, c);
}

static int auto_dr(const lw_sim *s, const sim_dev *d) {
    const lw_region *r = s->c.region;
    double best = -1e9;
    for (unsigned j = 0; j < s->c.n_gateways; j++) {
        double snr;
        lw_radio_link(&s->c.radio, r->max_eirp_dbm, dist(d->x, d->y, s->gw[j].x, s->gw[j].y), d->shadow[j], 0, 125000,
                      NULL, &snr);
        if (snr > best) best = snr;
    }
    for (int dr = LW_DR_MAX - 1; dr >= 0; dr--) {
        const lw_dr_def *e = lw_region_dr(r, dr);
        if (!e || e->mod != LW_MOD_LORA || !(e->dir & LW_DRDIR_UP) || e->bw_hz != 125000) continue;
        if (dr > r->default_uplink_dr_max) continue;
        if (best - lw_radio_snr_floor_db(e->sf) >= 5.0) return dr;
    }
    for (int dr = 0; dr < LW_DR_MAX; dr++) {
        const lw_dr_def *e = lw_region_dr(r, dr);
        if (e && e->mod == LW_MOD_LORA && (e->dir & LW_DRDIR_UP)) return dr;
    }
    return 0;
}

int lw_sim_init(lw_sim **out, const lw_sim_config *c, uint64_t now_us, char *err, size_t errlen) {
    *out = NULL;
    if (!c->region || c->n_devices == 0 || c->n_gateways == 0 || c->n_gateways > 255 || c->n_devices > 65535 ||
        !(c->radius_m > 0) || !(c->interval_s > 0)) {
        snprintf(err, errlen, "bad configuration (devices 1..65535, gateways 1..255, radius and interval > 0)");
        return -1;
    }
    if (c->dr >= 0 && !lw_region_dr(c->region, c->dr)) {
        snprintf(err, errlen, "data rate %d is not defined in %s", c->dr, c->region->name);
        return -1;
    }
    lw_sim *s = calloc(1, sizeof *s);
    if (!s) return snprintf(err, errlen, "out of memory"), -1;
    s->c = *c;
    if (!s->c.max_events) s->c.max_events = 100000;
    lw_rng_seed(&s->rng, c->seed);
    s->dev = calloc(c->n_devices, sizeof *s->dev);
    s->gw = calloc(c->n_gateways, sizeof *s->gw);
    if (!s->dev || !s->gw) goto oom;
    for (unsigned j = 0; j < c->n_gateways; j++) {
        sim_gw *g = &s->gw[j];
        if (c->n_gateways > 1) lw_radio_disc_point(&s->rng, c->radius_m * 0.7, &g->x, &g->y);
        uint8_t eui[8];
        lw_sim_gw_eui(c, j, eui);
        lw_sgw_init(&g->g, c->region, eui, (uint32_t)lw_rng_next(&s->rng), c->wall_base_us, now_us);
    }
    for (unsigned i = 0; i < c->n_devices; i++) {
        sim_dev *d = &s->dev[i];
        d->shadow = calloc(c->n_gateways, sizeof *d->shadow);
        if (!d->shadow) goto oom;
        lw_radio_disc_point(&s->rng, c->radius_m, &d->x, &d->y);
        for (unsigned j = 0; j < c->n_gateways; j++) d->shadow[j] = c->radio.shadow_sigma_db * lw_rng_gauss(&s->rng);
        lw_sim_identity id;
        lw_sim_identity_of(c, i, &id);
        lw_dev_config dc;
        memset(&dc, 0, sizeof dc);
        dc.region = c->region;
        dc.otaa = !c->abp;
        memcpy(dc.dev_eui, id.dev_eui, 8);
        memcpy(dc.join_eui, id.join_eui, 8);
        memcpy(dc.app_key, id.app_key, 16);
        dc.dev_addr = id.dev_addr;
        memcpy(dc.nwk_s_key, id.nwk_s_key, 16);
        memcpy(dc.app_s_key, id.app_s_key, 16);
        dc.dr = (uint8_t)(c->dr >= 0 ? c->dr : auto_dr(s, d));
        dc.adr = c->adr;
        dc.battery = 254;
        dc.seed = (uint32_t)lw_rng_next(&s->rng) | 1u;
        /* DevNonce keeps counting across reruns (1.0.4 servers reject reused ones): start from the clock */
        dc.dev_nonce = c->dev_nonces ? c->dev_nonces[i] : (uint16_t)((c->wall_base_us / 1000000u) * 4u + i * 7919u);
        if (lw_dev_init(&d->d, &dc) < 0) {
            snprintf(err, errlen, "device %u: bad configuration", i);
            lw_sim_free(s);
            return -1;
        }
        double spread = c->interval_s < 30 ? c->interval_s : 30; /* first join/uplink within 30 s */
        d->start_us = now_us + (uint64_t)(lw_rng_uniform(&s->rng) * spread * 1e6);
        d->next_uplink_us = c->abp ? d->start_us : UINT64_MAX;
        d->temp = 18 + 6 * lw_rng_uniform(&s->rng);
        d->hum = 40 + 20 * lw_rng_uniform(&s->rng);
        d->light = 100 + 500 * lw_rng_uniform(&s->rng);
        d->batt = 3.6 + 0.5 * lw_rng_uniform(&s->rng);
    }
    *out = s;
    return 0;
oom:
    lw_sim_free(s);
    snprintf(err, errlen, "out of memory");
    return -1;
}

void lw_sim_free(lw_sim *s) {
    if (!s) return;
    if (s->dev)
        for (unsigned i = 0; i < s->c.n_devices; i++) free(s->dev[i].shadow);
    for (size_t k = 0; k < s->n_air; k++) free(s->air[k]);
    free(s->air);
    free(s->dev);
    free(s->gw);
    free(s->ev);
    free(s);
}

const lw_sim_stats *lw_sim_stats_get(const lw_sim *s) { return &s->st; }
const lw_device *lw_sim_device(const lw_sim *s, unsigned i) { return i < s->c.n_devices ? &s->dev[i].d : NULL; }
const lw_sgw *lw_sim_gateway(const lw_sim *s, unsigned j) { return j < s->c.n_gateways ? &s->gw[j].g : NULL; }

static double walk(lw_rng *g, double v, double step, double lo, double hi) {
    v += step * lw_rng_gauss(g);
    return v < lo ? lo : v > hi ? hi : v;
}

static size_t sensor_payload(lw_sim *s, unsigned i, uint8_t *out, size_t cap) {
    if (s->c.payload) {
        int n = s->c.payload(s->c.payload_ud, i, out, cap);
        return n > 0 ? (size_t)n : 0;
    }
    sim_dev *d = &s->dev[i];
    d->temp = walk(&s->rng, d->temp, 0.3, -20, 50);
    d->hum = walk(&s->rng, d->hum, 1.0, 5, 100);
    d->light = walk(&s->rng, d->light, 40, 0, 65000);
    d->batt = walk(&s->rng, d->batt - 0.001, 0.002, 2.8, 4.2);
    lw_lpp_writer w;
    lw_lpp_writer_init(&w, out, cap);
    lw_lpp_add_temperature(&w, 1, d->temp);
    lw_lpp_add_relative_humidity(&w, 2, d->hum);
    lw_lpp_add_luminosity(&w, 3, (uint16_t)d->light);
    lw_lpp_add_analog_in(&w, 4, d->batt);
    return w.len;
}

/* the device's events into the world's counters and log */
static void drain(lw_sim *s, unsigned i, uint64_t now) {
    lw_dev_event ev;
    while (lw_dev_event_pop(&s->dev[i].d, &ev)) {
        switch (ev.type) {
        case LW_DEV_EV_DEFERRED: s->st.deferred++; break;
        case LW_DEV_EV_JOIN_SENT: s->st.joins_sent++; break;
        case LW_DEV_EV_JOINED:
            s->st.joins_ok++;
            s->dev[i].next_uplink_us = now + (uint64_t)(lw_rng_uniform(&s->rng) * 5e6);
            break;
        case LW_DEV_EV_JOIN_FAILED: s->st.joins_failed++; break;
        case LW_DEV_EV_DOWNLINK: s->st.downlinks_rx++; break;
        case LW_DEV_EV_RX_REJECTED: s->st.downlinks_rejected++; break;
        case LW_DEV_EV_ACKED: s->st.acked++; break;
        case LW_DEV_EV_UNACKED: s->st.unacked++; break;
        case LW_DEV_EV_MAC:
            if (ev.b)
                s->st.mac_applied++;
            else
                s->st.mac_rejected++;
            break;
        case LW_DEV_EV_ADR_CHANGE: s->st.adr_changes++; break;
        case LW_DEV_EV_ADR_BACKOFF: s->st.adr_backoffs++; break;
        default: break;
        }
        record(s, now, i, ev.type, ev.a, ev.b, ev.c);
    }
}

/* a gateway transmits a downlink: every device whose link budget allows hears it */
static void deliver_downlink(lw_sim *s, unsigned j, const lw_sgw_down *dn) {
    sim_gw *g = &s->gw[j];
    g->busy_from = dn->start_us;
    g->busy_to = dn->start_us + dn->airtime_us;
    s->st.downlinks_tx++;
    srecord(s, dn->start_us, UINT32_MAX, SIM_EV_GW_TX, (int32_t)j, dn->sf, dn->freq_hz);
    if (!dn->ipol) return; /* devices listen with inverted polarity: a non-inverted frame is not heard */
    int dr = lw_region_dr_find(s->c.region, dn->sf, (uint32_t)dn->bw_khz * 1000u, LW_DRDIR_DOWN);
    if (dr < 0) return;
    for (unsigned i = 0; i < s->c.n_devices; i++) {
        sim_dev *d = &s->dev[i];
        if (d->d.phase != LW_DEV_WAIT_RX) continue;
        double rssi, snr;
        double fade = s->c.radio.fading_sigma_db * lw_rng_gauss(&s->rng);
        lw_radio_link(&s->c.radio, dn->powe, dist(d->x, d->y, g->x, g->y), d->shadow[j], fade,
                      (uint32_t)dn->bw_khz * 1000u, &rssi, &snr);
        if (snr < lw_radio_snr_floor_db(dn->sf)) continue;
        lw_dev_rx(&d->d, dn->start_us, dn->freq_hz, (uint8_t)dr, dn->data, dn->size, (int)lround(rssi), (int)lround(snr));
        drain(s, i, dn->start_us);
    }
}

static void resolve(lw_sim *s, sim_frame *f) {
    unsigned heard = 0;
    bool above = false;
    bool collided = false;
    lw_radio_signal *sig = malloc((s->n_air ? s->n_air : 1) * sizeof *sig);
    for (unsigned j = 0; j < s->c.n_gateways; j++) {
        if (f->snr[j] < lw_radio_snr_floor_db(f->sf)) continue;
        above = true;
        sim_gw *g = &s->gw[j];
        if (f->start < g->busy_to && g->busy_from < f->end) {
            s->st.lost_gw_busy++;
            continue;
        }
        size_t n = 0, me = 0;
        for (size_t k = 0; sig && k < s->n_air; k++) {
            sim_frame *o = s->air[k];
            if (o == f) me = n;
            sig[n++] = (lw_radio_signal){o->start, o->end, o->freq, o->sf, o->rssi[j]};
        }
        if (sig && !lw_radio_survives(&sig[me], sig, n, s->c.radio.capture_db)) {
            collided = true;
            continue;
        }
        lw_sgw_receive(&g->g, f->end, f->freq, f->sf, f->bw, f->rssi[j], f->snr[j], f->phy, f->len);
        heard++;
    }
    free(sig);
    s->st.heard[heard > LW_SIM_MAX_HEARD ? LW_SIM_MAX_HEARD : heard]++;
    if (heard)
        srecord(s, f->end, f->dev, SIM_EV_HEARD, (int32_t)heard, f->dr, f->freq);
    else if (collided) {
        s->st.lost_collision++;
        srecord(s, f->end, f->dev, SIM_EV_COLLISION, 0, f->dr, f->freq);
    } else if (!above) {
        s->st.lost_range++;
        srecord(s, f->end, f->dev, SIM_EV_OUT_OF_RANGE, 0, f->dr, f->freq);
    }
    f->resolved = true;
}

static void start_frame(lw_sim *s, unsigned i, const lw_dev_tx *tx, uint64_t now) {
    const lw_dr_def *e = lw_region_dr(s->c.region, tx->dr);
    if (!e) return;
    size_t ng = s->c.n_gateways;
    sim_frame *f = malloc(sizeof *f + 2 * ng * sizeof(double));
    if (!f) return;
    if (s->n_air == s->cap_air) {
        size_t nc = s->cap_air ? s->cap_air * 2 : 64;
        sim_frame **p = realloc(s->air, nc * sizeof *p);
        if (!p) {
            free(f);
            return;
        }
        s->air = p;
        s->cap_air = nc;
    }
    f->rssi = (double *)(f + 1);
    f->snr = f->rssi + ng;
    f->dev = i;
    f->start = now;
    f->end = now + tx->airtime_us;
    f->freq = tx->freq_hz;
    f->bw = e->bw_hz;
    f->sf = e->sf;
    f->dr = tx->dr;
    f->resolved = false;
    f->len = tx->len;
    memcpy(f->phy, tx->phy, tx->len);
    sim_dev *d = &s->dev[i];
    for (size_t j = 0; j < ng; j++) {
        double fade = s->c.radio.fading_sigma_db * lw_rng_gauss(&s->rng);
        lw_radio_link(&s->c.radio, tx->power_dbm, dist(d->x, d->y, s->gw[j].x, s->gw[j].y), d->shadow[j], fade, f->bw,
                      &f->rssi[j], &f->snr[j]);
    }
    s->air[s->n_air++] = f;
    s->st.frames++;
}

void lw_sim_step(lw_sim *s, uint64_t now) {
    /* 1. downlinks whose time has come */
    for (unsigned j = 0; j < s->c.n_gateways; j++) {
        lw_sgw_down dn;
        while (lw_sgw_tx_due(&s->gw[j].g, now, &dn)) deliver_downlink(s, j, &dn);
    }
    /* 2. uplinks that ended */
    for (size_t k = 0; k < s->n_air; k++)
        if (!s->air[k]->resolved && s->air[k]->end <= now) resolve(s, s->air[k]);
    size_t w = 0;
    for (size_t k = 0; k < s->n_air; k++) {
        if (s->air[k]->resolved && s->air[k]->end + 5000000u < now)
            free(s->air[k]);
        else
            s->air[w++] = s->air[k];
    }
    s->n_air = w;
    /* 3. devices: join, application uplinks, transmissions */
    for (unsigned i = 0; i < s->c.n_devices; i++) {
        sim_dev *d = &s->dev[i];
        if (!s->c.abp && !d->started && now >= d->start_us) {
            d->started = true;
            lw_dev_join(&d->d, now);
        }
        if (d->d.joined && now >= d->next_uplink_us) {
            double j = 0.5 + lw_rng_uniform(&s->rng);
            d->next_uplink_us = now + (uint64_t)(s->c.interval_s * j * 1e6);
            if (lw_dev_busy(&d->d)) {
                s->st.uplink_skipped_busy++;
                srecord(s, now, i, SIM_EV_SKIPPED_BUSY, 0, 0, 0);
            } else {
                uint8_t p[64];
                size_t n = sensor_payload(s, i, p, sizeof p);
                d->uplink_no++;
                bool conf = s->c.confirmed_every && d->uplink_no % s->c.confirmed_every == 0;
                if (lw_dev_send(&d->d, now, 2, p, n, conf) == 0) {
                    s->st.app_uplinks++;
                    if (conf) s->st.confirmed_sent++;
                }
            }
        }
        lw_dev_tx tx;
        if (lw_dev_poll(&d->d, now, &tx) == 1) start_frame(s, i, &tx, now);
        drain(s, i, now);
    }
}

uint64_t lw_sim_next_us(const lw_sim *s) {
    uint64_t t = UINT64_MAX;
    for (unsigned j = 0; j < s->c.n_gateways; j++) {
        uint64_t g = lw_sgw_next_us(&s->gw[j].g);
        if (g < t) t = g;
    }
    for (size_t k = 0; k < s->n_air; k++)
        if (!s->air[k]->resolved && s->air[k]->end < t) t = s->air[k]->end;
    for (unsigned i = 0; i < s->c.n_devices; i++) {
        const sim_dev *d = &s->dev[i];
        uint64_t v = lw_dev_next_us(&d->d);
        if (v < t) t = v;
        if (!s->c.abp && !d->started && d->start_us < t) t = d->start_us;
        if (d->d.joined && d->next_uplink_us < t) t = d->next_uplink_us;
    }
    return t;
}

int lw_sim_poll_out(lw_sim *s, uint64_t now, unsigned *gw, uint8_t *out, size_t cap, size_t *len) {
    for (unsigned k = 0; k < s->c.n_gateways; k++) {
        unsigned j = (s->out_rr + k) % s->c.n_gateways;
        int rc = lw_sgw_poll(&s->gw[j].g, now, out, cap, len);
        if (rc == 1) {
            *gw = j;
            s->out_rr = j + 1;
            return 1;
        }
    }
    return 0;
}

int lw_sim_input(lw_sim *s, unsigned gw, uint64_t now, const uint8_t *d, size_t n) {
    if (gw >= s->c.n_gateways) return -1;
    char err[128];
    int rc = lw_sgw_input(&s->gw[gw].g, now, d, n, err, sizeof err);
    if (rc < 0 && s->c.log) {
        char line[200];
        snprintf(line, sizeof line, "t=%.3f gw=%u bad datagram from server: %s", now / 1e6, gw, err);
        s->c.log(s->c.log_ud, line);
    }
    if (rc == LW_GW_PULL_RESP && s->c.log) {
        const lw_sgw *g = &s->gw[gw].g;
        char line[200];
        snprintf(line, sizeof line, "t=%.3f gw=%u PULL_RESP queued=%zu", now / 1e6, gw, g->n_jit);
        s->c.log(s->c.log_ud, line);
    }
    return rc;
}

static uint64_t sum_gw(const lw_sim *s, size_t off) {
    uint64_t t = 0;
    for (unsigned j = 0; j < s->c.n_gateways; j++) {
        uint32_t v;
        memcpy(&v, (const char *)&s->gw[j].g.stats + off, sizeof v);
        t += v;
    }
    return t;
}

void lw_sim_write_summary(const lw_sim *s, FILE *f) {
    const lw_sim_stats *t = &s->st;
    fprintf(f, "sim summary: %u devices, %u gateways, region %s, %s\n", s->c.n_devices, s->c.n_gateways,
            s->c.region->name, s->c.abp ? "ABP" : "OTAA");
    fprintf(f, "  uplinks: %llu application uplinks, %llu frames on air (%llu skipped: device busy)\n",
            (unsigned long long)t->app_uplinks, (unsigned long long)t->frames, (unsigned long long)t->uplink_skipped_busy);
    fprintf(f, "  heard by N gateways:");
    for (unsigned k = 0; k <= LW_SIM_MAX_HEARD && k <= s->c.n_gateways; k++)
        fprintf(f, " %u:%llu", k, (unsigned long long)t->heard[k]);
    fprintf(f, "\n  lost: %llu to collisions, %llu out of range; %llu receptions missed by a transmitting gateway; "
               "%llu deferred by duty cycle\n",
            (unsigned long long)t->lost_collision, (unsigned long long)t->lost_range, (unsigned long long)t->lost_gw_busy,
            (unsigned long long)t->deferred);
    fprintf(f, "  joins: %llu sent, %llu ok, %llu failed\n", (unsigned long long)t->joins_sent,
            (unsigned long long)t->joins_ok, (unsigned long long)t->joins_failed);
    fprintf(f, "  downlinks: %llu transmitted by gateways, %llu received by devices, %llu rejected\n",
            (unsigned long long)t->downlinks_tx, (unsigned long long)t->downlinks_rx,
            (unsigned long long)t->downlinks_rejected);
    fprintf(f, "  MAC commands: %llu applied, %llu rejected; %llu ADR changes, %llu ADR backoff steps\n",
            (unsigned long long)t->mac_applied, (unsigned long long)t->mac_rejected, (unsigned long long)t->adr_changes,
            (unsigned long long)t->adr_backoffs);
    fprintf(f, "  confirmed uplinks: %llu sent, %llu acked, %llu unacked\n", (unsigned long long)t->confirmed_sent,
            (unsigned long long)t->acked, (unsigned long long)t->unacked);
    uint64_t ps = sum_gw(s, offsetof(lw_sgw_stats, push_sent)), pa = sum_gw(s, offsetof(lw_sgw_stats, push_acked));
    uint64_t qs = sum_gw(s, offsetof(lw_sgw_stats, pull_sent)), qa = sum_gw(s, offsetof(lw_sgw_stats, pull_acked));
    fprintf(f, "  gateways: PUSH_DATA %llu sent, %llu acked (%llu unanswered); PULL_DATA %llu sent, %llu acked; "
               "PULL_RESP %llu; bad datagrams %llu\n",
            (unsigned long long)ps, (unsigned long long)pa, (unsigned long long)(ps > pa ? ps - pa : 0),
            (unsigned long long)qs, (unsigned long long)qa,
            (unsigned long long)sum_gw(s, offsetof(lw_sgw_stats, pull_resp)),
            (unsigned long long)sum_gw(s, offsetof(lw_sgw_stats, bad_datagrams)));
    for (int e = 1; e < 8; e++) {
        uint64_t n = 0;
        for (unsigned j = 0; j < s->c.n_gateways; j++) n += s->gw[j].g.stats.tx_err[e];
        if (n) fprintf(f, "  TX_ACK %s: %llu\n", lw_gw_txerr_name(e), (unsigned long long)n);
    }
}

static void hexs(const uint8_t *p, size_t n, char *out) {
    static const char h[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) out[2 * i] = h[p[i] >> 4], out[2 * i + 1] = h[p[i] & 15];
    out[2 * n] = 0;
}

#define JU(v) json_integer((json_int_t)(v))

int lw_sim_write_report(const lw_sim *s, FILE *f) {
    const lw_sim_stats *t = &s->st;
    json_t *root = json_object();
    json_t *cfg = json_object(), *sum = json_object(), *gws = json_array(), *devs = json_array(), *evs = json_array();
    json_object_set_new(root, "config", cfg);
    json_object_set_new(root, "summary", sum);
    json_object_set_new(root, "gateways", gws);
    json_object_set_new(root, "devices", devs);
    json_object_set_new(root, "events", evs);
    json_object_set_new(cfg, "region", json_string(s->c.region->name));
    json_object_set_new(cfg, "devices", JU(s->c.n_devices));
    json_object_set_new(cfg, "gateways", JU(s->c.n_gateways));
    json_object_set_new(cfg, "activation", json_string(s->c.abp ? "ABP" : "OTAA"));
    json_object_set_new(cfg, "seed", JU(s->c.seed));
    json_object_set_new(cfg, "radius_m", json_real(s->c.radius_m));
    json_object_set_new(cfg, "interval_s", json_real(s->c.interval_s));
    json_object_set_new(cfg, "confirmed_every", JU(s->c.confirmed_every));
    static const struct {
        const char *k;
        size_t off;
    } fields[] = {
#define F(x) {#x, offsetof(lw_sim_stats, x)}
        F(app_uplinks), F(uplink_skipped_busy), F(frames), F(lost_collision), F(lost_range), F(lost_gw_busy),
        F(deferred), F(joins_sent), F(joins_ok), F(joins_failed), F(downlinks_tx), F(downlinks_rx),
        F(downlinks_rejected), F(mac_applied), F(mac_rejected), F(adr_changes), F(adr_backoffs), F(confirmed_sent),
        F(acked), F(unacked),
#undef F
    };
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
        uint64_t v;
        memcpy(&v, (const char *)t + fields[k].off, sizeof v);
        json_object_set_new(sum, fields[k].k, JU(v));
    }
    json_t *h = json_array();
    for (unsigned k = 0; k <= LW_SIM_MAX_HEARD && k <= s->c.n_gateways; k++) json_array_append_new(h, JU(t->heard[k]));
    json_object_set_new(sum, "heard_by", h);
    json_object_set_new(sum, "events_dropped", JU(s->events_dropped));
    for (unsigned j = 0; j < s->c.n_gateways; j++) {
        const lw_sgw_stats *g = &s->gw[j].g.stats;
        char eui[17];
        hexs(s->gw[j].g.eui, 8, eui);
        json_t *o = json_object();
        json_object_set_new(o, "eui", json_string(eui));
        json_object_set_new(o, "x", json_real(s->gw[j].x));
        json_object_set_new(o, "y", json_real(s->gw[j].y));
        json_object_set_new(o, "push_sent", JU(g->push_sent));
        json_object_set_new(o, "push_acked", JU(g->push_acked));
        json_object_set_new(o, "pull_sent", JU(g->pull_sent));
        json_object_set_new(o, "pull_acked", JU(g->pull_acked));
        json_object_set_new(o, "pull_resp", JU(g->pull_resp));
        json_object_set_new(o, "rxnb", JU(g->rxnb));
        json_object_set_new(o, "rxfw", JU(g->rxfw));
        json_object_set_new(o, "txnb", JU(g->txnb));
        json_object_set_new(o, "bad_datagrams", JU(g->bad_datagrams));
        json_t *te = json_object();
        for (int e = 0; e < 8; e++) json_object_set_new(te, lw_gw_txerr_name(e), JU(g->tx_err[e]));
        json_object_set_new(o, "tx_ack", te);
        json_array_append_new(gws, o);
    }
    for (unsigned i = 0; i < s->c.n_devices; i++) {
        const lw_device *d = &s->dev[i].d;
        lw_sim_identity id;
        lw_sim_identity_of(&s->c, i, &id);
        char eui[17], addr[9];
        hexs(id.dev_eui, 8, eui);
        snprintf(addr, sizeof addr, "%08x", (unsigned)d->dev_addr);
        json_t *o = json_object();
        json_object_set_new(o, "dev_id", json_string(id.dev_id));
        json_object_set_new(o, "dev_eui", json_string(eui));
        json_object_set_new(o, "joined", json_boolean(d->joined));
        json_object_set_new(o, "dev_addr", json_string(addr));
        json_object_set_new(o, "x", json_real(s->dev[i].x));
        json_object_set_new(o, "y", json_real(s->dev[i].y));
        json_object_set_new(o, "dr", JU(d->dr));
        json_object_set_new(o, "tx_power", JU(d->tx_power));
        json_object_set_new(o, "nb_trans", JU(d->nb_trans));
        json_object_set_new(o, "rx1_delay_s", JU(d->rx1_delay_s));
        json_object_set_new(o, "rx2_dr", JU(d->rx2_dr));
        json_object_set_new(o, "enabled_channels", JU(lw_chmask_count(&d->mask)));
        json_object_set_new(o, "fcnt_up", JU(d->fcnt_up));
        json_object_set_new(o, "fcnt_down", JU(d->fcnt_down));
        json_object_set_new(o, "tx_frames", JU(d->stats.tx_frames));
        json_object_set_new(o, "downlinks", JU(d->stats.downlinks));
        json_object_set_new(o, "acked", JU(d->stats.acked));
        json_object_set_new(o, "unacked", JU(d->stats.unacked));
        json_object_set_new(o, "deferred", JU(d->stats.deferred));
        json_array_append_new(devs, o);
    }
    for (size_t k = 0; k < s->n_ev; k++) {
        const sim_event *e = &s->ev[k];
        json_t *o = json_object();
        json_object_set_new(o, "t_ms", JU(e->t_us / 1000));
        if (e->dev != UINT32_MAX) json_object_set_new(o, "dev", JU(e->dev));
        json_object_set_new(o, "event", json_string(sim_event_name(e->type)));
        if (e->type == LW_DEV_EV_MAC) json_object_set_new(o, "cmd", json_string(lw_mac_name((uint8_t)e->a, false)));
        json_object_set_new(o, "a", JU(e->a));
        json_object_set_new(o, "b", JU(e->b));
        json_object_set_new(o, "c", JU(e->c));
        json_array_append_new(evs, o);
    }
    int rc = json_dumpf(root, f, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    fputc('\n', f);
    json_decref(root);
    return rc;
}
