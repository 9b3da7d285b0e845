/* tsdb/influxql_lex: the InfluxQL scanner (tokens, identifiers and strings with escapes, numbers,
 * durations such as 1h30m or 1764000000000ms, regex literals scanned on the parser's request,
 * bound parameters, -- and block comments) and the arena every AST node is allocated from. */
#include "tsdb/influxql_lex.h"
#include <stdlib.h>
#include <string.h>

/* ---- arena ---- */
typedef struct iq_chunk {
    struct iq_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} iq_chunk;
struct iq_arena {
    iq_chunk *head;
};

iq_arena *iq_arena_new(void) { return calloc(1, sizeof(iq_arena)); }

void iq_arena_free(iq_arena *a) {
    if (!a) return;
    iq_chunk *c = a->head;
    while (c) {
        iq_chunk *n = c->next;
        free(c);
        c = n;
    }
    free(a);
}

void *iq_arena_alloc(iq_arena *a, size_t n) {
    n = (n + 15u) & ~(size_t)15u;
    if (n == 0) n = 16;
    iq_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 8192 ? n : 8192;
        c = malloc(sizeof(iq_chunk) + cap);
        if (!c) return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *iq_arena_strndup(iq_arena *a, const char *s, size_t n) {
    char *d = iq_arena_alloc(a, n + 1);
    if (!d) return NULL;
    if (n) memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* ---- keywords ---- */
static const char *const iq_keywords[K_LAST_ - K_FIRST_] = {
    "ALL", "ALTER", "AND", "ANY", "AS", "ASC", "BEGIN", "BY", "CARDINALITY",
    "CONTINUOUS", "CREATE", "DATABASE", "DATABASES", "DEFAULT", "DELETE", "DESC",
    "DESTINATIONS", "DIAGNOSTICS", "DISTINCT", "DROP", "DURATION", "END", "EVERY", "EXACT",
    "EXPLAIN", "FALSE", "FIELD", "FOR", "FROM", "GRANT", "GRANTS", "GROUP", "GROUPS", "IN",
    "INF", "INSERT", "INTO", "KEY", "KEYS", "KILL", "LIMIT", "MEASUREMENT", "MEASUREMENTS",
    "NAME", "OFFSET", "ON", "OR", "ORDER", "PASSWORD", "POLICIES", "POLICY", "PRIVILEGES",
    "QUERIES", "QUERY", "READ", "REPLICATION", "RESAMPLE", "RETENTION", "REVOKE", "SELECT",
    "SERIES", "SET", "SHARD", "SHARDS", "SHOW", "SLIMIT", "SOFFSET", "STATS", "SUBSCRIPTION",
    "SUBSCRIPTIONS", "TAG", "TO", "TRUE", "USER", "USERS", "VALUES", "WHERE", "WITH", "WRITE",
};

const char *iq_keyword_name(int t) {
    if (t < K_FIRST_ || t >= K_LAST_) return NULL;
    return iq_keywords[t - K_FIRST_];
}

static int up(int c) { return (c >= 'a' && c <= 'z') ? c - 32 : c; }

static int keyword_lookup(const char *s, size_t n) {
    for (int k = K_FIRST_; k < K_LAST_; k++) {
        const char *w = iq_keywords[k - K_FIRST_];
        size_t i = 0;
        while (i < n && w[i] && up((unsigned char)s[i]) == w[i]) i++;
        if (i == n && w[i] == 0) return k;
    }
    return T_IDENT;
}

bool iq_is_keyword(const char *s) { return keyword_lookup(s, strlen(s)) != T_IDENT; }

const char *iq_tok_symbol(int t) {
    switch (t) {
    case T_EOF: return "EOF";
    case T_ADD: return "+";
    case T_SUB: return "-";
    case T_MUL: return "*";
    case T_DIV: return "/";
    case T_MOD: return "%";
    case T_BITAND: return "&";
    case T_BITOR: return "|";
    case T_BITXOR: return "^";
    case T_EQ: return "=";
    case T_NEQ: return "!=";
    case T_EQREGEX: return "=~";
    case T_NEQREGEX: return "!~";
    case T_LT: return "<";
    case T_LTE: return "<=";
    case T_GT: return ">";
    case T_GTE: return ">=";
    case T_LPAREN: return "(";
    case T_RPAREN: return ")";
    case T_COMMA: return ",";
    case T_DOT: return ".";
    case T_SEMI: return ";";
    case T_DOUBLECOLON: return "::";
    default: return iq_keyword_name(t);
    }
}

/* ---- scanner ---- */
static bool is_letter(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80; }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_ident_char(int c) { return is_letter(c) || is_digit(c); }

static int at(const iq_lexer *lx, size_t i) { return i < lx->len ? (unsigned char)lx->s[i] : -1; }

static void skip_blanks(iq_lexer *lx) {
    for (;;) {
        int c = at(lx, lx->off);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            lx->off++;
        } else if (c == '-' && at(lx, lx->off + 1) == '-') {
            while (lx->off < lx->len && lx->s[lx->off] != '\n') lx->off++;
        } else if (c == '/' && at(lx, lx->off + 1) == '*') {
            size_t i = lx->off + 2;
            while (i < lx->len && !(lx->s[i] == '*' && at(lx, i + 1) == '/')) i++;
            lx->off = i < lx->len ? i + 2 : lx->len; /* an unterminated comment runs to the end */
        } else {
            return;
        }
    }
}

static void illegal(iq_tok *tok, const char *msg) {
    tok->t = T_ILLEGAL;
    tok->err = msg;
}

/* '...' or "..." with \n \\ \' \" escapes */
static void scan_quoted(iq_lexer *lx, iq_tok *tok, int q, int type) {
    size_t i = lx->off + 1;
    char *out = iq_arena_alloc(lx->a, lx->len - lx->off + 1);
    if (!out) { illegal(tok, "out of memory"); return; }
    size_t n = 0;
    for (;;) {
        int c = at(lx, i);
        if (c < 0 || c == '\n') {
            lx->off = i;
            illegal(tok, q == '\'' ? "unterminated string" : "unterminated quoted identifier");
            return;
        }
        if (c == 0) {
            lx->off = i;
            illegal(tok, "unexpected NUL byte");
            return;
        }
        if (c == q) { i++; break; }
        if (c == '\\') {
            int e = at(lx, i + 1);
            if (e == 'n') out[n++] = '\n';
            else if (e == '\\') out[n++] = '\\';
            else if (e == '\'') out[n++] = '\'';
            else if (e == '"') out[n++] = '"';
            else {
                lx->off = i;
                illegal(tok, "bad escape");
                return;
            }
            i += 2;
            continue;
        }
        out[n++] = (char)c;
        i++;
    }
    out[n] = 0;
    tok->t = type;
    tok->lit = out;
    lx->off = i;
}

static int64_t unit_ns(const char *u, size_t n) {
    if (n == 2 && u[0] == 'n' && u[1] == 's') return 1;
    if (n == 1 && u[0] == 'u') return 1000;
    if (n == 2 && (unsigned char)u[0] == 0xC2 && (unsigned char)u[1] == 0xB5) return 1000;
    if (n == 2 && u[0] == 'm' && u[1] == 's') return 1000000;
    if (n == 1 && u[0] == 's') return 1000000000LL;
    if (n == 1 && u[0] == 'm') return 60LL * 1000000000LL;
    if (n == 1 && u[0] == 'h') return 3600LL * 1000000000LL;
    if (n == 1 && u[0] == 'd') return 86400LL * 1000000000LL;
    if (n == 1 && u[0] == 'w') return 7LL * 86400LL * 1000000000LL;
    return 0;
}

/* "1h30m" -> ns; 0 ok, -1 invalid, -2 overflow */
static int parse_duration(const char *s, size_t n, int64_t *out) {
    int64_t total = 0;
    size_t i = 0;
    if (n == 0) return -1;
    while (i < n) {
        if (!is_digit((unsigned char)s[i])) return -1;
        int64_t v = 0;
        while (i < n && is_digit((unsigned char)s[i])) {
            int d = s[i] - '0';
            if (v > (INT64_MAX - d) / 10) return -2;
            v = v * 10 + d;
            i++;
        }
        size_t u0 = i;
        while (i < n && !is_digit((unsigned char)s[i])) i++;
        int64_t m = unit_ns(s + u0, i - u0);
        if (m == 0) return -1;
        if (v > INT64_MAX / m) return -2;
        v *= m;
        if (total > INT64_MAX - v) return -2;
        total += v;
    }
    *out = total;
    return 0;
}

static bool is_unit_start(const iq_lexer *lx, size_t i) {
    int c = at(lx, i);
    return c == 'n' || c == 'u' || c == 'm' || c == 's' || c == 'h' || c == 'd' || c == 'w' ||
           (c == 0xC2 && at(lx, i + 1) == 0xB5);
}

static void scan_number(iq_lexer *lx, iq_tok *tok) {
    size_t i = lx->off;
    bool is_float = false;
    while (is_digit(at(lx, i))) i++;
    if (at(lx, i) == '.' && is_digit(at(lx, i + 1))) {
        is_float = true;
        i++;
        while (is_digit(at(lx, i))) i++;
    }
    if ((at(lx, i) == 'e' || at(lx, i) == 'E') &&
        (is_digit(at(lx, i + 1)) || ((at(lx, i + 1) == '+' || at(lx, i + 1) == '-') && is_digit(at(lx, i + 2))))) {
        is_float = true;
        i += 2;
        while (is_digit(at(lx, i))) i++;
    }
    if (!is_float && is_unit_start(lx, i)) {
        while (i < lx->len && is_ident_char(at(lx, i))) i++;
        tok->lit = iq_arena_strndup(lx->a, lx->s + lx->off, i - lx->off);
        lx->off = i;
        if (!tok->lit) { illegal(tok, "out of memory"); return; }
        int r = parse_duration(tok->lit, strlen(tok->lit), &tok->i);
        if (r == -1) { tok->nopos = true; illegal(tok, "invalid duration"); return; }
        if (r == -2) { tok->nopos = true; illegal(tok, "overflowed duration"); return; }
        tok->t = T_DURATION;
        return;
    }
    tok->lit = iq_arena_strndup(lx->a, lx->s + lx->off, i - lx->off);
    lx->off = i;
    if (!tok->lit) { illegal(tok, "out of memory"); return; }
    if (is_float) {
        char *end;
        tok->f = strtod(tok->lit, &end);
        if (*end || tok->f > 1.7976931348623157e308 || tok->f < -1.7976931348623157e308) {
            illegal(tok, "unable to parse number");
            return;
        }
        tok->t = T_NUMBER;
    } else {
        int64_t v = 0;
        for (const char *p = tok->lit; *p; p++) {
            int d = *p - '0';
            if (v > (INT64_MAX - d) / 10) { illegal(tok, "unable to parse integer"); return; }
            v = v * 10 + d;
        }
        tok->i = v;
        tok->t = T_INTEGER;
    }
}

void iq_lex(iq_lexer *lx, iq_tok *tok) {
    memset(tok, 0, sizeof *tok);
    skip_blanks(lx);
    tok->pos = lx->off;
    int c = at(lx, lx->off);
    if (c < 0) {
        /* InfluxDB's scanner reports EOF one char further when the input ends in blanks or a bare
         * word (its identifier and whitespace scanners consume the EOF) */
        int last = lx->len ? (unsigned char)lx->s[lx->len - 1] : -1;
        bool blank = last == ' ' || last == '\t' || last == '\n' || last == '\r';
        tok->t = T_EOF;
        tok->end = lx->off;
        if (blank || lx->prev_word) tok->pos = lx->len + 1;
        return;
    }
    int c1 = at(lx, lx->off + 1);
    int t = T_ILLEGAL, w = 1;
    switch (c) {
    case '+': t = T_ADD; break;
    case '-': t = T_SUB; break;
    case '*': t = T_MUL; break;
    case '/': t = T_DIV; break;
    case '%': t = T_MOD; break;
    case '&': t = T_BITAND; break;
    case '|': t = T_BITOR; break;
    case '^': t = T_BITXOR; break;
    case '(': t = T_LPAREN; break;
    case ')': t = T_RPAREN; break;
    case ',': t = T_COMMA; break;
    case ';': t = T_SEMI; break;
    case '=':
        if (c1 == '~') { t = T_EQREGEX; w = 2; } else t = T_EQ;
        break;
    case '!':
        if (c1 == '=') { t = T_NEQ; w = 2; }
        else if (c1 == '~') { t = T_NEQREGEX; w = 2; }
        break;
    case '<':
        if (c1 == '=') { t = T_LTE; w = 2; }
        else if (c1 == '>') { t = T_NEQ; w = 2; }
        else t = T_LT;
        break;
    case '>':
        if (c1 == '=') { t = T_GTE; w = 2; } else t = T_GT;
        break;
    case ':':
        if (c1 == ':') { t = T_DOUBLECOLON; w = 2; }
        break;
    case '.':
        if (is_digit(c1)) { scan_number(lx, tok); goto done; }
        t = T_DOT;
        break;
    case '\'':
        scan_quoted(lx, tok, '\'', T_STRING);
        goto done;
    case '"':
        scan_quoted(lx, tok, '"', T_IDENT);
        goto done;
    case '$': {
        size_t i = lx->off + 1;
        while (is_ident_char(at(lx, i))) i++;
        if (i == lx->off + 1) break;
        tok->lit = iq_arena_strndup(lx->a, lx->s + lx->off + 1, i - lx->off - 1);
        lx->off = i;
        if (!tok->lit) { illegal(tok, "out of memory"); goto done; }
        tok->t = T_PARAM;
        goto done;
    }
    default:
        if (is_digit(c)) { scan_number(lx, tok); goto done; }
        if (is_letter(c)) {
            size_t i = lx->off;
            while (is_ident_char(at(lx, i))) i++;
            int k = keyword_lookup(lx->s + lx->off, i - lx->off);
            tok->t = k;
            if (k == T_IDENT) {
                tok->lit = iq_arena_strndup(lx->a, lx->s + lx->off, i - lx->off);
                if (!tok->lit) illegal(tok, "out of memory");
            }
            lx->off = i;
            goto done;
        }
        break;
    }
    if (t == T_ILLEGAL) {
        tok->lit = iq_arena_strndup(lx->a, lx->s + lx->off, 1);
        lx->off += 1;
        tok->t = T_ILLEGAL;
        tok->err = NULL; /* reported as "found <char>" */
    } else {
        tok->t = t;
        lx->off += (size_t)w;
    }
done:
    tok->end = lx->off;
    lx->prev_word = (tok->t == T_IDENT && lx->s[tok->pos] != '"') || (tok->t >= K_FIRST_ && tok->t < K_LAST_);
}

void iq_lex_regex(iq_lexer *lx, iq_tok *tok) {
    memset(tok, 0, sizeof *tok);
    while (lx->off < lx->len && (lx->s[lx->off] == ' ' || lx->s[lx->off] == '\t' || lx->s[lx->off] == '\n' ||
                                 lx->s[lx->off] == '\r'))
        lx->off++;
    tok->pos = lx->off;
    if (at(lx, lx->off) != '/') {
        iq_lex(lx, tok); /* the caller reports "found X, expected regex" */
        return;
    }
    size_t i = lx->off + 1;
    char *out = iq_arena_alloc(lx->a, lx->len - lx->off + 1);
    if (!out) { illegal(tok, "out of memory"); return; }
    size_t n = 0;
    for (;;) {
        int c = at(lx, i);
        if (c < 0 || c == '\n') {
            lx->off = i;
            tok->end = i;
            illegal(tok, "unterminated regex");
            return;
        }
        if (c == 0 || (c == '\\' && at(lx, i + 1) == 0)) {
            lx->off = i;
            tok->end = i;
            illegal(tok, "unexpected NUL byte");
            return;
        }
        if (c == '/') { i++; break; }
        if (c == '\\' && at(lx, i + 1) == '/') {
            out[n++] = '/';
            i += 2;
            continue;
        }
        if (c == '\\' && at(lx, i + 1) >= 0) {
            out[n++] = '\\';
            out[n++] = (char)at(lx, i + 1);
            i += 2;
            continue;
        }
        out[n++] = (char)c;
        i++;
    }
    out[n] = 0;
    tok->t = T_REGEX;
    tok->lit = out;
    lx->off = i;
    tok->end = i;
}
