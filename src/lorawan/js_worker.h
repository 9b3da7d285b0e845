/* Internal to the payload formatter engine (formatter.c): the JavaScript sandbox worker's wire
 * protocol and its main loop. The parent forks a process that runs jsw_main on one end of a
 * socketpair; each request and each response is one length-prefixed frame (native byte order, both
 * ends are the same binary).
 *
 * On start the worker sends one byte, JSW_READY, so that its start-up is not charged to a call.
 * Request  = u32 len | u8 op | u8 fport | u8 has_src | u8 0 | hash[32] | i64 recv_ms |
 *            u32 n_in | in[n_in] (payload bytes, or the data JSON for encode) | u32 n_src | src[n_src]
 * Response = u32 len | i32 rc | u8 fport | u8 compiled | u8 0 | u8 0 |
 *            u32 n_out | out (data JSON, or FRMPayload for encode) | u32 n_warn | warnings JSON |
 *            u32 n_err | error text
 * rc is 0, a LW_FMT_ERR_* code, or JSW_NEED_SRC (script not cached: resend with the source).
 *
 * Contract:
 *   jsw_main(fd,lim)   serve requests on fd until it closes, then _exit(0); never returns */
#ifndef TE_LORAWAN_JS_WORKER_H
#define TE_LORAWAN_JS_WORKER_H
#include "lorawan/formatter.h"
#include <stddef.h>
#include <stdint.h>

#define JSW_OP_DECODE_UPLINK 1
#define JSW_OP_ENCODE_DOWNLINK 2
#define JSW_OP_DECODE_DOWNLINK 3

#define JSW_NEED_SRC 1
#define JSW_READY 'R'
#define JSW_START_MS 2000 /* how long the parent waits for JSW_READY */

#define JSW_HASH_LEN 32
#define JSW_REQ_FIXED 48                      /* request bytes before in[] (after the length) */
#define JSW_RESP_FIXED 8                      /* response bytes before n_out (after the length) */
#define JSW_MAX_IN (64u * 1024u)              /* payload or data JSON */
#define JSW_MAX_DATA_JSON (64u * 1024u)       /* decoded data JSON text */
#define JSW_MAX_WARN_JSON (16u * 1024u)       /* warnings JSON text */
#define JSW_MAX_ERR 255u                      /* error text */
#define JSW_MAX_BYTES 242u                    /* encoded FRMPayload (LoRaWAN maximum) */
#define JSW_MAX_RESP (JSW_RESP_FIXED + 12u + JSW_MAX_DATA_JSON + JSW_MAX_WARN_JSON + JSW_MAX_ERR)

__attribute__((noreturn)) void jsw_main(int fd, const lw_fmt_limits *lim);
#endif
