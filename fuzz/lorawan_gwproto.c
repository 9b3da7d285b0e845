/* Fuzz target for lorawan/gwproto: parses the input as a Semtech UDP datagram, checks that a
 * rejection always comes with a message and a success with sane fields (rxpk count, size), and that
 * every accepted rxpk can be sent back as a PULL_RESP whose JSON fits and re-parses. */
#include "lorawan/gwproto.h"
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(c)                                                                                                  \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            fprintf(stderr, "lorawan_gwproto fuzz: check failed: %s (line %d)\n", #c, __LINE__);                       \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static lw_gw_msg msg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256];
    err[0] = 0;
    int rc = lw_gw_parse(data, size, &msg, err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(rc < 0 && err[0] != 0 && msg.n_rxpk == 0 && !msg.has_stat);
        return 0;
    }
    FUZZ_CHECK(size >= 4 && (msg.version == 1 || msg.version == 2));
    FUZZ_CHECK(msg.n_rxpk <= LW_GW_MAX_RXPK);
    for (size_t i = 0; i < msg.n_rxpk; i++) {
        const lw_gw_rxpk *p = &msg.rxpk[i];
        FUZZ_CHECK(p->size <= LW_GW_MAX_PAYLOAD);
        FUZZ_CHECK(p->modu == LW_GW_MODU_LORA || p->modu == LW_GW_MODU_FSK);
        lw_gw_txpk tx = {.imme = true,
                         .freq_hz = p->freq_hz ? p->freq_hz : 1,
                         .modu = p->modu,
                         .sf = p->sf,
                         .bw_khz = p->bw_khz,
                         .bitrate = p->bitrate,
                         .size = p->size,
                         .data = p->data};
        if (p->modu == LW_GW_MODU_LORA && strcmp(p->codr, "OFF") != 0) tx.codr = p->codr;
        uint8_t out[1024];
        size_t len = 0;
        FUZZ_CHECK(lw_gw_build_pull_resp(&tx, msg.version, msg.token, out, sizeof out, &len) == 0);
        json_error_t je;
        json_t *j = json_loadb((const char *)out + 4, len - 4, 0, &je);
        FUZZ_CHECK(j != NULL);
        FUZZ_CHECK(json_integer_value(json_object_get(json_object_get(j, "txpk"), "size")) == p->size);
        json_decref(j);
    }
    return 0;
}
