/* ws: WebSocket (RFC 6455) server side of a net_conn. The opening handshake is parsed with the
 * sans-I/O HTTP parser (http_parse.c) and answered with Sec-WebSocket-Accept (SHA-1 + base64 from
 * OpenSSL); frames are handled by libwslay's event API without message buffering, so binary and
 * text payloads reach on_data as a byte stream, chunk by chunk. Pings are answered, a close frame
 * is answered and the TCP connection then shut down; owner writes leave as binary frames, one
 * frame per loop turn. */
#include "base/log.h"
#include "net/http_parse.h"
#include "net/net_internal.h"
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wslay/wslay.h>

struct net_ws {
    wslay_event_context_ptr ctx;
    net_hp *hp; /* listener mode: the upgrade request being parsed */
    const uint8_t *in;
    size_t inlen;
    uint8_t opcode; /* opcode of the frame being received */
    bool open;
};

static ssize_t net_ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud) {
    net_conn *c = ud;
    net_ws *w = c->ws;
    (void)flags;
    if (w->inlen == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < w->inlen ? len : w->inlen;
    memcpy(buf, w->in, n);
    w->in += n;
    w->inlen -= n;
    return (ssize_t)n;
}

static ssize_t net_ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                              void *ud) {
    net_conn *c = ud;
    (void)ctx;
    (void)flags;
    net__raw_out(c, data, len);
    return (ssize_t)len;
}

static void net_ws_frame_start(wslay_event_context_ptr ctx, const struct wslay_event_on_frame_recv_start_arg *a,
                               void *ud) {
    net_conn *c = ud;
    (void)ctx;
    c->ws->opcode = a->opcode;
}

static void net_ws_frame_chunk(wslay_event_context_ptr ctx, const struct wslay_event_on_frame_recv_chunk_arg *a,
                               void *ud) {
    net_conn *c = ud;
    (void)ctx;
    if (c->ws->opcode == WSLAY_CONTINUATION_FRAME || c->ws->opcode == WSLAY_TEXT_FRAME ||
        c->ws->opcode == WSLAY_BINARY_FRAME)
        net__deliver(c, a->data, a->data_length);
}

static const struct wslay_event_callbacks net_ws_callbacks = {
    .recv_callback = net_ws_recv_cb,
    .send_callback = net_ws_send_cb,
    .on_frame_recv_start_callback = net_ws_frame_start,
    .on_frame_recv_chunk_callback = net_ws_frame_chunk,
};

int net_ws_attach_server(net_conn *c) {
    net_ws *w = calloc(1, sizeof *w);
    if (!w) return -1;
    w->hp = malloc(sizeof *w->hp);
    if (!w->hp) {
        free(w);
        return -1;
    }
    net_hp_init(w->hp, NET_HTTP_MAX_HEADER, 0);
    c->ws = w;
    return 0;
}

bool net_ws_open(const net_conn *c) { return c->ws && c->ws->open; }

static void net_ws_reject(net_conn *c, int status, const char *why) {
    const char *reason = status == 426 ? "Upgrade Required"
                         : status == 431 ? "Request Header Fields Too Large"
                         : status == 413 ? "Content Too Large"
                                         : "Bad Request";
    char h[384];
    int n = snprintf(h, sizeof h,
                     "HTTP/1.1 %d %s\r\n%sContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s\n",
                     status, reason, status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "", strlen(why) + 1, why);
    LOG_INFO("net", "event=ws_handshake_rejected peer=%s status=%d why=\"%s\"", c->peer, status, why);
    net__raw_out(c, h, (size_t)n);
}

/* first token of a comma-separated list into out; false when empty */
static bool net_ws_first_token(const char *v, char *out, size_t n) {
    while (*v == ' ' || *v == '\t' || *v == ',') v++;
    size_t k = 0;
    while (v[k] && v[k] != ',' && v[k] != ' ' && v[k] != '\t') k++;
    if (k == 0 || k >= n) return false;
    memcpy(out, v, k);
    out[k] = 0;
    return true;
}

int net_ws_accept(net_conn *c, const net_hp *hp, const char *subprotocol) {
    const char *why = NULL;
    int status = 400;
    const char *key = net_hp_header(hp, "sec-websocket-key");
    const char *ver = net_hp_header(hp, "sec-websocket-version");
    char proto[128] = "";
    if (strcmp(hp->method ? hp->method : "", "GET") != 0) why = "method must be GET";
    else if (!net_hp_has_token(hp, "upgrade", "websocket")) why = "missing Upgrade: websocket";
    else if (!net_hp_has_token(hp, "connection", "upgrade")) why = "missing Connection: Upgrade";
    else if (!ver || strcmp(ver, "13") != 0) { why = "unsupported websocket version"; status = 426; }
    else if (!key || strlen(key) != 24 || key[22] != '=' || key[23] != '=') why = "bad Sec-WebSocket-Key";
    else if (subprotocol && *subprotocol) {
        if (!net_hp_has_token(hp, "sec-websocket-protocol", subprotocol)) why = "subprotocol not offered";
        else snprintf(proto, sizeof proto, "%s", subprotocol);
    } else {
        int it = 0;
        const char *offer = net_hp_header_next(hp, "sec-websocket-protocol", &it);
        if (offer) net_ws_first_token(offer, proto, sizeof proto);
    }
    if (why) {
        net_ws_reject(c, status, why);
        return -1;
    }
    /* Sec-WebSocket-Accept = base64(SHA-1(key + GUID)) */
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char kg[24 + sizeof guid];
    memcpy(kg, key, 24);
    memcpy(kg + 24, guid, sizeof guid);
    unsigned char dg[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)kg, 24 + sizeof guid - 1, dg);
    unsigned char acc[32];
    EVP_EncodeBlock(acc, dg, SHA_DIGEST_LENGTH);
    char h[384];
    int n = snprintf(h, sizeof h,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
                     (const char *)acc, proto[0] ? "Sec-WebSocket-Protocol: " : "", proto, proto[0] ? "\r\n" : "");
    net_ws *w = c->ws;
    if (!w) {
        w = calloc(1, sizeof *w);
        if (!w) return -1;
        c->ws = w;
    }
    if (wslay_event_context_server_init(&w->ctx, &net_ws_callbacks, c) != 0) {
        w->ctx = NULL;
        return -1;
    }
    wslay_event_config_set_no_buffering(w->ctx, 1);
    net__raw_out(c, h, (size_t)n);
    w->open = true;
    if (w->hp) {
        net_hp_free(w->hp);
        free(w->hp);
        w->hp = NULL;
    }
    return 0;
}

static void net_ws_frames_in(net_conn *c, const uint8_t *p, size_t n) {
    net_ws *w = c->ws;
    w->in = p;
    w->inlen = n;
    int r = wslay_event_recv(w->ctx);
    w->in = NULL;
    w->inlen = 0;
    if (c->state == NET_ST_CLOSED) return;
    if (wslay_event_want_write(w->ctx)) wslay_event_send(w->ctx);
    if (r != 0) {
        net__fail(c, "websocket protocol error");
        return;
    }
    if (wslay_event_get_close_received(w->ctx) || !wslay_event_get_read_enabled(w->ctx)) {
        LOG_DEBUG("net", "event=ws_close peer=%s code=%u", c->peer,
                  (unsigned)wslay_event_get_status_code_received(w->ctx));
        net_conn_close(c);
    }
}

void net_ws_in(net_conn *c, const uint8_t *p, size_t n) {
    net_ws *w = c->ws;
    if (w->open) {
        if (c->state == NET_ST_OPEN) net_ws_frames_in(c, p, n);
        return;
    }
    if (!w->hp || c->state != NET_ST_HANDSHAKE) return;
    size_t used = 0;
    int r = net_hp_feed(w->hp, p, n, &used);
    if (r == 0) return;
    if (r < 0) {
        net_ws_reject(c, -r, "malformed upgrade request");
        net_conn_close(c);
        return;
    }
    const char *want = c->lis ? c->lis->ws_subprotocol : NULL;
    if (net_ws_accept(c, w->hp, want) != 0) {
        net_conn_close(c);
        return;
    }
    net__opened(c);
    if (c->state == NET_ST_OPEN && used < n) net_ws_frames_in(c, p + used, n - used);
}

void net_ws_send_app(net_conn *c, const uint8_t *p, size_t n) {
    net_ws *w = c->ws;
    struct wslay_event_msg m = {.opcode = WSLAY_BINARY_FRAME, .msg = p, .msg_length = n};
    if (wslay_event_queue_msg(w->ctx, &m) != 0) return; /* close already sent: dropped */
    wslay_event_send(w->ctx);
}

void net_ws_close(net_conn *c) {
    net_ws *w = c->ws;
    if (!wslay_event_get_close_sent(w->ctx)) wslay_event_queue_close(w->ctx, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
    wslay_event_send(w->ctx);
}

void net_ws_free(net_conn *c) {
    net_ws *w = c->ws;
    if (!w) return;
    if (w->ctx) wslay_event_context_free(w->ctx);
    if (w->hp) {
        net_hp_free(w->hp);
        free(w->hp);
    }
    free(w);
    c->ws = NULL;
}
