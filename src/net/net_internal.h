/* net_internal: what conn.c, tls.c, ws.c and http.c share; nothing outside src/net includes it.
 *
 * A net_conn is one TCP socket plus optional layers, stacked in this order:
 *   socket <-> TLS (memory BIOs, tls.c) <-> WebSocket framing (wslay, ws.c) <-> owner bytes
 * Inbound:  read_cb -> net_tls_wire_in (if TLS) -> net__plain_in -> net_ws_in (if WS) -> net__deliver
 * Outbound: net_conn_write appends to `wout` (plain TCP) or `aout` (any layer); once per loop turn
 *           the per-loop uv_check handle runs net__flush: aout -> WS frames -> TLS records -> wout,
 *           then uv_try_write(wout) and uv_write for the rest (wout/wfly double buffer, no per-write
 *           allocation once the buffers have grown).
 *   net__loop_get / net__loop_release      per-loop state (check+idle handles, 64 KiB read buffers)
 *   net__raw_out(c, p, n)                  bytes below the WS layer (handshake replies, frames)
 *   net__wire_out(c, p, n)                 bytes for the socket as they are (TLS output)
 *   net__plain_in(c, p, n)                 decrypted (or plain) bytes from the peer
 *   net__deliver(c, p, n)                  owner-level bytes: on_data, or held while paused
 *   net__unread(c, p, n, raw)              push bytes back to be delivered after resume
 *   net__transport_ready(c)                TCP (and TLS) established: next stage or on_open
 *   net__opened(c)                         handshakes done: on_open
 *   net__set_timeout(c, ms)                one timer per conn; on expiry the conn is aborted
 *   net__fail(c, why)                      log, remember why (outbound), abort */
#ifndef TE_NET_INTERNAL_H
#define TE_NET_INTERNAL_H
#include "base/buf.h"
#include "net/net.h"
#include <openssl/ssl.h>

#define NET_RBUF_SIZE 65536
#define NET_DEFAULT_TIMEOUT_MS 10000
#define NET_CLOSE_LINGER_MS 5000
#define NET_HTTP_MAX_HEADER (16u * 1024u)
#define NET_HTTP_MAX_BODY (16u * 1024u * 1024u)

typedef struct net_loop {
    uv_loop_t *loop;
    uv_check_t check;
    uv_idle_t idle;
    bool idle_on;
    int refs, closing_handles;
    net_conn *dirty_head, *dirty_tail;
    void (*before_flush)(void *ud); /* net_before_flush hook */
    void *before_flush_ud;
    struct net_loop *next;
    uint8_t rbuf[NET_RBUF_SIZE]; /* socket reads */
    uint8_t pbuf[NET_RBUF_SIZE]; /* TLS plaintext */
} net_loop;

enum net_mode { NET_MODE_RAW = 0, NET_MODE_WS, NET_MODE_HTTP };
enum net_state {
    NET_ST_CONNECTING = 0, /* outbound: resolving / connecting */
    NET_ST_HANDSHAKE,      /* TLS and/or WS handshake under way */
    NET_ST_OPEN,
    NET_ST_CLOSING,        /* flushing queued output before shutdown */
    NET_ST_SHUTDOWN,       /* uv_shutdown under way */
    NET_ST_CLOSED          /* handles closing; freed in the last close callback */
};

struct net_listener {
    net_loop *nl;
    uv_tcp_t tcp[2];
    int ntcp, handles, refs;
    int port, mode, timeout_ms;
    bool closed;
    SSL_CTX *ssl_ctx;
    char *ws_subprotocol;
    net_conn_cbs cbs;
    void *ud;
    net_http_handler http_h;
    void *http_ud;
};

typedef struct net_tls net_tls;
typedef struct net_ws net_ws;
typedef struct net_outbound net_outbound;

struct net_conn {
    uv_tcp_t tcp;
    /* allocated on first use: an idle plain-TCP connection needs none of them (memory per conn) */
    uv_timer_t *timer;
    uv_write_t *wreq;
    uv_shutdown_t *sreq;
    net_loop *nl;
    net_listener *lis; /* holds a reference; NULL for outbound */
    const net_conn_cbs *cbs; /* the listener's copy, or cbs_own (outbound, upgraded) */
    net_conn_cbs *cbs_own;
    void *ud, *data;
    uint8_t state;
    bool opened, reading, paused, dirty, in_flush, pump, pin_raw, write_busy;
    bool tcp_init, timer_init, close_layers;
    int handles; /* uv handles and requests that must finish before free */
    buf_t wout, wfly; /* socket bytes: accumulating / in flight */
    size_t wfly_off;
    buf_t aout; /* owner bytes awaiting WS/TLS encoding */
    buf_t pin;  /* input held while paused */
    net_conn *dnext, *dprev;
    net_tls *tls;
    net_ws *ws;
    net_outbound *ob;
    char peer[56]; /* "[v6 address]:port" fits */
};

/* conn.c */
net_loop *net__loop_get(uv_loop_t *loop);
void net__loop_release(net_loop *nl);
void net__mark_dirty(net_conn *c);
void net__raw_out(net_conn *c, const void *p, size_t n);
void net__wire_out(net_conn *c, const void *p, size_t n);
void net__plain_in(net_conn *c, const uint8_t *p, size_t n);
void net__deliver(net_conn *c, const uint8_t *p, size_t n);
void net__unread(net_conn *c, const uint8_t *p, size_t n, bool raw);
void net__transport_ready(net_conn *c);
void net__opened(net_conn *c);
void net__set_timeout(net_conn *c, int ms);
void net__fail(net_conn *c, const char *why);
int net__listen_common(uv_loop_t *loop, const net_listen_opts *o, int mode, const net_conn_cbs *cbs,
                       void *ud, net_listener **out, char *err, size_t errlen);

/* tls.c */
SSL_CTX *net_tls_ctx_server(const net_tls_opts *o, char *err, size_t errlen);
SSL_CTX *net_tls_ctx_client(const net_tls_opts *o, char *err, size_t errlen);
int net_tls_attach(net_conn *c, SSL_CTX *ctx, bool server, const char *host, const char *sni,
                   bool verify_host);
void net_tls_wire_in(net_conn *c, const uint8_t *p, size_t n);
void net_tls_write(net_conn *c, const void *p, size_t n);
void net_tls_shutdown(net_conn *c);
bool net_tls_ready(const net_conn *c);
const char *net_tls_cn_of(const net_conn *c);
void net_tls_free(net_conn *c);

/* ws.c */
struct net_hp;
int net_ws_attach_server(net_conn *c);
void net_ws_in(net_conn *c, const uint8_t *p, size_t n);
int net_ws_accept(net_conn *c, const struct net_hp *hp, const char *subprotocol);
bool net_ws_open(const net_conn *c);
void net_ws_send_app(net_conn *c, const uint8_t *p, size_t n);
void net_ws_close(net_conn *c);
void net_ws_free(net_conn *c);

/* http.c */
extern const net_conn_cbs net_http_conn_cbs;
#endif
