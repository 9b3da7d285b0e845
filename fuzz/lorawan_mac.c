/* Fuzz target for lorawan/mac: parses the input as uplink and as downlink MAC commands (FOpts or an
 * FPort-0 payload); whatever parses must re-encode to the identical bytes, its size must match, and
 * on failure the commands returned must re-encode to exactly the bytes before the failing offset. */
#include "lorawan/mac.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(c)                                                                                                  \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            fprintf(stderr, "lorawan_mac fuzz: check failed: %s (line %d)\n", #c, __LINE__);                           \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

#define MAXCMD 256

static void one(const uint8_t *data, size_t size, bool uplink, size_t max) {
    static lw_mac_cmd cmds[MAXCMD], again[MAXCMD];
    static uint8_t out[4096];
    char err[128];
    size_t count = 0, len = 0, count2 = 0;
    err[0] = 0;
    int rc = lw_mac_parse(data, size, uplink, cmds, max, &count, err, sizeof err);
    FUZZ_CHECK(count <= max);
    int sz = lw_mac_size(cmds, count, uplink);
    FUZZ_CHECK(sz >= 0 && (size_t)sz <= size);
    if (rc != 0) {
        FUZZ_CHECK(err[0] != 0);
        FUZZ_CHECK(rc == LW_ERR_UNSUPPORTED || rc == LW_ERR_TRUNCATED || rc == LW_ERR_BUFFER);
        FUZZ_CHECK((size_t)sz < size);
        if (rc == LW_ERR_UNSUPPORTED) FUZZ_CHECK(lw_mac_payload_len(data[sz], uplink) == LW_ERR_UNSUPPORTED);
    } else {
        FUZZ_CHECK((size_t)sz == size);
    }
    /* the commands returned re-encode to the bytes they came from */
    if ((size_t)sz > sizeof out) return;
    FUZZ_CHECK(lw_mac_encode(cmds, count, uplink, out, sizeof out, &len) == 0);
    FUZZ_CHECK(len == (size_t)sz && (len == 0 || memcmp(out, data, len) == 0));
    FUZZ_CHECK(lw_mac_parse(out, len, uplink, again, MAXCMD, &count2, err, sizeof err) == 0);
    FUZZ_CHECK(count2 == count);
    for (size_t i = 0; i < count; i++) {
        FUZZ_CHECK(again[i].cid == cmds[i].cid);
        if (cmds[i].cid >= LW_MAC_PROPRIETARY_MIN)
            FUZZ_CHECK(again[i].u.proprietary.len == cmds[i].u.proprietary.len);
        else
            FUZZ_CHECK(memcmp(&again[i], &cmds[i], sizeof cmds[i]) == 0);
    }
    if (len > 0) FUZZ_CHECK(lw_mac_encode(cmds, count, uplink, out, len - 1, &len) == LW_ERR_BUFFER);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    one(data, size, true, MAXCMD);
    one(data, size, false, MAXCMD);
    one(data, size, true, 2);
    one(data, size, false, 2);
    return 0;
}
