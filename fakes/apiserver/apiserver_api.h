/*
 * apiserver_api.h - public C API of the fake Kubernetes API server
 * (included by fakes/efksim.h; include that instead).
 *
 * One fake serves core/v1 over two listeners on 127.0.0.1: HTTPS (the
 * secure port; client certificates are verified against the test CA) and,
 * unless turned off, plain HTTP (the old insecure port). Its state is an
 * object store with watches; its callers are identities (tokens, client
 * certificates, anonymous) with allow rules; its era is a persona chosen by
 * `version`. docs/fakes/apiserver.md describes the scenario section.
 */
#ifndef EFK_APISERVER_API_H
#define EFK_APISERVER_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core/err.h"
#include "core/fault.h"
#include "core/journal.h"
#include "core/runtime.h"

typedef struct efk_apiserver efk_apiserver;

/* One identity of the scenario (all strings owned by the config). */
typedef struct efk_apiserver_identity {
    char *name;    /* user name, e.g. "system:serviceaccount:kube-system:default" */
    char **groups; /* ngroups strings */
    size_t ngroups;
    char *token;   /* NULL: generated from the seed (unless no_token) */
    bool no_token; /* this identity has no bearer token (certificate only) */
    bool cert;     /* the work dir gets a client certificate for it */
    json_t *rules; /* array of allow rules, or NULL (allow all) */
    bool rejected; /* starts rejected */
} efk_apiserver_identity;

typedef struct efk_apiserver_config {
    char *version;                      /* persona, "1.33" by default */
    bool insecure;                      /* serve the plain HTTP port (default true) */
    bool insecure_authn;                /* authenticate on the plain port too (default false:
                                           the old insecure port trusted everyone) */
    int anonymous;                      /* anonymous requests: 1 allowed, 0 refused (401),
                                           -1 (default) as the persona's era: refused
                                           before 1.5, allowed since */
    bool default_namespaces;            /* default, kube-system, kube-public, kube-node-lease */
    efk_apiserver_identity *identities; /* NULL: one "admin" in system:masters */
    size_t nidentities;
    json_t *group_rules;          /* object: group name -> rules array, or NULL */
    json_t *objects;              /* array of objects to seed, in order (inline and files) */
    size_t history;               /* watch history per resource (0: default 1000) */
    size_t watch_queue;           /* events queued per watcher (0: default 1024) */
    size_t max_objects;           /* 0: default 100000 */
    size_t max_watchers;          /* 0: default 1024 */
    size_t body_cap;              /* request body cap (0: 3 MiB, as kube-apiserver) */
    int64_t watch_timeout_ns;     /* server-chosen watch length: random in [t, 2t) (0: 30 min) */
    int64_t bookmark_interval_ns; /* 0: 60 s */
    uint16_t port, insecure_port; /* 0: ephemeral */
} efk_apiserver_config;

/* Defaults. */
void efk_apiserver_config_init(efk_apiserver_config *cfg);

/* Parse the scenario's "fakes.apiserver" object into cfg. Unknown keys are
 * errors listing the allowed ones; err->pointer is relative to the section.
 * `base_dir` resolves "object_files". `section` is borrowed. */
int efk_apiserver_config_parse(efk_apiserver_config *cfg, const json_t *section,
                               const char *base_dir, efk_err *err)
    __attribute__((warn_unused_result));

void efk_apiserver_config_cleanup(efk_apiserver_config *cfg);

/* Start the fake: seed the store, open the listeners. `cfg` is copied;
 * `rt` is borrowed for the fake's life. 0 or a negative code with err. */
int efk_apiserver_start(const efk_apiserver_config *cfg, const efk_runtime *rt, efk_apiserver **out,
                        efk_err *err) __attribute__((warn_unused_result));

/* Stop listening, end every watch, free. NULL-safe. */
void efk_apiserver_stop(efk_apiserver *a);

/* "https://127.0.0.1:PORT" (borrowed). */
const char *efk_apiserver_url(const efk_apiserver *a);
/* "http://127.0.0.1:PORT", or NULL without the insecure port (borrowed). */
const char *efk_apiserver_insecure_url(const efk_apiserver *a);
/* The persona's gitVersion ("v1.33.0"), borrowed. */
const char *efk_apiserver_version(const efk_apiserver *a);

journal *efk_apiserver_journal(efk_apiserver *a);    /* borrowed */
fault_chain *efk_apiserver_faults(efk_apiserver *a); /* borrowed */
/* Register the API server's own fault actions (watch_drop, watch_expire,
 * too_many_requests, with their parameter checks) on a chain, so rules can be
 * checked before any fake runs. 0 or fault_domain_add's error (-EEXIST when
 * already there). */
int efk_apiserver_fault_actions(fault_chain *c) __attribute__((warn_unused_result));

/* Everything as JSON: persona, identities, objects, counters (new ref). */
json_t *efk_apiserver_state_render(efk_apiserver *a);

/* ---- identities ---- */

size_t efk_apiserver_identity_count(efk_apiserver *a);
/* The i-th identity: {"name","groups":[...],"token"?,"cert","rejected"}
 * (new reference), NULL past the end. */
json_t *efk_apiserver_identity_at(efk_apiserver *a, size_t i);
/* The current bearer token of an identity (new string; NULL when it has
 * none). 0 or -ENOENT. */
int efk_apiserver_token(efk_apiserver *a, const char *name, char **token)
    __attribute__((warn_unused_result));
/* Give an identity a new token (from the seed); the old one stops working.
 * The new token is returned (new string). 0 or -ENOENT. */
int efk_apiserver_token_rotate(efk_apiserver *a, const char *name, char **token)
    __attribute__((warn_unused_result));
/* Reject (401 for its token and certificate) or accept an identity. */
int efk_apiserver_identity_reject(efk_apiserver *a, const char *name, bool rejected)
    __attribute__((warn_unused_result));

/* ---- objects (timeline actions and expectations) ---- */

/* Create or replace an object as a seed/timeline write: its kind picks the
 * resource, metadata.namespace its namespace (default "default"); status is
 * kept as given. `obj` borrowed. 0, or -EINVAL/-EEXIST... with err holding
 * the Status message. */
int efk_apiserver_object_apply(efk_apiserver *a, const json_t *obj, efk_err *err)
    __attribute__((warn_unused_result));
/* The same, but only create (as `kubectl create`): an existing object is
 * -EEXIST with the real AlreadyExists message. */
int efk_apiserver_object_create(efk_apiserver *a, const json_t *obj, efk_err *err)
    __attribute__((warn_unused_result));
/* The same, but only replace (as `kubectl replace`): a missing object is
 * -ENOENT with the real NotFound message. */
int efk_apiserver_object_replace(efk_apiserver *a, const json_t *obj, efk_err *err)
    __attribute__((warn_unused_result));
/* Merge-patch (RFC 7386) an object. `kind` is a kind, plural or short name;
 * `ns` NULL for cluster-scoped objects. */
int efk_apiserver_object_patch(efk_apiserver *a, const char *kind, const char *ns, const char *name,
                               const json_t *patch, efk_err *err)
    __attribute__((warn_unused_result));
/* Delete an object (a namespace takes its contents along). -ENOENT if absent. */
int efk_apiserver_object_delete(efk_apiserver *a, const char *kind, const char *ns,
                                const char *name, efk_err *err) __attribute__((warn_unused_result));
/* A deep copy of an object, NULL when absent or the kind is unknown. */
json_t *efk_apiserver_object_get(efk_apiserver *a, const char *kind, const char *ns,
                                 const char *name);
/* How many objects of a kind (in `ns`, or all when NULL) match a label
 * selector (NULL: all). -EINVAL for an unknown kind or a bad selector. */
long efk_apiserver_object_count(efk_apiserver *a, const char *kind, const char *ns,
                                const char *label_selector);
/* The current resourceVersion. */
uint64_t efk_apiserver_resource_version(efk_apiserver *a);
/* Open watches right now. */
size_t efk_apiserver_watch_count(efk_apiserver *a);

#endif
