/* Semtech UDP packet-forwarder protocol ("GWMP"), versions 1 and 2: a sans-I/O codec for the
 * gateway bridge (server side; uses jansson, not built for the microcontroller).
 *
 * Datagram: [version:1][token:2][identifier:1] then, by identifier,
 *   PUSH_DATA 0x00 gw->srv  [EUI:8][JSON {"rxpk":[...],"stat":{...}}]
 *   PUSH_ACK  0x01 srv->gw  nothing more
 *   PULL_DATA 0x02 gw->srv  [EUI:8]
 *   PULL_RESP 0x03 srv->gw  [JSON {"txpk":{...}}]   (v1: token bytes unused)
 *   PULL_ACK  0x04 srv->gw  nothing more
 *   TX_ACK    0x05 gw->srv  [EUI:8][optional JSON {"txpk_ack":{"error":"..."}}]  (v2 only)
 * The token is read and written as bytes 1-2 big-endian, so echoing it back is byte-exact.
 * Frequencies are carried in Hz here (MHz reals on the wire). Unknown JSON members are ignored;
 * known members of a wrong type or out of range reject the whole datagram. Trailing NUL bytes after
 * a JSON body (sent by some forwarders) are ignored.
 *
 * Contract, one line per function (int results: 0 or a negative LW_GW_ERR_*; err gets a message):
 *   lw_gw_parse(d,n,out,err,errlen)        decode any gateway->server datagram (PUSH_DATA, PULL_DATA,
 *                                          TX_ACK) or a bare PUSH_ACK/PULL_ACK into *out; PULL_RESP
 *                                          is not decoded (LW_GW_ERR_IDENT); *out is zeroed first
 *   lw_gw_build_ack(version,token,ident,out,cap,&len)  4-byte PUSH_ACK or PULL_ACK datagram
 *   lw_gw_build_pull_resp(tx,version,token,out,cap,&len)  PULL_RESP datagram with {"txpk":{...}}
 *   lw_gw_txerr_name(code)                 "NONE", "TOO_LATE", ... for an LW_GW_TXERR_* code
 * Gateway side (the simulator's gateways, tests):
 *   lw_gw_build_push_data(rx,n,stat,version,token,eui,out,cap,&len)  PUSH_DATA with n rxpk (n may be
 *                                          0) and an optional stat object; LoRa or FSK rxpk
 *   lw_gw_build_pull_data(version,token,eui,out,cap,&len)  12-byte PULL_DATA keepalive
 *   lw_gw_build_tx_ack(token,eui,error,out,cap,&len)  v2 TX_ACK; error LW_GW_TXERR_NONE sends
 *                                          {"txpk_ack":{"error":"NONE"}}, others their name
 *   lw_gw_parse_pull_resp(d,n,out,err,errlen)  decode a PULL_RESP datagram into *out (zeroed first);
 *                                          out->tx.data / out->tx.codr point into out itself
 *   lw_gw_strerror(rc)                     short name of an LW_GW_ERR_* code
 * Nothing allocates beyond jansson's transient tree, which is always freed. */
#ifndef TE_LORAWAN_GWPROTO_H
#define TE_LORAWAN_GWPROTO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_GW_MAX_RXPK 16
#define LW_GW_MAX_PAYLOAD 256
#define LW_GW_HDR_LEN 4
#define LW_GW_EUI_HDR_LEN 12

enum {
    LW_GW_PUSH_DATA = 0x00,
    LW_GW_PUSH_ACK = 0x01,
    LW_GW_PULL_DATA = 0x02,
    LW_GW_PULL_RESP = 0x03,
    LW_GW_PULL_ACK = 0x04,
    LW_GW_TX_ACK = 0x05,
};

enum {
    LW_GW_ERR_ARG = -1,       /* NULL pointer, bad argument to a builder */
    LW_GW_ERR_TRUNCATED = -2, /* shorter than the header for its identifier */
    LW_GW_ERR_VERSION = -3,   /* version byte not 1 or 2 */
    LW_GW_ERR_IDENT = -4,     /* unknown identifier, or one not valid here / in this version */
    LW_GW_ERR_JSON = -5,      /* body is not a JSON object, or has extra bytes where none belong */
    LW_GW_ERR_FIELD = -6,     /* missing member, wrong type, out of range, bad string value */
    LW_GW_ERR_BASE64 = -7,    /* data is not strict base64 */
    LW_GW_ERR_SIZE = -8,      /* size disagrees with the decoded data, or data over 256 bytes */
    LW_GW_ERR_TOOMANY = -9,   /* more than LW_GW_MAX_RXPK packets */
    LW_GW_ERR_NOSPACE = -10,  /* output buffer too small */
};

enum { LW_GW_MODU_LORA = 1, LW_GW_MODU_FSK = 2 };

/* TX_ACK error codes (txpk_ack.error); LW_GW_TXERR_NONE also when the JSON body is absent */
enum {
    LW_GW_TXERR_NONE = 0,
    LW_GW_TXERR_TOO_LATE,
    LW_GW_TXERR_TOO_EARLY,
    LW_GW_TXERR_COLLISION_PACKET,
    LW_GW_TXERR_COLLISION_BEACON,
    LW_GW_TXERR_TX_FREQ,
    LW_GW_TXERR_TX_POWER,
    LW_GW_TXERR_GPS_UNLOCKED,
};

/* lw_gw_rxpk.has bits for optional members */
#define LW_GW_RX_TIME 0x001u
#define LW_GW_RX_TMMS 0x002u
#define LW_GW_RX_CHAN 0x004u
#define LW_GW_RX_RFCH 0x008u
#define LW_GW_RX_STAT 0x010u
#define LW_GW_RX_CODR 0x020u
#define LW_GW_RX_RSSI 0x040u
#define LW_GW_RX_LSNR 0x080u
#define LW_GW_RX_RSSIS 0x100u

/* One received packet. Required: tmst, freq, modu, datr, size, data (and codr for LORA). */
typedef struct {
    unsigned has;       /* LW_GW_RX_* bits */
    char time[40];      /* ISO 8601 UTC, as sent */
    uint64_t tmms;      /* GPS time, ms since 1980-01-06 */
    uint32_t tmst;      /* concentrator counter, us */
    uint32_t freq_hz;   /* centre frequency */
    uint8_t chan, rfch; /* IF channel, RF chain */
    int8_t stat;        /* CRC status: 1 OK, -1 fail, 0 none */
    uint8_t modu;       /* LW_GW_MODU_* */
    uint8_t sf;         /* LORA: spreading factor 5..12 */
    uint16_t bw_khz;    /* LORA: 125, 250 or 500 */
    uint32_t bitrate;   /* FSK: bits/s */
    char codr[8];       /* LORA coding rate, "4/5".."4/8" or "OFF" */
    int16_t rssi;       /* dBm (channel RSSI) */
    int16_t rssis;      /* dBm (signal RSSI, v2 / SX1302) */
    float lsnr;         /* dB */
    uint16_t size;      /* = payload length */
    uint8_t data[LW_GW_MAX_PAYLOAD];
} lw_gw_rxpk;

/* lw_gw_stat.has bits */
#define LW_GW_ST_TIME 0x001u
#define LW_GW_ST_LATI 0x002u
#define LW_GW_ST_LONG 0x004u
#define LW_GW_ST_ALTI 0x008u
#define LW_GW_ST_RXNB 0x010u
#define LW_GW_ST_RXOK 0x020u
#define LW_GW_ST_RXFW 0x040u
#define LW_GW_ST_ACKR 0x080u
#define LW_GW_ST_DWNB 0x100u
#define LW_GW_ST_TXNB 0x200u

/* Gateway status; every member optional. */
typedef struct {
    unsigned has;     /* LW_GW_ST_* bits */
    char time[40];    /* "2014-01-12 08:59:28 GMT" */
    double lati, lon; /* degrees */
    int32_t alti;     /* metres */
    uint32_t rxnb, rxok, rxfw, dwnb, txnb;
    double ackr; /* percent, 0..100 */
} lw_gw_stat;

typedef struct {
    uint8_t version; /* 1 or 2 */
    uint16_t token;  /* bytes 1-2, big-endian */
    uint8_t ident;   /* LW_GW_* identifier */
    bool has_eui;    /* PUSH_DATA, PULL_DATA, TX_ACK */
    uint8_t eui[8];  /* gateway EUI as on the wire (MSB first) */
    size_t n_rxpk;   /* PUSH_DATA */
    lw_gw_rxpk rxpk[LW_GW_MAX_RXPK];
    bool has_stat; /* PUSH_DATA */
    lw_gw_stat stat;
    int tx_error; /* TX_ACK: LW_GW_TXERR_* */
} lw_gw_msg;

/* A downlink for PULL_RESP. Either imme, or tmst (has_tmst), or tmms (has_tmms). */
typedef struct {
    bool imme;
    bool has_tmst;
    uint32_t tmst;
    bool has_tmms;
    uint64_t tmms;
    uint32_t freq_hz;
    uint8_t rfch;
    int8_t powe;      /* dBm */
    uint8_t modu;     /* LW_GW_MODU_* */
    uint8_t sf;       /* LORA 5..12 */
    uint16_t bw_khz;  /* LORA 125/250/500 */
    uint32_t bitrate; /* FSK */
    uint32_t fdev;    /* FSK frequency deviation, Hz (0 = omit) */
    const char *codr; /* LORA: "4/5".."4/8"; NULL = "4/5" */
    bool ipol;
    uint16_t prea; /* preamble symbols, 0 = omit */
    bool ncrc;
    uint16_t size; /* <= LW_GW_MAX_PAYLOAD */
    const uint8_t *data;
} lw_gw_txpk;

/* A decoded PULL_RESP: the txpk with its payload owned here (tx.data == data, tx.codr == codr;
 * re-point them after copying the struct). */
typedef struct {
    uint8_t version;
    uint16_t token;
    lw_gw_txpk tx;
    char codr[8];
    uint8_t data[LW_GW_MAX_PAYLOAD];
} lw_gw_pull_resp;

int lw_gw_parse(const uint8_t *d, size_t n, lw_gw_msg *out, char *err, size_t errlen);
int lw_gw_build_ack(uint8_t version, uint16_t token, uint8_t ident, uint8_t *out, size_t cap, size_t *len);
int lw_gw_build_pull_resp(const lw_gw_txpk *tx, uint8_t version, uint16_t token, uint8_t *out, size_t cap, size_t *len);
int lw_gw_build_push_data(const lw_gw_rxpk *rx, size_t n, const lw_gw_stat *stat, uint8_t version, uint16_t token,
                          const uint8_t eui[8], uint8_t *out, size_t cap, size_t *len);
int lw_gw_build_pull_data(uint8_t version, uint16_t token, const uint8_t eui[8], uint8_t *out, size_t cap, size_t *len);
int lw_gw_build_tx_ack(uint16_t token, const uint8_t eui[8], int error, uint8_t *out, size_t cap, size_t *len);
int lw_gw_parse_pull_resp(const uint8_t *d, size_t n, lw_gw_pull_resp *out, char *err, size_t errlen);
const char *lw_gw_txerr_name(int code);
const char *lw_gw_strerror(int rc);

#endif
