/* Radio model of the simulator (pure, seeded, no I/O): a splitmix64 PRNG with uniform and Gaussian
 * draws, 2-D positions in a disc, log-distance path loss PL(d) = pl0 + 10 n log10(d / 1 m) dB,
 * thermal noise floor -174 + 10 log10(BW) + NF dBm, the LoRa demodulation floors per SF (SX1276:
 * SF7 -7.5 ... SF12 -20 dB SNR) and the co-channel capture rule: two frames overlapping in time on the
 * same frequency and SF collide; a frame survives only if it is at least capture_db stronger than
 * every frame it overlaps.
 *
 * Contract, one line per function:
 *   lw_rng_seed(g,seed) / lw_rng_next(g)   seed; next 64 random bits
 *   lw_rng_uniform(g)                      uniform double in [0,1)
 *   lw_rng_gauss(g)                        standard normal draw (Box-Muller)
 *   lw_radio_model_default(m)              pl0 40 dB, exponent 2.7, shadowing 6 dB, fading 2 dB, NF 6 dB, capture 6 dB
 *   lw_radio_disc_point(g,radius,&x,&y)    uniform point in a disc of that radius around (0,0)
 *   lw_radio_path_loss_db(m,d_m)           mean path loss at distance d (d < 1 m counts as 1 m)
 *   lw_radio_noise_floor_dbm(m,bw_hz)      thermal noise plus noise figure
 *   lw_radio_snr_floor_db(sf)              demodulation floor for SF 6..12 (NAN-free: 0 for others)
 *   lw_radio_link(m,tx_dbm,d_m,shadow_db,fade_db,bw,&rssi,&snr)  RSSI and SNR of one reception
 *   lw_radio_survives(sig,others,n,capture_db)  1 if sig is not destroyed by any overlapping others[]
 */
#ifndef TE_SIM_RADIO_H
#define TE_SIM_RADIO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s;
    bool has_spare;
    double spare;
} lw_rng;

typedef struct {
    double pl0_db;          /* loss at 1 m */
    double exponent;        /* path-loss exponent n */
    double shadow_sigma_db; /* per link, drawn once */
    double fading_sigma_db; /* per frame */
    double nf_db;           /* receiver noise figure */
    double capture_db;      /* capture threshold */
} lw_radio_model;

/* one frame as seen by one receiver */
typedef struct {
    uint64_t start_us, end_us;
    uint32_t freq_hz;
    uint8_t sf;
    double rssi_dbm;
} lw_radio_signal;

void lw_rng_seed(lw_rng *g, uint64_t seed);
uint64_t lw_rng_next(lw_rng *g);
double lw_rng_uniform(lw_rng *g);
double lw_rng_gauss(lw_rng *g);
void lw_radio_model_default(lw_radio_model *m);
void lw_radio_disc_point(lw_rng *g, double radius, double *x, double *y);
double lw_radio_path_loss_db(const lw_radio_model *m, double d_m);
double lw_radio_noise_floor_dbm(const lw_radio_model *m, uint32_t bw_hz);
double lw_radio_snr_floor_db(int sf);
void lw_radio_link(const lw_radio_model *m, double tx_dbm, double d_m, double shadow_db, double fade_db, uint32_t bw_hz,
                   double *rssi, double *snr);
bool lw_radio_survives(const lw_radio_signal *sig, const lw_radio_signal *others, size_t n, double capture_db);
#endif
