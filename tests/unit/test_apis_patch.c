/*
 * Patches: RFC 7386 merge patch (including the RFC's own test table),
 * strategic merge with merge keys and directives as kubectl apply sends
 * them, and RFC 6902 JSON patch.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apiserver/apis_patch.h"

static void assert_json(const json_t *got, const char *want)
{
    json_t *w = json_loads(want, JSON_DECODE_ANY, NULL);
    assert_non_null(w);
    if (!json_equal(got, w)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        char *x = json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        fail_msg("got %s, want %s", g, x);
    }
    json_decref(w);
}

static void test_merge_patch_rfc7386(void **state)
{
    (void)state;
    /* RFC 7386 appendix A */
    const char *cases[][3] = {
        {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
        {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
        {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
        {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
        {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
        {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
        {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
        {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
        {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
        {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *t = json_loads(cases[i][0], JSON_DECODE_ANY, NULL);
        json_t *p = json_loads(cases[i][1], JSON_DECODE_ANY, NULL);
        json_t *r = apis_merge_patch(t, p);
        assert_json(r, cases[i][2]);
        json_decref(t);
        json_decref(p);
        json_decref(r);
    }
}

static json_t *smp(const char *orig, const char *patch)
{
    json_t *o = json_loads(orig, 0, NULL), *p = json_loads(patch, 0, NULL), *out = NULL;
    char err[256];
    assert_int_equal(apis_strategic_merge(o, p, &out, err, sizeof(err)), 0);
    json_decref(o);
    json_decref(p);
    return out;
}

static void test_strategic_containers_by_name(void **state)
{
    (void)state;
    /* kubectl apply changing one container's image and adding a label */
    json_t *r =
        smp("{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":["
            "{\"name\":\"nginx\",\"image\":\"nginx:1.25\",\"ports\":[{\"containerPort\":80}]},"
            "{\"name\":\"side\",\"image\":\"busybox\"}]}}",
            "{\"metadata\":{\"labels\":{\"tier\":\"front\"}},\"spec\":{"
            "\"$setElementOrder/containers\":[{\"name\":\"nginx\"},{\"name\":\"side\"}],"
            "\"containers\":[{\"image\":\"nginx:1.26\",\"name\":\"nginx\"}]}}");
    assert_json(r, "{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":\"front\"}},\"spec\":{"
                   "\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.26\",\"ports\":[{"
                   "\"containerPort\":80}]},{\"name\":\"side\",\"image\":\"busybox\"}]}}");
    json_decref(r);
}

static void test_strategic_directives(void **state)
{
    (void)state;
    /* $patch: delete removes an element by merge key */
    json_t *r = smp("{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}",
                    "{\"spec\":{\"containers\":[{\"name\":\"a\",\"$patch\":\"delete\"}]}}");
    assert_json(r, "{\"spec\":{\"containers\":[{\"name\":\"b\"}]}}");
    json_decref(r);
    /* $patch: replace on a list replaces it */
    r = smp("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\"}]}}",
            "{\"spec\":{\"containers\":[{\"name\":\"c\"},{\"$patch\":\"replace\"}]}}");
    assert_json(r, "{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
    json_decref(r);
    /* $patch: replace on a map */
    r = smp("{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}",
            "{\"metadata\":{\"labels\":{\"c\":\"3\",\"$patch\":\"replace\"}}}");
    assert_json(r, "{\"metadata\":{\"labels\":{\"c\":\"3\"}}}");
    json_decref(r);
    /* null deletes a key; a list without a merge key is replaced */
    r = smp("{\"subsets\":[{\"addresses\":[{\"ip\":\"10.0.0.1\"}]}],\"x\":1}",
            "{\"subsets\":[{\"addresses\":[{\"ip\":\"10.0.0.2\"}]}],\"x\":null}");
    assert_json(r, "{\"subsets\":[{\"addresses\":[{\"ip\":\"10.0.0.2\"}]}]}");
    json_decref(r);
    /* finalizers merge as a set; $deleteFromPrimitiveList removes */
    r = smp("{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
            "{\"metadata\":{\"finalizers\":[\"c\",\"a\"],"
            "\"$deleteFromPrimitiveList/finalizers\":[\"b\"]}}");
    assert_json(r, "{\"metadata\":{\"finalizers\":[\"a\",\"c\"]}}");
    json_decref(r);
    /* env by name inside a container; $retainKeys */
    r = smp("{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"X\",\"value\":\"1\"},"
            "{\"name\":\"Y\",\"value\":\"2\"}]}]}}",
            "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"Y\",\"value\":\"3\"}]}"
            "]}}");
    assert_json(r, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"X\",\"value\":"
                   "\"1\"},{\"name\":\"Y\",\"value\":\"3\"}]}]}}");
    json_decref(r);
    r = smp("{\"spec\":{\"strategy\":{\"type\":\"A\",\"rollingUpdate\":{\"x\":1}}}}",
            "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":\"Recreate\"}}}");
    assert_json(r, "{\"spec\":{\"strategy\":{\"type\":\"Recreate\"}}}");
    json_decref(r);
    /* $setElementOrder reorders */
    r = smp("{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}",
            "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"b\"},{\"name\":\"a\"}]}}");
    assert_json(r, "{\"spec\":{\"containers\":[{\"name\":\"b\"},{\"name\":\"a\"}]}}");
    json_decref(r);
}

static void test_strategic_errors(void **state)
{
    (void)state;
    json_t *o = json_loads("{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}", 0, NULL);
    const char *bad[] = {"{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}",
                         "{\"spec\":{\"$patch\":\"frobnicate\"}}", "{\"$bogus\":1}", "[1]"};
    for (size_t i = 0; i < 4; i++) {
        json_t *p = json_loads(bad[i], JSON_DECODE_ANY, NULL), *out = NULL;
        char err[256] = "";
        assert_int_equal(apis_strategic_merge(o, p, &out, err, sizeof(err)), -EINVAL);
        assert_null(out);
        assert_true(strlen(err) > 0);
        json_decref(p);
    }
    char err[256];
    json_t *p = json_loads(bad[0], 0, NULL), *out = NULL;
    assert_int_equal(apis_strategic_merge(o, p, &out, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "map: patch element does not contain declared merge key: name");
    json_decref(p);
    json_decref(o);
}

static void test_json_patch(void **state)
{
    (void)state;
    json_t *o = json_loads("{\"metadata\":{\"labels\":{\"a\":\"1\"}},\"list\":[1,2,3]}", 0, NULL);
    json_t *ops =
        json_loads("[{\"op\":\"add\",\"path\":\"/metadata/labels/b\",\"value\":\"2\"},"
                   "{\"op\":\"replace\",\"path\":\"/metadata/labels/a\",\"value\":\"9\"},"
                   "{\"op\":\"remove\",\"path\":\"/list/0\"},"
                   "{\"op\":\"add\",\"path\":\"/list/-\",\"value\":4},"
                   "{\"op\":\"test\",\"path\":\"/list/0\",\"value\":2},"
                   "{\"op\":\"copy\",\"from\":\"/metadata/labels/b\",\"path\":\"/c\"},"
                   "{\"op\":\"move\",\"from\":\"/c\",\"path\":\"/metadata/labels/a~1b\"}]",
                   0, NULL);
    json_t *out = NULL;
    char err[256];
    assert_int_equal(apis_json_patch(o, ops, &out, err, sizeof(err)), 0);
    assert_json(out, "{\"metadata\":{\"labels\":{\"a\":\"9\",\"b\":\"2\",\"a/b\":\"2\"}},"
                     "\"list\":[2,3,4]}");
    json_decref(out);
    json_decref(ops);
    /* a failed test and a missing path are refused; the original is untouched */
    ops = json_loads("[{\"op\":\"test\",\"path\":\"/list/0\",\"value\":7}]", 0, NULL);
    assert_int_equal(apis_json_patch(o, ops, &out, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "testing value /list/0 failed: test failed");
    json_decref(ops);
    ops = json_loads("[{\"op\":\"replace\",\"path\":\"/nope/x\",\"value\":1}]", 0, NULL);
    assert_int_equal(apis_json_patch(o, ops, &out, err, sizeof(err)), -EINVAL);
    json_decref(ops);
    assert_json(o, "{\"metadata\":{\"labels\":{\"a\":\"1\"}},\"list\":[1,2,3]}");
    json_decref(o);
}

static void test_merge_keys(void **state)
{
    (void)state;
    assert_string_equal(apis_patch_merge_key("spec.containers"), "name");
    assert_string_equal(apis_patch_merge_key("spec.containers[].ports"), "containerPort");
    assert_string_equal(apis_patch_merge_key("spec.ports"), "port");
    assert_string_equal(apis_patch_merge_key("metadata.finalizers"), "*");
    assert_null(apis_patch_merge_key("subsets"));
    assert_null(apis_patch_merge_key("spec.tolerations"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_patch_rfc7386),
        cmocka_unit_test(test_strategic_containers_by_name),
        cmocka_unit_test(test_strategic_directives),
        cmocka_unit_test(test_strategic_errors),
        cmocka_unit_test(test_json_patch),
        cmocka_unit_test(test_merge_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
