/* LoRa/FSK time on air (integer arithmetic, exact to the microsecond for the LoRaWAN bandwidths)
 * and the per-band duty-cycle tracker. Pure C11, no allocation; also built for Cortex-M4. */
#include "lorawan/airtime.h"
#include <string.h>

bool lw_ldro_needed(uint8_t sf, uint32_t bw_hz) {
    /* Tsym = 2^SF / BW > 16 ms  <=>  2^SF * 1000 > 16 * BW */
    if (sf > 12 || bw_hz == 0) return false;
    return ((uint64_t)1 << sf) * 1000u > (uint64_t)bw_hz * 16u;
}

uint32_t lw_airtime_lora_us(uint8_t sf, uint32_t bw_hz, uint16_t payload_len, uint8_t coding_rate, bool crc,
                            bool explicit_header, uint16_t preamble, int ldro) {
    if (sf < 5 || sf > 12 || bw_hz == 0) return 0;
    if (coding_rate >= 5 && coding_rate <= 8) coding_rate = (uint8_t)(coding_rate - 4); /* 4/5..4/8 given as 5..8 */
    if (coding_rate < 1 || coding_rate > 4) return 0;
    int de = ldro < 0 ? (int)lw_ldro_needed(sf, bw_hz) : (ldro != 0);
    int ih = explicit_header ? 0 : 1;
    int64_t num = 8 * (int64_t)payload_len - 4 * sf + 28 + (crc ? 16 : 0) - 20 * ih;
    int64_t den = 4 * (sf - 2 * de);
    int64_t blocks = num > 0 ? (num + den - 1) / den : 0;
    uint64_t n_payload = 8 + (uint64_t)blocks * (uint64_t)(coding_rate + 4);
    /* count quarter symbols: preamble + 4.25 symbols, then the payload symbols */
    uint64_t quarters = 4u * (uint64_t)preamble + 17u + 4u * n_payload;
    uint64_t num_us = quarters * ((uint64_t)1 << sf) * 1000000u;
    uint64_t den_us = 4u * (uint64_t)bw_hz;
    uint64_t us = (num_us + den_us / 2) / den_us;
    return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

uint32_t lw_airtime_us(uint8_t sf, uint32_t bw_hz, uint16_t payload_len, uint8_t coding_rate, bool crc,
                       bool explicit_header, uint16_t preamble) {
    return lw_airtime_lora_us(sf, bw_hz, payload_len, coding_rate, crc, explicit_header, preamble, -1);
}

uint32_t lw_airtime_fsk_us(uint32_t bitrate, uint16_t payload_len, uint16_t preamble_bytes, bool crc) {
    if (bitrate == 0) return 0;
    uint64_t bytes = (uint64_t)preamble_bytes + 3u /* sync word */ + 1u /* length */ + payload_len + (crc ? 2u : 0u);
    uint64_t us = (bytes * 8u * 1000000u + bitrate / 2) / bitrate;
    return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

uint32_t lw_region_airtime_us(const lw_region *r, int dr, uint16_t phy_len, bool uplink) {
    const lw_dr_def *d = lw_region_dr(r, dr);
    if (!d) return 0;
    if (d->mod == LW_MOD_LORA) return lw_airtime_us(d->sf, d->bw_hz, phy_len, 1, uplink, true, LW_LORA_PREAMBLE);
    if (d->mod == LW_MOD_FSK) return lw_airtime_fsk_us(d->bw_hz, phy_len, LW_FSK_PREAMBLE_BYTES, true);
    return 0; /* LR-FHSS: not modelled */
}

/* ---------------------------------------------------------------- duty cycle */

uint64_t lw_dc_off_time_us(uint32_t airtime_us, uint32_t inverse) {
    if (inverse <= 1) return 0;
    return (uint64_t)airtime_us * (inverse - 1u);
}

void lw_dc_init(lw_dc_tracker *t, const lw_region *r) {
    if (!t) return;
    t->r = r;
    for (unsigned i = 0; i < LW_REGION_BANDS_MAX; i++) t->band_free_us[i] = 0;
    t->agg_free_us = 0;
    t->agg_inverse = 1;
}

void lw_dc_set_aggregated(lw_dc_tracker *t, uint32_t inverse) {
    if (t) t->agg_inverse = inverse ? inverse : 1;
}

static int band_idx(const lw_dc_tracker *t, uint32_t freq_hz) {
    if (!t || !t->r) return -1;
    int i = lw_region_band_index(t->r, lw_region_band_of(t->r, freq_hz));
    return i < LW_REGION_BANDS_MAX ? i : -1;
}

uint64_t lw_dc_next_tx_us(const lw_dc_tracker *t, uint32_t freq_hz, uint64_t now_us) {
    int b = band_idx(t, freq_hz);
    if (b < 0) return UINT64_MAX;
    uint64_t at = now_us;
    if (t->band_free_us[b] > at) at = t->band_free_us[b];
    if (t->agg_inverse > 1 && t->agg_free_us > at) at = t->agg_free_us;
    return at;
}

bool lw_dc_can_tx(const lw_dc_tracker *t, uint32_t freq_hz, uint64_t now_us) {
    return lw_dc_next_tx_us(t, freq_hz, now_us) == now_us;
}

int lw_dc_record(lw_dc_tracker *t, uint32_t freq_hz, uint64_t start_us, uint32_t airtime_us) {
    int b = band_idx(t, freq_hz);
    if (b < 0) return t ? LW_REGION_ERR_NO_BAND : LW_REGION_ERR_ARG;
    uint64_t end = start_us + airtime_us;
    uint64_t band_free = end + lw_dc_off_time_us(airtime_us, t->r->bands[b].dc_inverse);
    if (band_free > t->band_free_us[b]) t->band_free_us[b] = band_free;
    uint64_t agg_free = end + lw_dc_off_time_us(airtime_us, t->agg_inverse);
    if (agg_free > t->agg_free_us) t->agg_free_us = agg_free;
    return 0;
}

/* ---- sliding one-hour window (gateways) ---- */

void lw_dcw_init(lw_dc_window *w, const lw_region *r) {
    memset(w, 0, sizeof *w);
    w->r = r;
}

/* move the window so that bucket `b` exists; false if b is older than the window */
static bool dcw_slot(lw_dc_window *w, uint64_t b, unsigned *slot) {
    if (b > w->newest) {
        uint64_t gap = b - w->newest;
        if (gap >= LW_DCW_BUCKETS) gap = LW_DCW_BUCKETS;
        for (uint64_t k = 1; k <= gap; k++)
            for (unsigned band = 0; band < LW_REGION_BANDS_MAX; band++)
                w->used_us[band][(w->newest + k) % LW_DCW_BUCKETS] = 0;
        w->newest = b;
    }
    if (w->newest - b >= LW_DCW_BUCKETS) return false;
    *slot = (unsigned)(b % LW_DCW_BUCKETS);
    return true;
}

static int dcw_band(const lw_dc_window *w, uint32_t freq_hz) {
    if (!w || !w->r) return -1;
    const lw_band *b = lw_region_band_of(w->r, freq_hz);
    return b ? lw_region_band_index(w->r, b) : -1;
}

bool lw_dcw_can_tx(lw_dc_window *w, uint32_t freq_hz, uint64_t start_us, uint32_t airtime_us) {
    int band = dcw_band(w, freq_hz);
    if (band < 0) return false;
    unsigned slot;
    if (!dcw_slot(w, start_us / LW_DCW_BUCKET_US, &slot)) return false;
    uint64_t used = 0;
    for (unsigned i = 0; i < LW_DCW_BUCKETS; i++) used += w->used_us[band][i];
    uint64_t share = 3600ull * 1000000ull / (w->r->bands[band].dc_inverse ? w->r->bands[band].dc_inverse : 1);
    return used + airtime_us <= share;
}

int lw_dcw_record(lw_dc_window *w, uint32_t freq_hz, uint64_t start_us, uint32_t airtime_us) {
    int band = dcw_band(w, freq_hz);
    if (band < 0) return w && w->r ? LW_REGION_ERR_NO_BAND : LW_REGION_ERR_ARG;
    unsigned slot;
    if (!dcw_slot(w, start_us / LW_DCW_BUCKET_US, &slot)) return 0;
    w->used_us[band][slot] += airtime_us;
    return 0;
}

uint32_t lw_join_backoff_inverse(uint64_t since_first_us) {
    const uint64_t hour = 3600ull * 1000000ull;
    if (since_first_us < hour) return 100;       /* 36 s per hour */
    if (since_first_us < 11 * hour) return 1000; /* 36 s per 10 hours */
    return 10000;                                /* 8.7 s per 24 hours */
}
