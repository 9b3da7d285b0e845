/* fuzz target: bytes -> the sans-I/O HTTP request parser (src/net/http_parse.c), the layer the HTTP
 * server and the WebSocket handshake share. Feeds the input whole and then split at a point taken
 * from its first byte, walks every parsed request (pipelining), looks headers and query parameters
 * up, and checks the invariants the server relies on. */
#include "net/http_parse.h"
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_request(net_hp *hp) {
    assert(hp->method && hp->path_s && hp->query_s);
    assert(hp->body_len <= hp->max_body);
    assert(hp->body_p[hp->body_len] == 0);
    (void)strlen(hp->path_s);
    (void)net_hp_header(hp, "host");
    (void)net_hp_header(hp, "content-length");
    (void)net_hp_has_token(hp, "connection", "upgrade");
    (void)net_hp_has_token(hp, "sec-websocket-protocol", "mqtt");
    int it = 0;
    while (net_hp_header_next(hp, "x-a", &it)) {}
    char small[4], big[256];
    (void)net_hp_query_param(hp->query_s, "a", small, sizeof small);
    (void)net_hp_query_param(hp->query_s, "a", big, sizeof big);
    (void)net_hp_query_param(hp->query_s, "", big, sizeof big);
}

/* feed p[0..n) in pieces of at most `step` bytes; returns requests seen */
static int run(const uint8_t *p, size_t n, size_t step) {
    net_hp hp;
    net_hp_init(&hp, 2048, 4096);
    int reqs = 0;
    size_t off = 0;
    while (off < n) {
        size_t len = n - off < step ? n - off : step;
        size_t used = 0;
        int r = net_hp_feed(&hp, p + off, len, &used);
        assert(used <= len);
        if (r < 0) {
            assert(-r >= 400 && -r <= 599);
            break;
        }
        off += used;
        if (r == 1) {
            check_request(&hp);
            reqs++;
            if (hp.upgrade) break; /* the rest is another protocol */
            net_hp_reset(&hp);
        } else {
            assert(used == len);
        }
    }
    net_hp_free(&hp);
    return reqs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int a = run(data, size, size ? size : 1);
    size_t step = size ? 1 + data[0] % 64 : 1;
    int b = run(data, size, step);
    (void)a;
    (void)b;
    char buf[64];
    char *q = malloc(size + 1);
    if (q) {
        memcpy(q, data, size);
        q[size] = 0;
        (void)net_hp_query_param(q, "k", buf, sizeof buf);
        free(q);
    }
    return 0;
}
