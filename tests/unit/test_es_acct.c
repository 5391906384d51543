/* Delivery accounting: loss ranges, duplicates, reordering, caps, markers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "es/es_acct.h"

static es_acct *mk(const char *field, const char *regex, size_t max_ranges)
{
    es_acct_config c = {.field = field, .regex = regex, .max_ranges = max_ranges};
    es_acct *a = NULL;
    efk_err err;
    assert_int_equal(es_acct_new(&c, &a, &err), 0);
    return a;
}

static void rec(es_acct *a, const char *stream, uint64_t seq)
{
    es_mark m = {stream, strlen(stream), seq};
    es_acct_record(a, &m, 1, 0);
}

static void test_find_marker(void **state)
{
    (void)state;
    es_acct *a = mk(NULL, NULL, 0);
    es_mark m;
    const char *d = "{\"log\":\"kk efk efk:my-app.1_x:12345 filler\",\"k\":1}";
    assert_true(es_acct_find(a, d, strlen(d), &m));
    assert_int_equal(m.stream_len, strlen("my-app.1_x"));
    assert_memory_equal(m.stream, "my-app.1_x", m.stream_len);
    assert_int_equal(m.seq, 12345);
    /* a marker at the very end of a string value */
    const char *e = "{\"m\":\"efk:s:7\"}";
    assert_true(es_acct_find(a, e, strlen(e), &m));
    assert_int_equal(m.seq, 7);
    /* not markers: no seq, seq 0, bad stream, missing colon */
    const char *bad[] = {"{\"m\":\"efk:s: 1\"}", "{\"m\":\"efk:s:0 x\"}", "{\"m\":\"efk::1\"}",
                         "{\"m\":\"efk:s\"}",    "{\"m\":\"efk:a b:1\"}", "{\"m\":\"no marker\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(es_acct_find(a, bad[i], strlen(bad[i]), &m));
    es_acct_free(a);
}

static void test_in_order(void **state)
{
    (void)state;
    es_acct *a = mk(NULL, NULL, 0);
    for (uint64_t i = 1; i <= 1000; i++)
        rec(a, "s", i);
    es_acct_report r;
    es_acct_stream(a, "s", &r, NULL, 0);
    assert_true(r.known);
    assert_int_equal(r.delivered, 1000);
    assert_int_equal(r.lost, 0);
    assert_int_equal(r.duplicated, 0);
    assert_int_equal(r.out_of_order, 0);
    assert_int_equal(r.max_seq, 1000);
    assert_int_equal(r.nlost_ranges, 0);
    es_acct_free(a);
}

static void test_loss_ranges(void **state)
{
    (void)state;
    es_acct *a = mk(NULL, NULL, 0);
    uint64_t seen[] = {1, 2, 3, 7, 8, 10};
    for (size_t i = 0; i < 6; i++)
        rec(a, "s", seen[i]);
    assert_int_equal(es_acct_set_expected(a, "s", 13), 0);
    es_acct_report r;
    uint64_t ranges[8][2];
    es_acct_stream(a, "s", &r, ranges, 8);
    assert_int_equal(r.delivered, 6);
    assert_int_equal(r.lost, 3 + 1 + 3);
    assert_int_equal(r.nlost_ranges, 3);
    uint64_t want[3][2] = {{4, 6}, {9, 9}, {11, 13}};
    assert_memory_equal(ranges, want, sizeof(want));
    /* without an expected count, nothing after the highest seen is lost */
    es_acct *b = mk(NULL, NULL, 0);
    rec(b, "t", 5);
    es_acct_stream(b, "t", &r, ranges, 8);
    assert_int_equal(r.lost, 4);
    assert_false(r.has_expected);
    es_acct_free(b);
    es_acct_free(a);
}

static void test_duplicates_and_reordering(void **state)
{
    (void)state;
    es_acct *a = mk(NULL, NULL, 0);
    uint64_t seq[] = {1, 2, 5, 3, 4, 4, 2, 6, 5, 5};
    for (size_t i = 0; i < 10; i++)
        rec(a, "s", seq[i]);
    es_acct_report r;
    es_acct_stream(a, "s", &r, NULL, 0);
    assert_int_equal(r.delivered, 6);
    assert_int_equal(r.duplicated, 4);
    assert_int_equal(r.out_of_order, 2); /* 3 and 4 came after 5 */
    assert_int_equal(r.lost, 0);
    json_t *j = es_acct_render(a, "s", 0);
    json_t *s = json_object_get(json_object_get(j, "streams"), "s");
    json_t *ex = json_object_get(s, "duplicate_examples");
    assert_int_equal(json_array_size(ex), 3); /* 4, 2, 5: distinct */
    assert_int_equal(json_integer_value(json_array_get(ex, 0)), 4);
    assert_int_equal(json_integer_value(json_object_get(s, "duplicated")), 4);
    assert_true(json_is_null(json_object_get(s, "expected")));
    json_decref(j);
    es_acct_free(a);
}

static void test_merge_keeps_ranges_small(void **state)
{
    (void)state;
    es_acct *a = mk(NULL, NULL, 0);
    /* evens then odds: gaps everywhere, then all filled */
    for (uint64_t i = 2; i <= 2000; i += 2)
        rec(a, "s", i);
    es_acct_report r;
    es_acct_stream(a, "s", &r, NULL, 0);
    assert_int_equal(r.nlost_ranges, 1000);
    for (uint64_t i = 1; i <= 1999; i += 2)
        rec(a, "s", i);
    es_acct_stream(a, "s", &r, NULL, 0);
    assert_int_equal(r.nlost_ranges, 0);
    assert_int_equal(r.delivered, 2000);
    assert_int_equal(r.out_of_order, 1000);
    es_acct_free(a);
}

static void test_range_cap(void **state)
{
    (void)state;
    es_acct *a = mk(NULL, NULL, 10);
    for (uint64_t i = 1; i <= 100; i += 2)
        rec(a, "s", i);
    es_acct_report r;
    es_acct_stream(a, "s", &r, NULL, 0);
    assert_true(r.overflow);
    assert_int_equal(r.delivered, 50); /* counters stay exact */
    es_acct_free(a);
}

static void test_streams_and_reset(void **state)
{
    (void)state;
    es_acct *a = mk(NULL, NULL, 0);
    es_mark m[3] = {{"a", 1, 1}, {"b", 1, 1}, {"a", 1, 2}};
    es_acct_record(a, m, 3, 5);
    assert_int_equal(es_acct_unmarked(a), 5);
    es_acct_report r;
    es_acct_stream(a, "a", &r, NULL, 0);
    assert_int_equal(r.delivered, 2);
    es_acct_stream(a, "nope", &r, NULL, 0);
    assert_false(r.known);
    assert_int_equal(es_acct_set_expected(a, "bad name", 1), -EINVAL);
    es_acct_reset(a);
    es_acct_stream(a, "a", &r, NULL, 0);
    assert_false(r.known);
    assert_int_equal(es_acct_unmarked(a), 0);
    es_acct_free(a);
}

static void test_slow_paths(void **state)
{
    (void)state;
    es_mark m;
    es_acct *f = mk("kubernetes.log", NULL, 0);
    const char *d = "{\"other\":\"efk:wrong:1 x\",\"kubernetes\":{\"log\":\"efk:right:9 x\"}}";
    const char *fl;
    size_t fll;
    assert_false(es_acct_fast(f, &fl, &fll));
    assert_true(es_acct_find_slow(f, d, strlen(d), &m));
    assert_memory_equal(m.stream, "right", 5);
    assert_int_equal(m.seq, 9);
    es_acct_free(f);

    es_acct *r = mk(NULL, "stream=([a-z]+) seq=([0-9]+)", 0);
    const char *e = "{\"m\":\"stream=abc seq=42\"}";
    assert_true(es_acct_find_slow(r, e, strlen(e), &m));
    assert_memory_equal(m.stream, "abc", 3);
    assert_int_equal(m.seq, 42);
    es_acct_free(r);

    es_acct_config bad = {.regex = "(unclosed"};
    es_acct *x = NULL;
    efk_err err;
    assert_int_equal(es_acct_new(&bad, &x, &err), -EINVAL);
    assert_string_equal(err.pointer, "/regex");
    es_acct_config one = {.regex = "only ([a-z]+)"};
    assert_int_equal(es_acct_new(&one, &x, &err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_marker),
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_loss_ranges),
        cmocka_unit_test(test_duplicates_and_reordering),
        cmocka_unit_test(test_merge_keeps_ranges_small),
        cmocka_unit_test(test_range_cap),
        cmocka_unit_test(test_streams_and_reset),
        cmocka_unit_test(test_slow_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
