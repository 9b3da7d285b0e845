/* LoRaWAN server engine, gateway side: Semtech UDP datagrams in (PUSH_DATA with rxpk and stat,
 * PULL_DATA keep-alives that open the downlink path, TX_ACK), acknowledgements out, gateway
 * bookkeeping, and deduplication of the same PHYPayload heard by several gateways within
 * conf.dedup_ms: every reception is collected into one ns_up, processed when the window closes. */
#include "lorawan/ns_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* bounded string copy (hot path: no printf machinery) */
static void copy_str(char *dst, size_t cap, const char *src) {
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

static ns_up *up_alloc(lw_ns *ns) {
    ns_up *u = ns->up_free;
    if (u) ns->up_free = u->next;
    else u = malloc(sizeof *u);
    if (u) {
        u->next = NULL;
        u->n_rx = 0;
    }
    return u;
}

void ns_up_release(lw_ns *ns, ns_up *u) {
    u->next = ns->up_free;
    ns->up_free = u;
}

static void add_rx(ns_up *u, ns_gw *gw, const lw_gw_rxpk *p, int64_t wall) {
    /* the same gateway twice (a forwarder resending): keep the better one */
    for (unsigned i = 0; i < u->n_rx; i++)
        if (u->rx[i].gw == gw) {
            if ((p->has & LW_GW_RX_LSNR) && p->lsnr > u->rx[i].snr) u->rx[i].snr = p->lsnr;
            return;
        }
    if (u->n_rx >= NS_MAX_RX) return;
    ns_rx *r = &u->rx[u->n_rx++];
    memset(r, 0, sizeof *r);
    r->gw = gw;
    r->tmst = p->tmst;
    if (p->has & LW_GW_RX_TIME) copy_str(r->time, sizeof r->time, p->time);
    r->rssi = (p->has & LW_GW_RX_RSSI) ? p->rssi : 0;
    r->has_rssis = (p->has & LW_GW_RX_RSSIS) != 0;
    r->rssis = p->rssis;
    r->snr = (p->has & LW_GW_RX_LSNR) ? p->lsnr : 0;
    r->chan = p->chan;
    r->rfch = p->rfch;
    r->wall_us = wall;
}

static void on_rxpk(lw_ns *ns, ns_gw *gw, const lw_gw_rxpk *p, uint64_t now) {
    ns->st.rxpk++;
    gw->rx++;
    if ((p->has & LW_GW_RX_STAT) && p->stat != 1) {
        ns->st.rxpk_crc_bad++;
        return; /* CRC failed or absent: nothing trustworthy */
    }
    if (p->size == 0 || p->size > LW_PHY_MAX) {
        ns->st.bad_frames++;
        ns_note(ns, NS_C_BAD_FRAME, now, "gateway %s: rxpk of %u bytes ignored", gw->rec.gw_id, p->size);
        return;
    }
    int64_t wall = ns->io.wall_us ? ns->io.wall_us(ns->io.ud) : 0;
    ns_up *u = hmap_get(&ns->dedup, p->data, p->size);
    if (u) {
        /* another gateway (or the same one again) heard the same frame */
        ns->st.rxpk_dup++;
        if (u->freq_hz == p->freq_hz) add_rx(u, gw, p, wall);
        return;
    }
    u = up_alloc(ns);
    if (!u) return;
    u->first_mono = now;
    u->first_wall_us = wall;
    u->deadline = now + ns->conf.dedup_ms;
    u->len = p->size;
    memcpy(u->phy, p->data, p->size);
    u->freq_hz = p->freq_hz;
    u->modu = p->modu;
    u->sf = p->sf;
    u->bw_khz = p->bw_khz;
    u->bitrate = p->bitrate;
    copy_str(u->codr, sizeof u->codr, (p->has & LW_GW_RX_CODR) ? p->codr : "4/5");
    add_rx(u, gw, p, wall);
    if (ns->conf.dedup_ms == 0) {
        ns_process_uplink(ns, u, now);
        ns_up_release(ns, u);
        return;
    }
    if (hmap_put(&ns->dedup, u->phy, u->len, u)) {
        ns_up_release(ns, u);
        return;
    }
    if (ns->up_tail) ns->up_tail->next = u;
    else ns->up_head = u;
    ns->up_tail = u;
}

void lw_ns_udp_input(lw_ns *ns, const lw_ns_addr *from, const uint8_t *d, size_t n, uint64_t now) {
    static lw_gw_msg m; /* large (16 rxpk); the engine runs on one thread */
    char err[160];
    ns->st.datagrams++;
    int rc = lw_gw_parse(d, n, &m, err, sizeof err);
    if (rc < 0) {
        ns->st.bad_datagrams++;
        ns_note(ns, NS_C_BAD_DATAGRAM, now, "bad gateway datagram (%zu bytes): %s", n, err);
        /* a PUSH_DATA whose JSON is bad is still acknowledged when its header is sound, so that the
         * forwarder does not count us as down; the data is dropped */
        if (n >= LW_GW_EUI_HDR_LEN && (d[0] == 1 || d[0] == 2) && d[3] == LW_GW_PUSH_DATA) {
            uint8_t ack[4];
            size_t al;
            if (lw_gw_build_ack(d[0], (uint16_t)(d[1] << 8 | d[2]), LW_GW_PUSH_ACK, ack, sizeof ack, &al) == 0)
                ns->io.send(ns->io.ud, from, ack, al);
        }
        return;
    }
    if (!m.has_eui) return; /* a stray ACK */
    ns_gw *gw = hmap_get(&ns->gws, m.eui, 8);
    if (!gw || !gw->known) {
        ns->st.unknown_gateway++;
        char hex[17];
        lw_hex_format(m.eui, 8, hex, 1);
        if (!ns->conf.allow_unknown_gateways) {
            ns_note(ns, NS_C_UNKNOWN_GW, now, "datagram from unregistered gateway %s ignored", hex);
            return;
        }
        if (!gw) {
            ns_note(ns, NS_C_UNKNOWN_GW, now, "unregistered gateway %s connected (accepted)", hex);
            gw = ns_gw_get_or_add(ns, m.eui, now);
            if (!gw) return;
        }
    }
    gw->last_seen = now;
    gw->last_seen_wall = ns->io.wall_us ? ns->io.wall_us(ns->io.ud) : 0;
    gw->rec.last_seen_ms = gw->last_seen_wall / 1000;
    uint8_t ack[4];
    size_t al;
    switch (m.ident) {
    case LW_GW_PUSH_DATA:
        ns->st.push_data++;
        if (lw_gw_build_ack(m.version, m.token, LW_GW_PUSH_ACK, ack, sizeof ack, &al) == 0)
            ns->io.send(ns->io.ud, from, ack, al);
        if (m.has_stat) {
            gw->has_stat = true;
            gw->stat = m.stat;
            if ((m.stat.has & LW_GW_ST_LATI) && (m.stat.has & LW_GW_ST_LONG) && !gw->rec.has_location) {
                gw->rec.lat = m.stat.lati;
                gw->rec.lon = m.stat.lon;
                gw->rec.alt = (m.stat.has & LW_GW_ST_ALTI) ? m.stat.alti : 0;
                gw->rec.has_location = true;
            }
        }
        for (size_t i = 0; i < m.n_rxpk; i++) {
            if (m.rxpk[i].modu != LW_GW_MODU_LORA && m.rxpk[i].modu != LW_GW_MODU_FSK) continue;
            on_rxpk(ns, gw, &m.rxpk[i], now);
        }
        break;
    case LW_GW_PULL_DATA:
        ns->st.pull_data++;
        gw->has_pull = true;
        gw->pull_addr = *from;
        gw->pull_version = m.version;
        if (lw_gw_build_ack(m.version, m.token, LW_GW_PULL_ACK, ack, sizeof ack, &al) == 0)
            ns->io.send(ns->io.ud, from, ack, al);
        break;
    case LW_GW_TX_ACK:
        ns->st.tx_ack++;
        ns_tx_ack(ns, gw, m.token, m.tx_error, now);
        break;
    default:
        break;
    }
}

void ns_rx_to_as(const ns_up *u, lw_as_rx *rx, size_t n) {
    for (size_t i = 0; i < n && i < u->n_rx; i++) {
        const ns_rx *r = &u->rx[i];
        memset(&rx[i], 0, sizeof rx[i]);
        memcpy(rx[i].gw_eui, r->gw->rec.eui, 8);
        rx[i].gw_id = r->gw->rec.gw_id;
        rx[i].tmst = r->tmst;
        rx[i].time = r->time[0] ? r->time : NULL;
        rx[i].received_at_us = r->wall_us;
        rx[i].rssi = r->rssi;
        rx[i].has_signal_rssi = r->has_rssis;
        rx[i].signal_rssi = r->rssis;
        rx[i].snr = r->snr;
        rx[i].channel_index = r->chan;
        rx[i].rf_chain = r->rfch;
        rx[i].has_location = r->gw->rec.has_location;
        rx[i].lat = r->gw->rec.lat;
        rx[i].lon = r->gw->rec.lon;
        rx[i].alt = r->gw->rec.alt;
    }
}

void ns_settings_to_as(const ns_up *u, lw_as_settings *s) {
    memset(s, 0, sizeof *s);
    s->lora = u->modu == LW_GW_MODU_LORA;
    s->sf = u->sf;
    s->bw_hz = (uint32_t)u->bw_khz * 1000;
    s->coding_rate = u->codr;
    s->bitrate = u->bitrate;
    s->freq_hz = u->freq_hz;
    s->tmst = u->n_rx ? u->rx[0].tmst : 0;
    s->time = u->n_rx && u->rx[0].time[0] ? u->rx[0].time : NULL;
}
