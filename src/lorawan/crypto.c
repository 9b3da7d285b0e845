/* LoRaWAN 1.0.x cryptography on top of the AES/CMAC backend: the A_i keystream for FRMPayload,
 * the B0-prefixed data MIC, join MICs, join-accept encryption and 1.0.x session-key derivation. */
#include "lorawan/crypto.h"
#include <string.h>

static void put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* the A_i / B0 block layout: tag | 4 x 0 | dir | DevAddr LE | FCnt LE | 0 | last */
static void block_ai(uint8_t b[16], uint8_t tag, int dir, uint32_t dev_addr, uint32_t fcnt, uint8_t last) {
    memset(b, 0, 16);
    b[0] = tag;
    b[5] = (uint8_t)(dir ? 1 : 0);
    put_le32(b + 6, dev_addr);
    put_le32(b + 10, fcnt);
    b[15] = last;
}

int lw_frm_crypt(const uint8_t key[LW_KEY_LEN], int dir, uint32_t dev_addr, uint32_t fcnt, const uint8_t *in,
                 size_t len, uint8_t *out) {
    if (!key || ((!in || !out) && len)) return LW_ERR_ARG;
    if (len > 255u * 16u) return LW_ERR_TOO_LONG; /* the block counter is one byte */
    for (size_t off = 0, i = 1; off < len; off += 16, i++) {
        uint8_t a[16], s[16];
        block_ai(a, 0x01, dir, dev_addr, fcnt, (uint8_t)i);
        int rc = lw_aes128_ecb_encrypt(key, a, s);
        if (rc) return rc;
        size_t n = len - off < 16 ? len - off : 16;
        for (size_t j = 0; j < n; j++) out[off + j] = (uint8_t)(in[off + j] ^ s[j]);
    }
    return LW_OK;
}

int lw_data_mic(const uint8_t key[LW_KEY_LEN], int dir, uint32_t dev_addr, uint32_t fcnt, const uint8_t *msg,
                size_t len, uint8_t mic[LW_MIC_LEN]) {
    if (!key || (!msg && len) || !mic || len > 255) return LW_ERR_ARG;
    uint8_t buf[16 + 255], full[16];
    block_ai(buf, 0x49, dir, dev_addr, fcnt, (uint8_t)len);
    if (len) memcpy(buf + 16, msg, len);
    int rc = lw_cmac(key, buf, 16 + len, full);
    if (rc) return rc;
    memcpy(mic, full, LW_MIC_LEN);
    return LW_OK;
}

int lw_join_mic(const uint8_t app_key[LW_KEY_LEN], const uint8_t *msg, size_t len, uint8_t mic[LW_MIC_LEN]) {
    if (!app_key || (!msg && len) || !mic) return LW_ERR_ARG;
    uint8_t full[16];
    int rc = lw_cmac(app_key, msg, len, full);
    if (rc) return rc;
    memcpy(mic, full, LW_MIC_LEN);
    return LW_OK;
}

static int ja_blocks(const uint8_t *key, const uint8_t *in, size_t len, uint8_t *out, int enc) {
    if (!key || !in || !out || (len != 16 && len != 32)) return LW_ERR_ARG;
    for (size_t off = 0; off < len; off += 16) {
        int rc =
            enc ? lw_aes128_ecb_encrypt(key, in + off, out + off) : lw_aes128_ecb_decrypt(key, in + off, out + off);
        if (rc) return rc;
    }
    return LW_OK;
}

int lw_join_accept_encrypt(const uint8_t app_key[LW_KEY_LEN], const uint8_t *in, size_t len, uint8_t *out) {
    return ja_blocks(app_key, in, len, out, 0); /* the network "encrypts" with AES decrypt */
}

int lw_join_accept_decrypt(const uint8_t app_key[LW_KEY_LEN], const uint8_t *in, size_t len, uint8_t *out) {
    return ja_blocks(app_key, in, len, out, 1);
}

int lw_derive_session_keys(const uint8_t app_key[LW_KEY_LEN], uint32_t join_nonce, uint32_t net_id, uint16_t dev_nonce,
                           uint8_t nwk_s_key[LW_KEY_LEN], uint8_t app_s_key[LW_KEY_LEN]) {
    if (!app_key || !nwk_s_key || !app_s_key) return LW_ERR_ARG;
    uint8_t b[16] = {0};
    b[1] = (uint8_t)join_nonce;
    b[2] = (uint8_t)(join_nonce >> 8);
    b[3] = (uint8_t)(join_nonce >> 16);
    b[4] = (uint8_t)net_id;
    b[5] = (uint8_t)(net_id >> 8);
    b[6] = (uint8_t)(net_id >> 16);
    b[7] = (uint8_t)dev_nonce;
    b[8] = (uint8_t)(dev_nonce >> 8);
    b[0] = 0x01;
    int rc = lw_aes128_ecb_encrypt(app_key, b, nwk_s_key);
    if (rc) return rc;
    b[0] = 0x02;
    return lw_aes128_ecb_encrypt(app_key, b, app_s_key);
}

const char *lw_strerror(int code) {
    switch (code) {
    case LW_OK:
        return "ok";
    case LW_ERR_ARG:
        return "bad argument";
    case LW_ERR_TRUNCATED:
        return "truncated frame";
    case LW_ERR_TOO_LONG:
        return "frame too long";
    case LW_ERR_UNSUPPORTED:
        return "unsupported LoRaWAN major or message type";
    case LW_ERR_PROPRIETARY:
        return "proprietary frame";
    case LW_ERR_FOPTS:
        return "invalid FOpts";
    case LW_ERR_DIRECTION:
        return "wrong direction";
    case LW_ERR_MIC:
        return "MIC mismatch";
    case LW_ERR_CRYPTO:
        return "crypto backend failure";
    case LW_ERR_BUFFER:
        return "output buffer too small";
    case LW_ERR_KEY:
        return "missing key";
    default:
        return "unknown error";
    }
}
