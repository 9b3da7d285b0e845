/* b64: standard-alphabet base64 (RFC 4648 section 4), the one implementation every protocol uses
 * (gateway JSON, The Things Stack's frm_payload, mosquitto password hashes). Decoding is strict:
 * only the standard alphabet, '=' only as final padding, zero trailing bits.
 *   B64_LEN(n)                      encoded length of n bytes (without NUL)
 *   b64_encode(p,n,out)             encode with padding into out (B64_LEN(n)+1 bytes, NUL added);
 *                                   returns the length
 *   b64_decode(s,n,out,cap,flags)   decoded length, -1 if s is not valid base64, -2 if valid but
 *                                   longer than cap; flags B64_PADDED: padding is required (length
 *                                   a multiple of 4), else optional */
#ifndef TE_BASE_B64_H
#define TE_BASE_B64_H
#include <stddef.h>
#include <stdint.h>
#define B64_LEN(n) (((n) + 2) / 3 * 4)
#define B64_PADDED 1u
size_t b64_encode(const uint8_t *p, size_t n, char *out);
long b64_decode(const char *s, size_t n, uint8_t *out, size_t cap, unsigned flags);
#endif
