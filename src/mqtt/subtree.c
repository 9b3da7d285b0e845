/* mqtt/subtree: the subscription tree. One node per topic level; '+' and '#' children are kept
 * apart from the literal children so matching a topic walks at most three branches per level.
 * Shared subscriptions ($share/group/filter) hang their group off the node of `filter`. */
#include <stdlib.h>
#include <string.h>
#include "mqtt/broker_internal.h"
#include "mqtt/topic.h"

static sub_node *node_child(sub_node *n, const char *lv, size_t len, bool create) {
    if (len == 1 && lv[0] == '+') {
        if (!n->plus && create) {
            n->plus = calloc(1, sizeof *n->plus);
            if (n->plus) n->plus->parent = n;
        }
        return n->plus;
    }
    if (len == 1 && lv[0] == '#') {
        if (!n->hash && create) {
            n->hash = calloc(1, sizeof *n->hash);
            if (n->hash) n->hash->parent = n;
        }
        return n->hash;
    }
    sub_node *c = hmap_get(&n->children, lv, len);
    if (c || !create) return c;
    c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->level = malloc(len + 1);
    if (!c->level) { free(c); return NULL; }
    memcpy(c->level, lv, len);
    c->level[len] = 0;
    c->level_len = (uint32_t)len;
    c->parent = n;
    if (hmap_put(&n->children, c->level, len, c)) { free(c->level); free(c); return NULL; }
    return c;
}

static sub_node *node_find(sub_node *root, const char *f, size_t flen, bool create) {
    sub_node *n = root;
    size_t i = 0;
    for (;;) {
        size_t j = i;
        while (j < flen && f[j] != '/') j++;
        n = node_child(n, f + i, j - i, create);
        if (!n) return NULL;
        if (j >= flen) return n;
        i = j + 1;
    }
}

static bool node_empty(const sub_node *n) {
    return !n->nsubs && !n->groups && !n->plus && !n->hash && n->children.count == 0;
}

static void node_prune(sub_node *n) {
    while (n->parent && node_empty(n)) {
        sub_node *p = n->parent;
        if (p->plus == n) p->plus = NULL;
        else if (p->hash == n) p->hash = NULL;
        else hmap_del(&p->children, n->level, n->level_len);
        hmap_free(&n->children);
        free(n->subs);
        free(n->level);
        free(n);
        n = p;
    }
}

static int entries_set(sub_entry **arr, size_t *n, size_t *cap, mqtt_session *s, uint8_t opts, uint32_t subid) {
    for (size_t i = 0; i < *n; i++)
        if ((*arr)[i].s == s) { (*arr)[i].opts = opts; (*arr)[i].subid = subid; return 1; }
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        sub_entry *na = realloc(*arr, nc * sizeof *na);
        if (!na) return -1;
        *arr = na;
        *cap = nc;
    }
    (*arr)[(*n)++] = (sub_entry){s, opts, subid};
    return 0;
}

static bool entries_del(sub_entry *arr, size_t *n, mqtt_session *s) {
    for (size_t i = 0; i < *n; i++)
        if (arr[i].s == s) { arr[i] = arr[--*n]; return true; }
    return false;
}

/* returns 0 when added, 1 when it replaced an existing subscription, -1 on error */
int subtree_add(sub_node *root, const char *filter, size_t flen, mqtt_session *s, uint8_t opts, uint32_t subid) {
    mqtt_bytes group, inner;
    int shared = mqtt_share_parse((const uint8_t *)filter, flen, &group, &inner);
    if (shared < 0) return -1;
    if (shared) { filter = (const char *)inner.p; flen = inner.len; }
    sub_node *n = node_find(root, filter, flen, true);
    if (!n) return -1;
    if (!shared) return entries_set(&n->subs, &n->nsubs, &n->cap, s, opts, subid);
    sub_group *g = n->groups;
    while (g && !(strlen(g->name) == group.len && !memcmp(g->name, group.p, group.len))) g = g->next;
    if (!g) {
        g = calloc(1, sizeof *g);
        if (!g || !(g->name = strndup((const char *)group.p, group.len))) { free(g); node_prune(n); return -1; }
        g->next = n->groups;
        n->groups = g;
    }
    return entries_set(&g->members, &g->n, &g->cap, s, opts, subid);
}

/* returns 1 when removed, 0 when no such subscription */
int subtree_remove(sub_node *root, const char *filter, size_t flen, mqtt_session *s) {
    mqtt_bytes group, inner;
    int shared = mqtt_share_parse((const uint8_t *)filter, flen, &group, &inner);
    if (shared < 0) return 0;
    if (shared) { filter = (const char *)inner.p; flen = inner.len; }
    sub_node *n = node_find(root, filter, flen, false);
    if (!n) return 0;
    bool found = false;
    if (!shared) found = entries_del(n->subs, &n->nsubs, s);
    else {
        for (sub_group **gp = &n->groups; *gp; gp = &(*gp)->next) {
            sub_group *g = *gp;
            if (strlen(g->name) != group.len || memcmp(g->name, group.p, group.len)) continue;
            found = entries_del(g->members, &g->n, s);
            if (g->n == 0) { *gp = g->next; free(g->members); free(g->name); free(g); }
            break;
        }
    }
    node_prune(n);
    return found;
}

typedef struct level { const char *p; size_t n; } level;

static void visit_node(sub_node *n, subtree_visit v, subtree_visit_group vg, void *ud) {
    for (size_t i = 0; i < n->nsubs; i++) v(ud, &n->subs[i]);
    for (sub_group *g = n->groups; g; g = g->next) vg(ud, g);
}

static void match_rec(sub_node *n, const level *lv, size_t nl, size_t i, subtree_visit v, subtree_visit_group vg,
                      void *ud) {
    if (i == nl) {
        visit_node(n, v, vg, ud);
        if (n->hash) visit_node(n->hash, v, vg, ud); /* "a/#" matches "a" */
        return;
    }
    bool dollar = i == 0 && lv[0].n > 0 && lv[0].p[0] == '$';
    if (n->hash && !dollar) visit_node(n->hash, v, vg, ud);
    if (n->plus && !dollar) match_rec(n->plus, lv, nl, i + 1, v, vg, ud);
    sub_node *c = n->children.count ? hmap_get(&n->children, lv[i].p, lv[i].n) : NULL;
    if (c) match_rec(c, lv, nl, i + 1, v, vg, ud);
}

void subtree_match(sub_node *root, const char *topic, size_t tlen, subtree_visit v, subtree_visit_group vg,
                   void *ud) {
    level stack[32], *lv = stack;
    size_t nl = 1, cap = 32;
    for (size_t i = 0; i < tlen; i++) nl += topic[i] == '/';
    if (nl > cap) {
        lv = malloc(nl * sizeof *lv);
        if (!lv) return;
    }
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= tlen; i++) {
        if (i == tlen || topic[i] == '/') {
            lv[k++] = (level){topic + start, i - start};
            start = i + 1;
        }
    }
    match_rec(root, lv, nl, 0, v, vg, ud);
    if (lv != stack) free(lv);
}

static void node_free_rec(sub_node *n) {
    size_t it = 0;
    sub_node *c;
    while ((c = hmap_next(&n->children, &it, NULL, NULL))) node_free_rec(c);
    hmap_free(&n->children);
    if (n->plus) node_free_rec(n->plus);
    if (n->hash) node_free_rec(n->hash);
    for (sub_group *g = n->groups, *nx; g; g = nx) { nx = g->next; free(g->members); free(g->name); free(g); }
    free(n->subs);
    free(n->level);
    if (n->parent) free(n);
}

void subtree_free(sub_node *root) {
    node_free_rec(root);
    memset(root, 0, sizeof *root);
}
