/* server: wires the engines to the transports on one libuv loop and runs until SIGINT/SIGTERM.
 *   te_server_run(cfg)   start every configured service; returns the process exit status
 * Services: MQTT broker (TCP, TLS, WebSocket listeners; persistence; auth), HTTP (/health,
 * /metrics). */
#ifndef TE_SERVER_SERVER_H
#define TE_SERVER_SERVER_H
#include "server/config.h"
int te_server_run(te_config *cfg);
#endif
