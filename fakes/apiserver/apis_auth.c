#include "apis_auth.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct ident {
    char *name;
    size_t ngroups;
    char *groups[APIS_MAX_GROUPS];
    char *token;
    bool cert;
    bool rejected;
    json_t *rules; /* array or NULL */
} ident;

typedef struct grp {
    char *name;
    json_t *rules;
} grp;

struct apis_auth {
    pthread_mutex_t mu;
    bool anonymous;
    ident *ids[APIS_MAX_IDENTITIES];
    size_t nids;
    grp groups[64];
    size_t ngroups;
};

apis_auth *apis_auth_new(bool anonymous)
{
    apis_auth *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    pthread_mutex_init(&a->mu, NULL);
    a->anonymous = anonymous;
    return a;
}

static void ident_free(ident *i)
{
    if (!i)
        return;
    free(i->name);
    for (size_t k = 0; k < i->ngroups; k++)
        free(i->groups[k]);
    free(i->token);
    json_decref(i->rules);
    free(i);
}

void apis_auth_free(apis_auth *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nids; i++)
        ident_free(a->ids[i]);
    for (size_t i = 0; i < a->ngroups; i++) {
        free(a->groups[i].name);
        json_decref(a->groups[i].rules);
    }
    pthread_mutex_destroy(&a->mu);
    free(a);
}

static const char *const RULE_KEYS[] = {"verbs", "resources",       "namespaces",
                                        "names", "nonResourceURLs", NULL};

int apis_rules_check(const json_t *rules, efk_err *err)
{
    char ptr[128];
    if (!json_is_array(rules)) {
        efk_err_at(err, "");
        return efk_err_set(err, -EINVAL, "expected an array of rules");
    }
    size_t i;
    json_t *r;
    json_array_foreach((json_t *)rules, i, r)
    {
        snprintf(ptr, sizeof(ptr), "/%zu", i);
        if (!json_is_object(r)) {
            efk_err_at(err, ptr);
            return efk_err_set(err, -EINVAL, "expected a rule object");
        }
        const char *k;
        json_t *v;
        json_object_foreach(r, k, v)
        {
            bool known = false;
            for (int n = 0; RULE_KEYS[n]; n++)
                if (!strcmp(k, RULE_KEYS[n]))
                    known = true;
            snprintf(ptr, sizeof(ptr), "/%zu/%s", i, k);
            if (!known) {
                efk_err_at(err, ptr);
                return efk_err_set(err, -EINVAL,
                                   "unknown key \"%s\" (allowed: verbs, resources, namespaces, "
                                   "names, nonResourceURLs)",
                                   k);
            }
            size_t x;
            json_t *s;
            bool ok = json_is_array(v);
            json_array_foreach(v, x, s) if (!json_is_string(s)) ok = false;
            if (!ok) {
                efk_err_at(err, ptr);
                return efk_err_set(err, -EINVAL, "expected an array of strings");
            }
        }
        if (!json_object_get(r, "verbs")) {
            efk_err_at(err, ptr);
            snprintf(ptr, sizeof(ptr), "/%zu", i);
            efk_err_at(err, ptr);
            return efk_err_set(err, -EINVAL, "a rule needs \"verbs\"");
        }
        if (!json_object_get(r, "resources") && !json_object_get(r, "nonResourceURLs")) {
            snprintf(ptr, sizeof(ptr), "/%zu", i);
            efk_err_at(err, ptr);
            return efk_err_set(err, -EINVAL, "a rule needs \"resources\" or \"nonResourceURLs\"");
        }
    }
    return 0;
}

static ident *by_name(apis_auth *a, const char *name)
{
    for (size_t i = 0; i < a->nids; i++)
        if (!strcmp(a->ids[i]->name, name))
            return a->ids[i];
    return NULL;
}

static ident *by_token(apis_auth *a, const char *tok)
{
    for (size_t i = 0; i < a->nids; i++)
        if (a->ids[i]->token && !strcmp(a->ids[i]->token, tok))
            return a->ids[i];
    return NULL;
}

int apis_auth_add(apis_auth *a, const char *name, const char *const *groups, size_t ngroups,
                  const char *token, bool cert, const json_t *rules, bool rejected)
{
    pthread_mutex_lock(&a->mu);
    int rc = 0;
    if (by_name(a, name) || (token && *token && by_token(a, token)))
        rc = -EEXIST;
    else if (a->nids >= APIS_MAX_IDENTITIES || ngroups > APIS_MAX_GROUPS)
        rc = -ENOSPC;
    if (!rc) {
        ident *i = calloc(1, sizeof(*i));
        i->name = strdup(name);
        for (size_t k = 0; k < ngroups; k++)
            i->groups[k] = strdup(groups[k]);
        i->ngroups = ngroups;
        i->token = token && *token ? strdup(token) : NULL;
        i->cert = cert;
        i->rejected = rejected;
        i->rules = rules ? json_deep_copy(rules) : NULL;
        a->ids[a->nids++] = i;
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

int apis_auth_group_rules(apis_auth *a, const char *group, const json_t *rules)
{
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->ngroups; i++) {
        if (!strcmp(a->groups[i].name, group)) {
            json_decref(a->groups[i].rules);
            a->groups[i].rules = json_deep_copy(rules);
            pthread_mutex_unlock(&a->mu);
            return 0;
        }
    }
    if (a->ngroups >= 64) {
        pthread_mutex_unlock(&a->mu);
        return -ENOSPC;
    }
    a->groups[a->ngroups].name = strdup(group);
    a->groups[a->ngroups].rules = json_deep_copy(rules);
    a->ngroups++;
    pthread_mutex_unlock(&a->mu);
    return 0;
}

static void user_add_group(apis_user *u, const char *g)
{
    for (size_t i = 0; i < u->ngroups; i++)
        if (!strcmp(u->groups[i], g))
            return;
    if (u->ngroups < APIS_MAX_GROUPS)
        snprintf(u->groups[u->ngroups++], sizeof(u->groups[0]), "%s", g);
}

static void fill_from_ident(apis_user *u, const ident *i)
{
    snprintf(u->name, sizeof(u->name), "%s", i->name);
    snprintf(u->identity, sizeof(u->identity), "%s", i->name);
    for (size_t k = 0; k < i->ngroups; k++)
        user_add_group(u, i->groups[k]);
}

int apis_auth_authenticate(apis_auth *a, const char *authorization, const http_identity *tls,
                           apis_user *u)
{
    memset(u, 0, sizeof(*u));
    pthread_mutex_lock(&a->mu);
    int rc = -EACCES;
    if (tls && tls->cert_verified && tls->cn[0]) {
        ident *i = by_name(a, tls->cn);
        if (i && i->rejected)
            goto out; /* a revoked certificate */
        snprintf(u->name, sizeof(u->name), "%s", tls->cn);
        for (size_t k = 0; k < tls->norgs; k++)
            user_add_group(u, tls->orgs[k]);
        if (i)
            fill_from_ident(u, i);
        user_add_group(u, "system:authenticated");
        rc = 0;
        goto out;
    }
    if (authorization && *authorization) {
        /* "Bearer <token>", scheme case-insensitive, token trimmed. */
        const char *p = authorization;
        while (*p == ' ')
            p++;
        if (strncasecmp(p, "bearer ", 7) != 0)
            goto out;
        p += 7;
        while (*p == ' ' || *p == '\t')
            p++;
        char tok[4096];
        snprintf(tok, sizeof(tok), "%s", p);
        size_t n = strlen(tok);
        while (n && (tok[n - 1] == ' ' || tok[n - 1] == '\t' || tok[n - 1] == '\r' ||
                     tok[n - 1] == '\n'))
            tok[--n] = '\0';
        ident *i = n ? by_token(a, tok) : NULL;
        if (!i || i->rejected)
            goto out;
        fill_from_ident(u, i);
        user_add_group(u, "system:authenticated");
        rc = 0;
        goto out;
    }
    if (a->anonymous) {
        snprintf(u->name, sizeof(u->name), "system:anonymous");
        user_add_group(u, "system:unauthenticated");
        u->anonymous = true;
        rc = 0;
    }
out:
    pthread_mutex_unlock(&a->mu);
    return rc;
}

static bool list_has(const json_t *list, const char *v, bool absent_any)
{
    if (!list)
        return absent_any;
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s)
    {
        const char *x = json_string_value(s);
        if (!strcmp(x, "*") || (v && !strcmp(x, v)))
            return true;
    }
    return json_array_size(list) == 0 && absent_any;
}

static bool rule_allows(const json_t *rule, const apis_request_attrs *r)
{
    if (!list_has(json_object_get(rule, "verbs"), r->verb, false))
        return false;
    if (!r->resource) {
        json_t *urls = json_object_get(rule, "nonResourceURLs");
        size_t i;
        json_t *s;
        json_array_foreach(urls, i, s)
        {
            const char *x = json_string_value(s);
            size_t n = strlen(x);
            if (!strcmp(x, "*") || !strcmp(x, r->path) ||
                (n && x[n - 1] == '*' && !strncmp(x, r->path, n - 1)))
                return true;
        }
        return false;
    }
    char full[256];
    snprintf(full, sizeof(full), "%s%s%s", r->resource,
             r->subresource && *r->subresource ? "/" : "", r->subresource ? r->subresource : "");
    json_t *res = json_object_get(rule, "resources");
    bool ok = false;
    size_t i;
    json_t *s;
    json_array_foreach(res, i, s)
    {
        const char *x = json_string_value(s);
        if (!strcmp(x, "*") || !strcmp(x, full) ||
            (!strncmp(x, "*/", 2) && r->subresource && !strcmp(x + 2, r->subresource)))
            ok = true;
    }
    if (!ok)
        return false;
    if (!list_has(json_object_get(rule, "namespaces"), r->ns ? r->ns : "", true))
        return false;
    json_t *names = json_object_get(rule, "names");
    if (names && json_array_size(names)) {
        /* As RBAC's resourceNames: only requests naming an object match. */
        if (!r->name || !*r->name || !list_has(names, r->name, false))
            return false;
    }
    return true;
}

static bool open_path(const char *path)
{
    static const char *const OPEN[] = {"/healthz", "/livez", "/readyz",  "/version",
                                       "/api",     "/apis",  "/openapi", NULL};
    if (!strcmp(path, "/"))
        return true;
    for (int i = 0; OPEN[i]; i++) {
        size_t n = strlen(OPEN[i]);
        if (!strncmp(path, OPEN[i], n) && (path[n] == '\0' || path[n] == '/' || path[n] == '?'))
            return true;
    }
    return false;
}

bool apis_auth_authorize(apis_auth *a, const apis_user *u, const apis_request_attrs *r)
{
    if (!r->resource && open_path(r->path))
        return true;
    for (size_t i = 0; i < u->ngroups; i++)
        if (!strcmp(u->groups[i], "system:masters"))
            return true;
    pthread_mutex_lock(&a->mu);
    bool any_rules = false, allowed = false;
    ident *id = u->identity[0] ? by_name(a, u->identity) : NULL;
    if (id && id->rules) {
        any_rules = true;
        size_t k;
        json_t *rule;
        json_array_foreach(id->rules, k, rule) if (rule_allows(rule, r)) allowed = true;
    }
    for (size_t g = 0; g < u->ngroups && !allowed; g++) {
        for (size_t k = 0; k < a->ngroups; k++) {
            if (strcmp(a->groups[k].name, u->groups[g]) != 0)
                continue;
            any_rules = true;
            size_t x;
            json_t *rule;
            json_array_foreach(a->groups[k].rules, x, rule) if (rule_allows(rule, r)) allowed =
                true;
        }
    }
    pthread_mutex_unlock(&a->mu);
    if (allowed)
        return true;
    /* No rules at all: a configured identity may do anything; anonymous and
     * unknown certificate users may not. */
    return !any_rules && id != NULL;
}

int apis_auth_set_rejected(apis_auth *a, const char *name, bool rejected)
{
    pthread_mutex_lock(&a->mu);
    ident *i = by_name(a, name);
    if (i)
        i->rejected = rejected;
    pthread_mutex_unlock(&a->mu);
    return i ? 0 : -ENOENT;
}

int apis_auth_set_token(apis_auth *a, const char *name, const char *token)
{
    pthread_mutex_lock(&a->mu);
    int rc = 0;
    ident *i = by_name(a, name);
    ident *other = token ? by_token(a, token) : NULL;
    if (!i)
        rc = -ENOENT;
    else if (other && other != i)
        rc = -EEXIST;
    else {
        free(i->token);
        i->token = token ? strdup(token) : NULL;
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

int apis_auth_token(apis_auth *a, const char *name, char **out)
{
    pthread_mutex_lock(&a->mu);
    ident *i = by_name(a, name);
    if (i)
        *out = i->token ? strdup(i->token) : NULL;
    pthread_mutex_unlock(&a->mu);
    return i ? 0 : -ENOENT;
}

size_t apis_auth_count(apis_auth *a)
{
    pthread_mutex_lock(&a->mu);
    size_t n = a->nids;
    pthread_mutex_unlock(&a->mu);
    return n;
}

json_t *apis_auth_describe(apis_auth *a, size_t idx)
{
    pthread_mutex_lock(&a->mu);
    json_t *o = NULL;
    if (idx < a->nids) {
        ident *i = a->ids[idx];
        o = json_object();
        json_object_set_new(o, "name", json_string(i->name));
        json_t *g = json_array();
        for (size_t k = 0; k < i->ngroups; k++)
            json_array_append_new(g, json_string(i->groups[k]));
        json_object_set_new(o, "groups", g);
        if (i->token)
            json_object_set_new(o, "token", json_string(i->token));
        json_object_set_new(o, "cert", json_boolean(i->cert));
        json_object_set_new(o, "rejected", json_boolean(i->rejected));
        if (i->rules)
            json_object_set(o, "rules", i->rules);
    }
    pthread_mutex_unlock(&a->mu);
    return o;
}
