/* Cayenne Low Power Payload (LPP) decoder and encoder, pure C11 (no allocation, no libuv, no
 * OpenSSL, no libm; builds for a Cortex-M4). The application server's built-in "CayenneLPP" payload
 * formatter: it turns an uplink FRMPayload into the `decoded_payload` JSON object exactly as The
 * Things Stack v3 does (pkg/messageprocessors/cayennelpp on go-cayenne-lib v1.2.0), and devices,
 * the simulator and tests use the encoder to build payloads.
 *
 * Wire format: a sequence of [channel:1][type:1][value:size(type)], values big-endian fixed point.
 *
 * The Things Stack shape (the default, flags = LW_LPP_TTS):
 *   - only the 12 original LPP types are decoded; any other type fails the whole payload
 *     (TTS: "invalid channel type"), a trailing lone byte or a short value fails it too;
 *   - keys are "<name>_<channel>": digital_in, digital_out, analog_in, analog_out, luminosity,
 *     presence, temperature, relative_humidity, accelerometer, barometric_pressure, gyrometer, gps;
 *   - accelerometer/gyrometer are {"x","y","z"}, gps is {"altitude","latitude","longitude"};
 *   - object keys come out sorted bytewise (protojson marshals google.protobuf.Struct that way), and
 *     a key seen twice keeps its last value (TTS fills a Go map);
 *   - numbers: integers without a decimal point, fractions with the fewest digits (27.2, -4.1,
 *     1.234, 0), as Go's shortest float formatting prints value/10^d; done with integer arithmetic;
 *   - barometric_pressure is decoded as a SIGNED int16 / 10 (go-cayenne-lib reads an int16,
 *     although the LPP table says unsigned); digital_in/out and presence are plain 0..255 numbers.
 * LW_LPP_EXTENDED additionally decodes the IPSO types of the extended LPP tables (ElectronicCats
 * CayenneLPP): generic_sensor, voltage, current, frequency, percentage, altitude, concentration,
 * power, distance, energy, direction, unix_time, colour {"b","g","r"}, switch. TTS rejects those.
 * Downlinks: TTS's formatter encodes {"value_<ch>": v} as [ch][int16 v*100]..., optionally ended by
 * 0xFF; lw_lpp_decode_downlink_json and lw_lpp_add_value implement that format.
 *
 * Contract, one line per function (int results: 0 or a negative LW_LPP_ERR_*; err gets a message):
 *   lw_lpp_type_info_of(type,flags)        table row of an LPP type id, NULL if unknown under flags
 *   lw_lpp_next(p,n,&off,flags,&item,err,el)  decode the item at *off and advance: 1 item, 0 end
 *   lw_lpp_decode_json(p,n,out,cap,&len,err,el)  uplink -> TTS decoded_payload JSON (NUL-terminated);
 *                                          on LW_LPP_ERR_NOSPACE *len is the length needed (w/o NUL)
 *   lw_lpp_decode_json_ex(...,flags)       same with flags (LW_LPP_EXTENDED)
 *   lw_lpp_decode_downlink_json(...)       downlink FRMPayload -> {"value_<ch>": v, ...}
 *   lw_lpp_format_fixed(raw,dec,out,cap)   raw/10^dec as a JSON number; chars written (w/o NUL), 0 if cap short
 *   lw_lpp_writer_init(w,buf,cap)          start an empty payload in buf
 *   lw_lpp_add_raw(w,ch,type,raw,nraw)     append an item from fixed-point integers (range-checked)
 *   lw_lpp_add(w,ch,type,vals,nvals)       append an item from physical values (rounded to nearest)
 *   lw_lpp_add_<type>(w,ch,...)            typed shortcuts for every type (see below)
 *   lw_lpp_add_value(w,ch,v)               append a TTS downlink value (int16 v*100)
 * A failed add leaves the payload unchanged. */
#ifndef TE_LORAWAN_LPP_H
#define TE_LORAWAN_LPP_H

#include <stddef.h>
#include <stdint.h>

#define LW_LPP_ERR_TRUNCATED (-1)    /* value or header runs past the end */
#define LW_LPP_ERR_UNKNOWN_TYPE (-2) /* type id not decodable (under the given flags) */
#define LW_LPP_ERR_NOSPACE (-3)      /* output buffer too small */
#define LW_LPP_ERR_RANGE (-4)        /* encoder: value out of the type's range */
#define LW_LPP_ERR_ARG (-5)          /* bad argument (NULL pointer, wrong value count) */
#define LW_LPP_ERR_TOO_LONG (-6)     /* payload longer than LW_LPP_MAX_PAYLOAD */

#define LW_LPP_MAX_PAYLOAD 512 /* far above any LoRaWAN FRMPayload (<= 242 bytes) */

#define LW_LPP_TTS 0u      /* the 12 types The Things Stack decodes */
#define LW_LPP_EXTENDED 1u /* plus the extended IPSO types */

enum {
    LW_LPP_DIGITAL_IN = 0,
    LW_LPP_DIGITAL_OUT = 1,
    LW_LPP_ANALOG_IN = 2,
    LW_LPP_ANALOG_OUT = 3,
    LW_LPP_GENERIC_SENSOR = 100,
    LW_LPP_LUMINOSITY = 101,
    LW_LPP_PRESENCE = 102,
    LW_LPP_TEMPERATURE = 103,
    LW_LPP_RELATIVE_HUMIDITY = 104,
    LW_LPP_ACCELEROMETER = 113,
    LW_LPP_BAROMETRIC_PRESSURE = 115,
    LW_LPP_VOLTAGE = 116,
    LW_LPP_CURRENT = 117,
    LW_LPP_FREQUENCY = 118,
    LW_LPP_PERCENTAGE = 120,
    LW_LPP_ALTITUDE = 121,
    LW_LPP_CONCENTRATION = 125,
    LW_LPP_POWER = 128,
    LW_LPP_DISTANCE = 130,
    LW_LPP_ENERGY = 131,
    LW_LPP_DIRECTION = 132,
    LW_LPP_UNIX_TIME = 133,
    LW_LPP_GYROMETER = 134,
    LW_LPP_COLOUR = 135,
    LW_LPP_GPS = 136,
    LW_LPP_SWITCH = 142,
};

/* One LPP type: the value is nfields big-endian integers; field i is width[i] bytes, divided by
 * 10^dec[i]. Objects (nfields > 1) name their fields; out_order lists them sorted by name. */
typedef struct {
    uint8_t type;
    const char *name; /* key prefix, e.g. "temperature" */
    uint8_t size;     /* value bytes */
    uint8_t nfields;  /* 1 = scalar */
    uint8_t is_signed;
    uint8_t tts; /* decoded by The Things Stack */
    uint8_t width[3];
    uint8_t dec[3];
    const char *field[3];
    uint8_t out_order[3];
} lw_lpp_type_info;

typedef struct {
    uint8_t channel;
    uint8_t type;
    size_t offset; /* of the channel byte */
    const lw_lpp_type_info *info;
    int64_t raw[3]; /* fixed-point field values, sign-extended when signed */
} lw_lpp_item;

typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len;
} lw_lpp_writer;

const lw_lpp_type_info *lw_lpp_type_info_of(uint8_t type, unsigned flags);
int lw_lpp_next(const uint8_t *p, size_t n, size_t *off, unsigned flags, lw_lpp_item *item, char *err, size_t errlen);
int lw_lpp_decode_json(const uint8_t *p, size_t n, char *out, size_t cap, size_t *len, char *err, size_t errlen);
int lw_lpp_decode_json_ex(const uint8_t *p, size_t n, unsigned flags, char *out, size_t cap, size_t *len, char *err,
                          size_t errlen);
int lw_lpp_decode_downlink_json(const uint8_t *p, size_t n, char *out, size_t cap, size_t *len, char *err,
                                size_t errlen);
size_t lw_lpp_format_fixed(int64_t raw, unsigned dec, char *out, size_t cap);

void lw_lpp_writer_init(lw_lpp_writer *w, uint8_t *buf, size_t cap);
int lw_lpp_add_raw(lw_lpp_writer *w, uint8_t channel, uint8_t type, const int64_t *raw, size_t nraw);
int lw_lpp_add(lw_lpp_writer *w, uint8_t channel, uint8_t type, const double *vals, size_t nvals);
int lw_lpp_add_value(lw_lpp_writer *w, uint8_t channel, double value);

int lw_lpp_add_digital_in(lw_lpp_writer *w, uint8_t channel, uint8_t value);
int lw_lpp_add_digital_out(lw_lpp_writer *w, uint8_t channel, uint8_t value);
int lw_lpp_add_analog_in(lw_lpp_writer *w, uint8_t channel, double value);
int lw_lpp_add_analog_out(lw_lpp_writer *w, uint8_t channel, double value);
int lw_lpp_add_generic_sensor(lw_lpp_writer *w, uint8_t channel, uint32_t value);
int lw_lpp_add_luminosity(lw_lpp_writer *w, uint8_t channel, uint16_t lux);
int lw_lpp_add_presence(lw_lpp_writer *w, uint8_t channel, uint8_t value);
int lw_lpp_add_temperature(lw_lpp_writer *w, uint8_t channel, double celsius);
int lw_lpp_add_relative_humidity(lw_lpp_writer *w, uint8_t channel, double percent);
int lw_lpp_add_accelerometer(lw_lpp_writer *w, uint8_t channel, double x, double y, double z);
int lw_lpp_add_barometric_pressure(lw_lpp_writer *w, uint8_t channel, double hpa);
int lw_lpp_add_voltage(lw_lpp_writer *w, uint8_t channel, double volts);
int lw_lpp_add_current(lw_lpp_writer *w, uint8_t channel, double amperes);
int lw_lpp_add_frequency(lw_lpp_writer *w, uint8_t channel, uint32_t hz);
int lw_lpp_add_percentage(lw_lpp_writer *w, uint8_t channel, uint8_t percent);
int lw_lpp_add_altitude(lw_lpp_writer *w, uint8_t channel, int16_t metres);
int lw_lpp_add_concentration(lw_lpp_writer *w, uint8_t channel, uint16_t ppm);
int lw_lpp_add_power(lw_lpp_writer *w, uint8_t channel, uint16_t watts);
int lw_lpp_add_distance(lw_lpp_writer *w, uint8_t channel, double metres);
int lw_lpp_add_energy(lw_lpp_writer *w, uint8_t channel, double kwh);
int lw_lpp_add_direction(lw_lpp_writer *w, uint8_t channel, uint16_t degrees);
int lw_lpp_add_unix_time(lw_lpp_writer *w, uint8_t channel, uint32_t seconds);
int lw_lpp_add_gyrometer(lw_lpp_writer *w, uint8_t channel, double x, double y, double z);
int lw_lpp_add_colour(lw_lpp_writer *w, uint8_t channel, uint8_t r, uint8_t g, uint8_t b);
int lw_lpp_add_gps(lw_lpp_writer *w, uint8_t channel, double latitude, double longitude, double altitude_m);
int lw_lpp_add_switch(lw_lpp_writer *w, uint8_t channel, uint8_t on);

#endif
