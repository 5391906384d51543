/*
 * Authentication (token, client certificate, anonymous, rejected, rotated)
 * and authorization rule matching by verb, resource, namespace, name, group
 * and non-resource path.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apiserver/apis_auth.h"

static bool allowed(apis_auth *a, const apis_user *u, const char *verb, const char *res,
                    const char *ns, const char *name)
{
    apis_request_attrs r = {.verb = verb, .resource = res, .ns = ns, .name = name, .path = "/x"};
    return apis_auth_authorize(a, u, &r);
}

static void test_authn(void **state)
{
    (void)state;
    apis_auth *a = apis_auth_new(true);
    const char *g[] = {"ops"};
    assert_int_equal(apis_auth_add(a, "alice", g, 1, "tok-a", true, NULL, false), 0);
    assert_int_equal(apis_auth_add(a, "bob", NULL, 0, "tok-b", false, NULL, true), 0);
    assert_int_equal(apis_auth_add(a, "alice", NULL, 0, "x", false, NULL, false), -EEXIST);
    assert_int_equal(apis_auth_add(a, "carol", NULL, 0, "tok-a", false, NULL, false), -EEXIST);
    apis_user u;
    assert_int_equal(apis_auth_authenticate(a, "Bearer tok-a", NULL, &u), 0);
    assert_string_equal(u.name, "alice");
    assert_int_equal(u.ngroups, 2);
    assert_string_equal(u.groups[0], "ops");
    assert_string_equal(u.groups[1], "system:authenticated");
    assert_int_equal(apis_auth_authenticate(a, "bearer  tok-a \n", NULL, &u), 0);
    assert_int_equal(apis_auth_authenticate(a, "Bearer nope", NULL, &u), -EACCES);
    assert_int_equal(apis_auth_authenticate(a, "Basic YTpi", NULL, &u), -EACCES);
    /* bob is rejected; accepting him again lets him in */
    assert_int_equal(apis_auth_authenticate(a, "Bearer tok-b", NULL, &u), -EACCES);
    assert_int_equal(apis_auth_set_rejected(a, "bob", false), 0);
    assert_int_equal(apis_auth_authenticate(a, "Bearer tok-b", NULL, &u), 0);
    assert_string_equal(u.name, "bob");
    assert_int_equal(apis_auth_set_rejected(a, "nobody", true), -ENOENT);
    /* rotation: the old token stops working */
    assert_int_equal(apis_auth_set_token(a, "bob", "tok-b2"), 0);
    assert_int_equal(apis_auth_authenticate(a, "Bearer tok-b", NULL, &u), -EACCES);
    assert_int_equal(apis_auth_authenticate(a, "Bearer tok-b2", NULL, &u), 0);
    assert_int_equal(apis_auth_set_token(a, "bob", "tok-a"), -EEXIST);
    char *t = NULL;
    assert_int_equal(apis_auth_token(a, "bob", &t), 0);
    assert_string_equal(t, "tok-b2");
    free(t);
    /* a verified certificate wins over a bad token (x509 comes first) */
    http_identity id = {.tls = true, .cert_present = true, .cert_verified = true, .norgs = 1};
    strcpy(id.cn, "dave");
    strcpy(id.orgs[0], "system:masters");
    assert_int_equal(apis_auth_authenticate(a, "Bearer nope", &id, &u), 0);
    assert_string_equal(u.name, "dave");
    assert_string_equal(u.groups[0], "system:masters");
    /* an unverified one does not count */
    id.cert_verified = false;
    assert_int_equal(apis_auth_authenticate(a, NULL, &id, &u), 0);
    assert_true(u.anonymous);
    assert_string_equal(u.name, "system:anonymous");
    assert_string_equal(u.groups[0], "system:unauthenticated");
    /* a rejected identity's certificate is refused too */
    id.cert_verified = true;
    strcpy(id.cn, "alice");
    assert_int_equal(apis_auth_set_rejected(a, "alice", true), 0);
    assert_int_equal(apis_auth_authenticate(a, NULL, &id, &u), -EACCES);
    apis_auth_free(a);
    /* without anonymous, no credentials is a 401 */
    a = apis_auth_new(false);
    assert_int_equal(apis_auth_authenticate(a, NULL, NULL, &u), -EACCES);
    apis_auth_free(a);
}

static void test_authz_rules(void **state)
{
    (void)state;
    apis_auth *a = apis_auth_new(true);
    json_t *rules = json_loads(
        "[{\"verbs\":[\"get\"],\"resources\":[\"services\",\"namespaces\",\"endpoints\"]},"
        "{\"verbs\":[\"list\",\"watch\"],\"resources\":[\"pods\"],\"namespaces\":[\"logging\"]},"
        "{\"verbs\":[\"*\"],\"resources\":[\"configmaps\"],\"names\":[\"agent\"]},"
        "{\"verbs\":[\"update\"],\"resources\":[\"pods/status\"]}]",
        0, NULL);
    const char *sag[] = {"system:serviceaccounts"};
    assert_int_equal(apis_auth_add(a, "es", sag, 1, "t1", false, rules, false), 0);
    assert_int_equal(apis_auth_add(a, "free", NULL, 0, "t2", false, NULL, false), 0);
    json_decref(rules);
    apis_user u;
    assert_int_equal(apis_auth_authenticate(a, "Bearer t1", NULL, &u), 0);
    assert_true(allowed(a, &u, "get", "namespaces", "kube-system", "kube-system"));
    assert_true(allowed(a, &u, "get", "endpoints", "x", "elasticsearch-logging"));
    assert_false(allowed(a, &u, "list", "endpoints", "x", NULL));
    assert_false(allowed(a, &u, "get", "pods", "logging", "p"));
    assert_true(allowed(a, &u, "list", "pods", "logging", NULL));
    assert_true(allowed(a, &u, "watch", "pods", "logging", NULL));
    assert_false(allowed(a, &u, "list", "pods", "default", NULL));
    assert_false(allowed(a, &u, "list", "pods", NULL, NULL)); /* cluster-wide */
    assert_true(allowed(a, &u, "delete", "configmaps", "any", "agent"));
    assert_false(allowed(a, &u, "delete", "configmaps", "any", "other"));
    assert_false(allowed(a, &u, "list", "configmaps", "any", NULL)); /* names need a name */
    apis_request_attrs st = {.verb = "update",
                             .resource = "pods",
                             .subresource = "status",
                             .ns = "x",
                             .name = "p",
                             .path = "/"};
    assert_true(apis_auth_authorize(a, &u, &st));
    st.subresource = NULL;
    assert_false(apis_auth_authorize(a, &u, &st));
    /* discovery and health are open */
    apis_request_attrs d = {.verb = "get", .path = "/api"};
    assert_true(apis_auth_authorize(a, &u, &d));
    d.path = "/healthz";
    assert_true(apis_auth_authorize(a, &u, &d));
    d.path = "/metrics";
    assert_false(apis_auth_authorize(a, &u, &d));
    /* group rules add to what members may do */
    json_t *gr = json_loads("[{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/metrics\"]}]", 0, NULL);
    assert_int_equal(apis_auth_group_rules(a, "system:serviceaccounts", gr), 0);
    json_decref(gr);
    assert_true(apis_auth_authorize(a, &u, &d));
    /* no rules at all: allowed */
    assert_int_equal(apis_auth_authenticate(a, "Bearer t2", NULL, &u), 0);
    assert_true(allowed(a, &u, "delete", "nodes", NULL, "n1"));
    /* anonymous: denied resources by default */
    assert_int_equal(apis_auth_authenticate(a, NULL, NULL, &u), 0);
    assert_false(allowed(a, &u, "get", "pods", "default", "p"));
    apis_auth_free(a);
}

static void test_rules_check(void **state)
{
    (void)state;
    efk_err err;
    const char *bad[][2] = {
        {"{}", ""},
        {"[{\"resources\":[\"pods\"]}]", "/0"},
        {"[{\"verbs\":[\"get\"]}]", "/0"},
        {"[{\"verbs\":\"get\",\"resources\":[\"pods\"]}]", "/0/verbs"},
        {"[{\"verbs\":[\"get\"],\"resources\":[\"pods\"],\"nmespaces\":[]}]", "/0/nmespaces"}};
    for (size_t i = 0; i < 5; i++) {
        json_t *r = json_loads(bad[i][0], 0, NULL);
        efk_err_init(&err);
        assert_int_equal(apis_rules_check(r, &err), -EINVAL);
        assert_string_equal(err.pointer, bad[i][1]);
        json_decref(r);
    }
    assert_non_null(strstr(err.msg, "allowed: verbs, resources, namespaces, names"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_authn),
        cmocka_unit_test(test_authz_rules),
        cmocka_unit_test(test_rules_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
