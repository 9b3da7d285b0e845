/* bench/lorawan/lwl_run.c: te_lw_load's `run` mode. Pre-builds the uplinks (random device, per-device
 * incrementing FCnt, FRMPayload encrypted with a zero send time), opens G gateway UDP sockets (each
 * sends PULL_DATA and waits for PULL_ACK first), connects the MQTT subscriber, then sends: per uplink
 * the send time is XORed into the ciphertext (the keystream is already there), the MIC computed, and
 * the same rxpk goes out as one PUSH_DATA from every gateway (own token, tmst, rssi and lsnr).
 * Pacing: --rate R spaces uplinks on a fixed schedule (absolute sleeps, one uplink at a time);
 * --rate 0 sends as fast as the server acknowledges, --batch uplinks per sendmmsg on each gateway
 * socket, keeping at most --window PUSH_DATA datagrams un-acknowledged (a flood bigger than the
 * server's socket buffer would only measure kernel drops); acks are read with recvmmsg. After --duration the
 * subscriber gets up to --drain s for the last uplinks. Prints one JSON line (and a human line). */
#include "base/b64.h"
#include "lorawan/frame.h"
#include "lwl_run.h"
#include "../procstat.h"
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_GW 8
#define MAX_BATCH 64
#define DG_CAP 512

typedef struct gw {
    int fd;
    uint8_t eui[8];
    uint8_t dg[MAX_BATCH][DG_CAP]; /* PUSH_DATA datagrams of one batch (same layout) */
    size_t dg_len, tmst_off, data_off;
    uint64_t push, push_ack, pull_ack, pull_resp, other;
} gw;

typedef struct run {
    const lwl_opts *o;
    lwl_dev *devs; /* [0] unused, 1..devices */
    lwl_frame *pool;
    uint64_t pool_n;
    gw g[MAX_GW];
    int ng;
    uint64_t outstanding; /* PUSH_DATA not yet acknowledged (all gateways) */
    uint64_t send_errors, ack_timeouts;
    uint16_t token;
} run;

static uint64_t xs_state;
static uint64_t xs(void) {
    uint64_t x = xs_state;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return xs_state = x;
}

static void plain_fill(uint8_t *p, uint32_t seq, uint64_t ts) {
    uint16_t v[6] = {(uint16_t)(seq >> 16), (uint16_t)seq, (uint16_t)(ts >> 48), (uint16_t)(ts >> 32),
                     (uint16_t)(ts >> 16), (uint16_t)ts};
    for (int i = 0; i < 6; i++) {
        p[4 * i] = (uint8_t)(i + 1);
        p[4 * i + 1] = 0x65; /* LPP luminosity, u16 */
        p[4 * i + 2] = (uint8_t)(v[i] >> 8);
        p[4 * i + 3] = (uint8_t)v[i];
    }
}

/* the frame with send time ts: XOR ts into the pre-encrypted payload, then the MIC */
static int frame_finish(const run *R, lwl_frame *f, uint64_t ts) {
    uint8_t t[LWL_PLAIN_LEN];
    plain_fill(t, 0, ts);
    for (int i = 2; i < 6; i++) {
        f->phy[LWL_FRM_OFF + 4 * i + 2] ^= t[4 * i + 2];
        f->phy[LWL_FRM_OFF + 4 * i + 3] ^= t[4 * i + 3];
    }
    const lwl_dev *d = &R->devs[f->dev];
    return lwl_data_mic(d->nwk_s_key, d->dev_addr, f->fcnt, f->phy, LWL_PHY_LEN - 4, f->phy + LWL_PHY_LEN - 4);
}

static int frame_build(const run *R, lwl_frame *f, uint32_t seq, uint32_t dev, uint32_t fcnt) {
    const lwl_dev *d = &R->devs[dev];
    f->dev = dev, f->fcnt = fcnt;
    uint8_t *p = f->phy, pt[LWL_PLAIN_LEN], ks[LWL_PLAIN_LEN];
    p[0] = 0x40; /* unconfirmed data up, LoRaWAN R1 */
    p[1] = (uint8_t)d->dev_addr, p[2] = (uint8_t)(d->dev_addr >> 8), p[3] = (uint8_t)(d->dev_addr >> 16),
    p[4] = (uint8_t)(d->dev_addr >> 24);
    p[5] = 0; /* FCtrl: no ADR, no FOpts */
    p[6] = (uint8_t)fcnt, p[7] = (uint8_t)(fcnt >> 8);
    p[8] = LWL_FPORT;
    plain_fill(pt, seq, 0);
    if (lwl_keystream(d->app_s_key, d->dev_addr, fcnt, ks, sizeof ks)) return -1;
    for (int i = 0; i < LWL_PLAIN_LEN; i++) p[LWL_FRM_OFF + i] = pt[i] ^ ks[i];
    memset(p + LWL_PHY_LEN - 4, 0, 4);
    return 0;
}

/* the fast path against the library's lw_frame_seal, once, before anything is measured */
static int self_check(run *R) {
    lwl_frame f;
    uint64_t ts = 0x0123456789abcdefull;
    if (frame_build(R, &f, 0x01020304u, 1, 70000) || frame_finish(R, &f, ts)) return -1;
    const lwl_dev *d = &R->devs[1];
    lw_frame lf;
    memset(&lf, 0, sizeof lf);
    lf.mtype = LW_MTYPE_UNCONFIRMED_UP;
    lf.dev_addr = d->dev_addr;
    lf.has_fport = true;
    lf.fport = LWL_FPORT;
    lf.frm_len = LWL_PLAIN_LEN;
    plain_fill(lf.frm, 0x01020304u, ts);
    lw_keys k = {.nwk_s_key = d->nwk_s_key, .app_s_key = d->app_s_key};
    uint8_t out[LW_PHY_MAX];
    size_t n = 0;
    char err[128];
    if (lw_frame_seal(&lf, &k, 70000, out, sizeof out, &n, err, sizeof err) || n != LWL_PHY_LEN ||
        memcmp(out, f.phy, n)) {
        fprintf(stderr, "te_lw_load: self-check failed: fast uplink sealing differs from lw_frame_seal\n");
        return -1;
    }
    return 0;
}

static int gw_open(run *R, int i, const struct sockaddr_in *srv) {
    gw *g = &R->g[i];
    static const uint8_t eui_hi[7] = {0xb8, 0x27, 0xeb, 0xff, 0xfe, 0x00, 0x00};
    memcpy(g->eui, eui_hi, 7);
    g->eui[7] = (uint8_t)(i + 1);
    g->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (g->fd < 0) return -1;
    int sz = 4 << 20;
    setsockopt(g->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    setsockopt(g->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    if (connect(g->fd, (const struct sockaddr *)srv, sizeof *srv)) return -1;
    /* PUSH_DATA template: a 10-digit tmst and a base64 placeholder, both patched per uplink */
    char b64[((LWL_PHY_LEN + 2) / 3) * 4 + 1];
    memset(b64, 'A', sizeof b64 - 1);
    b64[sizeof b64 - 1] = 0;
    uint8_t *d = g->dg[0];
    d[0] = 2, d[1] = 0, d[2] = 0, d[3] = 0x00;
    memcpy(d + 4, g->eui, 8);
    int n = snprintf((char *)d + 12, DG_CAP - 12,
                     "{\"rxpk\":[{\"tmst\":1000000000,\"chan\":0,\"rfch\":0,\"freq\":868.100000,\"stat\":1,"
                     "\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/5\",\"rssi\":%d,\"lsnr\":%.1f,"
                     "\"size\":%d,\"data\":\"%s\"}]}",
                     -57 - 11 * i, 9.5 - 4.25 * i, LWL_PHY_LEN, b64);
    if (n <= 0 || (size_t)n >= DG_CAP - 12) return -1;
    g->dg_len = 12 + (size_t)n;
    g->tmst_off = (size_t)((uint8_t *)strstr((char *)d + 12, "\"tmst\":") + 7 - d);
    g->data_off = (size_t)((uint8_t *)strstr((char *)d + 12, "\"data\":\"") + 8 - d);
    for (int k = 1; k < MAX_BATCH; k++) memcpy(g->dg[k], g->dg[0], g->dg_len);
    return 0;
}

/* read every datagram waiting on the gateway sockets (recvmmsg, 64 at a time) */
static void drain_acks(run *R) {
    static uint8_t b[64][64];
    struct mmsghdr mm[64];
    struct iovec iov[64];
    for (int i = 0; i < R->ng; i++) {
        gw *g = &R->g[i];
        for (;;) {
            for (int k = 0; k < 64; k++) {
                iov[k].iov_base = b[k], iov[k].iov_len = sizeof b[k];
                memset(&mm[k].msg_hdr, 0, sizeof mm[k].msg_hdr);
                mm[k].msg_hdr.msg_iov = &iov[k], mm[k].msg_hdr.msg_iovlen = 1;
            }
            int n = recvmmsg(g->fd, mm, 64, MSG_DONTWAIT, NULL);
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) R->send_errors++;
                break;
            }
            for (int k = 0; k < n; k++) {
                unsigned len = mm[k].msg_len;
                if (len >= 4 && b[k][3] == 0x01) {
                    g->push_ack++;
                    if (R->outstanding) R->outstanding--;
                } else if (len >= 4 && b[k][3] == 0x04) g->pull_ack++;
                else if (len >= 4 && b[k][3] == 0x03) g->pull_resp++;
                else g->other++;
            }
            if (n < 64) break;
        }
    }
}

static int gw_pull(run *R) {
    uint8_t d[12];
    for (int i = 0; i < R->ng; i++) {
        d[0] = 2, d[1] = (uint8_t)(i + 1), d[2] = 0x55, d[3] = 0x02;
        memcpy(d + 4, R->g[i].eui, 8);
        if (send(R->g[i].fd, d, sizeof d, 0) != (ssize_t)sizeof d) return -1;
    }
    uint64_t until = lwl_now_ns() + 3000000000ull;
    for (;;) {
        drain_acks(R);
        int ok = 1;
        for (int i = 0; i < R->ng; i++) ok &= R->g[i].pull_ack > 0;
        if (ok) return 0;
        if (lwl_now_ns() > until) return -1;
        usleep(2000);
    }
}

/* the first n datagrams of g's batch, with sendmmsg (waits when the socket buffer is full) */
static void send_batch_gw(run *R, gw *g, int n) {
    struct mmsghdr mm[MAX_BATCH];
    struct iovec iov[MAX_BATCH];
    for (int k = 0; k < n; k++) {
        iov[k].iov_base = g->dg[k], iov[k].iov_len = g->dg_len;
        memset(&mm[k].msg_hdr, 0, sizeof mm[k].msg_hdr);
        mm[k].msg_hdr.msg_iov = &iov[k], mm[k].msg_hdr.msg_iovlen = 1;
    }
    int done = 0, stalls = 0;
    while (done < n) {
        int r = sendmmsg(g->fd, mm + done, (unsigned)(n - done), 0);
        if (r > 0) {
            done += r, g->push += (uint64_t)r, R->outstanding += (uint64_t)r;
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EINTR) &&
            stalls++ < 1000) {
            struct pollfd p = {.fd = g->fd, .events = POLLOUT};
            poll(&p, 1, 10);
            continue;
        }
        R->send_errors += (uint64_t)(n - done);
        if (R->send_errors <= 5) fprintf(stderr, "te_lw_load: PUSH_DATA send: %s\n", strerror(errno));
        return;
    }
}

/* n uplinks (n <= MAX_BATCH), each stamped with its own send time just before the batch goes out */
static void send_uplinks(run *R, lwl_frame *f, int n) {
    char b64[((LWL_PHY_LEN + 2) / 3) * 4 + 1];
    for (int k = 0; k < n; k++) {
        uint64_t ts = lwl_now_ns();
        if (frame_finish(R, &f[k], ts)) {
            R->send_errors++;
            continue;
        }
        size_t bl = b64_encode(f[k].phy, LWL_PHY_LEN, b64);
        for (int i = 0; i < R->ng; i++) {
            gw *g = &R->g[i];
            uint8_t *d = g->dg[k];
            uint16_t tok = ++R->token;
            d[1] = (uint8_t)(tok >> 8), d[2] = (uint8_t)tok;
            uint32_t tmst = 1000000000u + (uint32_t)((ts / 1000 + 777777u * (uint64_t)i) % 3000000000u);
            char t[11];
            snprintf(t, sizeof t, "%010u", tmst);
            memcpy(d + g->tmst_off, t, 10);
            memcpy(d + g->data_off, b64, bl);
        }
    }
    for (int i = 0; i < R->ng; i++) send_batch_gw(R, &R->g[i], n);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const uint32_t *v, uint64_t n, double p) {
    if (!n) return -1;
    uint64_t k = (uint64_t)ceil(p / 100.0 * (double)n);
    if (k < 1) k = 1;
    if (k > n) k = n;
    return v[k - 1] / 1000.0;
}

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

int lwl_run(const lwl_opts *o) {
    run R;
    memset(&R, 0, sizeof R);
    R.o = o;
    R.ng = o->gateways;
    xs_state = o->seed ? o->seed : 0x243f6a8885a308d3ull;
    if (R.ng < 1 || R.ng > MAX_GW || o->devices < 1 || o->duration <= 0 || o->rate < 0) {
        fprintf(stderr, "te_lw_load run: need 1..%d gateways, >= 1 device, a positive duration\n", MAX_GW);
        return 2;
    }
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    for (int i = 0; i < MAX_GW; i++) R.g[i].fd = -1;
    int ret = 2;
    pthread_t th;
    bool th_started = false;
    if (lwl_aes_init()) return 2;
    R.devs = calloc((size_t)o->devices + 1, sizeof *R.devs);
    uint32_t *fc = calloc((size_t)o->devices + 1, sizeof *fc);
    R.pool_n = o->rate > 0 ? (uint64_t)ceil(o->rate * o->duration) + 1
                           : (o->pool ? o->pool : (uint64_t)(o->duration * 100000.0) + 1);
    R.pool = malloc(R.pool_n * sizeof *R.pool);
    lwl_sub S;
    memset(&S, 0, sizeof S);
    S.fd = -1;
    S.seen = calloc(R.pool_n, 1);
    S.lat_us = malloc(R.pool_n * sizeof *S.lat_us);
    if (!R.devs || !fc || !R.pool || !S.seen || !S.lat_us) {
        fprintf(stderr, "te_lw_load run: out of memory for %llu uplinks\n", (unsigned long long)R.pool_n);
        goto out;
    }
    for (uint32_t i = 1; i <= o->devices; i++) lwl_dev_derive(i, &R.devs[i]), fc[i] = o->fcnt_base;
    if (self_check(&R)) goto out;
    uint64_t tb = lwl_now_ns();
    for (uint64_t k = 0; k < R.pool_n; k++) {
        uint32_t dev = 1 + (uint32_t)(xs() % o->devices);
        if (frame_build(&R, &R.pool[k], (uint32_t)k, dev, fc[dev]++)) goto out;
    }
    double build_s = (double)(lwl_now_ns() - tb) / 1e9;
    free(fc);
    fc = NULL;

    struct sockaddr_in srv = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->udp_port)};
    if (inet_pton(AF_INET, o->host, &srv.sin_addr) != 1) {
        fprintf(stderr, "te_lw_load run: bad host %s\n", o->host);
        goto out;
    }
    for (int i = 0; i < R.ng; i++)
        if (gw_open(&R, i, &srv)) {
            fprintf(stderr, "te_lw_load run: gateway socket: %s\n", strerror(errno));
            goto out;
        }
    if (gw_pull(&R)) {
        fprintf(stderr, "te_lw_load run: no PULL_ACK from %s:%d within 3 s (is the server up?)\n", o->host,
                o->udp_port);
        goto out;
    }
    char err[256];
    S.pool = R.pool, S.pool_n = R.pool_n, S.devs = R.devs;
    if (lwl_sub_connect(&S, o->host, o->mqtt_port, err, sizeof err)) {
        fprintf(stderr, "te_lw_load run: %s\n", err);
        goto out;
    }
    S.t0 = lwl_now_ns();
    if (pthread_create(&th, NULL, lwl_sub_thread, &S)) goto out;
    th_started = true;

    long tck = sysconf(_SC_CLK_TCK);
    long long sv_t0 = o->server_pid > 0 ? lproc_cpu_ticks(o->server_pid) : -1;
    long rss_max = -1;
    double cpu0 = cpu_s();
    uint64_t t0 = S.t0, t_end = t0 + (uint64_t)(o->duration * 1e9), next_sample = t0;
    uint64_t sent = 0, lag_max = 0, last_ack_progress = t0, acked_before = 0;
    double period = o->rate > 0 ? 1e9 / o->rate : 0;
    uint64_t batch = o->batch ? o->batch : 8;
    if (batch > MAX_BATCH) batch = MAX_BATCH;
    if (batch * (uint64_t)R.ng > o->window) batch = o->window / (uint64_t)R.ng ? o->window / (uint64_t)R.ng : 1;
    for (;;) {
        uint64_t now = lwl_now_ns();
        if (o->server_pid > 0 && now >= next_sample) {
            long r = lproc_rss_kb(o->server_pid);
            if (r > rss_max) rss_max = r;
            next_sample = now + 100000000ull;
        }
        if (sent >= R.pool_n) break;
        if (o->rate > 0) {
            uint64_t due = t0 + (uint64_t)((double)sent * period);
            if (due >= t_end) break;
            if (now < due) {
                drain_acks(&R);
                now = lwl_now_ns();
                if (now < due) {
                    struct timespec ts = {.tv_sec = (time_t)(due / 1000000000ull),
                                          .tv_nsec = (long)(due % 1000000000ull)};
                    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
                    continue;
                }
            }
            if (now - due > lag_max) lag_max = now - due;
        } else {
            if (now >= t_end) break;
            drain_acks(&R);
            uint64_t acked = 0;
            for (int i = 0; i < R.ng; i++) acked += R.g[i].push_ack;
            if (acked != acked_before) acked_before = acked, last_ack_progress = now;
            if (R.outstanding + (uint64_t)R.ng * batch > o->window) {
                if (now - last_ack_progress > 200000000ull) { /* lost datagrams: stop waiting for them */
                    R.ack_timeouts++;
                    R.outstanding = 0;
                    last_ack_progress = now;
                } else {
                    struct pollfd p[MAX_GW];
                    for (int i = 0; i < R.ng; i++) p[i].fd = R.g[i].fd, p[i].events = POLLIN;
                    poll(p, (nfds_t)R.ng, 5);
                }
                continue;
            }
        }
        int n = o->rate > 0 ? 1 : (int)batch;
        if ((uint64_t)n > R.pool_n - sent) n = (int)(R.pool_n - sent);
        send_uplinks(&R, &R.pool[sent], n);
        sent += (uint64_t)n;
    }
    uint64_t t_stop = lwl_now_ns();
    double send_s = (double)(t_stop - t0) / 1e9;
    double cpu_send = cpu_s() - cpu0;
    long long sv_t1 = o->server_pid > 0 ? lproc_cpu_ticks(o->server_pid) : -1;
    /* drain: until everything arrived, nothing arrived for a while, or --drain s */
    uint64_t last_n = 0, last_change = t_stop, quiet = (uint64_t)o->dedup_ms * 1000000ull + 1500000000ull;
    for (;;) {
        drain_acks(&R);
        uint64_t now = lwl_now_ns(), n = atomic_load_explicit(&S.received, memory_order_acquire);
        if (n != last_n) last_n = n, last_change = now;
        if (n >= sent || now - t_stop > (uint64_t)(o->drain * 1e9) || now - last_change > quiet || S.read_error)
            break;
        if (o->server_pid > 0) {
            long r = lproc_rss_kb(o->server_pid);
            if (r > rss_max) rss_max = r;
        }
        usleep(10000);
    }
    atomic_store(&S.stop, 1);
    pthread_join(th, NULL);
    th_started = false;
    drain_acks(&R);

    uint64_t push = 0, push_ack = 0, pull_resp = 0, other = 0;
    for (int i = 0; i < R.ng; i++) {
        push += R.g[i].push, push_ack += R.g[i].push_ack, pull_resp += R.g[i].pull_resp, other += R.g[i].other;
    }
    qsort(S.lat_us, S.n_lat, sizeof *S.lat_us, cmp_u32);
    uint64_t got = S.n_lat;
    double rx_span = got > 1 ? (double)(S.last_rx - S.first_rx) / 1e9 : 0;
    double recv_per_s = rx_span > 0 ? (double)(got - 1) / rx_span : 0;
    double p50 = pct_ms(S.lat_us, got, 50), p90 = pct_ms(S.lat_us, got, 90), p99 = pct_ms(S.lat_us, got, 99),
           pmax = got ? S.lat_us[got - 1] / 1000.0 : -1;
    double w = o->dedup_ms;
    uint64_t errors = S.bad + R.send_errors + (uint64_t)S.read_error;
    double srv_cpu = (sv_t0 >= 0 && sv_t1 >= 0 && send_s > 0) ? 100.0 * (double)(sv_t1 - sv_t0) / tck / send_s : -1;
    /* unique uplinks received per second since the start of sending */
    char per_s[LWL_MAX_SECONDS * 12 + 1] = "";
    size_t pl = 0;
    uint64_t secs = (uint64_t)ceil(((S.last_rx > S.t0 ? (double)(S.last_rx - S.t0) : 0) / 1e9));
    for (uint64_t k = 0; k < secs && k < LWL_MAX_SECONDS; k++)
        pl += (size_t)snprintf(per_s + pl, sizeof per_s - pl, "%s%u", k ? "," : "", S.per_s[k]);
    char lab[160] = "";
    if (o->label) {
        size_t j = 0;
        for (const char *c = o->label; *c && j + 2 < sizeof lab; c++)
            if (*c != '"' && *c != '\\' && (unsigned char)*c >= 32) lab[j++] = *c;
        lab[j] = 0;
    }
    printf("{\"mode\":\"run\",\"label\":\"%s\",\"ok\":%s,\"errors\":%llu,\"gateways\":%d,\"devices\":%u,"
           "\"rate_target\":%.0f,\"duration_s\":%.2f,\"prebuilt\":%llu,\"prebuild_s\":%.2f,"
           "\"sent\":%llu,\"send_s\":%.3f,\"sent_per_s\":%.0f,\"push_data\":%llu,\"push_ack\":%llu,"
           "\"pull_resp\":%llu,\"ack_timeouts\":%llu,\"received_unique\":%llu,\"duplicates\":%llu,"
           "\"lost\":%llu,\"loss_pct\":%.3f,\"recv_per_s\":%.0f,\"recv_window_s\":%.3f,"
           "\"lat_p50_ms\":%.3f,\"lat_p90_ms\":%.3f,\"lat_p99_ms\":%.3f,\"lat_max_ms\":%.3f,\"dedup_ms\":%u,"
           "\"after_window_p50_ms\":%.3f,\"after_window_p90_ms\":%.3f,\"after_window_p99_ms\":%.3f,"
           "\"after_window_max_ms\":%.3f,\"sender_lag_max_ms\":%.3f,\"bad_messages\":%llu,\"other_messages\":%llu,"
           "\"send_errors\":%llu,\"server_rss_max_kb\":%ld,\"server_cpu_pct\":%.1f,\"loadgen_cpu_pct\":%.1f,"
           "\"per_second\":[%s]}\n",
           lab, errors ? "false" : "true", (unsigned long long)errors, R.ng, o->devices, o->rate, o->duration,
           (unsigned long long)R.pool_n, build_s, (unsigned long long)sent, send_s, send_s > 0 ? sent / send_s : 0,
           (unsigned long long)push, (unsigned long long)push_ack, (unsigned long long)pull_resp,
           (unsigned long long)R.ack_timeouts, (unsigned long long)got, (unsigned long long)S.dups,
           (unsigned long long)(sent > got ? sent - got : 0), sent ? 100.0 * (double)(sent - got) / (double)sent : 0,
           recv_per_s, rx_span, p50, p90, p99, pmax, o->dedup_ms, got ? p50 - w : -1, got ? p90 - w : -1,
           got ? p99 - w : -1, got ? pmax - w : -1, lag_max / 1e6, (unsigned long long)S.bad,
           (unsigned long long)S.other, (unsigned long long)R.send_errors, rss_max, srv_cpu,
           send_s > 0 ? 100.0 * cpu_send / send_s : -1, per_s);
    if (!o->json_only)
        printf("%s: sent %llu uplinks (%.0f/s) x %d gateways, received %llu unique (%.0f/s), lost %llu, "
               "latency p50 %.2f p99 %.2f max %.2f ms (dedup window %u ms), errors %llu\n",
               lab[0] ? lab : "run", (unsigned long long)sent, send_s > 0 ? sent / send_s : 0, R.ng,
               (unsigned long long)got, recv_per_s, (unsigned long long)(sent > got ? sent - got : 0), p50, p99, pmax,
               o->dedup_ms, (unsigned long long)errors);
    (void)other;
    ret = errors ? 1 : 0;
out:
    if (th_started) {
        atomic_store(&S.stop, 1);
        pthread_join(th, NULL);
    }
    if (S.fd >= 0) close(S.fd);
    for (int i = 0; i < MAX_GW; i++)
        if (R.g[i].fd >= 0) close(R.g[i].fd);
    free(fc);
    free(R.devs);
    free(R.pool);
    free(S.seen);
    free(S.lat_us);
    lwl_aes_free();
    return ret;
}
