/* LoRaWAN registry in SQLite (see registry.h): schema creation/versioning, validation, CRUD for
 * applications/devices/gateways, salted-hash API keys, the session blob, DevNonce replay records
 * and the change log that lets a running server follow edits made by the CLI or the REST API. */
#include "lorawan/registry.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "base/clock.h"
#include "base/log.h"
#include "lorawan/region.h"

#define SALT_LEN 16
#define HASH_LEN 32
#define CHANGES_KEEP 10000
#define SESSION_BLOB_VERSION 2 /* 2: compact ADR history; 1 (full entries) is still read */

struct lw_registry {
    sqlite3 *db;
    sqlite3_stmt *st_session; /* cached: lw_reg_session_save */
    sqlite3_stmt *st_nonce;   /* cached: lw_reg_devnonce_use */
    int user_tx;              /* inside lw_reg_begin .. lw_reg_commit */
};

static void seterr(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t n, const char *fmt, ...) {
    if (!err || !n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

static int64_t now_ms(void) { return (int64_t)te_wall_ms(); }

static int is_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static void eui_hex(const uint8_t e[8], char out[17]) { lw_hex_format(e, 8, out, 1); }

/* ---- SQL plumbing ---- */

static const char *SCHEMA =
    "CREATE TABLE IF NOT EXISTS apps (app_id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '',"
    " fmt INTEGER NOT NULL, fmt_src TEXT, created_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS app_keys (key_id TEXT PRIMARY KEY,"
    " app_id TEXT NOT NULL REFERENCES apps(app_id) ON DELETE CASCADE,"
    " salt BLOB NOT NULL, hash BLOB NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS app_keys_app ON app_keys(app_id);"
    "CREATE TABLE IF NOT EXISTS devices (app_id TEXT NOT NULL REFERENCES apps(app_id) ON DELETE CASCADE,"
    " dev_id TEXT NOT NULL, name TEXT NOT NULL DEFAULT '', dev_eui TEXT NOT NULL, join_eui TEXT NOT NULL,"
    " otaa INTEGER NOT NULL, app_key BLOB, mac_minor INTEGER NOT NULL, region TEXT NOT NULL,"
    " dev_class TEXT NOT NULL, adr INTEGER NOT NULL, relax_fcnt INTEGER NOT NULL, fmt INTEGER NOT NULL,"
    " fmt_src TEXT, created_ms INTEGER NOT NULL, session BLOB, PRIMARY KEY (app_id, dev_id));"
    "CREATE UNIQUE INDEX IF NOT EXISTS devices_eui ON devices(join_eui, dev_eui)"
    " WHERE dev_eui <> '0000000000000000';"
    "CREATE INDEX IF NOT EXISTS devices_deveui ON devices(dev_eui);"
    "CREATE TABLE IF NOT EXISTS devnonces (join_eui TEXT NOT NULL, dev_eui TEXT NOT NULL,"
    " nonce INTEGER NOT NULL, used_ms INTEGER NOT NULL, PRIMARY KEY (join_eui, dev_eui, nonce)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS gateways (eui TEXT PRIMARY KEY, gw_id TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL DEFAULT '', has_location INTEGER NOT NULL, lat REAL, lon REAL, alt INTEGER,"
    " created_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
    " app_id TEXT NOT NULL, id TEXT NOT NULL, at_ms INTEGER NOT NULL);";

static int exec(lw_registry *r, const char *sql) {
    char *msg = NULL;
    int rc = sqlite3_exec(r->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        LOG_WARN("lorawan", "registry: %s: %s", sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return LW_REG_DB;
    }
    return 0;
}

static sqlite3_stmt *prep(lw_registry *r, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
        LOG_WARN("lorawan", "registry: prepare %s: %s", sql, sqlite3_errmsg(r->db));
        return NULL;
    }
    return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s) { sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT); }

/* a write made of several statements: its own IMMEDIATE transaction, or a savepoint inside the
 * caller's (lw_reg_begin) one */
static int wbegin(lw_registry *r) { return sqlite3_get_autocommit(r->db) ? exec(r, "BEGIN IMMEDIATE") : exec(r, "SAVEPOINT lwreg"); }

static int wend(lw_registry *r, int ok) {
    int outer = r->user_tx && !sqlite3_get_autocommit(r->db);
    if (outer) {
        if (!ok) exec(r, "ROLLBACK TO lwreg");
        return exec(r, "RELEASE lwreg");
    }
    if (ok) {
        if (exec(r, "COMMIT") == 0) return 0;
    }
    if (!sqlite3_get_autocommit(r->db)) exec(r, "ROLLBACK");
    return ok ? LW_REG_DB : 0;
}

/* step a write statement; maps constraint violations to LW_REG_EXISTS */
static int step_done(lw_registry *r, sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return 0;
    if ((rc & 0xff) == SQLITE_CONSTRAINT) return LW_REG_EXISTS;
    LOG_WARN("lorawan", "registry: %s", sqlite3_errmsg(r->db));
    return LW_REG_DB;
}

static int log_change(lw_registry *r, const char *kind, const char *app_id, const char *id) {
    sqlite3_stmt *st = prep(r, "INSERT INTO changes (kind, app_id, id, at_ms) VALUES (?,?,?,?)");
    if (!st) return LW_REG_DB;
    bind_text(st, 1, kind);
    bind_text(st, 2, app_id);
    bind_text(st, 3, id);
    sqlite3_bind_int64(st, 4, now_ms());
    int rc = step_done(r, st);
    sqlite3_finalize(st);
    if (rc) return rc;
    int64_t seq = sqlite3_last_insert_rowid(r->db);
    if (seq % 1000 == 0) { /* keep the log bounded */
        st = prep(r, "DELETE FROM changes WHERE seq <= ?");
        if (!st) return LW_REG_DB;
        sqlite3_bind_int64(st, 1, seq - CHANGES_KEEP);
        rc = step_done(r, st);
        sqlite3_finalize(st);
    }
    return rc;
}

static int mkdir_p(const char *dir) {
    char tmp[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof tmp) return -1;
    memcpy(tmp, dir, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0700) && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0700) && errno != EEXIST) return -1;
    return 0;
}

int lw_reg_open(const char *data_dir, lw_registry **out, char *err, size_t errlen) {
    *out = NULL;
    if (!data_dir || !*data_dir) { seterr(err, errlen, "no data directory"); return LW_REG_INVALID; }
    if (mkdir_p(data_dir)) { seterr(err, errlen, "cannot create %s: %s", data_dir, strerror(errno)); return LW_REG_DB; }
    char path[4200];
    snprintf(path, sizeof path, "%s/lorawan.db", data_dir);
    /* the database holds root keys: create it private */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) { seterr(err, errlen, "cannot open %s: %s", path, strerror(errno)); return LW_REG_DB; }
    close(fd);
    lw_registry *r = calloc(1, sizeof *r);
    if (!r) { seterr(err, errlen, "out of memory"); return LW_REG_DB; }
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        seterr(err, errlen, "cannot open %s: %s", path, r->db ? sqlite3_errmsg(r->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(r->db, 1);
    sqlite3_busy_timeout(r->db, 5000);
    if (exec(r, "PRAGMA journal_mode=WAL") || exec(r, "PRAGMA synchronous=NORMAL") || exec(r, "PRAGMA foreign_keys=ON")) {
        seterr(err, errlen, "%s: %s", path, sqlite3_errmsg(r->db));
        goto fail;
    }
    if (exec(r, "BEGIN IMMEDIATE")) { seterr(err, errlen, "%s: %s", path, sqlite3_errmsg(r->db)); goto fail; }
    sqlite3_stmt *st = prep(r, "PRAGMA user_version");
    int ver = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW) ver = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (ver < 0) { seterr(err, errlen, "%s: %s", path, sqlite3_errmsg(r->db)); exec(r, "ROLLBACK"); goto fail; }
    if (ver > LW_REG_SCHEMA_VERSION) {
        seterr(err, errlen, "%s: schema version %d is newer than this tinyedge's (%d)", path, ver, LW_REG_SCHEMA_VERSION);
        exec(r, "ROLLBACK");
        goto fail;
    }
    if (ver < LW_REG_SCHEMA_VERSION) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", LW_REG_SCHEMA_VERSION);
        if (exec(r, SCHEMA) || exec(r, sql)) {
            seterr(err, errlen, "%s: cannot create the schema: %s", path, sqlite3_errmsg(r->db));
            exec(r, "ROLLBACK");
            goto fail;
        }
    }
    if (exec(r, "COMMIT")) { seterr(err, errlen, "%s: %s", path, sqlite3_errmsg(r->db)); exec(r, "ROLLBACK"); goto fail; }
    r->st_session = prep(r, "UPDATE devices SET session = ? WHERE app_id = ? AND dev_id = ?");
    r->st_nonce = prep(r, "INSERT OR IGNORE INTO devnonces (join_eui, dev_eui, nonce, used_ms) VALUES (?,?,?,?)");
    if (!r->st_session || !r->st_nonce) { seterr(err, errlen, "%s: %s", path, sqlite3_errmsg(r->db)); goto fail; }
    *out = r;
    return 0;
fail:
    lw_reg_close(r);
    return LW_REG_DB;
}

int lw_reg_autocheckpoint(lw_registry *r, int pages) {
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA wal_autocheckpoint=%d", pages < 0 ? 0 : pages);
    sqlite3_stmt *st = prep(r, sql);
    if (!st) return LW_REG_DB;
    while (sqlite3_step(st) == SQLITE_ROW) {
    }
    sqlite3_finalize(st);
    return 0;
}

void lw_reg_close(lw_registry *r) {
    if (!r) return;
    sqlite3_finalize(r->st_session);
    sqlite3_finalize(r->st_nonce);
    if (r->db) {
        if (!sqlite3_get_autocommit(r->db)) exec(r, "ROLLBACK");
        sqlite3_close(r->db);
    }
    free(r);
}

const char *lw_reg_strerror(int rc) {
    switch (rc) {
    case 0: return "ok";
    case LW_REG_NOTFOUND: return "not found";
    case LW_REG_EXISTS: return "already exists";
    case LW_REG_INVALID: return "invalid";
    case LW_REG_DB: return "database error";
    default: return "unknown error";
    }
}

/* ---- session blob: version byte, then explicit little-endian fields; any other length or
 * version loads as "no session" (the device rejoins) rather than as garbage ---- */

typedef struct { uint8_t *p; size_t n, cap; int bad; } cur;

static void put(cur *c, uint64_t v, int bytes) {
    if (c->n + (size_t)bytes > c->cap) { c->bad = 1; return; }
    for (int i = 0; i < bytes; i++) c->p[c->n++] = (uint8_t)(v >> (8 * i));
}
static void putb(cur *c, const uint8_t *b, size_t n) {
    if (c->n + n > c->cap) { c->bad = 1; return; }
    memcpy(c->p + c->n, b, n);
    c->n += n;
}
static uint64_t get(cur *c, int bytes) {
    if (c->n + (size_t)bytes > c->cap) { c->bad = 1; return 0; }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)c->p[c->n++] << (8 * i);
    return v;
}
static void getb(cur *c, uint8_t *b, size_t n) {
    if (c->n + n > c->cap) { c->bad = 1; return; }
    memcpy(b, c->p + c->n, n);
    c->n += n;
}
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

#define SESSION_BLOB_MAX 512

static size_t session_encode(const lw_session *s, uint8_t *buf) {
    cur c = {buf, 0, SESSION_BLOB_MAX, 0};
    put(&c, SESSION_BLOB_VERSION, 1);
    put(&c, s->active, 1);
    put(&c, s->dev_addr, 4);
    putb(&c, s->nwk_s_key, 16);
    putb(&c, s->app_s_key, 16);
    put(&c, s->fcnt_up_seen, 1);
    put(&c, s->fcnt_up, 4);
    put(&c, s->fcnt_down, 4);
    put(&c, s->join_nonce, 4);
    put(&c, s->last_dev_nonce, 2);
    put(&c, (uint64_t)s->joined_at_ms, 8);
    put(&c, (uint64_t)s->last_seen_ms, 8);
    put(&c, s->dr, 1);
    put(&c, s->tx_power, 1);
    put(&c, s->nb_trans, 1);
    put(&c, s->rx1_dr_offset, 1);
    put(&c, s->rx2_dr, 1);
    put(&c, s->rx1_delay_s, 1);
    put(&c, s->rx2_freq_hz, 4);
    put(&c, s->adr_pending, 1);
    put(&c, s->adr.head, 1);
    put(&c, s->adr.count, 1);
    put(&c, LW_ADR_HISTORY, 1);
    put(&c, s->adr.last_fcnt, 4);
    for (int i = 0; i < LW_ADR_HISTORY; i++) {
        put(&c, s->adr.h[i].fcnt_lo, 2);
        put(&c, (uint8_t)s->adr.h[i].snr_q, 1);
        put(&c, s->adr.h[i].txp, 1);
    }
    return c.bad ? 0 : c.n;
}

/* 0 ok, -1 unreadable (s is then zeroed: inactive) */
static int session_decode(const void *blob, size_t n, lw_session *s) {
    memset(s, 0, sizeof *s);
    if (!blob || n == 0) return 0;
    cur c = {(uint8_t *)blob, 0, n, 0};
    uint64_t version = get(&c, 1);
    if (version != 1 && version != SESSION_BLOB_VERSION) goto bad;
    s->active = get(&c, 1) != 0;
    s->dev_addr = (uint32_t)get(&c, 4);
    getb(&c, s->nwk_s_key, 16);
    getb(&c, s->app_s_key, 16);
    s->fcnt_up_seen = get(&c, 1) != 0;
    s->fcnt_up = (uint32_t)get(&c, 4);
    s->fcnt_down = (uint32_t)get(&c, 4);
    s->join_nonce = (uint32_t)get(&c, 4);
    s->last_dev_nonce = (uint16_t)get(&c, 2);
    s->joined_at_ms = (int64_t)get(&c, 8);
    s->last_seen_ms = (int64_t)get(&c, 8);
    s->dr = (uint8_t)get(&c, 1);
    s->tx_power = (uint8_t)get(&c, 1);
    s->nb_trans = (uint8_t)get(&c, 1);
    s->rx1_dr_offset = (uint8_t)get(&c, 1);
    s->rx2_dr = (uint8_t)get(&c, 1);
    s->rx1_delay_s = (uint8_t)get(&c, 1);
    s->rx2_freq_hz = (uint32_t)get(&c, 4);
    s->adr_pending = get(&c, 1) != 0;
    unsigned head = (unsigned)get(&c, 1), count = (unsigned)get(&c, 1);
    if (get(&c, 1) != LW_ADR_HISTORY) goto bad;
    if (version == 1) {
        /* full entries (FCnt, float SNR, TX power): replayed oldest first into the compact history */
        lw_adr_uplink old[LW_ADR_HISTORY];
        for (int i = 0; i < LW_ADR_HISTORY; i++) {
            old[i].fcnt = (uint32_t)get(&c, 4);
            old[i].max_snr = u2f((uint32_t)get(&c, 4));
            old[i].tx_power_index = (uint8_t)get(&c, 1);
        }
        if (c.bad || c.n != n || head >= LW_ADR_HISTORY || count > LW_ADR_HISTORY) goto bad;
        lw_adr_init(&s->adr);
        for (unsigned i = 0; i < count; i++) {
            const lw_adr_uplink *e = &old[(head + i) % LW_ADR_HISTORY];
            lw_adr_add_uplink(&s->adr, e->fcnt, e->max_snr, e->tx_power_index);
        }
        return 0;
    }
    s->adr.head = (uint8_t)head;
    s->adr.count = (uint8_t)count;
    s->adr.last_fcnt = (uint32_t)get(&c, 4);
    for (int i = 0; i < LW_ADR_HISTORY; i++) {
        s->adr.h[i].fcnt_lo = (uint16_t)get(&c, 2);
        s->adr.h[i].snr_q = (int8_t)(uint8_t)get(&c, 1);
        s->adr.h[i].txp = (uint8_t)get(&c, 1);
    }
    if (c.bad || c.n != n || head >= LW_ADR_HISTORY || count > LW_ADR_HISTORY) goto bad;
    return 0;
bad:
    memset(s, 0, sizeof *s);
    return -1;
}

/* ---- validation ---- */

static const char *ID_RULE = "2..36 characters of a-z, 0-9 and '-', not starting or ending with '-'";

static int check_fmt(lw_fmt_kind k, const char *src, int allow_inherit, char *err, size_t n) {
    if (k == LW_FMT_INHERIT && allow_inherit) return 0;
    if (k != LW_FMT_NONE && k != LW_FMT_LPP && k != LW_FMT_JS) { seterr(err, n, "invalid payload formatter kind %d", (int)k); return LW_REG_INVALID; }
    if (k == LW_FMT_JS && (!src || !*src)) { seterr(err, n, "a JavaScript formatter needs its source"); return LW_REG_INVALID; }
    return 0;
}

/* valid UTF-8 (no overlongs, surrogates or code points above U+10FFFF), no control characters */
static int text_ok(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p, need;
        uint32_t cp;
        if (c < 0x20 || c == 0x7f) return 0;
        if (c < 0x80) { p++; continue; }
        if (c >= 0xc2 && c <= 0xdf) need = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef) need = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4) need = 3, cp = c & 0x07;
        else return 0;
        for (unsigned i = 1; i <= need; i++) {
            if ((p[i] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
        p += need + 1;
    }
    return 1;
}

static int check_name(const char *name, char *err, size_t n) {
    if (memchr(name, 0, LW_NAME_MAX + 1) == NULL) { seterr(err, n, "name longer than %d characters", LW_NAME_MAX); return LW_REG_INVALID; }
    if (!text_ok(name)) { seterr(err, n, "name must be UTF-8 text without control characters"); return LW_REG_INVALID; }
    return 0;
}

static int check_app(const lw_app_rec *a, char *err, size_t n) {
    if (!a) { seterr(err, n, "no application"); return LW_REG_INVALID; }
    if (memchr(a->app_id, 0, sizeof a->app_id) == NULL || !lw_id_valid(a->app_id)) {
        seterr(err, n, "invalid application id \"%.36s\": %s", a->app_id, ID_RULE);
        return LW_REG_INVALID;
    }
    if (check_name(a->name, err, n)) return LW_REG_INVALID;
    return check_fmt(a->fmt, a->fmt_src, 0, err, n);
}

static int check_dev(const lw_dev_rec *d, char *err, size_t n) {
    if (!d) { seterr(err, n, "no device"); return LW_REG_INVALID; }
    if (memchr(d->app_id, 0, sizeof d->app_id) == NULL || !lw_id_valid(d->app_id)) {
        seterr(err, n, "invalid application id \"%.36s\": %s", d->app_id, ID_RULE);
        return LW_REG_INVALID;
    }
    if (memchr(d->dev_id, 0, sizeof d->dev_id) == NULL || !lw_id_valid(d->dev_id)) {
        seterr(err, n, "invalid device id \"%.36s\": %s", d->dev_id, ID_RULE);
        return LW_REG_INVALID;
    }
    if (check_name(d->name, err, n)) return LW_REG_INVALID;
    if (d->mac_minor < 2 || d->mac_minor > 4) {
        seterr(err, n, "unsupported MAC version 1.0.%u (1.0.2, 1.0.3 and 1.0.4 are)", d->mac_minor);
        return LW_REG_INVALID;
    }
    if (memchr(d->region, 0, sizeof d->region) == NULL || !lw_region_get(d->region)) {
        seterr(err, n, "unknown region \"%.7s\" (EU868 or US915)", d->region);
        return LW_REG_INVALID;
    }
    if (d->dev_class != 'A') { seterr(err, n, "unsupported device class (only class A is)"); return LW_REG_INVALID; }
    if (d->otaa) {
        if (is_zero(d->dev_eui, 8)) { seterr(err, n, "an OTAA device needs a DevEUI (not all zeros)"); return LW_REG_INVALID; }
        if (is_zero(d->app_key, 16)) { seterr(err, n, "an OTAA device needs an AppKey (16 bytes, not all zeros)"); return LW_REG_INVALID; }
    } else {
        if (d->s.dev_addr == 0) { seterr(err, n, "an ABP device needs a DevAddr (not 00000000)"); return LW_REG_INVALID; }
        if (is_zero(d->s.nwk_s_key, 16) || is_zero(d->s.app_s_key, 16)) {
            seterr(err, n, "an ABP device needs both session keys (NwkSKey and AppSKey, 16 bytes each)");
            return LW_REG_INVALID;
        }
    }
    return check_fmt(d->fmt, d->fmt_src, 1, err, n);
}

/* ---- applications ---- */

static int key_generate(lw_registry *r, const char *app_id, char *key_out, size_t cap) {
    if (!key_out || cap < LW_REG_KEY_MAX) return LW_REG_INVALID;
    uint8_t kid[8], secret[32], salt[SALT_LEN], hash[HASH_LEN];
    if (RAND_bytes(kid, sizeof kid) != 1 || RAND_bytes(secret, sizeof secret) != 1 || RAND_bytes(salt, sizeof salt) != 1) return LW_REG_DB;
    char kidhex[17], sechex[65], key[LW_REG_KEY_MAX];
    lw_hex_format(kid, 8, kidhex, 1);
    lw_hex_format(secret, 32, sechex, 1);
    snprintf(key, sizeof key, "NNSXS.%s.%s", kidhex, sechex);
    uint8_t in[SALT_LEN + LW_REG_KEY_LEN];
    memcpy(in, salt, SALT_LEN);
    memcpy(in + SALT_LEN, key, LW_REG_KEY_LEN);
    unsigned hl = 0;
    if (EVP_Digest(in, sizeof in, hash, &hl, EVP_sha256(), NULL) != 1 || hl != HASH_LEN) return LW_REG_DB;
    sqlite3_stmt *st = prep(r, "INSERT INTO app_keys (key_id, app_id, salt, hash, created_ms) VALUES (?,?,?,?,?)");
    if (!st) return LW_REG_DB;
    bind_text(st, 1, kidhex);
    bind_text(st, 2, app_id);
    sqlite3_bind_blob(st, 3, salt, SALT_LEN, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 4, hash, HASH_LEN, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, now_ms());
    int rc = step_done(r, st);
    sqlite3_finalize(st);
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(in, sizeof in);
    if (rc) { OPENSSL_cleanse(key, sizeof key); return rc == LW_REG_EXISTS ? LW_REG_DB : rc; }
    memcpy(key_out, key, LW_REG_KEY_MAX);
    OPENSSL_cleanse(key, sizeof key);
    return 0;
}

static int app_exists(lw_registry *r, const char *app_id) {
    sqlite3_stmt *st = prep(r, "SELECT 1 FROM apps WHERE app_id = ?");
    if (!st) return LW_REG_DB;
    bind_text(st, 1, app_id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : LW_REG_DB;
}

int lw_reg_app_add(lw_registry *r, const lw_app_rec *a, char *key_out, size_t key_cap, char *err, size_t errlen) {
    int rc = check_app(a, err, errlen);
    if (rc) return rc;
    if (key_out && key_cap < LW_REG_KEY_MAX) { seterr(err, errlen, "key buffer too small"); return LW_REG_INVALID; }
    if (wbegin(r)) { seterr(err, errlen, "database busy or failing: %s", sqlite3_errmsg(r->db)); return LW_REG_DB; }
    sqlite3_stmt *st = prep(r, "INSERT INTO apps (app_id, name, fmt, fmt_src, created_ms) VALUES (?,?,?,?,?)");
    if (!st) { rc = LW_REG_DB; goto out; }
    bind_text(st, 1, a->app_id);
    bind_text(st, 2, a->name);
    sqlite3_bind_int(st, 3, a->fmt);
    if (a->fmt == LW_FMT_JS) bind_text(st, 4, a->fmt_src); else sqlite3_bind_null(st, 4);
    sqlite3_bind_int64(st, 5, a->created_ms ? a->created_ms : now_ms());
    rc = step_done(r, st);
    sqlite3_finalize(st);
    if (rc == LW_REG_EXISTS) { seterr(err, errlen, "application %s already exists", a->app_id); goto out; }
    if (rc) goto out;
    if (key_out && (rc = key_generate(r, a->app_id, key_out, key_cap))) goto out;
    rc = log_change(r, "app", a->app_id, a->app_id);
out:
    if (rc == LW_REG_DB) seterr(err, errlen, "database error: %s", sqlite3_errmsg(r->db));
    if (wend(r, rc == 0) && rc == 0) { rc = LW_REG_DB; seterr(err, errlen, "database error: %s", sqlite3_errmsg(r->db)); }
    if (rc && key_out) memset(key_out, 0, key_cap);
    return rc;
}

int lw_reg_app_update(lw_registry *r, const lw_app_rec *a, char *err, size_t errlen) {
    int rc = check_app(a, err, errlen);
    if (rc) return rc;
    if (wbegin(r)) { seterr(err, errlen, "database busy or failing: %s", sqlite3_errmsg(r->db)); return LW_REG_DB; }
    sqlite3_stmt *st = prep(r, "UPDATE apps SET name = ?, fmt = ?, fmt_src = ? WHERE app_id = ?");
    if (!st) { rc = LW_REG_DB; goto out; }
    bind_text(st, 1, a->name);
    sqlite3_bind_int(st, 2, a->fmt);
    if (a->fmt == LW_FMT_JS) bind_text(st, 3, a->fmt_src); else sqlite3_bind_null(st, 3);
    bind_text(st, 4, a->app_id);
    rc = step_done(r, st);
    sqlite3_finalize(st);
    if (rc) goto out;
    if (sqlite3_changes(r->db) == 0) { rc = LW_REG_NOTFOUND; seterr(err, errlen, "application %s not found", a->app_id); goto out; }
    rc = log_change(r, "app", a->app_id, a->app_id);
out:
    if (rc == LW_REG_DB) seterr(err, errlen, "database error: %s", sqlite3_errmsg(r->db));
    if (wend(r, rc == 0) && rc == 0) { rc = LW_REG_DB; seterr(err, errlen, "database error: %s", sqlite3_errmsg(r->db)); }
    return rc;
}

static int app_row(sqlite3_stmt *st, lw_app_rec *a) {
    memset(a, 0, sizeof *a);
    snprintf(a->app_id, sizeof a->app_id, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(a->name, sizeof a->name, "%s", sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
    a->fmt = (lw_fmt_kind)sqlite3_column_int(st, 2);
    if (a->fmt == LW_FMT_JS && sqlite3_column_text(st, 3)) {
        a->fmt_src = strdup((const char *)sqlite3_column_text(st, 3));
        if (!a->fmt_src) return LW_REG_DB;
    }
    a->created_ms = sqlite3_column_int64(st, 4);
    return 0;
}

#define APP_COLS "SELECT app_id, name, fmt, fmt_src, created_ms FROM apps"

int lw_reg_app_get(lw_registry *r, const char *app_id, lw_app_rec *a) {
    sqlite3_stmt *st = prep(r, APP_COLS " WHERE app_id = ?");
    if (st) bind_text(st, 1, app_id); /* copied before a is cleared: app_id may point into a */
    memset(a, 0, sizeof *a);
    if (!st) return LW_REG_DB;
    int s = sqlite3_step(st), rc;
    if (s == SQLITE_ROW) rc = app_row(st, a);
    else rc = s == SQLITE_DONE ? LW_REG_NOTFOUND : LW_REG_DB;
    sqlite3_finalize(st);
    return rc;
}

int lw_reg_app_list(lw_registry *r, lw_reg_app_cb cb, void *ud) {
    sqlite3_stmt *st = prep(r, APP_COLS " ORDER BY app_id");
    if (!st) return LW_REG_DB;
    int s, rc = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        lw_app_rec a;
        if ((rc = app_row(st, &a))) break;
        int stop = cb(ud, &a);
        lw_app_rec_clear(&a);
        if (stop) break;
    }
    if (!rc && s != SQLITE_ROW && s != SQLITE_DONE) rc = LW_REG_DB;
    sqlite3_finalize(st);
    return rc;
}

/* log a "dev" change for every device of app (before they are deleted) and drop their DevNonces */
static int forget_devices(lw_registry *r, const char *app_id, const char *dev_id) {
    sqlite3_stmt *st = prep(r, dev_id ? "SELECT dev_id, join_eui, dev_eui FROM devices WHERE app_id = ? AND dev_id = ?"
                                      : "SELECT dev_id, join_eui, dev_eui FROM devices WHERE app_id = ?");
    if (!st) return LW_REG_DB;
    bind_text(st, 1, app_id);
    if (dev_id) bind_text(st, 2, dev_id);
    int s = SQLITE_DONE, rc = 0, n = 0;
    while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        rc = log_change(r, "dev", app_id, (const char *)sqlite3_column_text(st, 0));
        sqlite3_stmt *d = prep(r, "DELETE FROM devnonces WHERE join_eui = ? AND dev_eui = ?");
        if (!d) { rc = LW_REG_DB; break; }
        bind_text(d, 1, (const char *)sqlite3_column_text(st, 1));
        bind_text(d, 2, (const char *)sqlite3_column_text(st, 2));
        if (!rc) rc = step_done(r, d);
        sqlite3_finalize(d);
    }
    if (!rc && s != SQLITE_DONE) rc = LW_REG_DB;
    sqlite3_finalize(st);
    return rc ? rc : n;
}

int lw_reg_app_remove(lw_registry *r, const char *app_id) {
    if (wbegin(r)) return LW_REG_DB;
    int rc = forget_devices(r, app_id, NULL);
    if (rc < 0) goto out;
    sqlite3_stmt *st = prep(r, "DELETE FROM apps WHERE app_id = ?");
    if (!st) { rc = LW_REG_DB; goto out; }
    bind_text(st, 1, app_id);
    rc = step_done(r, st);
    sqlite3_finalize(st);
    if (rc) goto out;
    if (sqlite3_changes(r->db) == 0) { rc = LW_REG_NOTFOUND; goto out; }
    rc = log_change(r, "app", app_id, app_id);
out:
    if (wend(r, rc == 0) && rc == 0) rc = LW_REG_DB;
    return rc;
}

int lw_reg_app_key_new(lw_registry *r, const char *app_id, char *key_out, size_t key_cap) {
    if (!key_out || key_cap < LW_REG_KEY_MAX) return LW_REG_INVALID;
    if (wbegin(r)) return LW_REG_DB;
    int rc = app_exists(r, app_id);
    if (rc == 1) rc = key_generate(r, app_id, key_out, key_cap);
    else if (rc == 0) rc = LW_REG_NOTFOUND;
    if (wend(r, rc == 0) && rc == 0) rc = LW_REG_DB;
    if (rc) memset(key_out, 0, key_cap);
    return rc;
}

int lw_reg_app_key_check(lw_registry *r, const char *app_id, const char *key) {
    if (!app_id || !key || strlen(key) != LW_REG_KEY_LEN || strncmp(key, "NNSXS.", 6) || key[22] != '.') return 0;
    char kid[17];
    memcpy(kid, key + 6, 16);
    kid[16] = 0;
    sqlite3_stmt *st = prep(r, "SELECT salt, hash FROM app_keys WHERE key_id = ? AND app_id = ?");
    if (!st) return 0;
    bind_text(st, 1, kid);
    bind_text(st, 2, app_id);
    int ok = 0;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == SALT_LEN && sqlite3_column_bytes(st, 1) == HASH_LEN) {
        uint8_t in[SALT_LEN + LW_REG_KEY_LEN], hash[HASH_LEN];
        memcpy(in, sqlite3_column_blob(st, 0), SALT_LEN);
        memcpy(in + SALT_LEN, key, LW_REG_KEY_LEN);
        unsigned hl = 0;
        if (EVP_Digest(in, sizeof in, hash, &hl, EVP_sha256(), NULL) == 1 && hl == HASH_LEN)
            ok = CRYPTO_memcmp(hash, sqlite3_column_blob(st, 1), HASH_LEN) == 0;
        OPENSSL_cleanse(in, sizeof in);
    }
    sqlite3_finalize(st);
    return ok;
}

/* ---- devices ---- */

#define DEV_COLS                                                                                  \
    "SELECT app_id, dev_id, name, dev_eui, join_eui, otaa, app_key, mac_minor, region, dev_class,"  \
    " adr, relax_fcnt, fmt, fmt_src, created_ms, session FROM devices"

static int dev_row(sqlite3_stmt *st, lw_dev_rec *d) {
    memset(d, 0, sizeof *d);
    snprintf(d->app_id, sizeof d->app_id, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(d->dev_id, sizeof d->dev_id, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(d->name, sizeof d->name, "%s", sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "");
    const char *de = (const char *)sqlite3_column_text(st, 3), *je = (const char *)sqlite3_column_text(st, 4);
    if (lw_hex_parse(de, d->dev_eui, 8) || lw_hex_parse(je, d->join_eui, 8)) return LW_REG_DB;
    d->otaa = sqlite3_column_int(st, 5) != 0;
    if (sqlite3_column_bytes(st, 6) == 16) memcpy(d->app_key, sqlite3_column_blob(st, 6), 16);
    d->mac_minor = (uint8_t)sqlite3_column_int(st, 7);
    snprintf(d->region, sizeof d->region, "%s", (const char *)sqlite3_column_text(st, 8));
    const char *cls = (const char *)sqlite3_column_text(st, 9);
    d->dev_class = cls && *cls ? cls[0] : 'A';
    d->adr = sqlite3_column_int(st, 10) != 0;
    d->abp_relax_fcnt = sqlite3_column_int(st, 11) != 0;
    d->fmt = (lw_fmt_kind)sqlite3_column_int(st, 12);
    if (d->fmt == LW_FMT_JS && sqlite3_column_text(st, 13)) {
        d->fmt_src = strdup((const char *)sqlite3_column_text(st, 13));
        if (!d->fmt_src) return LW_REG_DB;
    }
    d->created_ms = sqlite3_column_int64(st, 14);
    if (session_decode(sqlite3_column_blob(st, 15), (size_t)sqlite3_column_bytes(st, 15), &d->s))
        LOG_WARN("lorawan", "registry: device %s/%s: unreadable session record, treated as not joined", d->app_id, d->dev_id);
    return 0;
}

/* the session a registration starts with */
static void initial_session(const lw_dev_rec *d, lw_session *s) {
    memset(s, 0, sizeof *s);
    if (d->otaa) return;
    s->active = true;
    s->dev_addr = d->s.dev_addr;
    memcpy(s->nwk_s_key, d->s.nwk_s_key, 16);
    memcpy(s->app_s_key, d->s.app_s_key, 16);
    const lw_region *rg = lw_region_get(d->region);
    s->nb_trans = 1;
    s->rx1_delay_s = 1;
    if (rg) {
        s->rx2_freq_hz = rg->rx2_freq_hz;
        s->rx2_dr = rg->rx2_dr;
    }
}

static int bind_dev(sqlite3_stmt *st, const lw_dev_rec *d, const lw_session *s) {
    char de[17], je[17], cls[2] = {d->dev_class, 0};
    eui_hex(d->dev_eui, de);
    eui_hex(d->join_eui, je);
    bind_text(st, 1, d->app_id);
    bind_text(st, 2, d->dev_id);
    bind_text(st, 3, d->name);
    bind_text(st, 4, de);
    bind_text(st, 5, je);
    sqlite3_bind_int(st, 6, d->otaa);
    if (d->otaa) sqlite3_bind_blob(st, 7, d->app_key, 16, SQLITE_TRANSIENT); else sqlite3_bind_null(st, 7);
    sqlite3_bind_int(st, 8, d->mac_minor);
    const lw_region *rg = lw_region_get(d->region);
    bind_text(st, 9, rg ? rg->name : d->region);
    bind_text(st, 10, cls);
    sqlite3_bind_int(st, 11, d->adr);
    sqlite3_bind_int(st, 12, d->otaa ? 0 : d->abp_relax_fcnt);
    sqlite3_bind_int(st, 13, d->fmt);
    if (d->fmt == LW_FMT_JS) bind_text(st, 14, d->fmt_src); else sqlite3_bind_null(st, 14);
    sqlite3_bind_int64(st, 15, d->created_ms ? d->created_ms : now_ms());
    uint8_t blob[SESSION_BLOB_MAX];
    size_t n = session_encode(s, blob);
    if (!n) return LW_REG_DB;
    sqlite3_bind_blob(st, 16, blob, (int)n, SQLITE_TRANSIENT);
    return 0;
}

static int eui_taken(lw_registry *r, const lw_dev_rec *d, char *err, size_t errlen) {
    if (is_zero(d->dev_eui, 8)) return 0;
    char de[17], je[17];
    eui_hex(d->dev_eui, de);
    eui_hex(d->join_eui, je);
    sqlite3_stmt *st = prep(r, "SELECT app_id, dev_id FROM devices WHERE join_eui = ? AND dev_eui = ? AND NOT (app_id = ? AND dev_id = ?)");
    if (!st) return LW_REG_DB;
    bind_text(st, 1, je);
    bind_text(st, 2, de);
    bind_text(st, 3, d->app_id);
    bind_text(st, 4, d->dev_id);
    int s = sqlite3_step(st), rc = 0;
    if (s == SQLITE_ROW) {
        seterr(err, errlen, "DevEUI %s with JoinEUI %s is already registered as %s/%s", de, je,
               (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1));
        rc = LW_REG_EXISTS;
    } else if (s != SQLITE_DONE) rc = LW_REG_DB;
    sqlite3_finalize(st);
    return rc;
}

int lw_reg_dev_add(lw_registry *r, const lw_dev_rec *d, char *err, size_t errlen) {
    int rc = check_dev(d, err, errlen);
    if (rc) return rc;
    if (wbegin(r)) { seterr(err, errlen, "database busy or failing: %s", sqlite3_errmsg(r->db)); return LW_REG_DB; }
    rc = app_exists(r, d->app_id);
    if (rc == 0) { rc = LW_REG_NOTFOUND; seterr(err, errlen, "application %s not found", d->app_id); goto out; }
    if (rc < 0) goto out;
    sqlite3_stmt *st = prep(r, "SELECT 1 FROM devices WHERE app_id = ? AND dev_id = ?");
    if (!st) { rc = LW_REG_DB; goto out; }
    bind_text(st, 1, d->app_id);
    bind_text(st, 2, d->dev_id);
    int s = sqlite3_step(st);
    sqlite3_finalize(st);
    if (s == SQLITE_ROW) { rc = LW_REG_EXISTS; seterr(err, errlen, "device %s/%s already exists", d->app_id, d->dev_id); goto out; }
    if (s != SQLITE_DONE) { rc = LW_REG_DB; goto out; }
    if ((rc = eui_taken(r, d, err, errlen))) goto out;
    st = prep(r, "INSERT INTO devices (app_id, dev_id, name, dev_eui, join_eui, otaa, app_key, mac_minor, region,"
                 " dev_class, adr, relax_fcnt, fmt, fmt_src, created_ms, session) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st) { rc = LW_REG_DB; goto out; }
    lw_session s0;
    initial_session(d, &s0);
    rc = bind_dev(st, d, &s0);
    if (!rc) rc = step_done(r, st);
    sqlite3_finalize(st);
    OPENSSL_cleanse(&s0, sizeof s0);
    if (rc == LW_REG_EXISTS) { seterr(err, errlen, "device %s/%s or its EUIs already registered", d->app_id, d->dev_id); goto out; }
    if (rc) goto out;
    rc = log_change(r, "dev", d->app_id, d->dev_id);
out:
    if (rc == LW_REG_DB) seterr(err, errlen, "database error: %s", sqlite3_errmsg(r->db));
    if (wend(r, rc == 0) && rc == 0) { rc = LW_REG_DB; seterr(err, errlen, "database error: %s", sqlite3_errmsg(r->db)); }
    return rc;
}

int lw_reg_dev_update(lw_registry *r, const lw_dev_rec *d, char *err, size_t errlen) {
    int rc = check_dev(d, err, errlen);
    if (rc) return rc;
    if (wbegin(r)) { seterr(err, errlen, "database busy or failing: %s", sqlite3_errmsg(r->db)); return LW_REG_DB; }
    lw_dev_rec old;
    memset(&old, 0, sizeof old);
    rc = lw_reg_dev_get(r, d->app_id, d->dev_id, &old);
    if (rc == LW_REG_NOTFOUND) { seterr(err, errlen, "device %s/%s not found", d->app_id, d->dev_id); goto out; }
    if (rc) goto out;
    if ((rc = eui_taken(r, d, err, errlen))) goto out;
    /* keep the session unless what it was derived from changed */
    bool reset = old.otaa != d->otaa || memcmp(old.dev_eui, d->dev_eui, 8) || memcmp(old.join_eui, d->join_eui, 8);
    if (d->otaa) reset = reset || memcmp(old.app_key, d->app_key, 16);
    else reset = reset || old.s.dev_addr != d->s.dev_addr || memcmp(old.s.nwk_s_key, d->s.nwk_s_key, 16) ||
                 memcmp(old.s.app_s_key, d->s.app_s_key, 16);
    lw_session s;
    if (reset) initial_session(d, &s);
    else s = old.s;
    sqlite3_stmt *st = prep(r, "UPDATE devices SET app_id = ?1, dev_id = ?2, name = ?3, dev_eui = ?4, join_eui = ?5,"
                               " otaa = ?6, app_key = ?7, mac_minor = ?8, region = ?9, dev_class = ?10, adr = ?11,"
                               " relax_fcnt = ?12, fmt = ?13, fmt_src = ?14, created_ms = ?15, session = ?16"
                               " WHERE app_id = ?1 AND dev_id = ?2");
    if (!st) { rc = LW_REG_DB; goto out; }
    lw_dev_rec tmp = *d;
    tmp.created_ms = old.created_ms;
    rc = bind_dev(st, &tmp, &s);
    if (!rc) rc = step_done(r, st);
    sqlite3_finalize(st);
    OPENSSL_cleanse(&s, sizeof s);
    if (rc == LW_REG_EXISTS) { seterr(err, errlen, "the EUIs of %s/%s are already registered", d->app_id, d->dev_id); goto out; }
    if (rc) goto out;
    if (reset) { /* a new identity or root key: earlier DevNonces no longer matter */
        char de[17], je[17];
        eui_hex(old.dev_eui, de);
        eui_hex(old.join_eui, je);
        st = prep(r, "DELETE FROM devnonces WHERE join_eui = ? AND dev_eui = ?");
        if (!st) { rc = LW_REG_DB; goto out; }
        bind_text(st, 1, je);
        bind_text(st, 2, de);
        rc = step_done(r, st);
        sqlite3_finalize(st);
        if (rc) goto out;
    }
    rc = log_change(r, "dev", d->app_id, d->dev_id);
out:
    if (rc == LW_REG_DB) seterr(err, errlen, "database error: %s", sqlite3_errmsg(r->db));
    lw_dev_rec_clear(&old);
    if (wend(r, rc == 0) && rc == 0) { rc = LW_REG_DB; seterr(err, errlen, "database error: %s", sqlite3_errmsg(r->db)); }
    return rc;
}

static int dev_query_one(sqlite3_stmt *st, lw_dev_rec *d) {
    int s = sqlite3_step(st), rc;
    if (s == SQLITE_ROW) {
        rc = dev_row(st, d);
        if (rc) lw_dev_rec_clear(d);
    } else rc = s == SQLITE_DONE ? LW_REG_NOTFOUND : LW_REG_DB;
    sqlite3_finalize(st);
    return rc;
}

int lw_reg_dev_get(lw_registry *r, const char *app_id, const char *dev_id, lw_dev_rec *d) {
    sqlite3_stmt *st = prep(r, DEV_COLS " WHERE app_id = ? AND dev_id = ?");
    if (st) { /* bound (copied) before d is cleared: the ids may point into d */
        bind_text(st, 1, app_id);
        bind_text(st, 2, dev_id);
    }
    memset(d, 0, sizeof *d);
    if (!st) return LW_REG_DB;
    return dev_query_one(st, d);
}

int lw_reg_dev_get_by_eui(lw_registry *r, const uint8_t *join_eui, const uint8_t dev_eui[8], lw_dev_rec *d) {
    char de[17], je[17];
    eui_hex(dev_eui, de); /* before clearing d: the EUIs may point into it */
    if (join_eui) eui_hex(join_eui, je);
    memset(d, 0, sizeof *d);
    sqlite3_stmt *st = prep(r, join_eui ? DEV_COLS " WHERE dev_eui = ? AND join_eui = ?"
                                        : DEV_COLS " WHERE dev_eui = ? ORDER BY app_id, dev_id LIMIT 1");
    if (!st) return LW_REG_DB;
    bind_text(st, 1, de);
    if (join_eui) bind_text(st, 2, je);
    return dev_query_one(st, d);
}

int lw_reg_dev_list(lw_registry *r, const char *app_id, lw_reg_dev_cb cb, void *ud) {
    sqlite3_stmt *st = prep(r, app_id ? DEV_COLS " WHERE app_id = ? ORDER BY app_id, dev_id" : DEV_COLS " ORDER BY app_id, dev_id");
    if (!st) return LW_REG_DB;
    if (app_id) bind_text(st, 1, app_id);
    int s, rc = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        lw_dev_rec d;
        if ((rc = dev_row(st, &d))) { lw_dev_rec_clear(&d); break; }
        int stop = cb(ud, &d);
        lw_dev_rec_clear(&d);
        if (stop) break;
    }
    if (!rc && s != SQLITE_ROW && s != SQLITE_DONE) rc = LW_REG_DB;
    sqlite3_finalize(st);
    return rc;
}

int lw_reg_dev_remove(lw_registry *r, const char *app_id, const char *dev_id) {
    if (wbegin(r)) return LW_REG_DB;
    int rc = forget_devices(r, app_id, dev_id);
    if (rc == 0) rc = LW_REG_NOTFOUND;
    if (rc < 0) goto out;
    sqlite3_stmt *st = prep(r, "DELETE FROM devices WHERE app_id = ? AND dev_id = ?");
    if (!st) { rc = LW_REG_DB; goto out; }
    bind_text(st, 1, app_id);
    bind_text(st, 2, dev_id);
    rc = step_done(r, st);
    sqlite3_finalize(st);
out:
    if (wend(r, rc == 0) && rc == 0) rc = LW_REG_DB;
    return rc;
}

int lw_reg_session_save(lw_registry *r, const lw_dev_rec *d) {
    uint8_t blob[SESSION_BLOB_MAX];
    size_t n = session_encode(&d->s, blob);
    if (!n) return LW_REG_DB;
    sqlite3_stmt *st = r->st_session;
    sqlite3_reset(st);
    sqlite3_bind_blob(st, 1, blob, (int)n, SQLITE_TRANSIENT);
    bind_text(st, 2, d->app_id);
    bind_text(st, 3, d->dev_id);
    int rc = step_done(r, st);
    OPENSSL_cleanse(blob, sizeof blob);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc) return LW_REG_DB;
    return sqlite3_changes(r->db) ? 0 : LW_REG_NOTFOUND;
}

int lw_reg_begin(lw_registry *r) {
    if (r->user_tx) return LW_REG_INVALID;
    if (exec(r, "BEGIN IMMEDIATE")) return LW_REG_DB;
    r->user_tx = 1;
    return 0;
}

int lw_reg_commit(lw_registry *r) {
    if (!r->user_tx) return LW_REG_INVALID;
    r->user_tx = 0;
    if (exec(r, "COMMIT") == 0) return 0;
    if (!sqlite3_get_autocommit(r->db)) exec(r, "ROLLBACK");
    return LW_REG_DB;
}

int lw_reg_devnonce_use(lw_registry *r, const lw_dev_rec *d, uint16_t nonce) {
    char de[17], je[17];
    eui_hex(d->dev_eui, de);
    eui_hex(d->join_eui, je);
    sqlite3_stmt *st = r->st_nonce;
    sqlite3_reset(st);
    bind_text(st, 1, je);
    bind_text(st, 2, de);
    sqlite3_bind_int(st, 3, nonce);
    sqlite3_bind_int64(st, 4, now_ms());
    int rc = step_done(r, st);
    sqlite3_reset(st);
    if (rc) return LW_REG_DB;
    return sqlite3_changes(r->db) == 1 ? 1 : 0;
}

/* ---- gateways ---- */

static int check_gw(const lw_gw_rec *g, lw_gw_rec *out, char *err, size_t n) {
    if (!g) { seterr(err, n, "no gateway"); return LW_REG_INVALID; }
    *out = *g;
    if (is_zero(g->eui, 8)) { seterr(err, n, "a gateway needs an EUI (not all zeros)"); return LW_REG_INVALID; }
    if (memchr(g->gw_id, 0, sizeof g->gw_id) == NULL) { seterr(err, n, "gateway id too long"); return LW_REG_INVALID; }
    if (!g->gw_id[0]) {
        char h[17];
        lw_hex_format(g->eui, 8, h, 0);
        snprintf(out->gw_id, sizeof out->gw_id, "eui-%s", h);
    } else if (!lw_id_valid(g->gw_id)) {
        seterr(err, n, "invalid gateway id \"%s\": %s", g->gw_id, ID_RULE);
        return LW_REG_INVALID;
    }
    if (check_name(g->name, err, n)) return LW_REG_INVALID;
    if (g->has_location && (!isfinite(g->lat) || !isfinite(g->lon) || g->lat < -90 || g->lat > 90 || g->lon < -180 || g->lon > 180)) {
        seterr(err, n, "invalid gateway location (latitude -90..90, longitude -180..180)");
        return LW_REG_INVALID;
    }
    return 0;
}

static int gw_write(lw_registry *r, const lw_gw_rec *gin, int update, char *err, size_t errlen) {
    lw_gw_rec g;
    int rc = check_gw(gin, &g, err, errlen);
    if (rc) return rc;
    char eh[17];
    eui_hex(g.eui, eh);
    if (wbegin(r)) { seterr(err, errlen, "database busy or failing: %s", sqlite3_errmsg(r->db)); return LW_REG_DB; }
    sqlite3_stmt *st = prep(r, update ? "UPDATE gateways SET gw_id = ?2, name = ?3, has_location = ?4, lat = ?5, lon = ?6, alt = ?7 WHERE eui = ?1"
                                      : "INSERT INTO gateways (eui, gw_id, name, has_location, lat, lon, alt, created_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)");
    if (!st) { rc = LW_REG_DB; goto out; }
    bind_text(st, 1, eh);
    bind_text(st, 2, g.gw_id);
    bind_text(st, 3, g.name);
    sqlite3_bind_int(st, 4, g.has_location);
    if (g.has_location) {
        sqlite3_bind_double(st, 5, g.lat);
        sqlite3_bind_double(st, 6, g.lon);
        sqlite3_bind_int(st, 7, g.alt);
    }
    if (!update) sqlite3_bind_int64(st, 8, g.created_ms ? g.created_ms : now_ms());
    rc = step_done(r, st);
    sqlite3_finalize(st);
    if (rc == LW_REG_EXISTS) { seterr(err, errlen, "gateway %s (EUI %s) or its id already exists", g.gw_id, eh); goto out; }
    if (rc) goto out;
    if (update && sqlite3_changes(r->db) == 0) { rc = LW_REG_NOTFOUND; seterr(err, errlen, "gateway %s not found", eh); goto out; }
    rc = log_change(r, "gw", "", eh);
out:
    if (rc == LW_REG_DB) seterr(err, errlen, "database error: %s", sqlite3_errmsg(r->db));
    if (wend(r, rc == 0) && rc == 0) { rc = LW_REG_DB; seterr(err, errlen, "database error: %s", sqlite3_errmsg(r->db)); }
    return rc;
}

int lw_reg_gw_add(lw_registry *r, const lw_gw_rec *g, char *err, size_t errlen) { return gw_write(r, g, 0, err, errlen); }
int lw_reg_gw_update(lw_registry *r, const lw_gw_rec *g, char *err, size_t errlen) { return gw_write(r, g, 1, err, errlen); }

#define GW_COLS "SELECT eui, gw_id, name, has_location, lat, lon, alt, created_ms FROM gateways"

static int gw_row(sqlite3_stmt *st, lw_gw_rec *g) {
    memset(g, 0, sizeof *g);
    if (lw_hex_parse((const char *)sqlite3_column_text(st, 0), g->eui, 8)) return LW_REG_DB;
    snprintf(g->gw_id, sizeof g->gw_id, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(g->name, sizeof g->name, "%s", sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "");
    g->has_location = sqlite3_column_int(st, 3) != 0;
    g->lat = sqlite3_column_double(st, 4);
    g->lon = sqlite3_column_double(st, 5);
    g->alt = sqlite3_column_int(st, 6);
    g->created_ms = sqlite3_column_int64(st, 7);
    return 0;
}

int lw_reg_gw_get(lw_registry *r, const uint8_t eui[8], lw_gw_rec *g) {
    char eh[17];
    eui_hex(eui, eh); /* before clearing g: eui may point into it */
    memset(g, 0, sizeof *g);
    sqlite3_stmt *st = prep(r, GW_COLS " WHERE eui = ?");
    if (!st) return LW_REG_DB;
    bind_text(st, 1, eh);
    int s = sqlite3_step(st), rc;
    if (s == SQLITE_ROW) rc = gw_row(st, g);
    else rc = s == SQLITE_DONE ? LW_REG_NOTFOUND : LW_REG_DB;
    sqlite3_finalize(st);
    return rc;
}

int lw_reg_gw_list(lw_registry *r, lw_reg_gw_cb cb, void *ud) {
    sqlite3_stmt *st = prep(r, GW_COLS " ORDER BY eui");
    if (!st) return LW_REG_DB;
    int s, rc = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        lw_gw_rec g;
        if ((rc = gw_row(st, &g))) break;
        if (cb(ud, &g)) break;
    }
    if (!rc && s != SQLITE_ROW && s != SQLITE_DONE) rc = LW_REG_DB;
    sqlite3_finalize(st);
    return rc;
}

int lw_reg_gw_remove(lw_registry *r, const uint8_t eui[8]) {
    char eh[17];
    eui_hex(eui, eh);
    if (wbegin(r)) return LW_REG_DB;
    sqlite3_stmt *st = prep(r, "DELETE FROM gateways WHERE eui = ?");
    int rc = LW_REG_DB;
    if (st) {
        bind_text(st, 1, eh);
        rc = step_done(r, st);
        sqlite3_finalize(st);
        if (!rc && sqlite3_changes(r->db) == 0) rc = LW_REG_NOTFOUND;
        if (!rc) rc = log_change(r, "gw", "", eh);
    }
    if (wend(r, rc == 0) && rc == 0) rc = LW_REG_DB;
    return rc;
}

/* ---- change log ---- */

int lw_reg_changes(lw_registry *r, int64_t since, lw_reg_change_cb cb, void *ud, int64_t *last) {
    int64_t hi = since > 0 ? since : 0;
    sqlite3_stmt *st = prep(r, cb ? "SELECT seq, kind, app_id, id FROM changes WHERE seq > ? ORDER BY seq"
                                  : "SELECT COALESCE(MAX(seq), 0) FROM changes WHERE seq > ?");
    if (!st) return LW_REG_DB;
    sqlite3_bind_int64(st, 1, since);
    int s, rc = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        if (seq > hi) hi = seq;
        if (cb) cb(ud, (const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
                   (const char *)sqlite3_column_text(st, 3));
    }
    if (s != SQLITE_DONE) rc = LW_REG_DB;
    sqlite3_finalize(st);
    if (last) *last = hi;
    return rc;
}
