/* Fuzz target for the LoRaWAN server engine (lorawan/ns.h): the input is a script of operations
 * on one engine with an ABP and an OTAA device registered: raw gateway datagrams, PHYPayloads
 * wrapped in a valid PUSH_DATA, uplinks sealed with the ABP device's keys (so MIC-valid frames
 * reach MAC command handling, ADR and the downlink scheduler with fuzzed FOpts/FPort/payload),
 * downlink push JSON, TX_ACKs and clock steps, and registry churn (extra ABP/OTAA devices put and
 * removed, sharing DevAddrs and EUIs, an application removed) for the compact device indexes.
 * Checks: no crash, no leak (ASan), the engine's counters stay consistent, every registered
 * device is found by id and the device count matches. */
#include "lorawan/ns.h"
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lorawan/frame.h"

static const uint8_t NWK[16] = {0x44, 0x02, 0x42, 0x41, 0xed, 0x4c, 0xe9, 0xa6, 0x8c, 0x6a, 0x8b, 0xc0, 0x55, 0x23, 0x3f, 0xd3};
static const uint8_t APP[16] = {0xec, 0x92, 0x58, 0x02, 0xae, 0x43, 0x0c, 0xa7, 0x7f, 0xd3, 0xdd, 0x73, 0xcb, 0x2c, 0xc5, 0x88};
static uint16_t last_token;
static uint64_t published;

static void io_send(void *ud, const lw_ns_addr *to, const uint8_t *d, size_t n) {
    if (n >= 4 && d[3] == 0x03) last_token = (uint16_t)(d[1] << 8 | d[2]);
}
static void io_publish(void *ud, const char *topic, const uint8_t *p, size_t n) {
    if (!topic[0] || !n) abort();
    published++;
}
static int io_devnonce(void *ud, const lw_dev_rec *d, uint16_t nonce) { return nonce & 1; }
static int64_t io_wall(void *ud) { return 1764072000000000LL; }

static lw_ns *setup(void) {
    lw_ns_conf c;
    lw_ns_conf_defaults(&c);
    c.dedup_ms = 50;
    lw_ns_io io = {NULL, io_send, io_publish, NULL, io_devnonce, io_wall, NULL};
    lw_ns *ns = lw_ns_new(&c, &io, NULL);
    lw_app_rec a;
    memset(&a, 0, sizeof a);
    strcpy(a.app_id, "app");
    lw_ns_app_put(ns, &a);
    lw_dev_rec d;
    memset(&d, 0, sizeof d);
    strcpy(d.app_id, "app");
    strcpy(d.dev_id, "abp");
    strcpy(d.region, "EU868");
    d.fmt = LW_FMT_INHERIT;
    d.adr = true;
    d.s.active = true;
    d.s.dev_addr = 0x26011bda;
    memcpy(d.s.nwk_s_key, NWK, 16);
    memcpy(d.s.app_s_key, APP, 16);
    lw_ns_dev_put(ns, &d);
    memset(&d, 0, sizeof d);
    strcpy(d.app_id, "app");
    strcpy(d.dev_id, "otaa");
    strcpy(d.region, "US915");
    d.otaa = true;
    d.fmt = LW_FMT_INHERIT;
    memcpy(d.app_key, NWK, 16);
    d.dev_eui[7] = 1;
    lw_ns_dev_put(ns, &d);
    return ns;
}

static void push_phy(lw_ns *ns, const uint8_t *phy, size_t n, uint8_t sel, uint64_t now) {
    static const char *datr[] = {"SF7BW125", "SF12BW125", "SF9BW125", "SF8BW500", "SF10BW125"};
    static const char *freq[] = {"868.1", "868.3", "902.3", "869.525"};
    unsigned char b64[400];
    EVP_EncodeBlock(b64, phy, (int)n);
    uint8_t d[1024] = {2, 0, 1, 0, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, (uint8_t)(sel & 3)};
    int len = snprintf((char *)d + 12, sizeof d - 12,
                       "{\"rxpk\":[{\"tmst\":%u,\"freq\":%s,\"stat\":1,\"modu\":\"LORA\",\"datr\":\"%s\","
                       "\"codr\":\"4/5\",\"rssi\":-%d,\"lsnr\":%d.5,\"size\":%zu,\"data\":\"%s\"}]}",
                       (unsigned)(now * 1000), freq[(sel >> 2) & 3], datr[(sel >> 4) % 5], 30 + (sel & 63),
                       (int)(sel % 30) - 15, n, b64);
    lw_ns_addr a = {.len = 1};
    a.b[0] = sel & 3;
    lw_ns_udp_input(ns, &a, d, 12 + (size_t)len, now);
}

/* extra devices "x0".."x31" of app "app" (present[] tracks them) */
static void churn(lw_ns *ns, const uint8_t *p, size_t len, bool present[32]) {
    if (len < 3) return;
    char id[8];
    snprintf(id, sizeof id, "x%u", p[0] % 32u);
    if (p[1] & 0x80) {
        lw_ns_dev_remove(ns, "app", id);
        present[p[0] % 32u] = false;
        return;
    }
    lw_dev_rec d;
    memset(&d, 0, sizeof d);
    strcpy(d.app_id, "app");
    strcpy(d.dev_id, id);
    strcpy(d.region, (p[1] & 0x40) ? "US915" : "EU868");
    d.fmt = LW_FMT_INHERIT;
    d.adr = true;
    d.otaa = (p[1] & 0x20) != 0;
    d.dev_eui[7] = p[2] & 3; /* often the "otaa" device's EUIs */
    memcpy(d.app_key, NWK, 16);
    if (!d.otaa || (p[1] & 0x10)) {
        d.s.active = true;
        d.s.dev_addr = (p[1] & 3) ? 0x26011bda : 0x26000000u | p[2]; /* often the "abp" device's */
        memcpy(d.s.nwk_s_key, (p[1] & 4) ? NWK : APP, 16);
        memcpy(d.s.app_s_key, APP, 16);
        d.s.fcnt_up = p[2];
        d.s.fcnt_up_seen = (p[1] & 8) != 0;
    }
    if (lw_ns_dev_put(ns, &d) == 0) present[p[0] % 32u] = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lw_ns *ns = setup();
    bool present[32] = {false};
    size_t base = 2; /* "abp" and "otaa" */
    uint64_t now = 1000;
    uint8_t pull[12] = {2, 0, 1, 2, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0};
    for (int g = 0; g < 4; g++) {
        pull[11] = (uint8_t)g;
        lw_ns_addr a = {.len = 1};
        a.b[0] = (uint8_t)g;
        lw_ns_udp_input(ns, &a, pull, sizeof pull, now);
    }
    size_t i = 0;
    while (i + 2 <= size) {
        uint8_t op = data[i] % 8, len = data[i + 1];
        i += 2;
        if (len > size - i) len = (uint8_t)(size - i);
        const uint8_t *p = data + i;
        i += len;
        switch (op) {
        case 0: {
            lw_ns_addr a = {.len = 1};
            lw_ns_udp_input(ns, &a, p, len, now);
            break;
        }
        case 1:
            if (len) push_phy(ns, p, len, len ? p[0] : 0, now);
            break;
        case 2: {
            if (len < 5) break;
            lw_frame f;
            memset(&f, 0, sizeof f);
            f.mtype = (p[2] & 1) ? LW_MTYPE_CONFIRMED_UP : LW_MTYPE_UNCONFIRMED_UP;
            f.dev_addr = 0x26011bda;
            f.fctrl.adr = p[2] & 2;
            f.fctrl.ack = p[2] & 4;
            f.fctrl.adr_ack_req = p[2] & 8;
            size_t fo = p[3] % 16, rest = len - 5u;
            if (fo > rest) fo = rest;
            memcpy(f.fopts, p + 5, fo);
            f.fopts_len = (uint8_t)fo;
            f.has_fport = !(p[2] & 16);
            f.fport = p[4];
            if (f.fport == 0 && fo) f.fopts_len = 0;
            f.frm_len = f.has_fport ? rest - fo : 0;
            memcpy(f.frm, p + 5 + fo, f.frm_len);
            uint8_t phy[LW_PHY_MAX];
            size_t n = 0;
            lw_keys k = {.nwk_s_key = NWK, .app_s_key = APP};
            uint32_t fcnt = (uint32_t)(p[0] | p[1] << 8);
            if (lw_frame_seal(&f, &k, fcnt, phy, sizeof phy, &n, NULL, 0) == 0) push_phy(ns, phy, n, p[2], now);
            break;
        }
        case 3:
            now += (uint64_t)len * 10;
            lw_ns_tick(ns, now);
            break;
        case 4: {
            char err[200];
            lw_ns_downlink_push(ns, "app", len & 1 ? "abp" : "otaa", (const char *)p, len, len & 2, now, err, sizeof err);
            break;
        }
        case 5: {
            uint8_t d[64] = {2, (uint8_t)(last_token >> 8), (uint8_t)last_token, 5, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0};
            static const char *errs[] = {"NONE", "TOO_LATE", "TOO_EARLY", "COLLISION_PACKET", "TX_FREQ", "GPS_UNLOCKED"};
            int n = snprintf((char *)d + 12, 52, "{\"txpk_ack\":{\"error\":\"%s\"}}", errs[len % 6]);
            lw_ns_addr a = {.len = 1};
            d[11] = len & 3;
            a.b[0] = len & 3;
            lw_ns_udp_input(ns, &a, d, 12 + (size_t)n, now);
            break;
        }
        case 6:
            churn(ns, p, len, present);
            break;
        case 7:
            if (len == 1 && p[0] == 0xA5) { /* the whole application goes */
                lw_ns_app_remove(ns, "app");
                memset(present, 0, sizeof present);
                base = 0;
            }
            break;
        }
    }
    size_t want = base;
    for (unsigned k = 0; k < 32; k++) {
        char id[8];
        snprintf(id, sizeof id, "x%u", k);
        lw_dev_rec r;
        if ((lw_ns_dev_get(ns, "app", id, &r) == 0) != present[k]) abort();
        if (present[k] && strcmp(r.dev_id, id)) abort();
        want += present[k];
    }
    if (lw_ns_device_count(ns) != want) abort();
    now += 100000;
    lw_ns_tick(ns, now);
    const lw_ns_stats *st = lw_ns_stats_get(ns);
    if (st->uplinks > st->rxpk) abort();
    lw_ns_free(ns);
    return 0;
}
