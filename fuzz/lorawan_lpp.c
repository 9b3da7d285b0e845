/* Fuzz target for lorawan/lpp: decodes the input as an uplink (TTS and extended type sets) and as a
 * TTS downlink into output buffers of many small capacities, checking that nothing is written past
 * the capacity, that the size reported on LW_LPP_ERR_NOSPACE matches the full output, that errors
 * come with a message, and that every decoded item re-encodes to the identical bytes. */
#include "lorawan/lpp.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(c)                                                                                                  \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            fprintf(stderr, "lorawan_lpp fuzz: check failed: %s (line %d)\n", #c, __LINE__);                           \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

#define GUARD 64
static char full[16384];
static char small[4096 + GUARD];

typedef int (*decode_fn)(const uint8_t *, size_t, unsigned, char *, size_t, size_t *, char *, size_t);

static int up(const uint8_t *p, size_t n, unsigned flags, char *o, size_t cap, size_t *len, char *e, size_t el) {
    return lw_lpp_decode_json_ex(p, n, flags, o, cap, len, e, el);
}
static int down(const uint8_t *p, size_t n, unsigned flags, char *o, size_t cap, size_t *len, char *e, size_t el) {
    (void)flags;
    return lw_lpp_decode_downlink_json(p, n, o, cap, len, e, el);
}

static void one(decode_fn f, const uint8_t *data, size_t size, unsigned flags) {
    char err[200];
    size_t len = 0;
    err[0] = 0;
    int rc = f(data, size, flags, full, sizeof full, &len, err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(rc < 0 && err[0] != 0 && len == 0 && full[0] == 0);
        return;
    }
    FUZZ_CHECK(len == strlen(full) && len >= 2 && full[0] == '{' && full[len - 1] == '}');
    static const size_t caps[] = {0, 1, 2, 3, 7, 16, 31, 64, 100, 255, 1000, 4096};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        size_t cap = caps[i];
        memset(small, 0x5a, sizeof small);
        size_t l2 = 0;
        int r2 = f(data, size, flags, small, cap, &l2, NULL, 0);
        for (size_t k = cap; k < sizeof small; k++) FUZZ_CHECK(small[k] == 0x5a);
        FUZZ_CHECK(l2 == len);
        if (cap > len) {
            FUZZ_CHECK(r2 == 0 && memcmp(small, full, len + 1) == 0);
        } else {
            FUZZ_CHECK(r2 == LW_LPP_ERR_NOSPACE);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    one(up, data, size, LW_LPP_TTS);
    one(up, data, size, LW_LPP_EXTENDED);
    one(down, data, size, 0);

    /* every item that decodes re-encodes to the same bytes */
    uint8_t buf[LW_LPP_MAX_PAYLOAD];
    lw_lpp_writer w;
    lw_lpp_writer_init(&w, buf, sizeof buf);
    size_t off = 0;
    lw_lpp_item it;
    int rc;
    while ((rc = lw_lpp_next(data, size, &off, LW_LPP_EXTENDED, &it, NULL, 0)) == 1) {
        if (it.type == LW_LPP_SWITCH && it.raw[0] > 1) continue; /* decoder accepts, encoder refuses */
        size_t before = w.len;
        if (lw_lpp_add_raw(&w, it.channel, it.type, it.raw, it.info->nfields) != 0) break;
        FUZZ_CHECK(w.len - before == 2u + it.info->size);
        FUZZ_CHECK(memcmp(buf + before, data + it.offset, w.len - before) == 0);
    }
    FUZZ_CHECK(rc == 1 || rc == 0 || rc < 0);
    return 0;
}
