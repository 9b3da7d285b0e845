/* server/http_api: the HTTP service on the http port.
 *   te_http_api_start(loop, cfg, broker, &l, err, n)   listen and serve:
 *     GET /health   200 {"status":"ok","version":...,"uptime_s":...}
 *     GET /metrics  Prometheus text: broker counters (clients, messages, bytes, dropped, retained,
 *                   subscriptions, queued, in flight)
 *     /api/...      services' REST APIs: with http_api_key set, `Authorization: Bearer KEY` is required
 *                   (401 otherwise); without it only loopback clients are answered (403 otherwise)
 *     anything else 404 JSON
 *   te_http_api_set_ext(handler, metrics, ud)  another service's routes (handler returns 1 when it
 *                                       answered) and Prometheus lines, tried before the 404
 */
#ifndef TE_SERVER_HTTP_API_H
#define TE_SERVER_HTTP_API_H
#include <stddef.h>
#include "mqtt/broker.h"
#include "net/net.h"
#include "server/config.h"
int te_http_api_start(uv_loop_t *loop, const te_config *cfg, mqtt_broker *b, net_listener **out, char *err,
                      size_t errlen);
#include "base/buf.h"
void te_http_api_set_ext(int (*handler)(net_http_req *req, void *ud), void (*metrics)(buf_t *b, void *ud), void *ud);
#endif
