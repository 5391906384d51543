/* Ceph's output machinery as the fake reproduces it: Formatter (JSON/XML,
 * compact/pretty), TextTable (legacy and two-space), sizes, dates, errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rbd/rbd_fmt.h"

static const rbd_release *rel(const char *n)
{
    const rbd_release *r = rbd_release_find(n);
    assert_non_null(r);
    return r;
}

static void build(rbd_fmt *f)
{
    rbd_fmt_open_object(f, "image");
    rbd_fmt_string(f, "name", "a\"b\\c\td/e<&>");
    rbd_fmt_unsigned(f, "size", 1073741824);
    rbd_fmt_int(f, "order", -22);
    rbd_fmt_open_array(f, "features");
    rbd_fmt_string(f, "feature", "layering");
    rbd_fmt_string(f, "feature", "exclusive-lock");
    rbd_fmt_close(f);
    rbd_fmt_open_array(f, "flags");
    rbd_fmt_close(f);
    rbd_fmt_close(f);
}

static char *render(rbd_fmt_kind kind, bool pretty, bool line_break)
{
    rbd_fmt f;
    rbd_fmt_init(&f, kind, pretty, 0);
    build(&f);
    buf out;
    buf_init(&out, 0);
    assert_int_equal(rbd_fmt_flush(&f, line_break, &out), 0);
    rbd_fmt_cleanup(&f);
    return buf_take(&out, NULL);
}

static void test_json_compact(void **state)
{
    (void)state;
    char *s = render(RBD_FMT_JSON, false, false);
    assert_string_equal(s, "{\"name\":\"a\\\"b\\\\c\\td/e<&>\",\"size\":1073741824,\"order\":-22,"
                           "\"features\":[\"layering\",\"exclusive-lock\"],\"flags\":[]}");
    free(s);
    s = render(RBD_FMT_JSON, false, true);
    assert_int_equal(s[strlen(s) - 1], '\n');
    free(s);
}

static void test_json_pretty(void **state)
{
    (void)state;
    char *s = render(RBD_FMT_JSON, true, false);
    assert_string_equal(s, "{\n"
                           "    \"name\": \"a\\\"b\\\\c\\td/e<&>\",\n"
                           "    \"size\": 1073741824,\n"
                           "    \"order\": -22,\n"
                           "    \"features\": [\n"
                           "        \"layering\",\n"
                           "        \"exclusive-lock\"\n"
                           "    ],\n"
                           "    \"flags\": []\n"
                           "}\n");
    free(s);
}

static void test_xml(void **state)
{
    (void)state;
    char *s = render(RBD_FMT_XML, false, false);
    assert_string_equal(s, "<image><name>a&quot;b\\c\td/e&lt;&amp;&gt;</name><size>1073741824"
                           "</size><order>-22</order><features><feature>layering</feature>"
                           "<feature>exclusive-lock</feature></features><flags></flags></image>");
    free(s);
    s = render(RBD_FMT_XML, true, false);
    /* one space per level, and flush adds a newline after the closing tag's */
    assert_string_equal(s, "<image>\n"
                           " <name>a&quot;b\\c\td/e&lt;&amp;&gt;</name>\n"
                           " <size>1073741824</size>\n"
                           " <order>-22</order>\n"
                           " <features>\n"
                           "  <feature>layering</feature>\n"
                           "  <feature>exclusive-lock</feature>\n"
                           " </features>\n"
                           " <flags>\n"
                           " </flags>\n"
                           "</image>\n\n");
    free(s);
}

static void test_json_controls_and_map_keys(void **state)
{
    (void)state;
    rbd_fmt f;
    rbd_fmt_init(&f, RBD_FMT_JSON, false, 0);
    rbd_fmt_open_object(&f, "locks");
    rbd_fmt_open_object(&f, "auto 1234"); /* names are not escaped, as in Ceph */
    rbd_fmt_string(&f, "locker", "\x01\x7f\n");
    rbd_fmt_close(&f);
    rbd_fmt_close(&f);
    buf out;
    buf_init(&out, 0);
    assert_int_equal(rbd_fmt_flush(&f, false, &out), 0);
    assert_string_equal(out.data, "{\"auto 1234\":{\"locker\":\"\\u0001\\u007f\\n\"}}");
    buf_cleanup(&out);
    rbd_fmt_cleanup(&f);
}

static char *table(bool legacy)
{
    rbd_table t;
    rbd_table_init(&t, legacy);
    rbd_table_col(&t, "Locker", RBD_LEFT, RBD_LEFT);
    rbd_table_col(&t, "ID", RBD_LEFT, RBD_LEFT);
    rbd_table_col(&t, "Address", RBD_LEFT, RBD_LEFT);
    rbd_table_cell(&t, "client.24128");
    rbd_table_cell(&t, "kubelet_lock_magic_node1");
    rbd_table_cell(&t, "10.47.136.60:0/1864102866");
    buf out;
    buf_init(&out, 0);
    assert_int_equal(rbd_table_render(&t, &out), 0);
    rbd_table_cleanup(&t);
    return buf_take(&out, NULL);
}

static void test_table_layouts(void **state)
{
    (void)state;
    char *s = table(true);
    /* Jewel..Nautilus: a space after every cell, the last one too */
    assert_string_equal(s, "Locker       ID                       Address                   \n"
                           "client.24128 kubelet_lock_magic_node1 10.47.136.60:0/1864102866 \n");
    free(s);
    s = table(false);
    /* Octopus on: two spaces between cells, the last cell still padded */
    assert_string_equal(s, "Locker        ID                        Address                  \n"
                           "client.24128  kubelet_lock_magic_node1  10.47.136.60:0/1864102866\n");
    free(s);
}

static void test_table_alignment(void **state)
{
    (void)state;
    rbd_table t;
    rbd_table_init(&t, true);
    rbd_table_col(&t, "NAME", RBD_LEFT, RBD_LEFT);
    rbd_table_col(&t, "SIZE", RBD_RIGHT, RBD_RIGHT);
    rbd_table_col(&t, "C", RBD_CENTER, RBD_CENTER);
    const char *cells[] = {"bar@snap2", "1024M", "abc", "quux", "1024k", "x"};
    for (size_t i = 0; i < 6; i++)
        rbd_table_cell(&t, cells[i]);
    buf out;
    buf_init(&out, 0);
    assert_int_equal(rbd_table_render(&t, &out), 0);
    assert_string_equal(out.data, "NAME       SIZE  C  \n"
                                  "bar@snap2 1024M abc \n"
                                  "quux      1024k  x  \n");
    buf_cleanup(&out);
    rbd_table_cleanup(&t);
}

static void test_sizes(void **state)
{
    (void)state;
    char b[32];
    const rbd_release *j = rel("jewel"), *m = rel("mimic"), *r = rel("reef");
    assert_string_equal(rbd_size_info(j, UINT64_C(2147483648), b, sizeof(b)), "2048 MB");
    assert_string_equal(rbd_size_info(j, 4194304, b, sizeof(b)), "4096 kB");
    assert_string_equal(rbd_size_info(j, 1048576, b, sizeof(b)), "1024 kB");
    assert_string_equal(rbd_size_info(j, 102400, b, sizeof(b)), "102400 bytes");
    assert_string_equal(rbd_size_info(j, UINT64_C(200) << 30, b, sizeof(b)), "200 GB");
    assert_string_equal(rbd_size_list(j, UINT64_C(1073741824), b, sizeof(b)), "1024M");
    assert_string_equal(rbd_size_list(j, 1048576, b, sizeof(b)), "1024k");
    assert_string_equal(rbd_size_info(m, UINT64_C(1073741824), b, sizeof(b)), "1GiB");
    assert_string_equal(rbd_size_info(m, 0, b, sizeof(b)), "0B");
    assert_string_equal(rbd_size_info(m, UINT64_C(1610612736), b, sizeof(b)), "1.50GiB");
    assert_string_equal(rbd_size_info(r, UINT64_C(1073741824), b, sizeof(b)), "1 GiB");
    assert_string_equal(rbd_size_info(r, UINT64_C(536870912), b, sizeof(b)), "512 MiB");
    assert_string_equal(rbd_size_info(r, UINT64_C(1610612736), b, sizeof(b)), "1.5 GiB");
    assert_string_equal(rbd_size_info(r, 1023, b, sizeof(b)), "1023 B");
    assert_string_equal(rbd_size_list(r, 4194304, b, sizeof(b)), "4 MiB");
}

static void test_times(void **state)
{
    (void)state;
    char b[80];
    int64_t t = INT64_C(1488443206500123000); /* 2017-03-02 08:26:46.500123 UTC */
    assert_string_equal(rbd_utime(rel("luminous"), t, b, sizeof(b)), "2017-03-02 08:26:46.500123");
    assert_string_equal(rbd_utime(rel("pacific"), t, b, sizeof(b)),
                        "2017-03-02T08:26:46.500123+0000");
    assert_string_equal(rbd_ctime(t, b, sizeof(b)), "Thu Mar  2 08:26:46 2017");
    assert_string_equal(rbd_log_prefix(rel("jewel"), t, "7f0c8d7fa700", -1, b, sizeof(b)),
                        "2017-03-02 08:26:46.500123 7f0c8d7fa700 -1 ");
    assert_string_equal(rbd_log_prefix(rel("nautilus"), t, "7f0c8d7fa700", 0, b, sizeof(b)),
                        "2017-03-02 08:26:46.500 7f0c8d7fa700  0 ");
    assert_string_equal(rbd_log_prefix(rel("reef"), t, "7f0c8d7fa700", -1, b, sizeof(b)),
                        "2017-03-02T08:26:46.500+0000 7f0c8d7fa700 -1 ");
}

static void test_errors(void **state)
{
    (void)state;
    char b[128];
    assert_string_equal(rbd_strerror(-2, b, sizeof(b)), "(2) No such file or directory");
    assert_string_equal(rbd_strerror(13, b, sizeof(b)), "(13) Permission denied");
    assert_string_equal(rbd_strerror(-108, b, sizeof(b)),
                        "(108) Cannot send after transport endpoint shutdown");
    assert_string_equal(rbd_errno_name(-13), "EACCES");
    assert_string_equal(rbd_errno_name(22), "EINVAL");
}

static void test_releases(void **state)
{
    (void)state;
    assert_null(rbd_release_find("hammer"));
    assert_null(rbd_release_find("Jewel"));
    assert_true(rel("jewel")->table_legacy && rel("nautilus")->table_legacy);
    assert_false(rel("octopus")->table_legacy);
    assert_true(rel("luminous")->lock_json_map);
    assert_false(rel("mimic")->lock_json_map);
    assert_true(rel("nautilus")->blacklist && !rel("nautilus")->blocklist);
    assert_true(rel("pacific")->blocklist && !rel("pacific")->blocklist_range);
    assert_true(rel("reef")->blocklist_range);
    assert_int_equal(rbd_release_get(RBD_REL_COUNT)->id, RBD_REL_REEF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_compact),  cmocka_unit_test(test_json_pretty),
        cmocka_unit_test(test_xml),           cmocka_unit_test(test_json_controls_and_map_keys),
        cmocka_unit_test(test_table_layouts), cmocka_unit_test(test_table_alignment),
        cmocka_unit_test(test_sizes),         cmocka_unit_test(test_times),
        cmocka_unit_test(test_errors),        cmocka_unit_test(test_releases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
