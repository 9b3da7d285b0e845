/* bench/lorawan/lwl_util.c: te_lw_load's helpers: device derivation from an index, a fast uplink
 * keystream and MIC (one AES context re-keyed per call instead of one OpenSSL object per block, so
 * that sealing at send time costs the load generator about a microsecond; checked against
 * lorawan/frame.h's lw_frame_seal at start), base64, the clock and /proc sampling. */
#include "lwl.h"
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void lwl_dev_derive(uint32_t i, lwl_dev *d) {
    memset(d, 0, sizeof *d);
    d->index = i;
    snprintf(d->dev_id, sizeof d->dev_id, "d%05u", i);
    d->dev_addr = 0x26000000u | (i & 0x01ffffffu);
    static const uint8_t eui_hi[5] = {0x70, 0xb3, 0xd5, 0xff, 0xfe};
    memcpy(d->dev_eui, eui_hi, 5);
    d->dev_eui[5] = (uint8_t)(i >> 16);
    d->dev_eui[6] = (uint8_t)(i >> 8);
    d->dev_eui[7] = (uint8_t)i;
    uint64_t s = 0x7465u * 1000003u + i;
    for (int k = 0; k < 16; k += 8) {
        uint64_t a = splitmix64(&s), b = splitmix64(&s);
        memcpy(d->nwk_s_key + k, &a, 8);
        memcpy(d->app_s_key + k, &b, 8);
    }
}

/* ---- AES-128 with one re-keyed context per thread ---- */

static __thread EVP_CIPHER_CTX *aes_ctx;

int lwl_aes_init(void) {
    if (aes_ctx) return 0;
    aes_ctx = EVP_CIPHER_CTX_new();
    if (!aes_ctx) return -1;
    static const uint8_t zero[16];
    if (EVP_EncryptInit_ex(aes_ctx, EVP_aes_128_ecb(), NULL, zero, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(aes_ctx, 0) != 1) {
        lwl_aes_free();
        return -1;
    }
    return 0;
}

void lwl_aes_free(void) {
    EVP_CIPHER_CTX_free(aes_ctx);
    aes_ctx = NULL;
}

static int aes_key(const uint8_t key[16]) {
    if (!aes_ctx && lwl_aes_init()) return -1;
    return EVP_EncryptInit_ex(aes_ctx, NULL, NULL, key, NULL) == 1 ? 0 : -1;
}

/* n blocks of 16 bytes, each encrypted independently (ECB) with the current key */
static int aes_blocks(const uint8_t *in, uint8_t *out, int n) {
    int l = 0;
    return EVP_EncryptUpdate(aes_ctx, out, &l, in, 16 * n) == 1 && l == 16 * n ? 0 : -1;
}

static void put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

int lwl_keystream(const uint8_t key[16], uint32_t dev_addr, uint32_t fcnt, uint8_t *ks, size_t n) {
    uint8_t a[32];
    if (n > sizeof a || aes_key(key)) return -1;
    int nb = (int)((n + 15) / 16);
    memset(a, 0, sizeof a);
    for (int b = 0; b < nb; b++) {
        uint8_t *ai = a + 16 * b;
        ai[0] = 0x01;
        ai[5] = 0; /* uplink */
        put_le32(ai + 6, dev_addr);
        put_le32(ai + 10, fcnt);
        ai[15] = (uint8_t)(b + 1);
    }
    uint8_t s[32];
    if (aes_blocks(a, s, nb)) return -1;
    memcpy(ks, s, n);
    return 0;
}

static void dbl(const uint8_t in[16], uint8_t out[16]) {
    uint8_t carry = in[0] >> 7;
    for (int k = 0; k < 15; k++) out[k] = (uint8_t)(in[k] << 1 | in[k + 1] >> 7);
    out[15] = (uint8_t)(in[15] << 1);
    if (carry) out[15] ^= 0x87;
}

int lwl_data_mic(const uint8_t key[16], uint32_t dev_addr, uint32_t fcnt, const uint8_t *msg, size_t len,
                 uint8_t mic[4]) {
    uint8_t m[16 + 256 + 16];
    if (len > 256 || aes_key(key)) return -1;
    memset(m, 0, 16);
    m[0] = 0x49;
    put_le32(m + 6, dev_addr);
    put_le32(m + 10, fcnt);
    m[15] = (uint8_t)len;
    memcpy(m + 16, msg, len);
    size_t total = 16 + len;
    uint8_t l[16], k1[16], k2[16], zero[16] = {0};
    if (aes_blocks(zero, l, 1)) return -1;
    dbl(l, k1);
    dbl(k1, k2);
    size_t nb = (total + 15) / 16;
    size_t last = 16 * (nb - 1);
    if (total % 16 == 0) {
        for (int k = 0; k < 16; k++) m[last + k] ^= k1[k];
    } else {
        size_t r = total - last;
        m[last + r] = 0x80;
        memset(m + last + r + 1, 0, 16 - r - 1);
        for (int k = 0; k < 16; k++) m[last + k] ^= k2[k];
    }
    uint8_t x[16] = {0}, y[16];
    for (size_t b = 0; b < nb; b++) {
        for (int k = 0; k < 16; k++) y[k] = x[k] ^ m[16 * b + k];
        if (aes_blocks(y, x, 1)) return -1;
    }
    memcpy(mic, x, 4);
    return 0;
}

/* ---- base64 ---- */


uint64_t lwl_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

