/* Simulated packet-forwarder gateway (see gateway.h): uplink batching, keepalives, stats, JIT queue. */
#include "sim/gateway.h"

#include "lorawan/airtime.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void lw_sgw_init(lw_sgw *g, const lw_region *r, const uint8_t eui[8], uint32_t tmst_offset, uint64_t wall_base_us,
                 uint64_t now_us) {
    memset(g, 0, sizeof *g);
    g->r = r;
    memcpy(g->eui, eui, 8);
    g->tmst_offset = tmst_offset;
    g->wall_base_us = wall_base_us;
    g->next_pull_us = now_us;
    g->next_stat_us = now_us + LW_SGW_STAT_EVERY_US;
    g->token = (uint16_t)(tmst_offset ^ (tmst_offset >> 16));
}

uint32_t lw_sgw_tmst(const lw_sgw *g, uint64_t now_us) { return (uint32_t)(now_us + g->tmst_offset); }

static void wall_time(const lw_sgw *g, uint64_t now_us, char *buf, size_t cap, bool iso) {
    uint64_t us = g->wall_base_us + now_us;
    time_t s = (time_t)(us / 1000000u);
    struct tm tm;
    gmtime_r(&s, &tm);
    char d[32];
    if (iso) {
        strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, cap, "%s.%06uZ", d, (unsigned)(us % 1000000u));
    } else {
        strftime(d, sizeof d, "%Y-%m-%d %H:%M:%S GMT", &tm);
        snprintf(buf, cap, "%s", d);
    }
}

int lw_sgw_receive(lw_sgw *g, uint64_t now_us, uint32_t freq_hz, uint8_t sf, uint32_t bw_hz, double rssi, double snr,
                   const uint8_t *phy, size_t n) {
    g->stats.rxnb++;
    if (n > LW_GW_MAX_PAYLOAD || g->n_rx >= LW_GW_MAX_RXPK) {
        g->stats.rx_dropped++;
        return -1;
    }
    g->stats.rxok++;
    lw_gw_rxpk *p = &g->rx[g->n_rx++];
    memset(p, 0, sizeof *p);
    p->has = LW_GW_RX_CHAN | LW_GW_RX_RFCH | LW_GW_RX_STAT | LW_GW_RX_CODR | LW_GW_RX_RSSI | LW_GW_RX_LSNR;
    if (g->wall_base_us) {
        wall_time(g, now_us, p->time, sizeof p->time, true);
        p->has |= LW_GW_RX_TIME;
    }
    p->tmst = lw_sgw_tmst(g, now_us);
    p->freq_hz = freq_hz;
    int ch = lw_region_uplink_channel(g->r, freq_hz);
    p->chan = (uint8_t)(ch < 0 ? 0 : ch % 8);
    p->rfch = 0;
    p->stat = 1;
    p->modu = LW_GW_MODU_LORA;
    p->sf = sf;
    p->bw_khz = (uint16_t)(bw_hz / 1000);
    strcpy(p->codr, "4/5");
    p->rssi = (int16_t)lround(rssi);
    p->lsnr = (float)(round(snr * 10) / 10);
    p->size = (uint16_t)n;
    memcpy(p->data, phy, n);
    return 0;
}

int lw_sgw_poll(lw_sgw *g, uint64_t now_us, uint8_t *out, size_t cap, size_t *len) {
    *len = 0;
    if (g->n_txack) {
        int rc = lw_gw_build_tx_ack(g->txack[0].token, g->eui, g->txack[0].error, out, cap, len);
        memmove(g->txack, g->txack + 1, (g->n_txack - 1) * sizeof g->txack[0]);
        g->n_txack--;
        return rc < 0 ? rc : 1;
    }
    bool stat_due = now_us >= g->next_stat_us;
    if (g->n_rx || stat_due) {
        lw_gw_stat st;
        memset(&st, 0, sizeof st);
        if (stat_due) {
            st.has = LW_GW_ST_RXNB | LW_GW_ST_RXOK | LW_GW_ST_RXFW | LW_GW_ST_ACKR | LW_GW_ST_DWNB | LW_GW_ST_TXNB;
            if (g->wall_base_us) {
                wall_time(g, now_us, st.time, sizeof st.time, false);
                st.has |= LW_GW_ST_TIME;
            }
            st.rxnb = g->stats.rxnb;
            st.rxok = g->stats.rxok;
            st.rxfw = g->stats.rxfw;
            st.ackr = g->stats.push_sent ? 100.0 * g->stats.push_acked / g->stats.push_sent : 0.0;
            if (st.ackr > 100) st.ackr = 100;
            st.dwnb = g->stats.dwnb;
            st.txnb = g->stats.txnb;
            g->next_stat_us = now_us + LW_SGW_STAT_EVERY_US;
        }
        int rc = lw_gw_build_push_data(g->rx, g->n_rx, stat_due ? &st : NULL, 2, ++g->token, g->eui, out, cap, len);
        if (rc < 0) return rc;
        g->stats.rxfw += (uint32_t)g->n_rx;
        g->n_rx = 0;
        g->stats.push_sent++;
        return 1;
    }
    if (now_us >= g->next_pull_us) {
        int rc = lw_gw_build_pull_data(2, ++g->token, g->eui, out, cap, len);
        if (rc < 0) return rc;
        g->next_pull_us = now_us + LW_SGW_PULL_EVERY_US;
        g->stats.pull_sent++;
        return 1;
    }
    return 0;
}

static int schedule(lw_sgw *g, uint64_t now_us, const lw_gw_pull_resp *pr) {
    const lw_gw_txpk *t = &pr->tx;
    uint64_t start;
    if (t->imme) {
        start = now_us;
    } else if (t->has_tmst) {
        int32_t delta = (int32_t)(t->tmst - lw_sgw_tmst(g, now_us));
        if (delta < 0) return LW_GW_TXERR_TOO_LATE;
        if ((uint32_t)delta > LW_SGW_TOO_EARLY_US) return LW_GW_TXERR_TOO_EARLY;
        start = now_us + (uint32_t)delta;
    } else {
        return LW_GW_TXERR_GPS_UNLOCKED;
    }
    if (t->modu != LW_GW_MODU_LORA) return LW_GW_TXERR_TX_FREQ; /* this radio only does LoRa */
    if (t->freq_hz < g->r->freq_min_hz || t->freq_hz > g->r->freq_max_hz || !lw_region_band_of(g->r, t->freq_hz))
        return LW_GW_TXERR_TX_FREQ;
    if (t->powe > 32) return LW_GW_TXERR_TX_POWER;
    uint32_t air = lw_airtime_us(t->sf, (uint32_t)t->bw_khz * 1000u, t->size, 1, false, true,
                                 t->prea ? t->prea : LW_LORA_PREAMBLE);
    for (size_t i = 0; i < g->n_jit; i++) {
        const lw_sgw_down *q = &g->jit[i];
        if (start < q->start_us + q->airtime_us && q->start_us < start + air) return LW_GW_TXERR_COLLISION_PACKET;
    }
    if (g->n_jit >= LW_SGW_JIT_MAX) return LW_GW_TXERR_COLLISION_PACKET;
    size_t pos = g->n_jit;
    while (pos > 0 && g->jit[pos - 1].start_us > start) pos--;
    memmove(g->jit + pos + 1, g->jit + pos, (g->n_jit - pos) * sizeof g->jit[0]);
    lw_sgw_down *q = &g->jit[pos];
    memset(q, 0, sizeof *q);
    q->start_us = start;
    q->airtime_us = air;
    q->tmst = t->has_tmst ? t->tmst : lw_sgw_tmst(g, now_us);
    q->freq_hz = t->freq_hz;
    q->sf = t->sf;
    q->bw_khz = t->bw_khz;
    q->powe = t->powe;
    q->ipol = t->ipol;
    q->size = t->size;
    memcpy(q->data, pr->data, t->size);
    g->n_jit++;
    return LW_GW_TXERR_NONE;
}

int lw_sgw_input(lw_sgw *g, uint64_t now_us, const uint8_t *d, size_t n, char *err, size_t errlen) {
    if (n >= 4 && (d[0] == 1 || d[0] == 2) && d[3] == LW_GW_PULL_RESP) {
        lw_gw_pull_resp pr;
        int rc = lw_gw_parse_pull_resp(d, n, &pr, err, errlen);
        if (rc < 0) {
            g->stats.bad_datagrams++;
            return rc;
        }
        g->stats.pull_resp++;
        g->stats.dwnb++;
        int e = schedule(g, now_us, &pr);
        g->stats.tx_err[e]++;
        if (pr.version == 2 && g->n_txack < LW_SGW_TXACK_MAX) {
            g->txack[g->n_txack].token = pr.token;
            g->txack[g->n_txack].error = (uint8_t)e;
            g->n_txack++;
        }
        return LW_GW_PULL_RESP;
    }
    lw_gw_msg msg;
    lw_gw_msg *m = &msg;
    int rc = lw_gw_parse(d, n, m, err, errlen);
    if (rc < 0) {
        g->stats.bad_datagrams++;
        return rc;
    }
    if (m->ident == LW_GW_PUSH_ACK) {
        g->stats.push_acked++;
        return LW_GW_PUSH_ACK;
    }
    if (m->ident == LW_GW_PULL_ACK) {
        g->stats.pull_acked++;
        return LW_GW_PULL_ACK;
    }
    g->stats.bad_datagrams++;
    if (err && errlen) snprintf(err, errlen, "identifier 0x%02x is not for a gateway", m->ident);
    return LW_GW_ERR_IDENT;
}

int lw_sgw_tx_due(lw_sgw *g, uint64_t now_us, lw_sgw_down *down) {
    if (!g->n_jit || g->jit[0].start_us > now_us) return 0;
    *down = g->jit[0];
    memmove(g->jit, g->jit + 1, (g->n_jit - 1) * sizeof g->jit[0]);
    g->n_jit--;
    g->stats.txnb++;
    return 1;
}

uint64_t lw_sgw_next_us(const lw_sgw *g) {
    if (g->n_txack || g->n_rx) return 0;
    uint64_t t = g->next_pull_us < g->next_stat_us ? g->next_pull_us : g->next_stat_us;
    if (g->n_jit && g->jit[0].start_us < t) t = g->jit[0].start_us;
    return t;
}
