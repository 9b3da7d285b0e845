/* tests/unit/lorawan/test_region: the EU868 and US915 regional-parameter tables (RP002-1.0.x) and
 * their lookups: data rates, max payload (M and N, repeater or not), RX1 DR offsets, RX1 frequency,
 * RX2 and timing defaults, TX power, duty-cycle bands, LinkADRReq channel-mask semantics, CFList. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* cmocka needs the headers above first */
#include <cmocka.h>

#include "lorawan/region.h"

static const lw_region *eu(void) { return lw_region_get("EU868"); }
static const lw_region *us(void) { return lw_region_get("US915"); }

static void lookup_by_name(void **s) {
    (void)s;
    assert_non_null(eu());
    assert_non_null(us());
    assert_ptr_equal(lw_region_get("eu868"), eu());
    assert_ptr_equal(lw_region_get("Us915"), us());
    assert_ptr_equal(lw_region_get("EU863-870"), eu());
    assert_ptr_equal(lw_region_get("us902-928"), us());
    assert_string_equal(eu()->name, "EU868");
    assert_null(lw_region_get("AS923")); /* not yet defined */
    assert_null(lw_region_get("EU86"));
    assert_null(lw_region_get("EU8688"));
    assert_null(lw_region_get(""));
    assert_null(lw_region_get(NULL));
    assert_int_equal(lw_region_count(), 2);
    assert_ptr_equal(lw_region_at(0), eu());
    assert_null(lw_region_at(2));
}

static void expect_lora(const lw_region *r, int dr, int sf, uint32_t bw, int dir) {
    const lw_dr_def *d = lw_region_dr(r, dr);
    assert_non_null(d);
    assert_int_equal(d->mod, LW_MOD_LORA);
    assert_int_equal(d->sf, sf);
    assert_int_equal(d->bw_hz, bw);
    assert_int_equal(d->dir, dir);
}

static void data_rates(void **s) {
    (void)s;
    for (int dr = 0; dr <= 5; dr++) expect_lora(eu(), dr, 12 - dr, 125000, LW_DRDIR_BOTH);
    expect_lora(eu(), 6, 7, 250000, LW_DRDIR_BOTH);
    const lw_dr_def *fsk = lw_region_dr(eu(), 7);
    assert_non_null(fsk);
    assert_int_equal(fsk->mod, LW_MOD_FSK);
    assert_int_equal(fsk->bw_hz, 50000);
    for (int dr = 8; dr <= 11; dr++) assert_int_equal(lw_region_dr(eu(), dr)->mod, LW_MOD_LRFHSS);
    for (int dr = 12; dr <= 15; dr++) assert_null(lw_region_dr(eu(), dr));
    assert_null(lw_region_dr(eu(), -1));
    assert_null(lw_region_dr(eu(), 16));

    for (int dr = 0; dr <= 3; dr++) expect_lora(us(), dr, 10 - dr, 125000, LW_DRDIR_UP);
    expect_lora(us(), 4, 8, 500000, LW_DRDIR_UP);
    assert_int_equal(lw_region_dr(us(), 5)->mod, LW_MOD_LRFHSS);
    assert_int_equal(lw_region_dr(us(), 6)->mod, LW_MOD_LRFHSS);
    assert_null(lw_region_dr(us(), 7));
    for (int dr = 8; dr <= 13; dr++) expect_lora(us(), dr, 20 - dr, 500000, LW_DRDIR_DOWN);
    assert_null(lw_region_dr(us(), 14));
    assert_null(lw_region_dr(NULL, 0));
}

static void dr_from_sf_bw(void **s) {
    (void)s;
    assert_int_equal(lw_region_dr_from_sf_bw(eu(), 12, 125000), 0);
    assert_int_equal(lw_region_dr_from_sf_bw(eu(), 7, 125000), 5);
    assert_int_equal(lw_region_dr_from_sf_bw(eu(), 7, 250000), 6);
    assert_int_equal(lw_region_dr_from_sf_bw(eu(), 0, 50000), 7);
    assert_int_equal(lw_region_dr_from_sf_bw(eu(), 7, 500000), -1);
    assert_int_equal(lw_region_dr_from_sf_bw(us(), 10, 125000), 0);
    assert_int_equal(lw_region_dr_from_sf_bw(us(), 8, 500000), 4); /* uplink DR4 before DR12 */
    assert_int_equal(lw_region_dr_find(us(), 8, 500000, LW_DRDIR_DOWN), 12);
    assert_int_equal(lw_region_dr_find(us(), 12, 500000, LW_DRDIR_DOWN), 8);
    assert_int_equal(lw_region_dr_find(us(), 12, 500000, LW_DRDIR_UP), -1);
    assert_int_equal(lw_region_dr_from_sf_bw(us(), 12, 125000), -1);
}

static void datr_strings(void **s) {
    (void)s;
    assert_int_equal(lw_region_dr_from_datr(eu(), "SF12BW125", LW_DRDIR_UP), 0);
    assert_int_equal(lw_region_dr_from_datr(eu(), "SF7BW250", LW_DRDIR_UP), 6);
    assert_int_equal(lw_region_dr_from_datr(eu(), "sf9bw125", LW_DRDIR_BOTH), 3);
    assert_int_equal(lw_region_dr_from_datr(us(), "SF8BW500", LW_DRDIR_UP), 4);
    assert_int_equal(lw_region_dr_from_datr(us(), "SF8BW500", LW_DRDIR_DOWN), 12);
    assert_int_equal(lw_region_dr_from_datr(us(), "SF12BW500", LW_DRDIR_DOWN), 8);
    const char *bad[] = {"",         "SF",       "SF7",       "SF7BW",           "SF7BW125x",
                         "SFBW125",  "XF7BW125", "SF7 BW125", "SF99999999BW125", "SF7BW0",
                         "SF13BW125"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(lw_region_dr_from_datr(eu(), bad[i], LW_DRDIR_BOTH), -1);
    assert_int_equal(lw_region_dr_from_datr(eu(), NULL, LW_DRDIR_BOTH), -1);
    char b[16];
    assert_int_equal(lw_region_datr(eu(), 0, b, sizeof b), 9);
    assert_string_equal(b, "SF12BW125");
    assert_int_equal(lw_region_datr(us(), 13, b, sizeof b), 8);
    assert_string_equal(b, "SF7BW500");
    assert_int_equal(lw_region_datr(eu(), 7, b, sizeof b), -1); /* FSK has a numeric datr */
    assert_int_equal(lw_region_datr(eu(), 0, b, 9), -1);        /* no room for the NUL */
    for (int dr = 0; dr < LW_DR_MAX; dr++)
        if (lw_region_datr(us(), dr, b, sizeof b) > 0)
            assert_int_equal(lw_region_dr_from_datr(us(), b, lw_region_dr(us(), dr)->dir), dr);
}

/* RP002 EU868 table: M 59,59,59,123,230x4 (repeater) / 250x4 (no repeater); N = M - 8. */
static void eu868_max_payload(void **s) {
    (void)s;
    const unsigned n_rep[8] = {51, 51, 51, 115, 222, 222, 222, 222};
    const unsigned n_norep[8] = {51, 51, 51, 115, 242, 242, 242, 242};
    const unsigned m_rep[8] = {59, 59, 59, 123, 230, 230, 230, 230};
    const unsigned m_norep[8] = {59, 59, 59, 123, 250, 250, 250, 250};
    for (int dr = 0; dr < 8; dr++) {
        assert_int_equal(lw_region_max_payload(eu(), dr, true), n_rep[dr]);
        assert_int_equal(lw_region_max_payload(eu(), dr, false), n_norep[dr]);
        unsigned m = 0, n = 0;
        assert_int_equal(lw_region_max_payload_ex(eu(), dr, true, false, &m, &n), 0);
        assert_int_equal(m, m_rep[dr]);
        assert_int_equal(n, n_rep[dr]);
        assert_int_equal(lw_region_max_payload_ex(eu(), dr, false, true, &m, &n), 0); /* no dwell table */
        assert_int_equal(m, m_norep[dr]);
        assert_int_equal(n, n_norep[dr]);
    }
    for (int dr = 8; dr < 16; dr++) {
        assert_int_equal(lw_region_max_payload(eu(), dr, false), 0);
        assert_int_equal(lw_region_max_payload_ex(eu(), dr, false, false, NULL, NULL), LW_REGION_ERR_DR);
    }
    assert_int_equal(lw_region_max_payload(eu(), -1, false), 0);
    assert_int_equal(lw_region_max_payload_ex(NULL, 0, false, false, NULL, NULL), LW_REGION_ERR_ARG);
}

/* RP002 US915: no repeater M/N 19/11, 61/53, 133/125, 250/242, 250/242; DR8 61/53, DR9 137/129,
 * DR10..13 250/242. Repeater-compatible: DR3/DR4 230/222, DR8 41/33, DR9 117/109, DR10..13 230/222. */
static void us915_max_payload(void **s) {
    (void)s;
    const int drs[] = {0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13};
    const unsigned m_norep[] = {19, 61, 133, 250, 250, 61, 137, 250, 250, 250, 250};
    const unsigned m_rep[] = {19, 61, 133, 230, 230, 41, 117, 230, 230, 230, 230};
    for (size_t i = 0; i < sizeof drs / sizeof drs[0]; i++) {
        unsigned m = 0, n = 0;
        assert_int_equal(lw_region_max_payload_ex(us(), drs[i], false, false, &m, &n), 0);
        assert_int_equal(m, m_norep[i]);
        assert_int_equal(n, m_norep[i] - 8);
        assert_int_equal(lw_region_max_payload_ex(us(), drs[i], true, false, &m, &n), 0);
        assert_int_equal(m, m_rep[i]);
        assert_int_equal(n, m_rep[i] - 8);
    }
    assert_int_equal(lw_region_max_payload(us(), 0, false), 11);
    assert_int_equal(lw_region_max_payload(us(), 4, false), 242);
    assert_int_equal(lw_region_max_payload(us(), 4, true), 222);
    for (int dr = 5; dr <= 7; dr++) assert_int_equal(lw_region_max_payload(us(), dr, false), 0);
    assert_int_equal(lw_region_max_payload(us(), 14, false), 0);
}

static void rx1_dr_offsets(void **s) {
    (void)s;
    /* EU868: RX1 DR = max(up DR - offset, 0) for DR0..7 and offsets 0..5 */
    for (int dr = 0; dr <= 7; dr++)
        for (int off = 0; off <= 5; off++)
            assert_int_equal(lw_region_rx1_dr(eu(), dr, off), dr - off < 0 ? 0 : dr - off);
    assert_int_equal(lw_region_rx1_dr(eu(), 5, 6), -1);
    assert_int_equal(lw_region_rx1_dr(eu(), 5, -1), -1);
    assert_int_equal(lw_region_rx1_dr(eu(), 8, 0), -1);
    assert_int_equal(lw_region_rx1_dr(eu(), 16, 0), -1);
    /* US915 table, offsets 0..3 */
    const int t[5][4] = {{10, 9, 8, 8}, {11, 10, 9, 8}, {12, 11, 10, 9}, {13, 12, 11, 10}, {13, 13, 12, 11}};
    for (int dr = 0; dr <= 4; dr++)
        for (int off = 0; off <= 3; off++) assert_int_equal(lw_region_rx1_dr(us(), dr, off), t[dr][off]);
    assert_int_equal(lw_region_rx1_dr(us(), 0, 4), -1);
    assert_int_equal(lw_region_rx1_dr(us(), 8, 0), -1);
    assert_int_equal(lw_region_rx1_dr(NULL, 0, 0), -1);
}

static uint32_t us_up_freq(int ch) {
    return ch < 64 ? 902300000u + (uint32_t)ch * 200000u : 903000000u + (uint32_t)(ch - 64) * 1600000u;
}

static void rx1_frequency(void **s) {
    (void)s;
    /* US915: 923.3 MHz + (channel % 8) * 600 kHz, channel given or derived from the frequency */
    for (int ch = 0; ch < 72; ch++) {
        uint32_t want = 923300000u + (uint32_t)(ch % 8) * 600000u;
        assert_int_equal(lw_region_uplink_channel(us(), us_up_freq(ch)), ch);
        assert_int_equal(lw_region_rx1_freq(us(), us_up_freq(ch), ch), want);
        assert_int_equal(lw_region_rx1_freq(us(), us_up_freq(ch), -1), want);
    }
    assert_int_equal(lw_region_rx1_freq(us(), 902300000u, 0), 923300000u);
    assert_int_equal(lw_region_rx1_freq(us(), 914900000u, 63), 927500000u);
    assert_int_equal(lw_region_rx1_freq(us(), 914200000u, 71), 927500000u);
    assert_int_equal(lw_region_rx1_freq(us(), 902400000u, -1), 0); /* not a channel */
    assert_int_equal(lw_region_rx1_freq(us(), 0, 72), 0);
    assert_int_equal(lw_region_uplink_channel(us(), 915000000u), -1);
    /* EU868: the uplink frequency */
    assert_int_equal(lw_region_rx1_freq(eu(), 868100000u, 0), 868100000u);
    assert_int_equal(lw_region_rx1_freq(eu(), 867900000u, 7), 867900000u);
    assert_int_equal(lw_region_rx1_freq(eu(), 915000000u, 0), 0);
    assert_int_equal(lw_region_uplink_channel(eu(), 868500000u), 2);
    assert_int_equal(lw_region_uplink_channel(eu(), 867100000u), -1); /* not a default channel */
}

static void defaults_and_timing(void **s) {
    (void)s;
    assert_int_equal(eu()->rx2_freq_hz, 869525000u);
    assert_int_equal(eu()->rx2_dr, 0);
    assert_int_equal(us()->rx2_freq_hz, 923300000u);
    assert_int_equal(us()->rx2_dr, 8);
    for (size_t i = 0; i < lw_region_count(); i++) {
        const lw_region *r = lw_region_at(i);
        assert_int_equal(r->receive_delay1_ms, 1000);
        assert_int_equal(r->receive_delay2_ms, r->receive_delay1_ms + 1000);
        assert_int_equal(r->join_accept_delay1_ms, 5000);
        assert_int_equal(r->join_accept_delay2_ms, 6000);
        assert_int_equal(r->max_fcnt_gap, 16384);
        assert_int_equal(r->adr_ack_limit, 64);
        assert_int_equal(r->adr_ack_delay, 32);
        assert_true(r->n_bands <= LW_REGION_BANDS_MAX);
        assert_true(r->n_channels_max <= LW_CHANNELS_MAX);
        assert_non_null(lw_region_dr(r, r->rx2_dr));
        assert_int_equal(lw_region_band_index(r, lw_region_band_of(r, r->rx2_freq_hz)) >= 0, 1);
    }
    /* EU868 join channels 868.1/868.3/868.5 MHz DR0..5 */
    assert_int_equal(eu()->n_uplink, 1);
    assert_int_equal(eu()->uplink[0].count, 3);
    assert_int_equal(eu()->uplink[0].first_hz, 868100000u);
    assert_int_equal(eu()->uplink[0].first_hz + 2 * eu()->uplink[0].step_hz, 868500000u);
    assert_int_equal(eu()->uplink[0].dr_max, 5);
    assert_int_equal(eu()->cflist_type, 0);
    assert_int_equal(us()->cflist_type, 1);
    assert_int_equal(us()->uplink[0].max_dwell_ms, 400);
}

static void tx_power(void **s) {
    (void)s;
    for (int i = 0; i <= 7; i++) assert_int_equal(lw_region_tx_power_dbm(eu(), i, 0), 16 - 2 * i);
    assert_int_equal(lw_region_tx_power_dbm(eu(), 8, 0), INT8_MIN);
    assert_int_equal(lw_region_tx_power_dbm(eu(), -1, 0), INT8_MIN);
    assert_int_equal(lw_region_tx_power_dbm(eu(), 1, 14), 12); /* device with MaxEIRP 14 dBm */
    for (int i = 0; i <= 14; i++) assert_int_equal(lw_region_tx_power_dbm(us(), i, 0), 30 - 2 * i);
    assert_int_equal(lw_region_tx_power_dbm(us(), 15, 0), INT8_MIN);
}

static void bands(void **s) {
    (void)s;
    const lw_band *b = lw_region_band_of(eu(), 868100000u);
    assert_non_null(b);
    assert_int_equal(b->dc_inverse, 100); /* 1 % */
    assert_string_equal(b->lorawan, "g1");
    assert_string_equal(b->name, "M");
    b = lw_region_band_of(eu(), 869525000u);
    assert_non_null(b);
    assert_int_equal(b->dc_inverse, 10); /* 10 % */
    assert_string_equal(b->lorawan, "g3");
    assert_int_equal(b->max_eirp_dbm, 27);
    assert_int_equal(lw_region_band_of(eu(), 868800000u)->dc_inverse, 1000); /* g2, 0.1 % */
    assert_int_equal(lw_region_band_of(eu(), 864000000u)->dc_inverse, 1000); /* K, 0.1 % */
    assert_int_equal(lw_region_band_of(eu(), 867100000u)->dc_inverse, 100);  /* L, 1 % */
    assert_int_equal(lw_region_band_of(eu(), 869850000u)->dc_inverse, 100);  /* Q (g4), 1 % */
    assert_null(lw_region_band_of(eu(), 868650000u));                        /* gaps between sub-bands */
    assert_null(lw_region_band_of(eu(), 869300000u));
    assert_null(lw_region_band_of(eu(), 870000000u)); /* upper edge excluded */
    assert_null(lw_region_band_of(eu(), 862000000u));
    assert_ptr_equal(lw_region_band_of(eu(), 868000000u), lw_region_band_of(eu(), 868100000u));
    assert_int_equal(lw_region_band_index(eu(), lw_region_band_of(eu(), 868100000u)), 2);
    assert_int_equal(lw_region_band_index(us(), lw_region_band_of(eu(), 868100000u)), -1);
    assert_int_equal(lw_region_band_index(eu(), NULL), -1);
    /* US915: no duty cycle */
    assert_int_equal(lw_region_band_of(us(), 902300000u)->dc_inverse, 1);
    assert_int_equal(lw_region_band_of(us(), 927500000u)->dc_inverse, 1);
    assert_null(lw_region_band_of(us(), 868100000u));
}

static void chmask_eu868(void **s) {
    (void)s;
    lw_chmask m, def;
    lw_region_chmask_default(eu(), &m);
    assert_int_equal(m.w[0], 0x0007);
    assert_int_equal(lw_chmask_count(&m), 3);
    assert_int_equal(lw_region_chmask_apply(eu(), NULL, &m, 0, 0x0003), 0);
    assert_int_equal(m.w[0], 0x0003);
    /* channel 3 is not defined: NACK, mask unchanged */
    assert_int_equal(lw_region_chmask_apply(eu(), NULL, &m, 0, 0x0009), LW_REGION_ERR_CHMASK);
    assert_int_equal(m.w[0], 0x0003);
    lw_chmask_clear_all(&def);
    def.w[0] = 0x00FF; /* 3 default + 5 from a CFList */
    assert_int_equal(lw_region_chmask_apply(eu(), &def, &m, 0, 0x00F1), 0);
    assert_int_equal(m.w[0], 0x00F1);
    assert_int_equal(lw_region_chmask_apply(eu(), &def, &m, 6, 0x0000), 0); /* all defined on */
    assert_int_equal(m.w[0], 0x00FF);
    for (uint8_t c = 1; c <= 7; c++)
        if (c != 6) assert_int_equal(lw_region_chmask_apply(eu(), &def, &m, c, 0x0001), LW_REGION_ERR_CHMASK);
    assert_int_equal(lw_region_chmask_apply(eu(), &def, &m, 8, 0x0001), LW_REGION_ERR_ARG);
}

static void chmask_us915(void **s) {
    (void)s;
    lw_chmask m;
    lw_region_chmask_default(us(), &m);
    assert_int_equal(lw_chmask_count(&m), 72);
    /* TTN-style sub-band 2: cntl 7 (125 kHz off, 500 kHz ch 65), then cntl 0 enabling 8..15 */
    assert_int_equal(lw_region_chmask_apply(us(), NULL, &m, 7, 0x0002), 0);
    assert_int_equal(lw_chmask_count(&m), 1);
    assert_true(lw_chmask_test(&m, 65));
    assert_int_equal(lw_region_chmask_apply(us(), NULL, &m, 0, 0xFF00), 0);
    assert_int_equal(lw_chmask_count(&m), 9);
    for (unsigned ch = 8; ch < 16; ch++) assert_true(lw_chmask_test(&m, ch));
    /* cntl 5: one bit per sub-band (8 x 125 kHz + its 500 kHz channel) */
    lw_chmask m5;
    lw_region_chmask_default(us(), &m5);
    assert_int_equal(lw_region_chmask_apply(us(), NULL, &m5, 5, 0x0002), 0);
    assert_memory_equal(&m, &m5, sizeof m);
    assert_int_equal(lw_region_chmask_apply(us(), NULL, &m5, 5, 0x0081), 0); /* sub-bands 1 and 8 */
    assert_int_equal(lw_chmask_count(&m5), 18);
    assert_true(lw_chmask_test(&m5, 0) && lw_chmask_test(&m5, 63) && lw_chmask_test(&m5, 64) &&
                lw_chmask_test(&m5, 71));
    assert_false(lw_chmask_test(&m5, 8) || lw_chmask_test(&m5, 65));
    /* cntl 6: all 125 kHz on, ChMask for 64..71 */
    assert_int_equal(lw_region_chmask_apply(us(), NULL, &m5, 6, 0x0000), 0);
    assert_int_equal(lw_chmask_count(&m5), 64);
    /* cntl 4: 64..71 only; cntl 1: 16..31 */
    assert_int_equal(lw_region_chmask_apply(us(), NULL, &m5, 4, 0xFFF0), 0);
    assert_int_equal(m5.w[4], 0x00F0);
    assert_int_equal(lw_region_chmask_apply(us(), NULL, &m5, 1, 0x0000), 0);
    assert_int_equal(lw_chmask_count(&m5), 52);
    assert_int_equal(lw_region_chmask_apply(us(), NULL, &m5, 9, 0), LW_REGION_ERR_ARG);
}

static void check_plan(const lw_region *r, const lw_chmask *want, size_t expect_n) {
    uint8_t cntl[8];
    uint16_t cm[8];
    size_t n = 0;
    assert_int_equal(lw_region_chmask_plan(r, want, cntl, cm, 8, &n), 0);
    if (expect_n) assert_int_equal(n, expect_n);
    lw_chmask a, b; /* the plan must work from any starting mask */
    lw_region_chmask_default(r, &a);
    lw_chmask_clear_all(&b);
    b.w[0] = 0x0001;
    lw_chmask defined;
    lw_chmask_clear_all(&defined);
    defined.w[0] = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(lw_region_chmask_apply(r, &defined, &a, cntl[i], cm[i]), 0);
        assert_int_equal(lw_region_chmask_apply(r, &defined, &b, cntl[i], cm[i]), 0);
    }
    assert_memory_equal(&a, want, sizeof a);
    assert_memory_equal(&b, want, sizeof b);
}

static void chmask_plans(void **s) {
    (void)s;
    lw_chmask w;
    lw_chmask_clear_all(&w);
    for (unsigned ch = 8; ch < 16; ch++) lw_chmask_set(&w, ch);
    lw_chmask_set(&w, 65);
    check_plan(us(), &w, 1); /* ChMaskCntl 5, 0x0002 */
    lw_chmask_clear(&w, 65);
    check_plan(us(), &w, 2); /* 7 + block 0 */
    lw_region_chmask_default(us(), &w);
    check_plan(us(), &w, 1); /* 6 */
    lw_chmask_clear_all(&w);
    w.w[0] = 0x1234;
    w.w[2] = 0x8001;
    w.w[3] = 0xFFFF;
    w.w[4] = 0x0042;
    check_plan(us(), &w, 4);
    lw_chmask_clear_all(&w);
    w.w[0] = 0x0005;
    check_plan(eu(), &w, 1);
    w.w[1] = 1; /* channel 16 does not exist in a 16-channel plan */
    uint8_t c[2];
    uint16_t cm[2];
    size_t n;
    assert_int_equal(lw_region_chmask_plan(eu(), &w, c, cm, 2, &n), LW_REGION_ERR_CHMASK);
    lw_chmask_clear_all(&w);
    w.w[0] = 1;
    w.w[1] = 1;
    assert_int_equal(lw_region_chmask_plan(us(), &w, c, cm, 2, &n), LW_REGION_ERR_ARG); /* needs 3 */
}

static void cflist(void **s) {
    (void)s;
    const uint32_t f[5] = {867100000u, 867300000u, 867500000u, 867700000u, 867900000u};
    uint8_t b[LW_CFLIST_SIZE];
    lw_cflist_build_freqs(f, b);
    /* 867.1 MHz / 100 = 8671000 = 0x844F18, little-endian */
    assert_int_equal(b[0], 0x18);
    assert_int_equal(b[1], 0x4F);
    assert_int_equal(b[2], 0x84);
    assert_int_equal(b[15], 0);
    lw_cflist cl;
    assert_int_equal(lw_cflist_parse(b, &cl), 0);
    assert_int_equal(cl.type, 0);
    assert_memory_equal(cl.freqs, f, sizeof f);
    b[0] = 0x01;
    b[1] = 0x00;
    b[2] = 0x00; /* 100 Hz: below 100 MHz is RFU */
    assert_int_equal(lw_cflist_parse(b, &cl), LW_REGION_ERR_CFLIST);
    const uint32_t f2[5] = {867100000u, 0, 0, 0, 0};
    lw_cflist_build_freqs(f2, b);
    assert_int_equal(lw_cflist_parse(b, &cl), 0);
    assert_int_equal(cl.freqs[1], 0);

    lw_chmask m;
    lw_chmask_clear_all(&m);
    for (unsigned ch = 8; ch < 16; ch++) lw_chmask_set(&m, ch);
    lw_chmask_set(&m, 65);
    lw_cflist_build_chmask(&m, b);
    const uint8_t want[LW_CFLIST_SIZE] = {0x00, 0xFF, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0, 0, 0, 0, 0, 0x01};
    assert_memory_equal(b, want, sizeof want);
    assert_int_equal(lw_cflist_parse(b, &cl), 0);
    assert_int_equal(cl.type, 1);
    assert_memory_equal(&cl.mask, &m, sizeof m);
    b[15] = 2;
    assert_int_equal(lw_cflist_parse(b, &cl), LW_REGION_ERR_CFLIST);
    assert_int_equal(lw_cflist_parse(NULL, &cl), LW_REGION_ERR_ARG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lookup_by_name),
        cmocka_unit_test(data_rates),
        cmocka_unit_test(dr_from_sf_bw),
        cmocka_unit_test(datr_strings),
        cmocka_unit_test(eu868_max_payload),
        cmocka_unit_test(us915_max_payload),
        cmocka_unit_test(rx1_dr_offsets),
        cmocka_unit_test(rx1_frequency),
        cmocka_unit_test(defaults_and_timing),
        cmocka_unit_test(tx_power),
        cmocka_unit_test(bands),
        cmocka_unit_test(chmask_eu868),
        cmocka_unit_test(chmask_us915),
        cmocka_unit_test(chmask_plans),
        cmocka_unit_test(cflist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
