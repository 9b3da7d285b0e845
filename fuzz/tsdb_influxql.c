/* Fuzz target for tsdb/influxql: parses the input as an InfluxQL query; when it parses, prints it,
 * reparses the printed text (which must succeed) and aborts unless printing that gives the same
 * text again (the round-trip property the continuous-query store relies on). Also walks every
 * statement's expressions through iq_print_expr and every SELECT through iq_validate_select. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tsdb/influxql.h"

#define FUZZ_CHECK(c)                                                                              \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "tsdb_influxql fuzz: check failed: %s (line %d)\n", #c, __LINE__);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void print_expr(const iq_expr *e) {
    if (!e) return;
    char *s = iq_print_expr(e);
    FUZZ_CHECK(s != NULL);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *q = malloc(size ? size : 1);
    FUZZ_CHECK(q != NULL);
    if (size) memcpy(q, data, size);
    iq_error err;
    iq_query *a = iq_parse(q, size, &err);
    if (!a) {
        FUZZ_CHECK(strncmp(err.msg, "error parsing query: ", 21) == 0);
        free(q);
        return 0;
    }
    for (int i = 0; i < a->n; i++) {
        const iq_stmt *st = a->stmts[i];
        print_expr(st->cond);
        if (st->sel) {
            for (int f = 0; f < st->sel->nfields; f++) print_expr(st->sel->fields[f].expr);
            print_expr(st->sel->cond);
            for (int d = 0; d < st->sel->ndims; d++) print_expr(st->sel->dims[d]);
            char msg[256];
            if (iq_validate_select(st->sel, msg, sizeof msg) != 0) FUZZ_CHECK(msg[0] != 0);
        }
    }
    char *t1 = iq_print_query(a);
    FUZZ_CHECK(t1 != NULL);
    iq_query *b = iq_parse(t1, strlen(t1), &err);
    if (!b) fprintf(stderr, "reparse of <%s> failed: %s\n", t1, err.msg);
    FUZZ_CHECK(b != NULL);
    FUZZ_CHECK(b->n == a->n);
    char *t2 = iq_print_query(b);
    FUZZ_CHECK(t2 != NULL);
    if (strcmp(t1, t2) != 0) fprintf(stderr, "round trip differs:\n<%s>\n<%s>\n", t1, t2);
    FUZZ_CHECK(strcmp(t1, t2) == 0);
    free(t2);
    free(t1);
    iq_query_free(b);
    iq_query_free(a);
    free(q);
    return 0;
}
