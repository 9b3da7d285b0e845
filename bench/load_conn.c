/* bench/load_conn.c: the load generator's connections: non-blocking TCP sockets on epoll, buffered
 * reads and writes, and the handshake driver that brings many connections up (TCP connect, CONNECT /
 * CONNACK, SUBSCRIBE / SUBACK) while keeping only a bounded number in flight, so that thousands of
 * connections do not overflow the broker's listen backlog. */
#include "load.h"
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

int lconn_start(lconn *c, int ep, const struct sockaddr_in *addr) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (const struct sockaddr *)addr, sizeof *addr) && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->state = LC_TCP;
    c->ev = EPOLLOUT;
    struct epoll_event e = {.events = c->ev, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e)) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

int lconn_flush(lconn *c) {
    while (lbuf_used(&c->out)) {
        ssize_t w = send(c->fd, c->out.p + c->out.off, lbuf_used(&c->out), MSG_NOSIGNAL);
        if (w > 0) {
            lbuf_consume(&c->out, (size_t)w);
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 1;
        return -1;
    }
    return 0;
}

int lconn_read(lconn *c) {
    if (lbuf_reserve(&c->in, 128 * 1024)) return -1;
    for (;;) {
        ssize_t r = read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len);
        if (r > 0) {
            c->in.len += (size_t)r;
            return (int)r;
        }
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        return -1;
    }
}

int lconn_events(lconn *c, int ep, uint32_t ev) {
    if (c->ev == ev) return 0;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e)) return -1;
    c->ev = ev;
    return 0;
}

void lconn_close(lconn *c, int ep, bool disconnect) {
    if (c->fd >= 0) {
        if (disconnect && c->state == LC_READY) {
            uint8_t d[2] = {0xe0, 0};
            /* best effort, only if nothing else is pending */
            if (!lbuf_used(&c->out)) (void)!send(c->fd, d, 2, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        if (ep >= 0) epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = LC_DEAD;
    lbuf_free(&c->in);
    lbuf_free(&c->out);
}

/* One step of the handshake for `c` after an epoll event; returns 1 when it became READY, 0 when
 * still progressing, -1 on failure (message in s->err). */
static int setup_step(lsetup *s, lconn *c, uint32_t events) {
    if (c->state == LC_TCP) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return 0;
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) {
            snprintf(s->err, sizeof s->err, "connect: %s", strerror(err));
            return -1;
        }
        char id[96];
        snprintf(id, sizeof id, "%s%d", s->id_prefix, c->idx);
        if (lw_connect(&c->out, s->ver, id, (uint16_t)s->keepalive)) return -1;
        c->state = LC_CONNACK;
        if (lconn_flush(c) < 0) {
            snprintf(s->err, sizeof s->err, "send CONNECT: %s", strerror(errno));
            return -1;
        }
        lconn_events(c, s->ep, lbuf_used(&c->out) ? EPOLLIN | EPOLLOUT : EPOLLIN);
        return 0;
    }
    if (events & EPOLLOUT) {
        if (lconn_flush(c) < 0) {
            snprintf(s->err, sizeof s->err, "send: %s", strerror(errno));
            return -1;
        }
        if (!lbuf_used(&c->out)) lconn_events(c, s->ep, EPOLLIN);
    }
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP))) return 0;
    int r = lconn_read(c);
    if (r < 0) {
        snprintf(s->err, sizeof s->err, "connection %d closed by the broker during the handshake", c->idx);
        return -1;
    }
    lw_pkt pk;
    size_t used;
    while (lw_frame(c->in.p + c->in.off, lbuf_used(&c->in), &pk, &used) == 1) {
        if (c->state == LC_CONNACK && pk.type == LW_CONNACK) {
            int rc, rm;
            if (lw_connack_parse(&pk, s->ver, &rc, &rm) || rc != 0) {
                snprintf(s->err, sizeof s->err, "CONNACK refused (code %d)", rc);
                return -1;
            }
            c->recv_max = rm;
            if (s->filters) {
                if (lw_subscribe(&c->out, s->ver, 1, s->filters[c->idx], s->qos)) return -1;
                c->state = LC_SUBACK;
                if (lconn_flush(c) < 0) return -1;
            } else {
                c->state = LC_READY;
            }
        } else if (c->state == LC_SUBACK && pk.type == LW_SUBACK) {
            if (!lw_suback_ok(&pk, s->ver)) {
                snprintf(s->err, sizeof s->err, "SUBACK refused for '%s'", s->filters[c->idx]);
                return -1;
            }
            c->state = LC_READY;
        }
        lbuf_consume(&c->in, used);
        if (c->state == LC_READY) break;
    }
    return c->state == LC_READY;
}

int lsetup_run(lsetup *s) {
    struct sockaddr_in a = *s->addr;
    int next = 0, pending = 0, ready = 0;
    uint64_t deadline = lnow_ns() + (uint64_t)(s->timeout_s * 1e9);
    struct epoll_event evs[256];
    s->err[0] = 0;
    while (ready < s->n) {
        while (next < s->n && pending < s->max_pending) {
            lconn *c = s->conns[next];
            c->idx = next;
            if (lconn_start(c, s->ep, &a)) {
                snprintf(s->err, sizeof s->err, "socket/connect #%d: %s", next, strerror(errno));
                return -1;
            }
            next++;
            pending++;
        }
        uint64_t now = lnow_ns();
        if (now > deadline) {
            snprintf(s->err, sizeof s->err, "handshake timeout: %d of %d connections ready", ready, s->n);
            return -1;
        }
        int n = epoll_wait(s->ep, evs, 256, 100);
        if (n < 0 && errno != EINTR) return -1;
        for (int i = 0; i < n; i++) {
            lconn *c = evs[i].data.ptr;
            if (c->state == LC_READY) continue;
            int r = setup_step(s, c, evs[i].events);
            if (r < 0) return -1;
            if (r == 1) {
                pending--;
                ready++;
                lconn_events(c, s->ep, EPOLLIN);
            }
        }
    }
    return 0;
}

int lraise_nofile(long n) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl)) return -1;
    if ((long)rl.rlim_cur >= n) return 0;
    if ((long)rl.rlim_max < n) {
        struct rlimit want = {.rlim_cur = (rlim_t)n, .rlim_max = (rlim_t)n};
        if (!setrlimit(RLIMIT_NOFILE, &want)) return 0;
        rl.rlim_cur = rl.rlim_max; /* not permitted: take what the hard limit allows */
        setrlimit(RLIMIT_NOFILE, &rl);
        return -1;
    }
    rl.rlim_cur = (rlim_t)n;
    return setrlimit(RLIMIT_NOFILE, &rl);
}
