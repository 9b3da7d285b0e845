/* Fuzz target for mqtt/auth: the same bytes are parsed as a mosquitto password file and as an ACL
 * file; then a few checks run and invariants are asserted (a freshly hashed user appended last is
 * accepted, a `topic deny #` user block denies every non-$ topic, results are 0 or 1). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "mqtt/auth.h"

#define FZ_ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

static size_t count_lines(const uint8_t *d, size_t n) {
    size_t l = n ? 1 : 0;
    for (size_t i = 0; i < n; i++) l += d[i] == '\n';
    return l;
}

/* 1 when some "$7$<digits>" has 5+ digits: checking such a user would be slow, so skip checks. */
static int has_slow_hash(const uint8_t *d, size_t n) {
    for (size_t i = 0; i + 3 <= n; i++) {
        if (d[i] != '$' || d[i + 1] != '7' || d[i + 2] != '$') continue;
        size_t k = i + 3;
        while (k < n && d[k] >= '0' && d[k] <= '9') k++;
        if (k - (i + 3) >= 5) return 1;
    }
    return 0;
}

static void fuzz_passwd(const uint8_t *data, size_t size) {
    char err[256];
    mqtt_passwd *pw = mqtt_passwd_parse((const char *)data, size, err, sizeof err);
    if (!pw) return; /* out of memory only */
    FZ_ASSERT(strlen(err) < sizeof err);
    FZ_ASSERT(mqtt_passwd_count(pw) + mqtt_passwd_skipped(pw) <= count_lines(data, size));
    FZ_ASSERT((mqtt_passwd_skipped(pw) == 0) == (err[0] == '\0'));
    int slow = has_slow_hash(data, size);
    if (!slow) {
        const uint8_t *colon = memchr(data, ':', size < 128 ? size : 128);
        size_t ulen = colon ? (size_t)(colon - data) : 0;
        int r = mqtt_passwd_check(pw, (const char *)data, ulen, data, size < 32 ? size : 32);
        FZ_ASSERT(r == 0 || r == 1);
        FZ_ASSERT(mqtt_passwd_check(pw, "", 0, NULL, 0) == 0 || mqtt_passwd_count(pw) > 0);
    }
    mqtt_passwd_free(pw);
    if (slow) return;

    /* A user hashed now and appended as the last line must be accepted with its password only. */
    size_t plen = size < 16 ? size : 16;
    char hash[MQTT_PASSWD_HASH_MAX];
    if (mqtt_passwd_hash(data, plen, 1, hash, sizeof hash) != 0) return;
    static const char user[] = "fz\x01user";
    size_t hl = strlen(hash), ul = sizeof user - 1;
    size_t n = size + 1 + ul + 1 + hl;
    char *text = malloc(n);
    if (!text) return;
    memcpy(text, data, size);
    text[size] = '\n';
    memcpy(text + size + 1, user, ul);
    text[size + 1 + ul] = ':';
    memcpy(text + size + 2 + ul, hash, hl);
    pw = mqtt_passwd_parse(text, n, NULL, 0);
    if (pw) {
        FZ_ASSERT(mqtt_passwd_check(pw, user, ul, data, plen) == 1);
        uint8_t wrong[17];
        memcpy(wrong, data, plen);
        wrong[plen] = 'x';
        FZ_ASSERT(mqtt_passwd_check(pw, user, ul, wrong, plen + 1) == 0);
        mqtt_passwd_free(pw);
    }
    free(text);
}

static const char *const topics[] = {"a/b", "$SYS/broker/uptime", "sensors/x/temp", "x", "/", "a b/c",
                                     "fz/c/fz", "p/u/data"};
static const char *const filters[] = {"#", "+/+", "a/#", "$SYS/#", "sensors/+/temp", "$share/g/a/b", "a/#/b"};

static void fuzz_acl(const uint8_t *data, size_t size) {
    char err[256];
    mqtt_acl *acl = mqtt_acl_parse((const char *)data, size, err, sizeof err);
    if (!acl) {
        FZ_ASSERT(err[0] != '\0' && strlen(err) < sizeof err);
        return;
    }
    FZ_ASSERT(mqtt_acl_rule_count(acl) <= count_lines(data, size));

    /* A topic taken from the input: the last word of its first line. */
    char own[129];
    size_t e = 0;
    while (e < size && e < 128 && data[e] != '\n') e++;
    size_t b = e;
    while (b > 0 && data[b - 1] != ' ' && data[b - 1] != '\t') b--;
    size_t ol = 0;
    for (size_t i = b; i < e; i++)
        if (data[i] != '\0') own[ol++] = (char)data[i];
    own[ol] = '\0';

    const char *ids[] = {NULL, "fz", "u", "+"};
    for (size_t u = 0; u < 4; u++) {
        for (size_t c = 1; c < 4; c++) {
            for (size_t t = 0; t < sizeof topics / sizeof *topics; t++) {
                FZ_ASSERT(mqtt_acl_check(acl, ids[c], ids[u], topics[t], MQTT_ACL_READ) <= 1);
                FZ_ASSERT(mqtt_acl_check(acl, ids[c], ids[u], topics[t], MQTT_ACL_WRITE) <= 1);
            }
            for (size_t f = 0; f < sizeof filters / sizeof *filters; f++) {
                int r = mqtt_acl_check(acl, ids[c], ids[u], filters[f], MQTT_ACL_SUBSCRIBE);
                FZ_ASSERT(r == 0 || r == 1);
                if (strpbrk(filters[f], "+#")) /* not a topic name */
                    FZ_ASSERT(mqtt_acl_check(acl, ids[c], ids[u], filters[f], MQTT_ACL_READ) == 0);
            }
            if (ol) {
                FZ_ASSERT(mqtt_acl_check(acl, ids[c], ids[u], own, MQTT_ACL_READ) <= 1);
                FZ_ASSERT(mqtt_acl_check(acl, ids[c], ids[u], own, MQTT_ACL_SUBSCRIBE) <= 1);
            }
        }
    }
    mqtt_acl_free(acl);

    /* Appending a block that denies everything to a user must deny it every non-$ topic. */
    static const char tail[] = "\nuser fzdeny\ntopic deny #\n";
    size_t n = size + sizeof tail - 1;
    char *text = malloc(n);
    if (!text) return;
    memcpy(text, data, size);
    memcpy(text + size, tail, sizeof tail - 1);
    acl = mqtt_acl_parse(text, n, err, sizeof err);
    FZ_ASSERT(acl != NULL || strstr(err, "out of memory"));
    if (acl) {
        for (size_t t = 0; t < sizeof topics / sizeof *topics; t++) {
            if (topics[t][0] == '$') continue;
            FZ_ASSERT(mqtt_acl_check(acl, "fz", "fzdeny", topics[t], MQTT_ACL_READ) == 0);
            FZ_ASSERT(mqtt_acl_check(acl, "fz", "fzdeny", topics[t], MQTT_ACL_WRITE) == 0);
        }
        FZ_ASSERT(mqtt_acl_check(acl, "fz", "fzdeny", "#", MQTT_ACL_SUBSCRIBE) == 0);
        FZ_ASSERT(mqtt_acl_check(acl, "fz", "fzdeny", "a/+/b", MQTT_ACL_SUBSCRIBE) == 0);
        if (ol && own[0] != '$') FZ_ASSERT(mqtt_acl_check(acl, "fz", "fzdeny", own, MQTT_ACL_WRITE) == 0);
        mqtt_acl_free(acl);
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    te_log_set_level(TE_LOG_NONE);
    FZ_ASSERT(mqtt_acl_check(NULL, "c", NULL, "a", MQTT_ACL_WRITE) == 1);
    fuzz_passwd(data, size);
    fuzz_acl(data, size);
    return 0;
}
