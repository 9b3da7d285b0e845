/* LoRaWAN Regional Parameters (RP002-1.0.x) as constant data tables, pure C11: no allocation, no
 * I/O, no OpenSSL or libuv, so the same tables serve the network server, the simulator's devices
 * and a Cortex-M4 build. EU868 and US915 are defined; AS923/AU915/IN865 are added by writing one
 * more `lw_region` constant in region.c (every rule below is table-driven: channel blocks, DR
 * table, payload tables per dwell time and repeater mode, RX1 DR matrix, RX1 frequency rule, bands,
 * ChMaskCntl flavour, CFList type). Frequencies are Hz (uint32_t), times ms, powers dBm.
 *
 * Not covered (yet): LR-FHSS data rates (EU868 DR8..11, US915 DR5..6) are listed as LW_MOD_LRFHSS
 * without payload sizes, RX1 mapping or airtime; Class B beacon/ping-slot parameters; CN470.
 *
 * Max payload sizes: the region tables hold both M (MACPayload = FHDR + FPort + FRMPayload) and N
 * (application payload = FRMPayload with FOpts empty, N = M - 8), for repeater-compatible and
 * non-repeater operation, and for uplink dwell time off/on (AS923 style; EU868 and US915 have one
 * table each, US915's already respects the FCC 400 ms dwell). lw_region_max_payload() returns N.
 *
 * Contract, one line per function (ints are 0 or a negative LW_REGION_ERR_*):
 *   lw_region_get(name)                        region by name ("EU868", "us915"; case-insensitive), NULL if unknown
 *   lw_region_count() / lw_region_at(i)        iterate over the built-in regions
 *   lw_region_dr(r,dr)                         the data-rate entry, NULL if dr is undefined/RFU in r
 *   lw_region_max_payload(r,dr,repeater)       N (max FRMPayload bytes, empty FOpts), 0 if dr undefined
 *   lw_region_max_payload_ex(r,dr,rep,dwell,&m,&n)  M and N for the dwell-time setting; LW_REGION_ERR_DR
 *   lw_region_rx1_dr(r,up_dr,offset)           RX1 downlink DR for an uplink DR and RX1DROffset, -1 if invalid
 *   lw_region_rx1_freq(r,up_freq,up_channel)   RX1 frequency in Hz (up_channel < 0: derive it from
 *                                              up_freq), 0 if the uplink frequency is not a channel of r
 *   lw_region_uplink_channel(r,freq)           index of the fixed uplink channel at freq, -1 if none
 *                                              (for dynamic plans only the default channels are known)
 *   lw_region_dr_from_sf_bw(r,sf,bw)           lowest DR with that LoRa SF/BW (FSK: sf 0, bw = bitrate), -1
 *   lw_region_dr_find(r,sf,bw,dir)             as above, restricted to DRs valid in direction dir (LW_DRDIR_*)
 *   lw_region_dr_from_datr(r,datr,dir)         DR for a Semtech UDP LoRa "datr" ("SF7BW125"), -1 if none
 *   lw_region_datr(r,dr,buf,cap)               write the "SFxBWy" string of a LoRa DR; length or -1
 *   lw_region_band_of(r,freq)                  the duty-cycle/regulatory band holding freq, NULL if none
 *   lw_region_band_index(r,band)               index of a band of r (for per-band state), -1 if foreign
 *   lw_region_tx_power_dbm(r,txpower,max_eirp) EIRP for a LinkADRReq TXPower index (max_eirp 0: the
 *                                              region default), INT8_MIN if the index is invalid for r
 *   lw_region_chmask_default(r,mask)           the channel mask a device starts with (join channels)
 *   lw_region_chmask_apply(r,defined,mask,cntl,chmask)  one LinkADRReq ChMask block, in order, onto mask;
 *                                              defined = channels the device has (dynamic plans; NULL =
 *                                              the default channels); LW_REGION_ERR_CHMASK = NACK
 *   lw_region_chmask_plan(r,want,cntl[],chmask[],max,&n)  LinkADRReq blocks that turn any mask into want
 *   lw_cflist_build_freqs(freqs[5],out)        CFList type 0 (frequency list; 0 Hz = unused)
 *   lw_cflist_build_chmask(mask,out)           CFList type 1 (channel mask, channels 0..79)
 *   lw_cflist_parse(in,out)                    decode a 16-byte CFList; LW_REGION_ERR_CFLIST if malformed
 *   lw_chmask_set/clear/test/count/clear_all   bit helpers (static inline)
 */
#ifndef TE_LORAWAN_REGION_H
#define TE_LORAWAN_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    LW_REGION_ERR_ARG = -1,      /* same meaning and value as LW_ERR_ARG */
    LW_REGION_ERR_DR = -30,      /* data rate undefined/RFU in this region */
    LW_REGION_ERR_CHMASK = -31,  /* ChMaskCntl RFU, or ChMask enables an undefined channel */
    LW_REGION_ERR_CFLIST = -32,  /* CFList type unknown or frequency out of range */
    LW_REGION_ERR_NO_BAND = -33, /* frequency outside every band of the region */
};

#define LW_DR_MAX 16        /* DR0..DR15 (DR15 is "keep current" in LinkADRReq, never a rate) */
#define LW_RX1_OFFSET_MAX 8 /* RX1DROffset 0..7 */
#define LW_CHANNELS_MAX 80  /* 72 for US915/AU915; 16 for dynamic plans */
#define LW_REGION_BANDS_MAX 8
#define LW_CFLIST_SIZE 16

typedef enum { LW_MOD_NONE = 0, LW_MOD_LORA, LW_MOD_FSK, LW_MOD_LRFHSS } lw_modulation;

enum { LW_DRDIR_UP = 1, LW_DRDIR_DOWN = 2, LW_DRDIR_BOTH = 3 };

/* One data rate. LoRa: sf 7..12, bw_hz. FSK: sf 0, bw_hz = bitrate (50000). LR-FHSS: listed only. */
typedef struct {
    uint8_t mod; /* lw_modulation; LW_MOD_NONE = RFU/undefined */
    uint8_t sf;
    uint8_t dir; /* LW_DRDIR_* where this DR may be used */
    uint32_t bw_hz;
} lw_dr_def;

typedef struct {
    uint8_t m, n; /* MACPayload max, FRMPayload max with empty FOpts; 0/0 = not defined */
} lw_payload_size;

/* A run of equally spaced channels: index first_index + i is at first_hz + i * step_hz. */
typedef struct {
    uint8_t first_index, count;
    uint32_t first_hz, step_hz;
    uint32_t bw_hz;
    uint8_t dr_min, dr_max;
    uint16_t max_dwell_ms; /* regulatory dwell per transmission, 0 = none */
} lw_channel_block;

/* A regulatory sub-band (ETSI EN 300 220-2 for EU868). dc_inverse: duty cycle 1/dc_inverse
 * (100 = 1 %, 1000 = 0.1 %, 10 = 10 %, 1 = unlimited). Range [lo_hz, hi_hz) on the centre frequency. */
typedef struct {
    const char *name;    /* ETSI band letter (K..Q) or a plain name */
    const char *lorawan; /* LoRaWAN 1.0 sub-band name (g, g1..g4) or "" */
    uint32_t lo_hz, hi_hz;
    uint16_t dc_inverse;
    int8_t max_eirp_dbm;
} lw_band;

typedef enum {
    LW_RX1_FREQ_SAME = 0,      /* RX1 on the uplink frequency (dynamic plans: EU868, AS923, IN865) */
    LW_RX1_FREQ_DOWN_BLOCK = 1 /* RX1 on downlink channel (uplink channel % downlink count) (US915, AU915) */
} lw_rx1_freq_rule;

typedef enum {
    LW_CHMASK_DYNAMIC16 = 0, /* ChMaskCntl 0 = channels 0..15, 6 = all defined on, rest RFU */
    LW_CHMASK_FIXED72 = 1    /* ChMaskCntl 0..4 = blocks of 16, 5 = 8 sub-bands, 6/7 = all 125k on/off */
} lw_chmask_kind;

typedef struct {
    const char *name;      /* "EU868" */
    const char *spec_name; /* "EU863-870" */
    uint32_t freq_min_hz, freq_max_hz;
    const lw_dr_def *dr; /* LW_DR_MAX entries */
    /* max payload: [repeater-compatible, not repeater-compatible] for uplink dwell time off;
     * the dwell tables are NULL where the region has no UplinkDwellTime setting */
    const lw_payload_size *payload_rep, *payload_norep;
    const lw_payload_size *payload_dwell_rep, *payload_dwell_norep;
    const int8_t (*rx1_dr)[LW_RX1_OFFSET_MAX]; /* [LW_DR_MAX][8]; -1 = invalid */
    uint8_t rx1_offset_max;                    /* highest valid RX1DROffset */
    uint8_t rx1_freq_rule;                     /* lw_rx1_freq_rule */
    const lw_channel_block *uplink;            /* default/fixed uplink channels (also join channels) */
    uint8_t n_uplink;
    const lw_channel_block *downlink; /* fixed downlink channels (LW_RX1_FREQ_DOWN_BLOCK), or NULL */
    uint8_t n_downlink;
    uint8_t n_channels_max; /* channel mask size: 16 dynamic, 72 fixed */
    uint8_t chmask_kind;    /* lw_chmask_kind */
    uint8_t cflist_type;    /* 0 = frequency list, 1 = channel mask */
    uint32_t rx2_freq_hz;
    uint8_t rx2_dr;
    uint8_t default_uplink_dr_max; /* highest DR of the default channels (for ADR bounds) */
    int8_t max_eirp_dbm;           /* default MaxEIRP */
    uint8_t tx_power_max;          /* highest TXPower index; EIRP = MaxEIRP - step * index */
    uint8_t tx_power_step_db;
    uint16_t receive_delay1_ms, receive_delay2_ms;
    uint16_t join_accept_delay1_ms, join_accept_delay2_ms;
    uint16_t max_fcnt_gap, adr_ack_limit, adr_ack_delay;
    uint16_t ack_timeout_ms, ack_timeout_jitter_ms; /* 2 s +/- 1 s */
    const lw_band *bands;
    uint8_t n_bands;
} lw_region;

/* Channel mask: bit i = channel i (up to LW_CHANNELS_MAX). */
typedef struct {
    uint16_t w[LW_CHANNELS_MAX / 16];
} lw_chmask;

/* A decoded CFList. type 0: freqs[0..4] (Hz, 0 = unused); type 1: mask. */
typedef struct {
    uint8_t type;
    uint32_t freqs[5];
    lw_chmask mask;
} lw_cflist;

const lw_region *lw_region_get(const char *name);
size_t lw_region_count(void);
const lw_region *lw_region_at(size_t i);

const lw_dr_def *lw_region_dr(const lw_region *r, int dr);
unsigned lw_region_max_payload(const lw_region *r, int dr, bool repeater);
int lw_region_max_payload_ex(const lw_region *r, int dr, bool repeater, bool uplink_dwell, unsigned *m, unsigned *n);
int lw_region_rx1_dr(const lw_region *r, int up_dr, int offset);
uint32_t lw_region_rx1_freq(const lw_region *r, uint32_t up_freq_hz, int up_channel);
int lw_region_uplink_channel(const lw_region *r, uint32_t freq_hz);
int lw_region_dr_from_sf_bw(const lw_region *r, int sf, uint32_t bw_hz);
int lw_region_dr_find(const lw_region *r, int sf, uint32_t bw_hz, int dir);
int lw_region_dr_from_datr(const lw_region *r, const char *datr, int dir);
int lw_region_datr(const lw_region *r, int dr, char *buf, size_t cap);
const lw_band *lw_region_band_of(const lw_region *r, uint32_t freq_hz);
int lw_region_band_index(const lw_region *r, const lw_band *band);
int8_t lw_region_tx_power_dbm(const lw_region *r, int txpower, int8_t max_eirp_dbm);

void lw_region_chmask_default(const lw_region *r, lw_chmask *mask);
int lw_region_chmask_apply(const lw_region *r, const lw_chmask *defined, lw_chmask *mask, uint8_t cntl,
                           uint16_t chmask);
int lw_region_chmask_plan(const lw_region *r, const lw_chmask *want, uint8_t *cntl, uint16_t *chmask, size_t max,
                          size_t *n);

void lw_cflist_build_freqs(const uint32_t freqs[5], uint8_t out[LW_CFLIST_SIZE]);
void lw_cflist_build_chmask(const lw_chmask *mask, uint8_t out[LW_CFLIST_SIZE]);
int lw_cflist_parse(const uint8_t in[LW_CFLIST_SIZE], lw_cflist *out);

static inline void lw_chmask_clear_all(lw_chmask *m) {
    for (size_t i = 0; i < LW_CHANNELS_MAX / 16; i++) m->w[i] = 0;
}
static inline void lw_chmask_set(lw_chmask *m, unsigned ch) {
    if (ch < LW_CHANNELS_MAX) m->w[ch / 16] = (uint16_t)(m->w[ch / 16] | (1u << (ch % 16)));
}
static inline void lw_chmask_clear(lw_chmask *m, unsigned ch) {
    if (ch < LW_CHANNELS_MAX) m->w[ch / 16] = (uint16_t)(m->w[ch / 16] & ~(1u << (ch % 16)));
}
static inline bool lw_chmask_test(const lw_chmask *m, unsigned ch) {
    return ch < LW_CHANNELS_MAX && ((m->w[ch / 16] >> (ch % 16)) & 1u);
}
static inline unsigned lw_chmask_count(const lw_chmask *m) {
    unsigned n = 0;
    for (unsigned ch = 0; ch < LW_CHANNELS_MAX; ch++) n += lw_chmask_test(m, ch);
    return n;
}

#endif
