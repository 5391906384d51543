#include "run_set.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_check.h"
#include "run_schema.h"

#define MAX_SEGS 32

static bool is_index(const char *s)
{
    return *s && strspn(s, "0123456789") == strlen(s) && (s[0] != '0' || !s[1]);
}

/* An array entry picked by name: the element whose "name", "id" or
 * "stream" is `seg`. -1 when none. */
static long find_named(const json_t *arr, const char *seg)
{
    static const char *const keys[] = {"name", "id", "stream"};
    size_t i;
    json_t *x;
    json_array_foreach (arr, i, x) {
        for (int k = 0; k < 3; k++) {
            const char *v = json_string_value(json_object_get(x, keys[k]));
            if (v && strcmp(v, seg) == 0)
                return (long)i;
        }
    }
    return -1;
}

static int suggest(run_schema *sc, const char *schema_path, int nseg, const char *origin,
                   efk_err *err)
{
    size_t n = 0;
    char **paths = run_schema_paths(sc, nseg + 1, &n);
    /* compare in the paths' own form: array indexes as "N" */
    char form[600];
    size_t fl = 0;
    const char *p = schema_path;
    while (*p && fl + 2 < sizeof(form)) {
        size_t seg = strcspn(p, ".");
        bool digits = seg > 0 && strspn(p, "0123456789") == seg;
        if (digits)
            form[fl++] = 'N';
        else
            for (size_t i = 0; i < seg && fl + 2 < sizeof(form); i++)
                form[fl++] = p[i];
        p += seg;
        if (*p == '.')
            form[fl++] = *p++;
    }
    form[fl] = '\0';
    const char *near[3];
    size_t k = run_nearest(form, (const char *const *)paths, n, near, 3);
    char list[1024] = "";
    size_t len = 0;
    for (size_t i = 0; i < k; i++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", near[i]);
    int rc;
    efk_err_pos(err, origin, 0, 0);
    efk_err_at(err, "");
    if (k)
        rc = efk_err_set(err, -EINVAL, "no setting \"%s\" in the scenario format; nearest: %s",
                         schema_path, list);
    else
        rc = efk_err_set(err, -EINVAL,
                         "no setting \"%s\" in the scenario format (see "
                         "docs/scenario-format.md)",
                         schema_path);
    run_schema_paths_free(paths);
    return rc;
}

/* Type the text as the format wants it. */
static json_t *typed(const char *text, const json_t *existing, unsigned mask, bool have_mask,
                     const char *origin, efk_err *err)
{
    json_error_t je;
    json_t *parsed = json_loads(text, JSON_DECODE_ANY, &je);
    if (parsed && (json_is_object(parsed) || json_is_array(parsed))) {
        json_decref(parsed);
        parsed = NULL;
    }
    /* the format's type first; where it allows several, the type of the
     * value already there; without a schema, JSON's reading of the text */
    unsigned want = have_mask ? mask : ~0u;
    if (existing && !json_is_null(existing)) {
        unsigned ex = 1u << json_typeof(existing);
        if (json_is_boolean(existing))
            ex = (1u << JSON_TRUE) | (1u << JSON_FALSE);
        if (json_is_number(existing))
            ex = (1u << JSON_INTEGER) | (1u << JSON_REAL);
        if (want & ex)
            want &= ex;
    } else if (!have_mask) {
        if (parsed)
            return parsed;
        return json_string(text);
    }
    /* the scalar reading first when the format allows its type */
    if (parsed && (want & (1u << json_typeof(parsed))))
        return parsed;
    if (parsed && json_is_integer(parsed) && (want & (1u << JSON_REAL))) {
        json_t *r = json_real((double)json_integer_value(parsed));
        json_decref(parsed);
        return r;
    }
    json_decref(parsed);
    if (want & (1u << JSON_STRING))
        return json_string(text);
    efk_err_pos(err, origin, 0, 0);
    const char *what = (want & (1u << JSON_INTEGER)) && !(want & (1u << JSON_REAL)) ? "an integer"
                       : (want & (1u << JSON_INTEGER))                              ? "a number"
                       : (want & (1u << JSON_TRUE)) ? "true or false"
                       : (want & (1u << JSON_NULL)) ? "null"
                                                    : "a value";
    efk_err_set(err, -EINVAL, "expected %s, got \"%s\"", what, text);
    return NULL;
}

int run_set_apply(run_doc *doc, const char *assignment, efk_err *err)
{
    char origin[600];
    snprintf(origin, sizeof(origin), "--set %s", assignment);
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment) {
        efk_err_pos(err, origin, 0, 0);
        return efk_err_set(err, -EINVAL, "expected KEY=VALUE, like fakes.es.version=8.15");
    }
    char key[512];
    snprintf(key, sizeof(key), "%.*s", (int)(eq - assignment), assignment);
    const char *value = eq + 1;
    char *segs[MAX_SEGS];
    int nseg = 0;
    char *save = NULL;
    char keycopy[512];
    snprintf(keycopy, sizeof(keycopy), "%s", key);
    for (char *s = strtok_r(keycopy, ".", &save); s; s = strtok_r(NULL, ".", &save)) {
        if (nseg == MAX_SEGS) {
            efk_err_pos(err, origin, 0, 0);
            return efk_err_set(err, -EINVAL, "the key has too many parts");
        }
        segs[nseg++] = s;
    }
    if (nseg == 0 || key[0] == '.' || key[strlen(key) - 1] == '.' || strstr(key, "..")) {
        efk_err_pos(err, origin, 0, 0);
        return efk_err_set(err, -EINVAL, "expected a dotted key like fakes.es.version");
    }
    json_t *root = run_doc_root(doc);
    /* the schema's form of the path: array entries by name become indexes */
    char schema_path[600] = "";
    json_t *cur = root;
    size_t spl = 0;
    for (int i = 0; i < nseg; i++) {
        const char *seg = segs[i];
        if (json_is_array(cur) && !is_index(seg)) {
            long idx = find_named(cur, seg);
            /* the schema knows entries by position only */
            spl +=
                (size_t)snprintf(schema_path + spl, sizeof(schema_path) - spl, "%s0", i ? "." : "");
            cur = idx >= 0 ? json_array_get(cur, (size_t)idx) : NULL;
        } else {
            spl += (size_t)snprintf(schema_path + spl, sizeof(schema_path) - spl, "%s%s",
                                    i ? "." : "", seg);
            cur = json_is_object(cur)  ? json_object_get(cur, seg)
                  : json_is_array(cur) ? json_array_get(cur, strtoul(seg, NULL, 10))
                                       : NULL;
        }
    }
    run_schema *sc = NULL;
    unsigned mask = 0;
    bool have_mask = false;
    efk_err serr;
    efk_err_init(&serr);
    if (run_schema_load(NULL, &sc, &serr) == 0) {
        if (!run_schema_path(sc, schema_path, &mask)) {
            int rc = suggest(sc, schema_path, nseg, origin, err);
            run_schema_free(sc);
            return rc;
        }
        have_mask = mask != ~0u;
        run_schema_free(sc);
    }
    /* walk the document, creating what is missing */
    char ptr[RUN_PTR_MAX] = "";
    cur = root;
    for (int i = 0; i < nseg; i++) {
        const char *seg = segs[i];
        bool last = i == nseg - 1;
        json_t *next = NULL;
        char tok[64];
        const char *ptok = seg;
        if (json_is_object(cur)) {
            next = json_object_get(cur, seg);
            if (!next && !last) {
                next = is_index(segs[i + 1]) ? json_array() : json_object();
                if (!next || json_object_set_new(cur, seg, next))
                    return efk_err_set(err, -ENOMEM, "out of memory");
            }
        } else if (json_is_array(cur)) {
            long idx = is_index(seg) ? (long)strtoul(seg, NULL, 10) : find_named(cur, seg);
            if (idx < 0 || (size_t)idx > json_array_size(cur)) {
                efk_err_pos(err, origin, 0, 0);
                efk_err_at(err, ptr);
                if (is_index(seg))
                    return efk_err_set(err, -EINVAL, "index %s is past the end (%zu entries)", seg,
                                       json_array_size(cur));
                return efk_err_set(err, -EINVAL,
                                   "no entry named \"%s\" (entries are picked by index, name, id "
                                   "or stream)",
                                   seg);
            }
            if ((size_t)idx == json_array_size(cur)) {
                /* one past the end appends (a new entry, or the value) */
                next = last ? NULL : (is_index(segs[i + 1]) ? json_array() : json_object());
                if (!last && (!next || json_array_append_new(cur, next)))
                    return efk_err_set(err, -ENOMEM, "out of memory");
                if (last && json_array_append_new(cur, json_null()))
                    return efk_err_set(err, -ENOMEM, "out of memory");
            } else {
                next = json_array_get(cur, (size_t)idx);
            }
            snprintf(tok, sizeof(tok), "%ld", idx);
            ptok = tok;
        } else {
            efk_err_pos(err, origin, 0, 0);
            efk_err_at(err, ptr);
            char d[96];
            return efk_err_set(err, -EINVAL, "cannot go inside %s",
                               run_json_describe(cur, d, sizeof(d)));
        }
        run_ptr_join(ptr, sizeof(ptr), ptr, ptok);
        if (last) {
            if (next && (json_is_object(next) || json_is_array(next))) {
                efk_err_pos(err, origin, 0, 0);
                efk_err_at(err, ptr);
                return efk_err_set(err, -EINVAL,
                                   "this is %s; --set changes single values (strings, numbers, "
                                   "booleans)",
                                   json_is_object(next) ? "an object" : "an array");
            }
            json_t *v = typed(value, next, mask, have_mask, origin, err);
            if (!v) {
                efk_err_at(err, ptr);
                return -EINVAL;
            }
            int rc = json_is_object(cur) ? json_object_set_new(cur, seg, v)
                                         : json_array_set_new(cur, strtoul(ptok, NULL, 10), v);
            if (rc)
                return efk_err_set(err, -ENOMEM, "out of memory");
            if (run_doc_override(doc, ptr, origin))
                return efk_err_set(err, -ENOMEM, "out of memory");
            return 0;
        }
        cur = next;
    }
    return 0;
}
