/* Expectation evaluation through whole sessions run in-process, with steps
 * and files only (no programs): at the end, within (before and after its
 * deadline), always, never, from a step, a step that never ran, the timeout,
 * and that a passing run removes its work dir while a failing one keeps it. */
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

#include "core/fsutil.h"
#include "run_scenario.h"
#include "run_session.h"
#include "support/testutil.h"

static void run_text(const char *text, run_result *res, char **wd)
{
    run_doc *doc = NULL;
    efk_err e;
    efk_err_init(&e);
    assert_int_equal(run_doc_parse("t.json", text, strlen(text), &doc, &e), 0);
    run_scenario *s = NULL;
    int rc = run_scenario_from_doc(doc, &s, &e);
    if (rc) {
        char out[2048];
        fprintf(stderr, "%s\n", efk_err_render(&e, out, sizeof(out)));
    }
    assert_int_equal(rc, 0);
    run_result_init(res);
    *wd = tu_tmpdir();
    char *dir = fs_join(*wd, "run");
    run_opts o = {.workdir = dir, .check = true};
    run_session_run(s, &o, res);
    free(dir);
    run_scenario_free(s);
}

static bool has_msg(const run_result *r, const char *needle)
{
    for (size_t i = 0; i < r->nmessages; i++)
        if (strstr(r->messages[i], needle))
            return true;
    for (size_t i = 0; i < r->nmessages; i++)
        fprintf(stderr, "message %zu: %s\n", i, r->messages[i]);
    return false;
}

static void done(run_result *r, char *wd)
{
    run_result_cleanup(r);
    tu_rmtree(wd);
    free(wd);
}

/* A scenario that writes a log line at 100 ms and rotates at 200 ms; files
 * in the work dir let conditions see it all. */
#define BASE                                                                                       \
    "\"seed\": 1, \"timeout\": \"5s\", "                                                           \
    "\"logs\": [{\"stream\": \"s\", \"pod\": \"p\", \"container\": \"c\"}], "                      \
    "\"files\": [{\"path\": \"a.txt\", \"content\": \"alpha\"}], "                                 \
    "\"timeline\": [{\"id\": \"write\", \"at\": \"100ms\", \"do\": [{\"logs.write\": "             \
    "{\"stream\": \"s\", \"lines\": 1}}]}, {\"id\": \"later\", \"at\": \"200ms\", \"do\": []}]"

static void test_end_and_within_pass(void **state)
{
    run_result r;
    char *wd;
    run_text("{" BASE ", \"expect\": ["
             "{\"file\": {\"path\": \"a.txt\", \"equals\": \"alpha\"}},"
             "{\"within\": \"2s\", \"step\": {\"step\": \"write\"}},"
             "{\"within\": \"1s\", \"from\": \"write\", \"step\": {\"step\": \"later\"}},"
             "{\"always\": true, \"file\": {\"path\": \"a.txt\"}},"
             "{\"never\": true, \"file\": {\"path\": \"b.txt\"}}]}",
             &r, &wd);
    assert_int_equal(r.status, RUN_PASS);
    assert_int_equal(r.nmessages, 0);
    assert_int_equal(r.checked, 5);
    assert_int_equal(r.passed, 5);
    assert_true(r.has_seed);
    assert_int_equal(r.seed, 1);
    /* a passing run leaves nothing behind */
    assert_false(r.kept);
    struct stat st;
    assert_int_not_equal(stat(r.workdir, &st), 0);
    /* the run lasted until the last step, not until the timeout */
    assert_true(r.dur_ns >= INT64_C(200000000));
    assert_true(r.dur_ns < INT64_C(3000000000));
    done(&r, wd);
}

static void test_within_deadline(void **state)
{
    run_result r;
    char *wd;
    /* the step runs at 200 ms; 50 ms is too short */
    run_text("{" BASE ", \"expect\": [{\"name\": \"quick\", \"within\": \"50ms\", \"step\": "
             "{\"step\": \"later\"}}]}",
             &r, &wd);
    assert_int_equal(r.status, RUN_FAIL);
    assert_true(has_msg(&r, "quick: did not hold within 50ms\n    expected: step \"later\" ran at "
                            "least 1 time\n    observed: it ran 0 times (at "));
    assert_int_equal(r.checked, 1);
    assert_int_equal(r.passed, 0);
    /* a failed run keeps its work dir */
    assert_true(r.kept);
    struct stat st;
    assert_int_equal(stat(r.workdir, &st), 0);
    done(&r, wd);
}

static void test_always_and_never_fail(void **state)
{
    run_result r;
    char *wd;
    run_text("{" BASE ", \"expect\": ["
             "{\"name\": \"no rotation yet\", \"always\": true, \"not\": {\"step\": {\"step\": "
             "\"later\"}}},"
             "{\"name\": \"nothing written\", \"never\": true, \"step\": {\"step\": \"write\"}}]}",
             &r, &wd);
    assert_int_equal(r.status, RUN_FAIL);
    assert_true(has_msg(&r,
                        "no rotation yet: stopped holding\n    expected: not (step \"later\" ran "
                        "at least 1 time)"));
    assert_true(has_msg(&r, "nothing written: held, and must never hold\n    expected: never step "
                            "\"write\" ran at least 1 time\n    observed: it ran 1 time"));
    done(&r, wd);
}

static void test_from_window(void **state)
{
    run_result r;
    char *wd;
    /* "always" counted from "later": before it the file is absent, fine */
    run_text(
        "{\"seed\": 1, \"logs\": [{\"stream\": \"s\", \"pod\": \"p\", \"container\": "
        "\"c\"}], \"timeline\": [{\"id\": \"mk\", \"at\": \"100ms\", \"do\": [{\"logs.write\": "
        "{\"stream\": \"s\", \"lines\": 2}}]}, {\"id\": \"later\", \"when\": {\"step\": "
        "{\"step\": \"mk\"}}, \"do\": []}], \"expect\": ["
        "{\"always\": true, \"from\": \"later\", \"step\": {\"step\": \"mk\"}}]}",
        &r, &wd);
    assert_int_equal(r.status, RUN_PASS);
    done(&r, wd);
}

static void test_end_failure_and_context(void **state)
{
    run_result r;
    char *wd;
    run_text("{" BASE ", \"expect\": [{\"file\": {\"path\": \"a.txt\", \"contains\": \"beta\"}}]}",
             &r, &wd);
    assert_int_equal(r.status, RUN_FAIL);
    assert_true(has_msg(&r,
                        "expect/0 file: did not hold at the end\n    expected: file a.txt exists "
                        "and contains \"beta\"\n    observed: a.txt holds \"alpha\""));
    done(&r, wd);
}

static void test_timeout_names_pending(void **state)
{
    run_result r;
    char *wd;
    run_text("{\"seed\": 2, \"timeout\": \"300ms\", \"timeline\": [{\"id\": \"never\", \"when\": "
             "{\"file\": {\"path\": \"x\"}}, \"do\": []}], \"expect\": [{\"within\": \"10s\", "
             "\"file\": {\"path\": \"y\"}}]}",
             &r, &wd);
    assert_int_equal(r.status, RUN_FAIL);
    assert_true(has_msg(&r, "timed out after 300ms\n    step never never ran: waiting for file x "
                            "exists (observed x does not exist)"));
    assert_true(has_msg(&r, "expect/0 file: did not hold within 10s"));
    assert_true(r.dur_ns >= INT64_C(300000000));
    done(&r, wd);
}

static void test_missing_program_is_an_error(void **state)
{
    run_result r;
    char *wd;
    run_text("{\"processes\": [{\"name\": \"x\", \"argv\": [\"no-such-program-efksim\"]}], "
             "\"expect\": [{\"within\": \"1s\", \"process.exited\": {\"process\": \"x\"}}]}",
             &r, &wd);
    assert_int_equal(r.status, RUN_ERROR);
    assert_true(has_msg(&r, "/processes/0: process \"x\": program \"no-such-program-efksim\" not "
                            "found or not executable on PATH "));
    assert_true(r.kept);
    done(&r, wd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_end_and_within_pass),
        cmocka_unit_test(test_within_deadline),
        cmocka_unit_test(test_always_and_never_fail),
        cmocka_unit_test(test_from_window),
        cmocka_unit_test(test_end_failure_and_context),
        cmocka_unit_test(test_timeout_names_pending),
        cmocka_unit_test(test_missing_program_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
