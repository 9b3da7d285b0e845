/* tsdb/influxql: lexer and parser for the InfluxQL subset tinyedge answers (see docs/influxql.md),
 * producing an AST the query executor walks directly, and a printer turning an AST back into
 * canonical InfluxQL text (used by tests and to store continuous queries). Pure: no I/O, no globals.
 *
 * Contract:
 *   iq_parse(q, len, err)      parse one or more ';'-separated statements; NULL on error, with
 *                              err->msg set exactly like InfluxDB 1.x ("error parsing query: found
 *                              X, expected Y at line L, char C"); never crashes, bounded by the
 *                              IQ_MAX_* limits below. An empty query gives a query with n == 0.
 *   iq_query_free(q)           release a query and every node/string in it (NULL is fine)
 *   iq_print_stmt(st)          canonical text of one statement, malloc'd (NULL only when out of
 *                              memory); iq_parse of that text prints the same text again
 *   iq_print_query(q)          canonical text of all statements joined with "; ", malloc'd
 *   iq_print_expr(e)           canonical text of one expression, malloc'd
 *   iq_format_duration(ns,out) InfluxDB's duration spelling (largest exact unit: 90m -> "90m"),
 *                              out >= 32 bytes; returns out
 *   iq_parse_rfc3339(s, &ns)   RFC3339 / "YYYY-MM-DD[ HH:MM:SS[.f]]" time string -> Unix ns;
 *                              0 or -1 (malformed or out of range)
 *   iq_is_aggregate(name)      true for the aggregate/selector functions (count, mean, ...)
 *   iq_validate_select(s,m,n)  InfluxDB's compile-time checks of a parsed SELECT (known functions,
 *                              argument counts and kinds, aggregates vs raw fields, GROUP BY time
 *                              needs an aggregate and a time condition); 0, or -1 with InfluxDB's
 *                              message in m (no "error parsing query" prefix: a statement error)
 *
 * Memory: every node and string of a query lives in the query's arena; pointers stay valid until
 * iq_query_free. Identifiers, strings and regexes are stored unescaped (a regex's "\/" becomes "/").
 * Durations and epoch literals with a unit (1764000000000ms) are IQ_DURATION in nanoseconds. */
#ifndef TE_TSDB_INFLUXQL_H
#define TE_TSDB_INFLUXQL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IQ_MAX_QUERY_LEN (1u << 20) /* bytes of query text */
#define IQ_MAX_DEPTH 200            /* expression nesting (parse recursion and tree depth) */
#define IQ_MAX_STATEMENTS 256
#define IQ_MAX_LIST 1024 /* fields, sources, GROUP BY dimensions, tag keys (call arguments: 64) */

typedef enum iq_expr_kind {
    IQ_VAR,      /* field or tag reference: name, vtype */
    IQ_INTEGER,  /* i */
    IQ_NUMBER,   /* f (float literal) */
    IQ_STRING,   /* str ('...'; RFC3339 times are strings compared with `time`) */
    IQ_BOOL,     /* b */
    IQ_DURATION, /* i = nanoseconds */
    IQ_REGEX,    /* str = pattern source */
    IQ_WILDCARD, /* `*`, vtype may restrict (*::field) */
    IQ_CALL,     /* name (lower-case) + args; now() is a call with no args */
    IQ_BINARY,   /* op, lhs, rhs */
    IQ_PAREN,    /* lhs = inner expression (kept so printing round-trips) */
    IQ_NEG,      /* unary minus of a non-literal: lhs */
    IQ_PARAM,    /* bound parameter $name (not substituted here) */
} iq_expr_kind;

typedef enum iq_op {
    IQ_OP_NONE,
    IQ_OP_ADD, IQ_OP_SUB, IQ_OP_MUL, IQ_OP_DIV, IQ_OP_MOD,
    IQ_OP_BITAND, IQ_OP_BITOR, IQ_OP_BITXOR,
    IQ_OP_EQ, IQ_OP_NEQ, IQ_OP_EQREGEX, IQ_OP_NEQREGEX,
    IQ_OP_LT, IQ_OP_LTE, IQ_OP_GT, IQ_OP_GTE,
    IQ_OP_AND, IQ_OP_OR,
    IQ_OP_IN, /* only in SHOW TAG VALUES WITH KEY IN (...) */
} iq_op;

typedef enum iq_vartype { IQ_VT_ANY, IQ_VT_FIELD, IQ_VT_TAG, IQ_VT_INTEGER, IQ_VT_FLOAT,
                          IQ_VT_STRING, IQ_VT_BOOLEAN } iq_vartype;

typedef struct iq_expr iq_expr;
struct iq_expr {
    iq_expr_kind kind;
    iq_op op;            /* IQ_BINARY */
    iq_vartype vtype;    /* IQ_VAR, IQ_WILDCARD */
    bool b;              /* IQ_BOOL */
    int depth;           /* height of the subtree (1 for a leaf) */
    int64_t i;           /* IQ_INTEGER, IQ_DURATION (ns) */
    double f;            /* IQ_NUMBER */
    const char *name;    /* IQ_VAR, IQ_CALL, IQ_PARAM */
    const char *str;     /* IQ_STRING, IQ_REGEX */
    iq_expr *lhs, *rhs;  /* IQ_BINARY; IQ_PAREN/IQ_NEG use lhs */
    iq_expr **args;      /* IQ_CALL */
    int nargs;
    size_t pos;          /* byte offset in the query text */
};

/* a FROM / INTO / DROP MEASUREMENT source: [db.][rp.]name or a regex (regex != NULL) */
typedef struct iq_source {
    const char *db, *rp; /* NULL when not given */
    const char *name;    /* NULL for a regex source */
    const char *regex;
} iq_source;

typedef struct iq_field {
    iq_expr *expr;
    const char *alias; /* NULL without AS */
} iq_field;

typedef enum iq_fill { IQ_FILL_NULL, IQ_FILL_NONE, IQ_FILL_PREVIOUS, IQ_FILL_LINEAR,
                       IQ_FILL_VALUE } iq_fill;

typedef struct iq_select {
    iq_field *fields;
    int nfields;
    iq_source *into;            /* INTO target, NULL if none */
    iq_source *sources;
    int nsources;
    iq_expr *cond;              /* WHERE, NULL if none */
    iq_expr **dims;             /* GROUP BY as written: time() call, IQ_VAR tags, IQ_WILDCARD, IQ_REGEX */
    int ndims;
    int64_t group_interval;     /* ns from GROUP BY time(i[, o]); 0 = no time grouping */
    int64_t group_offset;       /* ns, may be negative; 0 = none */
    bool group_offset_now;      /* time(i, now()) */
    bool group_all_tags;        /* GROUP BY * */
    bool fill_set;              /* fill(...) written */
    iq_fill fill;
    iq_expr *fill_value;        /* IQ_FILL_VALUE: IQ_INTEGER or IQ_NUMBER literal */
    bool order_set, order_desc; /* ORDER BY time [ASC|DESC] */
    int64_t limit, offset, slimit, soffset; /* 0 = not given */
    const char *tz;             /* tz('...') or NULL */
} iq_select;

typedef enum iq_stmt_kind {
    IQ_STMT_SELECT,
    IQ_STMT_SHOW_DATABASES,
    IQ_STMT_SHOW_MEASUREMENTS,
    IQ_STMT_SHOW_TAG_KEYS,
    IQ_STMT_SHOW_TAG_VALUES,
    IQ_STMT_SHOW_FIELD_KEYS,
    IQ_STMT_SHOW_SERIES,
    IQ_STMT_SHOW_RETENTION_POLICIES,
    IQ_STMT_SHOW_CONTINUOUS_QUERIES,
    IQ_STMT_CREATE_DATABASE,
    IQ_STMT_DROP_DATABASE,
    IQ_STMT_CREATE_RETENTION_POLICY,
    IQ_STMT_ALTER_RETENTION_POLICY,
    IQ_STMT_DROP_RETENTION_POLICY,
    IQ_STMT_CREATE_CONTINUOUS_QUERY,
    IQ_STMT_DROP_CONTINUOUS_QUERY,
    IQ_STMT_DELETE,
    IQ_STMT_DROP_SERIES,
    IQ_STMT_DROP_MEASUREMENT,
} iq_stmt_kind;

/* One statement. Which members are used depends on kind:
 *   SELECT / CREATE CONTINUOUS QUERY: sel
 *   SHOW *: db (ON), sources (FROM), cond (WHERE), limit/offset; SHOW MEASUREMENTS also
 *     with_op/with_value/with_regex (WITH MEASUREMENT); SHOW TAG VALUES key_op + keys
 *   CREATE/DROP DATABASE: name; CREATE DATABASE WITH ...: rp options below + rp_name
 *   CREATE/ALTER/DROP RETENTION POLICY: name = rp, db, rp options
 *   CREATE/DROP CONTINUOUS QUERY: name = cq, db, resample_every/resample_for, sel
 *   DELETE / DROP SERIES: sources, cond; DROP MEASUREMENT: name */
typedef struct iq_stmt {
    iq_stmt_kind kind;
    size_t pos;
    iq_select *sel;
    const char *name;
    const char *db;
    iq_source *sources;
    int nsources;
    iq_expr *cond;
    int64_t limit, offset;
    iq_op with_op;          /* SHOW MEASUREMENTS WITH MEASUREMENT: EQ, NEQ, EQREGEX, NEQREGEX */
    const char *with_value; /* name, or regex source when with_op is a regex op */
    iq_op key_op;           /* SHOW TAG VALUES WITH KEY: EQ, NEQ, EQREGEX, NEQREGEX, IN */
    const char **keys;      /* one key (or regex source), several for IN */
    int nkeys;
    bool has_duration, has_replication, has_shard_duration, is_default;
    int64_t duration;       /* ns, 0 = INF */
    int64_t shard_duration; /* ns */
    int replication;
    const char *rp_name;    /* CREATE DATABASE ... NAME rp */
    int64_t resample_every, resample_for; /* ns, 0 = not given */
} iq_stmt;

typedef struct iq_query {
    iq_stmt **stmts;
    int n;
    void *arena_; /* private */
} iq_query;

typedef struct iq_error {
    char msg[320];
    int line, col; /* 1-based position, 0 when the error has none */
} iq_error;

iq_query *iq_parse(const char *q, size_t len, iq_error *err);
void iq_query_free(iq_query *q);
char *iq_print_stmt(const iq_stmt *st);
char *iq_print_query(const iq_query *q);
char *iq_print_expr(const iq_expr *e);
char *iq_format_duration(int64_t ns, char out[32]);
int iq_parse_rfc3339(const char *s, int64_t *ns);
bool iq_is_aggregate(const char *name);
int iq_validate_select(const iq_select *s, char *msg, size_t cap);

#endif
