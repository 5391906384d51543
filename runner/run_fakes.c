#include "run_fakes.h"

#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "efksim.h"
#include "workdir.h"

/*
 * Each fake plugs in through a small table of its contract functions
 * (config init/parse/cleanup, start/stop, url, journal, faults, state) plus
 * the typed actions and queries below. A fake whose API is not in this build
 * has no table; a scenario that configures it, acts on it or asks about it
 * is refused with a message saying so, at load time where possible.
 */

typedef struct run_fake_ops {
    size_t cfg_size;
    void (*config_init)(void *cfg);
    int (*config_parse)(void *cfg, const json_t *section, const char *base_dir, efk_err *err);
    void (*config_cleanup)(void *cfg);
    int (*start)(const void *cfg, const efk_runtime *rt, void **out, efk_err *err);
    void (*stop)(void *x);
    const char *(*url)(const void *x);
    journal *(*journal)(void *x);
    fault_chain *(*faults)(void *x);
    json_t *(*state)(void *x);
} run_fake_ops;

/* The contract functions, each fake's behind the same shape. */
#define FAKE_OPS(X)                                                                                \
    static void X##_cinit(void *c)                                                                 \
    {                                                                                              \
        efk_##X##_config_init(c);                                                                  \
    }                                                                                              \
    static int X##_cparse(void *c, const json_t *sec, const char *dir, efk_err *e)                 \
    {                                                                                              \
        return efk_##X##_config_parse(c, sec, dir, e);                                             \
    }                                                                                              \
    static void X##_cclean(void *c)                                                                \
    {                                                                                              \
        efk_##X##_config_cleanup(c);                                                               \
    }                                                                                              \
    static int X##_start(const void *c, const efk_runtime *rt, void **out, efk_err *e)             \
    {                                                                                              \
        efk_##X *x = NULL;                                                                         \
        int rc = efk_##X##_start(c, rt, &x, e);                                                    \
        *out = x;                                                                                  \
        return rc;                                                                                 \
    }                                                                                              \
    static void X##_stop(void *x)                                                                  \
    {                                                                                              \
        efk_##X##_stop(x);                                                                         \
    }                                                                                              \
    static const char *X##_url(const void *x)                                                      \
    {                                                                                              \
        return efk_##X##_url(x);                                                                   \
    }                                                                                              \
    static journal *X##_journal(void *x)                                                           \
    {                                                                                              \
        return efk_##X##_journal(x);                                                               \
    }                                                                                              \
    static fault_chain *X##_faults(void *x)                                                        \
    {                                                                                              \
        return efk_##X##_faults(x);                                                                \
    }                                                                                              \
    static json_t *X##_state(void *x)                                                              \
    {                                                                                              \
        return efk_##X##_state_render(x);                                                          \
    }                                                                                              \
    static const run_fake_ops X##_ops = {sizeof(efk_##X##_config),                                 \
                                         X##_cinit,                                                \
                                         X##_cparse,                                               \
                                         X##_cclean,                                               \
                                         X##_start,                                                \
                                         X##_stop,                                                 \
                                         X##_url,                                                  \
                                         X##_journal,                                              \
                                         X##_faults,                                               \
                                         X##_state};

FAKE_OPS(apiserver)
FAKE_OPS(es)
FAKE_OPS(rbd)

static const run_fake_ops *const ops_table[RUN_FAKE_N] = {&apiserver_ops, &es_ops, &rbd_ops};

/* The domain fault actions each fake registers on its chain (for checking
 * rules at load time, before the fake runs). */
/* Each fake registers its own fault actions (and their parameter checks). */
static int (*const fake_fault_actions[RUN_FAKE_N])(fault_chain *c) = {
    efk_apiserver_fault_actions,
    efk_es_fault_actions,
    efk_rbd_fault_actions,
};

struct run_fakes_cfg {
    void *cfg[RUN_FAKE_N]; /* efk_X_config, or NULL when not available */
};

/* An API server identity and its files in the work dir. */
typedef struct ident {
    char *name;
    char *token;     /* current token, or NULL */
    run_identity id; /* for the work dir (borrows name, token, groups) */
    run_identity_paths paths;
    char *ns;
} ident;

struct run_fakes {
    const run_fakes_cfg *cfg;
    void *fake[RUN_FAKE_N];
    struct run_workdir *wd;
    ident *ids;
    size_t nids;
};

bool run_fakes_available(run_fake_id f)
{
    return ops_table[f] != NULL;
}

static int unavailable(run_ck *c, const char *ptr, run_fake_id f)
{
    return run_doc_err(c->doc, c->err, -ENOSYS, ptr,
                       "the %s fake is not part of this build of efksim", run_fake_names[f]);
}

/* Re-point a fake's error (relative to its section or rule) at the doc. */
static int relay(run_ck *c, const char *base, const efk_err *e, int rc)
{
    char full[RUN_PTR_MAX + EFK_ERR_PLACE_MAX];
    snprintf(full, sizeof(full), "%s%s", base, e->pointer);
    full[RUN_PTR_MAX - 1] = '\0';
    return run_doc_err(c->doc, c->err, rc, full, "%s", e->msg[0] ? e->msg : "invalid");
}

int run_fakes_config_parse(run_ck *c, const json_t *fakes, const char *base_dir,
                           run_fakes_cfg **out)
{
    static const char *const keys[] = {"apiserver", "es", "rbd", NULL};
    int rc = 0;
    if (fakes && (rc = ck_object(c, "/fakes", fakes, keys)))
        return rc;
    run_fakes_cfg *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return efk_err_set(c->err, -ENOMEM, "out of memory");
    for (int f = 0; f < RUN_FAKE_N; f++) {
        char ptr[RUN_PTR_MAX];
        run_ptr_join(ptr, sizeof(ptr), "/fakes", run_fake_names[f]);
        const json_t *sec = fakes ? json_object_get(fakes, run_fake_names[f]) : NULL;
        const run_fake_ops *ops = ops_table[f];
        if (!ops) {
            if (sec) {
                rc = unavailable(c, ptr, (run_fake_id)f);
                goto out;
            }
            continue;
        }
        cfg->cfg[f] = calloc(1, ops->cfg_size);
        if (!cfg->cfg[f]) {
            rc = efk_err_set(c->err, -ENOMEM, "out of memory");
            goto out;
        }
        ops->config_init(cfg->cfg[f]);
        if (!sec)
            continue;
        efk_err e;
        efk_err_init(&e);
        rc = ops->config_parse(cfg->cfg[f], sec, base_dir, &e);
        if (rc) {
            relay(c, ptr, &e, rc);
            goto out;
        }
    }
    *out = cfg;
    return 0;
out:
    run_fakes_config_free(cfg);
    return rc;
}

void run_fakes_config_free(run_fakes_cfg *cfg)
{
    if (!cfg)
        return;
    for (int f = 0; f < RUN_FAKE_N; f++) {
        if (cfg->cfg[f] && ops_table[f])
            ops_table[f]->config_cleanup(cfg->cfg[f]);
        free(cfg->cfg[f]);
    }
    free(cfg);
}

size_t run_fakes_identities(const run_fakes_cfg *cfg, const char **names, size_t max)
{
    const efk_apiserver_config *ac = cfg->cfg[RUN_FAKE_APISERVER];
    if (!ac)
        return 0;
    if (!ac->identities) {
        if (max)
            names[0] = "admin";
        return max ? 1 : 0;
    }
    size_t n = 0;
    for (size_t i = 0; i < ac->nidentities && n < max; i++)
        names[n++] = ac->identities[i].name;
    return n;
}

static const char *const id_attrs[] = {"token", "token_file", "sa_dir",    "kubeconfig",
                                       "cert",  "key",        "namespace", NULL};

int run_fakes_declare_vars(const run_fakes_cfg *cfg, run_vars *v)
{
    static const char *const per_fake[RUN_FAKE_N][8] = {
        {"apiserver.url", "apiserver.insecure_url", "apiserver.host", "apiserver.port",
         "apiserver.version", "token", "sa_dir", "kubeconfig"},
        {"es.url", "es.host", "es.port", NULL},
        {"rbd.mon", "rbd.url", "rbd.release", NULL},
    };
    int rc;
    for (int f = 0; f < RUN_FAKE_N; f++) {
        if (!cfg->cfg[f])
            continue;
        for (int i = 0; i < 8 && per_fake[f][i]; i++)
            if ((rc = run_vars_set(v, per_fake[f][i], NULL)))
                return rc;
    }
    const char *names[256];
    size_t n = run_fakes_identities(cfg, names, 256);
    for (size_t i = 0; i < n; i++) {
        for (const char *const *a = id_attrs; *a; a++) {
            char name[RUN_TMPL_NAME_MAX];
            snprintf(name, sizeof(name), "identity.%s.%s", names[i], *a);
            if ((rc = run_vars_set(v, name, NULL)))
                return rc;
        }
    }
    return 0;
}

/* ---- starting ---- */

static void idents_free(run_fakes *f)
{
    for (size_t i = 0; i < f->nids; i++) {
        free(f->ids[i].name);
        free(f->ids[i].token);
        free(f->ids[i].ns);
        run_identity_paths_cleanup(&f->ids[i].paths);
    }
    free(f->ids);
    f->ids = NULL;
    f->nids = 0;
}

/* The namespace of a service account user name, "default" otherwise. */
static char *sa_namespace(const char *user)
{
    const char *pre = "system:serviceaccount:";
    if (strncmp(user, pre, strlen(pre)) == 0) {
        const char *ns = user + strlen(pre);
        const char *colon = strchr(ns, ':');
        if (colon && colon > ns)
            return strndup(ns, (size_t)(colon - ns));
    }
    return strdup("default");
}

/* Write each identity's files (SA dir, certificate, kubeconfig) and the
 * work dir's kubeconfig with one context per identity. */
static int write_identities(run_fakes *f, efk_err *err)
{
    efk_apiserver *a = f->fake[RUN_FAKE_APISERVER];
    size_t n = efk_apiserver_identity_count(a);
    f->ids = calloc(n + 1, sizeof(*f->ids));
    if (!f->ids)
        return efk_err_set(err, -ENOMEM, "out of memory");
    const char *https = efk_apiserver_url(a);
    int rc = 0;
    run_identity *all = calloc(n + 1, sizeof(*all));
    run_identity_paths *paths = calloc(n + 1, sizeof(*paths));
    json_t **info = calloc(n + 1, sizeof(*info));
    if (!all || !paths || !info) {
        rc = efk_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        info[i] = efk_apiserver_identity_at(a, i);
        ident *d = &f->ids[f->nids];
        const char *name = json_string_value(json_object_get(info[i], "name"));
        if (!name)
            continue;
        d->name = strdup(name);
        d->ns = sa_namespace(name);
        if (!d->name || !d->ns || efk_apiserver_token(a, name, &d->token) == -ENOMEM) {
            rc = efk_err_set(err, -ENOMEM, "out of memory");
            goto out;
        }
        f->nids++;
        d->id.name = d->name;
        d->id.token = d->token;
        d->id.cert = json_is_true(json_object_get(info[i], "cert"));
        d->id.namespace = d->ns;
        json_t *groups = json_object_get(info[i], "groups");
        size_t k;
        json_t *g;
        json_array_foreach (groups, k, g) {
            if (d->id.ngroups < RUN_MAX_GROUPS && json_is_string(g))
                d->id.groups[d->id.ngroups++] = json_string_value(g);
        }
        if ((rc = run_workdir_identity(f->wd, &d->id, https, &d->paths, err)))
            goto out;
        all[f->nids - 1] = d->id;
        paths[f->nids - 1] = d->paths;
    }
    if (f->nids)
        rc = run_workdir_kubeconfig(f->wd, all, paths, f->nids, 0, https, err);
out:
    /* the group strings are borrowed from `info`: drop them from the ids */
    for (size_t i = 0; i < f->nids; i++)
        f->ids[i].id.ngroups = 0;
    for (size_t i = 0; info && i < n; i++)
        json_decref(info[i]);
    free(info);
    free(all);
    free(paths);
    return rc;
}

int run_fakes_start(const run_fakes_cfg *cfg, const efk_runtime *rt, struct run_workdir *wd,
                    run_fakes **out, efk_err *err)
{
    run_fakes *f = calloc(1, sizeof(*f));
    if (!f)
        return efk_err_set(err, -ENOMEM, "out of memory");
    f->cfg = cfg;
    f->wd = wd;
    for (int i = 0; i < RUN_FAKE_N; i++) {
        if (!cfg->cfg[i])
            continue;
        int rc = ops_table[i]->start(cfg->cfg[i], rt, &f->fake[i], err);
        if (rc) {
            char msg[EFK_ERR_MSG_MAX];
            snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
            efk_err_set(err, rc, "cannot start the %s fake: %.900s", run_fake_names[i], msg);
            run_fakes_stop(f);
            return rc;
        }
    }
    if (f->fake[RUN_FAKE_APISERVER]) {
        int rc = write_identities(f, err);
        if (rc) {
            run_fakes_stop(f);
            return rc;
        }
    }
    *out = f;
    return 0;
}

void run_fakes_world(run_fakes *f, run_world *w)
{
    for (int i = 0; i < RUN_FAKE_N; i++)
        w->journals[i] = f->fake[i] ? ops_table[i]->journal(f->fake[i]) : NULL;
    w->apiserver = f->fake[RUN_FAKE_APISERVER];
    w->es = f->fake[RUN_FAKE_ES];
    w->rbd = f->fake[RUN_FAKE_RBD];
}

/* host and port out of "http://127.0.0.1:PORT" */
static void split_url(const char *url, char *host, size_t hsz, char *port, size_t psz)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    const char *colon = strrchr(h, ':');
    size_t hl = colon ? (size_t)(colon - h) : strlen(h);
    snprintf(host, hsz, "%.*s", (int)hl, h);
    snprintf(port, psz, "%s", colon ? colon + 1 : "");
    char *slash = strchr(port, '/');
    if (slash)
        *slash = '\0';
}

static const ident *find_ident(const run_fakes *f, const char *name)
{
    for (size_t i = 0; i < f->nids; i++)
        if (!name || strcmp(f->ids[i].name, name) == 0)
            return &f->ids[i];
    return NULL;
}

static int set_ident_vars(run_fakes *f, run_vars *v, const ident *d)
{
    const char *vals[] = {d->token ? d->token : "",
                          d->paths.token,
                          d->paths.dir,
                          d->paths.kubeconfig,
                          d->paths.cert,
                          d->paths.key,
                          d->ns};
    int rc;
    for (size_t k = 0; id_attrs[k]; k++) {
        char name[RUN_TMPL_NAME_MAX];
        snprintf(name, sizeof(name), "identity.%s.%s", d->name, id_attrs[k]);
        /* an attribute it does not have (no certificate) stays without a
         * value: using it is an error naming it, never an empty string */
        if (vals[k] && (rc = run_vars_set(v, name, vals[k])))
            return rc;
    }
    return 0;
}

int run_fakes_set_vars(run_fakes *f, run_vars *v)
{
    int rc = 0;
    char host[256], port[16];
    if (f->fake[RUN_FAKE_ES]) {
        const char *url = efk_es_url(f->fake[RUN_FAKE_ES]);
        split_url(url, host, sizeof(host), port, sizeof(port));
        if ((rc = run_vars_set(v, "es.url", url)) || (rc = run_vars_set(v, "es.host", host)) ||
            (rc = run_vars_set(v, "es.port", port)))
            return rc;
    }
    if (f->fake[RUN_FAKE_RBD]) {
        efk_rbd *r = f->fake[RUN_FAKE_RBD];
        if ((rc = run_vars_set(v, "rbd.mon", efk_rbd_mon(r))) ||
            (rc = run_vars_set(v, "rbd.url", efk_rbd_url(r))) ||
            (rc = run_vars_set(v, "rbd.release", efk_rbd_release(r))))
            return rc;
    }
    efk_apiserver *a = f->fake[RUN_FAKE_APISERVER];
    if (a) {
        const char *url = efk_apiserver_url(a);
        split_url(url, host, sizeof(host), port, sizeof(port));
        if ((rc = run_vars_set(v, "apiserver.url", url)) ||
            (rc = run_vars_set(v, "apiserver.host", host)) ||
            (rc = run_vars_set(v, "apiserver.port", port)) ||
            (rc = run_vars_set(v, "apiserver.version", efk_apiserver_version(a))))
            return rc;
        if (efk_apiserver_insecure_url(a) &&
            (rc = run_vars_set(v, "apiserver.insecure_url", efk_apiserver_insecure_url(a))))
            return rc;
        for (size_t i = 0; i < f->nids; i++)
            if ((rc = set_ident_vars(f, v, &f->ids[i])))
                return rc;
        const ident *d = find_ident(f, NULL);
        if (d && ((d->token && (rc = run_vars_set(v, "token", d->token))) ||
                  (rc = run_vars_set(v, "sa_dir", d->paths.dir)) ||
                  (rc = run_vars_set(v, "kubeconfig", d->paths.kubeconfig))))
            return rc;
    }
    return 0;
}

int run_fakes_env(run_fakes *f, const char *identity, char ***envp, size_t *n)
{
    int rc = 0;
    char host[256], port[16];
    efk_apiserver *a = f->fake[RUN_FAKE_APISERVER];
    if (a) {
        const char *url = efk_apiserver_url(a);
        split_url(url, host, sizeof(host), port, sizeof(port));
        if ((rc = run_envv_set(envp, n, "EFKSIM_APISERVER_URL", url)) ||
            (rc = run_envv_set(envp, n, "KUBERNETES_SERVICE_HOST", host)) ||
            (rc = run_envv_set(envp, n, "KUBERNETES_SERVICE_PORT", port)))
            return rc;
        if (efk_apiserver_insecure_url(a) &&
            (rc = run_envv_set(envp, n, "EFKSIM_APISERVER_INSECURE_URL",
                               efk_apiserver_insecure_url(a))))
            return rc;
        /* the process's identity, else the default (the first) */
        const ident *d = find_ident(f, identity);
        if (d) {
            if (d->token && (rc = run_envv_set(envp, n, "EFKSIM_TOKEN", d->token)))
                return rc;
            if ((rc = run_envv_set(envp, n, "EFKSIM_SA_DIR", d->paths.dir)) ||
                (rc = run_envv_set(envp, n, "KUBECONFIG", d->paths.kubeconfig)))
                return rc;
        }
    }
    if (f->fake[RUN_FAKE_ES] &&
        (rc = run_envv_set(envp, n, "EFKSIM_ES_URL", efk_es_url(f->fake[RUN_FAKE_ES]))))
        return rc;
    if (f->fake[RUN_FAKE_RBD] &&
        (rc = run_envv_set(envp, n, "EFKSIM_RBD_MON", efk_rbd_mon(f->fake[RUN_FAKE_RBD]))))
        return rc;
    return 0;
}

/* ---- actions ---- */

static int rotate_token(run_fakes *f, const char *name, efk_err *err)
{
    efk_apiserver *a = f->fake[RUN_FAKE_APISERVER];
    ident *d = NULL;
    for (size_t i = 0; i < f->nids; i++)
        if (strcmp(f->ids[i].name, name) == 0)
            d = &f->ids[i];
    char *tok = NULL;
    int rc = efk_apiserver_token_rotate(a, name, &tok);
    if (rc)
        return efk_err_set(err, rc, "no identity \"%s\" in the API server", name);
    if (!d) {
        free(tok);
        return 0;
    }
    free(d->token);
    d->token = tok;
    /* the token file changes in place, as the kubelet's projected token does */
    if (d->paths.token && (rc = fs_write_file(d->paths.token, tok, strlen(tok), 0600, err)))
        return rc;
    return 0;
}

/* Ceph's way of naming an errno in messages. */
static int rbd_fail(efk_err *err, int rc, const char *what)
{
    if (err && err->msg[0])
        return rc;
    return efk_err_set(err, rc, "%s: %s", what, strerror(-rc));
}

static int rbd_exec(efk_rbd *r, const run_action *a, efk_err *err)
{
    int rc = 0;
    const char *name = run_action_kind_names[a->kind];
    switch (a->kind) {
    case RUN_A_RBD_LOCK_ADD: {
        efk_rbd_lock l = {.image = a->str[0],
                          .cookie = a->str[1],
                          .tag = a->str[4],
                          .client = (uint64_t)(a->ns > 0 ? a->ns : 0),
                          .node = a->str[5],
                          .locker = a->str[2],
                          .address = a->str[3]};
        rc = efk_rbd_lock_add(r, &l, err);
        break;
    }
    case RUN_A_RBD_LOCK_REMOVE:
        rc = efk_rbd_lock_remove(r, a->str[0], a->str[1], a->str[2], err);
        break;
    case RUN_A_RBD_WATCHER_ADD: {
        uint64_t id = 0;
        rc = efk_rbd_watcher_add(r, a->str[0], (uint64_t)(a->ns > 0 ? a->ns : 0), a->str[1],
                                 a->lines, &id, err);
        break;
    }
    case RUN_A_RBD_WATCHER_REMOVE:
        rc = efk_rbd_watcher_remove(r, a->str[0], (uint64_t)a->ns, a->lines, err);
        break;
    case RUN_A_RBD_CLIENT_DEAD:
        rc = efk_rbd_client_dead(r, (uint64_t)a->ns);
        break;
    case RUN_A_RBD_CLIENT_ALIVE:
        rc = efk_rbd_client_alive(r, (uint64_t)a->ns);
        break;
    case RUN_A_RBD_NODE_DEAD:
        rc = efk_rbd_node_dead(r, a->str[0]);
        break;
    case RUN_A_RBD_NODE_ALIVE:
        rc = efk_rbd_node_alive(r, a->str[0]);
        break;
    case RUN_A_RBD_BLOCKLIST_ADD:
        rc = efk_rbd_blocklist_add(r, a->str[0], a->flag, a->ns, err);
        break;
    case RUN_A_RBD_BLOCKLIST_REMOVE:
        rc = efk_rbd_blocklist_remove(r, a->str[0], a->flag, err);
        break;
    default:
        return efk_err_set(err, -ENOSYS, "%s: not an rbd action", name);
    }
    return rc ? rbd_fail(err, rc, name) : 0;
}

int run_fakes_exec(run_fakes *f, const run_action *a, efk_err *err)
{
    const char *name = run_action_kind_names[a->kind];
    run_fake_id fid = strncmp(name, "es.", 3) == 0    ? RUN_FAKE_ES
                      : strncmp(name, "rbd.", 4) == 0 ? RUN_FAKE_RBD
                                                      : RUN_FAKE_APISERVER;
    if (!f->fake[fid])
        return efk_err_set(err, -ENOSYS, "%s: the %s fake is not part of this build of efksim",
                           name, run_fake_names[fid]);
    efk_apiserver *api = f->fake[RUN_FAKE_APISERVER];
    efk_es *es = f->fake[RUN_FAKE_ES];
    int rc = 0;
    switch (a->kind) {
    case RUN_A_APISERVER_CREATE:
    case RUN_A_APISERVER_UPDATE: {
        /* create as `kubectl create` (AlreadyExists is an error), update as
         * `kubectl replace` (NotFound is an error) */
        size_t i;
        json_t *o;
        json_array_foreach (a->objects, i, o) {
            rc = a->kind == RUN_A_APISERVER_CREATE ? efk_apiserver_object_create(api, o, err)
                                                   : efk_apiserver_object_replace(api, o, err);
            if (rc)
                return rc;
        }
        return 0;
    }
    case RUN_A_APISERVER_PATCH:
        return efk_apiserver_object_patch(api, a->str[0], a->str[1], a->str[2],
                                          json_object_get(a->spec, "patch"), err);
    case RUN_A_APISERVER_DELETE:
        return efk_apiserver_object_delete(api, a->str[0], a->str[1], a->str[2], err);
    case RUN_A_APISERVER_REJECT:
    case RUN_A_APISERVER_ACCEPT:
        rc = efk_apiserver_identity_reject(api, a->str[0], a->kind == RUN_A_APISERVER_REJECT);
        if (rc)
            return efk_err_set(err, rc, "no identity \"%s\" in the API server", a->str[0]);
        return 0;
    case RUN_A_APISERVER_ROTATE_TOKEN:
        return rotate_token(f, a->str[0], err);
    case RUN_A_ES_DOWN:
        rc = efk_es_down(es);
        if (rc)
            return efk_err_set(err, rc, "cannot take es down: %s", strerror(-rc));
        return 0;
    case RUN_A_ES_UP:
        return efk_es_up(es, err);
    case RUN_A_APISERVER_FAULT_ADD:
    case RUN_A_RBD_FAULT_ADD:
        return fault_add_json(ops_table[fid]->faults(f->fake[fid]), a->spec, false, NULL, err);
    case RUN_A_ES_FAULT_ADD:
        return efk_es_fault_add(es, a->spec, NULL, err);
    case RUN_A_APISERVER_FAULT_REMOVE:
    case RUN_A_ES_FAULT_REMOVE:
    case RUN_A_RBD_FAULT_REMOVE:
        rc = fault_del(ops_table[fid]->faults(f->fake[fid]), a->str[0]);
        if (rc)
            return efk_err_set(err, rc, "no fault rule \"%s\" (it expired, or was never added)",
                               a->str[0]);
        return 0;
    default:
        break;
    }
    if (fid == RUN_FAKE_RBD)
        return rbd_exec(f->fake[RUN_FAKE_RBD], a, err);
    return efk_err_set(err, -ENOSYS, "%s: not available in this build of efksim", name);
}

void run_fakes_expected(run_fakes *f, const char *stream, uint64_t lines)
{
    if (f->fake[RUN_FAKE_ES] && efk_es_set_expected(f->fake[RUN_FAKE_ES], stream, lines)) {
        /* a stream name the accounting refuses was refused at load time */
    }
}

json_t *run_fakes_state(run_fakes *f)
{
    json_t *o = json_object();
    for (int i = 0; o && i < RUN_FAKE_N; i++)
        if (f->fake[i] && ops_table[i]->state)
            json_object_set_new(o, run_fake_names[i], ops_table[i]->state(f->fake[i]));
    return o;
}

void run_fakes_stop(run_fakes *f)
{
    if (!f)
        return;
    for (int i = RUN_FAKE_N; i-- > 0;)
        if (f->fake[i])
            ops_table[i]->stop(f->fake[i]);
    idents_free(f);
    free(f);
}

/* ---- expectation kinds ---- */

static int eval_object(run_pred *p, run_world *w, buf *obs)
{
    json_t *o = efk_apiserver_object_get(w->apiserver, p->str[0], p->str[1], p->str[2]);
    if (!o) {
        run_put(obs, "%s %s%s%s does not exist", p->str[0], p->str[1] ? p->str[1] : "",
                p->str[1] ? "/" : "", p->str[2]);
        return !p->exists;
    }
    if (!p->exists) {
        run_put(
            obs, "%s %s exists (resourceVersion %s)", p->str[0], p->str[2],
            json_string_value(json_object_get(json_object_get(o, "metadata"), "resourceVersion"))
                ?: "?");
        json_decref(o);
        return 0;
    }
    int ok = 1;
    const char *k;
    json_t *want;
    json_object_foreach (p->value, k, want) {
        json_t *got = run_ptr_get(o, k);
        char *gs = got ? json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        run_put(obs, "%s%s = %s", ok ? "" : ", ", k, gs ? gs : "(absent)");
        free(gs);
        if (!got || !json_equal(got, want))
            ok = 0;
    }
    if (!p->value)
        run_put(obs, "%s %s exists", p->str[0], p->str[2]);
    json_decref(o);
    return ok;
}

static int eval_es_count(run_pred *p, run_world *w, buf *obs)
{
    uint64_t n = 0;
    efk_err e;
    efk_err_init(&e);
    int rc = efk_es_count(w->es, p->str[0], p->query, &n, &e);
    if (rc == -ENOENT) {
        run_put(obs, "no index %s", p->str[0]);
        return run_count_ok(&p->count, 0);
    }
    if (rc) {
        run_put(obs, "%s", e.msg);
        return rc;
    }
    run_put(obs, "%llu document%s", (unsigned long long)n, n == 1 ? "" : "s");
    return run_count_ok(&p->count, (int64_t)n);
}

/* A dotted field of a document source ("kubernetes.pod_name"), trying the
 * whole key first (ES sources may hold dots in keys). */
static const json_t *field_get(const json_t *src, const char *field)
{
    const json_t *v = json_object_get(src, field);
    if (v)
        return v;
    const char *dot = strchr(field, '.');
    while (dot) {
        char head[256];
        snprintf(head, sizeof(head), "%.*s", (int)(dot - field), field);
        const json_t *sub = json_object_get(src, head);
        if (json_is_object(sub)) {
            const json_t *r = field_get(sub, dot + 1);
            if (r)
                return r;
        }
        dot = strchr(dot + 1, '.');
    }
    return NULL;
}

#define FIELD_MAX_DOCS 10000

static int eval_es_field(run_pred *p, run_world *w, buf *obs)
{
    json_t *body = json_pack("{s:O?, s:i}", "query", p->query, "size", FIELD_MAX_DOCS);
    if (!body)
        return -ENOMEM;
    if (!p->query)
        json_object_del(body, "query");
    efk_err e;
    efk_err_init(&e);
    json_t *ans = efk_es_search(w->es, p->str[0], body, &e);
    json_decref(body);
    if (!ans) {
        if (strstr(e.msg, "no such index")) {
            run_put(obs, "no index %s", p->str[0]);
            return 0;
        }
        run_put(obs, "%s", e.msg);
        return -EINVAL;
    }
    json_t *hits = json_object_get(json_object_get(ans, "hits"), "hits");
    size_t n = json_array_size(hits), good = 0;
    char *bad_example = NULL;
    size_t i;
    json_t *h;
    json_array_foreach (hits, i, h) {
        const json_t *v = field_get(json_object_get(h, "_source"), p->str[1]);
        bool ok;
        if (p->value)
            ok = v && json_equal((json_t *)v, p->value);
        else
            ok = json_is_string(v) && regexec(&p->re, json_string_value(v), 0, NULL, 0) == 0;
        if (ok)
            good++;
        else if (!bad_example)
            bad_example = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("(absent)");
    }
    json_decref(ans);
    /* no document is not "every document": it never passes vacuously */
    int r = n > 0 && (p->exists ? good == n : good > 0);
    run_put(obs, "%zu of %zu matching document%s ha%s it", good, n, n == 1 ? "" : "s",
            good == 1 ? "s" : "ve");
    if (bad_example)
        run_put(obs, "; one has %s", bad_example);
    free(bad_example);
    return r;
}

static const char *const dnames[5] = {"expected", "delivered", "lost", "duplicated", "reordered"};

static int eval_delivery(run_pred *p, run_world *w, buf *obs)
{
    uint64_t v[5] = {0};
    bool has_expected = true;
    if (p->str[2]) {
        efk_es_delivery d;
        uint64_t ranges[4][2];
        efk_es_delivery_get(w->es, p->str[2], &d, ranges, 4);
        if (!d.known) {
            run_put(obs, "stream %s never seen", p->str[2]);
        }
        v[0] = d.expected;
        v[1] = d.delivered;
        v[2] = d.lost;
        v[3] = d.duplicated;
        v[4] = d.out_of_order;
        has_expected = d.has_expected;
        if (d.lost && d.nlost_ranges) {
            run_put(obs, "lost ranges:");
            for (size_t i = 0; i < d.nlost_ranges && i < 4; i++)
                run_put(obs, " %llu-%llu", (unsigned long long)ranges[i][0],
                        (unsigned long long)ranges[i][1]);
            if (d.nlost_ranges > 4)
                run_put(obs, " ...");
            run_put(obs, "; ");
        }
    } else {
        /* all streams, summed */
        json_t *rep = efk_es_delivery_render(w->es, NULL);
        json_t *streams = json_object_get(rep, "streams");
        const char *k;
        json_t *st;
        json_object_foreach (streams, k, st) {
            efk_es_delivery d;
            efk_es_delivery_get(w->es, k, &d, NULL, 0);
            v[0] += d.expected;
            v[1] += d.delivered;
            v[2] += d.lost;
            v[3] += d.duplicated;
            v[4] += d.out_of_order;
            has_expected = has_expected && d.has_expected;
        }
        json_decref(rep);
    }
    int ok = 1;
    for (int k = 0; k < 5; k++) {
        run_put(obs, "%s%s %llu", k ? ", " : "", dnames[k], (unsigned long long)v[k]);
        if (p->dhas[k] && !run_count_ok(&p->dcount[k], (int64_t)v[k]))
            ok = 0;
    }
    if (!has_expected)
        run_put(obs, " (expected not yet known)");
    return ok;
}

/* An rbd lock or watcher entry matches the condition's filters. */
static bool entry_has(const json_t *e, const char *key, const char *glob)
{
    if (!glob)
        return true;
    const char *v = json_string_value(json_object_get(e, key));
    return v && fault_glob(glob, v);
}

static void list_brief(buf *obs, const json_t *arr, const char *k1, const char *k2)
{
    size_t i;
    json_t *e;
    json_array_foreach (arr, i, e) {
        run_put(obs, "%s%s", i ? ", " : "", json_string_value(json_object_get(e, k1)) ?: "?");
        if (k2) {
            json_t *v = json_object_get(e, k2);
            if (json_is_string(v))
                run_put(obs, " %s", json_string_value(v));
            else if (json_is_integer(v))
                run_put(obs, " %lld", (long long)json_integer_value(v));
        }
    }
}

static int eval_rbd(run_pred *p, run_world *w, buf *obs)
{
    efk_rbd *r = w->rbd;
    int rr = 0;
    switch (p->kind) {
    case RUN_P_RBD_LOCK: {
        json_t *rec = efk_rbd_locks(r, p->str[0], &rr);
        if (!rec) {
            run_put(obs, "no image %s", p->str[0]);
            return !p->exists;
        }
        json_t *lockers = json_object_get(rec, "lockers");
        size_t n = 0, i;
        json_t *e;
        json_array_foreach (lockers, i, e) {
            if (entry_has(e, "cookie", p->str[1]) && entry_has(e, "locker", p->str[2]))
                n++;
        }
        if (json_array_size(lockers)) {
            run_put(obs, "%s lock held by ",
                    json_string_value(json_object_get(rec, "type")) ?: "a");
            list_brief(obs, lockers, "locker", "cookie");
        } else {
            run_put(obs, "no lock");
        }
        json_decref(rec);
        return p->exists ? n > 0 : n == 0;
    }
    case RUN_P_RBD_WATCHER: {
        json_t *ws = efk_rbd_watchers(r, p->str[0], &rr);
        if (!ws) {
            run_put(obs, "no image %s", p->str[0]);
            return !p->exists;
        }
        size_t n = 0, i;
        json_t *e;
        json_array_foreach (ws, i, e) {
            if (entry_has(e, "address", p->str[1]))
                n++;
        }
        if (json_array_size(ws)) {
            run_put(obs, "watchers: ");
            list_brief(obs, ws, "address", "client");
        } else {
            run_put(obs, "no watchers");
        }
        json_decref(ws);
        return p->exists ? n > 0 : n == 0;
    }
    case RUN_P_RBD_BLOCKLIST: {
        bool is = efk_rbd_is_blocklisted(r, p->str[0]);
        json_t *bl = efk_rbd_blocklist(r);
        run_put(obs, "%s is %sblocklisted; blocklist: ", p->str[0], is ? "" : "not ");
        if (json_array_size(bl))
            list_brief(obs, bl, json_object_get(json_array_get(bl, 0), "addr") ? "addr" : "range",
                       NULL);
        else
            run_put(obs, "empty");
        json_decref(bl);
        return p->exists ? is : !is;
    }
    case RUN_P_RBD_AUDIT: {
        if (p->ops) {
            /* each pattern's first match after the previous one's */
            uint64_t at = 0;
            for (size_t i = 0; i < p->nops; i++) {
                uint64_t seq = efk_rbd_audit_find(r, at, json_array_get(p->ops, i));
                if (!seq) {
                    char *m = json_dumps(json_array_get(p->ops, i), JSON_COMPACT);
                    run_put(obs, "no %s %s", m ? m : "?",
                            i ? "after the earlier ones (audit entry " : "in the audit log");
                    if (i)
                        run_put(obs, "%llu)", (unsigned long long)at);
                    free(m);
                    return 0;
                }
                at = seq;
            }
            run_put(obs, "all %zu in order, the last at audit entry %llu", p->nops,
                    (unsigned long long)at);
            return 1;
        }
        const json_t *m = json_object_get(p->spec, "match");
        int64_t n = 0;
        uint64_t at = 0;
        while ((at = efk_rbd_audit_find(r, at, m)) != 0 && n < INT64_MAX)
            n++;
        run_put(obs, "%lld matching audit entr%s", (long long)n, n == 1 ? "y" : "ies");
        return run_count_ok(&p->count, n);
    }
    default:
        break;
    }
    return -EINVAL;
}

int run_fakes_eval(run_pred *p, run_world *w, buf *observed)
{
    switch (p->kind) {
    case RUN_P_APISERVER_OBJECT:
        if (!w->apiserver)
            break;
        return eval_object(p, w, observed);
    case RUN_P_ES_COUNT:
        if (!w->es)
            break;
        return eval_es_count(p, w, observed);
    case RUN_P_ES_FIELD:
        if (!w->es)
            break;
        return eval_es_field(p, w, observed);
    case RUN_P_ES_DELIVERY:
        if (!w->es)
            break;
        return eval_delivery(p, w, observed);
    case RUN_P_RBD_LOCK:
    case RUN_P_RBD_WATCHER:
    case RUN_P_RBD_BLOCKLIST:
    case RUN_P_RBD_AUDIT:
        if (!w->rbd)
            break;
        return eval_rbd(p, w, observed);
    default:
        break;
    }
    run_put(observed, "%s is not available in this build of efksim", run_pred_kind_names[p->kind]);
    return -ENOSYS;
}

void run_fakes_context(const run_pred *p, run_world *w, buf *out)
{
    if ((p->kind == RUN_P_RBD_AUDIT || p->kind == RUN_P_RBD_LOCK || p->kind == RUN_P_RBD_WATCHER ||
         p->kind == RUN_P_RBD_BLOCKLIST) &&
        w->rbd) {
        json_t *all = efk_rbd_audit(w->rbd, 0);
        size_t n = json_array_size(all), from = n > 8 ? n - 8 : 0;
        run_put(out, "\n    last %zu of %zu rbd audit entries:", n - from, n);
        for (size_t i = from; i < n; i++) {
            json_t *e = json_array_get(all, i);
            json_t *argv = json_object_get(e, "argv");
            run_put(out, "\n      #%lld %s",
                    (long long)json_integer_value(json_object_get(e, "seq")),
                    json_string_value(json_object_get(e, "event")) ?: "?");
            const char *keys[] = {"op",     "tool",   "client", "pool", "image",
                                  "cookie", "locker", "addr",   NULL};
            for (const char **k = keys; *k; k++) {
                const char *v = json_string_value(json_object_get(e, *k));
                if (v)
                    run_put(out, " %s=%s", *k, v);
            }
            if (json_is_array(argv)) {
                char *a = json_dumps(argv, JSON_COMPACT);
                run_put(out, " argv=%.200s", a ? a : "");
                free(a);
            }
            if (json_object_get(e, "r"))
                run_put(out, " r=%lld", (long long)json_integer_value(json_object_get(e, "r")));
        }
        json_decref(all);
        return;
    }
    if (p->kind == RUN_P_ES_DELIVERY && w->es) {
        json_t *rep = efk_es_delivery_render(w->es, p->str[2]);
        char *s = rep ? json_dumps(rep, JSON_COMPACT) : NULL;
        if (s)
            run_put(out, "\n    delivery report: %.1500s", s);
        free(s);
        json_decref(rep);
    }
}

int run_fakes_check_fault(run_ck *c, const char *ptr, const json_t *v, run_fake_id f)
{
    if (!ops_table[f])
        return unavailable(c, ptr, f);
    /* check against a scratch chain with the fake's own actions: the same
     * parser and parameter checks the running fake uses */
    fault_chain *ch = fault_chain_new(NULL, 0, "check");
    if (!ch || fake_fault_actions[f](ch)) {
        fault_chain_free(ch);
        return efk_err_set(c->err, -ENOMEM, "out of memory");
    }
    efk_err e;
    efk_err_init(&e);
    int rc = fault_check_json(ch, v, &e);
    fault_chain_free(ch);
    if (rc)
        return relay(c, ptr, &e, rc);
    return 0;
}

int run_fakes_check_rbd(run_ck *c, const char *ptr, const json_t *v, run_action *a)
{
    (void)v;
    (void)a;
    if (!ops_table[RUN_FAKE_RBD])
        return unavailable(c, ptr, RUN_FAKE_RBD);
    return 0;
}
