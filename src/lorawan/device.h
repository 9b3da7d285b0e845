/* LoRaWAN records shared by the registry (SQLite), the network/join/application server engine, the
 * REST API and the CLI: applications, end devices with their session (the network's view of a
 * device's state), gateways. Plain structs, no behaviour; EUIs in display (big-endian) order,
 * DevAddr as a number, keys as 16 raw bytes. Identifiers follow The Things Stack: 2..36 chars of
 * [a-z0-9-], not starting or ending with '-' (lw_id_valid).
 *
 *   lw_id_valid(id)                 1 if id is a valid application/device/gateway id
 *   lw_hex_parse(hex,out,n)         exactly 2n hex digits -> n bytes; 0 or -1
 *   lw_hex_format(p,n,out,upper)    2n hex digits + NUL into out (capacity 2n+1)
 *   lw_app_rec_clear / lw_dev_rec_clear   free the owned formatter source, zero the record
 *   lw_dev_rec_copy(dst,src)        deep copy (formatter source duplicated); 0 or -1
 *   lw_dev_rec_init(d)              zero + registration defaults: OTAA, LoRaWAN 1.0.4, EU868, class A,
 *                                   ADR on, formatter inherited */
#ifndef TE_LORAWAN_DEVICE_H
#define TE_LORAWAN_DEVICE_H
#include "lorawan/adr.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_ID_MAX 36
#define LW_NAME_MAX 64

/* payload formatter kind; a device with LW_FMT_INHERIT uses its application's formatter */
typedef enum { LW_FMT_INHERIT = -1, LW_FMT_NONE = 0, LW_FMT_LPP = 1, LW_FMT_JS = 2 } lw_fmt_kind;

typedef struct lw_app_rec {
    char app_id[LW_ID_MAX + 1];
    char name[LW_NAME_MAX + 1];
    lw_fmt_kind fmt;   /* LW_FMT_NONE / LPP / JS (never INHERIT) */
    char *fmt_src;     /* JS source (malloc'ed, owned) when fmt == LW_FMT_JS, else NULL */
    int64_t created_ms;
} lw_app_rec;

/* The network's view of a device's session. ABP devices have it from registration; OTAA devices
 * get it at each join. Persisted by the registry (lw_reg_session_save) so FCnts survive restarts. */
typedef struct lw_session {
    bool active;          /* a session exists (ABP registered, or OTAA joined) */
    uint32_t dev_addr;
    uint8_t nwk_s_key[16];
    uint8_t app_s_key[16];
    bool fcnt_up_seen;    /* fcnt_up holds the last accepted uplink FCnt */
    uint32_t fcnt_up;
    uint32_t fcnt_down;   /* next downlink FCnt to use (NFCntDown = AFCntDown in 1.0.x) */
    uint32_t join_nonce;  /* last JoinNonce sent (OTAA; a counter, as 1.0.3+ devices require) */
    uint16_t last_dev_nonce;
    int64_t joined_at_ms; /* wall clock ms of the join (0 = ABP) */
    int64_t last_seen_ms; /* wall clock ms of the last accepted uplink */
    /* MAC state as the network believes it */
    uint8_t dr;            /* last uplink's data rate */
    uint8_t tx_power;      /* TX power index (0 = max) */
    uint8_t nb_trans;      /* 1..15 */
    uint8_t rx1_dr_offset;
    uint8_t rx2_dr;
    uint8_t rx1_delay_s;   /* 1..15 */
    uint32_t rx2_freq_hz;
    bool adr_pending;      /* a LinkADRReq was sent and not yet answered */
    lw_adr_state adr;      /* ChirpStack-style SNR history */
} lw_session;

typedef struct lw_dev_rec {
    char app_id[LW_ID_MAX + 1];
    char dev_id[LW_ID_MAX + 1];
    char name[LW_NAME_MAX + 1];
    uint8_t dev_eui[8];
    uint8_t join_eui[8];
    bool otaa;
    uint8_t app_key[16];      /* OTAA root key (LoRaWAN 1.0.x AppKey); zero for ABP */
    uint8_t mac_minor;        /* 2, 3 or 4: LoRaWAN 1.0.2 / 1.0.3 / 1.0.4 (default 4) */
    char region[8];           /* "EU868" (default) or "US915" */
    char dev_class;           /* 'A' (only class A downlinks are scheduled) */
    bool adr;                 /* the network may control the data rate (default true) */
    bool abp_relax_fcnt;      /* ABP: accept an FCnt reset to 0 (lab devices that reboot) */
    lw_fmt_kind fmt;          /* LW_FMT_INHERIT (default) or an override */
    char *fmt_src;            /* owned JS source when fmt == LW_FMT_JS */
    int64_t created_ms;
    lw_session s;             /* ABP: registration fills dev_addr and keys, active = true */
} lw_dev_rec;

typedef struct lw_gw_rec {
    uint8_t eui[8];
    char gw_id[LW_ID_MAX + 1];  /* default "eui-<16 lower-case hex>" */
    char name[LW_NAME_MAX + 1];
    bool has_location;
    double lat, lon;
    int32_t alt;
    int64_t created_ms;
    int64_t last_seen_ms;       /* runtime only (not stored by the CLI) */
} lw_gw_rec;

int lw_id_valid(const char *id);
int lw_hex_parse(const char *hex, uint8_t *out, size_t n);
void lw_hex_format(const uint8_t *p, size_t n, char *out, int upper);
void lw_app_rec_clear(lw_app_rec *a);
void lw_dev_rec_clear(lw_dev_rec *d);
int lw_dev_rec_copy(lw_dev_rec *dst, const lw_dev_rec *src);
void lw_dev_rec_init(lw_dev_rec *d);
#endif
