/* net/udp: one datagram socket on the loop (the LoRaWAN gateway bridge's port). Receives in
 * batches (recvmmsg through libuv, into one static buffer: datagrams are handled synchronously);
 * sends are batched too: datagrams queued during a loop turn leave in one sendmmsg() from a
 * uv_check handle (a gateway's PUSH_ACKs for a burst of PUSH_DATA cost one system call), and what
 * the kernel would not take now goes through libuv's queue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "net/net.h"

#define UDP_BATCH 64
#define UDP_BATCH_BYTES (UDP_BATCH * 600)

struct net_udp {
    uv_udp_t h;
    uv_check_t check;
    net_udp_cb cb;
    void *ud;
    uint64_t drops;
    size_t queued;
    /* this turn's outgoing datagrams */
    struct mmsghdr msgs[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    struct sockaddr_storage to[UDP_BATCH];
    uint8_t data[UDP_BATCH_BYTES];
    size_t n_out, used;
    bool closing;
};

typedef struct udp_send_req {
    uv_udp_send_t req;
    net_udp *u;
    size_t n;
    uint8_t data[];
} udp_send_req;

static void on_check(uv_check_t *c);

static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b) {
    static char buf[16 * 65536]; /* room for 16 datagrams: libuv then reads with recvmmsg() */
    b->base = buf;
    b->len = sizeof buf;
}

static void on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from, unsigned flags) {
    net_udp *u = h->data;
    if (n <= 0 || !from) return; /* n == 0 with from == NULL: nothing more to read (or MMSG_FREE) */
    if (flags & UV_UDP_PARTIAL) return; /* truncated: larger than any valid gateway datagram */
    unsigned fl = from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    u->cb(u->ud, from, fl, (const uint8_t *)b->base, (size_t)n);
}

int net_udp_open(uv_loop_t *loop, const char *bind, int port, net_udp_cb cb, void *ud, net_udp **out, char *err,
                 size_t errlen) {
    net_udp *u = calloc(1, sizeof *u);
    if (!u) return -1;
    u->cb = cb;
    u->ud = ud;
    struct sockaddr_storage ss;
    const char *host = bind && *bind ? bind : "0.0.0.0";
    bool v6 = strchr(host, ':') != NULL;
    int rc = v6 ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) : uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
    if (rc == 0) rc = uv_udp_init_ex(loop, &u->h, (v6 ? AF_INET6 : AF_INET) | UV_UDP_RECVMMSG);
    if (rc) {
        snprintf(err, errlen, "udp %s:%d: %s", host, port, uv_strerror(rc));
        free(u);
        return -1;
    }
    u->h.data = u;
    rc = uv_udp_bind(&u->h, (const struct sockaddr *)&ss, 0);
    if (rc == 0) rc = uv_udp_recv_start(&u->h, on_alloc, on_recv);
    if (rc) {
        snprintf(err, errlen, "udp %s:%d: %s", host, port, uv_strerror(rc));
        uv_close((uv_handle_t *)&u->h, (uv_close_cb)free);
        return -1;
    }
    int sz = 4 << 20;
    uv_recv_buffer_size((uv_handle_t *)&u->h, &sz);
    sz = 4 << 20;
    uv_send_buffer_size((uv_handle_t *)&u->h, &sz);
    uv_check_init(loop, &u->check);
    u->check.data = u;
    uv_check_start(&u->check, on_check);
    *out = u;
    return 0;
}

static void on_sent(uv_udp_send_t *r, int status) {
    udp_send_req *s = (udp_send_req *)r;
    s->u->queued -= s->n;
    if (status) s->u->drops++;
    free(s);
}

/* through libuv: now if the socket takes it, else a queued copy */
static int send_now(net_udp *u, const struct sockaddr *to, const uint8_t *p, size_t n) {
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    int rc = uv_udp_try_send(&u->h, &b, 1, to);
    if (rc == (int)n) return 0;
    if (rc != UV_EAGAIN && rc != UV_ENOSYS) {
        u->drops++;
        return -1;
    }
    if (u->queued > (8u << 20)) {
        u->drops++;
        return -1;
    }
    udp_send_req *s = malloc(sizeof *s + n);
    if (!s) {
        u->drops++;
        return -1;
    }
    s->u = u;
    s->n = n;
    memcpy(s->data, p, n);
    b = uv_buf_init((char *)s->data, (unsigned)n);
    if (uv_udp_send(&s->req, &u->h, &b, 1, to, on_sent)) {
        free(s);
        u->drops++;
        return -1;
    }
    u->queued += n;
    return 0;
}

static void flush_out(net_udp *u) {
    size_t done = 0;
    uv_os_fd_t fd;
    if (u->n_out > 1 && uv_fileno((uv_handle_t *)&u->h, &fd) == 0) {
        while (done < u->n_out) {
            int r = sendmmsg(fd, u->msgs + done, (unsigned)(u->n_out - done), MSG_DONTWAIT);
            if (r <= 0) break;
            done += (size_t)r;
        }
    }
    for (; done < u->n_out; done++) /* one datagram, or what the kernel did not take */
        send_now(u, (const struct sockaddr *)&u->to[done], u->iov[done].iov_base, u->iov[done].iov_len);
    u->n_out = 0;
    u->used = 0;
}

static void on_check(uv_check_t *c) {
    net_udp *u = c->data;
    if (u->n_out) flush_out(u);
}

int net_udp_send(net_udp *u, const struct sockaddr *to, const uint8_t *p, size_t n) {
    if (u->closing) return -1;
    if (n > sizeof u->data) return send_now(u, to, p, n);
    if (u->n_out == UDP_BATCH || u->used + n > sizeof u->data) flush_out(u);
    size_t i = u->n_out++;
    memcpy(u->data + u->used, p, n);
    socklen_t tl = to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    memcpy(&u->to[i], to, tl);
    u->iov[i].iov_base = u->data + u->used;
    u->iov[i].iov_len = n;
    memset(&u->msgs[i], 0, sizeof u->msgs[i]);
    u->msgs[i].msg_hdr.msg_name = &u->to[i];
    u->msgs[i].msg_hdr.msg_namelen = tl;
    u->msgs[i].msg_hdr.msg_iov = &u->iov[i];
    u->msgs[i].msg_hdr.msg_iovlen = 1;
    u->used += n;
    return 0;
}

int net_udp_port(const net_udp *u) {
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_udp_getsockname(&u->h, (struct sockaddr *)&ss, &len)) return -1;
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

uint64_t net_udp_send_drops(const net_udp *u) { return u->drops; }

static void on_close_udp(uv_handle_t *h) { free(h->data); }
static void on_close_check(uv_handle_t *h) {
    net_udp *u = h->data;
    uv_close((uv_handle_t *)&u->h, on_close_udp);
}

void net_udp_close(net_udp *u) {
    if (!u) return;
    if (u->n_out) flush_out(u);
    u->closing = true;
    uv_udp_recv_stop(&u->h);
    uv_check_stop(&u->check);
    uv_close((uv_handle_t *)&u->check, on_close_check);
}
