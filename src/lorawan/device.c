/* LoRaWAN record helpers (see device.h): identifier check, hex conversions, record clear/copy. */
#include "lorawan/device.h"
#include <stdlib.h>
#include <string.h>

int lw_id_valid(const char *id) {
    if (!id) return 0;
    size_t n = strlen(id);
    if (n < 2 || n > LW_ID_MAX) return 0;
    if (id[0] == '-' || id[n - 1] == '-') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return 0;
    }
    return 1;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int lw_hex_parse(const char *hex, uint8_t *out, size_t n) {
    if (!hex || !out || strlen(hex) != 2 * n) return -1;
    for (size_t i = 0; i < n; i++) {
        int a = hexval(hex[2 * i]), b = hexval(hex[2 * i + 1]);
        if (a < 0 || b < 0) return -1;
        out[i] = (uint8_t)(a << 4 | b);
    }
    return 0;
}

void lw_hex_format(const uint8_t *p, size_t n, char *out, int upper) {
    const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = 0;
}

void lw_app_rec_clear(lw_app_rec *a) {
    if (!a) return;
    free(a->fmt_src);
    memset(a, 0, sizeof *a);
}

void lw_dev_rec_clear(lw_dev_rec *d) {
    if (!d) return;
    free(d->fmt_src);
    memset(d, 0, sizeof *d);
}

int lw_dev_rec_copy(lw_dev_rec *dst, const lw_dev_rec *src) {
    if (!dst || !src) return -1;
    if (dst == src) return 0;
    char *s = NULL;
    if (src->fmt_src && !(s = strdup(src->fmt_src))) return -1;
    memcpy(dst, src, sizeof *dst);
    dst->fmt_src = s;
    return 0;
}

void lw_dev_rec_init(lw_dev_rec *d) {
    memset(d, 0, sizeof *d);
    d->otaa = true;
    d->mac_minor = 4;
    memcpy(d->region, "EU868", 6);
    d->dev_class = 'A';
    d->adr = true;
    d->fmt = LW_FMT_INHERIT;
}
