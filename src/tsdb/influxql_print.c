/* tsdb/influxql_print: turns an InfluxQL AST back into canonical text: keywords upper-case,
 * identifiers quoted only when needed, strings in single quotes, durations in their largest exact
 * unit, one space around binary operators. Parsing the output gives an AST that prints the same. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/buf.h"
#include "tsdb/influxql.h"
#include "tsdb/influxql_lex.h"

typedef struct out {
    buf_t b;
    bool oom;
} out;

static void put(out *o, const char *s, size_t n) {
    if (!o->oom && buf_append(&o->b, s, n) != 0) o->oom = true;
}
static void puts_(out *o, const char *s) { put(o, s, strlen(s)); }
static void putf(out *o, const char *fmt, long long v) {
    char t[32];
    int n = snprintf(t, sizeof t, fmt, v);
    put(o, t, (size_t)n);
}

static char *finish(out *o) {
    put(o, "", 1);
    if (o->oom) {
        buf_free(&o->b);
        return NULL;
    }
    return (char *)o->b.data;
}

char *iq_format_duration(int64_t ns, char buf[32]) {
    static const struct { int64_t ns; const char *u; } units[] = {
        {604800000000000LL, "w"}, {86400000000000LL, "d"}, {3600000000000LL, "h"}, {60000000000LL, "m"},
        {1000000000LL, "s"},      {1000000LL, "ms"},       {1000LL, "u"},          {1, "ns"}};
    if (ns == 0) {
        strcpy(buf, "0s");
        return buf;
    }
    const char *sign = "";
    uint64_t v = (uint64_t)ns;
    if (ns < 0) {
        sign = "-";
        v = (uint64_t)0 - (uint64_t)ns;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (v % (uint64_t)units[i].ns == 0) {
            snprintf(buf, 32, "%s%" PRIu64 "%s", sign, v / (uint64_t)units[i].ns, units[i].u);
            return buf;
        }
    }
    return buf; /* unreachable: every value is a multiple of 1ns */
}

static void put_dur(out *o, int64_t ns) {
    char t[32];
    puts_(o, iq_format_duration(ns, t));
}

static bool bare_ident_ok(const char *s) {
    const unsigned char *u = (const unsigned char *)s;
    if (!u[0]) return false;
    if (!((u[0] >= 'a' && u[0] <= 'z') || (u[0] >= 'A' && u[0] <= 'Z') || u[0] == '_')) return false;
    for (size_t i = 1; u[i]; i++)
        if (!((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= 'A' && u[i] <= 'Z') || u[i] == '_' ||
              (u[i] >= '0' && u[i] <= '9')))
            return false;
    return !iq_is_keyword(s);
}

static void put_quoted(out *o, const char *s, char q) {
    put(o, &q, 1);
    for (const char *p = s; *p; p++) {
        if (*p == q || *p == '\\') {
            put(o, "\\", 1);
            put(o, p, 1);
        } else if (*p == '\n') {
            put(o, "\\n", 2);
        } else {
            put(o, p, 1);
        }
    }
    put(o, &q, 1);
}

static void put_ident(out *o, const char *s) {
    if (bare_ident_ok(s)) puts_(o, s);
    else put_quoted(o, s, '"');
}

static void put_regex(out *o, const char *re) {
    put(o, "/", 1);
    for (const char *p = re; *p; p++) {
        if (*p == '/') put(o, "\\/", 2);
        else put(o, p, 1);
    }
    put(o, "/", 1);
}

static void put_float(out *o, double f) {
    char t[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, f);
        if (strtod(t, NULL) == f) break;
    }
    puts_(o, t);
    if (!strpbrk(t, ".eEni")) puts_(o, ".0"); /* keep it a float literal */
}

static const char *op_str(iq_op op) {
    static const char *const t[] = {"", "+", "-", "*", "/", "%", "&", "|", "^", "=", "!=", "=~", "!~",
                                    "<", "<=", ">", ">=", "AND", "OR", "IN"};
    return t[op];
}

static int prec(iq_op op) {
    switch (op) {
    case IQ_OP_OR: return 1;
    case IQ_OP_AND: return 2;
    case IQ_OP_ADD: case IQ_OP_SUB: case IQ_OP_BITOR: case IQ_OP_BITXOR: return 5;
    case IQ_OP_MUL: case IQ_OP_DIV: case IQ_OP_MOD: case IQ_OP_BITAND: return 6;
    default: return 4;
    }
}

static void put_vtype(out *o, iq_vartype t) {
    static const char *const n[] = {"", "field", "tag", "integer", "float", "string", "boolean"};
    if (t != IQ_VT_ANY) {
        puts_(o, "::");
        puts_(o, n[t]);
    }
}

static void put_expr(out *o, const iq_expr *e);

static void put_child(out *o, const iq_expr *c, int parent_prec, bool right) {
    bool wrap = c->kind == IQ_BINARY && (prec(c->op) < parent_prec || (right && prec(c->op) == parent_prec));
    if (wrap) put(o, "(", 1);
    put_expr(o, c);
    if (wrap) put(o, ")", 1);
}

static void put_expr(out *o, const iq_expr *e) {
    switch (e->kind) {
    case IQ_VAR:
        put_ident(o, e->name);
        put_vtype(o, e->vtype);
        break;
    case IQ_INTEGER: putf(o, "%lld", (long long)e->i); break;
    case IQ_NUMBER: put_float(o, e->f); break;
    case IQ_STRING: put_quoted(o, e->str, '\''); break;
    case IQ_BOOL: puts_(o, e->b ? "true" : "false"); break;
    case IQ_DURATION: put_dur(o, e->i); break;
    case IQ_REGEX: put_regex(o, e->str); break;
    case IQ_WILDCARD:
        put(o, "*", 1);
        put_vtype(o, e->vtype);
        break;
    case IQ_CALL:
        puts_(o, e->name);
        put(o, "(", 1);
        for (int i = 0; i < e->nargs; i++) {
            if (i) puts_(o, ", ");
            put_expr(o, e->args[i]);
        }
        put(o, ")", 1);
        break;
    case IQ_BINARY: {
        int pr = prec(e->op);
        put_child(o, e->lhs, pr, false);
        put(o, " ", 1);
        puts_(o, op_str(e->op));
        put(o, " ", 1);
        put_child(o, e->rhs, pr, true);
        break;
    }
    case IQ_PAREN:
        put(o, "(", 1);
        put_expr(o, e->lhs);
        put(o, ")", 1);
        break;
    case IQ_NEG:
        put(o, "-", 1);
        if (e->lhs->kind == IQ_BINARY || e->lhs->kind == IQ_NEG) {
            put(o, "(", 1);
            put_expr(o, e->lhs);
            put(o, ")", 1);
        } else {
            put_expr(o, e->lhs);
        }
        break;
    case IQ_PARAM:
        put(o, "$", 1);
        puts_(o, e->name);
        break;
    }
}

static void put_source(out *o, const iq_source *s) {
    if (s->db) {
        put_ident(o, s->db);
        put(o, ".", 1);
        if (s->rp) put_ident(o, s->rp);
        put(o, ".", 1);
    } else if (s->rp) {
        put_ident(o, s->rp);
        put(o, ".", 1);
    }
    if (s->regex) put_regex(o, s->regex);
    else put_ident(o, s->name);
}

static void put_sources(out *o, const char *kw, const iq_source *s, int n) {
    if (n == 0) return;
    puts_(o, kw);
    for (int i = 0; i < n; i++) {
        if (i) puts_(o, ", ");
        put_source(o, &s[i]);
    }
}

static void put_where(out *o, const iq_expr *cond) {
    if (!cond) return;
    puts_(o, " WHERE ");
    put_expr(o, cond);
}

static void put_lim(out *o, const char *kw, int64_t v) {
    if (v <= 0) return;
    puts_(o, kw);
    putf(o, "%lld", (long long)v);
}

static void put_select(out *o, const iq_select *s) {
    puts_(o, "SELECT ");
    for (int i = 0; i < s->nfields; i++) {
        if (i) puts_(o, ", ");
        put_expr(o, s->fields[i].expr);
        if (s->fields[i].alias) {
            puts_(o, " AS ");
            put_ident(o, s->fields[i].alias);
        }
    }
    if (s->into) {
        puts_(o, " INTO ");
        put_source(o, s->into);
    }
    put_sources(o, " FROM ", s->sources, s->nsources);
    put_where(o, s->cond);
    if (s->ndims) {
        puts_(o, " GROUP BY ");
        for (int i = 0; i < s->ndims; i++) {
            if (i) puts_(o, ", ");
            put_expr(o, s->dims[i]);
        }
    }
    if (s->fill_set) {
        static const char *const f[] = {"null", "none", "previous", "linear"};
        puts_(o, " fill(");
        if (s->fill == IQ_FILL_VALUE) put_expr(o, s->fill_value);
        else puts_(o, f[s->fill]);
        put(o, ")", 1);
    }
    if (s->order_set) puts_(o, s->order_desc ? " ORDER BY time DESC" : " ORDER BY time ASC");
    put_lim(o, " LIMIT ", s->limit);
    put_lim(o, " OFFSET ", s->offset);
    put_lim(o, " SLIMIT ", s->slimit);
    put_lim(o, " SOFFSET ", s->soffset);
    if (s->tz) {
        puts_(o, " tz(");
        put_quoted(o, s->tz, '\'');
        put(o, ")", 1);
    }
}

static void put_on(out *o, const char *db) {
    if (!db) return;
    puts_(o, " ON ");
    put_ident(o, db);
}

static void put_rp_opts(out *o, const iq_stmt *st) {
    if (st->has_duration) {
        puts_(o, " DURATION ");
        if (st->duration == 0) puts_(o, "INF");
        else put_dur(o, st->duration);
    }
    if (st->has_replication) putf(o, " REPLICATION %lld", (long long)st->replication);
    if (st->has_shard_duration) {
        puts_(o, " SHARD DURATION ");
        put_dur(o, st->shard_duration);
    }
    if (st->rp_name) {
        puts_(o, " NAME ");
        put_ident(o, st->rp_name);
    }
    if (st->is_default) puts_(o, " DEFAULT");
}

static void put_stmt(out *o, const iq_stmt *st) {
    switch (st->kind) {
    case IQ_STMT_SELECT: put_select(o, st->sel); break;
    case IQ_STMT_SHOW_DATABASES: puts_(o, "SHOW DATABASES"); break;
    case IQ_STMT_SHOW_MEASUREMENTS:
        puts_(o, "SHOW MEASUREMENTS");
        put_on(o, st->db);
        if (st->with_value) {
            puts_(o, " WITH MEASUREMENT ");
            puts_(o, op_str(st->with_op));
            put(o, " ", 1);
            if (st->with_op == IQ_OP_EQREGEX || st->with_op == IQ_OP_NEQREGEX) put_regex(o, st->with_value);
            else put_ident(o, st->with_value);
        }
        put_where(o, st->cond);
        put_lim(o, " LIMIT ", st->limit);
        put_lim(o, " OFFSET ", st->offset);
        break;
    case IQ_STMT_SHOW_TAG_KEYS:
    case IQ_STMT_SHOW_TAG_VALUES:
    case IQ_STMT_SHOW_FIELD_KEYS:
    case IQ_STMT_SHOW_SERIES:
        puts_(o, st->kind == IQ_STMT_SHOW_TAG_KEYS     ? "SHOW TAG KEYS"
                 : st->kind == IQ_STMT_SHOW_TAG_VALUES ? "SHOW TAG VALUES"
                 : st->kind == IQ_STMT_SHOW_FIELD_KEYS ? "SHOW FIELD KEYS"
                                                       : "SHOW SERIES");
        put_on(o, st->db);
        put_sources(o, " FROM ", st->sources, st->nsources);
        if (st->kind == IQ_STMT_SHOW_TAG_VALUES) {
            puts_(o, " WITH KEY ");
            puts_(o, op_str(st->key_op));
            put(o, " ", 1);
            if (st->key_op == IQ_OP_IN) {
                put(o, "(", 1);
                for (int i = 0; i < st->nkeys; i++) {
                    if (i) puts_(o, ", ");
                    put_ident(o, st->keys[i]);
                }
                put(o, ")", 1);
            } else if (st->key_op == IQ_OP_EQREGEX || st->key_op == IQ_OP_NEQREGEX) {
                put_regex(o, st->keys[0]);
            } else {
                put_ident(o, st->keys[0]);
            }
        }
        put_where(o, st->cond);
        put_lim(o, " LIMIT ", st->limit);
        put_lim(o, " OFFSET ", st->offset);
        break;
    case IQ_STMT_SHOW_RETENTION_POLICIES:
        puts_(o, "SHOW RETENTION POLICIES");
        put_on(o, st->db);
        break;
    case IQ_STMT_SHOW_CONTINUOUS_QUERIES: puts_(o, "SHOW CONTINUOUS QUERIES"); break;
    case IQ_STMT_CREATE_DATABASE:
        puts_(o, "CREATE DATABASE ");
        put_ident(o, st->name);
        if (st->has_duration || st->has_replication || st->has_shard_duration || st->rp_name) {
            puts_(o, " WITH");
            put_rp_opts(o, st);
        }
        break;
    case IQ_STMT_DROP_DATABASE:
        puts_(o, "DROP DATABASE ");
        put_ident(o, st->name);
        break;
    case IQ_STMT_CREATE_RETENTION_POLICY:
    case IQ_STMT_ALTER_RETENTION_POLICY:
    case IQ_STMT_DROP_RETENTION_POLICY:
        puts_(o, st->kind == IQ_STMT_CREATE_RETENTION_POLICY  ? "CREATE RETENTION POLICY "
                 : st->kind == IQ_STMT_ALTER_RETENTION_POLICY ? "ALTER RETENTION POLICY "
                                                              : "DROP RETENTION POLICY ");
        put_ident(o, st->name);
        put_on(o, st->db);
        if (st->kind != IQ_STMT_DROP_RETENTION_POLICY) put_rp_opts(o, st);
        break;
    case IQ_STMT_CREATE_CONTINUOUS_QUERY:
        puts_(o, "CREATE CONTINUOUS QUERY ");
        put_ident(o, st->name);
        put_on(o, st->db);
        if (st->resample_every || st->resample_for) {
            puts_(o, " RESAMPLE");
            if (st->resample_every) {
                puts_(o, " EVERY ");
                put_dur(o, st->resample_every);
            }
            if (st->resample_for) {
                puts_(o, " FOR ");
                put_dur(o, st->resample_for);
            }
        }
        puts_(o, " BEGIN ");
        put_select(o, st->sel);
        puts_(o, " END");
        break;
    case IQ_STMT_DROP_CONTINUOUS_QUERY:
        puts_(o, "DROP CONTINUOUS QUERY ");
        put_ident(o, st->name);
        put_on(o, st->db);
        break;
    case IQ_STMT_DELETE:
    case IQ_STMT_DROP_SERIES:
        puts_(o, st->kind == IQ_STMT_DELETE ? "DELETE" : "DROP SERIES");
        put_sources(o, " FROM ", st->sources, st->nsources);
        put_where(o, st->cond);
        break;
    case IQ_STMT_DROP_MEASUREMENT:
        puts_(o, "DROP MEASUREMENT ");
        put_ident(o, st->name);
        break;
    }
}

char *iq_print_stmt(const iq_stmt *st) {
    out o = {0};
    buf_init(&o.b);
    put_stmt(&o, st);
    return finish(&o);
}

char *iq_print_query(const iq_query *q) {
    out o = {0};
    buf_init(&o.b);
    for (int i = 0; i < q->n; i++) {
        if (i) puts_(&o, "; ");
        put_stmt(&o, q->stmts[i]);
    }
    return finish(&o);
}

char *iq_print_expr(const iq_expr *e) {
    out o = {0};
    buf_init(&o.b);
    put_expr(&o, e);
    return finish(&o);
}
