/* tinyedge broker: the MQTT broker alone, a drop-in for `mosquitto`: -c FILE (mosquitto.conf
 * subset), -p PORT (repeatable), -v, -d; tinyedge's own --flags are accepted too. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/log.h"
#include "cli/cli.h"
#include "server/config.h"
#include "server/server.h"

static void usage(FILE *f) {
    fprintf(f, "usage: tinyedge broker [-c config_file] [-d] [-p port] [-v] [--option value ...]\n\n"
               "An MQTT 3.1/3.1.1/5.0 broker that reads mosquitto.conf.\n"
               "  -c FILE   mosquitto.conf (listener, port, bind_address, allow_anonymous, password_file,\n"
               "            acl_file, persistence, persistence_location, autosave_interval, max_*,\n"
               "            message_size_limit, retain_available, certfile/keyfile/cafile/require_certificate,\n"
               "            protocol websockets, connection/address/topic bridges)\n"
               "  -d        run in the background\n"
               "  -p PORT   listen on PORT (repeatable); default 1883\n"
               "  -v        verbose logging\n\n");
    te_config_usage(f);
}

int cli_broker(int argc, char **argv) {
    te_config cfg;
    te_config_init(&cfg);
    cfg.lorawan = false; /* `tinyedge broker` is the broker alone, as mosquitto */
    cfg.http_port = 0;             /* the broker alone serves no HTTP unless asked */
    cfg.mqtt_persistence = false;  /* as mosquitto: persistence only when configured */
    char err[512];
    int ports[TE_MAX_LISTENERS], nports = 0;
    bool daemonize = false, have_conf = false;
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); rc = 0; goto out; }
        else if (!strcmp(a, "-c") || !strcmp(a, "--config-file")) {
            if (++i >= argc) { fprintf(stderr, "tinyedge broker: -c needs a file\n"); goto out; }
            if (te_config_load_mosquitto(&cfg, argv[i], err, sizeof err)) { fprintf(stderr, "tinyedge broker: %s\n", err); rc = 3; goto out; }
            have_conf = true;
        } else if (!strcmp(a, "-p") || !strcmp(a, "--port")) {
            if (++i >= argc || nports >= TE_MAX_LISTENERS) { fprintf(stderr, "tinyedge broker: -p needs a port\n"); goto out; }
            ports[nports++] = atoi(argv[i]);
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            free(cfg.log_level);
            cfg.log_level = strdup("debug");
        } else if (!strcmp(a, "-d") || !strcmp(a, "--daemon")) {
            daemonize = true;
        } else if (!strncmp(a, "--", 2)) {
            int idx = i;
            if (te_config_parse_args(&cfg, argc, argv, &idx, err, sizeof err)) { fprintf(stderr, "tinyedge broker: %s\n", err); goto out; }
            i = idx - 1;
        } else {
            fprintf(stderr, "tinyedge broker: unknown argument %s\n", a);
            usage(stderr);
            goto out;
        }
    }
    /* as mosquitto 2.0: with no configuration file, listen on the loopback interface only */
    if (!have_conf) { free(cfg.bind); cfg.bind = strdup("127.0.0.1"); }
    /* -p replaces the configured listeners' ports like mosquitto does */
    if (nports) {
        cfg.listeners_explicit = false;
        for (int i = 0; i < cfg.nlisteners; i++) { free(cfg.listeners[i].bind); }
        cfg.nlisteners = 0;
        cfg.mqtt_port = ports[0];
        te_config_listeners(&cfg);
        for (int i = 1; i < nports && cfg.nlisteners < TE_MAX_LISTENERS; i++) {
            te_listener *l = &cfg.listeners[cfg.nlisteners++];
            memset(l, 0, sizeof *l);
            l->port = ports[i];
        }
        cfg.listeners_explicit = true;
    }
    if (cli_set_log_level(cfg.log_level)) { fprintf(stderr, "tinyedge broker: bad log level\n"); goto out; }
    if (daemonize) {
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); goto out; }
        if (pid > 0) { rc = 0; goto out; }
        setsid();
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) { dup2(fd, 0); dup2(fd, 1); dup2(fd, 2); if (fd > 2) close(fd); }
    }
    rc = te_server_run(&cfg);
out:
    te_config_free(&cfg);
    return rc;
}
