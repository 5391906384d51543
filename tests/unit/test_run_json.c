/* Scenario documents: syntax errors with line:column, the pointer -> position
 * index, checks with messages naming the pointer and the place, durations. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "run_check.h"
#include "run_json.h"

static run_doc *parse(const char *text)
{
    run_doc *d = NULL;
    efk_err err;
    efk_err_init(&err);
    assert_int_equal(run_doc_parse("scenarios/x.json", text, strlen(text), &d, &err), 0);
    return d;
}

static void test_syntax_error_position(void **state)
{
    run_doc *d = NULL;
    efk_err err;
    efk_err_init(&err);
    const char *text = "{\n  \"name\": \"a\",\n  \"seed\": 4,,\n}\n";
    assert_int_equal(run_doc_parse("scenarios/x.json", text, strlen(text), &d, &err), -EINVAL);
    assert_null(d);
    assert_string_equal(err.file, "scenarios/x.json");
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 13);
    char out[1200];
    efk_err_render(&err, out, sizeof(out));
    assert_non_null(strstr(out, "scenarios/x.json:3:13: JSON syntax error"));
}

static void test_duplicate_key_is_syntax_error(void **state)
{
    run_doc *d = NULL;
    efk_err err;
    efk_err_init(&err);
    const char *text = "{\"a\": 1,\n \"a\": 2}";
    assert_int_equal(run_doc_parse("f.json", text, strlen(text), &d, &err), -EINVAL);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.msg, "duplicate"));
}

static void test_positions(void **state)
{
    const char *text = "{\n"
                       "  \"name\": \"x\",\n"
                       "  \"timeline\": [\n"
                       "    {\"at\": \"1s\"},\n"
                       "    { \"at\":   5 }\n"
                       "  ],\n"
                       "  \"a/b\": {\"c~d\": [true, null, \"\\u00e9\\\"x\"]},\n"
                       "  \"\\u00e9t\\u00e9\": \"ok\", \"z\": 1\n"
                       "}\n";
    run_doc *d = parse(text);
    int l, c;
    assert_true(run_doc_pos(d, "", &l, &c));
    assert_int_equal(l, 1);
    assert_int_equal(c, 1);
    assert_true(run_doc_pos(d, "/name", &l, &c));
    assert_int_equal(l, 2);
    assert_int_equal(c, 11);
    assert_true(run_doc_key_pos(d, "/name", &l, &c));
    assert_int_equal(l, 2);
    assert_int_equal(c, 3);
    assert_true(run_doc_pos(d, "/timeline/1/at", &l, &c));
    assert_int_equal(l, 5);
    assert_int_equal(c, 15);
    assert_true(run_doc_pos(d, "/timeline/0", &l, &c));
    assert_int_equal(l, 4);
    assert_int_equal(c, 5);
    /* escaped reference tokens: "a/b" -> a~1b, "c~d" -> c~0d */
    assert_true(run_doc_pos(d, "/a~1b/c~0d/2", &l, &c));
    assert_int_equal(l, 7);
    assert_int_equal(c, 31);
    /* a key with \u escapes; columns count characters */
    assert_true(run_doc_pos(d, "/\xc3\xa9t\xc3\xa9", &l, &c));
    assert_int_equal(l, 8);
    assert_true(run_doc_pos(d, "/z", &l, &c));
    assert_int_equal(l, 8);
    assert_int_equal(c, 31);
    /* a missing member resolves to its nearest ancestor */
    assert_true(run_doc_pos(d, "/timeline/1/when", &l, &c));
    assert_int_equal(l, 5);
    assert_int_equal(c, 5);
    run_doc_free(d);
}

static void test_doc_err_renders_place(void **state)
{
    run_doc *d = parse("{\n  \"timeline\": [{}, {}, {}, {\n      \"at\": 5}]\n}");
    efk_err err;
    efk_err_init(&err);
    run_ck ck = {d, &err};
    int64_t ns = 0;
    json_t *step = run_ptr_get(run_doc_root(d), "/timeline/3");
    assert_non_null(step);
    assert_int_equal(ck_duration(&ck, "/timeline/3", step, "at", true, &ns), -EINVAL);
    char out[1200];
    efk_err_render(&err, out, sizeof(out));
    assert_string_equal(out, "scenarios/x.json:3:13: /timeline/3/at: expected a duration like "
                             "\"5s\" (units ns, us, ms, s, m, h), got the number 5");
    run_doc_free(d);
}

static void test_unknown_key_lists_allowed(void **state)
{
    run_doc *d = parse("{\"name\": \"a\",\n \"tiemout\": \"5s\"}");
    efk_err err;
    efk_err_init(&err);
    run_ck ck = {d, &err};
    static const char *const allowed[] = {"name", "seed", "timeout", NULL};
    assert_int_equal(ck_object(&ck, "", run_doc_root(d), allowed), -EINVAL);
    assert_string_equal(err.pointer, "/tiemout");
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 2); /* the key, not the value */
    assert_string_equal(err.msg, "unknown key \"tiemout\" (did you mean \"timeout\"?); allowed "
                                 "keys: name, seed, timeout");
    run_doc_free(d);
}

static void test_durations(void **state)
{
    run_doc *d = parse("{\"a\": \"5s\", \"b\": \"1m30s\", \"c\": \"250ms\", \"d\": \"1.5s\", "
                       "\"e\": \"0\", \"f\": \"5\", \"g\": \"-1s\", \"h\": \"5 s\", \"i\": \"\"}");
    efk_err err;
    run_ck ck = {d, &err};
    json_t *r = run_doc_root(d);
    int64_t ns = -1;
    assert_int_equal(ck_duration(&ck, "", r, "a", true, &ns), 0);
    assert_int_equal(ns, INT64_C(5000000000));
    assert_int_equal(ck_duration(&ck, "", r, "b", true, &ns), 0);
    assert_int_equal(ns, INT64_C(90000000000));
    assert_int_equal(ck_duration(&ck, "", r, "c", true, &ns), 0);
    assert_int_equal(ns, INT64_C(250000000));
    assert_int_equal(ck_duration(&ck, "", r, "d", true, &ns), 0);
    assert_int_equal(ns, INT64_C(1500000000));
    assert_int_equal(ck_duration(&ck, "", r, "e", true, &ns), 0);
    assert_int_equal(ns, 0);
    const char *bad[] = {"f", "g", "h", "i"};
    for (size_t i = 0; i < 4; i++) {
        efk_err_init(&err);
        ns = 77;
        assert_int_equal(ck_duration(&ck, "", r, bad[i], true, &ns), -EINVAL);
        assert_int_equal(ns, 77);
        assert_non_null(strstr(err.msg, "expected a duration like \"5s\""));
    }
    /* optional and absent: untouched, no error */
    ns = 9;
    assert_int_equal(ck_duration(&ck, "", r, "zz", false, &ns), 0);
    assert_int_equal(ns, 9);
    efk_err_init(&err);
    assert_int_equal(ck_duration(&ck, "", r, "zz", true, &ns), -EINVAL);
    assert_string_equal(err.msg, "missing required key \"zz\"");
    run_doc_free(d);
}

static void test_counts(void **state)
{
    run_doc *d = parse("{\"a\": {}, \"b\": {\"count\": 3}, \"c\": {\"min\": 2, \"max\": 5},"
                       "\"d\": {\"max\": 0}, \"e\": {\"count\": 1, \"min\": 1},"
                       "\"f\": {\"min\": 5, \"max\": 2}}");
    efk_err err;
    run_ck ck = {d, &err};
    json_t *r = run_doc_root(d);
    run_count rc;
    char s[64];
    assert_int_equal(ck_count(&ck, "/a", json_object_get(r, "a"), 1, &rc), 0);
    assert_string_equal(run_count_render(&rc, s, sizeof(s)), "at least 1");
    assert_false(run_count_ok(&rc, 0));
    assert_true(run_count_ok(&rc, 100));
    assert_int_equal(ck_count(&ck, "/b", json_object_get(r, "b"), 1, &rc), 0);
    assert_string_equal(run_count_render(&rc, s, sizeof(s)), "exactly 3");
    assert_false(run_count_ok(&rc, 4));
    assert_true(run_count_ok(&rc, 3));
    assert_int_equal(ck_count(&ck, "/c", json_object_get(r, "c"), 1, &rc), 0);
    assert_string_equal(run_count_render(&rc, s, sizeof(s)), "between 2 and 5");
    assert_int_equal(ck_count(&ck, "/d", json_object_get(r, "d"), 1, &rc), 0);
    assert_string_equal(run_count_render(&rc, s, sizeof(s)), "exactly 0");
    assert_true(run_count_ok(&rc, 0));
    assert_false(run_count_ok(&rc, 1));
    assert_int_equal(ck_count(&ck, "/e", json_object_get(r, "e"), 1, &rc), -EINVAL);
    assert_string_equal(err.pointer, "/e/count");
    assert_int_equal(ck_count(&ck, "/f", json_object_get(r, "f"), 1, &rc), -EINVAL);
    assert_string_equal(err.pointer, "/f/max");
    run_doc_free(d);
}

static void test_override_origin(void **state)
{
    run_doc *d = parse("{\"fakes\": {\"es\": {\"version\": \"7.17\"}}}");
    assert_int_equal(run_doc_override(d, "/fakes/es/version", "--set fakes.es.version=9"), 0);
    efk_err err;
    efk_err_init(&err);
    run_doc_err(d, &err, -EINVAL, "/fakes/es/version", "unsupported");
    char out[1200];
    efk_err_render(&err, out, sizeof(out));
    assert_string_equal(out, "--set fakes.es.version=9: /fakes/es/version: unsupported");
    run_doc_free(d);
}

static void test_pointer_helpers(void **state)
{
    char p[RUN_PTR_MAX];
    run_ptr_join(p, sizeof(p), "/a", "b/c~d");
    assert_string_equal(p, "/a/b~1c~0d");
    run_ptr_index(p, sizeof(p), p, 4);
    assert_string_equal(p, "/a/b~1c~0d/4");
    json_t *j = json_loads("{\"a\": {\"b/c~d\": [0,1,2,3,\"x\"]}}", 0, NULL);
    json_t *v = run_ptr_get(j, p);
    assert_non_null(v);
    assert_string_equal(json_string_value(v), "x");
    assert_null(run_ptr_get(j, "/a/b~1c~0d/05"));
    assert_null(run_ptr_get(j, "/a/zz"));
    json_decref(j);
}

static void test_nearest(void **state)
{
    const char *c[] = {"timeout", "timeline", "tags", "seed", "name"};
    const char *out[3];
    size_t n = run_nearest("timout", c, 5, out, 3);
    assert_true(n >= 1);
    assert_string_equal(out[0], "timeout");
    n = run_nearest("zzzzzzzz", c, 5, out, 3);
    assert_int_equal(n, 0);
    assert_int_equal(run_edit_distance("ab", "ba"), 1);
    assert_int_equal(run_edit_distance("kitten", "sitting"), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax_error_position),
        cmocka_unit_test(test_duplicate_key_is_syntax_error),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_doc_err_renders_place),
        cmocka_unit_test(test_unknown_key_lists_allowed),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_override_origin),
        cmocka_unit_test(test_pointer_helpers),
        cmocka_unit_test(test_nearest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
