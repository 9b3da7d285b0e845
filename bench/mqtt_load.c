/* bench/mqtt_load.c: te_mqtt_load, the MQTT broker load generator behind bench/run.sh. Options, a
 * single epoll loop over every publisher and subscriber socket (one thread: the load generator gets
 * one core, so threads would only add context switches; reads are up to 256 KiB and each is parsed
 * whole, writes are 64 KiB batches, no syscall or allocation per message), /proc sampling of the
 * broker and of the load generator's own CPU and core, and the report: one JSON line and one human line
 * with delivered msgs/s (first to last delivery), sent msgs/s, loss, duplicates, reordering,
 * latency percentiles, broker RSS and CPU. Payloads carry the publisher index, a
 * sequence number and a CLOCK_MONOTONIC send time, so latency is measured on one clock. */
#include "load.h"
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD_HDR 16 /* u32 publisher, u32 sequence, u64 send time (ns), host byte order */
#define PING_EVERY_NS (30ull * 1000000000ull)

typedef struct lpub {
    lconn c; /* first member: epoll data.ptr points at both */
    char topic[256];
    size_t tlen;
    double phase; /* rate mode: this publisher's offset within one period, in messages */
    uint32_t seq;
    uint64_t sent, acked;
    uint32_t inflight, window;
    uint8_t *slot; /* QoS 1/2: packet id -> 0 free, 1 awaiting PUBACK/PUBREC, 2 awaiting PUBCOMP */
    uint16_t next_pid;
    bool blocked;
} lpub;

typedef struct lsub {
    lconn c;
    char filter[256];
    ltrack *tr; /* one per publisher */
} lsub;

static lopts O = {
    .host = "127.0.0.1",
    .port = 1883,
    .pubs = 1,
    .subs = 1,
    .qos = 0,
    .ver = 4,
    .size = 32,
    .duration = 5,
    .topic = "bench/%d",
    .sub_topic = "bench/#",
    .window = 100,
    .drain = 10,
    .idle_quiet = 1.0,
    .hold = 1.0,
    .keepalive = 60,
};

enum { K_PUB, K_SUB };

static struct {
    struct sockaddr_in addr;
    int ep;
    lpub *pubs;
    lsub *subs;
    uint8_t *match;    /* [sub * pubs + pub] = 1 when the subscriber's filter matches the publisher's topic */
    uint32_t *hi;      /* [sub * pubs + pub]: highest sequence + 1 that subscriber got from that publisher */
    uint32_t *seen;    /* per publisher: a lower bound of min(hi) over its matching subscribers (the slowest) */
    uint32_t *nmatch;  /* per publisher: how many subscribers match its topic */
    uint64_t *seen_ts; /* per publisher: newest send time delivered to any subscriber */
    lhist *hist;
    uint64_t rx_total, rx_uniq, bad, dead_subs, dead_pubs;
    uint64_t t0, t_pub_end, t_pubs_done, t_first_rx, t_last_rx;
    bool failed;
    char err[256];
} R;

static void fail(const char *what) {
    if (!R.failed) snprintf(R.err, sizeof R.err, "%.250s", what);
    R.failed = true;
}

/* Expands the first "%d" of pattern with i. */
static void expand(char *out, size_t cap, const char *pattern, int i) {
    const char *p = strstr(pattern, "%d");
    if (!p) {
        snprintf(out, cap, "%s", pattern);
        return;
    }
    snprintf(out, cap, "%.*s%d%s", (int)(p - pattern), pattern, i, p + 2);
}

static bool use_pwait2 = true;

static int wait_events(int ep, struct epoll_event *evs, int max, uint64_t timeout_ns) {
    if (use_pwait2) {
        struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000u),
                              .tv_nsec = (long)(timeout_ns % 1000000000u)};
        int n = epoll_pwait2(ep, evs, max, &ts, NULL);
        if (n >= 0 || errno != ENOSYS) return n;
        use_pwait2 = false;
    }
    return epoll_wait(ep, evs, max, (int)((timeout_ns + 999999) / 1000000));
}

/* ---------------------------------------------------------------- publishers */

static uint16_t pid_alloc(lpub *p) {
    for (int k = 0; k < 65535; k++) {
        uint16_t id = p->next_pid++;
        if (!p->next_pid) p->next_pid = 1;
        if (!p->slot[id]) return id;
    }
    return 0;
}

/* Recomputes R.seen[idx]: the newest sequence (+1) that the slowest matching subscriber got. */
static uint32_t seen_slowest(int idx) {
    uint32_t lo = UINT32_MAX;
    for (int j = 0; j < O.subs; j++)
        if (R.match[j * O.pubs + idx] && R.hi[j * O.pubs + idx] < lo) lo = R.hi[j * O.pubs + idx];
    if (lo == UINT32_MAX) lo = 0;
    R.seen[idx] = lo;
    return lo;
}

/* Flood with backpressure: true while publisher idx is too far ahead of the slowest subscriber that
 * should get its messages (R.seen only grows, so the cached bound is refreshed only when it would
 * throttle). A publisher nobody subscribes to is never throttled. */
static bool pub_throttled(const lpub *p, int idx, uint64_t now) {
    if (O.max_ahead && R.nmatch[idx] && p->sent >= (uint64_t)R.seen[idx] + O.max_ahead &&
        p->sent >= (uint64_t)seen_slowest(idx) + O.max_ahead)
        return true;
    if (O.max_lag > 0 && p->sent > 0 && now > R.seen_ts[idx] && (double)(now - R.seen_ts[idx]) > O.max_lag * 1e9)
        return true;
    return false;
}

/* Appends PUBLISH packets while the buffer is short and the count, window, rate and backpressure allow. */
static int pub_fill(lpub *p, int idx, uint64_t now, uint64_t due) {
    while (lbuf_used(&p->c.out) < 64 * 1024) {
        if (O.count && p->sent >= O.count) break;
        if (O.qos && p->inflight >= p->window) break;
        if (p->sent >= due) break;
        if (pub_throttled(p, idx, now)) break;
        uint16_t pid = 0;
        if (O.qos) {
            pid = pid_alloc(p);
            if (!pid) break;
            p->slot[pid] = 1;
            p->inflight++;
        }
        uint8_t *pl = lw_publish(&p->c.out, O.ver, p->topic, p->tlen, O.qos, pid, O.size);
        if (!pl) return -1;
        uint32_t pub = (uint32_t)idx, seq = p->seq++;
        memcpy(pl, &pub, 4);
        memcpy(pl + 4, &seq, 4);
        memcpy(pl + 8, &now, 8);
        if (O.size > PAYLOAD_HDR) memset(pl + PAYLOAD_HDR, 'x', O.size - PAYLOAD_HDR);
        p->sent++;
    }
    return 0;
}

/* Writes what is buffered; tracks whether the socket is blocked (then waits for EPOLLOUT). */
static int conn_flush(lconn *c, bool *blocked) {
    int r = lconn_flush(c);
    if (r < 0) return -1;
    if (blocked) *blocked = r == 1;
    lconn_events(c, R.ep, r == 1 ? EPOLLIN | EPOLLOUT : EPOLLIN);
    return 0;
}

static int pub_on_read(lpub *p) {
    int r = lconn_read(&p->c);
    if (r < 0) return -1;
    lw_pkt pk;
    size_t used;
    int fr;
    while ((fr = lw_frame(p->c.in.p + p->c.in.off, lbuf_used(&p->c.in), &pk, &used)) == 1) {
        uint16_t pid = pk.body_len >= 2 ? (uint16_t)(pk.body[0] << 8 | pk.body[1]) : 0;
        if (pk.type == LW_PUBACK && O.qos == 1 && p->slot[pid] == 1) {
            p->slot[pid] = 0;
            p->inflight--;
            p->acked++;
        } else if (pk.type == LW_PUBREC && O.qos == 2 && p->slot[pid] == 1) {
            if (pk.body_len >= 3 && pk.body[2] >= 0x80) { /* v5 refusal: the message is gone */
                p->slot[pid] = 0;
                p->inflight--;
            } else {
                p->slot[pid] = 2;
                if (lw_ack(&p->c.out, LW_PUBREL, pid)) return -1;
            }
        } else if (pk.type == LW_PUBCOMP && O.qos == 2 && p->slot[pid] == 2) {
            p->slot[pid] = 0;
            p->inflight--;
            p->acked++;
        } else if (pk.type == LW_DISCONNECT) {
            return -1;
        }
        lbuf_consume(&p->c.in, used);
    }
    if (fr < 0) return -1;
    if (lbuf_used(&p->c.out) && !p->blocked) return conn_flush(&p->c, &p->blocked);
    return 0;
}

/* --------------------------------------------------------------- subscribers */

static void sub_record(lsub *s, const uint8_t *pl, size_t n, uint64_t now) {
    if (n < PAYLOAD_HDR) {
        R.bad++;
        return;
    }
    uint32_t pub, seq;
    uint64_t ts;
    memcpy(&pub, pl, 4);
    memcpy(&seq, pl + 4, 4);
    memcpy(&ts, pl + 8, 8);
    if (pub >= (uint32_t)O.pubs) {
        R.bad++;
        return;
    }
    R.rx_total++;
    uint32_t *hi = &R.hi[(size_t)s->c.idx * (size_t)O.pubs + pub];
    if (seq + 1 > *hi) *hi = seq + 1;
    if (ts > R.seen_ts[pub]) R.seen_ts[pub] = ts;
    int r = ltrack_see(&s->tr[pub], seq);
    if (r >= 0 && r != 2) R.rx_uniq++;
    if (now >= ts) lhist_add(R.hist, (now - ts) / 1000);
}

/* Handles the packets buffered in s->c.in (PUBLISH, PUBREL) and queues the acks. */
static int sub_parse(lsub *s, uint64_t now) {
    lw_pkt pk;
    size_t used;
    int fr;
    bool got = false;
    while ((fr = lw_frame(s->c.in.p + s->c.in.off, lbuf_used(&s->c.in), &pk, &used)) == 1) {
        if (pk.type == LW_PUBLISH) {
            const uint8_t *topic, *pl;
            size_t tlen, plen;
            uint16_t pid;
            if (lw_publish_parse(&pk, O.ver, &topic, &tlen, &pid, &pl, &plen)) return -1;
            sub_record(s, pl, plen, now);
            got = true;
            int q = (pk.flags >> 1) & 3;
            if (q == 1 && lw_ack(&s->c.out, LW_PUBACK, pid)) return -1;
            if (q == 2 && lw_ack(&s->c.out, LW_PUBREC, pid)) return -1;
        } else if (pk.type == LW_PUBREL && pk.body_len >= 2) {
            if (lw_ack(&s->c.out, LW_PUBCOMP, (uint16_t)(pk.body[0] << 8 | pk.body[1]))) return -1;
        } else if (pk.type == LW_DISCONNECT) {
            return -1;
        }
        lbuf_consume(&s->c.in, used);
    }
    if (fr < 0) return -1;
    if (got) {
        if (!R.t_first_rx) R.t_first_rx = now;
        R.t_last_rx = now;
    }
    if (lbuf_used(&s->c.out)) return conn_flush(&s->c, NULL);
    return 0;
}

static int sub_on_read(lsub *s) {
    int r = lconn_read(&s->c);
    if (r <= 0) return r;
    return sub_parse(s, lnow_ns());
}

/* ------------------------------------------------------------------ the run */

static void sample_broker(long *rss_max) {
    if (!O.broker_pid) return;
    long r = lproc_rss_kb(O.broker_pid);
    if (r > *rss_max) *rss_max = r;
}

static double self_cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

typedef struct run_result {
    long rss_start, rss_max;
    double broker_cpu_pct, self_cpu_pct, cores_irq_pct, cpu_window_s;
} run_result;

/* CPU counters at one instant: the broker's ticks, this process's seconds, this process's cores. */
typedef struct cpu_snap {
    uint64_t t;
    long long broker, core_irq, core_total;
    double self;
} cpu_snap;

static void cpu_take(cpu_snap *s) {
    s->t = lnow_ns();
    s->broker = O.broker_pid ? lproc_cpu_ticks(O.broker_pid) : -1;
    s->self = self_cpu_s();
    if (lcores_ticks(&s->core_irq, &s->core_total) < 0) s->core_irq = s->core_total = -1;
}

/* Fills the CPU figures of res over [a, b]. */
static void cpu_between(run_result *res, const cpu_snap *a, const cpu_snap *b) {
    double sec = (double)(b->t - a->t) / 1e9;
    if (sec <= 0) return;
    res->cpu_window_s = sec;
    if (a->broker >= 0 && b->broker >= 0)
        res->broker_cpu_pct = 100.0 * (double)(b->broker - a->broker) / (double)sysconf(_SC_CLK_TCK) / sec;
    res->self_cpu_pct = 100.0 * (b->self - a->self) / sec;
    if (a->core_total >= 0 && b->core_total > a->core_total)
        res->cores_irq_pct = 100.0 * (double)(b->core_irq - a->core_irq) / (double)(b->core_total - a->core_total);
}

static int bring_up(lconn **conns, int n, const char *kind, const char *const *filters) {
    char prefix[64], m[300];
    snprintf(prefix, sizeof prefix, "te-bench-%d-%s", (int)getpid(), kind);
    lsetup s = {.conns = conns,
                .n = n,
                .ep = R.ep,
                .addr = &R.addr,
                .ver = O.ver,
                .keepalive = O.keepalive,
                .qos = O.qos,
                .id_prefix = prefix,
                .filters = filters,
                .max_pending = 64,
                .timeout_s = 30};
    if (!lsetup_run(&s)) return 0;
    snprintf(m, sizeof m, "%s: %s", filters ? "subscribers" : "publishers", s.err);
    fail(m);
    return -1;
}

static void run(run_result *res) {
    int np = O.pubs, ns = O.subs;
    lconn **ptrs = calloc((size_t)(np + ns + 1), sizeof *ptrs);
    const char **filters = calloc((size_t)ns + 1, sizeof *filters);
    for (int j = 0; j < ns; j++) {
        ptrs[j] = &R.subs[j].c;
        R.subs[j].c.kind = K_SUB;
        filters[j] = R.subs[j].filter;
    }
    for (int i = 0; i < np; i++) {
        ptrs[ns + i] = &R.pubs[i].c;
        R.pubs[i].c.kind = K_PUB;
    }
    res->rss_start = res->rss_max = O.broker_pid ? lproc_rss_kb(O.broker_pid) : -1;
    res->broker_cpu_pct = res->self_cpu_pct = res->cores_irq_pct = res->cpu_window_s = -1;
    cpu_snap snap0, snap_pub;
    bool have_pub_snap = false;
    /* subscribers first (all SUBACKed before anyone publishes), then publishers */
    if ((ns && bring_up(ptrs, ns, "s", filters)) || bring_up(ptrs + ns, np, "p", NULL)) goto out;
    for (int j = 0; j < ns; j++) /* anything that came in with the SUBACK */
        if (lbuf_used(&R.subs[j].c.in) && sub_parse(&R.subs[j], lnow_ns())) fail("subscriber: bad packet");
    for (int i = 0; i < np; i++) {
        lpub *p = &R.pubs[i];
        p->window = (uint32_t)O.window;
        if (p->c.recv_max > 0 && (uint32_t)p->c.recv_max < p->window) p->window = (uint32_t)p->c.recv_max;
        p->next_pid = 1;
        if (O.qos && !(p->slot = calloc(65536, 1))) fail("out of memory");
        p->phase = (double)i / np;
    }
    double ppr = O.rate > 0 ? O.rate / np : 0; /* per publisher rate */
    uint64_t t0 = lnow_ns(), dur = (uint64_t)(O.duration * 1e9), last_ping = t0, last_sample = t0;
    for (int i = 0; i < np; i++) R.seen_ts[i] = t0;
    R.t0 = t0;
    cpu_take(&snap0);
    enum { SENDING, FLUSHING, DRAINING } phase = SENDING;
    uint64_t expected = 0;
    struct epoll_event evs[512];
    while (!R.failed) {
        uint64_t now = lnow_ns(), el = now - t0;
        if (now - last_sample > 100000000u) {
            last_sample = now;
            sample_broker(&res->rss_max);
        }
        if (phase == SENDING) {
            bool all_done = O.count > 0;
            for (int i = 0; i < np && all_done; i++) all_done = R.pubs[i].sent >= O.count;
            if (all_done || (O.duration > 0 && el >= dur)) {
                phase = FLUSHING;
                R.t_pub_end = now;
                cpu_take(&snap_pub);
                have_pub_snap = true;
            }
        }
        uint64_t wait = 10000000; /* 10 ms */
        bool busy = false;
        for (int i = 0; i < np; i++) {
            lpub *p = &R.pubs[i];
            if (p->c.state != LC_READY || p->blocked) continue;
            if (phase == SENDING) {
                uint64_t due = UINT64_MAX;
                if (ppr > 0) {
                    double allowed = (double)el * 1e-9 * ppr - p->phase;
                    due = allowed < 0 ? 0 : (uint64_t)allowed + 1;
                }
                if (pub_fill(p, i, now, due)) fail("out of memory");
                if (ppr > 0) { /* sleep until the next message of this publisher is due */
                    double dt = ((double)p->sent + p->phase) / ppr * 1e9 - (double)el;
                    if (dt < 0) dt = 0;
                    if (dt < (double)wait) wait = (uint64_t)dt;
                } else if (!(O.count && p->sent >= O.count) && !(O.qos && p->inflight >= p->window) &&
                           !pub_throttled(p, i, now)) {
                    busy = true;
                }
            }
            if (lbuf_used(&p->c.out) && conn_flush(&p->c, &p->blocked)) {
                p->c.state = LC_DEAD;
                R.dead_pubs++;
                fail("publisher connection closed by the broker");
            }
        }
        if (busy || O.busy_poll) wait = 0;
        if (now - last_ping > PING_EVERY_NS) {
            last_ping = now;
            for (int k = 0; k < np + ns; k++)
                if (ptrs[k]->state == LC_READY && !lw_simple(&ptrs[k]->out, LW_PINGREQ)) lconn_flush(ptrs[k]);
        }
        if (phase == FLUSHING) {
            bool idle = true;
            for (int i = 0; i < np && idle; i++)
                idle = R.pubs[i].c.state != LC_READY ||
                       (!lbuf_used(&R.pubs[i].c.out) && (O.qos == 0 || R.pubs[i].inflight == 0));
            if (idle || now - R.t_pub_end > (uint64_t)(O.drain * 1e9)) {
                phase = DRAINING;
                R.t_pubs_done = now;
                for (int j = 0; j < ns; j++)
                    for (int i = 0; i < np; i++)
                        if (R.match[j * np + i]) expected += O.qos ? R.pubs[i].acked : R.pubs[i].sent;
            }
        }
        if (phase == DRAINING) {
            if (R.rx_uniq >= expected) break;
            uint64_t last = R.t_last_rx > R.t_pubs_done ? R.t_last_rx : R.t_pubs_done;
            if (now - last > (uint64_t)(O.idle_quiet * 1e9)) break;
            if (now - R.t_pubs_done > (uint64_t)(O.drain * 1e9)) break;
            if (ns > 0 && R.dead_subs == (uint64_t)ns) break;
        }
        int n = wait_events(R.ep, evs, 512, wait);
        if (n < 0 && errno != EINTR) {
            fail("epoll");
            break;
        }
        for (int k = 0; k < n; k++) {
            lconn *c = evs[k].data.ptr;
            if (c->state != LC_READY) continue;
            uint32_t e = evs[k].events;
            if (c->kind == K_PUB) {
                lpub *p = (lpub *)c;
                int bad = 0;
                if (e & EPOLLOUT) bad = conn_flush(c, &p->blocked);
                if (!bad && (e & (EPOLLIN | EPOLLERR | EPOLLHUP))) bad = pub_on_read(p);
                if (bad) {
                    c->state = LC_DEAD;
                    R.dead_pubs++;
                    epoll_ctl(R.ep, EPOLL_CTL_DEL, c->fd, NULL);
                    if (phase != DRAINING) fail("publisher connection closed by the broker");
                }
            } else {
                lsub *s = (lsub *)c;
                int r = 0;
                if (e & EPOLLOUT) r = conn_flush(c, NULL);
                if (r >= 0 && (e & (EPOLLIN | EPOLLERR | EPOLLHUP))) r = sub_on_read(s);
                if (r < 0) { /* counted, and its missing messages show up as loss */
                    c->state = LC_DEAD;
                    R.dead_subs++;
                    epoll_ctl(R.ep, EPOLL_CTL_DEL, c->fd, NULL);
                }
            }
        }
    }
    /* CPU over the publishing phase (the steady state) when it lasted 0.5 s or more, else (a short
     * burst) over the whole run including the drain */
    cpu_snap snap_end;
    cpu_take(&snap_end);
    if (have_pub_snap && snap_pub.t - snap0.t >= 500000000u) cpu_between(res, &snap0, &snap_pub);
    else cpu_between(res, &snap0, &snap_end);
    sample_broker(&res->rss_max);
out:
    for (int k = 0; k < np + ns; k++) lconn_close(ptrs[k], R.ep, true);
    for (int i = 0; i < np; i++) free(R.pubs[i].slot);
    free(ptrs);
    free(filters);
}

/* -------------------------------------------------------------------- main */

static void usage(FILE *f) {
    fprintf(f, "usage: te_mqtt_load [options]\n"
               "  --host IP          broker address (default 127.0.0.1)\n"
               "  --port N           broker port (default 1883)\n"
               "  --pubs N           publishers (default 1)\n"
               "  --subs M           subscribers (default 1)\n"
               "  --fanout           one publisher to --subs M subscribers (sets --pubs 1)\n"
               "  --qos 0|1|2        publish and subscribe QoS (default 0)\n"
               "  --v5               MQTT 5.0 instead of 3.1.1\n"
               "  --size BYTES       payload size, >= 16 (default 32)\n"
               "  --count N          messages per publisher (default: use --duration)\n"
               "  --duration S       seconds of publishing (default 5)\n"
               "  --rate R           total msgs/s over all publishers, 0 = flood (default 0)\n"
               "  --topic PATTERN    publisher topic, %%d = publisher index (default bench/%%d)\n"
               "  --sub-topic PAT    subscriber filter, %%d = subscriber index (default bench/#)\n"
               "  --window N         QoS 1/2 in-flight messages per publisher (default 100)\n"
               "  --max-ahead N      flood with backpressure: a publisher pauses while it is N messages ahead\n"
               "                     of the newest one its slowest subscriber got (0 = pure flood, default)\n"
               "  --max-lag MS       flood with backpressure: a publisher pauses while the newest message any\n"
               "                     subscriber got from it was sent more than MS ms ago (0 = off, default)\n"
               "  --drain S          longest wait for stragglers after publishing (default 10)\n"
               "  --quiet-after S    drain ends after S seconds without a delivery (default 1)\n"
               "  --idle N           open N idle connections (keepalive 60) and report broker kB per one\n"
               "  --hold S           idle mode: seconds to hold before sampling RSS (default 1)\n"
               "  --broker-pid PID   sample RSS (VmRSS) and CPU time of the broker from /proc\n"
               "  --keepalive S      MQTT keepalive (default 60)\n"
               "  --label TEXT       copied into the JSON line\n"
               "  --busy-poll        never sleep in epoll_wait (lowest latency; burns the load generator's core)\n"
               "  --json-only        print only the JSON line\n");
}

static int parse_args(int argc, char **argv) {
    enum {
        O_HOST = 256,
        O_PORT,
        O_PUBS,
        O_SUBS,
        O_QOS,
        O_SIZE,
        O_COUNT,
        O_DUR,
        O_RATE,
        O_TOPIC,
        O_SUBT,
        O_FANOUT,
        O_IDLE,
        O_BPID,
        O_V5,
        O_WINDOW,
        O_DRAIN,
        O_QUIET,
        O_HOLD,
        O_KA,
        O_LABEL,
        O_JSON,
        O_HELP,
        O_AHEAD,
        O_LAG,
        O_BUSY
    };
    static const struct option lo[] = {
        {"host", 1, 0, O_HOST},      {"port", 1, 0, O_PORT},       {"pubs", 1, 0, O_PUBS},
        {"subs", 1, 0, O_SUBS},      {"qos", 1, 0, O_QOS},         {"size", 1, 0, O_SIZE},
        {"count", 1, 0, O_COUNT},    {"duration", 1, 0, O_DUR},    {"rate", 1, 0, O_RATE},
        {"topic", 1, 0, O_TOPIC},    {"sub-topic", 1, 0, O_SUBT},  {"fanout", 0, 0, O_FANOUT},
        {"idle", 1, 0, O_IDLE},      {"broker-pid", 1, 0, O_BPID}, {"v5", 0, 0, O_V5},
        {"window", 1, 0, O_WINDOW},  {"drain", 1, 0, O_DRAIN},     {"quiet-after", 1, 0, O_QUIET},
        {"hold", 1, 0, O_HOLD},      {"keepalive", 1, 0, O_KA},    {"label", 1, 0, O_LABEL},
        {"json-only", 0, 0, O_JSON}, {"help", 0, 0, O_HELP},       {"max-ahead", 1, 0, O_AHEAD},
        {"max-lag", 1, 0, O_LAG},    {"busy-poll", 0, 0, O_BUSY},  {0, 0, 0, 0}};
    bool fanout = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case O_HOST:
            O.host = optarg;
            break;
        case O_PORT:
            O.port = atoi(optarg);
            break;
        case O_PUBS:
            O.pubs = atoi(optarg);
            break;
        case O_SUBS:
            O.subs = atoi(optarg);
            break;
        case O_QOS:
            O.qos = atoi(optarg);
            break;
        case O_SIZE:
            O.size = (size_t)strtoull(optarg, NULL, 10);
            break;
        case O_COUNT:
            O.count = strtoull(optarg, NULL, 10);
            break;
        case O_DUR:
            O.duration = atof(optarg);
            break;
        case O_RATE:
            O.rate = atof(optarg);
            break;
        case O_TOPIC:
            O.topic = optarg;
            break;
        case O_SUBT:
            O.sub_topic = optarg;
            break;
        case O_FANOUT:
            fanout = true;
            break;
        case O_IDLE:
            O.idle = atoi(optarg);
            break;
        case O_BPID:
            O.broker_pid = atoi(optarg);
            break;
        case O_V5:
            O.ver = 5;
            break;
        case O_WINDOW:
            O.window = atoi(optarg);
            break;
        case O_DRAIN:
            O.drain = atof(optarg);
            break;
        case O_QUIET:
            O.idle_quiet = atof(optarg);
            break;
        case O_HOLD:
            O.hold = atof(optarg);
            break;
        case O_KA:
            O.keepalive = atoi(optarg);
            break;
        case O_LABEL:
            O.label = optarg;
            break;
        case O_JSON:
            O.quiet = true;
            break;
        case O_AHEAD:
            O.max_ahead = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case O_BUSY:
            O.busy_poll = true;
            break;
        case O_LAG:
            O.max_lag = atof(optarg) / 1000.0;
            break;
        case 'h':
        case O_HELP:
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (fanout) O.pubs = 1;
    if (O.pubs < 1 || O.subs < 0 || O.qos < 0 || O.qos > 2 || O.size < PAYLOAD_HDR || O.size > 256 * 1024 * 1024 ||
        O.window < 1 || O.window > 65535 || O.port <= 0 || O.port > 65535 || O.idle < 0 || O.keepalive < 0 ||
        O.keepalive > 65535 || (O.count == 0 && O.duration <= 0)) {
        fprintf(stderr, "te_mqtt_load: invalid option value (see --help)\n");
        return -1;
    }
    return 0;
}

static double pct(uint64_t a, uint64_t b) { return b ? 100.0 * (double)a / (double)b : 0; }

int main(int argc, char **argv) {
    if (parse_args(argc, argv)) return 2;
    if (O.idle > 0) return run_idle(&O);
    R.addr.sin_family = AF_INET;
    R.addr.sin_port = htons((uint16_t)O.port);
    if (inet_pton(AF_INET, O.host, &R.addr.sin_addr) != 1) {
        fprintf(stderr, "te_mqtt_load: --host must be an IPv4 address\n");
        return 2;
    }
    lraise_nofile(O.pubs + O.subs + 256L);
    R.pubs = calloc((size_t)O.pubs, sizeof *R.pubs);
    R.subs = calloc((size_t)O.subs + 1, sizeof *R.subs);
    R.match = calloc((size_t)O.pubs * ((size_t)O.subs + 1), 1);
    R.hist = calloc(1, sizeof *R.hist);
    R.seen = calloc((size_t)O.pubs, sizeof *R.seen);
    R.nmatch = calloc((size_t)O.pubs, sizeof *R.nmatch);
    R.hi = calloc((size_t)O.pubs * ((size_t)O.subs + 1), sizeof *R.hi);
    R.seen_ts = calloc((size_t)O.pubs, sizeof *R.seen_ts);
    if (!R.seen || !R.nmatch || !R.hi || !R.seen_ts || !R.pubs || !R.subs || !R.match || !R.hist) return 1;
    for (int i = 0; i < O.pubs; i++) {
        R.pubs[i].c.fd = -1;
        expand(R.pubs[i].topic, sizeof R.pubs[i].topic, O.topic, i);
        R.pubs[i].tlen = strlen(R.pubs[i].topic);
    }
    for (int j = 0; j < O.subs; j++) {
        R.subs[j].c.fd = -1;
        expand(R.subs[j].filter, sizeof R.subs[j].filter, O.sub_topic, j);
        R.subs[j].tr = calloc((size_t)O.pubs, sizeof(ltrack));
        if (!R.subs[j].tr) return 1;
        for (int i = 0; i < O.pubs; i++) {
            R.match[j * O.pubs + i] = (uint8_t)ltopic_match(R.subs[j].filter, R.pubs[i].topic);
            R.nmatch[i] += R.match[j * O.pubs + i];
        }
    }

    R.ep = epoll_create1(EPOLL_CLOEXEC);
    if (R.ep < 0) return 1;
    run_result res;
    run(&res);
    close(R.ep);

    /* totals */
    uint64_t sent = 0, acked = 0, expected = 0, lost = 0, uniq = 0, dups = 0, reord = 0, total = 0;
    for (int i = 0; i < O.pubs; i++) {
        sent += R.pubs[i].sent;
        acked += O.qos ? R.pubs[i].acked : R.pubs[i].sent;
    }
    for (int j = 0; j < O.subs; j++)
        for (int i = 0; i < O.pubs; i++) {
            ltrack *t = &R.subs[j].tr[i];
            uint64_t e = !R.match[j * O.pubs + i] ? 0 : O.qos ? R.pubs[i].acked : R.pubs[i].sent;
            expected += e;
            /* count only messages the publisher got acknowledged (all of them for QoS 0) */
            uint64_t got = t->uniq < e ? t->uniq : e;
            if (getenv("TE_LOAD_DEBUG"))
                fprintf(stderr, "sub %d pub %d: expected %llu unique %llu dup %llu reordered %llu last %u\n", j, i,
                        (unsigned long long)e, (unsigned long long)t->uniq, (unsigned long long)t->dups,
                        (unsigned long long)t->reordered, t->prev);
            lost += e - got;
            uniq += t->uniq;
            dups += t->dups;
            reord += t->reordered;
            total += t->total;
            ltrack_free(t);
        }
    /* delivered msg/s: deliveries over the window from the first to the last delivery (n deliveries
     * span n - 1 intervals); sent msg/s: messages written over the publishing time */
    uint64_t t0 = R.t0, tpe = R.t_pub_end, tlast = R.t_last_rx, tfirst = R.t_first_rx;
    double send_s = tpe > t0 ? (double)(tpe - t0) / 1e9 : 0, recv_s = tlast > t0 ? (double)(tlast - t0) / 1e9 : 0;
    double deliver_s = tfirst && tlast > tfirst ? (double)(tlast - tfirst) / 1e9 : 0;
    double first_s = tfirst > t0 ? (double)(tfirst - t0) / 1e9 : 0;
    double sent_ps = send_s > 0 ? (double)sent / send_s : 0;
    double deliv_ps = deliver_s > 0 && total > 1 ? (double)(total - 1) / deliver_s : 0;
    lhist *h = R.hist;
    unsigned long long p50 = lhist_pct(h, 50), p90 = lhist_pct(h, 90), p99 = lhist_pct(h, 99), mx = h->max;
    char err[300] = "";
    if (R.failed) snprintf(err, sizeof err, "%s", R.err);
    for (char *q = err; *q; q++)
        if (*q == '"' || *q == '\\') *q = '\'';
    const char *mode = O.rate > 0                       ? "rate-limited"
                       : (O.max_lag > 0 || O.max_ahead) ? "flood with backpressure"
                                                        : "flood";
    typedef unsigned long long ull;
    printf("{\"mode\":\"load\",\"label\":\"%s\",\"ok\":%s,\"error\":\"%s\",\"mqtt\":\"%s\",\"pubs\":%d,\"subs\":%d,"
           "\"qos\":%d,\"size\":%zu,\"rate\":%.0f,\"max_lag_ms\":%.0f,\"max_ahead\":%u,\"window\":%d,"
           "\"send_s\":%.3f,\"recv_s\":%.3f,\"first_rx_s\":%.4f,\"deliver_s\":%.3f,\"sent\":%llu,\"acked\":%llu,\"expected\":%llu,\"received\":%llu,"
           "\"unique\":%llu,\"lost\":%llu,\"loss_pct\":%.4f,\"duplicates\":%llu,\"reordered\":%llu,\"malformed\":%llu,"
           "\"dead_subs\":%llu,\"sent_per_s\":%.0f,\"delivered_per_s\":%.0f,\"lat_p50_us\":%llu,\"lat_p90_us\":%llu,"
           "\"lat_p99_us\":%llu,\"lat_max_us\":%llu,\"broker_rss_start_kb\":%ld,\"broker_rss_max_kb\":%ld,"
           "\"broker_cpu_pct\":%.1f,\"loadgen_cpu_pct\":%.1f,\"loadgen_core_irq_pct\":%.1f,\"cpu_window_s\":%.3f}\n",
           O.label ? O.label : "", R.failed ? "false" : "true", err, O.ver == 5 ? "5.0" : "3.1.1", O.pubs, O.subs,
           O.qos, O.size, O.rate, O.max_lag * 1e3, (unsigned)O.max_ahead, O.window, send_s, recv_s, first_s, deliver_s,
           (ull)sent,
           (ull)acked, (ull)expected, (ull)total, (ull)uniq, (ull)lost, pct(lost, expected), (ull)dups, (ull)reord,
           (ull)R.bad, (ull)R.dead_subs, sent_ps, deliv_ps, p50, p90, p99, mx, res.rss_start, res.rss_max,
           res.broker_cpu_pct, res.self_cpu_pct, res.cores_irq_pct, res.cpu_window_s);
    if (!O.quiet) {
        if (R.failed) printf("error: %s\n", err);
        printf("%d pub -> %d sub, QoS %d, %zu B, %s: sent %llu (%.0f/s), delivered %llu (%.0f/s), lost %llu "
               "(%.3f%%), dup %llu, reordered %llu, latency us p50 %llu p90 %llu p99 %llu max %llu; broker RSS max "
               "%ld kB, CPU %.0f%%; load generator CPU %.0f%% (+ %.0f%% irq/softirq on its core)\n",
               O.pubs, O.subs, O.qos, O.size, mode, (ull)sent, sent_ps, (ull)total, deliv_ps, (ull)lost,
               pct(lost, expected), (ull)dups, (ull)reord, p50, p90, p99, mx, res.rss_max, res.broker_cpu_pct,
               res.self_cpu_pct, res.cores_irq_pct);
    }
    fflush(stdout);
    return R.failed ? 1 : 0;
}
