/*
 * apis_auth.h - who is calling (authentication) and may they (authorization).
 *
 * Identities are Kubernetes users: a name, groups, an optional bearer token,
 * an optional client certificate (CN = name, O = groups), allow rules and a
 * rejected flag. Authentication follows kube-apiserver's union order: a
 * verified client certificate first, then the bearer token, then anonymous.
 * Authorization: members of system:masters may do anything; an identity
 * whose own and group rules are all empty may do anything (a scenario that
 * gives no rules wants no RBAC); otherwise a request needs a matching rule.
 * Discovery and health paths are open to everyone, as the default
 * system:discovery and system:public-info-viewer roles make them.
 * All functions are thread-safe.
 */
#ifndef EFK_APIS_AUTH_H
#define EFK_APIS_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "core/err.h"
#include "core/http.h"

#define APIS_MAX_GROUPS     16
#define APIS_MAX_IDENTITIES 256

typedef struct apis_auth apis_auth;

/* The authenticated caller. */
typedef struct apis_user {
    char name[256];
    size_t ngroups;
    char groups[APIS_MAX_GROUPS][128];
    bool anonymous;
    char identity[256]; /* the configured identity it maps to, or "" */
} apis_user;

/* What a request asks for (RBAC's attributes). */
typedef struct apis_request_attrs {
    const char *verb;
    const char *resource;    /* NULL for non-resource requests */
    const char *subresource; /* may be NULL */
    const char *ns;          /* may be NULL */
    const char *name;        /* may be NULL */
    const char *path;
} apis_request_attrs;

apis_auth *apis_auth_new(bool anonymous);
void apis_auth_free(apis_auth *a);

/* Check a rules array (for config parsing). 0 or -EINVAL with err->pointer
 * relative to the array. */
int apis_rules_check(const json_t *rules, efk_err *err) __attribute__((warn_unused_result));

/* Add an identity. `groups`, `rules` borrowed (rules may be NULL). 0,
 * -EEXIST (same name or same token), -ENOSPC. */
int apis_auth_add(apis_auth *a, const char *name, const char *const *groups, size_t ngroups,
                  const char *token, bool cert, const json_t *rules, bool rejected)
    __attribute__((warn_unused_result));

/* Rules for every member of a group (borrowed, replaces). */
int apis_auth_group_rules(apis_auth *a, const char *group, const json_t *rules)
    __attribute__((warn_unused_result));

/* Authenticate. `authorization` is the header value (may be NULL), `tls`
 * the connection's view (may be NULL for plain HTTP). 0 and *u filled, or
 * -EACCES (answer 401). */
int apis_auth_authenticate(apis_auth *a, const char *authorization, const http_identity *tls,
                           apis_user *u);

/* Authorize a request for an authenticated user. */
bool apis_auth_authorize(apis_auth *a, const apis_user *u, const apis_request_attrs *r);

/* Identity management (timeline actions). 0 or -ENOENT. */
int apis_auth_set_rejected(apis_auth *a, const char *name, bool rejected);
/* Replace the token: the old one stops working. 0, -ENOENT, -EEXIST. */
int apis_auth_set_token(apis_auth *a, const char *name, const char *token);
/* Copy an identity's token into out (new string, NULL when it has none).
 * 0 or -ENOENT. */
int apis_auth_token(apis_auth *a, const char *name, char **out);
size_t apis_auth_count(apis_auth *a);
/* Name and groups of the i-th identity as JSON
 * {"name","groups","token"?,"cert","rejected","rules"}; NULL past the end. */
json_t *apis_auth_describe(apis_auth *a, size_t i);

#endif
