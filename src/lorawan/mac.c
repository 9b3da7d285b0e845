/* LoRaWAN 1.0.4 MAC command codec: table of payload lengths per CID and direction, a bounds-checked
 * parser for FOpts / FPort-0 command sequences and its exact inverse. No allocation, no stdio. */
#include "lorawan/mac.h"

#include <limits.h>
#include <string.h>

/* payload length after the CID of a standard command in the given direction; -1 = no such command */
static int std_len(uint8_t cid, bool uplink) {
    switch (cid) {
    case LW_MAC_LINK_CHECK:
        return uplink ? 0 : 2;
    case LW_MAC_LINK_ADR:
        return uplink ? 1 : 4;
    case LW_MAC_DUTY_CYCLE:
        return uplink ? 0 : 1;
    case LW_MAC_RX_PARAM_SETUP:
        return uplink ? 1 : 4;
    case LW_MAC_DEV_STATUS:
        return uplink ? 2 : 0;
    case LW_MAC_NEW_CHANNEL:
        return uplink ? 1 : 5;
    case LW_MAC_RX_TIMING_SETUP:
        return uplink ? 0 : 1;
    case LW_MAC_TX_PARAM_SETUP:
        return uplink ? 0 : 1;
    case LW_MAC_DL_CHANNEL:
        return uplink ? 1 : 4;
    case LW_MAC_DEVICE_TIME:
        return uplink ? 0 : 5;
    default:
        return -1;
    }
}

int lw_mac_payload_len(uint8_t cid, bool uplink) {
    if (cid >= LW_MAC_PROPRIETARY_MIN) return LW_MAC_LEN_REST;
    int l = std_len(cid, uplink);
    return l < 0 ? LW_ERR_UNSUPPORTED : l;
}

const char *lw_mac_name(uint8_t cid, bool uplink) {
    if (cid >= LW_MAC_PROPRIETARY_MIN) return "Proprietary";
    switch (cid) {
    case LW_MAC_LINK_CHECK:
        return uplink ? "LinkCheckReq" : "LinkCheckAns";
    case LW_MAC_LINK_ADR:
        return uplink ? "LinkADRAns" : "LinkADRReq";
    case LW_MAC_DUTY_CYCLE:
        return uplink ? "DutyCycleAns" : "DutyCycleReq";
    case LW_MAC_RX_PARAM_SETUP:
        return uplink ? "RXParamSetupAns" : "RXParamSetupReq";
    case LW_MAC_DEV_STATUS:
        return uplink ? "DevStatusAns" : "DevStatusReq";
    case LW_MAC_NEW_CHANNEL:
        return uplink ? "NewChannelAns" : "NewChannelReq";
    case LW_MAC_RX_TIMING_SETUP:
        return uplink ? "RXTimingSetupAns" : "RXTimingSetupReq";
    case LW_MAC_TX_PARAM_SETUP:
        return uplink ? "TxParamSetupAns" : "TxParamSetupReq";
    case LW_MAC_DL_CHANNEL:
        return uplink ? "DlChannelAns" : "DlChannelReq";
    case LW_MAC_DEVICE_TIME:
        return uplink ? "DeviceTimeReq" : "DeviceTimeAns";
    default:
        return "Unknown";
    }
}

/* ---- error messages without stdio (the codec also runs on a microcontroller) ---- */

typedef struct {
    char *buf;
    size_t cap, n;
} msg_t;

static void m_str(msg_t *m, const char *s) {
    while (*s && m->cap && m->n + 1 < m->cap) m->buf[m->n++] = *s++;
    if (m->cap) m->buf[m->n] = 0;
}

static void m_hex8(msg_t *m, uint8_t v) {
    static const char hx[] = "0123456789abcdef";
    char s[5] = {'0', 'x', hx[v >> 4], hx[v & 15], 0};
    m_str(m, s);
}

static void m_dec(msg_t *m, size_t v) {
    char s[24];
    size_t i = sizeof s - 1;
    s[i] = 0;
    do {
        s[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v && i > 0);
    m_str(m, s + i);
}

/* "<what> <name> (CID 0x03) at offset 4" */
static void cmd_msg(char *err, size_t errlen, const char *what, uint8_t cid, bool uplink, size_t off) {
    if (!err || !errlen) return;
    msg_t m = {err, errlen, 0};
    err[0] = 0;
    m_str(&m, what);
    m_str(&m, " ");
    m_str(&m, lw_mac_name(cid, uplink));
    m_str(&m, " (CID ");
    m_hex8(&m, cid);
    m_str(&m, ") at offset ");
    m_dec(&m, off);
}

static void plain_msg(char *err, size_t errlen, const char *what) {
    if (!err || !errlen) return;
    msg_t m = {err, errlen, 0};
    err[0] = 0;
    m_str(&m, what);
}

/* ---- field helpers ---- */

static uint32_t rd24(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16; }

static void wr24(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
}

static int freq_ok(uint32_t hz) { return hz % 100u == 0 && hz / 100u <= 0xFFFFFFu; }

/* decode one standard command's payload q (length std_len) into c */
static void decode_one(const uint8_t *q, bool uplink, lw_mac_cmd *c) {
    switch (c->cid) {
    case LW_MAC_LINK_CHECK:
        if (!uplink) {
            c->u.link_check_ans.margin = q[0];
            c->u.link_check_ans.gw_cnt = q[1];
        }
        break;
    case LW_MAC_LINK_ADR:
        if (uplink) {
            c->u.ans.status = q[0];
        } else {
            c->u.link_adr_req.data_rate = q[0] >> 4;
            c->u.link_adr_req.tx_power = q[0] & 0x0F;
            c->u.link_adr_req.ch_mask = (uint16_t)(q[1] | q[2] << 8);
            c->u.link_adr_req.rfu = q[3] >> 7;
            c->u.link_adr_req.ch_mask_cntl = (q[3] >> 4) & 0x07;
            c->u.link_adr_req.nb_trans = q[3] & 0x0F;
        }
        break;
    case LW_MAC_DUTY_CYCLE:
        if (!uplink) {
            c->u.duty_cycle_req.max_dcycle = q[0] & 0x0F;
            c->u.duty_cycle_req.rfu = q[0] >> 4;
        }
        break;
    case LW_MAC_RX_PARAM_SETUP:
        if (uplink) {
            c->u.ans.status = q[0];
        } else {
            c->u.rx_param_setup_req.rfu = q[0] >> 7;
            c->u.rx_param_setup_req.rx1_dr_offset = (q[0] >> 4) & 0x07;
            c->u.rx_param_setup_req.rx2_data_rate = q[0] & 0x0F;
            c->u.rx_param_setup_req.frequency = rd24(q + 1) * 100u;
        }
        break;
    case LW_MAC_DEV_STATUS:
        if (uplink) {
            c->u.dev_status_ans.battery = q[0];
            uint8_t m6 = q[1] & 0x3F;
            c->u.dev_status_ans.margin = (int8_t)(m6 >= 32 ? (int)m6 - 64 : (int)m6);
            c->u.dev_status_ans.rfu = q[1] >> 6;
        }
        break;
    case LW_MAC_NEW_CHANNEL:
        if (uplink) {
            c->u.ans.status = q[0];
        } else {
            c->u.new_channel_req.ch_index = q[0];
            c->u.new_channel_req.frequency = rd24(q + 1) * 100u;
            c->u.new_channel_req.max_dr = q[4] >> 4;
            c->u.new_channel_req.min_dr = q[4] & 0x0F;
        }
        break;
    case LW_MAC_RX_TIMING_SETUP:
        if (!uplink) {
            c->u.rx_timing_setup_req.delay = q[0] & 0x0F;
            c->u.rx_timing_setup_req.rfu = q[0] >> 4;
        }
        break;
    case LW_MAC_TX_PARAM_SETUP:
        if (!uplink) {
            c->u.tx_param_setup_req.max_eirp = q[0] & 0x0F;
            c->u.tx_param_setup_req.uplink_dwell_time = (q[0] >> 4) & 1;
            c->u.tx_param_setup_req.downlink_dwell_time = (q[0] >> 5) & 1;
            c->u.tx_param_setup_req.rfu = q[0] >> 6;
        }
        break;
    case LW_MAC_DL_CHANNEL:
        if (uplink) {
            c->u.ans.status = q[0];
        } else {
            c->u.dl_channel_req.ch_index = q[0];
            c->u.dl_channel_req.frequency = rd24(q + 1) * 100u;
        }
        break;
    case LW_MAC_DEVICE_TIME:
        if (!uplink) {
            c->u.device_time_ans.gps_seconds =
                (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
            c->u.device_time_ans.fraction = q[4];
        }
        break;
    default:
        break;
    }
}

int lw_mac_parse(const uint8_t *p, size_t n, bool uplink, lw_mac_cmd *out, size_t max, size_t *count, char *err,
                 size_t errlen) {
    if (count) *count = 0;
    if (err && errlen) err[0] = 0;
    if ((!p && n) || !count || (!out && max)) {
        plain_msg(err, errlen, "lw_mac_parse: bad argument");
        return LW_ERR_ARG;
    }
    size_t off = 0, k = 0;
    while (off < n) {
        uint8_t cid = p[off];
        int l;
        if (cid >= LW_MAC_PROPRIETARY_MIN)
            l = (int)(n - off - 1 > (size_t)INT_MAX ? INT_MAX : n - off - 1);
        else
            l = std_len(cid, uplink);
        if (l < 0) {
            cmd_msg(err, errlen, "unknown", cid, uplink, off);
            return LW_ERR_UNSUPPORTED;
        }
        if (n - off - 1 < (size_t)l) {
            cmd_msg(err, errlen, "truncated", cid, uplink, off);
            return LW_ERR_TRUNCATED;
        }
        if (k >= max) {
            cmd_msg(err, errlen, "no room for", cid, uplink, off);
            return LW_ERR_BUFFER;
        }
        lw_mac_cmd *c = &out[k];
        memset(c, 0, sizeof *c);
        c->cid = cid;
        if (cid >= LW_MAC_PROPRIETARY_MIN) {
            c->u.proprietary.data = p + off + 1;
            c->u.proprietary.len = n - off - 1;
            off = n;
        } else {
            decode_one(p + off + 1, uplink, c);
            off += 1 + (size_t)l;
        }
        *count = ++k;
    }
    return 0;
}

/* encoded length of one command, or a negative LW_ERR_* */
static long one_size(const lw_mac_cmd *c, bool uplink) {
    if (c->cid >= LW_MAC_PROPRIETARY_MIN) {
        if (c->u.proprietary.len > (size_t)INT_MAX - 1) return LW_ERR_TOO_LONG;
        return 1 + (long)c->u.proprietary.len;
    }
    int l = std_len(c->cid, uplink);
    return l < 0 ? LW_ERR_UNSUPPORTED : 1 + l;
}

int lw_mac_size(const lw_mac_cmd *cmds, size_t n, bool uplink) {
    if (!cmds && n) return LW_ERR_ARG;
    long total = 0;
    for (size_t i = 0; i < n; i++) {
        long s = one_size(&cmds[i], uplink);
        if (s < 0) return (int)s;
        if (s > (long)INT_MAX - total) return LW_ERR_TOO_LONG;
        total += s;
    }
    return (int)total;
}

/* check that c's fields fit and write its payload to q */
static int encode_one(const lw_mac_cmd *c, bool uplink, uint8_t *q) {
    switch (c->cid) {
    case LW_MAC_LINK_CHECK:
        if (!uplink) {
            q[0] = c->u.link_check_ans.margin;
            q[1] = c->u.link_check_ans.gw_cnt;
        }
        return 0;
    case LW_MAC_LINK_ADR:
        if (uplink) {
            q[0] = c->u.ans.status;
            return 0;
        } else {
            const struct lw_mac_link_adr_req *r = &c->u.link_adr_req;
            if (r->data_rate > 15 || r->tx_power > 15 || r->ch_mask_cntl > 7 || r->nb_trans > 15 || r->rfu > 1)
                return LW_ERR_ARG;
            q[0] = (uint8_t)(r->data_rate << 4 | r->tx_power);
            q[1] = (uint8_t)r->ch_mask;
            q[2] = (uint8_t)(r->ch_mask >> 8);
            q[3] = (uint8_t)(r->rfu << 7 | r->ch_mask_cntl << 4 | r->nb_trans);
            return 0;
        }
    case LW_MAC_DUTY_CYCLE:
        if (!uplink) {
            if (c->u.duty_cycle_req.max_dcycle > 15 || c->u.duty_cycle_req.rfu > 15) return LW_ERR_ARG;
            q[0] = (uint8_t)(c->u.duty_cycle_req.rfu << 4 | c->u.duty_cycle_req.max_dcycle);
        }
        return 0;
    case LW_MAC_RX_PARAM_SETUP:
        if (uplink) {
            q[0] = c->u.ans.status;
        } else {
            const struct lw_mac_rx_param_setup_req *r = &c->u.rx_param_setup_req;
            if (r->rfu > 1 || r->rx1_dr_offset > 7 || r->rx2_data_rate > 15 || !freq_ok(r->frequency))
                return LW_ERR_ARG;
            q[0] = (uint8_t)(r->rfu << 7 | r->rx1_dr_offset << 4 | r->rx2_data_rate);
            wr24(q + 1, r->frequency / 100u);
        }
        return 0;
    case LW_MAC_DEV_STATUS:
        if (uplink) {
            int8_t m = c->u.dev_status_ans.margin;
            if (m < -32 || m > 31 || c->u.dev_status_ans.rfu > 3) return LW_ERR_ARG;
            q[0] = c->u.dev_status_ans.battery;
            q[1] = (uint8_t)(c->u.dev_status_ans.rfu << 6 | ((uint8_t)m & 0x3F));
        }
        return 0;
    case LW_MAC_NEW_CHANNEL:
        if (uplink) {
            q[0] = c->u.ans.status;
        } else {
            const struct lw_mac_new_channel_req *r = &c->u.new_channel_req;
            if (r->min_dr > 15 || r->max_dr > 15 || !freq_ok(r->frequency)) return LW_ERR_ARG;
            q[0] = r->ch_index;
            wr24(q + 1, r->frequency / 100u);
            q[4] = (uint8_t)(r->max_dr << 4 | r->min_dr);
        }
        return 0;
    case LW_MAC_RX_TIMING_SETUP:
        if (!uplink) {
            if (c->u.rx_timing_setup_req.delay > 15 || c->u.rx_timing_setup_req.rfu > 15) return LW_ERR_ARG;
            q[0] = (uint8_t)(c->u.rx_timing_setup_req.rfu << 4 | c->u.rx_timing_setup_req.delay);
        }
        return 0;
    case LW_MAC_TX_PARAM_SETUP:
        if (!uplink) {
            const struct lw_mac_tx_param_setup_req *r = &c->u.tx_param_setup_req;
            if (r->max_eirp > 15 || r->rfu > 3) return LW_ERR_ARG;
            q[0] = (uint8_t)(r->rfu << 6 | (r->downlink_dwell_time ? 0x20 : 0) | (r->uplink_dwell_time ? 0x10 : 0) |
                             r->max_eirp);
        }
        return 0;
    case LW_MAC_DL_CHANNEL:
        if (uplink) {
            q[0] = c->u.ans.status;
        } else {
            if (!freq_ok(c->u.dl_channel_req.frequency)) return LW_ERR_ARG;
            q[0] = c->u.dl_channel_req.ch_index;
            wr24(q + 1, c->u.dl_channel_req.frequency / 100u);
        }
        return 0;
    case LW_MAC_DEVICE_TIME:
        if (!uplink) {
            uint32_t s = c->u.device_time_ans.gps_seconds;
            q[0] = (uint8_t)s;
            q[1] = (uint8_t)(s >> 8);
            q[2] = (uint8_t)(s >> 16);
            q[3] = (uint8_t)(s >> 24);
            q[4] = c->u.device_time_ans.fraction;
        }
        return 0;
    default:
        return LW_ERR_UNSUPPORTED;
    }
}

int lw_mac_encode(const lw_mac_cmd *cmds, size_t n, bool uplink, uint8_t *out, size_t cap, size_t *len) {
    if (len) *len = 0;
    if ((!cmds && n) || !len || (!out && cap)) return LW_ERR_ARG;
    int total = lw_mac_size(cmds, n, uplink);
    if (total < 0) return total;
    if ((size_t)total > cap) return LW_ERR_BUFFER;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const lw_mac_cmd *c = &cmds[i];
        out[off] = c->cid;
        if (c->cid >= LW_MAC_PROPRIETARY_MIN) {
            if (i + 1 != n) return LW_ERR_ARG; /* it would swallow the commands after it */
            if (c->u.proprietary.len) {
                if (!c->u.proprietary.data) return LW_ERR_ARG;
                memcpy(out + off + 1, c->u.proprietary.data, c->u.proprietary.len);
            }
            off += 1 + c->u.proprietary.len;
            continue;
        }
        int rc = encode_one(c, uplink, out + off + 1);
        if (rc < 0) return rc;
        off += 1 + (size_t)std_len(c->cid, uplink);
    }
    *len = off;
    return 0;
}
