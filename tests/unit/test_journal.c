/* Journal: ring overflow and the dropped count, since/limit, body caps,
 * rendering, the NDJSON file, reset keeping sequence numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/journal.h"
#include "core/fsutil.h"
#include "testutil.h"

static void add_n(journal *j, int n, const char *path)
{
    for (int i = 0; i < n; i++) {
        journal_entry e = {.method = "POST", .path = path, .query = "", .status = 200};
        char body[32];
        snprintf(body, sizeof(body), "body-%d", i);
        e.req_body = body;
        e.req_body_len = strlen(body);
        e.req_body_size = e.req_body_len;
        assert_true(journal_add(j, &e) > 0);
    }
}

static void test_ring_overflow(void **state)
{
    journal *j;
    journal_config c = {.cap = 5};
    assert_int_equal(journal_new(&c, &j), 0);
    add_n(j, 12, "/_bulk");
    uint64_t added, dropped, last;
    journal_stats(j, &added, &dropped, &last);
    assert_int_equal(added, 12);
    assert_int_equal(dropped, 7);
    assert_int_equal(last, 12);
    journal_entry **v;
    size_t n;
    assert_int_equal(journal_list(j, 0, 0, &v, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(v[0]->seq, 8); /* the oldest kept */
    assert_int_equal(v[4]->seq, 12);
    assert_string_equal(v[4]->req_body, "body-11");
    journal_entries_free(v, n);
    /* since and limit */
    assert_int_equal(journal_list(j, 9, 2, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[0]->seq, 10);
    assert_int_equal(v[1]->seq, 11);
    journal_entries_free(v, n);
    assert_int_equal(journal_list(j, 12, 0, &v, &n), 0);
    assert_int_equal(n, 0);
    journal_entries_free(v, n);
    /* reset empties the ring but seq goes on */
    journal_reset(j);
    assert_int_equal(journal_list(j, 0, 0, &v, &n), 0);
    assert_int_equal(n, 0);
    journal_entries_free(v, n);
    add_n(j, 1, "/x");
    assert_int_equal(journal_list(j, 0, 0, &v, &n), 0);
    assert_int_equal(v[0]->seq, 13);
    journal_entries_free(v, n);
    journal_free(j);
}

static void test_body_cap_and_render(void **state)
{
    journal *j;
    journal_config c = {.cap = 4, .body_cap = 8};
    assert_int_equal(journal_new(&c, &j), 0);
    journal_entry e = {.method = "GET",
                       .path = "/api/v1/pods",
                       .query = "watch=true",
                       .listener = "https",
                       .identity = "admin",
                       .status = 401,
                       .fault = "r1:respond"};
    e.nheaders = 2;
    e.headers[0] = (journal_header){"Authorization", "Bearer abc"};
    e.headers[1] = (journal_header){"User-Agent", "kubectl/v1.33"};
    e.req_body = "0123456789abcdef";
    e.req_body_len = 16;
    e.req_body_size = 16;
    e.resp_body = "bad \xff byte";
    e.resp_body_len = 10;
    e.resp_body_size = 10;
    journal_add(j, &e);
    journal_entry **v;
    size_t n;
    assert_int_equal(journal_list(j, 0, 0, &v, &n), 0);
    assert_int_equal(v[0]->req_body_len, 8);
    assert_string_equal(v[0]->req_body, "01234567");
    assert_int_equal(v[0]->req_body_size, 16);
    assert_string_equal(journal_entry_header(v[0], "authorization"), "Bearer abc");
    assert_null(journal_entry_header(v[0], "Accept"));
    json_t *o = journal_entry_render(v[0]);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "path")), "/api/v1/pods");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(o, "headers"), "user-agent")),
        "kubectl/v1.33");
    assert_int_equal(json_integer_value(json_object_get(o, "status")), 401);
    /* capped at 8 bytes; invalid UTF-8 replaced by U+FFFD, never dropped */
    assert_string_equal(json_string_value(json_object_get(o, "resp_body")), "bad \xef\xbf\xbd by");
    assert_string_equal(json_string_value(json_object_get(o, "fault")), "r1:respond");
    json_decref(o);
    journal_entries_free(v, n);
    journal_free(j);
}

static void test_ndjson_file(void **state)
{
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof(path), "%s/j.ndjson", dir);
    journal *j;
    journal_config c = {.cap = 2, .ndjson_path = path};
    assert_int_equal(journal_new(&c, &j), 0);
    add_n(j, 3, "/a");
    journal_free(j);
    char *data;
    size_t len;
    assert_int_equal(fs_read_file(path, 0, &data, &len, NULL), 0);
    /* the file keeps every line, also those the ring dropped */
    int lines = 0;
    for (char *p = data; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 3);
    char *first_nl = strchr(data, '\n');
    *first_nl = '\0';
    json_t *o = json_loads(data, 0, NULL);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "seq")), 1);
    assert_string_equal(json_string_value(json_object_get(o, "req_body")), "body-0");
    json_decref(o);
    free(data);
    /* an unopenable file is an error */
    journal_config bad = {.ndjson_path = "/nonexistent-dir/x.ndjson"};
    assert_true(journal_new(&bad, &j) < 0);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_overflow),
        cmocka_unit_test(test_body_cap_and_render),
        cmocka_unit_test(test_ndjson_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
