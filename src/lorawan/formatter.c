/* Payload formatter engine (see formatter.h): none, Cayenne LPP through lpp.h, and JavaScript
 * through a sandbox worker process (js_worker.c) forked lazily on the first JavaScript call. Each
 * JavaScript call is one framed write and one framed read on a non-blocking socketpair, bounded by
 * the caller's time limit with poll(); on timeout the worker is SIGKILLed and reaped, and the next
 * call forks a new one. Anything malformed coming back from the worker is LW_FMT_ERR_WORKER. */
#include "lorawan/formatter.h"

#include "lorawan/js_worker.h"
#include "lorawan/lpp.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_FPORT 1 /* encode: neither the request nor the script chose one */

/* scripts that keep timing out are benched for a while: each timeout costs the caller (the event
 * loop) the whole time limit, so a formatter stuck in a loop would otherwise slow every uplink */
#define FMT_BENCH_SLOTS 16
#define FMT_BENCH_AFTER 3        /* consecutive timeouts */
#define FMT_BENCH_MS 60000       /* benched for a minute, then tried again */
typedef struct fmt_bench {
    uint8_t hash[SHA256_DIGEST_LENGTH];
    uint32_t timeouts;
    int64_t until_ms;
    bool used;
} fmt_bench;

struct lw_fmt_engine {
    fmt_bench bench[FMT_BENCH_SLOTS];
    lw_fmt_limits lim;
    pid_t pid; /* worker, or -1 */
    int fd;    /* our end of the socketpair, or -1 */
    uint64_t spawns;
    lw_fmt_stats st;
    unsigned char *buf; /* request / response scratch */
    size_t cap;
};

void lw_fmt_limits_default(lw_fmt_limits *l) {
    l->timeout_ms = 100;
    l->memory_bytes = 16u * 1024u * 1024u;
    l->max_scripts = 256;
    l->max_src_bytes = 256u * 1024u;
}

lw_fmt_engine *lw_fmt_engine_new(const lw_fmt_limits *lim, char *err, size_t errlen) {
    lw_fmt_limits l;
    if (lim)
        l = *lim;
    else
        lw_fmt_limits_default(&l);
    const char *bad = NULL;
    if (l.timeout_ms == 0 || l.timeout_ms > 60000)
        bad = "timeout_ms must be 1..60000";
    else if (l.memory_bytes < 256u * 1024u)
        bad = "memory_bytes must be at least 256 KiB";
    else if (l.max_scripts == 0 || l.max_scripts > 65536)
        bad = "max_scripts must be 1..65536";
    else if (l.max_src_bytes == 0 || l.max_src_bytes > 16u * 1024u * 1024u)
        bad = "max_src_bytes must be 1..16 MiB";
    if (bad) {
        if (err && errlen) snprintf(err, errlen, "formatter limits: %s", bad);
        return NULL;
    }
    lw_fmt_engine *e = calloc(1, sizeof *e);
    if (!e) {
        if (err && errlen) snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->lim = l;
    e->pid = -1;
    e->fd = -1;
    return e;
}

static void worker_stop(lw_fmt_engine *e) {
    if (e->fd >= 0) close(e->fd);
    e->fd = -1;
    if (e->pid > 0) {
        kill(e->pid, SIGKILL);
        while (waitpid(e->pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    e->pid = -1;
}

void lw_fmt_engine_free(lw_fmt_engine *e) {
    if (!e) return;
    worker_stop(e);
    free(e->buf);
    free(e);
}

const lw_fmt_stats *lw_fmt_stats_get(const lw_fmt_engine *e) { return &e->st; }

void lw_fmt_result_clear(lw_fmt_result *out) {
    if (!out) return;
    free(out->json);
    free(out->warnings_json);
    memset(out, 0, sizeof *out);
}

static int fail(lw_fmt_engine *e, lw_fmt_result *out, int rc, const char *fmt, const char *arg) {
    e->st.errors++;
    if (rc == LW_FMT_ERR_TIMEOUT) e->st.timeouts++;
    if (rc == LW_FMT_ERR_MEMORY) e->st.memory_errors++;
    free(out->json);
    free(out->warnings_json);
    out->json = out->warnings_json = NULL;
    out->n_bytes = 0;
    out->fport = 0;
    snprintf(out->error, sizeof out->error, fmt, arg ? arg : "");
    for (char *c = out->error; *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' ';
    return rc;
}

/* ---- Cayenne LPP ---- */

static int lpp_decode(lw_fmt_engine *e, int down, const uint8_t *bytes, size_t n, lw_fmt_result *out) {
    char err[160] = "";
    size_t cap = 1024, len = 0;
    for (int tries = 0; tries < 2; tries++) {
        char *buf = malloc(cap + 1);
        if (!buf) return fail(e, out, LW_FMT_ERR_WORKER, "out of memory", NULL);
        int rc = down ? lw_lpp_decode_downlink_json(bytes, n, buf, cap + 1, &len, err, sizeof err)
                      : lw_lpp_decode_json(bytes, n, buf, cap + 1, &len, err, sizeof err);
        if (rc == 0) {
            out->json = buf;
            return 0;
        }
        free(buf);
        if (rc != LW_LPP_ERR_NOSPACE || len <= cap) return fail(e, out, LW_FMT_ERR_INPUT, "cayennelpp: %s", err);
        cap = len;
    }
    return fail(e, out, LW_FMT_ERR_INPUT, "cayennelpp: output does not fit", NULL);
}

/* TTS's CayenneLPP downlink encoder: {"value_<ch>": number, ...} -> [ch][int16 v*100]... in channel order */
static int lpp_encode(lw_fmt_engine *e, const char *data_json, uint8_t fport_in, lw_fmt_result *out) {
    json_error_t jerr;
    json_t *root = json_loads(data_json, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) return fail(e, out, LW_FMT_ERR_INPUT, "data: invalid JSON: %s", jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return fail(e, out, LW_FMT_ERR_INPUT, "data must be a JSON object", NULL);
    }
    static const char prefix[] = "value_";
    double val[256];
    uint8_t have[256];
    memset(have, 0, sizeof have);
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        char m[200];
        unsigned ch = 0;
        const char *d = key + sizeof prefix - 1;
        size_t nd = strncmp(key, prefix, sizeof prefix - 1) == 0 ? strlen(d) : 0;
        int ok = nd >= 1 && nd <= 3;
        for (size_t i = 0; ok && i < nd; i++) {
            if (d[i] < '0' || d[i] > '9') ok = 0;
            ch = ch * 10 + (unsigned)(d[i] - '0');
        }
        if (!ok || ch > 254) {
            snprintf(m, sizeof m, "%.120s", key);
            json_decref(root);
            return fail(e, out, LW_FMT_ERR_INPUT, "cayennelpp: unsupported key \"%s\" (want value_<channel 0..254>)", m);
        }
        if (!json_is_number(v)) {
            snprintf(m, sizeof m, "%.120s", key);
            json_decref(root);
            return fail(e, out, LW_FMT_ERR_INPUT, "cayennelpp: %s is not a number", m);
        }
        if (have[ch]) {
            snprintf(m, sizeof m, "%u", ch);
            json_decref(root);
            return fail(e, out, LW_FMT_ERR_INPUT, "cayennelpp: channel %s given twice", m);
        }
        have[ch] = 1;
        val[ch] = json_number_value(v);
    }
    json_decref(root);
    lw_lpp_writer w;
    lw_lpp_writer_init(&w, out->bytes, JSW_MAX_BYTES);
    for (unsigned ch = 0; ch < 255; ch++) {
        if (!have[ch]) continue;
        int rc = lw_lpp_add_value(&w, (uint8_t)ch, val[ch]);
        if (rc != 0) {
            char m[64];
            snprintf(m, sizeof m, "%u", ch);
            return fail(e, out, LW_FMT_ERR_INPUT,
                        rc == LW_LPP_ERR_NOSPACE ? "cayennelpp: payload longer than 242 bytes at value_%s"
                                                 : "cayennelpp: value_%s out of range -327.68..327.67",
                        m);
        }
    }
    out->n_bytes = w.len;
    out->fport = fport_in ? fport_in : DEFAULT_FPORT;
    return 0;
}

/* ---- JavaScript through the worker ---- */

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int recv_all(int fd, unsigned char *p, size_t n, int64_t deadline);

static int worker_start(lw_fmt_engine *e) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        close(sv[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(0);
        /* the parent's handlers (libuv's signal pipe) must not run here */
        static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGALRM, SIGWINCH};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
        signal(SIGPIPE, SIG_IGN);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* drop every inherited descriptor (client sockets, listeners, files): a socket the parent
         * closes must really close, not live on in the worker */
        int keep = sv[1];
        if (keep > 3) close_range(3, (unsigned)keep - 1, 0);
        close_range((unsigned)keep + 1, ~0u, 0);
        jsw_main(sv[1], &e->lim);
    }
    close(sv[1]);
    int fl = fcntl(sv[0], F_GETFL);
    if (fl < 0 || fcntl(sv[0], F_SETFL, fl | O_NONBLOCK) < 0) {
        close(sv[0]);
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        return -1;
    }
    e->fd = sv[0];
    e->pid = pid;
    if (e->spawns++ > 0) e->st.worker_restarts++;
    unsigned char ready = 0;
    if (recv_all(e->fd, &ready, 1, now_ms() + JSW_START_MS) != 0 || ready != JSW_READY) {
        worker_stop(e);
        errno = EPROTO;
        return -1;
    }
    return 0;
}

enum { IO_OK = 0, IO_TIMEOUT = -1, IO_BROKEN = -2 };

static int wait_fd(int fd, short ev, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) return IO_TIMEOUT;
        struct pollfd p = {.fd = fd, .events = ev};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return IO_BROKEN;
        if (r == 0) return IO_TIMEOUT;
        if (p.revents & ev) return IO_OK;
        return IO_BROKEN; /* POLLHUP / POLLERR without data */
    }
}

static int send_all(int fd, const unsigned char *p, size_t n, int64_t deadline) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = wait_fd(fd, POLLOUT, deadline);
            if (r != IO_OK) return r;
            continue;
        }
        return IO_BROKEN;
    }
    return IO_OK;
}

static int recv_all(int fd, unsigned char *p, size_t n, int64_t deadline) {
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r > 0) {
            p += r;
            n -= (size_t)r;
            continue;
        }
        if (r == 0) return IO_BROKEN;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int w = wait_fd(fd, POLLIN, deadline);
            if (w != IO_OK) return w;
            continue;
        }
        return IO_BROKEN;
    }
    return IO_OK;
}

static int reserve(lw_fmt_engine *e, size_t n) {
    if (n <= e->cap) return 0;
    unsigned char *b = realloc(e->buf, n);
    if (!b) return -1;
    e->buf = b;
    e->cap = n;
    return 0;
}

static uint32_t get32(const unsigned char *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

typedef struct {
    uint8_t op, fport;
    const uint8_t *hash;
    int64_t recv_ms;
    const void *in;
    size_t n_in;
    const char *src;
    size_t n_src;
    int with_src; /* send the source (the worker asked for it) */
} js_req;

/* One request/response exchange. Returns the worker's rc (0, LW_FMT_ERR_*, JSW_NEED_SRC) with out
 * filled, or an engine-side failure (already counted and formatted through fail()). */
static int exchange(lw_fmt_engine *e, const js_req *q, int64_t deadline, lw_fmt_result *out, int *compiled) {
    size_t n_src = q->with_src ? q->n_src : 0;
    size_t body = JSW_REQ_FIXED + 4 + q->n_in + n_src;
    if (reserve(e, 4 + (body > JSW_MAX_RESP ? body : JSW_MAX_RESP)) != 0)
        return fail(e, out, LW_FMT_ERR_WORKER, "out of memory", NULL);
    unsigned char *b = e->buf;
    uint32_t v32 = (uint32_t)body;
    memcpy(b, &v32, 4);
    b[4] = q->op;
    b[5] = q->fport;
    b[6] = q->with_src ? 1 : 0;
    b[7] = 0;
    memcpy(b + 8, q->hash, JSW_HASH_LEN);
    memcpy(b + 40, &q->recv_ms, 8);
    v32 = (uint32_t)q->n_in;
    memcpy(b + 48, &v32, 4);
    if (q->n_in) memcpy(b + 4 + JSW_REQ_FIXED, q->in, q->n_in);
    v32 = (uint32_t)n_src;
    memcpy(b + 4 + JSW_REQ_FIXED + q->n_in, &v32, 4);
    if (n_src) memcpy(b + 4 + JSW_REQ_FIXED + q->n_in + 4, q->src, n_src);

    int io = send_all(e->fd, b, 4 + body, deadline);
    if (io == IO_OK) io = recv_all(e->fd, b, 4, deadline);
    uint32_t len = 0;
    if (io == IO_OK) {
        len = get32(b);
        if (len < JSW_RESP_FIXED + 12 || len > JSW_MAX_RESP) io = IO_BROKEN;
    }
    if (io == IO_OK) io = recv_all(e->fd, b, len, deadline);
    if (io != IO_OK) {
        worker_stop(e);
        if (io == IO_TIMEOUT) {
            char m[32];
            snprintf(m, sizeof m, "%u", (unsigned)e->lim.timeout_ms);
            return fail(e, out, LW_FMT_ERR_TIMEOUT, "timeout after %s ms", m);
        }
        return fail(e, out, LW_FMT_ERR_WORKER, "javascript worker died", NULL);
    }
    /* validate the frame: three length-prefixed parts filling it exactly */
    int32_t rc;
    memcpy(&rc, b, 4);
    uint8_t fport = b[4];
    *compiled = b[5] == 1;
    size_t off = JSW_RESP_FIXED, part_off[3], part_len[3];
    for (int i = 0; i < 3; i++) {
        if (len - off < 4) goto garbage;
        uint32_t pl = get32(b + off);
        off += 4;
        if (pl > len - off) goto garbage;
        part_off[i] = off;
        part_len[i] = pl;
        off += pl;
    }
    if (off != len || part_len[2] > JSW_MAX_ERR || part_len[1] > JSW_MAX_WARN_JSON) goto garbage;
    if (rc == JSW_NEED_SRC) return rc;
    if (rc == LW_FMT_ERR_WORKER) {
        /* the worker reports a fatal error and exits */
        char m[JSW_MAX_ERR + 1];
        memcpy(m, b + part_off[2], part_len[2]);
        m[part_len[2]] = 0;
        worker_stop(e);
        return fail(e, out, LW_FMT_ERR_WORKER, "%s", m[0] ? m : "javascript worker failed");
    }
    if (rc == LW_FMT_ERR_SCRIPT || rc == LW_FMT_ERR_OUTPUT || rc == LW_FMT_ERR_MEMORY || rc == LW_FMT_ERR_INPUT) {
        char m[JSW_MAX_ERR + 1];
        memcpy(m, b + part_off[2], part_len[2]);
        m[part_len[2]] = 0;
        if (!m[0]) snprintf(m, sizeof m, "javascript error %d", (int)rc);
        return fail(e, out, rc, "%s", m);
    }
    if (rc != 0) goto garbage;
    if (q->op == JSW_OP_ENCODE_DOWNLINK) {
        if (part_len[0] > JSW_MAX_BYTES) goto garbage;
        memcpy(out->bytes, b + part_off[0], part_len[0]);
        out->n_bytes = part_len[0];
        out->fport = fport;
    } else {
        if (part_len[0] < 2 || part_len[0] > JSW_MAX_DATA_JSON || b[part_off[0]] != '{' ||
            memchr(b + part_off[0], 0, part_len[0]))
            goto garbage;
        out->json = malloc(part_len[0] + 1);
        if (!out->json) return fail(e, out, LW_FMT_ERR_WORKER, "out of memory", NULL);
        memcpy(out->json, b + part_off[0], part_len[0]);
        out->json[part_len[0]] = 0;
    }
    if (part_len[1] > 0) {
        if (b[part_off[1]] != '[' || memchr(b + part_off[1], 0, part_len[1])) goto garbage;
        out->warnings_json = malloc(part_len[1] + 1);
        if (!out->warnings_json) return fail(e, out, LW_FMT_ERR_WORKER, "out of memory", NULL);
        memcpy(out->warnings_json, b + part_off[1], part_len[1]);
        out->warnings_json[part_len[1]] = 0;
    }
    return 0;
garbage:
    worker_stop(e);
    return fail(e, out, LW_FMT_ERR_WORKER, "malformed answer from the javascript worker", NULL);
}

static int js_call(lw_fmt_engine *e, uint8_t op, const char *src, uint8_t fport, const void *in, size_t n_in,
                   int64_t recv_ms, lw_fmt_result *out) {
    if (!src) return fail(e, out, LW_FMT_ERR_INPUT, "no javascript source", NULL);
    size_t n_src = strnlen(src, (size_t)e->lim.max_src_bytes + 1);
    if (n_src > e->lim.max_src_bytes) {
        char m[32];
        snprintf(m, sizeof m, "%u", (unsigned)e->lim.max_src_bytes);
        return fail(e, out, LW_FMT_ERR_INPUT, "script larger than %s bytes", m);
    }
    if (n_in > JSW_MAX_IN) return fail(e, out, LW_FMT_ERR_INPUT, "input too large", NULL);
    uint8_t hash[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)src, n_src, hash);
    fmt_bench *b = NULL;
    for (int i = 0; i < FMT_BENCH_SLOTS; i++)
        if (e->bench[i].used && !memcmp(e->bench[i].hash, hash, sizeof hash)) b = &e->bench[i];
    if (b && b->until_ms > now_ms())
        return fail(e, out, LW_FMT_ERR_TIMEOUT, "formatter %s for a minute after repeated timeouts", "disabled");
    if (e->fd < 0 && worker_start(e) != 0)
        return fail(e, out, LW_FMT_ERR_WORKER, "cannot start the javascript worker: %s", strerror(errno));
    int64_t deadline = now_ms() + e->lim.timeout_ms;
    js_req q = {op, fport, hash, recv_ms, in, n_in, src, n_src, 0};
    int compiled = 0;
    int rc = exchange(e, &q, deadline, out, &compiled);
    if (rc == JSW_NEED_SRC) {
        q.with_src = 1;
        rc = exchange(e, &q, deadline, out, &compiled);
        if (rc == JSW_NEED_SRC) {
            worker_stop(e);
            rc = fail(e, out, LW_FMT_ERR_WORKER, "javascript worker lost the script", NULL);
        }
    }
    if (compiled) e->st.compiles++;
    if (rc == LW_FMT_ERR_TIMEOUT) {
        if (!b) { /* a slot: a free one, else the one benched longest ago */
            b = &e->bench[0];
            for (int i = 0; i < FMT_BENCH_SLOTS; i++) {
                if (!e->bench[i].used) { b = &e->bench[i]; break; }
                if (e->bench[i].until_ms < b->until_ms) b = &e->bench[i];
            }
            memset(b, 0, sizeof *b);
            memcpy(b->hash, hash, sizeof hash);
            b->used = true;
        }
        if (++b->timeouts >= FMT_BENCH_AFTER) {
            b->until_ms = now_ms() + FMT_BENCH_MS;
            b->timeouts = 0;
        }
    } else if (b) {
        b->used = false; /* it answered: forgiven */
    }
    return rc;
}

static void begin(lw_fmt_engine *e, lw_fmt_result *out) {
    memset(out, 0, sizeof *out);
    e->st.calls++;
}

#define GUARD(e, out)                                                                                                  \
    do {                                                                                                               \
        if (!(out)) return LW_FMT_ERR_INPUT;                                                                           \
        if (!(e)) {                                                                                                    \
            memset((out), 0, sizeof *(out));                                                                           \
            snprintf((out)->error, sizeof (out)->error, "no formatter engine");                                       \
            return LW_FMT_ERR_WORKER;                                                                                  \
        }                                                                                                              \
    } while (0)

int lw_fmt_decode_uplink(lw_fmt_engine *e, lw_fmt_kind kind, const char *src, uint8_t fport, const uint8_t *bytes,
                         size_t n, int64_t recv_ms, lw_fmt_result *out) {
    GUARD(e, out);
    begin(e, out);
    if (n && !bytes) return fail(e, out, LW_FMT_ERR_INPUT, "no payload", NULL);
    switch (kind) {
    case LW_FMT_LPP: return lpp_decode(e, 0, bytes, n, out);
    case LW_FMT_JS: return js_call(e, JSW_OP_DECODE_UPLINK, src, fport, bytes, n, recv_ms, out);
    case LW_FMT_NONE: snprintf(out->error, sizeof out->error, "no payload formatter"); return LW_FMT_ERR_NONE_SET;
    default: return fail(e, out, LW_FMT_ERR_INPUT, "unknown formatter kind", NULL);
    }
}

int lw_fmt_decode_downlink(lw_fmt_engine *e, lw_fmt_kind kind, const char *src, uint8_t fport,
                           const uint8_t *bytes, size_t n, lw_fmt_result *out) {
    GUARD(e, out);
    begin(e, out);
    if (n && !bytes) return fail(e, out, LW_FMT_ERR_INPUT, "no payload", NULL);
    switch (kind) {
    case LW_FMT_LPP: return lpp_decode(e, 1, bytes, n, out);
    case LW_FMT_JS: return js_call(e, JSW_OP_DECODE_DOWNLINK, src, fport, bytes, n, 0, out);
    case LW_FMT_NONE: snprintf(out->error, sizeof out->error, "no payload formatter"); return LW_FMT_ERR_NONE_SET;
    default: return fail(e, out, LW_FMT_ERR_INPUT, "unknown formatter kind", NULL);
    }
}

int lw_fmt_encode_downlink(lw_fmt_engine *e, lw_fmt_kind kind, const char *src, const char *data_json,
                           uint8_t fport_in, lw_fmt_result *out) {
    GUARD(e, out);
    begin(e, out);
    if (!data_json) return fail(e, out, LW_FMT_ERR_INPUT, "no data", NULL);
    switch (kind) {
    case LW_FMT_LPP: return lpp_encode(e, data_json, fport_in, out);
    case LW_FMT_JS: {
        int rc = js_call(e, JSW_OP_ENCODE_DOWNLINK, src, fport_in, data_json, strlen(data_json), 0, out);
        if (rc == 0 && out->fport == 0) out->fport = DEFAULT_FPORT;
        return rc;
    }
    case LW_FMT_NONE:
        return fail(e, out, LW_FMT_ERR_NONE_SET, "no payload formatter: decoded_payload cannot be encoded", NULL);
    default: return fail(e, out, LW_FMT_ERR_INPUT, "unknown formatter kind", NULL);
    }
}
