/* mqtt/broker_internal: the engine's data structures, shared by broker.c and the handle_*.c files.
 * Not for use outside src/mqtt/.
 *
 * Ownership: a message (mqtt_msg) is immutable and reference-counted; the retained store, queued
 * and in-flight entries, and wills each hold a reference. A session outlives its connections when
 * it is persistent; a client (connection) points to at most one session. */
#ifndef TE_MQTT_BROKER_INTERNAL_H
#define TE_MQTT_BROKER_INTERNAL_H
#include "base/buf.h"
#include "base/hmap.h"
#include "mqtt/broker.h"
#include "mqtt/codec.h"

typedef struct mqtt_session mqtt_session;

typedef struct mqtt_msg {
    uint32_t refs;
    uint8_t qos;
    bool retain;
    uint16_t topic_len;
    uint32_t props_len, payload_len;
    uint64_t expiry_at;   /* monotonic ms, 0 = never */
    uint32_t expiry_s;    /* message expiry interval as published (0 = none) */
    uint64_t store_id;    /* persistence id, 0 = not stored */
    const void *origin;   /* in-process publisher tag (mqtt_broker_publish_ex), else NULL */
    char *topic;          /* NUL-terminated, inside the same allocation */
    uint8_t *props;       /* forwardable v5 properties (raw) */
    uint8_t *payload;
} mqtt_msg;

mqtt_msg *mqtt_msg_new(const void *topic, size_t tlen, const void *props, size_t plen, const void *payload,
                       size_t len, uint8_t qos, bool retain, uint64_t expiry_at);
static inline mqtt_msg *mqtt_msg_ref(mqtt_msg *m) { m->refs++; return m; }
void mqtt_msg_unref(mqtt_msg *m);

/* one outgoing delivery to a session */
enum { OUT_QUEUED = 0, OUT_WAIT_ACK, OUT_WAIT_REC, OUT_WAIT_COMP };
typedef struct mqtt_out {
    struct mqtt_out *next, *prev;
    mqtt_msg *m;
    uint64_t store_id;    /* persistence id of this delivery, 0 = not stored */
    uint16_t pid;
    uint8_t qos, state;
    bool retain, dup;
    uint8_t nsubids;
    uint32_t subids[];
} mqtt_out;

typedef struct mqtt_outlist {
    mqtt_out *head, *tail;
    uint32_t count;
} mqtt_outlist;

/* a subscription as the session records it (the tree holds the matching side) */
typedef struct mqtt_sub {
    char *filter;         /* full filter as subscribed, including any $share/group/ prefix */
    uint8_t opts;         /* v5 options byte: QoS | NL<<2 | RAP<<3 | RH<<4 */
    uint32_t subid;
} mqtt_sub;

struct mqtt_session {         /* fields ordered by size: this struct exists per client id */
    char *id;
    char *username;           /* of the last connection (ACL checks while offline) */
    mqtt_client *c;           /* NULL when offline */
    mqtt_sub *subs;
    uint16_t *rx_qos2;        /* incoming QoS 2 packet ids awaiting PUBREL */
    mqtt_msg *will;           /* pending will (after the connection ended, during the will delay) */
    struct mqtt_isub { mqtt_internal_cb cb; void *ud; } *isub; /* an in-process subscriber */
    mqtt_session *next_all, *prev_all;
    mqtt_outlist inflight, queue;
    uint64_t offline_since;   /* monotonic ms */
    uint64_t queued_bytes;
    uint64_t will_at;
    size_t id_len;
    uint32_t nsubs, capsubs;
    uint32_t nrx_qos2, caprx_qos2;
    uint32_t expiry_s;        /* session expiry interval; UINT32_MAX = never */
    uint32_t match_epoch;     /* routing scratch */
    uint32_t match_slot;
    uint16_t next_pid;
    bool persistent;          /* survives disconnect (expiry > 0) */
    bool stored;              /* known to the store */
};

enum { CL_CONNECTING = 0, CL_CONNECTED, CL_CLOSING };

struct mqtt_client {          /* fields ordered by size: this struct exists per connection */
    mqtt_broker *b;
    void *conn;
    mqtt_session *s;
    mqtt_client *next, *prev;
    buf_t in;
    const char *peer;         /* the host's string, valid while the connection lives */
    char *username;
    char *tls_cn;
    char **rx_alias;          /* [topic_alias_max + 1] topics set by the client */
    hmap *tx_alias;           /* topic -> alias (value = (void*)(uintptr_t)alias); only with aliases */
    char **tx_alias_topics;   /* alias -> topic (owned) */
    mqtt_msg *will;
    uint64_t last_rx, accepted_at;
    uint32_t paused_idx;      /* position in the broker's paused list */
    uint32_t session_expiry;  /* as negotiated at CONNECT, may change at DISCONNECT */
    uint32_t peer_max_packet;
    uint32_t will_delay;
    uint16_t keepalive;
    uint16_t peer_receive_max;
    uint16_t peer_alias_max;
    uint16_t tx_alias_next;
    uint8_t ver, state;
    bool paused;              /* input held back by back-pressure */
    bool request_problem_info;
    bool bridge;              /* a mosquitto bridge (level 0x83/0x84): no local, retain as published */
};

typedef struct sub_entry {
    mqtt_session *s;
    uint8_t opts;
    uint32_t subid;
} sub_entry;

typedef struct sub_group {
    struct sub_group *next;
    char *name;
    sub_entry *members;
    size_t n, cap, rr;
} sub_group;

typedef struct sub_node {
    struct sub_node *parent;
    char *level;
    uint32_t level_len;
    hmap children;
    struct sub_node *plus, *hash;
    sub_entry *subs;
    size_t nsubs, cap;
    sub_group *groups;
} sub_node;

/* one session's accumulated match for the message being routed */
typedef struct match_acc {
    mqtt_session *s;
    uint8_t qos;
    bool rap;
    uint8_t nsubids;
    uint32_t subids[8];
} match_acc;

struct mqtt_broker {
    mqtt_broker_conf conf;
    mqtt_broker_io io;
    struct mqtt_store *store;
    mqtt_client *clients;      /* all connections */
    hmap sessions;             /* client id -> mqtt_session */
    mqtt_session *all_sessions;
    hmap retained;             /* topic -> mqtt_msg */
    sub_node root;
    uint32_t match_epoch;
    match_acc *acc;
    size_t nacc, capacc;
    buf_t scratch, scratch2;
    mqtt_broker_stats st;
    uint64_t now, last_sys, last_sweep, heap_max;
    /* $SYS/broker/load/...: per-minute rates as 1, 5 and 15 minute moving averages */
    uint64_t load_prev[8];
    double load_avg[8][3];
    uint32_t internal_seq;
    size_t internal_count; /* in-process subscriber sessions (not counted as sessions) */
    bool retry_blocked;
    bool congested;            /* set while routing: a subscriber's transport is above high water */
    mqtt_session *route_from;  /* the publisher of the message being routed */
    mqtt_client **paused;      /* clients whose input is held */
    size_t npaused, cappaused;
};

/* broker.c */
void broker_send(mqtt_client *c, const buf_t *out);
void broker_disconnect(mqtt_client *c, uint8_t rc, const char *reason);
void broker_close(mqtt_client *c);
void session_free(mqtt_broker *b, mqtt_session *s);
void session_end(mqtt_broker *b, mqtt_session *s);
void broker_publish_will(mqtt_broker *b, mqtt_msg *will);
/* handle_connect.c */
mqtt_session *session_new(mqtt_broker *b, const char *id, size_t len);
int handle_connect(mqtt_client *c, const mqtt_packet *p);
int handle_disconnect(mqtt_client *c, const mqtt_packet *p);
/* handle_publish.c */
int handle_publish(mqtt_client *c, const mqtt_packet *p);
int handle_puback(mqtt_client *c, const mqtt_packet *p);
int handle_pubrec(mqtt_client *c, const mqtt_packet *p);
int handle_pubrel(mqtt_client *c, const mqtt_packet *p);
int handle_pubcomp(mqtt_client *c, const mqtt_packet *p);
void broker_route(mqtt_broker *b, mqtt_session *from, mqtt_msg *m);
bool broker_can_route(mqtt_broker *b, mqtt_session *from, const char *topic, uint16_t tlen, uint8_t qos);
void session_deliver(mqtt_broker *b, mqtt_session *s, mqtt_msg *m, uint8_t qos, bool retain,
                     const uint32_t *subids, uint8_t nsubids);
void session_flush(mqtt_broker *b, mqtt_session *s);
void session_resend(mqtt_broker *b, mqtt_session *s);
void out_free(mqtt_out *o);
mqtt_out *out_new(mqtt_msg *m, uint8_t qos, bool retain, const uint32_t *subids, uint8_t n);
void outlist_push(mqtt_outlist *l, mqtt_out *o);
void outlist_remove(mqtt_outlist *l, mqtt_out *o);
/* handle_subscribe.c */
int handle_subscribe(mqtt_client *c, const mqtt_packet *p);
int handle_unsubscribe(mqtt_client *c, const mqtt_packet *p);
int session_add_sub(mqtt_broker *b, mqtt_session *s, const char *filter, uint8_t opts, uint32_t subid,
                    bool *existed);
void session_remove_all_subs(mqtt_broker *b, mqtt_session *s);
void retain_set(mqtt_broker *b, mqtt_msg *m);
/* subtree.c */
int subtree_add(sub_node *root, const char *filter, size_t flen, mqtt_session *s, uint8_t opts, uint32_t subid);
int subtree_remove(sub_node *root, const char *filter, size_t flen, mqtt_session *s);
typedef void (*subtree_visit)(void *ud, const sub_entry *e);
typedef void (*subtree_visit_group)(void *ud, sub_group *g);
void subtree_match(sub_node *root, const char *topic, size_t tlen, subtree_visit v, subtree_visit_group vg,
                   void *ud);
void subtree_free(sub_node *root);
#endif
