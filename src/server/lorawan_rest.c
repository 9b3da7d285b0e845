/* server/lorawan_rest: /api/v1/lorawan/ REST routes over the registry, and the JSON mapping of
 * applications, devices and gateways (also used by the CLI's --json). Keys are accepted on input and
 * never written on output. See lorawan_rest.h and docs/lorawan-registry.md. */
#include "server/lorawan_rest.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lorawan/region.h"

#define PREFIX "/api/v1/lorawan"

/* ---- JSON mapping ---- */

const char *lw_fmt_kind_name(lw_fmt_kind k) {
    switch (k) {
    case LW_FMT_INHERIT: return "inherit";
    case LW_FMT_NONE: return "none";
    case LW_FMT_LPP: return "lpp";
    case LW_FMT_JS: return "js";
    }
    return "?";
}

int lw_fmt_kind_parse(const char *s, lw_fmt_kind *k) {
    if (!s) return -1;
    if (!strcmp(s, "inherit")) *k = LW_FMT_INHERIT;
    else if (!strcmp(s, "none")) *k = LW_FMT_NONE;
    else if (!strcmp(s, "lpp") || !strcmp(s, "cayennelpp")) *k = LW_FMT_LPP;
    else if (!strcmp(s, "js") || !strcmp(s, "javascript")) *k = LW_FMT_JS;
    else return -1;
    return 0;
}

void lw_ms_rfc3339(int64_t ms, char *out, size_t cap) {
    if (!cap) return;
    out[0] = 0;
    if (ms <= 0) return;
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return;
    char d[32];
    strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%03dZ", d, (int)(ms % 1000));
}

static void set_time(json_t *o, const char *k, int64_t ms) {
    char t[48];
    lw_ms_rfc3339(ms, t, sizeof t);
    if (t[0]) json_object_set_new(o, k, json_string(t));
}

static void set_hex(json_t *o, const char *k, const uint8_t *p, size_t n) {
    char h[2 * 16 + 1];
    lw_hex_format(p, n, h, 1);
    json_object_set_new(o, k, json_string(h));
}

static int all_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

json_t *lw_json_app(const lw_app_rec *a) {
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "ids", json_pack("{s:s}", "application_id", a->app_id));
    json_object_set_new(o, "name", json_string(a->name));
    json_object_set_new(o, "formatter", json_string(lw_fmt_kind_name(a->fmt)));
    if (a->fmt == LW_FMT_JS && a->fmt_src) json_object_set_new(o, "formatter_script", json_string(a->fmt_src));
    set_time(o, "created_at", a->created_ms);
    return o;
}

json_t *lw_json_dev(const lw_dev_rec *d) {
    json_t *o = json_object();
    if (!o) return NULL;
    json_t *ids = json_pack("{s:s,s:{s:s}}", "device_id", d->dev_id, "application_ids", "application_id", d->app_id);
    set_hex(ids, "dev_eui", d->dev_eui, 8);
    set_hex(ids, "join_eui", d->join_eui, 8);
    json_object_set_new(o, "ids", ids);
    json_object_set_new(o, "name", json_string(d->name));
    json_object_set_new(o, "activation", json_string(d->otaa ? "OTAA" : "ABP"));
    char v[8];
    snprintf(v, sizeof v, "1.0.%u", d->mac_minor);
    json_object_set_new(o, "mac_version", json_string(v));
    json_object_set_new(o, "region", json_string(d->region));
    char cls[2] = {d->dev_class ? d->dev_class : 'A', 0};
    json_object_set_new(o, "class", json_string(cls));
    json_object_set_new(o, "adr", json_boolean(d->adr));
    json_object_set_new(o, "formatter", json_string(lw_fmt_kind_name(d->fmt)));
    if (d->fmt == LW_FMT_JS && d->fmt_src) json_object_set_new(o, "formatter_script", json_string(d->fmt_src));
    if (d->otaa) {
        json_object_set_new(o, "app_key", json_string(all_zero(d->app_key, 16) ? "" : "set"));
    } else {
        char a[9];
        snprintf(a, sizeof a, "%08" PRIX32, d->s.dev_addr);
        json_object_set_new(o, "dev_addr", json_string(a));
        json_object_set_new(o, "nwk_s_key", json_string("set"));
        json_object_set_new(o, "app_s_key", json_string("set"));
        json_object_set_new(o, "relax_fcnt", json_boolean(d->abp_relax_fcnt));
    }
    set_time(o, "created_at", d->created_ms);
    json_t *s = json_object();
    json_object_set_new(s, "active", json_boolean(d->s.active));
    if (d->s.active) {
        char a[9];
        snprintf(a, sizeof a, "%08" PRIX32, d->s.dev_addr);
        json_object_set_new(s, "dev_addr", json_string(a));
        if (d->s.fcnt_up_seen) json_object_set_new(s, "last_f_cnt_up", json_integer(d->s.fcnt_up));
        json_object_set_new(s, "next_f_cnt_down", json_integer(d->s.fcnt_down));
        set_time(s, "joined_at", d->s.joined_at_ms);
        set_time(s, "last_seen_at", d->s.last_seen_ms);
        json_object_set_new(s, "data_rate_index", json_integer(d->s.dr));
        json_object_set_new(s, "tx_power_index", json_integer(d->s.tx_power));
        json_object_set_new(s, "nb_trans", json_integer(d->s.nb_trans));
    }
    json_object_set_new(o, "session", s);
    return o;
}

json_t *lw_json_gw(const lw_gw_rec *g) {
    json_t *o = json_object();
    if (!o) return NULL;
    json_t *ids = json_pack("{s:s}", "gateway_id", g->gw_id);
    set_hex(ids, "eui", g->eui, 8);
    json_object_set_new(o, "ids", ids);
    json_object_set_new(o, "name", json_string(g->name));
    if (g->has_location)
        json_object_set_new(o, "location", json_pack("{s:f,s:f,s:i}", "latitude", g->lat, "longitude", g->lon, "altitude", (json_int_t)g->alt));
    set_time(o, "created_at", g->created_ms);
    if (g->last_seen_ms) set_time(o, "last_seen_at", g->last_seen_ms);
    return o;
}

static int ferr(char *err, size_t n, const char *field, const char *what) {
    snprintf(err, n, "%s: %s", field, what);
    return -1;
}

/* string member k of o into *out: 1 present, 0 absent, -1 wrong type */
static int get_str(const json_t *o, const char *k, const char **out, char *err, size_t n) {
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return ferr(err, n, k, "must be a string");
    *out = json_string_value(v);
    return 1;
}

static int get_bool(const json_t *o, const char *k, bool *out, char *err, size_t n) {
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_boolean(v)) return ferr(err, n, k, "must be true or false");
    *out = json_is_true(v);
    return 1;
}

static int copy_id(char *dst, size_t cap, const char *s, const char *field, char *err, size_t n) {
    if (strlen(s) >= cap) return ferr(err, n, field, "too long");
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

static int apply_fmt(const json_t *j, lw_fmt_kind *kind, char **src, int allow_inherit, char *err, size_t n) {
    const char *s = NULL, *script = NULL;
    int rc;
    if ((rc = get_str(j, "formatter", &s, err, n)) < 0) return -1;
    if (rc && (lw_fmt_kind_parse(s, kind) || (*kind == LW_FMT_INHERIT && !allow_inherit)))
        return ferr(err, n, "formatter", allow_inherit ? "must be inherit, none, lpp or js" : "must be none, lpp or js");
    if ((rc = get_str(j, "formatter_script", &script, err, n)) < 0) return -1;
    if (rc) {
        char *c = strdup(script);
        if (!c) return ferr(err, n, "formatter_script", "out of memory");
        free(*src);
        *src = c;
    }
    if (*kind != LW_FMT_JS) {
        free(*src);
        *src = NULL;
    }
    return 0;
}

int lw_json_apply_app(const json_t *j, lw_app_rec *a, char *err, size_t n) {
    if (!json_is_object(j)) return ferr(err, n, "body", "must be a JSON object");
    const char *s;
    int rc;
    json_t *ids = json_object_get(j, "ids");
    if (ids && !json_is_object(ids)) return ferr(err, n, "ids", "must be an object");
    if ((rc = get_str(ids, "application_id", &s, err, n)) < 0) return -1;
    if (rc && copy_id(a->app_id, sizeof a->app_id, s, "ids.application_id", err, n)) return -1;
    if ((rc = get_str(j, "application_id", &s, err, n)) < 0) return -1;
    if (rc && copy_id(a->app_id, sizeof a->app_id, s, "application_id", err, n)) return -1;
    if ((rc = get_str(j, "name", &s, err, n)) < 0) return -1;
    if (rc && copy_id(a->name, sizeof a->name, s, "name", err, n)) return -1;
    return apply_fmt(j, &a->fmt, &a->fmt_src, 0, err, n);
}

static int key_field(const json_t *j, const char *k, uint8_t *out, char *err, size_t n) {
    const char *s;
    int rc = get_str(j, k, &s, err, n);
    if (rc <= 0) return rc;
    if (!strcmp(s, "set")) return 0; /* the output marker: keep the key */
    if (lw_hex_parse(s, out, 16)) return ferr(err, n, k, "must be 32 hex digits (16 bytes)");
    return 1;
}

static int eui_field(const json_t *o, const char *k, const char *label, uint8_t out[8], char *err, size_t n) {
    const char *s;
    int rc = get_str(o, k, &s, err, n);
    if (rc <= 0) return rc;
    if (lw_hex_parse(s, out, 8)) return ferr(err, n, label, "must be 16 hex digits (8 bytes)");
    return 1;
}

int lw_json_apply_dev(const json_t *j, lw_dev_rec *d, char *err, size_t n) {
    if (!json_is_object(j)) return ferr(err, n, "body", "must be a JSON object");
    const char *s;
    int rc;
    json_t *ids = json_object_get(j, "ids");
    if (ids && !json_is_object(ids)) return ferr(err, n, "ids", "must be an object");
    const json_t *srcs[2] = {ids, j}; /* ids.x, or x at the top level */
    for (int i = 0; i < 2; i++) {
        if ((rc = get_str(srcs[i], "device_id", &s, err, n)) < 0) return -1;
        if (rc && copy_id(d->dev_id, sizeof d->dev_id, s, "device_id", err, n)) return -1;
        if (eui_field(srcs[i], "dev_eui", "dev_eui", d->dev_eui, err, n) < 0) return -1;
        if (eui_field(srcs[i], "join_eui", "join_eui", d->join_eui, err, n) < 0) return -1;
    }
    json_t *appids = json_object_get(ids, "application_ids");
    if (appids) {
        if ((rc = get_str(appids, "application_id", &s, err, n)) < 0) return -1;
        if (rc && copy_id(d->app_id, sizeof d->app_id, s, "ids.application_ids.application_id", err, n)) return -1;
    }
    if ((rc = get_str(j, "name", &s, err, n)) < 0) return -1;
    if (rc && copy_id(d->name, sizeof d->name, s, "name", err, n)) return -1;
    if ((rc = get_str(j, "activation", &s, err, n)) < 0) return -1;
    if (rc) {
        if (!strcasecmp(s, "OTAA")) d->otaa = true;
        else if (!strcasecmp(s, "ABP")) d->otaa = false;
        else return ferr(err, n, "activation", "must be OTAA or ABP");
    } else if (json_object_get(j, "dev_addr") && !json_object_get(j, "app_key")) {
        d->otaa = false;
    }
    if ((rc = get_str(j, "mac_version", &s, err, n)) < 0) return -1;
    if (rc) {
        if (!strcmp(s, "1.0.2") || !strcmp(s, "MAC_V1_0_2")) d->mac_minor = 2;
        else if (!strcmp(s, "1.0.3") || !strcmp(s, "MAC_V1_0_3")) d->mac_minor = 3;
        else if (!strcmp(s, "1.0.4") || !strcmp(s, "MAC_V1_0_4")) d->mac_minor = 4;
        else return ferr(err, n, "mac_version", "must be 1.0.2, 1.0.3 or 1.0.4");
    }
    if ((rc = get_str(j, "region", &s, err, n)) < 0) return -1;
    if (rc) {
        const lw_region *r = lw_region_get(s);
        if (!r) return ferr(err, n, "region", "unknown region (EU868 or US915)");
        snprintf(d->region, sizeof d->region, "%s", r->name);
    }
    if ((rc = get_str(j, "class", &s, err, n)) < 0) return -1;
    if (rc) {
        if (strcmp(s, "A")) return ferr(err, n, "class", "only class A is supported");
        d->dev_class = 'A';
    }
    if (get_bool(j, "adr", &d->adr, err, n) < 0) return -1;
    if (get_bool(j, "relax_fcnt", &d->abp_relax_fcnt, err, n) < 0) return -1;
    if (key_field(j, "app_key", d->app_key, err, n) < 0) return -1;
    if (key_field(j, "nwk_s_key", d->s.nwk_s_key, err, n) < 0) return -1;
    if (key_field(j, "app_s_key", d->s.app_s_key, err, n) < 0) return -1;
    if ((rc = get_str(j, "dev_addr", &s, err, n)) < 0) return -1;
    if (rc) {
        uint8_t a[4];
        if (lw_hex_parse(s, a, 4)) return ferr(err, n, "dev_addr", "must be 8 hex digits");
        d->s.dev_addr = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
    }
    if (d->otaa) { /* an ABP session given at registration does not apply */
        d->abp_relax_fcnt = false;
    }
    return apply_fmt(j, &d->fmt, &d->fmt_src, 1, err, n);
}

int lw_json_apply_gw(const json_t *j, lw_gw_rec *g, char *err, size_t n) {
    if (!json_is_object(j)) return ferr(err, n, "body", "must be a JSON object");
    const char *s;
    int rc;
    json_t *ids = json_object_get(j, "ids");
    if (ids && !json_is_object(ids)) return ferr(err, n, "ids", "must be an object");
    const json_t *srcs[2] = {ids, j};
    for (int i = 0; i < 2; i++) {
        if ((rc = get_str(srcs[i], "gateway_id", &s, err, n)) < 0) return -1;
        if (rc && copy_id(g->gw_id, sizeof g->gw_id, s, "gateway_id", err, n)) return -1;
        if (eui_field(srcs[i], "eui", "eui", g->eui, err, n) < 0) return -1;
    }
    if ((rc = get_str(j, "name", &s, err, n)) < 0) return -1;
    if (rc && copy_id(g->name, sizeof g->name, s, "name", err, n)) return -1;
    json_t *loc = json_object_get(j, "location");
    if (loc && json_is_null(loc)) g->has_location = false;
    else if (loc) {
        json_t *la = json_object_get(loc, "latitude"), *lo = json_object_get(loc, "longitude"), *al = json_object_get(loc, "altitude");
        if (!json_is_object(loc) || !json_is_number(la) || !json_is_number(lo))
            return ferr(err, n, "location", "must be {\"latitude\": number, \"longitude\": number, \"altitude\": integer}");
        if (al && !json_is_integer(al)) return ferr(err, n, "location.altitude", "must be an integer (metres)");
        if (al && (json_integer_value(al) < -100000 || json_integer_value(al) > 100000)) return ferr(err, n, "location.altitude", "out of range");
        g->has_location = true;
        g->lat = json_number_value(la);
        g->lon = json_number_value(lo);
        g->alt = al ? (int32_t)json_integer_value(al) : 0;
    }
    return 0;
}

/* ---- HTTP ---- */

static void send_json(net_http_req *req, int status, json_t *o) {
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) {
        const char *b = "{\"error\":\"out of memory\"}\n";
        net_http_respond(req, 500, "application/json", NULL, b, strlen(b));
        return;
    }
    size_t len = strlen(s);
    char *t = realloc(s, len + 2);
    if (t) {
        s = t;
        s[len++] = '\n';
        s[len] = 0;
    }
    net_http_respond(req, status, "application/json", NULL, s, len);
    free(s);
}

static void send_err(net_http_req *req, int status, const char *msg) { send_json(req, status, json_pack("{s:s}", "error", msg)); }

static void send_405(net_http_req *req, const char *allow) {
    char h[96];
    snprintf(h, sizeof h, "Allow: %s\r\n", allow);
    const char *b = "{\"error\":\"method not allowed\"}\n";
    net_http_respond(req, 405, "application/json", h, b, strlen(b));
}

static void send_reg_err(net_http_req *req, int rc, const char *err, const char *what) {
    char m[320];
    if (err && *err) snprintf(m, sizeof m, "%s", err);
    else snprintf(m, sizeof m, "%s %s", what, lw_reg_strerror(rc));
    int st = rc == LW_REG_NOTFOUND ? 404 : rc == LW_REG_EXISTS ? 409 : rc == LW_REG_INVALID ? 400 : 500;
    send_err(req, st, m);
}

static json_t *parse_body(net_http_req *req) {
    json_error_t je;
    json_t *j = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        char m[300];
        snprintf(m, sizeof m, "invalid JSON: %s (line %d)", je.text, je.line);
        send_err(req, 400, m);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        send_err(req, 400, "the body must be a JSON object");
        return NULL;
    }
    return j;
}

static bool is(const net_http_req *req, const char *m) { return !strcmp(req->method, m); }

typedef struct { json_t *arr; } collect;
static int col_app(void *ud, const lw_app_rec *a) { json_array_append_new(((collect *)ud)->arr, lw_json_app(a)); return 0; }
static int col_dev(void *ud, const lw_dev_rec *d) { json_array_append_new(((collect *)ud)->arr, lw_json_dev(d)); return 0; }
static int col_gw(void *ud, const lw_gw_rec *g) { json_array_append_new(((collect *)ud)->arr, lw_json_gw(g)); return 0; }

static void key_response(net_http_req *req, const lw_rest_ctx *ctx, int status, json_t *o, const char *app, const char *key) {
    char user[128];
    snprintf(user, sizeof user, "%s@%s", app, ctx->tenant && *ctx->tenant ? ctx->tenant : "ttn");
    json_object_set_new(o, "api_key", json_string(key));
    json_object_set_new(o, "mqtt_username", json_string(user));
    send_json(req, status, o);
}

static void app_created(net_http_req *req, const lw_rest_ctx *ctx, const char *app_id, const char *key, int status) {
    lw_app_rec a;
    json_t *o;
    if (lw_reg_app_get(ctx->reg, app_id, &a) == 0) {
        o = lw_json_app(&a);
        lw_app_rec_clear(&a);
    } else {
        o = json_pack("{s:{s:s}}", "ids", "application_id", app_id);
    }
    key_response(req, ctx, status, o, app_id, key);
}

static void route_app(net_http_req *req, const lw_rest_ctx *ctx, const char *app_id) {
    lw_registry *r = ctx->reg;
    char err[320] = "";
    lw_app_rec a;
    char what[96];
    snprintf(what, sizeof what, "application %s", app_id);
    if (is(req, "GET")) {
        int rc = lw_reg_app_get(r, app_id, &a);
        if (rc) { send_reg_err(req, rc, NULL, what); return; }
        send_json(req, 200, lw_json_app(&a));
        lw_app_rec_clear(&a);
    } else if (is(req, "PUT")) {
        json_t *j = parse_body(req);
        if (!j) return;
        int rc = lw_reg_app_get(r, app_id, &a);
        if (rc) { json_decref(j); send_reg_err(req, rc, NULL, what); return; }
        rc = lw_json_apply_app(j, &a, err, sizeof err);
        json_decref(j);
        if (!rc && strcmp(a.app_id, app_id)) { rc = -1; snprintf(err, sizeof err, "ids.application_id cannot be changed"); }
        if (rc) { lw_app_rec_clear(&a); send_err(req, 400, err); return; }
        rc = lw_reg_app_update(r, &a, err, sizeof err);
        if (rc) { lw_app_rec_clear(&a); send_reg_err(req, rc, err, "application"); return; }
        send_json(req, 200, lw_json_app(&a));
        lw_app_rec_clear(&a);
    } else if (is(req, "DELETE")) {
        int rc = lw_reg_app_remove(r, app_id);
        if (rc) { send_reg_err(req, rc, NULL, what); return; }
        net_http_respond(req, 204, "application/json", NULL, "", 0);
    } else send_405(req, "GET, PUT, DELETE");
}

static void route_dev(net_http_req *req, const lw_rest_ctx *ctx, const char *app_id, const char *dev_id) {
    lw_registry *r = ctx->reg;
    char err[320] = "";
    lw_dev_rec d;
    char what[96];
    snprintf(what, sizeof what, "device %s/%s", app_id, dev_id);
    if (is(req, "GET")) {
        int rc = lw_reg_dev_get(r, app_id, dev_id, &d);
        if (rc) { send_reg_err(req, rc, NULL, what); return; }
        send_json(req, 200, lw_json_dev(&d));
        lw_dev_rec_clear(&d);
    } else if (is(req, "PUT")) {
        json_t *j = parse_body(req);
        if (!j) return;
        int rc = lw_reg_dev_get(r, app_id, dev_id, &d);
        if (rc) { json_decref(j); send_reg_err(req, rc, NULL, what); return; }
        rc = lw_json_apply_dev(j, &d, err, sizeof err);
        json_decref(j);
        if (!rc && (strcmp(d.app_id, app_id) || strcmp(d.dev_id, dev_id))) {
            rc = -1;
            snprintf(err, sizeof err, "the device and application ids cannot be changed");
        }
        if (rc) { lw_dev_rec_clear(&d); send_err(req, 400, err); return; }
        rc = lw_reg_dev_update(r, &d, err, sizeof err);
        lw_dev_rec_clear(&d);
        if (rc) { send_reg_err(req, rc, err, "device"); return; }
        rc = lw_reg_dev_get(r, app_id, dev_id, &d);
        if (rc) { send_reg_err(req, rc, NULL, what); return; }
        send_json(req, 200, lw_json_dev(&d));
        lw_dev_rec_clear(&d);
    } else if (is(req, "DELETE")) {
        int rc = lw_reg_dev_remove(r, app_id, dev_id);
        if (rc) { send_reg_err(req, rc, NULL, what); return; }
        net_http_respond(req, 204, "application/json", NULL, "", 0);
    } else send_405(req, "GET, PUT, DELETE");
}

static void route_devs(net_http_req *req, const lw_rest_ctx *ctx, const char *app_id) {
    lw_registry *r = ctx->reg;
    char err[320] = "";
    lw_app_rec a;
    char what[96];
    snprintf(what, sizeof what, "application %s", app_id);
    int rc = lw_reg_app_get(r, app_id, &a);
    if (rc) { send_reg_err(req, rc, NULL, what); return; }
    lw_app_rec_clear(&a);
    if (is(req, "GET")) {
        collect c = {json_array()};
        rc = lw_reg_dev_list(r, app_id, col_dev, &c);
        if (rc) { json_decref(c.arr); send_reg_err(req, rc, NULL, "devices"); return; }
        send_json(req, 200, json_pack("{s:o}", "end_devices", c.arr));
    } else if (is(req, "POST")) {
        json_t *j = parse_body(req);
        if (!j) return;
        lw_dev_rec d;
        lw_dev_rec_init(&d);
        snprintf(d.app_id, sizeof d.app_id, "%s", app_id);
        rc = lw_json_apply_dev(j, &d, err, sizeof err);
        json_decref(j);
        if (!rc && strcmp(d.app_id, app_id)) { rc = -1; snprintf(err, sizeof err, "ids.application_ids.application_id does not match the path"); }
        if (!rc && !d.dev_id[0]) { rc = -1; snprintf(err, sizeof err, "ids.device_id is required"); }
        if (rc) { lw_dev_rec_clear(&d); send_err(req, 400, err); return; }
        rc = lw_reg_dev_add(r, &d, err, sizeof err);
        char dev_id[LW_ID_MAX + 1];
        snprintf(dev_id, sizeof dev_id, "%s", d.dev_id);
        lw_dev_rec_clear(&d);
        if (rc) { send_reg_err(req, rc, err, "device"); return; }
        rc = lw_reg_dev_get(r, app_id, dev_id, &d);
        if (rc) { send_reg_err(req, rc, NULL, "device"); return; }
        send_json(req, 201, lw_json_dev(&d));
        lw_dev_rec_clear(&d);
    } else send_405(req, "GET, POST");
}

static void route_down(net_http_req *req, const lw_rest_ctx *ctx, const char *app_id, const char *dev_id, bool replace) {
    if (!is(req, "POST")) { send_405(req, "POST"); return; }
    lw_dev_rec d;
    char what[96];
    snprintf(what, sizeof what, "device %s/%s", app_id, dev_id);
    int rc = lw_reg_dev_get(ctx->reg, app_id, dev_id, &d);
    if (rc) { send_reg_err(req, rc, NULL, what); return; }
    lw_dev_rec_clear(&d);
    if (!ctx->queue_down) { send_err(req, 503, "the downlink queue is not available (LoRaWAN network server not running)"); return; }
    json_t *j = parse_body(req);
    if (!j) return;
    json_decref(j);
    char err[320] = "";
    if (ctx->queue_down(ctx->ud, app_id, dev_id, (const char *)req->body, req->body_len, replace, err, sizeof err)) {
        send_err(req, 400, err[0] ? err : "downlinks refused");
        return;
    }
    send_json(req, 200, json_object());
}

static int parse_gw_eui(const char *s, uint8_t eui[8]) {
    if (!strncmp(s, "eui-", 4)) s += 4;
    return lw_hex_parse(s, eui, 8);
}

static void route_gws(net_http_req *req, const lw_rest_ctx *ctx, char **seg, int nseg) {
    lw_registry *r = ctx->reg;
    char err[320] = "";
    if (nseg == 1) {
        if (is(req, "GET")) {
            collect c = {json_array()};
            int rc = lw_reg_gw_list(r, col_gw, &c);
            if (rc) { json_decref(c.arr); send_reg_err(req, rc, NULL, "gateways"); return; }
            send_json(req, 200, json_pack("{s:o}", "gateways", c.arr));
        } else if (is(req, "POST")) {
            json_t *j = parse_body(req);
            if (!j) return;
            lw_gw_rec g;
            memset(&g, 0, sizeof g);
            int rc = lw_json_apply_gw(j, &g, err, sizeof err);
            json_decref(j);
            if (rc) { send_err(req, 400, err); return; }
            rc = lw_reg_gw_add(r, &g, err, sizeof err);
            if (rc) { send_reg_err(req, rc, err, "gateway"); return; }
            if (lw_reg_gw_get(r, g.eui, &g)) { send_reg_err(req, LW_REG_DB, NULL, "gateway"); return; }
            send_json(req, 201, lw_json_gw(&g));
        } else send_405(req, "GET, POST");
        return;
    }
    uint8_t eui[8];
    if (nseg != 2) { send_err(req, 404, "not found"); return; }
    if (parse_gw_eui(seg[1], eui)) { send_err(req, 400, "a gateway is addressed by its EUI: 16 hex digits"); return; }
    lw_gw_rec g;
    if (is(req, "GET")) {
        int rc = lw_reg_gw_get(r, eui, &g);
        if (rc) { send_reg_err(req, rc, NULL, "gateway"); return; }
        send_json(req, 200, lw_json_gw(&g));
    } else if (is(req, "DELETE")) {
        int rc = lw_reg_gw_remove(r, eui);
        if (rc) { send_reg_err(req, rc, NULL, "gateway"); return; }
        net_http_respond(req, 204, "application/json", NULL, "", 0);
    } else send_405(req, "GET, DELETE");
}

#define MAX_SEG 8

int lw_rest_handle(net_http_req *req, const lw_rest_ctx *ctx) {
    const char *p = req->path;
    size_t pl = strlen(PREFIX);
    if (!p || strncmp(p, PREFIX, pl) || (p[pl] && p[pl] != '/')) return 0;
    if (!ctx || !ctx->reg) { send_err(req, 503, "the LoRaWAN registry is not available"); return 1; }
    /* split the rest into segments (empty ones from "//" or a trailing '/' are skipped) */
    char buf[512];
    if (strlen(p + pl) >= sizeof buf) { send_err(req, 404, "not found"); return 1; }
    snprintf(buf, sizeof buf, "%s", p + pl);
    char *seg[MAX_SEG], *save = NULL;
    int n = 0;
    for (char *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (n == MAX_SEG) { send_err(req, 404, "not found"); return 1; }
        seg[n++] = t;
    }
    if (n == 0) { send_err(req, 404, "not found: see /api/v1/lorawan/apps and /api/v1/lorawan/gateways"); return 1; }
    if (!strcmp(seg[0], "gateways")) { route_gws(req, ctx, seg, n); return 1; }
    if (strcmp(seg[0], "apps")) { send_err(req, 404, "not found"); return 1; }
    if (n == 1) {
        if (is(req, "GET")) {
            collect c = {json_array()};
            int rc = lw_reg_app_list(ctx->reg, col_app, &c);
            if (rc) { json_decref(c.arr); send_reg_err(req, rc, NULL, "applications"); return 1; }
            send_json(req, 200, json_pack("{s:o}", "applications", c.arr));
        } else if (is(req, "POST")) {
            json_t *j = parse_body(req);
            if (!j) return 1;
            lw_app_rec a;
            memset(&a, 0, sizeof a);
            a.fmt = LW_FMT_NONE;
            char err[320] = "", key[LW_REG_KEY_MAX];
            int rc = lw_json_apply_app(j, &a, err, sizeof err);
            json_decref(j);
            if (!rc && !a.app_id[0]) { rc = -1; snprintf(err, sizeof err, "ids.application_id is required"); }
            if (rc) { lw_app_rec_clear(&a); send_err(req, 400, err); return 1; }
            rc = lw_reg_app_add(ctx->reg, &a, key, sizeof key, err, sizeof err);
            if (rc) { lw_app_rec_clear(&a); send_reg_err(req, rc, err, "application"); return 1; }
            app_created(req, ctx, a.app_id, key, 201);
            lw_app_rec_clear(&a);
        } else send_405(req, "GET, POST");
        return 1;
    }
    const char *app = seg[1];
    if (n == 2) route_app(req, ctx, app);
    else if (n == 3 && !strcmp(seg[2], "keys")) {
        if (!is(req, "POST")) { send_405(req, "POST"); return 1; }
        char key[LW_REG_KEY_MAX];
        int rc = lw_reg_app_key_new(ctx->reg, app, key, sizeof key);
        char what[96];
        snprintf(what, sizeof what, "application %s", app);
        if (rc) { send_reg_err(req, rc, NULL, what); return 1; }
        key_response(req, ctx, 201, json_pack("{s:{s:s}}", "ids", "application_id", app), app, key);
    } else if (n == 3 && !strcmp(seg[2], "devices")) route_devs(req, ctx, app);
    else if (n == 4 && !strcmp(seg[2], "devices")) route_dev(req, ctx, app, seg[3]);
    else if (n == 6 && !strcmp(seg[2], "devices") && !strcmp(seg[4], "down") && (!strcmp(seg[5], "push") || !strcmp(seg[5], "replace")))
        route_down(req, ctx, app, seg[3], !strcmp(seg[5], "replace"));
    else send_err(req, 404, "not found");
    return 1;
}
