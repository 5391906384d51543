/* Templates: declared names, unknown names with suggestions, escapes,
 * expansion, values not yet set. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "run_tmpl.h"

static run_vars *vars(void)
{
    run_vars *v = run_vars_new();
    assert_non_null(v);
    assert_int_equal(run_vars_set(v, "es.url", "http://127.0.0.1:9200"), 0);
    assert_int_equal(run_vars_set(v, "apiserver.url", "https://127.0.0.1:6443"), 0);
    assert_int_equal(run_vars_set(v, "workdir", "/w"), 0);
    assert_int_equal(
        run_vars_set(v, "identity.system:serviceaccount:kube-system:default.token", "tok"), 0);
    assert_int_equal(run_vars_set(v, "rbd.mon", NULL), 0); /* declared, no value yet */
    return v;
}

static void test_check_ok(void **state)
{
    run_vars *v = vars();
    efk_err err;
    efk_err_init(&err);
    const char *t = "--url=${es.url} --token=${identity.system:serviceaccount:kube-system:default."
                    "token} $HOME $$ cost$5 ${rbd.mon}";
    assert_int_equal(run_tmpl_check(v, t, strlen(t), NULL, &err), 0);
    run_vars_free(v);
}

static void test_unknown_name(void **state)
{
    run_vars *v = vars();
    efk_err err;
    efk_err_init(&err);
    size_t off = 0;
    const char *t = "a ${es.ulr} b";
    assert_int_equal(run_tmpl_check(v, t, strlen(t), &off, &err), -EINVAL);
    assert_int_equal(off, 2);
    assert_string_equal(err.msg, "unknown name ${es.ulr} in a template (did you mean ${es.url}?)");
    efk_err_init(&err);
    t = "${nothing-like-it-at-all}";
    assert_int_equal(run_tmpl_check(v, t, strlen(t), &off, &err), -EINVAL);
    assert_string_equal(err.msg, "unknown name ${nothing-like-it-at-all} in a template");
    run_vars_free(v);
}

static void test_malformed(void **state)
{
    run_vars *v = vars();
    efk_err err;
    size_t off = 0;
    const char *t = "abc ${es.url";
    efk_err_init(&err);
    assert_int_equal(run_tmpl_check(v, t, strlen(t), &off, &err), -EINVAL);
    assert_int_equal(off, 4);
    assert_non_null(strstr(err.msg, "unterminated"));
    t = "${}";
    efk_err_init(&err);
    assert_int_equal(run_tmpl_check(v, t, strlen(t), &off, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "malformed"));
    t = "${a b}";
    efk_err_init(&err);
    assert_int_equal(run_tmpl_check(v, t, strlen(t), &off, &err), -EINVAL);
    run_vars_free(v);
}

static void test_expand(void **state)
{
    run_vars *v = vars();
    efk_err err;
    efk_err_init(&err);
    char *out = NULL;
    assert_int_equal(run_tmpl_expand_str(v,
                                         "curl ${es.url}/_bulk -d @${workdir}/x $${HOME} $HOME "
                                         "$${",
                                         &out, &err),
                     0);
    assert_string_equal(out, "curl http://127.0.0.1:9200/_bulk -d @/w/x ${HOME} $HOME ${");
    free(out);
    /* declared but not yet set */
    assert_int_equal(run_tmpl_expand_str(v, "${rbd.mon}", &out, &err), -ENOENT);
    assert_int_equal(run_vars_set(v, "rbd.mon", "127.0.0.1:7000"), 0);
    assert_int_equal(run_tmpl_expand_str(v, "-m ${rbd.mon}", &out, &err), 0);
    assert_string_equal(out, "-m 127.0.0.1:7000");
    free(out);
    /* replacing a value */
    assert_int_equal(run_vars_set(v, "workdir", "/other"), 0);
    assert_string_equal(run_vars_get(v, "workdir"), "/other");
    assert_int_equal(run_tmpl_expand_str(v, "x${unknown}", &out, &err), -EINVAL);
    run_vars_free(v);
}

static void test_bad_names_refused(void **state)
{
    run_vars *v = run_vars_new();
    assert_int_equal(run_vars_set(v, "a}b", "x"), -EINVAL);
    assert_int_equal(run_vars_set(v, "", "x"), -EINVAL);
    assert_int_equal(run_vars_set(v, "a b", "x"), -EINVAL);
    assert_false(run_vars_known(v, "a}b"));
    run_vars_free(v);
}

static void test_line_col(void **state)
{
    int l, c;
    const char *t = "line one\nline ${two}\n";
    run_tmpl_line_col(t, 14, &l, &c);
    assert_int_equal(l, 2);
    assert_int_equal(c, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_ok),          cmocka_unit_test(test_unknown_name),
        cmocka_unit_test(test_malformed),         cmocka_unit_test(test_expand),
        cmocka_unit_test(test_bad_names_refused), cmocka_unit_test(test_line_col),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
