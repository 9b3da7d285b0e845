/* mqtt/handle_subscribe: SUBSCRIBE (filter checks, ACL, options, subscription identifiers,
 * retained-message delivery per Retain Handling), UNSUBSCRIBE, the session's subscription list,
 * and the retained-message store. */
#include <stdlib.h>
#include <string.h>
#include "base/log.h"
#include "mqtt/broker_internal.h"
#include "mqtt/store.h"
#include "mqtt/topic.h"

void retain_set(mqtt_broker *b, mqtt_msg *m) {
    mqtt_msg *old = hmap_get(&b->retained, m->topic, m->topic_len);
    if (m->payload_len == 0) {
        if (old) {
            hmap_del(&b->retained, m->topic, m->topic_len);
            if (b->store) mqtt_store_retain_del(b->store, old->topic, old->topic_len);
            mqtt_msg_unref(old);
        }
        return;
    }
    if (hmap_put(&b->retained, m->topic, m->topic_len, mqtt_msg_ref(m))) {
        mqtt_msg_unref(m);
        return;
    }
    mqtt_msg_unref(old);
    if (b->store && strncmp(m->topic, "$SYS/", 5) != 0) mqtt_store_retain(b->store, m);
}

int session_add_sub(mqtt_broker *b, mqtt_session *s, const char *filter, uint8_t opts, uint32_t subid, bool *existed) {
    size_t flen = strlen(filter);
    int r = subtree_add(&b->root, filter, flen, s, opts, subid);
    if (r < 0) return -1;
    *existed = r == 1;
    for (size_t i = 0; i < s->nsubs; i++) {
        if (!strcmp(s->subs[i].filter, filter)) {
            s->subs[i].opts = opts;
            s->subs[i].subid = subid;
            return 0;
        }
    }
    if (s->nsubs == s->capsubs) {
        size_t nc = s->capsubs ? s->capsubs * 2 : 4;
        mqtt_sub *na = realloc(s->subs, nc * sizeof *na);
        if (!na) { subtree_remove(&b->root, filter, flen, s); return -1; }
        s->subs = na;
        s->capsubs = nc;
    }
    char *f = strdup(filter);
    if (!f) { subtree_remove(&b->root, filter, flen, s); return -1; }
    s->subs[s->nsubs++] = (mqtt_sub){f, opts, subid};
    b->st.subscriptions_count++;
    return 0;
}

static bool session_remove_sub(mqtt_broker *b, mqtt_session *s, const char *filter) {
    for (size_t i = 0; i < s->nsubs; i++) {
        if (strcmp(s->subs[i].filter, filter)) continue;
        subtree_remove(&b->root, filter, strlen(filter), s);
        free(s->subs[i].filter);
        s->subs[i] = s->subs[--s->nsubs];
        b->st.subscriptions_count--;
        return true;
    }
    return false;
}

void session_remove_all_subs(mqtt_broker *b, mqtt_session *s) {
    for (size_t i = 0; i < s->nsubs; i++) {
        subtree_remove(&b->root, s->subs[i].filter, strlen(s->subs[i].filter), s);
        free(s->subs[i].filter);
        b->st.subscriptions_count--;
    }
    s->nsubs = 0;
}

static void send_retained(mqtt_broker *b, mqtt_session *s, const char *filter, uint8_t opts, uint32_t subid) {
    size_t flen = strlen(filter);
    size_t it = 0;
    mqtt_msg *m;
    /* collect first: delivery must not see the map change under it */
    mqtt_msg **hits = NULL;
    size_t n = 0, cap = 0;
    /* a filter without wildcards names one topic: look it up instead of scanning */
    bool exact = !memchr(filter, '+', flen) && !memchr(filter, '#', flen);
    mqtt_msg *one = exact ? hmap_get(&b->retained, filter, flen) : NULL;
    bool done = false;
    while (!done && (m = exact ? one : hmap_next(&b->retained, &it, NULL, NULL))) {
        if (exact) done = true;
        else if (!mqtt_topic_match((const uint8_t *)filter, flen, (const uint8_t *)m->topic, m->topic_len)) continue;
        if (m->expiry_at && m->expiry_at <= b->now) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            mqtt_msg **nh = realloc(hits, cap * sizeof *nh);
            if (!nh) break;
            hits = nh;
        }
        hits[n++] = mqtt_msg_ref(m);
    }
    for (size_t i = 0; i < n; i++) {
        m = hits[i];
        if (!b->conf.acl || b->conf.acl(b->conf.auth_ud, s->id, s->username, m->topic, MQTT_ACCESS_READ)) {
            uint8_t q = m->qos < (opts & 3) ? m->qos : (opts & 3);
            session_deliver(b, s, m, q, true, subid ? &subid : NULL, subid ? 1 : 0);
        }
        mqtt_msg_unref(m);
    }
    free(hits);
}

int handle_subscribe(mqtt_client *c, const mqtt_packet *p) {
    mqtt_broker *b = c->b;
    mqtt_session *s = c->s;
    uint8_t codes[256];
    uint8_t *rcs = codes;
    size_t n = 0, cap = sizeof codes;
    uint32_t subid = c->ver == 5 && MQTT_HAS(p->props, MQTT_PROP_SUBSCRIPTION_ID) ? p->props.sub_id : 0;
    typedef struct { char *filter; uint8_t opts; bool existed; } pending;
    pending *todo = NULL;
    size_t ntodo = 0;
    mqtt_bytes it = p->entries, f;
    uint8_t opts;
    int r;
    while ((r = mqtt_sub_next(&it, c->ver, &f, &opts)) == 1) {
        if (c->bridge) opts |= 0x04 | 0x08; /* a bridge gets no echo of its own messages, retain as published */
        if (n == cap) {
            size_t nc = cap * 2;
            uint8_t *nr = rcs == codes ? malloc(nc) : realloc(rcs, nc);
            if (!nr) break;
            if (rcs == codes) memcpy(nr, codes, n);
            rcs = nr;
            cap = nc;
        }
        uint8_t rc;
        mqtt_bytes g, inner;
        int shared = mqtt_share_parse(f.p, f.len, &g, &inner);
        char *filter = strndup((const char *)f.p, f.len);
        if (!filter) rc = MQTT_RC_UNSPECIFIED;
        else if (shared < 0 || !mqtt_topic_filter_valid(shared ? inner.p : f.p, shared ? inner.len : f.len))
            rc = MQTT_RC_TOPIC_FILTER_INVALID;
        else if (shared && (opts & 0x04) && !c->bridge) {
            free(filter);
            if (rcs != codes) free(rcs);
            for (size_t i = 0; i < ntodo; i++) free(todo[i].filter);
            free(todo);
            broker_disconnect(c, MQTT_RC_PROTOCOL_ERROR, "no local on a shared subscription");
            return -1;
        } else if (b->conf.acl && !b->conf.acl(b->conf.auth_ud, s->id, c->username, filter, MQTT_ACCESS_SUBSCRIBE))
            rc = MQTT_RC_NOT_AUTHORIZED;
        else {
            bool existed = false;
            if (session_add_sub(b, s, filter, opts, subid, &existed)) rc = MQTT_RC_UNSPECIFIED;
            else {
                rc = opts & 3;
                pending *nt = realloc(todo, (ntodo + 1) * sizeof *nt);
                if (nt) {
                    todo = nt;
                    todo[ntodo++] = (pending){filter, opts, existed};
                    filter = NULL;
                }
            }
        }
        if (rc >= 0x80) LOG_INFO("mqtt", "event=subscribe_refused client=%s filter=%.*s rc=0x%02x", s->id, (int)f.len, f.p, rc);
        else LOG_DEBUG("mqtt", "event=subscribe client=%s filter=%.*s qos=%u", s->id, (int)f.len, f.p, rc);
        free(filter);
        if (c->ver < 5 && rc >= 0x80) rc = 0x80;
        rcs[n++] = rc;
    }
    if (b->store && s->persistent) mqtt_store_session(b->store, s);
    buf_t *out = &b->scratch;
    buf_reset(out);
    mqtt_encode_suback(out, MQTT_SUBACK, c->ver, p->packet_id, rcs, n, NULL, 0);
    broker_send(c, out);
    if (rcs != codes) free(rcs);
    for (size_t i = 0; i < ntodo; i++) {
        uint8_t rh = (todo[i].opts >> 4) & 3;
        mqtt_bytes g, inner;
        bool shared = mqtt_share_parse((const uint8_t *)todo[i].filter, strlen(todo[i].filter), &g, &inner) == 1;
        if (!shared && (rh == 0 || (rh == 1 && !todo[i].existed)))
            send_retained(b, s, todo[i].filter, todo[i].opts, subid);
        free(todo[i].filter);
    }
    free(todo);
    return 0;
}

int handle_unsubscribe(mqtt_client *c, const mqtt_packet *p) {
    mqtt_broker *b = c->b;
    mqtt_session *s = c->s;
    buf_t codes;
    buf_init(&codes);
    mqtt_bytes it = p->entries, f;
    while (mqtt_unsub_next(&it, &f) == 1) {
        char *filter = strndup((const char *)f.p, f.len);
        bool found = filter && session_remove_sub(b, s, filter);
        free(filter);
        buf_put_u8(&codes, found ? MQTT_RC_SUCCESS : MQTT_RC_NO_SUBSCRIPTION_EXISTED);
    }
    if (b->store && s->persistent) mqtt_store_session(b->store, s);
    buf_t *out = &b->scratch;
    buf_reset(out);
    mqtt_encode_suback(out, MQTT_UNSUBACK, c->ver, p->packet_id, codes.data, codes.len, NULL, 0);
    broker_send(c, out);
    buf_free(&codes);
    return 0;
}
