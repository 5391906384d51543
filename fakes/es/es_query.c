#include "es_query.h"

#include <ctype.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- field access ---- */

/* Collect the values at a dotted path ("a.b.c"); ES accepts both nested
 * objects and literal dotted keys, and arrays anywhere along the way. */
static void collect(const json_t *node, const char *path, json_t *out)
{
    if (!node)
        return;
    if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach (node, i, v)
            collect(v, path, out);
        return;
    }
    if (!*path) {
        json_array_append(out, (json_t *)node);
        return;
    }
    if (!json_is_object(node))
        return;
    /* the longest literal key first, then shorter prefixes */
    size_t len = strlen(path);
    for (size_t cut = len;;) {
        char key[512];
        if (cut < sizeof(key)) {
            memcpy(key, path, cut);
            key[cut] = '\0';
            json_t *v = json_object_get(node, key);
            if (v)
                collect(v, cut == len ? "" : path + cut + 1, out);
        }
        /* the previous '.' */
        size_t prev = cut;
        while (prev > 0 && path[prev - 1] != '.')
            prev--;
        if (prev == 0)
            break;
        cut = prev - 1;
    }
}

/* The values of a field as a new array; *keyword tells whether the path
 * named the ".keyword" sub-field (exact string semantics). */
static json_t *field_values(const json_t *doc, const char *field, bool *keyword)
{
    json_t *out = json_array();
    if (!out)
        return NULL;
    *keyword = false;
    collect(doc, field, out);
    size_t fl = strlen(field);
    if (json_array_size(out) == 0 && fl > 8 && strcmp(field + fl - 8, ".keyword") == 0) {
        char base[512];
        snprintf(base, sizeof(base), "%.*s", (int)(fl - 8), field);
        json_t *tmp = json_array();
        collect(doc, base, tmp);
        size_t i;
        json_t *v;
        json_array_foreach (tmp, i, v) {
            if (json_is_string(v))
                json_array_append(out, v);
        }
        json_decref(tmp);
        *keyword = true;
    }
    return out;
}

/* ---- analysis: the standard analyzer, roughly ---- */

typedef struct toks {
    char **t;
    size_t n, cap;
} toks;

static void toks_free(toks *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->t[i]);
    free(t->t);
    t->t = NULL;
    t->n = t->cap = 0;
}

static void tokenize(const char *s, toks *t)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        while (*p && !(isalnum(*p) || *p >= 0x80))
            p++;
        const unsigned char *st = p;
        while (*p && (isalnum(*p) || *p >= 0x80))
            p++;
        if (p == st)
            continue;
        if (t->n == t->cap) {
            size_t nc = t->cap ? t->cap * 2 : 16;
            char **n = realloc(t->t, nc * sizeof(*n));
            if (!n)
                return;
            t->t = n;
            t->cap = nc;
        }
        char *w = strndup((const char *)st, (size_t)(p - st));
        if (!w)
            return;
        for (char *c = w; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        t->t[t->n++] = w;
    }
}

static bool has_token(const toks *t, const char *w)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->t[i], w) == 0)
            return true;
    return false;
}

/* ---- value comparison ---- */

static bool as_number(const json_t *v, double *d)
{
    if (json_is_number(v)) {
        *d = json_number_value(v);
        return true;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        if (!*s)
            return false;
        *d = strtod(s, &end);
        return *end == '\0';
    }
    if (json_is_boolean(v)) {
        *d = json_is_true(v);
        return true;
    }
    return false;
}

static const char *scalar_text(const json_t *v, char *tmp, size_t tmpsz)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(tmp, tmpsz, "%lld", (long long)json_integer_value(v));
        return tmp;
    }
    if (json_is_real(v)) {
        snprintf(tmp, tmpsz, "%.17g", json_real_value(v));
        return tmp;
    }
    if (json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    return NULL;
}

/* term semantics of one document value against one query value */
static bool term_eq(const json_t *dv, const json_t *qv, bool keyword)
{
    if (json_is_string(dv)) {
        char tmp[64];
        const char *q = scalar_text(qv, tmp, sizeof(tmp));
        if (!q)
            return false;
        if (keyword)
            return strcmp(json_string_value(dv), q) == 0;
        toks t = {0};
        tokenize(json_string_value(dv), &t);
        bool hit = has_token(&t, q);
        toks_free(&t);
        return hit;
    }
    if (json_is_boolean(dv)) {
        if (json_is_boolean(qv))
            return json_is_true(dv) == json_is_true(qv);
        if (json_is_string(qv))
            return strcmp(json_string_value(qv), json_is_true(dv) ? "true" : "false") == 0;
        return false;
    }
    double a, b;
    if (json_is_number(dv) && as_number(qv, &b)) {
        a = json_number_value(dv);
        return a == b;
    }
    return false;
}

static bool any_value(const json_t *doc, const char *field, const json_t *qv, int mode,
                      const char *op_and)
{
    bool keyword;
    json_t *vals = field_values(doc, field, &keyword);
    if (!vals)
        return false;
    bool hit = false;
    size_t i;
    json_t *dv;
    if (mode == 0) { /* term */
        json_array_foreach (vals, i, dv)
            if (!hit && term_eq(dv, qv, keyword))
                hit = true;
    } else { /* match (1) and match_phrase (2) */
        char tmp[64];
        const char *qs = scalar_text(qv, tmp, sizeof(tmp));
        if (qs) {
            toks qt = {0};
            if (keyword) {
                json_array_foreach (vals, i, dv)
                    if (json_is_string(dv) && strcmp(json_string_value(dv), qs) == 0)
                        hit = true;
            } else {
                tokenize(qs, &qt);
                json_array_foreach (vals, i, dv) {
                    if (hit)
                        break;
                    if (!json_is_string(dv)) {
                        if (term_eq(dv, qv, false))
                            hit = true;
                        continue;
                    }
                    toks dt = {0};
                    tokenize(json_string_value(dv), &dt);
                    if (mode == 2) {
                        for (size_t s = 0; s + qt.n <= dt.n && !hit; s++) {
                            bool all = qt.n > 0;
                            for (size_t k = 0; k < qt.n && all; k++)
                                all = strcmp(dt.t[s + k], qt.t[k]) == 0;
                            hit = all;
                        }
                    } else if (op_and) {
                        bool all = qt.n > 0;
                        for (size_t k = 0; k < qt.n && all; k++)
                            all = has_token(&dt, qt.t[k]);
                        hit = all;
                    } else {
                        for (size_t k = 0; k < qt.n && !hit; k++)
                            hit = has_token(&dt, qt.t[k]);
                    }
                    toks_free(&dt);
                }
                toks_free(&qt);
            }
        }
    }
    json_decref(vals);
    return hit;
}

static int vcmp(const json_t *a, const json_t *b, bool *ok)
{
    double x, y;
    *ok = true;
    if (json_is_number(a) && as_number(b, &y)) {
        x = json_number_value(a);
        return x < y ? -1 : x > y;
    }
    char t1[64], t2[64];
    const char *s1 = scalar_text(a, t1, sizeof(t1)), *s2 = scalar_text(b, t2, sizeof(t2));
    if (!s1 || !s2) {
        *ok = false;
        return 0;
    }
    int c = strcmp(s1, s2);
    return c < 0 ? -1 : c > 0;
}

static bool range_match(const json_t *doc, const char *field, const json_t *spec)
{
    bool keyword;
    json_t *vals = field_values(doc, field, &keyword);
    bool hit = false;
    size_t i;
    json_t *dv;
    json_array_foreach (vals, i, dv) {
        bool pass = true;
        const char *k;
        json_t *bound;
        json_object_foreach ((json_t *)spec, k, bound) {
            bool ok;
            if (json_is_null(bound))
                continue;
            int c;
            if (strcmp(k, "gt") == 0 || strcmp(k, "from") == 0) {
                c = vcmp(dv, bound, &ok);
                pass = pass && ok && c > 0;
            } else if (strcmp(k, "gte") == 0) {
                c = vcmp(dv, bound, &ok);
                pass = pass && ok && c >= 0;
            } else if (strcmp(k, "lt") == 0 || strcmp(k, "to") == 0) {
                c = vcmp(dv, bound, &ok);
                pass = pass && ok && c < 0;
            } else if (strcmp(k, "lte") == 0) {
                c = vcmp(dv, bound, &ok);
                pass = pass && ok && c <= 0;
            }
        }
        if (pass) {
            hit = true;
            break;
        }
    }
    json_decref(vals);
    return hit;
}

/* ---- the query tree ---- */

/* {"field": value} or {"field": {"value": v, ...}} / {"query": v} */
static bool field_and_value(const json_t *body, const char *inner, const char **field,
                            const json_t **value, const json_t **opts)
{
    if (!json_is_object(body) || json_object_size(body) != 1)
        return false;
    void *it = json_object_iter((json_t *)body);
    *field = json_object_iter_key(it);
    const json_t *v = json_object_iter_value(it);
    *opts = NULL;
    if (json_is_object(v)) {
        *opts = v;
        v = json_object_get(v, inner);
        if (!v)
            return false;
    }
    *value = v;
    return true;
}

static const char *const KNOWN[] = {"match_all",    "match_none", "term",   "terms", "match",
                                    "match_phrase", "range",      "exists", "ids",   "prefix",
                                    "wildcard",     "bool",       NULL};

static int fail(char *type, size_t tsz, char *reason, size_t rsz, const char *t, const char *fmt,
                ...) __attribute__((format(printf, 6, 7)));
static int fail(char *type, size_t tsz, char *reason, size_t rsz, const char *t, const char *fmt,
                ...)
{
    va_list ap;
    snprintf(type, tsz, "%s", t);
    va_start(ap, fmt);
    vsnprintf(reason, rsz, fmt, ap);
    va_end(ap);
    return -1;
}

int es_query_check(const json_t *q, char *type, size_t tsz, char *reason, size_t rsz)
{
    if (!q)
        return 0;
    if (!json_is_object(q))
        return fail(type, tsz, reason, rsz, "parsing_exception",
                    "[_na] query malformed, must start with start_object");
    if (json_object_size(q) != 1)
        return fail(type, tsz, reason, rsz, "parsing_exception",
                    "[%s] malformed query, expected [END_OBJECT] but found [FIELD_NAME]",
                    json_object_size(q) ? json_object_iter_key(json_object_iter((json_t *)q))
                                        : "_na");
    void *it = json_object_iter((json_t *)q);
    const char *name = json_object_iter_key(it);
    const json_t *body = json_object_iter_value(it);
    bool known = false;
    for (size_t i = 0; KNOWN[i]; i++)
        known = known || strcmp(KNOWN[i], name) == 0;
    if (!known)
        return fail(type, tsz, reason, rsz, "parsing_exception", "unknown query [%s]", name);
    if (!json_is_object(body))
        return fail(type, tsz, reason, rsz, "parsing_exception",
                    "[%s] query malformed, no start_object after query name", name);
    if (strcmp(name, "bool") == 0) {
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)body, k, v) {
            if (strcmp(k, "must") && strcmp(k, "filter") && strcmp(k, "should") &&
                strcmp(k, "must_not")) {
                if (strcmp(k, "minimum_should_match") == 0 || strcmp(k, "boost") == 0)
                    continue;
                return fail(type, tsz, reason, rsz, "parsing_exception",
                            "[bool] query does not support [%s]", k);
            }
            if (json_is_array(v)) {
                size_t i;
                json_t *c;
                json_array_foreach (v, i, c)
                    if (es_query_check(c, type, tsz, reason, rsz))
                        return -1;
            } else if (es_query_check(v, type, tsz, reason, rsz)) {
                return -1;
            }
        }
        return 0;
    }
    if (strcmp(name, "term") == 0 || strcmp(name, "match") == 0 ||
        strcmp(name, "match_phrase") == 0 || strcmp(name, "prefix") == 0 ||
        strcmp(name, "wildcard") == 0) {
        const char *f;
        const json_t *v, *o;
        const char *inner = strcmp(name, "term") == 0 || strcmp(name, "prefix") == 0 ||
                                    strcmp(name, "wildcard") == 0
                                ? "value"
                                : "query";
        if (!field_and_value(body, inner, &f, &v, &o) || json_is_object(v) || json_is_array(v))
            return fail(type, tsz, reason, rsz, "parsing_exception",
                        "[%s] query doesn't support multiple fields, found [_na] and [_na]", name);
        return 0;
    }
    if (strcmp(name, "terms") == 0) {
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)body, k, v) {
            if (strcmp(k, "boost") == 0)
                continue;
            if (!json_is_array(v))
                return fail(type, tsz, reason, rsz, "parsing_exception",
                            "[terms] query does not support [%s]", k);
        }
        return 0;
    }
    if (strcmp(name, "range") == 0) {
        if (json_object_size(body) != 1 ||
            !json_is_object(json_object_iter_value(json_object_iter((json_t *)body))))
            return fail(type, tsz, reason, rsz, "parsing_exception",
                        "[range] query malformed, no start_object after query name");
        return 0;
    }
    if (strcmp(name, "exists") == 0) {
        if (!json_is_string(json_object_get(body, "field")))
            return fail(type, tsz, reason, rsz, "parsing_exception",
                        "[exists] must be provided with a [field]");
        return 0;
    }
    if (strcmp(name, "ids") == 0) {
        if (!json_is_array(json_object_get(body, "values")))
            return fail(type, tsz, reason, rsz, "parsing_exception",
                        "[ids] query malformed, no values");
        return 0;
    }
    return 0;
}

bool es_query_is_match_all(const json_t *q)
{
    return !q || (json_is_object(q) && json_object_get(q, "match_all") && json_object_size(q) == 1);
}

static bool clause_list(const json_t *v, const json_t *doc, const char *id, size_t idl, int mode,
                        size_t *matched)
{
    /* mode 0: all must match; 1: count matches */
    size_t n = 0, total = 0;
    if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach (v, i, c) {
            total++;
            if (es_query_match(c, doc, id, idl))
                n++;
            else if (mode == 0)
                return false;
        }
    } else if (v) {
        total = 1;
        n = es_query_match(v, doc, id, idl);
        if (mode == 0 && !n)
            return false;
    }
    if (matched)
        *matched = n;
    (void)total;
    return true;
}

bool es_query_match(const json_t *q, const json_t *doc, const char *id, size_t idl)
{
    if (!q)
        return true;
    void *it = json_object_iter((json_t *)q);
    if (!it)
        return true;
    const char *name = json_object_iter_key(it);
    const json_t *body = json_object_iter_value(it);
    if (strcmp(name, "match_all") == 0)
        return true;
    if (strcmp(name, "match_none") == 0)
        return false;
    if (strcmp(name, "bool") == 0) {
        if (!clause_list(json_object_get(body, "must"), doc, id, idl, 0, NULL) ||
            !clause_list(json_object_get(body, "filter"), doc, id, idl, 0, NULL))
            return false;
        size_t nnot = 0;
        clause_list(json_object_get(body, "must_not"), doc, id, idl, 1, &nnot);
        if (nnot)
            return false;
        const json_t *should = json_object_get(body, "should");
        size_t nshould = json_is_array(should) ? json_array_size(should) : (should ? 1 : 0);
        if (!nshould)
            return true;
        size_t hits = 0;
        clause_list(should, doc, id, idl, 1, &hits);
        const json_t *msm = json_object_get(body, "minimum_should_match");
        size_t need = (json_object_get(body, "must") || json_object_get(body, "filter")) ? 0 : 1;
        if (json_is_integer(msm))
            need = (size_t)json_integer_value(msm);
        else if (json_is_string(msm))
            need = (size_t)atoi(json_string_value(msm));
        return hits >= need;
    }
    if (strcmp(name, "terms") == 0) {
        const char *f;
        json_t *vals;
        json_object_foreach ((json_t *)body, f, vals) {
            if (!json_is_array(vals))
                continue;
            size_t i;
            json_t *v;
            json_array_foreach (vals, i, v)
                if (any_value(doc, f, v, 0, NULL))
                    return true;
            return false;
        }
        return false;
    }
    if (strcmp(name, "range") == 0) {
        void *ri = json_object_iter((json_t *)body);
        return range_match(doc, json_object_iter_key(ri), json_object_iter_value(ri));
    }
    if (strcmp(name, "exists") == 0) {
        bool kw;
        json_t *vals = field_values(doc, json_string_value(json_object_get(body, "field")), &kw);
        bool hit = false;
        size_t i;
        json_t *v;
        json_array_foreach (vals, i, v)
            if (!json_is_null(v))
                hit = true;
        json_decref(vals);
        return hit;
    }
    if (strcmp(name, "ids") == 0) {
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(body, "values"), i, v) {
            if (json_is_string(v) && json_string_length(v) == idl &&
                memcmp(json_string_value(v), id, idl) == 0)
                return true;
        }
        return false;
    }
    const char *f;
    const json_t *v, *o;
    if (strcmp(name, "term") == 0) {
        if (!field_and_value(body, "value", &f, &v, &o))
            return false;
        return any_value(doc, f, v, 0, NULL);
    }
    if (strcmp(name, "match") == 0 || strcmp(name, "match_phrase") == 0) {
        if (!field_and_value(body, "query", &f, &v, &o))
            return false;
        const char *op = NULL;
        const json_t *opv = o ? json_object_get(o, "operator") : NULL;
        if (json_is_string(opv) && strcasecmp(json_string_value(opv), "and") == 0)
            op = "and";
        return any_value(doc, f, v, name[5] == '_' ? 2 : 1, op);
    }
    if (strcmp(name, "prefix") == 0 || strcmp(name, "wildcard") == 0) {
        if (!field_and_value(body, "value", &f, &v, &o) || !json_is_string(v))
            return false;
        bool kw;
        json_t *vals = field_values(doc, f, &kw);
        bool hit = false;
        size_t i;
        json_t *dv;
        const char *pat = json_string_value(v);
        json_array_foreach (vals, i, dv) {
            if (!json_is_string(dv) || hit)
                continue;
            toks t = {0};
            if (kw) {
                t.t = calloc(1, sizeof(char *));
                if (t.t) {
                    t.t[0] = strdup(json_string_value(dv));
                    t.n = t.t[0] ? 1 : 0;
                }
            } else {
                tokenize(json_string_value(dv), &t);
            }
            for (size_t k = 0; k < t.n && !hit; k++) {
                if (name[0] == 'p')
                    hit = strncmp(t.t[k], pat, strlen(pat)) == 0;
                else
                    hit = fnmatch(pat, t.t[k], 0) == 0;
            }
            toks_free(&t);
        }
        json_decref(vals);
        return hit;
    }
    return false;
}

/* ---- sorting ---- */

void es_sort_free(es_sort_key *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(keys[i].field);
    free(keys);
}

static int add_key(es_sort_key **keys, size_t *n, const char *field, bool desc)
{
    es_sort_key *k = realloc(*keys, (*n + 1) * sizeof(**keys));
    if (!k)
        return -1;
    *keys = k;
    k[*n].field = strdup(field);
    k[*n].desc = desc;
    if (!k[*n].field)
        return -1;
    (*n)++;
    return 0;
}

static int parse_one(const json_t *s, es_sort_key **keys, size_t *n, char *reason, size_t rsz)
{
    if (json_is_string(s)) {
        const char *f = json_string_value(s);
        return add_key(keys, n, f, strcmp(f, "_score") == 0);
    }
    if (!json_is_object(s)) {
        snprintf(reason, rsz,
                 "malformed sort format, within the sort array, an object, or an "
                 "actual string are allowed");
        return -1;
    }
    const char *f;
    json_t *v;
    json_object_foreach ((json_t *)s, f, v) {
        bool desc = strcmp(f, "_score") == 0;
        const json_t *ord = json_is_object(v) ? json_object_get(v, "order") : v;
        if (json_is_string(ord)) {
            const char *o = json_string_value(ord);
            if (strcasecmp(o, "desc") == 0)
                desc = true;
            else if (strcasecmp(o, "asc") == 0)
                desc = false;
            else {
                snprintf(reason, rsz, "Unknown SortOrder [%s]", o);
                return -1;
            }
        }
        if (add_key(keys, n, f, desc))
            return -1;
    }
    return 0;
}

int es_sort_parse(const json_t *sort, es_sort_key **keys, size_t *n, char *reason, size_t rsz)
{
    *keys = NULL;
    *n = 0;
    if (!sort)
        return 0;
    if (json_is_array(sort)) {
        size_t i;
        json_t *s;
        json_array_foreach (sort, i, s)
            if (parse_one(s, keys, n, reason, rsz))
                return -1;
        return 0;
    }
    return parse_one(sort, keys, n, reason, rsz);
}

json_t *es_sort_value(const json_t *doc, const char *field)
{
    bool kw;
    json_t *vals = field_values(doc, field, &kw);
    json_t *v = json_array_get(vals, 0);
    json_t *out = v && !json_is_object(v) && !json_is_array(v) ? json_incref(v) : json_null();
    json_decref(vals);
    return out;
}

int es_sort_cmp(const json_t *a, const json_t *b, bool desc)
{
    bool na = !a || json_is_null(a), nb = !b || json_is_null(b);
    if (na || nb)
        return na == nb ? 0 : (na ? 1 : -1);
    bool ok;
    int c = vcmp(a, b, &ok);
    if (!ok)
        c = 0;
    return desc ? -c : c;
}
