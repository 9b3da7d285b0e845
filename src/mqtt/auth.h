/* mqtt/auth: Mosquitto 2.0-compatible authentication (password_file) and authorization (acl_file).
 * Pure: no sockets, no event loop; the *_load helpers read one file, everything else works on bytes.
 *
 * Password file: lines `user:$7$iter$salt$hash` (PBKDF2-HMAC-SHA512, as mosquitto_passwd 2.0 writes)
 * or `user:$6$salt$hash` (SHA512(password || salt), mosquitto 1.x). Salt 12 bytes, hash 64 bytes,
 * padded base64. Username = text before the first ':'; surrounding whitespace is trimmed; '#' lines
 * and blank lines are ignored; a repeated user: the last valid line wins (as mosquitto).
 *   mqtt_passwd_parse(text, len, err, errlen)  build from a file's bytes; NULL only on out of memory.
 *        A malformed line is skipped with a warning "line N: ..." (LOG_WARN, and the first one is
 *        copied into err, which is "" when every line parsed).
 *   mqtt_passwd_load(path, err, errlen)        read + parse a file; NULL with err when unreadable.
 *   mqtt_passwd_check(pw, user, ulen, pass, plen)  1 = user listed and password right, else 0.
 *        Constant-time hash compare; an unknown user costs the same PBKDF2 as a known one.
 *   mqtt_passwd_count(pw), mqtt_passwd_skipped(pw)  users loaded, malformed lines skipped.
 *   mqtt_passwd_hash(pass, plen, iterations, out, outlen)  write a fresh `$7$...` string (random
 *        salt, 0 = 101 iterations) into out; 0, or -1 when out is too small / RNG fails.
 *   mqtt_passwd_free(pw)                       NULL is fine.
 *
 * ACL file: `topic [read|write|readwrite|deny] <topic>` (no type = readwrite; the topic is the rest
 * of the line, so it may hold spaces, but then the type is required), `user <name>` (rest of line),
 * `pattern [type] <topic>` with %c = client id and %u = username substituted anywhere in the text.
 * Topic lines before the first `user` apply to anonymous clients only; topic lines after `user X`
 * to X only (repeated blocks merge); pattern lines to everyone, wherever they appear.
 *   mqtt_acl_parse(text, len, err, errlen)     NULL with err "line N: ..." on any malformed line
 *        (mosquitto refuses such a file too: fail closed) or on out of memory.
 *   mqtt_acl_load(path, err, errlen)           read + parse a file.
 *   mqtt_acl_check(acl, clientid, username, topic, access)  1 = allowed, 0 = denied. Order, as
 *        mosquitto 2.0.11 behaves: the client's list (its user block, or the anonymous list when
 *        username is NULL): a matching deny -> 0, a matching grant -> 1; then, if the client id or
 *        username holds '+' or '#' -> 0; then patterns: a matching deny -> 0, a grant -> 1; else 0.
 *        A %u pattern never applies to anonymous clients (nor %c with clientid NULL).
 *        MQTT_ACL_READ / _WRITE: `topic` is a topic name (no wildcards; else 0), ACL entries match it
 *        as filters ('+'/'#' at the first level do not match a "$..." topic).
 *        MQTT_ACL_SUBSCRIBE: `topic` is a filter ("$share/<group>/" is stripped; an invalid filter
 *        -> 0), checked in the same order with two different tests: a deny entry applies when it
 *        COVERS the filter (every topic the filter can match is denied), a read-granting entry
 *        when it OVERLAPS the filter (at least one topic is matched by both; '+' or '#' at the
 *        first level of either side never meets a "$..." level, so `#` and `$SYS/#` do not
 *        overlap). So a subscription is refused only when it is wholly denied or when the client
 *        can never read anything through it; a grant does NOT mean every message it matches is
 *        readable (a grant may overlap only part of the filter, or overlap only denied topics):
 *        the broker must still check MQTT_ACL_READ per delivered message. Mosquitto's acl_file
 *        grants every SUBSCRIBE and relies on that READ check alone; this stays compatible with
 *        any setup where the subscriber can read at least one topic of each filter it uses.
 *        acl == NULL (no acl_file configured) allows everything.
 *   mqtt_acl_rule_count(acl)                   number of topic + pattern entries loaded.
 *   mqtt_acl_free(acl)                         NULL is fine.
 */
#ifndef TE_MQTT_AUTH_H
#define TE_MQTT_AUTH_H
#include <stddef.h>
#include <stdint.h>

#define MQTT_PASSWD_DEFAULT_ITERATIONS 101
#define MQTT_PASSWD_MAX_ITERATIONS 1000000 /* lines above this are skipped: keep checks bounded */
#define MQTT_PASSWD_HASH_MAX 160           /* enough for any string mqtt_passwd_hash writes */

typedef struct mqtt_passwd mqtt_passwd;
mqtt_passwd *mqtt_passwd_parse(const char *text, size_t len, char *err, size_t errlen);
mqtt_passwd *mqtt_passwd_load(const char *path, char *err, size_t errlen);
int mqtt_passwd_check(const mqtt_passwd *pw, const char *user, size_t ulen, const uint8_t *pass,
                      size_t plen);
size_t mqtt_passwd_count(const mqtt_passwd *pw);
size_t mqtt_passwd_skipped(const mqtt_passwd *pw);
int mqtt_passwd_hash(const uint8_t *pass, size_t plen, unsigned iterations, char *out, size_t outlen);
void mqtt_passwd_free(mqtt_passwd *pw);

/* Access bits, same values as mosquitto's MOSQ_ACL_*. */
enum { MQTT_ACL_READ = 1, MQTT_ACL_WRITE = 2, MQTT_ACL_SUBSCRIBE = 4 };

typedef struct mqtt_acl mqtt_acl;
mqtt_acl *mqtt_acl_parse(const char *text, size_t len, char *err, size_t errlen);
mqtt_acl *mqtt_acl_load(const char *path, char *err, size_t errlen);
int mqtt_acl_check(const mqtt_acl *acl, const char *clientid, const char *username,
                   const char *topic, int access);
size_t mqtt_acl_rule_count(const mqtt_acl *acl);
void mqtt_acl_free(mqtt_acl *acl);

#endif
