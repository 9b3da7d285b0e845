/* LoRaWAN 1.0.4 MAC commands (pure C, no allocation, no I/O; builds for Cortex-M4): parse and encode
 * the command sequences carried in FOpts or in an FPort-0 FRMPayload, in both directions.
 * uplink = end-device -> network (LinkCheckReq, LinkADRAns, ..., DeviceTimeReq);
 * downlink = network -> end-device (LinkCheckAns, LinkADRReq, ..., DeviceTimeAns).
 * Handled CIDs: 0x02 LinkCheck, 0x03 LinkADR, 0x04 DutyCycle, 0x05 RXParamSetup, 0x06 DevStatus,
 * 0x07 NewChannel, 0x08 RXTimingSetup, 0x09 TxParamSetup, 0x0A DlChannel, 0x0D DeviceTime; CIDs
 * 0x80..0xFF are proprietary: their length is not known, so one takes the rest of the input as opaque
 * bytes. Any other CID is unknown: parsing stops there (the rest cannot be interpreted).
 * RFU bits are kept in *_rfu fields so that parse -> encode reproduces the input exactly; the encoder
 * rejects values that do not fit their field (LW_ERR_ARG). Frequencies are in Hz (on air: 24 bits
 * of 100 Hz, little-endian); multi-byte fields are little-endian on air.
 *
 * Contract, one line per function (0 or a negative LW_ERR_* from crypto.h; err/errlen may be NULL/0):
 *   lw_mac_parse(p,n,uplink,out,max,&count,err,errlen)  split p[0..n) into commands out[0..*count);
 *       an unknown CID -> LW_ERR_UNSUPPORTED, a command cut short -> LW_ERR_TRUNCATED (message names
 *       the CID), more than max commands -> LW_ERR_BUFFER; in every case *count holds the commands
 *       parsed before the failure and lw_mac_size(out,*count,uplink) is the failing byte offset.
 *       Proprietary commands point into p (p must outlive out)
 *   lw_mac_encode(cmds,n,uplink,out,cap,&len)  the exact inverse of lw_mac_parse; LW_ERR_UNSUPPORTED
 *       for a CID without a layout, LW_ERR_ARG for a value out of its field or a proprietary
 *       command that is not the last one, LW_ERR_BUFFER if the bytes exceed cap
 *   lw_mac_size(cmds,n,uplink)        encoded length in bytes (>= 0, compare with LW_MAC_FOPTS_MAX),
 *                                     LW_ERR_UNSUPPORTED for a CID without a layout, LW_ERR_ARG
 *   lw_mac_payload_len(cid,uplink)    bytes after the CID for a standard command, LW_MAC_LEN_REST
 *                                     for a proprietary one, LW_ERR_UNSUPPORTED if unknown
 *   lw_mac_name(cid,uplink)           static name, e.g. "LinkADRReq"; "Proprietary" or "Unknown"
 */
#ifndef TE_LORAWAN_MAC_H
#define TE_LORAWAN_MAC_H

#include "lorawan/crypto.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_MAC_FOPTS_MAX 15    /* FOpts holds at most 15 bytes of MAC commands */
#define LW_MAC_LEN_REST (-100) /* lw_mac_payload_len of a proprietary CID: the rest of the input */

enum {
    LW_MAC_LINK_CHECK = 0x02,
    LW_MAC_LINK_ADR = 0x03,
    LW_MAC_DUTY_CYCLE = 0x04,
    LW_MAC_RX_PARAM_SETUP = 0x05,
    LW_MAC_DEV_STATUS = 0x06,
    LW_MAC_NEW_CHANNEL = 0x07,
    LW_MAC_RX_TIMING_SETUP = 0x08,
    LW_MAC_TX_PARAM_SETUP = 0x09,
    LW_MAC_DL_CHANNEL = 0x0A,
    LW_MAC_DEVICE_TIME = 0x0D,
    LW_MAC_PROPRIETARY_MIN = 0x80,
};

/* LinkADRAns status bits */
#define LW_MAC_LINK_ADR_CHMASK_ACK 0x01
#define LW_MAC_LINK_ADR_DR_ACK 0x02
#define LW_MAC_LINK_ADR_POWER_ACK 0x04
/* RXParamSetupAns status bits */
#define LW_MAC_RX_PARAM_CHANNEL_ACK 0x01
#define LW_MAC_RX_PARAM_RX2_DR_ACK 0x02
#define LW_MAC_RX_PARAM_RX1_DR_OFFSET_ACK 0x04
/* NewChannelAns status bits */
#define LW_MAC_NEW_CHANNEL_FREQ_OK 0x01
#define LW_MAC_NEW_CHANNEL_DR_RANGE_OK 0x02
/* DlChannelAns status bits */
#define LW_MAC_DL_CHANNEL_FREQ_OK 0x01
#define LW_MAC_DL_CHANNEL_UL_FREQ_EXISTS 0x02

typedef struct lw_mac_cmd {
    uint8_t cid;
    union {
        /* 0x02 down: LinkCheckAns (LinkCheckReq up has no payload) */
        struct {
            uint8_t margin; /* dB above the demodulation floor, 0..254 */
            uint8_t gw_cnt;
        } link_check_ans;
        /* 0x03 down: LinkADRReq */
        struct lw_mac_link_adr_req {
            uint8_t data_rate;    /* 4 bits */
            uint8_t tx_power;     /* 4 bits */
            uint16_t ch_mask;     /* bit i = channel i of the ChMaskCntl bank */
            uint8_t ch_mask_cntl; /* 3 bits */
            uint8_t nb_trans;     /* 4 bits, 0 = keep */
            uint8_t rfu;          /* Redundancy bit 7 */
        } link_adr_req;
        /* status byte of LinkADRAns (0x03 up), RXParamSetupAns (0x05 up), NewChannelAns (0x07 up),
         * DlChannelAns (0x0A up): LW_MAC_* bits, RFU bits kept as on air */
        struct {
            uint8_t status;
        } ans;
        /* 0x04 down: DutyCycleReq (DutyCycleAns up has no payload) */
        struct {
            uint8_t max_dcycle; /* 4 bits: aggregated duty cycle 1/2^max_dcycle */
            uint8_t rfu;        /* bits 7..4 */
        } duty_cycle_req;
        /* 0x05 down: RXParamSetupReq */
        struct lw_mac_rx_param_setup_req {
            uint8_t rx1_dr_offset; /* 3 bits */
            uint8_t rx2_data_rate; /* 4 bits */
            uint8_t rfu;           /* DLsettings bit 7 */
            uint32_t frequency;    /* Hz, multiple of 100, < 2^24 * 100 */
        } rx_param_setup_req;
        /* 0x06 up: DevStatusAns (DevStatusReq down has no payload) */
        struct {
            uint8_t battery; /* 0 external power, 1..254 level, 255 unknown */
            int8_t margin;   /* SNR margin in dB, 6-bit signed: -32..31 */
            uint8_t rfu;     /* RadioStatus bits 7..6 */
        } dev_status_ans;
        /* 0x07 down: NewChannelReq */
        struct lw_mac_new_channel_req {
            uint8_t ch_index;
            uint32_t frequency; /* Hz; 0 disables the channel */
            uint8_t min_dr;     /* 4 bits */
            uint8_t max_dr;     /* 4 bits */
        } new_channel_req;
        /* 0x08 down: RXTimingSetupReq (Ans up has no payload) */
        struct {
            uint8_t delay; /* 4 bits: RX1 delay in seconds, 0 means 1 */
            uint8_t rfu;   /* bits 7..4 */
        } rx_timing_setup_req;
        /* 0x09 down: TxParamSetupReq (Ans up has no payload) */
        struct lw_mac_tx_param_setup_req {
            uint8_t max_eirp;         /* 4 bits: index into the EIRP table */
            bool uplink_dwell_time;   /* bit 4: 400 ms limit */
            bool downlink_dwell_time; /* bit 5 */
            uint8_t rfu;              /* bits 7..6 */
        } tx_param_setup_req;
        /* 0x0A down: DlChannelReq */
        struct {
            uint8_t ch_index;
            uint32_t frequency; /* Hz */
        } dl_channel_req;
        /* 0x0D down: DeviceTimeAns (DeviceTimeReq up has no payload) */
        struct {
            uint32_t gps_seconds; /* seconds since the GPS epoch */
            uint8_t fraction;     /* 1/256 s */
        } device_time_ans;
        /* 0x80..0xFF: opaque bytes after the CID, up to the end of the input */
        struct {
            const uint8_t *data;
            size_t len;
        } proprietary;
    } u;
} lw_mac_cmd;

int lw_mac_parse(const uint8_t *p, size_t n, bool uplink, lw_mac_cmd *out, size_t max, size_t *count, char *err,
                 size_t errlen);
int lw_mac_encode(const lw_mac_cmd *cmds, size_t n, bool uplink, uint8_t *out, size_t cap, size_t *len);
int lw_mac_size(const lw_mac_cmd *cmds, size_t n, bool uplink);
int lw_mac_payload_len(uint8_t cid, bool uplink);
const char *lw_mac_name(uint8_t cid, bool uplink);

#endif
