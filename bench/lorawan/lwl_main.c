/* bench/lorawan/lwl_main.c: te_lw_load's command line.
 *   te_lw_load register --data-dir D --devices N [--formatter lpp|none]
 *   te_lw_load run --udp-port U --mqtt-port M [--devices N] [--gateways G] [--rate R] [--duration S]
 *                  [--window W] [--batch B] [--pool N] [--fcnt-base F] [--drain S] [--dedup-ms MS]
 *                  [--server-pid PID] [--seed X] [--label L] [--json-only]
 * Exit status: 0 ok, 1 the run had errors (bad messages, send errors), 2 usage or setup failure. */
#include "lwl.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: te_lw_load register --data-dir DIR --devices N [--formatter lpp|none]\n"
            "       te_lw_load run --udp-port PORT --mqtt-port PORT [options]\n"
            "run options:\n"
            "  --host ADDR        server address (127.0.0.1)\n"
            "  --devices N        devices registered by `register` (10000); uplinks pick one at random\n"
            "  --gateways G       gateways hearing every uplink, 1..8 (3)\n"
            "  --rate R           unique uplinks per second; 0 = as fast as PUSH_ACKs allow (0)\n"
            "  --duration S       seconds of sending (10)\n"
            "  --window W         --rate 0: PUSH_DATA datagrams in flight before waiting for acks (96)\n"
            "  --batch B          --rate 0: uplinks sent per sendmmsg and gateway, 1..64 (8)\n"
            "  --pool N           --rate 0: uplinks pre-built (duration x 100000)\n"
            "  --fcnt-base F      first FCnt of every device (0)\n"
            "  --drain S          max seconds to wait for the last uplinks after sending (5)\n"
            "  --dedup-ms MS      the server's dedup window, subtracted in after_window_* (200)\n"
            "  --server-pid PID   sample the server's RSS and CPU from /proc\n"
            "  --seed X           device choice seed\n"
            "  --label TEXT       copied into the JSON\n"
            "  --json-only        print only the JSON line\n");
}

static int num(const char *s, double lo, double hi, double *out) {
    char *e;
    double v = strtod(s, &e);
    if (!*s || *e || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    lwl_opts o = {.mode = argv[1], .devices = 10000, .host = "127.0.0.1", .gateways = 3, .duration = 10,
                  .window = 96, .batch = 8, .drain = 5, .dedup_ms = 200, .formatter = "lpp"};
    if (strcmp(o.mode, "register") && strcmp(o.mode, "run")) {
        fprintf(stderr, "te_lw_load: unknown mode '%s'\n", o.mode);
        usage(stderr);
        return 2;
    }
    static const struct option lo[] = {
        {"data-dir", 1, 0, 'D'}, {"devices", 1, 0, 'n'},  {"formatter", 1, 0, 'F'}, {"host", 1, 0, 'H'},
        {"udp-port", 1, 0, 'u'}, {"mqtt-port", 1, 0, 'm'}, {"gateways", 1, 0, 'g'}, {"rate", 1, 0, 'r'},
        {"duration", 1, 0, 'd'}, {"window", 1, 0, 'w'}, {"batch", 1, 0, 'b'},    {"pool", 1, 0, 'P'},     {"fcnt-base", 1, 0, 'f'},
        {"drain", 1, 0, 'x'},    {"dedup-ms", 1, 0, 'W'},  {"server-pid", 1, 0, 'p'}, {"seed", 1, 0, 's'},
        {"label", 1, 0, 'l'},    {"json-only", 0, 0, 'j'}, {"help", 0, 0, 'h'},     {0, 0, 0, 0}};
    optind = 2;
    int c, li = 0;
    double v;
    while ((c = getopt_long(argc, argv, "", lo, &li)) != -1) {
        int bad = 0;
        switch (c) {
        case 'D': o.data_dir = optarg; break;
        case 'F':
            o.formatter = optarg;
            bad = strcmp(optarg, "lpp") && strcmp(optarg, "none");
            break;
        case 'H': o.host = optarg; break;
        case 'n': bad = num(optarg, 1, 16000000, &v) || (o.devices = (uint32_t)v, 0); break;
        case 'u': bad = num(optarg, 1, 65535, &v) || (o.udp_port = (int)v, 0); break;
        case 'm': bad = num(optarg, 1, 65535, &v) || (o.mqtt_port = (int)v, 0); break;
        case 'g': bad = num(optarg, 1, 8, &v) || (o.gateways = (int)v, 0); break;
        case 'r': bad = num(optarg, 0, 10000000, &v) || (o.rate = v, 0); break;
        case 'd': bad = num(optarg, 0.01, 3600, &v) || (o.duration = v, 0); break;
        case 'w': bad = num(optarg, 1, 1000000, &v) || (o.window = (uint32_t)v, 0); break;
        case 'b': bad = num(optarg, 1, 64, &v) || (o.batch = (uint32_t)v, 0); break;
        case 'P': bad = num(optarg, 1, 50000000, &v) || (o.pool = (uint64_t)v, 0); break;
        case 'f': bad = num(optarg, 0, 4000000000.0, &v) || (o.fcnt_base = (uint32_t)v, 0); break;
        case 'x': bad = num(optarg, 0, 600, &v) || (o.drain = v, 0); break;
        case 'W': bad = num(optarg, 0, 60000, &v) || (o.dedup_ms = (uint32_t)v, 0); break;
        case 'p': bad = num(optarg, 1, 1 << 30, &v) || (o.server_pid = (int)v, 0); break;
        case 's': bad = num(optarg, 0, 1e18, &v) || (o.seed = (uint64_t)v, 0); break;
        case 'l': o.label = optarg; break;
        case 'j': o.json_only = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (bad) {
            fprintf(stderr, "te_lw_load: bad value '%s' for --%s\n", optarg, lo[li].name);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "te_lw_load: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!strcmp(o.mode, "register")) return lwl_register(&o) ? 2 : 0;
    if (!o.udp_port || !o.mqtt_port) {
        fprintf(stderr, "te_lw_load run: --udp-port and --mqtt-port are required\n");
        return 2;
    }
    return lwl_run(&o);
}
