/* Fuzz target for lw_gw_parse_pull_resp (the gateway side of the Semtech UDP protocol, used by the
 * simulator's gateways): any input must be rejected with a message or decoded into sane fields; an
 * accepted txpk is rebuilt with lw_gw_build_pull_resp and must parse back to the same fields; the
 * simulated gateway engine must survive the same bytes. */
#include "lorawan/gwproto.h"
#include "sim/gateway.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(c)                                                                                                  \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            fprintf(stderr, "lorawan_pull_resp fuzz: check failed: %s (line %d)\n", #c, __LINE__);                     \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static lw_gw_pull_resp pr, back;
static lw_sgw gw;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256];
    err[0] = 0;
    int rc = lw_gw_parse_pull_resp(data, size, &pr, err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(rc < 0 && err[0] != 0 && pr.tx.size == 0 && pr.tx.data == NULL);
    } else {
        FUZZ_CHECK(size >= 4 && (pr.version == 1 || pr.version == 2));
        FUZZ_CHECK(pr.tx.imme || pr.tx.has_tmst || pr.tx.has_tmms);
        FUZZ_CHECK(pr.tx.size <= LW_GW_MAX_PAYLOAD && pr.tx.data == pr.data);
        FUZZ_CHECK(pr.tx.modu == LW_GW_MODU_LORA || pr.tx.modu == LW_GW_MODU_FSK);
        static uint8_t out[2048];
        size_t len = 0;
        if (pr.tx.freq_hz != 0 && lw_gw_build_pull_resp(&pr.tx, pr.version, pr.token, out, sizeof out, &len) == 0) {
            FUZZ_CHECK(lw_gw_parse_pull_resp(out, len, &back, err, sizeof err) == 0);
            FUZZ_CHECK(back.tx.size == pr.tx.size && !memcmp(back.data, pr.data, pr.tx.size));
            FUZZ_CHECK(back.tx.tmst == pr.tx.tmst && back.tx.sf == pr.tx.sf && back.tx.ipol == pr.tx.ipol);
        }
    }
    static const uint8_t eui[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    lw_sgw_init(&gw, lw_region_get("EU868"), eui, 1000, 0, 0);
    lw_sgw_input(&gw, 0, data, size, err, sizeof err);
    uint8_t out2[4096];
    size_t l2;
    while (lw_sgw_poll(&gw, 0, out2, sizeof out2, &l2) == 1) {
    }
    return 0;
}
