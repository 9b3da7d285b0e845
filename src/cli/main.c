/* tinyedge: the one binary. Dispatches to a subcommand (serve, broker, ...), each in its own file. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"

static const struct { const char *name, *help; int (*run)(int, char **); } cmds[] = {
    {"serve", "run every service (MQTT broker, HTTP API) on one event loop", cli_serve},
    {"broker", "run the MQTT broker alone, mosquitto-compatible options", cli_broker},
    {"lorawan", "manage LoRaWAN applications, devices and gateways (the registry)", cli_lorawan},
    {"sim", "simulate LoRaWAN end devices and packet-forwarder gateways against a server", cli_sim},
};

static void usage(FILE *f) {
    fprintf(f, "usage: tinyedge <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
    fprintf(f, "\n  tinyedge <command> --help   options of a command\n  tinyedge --version\n");
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) { printf("tinyedge %s\n", TE_VERSION); return 0; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) { usage(stdout); return 0; }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(argv[1], cmds[i].name)) return cmds[i].run(argc - 1, argv + 1);
    fprintf(stderr, "tinyedge: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
