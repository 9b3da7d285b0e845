/* server/lorawan: wires the LoRaWAN engine (lorawan/ns.h) to the loop: the UDP port of the
 * gateways, the registry in SQLite (loaded at start, then followed through its change log every
 * second so CLI/REST edits apply without a restart; sessions written back in batches), the MQTT
 * broker (uplinks/joins/events published, down/push|replace subscribed), the payload formatter
 * sandbox, the REST API and the MQTT credentials of applications (user {app}@{tenant}, password =
 * an API key of the application, limited to v3/{app}@{tenant}/#).
 *   te_lorawan_start(loop,cfg,broker,&l,err,n)  0, or -1 with a message
 *   te_lorawan_stop(l)                          flush sessions, close handles (before the loop ends)
 *   te_lorawan_free(l)
 *   te_lorawan_http(req,l)                      1 if the request was a LoRaWAN REST call (answered)
 *   te_lorawan_metrics(b,l)                     Prometheus lines
 *   te_lorawan_mqtt_auth(l,user,pw,n)           1 ok, 0 refused, -1 not an application user
 *   te_lorawan_mqtt_acl(l,user,topic,access)    1 allow, 0 deny, -1 no opinion */
#ifndef TE_SERVER_LORAWAN_H
#define TE_SERVER_LORAWAN_H
#include <stddef.h>
#include "base/buf.h"
#include "mqtt/broker.h"
#include "net/net.h"
#include "server/config.h"

typedef struct te_lorawan te_lorawan;
int te_lorawan_start(uv_loop_t *loop, const te_config *cfg, mqtt_broker *b, te_lorawan **out, char *err,
                     size_t errlen);
void te_lorawan_stop(te_lorawan *l);
void te_lorawan_free(te_lorawan *l);
int te_lorawan_http(net_http_req *req, void *l);
void te_lorawan_metrics(buf_t *b, void *l);
int te_lorawan_mqtt_auth(void *l, const char *username, const uint8_t *pw, size_t n);
int te_lorawan_mqtt_acl(void *l, const char *username, const char *topic, int access);
#endif
