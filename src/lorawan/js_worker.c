/* The JavaScript sandbox worker of the payload formatter engine (see js_worker.h for the wire
 * protocol). Runs in a forked child: reads one request at a time, keeps one Duktape heap per
 * script (LRU cache keyed by the source's SHA-256, at most max_scripts), each heap allocating
 * through a counting allocator capped at memory_bytes, and answers with the validated result in
 * The Things Stack's semantics. Time limits are enforced by the parent, which kills this process.
 * Always leaves with _exit (no atexit handlers, no sanitizer leak report in the child). */
#include "lorawan/js_worker.h"

#include <duktape.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- counting allocator ---- */

typedef struct {
    size_t used, limit;
    int hit; /* an allocation was refused because of the limit */
} jsw_mem;

#define HDR 16 /* keeps the alignment malloc gives */

static void *mem_alloc(void *ud, duk_size_t size) {
    jsw_mem *m = ud;
    if (size == 0) return NULL;
    if (size > m->limit || m->used > m->limit - size) {
        m->hit = 1;
        return NULL;
    }
    unsigned char *p = malloc(size + HDR);
    if (!p) return NULL;
    memcpy(p, &size, sizeof size);
    m->used += size;
    return p + HDR;
}

static void mem_free(void *ud, void *ptr) {
    jsw_mem *m = ud;
    if (!ptr) return;
    unsigned char *p = (unsigned char *)ptr - HDR;
    size_t old;
    memcpy(&old, p, sizeof old);
    m->used -= old;
    free(p);
}

static void *mem_realloc(void *ud, void *ptr, duk_size_t size) {
    jsw_mem *m = ud;
    if (!ptr) return mem_alloc(ud, size);
    if (size == 0) {
        mem_free(ud, ptr);
        return NULL;
    }
    unsigned char *p = (unsigned char *)ptr - HDR;
    size_t old;
    memcpy(&old, p, sizeof old);
    if (size > old && (size - old > m->limit || m->used > m->limit - (size - old))) {
        m->hit = 1;
        return NULL;
    }
    unsigned char *q = realloc(p, size + HDR);
    if (!q) return NULL;
    memcpy(q, &size, sizeof size);
    m->used = m->used - old + size;
    return q + HDR;
}

/* ---- script cache ---- */

typedef struct {
    uint8_t hash[JSW_HASH_LEN];
    int used;
    uint64_t last_use;
    duk_context *ctx; /* NULL when the script failed to compile */
    jsw_mem *mem;
    char *compile_err; /* cached compile/top-level error, when ctx is NULL */
} jsw_script;

static int g_fd = -1;
static jsw_script *g_cache;
static size_t g_ncache;
static uint64_t g_tick;
static lw_fmt_limits g_lim;

/* ---- I/O ---- */

static int write_all(const void *p, size_t n) {
    const unsigned char *c = p;
    while (n > 0) {
        ssize_t w = send(g_fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(void *p, size_t n) {
    unsigned char *c = p;
    while (n > 0) {
        ssize_t r = recv(g_fd, c, n, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

typedef struct {
    int32_t rc;
    uint8_t fport, compiled;
    const void *out;
    size_t n_out;
    const char *warn;
    size_t n_warn;
    char err[JSW_MAX_ERR + 1];
} jsw_resp;

static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }

static void send_resp(const jsw_resp *r) {
    size_t n_err = strlen(r->err);
    size_t body = JSW_RESP_FIXED + 12 + r->n_out + r->n_warn + n_err;
    unsigned char *b = malloc(4 + body);
    if (!b) _exit(4);
    unsigned char *p = b;
    put32(p, (uint32_t)body), p += 4;
    memcpy(p, &r->rc, 4), p += 4;
    *p++ = r->fport;
    *p++ = r->compiled;
    *p++ = 0;
    *p++ = 0;
    put32(p, (uint32_t)r->n_out), p += 4;
    if (r->n_out) memcpy(p, r->out, r->n_out), p += r->n_out;
    put32(p, (uint32_t)r->n_warn), p += 4;
    if (r->n_warn) memcpy(p, r->warn, r->n_warn), p += r->n_warn;
    put32(p, (uint32_t)n_err), p += 4;
    memcpy(p, r->err, n_err);
    int rc = write_all(b, 4 + body);
    free(b);
    if (rc != 0) _exit(0); /* the parent is gone */
}

/* one line, at most JSW_MAX_ERR bytes */
static void set_err(jsw_resp *r, int rc, const char *prefix, const char *msg) {
    r->rc = rc;
    snprintf(r->err, sizeof r->err, "%s%s", prefix ? prefix : "", msg ? msg : "");
    for (char *c = r->err; *c; c++)
        if (*c == '\n' || *c == '\r' || *c == '\t') *c = ' ';
}

/* Duktape's fatal handler: errors outside any protected call. Tell the parent, then leave. */
static void on_fatal(void *udata, const char *msg) {
    (void)udata;
    jsw_resp r;
    memset(&r, 0, sizeof r);
    set_err(&r, LW_FMT_ERR_WORKER, "javascript engine fatal error: ", msg);
    send_resp(&r);
    _exit(3);
}

/* The trusted glue, compiled into each heap before the user's script and kept at value stack index
 * 0. It captures the builtins it needs (the script may overwrite globals), calls the script's
 * function as TTS does and validates the result. Returns [rc, out, warningsJSON, fport]:
 * rc 0 ok (out = data JSON text, or the byte array for encode), else out is the error text. */
static const char GLUE[] =
    "(function () {\n"
    "var stringify = JSON.stringify, parse = JSON.parse, isArray = Array.isArray, DateC = Date,\n"
    "    StringC = String, isFin = isFinite, floor = Math.floor;\n"
    "function fmtErr(e) {\n"
    "  var s;\n"
    "  try { s = StringC(e); } catch (x) { s = 'exception'; }\n"
    "  try { if (e !== null && typeof e === 'object' && typeof e.lineNumber === 'number')\n"
    "    s += ' (line ' + e.lineNumber + ')'; } catch (x) {}\n"
    "  return s;\n"
    "}\n"
    "function replacer(k, v) {\n"
    "  if (typeof v === 'number' && !isFin(v))\n"
    "    throw new RangeError(StringC(v) + ' is not a valid JSON number' + (k !== '' ? ' (key \"' + k + '\")' : ''));\n"
    "  return v;\n"
    "}\n"
    "function isObj(v) { return v !== null && typeof v === 'object' && !isArray(v); }\n"
    "function check(r, name) {\n"
    "  if (!isObj(r)) return [-3, name + ': the result must be an object'];\n"
    "  var e = r.errors;\n"
    "  if (e !== undefined && e !== null) {\n"
    "    if (!isArray(e)) return [-3, name + ': errors must be an array of strings'];\n"
    "    if (e.length > 0) {\n"
    "      var m = [];\n"
    "      for (var i = 0; i < e.length && i < 64; i++) m.push(StringC(e[i]));\n"
    "      return [-2, name + ': errors: ' + m.join(', ')];\n"
    "    }\n"
    "  }\n"
    "  var w = r.warnings;\n"
    "  if (w === undefined || w === null) return '';\n"
    "  if (!isArray(w)) return [-3, name + ': warnings must be an array of strings'];\n"
    "  for (var j = 0; j < w.length; j++)\n"
    "    if (typeof w[j] !== 'string') return [-3, name + ': warnings[' + j + '] is not a string'];\n"
    "  return w.length ? stringify(w) : '';\n"
    "}\n"
    "return function (op, bytes, fPort, recvMs, dataJson) {\n"
    "  var r, name;\n"
    "  if (op === 1 || op === 3) {\n"
    "    if (op === 1 && typeof decodeUplink === 'function') {\n"
    "      name = 'decodeUplink';\n"
    "      try { r = decodeUplink({ bytes: bytes, fPort: fPort, recvTime: new DateC(recvMs) }); }\n"
    "      catch (e) { return [-2, name + ': ' + fmtErr(e)]; }\n"
    "    } else if (op === 1 && typeof Decoder === 'function') {\n"
    "      name = 'Decoder';\n"
    "      try { r = { data: Decoder(bytes, fPort) }; } catch (e) { return [-2, name + ': ' + fmtErr(e)]; }\n"
    "    } else if (op === 3 && typeof decodeDownlink === 'function') {\n"
    "      name = 'decodeDownlink';\n"
    "      try { r = decodeDownlink({ bytes: bytes, fPort: fPort }); }\n"
    "      catch (e) { return [-2, name + ': ' + fmtErr(e)]; }\n"
    "    } else {\n"
    "      return [-2, op === 1 ? 'no decodeUplink or Decoder function' : 'no decodeDownlink function'];\n"
    "    }\n"
    "    var w = check(r, name);\n"
    "    if (typeof w !== 'string') return w;\n"
    "    var d = r.data;\n"
    "    if (d === undefined) return [-3, name + ': no data in the result'];\n"
    "    if (!isObj(d)) return [-3, name + ': data must be an object, not ' + (d === null ? 'null' : isArray(d) ? 'an array' : typeof d)];\n"
    "    var t;\n"
    "    try { t = stringify(d, replacer); } catch (e) { return [-3, name + ': data: ' + fmtErr(e)]; }\n"
    "    if (typeof t !== 'string') return [-3, name + ': data cannot be serialized to JSON'];\n"
    "    return [0, t, w, 0];\n"
    "  }\n"
    "  var data;\n"
    "  try { data = parse(dataJson); } catch (e) { return [-7, 'data: ' + fmtErr(e)]; }\n"
    "  if (!isObj(data)) return [-7, 'data must be a JSON object'];\n"
    "  if (typeof encodeDownlink === 'function') {\n"
    "    name = 'encodeDownlink';\n"
    "    try { r = encodeDownlink({ data: data, fPort: fPort }); } catch (e) { return [-2, name + ': ' + fmtErr(e)]; }\n"
    "  } else if (typeof Encoder === 'function') {\n"
    "    name = 'Encoder';\n"
    "    try { r = { bytes: Encoder(data, fPort) }; } catch (e) { return [-2, name + ': ' + fmtErr(e)]; }\n"
    "  } else {\n"
    "    return [-2, 'no encodeDownlink or Encoder function'];\n"
    "  }\n"
    "  var w2 = check(r, name);\n"
    "  if (typeof w2 !== 'string') return w2;\n"
    "  var b = r.bytes;\n"
    "  if (!isArray(b)) return [-3, name + ': bytes must be an array of integers'];\n"
    "  if (b.length > " "242" ") return [-3, name + ': bytes: ' + b.length + ' bytes, more than 242'];\n"
    "  var out = [];\n"
    "  for (var i = 0; i < b.length; i++) {\n"
    "    var v = b[i];\n"
    "    if (typeof v !== 'number' || v !== floor(v) || v < 0 || v > 255)\n"
    "      return [-3, name + ': bytes[' + i + '] = ' + fmtErr(v) + ' is not an integer in 0..255'];\n"
    "    out.push(v);\n"
    "  }\n"
    "  var fp = r.fPort;\n"
    "  if (fp === undefined || fp === null) fp = fPort;\n"
    "  else if (typeof fp !== 'number' || fp !== floor(fp) || fp < 1 || fp > 223)\n"
    "    return [-3, name + ': fPort ' + fmtErr(fp) + ' is not in 1..223'];\n"
    "  return [0, out, w2, fp];\n"
    "};\n"
    "})()";

static void script_drop(jsw_script *s) {
    if (s->ctx) duk_destroy_heap(s->ctx);
    free(s->mem);
    free(s->compile_err);
    memset(s, 0, sizeof *s);
}

static jsw_script *cache_find(const uint8_t *hash) {
    for (size_t i = 0; i < g_ncache; i++)
        if (g_cache[i].used && memcmp(g_cache[i].hash, hash, JSW_HASH_LEN) == 0) return &g_cache[i];
    return NULL;
}

static jsw_script *cache_slot(void) {
    jsw_script *lru = NULL;
    for (size_t i = 0; i < g_ncache; i++) {
        if (!g_cache[i].used) return &g_cache[i];
        if (!lru || g_cache[i].last_use < lru->last_use) lru = &g_cache[i];
    }
    script_drop(lru);
    return lru;
}

/* Creates the heap, the glue and runs the script's top level. 0 ok (s->ctx set); otherwise fills r
 * (a compile error is also cached in s unless it was caused by the memory limit). */
static int compile(jsw_script *s, const char *src, size_t n, jsw_resp *r) {
    s->mem = calloc(1, sizeof *s->mem);
    if (!s->mem) _exit(4);
    s->mem->limit = g_lim.memory_bytes;
    duk_context *ctx = duk_create_heap(mem_alloc, mem_realloc, mem_free, s->mem, on_fatal);
    if (!ctx) {
        set_err(r, s->mem->hit ? LW_FMT_ERR_MEMORY : LW_FMT_ERR_WORKER, "cannot create a JavaScript heap", "");
        return -1;
    }
    s->ctx = ctx;
    const char *what = NULL;
    if (duk_peval_string(ctx, GLUE) != 0 || !duk_is_function(ctx, -1)) {
        what = "internal glue: ";
    } else {
        duk_push_string(ctx, "formatter.js");
        if (duk_pcompile_lstring_filename(ctx, 0, src, n) != 0)
            what = "compile: ";
        else if (duk_pcall(ctx, 0) != 0)
            what = "script: ";
    }
    if (what) {
        const char *msg = duk_safe_to_string(ctx, -1);
        if (s->mem->hit) {
            set_err(r, LW_FMT_ERR_MEMORY, "memory limit exceeded while loading the script", "");
        } else {
            set_err(r, LW_FMT_ERR_SCRIPT, what, msg);
            s->compile_err = strdup(r->err);
        }
        duk_destroy_heap(ctx);
        s->ctx = NULL;
        return -1;
    }
    duk_pop(ctx);      /* the program's completion value */
    duk_set_top(ctx, 1); /* [glue] */
    return 0;
}

typedef struct {
    uint8_t op, fport, has_src;
    uint8_t hash[JSW_HASH_LEN];
    int64_t recv_ms;
    const unsigned char *in;
    size_t n_in;
    const char *src;
    size_t n_src;
} jsw_req;

static int parse_req(const unsigned char *b, size_t n, jsw_req *q) {
    if (n < JSW_REQ_FIXED + 4) return -1;
    q->op = b[0];
    q->fport = b[1];
    q->has_src = b[2];
    memcpy(q->hash, b + 4, JSW_HASH_LEN);
    memcpy(&q->recv_ms, b + 36, 8);
    uint32_t n_in, n_src;
    memcpy(&n_in, b + 44, 4);
    if (n_in > n - JSW_REQ_FIXED - 4) return -1;
    q->in = b + JSW_REQ_FIXED;
    q->n_in = n_in;
    memcpy(&n_src, b + JSW_REQ_FIXED + n_in, 4);
    if (n_src != n - JSW_REQ_FIXED - 4 - n_in) return -1;
    q->src = (const char *)b + JSW_REQ_FIXED + n_in + 4;
    q->n_src = n_src;
    return 0;
}

static void run(jsw_script *s, const jsw_req *q, jsw_resp *r) {
    duk_context *ctx = s->ctx;
    s->mem->hit = 0;
    duk_set_top(ctx, 1);
    duk_dup(ctx, 0);
    duk_push_int(ctx, q->op);
    if (q->op == JSW_OP_ENCODE_DOWNLINK) {
        duk_push_undefined(ctx);
    } else {
        duk_idx_t a = duk_push_array(ctx);
        for (size_t i = 0; i < q->n_in; i++) {
            duk_push_uint(ctx, q->in[i]);
            duk_put_prop_index(ctx, a, (duk_uarridx_t)i);
        }
    }
    duk_push_uint(ctx, q->fport);
    duk_push_number(ctx, (double)q->recv_ms);
    if (q->op == JSW_OP_ENCODE_DOWNLINK)
        duk_push_lstring(ctx, (const char *)q->in, q->n_in);
    else
        duk_push_undefined(ctx);
    int prc = duk_pcall(ctx, 5);
    if (s->mem->hit) {
        set_err(r, LW_FMT_ERR_MEMORY, "memory limit exceeded", "");
        return;
    }
    if (prc != 0) {
        set_err(r, LW_FMT_ERR_SCRIPT, "", duk_safe_to_string(ctx, -1));
        return;
    }
    if (!duk_is_array(ctx, -1)) {
        set_err(r, LW_FMT_ERR_WORKER, "internal: bad glue result", "");
        return;
    }
    duk_idx_t res = duk_get_top_index(ctx);
    duk_get_prop_index(ctx, res, 0);
    int rc = duk_get_int(ctx, -1);
    duk_pop(ctx);
    duk_get_prop_index(ctx, res, 1);
    if (rc != 0) {
        set_err(r, rc, "", duk_safe_to_string(ctx, -1));
        return;
    }
    static uint8_t bytes[JSW_MAX_BYTES];
    if (q->op == JSW_OP_ENCODE_DOWNLINK) {
        duk_size_t len = duk_get_length(ctx, -1);
        if (len > JSW_MAX_BYTES) {
            set_err(r, LW_FMT_ERR_OUTPUT, "too many bytes", "");
            return;
        }
        for (duk_size_t i = 0; i < len; i++) {
            duk_get_prop_index(ctx, -1, (duk_uarridx_t)i);
            bytes[i] = (uint8_t)duk_get_uint(ctx, -1);
            duk_pop(ctx);
        }
        r->out = bytes;
        r->n_out = len;
    } else {
        duk_size_t len = 0;
        const char *t = duk_get_lstring(ctx, -1, &len);
        if (!t) {
            set_err(r, LW_FMT_ERR_WORKER, "internal: bad glue result", "");
            return;
        }
        if (len > JSW_MAX_DATA_JSON) {
            char m[80];
            snprintf(m, sizeof m, "data is %zu bytes of JSON, more than %u", (size_t)len, JSW_MAX_DATA_JSON);
            set_err(r, LW_FMT_ERR_OUTPUT, "", m);
            return;
        }
        r->out = t; /* stays on the value stack until the response is sent */
        r->n_out = len;
    }
    duk_get_prop_index(ctx, res, 2);
    duk_size_t wl = 0;
    const char *w = duk_get_lstring(ctx, -1, &wl);
    if (w && wl > JSW_MAX_WARN_JSON) {
        set_err(r, LW_FMT_ERR_OUTPUT, "warnings are too long", "");
        r->out = NULL;
        r->n_out = 0;
        return;
    }
    r->warn = w;
    r->n_warn = w ? wl : 0;
    duk_get_prop_index(ctx, res, 3);
    r->fport = (uint8_t)duk_get_uint(ctx, -1);
    r->rc = 0;
}

static void serve(const unsigned char *b, size_t n) {
    jsw_req q;
    jsw_resp r;
    memset(&r, 0, sizeof r);
    if (parse_req(b, n, &q) != 0 || q.op < JSW_OP_DECODE_UPLINK || q.op > JSW_OP_DECODE_DOWNLINK) {
        set_err(&r, LW_FMT_ERR_WORKER, "malformed request", "");
        send_resp(&r);
        return;
    }
    jsw_script *s = cache_find(q.hash);
    if (!s) {
        if (!q.has_src) {
            r.rc = JSW_NEED_SRC;
            send_resp(&r);
            return;
        }
        s = cache_slot();
        memcpy(s->hash, q.hash, JSW_HASH_LEN);
        s->used = 1;
        s->last_use = ++g_tick;
        r.compiled = 1;
        if (compile(s, q.src, q.n_src, &r) != 0) {
            if (!s->compile_err) script_drop(s); /* memory: do not cache */
            send_resp(&r);
            return;
        }
    }
    s->last_use = ++g_tick;
    if (!s->ctx) {
        set_err(&r, LW_FMT_ERR_SCRIPT, "", s->compile_err);
        send_resp(&r);
        return;
    }
    run(s, &q, &r);
    send_resp(&r);
    if (r.rc == LW_FMT_ERR_MEMORY) script_drop(s); /* its globals may hold the garbage */
    else if (s->ctx) duk_set_top(s->ctx, 1);
}

void jsw_main(int fd, const lw_fmt_limits *lim) {
    g_fd = fd;
    g_lim = *lim;
    g_ncache = lim->max_scripts ? lim->max_scripts : 1;
    g_cache = calloc(g_ncache, sizeof *g_cache);
    if (!g_cache) _exit(4);
    static const char ready = JSW_READY;
    if (write_all(&ready, 1) != 0) _exit(0);
    size_t cap = 0;
    unsigned char *buf = NULL;
    for (;;) {
        uint32_t len;
        if (read_all(&len, 4) != 0) _exit(0);
        if (len > JSW_REQ_FIXED + 8 + JSW_MAX_IN + lim->max_src_bytes) _exit(5);
        if (len > cap) {
            unsigned char *nb = realloc(buf, len);
            if (!nb) _exit(4);
            buf = nb;
            cap = len;
        }
        if (read_all(buf, len) != 0) _exit(0);
        serve(buf, len);
    }
}
