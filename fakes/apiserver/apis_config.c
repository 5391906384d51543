/*
 * apis_config.c - the scenario's "fakes.apiserver" section into an
 * efk_apiserver_config. Every error names the JSON pointer of the value
 * (relative to the section) and what was expected; unknown keys list the
 * allowed ones. docs/fakes/apiserver.md is the reference for the format.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "efksim.h"
#include "core/duration.h"
#include "core/fsutil.h"
#include "apis_auth.h"
#include "apis_persona.h"
#include "apis_res.h"

#define APIS_MAX_OBJECT_FILE (64u * 1024 * 1024)

void efk_apiserver_config_init(efk_apiserver_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->insecure = true;
    cfg->anonymous = -1;
    cfg->default_namespaces = true;
}

static void identity_cleanup(efk_apiserver_identity *id)
{
    free(id->name);
    for (size_t k = 0; k < id->ngroups; k++)
        free(id->groups[k]);
    free(id->groups);
    free(id->token);
    json_decref(id->rules);
}

void efk_apiserver_config_cleanup(efk_apiserver_config *cfg)
{
    free(cfg->version);
    for (size_t i = 0; i < cfg->nidentities; i++)
        identity_cleanup(&cfg->identities[i]);
    free(cfg->identities);
    json_decref(cfg->group_rules);
    json_decref(cfg->objects);
    memset(cfg, 0, sizeof(*cfg));
}

/* A fixed message at a pointer. */
static int bad(efk_err *err, const char *ptr, const char *msg)
{
    return efk_err_invalid(err, ptr, "%s", msg);
}

static int check_keys(const json_t *o, const char *ptr, const char *const *allowed, efk_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        bool ok = false;
        for (int i = 0; allowed[i]; i++)
            if (!strcmp(allowed[i], k))
                ok = true;
        if (ok)
            continue;
        char list[512] = "", p[512];
        for (int i = 0; allowed[i]; i++) {
            strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
            strncat(list, allowed[i], sizeof(list) - strlen(list) - 1);
        }
        snprintf(p, sizeof(p), "%s/%s", ptr, k);
        efk_err_at(err, p);
        return efk_err_set(err, -EINVAL, "unknown key \"%s\"; allowed keys: %s", k, list);
    }
    return 0;
}

static int get_bool(const json_t *o, const char *key, bool *out, efk_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        char p[128];
        snprintf(p, sizeof(p), "/%s", key);
        return bad(err, p, "expected true or false");
    }
    *out = json_is_true(v);
    return 0;
}

/* A bool that may be left to a default decided later: -1 when absent. */
static int get_tristate(const json_t *o, const char *key, int *out, efk_err *err)
{
    bool b = false;
    if (!json_object_get(o, key))
        return 0;
    int rc = get_bool(o, key, &b, err);
    if (!rc)
        *out = b ? 1 : 0;
    return rc;
}

static int get_count(const json_t *o, const char *key, const char *ptr, size_t *out, efk_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 100000000)
        return bad(err, ptr, "expected a positive integer");
    *out = (size_t)json_integer_value(v);
    return 0;
}

static int get_duration(const json_t *o, const char *key, int64_t *out, efk_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    char p[128];
    snprintf(p, sizeof(p), "/%s", key);
    if (!json_is_string(v) || duration_parse(json_string_value(v), out) || *out <= 0)
        return bad(err, p, "expected a positive duration like \"30m\" or \"10s\"");
    return 0;
}

/* A seed object must name a kind the fake serves and have a name. */
static int check_object(const json_t *o, const char *ptr, efk_err *err)
{
    char p[600];
    if (!json_is_object(o))
        return bad(err, ptr, "expected a Kubernetes object");
    const char *kind = json_string_value(json_object_get(o, "kind"));
    if (!kind || !apis_res_by_kind(kind)) {
        snprintf(p, sizeof(p), "%s/kind", ptr);
        efk_err_at(err, p);
        return efk_err_set(err, -EINVAL,
                           "expected a core/v1 kind (Namespace, Pod, Service, Endpoints, Node, "
                           "ServiceAccount, Secret, ConfigMap, Event, PersistentVolume, "
                           "PersistentVolumeClaim), got %s%s%s",
                           kind ? "\"" : "", kind ? kind : "none", kind ? "\"" : "");
    }
    const char *av = json_string_value(json_object_get(o, "apiVersion"));
    if (json_object_get(o, "apiVersion") && (!av || strcmp(av, "v1") != 0)) {
        snprintf(p, sizeof(p), "%s/apiVersion", ptr);
        return bad(err, p, "expected \"v1\"");
    }
    json_t *md = json_object_get(o, "metadata");
    const char *name = json_string_value(json_object_get(md, "name"));
    if (!name || !*name) {
        snprintf(p, sizeof(p), "%s/metadata/name", ptr);
        return bad(err, p, "expected the object's name");
    }
    return 0;
}

/* Add the objects of one file: a single object, an array, or a List. */
static int load_file(efk_apiserver_config *cfg, const char *base_dir, const char *name,
                     const char *ptr, efk_err *err)
{
    char *path = (name[0] == '/' || !base_dir) ? strdup(name) : fs_join(base_dir, name);
    char *data = NULL;
    size_t len = 0;
    efk_err ferr;
    efk_err_init(&ferr);
    int rc = fs_read_file(path, APIS_MAX_OBJECT_FILE, &data, &len, &ferr);
    if (rc) {
        efk_err_at(err, ptr);
        efk_err_set(err, -EINVAL, "cannot read objects file \"%s\": %s", path,
                    rc == -E2BIG ? "larger than 64 MiB" : ferr.msg);
        free(path);
        return -EINVAL;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(data, len, 0, &jerr);
    free(data);
    if (!doc) {
        efk_err_at(err, ptr);
        efk_err_set(err, -EINVAL, "objects file \"%s\" is not JSON: %d:%d: %s", path, jerr.line,
                    jerr.column, jerr.text);
        free(path);
        return -EINVAL;
    }
    json_t *items = NULL;
    if (json_is_array(doc)) {
        items = json_incref(doc);
    } else if (json_is_object(doc) && json_is_array(json_object_get(doc, "items"))) {
        items = json_incref(json_object_get(doc, "items"));
        /* A typed list (PodList) may leave kind out of its items. */
        const char *lk = json_string_value(json_object_get(doc, "kind"));
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            if (json_is_object(it) && !json_object_get(it, "kind") && lk && strlen(lk) > 4 &&
                !strcmp(lk + strlen(lk) - 4, "List")) {
                char k[128];
                snprintf(k, sizeof(k), "%.*s", (int)strlen(lk) - 4, lk);
                json_object_set_new(it, "kind", json_string(k));
            }
        }
    } else {
        items = json_pack("[O]", doc);
    }
    json_decref(doc);
    size_t i;
    json_t *it;
    rc = 0;
    json_array_foreach(items, i, it)
    {
        char ip[64];
        snprintf(ip, sizeof(ip), "item %zu", i);
        efk_err sub;
        efk_err_init(&sub);
        if (check_object(it, "", &sub)) {
            efk_err_at(err, ptr);
            rc = efk_err_set(err, -EINVAL, "objects file \"%s\", %s%s: %s", path, ip, sub.pointer,
                             sub.msg);
            break;
        }
        json_array_append(cfg->objects, it);
    }
    json_decref(items);
    free(path);
    return rc;
}

static const char *const TOP_KEYS[] = {
    "version", "insecure", "insecure_authn", "anonymous", "default_namespaces", "identities",
    "groups",  "objects",  "object_files",   "limits",    "watch_timeout",      "bookmark_interval",
    NULL};
static const char *const ID_KEYS[] = {"name", "groups", "token", "cert", "rules", "rejected", NULL};
static const char *const LIMIT_KEYS[] = {"history",      "watch_queue", "max_objects",
                                         "max_watchers", "body",        NULL};

static int parse_identity(efk_apiserver_identity *id, const json_t *o, const char *ptr,
                          efk_err *err)
{
    char p[1024];
    int rc;
    if (!json_is_object(o))
        return bad(err, ptr, "expected an identity object");
    if ((rc = check_keys(o, ptr, ID_KEYS, err)))
        return rc;
    const char *name = json_string_value(json_object_get(o, "name"));
    snprintf(p, sizeof(p), "%s/name", ptr);
    if (!name || !*name || strlen(name) > 200)
        return bad(err, p, "expected the user name (a non-empty string)");
    id->name = strdup(name);
    json_t *g = json_object_get(o, "groups");
    if (g) {
        snprintf(p, sizeof(p), "%s/groups", ptr);
        if (!json_is_array(g) || json_array_size(g) > APIS_MAX_GROUPS - 2)
            return bad(err, p, "expected an array of at most 14 group names");
        id->groups = calloc(json_array_size(g) + 1, sizeof(char *));
        size_t i;
        json_t *s;
        json_array_foreach(g, i, s)
        {
            if (!json_is_string(s) || !json_string_length(s)) {
                snprintf(p, sizeof(p), "%s/groups/%zu", ptr, i);
                return bad(err, p, "expected a group name");
            }
            id->groups[id->ngroups++] = strdup(json_string_value(s));
        }
    }
    json_t *t = json_object_get(o, "token");
    if (t) {
        snprintf(p, sizeof(p), "%s/token", ptr);
        if (json_is_null(t) || json_is_false(t))
            id->no_token = true;
        else if (json_is_string(t) && json_string_length(t) > 0 && json_string_length(t) < 4096 &&
                 !strpbrk(json_string_value(t), " \t\r\n"))
            id->token = strdup(json_string_value(t));
        else
            return bad(err, p, "expected a token string without spaces, or null for none");
    }
    json_t *c = json_object_get(o, "cert");
    if (c) {
        snprintf(p, sizeof(p), "%s/cert", ptr);
        if (!json_is_boolean(c))
            return bad(err, p, "expected true or false");
        id->cert = json_is_true(c);
    }
    json_t *rj = json_object_get(o, "rejected");
    if (rj) {
        snprintf(p, sizeof(p), "%s/rejected", ptr);
        if (!json_is_boolean(rj))
            return bad(err, p, "expected true or false");
        id->rejected = json_is_true(rj);
    }
    json_t *rules = json_object_get(o, "rules");
    if (rules) {
        efk_err sub;
        efk_err_init(&sub);
        if (apis_rules_check(rules, &sub)) {
            snprintf(p, sizeof(p), "%s/rules%s", ptr, sub.pointer);
            return bad(err, p, sub.msg);
        }
        id->rules = json_deep_copy(rules);
    }
    if (id->no_token && !id->cert)
        return bad(err, ptr, "an identity without a token needs \"cert\": true");
    return 0;
}

int efk_apiserver_config_parse(efk_apiserver_config *cfg, const json_t *sec, const char *base_dir,
                               efk_err *err)
{
    int rc;
    if (!json_is_object(sec))
        return bad(err, "", "expected an object");
    if ((rc = check_keys(sec, "", TOP_KEYS, err)))
        return rc;
    json_t *v = json_object_get(sec, "version");
    if (v) {
        const apis_persona *p;
        char gv[32], msg[256];
        if (!json_is_string(v) || apis_persona_find(json_string_value(v), &p, gv, msg, sizeof(msg)))
            return bad(err, "/version",
                       json_is_string(v) ? msg : "expected a version string like \"1.33\"");
        free(cfg->version);
        cfg->version = strdup(json_string_value(v));
    }
    if ((rc = get_bool(sec, "insecure", &cfg->insecure, err)) ||
        (rc = get_bool(sec, "insecure_authn", &cfg->insecure_authn, err)) ||
        (rc = get_tristate(sec, "anonymous", &cfg->anonymous, err)) ||
        (rc = get_bool(sec, "default_namespaces", &cfg->default_namespaces, err)) ||
        (rc = get_duration(sec, "watch_timeout", &cfg->watch_timeout_ns, err)) ||
        (rc = get_duration(sec, "bookmark_interval", &cfg->bookmark_interval_ns, err)))
        return rc;
    json_t *ids = json_object_get(sec, "identities");
    if (ids) {
        if (!json_is_array(ids) || json_array_size(ids) > APIS_MAX_IDENTITIES)
            return bad(err, "/identities", "expected an array of at most 256 identities");
        cfg->identities = calloc(json_array_size(ids) + 1, sizeof(*cfg->identities));
        size_t i;
        json_t *o;
        json_array_foreach(ids, i, o)
        {
            char p[64];
            snprintf(p, sizeof(p), "/identities/%zu", i);
            efk_apiserver_identity *id = &cfg->identities[cfg->nidentities++];
            if ((rc = parse_identity(id, o, p, err)))
                return rc;
            for (size_t k = 0; k + 1 < cfg->nidentities; k++) {
                const efk_apiserver_identity *o2 = &cfg->identities[k];
                if (!strcmp(o2->name, id->name)) {
                    snprintf(p, sizeof(p), "/identities/%zu/name", i);
                    return bad(err, p, "duplicate identity name");
                }
                if (id->token && o2->token && !strcmp(o2->token, id->token)) {
                    snprintf(p, sizeof(p), "/identities/%zu/token", i);
                    return bad(err, p, "two identities cannot share a token");
                }
            }
        }
    }
    json_t *groups = json_object_get(sec, "groups");
    if (groups) {
        if (!json_is_object(groups))
            return bad(err, "/groups", "expected an object of group name to rules");
        const char *k;
        json_object_foreach(groups, k, v)
        {
            efk_err sub;
            efk_err_init(&sub);
            if (apis_rules_check(v, &sub)) {
                char p[600];
                snprintf(p, sizeof(p), "/groups/%s%s", k, sub.pointer);
                return bad(err, p, sub.msg);
            }
        }
        json_decref(cfg->group_rules);
        cfg->group_rules = json_deep_copy(groups);
    }
    if (!cfg->objects)
        cfg->objects = json_array();
    json_t *objs = json_object_get(sec, "objects");
    if (objs) {
        if (!json_is_array(objs))
            return bad(err, "/objects", "expected an array of Kubernetes objects");
        size_t i;
        json_t *o;
        json_array_foreach(objs, i, o)
        {
            char p[64];
            snprintf(p, sizeof(p), "/objects/%zu", i);
            if ((rc = check_object(o, p, err)))
                return rc;
            json_array_append(cfg->objects, o);
        }
    }
    json_t *files = json_object_get(sec, "object_files");
    if (files) {
        if (!json_is_array(files))
            return bad(err, "/object_files", "expected an array of file names");
        size_t i;
        json_t *f;
        json_array_foreach(files, i, f)
        {
            char p[64];
            snprintf(p, sizeof(p), "/object_files/%zu", i);
            if (!json_is_string(f) || !json_string_length(f))
                return bad(err, p, "expected a file name");
            if ((rc = load_file(cfg, base_dir, json_string_value(f), p, err)))
                return rc;
        }
    }
    json_t *lim = json_object_get(sec, "limits");
    if (lim) {
        if (!json_is_object(lim))
            return bad(err, "/limits", "expected an object");
        if ((rc = check_keys(lim, "/limits", LIMIT_KEYS, err)) ||
            (rc = get_count(lim, "history", "/limits/history", &cfg->history, err)) ||
            (rc = get_count(lim, "watch_queue", "/limits/watch_queue", &cfg->watch_queue, err)) ||
            (rc = get_count(lim, "max_objects", "/limits/max_objects", &cfg->max_objects, err)) ||
            (rc = get_count(lim, "max_watchers", "/limits/max_watchers", &cfg->max_watchers, err)))
            return rc;
        json_t *b = json_object_get(lim, "body");
        if (b) {
            uint64_t n = 0;
            if (json_is_integer(b) && json_integer_value(b) > 0)
                n = (uint64_t)json_integer_value(b);
            else if (!json_is_string(b) || size_parse(json_string_value(b), &n) || !n)
                return bad(err, "/limits/body", "expected a size like \"3MiB\" or a byte count");
            cfg->body_cap = (size_t)n;
        }
    }
    return 0;
}
