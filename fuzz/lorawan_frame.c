/* Fuzz target for lorawan/frame and lorawan/crypto: parses the input as a PHYPayload expecting an
 * uplink, a downlink and either; every frame that parses must re-encode to the identical bytes and
 * re-parse to the same fields; MIC checks, FRMPayload decryption and JoinAccept opening run on it
 * with fixed keys (they must return cleanly), and a sealed copy must verify. */
#include "lorawan/crypto.h"
#include "lorawan/frame.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(c)                                                                                                  \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            fprintf(stderr, "lorawan_frame fuzz: check failed: %s (line %d)\n", #c, __LINE__);                         \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static const uint8_t KA[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                               0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
static const uint8_t KB[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static int is_data(lw_mtype m) { return m >= LW_MTYPE_UNCONFIRMED_UP && m <= LW_MTYPE_CONFIRMED_DOWN; }

static void one(const uint8_t *data, size_t size, int expect) {
    lw_frame f, g;
    char err[160];
    err[0] = 0;
    int rc = lw_frame_parse(data, size, expect, &f, err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(rc < 0 && err[0] != 0);
        return;
    }
    uint8_t out[LW_PHY_MAX];
    size_t n = 0;
    FUZZ_CHECK(lw_frame_build(&f, out, sizeof out, &n, err, sizeof err) == 0);
    FUZZ_CHECK(n == size && memcmp(out, data, n) == 0);
    FUZZ_CHECK(lw_frame_parse(out, n, expect, &g, err, sizeof err) == 0);
    FUZZ_CHECK(memcmp(&f, &g, sizeof f) == 0);

    lw_keys k = {.app_key = KA, .nwk_s_key = KA, .app_s_key = KB};
    uint32_t fcnt = lw_fcnt_reconstruct(0x0001FFF0u, f.fcnt16);
    FUZZ_CHECK((uint16_t)fcnt == f.fcnt16 && fcnt >= 0x0001FFF0u);
    if (f.mtype == LW_MTYPE_JOIN_REQUEST || is_data(f.mtype)) {
        rc = lw_mic_check(data, size, &f, &k, fcnt);
        FUZZ_CHECK(rc == 0 || rc == LW_ERR_MIC);
    }
    if (is_data(f.mtype)) {
        uint8_t plain[LW_PHY_MAX];
        FUZZ_CHECK(lw_frm_decrypt(&f, &k, fcnt, plain) == 0);
        /* seal the plaintext again: the result must parse and verify */
        g = f;
        memcpy(g.frm, plain, f.frm_len);
        FUZZ_CHECK(lw_frame_seal(&g, &k, fcnt, out, sizeof out, &n, err, sizeof err) == 0);
        FUZZ_CHECK(n == size);
        FUZZ_CHECK(memcmp(g.frm, f.frm, f.frm_len) == 0); /* same keystream */
        lw_frame h;
        FUZZ_CHECK(lw_frame_parse(out, n, expect, &h, err, sizeof err) == 0);
        FUZZ_CHECK(lw_mic_check(out, n, &h, &k, fcnt) == 0);
    } else if (f.mtype == LW_MTYPE_JOIN_REQUEST) {
        g = f;
        FUZZ_CHECK(lw_frame_seal(&g, &k, 0, out, sizeof out, &n, err, sizeof err) == 0);
        FUZZ_CHECK(n == size && memcmp(out, data, size - LW_MIC_LEN) == 0);
        FUZZ_CHECK(lw_mic_check(out, n, &g, &k, 0) == 0);
    } else if (f.mtype == LW_MTYPE_JOIN_ACCEPT) {
        g = f;
        rc = lw_join_accept_open(KA, &g, err, sizeof err);
        FUZZ_CHECK(rc == 0 || rc == LW_ERR_MIC);
        /* re-sealing the decrypted fields yields a frame that opens cleanly */
        lw_frame s = g;
        FUZZ_CHECK(lw_frame_seal(&s, &k, 0, out, sizeof out, &n, err, sizeof err) == 0);
        FUZZ_CHECK(n == size);
        if (rc == 0) FUZZ_CHECK(memcmp(out, data, n) == 0);
        lw_frame h;
        FUZZ_CHECK(lw_frame_parse(out, n, expect, &h, err, sizeof err) == 0);
        FUZZ_CHECK(lw_join_accept_open(KA, &h, err, sizeof err) == 0);
        FUZZ_CHECK(h.join_nonce == g.join_nonce && h.dev_addr == g.dev_addr && h.net_id == g.net_id &&
                   h.has_cflist == g.has_cflist);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    one(data, size, LW_EXPECT_UP);
    one(data, size, LW_EXPECT_DOWN);
    one(data, size, LW_EXPECT_ANY);
    return 0;
}
