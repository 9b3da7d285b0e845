/* Time on air of LoRa and FSK frames, and a duty-cycle tracker, pure C11 (no allocation, no clock:
 * the caller passes time in), shared by the simulator's devices, the network server's downlink
 * scheduler and a Cortex-M4 build.
 *
 * LoRa (Semtech AN1200.13 / SX1276 datasheet 4.1.1.7), with Tsym = 2^SF / BW:
 *   Tpreamble = (Npreamble + 4.25) * Tsym
 *   Npayload  = 8 + max(ceil((8*PL - 4*SF + 28 + 16*CRC - 20*IH) / (4*(SF - 2*DE))) * (CR + 4), 0)
 *   T = Tpreamble + Npayload * Tsym
 * PL = PHYPayload bytes, CRC = 1 with payload CRC, IH = 1 for implicit header, DE = 1 with low data
 * rate optimisation (automatic: on when Tsym > 16 ms, i.e. SF11/SF12 at 125 kHz, SF12 at 250 kHz),
 * CR = 1..4 for 4/5..4/8. LoRaWAN: 8 preamble symbols, explicit header, CR 4/5, CRC on uplinks only.
 * FSK: (preamble bytes + 3 sync + 1 length + PL + 2 CRC) * 8 / bitrate; LoRaWAN uses 5 preamble
 * bytes and CRC in both directions. Results are microseconds, rounded to the nearest microsecond.
 *
 * Contract, one line per function:
 *   lw_airtime_us(sf,bw,len,cr,crc,explicit,preamble)  LoRa time on air in us (auto LDRO); 0 if args invalid
 *   lw_airtime_lora_us(...,ldro)               same with LDRO forced: 0 off, 1 on, -1 automatic
 *   lw_airtime_fsk_us(bitrate,len,preamble,crc)  FSK time on air in us; 0 if bitrate is 0
 *   lw_region_airtime_us(r,dr,phy_len,uplink)  time on air of a LoRaWAN PHYPayload at DR dr of r with
 *                                              the LoRaWAN settings above; 0 if dr is not LoRa/FSK
 *   lw_ldro_needed(sf,bw)                      1 if the symbol time exceeds 16 ms
 *   lw_dc_off_time_us(airtime,inverse)         silence after a frame under a 1/inverse duty cycle
 *   lw_dc_init(t,r)                            empty tracker for region r (every band free now)
 *   lw_dc_set_aggregated(t,inverse)            extra aggregated limit 1/inverse over all bands
 *                                              (0 or 1 = none); DutyCycleReq: inverse = 1 << MaxDCycle
 *   lw_dc_next_tx_us(t,freq,now)               earliest time >= now a frame may start on freq;
 *                                              UINT64_MAX if freq lies in no band of the region
 *   lw_dc_can_tx(t,freq,now)                   lw_dc_next_tx_us(t,freq,now) == now
 *   lw_dc_record(t,freq,start,airtime)         account a frame sent at start; 0 or LW_REGION_ERR_NO_BAND
 *   lw_dcw_init(w,r)                          a sliding-window duty-cycle account (gateways): per band, the
 *                                              airtime of the last hour in 60 one-minute buckets; ETSI EN
 *                                              300 220 measures duty cycle over one hour, so bursts are
 *                                              allowed as long as the hour's total stays within the band's
 *                                              share (1 %: 36 s), as The Things Stack schedules gateways
 *   lw_dcw_can_tx(w,freq,start_us,air_us)     true if air_us more at start_us keeps the band within its share
 *   lw_dcw_record(w,freq,start_us,air_us)     account a transmission; LW_REGION_ERR_NO_BAND outside the bands
 *   lw_join_backoff_inverse(since_first_us)    JoinRequest backoff duty cycle (TS001-1.0.4 retransmission backoff):
 *                                              1 % first hour, 0.1 % up to 11 h, then 0.01 %
 */
#ifndef TE_LORAWAN_AIRTIME_H
#define TE_LORAWAN_AIRTIME_H

#include "lorawan/region.h"
#include <stdbool.h>
#include <stdint.h>

#define LW_LORA_PREAMBLE 8
#define LW_FSK_PREAMBLE_BYTES 5

typedef struct {
    const lw_region *r;
    uint64_t band_free_us[LW_REGION_BANDS_MAX]; /* per band: no frame may start before */
    uint64_t agg_free_us;                       /* aggregated limit */
    uint32_t agg_inverse;                       /* 1 = no aggregated limit */
} lw_dc_tracker;

#define LW_DCW_BUCKETS 60
#define LW_DCW_BUCKET_US 60000000ull
typedef struct {
    const lw_region *r;
    uint64_t newest; /* bucket number (start_us / LW_DCW_BUCKET_US) of the newest bucket */
    uint32_t used_us[LW_REGION_BANDS_MAX][LW_DCW_BUCKETS];
} lw_dc_window;

uint32_t lw_airtime_us(uint8_t sf, uint32_t bw_hz, uint16_t payload_len, uint8_t coding_rate, bool crc,
                       bool explicit_header, uint16_t preamble);
uint32_t lw_airtime_lora_us(uint8_t sf, uint32_t bw_hz, uint16_t payload_len, uint8_t coding_rate, bool crc,
                            bool explicit_header, uint16_t preamble, int ldro);
uint32_t lw_airtime_fsk_us(uint32_t bitrate, uint16_t payload_len, uint16_t preamble_bytes, bool crc);
uint32_t lw_region_airtime_us(const lw_region *r, int dr, uint16_t phy_len, bool uplink);
bool lw_ldro_needed(uint8_t sf, uint32_t bw_hz);

uint64_t lw_dc_off_time_us(uint32_t airtime_us, uint32_t inverse);
void lw_dc_init(lw_dc_tracker *t, const lw_region *r);
void lw_dc_set_aggregated(lw_dc_tracker *t, uint32_t inverse);
uint64_t lw_dc_next_tx_us(const lw_dc_tracker *t, uint32_t freq_hz, uint64_t now_us);
bool lw_dc_can_tx(const lw_dc_tracker *t, uint32_t freq_hz, uint64_t now_us);
int lw_dc_record(lw_dc_tracker *t, uint32_t freq_hz, uint64_t start_us, uint32_t airtime_us);
void lw_dcw_init(lw_dc_window *w, const lw_region *r);
bool lw_dcw_can_tx(lw_dc_window *w, uint32_t freq_hz, uint64_t start_us, uint32_t airtime_us);
int lw_dcw_record(lw_dc_window *w, uint32_t freq_hz, uint64_t start_us, uint32_t airtime_us);
uint32_t lw_join_backoff_inverse(uint64_t since_first_us);

#endif
