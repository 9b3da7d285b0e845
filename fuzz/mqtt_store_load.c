/* Fuzz target for the broker's persistence loader (mqtt/store.c): the input is cut into records
 * (1 length byte + body each), framed with valid lengths and CRCs so the fuzzer reaches the record
 * decoder rather than the checksum, written to a temp dir as mqtt.db, loaded into a broker, then
 * the broker reconnects one of the restored client ids, ticks and shuts down. A corrupt or hostile
 * file must load what it can and never crash or leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/buf.h"
#include "base/log.h"
#include "mqtt/broker.h"
#include "mqtt/codec.h"
#include "mqtt/store.h"

static int io_write(void *ud, void *conn, const uint8_t *p, size_t n) { return 0; }
static void io_close(void *ud, void *conn) { *(int *)conn = 1; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/te-fuzz-store.%d", (int)getpid());
        te_log_set_level(TE_LOG_NONE);
    }
    buf_t file;
    buf_init(&file);
    size_t off = 0;
    while (off < size) {
        size_t n = data[off++];
        if (n > size - off) n = size - off;
        if (n == 0) continue;
        uint32_t crc = (uint32_t)crc32(0L, data + off, (uInt)n);
        buf_put_u32(&file, (uint32_t)n);
        buf_put_u32(&file, crc);
        buf_append(&file, data + off, n);
        off += n;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/mqtt.db", dir);
    FILE *f = NULL;
    if (access(dir, F_OK) != 0) {
        char mk[96];
        snprintf(mk, sizeof mk, "%s", dir);
        if (mkdir(mk, 0700) && access(dir, F_OK) != 0) goto out;
    }
    f = fopen(path, "wb");
    if (!f) goto out;
    if (file.len) fwrite(file.data, 1, file.len, f);
    fclose(f);

    mqtt_broker_conf conf;
    mqtt_broker_conf_defaults(&conf);
    mqtt_broker_io io = {NULL, io_write, io_close, NULL, NULL};
    mqtt_broker *b = mqtt_broker_new(&conf, &io);
    char err[256];
    mqtt_store *st = mqtt_store_open(dir, MQTT_FSYNC_NEVER, 0, err, sizeof err);
    if (b && st && mqtt_store_load(st, b, err, sizeof err) == 0) {
        mqtt_broker_set_store(b, st);
        /* a client takes over whatever session is called "c": queued messages are resent */
        int closed = 0;
        mqtt_client *c = mqtt_broker_accept(b, &closed, "fuzz", NULL, 1);
        buf_t pkt;
        buf_init(&pkt);
        mqtt_connect_opts o = {.proto_level = 5, .clean_start = false, .keep_alive = 30, .client_id = "c"};
        mqtt_encode_connect(&pkt, &o);
        if (c) mqtt_broker_input(b, c, pkt.data, pkt.len, 2);
        mqtt_broker_tick(b, 5000);
        mqtt_store_flush(st, 5000);
        if (c) mqtt_broker_closed(b, c, 6000);
        mqtt_broker_tick(b, 100000000);
        buf_free(&pkt);
        mqtt_store_compact(st, b);
    }
    mqtt_broker_set_store(b, NULL);
    mqtt_store_close(st);
    mqtt_broker_free(b);
    unlink(path);
    char tmp[140];
    snprintf(tmp, sizeof tmp, "%s/mqtt.db.tmp", dir);
    unlink(tmp);
out:
    buf_free(&file);
    return 0;
}
