/* http_parse: sans-I/O HTTP/1.1 request parser on top of http-parser, shared by the HTTP server
 * and the WebSocket handshake, and reachable by the fuzz target without sockets. It copies what it
 * keeps (URL, headers, body), enforces the header and body limits, and stops after each complete
 * request so pipelined requests are handled one at a time.
 *   net_hp_init(hp, max_header, max_body)   ready for the first request; net_hp_free releases
 *   net_hp_feed(hp, p, n, &used)            1 = a request is complete (used = its last byte + 1),
 *                                           0 = all n bytes taken, need more,
 *                                           <0 = -status to answer (400, 413, 414, 431) then close
 *   net_hp_reset(hp)                        forget the request; feed the rest of the input next
 *   net_hp_header(hp, name)                 first value of a header, case-insensitive; NULL absent
 *   net_hp_header_next(hp, name, &it)       every value of a repeated header (it starts at 0)
 *   net_hp_has_token(hp, name, tok)         a comma-separated header value lists tok (no case)
 *   net_hp_query_param(q, name, buf, n)     percent/'+'-decoded value of name in query string q;
 *                                           its length, or -1 when absent or buf too small
 * After a complete request: method, path (no query), query ("" when none), body/body_len,
 * keep_alive, upgrade (Upgrade/CONNECT request: the rest of the stream is another protocol). */
#ifndef TE_NET_HTTP_PARSE_H
#define TE_NET_HTTP_PARSE_H
#include "base/buf.h"
#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_HP_MAX_HEADERS 100

typedef struct net_hp_hdr {
    uint32_t name, name_len, value, value_len; /* offsets into store */
} net_hp_hdr;

typedef struct net_hp {
    http_parser parser;
    size_t max_header, max_body;
    buf_t store; /* NUL-terminated url, header names and values, path, query */
    buf_t body;  /* NUL-terminated (not counted in body_len) */
    net_hp_hdr hdrs[NET_HP_MAX_HEADERS];
    int nhdrs;
    int cur;     /* what the last callback appended: 0 none, 1 url, 2 name, 3 value */
    uint32_t url, path, query;
    size_t header_bytes;
    int status;  /* error status chosen by a callback */
    bool headers_done, complete, keep_alive, upgrade, expect_continue;
    /* valid after a complete request */
    const char *method, *path_s, *query_s;
    const uint8_t *body_p;
    size_t body_len;
    int http_major, http_minor;
} net_hp;

void net_hp_init(net_hp *hp, size_t max_header, size_t max_body);
void net_hp_free(net_hp *hp);
int net_hp_feed(net_hp *hp, const uint8_t *p, size_t n, size_t *used);
void net_hp_reset(net_hp *hp);
const char *net_hp_header(const net_hp *hp, const char *name);
const char *net_hp_header_next(const net_hp *hp, const char *name, int *it);
bool net_hp_has_token(const net_hp *hp, const char *name, const char *tok);
int net_hp_query_param(const char *query, const char *name, char *buf, size_t buflen);
#endif
