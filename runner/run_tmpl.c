#include "run_tmpl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_check.h"

typedef struct var {
    char *name;
    char *value;
} var;

struct run_vars {
    var *v;
    size_t n, alloc;
    const char **names; /* cached list for run_vars_names */
};

run_vars *run_vars_new(void)
{
    return calloc(1, sizeof(run_vars));
}

void run_vars_free(run_vars *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        free(v->v[i].name);
        free(v->v[i].value);
    }
    free(v->v);
    free(v->names);
    free(v);
}

static var *find(const run_vars *v, const char *name, size_t len)
{
    for (size_t i = 0; i < v->n; i++)
        if (strlen(v->v[i].name) == len && memcmp(v->v[i].name, name, len) == 0)
            return &v->v[i];
    return NULL;
}

static bool name_ok(const char *s, size_t len)
{
    if (!len || len >= RUN_TMPL_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '}' || s[i] == '{' || s[i] == '$' || s[i] == ' ' || s[i] == '\t' ||
            s[i] == '\n' || s[i] == '\r')
            return false;
    return true;
}

int run_vars_set(run_vars *v, const char *name, const char *value)
{
    size_t len = strlen(name);
    if (!name_ok(name, len))
        return -EINVAL;
    char *val = NULL;
    if (value && !(val = strdup(value)))
        return -ENOMEM;
    var *e = find(v, name, len);
    if (e) {
        free(e->value);
        e->value = val;
        return 0;
    }
    if (v->n >= RUN_VARS_MAX) {
        free(val);
        return -ENOSPC;
    }
    if (v->n == v->alloc) {
        size_t na = v->alloc ? v->alloc * 2 : 32;
        var *nv = realloc(v->v, na * sizeof(*nv));
        if (!nv) {
            free(val);
            return -ENOMEM;
        }
        v->v = nv;
        v->alloc = na;
    }
    v->v[v->n].name = strdup(name);
    if (!v->v[v->n].name) {
        free(val);
        return -ENOMEM;
    }
    v->v[v->n].value = val;
    v->n++;
    free(v->names);
    v->names = NULL;
    return 0;
}

bool run_vars_known(const run_vars *v, const char *name)
{
    return find(v, name, strlen(name)) != NULL;
}

const char *run_vars_get(const run_vars *v, const char *name)
{
    var *e = find(v, name, strlen(name));
    return e ? e->value : NULL;
}

const char *const *run_vars_names(const run_vars *v, size_t *n)
{
    run_vars *mv = (run_vars *)v;
    if (!mv->names && mv->n) {
        mv->names = malloc(mv->n * sizeof(*mv->names));
        if (!mv->names) {
            *n = 0;
            return NULL;
        }
        for (size_t i = 0; i < mv->n; i++)
            mv->names[i] = mv->v[i].name;
    }
    *n = mv->n;
    return mv->names;
}

/* Walk the references of a template. For each piece of literal text call
 * lit(); for each reference call ref() with the name. Stops at the first
 * error (malformed reference: -EINVAL with *bad_off set). */
typedef int (*lit_fn)(void *arg, const char *s, size_t n);
typedef int (*ref_fn)(void *arg, const char *name, size_t n, size_t off);

static int walk(const char *t, size_t len, lit_fn lit, ref_fn ref, void *arg, size_t *bad_off,
                efk_err *err)
{
    size_t i = 0, start = 0;
    int rc;
    while (i < len) {
        if (t[i] == '$' && i + 2 < len && t[i + 1] == '$' && t[i + 2] == '{') {
            /* "$${" is a literal "${" */
            if ((rc = lit(arg, t + start, i - start)) || (rc = lit(arg, "${", 2)))
                return rc;
            i += 3;
            start = i;
            continue;
        }
        if (t[i] == '$' && i + 1 < len && t[i + 1] == '{') {
            const char *close = memchr(t + i + 2, '}', len - i - 2);
            if (!close) {
                *bad_off = i;
                return efk_err_set(err, -EINVAL,
                                   "unterminated \"${\" (write \"$${\" for a "
                                   "literal \"${\")");
            }
            size_t nlen = (size_t)(close - (t + i + 2));
            if (!name_ok(t + i + 2, nlen)) {
                *bad_off = i;
                return efk_err_set(err, -EINVAL,
                                   "malformed reference \"%.*s\": a name is 1 to %d characters "
                                   "without spaces, \"{\", \"}\" or \"$\"",
                                   (int)(nlen + 3 > 80 ? 80 : nlen + 3), t + i,
                                   RUN_TMPL_NAME_MAX - 1);
            }
            if ((rc = lit(arg, t + start, i - start)))
                return rc;
            if ((rc = ref(arg, t + i + 2, nlen, i)))
                return rc;
            i += nlen + 3;
            start = i;
            continue;
        }
        i++;
    }
    return lit(arg, t + start, len - start);
}

typedef struct ctx {
    const run_vars *v;
    buf *out;
    size_t *bad_off;
    efk_err *err;
} ctx;

static int lit_none(void *arg, const char *s, size_t n)
{
    return 0;
}

static int unknown(ctx *c, const char *name, size_t n, size_t off)
{
    char nm[RUN_TMPL_NAME_MAX];
    memcpy(nm, name, n);
    nm[n] = '\0';
    *c->bad_off = off;
    size_t count;
    const char *const *names = run_vars_names(c->v, &count);
    const char *near[3];
    size_t k = names ? run_nearest(nm, names, count, near, 3) : 0;
    if (k == 0)
        return efk_err_set(c->err, -EINVAL, "unknown name ${%s} in a template", nm);
    char list[3 * (RUN_TMPL_NAME_MAX + 8)];
    size_t len = 0;
    for (size_t i = 0; i < k; i++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s${%s}",
                                i == 0 ? "" : (i + 1 == k ? " or " : ", "), near[i]);
    return efk_err_set(c->err, -EINVAL, "unknown name ${%s} in a template (did you mean %s?)", nm,
                       list);
}

static int ref_check(void *arg, const char *name, size_t n, size_t off)
{
    ctx *c = arg;
    if (!find(c->v, name, n))
        return unknown(c, name, n, off);
    return 0;
}

int run_tmpl_check(const run_vars *v, const char *t, size_t len, size_t *bad_off, efk_err *err)
{
    size_t dummy;
    ctx c = {.v = v, .bad_off = bad_off ? bad_off : &dummy, .err = err};
    return walk(t, len, lit_none, ref_check, &c, c.bad_off, err);
}

static int lit_out(void *arg, const char *s, size_t n)
{
    ctx *c = arg;
    int rc = buf_append(c->out, s, n);
    if (rc)
        return efk_err_set(c->err, rc,
                           rc == -E2BIG ? "the expanded text is too large" : "out of memory");
    return 0;
}

static int ref_out(void *arg, const char *name, size_t n, size_t off)
{
    ctx *c = arg;
    var *e = find(c->v, name, n);
    if (!e)
        return unknown(c, name, n, off);
    if (!e->value)
        return efk_err_set(c->err, -ENOENT, "${%.*s} has no value yet", (int)n, name);
    return lit_out(arg, e->value, strlen(e->value));
}

int run_tmpl_expand(const run_vars *v, const char *t, size_t len, buf *out, efk_err *err)
{
    size_t bad = 0;
    ctx c = {.v = v, .out = out, .bad_off = &bad, .err = err};
    return walk(t, len, lit_out, ref_out, &c, &bad, err);
}

int run_tmpl_expand_str(const run_vars *v, const char *t, char **out, efk_err *err)
{
    buf b;
    buf_init(&b, (size_t)64 << 20);
    int rc = run_tmpl_expand(v, t, strlen(t), &b, err);
    if (rc) {
        buf_cleanup(&b);
        return rc;
    }
    *out = buf_take(&b, NULL);
    if (!*out)
        return efk_err_set(err, -ENOMEM, "out of memory");
    return 0;
}

void run_tmpl_line_col(const char *t, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off && t[i]; i++) {
        if (t[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)t[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}
