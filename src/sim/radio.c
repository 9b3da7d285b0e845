/* Radio model of the simulator (see radio.h): PRNG, geometry, path loss, noise, capture effect. */
#include "sim/radio.h"

#include <math.h>

void lw_rng_seed(lw_rng *g, uint64_t seed) {
    g->s = seed;
    g->has_spare = false;
    g->spare = 0;
}

uint64_t lw_rng_next(lw_rng *g) { /* splitmix64 */
    uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double lw_rng_uniform(lw_rng *g) { return (double)(lw_rng_next(g) >> 11) * (1.0 / 9007199254740992.0); }

double lw_rng_gauss(lw_rng *g) {
    if (g->has_spare) {
        g->has_spare = false;
        return g->spare;
    }
    double u1 = lw_rng_uniform(g), u2 = lw_rng_uniform(g);
    if (u1 < 1e-300) u1 = 1e-300;
    double r = sqrt(-2.0 * log(u1)), a = 2.0 * M_PI * u2;
    g->spare = r * sin(a);
    g->has_spare = true;
    return r * cos(a);
}

void lw_radio_model_default(lw_radio_model *m) {
    m->pl0_db = 40.0;
    m->exponent = 2.7;
    m->shadow_sigma_db = 6.0;
    m->fading_sigma_db = 2.0;
    m->nf_db = 6.0;
    m->capture_db = 6.0;
}

void lw_radio_disc_point(lw_rng *g, double radius, double *x, double *y) {
    double r = radius * sqrt(lw_rng_uniform(g)), a = 2.0 * M_PI * lw_rng_uniform(g);
    *x = r * cos(a);
    *y = r * sin(a);
}

double lw_radio_path_loss_db(const lw_radio_model *m, double d_m) {
    if (!(d_m > 1.0)) d_m = 1.0;
    return m->pl0_db + 10.0 * m->exponent * log10(d_m);
}

double lw_radio_noise_floor_dbm(const lw_radio_model *m, uint32_t bw_hz) {
    return -174.0 + 10.0 * log10(bw_hz ? (double)bw_hz : 125000.0) + m->nf_db;
}

double lw_radio_snr_floor_db(int sf) {
    static const double fl[] = {-5.0, -7.5, -10.0, -12.5, -15.0, -17.5, -20.0}; /* SF6..SF12 */
    if (sf < 6 || sf > 12) return 0.0;
    return fl[sf - 6];
}

void lw_radio_link(const lw_radio_model *m, double tx_dbm, double d_m, double shadow_db, double fade_db, uint32_t bw_hz,
                   double *rssi, double *snr) {
    double r = tx_dbm - lw_radio_path_loss_db(m, d_m) - shadow_db - fade_db;
    if (rssi) *rssi = r;
    if (snr) *snr = r - lw_radio_noise_floor_dbm(m, bw_hz);
}

bool lw_radio_survives(const lw_radio_signal *sig, const lw_radio_signal *others, size_t n, double capture_db) {
    for (size_t i = 0; i < n; i++) {
        const lw_radio_signal *o = &others[i];
        if (o == sig) continue;
        if (o->freq_hz != sig->freq_hz || o->sf != sig->sf) continue;
        if (o->start_us >= sig->end_us || sig->start_us >= o->end_us) continue; /* no time overlap */
        if (sig->rssi_dbm < o->rssi_dbm + capture_db) return false;
    }
    return true;
}
