#include "run_fakes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static const run_fake_ops *const ops_table[RUN_FAKE_N] = {NULL, NULL, NULL};

struct run_fakes_cfg {
    void *cfg[RUN_FAKE_N]; /* efk_X_config, or NULL when not available */
};

struct run_fakes {
    const run_fakes_cfg *cfg;
    void *fake[RUN_FAKE_N];
    struct run_workdir *wd;
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
            /* the fake's pointer is relative to its section */
            char full[RUN_PTR_MAX + EFK_ERR_PLACE_MAX];
            snprintf(full, sizeof(full), "%s%s", ptr, e.pointer);
            full[RUN_PTR_MAX - 1] = '\0';
            run_doc_err(c->doc, c->err, rc, full, "%s", e.msg[0] ? e.msg : "invalid");
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
    (void)cfg;
    (void)names;
    (void)max;
    return 0;
}

int run_fakes_declare_vars(const run_fakes_cfg *cfg, run_vars *v)
{
    static const char *const per_fake[RUN_FAKE_N][6] = {
        {"apiserver.url", "apiserver.insecure_url", "apiserver.host", "apiserver.port", NULL},
        {"es.url", "es.host", "es.port", NULL},
        {"rbd.mon", "rbd.url", NULL},
    };
    int rc;
    for (int f = 0; f < RUN_FAKE_N; f++) {
        if (!cfg->cfg[f])
            continue;
        for (int i = 0; per_fake[f][i]; i++)
            if ((rc = run_vars_set(v, per_fake[f][i], NULL)))
                return rc;
    }
    return 0;
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
            efk_err_set(err, rc, "cannot start the %s fake: %s", run_fake_names[i], msg);
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

int run_fakes_set_vars(run_fakes *f, run_vars *v)
{
    int rc = 0;
    char host[256], port[16];
    if (f->fake[RUN_FAKE_ES]) {
        const char *url = ops_table[RUN_FAKE_ES]->url(f->fake[RUN_FAKE_ES]);
        split_url(url, host, sizeof(host), port, sizeof(port));
        if ((rc = run_vars_set(v, "es.url", url)) || (rc = run_vars_set(v, "es.host", host)) ||
            (rc = run_vars_set(v, "es.port", port)))
            return rc;
    }
    if (f->fake[RUN_FAKE_RBD]) {
        const char *url = ops_table[RUN_FAKE_RBD]->url(f->fake[RUN_FAKE_RBD]);
        split_url(url, host, sizeof(host), port, sizeof(port));
        char mon[300];
        snprintf(mon, sizeof(mon), "%s:%s", host, port);
        if ((rc = run_vars_set(v, "rbd.mon", mon)) || (rc = run_vars_set(v, "rbd.url", url)))
            return rc;
    }
    if (f->fake[RUN_FAKE_APISERVER]) {
        const char *url = ops_table[RUN_FAKE_APISERVER]->url(f->fake[RUN_FAKE_APISERVER]);
        split_url(url, host, sizeof(host), port, sizeof(port));
        if ((rc = run_vars_set(v, "apiserver.url", url)) ||
            (rc = run_vars_set(v, "apiserver.host", host)) ||
            (rc = run_vars_set(v, "apiserver.port", port)))
            return rc;
    }
    return 0;
}

static int env_add(char ***envp, size_t *n, const char *name, const char *value)
{
    char **nv = realloc(*envp, (*n + 2) * sizeof(*nv));
    if (!nv)
        return -ENOMEM;
    *envp = nv;
    if (asprintf(&nv[*n], "%s=%s", name, value) < 0)
        return -ENOMEM;
    (*n)++;
    nv[*n] = NULL;
    return 0;
}

int run_fakes_env(run_fakes *f, const char *identity, char ***envp, size_t *n)
{
    int rc = 0;
    (void)identity;
    if (f->fake[RUN_FAKE_ES] &&
        (rc = env_add(envp, n, "EFKSIM_ES_URL", ops_table[RUN_FAKE_ES]->url(f->fake[RUN_FAKE_ES]))))
        return rc;
    if (f->fake[RUN_FAKE_RBD]) {
        char host[256], port[16], mon[300];
        split_url(ops_table[RUN_FAKE_RBD]->url(f->fake[RUN_FAKE_RBD]), host, sizeof(host), port,
                  sizeof(port));
        snprintf(mon, sizeof(mon), "%s:%s", host, port);
        if ((rc = env_add(envp, n, "EFKSIM_RBD_MON", mon)))
            return rc;
    }
    return 0;
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
    switch (a->kind) {
    case RUN_A_APISERVER_FAULT_ADD:
    case RUN_A_ES_FAULT_ADD:
    case RUN_A_RBD_FAULT_ADD: {
        fault_chain *ch = ops_table[fid]->faults(f->fake[fid]);
        return fault_add_json(ch, a->spec, false, NULL, err);
    }
    case RUN_A_APISERVER_FAULT_REMOVE:
    case RUN_A_ES_FAULT_REMOVE:
    case RUN_A_RBD_FAULT_REMOVE: {
        fault_chain *ch = ops_table[fid]->faults(f->fake[fid]);
        int rc = fault_del(ch, a->str[0]);
        if (rc)
            return efk_err_set(err, rc, "%s: no fault rule \"%s\" (expired, or never added)", name,
                               a->str[0]);
        return 0;
    }
    default: break;
    }
    return efk_err_set(err, -ENOSYS, "%s: not available in this build of efksim", name);
}

void run_fakes_expected(run_fakes *f, const char *stream, uint64_t lines)
{
    (void)f;
    (void)stream;
    (void)lines;
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
    free(f);
}

int run_fakes_eval(run_pred *p, run_world *w, buf *observed)
{
    if (observed && buf_printf(observed, "%s is not available in this build of efksim",
                               run_pred_kind_names[p->kind])) {
    }
    return -ENOSYS;
}

void run_fakes_context(const run_pred *p, run_world *w, buf *out)
{
    (void)p;
    (void)w;
    (void)out;
}

int run_fakes_check_fault(run_ck *c, const char *ptr, const json_t *v, run_fake_id f)
{
    if (!ops_table[f])
        return unavailable(c, ptr, f);
    /* validate against a scratch chain: same parser as the running fake */
    fault_chain *ch = fault_chain_new(NULL, 0, "check");
    if (!ch)
        return efk_err_set(c->err, -ENOMEM, "out of memory");
    efk_err e;
    efk_err_init(&e);
    int rc = fault_check_json(ch, v, &e);
    fault_chain_free(ch);
    if (rc) {
        char full[RUN_PTR_MAX + EFK_ERR_PLACE_MAX];
        snprintf(full, sizeof(full), "%s%s", ptr, e.pointer);
        full[RUN_PTR_MAX - 1] = '\0';
        return run_doc_err(c->doc, c->err, rc, full, "%s", e.msg);
    }
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
