/* bench/load.h: shared declarations of te_mqtt_load, the MQTT broker load generator
 * (bench/load_*.c and bench/mqtt_load.c).
 * It carries its own tiny client-side MQTT 3.1.1/5.0 encoder and decoder so that the benchmark does
 * not depend on the broker's codec it measures. Contracts, one line per function:
 *
 *   lbuf_reserve(b, n)        make room for n more bytes at b->p + b->len (compacts, then grows); 0 / -1
 *   lbuf_consume(b, n)        drop n bytes from the front (b->off advances; empties reset to 0)
 *   lw_connect(b, ver, id, ka)          append a clean-session CONNECT (ver 4 = 3.1.1, 5 = 5.0)
 *   lw_subscribe(b, ver, pid, f, qos)   append a SUBSCRIBE for one filter
 *   lw_publish(b, ver, t, tlen, qos, pid, plen)  append a PUBLISH header; returns where the plen
 *                                       payload bytes go (the caller fills them), NULL on OOM
 *   lw_ack(b, type, pid)      append PUBACK / PUBREC / PUBREL / PUBCOMP (type 4..7)
 *   lw_simple(b, type)        append a PINGREQ (12) or DISCONNECT (14)
 *   lw_frame(p, n, pkt, used) split one packet off p: 1 = got one, 0 = need more, -1 = malformed
 *   lw_publish_parse(pkt, ver, ...)     topic, packet id and payload of an incoming PUBLISH; 0 / -1
 *   lw_connack_parse(pkt, ver, &rc, &recv_max)  return code and (v5) server Receive Maximum; 0 / -1
 *   lw_suback_ok(pkt, ver)    1 when every SUBACK return code grants a subscription
 *
 *   lhist_add(h, us) / lhist_pct(h, p) / lhist_merge(dst, src)  log-linear latency histogram (~0.1 %)
 *   ltrack_see(t, seq)        per (subscriber, publisher) sequence tracking: returns 0 new in order,
 *                             1 new but backwards (reordered), 2 duplicate; -1 out of memory
 *   ltopic_match(filter, topic)  MQTT wildcard match (+, #), 1 / 0
 *   lproc_rss_kb(pid) / lproc_cpu_ticks(pid)   VmRSS (kB) and utime+stime (ticks) from /proc; -1
 *   lcores_ticks(&irq, &total)  irq + softirq ticks and all ticks of the CPUs this process may run
 *                             on, from /proc/stat (softirq: loopback TCP work that no process is
 *                             charged for); returns the number of CPUs, -1 on error
 *   lnow_ns()                 CLOCK_MONOTONIC in nanoseconds
 *
 *   lconn_start(c, ep, addr)  non-blocking connect, registered in epoll `ep` with data.ptr = c
 *   lconn_flush(c)            write c->out: 0 all written, 1 would block, -1 error
 *   lconn_read(c)             one read() into c->in: >0 bytes, 0 would block, -1 closed / error
 *   lconn_events(c, ep, ev)   change the registered epoll events (no-op when unchanged)
 *   lconn_close(c, ep)        best-effort DISCONNECT, close, free buffers
 *   lsetup_run(set)           bring a set of connections to READY (TCP, CONNECT/CONNACK, optional
 *                             SUBSCRIBE/SUBACK) with a bounded number in the handshake at once
 *   lraise_nofile(n)          raise RLIMIT_NOFILE to at least n (hard limit too when permitted)
 *   run_idle(opt)             the --idle mode: open N idle connections, report broker RSS per one
 */
#ifndef TE_BENCH_LOAD_H
#define TE_BENCH_LOAD_H
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "procstat.h"

/* ---- options (parsed in mqtt_load.c) ---- */
typedef struct lopts {
    const char *host;
    int port;
    int pubs, subs, qos, ver;
    size_t size;
    uint64_t count;        /* per publisher, 0 = use duration */
    double duration;       /* seconds of publishing */
    double rate;           /* total msgs/s, 0 = flood */
    const char *topic;     /* publisher topic pattern, %d = publisher index */
    const char *sub_topic; /* subscriber filter pattern, %d = subscriber index */
    int window;            /* QoS 1/2 in-flight messages per publisher */
    uint32_t max_ahead;    /* publisher pauses when this many messages ahead of the subscribers */
    double max_lag;        /* publisher pauses when its newest delivered message is this many s old */
    double drain;          /* max seconds to wait for stragglers after publishing */
    double idle_quiet;     /* drain ends after this many seconds without a delivery */
    int idle;              /* --idle N */
    double hold;           /* seconds idle connections are held before RSS is sampled */
    int broker_pid;
    int keepalive;
    const char *label; /* free text copied into the JSON */
    bool quiet;
    bool busy_poll; /* never sleep in epoll_wait (the load generator owns its core) */
} lopts;

/* ---- byte buffer: bytes live in p[off, len) ---- */
typedef struct lbuf {
    uint8_t *p;
    size_t off, len, cap;
} lbuf;
int lbuf_reserve(lbuf *b, size_t n);
void lbuf_consume(lbuf *b, size_t n);
void lbuf_free(lbuf *b);
static inline size_t lbuf_used(const lbuf *b) { return b->len - b->off; }

/* ---- wire ---- */
enum {
    LW_CONNECT = 1,
    LW_CONNACK,
    LW_PUBLISH,
    LW_PUBACK,
    LW_PUBREC,
    LW_PUBREL,
    LW_PUBCOMP,
    LW_SUBSCRIBE,
    LW_SUBACK,
    LW_UNSUBSCRIBE,
    LW_UNSUBACK,
    LW_PINGREQ,
    LW_PINGRESP,
    LW_DISCONNECT,
    LW_AUTH
};
typedef struct lw_pkt {
    int type, flags;
    const uint8_t *body;
    size_t body_len;
} lw_pkt;
int lw_connect(lbuf *b, int ver, const char *client_id, uint16_t keepalive);
int lw_subscribe(lbuf *b, int ver, uint16_t pid, const char *filter, int qos);
uint8_t *lw_publish(lbuf *b, int ver, const char *topic, size_t tlen, int qos, uint16_t pid, size_t plen);
int lw_ack(lbuf *b, int type, uint16_t pid);
int lw_simple(lbuf *b, int type);
int lw_frame(const uint8_t *p, size_t n, lw_pkt *pkt, size_t *used);
int lw_publish_parse(const lw_pkt *pkt, int ver, const uint8_t **topic, size_t *tlen, uint16_t *pid,
                     const uint8_t **payload, size_t *plen);
int lw_connack_parse(const lw_pkt *pkt, int ver, int *rc, int *recv_max);
int lw_suback_ok(const lw_pkt *pkt, int ver);

/* ---- statistics ---- */
#define LHIST_SUB_BITS 10
#define LHIST_BUCKETS (2048 + 53 * 1024)
typedef struct lhist {
    uint64_t n, max, sum;
    uint64_t b[LHIST_BUCKETS];
} lhist;
void lhist_add(lhist *h, uint64_t us);
uint64_t lhist_pct(const lhist *h, double p);
void lhist_merge(lhist *dst, const lhist *src);

typedef struct ltrack {
    uint64_t total, uniq, dups, reordered;
    uint32_t prev;
    bool any;
    uint8_t *bits;
    size_t nbytes;
} ltrack;
int ltrack_see(ltrack *t, uint32_t seq);
void ltrack_free(ltrack *t);

int ltopic_match(const char *filter, const char *topic);
int lcores_ticks(long long *irq, long long *total);
uint64_t lnow_ns(void);

/* ---- connections ---- */
enum { LC_NONE, LC_TCP, LC_CONNACK, LC_SUBACK, LC_READY, LC_DEAD };
typedef struct lconn {
    int fd, state, idx;
    int kind; /* the caller's tag (publisher, subscriber) */
    uint32_t ev;
    int recv_max; /* from a v5 CONNACK, 0 = not given */
    lbuf in, out;
} lconn;
int lconn_start(lconn *c, int ep, const struct sockaddr_in *addr);
int lconn_flush(lconn *c);
int lconn_read(lconn *c);
int lconn_events(lconn *c, int ep, uint32_t ev);
void lconn_close(lconn *c, int ep, bool disconnect);

typedef struct lsetup {
    lconn **conns; /* n connections, fd = -1, to bring up */
    int n;
    int ep;
    const struct sockaddr_in *addr;
    int ver, keepalive, qos;
    const char *id_prefix;      /* client id = prefix + index */
    const char *const *filters; /* NULL: no SUBSCRIBE; else one filter per connection */
    int max_pending;            /* connections allowed in the handshake at once */
    double timeout_s;
    char err[256];
} lsetup;
int lsetup_run(lsetup *s);

int lraise_nofile(long n);
int run_idle(const lopts *o);

#endif
