/* The work dir: layout, PKI files and modes, identity files in the
 * in-cluster layout, kubeconfigs, the env file's quoting. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "core/fsutil.h"
#include "workdir.h"
#include "testutil.h"

static char *slurp(const char *path)
{
    char *d = NULL;
    size_t n;
    assert_int_equal(fs_read_file(path, 0, &d, &n, NULL), 0);
    return d;
}

static mode_t mode_of(const char *dir, const char *rel)
{
    char *p = fs_join(dir, rel);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    free(p);
    return st.st_mode & 0777;
}

static void test_layout_and_identities(void **state)
{
    char *tmp = tu_tmpdir();
    char *wd = fs_join(tmp, "work/dir");
    run_workdir w;
    efk_err err;
    efk_err_init(&err);
    assert_int_equal(run_workdir_init(&w, wd, &err), 0);
    assert_false(w.created);
    assert_int_equal(mode_of(w.dir, "pki/ca.key"), 0600);
    assert_int_equal(mode_of(w.dir, "pki/server.key"), 0600);
    assert_int_equal(mode_of(w.dir, "pki/ca.crt"), 0644);
    char *ca = slurp(w.ca_path);
    assert_non_null(strstr(ca, "BEGIN CERTIFICATE"));
    struct stat st;
    assert_int_equal(stat(w.log_dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));

    run_identity ids[2] = {
        {.name = "system:serviceaccount:kube-system:default",
         .token = "tok-default",
         .namespace = "kube-system"},
        {.name = "admin", .groups = {"system:masters"}, .ngroups = 1, .token = "tok-'admin'",
         .cert = true},
    };
    run_identity_paths paths[2];
    const char *url = "https://127.0.0.1:6443";
    assert_int_equal(run_workdir_identity(&w, &ids[0], url, &paths[0], &err), 0);
    assert_int_equal(run_workdir_identity(&w, &ids[1], url, &paths[1], &err), 0);
    assert_non_null(strstr(paths[0].dir, "identities/system_serviceaccount_kube-system_default"));
    char *t = slurp(paths[0].token);
    assert_string_equal(t, "tok-default");
    free(t);
    char *p = fs_join(paths[0].dir, "namespace");
    t = slurp(p);
    assert_string_equal(t, "kube-system");
    free(t);
    free(p);
    p = fs_join(paths[0].dir, "ca.crt");
    t = slurp(p);
    assert_string_equal(t, ca);
    free(t);
    free(p);
    assert_null(paths[0].cert);
    assert_non_null(paths[1].cert);
    assert_int_equal(mode_of(paths[1].dir, "client.key"), 0600);
    assert_int_equal(mode_of(paths[1].dir, "token"), 0600);

    char *kc = slurp(paths[0].kubeconfig);
    assert_non_null(strstr(kc, "server: \"https://127.0.0.1:6443\""));
    assert_non_null(strstr(kc, "token: \"tok-default\""));
    assert_non_null(
        strstr(kc, "current-context: \"system:serviceaccount:kube-system:default@efksim\""));
    assert_non_null(strstr(kc, "namespace: \"kube-system\""));
    free(kc);

    assert_int_equal(run_workdir_kubeconfig(&w, ids, paths, 2, 1, url, &err), 0);
    p = fs_join(w.dir, "kubeconfig");
    kc = slurp(p);
    assert_non_null(strstr(kc, "current-context: \"admin@efksim\""));
    assert_non_null(strstr(kc, "client-certificate: \""));
    assert_non_null(strstr(kc, "token: \"tok-'admin'\""));
    assert_non_null(strstr(kc, "- name: \"system:serviceaccount:kube-system:default@efksim\""));
    free(kc);
    free(p);
    assert_int_equal(run_workdir_kubeconfig(&w, ids, paths, 0, 0, url, &err), -EINVAL);

    efk_runtime rt;
    run_workdir_runtime(&w, &rt);
    assert_string_equal(rt.ca_pem, ca);
    assert_string_equal(rt.workdir, w.dir);
    assert_non_null(rt.clock);

    run_identity_paths_cleanup(&paths[0]);
    run_identity_paths_cleanup(&paths[1]);
    free(ca);
    run_workdir_cleanup(&w, true); /* not ours: stays */
    assert_int_equal(stat(wd, &st), 0);
    tu_rmtree(tmp);
    free(tmp);
    free(wd);
}

static void test_temp_workdir_removed(void **state)
{
    run_workdir w;
    efk_err err;
    assert_int_equal(run_workdir_init(&w, NULL, &err), 0);
    assert_true(w.created);
    char *d = strdup(w.dir);
    run_workdir_cleanup(&w, true);
    struct stat st;
    assert_int_not_equal(stat(d, &st), 0);
    free(d);
    /* an unwritable place is a clear error naming it */
    efk_err_init(&err);
    assert_true(run_workdir_init(&w, "/proc/efksim-nope", &err) < 0);
    assert_non_null(strstr(err.msg, "/proc/efksim-nope"));
}

static void test_env_file(void **state)
{
    run_env e;
    run_env_init(&e);
    assert_int_equal(run_env_set(&e, "EFKSIM_ES_URL", "http://127.0.0.1:9200"), 0);
    assert_int_equal(run_env_set(&e, "ODD", "it's $HOME `x`"), 0);
    assert_int_equal(run_env_set(&e, "EFKSIM_ES_URL", "http://127.0.0.1:9201"), 0);
    assert_string_equal(run_env_get(&e, "EFKSIM_ES_URL"), "http://127.0.0.1:9201");
    assert_null(run_env_get(&e, "NOPE"));
    char *tmp = tu_tmpdir();
    char *f = fs_join(tmp, "env");
    efk_err err;
    assert_int_equal(run_env_write(&e, f, &err), 0);
    char *s = slurp(f);
    assert_string_equal(s, "export EFKSIM_ES_URL='http://127.0.0.1:9201'\n"
                           "export ODD='it'\\''s $HOME `x`'\n");
    free(s);
    /* and a shell reads back exactly the values */
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), ". %s && test \"$ODD\" = 'it'\\''s $HOME `x`'", f);
    assert_int_equal(system(cmd), 0);
    run_env_cleanup(&e);
    free(f);
    tu_rmtree(tmp);
    free(tmp);
}

static void test_dirname(void **state)
{
    char *d = run_identity_dirname("system:node:a/b");
    assert_string_equal(d, "system_node_a_b");
    free(d);
    d = run_identity_dirname("..");
    assert_string_equal(d, "_.");
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_and_identities),
        cmocka_unit_test(test_temp_workdir_removed),
        cmocka_unit_test(test_env_file),
        cmocka_unit_test(test_dirname),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
