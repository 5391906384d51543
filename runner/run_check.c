#include "run_check.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/duration.h"

int ck_missing(run_ck *c, const char *ptr, const char *key)
{
    return run_doc_err(c->doc, c->err, -EINVAL, ptr, "missing required key \"%s\"", key);
}

size_t run_edit_distance(const char *a, const char *b)
{
    /* three rows suffice for the optimal string alignment distance */
    size_t la = strlen(a), lb = strlen(b);
    if (la > 255 || lb > 255)
        return la > lb ? la : lb;
    size_t r0[256], r1[256], r2[256];
    size_t *pp = r0, *p = r1, *cur = r2;
    for (size_t j = 0; j <= lb; j++)
        p[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = p[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (p[j - 1] + cost < best)
                best = p[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pp[j - 2] + 1 < best)
                best = pp[j - 2] + 1;
            cur[j] = best;
        }
        size_t *t = pp;
        pp = p;
        p = cur;
        cur = t;
    }
    return p[lb];
}

size_t run_nearest(const char *word, const char *const *cands, size_t ncands, const char **out,
                   size_t max)
{
    size_t limit = strlen(word) / 3;
    if (limit < 2)
        limit = 2;
    size_t n = 0;
    size_t dist[16];
    if (max > 16)
        max = 16;
    for (size_t i = 0; i < ncands; i++) {
        size_t dd = run_edit_distance(word, cands[i]);
        /* a candidate that merely extends the word ("rate" for "rat") is near too */
        if (dd > limit && !(strlen(word) >= 3 && strstr(cands[i], word)))
            continue;
        /* insertion sort into the best `max` */
        size_t pos = n;
        while (pos > 0 && dist[pos - 1] > dd)
            pos--;
        if (pos >= max)
            continue;
        size_t last = n < max ? n : max - 1;
        for (size_t k = last; k > pos; k--) {
            out[k] = out[k - 1];
            dist[k] = dist[k - 1];
        }
        out[pos] = cands[i];
        dist[pos] = dd;
        if (n < max)
            n++;
    }
    return n;
}

int ck_object(run_ck *c, const char *ptr, const json_t *v, const char *const *allowed)
{
    char tmp[96];
    if (!json_is_object(v))
        return run_doc_err(c->doc, c->err, -EINVAL, ptr, "expected an object, got %s",
                           run_json_describe(v, tmp, sizeof(tmp)));
    const char *key;
    json_t *val;
    json_object_foreach ((json_t *)v, key, val) {
        bool ok = false;
        size_t n = 0;
        for (const char *const *a = allowed; *a; a++, n++)
            if (strcmp(*a, key) == 0)
                ok = true;
        if (ok)
            continue;
        char p[RUN_PTR_MAX];
        run_ptr_join(p, sizeof(p), ptr, key);
        char list[600] = "";
        size_t len = 0;
        for (const char *const *a = allowed; *a && len + 1 < sizeof(list); a++)
            len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
                                    a == allowed ? "" : ", ", *a);
        const char *near[1];
        if (run_nearest(key, allowed, n, near, 1))
            return run_doc_err_key(c->doc, c->err, -EINVAL, p,
                                   "unknown key \"%s\" (did you mean \"%s\"?); allowed keys: %s",
                                   key, near[0], list);
        return run_doc_err_key(c->doc, c->err, -EINVAL, p, "unknown key \"%s\"; allowed keys: %s",
                               key, list);
    }
    return 0;
}

/* Fetch a member, handling "missing". Returns 1 when present, 0 when
 * absent and optional, negative on error. */
static int member(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
                  json_t **v, char *p, size_t psz)
{
    run_ptr_join(p, psz, ptr, key);
    *v = json_object_get(obj, key);
    if (*v)
        return 1;
    if (required)
        return ck_missing(c, ptr, key);
    return 0;
}

static int type_err(run_ck *c, const char *p, const char *expected, const json_t *v)
{
    char tmp[96];
    return run_doc_err(c->doc, c->err, -EINVAL, p, "expected %s, got %s", expected,
                       run_json_describe(v, tmp, sizeof(tmp)));
}

int ck_str(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
           const char **out)
{
    char p[RUN_PTR_MAX];
    json_t *v;
    int rc = member(c, ptr, obj, key, required, &v, p, sizeof(p));
    if (rc <= 0)
        return rc;
    if (!json_is_string(v))
        return type_err(c, p, "a string", v);
    *out = json_string_value(v);
    return 0;
}

int ck_name(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
            const char **out)
{
    const char *s = NULL;
    int rc = ck_str(c, ptr, obj, key, required, &s);
    if (rc || !s)
        return rc;
    size_t n = strlen(s);
    bool ok = n >= 1 && n <= 64;
    for (const char *q = s; ok && *q; q++)
        ok = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
             *q == '.' || *q == '_' || *q == '-';
    if (!ok) {
        char p[RUN_PTR_MAX];
        run_ptr_join(p, sizeof(p), ptr, key);
        return run_doc_err(c->doc, c->err, -EINVAL, p,
                           "expected a name of 1 to 64 characters from [A-Za-z0-9._-], got \"%s\"",
                           s);
    }
    *out = s;
    return 0;
}

int ck_bool(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
            bool *out)
{
    char p[RUN_PTR_MAX];
    json_t *v;
    int rc = member(c, ptr, obj, key, required, &v, p, sizeof(p));
    if (rc <= 0)
        return rc;
    if (!json_is_boolean(v))
        return type_err(c, p, "true or false", v);
    *out = json_is_true(v);
    return 0;
}

int ck_int(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
           int64_t min, int64_t max, int64_t *out)
{
    char p[RUN_PTR_MAX];
    json_t *v;
    int rc = member(c, ptr, obj, key, required, &v, p, sizeof(p));
    if (rc <= 0)
        return rc;
    if (!json_is_integer(v))
        return type_err(c, p, "an integer", v);
    json_int_t i = json_integer_value(v);
    if (i < min || i > max) {
        if (max == INT64_MAX)
            return run_doc_err(c->doc, c->err, -EINVAL, p, "expected an integer >= %lld, got %lld",
                               (long long)min, (long long)i);
        return run_doc_err(c->doc, c->err, -EINVAL, p,
                           "expected an integer from %lld to %lld, got %lld", (long long)min,
                           (long long)max, (long long)i);
    }
    *out = i;
    return 0;
}

int ck_number(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
              double min, double max, double *out)
{
    char p[RUN_PTR_MAX];
    json_t *v;
    int rc = member(c, ptr, obj, key, required, &v, p, sizeof(p));
    if (rc <= 0)
        return rc;
    if (!json_is_number(v))
        return type_err(c, p, "a number", v);
    double d = json_number_value(v);
    if (!(d >= min && d <= max))
        return run_doc_err(c->doc, c->err, -EINVAL, p, "expected a number from %g to %g, got %g",
                           min, max, d);
    *out = d;
    return 0;
}

int ck_duration(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
                int64_t *out)
{
    char p[RUN_PTR_MAX];
    json_t *v;
    int rc = member(c, ptr, obj, key, required, &v, p, sizeof(p));
    if (rc <= 0)
        return rc;
    int64_t ns;
    if (!json_is_string(v) || duration_parse(json_string_value(v), &ns)) {
        char tmp[96];
        return run_doc_err(c->doc, c->err, -EINVAL, p,
                           "expected a duration like \"5s\" (units ns, us, ms, s, m, h), got %s",
                           run_json_describe(v, tmp, sizeof(tmp)));
    }
    *out = ns;
    return 0;
}

int ck_size(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
            uint64_t *out)
{
    char p[RUN_PTR_MAX];
    json_t *v;
    int rc = member(c, ptr, obj, key, required, &v, p, sizeof(p));
    if (rc <= 0)
        return rc;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    uint64_t n;
    if (json_is_string(v) && size_parse(json_string_value(v), &n) == 0) {
        *out = n;
        return 0;
    }
    char tmp[96];
    return run_doc_err(c->doc, c->err, -EINVAL, p,
                       "expected a size like \"64k\", \"10M\" or a number of bytes, got %s",
                       run_json_describe(v, tmp, sizeof(tmp)));
}

int ck_enum(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
            const char *const *choices, int *out)
{
    char p[RUN_PTR_MAX];
    json_t *v;
    int rc = member(c, ptr, obj, key, required, &v, p, sizeof(p));
    if (rc <= 0)
        return rc;
    char list[400] = "";
    size_t len = 0;
    int i = 0;
    for (const char *const *ch = choices; *ch; ch++, i++) {
        if (json_is_string(v) && strcmp(json_string_value(v), *ch) == 0) {
            *out = i;
            return 0;
        }
        if (len + 1 < sizeof(list))
            len += (size_t)snprintf(list + len, sizeof(list) - len, "%s\"%s\"",
                                    ch == choices ? "" : ", ", *ch);
    }
    char tmp[96];
    return run_doc_err(c->doc, c->err, -EINVAL, p, "expected one of %s, got %s", list,
                       run_json_describe(v, tmp, sizeof(tmp)));
}

int ck_regex(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
             regex_t *re, bool *compiled)
{
    const char *s = NULL;
    int rc = ck_str(c, ptr, obj, key, required, &s);
    if (rc || !s)
        return rc;
    int e = regcomp(re, s, REG_EXTENDED | REG_NEWLINE);
    if (e) {
        char msg[200];
        regerror(e, re, msg, sizeof(msg));
        char p[RUN_PTR_MAX];
        run_ptr_join(p, sizeof(p), ptr, key);
        return run_doc_err(c->doc, c->err, -EINVAL, p,
                           "expected a POSIX extended regular expression: %s", msg);
    }
    *compiled = true;
    return 0;
}

int ck_array(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
             json_t **out)
{
    char p[RUN_PTR_MAX];
    json_t *v;
    int rc = member(c, ptr, obj, key, required, &v, p, sizeof(p));
    if (rc <= 0)
        return rc;
    if (!json_is_array(v))
        return type_err(c, p, "an array", v);
    *out = v;
    return 0;
}

int ck_count(run_ck *c, const char *ptr, const json_t *obj, int64_t default_min, run_count *out)
{
    int64_t exact = -1, min = -1, max = -1;
    int rc = ck_int(c, ptr, obj, "count", false, 0, INT64_MAX, &exact);
    if (!rc)
        rc = ck_int(c, ptr, obj, "min", false, 0, INT64_MAX, &min);
    if (!rc)
        rc = ck_int(c, ptr, obj, "max", false, 0, INT64_MAX, &max);
    if (rc)
        return rc;
    if (exact >= 0 && (min >= 0 || max >= 0)) {
        char p[RUN_PTR_MAX];
        run_ptr_join(p, sizeof(p), ptr, "count");
        return run_doc_err(c->doc, c->err, -EINVAL, p,
                           "\"count\" is an exact number and cannot go with \"min\" or \"max\"");
    }
    if (min >= 0 && max >= 0 && min > max) {
        char p[RUN_PTR_MAX];
        run_ptr_join(p, sizeof(p), ptr, "max");
        return run_doc_err(c->doc, c->err, -EINVAL, p, "\"max\" (%lld) is below \"min\" (%lld)",
                           (long long)max, (long long)min);
    }
    if (exact >= 0) {
        out->min = out->max = exact;
    } else {
        out->min = min >= 0 ? min : (max >= 0 ? 0 : default_min);
        out->max = max;
    }
    return 0;
}

bool run_count_ok(const run_count *rc, int64_t n)
{
    return n >= rc->min && (rc->max < 0 || n <= rc->max);
}

char *run_count_render(const run_count *rc, char *out, size_t outsz)
{
    if (rc->max >= 0 && rc->min == rc->max)
        snprintf(out, outsz, "exactly %lld", (long long)rc->min);
    else if (rc->max < 0)
        snprintf(out, outsz, "at least %lld", (long long)rc->min);
    else if (rc->min == 0)
        snprintf(out, outsz, "at most %lld", (long long)rc->max);
    else
        snprintf(out, outsz, "between %lld and %lld", (long long)rc->min, (long long)rc->max);
    return out;
}

int ck_ref(run_ck *c, const char *ptr, const json_t *obj, const char *key, const char *what,
           const char *const *names, size_t n, int *out)
{
    const char *s = NULL;
    int rc = ck_str(c, ptr, obj, key, true, &s);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0) {
            *out = (int)i;
            return 0;
        }
    char p[RUN_PTR_MAX];
    run_ptr_join(p, sizeof(p), ptr, key);
    const char *near[1];
    if (run_nearest(s, names, n, near, 1))
        return run_doc_err(c->doc, c->err, -EINVAL, p, "no %s named \"%s\" (did you mean \"%s\"?)",
                           what, s, near[0]);
    return run_doc_err(c->doc, c->err, -EINVAL, p, "no %s named \"%s\"", what, s);
}

void run_put(buf *b, const char *fmt, ...)
{
    if (!b)
        return;
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (buf_puts(b, tmp)) {
        /* full: what is there stays */
    }
}

char *run_join_names(const char *const *names, char *out, size_t outsz)
{
    size_t len = 0;
    if (outsz)
        out[0] = '\0';
    for (const char *const *n = names; *n && len + 1 < outsz; n++) {
        int w = snprintf(out + len, outsz - len, "%s%s", n == names ? "" : ", ", *n);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    return out;
}
