/* conn: the net_conn core — per-loop state (write batching via one uv_check handle, shared read
 * buffers), TCP listeners, accepted and outbound connections, the write path (uv_try_write first,
 * uv_write for the rest), pause/resume, timeouts and close semantics (on_close exactly once, always
 * from a libuv close callback, never from inside an owner's call). */
#include "net/net_internal.h"
#include "base/log.h"
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- per-loop state ---------- */

static pthread_mutex_t g_loops_mu = PTHREAD_MUTEX_INITIALIZER;
static net_loop *g_loops;

static void net__flush(net_conn *c);
static void net__pump(net_conn *c);

static void net__on_check(uv_check_t *h) {
    net_loop *nl = h->data;
    net_conn *c;
    if (nl->before_flush && nl->dirty_head) nl->before_flush(nl->before_flush_ud);
    while ((c = nl->dirty_head) != NULL) {
        nl->dirty_head = c->dnext;
        if (nl->dirty_head) nl->dirty_head->dprev = NULL;
        else nl->dirty_tail = NULL;
        c->dnext = c->dprev = NULL;
        c->dirty = false;
        if (c->pump) net__pump(c);
        net__flush(c);
    }
    if (nl->idle_on) {
        uv_idle_stop(&nl->idle);
        nl->idle_on = false;
    }
}

void net_before_flush(uv_loop_t *loop, void (*fn)(void *ud), void *ud) {
    net_loop *nl = net__loop_get(loop); /* keeps a reference for the loop's lifetime */
    if (!nl) return;
    nl->before_flush = fn;
    nl->before_flush_ud = ud;
}

static void net__on_idle(uv_idle_t *h) { (void)h; /* only keeps the poll phase from blocking */ }

net_loop *net__loop_get(uv_loop_t *loop) {
    pthread_mutex_lock(&g_loops_mu);
    net_loop *nl;
    for (nl = g_loops; nl; nl = nl->next)
        if (nl->loop == loop && nl->closing_handles == 0) break;
    if (!nl) {
        nl = calloc(1, sizeof *nl);
        if (nl) {
            nl->loop = loop;
            uv_check_init(loop, &nl->check);
            uv_idle_init(loop, &nl->idle);
            nl->check.data = nl->idle.data = nl;
            uv_check_start(&nl->check, net__on_check);
            uv_unref((uv_handle_t *)&nl->check);
            nl->next = g_loops;
            g_loops = nl;
        }
    }
    if (nl) nl->refs++;
    pthread_mutex_unlock(&g_loops_mu);
    return nl;
}

static void net__loop_handle_closed(uv_handle_t *h) {
    net_loop *nl = h->data;
    if (--nl->closing_handles == 0) free(nl);
}

void net__loop_release(net_loop *nl) {
    pthread_mutex_lock(&g_loops_mu);
    if (--nl->refs == 0) {
        for (net_loop **pp = &g_loops; *pp; pp = &(*pp)->next)
            if (*pp == nl) { *pp = nl->next; break; }
        nl->closing_handles = 2;
        uv_close((uv_handle_t *)&nl->check, net__loop_handle_closed);
        uv_close((uv_handle_t *)&nl->idle, net__loop_handle_closed);
    }
    pthread_mutex_unlock(&g_loops_mu);
}

void net__mark_dirty(net_conn *c) {
    if (c->dirty || c->in_flush || c->state == NET_ST_CLOSED) return;
    net_loop *nl = c->nl;
    c->dirty = true;
    c->dnext = NULL;
    c->dprev = nl->dirty_tail;
    if (nl->dirty_tail) nl->dirty_tail->dnext = c;
    else nl->dirty_head = c;
    nl->dirty_tail = c;
    if (!nl->idle_on) {
        uv_idle_start(&nl->idle, net__on_idle);
        nl->idle_on = true;
    }
}

static void net__dirty_remove(net_conn *c) {
    if (!c->dirty) return;
    net_loop *nl = c->nl;
    if (c->dprev) c->dprev->dnext = c->dnext;
    else nl->dirty_head = c->dnext;
    if (c->dnext) c->dnext->dprev = c->dprev;
    else nl->dirty_tail = c->dprev;
    c->dnext = c->dprev = NULL;
    c->dirty = false;
}

/* ---------- lifetime ---------- */

struct net_outbound {
    uv_getaddrinfo_t gai;
    uv_connect_t creq;
    struct addrinfo *res, *cur;
    char *host, *sni;
    SSL_CTX *ssl_ctx;
    bool tls, verify;
    char why[160];
};

static void net__listener_unref(net_listener *l);

/* `copy`: keep a private copy of cbs (outbound conns); else cbs must outlive the conn (a listener's) */
static net_conn *net__conn_new(net_loop *nl, const net_conn_cbs *cbs, void *ud, bool copy) {
    net_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    if (copy) {
        if (!(c->cbs_own = malloc(sizeof *c->cbs_own))) { free(c); return NULL; }
        *c->cbs_own = *cbs;
        cbs = c->cbs_own;
    }
    c->nl = nl;
    c->cbs = cbs;
    c->ud = ud;
    buf_init(&c->wout);
    buf_init(&c->wfly);
    buf_init(&c->aout);
    buf_init(&c->pin);
    c->tcp.data = c;
    return c;
}

static void net__conn_free(net_conn *c) {
    net__dirty_remove(c);
    if (c->opened) {
        if (c->cbs->on_close) c->cbs->on_close(c);
    } else if (c->ob && c->cbs->on_connect_error) {
        c->cbs->on_connect_error(c->ud, c->ob->why[0] ? c->ob->why : "connection closed");
    }
    net_tls_free(c);
    net_ws_free(c);
    if (c->ob) {
        if (c->ob->res) uv_freeaddrinfo(c->ob->res);
        if (c->ob->ssl_ctx) SSL_CTX_free(c->ob->ssl_ctx);
        free(c->ob->host);
        free(c->ob->sni);
        free(c->ob);
    }
    buf_free(&c->wout);
    buf_free(&c->wfly);
    buf_free(&c->aout);
    buf_free(&c->pin);
    free(c->timer);
    free(c->wreq);
    free(c->sreq);
    free(c->cbs_own);
    net_loop *nl = c->nl;
    net_listener *l = c->lis;
    free(c);
    if (l) net__listener_unref(l);
    net__loop_release(nl);
}

static void net__handle_done(net_conn *c) {
    if (--c->handles == 0 && c->state == NET_ST_CLOSED) net__conn_free(c);
}

static void net__on_handle_closed(uv_handle_t *h) { net__handle_done(h->data); }

/* Close every handle; the conn is freed (and on_close called) once the last one is closed. */
static void net__close_handles(net_conn *c) {
    if (c->state == NET_ST_CLOSED) return;
    c->state = NET_ST_CLOSED;
    net__dirty_remove(c);
    c->reading = false;
    if (c->tcp_init && !uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, net__on_handle_closed);
    if (c->timer_init && !uv_is_closing((uv_handle_t *)c->timer))
        uv_close((uv_handle_t *)c->timer, net__on_handle_closed);
}

void net__fail(net_conn *c, const char *why) {
    if (c->state == NET_ST_CLOSED) return;
    LOG_DEBUG("net", "event=conn_fail peer=%s why=\"%s\"", c->peer, why);
    if (c->ob && !c->opened && why != c->ob->why) snprintf(c->ob->why, sizeof c->ob->why, "%s", why);
    net__close_handles(c);
}

static void net__on_timer(uv_timer_t *t) {
    net_conn *c = t->data;
    if (c->state == NET_ST_CLOSING || c->state == NET_ST_SHUTDOWN) {
        net__fail(c, "close linger expired");
    } else if (c->state == NET_ST_OPEN) {
        net__fail(c, "idle timeout");
    } else {
        LOG_INFO("net", "event=handshake_timeout peer=%s", c->peer);
        net__fail(c, "handshake timeout");
    }
}

void net__set_timeout(net_conn *c, int ms) {
    if (c->state == NET_ST_CLOSED) return;
    if (!c->timer_init) {
        if (ms <= 0) return;
        if (!c->timer && !(c->timer = malloc(sizeof *c->timer))) return;
        uv_timer_init(c->nl->loop, c->timer);
        c->timer->data = c;
        c->timer_init = true;
        c->handles++;
    }
    if (ms <= 0) uv_timer_stop(c->timer);
    else uv_timer_start(c->timer, net__on_timer, (uint64_t)ms, 0);
}

/* ---------- write path ---------- */

static void net__maybe_shutdown(net_conn *c);

static void net__on_write(uv_write_t *req, int status) {
    net_conn *c = req->data;
    c->write_busy = false;
    c->wfly.len = 0;
    c->wfly_off = 0;
    if (c->wfly.cap > (1u << 20)) buf_free(&c->wfly);
    if (c->state == NET_ST_CLOSED) return;
    if (status < 0) {
        net__fail(c, uv_strerror(status));
        return;
    }
    net__flush(c);
    if (c->cbs->on_drain && c->state == NET_ST_OPEN && !c->write_busy) c->cbs->on_drain(c);
}

static void net__write_out(net_conn *c) {
    if (c->write_busy || c->wout.len == 0 || c->state >= NET_ST_SHUTDOWN) return;
    size_t total = c->wout.len;
    uv_buf_t b = uv_buf_init((char *)c->wout.data, (unsigned)(total > 0x7fffffffu ? 0x7fffffffu : total));
    int r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (r == UV_EAGAIN || r == UV_ENOSYS) r = 0;
    if (r < 0) {
        net__fail(c, uv_strerror(r));
        return;
    }
    if ((size_t)r == total) {
        c->wout.len = 0;
        if (c->cbs->on_drain && c->state == NET_ST_OPEN) c->cbs->on_drain(c);
        /* all sent: give back huge buffers, and small ones too, so an idle connection holds no
         * output buffer at all (a busy one keeps its mid-sized buffer between loop turns) */
        if (c->wout.cap > (1u << 20) || c->wout.cap <= 256) buf_free(&c->wout);
        return;
    }
    buf_t t = c->wfly; /* swap: the in-flight bytes must not move while the kernel request holds them */
    c->wfly = c->wout;
    c->wout = t;
    c->wout.len = 0;
    c->wfly_off = (size_t)r;
    b = uv_buf_init((char *)c->wfly.data + r, (unsigned)(c->wfly.len - (size_t)r));
    if (!c->wreq && !(c->wreq = malloc(sizeof *c->wreq))) r = UV_ENOMEM;
    else {
        c->wreq->data = c;
        r = uv_write(c->wreq, (uv_stream_t *)&c->tcp, &b, 1, net__on_write);
    }
    if (r < 0) {
        c->wfly.len = 0;
        net__fail(c, uv_strerror(r));
        return;
    }
    c->write_busy = true;
}

static void net__on_shutdown(uv_shutdown_t *req, int status) {
    net_conn *c = req->data;
    (void)status;
    net__close_handles(c);
    net__handle_done(c);
}

static void net__maybe_shutdown(net_conn *c) {
    if (c->state != NET_ST_CLOSING || c->write_busy || c->wout.len || c->aout.len) return;
    c->state = NET_ST_SHUTDOWN;
    c->handles++;
    if (!c->sreq) c->sreq = malloc(sizeof *c->sreq);
    if (c->sreq) c->sreq->data = c;
    if (!c->sreq || uv_shutdown(c->sreq, (uv_stream_t *)&c->tcp, net__on_shutdown) < 0) {
        c->handles--;
        net__close_handles(c);
    }
}

static void net__flush(net_conn *c) {
    if (c->state == NET_ST_CLOSED || c->state == NET_ST_CONNECTING) return;
    c->in_flush = true;
    if (c->aout.len && (c->state == NET_ST_OPEN || c->state == NET_ST_CLOSING)) {
        if (c->ws && net_ws_open(c)) net_ws_send_app(c, c->aout.data, c->aout.len);
        else if (c->tls) net_tls_write(c, c->aout.data, c->aout.len);
        else net__wire_out(c, c->aout.data, c->aout.len);
        c->aout.len = 0;
        if (c->aout.cap > (1u << 20)) buf_free(&c->aout);
    }
    if (c->state == NET_ST_CLOSING && !c->close_layers) {
        c->close_layers = true;
        c->aout.len = 0;
        if (c->ws && net_ws_open(c)) net_ws_close(c);
        if (c->tls && net_tls_ready(c)) net_tls_shutdown(c);
    }
    c->in_flush = false;
    if (c->state == NET_ST_CLOSED) return;
    net__write_out(c);
    net__maybe_shutdown(c);
}

void net__wire_out(net_conn *c, const void *p, size_t n) {
    if (c->state == NET_ST_CLOSED || n == 0) return;
    if (buf_append(&c->wout, p, n)) {
        net__fail(c, "out of memory");
        return;
    }
    net__mark_dirty(c);
}

void net__raw_out(net_conn *c, const void *p, size_t n) {
    if (c->tls) net_tls_write(c, p, n);
    else net__wire_out(c, p, n);
}

int net_conn_write(net_conn *c, const void *p, size_t n) {
    if (c->state != NET_ST_OPEN) return -1;
    buf_t *b = (c->tls || c->ws) ? &c->aout : &c->wout;
    if (n && buf_append(b, p, n)) return -1;
    if (!c->dirty) net__mark_dirty(c);
    return 0;
}

size_t net_conn_pending(const net_conn *c) {
    return c->wout.len + c->aout.len + (c->write_busy ? c->wfly.len - c->wfly_off : 0);
}

void net_conn_close(net_conn *c) {
    if (c->state >= NET_ST_CLOSING) return;
    if (c->state == NET_ST_CONNECTING) {
        net__fail(c, "closed");
        return;
    }
    c->state = NET_ST_CLOSING;
    net__set_timeout(c, NET_CLOSE_LINGER_MS);
    net__mark_dirty(c);
}

void net_conn_abort(net_conn *c) {
    if (c->state == NET_ST_CLOSED) return;
    c->wout.len = c->aout.len = 0;
    net__close_handles(c);
}

/* ---------- read path ---------- */

static void net__on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
    net_conn *c = h->data;
    (void)suggested;
    *b = uv_buf_init((char *)c->nl->rbuf, sizeof c->nl->rbuf);
}

static void net__on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
    net_conn *c = s->data;
    if (nread > 0) {
        if (c->state != NET_ST_OPEN && c->state != NET_ST_HANDSHAKE) return; /* closing: discard */
        if (c->tls) net_tls_wire_in(c, (const uint8_t *)b->base, (size_t)nread);
        else net__plain_in(c, (const uint8_t *)b->base, (size_t)nread);
        return;
    }
    if (nread == 0) return;
    if (c->reading) {
        uv_read_stop(s);
        c->reading = false;
    }
    if (nread == UV_EOF && c->state == NET_ST_OPEN) {
        LOG_DEBUG("net", "event=peer_eof peer=%s", c->peer);
        net_conn_close(c);
    } else if (nread == UV_EOF && c->state >= NET_ST_CLOSING) {
        /* already closing: the shutdown (or linger timer) finishes it */
    } else {
        net__fail(c, nread == UV_EOF ? "eof during handshake" : uv_strerror((int)nread));
    }
}

static void net__start_read(net_conn *c) {
    if (c->reading || c->paused || c->state >= NET_ST_CLOSING || c->state == NET_ST_CONNECTING) return;
    if (uv_read_start((uv_stream_t *)&c->tcp, net__on_alloc, net__on_read) == 0) c->reading = true;
}

void net__plain_in(net_conn *c, const uint8_t *p, size_t n) {
    if (c->ws) net_ws_in(c, p, n);
    else net__deliver(c, p, n);
}

void net__deliver(net_conn *c, const uint8_t *p, size_t n) {
    if (c->state != NET_ST_OPEN || n == 0) return;
    if (c->paused || c->pin.len) {
        if (buf_append(&c->pin, p, n)) net__fail(c, "out of memory");
        return;
    }
    if (c->cbs->on_data) c->cbs->on_data(c, p, n);
}

void net__unread(net_conn *c, const uint8_t *p, size_t n, bool raw) {
    if (n == 0 || c->state >= NET_ST_CLOSING) return;
    buf_t t;
    buf_init(&t);
    if (buf_reserve(&t, n + c->pin.len)) {
        net__fail(c, "out of memory");
        return;
    }
    buf_append(&t, p, n);
    buf_append(&t, c->pin.data, c->pin.len);
    buf_free(&c->pin);
    c->pin = t;
    c->pin_raw = raw;
}

/* Deliver bytes held while paused (called from the check handler, never from an owner's call). */
static void net__pump(net_conn *c) {
    c->pump = false;
    if (c->state != NET_ST_OPEN || c->paused) return;
    if (c->pin.len) {
        buf_t t = c->pin;
        bool raw = c->pin_raw;
        buf_init(&c->pin);
        c->pin_raw = false;
        if (raw) net__plain_in(c, t.data, t.len);
        else if (c->cbs->on_data) c->cbs->on_data(c, t.data, t.len);
        if (c->pin.len == 0) {
            t.len = 0;
            buf_free(&c->pin);
            c->pin = t; /* keep the capacity */
        } else {
            buf_free(&t);
        }
    }
    if (c->pin.len == 0) net__start_read(c);
}

void net_conn_pause_read(net_conn *c) {
    if (c->paused) return;
    c->paused = true;
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
}

void net_conn_resume_read(net_conn *c) {
    if (!c->paused) return;
    c->paused = false;
    if (c->state != NET_ST_OPEN) return;
    if (c->pin.len) {
        c->pump = true;
        net__mark_dirty(c);
    } else {
        net__start_read(c);
    }
}

/* ---------- accessors ---------- */

void net_conn_set_data(net_conn *c, void *data) { c->data = data; }
void *net_conn_data(const net_conn *c) { return c->data; }
const char *net_conn_peer(const net_conn *c) { return c->peer; }
const char *net_conn_tls_cn(const net_conn *c) { return c->tls ? net_tls_cn_of(c) : NULL; }
const char *net_conn_kind(const net_conn *c) {
    if (c->ws) return c->tls ? "wss" : "ws";
    return c->tls ? "tls" : "tcp";
}

static void net__fmt_addr(const struct sockaddr *sa, char *out, size_t n) {
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        uv_ip4_name(a, ip, sizeof ip);
        port = ntohs(a->sin_port);
        snprintf(out, n, "%s:%d", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        uv_ip6_name(a, ip, sizeof ip);
        port = ntohs(a->sin6_port);
        snprintf(out, n, "[%s]:%d", ip, port);
    } else {
        snprintf(out, n, "?");
    }
}

static void net__fill_peer(net_conn *c) {
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
        net__fmt_addr((struct sockaddr *)&ss, c->peer, sizeof c->peer);
    else
        snprintf(c->peer, sizeof c->peer, "?");
}

/* ---------- stages ---------- */

void net__opened(net_conn *c) {
    if (c->state != NET_ST_HANDSHAKE && c->state != NET_ST_CONNECTING) return;
    c->state = NET_ST_OPEN;
    c->opened = true;
    net__set_timeout(c, 0);
    LOG_DEBUG("net", "event=conn_open peer=%s kind=%s", c->peer, net_conn_kind(c));
    if (c->cbs->on_open) c->cbs->on_open(c, c->ud);
}

void net__transport_ready(net_conn *c) {
    if (c->lis && c->lis->mode == NET_MODE_WS) return; /* wait for the HTTP upgrade request */
    net__opened(c);
}

/* ---------- listeners ---------- */

static void net__listener_free(net_listener *l) {
    if (l->ssl_ctx) SSL_CTX_free(l->ssl_ctx);
    free(l->ws_subprotocol);
    net_loop *nl = l->nl;
    free(l);
    net__loop_release(nl);
}

static void net__listener_unref(net_listener *l) {
    if (--l->refs == 0 && l->handles == 0) net__listener_free(l);
}

static void net__on_listener_closed(uv_handle_t *h) {
    net_listener *l = h->data;
    if (--l->handles == 0 && l->refs == 0) net__listener_free(l);
}

static void net__on_connection(uv_stream_t *server, int status) {
    net_listener *l = server->data;
    if (status < 0) {
        LOG_WARN("net", "event=accept_error err=\"%s\"", uv_strerror(status));
        return;
    }
    net_conn *c = net__conn_new(l->nl, &l->cbs, l->mode == NET_MODE_HTTP ? (void *)l : l->ud, false);
    if (!c) return;
    net__loop_get(l->nl->loop); /* the same net_loop; released in net__conn_free */
    c->lis = l;
    l->refs++;
    c->state = NET_ST_HANDSHAKE;
    uv_tcp_init(l->nl->loop, &c->tcp);
    c->tcp_init = true;
    c->handles++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        net__close_handles(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    net__fill_peer(c);
    if (l->ssl_ctx && net_tls_attach(c, l->ssl_ctx, true, NULL, NULL, false) != 0) {
        net__fail(c, "tls setup");
        return;
    }
    if (l->mode == NET_MODE_WS && net_ws_attach_server(c) != 0) {
        net__fail(c, "ws setup");
        return;
    }
    if ((l->ssl_ctx || l->mode == NET_MODE_WS) && l->timeout_ms > 0) net__set_timeout(c, l->timeout_ms);
    net__start_read(c);
    if (!l->ssl_ctx) net__transport_ready(c);
}

static int net__resolve_bind(const char *host, int port, struct sockaddr_storage *ss, char *err,
                             size_t errlen) {
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0) return 0;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0) return 0;
    uv_loop_t tmp;
    if (uv_loop_init(&tmp) != 0) return -1;
    uv_getaddrinfo_t req;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int r = uv_getaddrinfo(&tmp, &req, NULL, host, NULL, &hints);
    if (r == 0) {
        memcpy(ss, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
        if (ss->ss_family == AF_INET) ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
        else ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
        uv_freeaddrinfo(req.addrinfo);
    } else {
        snprintf(err, errlen, "cannot resolve bind address %s: %s", host, uv_strerror(r));
    }
    uv_loop_close(&tmp);
    return r == 0 ? 0 : -1;
}

static int net__bind_one(net_listener *l, const struct sockaddr *sa, unsigned flags, int backlog,
                         char *err, size_t errlen) {
    uv_tcp_t *t = &l->tcp[l->ntcp];
    uv_tcp_init(l->nl->loop, t);
    t->data = l;
    l->ntcp++;
    l->handles++;
    int r = uv_tcp_bind(t, sa, flags);
    if (r == 0) r = uv_listen((uv_stream_t *)t, backlog, net__on_connection);
    if (r != 0) {
        char a[80];
        net__fmt_addr(sa, a, sizeof a);
        snprintf(err, errlen, "listen on %s: %s", a, uv_strerror(r));
        l->ntcp--;
        uv_close((uv_handle_t *)t, net__on_listener_closed);
        return -1;
    }
    return 0;
}

int net__listen_common(uv_loop_t *loop, const net_listen_opts *o, int mode, const net_conn_cbs *cbs,
                       void *ud, net_listener **out, char *err, size_t errlen) {
    char dummy[8];
    if (!err || errlen == 0) { err = dummy; errlen = sizeof dummy; }
    err[0] = 0;
    *out = NULL;
    if (o->port < 0 || o->port > 65535) {
        snprintf(err, errlen, "invalid port %d", o->port);
        return -1;
    }
    net_listener *l = calloc(1, sizeof *l);
    if (!l) { snprintf(err, errlen, "out of memory"); return -1; }
    l->nl = net__loop_get(loop);
    if (!l->nl) { free(l); snprintf(err, errlen, "out of memory"); return -1; }
    l->refs = 1;
    l->mode = mode;
    l->cbs = *cbs;
    l->ud = ud;
    l->timeout_ms = o->handshake_timeout_ms == 0 ? NET_DEFAULT_TIMEOUT_MS : o->handshake_timeout_ms;
    if (o->ws_subprotocol && *o->ws_subprotocol) l->ws_subprotocol = strdup(o->ws_subprotocol);
    if (o->tls) {
        l->ssl_ctx = net_tls_ctx_server(&o->tls_opts, err, errlen);
        if (!l->ssl_ctx) { net__listener_unref(l); return -1; }
    }
    int backlog = o->backlog > 0 ? o->backlog : 1024;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    bool any = !o->bind || !*o->bind;
    if (any) uv_ip4_addr("0.0.0.0", o->port, (struct sockaddr_in *)&ss);
    else if (net__resolve_bind(o->bind, o->port, &ss, err, errlen) != 0) {
        net__listener_unref(l);
        return -1;
    }
    if (net__bind_one(l, (struct sockaddr *)&ss, 0, backlog, err, errlen) != 0) {
        net__listener_unref(l);
        return -1;
    }
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(&l->tcp[0], (struct sockaddr *)&bound, &blen);
    l->port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                                          : ntohs(((struct sockaddr_in *)&bound)->sin_port);
    if (any) { /* also [::] on the same port, IPv6 only; quietly skipped when unavailable */
        struct sockaddr_in6 a6;
        char e6[160];
        uv_ip6_addr("::", l->port, &a6);
        if (net__bind_one(l, (struct sockaddr *)&a6, UV_TCP_IPV6ONLY, backlog, e6, sizeof e6) != 0)
            LOG_DEBUG("net", "event=listen_ipv6_skipped why=\"%s\"", e6);
    }
    static const char *kinds[] = {"tcp", "ws", "http"};
    LOG_INFO("net", "event=listen bind=%s port=%d kind=%s%s", any ? "*" : o->bind, l->port,
             o->tls && mode != NET_MODE_HTTP ? "tls+" : "", kinds[mode]);
    *out = l;
    return 0;
}

int net_listen(uv_loop_t *loop, const net_listen_opts *o, const net_conn_cbs *cbs, void *ud,
               net_listener **out, char *err, size_t errlen) {
    return net__listen_common(loop, o, o->websocket ? NET_MODE_WS : NET_MODE_RAW, cbs, ud, out, err,
                              errlen);
}

int net_listener_port(const net_listener *l) { return l ? l->port : -1; }

void net_listener_close(net_listener *l) {
    if (!l || l->closed) return;
    l->closed = true;
    for (int i = 0; i < l->ntcp; i++) uv_close((uv_handle_t *)&l->tcp[i], net__on_listener_closed);
    net__listener_unref(l);
}

/* ---------- outbound ---------- */

static void net__try_connect(net_conn *c);

static void net__on_retry_closed(uv_handle_t *h) {
    net_conn *c = h->data;
    c->tcp_init = false;
    if (c->state == NET_ST_CLOSED) {
        net__handle_done(c);
        return;
    }
    c->handles--;
    net__try_connect(c);
}

static void net__on_connected(uv_connect_t *req, int status) {
    net_conn *c = req->data;
    if (c->state == NET_ST_CLOSED) { /* cancelled by a timeout */
        net__handle_done(c);
        return;
    }
    c->handles--; /* the connect request */
    net_outbound *ob = c->ob;
    if (status < 0) {
        snprintf(ob->why, sizeof ob->why, "connect %s: %s", ob->host, uv_strerror(status));
        if (ob->cur && ob->cur->ai_next) {
            ob->cur = ob->cur->ai_next;
            uv_close((uv_handle_t *)&c->tcp, net__on_retry_closed);
            return;
        }
        net__fail(c, ob->why);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    net__fill_peer(c);
    c->state = NET_ST_HANDSHAKE;
    net__start_read(c);
    if (ob->tls) {
        if (net_tls_attach(c, ob->ssl_ctx, false, ob->host, ob->sni, ob->verify) != 0)
            net__fail(c, "tls setup failed");
        return;
    }
    net__transport_ready(c);
}

static void net__try_connect(net_conn *c) {
    net_outbound *ob = c->ob;
    uv_tcp_init(c->nl->loop, &c->tcp);
    c->tcp.data = c;
    c->tcp_init = true;
    c->handles++;
    ob->creq.data = c;
    int r = uv_tcp_connect(&ob->creq, &c->tcp, ob->cur->ai_addr, net__on_connected);
    if (r != 0) {
        snprintf(ob->why, sizeof ob->why, "connect %s: %s", ob->host, uv_strerror(r));
        net__fail(c, ob->why);
        return;
    }
    c->handles++;
}

static void net__on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
    net_conn *c = req->data;
    c->handles--;
    if (c->state == NET_ST_CLOSED) {
        if (res) uv_freeaddrinfo(res);
        if (c->handles == 0) net__conn_free(c);
        return;
    }
    if (status < 0 || !res) {
        snprintf(c->ob->why, sizeof c->ob->why, "resolve %s: %s", c->ob->host, uv_strerror(status));
        if (res) uv_freeaddrinfo(res);
        net__fail(c, c->ob->why);
        if (c->handles == 0) net__conn_free(c);
        return;
    }
    c->ob->res = c->ob->cur = res;
    net__try_connect(c);
}

int net_connect(uv_loop_t *loop, const net_connect_opts *o, const net_conn_cbs *cbs, void *ud,
                char *err, size_t errlen) {
    char dummy[8];
    if (!err || errlen == 0) { err = dummy; errlen = sizeof dummy; }
    err[0] = 0;
    if (!o->host || !*o->host || o->port <= 0 || o->port > 65535) {
        snprintf(err, errlen, "connect: host and port 1..65535 required");
        return -1;
    }
    net_loop *nl = net__loop_get(loop);
    if (!nl) { snprintf(err, errlen, "out of memory"); return -1; }
    net_conn *c = net__conn_new(nl, cbs, ud, true);
    net_outbound *ob = c ? calloc(1, sizeof *ob) : NULL;
    if (!ob) {
        free(c);
        net__loop_release(nl);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->ob = ob;
    c->state = NET_ST_CONNECTING;
    ob->host = strdup(o->host);
    ob->sni = o->sni ? strdup(o->sni) : NULL;
    ob->tls = o->tls;
    ob->verify = !o->tls_opts.insecure;
    snprintf(c->peer, sizeof c->peer, "%s:%d", o->host, o->port);
    if (o->tls) {
        ob->ssl_ctx = net_tls_ctx_client(&o->tls_opts, err, errlen);
        if (!ob->ssl_ctx) {
            c->cbs_own->on_connect_error = NULL;
            c->state = NET_ST_CLOSED;
            net__conn_free(c);
            return -1;
        }
    }
    char port[16];
    snprintf(port, sizeof port, "%d", o->port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    ob->gai.data = c;
    int r = uv_getaddrinfo(loop, &ob->gai, net__on_resolved, o->host, port, &hints);
    if (r != 0) {
        snprintf(err, errlen, "resolve %s: %s", o->host, uv_strerror(r));
        c->cbs_own->on_connect_error = NULL;
        c->state = NET_ST_CLOSED;
        net__conn_free(c);
        return -1;
    }
    c->handles++;
    net__set_timeout(c, NET_DEFAULT_TIMEOUT_MS);
    return 0;
}
