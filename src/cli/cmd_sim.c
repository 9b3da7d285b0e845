/* tinyedge sim: plays LoRaWAN end devices and Semtech UDP packet-forwarder gateways against a network
 * server, over UDP only (one socket per gateway, so the server sees distinct addresses). The world
 * (devices, gateways, radio) is the sans-I/O engine of src/sim/sim.h; this file owns the libuv loop,
 * the sockets, the clock, registration through the registry (--data-dir), CSV replay and the summary
 * and JSON report. Unanswered PUSH_DATA and garbage from the server are counted, never fatal. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/time.h>
#include <uv.h>

#include "cli/cli.h"
#include "lorawan/lpp.h"
#include "lorawan/registry.h"
#include "sim/sim.h"

typedef struct {
    uv_loop_t *loop;
    lw_sim *sim;
    uv_udp_t *socks;
    unsigned n_gw;
    struct sockaddr_storage server;
    uv_timer_t tick, stop;
    uv_signal_t sigint, sigterm;
    uint64_t t0;
    bool verbose, stopping, handles; /* handles: timers and signals initialised */
    uint64_t sent, send_errors, received;
} sim_ctx;

/* CSV replay: rows of readings; a "device" column assigns rows to devices, else rows go round-robin */
typedef struct {
    int col_dev, col_temp, col_hum, col_light, col_batt;
    size_t n_rows;
    double (*rows)[5]; /* device, temperature, humidity, light, battery (NAN = absent) */
    size_t cursor;
    size_t *dev_cursor;
    unsigned n_dev;
} csv_data;

static uint64_t now_us(const sim_ctx *c) { return uv_hrtime() / 1000 - c->t0; }

static void usage(FILE *f) {
    fprintf(f,
            "usage: tinyedge sim [options]\n\n"
            "Plays LoRaWAN class A end devices and Semtech UDP packet-forwarder gateways against a network\n"
            "server, over UDP only.\n\n"
            "  --server HOST:PORT      network server's packet-forwarder port (127.0.0.1:1700)\n"
            "  --devices N             simulated end devices (10)\n"
            "  --gateways M            simulated gateways, one UDP socket each (1)\n"
            "  --app APP               application id the devices are registered under (sim)\n"
            "  --data-dir DIR          register application, devices and gateways in DIR's registry\n"
            "  --abp                   ABP instead of OTAA\n"
            "  --interval SECONDS      mean uplink period per device, jittered 0.5..1.5x (60)\n"
            "  --duration SECONDS      stop after this long; 0 = until SIGINT (0)\n"
            "  --confirmed-every K     every Kth uplink of a device is confirmed (0 = none)\n"
            "  --radius M              devices are placed in a disc of this radius, metres (2000)\n"
            "  --seed S                PRNG seed: positions, keys, EUIs (1)\n"
            "  --dr DR                 initial data rate (default: per device, from its link budget)\n"
            "  --no-adr                devices do not set the ADR bit\n"
            "  --csv FILE              replay readings from a CSV (columns: device, temperature, humidity,\n"
            "                          light, battery) instead of synthetic sensors\n"
            "  --region EU868|US915    (EU868)\n"
            "  --report FILE           write a JSON report (summary, gateways, devices, events)\n"
            "  -v                      one line per event\n");
}

static int parse_server(const char *s, struct sockaddr_storage *out, char *err, size_t errlen) {
    char host[256];
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || strlen(s) >= sizeof host) {
        snprintf(err, errlen, "--server: want HOST:PORT, got \"%s\"", s);
        return -1;
    }
    size_t hl = (size_t)(colon - s);
    memcpy(host, s, hl);
    host[hl] = 0;
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = 0;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port <= 0 || port > 65535) {
        snprintf(err, errlen, "--server: bad port \"%s\"", colon + 1);
        return -1;
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc || !res) {
        snprintf(err, errlen, "--server: cannot resolve \"%s\": %s", host, gai_strerror(rc));
        return -1;
    }
    memset(out, 0, sizeof *out);
    memcpy(out, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

/* ---- CSV replay ---- */

static int csv_col(const char *name) {
    static const char *const names[][3] = {{"device", "dev", "device_index"},
                                           {"temperature", "temp", "temperature_c"},
                                           {"humidity", "relative_humidity", "hum"},
                                           {"light", "luminosity", "lux"},
                                           {"battery", "battery_v", "voltage"}};
    for (int k = 0; k < 5; k++)
        for (int j = 0; j < 3; j++)
            if (!strcasecmp(name, names[k][j])) return k;
    return -1;
}

static void trim(char *s) {
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    size_t i = 0;
    while (s[i] && isspace((unsigned char)s[i])) i++;
    memmove(s, s + i, strlen(s + i) + 1);
    n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        memmove(s, s + 1, n - 2);
        s[n - 2] = 0;
    }
}

static int csv_load(const char *path, unsigned n_dev, csv_data *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "--csv %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int map[64];
    int ncols = 0;
    bool any = false;
    size_t lineno = 0, cap = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || strspn(line, " \t\r\n") == strlen(line)) continue;
        char *save = NULL;
        int col = 0;
        if (!ncols) {
            for (char *tok = strtok_r(line, ",", &save); tok && col < 64; tok = strtok_r(NULL, ",", &save), col++) {
                trim(tok);
                map[col] = csv_col(tok);
                if (map[col] > 0) any = true;
            }
            ncols = col;
            if (!any) {
                snprintf(err, errlen, "--csv %s: the header names none of temperature, humidity, light, battery", path);
                fclose(f);
                return -1;
            }
            continue;
        }
        if (c->n_rows == cap) {
            cap = cap ? cap * 2 : 256;
            void *p = realloc(c->rows, cap * sizeof *c->rows);
            if (!p) {
                snprintf(err, errlen, "out of memory");
                fclose(f);
                return -1;
            }
            c->rows = p;
        }
        double *row = c->rows[c->n_rows];
        for (int k = 0; k < 5; k++) row[k] = NAN;
        for (char *tok = strtok_r(line, ",", &save); tok && col < ncols; tok = strtok_r(NULL, ",", &save), col++) {
            trim(tok);
            if (map[col] < 0 || !*tok) continue;
            char *end;
            double v = strtod(tok, &end);
            if (*end) {
                snprintf(err, errlen, "--csv %s:%zu: \"%s\" is not a number", path, lineno, tok);
                fclose(f);
                return -1;
            }
            row[map[col]] = v;
        }
        c->n_rows++;
    }
    fclose(f);
    if (!c->n_rows) {
        snprintf(err, errlen, "--csv %s: no data rows", path);
        return -1;
    }
    c->n_dev = n_dev;
    c->dev_cursor = calloc(n_dev, sizeof *c->dev_cursor);
    if (!c->dev_cursor) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int csv_payload(void *ud, unsigned dev, uint8_t *out, size_t cap) {
    csv_data *c = ud;
    const double *row = NULL;
    if (!isnan(c->rows[0][0])) { /* rows carry a device column: this device's next row, wrapping */
        for (size_t k = 0; k < c->n_rows && !row; k++) {
            size_t idx = (c->dev_cursor[dev] + k) % c->n_rows;
            if (!isnan(c->rows[idx][0]) && (unsigned)c->rows[idx][0] == dev) {
                row = c->rows[idx];
                c->dev_cursor[dev] = idx + 1;
            }
        }
        if (!row) return 0;
    } else {
        row = c->rows[c->cursor++ % c->n_rows];
    }
    lw_lpp_writer w;
    lw_lpp_writer_init(&w, out, cap);
    if (!isnan(row[1])) lw_lpp_add_temperature(&w, 1, row[1]);
    if (!isnan(row[2])) lw_lpp_add_relative_humidity(&w, 2, row[2]);
    if (!isnan(row[3]) && row[3] >= 0 && row[3] <= 65535) lw_lpp_add_luminosity(&w, 3, (uint16_t)row[3]);
    if (!isnan(row[4])) lw_lpp_add_analog_in(&w, 4, row[4]);
    return (int)w.len;
}

/* ---- registration ---- */

static int register_all(const char *dir, const char *app, const lw_sim_config *c, uint16_t *nonces, char *err,
                        size_t errlen) {
    lw_registry *r = NULL;
    if (lw_reg_open(dir, &r, err, errlen)) return -1;
    int rc = 0;
    lw_app_rec a;
    memset(&a, 0, sizeof a);
    snprintf(a.app_id, sizeof a.app_id, "%s", app);
    snprintf(a.name, sizeof a.name, "tinyedge sim");
    a.fmt = LW_FMT_LPP;
    int x = lw_reg_app_add(r, &a, NULL, 0, err, errlen);
    if (x && x != LW_REG_EXISTS) {
        rc = -1;
        goto out;
    }
    unsigned added = 0, existing = 0;
    for (unsigned i = 0; i < c->n_devices; i++) {
        lw_sim_identity id;
        lw_sim_identity_of(c, i, &id);
        lw_dev_rec d;
        memset(&d, 0, sizeof d);
        snprintf(d.app_id, sizeof d.app_id, "%s", app);
        snprintf(d.dev_id, sizeof d.dev_id, "%s", id.dev_id);
        snprintf(d.name, sizeof d.name, "simulated device %u", i);
        memcpy(d.dev_eui, id.dev_eui, 8);
        memcpy(d.join_eui, id.join_eui, 8);
        d.otaa = !c->abp;
        if (d.otaa) memcpy(d.app_key, id.app_key, 16);
        d.mac_minor = 4;
        snprintf(d.region, sizeof d.region, "%s", c->region->name);
        d.dev_class = 'A';
        d.adr = c->adr;
        d.abp_relax_fcnt = true; /* a rerun starts its ABP frame counters at 0 again */
        d.fmt = LW_FMT_INHERIT;
        if (c->abp) {
            d.s.active = true;
            d.s.dev_addr = id.dev_addr;
            memcpy(d.s.nwk_s_key, id.nwk_s_key, 16);
            memcpy(d.s.app_s_key, id.app_s_key, 16);
            d.s.nb_trans = 1;
            d.s.rx1_delay_s = 1;
            d.s.rx2_dr = c->region->rx2_dr;
            d.s.rx2_freq_hz = c->region->rx2_freq_hz;
        }
        x = lw_reg_dev_add(r, &d, err, errlen);
        if (x == LW_REG_EXISTS) {
            existing++;
            lw_dev_rec old;
            memset(&old, 0, sizeof old);
            if (lw_reg_dev_get(r, app, id.dev_id, &old) == 0) {
                if (old.otaa != d.otaa || memcmp(old.dev_eui, d.dev_eui, 8) ||
                    (d.otaa && memcmp(old.app_key, d.app_key, 16)) ||
                    (!d.otaa && (old.s.dev_addr != d.s.dev_addr || memcmp(old.s.nwk_s_key, d.s.nwk_s_key, 16)))) {
                    /* same id, other activation or keys (e.g. --abp after an OTAA run): re-register */
                    if (lw_reg_dev_update(r, &d, err, errlen)) {
                        lw_dev_rec_clear(&old);
                        rc = -1;
                        goto out;
                    }
                } else if (nonces && d.otaa) {
                    nonces[i] = (uint16_t)(old.s.last_dev_nonce + 1 + 16); /* past what the server saw */
                }
                lw_dev_rec_clear(&old);
            }
        } else if (x) {
            rc = -1;
            goto out;
        } else {
            added++;
        }
    }
    unsigned gws = 0;
    for (unsigned j = 0; j < c->n_gateways; j++) {
        lw_gw_rec g;
        memset(&g, 0, sizeof g);
        lw_sim_gw_eui(c, j, g.eui);
        char hex[17];
        lw_hex_format(g.eui, 8, hex, 0);
        snprintf(g.gw_id, sizeof g.gw_id, "eui-%s", hex);
        snprintf(g.name, sizeof g.name, "simulated gateway %u", j);
        x = lw_reg_gw_add(r, &g, err, errlen);
        if (x && x != LW_REG_EXISTS) {
            rc = -1;
            goto out;
        }
        gws += x == 0;
    }
    fprintf(stderr, "sim: registry %s: application %s, %u devices added (%u already there), %u gateways added\n", dir,
            app, added, existing, gws);
    if (added || gws) {
        /* a running server follows the registry once a second: let it see these before traffic starts */
        fprintf(stderr, "sim: waiting 1.5 s for a running server to pick up the registrations\n");
        usleep(1500000);
    }
out:
    lw_reg_close(r);
    return rc;
}

/* ---- the loop ---- */

static void log_line(void *ud, const char *line) {
    (void)ud;
    printf("%s\n", line);
    fflush(stdout);
}

static void pump(sim_ctx *c);

static void on_tick(uv_timer_t *t) { pump(t->data); }

static void pump(sim_ctx *c) {
    if (c->stopping) return;
    uint64_t now = now_us(c);
    lw_sim_step(c->sim, now);
    static uint8_t buf[65536];
    size_t len;
    unsigned gw;
    while (lw_sim_poll_out(c->sim, now, &gw, buf, sizeof buf, &len) == 1) {
        uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
        int rc = uv_udp_try_send(&c->socks[gw], &b, 1, (const struct sockaddr *)&c->server);
        if (rc < 0) {
            c->send_errors++;
            if (c->verbose) printf("t=%.3f gw=%u send failed: %s\n", now / 1e6, gw, uv_strerror(rc));
        } else {
            c->sent++;
        }
    }
    uint64_t next = lw_sim_next_us(c->sim), after = now_us(c);
    uint64_t ms = next <= after ? 0 : (next - after + 999) / 1000;
    if (ms > 1000) ms = 1000;
    uv_timer_start(&c->tick, on_tick, ms, 0);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)h;
    (void)suggested;
    static char rbuf[65536];
    *buf = uv_buf_init(rbuf, sizeof rbuf);
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr, unsigned flags) {
    (void)flags;
    sim_ctx *c = h->loop->data;
    if (nread <= 0 || !addr) return;
    unsigned gw = (unsigned)(uintptr_t)h->data;
    c->received++;
    lw_sim_input(c->sim, gw, now_us(c), (const uint8_t *)buf->base, (size_t)nread);
    pump(c);
}

static void stop_all(sim_ctx *c) {
    if (c->stopping) return;
    c->stopping = true;
    if (!c->handles) return;
    uv_timer_stop(&c->tick);
    uv_timer_stop(&c->stop);
    uv_signal_stop(&c->sigint);
    uv_signal_stop(&c->sigterm);
    for (unsigned j = 0; j < c->n_gw; j++) uv_udp_recv_stop(&c->socks[j]);
    uv_stop(c->loop);
}

static void on_stop(uv_timer_t *t) { stop_all(t->data); }
static void on_signal(uv_signal_t *s, int signum) {
    (void)signum;
    stop_all(s->data);
}

static int arg_num(const char *opt, const char *v, double lo, double hi, double *out) {
    char *end;
    if (!v) {
        fprintf(stderr, "tinyedge sim: %s needs a value\n", opt);
        return -1;
    }
    double x = strtod(v, &end);
    if (*end || end == v || !(x >= lo && x <= hi)) {
        fprintf(stderr, "tinyedge sim: %s: \"%s\" is not a number in %g..%g\n", opt, v, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

static void close_one(uv_handle_t *h, void *arg) {
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

int cli_sim(int argc, char **argv) {
    lw_sim_config cfg;
    lw_sim_config_default(&cfg);
    const char *server = "127.0.0.1:1700", *app = "sim", *data_dir = NULL, *csv = NULL, *report = NULL;
    double duration = 0;
    bool verbose = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            verbose = true;
        } else if (!strcmp(a, "--abp")) {
            cfg.abp = true;
        } else if (!strcmp(a, "--no-adr")) {
            cfg.adr = false;
        } else if (!strcmp(a, "--server") && v) {
            server = v, i++;
        } else if (!strcmp(a, "--app") && v) {
            app = v, i++;
        } else if (!strcmp(a, "--data-dir") && v) {
            data_dir = v, i++;
        } else if (!strcmp(a, "--csv") && v) {
            csv = v, i++;
        } else if (!strcmp(a, "--report") && v) {
            report = v, i++;
        } else if (!strcmp(a, "--region") && v) {
            cfg.region = lw_region_get(v);
            if (!cfg.region) {
                fprintf(stderr, "tinyedge sim: --region: unknown region \"%s\" (EU868 or US915)\n", v);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--devices")) {
            if (arg_num(a, v, 1, 65535, &x)) return 2;
            cfg.n_devices = (unsigned)x, i++;
        } else if (!strcmp(a, "--gateways")) {
            if (arg_num(a, v, 1, 255, &x)) return 2;
            cfg.n_gateways = (unsigned)x, i++;
        } else if (!strcmp(a, "--interval")) {
            if (arg_num(a, v, 0.01, 1e7, &x)) return 2;
            cfg.interval_s = x, i++;
        } else if (!strcmp(a, "--duration")) {
            if (arg_num(a, v, 0, 1e9, &x)) return 2;
            duration = x, i++;
        } else if (!strcmp(a, "--confirmed-every")) {
            if (arg_num(a, v, 0, 1e9, &x)) return 2;
            cfg.confirmed_every = (unsigned)x, i++;
        } else if (!strcmp(a, "--radius")) {
            if (arg_num(a, v, 1, 1e6, &x)) return 2;
            cfg.radius_m = x, i++;
        } else if (!strcmp(a, "--seed")) {
            if (arg_num(a, v, 0, 1e15, &x)) return 2;
            cfg.seed = (uint64_t)x, i++;
        } else if (!strcmp(a, "--dr")) {
            if (arg_num(a, v, 0, 15, &x)) return 2;
            cfg.dr = (int)x, i++;
        } else {
            fprintf(stderr, "tinyedge sim: unknown option or missing value: %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!lw_id_valid(app)) {
        fprintf(stderr, "tinyedge sim: --app: \"%s\" is not a valid id (2..36 of a-z 0-9 -)\n", app);
        return 2;
    }
    char err[512];
    sim_ctx c;
    memset(&c, 0, sizeof c);
    c.verbose = verbose;
    if (parse_server(server, &c.server, err, sizeof err)) {
        fprintf(stderr, "tinyedge sim: %s\n", err);
        return 2;
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    cfg.wall_base_us = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
    csv_data cd;
    memset(&cd, 0, sizeof cd);
    if (csv) {
        if (csv_load(csv, cfg.n_devices, &cd, err, sizeof err)) {
            fprintf(stderr, "tinyedge sim: %s\n", err);
            free(cd.rows);
            free(cd.dev_cursor);
            return 2;
        }
        cfg.payload = csv_payload;
        cfg.payload_ud = &cd;
    }
    uint16_t *nonces = calloc(cfg.n_devices, sizeof *nonces);
    if (!nonces) return 1;
    for (unsigned i = 0; i < cfg.n_devices; i++) nonces[i] = (uint16_t)((cfg.wall_base_us / 1000000u) * 4u + i * 7919u);
    cfg.dev_nonces = nonces;
    if (data_dir && register_all(data_dir, app, &cfg, nonces, err, sizeof err)) {
        fprintf(stderr, "tinyedge sim: registry: %s\n", err);
        free(nonces);
        free(cd.rows);
        free(cd.dev_cursor);
        return 1;
    }
    if (verbose) cfg.log = log_line;
    uv_loop_t loop;
    uv_loop_init(&loop);
    loop.data = &c;
    c.loop = &loop;
    c.t0 = uv_hrtime() / 1000;
    int rc = 1;
    if (lw_sim_init(&c.sim, &cfg, 0, err, sizeof err)) {
        fprintf(stderr, "tinyedge sim: %s\n", err);
        goto done;
    }
    c.n_gw = cfg.n_gateways;
    c.socks = calloc(c.n_gw, sizeof *c.socks);
    if (!c.socks) goto done;
    for (unsigned j = 0; j < c.n_gw; j++) {
        uv_udp_init(&loop, &c.socks[j]);
        c.socks[j].data = (void *)(uintptr_t)j;
        struct sockaddr_storage any;
        memset(&any, 0, sizeof any);
        if (c.server.ss_family == AF_INET6)
            uv_ip6_addr("::", 0, (struct sockaddr_in6 *)&any);
        else
            uv_ip4_addr("0.0.0.0", 0, (struct sockaddr_in *)&any);
        int e = uv_udp_bind(&c.socks[j], (const struct sockaddr *)&any, 0);
        if (!e) e = uv_udp_recv_start(&c.socks[j], on_alloc, on_recv);
        if (e) {
            fprintf(stderr, "tinyedge sim: gateway %u: UDP socket: %s\n", j, uv_strerror(e));
            goto done;
        }
    }
    uv_timer_init(&loop, &c.tick);
    c.tick.data = &c;
    uv_timer_init(&loop, &c.stop);
    c.stop.data = &c;
    uv_signal_init(&loop, &c.sigint);
    c.sigint.data = &c;
    uv_signal_init(&loop, &c.sigterm);
    c.sigterm.data = &c;
    c.handles = true;
    uv_signal_start(&c.sigint, on_signal, SIGINT);
    uv_signal_start(&c.sigterm, on_signal, SIGTERM);
    if (duration > 0) uv_timer_start(&c.stop, on_stop, (uint64_t)(duration * 1000), 0);
    fprintf(stderr, "sim: %u devices (%s, %s), %u gateways -> %s%s\n", cfg.n_devices, cfg.abp ? "ABP" : "OTAA",
            cfg.region->name, cfg.n_gateways, server, duration > 0 ? "" : "; Ctrl-C stops");
    pump(&c);
    uv_run(&loop, UV_RUN_DEFAULT);
    lw_sim_write_summary(c.sim, stdout);
    printf("  udp: %llu datagrams sent (%llu send errors), %llu received\n", (unsigned long long)c.sent,
           (unsigned long long)c.send_errors, (unsigned long long)c.received);
    fflush(stdout);
    rc = 0;
    if (report) {
        FILE *f = fopen(report, "w");
        if (!f || lw_sim_write_report(c.sim, f) != 0) {
            fprintf(stderr, "tinyedge sim: --report %s: %s\n", report, strerror(errno));
            rc = 1;
        }
        if (f) fclose(f);
    }
done:
    stop_all(&c);
    uv_walk(&loop, close_one, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    free(c.socks);
    lw_sim_free(c.sim);
    free(nonces);
    free(cd.rows);
    free(cd.dev_cursor);
    return rc;
}
