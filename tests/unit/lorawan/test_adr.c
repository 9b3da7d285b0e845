/* tests/unit/lorawan/test_adr: the network-side ADR decision (ChirpStack's default algorithm):
 * SNR margin -> DR / TX power steps, NbTrans from packet loss, history length and wrap, FCnt gaps,
 * and the EU868 / US915 max-DR limits. Every expected value is worked out by hand in a comment:
 *   margin = maxSNR - requiredSNR(SF of the current DR) - installation margin (10 dB unless said)
 *   nStep  = margin / 3 truncated toward zero
 *   loss   = lost FCnts / 20 * 100 %, NbTrans table rows <5 / <10 / <30 / else:
 *            {1,1,2} {1,2,3} {2,3,3} {3,3,3}, column = current NbTrans 1..3 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* cmocka needs the headers above first */
#include <cmocka.h>

#include "lorawan/adr.h"

static const lw_region *eu(void) { return lw_region_get("EU868"); }
static const lw_region *us(void) { return lw_region_get("US915"); }

/* n uplinks with consecutive FCnts from fcnt0, all with the same SNR and TX power index */
/* entry i of the history, which must exist */
static lw_adr_uplink at(const lw_adr_state *s, unsigned i) {
    lw_adr_uplink u;
    assert_int_equal(lw_adr_history_at(s, i, &u), 0);
    return u;
}

static void fill(lw_adr_state *s, unsigned n, uint32_t fcnt0, float snr, uint8_t txp) {
    for (unsigned i = 0; i < n; i++) lw_adr_add_uplink(s, fcnt0 + i, snr, txp);
}

/* 20 uplinks with `lost` single-FCnt gaps: FCnt(i) = i + min(i, lost), so the first `lost`
 * transitions skip one FCnt each (0,2,4,..) and the rest are consecutive. lost <= 19. */
static void fill_lost(lw_adr_state *s, unsigned lost, float snr, uint8_t txp) {
    for (unsigned i = 0; i < LW_ADR_HISTORY; i++) lw_adr_add_uplink(s, i + (i < lost ? i : lost), snr, txp);
}

static lw_adr_params params(const lw_region *r, uint8_t dr, uint8_t txp, uint8_t nb) {
    lw_adr_params p;
    lw_adr_params_default(&p, r);
    p.dr = dr;
    p.tx_power_index = txp;
    p.nb_trans = nb;
    return p;
}

static void decide_ok(const lw_adr_state *s, const lw_adr_params *p, lw_adr_result *out) {
    memset(out, 0x55, sizeof(*out));
    assert_int_equal(lw_adr_decide(s, p, out), 0);
}

static void tables_and_defaults(void **st) {
    (void)st;
    assert_true(lw_adr_required_snr(7) == -7.5f);
    assert_true(lw_adr_required_snr(8) == -10.0f);
    assert_true(lw_adr_required_snr(9) == -12.5f);
    assert_true(lw_adr_required_snr(10) == -15.0f);
    assert_true(lw_adr_required_snr(11) == -17.5f);
    assert_true(lw_adr_required_snr(12) == -20.0f);
    assert_true(lw_adr_required_snr(0) == 0.0f); /* FSK / unknown */
    /* EU868: DR0..5 SF12..SF7 at 125 kHz, DR6 SF7/250 kHz, DR7 FSK -> DR5.
     * US915: DR0..3 SF10..SF7 at 125 kHz, DR4 SF8/500 kHz -> DR3. */
    assert_int_equal(lw_adr_max_lora_dr(eu()), 5);
    assert_int_equal(lw_adr_max_lora_dr(us()), 3);
    assert_int_equal(lw_adr_max_lora_dr(NULL), -1);

    lw_adr_params p = params(eu(), 0, 0, 1);
    assert_int_equal(p.max_dr, 5);             /* EU868 default_uplink_dr_max */
    assert_int_equal(p.max_tx_power_index, 7); /* EU868 TXPower 0..7 */
    assert_true(p.installation_margin == 10.0f);
    p = params(us(), 0, 0, 1);
    assert_int_equal(p.max_dr, 4);
    assert_int_equal(p.max_tx_power_index, 14);
}

/* EU868 DR0 = SF12 (required -20 dB). Best SNR -3.5 dB (the max of -10, -3.5, -8 over the history):
 * margin = -3.5 + 20 - 10 = 6.5 dB, nStep = 6.5 / 3 = 2.17 -> 2: DR0 -> DR2, power unchanged. */
static void margin_gives_two_dr_steps(void **st) {
    (void)st;
    lw_adr_state s;
    lw_adr_init(&s);
    for (uint32_t i = 0; i < 20; i++) lw_adr_add_uplink(&s, i, i == 7 ? -3.5f : (i % 2 ? -10.0f : -8.0f), 0);
    lw_adr_params p = params(eu(), 0, 0, 1);
    lw_adr_result r;
    decide_ok(&s, &p, &r);
    assert_int_equal(r.dr, 2);
    assert_int_equal(r.tx_power_index, 0);
    assert_int_equal(r.nb_trans, 1); /* no loss: row 0, column 1 -> 1 */
    assert_true(r.changed);
    assert_int_equal(r.n_step, 2);
    assert_true(r.snr_margin == 6.5f);
}

/* Positive steps do not wait for a full history (ChirpStack acts on the first uplink):
 * one uplink at SNR -3.5 on DR0 gives the same +2 DR as above. */
static void positive_steps_act_on_short_history(void **st) {
    (void)st;
    lw_adr_state s;
    lw_adr_init(&s);
    lw_adr_add_uplink(&s, 100, -3.5f, 0);
    lw_adr_params p = params(eu(), 0, 0, 1);
    lw_adr_result r;
    decide_ok(&s, &p, &r);
    assert_int_equal(r.dr, 2);
    assert_int_equal(r.tx_power_index, 0);
    assert_true(r.changed);
}

static void at_max_dr_steps_lower_power(void **st) {
    (void)st;
    lw_adr_state s;
    lw_adr_result r;
    /* EU868 DR4 = SF8 (-10 dB), SNR 9: margin = 9 + 10 - 10 = 9, nStep 3:
     * DR4 -> DR5 (max), then TX power index 1 -> 2 -> 3 */
    lw_adr_init(&s);
    fill(&s, 20, 0, 9.0f, 1);
    lw_adr_params p = params(eu(), 4, 1, 1);
    decide_ok(&s, &p, &r);
    assert_int_equal(r.dr, 5);
    assert_int_equal(r.tx_power_index, 3);
    assert_true(r.changed);

    /* EU868 DR5 = SF7 (-7.5 dB), SNR 20: margin = 20 + 7.5 - 10 = 17.5, nStep = 5.83 -> 5:
     * index 5 -> 6 -> 7 (EU868 max), the last 3 steps find nothing to do */
    lw_adr_init(&s);
    fill(&s, 20, 0, 20.0f, 5);
    p = params(eu(), 5, 5, 1);
    decide_ok(&s, &p, &r);
    assert_int_equal(r.dr, 5);
    assert_int_equal(r.tx_power_index, 7);
    assert_int_equal(r.n_step, 5);

    /* same, but the device supports indices 0..3 only: 2 -> 3, then stuck */
    lw_adr_init(&s);
    fill(&s, 20, 0, 20.0f, 2);
    p = params(eu(), 5, 2, 1);
    p.max_tx_power_index = 3;
    decide_ok(&s, &p, &r);
    assert_int_equal(r.dr, 5);
    assert_int_equal(r.tx_power_index, 3);

    /* already at DR5 and the max index: nothing changes */
    lw_adr_init(&s);
    fill(&s, 20, 0, 20.0f, 7);
    p = params(eu(), 5, 7, 1);
    decide_ok(&s, &p, &r);
    assert_int_equal(r.dr, 5);
    assert_int_equal(r.tx_power_index, 7);
    assert_false(r.changed);
}

/* EU868 DR5 = SF7 (-7.5 dB), SNR -5: margin = -5 + 7.5 - 10 = -7.5, nStep = -2.5 -> -2 (toward 0):
 * index 5 -> 3; the network then clears the history (LinkADRReq acked), 20 more uplinks at index 3
 * -> 1, then -> 0 (saturates: one of the two steps has nothing to do), then stays at 0 (max power).
 * The DR never drops. */
static void negative_margin_raises_power_stepwise(void **st) {
    (void)st;
    static const uint8_t from[] = {5, 3, 1, 0}, to[] = {3, 1, 0, 0};
    lw_adr_state s;
    lw_adr_result r;
    for (unsigned k = 0; k < 4; k++) {
        lw_adr_reset(&s);
        fill(&s, 20, 1000 + 20 * k, -5.0f, from[k]);
        lw_adr_params p = params(eu(), 5, from[k], 1);
        decide_ok(&s, &p, &r);
        assert_int_equal(r.n_step, -2);
        assert_int_equal(r.dr, 5);
        assert_int_equal(r.tx_power_index, to[k]);
        assert_int_equal(r.changed, from[k] != to[k]);
    }

    /* SNR 0: margin = 0 + 7.5 - 10 = -2.5, nStep = -0.83 -> 0 (truncation, as ChirpStack): no change */
    lw_adr_reset(&s);
    fill(&s, 20, 0, 0.0f, 4);
    lw_adr_params p = params(eu(), 5, 4, 1);
    decide_ok(&s, &p, &r);
    assert_int_equal(r.n_step, 0);
    assert_int_equal(r.tx_power_index, 4);
    assert_false(r.changed);

    /* EU868 DR0 = SF12 (-20 dB), SNR -31: margin = -31 + 20 - 10 = -21, nStep -7: index 2 -> 0,
     * and DR0 stays DR0 */
    lw_adr_reset(&s);
    fill(&s, 20, 0, -31.0f, 2);
    p = params(eu(), 0, 2, 1);
    decide_ok(&s, &p, &r);
    assert_int_equal(r.n_step, -7);
    assert_int_equal(r.dr, 0);
    assert_int_equal(r.tx_power_index, 0);
}

/* Compact storage: SNR in 0.25 dB steps (nearest), clamped to +-31.75 dB, NaN kept as "none" (ignored
 * by the max); TX power index clamped to 63; a jump of 65536+ FCnts counts as >= 30 % loss. */
static void compact_storage(void **st) {
    (void)st;
    lw_adr_state s;
    lw_adr_init(&s);
    assert_true(sizeof s <= 88);
    lw_adr_add_uplink(&s, 1, 7.8f, 3);    /* -> 7.75 */
    lw_adr_add_uplink(&s, 2, -11.2f, 70); /* -> -11.25, index 63 */
    lw_adr_add_uplink(&s, 3, -40.0f, 0);  /* -> -31.75 */
    lw_adr_add_uplink(&s, 4, 45.0f, 0);   /* -> 31.75 */
    lw_adr_add_uplink(&s, 5, 0.0f / 0.0f, 0);
    assert_true(at(&s, 0).max_snr == 7.75f);
    assert_int_equal(at(&s, 0).tx_power_index, 3);
    assert_true(at(&s, 1).max_snr == -11.25f);
    assert_int_equal(at(&s, 1).tx_power_index, 63);
    assert_true(at(&s, 2).max_snr == -31.75f);
    assert_true(at(&s, 3).max_snr == 31.75f);
    float nan = at(&s, 4).max_snr;
    assert_true(nan != nan);
    assert_int_equal(at(&s, 4).fcnt, 5);
    /* NaN ignored by the max: margin from 31.75 (EU868 DR5 SF7: 31.75 + 7.5 - 10 = 29.25) */
    lw_adr_params p = params(eu(), 5, 0, 1);
    lw_adr_result r;
    decide_ok(&s, &p, &r);
    assert_true(r.snr_margin == 29.25f);

    /* 19 consecutive uplinks then a jump of 70000: the stored step is flagged, loss >= 30 % */
    lw_adr_reset(&s);
    fill(&s, 19, 100, 2.5f, 0);
    lw_adr_add_uplink(&s, 118 + 70000, 2.5f, 0);
    assert_true(lw_adr_loss_percent(&s) >= 30.0f);
    p = params(eu(), 5, 0, 1);
    decide_ok(&s, &p, &r);
    assert_int_equal(r.nb_trans, 3); /* row >= 30 %, column NbTrans 1 */
    assert_int_equal(at(&s, 19).fcnt, 118 + 70000);
    /* then consecutive again: the jump leaves the history after 19 more uplinks */
    fill(&s, 19, 118 + 70001, 2.5f, 0);
    assert_true(lw_adr_loss_percent(&s) == 0.0f);
    assert_int_equal(at(&s, 0).fcnt, 118 + 70000);
    assert_int_equal(at(&s, 19).fcnt, 118 + 70019);
}

/* Loss -> NbTrans. EU868 DR5 = SF7, SNR 2.5: margin = 2.5 + 7.5 - 10 = 0, nStep 0 (DR/power fixed). */
static void nb_trans_from_loss(void **st) {
    (void)st;
    struct {
        unsigned lost;    /* FCnt gaps over the 20 entries */
        uint8_t nb, want; /* current NbTrans -> new */
    } cases[] = {
        {0, 1, 1}, {0, 2, 1}, {0, 3, 2},  /* 0 %: row {1,1,2} */
        {1, 1, 1}, {1, 2, 2}, {1, 3, 3},  /* 1/20 = 5 %, not < 5: row {1,2,3} */
        {2, 1, 2}, {2, 2, 3}, {2, 3, 3},  /* 2/20 = 10 %: row {2,3,3} */
        {5, 1, 2},                        /* 25 %: row {2,3,3} */
        {6, 1, 3}, {6, 2, 3}, {19, 3, 3}, /* 30 %, 95 %: row {3,3,3} */
        {0, 0, 1}, {6, 9, 3},             /* NbTrans 0 counts as 1, 9 as 3 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lw_adr_state s;
        lw_adr_init(&s);
        fill_lost(&s, cases[i].lost, 2.5f, 0);
        lw_adr_params p = params(eu(), 5, 0, cases[i].nb);
        lw_adr_result r;
        decide_ok(&s, &p, &r);
        assert_int_equal(r.n_step, 0);
        assert_int_equal(r.dr, 5);
        assert_int_equal(r.tx_power_index, 0);
        assert_int_equal(r.nb_trans, cases[i].want);
        assert_int_equal(r.changed, cases[i].nb != cases[i].want);
    }
    lw_adr_state s;
    lw_adr_init(&s);
    fill_lost(&s, 2, 2.5f, 0);
    assert_true(lw_adr_loss_percent(&s) == 10.0f); /* 2 / 20 * 100 */
}

/* FCnt gaps are loss wherever they fall, including across the 32-bit wrap; a counter going
 * backwards is not loss (and not a negative loss). */
static void fcnt_gaps_counted_as_loss(void **st) {
    (void)st;
    lw_adr_state s;
    lw_adr_init(&s);
    /* 0..18 then 25: one gap of 6 (19..24 missing) -> 6/20 = 30 % */
    fill(&s, 19, 0, 2.5f, 0);
    lw_adr_add_uplink(&s, 25, 2.5f, 0);
    assert_true(lw_adr_loss_percent(&s) == 30.0f);
    lw_adr_params p = params(eu(), 5, 0, 1);
    lw_adr_result r;
    decide_ok(&s, &p, &r);
    assert_int_equal(r.nb_trans, 3);

    /* 0xFFFFFFF6..0xFFFFFFFF (10) then 0..9 (10): consecutive modulo 2^32 -> 0 % */
    lw_adr_init(&s);
    fill(&s, 20, 0xFFFFFFF6u, 2.5f, 0);
    assert_int_equal(at(&s, 10).fcnt, 0);
    assert_true(lw_adr_loss_percent(&s) == 0.0f);

    /* ..., 0xFFFFFFFE, then 1: 0xFFFFFFFF and 0 missing -> 2/20 = 10 % */
    lw_adr_init(&s);
    fill(&s, 19, 0xFFFFFFFEu - 18u, 2.5f, 0);
    lw_adr_add_uplink(&s, 1, 2.5f, 0);
    assert_true(lw_adr_loss_percent(&s) == 10.0f);

    /* 100..118 then 5 (backwards): no loss counted */
    lw_adr_init(&s);
    fill(&s, 19, 100, 2.5f, 0);
    lw_adr_add_uplink(&s, 5, 2.5f, 0);
    assert_true(lw_adr_loss_percent(&s) == 0.0f);
}

/* Before 20 uplinks at the current TX power index, a negative margin changes nothing, and loss
 * counts as 0 % (so NbTrans can only go down, as ChirpStack). EU868 DR5 = SF7, SNR -5:
 * margin -7.5, nStep -2 (see above). */
static void short_history_no_change(void **st) {
    (void)st;
    lw_adr_state s;
    lw_adr_result r;
    lw_adr_params p = params(eu(), 5, 5, 1);

    lw_adr_init(&s); /* empty: max SNR -999 -> hugely negative, still waits */
    decide_ok(&s, &p, &r);
    assert_int_equal(r.dr, 5);
    assert_int_equal(r.tx_power_index, 5);
    assert_int_equal(r.nb_trans, 1);
    assert_false(r.changed);

    /* 19 uplinks with a 5-FCnt gap: loss would be 25 %, but the history is not full -> 0 % */
    fill(&s, 10, 0, -5.0f, 5);
    fill(&s, 9, 15, -5.0f, 5);
    assert_int_equal(lw_adr_history_len(&s), 19);
    assert_true(lw_adr_loss_percent(&s) == 0.0f);
    decide_ok(&s, &p, &r);
    assert_int_equal(r.n_step, -2);
    assert_int_equal(r.tx_power_index, 5);
    assert_int_equal(r.nb_trans, 1);
    assert_false(r.changed);
    p.nb_trans = 2; /* 0 % with NbTrans 2 -> 1 */
    decide_ok(&s, &p, &r);
    assert_int_equal(r.nb_trans, 1);
    assert_int_equal(r.tx_power_index, 5);
    assert_true(r.changed);

    /* 20 entries, but the oldest was sent at index 4: 19 at the current index -> still waits */
    lw_adr_init(&s);
    lw_adr_add_uplink(&s, 0, -5.0f, 4);
    fill(&s, 19, 1, -5.0f, 5);
    p.nb_trans = 1;
    decide_ok(&s, &p, &r);
    assert_int_equal(r.tx_power_index, 5);
    assert_false(r.changed);
    /* one more at index 5 pushes the index-4 entry out: 20 at index 5 -> 5 - 2 = 3 */
    lw_adr_add_uplink(&s, 20, -5.0f, 5);
    decide_ok(&s, &p, &r);
    assert_int_equal(r.tx_power_index, 3);
    assert_true(r.changed);
}

static void history_wraps_after_20(void **st) {
    (void)st;
    lw_adr_state s;
    lw_adr_init(&s);
    /* FCnt 0..24, the first five with SNR +30: after the wrap entries 5..24 remain, all at -5 dB.
     * EU868 DR5, index 3: margin = -5 + 7.5 - 10 = -7.5 -> -2 -> index 1. (Had the +30 dB entries
     * stayed, the margin would be +27.5 and the index would go up instead.) */
    for (uint32_t i = 0; i < 25; i++) lw_adr_add_uplink(&s, i, i < 5 ? 30.0f : -5.0f, 3);
    assert_int_equal(lw_adr_history_len(&s), 20);
    assert_int_equal(at(&s, 0).fcnt, 5);
    assert_int_equal(at(&s, 19).fcnt, 24);
    lw_adr_uplink none;
    assert_int_equal(lw_adr_history_at(&s, 20, &none), -1);
    lw_adr_params p = params(eu(), 5, 3, 1);
    lw_adr_result r;
    decide_ok(&s, &p, &r);
    assert_int_equal(r.tx_power_index, 1);

    /* a loss leaves the window: FCnt 0, 10, 11..28 = 20 entries, 9 lost = 45 %; adding 29 drops
     * FCnt 0 -> 10..29, 0 % */
    lw_adr_init(&s);
    lw_adr_add_uplink(&s, 0, 2.5f, 0);
    fill(&s, 19, 10, 2.5f, 0);
    assert_true(lw_adr_loss_percent(&s) == 45.0f);
    lw_adr_add_uplink(&s, 29, 2.5f, 0);
    assert_true(lw_adr_loss_percent(&s) == 0.0f);
    assert_int_equal(at(&s, 0).fcnt, 10);

    /* a retransmission (same FCnt as the newest) is ignored */
    lw_adr_add_uplink(&s, 29, 12.0f, 0);
    assert_int_equal(lw_adr_history_len(&s), 20);
    assert_int_equal(at(&s, 0).fcnt, 10);
    assert_true(at(&s, 19).max_snr == 2.5f);

    /* many wraps keep the order */
    lw_adr_init(&s);
    fill(&s, 1000, 0, 1.0f, 0);
    for (unsigned i = 0; i < 20; i++) assert_int_equal(at(&s, i).fcnt, 980 + i);
}

static void eu868_max_dr(void **st) {
    (void)st;
    lw_adr_state s;
    lw_adr_result r;
    /* max_dr 7 asked, but DR6 (250 kHz) and DR7 (FSK) are not for ADR: limit DR5.
     * DR3 = SF9 (-12.5 dB), SNR 20: margin = 20 + 12.5 - 10 = 22.5, nStep 7.5 -> 7:
     * DR4, DR5, then index 0 -> 5 */
    lw_adr_init(&s);
    fill(&s, 20, 0, 20.0f, 0);
    lw_adr_params p = params(eu(), 3, 0, 1);
    p.max_dr = 7;
    decide_ok(&s, &p, &r);
    assert_int_equal(r.n_step, 7);
    assert_int_equal(r.dr, 5);
    assert_int_equal(r.tx_power_index, 5);

    /* the device sends on DR6 (SF7/250 kHz, -7.5 dB): lowered to DR5. SNR 2.5: margin 0, nStep 0 */
    lw_adr_init(&s);
    fill(&s, 20, 0, 2.5f, 0);
    p = params(eu(), 6, 0, 1);
    p.max_dr = 7;
    decide_ok(&s, &p, &r);
    assert_int_equal(r.dr, 5);
    assert_int_equal(r.tx_power_index, 0);
    assert_true(r.changed);

    /* a network max_dr of 3 below the region's: DR2 = SF10 (-15 dB), SNR 20:
     * margin = 20 + 15 - 10 = 25, nStep 8.33 -> 8: DR3, then index 0 -> 7 (EU868 max) */
    lw_adr_init(&s);
    fill(&s, 20, 0, 20.0f, 0);
    p = params(eu(), 2, 0, 1);
    p.max_dr = 3;
    decide_ok(&s, &p, &r);
    assert_int_equal(r.dr, 3);
    assert_int_equal(r.tx_power_index, 7);
}

static void us915_max_dr(void **st) {
    (void)st;
    lw_adr_state s;
    lw_adr_result r;
    /* default max_dr is 4 (SF8/500 kHz), ADR stops at DR3 (SF7/125 kHz).
     * DR0 = SF10 (-15 dB), SNR 8: margin = 8 + 15 - 10 = 13, nStep 4.33 -> 4: DR1, DR2, DR3, index 1 */
    lw_adr_init(&s);
    fill(&s, 20, 0, 8.0f, 0);
    lw_adr_params p = params(us(), 0, 0, 1);
    assert_int_equal(p.max_dr, 4);
    decide_ok(&s, &p, &r);
    assert_int_equal(r.dr, 3);
    assert_int_equal(r.tx_power_index, 1);

    /* SNR 30 from DR3 = SF7 (-7.5): margin 27.5, nStep 9: index 0 -> 9 (US915 allows 0..14) */
    lw_adr_init(&s);
    fill(&s, 20, 0, 30.0f, 0);
    p = params(us(), 3, 0, 1);
    decide_ok(&s, &p, &r);
    assert_int_equal(r.dr, 3);
    assert_int_equal(r.tx_power_index, 9);

    /* the device sends on DR4 (SF8/500 kHz, -10 dB): lowered to DR3; SNR 0: margin 0, nStep 0 */
    lw_adr_init(&s);
    fill(&s, 20, 0, 0.0f, 0);
    p = params(us(), 4, 0, 1);
    decide_ok(&s, &p, &r);
    assert_int_equal(r.dr, 3);
    assert_true(r.changed);
}

static void bad_arguments(void **st) {
    (void)st;
    lw_adr_state s;
    lw_adr_init(&s);
    lw_adr_params p = params(eu(), 0, 0, 1);
    lw_adr_result r;
    assert_int_equal(lw_adr_decide(NULL, &p, &r), LW_REGION_ERR_ARG);
    assert_int_equal(lw_adr_decide(&s, NULL, &r), LW_REGION_ERR_ARG);
    assert_int_equal(lw_adr_decide(&s, &p, NULL), LW_REGION_ERR_ARG);
    p.region = NULL;
    assert_int_equal(lw_adr_decide(&s, &p, &r), LW_REGION_ERR_ARG);
    p = params(eu(), 14, 0, 1); /* RFU in EU868 */
    assert_int_equal(lw_adr_decide(&s, &p, &r), LW_REGION_ERR_DR);
    p = params(eu(), 0, 0, 1);
    p.installation_margin = NAN;
    assert_int_equal(lw_adr_decide(&s, &p, &r), LW_REGION_ERR_ARG);
    p.installation_margin = INFINITY;
    assert_int_equal(lw_adr_decide(&s, &p, &r), LW_REGION_ERR_ARG);
    /* NaN SNRs are ignored for the max; NULL state is harmless */
    lw_adr_add_uplink(&s, 0, NAN, 0);
    lw_adr_add_uplink(&s, 1, -3.5f, 0);
    p.installation_margin = 10.0f;
    decide_ok(&s, &p, &r);
    assert_int_equal(r.dr, 2); /* as margin_gives_two_dr_steps */
    lw_adr_add_uplink(NULL, 0, 0.0f, 0);
    lw_adr_init(NULL);
    assert_int_equal(lw_adr_history_len(NULL), 0);
    lw_adr_uplink none2;
    assert_int_equal(lw_adr_history_at(NULL, 0, &none2), -1);
    /* a zeroed state is an empty history */
    lw_adr_state z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(lw_adr_history_len(&z), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tables_and_defaults),
        cmocka_unit_test(margin_gives_two_dr_steps),
        cmocka_unit_test(positive_steps_act_on_short_history),
        cmocka_unit_test(at_max_dr_steps_lower_power),
        cmocka_unit_test(negative_margin_raises_power_stepwise),
        cmocka_unit_test(nb_trans_from_loss),
        cmocka_unit_test(compact_storage),
        cmocka_unit_test(fcnt_gaps_counted_as_loss),
        cmocka_unit_test(short_history_no_change),
        cmocka_unit_test(history_wraps_after_20),
        cmocka_unit_test(eu868_max_dr),
        cmocka_unit_test(us915_max_dr),
        cmocka_unit_test(bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
