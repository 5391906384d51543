/* Reports: the human lines and summary (colours only when asked), TAP, and
 * JUnit XML validated by parsing it with a real XML parser (Python's
 * xml.etree), and results surviving the worker -> parent JSON trip. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "run_report.h"
#include "support/testutil.h"

#define S INT64_C(1000000000)

static void make(run_result *r, const char *file, const char *name, run_status st, int64_t dur,
                 const char *msg)
{
    run_result_init(r);
    r->file = strdup(file);
    r->name = strdup(name);
    r->tags = calloc(2, sizeof(char *));
    r->tags[0] = strdup("agent");
    r->status = st;
    r->dur_ns = dur;
    r->seed = 42;
    r->has_seed = true;
    if (msg) {
        assert_int_equal(run_result_add(r, msg), 0);
        r->workdir = strdup("/tmp/w/002-x");
        r->kept = true;
    }
}

static run_result *three(void)
{
    run_result *rs = calloc(3, sizeof(*rs));
    make(&rs[0], "scenarios/agent/ok.json", "agent-ok", RUN_PASS, 1234 * 1000000, NULL);
    make(&rs[1], "scenarios/agent/401.json", "agent <401> & \"quotes\"", RUN_FAIL, 2 * S,
         "expect/0 process.exited: did not hold within 5s\n    expected: process helper exited "
         "with code 0\n    observed: exited with code 1");
    make(&rs[2], "bad.json", "bad.json", RUN_ERROR, 0,
         "bad.json:3:9: /timeline/0/at: expected a duration like \"5s\"\x01");
    return rs;
}

static void free3(run_result *rs)
{
    for (int i = 0; i < 3; i++)
        run_result_cleanup(&rs[i]);
    free(rs);
}

static void test_human(void **state)
{
    run_result *rs = three();
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    run_report_opts o = {.color = false};
    run_report_line(f, &rs[0], 1, 12, &o);
    run_report_line(f, &rs[1], 2, 12, &o);
    run_report_summary(f, rs, 3, 65 * S, &o);
    fclose(f);
    assert_non_null(strstr(text, "[ 1/12] PASS  agent-ok  (scenarios/agent/ok.json)  1.23s\n"));
    assert_non_null(strstr(text, "[ 2/12] FAIL  agent <401> & \"quotes\"  "));
    /* failures in detail, with the seed and the kept work dir */
    assert_non_null(strstr(text, "\nFAIL agent <401> & \"quotes\" (scenarios/agent/401.json) seed "
                                 "42\n  - expect/0 process.exited: did not hold within 5s\n"));
    assert_non_null(strstr(text, "  work dir kept: /tmp/w/002-x\n"));
    assert_non_null(strstr(text, "\nERROR bad.json (bad.json)"));
    /* the summary line alone on its line, then the details */
    assert_non_null(strstr(text, "\nefksim: 1 passed, 2 failed\n3 scenarios in 1m5s; 1 could not "
                                 "run\n"));
    assert_null(strchr(text, '\033'));
    free(text);
    /* colours only when asked */
    f = open_memstream(&text, &len);
    o.color = true;
    run_report_line(f, &rs[1], 2, 3, &o);
    fclose(f);
    assert_non_null(strstr(text, "\033[31mFAIL \033[0m"));
    free(text);
    free3(rs);
}

static void test_tap(void **state)
{
    run_result *rs = three();
    buf b;
    buf_init(&b, 0);
    run_report_tap(&b, rs, 3);
    const char *head = "TAP version 13\n1..3\nok 1 - agent-ok # 1.234s\nnot ok 2 - agent <401> & "
                       "\"quotes\" # 2s\n  ---\n  file: scenarios/agent/401.json\n  seed: 42\n";
    assert_true(strncmp(b.data, head, strlen(head)) == 0);
    assert_non_null(strstr(b.data, "  failures:\n    - |\n      expect/0 process.exited: did not "
                                   "hold within 5s\n          expected: process helper"));
    assert_non_null(strstr(b.data, "not ok 3 - bad.json # ERROR 0s\n"));
    assert_non_null(strstr(b.data, "  ...\n"));
    buf_cleanup(&b);
    free3(rs);
}

static void test_junit_parses(void **state)
{
    run_result *rs = three();
    buf b;
    buf_init(&b, 0);
    assert_int_equal(run_report_junit(&b, rs, 3, 3 * S), 0);
    char *dir = tu_tmpdir();
    char path[4200], script[4300];
    snprintf(path, sizeof(path), "%s/junit.xml", dir);
    tu_write(path, b.data);
    /* a real XML parser reads it back; print what it found */
    snprintf(path, sizeof(path), "%s/check.py", dir);
    tu_write(path,
             "import sys, xml.etree.ElementTree as ET\n"
             "root = ET.parse(sys.argv[1]).getroot()\n"
             "s = root.find('testsuite')\n"
             "print(root.tag, root.get('tests'), root.get('failures'), root.get('errors'))\n"
             "print(s.get('name'), s.get('tests'), s.get('failures'), s.get('errors'))\n"
             "for c in s.findall('testcase'):\n"
             "    f = c.find('failure'); e = c.find('error')\n"
             "    x = f if f is not None else e\n"
             "    print(c.get('classname'), '|', c.get('name'), '|', c.get('time'), '|',\n"
             "          'pass' if x is None else x.tag + ':' + x.get('message').split('\\n')[0])\n"
             "    if x is not None: print('  text:', x.text.split('\\n')[-3])\n");
    snprintf(script, sizeof(script), "/usr/bin/python3 %s %s/junit.xml", path, dir);
    FILE *p = popen(script, "r");
    assert_non_null(p);
    char out[4096] = "";
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_string_equal(out,
                        "testsuites 3 1 1\n"
                        "efksim 3 1 1\n"
                        "scenarios.agent | agent-ok | 1.234 | pass\n"
                        "scenarios.agent | agent <401> & \"quotes\" | 2.000 | failure:expect/0 "
                        "process.exited: did not hold within 5s\n"
                        "  text: seed: 42\n"
                        "efksim | bad.json | 0.000 | error:bad.json:3:9: /timeline/0/at: expected "
                        "a duration like \"5s\"\\x01\n"
                        "  text: seed: 42\n");
    buf_cleanup(&b);
    tu_rmtree(dir);
    free(dir);
    free3(rs);
}

static void test_result_json_roundtrip(void **state)
{
    run_result *rs = three();
    json_t *j = run_result_render(&rs[1]);
    assert_non_null(j);
    run_result back;
    assert_int_equal(run_result_parse(j, &back), 0);
    assert_string_equal(back.name, rs[1].name);
    assert_string_equal(back.file, rs[1].file);
    assert_int_equal(back.status, RUN_FAIL);
    assert_int_equal(back.dur_ns, 2 * S);
    assert_int_equal(back.seed, 42);
    assert_true(back.has_seed);
    assert_true(back.kept);
    assert_string_equal(back.workdir, "/tmp/w/002-x");
    assert_int_equal(back.nmessages, 1);
    assert_string_equal(back.messages[0], rs[1].messages[0]);
    assert_string_equal(back.tags[0], "agent");
    assert_null(back.tags[1]);
    run_result_cleanup(&back);
    json_decref(j);
    /* not an object: refused */
    j = json_string("x");
    assert_int_equal(run_result_parse(j, &back), -EINVAL);
    run_result_cleanup(&back);
    json_decref(j);
    free3(rs);
}

static void test_xml_escape(void **state)
{
    buf b;
    buf_init(&b, 0);
    assert_int_equal(run_xml_escape(&b, "<a href='x'>&\"\x02\n"), 0);
    assert_string_equal(b.data, "&lt;a href=&apos;x&apos;&gt;&amp;&quot;\\x02\n");
    buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_human),        cmocka_unit_test(test_tap),
        cmocka_unit_test(test_junit_parses), cmocka_unit_test(test_result_json_roundtrip),
        cmocka_unit_test(test_xml_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
