/* LoRaWAN 1.0.4 class A end-device stack (see lw_device.h): frame life cycle (TX, RX1/RX2, repetitions
 * and retransmissions), OTAA/ABP, downlink checks, MAC command handling and the ADRACKReq backoff. */
#include "sim/lw_device.h"

#include <string.h>

static const int8_t eirp_table[16] = {8, 10, 12, 13, 14, 16, 18, 20, 21, 24, 26, 27, 29, 30, 33, 36};

static uint32_t rnd(lw_device *d) {
    uint32_t x = d->rng ? d->rng : 0x9E3779B9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    d->rng = x;
    return x;
}

static void emit(lw_device *d, int type, int32_t a, int32_t b, uint32_t c, uint32_t e) {
    if (d->ev_count >= LW_DEV_MAX_EVENTS) return; /* the caller drains after every call; drop newest */
    lw_dev_event *ev = &d->ev[(d->ev_head + d->ev_count) % LW_DEV_MAX_EVENTS];
    ev->type = (uint8_t)type;
    ev->a = a;
    ev->b = b;
    ev->c = c;
    ev->d = e;
    d->ev_count++;
}

int lw_dev_event_pop(lw_device *d, lw_dev_event *ev) {
    if (!d || !ev || d->ev_count == 0) return 0;
    *ev = d->ev[d->ev_head];
    d->ev_head = (d->ev_head + 1) % LW_DEV_MAX_EVENTS;
    d->ev_count--;
    return 1;
}

const char *lw_dev_event_name(int type) {
    static const char *const names[] = {"none",       "tx",         "deferred",    "join_sent",  "joined",
                                        "join_failed", "downlink",  "acked",       "unacked",    "mac",
                                        "adr_change", "adr_backoff", "link_check", "device_time", "rx_rejected"};
    if (type < 0 || (size_t)type >= sizeof names / sizeof names[0]) return "?";
    return names[type];
}

/* the region's default channels (all of them for fixed plans) */
static void default_channels(lw_device *d) {
    const lw_region *r = d->r;
    memset(d->ch_freq, 0, sizeof d->ch_freq);
    memset(d->ch_dl_freq, 0, sizeof d->ch_dl_freq);
    for (unsigned b = 0; b < r->n_uplink; b++) {
        const lw_channel_block *cb = &r->uplink[b];
        for (unsigned i = 0; i < cb->count; i++) {
            unsigned ch = cb->first_index + i;
            if (ch >= LW_CHANNELS_MAX) continue;
            d->ch_freq[ch] = cb->first_hz + i * cb->step_hz;
            d->ch_dr_min[ch] = cb->dr_min;
            d->ch_dr_max[ch] = cb->dr_max;
        }
    }
    lw_region_chmask_default(r, &d->mask);
}

static void defined_mask(const lw_device *d, lw_chmask *m) {
    lw_chmask_clear_all(m);
    for (unsigned ch = 0; ch < d->r->n_channels_max && ch < LW_CHANNELS_MAX; ch++)
        if (d->ch_freq[ch]) lw_chmask_set(m, ch);
}

static void reset_mac(lw_device *d) {
    const lw_region *r = d->r;
    default_channels(d);
    d->dr = d->cfg.dr;
    d->tx_power = 0;
    d->nb_trans = 1;
    d->rx1_dr_offset = 0;
    d->rx2_dr = r->rx2_dr;
    d->rx2_freq_hz = r->rx2_freq_hz;
    d->rx1_delay_s = (uint8_t)(r->receive_delay1_ms / 1000 ? r->receive_delay1_ms / 1000 : 1);
    d->max_eirp_dbm = 0;
    d->uplink_dwell = d->downlink_dwell = false;
    d->adr_ack_cnt = 0;
    d->n_mac_ans = 0;
    d->ack_pending = false;
    d->last_snr = 0;
    lw_dc_set_aggregated(&d->dc, 1);
}

int lw_dev_init(lw_device *d, const lw_dev_config *cfg) {
    if (!d || !cfg || !cfg->region) return LW_ERR_ARG;
    if (!lw_region_dr(cfg->region, cfg->dr)) return LW_ERR_ARG;
    memset(d, 0, sizeof *d);
    d->cfg = *cfg;
    d->r = cfg->region;
    d->rng = cfg->seed ? cfg->seed : 1;
    d->dev_nonce = cfg->dev_nonce;
    d->rx_fport = -1;
    lw_dc_init(&d->dc, d->r);
    reset_mac(d);
    if (!cfg->otaa) {
        d->joined = true;
        d->dev_addr = cfg->dev_addr;
        memcpy(d->nwk_s_key, cfg->nwk_s_key, 16);
        memcpy(d->app_s_key, cfg->app_s_key, 16);
    }
    return 0;
}

bool lw_dev_busy(const lw_device *d) { return d->phase != LW_DEV_IDLE; }

static void windows_over(lw_device *d, uint64_t now);

/* settle a frame whose windows are over before taking a new request */
static void settle(lw_device *d, uint64_t now) {
    if (d->phase == LW_DEV_WAIT_RX && (d->got_downlink || now >= d->rx2_us + LW_DEV_RX_TOLERANCE_US))
        windows_over(d, now);
}

int lw_dev_join(lw_device *d, uint64_t now_us) {
    if (!d) return LW_ERR_ARG;
    settle(d, now_us);
    if (!d->cfg.otaa) return LW_DEV_ERR_STATE;
    if (d->phase != LW_DEV_IDLE) return LW_DEV_ERR_BUSY;
    d->joined = false;
    d->joining = true;
    d->join_attempts = 0;
    d->join_first_us = now_us;
    reset_mac(d);
    d->cur_join = true;
    d->cur_confirmed = false;
    d->cur_tries = 0;
    d->cur_max = 1;
    d->phase = LW_DEV_TX_PENDING;
    d->next_tx_us = now_us;
    d->deferred_counted = false;
    return 0;
}

int lw_dev_send(lw_device *d, uint64_t now_us, uint8_t fport, const uint8_t *p, size_t n, bool confirmed) {
    if (!d || (n && !p) || fport == 0 || fport > 223) return LW_ERR_ARG;
    if (!d->joined) return LW_DEV_ERR_STATE;
    settle(d, now_us);
    if (d->phase != LW_DEV_IDLE) return LW_DEV_ERR_BUSY;
    if (n > LW_DEV_MAX_PAYLOAD || n > lw_region_max_payload(d->r, d->dr, false)) return LW_ERR_TOO_LONG;
    memcpy(d->cur_payload, p, n);
    d->cur_len = n;
    d->cur_fport = fport;
    d->cur_join = false;
    d->cur_confirmed = confirmed;
    d->cur_tries = 0;
    d->cur_max = d->nb_trans ? d->nb_trans : 1;
    d->cur_fcnt = d->fcnt_up++;
    d->phase = LW_DEV_TX_PENDING;
    d->next_tx_us = now_us;
    d->deferred_counted = false;
    return 0;
}

static int add_ans(lw_device *d, const lw_mac_cmd *c) {
    if (d->n_mac_ans >= LW_DEV_MAX_MAC_ANS) return -1;
    d->mac_ans[d->n_mac_ans++] = *c;
    return 0;
}

int lw_dev_request(lw_device *d, uint8_t cid) {
    if (!d || (cid != LW_MAC_LINK_CHECK && cid != LW_MAC_DEVICE_TIME)) return LW_ERR_ARG;
    lw_mac_cmd c;
    memset(&c, 0, sizeof c);
    c.cid = cid;
    return add_ans(d, &c) ? LW_ERR_BUFFER : 0;
}

static bool sticky(uint8_t cid) {
    return cid == LW_MAC_RX_PARAM_SETUP || cid == LW_MAC_RX_TIMING_SETUP || cid == LW_MAC_DL_CHANNEL;
}

static bool channel_usable(const lw_device *d, unsigned ch, uint8_t dr) {
    return d->ch_freq[ch] && lw_chmask_test(&d->mask, ch) && dr >= d->ch_dr_min[ch] && dr <= d->ch_dr_max[ch];
}

/* the lowest DR a join may fall back to: the lowest uplink LoRa DR defined in the region */
static uint8_t lowest_dr(const lw_region *r) {
    for (int dr = 0; dr < LW_DR_MAX; dr++) {
        const lw_dr_def *e = lw_region_dr(r, dr);
        if (e && (e->dir & LW_DRDIR_UP) && e->mod == LW_MOD_LORA) return (uint8_t)dr;
    }
    return 0;
}

/* choose a channel that may send now; -1 with *wait = earliest possible start if none can */
static int pick_channel(lw_device *d, uint8_t dr, uint64_t now, uint64_t *wait) {
    unsigned cand[LW_CHANNELS_MAX], n = 0;
    uint64_t earliest = UINT64_MAX;
    for (unsigned ch = 0; ch < d->r->n_channels_max && ch < LW_CHANNELS_MAX; ch++) {
        if (!channel_usable(d, ch, dr)) continue;
        uint64_t t = lw_dc_next_tx_us(&d->dc, d->ch_freq[ch], now);
        if (t == now)
            cand[n++] = ch;
        else if (t < earliest)
            earliest = t;
    }
    if (n == 0) {
        *wait = earliest;
        return -1;
    }
    return (int)cand[rnd(d) % n];
}

/* encode as many pending answers as fit in FOpts; *used = how many */
static size_t build_fopts(lw_device *d, uint8_t *out, size_t cap, size_t *used) {
    size_t len = 0, k = 0;
    for (; k < d->n_mac_ans; k++) {
        int sz = lw_mac_size(d->mac_ans, k + 1, true);
        if (sz < 0 || (size_t)sz > cap) break;
    }
    if (k && lw_mac_encode(d->mac_ans, k, true, out, cap, &len) < 0) len = 0, k = 0;
    *used = k;
    return len;
}

static int build_frame(lw_device *d, uint8_t *out, size_t *n) {
    lw_frame f;
    memset(&f, 0, sizeof f);
    lw_keys keys = {0};
    uint32_t fcnt = 0;
    if (d->cur_join) {
        f.mtype = LW_MTYPE_JOIN_REQUEST;
        memcpy(f.join_eui, d->cfg.join_eui, 8);
        memcpy(f.dev_eui, d->cfg.dev_eui, 8);
        f.dev_nonce = d->dev_nonce;
        keys.app_key = d->cfg.app_key;
    } else {
        f.mtype = d->cur_confirmed ? LW_MTYPE_CONFIRMED_UP : LW_MTYPE_UNCONFIRMED_UP;
        f.dev_addr = d->dev_addr;
        f.fctrl.adr = d->cfg.adr;
        f.fctrl.adr_ack_req = d->cfg.adr && d->adr_ack_cnt >= d->r->adr_ack_limit;
        f.fctrl.ack = d->ack_pending;
        unsigned maxn = lw_region_max_payload(d->r, d->dr, false);
        size_t room = maxn > d->cur_len ? maxn - d->cur_len : 0;
        size_t used = 0;
        f.fopts_len = (uint8_t)build_fopts(d, f.fopts, room < LW_MAC_FOPTS_MAX ? room : LW_MAC_FOPTS_MAX, &used);
        /* sent answers leave the queue unless sticky (those stay until a downlink arrives) */
        size_t w = 0;
        for (size_t i = 0; i < d->n_mac_ans; i++)
            if (i >= used || sticky(d->mac_ans[i].cid)) d->mac_ans[w++] = d->mac_ans[i];
        d->n_mac_ans = w;
        f.has_fport = true;
        f.fport = d->cur_fport;
        f.frm_len = d->cur_len;
        memcpy(f.frm, d->cur_payload, d->cur_len);
        keys.nwk_s_key = d->nwk_s_key;
        keys.app_s_key = d->app_s_key;
        fcnt = d->cur_fcnt;
    }
    return lw_frame_seal(&f, &keys, fcnt, out, LW_PHY_MAX, n, NULL, 0);
}

/* ADRACKReq backoff after a new uplink: one step every ADR_ACK_DELAY uplinks past ADR_ACK_LIMIT */
static void adr_backoff(lw_device *d) {
    if (!d->cfg.adr) return;
    d->adr_ack_cnt++;
    uint32_t lim = d->r->adr_ack_limit, del = d->r->adr_ack_delay ? d->r->adr_ack_delay : 1;
    if (d->adr_ack_cnt < lim + del || (d->adr_ack_cnt - lim) % del != 0) return;
    if (d->tx_power != 0) {
        d->tx_power = 0;
    } else if (d->dr > lowest_dr(d->r)) {
        d->dr--;
    } else {
        lw_chmask def;
        lw_region_chmask_default(d->r, &def);
        d->mask = def;
        d->nb_trans = 1;
    }
    d->stats.adr_backoffs++;
    emit(d, LW_DEV_EV_ADR_BACKOFF, d->dr, d->tx_power, 0, 0);
}

static int start_tx(lw_device *d, uint64_t now, lw_dev_tx *tx) {
    uint8_t dr = d->dr;
    if (d->cur_join) {
        uint8_t low = lowest_dr(d->r);
        uint32_t drop = d->join_attempts;
        dr = d->cfg.dr >= low + drop ? (uint8_t)(d->cfg.dr - drop) : low;
    }
    uint64_t wait = 0;
    int ch = pick_channel(d, dr, now, &wait);
    if (ch < 0) {
        if (wait == UINT64_MAX) wait = now + 1000000; /* no usable channel at all: retry later */
        if (!d->deferred_counted) {
            d->deferred_counted = true;
            d->stats.deferred++;
            emit(d, LW_DEV_EV_DEFERRED, (int32_t)d->cur_fcnt, 0, (uint32_t)(wait - now), 0);
        }
        d->next_tx_us = wait;
        return 0;
    }
    if (d->cur_tries == 0) {
        /* a new frame: build it once, repetitions and retransmissions are identical */
        size_t n = 0;
        int rc = build_frame(d, d->cur_payload_phy, &n);
        if (rc < 0) {
            d->phase = LW_DEV_IDLE;
            return rc;
        }
        d->cur_phy_len = n;
        if (d->cur_join) {
            d->stats.joins_sent++;
            emit(d, LW_DEV_EV_JOIN_SENT, d->dev_nonce, (int32_t)d->join_attempts, 0, 0);
            d->join_nonce_used = d->dev_nonce;
            d->dev_nonce++;
        } else {
            d->ack_pending = false;
            adr_backoff(d);
        }
    } else if (!d->cur_join) {
        d->stats.retransmissions++;
    }
    tx->freq_hz = d->ch_freq[ch];
    tx->dr = dr;
    tx->power_dbm = lw_region_tx_power_dbm(d->r, d->tx_power, d->max_eirp_dbm);
    if (tx->power_dbm == INT8_MIN) tx->power_dbm = d->r->max_eirp_dbm;
    tx->len = d->cur_phy_len;
    memcpy(tx->phy, d->cur_payload_phy, tx->len);
    tx->airtime_us = lw_region_airtime_us(d->r, dr, (uint16_t)tx->len, true);
    lw_dc_record(&d->dc, tx->freq_hz, now, tx->airtime_us);
    d->stats.tx_frames++;
    emit(d, LW_DEV_EV_TX, d->cur_join ? -1 : (int32_t)d->cur_fcnt, d->cur_tries > 0, tx->freq_hz, dr);
    d->cur_tries++;
    d->deferred_counted = false;
    d->tx_end_us = now + tx->airtime_us;
    d->tx_freq = tx->freq_hz;
    d->tx_channel = ch;
    d->tx_dr = dr;
    d->got_downlink = false;
    const lw_region *r = d->r;
    if (d->cur_join) {
        d->rx1_us = d->tx_end_us + (uint64_t)r->join_accept_delay1_ms * 1000u;
        d->rx2_us = d->tx_end_us + (uint64_t)r->join_accept_delay2_ms * 1000u;
        int rx1dr = lw_region_rx1_dr(r, dr, 0);
        d->rx1_dr = (uint8_t)(rx1dr < 0 ? 0 : rx1dr);
        d->rx2_dr_cur = r->rx2_dr;
        d->rx2_freq_cur = r->rx2_freq_hz;
    } else {
        d->rx1_us = d->tx_end_us + (uint64_t)d->rx1_delay_s * 1000000u;
        d->rx2_us = d->rx1_us + 1000000u;
        int rx1dr = lw_region_rx1_dr(r, dr, d->rx1_dr_offset);
        d->rx1_dr = (uint8_t)(rx1dr < 0 ? 0 : rx1dr);
        d->rx2_dr_cur = d->rx2_dr;
        d->rx2_freq_cur = d->rx2_freq_hz;
    }
    if (r->rx1_freq_rule == LW_RX1_FREQ_SAME)
        d->rx1_freq = d->ch_dl_freq[ch] ? d->ch_dl_freq[ch] : tx->freq_hz;
    else
        d->rx1_freq = lw_region_rx1_freq(r, tx->freq_hz, ch);
    d->phase = LW_DEV_WAIT_RX;
    return 1;
}

/* the RX windows of the current transmission are over */
static void windows_over(lw_device *d, uint64_t now) {
    if (d->cur_join) {
        if (d->joined) {
            d->phase = LW_DEV_IDLE;
            return;
        }
        d->stats.joins_failed++;
        emit(d, LW_DEV_EV_JOIN_FAILED, (int32_t)d->join_attempts, 0, 0, 0);
        d->join_attempts++;
        /* retry with a new DevNonce, respecting the join backoff duty cycle on top of the bands' */
        uint64_t start = d->tx_end_us - d->tx_airtime_us;
        uint64_t off = lw_dc_off_time_us(d->tx_airtime_us, lw_join_backoff_inverse(start - d->join_first_us));
        uint64_t next = now + 1000000u + rnd(d) % 2000000u;
        if (start + d->tx_airtime_us + off > next) next = start + d->tx_airtime_us + off;
        d->cur_tries = 0;
        d->phase = LW_DEV_TX_PENDING;
        d->next_tx_us = next;
        return;
    }
    bool done = false;
    if (d->cur_confirmed) {
        if (d->cur_acked) done = true;
    } else if (d->got_downlink) {
        done = true; /* a downlink stops the NbTrans repetitions */
    }
    if (!done && d->cur_tries < d->cur_max) {
        d->phase = LW_DEV_TX_PENDING;
        d->next_tx_us = now;
        if (d->cur_confirmed) {
            uint32_t base = d->r->ack_timeout_ms, jit = d->r->ack_timeout_jitter_ms;
            uint32_t ms = base - jit + (jit ? rnd(d) % (2 * jit + 1) : 0);
            d->next_tx_us = now + (uint64_t)ms * 1000u;
        }
        return;
    }
    if (d->cur_confirmed && !d->cur_acked) {
        d->stats.unacked++;
        emit(d, LW_DEV_EV_UNACKED, (int32_t)d->cur_fcnt, d->cur_tries, 0, 0);
    }
    d->phase = LW_DEV_IDLE;
}

int lw_dev_poll(lw_device *d, uint64_t now_us, lw_dev_tx *tx) {
    if (!d || !tx) return LW_ERR_ARG;
    for (int guard = 0; guard < 4; guard++) {
        if (d->phase == LW_DEV_WAIT_RX) {
            if (d->got_downlink || now_us >= d->rx2_us + LW_DEV_RX_TOLERANCE_US) {
                windows_over(d, now_us);
                continue;
            }
            return 0;
        }
        if (d->phase == LW_DEV_TX_PENDING && now_us >= d->next_tx_us) {
            if (d->cur_tries == 0) d->cur_acked = false;
            int rc = start_tx(d, now_us, tx);
            if (rc > 0) d->tx_airtime_us = tx->airtime_us;
            return rc;
        }
        return 0;
    }
    return 0;
}

uint64_t lw_dev_next_us(const lw_device *d) {
    if (!d) return UINT64_MAX;
    if (d->phase == LW_DEV_TX_PENDING) return d->next_tx_us;
    if (d->phase == LW_DEV_WAIT_RX) return d->got_downlink ? 0 : d->rx2_us + LW_DEV_RX_TOLERANCE_US;
    return UINT64_MAX;
}

/* ---- MAC commands ---- */

static void mac_event(lw_device *d, uint8_t cid, bool ok) {
    if (ok)
        d->stats.mac_applied++;
    else
        d->stats.mac_rejected++;
    emit(d, LW_DEV_EV_MAC, cid, ok, 0, 0);
}

static bool freq_ok(const lw_device *d, uint32_t f) {
    return f >= d->r->freq_min_hz && f <= d->r->freq_max_hz && lw_region_band_of(d->r, f) != NULL;
}

static bool dr_up_ok(const lw_region *r, int dr) {
    const lw_dr_def *e = lw_region_dr(r, dr);
    return e && (e->dir & LW_DRDIR_UP) && (e->mod == LW_MOD_LORA || e->mod == LW_MOD_FSK); /* no LR-FHSS radio */
}

/* a block of consecutive LinkADRReq, applied atomically (1.0.4 section 5.3) */
static void link_adr(lw_device *d, const lw_mac_cmd *c, size_t n) {
    lw_chmask def, mask = d->mask;
    defined_mask(d, &def);
    bool ch_ok = true;
    for (size_t i = 0; i < n; i++)
        if (lw_region_chmask_apply(d->r, &def, &mask, c[i].u.link_adr_req.ch_mask_cntl, c[i].u.link_adr_req.ch_mask) < 0)
            ch_ok = false;
    if (lw_chmask_count(&mask) == 0) ch_ok = false;
    const struct lw_mac_link_adr_req *last = &c[n - 1].u.link_adr_req;
    uint8_t dr = last->data_rate == 15 ? d->dr : last->data_rate;
    bool dr_ok = dr_up_ok(d->r, dr);
    if (dr_ok) { /* some enabled channel (of the new mask if valid, else the current one) must allow dr */
        const lw_chmask *m = ch_ok ? &mask : &d->mask;
        bool any = false;
        for (unsigned ch = 0; ch < LW_CHANNELS_MAX && !any; ch++)
            any = d->ch_freq[ch] && lw_chmask_test(m, ch) && dr >= d->ch_dr_min[ch] && dr <= d->ch_dr_max[ch];
        dr_ok = any;
    }
    uint8_t pw = last->tx_power == 15 ? d->tx_power : last->tx_power;
    bool pw_ok = lw_region_tx_power_dbm(d->r, pw, d->max_eirp_dbm) != INT8_MIN;
    uint8_t status = (uint8_t)((ch_ok ? LW_MAC_LINK_ADR_CHMASK_ACK : 0) | (dr_ok ? LW_MAC_LINK_ADR_DR_ACK : 0) |
                               (pw_ok ? LW_MAC_LINK_ADR_POWER_ACK : 0));
    bool ok = ch_ok && dr_ok && pw_ok;
    if (ok) {
        d->mask = mask;
        d->dr = dr;
        d->tx_power = pw;
        d->nb_trans = last->nb_trans ? last->nb_trans : 1;
        d->stats.adr_changes++;
        emit(d, LW_DEV_EV_ADR_CHANGE, d->dr, d->tx_power, d->nb_trans, 0);
    }
    for (size_t i = 0; i < n; i++) {
        lw_mac_cmd a;
        memset(&a, 0, sizeof a);
        a.cid = LW_MAC_LINK_ADR;
        a.u.ans.status = status;
        add_ans(d, &a);
    }
    mac_event(d, LW_MAC_LINK_ADR, ok);
}

static void apply_mac(lw_device *d, const lw_mac_cmd *c, size_t n) {
    for (size_t i = 0; i < n; i++) {
        lw_mac_cmd a;
        memset(&a, 0, sizeof a);
        a.cid = c[i].cid;
        switch (c[i].cid) {
        case LW_MAC_LINK_ADR: {
            size_t j = i;
            while (j + 1 < n && c[j + 1].cid == LW_MAC_LINK_ADR) j++;
            link_adr(d, c + i, j - i + 1);
            i = j;
            break;
        }
        case LW_MAC_DEV_STATUS: {
            int m = d->last_snr;
            a.u.dev_status_ans.battery = d->cfg.battery;
            a.u.dev_status_ans.margin = (int8_t)(m < -32 ? -32 : m > 31 ? 31 : m);
            add_ans(d, &a);
            mac_event(d, c[i].cid, true);
            break;
        }
        case LW_MAC_RX_PARAM_SETUP: {
            const struct lw_mac_rx_param_setup_req *q = &c[i].u.rx_param_setup_req;
            const lw_dr_def *e = lw_region_dr(d->r, q->rx2_data_rate);
            bool chan = freq_ok(d, q->frequency);
            bool rx2 = e && (e->dir & LW_DRDIR_DOWN);
            bool off = q->rx1_dr_offset <= d->r->rx1_offset_max;
            a.u.ans.status = (uint8_t)((chan ? LW_MAC_RX_PARAM_CHANNEL_ACK : 0) | (rx2 ? LW_MAC_RX_PARAM_RX2_DR_ACK : 0) |
                                       (off ? LW_MAC_RX_PARAM_RX1_DR_OFFSET_ACK : 0));
            if (chan && rx2 && off) {
                d->rx1_dr_offset = q->rx1_dr_offset;
                d->rx2_dr = q->rx2_data_rate;
                d->rx2_freq_hz = q->frequency;
            }
            add_ans(d, &a);
            mac_event(d, c[i].cid, chan && rx2 && off);
            break;
        }
        case LW_MAC_RX_TIMING_SETUP:
            d->rx1_delay_s = c[i].u.rx_timing_setup_req.delay ? c[i].u.rx_timing_setup_req.delay : 1;
            add_ans(d, &a);
            mac_event(d, c[i].cid, true);
            break;
        case LW_MAC_DUTY_CYCLE:
            lw_dc_set_aggregated(&d->dc, 1u << c[i].u.duty_cycle_req.max_dcycle);
            add_ans(d, &a);
            mac_event(d, c[i].cid, true);
            break;
        case LW_MAC_NEW_CHANNEL: {
            if (d->r->chmask_kind != LW_CHMASK_DYNAMIC16) { /* not implemented for fixed plans: ignored */
                mac_event(d, c[i].cid, false);
                break;
            }
            const struct lw_mac_new_channel_req *q = &c[i].u.new_channel_req;
            bool idx_ok = q->ch_index >= 3 && q->ch_index < d->r->n_channels_max; /* defaults are fixed */
            bool f_ok, r_ok;
            if (q->frequency == 0) {
                f_ok = r_ok = idx_ok;
            } else {
                f_ok = idx_ok && freq_ok(d, q->frequency);
                r_ok = idx_ok && q->min_dr <= q->max_dr && dr_up_ok(d->r, q->min_dr) && dr_up_ok(d->r, q->max_dr);
            }
            a.u.ans.status = (uint8_t)((f_ok ? LW_MAC_NEW_CHANNEL_FREQ_OK : 0) | (r_ok ? LW_MAC_NEW_CHANNEL_DR_RANGE_OK : 0));
            if (f_ok && r_ok) {
                d->ch_freq[q->ch_index] = q->frequency;
                d->ch_dl_freq[q->ch_index] = 0;
                d->ch_dr_min[q->ch_index] = q->min_dr;
                d->ch_dr_max[q->ch_index] = q->max_dr;
                if (q->frequency)
                    lw_chmask_set(&d->mask, q->ch_index);
                else
                    lw_chmask_clear(&d->mask, q->ch_index);
            }
            add_ans(d, &a);
            mac_event(d, c[i].cid, f_ok && r_ok);
            break;
        }
        case LW_MAC_DL_CHANNEL: {
            if (d->r->chmask_kind != LW_CHMASK_DYNAMIC16) {
                mac_event(d, c[i].cid, false);
                break;
            }
            uint8_t idx = c[i].u.dl_channel_req.ch_index;
            bool f_ok = freq_ok(d, c[i].u.dl_channel_req.frequency);
            bool exists = idx < LW_CHANNELS_MAX && d->ch_freq[idx] != 0;
            a.u.ans.status = (uint8_t)((f_ok ? LW_MAC_DL_CHANNEL_FREQ_OK : 0) | (exists ? LW_MAC_DL_CHANNEL_UL_FREQ_EXISTS : 0));
            if (f_ok && exists) d->ch_dl_freq[idx] = c[i].u.dl_channel_req.frequency;
            add_ans(d, &a);
            mac_event(d, c[i].cid, f_ok && exists);
            break;
        }
        case LW_MAC_TX_PARAM_SETUP:
            if (!d->r->payload_dwell_rep && !d->r->payload_dwell_norep) { /* EU868/US915: not implemented */
                mac_event(d, c[i].cid, false);
                break;
            }
            d->max_eirp_dbm = eirp_table[c[i].u.tx_param_setup_req.max_eirp & 15];
            d->uplink_dwell = c[i].u.tx_param_setup_req.uplink_dwell_time;
            d->downlink_dwell = c[i].u.tx_param_setup_req.downlink_dwell_time;
            add_ans(d, &a);
            mac_event(d, c[i].cid, true);
            break;
        case LW_MAC_LINK_CHECK:
            emit(d, LW_DEV_EV_LINK_CHECK, c[i].u.link_check_ans.margin, c[i].u.link_check_ans.gw_cnt, 0, 0);
            break;
        case LW_MAC_DEVICE_TIME:
            emit(d, LW_DEV_EV_DEVICE_TIME, (int32_t)c[i].u.device_time_ans.gps_seconds, c[i].u.device_time_ans.fraction,
                 c[i].u.device_time_ans.gps_seconds, 0);
            break;
        default:
            return; /* proprietary: nothing we understand follows */
        }
    }
}

/* ---- downlinks ---- */

static int reject(lw_device *d, int rc) {
    d->stats.rx_rejected++;
    emit(d, LW_DEV_EV_RX_REJECTED, rc, 0, 0, 0);
    return rc;
}

static int rx_join_accept(lw_device *d, lw_frame *f) {
    if (!d->cur_join || d->joined) return 0;
    int rc = lw_join_accept_open(d->cfg.app_key, f, NULL, 0);
    if (rc < 0) return reject(d, rc);
    uint8_t nwk[16], app[16];
    rc = lw_derive_session_keys(d->cfg.app_key, f->join_nonce, f->net_id, d->join_nonce_used, nwk, app);
    if (rc < 0) return reject(d, rc);
    reset_mac(d);
    memcpy(d->nwk_s_key, nwk, 16);
    memcpy(d->app_s_key, app, 16);
    d->dev_addr = f->dev_addr;
    d->fcnt_up = 0;
    d->fcnt_down = 0;
    d->fcnt_down_seen = false;
    d->rx1_dr_offset = (uint8_t)((f->dl_settings >> 4) & 7);
    const lw_dr_def *rx2 = lw_region_dr(d->r, f->dl_settings & 15);
    if (rx2 && (rx2->dir & LW_DRDIR_DOWN)) d->rx2_dr = (uint8_t)(f->dl_settings & 15); /* else keep the default */
    d->rx1_delay_s = (uint8_t)((f->rx_delay & 15) ? (f->rx_delay & 15) : 1);
    d->dr = d->tx_dr; /* keep the data rate the join went through */
    if (f->has_cflist) {
        lw_cflist cl;
        if (lw_cflist_parse(f->cflist, &cl) == 0) {
            if (cl.type == 0 && d->r->cflist_type == 0) {
                for (unsigned i = 0; i < 5; i++) {
                    unsigned ch = 3 + i;
                    if (!cl.freqs[i] || !freq_ok(d, cl.freqs[i])) continue;
                    d->ch_freq[ch] = cl.freqs[i];
                    d->ch_dr_min[ch] = 0;
                    d->ch_dr_max[ch] = d->r->default_uplink_dr_max;
                    lw_chmask_set(&d->mask, ch);
                }
            } else if (cl.type == 1 && d->r->cflist_type == 1) {
                lw_chmask def;
                defined_mask(d, &def);
                lw_chmask m = cl.mask;
                for (unsigned k = 0; k < LW_CHANNELS_MAX / 16; k++) m.w[k] &= def.w[k];
                if (lw_chmask_count(&m)) d->mask = m;
            }
        }
    }
    d->joined = true;
    d->joining = false;
    d->got_downlink = true;
    d->stats.joins_ok++;
    emit(d, LW_DEV_EV_JOINED, (int32_t)d->dev_addr, (int32_t)d->join_attempts, d->dev_addr, 0);
    return 1;
}

int lw_dev_rx(lw_device *d, uint64_t t_us, uint32_t freq_hz, uint8_t dr, const uint8_t *phy, size_t n, int rssi,
              int snr) {
    if (!d || (!phy && n)) return LW_ERR_ARG;
    if (d->phase != LW_DEV_WAIT_RX || d->got_downlink) return 0;
    uint64_t tol = LW_DEV_RX_TOLERANCE_US;
    bool w1 = t_us + tol >= d->rx1_us && t_us <= d->rx1_us + tol && freq_hz == d->rx1_freq && dr == d->rx1_dr;
    bool w2 = t_us + tol >= d->rx2_us && t_us <= d->rx2_us + tol && freq_hz == d->rx2_freq_cur && dr == d->rx2_dr_cur;
    if (!w1 && !w2) return 0;
    (void)rssi;
    lw_frame f;
    int rc = lw_frame_parse(phy, n, LW_EXPECT_DOWN, &f, NULL, 0);
    if (rc < 0) return 0; /* not a LoRaWAN downlink: noise to this device */
    if (f.mtype == LW_MTYPE_JOIN_ACCEPT) return rx_join_accept(d, &f);
    if (f.mtype != LW_MTYPE_UNCONFIRMED_DOWN && f.mtype != LW_MTYPE_CONFIRMED_DOWN) return 0;
    if (!d->joined || d->cur_join || f.dev_addr != d->dev_addr) return 0;
    lw_keys keys = {.nwk_s_key = d->nwk_s_key, .app_s_key = d->app_s_key};
    /* FCnt: the 32-bit value with these low bits nearest above the last one; a valid MIC at an older
     * value is a replay */
    uint32_t next = d->fcnt_down;
    uint32_t cand = (next & 0xFFFF0000u) | f.fcnt16;
    if (cand < next) {
        if (lw_mic_check(phy, n, &f, &keys, cand) == 0) return reject(d, LW_DEV_ERR_FCNT_OLD);
        cand += 0x10000u;
    }
    if (lw_mic_check(phy, n, &f, &keys, cand) != 0) return reject(d, LW_ERR_MIC);
    uint8_t plain[LW_PHY_MAX];
    if (f.frm_len && lw_frm_decrypt(&f, &keys, cand, plain) < 0) return reject(d, LW_ERR_CRYPTO);
    d->fcnt_down = cand + 1;
    d->fcnt_down_seen = true;
    d->got_downlink = true;
    d->adr_ack_cnt = 0;
    d->last_snr = (int8_t)(snr < -128 ? -128 : snr > 127 ? 127 : snr);
    d->stats.downlinks++;
    /* a downlink ends the repetition of sticky answers */
    size_t w = 0;
    for (size_t i = 0; i < d->n_mac_ans; i++)
        if (!sticky(d->mac_ans[i].cid) && d->mac_ans[i].cid != LW_MAC_LINK_CHECK && d->mac_ans[i].cid != LW_MAC_DEVICE_TIME)
            d->mac_ans[w++] = d->mac_ans[i];
    d->n_mac_ans = w;
    if (f.mtype == LW_MTYPE_CONFIRMED_DOWN) d->ack_pending = true;
    if (f.fctrl.ack && d->cur_confirmed && !d->cur_acked) {
        d->cur_acked = true;
        d->stats.acked++;
        emit(d, LW_DEV_EV_ACKED, (int32_t)d->cur_fcnt, d->cur_tries, 0, 0);
    }
    lw_mac_cmd cmds[16];
    size_t cnt = 0;
    if (f.fopts_len) {
        lw_mac_parse(f.fopts, f.fopts_len, false, cmds, 16, &cnt, NULL, 0);
        apply_mac(d, cmds, cnt);
    }
    d->rx_fport = f.has_fport ? f.fport : -1;
    d->rx_len = 0;
    if (f.has_fport && f.fport == 0) {
        cnt = 0;
        lw_mac_parse(plain, f.frm_len, false, cmds, 16, &cnt, NULL, 0);
        apply_mac(d, cmds, cnt);
    } else if (f.has_fport) {
        d->rx_len = f.frm_len < sizeof d->rx_payload ? f.frm_len : sizeof d->rx_payload;
        memcpy(d->rx_payload, plain, d->rx_len);
    }
    emit(d, LW_DEV_EV_DOWNLINK, (int32_t)cand, d->rx_fport, (uint32_t)d->rx_len, w1 ? 1 : 2);
    return 1;
}
