/* LoRaWAN server engine, join server: a JoinRequest is matched to a device by (JoinEUI, DevEUI),
 * its MIC checked with the AppKey, its DevNonce checked against every nonce the device used
 * (io.devnonce_use, persisted by the host), then a new DevAddr (inside the NetID's prefix) and
 * JoinNonce give fresh session keys, the JoinAccept (with the region's CFList: The Things
 * Network's extra EU868 channels, or US915 sub-band 2) goes out in RX1/RX2 and /join is published. */
#include "lorawan/ns_internal.h"
#include <stdio.h>
#include <string.h>
#include "lorawan/crypto.h"

/* the channels a device should use after joining: the same plan as The Things Network */
void ns_device_chmask(const ns_dev *d, lw_chmask *mask) {
    lw_region_chmask_default(d->region, mask);
    if (d->region->chmask_kind == LW_CHMASK_FIXED72) {
        lw_chmask_clear_all(mask);
        for (unsigned ch = 8; ch < 16; ch++) lw_chmask_set(mask, ch);
        lw_chmask_set(mask, 65);
    } else if (d->otaa && d->region->cflist_type == 0) {
        for (unsigned ch = 0; ch < 8; ch++) lw_chmask_set(mask, ch);
    }
}

static void build_cflist(const ns_dev *d, uint8_t out[LW_CFLIST_SIZE]) {
    if (d->region->cflist_type == 0) {
        /* EU868: 867.1 .. 867.9 MHz, as The Things Network */
        uint32_t f[5] = {867100000, 867300000, 867500000, 867700000, 867900000};
        lw_cflist_build_freqs(f, out);
    } else {
        lw_chmask m;
        ns_device_chmask(d, &m);
        lw_cflist_build_chmask(&m, out);
    }
}

static uint32_t new_dev_addr(lw_ns *ns) {
    /* NetID type 0..: for the types The Things Network and private networks use, the top 7 bits
     * are the NwkID = NetID's low 6/7 bits; we use type-0 addressing (7-bit NwkID, 25-bit NwkAddr) */
    uint32_t nwkid = ns->conf.net_id & 0x7F;
    for (int tries = 0; tries < 16; tries++) {
        uint32_t a = (nwkid << 25) | (ns_rand(ns) & 0x01FFFFFFu);
        if (!ns_dev_by_addr(ns, a)) return a;
    }
    return (nwkid << 25) | (ns_rand(ns) & 0x01FFFFFFu);
}

void ns_process_join(lw_ns *ns, ns_up *u, const lw_frame *f, uint64_t now) {
    ns_dev *d = ns_dev_by_eui(ns, f->join_eui, f->dev_eui);
    char de[17], je[17];
    lw_hex_format(f->dev_eui, 8, de, 1);
    lw_hex_format(f->join_eui, 8, je, 1);
    if (!d) {
        ns->st.unknown_deveui++;
        ns->st.join_rejected++;
        ns_note(ns, NS_C_UNKNOWN_EUI, now, "JoinRequest from unknown device DevEUI %s JoinEUI %s", de, je);
        return;
    }
    if (!d->otaa) {
        ns->st.join_rejected++;
        ns_note(ns, NS_C_UNKNOWN_EUI, now, "%s/%s: JoinRequest from an ABP device ignored", d->app->id, d->dev_id);
        return;
    }
    lw_keys k = {.app_key = d->app_key};
    if (lw_mic_check(u->phy, u->len, f, &k, 0) != 0) {
        ns->st.mic_failures++;
        ns->st.join_rejected++;
        ns_note(ns, NS_C_MIC, now, "%s/%s: JoinRequest MIC mismatch (wrong AppKey?)", d->app->id, d->dev_id);
        return;
    }
    int fresh = 1;
    if (ns->io.devnonce_use) {
        lw_dev_rec rec;
        ns_dev_to_rec(d, &rec);
        fresh = ns->io.devnonce_use(ns->io.ud, &rec, f->dev_nonce);
    }
    if (fresh <= 0) {
        ns->st.devnonce_replays++;
        ns->st.join_rejected++;
        ns_note(ns, NS_C_DEVNONCE, now, "%s/%s: DevNonce %u %s, JoinRequest rejected", d->app->id, d->dev_id,
                f->dev_nonce, fresh == 0 ? "already used" : "could not be checked");
        ns_event(ns, "drop", d, "DevNonce %u replayed", f->dev_nonce);
        return;
    }
    int up_dr = u->modu == LW_GW_MODU_LORA ? lw_region_dr_find(d->region, u->sf, (uint32_t)u->bw_khz * 1000, LW_DRDIR_UP)
                                           : -1;
    if (up_dr < 0) {
        ns->st.join_rejected++;
        ns_note(ns, NS_C_BAD_FRAME, now, "%s/%s: JoinRequest on a data rate not in %s", d->app->id, d->dev_id,
                d->region->name);
        return;
    }
    lw_session *s = &d->s;
    lw_session old = *s;
    memset(s, 0, sizeof *s);
    s->join_nonce = (old.join_nonce + 1) & 0xFFFFFF;
    s->dev_addr = new_dev_addr(ns);
    if (lw_derive_session_keys(d->app_key, s->join_nonce, ns->conf.net_id, f->dev_nonce, s->nwk_s_key,
                               s->app_s_key) != 0) {
        *s = old;
        return;
    }
    s->active = true;
    s->last_dev_nonce = f->dev_nonce;
    s->joined_at_ms = u->first_wall_us / 1000;
    s->last_seen_ms = s->joined_at_ms;
    s->dr = (uint8_t)up_dr;
    s->nb_trans = 1;
    s->rx1_dr_offset = 0;
    /* EU868: RX2 at SF9 (DR3) as The Things Network sets it, not the region's SF12: a data downlink
     * in RX2 then takes ~0.2 s of the gateway's 10 % band instead of ~1.5 s */
    s->rx2_dr = !strcmp(d->region->name, "EU868") ? 3 : d->region->rx2_dr;
    s->rx2_freq_hz = d->region->rx2_freq_hz;
    s->rx1_delay_s = ns->conf.rx1_delay_s;
    lw_adr_init(&s->adr);
    ns_dev_index_addr(ns, d);

    lw_frame ja;
    memset(&ja, 0, sizeof ja);
    ja.mtype = LW_MTYPE_JOIN_ACCEPT;
    ja.join_nonce = s->join_nonce;
    ja.net_id = ns->conf.net_id;
    ja.dev_addr = s->dev_addr;
    ja.dl_settings = (uint8_t)((s->rx1_dr_offset & 7) << 4 | (s->rx2_dr & 15));
    ja.rx_delay = s->rx1_delay_s;
    ja.has_cflist = true;
    build_cflist(d, ja.cflist);
    uint8_t phy[64];
    size_t len = 0;
    char err[100];
    if (lw_frame_seal(&ja, &k, 0, phy, sizeof phy, &len, err, sizeof err) != 0) {
        *s = old;
        ns_dev_index_addr(ns, d);
        ns_note(ns, NS_C_BAD_FRAME, now, "%s/%s: JoinAccept: %s", d->app->id, d->dev_id, err);
        return;
    }
    if (ns_send_join_accept(ns, d, u, up_dr, phy, len, now) != 0) {
        /* no gateway can answer now: the device keeps whatever it had and will try again */
        *s = old;
        ns_dev_index_addr(ns, d);
        ns->st.join_rejected++;
        ns_event(ns, "drop", d, "JoinRequest (DevNonce %u) not answered: no downlink possible", f->dev_nonce);
        return;
    }
    ns->st.joins++;
    if (d->x) {
        d->x->adr_req_pending = false;
        d->x->mac_out_len = 0;
    }
    ns_queue_clear(ns, d); /* TTS also drops the queue on a new session (it was encrypted for the old one) */
    ns_dev_x_trim(d);
    ns_dev_dirty(ns, d);

    lw_as_ids ids;
    ns_ids(ns, d, &ids);
    lw_as_join j;
    memset(&j, 0, sizeof j);
    char corr[48];
    ns_correlation_id(ns, "as:up:", corr, sizeof corr);
    j.correlation_id = corr;
    j.received_at_us = u->first_wall_us;
    uint8_t skid[16];
    ns_session_key_id(s, skid);
    j.session_key_id = skid;
    j.session_key_id_len = 16;
    lw_as_rx rx[NS_MAX_RX];
    ns_rx_to_as(u, rx, u->n_rx);
    j.rx = rx;
    j.n_rx = u->n_rx;
    ns_settings_to_as(u, &j.settings);
    j.net_id = ns->conf.net_id;
    buf_reset(&ns->out);
    if (lw_as_join_json(&ids, &j, &ns->out) == 0) ns_publish(ns, d, "join");
    ns_event(ns, "join", d, "DevAddr %08X DevNonce %u via %u gateway(s)", s->dev_addr, f->dev_nonce, u->n_rx);
}
