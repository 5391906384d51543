/* Loading scenarios: every example of docs/scenario-format.md and every
 * scenario under tests/scenarios/ loads and conforms to the JSON Schema
 * (so the schema covers every key the loader accepts), the broken corpus is
 * refused by the loader, defaults, and --set (paths, typing, picking array
 * entries by name, suggestions, overrides named in errors). */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/fsutil.h"
#include "run_scenario.h"
#include "run_schema.h"
#include "run_set.h"

static char *src(const char *rel)
{
    const char *root = getenv("EFKSIM_SOURCE_DIR");
    assert_non_null(root);
    return fs_join(root, rel);
}

static void set_schema_env(void)
{
    char *d = src("scenarios");
    setenv("EFKSIM_SCHEMA_DIR", d, 1);
    free(d);
}

static void render(const efk_err *e)
{
    char out[4096];
    fprintf(stderr, "%s\n", efk_err_render(e, out, sizeof(out)));
}

/* Load `text` as the file `name`: the loader and the schema must agree it
 * is valid. */
static void load_ok(run_schema *sc, const char *name, const char *text)
{
    run_doc *doc = NULL;
    efk_err e;
    efk_err_init(&e);
    int rc = run_doc_parse(name, text, strlen(text), &doc, &e);
    if (rc)
        render(&e);
    assert_int_equal(rc, 0);
    efk_err_init(&e);
    rc = run_schema_validate(sc, run_doc_root(doc), &e);
    if (rc) {
        fprintf(stderr, "%s: the schema refuses %s: %s\n", name, e.pointer, e.msg);
    }
    assert_int_equal(rc, 0);
    run_scenario *s = NULL;
    efk_err_init(&e);
    rc = run_scenario_from_doc(doc, &s, &e);
    if (rc)
        render(&e);
    assert_int_equal(rc, 0);
    run_scenario_free(s);
}

static void test_doc_examples(void **state)
{
    set_schema_env();
    run_schema *sc = NULL;
    efk_err e;
    efk_err_init(&e);
    assert_int_equal(run_schema_load(NULL, &sc, &e), 0);
    char *path = src("docs/scenario-format.md");
    char *md = NULL;
    size_t len = 0;
    assert_int_equal(fs_read_file(path, 0, &md, &len, NULL), 0);
    /* each ```json block is a whole scenario, loaded as if it were a file
     * next to the doc (docs/) */
    char *dir = src("docs");
    size_t n = 0;
    char *p = md;
    while ((p = strstr(p, "```json\n"))) {
        p += 8;
        char *end = strstr(p, "```");
        assert_non_null(end);
        char *text = strndup(p, (size_t)(end - p));
        char name[4200];
        snprintf(name, sizeof(name), "%s/example-%zu.json", dir, ++n);
        load_ok(sc, name, text);
        free(text);
        p = end + 3;
    }
    /* one per feature at least: top level, templates, fakes, logs, files,
     * processes, timeline, expectations and the $schema one */
    assert_true(n >= 9);
    free(dir);
    free(md);
    free(path);
    run_schema_free(sc);
}

static void load_dir(run_schema *sc, const char *rel, bool want_ok)
{
    char *dir = src(rel);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    size_t n = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        char *path = fs_join(dir, de->d_name);
        if (want_ok) {
            char *text = NULL;
            size_t len;
            assert_int_equal(fs_read_file(path, 0, &text, &len, NULL), 0);
            load_ok(sc, path, text);
            free(text);
        } else {
            /* a .args file means the breakage is in the --set */
            char args[4300];
            snprintf(args, sizeof(args), "%.*s.args", (int)(strlen(path) - 5), path);
            char *a = NULL;
            size_t alen;
            char *sets[2] = {NULL, NULL};
            size_t nsets = 0;
            if (fs_read_file(args, 0, &a, &alen, NULL) == 0) {
                char *nl = strchr(a, '\n');
                sets[0] = nl ? nl + 1 : NULL;
                if (sets[0] && (nl = strchr(sets[0], '\n')))
                    *nl = '\0';
                nsets = sets[0] ? 1 : 0;
            }
            run_scenario *s = NULL;
            efk_err e;
            efk_err_init(&e);
            int rc = run_scenario_load(path, sets, nsets, &s, &e);
            if (rc == 0)
                fprintf(stderr, "%s loaded but must not\n", path);
            assert_int_not_equal(rc, 0);
            assert_null(s);
            assert_true(e.msg[0] != '\0');
            free(a);
        }
        free(path);
        n++;
    }
    closedir(d);
    free(dir);
    assert_true(n >= 3);
}

static void test_corpora(void **state)
{
    set_schema_env();
    run_schema *sc = NULL;
    efk_err e;
    efk_err_init(&e);
    assert_int_equal(run_schema_load(NULL, &sc, &e), 0);
    load_dir(sc, "tests/scenarios/pass", true);
    load_dir(sc, "tests/scenarios/fail", true);
    load_dir(sc, "tests/scenarios/broken", false);
    run_schema_free(sc);
}

static void test_schema_refuses_unknown_keys(void **state)
{
    set_schema_env();
    run_schema *sc = NULL;
    efk_err e;
    efk_err_init(&e);
    assert_int_equal(run_schema_load(NULL, &sc, &e), 0);
    const char *bad[] = {
        "{\"timout\": \"5s\"}",
        "{\"processes\": [{\"name\": \"a\", \"argv\": [\"x\"], \"restrat\": \"always\"}]}",
        "{\"expect\": [{\"within\": \"5s\", \"never\": true, \"step\": {\"step\": \"x\"}}]}",
        "{\"expect\": [{\"step\": {\"step\": \"x\"}, \"file\": {\"path\": \"y\"}}]}",
        "{\"timeline\": [{\"do\": []}]}",
        "{\"timeline\": [{\"at\": \"5\", \"do\": []}]}",
        "{\"logs\": [{\"pod\": \"p\", \"container\": \"c\", \"format\": \"syslog\"}]}",
    };
    const char *where[] = {"/timout",     "/processes/0/restrat", "/expect/0",     "/expect/0",
                           "/timeline/0", "/timeline/0/at",       "/logs/0/format"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_loads(bad[i], 0, NULL);
        assert_non_null(j);
        efk_err_init(&e);
        int rc = run_schema_validate(sc, j, &e);
        if (rc != -EINVAL || strcmp(e.pointer, where[i]) != 0)
            fprintf(stderr, "%s: %d %s %s\n", bad[i], rc, e.pointer, e.msg);
        assert_int_equal(rc, -EINVAL);
        assert_string_equal(e.pointer, where[i]);
        json_decref(j);
    }
    run_schema_free(sc);
}

static void test_defaults(void **state)
{
    set_schema_env();
    const char *text = "{\"processes\": [{\"name\": \"a\", \"argv\": [\"true\"]}]}";
    run_doc *doc = NULL;
    efk_err e;
    efk_err_init(&e);
    assert_int_equal(run_doc_parse("some/dir/my-case.json", text, strlen(text), &doc, &e), 0);
    run_scenario *s = NULL;
    assert_int_equal(run_scenario_from_doc(doc, &s, &e), 0);
    assert_string_equal(s->name, "my-case");
    assert_int_equal(s->timeout_ns, RUN_DEFAULT_TIMEOUT_NS);
    assert_false(s->has_seed);
    assert_true(s->backoff_scale == 1.0);
    assert_int_equal(s->procs[0].restart, RUN_RESTART_NEVER);
    assert_int_equal(s->procs[0].grace_ns, RUN_DEFAULT_GRACE_NS);
    assert_false(s->procs[0].manual);
    /* the names every scenario can use */
    assert_true(run_scenario_knows(s, "workdir"));
    assert_true(run_scenario_knows(s, "es.url"));
    assert_true(run_scenario_knows(s, "apiserver.url"));
    assert_true(run_scenario_knows(s, "identity.admin.token"));
    assert_true(run_scenario_knows(s, "kubeconfig"));
    assert_false(run_scenario_knows(s, "identity.nobody.token"));
    run_scenario_free(s);
}

static run_doc *doc_of(const char *text)
{
    run_doc *d = NULL;
    efk_err e;
    efk_err_init(&e);
    assert_int_equal(run_doc_parse("s.json", text, strlen(text), &d, &e), 0);
    return d;
}

static void test_set(void **state)
{
    set_schema_env();
    efk_err e;
    run_doc *d = doc_of("{\"processes\": [{\"name\": \"agent\", \"argv\": [\"a\"]}, "
                        "{\"name\": \"helper\", \"argv\": [\"b\"], \"restart\": \"never\"}],"
                        " \"fakes\": {\"es\": {\"version\": \"7.17\"}}}");
    json_t *root = run_doc_root(d);
    /* by name, typed as the schema says */
    efk_err_init(&e);
    assert_int_equal(run_set_apply(d, "processes.helper.restart=always", &e), 0);
    assert_string_equal(json_string_value(run_ptr_get(root, "/processes/1/restart")), "always");
    assert_int_equal(run_set_apply(d, "seed=7", &e), 0);
    assert_true(json_is_integer(json_object_get(root, "seed")));
    assert_int_equal(json_integer_value(json_object_get(root, "seed")), 7);
    /* a version stays a string */
    assert_int_equal(run_set_apply(d, "fakes.es.version=8.15", &e), 0);
    assert_string_equal(json_string_value(run_ptr_get(root, "/fakes/es/version")), "8.15");
    /* by index, and creating what is missing */
    assert_int_equal(run_set_apply(d, "processes.0.stop_grace=1s", &e), 0);
    assert_string_equal(json_string_value(run_ptr_get(root, "/processes/0/stop_grace")), "1s");
    assert_int_equal(run_set_apply(d, "backoff_scale=0.5", &e), 0);
    assert_true(json_real_value(json_object_get(root, "backoff_scale")) == 0.5);
    assert_int_equal(run_set_apply(d, "backoff_scale=2", &e), 0);
    assert_true(json_number_value(json_object_get(root, "backoff_scale")) == 2.0);
    /* errors */
    efk_err_init(&e);
    assert_int_equal(run_set_apply(d, "processes=x", &e), -EINVAL);
    assert_string_equal(e.file, "--set processes=x");
    assert_non_null(strstr(e.msg, "--set changes single values"));
    efk_err_init(&e);
    assert_int_equal(run_set_apply(d, "processes.nobody.restart=always", &e), -EINVAL);
    assert_non_null(strstr(e.msg, "no entry named \"nobody\""));
    efk_err_init(&e);
    assert_int_equal(run_set_apply(d, "processes.agent.restrat=always", &e), -EINVAL);
    assert_string_equal(e.msg,
                        "no setting \"processes.0.restrat\" in the scenario format; "
                        "nearest: processes.N.restart, processes.N.start, processes.N.ready");
    efk_err_init(&e);
    assert_int_equal(run_set_apply(d, "seed=soon", &e), -EINVAL);
    assert_string_equal(e.msg, "expected an integer, got \"soon\"");
    efk_err_init(&e);
    assert_int_equal(run_set_apply(d, "no-equals-sign", &e), -EINVAL);
    assert_non_null(strstr(e.msg, "expected KEY=VALUE"));
    efk_err_init(&e);
    assert_int_equal(run_set_apply(d, "a..b=1", &e), -EINVAL);
    run_doc_free(d);
}

static void test_set_without_file(void **state)
{
    set_schema_env();
    char *sets[] = {"seed=9", "timeout=2m", "tags.0=smoke"};
    run_scenario *s = NULL;
    efk_err e;
    efk_err_init(&e);
    int rc = run_scenario_load(NULL, sets, 3, &s, &e);
    if (rc)
        render(&e);
    assert_int_equal(rc, 0);
    assert_int_equal(s->seed, 9);
    assert_true(s->has_seed);
    assert_int_equal(s->timeout_ns, INT64_C(120) * 1000000000);
    assert_int_equal(s->ntags, 1);
    assert_string_equal(s->tags[0], "smoke");
    run_scenario_free(s);
    /* an override that the loader refuses names the override */
    char *bad[] = {"timeout=5"};
    efk_err_init(&e);
    assert_int_not_equal(run_scenario_load(NULL, bad, 1, &s, &e), 0);
    char out[4096];
    assert_string_equal(efk_err_render(&e, out, sizeof(out)),
                        "--set timeout=5: /timeout: expected a duration like \"5s\" (units ns, us, "
                        "ms, s, m, h), got the string \"5\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_examples),
        cmocka_unit_test(test_corpora),
        cmocka_unit_test(test_schema_refuses_unknown_keys),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_set_without_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
