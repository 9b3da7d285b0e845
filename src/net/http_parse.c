/* http_parse: sans-I/O HTTP/1.1 request parsing with limits (see http_parse.h). */
#include "net/http_parse.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { CUR_NONE = 0, CUR_URL, CUR_NAME, CUR_VALUE };

/* any nonzero return stops http-parser with an error; on_headers_complete needs one other than
 * 1 or 2 (those mean "skip the body" / "upgrade") */
static int hp_fail(net_hp *hp, int status) {
    if (!hp->status) hp->status = status;
    return -1;
}

/* end the string being assembled with a NUL */
static int hp_terminate(net_hp *hp) {
    if (hp->cur == CUR_NONE) return 0;
    if (buf_put_u8(&hp->store, 0)) return -1;
    if (hp->cur == CUR_NAME) {
        net_hp_hdr *h = &hp->hdrs[hp->nhdrs - 1];
        h->name_len = (uint32_t)(hp->store.len - 1 - h->name);
    } else if (hp->cur == CUR_VALUE) {
        net_hp_hdr *h = &hp->hdrs[hp->nhdrs - 1];
        h->value_len = (uint32_t)(hp->store.len - 1 - h->value);
    }
    hp->cur = CUR_NONE;
    return 0;
}

/* terminate the last string; a name that never got a value points at its own NUL */
static int hp_close_headers(net_hp *hp) {
    if (hp_terminate(hp)) return -1;
    for (int i = 0; i < hp->nhdrs; i++)
        if (hp->hdrs[i].value < hp->hdrs[i].name + hp->hdrs[i].name_len) {
            hp->hdrs[i].value = hp->hdrs[i].name + hp->hdrs[i].name_len;
            hp->hdrs[i].value_len = 0;
        }
    return 0;
}

static int hp_count(net_hp *hp, size_t n) {
    hp->header_bytes += n;
    return hp->header_bytes > hp->max_header;
}

static int on_message_begin(http_parser *p) {
    net_hp *hp = p->data;
    hp->store.len = 0;
    hp->body.len = 0;
    hp->nhdrs = 0;
    hp->cur = CUR_NONE;
    hp->header_bytes = 0;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n) {
    net_hp *hp = p->data;
    if (hp_count(hp, n)) return hp_fail(hp, 414);
    if (hp->cur != CUR_URL) {
        if (hp_terminate(hp)) return hp_fail(hp, 500);
        hp->url = (uint32_t)hp->store.len;
        hp->cur = CUR_URL;
    }
    return buf_append(&hp->store, at, n) ? hp_fail(hp, 500) : 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n) {
    net_hp *hp = p->data;
    if (hp_count(hp, n)) return hp_fail(hp, 431);
    if (hp->cur != CUR_NAME) {
        if (hp_terminate(hp)) return hp_fail(hp, 500);
        if (hp->nhdrs == NET_HP_MAX_HEADERS) return hp_fail(hp, 431);
        if (hp_count(hp, 4)) return hp_fail(hp, 431); /* ": " and CRLF */
        net_hp_hdr *h = &hp->hdrs[hp->nhdrs++];
        memset(h, 0, sizeof *h);
        h->name = h->value = (uint32_t)hp->store.len;
        hp->cur = CUR_NAME;
    }
    return buf_append(&hp->store, at, n) ? hp_fail(hp, 500) : 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n) {
    net_hp *hp = p->data;
    if (hp_count(hp, n)) return hp_fail(hp, 431);
    if (hp->cur != CUR_VALUE) {
        if (hp->nhdrs == 0) return hp_fail(hp, 400);
        if (hp_terminate(hp)) return hp_fail(hp, 500);
        hp->hdrs[hp->nhdrs - 1].value = (uint32_t)hp->store.len;
        hp->cur = CUR_VALUE;
    }
    return buf_append(&hp->store, at, n) ? hp_fail(hp, 500) : 0;
}

static int on_headers_complete(http_parser *p) {
    net_hp *hp = p->data;
    if (hp->cur == CUR_NONE && hp->store.len == 0) { /* no URL callback: empty target */
        hp->url = 0;
        hp->cur = CUR_URL;
    }
    if (hp_close_headers(hp)) return hp_fail(hp, 500);
    /* split the URL into path and query; absolute-form "http://host/p?q" keeps only "/p" */
    const char *u = (const char *)hp->store.data + hp->url;
    size_t ulen = strlen(u);
    size_t ps = 0;
    if (ulen > 7 && (strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0)) {
        const char *s = strchr(u + (u[4] == ':' ? 7 : 8), '/');
        ps = s ? (size_t)(s - u) : ulen;
    }
    size_t q = ps;
    while (q < ulen && u[q] != '?' && u[q] != '#') q++;
    size_t qe = q;
    if (q < ulen && u[q] == '?') {
        qe = q + 1;
        while (qe < ulen && u[qe] != '#') qe++;
    }
    size_t plen = q - ps;
    size_t qs = (q < ulen && u[q] == '?') ? q + 1 : q;
    size_t qlen = qe > qs ? qe - qs : 0;
    if (buf_reserve(&hp->store, plen + qlen + 3)) return hp_fail(hp, 500);
    u = (const char *)hp->store.data + hp->url; /* store may have moved */
    hp->path = (uint32_t)hp->store.len;
    if (plen == 0) buf_append(&hp->store, "/", 1);
    else buf_append(&hp->store, u + ps, plen);
    buf_put_u8(&hp->store, 0);
    u = (const char *)hp->store.data + hp->url;
    hp->query = (uint32_t)hp->store.len;
    buf_append(&hp->store, u + qs, qlen);
    buf_put_u8(&hp->store, 0);
    hp->headers_done = true;
    if (p->content_length != ULLONG_MAX && p->content_length > hp->max_body) return hp_fail(hp, 413);
    const char *exp = net_hp_header(hp, "expect");
    hp->expect_continue = exp && strcasecmp(exp, "100-continue") == 0;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
    net_hp *hp = p->data;
    if (hp->body.len + n > hp->max_body) return hp_fail(hp, 413);
    return buf_append(&hp->body, at, n) ? hp_fail(hp, 500) : 0;
}

static int on_message_complete(http_parser *p) {
    net_hp *hp = p->data;
    if (hp_close_headers(hp)) return hp_fail(hp, 500); /* trailers of a chunked body */
    if (buf_reserve(&hp->body, 1)) return hp_fail(hp, 500);
    hp->body.data[hp->body.len] = 0;
    hp->complete = true;
    hp->keep_alive = http_should_keep_alive(p) != 0;
    hp->upgrade = p->upgrade != 0;
    hp->method = http_method_str((enum http_method)p->method);
    hp->path_s = (const char *)hp->store.data + hp->path;
    hp->query_s = (const char *)hp->store.data + hp->query;
    hp->body_p = hp->body.data;
    hp->body_len = hp->body.len;
    hp->http_major = p->http_major;
    hp->http_minor = p->http_minor;
    http_parser_pause(p, 1); /* one request at a time: pipelined bytes stay unconsumed */
    return 0;
}

static const http_parser_settings hp_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void net_hp_init(net_hp *hp, size_t max_header, size_t max_body) {
    memset(hp, 0, sizeof *hp);
    http_parser_init(&hp->parser, HTTP_REQUEST);
    hp->parser.data = hp;
    hp->max_header = max_header;
    hp->max_body = max_body;
    buf_init(&hp->store);
    buf_init(&hp->body);
}

void net_hp_free(net_hp *hp) {
    buf_free(&hp->store);
    buf_free(&hp->body);
}

void net_hp_reset(net_hp *hp) {
    hp->complete = hp->headers_done = hp->keep_alive = hp->upgrade = hp->expect_continue = false;
    hp->nhdrs = 0;
    hp->store.len = hp->body.len = 0;
    hp->cur = CUR_NONE;
    hp->status = 0;
    hp->method = hp->path_s = hp->query_s = NULL;
    hp->body_p = NULL;
    hp->body_len = 0;
    if (hp->store.cap > 65536) buf_free(&hp->store);
    if (hp->body.cap > (1u << 20)) buf_free(&hp->body);
    http_parser_pause(&hp->parser, 0);
}

int net_hp_feed(net_hp *hp, const uint8_t *p, size_t n, size_t *used) {
    *used = 0;
    if (hp->complete) return 1;
    if (n == 0) return 0;
    size_t k = http_parser_execute(&hp->parser, &hp_settings, (const char *)p, n);
    enum http_errno e = HTTP_PARSER_ERRNO(&hp->parser);
    *used = k;
    if (hp->complete) return 1;
    if (e != HPE_OK && e != HPE_PAUSED) {
        if (hp->status) return -hp->status;
        if (e == HPE_HEADER_OVERFLOW) return -431;
        return -400;
    }
    if (k < n) return -400; /* the parser stopped without telling why */
    return 0;
}

const char *net_hp_header_next(const net_hp *hp, const char *name, int *it) {
    if (!hp->headers_done) return NULL;
    for (int i = *it; i < hp->nhdrs; i++) {
        const net_hp_hdr *h = &hp->hdrs[i];
        if (strcasecmp((const char *)hp->store.data + h->name, name) == 0) {
            *it = i + 1;
            return (const char *)hp->store.data + h->value;
        }
    }
    *it = hp->nhdrs;
    return NULL;
}

const char *net_hp_header(const net_hp *hp, const char *name) {
    int it = 0;
    return net_hp_header_next(hp, name, &it);
}

bool net_hp_has_token(const net_hp *hp, const char *name, const char *tok) {
    size_t tl = strlen(tok);
    int it = 0;
    const char *v;
    while ((v = net_hp_header_next(hp, name, &it)) != NULL) {
        const char *s = v;
        while (*s) {
            while (*s == ' ' || *s == '\t' || *s == ',') s++;
            const char *e = s;
            while (*e && *e != ',') e++;
            const char *te = e;
            while (te > s && (te[-1] == ' ' || te[-1] == '\t')) te--;
            if ((size_t)(te - s) == tl && strncasecmp(s, tok, tl) == 0) return true;
            s = e;
        }
    }
    return false;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* decode one char of a query component at s[*i] (bounded by n); advances *i */
static int qdecode(const char *s, size_t n, size_t *i) {
    char c = s[*i];
    if (c == '+') { (*i)++; return ' '; }
    if (c == '%' && *i + 2 < n) {
        int h = hexval((unsigned char)s[*i + 1]), l = hexval((unsigned char)s[*i + 2]);
        if (h >= 0 && l >= 0) { *i += 3; return h * 16 + l; }
    }
    (*i)++;
    return (unsigned char)c;
}

int net_hp_query_param(const char *query, const char *name, char *buf, size_t buflen) {
    if (!query || !name) return -1;
    size_t nl = strlen(name);
    const char *s = query;
    while (*s) {
        const char *e = s;
        while (*e && *e != '&') e++;
        const char *eq = s;
        while (eq < e && *eq != '=') eq++;
        /* compare the decoded key with name */
        size_t klen = (size_t)(eq - s), i = 0, j = 0;
        bool match = true;
        while (i < klen) {
            int ch = qdecode(s, klen, &i);
            if (j >= nl || (char)ch != name[j]) { match = false; break; }
            j++;
        }
        if (match && j == nl && (klen > 0 || nl == 0)) {
            const char *v = eq < e ? eq + 1 : e;
            size_t vlen = (size_t)(e - v), o = 0;
            i = 0;
            while (i < vlen) {
                int ch = qdecode(v, vlen, &i);
                if (o + 1 >= buflen) return -1;
                buf[o++] = (char)ch;
            }
            if (buflen == 0) return -1;
            buf[o] = 0;
            return (int)o;
        }
        s = *e ? e + 1 : e;
    }
    return -1;
}
