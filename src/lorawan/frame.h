/* LoRaWAN 1.0.x PHYPayload codec (pure, no I/O): MHDR, JoinRequest, JoinAccept (with CFList),
 * Confirmed/Unconfirmed Data Up/Down with FHDR (DevAddr, FCtrl, FCnt16, FOpts), FPort and
 * FRMPayload, plus 32-bit FCnt reconstruction. Decoding is bounds-checked for hostile input and
 * returns a negative LW_ERR_* (crypto.h) with a message in the caller's buffer, never crashes.
 * EUIs are 8 bytes in natural (display, big-endian) order; DevAddr/NetID are numeric values (display
 * hex 26011bda == 0x26011bda); the codec converts to the little-endian order on air.
 *
 * Contract, one line per function (0 or a negative LW_ERR_*; err/errlen may be NULL/0):
 *   lw_frame_parse(phy,len,expect,f,err,errlen)  split a PHYPayload into f; expect = LW_EXPECT_*;
 *       data frames keep FRMPayload as on air (encrypted); a JoinAccept keeps its encrypted body
 *       (16 or 32 bytes incl. MIC) in f->frm until lw_join_accept_open; Proprietary is rejected
 *   lw_frame_build(f,out,cap,&n,err,errlen)   the exact inverse of lw_frame_parse (no crypto)
 *   lw_frame_seal(f,keys,fcnt32,out,cap,&n,err,errlen)  build from plaintext: encrypts FRMPayload
 *       (NwkSKey for FPort 0, AppSKey else), sets f->fcnt16 and f->mic; JoinRequest MIC with AppKey;
 *       JoinAccept from its fields: MIC + encryption with AppKey. f->frm becomes the on-air bytes
 *   lw_mic_check(phy,len,f,keys,fcnt32)       verify the MIC of a parsed JoinRequest or data frame
 *                                             (fcnt32 from lw_fcnt_reconstruct); LW_ERR_MIC if bad
 *   lw_frm_decrypt(f,keys,fcnt32,out)         decrypt f->frm (f->frm_len bytes) of a data frame
 *   lw_join_accept_open(appkey,f,err,errlen)  decrypt a parsed JoinAccept, fill its fields and
 *                                             f->frm with the plaintext body, check the MIC
 *   lw_fcnt_reconstruct(last,fcnt16)          the 32-bit FCnt >= last (mod 2^32) whose low 16 bits
 *                                             are fcnt16: rolls over into the next 65536 block
 *   lw_mtype_is_uplink(m)                     1 for JoinRequest / data up / Rejoin, else 0
 */
#ifndef TE_LORAWAN_FRAME_H
#define TE_LORAWAN_FRAME_H

#include "lorawan/crypto.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_PHY_MAX 255 /* the largest LoRa PHY payload */
#define LW_FOPTS_MAX 15
#define LW_CFLIST_LEN 16
#define LW_DATA_MIN 12 /* MHDR + FHDR(7) + MIC */
#define LW_JOIN_REQUEST_LEN 23

typedef enum {
    LW_MTYPE_JOIN_REQUEST = 0,
    LW_MTYPE_JOIN_ACCEPT = 1,
    LW_MTYPE_UNCONFIRMED_UP = 2,
    LW_MTYPE_UNCONFIRMED_DOWN = 3,
    LW_MTYPE_CONFIRMED_UP = 4,
    LW_MTYPE_CONFIRMED_DOWN = 5,
    LW_MTYPE_REJOIN = 6,
    LW_MTYPE_PROPRIETARY = 7,
} lw_mtype;

enum { LW_EXPECT_ANY = 0, LW_EXPECT_UP = 1, LW_EXPECT_DOWN = 2 };

typedef struct {
    bool adr;
    bool adr_ack_req; /* uplink bit 6; on a downlink this bit is RFU and kept here too */
    bool ack;
    bool fpending; /* downlink bit 4 */
    bool class_b;  /* uplink bit 4 */
} lw_fctrl;

typedef struct {
    lw_mtype mtype;
    uint8_t mhdr_rfu; /* MHDR bits 4..2, kept for an exact re-encode */
    /* JoinRequest */
    uint8_t join_eui[8];
    uint8_t dev_eui[8];
    uint16_t dev_nonce;
    /* JoinAccept (after lw_join_accept_open, or as input to lw_frame_seal) */
    uint32_t join_nonce; /* 24 bits: JoinNonce (1.0.3+) / AppNonce (1.0.2) */
    uint32_t net_id;     /* 24 bits */
    uint8_t dl_settings;
    uint8_t rx_delay;
    bool has_cflist;
    uint8_t cflist[LW_CFLIST_LEN];
    /* data frames (dev_addr also for JoinAccept) */
    uint32_t dev_addr;
    lw_fctrl fctrl;
    uint16_t fcnt16;
    uint8_t fopts_len;
    uint8_t fopts[LW_FOPTS_MAX];
    bool has_fport;
    uint8_t fport;
    size_t frm_len;
    uint8_t frm[LW_PHY_MAX];
    uint8_t mic[LW_MIC_LEN];
} lw_frame;

/* keys for seal/check/decrypt; any may be NULL when the operation does not need it */
typedef struct {
    const uint8_t *app_key;
    const uint8_t *nwk_s_key;
    const uint8_t *app_s_key;
} lw_keys;

int lw_frame_parse(const uint8_t *phy, size_t len, int expect, lw_frame *f, char *err, size_t errlen);
int lw_frame_build(const lw_frame *f, uint8_t *out, size_t cap, size_t *out_len, char *err, size_t errlen);
int lw_frame_seal(lw_frame *f, const lw_keys *keys, uint32_t fcnt32, uint8_t *out, size_t cap, size_t *out_len,
                  char *err, size_t errlen);
int lw_mic_check(const uint8_t *phy, size_t len, const lw_frame *f, const lw_keys *keys, uint32_t fcnt32);
int lw_frm_decrypt(const lw_frame *f, const lw_keys *keys, uint32_t fcnt32, uint8_t *out);
int lw_join_accept_open(const uint8_t app_key[LW_KEY_LEN], lw_frame *f, char *err, size_t errlen);
uint32_t lw_fcnt_reconstruct(uint32_t last, uint16_t fcnt16);
int lw_mtype_is_uplink(lw_mtype m);

#endif
