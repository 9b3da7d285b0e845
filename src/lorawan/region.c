/* LoRaWAN Regional Parameters: the EU868 and US915 tables (written from RP002-1.0.x and, for the
 * EU868 duty-cycle bands, ETSI EN 300 220-2 V3.2.1) and the small functions that read them.
 * Pure C11, constant data only: also built for Cortex-M4. Adding AS923/AU915/IN865 means adding
 * their tables and one `lw_region` entry to `regions[]` below. */
#include "lorawan/region.h"

#include <string.h>

/* the tables keep their row layout */
/* clang-format off */
#define LORA(sf, bw, d) {LW_MOD_LORA, (sf), (d), (bw)}
#define FSK(rate, d) {LW_MOD_FSK, 0, (d), (rate)}
#define LRFHSS(ocw, d) {LW_MOD_LRFHSS, 0, (d), (ocw)}
#define RFU {LW_MOD_NONE, 0, 0, 0}
#define NO_RX1 {-1, -1, -1, -1, -1, -1, -1, -1}
#define NOPL {0, 0}

/* ---------------------------------------------------------------- EU863-870 */

static const lw_dr_def eu868_dr[LW_DR_MAX] = {
    LORA(12, 125000, LW_DRDIR_BOTH), /* DR0 */
    LORA(11, 125000, LW_DRDIR_BOTH), /* DR1 */
    LORA(10, 125000, LW_DRDIR_BOTH), /* DR2 */
    LORA(9, 125000, LW_DRDIR_BOTH),  /* DR3 */
    LORA(8, 125000, LW_DRDIR_BOTH),  /* DR4 */
    LORA(7, 125000, LW_DRDIR_BOTH),  /* DR5 */
    LORA(7, 250000, LW_DRDIR_BOTH),  /* DR6 */
    FSK(50000, LW_DRDIR_BOTH),       /* DR7: GFSK 50 kbps */
    LRFHSS(137000, LW_DRDIR_UP),     /* DR8: LR-FHSS CR1/3, 137 kHz OCW (listed only) */
    LRFHSS(137000, LW_DRDIR_UP),     /* DR9: LR-FHSS CR2/3, 137 kHz OCW */
    LRFHSS(336000, LW_DRDIR_UP),     /* DR10: LR-FHSS CR1/3, 336 kHz OCW */
    LRFHSS(336000, LW_DRDIR_UP),     /* DR11: LR-FHSS CR2/3, 336 kHz OCW */
    RFU, RFU, RFU, RFU,            /* DR12..14 RFU, DR15 = "keep" in LinkADRReq */
};

/* M / N, repeater compatible (RP002 EU868 max payload table) */
static const lw_payload_size eu868_pl_rep[LW_DR_MAX] = {
    {59, 51}, {59, 51}, {59, 51}, {123, 115}, {230, 222}, {230, 222}, {230, 222}, {230, 222},
    NOPL, NOPL, NOPL, NOPL, NOPL, NOPL, NOPL, NOPL,
};
/* M / N, end-device never operating with a repeater */
static const lw_payload_size eu868_pl_norep[LW_DR_MAX] = {
    {59, 51}, {59, 51}, {59, 51}, {123, 115}, {250, 242}, {250, 242}, {250, 242}, {250, 242},
    NOPL, NOPL, NOPL, NOPL, NOPL, NOPL, NOPL, NOPL,
};

/* RX1 DR = table[uplink DR][RX1DROffset]; offsets 0..5 (6, 7 RFU) */
static const int8_t eu868_rx1[LW_DR_MAX][LW_RX1_OFFSET_MAX] = {
    {0, 0, 0, 0, 0, 0, -1, -1}, /* DR0 */
    {1, 0, 0, 0, 0, 0, -1, -1}, /* DR1 */
    {2, 1, 0, 0, 0, 0, -1, -1}, /* DR2 */
    {3, 2, 1, 0, 0, 0, -1, -1}, /* DR3 */
    {4, 3, 2, 1, 0, 0, -1, -1}, /* DR4 */
    {5, 4, 3, 2, 1, 0, -1, -1}, /* DR5 */
    {6, 5, 4, 3, 2, 1, -1, -1}, /* DR6 */
    {7, 6, 5, 4, 3, 2, -1, -1}, /* DR7 */
    NO_RX1, NO_RX1, NO_RX1, NO_RX1, /* DR8..11 LR-FHSS: not supported here */
    NO_RX1, NO_RX1, NO_RX1, NO_RX1,
};

/* The three default (join) channels 868.1/868.3/868.5 MHz, DR0..DR5. */
static const lw_channel_block eu868_up[] = {
    {0, 3, 868100000u, 200000u, 125000u, 0, 5, 0},
};

/* ETSI EN 300 220-2 V3.2.1 sub-bands used by LoRaWAN (limits are ERP 14 dBm = EIRP 16 dBm; band P
 * 27 dBm as in the LoRaWAN 1.0 g3 row). Frequencies between bands are not usable. */
static const lw_band eu868_bands[] = {
    {"K", "g", 863000000u, 865000000u, 1000, 16}, /* 0.1 % */
    {"L", "g", 865000000u, 868000000u, 100, 16},  /* 1 % */
    {"M", "g1", 868000000u, 868600000u, 100, 16}, /* 1 %: default channels */
    {"N", "g2", 868700000u, 869200000u, 1000, 16}, /* 0.1 % */
    {"P", "g3", 869400000u, 869650000u, 10, 27},  /* 10 %: RX2 869.525 MHz */
    {"Q", "g4", 869700000u, 870000000u, 100, 16}, /* 1 % */
};

/* ---------------------------------------------------------------- US902-928 */

static const lw_dr_def us915_dr[LW_DR_MAX] = {
    LORA(10, 125000, LW_DRDIR_UP),  /* DR0 */
    LORA(9, 125000, LW_DRDIR_UP),   /* DR1 */
    LORA(8, 125000, LW_DRDIR_UP),   /* DR2 */
    LORA(7, 125000, LW_DRDIR_UP),   /* DR3 */
    LORA(8, 500000, LW_DRDIR_UP),   /* DR4 */
    LRFHSS(1523000, LW_DRDIR_UP),   /* DR5: LR-FHSS CR1/3 1.523 MHz OCW (listed only) */
    LRFHSS(1523000, LW_DRDIR_UP),   /* DR6: LR-FHSS CR2/3 */
    RFU,                          /* DR7 */
    LORA(12, 500000, LW_DRDIR_DOWN), /* DR8 */
    LORA(11, 500000, LW_DRDIR_DOWN), /* DR9 */
    LORA(10, 500000, LW_DRDIR_DOWN), /* DR10 */
    LORA(9, 500000, LW_DRDIR_DOWN), /* DR11 */
    LORA(8, 500000, LW_DRDIR_DOWN), /* DR12 */
    LORA(7, 500000, LW_DRDIR_DOWN), /* DR13 */
    RFU, RFU,
};

/* The US915 tables already honour the FCC 400 ms dwell time on the 125 kHz channels. */
static const lw_payload_size us915_pl_rep[LW_DR_MAX] = {
    {19, 11}, {61, 53}, {133, 125}, {230, 222}, {230, 222}, NOPL, NOPL, NOPL,
    {41, 33}, {117, 109}, {230, 222}, {230, 222}, {230, 222}, {230, 222}, NOPL, NOPL,
};
static const lw_payload_size us915_pl_norep[LW_DR_MAX] = {
    {19, 11}, {61, 53}, {133, 125}, {250, 242}, {250, 242}, NOPL, NOPL, NOPL,
    {61, 53}, {137, 129}, {250, 242}, {250, 242}, {250, 242}, {250, 242}, NOPL, NOPL,
};

/* offsets 0..3 (4..7 RFU) */
static const int8_t us915_rx1[LW_DR_MAX][LW_RX1_OFFSET_MAX] = {
    {10, 9, 8, 8, -1, -1, -1, -1},    /* DR0 */
    {11, 10, 9, 8, -1, -1, -1, -1},   /* DR1 */
    {12, 11, 10, 9, -1, -1, -1, -1},  /* DR2 */
    {13, 12, 11, 10, -1, -1, -1, -1}, /* DR3 */
    {13, 13, 12, 11, -1, -1, -1, -1}, /* DR4 */
    NO_RX1, NO_RX1,                   /* DR5, DR6 LR-FHSS: not supported here */
    NO_RX1, NO_RX1, NO_RX1, NO_RX1, NO_RX1, NO_RX1, NO_RX1, NO_RX1, NO_RX1,
};

/* 64 x 125 kHz from 902.3 MHz step 200 kHz (DR0..3, 400 ms dwell), 8 x 500 kHz from 903.0 MHz
 * step 1.6 MHz (DR4). Every channel is a join channel. */
static const lw_channel_block us915_up[] = {
    {0, 64, 902300000u, 200000u, 125000u, 0, 3, 400},
    {64, 8, 903000000u, 1600000u, 500000u, 4, 4, 0},
};
/* 8 x 500 kHz downlink channels from 923.3 MHz step 600 kHz, DR8..13 */
static const lw_channel_block us915_down[] = {
    {0, 8, 923300000u, 600000u, 500000u, 8, 13, 0},
};
static const lw_band us915_bands[] = {
    {"ISM902-928", "", 902000000u, 928000000u, 1, 30}, /* FCC part 15: no duty cycle */
};

/* clang-format on */

/* ---------------------------------------------------------------- the regions */

#define COUNT(a) (uint8_t)(sizeof(a) / sizeof((a)[0]))

static const lw_region regions[] = {
    {
        .name = "EU868",
        .spec_name = "EU863-870",
        .freq_min_hz = 863000000u,
        .freq_max_hz = 870000000u,
        .dr = eu868_dr,
        .payload_rep = eu868_pl_rep,
        .payload_norep = eu868_pl_norep,
        .payload_dwell_rep = NULL,
        .payload_dwell_norep = NULL,
        .rx1_dr = eu868_rx1,
        .rx1_offset_max = 5,
        .rx1_freq_rule = LW_RX1_FREQ_SAME,
        .uplink = eu868_up,
        .n_uplink = COUNT(eu868_up),
        .downlink = NULL,
        .n_downlink = 0,
        .n_channels_max = 16,
        .chmask_kind = LW_CHMASK_DYNAMIC16,
        .cflist_type = 0,
        .rx2_freq_hz = 869525000u,
        .rx2_dr = 0,
        .default_uplink_dr_max = 5,
        .max_eirp_dbm = 16,
        .tx_power_max = 7,
        .tx_power_step_db = 2,
        .receive_delay1_ms = 1000,
        .receive_delay2_ms = 2000,
        .join_accept_delay1_ms = 5000,
        .join_accept_delay2_ms = 6000,
        .max_fcnt_gap = 16384,
        .adr_ack_limit = 64,
        .adr_ack_delay = 32,
        .ack_timeout_ms = 2000,
        .ack_timeout_jitter_ms = 1000,
        .bands = eu868_bands,
        .n_bands = COUNT(eu868_bands),
    },
    {
        .name = "US915",
        .spec_name = "US902-928",
        .freq_min_hz = 902000000u,
        .freq_max_hz = 928000000u,
        .dr = us915_dr,
        .payload_rep = us915_pl_rep,
        .payload_norep = us915_pl_norep,
        .payload_dwell_rep = NULL,
        .payload_dwell_norep = NULL,
        .rx1_dr = us915_rx1,
        .rx1_offset_max = 3,
        .rx1_freq_rule = LW_RX1_FREQ_DOWN_BLOCK,
        .uplink = us915_up,
        .n_uplink = COUNT(us915_up),
        .downlink = us915_down,
        .n_downlink = COUNT(us915_down),
        .n_channels_max = 72,
        .chmask_kind = LW_CHMASK_FIXED72,
        .cflist_type = 1,
        .rx2_freq_hz = 923300000u,
        .rx2_dr = 8,
        .default_uplink_dr_max = 4,
        .max_eirp_dbm = 30,
        .tx_power_max = 14,
        .tx_power_step_db = 2,
        .receive_delay1_ms = 1000,
        .receive_delay2_ms = 2000,
        .join_accept_delay1_ms = 5000,
        .join_accept_delay2_ms = 6000,
        .max_fcnt_gap = 16384,
        .adr_ack_limit = 64,
        .adr_ack_delay = 32,
        .ack_timeout_ms = 2000,
        .ack_timeout_jitter_ms = 1000,
        .bands = us915_bands,
        .n_bands = COUNT(us915_bands),
    },
};

/* ---------------------------------------------------------------- lookups */

static int ascii_lower(int c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

static bool name_eq(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b)) return false;
    return *a == *b;
}

const lw_region *lw_region_get(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++)
        if (name_eq(name, regions[i].name) || name_eq(name, regions[i].spec_name)) return &regions[i];
    return NULL;
}

size_t lw_region_count(void) { return sizeof(regions) / sizeof(regions[0]); }

const lw_region *lw_region_at(size_t i) { return i < lw_region_count() ? &regions[i] : NULL; }

const lw_dr_def *lw_region_dr(const lw_region *r, int dr) {
    if (!r || dr < 0 || dr >= LW_DR_MAX || r->dr[dr].mod == LW_MOD_NONE) return NULL;
    return &r->dr[dr];
}

int lw_region_max_payload_ex(const lw_region *r, int dr, bool repeater, bool uplink_dwell, unsigned *m, unsigned *n) {
    if (!r) return LW_REGION_ERR_ARG;
    if (dr < 0 || dr >= LW_DR_MAX) return LW_REGION_ERR_DR;
    const lw_payload_size *t = repeater ? r->payload_rep : r->payload_norep;
    if (uplink_dwell) {
        const lw_payload_size *d = repeater ? r->payload_dwell_rep : r->payload_dwell_norep;
        if (d) t = d;
    }
    if (t[dr].m == 0) return LW_REGION_ERR_DR;
    if (m) *m = t[dr].m;
    if (n) *n = t[dr].n;
    return 0;
}

unsigned lw_region_max_payload(const lw_region *r, int dr, bool repeater) {
    unsigned n = 0;
    if (lw_region_max_payload_ex(r, dr, repeater, false, NULL, &n) != 0) return 0;
    return n;
}

int lw_region_rx1_dr(const lw_region *r, int up_dr, int offset) {
    if (!r || up_dr < 0 || up_dr >= LW_DR_MAX || offset < 0 || offset > r->rx1_offset_max) return -1;
    return r->rx1_dr[up_dr][offset];
}

int lw_region_uplink_channel(const lw_region *r, uint32_t freq_hz) {
    if (!r) return -1;
    for (uint8_t b = 0; b < r->n_uplink; b++) {
        const lw_channel_block *c = &r->uplink[b];
        if (freq_hz < c->first_hz) continue;
        uint32_t d = freq_hz - c->first_hz;
        if (d % c->step_hz != 0) continue;
        uint32_t i = d / c->step_hz;
        if (i < c->count) return c->first_index + (int)i;
    }
    return -1;
}

uint32_t lw_region_rx1_freq(const lw_region *r, uint32_t up_freq_hz, int up_channel) {
    if (!r) return 0;
    if (r->rx1_freq_rule == LW_RX1_FREQ_SAME) {
        if (up_freq_hz < r->freq_min_hz || up_freq_hz > r->freq_max_hz) return 0;
        return up_freq_hz;
    }
    if (!r->downlink || r->n_downlink == 0) return 0;
    int ch = up_channel >= 0 ? up_channel : lw_region_uplink_channel(r, up_freq_hz);
    if (ch < 0 || ch >= r->n_channels_max) return 0;
    const lw_channel_block *d = &r->downlink[0];
    return d->first_hz + (uint32_t)(ch % d->count) * d->step_hz;
}

int lw_region_dr_find(const lw_region *r, int sf, uint32_t bw_hz, int dir) {
    if (!r) return -1;
    for (int i = 0; i < LW_DR_MAX; i++) {
        const lw_dr_def *d = &r->dr[i];
        if (!(d->dir & dir) || d->bw_hz != bw_hz) continue;
        if (d->mod == LW_MOD_LORA && d->sf == sf) return i;
        if (d->mod == LW_MOD_FSK && sf == 0) return i;
    }
    return -1;
}

int lw_region_dr_from_sf_bw(const lw_region *r, int sf, uint32_t bw_hz) {
    return lw_region_dr_find(r, sf, bw_hz, LW_DRDIR_BOTH);
}

/* reads a decimal number (at most 7 digits) at *p, advancing it; -1 if there is none */
static long read_uint(const char **p) {
    long v = 0;
    int digits = 0;
    while (**p >= '0' && **p <= '9' && digits < 7) {
        v = v * 10 + (**p - '0');
        (*p)++;
        digits++;
    }
    return digits ? v : -1;
}

int lw_region_dr_from_datr(const lw_region *r, const char *datr, int dir) {
    if (!r || !datr) return -1;
    const char *p = datr;
    if (ascii_lower((unsigned char)p[0]) != 's' || ascii_lower((unsigned char)p[1]) != 'f') return -1;
    p += 2;
    long sf = read_uint(&p);
    if (sf < 0 || ascii_lower((unsigned char)p[0]) != 'b' || ascii_lower((unsigned char)p[1]) != 'w') return -1;
    p += 2;
    long bw_khz = read_uint(&p);
    if (bw_khz <= 0 || *p != '\0') return -1;
    return lw_region_dr_find(r, (int)sf, (uint32_t)bw_khz * 1000u, dir);
}

static size_t put_uint(char *out, unsigned v) {
    char tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < sizeof tmp);
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

int lw_region_datr(const lw_region *r, int dr, char *buf, size_t cap) {
    const lw_dr_def *d = lw_region_dr(r, dr);
    if (!d || d->mod != LW_MOD_LORA || !buf) return -1;
    char tmp[24];
    size_t n = 0;
    tmp[n++] = 'S';
    tmp[n++] = 'F';
    n += put_uint(tmp + n, d->sf);
    tmp[n++] = 'B';
    tmp[n++] = 'W';
    n += put_uint(tmp + n, d->bw_hz / 1000u);
    if (n + 1 > cap) return -1;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return (int)n;
}

const lw_band *lw_region_band_of(const lw_region *r, uint32_t freq_hz) {
    if (!r) return NULL;
    for (uint8_t i = 0; i < r->n_bands; i++)
        if (freq_hz >= r->bands[i].lo_hz && freq_hz < r->bands[i].hi_hz) return &r->bands[i];
    return NULL;
}

int lw_region_band_index(const lw_region *r, const lw_band *band) {
    if (!r || !band || band < r->bands || band >= r->bands + r->n_bands) return -1;
    return (int)(band - r->bands);
}

int8_t lw_region_tx_power_dbm(const lw_region *r, int txpower, int8_t max_eirp_dbm) {
    if (!r || txpower < 0 || txpower > r->tx_power_max) return INT8_MIN;
    int base = max_eirp_dbm ? max_eirp_dbm : r->max_eirp_dbm;
    return (int8_t)(base - r->tx_power_step_db * txpower);
}

/* ---------------------------------------------------------------- channel masks */

void lw_region_chmask_default(const lw_region *r, lw_chmask *mask) {
    if (!mask) return;
    lw_chmask_clear_all(mask);
    if (!r) return;
    for (uint8_t b = 0; b < r->n_uplink; b++)
        for (unsigned i = 0; i < r->uplink[b].count; i++) lw_chmask_set(mask, r->uplink[b].first_index + i);
}

int lw_region_chmask_apply(const lw_region *r, const lw_chmask *defined, lw_chmask *mask, uint8_t cntl,
                           uint16_t chmask) {
    if (!r || !mask || cntl > 7) return LW_REGION_ERR_ARG;
    if (r->chmask_kind == LW_CHMASK_DYNAMIC16) {
        lw_chmask def;
        if (defined)
            def = *defined;
        else
            lw_region_chmask_default(r, &def);
        if (cntl == 0) {
            if (chmask & ~def.w[0]) return LW_REGION_ERR_CHMASK; /* enables an undefined channel */
            mask->w[0] = chmask;
            return 0;
        }
        if (cntl == 6) {
            *mask = def;
            return 0;
        }
        return LW_REGION_ERR_CHMASK; /* 1..5, 7 RFU */
    }
    /* LW_CHMASK_FIXED72; ChMask bits for channels 72..79 and bits 8..15 in cntl 5..7 are RFU, ignored */
    switch (cntl) {
    case 0:
    case 1:
    case 2:
    case 3:
        mask->w[cntl] = chmask;
        return 0;
    case 4:
        mask->w[4] = (uint16_t)(chmask & 0x00FFu);
        return 0;
    case 5:
        for (unsigned sb = 0; sb < 8; sb++) {
            bool on = (chmask >> sb) & 1u;
            for (unsigned i = 0; i < 8; i++) {
                if (on)
                    lw_chmask_set(mask, sb * 8 + i);
                else
                    lw_chmask_clear(mask, sb * 8 + i);
            }
            if (on)
                lw_chmask_set(mask, 64 + sb);
            else
                lw_chmask_clear(mask, 64 + sb);
        }
        return 0;
    case 6:
    case 7:
        for (unsigned i = 0; i < 4; i++) mask->w[i] = cntl == 6 ? 0xFFFFu : 0;
        mask->w[4] = (uint16_t)(chmask & 0x00FFu);
        return 0;
    default:
        return LW_REGION_ERR_CHMASK;
    }
}

static int plan_push(uint8_t *cntl, uint16_t *chmask, size_t max, size_t *n, uint8_t c, uint16_t m) {
    if (*n >= max) return LW_REGION_ERR_ARG;
    cntl[*n] = c;
    chmask[*n] = m;
    (*n)++;
    return 0;
}

int lw_region_chmask_plan(const lw_region *r, const lw_chmask *want, uint8_t *cntl, uint16_t *chmask, size_t max,
                          size_t *n) {
    if (!r || !want || !cntl || !chmask || !n) return LW_REGION_ERR_ARG;
    *n = 0;
    if (r->chmask_kind == LW_CHMASK_DYNAMIC16) {
        for (unsigned i = 1; i < LW_CHANNELS_MAX / 16; i++)
            if (want->w[i]) return LW_REGION_ERR_CHMASK;
        return plan_push(cntl, chmask, max, n, 0, want->w[0]);
    }
    uint16_t m500 = (uint16_t)(want->w[4] & 0x00FFu);
    bool all_on = true, all_off = true, banks = true;
    uint16_t bank_bits = 0;
    for (unsigned i = 0; i < 4; i++) {
        if (want->w[i] != 0xFFFFu) all_on = false;
        if (want->w[i] != 0) all_off = false;
        for (unsigned h = 0; h < 2; h++) {
            uint8_t byte = (uint8_t)(want->w[i] >> (8 * h));
            if (byte == 0xFF)
                bank_bits = (uint16_t)(bank_bits | (1u << (i * 2 + h)));
            else if (byte != 0)
                banks = false;
        }
    }
    if (all_on) return plan_push(cntl, chmask, max, n, 6, m500);
    if (banks && bank_bits == m500 && !all_off) return plan_push(cntl, chmask, max, n, 5, bank_bits);
    int rc = plan_push(cntl, chmask, max, n, 7, m500);
    for (uint8_t i = 0; i < 4 && rc == 0; i++)
        if (want->w[i]) rc = plan_push(cntl, chmask, max, n, i, want->w[i]);
    return rc;
}

/* ---------------------------------------------------------------- CFList */

void lw_cflist_build_freqs(const uint32_t freqs[5], uint8_t out[LW_CFLIST_SIZE]) {
    memset(out, 0, LW_CFLIST_SIZE);
    for (unsigned i = 0; i < 5; i++) {
        uint32_t v = freqs[i] / 100u; /* 100 Hz units, 24-bit little-endian */
        out[3 * i] = (uint8_t)v;
        out[3 * i + 1] = (uint8_t)(v >> 8);
        out[3 * i + 2] = (uint8_t)(v >> 16);
    }
    out[15] = 0;
}

void lw_cflist_build_chmask(const lw_chmask *mask, uint8_t out[LW_CFLIST_SIZE]) {
    memset(out, 0, LW_CFLIST_SIZE);
    for (unsigned i = 0; i < 5; i++) { /* ChMask0..4, 16-bit little-endian; then 5 RFU bytes */
        out[2 * i] = (uint8_t)mask->w[i];
        out[2 * i + 1] = (uint8_t)(mask->w[i] >> 8);
    }
    out[15] = 1;
}

int lw_cflist_parse(const uint8_t in[LW_CFLIST_SIZE], lw_cflist *out) {
    if (!in || !out) return LW_REGION_ERR_ARG;
    memset(out, 0, sizeof *out);
    out->type = in[15];
    if (in[15] == 0) {
        for (unsigned i = 0; i < 5; i++) {
            uint32_t v = (uint32_t)in[3 * i] | (uint32_t)in[3 * i + 1] << 8 | (uint32_t)in[3 * i + 2] << 16;
            if (v != 0 && v < 1000000u) return LW_REGION_ERR_CFLIST; /* below 100 MHz: RFU */
            out->freqs[i] = v * 100u;
        }
        return 0;
    }
    if (in[15] == 1) {
        for (unsigned i = 0; i < 5; i++) out->mask.w[i] = (uint16_t)(in[2 * i] | in[2 * i + 1] << 8);
        return 0;
    }
    return LW_REGION_ERR_CFLIST;
}
