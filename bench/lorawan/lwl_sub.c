/* bench/lorawan/lwl_sub.c: te_lw_load's MQTT side: a minimal MQTT 3.1.1 subscriber (CONNECT, one
 * SUBSCRIBE on v3/+/devices/+/up at QoS 0, then PUBLISH parsing on its own thread) that checks every
 * uplink message (topic device = the device that sent that sequence number, frm_payload = the
 * 24-byte LPP payload) and records its latency from the send time carried in the payload. It does
 * not use the server's MQTT codec, so a codec bug cannot hide itself. */
#include "base/b64.h"
#include "lwl_run.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SUB_FILTER "v3/+/devices/+/up"
#define RBUF (1u << 20)

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

/* read one whole packet (blocking, with the socket's timeout); returns its type, -1 on error */
static int read_packet(int fd, uint8_t *buf, size_t cap, size_t *len) {
    uint8_t h;
    if (read(fd, &h, 1) != 1) return -1;
    size_t rl = 0;
    for (int k = 0, shift = 0; k < 4; k++, shift += 7) {
        uint8_t b;
        if (read(fd, &b, 1) != 1) return -1;
        rl |= (size_t)(b & 127) << shift;
        if (!(b & 128)) break;
        if (k == 3) return -1;
    }
    if (rl > cap) return -1;
    size_t got = 0;
    while (got < rl) {
        ssize_t r = read(fd, buf + got, rl - got);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    *len = rl;
    return h >> 4;
}

int lwl_sub_connect(lwl_sub *s, const char *host, int port, char *err, size_t errlen) {
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->fd < 0) return snprintf(err, errlen, "socket: %s", strerror(errno)), -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) return snprintf(err, errlen, "bad host %s", host), -1;
    if (connect(s->fd, (struct sockaddr *)&a, sizeof a))
        return snprintf(err, errlen, "MQTT connect to %s:%d: %s", host, port, strerror(errno)), -1;
    int one = 1, rb = 4 << 20;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char cid[32];
    int cl = snprintf(cid, sizeof cid, "te-lw-load-%d", (int)getpid());
    uint8_t p[128];
    size_t n = 0;
    p[n++] = 0x10;
    p[n++] = (uint8_t)(10 + 2 + cl);
    memcpy(p + n, "\0\4MQTT\4\2\0\0", 10), n += 10; /* 3.1.1, clean session, keepalive off */
    p[n++] = 0, p[n++] = (uint8_t)cl;
    memcpy(p + n, cid, (size_t)cl), n += (size_t)cl;
    if (write_all(s->fd, p, n)) return snprintf(err, errlen, "MQTT CONNECT: %s", strerror(errno)), -1;
    uint8_t r[64];
    size_t rl;
    if (read_packet(s->fd, r, sizeof r, &rl) != 2 || rl != 2 || r[1] != 0)
        return snprintf(err, errlen, "MQTT CONNACK missing or refused"), -1;
    size_t fl = strlen(SUB_FILTER);
    n = 0;
    p[n++] = 0x82;
    p[n++] = (uint8_t)(2 + 2 + fl + 1);
    p[n++] = 0, p[n++] = 1;
    p[n++] = 0, p[n++] = (uint8_t)fl;
    memcpy(p + n, SUB_FILTER, fl), n += fl;
    p[n++] = 0;
    if (write_all(s->fd, p, n)) return snprintf(err, errlen, "MQTT SUBSCRIBE: %s", strerror(errno)), -1;
    if (read_packet(s->fd, r, sizeof r, &rl) != 9 || rl != 3 || r[2] > 2)
        return snprintf(err, errlen, "MQTT SUBACK missing or refused"), -1;
    tv.tv_sec = 0, tv.tv_usec = 100000;
    setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return 0;
}

static void bad(lwl_sub *s, const char *why) {
    if (s->bad++ < 5) fprintf(stderr, "te_lw_load: bad uplink message: %s\n", why);
}

/* one PUBLISH of QoS 0 */
static void on_publish(lwl_sub *s, const char *topic, size_t tl, const uint8_t *pl, size_t pn, uint64_t now) {
    /* v3/{app}@{tenant}/devices/{dev}/up */
    static const char pre[] = "v3/" LWL_APP "@";
    if (tl < sizeof pre || memcmp(topic, pre, sizeof pre - 1) || tl < 3 || memcmp(topic + tl - 3, "/up", 3)) {
        s->other++;
        return;
    }
    const char *dv = memmem(topic, tl, "/devices/", 9);
    if (!dv) return bad(s, "topic without /devices/");
    dv += 9;
    size_t dl = (size_t)(topic + tl - 3 - dv);
    const char *k = memmem(pl, pn, "\"frm_payload\":\"", 15);
    if (!k) return bad(s, "no uplink_message.frm_payload");
    k += 15;
    const char *e = memchr(k, '"', pn - (size_t)(k - (const char *)pl));
    if (!e) return bad(s, "unterminated frm_payload");
    uint8_t f[64];
    int n = (int)b64_decode(k, (size_t)(e - k), f, sizeof f, B64_PADDED);
    if (n != LWL_PLAIN_LEN) return bad(s, "frm_payload is not the 24-byte payload sent");
    for (int i = 0; i < 6; i++)
        if (f[4 * i] != i + 1 || f[4 * i + 1] != 0x65) return bad(s, "frm_payload is not the LPP payload sent");
    uint32_t seq = (uint32_t)f[2] << 24 | (uint32_t)f[3] << 16 | (uint32_t)f[6] << 8 | f[7];
    uint64_t ts = 0;
    for (int i = 2; i < 6; i++) ts = ts << 16 | (uint64_t)f[4 * i + 2] << 8 | f[4 * i + 3];
    if (seq >= s->pool_n) return bad(s, "sequence number never sent");
    const lwl_dev *d = &s->devs[s->pool[seq].dev];
    size_t il = strlen(d->dev_id);
    if (dl != il || memcmp(dv, d->dev_id, il)) return bad(s, "topic names another device than the sender");
    if (s->seen[seq]) {
        s->dups++;
        return;
    }
    if (ts == 0 || ts > now) return bad(s, "send time in the future");
    s->seen[seq] = 1;
    s->lat_us[s->n_lat++] = (uint32_t)((now - ts) / 1000);
    uint64_t sec = now > s->t0 ? (now - s->t0) / 1000000000ull : 0;
    if (sec < LWL_MAX_SECONDS) s->per_s[sec]++;
    if (!s->first_rx) s->first_rx = now;
    s->last_rx = now;
    atomic_store_explicit(&s->received, s->n_lat, memory_order_release);
}

void *lwl_sub_thread(void *arg) {
    lwl_sub *s = arg;
    uint8_t *b = malloc(RBUF);
    if (!b) {
        s->read_error = 1;
        return NULL;
    }
    size_t off = 0, len = 0;
    while (!atomic_load(&s->stop)) {
        if (off == len) off = len = 0;
        else if (len == RBUF) {
            memmove(b, b + off, len - off);
            len -= off, off = 0;
        }
        ssize_t r = read(s->fd, b + len, RBUF - len);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
        if (r <= 0) {
            if (!atomic_load(&s->stop)) s->read_error = 1;
            break;
        }
        len += (size_t)r;
        uint64_t now = lwl_now_ns();
        for (;;) {
            size_t avail = len - off, rl = 0, hl = 1;
            if (avail < 2) break;
            int shift = 0, ok = 0;
            for (; hl < 5 && hl < avail; hl++, shift += 7) {
                rl |= (size_t)(b[off + hl] & 127) << shift;
                if (!(b[off + hl] & 128)) {
                    ok = 1, hl++;
                    break;
                }
            }
            if (!ok) {
                if (hl >= 5) s->read_error = 1;
                break;
            }
            if (hl + rl > RBUF) {
                s->read_error = 1;
                break;
            }
            if (avail < hl + rl) {
                if (off && len == RBUF) {
                    memmove(b, b + off, len - off);
                    len -= off, off = 0;
                }
                break;
            }
            uint8_t h = b[off];
            const uint8_t *p = b + off + hl;
            if ((h >> 4) == 3 && rl >= 2) {
                size_t tl = (size_t)p[0] << 8 | p[1];
                int qos = (h >> 1) & 3;
                size_t vh = 2 + tl + (qos ? 2 : 0);
                if (vh <= rl) {
                    on_publish(s, (const char *)p + 2, tl, p + vh, rl - vh, now);
                    if (qos == 1) {
                        uint8_t ack[4] = {0x40, 2, p[2 + tl], p[3 + tl]};
                        write_all(s->fd, ack, 4);
                    }
                } else bad(s, "malformed PUBLISH");
            }
            off += hl + rl;
        }
        if (s->read_error) break;
    }
    free(b);
    return NULL;
}
