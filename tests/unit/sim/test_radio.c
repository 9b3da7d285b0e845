/* Unit tests for sim/radio: seeded determinism of the PRNG and positions, Gaussian moments, the
 * log-distance path loss and noise floor figures, the per-SF SNR floors, and the capture rule
 * (overlap in time, same frequency and SF; 6 dB stronger survives, the weaker is lost). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "sim/radio.h"

static void test_rng_deterministic(void **state) {
    (void)state;
    lw_rng a, b, c;
    lw_rng_seed(&a, 42);
    lw_rng_seed(&b, 42);
    lw_rng_seed(&c, 43);
    int same_c = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = lw_rng_next(&a), y = lw_rng_next(&b), z = lw_rng_next(&c);
        assert_true(x == y);
        same_c += x == z;
    }
    assert_true(same_c < 2);
    double sum = 0, sq = 0;
    lw_rng_seed(&a, 1);
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        double g = lw_rng_gauss(&a);
        sum += g;
        sq += g * g;
        double u = lw_rng_uniform(&a);
        assert_true(u >= 0 && u < 1);
    }
    assert_true(fabs(sum / n) < 0.05);
    assert_true(fabs(sq / n - 1.0) < 0.05);
    /* positions stay in the disc and repeat with the seed */
    double x1, y1, x2, y2;
    lw_rng_seed(&a, 9);
    lw_rng_seed(&b, 9);
    for (int i = 0; i < 1000; i++) {
        lw_radio_disc_point(&a, 500, &x1, &y1);
        lw_radio_disc_point(&b, 500, &x2, &y2);
        assert_true(x1 == x2 && y1 == y2);
        assert_true(hypot(x1, y1) <= 500.0);
    }
}

static void test_link_budget(void **state) {
    (void)state;
    lw_radio_model m;
    lw_radio_model_default(&m);
    assert_true(fabs(lw_radio_path_loss_db(&m, 1) - 40.0) < 1e-9);
    assert_true(fabs(lw_radio_path_loss_db(&m, 0.1) - 40.0) < 1e-9);
    assert_true(fabs(lw_radio_path_loss_db(&m, 1000) - (40 + 81)) < 1e-9);
    assert_true(fabs(lw_radio_noise_floor_dbm(&m, 125000) - (-174 + 10 * log10(125000.0) + 6)) < 1e-9);
    assert_true(lw_radio_snr_floor_db(7) == -7.5);
    assert_true(lw_radio_snr_floor_db(12) == -20.0);
    assert_true(lw_radio_snr_floor_db(10) == -15.0);
    double rssi, snr;
    lw_radio_link(&m, 14, 1000, 3, 1, 125000, &rssi, &snr);
    assert_true(fabs(rssi - (14 - 121 - 4)) < 1e-9);
    assert_true(fabs(snr - (rssi - lw_radio_noise_floor_dbm(&m, 125000))) < 1e-9);
    /* SF12 reaches farther than SF7 */
    double d7 = 0, d12 = 0;
    for (double d = 10; d < 100000; d *= 1.01) {
        lw_radio_link(&m, 14, d, 0, 0, 125000, NULL, &snr);
        if (snr >= lw_radio_snr_floor_db(7)) d7 = d;
        if (snr >= lw_radio_snr_floor_db(12)) d12 = d;
    }
    assert_true(d7 > 1000 && d12 > 2 * d7);
}

static void test_capture(void **state) {
    (void)state;
    lw_radio_signal s[4] = {
        {1000, 2000, 868100000, 7, -100.0},
        {1500, 2500, 868100000, 7, -106.0}, /* 6 dB weaker, overlapping */
        {1500, 2500, 868100000, 8, -90.0},  /* other SF: no collision */
        {2000, 3000, 868100000, 7, -50.0},  /* starts as s[0] ends: no overlap */
    };
    assert_true(lw_radio_survives(&s[0], s, 4, 6.0));
    assert_false(lw_radio_survives(&s[1], s, 4, 6.0));
    assert_true(lw_radio_survives(&s[2], s, 4, 6.0));
    s[1].rssi_dbm = -95.0; /* 5 dB: both lost */
    assert_false(lw_radio_survives(&s[0], s, 4, 6.0));
    assert_false(lw_radio_survives(&s[1], s, 4, 6.0));
    s[1].freq_hz = 868300000; /* other channel */
    assert_true(lw_radio_survives(&s[0], s, 4, 6.0));
    assert_true(lw_radio_survives(&s[3], s, 4, 6.0));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_deterministic),
        cmocka_unit_test(test_link_budget),
        cmocka_unit_test(test_capture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
