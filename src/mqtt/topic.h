/* mqtt/topic: MQTT UTF-8 string rules, topic names, topic filters, matching and shared
 * subscriptions ($share/{group}/{filter}). Pure: no I/O, no allocation.
 *
 *   mqtt_utf8_valid(p, n)              well-formed UTF-8 per MQTT 1.5.4: no U+0000, no surrogates
 *        (U+D800..U+DFFF), no overlong forms, nothing above U+10FFFF. true = valid.
 *   mqtt_topic_name_valid(p, n)        1 when a valid PUBLISH topic name: 1..65535 bytes, valid UTF-8,
 *        no '+' or '#'; 0 otherwise.
 *   mqtt_topic_filter_valid(p, n)      1 when a valid subscription filter: 1..65535 bytes, valid
 *        UTF-8, '#' only as the last character and alone in its level, '+' alone in its level;
 *        0 otherwise. (A "$share/..." filter must first be split with mqtt_share_parse.)
 *   mqtt_topic_match(f, fn, t, tn)     true when topic name t matches filter f ('+' one level,
 *        '#' this level and all below including the parent); a filter starting with '+' or '#'
 *        does not match a topic starting with '$' (MQTT 4.7.2). Inputs are assumed valid.
 *   mqtt_share_parse(p, n, &group, &filter)  "$share/{group}/{filter}": 1 and the two parts (views
 *        into p); 0 when not a shared subscription (group/filter untouched); -1 when a malformed
 *        $share: empty group, group containing '+' or '#', missing or empty filter. The filter
 *        part is not validated here (use mqtt_topic_filter_valid on it).
 */
#ifndef TE_MQTT_TOPIC_H
#define TE_MQTT_TOPIC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mqtt/codec.h"

bool mqtt_utf8_valid(const uint8_t *p, size_t n);
int mqtt_topic_name_valid(const uint8_t *p, size_t n);
int mqtt_topic_filter_valid(const uint8_t *p, size_t n);
bool mqtt_topic_match(const uint8_t *filter, size_t flen, const uint8_t *topic, size_t tlen);
int mqtt_share_parse(const uint8_t *p, size_t n, mqtt_bytes *group, mqtt_bytes *filter);
#endif
