/* ADR decision (ChirpStack's default algorithm, re-derived; see adr.h and docs/lorawan-adr.md):
 * uplink history ring, packet loss -> NbTrans table, SNR margin -> DR / TX power steps. */
#include "lorawan/adr.h"

#include <math.h>
#include <stddef.h>

#define SNR_NONE (-999.0f) /* max SNR of an empty history (as ChirpStack) */
#define STEP_CLAMP 64      /* more steps than any region has DRs plus power indices */

void lw_adr_init(lw_adr_state *s) {
    if (!s) return;
    s->last_fcnt = 0;
    for (unsigned i = 0; i < LW_ADR_HISTORY; i++) s->h[i] = (lw_adr_slot){0, 0, 0};
    s->head = 0;
    s->count = 0;
}

void lw_adr_reset(lw_adr_state *s) { lw_adr_init(s); }

unsigned lw_adr_history_len(const lw_adr_state *s) {
    if (!s) return 0;
    return s->count <= LW_ADR_HISTORY ? s->count : LW_ADR_HISTORY;
}

static const lw_adr_slot *slot_at(const lw_adr_state *s, unsigned i) {
    return &s->h[(s->head % LW_ADR_HISTORY + i) % LW_ADR_HISTORY];
}

static float snr_of(const lw_adr_slot *e) {
    if (e->snr_q == LW_ADR_SNR_NONE) return NAN; /* as it came in */
    return (float)e->snr_q * 0.25f;
}

static int8_t snr_quantize(float snr) {
    if (snr != snr) return LW_ADR_SNR_NONE;
    if (snr >= 31.75f) return 127;
    if (snr <= -31.75f) return -127;
    float q = snr * 4.0f;
    return (int8_t)(int)(q >= 0.0f ? q + 0.5f : q - 0.5f);
}

int lw_adr_history_at(const lw_adr_state *s, unsigned i, lw_adr_uplink *out) {
    unsigned n = lw_adr_history_len(s);
    if (!s || !out || i >= n) return -1;
    uint32_t fcnt = s->last_fcnt;
    for (unsigned j = n - 1; j > i; j--) fcnt -= (uint16_t)(slot_at(s, j)->fcnt_lo - slot_at(s, j - 1)->fcnt_lo);
    const lw_adr_slot *e = slot_at(s, i);
    out->fcnt = fcnt;
    out->max_snr = snr_of(e);
    out->tx_power_index = (uint8_t)(e->txp & LW_ADR_TXP_MASK);
    return 0;
}

void lw_adr_add_uplink(lw_adr_state *s, uint32_t fcnt, float max_snr, uint8_t tx_power_index) {
    if (!s) return;
    unsigned n = lw_adr_history_len(s);
    uint8_t flags = 0;
    if (n > 0) {
        /* a retransmission of the newest uplink (NbTrans > 1, or a replay) adds nothing */
        if (s->last_fcnt == fcnt) return;
        uint32_t d = fcnt - s->last_fcnt;
        if (d >= 0x80000000u) flags = LW_ADR_F_BACK;
        else if (d > 0xFFFFu) flags = LW_ADR_F_FAR;
    }
    lw_adr_slot e = {.fcnt_lo = (uint16_t)fcnt, .snr_q = snr_quantize(max_snr),
                     .txp = (uint8_t)((tx_power_index > LW_ADR_TXP_MASK ? LW_ADR_TXP_MASK : tx_power_index) | flags)};
    unsigned head = s->head % LW_ADR_HISTORY;
    if (n < LW_ADR_HISTORY) {
        s->h[(head + n) % LW_ADR_HISTORY] = e;
        s->head = (uint8_t)head;
        s->count = (uint8_t)(n + 1);
    } else { /* full: overwrite the oldest, which moves the head on */
        s->h[head] = e;
        s->head = (uint8_t)((head + 1) % LW_ADR_HISTORY);
        s->count = LW_ADR_HISTORY;
    }
    s->last_fcnt = fcnt;
}

/* Uplinks missing between consecutive entries. FCnt arithmetic is modulo 2^32 (a wrap of the 32-bit
 * counter is a step of one); a step backwards or of 2^31 and more counts as no loss, a jump of 65536
 * or more (flagged, only the low 16 bits are stored) as 65535. */
static uint64_t lost_packets(const lw_adr_state *s) {
    unsigned n = lw_adr_history_len(s);
    uint64_t lost = 0;
    for (unsigned i = 1; i < n; i++) {
        const lw_adr_slot *e = slot_at(s, i);
        if (e->txp & LW_ADR_F_BACK) continue;
        if (e->txp & LW_ADR_F_FAR) {
            lost += 0xFFFFu;
            continue;
        }
        uint16_t d = (uint16_t)(e->fcnt_lo - slot_at(s, i - 1)->fcnt_lo);
        if (d >= 1u) lost += d - 1u;
    }
    return lost;
}

float lw_adr_loss_percent(const lw_adr_state *s) {
    unsigned n = lw_adr_history_len(s);
    if (n < LW_ADR_HISTORY) return 0.0f;
    uint64_t lost = lost_packets(s);
    uint32_t lost32 = lost > UINT32_MAX ? UINT32_MAX : (uint32_t)lost; /* no 64-bit float helper on M4 */
    return (float)lost32 * 100.0f / (float)n;
}

/* ChirpStack's table: rows by loss (<5 %, <10 %, <30 %, else), columns by current NbTrans 1..3. The
 * row is chosen in integers (lost * 100 < limit * n) so that e.g. exactly 5 % is row 1. */
static uint8_t nb_trans_for(const lw_adr_state *s, uint8_t current) {
    static const uint8_t table[4][3] = {{1, 1, 2}, {1, 2, 3}, {2, 3, 3}, {3, 3, 3}};
    unsigned col = current < 1 ? 0u : current > 3 ? 2u : (unsigned)current - 1u;
    unsigned n = lw_adr_history_len(s), row = 0; /* 0 % loss until the history is full */
    if (n == LW_ADR_HISTORY) {
        uint64_t pct_x_n = lost_packets(s) * 100u; /* loss% * n */
        row = pct_x_n < 5u * n ? 0u : pct_x_n < 10u * n ? 1u : pct_x_n < 30u * n ? 2u : 3u;
    }
    return table[row][col];
}

float lw_adr_required_snr(int sf) {
    switch (sf) {
    case 6:
        return -5.0f;
    case 7:
        return -7.5f;
    case 8:
        return -10.0f;
    case 9:
        return -12.5f;
    case 10:
        return -15.0f;
    case 11:
        return -17.5f;
    case 12:
        return -20.0f;
    default:
        return 0.0f;
    }
}

int lw_adr_max_lora_dr(const lw_region *r) {
    if (!r) return -1;
    int best = -1;
    for (int dr = 0; dr < LW_DR_MAX; dr++) {
        const lw_dr_def *d = lw_region_dr(r, dr);
        if (d && d->mod == LW_MOD_LORA && d->bw_hz == 125000u && (d->dir & LW_DRDIR_UP)) best = dr;
    }
    return best;
}

void lw_adr_params_default(lw_adr_params *p, const lw_region *r) {
    if (!p) return;
    p->region = r;
    p->dr = 0;
    p->tx_power_index = 0;
    p->nb_trans = 1;
    p->max_dr = r ? r->default_uplink_dr_max : 0;
    p->max_tx_power_index = r ? r->tx_power_max : 0;
    p->installation_margin = LW_ADR_MARGIN_DEFAULT_DB;
}

static float history_max_snr(const lw_adr_state *s) {
    float m = SNR_NONE;
    unsigned n = lw_adr_history_len(s);
    for (unsigned i = 0; i < n; i++) {
        int8_t q = slot_at(s, i)->snr_q;
        if (q == LW_ADR_SNR_NONE) continue; /* NaN never compares greater: ignored */
        float v = (float)q * 0.25f;
        if (v > m) m = v;
    }
    return m;
}

static unsigned history_count_at_power(const lw_adr_state *s, uint8_t tx_power_index) {
    unsigned n = lw_adr_history_len(s), c = 0;
    if (tx_power_index > LW_ADR_TXP_MASK) tx_power_index = LW_ADR_TXP_MASK; /* stored clamped */
    for (unsigned i = 0; i < n; i++) c += (slot_at(s, i)->txp & LW_ADR_TXP_MASK) == tx_power_index;
    return c;
}

int lw_adr_decide(const lw_adr_state *s, const lw_adr_params *p, lw_adr_result *out) {
    if (!s || !p || !out || !p->region) return LW_REGION_ERR_ARG;
    float margin_db = p->installation_margin;
    if (!(margin_db > -1000.0f && margin_db < 1000.0f)) return LW_REGION_ERR_ARG; /* NaN, inf */
    const lw_dr_def *cur = lw_region_dr(p->region, p->dr);
    if (!cur) return LW_REGION_ERR_DR;

    uint8_t dr = p->dr, txp = p->tx_power_index;

    /* max DR: the configured one, but only up to the highest 125 kHz LoRa DR of the region */
    int lora_max = lw_adr_max_lora_dr(p->region);
    uint8_t max_dr = p->max_dr;
    if (lora_max < 0) lora_max = 0;
    if (max_dr > lora_max) max_dr = (uint8_t)lora_max;
    if (dr > max_dr) dr = max_dr;

    uint8_t nb_trans = nb_trans_for(s, p->nb_trans);

    float required = cur->mod == LW_MOD_LORA ? lw_adr_required_snr(cur->sf) : 0.0f;
    float margin = history_max_snr(s) - required - margin_db;
    float steps_f = margin / LW_ADR_STEP_DB;
    if (steps_f > (float)STEP_CLAMP) steps_f = (float)STEP_CLAMP;
    if (steps_f < (float)-STEP_CLAMP) steps_f = (float)-STEP_CLAMP;
    int n_step = (int)steps_f; /* C conversion truncates toward zero, as Rust's `as isize` */

    /* raising power needs a full history at the current power, or power would go up/down/up */
    bool wait = n_step < 0 && history_count_at_power(s, p->tx_power_index) != LW_ADR_HISTORY;
    if (!wait) {
        for (; n_step > 0; n_step--) {
            if (dr < max_dr)
                dr++;
            else if (txp < p->max_tx_power_index)
                txp++;
        }
        for (; n_step < 0; n_step++) {
            if (txp > 0) txp--;
        }
    }

    out->dr = dr;
    out->tx_power_index = txp;
    out->nb_trans = nb_trans;
    out->changed = dr != p->dr || txp != p->tx_power_index || nb_trans != p->nb_trans;
    out->n_step = (int8_t)(int)steps_f;
    out->snr_margin = margin;
    return 0;
}
