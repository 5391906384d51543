#include "route.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A pattern is kept split into segments. Matching walks the path's segments
 * once per route; with the few dozen routes a fake has this is a few hundred
 * nanoseconds and needs no index. Specificity is a string of per-segment
 * ranks (literal 3, capture 2, tail 1) compared lexicographically. */

enum { SEG_LIT = 3, SEG_CAP = 2, SEG_TAIL = 1 };

typedef struct seg {
    int kind;
    char *text; /* literal text, or capture name */
} seg;

typedef struct route {
    char *method;
    char *pattern;
    size_t nseg;
    seg segs[ROUTE_MAX_SEGMENTS];
    size_t ncaps;
    route_fn handler;
    void *arg;
} route;

struct route_table {
    size_t n;
    route *routes[ROUTE_MAX_ROUTES];
};

route_table *route_table_new(void)
{
    return calloc(1, sizeof(route_table));
}

static void route_free(route *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nseg; i++)
        free(r->segs[i].text);
    free(r->method);
    free(r->pattern);
    free(r);
}

void route_table_free(route_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        route_free(t->routes[i]);
    free(t);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *route_pct_decode(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            int h, l;
            if (i + 2 >= len || (h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* Split a raw path into segments (pointers into it). "/" has one empty
 * segment; "/a/" has "a" and "". */
static int split_path(const char *raw, const char **start, size_t *len, size_t max, size_t *n)
{
    if (raw[0] != '/')
        return -EINVAL;
    size_t k = 0;
    const char *p = raw + 1;
    for (;;) {
        const char *e = strchr(p, '/');
        if (k >= max)
            return -E2BIG;
        start[k] = p;
        len[k] = e ? (size_t)(e - p) : strlen(p);
        k++;
        if (!e)
            break;
        p = e + 1;
    }
    *n = k;
    return 0;
}

int route_add(route_table *t, const char *method, const char *pattern, route_fn handler,
              void *handler_arg)
{
    if (!method || !*method || !pattern || pattern[0] != '/')
        return -EINVAL;
    if (t->n >= ROUTE_MAX_ROUTES)
        return -ENOSPC;
    route *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    int rc = 0;
    r->method = strdup(method);
    r->pattern = strdup(pattern);
    if (!r->method || !r->pattern) {
        rc = -ENOMEM;
        goto out;
    }
    const char *ps[ROUTE_MAX_SEGMENTS];
    size_t pl[ROUTE_MAX_SEGMENTS];
    size_t np = 0;
    if (split_path(pattern, ps, pl, ROUTE_MAX_SEGMENTS, &np)) {
        rc = -EINVAL;
        goto out;
    }
    for (size_t i = 0; i < np; i++) {
        const char *p = ps[i];
        size_t l = pl[i];
        seg *sg = &r->segs[r->nseg];
        if (l >= 2 && p[0] == '{' && p[l - 1] == '}') {
            int tail = l >= 3 && p[l - 2] == '*';
            size_t nl = l - 2 - (size_t)tail;
            if (nl == 0 || (tail && i + 1 != np) || r->ncaps >= ROUTE_MAX_CAPTURES) {
                rc = -EINVAL; /* empty name, tail not last, too many captures */
                goto out;
            }
            sg->kind = tail ? SEG_TAIL : SEG_CAP;
            sg->text = strndup(p + 1, nl);
            r->ncaps++;
        } else {
            if (memchr(p, '{', l) || memchr(p, '}', l)) {
                rc = -EINVAL;
                goto out;
            }
            sg->kind = SEG_LIT;
            sg->text = strndup(p, l);
        }
        if (!sg->text) {
            rc = -ENOMEM;
            goto out;
        }
        r->nseg++;
    }
    r->handler = handler;
    r->arg = handler_arg;
    t->routes[t->n++] = r;
    r = NULL;
out:
    route_free(r);
    return rc;
}

/* Does route r match the split path? Fills rank[] with the segment ranks. */
static int route_fits(const route *r, const char **ps, const size_t *pl, size_t np,
                      unsigned char *rank)
{
    size_t i;
    for (i = 0; i < r->nseg; i++) {
        const seg *sg = &r->segs[i];
        if (sg->kind == SEG_TAIL) {
            rank[i] = SEG_TAIL;
            for (size_t k = i + 1; k < ROUTE_MAX_SEGMENTS; k++)
                rank[k] = 0;
            return 1;
        }
        if (i >= np)
            return 0;
        if (sg->kind == SEG_LIT) {
            if (strlen(sg->text) != pl[i] || memcmp(sg->text, ps[i], pl[i]) != 0)
                return 0;
        } else if (pl[i] == 0) {
            return 0;
        }
        rank[i] = (unsigned char)sg->kind;
    }
    if (i != np)
        return 0;
    for (size_t k = i; k < ROUTE_MAX_SEGMENTS; k++)
        rank[k] = 0;
    return 1;
}

int route_match_path(const route_table *t, const char *method, const char *raw_path,
                     route_match *m)
{
    const char *ps[ROUTE_MAX_SEGMENTS + 1];
    size_t pl[ROUTE_MAX_SEGMENTS + 1];
    size_t np = 0;
    memset(m, 0, sizeof(*m));
    int rc = split_path(raw_path, ps, pl, ROUTE_MAX_SEGMENTS + 1, &np);
    if (rc == -EINVAL)
        return -EINVAL;
    if (rc == -E2BIG)
        np = ROUTE_MAX_SEGMENTS + 1; /* only a tail route can match this deep */
    const route *best = NULL;
    unsigned char best_rank[ROUTE_MAX_SEGMENTS], rank[ROUTE_MAX_SEGMENTS];
    int path_known = 0;
    char allowed[256] = "";
    for (size_t i = 0; i < t->n; i++) {
        const route *r = t->routes[i];
        if (!route_fits(r, ps, pl, np > ROUTE_MAX_SEGMENTS ? ROUTE_MAX_SEGMENTS : np, rank))
            continue;
        if (np > ROUTE_MAX_SEGMENTS && r->segs[r->nseg - 1].kind != SEG_TAIL)
            continue;
        if (strcmp(r->method, "*") != 0 && strcmp(r->method, method) != 0) {
            path_known = 1;
            if (!strstr(allowed, r->method) && strlen(allowed) + strlen(r->method) + 3 < sizeof(allowed)) {
                if (allowed[0])
                    strcat(allowed, ", ");
                strcat(allowed, r->method);
            }
            continue;
        }
        if (!best || memcmp(rank, best_rank, sizeof(rank)) > 0) {
            best = r;
            memcpy(best_rank, rank, sizeof(rank));
        }
    }
    if (!best) {
        if (path_known) {
            m->values[0] = strdup(allowed);
            return m->values[0] ? -EPERM : -ENOMEM;
        }
        return -ENOENT;
    }
    m->handler = best->handler;
    m->handler_arg = best->arg;
    m->pattern = best->pattern;
    for (size_t i = 0; i < best->nseg; i++) {
        const seg *sg = &best->segs[i];
        if (sg->kind == SEG_LIT)
            continue;
        char *v;
        if (sg->kind == SEG_TAIL) {
            /* the raw rest of the path, decoded as a whole */
            const char *rest = i < np ? ps[i] : "";
            v = route_pct_decode(rest, strlen(rest));
        } else {
            v = route_pct_decode(ps[i], pl[i]);
        }
        if (!v) {
            route_match_cleanup(m);
            return -EINVAL;
        }
        m->names[m->ncaptures] = sg->text;
        m->values[m->ncaptures++] = v;
    }
    return 0;
}

const char *route_capture(const route_match *m, const char *name)
{
    for (size_t i = 0; i < m->ncaptures; i++)
        if (strcmp(m->names[i], name) == 0)
            return m->values[i];
    return NULL;
}

void route_match_cleanup(route_match *m)
{
    for (size_t i = 0; i < ROUTE_MAX_CAPTURES; i++) {
        free(m->values[i]);
        m->values[i] = NULL;
    }
    m->ncaptures = 0;
}
