/* Cross-check of lorawan/frame and lorawan/crypto against the independent npm package lora-packet,
 * both ways: frames built by lora-packet (tests/integration/lorapacket_xcheck.js gen) are parsed,
 * MIC-checked, decrypted and re-built byte for byte by our code; frames sealed by our code are fed
 * to the script's `verify` mode on stdin and must parse, verify and decrypt there. Node and
 * lora-packet are required (scripts/deps.sh installs them): their absence is a failure, not a skip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "lorawan/crypto.h"
#include "lorawan/frame.h"
#include "lw_test_hex.h"


static void tohex(const uint8_t *p, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = 0;
}

static const char *S(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static long long N(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }
static uint32_t X(json_t *o, const char *k) {
    const char *s = S(o, k);
    return s ? (uint32_t)strtoul(s, NULL, 16) : 0;
}
static bool B(json_t *o, const char *k) { return json_is_true(json_object_get(o, k)); }

static const char *root_dir(void) {
    const char *root = getenv("TE_SOURCE_DIR");
    if (!root) fail_msg("TE_SOURCE_DIR is not set (ctest sets it to the project root)");
    return root;
}

/* run the node script; returns its whole stdout (malloc'd) and the exit status */
static char *run_node(const char *mode, const char *stdin_file, int *status) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s/tests' && node integration/lorapacket_xcheck.js %s < '%s'", root_dir(), mode,
             stdin_file ? stdin_file : "/dev/null");
    FILE *p = popen(cmd, "r");
    if (!p) fail_msg("popen failed for: %s", cmd);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t k;
    while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (cap - n < 1024) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    buf[n] = 0;
    int st = pclose(p);
    *status = st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return buf;
}

/* ---- direction 1: lora-packet builds, we parse/verify/decrypt/rebuild ---- */

static int check_lp_case(json_t *c, char *why, size_t wl) {
    uint8_t phy[LW_PHY_MAX], out[LW_PHY_MAX], key[16], k2[16];
    char err[160] = "", hx[2 * LW_PHY_MAX + 1];
    const char *kind = S(c, "kind");
    int n = kind && strcmp(kind, "session_keys") ? lwt_unhex(S(c, "phy"), phy, sizeof phy) : 0;
    if (n < 0) return snprintf(why, wl, "bad phy"), -1;
    lw_frame f;
    size_t on = 0;
    if (kind && !strcmp(kind, "session_keys")) {
        uint8_t nwk[16], app[16];
        lwt_unhex(S(c, "appkey"), key, 16);
        if (lw_derive_session_keys(key, (uint32_t)N(c, "joinnonce"), X(c, "netid"), (uint16_t)N(c, "devnonce"), nwk,
                                   app))
            return snprintf(why, wl, "derive failed"), -1;
        tohex(nwk, 16, hx);
        if (strcmp(hx, S(c, "nwkskey"))) return snprintf(why, wl, "nwkskey %.32s", hx), -1;
        tohex(app, 16, hx);
        if (strcmp(hx, S(c, "appskey"))) return snprintf(why, wl, "appskey %.32s", hx), -1;
        return 0;
    }
    if (kind && !strcmp(kind, "join_request")) {
        uint8_t je[8], de[8];
        lwt_unhex(S(c, "appkey"), key, 16);
        lwt_unhex(S(c, "joineui"), je, 8);
        lwt_unhex(S(c, "deveui"), de, 8);
        if (lw_frame_parse(phy, (size_t)n, LW_EXPECT_UP, &f, err, sizeof err))
            return snprintf(why, wl, "parse: %s", err), -1;
        if (f.mtype != LW_MTYPE_JOIN_REQUEST || memcmp(f.join_eui, je, 8) || memcmp(f.dev_eui, de, 8) ||
            f.dev_nonce != N(c, "devnonce"))
            return snprintf(why, wl, "fields"), -1;
        lw_keys k = {.app_key = key};
        if (lw_mic_check(phy, (size_t)n, &f, &k, 0)) return snprintf(why, wl, "MIC"), -1;
        lw_frame g = f;
        if (lw_frame_seal(&g, &k, 0, out, sizeof out, &on, err, sizeof err) || on != (size_t)n || memcmp(out, phy, on))
            return snprintf(why, wl, "our rebuild differs"), -1;
        return 0;
    }
    if (kind && !strcmp(kind, "join_accept")) {
        uint8_t cfl[16];
        lwt_unhex(S(c, "appkey"), key, 16);
        int cn = lwt_unhex(S(c, "cflist"), cfl, 16);
        if (lw_frame_parse(phy, (size_t)n, LW_EXPECT_DOWN, &f, err, sizeof err))
            return snprintf(why, wl, "parse: %s", err), -1;
        if (lw_join_accept_open(key, &f, err, sizeof err)) return snprintf(why, wl, "open: %s", err), -1;
        if (f.join_nonce != (uint32_t)N(c, "joinnonce") || f.net_id != X(c, "netid") || f.dev_addr != X(c, "devaddr") ||
            f.dl_settings != N(c, "dlsettings") || f.rx_delay != N(c, "rxdelay") || f.has_cflist != (cn == 16) ||
            (cn == 16 && memcmp(f.cflist, cfl, 16)))
            return snprintf(why, wl, "fields"), -1;
        lw_keys k = {.app_key = key};
        if (lw_frame_seal(&f, &k, 0, out, sizeof out, &on, err, sizeof err) || on != (size_t)n || memcmp(out, phy, on))
            return snprintf(why, wl, "our rebuild differs"), -1;
        return 0;
    }
    if (kind && !strcmp(kind, "data")) {
        uint8_t fopts[16], pl[LW_PHY_MAX], dec[LW_PHY_MAX];
        lwt_unhex(S(c, "nwkskey"), key, 16);
        lwt_unhex(S(c, "appskey"), k2, 16);
        int fon = lwt_unhex(S(c, "fopts"), fopts, 15), pln = lwt_unhex(S(c, "payload"), pl, sizeof pl);
        int mt = (int)N(c, "mtype");
        json_t *fc = json_object_get(c, "fctrl");
        if (lw_frame_parse(phy, (size_t)n, lw_mtype_is_uplink((lw_mtype)mt) ? LW_EXPECT_UP : LW_EXPECT_DOWN, &f, err,
                           sizeof err))
            return snprintf(why, wl, "parse: %s", err), -1;
        uint32_t fcnt = lw_fcnt_reconstruct((uint32_t)N(c, "fcnt") & 0xFFFF0000u, f.fcnt16);
        if ((int)f.mtype != mt || f.dev_addr != X(c, "devaddr") || fcnt != (uint32_t)N(c, "fcnt") ||
            f.fctrl.adr != B(fc, "adr") || f.fctrl.ack != B(fc, "ack") ||
            (lw_mtype_is_uplink(f.mtype) ? f.fctrl.adr_ack_req != B(fc, "adrAckReq")
                                         : f.fctrl.fpending != B(fc, "fPending")) ||
            f.fopts_len != fon || memcmp(f.fopts, fopts, (size_t)fon) || !f.has_fport || f.fport != N(c, "fport"))
            return snprintf(why, wl, "fields"), -1;
        lw_keys k = {.nwk_s_key = key, .app_s_key = k2};
        if (lw_mic_check(phy, (size_t)n, &f, &k, fcnt)) return snprintf(why, wl, "MIC"), -1;
        if (lw_frm_decrypt(&f, &k, fcnt, dec) || f.frm_len != (size_t)pln || memcmp(dec, pl, (size_t)pln))
            return snprintf(why, wl, "payload"), -1;
        lw_frame g = f;
        memcpy(g.frm, dec, f.frm_len);
        if (lw_frame_seal(&g, &k, fcnt, out, sizeof out, &on, err, sizeof err) || on != (size_t)n ||
            memcmp(out, phy, on))
            return snprintf(why, wl, "our rebuild differs"), -1;
        return 0;
    }
    return snprintf(why, wl, "unknown kind %s", kind ? kind : "(none)"), -1;
}

static void test_lorapacket_frames_parsed_by_us(void **st) {
    (void)st;
    int status;
    char *out = run_node("gen", NULL, &status);
    if (status != 0)
        fail_msg("node lorapacket_xcheck.js gen failed (exit status %d; node and the npm package "
                 "lora-packet are required, see scripts/deps.sh): %s",
                 status, out);
    int total = 0, bad = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t je;
        json_t *c = json_loads(line, 0, &je);
        if (!c) fail_msg("bad JSON from node: %s", line);
        char why[256] = "";
        total++;
        if (check_lp_case(c, why, sizeof why)) {
            fprintf(stderr, "lora-packet frame %s: %s\n", S(c, "id"), why);
            bad++;
        }
        json_decref(c);
    }
    free(out);
    print_message("lora-packet -> tinyedge: %d/%d frames verified\n", total - bad, total);
    assert_true(total >= 12);
    assert_int_equal(bad, 0);
}

/* ---- direction 2: we build, lora-packet verifies ---- */

typedef struct {
    const char *id;
    lw_mtype mt;
    uint32_t devaddr, fcnt;
    bool adr, adr_ack_req, ack, fpending;
    const char *fopts;
    int fport;
    const char *payload;
} data_case;

static const data_case DATA[] = {
    {"tl-unconf-up-fopts", LW_MTYPE_UNCONFIRMED_UP, 0x26011bda, 1, true, false, false, false, "0206", 1,
     "0167011a02680b"},
    {"tl-conf-up-flags", LW_MTYPE_CONFIRMED_UP, 0x26011bda, 5000, true, true, true, false, "030507", 42,
     "48656c6c6f2c20746865726521"},
    {"tl-unconf-down-fopts", LW_MTYPE_UNCONFIRMED_DOWN, 0x00abcdef, 77, false, false, true, true, "0351070001", 10,
     "cafebabe"},
    {"tl-conf-down", LW_MTYPE_CONFIRMED_DOWN, 0xfc00dc06, 65535, true, false, true, false, "", 223,
     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"},
    {"tl-fport0-up", LW_MTYPE_UNCONFIRMED_UP, 0x26011bda, 9, false, false, false, false, "", 0, "020603"},
    {"tl-fport0-down", LW_MTYPE_CONFIRMED_DOWN, 0x26011bda, 10, false, false, false, false, "", 0, "0351070001060a"},
    {"tl-fcnt32-up", LW_MTYPE_UNCONFIRMED_UP, 0x26011bda, 0x12345, true, false, false, false, "", 2, "0167011a"},
    {"tl-fcnt32-down", LW_MTYPE_UNCONFIRMED_DOWN, 0x26011bda, 0x3fffe, false, false, false, true, "02", 9, "ab"},
};

#define TAMPERED "tl-tampered-mic"
static const char *APPKEY = "000102030405060708090a0b0c0d0e0f";
static const char *NWKSKEY = "2b7e151628aed2a6abf7158809cf4f3c";
static const char *APPSKEY = "f0e0d0c0b0a090807060504030201000";

static void emit(FILE *fp, json_t *o, const uint8_t *phy, size_t n) {
    char hx[2 * LW_PHY_MAX + 1];
    tohex(phy, n, hx);
    json_object_set_new(o, "phy", json_string(hx));
    char *s = json_dumps(o, JSON_COMPACT);
    assert_non_null(s);
    fprintf(fp, "%s\n", s);
    free(s);
    json_decref(o);
}

static int write_our_frames(FILE *fp) {
    uint8_t out[LW_PHY_MAX], key[16], k2[16];
    char err[160];
    size_t n;
    int count = 0;
    lwt_unhex(APPKEY, key, 16);
    /* join request */
    lw_frame jr = {.mtype = LW_MTYPE_JOIN_REQUEST, .dev_nonce = 0x1234};
    lwt_unhex("70b3d57ed0000abc", jr.join_eui, 8);
    lwt_unhex("0004a30b001c0530", jr.dev_eui, 8);
    lw_keys jk = {.app_key = key};
    assert_int_equal(lw_frame_seal(&jr, &jk, 0, out, sizeof out, &n, err, sizeof err), 0);
    emit(fp,
         json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "id", "tl-jr", "kind", "join_request", "appkey", APPKEY, "joineui",
                   "70b3d57ed0000abc", "deveui", "0004a30b001c0530", "devnonce", 0x1234),
         out, n);
    count++;
    /* join accepts */
    for (int withcf = 0; withcf < 2; withcf++) {
        const char *cf = withcf ? "184f84e85684b85e84886684586e8400" : "";
        lw_frame ja = {.mtype = LW_MTYPE_JOIN_ACCEPT,
                       .join_nonce = 0xabcdef,
                       .net_id = 0x000013,
                       .dev_addr = 0x26011bda,
                       .dl_settings = 0x03,
                       .rx_delay = 1,
                       .has_cflist = withcf};
        lwt_unhex(cf, ja.cflist, 16);
        assert_int_equal(lw_frame_seal(&ja, &jk, 0, out, sizeof out, &n, err, sizeof err), 0);
        emit(fp,
             json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:i, s:s}", "id", withcf ? "tl-ja-cflist" : "tl-ja", "kind",
                       "join_accept", "appkey", APPKEY, "joinnonce", 0xabcdef, "netid", "000013", "devaddr", "26011bda",
                       "dlsettings", 3, "rxdelay", 1, "cflist", cf),
             out, n);
        count++;
    }
    /* data frames */
    lwt_unhex(NWKSKEY, key, 16);
    lwt_unhex(APPSKEY, k2, 16);
    lw_keys k = {.nwk_s_key = key, .app_s_key = k2};
    for (size_t i = 0; i < sizeof DATA / sizeof DATA[0]; i++) {
        const data_case *d = &DATA[i];
        lw_frame f = {.mtype = d->mt, .dev_addr = d->devaddr, .has_fport = true, .fport = (uint8_t)d->fport};
        f.fctrl.adr = d->adr;
        f.fctrl.adr_ack_req = d->adr_ack_req;
        f.fctrl.ack = d->ack;
        f.fctrl.fpending = d->fpending;
        f.fopts_len = (uint8_t)lwt_unhex(d->fopts, f.fopts, 15);
        f.frm_len = (size_t)lwt_unhex(d->payload, f.frm, sizeof f.frm);
        assert_int_equal(lw_frame_seal(&f, &k, d->fcnt, out, sizeof out, &n, err, sizeof err), 0);
        char da[9];
        snprintf(da, sizeof da, "%08x", (unsigned)d->devaddr);
        json_t *fc = json_pack("{s:b, s:b, s:b, s:b}", "adr", d->adr, "adrAckReq", d->adr_ack_req, "ack", d->ack,
                               "fPending", d->fpending);
        json_t *o =
            json_pack("{s:s, s:s, s:i, s:s, s:I, s:o, s:s, s:i, s:s, s:s, s:s}", "id", d->id, "kind", "data", "mtype",
                      (int)d->mt, "devaddr", da, "fcnt", (json_int_t)d->fcnt, "fctrl", fc, "fopts", d->fopts, "fport",
                      d->fport, "payload", d->payload, "nwkskey", NWKSKEY, "appskey", APPSKEY);
        if (i == 0) { /* negative control: lora-packet must reject a flipped MIC bit */
            json_t *t = json_deep_copy(o);
            json_object_set_new(t, "id", json_string(TAMPERED));
            out[n - 1] ^= 0x01;
            emit(fp, t, out, n);
            out[n - 1] ^= 0x01;
        }
        emit(fp, o, out, n);
        count++;
    }
    return count;
}

static void test_our_frames_verified_by_lorapacket(void **st) {
    (void)st;
    char path[] = "/tmp/te_lw_xcheck_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    assert_non_null(fp);
    int sent = write_our_frames(fp);
    fclose(fp);
    int status;
    char *out = run_node("verify", path, &status);
    unlink(path);
    if (status != 0)
        fail_msg("node lorapacket_xcheck.js verify failed (exit status %d; node and the npm package "
                 "lora-packet are required, see scripts/deps.sh): %s",
                 status, out);
    int got = 0, ok = 0, tampered_rejected = -1;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t je;
        json_t *r = json_loads(line, 0, &je);
        if (!r) fail_msg("bad JSON from node: %s", line);
        if (S(r, "id") && !strcmp(S(r, "id"), TAMPERED)) {
            tampered_rejected = !B(r, "ok");
        } else {
            got++;
            if (B(r, "ok"))
                ok++;
            else
                fprintf(stderr, "lora-packet rejected our frame %s: %s\n", S(r, "id"), S(r, "why"));
        }
        json_decref(r);
    }
    free(out);
    print_message("tinyedge -> lora-packet: %d/%d frames verified\n", ok, sent);
    assert_int_equal(got, sent);
    assert_int_equal(ok, sent);
    assert_int_equal(tampered_rejected, 1); /* the checker really checks */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lorapacket_frames_parsed_by_us),
        cmocka_unit_test(test_our_frames_verified_by_lorapacket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
