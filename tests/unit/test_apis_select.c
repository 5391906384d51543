/*
 * Label and field selectors: every operator, set-based forms, the parser's
 * refusals, and field labels per resource (unsupported ones are refused with
 * the real server's message).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "apiserver/apis_select.h"

static json_t *pod(const char *labels_json, const char *node, const char *phase)
{
    json_t *l = json_loads(labels_json, 0, NULL);
    return json_pack("{s:s,s:{s:s,s:s,s:o},s:{s:s,s:b},s:{s:s}}", "kind", "Pod", "metadata", "name",
                     "web-1", "namespace", "logging", "labels", l, "spec", "nodeName", node,
                     "hostNetwork", 0, "status", "phase", phase);
}

static bool lmatch(const char *sel, const json_t *obj)
{
    apis_selector s;
    char err[256];
    assert_int_equal(apis_label_selector_parse(sel, &s, err, sizeof(err)), 0);
    bool m = apis_label_selector_match(&s, obj);
    apis_selector_cleanup(&s);
    return m;
}

static void test_label_equality(void **state)
{
    (void)state;
    json_t *p = pod("{\"app\":\"web\",\"tier\":\"front\"}", "n1", "Running");
    assert_true(lmatch("", p));
    assert_true(lmatch("app=web", p));
    assert_true(lmatch("app==web", p));
    assert_false(lmatch("app=db", p));
    assert_true(lmatch("app!=db", p));
    assert_false(lmatch("app!=web", p));
    assert_true(lmatch("missing!=x", p)); /* != matches objects without the key */
    assert_true(lmatch("app=web,tier=front", p));
    assert_false(lmatch("app=web,tier=back", p));
    assert_true(lmatch(" app = web , tier = front ", p));
    json_decref(p);
}

static void test_label_set_based(void **state)
{
    (void)state;
    json_t *p = pod("{\"app\":\"web\",\"rev\":\"7\",\"empty\":\"\"}", "n1", "Running");
    assert_true(lmatch("app in (web,db)", p));
    assert_false(lmatch("app in (db)", p));
    assert_true(lmatch("app notin (db,cache)", p));
    assert_false(lmatch("app notin (web)", p));
    assert_true(lmatch("nokey notin (x)", p));
    assert_false(lmatch("nokey in (x)", p));
    assert_true(lmatch("app", p));
    assert_false(lmatch("!app", p));
    assert_true(lmatch("!nokey", p));
    assert_true(lmatch("rev>5", p));
    assert_false(lmatch("rev>7", p));
    assert_true(lmatch("rev<8", p));
    assert_true(lmatch("empty in (,x)", p));
    assert_true(lmatch("app in (web), !nokey, rev", p));
    assert_true(lmatch("example.com/role notin (x)", p));
    json_decref(p);
}

static void test_label_errors(void **state)
{
    (void)state;
    const char *bad[] = {"app in",     "app in (web", "app=(x)",  "=web",  "app==",
                         "app in web", "-bad=x",      "app=web,", "rev>x", "a b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        apis_selector s;
        char err[256] = "";
        int rc = apis_label_selector_parse(bad[i], &s, err, sizeof(err));
        if (!strcmp(bad[i], "app==")) {
            /* an empty value is a valid label value */
            assert_int_equal(rc, 0);
            apis_selector_cleanup(&s);
            continue;
        }
        assert_int_equal(rc, -EINVAL);
        assert_true(strlen(err) > 0);
    }
    apis_selector s;
    char err[256];
    assert_int_equal(apis_label_selector_parse("app in (web", &s, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "found '', expected: ',' or ')'");
}

static void test_field_selectors(void **state)
{
    (void)state;
    json_t *p = pod("{}", "node-1", "Running");
    const apis_res *pods = apis_res_by_plural("pods");
    struct {
        const char *sel;
        bool match;
    } cases[] = {{"spec.nodeName=node-1", true},
                 {"spec.nodeName==node-1", true},
                 {"spec.nodeName!=node-1", false},
                 {"spec.nodeName=node-2", false},
                 {"spec.host=node-1", true},
                 {"metadata.name=web-1", true},
                 {"metadata.namespace=logging", true},
                 {"status.phase=Running", true},
                 {"status.phase=Running,spec.nodeName=node-1", true},
                 {"status.podIP=", true},
                 {"spec.hostNetwork=false", true}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        apis_selector s;
        char err[256];
        assert_int_equal(apis_field_selector_parse(cases[i].sel, pods, &s, err, sizeof(err)), 0);
        assert_int_equal(apis_field_selector_match(&s, pods, p), cases[i].match);
        apis_selector_cleanup(&s);
    }
    json_decref(p);
}

static void test_field_unsupported(void **state)
{
    (void)state;
    apis_selector s;
    char err[256];
    assert_int_equal(
        apis_field_selector_parse("spec.foo=bar", apis_res_by_plural("pods"), &s, err, sizeof(err)),
        -EINVAL);
    assert_string_equal(err, "field label not supported: spec.foo");
    /* nodes know metadata.name and spec.unschedulable, not spec.nodeName */
    assert_int_equal(apis_field_selector_parse("spec.nodeName=x", apis_res_by_plural("nodes"), &s,
                                               err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "field label not supported: spec.nodeName");
    assert_int_equal(apis_field_selector_parse("spec.unschedulable=true",
                                               apis_res_by_plural("nodes"), &s, err, sizeof(err)),
                     0);
    apis_selector_cleanup(&s);
    /* cluster-scoped resources have no metadata.namespace */
    assert_int_equal(apis_field_selector_parse("metadata.namespace=x", apis_res_by_plural("nodes"),
                                               &s, err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(
        apis_field_selector_parse("nonsense", apis_res_by_plural("pods"), &s, err, sizeof(err)),
        -EINVAL);
    assert_string_equal(err, "invalid selector: 'nonsense'; can't understand 'nonsense'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_equality),    cmocka_unit_test(test_label_set_based),
        cmocka_unit_test(test_label_errors),      cmocka_unit_test(test_field_selectors),
        cmocka_unit_test(test_field_unsupported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
