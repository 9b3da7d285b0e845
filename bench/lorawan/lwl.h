/* bench/lorawan/lwl.h: shared declarations of te_lw_load, the LoRaWAN end-to-end load generator
 * behind bench/lorawan.sh (UDP gateways in -> tinyedge serve -> MQTT JSON out).
 *
 * Every benchmark device is derived from its index i (1-based), so that the `register` mode (which
 * writes the devices into <data_dir>/lorawan.db) and the `run` mode (which sends their uplinks)
 * agree without sharing files: dev_id "d%05u", DevAddr 0x26000000 | i (NetID 0x13's prefix), DevEUI
 * 70B3D5FFFE000000 | i, NwkSKey/AppSKey from a splitmix64 stream seeded with i. ABP, LoRaWAN
 * 1.0.4, EU868, ADR off (no network downlinks).
 *
 * Each uplink's FRMPayload is a 24-byte Cayenne LPP payload of six "luminosity" items (channel,
 * 0x65, u16 big-endian): channels 1-2 carry the uplink's sequence number (u32), channels 3-6 its
 * CLOCK_MONOTONIC send time in ns (u64), so the server's LPP formatter decodes it and the MQTT
 * subscriber recovers both from uplink_message.frm_payload (base64 of the decrypted payload).
 *
 * Contracts, one line per function:
 *   lwl_dev_derive(i,&d)          fill the identity and keys of device i
 *   lwl_register(opt)             the `register` mode: app + N ABP devices through lw_reg_*; 0 / -1
 *   lwl_run(opt)                  the `run` mode: gateways, subscriber, report; 0 ok, 1 errors, 2 setup
 *   lwl_aes_init() / lwl_aes_free()   one reusable AES-128-ECB context (per thread that calls below)
 *   lwl_keystream(k,addr,fcnt,ks,n)  LoRaWAN uplink FRMPayload keystream, n <= 32 bytes; 0 / -1
 *   lwl_data_mic(k,addr,fcnt,msg,len,mic)  uplink data MIC (AES-CMAC over B0 | msg); 0 / -1
 *   lwl_now_ns()                  CLOCK_MONOTONIC in ns
 */
#ifndef TE_BENCH_LWL_H
#define TE_BENCH_LWL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LWL_APP "bench"
#define LWL_FPORT 10
#define LWL_PLAIN_LEN 24              /* six LPP luminosity items */
#define LWL_PHY_LEN (9 + LWL_PLAIN_LEN + 4) /* MHDR, FHDR (7), FPort, FRMPayload, MIC */
#define LWL_FRM_OFF 9

typedef struct lwl_opts {
    const char *mode;       /* "register" or "run" */
    const char *data_dir;   /* register */
    const char *formatter;  /* register: application formatter "lpp" (default) or "none" */
    uint32_t devices;       /* number of devices (register: written; run: picked from 1..N) */
    const char *host;
    int udp_port, mqtt_port;
    int gateways;           /* 1..8 (3) */
    double rate;            /* unique uplinks/s, 0 = as fast as the PUSH_ACK window allows */
    double duration;        /* seconds of sending */
    uint32_t window;        /* rate 0: PUSH_DATA datagrams sent but not yet PUSH_ACKed (96) */
    uint32_t batch;         /* rate 0: uplinks per sendmmsg batch and gateway (8) */
    uint64_t pool;          /* rate 0: pre-built uplinks (duration * 100000) */
    uint32_t fcnt_base;     /* first FCnt of every device */
    double drain;           /* max seconds to wait for the last uplinks after sending (5) */
    uint32_t dedup_ms;      /* the server's dedup window, subtracted in the "after window" figures */
    int server_pid;         /* > 0: sample the server's RSS and CPU from /proc */
    uint64_t seed;
    const char *label;
    bool json_only;
} lwl_opts;

typedef struct lwl_dev {
    uint32_t index;
    char dev_id[16];
    uint32_t dev_addr;
    uint8_t dev_eui[8];
    uint8_t nwk_s_key[16], app_s_key[16];
} lwl_dev;

void lwl_dev_derive(uint32_t i, lwl_dev *d);
int lwl_register(const lwl_opts *o);
int lwl_run(const lwl_opts *o);

int lwl_aes_init(void);
void lwl_aes_free(void);
int lwl_keystream(const uint8_t key[16], uint32_t dev_addr, uint32_t fcnt, uint8_t *ks, size_t n);
int lwl_data_mic(const uint8_t key[16], uint32_t dev_addr, uint32_t fcnt, const uint8_t *msg, size_t len,
                 uint8_t mic[4]);
uint64_t lwl_now_ns(void);
#endif
