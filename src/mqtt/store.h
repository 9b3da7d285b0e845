/* mqtt/store: the broker's persistence, an append-only log of state changes (sessions,
 * subscriptions, queued and in-flight deliveries, incoming QoS 2 ids, retained messages) with
 * periodic compaction into a snapshot. Records are CRC-checked; a torn tail is cut on load.
 *
 * The engine calls the mqtt_store_* record functions as state changes; they append to an in-memory
 * buffer. The host calls mqtt_store_flush() once per loop turn BEFORE transport output is flushed,
 * so every acknowledgement that leaves the process follows the write() of what it acknowledges
 * (kill -9 safe); fsync follows the policy:
 *   MQTT_FSYNC_NEVER   write() only: survives a process crash, not a power loss
 *   MQTT_FSYNC_BATCH   fsync at most every `fsync_ms` (default 1000): bounded loss on power cut
 *   MQTT_FSYNC_ALWAYS  fsync before any acknowledgement leaves: survives a power loss
 *
 *   mqtt_store_open(dir, policy, fsync_ms, err, n)  open or create <dir>/mqtt.db
 *   mqtt_store_load(st, b)                          rebuild broker state from disk (at start)
 *   mqtt_store_flush(st, now)                       write buffered records; fsync per policy
 *   mqtt_store_compact(st, b)                       rewrite the log from the broker's live state
 *   mqtt_store_maybe_compact(st, b, periodic)       compact when the log is much larger than the
 *                                                   live state (periodic: also when merely twice
 *                                                   as large); 1 when it compacted
 *   mqtt_store_close(st)                            flush, fsync, close */
#ifndef TE_MQTT_STORE_H
#define TE_MQTT_STORE_H
#include <stddef.h>
#include <stdint.h>

typedef struct mqtt_store mqtt_store;
struct mqtt_broker;
struct mqtt_session;
struct mqtt_out;
struct mqtt_msg;

enum { MQTT_FSYNC_NEVER = 0, MQTT_FSYNC_BATCH, MQTT_FSYNC_ALWAYS };

mqtt_store *mqtt_store_open(const char *dir, int policy, uint32_t fsync_ms, char *err, size_t errlen);
int mqtt_store_load(mqtt_store *st, struct mqtt_broker *b, char *err, size_t errlen);
int mqtt_store_flush(mqtt_store *st, uint64_t now);
int mqtt_store_compact(mqtt_store *st, struct mqtt_broker *b);
int mqtt_store_maybe_compact(mqtt_store *st, struct mqtt_broker *b, int periodic);
void mqtt_store_close(mqtt_store *st);
uint64_t mqtt_store_size(const mqtt_store *st);

/* record functions called by the engine */
void mqtt_store_session(mqtt_store *st, struct mqtt_session *s);
void mqtt_store_session_del(mqtt_store *st, struct mqtt_session *s);
void mqtt_store_out_add(mqtt_store *st, struct mqtt_session *s, struct mqtt_out *o);
void mqtt_store_out_update(mqtt_store *st, struct mqtt_session *s, struct mqtt_out *o);
void mqtt_store_out_del(mqtt_store *st, struct mqtt_session *s, struct mqtt_out *o);
void mqtt_store_rx_qos2(mqtt_store *st, struct mqtt_session *s, uint16_t pid, int add);
void mqtt_store_retain(mqtt_store *st, struct mqtt_msg *m);
void mqtt_store_retain_del(mqtt_store *st, const char *topic, size_t tlen);
#endif
