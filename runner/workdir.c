#include "workdir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"

int run_workdir_init(run_workdir *w, const char *dir, efk_err *err)
{
    int rc = 0;
    char *p = NULL;
    memset(w, 0, sizeof(*w));
    if (dir) {
        if ((rc = fs_mkdirs(dir, 0755, err)))
            return rc;
        char real[PATH_MAX];
        if (!realpath(dir, real))
            return efk_err_set(err, -errno, "work dir %s: %s", dir, strerror(errno));
        w->dir = strdup(real);
    } else {
        const char *t = getenv("TMPDIR");
        char tmpl[PATH_MAX];
        snprintf(tmpl, sizeof(tmpl), "%s/efksim-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(tmpl))
            return efk_err_set(err, -errno, "cannot create a work dir in %s: %s",
                               t && *t ? t : "/tmp", strerror(errno));
        w->dir = strdup(tmpl);
        w->created = true;
    }
    if (!w->dir)
        return efk_err_set(err, -ENOMEM, "out of memory");
    const char *subs[] = {"pki", "identities", "var/log/containers", "journal"};
    for (size_t i = 0; i < 4; i++) {
        free(p);
        p = fs_join(w->dir, subs[i]);
        if (!p) {
            rc = efk_err_set(err, -ENOMEM, "out of memory");
            goto out;
        }
        if ((rc = fs_mkdirs(p, 0755, err)))
            goto out;
    }
    w->ca_path = fs_join(w->dir, "pki/ca.crt");
    w->log_dir = fs_join(w->dir, "var/log/containers");
    w->journal_dir = fs_join(w->dir, "journal");
    if (!w->ca_path || !w->log_dir || !w->journal_dir) {
        rc = efk_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = pki_ca_new("efksim-ca", &w->ca, err)) ||
        (rc = pki_issue_server(w->ca, "efksim", NULL, NULL, &w->server, err)))
        goto out;
    struct {
        const char *name;
        const char *data;
        mode_t mode;
    } files[] = {{"pki/ca.crt", pki_ca_cert_pem(w->ca), 0644},
                 {"pki/ca.key", pki_ca_key_pem(w->ca), 0600},
                 {"pki/server.crt", w->server.cert_pem, 0644},
                 {"pki/server.key", w->server.key_pem, 0600}};
    for (size_t i = 0; i < 4; i++) {
        free(p);
        p = fs_join(w->dir, files[i].name);
        if (!p) {
            rc = efk_err_set(err, -ENOMEM, "out of memory");
            goto out;
        }
        if ((rc = fs_write_file(p, files[i].data, strlen(files[i].data), files[i].mode, err)))
            goto out;
    }
out:
    free(p);
    if (rc)
        run_workdir_cleanup(w, true);
    return rc;
}

void run_workdir_cleanup(run_workdir *w, bool remove)
{
    if (remove && w->created && w->dir)
        fs_remove_tree(w->dir);
    free(w->dir);
    free(w->ca_path);
    free(w->log_dir);
    free(w->journal_dir);
    pki_pair_cleanup(&w->server);
    pki_ca_free(w->ca);
    memset(w, 0, sizeof(*w));
}

void run_workdir_runtime(run_workdir *w, efk_runtime *rt)
{
    memset(rt, 0, sizeof(*rt));
    rt->clock = clock_system();
    rt->workdir = w->dir;
    rt->ca = w->ca;
    rt->ca_pem = pki_ca_cert_pem(w->ca);
    rt->server_cert_pem = w->server.cert_pem;
    rt->server_key_pem = w->server.key_pem;
}

char *run_identity_dirname(const char *name)
{
    char *d = strdup(name && *name ? name : "_");
    if (!d)
        return NULL;
    for (char *p = d; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok)
            *p = '_';
    }
    if (strcmp(d, ".") == 0 || strcmp(d, "..") == 0)
        d[0] = '_';
    return d;
}

void run_identity_paths_cleanup(run_identity_paths *p)
{
    free(p->dir);
    free(p->token);
    free(p->cert);
    free(p->key);
    free(p->kubeconfig);
    memset(p, 0, sizeof(*p));
}

/* A YAML double-quoted scalar: JSON string escaping is valid YAML. */
static int yq(buf *b, const char *s)
{
    return buf_json_str(b, s, strlen(s));
}

/* One user entry of a kubeconfig. */
static int kc_user(buf *b, const run_identity *id, const run_identity_paths *p)
{
    int rc = buf_puts(b, "- name: ");
    rc = rc ? rc : yq(b, id->name);
    rc = rc ? rc : buf_puts(b, "\n  user:\n");
    if (!rc && id->token) {
        rc = buf_puts(b, "    token: ");
        rc = rc ? rc : yq(b, id->token);
        rc = rc ? rc : buf_puts(b, "\n");
    }
    if (!rc && p->cert) {
        rc = buf_puts(b, "    client-certificate: ");
        rc = rc ? rc : yq(b, p->cert);
        rc = rc ? rc : buf_puts(b, "\n    client-key: ");
        rc = rc ? rc : yq(b, p->key);
        rc = rc ? rc : buf_puts(b, "\n");
    }
    if (!rc && !id->token && !p->cert)
        rc = buf_puts(b, "    {}\n");
    return rc;
}

static int kc_context(buf *b, const run_identity *id)
{
    char ctx[512];
    snprintf(ctx, sizeof(ctx), "%s@efksim", id->name);
    int rc = buf_puts(b, "- name: ");
    rc = rc ? rc : yq(b, ctx);
    rc = rc ? rc : buf_puts(b, "\n  context:\n    cluster: efksim\n    user: ");
    rc = rc ? rc : yq(b, id->name);
    rc = rc ? rc : buf_puts(b, "\n    namespace: ");
    rc = rc ? rc : yq(b, id->namespace ? id->namespace : "default");
    rc = rc ? rc : buf_puts(b, "\n");
    return rc;
}

static int kc_write(const char *path, const char *ca_path, const char *https_url,
                    const run_identity *ids, const run_identity_paths *paths, size_t n,
                    size_t current, efk_err *err)
{
    buf b;
    buf_init(&b, 0);
    int rc = buf_puts(&b, "apiVersion: v1\nkind: Config\nclusters:\n- name: efksim\n  cluster:\n"
                          "    server: ");
    rc = rc ? rc : yq(&b, https_url);
    rc = rc ? rc : buf_puts(&b, "\n    certificate-authority: ");
    rc = rc ? rc : yq(&b, ca_path);
    rc = rc ? rc : buf_puts(&b, "\nusers:\n");
    for (size_t i = 0; !rc && i < n; i++)
        rc = kc_user(&b, &ids[i], &paths[i]);
    rc = rc ? rc : buf_puts(&b, "contexts:\n");
    for (size_t i = 0; !rc && i < n; i++)
        rc = kc_context(&b, &ids[i]);
    if (!rc) {
        char ctx[512];
        snprintf(ctx, sizeof(ctx), "%s@efksim", ids[current].name);
        rc = buf_puts(&b, "current-context: ");
        rc = rc ? rc : yq(&b, ctx);
        rc = rc ? rc : buf_puts(&b, "\npreferences: {}\n");
    }
    if (rc)
        rc = efk_err_set(err, rc, "out of memory writing %s", path);
    else
        rc = fs_write_file(path, b.data, b.len, 0600, err);
    buf_cleanup(&b);
    return rc;
}

int run_workdir_identity(run_workdir *w, const run_identity *id, const char *https_url,
                         run_identity_paths *out, efk_err *err)
{
    int rc = 0;
    pki_pair cert = {0};
    char *name = run_identity_dirname(id->name);
    char *rel = NULL, *p = NULL;
    memset(out, 0, sizeof(*out));
    if (!name || asprintf(&rel, "identities/%s", name) < 0 || !(out->dir = fs_join(w->dir, rel))) {
        rc = efk_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = fs_mkdirs(out->dir, 0755, err)))
        goto out;
    const char *ns = id->namespace ? id->namespace : "default";
    struct idfile {
        const char *file;
        const char *data;
        mode_t mode;
        char **keep;
    } files[5] = {{"ca.crt", pki_ca_cert_pem(w->ca), 0644, NULL},
                  {"namespace", ns, 0644, NULL},
                  {"token", id->token, 0600, &out->token}};
    size_t nf = 3;
    if (id->cert) {
        if ((rc = pki_issue_client(w->ca, id->name, id->groups, id->ngroups, &cert, err)))
            goto out;
        files[nf++] = (struct idfile){"client.crt", cert.cert_pem, 0644, &out->cert};
        files[nf++] = (struct idfile){"client.key", cert.key_pem, 0600, &out->key};
    }
    for (size_t i = 0; i < nf; i++) {
        if (!files[i].data)
            continue; /* no token */
        free(p);
        if (!(p = fs_join(out->dir, files[i].file))) {
            rc = efk_err_set(err, -ENOMEM, "out of memory");
            goto out;
        }
        if ((rc = fs_write_file(p, files[i].data, strlen(files[i].data), files[i].mode, err)))
            goto out;
        if (files[i].keep) {
            *files[i].keep = p;
            p = NULL;
        }
    }
    if (!(out->kubeconfig = fs_join(out->dir, "kubeconfig"))) {
        rc = efk_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    rc = kc_write(out->kubeconfig, w->ca_path, https_url, id, out, 1, 0, err);
out:
    pki_pair_cleanup(&cert);
    free(p);
    free(rel);
    free(name);
    if (rc)
        run_identity_paths_cleanup(out);
    return rc;
}

int run_workdir_kubeconfig(run_workdir *w, const run_identity *ids,
                           const run_identity_paths *paths, size_t n, size_t current,
                           const char *https_url, efk_err *err)
{
    if (!n || current >= n)
        return efk_err_set(err, -EINVAL, "a kubeconfig needs at least one identity");
    char *path = fs_join(w->dir, "kubeconfig");
    if (!path)
        return efk_err_set(err, -ENOMEM, "out of memory");
    int rc = kc_write(path, w->ca_path, https_url, ids, paths, n, current, err);
    free(path);
    return rc;
}

void run_env_init(run_env *e)
{
    memset(e, 0, sizeof(*e));
}

int run_env_set(run_env *e, const char *name, const char *value)
{
    char *v = strdup(value ? value : "");
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->names[i], name) == 0) {
            free(e->values[i]);
            e->values[i] = v;
            return 0;
        }
    if (e->n >= RUN_MAX_ENV) {
        free(v);
        return -ENOSPC;
    }
    if (!(e->names[e->n] = strdup(name))) {
        free(v);
        return -ENOMEM;
    }
    e->values[e->n++] = v;
    return 0;
}

const char *run_env_get(const run_env *e, const char *name)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->names[i], name) == 0)
            return e->values[i];
    return NULL;
}

void run_env_cleanup(run_env *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->names[i]);
        free(e->values[i]);
    }
    e->n = 0;
}

int run_env_write(const run_env *e, const char *path, efk_err *err)
{
    buf b;
    buf_init(&b, 0);
    int rc = 0;
    for (size_t i = 0; !rc && i < e->n; i++) {
        rc = buf_printf(&b, "export %s='", e->names[i]);
        for (const char *s = e->values[i]; !rc && *s; s++)
            rc = *s == '\'' ? buf_puts(&b, "'\\''") : buf_append(&b, s, 1);
        rc = rc ? rc : buf_puts(&b, "'\n");
    }
    if (rc)
        rc = efk_err_set(err, rc, "out of memory writing %s", path);
    else
        rc = fs_write_file(path, b.data ? b.data : "", b.len, 0644, err);
    buf_cleanup(&b);
    return rc;
}
