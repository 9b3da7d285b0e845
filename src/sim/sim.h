/* The simulated world of `tinyedge sim` (sans-I/O engine, pure C, no libuv): N class A devices
 * (lw_device) and M packet-forwarder gateways (lw_sgw) at random positions in a disc, joined by the
 * radio model (radio.h: path loss, shadowing, SNR floors, collisions with capture, half-duplex
 * gateways). Devices join (OTAA) or start at once (ABP), then send Cayenne LPP sensor readings
 * (temperature ch1, relative_humidity ch2, luminosity ch3, analog_in ch4 = battery volts; smooth
 * random walks, or rows from a caller's payload callback) every `interval` seconds (jittered 0.5..1.5x),
 * every Kth one confirmed. The caller moves datagrams between lw_sim_poll_out/lw_sim_input and the
 * network and calls lw_sim_step at lw_sim_next_us. Identities (EUIs, keys, DevAddr, ids) derive from
 * the seed, so a rerun with the same seed reuses earlier registrations.
 *
 * Contract, one line per function (ints: 0 or negative, message in err):
 *   lw_sim_config_default(c)             defaults: EU868, 10 devices, 1 gateway, radius 2000 m, 60 s
 *   lw_sim_identity_of(c,i,&id)          deterministic identity of device i
 *   lw_sim_gw_eui(c,j,eui)               deterministic EUI of gateway j
 *   lw_sim_init(s,c,now,err,errlen)      build the world (allocates); lw_sim_free(s) releases it
 *   lw_sim_step(s,now)                   do everything due at now (downlinks, receptions, uplinks)
 *   lw_sim_next_us(s)                    when lw_sim_step has work next
 *   lw_sim_poll_out(s,now,&gw,out,cap,&len)  1 and a datagram gateway gw must send, 0 when none
 *   lw_sim_input(s,gw,now,d,n)           a datagram from the server for gateway gw (bad ones counted)
 *   lw_sim_write_summary(s,f)            human-readable summary
 *   lw_sim_write_report(s,f)             JSON report: config, summary, gateways, devices, events
 */
#ifndef TE_SIM_SIM_H
#define TE_SIM_SIM_H
#include "sim/gateway.h"
#include "sim/lw_device.h"
#include "sim/radio.h"
#include <stdio.h>

#define LW_SIM_MAX_HEARD 16

typedef int (*lw_sim_payload_fn)(void *ud, unsigned dev, uint8_t *out, size_t cap);
typedef void (*lw_sim_log_fn)(void *ud, const char *line);

typedef struct {
    const lw_region *region;
    unsigned n_devices, n_gateways;
    double radius_m;
    uint64_t seed;
    double interval_s;
    unsigned confirmed_every; /* 0 = never */
    bool abp;
    int dr;                /* initial DR, -1 = per device the fastest with 5 dB margin to its best gateway */
    bool adr;
    lw_radio_model radio;
    uint64_t wall_base_us; /* unix time at simulation time 0 (for rxpk "time") */
    lw_sim_payload_fn payload; /* NULL = synthetic sensors */
    void *payload_ud;
    lw_sim_log_fn log;     /* one line per event, NULL = quiet */
    void *log_ud;
    size_t max_events;     /* kept for the report (default 100000) */
    const uint16_t *dev_nonces; /* first DevNonce per device (e.g. the server's last + 1), NULL = from the clock */
} lw_sim_config;

typedef struct {
    char dev_id[37]; /* LW_ID_MAX + 1 */
    uint8_t dev_eui[8], join_eui[8], app_key[16];
    uint32_t dev_addr;
    uint8_t nwk_s_key[16], app_s_key[16];
} lw_sim_identity;

typedef struct {
    uint64_t app_uplinks, uplink_skipped_busy, frames, heard[LW_SIM_MAX_HEARD + 1], lost_collision, lost_range,
        lost_gw_busy, deferred, joins_sent, joins_ok, joins_failed, downlinks_tx, downlinks_rx, downlinks_rejected,
        mac_applied, mac_rejected, adr_changes, adr_backoffs, confirmed_sent, acked, unacked;
} lw_sim_stats;

typedef struct lw_sim lw_sim;

void lw_sim_config_default(lw_sim_config *c);
void lw_sim_identity_of(const lw_sim_config *c, unsigned i, lw_sim_identity *id);
void lw_sim_gw_eui(const lw_sim_config *c, unsigned j, uint8_t eui[8]);
int lw_sim_init(lw_sim **out, const lw_sim_config *c, uint64_t now_us, char *err, size_t errlen);
void lw_sim_free(lw_sim *s);
void lw_sim_step(lw_sim *s, uint64_t now_us);
uint64_t lw_sim_next_us(const lw_sim *s);
int lw_sim_poll_out(lw_sim *s, uint64_t now_us, unsigned *gw, uint8_t *out, size_t cap, size_t *len);
int lw_sim_input(lw_sim *s, unsigned gw, uint64_t now_us, const uint8_t *d, size_t n);
const lw_sim_stats *lw_sim_stats_get(const lw_sim *s);
const lw_device *lw_sim_device(const lw_sim *s, unsigned i);
const lw_sgw *lw_sim_gateway(const lw_sim *s, unsigned j);
void lw_sim_write_summary(const lw_sim *s, FILE *f);
int lw_sim_write_report(const lw_sim *s, FILE *f);
#endif
