/* OpenSSL 3 backend of lorawan/crypto: AES-128-ECB single blocks through EVP_CIPHER and AES-CMAC
 * through EVP_MAC. A microcontroller build replaces this file with another backend. */
#include "lorawan/crypto.h"
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

static int aes_block(const uint8_t *key, const uint8_t *in, uint8_t *out, int enc) {
    if (!key || !in || !out) return LW_ERR_ARG;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c) return LW_ERR_CRYPTO;
    uint8_t buf[32];
    int n1 = 0, n2 = 0, rc = LW_ERR_CRYPTO;
    if (EVP_CipherInit_ex(c, EVP_aes_128_ecb(), NULL, key, NULL, enc) == 1 && EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
        EVP_CipherUpdate(c, buf, &n1, in, 16) == 1 && EVP_CipherFinal_ex(c, buf + n1, &n2) == 1 && n1 + n2 == 16) {
        memcpy(out, buf, 16);
        rc = LW_OK;
    }
    EVP_CIPHER_CTX_free(c);
    return rc;
}

int lw_aes128_ecb_encrypt(const uint8_t key[LW_KEY_LEN], const uint8_t in[16], uint8_t out[16]) {
    return aes_block(key, in, out, 1);
}

int lw_aes128_ecb_decrypt(const uint8_t key[LW_KEY_LEN], const uint8_t in[16], uint8_t out[16]) {
    return aes_block(key, in, out, 0);
}

int lw_cmac(const uint8_t key[LW_KEY_LEN], const uint8_t *msg, size_t len, uint8_t out[16]) {
    if (!key || (!msg && len) || !out) return LW_ERR_ARG;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
    if (!mac) return LW_ERR_CRYPTO;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    int rc = LW_ERR_CRYPTO;
    if (ctx) {
        char cipher[] = "AES-128-CBC";
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
            OSSL_PARAM_construct_end(),
        };
        size_t outl = 0;
        static const uint8_t empty[1] = {0};
        if (EVP_MAC_init(ctx, key, LW_KEY_LEN, params) == 1 && EVP_MAC_update(ctx, len ? msg : empty, len) == 1 &&
            EVP_MAC_final(ctx, out, &outl, 16) == 1 && outl == 16)
            rc = LW_OK;
        EVP_MAC_CTX_free(ctx);
    }
    EVP_MAC_free(mac);
    return rc;
}
