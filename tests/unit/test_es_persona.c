/* Personas: version strings, the per-version switches, compatible-with. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "es/es_persona.h"
#include "es/es_reply.h"

static void test_versions(void **state)
{
    (void)state;
    es_persona p;
    efk_err err;
    struct {
        const char *in, *number;
        bool header, type_required, type_rejected, multi, total_obj;
    } cases[] = {
        {"2.4", "2.4.6", false, true, false, true, false},
        {"5.6", "5.6.16", false, true, false, true, false},
        {"6.8", "6.8.23", false, true, false, false, false},
        {"7.17", "7.17.25", true, false, false, false, true},
        {"7.10", "7.10.0", false, false, false, false, true},
        {"8", "8.15.3", true, false, true, false, true},
        {"8.x", "8.15.3", true, false, true, false, true},
        {"8.11.4", "8.11.4", true, false, true, false, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(es_persona_parse(cases[i].in, &p, &err), 0);
        assert_string_equal(p.number, cases[i].number);
        assert_int_equal(p.product_header, cases[i].header);
        assert_int_equal(p.type_required, cases[i].type_required);
        assert_int_equal(p.type_rejected, cases[i].type_rejected);
        assert_int_equal(p.multi_type, cases[i].multi);
        assert_int_equal(p.total_as_object, cases[i].total_obj);
    }
    const char *bad[] = {"", "3.0", "9", "7.x.1", "seven", "7.17.1.2", "-1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(es_persona_parse(bad[i], &p, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "\"7.17\""));
    }
}

static void test_compat(void **state)
{
    (void)state;
    assert_int_equal(es_compat_version("application/json", NULL), 0);
    assert_int_equal(es_compat_version("application/vnd.elasticsearch+x-ndjson; compatible-with=7",
                                       "application/vnd.elasticsearch+json;compatible-with=7"),
                     7);
    assert_int_equal(
        es_compat_version(NULL, "application/vnd.elasticsearch+json; compatible-with=8"), 8);
    assert_int_equal(es_compat_version("application/vnd.elasticsearch+json;compatible-with=7",
                                       "application/vnd.elasticsearch+json;compatible-with=8"),
                     -1);
    es_persona p8, r;
    efk_err err;
    assert_int_equal(es_persona_parse("8", &p8, &err), 0);
    es_persona_for_request(&p8, 7, &r);
    assert_true(r.compat7);
    assert_false(r.type_rejected);
    es_persona_for_request(&p8, 8, &r);
    assert_false(r.compat7);
    assert_true(r.type_rejected);
}

static void test_index_names(void **state)
{
    (void)state;
    es_persona p7, p8;
    efk_err err;
    assert_int_equal(es_persona_parse("7.17", &p7, &err), 0);
    assert_int_equal(es_persona_parse("8", &p8, &err), 0);
    char r[400];
    assert_int_equal(es_index_name_check(&p7, "logs-2024.01.01", 15, r, sizeof(r)), 0);
    assert_int_equal(es_index_name_check(&p7, "Logs", 4, r, sizeof(r)), -1);
    assert_string_equal(r, "Invalid index name [Logs], must be lowercase");
    assert_int_equal(es_index_name_check(&p7, "_x", 2, r, sizeof(r)), -1);
    assert_string_equal(r, "Invalid index name [_x], must not start with '_', '-', or '+'");
    assert_int_equal(es_index_name_check(&p7, "a b", 3, r, sizeof(r)), -1);
    assert_string_equal(r, "Invalid index name [a b], must not contain the following characters "
                           "[ , \", *, \\, <, |, ,, >, /, ?]");
    assert_int_equal(es_index_name_check(&p7, "a#b", 3, r, sizeof(r)), -1);
    assert_int_equal(es_index_name_check(&p7, "..", 2, r, sizeof(r)), -1);
    assert_int_equal(es_index_name_check(&p7, "a:b", 3, r, sizeof(r)), 0);
    assert_int_equal(es_index_name_check(&p8, "a:b", 3, r, sizeof(r)), -1);
    char longname[300];
    memset(longname, 'a', 256);
    assert_int_equal(es_index_name_check(&p7, longname, 256, r, sizeof(r)), -1);
    assert_non_null(strstr(r, "index name is too long, (256 > 255)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_compat),
        cmocka_unit_test(test_index_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
