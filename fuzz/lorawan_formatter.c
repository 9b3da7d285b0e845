/* Fuzz target for lorawan/formatter's in-process paths (JavaScript through the worker is too slow
 * to fuzz): the first input byte picks the path, the rest is the payload or the data JSON.
 *   0: Cayenne LPP uplink decode: ok results are a JSON object, errors carry a message;
 *   1: LPP downlink decode, then re-encode of the decoded JSON must succeed and decode to the same JSON;
 *   2: JSON -> LPP downlink encode ({"value_<ch>": n}); an encoded payload must decode and re-encode
 *      to the identical bytes;
 *   3: kind none / unknown kinds never produce output. */
#include "lorawan/formatter.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(c)                                                                                                  \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            fprintf(stderr, "lorawan_formatter fuzz: check failed: %s (line %d)\n", #c, __LINE__);                     \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static lw_fmt_engine *eng(void) {
    static lw_fmt_engine *e;
    if (!e) {
        char err[100];
        e = lw_fmt_engine_new(NULL, err, sizeof err);
        FUZZ_CHECK(e != NULL);
    }
    return e;
}

static void check_failed(int rc, const lw_fmt_result *r) {
    FUZZ_CHECK(rc < 0 && r->error[0] != 0 && r->json == NULL && r->n_bytes == 0);
    FUZZ_CHECK(strlen(r->error) < sizeof r->error && !strchr(r->error, '\n'));
}

/* encode JSON, and when it succeeds check decode(encode) and encode(decode(encode)) */
static void encode_round_trip(lw_fmt_engine *e, const char *json, int must_succeed) {
    lw_fmt_result r;
    int rc = lw_fmt_encode_downlink(e, LW_FMT_LPP, NULL, json, 3, &r);
    if (rc != 0) {
        FUZZ_CHECK(!must_succeed);
        FUZZ_CHECK(rc == LW_FMT_ERR_INPUT);
        check_failed(rc, &r);
        lw_fmt_result_clear(&r);
        return;
    }
    FUZZ_CHECK(r.fport == 3 && r.n_bytes <= 242 && r.n_bytes % 3 == 0);
    uint8_t b1[256];
    size_t n1 = r.n_bytes;
    memcpy(b1, r.bytes, n1);
    lw_fmt_result_clear(&r);
    rc = lw_fmt_decode_downlink(e, LW_FMT_LPP, NULL, 3, b1, n1, &r);
    FUZZ_CHECK(rc == 0 && r.json && r.json[0] == '{');
    char *j1 = strdup(r.json);
    FUZZ_CHECK(j1 != NULL);
    lw_fmt_result_clear(&r);
    rc = lw_fmt_encode_downlink(e, LW_FMT_LPP, NULL, j1, 0, &r);
    FUZZ_CHECK(rc == 0 && r.n_bytes == n1 && memcmp(r.bytes, b1, n1) == 0 && r.fport == 1);
    lw_fmt_result_clear(&r);
    free(j1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    lw_fmt_engine *e = eng();
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    lw_fmt_result r;
    int rc;
    switch (data[0] % 4) {
    case 0:
        rc = lw_fmt_decode_uplink(e, LW_FMT_LPP, NULL, 1, p, n, 0, &r);
        if (rc == 0)
            FUZZ_CHECK(r.json && r.json[0] == '{' && r.json[strlen(r.json) - 1] == '}' && !r.warnings_json);
        else
            check_failed(rc, &r);
        lw_fmt_result_clear(&r);
        break;
    case 1:
        rc = lw_fmt_decode_downlink(e, LW_FMT_LPP, NULL, 1, p, n, &r);
        if (rc == 0) {
            FUZZ_CHECK(r.json && r.json[0] == '{');
            char *j = strdup(r.json);
            FUZZ_CHECK(j != NULL);
            lw_fmt_result_clear(&r);
            /* distinct channels: at most n/3 values, so it fits when the input did */
            encode_round_trip(e, j, n <= 242);
            free(j);
        } else {
            check_failed(rc, &r);
            lw_fmt_result_clear(&r);
        }
        break;
    case 2: {
        char *json = malloc(n + 1);
        FUZZ_CHECK(json != NULL);
        memcpy(json, p, n);
        json[n] = 0;
        encode_round_trip(e, json, 0);
        free(json);
        break;
    }
    default:
        rc = lw_fmt_decode_uplink(e, LW_FMT_NONE, NULL, 1, p, n, 0, &r);
        FUZZ_CHECK(rc == LW_FMT_ERR_NONE_SET && r.json == NULL);
        lw_fmt_result_clear(&r);
        rc = lw_fmt_encode_downlink(e, (lw_fmt_kind)(n % 7) == LW_FMT_LPP ? LW_FMT_NONE : (lw_fmt_kind)(n % 7 + 3),
                                    NULL, "{}", 1, &r);
        FUZZ_CHECK(rc < 0 && r.n_bytes == 0);
        lw_fmt_result_clear(&r);
        break;
    }
    return 0;
}
