/* tsdb/influxql_lex: private interface shared by the InfluxQL lexer, parser and printer (not for
 * other modules): the token set, the query arena and the keyword table.
 *   iq_arena_alloc(a, n)      zeroed, aligned memory from the arena; NULL when out of memory
 *   iq_arena_strndup(a, s, n) NUL-terminated copy
 *   iq_lex(lx, tok)           scan the next token at lx->off (skips blanks and comments); a bad
 *                             token comes back as T_ILLEGAL with tok->err set
 *   iq_lex_regex(lx, tok)     scan /.../ at lx->off (blanks skipped); T_REGEX or T_ILLEGAL
 *   iq_keyword_name(t)        upper-case spelling of keyword token t, NULL if t is no keyword
 *   iq_is_keyword(s)          true if s (any case) is a keyword, true, false, and, or */
#ifndef TE_TSDB_INFLUXQL_LEX_H
#define TE_TSDB_INFLUXQL_LEX_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct iq_arena iq_arena;
iq_arena *iq_arena_new(void);
void iq_arena_free(iq_arena *a);
void *iq_arena_alloc(iq_arena *a, size_t n);
char *iq_arena_strndup(iq_arena *a, const char *s, size_t n);

enum {
    T_EOF, T_ILLEGAL, T_IDENT, T_INTEGER, T_NUMBER, T_DURATION, T_STRING, T_REGEX, T_PARAM,
    T_ADD, T_SUB, T_MUL, T_DIV, T_MOD, T_BITAND, T_BITOR, T_BITXOR,
    T_EQ, T_NEQ, T_EQREGEX, T_NEQREGEX, T_LT, T_LTE, T_GT, T_GTE,
    T_LPAREN, T_RPAREN, T_COMMA, T_DOT, T_SEMI, T_DOUBLECOLON,
    /* keywords, in the order of iq_keywords[] */
    K_FIRST_,
    K_ALL = K_FIRST_, K_ALTER, K_AND, K_ANY, K_AS, K_ASC, K_BEGIN, K_BY, K_CARDINALITY,
    K_CONTINUOUS, K_CREATE, K_DATABASE, K_DATABASES, K_DEFAULT, K_DELETE, K_DESC,
    K_DESTINATIONS, K_DIAGNOSTICS, K_DISTINCT, K_DROP, K_DURATION, K_END, K_EVERY, K_EXACT,
    K_EXPLAIN, K_FALSE, K_FIELD, K_FOR, K_FROM, K_GRANT, K_GRANTS, K_GROUP, K_GROUPS, K_IN,
    K_INF, K_INSERT, K_INTO, K_KEY, K_KEYS, K_KILL, K_LIMIT, K_MEASUREMENT, K_MEASUREMENTS,
    K_NAME, K_OFFSET, K_ON, K_OR, K_ORDER, K_PASSWORD, K_POLICIES, K_POLICY, K_PRIVILEGES,
    K_QUERIES, K_QUERY, K_READ, K_REPLICATION, K_RESAMPLE, K_RETENTION, K_REVOKE, K_SELECT,
    K_SERIES, K_SET, K_SHARD, K_SHARDS, K_SHOW, K_SLIMIT, K_SOFFSET, K_STATS, K_SUBSCRIPTION,
    K_SUBSCRIPTIONS, K_TAG, K_TO, K_TRUE, K_USER, K_USERS, K_VALUES, K_WHERE, K_WITH, K_WRITE,
    K_LAST_
};

typedef struct iq_tok {
    int t;
    size_t pos, end;  /* byte range in the query */
    const char *lit;  /* unescaped text (ident, string, regex, param) or raw text (numbers) */
    int64_t i;        /* T_INTEGER, T_DURATION (ns) */
    double f;         /* T_NUMBER */
    const char *err;  /* T_ILLEGAL: message (without position) */
    bool nopos;       /* T_ILLEGAL: InfluxDB reports this error without a position */
} iq_tok;

typedef struct iq_lexer {
    const char *s;
    size_t len, off;
    iq_arena *a;
    bool prev_word; /* the last token scanned was a bare identifier or keyword */
} iq_lexer;

void iq_lex(iq_lexer *lx, iq_tok *tok);
void iq_lex_regex(iq_lexer *lx, iq_tok *tok);
const char *iq_keyword_name(int t);
bool iq_is_keyword(const char *s);
const char *iq_tok_symbol(int t);

#endif
