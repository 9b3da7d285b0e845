/* Unit tests for lorawan/crypto and lorawan/frame: every vector in
 * $TE_SOURCE_DIR/../shared/data/lorawan/vectors.json (read with jansson at test time), then our own
 * cases: truncated/oversize frames, FOptsLen beyond the frame, wrong MICs, direction and
 * Proprietary rejection, and 32-bit FCnt reconstruction across rollovers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "lorawan/crypto.h"
#include "lorawan/frame.h"
#include "lw_test_hex.h"

/* ---- helpers ---- */



static int b64val(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

static int unb64(const char *s, uint8_t *out, size_t cap) {
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (; *s && *s != '='; s++) {
        int v = b64val(*s);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= cap) return -1;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return (int)n;
}

static void tohex(const uint8_t *p, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = 0;
}

static int failures;
static const char *cur_id;

#define VCHECK(cond, ...)                                                                                              \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "vector %s: check failed: %s: ", cur_id, #cond);                                           \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fprintf(stderr, "\n");                                                                                     \
            failures++;                                                                                                \
            return;                                                                                                    \
        }                                                                                                              \
    } while (0)

static const char *str(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long num(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* hex field into a buffer; length or -1 when absent/invalid */
static int hexfield(json_t *o, const char *k, uint8_t *out, size_t cap) {
    const char *s = str(o, k);
    return s ? lwt_unhex(s, out, cap) : -1;
}

static uint32_t hex32(json_t *o, const char *k) {
    const char *s = str(o, k);
    return s ? (uint32_t)strtoul(s, NULL, 16) : 0;
}

static int bytes_eq_hex(const uint8_t *p, size_t n, const char *hex) {
    uint8_t b[LW_PHY_MAX + 64];
    int m = lwt_unhex(hex, b, sizeof b);
    return m == (int)n && (n == 0 || memcmp(p, b, n) == 0);
}

/* ---- per-kind checks ---- */

static void v_join_request(json_t *in, json_t *ex) {
    uint8_t key[16], phy[LW_PHY_MAX], jeui[8], deui[8], out[LW_PHY_MAX];
    char err[128] = "", hx[2 * LW_PHY_MAX + 1];
    VCHECK(hexfield(in, "appkey", key, 16) == 16, "appkey");
    VCHECK(hexfield(in, "joineui", jeui, 8) == 8, "joineui");
    VCHECK(hexfield(in, "deveui", deui, 8) == 8, "deveui");
    int n = hexfield(ex, "phy", phy, sizeof phy);
    VCHECK(n > 0, "phy");
    if (str(ex, "phy_b64")) {
        uint8_t b[LW_PHY_MAX];
        int m = unb64(str(ex, "phy_b64"), b, sizeof b);
        VCHECK(m == n && memcmp(b, phy, (size_t)n) == 0, "phy_b64 differs from phy");
    }
    lw_frame f;
    int rc = lw_frame_parse(phy, (size_t)n, LW_EXPECT_UP, &f, err, sizeof err);
    VCHECK(rc == 0, "parse: %s", err);
    VCHECK(f.mtype == LW_MTYPE_JOIN_REQUEST, "mtype %d", f.mtype);
    VCHECK(memcmp(f.join_eui, jeui, 8) == 0, "joineui");
    VCHECK(memcmp(f.dev_eui, deui, 8) == 0, "deveui");
    VCHECK(f.dev_nonce == num(in, "devnonce"), "devnonce %u", f.dev_nonce);
    tohex(f.mic, 4, hx);
    VCHECK(bytes_eq_hex(f.mic, 4, str(ex, "mic")), "mic %s", hx);
    lw_keys k = {.app_key = key};
    VCHECK(lw_mic_check(phy, (size_t)n, &f, &k, 0) == 0, "MIC check");
    lw_frame g = {.mtype = LW_MTYPE_JOIN_REQUEST, .dev_nonce = (uint16_t)num(in, "devnonce")};
    memcpy(g.join_eui, jeui, 8);
    memcpy(g.dev_eui, deui, 8);
    size_t on = 0;
    VCHECK(lw_frame_seal(&g, &k, 0, out, sizeof out, &on, err, sizeof err) == 0, "seal: %s", err);
    tohex(out, on, hx);
    VCHECK(on == (size_t)n && memcmp(out, phy, on) == 0, "sealed %s", hx);
}

static void v_join_accept(json_t *in, json_t *ex) {
    uint8_t key[16], phy[LW_PHY_MAX], cfl[16], out[LW_PHY_MAX];
    char err[128] = "", hx[2 * LW_PHY_MAX + 1];
    VCHECK(hexfield(in, "appkey", key, 16) == 16, "appkey");
    int cn = hexfield(in, "cflist", cfl, 16);
    VCHECK(cn == 0 || cn == 16, "cflist");
    int n = hexfield(ex, "phy", phy, sizeof phy);
    VCHECK(n > 0, "phy");
    lw_frame f;
    int rc = lw_frame_parse(phy, (size_t)n, LW_EXPECT_DOWN, &f, err, sizeof err);
    VCHECK(rc == 0, "parse: %s", err);
    VCHECK(f.mtype == LW_MTYPE_JOIN_ACCEPT, "mtype");
    rc = lw_join_accept_open(key, &f, err, sizeof err);
    VCHECK(rc == 0, "open: %s", err);
    VCHECK(f.join_nonce == (uint32_t)num(in, "joinnonce"), "joinnonce %u", f.join_nonce);
    VCHECK(f.net_id == hex32(in, "netid"), "netid %06x", f.net_id);
    VCHECK(f.dev_addr == hex32(in, "devaddr"), "devaddr %08x", f.dev_addr);
    VCHECK(f.dl_settings == num(in, "dlsettings"), "dlsettings %u", f.dl_settings);
    VCHECK(f.rx_delay == num(in, "rxdelay"), "rxdelay %u", f.rx_delay);
    VCHECK(f.has_cflist == (cn == 16), "has_cflist");
    if (cn == 16) VCHECK(memcmp(f.cflist, cfl, 16) == 0, "cflist content");
    tohex(f.mic, 4, hx);
    VCHECK(bytes_eq_hex(f.mic, 4, str(ex, "mic")), "mic %s", hx);
    size_t on = 0;
    if (str(ex, "plaintext")) {
        VCHECK(lw_frame_build(&f, out, sizeof out, &on, err, sizeof err) == 0, "build: %s", err);
        tohex(out, on, hx);
        VCHECK(bytes_eq_hex(out, on, str(ex, "plaintext")), "plaintext %s", hx);
    }
    lw_frame g = {.mtype = LW_MTYPE_JOIN_ACCEPT,
                  .join_nonce = (uint32_t)num(in, "joinnonce"),
                  .net_id = hex32(in, "netid"),
                  .dev_addr = hex32(in, "devaddr"),
                  .dl_settings = (uint8_t)num(in, "dlsettings"),
                  .rx_delay = (uint8_t)num(in, "rxdelay"),
                  .has_cflist = cn == 16};
    if (cn == 16) memcpy(g.cflist, cfl, 16);
    lw_keys k = {.app_key = key};
    VCHECK(lw_frame_seal(&g, &k, 0, out, sizeof out, &on, err, sizeof err) == 0, "seal: %s", err);
    tohex(out, on, hx);
    VCHECK(on == (size_t)n && memcmp(out, phy, on) == 0, "sealed %s", hx);
    /* a flipped bit in the encrypted body must fail the MIC */
    phy[5] ^= 0x01;
    VCHECK(lw_frame_parse(phy, (size_t)n, LW_EXPECT_DOWN, &f, err, sizeof err) == 0, "reparse");
    VCHECK(lw_join_accept_open(key, &f, err, sizeof err) == LW_ERR_MIC, "tampered accepted");
}

static int mtype_from_name(const char *s) {
    static const char *names[] = {"JoinRequest",         "JoinAccept",      "UnconfirmedDataUp",
                                  "UnconfirmedDataDown", "ConfirmedDataUp", "ConfirmedDataDown"};
    for (int i = 0; s && i < 6; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

static int flag(json_t *fc, const char *k) { return json_is_true(json_object_get(fc, k)); }

static void v_data(json_t *in, json_t *ex, int up) {
    uint8_t nwk[16], app[16], phy[LW_PHY_MAX], fopts[16], pl[LW_PHY_MAX], out[LW_PHY_MAX];
    char err[128] = "", hx[2 * LW_PHY_MAX + 1];
    int has_nwk = hexfield(in, "nwkskey", nwk, 16) == 16;
    int has_app = hexfield(in, "appskey", app, 16) == 16;
    VCHECK(has_nwk, "nwkskey");
    int mt = mtype_from_name(str(in, "mtype"));
    VCHECK(mt >= 2, "mtype name %s", str(in, "mtype"));
    VCHECK(lw_mtype_is_uplink((lw_mtype)mt) == up, "kind vs mtype");
    int fon = str(in, "fopts") ? hexfield(in, "fopts", fopts, 15) : 0;
    VCHECK(fon >= 0, "fopts");
    int pln = str(in, "payload") ? hexfield(in, "payload", pl, sizeof pl) : -1;
    uint32_t fcnt = (uint32_t)num(in, "fcnt"), addr = hex32(in, "devaddr");
    json_t *fc = json_object_get(in, "fctrl");
    long long fport = num(in, "fport");
    int n = hexfield(ex, "phy", phy, sizeof phy);
    VCHECK(n > 0, "phy");

    lw_frame f;
    int rc = lw_frame_parse(phy, (size_t)n, up ? LW_EXPECT_UP : LW_EXPECT_DOWN, &f, err, sizeof err);
    VCHECK(rc == 0, "parse: %s", err);
    VCHECK((int)f.mtype == mt, "mtype %d", f.mtype);
    VCHECK(f.dev_addr == addr, "devaddr %08x", f.dev_addr);
    VCHECK(f.fcnt16 == (uint16_t)fcnt, "fcnt16 %u", f.fcnt16);
    uint32_t last = fcnt > 3 ? fcnt - 3 : 0;
    VCHECK(lw_fcnt_reconstruct(last, f.fcnt16) == fcnt, "fcnt32 reconstruct");
    VCHECK(f.fctrl.adr == flag(fc, "adr"), "adr");
    VCHECK(f.fctrl.ack == flag(fc, "ack"), "ack");
    if (up) {
        VCHECK(f.fctrl.adr_ack_req == flag(fc, "adrAckReq"), "adrAckReq");
        VCHECK(f.fctrl.class_b == flag(fc, "classB"), "classB");
    } else {
        VCHECK(f.fctrl.fpending == flag(fc, "fPending"), "fPending");
    }
    VCHECK(f.fopts_len == fon && memcmp(f.fopts, fopts, (size_t)fon) == 0, "fopts");
    if (fport >= 0)
        VCHECK(f.has_fport && f.fport == fport, "fport %u", f.fport);
    else
        VCHECK(!f.has_fport, "fport present");
    tohex(f.mic, 4, hx);
    VCHECK(bytes_eq_hex(f.mic, 4, str(ex, "mic")), "mic %s", hx);
    lw_keys k = {.nwk_s_key = nwk, .app_s_key = has_app ? app : NULL};
    VCHECK(lw_mic_check(phy, (size_t)n, &f, &k, fcnt) == 0, "MIC check");
    if (fcnt > 0xFFFF) /* the 16 bits alone are not enough */
        VCHECK(lw_mic_check(phy, (size_t)n, &f, &k, fcnt & 0xFFFF) == LW_ERR_MIC, "fcnt16 MIC");
    if (str(ex, "frm_payload_encrypted"))
        VCHECK(bytes_eq_hex(f.frm, f.frm_len, str(ex, "frm_payload_encrypted")), "frm encrypted");
    int have_key = f.fport == 0 ? 1 : has_app;
    if (pln >= 0 && have_key) {
        uint8_t dec[LW_PHY_MAX];
        VCHECK(lw_frm_decrypt(&f, &k, fcnt, dec) == 0, "decrypt");
        tohex(dec, f.frm_len, hx);
        VCHECK(f.frm_len == (size_t)pln && memcmp(dec, pl, (size_t)pln) == 0, "payload %s", hx);
        lw_frame g = {.mtype = (lw_mtype)mt,
                      .dev_addr = addr,
                      .fopts_len = (uint8_t)fon,
                      .has_fport = fport >= 0,
                      .fport = (uint8_t)(fport >= 0 ? fport : 0),
                      .frm_len = (size_t)pln};
        g.fctrl.adr = flag(fc, "adr");
        g.fctrl.ack = flag(fc, "ack");
        g.fctrl.adr_ack_req = flag(fc, "adrAckReq");
        g.fctrl.class_b = flag(fc, "classB");
        g.fctrl.fpending = flag(fc, "fPending");
        memcpy(g.fopts, fopts, (size_t)fon);
        memcpy(g.frm, pl, (size_t)pln);
        size_t on = 0;
        VCHECK(lw_frame_seal(&g, &k, fcnt, out, sizeof out, &on, err, sizeof err) == 0, "seal: %s", err);
        tohex(out, on, hx);
        VCHECK(on == (size_t)n && memcmp(out, phy, on) == 0, "sealed %s", hx);
    }
    /* any flipped bit fails the MIC */
    phy[n / 2] ^= 0x80;
    rc = lw_frame_parse(phy, (size_t)n, LW_EXPECT_ANY, &f, err, sizeof err);
    if (rc == 0) VCHECK(lw_mic_check(phy, (size_t)n, &f, &k, fcnt) == LW_ERR_MIC, "tampered ok");
}

static void v_session_keys(json_t *in, json_t *ex) {
    uint8_t key[16], nwk[16], app[16];
    char hx[33];
    VCHECK(hexfield(in, "appkey", key, 16) == 16, "appkey");
    VCHECK(lw_derive_session_keys(key, (uint32_t)num(in, "joinnonce"), hex32(in, "netid"),
                                  (uint16_t)num(in, "devnonce"), nwk, app) == 0,
           "derive");
    tohex(nwk, 16, hx);
    VCHECK(bytes_eq_hex(nwk, 16, str(ex, "nwkskey")), "nwkskey %s", hx);
    tohex(app, 16, hx);
    VCHECK(bytes_eq_hex(app, 16, str(ex, "appskey")), "appskey %s", hx);
}

static void v_frm_crypt(json_t *in, json_t *ex) {
    uint8_t key[16], pt[LW_PHY_MAX], ct[LW_PHY_MAX], back[LW_PHY_MAX];
    char hx[2 * LW_PHY_MAX + 1];
    VCHECK(hexfield(in, "key", key, 16) == 16, "key");
    int n = hexfield(in, "plaintext", pt, sizeof pt);
    VCHECK(n >= 0, "plaintext");
    int dir = (int)num(in, "dir");
    uint32_t addr = hex32(in, "devaddr"), fcnt = (uint32_t)num(in, "fcnt");
    VCHECK(lw_frm_crypt(key, dir, addr, fcnt, pt, (size_t)n, ct) == 0, "crypt");
    tohex(ct, (size_t)n, hx);
    VCHECK(bytes_eq_hex(ct, (size_t)n, str(ex, "ciphertext")), "ciphertext %s", hx);
    VCHECK(lw_frm_crypt(key, dir, addr, fcnt, ct, (size_t)n, back) == 0, "decrypt");
    VCHECK(memcmp(back, pt, (size_t)n) == 0, "roundtrip");
}

static void v_mic(json_t *in, json_t *ex) {
    uint8_t key[16], msg[LW_PHY_MAX], mic[4];
    char hx[9];
    VCHECK(hexfield(in, "key", key, 16) == 16, "key");
    int n = hexfield(in, "msg", msg, sizeof msg);
    VCHECK(n >= 0, "msg");
    VCHECK(lw_data_mic(key, (int)num(in, "dir"), hex32(in, "devaddr"), (uint32_t)num(in, "fcnt"), msg, (size_t)n,
                       mic) == 0,
           "mic");
    tohex(mic, 4, hx);
    VCHECK(bytes_eq_hex(mic, 4, str(ex, "mic")), "mic %s", hx);
}

static void test_vectors_json(void **st) {
    (void)st;
    const char *root = getenv("TE_SOURCE_DIR");
    if (!root) fail_msg("TE_SOURCE_DIR is not set (ctest sets it to the project root)");
    char path[4096];
    snprintf(path, sizeof path, "%s/../shared/data/lorawan/vectors.json", root);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) fail_msg("cannot read %s: %s (line %d)", path, jerr.text, jerr.line);
    const char *desc = str(doc, "description");
    assert_non_null(desc);
    print_message("vectors.json: %s\n", desc);
    json_t *vs = json_object_get(doc, "vectors");
    assert_true(json_is_array(vs));
    size_t i, total = json_array_size(vs);
    json_t *v;
    int passed = 0;
    json_array_foreach(vs, i, v) {
        const char *kind = str(v, "kind");
        json_t *in = json_object_get(v, "inputs"), *ex = json_object_get(v, "expected");
        cur_id = str(v, "id") ? str(v, "id") : "?";
        int before = failures;
        if (!kind || !json_is_object(in) || !json_is_object(ex)) {
            fprintf(stderr, "vector %s: missing kind/inputs/expected\n", cur_id);
            failures++;
        } else if (!strcmp(kind, "join_request")) {
            v_join_request(in, ex);
        } else if (!strcmp(kind, "join_accept")) {
            v_join_accept(in, ex);
        } else if (!strcmp(kind, "data_up")) {
            v_data(in, ex, 1);
        } else if (!strcmp(kind, "data_down")) {
            v_data(in, ex, 0);
        } else if (!strcmp(kind, "session_keys")) {
            v_session_keys(in, ex);
        } else if (!strcmp(kind, "frm_payload_crypt")) {
            v_frm_crypt(in, ex);
        } else if (!strcmp(kind, "mic")) {
            v_mic(in, ex);
        } else {
            fprintf(stderr, "vector %s: unknown kind %s\n", cur_id, kind);
            failures++;
        }
        if (failures == before) passed++;
    }
    print_message("lorawan vectors: %d/%zu passed\n", passed, total);
    json_decref(doc);
    assert_true(total > 0);
    assert_int_equal(failures, 0);
}

/* ---- own cases ---- */

static const uint8_t K1[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
static const uint8_t K2[16] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2};

/* parse an exact-size heap copy so ASan sees any read past the end */
static int parse_copy(const uint8_t *p, size_t n, int expect, lw_frame *f) {
    uint8_t *c = malloc(n ? n : 1);
    assert_non_null(c);
    if (n) memcpy(c, p, n);
    char err[128] = "";
    int rc = lw_frame_parse(c, n, expect, f, err, sizeof err);
    if (rc) assert_true(err[0] != 0); /* every rejection says why */
    free(c);
    return rc;
}

static size_t sealed_up(uint8_t *out, uint32_t fcnt, int nopts, int fport, size_t plen) {
    lw_frame f = {.mtype = LW_MTYPE_CONFIRMED_UP,
                  .dev_addr = 0x26011bda,
                  .fopts_len = (uint8_t)nopts,
                  .has_fport = fport >= 0,
                  .fport = (uint8_t)(fport < 0 ? 0 : fport),
                  .frm_len = plen};
    f.fctrl.adr = true;
    for (int i = 0; i < nopts; i++) f.fopts[i] = (uint8_t)(i + 2);
    for (size_t i = 0; i < plen; i++) f.frm[i] = (uint8_t)i;
    lw_keys k = {.nwk_s_key = K1, .app_s_key = K2};
    size_t n = 0;
    char err[128];
    assert_int_equal(lw_frame_seal(&f, &k, fcnt, out, LW_PHY_MAX, &n, err, sizeof err), 0);
    return n;
}

static void test_truncated_and_oversize(void **st) {
    (void)st;
    uint8_t phy[LW_PHY_MAX + 8];
    lw_frame f;
    size_t n = sealed_up(phy, 5, 3, 7, 10);
    assert_int_equal(parse_copy(phy, n, LW_EXPECT_UP, &f), 0);
    /* every truncation of a data frame either fails or parses to something shorter, never crashes */
    for (size_t m = 0; m < LW_DATA_MIN; m++) assert_int_equal(parse_copy(phy, m, LW_EXPECT_ANY, &f), LW_ERR_TRUNCATED);
    for (size_t m = LW_DATA_MIN; m < LW_DATA_MIN + 3; m++)
        assert_int_equal(parse_copy(phy, m, LW_EXPECT_ANY, &f), LW_ERR_FOPTS);
    /* oversize */
    memset(phy + n, 0, sizeof phy - n);
    assert_int_equal(parse_copy(phy, LW_PHY_MAX + 1, LW_EXPECT_ANY, &f), LW_ERR_TOO_LONG);
    assert_int_equal(parse_copy(phy, LW_PHY_MAX, LW_EXPECT_ANY, &f), 0);
    /* join request: exactly 23 bytes */
    uint8_t jr[24] = {0x00};
    assert_int_equal(parse_copy(jr, 22, LW_EXPECT_ANY, &f), LW_ERR_TRUNCATED);
    assert_int_equal(parse_copy(jr, 24, LW_EXPECT_ANY, &f), LW_ERR_TOO_LONG);
    assert_int_equal(parse_copy(jr, 23, LW_EXPECT_ANY, &f), 0);
    /* join accept: 17 or 33 bytes */
    uint8_t ja[34] = {0x20};
    for (size_t m = 1; m < 34; m++) {
        int rc = parse_copy(ja, m, LW_EXPECT_ANY, &f);
        assert_int_equal(rc, (m == 17 || m == 33) ? 0 : (m < 17 ? LW_ERR_TRUNCATED : rc));
        if (m != 17 && m != 33) assert_true(rc == LW_ERR_TRUNCATED || rc == LW_ERR_TOO_LONG);
    }
    assert_int_equal(parse_copy(ja, 0, LW_EXPECT_ANY, &f), LW_ERR_TRUNCATED);
    /* build refuses a frame that would exceed 255 bytes, and a too small buffer */
    lw_frame g = {.mtype = LW_MTYPE_UNCONFIRMED_UP, .has_fport = true, .fport = 1, .frm_len = 243};
    size_t on;
    uint8_t out[LW_PHY_MAX];
    assert_int_equal(lw_frame_build(&g, out, sizeof out, &on, NULL, 0), LW_ERR_TOO_LONG);
    g.frm_len = 242;
    assert_int_equal(lw_frame_build(&g, out, sizeof out, &on, NULL, 0), 0);
    assert_int_equal(on, 255);
    assert_int_equal(lw_frame_build(&g, out, 254, &on, NULL, 0), LW_ERR_BUFFER);
}

static void test_fopts_beyond_frame(void **st) {
    (void)st;
    uint8_t phy[LW_PHY_MAX];
    lw_frame f;
    char err[128];
    size_t n = sealed_up(phy, 1, 0, -1, 0); /* 12 bytes: no FOpts, no FPort */
    assert_int_equal(n, 12);
    for (int l = 1; l <= 15; l++) {
        phy[5] = (uint8_t)((phy[5] & 0xF0) | l);
        assert_int_equal(parse_copy(phy, n, LW_EXPECT_UP, &f), LW_ERR_FOPTS);
    }
    n = sealed_up(phy, 1, 2, 1, 0); /* FOpts 2, FPort, empty payload */
    assert_int_equal(parse_copy(phy, n, LW_EXPECT_UP, &f), 0);
    assert_int_equal(f.fopts_len, 2);
    assert_true(f.has_fport);
    assert_int_equal(f.frm_len, 0);
    phy[5] = (uint8_t)((phy[5] & 0xF0) | 4); /* claims 4: FPort byte eaten, then MIC overlap */
    assert_int_equal(lw_frame_parse(phy, n, LW_EXPECT_UP, &f, err, sizeof err), LW_ERR_FOPTS);
    assert_non_null(strstr(err, "FOptsLen"));
    /* FOpts together with FPort 0 */
    n = sealed_up(phy, 1, 2, 1, 3);
    phy[8 + 2] = 0;
    assert_int_equal(parse_copy(phy, n, LW_EXPECT_UP, &f), LW_ERR_FOPTS);
    lw_frame g = {.mtype = LW_MTYPE_UNCONFIRMED_UP, .fopts_len = 1, .has_fport = true, .fport = 0};
    size_t on;
    assert_int_equal(lw_frame_build(&g, phy, sizeof phy, &on, NULL, 0), LW_ERR_FOPTS);
    g.fopts_len = 16;
    g.fport = 1;
    assert_int_equal(lw_frame_build(&g, phy, sizeof phy, &on, NULL, 0), LW_ERR_FOPTS);
}

static void test_wrong_mic(void **st) {
    (void)st;
    uint8_t phy[LW_PHY_MAX], dec[LW_PHY_MAX];
    lw_frame f;
    size_t n = sealed_up(phy, 0x10005, 1, 9, 20);
    lw_keys k = {.nwk_s_key = K1, .app_s_key = K2}, wrong = {.nwk_s_key = K2, .app_s_key = K2};
    assert_int_equal(parse_copy(phy, n, LW_EXPECT_UP, &f), 0);
    assert_int_equal(lw_mic_check(phy, n, &f, &k, 0x10005), 0);
    assert_int_equal(lw_mic_check(phy, n, &f, &k, 0x5), LW_ERR_MIC);
    assert_int_equal(lw_mic_check(phy, n, &f, &k, 0x20005), LW_ERR_MIC);
    assert_int_equal(lw_mic_check(phy, n, &f, &wrong, 0x10005), LW_ERR_MIC);
    lw_keys none = {0};
    assert_int_equal(lw_mic_check(phy, n, &f, &none, 0x10005), LW_ERR_KEY);
    assert_int_equal(lw_frm_decrypt(&f, &k, 0x10005, dec), 0);
    for (size_t i = 0; i < 20; i++) assert_int_equal(dec[i], i);
    for (size_t i = 0; i < n; i++) { /* any single flipped bit */
        for (int b = 0; b < 8; b++) {
            phy[i] ^= (uint8_t)(1u << b);
            if (lw_frame_parse(phy, n, LW_EXPECT_ANY, &f, NULL, 0) == 0 &&
                (f.mtype == LW_MTYPE_CONFIRMED_UP || f.mtype == LW_MTYPE_UNCONFIRMED_UP ||
                 f.mtype == LW_MTYPE_CONFIRMED_DOWN || f.mtype == LW_MTYPE_UNCONFIRMED_DOWN))
                assert_int_equal(lw_mic_check(phy, n, &f, &k, 0x10005), LW_ERR_MIC);
            phy[i] ^= (uint8_t)(1u << b);
        }
    }
    /* join request with the wrong AppKey */
    lw_frame jr = {.mtype = LW_MTYPE_JOIN_REQUEST, .dev_nonce = 7};
    lw_keys jk = {.app_key = K1}, jw = {.app_key = K2};
    size_t jn;
    assert_int_equal(lw_frame_seal(&jr, &jk, 0, phy, sizeof phy, &jn, NULL, 0), 0);
    assert_int_equal(parse_copy(phy, jn, LW_EXPECT_UP, &f), 0);
    assert_int_equal(lw_mic_check(phy, jn, &f, &jk, 0), 0);
    assert_int_equal(lw_mic_check(phy, jn, &f, &jw, 0), LW_ERR_MIC);
    /* join accept opened with the wrong key */
    lw_frame ja = {.mtype = LW_MTYPE_JOIN_ACCEPT, .join_nonce = 1, .net_id = 0x13, .dev_addr = 5};
    assert_int_equal(lw_frame_seal(&ja, &jk, 0, phy, sizeof phy, &jn, NULL, 0), 0);
    assert_int_equal(parse_copy(phy, jn, LW_EXPECT_DOWN, &f), 0);
    lw_frame f2 = f;
    assert_int_equal(lw_join_accept_open(K2, &f2, NULL, 0), LW_ERR_MIC);
    assert_int_equal(lw_join_accept_open(K1, &f, NULL, 0), 0);
    assert_int_equal(f.dev_addr, 5);
}

static void test_direction_and_types(void **st) {
    (void)st;
    uint8_t phy[LW_PHY_MAX];
    lw_frame f;
    char err[128];
    size_t n = sealed_up(phy, 1, 0, 1, 1);
    assert_int_equal(lw_frame_parse(phy, n, LW_EXPECT_DOWN, &f, err, sizeof err), LW_ERR_DIRECTION);
    assert_int_equal(lw_frame_parse(phy, n, LW_EXPECT_UP, &f, err, sizeof err), 0);
    phy[0] = 0xE0; /* proprietary */
    assert_int_equal(lw_frame_parse(phy, n, LW_EXPECT_ANY, &f, err, sizeof err), LW_ERR_PROPRIETARY);
    assert_non_null(strstr(err, "roprietary"));
    phy[0] = 0xC0; /* rejoin (1.1) */
    assert_int_equal(lw_frame_parse(phy, n, LW_EXPECT_ANY, &f, err, sizeof err), LW_ERR_UNSUPPORTED);
    phy[0] = 0x41; /* major 1 */
    assert_int_equal(lw_frame_parse(phy, n, LW_EXPECT_ANY, &f, err, sizeof err), LW_ERR_UNSUPPORTED);
    assert_int_equal(lw_frame_parse(NULL, 3, LW_EXPECT_ANY, &f, err, sizeof err), LW_ERR_ARG);
    lw_frame p = {.mtype = LW_MTYPE_PROPRIETARY};
    size_t on;
    assert_int_equal(lw_frame_build(&p, phy, sizeof phy, &on, NULL, 0), LW_ERR_PROPRIETARY);
    /* missing AppSKey for an application port */
    lw_frame g = {.mtype = LW_MTYPE_UNCONFIRMED_DOWN, .has_fport = true, .fport = 3, .frm_len = 2};
    lw_keys k = {.nwk_s_key = K1};
    assert_int_equal(lw_frame_seal(&g, &k, 0, phy, sizeof phy, &on, err, sizeof err), LW_ERR_KEY);
    assert_true(strcmp(lw_strerror(LW_ERR_MIC), "MIC mismatch") == 0);
}

static void test_fcnt_reconstruct(void **st) {
    (void)st;
    assert_int_equal(lw_fcnt_reconstruct(0, 0), 0);
    assert_int_equal(lw_fcnt_reconstruct(0, 1), 1);
    assert_int_equal(lw_fcnt_reconstruct(10, 10), 10); /* a repeat stays itself */
    assert_int_equal(lw_fcnt_reconstruct(10, 11), 11);
    assert_int_equal(lw_fcnt_reconstruct(0xFFFF, 0), 0x10000); /* 16-bit rollover */
    assert_int_equal(lw_fcnt_reconstruct(0xFFFE, 0x0003), 0x10003);
    assert_int_equal(lw_fcnt_reconstruct(0x1FFFF, 0x0000), 0x20000);
    assert_int_equal(lw_fcnt_reconstruct(0x12345, 0x2346), 0x12346);
    assert_int_equal(lw_fcnt_reconstruct(0x12345, 0x2344), 0x22344); /* older 16 bits: next block */
    assert_int_equal(lw_fcnt_reconstruct(0x10000, 0xFFFF), 0x1FFFF);
    assert_int_equal(lw_fcnt_reconstruct(0xFFFFFFF0u, 0xFFF5), 0xFFFFFFF5u);
    assert_int_equal(lw_fcnt_reconstruct(0xFFFFFFF0u, 0x0002), 0x00000002u); /* 32-bit wrap */
    /* a sealed frame with a 32-bit FCnt verifies only with the reconstructed value */
    uint8_t phy[LW_PHY_MAX];
    lw_frame f;
    size_t n = sealed_up(phy, 0x30001, 0, 2, 4);
    assert_int_equal(parse_copy(phy, n, LW_EXPECT_UP, &f), 0);
    lw_keys k = {.nwk_s_key = K1, .app_s_key = K2};
    uint32_t fc = lw_fcnt_reconstruct(0x2FFFF, f.fcnt16);
    assert_int_equal(fc, 0x30001);
    assert_int_equal(lw_mic_check(phy, n, &f, &k, fc), 0);
}

static void test_join_roundtrip_cflist(void **st) {
    (void)st;
    lw_frame ja = {.mtype = LW_MTYPE_JOIN_ACCEPT,
                   .join_nonce = 0xABCDEF,
                   .net_id = 0x000013,
                   .dev_addr = 0x26011bda,
                   .dl_settings = 0x03,
                   .rx_delay = 1,
                   .has_cflist = true};
    for (int i = 0; i < 16; i++) ja.cflist[i] = (uint8_t)(0xA0 + i);
    lw_keys k = {.app_key = K1};
    uint8_t phy[LW_PHY_MAX], again[LW_PHY_MAX];
    size_t n, m;
    assert_int_equal(lw_frame_seal(&ja, &k, 0, phy, sizeof phy, &n, NULL, 0), 0);
    assert_int_equal(n, 33);
    lw_frame f;
    assert_int_equal(parse_copy(phy, n, LW_EXPECT_DOWN, &f), 0);
    assert_int_equal(lw_frame_build(&f, again, sizeof again, &m, NULL, 0), 0);
    assert_int_equal(m, n);
    assert_memory_equal(again, phy, n);
    assert_int_equal(lw_join_accept_open(K1, &f, NULL, 0), 0);
    assert_int_equal(f.join_nonce, 0xABCDEF);
    assert_int_equal(f.net_id, 0x13);
    assert_true(f.has_cflist);
    assert_memory_equal(f.cflist, ja.cflist, 16);
    /* session keys: the two keys differ and are deterministic */
    uint8_t a1[16], b1[16], a2[16], b2[16];
    assert_int_equal(lw_derive_session_keys(K1, 1, 2, 3, a1, b1), 0);
    assert_int_equal(lw_derive_session_keys(K1, 1, 2, 3, a2, b2), 0);
    assert_memory_equal(a1, a2, 16);
    assert_memory_equal(b1, b2, 16);
    assert_memory_not_equal(a1, b1, 16);
    /* EUIs on air are reversed */
    lw_frame jr = {.mtype = LW_MTYPE_JOIN_REQUEST, .dev_nonce = 0x0102};
    for (int i = 0; i < 8; i++) jr.join_eui[i] = (uint8_t)(i + 1), jr.dev_eui[i] = (uint8_t)(0x11 + i);
    assert_int_equal(lw_frame_seal(&jr, &k, 0, phy, sizeof phy, &n, NULL, 0), 0);
    assert_int_equal(phy[1], 8);
    assert_int_equal(phy[8], 1);
    assert_int_equal(phy[9], 0x18);
    assert_int_equal(phy[17], 0x02);
    assert_int_equal(phy[18], 0x01);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_json),          cmocka_unit_test(test_truncated_and_oversize),
        cmocka_unit_test(test_fopts_beyond_frame),    cmocka_unit_test(test_wrong_mic),
        cmocka_unit_test(test_direction_and_types),   cmocka_unit_test(test_fcnt_reconstruct),
        cmocka_unit_test(test_join_roundtrip_cflist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
