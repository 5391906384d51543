/* The small core utilities: buf caps and JSON escaping, durations and
 * sizes, the seeded rng, fsutil, error rendering, the test clock. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/err.h"
#include "core/fsutil.h"
#include "core/rng.h"
#include "testutil.h"

static void test_buf_cap(void **state)
{
    buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_puts(&b, "0123456789"), 0);
    assert_int_equal(buf_puts(&b, "x"), -E2BIG);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    buf_reset(&b);
    assert_int_equal(buf_printf(&b, "%d-%s", 42, "x"), 0);
    assert_string_equal(b.data, "42-x");
    size_t n;
    char *s = buf_take(&b, &n);
    assert_string_equal(s, "42-x");
    assert_int_equal(n, 4);
    assert_int_equal(b.len, 0);
    free(s);
    s = buf_take(&b, &n); /* empty: a fresh "" */
    assert_string_equal(s, "");
    free(s);
    buf_init(&b, 0);
    assert_int_equal(buf_json_str(&b, "a\"b\\c\n\x01", 7), 0);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
    buf_cleanup(&b);
}

static void test_durations(void **state)
{
    struct {
        const char *s;
        int64_t ns;
    } ok[] = {{"0", 0},       {"5s", 5 * EFK_NS_PER_S}, {"250ms", 250 * EFK_NS_PER_MS},
              {"1m30s", 90 * EFK_NS_PER_S}, {"1.5s", 1500 * EFK_NS_PER_MS},
              {"2h", 7200 * EFK_NS_PER_S},  {"10us", 10000}, {"7ns", 7}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t v = -1;
        assert_int_equal(duration_parse(ok[i].s, &v), 0);
        assert_int_equal(v, ok[i].ns);
    }
    const char *bad[] = {"", "5", "-1s", "5 s", "s", "1x", "1.s5", NULL};
    for (size_t i = 0; bad[i]; i++) {
        int64_t v;
        if (duration_parse(bad[i], &v) == 0)
            fail_msg("\"%s\" parsed", bad[i]);
    }
    char out[32];
    assert_string_equal(duration_render(1500 * EFK_NS_PER_MS, out, sizeof(out)), "1.5s");
    assert_string_equal(duration_render(90 * EFK_NS_PER_S, out, sizeof(out)), "1m30s");
    assert_string_equal(duration_render(250 * EFK_NS_PER_MS, out, sizeof(out)), "250ms");
    uint64_t sz;
    assert_int_equal(size_parse("8G", &sz), 0);
    assert_int_equal(sz, UINT64_C(8) << 30);
    assert_int_equal(size_parse("512KiB", &sz), 0);
    assert_int_equal(sz, 512 * 1024);
    assert_int_equal(size_parse("100mb", &sz), 0);
    assert_int_equal(sz, 100 << 20);
    assert_int_equal(size_parse("1024", &sz), 0);
    assert_int_equal(sz, 1024);
    assert_int_equal(size_parse("8 G", &sz), -EINVAL);
    assert_int_equal(size_parse("lots", &sz), -EINVAL);
}

static void test_rng(void **state)
{
    rng a, b, c;
    rng_init(&a, 1, "es");
    rng_init(&b, 1, "es");
    rng_init(&c, 1, "apiserver");
    int same_c = 1;
    for (int i = 0; i < 100; i++) {
        uint64_t x = rng_next(&a);
        assert_int_equal(x, rng_next(&b));
        same_c &= x == rng_next(&c);
    }
    assert_false(same_c);
    int seen[5] = {0};
    for (int i = 0; i < 1000; i++) {
        int64_t v = rng_range(&a, 3, 7);
        assert_in_range(v, 3, 7);
        seen[v - 3]++;
        double d = rng_double(&a);
        assert_true(d >= 0 && d < 1);
    }
    for (int i = 0; i < 5; i++)
        assert_true(seen[i] > 100);
    assert_int_equal(rng_range(&a, 5, 5), 5);
}

static void test_fsutil_and_err(void **state)
{
    char *dir = tu_tmpdir();
    char *sub = fs_join(dir, "a/b/c");
    efk_err err;
    efk_err_init(&err);
    assert_int_equal(fs_mkdirs(sub, 0755, &err), 0);
    char *f = fs_join(sub, "file");
    assert_int_equal(fs_write_file(f, "data", 4, 0600, &err), 0);
    struct stat st;
    assert_int_equal(stat(f, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *data;
    size_t len;
    assert_int_equal(fs_read_file(f, 0, &data, &len, &err), 0);
    assert_string_equal(data, "data");
    free(data);
    assert_int_equal(fs_read_file(f, 3, &data, &len, &err), -E2BIG);
    assert_int_equal(fs_read_file("/nonexistent/x", 0, &data, &len, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "/nonexistent/x"));
    assert_int_equal(fs_mkdirs(f, 0755, &err), -ENOTDIR);
    char *j = fs_join("/a/", "/b");
    assert_string_equal(j, "/a/b");
    free(j);
    assert_int_equal(fs_remove_tree(dir), 0);
    assert_int_not_equal(stat(dir, &st), 0);
    free(f);
    free(sub);
    free(dir);

    char out[256];
    efk_err_init(&err);
    efk_err_pos(&err, "x.json", 12, 7);
    efk_err_at(&err, "/timeline/3/at");
    assert_int_equal(efk_err_set(&err, -EINVAL, "expected a duration like \"%s\"", "5s"), -EINVAL);
    assert_string_equal(efk_err_render(&err, out, sizeof(out)),
                        "x.json:12:7: /timeline/3/at: expected a duration like \"5s\"");
    efk_err_init(&err);
    efk_err_set(&err, -1, "plain");
    assert_string_equal(efk_err_render(&err, out, sizeof(out)), "plain");
}

static void test_clock(void **state)
{
    efk_clock *c = clock_test_new(100, 1488421621 * EFK_NS_PER_S + 123456789);
    assert_int_equal(clock_mono_ns(c), 100);
    clock_test_advance(c, 50);
    assert_int_equal(clock_mono_ns(c), 150);
    char ts[48];
    assert_string_equal(clock_format_rfc3339(clock_wall_ns(c), 3, ts), "2017-03-02T02:27:01.123Z");
    assert_string_equal(clock_format_rfc3339(clock_wall_ns(c), 0, ts), "2017-03-02T02:27:01Z");
    assert_string_equal(clock_format_rfc3339(clock_wall_ns(c), 9, ts),
                        "2017-03-02T02:27:01.123456839Z");
    c->sleep_until(c, 10); /* already past: returns at once */
    clock_test_free(c);
    efk_clock *s = clock_system();
    assert_true(clock_mono_ns(s) > 0);
    assert_true(clock_wall_ns(s) > 1600000000 * EFK_NS_PER_S);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_cap),        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_rng),            cmocka_unit_test(test_fsutil_and_err),
        cmocka_unit_test(test_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
