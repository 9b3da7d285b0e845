/* mqtt/topic: UTF-8 validation, topic name/filter rules, matching, $share parsing (see topic.h). */
#include "mqtt/topic.h"
#include <string.h>

#define TOPIC_HI 0x8080808080808080ull
#define TOPIC_LO 0x0101010101010101ull

bool mqtt_utf8_valid(const uint8_t *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8) { /* fast path: 8 ASCII bytes, none of them NUL */
            uint64_t v;
            memcpy(&v, p + i, 8);
            if (((v & TOPIC_HI) | ((v - TOPIC_LO) & ~v & TOPIC_HI)) == 0) { i += 8; continue; }
        }
        uint8_t c = p[i];
        if (c < 0x80) {
            if (c == 0) return false;
            i++;
            continue;
        }
        uint32_t cp;
        size_t need;
        if (c >= 0xC2 && c <= 0xDF) { need = 1; cp = c & 0x1Fu; }
        else if (c >= 0xE0 && c <= 0xEF) { need = 2; cp = c & 0x0Fu; }
        else if (c >= 0xF0 && c <= 0xF4) { need = 3; cp = c & 0x07u; }
        else return false; /* continuation byte, overlong lead C0/C1, or F5..FF */
        if (n - i - 1 < need) return false;
        for (size_t k = 1; k <= need; k++) {
            uint8_t b = p[i + k];
            if ((b & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (b & 0x3Fu);
        }
        if (need == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return false;
        if (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) return false;
        i += need + 1;
    }
    return true;
}

int mqtt_topic_name_valid(const uint8_t *p, size_t n) {
    if (n == 0 || n > 65535) return 0;
    if (memchr(p, '+', n) || memchr(p, '#', n)) return 0;
    return mqtt_utf8_valid(p, n) ? 1 : 0;
}

int mqtt_topic_filter_valid(const uint8_t *p, size_t n) {
    if (n == 0 || n > 65535) return 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '#') {
            if (i != n - 1 || (i > 0 && p[i - 1] != '/')) return 0;
        } else if (p[i] == '+') {
            if ((i > 0 && p[i - 1] != '/') || (i + 1 < n && p[i + 1] != '/')) return 0;
        }
    }
    return mqtt_utf8_valid(p, n) ? 1 : 0;
}

bool mqtt_topic_match(const uint8_t *f, size_t flen, const uint8_t *t, size_t tlen) {
    if (flen && tlen && t[0] == '$' && (f[0] == '+' || f[0] == '#')) return false;
    size_t fi = 0, ti = 0;
    while (fi < flen) {
        if (f[fi] == '#') return true;
        if (f[fi] == '+') {
            while (ti < tlen && t[ti] != '/') ti++;
            fi++;
        } else {
            while (fi < flen && f[fi] != '/') {
                if (ti >= tlen || t[ti] != f[fi]) return false;
                fi++;
                ti++;
            }
            if (ti < tlen && t[ti] != '/') return false;
        }
        /* both at the end of a level: '/' or end of string */
        if (fi == flen) return ti == tlen;
        if (ti == tlen) return flen - fi == 2 && f[fi + 1] == '#'; /* "a/#" matches "a" */
        fi++;
        ti++;
    }
    return ti == tlen;
}

int mqtt_share_parse(const uint8_t *p, size_t n, mqtt_bytes *group, mqtt_bytes *filter) {
    static const char prefix[] = "$share/";
    const size_t plen = sizeof prefix - 1;
    if (n < plen || memcmp(p, prefix, plen) != 0) return 0;
    const uint8_t *g = p + plen;
    size_t rest = n - plen;
    const uint8_t *slash = memchr(g, '/', rest);
    if (!slash) return -1;
    size_t glen = (size_t)(slash - g);
    if (glen == 0 || memchr(g, '+', glen) || memchr(g, '#', glen)) return -1;
    size_t flen = rest - glen - 1;
    if (flen == 0) return -1;
    if (group) { group->p = g; group->len = (uint32_t)glen; }
    if (filter) { filter->p = slash + 1; filter->len = (uint32_t)flen; }
    return 1;
}
