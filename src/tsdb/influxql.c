/* tsdb/influxql: the InfluxQL parser: statements, SELECT clauses, expressions (precedence
 * climbing with a depth bound), SHOW/CREATE/DROP/ALTER/DELETE forms, producing the AST of
 * influxql.h with InfluxDB 1.x's error texts; plus RFC3339 parsing and the function table. */
#include "tsdb/influxql.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tsdb/influxql_lex.h"

typedef struct parser {
    iq_lexer lx;
    iq_tok tok;    /* peeked token when have */
    bool have;
    iq_arena *a;
    iq_error *err;
    bool failed;
    int rdepth;
} parser;

/* ---- errors ---- */
static void pos_of(const parser *p, size_t pos, int *line, int *col) {
    int l = 1, c = 1;
    if (pos > p->lx.len) {
        c += (int)(pos - p->lx.len);
        pos = p->lx.len;
    }
    for (size_t i = 0; i < pos; i++) {
        unsigned char ch = (unsigned char)p->lx.s[i];
        if (ch == '\n') { l++; c = 1; }
        else if ((ch & 0xC0) != 0x80) c++;
    }
    *line = l;
    *col = c;
}

/* message with " at line L, char C" when pos != SIZE_MAX; prefix "error parsing query: " */
static void fail_at(parser *p, size_t pos, const char *fmt, ...) {
    if (p->failed) return;
    p->failed = true;
    char m[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    if (pos == (size_t)-1) {
        p->err->line = p->err->col = 0;
        snprintf(p->err->msg, sizeof p->err->msg, "error parsing query: %s", m);
    } else {
        pos_of(p, pos, &p->err->line, &p->err->col);
        snprintf(p->err->msg, sizeof p->err->msg, "error parsing query: %s at line %d, char %d", m,
                 p->err->line, p->err->col);
    }
}

static const char *tokstr(const iq_tok *t) {
    if (t->lit) return t->lit;
    const char *s = iq_tok_symbol(t->t);
    return s ? s : "?";
}

static void oom(parser *p) { fail_at(p, (size_t)-1, "out of memory"); }

/* ---- token stream ---- */
static iq_tok *peek(parser *p) {
    if (!p->have) {
        iq_lex(&p->lx, &p->tok);
        p->have = true;
    }
    return &p->tok;
}
static void consume(parser *p) { p->have = false; }

/* the peeked token is illegal: report it; returns true if so */
static bool bad_token(parser *p, const iq_tok *t) {
    if (t->t != T_ILLEGAL || !t->err) return false; /* a stray character is reported as "found X" */
    fail_at(p, t->nopos ? (size_t)-1 : t->pos, "%s", t->err);
    return true;
}

/* "found X, expected <exp>" at the peeked token (a lexer error wins) */
static void expected(parser *p, const char *exp) {
    iq_tok *t = peek(p);
    if (bad_token(p, t)) return;
    /* InfluxDB reports a string one char early (at its opening quote, counted from 0) */
    size_t pos = t->t == T_STRING && t->pos > 0 ? t->pos - 1 : t->pos;
    fail_at(p, pos, "found %s, expected %s", tokstr(t), exp);
}

static bool accept(parser *p, int t) {
    if (peek(p)->t == t) { consume(p); return true; }
    return false;
}

static bool expect(parser *p, int t) {
    if (accept(p, t)) return true;
    expected(p, iq_tok_symbol(t));
    return false;
}

static bool peek_ident_is(parser *p, const char *name) {
    iq_tok *t = peek(p);
    if (t->t != T_IDENT) return false;
    size_t n = strlen(name);
    if (strlen(t->lit) != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = t->lit[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c != name[i]) return false;
    }
    /* a quoted identifier ("fill") is a name, not the clause */
    return p->lx.s[t->pos] != '"';
}

static const char *parse_ident(parser *p) {
    iq_tok *t = peek(p);
    if (t->t != T_IDENT) {
        expected(p, "identifier");
        return NULL;
    }
    consume(p);
    return t->lit;
}

static bool parse_int(parser *p, int64_t *v, int64_t min, int64_t max) {
    iq_tok *t = peek(p);
    if (t->t != T_INTEGER) {
        expected(p, "integer");
        return false;
    }
    if (t->i < min || t->i > max) {
        fail_at(p, t->pos, "invalid value %lld: must be %lld <= n <= %lld", (long long)t->i, (long long)min,
                (long long)max);
        return false;
    }
    *v = t->i;
    consume(p);
    return true;
}

static bool parse_duration(parser *p, int64_t *v, bool allow_inf) {
    iq_tok *t = peek(p);
    if (t->t == T_DURATION) { *v = t->i; consume(p); return true; }
    if (allow_inf && t->t == K_INF) { *v = 0; consume(p); return true; }
    expected(p, "duration");
    return false;
}

static const char *parse_regex(parser *p) {
    /* rescan from the start of a peeked token (it may be a '/' the lexer took for division) */
    if (p->have && p->tok.pos <= p->lx.len) p->lx.off = p->tok.pos;
    p->have = false;
    iq_tok *t = &p->tok;
    iq_lex_regex(&p->lx, t);
    p->have = true;
    if (t->t == T_REGEX) { consume(p); return t->lit; }
    expected(p, "regex");
    return NULL;
}

static bool at_regex(parser *p) {
    /* is the next non-blank character a '/'? (checked on the raw text so a regex starting with a star is not taken for a comment) */
    if (p->have) return p->tok.t == T_DIV;
    size_t i = p->lx.off;
    while (i < p->lx.len && (p->lx.s[i] == ' ' || p->lx.s[i] == '\t' || p->lx.s[i] == '\n' || p->lx.s[i] == '\r'))
        i++;
    return i < p->lx.len && p->lx.s[i] == '/';
}

/* ---- expressions ---- */
static iq_expr *mk(parser *p, iq_expr_kind k, size_t pos) {
    iq_expr *e = iq_arena_alloc(p->a, sizeof *e);
    if (!e) { oom(p); return NULL; }
    e->kind = k;
    e->pos = pos;
    e->depth = 1;
    return e;
}

static bool set_depth(parser *p, iq_expr *e, int d) {
    e->depth = d;
    if (d > IQ_MAX_DEPTH) {
        fail_at(p, e->pos, "expression nested too deeply (max %d)", IQ_MAX_DEPTH);
        return false;
    }
    return true;
}

static iq_expr *parse_expr(parser *p);

static int op_prec(int t) {
    switch (t) {
    case K_OR: return 1;
    case K_AND: return 2;
    case T_EQ: case T_NEQ: case T_EQREGEX: case T_NEQREGEX:
    case T_LT: case T_LTE: case T_GT: case T_GTE: return 4;
    case T_ADD: case T_SUB: case T_BITOR: case T_BITXOR: return 5;
    case T_MUL: case T_DIV: case T_MOD: case T_BITAND: return 6;
    default: return 0;
    }
}

static iq_op tok_op(int t) {
    switch (t) {
    case K_OR: return IQ_OP_OR;
    case K_AND: return IQ_OP_AND;
    case T_EQ: return IQ_OP_EQ;
    case T_NEQ: return IQ_OP_NEQ;
    case T_EQREGEX: return IQ_OP_EQREGEX;
    case T_NEQREGEX: return IQ_OP_NEQREGEX;
    case T_LT: return IQ_OP_LT;
    case T_LTE: return IQ_OP_LTE;
    case T_GT: return IQ_OP_GT;
    case T_GTE: return IQ_OP_GTE;
    case T_ADD: return IQ_OP_ADD;
    case T_SUB: return IQ_OP_SUB;
    case T_MUL: return IQ_OP_MUL;
    case T_DIV: return IQ_OP_DIV;
    case T_MOD: return IQ_OP_MOD;
    case T_BITAND: return IQ_OP_BITAND;
    case T_BITOR: return IQ_OP_BITOR;
    case T_BITXOR: return IQ_OP_BITXOR;
    default: return IQ_OP_NONE;
    }
}

static char *lower_dup(parser *p, const char *s) {
    size_t n = strlen(s);
    char *d = iq_arena_strndup(p->a, s, n);
    if (!d) { oom(p); return NULL; }
    for (size_t i = 0; i < n; i++)
        if (d[i] >= 'A' && d[i] <= 'Z') d[i] = (char)(d[i] + 32);
    return d;
}

/* after '(' : arguments up to ')' (list grown in the arena: no big arrays on the recursion path) */
static bool parse_call_args(parser *p, iq_expr *call) {
    if (accept(p, T_RPAREN)) return true;
    iq_expr **list = NULL;
    int n = 0, cap = 0;
    int d = 1;
    for (;;) {
        if (n >= 64) {
            fail_at(p, peek(p)->pos, "too many arguments in %s()", call->name);
            return false;
        }
        if (n == cap) {
            int nc = cap ? cap * 2 : 4;
            iq_expr **nl = iq_arena_alloc(p->a, sizeof(iq_expr *) * (size_t)nc);
            if (!nl) { oom(p); return false; }
            if (n) memcpy(nl, list, sizeof(iq_expr *) * (size_t)n);
            list = nl;
            cap = nc;
        }
        iq_expr *a = parse_expr(p);
        if (!a) return false;
        list[n++] = a;
        if (a->depth + 1 > d) d = a->depth + 1;
        if (accept(p, T_COMMA)) continue;
        if (accept(p, T_RPAREN)) break;
        expected(p, ",, )");
        return false;
    }
    call->args = list;
    call->nargs = n;
    return set_depth(p, call, d);
}

static bool parse_cast(parser *p, iq_expr *e) {
    if (!accept(p, T_DOUBLECOLON)) return true;
    iq_tok *t = peek(p);
    static const char *const names[] = {"field", "tag", "integer", "float", "string", "boolean"};
    static const iq_vartype types[] = {IQ_VT_FIELD, IQ_VT_TAG, IQ_VT_INTEGER, IQ_VT_FLOAT, IQ_VT_STRING,
                                       IQ_VT_BOOLEAN};
    for (int i = 0; i < 6; i++) {
        if (peek_ident_is(p, names[i])) {
            consume(p);
            e->vtype = types[i];
            return true;
        }
    }
    if (t->t == K_FIELD || t->t == K_TAG) {
        e->vtype = t->t == K_FIELD ? IQ_VT_FIELD : IQ_VT_TAG;
        consume(p);
        return true;
    }
    expected(p, "field, tag, integer, float, string, boolean");
    return false;
}

static iq_expr *parse_unary(parser *p) {
    iq_tok *t = peek(p);
    size_t pos = t->pos;
    iq_expr *e;
    if (bad_token(p, t)) return NULL;
    switch (t->t) {
    case T_LPAREN: {
        consume(p);
        iq_expr *in = parse_expr(p);
        if (!in || !expect(p, T_RPAREN)) return NULL;
        if (!(e = mk(p, IQ_PAREN, pos))) return NULL;
        e->lhs = in;
        return set_depth(p, e, in->depth + 1) ? e : NULL;
    }
    case T_SUB:
    case T_ADD: {
        bool neg = t->t == T_SUB;
        consume(p);
        iq_tok *n = peek(p);
        if (n->t == T_INTEGER || n->t == T_NUMBER || n->t == T_DURATION) {
            if (!(e = mk(p, n->t == T_INTEGER ? IQ_INTEGER : n->t == T_NUMBER ? IQ_NUMBER : IQ_DURATION, pos)))
                return NULL;
            e->i = neg ? -n->i : n->i;
            e->f = neg ? -n->f : n->f;
            consume(p);
            return e;
        }
        if (n->t != T_IDENT && n->t != T_LPAREN && n->t != T_PARAM) {
            expected(p, "identifier, string, number, bool");
            return NULL;
        }
        if (++p->rdepth > IQ_MAX_DEPTH) {
            fail_at(p, pos, "expression nested too deeply (max %d)", IQ_MAX_DEPTH);
            return NULL;
        }
        iq_expr *in = parse_unary(p);
        p->rdepth--;
        if (!in) return NULL;
        if (!neg) return in;
        if (!(e = mk(p, IQ_NEG, pos))) return NULL;
        e->lhs = in;
        return set_depth(p, e, in->depth + 1) ? e : NULL;
    }
    case T_MUL:
        consume(p);
        if (!(e = mk(p, IQ_WILDCARD, pos))) return NULL;
        return parse_cast(p, e) ? e : NULL;
    case T_STRING:
        consume(p);
        if (!(e = mk(p, IQ_STRING, pos))) return NULL;
        e->str = t->lit;
        return e;
    case T_INTEGER:
        consume(p);
        if (!(e = mk(p, IQ_INTEGER, pos))) return NULL;
        e->i = t->i;
        return e;
    case T_NUMBER:
        consume(p);
        if (!(e = mk(p, IQ_NUMBER, pos))) return NULL;
        e->f = t->f;
        return e;
    case T_DURATION:
        consume(p);
        if (!(e = mk(p, IQ_DURATION, pos))) return NULL;
        e->i = t->i;
        return e;
    case K_TRUE:
    case K_FALSE:
        consume(p);
        if (!(e = mk(p, IQ_BOOL, pos))) return NULL;
        e->b = t->t == K_TRUE;
        return e;
    case T_PARAM:
        consume(p);
        if (!(e = mk(p, IQ_PARAM, pos))) return NULL;
        e->name = t->lit;
        return e;
    case K_DISTINCT: {
        consume(p);
        if (!(e = mk(p, IQ_CALL, pos))) return NULL;
        e->name = "distinct";
        if (accept(p, T_LPAREN)) return parse_call_args(p, e) ? e : NULL;
        iq_tok *n = peek(p);
        if (n->t != T_IDENT) {
            expected(p, "(, identifier");
            return NULL;
        }
        iq_expr *v = mk(p, IQ_VAR, n->pos);
        if (!v) return NULL;
        v->name = n->lit;
        consume(p);
        e->args = iq_arena_alloc(p->a, sizeof(iq_expr *));
        if (!e->args) { oom(p); return NULL; }
        e->args[0] = v;
        e->nargs = 1;
        e->depth = 2;
        return e;
    }
    case T_IDENT: {
        const char *name = t->lit;
        consume(p);
        if (peek(p)->t == T_LPAREN) {
            consume(p);
            if (!(e = mk(p, IQ_CALL, pos))) return NULL;
            if (!(e->name = lower_dup(p, name))) return NULL;
            return parse_call_args(p, e) ? e : NULL;
        }
        if (!(e = mk(p, IQ_VAR, pos))) return NULL;
        e->name = name;
        return parse_cast(p, e) ? e : NULL;
    }
    default:
        expected(p, "identifier, string, number, bool");
        return NULL;
    }
}

static iq_expr *parse_binary(parser *p, int min_prec) {
    iq_expr *lhs = parse_unary(p);
    if (!lhs) return NULL;
    for (;;) {
        iq_tok *t = peek(p);
        int prec = op_prec(t->t);
        if (prec == 0 || prec < min_prec) return lhs;
        int tt = t->t;
        size_t pos = t->pos;
        consume(p);
        iq_expr *rhs;
        if (tt == T_EQREGEX || tt == T_NEQREGEX) {
            if (!at_regex(p) && peek(p)->t == T_PARAM) {
                rhs = parse_unary(p);
            } else {
                const char *re = parse_regex(p);
                if (!re) return NULL;
                rhs = mk(p, IQ_REGEX, pos);
                if (rhs) rhs->str = re;
            }
        } else {
            rhs = parse_binary(p, prec + 1);
        }
        if (!rhs) return NULL;
        iq_expr *b = mk(p, IQ_BINARY, lhs->pos);
        if (!b) return NULL;
        b->op = tok_op(tt);
        b->lhs = lhs;
        b->rhs = rhs;
        if (!set_depth(p, b, (lhs->depth > rhs->depth ? lhs->depth : rhs->depth) + 1)) return NULL;
        (void)pos;
        lhs = b;
    }
}

static iq_expr *parse_expr(parser *p) {
    if (++p->rdepth > IQ_MAX_DEPTH) {
        fail_at(p, peek(p)->pos, "expression nested too deeply (max %d)", IQ_MAX_DEPTH);
        return NULL;
    }
    iq_expr *e = parse_binary(p, 1);
    p->rdepth--;
    return e;
}

/* ---- shared clauses ---- */
static bool parse_source(parser *p, iq_source *s, bool allow_regex) {
    if (allow_regex && at_regex(p)) {
        return (s->regex = parse_regex(p)) != NULL;
    }
    const char *seg[3];
    int n = 0;
    if (peek(p)->t == T_LPAREN) {
        fail_at(p, peek(p)->pos, "subqueries are not supported");
        return false;
    }
    if (peek(p)->t == T_DOT) {
        seg[n++] = NULL;
    } else {
        if (!(seg[n++] = parse_ident(p))) return false;
    }
    while (peek(p)->t == T_DOT) {
        consume(p);
        if (n == 3) {
            fail_at(p, peek(p)->pos, "too many segments in measurement name");
            return false;
        }
        if (peek(p)->t == T_DOT) { seg[n++] = NULL; continue; }
        if (allow_regex && at_regex(p)) {
            seg[n++] = NULL;
            if (!(s->regex = parse_regex(p))) return false;
            break;
        }
        if (!(seg[n++] = parse_ident(p))) return false;
    }
    if (n == 3) { s->db = seg[0]; s->rp = seg[1]; }
    else if (n == 2) s->rp = seg[0];
    if (!s->regex) {
        s->name = seg[n - 1];
        if (!s->name) { expected(p, "identifier"); return false; }
    }
    return true;
}

static bool parse_sources(parser *p, iq_source **out, int *nout) {
    iq_source *list = NULL;
    int n = 0, cap = 0;
    for (;;) {
        if (n >= IQ_MAX_LIST) {
            fail_at(p, peek(p)->pos, "too many sources (max %d)", IQ_MAX_LIST);
            return false;
        }
        if (n == cap) {
            int nc = cap ? cap * 2 : 64;
            iq_source *nl = iq_arena_alloc(p->a, sizeof(iq_source) * (size_t)nc);
            if (!nl) { oom(p); return false; }
            if (n) memcpy(nl, list, sizeof(iq_source) * (size_t)n);
            list = nl;
            cap = nc;
        }
        if (!parse_source(p, &list[n], true)) return false;
        n++;
        if (!accept(p, T_COMMA)) break;
    }
    *out = list;
    *nout = n;
    return true;
}

static bool opt_where(parser *p, iq_expr **cond) {
    if (!accept(p, K_WHERE)) return true;
    return (*cond = parse_expr(p)) != NULL;
}

static bool opt_on(parser *p, const char **db) {
    if (!accept(p, K_ON)) return true;
    return (*db = parse_ident(p)) != NULL;
}

static bool opt_from(parser *p, iq_stmt *st) {
    if (!accept(p, K_FROM)) return true;
    return parse_sources(p, &st->sources, &st->nsources);
}

static bool opt_limit_offset(parser *p, int64_t *limit, int64_t *offset) {
    if (accept(p, K_LIMIT) && !parse_int(p, limit, 0, INT64_MAX)) return false;
    if (accept(p, K_OFFSET) && !parse_int(p, offset, 0, INT64_MAX)) return false;
    return true;
}

/* ---- SELECT ---- */
static bool is_cmp_op(iq_op op) { return op >= IQ_OP_EQ && op <= IQ_OP_OR; }

static const iq_expr *find_cmp(const iq_expr *e) {
    if (!e) return NULL;
    if (e->kind == IQ_BINARY) {
        if (is_cmp_op(e->op)) return e;
        const iq_expr *r = find_cmp(e->lhs);
        return r ? r : find_cmp(e->rhs);
    }
    if (e->kind == IQ_PAREN || e->kind == IQ_NEG) return find_cmp(e->lhs);
    return NULL;
}

static const char *op_text(iq_op op) {
    static const char *const t[] = {"", "+", "-", "*", "/", "%", "&", "|", "^", "=", "!=", "=~", "!~",
                                    "<", "<=", ">", ">=", "AND", "OR", "IN"};
    return t[op];
}

static bool parse_fields(parser *p, iq_select *s) {
    iq_field *list = NULL;
    int n = 0, cap = 0;
    for (;;) {
        if (n >= IQ_MAX_LIST) {
            fail_at(p, peek(p)->pos, "too many fields (max %d)", IQ_MAX_LIST);
            return false;
        }
        if (n == cap) {
            int nc = cap ? cap * 2 : 16;
            iq_field *nl = iq_arena_alloc(p->a, sizeof(iq_field) * (size_t)nc);
            if (!nl) { oom(p); return false; }
            if (n) memcpy(nl, list, sizeof(iq_field) * (size_t)n);
            list = nl;
            cap = nc;
        }
        size_t fpos = peek(p)->pos;
        iq_expr *e = parse_expr(p);
        if (!e) return false;
        const iq_expr *c = find_cmp(e);
        if (c) {
            int l, col;
            pos_of(p, fpos, &l, &col);
            fail_at(p, (size_t)-1, "invalid operator %s in SELECT clause at line %d, char %d; operator is "
                                   "intended for WHERE clause", op_text(c->op), l, col);
            return false;
        }
        list[n].expr = e;
        list[n].alias = NULL;
        if (accept(p, K_AS) && !(list[n].alias = parse_ident(p))) return false;
        n++;
        if (!accept(p, T_COMMA)) break;
    }
    s->fields = list;
    s->nfields = n;
    for (int i = 0; i < n; i++) {
        const iq_expr *e = list[i].expr;
        if (!(e->kind == IQ_VAR && strcmp(e->name, "time") == 0)) return true;
    }
    fail_at(p, (size_t)-1, "at least 1 non-time field must be queried");
    return false;
}

static bool parse_dimensions(parser *p, iq_select *s) {
    iq_expr **list = NULL;
    int n = 0, cap = 0;
    bool have_time = false;
    for (;;) {
        if (n >= IQ_MAX_LIST) {
            fail_at(p, peek(p)->pos, "too many dimensions (max %d)", IQ_MAX_LIST);
            return false;
        }
        if (n == cap) {
            int nc = cap ? cap * 2 : 8;
            iq_expr **nl = iq_arena_alloc(p->a, sizeof(iq_expr *) * (size_t)nc);
            if (!nl) { oom(p); return false; }
            if (n) memcpy(nl, list, sizeof(iq_expr *) * (size_t)n);
            list = nl;
            cap = nc;
        }
        iq_expr *d;
        size_t pos = peek(p)->pos;
        if (at_regex(p)) {
            const char *re = parse_regex(p);
            if (!re || !(d = mk(p, IQ_REGEX, pos))) return false;
            d->str = re;
        } else {
            d = parse_expr(p);
            if (!d) return false;
            if (d->kind == IQ_WILDCARD) {
                s->group_all_tags = true;
            } else if (d->kind == IQ_CALL && strcmp(d->name, "time") == 0) {
                if (have_time) {
                    fail_at(p, (size_t)-1, "multiple time dimensions not allowed");
                    return false;
                }
                have_time = true;
                if (d->nargs < 1 || d->nargs > 2) {
                    fail_at(p, (size_t)-1, "time dimension expected 1 or 2 arguments");
                    return false;
                }
                if (d->args[0]->kind != IQ_DURATION) {
                    fail_at(p, (size_t)-1, "time dimension must have duration argument");
                    return false;
                }
                if (d->args[0]->i <= 0) {
                    fail_at(p, (size_t)-1, "time dimension must have a positive duration argument");
                    return false;
                }
                s->group_interval = d->args[0]->i;
                if (d->nargs == 2) {
                    const iq_expr *o = d->args[1];
                    if (o->kind == IQ_DURATION) s->group_offset = o->i;
                    else if (o->kind == IQ_CALL && strcmp(o->name, "now") == 0 && o->nargs == 0)
                        s->group_offset_now = true;
                    else {
                        fail_at(p, (size_t)-1, "time dimension offset must be duration or now()");
                        return false;
                    }
                }
            } else if (d->kind == IQ_VAR) {
                if (strcmp(d->name, "time") == 0) {
                    fail_at(p, (size_t)-1, "time() is a function and expects at least one argument");
                    return false;
                }
            } else {
                fail_at(p, (size_t)-1, "only time and tag dimensions allowed");
                return false;
            }
        }
        list[n++] = d;
        if (!accept(p, T_COMMA)) break;
    }
    s->dims = list;
    s->ndims = n;
    return true;
}

static bool parse_fill(parser *p, iq_select *s) {
    if (!peek_ident_is(p, "fill")) return true;
    consume(p);
    if (peek(p)->t != T_LPAREN) {
        fail_at(p, (size_t)-1, "fill must be a function call");
        return false;
    }
    consume(p);
    iq_expr call = {0};
    call.name = "fill";
    if (!parse_call_args(p, &call)) return false;
    if (call.nargs != 1) {
        fail_at(p, (size_t)-1, "fill requires an argument, e.g.: 0, null, none, previous, linear");
        return false;
    }
    const iq_expr *a = call.args[0];
    s->fill_set = true;
    if (a->kind == IQ_VAR) {
        const char *v = a->name;
        char low[16];
        size_t i = 0;
        for (; v[i] && i < sizeof low - 1; i++) low[i] = (char)((v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i]);
        low[i] = 0;
        if (strcmp(low, "null") == 0) s->fill = IQ_FILL_NULL;
        else if (strcmp(low, "none") == 0) s->fill = IQ_FILL_NONE;
        else if (strcmp(low, "previous") == 0) s->fill = IQ_FILL_PREVIOUS;
        else if (strcmp(low, "linear") == 0) s->fill = IQ_FILL_LINEAR;
        else {
            fail_at(p, (size_t)-1, "fill requires an argument, e.g.: 0, null, none, previous, linear");
            return false;
        }
        return true;
    }
    if (a->kind == IQ_INTEGER || a->kind == IQ_NUMBER) {
        s->fill = IQ_FILL_VALUE;
        s->fill_value = call.args[0];
        return true;
    }
    fail_at(p, (size_t)-1, "expected number argument in fill()");
    return false;
}

static bool parse_order(parser *p, iq_select *s) {
    if (!accept(p, K_ORDER)) return true;
    if (!expect(p, K_BY)) return false;
    iq_tok *t = peek(p);
    s->order_set = true;
    if (t->t == T_IDENT) {
        bool is_time = strcmp(t->lit, "time") == 0;
        consume(p);
        if (accept(p, K_DESC)) s->order_desc = true;
        else accept(p, K_ASC);
        if (accept(p, T_COMMA)) {
            if (!parse_ident(p)) return false;
            is_time = false;
        }
        if (!is_time) {
            fail_at(p, (size_t)-1, "only ORDER BY time supported at this time");
            return false;
        }
        return true;
    }
    if (accept(p, K_DESC)) { s->order_desc = true; return true; }
    if (accept(p, K_ASC)) return true;
    expected(p, "identifier, ASC, DESC");
    return false;
}

static iq_select *parse_select_body(parser *p) {
    iq_select *s = iq_arena_alloc(p->a, sizeof *s);
    if (!s) { oom(p); return NULL; }
    if (!parse_fields(p, s)) return NULL;
    if (accept(p, K_INTO)) {
        s->into = iq_arena_alloc(p->a, sizeof(iq_source));
        if (!s->into) { oom(p); return NULL; }
        if (!parse_source(p, s->into, false)) return NULL;
    }
    if (!expect(p, K_FROM)) return NULL;
    if (!parse_sources(p, &s->sources, &s->nsources)) return NULL;
    if (!opt_where(p, &s->cond)) return NULL;
    if (accept(p, K_GROUP)) {
        if (!expect(p, K_BY)) return NULL;
        if (!parse_dimensions(p, s)) return NULL;
    }
    if (!parse_fill(p, s)) return NULL;
    if (!parse_order(p, s)) return NULL;
    if (accept(p, K_LIMIT) && !parse_int(p, &s->limit, 0, INT64_MAX)) return NULL;
    if (accept(p, K_OFFSET) && !parse_int(p, &s->offset, 0, INT64_MAX)) return NULL;
    if (accept(p, K_SLIMIT) && !parse_int(p, &s->slimit, 0, INT64_MAX)) return NULL;
    if (accept(p, K_SOFFSET) && !parse_int(p, &s->soffset, 0, INT64_MAX)) return NULL;
    if (peek_ident_is(p, "tz")) {
        consume(p);
        if (!expect(p, T_LPAREN)) return NULL;
        iq_tok *t = peek(p);
        if (t->t != T_STRING) {
            expected(p, "string");
            return NULL;
        }
        s->tz = t->lit;
        consume(p);
        if (!expect(p, T_RPAREN)) return NULL;
    }
    return s;
}

/* ---- other statements ---- */
static iq_stmt *new_stmt(parser *p, iq_stmt_kind k, size_t pos) {
    iq_stmt *st = iq_arena_alloc(p->a, sizeof *st);
    if (!st) { oom(p); return NULL; }
    st->kind = k;
    st->pos = pos;
    return st;
}

static iq_stmt *parse_show(parser *p, size_t pos) {
    iq_tok *t = peek(p);
    int k = t->t;
    iq_stmt *st = NULL;
    switch (k) {
    case K_DATABASES:
        consume(p);
        return new_stmt(p, IQ_STMT_SHOW_DATABASES, pos);
    case K_MEASUREMENTS:
        consume(p);
        if (!(st = new_stmt(p, IQ_STMT_SHOW_MEASUREMENTS, pos))) return NULL;
        if (!opt_on(p, &st->db)) return NULL;
        if (accept(p, K_WITH)) {
            if (!expect(p, K_MEASUREMENT)) return NULL;
            int o = peek(p)->t;
            if (o != T_EQ && o != T_NEQ && o != T_EQREGEX && o != T_NEQREGEX) {
                expected(p, "=, !=, =~, !~");
                return NULL;
            }
            consume(p);
            st->with_op = tok_op(o);
            if (o == T_EQREGEX || o == T_NEQREGEX) st->with_value = parse_regex(p);
            else st->with_value = parse_ident(p);
            if (!st->with_value) return NULL;
        }
        if (!opt_where(p, &st->cond) || !opt_limit_offset(p, &st->limit, &st->offset)) return NULL;
        return st;
    case K_TAG:
        consume(p);
        if (accept(p, K_KEYS)) {
            if (!(st = new_stmt(p, IQ_STMT_SHOW_TAG_KEYS, pos))) return NULL;
            if (!opt_on(p, &st->db) || !opt_from(p, st) || !opt_where(p, &st->cond) ||
                !opt_limit_offset(p, &st->limit, &st->offset))
                return NULL;
            return st;
        }
        if (!accept(p, K_VALUES)) {
            expected(p, "KEYS, VALUES");
            return NULL;
        }
        if (!(st = new_stmt(p, IQ_STMT_SHOW_TAG_VALUES, pos))) return NULL;
        if (!opt_on(p, &st->db) || !opt_from(p, st)) return NULL;
        if (!expect(p, K_WITH) || !expect(p, K_KEY)) return NULL;
        {
            int o = peek(p)->t;
            if (o != T_EQ && o != T_NEQ && o != T_EQREGEX && o != T_NEQREGEX && o != K_IN) {
                expected(p, "=, !=, =~, !~, IN");
                return NULL;
            }
            consume(p);
            st->key_op = o == K_IN ? IQ_OP_IN : tok_op(o);
            if (o == K_IN) {
                if (!expect(p, T_LPAREN)) return NULL;
                const char **keys = NULL;
                int n = 0, cap = 0;
                for (;;) {
                    if (n >= IQ_MAX_LIST) {
                        fail_at(p, peek(p)->pos, "too many keys (max %d)", IQ_MAX_LIST);
                        return NULL;
                    }
                    if (n == cap) {
                        int nc = cap ? cap * 2 : 8;
                        const char **nk = iq_arena_alloc(p->a, sizeof(char *) * (size_t)nc);
                        if (!nk) { oom(p); return NULL; }
                        if (n) memcpy(nk, keys, sizeof(char *) * (size_t)n);
                        keys = nk;
                        cap = nc;
                    }
                    if (!(keys[n++] = parse_ident(p))) return NULL;
                    if (accept(p, T_COMMA)) continue;
                    if (!expect(p, T_RPAREN)) return NULL;
                    break;
                }
                st->keys = keys;
                st->nkeys = n;
            } else {
                st->keys = iq_arena_alloc(p->a, sizeof(char *));
                if (!st->keys) { oom(p); return NULL; }
                st->nkeys = 1;
                st->keys[0] = (o == T_EQREGEX || o == T_NEQREGEX) ? parse_regex(p) : parse_ident(p);
                if (!st->keys[0]) return NULL;
            }
        }
        if (!opt_where(p, &st->cond) || !opt_limit_offset(p, &st->limit, &st->offset)) return NULL;
        return st;
    case K_FIELD:
        consume(p);
        if (!accept(p, K_KEYS)) {
            expected(p, "KEY, KEYS");
            return NULL;
        }
        if (!(st = new_stmt(p, IQ_STMT_SHOW_FIELD_KEYS, pos))) return NULL;
        if (!opt_on(p, &st->db) || !opt_from(p, st) || !opt_limit_offset(p, &st->limit, &st->offset)) return NULL;
        return st;
    case K_SERIES:
        consume(p);
        if (!(st = new_stmt(p, IQ_STMT_SHOW_SERIES, pos))) return NULL;
        if (!opt_on(p, &st->db) || !opt_from(p, st) || !opt_where(p, &st->cond) ||
            !opt_limit_offset(p, &st->limit, &st->offset))
            return NULL;
        return st;
    case K_RETENTION:
        consume(p);
        if (!expect(p, K_POLICIES)) return NULL;
        if (!(st = new_stmt(p, IQ_STMT_SHOW_RETENTION_POLICIES, pos))) return NULL;
        if (!opt_on(p, &st->db)) return NULL;
        return st;
    case K_CONTINUOUS:
        consume(p);
        if (!expect(p, K_QUERIES)) return NULL;
        return new_stmt(p, IQ_STMT_SHOW_CONTINUOUS_QUERIES, pos);
    case K_DIAGNOSTICS: case K_GRANTS: case K_MEASUREMENT: case K_QUERIES: case K_SHARD:
    case K_SHARDS: case K_STATS: case K_SUBSCRIPTIONS: case K_USERS:
        fail_at(p, t->pos, "SHOW %s is not supported", iq_keyword_name(k));
        return NULL;
    default:
        expected(p, "CONTINUOUS, DATABASES, DIAGNOSTICS, FIELD, GRANTS, MEASUREMENT, MEASUREMENTS, QUERIES, "
                    "RETENTION, SERIES, SHARD, SHARDS, STATS, SUBSCRIPTIONS, TAG, USERS");
        return NULL;
    }
}

/* RP options after CREATE DATABASE ... WITH, CREATE RP (required DURATION/REPLICATION) and ALTER RP */
static bool parse_rp_options(parser *p, iq_stmt *st, int mode /* 0 db WITH, 1 create, 2 alter */) {
    bool any = false;
    if (mode == 1 && !(peek(p)->t == K_DURATION)) { expected(p, "DURATION"); return false; }
    for (;;) {
        int t = peek(p)->t;
        if (t == K_DURATION && !st->has_duration) {
            consume(p);
            if (!parse_duration(p, &st->duration, true)) return false;
            st->has_duration = any = true;
            if (mode == 1 && peek(p)->t != K_REPLICATION) { expected(p, "REPLICATION"); return false; }
        } else if (t == K_REPLICATION && !st->has_replication) {
            consume(p);
            int64_t r;
            if (!parse_int(p, &r, 1, 2147483647)) return false;
            st->replication = (int)r;
            st->has_replication = any = true;
        } else if (t == K_SHARD && !st->has_shard_duration) {
            consume(p);
            if (!expect(p, K_DURATION)) return false;
            if (!parse_duration(p, &st->shard_duration, true)) return false;
            st->has_shard_duration = any = true;
        } else if (mode == 0 && t == K_NAME && !st->rp_name) {
            consume(p);
            if (!(st->rp_name = parse_ident(p))) return false;
            any = true;
        } else if (mode != 0 && t == K_DEFAULT && !st->is_default) {
            consume(p);
            st->is_default = any = true;
        } else {
            break;
        }
    }
    if (!any) {
        expected(p, mode == 0 ? "DURATION, NAME, REPLICATION, SHARD" : "DURATION, REPLICATION, SHARD, DEFAULT");
        return false;
    }
    return true;
}

static bool check_plain_sources(parser *p, const iq_stmt *st) {
    for (int i = 0; i < st->nsources; i++) {
        if (st->sources[i].db) { fail_at(p, st->pos, "database not supported"); return false; }
        if (st->sources[i].rp) { fail_at(p, st->pos, "retention policy not supported"); return false; }
    }
    return true;
}

static iq_stmt *parse_delete_like(parser *p, iq_stmt_kind k, size_t pos) {
    iq_stmt *st = new_stmt(p, k, pos);
    if (!st) return NULL;
    int t = peek(p)->t;
    if (t != K_FROM && t != K_WHERE) {
        expected(p, "FROM, WHERE");
        return NULL;
    }
    if (!opt_from(p, st) || !check_plain_sources(p, st) || !opt_where(p, &st->cond)) return NULL;
    return st;
}

static iq_stmt *parse_create_cq(parser *p, size_t pos) {
    iq_stmt *st = new_stmt(p, IQ_STMT_CREATE_CONTINUOUS_QUERY, pos);
    if (!st || !(st->name = parse_ident(p))) return NULL;
    if (!expect(p, K_ON) || !(st->db = parse_ident(p))) return NULL;
    if (accept(p, K_RESAMPLE)) {
        bool any = false;
        if (accept(p, K_EVERY)) {
            if (!parse_duration(p, &st->resample_every, false)) return NULL;
            any = true;
        }
        if (accept(p, K_FOR)) {
            if (!parse_duration(p, &st->resample_for, false)) return NULL;
            any = true;
        }
        if (!any) { expected(p, "EVERY, FOR"); return NULL; }
    }
    if (!expect(p, K_BEGIN)) return NULL;
    if (!expect(p, K_SELECT)) return NULL;
    if (!(st->sel = parse_select_body(p))) return NULL;
    if (!expect(p, K_END)) return NULL;
    if (!st->sel->into) {
        fail_at(p, (size_t)-1, "continuous query has no INTO clause");
        return NULL;
    }
    if (st->sel->group_interval <= 0) {
        fail_at(p, (size_t)-1, "continuous query must have a GROUP BY time clause");
        return NULL;
    }
    if (st->resample_for) {
        int64_t min = st->resample_every > st->sel->group_interval ? st->resample_every : st->sel->group_interval;
        if (st->resample_for < min) {
            char a[32], b[32];
            fail_at(p, (size_t)-1, "FOR duration must be >= GROUP BY time duration: must be a minimum of %s, got %s",
                    iq_format_duration(min, a), iq_format_duration(st->resample_for, b));
            return NULL;
        }
    }
    return st;
}

static iq_stmt *parse_statement(parser *p) {
    iq_tok *t = peek(p);
    size_t pos = t->pos;
    int k = t->t;
    iq_stmt *st;
    if (bad_token(p, t)) return NULL;
    switch (k) {
    case K_SELECT: {
        consume(p);
        if (!(st = new_stmt(p, IQ_STMT_SELECT, pos))) return NULL;
        return (st->sel = parse_select_body(p)) ? st : NULL;
    }
    case K_DELETE:
        consume(p);
        return parse_delete_like(p, IQ_STMT_DELETE, pos);
    case K_SHOW:
        consume(p);
        return parse_show(p, pos);
    case K_CREATE:
        consume(p);
        switch (peek(p)->t) {
        case K_DATABASE:
            consume(p);
            if (!(st = new_stmt(p, IQ_STMT_CREATE_DATABASE, pos)) || !(st->name = parse_ident(p))) return NULL;
            if (accept(p, K_WITH) && !parse_rp_options(p, st, 0)) return NULL;
            return st;
        case K_RETENTION:
            consume(p);
            if (!expect(p, K_POLICY)) return NULL;
            if (!(st = new_stmt(p, IQ_STMT_CREATE_RETENTION_POLICY, pos)) || !(st->name = parse_ident(p))) return NULL;
            if (!expect(p, K_ON) || !(st->db = parse_ident(p))) return NULL;
            return parse_rp_options(p, st, 1) ? st : NULL;
        case K_CONTINUOUS:
            consume(p);
            if (!expect(p, K_QUERY)) return NULL;
            return parse_create_cq(p, pos);
        case K_USER: case K_SUBSCRIPTION:
            fail_at(p, peek(p)->pos, "CREATE %s is not supported", iq_keyword_name(peek(p)->t));
            return NULL;
        default:
            expected(p, "CONTINUOUS, DATABASE, USER, RETENTION, SUBSCRIPTION");
            return NULL;
        }
    case K_DROP:
        consume(p);
        switch (peek(p)->t) {
        case K_DATABASE:
            consume(p);
            if (!(st = new_stmt(p, IQ_STMT_DROP_DATABASE, pos)) || !(st->name = parse_ident(p))) return NULL;
            return st;
        case K_RETENTION:
            consume(p);
            if (!expect(p, K_POLICY)) return NULL;
            if (!(st = new_stmt(p, IQ_STMT_DROP_RETENTION_POLICY, pos)) || !(st->name = parse_ident(p))) return NULL;
            if (!expect(p, K_ON) || !(st->db = parse_ident(p))) return NULL;
            return st;
        case K_CONTINUOUS:
            consume(p);
            if (!expect(p, K_QUERY)) return NULL;
            if (!(st = new_stmt(p, IQ_STMT_DROP_CONTINUOUS_QUERY, pos)) || !(st->name = parse_ident(p))) return NULL;
            if (!expect(p, K_ON) || !(st->db = parse_ident(p))) return NULL;
            return st;
        case K_MEASUREMENT:
            consume(p);
            if (!(st = new_stmt(p, IQ_STMT_DROP_MEASUREMENT, pos)) || !(st->name = parse_ident(p))) return NULL;
            return st;
        case K_SERIES:
            consume(p);
            return parse_delete_like(p, IQ_STMT_DROP_SERIES, pos);
        case K_SHARD: case K_SUBSCRIPTION: case K_USER:
            fail_at(p, peek(p)->pos, "DROP %s is not supported", iq_keyword_name(peek(p)->t));
            return NULL;
        default:
            expected(p, "CONTINUOUS, DATABASE, MEASUREMENT, RETENTION, SERIES, SHARD, SUBSCRIPTION, USER");
            return NULL;
        }
    case K_ALTER:
        consume(p);
        if (!expect(p, K_RETENTION) || !expect(p, K_POLICY)) return NULL;
        if (!(st = new_stmt(p, IQ_STMT_ALTER_RETENTION_POLICY, pos)) || !(st->name = parse_ident(p))) return NULL;
        if (!expect(p, K_ON) || !(st->db = parse_ident(p))) return NULL;
        return parse_rp_options(p, st, 2) ? st : NULL;
    case K_EXPLAIN: case K_GRANT: case K_REVOKE: case K_SET: case K_KILL:
        fail_at(p, pos, "%s is not supported", iq_keyword_name(k));
        return NULL;
    default:
        expected(p, "SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL");
        return NULL;
    }
}

iq_query *iq_parse(const char *q, size_t len, iq_error *err) {
    iq_error dummy;
    if (!err) err = &dummy;
    memset(err, 0, sizeof *err);
    if (len > IQ_MAX_QUERY_LEN) {
        snprintf(err->msg, sizeof err->msg, "error parsing query: query too long (%zu bytes, max %u)", len,
                 (unsigned)IQ_MAX_QUERY_LEN);
        return NULL;
    }
    iq_arena *a = iq_arena_new();
    if (!a) {
        snprintf(err->msg, sizeof err->msg, "error parsing query: out of memory");
        return NULL;
    }
    iq_query *qq = iq_arena_alloc(a, sizeof *qq);
    iq_stmt **stmts = iq_arena_alloc(a, sizeof(iq_stmt *) * IQ_MAX_STATEMENTS);
    if (!qq || !stmts) {
        iq_arena_free(a);
        snprintf(err->msg, sizeof err->msg, "error parsing query: out of memory");
        return NULL;
    }
    qq->arena_ = a;
    qq->stmts = stmts;
    parser p = {.lx = {.s = q ? q : "", .len = q ? len : 0, .off = 0, .a = a}, .a = a, .err = err};
    for (;;) {
        iq_tok *t = peek(&p);
        if (t->t == T_SEMI) { consume(&p); continue; }
        if (t->t == T_EOF) break;
        if (qq->n >= IQ_MAX_STATEMENTS) {
            fail_at(&p, t->pos, "too many statements (max %d)", IQ_MAX_STATEMENTS);
            break;
        }
        iq_stmt *st = parse_statement(&p);
        if (!st) break;
        qq->stmts[qq->n++] = st;
        t = peek(&p);
        if (t->t != T_SEMI && t->t != T_EOF) {
            expected(&p, ";");
            break;
        }
    }
    if (p.failed) {
        iq_arena_free(a);
        return NULL;
    }
    return qq;
}

void iq_query_free(iq_query *q) {
    if (q) iq_arena_free(q->arena_);
}

/* ---- time strings ---- */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n, int *v) {
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 0;
}

int iq_parse_rfc3339(const char *s, int64_t *ns) {
    int Y, M, D, h = 0, mi = 0, se = 0;
    size_t n = strlen(s);
    if (n < 10 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' || digits(s + 8, 2, &D))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31) return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (D > mdays[M - 1] || (M == 2 && D == 29 && !leap)) return -1;
    const char *p = s + 10;
    int64_t frac = 0, off = 0;
    if (*p) {
        if (*p != 'T' && *p != ' ') return -1;
        p++;
        if (strlen(p) < 8 || digits(p, 2, &h) || p[2] != ':' || digits(p + 3, 2, &mi) || p[5] != ':' ||
            digits(p + 6, 2, &se))
            return -1;
        if (h > 23 || mi > 59 || se > 60) return -1;
        p += 8;
        if (*p == '.') {
            p++;
            int nd = 0;
            while (*p >= '0' && *p <= '9') {
                if (nd < 9) { frac = frac * 10 + (*p - '0'); nd++; }
                p++;
            }
            if (nd == 0) return -1;
            while (nd++ < 9) frac *= 10;
        }
        if (*p == 'Z' || *p == 'z') p++;
        else if (*p == '+' || *p == '-') {
            int oh, om;
            if (strlen(p) < 6 || digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
                return -1;
            off = (*p == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
            p += 6;
        } else if (*p) {
            return -1;
        }
        if (*p) return -1;
    }
    int64_t secs = days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + se - off;
    /* InfluxDB's range: 1677-09-21T00:12:43.145224194Z .. 2262-04-11T23:47:16.854775806Z */
    if (secs < -9223372036LL || secs > 9223372035LL) return -1;
    __int128 v = (__int128)secs * 1000000000 + frac;
    if (v < -9223372036854775806LL || v > 9223372036854775806LL) return -1;
    *ns = (int64_t)v;
    return 0;
}

bool iq_is_aggregate(const char *name) {
    static const char *const aggs[] = {"count", "sum", "mean", "median", "mode", "min", "max", "first", "last",
                                       "spread", "stddev", "percentile", "integral", "distinct", "top", "bottom",
                                       "sample", NULL};
    for (int i = 0; aggs[i]; i++)
        if (strcmp(name, aggs[i]) == 0) return true;
    return false;
}

/* ---- SELECT validation (InfluxDB's compile-time checks) ---- */
typedef struct vfn {
    const char *name;
    int min, max; /* max -1 = unbounded */
    int kind;     /* 0 aggregate/selector, 1 transformation, 2 other (now) */
} vfn;

static const vfn vfns[] = {
    {"count", 1, 1, 0},      {"sum", 1, 1, 0},         {"mean", 1, 1, 0},       {"median", 1, 1, 0},
    {"mode", 1, 1, 0},       {"min", 1, 1, 0},         {"max", 1, 1, 0},        {"first", 1, 1, 0},
    {"last", 1, 1, 0},       {"spread", 1, 1, 0},      {"stddev", 1, 1, 0},     {"distinct", 1, 1, 0},
    {"percentile", 2, 2, 0}, {"integral", 1, 2, 0},    {"top", 2, -1, 0},       {"bottom", 2, -1, 0},
    {"sample", 2, 2, 0},     {"difference", 1, 1, 1},  {"non_negative_difference", 1, 1, 1},
    {"derivative", 1, 2, 1}, {"non_negative_derivative", 1, 2, 1},              {"moving_average", 2, 2, 1},
    {"cumulative_sum", 1, 1, 1},                       {"elapsed", 1, 2, 1},    {"now", 0, 0, 2},
};

static const vfn *find_fn(const char *name) {
    for (size_t i = 0; i < sizeof vfns / sizeof vfns[0]; i++)
        if (strcmp(vfns[i].name, name) == 0) return &vfns[i];
    return NULL;
}

typedef struct vstate {
    char *msg;
    size_t cap;
    const iq_select *s;
    int nagg, nraw;
} vstate;

static int vfail(vstate *v, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->msg, v->cap, fmt, ap);
    va_end(ap);
    return -1;
}

static bool is_field_arg(const iq_expr *a) {
    return a->kind == IQ_VAR || a->kind == IQ_WILDCARD || a->kind == IQ_REGEX;
}

static int check_call(vstate *v, const iq_expr *c);

/* walk a field expression; counts aggregates and raw field references outside calls */
static int check_field_expr(vstate *v, const iq_expr *e) {
    switch (e->kind) {
    case IQ_CALL: return check_call(v, e);
    case IQ_VAR:
    case IQ_WILDCARD:
    case IQ_REGEX: v->nraw++; return 0;
    case IQ_BINARY: {
        int a0 = v->nagg, r0 = v->nraw;
        if (check_field_expr(v, e->lhs) || check_field_expr(v, e->rhs)) return -1;
        if (v->nagg > a0 && v->nraw > r0) return vfail(v, "binary expressions cannot mix aggregates and raw fields");
        return 0;
    }
    case IQ_PAREN:
    case IQ_NEG: return check_field_expr(v, e->lhs);
    default: return 0;
    }
}

static int check_call(vstate *v, const iq_expr *c) {
    const vfn *f = find_fn(c->name);
    if (!f) return vfail(v, "undefined function %s()", c->name);
    if (f->kind == 2) return 0;
    if (f->max < 0 && c->nargs < f->min)
        return vfail(v, "invalid number of arguments for %s, expected at least %d, got %d", c->name, f->min, c->nargs);
    if (f->max >= 0 && (c->nargs < f->min || c->nargs > f->max)) {
        if (f->min == f->max)
            return vfail(v, "invalid number of arguments for %s, expected %d, got %d", c->name, f->min, c->nargs);
        return vfail(v, "invalid number of arguments for %s, expected at least %d but no more than %d, got %d",
                     c->name, f->min, f->max, c->nargs);
    }
    v->nagg++;
    const iq_expr *a = c->args[0];
    if (f->kind == 0) {
        bool ok = is_field_arg(a) || (strcmp(c->name, "count") == 0 && a->kind == IQ_CALL &&
                                      strcmp(a->name, "distinct") == 0 && a->nargs == 1 && is_field_arg(a->args[0]));
        if (!ok) return vfail(v, "expected field argument in %s()", c->name);
        if (strcmp(c->name, "percentile") == 0 && c->args[1]->kind != IQ_INTEGER && c->args[1]->kind != IQ_NUMBER)
            return vfail(v, "expected float argument in percentile()");
        if ((strcmp(c->name, "top") == 0 || strcmp(c->name, "bottom") == 0 || strcmp(c->name, "sample") == 0) &&
            c->args[c->nargs - 1]->kind != IQ_INTEGER) {
            char *t = iq_print_expr(c->args[c->nargs - 1]);
            int r = vfail(v, "expected integer as last argument in %s(), found %s", c->name, t ? t : "?");
            free(t);
            return r;
        }
        if (strcmp(c->name, "integral") == 0 && c->nargs == 2 && c->args[1]->kind != IQ_DURATION)
            return vfail(v, "second argument to integral must be a duration");
        return 0;
    }
    /* transformations */
    if ((strcmp(c->name, "derivative") == 0 || strcmp(c->name, "non_negative_derivative") == 0 ||
         strcmp(c->name, "elapsed") == 0) &&
        c->nargs == 2 && c->args[1]->kind != IQ_DURATION)
        return vfail(v, "second argument to %s must be a duration", c->name);
    if (strcmp(c->name, "moving_average") == 0 && (c->args[1]->kind != IQ_INTEGER || c->args[1]->i < 2))
        return vfail(v, "moving_average window must be an integer greater than 1");
    if (a->kind == IQ_CALL) {
        const vfn *inner = find_fn(a->name);
        if (!inner || inner->kind != 0) {
            if (!inner) return vfail(v, "undefined function %s()", a->name);
            return vfail(v, "expected field argument in %s()", c->name);
        }
        if (v->s->group_interval <= 0) return vfail(v, "%s aggregate requires a GROUP BY interval", c->name);
        int n0 = v->nagg;
        int r = check_call(v, a);
        v->nagg = n0;
        return r;
    }
    if (!is_field_arg(a)) return vfail(v, "expected field argument in %s()", c->name);
    if (v->s->group_interval > 0) return vfail(v, "aggregate function required inside the call to %s", c->name);
    return 0;
}

static bool mentions_time(const iq_expr *e) {
    if (!e) return false;
    if (e->kind == IQ_VAR) return strcmp(e->name, "time") == 0;
    if (e->kind == IQ_BINARY) return mentions_time(e->lhs) || mentions_time(e->rhs);
    if (e->kind == IQ_PAREN || e->kind == IQ_NEG) return mentions_time(e->lhs);
    return false;
}

int iq_validate_select(const iq_select *s, char *msg, size_t cap) {
    vstate v = {.msg = msg, .cap = cap, .s = s};
    if (cap) msg[0] = 0;
    int fields_with_agg = 0, fields_raw = 0;
    for (int i = 0; i < s->nfields; i++) {
        int a0 = v.nagg, r0 = v.nraw;
        if (check_field_expr(&v, s->fields[i].expr)) return -1;
        const iq_expr *e = s->fields[i].expr;
        bool is_time = e->kind == IQ_VAR && strcmp(e->name, "time") == 0;
        if (v.nagg > a0) fields_with_agg++;
        else if (v.nraw > r0 && !is_time) fields_raw++;
    }
    if (fields_with_agg && fields_raw) return vfail(&v, "mixing aggregate and non-aggregate queries is not supported");
    if (s->group_interval > 0 && !fields_with_agg) return vfail(&v, "GROUP BY requires at least one aggregate function");
    if (s->group_interval > 0 && !mentions_time(s->cond))
        return vfail(&v, "aggregate functions with GROUP BY time require a WHERE time clause");
    return 0;
}
