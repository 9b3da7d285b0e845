/* LoRaWAN 1.0.4 class A end-device stack, sans-I/O (pure C11: no allocation, no libuv, no OpenSSL
 * except through lorawan/crypto.h; builds for a Cortex-M4). Driven by time (now_us, a monotonic
 * microsecond clock chosen by the caller) and by events: the caller asks it to join or send, polls it
 * for the next transmission, and hands it the downlinks its radio heard. The simulator (src/sim/sim.c)
 * runs one per simulated device; firmware would run one on a real radio.
 *
 * Behaviour: OTAA (JoinRequest with DevNonce as a counter, JoinAccept checked and opened, 1.0.x
 * session keys, CFList applied, retries at falling DR under the join backoff duty cycle) or ABP;
 * FCnt up; NbTrans repetitions of unconfirmed frames and retransmission of confirmed ones (ACK timeout
 * 1..3 s after RX2) keeping the same FCnt; RX1 at tx_end + RECEIVE_DELAY1 (JOIN_ACCEPT_DELAY1 for a
 * join), RX2 one second later, each accepting a frame that starts within LW_DEV_RX_TOLERANCE_US of the
 * window opening on the expected frequency and DR; downlink MIC, FCnt (strictly increasing) and
 * decryption; ACK of confirmed downlinks in the next uplink; MAC commands applied and answered in FOpts
 * of the next uplink (RXParamSetupAns, RXTimingSetupAns, DlChannelAns repeated until a downlink comes);
 * ADRACKReq backoff (ADR_ACK_LIMIT / ADR_ACK_DELAY of the region); duty cycle per band (a frame that
 * must wait is "deferred" and counted); random channel among the enabled ones.
 *
 * Contract, one line per function (ints: 0 or a negative LW_DEV_ERR_* / LW_ERR_*):
 *   lw_dev_init(d,cfg)                 reset d for cfg (copied); ABP devices are active at once
 *   lw_dev_join(d,now)                 start (or restart) OTAA joining; LW_DEV_ERR_STATE for ABP
 *   lw_dev_send(d,now,fport,p,n,conf)  queue one uplink (fport 1..223); LW_DEV_ERR_BUSY while a frame
 *                                      is in progress, LW_DEV_ERR_STATE if not joined, TOO_LONG if
 *                                      the payload cannot fit at the current DR
 *   lw_dev_request(d,cid)              add LinkCheckReq or DeviceTimeReq to the next uplink
 *   lw_dev_poll(d,now,tx)              advance timers; 1 and *tx filled when a frame must start now,
 *                                      else 0 (see lw_dev_next_us for when to call again)
 *   lw_dev_rx(d,t,freq,dr,phy,n,rssi,snr)  a downlink that started at time t was heard: 1 accepted,
 *                                      0 not for us / no open window (ignored), <0 rejected (MIC,
 *                                      FCnt, malformed), counted in d->stats
 *   lw_dev_next_us(d)                  the next time lw_dev_poll has work (UINT64_MAX: none)
 *   lw_dev_busy(d)                     true while a frame (incl. retransmissions/RX windows) is in progress
 *   lw_dev_event_pop(d,ev)             1 and *ev for the oldest queued event, 0 when none
 *   lw_dev_event_name(type)            static name of an LW_DEV_EV_*
 */
#ifndef TE_SIM_LW_DEVICE_H
#define TE_SIM_LW_DEVICE_H

#include "lorawan/airtime.h"
#include "lorawan/frame.h"
#include "lorawan/mac.h"
#include "lorawan/region.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    LW_DEV_ERR_BUSY = -40,  /* a frame is in progress */
    LW_DEV_ERR_STATE = -41, /* not joined (or ABP asked to join) */
    LW_DEV_ERR_FCNT_OLD = -43, /* downlink FCnt already used (replay) */
};

#define LW_DEV_RX_TOLERANCE_US 20000u /* a downlink may start this far from the window opening */
#define LW_DEV_MAX_EVENTS 16
#define LW_DEV_MAX_PAYLOAD 242
#define LW_DEV_MAX_MAC_ANS 8

typedef enum {
    LW_DEV_EV_NONE = 0,
    LW_DEV_EV_TX,             /* a = fcnt, b = 1 if retransmission, c = freq, d = dr */
    LW_DEV_EV_DEFERRED,       /* duty cycle: frame waits; c = microseconds of wait */
    LW_DEV_EV_JOIN_SENT,      /* a = DevNonce */
    LW_DEV_EV_JOINED,         /* a = DevAddr */
    LW_DEV_EV_JOIN_FAILED,    /* no JoinAccept after one attempt; a = attempt */
    LW_DEV_EV_DOWNLINK,       /* a = fcnt down, b = fport (-1 none), c = payload length (in d->rx_*) */
    LW_DEV_EV_ACKED,          /* confirmed uplink acknowledged; a = fcnt */
    LW_DEV_EV_UNACKED,        /* confirmed uplink gave up after NbTrans; a = fcnt */
    LW_DEV_EV_MAC,            /* a MAC command applied: a = cid, b = 1 accepted / 0 rejected */
    LW_DEV_EV_ADR_CHANGE,     /* a = new DR, b = new TX power index, c = NbTrans */
    LW_DEV_EV_ADR_BACKOFF,    /* ADRACKReq backoff stepped: a = DR, b = TX power index */
    LW_DEV_EV_LINK_CHECK,     /* a = margin, b = gateway count */
    LW_DEV_EV_DEVICE_TIME,    /* a = GPS seconds, b = fraction */
    LW_DEV_EV_RX_REJECTED,    /* a = LW_ERR_* reason */
} lw_dev_event_type;

typedef struct {
    uint8_t type;
    int32_t a, b;
    uint32_t c, d;
} lw_dev_event;

typedef struct {
    const lw_region *region;
    bool otaa;
    uint8_t dev_eui[8], join_eui[8];
    uint8_t app_key[16];
    /* ABP */
    uint32_t dev_addr;
    uint8_t nwk_s_key[16], app_s_key[16];
    /* radio/MAC defaults */
    uint8_t dr;          /* initial uplink data rate */
    bool adr;            /* set the ADR bit, run the ADRACKReq backoff */
    uint8_t battery;     /* DevStatusAns: 0 external, 1..254, 255 unknown */
    uint32_t seed;       /* channel choice and jitter */
    uint16_t dev_nonce;  /* first DevNonce to use (a persisted counter on real hardware) */
} lw_dev_config;

typedef struct {
    uint32_t tx_frames, retransmissions, deferred, joins_sent, joins_ok, joins_failed;
    uint32_t downlinks, rx_rejected, rx_missed_window, acked, unacked, mac_applied, mac_rejected;
    uint32_t adr_changes, adr_backoffs;
} lw_dev_stats;

/* a transmission the radio must start now */
typedef struct {
    uint32_t freq_hz;
    uint8_t dr;
    int8_t power_dbm;
    uint32_t airtime_us;
    size_t len;
    uint8_t phy[LW_PHY_MAX];
} lw_dev_tx;

typedef enum { LW_DEV_IDLE = 0, LW_DEV_TX_PENDING, LW_DEV_WAIT_RX, LW_DEV_WAIT_RETRY } lw_dev_phase;

typedef struct {
    lw_dev_config cfg;
    const lw_region *r;
    /* session */
    bool joined, joining;
    uint32_t dev_addr;
    uint8_t nwk_s_key[16], app_s_key[16];
    uint32_t fcnt_up;   /* next FCnt to use */
    uint32_t fcnt_down; /* next FCnt expected (any >= accepted) */
    bool fcnt_down_seen;
    uint16_t dev_nonce;
    uint32_t join_attempts;
    uint64_t join_first_us;
    /* MAC state */
    uint8_t dr, tx_power, nb_trans, rx1_dr_offset, rx2_dr, rx1_delay_s;
    uint32_t rx2_freq_hz;
    int8_t max_eirp_dbm;
    bool uplink_dwell, downlink_dwell;
    lw_chmask mask;
    uint32_t ch_freq[LW_CHANNELS_MAX]; /* 0 = undefined */
    uint32_t ch_dl_freq[LW_CHANNELS_MAX];
    uint8_t ch_dr_min[LW_CHANNELS_MAX], ch_dr_max[LW_CHANNELS_MAX];
    uint32_t adr_ack_cnt;
    lw_dc_tracker dc;
    /* pending MAC answers for the next uplink */
    lw_mac_cmd mac_ans[LW_DEV_MAX_MAC_ANS];
    size_t n_mac_ans;
    bool ack_pending; /* a confirmed downlink must be acknowledged */
    int8_t last_snr;
    /* the frame in progress */
    lw_dev_phase phase;
    bool cur_join, cur_confirmed;
    uint8_t cur_fport;
    uint8_t cur_payload[LW_DEV_MAX_PAYLOAD];
    size_t cur_len;
    uint32_t cur_fcnt;
    uint8_t cur_tries; /* transmissions done for this frame */
    uint8_t cur_max;   /* NbTrans (or join: 1) */
    bool cur_acked;
    uint8_t cur_payload_phy[LW_PHY_MAX]; /* the sealed frame, sent again unchanged */
    size_t cur_phy_len;
    uint16_t join_nonce_used;             /* DevNonce of the JoinRequest in flight */
    uint32_t tx_airtime_us;
    uint32_t rx2_freq_cur;
    uint64_t next_tx_us;
    bool deferred_counted;
    uint64_t tx_end_us;
    uint32_t tx_freq;
    int tx_channel;
    uint8_t tx_dr;
    uint64_t rx1_us, rx2_us;
    uint32_t rx1_freq;
    uint8_t rx1_dr, rx2_dr_cur;
    bool got_downlink; /* during this frame's windows */
    /* last application downlink */
    int rx_fport;
    uint8_t rx_payload[LW_DEV_MAX_PAYLOAD];
    size_t rx_len;
    /* prng, events, counters */
    uint32_t rng;
    lw_dev_event ev[LW_DEV_MAX_EVENTS];
    unsigned ev_head, ev_count;
    lw_dev_stats stats;
} lw_device;

int lw_dev_init(lw_device *d, const lw_dev_config *cfg);
int lw_dev_join(lw_device *d, uint64_t now_us);
int lw_dev_send(lw_device *d, uint64_t now_us, uint8_t fport, const uint8_t *p, size_t n, bool confirmed);
int lw_dev_request(lw_device *d, uint8_t cid);
int lw_dev_poll(lw_device *d, uint64_t now_us, lw_dev_tx *tx);
int lw_dev_rx(lw_device *d, uint64_t t_us, uint32_t freq_hz, uint8_t dr, const uint8_t *phy, size_t n, int rssi,
              int snr);
uint64_t lw_dev_next_us(const lw_device *d);
bool lw_dev_busy(const lw_device *d);
int lw_dev_event_pop(lw_device *d, lw_dev_event *ev);
const char *lw_dev_event_name(int type);

#endif
