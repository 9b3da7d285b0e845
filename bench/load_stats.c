/* bench/load_stats.c: the load generator's measurements: a log-linear latency histogram, per
 * (subscriber, publisher) sequence tracking for loss / duplicates / reordering, an MQTT topic
 * matcher (to know which subscriber should receive which publisher), and /proc sampling of the
 * broker's RSS and CPU time and of the interrupt time on the load generator's cores. */
#include "load.h"
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t lnow_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Values below 2048 get their own bucket; above, each power of two is split in 1024 buckets. */
static size_t bucket_of(uint64_t v) {
    if (v < 2048) return (size_t)v;
    int e = 63 - __builtin_clzll(v); /* >= 11 */
    int shift = e - LHIST_SUB_BITS;
    return 2048 + (size_t)(e - 11) * 1024 + (size_t)((v >> shift) - 1024);
}

static uint64_t bucket_value(size_t i) {
    if (i < 2048) return i;
    size_t e = (i - 2048) / 1024 + 11, m = (i - 2048) % 1024 + 1024;
    return (uint64_t)m << (e - LHIST_SUB_BITS);
}

void lhist_add(lhist *h, uint64_t us) {
    h->b[bucket_of(us)]++;
    h->n++;
    h->sum += us;
    if (us > h->max) h->max = us;
}

uint64_t lhist_pct(const lhist *h, double p) {
    if (!h->n) return 0;
    uint64_t want = (uint64_t)(p / 100.0 * (double)h->n + 0.5), seen = 0;
    if (want < 1) want = 1;
    if (want > h->n) want = h->n;
    for (size_t i = 0; i < LHIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= want) {
            uint64_t v = bucket_value(i);
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}

void lhist_merge(lhist *dst, const lhist *src) {
    for (size_t i = 0; i < LHIST_BUCKETS; i++) dst->b[i] += src->b[i];
    dst->n += src->n;
    dst->sum += src->sum;
    if (src->max > dst->max) dst->max = src->max;
}

int ltrack_see(ltrack *t, uint32_t seq) {
    size_t byte = seq / 8;
    if (byte >= t->nbytes) {
        size_t n = t->nbytes ? t->nbytes : 4096;
        while (n <= byte) n *= 2;
        uint8_t *b = realloc(t->bits, n);
        if (!b) return -1;
        memset(b + t->nbytes, 0, n - t->nbytes);
        t->bits = b;
        t->nbytes = n;
    }
    uint8_t mask = (uint8_t)(1u << (seq % 8));
    t->total++;
    if (t->bits[byte] & mask) {
        t->dups++;
        return 2;
    }
    t->bits[byte] |= mask;
    t->uniq++;
    int r = 0;
    if (t->any && seq < t->prev) {
        t->reordered++;
        r = 1;
    }
    t->prev = seq;
    t->any = true;
    return r;
}

void ltrack_free(ltrack *t) {
    free(t->bits);
    memset(t, 0, sizeof *t);
}

int ltopic_match(const char *f, const char *t) {
    /* '$' topics are not matched by wildcards at the first level (MQTT 4.7.2). */
    if (*t == '$' && (*f == '+' || *f == '#')) return 0;
    for (;;) {
        if (f[0] == '#' && f[1] == 0) return 1;
        if (f[0] == '+' && (f[1] == '/' || f[1] == 0)) {
            while (*t && *t != '/') t++;
            f++;
        } else {
            while (*f && *f != '/') {
                if (*f != *t) return 0;
                f++, t++;
            }
            if (*t && *t != '/') return 0;
        }
        if (!*f && !*t) return 1;
        if (*f == '/' && *t == '/') {
            f++, t++;
            continue;
        }
        /* "a/#" also matches "a" */
        if (*f == '/' && f[1] == '#' && f[2] == 0 && !*t) return 1;
        return 0;
    }
}

int lcores_ticks(long long *irq, long long *total) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set)) return -1;
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return -1;
    char line[512];
    *irq = *total = 0;
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        int cpu;
        long long v[8] = {0};
        if (strncmp(line, "cpu", 3) || line[3] < '0' || line[3] > '9') continue;
        if (sscanf(line + 3, "%d %lld %lld %lld %lld %lld %lld %lld %lld", &cpu, &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6], &v[7]) < 9)
            continue;
        if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &set)) continue;
        /* user nice system idle iowait irq softirq steal */
        *total += v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
        *irq += v[5] + v[6];
        found++;
    }
    fclose(f);
    return found ? found : -1;
}
