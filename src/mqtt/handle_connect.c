/* mqtt/handle_connect: CONNECT (client id assignment, authentication, will, session create /
 * resume / take-over, CONNACK with v5 properties), DISCONNECT, and the end of sessions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include "base/log.h"
#include "mqtt/broker_internal.h"
#include "mqtt/store.h"
#include "mqtt/topic.h"

static void connack(mqtt_client *c, bool present, uint8_t rc, const buf_t *props) {
    buf_t *out = &c->b->scratch2;
    buf_reset(out);
    uint8_t code = rc;
    if (c->ver < 5) {
        switch (rc) {
        case MQTT_RC_SUCCESS: code = MQTT_V3_ACCEPTED; break;
        case MQTT_RC_UNSUPPORTED_VERSION: code = MQTT_V3_BAD_VERSION; break;
        case MQTT_RC_CLIENT_ID_NOT_VALID: code = MQTT_V3_ID_REJECTED; break;
        case MQTT_RC_BAD_USERNAME_PASSWORD: code = MQTT_V3_BAD_USER_PASS; break;
        case MQTT_RC_NOT_AUTHORIZED: case MQTT_RC_BANNED: code = MQTT_V3_NOT_AUTHORIZED; break;
        default: code = MQTT_V3_UNAVAILABLE; break;
        }
    }
    mqtt_encode_connack(out, c->ver, present, code, props ? props->data : NULL, props ? props->len : 0);
    broker_send(c, out);
}

static int refuse(mqtt_client *c, uint8_t rc, const char *why) {
    mqtt_broker *b = c->b;
    b->st.connect_refused++;
    LOG_INFO("mqtt", "event=connect_refused peer=%s rc=0x%02x reason=\"%s\"", c->peer, rc, why);
    buf_t pr;
    buf_init(&pr);
    if (c->ver == 5 && c->request_problem_info) mqtt_prop_put_str(&pr, MQTT_PROP_REASON_STRING, why, strlen(why));
    connack(c, false, rc, &pr);
    buf_free(&pr);
    broker_close(c);
    return -1;
}

mqtt_session *session_new(mqtt_broker *b, const char *id, size_t len) {
    mqtt_session *s = calloc(1, sizeof *s);
    if (!s || !(s->id = malloc(len + 1))) { free(s); return NULL; }
    memcpy(s->id, id, len);
    s->id[len] = 0;
    s->id_len = len;
    s->next_pid = 1;
    if (hmap_put(&b->sessions, s->id, len, s)) { free(s->id); free(s); return NULL; }
    s->next_all = b->all_sessions;
    if (b->all_sessions) b->all_sessions->prev_all = s;
    b->all_sessions = s;
    return s;
}

/* Free a session's memory (no side effects on other state but the session list and map). */
void session_free(mqtt_broker *b, mqtt_session *s) {
    session_remove_all_subs(b, s);
    for (mqtt_out *o = s->inflight.head, *nx; o; o = nx) { nx = o->next; out_free(o); }
    for (mqtt_out *o = s->queue.head, *nx; o; o = nx) { nx = o->next; out_free(o); }
    b->st.inflight_count -= s->inflight.count;
    b->st.queued_count -= s->queue.count;
    mqtt_msg_unref(s->will);
    if (hmap_get(&b->sessions, s->id, s->id_len) == s) hmap_del(&b->sessions, s->id, s->id_len);
    if (s->prev_all) s->prev_all->next_all = s->next_all;
    else b->all_sessions = s->next_all;
    if (s->next_all) s->next_all->prev_all = s->prev_all;
    free(s->subs);
    free(s->rx_qos2);
    free(s->username);
    free(s->isub);
    free(s->id);
    free(s);
}

/* The session ends: its pending will is published now (cutting the delay short), then it goes. */
void session_end(mqtt_broker *b, mqtt_session *s) {
    if (s->will) {
        mqtt_msg *w = s->will;
        s->will = NULL;
        broker_publish_will(b, w);
    }
    if (b->store && s->stored) mqtt_store_session_del(b->store, s);
    if (s->c) s->c->s = NULL;
    session_free(b, s);
}

/* Detach a live connection from its session because another connection takes it over. */
static void takeover(mqtt_broker *b, mqtt_session *s, bool clean_start) {
    mqtt_client *old = s->c;
    if (old->ver == 5) broker_disconnect(old, MQTT_RC_SESSION_TAKEN_OVER, "session taken over");
    else broker_close(old);
    old->s = NULL;
    s->c = NULL;
    b->st.clients_connected--;
    mqtt_msg *will = old->will;
    old->will = NULL;
    /* the will is sent unless the session continues and the will delay has not passed */
    if (will && (clean_start || old->will_delay == 0)) broker_publish_will(b, will);
    else mqtt_msg_unref(will);
}

int handle_connect(mqtt_client *c, const mqtt_packet *p) {
    mqtt_broker *b = c->b;
    c->ver = p->proto_level;
    c->bridge = p->bridge;
    const mqtt_props *pr = &p->props;
    if (c->ver == 5) {
        if (MQTT_HAS(*pr, MQTT_PROP_REQUEST_PROBLEM_INFO)) c->request_problem_info = pr->request_problem_info;
        if (MQTT_HAS(*pr, MQTT_PROP_AUTH_METHOD))
            return refuse(c, MQTT_RC_BAD_AUTH_METHOD, "enhanced authentication is not supported");
        c->peer_receive_max = MQTT_HAS(*pr, MQTT_PROP_RECEIVE_MAX) ? pr->receive_max : 65535;
        c->peer_max_packet = MQTT_HAS(*pr, MQTT_PROP_MAX_PACKET_SIZE) ? pr->max_packet_size : 0;
        c->peer_alias_max = MQTT_HAS(*pr, MQTT_PROP_TOPIC_ALIAS_MAX) ? pr->topic_alias_max : 0;
        c->session_expiry = MQTT_HAS(*pr, MQTT_PROP_SESSION_EXPIRY) ? pr->session_expiry : 0;
    } else {
        c->peer_receive_max = 65535;
        c->session_expiry = p->clean_start ? 0 : UINT32_MAX;
    }

    /* client identifier */
    char idbuf[40];
    const char *id = (const char *)p->client_id.p;
    size_t idlen = p->client_id.len;
    bool assigned = false;
    if (idlen == 0) {
        if (c->ver == 3 || (c->ver == 4 && !p->clean_start) || !b->conf.allow_zero_length_clientid)
            return refuse(c, MQTT_RC_CLIENT_ID_NOT_VALID, "empty client identifier");
        uint8_t rnd[12];
        RAND_bytes(rnd, sizeof rnd);
        int n = snprintf(idbuf, sizeof idbuf, "auto-");
        for (size_t i = 0; i < sizeof rnd; i++) n += snprintf(idbuf + n, sizeof idbuf - (size_t)n, "%02X", rnd[i]);
        id = idbuf;
        idlen = (size_t)n;
        assigned = true;
    }
    char *cid = strndup(id, idlen);
    if (!cid) return refuse(c, MQTT_RC_SERVER_UNAVAILABLE, "out of memory");
    if (strlen(cid) != idlen) { free(cid); return refuse(c, MQTT_RC_CLIENT_ID_NOT_VALID, "client identifier contains NUL"); }

    /* authentication */
    if (p->has_username) c->username = strndup((const char *)p->username.p, p->username.len);
    int ok = 1;
    if (b->conf.auth)
        ok = b->conf.auth(b->conf.auth_ud, cid, c->username, p->has_password ? p->password.p : NULL,
                          p->has_password ? p->password.len : 0, c->tls_cn);
    else if (!b->conf.allow_anonymous && !c->username)
        ok = 0;
    if (!ok) {
        free(cid);
        return refuse(c, c->username ? MQTT_RC_BAD_USERNAME_PASSWORD : MQTT_RC_NOT_AUTHORIZED,
                      c->username ? "bad user name or password" : "anonymous access is not allowed");
    }

    /* will */
    if (p->will_flag) {
        if (!mqtt_topic_name_valid(p->will_topic.p, p->will_topic.len)) {
            free(cid);
            return refuse(c, MQTT_RC_TOPIC_NAME_INVALID, "invalid will topic");
        }
        if (p->will_retain && !b->conf.retain_available) {
            free(cid);
            return refuse(c, MQTT_RC_RETAIN_NOT_SUPPORTED, "retain is not available");
        }
        if (b->conf.message_size_limit && p->will_payload.len > b->conf.message_size_limit) {
            free(cid);
            return refuse(c, MQTT_RC_PACKET_TOO_LARGE, "will payload exceeds message_size_limit");
        }
        char *wt = strndup((const char *)p->will_topic.p, p->will_topic.len);
        if (b->conf.acl && wt && !b->conf.acl(b->conf.auth_ud, cid, c->username, wt, MQTT_ACCESS_WRITE)) {
            free(wt);
            free(cid);
            return refuse(c, MQTT_RC_NOT_AUTHORIZED, "will topic not authorized");
        }
        free(wt);
        buf_t *fw = &b->scratch;
        buf_reset(fw);
        uint32_t expiry_s = 0;
        if (c->ver == 5) {
            mqtt_props_forwardable(p->will_props.raw, fw);
            if (MQTT_HAS(p->will_props, MQTT_PROP_MESSAGE_EXPIRY)) expiry_s = p->will_props.message_expiry;
            c->will_delay = MQTT_HAS(p->will_props, MQTT_PROP_WILL_DELAY) ? p->will_props.will_delay : 0;
        }
        c->will = mqtt_msg_new(p->will_topic.p, p->will_topic.len, fw->data, fw->len, p->will_payload.p,
                               p->will_payload.len, p->will_qos, p->will_retain, 0);
        if (c->will) c->will->expiry_s = expiry_s; /* the expiry clock starts when the will is published */
        if (!c->will) { free(cid); return refuse(c, MQTT_RC_SERVER_UNAVAILABLE, "out of memory"); }
    }

    /* keep alive */
    c->keepalive = p->keep_alive;
    bool server_ka = false;
    if (b->conf.max_keepalive && (c->keepalive > b->conf.max_keepalive || (c->keepalive == 0 && c->ver == 5 &&
                                                                           b->conf.max_keepalive < 65535))) {
        c->keepalive = b->conf.max_keepalive;
        server_ka = c->ver == 5;
    }

    /* session */
    mqtt_session *s = hmap_get(&b->sessions, cid, idlen);
    if (b->conf.max_connections && b->st.clients_connected >= b->conf.max_connections && !(s && s->c)) {
        free(cid);
        return refuse(c, MQTT_RC_QUOTA_EXCEEDED, "too many connections (max_connections)");
    }
    if (c->session_expiry == UINT32_MAX && b->conf.persistent_expiry_s) c->session_expiry = b->conf.persistent_expiry_s;
    if (s && s->isub) { free(cid); return refuse(c, MQTT_RC_CLIENT_ID_NOT_VALID, "reserved client identifier"); }
    if (s && s->c) takeover(b, s, p->clean_start);
    bool present = false;
    if (s && p->clean_start) {
        session_end(b, s);
        s = NULL;
    }
    if (s) {
        present = true;
        if (s->will) { mqtt_msg_unref(s->will); s->will = NULL; } /* reconnected within the will delay */
    } else {
        s = session_new(b, cid, idlen);
        if (!s) { free(cid); return refuse(c, MQTT_RC_SERVER_UNAVAILABLE, "out of memory"); }
    }
    free(cid);
    s->c = c;
    c->s = s;
    free(s->username);
    s->username = c->username ? strdup(c->username) : NULL;
    s->expiry_s = c->session_expiry;
    s->persistent = s->expiry_s > 0;
    c->state = CL_CONNECTED;
    b->st.clients_connected++;
    b->st.clients_total++;
    if (b->st.clients_connected > b->st.clients_maximum) b->st.clients_maximum = b->st.clients_connected;
    if (c->ver == 5 && b->conf.topic_alias_max) {
        c->rx_alias = calloc((size_t)b->conf.topic_alias_max + 1, sizeof *c->rx_alias);
        if (!c->rx_alias) return refuse(c, MQTT_RC_SERVER_UNAVAILABLE, "out of memory");
    }
    if (c->peer_alias_max) {
        c->tx_alias_topics = calloc((size_t)c->peer_alias_max + 1, sizeof *c->tx_alias_topics);
        c->tx_alias = calloc(1, sizeof *c->tx_alias);
        if (!c->tx_alias_topics || !c->tx_alias) c->peer_alias_max = 0;
        c->tx_alias_next = 1;
    }

    buf_t props;
    buf_init(&props);
    if (c->ver == 5) {
        if (b->conf.max_inflight < 65535) mqtt_prop_put_u16(&props, MQTT_PROP_RECEIVE_MAX, (uint16_t)b->conf.max_inflight);
        if (!b->conf.retain_available) mqtt_prop_put_u8(&props, MQTT_PROP_RETAIN_AVAILABLE, 0);
        if (b->conf.max_packet_size) mqtt_prop_put_u32(&props, MQTT_PROP_MAX_PACKET_SIZE, b->conf.max_packet_size);
        if (assigned) mqtt_prop_put_str(&props, MQTT_PROP_ASSIGNED_CLIENT_ID, s->id, s->id_len);
        if (b->conf.topic_alias_max) mqtt_prop_put_u16(&props, MQTT_PROP_TOPIC_ALIAS_MAX, b->conf.topic_alias_max);
        if (server_ka) mqtt_prop_put_u16(&props, MQTT_PROP_SERVER_KEEP_ALIVE, c->keepalive);
    }
    connack(c, present, MQTT_RC_SUCCESS, &props);
    buf_free(&props);
    LOG_INFO("mqtt", "event=connected client=%s peer=%s proto=%u clean=%d keepalive=%u user=%s session_present=%d",
             s->id, c->peer, c->ver, p->clean_start, c->keepalive, c->username ? c->username : "-", present);
    if (b->store && s->persistent) mqtt_store_session(b->store, s);
    else if (b->store && s->stored) mqtt_store_session_del(b->store, s);
    session_resend(b, s);
    return 0;
}

int handle_disconnect(mqtt_client *c, const mqtt_packet *p) {
    mqtt_session *s = c->s;
    if (c->ver == 5 && MQTT_HAS(p->props, MQTT_PROP_SESSION_EXPIRY)) {
        if (c->session_expiry == 0 && p->props.session_expiry != 0) {
            broker_disconnect(c, MQTT_RC_PROTOCOL_ERROR, "session expiry set at DISCONNECT after 0 at CONNECT");
            return -1;
        }
        c->session_expiry = p->props.session_expiry;
        if (s) {
            s->expiry_s = c->session_expiry;
            s->persistent = s->expiry_s > 0;
        }
    }
    /* MQTT-3.14.4-3 / 3.1.2.5: only a normal disconnection (0x00) discards the will */
    if (c->ver < 5 || p->reason == MQTT_RC_SUCCESS) {
        mqtt_msg_unref(c->will);
        c->will = NULL;
    }
    broker_close(c);
    return -1;
}
