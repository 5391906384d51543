/*
 * apis_serve - the fake API server alone, for the client tests: a fresh
 * work dir with the test PKI, identity files and kubeconfig, one line
 * "efksim: ready" on stdout, then commands on stdin until EOF or SIGTERM.
 *
 *   apis_serve [--workdir DIR] [--config SECTION.json] [--set KEY=JSON]...
 *
 * SECTION.json is a "fakes.apiserver" object; --set replaces one of its
 * top-level keys (the value is JSON, or a plain string). The env file
 * DIR/env carries the names `efksim serve` writes (EFKSIM_APISERVER_URL,
 * EFKSIM_TOKEN, EFKSIM_SA_DIR, KUBECONFIG, ...).
 *
 * Commands (one per line; each answers "ok ..." or "error: ..."):
 *   reject NAME | accept NAME | rotate NAME (rewrites its token file)
 *   apply {json object} | patch KIND NS NAME {merge patch} | delete KIND NS NAME
 *   fault {rule json} | token NAME | rv | watches
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "efksim.h"
#include "core/fsutil.h"
#include "testserver.h"
#include "workdir.h"

static int die(const char *what, const efk_err *err)
{
    char b[2048];
    fprintf(stderr, "apis_serve: %s: %s\n", what, efk_err_render(err, b, sizeof(b)));
    return 2;
}

typedef struct ident_files {
    char *name;
    run_identity_paths paths;
} ident_files;

static int write_identities(efk_apiserver *a, run_workdir *w, ident_files **out, size_t *nout,
                            efk_err *err)
{
    size_t n = efk_apiserver_identity_count(a);
    run_identity *ids = calloc(n, sizeof(*ids));
    ident_files *files = calloc(n, sizeof(*files));
    json_t **descs = calloc(n, sizeof(*descs));
    char **tokens = calloc(n, sizeof(*tokens));
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        descs[i] = efk_apiserver_identity_at(a, i);
        const char *name = json_string_value(json_object_get(descs[i], "name"));
        ids[i].name = name;
        json_t *g = json_object_get(descs[i], "groups");
        for (size_t k = 0; k < json_array_size(g) && k < RUN_MAX_GROUPS; k++)
            ids[i].groups[ids[i].ngroups++] = json_string_value(json_array_get(g, k));
        if (efk_apiserver_token(a, name, &tokens[i]))
            tokens[i] = NULL;
        ids[i].token = tokens[i];
        ids[i].cert = json_is_true(json_object_get(descs[i], "cert"));
        /* service accounts live in their namespace */
        const char *pre = "system:serviceaccount:";
        static char nsbuf[64][256];
        if (!strncmp(name, pre, strlen(pre)) && i < 64) {
            const char *ns = name + strlen(pre);
            snprintf(nsbuf[i], sizeof(nsbuf[i]), "%.*s", (int)strcspn(ns, ":"), ns);
            ids[i].namespace = nsbuf[i];
        }
        files[i].name = strdup(name);
        rc = run_workdir_identity(w, &ids[i], efk_apiserver_url(a), &files[i].paths, err);
    }
    if (!rc && n) {
        run_identity_paths *paths = calloc(n, sizeof(*paths));
        for (size_t i = 0; i < n; i++)
            paths[i] = files[i].paths;
        rc = run_workdir_kubeconfig(w, ids, paths, n, 0, efk_apiserver_url(a), err);
        free(paths);
    }
    for (size_t i = 0; i < n; i++) {
        json_decref(descs[i]);
        free(tokens[i]);
    }
    free(descs);
    free(tokens);
    free(ids);
    *out = files;
    *nout = n;
    return rc;
}

static void reply(const char *fmt, const char *a) __attribute__((format(printf, 1, 0)));

static void reply(const char *fmt, const char *a)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    printf(fmt, a);
#pragma GCC diagnostic pop
    putchar('\n');
    fflush(stdout);
}

static void command(efk_apiserver *a, ident_files *files, size_t nfiles, char *line)
{
    efk_err err;
    efk_err_init(&err);
    char *sp = strchr(line, ' ');
    char *arg = sp ? sp + 1 : (char *)"";
    if (sp)
        *sp = '\0';
    if (!strcmp(line, "reject") || !strcmp(line, "accept")) {
        int rc = efk_apiserver_identity_reject(a, arg, !strcmp(line, "reject"));
        reply(rc ? "error: no identity %s" : "ok %s", arg);
    } else if (!strcmp(line, "rotate")) {
        char *tok = NULL;
        if (efk_apiserver_token_rotate(a, arg, &tok)) {
            reply("error: no identity %s", arg);
            return;
        }
        for (size_t i = 0; i < nfiles; i++)
            if (!strcmp(files[i].name, arg) && files[i].paths.token &&
                fs_write_file(files[i].paths.token, tok, strlen(tok), 0600, &err))
                reply("error: %s", err.msg);
        reply("ok %s", tok);
        free(tok);
    } else if (!strcmp(line, "token")) {
        char *tok = NULL;
        if (efk_apiserver_token(a, arg, &tok) || !tok)
            reply("error: no token for %s", arg);
        else
            reply("ok %s", tok);
        free(tok);
    } else if (!strcmp(line, "apply") || !strcmp(line, "fault")) {
        json_error_t je;
        json_t *o = json_loads(arg, 0, &je);
        int rc = -EINVAL;
        if (!o)
            snprintf(err.msg, sizeof(err.msg), "bad JSON: %s", je.text);
        else if (!strcmp(line, "apply"))
            rc = efk_apiserver_object_apply(a, o, &err);
        else
            rc = fault_add_json(efk_apiserver_faults(a), o, false, NULL, &err);
        json_decref(o);
        reply(rc ? "error: %s" : "ok%s", rc ? err.msg : "");
    } else if (!strcmp(line, "delete") || !strcmp(line, "patch")) {
        char kind[64], ns[256], name[256];
        int used = 0;
        if (sscanf(arg, "%63s %255s %255s %n", kind, ns, name, &used) < 3) {
            reply("error: usage: %s KIND NS NAME", line);
            return;
        }
        const char *nsp = strcmp(ns, "-") ? ns : NULL;
        int rc;
        if (!strcmp(line, "delete")) {
            rc = efk_apiserver_object_delete(a, kind, nsp, name, &err);
        } else {
            json_t *p = json_loads(arg + used, 0, NULL);
            rc = p ? efk_apiserver_object_patch(a, kind, nsp, name, p, &err) : -EINVAL;
            if (!p)
                snprintf(err.msg, sizeof(err.msg), "bad JSON patch");
            json_decref(p);
        }
        reply(rc ? "error: %s" : "ok%s", rc ? err.msg : "");
    } else if (!strcmp(line, "rv")) {
        char b[32];
        snprintf(b, sizeof(b), "%llu", (unsigned long long)efk_apiserver_resource_version(a));
        reply("ok %s", b);
    } else if (!strcmp(line, "watches")) {
        char b[32];
        snprintf(b, sizeof(b), "%zu", efk_apiserver_watch_count(a));
        reply("ok %s", b);
    } else {
        reply("error: unknown command %s", line);
    }
}

/* What a stdin command needs. */
typedef struct serve_ctx {
    efk_apiserver *a;
    ident_files *files;
    size_t nfiles;
} serve_ctx;

static void on_line(void *arg, char *line)
{
    serve_ctx *c = arg;
    command(c->a, c->files, c->nfiles, line);
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *cfgfile = NULL;
    json_t *section = json_object();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--workdir") && i + 1 < argc) {
            dir = argv[++i];
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            cfgfile = argv[++i];
        } else if (!strcmp(argv[i], "--set") && i + 1 < argc) {
            char *kv = argv[++i], *eq = strchr(kv, '=');
            if (!eq) {
                fprintf(stderr, "apis_serve: --set wants KEY=VALUE\n");
                return 2;
            }
            *eq = '\0';
            json_t *v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
            json_object_set_new(section, kv, v ? v : json_string(eq + 1));
        } else {
            fprintf(stderr, "usage: apis_serve [--workdir DIR] [--config FILE] [--set K=V]...\n");
            return 2;
        }
    }
    efk_err err;
    efk_err_init(&err);
    if (cfgfile) {
        json_error_t je;
        json_t *f = json_load_file(cfgfile, 0, &je);
        if (!f) {
            fprintf(stderr, "apis_serve: %s:%d:%d: %s\n", cfgfile, je.line, je.column, je.text);
            return 2;
        }
        json_object_update_missing(section, f);
        json_decref(f);
    }
    efk_apiserver_config cfg;
    efk_apiserver_config_init(&cfg);
    if (efk_apiserver_config_parse(&cfg, section, ".", &err))
        return die("fakes.apiserver", &err);
    json_decref(section);
    run_workdir w;
    if (run_workdir_init(&w, dir, &err))
        return die("work dir", &err);
    efk_runtime rt;
    run_workdir_runtime(&w, &rt);
    rt.seed = 42;
    rt.journal_files = true;
    efk_apiserver *a = NULL;
    if (efk_apiserver_start(&cfg, &rt, &a, &err))
        return die("start", &err);
    ident_files *files = NULL;
    size_t nfiles = 0;
    if (write_identities(a, &w, &files, &nfiles, &err))
        return die("identities", &err);
    run_env env;
    run_env_init(&env);
    char port[16];
    const char *url = efk_apiserver_url(a);
    snprintf(port, sizeof(port), "%s", strrchr(url, ':') + 1);
    char *kc = fs_join(w.dir, "kubeconfig"), *envpath = fs_join(w.dir, "env");
    char *tok = NULL;
    if (nfiles && efk_apiserver_token(a, files[0].name, &tok))
        tok = NULL;
    if (run_env_set(&env, "EFKSIM_WORKDIR", w.dir) || run_env_set(&env, "EFKSIM_CA", w.ca_path) ||
        run_env_set(&env, "EFKSIM_APISERVER_URL", url) ||
        (efk_apiserver_insecure_url(a) &&
         run_env_set(&env, "EFKSIM_APISERVER_INSECURE_URL", efk_apiserver_insecure_url(a))) ||
        run_env_set(&env, "KUBERNETES_SERVICE_HOST", "127.0.0.1") ||
        run_env_set(&env, "KUBERNETES_SERVICE_PORT", port) ||
        run_env_set(&env, "EFKSIM_TOKEN", tok ? tok : "") ||
        run_env_set(&env, "EFKSIM_SA_DIR", nfiles ? files[0].paths.dir : "") ||
        run_env_set(&env, "KUBECONFIG", kc) || run_env_write(&env, envpath, &err))
        return die("env file", &err);
    free(tok);
    printf("efksim: ready %s %s\n", url, envpath);
    fflush(stdout);
    serve_ctx sc = {a, files, nfiles};
    ts_serve_stdin(on_line, &sc);
    efk_apiserver_stop(a);
    for (size_t i = 0; i < nfiles; i++) {
        free(files[i].name);
        run_identity_paths_cleanup(&files[i].paths);
    }
    free(files);
    run_env_cleanup(&env);
    free(kc);
    free(envpath);
    efk_apiserver_config_cleanup(&cfg);
    run_workdir_cleanup(&w, dir == NULL);
    return 0;
}
