/* Internal structures of the LoRaWAN server engine (ns.h), shared by its files:
 * ns.c (registry of apps/devices/gateways, tick, logging), ns_gateway.c (UDP datagrams, dedup),
 * ns_uplink.c (data uplinks: device match, FCnt, MAC, ADR, decode, publish), ns_join.c (join
 * server), ns_downlink.c (queue, class A scheduling, TX_ACK, confirmed downlinks). */
#ifndef TE_LORAWAN_NS_INTERNAL_H
#define TE_LORAWAN_NS_INTERNAL_H
#include "base/buf.h"
#include "base/hmap.h"
#include "base/idx32.h"
#include "lorawan/airtime.h"
#include "lorawan/as_json.h"
#include "lorawan/frame.h"
#include "lorawan/ns.h"
#include "lorawan/region.h"

#define NS_MAX_RX 12       /* receptions of one uplink kept (gateways) */
#define NS_MAC_OUT_MAX 64  /* pending downlink MAC command bytes */

typedef struct ns_gw {
    lw_gw_rec rec;
    bool known;
    bool has_pull;
    lw_ns_addr pull_addr;
    uint8_t pull_version;
    uint64_t last_seen;
    int64_t last_seen_wall;
    bool has_stat;
    lw_gw_stat stat;
    uint64_t rx, tx;
    bool dc_init;
    lw_dc_window dc; /* the gateway's duty cycle per band over the last hour */
    uint64_t busy_start[8], busy_end[8]; /* downlinks scheduled on this gateway (monotonic us) */
    uint16_t token;
} ns_gw;

/* one gateway's reception of an uplink */
typedef struct ns_rx {
    ns_gw *gw;
    uint32_t tmst;
    char time[40];
    int16_t rssi, rssis;
    bool has_rssis;
    float snr;
    uint8_t chan, rfch;
    int64_t wall_us;
} ns_rx;

/* an uplink being deduplicated: the PHYPayload and every reception */
typedef struct ns_up {
    struct ns_up *next; /* FIFO by deadline / free list */
    uint64_t deadline, first_mono;
    int64_t first_wall_us;
    uint16_t len;
    uint8_t phy[LW_PHY_MAX];
    uint32_t freq_hz;
    uint8_t modu, sf;
    uint16_t bw_khz;
    uint32_t bitrate;
    char codr[8];
    uint8_t n_rx;
    ns_rx rx[NS_MAX_RX];
} ns_up;

typedef struct ns_app {
    lw_app_rec r;
} ns_app;

typedef struct ns_down {
    struct ns_down *next;
    lw_as_downlink dl;
    uint8_t attempts;
} ns_down;

/* Per-device state that few devices have at any moment (queued or unacknowledged downlinks,
 * pending MAC answers, a LinkADRReq in flight, the last DevStatusAns): allocated on first use
 * (ns_dev_x_get) and freed when empty again (ns_dev_x_trim), so an idle device does not pay for it. */
typedef struct ns_dev_x {
    ns_down *q_head, *q_tail;
    uint32_t q_len;
    ns_down *awaiting_ack; /* a confirmed downlink sent, ACK expected in the next uplink */
    uint8_t mac_out[NS_MAC_OUT_MAX];
    uint8_t mac_out_len;
    bool adr_req_pending;
    uint8_t adr_dr, adr_txp, adr_nbtrans;
    bool has_dev_status;
    uint8_t battery;
    int8_t margin;
} ns_dev_x;

/* an application id shared by its devices (interned, reference counted) */
typedef struct ns_appid {
    uint32_t refs;
    char id[LW_ID_MAX + 1];
} ns_appid;

/* One registered device, compact (100k devices must fit in a few tens of MB): no name, keys once,
 * the app id shared. Lives in ns->dev_pages (never moves; id = its index); lw_ns_dev_get and the
 * io callbacks get a full lw_dev_rec built from it (ns_dev_to_rec). dev_id[0] == 0: a free slot. */
typedef struct ns_dev {
    lw_session s;
    ns_dev_x *x;              /* rare state, NULL when there is none */
    const ns_appid *app;
    const lw_region *region;
    char *fmt_src;            /* owned JS source when fmt == LW_FMT_JS */
    int64_t created_ms;
    uint32_t id;              /* index in the device pages */
    uint32_t addr_next;       /* next device with the same indexed DevAddr (IDX32_NONE = end); free list */
    uint32_t indexed_addr;
    uint8_t dev_eui[8], join_eui[8];
    uint8_t app_key[16];      /* OTAA root key; zero for ABP */
    char dev_id[LW_ID_MAX + 1];
    int8_t fmt;               /* lw_fmt_kind */
    uint8_t mac_minor;
    char dev_class;
    bool otaa, adr, abp_relax_fcnt, addr_indexed;
} ns_dev;

#define NS_DEV_PAGE_SHIFT 10 /* 1024 devices a page */
#define NS_DEV_PAGE (1u << NS_DEV_PAGE_SHIFT)

/* a downlink handed to a gateway, waiting for its TX_ACK */
typedef struct ns_tx {
    struct ns_tx *next;
    uint16_t token;
    ns_gw *gw;
    uint64_t deadline;
    char app_id[LW_ID_MAX + 1], dev_id[LW_ID_MAX + 1];
    bool is_join;
    bool can_rx2;     /* RX1 attempt: on a TX_ACK error, retry in RX2 */
    uint32_t rx2_tmst, rx2_freq;
    uint8_t rx2_dr;
    uint8_t phy[LW_PHY_MAX];
    uint16_t phy_len;
    const lw_region *region;
    ns_down *dl;      /* application downlink carried (owned here until sent/failed), or NULL */
    uint32_t fcnt;
} ns_tx;

#define NS_CAUSES 24
struct lw_ns {
    lw_ns_conf conf;
    lw_ns_io io;
    lw_fmt_engine *fmt;
    char tenant[LW_ID_MAX + 1];
    char cluster[LW_ID_MAX + 1];
    hmap apps;     /* app_id -> ns_app */
    hmap app_ids;  /* app_id -> ns_appid (ids of registered devices' applications) */
    ns_dev **dev_pages;      /* devices, NS_DEV_PAGE a page */
    uint32_t dev_npages, dev_hi; /* pages allocated; slots ever used (ids < dev_hi) */
    uint32_t dev_free;       /* free slot list through addr_next, IDX32_NONE = empty */
    size_t dev_count;
    idx32 devs;    /* app_id + "/" + dev_id -> device id */
    idx32 by_eui;  /* JoinEUI+DevEUI -> device id */
    idx32 by_addr; /* indexed DevAddr -> first device id of its chain (addr_next) */
    hmap gws;      /* EUI (8 bytes) -> ns_gw */
    hmap dedup;    /* PHYPayload -> ns_up */
    ns_up *up_head, *up_tail, *up_free;
    ns_tx *tx_head;
    lw_ns_stats st;
    buf_t out;     /* JSON being built */
    uint64_t corr_seq;
    uint32_t rng;
    uint64_t cause_last[NS_CAUSES];
    uint64_t cause_suppressed[NS_CAUSES];
};

/* causes logged at most once a minute each */
enum {
    NS_C_BAD_DATAGRAM, NS_C_UNKNOWN_GW, NS_C_BAD_FRAME, NS_C_MIC, NS_C_UNKNOWN_ADDR, NS_C_UNKNOWN_EUI,
    NS_C_FCNT_REPLAY, NS_C_DEVNONCE, NS_C_OVERSIZE, NS_C_FORMATTER, NS_C_NO_GATEWAY, NS_C_TX_ACK, NS_C_MAC,
    NS_C_DOWN_FAIL, NS_C_CRC
};

/* ns.c */
void ns_note(lw_ns *ns, int cause, uint64_t now, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
ns_gw *ns_gw_get_or_add(lw_ns *ns, const uint8_t eui[8], uint64_t now);
ns_dev *ns_dev_find(const lw_ns *ns, const char *app_id, const char *dev_id);
ns_dev *ns_dev_by_eui(const lw_ns *ns, const uint8_t join_eui[8], const uint8_t dev_eui[8]);
ns_dev *ns_dev_by_addr(const lw_ns *ns, uint32_t dev_addr); /* chain head, then ns_dev_addr_next */
ns_dev *ns_dev_addr_next(const lw_ns *ns, const ns_dev *d);
void ns_dev_to_rec(const ns_dev *d, lw_dev_rec *r);
ns_dev_x *ns_dev_x_get(ns_dev *d); /* allocates on first use; NULL when out of memory */
void ns_dev_x_trim(ns_dev *d);     /* free the rare state when it holds nothing */
static inline uint8_t ns_mac_out_len(const ns_dev *d) { return d->x ? d->x->mac_out_len : 0; }
static inline bool ns_adr_req_pending(const ns_dev *d) { return d->x && d->x->adr_req_pending; }
static inline ns_down *ns_q_head(const ns_dev *d) { return d->x ? d->x->q_head : NULL; }
static inline ns_down *ns_awaiting_ack(const ns_dev *d) { return d->x ? d->x->awaiting_ack : NULL; }
ns_app *ns_app_find(const lw_ns *ns, const char *app_id);
void ns_dev_index_addr(lw_ns *ns, ns_dev *d);
void ns_dev_dirty(lw_ns *ns, ns_dev *d);
void ns_ids(const lw_ns *ns, const ns_dev *d, lw_as_ids *ids);
void ns_publish(lw_ns *ns, const ns_dev *d, const char *suffix);
void ns_correlation_id(lw_ns *ns, const char *prefix, char *out, size_t cap);
uint32_t ns_rand(lw_ns *ns);
void ns_session_key_id(const lw_session *s, uint8_t out[16]);
void ns_fmt_kind(const lw_ns *ns, const ns_dev *d, lw_fmt_kind *kind, const char **src);
void ns_event(lw_ns *ns, const char *kind, const ns_dev *d, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* ns_gateway.c */
void ns_up_release(lw_ns *ns, ns_up *u);
void ns_rx_to_as(const ns_up *u, lw_as_rx *rx, size_t n);
void ns_settings_to_as(const ns_up *u, lw_as_settings *s);
/* ns_uplink.c */
void ns_process_uplink(lw_ns *ns, ns_up *u, uint64_t now);
/* ns_join.c */
void ns_device_chmask(const ns_dev *d, lw_chmask *mask);
void ns_process_join(lw_ns *ns, ns_up *u, const lw_frame *f, uint64_t now);
/* ns_downlink.c */
int ns_downlink_class_a(lw_ns *ns, ns_dev *d, const ns_up *u, int up_dr, bool ack, bool force, uint64_t now);
int ns_send_join_accept(lw_ns *ns, ns_dev *d, const ns_up *u, int up_dr, const uint8_t *phy, size_t len,
                        uint64_t now);
void ns_tx_ack(lw_ns *ns, ns_gw *gw, uint16_t token, int error, uint64_t now);
void ns_tx_expire(lw_ns *ns, uint64_t now);
void ns_confirmed_result(lw_ns *ns, ns_dev *d, bool acked, uint64_t now);
void ns_down_event(lw_ns *ns, ns_dev *d, lw_as_down_kind kind, const lw_as_downlink *dl, const char *error);
void ns_down_free(ns_down *x);
void ns_queue_clear(lw_ns *ns, ns_dev *d);
#endif
