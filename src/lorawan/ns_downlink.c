/* LoRaWAN server engine, downlinks (class A): the per-device queue fed by MQTT down/push|replace,
 * frame building (ACK bit, MAC commands in FOpts or FPort 0, application payload, FPending),
 * window choice (RX1 at tmst + RX1 delay on the uplink's channel and RX1 DR; RX2 one second later
 * on the region's RX2 frequency/DR) by payload size and the gateway's duty cycle, PULL_RESP to
 * the best gateway, TX_ACK handling (an error moves an RX1 downlink to RX2), confirmed downlinks
 * (ACK expected in the next uplink; nack -> retry up to conf.confirmed_retries, then failed) and
 * the down/queued|sent|ack|nack|failed events. */
#include "lorawan/ns_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lorawan/airtime.h"

void ns_down_free(ns_down *x) {
    if (!x) return;
    lw_as_downlink_clear(&x->dl);
    free(x);
}

void ns_queue_clear(lw_ns *ns, ns_dev *d) {
    (void)ns;
    ns_dev_x *dx = d->x;
    if (!dx) return;
    for (ns_down *x = dx->q_head, *n; x; x = n) {
        n = x->next;
        ns_down_free(x);
    }
    dx->q_head = dx->q_tail = NULL;
    dx->q_len = 0;
    ns_down_free(dx->awaiting_ack);
    dx->awaiting_ack = NULL;
}

void ns_down_event(lw_ns *ns, ns_dev *d, lw_as_down_kind kind, const lw_as_downlink *dl, const char *error) {
    static const char *suffix[] = {"down/queued", "down/sent", "down/ack", "down/nack", "down/failed"};
    lw_as_ids ids;
    ns_ids(ns, d, &ids);
    buf_reset(&ns->out);
    int64_t now_us = ns->io.wall_us ? ns->io.wall_us(ns->io.ud) : 0;
    if (lw_as_down_event_json(&ids, kind, dl, error, now_us, &ns->out) == 0) ns_publish(ns, d, suffix[kind]);
    ns_event(ns, "down", d, "%s f_port=%u bytes=%zu%s%s", suffix[kind] + 5, dl->f_port, dl->frm_len,
             error ? ": " : "", error ? error : "");
}

static void queue_push_front(ns_dev_x *d, ns_down *x) {
    x->next = d->q_head;
    d->q_head = x;
    if (!d->q_tail) d->q_tail = x;
    d->q_len++;
}

static void queue_push_back(ns_dev_x *d, ns_down *x) {
    x->next = NULL;
    if (d->q_tail) d->q_tail->next = x;
    else d->q_head = x;
    d->q_tail = x;
    d->q_len++;
}

static ns_down *queue_pop(ns_dev *dev) {
    ns_dev_x *d = dev->x;
    ns_down *x = d ? d->q_head : NULL;
    if (!x) return NULL;
    d->q_head = x->next;
    if (!d->q_head) d->q_tail = NULL;
    d->q_len--;
    x->next = NULL;
    return x;
}

/* ---- sending ---- */

static int8_t tx_power_for(const lw_region *r, uint32_t freq) {
    const lw_band *b = lw_region_band_of(r, freq);
    int8_t p = b && b->max_eirp_dbm ? b->max_eirp_dbm : r->max_eirp_dbm;
    return p;
}

static uint64_t tx_start_us(const ns_up *u, const ns_rx *rx, uint32_t tmst, uint64_t now) {
    /* the gateway's tmst mapped onto our monotonic clock through the uplink's reception */
    (void)now;
    return u->first_mono * 1000 + (uint32_t)(tmst - rx->tmst);
}

static int send_pull_resp(lw_ns *ns, ns_gw *gw, const lw_region *r, uint32_t tmst, uint32_t freq, int dr,
                          const uint8_t *phy, size_t len, uint16_t *token_out) {
    const lw_dr_def *def = lw_region_dr(r, dr);
    if (!def || def->mod != LW_MOD_LORA) return -1;
    lw_gw_txpk tx;
    memset(&tx, 0, sizeof tx);
    tx.has_tmst = true;
    tx.tmst = tmst;
    tx.freq_hz = freq;
    tx.rfch = 0;
    tx.powe = tx_power_for(r, freq);
    tx.modu = LW_GW_MODU_LORA;
    tx.sf = def->sf;
    tx.bw_khz = (uint16_t)(def->bw_hz / 1000);
    tx.codr = "4/5";
    tx.ipol = true;
    tx.size = (uint16_t)len;
    tx.data = phy;
    uint8_t dgram[600];
    size_t dl = 0;
    uint16_t token = ++gw->token;
    if (lw_gw_build_pull_resp(&tx, gw->pull_version ? gw->pull_version : 2, token, dgram, sizeof dgram, &dl) != 0)
        return -1;
    ns->io.send(ns->io.ud, &gw->pull_addr, dgram, dl);
    *token_out = token;
    return 0;
}

static ns_tx *tx_track(lw_ns *ns, ns_gw *gw, uint16_t token, ns_dev *d, uint64_t now) {
    ns_tx *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->token = token;
    t->gw = gw;
    t->deadline = now + ns->conf.tx_ack_timeout_ms;
    snprintf(t->app_id, sizeof t->app_id, "%s", d->app->id);
    snprintf(t->dev_id, sizeof t->dev_id, "%s", d->dev_id);
    t->region = d->region;
    t->next = ns->tx_head;
    ns->tx_head = t;
    return t;
}

static bool dc_allows(ns_gw *gw, const lw_region *r, uint32_t freq, uint64_t start_us, uint32_t air) {
    if (!gw->dc_init) {
        lw_dcw_init(&gw->dc, r);
        gw->dc_init = true;
    }
    if (gw->dc.r != r) return true; /* a gateway serving several regions: not tracked */
    return lw_dcw_can_tx(&gw->dc, freq, start_us, air);
}

/* a gateway transmits one frame at a time: is [start, start+air) free of scheduled downlinks? */
static bool gw_free(const ns_gw *gw, uint64_t start, uint32_t air) {
    for (int i = 0; i < 8; i++)
        if (gw->busy_end[i] > start && gw->busy_start[i] < start + air) return false;
    return true;
}

static void dc_record(ns_gw *gw, const lw_region *r, uint32_t freq, uint64_t start_us, int dr, size_t len) {
    uint32_t air = lw_region_airtime_us(r, dr, (uint16_t)len, false);
    if (gw->dc_init && gw->dc.r == r) lw_dcw_record(&gw->dc, freq, start_us, air);
    int slot = 0;
    for (int i = 1; i < 8; i++)
        if (gw->busy_end[i] < gw->busy_end[slot]) slot = i; /* the oldest (or an empty) slot */
    gw->busy_start[slot] = start_us;
    gw->busy_end[slot] = start_us + air;
}

/* pick RX1 or RX2 for `len` bytes of PHYPayload; 0 = RX1, 1 = RX2, -1 = neither */
static int pick_window(ns_gw *gw, const lw_region *r, const ns_up *u, const ns_rx *rx, uint32_t tmst1, uint32_t freq1,
                       int dr1, uint32_t tmst2, uint32_t freq2, int dr2, size_t phy_len, uint64_t now, bool *dc_block) {
    unsigned m1 = 0, n1 = 0, m2 = 0, n2 = 0;
    *dc_block = false;
    bool fit1 = dr1 >= 0 && freq1 && lw_region_max_payload_ex(r, dr1, false, false, &m1, &n1) == 0 && phy_len - 5 <= m1;
    bool fit2 = lw_region_max_payload_ex(r, dr2, false, false, &m2, &n2) == 0 && phy_len - 5 <= m2;
    uint64_t s1 = tx_start_us(u, rx, tmst1, now), s2 = tx_start_us(u, rx, tmst2, now);
    uint32_t a1 = fit1 ? lw_region_airtime_us(r, dr1, (uint16_t)phy_len, false) : 0;
    uint32_t a2 = fit2 ? lw_region_airtime_us(r, dr2, (uint16_t)phy_len, false) : 0;
    if (fit1 && dc_allows(gw, r, freq1, s1, a1) && gw_free(gw, s1, a1)) return 0;
    if (fit2 && dc_allows(gw, r, freq2, s2, a2) && gw_free(gw, s2, a2)) return 1;
    if (fit1 || fit2) *dc_block = true;
    return -1;
}

/* where a downlink goes: the first gateway (best SNR, then RSSI, among those that heard the uplink
 * and have a downlink path) that can send it in RX1 or else RX2 */
typedef struct choice {
    const ns_rx *rx;
    int w; /* 0 RX1, 1 RX2 */
    uint32_t tmst, freq, tmst2;
    int dr;
} choice;

static int choose(const ns_up *u, const lw_region *r, uint32_t delay_us, uint32_t freq1, int dr1, uint32_t freq2,
                  int dr2, size_t len, uint64_t now, choice *c, bool *dcb) {
    bool used[NS_MAX_RX] = {false};
    *dcb = false;
    for (;;) {
        int best = -1;
        for (unsigned i = 0; i < u->n_rx; i++) {
            const ns_rx *x = &u->rx[i];
            if (used[i] || !x->gw->has_pull) continue;
            if (best < 0 || x->snr > u->rx[best].snr || (x->snr == u->rx[best].snr && x->rssi > u->rx[best].rssi))
                best = (int)i;
        }
        if (best < 0) return -1;
        used[best] = true;
        const ns_rx *rx = &u->rx[best];
        uint32_t tmst1 = rx->tmst + delay_us, tmst2 = tmst1 + 1000000u;
        bool b = false;
        int w = pick_window(rx->gw, r, u, rx, tmst1, freq1, dr1, tmst2, freq2, dr2, len, now, &b);
        *dcb |= b;
        if (w >= 0) {
            c->rx = rx;
            c->w = w;
            c->tmst = w ? tmst2 : tmst1;
            c->tmst2 = tmst2;
            c->freq = w ? freq2 : freq1;
            c->dr = w ? dr2 : dr1;
            return 0;
        }
    }
}

static bool any_downlink_path(const ns_up *u) {
    for (unsigned i = 0; i < u->n_rx; i++)
        if (u->rx[i].gw->has_pull) return true;
    return false;
}

/* hand the frame to the chosen gateway and remember it until its TX_ACK */
static ns_tx *transmit(lw_ns *ns, ns_dev *d, const ns_up *u, const choice *c, uint32_t freq2, int dr2,
                       const uint8_t *phy, size_t len, uint64_t now) {
    const lw_region *r = d->region;
    uint16_t token;
    if (send_pull_resp(ns, c->rx->gw, r, c->tmst, c->freq, c->dr, phy, len, &token)) return NULL;
    dc_record(c->rx->gw, r, c->freq, tx_start_us(u, c->rx, c->tmst, now), c->dr, len);
    if (c->w) ns->st.downlinks_rx2++;
    ns_tx *t = tx_track(ns, c->rx->gw, token, d, now);
    if (t) {
        t->can_rx2 = (c->w == 0);
        t->rx2_tmst = c->tmst2;
        t->rx2_freq = freq2;
        t->rx2_dr = (uint8_t)dr2;
        memcpy(t->phy, phy, len);
        t->phy_len = (uint16_t)len;
    }
    return t;
}

int ns_send_join_accept(lw_ns *ns, ns_dev *d, const ns_up *u, int up_dr, const uint8_t *phy, size_t len,
                        uint64_t now) {
    if (!any_downlink_path(u)) {
        ns->st.downlinks_failed++;
        ns_note(ns, NS_C_NO_GATEWAY, now, "%s/%s: no gateway with a downlink path (PULL_DATA) heard the join",
                d->app->id, d->dev_id);
        return -1;
    }
    const lw_region *r = d->region;
    uint32_t freq1 = lw_region_rx1_freq(r, u->freq_hz, -1);
    int dr1 = lw_region_rx1_dr(r, up_dr, 0);
    choice c;
    bool dcb;
    if (choose(u, r, (uint32_t)ns->conf.join_delay_s * 1000000u, freq1, dr1, r->rx2_freq_hz, r->rx2_dr, len, now, &c,
               &dcb)) {
        ns->st.downlinks_failed++;
        ns_note(ns, NS_C_DOWN_FAIL, now, "%s/%s: join accept not sent: %s", d->app->id, d->dev_id,
                dcb ? "every gateway busy or out of duty cycle" : "no usable window");
        return -1;
    }
    ns_tx *t = transmit(ns, d, u, &c, r->rx2_freq_hz, r->rx2_dr, phy, len, now);
    if (!t) return -1;
    t->is_join = true;
    return 0;
}

int ns_downlink_class_a(lw_ns *ns, ns_dev *d, const ns_up *u, int up_dr, bool ack, bool force, uint64_t now) {
    if (!any_downlink_path(u)) {
        ns->st.downlinks_failed++;
        ns_note(ns, NS_C_NO_GATEWAY, now, "%s/%s: downlink needed but no gateway with a downlink path heard the uplink",
                d->app->id, d->dev_id);
        return -1;
    }
    const lw_region *r = d->region;
    lw_session *s = &d->s;
    uint32_t delay_us = (uint32_t)(s->rx1_delay_s ? s->rx1_delay_s : 1) * 1000000u;
    uint32_t freq1 = lw_region_rx1_freq(r, u->freq_hz, -1);
    int dr1 = lw_region_rx1_dr(r, up_dr, s->rx1_dr_offset);
    uint32_t freq2 = s->rx2_freq_hz ? s->rx2_freq_hz : r->rx2_freq_hz;
    int dr2 = s->rx2_dr;

    ns_down *app = ns_awaiting_ack(d) ? NULL : ns_q_head(d);
    const uint8_t mac_out_len = ns_mac_out_len(d);
    const uint8_t *mac_out = d->x ? d->x->mac_out : NULL;
    bool mac_in_fopts = mac_out_len <= LW_FOPTS_MAX;
    lw_frame f;
    uint8_t phy[LW_PHY_MAX];
    size_t len = 0;
    int w = -1;
    bool dcb = false;
    choice c;
    for (int attempt = 0; attempt < 2; attempt++) {
        bool with_app = app && attempt == 0 && (mac_in_fopts || !mac_out_len);
        if (attempt == 1 && !(ack || force || mac_out_len)) break;
        memset(&f, 0, sizeof f);
        f.mtype = with_app && app->dl.confirmed ? LW_MTYPE_CONFIRMED_DOWN : LW_MTYPE_UNCONFIRMED_DOWN;
        f.dev_addr = s->dev_addr;
        f.fctrl.ack = ack;
        f.fctrl.adr = d->adr;
        if (with_app) {
            if (mac_out_len) {
                memcpy(f.fopts, mac_out, mac_out_len);
                f.fopts_len = mac_out_len;
            }
            f.has_fport = true;
            f.fport = app->dl.f_port;
            memcpy(f.frm, app->dl.frm, app->dl.frm_len);
            f.frm_len = app->dl.frm_len;
            f.fctrl.fpending = app->next != NULL;
        } else if (mac_out_len && mac_in_fopts) {
            memcpy(f.fopts, mac_out, mac_out_len);
            f.fopts_len = mac_out_len;
            f.fctrl.fpending = app != NULL;
        } else if (mac_out_len) {
            f.has_fport = true;
            f.fport = 0;
            memcpy(f.frm, mac_out, mac_out_len);
            f.frm_len = mac_out_len;
            f.fctrl.fpending = app != NULL;
        } else {
            f.fctrl.fpending = app != NULL;
        }
        lw_keys k = {.nwk_s_key = s->nwk_s_key, .app_s_key = s->app_s_key};
        char err[100];
        if (lw_frame_seal(&f, &k, s->fcnt_down, phy, sizeof phy, &len, err, sizeof err) != 0) {
            ns_note(ns, NS_C_DOWN_FAIL, now, "%s/%s: downlink frame: %s", d->app->id, d->dev_id, err);
            if (with_app) continue;
            return -1;
        }
        bool b = false;
        w = choose(u, r, delay_us, freq1, dr1, freq2, dr2, len, now, &c, &b) == 0 ? c.w : -1;
        dcb |= b;
        if (w >= 0) {
            if (!with_app) app = NULL;
            break;
        }
        if (with_app && !b) {
            /* the application payload does not fit any window at this data rate: it never will */
            ns_down *x = queue_pop(d);
            ns_down_event(ns, d, LW_DOWN_FAILED, &x->dl, "payload too large for the data rate");
            ns->st.downlinks_failed++;
            ns_down_free(x);
            app = NULL;
        }
    }
    if (w < 0) {
        ns->st.downlinks_failed++;
        ns_note(ns, NS_C_DOWN_FAIL, now, "%s/%s: downlink not sent: %s", d->app->id, d->dev_id,
                dcb ? "every gateway busy or out of duty cycle" : "no usable window");
        return -1;
    }
    ns_tx *t = transmit(ns, d, u, &c, freq2, dr2, phy, len, now);
    if (!t) return -1;
    ns->st.mac_commands_out += mac_out_len ? 1 : 0;
    if (d->x) d->x->mac_out_len = 0;
    uint32_t fcnt = s->fcnt_down++;
    t->fcnt = fcnt;
    if (app) {
        t->dl = queue_pop(d);
        t->dl->dl.f_cnt = fcnt;
    }
    ns_dev_dirty(ns, d);
    return 0;
}

/* ---- after the gateway answered (or did not) ---- */

static void tx_done(lw_ns *ns, ns_tx *t, bool ok, const char *why) {
    ns_dev *d = ns_dev_find(ns, t->app_id, t->dev_id);
    if (ok) {
        ns->st.downlinks++;
        t->gw->tx++;
    } else {
        ns->st.downlinks_failed++;
    }
    if (!t->dl) return;
    ns_down *x = t->dl;
    t->dl = NULL;
    if (!d) {
        ns_down_free(x);
        return;
    }
    if (!ok) {
        /* not transmitted (the gateway refused both windows): report it; the application decides */
        ns_down_event(ns, d, LW_DOWN_FAILED, &x->dl, why);
        ns_down_free(x);
        return;
    }
    ns_down_event(ns, d, LW_DOWN_SENT, &x->dl, NULL);
    ns_dev_x *dx = x->dl.confirmed ? ns_dev_x_get(d) : NULL;
    if (dx) {
        ns_down_free(dx->awaiting_ack);
        dx->awaiting_ack = x;
    } else {
        ns_down_free(x);
    }
    ns_dev_x_trim(d);
}

static void tx_unlink(lw_ns *ns, ns_tx *t) {
    for (ns_tx **p = &ns->tx_head; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            return;
        }
}

void ns_tx_ack(lw_ns *ns, ns_gw *gw, uint16_t token, int error, uint64_t now) {
    ns_tx *t = ns->tx_head;
    while (t && !(t->gw == gw && t->token == token)) t = t->next;
    if (!t) return; /* late or foreign */
    tx_unlink(ns, t);
    if (error == LW_GW_TXERR_NONE) {
        tx_done(ns, t, true, NULL);
        free(t);
        return;
    }
    ns->st.tx_ack_errors++;
    ns_note(ns, NS_C_TX_ACK, now, "gateway %s refused a downlink to %s/%s: %s", gw->rec.gw_id, t->app_id, t->dev_id,
            lw_gw_txerr_name(error));
    if (t->can_rx2 && error != LW_GW_TXERR_GPS_UNLOCKED) {
        uint16_t tok;
        if (send_pull_resp(ns, gw, t->region, t->rx2_tmst, t->rx2_freq, t->rx2_dr, t->phy, t->phy_len, &tok) == 0) {
            ns->st.downlinks_rx2++;
            t->token = tok;
            t->can_rx2 = false;
            t->deadline = now + ns->conf.tx_ack_timeout_ms;
            t->next = ns->tx_head;
            ns->tx_head = t;
            return;
        }
    }
    char why[80];
    snprintf(why, sizeof why, "gateway: %s", lw_gw_txerr_name(error));
    tx_done(ns, t, false, why);
    free(t);
}

void ns_tx_expire(lw_ns *ns, uint64_t now) {
    for (ns_tx **p = &ns->tx_head; *p;) {
        ns_tx *t = *p;
        if (t->deadline > now) {
            p = &t->next;
            continue;
        }
        *p = t->next;
        /* no TX_ACK (protocol v1, or lost): the forwarder took it */
        tx_done(ns, t, true, NULL);
        free(t);
    }
}

void ns_confirmed_result(lw_ns *ns, ns_dev *d, bool acked, uint64_t now) {
    ns_down *x = ns_awaiting_ack(d);
    if (!x) return;
    d->x->awaiting_ack = NULL;
    if (acked) {
        ns->st.downlinks_acked++;
        ns_down_event(ns, d, LW_DOWN_ACK, &x->dl, NULL);
        ns_down_free(x);
        return;
    }
    ns->st.downlinks_nacked++;
    ns_down_event(ns, d, LW_DOWN_NACK, &x->dl, NULL);
    if (++x->attempts <= ns->conf.confirmed_retries) {
        queue_push_front(d->x, x);
        return;
    }
    ns_down_event(ns, d, LW_DOWN_FAILED, &x->dl, "no acknowledgement after retries");
    ns->st.downlinks_failed++;
    ns_down_free(x);
}

/* ---- the application's downlink requests ---- */

int lw_ns_downlink_push(lw_ns *ns, const char *app_id, const char *dev_id, const char *json, size_t n, bool replace,
                        uint64_t now, char *err, size_t errlen) {
    ns_dev *d = ns_dev_find(ns, app_id, dev_id);
    if (!d) {
        snprintf(err, errlen, "device %s/%s not found", app_id, dev_id);
        return -1;
    }
    lw_as_downlink dls[16];
    size_t count = 0;
    if (lw_as_parse_downlinks(json, n, dls, 16, &count, err, errlen) != 0) return -1;
    int rc = 0;
    /* encode decoded_payload with the formatter first: all or nothing */
    for (size_t i = 0; i < count && rc == 0; i++) {
        if (dls[i].has_frm) continue;
        lw_fmt_kind kind;
        const char *src;
        ns_fmt_kind(ns, d, &kind, &src);
        lw_fmt_result fr;
        memset(&fr, 0, sizeof fr);
        if (!ns->fmt || kind == LW_FMT_NONE) {
            snprintf(err, errlen, "decoded_payload given but the device has no payload formatter");
            rc = -1;
        } else if (lw_fmt_encode_downlink(ns->fmt, kind, src, dls[i].decoded_json, dls[i].f_port, &fr) != 0) {
            snprintf(err, errlen, "encodeDownlink: %s", fr.error);
            ns->st.formatter_errors++;
            rc = -1;
        } else {
            memcpy(dls[i].frm, fr.bytes, fr.n_bytes);
            dls[i].frm_len = fr.n_bytes;
            if (fr.fport) dls[i].f_port = fr.fport;
            dls[i].has_frm = true;
        }
        lw_fmt_result_clear(&fr);
    }
    ns_dev_x *dx = rc == 0 && count ? ns_dev_x_get(d) : d->x;
    if (rc == 0 && count && !dx) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc == 0 && !replace && (dx ? dx->q_len : 0) + count > ns->conf.max_queue) {
        snprintf(err, errlen, "downlink queue full (%u)", ns->conf.max_queue);
        rc = -1;
    }
    if (rc == 0 && replace && count > ns->conf.max_queue) {
        snprintf(err, errlen, "downlink queue full (%u)", ns->conf.max_queue);
        rc = -1;
    }
    if (rc != 0) {
        for (size_t i = 0; i < count; i++) lw_as_downlink_clear(&dls[i]);
        ns_dev_x_trim(d);
        return -1;
    }
    if (replace) {
        for (ns_down *x = dx ? dx->q_head : NULL, *nx; x; x = nx) {
            nx = x->next;
            ns_down_free(x);
        }
        if (dx) {
            dx->q_head = dx->q_tail = NULL;
            dx->q_len = 0;
        }
    }
    for (size_t i = 0; i < count; i++) {
        ns_down *x = calloc(1, sizeof *x);
        if (!x) {
            lw_as_downlink_clear(&dls[i]);
            continue;
        }
        x->dl = dls[i];
        queue_push_back(dx, x);
        ns_down_event(ns, d, LW_DOWN_QUEUED, &x->dl, NULL);
    }
    ns_dev_x_trim(d);
    (void)now;
    return 0;
}
