/* A simulated Semtech UDP packet-forwarder gateway (sans-I/O engine, pure C; the `tinyedge sim` loop
 * owns the socket): a concentrator counter (tmst, microseconds, wraps at 2^32, random offset), PULL_DATA
 * keepalives every 5 s, PUSH_DATA with the received rxpk (sent at once) and a stat object every 30 s,
 * PULL_RESP decoded and scheduled in a just-in-time queue, answered by a v2 TX_ACK with an error when
 * the downlink cannot be sent: TOO_LATE (tmst passed), TOO_EARLY (over 60 s ahead), COLLISION_PACKET
 * (overlaps a queued downlink, or queue full), TX_FREQ (frequency outside the region's bands),
 * TX_POWER (powe over 32 dBm), GPS_UNLOCKED (tmms: this gateway has no GPS).
 *
 * Contract, one line per function:
 *   lw_sgw_init(g,r,eui,tmst_offset,wall_base_us,now)   reset; first PULL_DATA due at once
 *   lw_sgw_tmst(g,now)                     concentrator counter at simulation time now
 *   lw_sgw_receive(g,now,freq,sf,bw_hz,rssi,snr,phy,n)  a frame ended at now: queue an rxpk; -1 if full
 *   lw_sgw_poll(g,now,out,cap,&len)        1 and a datagram to send (TX_ACK first, then PUSH_DATA,
 *                                          then PULL_DATA), 0 when nothing is due, <0 builder error
 *   lw_sgw_input(g,now,d,n,err,errlen)     handle a datagram from the server: PUSH_ACK, PULL_ACK or
 *                                          PULL_RESP (scheduled, TX_ACK queued); returns its identifier
 *                                          or a negative LW_GW_ERR_* (counted in bad_datagrams)
 *   lw_sgw_tx_due(g,now,&down)             1 and the oldest queued downlink whose start time has come
 *   lw_sgw_next_us(g)                      next time poll/tx_due has work
 */
#ifndef TE_SIM_GATEWAY_H
#define TE_SIM_GATEWAY_H
#include "lorawan/gwproto.h"
#include "lorawan/region.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_SGW_JIT_MAX 32
#define LW_SGW_TXACK_MAX 32
#define LW_SGW_PULL_EVERY_US 5000000u
#define LW_SGW_STAT_EVERY_US 30000000u
#define LW_SGW_TOO_EARLY_US 60000000u

typedef struct {
    uint64_t start_us;
    uint32_t airtime_us;
    uint32_t tmst;
    uint32_t freq_hz;
    uint8_t sf;
    uint16_t bw_khz;
    int8_t powe;
    bool ipol;
    uint16_t size;
    uint8_t data[LW_GW_MAX_PAYLOAD];
} lw_sgw_down;

typedef struct {
    uint32_t rxnb, rxok, rxfw, dwnb, txnb;
    uint32_t push_sent, push_acked, pull_sent, pull_acked, pull_resp, bad_datagrams, rx_dropped;
    uint32_t tx_err[8]; /* TX_ACKs sent per LW_GW_TXERR_* code */
} lw_sgw_stats;

typedef struct {
    const lw_region *r;
    uint8_t eui[8];
    uint32_t tmst_offset;
    uint64_t wall_base_us; /* unix time in us at simulation time 0 (0: no "time" members) */
    uint64_t next_pull_us, next_stat_us;
    uint16_t token;
    lw_gw_rxpk rx[LW_GW_MAX_RXPK];
    size_t n_rx;
    struct {
        uint16_t token;
        uint8_t error;
    } txack[LW_SGW_TXACK_MAX];
    size_t n_txack;
    lw_sgw_down jit[LW_SGW_JIT_MAX];
    size_t n_jit;
    lw_sgw_stats stats;
} lw_sgw;

void lw_sgw_init(lw_sgw *g, const lw_region *r, const uint8_t eui[8], uint32_t tmst_offset, uint64_t wall_base_us,
                 uint64_t now_us);
uint32_t lw_sgw_tmst(const lw_sgw *g, uint64_t now_us);
int lw_sgw_receive(lw_sgw *g, uint64_t now_us, uint32_t freq_hz, uint8_t sf, uint32_t bw_hz, double rssi, double snr,
                   const uint8_t *phy, size_t n);
int lw_sgw_poll(lw_sgw *g, uint64_t now_us, uint8_t *out, size_t cap, size_t *len);
int lw_sgw_input(lw_sgw *g, uint64_t now_us, const uint8_t *d, size_t n, char *err, size_t errlen);
int lw_sgw_tx_due(lw_sgw *g, uint64_t now_us, lw_sgw_down *down);
uint64_t lw_sgw_next_us(const lw_sgw *g);
#endif
