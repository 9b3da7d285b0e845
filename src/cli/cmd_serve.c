/* tinyedge serve: every service on one loop, configured by flags and/or an INI file. */
#include <stdio.h>
#include <string.h>
#include "base/log.h"
#include "cli/cli.h"
#include "server/config.h"
#include "server/server.h"

int cli_set_log_level(const char *name) {
    static const char *names[] = {"debug", "info", "notice", "warn", "error"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(name, names[i])) { te_log_set_level(i); return 0; }
    return -1;
}

int cli_serve(int argc, char **argv) {
    te_config cfg;
    te_config_init(&cfg);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: tinyedge serve [options]\n\nRuns the MQTT broker and the HTTP API on one event loop.\n\n");
            te_config_usage(stdout);
            te_config_free(&cfg);
            return 0;
        }
    }
    int idx = 1;
    char err[512];
    if (te_config_parse_args(&cfg, argc, argv, &idx, err, sizeof err) || idx < argc) {
        fprintf(stderr, "tinyedge serve: %s\n", idx < argc && !err[0] ? "unexpected argument" : err);
        te_config_free(&cfg);
        return 2;
    }
    if (cli_set_log_level(cfg.log_level)) {
        fprintf(stderr, "tinyedge serve: log_level must be debug, info, notice, warn or error\n");
        te_config_free(&cfg);
        return 2;
    }
    int rc = te_server_run(&cfg);
    te_config_free(&cfg);
    return rc;
}
