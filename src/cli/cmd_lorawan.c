/* tinyedge lorawan: manage the LoRaWAN registry (applications, devices, gateways) directly in
 * <data_dir>/lorawan.db, whether or not a server runs on the same data dir (a running server picks
 * the changes up from the registry's change log). Keys go in, and are never printed (an
 * application's API key is printed once, when it is created). Exit status: 0 ok, 1 error (one line
 * on stderr), 2 usage. See docs/lorawan-registry.md. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "lorawan/registry.h"
#include "server/config.h"
#include "server/lorawan_rest.h"

#define P "tinyedge lorawan"
#define MAX_OPTS 32
#define SCRIPT_MAX (1024 * 1024)

typedef struct { char k[32]; const char *v; } kv;
typedef struct { kv o[MAX_OPTS]; int n; bool json, help; } opts;

typedef struct cmd cmd;
struct cmd {
    const char *obj, *verb;
    const char *allowed;  /* comma-separated option names (besides data-dir, config, json, help) */
    const char *required; /* comma-separated */
    const char *usage;
    int (*run)(const cmd *c, opts *o, lw_registry *r);
};

static const char *FLAGS = ",json,no-adr,relax-fcnt,";

static bool in_list(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return true;
    return false;
}

static const char *opt(const opts *o, const char *k) {
    for (int i = o->n - 1; i >= 0; i--)
        if (!strcmp(o->o[i].k, k)) return o->o[i].v;
    return NULL;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, P ": ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static int usage_err(const cmd *c, const char *fmt, const char *arg) {
    fprintf(stderr, P ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage: " P " %s %s %s\n", c->obj, c->verb, c->usage);
    return 2;
}

static void print_json(json_t *j) {
    char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (s) printf("%s\n", s);
    free(s);
    json_decref(j);
}

/* ---- argument helpers ---- */

static int hex_arg(const char *name, const char *v, uint8_t *out, size_t n) {
    if (lw_hex_parse(v, out, n)) return fail("--%s must be %zu hex digits (%zu bytes), got \"%s\"", name, 2 * n, n, v);
    return 0;
}

static int key_arg(const char *name, const char *v, uint8_t out[16]) {
    /* the value is a secret: do not echo it */
    if (lw_hex_parse(v, out, 16)) return fail("--%s must be 32 hex digits (16 bytes)", name);
    return 0;
}

static int id_arg(const char *what, const char *v, char *out, size_t cap) {
    if (!lw_id_valid(v))
        return fail("invalid %s id \"%s\": 2..36 characters of a-z, 0-9 and '-', not starting or ending with '-'", what, v);
    snprintf(out, cap, "%s", v);
    return 0;
}

static int name_arg(const char *v, char *out, size_t cap) {
    if (strlen(v) >= cap) return fail("--name is longer than %zu characters", cap - 1);
    snprintf(out, cap, "%s", v);
    return 0;
}

static int num_arg(const char *name, const char *v, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d) || d < lo || d > hi) return fail("--%s must be a number in %g..%g, got \"%s\"", name, lo, hi, v);
    *out = d;
    return 0;
}

static int read_file(const char *path, char **out) {
    FILE *f = fopen(path, "rb");
    if (!f) return fail("cannot read %s: %s", path, strerror(errno));
    char *b = malloc(SCRIPT_MAX + 1);
    size_t n = b ? fread(b, 1, SCRIPT_MAX + 1, f) : 0;
    int e = ferror(f);
    fclose(f);
    if (!b) return fail("out of memory");
    if (e) { free(b); return fail("cannot read %s", path); }
    if (n > SCRIPT_MAX) { free(b); return fail("%s is larger than %d bytes", path, SCRIPT_MAX); }
    if (n == 0) { free(b); return fail("%s is empty", path); }
    if (memchr(b, 0, n)) { free(b); return fail("%s is not a text file", path); }
    b[n] = 0;
    *out = b;
    return 0;
}

/* "none" | "lpp" | "inherit" (devices) | "js:FILE" */
static int fmt_arg(const char *v, bool allow_inherit, lw_fmt_kind *k, char **src) {
    if (!strncmp(v, "js:", 3)) {
        if (!v[3]) return fail("--formatter js:FILE needs a file name");
        *k = LW_FMT_JS;
        return read_file(v + 3, src);
    }
    if (lw_fmt_kind_parse(v, k) || *k == LW_FMT_JS || (*k == LW_FMT_INHERIT && !allow_inherit))
        return fail("--formatter must be %snone, lpp or js:FILE, got \"%s\"", allow_inherit ? "inherit, " : "", v);
    return 0;
}

static int reg_fail(int rc, const char *err, const char *what) {
    if (err && *err) return fail("%s", err);
    return fail("%s: %s", what, lw_reg_strerror(rc));
}

static void ms_str(int64_t ms, char *out, size_t cap) {
    lw_ms_rfc3339(ms, out, cap);
    if (!out[0]) snprintf(out, cap, "-");
}

/* ---- applications ---- */

static int count_dev(void *ud, const lw_dev_rec *d) {
    (void)d;
    (*(int *)ud)++;
    return 0;
}

static int app_add(const cmd *c, opts *o, lw_registry *r) {
    lw_app_rec a;
    memset(&a, 0, sizeof a);
    a.fmt = LW_FMT_NONE;
    if (id_arg("application", opt(o, "app"), a.app_id, sizeof a.app_id)) return 1;
    if (opt(o, "name") && name_arg(opt(o, "name"), a.name, sizeof a.name)) return 1;
    if (opt(o, "formatter") && fmt_arg(opt(o, "formatter"), false, &a.fmt, &a.fmt_src)) return 1;
    char key[LW_REG_KEY_MAX], err[320] = "";
    int rc = lw_reg_app_add(r, &a, key, sizeof key, err, sizeof err);
    lw_app_rec_clear(&a);
    if (rc) return reg_fail(rc, err, "application");
    if (o->json) {
        lw_app_rec g;
        json_t *j = json_object();
        if (lw_reg_app_get(r, opt(o, "app"), &g) == 0) {
            json_object_set_new(j, "application", lw_json_app(&g));
            lw_app_rec_clear(&g);
        }
        json_object_set_new(j, "api_key", json_string(key));
        print_json(j);
    } else {
        fprintf(stderr, "created application %s; its API key (the MQTT password, shown only now):\n", opt(o, "app"));
        printf("%s\n", key);
    }
    memset(key, 0, sizeof key);
    (void)c;
    return 0;
}

static int app_key_new(const cmd *c, opts *o, lw_registry *r) {
    char key[LW_REG_KEY_MAX];
    int rc = lw_reg_app_key_new(r, opt(o, "app"), key, sizeof key);
    if (rc == LW_REG_NOTFOUND) return fail("application %s not found", opt(o, "app"));
    if (rc) return reg_fail(rc, NULL, "new key");
    if (o->json) print_json(json_pack("{s:s,s:s}", "application_id", opt(o, "app"), "api_key", key));
    else {
        fprintf(stderr, "new API key for %s (shown only now; older keys stay valid):\n", opt(o, "app"));
        printf("%s\n", key);
    }
    memset(key, 0, sizeof key);
    (void)c;
    return 0;
}

typedef struct { lw_registry *r; json_t *arr; int n; } app_list_ctx;

static int app_list_cb(void *ud, const lw_app_rec *a) {
    app_list_ctx *x = ud;
    int ndev = 0;
    lw_reg_dev_list(x->r, a->app_id, count_dev, &ndev);
    if (x->arr) {
        json_t *j = lw_json_app(a);
        json_object_set_new(j, "device_count", json_integer(ndev));
        json_array_append_new(x->arr, j);
    } else {
        if (x->n == 0) printf("%-36s  %-9s  %7s  %s\n", "APPLICATION", "FORMATTER", "DEVICES", "NAME");
        printf("%-36s  %-9s  %7d  %s\n", a->app_id, lw_fmt_kind_name(a->fmt), ndev, a->name);
    }
    x->n++;
    return 0;
}

static int app_list(const cmd *c, opts *o, lw_registry *r) {
    app_list_ctx x = {r, o->json ? json_array() : NULL, 0};
    int rc = lw_reg_app_list(r, app_list_cb, &x);
    if (rc) { json_decref(x.arr); return reg_fail(rc, NULL, "list applications"); }
    if (o->json) print_json(json_pack("{s:o}", "applications", x.arr));
    else if (x.n == 0) fprintf(stderr, "no applications (" P " app add --app ID)\n");
    (void)c;
    return 0;
}

static int app_show(const cmd *c, opts *o, lw_registry *r) {
    lw_app_rec a;
    int rc = lw_reg_app_get(r, opt(o, "app"), &a);
    if (rc == LW_REG_NOTFOUND) return fail("application %s not found", opt(o, "app"));
    if (rc) return reg_fail(rc, NULL, "application");
    int ndev = 0;
    lw_reg_dev_list(r, a.app_id, count_dev, &ndev);
    if (o->json) {
        json_t *j = lw_json_app(&a);
        json_object_set_new(j, "device_count", json_integer(ndev));
        print_json(j);
    } else {
        char t[48];
        ms_str(a.created_ms, t, sizeof t);
        printf("application:  %s\nname:         %s\nformatter:    %s%s\ndevices:      %d\ncreated:      %s\n", a.app_id, a.name,
               lw_fmt_kind_name(a.fmt), a.fmt == LW_FMT_JS ? " (script stored)" : "", ndev, t);
    }
    lw_app_rec_clear(&a);
    (void)c;
    return 0;
}

static int app_remove(const cmd *c, opts *o, lw_registry *r) {
    int ndev = 0;
    lw_reg_dev_list(r, opt(o, "app"), count_dev, &ndev);
    int rc = lw_reg_app_remove(r, opt(o, "app"));
    if (rc == LW_REG_NOTFOUND) return fail("application %s not found", opt(o, "app"));
    if (rc) return reg_fail(rc, NULL, "remove application");
    printf("removed application %s and its %d device%s\n", opt(o, "app"), ndev, ndev == 1 ? "" : "s");
    (void)c;
    return 0;
}

/* ---- devices ---- */

static int dev_add(const cmd *c, opts *o, lw_registry *r) {
    lw_dev_rec d;
    lw_dev_rec_init(&d);
    int rc = 1;
    const char *v;
    bool abp = opt(o, "dev-addr") || opt(o, "nwk-s-key") || opt(o, "app-s-key");
    if (abp && opt(o, "app-key")) return usage_err(c, "%s", "use either --app-key (OTAA) or --dev-addr, --nwk-s-key and --app-s-key (ABP)");
    if (!abp && !opt(o, "app-key")) return usage_err(c, "%s", "an OTAA device needs --app-key (or --dev-addr, --nwk-s-key and --app-s-key for ABP)");
    if (abp && (!opt(o, "dev-addr") || !opt(o, "nwk-s-key") || !opt(o, "app-s-key")))
        return usage_err(c, "%s", "an ABP device needs --dev-addr, --nwk-s-key and --app-s-key");
    if (!abp && !opt(o, "dev-eui")) return usage_err(c, "%s", "an OTAA device needs --dev-eui");
    if (!abp && opt(o, "relax-fcnt")) return usage_err(c, "%s", "--relax-fcnt is for ABP devices");
    if (id_arg("application", opt(o, "app"), d.app_id, sizeof d.app_id)) goto out;
    if (id_arg("device", opt(o, "dev"), d.dev_id, sizeof d.dev_id)) goto out;
    if ((v = opt(o, "name")) && name_arg(v, d.name, sizeof d.name)) goto out;
    if ((v = opt(o, "dev-eui")) && hex_arg("dev-eui", v, d.dev_eui, 8)) goto out;
    if ((v = opt(o, "join-eui")) && hex_arg("join-eui", v, d.join_eui, 8)) goto out;
    d.otaa = !abp;
    if ((v = opt(o, "app-key")) && key_arg("app-key", v, d.app_key)) goto out;
    if ((v = opt(o, "dev-addr"))) {
        uint8_t a[4];
        if (hex_arg("dev-addr", v, a, 4)) goto out;
        d.s.dev_addr = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
    }
    if ((v = opt(o, "nwk-s-key")) && key_arg("nwk-s-key", v, d.s.nwk_s_key)) goto out;
    if ((v = opt(o, "app-s-key")) && key_arg("app-s-key", v, d.s.app_s_key)) goto out;
    d.abp_relax_fcnt = opt(o, "relax-fcnt") != NULL;
    d.adr = opt(o, "no-adr") == NULL;
    if ((v = opt(o, "region"))) {
        if (strlen(v) >= sizeof d.region) { fail("unknown region \"%s\" (EU868 or US915)", v); goto out; }
        snprintf(d.region, sizeof d.region, "%s", v);
    }
    if ((v = opt(o, "mac-version"))) {
        if (!strcmp(v, "1.0.2")) d.mac_minor = 2;
        else if (!strcmp(v, "1.0.3")) d.mac_minor = 3;
        else if (!strcmp(v, "1.0.4")) d.mac_minor = 4;
        else { fail("--mac-version must be 1.0.2, 1.0.3 or 1.0.4, got \"%s\"", v); goto out; }
    }
    if ((v = opt(o, "class"))) {
        if (strcmp(v, "A") && strcmp(v, "a")) { fail("--class: only class A is supported"); goto out; }
        d.dev_class = 'A';
    }
    if ((v = opt(o, "formatter")) && fmt_arg(v, true, &d.fmt, &d.fmt_src)) goto out;
    char err[320] = "";
    int e = lw_reg_dev_add(r, &d, err, sizeof err);
    if (e == LW_REG_NOTFOUND) { fail("application %s not found (" P " app add --app %s)", d.app_id, d.app_id); goto out; }
    if (e) { reg_fail(e, err, "device"); goto out; }
    if (o->json) {
        lw_dev_rec g;
        if (lw_reg_dev_get(r, d.app_id, d.dev_id, &g) == 0) {
            print_json(lw_json_dev(&g));
            lw_dev_rec_clear(&g);
        }
    } else {
        char eui[17];
        lw_hex_format(d.dev_eui, 8, eui, 1);
        if (d.otaa) printf("created device %s/%s (OTAA, DevEUI %s)\n", d.app_id, d.dev_id, eui);
        else printf("created device %s/%s (ABP, DevAddr %08" PRIX32 ")\n", d.app_id, d.dev_id, d.s.dev_addr);
    }
    rc = 0;
out:
    lw_dev_rec_clear(&d);
    return rc;
}

typedef struct { json_t *arr; int n; } dev_list_ctx;

static int dev_list_cb(void *ud, const lw_dev_rec *d) {
    dev_list_ctx *x = ud;
    if (x->arr) json_array_append_new(x->arr, lw_json_dev(d));
    else {
        if (x->n == 0)
            printf("%-20s %-24s %-16s %-16s %-4s %-5s %-5s %-8s %s\n", "APPLICATION", "DEVICE", "DEV EUI", "JOIN EUI", "ACT", "REGION", "MAC",
                   "DEVADDR", "LAST SEEN");
        char de[17], je[17], addr[9] = "-", seen[48];
        lw_hex_format(d->dev_eui, 8, de, 1);
        lw_hex_format(d->join_eui, 8, je, 1);
        if (d->s.active) snprintf(addr, sizeof addr, "%08" PRIX32, d->s.dev_addr);
        ms_str(d->s.last_seen_ms, seen, sizeof seen);
        printf("%-20s %-24s %-16s %-16s %-4s %-5s 1.0.%u %-8s %s\n", d->app_id, d->dev_id, de, je, d->otaa ? "OTAA" : "ABP", d->region,
               d->mac_minor, addr, seen);
    }
    x->n++;
    return 0;
}

static int dev_list(const cmd *c, opts *o, lw_registry *r) {
    const char *app = opt(o, "app");
    if (app) {
        lw_app_rec a;
        int rc = lw_reg_app_get(r, app, &a);
        if (rc == LW_REG_NOTFOUND) return fail("application %s not found", app);
        if (rc) return reg_fail(rc, NULL, "application");
        lw_app_rec_clear(&a);
    }
    dev_list_ctx x = {o->json ? json_array() : NULL, 0};
    int rc = lw_reg_dev_list(r, app, dev_list_cb, &x);
    if (rc) { json_decref(x.arr); return reg_fail(rc, NULL, "list devices"); }
    if (o->json) print_json(json_pack("{s:o}", "end_devices", x.arr));
    else if (x.n == 0) fprintf(stderr, "no devices\n");
    (void)c;
    return 0;
}

static int dev_show(const cmd *c, opts *o, lw_registry *r) {
    lw_dev_rec d;
    int rc = lw_reg_dev_get(r, opt(o, "app"), opt(o, "dev"), &d);
    if (rc == LW_REG_NOTFOUND) return fail("device %s/%s not found", opt(o, "app"), opt(o, "dev"));
    if (rc) return reg_fail(rc, NULL, "device");
    if (o->json) print_json(lw_json_dev(&d));
    else {
        char de[17], je[17], t[48];
        lw_hex_format(d.dev_eui, 8, de, 1);
        lw_hex_format(d.join_eui, 8, je, 1);
        printf("device:       %s/%s\nname:         %s\nDevEUI:       %s\nJoinEUI:      %s\n", d.app_id, d.dev_id, d.name, de, je);
        printf("activation:   %s\nMAC version:  1.0.%u\nregion:       %s\nclass:        %c\nADR:          %s\n", d.otaa ? "OTAA" : "ABP",
               d.mac_minor, d.region, d.dev_class, d.adr ? "on" : "off");
        printf("formatter:    %s%s\n", lw_fmt_kind_name(d.fmt), d.fmt == LW_FMT_JS ? " (script stored)" : "");
        if (d.otaa) printf("AppKey:       set\n");
        else printf("NwkSKey:      set\nAppSKey:      set\nrelax FCnt:   %s\n", d.abp_relax_fcnt ? "yes" : "no");
        ms_str(d.created_ms, t, sizeof t);
        printf("created:      %s\n", t);
        if (d.s.active) {
            printf("session:      active, DevAddr %08" PRIX32 "\n", d.s.dev_addr);
            if (d.s.fcnt_up_seen) printf("FCntUp:       %" PRIu32 " (last accepted)\n", d.s.fcnt_up);
            printf("FCntDown:     %" PRIu32 " (next)\n", d.s.fcnt_down);
            ms_str(d.s.joined_at_ms, t, sizeof t);
            if (d.otaa) printf("joined:       %s\n", t);
            ms_str(d.s.last_seen_ms, t, sizeof t);
            printf("last seen:    %s\n", t);
        } else printf("session:      none (not joined)\n");
    }
    lw_dev_rec_clear(&d);
    (void)c;
    return 0;
}

static int dev_remove(const cmd *c, opts *o, lw_registry *r) {
    int rc = lw_reg_dev_remove(r, opt(o, "app"), opt(o, "dev"));
    if (rc == LW_REG_NOTFOUND) return fail("device %s/%s not found", opt(o, "app"), opt(o, "dev"));
    if (rc) return reg_fail(rc, NULL, "remove device");
    printf("removed device %s/%s\n", opt(o, "app"), opt(o, "dev"));
    (void)c;
    return 0;
}

/* ---- gateways ---- */

static int eui_gw_arg(const char *v, uint8_t eui[8]) {
    if (!strncmp(v, "eui-", 4)) v += 4;
    return hex_arg("eui", v, eui, 8);
}

static int gw_add(const cmd *c, opts *o, lw_registry *r) {
    lw_gw_rec g;
    memset(&g, 0, sizeof g);
    const char *v;
    if (eui_gw_arg(opt(o, "eui"), g.eui)) return 1;
    if ((v = opt(o, "id")) && id_arg("gateway", v, g.gw_id, sizeof g.gw_id)) return 1;
    if ((v = opt(o, "name")) && name_arg(v, g.name, sizeof g.name)) return 1;
    if (opt(o, "lat") || opt(o, "lon") || opt(o, "alt")) {
        if (!opt(o, "lat") || !opt(o, "lon")) return usage_err(c, "%s", "a location needs both --lat and --lon");
        double alt = 0;
        if (num_arg("lat", opt(o, "lat"), -90, 90, &g.lat) || num_arg("lon", opt(o, "lon"), -180, 180, &g.lon)) return 1;
        if (opt(o, "alt") && num_arg("alt", opt(o, "alt"), -1000, 100000, &alt)) return 1;
        g.alt = (int32_t)lround(alt);
        g.has_location = true;
    }
    char err[320] = "";
    int rc = lw_reg_gw_add(r, &g, err, sizeof err);
    if (rc) return reg_fail(rc, err, "gateway");
    if (o->json) {
        if (lw_reg_gw_get(r, g.eui, &g) == 0) print_json(lw_json_gw(&g));
    } else {
        char h[17];
        lw_hex_format(g.eui, 8, h, 1);
        lw_reg_gw_get(r, g.eui, &g);
        printf("created gateway %s (EUI %s)\n", g.gw_id, h);
    }
    return 0;
}

typedef struct { json_t *arr; int n; } gw_list_ctx;

static int gw_list_cb(void *ud, const lw_gw_rec *g) {
    gw_list_ctx *x = ud;
    if (x->arr) json_array_append_new(x->arr, lw_json_gw(g));
    else {
        if (x->n == 0) printf("%-16s  %-36s  %-30s  %s\n", "EUI", "GATEWAY", "LOCATION", "NAME");
        char h[17], loc[64] = "-";
        lw_hex_format(g->eui, 8, h, 1);
        if (g->has_location) snprintf(loc, sizeof loc, "%.6f,%.6f,%d", g->lat, g->lon, (int)g->alt);
        printf("%-16s  %-36s  %-30s  %s\n", h, g->gw_id, loc, g->name);
    }
    x->n++;
    return 0;
}

static int gw_list(const cmd *c, opts *o, lw_registry *r) {
    gw_list_ctx x = {o->json ? json_array() : NULL, 0};
    int rc = lw_reg_gw_list(r, gw_list_cb, &x);
    if (rc) { json_decref(x.arr); return reg_fail(rc, NULL, "list gateways"); }
    if (o->json) print_json(json_pack("{s:o}", "gateways", x.arr));
    else if (x.n == 0) fprintf(stderr, "no gateways\n");
    (void)c;
    return 0;
}

static int gw_show(const cmd *c, opts *o, lw_registry *r) {
    uint8_t eui[8];
    if (eui_gw_arg(opt(o, "eui"), eui)) return 1;
    lw_gw_rec g;
    int rc = lw_reg_gw_get(r, eui, &g);
    if (rc == LW_REG_NOTFOUND) return fail("gateway %s not found", opt(o, "eui"));
    if (rc) return reg_fail(rc, NULL, "gateway");
    if (o->json) print_json(lw_json_gw(&g));
    else {
        gw_list_ctx x = {NULL, 0};
        gw_list_cb(&x, &g);
    }
    (void)c;
    return 0;
}

static int gw_remove(const cmd *c, opts *o, lw_registry *r) {
    uint8_t eui[8];
    if (eui_gw_arg(opt(o, "eui"), eui)) return 1;
    int rc = lw_reg_gw_remove(r, eui);
    if (rc == LW_REG_NOTFOUND) return fail("gateway %s not found", opt(o, "eui"));
    if (rc) return reg_fail(rc, NULL, "remove gateway");
    printf("removed gateway %s\n", opt(o, "eui"));
    (void)c;
    return 0;
}

static const cmd CMDS[] = {
    {"app", "add", "app,name,formatter", "app", "--app APP [--name N] [--formatter none|lpp|js:FILE] [--json]", app_add},
    {"app", "list", "", "", "[--json]", app_list},
    {"app", "show", "app", "app", "--app APP [--json]", app_show},
    {"app", "remove", "app", "app", "--app APP", app_remove},
    {"app", "key-new", "app", "app", "--app APP [--json]", app_key_new},
    {"device", "add",
     "app,dev,dev-eui,join-eui,app-key,formatter,region,mac-version,class,no-adr,name,dev-addr,nwk-s-key,app-s-key,relax-fcnt",
     "app,dev",
     "--app APP --dev DEV --dev-eui HEX --join-eui HEX --app-key HEX [--formatter inherit|none|lpp|js:FILE]\n"
     "        [--region EU868|US915] [--mac-version 1.0.2|1.0.3|1.0.4] [--class A] [--no-adr] [--name N] [--json]\n"
     "   ABP: --dev-addr HEX --nwk-s-key HEX --app-s-key HEX [--relax-fcnt] instead of --app-key",
     dev_add},
    {"device", "list", "app", "", "[--app APP] [--json]", dev_list},
    {"device", "show", "app,dev", "app,dev", "--app APP --dev DEV [--json]", dev_show},
    {"device", "remove", "app,dev", "app,dev", "--app APP --dev DEV", dev_remove},
    {"gateway", "add", "eui,id,name,lat,lon,alt", "eui", "--eui HEX [--id ID] [--name N] [--lat DEG --lon DEG [--alt M]] [--json]", gw_add},
    {"gateway", "list", "", "", "[--json]", gw_list},
    {"gateway", "show", "eui", "eui", "--eui HEX [--json]", gw_show},
    {"gateway", "remove", "eui", "eui", "--eui HEX", gw_remove},
};
#define NCMDS (sizeof CMDS / sizeof CMDS[0])

static void usage(FILE *f, const char *obj) {
    fprintf(f, "usage: " P " <app|device|gateway> <command> [options]\n\n");
    for (size_t i = 0; i < NCMDS; i++)
        if (!obj || !strcmp(obj, CMDS[i].obj)) fprintf(f, "  " P " %s %s %s\n", CMDS[i].obj, CMDS[i].verb, CMDS[i].usage);
    fprintf(f, "\ncommon options:\n"
               "  --data-dir DIR   the server's data directory (default: data_dir of --config, else ./data);\n"
               "                   the registry is DIR/lorawan.db, shared with a running server\n"
               "  --config FILE    read data_dir from a tinyedge INI file\n"
               "  --json           JSON output (list/show/add)\n"
               "Keys are never printed; an application's API key is printed once, when it is created.\n"
               "Exit status: 0 ok, 1 error, 2 usage.\n");
}

int cli_lorawan(int argc, char **argv) {
    if (argc < 2) { usage(stderr, NULL); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) { usage(stdout, NULL); return 0; }
    const char *obj = argv[1];
    if (!strcmp(obj, "dev") || !strcmp(obj, "devices")) obj = "device";
    if (!strcmp(obj, "application") || !strcmp(obj, "apps")) obj = "app";
    if (!strcmp(obj, "gw") || !strcmp(obj, "gateways")) obj = "gateway";
    bool known = false;
    for (size_t i = 0; i < NCMDS; i++) known = known || !strcmp(CMDS[i].obj, obj);
    if (!known) { fprintf(stderr, P ": unknown object '%s' (app, device or gateway)\n", argv[1]); usage(stderr, NULL); return 2; }
    if (argc < 3) { usage(stderr, obj); return 2; }
    if (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h") || !strcmp(argv[2], "help")) { usage(stdout, obj); return 0; }
    const cmd *c = NULL;
    for (size_t i = 0; i < NCMDS; i++)
        if (!strcmp(CMDS[i].obj, obj) && !strcmp(CMDS[i].verb, argv[2])) c = &CMDS[i];
    if (!c) { fprintf(stderr, P ": unknown command '%s %s'\n", obj, argv[2]); usage(stderr, obj); return 2; }
    opts o;
    memset(&o, 0, sizeof o);
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { o.help = true; continue; }
        if (strncmp(a, "--", 2) || !a[2]) return usage_err(c, "unexpected argument '%s'", a);
        if (o.n == MAX_OPTS) return usage_err(c, "%s", "too many options");
        char name[32];
        const char *eq = strchr(a, '='), *val = NULL;
        size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (nl >= sizeof name) return usage_err(c, "unknown option '%s'", a);
        memcpy(name, a + 2, nl);
        name[nl] = 0;
        bool common = !strcmp(name, "data-dir") || !strcmp(name, "config");
        if (!common && !in_list(FLAGS, name) && !in_list(c->allowed, name)) return usage_err(c, "unknown option '%s'", a);
        if (!strcmp(name, "json") || (in_list(FLAGS, name) && in_list(c->allowed, name))) {
            if (eq) return usage_err(c, "option --%s takes no value", name);
            if (!strcmp(name, "json")) o.json = true;
            val = "1";
        } else if (in_list(FLAGS, name)) {
            return usage_err(c, "unknown option '%s'", a);
        } else if (eq) val = eq + 1;
        else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2)) val = argv[++i]; /* --opt=--x for such a value */
        else return usage_err(c, "option --%s needs a value", name);
        snprintf(o.o[o.n].k, sizeof o.o[o.n].k, "%s", name);
        o.o[o.n++].v = val;
    }
    int rc = 2;
    lw_registry *r = NULL;
    te_config cfg;
    te_config_init(&cfg);
    if (o.help) {
        printf("usage: " P " %s %s %s\n", c->obj, c->verb, c->usage);
        printf("  common: [--data-dir DIR | --config FILE]\n");
        rc = 0;
        goto out;
    }
    char missing[64] = "";
    for (const char *p = c->required; *p;) {
        size_t n = strcspn(p, ",");
        char k[32];
        snprintf(k, sizeof k, "%.*s", (int)n, p);
        if (!opt(&o, k) && !missing[0]) snprintf(missing, sizeof missing, "--%s", k);
        p += n + (p[n] == ',');
    }
    if (missing[0]) { rc = usage_err(c, "missing %s", missing); goto out; }
    char err[512] = "";
    if (opt(&o, "config") && te_config_load_ini(&cfg, opt(&o, "config"), err, sizeof err)) { rc = fail("%s", err); goto out; }
    const char *dir = opt(&o, "data-dir") ? opt(&o, "data-dir") : cfg.data_dir;
    if (!dir || !*dir) { rc = usage_err(c, "%s", "--data-dir is empty"); goto out; }
    if (lw_reg_open(dir, &r, err, sizeof err)) { rc = fail("%s", err); goto out; }
    rc = c->run(c, &o, r);
out:
    lw_reg_close(r);
    te_config_free(&cfg);
    return rc;
}
