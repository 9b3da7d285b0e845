/* server/bridge: Mosquitto-style bridges (see bridge.h for the behaviour). The link is a small
 * MQTT client written on our codec: a CONNECT/CONNACK handshake, SUBSCRIBE for `in` topics, an
 * in-flight window plus a FIFO queue for `out` QoS 1/2 messages, QoS 2 receive state for `in`
 * messages, keepalive and reconnect driven by one repeating timer. */
#include "server/bridge.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "mqtt/codec.h"
#include "mqtt/topic.h"
#include "net/net.h"

#define BR_DEFAULT_INFLIGHT 20u
#define BR_DEFAULT_QUEUED 10000u
#define BR_DEFAULT_QUEUED_BYTES (64ull << 20)
#define BR_BACKOFF_MIN_MS 1000u
#define BR_BACKOFF_MAX_MS 30000u
#define BR_STABLE_MS 1000u        /* a link that lived this long resets the backoff */
#define BR_TICK_MS 100u
#define BR_CONNACK_TIMEOUT_MS 10000u
#define BR_ECHO_MAX 4096u
#define BR_ECHO_TTL_MS 60000u

enum { LS_IDLE, LS_CONNECTING, LS_WAIT_CONNACK, LS_UP, LS_CLOSING };
enum { MS_QUEUED, MS_WAIT_ACK, MS_WAIT_COMP };

/* one message towards the remote; topic (remote name), payload and properties follow the struct */
typedef struct br_msg {
    struct br_msg *next;
    char *topic;
    size_t topic_len;
    uint8_t *payload;
    size_t payload_len;
    uint8_t *props;
    size_t props_len;
    uint8_t qos, state;
    bool retain, notif;
    uint16_t pid;
} br_msg;

typedef struct br_topic {
    te_bridge_link *l;
    int idx;
    uint8_t qos;
    bool in, out, exact;      /* exact: pattern "" maps one topic to one topic */
    const char *lpfx, *rpfx;  /* "" when not given */
    char *local_filter, *remote_filter;
} br_topic;

typedef struct br_echo {
    uint64_t hash, expires;
} br_echo;

typedef struct br_list {
    br_msg *head, *tail;
    uint32_t n;
} br_list;

struct te_bridge_link {
    uv_loop_t *loop;
    mqtt_broker *broker;
    const te_bridge *conf;
    te_bridge_opts opts;
    char *client_id, *state_topic;
    br_topic topics[TE_MAX_BRIDGE_TOPICS];
    int ntopics;
    bool any_in;
    uint8_t ver;
    int state;
    bool stopped;
    net_conn *conn;
    buf_t rbuf, wbuf;
    uv_timer_t tick;
    uint64_t next_attempt; /* mono ms of the next connection attempt, 0 = none scheduled */
    uint32_t backoff_ms;
    uint64_t attempt_at, up_at, last_tx, last_rx, ping_at;
    bool ping_out;
    uint32_t keepalive_ms, window, remote_max_packet;
    uint8_t remote_max_qos;
    bool remote_retain;
    uint16_t next_pid;
    br_list inflight, queue;
    uint64_t qbytes;
    uint16_t *rx2; /* QoS 2 packet ids received from the remote whose PUBREL has not come */
    size_t nrx2, caprx2;
    br_echo *echo; /* ring of hashes of messages sent that the remote may echo back (3.1.1) */
    size_t echo_next;
    uint64_t overflow_dropped; /* dropped in the current overflow episode */
    int local_state;           /* last value published locally: -1 none, 0, 1 */
    uint64_t rng;
    te_bridge_stats st;
};

/* ---------------------------------------------------------------- helpers */

static uint32_t br_rand(te_bridge_link *l) {
    l->rng ^= l->rng << 13;
    l->rng ^= l->rng >> 7;
    l->rng ^= l->rng << 17;
    return (uint32_t)(l->rng >> 32);
}

static char *br_concat(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    s[la + lb] = 0;
    return s;
}

static bool br_match(const char *filter, const char *topic, size_t tlen) {
    return mqtt_topic_match((const uint8_t *)filter, strlen(filter), (const uint8_t *)topic, tlen);
}

/* topic = from + rest  ->  to + rest (malloc'd), NULL when the topic is not under `from` */
static char *br_map(const br_topic *t, const char *topic, size_t tlen, bool outward) {
    const char *from = outward ? t->lpfx : t->rpfx, *to = outward ? t->rpfx : t->lpfx;
    size_t fl = strlen(from), tol = strlen(to);
    if (t->exact) {
        if (tlen != fl || memcmp(topic, from, fl)) return NULL;
        return strdup(to);
    }
    if (tlen >= fl && !memcmp(topic, from, fl)) {
        size_t rest = tlen - fl;
        if (rest + tol == 0) return NULL;
        char *s = malloc(tol + rest + 1);
        if (!s) return NULL;
        memcpy(s, to, tol);
        memcpy(s + tol, topic + fl, rest);
        s[tol + rest] = 0;
        return s;
    }
    /* "prefix/#" also matches "prefix" itself: map the parent level to the other parent */
    if (fl > 1 && from[fl - 1] == '/' && tlen == fl - 1 && !memcmp(topic, from, tlen) && tol > 1 &&
        to[tol - 1] == '/')
        return strndup(to, tol - 1);
    return NULL;
}

static uint64_t br_hash(const char *topic, size_t tlen, const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < tlen; i++) h = (h ^ (uint8_t)topic[i]) * 1099511628211ull;
    h = (h ^ 0xFFu) * 1099511628211ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h ? h : 1;
}

static br_msg *br_msg_new(const char *topic, size_t tlen, const uint8_t *payload, size_t plen, const uint8_t *props,
                          size_t props_len, uint8_t qos, bool retain) {
    br_msg *m = malloc(sizeof *m + tlen + 1 + plen + props_len);
    if (!m) return NULL;
    memset(m, 0, sizeof *m);
    uint8_t *p = (uint8_t *)(m + 1);
    m->topic = (char *)p;
    memcpy(m->topic, topic, tlen);
    m->topic[tlen] = 0;
    m->topic_len = tlen;
    m->payload = p + tlen + 1;
    if (plen) memcpy(m->payload, payload, plen);
    m->payload_len = plen;
    m->props = m->payload + plen;
    if (props_len) memcpy(m->props, props, props_len);
    m->props_len = props_len;
    m->qos = qos;
    m->retain = retain;
    return m;
}

static size_t br_msg_bytes(const br_msg *m) { return m->topic_len + m->payload_len + m->props_len; }

static void br_list_push(br_list *q, br_msg *m) {
    m->next = NULL;
    if (q->tail) q->tail->next = m;
    else q->head = m;
    q->tail = m;
    q->n++;
}

static void br_list_push_front(br_list *q, br_msg *m) {
    m->next = q->head;
    q->head = m;
    if (!q->tail) q->tail = m;
    q->n++;
}

static br_msg *br_list_pop(br_list *q) {
    br_msg *m = q->head;
    if (!m) return NULL;
    q->head = m->next;
    if (!q->head) q->tail = NULL;
    q->n--;
    m->next = NULL;
    return m;
}

/* the in-flight message with packet id `pid` in `state` (and QoS `qos` unless 0); NULL when none */
static br_msg *br_list_find(br_list *q, uint16_t pid, int state, uint8_t qos) {
    for (br_msg *m = q->head; m; m = m->next)
        if (m->pid == pid && m->state == state && (!qos || m->qos == qos)) return m;
    return NULL;
}

static void br_list_remove(br_list *q, br_msg *x) {
    br_msg *prev = NULL;
    for (br_msg *m = q->head; m; prev = m, m = m->next) {
        if (m != x) continue;
        if (prev) prev->next = m->next;
        else q->head = m->next;
        if (q->tail == m) q->tail = prev;
        q->n--;
        m->next = NULL;
        return;
    }
}

static void br_list_free(br_list *q) {
    br_msg *m;
    while ((m = br_list_pop(q))) free(m);
}

/* drop the state notifications from a list (a fresh one is sent on every connect) */
static void br_list_drop_notif(te_bridge_link *l, br_list *q) {
    br_msg *prev = NULL, *m = q->head;
    while (m) {
        br_msg *next = m->next;
        if (m->notif) {
            if (prev) prev->next = next;
            else q->head = next;
            if (q->tail == m) q->tail = prev;
            q->n--;
            if (q == &l->queue) l->qbytes -= br_msg_bytes(m);
            free(m);
        } else {
            prev = m;
        }
        m = next;
    }
}

static void br_update_counts(te_bridge_link *l) {
    l->st.queued = l->queue.n;
    l->st.inflight = l->inflight.n;
}

/* ---------------------------------------------------------------- local side */

static void br_publish_state(te_bridge_link *l, int up) {
    if (l->local_state == up || !l->state_topic) return;
    l->local_state = up;
    const char v = up ? '1' : '0';
    if (mqtt_broker_publish_ex(l->broker, l->state_topic, &v, 1, 1, true, NULL, 0, l, te_mono_ms()))
        LOG_WARN("bridge", "event=state_publish_failed name=%s topic=\"%s\"", l->conf->name, l->state_topic);
}

/* ---------------------------------------------------------------- remote side: output */

static void br_drop_link(te_bridge_link *l, const char *why);

static void br_write(te_bridge_link *l) {
    if (!l->conn || l->wbuf.len == 0) { buf_reset(&l->wbuf); return; }
    net_conn_write(l->conn, l->wbuf.data, l->wbuf.len);
    buf_reset(&l->wbuf);
    l->last_tx = te_mono_ms();
}

static void br_send_ack(te_bridge_link *l, uint8_t type, uint16_t pid) {
    if (mqtt_encode_ack(&l->wbuf, type, l->ver, pid, 0, NULL, 0) == 0) br_write(l);
}

static bool br_echo_possible(te_bridge_link *l, const char *topic, size_t tlen) {
    if (l->ver == 5 || !l->any_in) return false; /* v5 subscriptions carry No Local */
    for (int i = 0; i < l->ntopics; i++)
        if (l->topics[i].in && br_match(l->topics[i].remote_filter, topic, tlen)) return true;
    return false;
}

static void br_echo_add(te_bridge_link *l, const br_msg *m) {
    if (!br_echo_possible(l, m->topic, m->topic_len)) return;
    if (!l->echo) {
        l->echo = calloc(BR_ECHO_MAX, sizeof *l->echo);
        if (!l->echo) return;
    }
    br_echo *e = &l->echo[l->echo_next];
    l->echo_next = (l->echo_next + 1) % BR_ECHO_MAX;
    e->hash = br_hash(m->topic, m->topic_len, m->payload, m->payload_len);
    e->expires = te_mono_ms() + BR_ECHO_TTL_MS;
}

/* true (and the entry consumed) when an incoming message is the echo of one we sent */
static bool br_echo_take(te_bridge_link *l, const char *topic, size_t tlen, const uint8_t *p, size_t n) {
    if (!l->echo || l->ver == 5) return false;
    uint64_t h = br_hash(topic, tlen, p, n), now = te_mono_ms();
    /* oldest first, so the echoes of identical messages are consumed in order */
    for (size_t k = 0; k < BR_ECHO_MAX; k++) {
        br_echo *e = &l->echo[(l->echo_next + k) % BR_ECHO_MAX];
        if (e->hash == h && e->expires > now) {
            e->hash = 0;
            return true;
        }
    }
    return false;
}

/* encode and send one PUBLISH; false when the message cannot go to this remote (too large) */
static bool br_send_publish(te_bridge_link *l, br_msg *m, uint8_t qos, bool dup) {
    bool retain = m->retain && l->remote_retain;
    size_t props_len = l->ver == 5 ? m->props_len : 0;
    if (l->remote_max_packet &&
        mqtt_publish_size(l->ver, qos, m->topic_len, props_len, m->payload_len) > l->remote_max_packet) {
        LOG_WARN("bridge", "event=message_too_large name=%s topic=\"%s\" bytes=%zu remote_max=%u", l->conf->name,
                 m->topic, m->payload_len, l->remote_max_packet);
        return false;
    }
    if (mqtt_encode_publish(&l->wbuf, l->ver, qos, retain, dup, m->pid, m->topic, m->topic_len, m->props,
                            props_len, m->payload, m->payload_len)) {
        buf_reset(&l->wbuf);
        return false;
    }
    br_write(l);
    return true;
}

static uint16_t br_next_pid(te_bridge_link *l) {
    for (;;) {
        if (++l->next_pid == 0) l->next_pid = 1;
        bool used = false;
        for (br_msg *m = l->inflight.head; m && !used; m = m->next) used = m->pid == l->next_pid;
        if (!used) return l->next_pid;
    }
}

/* move queued messages into the window while there is room */
static void br_send_qos0(te_bridge_link *l, br_msg *m) {
    m->pid = 0;
    if (br_send_publish(l, m, 0, false)) {
        l->st.sent++;
        br_echo_add(l, m);
    } else {
        l->st.dropped++;
    }
}

static void br_pump(te_bridge_link *l) {
    while (l->state == LS_UP && l->queue.head && l->inflight.n < l->window) {
        br_msg *m = br_list_pop(&l->queue);
        l->qbytes -= br_msg_bytes(m);
        uint8_t qos = m->qos < l->remote_max_qos ? m->qos : l->remote_max_qos;
        if (qos == 0) {
            br_send_qos0(l, m);
            free(m);
            continue;
        }
        m->qos = qos;
        m->pid = br_next_pid(l);
        m->state = MS_WAIT_ACK;
        if (!br_send_publish(l, m, qos, false)) {
            l->st.dropped++;
            free(m);
            continue;
        }
        if (!m->notif) {
            l->st.sent++;
            br_echo_add(l, m);
        }
        br_list_push(&l->inflight, m);
    }
    if (l->state == LS_UP && l->overflow_dropped && l->queue.n < l->opts.max_queued / 2) {
        LOG_NOTICE("bridge", "event=queue_recovered name=%s dropped=%" PRIu64, l->conf->name, l->overflow_dropped);
        l->overflow_dropped = 0;
    }
    br_update_counts(l);
}

/* a message for the remote from a local `out` topic */
static void br_enqueue(te_bridge_link *l, br_msg *m) {
    if (m->qos == 0) {
        /* as mosquitto: QoS 0 is not queued while the link is down */
        if (l->state == LS_UP) {
            br_send_qos0(l, m);
        } else {
            l->st.dropped++;
        }
        free(m);
        return;
    }
    size_t bytes = br_msg_bytes(m);
    if (l->queue.n >= l->opts.max_queued || l->qbytes + bytes > l->opts.max_queued_bytes) {
        l->st.dropped++;
        if (l->overflow_dropped++ == 0 || l->overflow_dropped % 1000 == 0)
            LOG_WARN("bridge", "event=queue_full name=%s queued=%u bytes=%" PRIu64 " dropped=%" PRIu64
                     " topic=\"%s\"", l->conf->name, l->queue.n, l->qbytes, l->overflow_dropped, m->topic);
        free(m);
        return;
    }
    br_list_push(&l->queue, m);
    l->qbytes += bytes;
    br_pump(l);
    br_update_counts(l);
}

/* internal subscription callback of an `out` topic */
static void br_on_local(void *ud, const mqtt_msg_view *v) {
    br_topic *t = ud;
    te_bridge_link *l = t->l;
    if (l->stopped || v->origin == l) return; /* never send a message back where it came from */
    /* overlapping `out` topics: the first one that matches forwards the message, once */
    for (int i = 0; i < t->idx; i++)
        if (l->topics[i].out && br_match(l->topics[i].local_filter, v->topic, v->topic_len)) return;
    char *rt = br_map(t, v->topic, v->topic_len, true);
    if (!rt) {
        LOG_DEBUG("bridge", "event=unmapped name=%s topic=\"%.*s\"", l->conf->name, (int)v->topic_len, v->topic);
        return;
    }
    uint8_t qos = v->qos < t->qos ? v->qos : t->qos;
    br_msg *m = br_msg_new(rt, strlen(rt), v->payload, v->payload_len, v->props, v->props_len, qos, v->retain);
    free(rt);
    if (!m) { l->st.dropped++; return; }
    br_enqueue(l, m);
}

/* ---------------------------------------------------------------- remote side: connect */

static void br_send_connect(te_bridge_link *l) {
    const te_bridge *c = l->conf;
    buf_t props;
    buf_init(&props);
    if (l->ver == 5 && !c->cleansession) mqtt_prop_put_u32(&props, MQTT_PROP_SESSION_EXPIRY, 0xFFFFFFFFu);
    const char zero = '0';
    mqtt_connect_opts o;
    memset(&o, 0, sizeof o);
    o.proto_level = l->ver;
    o.clean_start = c->cleansession;
    o.keep_alive = (uint16_t)(c->keepalive < 0 ? 0 : c->keepalive > 65535 ? 65535 : c->keepalive);
    o.client_id = l->client_id;
    o.username = c->remote_username;
    o.password = c->remote_username ? c->remote_password : NULL;
    /* as mosquitto: the remote publishes "0" on the state topic when the link dies */
    o.will_topic = l->state_topic;
    o.will_payload = &zero;
    o.will_payload_len = 1;
    o.will_qos = 1;
    o.will_retain = true;
    o.props = props.data;
    o.props_len = props.len;
    if (mqtt_encode_connect(&l->wbuf, &o)) {
        buf_reset(&l->wbuf);
        buf_free(&props);
        br_drop_link(l, "cannot encode CONNECT");
        return;
    }
    buf_free(&props);
    br_write(l);
}

static void br_send_subscriptions(te_bridge_link *l) {
    const char *filters[TE_MAX_BRIDGE_TOPICS];
    uint8_t opts[TE_MAX_BRIDGE_TOPICS];
    size_t n = 0;
    for (int i = 0; i < l->ntopics; i++) {
        br_topic *t = &l->topics[i];
        if (!t->in) continue;
        filters[n] = t->remote_filter;
        /* v5: No Local (loop prevention) and Retain As Published (retained flags pass through) */
        opts[n] = (uint8_t)(t->qos | (l->ver == 5 ? 0x04 | 0x08 : 0));
        n++;
    }
    if (n && mqtt_encode_subscribe(&l->wbuf, l->ver, br_next_pid(l), filters, opts, n, NULL, 0) == 0) br_write(l);
    /* as mosquitto (bridge_attempt_unsubscribe): an `out` topic must not receive from the remote,
       even if an earlier configuration subscribed to it in a persistent session */
    n = 0;
    for (int i = 0; i < l->ntopics; i++) {
        br_topic *t = &l->topics[i];
        if (t->out && !t->in && t->remote_filter) filters[n++] = t->remote_filter;
    }
    if (n && mqtt_encode_unsubscribe(&l->wbuf, l->ver, br_next_pid(l), filters, n, NULL, 0) == 0) br_write(l);
}

static void br_on_connack(te_bridge_link *l, const mqtt_packet *p) {
    if (p->reason != 0) {
        LOG_ERROR("bridge", "event=connect_refused name=%s host=%s port=%d rc=0x%02x", l->conf->name,
                  l->conf->host, l->conf->port, p->reason);
        br_drop_link(l, "connection refused");
        return;
    }
    uint64_t now = te_mono_ms();
    l->state = LS_UP;
    l->up_at = l->last_rx = now;
    l->ping_out = false;
    l->st.connects++;
    l->keepalive_ms = (uint32_t)(l->conf->keepalive > 0 ? l->conf->keepalive : 0) * 1000u;
    l->window = l->opts.max_inflight;
    l->remote_max_qos = 2;
    l->remote_retain = true;
    l->remote_max_packet = 0;
    if (l->ver == 5) {
        if (MQTT_HAS(p->props, MQTT_PROP_SERVER_KEEP_ALIVE)) l->keepalive_ms = p->props.server_keep_alive * 1000u;
        if (MQTT_HAS(p->props, MQTT_PROP_RECEIVE_MAX) && p->props.receive_max < l->window)
            l->window = p->props.receive_max;
        if (MQTT_HAS(p->props, MQTT_PROP_MAX_QOS)) l->remote_max_qos = p->props.max_qos;
        if (MQTT_HAS(p->props, MQTT_PROP_RETAIN_AVAILABLE)) l->remote_retain = p->props.retain_available;
        if (MQTT_HAS(p->props, MQTT_PROP_MAX_PACKET_SIZE)) l->remote_max_packet = p->props.max_packet_size;
    }
    if (l->window == 0) l->window = 1;
    if (!p->session_present) l->nrx2 = 0; /* the remote forgot our QoS 2 exchanges */
    LOG_NOTICE("bridge", "event=connected name=%s host=%s port=%d client_id=%s session_present=%d resend=%u "
               "queued=%u", l->conf->name, l->conf->host, l->conf->port, l->client_id, p->session_present,
               l->inflight.n, l->queue.n);
    br_publish_state(l, 1);
    br_send_subscriptions(l);
    /* unacknowledged messages first, in their order, with DUP */
    for (br_msg *m = l->inflight.head; m && l->state == LS_UP; m = m->next) {
        if (m->state == MS_WAIT_COMP) {
            br_send_ack(l, MQTT_PUBREL, m->pid);
        } else {
            br_send_publish(l, m, m->qos, true);
            l->st.resent++;
        }
    }
    /* the remote's copy of our state, after the resends (mosquitto sends it on every connect) */
    const char one = '1';
    br_msg *n = br_msg_new(l->state_topic, strlen(l->state_topic), (const uint8_t *)&one, 1, NULL, 0, 1, true);
    if (n) {
        n->notif = true;
        br_list_push_front(&l->queue, n);
        l->qbytes += br_msg_bytes(n);
    }
    br_pump(l);
}

/* ---------------------------------------------------------------- remote side: input */

static int br_rx2_find(te_bridge_link *l, uint16_t pid) {
    for (size_t i = 0; i < l->nrx2; i++)
        if (l->rx2[i] == pid) return (int)i;
    return -1;
}

static void br_on_publish(te_bridge_link *l, const mqtt_packet *p) {
    if (p->qos == 2 && br_rx2_find(l, p->packet_id) >= 0) { /* a resend of one we already have */
        br_send_ack(l, MQTT_PUBREC, p->packet_id);
        return;
    }
    const char *topic = (const char *)p->topic.p;
    size_t tlen = p->topic.len;
    if (tlen == 0) { /* a topic alias: we allow none (Topic Alias Maximum 0) */
        br_drop_link(l, "topic alias not allowed");
        return;
    }
    if (br_echo_take(l, topic, tlen, p->payload.p, p->payload.len)) {
        l->st.echoes++;
        LOG_DEBUG("bridge", "event=echo_dropped name=%s topic=\"%.*s\"", l->conf->name, (int)tlen, topic);
    } else {
        br_topic *t = NULL;
        for (int i = 0; i < l->ntopics && !t; i++)
            if (l->topics[i].in && br_match(l->topics[i].remote_filter, topic, tlen)) t = &l->topics[i];
        char *lt = t ? br_map(t, topic, tlen, false) : NULL;
        if (!lt) {
            LOG_DEBUG("bridge", "event=unmapped_in name=%s topic=\"%.*s\"", l->conf->name, (int)tlen, topic);
        } else {
            uint8_t qos = p->qos < t->qos ? p->qos : t->qos;
            buf_t props;
            buf_init(&props);
            if (l->ver == 5 && p->props.raw.len) mqtt_props_forwardable(p->props.raw, &props);
            l->st.received++;
            if (mqtt_broker_publish_ex(l->broker, lt, p->payload.p, p->payload.len, qos, p->retain, props.data,
                                       props.len, l, te_mono_ms()))
                LOG_WARN("bridge", "event=local_publish_failed name=%s topic=\"%s\"", l->conf->name, lt);
            buf_free(&props);
            free(lt);
        }
    }
    if (l->state != LS_UP) return; /* the local publish may not close us, but be safe */
    if (p->qos == 1) {
        br_send_ack(l, MQTT_PUBACK, p->packet_id);
    } else if (p->qos == 2) {
        if (l->nrx2 == l->caprx2) {
            size_t cap = l->caprx2 ? l->caprx2 * 2 : 16;
            if (cap > 65535) { br_drop_link(l, "too many QoS 2 messages in flight"); return; }
            uint16_t *n = realloc(l->rx2, cap * sizeof *n);
            if (!n) { br_drop_link(l, "out of memory"); return; }
            l->rx2 = n;
            l->caprx2 = cap;
        }
        l->rx2[l->nrx2++] = p->packet_id;
        br_send_ack(l, MQTT_PUBREC, p->packet_id);
    }
}

static void br_on_packet(te_bridge_link *l, const mqtt_packet *p) {
    if (l->state == LS_WAIT_CONNACK) {
        if (p->type == MQTT_CONNACK) br_on_connack(l, p);
        else if (p->type == MQTT_DISCONNECT) br_drop_link(l, "DISCONNECT before CONNACK");
        else br_drop_link(l, "expected CONNACK");
        return;
    }
    br_msg *m;
    switch (p->type) {
    case MQTT_PUBLISH: br_on_publish(l, p); break;
    case MQTT_PUBACK:
        m = br_list_find(&l->inflight, p->packet_id, MS_WAIT_ACK, 1);
        if (!m) break; /* unknown id: nothing to do */
        if (p->reason >= 0x80)
            LOG_WARN("bridge", "event=publish_refused name=%s topic=\"%s\" rc=0x%02x", l->conf->name, m->topic,
                     p->reason);
        br_list_remove(&l->inflight, m);
        free(m);
        br_pump(l);
        break;
    case MQTT_PUBREC:
        m = br_list_find(&l->inflight, p->packet_id, MS_WAIT_ACK, 2);
        if (m && p->reason >= 0x80) { /* v5: refused, the exchange ends here */
            LOG_WARN("bridge", "event=publish_refused name=%s topic=\"%s\" rc=0x%02x", l->conf->name, m->topic,
                     p->reason);
            br_list_remove(&l->inflight, m);
            free(m);
            br_pump(l);
            break;
        }
        if (m) m->state = MS_WAIT_COMP;
        br_send_ack(l, MQTT_PUBREL, p->packet_id);
        break;
    case MQTT_PUBCOMP:
        m = br_list_find(&l->inflight, p->packet_id, MS_WAIT_COMP, 0);
        if (!m) break;
        br_list_remove(&l->inflight, m);
        free(m);
        br_pump(l);
        break;
    case MQTT_PUBREL: {
        int i = br_rx2_find(l, p->packet_id);
        if (i >= 0) l->rx2[i] = l->rx2[--l->nrx2];
        br_send_ack(l, MQTT_PUBCOMP, p->packet_id);
        break;
    }
    case MQTT_SUBACK:
        for (uint32_t i = 0; i < p->entries.len; i++)
            if (p->entries.p[i] >= 0x80)
                LOG_WARN("bridge", "event=subscribe_refused name=%s index=%u rc=0x%02x", l->conf->name, i,
                         p->entries.p[i]);
        break;
    case MQTT_UNSUBACK: break;
    case MQTT_PINGRESP: l->ping_out = false; break;
    case MQTT_DISCONNECT:
        LOG_WARN("bridge", "event=remote_disconnect name=%s rc=0x%02x", l->conf->name, p->reason);
        br_drop_link(l, "DISCONNECT from remote");
        break;
    default:
        LOG_WARN("bridge", "event=bad_input name=%s packet=%s", l->conf->name, mqtt_type_name(p->type));
        br_drop_link(l, "unexpected packet");
        break;
    }
    br_update_counts(l);
}

/* ---------------------------------------------------------------- transport */

static void br_schedule(te_bridge_link *l) {
    if (l->stopped) return;
    uint32_t d = l->backoff_ms + br_rand(l) % (l->backoff_ms / 5 + 1);
    l->next_attempt = te_mono_ms() + d;
    l->backoff_ms = l->backoff_ms * 2 > BR_BACKOFF_MAX_MS ? BR_BACKOFF_MAX_MS : l->backoff_ms * 2;
    LOG_INFO("bridge", "event=reconnect_scheduled name=%s delay_ms=%u", l->conf->name, d);
}

/* the link is gone (closed, refused or never opened) */
static void br_link_down(te_bridge_link *l, const char *why) {
    bool was_up = l->state == LS_UP || (l->state == LS_CLOSING && l->up_at);
    l->state = LS_IDLE;
    l->conn = NULL;
    buf_reset(&l->rbuf);
    l->ping_out = false;
    br_list_drop_notif(l, &l->queue);
    br_list_drop_notif(l, &l->inflight);
    br_update_counts(l);
    if (was_up) {
        uint64_t lived = te_mono_ms() - l->up_at;
        LOG_WARN("bridge", "event=link_down name=%s why=\"%s\" up_ms=%" PRIu64 " inflight=%u queued=%u",
                 l->conf->name, why, lived, l->inflight.n, l->queue.n);
        if (lived >= BR_STABLE_MS) l->backoff_ms = BR_BACKOFF_MIN_MS;
    }
    l->up_at = 0;
    if (l->stopped) return;
    br_publish_state(l, 0);
    br_schedule(l);
}

static void br_drop_link(te_bridge_link *l, const char *why) {
    if (l->state == LS_CLOSING || !l->conn) return;
    LOG_WARN("bridge", "event=drop_link name=%s why=\"%s\"", l->conf->name, why);
    if (l->state != LS_UP) l->up_at = 0;
    l->state = LS_CLOSING;
    net_conn_abort(l->conn); /* on_close follows from the loop */
}

static void br_on_open(net_conn *c, void *ud) {
    te_bridge_link *l = ud;
    net_conn_set_data(c, l);
    l->conn = c;
    if (l->stopped) {
        l->state = LS_CLOSING;
        net_conn_abort(c);
        return;
    }
    l->state = LS_WAIT_CONNACK;
    l->attempt_at = l->last_rx = te_mono_ms();
    buf_reset(&l->rbuf);
    LOG_INFO("bridge", "event=tcp_connected name=%s peer=%s kind=%s", l->conf->name, net_conn_peer(c),
             net_conn_kind(c));
    br_send_connect(l);
}

static void br_on_data(net_conn *c, const uint8_t *p, size_t n) {
    te_bridge_link *l = net_conn_data(c);
    if (!l || l->conn != c || l->state == LS_CLOSING || l->stopped) return;
    if (buf_append(&l->rbuf, p, n)) { br_drop_link(l, "out of memory"); return; }
    l->last_rx = te_mono_ms();
    size_t off = 0;
    while (off < l->rbuf.len && (l->state == LS_WAIT_CONNACK || l->state == LS_UP)) {
        mqtt_packet pkt;
        size_t used = 0;
        int rc = mqtt_decode(l->rbuf.data + off, l->rbuf.len - off, l->ver, l->opts.max_packet_size, &pkt, &used);
        if (rc == MQTT_NEED_MORE) break;
        if (rc != MQTT_OK) {
            LOG_WARN("bridge", "event=bad_input name=%s packet=%s err=%d reason=0x%02x", l->conf->name,
                     mqtt_type_name(pkt.type), rc, pkt.reason);
            if (l->ver == 5 && mqtt_encode_disconnect(&l->wbuf, 5, pkt.reason ? pkt.reason : MQTT_RC_MALFORMED,
                                                      NULL, 0) == 0)
                br_write(l);
            br_drop_link(l, "malformed packet");
            break;
        }
        off += used;
        br_on_packet(l, &pkt);
    }
    if (l->state == LS_WAIT_CONNACK || l->state == LS_UP) buf_consume(&l->rbuf, off);
}

static void br_on_close(net_conn *c) {
    te_bridge_link *l = net_conn_data(c);
    net_conn_set_data(c, NULL);
    if (!l || l->conn != c) return;
    br_link_down(l, l->state == LS_CLOSING ? "dropped" : "connection closed");
}

static void br_on_connect_error(void *ud, const char *why) {
    te_bridge_link *l = ud;
    LOG_WARN("bridge", "event=connect_failed name=%s host=%s port=%d err=\"%s\"", l->conf->name, l->conf->host,
             l->conf->port, why);
    l->state = LS_IDLE;
    if (!l->stopped) br_schedule(l);
}

static const net_conn_cbs br_cbs = {br_on_open, br_on_data, br_on_close, br_on_connect_error, NULL};

static void br_attempt(te_bridge_link *l) {
    const te_bridge *c = l->conf;
    l->st.attempts++;
    LOG_NOTICE("bridge", "event=connecting name=%s host=%s port=%d tls=%d attempt=%" PRIu64, c->name, c->host,
               c->port, c->tls, l->st.attempts);
    net_connect_opts o;
    memset(&o, 0, sizeof o);
    o.host = c->host;
    o.port = c->port;
    o.tls = c->tls;
    o.tls_opts.cafile = c->cafile;
    o.tls_opts.certfile = c->certfile;
    o.tls_opts.keyfile = c->keyfile;
    o.tls_opts.insecure = c->insecure;
    char err[256];
    l->state = LS_CONNECTING;
    if (net_connect(l->loop, &o, &br_cbs, l, err, sizeof err)) {
        LOG_WARN("bridge", "event=connect_failed name=%s host=%s port=%d err=\"%s\"", c->name, c->host, c->port, err);
        l->state = LS_IDLE;
        br_schedule(l);
    }
}

static void br_on_tick(uv_timer_t *t) {
    te_bridge_link *l = t->data;
    if (l->stopped) return;
    uint64_t now = te_mono_ms();
    if (l->state == LS_IDLE && l->next_attempt && now >= l->next_attempt) {
        l->next_attempt = 0;
        br_attempt(l);
    } else if (l->state == LS_WAIT_CONNACK && now - l->attempt_at >= BR_CONNACK_TIMEOUT_MS) {
        br_drop_link(l, "no CONNACK");
    } else if (l->state == LS_UP && l->keepalive_ms) {
        if (l->ping_out) {
            if (now - l->ping_at >= l->keepalive_ms) br_drop_link(l, "no PINGRESP within keepalive");
        } else if (now - l->last_tx >= l->keepalive_ms || now - l->last_rx >= l->keepalive_ms) {
            if (mqtt_encode_ping(&l->wbuf, MQTT_PINGREQ) == 0) br_write(l);
            l->ping_out = true;
            l->ping_at = now;
        }
    }
}

/* ---------------------------------------------------------------- lifecycle */

static int br_setup_topics(te_bridge_link *l, char *err, size_t errlen) {
    const te_bridge *c = l->conf;
    for (int i = 0; i < c->ntopics; i++) {
        const te_bridge_topic *ct = &c->topics[i];
        br_topic *t = &l->topics[l->ntopics];
        t->l = l;
        t->idx = l->ntopics;
        t->qos = (uint8_t)(ct->qos < 0 ? 0 : ct->qos > 2 ? 2 : ct->qos);
        t->in = ct->direction == 0 || ct->direction == 1;
        t->out = ct->direction == 0 || ct->direction == 2;
        t->lpfx = ct->local_prefix ? ct->local_prefix : "";
        t->rpfx = ct->remote_prefix ? ct->remote_prefix : "";
        const char *pat = ct->pattern ? ct->pattern : "";
        t->exact = !*pat || !strcmp(pat, "\"\"");
        if (t->exact && (!*t->lpfx || !*t->rpfx)) {
            snprintf(err, errlen, "bridge %s: topic \"\" needs both a local and a remote prefix", c->name);
            return -1;
        }
        if (t->exact) pat = "";
        t->local_filter = br_concat(t->lpfx, pat);
        t->remote_filter = br_concat(t->rpfx, pat);
        l->ntopics++;
        if (!t->local_filter || !t->remote_filter) { snprintf(err, errlen, "out of memory"); return -1; }
        if (!mqtt_topic_filter_valid((const uint8_t *)t->local_filter, strlen(t->local_filter)) ||
            !mqtt_topic_filter_valid((const uint8_t *)t->remote_filter, strlen(t->remote_filter))) {
            snprintf(err, errlen, "bridge %s: topic %s maps to an invalid filter (local \"%s\", remote \"%s\")",
                     c->name, pat, t->local_filter, t->remote_filter);
            return -1;
        }
        if (t->in) l->any_in = true;
    }
    return 0;
}

int te_bridge_start(uv_loop_t *loop, mqtt_broker *broker, const te_bridge *conf, const te_bridge_opts *opts,
                    te_bridge_link **out, char *err, size_t errlen) {
    *out = NULL;
    if (!conf->name || !*conf->name) { snprintf(err, errlen, "bridge without a connection name"); return -1; }
    if (!conf->host || !*conf->host) { snprintf(err, errlen, "bridge %s: no address", conf->name); return -1; }
    if (conf->port <= 0 || conf->port > 65535) { snprintf(err, errlen, "bridge %s: bad port", conf->name); return -1; }
    te_bridge_link *l = calloc(1, sizeof *l);
    if (!l) { snprintf(err, errlen, "out of memory"); return -1; }
    l->loop = loop;
    l->broker = broker;
    l->conf = conf;
    if (opts) l->opts = *opts;
    if (!l->opts.max_inflight) l->opts.max_inflight = BR_DEFAULT_INFLIGHT;
    if (l->opts.max_inflight > 65535) l->opts.max_inflight = 65535;
    if (!l->opts.max_queued) l->opts.max_queued = BR_DEFAULT_QUEUED;
    if (!l->opts.max_queued_bytes) l->opts.max_queued_bytes = BR_DEFAULT_QUEUED_BYTES;
    l->ver = conf->protocol_version == 5 ? 5 : 4;
    l->local_state = -1;
    l->backoff_ms = BR_BACKOFF_MIN_MS;
    l->rng = uv_hrtime() ^ ((uint64_t)(uintptr_t)l << 16) ^ 0x9E3779B97F4A7C15ull;
    buf_init(&l->rbuf);
    buf_init(&l->wbuf);
    if (conf->remote_clientid && *conf->remote_clientid) {
        l->client_id = strdup(conf->remote_clientid);
    } else { /* mosquitto's default: <hostname>.<connection name> */
        char host[256] = "localhost";
        if (gethostname(host, sizeof host - 1)) snprintf(host, sizeof host, "localhost");
        host[sizeof host - 1] = 0;
        size_t n = strlen(host) + 1 + strlen(conf->name) + 1;
        l->client_id = malloc(n);
        if (l->client_id) snprintf(l->client_id, n, "%s.%s", host, conf->name);
    }
    if (l->client_id) {
        size_t n = strlen(l->client_id) + sizeof "$SYS/broker/connection//state";
        l->state_topic = malloc(n);
        if (l->state_topic) snprintf(l->state_topic, n, "$SYS/broker/connection/%s/state", l->client_id);
    }
    if (!l->client_id || !l->state_topic) {
        snprintf(err, errlen, "out of memory");
        te_bridge_free(l);
        return -1;
    }
    if (br_setup_topics(l, err, errlen)) {
        te_bridge_free(l);
        return -1;
    }
    for (int i = 0; i < l->ntopics; i++) {
        br_topic *t = &l->topics[i];
        if (t->out && mqtt_broker_subscribe_internal(broker, t->local_filter, br_on_local, t) < 0) {
            snprintf(err, errlen, "bridge %s: cannot subscribe to %s", conf->name, t->local_filter);
            l->stopped = true; /* the subscriptions made so far stay, inert */
            *out = l;          /* the caller frees it with the broker */
            return -1;
        }
        LOG_INFO("bridge", "event=topic name=%s direction=%s qos=%u local=\"%s\" remote=\"%s\"", conf->name,
                 t->in && t->out ? "both" : t->in ? "in" : "out", t->qos, t->local_filter, t->remote_filter);
    }
    uv_timer_init(loop, &l->tick);
    l->tick.data = l;
    uv_timer_start(&l->tick, br_on_tick, BR_TICK_MS, BR_TICK_MS);
    br_publish_state(l, 0);
    *out = l;
    br_attempt(l);
    return 0;
}

void te_bridge_stop(te_bridge_link *l) {
    if (!l || l->stopped) return;
    if (l->conn) {
        if (l->state == LS_UP) {
            const char zero = '0';
            if (mqtt_encode_publish(&l->wbuf, l->ver, 0, true, false, 0, l->state_topic, strlen(l->state_topic),
                                    NULL, 0, &zero, 1) == 0)
                br_write(l);
            if (mqtt_encode_disconnect(&l->wbuf, l->ver, 0, NULL, 0) == 0) br_write(l);
            l->state = LS_CLOSING;
            net_conn_close(l->conn);
        } else if (l->state != LS_CLOSING) {
            l->state = LS_CLOSING;
            net_conn_abort(l->conn);
        }
    }
    br_publish_state(l, 0);
    l->stopped = true;
    l->next_attempt = 0;
    LOG_NOTICE("bridge", "event=stopped name=%s sent=%" PRIu64 " received=%" PRIu64 " resent=%" PRIu64
               " echoes=%" PRIu64 " dropped=%" PRIu64 " queued=%u inflight=%u", l->conf->name, l->st.sent,
               l->st.received, l->st.resent, l->st.echoes, l->st.dropped, l->queue.n, l->inflight.n);
    uv_timer_stop(&l->tick);
    if (!uv_is_closing((uv_handle_t *)&l->tick)) uv_close((uv_handle_t *)&l->tick, NULL);
}

void te_bridge_free(te_bridge_link *l) {
    if (!l) return;
    if (l->conn) net_conn_set_data(l->conn, NULL);
    br_list_free(&l->inflight);
    br_list_free(&l->queue);
    for (int i = 0; i < l->ntopics; i++) {
        free(l->topics[i].local_filter);
        free(l->topics[i].remote_filter);
    }
    buf_free(&l->rbuf);
    buf_free(&l->wbuf);
    free(l->rx2);
    free(l->echo);
    free(l->client_id);
    free(l->state_topic);
    free(l);
}

bool te_bridge_connected(const te_bridge_link *l) { return l && l->state == LS_UP; }

const te_bridge_stats *te_bridge_stats_get(const te_bridge_link *l) { return &l->st; }
