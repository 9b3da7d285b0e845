/* server/http_api: the HTTP service on the http port.
 *   te_http_api_start(loop, cfg, broker, &l, err, n)   listen and serve:
 *     GET /health   200 {"status":"ok","version":...,"uptime_s":...}
 *     GET /metrics  Prometheus text: broker counters (clients, messages, bytes, dropped, retained,
 *                   subscriptions, queued, in flight)
 *     anything else 404 JSON */
#ifndef TE_SERVER_HTTP_API_H
#define TE_SERVER_HTTP_API_H
#include <stddef.h>
#include "mqtt/broker.h"
#include "net/net.h"
#include "server/config.h"
int te_http_api_start(uv_loop_t *loop, const te_config *cfg, mqtt_broker *b, net_listener **out, char *err,
                      size_t errlen);
#endif
