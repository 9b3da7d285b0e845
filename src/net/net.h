/* net: libuv transports for every service. A net_conn is a bidirectional byte stream whatever
 * carries it: plain TCP, TLS over TCP (OpenSSL memory BIOs), or WebSocket binary frames (wslay)
 * over either. Protocol engines above see only bytes in (on_data) and bytes out (net_conn_write).
 *
 * Writes are batched: net_conn_write appends to the connection's output buffer and the buffer is
 * flushed once per loop turn (a uv_check handle), so many small packets become one write().
 * TCP_NODELAY is set on every TCP socket.
 *
 *   net_listen(loop, opts, cbs, ud, &l, err, errlen)  start a listener; 0 or -1 with a message
 *   net_listener_port(l)                              the bound port (useful with port 0)
 *   net_listener_close(l)                             stop accepting (existing conns stay)
 *   net_connect(loop, opts, cbs, ud, err, errlen)     outbound connection (bridges); on_open is
 *                                                     called when connected (and TLS/WS handshake
 *                                                     done), on_close on failure or close
 *   net_conn_write(c, p, n)                           queue bytes; 0, or -1 if the conn is closing
 *   net_conn_pending(c)                               bytes queued but not yet handed to the kernel
 *   net_conn_close(c)                                 flush what is queued, then close; on_close
 *                                                     follows (once, from the loop, never re-entrantly)
 *   net_conn_abort(c)                                 close now, dropping queued output
 *   net_conn_pause_read(c) / net_conn_resume_read(c)  back-pressure on input (no on_data while
 *                                                     paused; held bytes follow on resume)
 *   net_conn_set_data / net_conn_data                 the owner's per-connection pointer
 *   net_conn_peer(c)                                  "ip:port" of the peer
 *   net_conn_tls_cn(c)                                TLS client certificate's CN, or NULL
 *   net_conn_kind(c)                                  "tcp", "tls", "ws" or "wss"
 *   net_before_flush(loop, fn, ud)                    call fn(ud) once per loop turn right BEFORE
 *                                                     queued output is flushed (one hook per loop;
 *                                                     the MQTT store writes its log there so no
 *                                                     acknowledgement leaves before its data is written)
 *
 *   UDP (gateways' packet forwarder protocol): net_udp_open(loop, bind, port, cb, ud, &u, err, n)
 *   binds a datagram socket (port 0 = any free one) and calls cb(ud, from, fromlen, p, n) per
 *   datagram; net_udp_send(u, to, p, n) sends one now (dropped with a count if the kernel queue is
 *   full: datagrams are unreliable anyway); net_udp_port(u); net_udp_close(u).
 *
 *   HTTP/1.1 server (http-parser): net_http_listen(loop, bind, port, handler, ud, &l, err, n)
 *   The handler gets each complete request and must answer it, now or later, with
 *   net_http_respond(req, status, content_type, extra_headers, body, len), or upgrade it with
 *   net_http_upgrade_ws(req, subprotocol, cbs, ud) (the request becomes a WebSocket net_conn).
 *   Keep-alive, pipelining, chunked request bodies, and limits (header 16 KiB, body 16 MiB by default:
 *   413) are handled; a malformed request gets a 400 and the connection closes. A connection that
 *   does not complete a request within 10 s (also an idle keep-alive one) is closed; so is a TLS or
 *   WebSocket handshake that does not finish within net_listen_opts.handshake_timeout_ms. */
#ifndef TE_NET_NET_H
#define TE_NET_NET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct net_conn net_conn;
typedef struct net_listener net_listener;

typedef struct net_conn_cbs {
    /* a new connection (accepted, or outbound connected); `ud` is the listener's/connect's ud */
    void (*on_open)(net_conn *c, void *ud);
    void (*on_data)(net_conn *c, const uint8_t *p, size_t n);
    /* called exactly once per conn that had on_open, after which `c` is invalid */
    void (*on_close)(net_conn *c);
    /* optional: an outbound connect failed before on_open; `ud` as given to net_connect */
    void (*on_connect_error)(void *ud, const char *why);
    /* optional: all queued output has been handed to the kernel (after a flush or a completed
     * write); owners use it to resume producers they paused. It is called from inside the flush:
     * it must not write or close, only note the fact (and schedule work for the loop). */
    void (*on_drain)(net_conn *c);
} net_conn_cbs;

typedef struct net_tls_opts {
    const char *certfile, *keyfile; /* server: required for TLS; client: optional client cert */
    const char *cafile, *capath;    /* server: verifies client certs; client: verifies the server */
    bool require_certificate;       /* server: demand a client certificate */
    bool insecure;                  /* client: do not verify the server certificate */
} net_tls_opts;

typedef struct net_listen_opts {
    const char *bind;       /* address; NULL or "" = all (0.0.0.0 and, if possible, ::) */
    int port;               /* 0 = pick a free port */
    bool tls;               /* TLS with `tls` options */
    net_tls_opts tls_opts;
    bool websocket;         /* HTTP upgrade then WebSocket binary frames */
    const char *ws_subprotocol; /* e.g. "mqtt"; NULL = accept any */
    int backlog;            /* 0 = 1024 */
    int handshake_timeout_ms; /* TLS / WS handshake must finish within this; 0 = 10000, <0 = none */
} net_listen_opts;

typedef struct net_connect_opts {
    const char *host;       /* name or address */
    int port;
    bool tls;
    net_tls_opts tls_opts;
    const char *sni;        /* NULL = host */
} net_connect_opts;

int net_listen(uv_loop_t *loop, const net_listen_opts *o, const net_conn_cbs *cbs, void *ud,
               net_listener **out, char *err, size_t errlen);
int net_listener_port(const net_listener *l);
void net_listener_close(net_listener *l);
int net_connect(uv_loop_t *loop, const net_connect_opts *o, const net_conn_cbs *cbs, void *ud,
                char *err, size_t errlen);

int net_conn_write(net_conn *c, const void *p, size_t n);
size_t net_conn_pending(const net_conn *c);
void net_conn_close(net_conn *c);
void net_conn_abort(net_conn *c);
void net_conn_pause_read(net_conn *c);
void net_conn_resume_read(net_conn *c);
void net_conn_set_data(net_conn *c, void *data);
void *net_conn_data(const net_conn *c);
const char *net_conn_peer(const net_conn *c);
const char *net_conn_tls_cn(const net_conn *c);
const char *net_conn_kind(const net_conn *c);
void net_before_flush(uv_loop_t *loop, void (*fn)(void *ud), void *ud);

/* UDP */
typedef struct net_udp net_udp;
typedef void (*net_udp_cb)(void *ud, const struct sockaddr *from, unsigned fromlen, const uint8_t *p, size_t n);
int net_udp_open(uv_loop_t *loop, const char *bind, int port, net_udp_cb cb, void *ud, net_udp **out, char *err,
                 size_t errlen);
int net_udp_send(net_udp *u, const struct sockaddr *to, const uint8_t *p, size_t n);
int net_udp_port(const net_udp *u);
uint64_t net_udp_send_drops(const net_udp *u);
void net_udp_close(net_udp *u);

/* HTTP */
typedef struct net_http_req net_http_req;
struct net_http_req {
    const char *method;     /* "GET", "POST", ... */
    const char *path;       /* path without query, percent-decoding NOT applied */
    const char *query;      /* raw query string without '?', "" when none */
    const uint8_t *body;
    size_t body_len;
    const char *peer;
};
typedef void (*net_http_handler)(net_http_req *req, void *ud);
int net_http_listen(uv_loop_t *loop, const char *bind, int port, net_http_handler h, void *ud,
                    net_listener **out, char *err, size_t errlen);
/* header lookup, case-insensitive; NULL when absent */
const char *net_http_header(const net_http_req *req, const char *name);
/* query parameter, percent- and '+'-decoded into buf; NULL when absent */
const char *net_http_query_param(const net_http_req *req, const char *name, char *buf, size_t buflen);
/* extra_headers: NULL or "Name: value\r\n..." lines */
void net_http_respond(net_http_req *req, int status, const char *content_type, const char *extra_headers,
                      const void *body, size_t len);
int net_http_upgrade_ws(net_http_req *req, const char *subprotocol, const net_conn_cbs *cbs, void *ud);
#endif
