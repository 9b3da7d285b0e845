/* LoRaWAN server engine, data uplinks (network + application server): match the frame to a device
 * by DevAddr and MIC, reconstruct the 32-bit FCnt and reject replays, handle retransmissions,
 * answer MAC commands (FOpts or FPort 0), run ADR, decrypt FRMPayload, decode it with the
 * payload formatter, publish The Things Stack's uplink JSON, and ask for a class A downlink when
 * there is something to send. */
#include "lorawan/ns_internal.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "lorawan/adr.h"
#include "lorawan/mac.h"

enum { MATCH_NONE, MATCH_NEW, MATCH_RETX, MATCH_REPLAY, MATCH_RESET };

/* which FCnt does this frame carry for this device? */
static int match_device(const ns_dev *d, const uint8_t *phy, size_t len, const lw_frame *f, uint32_t *fcnt32) {
    const lw_session *s = &d->s;
    lw_keys k = {.nwk_s_key = s->nwk_s_key, .app_s_key = s->app_s_key};
    uint32_t f32 = s->fcnt_up_seen ? lw_fcnt_reconstruct(s->fcnt_up, f->fcnt16) : f->fcnt16;
    if (lw_mic_check(phy, len, f, &k, f32) == 0) {
        *fcnt32 = f32;
        if (s->fcnt_up_seen && f32 == s->fcnt_up) return MATCH_RETX;
        return MATCH_NEW;
    }
    if (s->fcnt_up_seen) {
        /* an older FCnt in the same 65536 block: a replay (or a device that restarted) */
        uint32_t old = (s->fcnt_up & 0xFFFF0000u) | f->fcnt16;
        if (old < s->fcnt_up && lw_mic_check(phy, len, f, &k, old) == 0) {
            *fcnt32 = old;
            if (!d->otaa && d->abp_relax_fcnt && f->fcnt16 == old) {
                *fcnt32 = f->fcnt16;
                return MATCH_RESET;
            }
            return MATCH_REPLAY;
        }
        if (!d->otaa && d->abp_relax_fcnt && f32 != f->fcnt16 &&
            lw_mic_check(phy, len, f, &k, f->fcnt16) == 0) {
            *fcnt32 = f->fcnt16;
            return MATCH_RESET;
        }
    }
    return MATCH_NONE;
}

static float max_snr(const ns_up *u) {
    float m = -1000;
    for (unsigned i = 0; i < u->n_rx; i++)
        if (u->rx[i].snr > m) m = u->rx[i].snr;
    return m;
}

static void mac_out_add(ns_dev *d, const lw_mac_cmd *c) {
    uint8_t b[32];
    size_t n;
    if (lw_mac_encode(c, 1, false, b, sizeof b, &n) != 0) return;
    ns_dev_x *x = ns_dev_x_get(d);
    if (!x || x->mac_out_len + n > sizeof x->mac_out) return;
    memcpy(x->mac_out + x->mac_out_len, b, n);
    x->mac_out_len += (uint8_t)n;
}

/* answer/apply the device's MAC commands; returns true if an answer must go down now */
static bool handle_mac(lw_ns *ns, ns_dev *d, const ns_up *u, const uint8_t *p, size_t n, int up_dr, uint64_t now) {
    lw_mac_cmd cmds[16];
    size_t count = 0;
    char err[120];
    int rc = lw_mac_parse(p, n, true, cmds, 16, &count, err, sizeof err);
    if (rc < 0) ns_note(ns, NS_C_MAC, now, "%s/%s: MAC commands: %s", d->app->id, d->dev_id, err);
    bool answer = false;
    for (size_t i = 0; i < count; i++) {
        ns->st.mac_commands_in++;
        lw_mac_cmd *c = &cmds[i];
        switch (c->cid) {
        case LW_MAC_LINK_CHECK: {
            lw_mac_cmd a = {.cid = LW_MAC_LINK_CHECK};
            const lw_dr_def *dr = lw_region_dr(d->region, up_dr);
            float m = max_snr(u) - lw_adr_required_snr(dr ? dr->sf : 0);
            a.u.link_check_ans.margin = m < 0 ? 0 : m > 254 ? 254 : (uint8_t)lrintf(m);
            a.u.link_check_ans.gw_cnt = u->n_rx;
            mac_out_add(d, &a);
            answer = true;
            break;
        }
        case LW_MAC_LINK_ADR: {
            uint8_t st = c->u.ans.status;
            if (!ns_adr_req_pending(d)) break; /* one answer per request block; later ones repeat it */
            d->x->adr_req_pending = false;
            if ((st & 7) == 7) {
                d->s.dr = d->x->adr_dr;
                d->s.tx_power = d->x->adr_txp;
                d->s.nb_trans = d->x->adr_nbtrans ? d->x->adr_nbtrans : 1;
                lw_adr_reset(&d->s.adr);
                ns_event(ns, "mac", d, "LinkADRAns ok: DR%u txpower %u nbtrans %u", d->s.dr, d->s.tx_power,
                         d->s.nb_trans);
            } else {
                ns_note(ns, NS_C_MAC, now, "%s/%s: LinkADRReq refused (status 0x%02x)", d->app->id, d->dev_id, st);
            }
            break;
        }
        case LW_MAC_DEV_STATUS: {
            ns_dev_x *x = ns_dev_x_get(d);
            if (!x) break;
            x->has_dev_status = true;
            x->battery = c->u.dev_status_ans.battery;
            x->margin = c->u.dev_status_ans.margin;
            break;
        }
        case LW_MAC_DEVICE_TIME: {
            lw_mac_cmd a = {.cid = LW_MAC_DEVICE_TIME};
            int64_t us = ns->io.wall_us ? ns->io.wall_us(ns->io.ud) : 0;
            /* GPS epoch 1980-01-06, 18 leap seconds since */
            int64_t gps_us = us - 315964800LL * 1000000 + 18LL * 1000000;
            if (gps_us < 0) gps_us = 0;
            a.u.device_time_ans.gps_seconds = (uint32_t)(gps_us / 1000000);
            a.u.device_time_ans.fraction = (uint8_t)((gps_us % 1000000) * 256 / 1000000);
            mac_out_add(d, &a);
            answer = true;
            break;
        }
        default:
            break; /* the other answers (RXParamSetupAns, DutyCycleAns, ...) need nothing from us */
        }
    }
    return answer;
}

static void run_adr(lw_ns *ns, ns_dev *d, const ns_up *u, uint32_t fcnt32, int up_dr, uint64_t now) {
    lw_session *s = &d->s;
    lw_adr_add_uplink(&s->adr, fcnt32, max_snr(u), s->tx_power);
    if (ns_adr_req_pending(d)) return;
    lw_adr_params p;
    lw_adr_params_default(&p, d->region);
    p.dr = (uint8_t)up_dr;
    p.tx_power_index = s->tx_power;
    p.nb_trans = s->nb_trans;
    p.installation_margin = ns->conf.adr_margin_db;
    lw_adr_result r;
    if (lw_adr_decide(&s->adr, &p, &r) != 0 || !r.changed) return;
    /* channel mask: what the device has (OTAA got our CFList; ABP only the default channels) */
    lw_chmask want;
    ns_device_chmask(d, &want);
    uint8_t cntl[8];
    uint16_t masks[8];
    size_t nb = 0;
    if (d->region->chmask_kind == LW_CHMASK_FIXED72) {
        if (lw_region_chmask_plan(d->region, &want, cntl, masks, 8, &nb) != 0 || !nb) return;
    } else {
        cntl[0] = 0;
        masks[0] = want.w[0];
        nb = 1;
    }
    if (ns_mac_out_len(d) + 5 * nb > NS_MAC_OUT_MAX) return;
    ns_dev_x *x = ns_dev_x_get(d);
    if (!x) return;
    for (size_t i = 0; i < nb; i++) {
        lw_mac_cmd c = {.cid = LW_MAC_LINK_ADR};
        c.u.link_adr_req.data_rate = r.dr;
        c.u.link_adr_req.tx_power = r.tx_power_index;
        c.u.link_adr_req.ch_mask = masks[i];
        c.u.link_adr_req.ch_mask_cntl = cntl[i];
        c.u.link_adr_req.nb_trans = r.nb_trans;
        mac_out_add(d, &c);
    }
    x->adr_req_pending = true;
    x->adr_dr = r.dr;
    x->adr_txp = r.tx_power_index;
    x->adr_nbtrans = r.nb_trans;
    ns->st.adr_requests++;
    ns_event(ns, "mac", d, "ADR: LinkADRReq DR%u txpower %u nbtrans %u (margin %.1f dB)", r.dr, r.tx_power_index,
             r.nb_trans, (double)r.snr_margin);
}

static void publish_uplink(lw_ns *ns, ns_dev *d, const ns_up *u, const lw_frame *f, uint32_t fcnt32,
                           const uint8_t *plain, size_t plain_len, int up_dr) {
    lw_as_uplink up;
    memset(&up, 0, sizeof up);
    ns_ids(ns, d, &up.ids);
    char corr[48];
    ns_correlation_id(ns, "as:up:", corr, sizeof corr);
    up.correlation_id = corr;
    up.received_at_us = u->first_wall_us;
    uint8_t skid[16];
    ns_session_key_id(&d->s, skid);
    up.session_key_id = skid;
    up.session_key_id_len = 16;
    up.confirmed = f->mtype == LW_MTYPE_CONFIRMED_UP;
    up.has_fport = f->has_fport;
    up.f_port = f->fport;
    up.f_cnt = fcnt32;
    up.frm = plain;
    up.frm_len = plain_len;
    lw_fmt_result fr;
    memset(&fr, 0, sizeof fr);
    lw_fmt_kind kind;
    const char *src;
    ns_fmt_kind(ns, d, &kind, &src);
    if (f->has_fport && f->fport > 0 && kind != LW_FMT_NONE && ns->fmt) {
        int64_t ms = u->first_wall_us / 1000;
        int rc = lw_fmt_decode_uplink(ns->fmt, kind, src, f->fport, plain, plain_len, ms, &fr);
        if (rc == 0) {
            up.decoded_json = fr.json;
            up.warnings_json = fr.warnings_json;
        } else if (rc != LW_FMT_ERR_NONE_SET) {
            ns->st.formatter_errors++;
            up.decode_error = fr.error;
            ns_note(ns, NS_C_FORMATTER, u->first_mono, "%s/%s: payload formatter: %s", d->app->id, d->dev_id,
                    fr.error);
        }
    }
    lw_as_rx rx[NS_MAX_RX];
    ns_rx_to_as(u, rx, u->n_rx);
    up.rx = rx;
    up.n_rx = u->n_rx;
    ns_settings_to_as(u, &up.settings);
    up.consumed_airtime_us = lw_region_airtime_us(d->region, up_dr, u->len, true);
    up.net_id = ns->conf.net_id;
    up.cluster_id = ns->cluster[0] ? ns->cluster : NULL;
    up.last_a_f_cnt_down = d->s.fcnt_down ? d->s.fcnt_down - 1 : 0;
    buf_reset(&ns->out);
    if (lw_as_uplink_json(&up, &ns->out) == 0) ns_publish(ns, d, "up");
    ns_event(ns, "up", d, "f_cnt=%u f_port=%u bytes=%zu gateways=%u%s", fcnt32, f->fport, plain_len, u->n_rx,
             up.decode_error ? " (formatter error)" : "");
    lw_fmt_result_clear(&fr);
}

void ns_process_uplink(lw_ns *ns, ns_up *u, uint64_t now) {
    lw_frame f;
    char err[120];
    if (lw_frame_parse(u->phy, u->len, LW_EXPECT_UP, &f, err, sizeof err) < 0) {
        ns->st.bad_frames++;
        ns_note(ns, NS_C_BAD_FRAME, now, "undecodable uplink (%u bytes) from %s: %s", u->len,
                u->n_rx ? u->rx[0].gw->rec.gw_id : "?", err);
        return;
    }
    if (f.mtype == LW_MTYPE_JOIN_REQUEST) {
        ns_process_join(ns, u, &f, now);
        return;
    }
    if (f.mtype != LW_MTYPE_UNCONFIRMED_UP && f.mtype != LW_MTYPE_CONFIRMED_UP) {
        ns->st.bad_frames++;
        return;
    }
    ns_dev *d = ns_dev_by_addr(ns, f.dev_addr);
    if (!d) {
        ns->st.unknown_devaddr++;
        ns_note(ns, NS_C_UNKNOWN_ADDR, now, "uplink from unknown DevAddr %08X dropped", f.dev_addr);
        return;
    }
    uint32_t fcnt32 = 0;
    int kind = MATCH_NONE;
    for (; d; d = ns_dev_addr_next(ns, d)) {
        kind = match_device(d, u->phy, u->len, &f, &fcnt32);
        if (kind != MATCH_NONE) break;
    }
    if (!d) {
        ns->st.mic_failures++;
        ns_note(ns, NS_C_MIC, now, "uplink from DevAddr %08X FCnt %u: MIC matches no device (wrong keys?)",
                f.dev_addr, f.fcnt16);
        return;
    }
    if (kind == MATCH_REPLAY) {
        ns->st.fcnt_replays++;
        ns_note(ns, NS_C_FCNT_REPLAY, now, "%s/%s: FCnt %u replayed (last %u), dropped", d->app->id, d->dev_id,
                fcnt32, d->s.fcnt_up);
        ns_event(ns, "drop", d, "FCnt %u replayed", fcnt32);
        return;
    }
    int up_dr = u->modu == LW_GW_MODU_LORA ? lw_region_dr_find(d->region, u->sf, (uint32_t)u->bw_khz * 1000, LW_DRDIR_UP)
                                           : lw_region_dr_find(d->region, 0, u->bitrate, LW_DRDIR_UP);
    if (up_dr < 0) {
        ns->st.bad_frames++;
        ns_note(ns, NS_C_BAD_FRAME, now, "%s/%s: uplink data rate SF%u/%u kHz not in %s", d->app->id, d->dev_id,
                u->sf, u->bw_khz, d->region->name);
        return;
    }
    unsigned m = 0, nmax = 0;
    if (lw_region_max_payload_ex(d->region, up_dr, false, false, &m, &nmax) == 0 && m && u->len - 5u > m) {
        ns->st.oversize++;
        ns_note(ns, NS_C_OVERSIZE, now, "%s/%s: %u-byte MACPayload exceeds %u for DR%d, dropped", d->app->id,
                d->dev_id, u->len - 5u, m, up_dr);
        return;
    }
    bool confirmed = f.mtype == LW_MTYPE_CONFIRMED_UP;
    if (kind == MATCH_RETX) {
        /* the same FCnt again: NbTrans repetition or a confirmed uplink that missed our ACK */
        ns->st.retransmissions++;
        if (confirmed) ns_downlink_class_a(ns, d, u, up_dr, true, true, now);
        ns_dev_x_trim(d);
        return;
    }
    lw_session *s = &d->s;
    if (kind == MATCH_RESET) ns_event(ns, "mac", d, "ABP FCnt reset to %u accepted (relaxed)", fcnt32);
    s->fcnt_up = fcnt32;
    s->fcnt_up_seen = true;
    s->last_seen_ms = u->first_wall_us / 1000;
    if (s->dr != up_dr) s->dr = (uint8_t)up_dr;
    ns->st.uplinks++;
    if (confirmed) ns->st.uplinks_confirmed++;

    /* the previous confirmed downlink is acknowledged by this uplink, or not */
    if (ns_awaiting_ack(d)) ns_confirmed_result(ns, d, f.fctrl.ack, now);

    uint8_t plain[LW_PHY_MAX];
    size_t plain_len = 0;
    bool mac_answer = false;
    /* a LinkADRReq that went out and got no answer in this uplink is forgotten (ADR decides again) */
    bool adr_unanswered = ns_adr_req_pending(d) && ns_mac_out_len(d) == 0;
    if (f.fopts_len) mac_answer |= handle_mac(ns, d, u, f.fopts, f.fopts_len, up_dr, now);
    if (f.has_fport && f.frm_len) {
        lw_keys k = {.nwk_s_key = s->nwk_s_key, .app_s_key = s->app_s_key};
        if (lw_frm_decrypt(&f, &k, fcnt32, plain) == 0) plain_len = f.frm_len;
    }
    if (f.has_fport && f.fport == 0) {
        mac_answer |= handle_mac(ns, d, u, plain, plain_len, up_dr, now);
        plain_len = 0;
    }
    if (adr_unanswered && ns_adr_req_pending(d)) d->x->adr_req_pending = false;
    if (f.fctrl.adr && d->adr) run_adr(ns, d, u, fcnt32, up_dr, now);
    if (f.has_fport && f.fport > 0) publish_uplink(ns, d, u, &f, fcnt32, plain, plain_len, up_dr);
    bool need = confirmed || mac_answer || ns_mac_out_len(d) || f.fctrl.adr_ack_req || ns_q_head(d);
    if (need) ns_downlink_class_a(ns, d, u, up_dr, confirmed, f.fctrl.adr_ack_req, now);
    ns_dev_x_trim(d);
    ns_dev_dirty(ns, d);
}
