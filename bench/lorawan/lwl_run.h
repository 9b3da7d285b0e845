/* bench/lorawan/lwl_run.h: te_lw_load's run-mode internals shared by the sender (lwl_run.c) and the
 * MQTT subscriber thread (lwl_sub.c).
 *   lwl_sub_connect(s,host,port,err,n)  TCP connect, CONNECT/CONNACK, SUBSCRIBE/SUBACK; 0 / -1
 *   lwl_sub_thread(s)                   pthread body: read and check uplinks until s->stop */
#ifndef TE_BENCH_LWL_RUN_H
#define TE_BENCH_LWL_RUN_H
#include "lwl.h"
#include <stdatomic.h>

#define LWL_MAX_SECONDS 120

/* one pre-built uplink; its sequence number is its index in the pool */
typedef struct lwl_frame {
    uint8_t phy[LWL_PHY_LEN]; /* FRMPayload encrypted with a zero send time; MIC added at send */
    uint32_t dev;             /* index into devs */
    uint32_t fcnt;
} lwl_frame;

typedef struct lwl_sub {
    int fd;
    const lwl_frame *pool;
    uint64_t pool_n;
    const lwl_dev *devs;
    uint8_t *seen;    /* pool_n flags */
    uint32_t *lat_us; /* pool_n latencies, n_lat used */
    uint64_t n_lat, dups, bad, other;
    uint64_t first_rx, last_rx;
    uint64_t t0;               /* send start (set before the thread starts) */
    uint32_t per_s[LWL_MAX_SECONDS]; /* unique uplinks received in each second since t0 */
    atomic_uint_fast64_t received;
    atomic_int stop;
    int read_error;
} lwl_sub;

int lwl_sub_connect(lwl_sub *s, const char *host, int port, char *err, size_t errlen);
void *lwl_sub_thread(void *arg);
#endif
