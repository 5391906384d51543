/* The log generator: file naming, docker json-file and CRI lines with the
 * efk marker, line size, long-line splitting, rate, rotation by rename and
 * copytruncate, truncation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/fsutil.h"
#include "run_loggen.h"
#include "support/testutil.h"

#define S INT64_C(1000000000)
/* 2024-05-01T10:00:00.1234Z */
#define WALL (INT64_C(1714557600) * S + 123400000)

static int setup(void **state)
{
    *state = tu_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    tu_rmtree(*state);
    free(*state);
    return 0;
}

static char *slurp(const char *path)
{
    char *s = NULL;
    size_t n;
    if (fs_read_file(path, 0, &s, &n, NULL))
        return NULL;
    return s;
}

static run_log_spec spec(run_log_format fmt)
{
    run_log_spec s = {.stream = "app-1",
                      .pod = "web-0",
                      .ns = "prod",
                      .container = "nginx",
                      .format = fmt,
                      .lines = 0,
                      .line_size = 40,
                      .keep = 3};
    return s;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

static void test_naming(void **state)
{
    char id[65];
    run_log_make_id(7, "app-1", id);
    assert_int_equal(strlen(id), 64);
    char id2[65];
    run_log_make_id(7, "app-1", id2);
    assert_string_equal(id, id2);
    run_log_make_id(8, "app-1", id2);
    assert_string_not_equal(id, id2);
    char *n = run_log_file_name("web-0", "prod", "nginx", "abc");
    assert_string_equal(n, "web-0_prod_nginx-abc.log");
    free(n);
}

static void test_docker_lines(void **state)
{
    const char *dir = *state;
    run_log l;
    run_log_spec s = spec(RUN_LOG_DOCKER);
    s.container_id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    efk_err err;
    assert_int_equal(run_log_open(&l, &s, dir, 1, &err), 0);
    assert_non_null(strstr(l.path, "/web-0_prod_nginx-0123456789abcdef0123456789abcdef0123456789"
                                   "abcdef0123456789abcdef.log"));
    assert_int_equal(run_log_write(&l, 3, WALL, &err), 0);
    assert_int_equal(run_log_produced(&l), 3);
    char *text = slurp(l.path);
    assert_int_equal(count_lines(text), 3);
    /* each line is a JSON object with log, stream, time in that order */
    char *line = text;
    for (int i = 1; i <= 3; i++) {
        char *nl = strchr(line, '\n');
        *nl = '\0';
        assert_true(strncmp(line, "{\"log\":\"efk:app-1:", 18) == 0);
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        assert_non_null(j);
        const char *log = json_string_value(json_object_get(j, "log"));
        char want[32];
        snprintf(want, sizeof(want), "efk:app-1:%d ", i);
        assert_true(strncmp(log, want, strlen(want)) == 0);
        assert_int_equal(strlen(log), 41); /* 40 bytes of text and "\n" */
        assert_int_equal(log[40], '\n');
        assert_string_equal(json_string_value(json_object_get(j, "stream")), "stdout");
        assert_string_equal(json_string_value(json_object_get(j, "time")),
                            "2024-05-01T10:00:00.1234Z");
        json_decref(j);
        line = nl + 1;
    }
    free(text);
    run_log_close(&l);
}

static void test_cri_lines_and_split(void **state)
{
    const char *dir = *state;
    run_log l;
    run_log_spec s = spec(RUN_LOG_CRI);
    s.to_stderr = true;
    s.line_size = 40000; /* split in 16 KiB pieces: P, P, F */
    efk_err err;
    assert_int_equal(run_log_open(&l, &s, dir, 1, &err), 0);
    assert_int_equal(run_log_write(&l, 1, WALL, &err), 0);
    char *text = slurp(l.path);
    assert_int_equal(count_lines(text), 3);
    assert_true(strncmp(text, "2024-05-01T10:00:00.1234Z stderr P efk:app-1:1 ", 47) == 0);
    char *l2 = strchr(text, '\n') + 1;
    assert_true(strncmp(l2, "2024-05-01T10:00:00.1234Z stderr P ", 35) == 0);
    char *l3 = strchr(l2, '\n') + 1;
    assert_true(strncmp(l3, "2024-05-01T10:00:00.1234Z stderr F ", 35) == 0);
    /* the pieces add up to the line size */
    size_t total = (size_t)(strchr(text, '\n') - text) - 35 + (size_t)(strchr(l2, '\n') - l2) - 35 +
                   (size_t)(strchr(l3, '\n') - l3) - 35;
    assert_int_equal(total, 40000);
    assert_int_equal(strchr(text, '\n') - text - 35, RUN_LOG_MAX_LINE);
    free(text);
    run_log_close(&l);
}

static void test_short_line_size_keeps_marker(void **state)
{
    const char *dir = *state;
    run_log l;
    run_log_spec s = spec(RUN_LOG_CRI);
    s.line_size = 1;
    efk_err err;
    assert_int_equal(run_log_open(&l, &s, dir, 1, &err), 0);
    assert_int_equal(run_log_write(&l, 12, WALL, &err), 0);
    char *text = slurp(l.path);
    assert_non_null(strstr(text, " stdout F efk:app-1:12 \n"));
    free(text);
    run_log_close(&l);
}

static void test_rate(void **state)
{
    const char *dir = *state;
    run_log l;
    run_log_spec s = spec(RUN_LOG_DOCKER);
    s.lines = 100;
    s.rate = 10;
    s.start_ns = 2 * S;
    efk_err err;
    assert_int_equal(run_log_open(&l, &s, dir, 1, &err), 0);
    assert_int_equal(run_log_next_due(&l), 2 * S);
    assert_int_equal(run_log_tick(&l, 1 * S, WALL, &err), 0);
    assert_int_equal(run_log_produced(&l), 0);
    assert_int_equal(run_log_tick(&l, 2 * S, WALL, &err), 0);
    assert_int_equal(run_log_produced(&l), 1);
    assert_int_equal(run_log_tick(&l, 3 * S + S / 20, WALL, &err), 0);
    assert_int_equal(run_log_produced(&l), 11);
    assert_int_equal(run_log_next_due(&l), 3 * S + S / 10);
    /* lines written on demand do not count against the rate */
    assert_int_equal(run_log_write(&l, 5, WALL, &err), 0);
    assert_int_equal(run_log_produced(&l), 16);
    assert_int_equal(run_log_tick(&l, 100 * S, WALL, &err), 0);
    assert_int_equal(run_log_produced(&l), 105);
    assert_int_equal(run_log_next_due(&l), INT64_MAX);
    char *text = slurp(l.path);
    assert_int_equal(count_lines(text), 105);
    assert_non_null(strstr(text, "efk:app-1:105 "));
    free(text);
    run_log_close(&l);
}

static void test_rotate_rename(void **state)
{
    const char *dir = *state;
    run_log l;
    run_log_spec s = spec(RUN_LOG_CRI);
    s.rotate = RUN_ROTATE_RENAME;
    s.rotate_size = 300; /* lines are 26 + 11 + 40 + 1 = 78 bytes: 3 per file */
    s.keep = 2;
    efk_err err;
    assert_int_equal(run_log_open(&l, &s, dir, 1, &err), 0);
    assert_int_equal(run_log_write(&l, 10, WALL, &err), 0);
    /* files: .2 = 4..6, .1 = 7..9, current = 10; 1..3 dropped */
    char p1[4200], p2[4200], p3[4200];
    snprintf(p1, sizeof(p1), "%s.1", l.path);
    snprintf(p2, sizeof(p2), "%s.2", l.path);
    snprintf(p3, sizeof(p3), "%s.3", l.path);
    char *cur = slurp(l.path), *r1 = slurp(p1), *r2 = slurp(p2);
    assert_non_null(r1);
    assert_non_null(r2);
    assert_null(slurp(p3));
    assert_int_equal(count_lines(cur), 1);
    assert_non_null(strstr(cur, "efk:app-1:10 "));
    assert_int_equal(count_lines(r1), 3);
    assert_non_null(strstr(r1, "efk:app-1:7 "));
    assert_non_null(strstr(r1, "efk:app-1:9 "));
    assert_non_null(strstr(r2, "efk:app-1:4 "));
    assert_true(strlen(r1) <= 300);
    assert_int_equal(l.rotations, 3);
    free(cur);
    free(r1);
    free(r2);
    run_log_close(&l);
}

static void test_copytruncate_keeps_inode(void **state)
{
    const char *dir = *state;
    run_log l;
    run_log_spec s = spec(RUN_LOG_DOCKER);
    s.rotate = RUN_ROTATE_COPYTRUNCATE;
    s.rotate_size = 1 << 20;
    efk_err err;
    assert_int_equal(run_log_open(&l, &s, dir, 1, &err), 0);
    assert_int_equal(run_log_write(&l, 4, WALL, &err), 0);
    FILE *reader = fopen(l.path, "r"); /* an agent holding the file open */
    assert_non_null(reader);
    assert_int_equal(run_log_rotate(&l, RUN_ROTATE_NONE, &err), 0);
    assert_int_equal(run_log_write(&l, 1, WALL, &err), 0);
    char p1[4200];
    snprintf(p1, sizeof(p1), "%s.1", l.path);
    char *r1 = slurp(p1), *cur = slurp(l.path);
    assert_int_equal(count_lines(r1), 4);
    assert_int_equal(count_lines(cur), 1);
    assert_non_null(strstr(cur, "efk:app-1:5 "));
    /* the reader's file is the same inode, now holding only line 5 */
    char line[256];
    assert_non_null(fgets(line, sizeof(line), reader));
    assert_non_null(strstr(line, "efk:app-1:5 "));
    fclose(reader);
    /* truncate: nothing copied */
    assert_int_equal(run_log_truncate(&l, &err), 0);
    free(cur);
    cur = slurp(l.path);
    assert_string_equal(cur, "");
    free(cur);
    free(r1);
    run_log_close(&l);
}

static void test_unwritable_dir(void **state)
{
    run_log l;
    run_log_spec s = spec(RUN_LOG_DOCKER);
    efk_err err;
    efk_err_init(&err);
    assert_true(run_log_open(&l, &s, "/proc/efksim-no/dir", 1, &err) < 0);
    assert_true(err.msg[0] != '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_naming),
        cmocka_unit_test_setup_teardown(test_docker_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cri_lines_and_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_line_size_keeps_marker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotate_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copytruncate_keeps_inode, setup, teardown),
        cmocka_unit_test(test_unwritable_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
