/* fuzz/mqtt_broker: the broker engine fed a fuzzed byte stream from up to three clients with
 * interleaved timer ticks, transport drops and in-process publishes. Checks that the engine never
 * crashes or leaks, never writes to a connection after closing it, and that every packet it writes
 * to a client whose protocol level is known decodes cleanly at that level.
 *
 * Input: byte 0 selects broker limits; then a sequence of operations, each one control byte:
 *   00cc llll  + (llll + 1) * k bytes  data for client cc % 3, k = 1, or 16 when bit 3 of byte 0
 *   01tt tttt                          tick, advancing time by t * 137 ms
 *   10cc xxxx                          client cc % 3's transport drops (peer close); xxxx = 0xF
 *                                      instead pretends its writes start failing
 *   11xx xxxx                          in-process publish (QoS x % 3, retain bit 2) on "fz/<x>",
 *                                      or a broker shutdown when x == 0x3F
 * A closed client slot is re-accepted on its next data. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/log.h"
#include "mqtt/broker.h"
#include "mqtt/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fconn {
    mqtt_client *c;
    bool closed;
    bool fail_writes;
    uint8_t ver; /* protocol level from its CONNECT, 0 = unknown */
} fconn;

static void die(const char *what) {
    fprintf(stderr, "mqtt_broker fuzz: %s\n", what);
    abort();
}

static int f_write(void *ud, void *conn, const uint8_t *p, size_t n) {
    (void)ud;
    fconn *f = conn;
    if (f->closed) die("write after close");
    if (f->fail_writes) {
        f->closed = true; /* the transport is gone: the host will report it */
        return -1;
    }
    if (f->ver) {
        size_t off = 0;
        while (off < n) {
            mqtt_packet pkt;
            size_t used = 0;
            int r = mqtt_decode(p + off, n - off, f->ver, 0, &pkt, &used);
            /* a refused unknown protocol version is answered in 3.1.1 form */
            if (r != MQTT_OK && f->ver == 5 && off == 0 && (p[0] >> 4) == MQTT_CONNACK)
                r = mqtt_decode(p, n, 4, 0, &pkt, &used);
            if (r != MQTT_OK) {
                fprintf(stderr, "level %u, r=%d reason=0x%02x, bytes:", f->ver, r, pkt.reason);
                for (size_t j = 0; j < n && j < 64; j++) fprintf(stderr, " %02x", p[j]);
                fprintf(stderr, "\n");
                die("broker output does not decode");
            }
            off += used;
        }
    }
    return 0;
}

static void f_close(void *ud, void *conn) {
    (void)ud;
    fconn *f = conn;
    if (f->closed) die("closed twice");
    f->closed = true;
}

static size_t f_pending(void *ud, void *conn) { (void)ud; (void)conn; return 0; }

static void reap(mqtt_broker *b, fconn *fc, int n, uint64_t now) {
    for (int i = 0; i < n; i++) {
        if (fc[i].closed && fc[i].c) {
            mqtt_client *c = fc[i].c;
            fc[i].c = NULL;
            mqtt_broker_closed(b, c, now);
        }
    }
}

static int icount;
static void internal_cb(void *ud, const mqtt_msg_view *m) {
    (void)ud;
    if (m->topic_len == 0) die("internal message without topic");
    icount++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool init;
    if (!init) {
        te_log_set_level(TE_LOG_NONE);
        init = true;
    }
    if (size < 1) return 0;
    uint8_t cfg = data[0];
    mqtt_broker_conf conf;
    mqtt_broker_conf_defaults(&conf);
    conf.sys_interval_s = cfg & 1 ? 5 : 0;
    if (cfg & 2) { conf.max_inflight = 2; conf.max_queued = 3; }
    if (cfg & 4) conf.max_packet_size = 256;
    conf.topic_alias_max = cfg & 16 ? 0 : 4;
    conf.queue_qos0_offline = cfg & 32;
    conf.max_keepalive = cfg & 64 ? 10 : 65535;
    mqtt_broker_io io = {NULL, f_write, f_close, f_pending, NULL};
    mqtt_broker *b = mqtt_broker_new(&conf, &io);
    if (!b) return 0;
    if (cfg & 128) mqtt_broker_subscribe_internal(b, "#", internal_cb, NULL);
    size_t unit = cfg & 8 ? 16 : 1;
    fconn fc[3];
    memset(fc, 0, sizeof fc);
    uint64_t now = 1000;
    size_t i = 1;
    while (i < size) {
        uint8_t op = data[i++];
        switch (op >> 6) {
        case 0: {
            int k = (op >> 4) % 3;
            size_t len = ((size_t)(op & 15) + 1) * unit;
            if (len > size - i) len = size - i;
            if (fc[k].closed && !fc[k].c) memset(&fc[k], 0, sizeof fc[k]);
            if (!fc[k].c) {
                fc[k].c = mqtt_broker_accept(b, &fc[k], "fuzz", NULL, now);
                if (!fc[k].c) break;
                /* learn the protocol level when the chunk starts with a whole CONNECT */
                mqtt_packet pkt;
                size_t used;
                if (mqtt_decode(data + i, len, 0, 0, &pkt, &used) == MQTT_OK) fc[k].ver = pkt.proto_level;
            }
            mqtt_broker_input(b, fc[k].c, data + i, len, now);
            i += len;
            break;
        }
        case 1:
            now += (uint64_t)(op & 63) * 137;
            mqtt_broker_tick(b, now);
            break;
        case 2: {
            int k = (op >> 4) % 3;
            if ((op & 15) == 15) {
                fc[k].fail_writes = true;
            } else if (fc[k].c) {
                mqtt_client *c = fc[k].c;
                fc[k].c = NULL;
                fc[k].closed = true;
                mqtt_broker_closed(b, c, now);
            }
            break;
        }
        default: {
            uint8_t x = op & 63;
            if (x == 63) {
                mqtt_broker_shutdown(b);
            } else {
                char topic[16];
                snprintf(topic, sizeof topic, "fz/%u", x & 7);
                mqtt_broker_publish(b, topic, "p", x & 8 ? 0 : 1, (uint8_t)(x % 3), x & 4, now);
            }
            break;
        }
        }
        reap(b, fc, 3, now);
    }
    /* the host closes everything, then ticks past every timer */
    for (int k = 0; k < 3; k++) {
        if (fc[k].c) {
            mqtt_client *c = fc[k].c;
            fc[k].c = NULL;
            fc[k].closed = true;
            mqtt_broker_closed(b, c, now);
        }
    }
    mqtt_broker_tick(b, now + 3600u * 1000u);
    mqtt_broker_free(b);
    return 0;
}
