/* Payload formatters as The Things Stack v3 runs them: none, Cayenne LPP (lpp.h) or JavaScript.
 * JavaScript runs in Duktape inside a sandbox worker process (Debian's Duktape is built without an
 * execution-timeout hook, so a script that loops forever can only be stopped by killing its
 * process): the worker is forked on the first JavaScript call, gets requests over a socketpair
 * (one write + one read per call), keeps compiled scripts cached by the source's SHA-256 (LRU,
 * max_scripts; one Duktape heap per script, so globals a script sets survive between its calls,
 * unlike TTS), runs each call under a memory limit (counting allocator) and the caller's time
 * limit; on timeout the worker is SIGKILLed and reaped, on crash reaped, and the next call forks a
 * new one; the call reports an error. Results are never partial. Not thread-safe: one engine per
 * thread (the server uses it from its event loop thread); each call blocks at most timeout_ms
 * (+ the fork on the first call). docs/lorawan-formatters.md is the user's guide.
 *
 * Script API, exactly as TTS:
 *   function decodeUplink(input)   input {bytes:[..], fPort:n, recvTime: Date}
 *                                  -> {data:{...}, warnings:[...], errors:[...]}
 *   function encodeDownlink(input) input {data:{...}, fPort:n} -> {bytes:[..], fPort:n, warnings, errors}
 *   function decodeDownlink(input) input {bytes:[..], fPort:n} -> {data, warnings, errors}
 *   legacy (TTN v2): function Decoder(bytes, port) -> object; function Encoder(object, port) -> bytes
 * Validation as TTS: `data` must be an object, bytes integers 0..255 (at most 242), fPort 1..223;
 * errors:[...] non-empty means the call failed with those messages; data is serialized with
 * JSON.stringify in the sandbox (NaN/Infinity rejected, at most 64 KiB of JSON).
 *
 * Contract (ints: 0 ok, or LW_FMT_ERR_* with out->error set to a one-line message):
 *   lw_fmt_engine_new(lim,err,n)           start the engine (forks the JS worker lazily on first use)
 *   lw_fmt_engine_free(e)                  stop the worker
 *   lw_fmt_decode_uplink(e,kind,src,fport,bytes,n,recv_ms,out)   decoded_payload JSON object text
 *   lw_fmt_encode_downlink(e,kind,src,data_json,fport_in,out)    bytes + fport: the script's fPort,
 *                                          else fport_in, else 1; LPP: {"value_<ch>": n} as TTS
 *   lw_fmt_decode_downlink(e,kind,src,fport,bytes,n,out)    data JSON (LPP: {"value_<ch>": n})
 *   lw_fmt_result_clear(out)               free what a call allocated (each call overwrites *out
 *                                          without freeing it: clear between calls)
 *   lw_fmt_limits_default(l)               100 ms, 16 MiB, 256 scripts, 256 KiB of source
 *   lw_fmt_stats_get(e)                    counters (calls, errors, timeouts, ...)
 * kind LW_FMT_NONE: decode returns LW_FMT_ERR_NONE_SET (no decoded_payload), encode fails.
 * Counters for /metrics: lw_fmt_stats_get(e). lw_fmt_engine_new returns NULL (err set) on absurd
 * limits (timeout 0, memory < 256 KiB, ...); lim NULL means the defaults. */
#ifndef TE_LORAWAN_FORMATTER_H
#define TE_LORAWAN_FORMATTER_H
#include "lorawan/device.h"
#include <stddef.h>
#include <stdint.h>

enum {
    LW_FMT_ERR_NONE_SET = -1, /* formatter kind is none: nothing to do (not an error to report) */
    LW_FMT_ERR_SCRIPT = -2,   /* compile error, exception, or the script's errors[] */
    LW_FMT_ERR_OUTPUT = -3,   /* the script returned something of the wrong shape */
    LW_FMT_ERR_TIMEOUT = -4,  /* time limit exceeded (worker killed and respawned) */
    LW_FMT_ERR_MEMORY = -5,   /* memory limit exceeded */
    LW_FMT_ERR_WORKER = -6,   /* the sandbox could not be started / crashed */
    LW_FMT_ERR_INPUT = -7,    /* bad input (payload does not decode as LPP, bad JSON for encode) */
};

typedef struct lw_fmt_limits {
    uint32_t timeout_ms;     /* per call (100) */
    uint32_t memory_bytes;   /* Duktape heap per script (16 MiB) */
    uint32_t max_scripts;    /* compiled scripts cached in the worker (256) */
    uint32_t max_src_bytes;  /* largest accepted script (256 KiB, TTS's limit is 40 KiB+) */
} lw_fmt_limits;

typedef struct lw_fmt_result {
    char *json;          /* decode: the data object as JSON text (malloc'ed), else NULL */
    uint8_t bytes[256];  /* encode: FRMPayload */
    size_t n_bytes;
    uint8_t fport;       /* encode: FPort chosen (input or script) */
    char *warnings_json; /* JSON array text of warnings, or NULL when none */
    char error[256];     /* on failure: one line, e.g. "Error: boom (line 3)" or "timeout after 100 ms" */
} lw_fmt_result;

typedef struct lw_fmt_stats {
    uint64_t calls, errors, timeouts, memory_errors, worker_restarts, compiles;
} lw_fmt_stats;

typedef struct lw_fmt_engine lw_fmt_engine;

void lw_fmt_limits_default(lw_fmt_limits *l);
lw_fmt_engine *lw_fmt_engine_new(const lw_fmt_limits *lim, char *err, size_t errlen);
void lw_fmt_engine_free(lw_fmt_engine *e);
int lw_fmt_decode_uplink(lw_fmt_engine *e, lw_fmt_kind kind, const char *src, uint8_t fport, const uint8_t *bytes,
                         size_t n, int64_t recv_ms, lw_fmt_result *out);
int lw_fmt_encode_downlink(lw_fmt_engine *e, lw_fmt_kind kind, const char *src, const char *data_json,
                           uint8_t fport_in, lw_fmt_result *out);
int lw_fmt_decode_downlink(lw_fmt_engine *e, lw_fmt_kind kind, const char *src, uint8_t fport,
                           const uint8_t *bytes, size_t n, lw_fmt_result *out);
void lw_fmt_result_clear(lw_fmt_result *out);
const lw_fmt_stats *lw_fmt_stats_get(const lw_fmt_engine *e);
#endif
