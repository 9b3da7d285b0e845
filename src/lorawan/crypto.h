/* LoRaWAN 1.0.x cryptography (pure, no I/O): FRMPayload encryption, data-frame and join MICs,
 * join-accept encryption and 1.0.x session-key derivation, built on a tiny AES-128/CMAC backend.
 * The backend (lw_aes128_ecb_*, lw_cmac) lives in its own file (crypto_openssl.c on a host) so a
 * microcontroller build can swap in another implementation. Also defines the lorawan error codes.
 *
 * Conventions: keys are 16 bytes; DevAddr and NetID are passed as their natural numeric value
 * (display hex "26011bda" == 0x26011bdaU) and converted to on-air little-endian order here;
 * a MIC is the 4 bytes as they appear on air. dir is LW_DIR_UP (0) or LW_DIR_DOWN (1).
 *
 * Contract, one line per function (all return 0 or a negative LW_ERR_*):
 *   lw_aes128_ecb_encrypt(key,in,out)  one AES-128 block encryption (backend; in may equal out)
 *   lw_aes128_ecb_decrypt(key,in,out)  one AES-128 block decryption (backend; in may equal out)
 *   lw_cmac(key,msg,len,out)           full 16-byte AES-CMAC of msg (backend)
 *   lw_frm_crypt(key,dir,addr,fcnt,in,len,out)  XOR with the A_i keystream: encrypts and decrypts
 *   lw_data_mic(key,dir,addr,fcnt,msg,len,mic)  4-byte MIC of MHDR..FRMPayload with the B0 block
 *   lw_join_mic(appkey,msg,len,mic)    4-byte CMAC MIC of a join-request or plaintext join-accept
 *   lw_join_accept_encrypt(appkey,in,len,out)   len 16 or 32: AES-ECB *decrypt* per the spec
 *   lw_join_accept_decrypt(appkey,in,len,out)   len 16 or 32: AES-ECB encrypt (the inverse)
 *   lw_derive_session_keys(appkey,join_nonce,net_id,dev_nonce,nwk_s_key,app_s_key)  1.0.x keys
 *   lw_strerror(code)                  static text for an LW_ERR_* code
 */
#ifndef TE_LORAWAN_CRYPTO_H
#define TE_LORAWAN_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define LW_KEY_LEN 16
#define LW_MIC_LEN 4
#define LW_DIR_UP 0
#define LW_DIR_DOWN 1

enum {
    LW_OK = 0,
    LW_ERR_ARG = -1,         /* bad argument (NULL, wrong length) */
    LW_ERR_TRUNCATED = -2,   /* input shorter than its structure requires */
    LW_ERR_TOO_LONG = -3,    /* input longer than allowed */
    LW_ERR_UNSUPPORTED = -4, /* unknown LoRaWAN major, RejoinRequest (1.1) */
    LW_ERR_PROPRIETARY = -5, /* MType Proprietary: not interpreted */
    LW_ERR_FOPTS = -6,       /* FOptsLen beyond the frame, or FOpts together with FPort 0 */
    LW_ERR_DIRECTION = -7,   /* uplink where a downlink was expected or vice versa */
    LW_ERR_MIC = -8,         /* MIC mismatch */
    LW_ERR_CRYPTO = -9,      /* the crypto backend failed */
    LW_ERR_BUFFER = -10,     /* output buffer too small */
    LW_ERR_KEY = -11,        /* a key needed for the operation was not given */
};

int lw_aes128_ecb_encrypt(const uint8_t key[LW_KEY_LEN], const uint8_t in[16], uint8_t out[16]);
int lw_aes128_ecb_decrypt(const uint8_t key[LW_KEY_LEN], const uint8_t in[16], uint8_t out[16]);
int lw_cmac(const uint8_t key[LW_KEY_LEN], const uint8_t *msg, size_t len, uint8_t out[16]);

int lw_frm_crypt(const uint8_t key[LW_KEY_LEN], int dir, uint32_t dev_addr, uint32_t fcnt, const uint8_t *in,
                 size_t len, uint8_t *out);
int lw_data_mic(const uint8_t key[LW_KEY_LEN], int dir, uint32_t dev_addr, uint32_t fcnt, const uint8_t *msg,
                size_t len, uint8_t mic[LW_MIC_LEN]);
int lw_join_mic(const uint8_t app_key[LW_KEY_LEN], const uint8_t *msg, size_t len, uint8_t mic[LW_MIC_LEN]);
int lw_join_accept_encrypt(const uint8_t app_key[LW_KEY_LEN], const uint8_t *in, size_t len, uint8_t *out);
int lw_join_accept_decrypt(const uint8_t app_key[LW_KEY_LEN], const uint8_t *in, size_t len, uint8_t *out);
int lw_derive_session_keys(const uint8_t app_key[LW_KEY_LEN], uint32_t join_nonce, uint32_t net_id, uint16_t dev_nonce,
                           uint8_t nwk_s_key[LW_KEY_LEN], uint8_t app_s_key[LW_KEY_LEN]);
const char *lw_strerror(int code);

#endif
