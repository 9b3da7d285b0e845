/* buf: a growable byte buffer, the one container the codecs write into.
 *   buf_init(b)               empty buffer, no allocation
 *   buf_reserve(b, n)         ensure n more bytes fit; 0 or -1 (out of memory)
 *   buf_append(b, p, n)       copy bytes at the end
 *   buf_put_u8/u16/u32        big-endian integers at the end
 *   buf_consume(b, n)         drop n bytes from the front
 *   buf_free(b)               release memory */
#ifndef TE_BASE_BUF_H
#define TE_BASE_BUF_H
#include <stddef.h>
#include <stdint.h>

typedef struct buf {
    uint8_t *data;
    size_t len, cap;
} buf_t;

void buf_init(buf_t *b);
void buf_free(buf_t *b);
int buf_reserve(buf_t *b, size_t extra);
int buf_append(buf_t *b, const void *p, size_t n);
int buf_put_u8(buf_t *b, uint8_t v);
int buf_put_u16(buf_t *b, uint16_t v);
int buf_put_u32(buf_t *b, uint32_t v);
void buf_consume(buf_t *b, size_t n);
static inline void buf_reset(buf_t *b) { b->len = 0; }
#endif
