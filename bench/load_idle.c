/* bench/load_idle.c: --idle N mode of te_mqtt_load: opens N MQTT connections (keepalive 60, no
 * traffic after CONNACK), holds them, and reports the broker's resident memory per connection from
 * /proc/<broker-pid>/status (VmRSS after minus before, divided by N). */
#include "load.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

int run_idle(const lopts *o) {
    int n = o->idle;
    if (lraise_nofile((long)n + 256))
        fprintf(stderr, "te_mqtt_load: could not raise RLIMIT_NOFILE to %d; connections may fail\n", n + 256);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    if (inet_pton(AF_INET, o->host, &addr.sin_addr) != 1) {
        fprintf(stderr, "te_mqtt_load: --host must be an IPv4 address\n");
        return 2;
    }
    lconn *conns = calloc((size_t)n, sizeof *conns);
    lconn **ptrs = calloc((size_t)n, sizeof *ptrs);
    if (!conns || !ptrs) return 1;
    for (int i = 0; i < n; i++) {
        conns[i].fd = -1;
        ptrs[i] = &conns[i];
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    long rss0 = o->broker_pid ? lproc_rss_kb(o->broker_pid) : -1;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "te-idle-%d-", (int)getpid());
    lsetup s = {.conns = ptrs,
                .n = n,
                .ep = ep,
                .addr = &addr,
                .ver = o->ver,
                .keepalive = o->keepalive,
                .qos = 0,
                .id_prefix = prefix,
                .filters = NULL,
                .max_pending = 64,
                .timeout_s = 120};
    uint64_t t0 = lnow_ns();
    int rc = lsetup_run(&s);
    double connect_s = (double)(lnow_ns() - t0) / 1e9;
    int ready = 0;
    for (int i = 0; i < n; i++) ready += conns[i].state == LC_READY;
    if (rc) fprintf(stderr, "te_mqtt_load: idle: %s\n", s.err);
    /* let the broker settle (lazy allocations, accept queue drained) */
    usleep((useconds_t)(o->hold * 1e6));
    long rss1 = o->broker_pid ? lproc_rss_kb(o->broker_pid) : -1;
    double per = (rss0 >= 0 && rss1 >= 0 && ready > 0) ? (double)(rss1 - rss0) / ready : -1;
    printf("{\"mode\":\"idle\",\"label\":\"%s\",\"conns\":%d,\"connected\":%d,\"connect_s\":%.3f,"
           "\"rss_before_kb\":%ld,\"rss_after_kb\":%ld,\"kb_per_conn\":%.2f,\"ok\":%s}\n",
           o->label ? o->label : "", n, ready, connect_s, rss0, rss1, per, rc ? "false" : "true");
    if (!o->quiet)
        printf("idle: %d/%d connections in %.2f s; broker RSS %ld -> %ld kB = %.2f kB per connection\n", ready, n,
               connect_s, rss0, rss1, per);
    fflush(stdout);
    for (int i = 0; i < n; i++) lconn_close(&conns[i], ep, true);
    close(ep);
    free(conns);
    free(ptrs);
    return rc ? 1 : 0;
}
