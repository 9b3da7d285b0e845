/* Unit tests for mqtt/auth: mosquitto password files ($7$, $6$, malformed lines, the real
 * mosquitto_passwd tool when installed) and ACL files (anonymous list, user blocks, %c/%u
 * patterns, deny precedence, wildcard matching, subscribe deny-coverage and grant-overlap, $SYS,
 * topics with spaces). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"
#include "mqtt/auth.h"

/* Generated once with Debian's mosquitto 2.0.11 `mosquitto_passwd` (-H sha512 for carol). */
#define ALICE_7 "alice:$7$101$pK1RAfZQt5qVit37$rjrJj7oVjZ0l0nAzfvwp237tw0ArEfnLV53aXaHn5Xj49m3RE3f785WceTMQuSXAVVso7NorGKUy6L2EW1y+ZA=="
#define CAROL_6 "carol:$6$NjP5FjAo71PZGBjI$voRJ0o2OmCNlmK6IpNx7RL9cSv7TPY+pWQ9VdI4ywMSiG7COsIAfE5o81LXRl64ooqKgHiNS4Pi3/2Uvc2RQ0w=="
#define SPACE_7 "sp ace:$7$101$9vUx0CZtfY+upwa3$9IkLIfB0/UpTeQXYgXn+lFY2DpaiiFiWmFIsYXY6RAzlM8H0b7jl5+VuNfZhL3ka55ih/TZGgECdWiB0DabmpA=="
/* Same format with other iteration counts (mosquitto 2.0.11 accepts these), password "iter". */
#define IT1_7 "it1:$7$1$AAECAwQFBgcICQoL$a3sgpSIwfF3+KSvJm/fJvL/Wm8Du3tGc9bwhxaaZ5ayyNpueaNuQLtvHXnIgj+85kRx/E+PyurMJu6A+KnLmMQ=="
#define IT1000_7 "it1000:$7$1000$AAECAwQFBgcICQoL$QDPgVhJ3JR8I55dDUGnEFgYvtu+R8JwUoA8FEQ8SKAx95YCRKG3ZsQ034wXkQ2bmb6U6VOEru3s3jGzXgeC7bw=="
#define ALICE_SALT_HASH "$pK1RAfZQt5qVit37$rjrJj7oVjZ0l0nAzfvwp237tw0ArEfnLV53aXaHn5Xj49m3RE3f785WceTMQuSXAVVso7NorGKUy6L2EW1y+ZA=="

static int setup_quiet(void **state) {
    (void)state;
    te_log_set_level(TE_LOG_NONE);
    return 0;
}

static int pw_ok(const mqtt_passwd *pw, const char *user, const char *pass) {
    return mqtt_passwd_check(pw, user, strlen(user), (const uint8_t *)pass, strlen(pass));
}

static mqtt_passwd *pw_from(const char *text, char *err, size_t errlen) {
    mqtt_passwd *pw = mqtt_passwd_parse(text, strlen(text), err, errlen);
    assert_non_null(pw);
    return pw;
}

/* ------------------------------------------------------------------ password file */

static void test_pw_mosquitto_7(void **state) {
    (void)state;
    char err[128];
    mqtt_passwd *pw = pw_from(ALICE_7 "\n", err, sizeof err);
    assert_string_equal(err, "");
    assert_int_equal(mqtt_passwd_count(pw), 1);
    assert_int_equal(pw_ok(pw, "alice", "secret"), 1);
    assert_int_equal(pw_ok(pw, "alice", "Secret"), 0);
    assert_int_equal(pw_ok(pw, "alice", "secret "), 0);
    assert_int_equal(pw_ok(pw, "alice", ""), 0);
    assert_int_equal(pw_ok(pw, "alic", "secret"), 0);
    assert_int_equal(pw_ok(pw, "alicee", "secret"), 0);
    assert_int_equal(pw_ok(pw, "bob", "secret"), 0);
    /* Length-delimited username: "alice" followed by bytes outside ulen is still alice. */
    assert_int_equal(mqtt_passwd_check(pw, "alicebob", 5, (const uint8_t *)"secret", 6), 1);
    assert_int_equal(mqtt_passwd_check(pw, "alice", 5, (const uint8_t *)"secretX", 6), 1);
    assert_int_equal(mqtt_passwd_check(pw, NULL, 0, (const uint8_t *)"secret", 6), 0);
    assert_int_equal(mqtt_passwd_check(pw, "alice", 5, NULL, 0), 0);
    assert_int_equal(mqtt_passwd_check(NULL, "alice", 5, (const uint8_t *)"secret", 6), 0);
    mqtt_passwd_free(pw);
}

static void test_pw_mosquitto_6_and_mixed(void **state) {
    (void)state;
    char err[128];
    mqtt_passwd *pw = pw_from(ALICE_7 "\n" CAROL_6 "\n" SPACE_7 "\n" IT1_7 "\n" IT1000_7, err, sizeof err);
    assert_string_equal(err, "");
    assert_int_equal(mqtt_passwd_count(pw), 5);
    assert_int_equal(mqtt_passwd_skipped(pw), 0);
    assert_int_equal(pw_ok(pw, "carol", "c4r0l"), 1);
    assert_int_equal(pw_ok(pw, "carol", "c4r0L"), 0);
    assert_int_equal(pw_ok(pw, "sp ace", "p@ss w0rd!"), 1);
    assert_int_equal(pw_ok(pw, "sp ace", "p@ss"), 0);
    assert_int_equal(pw_ok(pw, "it1", "iter"), 1);
    assert_int_equal(pw_ok(pw, "it1000", "iter"), 1);
    assert_int_equal(pw_ok(pw, "it1000", "iteR"), 0);
    assert_int_equal(pw_ok(pw, "alice", "secret"), 1);
    assert_int_equal(pw_ok(pw, "alice", "c4r0l"), 0);
    mqtt_passwd_free(pw);
}

static void test_pw_iterations_are_read(void **state) {
    (void)state;
    /* The iteration count is part of the hash: changing it must break the check. */
    char err[128];
    mqtt_passwd *pw = pw_from("x:$7$102" ALICE_SALT_HASH "\n"
                              "y:$7$101" ALICE_SALT_HASH "\n", err, sizeof err);
    assert_int_equal(mqtt_passwd_count(pw), 2);
    assert_int_equal(pw_ok(pw, "x", "secret"), 0);
    assert_int_equal(pw_ok(pw, "y", "secret"), 1);
    mqtt_passwd_free(pw);
}

static void test_pw_comments_blank_whitespace(void **state) {
    (void)state;
    char err[128];
    mqtt_passwd *pw = pw_from("# a comment\n\n   \n\t# indented comment\r\n"
                              "  " ALICE_7 "   \r\n"
                              CAROL_6 "\t\n"
                              "#" SPACE_7 "\n", err, sizeof err);
    assert_string_equal(err, "");
    assert_int_equal(mqtt_passwd_count(pw), 2);
    assert_int_equal(mqtt_passwd_skipped(pw), 0);
    assert_int_equal(pw_ok(pw, "alice", "secret"), 1);
    assert_int_equal(pw_ok(pw, "carol", "c4r0l"), 1);
    assert_int_equal(pw_ok(pw, "sp ace", "p@ss w0rd!"), 0); /* commented out */
    assert_int_equal(pw_ok(pw, "#sp ace", "p@ss w0rd!"), 0);
    mqtt_passwd_free(pw);
}

static void test_pw_malformed_lines_skipped(void **state) {
    (void)state;
    const char *bad[] = {
        "nocolon",
        ":$7$101" ALICE_SALT_HASH,                                  /* empty username */
        "plain:secret",                                              /* plain text */
        "five:$5$abc$def",                                           /* unknown type */
        "zero:$7$0" ALICE_SALT_HASH,                                 /* 0 iterations */
        "neg:$7$-1" ALICE_SALT_HASH,
        "noit:$7$" ALICE_SALT_HASH,
        "huge:$7$99999999999999999999" ALICE_SALT_HASH,
        "toomany:$7$1000001" ALICE_SALT_HASH,
        "itx:$7$10x" ALICE_SALT_HASH,
        "short:$7$101$pK1RAfZQt5qVit37",                             /* no hash */
        "short2:$7$101",
        "short3:$7$",
        "short4:$6$",
        "salt16:$7$101$pK1RAfZQt5qVit37AAAA$rjrJj7oVjZ0l0nAzfvwp237tw0ArEfnLV53aXaHn5Xj49m3RE3f785WceTMQuSXAVVso7NorGKUy6L2EW1y+ZA==",
        "salt9:$7$101$pK1RAfZQt5qV$rjrJj7oVjZ0l0nAzfvwp237tw0ArEfnLV53aXaHn5Xj49m3RE3f785WceTMQuSXAVVso7NorGKUy6L2EW1y+ZA==",
        "badsalt:$7$101$pK1RAfZQt5qVit3!$rjrJj7oVjZ0l0nAzfvwp237tw0ArEfnLV53aXaHn5Xj49m3RE3f785WceTMQuSXAVVso7NorGKUy6L2EW1y+ZA==",
        "nopad:$7$101$pK1RAfZQt5qVit37$rjrJj7oVjZ0l0nAzfvwp237tw0ArEfnLV53aXaHn5Xj49m3RE3f785WceTMQuSXAVVso7NorGKUy6L2EW1y+ZA",
        "trunc:$7$101$pK1RAfZQt5qVit37$rjrJj7oVjZ0l0nAzfvwp237tw0ArEfnLV53aXaHn5Xj49m3RE3f7",
        "extra:$7$101" ALICE_SALT_HASH "$AAAA",
        "trail:$7$101" ALICE_SALT_HASH "x",
        "midpad:$7$101$pK1RAfZQt5qVit37$rjrJj7oV=Z0l0nAzfvwp237tw0ArEfnLV53aXaHn5Xj49m3RE3f785WceTMQuSXAVVso7NorGKUy6L2EW1y+ZA==",
        "col:on:$7$101" ALICE_SALT_HASH,                            /* user "col", hash "on:..." */
        "emptypw:",
        "$7$101" ALICE_SALT_HASH,                                   /* username-less hash */
    };
    size_t nbad = sizeof bad / sizeof *bad;
    for (size_t i = 0; i < nbad; i++) {
        char text[512], err[160];
        snprintf(text, sizeof text, "# header\n%s\n" CAROL_6 "\n", bad[i]);
        mqtt_passwd *pw = pw_from(text, err, sizeof err);
        if (mqtt_passwd_skipped(pw) != 1) fail_msg("line not skipped: %s", bad[i]);
        assert_int_equal(mqtt_passwd_count(pw), 1);
        assert_true(strncmp(err, "line 2: ", 8) == 0);
        assert_int_equal(pw_ok(pw, "carol", "c4r0l"), 1);
        assert_int_equal(pw_ok(pw, "col", "secret"), 0);
        mqtt_passwd_free(pw);
    }
    /* All at once: every bad line counted, the first reported. */
    char big[8192] = "";
    for (size_t i = 0; i < nbad; i++) {
        strcat(big, bad[i]);
        strcat(big, "\n");
    }
    strcat(big, ALICE_7);
    char err[160];
    mqtt_passwd *pw = pw_from(big, err, sizeof err);
    assert_int_equal(mqtt_passwd_skipped(pw), nbad);
    assert_int_equal(mqtt_passwd_count(pw), 1);
    assert_true(strncmp(err, "line 1: ", 8) == 0);
    assert_int_equal(pw_ok(pw, "alice", "secret"), 1);
    mqtt_passwd_free(pw);
}

static void test_pw_nul_byte_line(void **state) {
    (void)state;
    char text[600];
    int n = snprintf(text, sizeof text, "%s\nbo%cb:$7$101%s\n", CAROL_6, 0, ALICE_SALT_HASH);
    char err[128];
    mqtt_passwd *pw = mqtt_passwd_parse(text, (size_t)n, err, sizeof err);
    assert_non_null(pw);
    assert_int_equal(mqtt_passwd_count(pw), 1);
    assert_int_equal(mqtt_passwd_skipped(pw), 1);
    assert_true(strncmp(err, "line 2: ", 8) == 0);
    assert_int_equal(mqtt_passwd_check(pw, "bo\0b", 4, (const uint8_t *)"secret", 6), 0);
    mqtt_passwd_free(pw);
}

static void test_pw_duplicate_last_wins(void **state) {
    (void)state;
    char err[128];
    mqtt_passwd *pw = pw_from("carol:$7$101" ALICE_SALT_HASH "\n" CAROL_6 "\n", err, sizeof err);
    assert_int_equal(mqtt_passwd_count(pw), 1);
    assert_int_equal(pw_ok(pw, "carol", "c4r0l"), 1);
    assert_int_equal(pw_ok(pw, "carol", "secret"), 0);
    mqtt_passwd_free(pw);
    pw = pw_from(CAROL_6 "\ncarol:$7$101" ALICE_SALT_HASH "\n", err, sizeof err);
    assert_int_equal(pw_ok(pw, "carol", "c4r0l"), 0);
    assert_int_equal(pw_ok(pw, "carol", "secret"), 1);
    mqtt_passwd_free(pw);
    /* A later malformed line does not remove the earlier valid one. */
    pw = pw_from(CAROL_6 "\ncarol:plain\n", err, sizeof err);
    assert_int_equal(pw_ok(pw, "carol", "c4r0l"), 1);
    mqtt_passwd_free(pw);
}

static void test_pw_empty_inputs(void **state) {
    (void)state;
    char err[64];
    mqtt_passwd *pw = mqtt_passwd_parse("", 0, err, sizeof err);
    assert_non_null(pw);
    assert_int_equal(mqtt_passwd_count(pw), 0);
    assert_int_equal(pw_ok(pw, "alice", "secret"), 0);
    assert_int_equal(pw_ok(pw, "", ""), 0);
    mqtt_passwd_free(pw);
    pw = mqtt_passwd_parse(NULL, 0, NULL, 0);
    assert_non_null(pw);
    mqtt_passwd_free(pw);
    mqtt_passwd_free(NULL);
    /* No trailing newline, text not NUL-terminated after len. */
    const char *t = ALICE_7 "GARBAGE";
    pw = mqtt_passwd_parse(t, strlen(ALICE_7), err, sizeof err);
    assert_int_equal(pw_ok(pw, "alice", "secret"), 1);
    mqtt_passwd_free(pw);
}

static void test_pw_many_users(void **state) {
    (void)state;
    char line[200];
    size_t cap = 2000 * 160, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int i = 0; i < 2000; i++) {
        int k = snprintf(line, sizeof line, "user%d:$7$101%s\n", (i * 7919) % 2000, ALICE_SALT_HASH);
        memcpy(text + n, line, (size_t)k);
        n += (size_t)k;
    }
    char err[64];
    mqtt_passwd *pw = mqtt_passwd_parse(text, n, err, sizeof err);
    assert_int_equal(mqtt_passwd_count(pw), 2000);
    assert_int_equal(pw_ok(pw, "user0", "secret"), 1);
    assert_int_equal(pw_ok(pw, "user1999", "secret"), 1);
    assert_int_equal(pw_ok(pw, "user2000", "secret"), 0);
    mqtt_passwd_free(pw);
    free(text);
}

static void test_pw_hash_roundtrip(void **state) {
    (void)state;
    char h[MQTT_PASSWD_HASH_MAX], line[MQTT_PASSWD_HASH_MAX + 16], err[64];
    const uint8_t bin[] = {0, 1, 2, 0xff, 0, ':', '$', '\n'};
    assert_int_equal(mqtt_passwd_hash(bin, sizeof bin, 0, h, sizeof h), 0);
    assert_true(strncmp(h, "$7$101$", 7) == 0);
    assert_int_equal(strlen(h), 7 + 16 + 1 + 88);
    snprintf(line, sizeof line, "bin:%s\n", h);
    mqtt_passwd *pw = pw_from(line, err, sizeof err);
    assert_int_equal(mqtt_passwd_check(pw, "bin", 3, bin, sizeof bin), 1);
    assert_int_equal(mqtt_passwd_check(pw, "bin", 3, bin, sizeof bin - 1), 0);
    mqtt_passwd_free(pw);
    /* Two hashes of the same password differ (random salt). */
    char h2[MQTT_PASSWD_HASH_MAX];
    assert_int_equal(mqtt_passwd_hash(bin, sizeof bin, 0, h2, sizeof h2), 0);
    assert_string_not_equal(h, h2);
    /* Explicit iterations, empty password. */
    assert_int_equal(mqtt_passwd_hash(NULL, 0, 7, h, sizeof h), 0);
    assert_true(strncmp(h, "$7$7$", 5) == 0);
    snprintf(line, sizeof line, "e:%s", h);
    pw = pw_from(line, err, sizeof err);
    assert_int_equal(pw_ok(pw, "e", ""), 1);
    assert_int_equal(pw_ok(pw, "e", "x"), 0);
    mqtt_passwd_free(pw);
    /* Bad arguments. */
    assert_int_equal(mqtt_passwd_hash(bin, sizeof bin, 0, h, 20), -1);
    assert_int_equal(mqtt_passwd_hash(bin, sizeof bin, MQTT_PASSWD_MAX_ITERATIONS + 1, h, sizeof h), -1);
    assert_int_equal(mqtt_passwd_hash(NULL, 3, 0, h, sizeof h), -1);
}

static char tmpdir[64];

static const char *tmp_path(const char *name) {
    static char p[128];
    if (!tmpdir[0]) {
        strcpy(tmpdir, "/tmp/te_auth_XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
    }
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_pw_load_file(void **state) {
    (void)state;
    const char *p = tmp_path("pw");
    write_file(p, "# file\n" ALICE_7 "\n" CAROL_6 "\nbroken\n");
    char err[256];
    mqtt_passwd *pw = mqtt_passwd_load(p, err, sizeof err);
    assert_non_null(pw);
    assert_int_equal(mqtt_passwd_count(pw), 2);
    assert_int_equal(mqtt_passwd_skipped(pw), 1);
    assert_true(strncmp(err, "line 4: ", 8) == 0);
    assert_int_equal(pw_ok(pw, "alice", "secret"), 1);
    mqtt_passwd_free(pw);
    unlink(p);
    assert_null(mqtt_passwd_load(tmp_path("missing"), err, sizeof err));
    assert_non_null(strstr(err, "missing"));
    assert_null(mqtt_passwd_load(NULL, err, sizeof err));
}

/* Run argv; 0 on exit status 0, 127 when it could not be started, else another status. */
static int run(char *const argv[]) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) < 0) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_pw_real_mosquitto_passwd(void **state) {
    (void)state;
    const char *p = tmp_path("tool_pw");
    char path[128];
    snprintf(path, sizeof path, "%s", p);
    char *c1[] = {"mosquitto_passwd", "-c", "-b", path, "dave", "d4ve pass:$x", NULL};
    int rc = run(c1);
    if (rc == 127) {
        skip();
        return;
    }
    assert_int_equal(rc, 0);
    char *c2[] = {"mosquitto_passwd", "-H", "sha512", "-b", path, "erin", "3rin", NULL};
    assert_int_equal(run(c2), 0);
    char *c3[] = {"mosquitto_passwd", "-b", path, "fr ank", "", NULL};
    int empty_ok = run(c3) == 0;
    char err[256];
    mqtt_passwd *pw = mqtt_passwd_load(path, err, sizeof err);
    assert_non_null(pw);
    assert_string_equal(err, "");
    assert_int_equal(mqtt_passwd_count(pw), 2 + (size_t)empty_ok);
    assert_int_equal(pw_ok(pw, "dave", "d4ve pass:$x"), 1);
    assert_int_equal(pw_ok(pw, "dave", "d4ve pass:$"), 0);
    assert_int_equal(pw_ok(pw, "erin", "3rin"), 1);
    assert_int_equal(pw_ok(pw, "erin", "3rim"), 0);
    if (empty_ok) {
        assert_int_equal(pw_ok(pw, "fr ank", ""), 1);
        assert_int_equal(pw_ok(pw, "fr ank", " "), 0);
    }
    mqtt_passwd_free(pw);
    unlink(path);
}

/* ------------------------------------------------------------------ ACL file */

static mqtt_acl *acl_from(const char *text) {
    char err[200];
    mqtt_acl *acl = mqtt_acl_parse(text, strlen(text), err, sizeof err);
    if (!acl) fail_msg("acl parse failed: %s", err);
    return acl;
}

#define R MQTT_ACL_READ
#define W MQTT_ACL_WRITE
#define S MQTT_ACL_SUBSCRIBE
static void check_at(int line, const mqtt_acl *acl, const char *cid, const char *user, const char *topic,
                     int acc, int want) {
    int got = mqtt_acl_check(acl, cid, user, topic, acc);
    if (got != want)
        fail_msg("line %d: check(cid=%s user=%s topic='%s' access=%d) = %d, want %d", line,
                 cid ? cid : "NULL", user ? user : "NULL", topic, acc, got, want);
}
#define CHECK(acl, cid, user, topic, acc, want) check_at(__LINE__, acl, cid, user, topic, acc, want)

static void test_acl_anonymous_section(void **state) {
    (void)state;
    mqtt_acl *acl = acl_from("# anonymous clients\n"
                             "topic read public/#\n"
                             "topic write anon/in\n"
                             "user alice\n"
                             "topic readwrite alice/#\n");
    assert_int_equal(mqtt_acl_rule_count(acl), 3);
    CHECK(acl, "c1", NULL, "public/news", R, 1);
    CHECK(acl, "c1", NULL, "public", R, 1);
    CHECK(acl, "c1", NULL, "public/news", W, 0);
    CHECK(acl, "c1", NULL, "anon/in", W, 1);
    CHECK(acl, "c1", NULL, "anon/in", R, 0);
    CHECK(acl, "c1", NULL, "alice/x", R, 0);
    /* The anonymous list does not apply to users. */
    CHECK(acl, "c1", "alice", "public/news", R, 0);
    CHECK(acl, "c1", "alice", "alice/x", R, 1);
    CHECK(acl, "c1", "alice", "alice/x", W, 1);
    /* A user without a block gets nothing (no patterns here). */
    CHECK(acl, "c1", "bob", "public/news", R, 0);
    CHECK(acl, "c1", "bob", "alice/x", R, 0);
    /* An empty username is a username, not anonymous. */
    CHECK(acl, "c1", "", "public/news", R, 0);
    mqtt_acl_free(acl);
}

static void test_acl_default_readwrite_and_types(void **state) {
    (void)state;
    mqtt_acl *acl = acl_from("user u\n"
                             "topic a\n"
                             "topic read r\n"
                             "topic write w\n"
                             "topic readwrite rw\n"
                             "topic read\n"); /* one word: the topic is "read" */
    CHECK(acl, "c", "u", "a", R, 1);
    CHECK(acl, "c", "u", "a", W, 1);
    CHECK(acl, "c", "u", "r", R, 1);
    CHECK(acl, "c", "u", "r", W, 0);
    CHECK(acl, "c", "u", "w", R, 0);
    CHECK(acl, "c", "u", "w", W, 1);
    CHECK(acl, "c", "u", "rw", R, 1);
    CHECK(acl, "c", "u", "rw", W, 1);
    CHECK(acl, "c", "u", "read", R, 1);
    CHECK(acl, "c", "u", "read", W, 1);
    CHECK(acl, "c", "u", "other", R, 0);
    /* Bad access argument values. */
    CHECK(acl, "c", "u", "a", 0, 0);
    CHECK(acl, "c", "u", "a", R | W, 0);
    CHECK(acl, "c", "u", "a", 8, 0);
    mqtt_acl_free(acl);
}

static void test_acl_user_blocks_merge(void **state) {
    (void)state;
    mqtt_acl *acl = acl_from("user alice\n"
                             "topic a/1\n"
                             "user bob\n"
                             "topic b/1\n"
                             "user alice\n"
                             "topic a/2\n"
                             "topic deny b/1\n"
                             "user two  words\n"
                             "topic tw\n"
                             "user  two   \n"
                             "topic t\n");
    CHECK(acl, "c", "alice", "a/1", R, 1);
    CHECK(acl, "c", "alice", "a/2", R, 1);
    CHECK(acl, "c", "alice", "b/1", R, 0);
    CHECK(acl, "c", "bob", "b/1", R, 1);
    CHECK(acl, "c", "bob", "a/2", R, 0);
    CHECK(acl, "c", "two  words", "tw", R, 1);
    CHECK(acl, "c", "two  words", "t", R, 0);
    CHECK(acl, "c", "two", "t", R, 1);
    CHECK(acl, "c", "two", "tw", R, 0);
    CHECK(acl, "c", "two words", "tw", R, 0);
    CHECK(acl, "c", "Alice", "a/1", R, 0); /* case-sensitive */
    mqtt_acl_free(acl);
}

static void test_acl_deny_precedence(void **state) {
    (void)state;
    mqtt_acl *acl = acl_from("topic deny sensors/secret/#\n" /* deny before the grant */
                             "topic readwrite sensors/#\n"
                             "user u\n"
                             "topic readwrite sensors/#\n"
                             "topic deny sensors/+/private\n" /* deny after the grant */
                             "topic read $SYS/#\n"
                             "topic deny $SYS/broker/clients/#\n");
    CHECK(acl, "c", NULL, "sensors/a", R, 1);
    CHECK(acl, "c", NULL, "sensors/secret", R, 0);
    CHECK(acl, "c", NULL, "sensors/secret/x", W, 0);
    CHECK(acl, "c", NULL, "sensors/a/private", R, 1);
    CHECK(acl, "c", "u", "sensors/a/private", R, 0);
    CHECK(acl, "c", "u", "sensors/a/private", W, 0);
    CHECK(acl, "c", "u", "sensors/a/private/x", R, 1);
    CHECK(acl, "c", "u", "sensors/secret/x", R, 1);
    CHECK(acl, "c", "u", "$SYS/broker/uptime", R, 1);
    CHECK(acl, "c", "u", "$SYS/broker/clients/connected", R, 0);
    CHECK(acl, "c", "u", "$SYS/broker/clients", R, 0);
    mqtt_acl_free(acl);
}

static void test_acl_patterns(void **state) {
    (void)state;
    mqtt_acl *acl = acl_from("pattern write sensor/%u/data\n"
                             "pattern readwrite clients/%c/#\n"
                             "pattern read x/a%cb\n"          /* substituted inside a level */
                             "pattern read y/%c%u\n"
                             "pattern read z/%u/%c\n"
                             "user alice\n"
                             "topic read alice/#\n"
                             "pattern read shared/%u\n");     /* patterns apply to all, wherever */
    CHECK(acl, "c1", "alice", "sensor/alice/data", W, 1);
    CHECK(acl, "c1", "alice", "sensor/alice/data", R, 0);
    CHECK(acl, "c1", "alice", "sensor/bob/data", W, 0);
    CHECK(acl, "c1", "bob", "sensor/bob/data", W, 1);
    CHECK(acl, "c1", "bob", "sensor/%u/data", W, 0);
    CHECK(acl, "c1", "bob", "clients/c1", R, 1);
    CHECK(acl, "c1", "bob", "clients/c1/x/y", W, 1);
    CHECK(acl, "c1", "bob", "clients/c2/x", W, 0);
    CHECK(acl, "cid", "bob", "x/acidb", R, 1);
    CHECK(acl, "cid", "bob", "x/a%cb", R, 0);
    CHECK(acl, "cid", "u6", "y/cidu6", R, 1);
    CHECK(acl, "cid", "u6", "z/u6/cid", R, 1);
    CHECK(acl, "cid", "u6", "z/cid/u6", R, 0);
    CHECK(acl, "c1", "alice", "shared/alice", R, 1);
    CHECK(acl, "c1", "carol", "shared/carol", R, 1);
    CHECK(acl, "c1", "alice", "alice/q", R, 1);
    /* Anonymous: %c patterns apply, %u patterns never do. */
    CHECK(acl, "c1", NULL, "clients/c1/z", R, 1);
    CHECK(acl, "c1", NULL, "sensor//data", W, 0);
    CHECK(acl, "c1", NULL, "shared/", R, 0);
    CHECK(acl, NULL, "bob", "clients//x", R, 0); /* no client id: %c patterns skipped */
    CHECK(acl, NULL, "bob", "sensor/bob/data", W, 1);
    /* A '/' in the value spans levels (mosquitto 2.0.11 allows it). */
    CHECK(acl, "a/b", "sl/sh", "sensor/sl/sh/data", W, 1);
    CHECK(acl, "a/b", "x", "clients/a/b/c", W, 1);
    /* Empty username substitutes to nothing. */
    CHECK(acl, "c1", "", "sensor//data", W, 1);
    mqtt_acl_free(acl);
}

static void test_acl_pattern_wildcard_identity(void **state) {
    (void)state;
    mqtt_acl *acl = acl_from("topic read anon/#\n"
                             "pattern readwrite c/%c\n"
                             "pattern readwrite u/%u\n"
                             "pattern read open/#\n"
                             "user alice\n"
                             "topic read sensors/#\n");
    /* Client id or username with '+' or '#': no pattern grants anything at all. */
    CHECK(acl, "+", NULL, "c/x", R, 0);
    CHECK(acl, "#", NULL, "c/x/y", R, 0);
    CHECK(acl, "a+b", NULL, "c/a+b", R, 0);
    CHECK(acl, "c1", "a+b", "u/a+b", R, 0);
    CHECK(acl, "c1", "#", "u/x", R, 0);
    CHECK(acl, "x#", "bob", "open/x", R, 0);
    CHECK(acl, "c1", "b#", "open/x", R, 0);
    /* ... but topic entries still apply to them. */
    CHECK(acl, "x+y", NULL, "anon/x", R, 1);
    CHECK(acl, "x+y", "alice", "sensors/a", R, 1);
    /* Clean identities work. */
    CHECK(acl, "c1", NULL, "c/c1", R, 1);
    CHECK(acl, "c1", "bob", "u/bob", W, 1);
    CHECK(acl, "c1", "bob", "open/x", R, 1);
    CHECK(acl, "c1", "bob", "open/x", W, 0);
    mqtt_acl_free(acl);
}

static void test_acl_user_vs_pattern_order(void **state) {
    (void)state;
    /* As mosquitto 2.0.11 behaves: the user's own list decides first (deny or grant), then patterns. */
    mqtt_acl *acl = acl_from("user alice\n"
                             "topic deny q/alice\n"
                             "topic readwrite r/alice\n"
                             "pattern deny r/%u\n"
                             "pattern readwrite q/%u\n"
                             "pattern readwrite p/#\n"
                             "pattern deny p/secret\n"
                             "topic deny anon/p/x\n");  /* still in alice's block */
    CHECK(acl, "c", "alice", "q/alice", R, 0); /* user deny beats pattern grant */
    CHECK(acl, "c", "alice", "r/alice", R, 1); /* user grant beats pattern deny */
    CHECK(acl, "c", "bob", "r/bob", R, 0);     /* only a pattern deny applies */
    CHECK(acl, "c", "bob", "q/bob", R, 1);
    CHECK(acl, "c", "bob", "p/x", R, 1);
    CHECK(acl, "c", "bob", "p/secret", R, 0);  /* pattern deny beats pattern grant */
    CHECK(acl, "c", NULL, "p/secret", R, 0);
    CHECK(acl, "c", NULL, "p/public", W, 1);
    mqtt_acl_free(acl);
}

static void test_acl_wildcard_matching(void **state) {
    (void)state;
    mqtt_acl *acl = acl_from("topic a/+/c\n"
                             "topic b/#\n"
                             "topic +/+\n"
                             "topic d/+\n"
                             "topic /lead\n"
                             "topic e//f\n");
    CHECK(acl, "c", NULL, "a/b/c", R, 1);
    CHECK(acl, "c", NULL, "a//c", R, 1);  /* '+' matches an empty level */
    CHECK(acl, "c", NULL, "a/b/c/d", R, 0);
    CHECK(acl, "c", NULL, "a/c", R, 1);   /* via +/+ */
    CHECK(acl, "c", NULL, "b", R, 1);     /* '#' matches the parent */
    CHECK(acl, "c", NULL, "b/", R, 1);
    CHECK(acl, "c", NULL, "b/x/y/z", R, 1);
    CHECK(acl, "c", NULL, "bb/x/y", R, 0);
    CHECK(acl, "c", NULL, "x", R, 0);     /* +/+ needs two levels */
    CHECK(acl, "c", NULL, "x/y/z", R, 0);
    CHECK(acl, "c", NULL, "d/", R, 1);
    CHECK(acl, "c", NULL, "/lead", R, 1);
    CHECK(acl, "c", NULL, "lead", R, 0);
    CHECK(acl, "c", NULL, "e//f", R, 1);
    CHECK(acl, "c", NULL, "e/f", R, 1);   /* via +/+ */
    CHECK(acl, "c", NULL, "e/x/f", R, 0);
    /* Topic names with wildcards, or empty, are never allowed for READ/WRITE. */
    CHECK(acl, "c", NULL, "a/+/c", R, 0);
    CHECK(acl, "c", NULL, "b/#", W, 0);
    CHECK(acl, "c", NULL, "", R, 0);
    assert_int_equal(mqtt_acl_check(acl, "c", NULL, NULL, R), 0);
    mqtt_acl_free(acl);
}

static void test_acl_sys_topics(void **state) {
    (void)state;
    mqtt_acl *acl = acl_from("topic #\n"
                             "topic +/broker/#\n"
                             "user mon\n"
                             "topic read $SYS/#\n"
                             "user mon2\n"
                             "topic read $SYS/broker/+\n");
    CHECK(acl, "c", NULL, "a/b", R, 1);
    CHECK(acl, "c", NULL, "$SYS/broker/uptime", R, 0); /* wildcards do not reach $ topics */
    CHECK(acl, "c", NULL, "$SYS", R, 0);
    CHECK(acl, "c", NULL, "$other", W, 0);
    CHECK(acl, "c", NULL, "x/$SYS", R, 1);
    CHECK(acl, "c", "mon", "$SYS/broker/uptime", R, 1);
    CHECK(acl, "c", "mon", "$SYS", R, 1);
    CHECK(acl, "c", "mon", "$SYS/broker/uptime", W, 0);
    CHECK(acl, "c", "mon", "$SYSx/a", R, 0);
    CHECK(acl, "c", "mon2", "$SYS/broker/uptime", R, 1);
    CHECK(acl, "c", "mon2", "$SYS/broker/load/x", R, 0);
    /* Subscriptions */
    CHECK(acl, "c", NULL, "#", S, 1);
    CHECK(acl, "c", NULL, "$SYS/#", S, 0);
    CHECK(acl, "c", NULL, "$SYS/broker/uptime", S, 0);
    CHECK(acl, "c", "mon", "$SYS/#", S, 1);
    CHECK(acl, "c", "mon", "$SYS/broker/+", S, 1);
    CHECK(acl, "c", "mon", "#", S, 0);
    CHECK(acl, "c", "mon2", "$SYS/broker/+", S, 1);
    CHECK(acl, "c", "mon2", "$SYS/broker/#", S, 1); /* overlaps $SYS/broker/+; READ filters the rest */
    mqtt_acl_free(acl);
}

static void test_acl_subscribe_coverage(void **state) {
    (void)state;
    mqtt_acl *acl = acl_from("user u\n"
                             "topic read sensors/#\n"
                             "topic read t/+/temp\n"
                             "topic write w/#\n"
                             "topic readwrite exact/topic\n"
                             "topic deny sensors/secret/#\n"
                             "topic deny sensors/+/pin\n");
    CHECK(acl, "c", "u", "sensors/#", S, 1);
    CHECK(acl, "c", "u", "sensors/+/temp", S, 1);
    CHECK(acl, "c", "u", "sensors/a/temp", S, 1);
    CHECK(acl, "c", "u", "sensors", S, 1);
    CHECK(acl, "c", "u", "sensors/+", S, 1);
    /* A grant only has to overlap the filter: delivery is filtered per message with READ. */
    CHECK(acl, "c", "u", "#", S, 1);
    CHECK(acl, "c", "u", "+/a", S, 1); /* sensors/a */
    CHECK(acl, "c", "u", "t/+/temp", S, 1);
    CHECK(acl, "c", "u", "t/x/temp", S, 1);
    CHECK(acl, "c", "u", "t/#", S, 1);
    CHECK(acl, "c", "u", "t/+/#", S, 1);
    CHECK(acl, "c", "u", "t/+/+", S, 1);
    CHECK(acl, "c", "u", "t/+", S, 0);          /* no readable topic has two levels under t */
    CHECK(acl, "c", "u", "t/+/temp/x", S, 0);   /* nor four */
    CHECK(acl, "c", "u", "w/#", S, 0); /* write-only does not allow subscribing */
    CHECK(acl, "c", "u", "w/x", S, 0);
    CHECK(acl, "c", "u", "exact/topic", S, 1);
    CHECK(acl, "c", "u", "exact/+", S, 1);
    CHECK(acl, "c", "u", "exact/#", S, 1);
    CHECK(acl, "c", "u", "exact/+/+", S, 0);
    CHECK(acl, "c", "u", "other/#", S, 0);
    /* Deny covering the whole filter denies; a partial overlap is left to delivery checks. */
    CHECK(acl, "c", "u", "sensors/secret/#", S, 0);
    CHECK(acl, "c", "u", "sensors/secret/x", S, 0);
    CHECK(acl, "c", "u", "sensors/secret", S, 0);
    CHECK(acl, "c", "u", "sensors/a/pin", S, 0);
    CHECK(acl, "c", "u", "sensors/+/pin", S, 0);
    CHECK(acl, "c", "u", "sensors/+/+", S, 1);
    CHECK(acl, "c", "u", "sensors/secret/x", R, 0);
    CHECK(acl, "c", "u", "sensors/b/pin", R, 0);
    /* Shared subscriptions are checked on the inner filter. */
    CHECK(acl, "c", "u", "$share/g1/sensors/+/temp", S, 1);
    CHECK(acl, "c", "u", "$share/g1/sensors/secret/x", S, 0);
    CHECK(acl, "c", "u", "$share/g1/#", S, 1);
    CHECK(acl, "c", "u", "$share/g1/w/#", S, 0);
    CHECK(acl, "c", "u", "$share//sensors/a", S, 0);
    CHECK(acl, "c", "u", "$share/g1", S, 0);
    /* Invalid filters. */
    CHECK(acl, "c", "u", "sensors/#/x", S, 0);
    CHECK(acl, "c", "u", "sensors/a#", S, 0);
    CHECK(acl, "c", "u", "sensors/a+", S, 0);
    CHECK(acl, "c", "u", "", S, 0);
    mqtt_acl_free(acl);
}

static void test_acl_subscribe_patterns_and_anon(void **state) {
    (void)state;
    mqtt_acl *acl = acl_from("topic read anon/#\n"
                             "pattern read dev/%c/#\n"
                             "pattern deny dev/%c/keys\n");
    CHECK(acl, "d1", NULL, "anon/+", S, 1);
    CHECK(acl, "d1", NULL, "#", S, 1); /* overlaps anon/# (and dev/d1/#) */
    CHECK(acl, "d1", NULL, "dev/d1/#", S, 1);
    CHECK(acl, "d1", NULL, "dev/d1/keys", S, 0);
    CHECK(acl, "d1", NULL, "dev/d2/#", S, 0);
    CHECK(acl, "d1", NULL, "dev/+/x", S, 1); /* dev/d1/x */
    /* Granted although d1 can read nothing through it: the deny (dev/d1/keys) does not cover the
     * filter and the grant dev/d1/# overlaps it. READ on delivery refuses every message. */
    CHECK(acl, "d1", NULL, "dev/+/keys", S, 1);
    CHECK(acl, "d1", NULL, "dev/d1/keys", R, 0);
    CHECK(acl, "d1", "u", "dev/d1/+", S, 1);
    CHECK(acl, "+", "u", "dev/+/x", S, 0);
    mqtt_acl_free(acl);
}

/* SUBSCRIBE: denied when a deny covers the filter or no read grant overlaps it, else granted. */
static void test_acl_subscribe_overlap(void **state) {
    (void)state;
    /* Mosquitto setups keep working: an anonymous client reading anon/# may subscribe to '#'. */
    mqtt_acl *acl = acl_from("topic read anon/#\n");
    CHECK(acl, "c", NULL, "#", S, 1);
    CHECK(acl, "c", NULL, "+/x", S, 1);
    CHECK(acl, "c", NULL, "anon", S, 1);       /* anon/# also matches its parent */
    CHECK(acl, "c", NULL, "+", S, 1);          /* ... so '+' overlaps it at "anon" */
    CHECK(acl, "c", NULL, "secret/#", S, 0);   /* no overlapping grant */
    CHECK(acl, "c", NULL, "anonx/#", S, 0);
    CHECK(acl, "c", NULL, "$SYS/#", S, 0);
    CHECK(acl, "c", NULL, "$share/g/#", S, 1);
    CHECK(acl, "c", NULL, "$share/g/secret/#", S, 0);
    CHECK(acl, "c", "u", "#", S, 0);           /* a user has no block here and there are no patterns */
    mqtt_acl_free(acl);

    /* A deny must cover the whole filter to refuse it. */
    acl = acl_from("topic deny secret/#\n"
                   "topic read #\n");
    CHECK(acl, "c", NULL, "secret/+", S, 0);
    CHECK(acl, "c", NULL, "secret/#", S, 0);
    CHECK(acl, "c", NULL, "secret", S, 0);
    CHECK(acl, "c", NULL, "#", S, 1);
    CHECK(acl, "c", NULL, "+/x", S, 1);
    CHECK(acl, "c", NULL, "+", S, 1);
    CHECK(acl, "c", NULL, "secret/x", R, 0);   /* delivery still filters */
    CHECK(acl, "c", NULL, "public/x", R, 1);
    /* '#' does not reach "$..." topics, whichever side it is on. */
    CHECK(acl, "c", NULL, "$SYS/#", S, 0);
    CHECK(acl, "c", NULL, "$SYS/broker/uptime", S, 0);
    CHECK(acl, "c", NULL, "$SYS", S, 0);
    mqtt_acl_free(acl);

    /* A first-level "+/#" deny covers '#' (both match every non-$ topic). */
    acl = acl_from("topic deny +/#\n"
                   "topic read #\n"
                   "topic read $SYS/#\n");
    CHECK(acl, "c", NULL, "#", S, 0);
    CHECK(acl, "c", NULL, "a/#", S, 0);
    CHECK(acl, "c", NULL, "$SYS/#", S, 1);     /* +/# does not cover $ topics */
    mqtt_acl_free(acl);

    /* A $ grant does not overlap a first-level wildcard filter, and vice versa. */
    acl = acl_from("user mon\n"
                   "topic read $SYS/broker/#\n"
                   "topic read +/status\n");
    CHECK(acl, "c", "mon", "#", S, 1);          /* overlaps +/status, not $SYS/broker/# */
    CHECK(acl, "c", "mon", "+/broker/x", S, 0);
    CHECK(acl, "c", "mon", "$SYS/#", S, 1);
    CHECK(acl, "c", "mon", "$SYS/+/x", S, 1);
    CHECK(acl, "c", "mon", "$SYS/broker", S, 1); /* $SYS/broker/# matches its parent */
    CHECK(acl, "c", "mon", "$SYS", S, 0);        /* ... but not $SYS */
    CHECK(acl, "c", "mon", "$SYS/status", S, 0); /* +/status never matches a $ topic */
    CHECK(acl, "c", "mon", "$SYS/other", S, 0);
    mqtt_acl_free(acl);

    /* Level counts: one side ending only meets a trailing '#' on the other. */
    acl = acl_from("topic read a/b\n"
                   "topic read x/+/z/#\n");
    CHECK(acl, "c", NULL, "a/#", S, 1);
    CHECK(acl, "c", NULL, "a/b/#", S, 1);       /* a/b/# matches a/b */
    CHECK(acl, "c", NULL, "a", S, 0);
    CHECK(acl, "c", NULL, "a/b/c", S, 0);
    CHECK(acl, "c", NULL, "a/+/+", S, 0);
    CHECK(acl, "c", NULL, "+/+", S, 1);
    CHECK(acl, "c", NULL, "x/y/z", S, 1);       /* x/+/z/# matches x/y/z */
    CHECK(acl, "c", NULL, "x/y", S, 0);
    CHECK(acl, "c", NULL, "x/y/+/w", S, 1);
    CHECK(acl, "c", NULL, "x/y/q/w", S, 0);
    mqtt_acl_free(acl);

    /* Patterns: substitution first, then overlap. */
    acl = acl_from("pattern read clients/%c/#\n"
                   "pattern deny clients/%c/private/#\n");
    CHECK(acl, "c1", NULL, "clients/+/x", S, 1);  /* overlaps clients/c1/x */
    CHECK(acl, "c1", "u", "clients/+/x", S, 1);
    CHECK(acl, "c1", NULL, "clients/#", S, 1);
    CHECK(acl, "c1", NULL, "clients/c2/x", S, 0);
    CHECK(acl, "c1", NULL, "clients/c1/private/+", S, 0);
    CHECK(acl, "c1", NULL, "clients/+/private/+", S, 1); /* the c1 deny does not cover it */
    CHECK(acl, NULL, NULL, "clients/+/x", S, 0);  /* %c never applies without a client id */
    CHECK(acl, "c+", NULL, "clients/+/x", S, 0);  /* wildcard client id: no patterns */
    mqtt_acl_free(acl);
}

static void test_acl_topics_with_spaces(void **state) {
    (void)state;
    mqtt_acl *acl = acl_from("topic readwrite sp ace/x\n"
                             "topic read   m  s  \n"
                             "topic\tdeny\tsp ace/secret\n"
                             "user u\n"
                             "topic write home/living room/lamp\n");
    CHECK(acl, "c", NULL, "sp ace/x", R, 1);
    CHECK(acl, "c", NULL, "sp ace/x", W, 1);
    CHECK(acl, "c", NULL, "sp  ace/x", R, 0);
    CHECK(acl, "c", NULL, "m  s", R, 1);   /* inner spaces kept */
    CHECK(acl, "c", NULL, "m  s  ", R, 0); /* trailing ones trimmed */
    CHECK(acl, "c", NULL, "m s", R, 0);
    CHECK(acl, "c", NULL, "sp ace/secret", R, 0);
    CHECK(acl, "c", "u", "home/living room/lamp", W, 1);
    CHECK(acl, "c", "u", "home/living room/lamp", R, 0);
    mqtt_acl_free(acl);
}

static void test_acl_parse_errors(void **state) {
    (void)state;
    static const struct {
        const char *text;
        const char *want; /* substring of the error */
    } cases[] = {
        {"topic read a\ntopic sp ace/x\n", "line 2: invalid access type \"sp\""},
        {"user\n", "line 1: missing username"},
        {"user   \t\n", "line 1: missing username"},
        {"# c\n\ntopic\n", "line 3: empty topic"},
        {"pattern   \n", "line 1: empty topic"},
        {"bogus line\n", "line 1: unknown keyword \"bogus\""},
        {"Topic a\n", "unknown keyword"},
        {"topics a\n", "unknown keyword"},
        {"topic read bad/#/x\n", "invalid ACL topic"},
        {"topic a#\n", "invalid ACL topic"},
        {"topic a/b+\n", "invalid ACL topic"},
        {"pattern read %c+\n", "invalid ACL topic"},
        {"topic read #/\n", "invalid ACL topic"},
        {"user u\ntopic ok\ntopic deny a/#/b\n", "line 3: "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char err[200] = "unset";
        mqtt_acl *acl = mqtt_acl_parse(cases[i].text, strlen(cases[i].text), err, sizeof err);
        if (acl) fail_msg("accepted: %s", cases[i].text);
        if (!strstr(err, cases[i].want)) fail_msg("error '%s' lacks '%s'", err, cases[i].want);
    }
    /* NUL inside a line. */
    const char nul[] = "topic a\ntopic b\0c\n";
    char err[200];
    assert_null(mqtt_acl_parse(nul, sizeof nul - 1, err, sizeof err));
    assert_non_null(strstr(err, "line 2"));
    /* No error buffer is fine. */
    assert_null(mqtt_acl_parse("x\n", 2, NULL, 0));
}

static void test_acl_comments_whitespace_empty(void **state) {
    (void)state;
    mqtt_acl *acl = acl_from("# comment\r\n"
                             "\r\n"
                             "   \t  \n"
                             "  topic read lead/x\r\n"
                             "\t# indented comment\n"
                             "topic read last");           /* no final newline */
    assert_int_equal(mqtt_acl_rule_count(acl), 2);
    CHECK(acl, "c", NULL, "lead/x", R, 1);
    CHECK(acl, "c", NULL, "last", R, 1);
    CHECK(acl, "c", NULL, "last\r", R, 0);
    mqtt_acl_free(acl);
    /* An empty file denies everything; no ACL at all allows everything. */
    acl = acl_from("");
    assert_int_equal(mqtt_acl_rule_count(acl), 0);
    CHECK(acl, "c", NULL, "a", R, 0);
    CHECK(acl, "c", "u", "a", W, 0);
    CHECK(acl, "c", "u", "#", S, 0);
    mqtt_acl_free(acl);
    CHECK(NULL, "c", "u", "a", W, 1);
    mqtt_acl_free(NULL);
}

static void test_acl_long_substitution(void **state) {
    (void)state;
    mqtt_acl *acl = acl_from("pattern readwrite long/%c/%u/%c\n");
    char cid[700], topic[2200];
    memset(cid, 'c', sizeof cid - 1);
    cid[sizeof cid - 1] = '\0';
    snprintf(topic, sizeof topic, "long/%s/u/%s", cid, cid);
    CHECK(acl, cid, "u", topic, W, 1);
    topic[strlen(topic) - 1] = 'd';
    CHECK(acl, cid, "u", topic, W, 0);
    mqtt_acl_free(acl);
}

static void test_acl_many_users(void **state) {
    (void)state;
    size_t cap = 3000 * 48, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int i = 0; i < 3000; i++)
        n += (size_t)snprintf(text + n, cap - n, "user u%d\ntopic t/%d/#\n", (i * 7) % 1000, i);
    char err[128];
    mqtt_acl *acl = mqtt_acl_parse(text, n, err, sizeof err);
    assert_non_null(acl);
    assert_int_equal(mqtt_acl_rule_count(acl), 3000);
    /* u0 appears for i = 0, 1000, 2000 (merged blocks). */
    CHECK(acl, "c", "u0", "t/0/x", R, 1);
    CHECK(acl, "c", "u0", "t/1000", R, 1);
    CHECK(acl, "c", "u0", "t/2000/y", W, 1);
    CHECK(acl, "c", "u0", "t/1/x", R, 0);
    CHECK(acl, "c", "u7", "t/1/x", R, 1);
    CHECK(acl, "c", "u1000", "t/0", R, 0);
    mqtt_acl_free(acl);
    free(text);
}

static void test_acl_load_file(void **state) {
    (void)state;
    const char *p = tmp_path("acl");
    char path[128];
    snprintf(path, sizeof path, "%s", p);
    write_file(path, "topic read pub/#\nuser alice\ntopic alice/#\npattern write dev/%c\n");
    char err[256];
    mqtt_acl *acl = mqtt_acl_load(path, err, sizeof err);
    assert_non_null(acl);
    CHECK(acl, "c", NULL, "pub/x", R, 1);
    CHECK(acl, "c", "alice", "alice/x", W, 1);
    CHECK(acl, "d9", "zed", "dev/d9", W, 1);
    mqtt_acl_free(acl);
    write_file(path, "topic read pub/#\nnonsense here\n");
    assert_null(mqtt_acl_load(path, err, sizeof err));
    assert_non_null(strstr(err, "line 2"));
    assert_non_null(strstr(err, path));
    unlink(path);
    assert_null(mqtt_acl_load(path, err, sizeof err));
    assert_true(err[0] != '\0');
    rmdir(tmpdir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pw_mosquitto_7),
        cmocka_unit_test(test_pw_mosquitto_6_and_mixed),
        cmocka_unit_test(test_pw_iterations_are_read),
        cmocka_unit_test(test_pw_comments_blank_whitespace),
        cmocka_unit_test(test_pw_malformed_lines_skipped),
        cmocka_unit_test(test_pw_nul_byte_line),
        cmocka_unit_test(test_pw_duplicate_last_wins),
        cmocka_unit_test(test_pw_empty_inputs),
        cmocka_unit_test(test_pw_many_users),
        cmocka_unit_test(test_pw_hash_roundtrip),
        cmocka_unit_test(test_pw_load_file),
        cmocka_unit_test(test_pw_real_mosquitto_passwd),
        cmocka_unit_test(test_acl_anonymous_section),
        cmocka_unit_test(test_acl_default_readwrite_and_types),
        cmocka_unit_test(test_acl_user_blocks_merge),
        cmocka_unit_test(test_acl_deny_precedence),
        cmocka_unit_test(test_acl_patterns),
        cmocka_unit_test(test_acl_pattern_wildcard_identity),
        cmocka_unit_test(test_acl_user_vs_pattern_order),
        cmocka_unit_test(test_acl_wildcard_matching),
        cmocka_unit_test(test_acl_sys_topics),
        cmocka_unit_test(test_acl_subscribe_coverage),
        cmocka_unit_test(test_acl_subscribe_patterns_and_anon),
        cmocka_unit_test(test_acl_subscribe_overlap),
        cmocka_unit_test(test_acl_topics_with_spaces),
        cmocka_unit_test(test_acl_parse_errors),
        cmocka_unit_test(test_acl_comments_whitespace_empty),
        cmocka_unit_test(test_acl_long_substitution),
        cmocka_unit_test(test_acl_many_users),
        cmocka_unit_test(test_acl_load_file),
    };
    return cmocka_run_group_tests(tests, setup_quiet, NULL);
}
