/* Adaptive data rate (network side) as ChirpStack's "default" ADR algorithm does it, pure C11: no
 * allocation, no I/O, no clock, no libm, float only (Cortex-M4F safe). The caller owns the state
 * (one lw_adr_state per device session) and decides when to call; see docs/lorawan-adr.md.
 *
 * Algorithm (one decision per ADR-enabled uplink):
 *   history   the last LW_ADR_HISTORY (20) uplinks: FCnt, max SNR over the gateways, TX power index
 *   max DR    min(params max_dr, highest 125 kHz LoRa uplink DR of the region) — EU868 DR5, US915 DR3;
 *             a current DR above it is lowered to it (the only time the DR goes down)
 *   NbTrans   loss = FCnt gaps / history length (0 % until the history is full), then
 *             ChirpStack's table, rows by loss <5 %, <10 %, <30 %, >=30 %, columns by current NbTrans
 *             1,2,3: {1,1,2} {1,2,3} {2,3,3} {3,3,3}
 *   margin    maxSNR(history) - requiredSNR(SF of the current DR) - installation margin (10 dB);
 *             required SNR SF7 -7.5 ... SF12 -20 dB in 2.5 dB steps (0 dB for a non-LoRa DR)
 *   nStep     margin / 3, truncated toward zero (ChirpStack: `(margin / 3.0) as isize`, which is
 *             floor() for margins >= 0; -2.9 dB gives 0 steps, not -1)
 *   nStep > 0 each step: DR + 1 while below max DR, else TX power index + 1 (less power) while below
 *             the max index, else nothing
 *   nStep < 0 each step: TX power index - 1 (more power) down to 0 (max power); the DR never drops.
 *             Only acted on when all 20 history entries were sent with the current TX power index;
 *             before that the result keeps DR and power (NbTrans and the max-DR clamp still apply).
 *             Positive steps act at once, even on a short history (as ChirpStack).
 * Storage is compact (4 bytes an entry, 88 bytes a state, as 100k devices must fit in little memory):
 * the newest entry's FCnt in full, each entry's low 16 FCnt bits, SNR in 0.25 dB steps (rounded to
 * nearest, clamped to +-31.75 dB; NaN is kept as "no SNR" and ignored by the max, as before), TX
 * power index 0..63 (clamped; LinkADRReq carries 0..15). Consecutive entries more than 65535
 * FCnts apart or stepping backwards are flagged: a step back counts no loss (as ChirpStack), a jump
 * of 65536+ counts 65535 lost (ChirpStack counts the exact gap; either way >= 30 %, the same
 * NbTrans row; only lw_adr_loss_percent's figure is then a lower bound), and lw_adr_history_at
 * reconstructs the FCnts of entries older than such a flagged step modulo 2^16 only.
 * The caller must clear the history (lw_adr_reset) when the device changes DR by itself or a
 * LinkADRReq that changed DR, TX power or NbTrans is acknowledged (ChirpStack does the same).
 *
 * Contract, one line per function (ints are 0 or a negative LW_REGION_ERR_*; LW_REGION_ERR_ARG equals
 * LW_ERR_ARG):
 *   lw_adr_init(s) / lw_adr_reset(s)       empty history
 *   lw_adr_add_uplink(s,fcnt,snr,txp)      append an uplink (oldest dropped after 20); an FCnt equal to
 *                                          the newest entry's is a retransmission and is ignored
 *   lw_adr_history_len(s)                  entries held, 0..20
 *   lw_adr_history_at(s,i,out)             entry i (0 = oldest) into *out: 0, or -1 if out of range
 *   lw_adr_loss_percent(s)                 packet loss over the history in %, 0 unless it is full
 *   lw_adr_required_snr(sf)                demodulation floor in dB for SF 6..12, 0 otherwise
 *   lw_adr_max_lora_dr(r)                  highest uplink DR of r that is LoRa at 125 kHz, -1 if none
 *   lw_adr_params_default(p,r)             fill p for region r: margin 10 dB, max DR = r's default
 *                                          uplink max, max TX power index = r's, DR0, index 0, NbTrans 1
 *   lw_adr_decide(s,p,out)                 the new DR / TX power index / NbTrans; out->changed tells
 *                                          whether a LinkADRReq is needed. LW_REGION_ERR_ARG for NULLs
 *                                          or a non-finite margin, LW_REGION_ERR_DR if p->dr is undefined
 */
#ifndef TE_LORAWAN_ADR_H
#define TE_LORAWAN_ADR_H

#include "lorawan/region.h"
#include <stdbool.h>
#include <stdint.h>

#define LW_ADR_HISTORY 20              /* uplinks kept, and the count needed before raising power */
#define LW_ADR_MARGIN_DEFAULT_DB 10.0f /* installation margin (ChirpStack's default) */
#define LW_ADR_STEP_DB 3.0f            /* one DR or TX power step is worth 3 dB of margin */

/* one history entry as lw_adr_history_at gives it */
typedef struct {
    uint32_t fcnt;          /* full 32-bit uplink FCnt */
    float max_snr;          /* best SNR over the gateways that heard this uplink, dB (0.25 dB steps) */
    uint8_t tx_power_index; /* TX power index the device was using (the network's view) */
} lw_adr_uplink;

/* one stored entry (4 bytes) */
typedef struct {
    uint16_t fcnt_lo; /* low 16 bits of the FCnt */
    int8_t snr_q;     /* SNR * 4, -127..127; LW_ADR_SNR_NONE = NaN */
    uint8_t txp;      /* TX power index (bits 0-5) | LW_ADR_F_BACK | LW_ADR_F_FAR (step from the previous) */
} lw_adr_slot;
#define LW_ADR_SNR_NONE (-128)
#define LW_ADR_F_BACK 0x80u /* FCnt went backwards (or by 2^31+) since the previous entry */
#define LW_ADR_F_FAR 0x40u  /* FCnt jumped forward by 65536 .. 2^31-1 since the previous entry */
#define LW_ADR_TXP_MASK 0x3Fu

/* Ring buffer; treat as opaque, use the functions. Zero-initialised == lw_adr_init. */
typedef struct {
    uint32_t last_fcnt;            /* full FCnt of the newest entry */
    lw_adr_slot h[LW_ADR_HISTORY];
    uint8_t head;  /* index of the oldest entry */
    uint8_t count; /* entries held */
} lw_adr_state;

typedef struct {
    const lw_region *region;    /* required: DR table (SF -> required SNR, max 125 kHz LoRa DR) */
    uint8_t dr;                 /* DR of the uplink that triggers the decision */
    uint8_t tx_power_index;     /* the device's current TX power index (0 = max power) */
    uint8_t nb_trans;           /* current NbTrans (0 is treated as 1, above 3 as 3) */
    uint8_t max_dr;             /* highest DR ADR may assign (network/device setting) */
    uint8_t max_tx_power_index; /* highest (weakest) TX power index the device supports */
    float installation_margin;  /* dB, LW_ADR_MARGIN_DEFAULT_DB */
} lw_adr_params;

typedef struct {
    uint8_t dr, tx_power_index, nb_trans; /* put into a LinkADRReq when changed */
    bool changed;                         /* any of the three differs from the params */
    int8_t n_step;                        /* steps computed from the SNR margin (for logs) */
    float snr_margin;                     /* dB (for logs); -999-ish with an empty history */
} lw_adr_result;

void lw_adr_init(lw_adr_state *s);
void lw_adr_reset(lw_adr_state *s);
void lw_adr_add_uplink(lw_adr_state *s, uint32_t fcnt, float max_snr, uint8_t tx_power_index);
unsigned lw_adr_history_len(const lw_adr_state *s);
int lw_adr_history_at(const lw_adr_state *s, unsigned i, lw_adr_uplink *out);
float lw_adr_loss_percent(const lw_adr_state *s);
float lw_adr_required_snr(int sf);
int lw_adr_max_lora_dr(const lw_region *r);
void lw_adr_params_default(lw_adr_params *p, const lw_region *r);
int lw_adr_decide(const lw_adr_state *s, const lw_adr_params *p, lw_adr_result *out);

#endif
