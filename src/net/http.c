/* http: the HTTP/1.1 server. Each accepted connection is a net_conn owned by this file; bytes go
 * through the sans-I/O parser (http_parse.c) one request at a time. A request is handed to the
 * handler and must be answered (now or later) with net_http_respond or net_http_upgrade_ws; while
 * it is pending, reading is paused and the pipelined remainder is held back, so responses always
 * leave in request order. Keep-alive, chunked bodies, 100-continue, limits (413/414/431), 400 on
 * malformed input, and a request timeout (idle keep-alive connections close after it too). */
#include "base/log.h"
#include "net/http_parse.h"
#include "net/net_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct net_http_conn {
    net_http_req req; /* first: the handler's pointer is this struct */
    net_conn *c;      /* NULL once the connection is gone (orphaned pending request) */
    net_listener *l;
    net_hp hp;
    bool busy, in_dispatch, closing, upgraded, continue_sent;
    char peer[64];
} net_http_conn;

static const char *net_http_reason(int s) {
    switch (s) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return s < 300 ? "OK" : s < 400 ? "Redirect" : s < 500 ? "Client Error" : "Server Error";
    }
}

static void net_http_free(net_http_conn *hc) {
    net_hp_free(&hc->hp);
    free(hc);
}

/* error while parsing: answer and close (the stream cannot be resynchronised) */
static void net_http_error(net_http_conn *hc, int status) {
    char h[192];
    int n = snprintf(h, sizeof h, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                     status, net_http_reason(status));
    LOG_DEBUG("net", "event=http_error peer=%s status=%d", hc->peer, status);
    net_conn_write(hc->c, h, (size_t)n);
    net_conn_close(hc->c);
    hc->closing = true;
}

static void net_http_dispatch(net_http_conn *hc) {
    net_hp *hp = &hc->hp;
    hc->req.method = hp->method;
    hc->req.path = hp->path_s;
    hc->req.query = hp->query_s;
    hc->req.body = hp->body_p;
    hc->req.body_len = hp->body_len;
    hc->req.peer = hc->peer;
    hc->busy = true;
    hc->in_dispatch = true;
    net__set_timeout(hc->c, 0);
    hc->l->http_h(&hc->req, hc->l->http_ud);
    hc->in_dispatch = false;
}

static void net_http_process(net_http_conn *hc, const uint8_t *p, size_t n) {
    net_conn *c = hc->c;
    size_t off = 0;
    while (off < n && !hc->closing && !hc->busy) {
        size_t used = 0;
        int r = net_hp_feed(&hc->hp, p + off, n - off, &used);
        off += used;
        if (r < 0) {
            net_http_error(hc, -r);
            return;
        }
        if (r == 0) {
            if (hc->hp.headers_done && hc->hp.expect_continue && !hc->continue_sent) {
                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                net_conn_write(c, cont, sizeof cont - 1);
                hc->continue_sent = true;
            }
            break;
        }
        hc->continue_sent = false;
        net_http_dispatch(hc);
        if (hc->upgraded) {
            /* the connection is a WebSocket now; what followed the request is frames */
            net_http_free(hc);
            if (off < n) net__plain_in(c, p + off, n - off);
            return;
        }
    }
    if (hc->busy && !hc->closing && off < n) {
        net__unread(c, p + off, n - off, false);
    }
    if (hc->busy && !hc->closing) net_conn_pause_read(c);
}

static void net_http_on_open(net_conn *c, void *ud) {
    net_listener *l = ud;
    net_http_conn *hc = calloc(1, sizeof *hc);
    if (!hc) {
        net_conn_abort(c);
        return;
    }
    hc->c = c;
    hc->l = l;
    net_hp_init(&hc->hp, NET_HTTP_MAX_HEADER, NET_HTTP_MAX_BODY);
    snprintf(hc->peer, sizeof hc->peer, "%s", net_conn_peer(c));
    net_conn_set_data(c, hc);
    if (l->timeout_ms > 0) net__set_timeout(c, l->timeout_ms);
}

static void net_http_on_data(net_conn *c, const uint8_t *p, size_t n) {
    net_http_conn *hc = net_conn_data(c);
    if (hc) net_http_process(hc, p, n);
}

static void net_http_on_close(net_conn *c) {
    net_http_conn *hc = net_conn_data(c);
    if (!hc) return;
    if (hc->busy) hc->c = NULL; /* the handler still holds the request: freed by its answer */
    else net_http_free(hc);
}

const net_conn_cbs net_http_conn_cbs = {
    .on_open = net_http_on_open,
    .on_data = net_http_on_data,
    .on_close = net_http_on_close,
};

int net_http_listen(uv_loop_t *loop, const char *bind, int port, net_http_handler h, void *ud,
                    net_listener **out, char *err, size_t errlen) {
    net_listen_opts o = {.bind = bind, .port = port};
    int r = net__listen_common(loop, &o, NET_MODE_HTTP, &net_http_conn_cbs, NULL, out, err, errlen);
    if (r == 0) {
        (*out)->http_h = h;
        (*out)->http_ud = ud;
    }
    return r;
}

const char *net_http_header(const net_http_req *req, const char *name) {
    const net_http_conn *hc = (const net_http_conn *)req;
    return net_hp_header(&hc->hp, name);
}

const char *net_http_query_param(const net_http_req *req, const char *name, char *buf, size_t buflen) {
    return net_hp_query_param(req->query, name, buf, buflen) >= 0 ? buf : NULL;
}

/* the request is answered: continue with the next one (or finish the connection) */
static void net_http_done(net_http_conn *hc, bool keep) {
    hc->busy = false;
    net_hp_reset(&hc->hp);
    memset(&hc->req, 0, sizeof hc->req);
    if (!keep) {
        net_conn_close(hc->c);
        hc->closing = true;
        return;
    }
    if (hc->l->timeout_ms > 0) net__set_timeout(hc->c, hc->l->timeout_ms);
    if (!hc->in_dispatch) net_conn_resume_read(hc->c);
}

void net_http_respond(net_http_req *req, int status, const char *content_type, const char *extra_headers,
                      const void *body, size_t len) {
    net_http_conn *hc = (net_http_conn *)req;
    if (!hc->busy) return;
    if (!hc->c) { /* the connection went away while the handler worked */
        net_http_free(hc);
        return;
    }
    net_conn *c = hc->c;
    bool head = hc->req.method && strcmp(hc->req.method, "HEAD") == 0;
    bool keep = hc->hp.keep_alive && !hc->hp.upgrade && !hc->closing;
    bool no_body = status < 200 || status == 204 || status == 304;
    char h[512];
    int n = snprintf(h, sizeof h, "HTTP/1.%d %d %s\r\n", hc->hp.http_minor == 0 ? 0 : 1, status,
                     net_http_reason(status));
    if (!no_body) n += snprintf(h + n, sizeof h - (size_t)n, "Content-Length: %zu\r\n", len);
    if (content_type && *content_type && !no_body)
        n += snprintf(h + n, sizeof h - (size_t)n, "Content-Type: %.200s\r\n", content_type);
    if (!keep) n += snprintf(h + n, sizeof h - (size_t)n, "Connection: close\r\n");
    else if (hc->hp.http_minor == 0) n += snprintf(h + n, sizeof h - (size_t)n, "Connection: keep-alive\r\n");
    net_conn_write(c, h, (size_t)n);
    if (extra_headers && *extra_headers) net_conn_write(c, extra_headers, strlen(extra_headers));
    net_conn_write(c, "\r\n", 2);
    if (!head && !no_body && len) net_conn_write(c, body, len);
    net_http_done(hc, keep);
}

int net_http_upgrade_ws(net_http_req *req, const char *subprotocol, const net_conn_cbs *cbs, void *ud) {
    net_http_conn *hc = (net_http_conn *)req;
    if (!hc->busy) return -1;
    if (!hc->c) {
        net_http_free(hc);
        return -1;
    }
    net_conn *c = hc->c;
    if (!hc->hp.upgrade || net_ws_accept(c, &hc->hp, subprotocol) != 0) {
        if (!hc->hp.upgrade) net_http_respond(req, 400, "text/plain", NULL, "websocket upgrade expected\n", 27);
        else net_http_done(hc, false); /* net_ws_accept answered */
        return -1;
    }
    hc->busy = false;
    hc->upgraded = true;
    if (!c->cbs_own && !(c->cbs_own = malloc(sizeof *c->cbs_own))) {
        net__fail(c, "out of memory");
        return -1;
    }
    *c->cbs_own = *cbs;
    c->cbs = c->cbs_own;
    c->ud = ud;
    c->data = NULL;
    net__set_timeout(c, 0);
    bool sync = hc->in_dispatch;
    if (!sync) {
        /* answered later: what followed the request is held (unread, paused); it is frames now */
        c->pin_raw = c->pin.len > 0;
        net_http_free(hc);
    }
    LOG_DEBUG("net", "event=ws_upgrade peer=%s", c->peer);
    if (c->cbs->on_open) c->cbs->on_open(c, ud);
    if (!sync) net_conn_resume_read(c);
    return 0;
}
