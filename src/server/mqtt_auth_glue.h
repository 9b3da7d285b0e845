/* server/mqtt_auth_glue: connects the broker's auth/ACL hooks to mosquitto-compatible password and
 * ACL files (mqtt/auth.h), following mosquitto's rules: with a password file, a client that
 * gives a user name must match it; a client without one is accepted only when allow_anonymous.
 *   te_auth_setup(&a, cfg, broker_conf, err, n)  load the files, set the hooks; 0 or -1
 *   te_auth_set_ext(a, auth, acl, ud)  a service's own users checked first (LoRaWAN applications'
 *                                   API keys): each hook returns 1 yes, 0 no, -1 "not mine"
 *   te_auth_free(a) */
#ifndef TE_SERVER_MQTT_AUTH_GLUE_H
#define TE_SERVER_MQTT_AUTH_GLUE_H
#include <stddef.h>
#include "mqtt/broker.h"
#include "server/config.h"
typedef struct te_auth te_auth;
int te_auth_setup(te_auth **out, const te_config *cfg, mqtt_broker_conf *bc, char *err, size_t errlen);
void te_auth_set_ext(te_auth *a, int (*auth)(void *ud, const char *user, const uint8_t *pw, size_t n),
                     int (*acl)(void *ud, const char *user, const char *topic, int access), void *ud);
void te_auth_free(te_auth *a);
#endif
