/* Unit tests for tsdb/influxql: the queries Grafana's InfluxDB data source and the influx CLI send,
 * every statement form (checked through the AST and through canonical printing), print/parse round
 * trips, InfluxDB 1.x's exact error messages and positions, hostile-input limits, durations and
 * RFC3339 times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tsdb/influxql.h"

/* parse from an exact-size heap copy so ASan catches reads past the end */
static iq_query *parse(const char *s, iq_error *err) {
    size_t n = strlen(s);
    char *c = malloc(n ? n : 1);
    assert_non_null(c);
    memcpy(c, s, n);
    iq_query *q = iq_parse(c, n, err);
    free(c);
    return q;
}

/* parse s, check the canonical text, then check that the canonical text reparses to itself */
static void check_print(const char *s, const char *want) {
    iq_error err;
    iq_query *q = parse(s, &err);
    if (!q) fail_msg("parse failed for <%s>: %s", s, err.msg);
    char *got = iq_print_query(q);
    assert_non_null(got);
    if (strcmp(got, want) != 0) fail_msg("print of <%s>\n got  <%s>\n want <%s>", s, got, want);
    iq_query *q2 = parse(got, &err);
    if (!q2) fail_msg("reparse failed for <%s>: %s", got, err.msg);
    char *again = iq_print_query(q2);
    assert_string_equal(again, got);
    free(again);
    free(got);
    iq_query_free(q2);
    iq_query_free(q);
}

static void check_err(const char *s, const char *want) {
    iq_error err;
    iq_query *q = parse(s, &err);
    if (q) {
        char *t = iq_print_query(q);
        fail_msg("<%s> parsed (as <%s>), expected error <%s>", s, t, want);
    }
    if (strcmp(err.msg, want) != 0) fail_msg("error for <%s>\n got  <%s>\n want <%s>", s, err.msg, want);
}

static const iq_stmt *one(iq_query *q) {
    assert_non_null(q);
    assert_int_equal(q->n, 1);
    return q->stmts[0];
}

static void test_grafana_select(void **st) {
    (void)st;
    iq_error err;
    /* Grafana's default panel query after macro expansion ($timeFilter with epoch ms) */
    iq_query *q = parse("SELECT mean(\"value\") FROM \"cpu\" WHERE (\"host\" =~ /^server\\/1$/) AND time >= "
                        "1764000000000ms and time <= 1764003600000ms GROUP BY time(10s) fill(null)",
                        &err);
    const iq_stmt *s = one(q);
    assert_int_equal(s->kind, IQ_STMT_SELECT);
    const iq_select *sel = s->sel;
    assert_int_equal(sel->nfields, 1);
    assert_int_equal(sel->fields[0].expr->kind, IQ_CALL);
    assert_string_equal(sel->fields[0].expr->name, "mean");
    assert_int_equal(sel->fields[0].expr->nargs, 1);
    assert_int_equal(sel->fields[0].expr->args[0]->kind, IQ_VAR);
    assert_string_equal(sel->fields[0].expr->args[0]->name, "value");
    assert_int_equal(sel->nsources, 1);
    assert_string_equal(sel->sources[0].name, "cpu");
    assert_null(sel->sources[0].db);
    /* cond = ((host =~ re) AND time >= t1) AND time <= t2 */
    const iq_expr *c = sel->cond;
    assert_int_equal(c->kind, IQ_BINARY);
    assert_int_equal(c->op, IQ_OP_AND);
    assert_int_equal(c->rhs->op, IQ_OP_LTE);
    assert_int_equal(c->rhs->rhs->kind, IQ_DURATION);
    assert_true(c->rhs->rhs->i == 1764003600000LL * 1000000LL);
    const iq_expr *l = c->lhs;
    assert_int_equal(l->op, IQ_OP_AND);
    assert_int_equal(l->lhs->kind, IQ_PAREN);
    assert_int_equal(l->lhs->lhs->op, IQ_OP_EQREGEX);
    assert_string_equal(l->lhs->lhs->lhs->name, "host");
    assert_int_equal(l->lhs->lhs->rhs->kind, IQ_REGEX);
    assert_string_equal(l->lhs->lhs->rhs->str, "^server/1$");
    assert_int_equal(l->rhs->op, IQ_OP_GTE);
    assert_string_equal(l->rhs->lhs->name, "time");
    assert_true(l->rhs->rhs->i == 1764000000000LL * 1000000LL);
    assert_true(sel->group_interval == 10LL * 1000000000LL);
    assert_int_equal(sel->ndims, 1);
    assert_true(sel->fill_set);
    assert_int_equal(sel->fill, IQ_FILL_NULL);
    iq_query_free(q);

    /* relative range, tags, offset, fill(none), ORDER BY DESC, limits, tz */
    q = parse("select max(\"temperature\") AS \"t\", last(humidity) from sensors where time > now() - 6h and "
              "\"dev_eui\" = '0004A30B001C0530' group by time(1m, 15s), \"device_id\" fill(none) "
              "order by time desc limit 100 slimit 5 tz('Europe/Berlin')",
              &err);
    s = one(q);
    sel = s->sel;
    assert_int_equal(sel->nfields, 2);
    assert_string_equal(sel->fields[0].alias, "t");
    assert_null(sel->fields[1].alias);
    assert_true(sel->group_interval == 60000000000LL);
    assert_true(sel->group_offset == 15000000000LL);
    assert_int_equal(sel->ndims, 2);
    assert_int_equal(sel->dims[1]->kind, IQ_VAR);
    assert_string_equal(sel->dims[1]->name, "device_id");
    assert_int_equal(sel->fill, IQ_FILL_NONE);
    assert_true(sel->order_set && sel->order_desc);
    assert_true(sel->limit == 100 && sel->slimit == 5 && sel->offset == 0);
    assert_string_equal(sel->tz, "Europe/Berlin");
    const iq_expr *t = sel->cond->lhs;
    assert_int_equal(t->op, IQ_OP_GT);
    assert_int_equal(t->rhs->op, IQ_OP_SUB);
    assert_int_equal(t->rhs->lhs->kind, IQ_CALL);
    assert_string_equal(t->rhs->lhs->name, "now");
    assert_true(t->rhs->rhs->i == 6LL * 3600 * 1000000000LL);
    iq_query_free(q);

    check_print("SELECT mean(\"value\") FROM \"cpu\" WHERE (\"host\" =~ /^$host$/) AND time >= 1764000000000ms and "
                "time <= 1764003600000ms GROUP BY time(1m) fill(null)",
                "SELECT mean(value) FROM cpu WHERE (host =~ /^$host$/) AND time >= 490000h AND time <= 490001h "
                "GROUP BY time(1m) fill(null)");
    /* Grafana's visual query builder: ::tag casts in WHERE and GROUP BY, rp-qualified measurement */
    q = parse("SELECT mean(\"value\") FROM \"autogen\".\"cpu\" WHERE (\"host\"::tag =~ /^(a|b)$/) AND time >= "
              "1764000000000ms and time <= 1764003600000ms GROUP BY time(1m), \"host\"::tag fill(null) "
              "ORDER BY time DESC;SELECT last(\"v\") FROM \"m\" WHERE time >= now() - 6h",
              &err);
    assert_non_null(q);
    assert_int_equal(q->n, 2);
    sel = q->stmts[0]->sel;
    assert_string_equal(sel->sources[0].rp, "autogen");
    assert_int_equal(sel->dims[1]->vtype, IQ_VT_TAG);
    assert_int_equal(sel->cond->lhs->lhs->lhs->lhs->vtype, IQ_VT_TAG);
    assert_true(sel->order_desc);
    char msg[128];
    assert_int_equal(iq_validate_select(sel, msg, sizeof msg), 0);
    iq_query_free(q);
    check_print("SELECT mean(\"value\") FROM \"autogen\".\"cpu\" WHERE (\"host\"::tag =~ /^(a|b)$/) AND $timeFilter "
                "GROUP BY time(1m), \"host\"::tag fill(null)",
                "SELECT mean(value) FROM autogen.cpu WHERE (host::tag =~ /^(a|b)$/) AND $timeFilter "
                "GROUP BY time(1m), host::tag fill(null)");
    check_print("SELECT \"usage_idle\" FROM \"autogen\".\"cpu\" WHERE time >= now() - 5m",
                "SELECT usage_idle FROM autogen.cpu WHERE time >= now() - 5m");
    check_print("SELECT non_negative_derivative(mean(\"bytes_recv\"), 1s) *8 FROM \"net\" WHERE time >= "
                "1764000000000ms and time <= 1764003600000ms GROUP BY time(2s), \"interface\" fill(previous)",
                "SELECT non_negative_derivative(mean(bytes_recv), 1s) * 8 FROM net WHERE time >= 490000h AND "
                "time <= 490001h GROUP BY time(2s), interface fill(previous)");
}

static void test_grafana_meta(void **st) {
    (void)st;
    iq_error err;
    iq_query *q = parse("SHOW MEASUREMENTS LIMIT 100", &err);
    const iq_stmt *s = one(q);
    assert_int_equal(s->kind, IQ_STMT_SHOW_MEASUREMENTS);
    assert_true(s->limit == 100);
    iq_query_free(q);

    q = parse("SHOW TAG KEYS FROM \"m\"", &err);
    s = one(q);
    assert_int_equal(s->kind, IQ_STMT_SHOW_TAG_KEYS);
    assert_int_equal(s->nsources, 1);
    assert_string_equal(s->sources[0].name, "m");
    iq_query_free(q);

    q = parse("SHOW FIELD KEYS FROM \"m\"", &err);
    s = one(q);
    assert_int_equal(s->kind, IQ_STMT_SHOW_FIELD_KEYS);
    assert_string_equal(s->sources[0].name, "m");
    iq_query_free(q);

    q = parse("SHOW TAG VALUES FROM \"m\" WITH KEY = \"host\"", &err);
    s = one(q);
    assert_int_equal(s->kind, IQ_STMT_SHOW_TAG_VALUES);
    assert_int_equal(s->key_op, IQ_OP_EQ);
    assert_int_equal(s->nkeys, 1);
    assert_string_equal(s->keys[0], "host");
    iq_query_free(q);

    q = parse("SHOW MEASUREMENTS WITH MEASUREMENT =~ /cp.*/ LIMIT 100", &err);
    s = one(q);
    assert_int_equal(s->with_op, IQ_OP_EQREGEX);
    assert_string_equal(s->with_value, "cp.*");
    iq_query_free(q);

    q = parse("SHOW TAG VALUES ON telegraf FROM cpu WITH KEY IN (\"host\", \"cpu\") WHERE \"host\" =~ /a/", &err);
    s = one(q);
    assert_string_equal(s->db, "telegraf");
    assert_int_equal(s->key_op, IQ_OP_IN);
    assert_int_equal(s->nkeys, 2);
    assert_string_equal(s->keys[1], "cpu");
    assert_non_null(s->cond);
    iq_query_free(q);

    /* what Grafana's query editor and the influx CLI send */
    check_print("SHOW MEASUREMENTS LIMIT 100", "SHOW MEASUREMENTS LIMIT 100");
    check_print("SHOW TAG KEYS FROM \"m\"", "SHOW TAG KEYS FROM m");
    check_print("SHOW FIELD KEYS FROM \"m\"", "SHOW FIELD KEYS FROM m");
    check_print("SHOW TAG VALUES FROM \"m\" WITH KEY = \"host\"", "SHOW TAG VALUES FROM m WITH KEY = host");
    check_print("SHOW RETENTION POLICIES on \"telegraf\"", "SHOW RETENTION POLICIES ON telegraf");
    check_print("show databases", "SHOW DATABASES");
    check_print("SHOW TAG VALUES FROM \"cpu\" WITH KEY = \"host\" WHERE \"cpu\" = 'cpu-total'",
                "SHOW TAG VALUES FROM cpu WITH KEY = host WHERE cpu = 'cpu-total'");
    /* client libraries: python3-influxdb, npm influx, the influx CLI */
    check_print("CREATE DATABASE \"example\"", "CREATE DATABASE example");
    check_print("DROP DATABASE \"example\"", "DROP DATABASE example");
    check_print("CREATE RETENTION POLICY \"awesome_policy\" ON \"db\" DURATION 3d REPLICATION 3 SHARD DURATION 0s DEFAULT",
                "CREATE RETENTION POLICY awesome_policy ON db DURATION 3d REPLICATION 3 SHARD DURATION 0s DEFAULT");
    check_print("create retention policy \"7d\" on \"express_response_db\" duration 7d replication 1 default",
                "CREATE RETENTION POLICY \"7d\" ON express_response_db DURATION 1w REPLICATION 1 DEFAULT");
    check_print("DROP RETENTION POLICY \"awesome_policy\" ON \"db\"", "DROP RETENTION POLICY awesome_policy ON db");
    check_print("select * from \"cpu_load_short\" where \"host\" = 'server01' limit 10",
                "SELECT * FROM cpu_load_short WHERE host = 'server01' LIMIT 10");
    check_print("SHOW SERIES FROM \"cpu\"; SHOW MEASUREMENTS", "SHOW SERIES FROM cpu; SHOW MEASUREMENTS");
    check_print("show field keys; show tag keys", "SHOW FIELD KEYS; SHOW TAG KEYS");
    check_print("DELETE FROM \"cpu\" WHERE \"region\" = 'uswest'", "DELETE FROM cpu WHERE region = 'uswest'");
}

static void test_statements(void **st) {
    (void)st;
    static const char *const cases[][2] = {
        {"SELECT * FROM m", "SELECT * FROM m"},
        {"select a,b as \"B c\" ,* from \"db\".\"rp\".\"m\", rp.m2, db..m3, /^cpu\\/x/ , db.rp./re/",
         "SELECT a, b AS \"B c\", * FROM db.rp.m, rp.m2, db..m3, /^cpu\\/x/, db.rp./re/"},
        {"SELECT (a + b) * -c / 2 % 3 - -4 + -1.5 FROM m", "SELECT (a + b) * -c / 2 % 3 - -4 + -1.5 FROM m"},
        {"SELECT a+b*c, (a+b)*c, a-(b-c), a - b - c FROM m",
         "SELECT a + b * c, (a + b) * c, a - (b - c), a - b - c FROM m"},
        {"SELECT count(v), sum(v), mean(v), median(v), min(v), max(v), first(v), last(v), spread(v), stddev(v) FROM m",
         "SELECT count(v), sum(v), mean(v), median(v), min(v), max(v), first(v), last(v), spread(v), stddev(v) FROM m"},
        {"SELECT PERCENTILE(v, 95), integral(v), integral(v, 1m), difference(v), derivative(v), derivative(v, 1s), "
         "non_negative_derivative(v, 1h30m), moving_average(v, 5) FROM m",
         "SELECT percentile(v, 95), integral(v), integral(v, 1m), difference(v), derivative(v), derivative(v, 1s), "
         "non_negative_derivative(v, 90m), moving_average(v, 5) FROM m"},
        {"SELECT derivative(mean(x), 1m) FROM m WHERE time > now() - 1d GROUP BY time(10m)",
         "SELECT derivative(mean(x), 1m) FROM m WHERE time > now() - 1d GROUP BY time(10m)"},
        {"SELECT count(distinct host), DISTINCT(v) FROM m", "SELECT count(distinct(host)), distinct(v) FROM m"},
        {"SELECT v::field, host::tag, *::field FROM m", "SELECT v::field, host::tag, *::field FROM m"},
        {"SELECT v FROM m WHERE time >= '2026-11-25T00:00:00Z' AND time < '2026-11-26 00:00:00'",
         "SELECT v FROM m WHERE time >= '2026-11-25T00:00:00Z' AND time < '2026-11-26 00:00:00'"},
        {"SELECT v FROM m WHERE a = 'x' AND b != 'y' AND c <> 'z' AND d =~ /r/ AND e !~ /s/ OR (f > 1.5 AND g <= -2)",
         "SELECT v FROM m WHERE a = 'x' AND b != 'y' AND c != 'z' AND d =~ /r/ AND e !~ /s/ OR (f > 1.5 AND g <= -2)"},
        {"SELECT v FROM m WHERE s = 'it\\'s \\\\ \"q\"' AND \"we\\\"ird\" = true AND x = FALSE",
         "SELECT v FROM m WHERE s = 'it\\'s \\\\ \"q\"' AND \"we\\\"ird\" = true AND x = false"},
        {"SELECT mean(v) FROM m WHERE time > now() - 1h GROUP BY time(5m, -1m), host, \"region\" fill(linear)",
         "SELECT mean(v) FROM m WHERE time > now() - 1h GROUP BY time(5m, -1m), host, region fill(linear)"},
        {"SELECT mean(v) FROM m GROUP BY * fill(0)", "SELECT mean(v) FROM m GROUP BY * fill(0)"},
        {"SELECT mean(v) FROM m GROUP BY time(1h, now()), /^h/ fill(-2.5)",
         "SELECT mean(v) FROM m GROUP BY time(1h, now()), /^h/ fill(-2.5)"},
        {"SELECT v FROM m ORDER BY time ASC LIMIT 10 OFFSET 20 SLIMIT 1 SOFFSET 2 tz('UTC')",
         "SELECT v FROM m ORDER BY time ASC LIMIT 10 OFFSET 20 SLIMIT 1 SOFFSET 2 tz('UTC')"},
        {"SELECT v FROM m ORDER BY DESC", "SELECT v FROM m ORDER BY time DESC"},
        {"SELECT mean(v) INTO \"a year\".\"m_1h\" FROM m GROUP BY time(1h)",
         "SELECT mean(v) INTO \"a year\".m_1h FROM m GROUP BY time(1h)"},
        {"SELECT v FROM m WHERE host = $host AND x =~ $re", "SELECT v FROM m WHERE host = $host AND x =~ $re"},
        {"SELECT \"select\", \"from\", \"1a\", \"\" FROM \"my measurement\"",
         "SELECT \"select\", \"from\", \"1a\", \"\" FROM \"my measurement\""},
        {"SELECT 1.0, 0.1, 3.25e-20, .5, 1e300, 7 FROM m", "SELECT 1.0, 0.1, 3.25e-20, 0.5, 1e+300, 7 FROM m"},
        {"SELECT v FROM m WHERE time > 10ns - 1u + 1\xc2\xb5 + 2ms + 3s + 4m + 5h + 6d + 7w",
         "SELECT v FROM m WHERE time > 10ns - 1u + 1u + 2ms + 3s + 4m + 5h + 6d + 7w"},
        {"-- a comment\nSELECT /* inline */ v FROM m -- trailing", "SELECT v FROM m"},
        {"SELECT a FROM b; SELECT c FROM d;", "SELECT a FROM b; SELECT c FROM d"},
        {"SHOW DATABASES", "SHOW DATABASES"},
        {"SHOW MEASUREMENTS ON db WITH MEASUREMENT = cpu WHERE host = 'a' LIMIT 5 OFFSET 1",
         "SHOW MEASUREMENTS ON db WITH MEASUREMENT = cpu WHERE host = 'a' LIMIT 5 OFFSET 1"},
        {"SHOW MEASUREMENTS WITH MEASUREMENT !~ /x/", "SHOW MEASUREMENTS WITH MEASUREMENT !~ /x/"},
        {"SHOW TAG KEYS ON db FROM cpu WHERE a = 'b' LIMIT 3 OFFSET 4",
         "SHOW TAG KEYS ON db FROM cpu WHERE a = 'b' LIMIT 3 OFFSET 4"},
        {"SHOW TAG VALUES WITH KEY =~ /h.*/ LIMIT 2", "SHOW TAG VALUES WITH KEY =~ /h.*/ LIMIT 2"},
        {"SHOW TAG VALUES FROM cpu WITH KEY != host", "SHOW TAG VALUES FROM cpu WITH KEY != host"},
        {"SHOW FIELD KEYS ON db FROM /c.*/", "SHOW FIELD KEYS ON db FROM /c.*/"},
        {"SHOW SERIES", "SHOW SERIES"},
        {"SHOW SERIES ON db FROM cpu WHERE host = 'x' LIMIT 1 OFFSET 2",
         "SHOW SERIES ON db FROM cpu WHERE host = 'x' LIMIT 1 OFFSET 2"},
        {"SHOW RETENTION POLICIES", "SHOW RETENTION POLICIES"},
        {"SHOW CONTINUOUS QUERIES", "SHOW CONTINUOUS QUERIES"},
        {"CREATE DATABASE \"my-db\"", "CREATE DATABASE \"my-db\""},
        {"CREATE DATABASE db WITH DURATION 7d REPLICATION 1 SHARD DURATION 1d NAME raw",
         "CREATE DATABASE db WITH DURATION 1w REPLICATION 1 SHARD DURATION 1d NAME raw"},
        {"CREATE DATABASE db WITH NAME raw", "CREATE DATABASE db WITH NAME raw"},
        {"DROP DATABASE db", "DROP DATABASE db"},
        {"CREATE RETENTION POLICY \"one year\" ON db DURATION 52w REPLICATION 1 SHARD DURATION 1w DEFAULT",
         "CREATE RETENTION POLICY \"one year\" ON db DURATION 52w REPLICATION 1 SHARD DURATION 1w DEFAULT"},
        {"create retention policy r on db duration inf replication 1",
         "CREATE RETENTION POLICY r ON db DURATION INF REPLICATION 1"},
        {"ALTER RETENTION POLICY r ON db DURATION 2d REPLICATION 2 SHARD DURATION 1h DEFAULT",
         "ALTER RETENTION POLICY r ON db DURATION 2d REPLICATION 2 SHARD DURATION 1h DEFAULT"},
        {"ALTER RETENTION POLICY r ON db DEFAULT", "ALTER RETENTION POLICY r ON db DEFAULT"},
        {"DROP RETENTION POLICY r ON db", "DROP RETENTION POLICY r ON db"},
        {"CREATE CONTINUOUS QUERY cq1 ON db BEGIN SELECT mean(t) INTO m_1h FROM m GROUP BY time(1h) END",
         "CREATE CONTINUOUS QUERY cq1 ON db BEGIN SELECT mean(t) INTO m_1h FROM m GROUP BY time(1h) END"},
        {"CREATE CONTINUOUS QUERY \"cq 2\" ON db RESAMPLE EVERY 1m FOR 1h BEGIN SELECT mean(t) AS t INTO "
         "\"year\".down FROM raw.sensors GROUP BY time(10m), * END",
         "CREATE CONTINUOUS QUERY \"cq 2\" ON db RESAMPLE EVERY 1m FOR 1h BEGIN SELECT mean(t) AS t INTO "
         "year.down FROM raw.sensors GROUP BY time(10m), * END"},
        {"CREATE CONTINUOUS QUERY c ON db RESAMPLE FOR 2h BEGIN SELECT max(t) INTO x FROM m GROUP BY time(1h) END",
         "CREATE CONTINUOUS QUERY c ON db RESAMPLE FOR 2h BEGIN SELECT max(t) INTO x FROM m GROUP BY time(1h) END"},
        {"DROP CONTINUOUS QUERY cq1 ON db", "DROP CONTINUOUS QUERY cq1 ON db"},
        {"DELETE FROM cpu WHERE time < '2026-11-25T00:00:00Z'", "DELETE FROM cpu WHERE time < '2026-11-25T00:00:00Z'"},
        {"DELETE FROM /c.*/", "DELETE FROM /c.*/"},
        {"DELETE WHERE time < now()", "DELETE WHERE time < now()"},
        {"DROP SERIES FROM cpu WHERE host = 'a'", "DROP SERIES FROM cpu WHERE host = 'a'"},
        {"DROP SERIES WHERE host = 'a'", "DROP SERIES WHERE host = 'a'"},
        {"DROP MEASUREMENT \"select\"", "DROP MEASUREMENT \"select\""},
        {"", ""},
        {" ;; ", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_print(cases[i][0], cases[i][1]);
}

static void test_stmt_ast(void **st) {
    (void)st;
    iq_error err;
    iq_query *q = parse("CREATE RETENTION POLICY rp ON db DURATION 1h30m REPLICATION 3 SHARD DURATION 30m DEFAULT; "
                        "CREATE DATABASE d WITH DURATION INF; DROP MEASUREMENT m; "
                        "CREATE CONTINUOUS QUERY c ON db RESAMPLE EVERY 2m BEGIN SELECT mean(v) INTO r.m FROM m "
                        "GROUP BY time(1m) END; SELECT v FROM db.rp.m, /x/",
                        &err);
    assert_non_null(q);
    assert_int_equal(q->n, 5);
    const iq_stmt *s = q->stmts[0];
    assert_int_equal(s->kind, IQ_STMT_CREATE_RETENTION_POLICY);
    assert_string_equal(s->name, "rp");
    assert_string_equal(s->db, "db");
    assert_true(s->duration == 5400LL * 1000000000LL);
    assert_int_equal(s->replication, 3);
    assert_true(s->shard_duration == 1800LL * 1000000000LL);
    assert_true(s->is_default);
    s = q->stmts[1];
    assert_int_equal(s->kind, IQ_STMT_CREATE_DATABASE);
    assert_true(s->has_duration && s->duration == 0 && !s->has_replication);
    s = q->stmts[2];
    assert_int_equal(s->kind, IQ_STMT_DROP_MEASUREMENT);
    assert_string_equal(s->name, "m");
    s = q->stmts[3];
    assert_int_equal(s->kind, IQ_STMT_CREATE_CONTINUOUS_QUERY);
    assert_true(s->resample_every == 120LL * 1000000000LL && s->resample_for == 0);
    assert_string_equal(s->sel->into->rp, "r");
    assert_string_equal(s->sel->into->name, "m");
    assert_true(s->sel->group_interval == 60LL * 1000000000LL);
    s = q->stmts[4];
    assert_string_equal(s->sel->sources[0].db, "db");
    assert_string_equal(s->sel->sources[0].rp, "rp");
    assert_string_equal(s->sel->sources[0].name, "m");
    assert_null(s->sel->sources[1].name);
    assert_string_equal(s->sel->sources[1].regex, "x");
    iq_query_free(q);

    /* unary minus on a non-literal, literal folding, parameters */
    q = parse("SELECT -a, -5, -(b), 2 - -1s FROM m WHERE x = $p", &err);
    s = one(q);
    assert_int_equal(s->sel->fields[0].expr->kind, IQ_NEG);
    assert_int_equal(s->sel->fields[1].expr->kind, IQ_INTEGER);
    assert_true(s->sel->fields[1].expr->i == -5);
    assert_int_equal(s->sel->fields[2].expr->kind, IQ_NEG);
    assert_true(s->sel->fields[3].expr->rhs->i == -1000000000LL);
    assert_int_equal(s->sel->cond->rhs->kind, IQ_PARAM);
    assert_string_equal(s->sel->cond->rhs->name, "p");
    char *e = iq_print_expr(s->sel->fields[3].expr);
    assert_string_equal(e, "2 - -1s");
    free(e);
    iq_query_free(q);
}

static void test_errors(void **st) {
    (void)st;
    static const char *const cases[][2] = {
        /* statement level */
        {"selec * from m", "found selec, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL at line 1, char 1"},
        {"blah blah", "found blah, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL at line 1, char 1"},
        {"CREATE DATABASE foo CREATE DATABASE bar", "found CREATE, expected ; at line 1, char 21"},
        {"select * from m garbage", "found garbage, expected ; at line 1, char 17"},
        /* SELECT */
        {"SELECT", "found EOF, expected identifier, string, number, bool at line 1, char 8"},
        {"select *", "found EOF, expected FROM at line 1, char 9"},
        {"select * from", "found EOF, expected identifier at line 1, char 15"},
        {"SELECT * FORM m", "found FORM, expected FROM at line 1, char 10"},
        {"SELECT field1 X", "found X, expected FROM at line 1, char 15"},
        {"SELECT field1 FROM \"series\" WHERE X +;", "found ;, expected identifier, string, number, bool at line 1, char 38"},
        {"SELECT field1 FROM myseries GROUP", "found EOF, expected BY at line 1, char 35"},
        {"SELECT field1 FROM 12", "found 12, expected identifier at line 1, char 20"},
        {"SELECT 10.5h FROM myseries", "found h, expected FROM at line 1, char 12"},
        {"SELECT field1 AS", "found EOF, expected identifier at line 1, char 18"},
        {"SELECT usage, host FROM cpu WHERE host =~ 'a'", "found a, expected regex at line 1, char 42"},
        {"SELECT field1 from myseries WHERE host =~ 'asd' LIMIT 1", "found asd, expected regex at line 1, char 42"},
        {"select * from m order by time asc desc", "found DESC, expected ; at line 1, char 35"},
        {"SELECT field1 FROM myseries ORDER", "found EOF, expected BY at line 1, char 35"},
        {"SELECT field1 FROM myseries ORDER BY", "found EOF, expected identifier, ASC, DESC at line 1, char 38"},
        {"SELECT field1 FROM myseries ORDER BY 1", "found 1, expected identifier, ASC, DESC at line 1, char 38"},
        {"SELECT field1 FROM myseries ORDER BY time ASC,", "found EOF, expected identifier at line 1, char 47"},
        {"SELECT field1 FROM myseries ORDER BY time, field1", "only ORDER BY time supported at this time"},
        {"SELECT field1 FROM myseries LIMIT 10.5", "found 10.5, expected integer at line 1, char 35"},
        {"SELECT field1 FROM myseries OFFSET", "found EOF, expected integer at line 1, char 36"},
        {"SELECT field1 FROM myseries OFFSET 10.5", "found 10.5, expected integer at line 1, char 36"},
        {"SELECT value > 2 FROM cpu", "invalid operator > in SELECT clause at line 1, char 8; operator is intended for WHERE clause"},
        {"SELECT s =~ /foo/ FROM cpu", "invalid operator =~ in SELECT clause at line 1, char 8; operator is intended for WHERE clause"},
        {"SELECT time FROM myseries", "at least 1 non-time field must be queried"},
        {"SELECT count(value) FROM foo group by time", "time() is a function and expects at least one argument"},
        {"SELECT count(value) FROM foo group by 'time'", "only time and tag dimensions allowed"},
        {"SELECT count(value) FROM foo group by time()", "time dimension expected 1 or 2 arguments"},
        {"SELECT count(value) FROM foo group by time(b)", "time dimension must have duration argument"},
        {"SELECT count(value) FROM foo group by time(1s), time(2s)", "multiple time dimensions not allowed"},
        {"SELECT count(value) FROM foo group by time(1s, b)", "time dimension offset must be duration or now()"},
        {"SELECT mean(value) FROM cpu FILL + value", "fill must be a function call"},
        {"SELECT mean(value) FROM cpu GROUP BY time(1m) fill(sideways)", "fill requires an argument, e.g.: 0, null, none, previous, linear"},
        {"SELECT count(distinct) FROM myseries", "found ), expected (, identifier at line 1, char 22"},
        {"SELECT 1000000000000000000000 FROM myseries", "unable to parse integer at line 1, char 8"},
        {"SELECT v FROM m WHERE time > now() - 5mo", "invalid duration"},
        {"SELECT v FROM m WHERE time > now() - 99999999999999999h", "overflowed duration"},
        {"SELECT v FROM m WHERE s = 'open", "unterminated string at line 1, char 27"},
        {"SELECT v FROM m WHERE s = 'a\\qb'", "bad escape at line 1, char 27"},
        {"SELECT v FROM m WHERE s =~ /open", "unterminated regex at line 1, char 28"},
        {"SELECT a @ b FROM m", "found @, expected FROM at line 1, char 10"},
        {"SELECT max(v FROM m", "found FROM, expected ,, ) at line 1, char 14"},
        {"SELECT v FROM (SELECT v FROM m)", "subqueries are not supported at line 1, char 15"},
        {"SELECT v FROM\n  m WHERE\n x >", "found EOF, expected identifier, string, number, bool at line 3, char 5"},
        /* DELETE / DROP */
        {"DELETE", "found EOF, expected FROM, WHERE at line 1, char 8"},
        {"DELETE FROM", "found EOF, expected identifier at line 1, char 13"},
        {"DELETE FROM myseries WHERE", "found EOF, expected identifier, string, number, bool at line 1, char 28"},
        {"DELETE FROM \"foo\".myseries", "retention policy not supported at line 1, char 1"},
        {"DELETE FROM foo..myseries", "database not supported at line 1, char 1"},
        {"DROP MEASUREMENT", "found EOF, expected identifier at line 1, char 18"},
        {"DROP SERIES", "found EOF, expected FROM, WHERE at line 1, char 13"},
        {"DROP SERIES FROM", "found EOF, expected identifier at line 1, char 18"},
        {"DROP SERIES FROM src WHERE", "found EOF, expected identifier, string, number, bool at line 1, char 28"},
        {"DROP FOO", "found FOO, expected CONTINUOUS, DATABASE, MEASUREMENT, RETENTION, SERIES, SHARD, SUBSCRIPTION, USER at line 1, char 6"},
        {"DROP DATABASE", "found EOF, expected identifier at line 1, char 15"},
        {"DROP RETENTION", "found EOF, expected POLICY at line 1, char 16"},
        {"DROP RETENTION POLICY", "found EOF, expected identifier at line 1, char 23"},
        {"DROP RETENTION POLICY \"1h.cpu\"", "found EOF, expected ON at line 1, char 31"},
        {"DROP RETENTION POLICY \"1h.cpu\" ON", "found EOF, expected identifier at line 1, char 35"},
        {"DROP CONTINUOUS", "found EOF, expected QUERY at line 1, char 17"},
        {"DROP CONTINUOUS QUERY", "found EOF, expected identifier at line 1, char 23"},
        {"DROP CONTINUOUS QUERY myquery", "found EOF, expected ON at line 1, char 31"},
        {"DROP CONTINUOUS QUERY myquery ON", "found EOF, expected identifier at line 1, char 34"},
        /* SHOW */
        {"SHOW CONTINUOUS", "found EOF, expected QUERIES at line 1, char 17"},
        {"SHOW RETENTION", "found EOF, expected POLICIES at line 1, char 16"},
        {"SHOW RETENTION ON", "found ON, expected POLICIES at line 1, char 16"},
        {"SHOW RETENTION POLICIES ON", "found EOF, expected identifier at line 1, char 28"},
        {"SHOW FOO", "found FOO, expected CONTINUOUS, DATABASES, DIAGNOSTICS, FIELD, GRANTS, MEASUREMENT, MEASUREMENTS, QUERIES, RETENTION, SERIES, SHARD, SHARDS, STATS, SUBSCRIPTIONS, TAG, USERS at line 1, char 6"},
        {"SHOW FIELD", "found EOF, expected KEY, KEYS at line 1, char 12"},
        {"SHOW TAG VALUES FROM m", "found EOF, expected WITH at line 1, char 24"},
        {"SHOW TAG VALUES WITH KEY", "found EOF, expected =, !=, =~, !~, IN at line 1, char 26"},
        {"SHOW USERS", "SHOW USERS is not supported at line 1, char 6"},
        /* CREATE */
        {"CREATE FOO", "found FOO, expected CONTINUOUS, DATABASE, USER, RETENTION, SUBSCRIPTION at line 1, char 8"},
        {"CREATE DATABASE", "found EOF, expected identifier at line 1, char 17"},
        {"CREATE DATABASE \"testdb\" WITH", "found EOF, expected DURATION, NAME, REPLICATION, SHARD at line 1, char 31"},
        {"CREATE DATABASE \"testdb\" WITH DURATION", "found EOF, expected duration at line 1, char 40"},
        {"CREATE DATABASE \"testdb\" WITH REPLICATION", "found EOF, expected integer at line 1, char 43"},
        {"CREATE DATABASE \"testdb\" WITH NAME", "found EOF, expected identifier at line 1, char 36"},
        {"CREATE DATABASE \"testdb\" WITH SHARD", "found EOF, expected DURATION at line 1, char 37"},
        {"CREATE RETENTION", "found EOF, expected POLICY at line 1, char 18"},
        {"CREATE RETENTION POLICY", "found EOF, expected identifier at line 1, char 25"},
        {"CREATE RETENTION POLICY policy1", "found EOF, expected ON at line 1, char 33"},
        {"CREATE RETENTION POLICY policy1 ON", "found EOF, expected identifier at line 1, char 36"},
        {"CREATE RETENTION POLICY policy1 ON testdb", "found EOF, expected DURATION at line 1, char 43"},
        {"CREATE RETENTION POLICY policy1 ON testdb DURATION", "found EOF, expected duration at line 1, char 52"},
        {"CREATE RETENTION POLICY policy1 ON testdb DURATION bad", "found bad, expected duration at line 1, char 52"},
        {"CREATE RETENTION POLICY policy1 ON testdb DURATION 1h", "found EOF, expected REPLICATION at line 1, char 54"},
        {"CREATE RETENTION POLICY policy1 ON testdb DURATION 1h REPLICATION", "found EOF, expected integer at line 1, char 67"},
        {"CREATE RETENTION POLICY policy1 ON testdb DURATION 1h REPLICATION 3.14", "found 3.14, expected integer at line 1, char 67"},
        {"CREATE RETENTION POLICY policy1 ON testdb DURATION 1h REPLICATION 0", "invalid value 0: must be 1 <= n <= 2147483647 at line 1, char 67"},
        {"CREATE RETENTION POLICY policy1 ON testdb DURATION 1h REPLICATION bad", "found bad, expected integer at line 1, char 67"},
        {"CREATE CONTINUOUS", "found EOF, expected QUERY at line 1, char 19"},
        {"CREATE CONTINUOUS QUERY", "found EOF, expected identifier at line 1, char 25"},
        {"CREATE CONTINUOUS QUERY cq ON db RESAMPLE FOR 5s BEGIN SELECT mean(value) INTO cpu_mean FROM cpu GROUP BY time(10s) END",
         "FOR duration must be >= GROUP BY time duration: must be a minimum of 10s, got 5s"},
        {"CREATE CONTINUOUS QUERY cq ON db RESAMPLE EVERY 10s FOR 5s BEGIN SELECT mean(value) INTO cpu_mean FROM cpu GROUP BY time(5s) END",
         "FOR duration must be >= GROUP BY time duration: must be a minimum of 10s, got 5s"},
        {"CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m)",
         "found EOF, expected END at line 1, char 92"},
        {"CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT mean(value) FROM cpu GROUP BY time(1m) END",
         "continuous query has no INTO clause"},
        {"CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT mean(value) INTO x FROM cpu END",
         "continuous query must have a GROUP BY time clause"},
        {"ALTER", "found EOF, expected RETENTION at line 1, char 7"},
        {"ALTER RETENTION", "found EOF, expected POLICY at line 1, char 17"},
        {"ALTER RETENTION POLICY", "found EOF, expected identifier at line 1, char 24"},
        {"ALTER RETENTION POLICY policy1", "found EOF, expected ON at line 1, char 32"},
        {"ALTER RETENTION POLICY policy1 ON testdb", "found EOF, expected DURATION, REPLICATION, SHARD, DEFAULT at line 1, char 42"},
        {"GRANT ALL TO bob", "GRANT is not supported at line 1, char 1"},
    };
    char want[400];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(want, sizeof want, "error parsing query: %s", cases[i][1]);
        check_err(cases[i][0], want);
    }
    iq_error err;
    assert_null(parse("SELECT x FROM m WHERE a = 'b", &err));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.col, 27);
}

static void test_limits(void **st) {
    (void)st;
    iq_error err;
    /* deep parentheses: a clear error, no stack blow-up */
    size_t n = 100000;
    char *q = malloc(n + 64);
    assert_non_null(q);
    strcpy(q, "SELECT ");
    size_t k = strlen(q);
    for (size_t i = 0; i < n; i++) q[k++] = '(';
    q[k] = 0;
    assert_null(iq_parse(q, k, &err));
    assert_non_null(strstr(err.msg, "expression nested too deeply"));
    /* a long flat chain a+a+a... builds a deep tree: bounded too */
    k = strlen(strcpy(q, "SELECT a"));
    while (k < n) {
        memcpy(q + k, "+a", 2);
        k += 2;
    }
    memcpy(q + k, " FROM m", 7);
    k += 7;
    assert_null(iq_parse(q, k, &err));
    assert_non_null(strstr(err.msg, "expression nested too deeply"));
    /* unary minus chains and nested calls */
    k = strlen(strcpy(q, "SELECT "));
    for (size_t i = 0; i < 5000; i++) {
        memcpy(q + k, "f(", 2);
        k += 2;
    }
    assert_null(iq_parse(q, k, &err));
    assert_non_null(strstr(err.msg, "expression nested too deeply"));
    /* but a realistic nesting depth is fine */
    check_print("SELECT ((((((((((a)))))))))) FROM m", "SELECT ((((((((((a)))))))))) FROM m");
    /* too many statements */
    k = 0;
    for (int i = 0; i < IQ_MAX_STATEMENTS + 1; i++) {
        memcpy(q + k, "SHOW DATABASES;", 15);
        k += 15;
    }
    assert_null(iq_parse(q, k, &err));
    assert_non_null(strstr(err.msg, "too many statements"));
    k -= 15;
    iq_query *qq = iq_parse(q, k, &err);
    assert_non_null(qq);
    assert_int_equal(qq->n, IQ_MAX_STATEMENTS);
    iq_query_free(qq);
    free(q);
    /* too many fields */
    q = malloc(IQ_MAX_LIST * 4 + 64);
    k = strlen(strcpy(q, "SELECT a"));
    for (int i = 0; i < IQ_MAX_LIST; i++) {
        memcpy(q + k, ", a", 3);
        k += 3;
    }
    memcpy(q + k, " FROM m", 7);
    k += 7;
    assert_null(iq_parse(q, k, &err));
    assert_non_null(strstr(err.msg, "too many fields"));
    free(q);
    /* too long */
    assert_null(iq_parse("SELECT", (size_t)IQ_MAX_QUERY_LEN + 1, &err));
    assert_non_null(strstr(err.msg, "query too long"));
    /* NUL bytes and binary garbage */
    static const char bin[] = "SELECT \0\xff\xfe FROM m";
    assert_null(iq_parse(bin, sizeof bin - 1, &err));
    assert_non_null(strstr(err.msg, "error parsing query: "));
    static const char nul_re[] = "SELECT a FROM /re\\\0/";
    assert_null(iq_parse(nul_re, sizeof nul_re - 1, &err));
    assert_string_equal(err.msg, "error parsing query: unexpected NUL byte at line 1, char 15");
    static const char nul_str[] = "SELECT a FROM m WHERE a = 'x\0y'";
    assert_null(iq_parse(nul_str, sizeof nul_str - 1, &err));
    assert_string_equal(err.msg, "error parsing query: unexpected NUL byte at line 1, char 27");
    iq_query *empty = iq_parse(NULL, 0, &err); /* NULL text parses as an empty query */
    assert_non_null(empty);
    assert_int_equal(empty->n, 0);
    iq_query_free(empty);
}

static void test_durations_times(void **st) {
    (void)st;
    char b[32];
    assert_string_equal(iq_format_duration(0, b), "0s");
    assert_string_equal(iq_format_duration(1, b), "1ns");
    assert_string_equal(iq_format_duration(1500, b), "1500ns");
    assert_string_equal(iq_format_duration(2000, b), "2u");
    assert_string_equal(iq_format_duration(90LL * 60 * 1000000000LL, b), "90m");
    assert_string_equal(iq_format_duration(7LL * 86400 * 1000000000LL, b), "1w");
    assert_string_equal(iq_format_duration(-15LL * 1000000000LL, b), "-15s");
    assert_string_equal(iq_format_duration(INT64_MAX, b), "9223372036854775807ns");
    int64_t ns = 0;
    assert_int_equal(iq_parse_rfc3339("2026-11-25T00:00:00Z", &ns), 0);
    assert_true(ns == 1795564800LL * 1000000000LL);
    assert_int_equal(iq_parse_rfc3339("2026-11-25T01:00:00.5+01:00", &ns), 0);
    assert_true(ns == 1795564800LL * 1000000000LL + 500000000LL);
    assert_int_equal(iq_parse_rfc3339("1970-01-01", &ns), 0);
    assert_true(ns == 0);
    assert_int_equal(iq_parse_rfc3339("1969-12-31 23:59:59.000000001", &ns), 0);
    assert_true(ns == -999999999LL);
    assert_int_equal(iq_parse_rfc3339("2024-02-29T12:00:00Z", &ns), 0);
    assert_int_equal(iq_parse_rfc3339("2026-02-29T12:00:00Z", &ns), -1);
    assert_int_equal(iq_parse_rfc3339("2026-13-01T00:00:00Z", &ns), -1);
    assert_int_equal(iq_parse_rfc3339("2026-11-25T24:00:00Z", &ns), -1);
    assert_int_equal(iq_parse_rfc3339("2026-11-25T00:00:00", &ns), 0);
    assert_int_equal(iq_parse_rfc3339("2026-11-25T00:00Z", &ns), -1);
    assert_int_equal(iq_parse_rfc3339("3000-01-01T00:00:00Z", &ns), -1);
    assert_int_equal(iq_parse_rfc3339("1600-01-01T00:00:00Z", &ns), -1);
    assert_int_equal(iq_parse_rfc3339("now", &ns), -1);
    assert_true(iq_is_aggregate("mean"));
    assert_true(iq_is_aggregate("percentile"));
    assert_false(iq_is_aggregate("derivative"));
    assert_false(iq_is_aggregate("now"));
}

static void test_validate(void **st) {
    (void)st;
    static const char *const bad[][2] = {
        {"SELECT count(max(value)) FROM myseries", "expected field argument in count()"},
        {"SELECT top(field1) FROM myseries", "invalid number of arguments for top, expected at least 2, got 1"},
        {"SELECT top(field1,foo) FROM myseries", "expected integer as last argument in top(), found foo"},
        {"SELECT percentile(field1) FROM myseries", "invalid number of arguments for percentile, expected 2, got 1"},
        {"SELECT percentile(field1, foo) FROM myseries", "expected float argument in percentile()"},
        {"SELECT percentile(max(field1), 75) FROM myseries", "expected field argument in percentile()"},
        {"SELECT field1 FROM foo group by time(1s)", "GROUP BY requires at least one aggregate function"},
        {"SELECT count(value), value FROM foo", "mixing aggregate and non-aggregate queries is not supported"},
        {"SELECT count(value) FROM foo group by time(1s)",
         "aggregate functions with GROUP BY time require a WHERE time clause"},
        {"select count() from myseries", "invalid number of arguments for count, expected 1, got 0"},
        {"select derivative() from myseries",
         "invalid number of arguments for derivative, expected at least 1 but no more than 2, got 0"},
        {"select derivative(mean(value), 1h, 3) from myseries",
         "invalid number of arguments for derivative, expected at least 1 but no more than 2, got 3"},
        {"SELECT derivative(value) FROM myseries group by time(1h)",
         "aggregate function required inside the call to derivative"},
        {"SELECT derivative(mean(value), 1h) FROM myseries where time < now() and time > now() - 1d",
         "derivative aggregate requires a GROUP BY interval"},
        {"SELECT non_negative_derivative(mean(value), 1h) FROM myseries where time < now() and time > now() - 1d",
         "non_negative_derivative aggregate requires a GROUP BY interval"},
        {"SELECT moving_average(value) FROM myseries", "invalid number of arguments for moving_average, expected 2, got 1"},
        {"SELECT difference() from myseries", "invalid number of arguments for difference, expected 1, got 0"},
        {"SELECT mean(value) + value FROM cpu WHERE time < now() and time > now() - 1h GROUP BY time(10m)",
         "binary expressions cannot mix aggregates and raw fields"},
        {"SELECT foo(x) FROM m", "undefined function foo()"},
        {"SELECT derivative(v, 5) FROM m", "second argument to derivative must be a duration"},
    };
    static const char *const good[] = {
        ("SELECT mean(\"value\") FROM \"cpu\" WHERE (\"host\" =~ /^a$/) AND time >= 1764000000000ms and time <= "
         "1764003600000ms GROUP BY time(10s) fill(null)"),
        "SELECT derivative(mean(x), 1m) FROM m WHERE time > now() - 1h GROUP BY time(10m)",
        "SELECT non_negative_derivative(max(x), 1s) * 8 AS bps FROM m WHERE time > now() - 1h GROUP BY time(1m), host",
        "SELECT count(distinct(host)), spread(v), stddev(v), median(v), integral(v, 1m), percentile(v, 99.9) FROM m",
        "SELECT derivative(v, 1s), difference(v), moving_average(v, 3) FROM m",
        "SELECT *, a + b * 2, time FROM m",
        "SELECT top(v, host, 3), bottom(v, 2) FROM m",
    };
    char msg[256];
    iq_error err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        iq_query *q = parse(bad[i][0], &err);
        if (!q) fail_msg("<%s> does not parse: %s", bad[i][0], err.msg);
        assert_int_equal(iq_validate_select(one(q)->sel, msg, sizeof msg), -1);
        if (strcmp(msg, bad[i][1]) != 0) fail_msg("validate <%s>\n got  <%s>\n want <%s>", bad[i][0], msg, bad[i][1]);
        iq_query_free(q);
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        iq_query *q = parse(good[i], &err);
        if (!q) fail_msg("<%s> does not parse: %s", good[i], err.msg);
        if (iq_validate_select(one(q)->sel, msg, sizeof msg) != 0) fail_msg("validate <%s>: %s", good[i], msg);
        iq_query_free(q);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grafana_select),
        cmocka_unit_test(test_grafana_meta),
        cmocka_unit_test(test_statements),
        cmocka_unit_test(test_stmt_ast),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_durations_times),
        cmocka_unit_test(test_validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
