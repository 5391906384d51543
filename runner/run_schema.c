#include "run_schema.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "run_json.h"

#define MAX_DOCS  16
#define MAX_DEPTH 64
#define MAX_PATHS 20000

typedef struct sdoc {
    char *path;
    json_t *root;
} sdoc;

struct run_schema {
    sdoc docs[MAX_DOCS];
    size_t ndocs;
    char *dir;
};

/* A node and the file it lives in (for relative $refs). */
typedef struct snode {
    const json_t *n;
    size_t doc;
} snode;

/* The schema files compiled in (runner/CMakeLists.txt), by path relative to
 * scenarios/. They live under this pseudo-directory so relative $refs
 * resolve the same way as on disk. */
typedef struct efk_embedded_file {
    const char *path;
    const char *data;
    size_t len;
} efk_embedded_file;
extern const efk_embedded_file run_schema_embedded[];
#define EMBEDDED_DIR "(built-in)"

const char *run_schema_default_dir(void)
{
    const char *e = getenv("EFKSIM_SCHEMA_DIR");
    if (e && *e)
        return e;
    return EMBEDDED_DIR;
}

/* Load a schema document from the built-in set or from disk. */
static json_t *schema_file_load(const char *path, json_error_t *je)
{
    size_t dl = strlen(EMBEDDED_DIR);
    if (strncmp(path, EMBEDDED_DIR "/", dl + 1) != 0)
        return json_load_file(path, JSON_REJECT_DUPLICATES, je);
    for (const efk_embedded_file *f = run_schema_embedded; f->path; f++)
        if (strcmp(f->path, path + dl + 1) == 0)
            return json_loadb(f->data, f->len, JSON_REJECT_DUPLICATES, je);
    snprintf(je->text, sizeof(je->text), "no such built-in schema file");
    je->line = 0;
    return NULL;
}

static int load_doc(run_schema *s, const char *path, size_t *idx, efk_err *err)
{
    for (size_t i = 0; i < s->ndocs; i++)
        if (strcmp(s->docs[i].path, path) == 0) {
            *idx = i;
            return 0;
        }
    if (s->ndocs >= MAX_DOCS)
        return efk_err_set(err, -ENOSPC, "too many schema files");
    json_error_t je;
    json_t *root = schema_file_load(path, &je);
    if (!root)
        return efk_err_set(err, -EINVAL, "schema %s: %s (line %d)", path, je.text, je.line);
    s->docs[s->ndocs].path = strdup(path);
    s->docs[s->ndocs].root = root;
    *idx = s->ndocs++;
    return 0;
}

static char *dir_of(const char *p)
{
    const char *slash = strrchr(p, '/');
    return slash ? strndup(p, (size_t)(slash - p)) : strdup(".");
}

/* Follow $ref chains. Returns false when a ref cannot be resolved. */
static bool resolve(run_schema *s, snode *nd)
{
    for (int hops = 0; hops < 32; hops++) {
        const json_t *ref = json_object_get(nd->n, "$ref");
        if (!json_is_string(ref))
            return true;
        const char *r = json_string_value(ref);
        const char *hash = strchr(r, '#');
        size_t doc = nd->doc;
        if (hash != r) {
            size_t flen = hash ? (size_t)(hash - r) : strlen(r);
            char *d = dir_of(s->docs[nd->doc].path);
            char *file = strndup(r, flen);
            char *path = d && file ? fs_join(d, file) : NULL;
            free(d);
            free(file);
            if (!path)
                return false;
            int rc = load_doc(s, path, &doc, NULL);
            free(path);
            if (rc)
                return false;
        }
        const json_t *target = s->docs[doc].root;
        if (hash && hash[1])
            target = run_ptr_get((json_t *)target, hash + 1);
        if (!target)
            return false;
        nd->n = target;
        nd->doc = doc;
    }
    return false;
}

int run_schema_load(const char *dir, run_schema **out, efk_err *err)
{
    if (!dir)
        dir = run_schema_default_dir();
    if (!dir)
        return efk_err_set(err, -ENOENT, "no schema directory (set EFKSIM_SCHEMA_DIR)");
    run_schema *s = calloc(1, sizeof(*s));
    if (!s)
        return efk_err_set(err, -ENOMEM, "out of memory");
    s->dir = strdup(dir);
    char *path = fs_join(dir, "scenario.schema.json");
    size_t idx;
    int rc = path ? load_doc(s, path, &idx, err) : -ENOMEM;
    free(path);
    if (rc) {
        run_schema_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void run_schema_free(run_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ndocs; i++) {
        free(s->docs[i].path);
        json_decref(s->docs[i].root);
    }
    free(s->dir);
    free(s);
}

/* ---- validation ---- */

static unsigned type_bit(const char *t)
{
    if (!strcmp(t, "object"))
        return 1u << JSON_OBJECT;
    if (!strcmp(t, "array"))
        return 1u << JSON_ARRAY;
    if (!strcmp(t, "string"))
        return 1u << JSON_STRING;
    if (!strcmp(t, "integer"))
        return 1u << JSON_INTEGER;
    if (!strcmp(t, "number"))
        return (1u << JSON_INTEGER) | (1u << JSON_REAL);
    if (!strcmp(t, "boolean"))
        return (1u << JSON_TRUE) | (1u << JSON_FALSE);
    if (!strcmp(t, "null"))
        return 1u << JSON_NULL;
    return 0;
}

/* The types a node allows (all when it says nothing). */
static unsigned node_types(run_schema *s, snode nd, int depth)
{
    if (depth > MAX_DEPTH || !resolve(s, &nd))
        return ~0u;
    const json_t *t = json_object_get(nd.n, "type");
    unsigned mask = 0;
    if (json_is_string(t)) {
        mask = type_bit(json_string_value(t));
    } else if (json_is_array(t)) {
        size_t i;
        json_t *x;
        json_array_foreach (t, i, x)
            mask |= type_bit(json_string_value(x) ?: "");
    }
    const char *comb[] = {"oneOf", "anyOf"};
    for (int k = 0; k < 2; k++) {
        const json_t *arr = json_object_get(nd.n, comb[k]);
        if (json_is_array(arr)) {
            unsigned m = 0;
            size_t i;
            json_t *x;
            json_array_foreach (arr, i, x)
                m |= node_types(s, (snode){x, nd.doc}, depth + 1);
            mask = mask ? (mask & m) : m;
        }
    }
    const json_t *en = json_object_get(nd.n, "enum");
    if (!mask && json_is_array(en)) {
        size_t i;
        json_t *x;
        json_array_foreach (en, i, x)
            mask |= 1u << json_typeof(x);
    }
    const json_t *cn = json_object_get(nd.n, "const");
    if (!mask && cn)
        mask = 1u << json_typeof(cn);
    if (mask & (1u << JSON_TRUE))
        mask |= 1u << JSON_FALSE;
    if (mask & (1u << JSON_FALSE))
        mask |= 1u << JSON_TRUE;
    return mask ? mask : ~0u;
}


static bool json_equal_any(const json_t *a, const json_t *b)
{
    return json_equal((json_t *)a, (json_t *)b);
}

static int validate(run_schema *s, snode nd, const json_t *v, const char *ptr, efk_err *err,
                    int depth);

static bool pattern_match(const char *pat, const char *str)
{
    regex_t re;
    if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB))
        return true; /* a pattern we cannot read does not fail documents */
    bool ok = regexec(&re, str, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static int validate_object(run_schema *s, snode nd, const json_t *v, const char *ptr, efk_err *err,
                           int depth)
{
    const json_t *props = json_object_get(nd.n, "properties");
    const json_t *pprops = json_object_get(nd.n, "patternProperties");
    const json_t *addl = json_object_get(nd.n, "additionalProperties");
    const json_t *req = json_object_get(nd.n, "required");
    size_t i;
    json_t *x;
    json_array_foreach (req, i, x) {
        if (json_is_string(x) && !json_object_get(v, json_string_value(x)))
            return efk_err_invalid(err, ptr, "missing required key \"%s\"", json_string_value(x));
    }
    const json_t *minp = json_object_get(nd.n, "minProperties");
    const json_t *maxp = json_object_get(nd.n, "maxProperties");
    if (json_is_integer(minp) && (json_int_t)json_object_size(v) < json_integer_value(minp))
        return efk_err_invalid(err, ptr, "expected at least %lld keys", (long long)json_integer_value(minp));
    if (json_is_integer(maxp) && (json_int_t)json_object_size(v) > json_integer_value(maxp))
        return efk_err_invalid(err, ptr, "expected at most %lld keys", (long long)json_integer_value(maxp));
    const char *k;
    json_t *val;
    json_object_foreach ((json_t *)v, k, val) {
        char p[RUN_PTR_MAX];
        run_ptr_join(p, sizeof(p), ptr, k);
        const json_t *sub = json_object_get(props, k);
        int rc;
        if (sub) {
            if ((rc = validate(s, (snode){sub, nd.doc}, val, p, err, depth + 1)))
                return rc;
            continue;
        }
        bool matched = false;
        const char *pk;
        json_t *pv;
        json_object_foreach ((json_t *)pprops, pk, pv) {
            if (pattern_match(pk, k)) {
                matched = true;
                if ((rc = validate(s, (snode){pv, nd.doc}, val, p, err, depth + 1)))
                    return rc;
            }
        }
        if (matched)
            continue;
        if (json_is_false(addl))
            return efk_err_invalid(err, p, "unknown key \"%s\"", k);
        if (json_is_object(addl) &&
            (rc = validate(s, (snode){addl, nd.doc}, val, p, err, depth + 1)))
            return rc;
    }
    return 0;
}

static int validate(run_schema *s, snode nd, const json_t *v, const char *ptr, efk_err *err,
                    int depth)
{
    if (depth > MAX_DEPTH)
        return efk_err_invalid(err, ptr, "schema nests too deep");
    if (json_is_true(nd.n))
        return 0;
    if (!resolve(s, &nd))
        return 0; /* a part of the format whose file is not there: its owner checks it */
    if (json_is_false(nd.n))
        return efk_err_invalid(err, ptr, "no value is allowed here");
    const json_t *t = json_object_get(nd.n, "type");
    if (t) {
        unsigned mask = 0;
        if (json_is_string(t)) {
            mask = type_bit(json_string_value(t));
        } else {
            size_t i;
            json_t *x;
            json_array_foreach (t, i, x)
                mask |= type_bit(json_string_value(x) ?: "");
        }
        if (mask & (1u << JSON_TRUE))
            mask |= 1u << JSON_FALSE;
        if (mask & (1u << JSON_FALSE))
            mask |= 1u << JSON_TRUE;
        if (!(mask & (1u << json_typeof(v)))) {
            char *ts = json_dumps(t, JSON_ENCODE_ANY | JSON_COMPACT);
            int rc = efk_err_invalid(err, ptr, "expected type %s", ts ? ts : "?");
            free(ts);
            return rc;
        }
    }
    const json_t *en = json_object_get(nd.n, "enum");
    if (json_is_array(en)) {
        bool ok = false;
        size_t i;
        json_t *x;
        json_array_foreach (en, i, x)
            ok = ok || json_equal_any(x, v);
        if (!ok)
            return efk_err_invalid(err, ptr, "not one of the allowed values");
    }
    const json_t *cn = json_object_get(nd.n, "const");
    if (cn && !json_equal_any(cn, v))
        return efk_err_invalid(err, ptr, "not the required constant");
    if (json_is_number(v)) {
        const json_t *mn = json_object_get(nd.n, "minimum");
        const json_t *mx = json_object_get(nd.n, "maximum");
        if (json_is_number(mn) && json_number_value(v) < json_number_value(mn))
            return efk_err_invalid(err, ptr, "below the minimum %g", json_number_value(mn));
        if (json_is_number(mx) && json_number_value(v) > json_number_value(mx))
            return efk_err_invalid(err, ptr, "above the maximum %g", json_number_value(mx));
    }
    if (json_is_string(v)) {
        const json_t *pat = json_object_get(nd.n, "pattern");
        if (json_is_string(pat) && !pattern_match(json_string_value(pat), json_string_value(v)))
            return efk_err_invalid(err, ptr, "does not match the pattern %s", json_string_value(pat));
        const json_t *ml = json_object_get(nd.n, "minLength");
        if (json_is_integer(ml) && (json_int_t)json_string_length(v) < json_integer_value(ml))
            return efk_err_invalid(err, ptr, "shorter than %lld", (long long)json_integer_value(ml));
    }
    if (json_is_object(v)) {
        int rc = validate_object(s, nd, v, ptr, err, depth);
        if (rc)
            return rc;
    }
    if (json_is_array(v)) {
        const json_t *items = json_object_get(nd.n, "items");
        const json_t *prefix = json_object_get(nd.n, "prefixItems");
        const json_t *mi = json_object_get(nd.n, "minItems");
        const json_t *ma = json_object_get(nd.n, "maxItems");
        if (json_is_integer(mi) && (json_int_t)json_array_size(v) < json_integer_value(mi))
            return efk_err_invalid(err, ptr, "expected at least %lld items",
                        (long long)json_integer_value(mi));
        if (json_is_integer(ma) && (json_int_t)json_array_size(v) > json_integer_value(ma))
            return efk_err_invalid(err, ptr, "expected at most %lld items", (long long)json_integer_value(ma));
        size_t i;
        json_t *x;
        json_array_foreach (v, i, x) {
            char p[RUN_PTR_MAX];
            run_ptr_index(p, sizeof(p), ptr, i);
            const json_t *sub = i < json_array_size(prefix) ? json_array_get(prefix, i) : items;
            int rc;
            if (sub && (rc = validate(s, (snode){sub, nd.doc}, x, p, err, depth + 1)))
                return rc;
        }
    }
    const json_t *nt = json_object_get(nd.n, "not");
    if (nt && validate(s, (snode){nt, nd.doc}, v, ptr, NULL, depth + 1) == 0)
        return efk_err_invalid(err, ptr, "has a combination of keys or values that is not allowed");
    const json_t *all = json_object_get(nd.n, "allOf");
    size_t i;
    json_t *x;
    json_array_foreach (all, i, x) {
        int rc = validate(s, (snode){x, nd.doc}, v, ptr, err, depth + 1);
        if (rc)
            return rc;
    }
    const char *comb[] = {"oneOf", "anyOf"};
    for (int k = 0; k < 2; k++) {
        const json_t *arr = json_object_get(nd.n, comb[k]);
        if (!json_is_array(arr))
            continue;
        size_t ok = 0;
        efk_err first;
        efk_err_init(&first);
        bool have_first = false;
        json_array_foreach (arr, i, x) {
            efk_err e;
            efk_err_init(&e);
            if (validate(s, (snode){x, nd.doc}, v, ptr, &e, depth + 1) == 0)
                ok++;
            else if (!have_first || strlen(e.pointer) > strlen(first.pointer)) {
                /* the deepest failure says most about what went wrong */
                first = e;
                have_first = true;
            }
        }
        if (ok == 0) {
            if (err && have_first) {
                *err = first;
                return -EINVAL;
            }
            return efk_err_invalid(err, ptr, "matches none of the allowed forms");
        }
        if (k == 0 && ok > 1)
            return efk_err_invalid(err, ptr, "matches %zu of the forms of a oneOf, not exactly one", ok);
    }
    return 0;
}

int run_schema_validate(run_schema *s, const json_t *doc, efk_err *err)
{
    return validate(s, (snode){s->docs[0].root, 0}, doc, "", err, 0);
}

/* ---- paths ---- */

/* The sub-schemas a node is made of (itself, or its oneOf/anyOf/allOf
 * members), resolved. */
static size_t alternatives(run_schema *s, snode nd, snode *out, size_t max, int depth)
{
    if (depth > 8 || !resolve(s, &nd) || max == 0)
        return 0;
    size_t n = 0;
    out[n++] = nd;
    const char *comb[] = {"oneOf", "anyOf", "allOf"};
    for (int k = 0; k < 3; k++) {
        const json_t *arr = json_object_get(nd.n, comb[k]);
        size_t i;
        json_t *x;
        json_array_foreach (arr, i, x) {
            if (n < max)
                n += alternatives(s, (snode){x, nd.doc}, out + n, max - n, depth + 1);
        }
    }
    return n;
}

static const json_t *open_schema(void)
{
    static json_t *t;
    if (!t)
        t = json_true();
    return t;
}

static size_t child(run_schema *s, snode nd, const char *seg, snode *out, size_t max)
{
    snode probe = nd;
    if (json_is_true(nd.n) || !resolve(s, &probe)) {
        /* true, or a $ref to a file that is not there (yet): anything goes
         * below it; whoever owns that part of the format checks it */
        out[0] = (snode){open_schema(), nd.doc};
        return 1;
    }
    snode alts[32];
    size_t na = alternatives(s, nd, alts, 32, 0);
    size_t n = 0;
    bool numeric = *seg && strspn(seg, "0123456789") == strlen(seg);
    for (size_t i = 0; i < na && n < max; i++) {
        const json_t *props = json_object_get(alts[i].n, "properties");
        const json_t *sub = json_object_get(props, seg);
        if (sub) {
            out[n++] = (snode){sub, alts[i].doc};
            continue;
        }
        const char *pk;
        json_t *pv;
        bool found = false;
        json_object_foreach ((json_t *)json_object_get(alts[i].n, "patternProperties"), pk, pv) {
            if (!found && n < max && pattern_match(pk, seg)) {
                out[n++] = (snode){pv, alts[i].doc};
                found = true;
            }
        }
        if (found)
            continue;
        const json_t *addl = json_object_get(alts[i].n, "additionalProperties");
        if (json_is_object(addl) && n < max) {
            out[n++] = (snode){addl, alts[i].doc};
            continue;
        }
        if (numeric) {
            const json_t *items = json_object_get(alts[i].n, "items");
            const json_t *prefix = json_object_get(alts[i].n, "prefixItems");
            size_t idx = (size_t)strtoul(seg, NULL, 10);
            const json_t *it = idx < json_array_size(prefix) ? json_array_get(prefix, idx) : items;
            if (json_is_object(it) && n < max)
                out[n++] = (snode){it, alts[i].doc};
        }
    }
    return n;
}

int run_schema_path(run_schema *s, const char *dotted, unsigned *types)
{
    snode cur[16];
    size_t ncur = 1;
    cur[0] = (snode){s->docs[0].root, 0};
    char *copy = strdup(dotted);
    if (!copy)
        return 0;
    char *save = NULL;
    for (char *seg = strtok_r(copy, ".", &save); seg; seg = strtok_r(NULL, ".", &save)) {
        snode next[16];
        size_t nn = 0;
        for (size_t i = 0; i < ncur && nn < 16; i++)
            nn += child(s, cur[i], seg, next + nn, 16 - nn);
        if (!nn) {
            free(copy);
            return 0;
        }
        memcpy(cur, next, nn * sizeof(*next));
        ncur = nn;
    }
    free(copy);
    unsigned mask = 0;
    for (size_t i = 0; i < ncur; i++)
        mask |= node_types(s, cur[i], 0);
    if (types)
        *types = mask;
    return 1;
}

typedef struct plist {
    char **v;
    size_t n, alloc;
} plist;

static void padd(plist *l, const char *p)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], p) == 0)
            return;
    if (l->n >= MAX_PATHS)
        return;
    if (l->n + 2 > l->alloc) {
        size_t na = l->alloc ? l->alloc * 2 : 256;
        char **nv = realloc(l->v, na * sizeof(*nv));
        if (!nv)
            return;
        l->v = nv;
        l->alloc = na;
    }
    char *d = strdup(p);
    if (d) {
        l->v[l->n++] = d;
        l->v[l->n] = NULL;
    }
}

static void walk_paths(run_schema *s, snode nd, const char *prefix, int depth, int max, plist *l)
{
    if (depth >= max)
        return;
    snode alts[32];
    size_t na = alternatives(s, nd, alts, 32, 0);
    for (size_t i = 0; i < na; i++) {
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)json_object_get(alts[i].n, "properties"), k, v) {
            char p[512];
            snprintf(p, sizeof(p), "%s%s%s", prefix, *prefix ? "." : "", k);
            padd(l, p);
            walk_paths(s, (snode){v, alts[i].doc}, p, depth + 1, max, l);
        }
        const json_t *items = json_object_get(alts[i].n, "items");
        if (json_is_object(items)) {
            char p[512];
            snprintf(p, sizeof(p), "%s%sN", prefix, *prefix ? "." : "");
            walk_paths(s, (snode){items, alts[i].doc}, p, depth + 1, max, l);
        }
    }
}

char **run_schema_paths(run_schema *s, int depth, size_t *n)
{
    plist l = {0};
    walk_paths(s, (snode){s->docs[0].root, 0}, "", 0, depth, &l);
    *n = l.n;
    if (!l.v)
        l.v = calloc(1, sizeof(char *));
    return l.v;
}

void run_schema_paths_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}
