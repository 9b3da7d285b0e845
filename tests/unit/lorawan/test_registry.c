/* Unit tests for lorawan/registry (SQLite) and the device.h helpers: ids and hex, application /
 * device / gateway add-get-list-update-remove, validation messages, API keys (format, hash check,
 * rotation), DevNonce replay, session save/restore (incl. ADR history) and its transaction, the
 * change log (session saves not logged), two handles on one database (CLI + server), persistence
 * across reopen, an unreadable session blob loading as "not joined", and the REST API
 * (server/lorawan_rest) over a real HTTP listener: every route, status codes, keys never returned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <uv.h>

#include "lorawan/registry.h"
#include "net/net.h"
#include "server/lorawan_rest.h"

static char tmpdir[256];

static int setup(void **state) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/te-lwreg-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    lw_registry *r = NULL;
    char err[256] = "";
    int rc = lw_reg_open(tmpdir, &r, err, sizeof err);
    if (rc) fail_msg("open: %s", err);
    *state = r;
    return 0;
}

static int teardown(void **state) {
    lw_reg_close(*state);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void mk_app(lw_registry *r, const char *id, char *key) {
    lw_app_rec a;
    memset(&a, 0, sizeof a);
    snprintf(a.app_id, sizeof a.app_id, "%s", id);
    snprintf(a.name, sizeof a.name, "App %s", id);
    a.fmt = LW_FMT_LPP;
    char err[256] = "", k[LW_REG_KEY_MAX];
    int rc = lw_reg_app_add(r, &a, key ? key : k, LW_REG_KEY_MAX, err, sizeof err);
    if (rc) fail_msg("app add %s: %d %s", id, rc, err);
}

static void otaa_dev(lw_dev_rec *d, const char *app, const char *dev, uint8_t eui_last) {
    memset(d, 0, sizeof *d);
    snprintf(d->app_id, sizeof d->app_id, "%s", app);
    snprintf(d->dev_id, sizeof d->dev_id, "%s", dev);
    static const uint8_t de[8] = {0x70, 0xB3, 0xD5, 0x7E, 0xD0, 0x00, 0x00, 0x00};
    memcpy(d->dev_eui, de, 8);
    d->dev_eui[7] = eui_last;
    memset(d->join_eui, 0, 8);
    d->otaa = true;
    for (int i = 0; i < 16; i++) d->app_key[i] = (uint8_t)(i + 1);
    d->mac_minor = 4;
    snprintf(d->region, sizeof d->region, "EU868");
    d->dev_class = 'A';
    d->adr = true;
    d->fmt = LW_FMT_INHERIT;
}

static void abp_dev(lw_dev_rec *d, const char *app, const char *dev, uint32_t addr) {
    otaa_dev(d, app, dev, (uint8_t)addr);
    d->otaa = false;
    memset(d->app_key, 0, 16);
    d->s.dev_addr = addr;
    memset(d->s.nwk_s_key, 0x11, 16);
    memset(d->s.app_s_key, 0x22, 16);
    d->abp_relax_fcnt = true;
}

static void test_helpers(void **state) {
    (void)state;
    assert_true(lw_id_valid("ab"));
    assert_true(lw_id_valid("my-app-1"));
    assert_true(lw_id_valid("012345678901234567890123456789012345"));  /* 36 */
    assert_false(lw_id_valid("0123456789012345678901234567890123456")); /* 37 */
    assert_false(lw_id_valid("a"));
    assert_false(lw_id_valid("-ab"));
    assert_false(lw_id_valid("ab-"));
    assert_false(lw_id_valid("Ab"));
    assert_false(lw_id_valid("a_b"));
    assert_false(lw_id_valid("a b"));
    assert_false(lw_id_valid(NULL));
    uint8_t b[4];
    assert_int_equal(lw_hex_parse("0aFf10c3", b, 4), 0);
    assert_int_equal(b[0], 0x0a);
    assert_int_equal(b[1], 0xff);
    assert_int_equal(b[3], 0xc3);
    assert_int_equal(lw_hex_parse("0aFf10c", b, 4), -1);
    assert_int_equal(lw_hex_parse("0aFf10c3aa", b, 4), -1);
    assert_int_equal(lw_hex_parse("0aFf10cg", b, 4), -1);
    char h[9];
    lw_hex_format(b, 4, h, 1);
    assert_string_equal(h, "0AFF10C3");
    lw_hex_format(b, 4, h, 0);
    assert_string_equal(h, "0aff10c3");
    lw_dev_rec d, c;
    otaa_dev(&d, "app1", "dev1", 1);
    d.fmt = LW_FMT_JS;
    d.fmt_src = strdup("function decodeUplink(i){return {data:{}}}");
    assert_int_equal(lw_dev_rec_copy(&c, &d), 0);
    assert_ptr_not_equal(c.fmt_src, d.fmt_src);
    assert_string_equal(c.fmt_src, d.fmt_src);
    lw_dev_rec_clear(&d);
    lw_dev_rec_clear(&c);
    assert_null(c.fmt_src);
}

static int count_app(void *ud, const lw_app_rec *a) {
    (void)a;
    (*(int *)ud)++;
    return 0;
}

static void test_apps(void **state) {
    lw_registry *r = *state;
    char key[LW_REG_KEY_MAX], key2[LW_REG_KEY_MAX], err[256];
    mk_app(r, "zeta", NULL);
    mk_app(r, "alpha", key);
    /* key format: NNSXS.<16 hex>.<64 hex> upper-case */
    assert_int_equal(strlen(key), LW_REG_KEY_LEN);
    assert_memory_equal(key, "NNSXS.", 6);
    assert_int_equal(key[22], '.');
    for (int i = 6; i < LW_REG_KEY_LEN; i++)
        if (i != 22) assert_non_null(strchr("0123456789ABCDEF", key[i]));
    assert_int_equal(lw_reg_app_key_check(r, "alpha", key), 1);
    assert_int_equal(lw_reg_app_key_check(r, "zeta", key), 0); /* another app's key */
    char bad[LW_REG_KEY_MAX];
    memcpy(bad, key, sizeof bad);
    bad[50] = bad[50] == 'A' ? 'B' : 'A';
    assert_int_equal(lw_reg_app_key_check(r, "alpha", bad), 0);
    assert_int_equal(lw_reg_app_key_check(r, "alpha", "NNSXS.short"), 0);
    assert_int_equal(lw_reg_app_key_check(r, "alpha", ""), 0);
    /* rotation: both keys valid */
    assert_int_equal(lw_reg_app_key_new(r, "alpha", key2, sizeof key2), 0);
    assert_string_not_equal(key, key2);
    assert_int_equal(lw_reg_app_key_check(r, "alpha", key), 1);
    assert_int_equal(lw_reg_app_key_check(r, "alpha", key2), 1);
    assert_int_equal(lw_reg_app_key_new(r, "nope", key2, sizeof key2), LW_REG_NOTFOUND);
    /* the key is not stored in clear */
    char path[300];
    snprintf(path, sizeof path, "%s/lorawan.db", tmpdir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM app_keys WHERE hex(hash) LIKE '%' || ? || '%' OR hex(salt) LIKE '%' || ? || '%'", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, key + 23, 32, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, key + 23, 32, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* duplicates and validation */
    lw_app_rec a;
    memset(&a, 0, sizeof a);
    snprintf(a.app_id, sizeof a.app_id, "alpha");
    a.fmt = LW_FMT_NONE;
    assert_int_equal(lw_reg_app_add(r, &a, key2, sizeof key2, err, sizeof err), LW_REG_EXISTS);
    assert_non_null(strstr(err, "already exists"));
    snprintf(a.app_id, sizeof a.app_id, "Bad_Id");
    assert_int_equal(lw_reg_app_add(r, &a, key2, sizeof key2, err, sizeof err), LW_REG_INVALID);
    assert_non_null(strstr(err, "invalid application id \"Bad_Id\""));
    snprintf(a.app_id, sizeof a.app_id, "named");
    snprintf(a.name, sizeof a.name, "bad\xff name");
    assert_int_equal(lw_reg_app_add(r, &a, NULL, 0, err, sizeof err), LW_REG_INVALID);
    assert_non_null(strstr(err, "UTF-8"));
    snprintf(a.name, sizeof a.name, "tab\there");
    assert_int_equal(lw_reg_app_add(r, &a, NULL, 0, err, sizeof err), LW_REG_INVALID);
    snprintf(a.name, sizeof a.name, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa1"); /* café € 📡 */
    assert_int_equal(lw_reg_app_add(r, &a, NULL, 0, err, sizeof err), 0);
    assert_int_equal(lw_reg_app_remove(r, "named"), 0);
    a.name[0] = 0;
    snprintf(a.app_id, sizeof a.app_id, "js-app");
    a.fmt = LW_FMT_JS;
    assert_int_equal(lw_reg_app_add(r, &a, key2, sizeof key2, err, sizeof err), LW_REG_INVALID);
    assert_non_null(strstr(err, "JavaScript"));
    a.fmt_src = "function decodeUplink(input) { return {data: {n: input.bytes.length}}; }";
    assert_int_equal(lw_reg_app_add(r, &a, NULL, 0, err, sizeof err), 0);

    lw_app_rec g;
    assert_int_equal(lw_reg_app_get(r, "js-app", &g), 0);
    assert_int_equal(g.fmt, LW_FMT_JS);
    assert_string_equal(g.fmt_src, a.fmt_src);
    assert_true(g.created_ms > 0);
    lw_app_rec_clear(&g);
    assert_int_equal(lw_reg_app_get(r, "alpha", &g), 0);
    assert_string_equal(g.name, "App alpha");
    assert_int_equal(g.fmt, LW_FMT_LPP);
    assert_null(g.fmt_src);
    /* update */
    snprintf(g.name, sizeof g.name, "Renamed");
    g.fmt = LW_FMT_NONE;
    assert_int_equal(lw_reg_app_update(r, &g, err, sizeof err), 0);
    lw_app_rec_clear(&g);
    assert_int_equal(lw_reg_app_get(r, "alpha", &g), 0);
    assert_string_equal(g.name, "Renamed");
    assert_int_equal(g.fmt, LW_FMT_NONE);
    snprintf(g.app_id, sizeof g.app_id, "ghost");
    assert_int_equal(lw_reg_app_update(r, &g, err, sizeof err), LW_REG_NOTFOUND);
    lw_app_rec_clear(&g);
    assert_int_equal(lw_reg_app_get(r, "ghost", &g), LW_REG_NOTFOUND);

    int n = 0;
    assert_int_equal(lw_reg_app_list(r, count_app, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(lw_reg_app_remove(r, "alpha"), 0);
    assert_int_equal(lw_reg_app_remove(r, "alpha"), LW_REG_NOTFOUND);
    assert_int_equal(lw_reg_app_key_check(r, "alpha", key), 0); /* keys go with the app */
    n = 0;
    assert_int_equal(lw_reg_app_list(r, count_app, &n), 0);
    assert_int_equal(n, 2);
}

typedef struct { int n; char ids[8][80]; } dev_seen;
static int list_dev(void *ud, const lw_dev_rec *d) {
    dev_seen *s = ud;
    if (s->n < 8) snprintf(s->ids[s->n], sizeof s->ids[0], "%s/%s", d->app_id, d->dev_id);
    s->n++;
    return 0;
}

static void expect_invalid(lw_registry *r, const lw_dev_rec *d, const char *msg) {
    char err[256] = "";
    int rc = lw_reg_dev_add(r, d, err, sizeof err);
    if (rc != LW_REG_INVALID || !strstr(err, msg)) fail_msg("expected invalid '%s', got %d '%s'", msg, rc, err);
}

static void test_devices(void **state) {
    lw_registry *r = *state;
    char err[256] = "";
    lw_dev_rec d, g;
    otaa_dev(&d, "app1", "dev1", 1);
    assert_int_equal(lw_reg_dev_add(r, &d, err, sizeof err), LW_REG_NOTFOUND);
    assert_non_null(strstr(err, "application app1 not found"));
    mk_app(r, "app1", NULL);
    mk_app(r, "app2", NULL);
    assert_int_equal(lw_reg_dev_add(r, &d, err, sizeof err), 0);
    assert_int_equal(lw_reg_dev_add(r, &d, err, sizeof err), LW_REG_EXISTS);
    assert_non_null(strstr(err, "already exists"));
    /* same EUIs under another id / app: refused */
    otaa_dev(&d, "app2", "other", 1);
    assert_int_equal(lw_reg_dev_add(r, &d, err, sizeof err), LW_REG_EXISTS);
    assert_non_null(strstr(err, "70B3D57ED0000001"));
    /* same DevEUI with another JoinEUI: fine */
    d.join_eui[7] = 9;
    assert_int_equal(lw_reg_dev_add(r, &d, err, sizeof err), 0);

    /* validation */
    otaa_dev(&d, "app1", "x-", 5);
    expect_invalid(r, &d, "invalid device id \"x-\"");
    otaa_dev(&d, "app1", "dev5", 5);
    d.mac_minor = 1;
    expect_invalid(r, &d, "MAC version 1.0.1");
    d.mac_minor = 5;
    expect_invalid(r, &d, "MAC version");
    otaa_dev(&d, "app1", "dev5", 5);
    snprintf(d.region, sizeof d.region, "XX123");
    expect_invalid(r, &d, "unknown region \"XX123\"");
    otaa_dev(&d, "app1", "dev5", 5);
    d.dev_class = 'C';
    expect_invalid(r, &d, "class A");
    otaa_dev(&d, "app1", "dev5", 5);
    memset(d.app_key, 0, 16);
    expect_invalid(r, &d, "AppKey");
    otaa_dev(&d, "app1", "dev5", 5);
    memset(d.dev_eui, 0, 8);
    expect_invalid(r, &d, "DevEUI");
    abp_dev(&d, "app1", "abp1", 0);
    expect_invalid(r, &d, "DevAddr");
    abp_dev(&d, "app1", "abp1", 0x260B1234);
    memset(d.s.app_s_key, 0, 16);
    expect_invalid(r, &d, "session keys");
    otaa_dev(&d, "app1", "dev5", 5);
    d.fmt = LW_FMT_JS;
    expect_invalid(r, &d, "JavaScript");

    /* ABP: session active from registration */
    abp_dev(&d, "app1", "abp1", 0x260B1234);
    snprintf(d.region, sizeof d.region, "us915"); /* case-insensitive, stored canonical */
    d.mac_minor = 2;
    assert_int_equal(lw_reg_dev_add(r, &d, err, sizeof err), 0);
    assert_int_equal(lw_reg_dev_get(r, "app1", "abp1", &g), 0);
    assert_false(g.otaa);
    assert_true(g.s.active);
    assert_int_equal(g.s.dev_addr, 0x260B1234);
    assert_memory_equal(g.s.nwk_s_key, d.s.nwk_s_key, 16);
    assert_memory_equal(g.s.app_s_key, d.s.app_s_key, 16);
    assert_string_equal(g.region, "US915");
    assert_int_equal(g.mac_minor, 2);
    assert_true(g.abp_relax_fcnt);
    assert_int_equal(g.fmt, LW_FMT_INHERIT);
    lw_dev_rec_clear(&g);
    /* two ABP devices without DevEUI do not clash */
    abp_dev(&d, "app1", "abp2", 0x260B1235);
    memset(d.dev_eui, 0, 8);
    assert_int_equal(lw_reg_dev_add(r, &d, err, sizeof err), 0);
    abp_dev(&d, "app1", "abp3", 0x260B1236);
    memset(d.dev_eui, 0, 8);
    assert_int_equal(lw_reg_dev_add(r, &d, err, sizeof err), 0);

    /* OTAA get, by EUI */
    assert_int_equal(lw_reg_dev_get(r, "app1", "dev1", &g), 0);
    assert_true(g.otaa);
    assert_false(g.s.active);
    assert_int_equal(g.app_key[15], 16);
    assert_int_equal(g.dev_class, 'A');
    assert_true(g.adr);
    lw_dev_rec_clear(&g);
    uint8_t je[8] = {0}, de[8] = {0x70, 0xB3, 0xD5, 0x7E, 0xD0, 0, 0, 1};
    assert_int_equal(lw_reg_dev_get_by_eui(r, je, de, &g), 0);
    assert_string_equal(g.dev_id, "dev1");
    lw_dev_rec_clear(&g);
    je[7] = 9;
    assert_int_equal(lw_reg_dev_get_by_eui(r, je, de, &g), 0);
    assert_string_equal(g.app_id, "app2");
    lw_dev_rec_clear(&g);
    assert_int_equal(lw_reg_dev_get_by_eui(r, NULL, de, &g), 0);
    lw_dev_rec_clear(&g);
    je[7] = 7;
    assert_int_equal(lw_reg_dev_get_by_eui(r, je, de, &g), LW_REG_NOTFOUND);
    assert_int_equal(lw_reg_dev_get(r, "app1", "nope", &g), LW_REG_NOTFOUND);

    /* list */
    dev_seen s = {0};
    assert_int_equal(lw_reg_dev_list(r, "app1", list_dev, &s), 0);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.ids[0], "app1/abp1");
    assert_string_equal(s.ids[3], "app1/dev1");
    memset(&s, 0, sizeof s);
    assert_int_equal(lw_reg_dev_list(r, NULL, list_dev, &s), 0);
    assert_int_equal(s.n, 5);
    assert_string_equal(s.ids[4], "app2/other");

    /* update: name change keeps the session; key change resets it */
    assert_int_equal(lw_reg_dev_get(r, "app1", "abp1", &g), 0);
    g.s.fcnt_up = 77;
    g.s.fcnt_up_seen = true;
    assert_int_equal(lw_reg_session_save(r, &g), 0);
    snprintf(g.name, sizeof g.name, "renamed");
    g.s.fcnt_up = 0; /* ignored by update: the stored session is kept */
    assert_int_equal(lw_reg_dev_update(r, &g, err, sizeof err), 0);
    lw_dev_rec_clear(&g);
    assert_int_equal(lw_reg_dev_get(r, "app1", "abp1", &g), 0);
    assert_int_equal(lw_reg_dev_get(r, g.app_id, g.dev_id, &g), 0); /* ids inside the output record */
    assert_string_equal(g.dev_id, "abp1");
    lw_dev_rec_clear(&g);
    assert_int_equal(lw_reg_dev_get_by_eui(r, NULL, (uint8_t[8]){0x70, 0xB3, 0xD5, 0x7E, 0xD0, 0, 0, 0x34}, &g), 0);
    assert_int_equal(lw_reg_dev_get_by_eui(r, g.join_eui, g.dev_eui, &g), 0);
    assert_string_equal(g.dev_id, "abp1");
    lw_dev_rec_clear(&g);
    assert_int_equal(lw_reg_dev_get(r, "app1", "abp1", &g), 0);
    assert_string_equal(g.name, "renamed");
    assert_int_equal(g.s.fcnt_up, 77);
    memset(g.s.nwk_s_key, 0x33, 16);
    assert_int_equal(lw_reg_dev_update(r, &g, err, sizeof err), 0);
    lw_dev_rec_clear(&g);
    assert_int_equal(lw_reg_dev_get(r, "app1", "abp1", &g), 0);
    assert_int_equal(g.s.fcnt_up, 0);
    assert_int_equal(g.s.nwk_s_key[0], 0x33);
    assert_true(g.s.active);
    /* update cannot take another device's EUIs */
    g.otaa = true;
    memset(g.app_key, 5, 16);
    memset(g.join_eui, 0, 8);
    memcpy(g.dev_eui, de, 8);
    assert_int_equal(lw_reg_dev_update(r, &g, err, sizeof err), LW_REG_EXISTS);
    snprintf(g.dev_id, sizeof g.dev_id, "ghost");
    g.dev_eui[0] = 1;
    assert_int_equal(lw_reg_dev_update(r, &g, err, sizeof err), LW_REG_NOTFOUND);
    lw_dev_rec_clear(&g);

    /* remove; removing the app removes its devices */
    assert_int_equal(lw_reg_dev_remove(r, "app1", "dev1"), 0);
    assert_int_equal(lw_reg_dev_remove(r, "app1", "dev1"), LW_REG_NOTFOUND);
    assert_int_equal(lw_reg_app_remove(r, "app1"), 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(lw_reg_dev_list(r, NULL, list_dev, &s), 0);
    assert_int_equal(s.n, 1);
}

static void test_js_device_formatter(void **state) {
    lw_registry *r = *state;
    char err[256];
    mk_app(r, "app1", NULL);
    lw_dev_rec d, g;
    otaa_dev(&d, "app1", "dev1", 1);
    d.fmt = LW_FMT_JS;
    d.fmt_src = "function decodeUplink(i) { return {data: {}}; }";
    assert_int_equal(lw_reg_dev_add(r, &d, err, sizeof err), 0);
    assert_int_equal(lw_reg_dev_get(r, "app1", "dev1", &g), 0);
    assert_int_equal(g.fmt, LW_FMT_JS);
    assert_string_equal(g.fmt_src, d.fmt_src);
    lw_dev_rec_clear(&g);
}

static void test_devnonce(void **state) {
    lw_registry *r = *state;
    char err[256];
    mk_app(r, "app1", NULL);
    lw_dev_rec d, d2;
    otaa_dev(&d, "app1", "dev1", 1);
    otaa_dev(&d2, "app1", "dev2", 2);
    assert_int_equal(lw_reg_dev_add(r, &d, err, sizeof err), 0);
    assert_int_equal(lw_reg_dev_add(r, &d2, err, sizeof err), 0);
    assert_int_equal(lw_reg_devnonce_use(r, &d, 1), 1);
    assert_int_equal(lw_reg_devnonce_use(r, &d, 1), 0);
    assert_int_equal(lw_reg_devnonce_use(r, &d, 2), 1);
    assert_int_equal(lw_reg_devnonce_use(r, &d2, 1), 1); /* per device */
    assert_int_equal(lw_reg_devnonce_use(r, &d, 0xFFFF), 1);
    assert_int_equal(lw_reg_devnonce_use(r, &d, 0xFFFF), 0);
    for (int i = 100; i < 400; i++) assert_int_equal(lw_reg_devnonce_use(r, &d, (uint16_t)i), 1);
    assert_int_equal(lw_reg_devnonce_use(r, &d, 250), 0);
    /* removing the device forgets its nonces (a re-registered device starts over) */
    assert_int_equal(lw_reg_dev_remove(r, "app1", "dev1"), 0);
    assert_int_equal(lw_reg_dev_add(r, &d, err, sizeof err), 0);
    assert_int_equal(lw_reg_devnonce_use(r, &d, 1), 1);
    assert_int_equal(lw_reg_devnonce_use(r, &d2, 1), 0);
}

static void test_session_roundtrip(void **state) {
    lw_registry *r = *state;
    char err[256];
    mk_app(r, "app1", NULL);
    lw_dev_rec d, g;
    otaa_dev(&d, "app1", "dev1", 1);
    assert_int_equal(lw_reg_dev_add(r, &d, err, sizeof err), 0);
    lw_session *s = &d.s;
    s->active = true;
    s->dev_addr = 0x260BABCD;
    for (int i = 0; i < 16; i++) { s->nwk_s_key[i] = (uint8_t)(0xA0 + i); s->app_s_key[i] = (uint8_t)(0x50 + i); }
    s->fcnt_up_seen = true;
    s->fcnt_up = 0x12345678;
    s->fcnt_down = 42;
    s->join_nonce = 7;
    s->last_dev_nonce = 0xBEEF;
    s->joined_at_ms = 1764000000123;
    s->last_seen_ms = 1764000009999;
    s->dr = 5;
    s->tx_power = 2;
    s->nb_trans = 3;
    s->rx1_dr_offset = 1;
    s->rx2_dr = 3;
    s->rx1_delay_s = 5;
    s->rx2_freq_hz = 869525000;
    s->adr_pending = true;
    for (int i = 0; i < 25; i++) lw_adr_add_uplink(&s->adr, (uint32_t)(1000 + i), -3.25f + (float)i, (uint8_t)(i % 3));
    assert_int_equal(lw_reg_begin(r), 0);
    assert_int_equal(lw_reg_begin(r), LW_REG_INVALID); /* no nesting */
    assert_int_equal(lw_reg_session_save(r, &d), 0);
    assert_int_equal(lw_reg_commit(r), 0);
    assert_int_equal(lw_reg_commit(r), LW_REG_INVALID);
    assert_int_equal(lw_reg_dev_get(r, "app1", "dev1", &g), 0);
    assert_int_equal(g.s.adr.head, s->adr.head);
    assert_int_equal(g.s.adr.count, s->adr.count);
    for (unsigned i = 0; i < LW_ADR_HISTORY; i++) { /* field by field: the struct has padding */
        lw_adr_uplink a, b;
        assert_int_equal(lw_adr_history_at(&g.s.adr, i, &a), 0);
        assert_int_equal(lw_adr_history_at(&s->adr, i, &b), 0);
        assert_int_equal(a.fcnt, b.fcnt);
        assert_int_equal(a.fcnt, 1005 + i);
        assert_true(a.max_snr == b.max_snr);
        assert_true(a.max_snr == -3.25f + (float)(5 + i));
        assert_int_equal(a.tx_power_index, b.tx_power_index);
        assert_int_equal(a.tx_power_index, (5 + i) % 3);
    }
    lw_adr_uplink last;
    assert_int_equal(lw_adr_history_at(&g.s.adr, 19, &last), 0);
    assert_int_equal(last.fcnt, 1024);
    assert_true(g.s.active);
    assert_int_equal(g.s.dev_addr, s->dev_addr);
    assert_memory_equal(g.s.nwk_s_key, s->nwk_s_key, 16);
    assert_memory_equal(g.s.app_s_key, s->app_s_key, 16);
    assert_true(g.s.fcnt_up_seen);
    assert_int_equal(g.s.fcnt_up, s->fcnt_up);
    assert_int_equal(g.s.fcnt_down, 42);
    assert_int_equal(g.s.join_nonce, 7);
    assert_int_equal(g.s.last_dev_nonce, 0xBEEF);
    assert_int_equal(g.s.joined_at_ms, s->joined_at_ms);
    assert_int_equal(g.s.last_seen_ms, s->last_seen_ms);
    assert_int_equal(g.s.dr, 5);
    assert_int_equal(g.s.tx_power, 2);
    assert_int_equal(g.s.nb_trans, 3);
    assert_int_equal(g.s.rx1_dr_offset, 1);
    assert_int_equal(g.s.rx2_dr, 3);
    assert_int_equal(g.s.rx1_delay_s, 5);
    assert_int_equal(g.s.rx2_freq_hz, 869525000);
    assert_true(g.s.adr_pending);
    assert_int_equal(lw_adr_history_len(&g.s.adr), 20);
    lw_dev_rec_clear(&g);
    /* many saves in one transaction; the last one wins */
    assert_int_equal(lw_reg_begin(r), 0);
    for (uint32_t i = 0; i < 200; i++) {
        d.s.fcnt_up = i;
        assert_int_equal(lw_reg_session_save(r, &d), 0);
    }
    assert_int_equal(lw_reg_commit(r), 0);
    assert_int_equal(lw_reg_dev_get(r, "app1", "dev1", &g), 0);
    assert_int_equal(g.s.fcnt_up, 199);
    lw_dev_rec_clear(&g);
    /* a device operation inside the caller's transaction works (savepoint) */
    assert_int_equal(lw_reg_begin(r), 0);
    lw_dev_rec d3;
    otaa_dev(&d3, "app1", "dev3", 3);
    assert_int_equal(lw_reg_dev_add(r, &d3, err, sizeof err), 0);
    assert_int_equal(lw_reg_dev_add(r, &d3, err, sizeof err), LW_REG_EXISTS);
    assert_int_equal(lw_reg_commit(r), 0);
    assert_int_equal(lw_reg_dev_get(r, "app1", "dev3", &g), 0);
    lw_dev_rec_clear(&g);
    /* unknown device */
    snprintf(d.dev_id, sizeof d.dev_id, "ghost");
    assert_int_equal(lw_reg_session_save(r, &d), LW_REG_NOTFOUND);
}

/* a session blob of version 1 (full ADR entries: FCnt, float SNR, TX power) still loads, its history
 * converted to the compact form; saving writes the current version, which reads back the same */
static void le(uint8_t *b, size_t *n, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) b[(*n)++] = (uint8_t)(v >> (8 * i));
}

static void test_session_blob_v1(void **state) {
    lw_registry *r = *state;
    char err[256];
    mk_app(r, "app1", NULL);
    lw_dev_rec d, g;
    abp_dev(&d, "app1", "dev1", 0x01020304);
    assert_int_equal(lw_reg_dev_add(r, &d, err, sizeof err), 0);
    uint8_t b[512];
    size_t n = 0;
    le(b, &n, 1, 1);          /* version */
    le(b, &n, 1, 1);          /* active */
    le(b, &n, 0x260BABCD, 4); /* DevAddr */
    for (int i = 0; i < 32; i++) le(b, &n, (uint64_t)(0x30 + i), 1);
    le(b, &n, 1, 1);          /* fcnt_up_seen */
    le(b, &n, 538, 4);        /* fcnt_up */
    le(b, &n, 9, 4);          /* fcnt_down */
    le(b, &n, 3, 4);          /* join_nonce */
    le(b, &n, 77, 2);         /* last DevNonce */
    le(b, &n, 1764000000000, 8);
    le(b, &n, 1764000005000, 8);
    le(b, &n, 5, 1);          /* dr */
    le(b, &n, 1, 1);          /* tx_power */
    le(b, &n, 2, 1);          /* nb_trans */
    le(b, &n, 0, 1);
    le(b, &n, 3, 1);
    le(b, &n, 1, 1);
    le(b, &n, 869525000, 4);
    le(b, &n, 0, 1);          /* adr_pending */
    le(b, &n, 3, 1);          /* head */
    le(b, &n, 20, 1);         /* count */
    le(b, &n, 20, 1);         /* LW_ADR_HISTORY */
    for (unsigned slot = 0; slot < 20; slot++) {
        unsigned i = (slot + 20 - 3) % 20; /* age of the entry in this slot */
        float snr = -7.5f + 0.25f * (float)i;
        uint32_t u;
        memcpy(&u, &snr, 4);
        le(b, &n, 500 + 2 * i, 4);
        le(b, &n, u, 4);
        le(b, &n, i % 4, 1);
    }
    char path[300];
    snprintf(path, sizeof path, "%s/lorawan.db", tmpdir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE devices SET session = ?", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, b, (int)n, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(lw_reg_dev_get(r, "app1", "dev1", &g), 0);
        assert_true(g.s.active);
        assert_int_equal(g.s.dev_addr, 0x260BABCD);
        assert_int_equal(g.s.nwk_s_key[0], 0x30);
        assert_int_equal(g.s.app_s_key[15], 0x30 + 31);
        assert_int_equal(g.s.fcnt_up, 538);
        assert_int_equal(g.s.fcnt_down, 9);
        assert_int_equal(g.s.last_dev_nonce, 77);
        assert_int_equal(g.s.nb_trans, 2);
        assert_int_equal(g.s.rx2_freq_hz, 869525000);
        assert_int_equal(lw_adr_history_len(&g.s.adr), 20);
        for (unsigned i = 0; i < 20; i++) {
            lw_adr_uplink e;
            assert_int_equal(lw_adr_history_at(&g.s.adr, i, &e), 0);
            assert_int_equal(e.fcnt, 500 + 2 * i);
            assert_true(e.max_snr == -7.5f + 0.25f * (float)i);
            assert_int_equal(e.tx_power_index, i % 4);
        }
        assert_true(lw_adr_loss_percent(&g.s.adr) == 95.0f); /* 19 gaps of one over 20 */
        if (round == 0) assert_int_equal(lw_reg_session_save(r, &g), 0); /* rewritten as version 2 */
        lw_dev_rec_clear(&g);
    }
}

static void test_bad_session_blob(void **state) {
    lw_registry *r = *state;
    char err[256];
    mk_app(r, "app1", NULL);
    lw_dev_rec d, g;
    abp_dev(&d, "app1", "dev1", 0x01020304);
    assert_int_equal(lw_reg_dev_add(r, &d, err, sizeof err), 0);
    char path[300];
    snprintf(path, sizeof path, "%s/lorawan.db", tmpdir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    /* a blob of a future version, then a truncated one */
    assert_int_equal(sqlite3_exec(db, "UPDATE devices SET session = x'09000102'", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(lw_reg_dev_get(r, "app1", "dev1", &g), 0);
    assert_false(g.s.active);
    assert_int_equal(g.s.dev_addr, 0);
    lw_dev_rec_clear(&g);
    assert_int_equal(sqlite3_exec(db, "UPDATE devices SET session = x'0101'", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(lw_reg_dev_get(r, "app1", "dev1", &g), 0);
    assert_false(g.s.active);
    lw_dev_rec_clear(&g);
    /* a newer schema version is refused with a message */
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    lw_registry *r2 = NULL;
    assert_int_equal(lw_reg_open(tmpdir, &r2, err, sizeof err), LW_REG_DB);
    assert_null(r2);
    assert_non_null(strstr(err, "schema version 99"));
}

typedef struct { int n; char log[16][96]; } chg;
static void on_change(void *ud, const char *kind, const char *app, const char *id) {
    chg *c = ud;
    if (c->n < 16) snprintf(c->log[c->n], sizeof c->log[0], "%s %s %s", kind, app, id);
    c->n++;
}

static void test_changes_two_handles(void **state) {
    lw_registry *server = *state, *cli = NULL;
    char err[256];
    int64_t last = -1;
    assert_int_equal(lw_reg_changes(server, 0, NULL, NULL, &last), 0);
    assert_int_equal(last, 0);
    assert_int_equal(lw_reg_open(tmpdir, &cli, err, sizeof err), 0);
    /* the "CLI" edits, the "server" follows */
    mk_app(cli, "app1", NULL);
    lw_dev_rec d, g;
    otaa_dev(&d, "app1", "dev1", 1);
    assert_int_equal(lw_reg_dev_add(cli, &d, err, sizeof err), 0);
    lw_gw_rec gw;
    memset(&gw, 0, sizeof gw);
    for (int i = 0; i < 8; i++) gw.eui[i] = (uint8_t)(0xA0 + i);
    assert_int_equal(lw_reg_gw_add(cli, &gw, err, sizeof err), 0);
    chg c = {0};
    assert_int_equal(lw_reg_changes(server, 0, on_change, &c, &last), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.log[0], "app app1 app1");
    assert_string_equal(c.log[1], "dev app1 dev1");
    assert_string_equal(c.log[2], "gw  A0A1A2A3A4A5A6A7");
    int64_t after = last;
    assert_true(after >= 3);
    /* the server saves a session: no change logged; the CLI sees the new session */
    assert_int_equal(lw_reg_dev_get(server, "app1", "dev1", &g), 0);
    g.s.active = true;
    g.s.dev_addr = 0x11223344;
    assert_int_equal(lw_reg_begin(server), 0);
    assert_int_equal(lw_reg_session_save(server, &g), 0);
    assert_int_equal(lw_reg_commit(server), 0);
    lw_dev_rec_clear(&g);
    memset(&c, 0, sizeof c);
    assert_int_equal(lw_reg_changes(server, after, on_change, &c, &last), 0);
    assert_int_equal(c.n, 0);
    assert_int_equal(last, after);
    assert_int_equal(lw_reg_dev_get(cli, "app1", "dev1", &g), 0);
    assert_int_equal(g.s.dev_addr, 0x11223344);
    lw_dev_rec_clear(&g);
    /* a write from the CLI while the server holds a transaction waits (busy timeout), then succeeds */
    assert_int_equal(lw_reg_begin(server), 0);
    assert_int_equal(lw_reg_devnonce_use(server, &d, 5), 1);
    assert_int_equal(lw_reg_commit(server), 0);
    assert_int_equal(lw_reg_devnonce_use(cli, &d, 5), 0); /* shared replay records */
    /* removing the app logs the device too */
    assert_int_equal(lw_reg_app_remove(cli, "app1"), 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(lw_reg_changes(server, after, on_change, &c, &last), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.log[0], "dev app1 dev1");
    assert_string_equal(c.log[1], "app app1 app1");
    assert_int_equal(last, after + 2);
    int64_t newest = 0;
    assert_int_equal(lw_reg_changes(server, 0, NULL, NULL, &newest), 0);
    assert_int_equal(newest, last);
    assert_int_equal(lw_reg_devnonce_use(server, &d, 5), 1); /* forgotten with the device */
    lw_reg_close(cli);
}

static int list_gw(void *ud, const lw_gw_rec *g) {
    lw_gw_rec *out = ud;
    out[out[0].alt++ + 1] = *g;
    return 0;
}

static void test_gateways(void **state) {
    lw_registry *r = *state;
    char err[256];
    lw_gw_rec g, got;
    memset(&g, 0, sizeof g);
    assert_int_equal(lw_reg_gw_add(r, &g, err, sizeof err), LW_REG_INVALID);
    assert_non_null(strstr(err, "EUI"));
    uint8_t eui[8] = {0xB8, 0x27, 0xEB, 0xFF, 0xFE, 0x12, 0x34, 0x56};
    memcpy(g.eui, eui, 8);
    snprintf(g.gw_id, sizeof g.gw_id, "Bad");
    assert_int_equal(lw_reg_gw_add(r, &g, err, sizeof err), LW_REG_INVALID);
    assert_non_null(strstr(err, "invalid gateway id"));
    g.gw_id[0] = 0;
    g.has_location = true;
    g.lat = 95;
    assert_int_equal(lw_reg_gw_add(r, &g, err, sizeof err), LW_REG_INVALID);
    assert_non_null(strstr(err, "location"));
    g.lat = 48.85;
    g.lon = 2.35;
    g.alt = 35;
    snprintf(g.name, sizeof g.name, "roof");
    assert_int_equal(lw_reg_gw_add(r, &g, err, sizeof err), 0);
    assert_int_equal(lw_reg_gw_add(r, &g, err, sizeof err), LW_REG_EXISTS);
    assert_int_equal(lw_reg_gw_get(r, eui, &got), 0);
    assert_string_equal(got.gw_id, "eui-b827ebfffe123456");
    assert_string_equal(got.name, "roof");
    assert_true(got.has_location);
    assert_true(got.lat > 48.84 && got.lat < 48.86);
    assert_int_equal(got.alt, 35);
    /* a second gateway may not take the same id */
    lw_gw_rec g2 = g;
    g2.eui[7] = 0x57;
    snprintf(g2.gw_id, sizeof g2.gw_id, "eui-b827ebfffe123456");
    assert_int_equal(lw_reg_gw_add(r, &g2, err, sizeof err), LW_REG_EXISTS);
    snprintf(g2.gw_id, sizeof g2.gw_id, "second");
    g2.has_location = false;
    assert_int_equal(lw_reg_gw_add(r, &g2, err, sizeof err), 0);
    /* update */
    snprintf(got.name, sizeof got.name, "basement");
    got.has_location = false;
    assert_int_equal(lw_reg_gw_update(r, &got, err, sizeof err), 0);
    assert_int_equal(lw_reg_gw_get(r, got.eui, &got), 0); /* the EUI may live in the output record */
    assert_string_equal(got.name, "basement");
    assert_false(got.has_location);
    lw_gw_rec list[4];
    memset(list, 0, sizeof list);
    assert_int_equal(lw_reg_gw_list(r, list_gw, list), 0);
    assert_int_equal(list[0].alt, 2);
    assert_string_equal(list[1].gw_id, "eui-b827ebfffe123456");
    assert_string_equal(list[2].gw_id, "second");
    assert_int_equal(lw_reg_gw_remove(r, eui), 0);
    assert_int_equal(lw_reg_gw_remove(r, eui), LW_REG_NOTFOUND);
    assert_int_equal(lw_reg_gw_get(r, eui, &got), LW_REG_NOTFOUND);
    got.eui[0] = 1;
    assert_int_equal(lw_reg_gw_update(r, &got, err, sizeof err), LW_REG_NOTFOUND);
}

static void test_reopen(void **state) {
    lw_registry *r = *state;
    char err[256], key[LW_REG_KEY_MAX];
    mk_app(r, "app1", key);
    lw_dev_rec d, g;
    abp_dev(&d, "app1", "dev1", 0x260B0001);
    assert_int_equal(lw_reg_dev_add(r, &d, err, sizeof err), 0);
    d.s.active = true;
    d.s.fcnt_up = 1234;
    d.s.fcnt_down = 99;
    assert_int_equal(lw_reg_session_save(r, &d), 0);
    lw_reg_close(r);
    *state = NULL;
    assert_int_equal(lw_reg_open(tmpdir, &r, err, sizeof err), 0);
    *state = r;
    assert_int_equal(lw_reg_dev_get(r, "app1", "dev1", &g), 0);
    assert_int_equal(g.s.fcnt_up, 1234);
    assert_int_equal(g.s.fcnt_down, 99);
    lw_dev_rec_clear(&g);
    assert_int_equal(lw_reg_app_key_check(r, "app1", key), 1);
    /* the database is private to its owner */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test \"$(stat -c %%a '%s/lorawan.db')\" = 600", tmpdir);
    assert_int_equal(system(cmd), 0);
    /* opening in a directory that does not exist yet creates it */
    char sub[300];
    snprintf(sub, sizeof sub, "%s/a/b", tmpdir);
    lw_registry *r3 = NULL;
    assert_int_equal(lw_reg_open(sub, &r3, err, sizeof err), 0);
    lw_reg_close(r3);
    assert_int_equal(lw_reg_open("/proc/nope/x", &r3, err, sizeof err), LW_REG_DB);
    assert_non_null(strstr(err, "/proc/nope/x"));
}

/* ---- REST API over a real HTTP listener (server loop in a thread, blocking client here) ---- */

typedef struct rest_srv {
    uv_loop_t loop;
    uv_async_t stop;
    net_listener *l;
    lw_rest_ctx ctx;
    pthread_t th;
    int port;
} rest_srv;

static struct { int calls; bool replace; char app[40], dev[40], body[512]; int fail; } g_down;

static int fake_queue_down(void *ud, const char *app, const char *dev, const char *json, size_t len, bool replace, char *err, size_t errlen) {
    (void)ud;
    g_down.calls++;
    g_down.replace = replace;
    snprintf(g_down.app, sizeof g_down.app, "%s", app);
    snprintf(g_down.dev, sizeof g_down.dev, "%s", dev);
    snprintf(g_down.body, sizeof g_down.body, "%.*s", (int)len, json);
    if (g_down.fail) { snprintf(err, errlen, "f_port must be 1..223"); return -1; }
    return 0;
}

static void rest_handler(net_http_req *req, void *ud) {
    rest_srv *s = ud;
    if (!lw_rest_handle(req, &s->ctx)) net_http_respond(req, 404, "text/plain", NULL, "not-lorawan", 11);
}

static void rest_stop_cb(uv_async_t *a) {
    rest_srv *s = a->data;
    net_listener_close(s->l);
    uv_close((uv_handle_t *)a, NULL);
}

static void *rest_thread(void *p) {
    rest_srv *s = p;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void rest_start(rest_srv *s, lw_registry *r) {
    memset(s, 0, sizeof *s);
    assert_int_equal(uv_loop_init(&s->loop), 0);
    s->ctx.reg = r;
    s->ctx.tenant = "tenant1";
    char err[256];
    assert_int_equal(net_http_listen(&s->loop, "127.0.0.1", 0, rest_handler, s, &s->l, err, sizeof err), 0);
    s->port = net_listener_port(s->l);
    uv_async_init(&s->loop, &s->stop, rest_stop_cb);
    s->stop.data = s;
    assert_int_equal(pthread_create(&s->th, NULL, rest_thread, s), 0);
}

static void rest_end(rest_srv *s) {
    uv_async_send(&s->stop);
    pthread_join(s->th, NULL);
    for (int i = 0; i < 200 && uv_loop_alive(&s->loop); i++) uv_run(&s->loop, UV_RUN_NOWAIT), usleep(1000);
    assert_int_equal(uv_loop_close(&s->loop), 0);
}

/* one request on a fresh connection; returns the status, body copied into out */
static int http(rest_srv *s, const char *method, const char *path, const char *body, char *out, size_t cap) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[4096];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, body ? strlen(body) : 0, body ? body : "");
    assert_true(n > 0 && (size_t)n < sizeof req);
    assert_int_equal(send(fd, req, (size_t)n, 0), n);
    static char resp[65536];
    size_t got = 0;
    ssize_t k;
    while (got < sizeof resp - 1 && (k = recv(fd, resp + got, sizeof resp - 1 - got, 0)) > 0) got += (size_t)k;
    resp[got] = 0;
    close(fd);
    int status = 0;
    assert_int_equal(sscanf(resp, "HTTP/1.1 %d", &status), 1);
    const char *b = strstr(resp, "\r\n\r\n");
    snprintf(out, cap, "%s", b ? b + 4 : "");
    return status;
}

static void expect_http(rest_srv *s, const char *method, const char *path, const char *body, int want, const char *needle, char *out, size_t cap) {
    int st = http(s, method, path, body, out, cap);
    if (st != want || (needle && !strstr(out, needle))) fail_msg("%s %s: got %d '%s', want %d with '%s'", method, path, st, out, want, needle ? needle : "");
}

static void api_key_from(const char *body, char *key) {
    const char *k = strstr(body, "\"api_key\":\"");
    assert_non_null(k);
    memcpy(key, k + 11, LW_REG_KEY_LEN);
    key[LW_REG_KEY_LEN] = 0;
}

static void test_rest(void **state) {
    lw_registry *r = *state, *check = NULL;
    char err[256], out[16384], key[LW_REG_KEY_MAX];
    assert_int_equal(lw_reg_open(tmpdir, &check, err, sizeof err), 0);
    rest_srv srv;
    rest_start(&srv, r);
    rest_srv *s = &srv;
    memset(&g_down, 0, sizeof g_down);

    /* outside the prefix: not handled */
    expect_http(s, "GET", "/api/v1/lorawanx", NULL, 404, "not-lorawan", out, sizeof out);
    expect_http(s, "GET", "/health", NULL, 404, "not-lorawan", out, sizeof out);
    expect_http(s, "GET", "/api/v1/lorawan", NULL, 404, "error", out, sizeof out);
    expect_http(s, "GET", "/api/v1/lorawan/nothing", NULL, 404, "error", out, sizeof out);

    /* applications */
    expect_http(s, "GET", "/api/v1/lorawan/apps", NULL, 200, "{\"applications\":[]}", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/apps", "{\"ids\":{\"application_id\":\"app1\"},\"name\":\"First\",\"formatter\":\"lpp\"}", 201,
                "\"mqtt_username\":\"app1@tenant1\"", out, sizeof out);
    api_key_from(out, key);
    assert_int_equal(lw_reg_app_key_check(check, "app1", key), 1);
    expect_http(s, "POST", "/api/v1/lorawan/apps", "{\"ids\":{\"application_id\":\"app1\"}}", 409, "already exists", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/apps", "{\"ids\":{\"application_id\":\"Bad!\"}}", 400, "invalid application id", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/apps", "{\"ids\":", 400, "invalid JSON", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/apps", "[1]", 400, "JSON object", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/apps", "{\"name\":\"x\"}", 400, "application_id is required", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/apps", "{\"ids\":{\"application_id\":\"app9\"},\"formatter\":\"cobol\"}", 400, "formatter", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/apps", "{\"ids\":{\"application_id\":\"app9\"},\"formatter\":\"js\"}", 400, "JavaScript", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/apps", "{\"ids\":{\"application_id\":\"app9\"},\"name\":7}", 400, "name: must be a string", out, sizeof out);
    expect_http(s, "DELETE", "/api/v1/lorawan/apps", NULL, 405, "method not allowed", out, sizeof out);
    expect_http(s, "GET", "/api/v1/lorawan/apps", NULL, 200, "\"application_id\":\"app1\"", out, sizeof out);
    expect_http(s, "GET", "/api/v1/lorawan/apps/app1", NULL, 200, "\"formatter\":\"lpp\"", out, sizeof out);
    expect_http(s, "GET", "/api/v1/lorawan/apps/nope", NULL, 404, "application nope not found", out, sizeof out);
    expect_http(s, "PUT", "/api/v1/lorawan/apps/app1", "{\"name\":\"Renamed\"}", 200, "\"name\":\"Renamed\"", out, sizeof out);
    assert_non_null(strstr(out, "\"formatter\":\"lpp\"")); /* absent fields unchanged */
    expect_http(s, "PUT", "/api/v1/lorawan/apps/app1", "{\"ids\":{\"application_id\":\"other\"}}", 400, "cannot be changed", out, sizeof out);
    expect_http(s, "PUT", "/api/v1/lorawan/apps/nope", "{\"name\":\"x\"}", 404, "not found", out, sizeof out);
    expect_http(s, "PATCH", "/api/v1/lorawan/apps/app1", "{}", 405, "method", out, sizeof out);
    /* key rotation */
    char key2[LW_REG_KEY_MAX];
    expect_http(s, "POST", "/api/v1/lorawan/apps/app1/keys", NULL, 201, "NNSXS.", out, sizeof out);
    api_key_from(out, key2);
    assert_int_equal(lw_reg_app_key_check(check, "app1", key2), 1);
    assert_int_equal(lw_reg_app_key_check(check, "app1", key), 1);
    expect_http(s, "POST", "/api/v1/lorawan/apps/nope/keys", NULL, 404, "not found", out, sizeof out);
    expect_http(s, "GET", "/api/v1/lorawan/apps/app1/keys", NULL, 405, "method", out, sizeof out);

    /* devices */
    const char *otaa = "{\"ids\":{\"device_id\":\"dev1\",\"dev_eui\":\"70b3d57ed0000001\",\"join_eui\":\"0000000000000000\"},"
                       "\"app_key\":\"000102030405060708090A0B0C0D0E0F\",\"name\":\"sensor\",\"mac_version\":\"1.0.3\"}";
    expect_http(s, "POST", "/api/v1/lorawan/apps/app1/devices", otaa, 201, "\"dev_eui\":\"70B3D57ED0000001\"", out, sizeof out);
    assert_non_null(strstr(out, "\"app_key\":\"set\""));
    assert_non_null(strstr(out, "\"mac_version\":\"1.0.3\""));
    assert_null(strstr(out, "0A0B0C0D"));
    assert_null(strstr(out, "0a0b0c0d"));
    expect_http(s, "POST", "/api/v1/lorawan/apps/app1/devices", otaa, 409, "already exists", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/apps/nope/devices", otaa, 404, "application nope not found", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/apps/app1/devices",
                "{\"ids\":{\"device_id\":\"dev2\",\"dev_eui\":\"70b3d57ed00000\"},\"app_key\":\"000102030405060708090A0B0C0D0E0F\"}", 400,
                "dev_eui: must be 16 hex digits", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/apps/app1/devices", "{\"ids\":{\"device_id\":\"dev2\",\"dev_eui\":\"70b3d57ed0000002\"},\"app_key\":\"00\"}",
                400, "app_key: must be 32 hex digits", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/apps/app1/devices", "{\"ids\":{\"device_id\":\"dev2\",\"dev_eui\":\"70b3d57ed0000002\"}}", 400, "AppKey",
                out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/apps/app1/devices",
                "{\"ids\":{\"device_id\":\"dev2\",\"dev_eui\":\"70b3d57ed0000002\"},\"app_key\":\"000102030405060708090A0B0C0D0E0F\",\"region\":\"XX1\"}",
                400, "region", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/apps/app1/devices",
                "{\"ids\":{\"device_id\":\"dev2\",\"application_ids\":{\"application_id\":\"app2\"}},\"app_key\":\"000102030405060708090A0B0C0D0E0F\"}",
                400, "does not match", out, sizeof out);
    const char *abp = "{\"ids\":{\"device_id\":\"abp1\"},\"activation\":\"ABP\",\"dev_addr\":\"260B1234\",\"nwk_s_key\":\"11111111111111111111111111111111\","
                      "\"app_s_key\":\"22222222222222222222222222222222\",\"relax_fcnt\":true,\"region\":\"us915\"}";
    expect_http(s, "POST", "/api/v1/lorawan/apps/app1/devices", abp, 201, "\"dev_addr\":\"260B1234\"", out, sizeof out);
    assert_null(strstr(out, "1111111111"));
    assert_null(strstr(out, "2222222222"));
    assert_non_null(strstr(out, "\"region\":\"US915\""));
    assert_non_null(strstr(out, "\"active\":true"));
    expect_http(s, "GET", "/api/v1/lorawan/apps/app1/devices", NULL, 200, "\"device_id\":\"abp1\"", out, sizeof out);
    assert_non_null(strstr(out, "\"device_id\":\"dev1\""));
    assert_null(strstr(out, "1111111111"));
    expect_http(s, "GET", "/api/v1/lorawan/apps/nope/devices", NULL, 404, "not found", out, sizeof out);
    expect_http(s, "GET", "/api/v1/lorawan/apps/app1/devices/dev1", NULL, 200, "\"name\":\"sensor\"", out, sizeof out);
    expect_http(s, "GET", "/api/v1/lorawan/apps/app1/devices/ghost", NULL, 404, "device app1/ghost not found", out, sizeof out);
    /* PUT merges: the key stays although the body does not carry it ("set" markers are ignored) */
    expect_http(s, "PUT", "/api/v1/lorawan/apps/app1/devices/dev1", "{\"name\":\"renamed\",\"adr\":false,\"app_key\":\"set\"}", 200,
                "\"adr\":false", out, sizeof out);
    lw_dev_rec d;
    assert_int_equal(lw_reg_dev_get(check, "app1", "dev1", &d), 0);
    assert_string_equal(d.name, "renamed");
    assert_int_equal(d.app_key[15], 0x0F);
    assert_int_equal(d.mac_minor, 3);
    lw_dev_rec_clear(&d);
    expect_http(s, "PUT", "/api/v1/lorawan/apps/app1/devices/dev1", "{\"adr\":\"no\"}", 400, "adr: must be true or false", out, sizeof out);
    expect_http(s, "PUT", "/api/v1/lorawan/apps/app1/devices/dev1", "{\"ids\":{\"device_id\":\"dev9\"}}", 400, "cannot be changed", out, sizeof out);
    expect_http(s, "PUT", "/api/v1/lorawan/apps/app1/devices/ghost", "{}", 404, "not found", out, sizeof out);

    /* downlinks */
    const char *dl = "{\"downlinks\":[{\"f_port\":1,\"frm_payload\":\"AQI=\"}]}";
    expect_http(s, "POST", "/api/v1/lorawan/apps/app1/devices/dev1/down/push", dl, 503, "not available", out, sizeof out);
    srv.ctx.queue_down = fake_queue_down; /* the server thread only reads ctx while a request runs */
    expect_http(s, "POST", "/api/v1/lorawan/apps/app1/devices/dev1/down/push", dl, 200, "{}", out, sizeof out);
    assert_int_equal(g_down.calls, 1);
    assert_false(g_down.replace);
    assert_string_equal(g_down.app, "app1");
    assert_string_equal(g_down.dev, "dev1");
    assert_string_equal(g_down.body, dl);
    expect_http(s, "POST", "/api/v1/lorawan/apps/app1/devices/dev1/down/replace", dl, 200, "{}", out, sizeof out);
    assert_true(g_down.replace);
    g_down.fail = 1;
    expect_http(s, "POST", "/api/v1/lorawan/apps/app1/devices/dev1/down/push", dl, 400, "f_port must be", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/apps/app1/devices/dev1/down/push", "not json", 400, "invalid JSON", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/apps/app1/devices/ghost/down/push", dl, 404, "not found", out, sizeof out);
    expect_http(s, "GET", "/api/v1/lorawan/apps/app1/devices/dev1/down/push", NULL, 405, "method", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/apps/app1/devices/dev1/down/other", dl, 404, "not found", out, sizeof out);
    assert_int_equal(g_down.calls, 3);

    /* gateways */
    expect_http(s, "GET", "/api/v1/lorawan/gateways", NULL, 200, "{\"gateways\":[]}", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/gateways", "{\"ids\":{\"eui\":\"b827ebfffe123456\"},\"name\":\"roof\",\"location\":{\"latitude\":48.5,\"longitude\":2.25,\"altitude\":30}}",
                201, "\"gateway_id\":\"eui-b827ebfffe123456\"", out, sizeof out);
    assert_non_null(strstr(out, "\"altitude\":30"));
    expect_http(s, "POST", "/api/v1/lorawan/gateways", "{\"ids\":{\"eui\":\"b827ebfffe123456\"}}", 409, "already exists", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/gateways", "{\"ids\":{\"eui\":\"0000000000000000\"}}", 400, "EUI", out, sizeof out);
    expect_http(s, "POST", "/api/v1/lorawan/gateways", "{\"ids\":{\"eui\":\"b827ebfffe123457\"},\"location\":{\"latitude\":\"x\"}}", 400, "location", out, sizeof out);
    expect_http(s, "GET", "/api/v1/lorawan/gateways", NULL, 200, "\"name\":\"roof\"", out, sizeof out);
    expect_http(s, "GET", "/api/v1/lorawan/gateways/B827EBFFFE123456", NULL, 200, "\"latitude\":48.5", out, sizeof out);
    expect_http(s, "GET", "/api/v1/lorawan/gateways/eui-b827ebfffe123456", NULL, 200, "roof", out, sizeof out);
    expect_http(s, "GET", "/api/v1/lorawan/gateways/zz", NULL, 400, "16 hex digits", out, sizeof out);
    expect_http(s, "GET", "/api/v1/lorawan/gateways/0102030405060708", NULL, 404, "not found", out, sizeof out);
    expect_http(s, "PUT", "/api/v1/lorawan/gateways/B827EBFFFE123456", "{}", 405, "method", out, sizeof out);
    expect_http(s, "DELETE", "/api/v1/lorawan/gateways/B827EBFFFE123456", NULL, 204, NULL, out, sizeof out);
    expect_http(s, "DELETE", "/api/v1/lorawan/gateways/B827EBFFFE123456", NULL, 404, "not found", out, sizeof out);

    /* removal */
    expect_http(s, "DELETE", "/api/v1/lorawan/apps/app1/devices/dev1", NULL, 204, NULL, out, sizeof out);
    expect_http(s, "DELETE", "/api/v1/lorawan/apps/app1/devices/dev1", NULL, 404, "not found", out, sizeof out);
    expect_http(s, "DELETE", "/api/v1/lorawan/apps/app1", NULL, 204, NULL, out, sizeof out);
    expect_http(s, "GET", "/api/v1/lorawan/apps/app1/devices/abp1", NULL, 404, "not found", out, sizeof out);
    assert_int_equal(lw_reg_app_key_check(check, "app1", key), 0);
    expect_http(s, "GET", "/api/v1/lorawan/apps", NULL, 200, "{\"applications\":[]}", out, sizeof out);
    rest_end(&srv);
    lw_reg_close(check);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_helpers),
        cmocka_unit_test_setup_teardown(test_apps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_js_device_formatter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_devnonce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_blob_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_session_blob, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_two_handles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gateways, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rest, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
