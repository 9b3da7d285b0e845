/* lw_test_hex: the one hex-to-bytes helper of the LoRaWAN tests ("0a1B ff" -> bytes; spaces are
 * ignored). lwt_unhex returns the byte count, or -1 on an odd digit count, a non-hex character or
 * more bytes than `cap`. */
#ifndef TE_TESTS_LW_TEST_HEX_H
#define TE_TESTS_LW_TEST_HEX_H
#include <stddef.h>
#include <stdint.h>

static inline int lwt_hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static inline __attribute__((unused)) int lwt_unhex(const char *s, uint8_t *out, size_t cap) {
    size_t n = 0;
    if (!s) return -1;
    while (*s) {
        if (*s == ' ') { s++; continue; }
        int a = lwt_hexval(s[0]), b = s[1] ? lwt_hexval(s[1]) : -1;
        if (a < 0 || b < 0 || n >= cap) return -1;
        out[n++] = (uint8_t)(a * 16 + b);
        s += 2;
    }
    return (int)n;
}
#endif
