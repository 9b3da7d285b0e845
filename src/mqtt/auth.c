/* mqtt/auth: Mosquitto-compatible password file ($7$ PBKDF2-SHA512, $6$ SHA512) and ACL file
 * (anonymous list, user blocks, %c/%u patterns) with their own topic-matching helpers.
 * Behaviour follows the mosquitto.conf(5) man page and what mosquitto 2.0.11 was observed to do. */
#include "mqtt/auth.h"
#include "base/b64.h"

#include "base/log.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define SALT_LEN 12
#define HASH_LEN 64
#define FILE_MAX (64u << 20) /* refuse auth files above 64 MiB */

/* ---------------------------------------------------------------- shared text helpers */

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

static void trim(const char **s, size_t *n) {
    while (*n && is_ws(**s)) (*s)++, (*n)--;
    while (*n && is_ws((*s)[*n - 1])) (*n)--;
}

typedef struct {
    const char *p, *end;
    unsigned lineno;
} line_it;

/* Next line (without its '\n'); 0 at the end of the text. */
static int line_next(line_it *it, const char **s, size_t *n) {
    if (it->p >= it->end) return 0;
    const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
    const char *e = nl ? nl : it->end;
    *s = it->p;
    *n = (size_t)(e - it->p);
    it->p = nl ? nl + 1 : it->end;
    it->lineno++;
    return 1;
}

/* Read a whole file into a NUL-terminated heap buffer. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) {
        set_err(err, errlen, "cannot open %s: %s", path ? path : "(null)", strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            if (cap >= FILE_MAX) {
                set_err(err, errlen, "%s: file larger than %u bytes", path, FILE_MAX);
                free(buf);
                buf = NULL;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                set_err(err, errlen, "cannot read %s: %s", path, strerror(errno));
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    fclose(f);
    if (!buf) {
        if (err && errlen && !err[0]) set_err(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* exactly `want` bytes from padded base64 of the matching length; 0 or -1 */
static int b64_decode_exact(const char *s, size_t n, uint8_t *out, size_t want) {
    return n == B64_LEN(want) && b64_decode(s, n, out, want, B64_PADDED) == (long)want ? 0 : -1;
}

/* ---------------------------------------------------------------- password file */

typedef struct {
    char *user;
    size_t ulen;
    unsigned iterations; /* 0 = "$6$" (SHA512 of password + salt), else "$7$" PBKDF2 */
    size_t line;
    uint8_t salt[SALT_LEN];
    uint8_t hash[HASH_LEN];
} pw_entry;

struct mqtt_passwd {
    pw_entry *v;
    size_t n, cap, skipped;
};

/* Parse "user:$7$..." or "user:$6$..." (already trimmed); NULL = ok, else why not. */
static const char *pw_parse_line(const char *s, size_t n, pw_entry *e) {
    if (memchr(s, '\0', n)) return "NUL byte in line";
    const char *colon = memchr(s, ':', n);
    if (!colon) return "no ':' between username and password hash";
    size_t ulen = (size_t)(colon - s);
    if (ulen == 0) return "empty username";
    const char *p = colon + 1, *end = s + n;
    if (end - p >= 3 && memcmp(p, "$7$", 3) == 0) {
        p += 3;
        unsigned long it = 0;
        const char *d = p;
        while (p < end && *p >= '0' && *p <= '9') {
            it = it * 10 + (unsigned long)(*p - '0');
            if (it > MQTT_PASSWD_MAX_ITERATIONS) return "iteration count too large";
            p++;
        }
        if (p == d || p >= end || *p != '$') return "bad iteration count";
        if (it == 0) return "iteration count must be at least 1";
        e->iterations = (unsigned)it;
        p++;
    } else if (end - p >= 3 && memcmp(p, "$6$", 3) == 0) {
        p += 3;
        e->iterations = 0;
    } else {
        return "unsupported password hash (expected $7$ or $6$; plain text is not accepted)";
    }
    const char *dollar = memchr(p, '$', (size_t)(end - p));
    if (!dollar) return "missing '$' between salt and hash";
    if (b64_decode_exact(p, (size_t)(dollar - p), e->salt, SALT_LEN) != 0)
        return "salt is not base64 of 12 bytes";
    p = dollar + 1;
    if (b64_decode_exact(p, (size_t)(end - p), e->hash, HASH_LEN) != 0)
        return "hash is not base64 of 64 bytes";
    e->user = malloc(ulen + 1);
    if (!e->user) return "out of memory";
    memcpy(e->user, s, ulen);
    e->user[ulen] = '\0';
    e->ulen = ulen;
    return NULL;
}

static int pw_cmp_key(const char *a, size_t al, const char *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

static int pw_cmp_sort(const void *x, const void *y) {
    const pw_entry *a = x, *b = y;
    int c = pw_cmp_key(a->user, a->ulen, b->user, b->ulen);
    if (c) return c;
    return a->line < b->line ? -1 : a->line > b->line;
}

mqtt_passwd *mqtt_passwd_parse(const char *text, size_t len, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    mqtt_passwd *pw = calloc(1, sizeof *pw);
    if (!pw) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    line_it it = {text, text ? text + len : text, 0};
    const char *s;
    size_t n;
    while (line_next(&it, &s, &n)) {
        trim(&s, &n);
        if (n == 0 || s[0] == '#') continue;
        pw_entry e;
        memset(&e, 0, sizeof e);
        e.line = it.lineno;
        const char *why = pw_parse_line(s, n, &e);
        if (why && strcmp(why, "out of memory") == 0) goto oom;
        if (why) {
            pw->skipped++;
            LOG_WARN("auth", "file=passwd line=%u msg=\"%s, line skipped\"", it.lineno, why);
            if (err && errlen && !err[0]) set_err(err, errlen, "line %u: %s", it.lineno, why);
            continue;
        }
        if (pw->n == pw->cap) {
            size_t nc = pw->cap ? pw->cap * 2 : 16;
            pw_entry *nv = realloc(pw->v, nc * sizeof *nv);
            if (!nv) {
                free(e.user);
                goto oom;
            }
            pw->v = nv;
            pw->cap = nc;
        }
        pw->v[pw->n++] = e;
    }
    /* Sort by user then line; for a repeated user keep the last line, as mosquitto does. */
    if (pw->n > 1) qsort(pw->v, pw->n, sizeof *pw->v, pw_cmp_sort);
    size_t w = 0;
    for (size_t i = 0; i < pw->n; i++) {
        if (i + 1 < pw->n && pw_cmp_key(pw->v[i].user, pw->v[i].ulen, pw->v[i + 1].user, pw->v[i + 1].ulen) == 0) {
            free(pw->v[i].user);
            continue;
        }
        pw->v[w++] = pw->v[i];
    }
    pw->n = w;
    return pw;
oom:
    mqtt_passwd_free(pw);
    set_err(err, errlen, "out of memory");
    return NULL;
}

mqtt_passwd *mqtt_passwd_load(const char *path, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    size_t len = 0;
    char *text = read_file(path, &len, err, errlen);
    if (!text) return NULL;
    mqtt_passwd *pw = mqtt_passwd_parse(text, len, err, errlen);
    free(text);
    return pw;
}

static const pw_entry *pw_find(const mqtt_passwd *pw, const char *user, size_t ulen) {
    size_t lo = 0, hi = pw->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = pw_cmp_key(user, ulen, pw->v[mid].user, pw->v[mid].ulen);
        if (c == 0) return &pw->v[mid];
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

/* Digest of `pass` under entry e's scheme into out[64]; 0 or -1. */
static int pw_digest(const pw_entry *e, const uint8_t *pass, size_t plen, uint8_t *out) {
    static const uint8_t empty[1] = {0};
    if (!pass) pass = empty;
    if (plen > INT_MAX) return -1;
    if (e->iterations) {
        return PKCS5_PBKDF2_HMAC((const char *)pass, (int)plen, e->salt, SALT_LEN, (int)e->iterations,
                                 EVP_sha512(), HASH_LEN, out) == 1 ? 0 : -1;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int olen = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, pass, plen) == 1 && EVP_DigestUpdate(ctx, e->salt, SALT_LEN) == 1 &&
             EVP_DigestFinal_ex(ctx, out, &olen) == 1 && olen == HASH_LEN;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

int mqtt_passwd_check(const mqtt_passwd *pw, const char *user, size_t ulen, const uint8_t *pass, size_t plen) {
    if (!pw || (!user && ulen) || (!pass && plen)) return 0;
    const pw_entry *e = user ? pw_find(pw, user, ulen) : NULL;
    /* An unknown user costs the same work as a known one, so timing does not reveal who exists. */
    static const pw_entry dummy = {.iterations = MQTT_PASSWD_DEFAULT_ITERATIONS};
    const pw_entry *use = e ? e : &dummy;
    uint8_t out[HASH_LEN];
    if (pw_digest(use, pass, plen, out) != 0) return 0;
    int same = CRYPTO_memcmp(out, use->hash, HASH_LEN) == 0;
    OPENSSL_cleanse(out, sizeof out);
    return e != NULL && same;
}

size_t mqtt_passwd_count(const mqtt_passwd *pw) { return pw ? pw->n : 0; }
size_t mqtt_passwd_skipped(const mqtt_passwd *pw) { return pw ? pw->skipped : 0; }

int mqtt_passwd_hash(const uint8_t *pass, size_t plen, unsigned iterations, char *out, size_t outlen) {
    if (!out || (!pass && plen)) return -1;
    if (iterations == 0) iterations = MQTT_PASSWD_DEFAULT_ITERATIONS;
    if (iterations > MQTT_PASSWD_MAX_ITERATIONS) return -1;
    pw_entry e;
    memset(&e, 0, sizeof e);
    e.iterations = iterations;
    if (RAND_bytes(e.salt, SALT_LEN) != 1) return -1;
    if (pw_digest(&e, pass, plen, e.hash) != 0) return -1;
    char salt64[4 * ((SALT_LEN + 2) / 3) + 1], hash64[4 * ((HASH_LEN + 2) / 3) + 1];
    EVP_EncodeBlock((unsigned char *)salt64, e.salt, SALT_LEN);
    EVP_EncodeBlock((unsigned char *)hash64, e.hash, HASH_LEN);
    OPENSSL_cleanse(e.hash, sizeof e.hash);
    int n = snprintf(out, outlen, "$7$%u$%s$%s", iterations, salt64, hash64);
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

void mqtt_passwd_free(mqtt_passwd *pw) {
    if (!pw) return;
    for (size_t i = 0; i < pw->n; i++) free(pw->v[i].user);
    free(pw->v);
    free(pw);
}

/* ---------------------------------------------------------------- topic matching */

typedef struct {
    const char *p, *end;
    int done;
} lev_it;

static void lev_init(lev_it *it, const char *s, size_t n) {
    it->p = s;
    it->end = s + n;
    it->done = 0;
}

/* Next '/'-separated level (possibly empty); 0 when none is left. */
static int lev_next(lev_it *it, const char **s, size_t *n) {
    if (it->done) return 0;
    const char *slash = memchr(it->p, '/', (size_t)(it->end - it->p));
    *s = it->p;
    if (slash) {
        *n = (size_t)(slash - it->p);
        it->p = slash + 1;
    } else {
        *n = (size_t)(it->end - it->p);
        it->done = 1;
    }
    return 1;
}

static int is_lev(const char *s, size_t n, char c) { return n == 1 && s[0] == c; }

/* A well-formed filter: not empty, '+' only as a whole level, '#' only as the whole last level. */
static int filter_valid(const char *f, size_t n) {
    if (n == 0) return 0;
    lev_it it;
    lev_init(&it, f, n);
    const char *s;
    size_t l;
    while (lev_next(&it, &s, &l)) {
        if (memchr(s, '#', l) && (!is_lev(s, l, '#') || !it.done)) return 0;
        if (memchr(s, '+', l) && !is_lev(s, l, '+')) return 0;
    }
    return 1;
}

/* 1 if ACL filter f matches topic name t. A wildcard first level never matches a "$..." topic. */
static int match_topic(const char *f, size_t fn, const char *t, size_t tn) {
    int dollar = tn > 0 && t[0] == '$';
    lev_it fi, ti;
    lev_init(&fi, f, fn);
    lev_init(&ti, t, tn);
    for (int lvl = 0;; lvl++) {
        const char *fs, *ts;
        size_t fl, tl;
        int hf = lev_next(&fi, &fs, &fl), ht = lev_next(&ti, &ts, &tl);
        if (!hf) return !ht;
        if (is_lev(fs, fl, '#')) return !(lvl == 0 && dollar); /* also matches the parent level */
        if (!ht) return 0;
        if (is_lev(fs, fl, '+')) {
            if (lvl == 0 && dollar) return 0;
            continue;
        }
        if (fl != tl || memcmp(fs, ts, fl) != 0) return 0;
    }
}

/* 1 if every topic that subscription filter s can match is also matched by ACL filter f. */
static int filter_covers(const char *f, size_t fn, const char *s, size_t sn) {
    int dollar = sn > 0 && s[0] == '$';
    lev_it fi, si;
    lev_init(&fi, f, fn);
    lev_init(&si, s, sn);
    for (int lvl = 0;; lvl++) {
        const char *fs, *ss;
        size_t fl, sl;
        int hf = lev_next(&fi, &fs, &fl), hs = lev_next(&si, &ss, &sl);
        if (!hf) return !hs;
        if (is_lev(fs, fl, '#')) return !(lvl == 0 && dollar);
        if (!hs) return 0;                    /* f needs more levels than s guarantees */
        if (is_lev(ss, sl, '#')) {
            /* s reaches deeper than f (f has no '#' here), except that a first-level "+/#" matches
             * exactly what a first-level '#' does: every topic not starting with '$'. */
            if (lvl == 0 && is_lev(fs, fl, '+') && lev_next(&fi, &fs, &fl) && is_lev(fs, fl, '#')) return 1;
            return 0;
        }
        if (is_lev(fs, fl, '+')) {
            if (lvl == 0 && dollar) return 0;
            continue;                         /* covers a literal or a '+' level */
        }
        if (is_lev(ss, sl, '+')) return 0;    /* a literal does not cover '+' */
        if (fl != sl || memcmp(fs, ss, fl) != 0) return 0;
    }
}

/* 1 if some topic name is matched by both filters a and b (their sets of topics intersect).
 * A '+' or '#' first level never matches a "$..." topic, whichever side it is on. */
static int filter_overlaps(const char *a, size_t an, const char *b, size_t bn) {
    lev_it ai, bi;
    lev_init(&ai, a, an);
    lev_init(&bi, b, bn);
    for (int lvl = 0;; lvl++) {
        const char *as = NULL, *bs = NULL;
        size_t al = 0, bl = 0;
        int ha = lev_next(&ai, &as, &al), hb = lev_next(&bi, &bs, &bl);
        /* One side ended: only a trailing '#' on the other (which also matches its parent) meets it.
         * Filters are valid, so a '#' level is always the last one. */
        if (!ha) return !hb || is_lev(bs, bl, '#');
        if (!hb) return is_lev(as, al, '#');
        int wa = is_lev(as, al, '+') || is_lev(as, al, '#');
        int wb = is_lev(bs, bl, '+') || is_lev(bs, bl, '#');
        if (lvl == 0 && ((wa && !wb && bl > 0 && bs[0] == '$') || (wb && !wa && al > 0 && as[0] == '$')))
            return 0;
        if (is_lev(as, al, '#') || is_lev(bs, bl, '#')) return 1;
        if (wa || wb) continue;
        if (al != bl || memcmp(as, bs, al) != 0) return 0;
    }
}

/* ---------------------------------------------------------------- ACL file */

enum { RULE_SUBST_C = 1, RULE_SUBST_U = 2 };

typedef struct {
    char *topic;
    size_t len;
    uint8_t access; /* 0 = deny, else MQTT_ACL_READ | MQTT_ACL_WRITE bits */
    uint8_t subst;  /* RULE_SUBST_* present in a pattern */
} acl_rule;

typedef struct {
    acl_rule *v;
    size_t n, cap;
} acl_list;

typedef struct {
    char *name;
    acl_list rules;
} acl_user;

struct mqtt_acl {
    acl_list anon, patterns;
    acl_user *users;
    size_t nusers, ucap, nrules;
};

static void list_free(acl_list *l) {
    for (size_t i = 0; i < l->n; i++) free(l->v[i].topic);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int list_reserve(acl_list *l, size_t more) {
    if (l->n + more <= l->cap) return 0;
    size_t nc = l->cap ? l->cap : 4;
    while (nc < l->n + more) nc *= 2;
    acl_rule *nv = realloc(l->v, nc * sizeof *nv);
    if (!nv) return -1;
    l->v = nv;
    l->cap = nc;
    return 0;
}

static char *dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int user_cmp(const void *x, const void *y) {
    return strcmp(((const acl_user *)x)->name, ((const acl_user *)y)->name);
}

/* Sort user blocks by name and merge repeated names into one block; 0 or -1 (out of memory). */
static int acl_merge_users(mqtt_acl *acl) {
    if (acl->nusers > 1) qsort(acl->users, acl->nusers, sizeof *acl->users, user_cmp);
    size_t w = 0;
    for (size_t i = 0; i < acl->nusers; i++) {
        if (w > 0 && strcmp(acl->users[w - 1].name, acl->users[i].name) == 0) {
            acl_list *dst = &acl->users[w - 1].rules, *src = &acl->users[i].rules;
            if (list_reserve(dst, src->n) != 0) {
                for (size_t j = i; j < acl->nusers; j++) acl->users[w++] = acl->users[j];
                acl->nusers = w;
                return -1;
            }
            if (src->n) memcpy(dst->v + dst->n, src->v, src->n * sizeof *src->v);
            dst->n += src->n;
            free(src->v);
            free(acl->users[i].name);
            continue;
        }
        acl->users[w++] = acl->users[i];
    }
    acl->nusers = w;
    return 0;
}

/* One ACL line (trimmed, not blank, not a comment); 0, or -1 with err set. */
static int acl_parse_line(mqtt_acl *acl, long *cur_user, const char *s, size_t n, unsigned lineno,
                          char *err, size_t errlen) {
    if (memchr(s, '\0', n)) {
        set_err(err, errlen, "line %u: NUL byte in line", lineno);
        return -1;
    }
    size_t kl = 0;
    while (kl < n && !is_ws(s[kl])) kl++;
    const char *rest = s + kl;
    size_t rl = n - kl;
    trim(&rest, &rl);
    if (kl == 4 && memcmp(s, "user", 4) == 0) {
        if (rl == 0) {
            set_err(err, errlen, "line %u: missing username after \"user\"", lineno);
            return -1;
        }
        if (acl->nusers == acl->ucap) {
            size_t nc = acl->ucap ? acl->ucap * 2 : 8;
            acl_user *nu = realloc(acl->users, nc * sizeof *nu);
            if (!nu) goto oom;
            acl->users = nu;
            acl->ucap = nc;
        }
        char *name = dup_n(rest, rl);
        if (!name) goto oom;
        acl->users[acl->nusers] = (acl_user){.name = name};
        *cur_user = (long)acl->nusers++;
        return 0;
    }
    int pattern = kl == 7 && memcmp(s, "pattern", 7) == 0;
    if (!pattern && !(kl == 5 && memcmp(s, "topic", 5) == 0)) {
        set_err(err, errlen, "line %u: unknown keyword \"%.*s\" (expected topic, pattern or user)", lineno,
                (int)(kl > 32 ? 32 : kl), s);
        return -1;
    }
    if (rl == 0) {
        set_err(err, errlen, "line %u: empty topic", lineno);
        return -1;
    }
    size_t tl = 0;
    while (tl < rl && !is_ws(rest[tl])) tl++;
    const char *topic = rest;
    size_t topic_len = rl;
    uint8_t access = MQTT_ACL_READ | MQTT_ACL_WRITE;
    if (tl < rl) { /* two or more words: the first is the access type, the rest is the topic */
        if (tl == 4 && memcmp(rest, "read", 4) == 0) access = MQTT_ACL_READ;
        else if (tl == 5 && memcmp(rest, "write", 5) == 0) access = MQTT_ACL_WRITE;
        else if (tl == 9 && memcmp(rest, "readwrite", 9) == 0) access = MQTT_ACL_READ | MQTT_ACL_WRITE;
        else if (tl == 4 && memcmp(rest, "deny", 4) == 0) access = 0;
        else {
            set_err(err, errlen, "line %u: invalid access type \"%.*s\" (a topic with spaces needs one)",
                    lineno, (int)(tl > 32 ? 32 : tl), rest);
            return -1;
        }
        topic = rest + tl;
        topic_len = rl - tl;
        trim(&topic, &topic_len);
    }
    if (!filter_valid(topic, topic_len)) {
        set_err(err, errlen, "line %u: invalid ACL topic \"%.*s\"", lineno,
                (int)(topic_len > 64 ? 64 : topic_len), topic);
        return -1;
    }
    acl_list *list = pattern ? &acl->patterns : *cur_user < 0 ? &acl->anon : &acl->users[*cur_user].rules;
    if (list_reserve(list, 1) != 0) goto oom;
    acl_rule r = {.topic = dup_n(topic, topic_len), .len = topic_len, .access = access};
    if (!r.topic) goto oom;
    if (pattern) {
        for (size_t i = 0; i + 1 < topic_len; i++) {
            if (topic[i] != '%') continue;
            if (topic[i + 1] == 'c') r.subst |= RULE_SUBST_C;
            if (topic[i + 1] == 'u') r.subst |= RULE_SUBST_U;
        }
    }
    list->v[list->n++] = r;
    acl->nrules++;
    return 0;
oom:
    set_err(err, errlen, "line %u: out of memory", lineno);
    return -1;
}

mqtt_acl *mqtt_acl_parse(const char *text, size_t len, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    mqtt_acl *acl = calloc(1, sizeof *acl);
    if (!acl) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    line_it it = {text, text ? text + len : text, 0};
    const char *s;
    size_t n;
    long cur_user = -1;
    while (line_next(&it, &s, &n)) {
        trim(&s, &n);
        if (n == 0 || s[0] == '#') continue;
        if (acl_parse_line(acl, &cur_user, s, n, it.lineno, err, errlen) != 0) {
            mqtt_acl_free(acl);
            return NULL;
        }
    }
    if (acl_merge_users(acl) != 0) {
        set_err(err, errlen, "out of memory");
        mqtt_acl_free(acl);
        return NULL;
    }
    return acl;
}

mqtt_acl *mqtt_acl_load(const char *path, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    size_t len = 0;
    char *text = read_file(path, &len, err, errlen);
    if (!text) return NULL;
    char inner[200];
    mqtt_acl *acl = mqtt_acl_parse(text, len, inner, sizeof inner);
    if (!acl) set_err(err, errlen, "%s: %s", path, inner);
    free(text);
    return acl;
}

/* How a rule's filter is compared with the checked text. */
enum {
    MATCH_TOPIC,   /* topic is a topic name: the rule matches it */
    MATCH_COVERS,  /* topic is a filter: the rule matches every topic the filter can match */
    MATCH_OVERLAPS /* topic is a filter: the rule matches at least one topic the filter can match */
};

/* Does rule topic (after substitution, for patterns) match? 1 yes, 0 no, -1 out of memory. */
static int rule_match(const acl_rule *r, const char *clientid, const char *username, const char *topic,
                      size_t tlen, int mode) {
    const char *f = r->topic;
    size_t fn = r->len;
    char stack[256], *heap = NULL;
    if (r->subst) {
        size_t cl = clientid ? strlen(clientid) : 0, ul = username ? strlen(username) : 0, need = 0;
        for (size_t i = 0; i < r->len; i++) {
            if (r->topic[i] == '%' && i + 1 < r->len && (r->topic[i + 1] == 'c' || r->topic[i + 1] == 'u')) {
                need += r->topic[i + 1] == 'c' ? cl : ul;
                i++;
            } else {
                need++;
            }
        }
        char *buf = stack;
        if (need > sizeof stack) {
            buf = heap = malloc(need);
            if (!heap) return -1;
        }
        size_t o = 0;
        for (size_t i = 0; i < r->len; i++) {
            if (r->topic[i] == '%' && i + 1 < r->len && (r->topic[i + 1] == 'c' || r->topic[i + 1] == 'u')) {
                const char *v = r->topic[i + 1] == 'c' ? clientid : username;
                size_t vl = r->topic[i + 1] == 'c' ? cl : ul;
                if (vl) memcpy(buf + o, v, vl);
                o += vl;
                i++;
            } else {
                buf[o++] = r->topic[i];
            }
        }
        f = buf;
        fn = o;
    }
    int m = mode == MATCH_COVERS     ? filter_covers(f, fn, topic, tlen)
            : mode == MATCH_OVERLAPS ? filter_overlaps(f, fn, topic, tlen)
                                     : match_topic(f, fn, topic, tlen);
    free(heap);
    return m;
}

/* Denies first, then grants: -1 denied, 1 granted, 0 no entry applies. For a subscription (sub) a
 * deny must cover the whole filter and a grant need only overlap it. */
static int list_eval(const acl_list *l, const char *clientid, const char *username, const char *topic,
                     size_t tlen, int need, int sub) {
    for (int pass = 0; pass < 2; pass++) {
        int mode = !sub ? MATCH_TOPIC : pass == 0 ? MATCH_COVERS : MATCH_OVERLAPS;
        for (size_t i = 0; i < l->n; i++) {
            const acl_rule *r = &l->v[i];
            if (pass == 0 ? r->access != 0 : !(r->access & need)) continue;
            if ((r->subst & RULE_SUBST_U) && !username) continue;
            if ((r->subst & RULE_SUBST_C) && !clientid) continue;
            int m = rule_match(r, clientid, username, topic, tlen, mode);
            if (m < 0) return -1; /* out of memory: fail closed */
            if (m) return pass == 0 ? -1 : 1;
        }
    }
    return 0;
}

static const acl_list *find_user(const mqtt_acl *acl, const char *username) {
    size_t lo = 0, hi = acl->nusers;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(username, acl->users[mid].name);
        if (c == 0) return &acl->users[mid].rules;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

int mqtt_acl_check(const mqtt_acl *acl, const char *clientid, const char *username, const char *topic,
                   int access) {
    if (!acl) return 1;
    if (!topic || !topic[0]) return 0;
    if (access != MQTT_ACL_READ && access != MQTT_ACL_WRITE && access != MQTT_ACL_SUBSCRIBE) return 0;
    int sub = access == MQTT_ACL_SUBSCRIBE;
    if (sub) {
        if (strncmp(topic, "$share/", 7) == 0) { /* the ACL applies to the filter inside */
            const char *slash = strchr(topic + 7, '/');
            if (!slash || slash == topic + 7) return 0;
            topic = slash + 1;
        }
        if (!filter_valid(topic, strlen(topic))) return 0;
    } else if (strpbrk(topic, "+#")) {
        return 0;
    }
    size_t tlen = strlen(topic);
    int need = sub ? MQTT_ACL_READ : access;
    const acl_list *own = username ? find_user(acl, username) : &acl->anon;
    if (own) {
        int r = list_eval(own, clientid, username, topic, tlen, need, sub);
        if (r) return r > 0;
    }
    if (acl->patterns.n == 0) return 0;
    /* Mosquitto refuses pattern access to a client id or username holding a wildcard. */
    if ((clientid && strpbrk(clientid, "+#")) || (username && strpbrk(username, "+#"))) return 0;
    return list_eval(&acl->patterns, clientid, username, topic, tlen, need, sub) > 0;
}

size_t mqtt_acl_rule_count(const mqtt_acl *acl) { return acl ? acl->nrules : 0; }

void mqtt_acl_free(mqtt_acl *acl) {
    if (!acl) return;
    list_free(&acl->anon);
    list_free(&acl->patterns);
    for (size_t i = 0; i < acl->nusers; i++) {
        list_free(&acl->users[i].rules);
        free(acl->users[i].name);
    }
    free(acl->users);
    free(acl);
}
