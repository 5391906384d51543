/*
 * Status bodies byte for byte (field order included) as apimachinery's
 * constructors render them, and the 401/403 wording of each persona.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apiserver/apis_persona.h"
#include "apiserver/apis_status.h"

static void assert_dump(json_t *st, const char *want)
{
    char *s = json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(s, want);
    free(s);
    json_decref(st);
}

static void test_statuses(void **state)
{
    (void)state;
    assert_dump(apis_err_not_found("pods", "foo"),
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                "\"message\":\"pods \\\"foo\\\" not found\",\"reason\":\"NotFound\",\"details\":{"
                "\"name\":\"foo\",\"kind\":\"pods\"},\"code\":404}");
    assert_dump(apis_err_already_exists("namespaces", "logging"),
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                "\"message\":\"namespaces \\\"logging\\\" already exists\",\"reason\":"
                "\"AlreadyExists\",\"details\":{\"name\":\"logging\",\"kind\":\"namespaces\"},"
                "\"code\":409}");
    assert_dump(apis_err_conflict("pods", "web"),
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                "\"message\":\"Operation cannot be fulfilled on pods \\\"web\\\": the object has "
                "been modified; please apply your changes to the latest version and try again\","
                "\"reason\":\"Conflict\",\"details\":{\"name\":\"web\",\"kind\":\"pods\"},"
                "\"code\":409}");
    assert_dump(apis_err_unauthorized(),
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                "\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}");
    assert_dump(apis_err_expired("too old resource version: 5 (10)"),
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                "\"message\":\"too old resource version: 5 (10)\",\"reason\":\"Expired\","
                "\"code\":410}");
    assert_dump(apis_err_too_many("please try again later", 3),
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                "\"message\":\"Too many requests: please try again later\",\"reason\":"
                "\"TooManyRequests\",\"details\":{\"retryAfterSeconds\":3},\"code\":429}");
    assert_dump(apis_err_generic(404),
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                "\"message\":\"the server could not find the requested resource\",\"reason\":"
                "\"NotFound\",\"details\":{},\"code\":404}");
    assert_dump(apis_err_generic(405),
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                "\"message\":\"the server does not allow this method on the requested resource\","
                "\"reason\":\"MethodNotAllowed\",\"details\":{},\"code\":405}");
    assert_dump(apis_err_too_large(3145728),
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                "\"message\":\"Request entity too large: limit is 3145728\",\"reason\":"
                "\"RequestEntityTooLarge\",\"code\":413}");
    assert_dump(apis_err_rv_too_large(99, 7),
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                "\"message\":\"Timeout: Too large resource version: 99, current: 7\",\"reason\":"
                "\"Timeout\",\"details\":{\"causes\":[{\"reason\":\"ResourceVersionTooLarge\","
                "\"message\":\"Too large resource version\"}],\"retryAfterSeconds\":1},"
                "\"code\":504}");
    assert_dump(apis_status_success("cm1", "configmaps", "u-1"),
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\","
                "\"details\":{\"name\":\"cm1\",\"kind\":\"configmaps\",\"uid\":\"u-1\"}}");
}

static void test_invalid(void **state)
{
    (void)state;
    json_t *c = json_array();
    json_array_append_new(c, apis_cause_new("FieldValueInvalid", "metadata.name", "Bad_Name",
                                            "a lowercase RFC 1123 subdomain must consist of lower "
                                            "case alphanumeric characters"));
    assert_dump(apis_err_invalid("Pod", "Bad_Name", c),
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                "\"message\":\"Pod \\\"Bad_Name\\\" is invalid: metadata.name: Invalid value: "
                "\\\"Bad_Name\\\": a lowercase RFC 1123 subdomain must consist of lower case "
                "alphanumeric characters\",\"reason\":\"Invalid\",\"details\":{\"name\":"
                "\"Bad_Name\",\"kind\":\"Pod\",\"causes\":[{\"reason\":\"FieldValueInvalid\","
                "\"message\":\"Invalid value: \\\"Bad_Name\\\": a lowercase RFC 1123 subdomain "
                "must consist of lower case alphanumeric characters\",\"field\":\"metadata.name\"}"
                "]},\"code\":422}");
    c = json_array();
    json_array_append_new(c, apis_cause_new("FieldValueRequired", "metadata.name", "",
                                            "name or generateName is required"));
    json_array_append_new(c, apis_cause_new("FieldValueInvalid", "metadata.labels", "-x", "bad"));
    json_t *st = apis_err_invalid("ConfigMap", "", c);
    assert_string_equal(apis_status_message(st),
                        "ConfigMap \"\" is invalid: [metadata.name: Required value: name or "
                        "generateName is required, metadata.labels: Invalid value: \"-x\": bad]");
    assert_int_equal(apis_status_code(st), 422);
    json_decref(st);
}

static const apis_persona *persona(const char *v)
{
    const apis_persona *p;
    char gv[32], err[256];
    assert_int_equal(apis_persona_find(v, &p, gv, err, sizeof(err)), 0);
    return p;
}

static void test_forbidden_eras(void **state)
{
    (void)state;
    apis_attrs ns_get = {.user = "system:serviceaccount:kube-system:default",
                         .verb = "get",
                         .resource = "namespaces",
                         .group = "",
                         .ns = "kube-system",
                         .name = "kube-system",
                         .path = "/api/v1/namespaces/kube-system",
                         .uri = "/api/v1/namespaces/kube-system"};
    char *m = apis_forbidden_message(persona("1.33"), &ns_get);
    assert_string_equal(m, "namespaces \"kube-system\" is forbidden: User "
                           "\"system:serviceaccount:kube-system:default\" cannot get resource "
                           "\"namespaces\" in API group \"\" in the namespace \"kube-system\"");
    free(m);
    m = apis_forbidden_message(persona("1.20"), &ns_get);
    assert_string_equal(m, "namespaces \"kube-system\" is forbidden: User "
                           "\"system:serviceaccount:kube-system:default\" cannot get resource "
                           "\"namespaces\" in API group \"\" in the namespace \"kube-system\"");
    free(m);
    m = apis_forbidden_message(persona("1.9"), &ns_get);
    assert_string_equal(m, "namespaces \"kube-system\" is forbidden: User "
                           "\"system:serviceaccount:kube-system:default\" cannot get namespaces "
                           "in the namespace \"kube-system\".");
    free(m);
    m = apis_forbidden_message(persona("1.3"), &ns_get);
    assert_string_equal(m, "Forbidden: \"/api/v1/namespaces/kube-system\"");
    free(m);
    m = apis_forbidden_message(persona("1.5"), &ns_get);
    assert_string_equal(m, "Forbidden: \"/api/v1/namespaces/kube-system\"");
    free(m);
    apis_attrs list = {.user = "bob",
                       .verb = "list",
                       .resource = "pods",
                       .group = "",
                       .ns = "",
                       .name = "",
                       .path = "/api/v1/pods",
                       .uri = "/api/v1/pods"};
    m = apis_forbidden_message(persona("1.33"), &list);
    assert_string_equal(m, "pods is forbidden: User \"bob\" cannot list resource \"pods\" in API "
                           "group \"\" at the cluster scope");
    free(m);
    m = apis_forbidden_message(persona("1.9"), &list);
    assert_string_equal(m, "pods is forbidden: User \"bob\" cannot list pods at the cluster "
                           "scope.");
    free(m);
    json_t *st = apis_err_forbidden(persona("1.33"), &ns_get);
    char *s = json_dumps(json_object_get(st, "details"), JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(s, "{\"name\":\"kube-system\",\"kind\":\"namespaces\"}");
    assert_string_equal(json_string_value(json_object_get(st, "reason")), "Forbidden");
    assert_int_equal(apis_status_code(st), 403);
    free(s);
    json_decref(st);
}

static void test_personas(void **state)
{
    (void)state;
    const apis_persona *p;
    char gv[32], err[256];
    assert_int_equal(apis_persona_find("v1.20.4", &p, gv, err, sizeof(err)), 0);
    assert_int_equal(p->minor, 20);
    assert_string_equal(gv, "v1.20.4");
    assert_int_equal(apis_persona_find("1.3", &p, gv, err, sizeof(err)), 0);
    assert_false(p->unauthorized_json);
    assert_string_equal(gv, "v1.3.7");
    assert_true(persona("1.9")->unauthorized_json);
    assert_int_equal(apis_persona_find("1.4", &p, gv, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "1.3, 1.5, 1.9, 1.20, 1.33"));
    assert_int_equal(apis_persona_find("2.0", &p, gv, err, sizeof(err)), -EINVAL);
    assert_int_equal(apis_persona_find("1.33x", &p, gv, err, sizeof(err)), -EINVAL);
    assert_ptr_equal(apis_persona_default(), persona("1.33"));
    json_t *v = apis_persona_version_doc(persona("1.33"), "v1.33.2");
    assert_string_equal(json_string_value(json_object_get(v, "gitVersion")), "v1.33.2");
    assert_string_equal(json_string_value(json_object_get(v, "minor")), "33");
    assert_non_null(json_object_get(v, "emulationMinor"));
    json_decref(v);
    v = apis_persona_version_doc(persona("1.9"), NULL);
    assert_null(json_object_get(v, "emulationMinor"));
    assert_string_equal(json_string_value(json_object_get(v, "gitVersion")), "v1.9.0");
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statuses),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_forbidden_eras),
        cmocka_unit_test(test_personas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
