/* server/http_api: /health and Prometheus /metrics on the http port (see http_api.h). */
#include "server/http_api.h"
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"

typedef struct api_ctx {
    mqtt_broker *broker;
    const char *api_key;
    uint64_t started;
    int (*ext)(net_http_req *req, void *ud);
    void (*ext_metrics)(buf_t *b, void *ud);
    void *ext_ud;
} api_ctx;
static api_ctx ctx;

void te_http_api_set_ext(int (*handler)(net_http_req *req, void *ud), void (*metrics)(buf_t *b, void *ud), void *ud) {
    ctx.ext = handler;
    ctx.ext_metrics = metrics;
    ctx.ext_ud = ud;
}

static void metric(buf_t *b, const char *name, const char *type, const char *help, uint64_t v) {
    char line[512];
    int n = snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type, name, v);
    if (n > 0) buf_append(b, line, (size_t)n);
}

static void serve_metrics(net_http_req *req, api_ctx *x) {
    const mqtt_broker_stats *st = mqtt_broker_stats_get(x->broker);
    buf_t b;
    buf_init(&b);
    long pages = 0, rss_pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss_pages) != 2) rss_pages = 0;
        fclose(f);
    }
    metric(&b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
           (uint64_t)rss_pages * (uint64_t)sysconf(_SC_PAGESIZE));
    metric(&b, "tinyedge_uptime_seconds", "gauge", "Seconds since the server started.", (te_mono_ms() - x->started) / 1000);
    metric(&b, "tinyedge_mqtt_clients_connected", "gauge", "MQTT clients connected now.", st->clients_connected);
    metric(&b, "tinyedge_mqtt_clients_maximum", "gauge", "Most MQTT clients connected at once.", st->clients_maximum);
    metric(&b, "tinyedge_mqtt_connections_total", "counter", "MQTT connections accepted (CONNACK success).", st->clients_total);
    metric(&b, "tinyedge_mqtt_connect_refused_total", "counter", "CONNECTs refused.", st->connect_refused);
    metric(&b, "tinyedge_mqtt_sessions", "gauge", "Sessions, connected or not.", st->sessions_count);
    metric(&b, "tinyedge_mqtt_sessions_expired_total", "counter", "Sessions removed by expiry.", st->clients_expired);
    metric(&b, "tinyedge_mqtt_packets_received_total", "counter", "MQTT packets received.", st->msgs_received);
    metric(&b, "tinyedge_mqtt_packets_sent_total", "counter", "MQTT packets sent.", st->msgs_sent);
    metric(&b, "tinyedge_mqtt_messages_received_total", "counter", "PUBLISH packets received.", st->pub_received);
    metric(&b, "tinyedge_mqtt_messages_sent_total", "counter", "PUBLISH packets sent.", st->pub_sent);
    metric(&b, "tinyedge_mqtt_messages_dropped_total", "counter", "Messages dropped (QoS 0 to slow or offline clients, rejected publishes).", st->pub_dropped);
    metric(&b, "tinyedge_mqtt_messages_refused_total", "counter", "QoS 1/2 publishes refused or held back because a queue was full.", st->pub_refused);
    metric(&b, "tinyedge_mqtt_bytes_received_total", "counter", "Bytes of MQTT packets received.", st->bytes_received);
    metric(&b, "tinyedge_mqtt_bytes_sent_total", "counter", "Bytes of MQTT packets sent.", st->bytes_sent);
    metric(&b, "tinyedge_mqtt_payload_bytes_received_total", "counter", "Payload bytes received.", st->pub_bytes_received);
    metric(&b, "tinyedge_mqtt_payload_bytes_sent_total", "counter", "Payload bytes sent.", st->pub_bytes_sent);
    metric(&b, "tinyedge_mqtt_retained_messages", "gauge", "Retained messages.", st->retained_count);
    metric(&b, "tinyedge_mqtt_subscriptions", "gauge", "Subscriptions.", st->subscriptions_count);
    metric(&b, "tinyedge_mqtt_messages_queued", "gauge", "Messages queued for sessions.", st->queued_count);
    metric(&b, "tinyedge_mqtt_messages_inflight", "gauge", "QoS 1/2 messages in flight.", st->inflight_count);
    metric(&b, "tinyedge_mqtt_protocol_errors_total", "counter", "Connections closed for protocol errors.", st->protocol_errors);
    if (x->ext_metrics) x->ext_metrics(&b, x->ext_ud);
    net_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.data, b.len);
    buf_free(&b);
}

/* /api/: a bearer token when http_api_key is set, else loopback peers only */
static bool api_allowed(const net_http_req *req, const api_ctx *x) {
    if (x->api_key) {
        const char *h = net_http_header(req, "Authorization");
        if (!h || strncasecmp(h, "Bearer ", 7)) return false;
        const char *t = h + 7;
        size_t a = strlen(t), b = strlen(x->api_key);
        unsigned char diff = (unsigned char)(a != b);
        for (size_t i = 0; i < a && i < b; i++) diff |= (unsigned char)(t[i] ^ x->api_key[i]);
        return diff == 0;
    }
    const char *p = req->peer ? req->peer : "";
    return !strncmp(p, "127.", 4) || !strncmp(p, "[::1]", 5) || !strncmp(p, "[::ffff:127.", 12);
}

static void handler(net_http_req *req, void *ud) {
    api_ctx *x = ud;
    bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    if (!strcmp(req->path, "/health") && get) {
        char body[256];
        int n = snprintf(body, sizeof body, "{\"status\":\"ok\",\"version\":\"%s\",\"uptime_s\":%" PRIu64 "}\n", TE_VERSION,
                         (te_mono_ms() - x->started) / 1000);
        net_http_respond(req, 200, "application/json", NULL, body, (size_t)n);
    } else if (!strcmp(req->path, "/metrics") && get) {
        serve_metrics(req, x);
    } else if (!strcmp(req->path, "/health") || !strcmp(req->path, "/metrics")) {
        const char *b = "{\"error\":\"method not allowed\"}\n";
        net_http_respond(req, 405, "application/json", "Allow: GET, HEAD\r\n", b, strlen(b));
    } else if (!strncmp(req->path, "/api/", 5) && !api_allowed(req, x)) {
        const char *b = x->api_key ? "{\"error\":\"unauthorized: Authorization: Bearer <http_api_key> required\"}\n"
                                   : "{\"error\":\"forbidden: the API answers only loopback clients unless http_api_key is set\"}\n";
        net_http_respond(req, x->api_key ? 401 : 403, "application/json",
                         x->api_key ? "WWW-Authenticate: Bearer\r\n" : NULL, b, strlen(b));
    } else if (x->ext && x->ext(req, x->ext_ud)) {
        /* answered by a service (LoRaWAN REST, ...) */
    } else {
        const char *b = "{\"error\":\"not found\"}\n";
        net_http_respond(req, 404, "application/json", NULL, b, strlen(b));
    }
}

int te_http_api_start(uv_loop_t *loop, const te_config *cfg, mqtt_broker *b, net_listener **out, char *err,
                      size_t errlen) {
    ctx.broker = b;
    ctx.api_key = cfg->http_api_key && cfg->http_api_key[0] ? cfg->http_api_key : NULL;
    ctx.started = te_mono_ms();
    if (net_http_listen(loop, cfg->bind, cfg->http_port, handler, &ctx, out, err, errlen)) return -1;
    LOG_NOTICE("server", "event=listening service=http bind=%s port=%d", cfg->bind, net_listener_port(*out));
    return 0;
}
