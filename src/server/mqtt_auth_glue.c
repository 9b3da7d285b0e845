/* server/mqtt_auth_glue: password file + ACL file behind the broker's hooks (see the header). */
#include "server/mqtt_auth_glue.h"
#include <stdlib.h>
#include <string.h>
#include "base/log.h"
#include "mqtt/auth.h"

struct te_auth {
    mqtt_passwd *pw;
    mqtt_acl *acl;
    bool allow_anonymous;
    int (*ext_auth)(void *ud, const char *user, const uint8_t *pw, size_t n);
    int (*ext_acl)(void *ud, const char *user, const char *topic, int access);
    void *ext_ud;
};

void te_auth_set_ext(te_auth *a, int (*auth)(void *ud, const char *user, const uint8_t *pw, size_t n),
                     int (*acl)(void *ud, const char *user, const char *topic, int access), void *ud) {
    a->ext_auth = auth;
    a->ext_acl = acl;
    a->ext_ud = ud;
}

static int auth_cb(void *ud, const char *client_id, const char *username, const uint8_t *password, size_t plen,
                   const char *tls_cn) {
    te_auth *a = ud;
    if (tls_cn) return 1; /* use_identity_as_username: the certificate was verified */
    if (!username) return a->allow_anonymous;
    if (a->ext_auth) {
        int r = a->ext_auth(a->ext_ud, username, password, plen);
        if (r >= 0) return r;
    }
    if (!a->pw) return 1;
    return mqtt_passwd_check(a->pw, username, strlen(username), password, plen) == 1;
}

static int acl_cb(void *ud, const char *client_id, const char *username, const char *topic, int access) {
    te_auth *a = ud;
    int acc = access == MQTT_ACCESS_WRITE ? MQTT_ACL_WRITE : access == MQTT_ACCESS_SUBSCRIBE ? MQTT_ACL_SUBSCRIBE
                                                                                             : MQTT_ACL_READ;
    if (a->ext_acl) {
        int r = a->ext_acl(a->ext_ud, username, topic, access);
        if (r >= 0) return r;
    }
    if (!a->acl) return 1;
    /* $SYS and the like are readable unless the ACL says otherwise: mosquitto applies the ACL to all */
    return mqtt_acl_check(a->acl, client_id, username, topic, acc) == 1;
}

int te_auth_setup(te_auth **out, const te_config *cfg, mqtt_broker_conf *bc, char *err, size_t errlen) {
    te_auth *a = calloc(1, sizeof *a);
    if (!a) return -1;
    a->allow_anonymous = cfg->mqtt_allow_anonymous;
    if (cfg->mqtt_password_file) {
        a->pw = mqtt_passwd_load(cfg->mqtt_password_file, err, errlen);
        if (!a->pw) { free(a); return -1; }
        LOG_INFO("mqtt", "event=password_file path=%s", cfg->mqtt_password_file);
    }
    if (cfg->mqtt_acl_file) {
        a->acl = mqtt_acl_load(cfg->mqtt_acl_file, err, errlen);
        if (!a->acl) { mqtt_passwd_free(a->pw); free(a); return -1; }
        LOG_INFO("mqtt", "event=acl_file path=%s", cfg->mqtt_acl_file);
    }
    bc->acl = acl_cb; /* always: services (LoRaWAN applications) restrict their users through it */
    bc->auth = auth_cb;
    bc->auth_ud = a;
    bc->allow_anonymous = cfg->mqtt_allow_anonymous;
    *out = a;
    return 0;
}

void te_auth_free(te_auth *a) {
    if (!a) return;
    mqtt_passwd_free(a->pw);
    mqtt_acl_free(a->acl);
    free(a);
}
