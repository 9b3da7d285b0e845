/* Fuzz target for mqtt/codec and mqtt/topic: decodes the input as a stream of packets at every
 * connection version (0 = before CONNECT, 3, 4, 5), walks the entries and properties of every
 * packet that decodes, re-encodes it with the mqtt_encode_* functions, decodes that again and
 * aborts when the two decodings differ (PUBLISH must even re-encode to the identical bytes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mqtt/codec.h"
#include "mqtt/topic.h"

#define FUZZ_CHECK(c)                                                                              \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "mqtt_packet fuzz: check failed: %s (line %d)\n", #c, __LINE__);       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static int bytes_eq(mqtt_bytes a, mqtt_bytes b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* NUL-terminated copy of a decoded string (decoded UTF-8 never contains NUL) */
static char *cstr(mqtt_bytes b) {
    char *s = malloc(b.len + 1u);
    FUZZ_CHECK(s != NULL);
    if (b.len) memcpy(s, b.p, b.len);
    s[b.len] = 0;
    return s;
}

static void walk_props(mqtt_bytes raw) {
    mqtt_bytes it = raw;
    uint8_t id;
    mqtt_prop v = {0};
    int k, n = 0;
    while ((k = mqtt_props_next(&it, &id, &v)) == 1) n++;
    FUZZ_CHECK(k == 0); /* blocks from MQTT_OK packets are never malformed */
    FUZZ_CHECK(it.len == 0);
    buf_t out;
    buf_init(&out);
    FUZZ_CHECK(mqtt_props_forwardable(raw, &out) == 0);
    FUZZ_CHECK(out.len <= raw.len);
    mqtt_bytes f = {out.data, (uint32_t)out.len};
    while ((k = mqtt_props_next(&f, &id, &v)) == 1)
        FUZZ_CHECK(id == MQTT_PROP_PAYLOAD_FORMAT || id == MQTT_PROP_CONTENT_TYPE ||
                   id == MQTT_PROP_RESPONSE_TOPIC || id == MQTT_PROP_CORRELATION_DATA ||
                   id == MQTT_PROP_USER_PROPERTY);
    FUZZ_CHECK(k == 0);
    buf_free(&out);
    (void)n;
}

static void same_packet(const mqtt_packet *a, const mqtt_packet *b) {
    FUZZ_CHECK(a->type == b->type);
    FUZZ_CHECK(a->flags == b->flags);
    FUZZ_CHECK(a->reason == b->reason);
    FUZZ_CHECK(a->proto_level == b->proto_level);
    FUZZ_CHECK(a->clean_start == b->clean_start && a->will_flag == b->will_flag);
    FUZZ_CHECK(a->will_retain == b->will_retain && a->will_qos == b->will_qos);
    FUZZ_CHECK(a->has_username == b->has_username && a->has_password == b->has_password);
    FUZZ_CHECK(a->keep_alive == b->keep_alive);
    FUZZ_CHECK(bytes_eq(a->proto_name, b->proto_name) && bytes_eq(a->client_id, b->client_id));
    FUZZ_CHECK(bytes_eq(a->will_topic, b->will_topic) && bytes_eq(a->will_payload, b->will_payload));
    FUZZ_CHECK(bytes_eq(a->username, b->username) && bytes_eq(a->password, b->password));
    FUZZ_CHECK(a->session_present == b->session_present);
    FUZZ_CHECK(a->qos == b->qos && a->dup == b->dup && a->retain == b->retain);
    FUZZ_CHECK(a->packet_id == b->packet_id);
    FUZZ_CHECK(bytes_eq(a->topic, b->topic) && bytes_eq(a->payload, b->payload));
    FUZZ_CHECK(bytes_eq(a->entries, b->entries));
    FUZZ_CHECK(a->props.has == b->props.has && bytes_eq(a->props.raw, b->props.raw));
    FUZZ_CHECK(a->will_props.has == b->will_props.has && bytes_eq(a->will_props.raw, b->will_props.raw));
    FUZZ_CHECK(a->props.sub_id == b->props.sub_id && a->props.topic_alias == b->props.topic_alias);
    FUZZ_CHECK(a->props.session_expiry == b->props.session_expiry);
}

/* re-encode `p` (decoded at `ver`) into out; 0 = done, 1 = not re-encodable (binary password) */
static int reencode(const mqtt_packet *p, uint8_t ver, buf_t *out) {
    int rc = 0;
    switch (p->type) {
    case MQTT_CONNECT: {
        if (p->has_password && memchr(p->password.p, 0, p->password.len)) return 1;
        char *cid = cstr(p->client_id), *wt = cstr(p->will_topic), *un = cstr(p->username),
             *pw = cstr(p->password);
        mqtt_connect_opts o = {.proto_level = p->proto_level, .clean_start = p->clean_start,
                               .keep_alive = p->keep_alive, .client_id = cid,
                               .username = p->has_username ? un : NULL,
                               .password = p->has_password ? pw : NULL,
                               .will_topic = p->will_flag ? wt : NULL,
                               .will_payload = p->will_payload.p, .will_payload_len = p->will_payload.len,
                               .will_qos = p->will_qos, .will_retain = p->will_retain,
                               .props = p->props.raw.p, .props_len = p->props.raw.len,
                               .will_props = p->will_props.raw.p, .will_props_len = p->will_props.raw.len};
        rc = mqtt_encode_connect(out, &o);
        free(cid);
        free(wt);
        free(un);
        free(pw);
        break;
    }
    case MQTT_CONNACK:
        rc = mqtt_encode_connack(out, ver, p->session_present, p->reason, p->props.raw.p, p->props.raw.len);
        break;
    case MQTT_PUBLISH:
        rc = mqtt_encode_publish(out, ver, p->qos, p->retain, p->dup, p->packet_id, p->topic.p, p->topic.len,
                                 p->props.raw.p, p->props.raw.len, p->payload.p, p->payload.len);
        break;
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
        rc = mqtt_encode_ack(out, p->type, ver, p->packet_id, p->reason, p->props.raw.p, p->props.raw.len);
        break;
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE: {
        size_t n = 0, cap = p->entries.len / 2 + 1;
        char **filters = calloc(cap, sizeof *filters);
        uint8_t *opts = calloc(cap, 1);
        FUZZ_CHECK(filters && opts);
        mqtt_bytes it = p->entries, f;
        uint8_t o;
        while (p->type == MQTT_SUBSCRIBE ? mqtt_sub_next(&it, ver, &f, &o) : mqtt_unsub_next(&it, &f)) {
            FUZZ_CHECK(n < cap);
            filters[n] = cstr(f);
            opts[n++] = p->type == MQTT_SUBSCRIBE ? o : 0;
        }
        FUZZ_CHECK(it.len == 0 && n > 0);
        if (p->type == MQTT_SUBSCRIBE)
            rc = mqtt_encode_subscribe(out, ver, p->packet_id, (const char *const *)filters, opts, n,
                                       p->props.raw.p, p->props.raw.len);
        else
            rc = mqtt_encode_unsubscribe(out, ver, p->packet_id, (const char *const *)filters, n,
                                         p->props.raw.p, p->props.raw.len);
        for (size_t i = 0; i < n; i++) free(filters[i]);
        free(filters);
        free(opts);
        break;
    }
    case MQTT_SUBACK:
    case MQTT_UNSUBACK:
        rc = mqtt_encode_suback(out, p->type, ver, p->packet_id, p->entries.p, p->entries.len, p->props.raw.p,
                                p->props.raw.len);
        break;
    case MQTT_PINGREQ:
    case MQTT_PINGRESP: rc = mqtt_encode_ping(out, p->type); break;
    case MQTT_DISCONNECT:
        rc = mqtt_encode_disconnect(out, ver, p->reason, p->props.raw.p, p->props.raw.len);
        break;
    case MQTT_AUTH: rc = mqtt_encode_auth(out, p->reason, p->props.raw.p, p->props.raw.len); break;
    default: FUZZ_CHECK(0);
    }
    FUZZ_CHECK(rc == 0);
    return 0;
}

static void check_packet(const uint8_t *in, size_t used, const mqtt_packet *p, uint8_t ver) {
    FUZZ_CHECK(used == p->size);
    FUZZ_CHECK(mqtt_type_name(p->type)[0] != '?');
    walk_props(p->props.raw);
    walk_props(p->will_props.raw);
    if (p->type == MQTT_PUBLISH && p->topic.len) FUZZ_CHECK(mqtt_topic_name_valid(p->topic.p, p->topic.len));
    if (p->type == MQTT_SUBSCRIBE || p->type == MQTT_UNSUBSCRIBE) {
        mqtt_bytes it = p->entries, f, g, sf;
        uint8_t o;
        while (p->type == MQTT_SUBSCRIBE ? mqtt_sub_next(&it, ver, &f, &o) : mqtt_unsub_next(&it, &f)) {
            FUZZ_CHECK(mqtt_utf8_valid(f.p, f.len));
            int sh = mqtt_share_parse(f.p, f.len, &g, &sf);
            if (sh == 1) {
                FUZZ_CHECK(g.len > 0 && sf.len > 0 && g.len + sf.len + 8 == f.len);
                f = sf;
            }
            if (mqtt_topic_filter_valid(f.p, f.len)) {
                /* a filter matches itself when it has no wildcards, and "#" matches any non-$ topic */
                if (!memchr(f.p, '+', f.len) && !memchr(f.p, '#', f.len))
                    FUZZ_CHECK(mqtt_topic_match(f.p, f.len, f.p, f.len));
                (void)mqtt_topic_match(f.p, f.len, (const uint8_t *)"a/b/c", 5);
                if (f.p[0] != '$') FUZZ_CHECK(mqtt_topic_match((const uint8_t *)"#", 1, f.p, f.len));
            }
        }
        FUZZ_CHECK(it.len == 0);
    }

    buf_t out;
    buf_init(&out);
    if (reencode(p, ver, &out) == 0) {
        if (p->type == MQTT_PUBLISH) {
            FUZZ_CHECK(out.len == used && memcmp(out.data, in, used) == 0);
            FUZZ_CHECK(mqtt_publish_size(ver, p->qos, p->topic.len, p->props.raw.len, p->payload.len) == used);
        }
        mqtt_packet q;
        size_t used2;
        FUZZ_CHECK(mqtt_decode(out.data, out.len, ver, 0, &q, &used2) == MQTT_OK);
        FUZZ_CHECK(used2 == out.len);
        mqtt_packet a = *p;
        a.size = q.size; /* optional fields (ack reason/props) may shrink on re-encoding */
        same_packet(&a, &q);
    }
    buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const uint8_t vers[] = {0, 3, 4, 5};
    for (size_t v = 0; v < sizeof vers; v++) {
        uint8_t ver = vers[v];
        size_t off = 0;
        while (off < size) {
            mqtt_packet pkt;
            size_t used = 0;
            int rc = mqtt_decode(data + off, size - off, ver, 0, &pkt, &used);
            if (rc != MQTT_OK) {
                FUZZ_CHECK(rc == MQTT_NEED_MORE || rc == MQTT_E_MALFORMED || rc == MQTT_E_PROTOCOL ||
                           rc == MQTT_E_VERSION);
                FUZZ_CHECK(rc == MQTT_NEED_MORE || pkt.reason >= 0x80);
                break;
            }
            FUZZ_CHECK(used > 0 && used <= size - off);
            check_packet(data + off, used, &pkt, ver);
            /* a size limit just below the packet must refuse it */
            if (used > 2) {
                mqtt_packet lim;
                size_t u2;
                FUZZ_CHECK(mqtt_decode(data + off, size - off, ver, (uint32_t)used - 1, &lim, &u2) == MQTT_E_TOO_LARGE);
                FUZZ_CHECK(lim.reason == MQTT_RC_PACKET_TOO_LARGE);
            }
            if (ver == 0) {
                FUZZ_CHECK(pkt.type == MQTT_CONNECT);
                ver = pkt.proto_level;
            }
            off += used;
        }
    }
    /* the topic helpers on raw input */
    (void)mqtt_utf8_valid(data, size);
    if (size <= 65535) {
        (void)mqtt_topic_name_valid(data, size);
        (void)mqtt_topic_filter_valid(data, size);
        mqtt_bytes g, f;
        (void)mqtt_share_parse(data, size, &g, &f);
        size_t half = size / 2;
        (void)mqtt_topic_match(data, half, data + half, size - half);
    }
    return 0;
}
