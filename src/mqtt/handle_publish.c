/* mqtt/handle_publish: the message path. Incoming PUBLISH (topic aliases, checks, ACL, QoS 2
 * duplicate detection, back-pressure), routing through the subscription tree (one copy per session
 * at the highest QoS of its matching subscriptions, with all their subscription identifiers), and
 * per-session delivery: the in-flight window, the queue behind it, acknowledgements (PUBACK,
 * PUBREC, PUBREL, PUBCOMP) and retransmission on reconnect. */
#include <stdlib.h>
#include <string.h>
#include "base/log.h"
#include "mqtt/broker_internal.h"
#include "mqtt/store.h"
#include "mqtt/topic.h"

/* ---- lists ---- */

void outlist_push(mqtt_outlist *l, mqtt_out *o) {
    o->next = NULL;
    o->prev = l->tail;
    if (l->tail) l->tail->next = o;
    else l->head = o;
    l->tail = o;
    l->count++;
}

void outlist_remove(mqtt_outlist *l, mqtt_out *o) {
    if (o->prev) o->prev->next = o->next;
    else l->head = o->next;
    if (o->next) o->next->prev = o->prev;
    else l->tail = o->prev;
    o->next = o->prev = NULL;
    l->count--;
}

void out_free(mqtt_out *o) {
    mqtt_msg_unref(o->m);
    free(o);
}

mqtt_out *out_new(mqtt_msg *m, uint8_t qos, bool retain, const uint32_t *subids, uint8_t n) {
    mqtt_out *o = calloc(1, sizeof *o + n * sizeof(uint32_t));
    if (!o) return NULL;
    o->m = mqtt_msg_ref(m);
    o->qos = qos;
    o->retain = retain;
    o->nsubids = n;
    if (n) memcpy(o->subids, subids, n * sizeof(uint32_t));
    return o;
}

/* ---- sending ---- */

/* The alias to use for m's topic: an existing one (*send_topic = false), or, when `assign`, a new
 * one (the topic is sent with it). With !assign, a would-be new alias is only reported (non-zero)
 * so the caller can size the packet before committing to it. */
static uint16_t alias_for(mqtt_client *c, const mqtt_msg *m, bool *send_topic, bool assign) {
    *send_topic = true;
    if (!c->peer_alias_max) return 0;
    void *v = hmap_get(c->tx_alias, m->topic, m->topic_len);
    if (v) { *send_topic = false; return (uint16_t)(uintptr_t)v; }
    if (c->tx_alias_next == 0 || c->tx_alias_next > c->peer_alias_max) return 0;
    if (!assign) return c->tx_alias_next;
    uint16_t a = c->tx_alias_next++;
    char *t = strndup(m->topic, m->topic_len);
    if (!t) return 0;
    c->tx_alias_topics[a] = t;
    if (hmap_put(c->tx_alias, t, m->topic_len, (void *)(uintptr_t)a)) return 0;
    return a;
}

/* Encode and write one PUBLISH. Returns false when the client's maximum packet size forbids it
 * (the message is then dropped for this client, as the protocol requires). */
static bool send_publish(mqtt_broker *b, mqtt_client *c, mqtt_msg *m, uint8_t qos, uint16_t pid, bool retain,
                         bool dup, const uint32_t *subids, uint8_t nsub) {
    const uint8_t *props = NULL;
    size_t plen = 0;
    buf_t *pb = &b->scratch2;
    bool send_topic = true;
    uint16_t alias = 0;
    if (c->ver == 5) {
        buf_reset(pb);
        if (m->props_len) buf_append(pb, m->props, m->props_len);
        if (m->expiry_at) {
            uint64_t left = m->expiry_at > b->now ? (m->expiry_at - b->now + 999) / 1000 : 0;
            mqtt_prop_put_u32(pb, MQTT_PROP_MESSAGE_EXPIRY, (uint32_t)left);
        }
        for (uint8_t i = 0; i < nsub; i++) mqtt_prop_put_varint(pb, MQTT_PROP_SUBSCRIPTION_ID, subids[i]);
        /* size the packet before a new alias is committed: a dropped message must not leave an
         * alias behind that the client never learnt */
        alias = alias_for(c, m, &send_topic, false);
        if (c->peer_max_packet &&
            mqtt_publish_size(5, qos, send_topic ? m->topic_len : 0, pb->len + (alias ? 3 : 0), m->payload_len) >
                c->peer_max_packet) {
            b->st.pub_dropped++;
            return false;
        }
        if (alias && send_topic) alias = alias_for(c, m, &send_topic, true);
        if (alias) mqtt_prop_put_u16(pb, MQTT_PROP_TOPIC_ALIAS, alias);
        props = pb->data;
        plen = pb->len;
    }
    buf_t *out = &b->scratch;
    buf_reset(out);
    if (mqtt_encode_publish(out, c->ver, qos, retain, dup, pid, m->topic, send_topic ? m->topic_len : 0, props, plen,
                            m->payload, m->payload_len))
        return false;
    b->st.pub_sent++;
    b->st.pub_bytes_sent += m->payload_len;
    broker_send(c, out);
    return true;
}

static void send_ack(mqtt_client *c, uint8_t type, uint16_t pid, uint8_t rc, const char *reason) {
    mqtt_broker *b = c->b;
    buf_t *pr = &b->scratch2;
    buf_reset(pr);
    if (c->ver == 5 && reason && c->request_problem_info)
        mqtt_prop_put_str(pr, MQTT_PROP_REASON_STRING, reason, strlen(reason));
    buf_t *out = &b->scratch;
    buf_reset(out);
    mqtt_encode_ack(out, type, c->ver, pid, c->ver == 5 ? rc : 0, pr->data, pr->len);
    broker_send(c, out);
}

static bool pid_in_use(const mqtt_session *s, uint16_t pid) {
    for (mqtt_out *o = s->inflight.head; o; o = o->next)
        if (o->pid == pid) return true;
    return false;
}

static uint16_t next_pid(mqtt_session *s) {
    for (;;) {
        uint16_t pid = s->next_pid++;
        if (s->next_pid == 0) s->next_pid = 1;
        if (pid && !pid_in_use(s, pid)) return pid;
    }
}

static uint32_t window(const mqtt_broker *b, const mqtt_client *c) {
    uint32_t w = b->conf.max_inflight;
    if (c->peer_receive_max && c->peer_receive_max < w) w = c->peer_receive_max;
    return w;
}

static bool expired(const mqtt_broker *b, const mqtt_msg *m) { return m->expiry_at && m->expiry_at <= b->now; }

static bool client_live(const mqtt_client *c) { return c && c->state == CL_CONNECTED; }

/* Send one queued/new delivery now: assign its packet id and move it in flight. */
static void start_inflight(mqtt_broker *b, mqtt_session *s, mqtt_out *o) {
    o->pid = next_pid(s);
    o->state = o->qos == 1 ? OUT_WAIT_ACK : OUT_WAIT_REC;
    outlist_push(&s->inflight, o);
    b->st.inflight_count++;
    if (!send_publish(b, s->c, o->m, o->qos, o->pid, o->retain, false, o->subids, o->nsubids)) {
        /* too large for this client: it can never be delivered */
        outlist_remove(&s->inflight, o);
        b->st.inflight_count--;
        if (b->store && o->store_id) mqtt_store_out_del(b->store, s, o);
        out_free(o);
        return;
    }
    if (b->store && o->store_id) mqtt_store_out_update(b->store, s, o);
}

/* max_queued_messages / max_queued_bytes reached (0 = no limit) */
static bool queue_full(const mqtt_broker *b, const mqtt_session *s) {
    return (b->conf.max_queued && s->queue.count >= b->conf.max_queued) ||
           (b->conf.max_queued_bytes && s->queued_bytes >= b->conf.max_queued_bytes);
}

void session_flush(mqtt_broker *b, mqtt_session *s) {
    mqtt_client *c = s->c;
    if (!client_live(c)) return;
    uint32_t w = window(b, c);
    bool was_full = queue_full(b, s);
    while (s->queue.head && s->inflight.count < w && c->state == CL_CONNECTED) {
        mqtt_out *o = s->queue.head;
        outlist_remove(&s->queue, o);
        b->st.queued_count--;
        s->queued_bytes -= o->m->payload_len;
        if (o->qos == 0) {
            if (!expired(b, o->m)) send_publish(b, c, o->m, 0, 0, o->retain, false, o->subids, o->nsubids);
            if (b->store && o->store_id) mqtt_store_out_del(b->store, s, o);
            out_free(o);
            continue;
        }
        if (expired(b, o->m)) {
            if (b->store && o->store_id) mqtt_store_out_del(b->store, s, o);
            out_free(o);
            continue;
        }
        start_inflight(b, s, o);
    }
    if (was_full && !queue_full(b, s)) b->retry_blocked = true;
}

void session_resend(mqtt_broker *b, mqtt_session *s) {
    mqtt_client *c = s->c;
    for (mqtt_out *o = s->inflight.head, *nx; o && client_live(c); o = nx) {
        nx = o->next;
        if (o->state == OUT_WAIT_COMP) {
            send_ack(c, MQTT_PUBREL, o->pid, 0, NULL);
        } else {
            o->dup = true;
            if (!send_publish(b, c, o->m, o->qos, o->pid, o->retain, true, o->subids, o->nsubids)) {
                /* the client's new Maximum Packet Size forbids it: it can never be delivered */
                outlist_remove(&s->inflight, o);
                b->st.inflight_count--;
                if (b->store && o->store_id) mqtt_store_out_del(b->store, s, o);
                out_free(o);
            }
        }
    }
    session_flush(b, s);
}

/* A subscriber whose transport is backed up above the high water mark slows its publishers down
 * (they stop being read until it drains) instead of losing messages. Not the publisher itself:
 * a client that publishes to itself and reads slowly would otherwise stall its own acks. */
static void note_congestion(mqtt_broker *b, mqtt_session *s) {
    if (!b->io.pending || !b->conf.out_high_water || s == b->route_from) return;
    if (b->io.pending(b->io.ud, s->c->conn) > b->conf.out_high_water) b->congested = true;
}

void session_deliver(mqtt_broker *b, mqtt_session *s, mqtt_msg *m, uint8_t qos, bool retain, const uint32_t *subids,
                     uint8_t nsubids) {
    if (s->isub) {
        mqtt_msg_view v = {m->topic, m->topic_len, m->payload, m->payload_len, qos, retain, m->props, m->props_len,
                           m->origin};
        s->isub->cb(s->isub->ud, &v);
        return;
    }
    if (expired(b, m)) return;
    mqtt_client *c = s->c;
    bool live = client_live(c);
    if (qos == 0) {
        if (live) {
            if (b->io.pending && b->conf.max_out_pending &&
                b->io.pending(b->io.ud, c->conn) > b->conf.max_out_pending) {
                b->st.pub_dropped++; /* slow subscriber: QoS 0 may be dropped */
                return;
            }
            send_publish(b, c, m, 0, 0, retain, false, subids, nsubids);
            note_congestion(b, s);
            return;
        }
        if (!b->conf.queue_qos0_offline || !s->persistent) {
            b->st.pub_dropped++;
            return;
        }
    }
    if (!live && !s->persistent) return;
    if (queue_full(b, s) &&
        !(live && s->inflight.count < window(b, c))) {
        /* reachable for QoS 0 (queued offline), offline sessions and messages the broker itself
         * publishes: client publishes to a connected subscriber are refused or held back first */
        b->st.pub_dropped++;
        return;
    }
    mqtt_out *o = out_new(m, qos, retain, subids, nsubids);
    if (!o) { b->st.pub_dropped++; return; }
    if (b->store && s->persistent && s->stored) mqtt_store_out_add(b->store, s, o);
    if (live && qos > 0 && !s->queue.head && s->inflight.count < window(b, c)) {
        start_inflight(b, s, o);
        note_congestion(b, s);
        return;
    }
    outlist_push(&s->queue, o);
    s->queued_bytes += m->payload_len;
    b->st.queued_count++;
    session_flush(b, s);
}

/* ---- routing ---- */

typedef struct route_ctx {
    mqtt_broker *b;
    mqtt_session *from;
    bool check_only;  /* broker_can_route: look for a full queue */
    bool blocked;
} route_ctx;

static void acc_add(route_ctx *rc, const sub_entry *e) {
    mqtt_broker *b = rc->b;
    mqtt_session *s = e->s;
    if ((e->opts & 0x04) && s == rc->from) return; /* no local */
    if (rc->check_only) {
        /* only a connected subscriber exerts back-pressure; an offline session's copy is
         * dropped when its queue is full (it may never come back) */
        if (!s->isub && (e->opts & 3) && queue_full(b, s) &&
            client_live(s->c))
            rc->blocked = true;
        return;
    }
    match_acc *a;
    if (s->match_epoch == b->match_epoch) {
        a = &b->acc[s->match_slot];
    } else {
        if (b->nacc == b->capacc) {
            size_t nc = b->capacc ? b->capacc * 2 : 16;
            match_acc *na = realloc(b->acc, nc * sizeof *na);
            if (!na) return;
            b->acc = na;
            b->capacc = nc;
        }
        s->match_epoch = b->match_epoch;
        s->match_slot = (uint32_t)b->nacc;
        a = &b->acc[b->nacc++];
        a->s = s;
        a->qos = 0;
        a->rap = false;
        a->nsubids = 0;
    }
    if ((e->opts & 3) > a->qos) a->qos = e->opts & 3;
    if (e->opts & 0x08) a->rap = true;
    if (e->subid && a->nsubids < 8) a->subids[a->nsubids++] = e->subid;
}

static void acc_add_group(void *ud, sub_group *g) {
    route_ctx *rc = ud;
    if (!g->n) return;
    /* round robin, preferring members that are connected */
    size_t pick = g->n;
    for (size_t i = 0; i < g->n; i++) {
        size_t k = (g->rr + i) % g->n;
        if (g->members[k].s->isub || client_live(g->members[k].s->c)) { pick = k; break; }
    }
    if (pick == g->n) pick = g->rr % g->n;
    if (!rc->check_only) g->rr = pick + 1;
    acc_add(rc, &g->members[pick]);
}

static void acc_add_v(void *ud, const sub_entry *e) { acc_add(ud, e); }

bool broker_can_route(mqtt_broker *b, mqtt_session *from, const char *topic, uint16_t tlen, uint8_t qos) {
    if (qos == 0 || (!b->conf.max_queued && !b->conf.max_queued_bytes)) return true;
    route_ctx rc = {b, from, true, false};
    subtree_match(&b->root, topic, tlen, acc_add_v, acc_add_group, &rc);
    return !rc.blocked;
}

void broker_route(mqtt_broker *b, mqtt_session *from, mqtt_msg *m) {
    route_ctx rc = {b, from, false, false};
    mqtt_session *prev_from = b->route_from;
    b->route_from = from;
    if (++b->match_epoch == 0) b->match_epoch = 1;
    b->nacc = 0;
    subtree_match(&b->root, m->topic, m->topic_len, acc_add_v, acc_add_group, &rc);
    /* deliveries may re-enter routing (internal subscribers publishing): copy the list out */
    size_t n = b->nacc;
    match_acc stackbuf[16], *list = n <= 16 ? stackbuf : malloc(n * sizeof *list);
    if (!n || !list) { b->route_from = prev_from; return; }
    memcpy(list, b->acc, n * sizeof *list);
    for (size_t i = 0; i < n; i++) {
        match_acc *a = &list[i];
        if (b->conf.acl && !a->s->isub &&
            !b->conf.acl(b->conf.auth_ud, a->s->id, a->s->username, m->topic, MQTT_ACCESS_READ))
            continue;
        uint8_t q = m->qos < a->qos ? m->qos : a->qos;
        bool retain = a->rap ? m->retain : false;
        session_deliver(b, a->s, m, q, retain, a->subids, a->nsubids);
    }
    if (list != stackbuf) free(list);
    b->route_from = prev_from;
}

/* ---- incoming ---- */

static int pid_rx_index(const mqtt_session *s, uint16_t pid) {
    for (size_t i = 0; i < s->nrx_qos2; i++)
        if (s->rx_qos2[i] == pid) return (int)i;
    return -1;
}

int handle_publish(mqtt_client *c, const mqtt_packet *p) {
    mqtt_broker *b = c->b;
    mqtt_session *s = c->s;
    const char *topic = (const char *)p->topic.p;
    size_t tlen = p->topic.len;

    if (c->ver == 5 && MQTT_HAS(p->props, MQTT_PROP_TOPIC_ALIAS)) {
        uint16_t a = p->props.topic_alias;
        if (a == 0 || a > b->conf.topic_alias_max || !c->rx_alias) {
            broker_disconnect(c, MQTT_RC_TOPIC_ALIAS_INVALID, "topic alias out of range");
            return -1;
        }
        if (tlen) {
            char *t = strndup(topic, tlen);
            if (!t) return -1;
            free(c->rx_alias[a]);
            c->rx_alias[a] = t;
        } else {
            if (!c->rx_alias[a]) {
                broker_disconnect(c, MQTT_RC_PROTOCOL_ERROR, "topic alias not set");
                return -1;
            }
            topic = c->rx_alias[a];
            tlen = strlen(topic);
        }
    }
    if (c->ver == 5 && MQTT_HAS(p->props, MQTT_PROP_SUBSCRIPTION_ID)) {
        broker_disconnect(c, MQTT_RC_PROTOCOL_ERROR, "subscription identifier in a client's PUBLISH");
        return -1;
    }
    if (!mqtt_topic_name_valid((const uint8_t *)topic, tlen)) {
        broker_disconnect(c, MQTT_RC_TOPIC_NAME_INVALID, "invalid topic name");
        return -1;
    }
    if (p->retain && !b->conf.retain_available) {
        broker_disconnect(c, MQTT_RC_RETAIN_NOT_SUPPORTED, "retain is not available");
        return -1;
    }
    if (p->qos == 2 && pid_rx_index(s, p->packet_id) >= 0) {
        /* a retransmission of a QoS 2 message we already have: acknowledge again only */
        send_ack(c, MQTT_PUBREC, p->packet_id, 0, NULL);
        return 0;
    }
    /* Receive Maximum is a v5 notion; 3.1.1 clients are only bounded by the 65535 packet ids */
    if (p->qos == 2 && c->ver == 5 && s->nrx_qos2 >= b->conf.max_inflight) {
        broker_disconnect(c, MQTT_RC_RECEIVE_MAX_EXCEEDED, "receive maximum exceeded");
        return -1;
    }
    b->st.pub_received++;
    b->st.pub_bytes_received += p->payload.len;

    uint8_t rc = MQTT_RC_SUCCESS;
    const char *why = NULL;
    bool deliver = true;
    if (b->conf.message_size_limit && p->payload.len > b->conf.message_size_limit) {
        rc = MQTT_RC_IMPL_SPECIFIC;
        why = "payload exceeds message_size_limit";
        deliver = false;
    } else if (b->conf.acl && !b->conf.acl(b->conf.auth_ud, s->id, c->username, topic, MQTT_ACCESS_WRITE)) {
        rc = MQTT_RC_NOT_AUTHORIZED;
        why = "not authorized to publish on this topic";
        deliver = false;
    } else if (c->ver == 5 && MQTT_HAS(p->props, MQTT_PROP_PAYLOAD_FORMAT) && p->props.payload_format == 1 &&
               !mqtt_utf8_valid(p->payload.p, p->payload.len)) {
        rc = MQTT_RC_PAYLOAD_FORMAT_INVALID;
        why = "payload is not valid UTF-8";
        deliver = false;
    } else if (p->qos > 0 && !broker_can_route(b, s, topic, (uint16_t)tlen, p->qos)) {
        if (c->ver == 5) {
            rc = MQTT_RC_QUOTA_EXCEEDED;
            why = "a subscriber's queue is full";
            deliver = false;
            b->st.pub_refused++;
        } else if (!s->inflight.count) {
            /* 3.1.x cannot refuse in PUBACK: hold the packet (and the connection's input) until
             * the queues drain; the client keeps the message until we acknowledge it.
             * Not when the publisher itself has deliveries awaiting its acknowledgement: its
             * PUBACK/PUBCOMP are queued behind the held packet, so holding could deadlock (it
             * publishing to its own full queue, or two clients feeding each other); then the
             * message is routed and the full queues drop their copies. */
            if (!c->paused) b->st.pub_refused++;
            b->st.pub_received--;
            b->st.pub_bytes_received -= p->payload.len;
            return 1;
        }
    }
    if (!deliver) {
        LOG_DEBUG("mqtt", "event=publish_rejected client=%s topic=%.*s rc=0x%02x", s->id, (int)tlen, topic, rc);
        b->st.pub_dropped += rc != MQTT_RC_QUOTA_EXCEEDED;
        if (p->qos == 1) send_ack(c, MQTT_PUBACK, p->packet_id, rc, why);
        else if (p->qos == 2) send_ack(c, MQTT_PUBREC, p->packet_id, rc, why);
        return 0;
    }

    buf_t *fw = &b->scratch;
    buf_reset(fw);
    uint64_t expiry_at = 0;
    uint32_t expiry_s = 0;
    if (c->ver == 5 && p->props.raw.len) {
        mqtt_props_forwardable(p->props.raw, fw);
        if (MQTT_HAS(p->props, MQTT_PROP_MESSAGE_EXPIRY) && p->props.message_expiry > 0) {
            /* 0 is treated as "does not expire", as mosquitto does */
            expiry_s = p->props.message_expiry;
            expiry_at = b->now + (uint64_t)expiry_s * 1000u;
            if (!expiry_at) expiry_at = 1;
        }
    }
    mqtt_msg *m = mqtt_msg_new(topic, tlen, fw->data, fw->len, p->payload.p, p->payload.len, p->qos, p->retain,
                               expiry_at);
    if (!m) {
        broker_disconnect(c, MQTT_RC_SERVER_BUSY, "out of memory");
        return -1;
    }
    m->expiry_s = expiry_s;
    if (p->retain) retain_set(b, m);
    size_t before = b->st.pub_sent;
    b->congested = false;
    broker_route(b, s, m);
    bool matched = b->nacc > 0 || b->st.pub_sent != before;
    mqtt_msg_unref(m);

    if (p->qos == 1) {
        send_ack(c, MQTT_PUBACK, p->packet_id, matched ? 0 : MQTT_RC_NO_MATCHING_SUBSCRIBERS, NULL);
    } else if (p->qos == 2) {
        if (s->nrx_qos2 == s->caprx_qos2) {
            size_t nc = s->caprx_qos2 ? s->caprx_qos2 * 2 : 4;
            uint16_t *na = realloc(s->rx_qos2, nc * sizeof *na);
            if (!na) return -1;
            s->rx_qos2 = na;
            s->caprx_qos2 = nc;
        }
        s->rx_qos2[s->nrx_qos2++] = p->packet_id;
        if (b->store && s->persistent && s->stored) mqtt_store_rx_qos2(b->store, s, p->packet_id, 1);
        send_ack(c, MQTT_PUBREC, p->packet_id, matched ? 0 : MQTT_RC_NO_MATCHING_SUBSCRIBERS, NULL);
    }
    return b->congested ? 2 : 0;
}

static mqtt_out *find_inflight(mqtt_session *s, uint16_t pid, uint8_t state) {
    for (mqtt_out *o = s->inflight.head; o; o = o->next)
        if (o->pid == pid && o->state == state) return o;
    return NULL;
}

static void finish(mqtt_broker *b, mqtt_session *s, mqtt_out *o) {
    outlist_remove(&s->inflight, o);
    b->st.inflight_count--;
    if (b->store && o->store_id) mqtt_store_out_del(b->store, s, o);
    out_free(o);
    session_flush(b, s);
}

int handle_puback(mqtt_client *c, const mqtt_packet *p) {
    mqtt_out *o = find_inflight(c->s, p->packet_id, OUT_WAIT_ACK);
    if (o) finish(c->b, c->s, o);
    return 0;
}

int handle_pubrec(mqtt_client *c, const mqtt_packet *p) {
    mqtt_broker *b = c->b;
    mqtt_session *s = c->s;
    mqtt_out *o = find_inflight(s, p->packet_id, OUT_WAIT_REC);
    if (!o) {
        if (find_inflight(s, p->packet_id, OUT_WAIT_COMP)) send_ack(c, MQTT_PUBREL, p->packet_id, 0, NULL);
        else send_ack(c, MQTT_PUBREL, p->packet_id, MQTT_RC_PACKET_ID_NOT_FOUND, NULL);
        return 0;
    }
    if (p->reason >= 0x80) { /* v5: the receiver refused it; the exchange ends */
        finish(b, s, o);
        return 0;
    }
    o->state = OUT_WAIT_COMP;
    if (b->store && o->store_id) mqtt_store_out_update(b->store, s, o);
    send_ack(c, MQTT_PUBREL, p->packet_id, 0, NULL);
    return 0;
}

int handle_pubrel(mqtt_client *c, const mqtt_packet *p) {
    mqtt_broker *b = c->b;
    mqtt_session *s = c->s;
    int i = pid_rx_index(s, p->packet_id);
    if (i >= 0) {
        s->rx_qos2[i] = s->rx_qos2[--s->nrx_qos2];
        if (b->store && s->persistent && s->stored) mqtt_store_rx_qos2(b->store, s, p->packet_id, 0);
    }
    send_ack(c, MQTT_PUBCOMP, p->packet_id, i >= 0 ? 0 : MQTT_RC_PACKET_ID_NOT_FOUND, NULL);
    return 0;
}

int handle_pubcomp(mqtt_client *c, const mqtt_packet *p) {
    mqtt_out *o = find_inflight(c->s, p->packet_id, OUT_WAIT_COMP);
    if (o) finish(c->b, c->s, o);
    return 0;
}
