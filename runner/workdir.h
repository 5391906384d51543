/*
 * workdir.h - the private work directory a scenario (or `efksim serve`) runs in.
 *
 * Layout (all paths absolute once created):
 *   pki/ca.crt, pki/ca.key, pki/server.crt, pki/server.key   the test PKI
 *   identities/<name>/token, ca.crt, namespace               in-cluster SA layout
 *   identities/<name>/client.crt, client.key                 when it has a cert
 *   identities/<name>/kubeconfig                             that identity, over https
 *   kubeconfig                                               every identity, one context each
 *   var/log/containers/                                      container logs
 *   journal/<fake>.ndjson                                    the fakes' journals
 *   env                                                      the env file (default place)
 * <name> is the identity name with every character outside [A-Za-z0-9._-]
 * replaced by '_' ("system:serviceaccount:kube-system:default" becomes
 * "system_serviceaccount_kube-system_default").
 */
#ifndef EFK_RUN_WORKDIR_H
#define EFK_RUN_WORKDIR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/pki.h"
#include "core/runtime.h"

#define RUN_MAX_GROUPS 8
#define RUN_MAX_ENV 64

typedef struct run_workdir {
    char *dir;        /* absolute path */
    bool created;     /* made by us (mkdtemp): removed by run_workdir_cleanup(remove=true) */
    pki_ca *ca;
    pki_pair server;
    char *ca_path;    /* dir/pki/ca.crt */
    char *log_dir;    /* dir/var/log/containers */
    char *journal_dir;
} run_workdir;

/* An identity as the work dir needs it (all borrowed). */
typedef struct run_identity {
    const char *name;       /* Kubernetes user name */
    const char *groups[RUN_MAX_GROUPS];
    size_t ngroups;
    const char *token;      /* NULL: none */
    bool cert;              /* issue a client certificate (CN=name, O=groups) */
    const char *namespace;  /* for the SA dir's `namespace` file; NULL: "default" */
} run_identity;

/* Where an identity's files went (owned; run_identity_paths_cleanup). */
typedef struct run_identity_paths {
    char *dir;        /* identities/<name> (the SA dir) */
    char *token;      /* dir/token, or NULL */
    char *cert, *key; /* client cert and key, or NULL */
    char *kubeconfig;
} run_identity_paths;

/* Create the layout and the PKI in `dir` (created if missing; NULL: a new
 * temp dir under $TMPDIR or /tmp). 0 or a negative code with err naming the
 * path that failed. */
int run_workdir_init(run_workdir *w, const char *dir, efk_err *err)
    __attribute__((warn_unused_result));

/* Free everything; with `remove` and a dir we created, delete the tree. */
void run_workdir_cleanup(run_workdir *w, bool remove);

/* A runtime for the fakes, borrowing the work dir's PKI. */
void run_workdir_runtime(run_workdir *w, efk_runtime *rt);

/* Write one identity's files against the API server at `https_url`.
 * 0 or a negative code with err. */
int run_workdir_identity(run_workdir *w, const run_identity *id, const char *https_url,
                         run_identity_paths *out, efk_err *err)
    __attribute__((warn_unused_result));
void run_identity_paths_cleanup(run_identity_paths *p);

/* Write dir/kubeconfig with one context per identity ("<name>@efksim"),
 * the current one being ids[current]. Certificates must have been issued by
 * run_workdir_identity first (paths[i]). */
int run_workdir_kubeconfig(run_workdir *w, const run_identity *ids,
                           const run_identity_paths *paths, size_t n, size_t current,
                           const char *https_url, efk_err *err) __attribute__((warn_unused_result));

/* The identity name as used in the work dir (new string). */
char *run_identity_dirname(const char *name);

/* An environment: NAME=value pairs in order (owned). */
typedef struct run_env {
    size_t n;
    char *names[RUN_MAX_ENV];
    char *values[RUN_MAX_ENV];
} run_env;

void run_env_init(run_env *e);
/* Set (replace or append) a variable. 0, -ENOSPC, -ENOMEM. */
int run_env_set(run_env *e, const char *name, const char *value) __attribute__((warn_unused_result));
const char *run_env_get(const run_env *e, const char *name);
void run_env_cleanup(run_env *e);

/* Write `export NAME='value'` lines (single quotes escaped as '\'') to
 * `path` atomically. 0 or -errno with err. */
int run_env_write(const run_env *e, const char *path, efk_err *err)
    __attribute__((warn_unused_result));

#endif
