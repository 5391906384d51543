#include "apis_patch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *apis_merge_patch(const json_t *target, const json_t *patch)
{
    if (!json_is_object(patch))
        return json_deep_copy(patch);
    json_t *out = json_is_object(target) ? json_deep_copy(target) : json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v)
    {
        if (json_is_null(v)) {
            json_object_del(out, k);
            continue;
        }
        json_t *merged = apis_merge_patch(json_object_get(out, k), v);
        json_object_set_new(out, k, merged);
    }
    return out;
}

/* Patch metadata of core/v1: the `patchStrategy:"merge" patchMergeKey:"..."`
 * tags of the Go types. Container lists appear under pod specs. */
static const struct {
    const char *path;
    const char *key;
} MERGE_KEYS[] = {
    {"metadata.ownerReferences", "uid"},
    {"metadata.finalizers", "*"},
    {"spec.containers", "name"},
    {"spec.initContainers", "name"},
    {"spec.ephemeralContainers", "name"},
    {"spec.containers[].ports", "containerPort"},
    {"spec.initContainers[].ports", "containerPort"},
    {"spec.containers[].env", "name"},
    {"spec.initContainers[].env", "name"},
    {"spec.containers[].volumeMounts", "mountPath"},
    {"spec.initContainers[].volumeMounts", "mountPath"},
    {"spec.containers[].volumeDevices", "devicePath"},
    {"spec.initContainers[].volumeDevices", "devicePath"},
    {"spec.containers[].resizePolicy", "resourceName"},
    {"spec.volumes", "name"},
    {"spec.imagePullSecrets", "name"},
    {"spec.hostAliases", "ip"},
    {"spec.resourceClaims", "name"},
    {"spec.schedulingGates", "name"},
    {"spec.topologySpreadConstraints", "topologyKey"},
    {"spec.ports", "port"},
    {"spec.taints", "key"},
    {"status.conditions", "type"},
    {"status.addresses", "type"},
    {"status.podIPs", "ip"},
    {"status.hostIPs", "ip"},
    {"secrets", "name"},
    {"imagePullSecrets", "name"},
};

const char *apis_patch_merge_key(const char *path)
{
    for (size_t i = 0; i < sizeof(MERGE_KEYS) / sizeof(MERGE_KEYS[0]); i++)
        if (!strcmp(MERGE_KEYS[i].path, path))
            return MERGE_KEYS[i].key;
    return NULL;
}

static int smp_map(const json_t *orig, const json_t *patch, const char *path, json_t **out,
                   char *err, size_t errsz);

static char *join_path(const char *base, const char *key, bool elem)
{
    size_t n = strlen(base) + strlen(key) + 4;
    char *p = malloc(n);
    snprintf(p, n, "%s%s%s%s", base, *base ? "." : "", key, elem ? "[]" : "");
    return p;
}

/* A copy of a patch value with every `$` directive removed (for values that
 * have nothing to merge into). */
static json_t *strip_directives(const json_t *v)
{
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c)
        {
            if (k[0] == '$' || json_is_null(c))
                continue;
            json_object_set_new(o, k, strip_directives(c));
        }
        return o;
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *c;
        json_array_foreach((json_t *)v, i, c)
        {
            if (json_is_object(c) && json_object_get(c, "$patch"))
                continue;
            json_array_append_new(a, strip_directives(c));
        }
        return a;
    }
    return json_deep_copy(v);
}

static bool elem_key_equal(const json_t *a, const json_t *b, const char *key)
{
    json_t *x = json_object_get(a, key), *y = json_object_get(b, key);
    return x && y && json_equal(x, y);
}

static int smp_list(const json_t *orig, const json_t *patch, const char *path, const char *key,
                    json_t **out, char *err, size_t errsz)
{
    json_t *res = json_is_array(orig) ? json_deep_copy(orig) : json_array();
    size_t i;
    json_t *pe;
    if (!strcmp(key, "*")) { /* a set of primitives */
        json_array_foreach((json_t *)patch, i, pe)
        {
            bool have = false;
            size_t k;
            json_t *e;
            json_array_foreach(res, k, e) if (json_equal(e, pe)) have = true;
            if (!have)
                json_array_append(res, pe);
        }
        *out = res;
        return 0;
    }
    json_array_foreach((json_t *)patch, i, pe)
    {
        if (!json_is_object(pe)) {
            json_decref(res);
            snprintf(err, errsz, "unable to find api field in struct %s for the json field: %s",
                     path, "(element is not an object)");
            return -EINVAL;
        }
        const char *dir = json_string_value(json_object_get(pe, "$patch"));
        if (dir && !strcmp(dir, "replace")) {
            json_decref(res);
            *out = strip_directives(patch);
            return 0;
        }
        if (!json_object_get(pe, key)) {
            json_decref(res);
            snprintf(err, errsz, "map: %s does not contain declared merge key: %s", "patch element",
                     key);
            return -EINVAL;
        }
        size_t k;
        json_t *e;
        ssize_t found = -1;
        json_array_foreach(res, k, e)
        {
            if (json_is_object(e) && elem_key_equal(e, pe, key)) {
                found = (ssize_t)k;
                break;
            }
        }
        if (dir && !strcmp(dir, "delete")) {
            if (found >= 0)
                json_array_remove(res, (size_t)found);
            continue;
        }
        if (found >= 0) {
            json_t *merged = NULL;
            int rc = smp_map(json_array_get(res, (size_t)found), pe, path, &merged, err, errsz);
            if (rc) {
                json_decref(res);
                return rc;
            }
            json_array_set_new(res, (size_t)found, merged);
        } else {
            json_array_append_new(res, strip_directives(pe));
        }
    }
    *out = res;
    return 0;
}

/* $setElementOrder/<field>: items named in the order list come first in that
 * order, then the others in the order they had. */
static void apply_order(json_t *list, const json_t *order, const char *key)
{
    if (!json_is_array(list) || !json_is_array(order))
        return;
    json_t *sorted = json_array();
    json_t *used = json_array();
    size_t n = json_array_size(list);
    char *taken = calloc(n + 1, 1);
    size_t i;
    json_t *o;
    json_array_foreach((json_t *)order, i, o)
    {
        for (size_t k = 0; k < n; k++) {
            json_t *e = json_array_get(list, k);
            bool match = key && strcmp(key, "*") ? elem_key_equal(e, o, key) : json_equal(e, o);
            if (!taken[k] && match) {
                taken[k] = 1;
                json_array_append(sorted, e);
                break;
            }
        }
    }
    for (size_t k = 0; k < n; k++)
        if (!taken[k])
            json_array_append(sorted, json_array_get(list, k));
    json_array_clear(list);
    json_array_extend(list, sorted);
    json_decref(sorted);
    json_decref(used);
    free(taken);
}

static int smp_map(const json_t *orig, const json_t *patch, const char *path, json_t **out,
                   char *err, size_t errsz)
{
    const char *dir = json_string_value(json_object_get(patch, "$patch"));
    if (dir && !strcmp(dir, "replace")) {
        *out = strip_directives(patch);
        return 0;
    }
    if (dir && strcmp(dir, "merge") != 0 && strcmp(dir, "delete") != 0) {
        snprintf(err, errsz, "Unknown patch type: %s in map: %s", dir, path);
        return -EINVAL;
    }
    json_t *res = json_is_object(orig) ? json_deep_copy(orig) : json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v)
    {
        if (!strcmp(k, "$patch") || !strcmp(k, "$retainKeys") ||
            !strncmp(k, "$setElementOrder/", 17))
            continue;
        if (!strncmp(k, "$deleteFromPrimitiveList/", 25)) {
            json_t *list = json_object_get(res, k + 25);
            size_t i;
            json_t *del;
            json_array_foreach(v, i, del)
            {
                for (size_t j = json_array_size(list); j-- > 0;)
                    if (json_equal(json_array_get(list, j), del))
                        json_array_remove(list, j);
            }
            continue;
        }
        if (k[0] == '$') {
            json_decref(res);
            snprintf(err, errsz, "unknown patch directive %s in %s", k, *path ? path : "object");
            return -EINVAL;
        }
        if (json_is_null(v)) {
            json_object_del(res, k);
            continue;
        }
        json_t *cur = json_object_get(res, k);
        json_t *merged = NULL;
        int rc = 0;
        if (json_is_object(v)) {
            const char *vd = json_string_value(json_object_get(v, "$patch"));
            if (vd && !strcmp(vd, "delete")) {
                json_object_del(res, k);
                continue;
            }
            char *sub = join_path(path, k, false);
            rc = smp_map(json_is_object(cur) ? cur : NULL, v, sub, &merged, err, errsz);
            free(sub);
        } else if (json_is_array(v)) {
            char *sub = join_path(path, k, false);
            const char *key = apis_patch_merge_key(sub);
            free(sub);
            if (key) {
                char *esub = join_path(path, k, true);
                rc = smp_list(cur, v, esub, key, &merged, err, errsz);
                free(esub);
            } else {
                merged = strip_directives(v);
            }
        } else {
            merged = json_deep_copy(v);
        }
        if (rc) {
            json_decref(res);
            return rc;
        }
        json_object_set_new(res, k, merged);
    }
    /* Orders, then retained keys. */
    json_object_foreach((json_t *)patch, k, v)
    {
        if (strncmp(k, "$setElementOrder/", 17) != 0)
            continue;
        char *sub = join_path(path, k + 17, false);
        apply_order(json_object_get(res, k + 17), v, apis_patch_merge_key(sub));
        free(sub);
    }
    json_t *retain = json_object_get(patch, "$retainKeys");
    if (json_is_array(retain)) {
        void *tmp;
        json_object_foreach_safe(res, tmp, k, v)
        {
            bool keep = false;
            size_t i;
            json_t *r;
            json_array_foreach(retain, i, r) if (json_is_string(r) &&
                                                 !strcmp(json_string_value(r), k)) keep = true;
            if (!keep)
                json_object_del(res, k);
        }
    }
    *out = res;
    return 0;
}

int apis_strategic_merge(const json_t *orig, const json_t *patch, json_t **out, char *err,
                         size_t errsz)
{
    if (!json_is_object(patch)) {
        snprintf(err, errsz, "couldn't get version/kind; json parse error: %s",
                 "json: cannot unmarshal array into Go value of type map[string]interface {}");
        return -EINVAL;
    }
    return smp_map(orig, patch, "", out, err, errsz);
}

/* ---- RFC 6902 ---- */

/* Resolve a JSON pointer to (parent, last token). Returns 0 or -ENOENT. */
static int ptr_parent(json_t *doc, const char *ptr, json_t **parent, char **last)
{
    if (ptr[0] != '/')
        return -EINVAL;
    char *copy = strdup(ptr + 1);
    json_t *cur = doc;
    char *save = copy, *tok;
    /* split manually to keep empty tokens */
    char *segs[64];
    size_t nseg = 0;
    while (nseg < 64) {
        tok = save;
        char *sl = strchr(save, '/');
        if (sl)
            *sl = '\0';
        segs[nseg++] = tok;
        if (!sl)
            break;
        save = sl + 1;
    }
    for (size_t i = 0; i < nseg; i++) {
        /* unescape ~1 -> /, ~0 -> ~ */
        char *s = segs[i], *w = segs[i];
        for (; *s; s++) {
            if (s[0] == '~' && s[1] == '1') {
                *w++ = '/';
                s++;
            } else if (s[0] == '~' && s[1] == '0') {
                *w++ = '~';
                s++;
            } else {
                *w++ = *s;
            }
        }
        *w = '\0';
    }
    for (size_t i = 0; i + 1 < nseg; i++) {
        if (json_is_object(cur)) {
            cur = json_object_get(cur, segs[i]);
        } else if (json_is_array(cur)) {
            char *end;
            long idx = strtol(segs[i], &end, 10);
            cur = (*end || idx < 0) ? NULL : json_array_get(cur, (size_t)idx);
        } else {
            cur = NULL;
        }
        if (!cur) {
            free(copy);
            return -ENOENT;
        }
    }
    *parent = cur;
    *last = strdup(segs[nseg - 1]);
    free(copy);
    return 0;
}

static json_t *ptr_get(json_t *doc, const char *ptr)
{
    if (!*ptr)
        return doc;
    json_t *parent;
    char *last;
    if (ptr_parent(doc, ptr, &parent, &last))
        return NULL;
    json_t *v = NULL;
    if (json_is_object(parent)) {
        v = json_object_get(parent, last);
    } else if (json_is_array(parent)) {
        char *end;
        long idx = strtol(last, &end, 10);
        if (!*end && idx >= 0)
            v = json_array_get(parent, (size_t)idx);
    }
    free(last);
    return v;
}

static int ptr_remove(json_t *doc, const char *ptr, json_t **removed)
{
    json_t *parent;
    char *last;
    if (ptr_parent(doc, ptr, &parent, &last))
        return -ENOENT;
    int rc = -ENOENT;
    if (json_is_object(parent) && json_object_get(parent, last)) {
        if (removed)
            *removed = json_incref(json_object_get(parent, last));
        json_object_del(parent, last);
        rc = 0;
    } else if (json_is_array(parent)) {
        char *end;
        long idx = strtol(last, &end, 10);
        if (!*end && idx >= 0 && (size_t)idx < json_array_size(parent)) {
            if (removed)
                *removed = json_incref(json_array_get(parent, (size_t)idx));
            json_array_remove(parent, (size_t)idx);
            rc = 0;
        }
    }
    free(last);
    return rc;
}

/* Add steals `val`. */
static int ptr_add(json_t *doc, const char *ptr, json_t *val, bool replace)
{
    json_t *parent;
    char *last;
    if (ptr_parent(doc, ptr, &parent, &last)) {
        json_decref(val);
        return -ENOENT;
    }
    int rc = -ENOENT;
    if (json_is_object(parent)) {
        if (!replace || json_object_get(parent, last)) {
            json_object_set_new(parent, last, val);
            val = NULL;
            rc = 0;
        }
    } else if (json_is_array(parent)) {
        size_t n = json_array_size(parent);
        if (!replace && !strcmp(last, "-")) {
            json_array_append_new(parent, val);
            val = NULL;
            rc = 0;
        } else {
            char *end;
            long idx = strtol(last, &end, 10);
            if (!*end && idx >= 0 && (replace ? (size_t)idx < n : (size_t)idx <= n)) {
                if (replace)
                    json_array_set_new(parent, (size_t)idx, val);
                else
                    json_array_insert_new(parent, (size_t)idx, val);
                val = NULL;
                rc = 0;
            }
        }
    }
    json_decref(val);
    free(last);
    return rc;
}

int apis_json_patch(const json_t *orig, const json_t *ops, json_t **out, char *err, size_t errsz)
{
    if (!json_is_array(ops)) {
        snprintf(err, errsz, "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
        return -EINVAL;
    }
    json_t *doc = json_deep_copy(orig);
    size_t i;
    json_t *op;
    json_array_foreach((json_t *)ops, i, op)
    {
        const char *o = json_string_value(json_object_get(op, "op"));
        const char *path = json_string_value(json_object_get(op, "path"));
        const char *from = json_string_value(json_object_get(op, "from"));
        json_t *value = json_object_get(op, "value");
        int rc = 0;
        if (!o || !path) {
            snprintf(err, errsz, "the server rejected our request due to an error in our request");
            rc = -EINVAL;
        } else if (!strcmp(o, "add")) {
            rc = value ? ptr_add(doc, path, json_deep_copy(value), false) : -EINVAL;
            if (rc)
                snprintf(err, errsz,
                         "add operation does not apply: doc is missing path: \"%s\": missing value",
                         path);
        } else if (!strcmp(o, "replace")) {
            rc = value ? ptr_add(doc, path, json_deep_copy(value), true) : -EINVAL;
            if (rc)
                snprintf(err, errsz,
                         "replace operation does not apply: doc is missing key: %s: missing value",
                         path);
        } else if (!strcmp(o, "remove")) {
            rc = ptr_remove(doc, path, NULL);
            if (rc)
                snprintf(
                    err, errsz,
                    "remove operation does not apply: doc is missing path: \"%s\": missing value",
                    path);
        } else if (!strcmp(o, "test")) {
            json_t *cur = ptr_get(doc, path);
            if (!cur || !value || !json_equal(cur, value)) {
                snprintf(err, errsz, "testing value %s failed: test failed", path);
                rc = -EINVAL;
            }
        } else if (!strcmp(o, "move") || !strcmp(o, "copy")) {
            json_t *v = from ? ptr_get(doc, from) : NULL;
            if (!v) {
                snprintf(err, errsz,
                         "%s operation does not apply: doc is missing from path: %s: missing value",
                         o, from ? from : "");
                rc = -EINVAL;
            } else {
                json_t *val = json_deep_copy(v);
                if (!strcmp(o, "move"))
                    ptr_remove(doc, from, NULL);
                rc = ptr_add(doc, path, val, false);
                if (rc)
                    snprintf(err, errsz,
                             "%s operation does not apply: doc is missing destination path: %s", o,
                             path);
            }
        } else {
            snprintf(err, errsz, "Unexpected kind: %s", o);
            rc = -EINVAL;
        }
        if (rc) {
            json_decref(doc);
            return -EINVAL;
        }
    }
    *out = doc;
    return 0;
}
