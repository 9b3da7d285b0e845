/* LoRaWAN 1.0.x PHYPayload codec: bounds-checked parsing of every message type, the exact inverse
 * builder, sealing (encryption + MIC) from plaintext, MIC checks and FCnt reconstruction. */
#include "lorawan/frame.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(int code, char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static uint32_t get_le(const uint8_t *p, int n) {
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static void put_le(uint8_t *p, uint32_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void reverse_copy(uint8_t *dst, const uint8_t *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = src[n - 1 - i];
}

static int ct_equal(const uint8_t *a, const uint8_t *b, size_t n) {
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++) d |= (uint8_t)(a[i] ^ b[i]);
    return d == 0;
}

int lw_mtype_is_uplink(lw_mtype m) {
    return m == LW_MTYPE_JOIN_REQUEST || m == LW_MTYPE_UNCONFIRMED_UP || m == LW_MTYPE_CONFIRMED_UP ||
           m == LW_MTYPE_REJOIN;
}

static int is_data(lw_mtype m) { return m >= LW_MTYPE_UNCONFIRMED_UP && m <= LW_MTYPE_CONFIRMED_DOWN; }

static uint8_t fctrl_byte(const lw_frame *f) {
    int up = lw_mtype_is_uplink(f->mtype);
    uint8_t b = (uint8_t)(f->fopts_len & 0x0f);
    if (f->fctrl.adr) b |= 0x80;
    if (f->fctrl.adr_ack_req) b |= 0x40;
    if (f->fctrl.ack) b |= 0x20;
    if (up ? f->fctrl.class_b : f->fctrl.fpending) b |= 0x10;
    return b;
}

/* the plaintext JoinAccept body without MIC: JoinNonce NetID DevAddr DLSettings RxDelay [CFList] */
static size_t ja_body(const lw_frame *f, uint8_t *b) {
    put_le(b, f->join_nonce, 3);
    put_le(b + 3, f->net_id, 3);
    put_le(b + 6, f->dev_addr, 4);
    b[10] = f->dl_settings;
    b[11] = f->rx_delay;
    if (!f->has_cflist) return 12;
    memcpy(b + 12, f->cflist, LW_CFLIST_LEN);
    return 28;
}

int lw_frame_parse(const uint8_t *phy, size_t len, int expect, lw_frame *f, char *err, size_t errlen) {
    if (!f || (!phy && len)) return fail(LW_ERR_ARG, err, errlen, "null argument");
    memset(f, 0, sizeof *f);
    if (len < 1) return fail(LW_ERR_TRUNCATED, err, errlen, "empty PHYPayload");
    if (len > LW_PHY_MAX)
        return fail(LW_ERR_TOO_LONG, err, errlen, "PHYPayload of %zu bytes (max %d)", len, LW_PHY_MAX);
    uint8_t mhdr = phy[0];
    f->mtype = (lw_mtype)(mhdr >> 5);
    f->mhdr_rfu = (uint8_t)((mhdr >> 2) & 0x07);
    if (f->mtype == LW_MTYPE_PROPRIETARY)
        return fail(LW_ERR_PROPRIETARY, err, errlen, "proprietary frame (MType 7) not handled");
    if ((mhdr & 0x03) != 0) return fail(LW_ERR_UNSUPPORTED, err, errlen, "unsupported LoRaWAN major %u", mhdr & 3u);
    if (f->mtype == LW_MTYPE_REJOIN)
        return fail(LW_ERR_UNSUPPORTED, err, errlen, "RejoinRequest (LoRaWAN 1.1) not supported");
    int up = lw_mtype_is_uplink(f->mtype);
    if ((expect == LW_EXPECT_UP && !up) || (expect == LW_EXPECT_DOWN && up))
        return fail(LW_ERR_DIRECTION, err, errlen, "%s frame where an %s was expected", up ? "uplink" : "downlink",
                    up ? "downlink" : "uplink");

    if (f->mtype == LW_MTYPE_JOIN_REQUEST) {
        if (len < LW_JOIN_REQUEST_LEN)
            return fail(LW_ERR_TRUNCATED, err, errlen, "JoinRequest of %zu bytes (need 23)", len);
        if (len > LW_JOIN_REQUEST_LEN)
            return fail(LW_ERR_TOO_LONG, err, errlen, "JoinRequest of %zu bytes (need 23)", len);
        reverse_copy(f->join_eui, phy + 1, 8);
        reverse_copy(f->dev_eui, phy + 9, 8);
        f->dev_nonce = (uint16_t)get_le(phy + 17, 2);
        memcpy(f->mic, phy + 19, LW_MIC_LEN);
        return LW_OK;
    }
    if (f->mtype == LW_MTYPE_JOIN_ACCEPT) {
        if (len != 17 && len != 33)
            return fail(len < 17 ? LW_ERR_TRUNCATED : LW_ERR_TOO_LONG, err, errlen,
                        "JoinAccept of %zu bytes (need 17 or 33)", len);
        f->frm_len = len - 1;
        memcpy(f->frm, phy + 1, f->frm_len);
        f->has_cflist = len == 33;
        return LW_OK;
    }
    /* data frames */
    if (len < LW_DATA_MIN)
        return fail(LW_ERR_TRUNCATED, err, errlen, "data frame of %zu bytes (min %d)", len, LW_DATA_MIN);
    f->dev_addr = get_le(phy + 1, 4);
    uint8_t fc = phy[5];
    f->fctrl.adr = (fc & 0x80) != 0;
    f->fctrl.adr_ack_req = (fc & 0x40) != 0;
    f->fctrl.ack = (fc & 0x20) != 0;
    if (up)
        f->fctrl.class_b = (fc & 0x10) != 0;
    else
        f->fctrl.fpending = (fc & 0x10) != 0;
    f->fopts_len = fc & 0x0f;
    f->fcnt16 = (uint16_t)get_le(phy + 6, 2);
    if ((size_t)LW_DATA_MIN + f->fopts_len > len)
        return fail(LW_ERR_FOPTS, err, errlen, "FOptsLen %u beyond a frame of %zu bytes", f->fopts_len, len);
    memcpy(f->fopts, phy + 8, f->fopts_len);
    size_t pos = 8u + f->fopts_len, rest = len - LW_DATA_MIN - f->fopts_len;
    if (rest > 0) {
        f->has_fport = true;
        f->fport = phy[pos];
        f->frm_len = rest - 1;
        memcpy(f->frm, phy + pos + 1, f->frm_len);
        if (f->fport == 0 && f->fopts_len > 0)
            return fail(LW_ERR_FOPTS, err, errlen, "FOpts (%u bytes) together with FPort 0", f->fopts_len);
    }
    memcpy(f->mic, phy + len - LW_MIC_LEN, LW_MIC_LEN);
    return LW_OK;
}

int lw_frame_build(const lw_frame *f, uint8_t *out, size_t cap, size_t *out_len, char *err, size_t errlen) {
    if (!f || !out || !out_len) return fail(LW_ERR_ARG, err, errlen, "null argument");
    *out_len = 0;
    if ((unsigned)f->mtype > 7u) return fail(LW_ERR_ARG, err, errlen, "bad MType");
    if (f->mtype == LW_MTYPE_PROPRIETARY)
        return fail(LW_ERR_PROPRIETARY, err, errlen, "proprietary frames are not built");
    if (f->mtype == LW_MTYPE_REJOIN) return fail(LW_ERR_UNSUPPORTED, err, errlen, "RejoinRequest not supported");
    uint8_t buf[LW_PHY_MAX];
    size_t n = 0;
    buf[n++] = (uint8_t)(((unsigned)f->mtype << 5) | ((f->mhdr_rfu & 7u) << 2));
    if (f->mtype == LW_MTYPE_JOIN_REQUEST) {
        reverse_copy(buf + n, f->join_eui, 8);
        reverse_copy(buf + n + 8, f->dev_eui, 8);
        put_le(buf + n + 16, f->dev_nonce, 2);
        memcpy(buf + n + 18, f->mic, LW_MIC_LEN);
        n += 22;
    } else if (f->mtype == LW_MTYPE_JOIN_ACCEPT) {
        if (f->frm_len != 16 && f->frm_len != 32)
            return fail(LW_ERR_ARG, err, errlen, "JoinAccept body of %zu bytes (need 16 or 32)", f->frm_len);
        memcpy(buf + n, f->frm, f->frm_len);
        n += f->frm_len;
    } else {
        if (f->fopts_len > LW_FOPTS_MAX) return fail(LW_ERR_FOPTS, err, errlen, "FOptsLen %u > 15", f->fopts_len);
        if (!f->has_fport && f->frm_len) return fail(LW_ERR_ARG, err, errlen, "FRMPayload without FPort");
        if (f->has_fport && f->fport == 0 && f->fopts_len)
            return fail(LW_ERR_FOPTS, err, errlen, "FOpts together with FPort 0");
        size_t need = LW_DATA_MIN + f->fopts_len + (f->has_fport ? 1u + f->frm_len : 0u);
        if (f->frm_len > LW_PHY_MAX || need > LW_PHY_MAX)
            return fail(LW_ERR_TOO_LONG, err, errlen, "data frame of %zu bytes (max %d)", need, LW_PHY_MAX);
        put_le(buf + n, f->dev_addr, 4);
        buf[n + 4] = fctrl_byte(f);
        put_le(buf + n + 5, f->fcnt16, 2);
        n += 7;
        memcpy(buf + n, f->fopts, f->fopts_len);
        n += f->fopts_len;
        if (f->has_fport) {
            buf[n++] = f->fport;
            memcpy(buf + n, f->frm, f->frm_len);
            n += f->frm_len;
        }
        memcpy(buf + n, f->mic, LW_MIC_LEN);
        n += LW_MIC_LEN;
    }
    if (n > cap) return fail(LW_ERR_BUFFER, err, errlen, "need %zu bytes, have %zu", n, cap);
    memcpy(out, buf, n);
    *out_len = n;
    return LW_OK;
}

int lw_frame_seal(lw_frame *f, const lw_keys *keys, uint32_t fcnt32, uint8_t *out, size_t cap, size_t *out_len,
                  char *err, size_t errlen) {
    if (!f || !keys || !out || !out_len) return fail(LW_ERR_ARG, err, errlen, "null argument");
    *out_len = 0;
    int rc;
    if (f->mtype == LW_MTYPE_JOIN_REQUEST) {
        if (!keys->app_key) return fail(LW_ERR_KEY, err, errlen, "JoinRequest needs the AppKey");
        size_t n;
        memset(f->mic, 0, LW_MIC_LEN);
        if ((rc = lw_frame_build(f, out, cap, &n, err, errlen))) return rc;
        if ((rc = lw_join_mic(keys->app_key, out, n - LW_MIC_LEN, f->mic)))
            return fail(rc, err, errlen, "JoinRequest MIC: %s", lw_strerror(rc));
        memcpy(out + n - LW_MIC_LEN, f->mic, LW_MIC_LEN);
        *out_len = n;
        return LW_OK;
    }
    if (f->mtype == LW_MTYPE_JOIN_ACCEPT) {
        if (!keys->app_key) return fail(LW_ERR_KEY, err, errlen, "JoinAccept needs the AppKey");
        uint8_t plain[1 + 32];
        plain[0] = (uint8_t)(((unsigned)f->mtype << 5) | ((f->mhdr_rfu & 7u) << 2));
        size_t bl = ja_body(f, plain + 1);
        if ((rc = lw_join_mic(keys->app_key, plain, 1 + bl, f->mic)))
            return fail(rc, err, errlen, "JoinAccept MIC: %s", lw_strerror(rc));
        memcpy(plain + 1 + bl, f->mic, LW_MIC_LEN);
        f->frm_len = bl + LW_MIC_LEN;
        if ((rc = lw_join_accept_encrypt(keys->app_key, plain + 1, f->frm_len, f->frm)))
            return fail(rc, err, errlen, "JoinAccept encryption: %s", lw_strerror(rc));
        return lw_frame_build(f, out, cap, out_len, err, errlen);
    }
    if (!is_data(f->mtype))
        return fail(f->mtype == LW_MTYPE_PROPRIETARY ? LW_ERR_PROPRIETARY : LW_ERR_UNSUPPORTED, err, errlen,
                    "MType %u cannot be sealed", (unsigned)f->mtype);
    if (!keys->nwk_s_key) return fail(LW_ERR_KEY, err, errlen, "data frame needs the NwkSKey");
    int dir = lw_mtype_is_uplink(f->mtype) ? LW_DIR_UP : LW_DIR_DOWN;
    f->fcnt16 = (uint16_t)fcnt32;
    if (f->has_fport && f->frm_len) {
        const uint8_t *k = f->fport == 0 ? keys->nwk_s_key : keys->app_s_key;
        if (!k) return fail(LW_ERR_KEY, err, errlen, "FPort %u needs the AppSKey", f->fport);
        if (f->frm_len > LW_PHY_MAX) return fail(LW_ERR_TOO_LONG, err, errlen, "FRMPayload of %zu bytes", f->frm_len);
        if ((rc = lw_frm_crypt(k, dir, f->dev_addr, fcnt32, f->frm, f->frm_len, f->frm)))
            return fail(rc, err, errlen, "FRMPayload encryption: %s", lw_strerror(rc));
    }
    size_t n;
    memset(f->mic, 0, LW_MIC_LEN);
    if ((rc = lw_frame_build(f, out, cap, &n, err, errlen))) return rc;
    if ((rc = lw_data_mic(keys->nwk_s_key, dir, f->dev_addr, fcnt32, out, n - LW_MIC_LEN, f->mic)))
        return fail(rc, err, errlen, "data MIC: %s", lw_strerror(rc));
    memcpy(out + n - LW_MIC_LEN, f->mic, LW_MIC_LEN);
    *out_len = n;
    return LW_OK;
}

int lw_mic_check(const uint8_t *phy, size_t len, const lw_frame *f, const lw_keys *keys, uint32_t fcnt32) {
    if (!phy || !f || !keys || len < LW_MIC_LEN + 1) return LW_ERR_ARG;
    uint8_t mic[LW_MIC_LEN];
    int rc;
    if (f->mtype == LW_MTYPE_JOIN_REQUEST) {
        if (!keys->app_key) return LW_ERR_KEY;
        rc = lw_join_mic(keys->app_key, phy, len - LW_MIC_LEN, mic);
    } else if (is_data(f->mtype)) {
        if (!keys->nwk_s_key) return LW_ERR_KEY;
        if ((uint16_t)fcnt32 != f->fcnt16) return LW_ERR_MIC;
        rc = lw_data_mic(keys->nwk_s_key, lw_mtype_is_uplink(f->mtype) ? LW_DIR_UP : LW_DIR_DOWN, f->dev_addr, fcnt32,
                         phy, len - LW_MIC_LEN, mic);
    } else {
        return LW_ERR_ARG; /* JoinAccept: lw_join_accept_open checks its MIC */
    }
    if (rc) return rc;
    return ct_equal(mic, phy + len - LW_MIC_LEN, LW_MIC_LEN) ? LW_OK : LW_ERR_MIC;
}

int lw_frm_decrypt(const lw_frame *f, const lw_keys *keys, uint32_t fcnt32, uint8_t *out) {
    if (!f || !keys || (!out && f->frm_len) || !is_data(f->mtype)) return LW_ERR_ARG;
    if (!f->has_fport || !f->frm_len) return LW_OK;
    const uint8_t *k = f->fport == 0 ? keys->nwk_s_key : keys->app_s_key;
    if (!k) return LW_ERR_KEY;
    return lw_frm_crypt(k, lw_mtype_is_uplink(f->mtype) ? LW_DIR_UP : LW_DIR_DOWN, f->dev_addr, fcnt32, f->frm,
                        f->frm_len, out);
}

int lw_join_accept_open(const uint8_t app_key[LW_KEY_LEN], lw_frame *f, char *err, size_t errlen) {
    if (!app_key || !f) return fail(LW_ERR_ARG, err, errlen, "null argument");
    if (f->mtype != LW_MTYPE_JOIN_ACCEPT || (f->frm_len != 16 && f->frm_len != 32))
        return fail(LW_ERR_ARG, err, errlen, "not a parsed JoinAccept");
    uint8_t plain[1 + 32];
    plain[0] = (uint8_t)(((unsigned)f->mtype << 5) | ((f->mhdr_rfu & 7u) << 2));
    int rc = lw_join_accept_decrypt(app_key, f->frm, f->frm_len, plain + 1);
    if (rc) return fail(rc, err, errlen, "JoinAccept decryption: %s", lw_strerror(rc));
    const uint8_t *b = plain + 1;
    f->join_nonce = get_le(b, 3);
    f->net_id = get_le(b + 3, 3);
    f->dev_addr = get_le(b + 6, 4);
    f->dl_settings = b[10];
    f->rx_delay = b[11];
    f->has_cflist = f->frm_len == 32;
    if (f->has_cflist) memcpy(f->cflist, b + 12, LW_CFLIST_LEN);
    memcpy(f->mic, b + f->frm_len - LW_MIC_LEN, LW_MIC_LEN);
    memcpy(f->frm, b, f->frm_len);
    uint8_t mic[LW_MIC_LEN];
    rc = lw_join_mic(app_key, plain, 1 + f->frm_len - LW_MIC_LEN, mic);
    if (rc) return fail(rc, err, errlen, "JoinAccept MIC: %s", lw_strerror(rc));
    if (!ct_equal(mic, f->mic, LW_MIC_LEN)) return fail(LW_ERR_MIC, err, errlen, "JoinAccept MIC mismatch");
    return LW_OK;
}

uint32_t lw_fcnt_reconstruct(uint32_t last, uint16_t fcnt16) {
    uint32_t c = (last & 0xFFFF0000u) | fcnt16;
    if (c < last) c += 0x10000u; /* the 16 bits on air rolled over; wraps modulo 2^32 */
    return c;
}
