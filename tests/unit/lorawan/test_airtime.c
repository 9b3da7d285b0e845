/* tests/unit/lorawan/test_airtime: LoRa/FSK time on air against figures worked out by hand with the
 * Semtech formula (AN1200.13 / SX1276 datasheet; see lorawan/airtime.h), and the duty-cycle tracker.
 * Every LoRa figure below is "Tpre + Npayload * Tsym" with Tpre = (8 + 4.25) * Tsym, explicit
 * header, CR 4/5 and CRC on unless stated; PL is the PHYPayload length in bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first */
#include <cmocka.h>

#include "lorawan/airtime.h"
#include "lorawan/region.h"

static uint32_t up(uint8_t sf, uint32_t bw, uint16_t pl) { return lw_airtime_us(sf, bw, pl, 1, true, true, 8); }

/* SF7/125 kHz, PL 20: Tsym = 128/125000 = 1.024 ms; ceil((160-28+28+16)/28) = ceil(6.29) = 7;
 * Npayload = 8 + 7*5 = 43; T = (12.25 + 43) * 1.024 = 56.576 ms */
static void sf7_20_bytes(void **s) {
    (void)s;
    assert_int_equal(up(7, 125000, 20), 56576);
}

/* SF12/125 kHz, PL 51: Tsym = 32.768 ms > 16 ms -> LDRO; ceil((408-48+28+16)/(4*10)) = ceil(10.1) = 11;
 * Npayload = 8 + 55 = 63; T = 75.25 * 32.768 = 2465.792 ms */
static void sf12_51_bytes(void **s) {
    (void)s;
    assert_int_equal(up(12, 125000, 51), 2465792);
}

/* SF9/125 kHz: Tsym = 4.096 ms.
 * PL 10: ceil((80-36+44)/36) = ceil(2.44) = 3 -> 23 symbols; T = 35.25 * 4.096 = 144.384 ms.
 * PL 18 (5-byte FRMPayload + 13 bytes LoRaWAN overhead): ceil(152/36) = 5 -> 33; T = 45.25 * 4.096 =
 * 185.344 ms -- the "185.3 ms" usually quoted for "10 bytes" is this PHY length (18..21 bytes). */
static void sf9_small(void **s) {
    (void)s;
    assert_int_equal(up(9, 125000, 10), 144384);
    assert_int_equal(up(9, 125000, 18), 185344);
    assert_int_equal(up(9, 125000, 21), 185344); /* same symbol count up to 21 bytes */
    assert_int_equal(up(9, 125000, 22), 205824); /* one more block of 5 symbols: 50.25 * 4.096 */
}

/* LDRO edge. SF10/125: Tsym 8.192 ms (no LDRO): ceil((408-40+44)/40) = 11 -> 63 -> 75.25*8.192 = 616.448;
 * forced LDRO: ceil(412/32) = 13 -> 73 -> 85.25*8.192 = 698.368 ms.
 * SF11/125: Tsym 16.384 ms (LDRO): ceil(408/36) = 12 -> 68 -> 80.25*16.384 = 1314.816; without: ceil(408/44)
 * = 10 -> 58 -> 70.25*16.384 = 1150.976 ms. */
static void ldro_edge(void **s) {
    (void)s;
    assert_false(lw_ldro_needed(10, 125000));
    assert_true(lw_ldro_needed(11, 125000));
    assert_true(lw_ldro_needed(12, 125000));
    assert_true(lw_ldro_needed(12, 250000));  /* 16.384 ms */
    assert_false(lw_ldro_needed(11, 250000)); /* 8.192 ms */
    assert_false(lw_ldro_needed(12, 500000));
    assert_int_equal(up(10, 125000, 51), 616448);
    assert_int_equal(lw_airtime_lora_us(10, 125000, 51, 1, true, true, 8, 0), 616448);
    assert_int_equal(lw_airtime_lora_us(10, 125000, 51, 1, true, true, 8, 1), 698368);
    assert_int_equal(up(11, 125000, 51), 1314816);
    assert_int_equal(lw_airtime_lora_us(11, 125000, 51, 1, true, true, 8, 1), 1314816);
    assert_int_equal(lw_airtime_lora_us(11, 125000, 51, 1, true, true, 8, 0), 1150976);
}

/* US915 DR4 = SF8/500 kHz: Tsym = 256/500000 = 0.512 ms.
 * PL 20: ceil((160-32+44)/32) = 6 -> 38; T = 50.25 * 0.512 = 25.728 ms.
 * PL 13 (empty uplink): ceil(116/32) = 4 -> 28; T = 40.25 * 0.512 = 20.608 ms. */
static void us915_dr4(void **s) {
    (void)s;
    const lw_region *us = lw_region_get("US915");
    assert_int_equal(up(8, 500000, 20), 25728);
    assert_int_equal(lw_region_airtime_us(us, 4, 20, true), 25728);
    assert_int_equal(lw_region_airtime_us(us, 4, 13, true), 20608);
}

/* Header, CRC and coding-rate variants of SF7/125 PL 20:
 * implicit header: ceil((176-20)/28) = 6 -> 38 -> 50.25 * 1.024 = 51.456 ms;
 * CR 4/8: 7 * 8 + 8 = 64 -> 76.25 * 1.024 = 78.080 ms.
 * Downlink EU868 RX2 (DR0, SF12/125, no CRC) PL 12: ceil((96-48+28)/40) = 2 -> 18 -> 30.25*32.768 = 991.232 ms */
static void variants(void **s) {
    (void)s;
    assert_int_equal(lw_airtime_us(7, 125000, 20, 1, true, false, 8), 51456);
    assert_int_equal(lw_airtime_us(7, 125000, 20, 4, true, true, 8), 78080);
    assert_int_equal(lw_airtime_us(7, 125000, 20, 8, true, true, 8), 78080); /* 4/8 given as 8 */
    assert_int_equal(lw_airtime_us(7, 125000, 20, 5, true, true, 8), 56576); /* 4/5 given as 5 */
    const lw_region *eu = lw_region_get("EU868");
    assert_int_equal(lw_region_airtime_us(eu, 0, 12, false), 991232);
    assert_int_equal(lw_region_airtime_us(eu, 5, 20, true), 56576);
    assert_int_equal(lw_region_airtime_us(eu, 0, 51, true), 2465792);
}

/* FSK 50 kbps (EU868 DR7): (5 preamble + 3 sync + 1 length + PL + 2 CRC) bytes at 160 us/byte.
 * PL 20 -> 31 bytes -> 4960 us. */
static void fsk(void **s) {
    (void)s;
    assert_int_equal(lw_airtime_fsk_us(50000, 20, 5, true), 4960);
    assert_int_equal(lw_airtime_fsk_us(50000, 20, 5, false), 4640);
    const lw_region *eu = lw_region_get("EU868");
    assert_int_equal(lw_region_airtime_us(eu, 7, 20, true), 4960);
    assert_int_equal(lw_region_airtime_us(eu, 7, 20, false), 4960); /* CRC both ways in FSK */
    assert_int_equal(lw_airtime_fsk_us(0, 20, 5, true), 0);
}

static void invalid_and_monotonic(void **s) {
    (void)s;
    assert_int_equal(lw_airtime_us(13, 125000, 10, 1, true, true, 8), 0);
    assert_int_equal(lw_airtime_us(4, 125000, 10, 1, true, true, 8), 0);
    assert_int_equal(lw_airtime_us(7, 0, 10, 1, true, true, 8), 0);
    assert_int_equal(lw_airtime_us(7, 125000, 10, 0, true, true, 8), 0);
    assert_int_equal(lw_airtime_us(7, 125000, 10, 9, true, true, 8), 0);
    const lw_region *eu = lw_region_get("EU868");
    assert_int_equal(lw_region_airtime_us(eu, 8, 20, true), 0);  /* LR-FHSS: not modelled */
    assert_int_equal(lw_region_airtime_us(eu, 12, 20, true), 0); /* RFU */
    assert_int_equal(lw_region_airtime_us(NULL, 0, 20, true), 0);
    /* PL 0 still has preamble + 8 symbols at least */
    assert_true(up(7, 125000, 0) >= (uint32_t)(20.25 * 1024));
    for (uint8_t sf = 7; sf <= 12; sf++) {
        uint32_t prev = 0;
        for (unsigned pl = 0; pl <= 255; pl++) {
            uint32_t t = up(sf, 125000, (uint16_t)pl);
            assert_true(t >= prev);
            prev = t;
        }
        /* slower SF takes longer for the same payload */
        if (sf > 7) assert_true(up(sf, 125000, 51) > up((uint8_t)(sf - 1), 125000, 51));
    }
}

/* ---------------------------------------------------------------- duty cycle */

static void dc_eu868_one_percent(void **s) {
    (void)s;
    const lw_region *eu = lw_region_get("EU868");
    lw_dc_tracker t;
    lw_dc_init(&t, eu);
    assert_true(lw_dc_can_tx(&t, 868100000, 0));
    uint32_t air = up(7, 125000, 20); /* 56576 us */
    assert_int_equal(lw_dc_off_time_us(air, 100), (uint64_t)air * 99);
    assert_int_equal(lw_dc_record(&t, 868100000, 1000000, air), 0);
    uint64_t free_at = 1000000 + (uint64_t)air * 100; /* end of frame + 99 x airtime */
    assert_int_equal(lw_dc_next_tx_us(&t, 868100000, 1000000), free_at);
    assert_int_equal(lw_dc_next_tx_us(&t, 868300000, 1100000), free_at); /* same sub-band M (g1) */
    assert_false(lw_dc_can_tx(&t, 868500000, free_at - 1));
    assert_true(lw_dc_can_tx(&t, 868500000, free_at));
    assert_int_equal(lw_dc_next_tx_us(&t, 868100000, free_at + 5), free_at + 5);
    /* other sub-bands are independent: RX2 frequency in P (g3, 10 %) and 867.1 MHz in L */
    assert_true(lw_dc_can_tx(&t, 869525000, 1100000));
    assert_true(lw_dc_can_tx(&t, 867100000, 1100000));
    assert_int_equal(lw_dc_record(&t, 869525000, 2000000, 1000000), 0);
    assert_int_equal(lw_dc_next_tx_us(&t, 869525000, 2000000), 2000000 + 10 * 1000000ull);
    /* 0.1 % in N (g2): 1 ms on air -> 1 s */
    assert_int_equal(lw_dc_record(&t, 868800000, 0, 1000), 0);
    assert_int_equal(lw_dc_next_tx_us(&t, 868800000, 0), 1000000);
}

static void dc_never_goes_back_and_gaps(void **s) {
    (void)s;
    lw_dc_tracker t;
    lw_dc_init(&t, lw_region_get("EU868"));
    assert_int_equal(lw_dc_record(&t, 868100000, 0, 100000), 0);    /* free at 10 s */
    assert_int_equal(lw_dc_record(&t, 868100000, 500000, 1000), 0); /* would be free at 0.6 s */
    assert_int_equal(lw_dc_next_tx_us(&t, 868100000, 0), 10000000);
    /* between sub-bands (868.6-868.7 MHz) and outside the region nothing may be sent */
    assert_int_equal(lw_dc_next_tx_us(&t, 868650000, 0), UINT64_MAX);
    assert_false(lw_dc_can_tx(&t, 915000000, 0));
    assert_int_equal(lw_dc_record(&t, 868650000, 0, 1000), LW_REGION_ERR_NO_BAND);
    assert_int_equal(lw_dc_record(NULL, 868100000, 0, 1000), LW_REGION_ERR_ARG);
}

static void dc_aggregated(void **s) {
    (void)s;
    lw_dc_tracker t;
    lw_dc_init(&t, lw_region_get("EU868"));
    lw_dc_set_aggregated(&t, 1u << 4); /* DutyCycleReq MaxDCycle 4: 1/16 over all bands */
    assert_int_equal(lw_dc_record(&t, 868100000, 0, 1000), 0);
    assert_int_equal(lw_dc_next_tx_us(&t, 868100000, 0), 100000); /* band limit dominates */
    assert_int_equal(lw_dc_next_tx_us(&t, 869525000, 0), 16000);  /* aggregated limit */
    lw_dc_set_aggregated(&t, 0);                                  /* lifted */
    assert_int_equal(lw_dc_next_tx_us(&t, 869525000, 0), 0);
    /* join backoff (LoRaWAN 1.0.4): 1 % first hour, 0.1 % to hour 11, then 0.01 % */
    assert_int_equal(lw_join_backoff_inverse(0), 100);
    assert_int_equal(lw_join_backoff_inverse(3599999999ull), 100);
    assert_int_equal(lw_join_backoff_inverse(3600000000ull), 1000);
    assert_int_equal(lw_join_backoff_inverse(11 * 3600000000ull), 10000);
}

static void dc_us915_unlimited(void **s) {
    (void)s;
    lw_dc_tracker t;
    lw_dc_init(&t, lw_region_get("US915"));
    const lw_region *us = lw_region_get("US915");
    /* the US915 payload tables honour the 400 ms dwell: max PHY (M + MHDR + MIC) at DR0..3 fits
     * (DR0 24 B 370.688 ms, DR1 66 B 390.144 ms, DR2 138 B 399.872 ms, DR3 255 B 399.616 ms) */
    for (int dr = 0; dr <= 3; dr++) {
        unsigned m = 0;
        assert_int_equal(lw_region_max_payload_ex(us, dr, false, true, &m, NULL), 0);
        uint32_t a = lw_region_airtime_us(us, dr, (uint16_t)(m + 5), true);
        assert_true(a > 0 && a <= 400000);
        assert_true(lw_region_airtime_us(us, dr, (uint16_t)(m + 5 + 8), true) > 400000 || m + 5 + 8 > 255);
    }
    uint32_t air = lw_region_airtime_us(us, 0, 24, true);
    assert_int_equal(air, 370688);
    assert_int_equal(lw_dc_record(&t, 902300000, 0, air), 0);
    assert_int_equal(lw_dc_next_tx_us(&t, 902300000, 0), air); /* only after the frame itself */
    assert_true(lw_dc_can_tx(&t, 923300000, air));
}


/* gateways: ETSI's duty cycle over one hour, bursts allowed */
static void test_dc_window(void **state) {
    (void)state;
    const lw_region *r = lw_region_get("EU868");
    lw_dc_window w;
    lw_dcw_init(&w, r);
    uint64_t t0 = 7200ull * 1000000ull;
    /* 868.1 MHz is in a 1 % band: 36 s of the hour; 500 frames of 72 ms back to back fit */
    for (int i = 0; i < 499; i++) {
        assert_true(lw_dcw_can_tx(&w, 868100000, t0 + (uint64_t)i * 100000, 72000));
        assert_int_equal(lw_dcw_record(&w, 868100000, t0 + (uint64_t)i * 100000, 72000), 0);
    }
    /* 35.928 s used: 72 ms more is still within 36 s, 100 ms is not */
    assert_true(lw_dcw_can_tx(&w, 868100000, t0 + 60000000, 72000));
    assert_false(lw_dcw_can_tx(&w, 868100000, t0 + 60000000, 100000));
    /* another band is independent (869.525 MHz: 10 %) */
    assert_true(lw_dcw_can_tx(&w, 869525000, t0 + 60000000, 3000000));
    /* an hour later the first minutes have left the window */
    assert_true(lw_dcw_can_tx(&w, 868100000, t0 + 3700ull * 1000000ull, 1000000));
    /* outside every band */
    assert_false(lw_dcw_can_tx(&w, 900000000, t0, 1000));
    assert_int_equal(lw_dcw_record(&w, 900000000, t0, 1000), LW_REGION_ERR_NO_BAND);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dc_window),
        cmocka_unit_test(sf7_20_bytes),
        cmocka_unit_test(sf12_51_bytes),
        cmocka_unit_test(sf9_small),
        cmocka_unit_test(ldro_edge),
        cmocka_unit_test(us915_dr4),
        cmocka_unit_test(variants),
        cmocka_unit_test(fsk),
        cmocka_unit_test(invalid_and_monotonic),
        cmocka_unit_test(dc_eu868_one_percent),
        cmocka_unit_test(dc_never_goes_back_and_gaps),
        cmocka_unit_test(dc_aggregated),
        cmocka_unit_test(dc_us915_unlimited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
