/* test_net: the transports over real sockets on 127.0.0.1 (port 0): TCP echo with a multi-MB payload
 * through write batching, close/abort semantics, pause/resume, TLS with a throwaway CA generated
 * at test time, WebSocket handshake + binary echo with a hand-written masking client, subprotocol
 * rejection, and the HTTP/1.1 server (GET, POST, pipelining, chunked, 400, 431, query decoding). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/log.h"
#include "net/http_parse.h"

#include "net/net.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/* ---------- loop helpers ---------- */

static void tick_cb(uv_timer_t *t) { (void)t; }

/* Run the loop until *flag becomes nonzero or ms elapse; returns the flag. */
static int run_until(uv_loop_t *loop, atomic_int *flag, int ms) {
    uv_timer_t tick;
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, tick_cb, 2, 2);
    uint64_t end = uv_now(loop) + (uint64_t)ms;
    while (!atomic_load(flag) && uv_now(loop) < end) uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return atomic_load(flag);
}

/* Drain the loop completely and check that nothing was left open. */
static void finish_loop(uv_loop_t *loop) {
    for (int i = 0; i < 200 && uv_loop_alive(loop); i++) uv_run(loop, UV_RUN_NOWAIT), usleep(1000);
    assert_int_equal(uv_loop_close(loop), 0);
}

/* ---------- raw blocking client (runs in a thread or inline) ---------- */

static int raw_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { close(fd); return -1; }
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static int write_all(int fd, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* read until EOF (or `want` bytes when want > 0); returns bytes read */
static size_t read_some(int fd, char *out, size_t cap, size_t want) {
    size_t got = 0;
    while (got < cap - 1 && (want == 0 || got < want)) {
        ssize_t r = recv(fd, out + got, cap - 1 - got, 0);
        if (r <= 0) break;
        got += (size_t)r;
    }
    out[got] = 0;
    return got;
}

/* read until the text contains `needle` `count` times, or EOF */
static size_t read_until_count(int fd, char *out, size_t cap, const char *needle, int count) {
    size_t got = 0;
    out[0] = 0;
    for (;;) {
        int seen = 0;
        for (const char *s = out; (s = strstr(s, needle)) != NULL; s++) seen++;
        if (seen >= count || got >= cap - 1) break;
        ssize_t r = recv(fd, out + got, cap - 1 - got, 0);
        if (r <= 0) break;
        got += (size_t)r;
        out[got] = 0;
    }
    return got;
}

typedef struct client_job {
    int port;
    void (*fn)(struct client_job *j);
    atomic_int done;
    _Alignas(16) char out[65536];
    size_t outlen;
    const char *req;
    size_t reqlen;
    int arg;
    pthread_t th;
} client_job;

static void *client_thread(void *p) {
    client_job *j = p;
    j->fn(j);
    atomic_store(&j->done, 1);
    return NULL;
}

static void start_job(client_job *j) { pthread_create(&j->th, NULL, client_thread, j); }
static void join_job(client_job *j) { pthread_join(j->th, NULL); }

/* ---------- TCP echo ---------- */

typedef struct echo_state {
    atomic_int done;
    int srv_open, srv_close, cli_open, cli_close, cli_err;
    size_t total, received, mismatch;
    net_conn *cli;
    bool close_after;
} echo_state;

static echo_state g_echo;

static char g_srv_cn[128], g_srv_kind[8], g_cli_kind[8];

static void srv_open(net_conn *c, void *ud) {
    echo_state *s = ud;
    s->srv_open++;
    const char *cn = net_conn_tls_cn(c);
    snprintf(g_srv_cn, sizeof g_srv_cn, "%s", cn ? cn : "");
    snprintf(g_srv_kind, sizeof g_srv_kind, "%s", net_conn_kind(c));
    net_conn_set_data(c, s);
}
static void srv_data(net_conn *c, const uint8_t *p, size_t n) { assert_int_equal(net_conn_write(c, p, n), 0); }
static void srv_close(net_conn *c) {
    echo_state *s = net_conn_data(c);
    s->srv_close++;
}

static uint8_t pattern_byte(size_t i) { return (uint8_t)((i * 131u + (i >> 13)) & 0xff); }

static void cli_open(net_conn *c, void *ud) {
    echo_state *s = ud;
    s->cli_open++;
    s->cli = c;
    net_conn_set_data(c, s);
    /* many small writes of varying size: batching turns them into few syscalls */
    uint8_t chunk[1500];
    size_t off = 0;
    size_t k = 0;
    while (off < s->total) {
        size_t n = 1 + (k++ * 37) % sizeof chunk;
        if (n > s->total - off) n = s->total - off;
        for (size_t i = 0; i < n; i++) chunk[i] = pattern_byte(off + i);
        assert_int_equal(net_conn_write(c, chunk, n), 0);
        off += n;
    }
    assert_true(net_conn_pending(c) >= s->total); /* TLS may add handshake records */
    snprintf(g_cli_kind, sizeof g_cli_kind, "%s", net_conn_kind(c));
}
static void cli_data(net_conn *c, const uint8_t *p, size_t n) {
    echo_state *s = net_conn_data(c);
    for (size_t i = 0; i < n; i++)
        if (p[i] != pattern_byte(s->received + i)) s->mismatch++;
    s->received += n;
    if (s->received == s->total) {
        net_conn_close(c);
        assert_int_equal(s->cli_close, 0); /* never re-entrant */
        assert_int_equal(net_conn_write(c, "x", 1), -1);
    }
}
static void cli_close(net_conn *c) {
    echo_state *s = net_conn_data(c);
    s->cli_close++;
}
static void cli_err(void *ud, const char *why) {
    echo_state *s = ud;
    s->cli_err++;
    atomic_store(&s->done, 1);
    (void)why;
}

static void test_tcp_echo_big(void **st) {
    (void)st;
    uv_loop_t loop;
    uv_loop_init(&loop);
    echo_state *s = &g_echo;
    memset(s, 0, sizeof *s);
    s->total = 8u << 20;
    net_listener *l = NULL;
    char err[256];
    net_listen_opts lo = {.bind = "127.0.0.1", .port = 0};
    net_conn_cbs scb = {.on_open = srv_open, .on_data = srv_data, .on_close = srv_close};
    assert_int_equal(net_listen(&loop, &lo, &scb, s, &l, err, sizeof err), 0);
    int port = net_listener_port(l);
    assert_true(port > 0);
    net_connect_opts co = {.host = "127.0.0.1", .port = port};
    net_conn_cbs ccb = {.on_open = cli_open, .on_data = cli_data, .on_close = cli_close,
                        .on_connect_error = cli_err};
    assert_int_equal(net_connect(&loop, &co, &ccb, s, err, sizeof err), 0);
    struct { atomic_int *f; } w = {&s->done};
    (void)w;
    uint64_t end = uv_now(&loop) + 30000;
    while (!(s->cli_close && s->srv_close) && uv_now(&loop) < end) uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(s->cli_err, 0);
    assert_int_equal(s->received, s->total);
    assert_int_equal(s->mismatch, 0);
    assert_int_equal(s->srv_open, 1);
    assert_int_equal(s->cli_open, 1);
    assert_int_equal(s->cli_close, 1);
    assert_int_equal(s->srv_close, 1);
    assert_string_equal(g_cli_kind, "tcp");
    assert_string_equal(g_srv_kind, "tcp");
    net_listener_close(l);
    finish_loop(&loop);
}

/* ---------- close semantics ---------- */

typedef struct close_state {
    int opens, closes, data_after_close;
    int mode; /* 0: server writes "bye" + close in on_open; 1: server aborts on first data */
    bool in_call;
    atomic_int done;
} close_state;

static void cs_open(net_conn *c, void *ud) {
    close_state *s = ud;
    s->opens++;
    net_conn_set_data(c, s);
    if (s->mode == 0) {
        assert_int_equal(net_conn_write(c, "bye\n", 4), 0);
        s->in_call = true;
        net_conn_close(c);
        net_conn_close(c); /* idempotent */
        s->in_call = false;
        assert_int_equal(s->closes, 0);
        assert_int_equal(net_conn_write(c, "more", 4), -1);
    }
}
static void cs_data(net_conn *c, const uint8_t *p, size_t n) {
    close_state *s = net_conn_data(c);
    (void)p; (void)n;
    if (s->closes) s->data_after_close++;
    if (s->mode == 1) {
        s->in_call = true;
        net_conn_abort(c);
        net_conn_close(c);
        s->in_call = false;
        assert_int_equal(s->closes, 0);
    }
}
static void cs_close(net_conn *c) {
    close_state *s = net_conn_data(c);
    assert_false(s->in_call);
    s->closes++;
    atomic_store(&s->done, 1);
}

static void close_client_fn(client_job *j) {
    int fd = raw_connect(j->port);
    if (fd < 0) return;
    if (j->arg == 1) write_all(fd, "hello", 5);
    j->outlen = read_some(fd, j->out, sizeof j->out, 0);
    close(fd);
}

static void test_close_semantics(void **st) {
    (void)st;
    for (int mode = 0; mode < 2; mode++) {
        uv_loop_t loop;
        uv_loop_init(&loop);
        close_state s = {.mode = mode};
        net_listener *l;
        char err[256];
        net_listen_opts lo = {.bind = "127.0.0.1"};
        net_conn_cbs cb = {.on_open = cs_open, .on_data = cs_data, .on_close = cs_close};
        assert_int_equal(net_listen(&loop, &lo, &cb, &s, &l, err, sizeof err), 0);
        client_job *j = calloc(1, sizeof *j);
        j->port = net_listener_port(l);
        j->fn = close_client_fn;
        j->arg = mode;
        start_job(j);
        run_until(&loop, &j->done, 5000);
        run_until(&loop, &s.done, 5000);
        join_job(j);
        assert_int_equal(s.opens, 1);
        assert_int_equal(s.closes, 1);
        assert_int_equal(s.data_after_close, 0);
        if (mode == 0) assert_string_equal(j->out, "bye\n");
        else assert_int_equal(j->outlen, 0);
        free(j);
        net_listener_close(l);
        finish_loop(&loop);
    }
}

/* ---------- pause / resume ---------- */

typedef struct pause_state {
    uv_loop_t *loop;
    net_conn *c;
    size_t got;
    int data_while_paused;
    bool paused;
    uv_timer_t t;
    atomic_int done;
} pause_state;

static void ps_resume(uv_timer_t *t) {
    pause_state *s = t->data;
    s->paused = false;
    net_conn_resume_read(s->c);
}
static void ps_open(net_conn *c, void *ud) {
    pause_state *s = ud;
    s->c = c;
    net_conn_set_data(c, s);
}
static void ps_data(net_conn *c, const uint8_t *p, size_t n) {
    pause_state *s = net_conn_data(c);
    (void)p;
    if (s->paused) s->data_while_paused++;
    s->got += n;
    if (s->got >= 100000) {
        net_conn_write(c, "ok", 2);
        net_conn_close(c);
        return;
    }
    /* pause after each chunk, resume from a timer */
    s->paused = true;
    net_conn_pause_read(c);
    uv_timer_start(&s->t, ps_resume, 1, 0);
}
static void ps_close(net_conn *c) {
    pause_state *s = net_conn_data(c);
    atomic_store(&s->done, 1);
}
static void pause_client_fn(client_job *j) {
    int fd = raw_connect(j->port);
    char buf[10000];
    memset(buf, 'p', sizeof buf);
    for (int i = 0; i < 10; i++) write_all(fd, buf, sizeof buf);
    j->outlen = read_some(fd, j->out, sizeof j->out, 0);
    close(fd);
}

static void test_pause_resume(void **st) {
    (void)st;
    uv_loop_t loop;
    uv_loop_init(&loop);
    pause_state s = {.loop = &loop};
    uv_timer_init(&loop, &s.t);
    s.t.data = &s;
    net_listener *l;
    char err[256];
    net_listen_opts lo = {.bind = "127.0.0.1"};
    net_conn_cbs cb = {.on_open = ps_open, .on_data = ps_data, .on_close = ps_close};
    assert_int_equal(net_listen(&loop, &lo, &cb, &s, &l, err, sizeof err), 0);
    client_job *j = calloc(1, sizeof *j);
    j->port = net_listener_port(l);
    j->fn = pause_client_fn;
    start_job(j);
    run_until(&loop, &s.done, 10000);
    run_until(&loop, &j->done, 5000);
    join_job(j);
    assert_int_equal(s.got, 100000);
    assert_int_equal(s.data_while_paused, 0);
    assert_string_equal(j->out, "ok");
    free(j);
    uv_close((uv_handle_t *)&s.t, NULL);
    net_listener_close(l);
    finish_loop(&loop);
}

/* ---------- connect error ---------- */

static void test_connect_refused(void **st) {
    (void)st;
    uv_loop_t loop;
    uv_loop_init(&loop);
    echo_state *s = &g_echo;
    memset(s, 0, sizeof *s);
    /* grab a free port, then close it so nothing listens there */
    net_listener *l;
    char err[256];
    net_listen_opts lo = {.bind = "127.0.0.1"};
    net_conn_cbs scb = {.on_open = srv_open, .on_data = srv_data, .on_close = srv_close};
    assert_int_equal(net_listen(&loop, &lo, &scb, s, &l, err, sizeof err), 0);
    int port = net_listener_port(l);
    net_listener_close(l);
    uv_run(&loop, UV_RUN_NOWAIT);
    net_connect_opts co = {.host = "127.0.0.1", .port = port};
    net_conn_cbs ccb = {.on_open = cli_open, .on_data = cli_data, .on_close = cli_close,
                        .on_connect_error = cli_err};
    assert_int_equal(net_connect(&loop, &co, &ccb, s, err, sizeof err), 0);
    run_until(&loop, &s->done, 5000);
    assert_int_equal(s->cli_err, 1);
    assert_int_equal(s->cli_open, 0);
    assert_int_equal(s->cli_close, 0);
    finish_loop(&loop);
}



/* ---------- HTTP ---------- */

typedef struct http_state {
    uv_loop_t *loop;
    uv_timer_t t;
    net_http_req *pending;
    int requests;
    echo_state ws; /* WebSocket echo via net_http_upgrade_ws */
} http_state;

static http_state g_http;

static void http_async_answer(uv_timer_t *t) {
    http_state *s = t->data;
    net_http_req *r = s->pending;
    s->pending = NULL;
    net_http_respond(r, 200, "text/plain", "X-Async: 1\r\n", "async", 5);
}

static void ws_echo_open(net_conn *c, void *ud) {
    echo_state *s = ud;
    s->srv_open++;
    net_conn_set_data(c, s);
}

static void http_handler(net_http_req *r, void *ud) {
    http_state *s = ud;
    s->requests++;
    if (strcmp(r->path, "/hello") == 0) {
        net_http_respond(r, 200, "text/plain", NULL, "hello", 5);
    } else if (strcmp(r->path, "/echo") == 0 && strcmp(r->method, "POST") == 0) {
        const char *ct = net_http_header(r, "content-type");
        net_http_respond(r, 200, ct ? ct : "application/octet-stream", NULL, r->body, r->body_len);
    } else if (strcmp(r->path, "/q") == 0) {
        char v[256], o[600];
        const char *a = net_http_query_param(r, "name", v, sizeof v);
        char w[8];
        const char *b = net_http_query_param(r, "missing", w, sizeof w);
        int n = snprintf(o, sizeof o, "name=[%s] missing=%s raw=%s", a ? a : "(null)", b ? "yes" : "no", r->query);
        net_http_respond(r, 200, "text/plain", NULL, o, (size_t)n);
    } else if (strcmp(r->path, "/async") == 0) {
        s->pending = r;
        uv_timer_start(&s->t, http_async_answer, 30, 0);
    } else if (strcmp(r->path, "/ws") == 0) {
        net_conn_cbs cb = {.on_open = ws_echo_open, .on_data = srv_data, .on_close = srv_close};
        net_http_upgrade_ws(r, "mqtt", &cb, &s->ws);
    } else {
        net_http_respond(r, 404, "text/plain", NULL, "not found\n", 10);
    }
}

static void http_client_fn(client_job *j) {
    int fd = raw_connect(j->port);
    if (fd < 0) return;
    if (j->arg == 2) { /* headers, wait for the 100 Continue, then the body */
        const char *b = strstr(j->req, "\r\n\r\n") + 4;
        write_all(fd, j->req, (size_t)(b - j->req));
        size_t n = read_until_count(fd, j->out, sizeof j->out, "\r\n\r\n", 1);
        write_all(fd, b, j->reqlen - (size_t)(b - j->req));
        j->outlen = n + read_some(fd, j->out + n, sizeof j->out - n, 0);
        close(fd);
        return;
    }
    if (j->arg > 0) { /* send byte by byte */
        for (size_t i = 0; i < j->reqlen; i++) write_all(fd, j->req + i, 1);
    } else {
        write_all(fd, j->req, j->reqlen);
    }
    j->outlen = read_some(fd, j->out, sizeof j->out, 0);
    close(fd);
}

static net_listener *http_start(uv_loop_t *loop) {
    memset(&g_http, 0, sizeof g_http);
    g_http.loop = loop;
    uv_timer_init(loop, &g_http.t);
    g_http.t.data = &g_http;
    net_listener *l;
    char err[256];
    assert_int_equal(net_http_listen(loop, "127.0.0.1", 0, http_handler, &g_http, &l, err, sizeof err), 0);
    return l;
}

/* one raw exchange with the HTTP server; returns the whole reply (until the server closes) */
static void http_exchange(const char *req, size_t reqlen, int bytewise, char *out, size_t outcap) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    net_listener *l = http_start(&loop);
    client_job *j = calloc(1, sizeof *j);
    j->port = net_listener_port(l);
    j->fn = http_client_fn;
    j->req = req;
    j->reqlen = reqlen;
    j->arg = bytewise;
    start_job(j);
    run_until(&loop, &j->done, 10000);
    join_job(j);
    snprintf(out, outcap, "%s", j->out);
    free(j);
    uv_close((uv_handle_t *)&g_http.t, NULL);
    net_listener_close(l);
    /* let the server side finish its close */
    atomic_int never = 0;
    run_until(&loop, &never, 50);
    finish_loop(&loop);
}

static void test_http_get(void **st) {
    (void)st;
    char out[65536];
    const char *req = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    http_exchange(req, strlen(req), 0, out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(out, "Content-Length: 5\r\n"));
    assert_non_null(strstr(out, "Connection: close\r\n"));
    assert_non_null(strstr(out, "\r\n\r\nhello"));
    /* the same, delivered one byte at a time */
    http_exchange(req, strlen(req), 1, out, sizeof out);
    assert_non_null(strstr(out, "\r\n\r\nhello"));
    /* unknown path */
    req = "GET /nope HTTP/1.0\r\n\r\n";
    http_exchange(req, strlen(req), 0, out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.0 404 Not Found\r\n"));
}

static void test_http_post(void **st) {
    (void)st;
    char out[65536];
    const char *req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/x-test\r\nContent-Length: 11\r\n"
                      "Connection: close\r\n\r\nhello world";
    http_exchange(req, strlen(req), 0, out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(out, "Content-Type: text/x-test\r\n"));
    assert_non_null(strstr(out, "\r\n\r\nhello world"));
    /* chunked request body */
    req = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
          "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";
    http_exchange(req, strlen(req), 0, out, sizeof out);
    assert_non_null(strstr(out, "Content-Length: 12\r\n"));
    assert_non_null(strstr(out, "\r\n\r\nhello, world"));
    http_exchange(req, strlen(req), 1, out, sizeof out);
    assert_non_null(strstr(out, "\r\n\r\nhello, world"));
    /* Expect: 100-continue: the body is sent only after the interim answer (arg 2) */
    req = "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc";
    http_exchange(req, strlen(req), 2, out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"));
}

static void test_http_pipelined_keepalive(void **st) {
    (void)st;
    char out[65536];
    /* the first answer is given later (from a timer): the second must still come after it */
    const char *req = "GET /async HTTP/1.1\r\nHost: x\r\n\r\n"
                      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                      "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    http_exchange(req, strlen(req), 0, out, sizeof out);
    const char *a = strstr(out, "async");
    const char *b = strstr(out, "\r\n\r\nabc");
    const char *c = strstr(out, "\r\n\r\nhello");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(a < b && b < c);
    assert_non_null(strstr(out, "X-Async: 1\r\n"));
    assert_int_equal(g_http.requests, 3);
}

static void test_http_errors(void **st) {
    (void)st;
    char out[65536];
    const char *req = "GARBAGE\x01 / HTTP/1.1\r\n\r\n";
    http_exchange(req, strlen(req), 0, out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.1 400 Bad Request\r\n"));
    assert_int_equal(g_http.requests, 0);
    /* header over 16 KiB */
    char *big = malloc(40000);
    int n = snprintf(big, 40000, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(big + n, 'a', 20000);
    n += 20000;
    n += snprintf(big + n, 40000 - (size_t)n, "\r\n\r\n");
    http_exchange(big, (size_t)n, 0, out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.1 431 "));
    free(big);
    /* body over the limit */
    req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n";
    http_exchange(req, strlen(req), 0, out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.1 413 "));
    /* a valid request then garbage: one answer, then 400 */
    req = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n\x01\x02\x03 garbage\r\n\r\n";
    http_exchange(req, strlen(req), 0, out, sizeof out);
    assert_non_null(strstr(out, "hello"));
    assert_non_null(strstr(out, "HTTP/1.1 400 "));
}

static void test_http_query(void **st) {
    (void)st;
    char out[65536];
    const char *req = "GET /q?x=1&name=a%20b+c%2B%26&y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    http_exchange(req, strlen(req), 0, out, sizeof out);
    assert_non_null(strstr(out, "name=[a b c+&] missing=no raw=x=1&name=a%20b+c%2B%26&y"));
    /* the decoder alone */
    char b[16];
    assert_int_equal(net_hp_query_param("a=1&b=%41%zz&c", "b", b, sizeof b), 4);
    assert_string_equal(b, "A%zz");
    assert_int_equal(net_hp_query_param("a=1&b=2&c", "c", b, sizeof b), 0);
    assert_string_equal(b, "");
    assert_int_equal(net_hp_query_param("a=1", "b", b, sizeof b), -1);
    assert_int_equal(net_hp_query_param("k%61y=v", "kay", b, sizeof b), 1);
    assert_int_equal(net_hp_query_param("a=0123456789abcdefXYZ", "a", b, sizeof b), -1);
    assert_int_equal(net_hp_query_param("a=%4", "a", b, sizeof b), 2);
    assert_string_equal(b, "%4");
}

/* ---------- WebSocket (hand-written client: raw socket + masking) ---------- */

static void ws_expected_accept(const char *key, char *out) {
    char kg[128];
    snprintf(kg, sizeof kg, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    unsigned char dg[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)kg, strlen(kg), dg);
    EVP_EncodeBlock((unsigned char *)out, dg, SHA_DIGEST_LENGTH);
}

/* client I/O over a plain socket or a blocking OpenSSL session (wss) */
typedef struct tio {
    int fd;
    SSL *ssl;
} tio;

static int tio_write(tio *t, const void *p, size_t n) {
    if (!t->ssl) return write_all(t->fd, p, n);
    size_t w = 0;
    return SSL_write_ex(t->ssl, p, n, &w) == 1 && w == n ? 0 : -1;
}

static ssize_t tio_read(tio *t, void *p, size_t n) {
    if (!t->ssl) return recv(t->fd, p, n, 0);
    size_t r = 0;
    return SSL_read_ex(t->ssl, p, n, &r) == 1 ? (ssize_t)r : 0;
}

static int ws_send(tio *fd, int opcode, int fin, const uint8_t *p, size_t n) {
    uint8_t h[14];
    size_t hl = 0;
    h[hl++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    if (n < 126) h[hl++] = (uint8_t)(0x80 | n);
    else if (n < 65536) { h[hl++] = 0x80 | 126; h[hl++] = (uint8_t)(n >> 8); h[hl++] = (uint8_t)n; }
    else {
        h[hl++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--) h[hl++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    memcpy(h + hl, mask, 4);
    hl += 4;
    uint8_t *m = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) m[i] = p[i] ^ mask[i & 3];
    if (opcode == 0x42) { /* test hook: an unmasked frame (protocol error) */
        h[0] = 0x82;
        h[1] &= 0x7f;
        int r = tio_write(fd, h, hl - 4) || tio_write(fd, p, n);
        free(m);
        return r;
    }
    int r = tio_write(fd, h, hl) || tio_write(fd, m, n);
    free(m);
    return r;
}

static int recv_full(tio *fd, uint8_t *p, size_t n) {
    while (n) {
        ssize_t r = tio_read(fd, p, n);
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* one server frame (unmasked); returns payload length or -1 */
static long ws_recv(tio *fd, int *opcode, uint8_t *p, size_t cap) {
    uint8_t h[2];
    if (recv_full(fd, h, 2)) return -1;
    if (h[1] & 0x80) return -1; /* server frames must not be masked */
    *opcode = h[0] & 0x0f;
    uint64_t n = h[1] & 0x7f;
    if (n == 126) {
        uint8_t x[2];
        if (recv_full(fd, x, 2)) return -1;
        n = (uint64_t)x[0] << 8 | x[1];
    } else if (n == 127) {
        uint8_t x[8];
        if (recv_full(fd, x, 8)) return -1;
        n = 0;
        for (int i = 0; i < 8; i++) n = n << 8 | x[i];
    }
    if (n > cap) return -1;
    if (recv_full(fd, p, (size_t)n)) return -1;
    return (long)n;
}

/* read the HTTP response head byte by byte (so no frame bytes are swallowed) */
static void read_head(tio *fd, char *out, size_t cap) {
    size_t n = 0;
    out[0] = 0;
    while (n + 1 < cap) {
        ssize_t r = tio_read(fd, out + n, 1);
        if (r <= 0) break;
        n++;
        out[n] = 0;
        if (n >= 4 && memcmp(out + n - 4, "\r\n\r\n", 4) == 0) break;
    }
}

typedef struct ws_result {
    char head[2048];
    size_t echoed, mismatch;
    int pong_ok, close_ok, eof_after_close;
} ws_result;

static char g_tls_dir[256];
static char *tls_path(const char *name);

/* j->arg: 0 listener path, 2 via the HTTP server's /ws, 3 wss (TLS), 4 protocol error after open */
static void ws_client_fn(client_job *j) {
    ws_result *res = calloc(1, sizeof *res);
    tio io = {.fd = raw_connect(j->port)};
    SSL_CTX *ctx = NULL;
    if (j->arg == 3) {
        ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_load_verify_locations(ctx, tls_path("ca.crt"), NULL);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        io.ssl = SSL_new(ctx);
        SSL_set_fd(io.ssl, io.fd);
        SSL_set_tlsext_host_name(io.ssl, "localhost");
        if (SSL_connect(io.ssl) != 1) {
            snprintf(res->head, sizeof res->head, "tls connect failed");
            goto out;
        }
    }
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
                     j->arg == 2 ? "/ws" : "/mqtt", key, j->req);
    tio_write(&io, req, (size_t)n);
    read_head(&io, res->head, sizeof res->head);
    if (strncmp(res->head, "HTTP/1.1 101", 12) != 0) {
        char rest[512];
        ssize_t r = tio_read(&io, rest, sizeof rest - 1);
        rest[r > 0 ? r : 0] = 0;
        strncat(res->head, rest, sizeof res->head - strlen(res->head) - 1);
        goto out;
    }
    uint8_t *in = malloc(400000);
    int op;
    long r;
    if (j->arg == 4) { /* an unmasked client frame: the server answers 1002 and closes */
        ws_send(&io, 0x42, 1, (const uint8_t *)"xx", 2);
        while ((r = ws_recv(&io, &op, in, 400000)) >= 0)
            if (op == 8) { res->close_ok = r >= 2 && in[0] == 0x03 && in[1] == 0xea; break; }
        char tail[16];
        res->eof_after_close = tio_read(&io, tail, sizeof tail) <= 0;
        free(in);
        goto out;
    }
    /* 300 KB in two fragments (binary + continuation), a ping in between, then a text frame */
    size_t total = 300000;
    uint8_t *p = malloc(total);
    for (size_t i = 0; i < total; i++) p[i] = pattern_byte(i);
    memcpy(p + total - 5, "abcde", 5);
    ws_send(&io, 2, 0, p, 100000);
    ws_send(&io, 9, 1, (const uint8_t *)"pi", 2);
    ws_send(&io, 0, 1, p + 100000, total - 100000 - 5);
    ws_send(&io, 1, 1, p + total - 5, 5); /* text frame: ascii (wslay checks UTF-8) */
    while (res->echoed < total && (r = ws_recv(&io, &op, in, 400000)) >= 0) {
        if (op == 10) {
            res->pong_ok = r == 2 && memcmp(in, "pi", 2) == 0;
            continue;
        }
        if (op == 8) break;
        for (long i = 0; i < r; i++)
            if (in[i] != p[res->echoed + (size_t)i]) res->mismatch++;
        res->echoed += (size_t)r;
    }
    uint8_t code[2] = {0x03, 0xe8};
    ws_send(&io, 8, 1, code, 2);
    while ((r = ws_recv(&io, &op, in, 400000)) >= 0) {
        if (op == 8) { res->close_ok = 1; break; }
    }
    char tail[16];
    res->eof_after_close = tio_read(&io, tail, sizeof tail) <= 0;
    free(p);
    free(in);
out:
    if (io.ssl) SSL_free(io.ssl);
    if (ctx) SSL_CTX_free(ctx);
    close(io.fd);
    memcpy(j->out, res, sizeof *res < sizeof j->out ? sizeof *res : sizeof j->out);
    free(res);
}

static void ws_check_ok(const ws_result *res, const char *proto) {
    char acc[64], line[128];
    ws_expected_accept("dGhlIHNhbXBsZSBub25jZQ==", acc);
    snprintf(line, sizeof line, "Sec-WebSocket-Accept: %s\r\n", acc);
    assert_non_null(strstr(res->head, "HTTP/1.1 101 Switching Protocols\r\n"));
    assert_non_null(strstr(res->head, line));
    snprintf(line, sizeof line, "Sec-WebSocket-Protocol: %s\r\n", proto);
    assert_non_null(strstr(res->head, line));
    assert_int_equal(res->echoed, 300000 - 5 + 5);
    assert_int_equal(res->pong_ok, 1);
    assert_int_equal(res->close_ok, 1);
    assert_int_equal(res->eof_after_close, 1);
}

static void test_ws_echo(void **st) {
    (void)st;
    uv_loop_t loop;
    uv_loop_init(&loop);
    echo_state *s = &g_echo;
    memset(s, 0, sizeof *s);
    net_listener *l;
    char err[256];
    net_listen_opts lo = {.bind = "127.0.0.1", .websocket = true, .ws_subprotocol = "mqtt"};
    net_conn_cbs scb = {.on_open = srv_open, .on_data = srv_data, .on_close = srv_close};
    assert_int_equal(net_listen(&loop, &lo, &scb, s, &l, err, sizeof err), 0);
    client_job *j = calloc(1, sizeof *j);
    j->port = net_listener_port(l);
    j->fn = ws_client_fn;
    j->req = "mqttv3.1, mqtt";
    start_job(j);
    run_until(&loop, &j->done, 15000);
    join_job(j);
    ws_result *res = (ws_result *)j->out;
    ws_check_ok(res, "mqtt");
    assert_int_equal(res->mismatch, 0);
    atomic_int never = 0;
    run_until(&loop, &never, 50);
    assert_int_equal(s->srv_open, 1);
    assert_int_equal(s->srv_close, 1);
    free(j);
    net_listener_close(l);
    finish_loop(&loop);
}

static void test_ws_subprotocol_rejected(void **st) {
    (void)st;
    uv_loop_t loop;
    uv_loop_init(&loop);
    echo_state *s = &g_echo;
    memset(s, 0, sizeof *s);
    net_listener *l;
    char err[256];
    net_listen_opts lo = {.bind = "127.0.0.1", .websocket = true, .ws_subprotocol = "mqtt"};
    net_conn_cbs scb = {.on_open = srv_open, .on_data = srv_data, .on_close = srv_close};
    assert_int_equal(net_listen(&loop, &lo, &scb, s, &l, err, sizeof err), 0);
    client_job *j = calloc(1, sizeof *j);
    j->port = net_listener_port(l);
    j->fn = ws_client_fn;
    j->req = "chat, superchat";
    start_job(j);
    run_until(&loop, &j->done, 10000);
    join_job(j);
    ws_result *res = (ws_result *)j->out;
    assert_non_null(strstr(res->head, "HTTP/1.1 400 Bad Request\r\n"));
    assert_non_null(strstr(res->head, "subprotocol not offered"));
    assert_int_equal(s->srv_open, 0);
    free(j);
    net_listener_close(l);
    finish_loop(&loop);
}

static void test_ws_via_http_upgrade(void **st) {
    (void)st;
    uv_loop_t loop;
    uv_loop_init(&loop);
    net_listener *l = http_start(&loop);
    client_job *j = calloc(1, sizeof *j);
    j->port = net_listener_port(l);
    j->fn = ws_client_fn;
    j->req = "mqtt";
    j->arg = 2;
    start_job(j);
    run_until(&loop, &j->done, 15000);
    join_job(j);
    ws_result *res = (ws_result *)j->out;
    ws_check_ok(res, "mqtt");
    atomic_int never = 0;
    run_until(&loop, &never, 50);
    assert_int_equal(g_http.ws.srv_open, 1);
    assert_int_equal(g_http.ws.srv_close, 1);
    free(j);
    uv_close((uv_handle_t *)&g_http.t, NULL);
    net_listener_close(l);
    finish_loop(&loop);
}

static void test_ws_protocol_error(void **st) {
    (void)st;
    uv_loop_t loop;
    uv_loop_init(&loop);
    echo_state *s = &g_echo;
    memset(s, 0, sizeof *s);
    net_listener *l;
    char err[256];
    net_listen_opts lo = {.bind = "127.0.0.1", .websocket = true}; /* no subprotocol required */
    net_conn_cbs scb = {.on_open = srv_open, .on_data = srv_data, .on_close = srv_close};
    assert_int_equal(net_listen(&loop, &lo, &scb, s, &l, err, sizeof err), 0);
    client_job *j = calloc(1, sizeof *j);
    j->port = net_listener_port(l);
    j->fn = ws_client_fn;
    j->req = "whatever, other";
    j->arg = 4;
    start_job(j);
    run_until(&loop, &j->done, 10000);
    join_job(j);
    ws_result *res = (ws_result *)j->out;
    assert_non_null(strstr(res->head, "Sec-WebSocket-Protocol: whatever\r\n")); /* first offer echoed */
    assert_int_equal(res->close_ok, 1);
    assert_int_equal(res->eof_after_close, 1);
    atomic_int never = 0;
    run_until(&loop, &never, 50);
    assert_int_equal(s->srv_open, 1);
    assert_int_equal(s->srv_close, 1);
    free(j);
    net_listener_close(l);
    finish_loop(&loop);
}

/* ---------- bind to all addresses, connect by name ---------- */

static void test_listen_any_connect_by_name(void **st) {
    (void)st;
    uv_loop_t loop;
    uv_loop_init(&loop);
    echo_state *s = &g_echo;
    memset(s, 0, sizeof *s);
    s->total = 100000;
    net_listener *l;
    char err[256];
    net_listen_opts lo = {.bind = NULL, .port = 0};
    net_conn_cbs scb = {.on_open = srv_open, .on_data = srv_data, .on_close = srv_close};
    assert_int_equal(net_listen(&loop, &lo, &scb, s, &l, err, sizeof err), 0);
    net_connect_opts co = {.host = "localhost", .port = net_listener_port(l)};
    net_conn_cbs ccb = {.on_open = cli_open, .on_data = cli_data, .on_close = cli_close,
                        .on_connect_error = cli_err};
    assert_int_equal(net_connect(&loop, &co, &ccb, s, err, sizeof err), 0);
    uint64_t end = uv_now(&loop) + 10000;
    while (!(s->cli_close && s->srv_close) && !s->cli_err && uv_now(&loop) < end) uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(s->cli_err, 0);
    assert_int_equal(s->received, s->total);
    assert_int_equal(s->srv_close, 1);
    /* bad arguments are reported */
    co.port = 0;
    assert_int_equal(net_connect(&loop, &co, &ccb, s, err, sizeof err), -1);
    net_listener *l2 = NULL;
    lo.bind = "127.0.0.1";
    lo.port = 70000;
    assert_int_equal(net_listen(&loop, &lo, &scb, s, &l2, err, sizeof err), -1);
    net_listener_close(l);
    finish_loop(&loop);
}

/* ---------- handshake timeouts and garbage ---------- */

static void idle_client_fn(client_job *j) {
    int fd = raw_connect(j->port);
    if (j->req) write_all(fd, j->req, j->reqlen);
    struct timeval t0, t1;
    gettimeofday(&t0, NULL);
    j->outlen = read_some(fd, j->out, sizeof j->out, 0); /* returns at EOF (or 10 s timeout) */
    gettimeofday(&t1, NULL);
    j->arg = (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_usec - t0.tv_usec) / 1000);
    close(fd);
}

static int timeout_probe(net_listen_opts *lo, const char *send_first, char *out, size_t outcap) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    echo_state *s = &g_echo;
    memset(s, 0, sizeof *s);
    net_listener *l;
    char err[256];
    net_conn_cbs scb = {.on_open = srv_open, .on_data = srv_data, .on_close = srv_close};
    assert_int_equal(net_listen(&loop, lo, &scb, s, &l, err, sizeof err), 0);
    client_job *j = calloc(1, sizeof *j);
    j->port = net_listener_port(l);
    j->fn = idle_client_fn;
    j->req = send_first;
    j->reqlen = send_first ? strlen(send_first) : 0;
    start_job(j);
    run_until(&loop, &j->done, 12000);
    join_job(j);
    int ms = j->arg;
    if (out && outcap) { size_t k = strnlen(j->out, outcap - 1); memcpy(out, j->out, k); out[k] = 0; }
    assert_int_equal(s->srv_open, 0);
    free(j);
    net_listener_close(l);
    atomic_int never = 0;
    run_until(&loop, &never, 20);
    finish_loop(&loop);
    return ms;
}

static void test_handshake_timeout(void **st) {
    (void)st;
    net_listen_opts lo = {.bind = "127.0.0.1", .websocket = true, .handshake_timeout_ms = 200};
    int ms = timeout_probe(&lo, NULL, NULL, 0);
    assert_true(ms >= 150 && ms < 3000);
    /* a partial upgrade request does not keep it open either */
    ms = timeout_probe(&lo, "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpg", NULL, 0);
    assert_true(ms >= 150 && ms < 3000);
    /* garbage on a WebSocket port: 400 and close, no on_open */
    char out[4096];
    timeout_probe(&lo, "\x16\x03\x01\x02\x00garbage\r\n\r\n", out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.1 400"));
}

/* ---------- TLS (throwaway CA made with the openssl command) ---------- */

static int tls_setup(void **st) {
    (void)st;
    snprintf(g_tls_dir, sizeof g_tls_dir, "/tmp/te_net_tls_XXXXXX");
    if (!mkdtemp(g_tls_dir)) return -1;
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd %s && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key "
             "-out ca.crt -days 2 -subj /CN=test-ca && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr "
             "-subj /CN=localhost && "
             "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > srv.ext && "
             "openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 "
             "-extfile srv.ext && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout cli.key -out cli.csr "
             "-subj /CN=device-1 && "
             "openssl x509 -req -in cli.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out cli.crt -days 2"
             " ) >/dev/null 2>&1",
             g_tls_dir);
    memmove(cmd + 1, cmd, strlen(cmd) + 1);
    cmd[0] = '(';
    return system(cmd) == 0 ? 0 : -1;
}

static int tls_teardown(void **st) {
    (void)st;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_tls_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *tls_path(const char *name) {
    static char bufs[8][320];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, 320, "%s/%s", g_tls_dir, name);
    return b;
}

/* echo through a TLS listener with net_connect as the client; returns the echo state */
static echo_state *tls_roundtrip(bool client_cert, bool client_ca, size_t total) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    echo_state *s = &g_echo;
    memset(s, 0, sizeof *s);
    g_srv_cn[0] = 0;
    s->total = total;
    net_listener *l;
    char err[256];
    net_listen_opts lo = {.bind = "127.0.0.1", .tls = true};
    lo.tls_opts.certfile = tls_path("srv.crt");
    lo.tls_opts.keyfile = tls_path("srv.key");
    lo.tls_opts.cafile = tls_path("ca.crt");
    lo.tls_opts.require_certificate = true;
    net_conn_cbs scb = {.on_open = srv_open, .on_data = srv_data, .on_close = srv_close};
    int r = net_listen(&loop, &lo, &scb, s, &l, err, sizeof err);
    if (r) fprintf(stderr, "listen: %s\n", err);
    assert_int_equal(r, 0);
    net_connect_opts co = {.host = "127.0.0.1", .port = net_listener_port(l), .tls = true};
    if (client_ca) co.tls_opts.cafile = tls_path("ca.crt");
    if (client_cert) {
        co.tls_opts.certfile = tls_path("cli.crt");
        co.tls_opts.keyfile = tls_path("cli.key");
    }
    net_conn_cbs ccb = {.on_open = cli_open, .on_data = cli_data, .on_close = cli_close,
                        .on_connect_error = cli_err};
    r = net_connect(&loop, &co, &ccb, s, err, sizeof err);
    if (r) fprintf(stderr, "connect: %s\n", err);
    assert_int_equal(r, 0);
    uint64_t end = uv_now(&loop) + 20000;
    while (!(s->cli_close || s->cli_err) && uv_now(&loop) < end) uv_run(&loop, UV_RUN_ONCE);
    atomic_int never = 0;
    run_until(&loop, &never, 100);
    net_listener_close(l);
    finish_loop(&loop);
    return s;
}

static void test_tls_client_cert(void **st) {
    (void)st;
    echo_state *s = tls_roundtrip(true, true, 2u << 20);
    assert_int_equal(s->cli_err, 0);
    assert_int_equal(s->received, s->total);
    assert_int_equal(s->mismatch, 0);
    assert_int_equal(s->srv_open, 1);
    assert_int_equal(s->srv_close, 1);
    assert_int_equal(s->cli_close, 1);
    assert_string_equal(g_srv_cn, "device-1");
    assert_string_equal(g_srv_kind, "tls");
    assert_string_equal(g_cli_kind, "tls");
}

static void test_tls_client_cert_missing(void **st) {
    (void)st;
    te_log_set_level(TE_LOG_ERROR);
    echo_state *s = tls_roundtrip(false, true, 1000);
    /* TLS 1.3: the client may finish its side before the server refuses; either way no data */
    assert_int_equal(s->srv_open, 0);
    assert_int_equal(s->received, 0);
    assert_true(s->cli_err == 1 || s->cli_close == 1);
    /* the client does not trust the server (no CA given, system store only) */
    s = tls_roundtrip(true, false, 1000);
    assert_int_equal(s->cli_err, 1);
    assert_int_equal(s->cli_open, 0);
    assert_int_equal(s->srv_open, 0);
    te_log_set_level(TE_LOG_WARN);
}

static void test_tls_handshake_timeout(void **st) {
    (void)st;
    te_log_set_level(TE_LOG_ERROR);
    net_listen_opts lo = {.bind = "127.0.0.1", .tls = true, .handshake_timeout_ms = 200};
    lo.tls_opts.certfile = tls_path("srv.crt");
    lo.tls_opts.keyfile = tls_path("srv.key");
    int ms = timeout_probe(&lo, NULL, NULL, 0);
    assert_true(ms >= 150 && ms < 3000);
    /* plaintext HTTP on a TLS port: refused quickly */
    ms = timeout_probe(&lo, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", NULL, 0);
    assert_true(ms < 150);
    /* bad configuration is reported, not crashed on */
    uv_loop_t loop;
    uv_loop_init(&loop);
    net_listener *l = NULL;
    char err[256] = "";
    lo.tls_opts.certfile = tls_path("nope.crt");
    assert_int_equal(net_listen(&loop, &lo, &(net_conn_cbs){0}, NULL, &l, err, sizeof err), -1);
    assert_non_null(strstr(err, "nope.crt"));
    finish_loop(&loop);
    te_log_set_level(TE_LOG_WARN);
}

static void test_wss_echo(void **st) {
    (void)st;
    uv_loop_t loop;
    uv_loop_init(&loop);
    echo_state *s = &g_echo;
    memset(s, 0, sizeof *s);
    net_listener *l;
    char err[256];
    net_listen_opts lo = {.bind = "127.0.0.1", .tls = true, .websocket = true, .ws_subprotocol = "mqtt"};
    lo.tls_opts.certfile = tls_path("srv.crt");
    lo.tls_opts.keyfile = tls_path("srv.key");
    net_conn_cbs scb = {.on_open = srv_open, .on_data = srv_data, .on_close = srv_close};
    assert_int_equal(net_listen(&loop, &lo, &scb, s, &l, err, sizeof err), 0);
    client_job *j = calloc(1, sizeof *j);
    j->port = net_listener_port(l);
    j->fn = ws_client_fn;
    j->req = "mqtt";
    j->arg = 3;
    start_job(j);
    run_until(&loop, &j->done, 15000);
    join_job(j);
    ws_result *res = (ws_result *)j->out;
    ws_check_ok(res, "mqtt");
    assert_int_equal(res->mismatch, 0);
    atomic_int never = 0;
    run_until(&loop, &never, 50);
    assert_int_equal(s->srv_open, 1);
    assert_int_equal(s->srv_close, 1);
    assert_string_equal(g_srv_kind, "wss");
    assert_string_equal(g_srv_cn, "");
    free(j);
    net_listener_close(l);
    finish_loop(&loop);
}

#define TLS_TESTS                                                                                  \
    cmocka_unit_test_setup_teardown(test_tls_client_cert, tls_setup, tls_teardown),                \
        cmocka_unit_test_setup_teardown(test_tls_client_cert_missing, tls_setup, tls_teardown),    \
        cmocka_unit_test_setup_teardown(test_tls_handshake_timeout, tls_setup, tls_teardown),     \
        cmocka_unit_test_setup_teardown(test_wss_echo, tls_setup, tls_teardown),

int main(void) {
    te_log_set_level(TE_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_echo_big),
        cmocka_unit_test(test_close_semantics),
        cmocka_unit_test(test_pause_resume),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_http_get),
        cmocka_unit_test(test_http_post),
        cmocka_unit_test(test_http_pipelined_keepalive),
        cmocka_unit_test(test_http_errors),
        cmocka_unit_test(test_http_query),
        cmocka_unit_test(test_ws_echo),
        cmocka_unit_test(test_ws_subprotocol_rejected),
        cmocka_unit_test(test_ws_via_http_upgrade),
        cmocka_unit_test(test_ws_protocol_error),
        cmocka_unit_test(test_listen_any_connect_by_name),
        cmocka_unit_test(test_handshake_timeout),
        TLS_TESTS

    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
