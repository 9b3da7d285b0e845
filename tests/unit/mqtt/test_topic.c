/* Unit tests for mqtt/topic: UTF-8 rules, topic name and filter validity, matching (including
 * the '$' rule) and $share parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "mqtt/topic.h"

#define S(s) (const uint8_t *)(s), (sizeof(s) - 1)

/* check on an exact-size heap copy so ASan catches reads past the end */
static bool utf8(const char *s, size_t n) {
    uint8_t *p = calloc(1, n ? n : 1);
    memcpy(p, s, n);
    bool r = mqtt_utf8_valid(p, n);
    free(p);
    return r;
}
#define U(s) utf8((s), sizeof(s) - 1)

static void test_utf8(void **st) {
    (void)st;
    assert_true(U(""));
    assert_true(U("a"));
    assert_true(U("hello/world/with/a/long/ascii/topic/name"));
    assert_true(U("\x7f"));
    assert_true(U("\xc2\x80"));                 /* U+0080 */
    assert_true(U("\xdf\xbf"));                 /* U+07FF */
    assert_true(U("\xe0\xa0\x80"));             /* U+0800 */
    assert_true(U("\xed\x9f\xbf"));             /* U+D7FF */
    assert_true(U("\xee\x80\x80"));             /* U+E000 */
    assert_true(U("\xef\xbf\xbf"));             /* U+FFFF */
    assert_true(U("\xef\xbb\xbf" "abc"));       /* BOM is allowed (MQTT-1.5.4-3) */
    assert_true(U("\xf0\x90\x80\x80"));         /* U+10000 */
    assert_true(U("\xf4\x8f\xbf\xbf"));         /* U+10FFFF */
    assert_true(U("abcdefgh\xc3\xa9" "abcdefgh\xf0\x9f\x98\x80xyz"));
    /* NUL anywhere, including inside the 8-byte fast path */
    assert_false(U("\0"));
    assert_false(U("abc\0defghijk"));
    assert_false(U("abcdefg\0"));
    assert_false(U("abcdefgh\0"));
    assert_false(U("abcdefghijklmno\0pq"));
    assert_false(U("\xc0\x80"));                /* overlong NUL */
    assert_false(U("\xc1\xbf"));                /* overlong */
    assert_false(U("\xe0\x9f\xbf"));            /* overlong 3-byte */
    assert_false(U("\xf0\x8f\xbf\xbf"));        /* overlong 4-byte */
    assert_false(U("\xed\xa0\x80"));            /* U+D800 */
    assert_false(U("\xed\xbf\xbf"));            /* U+DFFF */
    assert_false(U("\xed\xa0\xbd\xed\xb8\x80")); /* CESU-8 surrogate pair */
    assert_false(U("\xf4\x90\x80\x80"));        /* U+110000 */
    assert_false(U("\xf5\x80\x80\x80"));
    assert_false(U("\xf8\x88\x80\x80\x80"));
    assert_false(U("\xff"));
    assert_false(U("\xfe"));
    assert_false(U("\x80"));                    /* lone continuation */
    assert_false(U("abcdefgh\xbf"));
    assert_false(U("\xc3"));                    /* truncated */
    assert_false(U("\xe2\x82"));
    assert_false(U("\xf0\x9f\x98"));
    assert_false(U("\xc3\x28"));                /* bad continuation */
    assert_false(U("\xe2\x28\xa1"));
    assert_false(U("\xf0\x9f\x28\x80"));
    /* every position of a NUL in a 20-byte string */
    for (size_t i = 0; i < 20; i++) {
        char s[20];
        memset(s, 'x', sizeof s);
        s[i] = 0;
        assert_false(utf8(s, sizeof s));
        s[i] = (char)0xC3; /* truncated sequence or bad continuation */
        assert_false(utf8(s, sizeof s));
    }
}

static void test_topic_name(void **st) {
    (void)st;
    assert_int_equal(mqtt_topic_name_valid(S("a")), 1);
    assert_int_equal(mqtt_topic_name_valid(S("/")), 1);
    assert_int_equal(mqtt_topic_name_valid(S("a//b/")), 1);
    assert_int_equal(mqtt_topic_name_valid(S("$SYS/broker")), 1);
    assert_int_equal(mqtt_topic_name_valid(S(" ")), 1);
    assert_int_equal(mqtt_topic_name_valid(S("caf\xc3\xa9")), 1);
    assert_int_equal(mqtt_topic_name_valid(S("")), 0);
    assert_int_equal(mqtt_topic_name_valid(S("a/+")), 0);
    assert_int_equal(mqtt_topic_name_valid(S("#")), 0);
    assert_int_equal(mqtt_topic_name_valid(S("a+b")), 0);
    assert_int_equal(mqtt_topic_name_valid(S("a#")), 0);
    assert_int_equal(mqtt_topic_name_valid(S("a\0b")), 0);
    assert_int_equal(mqtt_topic_name_valid(S("\xed\xa0\x80")), 0);
    uint8_t *big = malloc(65536);
    memset(big, 'a', 65536);
    assert_int_equal(mqtt_topic_name_valid(big, 65535), 1);
    assert_int_equal(mqtt_topic_name_valid(big, 65536), 0);
    assert_int_equal(mqtt_topic_filter_valid(big, 65535), 1);
    assert_int_equal(mqtt_topic_filter_valid(big, 65536), 0);
    free(big);
}

static void test_topic_filter(void **st) {
    (void)st;
    static const char *const good[] = {"a", "#", "+", "/", "+/+", "a/#", "a/+/b", "+/#", "/#", "//",
                                       "a//b", "$SYS/#", "sport/tennis/+", "+/tennis/#", "a/+/", "/+",
                                       "$share/g/a"};
    static const char *const bad[] = {"", "a#", "#/a", "a/#/b", "a/b#", "##", "a+", "+a", "a/+b",
                                      "a/b+/c", "++", "+#", "#+", "a/#/", "\xc3"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (mqtt_topic_filter_valid((const uint8_t *)good[i], strlen(good[i])) != 1)
            fail_msg("filter should be valid: '%s'", good[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (mqtt_topic_filter_valid((const uint8_t *)bad[i], strlen(bad[i])) != 0)
            fail_msg("filter should be invalid: '%s'", bad[i]);
    }
    assert_int_equal(mqtt_topic_filter_valid(S("a/\0")), 0);
}

static void test_topic_match(void **st) {
    (void)st;
    static const struct { const char *f, *t; bool m; } cases[] = {
        {"a", "a", true},
        {"a", "b", false},
        {"a", "ab", false},
        {"ab", "a", false},
        {"a/b", "a/b", true},
        {"a/b", "a/c", false},
        {"a", "a/b", false},
        {"a/b", "a", false},
        {"#", "a", true},
        {"#", "a/b/c", true},
        {"#", "/", true},
        {"a/#", "a", true}, /* parent level */
        {"a/#", "a/", true},
        {"a/#", "a/b", true},
        {"a/#", "a/b/c", true},
        {"a/#", "ab", false},
        {"a/#", "b/a", false},
        {"sport/tennis/player1/#", "sport/tennis/player1", true},
        {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
        {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
        {"sport/tennis/player1/#", "sport/tennis/player2", false},
        {"sport/+", "sport", false},
        {"sport/+", "sport/", true},
        {"sport/tennis/+", "sport/tennis/player1", true},
        {"sport/tennis/+", "sport/tennis/player1/ranking", false},
        {"+", "a", true},
        {"+", "", true},
        {"+", "a/b", false},
        {"+", "/", false},
        {"+/+", "/", true},
        {"/+", "/finance", true},
        {"+/+", "/finance", true},
        {"+", "/finance", false},
        {"a/+/c", "a/b/c", true},
        {"a/+/c", "a//c", true},
        {"a/+/c", "a/b/d", false},
        {"a/+/c", "a/b/c/d", false},
        {"+/b/#", "a/b", true},
        {"+/b/#", "a/b/c/d", true},
        {"+/b/#", "a/c", false},
        {"a//b", "a//b", true},
        {"a//b", "a/b", false},
        {"a/", "a", false},
        {"a", "a/", false},
        {"/", "/", true},
        {"/#", "/", true},
        {"/#", "a", false},
        /* $ topics: not matched by filters starting with a wildcard */
        {"#", "$SYS/broker", false},
        {"+/broker", "$SYS/broker", false},
        {"+", "$x", false},
        {"$SYS/#", "$SYS/broker/load", true},
        {"$SYS/+", "$SYS/uptime", true},
        {"$SYS", "$SYS", true},
        {"a/#", "a/$SYS", true},
        {"a/+", "a/$x", true},
        {"$share/#", "$share/x", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool m = mqtt_topic_match((const uint8_t *)cases[i].f, strlen(cases[i].f),
                                  (const uint8_t *)cases[i].t, strlen(cases[i].t));
        if (m != cases[i].m)
            fail_msg("match('%s', '%s') = %d, want %d", cases[i].f, cases[i].t, m, cases[i].m);
    }
    /* exact-size buffers: no overread at either end */
    uint8_t *f = malloc(3), *t = malloc(1);
    memcpy(f, "a/#", 3);
    t[0] = 'a';
    assert_true(mqtt_topic_match(f, 3, t, 1));
    assert_false(mqtt_topic_match(f, 2, t, 1));
    free(f);
    free(t);
}

static void test_share(void **st) {
    (void)st;
    mqtt_bytes g = {0}, f = {0};
    assert_int_equal(mqtt_share_parse(S("$share/grp/a/b"), &g, &f), 1);
    assert_int_equal(g.len, 3);
    assert_memory_equal(g.p, "grp", 3);
    assert_int_equal(f.len, 3);
    assert_memory_equal(f.p, "a/b", 3);
    assert_int_equal(mqtt_share_parse(S("$share/g/#"), &g, &f), 1);
    assert_int_equal(f.len, 1);
    assert_int_equal(mqtt_share_parse(S("$share/g//"), &g, &f), 1);
    assert_int_equal(f.len, 1);
    assert_int_equal(mqtt_share_parse(S("$share/g/+/x/#"), NULL, NULL), 1);
    /* not shared */
    g.len = 99;
    assert_int_equal(mqtt_share_parse(S("a/b"), &g, &f), 0);
    assert_int_equal(g.len, 99);
    assert_int_equal(mqtt_share_parse(S("$share"), &g, &f), 0);
    assert_int_equal(mqtt_share_parse(S("$shared/g/a"), &g, &f), 0);
    assert_int_equal(mqtt_share_parse(S("$SHARE/g/a"), &g, &f), 0);
    assert_int_equal(mqtt_share_parse(S(""), &g, &f), 0);
    assert_int_equal(mqtt_share_parse(S("$shar"), &g, &f), 0);
    assert_int_equal(mqtt_share_parse(S("x/$share/g/a"), &g, &f), 0);
    /* malformed */
    assert_int_equal(mqtt_share_parse(S("$share/"), &g, &f), -1);
    assert_int_equal(mqtt_share_parse(S("$share//a"), &g, &f), -1);
    assert_int_equal(mqtt_share_parse(S("$share/g"), &g, &f), -1);
    assert_int_equal(mqtt_share_parse(S("$share/g/"), &g, &f), -1);
    assert_int_equal(mqtt_share_parse(S("$share/g+/a"), &g, &f), -1);
    assert_int_equal(mqtt_share_parse(S("$share/+/a"), &g, &f), -1);
    assert_int_equal(mqtt_share_parse(S("$share/#/a"), &g, &f), -1);
    assert_int_equal(mqtt_share_parse(S("$share/a#b/a"), &g, &f), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_topic_name),
        cmocka_unit_test(test_topic_filter),
        cmocka_unit_test(test_topic_match),
        cmocka_unit_test(test_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
