/* mqtt/broker: engine lifecycle, the per-connection input loop (framing, dispatch by packet type,
 * protocol-error handling), timers (keep-alive, connect timeout, will delay, session expiry) and
 * $SYS publication. Packet handlers live in handle_connect.c, handle_publish.c, handle_subscribe.c. */
#include <inttypes.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/log.h"
#include "mqtt/broker_internal.h"
#include "mqtt/store.h"
#include "mqtt/topic.h"

#define TE_MQTT_CONNECT_MAX (1u << 20)

void mqtt_broker_conf_defaults(mqtt_broker_conf *c) {
    memset(c, 0, sizeof *c);
    c->max_inflight = 20;
    c->max_queued = 1000;
    c->max_keepalive = 65535;
    c->topic_alias_max = 10;
    c->retain_available = true;
    c->allow_anonymous = true;
    c->allow_zero_length_clientid = true;
    c->connect_timeout_ms = 10000;
    c->sys_interval_s = 10;
    c->out_high_water = 1u << 20;
    c->max_out_pending = 8u << 20;
    c->version_string = "tinyedge";
}

mqtt_msg *mqtt_msg_new(const void *topic, size_t tlen, const void *props, size_t plen, const void *payload,
                       size_t len, uint8_t qos, bool retain, uint64_t expiry_at) {
    mqtt_msg *m = malloc(sizeof *m + tlen + 1 + plen + len);
    if (!m) return NULL;
    m->refs = 1;
    m->qos = qos;
    m->retain = retain;
    m->topic_len = (uint16_t)tlen;
    m->props_len = (uint32_t)plen;
    m->payload_len = (uint32_t)len;
    m->expiry_at = expiry_at;
    m->expiry_s = 0;
    m->store_id = 0;
    m->origin = NULL;
    m->topic = (char *)(m + 1);
    memcpy(m->topic, topic, tlen);
    m->topic[tlen] = 0;
    m->props = (uint8_t *)m->topic + tlen + 1;
    if (plen) memcpy(m->props, props, plen);
    m->payload = m->props + plen;
    if (len) memcpy(m->payload, payload, len);
    return m;
}

void mqtt_msg_unref(mqtt_msg *m) {
    if (m && --m->refs == 0) free(m);
}

mqtt_broker *mqtt_broker_new(const mqtt_broker_conf *conf, const mqtt_broker_io *io) {
    mqtt_broker *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->conf = *conf;
    if (!b->conf.max_inflight || b->conf.max_inflight > 65535) b->conf.max_inflight = 65535;
    b->io = *io;
    hmap_init(&b->sessions);
    hmap_init(&b->retained);
    buf_init(&b->scratch);
    buf_init(&b->scratch2);
    b->st.started_ms = 0;
    b->last_sys = 0;
    return b;
}

void mqtt_broker_set_store(mqtt_broker *b, struct mqtt_store *st) { b->store = st; }

const mqtt_broker_stats *mqtt_broker_stats_get(mqtt_broker *b) {
    b->st.retained_count = b->retained.count;
    b->st.sessions_count = b->sessions.count - b->internal_count;
    return &b->st;
}

static void client_free(mqtt_client *c) {
    buf_free(&c->in);
    free(c->username);
    free(c->tls_cn);
    if (c->rx_alias) {
        for (size_t i = 0; i <= c->b->conf.topic_alias_max; i++) free(c->rx_alias[i]);
        free(c->rx_alias);
    }
    if (c->tx_alias_topics) {
        for (size_t i = 0; i <= c->peer_alias_max; i++) free(c->tx_alias_topics[i]);
        free(c->tx_alias_topics);
    }
    if (c->tx_alias) { hmap_free(c->tx_alias); free(c->tx_alias); }
    mqtt_msg_unref(c->will);
    free(c);
}

void mqtt_broker_free(mqtt_broker *b) {
    if (!b) return;
    while (b->clients) {
        mqtt_client *c = b->clients;
        b->clients = c->next;
        if (c->s) c->s->c = NULL;
        client_free(c);
    }
    while (b->all_sessions) session_free(b, b->all_sessions);
    size_t it = 0;
    mqtt_msg *m;
    while ((m = hmap_next(&b->retained, &it, NULL, NULL))) mqtt_msg_unref(m);
    hmap_free(&b->retained);
    hmap_free(&b->sessions);
    subtree_free(&b->root);
    buf_free(&b->scratch);
    buf_free(&b->scratch2);
    free(b->acc);
    free(b->paused);
    free(b);
}

mqtt_client *mqtt_broker_accept(mqtt_broker *b, void *conn, const char *peer, const char *tls_cn, uint64_t now) {
    mqtt_client *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->b = b;
    c->conn = conn;
    buf_init(&c->in);
    c->peer = peer ? peer : "?";
    if (tls_cn) c->tls_cn = strdup(tls_cn);
    c->accepted_at = c->last_rx = now;
    c->request_problem_info = true;
    c->next = b->clients;
    if (b->clients) b->clients->prev = c;
    b->clients = c;
    b->now = now;
    if (!b->st.started_ms) b->st.started_ms = now;
    return c;
}

void broker_send(mqtt_client *c, const buf_t *out) {
    if (c->state == CL_CLOSING || !out->len) return;
    mqtt_broker *b = c->b;
    b->st.msgs_sent++;
    b->st.bytes_sent += out->len;
    if (b->io.write(b->io.ud, c->conn, out->data, out->len)) c->state = CL_CLOSING;
}

void broker_close(mqtt_client *c) {
    if (c->state == CL_CLOSING) return;
    c->state = CL_CLOSING;
    c->b->io.close(c->b->io.ud, c->conn);
}

/* v5: DISCONNECT with a reason code (and string), then close. v3: just close. */
void broker_disconnect(mqtt_client *c, uint8_t rc, const char *reason) {
    mqtt_broker *b = c->b;
    LOG_INFO("mqtt", "event=disconnect client=%s peer=%s rc=0x%02x reason=\"%s\"", c->s ? c->s->id : "-", c->peer,
             rc, reason ? reason : "");
    if (c->ver == 5 && c->state != CL_CLOSING) {
        buf_t *out = &b->scratch2;
        buf_reset(out);
        buf_t pr;
        buf_init(&pr);
        if (reason && c->request_problem_info) mqtt_prop_put_str(&pr, MQTT_PROP_REASON_STRING, reason, strlen(reason));
        mqtt_encode_disconnect(out, 5, rc, pr.data, pr.len);
        buf_free(&pr);
        broker_send(c, out);
    }
    if (rc >= 0x80) b->st.protocol_errors++;
    broker_close(c);
}

static void dispatch_error(mqtt_client *c, int err, uint8_t reason) {
    static const char *why[] = {"", "", "malformed packet", "protocol error", "packet too large", "unsupported version"};
    int idx = -err + 1;
    const char *w = idx >= 0 && idx < 6 ? why[idx] : "error";
    if (c->state == CL_CONNECTING) {
        /* before CONNACK: answer with a CONNACK carrying the reason where the protocol allows */
        mqtt_broker *b = c->b;
        LOG_INFO("mqtt", "event=connect_rejected peer=%s reason=\"%s\"", c->peer, w);
        b->st.protocol_errors++;
        if (err == MQTT_E_VERSION) {
            buf_t *out = &b->scratch2;
            buf_reset(out);
            /* answer an unknown version in 3.1.1 form (the client may not speak 5) */
            mqtt_encode_connack(out, 4, false, MQTT_V3_BAD_VERSION, NULL, 0);
            broker_send(c, out);
        }
        broker_close(c);
        return;
    }
    /* after CONNACK an unsupported-version CONNECT is first of all a second CONNECT; 0x84 is
     * not a DISCONNECT reason code */
    if (err == MQTT_E_VERSION) reason = MQTT_RC_PROTOCOL_ERROR;
    broker_disconnect(c, reason ? reason : MQTT_RC_MALFORMED, w);
}

static int dispatch(mqtt_client *c, const mqtt_packet *p) {
    if (c->state == CL_CONNECTING && p->type != MQTT_CONNECT) return -1;
    switch (p->type) {
    case MQTT_CONNECT:
        if (c->state != CL_CONNECTING) {
            broker_disconnect(c, MQTT_RC_PROTOCOL_ERROR, "second CONNECT");
            return -1;
        }
        return handle_connect(c, p);
    case MQTT_PUBLISH: return handle_publish(c, p);
    case MQTT_PUBACK: return handle_puback(c, p);
    case MQTT_PUBREC: return handle_pubrec(c, p);
    case MQTT_PUBREL: return handle_pubrel(c, p);
    case MQTT_PUBCOMP: return handle_pubcomp(c, p);
    case MQTT_SUBSCRIBE: return handle_subscribe(c, p);
    case MQTT_UNSUBSCRIBE: return handle_unsubscribe(c, p);
    case MQTT_PINGREQ: {
        buf_t *out = &c->b->scratch;
        buf_reset(out);
        mqtt_encode_ping(out, MQTT_PINGRESP);
        broker_send(c, out);
        return 0;
    }
    case MQTT_DISCONNECT: return handle_disconnect(c, p);
    case MQTT_AUTH:
        broker_disconnect(c, MQTT_RC_PROTOCOL_ERROR, "AUTH without an authentication method");
        return -1;
    default:
        broker_disconnect(c, MQTT_RC_PROTOCOL_ERROR, "unexpected packet type from a client");
        return -1;
    }
}

static void client_pause(mqtt_broker *b, mqtt_client *c, bool on) {
    if (on == c->paused) return;
    if (on) {
        if (b->npaused == b->cappaused) {
            size_t nc = b->cappaused ? b->cappaused * 2 : 16;
            mqtt_client **np = realloc(b->paused, nc * sizeof *np);
            if (!np) return; /* not paused: input keeps flowing */
            b->paused = np;
            b->cappaused = nc;
        }
        c->paused_idx = (uint32_t)b->npaused;
        b->paused[b->npaused++] = c;
    } else {
        mqtt_client *last = b->paused[--b->npaused];
        b->paused[c->paused_idx] = last;
        last->paused_idx = c->paused_idx;
    }
    c->paused = on;
    if (b->io.pause) b->io.pause(b->io.ud, c->conn, on);
}

/* Frame and dispatch what is buffered; stops when a handler asks to hold input (back-pressure). */
static int process(mqtt_broker *b, mqtt_client *c, const uint8_t *p, size_t n, bool *held) {
    size_t off = 0;
    *held = false;
    while (off < n && c->state != CL_CLOSING) {
        mqtt_packet pkt;
        size_t used = 0;
        uint32_t max = b->conf.max_packet_size;
        /* before CONNECT nobody is authenticated: do not buffer more than 1 MiB for a stranger */
        if (c->state == CL_CONNECTING && (!max || max > TE_MQTT_CONNECT_MAX)) max = TE_MQTT_CONNECT_MAX;
        int r = mqtt_decode(p + off, n - off, c->ver, max, &pkt, &used);
        if (r == MQTT_NEED_MORE) break;
        if (r < 0) {
            dispatch_error(c, r, pkt.reason);
            return -1;
        }
        b->st.msgs_received++;
        b->st.bytes_received += used;
        int hr = dispatch(c, &pkt);
        if (hr == 1) { *held = true; break; } /* not consumed: retry later */
        off += used;
        if (hr == 2) { *held = true; break; } /* consumed, but a subscriber is behind: pause */
        if (hr < 0) {
            if (c->state != CL_CLOSING) broker_close(c);
            return -1;
        }
    }
    return (int)off;
}

int mqtt_broker_input(mqtt_broker *b, mqtt_client *c, const uint8_t *p, size_t n, uint64_t now) {
    b->now = now;
    if (c->state == CL_CLOSING) return -1;
    c->last_rx = now;
    if (c->paused) return buf_append(&c->in, p, n) ? -1 : 0;
    bool held;
    int used;
    if (c->in.len == 0) {
        used = process(b, c, p, n, &held);
        if (used < 0) return -1;
        if ((size_t)used < n && buf_append(&c->in, p + used, n - (size_t)used)) return -1;
    } else {
        if (buf_append(&c->in, p, n)) return -1;
        used = process(b, c, c->in.data, c->in.len, &held);
        if (used < 0) return -1;
        buf_consume(&c->in, (size_t)used);
    }
    if (held && !c->paused) client_pause(b, c, true);
    /* a CONNECT larger than the configured limit is refused by the decoder; guard the buffer of a
     * client that trickles an endless packet when no limit is configured */
    return 0;
}

void mqtt_broker_resume_input(mqtt_broker *b, mqtt_client *c, uint64_t now) {
    if (!c->paused || c->state == CL_CLOSING) return;
    b->now = now;
    bool held;
    int used = process(b, c, c->in.data, c->in.len, &held);
    if (used < 0) return;
    buf_consume(&c->in, (size_t)used);
    if (!held) {
        client_pause(b, c, false);
        c->last_rx = now; /* the keep-alive clock restarts once we read again */
    }
}

static void resume_all(mqtt_broker *b, uint64_t now) {
    /* resuming may pause again (and reorder the list): walk a snapshot */
    size_t n = b->npaused;
    if (!n) return;
    mqtt_client *stackbuf[64], **list = n <= 64 ? stackbuf : malloc(n * sizeof *list);
    if (!list) return;
    memcpy(list, b->paused, n * sizeof *list);
    for (size_t i = 0; i < n; i++) mqtt_broker_resume_input(b, list[i], now);
    if (list != stackbuf) free(list);
}

size_t mqtt_broker_paused_count(const mqtt_broker *b) { return b->npaused; }

void mqtt_broker_drained(mqtt_broker *b, mqtt_client *c, uint64_t now) {
    b->now = now;
    if (b->npaused) resume_all(b, now);
}

/* Publish a will now (it is ours: the reference is consumed). */
void broker_publish_will(mqtt_broker *b, mqtt_msg *will) {
    if (!will) return;
    if (will->retain && !b->conf.retain_available) will->retain = false;
    if (will->expiry_s) will->expiry_at = b->now + (uint64_t)will->expiry_s * 1000u;
    if (will->retain) retain_set(b, will);
    broker_route(b, NULL, will);
    mqtt_msg_unref(will);
}

void mqtt_broker_closed(mqtt_broker *b, mqtt_client *c, uint64_t now) {
    b->now = now;
    if (c->paused) client_pause(b, c, false);
    if (c->prev) c->prev->next = c->next;
    else b->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    mqtt_session *s = c->s;
    if (s && s->c == c) {
        b->st.clients_connected--;
        s->c = NULL;
        s->offline_since = now;
        mqtt_msg *will = c->will;
        c->will = NULL;
        LOG_INFO("mqtt", "event=closed client=%s peer=%s", s->id, c->peer);
        if (will && c->will_delay && s->persistent && s->expiry_s > 0) {
            mqtt_msg_unref(s->will);
            s->will = will;
            s->will_at = now + (uint64_t)c->will_delay * 1000u;
            will = NULL;
        }
        if (will) broker_publish_will(b, will);
        if (!s->persistent || s->expiry_s == 0) session_end(b, s);
        else if (b->store) mqtt_store_session(b->store, s);
    }
    client_free(c);
}

void mqtt_broker_shutdown(mqtt_broker *b) {
    for (mqtt_client *c = b->clients; c; c = c->next) {
        if (c->state == CL_CLOSING) continue;
        if (c->ver == 5 && c->state == CL_CONNECTED) broker_disconnect(c, MQTT_RC_SERVER_SHUTTING_DOWN, "server shutting down");
        else broker_close(c);
    }
}

int mqtt_broker_publish_ex(mqtt_broker *b, const char *topic, const void *payload, size_t len, uint8_t qos,
                           bool retain, const uint8_t *props, size_t props_len, const void *origin, uint64_t now) {
    b->now = now;
    size_t tl = strlen(topic);
    if (tl == 0 || tl > 65535 || qos > 2 || !mqtt_topic_name_valid((const uint8_t *)topic, tl)) return -1;
    mqtt_msg *m = mqtt_msg_new(topic, tl, props, props_len, payload, len, qos, retain, 0);
    if (!m) return -1;
    m->origin = origin;
    if (retain && b->conf.retain_available) retain_set(b, m);
    broker_route(b, NULL, m);
    mqtt_msg_unref(m);
    return 0;
}

int mqtt_broker_publish(mqtt_broker *b, const char *topic, const void *payload, size_t len, uint8_t qos,
                        bool retain, uint64_t now) {
    return mqtt_broker_publish_ex(b, topic, payload, len, qos, retain, NULL, 0, NULL, now);
}

int mqtt_broker_subscribe_internal(mqtt_broker *b, const char *filter, mqtt_internal_cb cb, void *ud) {
    mqtt_session *s = calloc(1, sizeof *s);
    if (!s) return -1;
    char id[48];
    snprintf(id, sizeof id, "$internal/%u", ++b->internal_seq);
    s->id = strdup(id);
    s->id_len = strlen(id);
    s->isub = malloc(sizeof *s->isub);
    if (!s->isub) { free(s->id); free(s); return -1; }
    s->isub->cb = cb;
    s->isub->ud = ud;
    s->persistent = true;
    s->expiry_s = UINT32_MAX;
    s->next_all = b->all_sessions;
    if (b->all_sessions) b->all_sessions->prev_all = s;
    b->all_sessions = s;
    hmap_put(&b->sessions, s->id, s->id_len, s);
    bool existed;
    int rc = session_add_sub(b, s, filter, 2 | 0x08, 0, &existed); /* QoS and retain flag as published */
    /* in-process subscribers are not clients: $SYS and /metrics count clients' subscriptions only */
    if (rc == 0 && !existed && b->st.subscriptions_count) b->st.subscriptions_count--;
    b->internal_count++;
    return rc;
}

static void publish_sys(mqtt_broker *b, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void publish_sys(mqtt_broker *b, const char *name, const char *fmt, ...) {
    char topic[128], val[128];
    snprintf(topic, sizeof topic, "$SYS/broker/%s", name);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(val, sizeof val, fmt, ap);
    va_end(ap);
    mqtt_msg *m = mqtt_msg_new(topic, strlen(topic), NULL, 0, val, n > 0 ? (size_t)n : 0, 0, true, 0);
    if (!m) return;
    /* $SYS values are retained in memory but not persisted */
    mqtt_msg *old = hmap_get(&b->retained, m->topic, m->topic_len);
    hmap_put(&b->retained, m->topic, m->topic_len, mqtt_msg_ref(m));
    mqtt_msg_unref(old);
    broker_route(b, NULL, m);
    mqtt_msg_unref(m);
}

/* Mosquitto's $SYS/broker/load/<name>/{1min,5min,15min}: the rate per minute over the last
 * interval, folded into exponential moving averages with 1, 5 and 15 minute time constants. */
static void sys_publish_load(mqtt_broker *b, const mqtt_broker_stats *st, double interval_s) {
    static const char *names[8] = {"messages/received", "messages/sent", "publish/received", "publish/sent",
                                   "publish/dropped", "bytes/received", "bytes/sent", "connections"};
    const uint64_t now_v[8] = {st->msgs_received, st->msgs_sent, st->pub_received, st->pub_sent, st->pub_dropped,
                               st->bytes_received, st->bytes_sent, st->clients_total};
    static const double window_s[3] = {60.0, 300.0, 900.0};
    static const char *suffix[3] = {"1min", "5min", "15min"};
    for (int i = 0; i < 8; i++) {
        double per_min = interval_s > 0 ? (double)(now_v[i] - b->load_prev[i]) * 60.0 / interval_s : 0;
        b->load_prev[i] = now_v[i];
        for (int k = 0; k < 3; k++) {
            double w = exp(-interval_s / window_s[k]);
            b->load_avg[i][k] = b->load_avg[i][k] * w + per_min * (1.0 - w);
            char name[64];
            snprintf(name, sizeof name, "load/%s/%s", names[i], suffix[k]);
            publish_sys(b, name, "%.2f", b->load_avg[i][k]);
        }
    }
}

static void sys_publish_all(mqtt_broker *b, double interval_s) {
    const mqtt_broker_stats *st = mqtt_broker_stats_get(b);
    sys_publish_load(b, st, interval_s);
    publish_sys(b, "version", "%s", b->conf.version_string);
    publish_sys(b, "uptime", "%" PRIu64 " seconds", (b->now - st->started_ms) / 1000);
    publish_sys(b, "clients/connected", "%" PRIu64, st->clients_connected);
    publish_sys(b, "clients/active", "%" PRIu64, st->clients_connected);
    publish_sys(b, "clients/total", "%" PRIu64, st->sessions_count);
    publish_sys(b, "clients/disconnected", "%" PRIu64,
                st->sessions_count > st->clients_connected ? st->sessions_count - st->clients_connected : 0);
    publish_sys(b, "clients/inactive", "%" PRIu64,
                st->sessions_count > st->clients_connected ? st->sessions_count - st->clients_connected : 0);
    publish_sys(b, "clients/maximum", "%" PRIu64, st->clients_maximum);
    publish_sys(b, "clients/expired", "%" PRIu64, st->clients_expired);
    publish_sys(b, "messages/received", "%" PRIu64, st->msgs_received);
    publish_sys(b, "messages/sent", "%" PRIu64, st->msgs_sent);
    publish_sys(b, "messages/stored", "%" PRIu64, st->queued_count + st->inflight_count + st->retained_count);
    publish_sys(b, "store/messages/count", "%" PRIu64, st->queued_count + st->inflight_count + st->retained_count);
    publish_sys(b, "publish/messages/received", "%" PRIu64, st->pub_received);
    publish_sys(b, "publish/messages/sent", "%" PRIu64, st->pub_sent);
    publish_sys(b, "publish/messages/dropped", "%" PRIu64, st->pub_dropped);
    publish_sys(b, "publish/messages/refused", "%" PRIu64, st->pub_refused);
    publish_sys(b, "publish/bytes/received", "%" PRIu64, st->pub_bytes_received);
    publish_sys(b, "publish/bytes/sent", "%" PRIu64, st->pub_bytes_sent);
    publish_sys(b, "bytes/received", "%" PRIu64, st->bytes_received);
    publish_sys(b, "bytes/sent", "%" PRIu64, st->bytes_sent);
    publish_sys(b, "retained messages/count", "%" PRIu64, st->retained_count);
    publish_sys(b, "subscriptions/count", "%" PRIu64, st->subscriptions_count);
#ifdef __GLIBC__
    struct mallinfo2 mi = mallinfo2();
    uint64_t heap = (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
    if (heap > b->heap_max) b->heap_max = heap;
    publish_sys(b, "heap/current", "%" PRIu64, heap);
    publish_sys(b, "heap/maximum", "%" PRIu64, b->heap_max);
#endif
}

void mqtt_broker_tick(mqtt_broker *b, uint64_t now) {
    b->now = now;
    if (!b->st.started_ms) b->st.started_ms = now;
    if (b->retry_blocked) {
        b->retry_blocked = false;
        resume_all(b, now);
    }
    if (now - b->last_sweep >= 250 || now < b->last_sweep) {
        b->last_sweep = now;
        resume_all(b, now); /* whatever held them may be gone without a drain event */
        for (mqtt_client *c = b->clients; c; c = c->next) {
            if (c->state == CL_CONNECTING && now - c->accepted_at > b->conf.connect_timeout_ms) {
                LOG_INFO("mqtt", "event=connect_timeout peer=%s", c->peer);
                broker_close(c);
            } else if (c->state == CL_CONNECTED && c->keepalive &&
                       !c->paused && now - c->last_rx > (uint64_t)c->keepalive * 1500u) {
                broker_disconnect(c, MQTT_RC_KEEP_ALIVE_TIMEOUT, "keep alive timeout");
            }
        }
        for (mqtt_session *s = b->all_sessions, *nx; s; s = nx) {
            nx = s->next_all;
            if (s->c || s->isub) continue;
            if (s->will && now >= s->will_at) {
                mqtt_msg *w = s->will;
                s->will = NULL;
                broker_publish_will(b, w);
            }
            /* offline_since may lie ahead of `now` for a session loaded from the store after the
             * wall clock stepped back: count that as no time elapsed, not as an underflow */
            if (s->expiry_s != UINT32_MAX && now >= s->offline_since &&
                now - s->offline_since >= (uint64_t)s->expiry_s * 1000u) {
                LOG_INFO("mqtt", "event=session_expired client=%s", s->id);
                b->st.clients_expired++;
                session_end(b, s);
            }
        }
    }
    if (b->conf.sys_interval_s && (b->last_sys == 0 || now - b->last_sys >= b->conf.sys_interval_s * 1000u)) {
        double interval_s = b->last_sys ? (double)(now - b->last_sys) / 1000.0 : 0;
        b->last_sys = now;
        sys_publish_all(b, interval_s);
    }
}
