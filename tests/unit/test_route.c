/* Route table: literal/capture/tail patterns, specificity, 405, decoding. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/route.h"

static void h1(void) {}
static void h2(void) {}
static void h3(void) {}
static void h4(void) {}

static route_table *table(void)
{
    route_table *t = route_table_new();
    assert_non_null(t);
    assert_int_equal(route_add(t, "GET", "/", h1, "root"), 0);
    assert_int_equal(route_add(t, "POST", "/_bulk", h2, "bulk"), 0);
    assert_int_equal(route_add(t, "PUT", "/_bulk", h2, "bulk-put"), 0);
    assert_int_equal(route_add(t, "POST", "/{index}/_bulk", h3, "index-bulk"), 0);
    assert_int_equal(route_add(t, "GET", "/{index}/{op}", h4, "index-op"), 0);
    assert_int_equal(route_add(t, "GET", "/_cat/indices", h1, "cat"), 0);
    assert_int_equal(route_add(t, "*", "/files/{rest*}", h4, "files"), 0);
    return t;
}

static void test_literal_and_method(void **state)
{
    route_table *t = table();
    route_match m;
    assert_int_equal(route_match_path(t, "GET", "/", &m), 0);
    assert_ptr_equal(m.handler, h1);
    assert_string_equal(m.handler_arg, "root");
    route_match_cleanup(&m);
    assert_int_equal(route_match_path(t, "PUT", "/_bulk", &m), 0);
    assert_string_equal(m.handler_arg, "bulk-put");
    route_match_cleanup(&m);
    route_table_free(t);
}

static void test_captures_decoded(void **state)
{
    route_table *t = table();
    route_match m;
    assert_int_equal(route_match_path(t, "POST", "/logstash-2017.03.02/_bulk", &m), 0);
    assert_string_equal(m.handler_arg, "index-bulk");
    assert_string_equal(route_capture(&m, "index"), "logstash-2017.03.02");
    assert_null(route_capture(&m, "nope"));
    route_match_cleanup(&m);
    /* %2F stays inside the segment */
    assert_int_equal(route_match_path(t, "POST", "/a%2Fb/_bulk", &m), 0);
    assert_string_equal(route_capture(&m, "index"), "a/b");
    route_match_cleanup(&m);
    route_table_free(t);
}

static void test_specificity(void **state)
{
    route_table *t = table();
    route_match m;
    /* /_cat/indices beats /{index}/{op}, though added later */
    assert_int_equal(route_match_path(t, "GET", "/_cat/indices", &m), 0);
    assert_string_equal(m.handler_arg, "cat");
    route_match_cleanup(&m);
    assert_int_equal(route_match_path(t, "GET", "/_cat/health", &m), 0);
    assert_string_equal(m.handler_arg, "index-op");
    assert_string_equal(route_capture(&m, "op"), "health");
    route_match_cleanup(&m);
    route_table_free(t);
}

static void test_tail(void **state)
{
    route_table *t = table();
    route_match m;
    assert_int_equal(route_match_path(t, "DELETE", "/files/a/b%20c/d", &m), 0);
    assert_string_equal(route_capture(&m, "rest"), "a/b c/d");
    route_match_cleanup(&m);
    assert_int_equal(route_match_path(t, "GET", "/files/", &m), 0);
    assert_string_equal(route_capture(&m, "rest"), "");
    route_match_cleanup(&m);
    route_table_free(t);
}

static void test_not_found_and_405(void **state)
{
    route_table *t = table();
    route_match m;
    assert_int_equal(route_match_path(t, "GET", "/a/b/c", &m), -ENOENT);
    assert_int_equal(route_match_path(t, "GET", "/_bulk", &m), -EPERM);
    assert_non_null(m.values[0]);
    assert_string_equal(m.values[0], "POST, PUT");
    route_match_cleanup(&m);
    /* an empty segment is not a capture */
    assert_int_equal(route_match_path(t, "POST", "//_bulk", &m), -ENOENT);
    assert_int_equal(route_match_path(t, "POST", "/a%zz/_bulk", &m), -EINVAL);
    assert_int_equal(route_match_path(t, "GET", "nope", &m), -EINVAL);
    route_table_free(t);
}

static void test_bad_patterns(void **state)
{
    route_table *t = route_table_new();
    assert_int_equal(route_add(t, "GET", "nope", h1, NULL), -EINVAL);
    assert_int_equal(route_add(t, "GET", "/{}", h1, NULL), -EINVAL);
    assert_int_equal(route_add(t, "GET", "/{rest*}/x", h1, NULL), -EINVAL);
    assert_int_equal(route_add(t, "GET", "/a{b}", h1, NULL), -EINVAL);
    assert_int_equal(route_add(t, "", "/a", h1, NULL), -EINVAL);
    route_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_and_method), cmocka_unit_test(test_captures_decoded),
        cmocka_unit_test(test_specificity),        cmocka_unit_test(test_tail),
        cmocka_unit_test(test_not_found_and_405),  cmocka_unit_test(test_bad_patterns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
