/* Query evaluation: each query kind, bool combinations, sort order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "es/es_query.h"

static const char *DOC = "{\"message\":\"efk:app:7 Hello World from pod-1\",\"level\":\"ERROR\","
                         "\"n\":42,\"ratio\":0.5,\"ok\":true,\"ts\":\"2024-01-02T03:04:05Z\","
                         "\"kubernetes\":{\"pod\":\"app-7d4b\",\"labels\":{\"tier\":\"web\"}},"
                         "\"tags\":[\"a\",\"b\"],\"log.file\":\"/var/log/x.log\"}";

static bool q(const char *query)
{
    json_error_t e;
    json_t *d = json_loads(DOC, 0, &e);
    json_t *qq = json_loads(query, 0, &e);
    if (!qq)
        fail_msg("bad test query %s: %s", query, e.text);
    char type[64], reason[300];
    if (es_query_check(qq, type, sizeof(type), reason, sizeof(reason)))
        fail_msg("query refused: %s %s", type, reason);
    bool r = es_query_match(qq, d, "id-1", 4);
    json_decref(qq);
    json_decref(d);
    return r;
}

static void test_leaf_queries(void **state)
{
    (void)state;
    assert_true(q("{\"match_all\":{}}"));
    assert_false(q("{\"match_none\":{}}"));
    /* term on a text field matches a lowercased token, not the raw value */
    assert_true(q("{\"term\":{\"level\":\"error\"}}"));
    assert_false(q("{\"term\":{\"level\":\"ERROR\"}}"));
    /* .keyword is the exact value */
    assert_true(q("{\"term\":{\"level.keyword\":\"ERROR\"}}"));
    assert_false(q("{\"term\":{\"level.keyword\":\"error\"}}"));
    assert_true(q("{\"term\":{\"n\":42}}"));
    assert_true(q("{\"term\":{\"n\":\"42\"}}"));
    assert_true(q("{\"term\":{\"ok\":true}}"));
    assert_true(q("{\"term\":{\"kubernetes.labels.tier\":{\"value\":\"web\"}}}"));
    assert_true(q("{\"term\":{\"tags\":\"b\"}}"));
    assert_true(q("{\"term\":{\"log.file.keyword\":\"/var/log/x.log\"}}"));
    assert_true(q("{\"terms\":{\"level\":[\"warn\",\"error\"]}}"));
    assert_false(q("{\"terms\":{\"level\":[\"warn\",\"info\"]}}"));
    assert_true(q("{\"match\":{\"message\":\"hello nothing\"}}"));
    assert_false(q("{\"match\":{\"message\":{\"query\":\"hello nothing\",\"operator\":\"and\"}}}"));
    assert_true(q("{\"match\":{\"message\":{\"query\":\"WORLD hello\",\"operator\":\"and\"}}}"));
    assert_true(q("{\"match_phrase\":{\"message\":\"hello world\"}}"));
    assert_false(q("{\"match_phrase\":{\"message\":\"world hello\"}}"));
    assert_true(q("{\"match_phrase\":{\"message\":\"efk:app:7 hello\"}}"));
    assert_true(q("{\"range\":{\"n\":{\"gte\":42,\"lt\":43}}}"));
    assert_false(q("{\"range\":{\"n\":{\"gt\":42}}}"));
    assert_true(q("{\"range\":{\"ratio\":{\"lte\":0.5}}}"));
    assert_true(q("{\"range\":{\"ts\":{\"gte\":\"2024-01-01\",\"lt\":\"2024-02-01\"}}}"));
    assert_false(q("{\"range\":{\"missing\":{\"gte\":0}}}"));
    assert_true(q("{\"exists\":{\"field\":\"kubernetes.pod\"}}"));
    assert_false(q("{\"exists\":{\"field\":\"kubernetes.node\"}}"));
    assert_true(q("{\"ids\":{\"values\":[\"x\",\"id-1\"]}}"));
    assert_false(q("{\"ids\":{\"values\":[\"id-2\"]}}"));
    assert_true(q("{\"prefix\":{\"kubernetes.pod.keyword\":\"app-\"}}"));
    assert_true(q("{\"wildcard\":{\"kubernetes.pod.keyword\":{\"value\":\"app-*b\"}}}"));
}

static void test_bool(void **state)
{
    (void)state;
    assert_true(q("{\"bool\":{\"must\":[{\"term\":{\"level\":\"error\"}}],"
                  "\"filter\":{\"range\":{\"n\":{\"gt\":1}}}}}"));
    assert_false(q("{\"bool\":{\"must\":[{\"term\":{\"level\":\"error\"}}],"
                   "\"must_not\":[{\"term\":{\"n\":42}}]}}"));
    assert_true(q("{\"bool\":{\"should\":[{\"term\":{\"n\":1}},{\"term\":{\"n\":42}}]}}"));
    assert_false(q("{\"bool\":{\"should\":[{\"term\":{\"n\":1}},{\"term\":{\"n\":2}}]}}"));
    /* with a must, should is optional unless minimum_should_match says so */
    assert_true(q("{\"bool\":{\"must\":{\"match_all\":{}},\"should\":[{\"term\":{\"n\":1}}]}}"));
    assert_false(q("{\"bool\":{\"must\":{\"match_all\":{}},\"should\":[{\"term\":{\"n\":1}}],"
                   "\"minimum_should_match\":1}}"));
    assert_true(q("{\"bool\":{\"must_not\":{\"bool\":{\"filter\":[{\"term\":{\"n\":1}}]}}}}"));
}

static void test_refused(void **state)
{
    (void)state;
    const char *bad[] = {"{\"nope\":{}}",
                         "{\"term\":{\"a\":1,\"b\":2}}",
                         "{\"bool\":{\"must\":{\"nope\":{}}}}",
                         "{\"bool\":{\"bad\":[]}}",
                         "{\"terms\":{\"a\":\"notarray\"}}",
                         "{\"exists\":{}}",
                         "[]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *qq = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        char type[64], reason[300];
        assert_int_equal(es_query_check(qq, type, sizeof(type), reason, sizeof(reason)), -1);
        assert_string_equal(type, "parsing_exception");
        json_decref(qq);
    }
    json_t *u = json_loads("{\"nope\":{}}", 0, NULL);
    char type[64], reason[300];
    es_query_check(u, type, sizeof(type), reason, sizeof(reason));
    assert_string_equal(reason, "unknown query [nope]");
    json_decref(u);
}

static void test_sort(void **state)
{
    (void)state;
    json_t *s = json_loads("[{\"n\":{\"order\":\"desc\"}},\"name\",{\"ts\":\"asc\"}]", 0, NULL);
    es_sort_key *keys;
    size_t n;
    char reason[200];
    assert_int_equal(es_sort_parse(s, &keys, &n, reason, sizeof(reason)), 0);
    assert_int_equal(n, 3);
    assert_string_equal(keys[0].field, "n");
    assert_true(keys[0].desc);
    assert_false(keys[1].desc);
    es_sort_free(keys, n);
    json_decref(s);
    json_t *bad = json_loads("{\"n\":{\"order\":\"up\"}}", 0, NULL);
    assert_int_equal(es_sort_parse(bad, &keys, &n, reason, sizeof(reason)), -1);
    es_sort_free(keys, n);
    assert_string_equal(reason, "Unknown SortOrder [up]");
    json_decref(bad);
    /* numbers numerically, missing last in both directions */
    json_t *a = json_integer(9), *b = json_integer(10), *m = json_null();
    assert_true(es_sort_cmp(a, b, false) < 0);
    assert_true(es_sort_cmp(a, b, true) > 0);
    assert_true(es_sort_cmp(m, a, false) > 0);
    assert_true(es_sort_cmp(m, a, true) > 0);
    json_decref(a);
    json_decref(b);
    json_t *doc = json_loads(DOC, 0, NULL);
    json_t *v = es_sort_value(doc, "kubernetes.pod.keyword");
    assert_string_equal(json_string_value(v), "app-7d4b");
    json_decref(v);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaf_queries),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
