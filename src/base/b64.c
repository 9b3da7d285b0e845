/* b64: strict base64 encode/decode (see b64.h). */
#include "base/b64.h"

static int val(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

size_t b64_encode(const uint8_t *p, size_t n, char *out) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = 0;
    return o;
}

long b64_decode(const char *s, size_t n, uint8_t *out, size_t cap, unsigned flags) {
    if ((flags & B64_PADDED) && n % 4) return -1;
    size_t m = n;
    if (n % 4 == 0 && n && s[n - 1] == '=') {
        m--;
        if (s[m - 1] == '=') m--;
    }
    if (m % 4 == 1) return -1;
    size_t olen = m / 4 * 3 + (m % 4 ? m % 4 - 1 : 0);
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < m; i++) {
        int v = val((unsigned char)s[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o < cap) out[o] = (uint8_t)(acc >> bits);
            o++;
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) return -1; /* non-canonical trailing bits */
    if (olen > cap) return -2;
    return (long)o;
}
