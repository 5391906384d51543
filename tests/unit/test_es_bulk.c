/* The bulk engine without HTTP: every action, every malformed case, each
 * persona's _type rule and item fields, the memory cap, item faults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "es/es_bulk.h"

typedef struct fx {
    efk_clock *clk;
    es_store *store;
    es_idgen ids;
    es_acct *acct;
    es_persona p;
    buf out;
    json_t *j;
} fx;

static void fx_init(fx *f, const char *version, uint64_t limit, bool acct_only)
{
    memset(f, 0, sizeof(*f));
    f->clk = clock_test_new(1000000000, INT64_C(1700000000000000000));
    es_store_config sc = {.limit = limit, .accounting_only = acct_only, .seed = 42};
    f->store = es_store_new(&sc);
    assert_non_null(f->store);
    es_idgen_init(&f->ids, f->clk, 42);
    es_acct_config ac = {0};
    efk_err err;
    assert_int_equal(es_acct_new(&ac, &f->acct, &err), 0);
    assert_int_equal(es_persona_parse(version, &f->p, &err), 0);
    buf_init(&f->out, 0);
}

static void fx_free(fx *f)
{
    json_decref(f->j);
    buf_cleanup(&f->out);
    es_acct_free(f->acct);
    es_idgen_cleanup(&f->ids);
    es_store_free(f->store);
    clock_test_free(f->clk);
}

static int run_rules(fx *f, const char *body, const char *index, const char *type, int compat,
                     const es_item_rule *rules, size_t nrules)
{
    es_persona p;
    es_persona_for_request(&f->p, compat, &p);
    es_bulk_env env = {
        .store = f->store, .ids = &f->ids, .acct = f->acct, .clock = f->clk, .node_name = "efksim"};
    es_bulk_req req = {.body = body,
                       .len = strlen(body),
                       .index = index,
                       .type = type,
                       .persona = &p,
                       .rules = rules,
                       .nrules = nrules,
                       .start_ns = clock_mono_ns(f->clk)};
    buf_reset(&f->out);
    int st = es_bulk_run(&env, &req, &f->out, NULL);
    json_decref(f->j);
    json_error_t e;
    f->j = json_loads(f->out.data, 0, &e);
    if (!f->j)
        fail_msg("answer is not JSON: %s", f->out.data);
    return st;
}

static int run(fx *f, const char *body, const char *index)
{
    return run_rules(f, body, index, NULL, 0, NULL, 0);
}

/* items[i].<only key> */
static json_t *item(fx *f, size_t i, const char **action)
{
    json_t *it = json_array_get(json_object_get(f->j, "items"), i);
    assert_non_null(it);
    assert_int_equal(json_object_size(it), 1);
    const char *k = json_object_iter_key(json_object_iter(it));
    if (action)
        *action = k;
    return json_object_get(it, k);
}

static int item_status(fx *f, size_t i)
{
    return (int)json_integer_value(json_object_get(item(f, i, NULL), "status"));
}

static const char *item_err_type(fx *f, size_t i)
{
    return json_string_value(json_object_get(json_object_get(item(f, i, NULL), "error"), "type"));
}

static const char *err_type(fx *f)
{
    return json_string_value(json_object_get(json_object_get(f->j, "error"), "type"));
}

static const char *err_reason(fx *f)
{
    return json_string_value(json_object_get(json_object_get(f->j, "error"), "reason"));
}

static uint64_t docs(fx *f, const char *index)
{
    es_store_rdlock(f->store);
    es_index *ix = es_store_index_get(f->store, index, strlen(index));
    uint64_t n = ix ? ix->live : UINT64_MAX;
    es_store_unlock(f->store);
    return n;
}

static void test_exact_answer_7x(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "7.17", 0, false);
    assert_int_equal(run(&f, "{\"index\":{\"_index\":\"logs\",\"_id\":\"1\"}}\n{\"a\":1}\n", NULL),
                     200);
    assert_string_equal(f.out.data,
                        "{\"took\":0,\"errors\":false,\"items\":[{\"index\":{\"_index\":\"logs\","
                        "\"_type\":\"_doc\",\"_id\":\"1\",\"_version\":1,\"result\":\"created\","
                        "\"_shards\":{\"total\":2,\"successful\":1,\"failed\":0},\"_seq_no\":0,"
                        "\"_primary_term\":1,\"status\":201}}]}");
    fx_free(&f);
}

static void test_item_fields_per_persona(void **state)
{
    (void)state;
    const char *body = "{\"index\":{\"_index\":\"i\",\"_type\":\"t\",\"_id\":\"1\"}}\n{}\n"
                       "{\"delete\":{\"_index\":\"i\",\"_type\":\"t\",\"_id\":\"1\"}}\n";
    struct {
        const char *v;
        const char *want;
    } cases[] = {
        {"2.4",
         "{\"took\":0,\"errors\":false,\"items\":[{\"index\":{\"_index\":\"i\",\"_type\":\"t\","
         "\"_id\":\"1\",\"_version\":1,\"_shards\":{\"total\":2,\"successful\":1,\"failed\":0},"
         "\"status\":201}},{\"delete\":{\"found\":true,\"_index\":\"i\",\"_type\":\"t\",\"_id\":"
         "\"1\",\"_version\":2,\"_shards\":{\"total\":2,\"successful\":1,\"failed\":0},"
         "\"status\":200}}]}"},
        {"5.6",
         "{\"took\":0,\"errors\":false,\"items\":[{\"index\":{\"_index\":\"i\",\"_type\":\"t\","
         "\"_id\":\"1\",\"_version\":1,\"result\":\"created\",\"_shards\":{\"total\":2,"
         "\"successful\":1,\"failed\":0},\"created\":true,\"status\":201}},{\"delete\":{"
         "\"found\":true,\"_index\":\"i\",\"_type\":\"t\",\"_id\":\"1\",\"_version\":2,"
         "\"result\":\"deleted\",\"_shards\":{\"total\":2,\"successful\":1,\"failed\":0},"
         "\"status\":200}}]}"},
        {"6.8",
         "{\"took\":0,\"errors\":false,\"items\":[{\"index\":{\"_index\":\"i\",\"_type\":\"t\","
         "\"_id\":\"1\",\"_version\":1,\"result\":\"created\",\"_shards\":{\"total\":2,"
         "\"successful\":1,\"failed\":0},\"_seq_no\":0,\"_primary_term\":1,\"status\":201}},"
         "{\"delete\":{\"_index\":\"i\",\"_type\":\"t\",\"_id\":\"1\",\"_version\":2,\"result\":"
         "\"deleted\",\"_shards\":{\"total\":2,\"successful\":1,\"failed\":0},\"_seq_no\":1,"
         "\"_primary_term\":1,\"status\":200}}]}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fx f;
        fx_init(&f, cases[i].v, 0, false);
        assert_int_equal(run(&f, body, NULL), 200);
        assert_string_equal(f.out.data, cases[i].want);
        fx_free(&f);
    }
    /* 8.x: no _type in answers */
    fx f;
    fx_init(&f, "8", 0, false);
    assert_int_equal(run(&f, "{\"create\":{\"_index\":\"i\",\"_id\":\"1\"}}\n{}\n", NULL), 200);
    assert_string_equal(f.out.data,
                        "{\"took\":0,\"errors\":false,\"items\":[{\"create\":{\"_index\":\"i\","
                        "\"_id\":\"1\",\"_version\":1,\"result\":\"created\",\"_shards\":{\"total\""
                        ":2,\"successful\":1,\"failed\":0},\"_seq_no\":0,\"_primary_term\":1,"
                        "\"status\":201}}]}");
    fx_free(&f);
}

static void test_type_rules(void **state)
{
    (void)state;
    fx f;
    /* 8.x: _type is a request-level 400 ... */
    fx_init(&f, "8.15", 0, false);
    assert_int_equal(
        run(&f, "{\"index\":{\"_index\":\"system\",\"_type\":\"events\"}}\n{}\n", NULL), 400);
    assert_string_equal(err_type(&f), "illegal_argument_exception");
    assert_string_equal(err_reason(&f),
                        "Action/metadata line [1] contains an unknown parameter [_type]");
    assert_int_equal(json_integer_value(json_object_get(f.j, "status")), 400);
    assert_int_equal(docs(&f, "system"), UINT64_MAX);
    /* ... with rsyslog's spacing too */
    assert_int_equal(
        run(&f, "{\"index\":{\"_index\": \"system\",\"_type\":\"events\"}}\n{}\n", NULL), 400);
    /* ... unless compatible-with=7: then accepted and answered in 7.x shape */
    assert_int_equal(run_rules(&f, "{\"index\":{\"_index\":\"system\",\"_type\":\"events\"}}\n{}\n",
                               NULL, NULL, 7, NULL, 0),
                     200);
    assert_string_equal(json_string_value(json_object_get(item(&f, 0, NULL), "_type")), "_doc");
    fx_free(&f);

    /* 6.8: type required, one per index */
    fx_init(&f, "6.8", 0, false);
    assert_int_equal(run(&f, "{\"index\":{\"_index\":\"i\"}}\n{}\n", NULL), 400);
    assert_string_equal(err_type(&f), "action_request_validation_exception");
    assert_string_equal(err_reason(&f), "Validation Failed: 1: type is missing;");
    assert_int_equal(run(&f,
                         "{\"index\":{\"_index\":\"i\",\"_type\":\"a\"}}\n{}\n"
                         "{\"index\":{\"_index\":\"i\",\"_type\":\"b\"}}\n{}\n"
                         "{\"index\":{\"_index\":\"i\",\"_type\":\"_doc\"}}\n{}\n",
                         NULL),
                     200);
    assert_true(json_is_true(json_object_get(f.j, "errors")));
    assert_int_equal(item_status(&f, 0), 201);
    assert_int_equal(item_status(&f, 1), 400);
    assert_string_equal(item_err_type(&f, 1), "illegal_argument_exception");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(item(&f, 1, NULL), "error"), "reason")),
        "Rejecting mapping update to [i] as the final mapping would have more than "
        "1 type: [a, b]");
    /* _doc resolves to the index's type */
    assert_int_equal(item_status(&f, 2), 201);
    assert_string_equal(json_string_value(json_object_get(item(&f, 2, NULL), "_type")), "a");
    /* the type may come from the path */
    assert_int_equal(run_rules(&f, "{\"index\":{}}\n{}\n", "j", "x", 0, NULL, 0), 200);
    assert_string_equal(json_string_value(json_object_get(item(&f, 0, NULL), "_type")), "x");
    fx_free(&f);

    /* 5.6: several types per index */
    fx_init(&f, "5.6", 0, false);
    assert_int_equal(run(&f,
                         "{\"index\":{\"_index\":\"i\",\"_type\":\"a\",\"_id\":\"1\"}}\n{}\n"
                         "{\"index\":{\"_index\":\"i\",\"_type\":\"b\",\"_id\":\"1\"}}\n{}\n",
                         NULL),
                     200);
    assert_int_equal(item_status(&f, 0), 201);
    assert_int_equal(item_status(&f, 1), 201);
    assert_int_equal(docs(&f, "i"), 2);
    fx_free(&f);

    /* 7.17: optional, defaults to _doc; a custom one is kept */
    fx_init(&f, "7.17", 0, false);
    assert_int_equal(run(&f,
                         "{\"index\":{\"_index\":\"system\",\"_type\":\"events\"}}\n{}\n"
                         "{\"index\":{\"_index\":\"other\"}}\n{}\n",
                         NULL),
                     200);
    assert_string_equal(json_string_value(json_object_get(item(&f, 0, NULL), "_type")), "events");
    assert_string_equal(json_string_value(json_object_get(item(&f, 1, NULL), "_type")), "_doc");
    fx_free(&f);
}

static void test_actions(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "7.17", 0, false);
    const char *body =
        "{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":1,\"o\":{\"p\":1}}\n"
        "{\"create\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":2}\n"
        "{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":3,\"o\":{\"p\":1}}\n"
        "{\"update\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"doc\":{\"y\":4,\"o\":{\"q\":2}}}\n"
        "{\"update\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"doc\":{\"y\":4}}\n"
        "{\"update\":{\"_index\":\"a\",\"_id\":\"2\"}}\n{\"doc\":{\"y\":5}}\n"
        "{\"update\":{\"_index\":\"a\",\"_id\":\"3\"}}\n{\"doc\":{\"y\":6},\"doc_as_upsert\":true}"
        "\n"
        "{\"delete\":{\"_index\":\"a\",\"_id\":\"1\"}}\n"
        "{\"delete\":{\"_index\":\"a\",\"_id\":\"9\"}}\n"
        "{\"index\":{\"_index\":\"a\"}}\n{\"gen\":true}\n";
    assert_int_equal(run(&f, body, NULL), 200);
    assert_true(json_is_true(json_object_get(f.j, "errors")));
    int want_status[] = {201, 409, 200, 200, 200, 404, 201, 200, 404, 201};
    const char *want_result[] = {"created", NULL,      "updated", "updated",   "noop",
                                 NULL,      "created", "deleted", "not_found", "created"};
    const char *want_action[] = {"index",  "create", "index",  "update", "update",
                                 "update", "update", "delete", "delete", "index"};
    for (size_t i = 0; i < 10; i++) {
        const char *act;
        json_t *it = item(&f, i, &act);
        assert_string_equal(act, want_action[i]);
        assert_int_equal(item_status(&f, i), want_status[i]);
        if (want_result[i])
            assert_string_equal(json_string_value(json_object_get(it, "result")), want_result[i]);
    }
    assert_string_equal(item_err_type(&f, 1), "version_conflict_engine_exception");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(item(&f, 1, NULL), "error"), "reason")),
        "[1]: version conflict, document already exists (current version [1])");
    assert_string_equal(item_err_type(&f, 5), "document_missing_exception");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(item(&f, 5, NULL), "error"), "reason")),
        "[_doc][2]: document missing");
    assert_int_equal(json_integer_value(json_object_get(item(&f, 2, NULL), "_version")), 2);
    /* the generated id */
    const char *gid = json_string_value(json_object_get(item(&f, 9, NULL), "_id"));
    assert_int_equal(strlen(gid), 20);
    for (const char *c = gid; *c; c++)
        assert_true(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *c));
    /* the update merged objects recursively */
    es_store_wrlock(f.store);
    es_index *ix = es_store_index_get(f.store, "a", 1);
    es_doc *d = es_index_doc_get(f.store, ix, 0, "3", 1);
    assert_non_null(d);
    assert_true(d->live);
    assert_memory_equal(es_doc_src(d), "{\"y\":6}", d->src_len);
    d = es_index_doc_get(f.store, ix, 0, "1", 1);
    assert_false(d->live);
    assert_int_equal(ix->live, 2); /* 3 and the generated one */
    es_store_unlock(f.store);
    fx_free(&f);
}

static void test_update_merge_result(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "7.17", 0, false);
    assert_int_equal(
        run(&f,
            "{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":1,\"o\":{\"p\":1}}\n"
            "{\"update\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"doc\":{\"o\":{\"q\":2}}}\n",
            NULL),
        200);
    es_store_wrlock(f.store);
    es_doc *d = es_index_doc_get(f.store, es_store_index_get(f.store, "a", 1), 0, "1", 1);
    char *src = strndup(es_doc_src(d), d->src_len);
    es_store_unlock(f.store);
    assert_string_equal(src, "{\"x\":1,\"o\":{\"p\":1,\"q\":2}}");
    free(src);
    fx_free(&f);
}

static void expect_req_error(const char *version, const char *body, const char *type,
                             const char *reason)
{
    fx f;
    fx_init(&f, version, 0, false);
    int st = run(&f, body, NULL);
    if (st != 400)
        fail_msg("%s: status %d, body %s", body, st, f.out.data);
    assert_string_equal(err_type(&f), type);
    if (reason)
        assert_string_equal(err_reason(&f), reason);
    /* root_cause carries the same, and nothing was stored */
    json_t *rc0 = json_array_get(json_object_get(json_object_get(f.j, "error"), "root_cause"), 0);
    assert_string_equal(json_string_value(json_object_get(rc0, "type")), type);
    assert_int_equal(es_store_index_count(f.store), 0);
    fx_free(&f);
}

static void test_request_level_errors(void **state)
{
    (void)state;
    expect_req_error("7.17", "{\"index\":{\"_index\":\"a\"}}\n{}", "illegal_argument_exception",
                     "The bulk request must be terminated by a newline [\\n]");
    expect_req_error("7.17", "{\"index\":{\"_index\":\"a\"}}", "illegal_argument_exception",
                     "The bulk request must be terminated by a newline [\\n]");
    expect_req_error("7.17", "{\"index\":{\"_index\":\"a\"}}\n{}\n{\"foo\":{}}\n{}\n",
                     "illegal_argument_exception",
                     "Malformed action/metadata line [3], expected field [create], [delete], "
                     "[index] or [update] but found [foo]");
    expect_req_error("7.17", "{\"index\":{\"_index\":\"a\",\"bogus\":1}}\n{}\n",
                     "illegal_argument_exception",
                     "Action/metadata line [1] contains an unknown parameter [bogus]");
    expect_req_error("7.17", "{\"index\":{\"_index\":[\"a\"]}}\n{}\n", "illegal_argument_exception",
                     "Malformed action/metadata line [1], expected a simple value for field "
                     "[_index] but found [START_ARRAY]");
    expect_req_error("7.17", "{\"index\":{\"_index\":{\"a\":1}}}\n{}\n",
                     "illegal_argument_exception",
                     "Malformed action/metadata line [1], expected a simple value for field "
                     "[_index] but found [START_OBJECT]");
    expect_req_error("7.17", "[\"index\"]\n{}\n", "illegal_argument_exception",
                     "Malformed action/metadata line [1], expected START_OBJECT but found "
                     "[START_ARRAY]");
    expect_req_error("7.17", "{}\n{}\n", "illegal_argument_exception",
                     "Malformed action/metadata line [1], expected FIELD_NAME but found "
                     "[END_OBJECT]");
    expect_req_error("7.17", "{\"index\":\"a\"}\n{}\n", "illegal_argument_exception",
                     "Malformed action/metadata line [1], expected START_OBJECT or END_OBJECT but "
                     "found [VALUE_STRING]");
    expect_req_error("7.17", "{index}\n{}\n", "json_parse_exception", NULL);
    expect_req_error("8", "{index}\n{}\n", "x_content_parse_exception", NULL);
    expect_req_error("7.17", "", "action_request_validation_exception",
                     "Validation Failed: 1: no requests added;");
    expect_req_error("7.17", "\n\n", "action_request_validation_exception",
                     "Validation Failed: 1: no requests added;");
    expect_req_error("7.17", "{\"index\":{\"_index\":\"a\"}}\n",
                     "action_request_validation_exception",
                     "Validation Failed: 1: no requests added;");
    expect_req_error("7.17", "{\"delete\":{\"_index\":\"a\"}}\n{\"index\":{}}\n{}\n",
                     "action_request_validation_exception",
                     "Validation Failed: 1: id is missing;2: index is missing;");
    expect_req_error("7.17", "{\"update\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"doc\":1,\n",
                     "json_parse_exception", NULL);
    expect_req_error("7.17", "{\"update\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"bogus\":1}\n",
                     "x_content_parse_exception", "[1:2] [UpdateRequest] unknown field [bogus]");
    /* the Jackson detail of a bad action line */
    fx f;
    fx_init(&f, "7.17", 0, false);
    assert_int_equal(run(&f, "{\"index\":{\"_index\":\"a\"}\n{}\n", NULL), 200);
    fx_free(&f); /* 7.x does not read past the metadata object: accepted */
    fx_init(&f, "7.17", 0, false);
    assert_int_equal(run(&f, "{\"index\":{\"_index\" \"a\"}}\n{}\n", NULL), 400);
    assert_string_equal(err_reason(&f),
                        "Unexpected character ('\"' (code 34)): was expecting a colon to separate "
                        "field name and value\n at [Source: (org.elasticsearch.common.bytes."
                        "AbstractBytesReference$MarkSupportingStreamInputWrapper); line: 1, "
                        "column: 21]");
    fx_free(&f);
}

static void test_item_level_doc_errors(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "7.17", 0, false);
    const char *body = "{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\nnot json\n"
                       "{\"index\":{\"_index\":\"a\",\"_id\":\"2\"}}\n\n"
                       "{\"index\":{\"_index\":\"a\",\"_id\":\"3\"}}\n[1]\n"
                       "{\"index\":{\"_index\":\"a\",\"_id\":\"4\"}}\n{\"a\":1}{\"b\":2}\n"
                       "{\"index\":{\"_index\":\"a\",\"_id\":\"5\"}}\n{\"a\":1,\"a\":2}\n"
                       "{\"index\":{\"_index\":\"a\",\"_id\":\"6\"}}\r\n{\"ok\":true}\r\n"
                       "{\"index\":{\"_index\":\"Bad\",\"_id\":\"7\"}}\n{}\n";
    assert_int_equal(run(&f, body, NULL), 200);
    assert_true(json_is_true(json_object_get(f.j, "errors")));
    for (int i = 0; i < 5; i++) {
        assert_int_equal(item_status(&f, (size_t)i), 400);
        assert_string_equal(item_err_type(&f, (size_t)i), "mapper_parsing_exception");
    }
    json_t *e0 = json_object_get(item(&f, 0, NULL), "error");
    assert_string_equal(json_string_value(json_object_get(e0, "reason")), "failed to parse");
    json_t *cb = json_object_get(e0, "caused_by");
    assert_string_equal(json_string_value(json_object_get(cb, "type")), "json_parse_exception");
    assert_non_null(
        strstr(json_string_value(json_object_get(cb, "reason")), "Unrecognized token 'not'"));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(item(&f, 1, NULL), "error"), "reason")),
        "failed to parse, document is empty");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(item(&f, 2, NULL), "error"), "reason")),
        "Malformed content, must start with an object");
    json_t *e3 = json_object_get(item(&f, 3, NULL), "error");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(e3, "caused_by"), "reason")),
        "Malformed content, found extra data after parsing: START_OBJECT");
    json_t *e4 = json_object_get(item(&f, 4, NULL), "error");
    assert_non_null(
        strstr(json_string_value(json_object_get(json_object_get(e4, "caused_by"), "reason")),
               "Duplicate field 'a'"));
    assert_int_equal(item_status(&f, 5), 201);
    assert_int_equal(item_status(&f, 6), 400);
    assert_string_equal(item_err_type(&f, 6), "invalid_index_name_exception");
    json_t *e6 = json_object_get(item(&f, 6, NULL), "error");
    assert_string_equal(json_string_value(json_object_get(e6, "reason")),
                        "Invalid index name [Bad], must be lowercase");
    assert_string_equal(json_string_value(json_object_get(e6, "index_uuid")), "_na_");
    assert_int_equal(docs(&f, "a"), 1);
    fx_free(&f);

    /* 8.x words document errors as document_parsing_exception */
    fx_init(&f, "8", 0, false);
    assert_int_equal(run(&f, "{\"index\":{\"_index\":\"a\"}}\n{\"a\":}\n", NULL), 200);
    assert_string_equal(item_err_type(&f, 0), "document_parsing_exception");
    fx_free(&f);
}

static void test_atomic_rejection(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "7.17", 0, false);
    assert_int_equal(run(&f,
                         "{\"index\":{\"_index\":\"a\"}}\n{}\n{\"index\":{\"_index\":\"b\"}}\n{}\n"
                         "{\"nope\":{}}\n{}\n",
                         NULL),
                     400);
    assert_int_equal(es_store_index_count(f.store), 0);
    assert_int_equal(es_acct_unmarked(f.acct), 0);
    fx_free(&f);
}

static void test_store_limit(void **state)
{
    (void)state;
    for (int v = 0; v < 2; v++) {
        fx f;
        fx_init(&f, v ? "6.8" : "7.17", 200 * 1024, false);
        char doc[2100];
        memset(doc, 'x', sizeof(doc));
        memcpy(doc, "{\"m\":\"", 6);
        memcpy(doc + sizeof(doc) - 3, "\"}", 3);
        buf body;
        buf_init(&body, 0);
        for (int i = 0; i < 200; i++)
            assert_int_equal(
                buf_printf(&body, "{\"index\":{\"_index\":\"a\",\"_type\":\"_doc\"}}\n%s\n", doc),
                0);
        assert_int_equal(run(&f, body.data, NULL), 200);
        assert_true(json_is_true(json_object_get(f.j, "errors")));
        size_t n = json_array_size(json_object_get(f.j, "items"));
        assert_int_equal(n, 200);
        assert_int_equal(item_status(&f, 0), 201);
        assert_int_equal(item_status(&f, 199), v ? 403 : 429);
        assert_string_equal(item_err_type(&f, 199), "cluster_block_exception");
        const char *reason = json_string_value(
            json_object_get(json_object_get(item(&f, 199, NULL), "error"), "reason"));
        assert_string_equal(reason, v ? "index [a] blocked by: [FORBIDDEN/12/index read-only / "
                                        "allow delete (api)];"
                                      : "index [a] blocked by: [TOO_MANY_REQUESTS/12/disk usage "
                                        "exceeded flood-stage watermark, index has "
                                        "read-only-allow-delete block];");
        uint64_t stored = docs(&f, "a");
        assert_true(stored > 10 && stored < 200);
        es_store_rdlock(f.store);
        assert_true(es_store_full(f.store));
        es_store_unlock(f.store);
        /* deleting frees the memory; writes work again */
        es_store_wrlock(f.store);
        es_store_index_del(f.store, es_store_index_get(f.store, "a", 1));
        es_store_unlock(f.store);
        assert_int_equal(run(&f, "{\"index\":{\"_index\":\"a\",\"_type\":\"_doc\"}}\n{}\n", NULL),
                         200);
        assert_int_equal(item_status(&f, 0), 201);
        buf_cleanup(&body);
        fx_free(&f);
    }
}

static void test_memory_per_document(void **state)
{
    (void)state;
    /* log-agent shaped documents of ~360 bytes cost at most 1.5x their source */
    fx f;
    fx_init(&f, "7.17", 0, false);
    const char *doc = "{\"@timestamp\":\"2024-01-01T00:00:00.000Z\",\"host\":\"node-1\","
                      "\"kubernetes\":{\"namespace\":\"default\",\"pod\":\"app-7d4b9c-xk2lp\","
                      "\"container\":\"app\"},\"stream\":\"stdout\",\"message\":\"efk:app:1 "
                      "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod "
                      "tempor incididunt ut labore et dolore magna aliqua ut enim ad minim veniam "
                      "quis nostrud exercitation ullamco laboris\"}";
    buf body;
    buf_init(&body, 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(buf_printf(&body, "{\"index\":{\"_index\":\"logs\"}}\n%s\n", doc), 0);
    for (int r = 0; r < 20; r++)
        assert_int_equal(run(&f, body.data, NULL), 200);
    es_store_rdlock(f.store);
    es_index *ix = es_store_index_get(f.store, "logs", 4);
    double ratio = (double)ix->bytes / (double)ix->src_bytes;
    es_store_unlock(f.store);
    assert_int_equal(docs(&f, "logs"), 20000);
    if (ratio > 1.5)
        fail_msg("stored documents cost %.2fx their source", ratio);
    buf_cleanup(&body);
    fx_free(&f);
}

/* An index made after a delete takes the deleted index's document array:
 * its documents must all be there and findable, and it must be charged
 * exactly what the same documents cost in a store that never deleted. */
static uint64_t fill_ids(fx *f, const char *index, int n)
{
    buf body;
    buf_init(&body, 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(buf_printf(&body,
                                    "{\"index\":{\"_index\":\"%s\",\"_id\":\"d%d\"}}\n"
                                    "{\"n\":%d}\n",
                                    index, i, i),
                         0);
    assert_int_equal(run(f, body.data, NULL), 200);
    buf_cleanup(&body);
    es_store_rdlock(f->store);
    uint64_t bytes = es_store_index_get(f->store, index, strlen(index))->bytes;
    es_store_unlock(f->store);
    return bytes;
}

static void test_reused_document_array(void **state)
{
    (void)state;
    fx fresh, used;
    fx_init(&fresh, "7.17", 0, false);
    fx_init(&used, "7.17", 0, false);
    uint64_t want = fill_ids(&fresh, "b", 900);
    fill_ids(&used, "a", 5000); /* a larger array than "b" needs */
    es_store_wrlock(used.store);
    es_store_index_del(used.store, es_store_index_get(used.store, "a", 1));
    es_store_unlock(used.store);
    uint64_t got = fill_ids(&used, "b", 900);
    assert_int_equal(got, want);
    assert_int_equal(docs(&used, "b"), 900);
    es_store_rdlock(used.store);
    es_index *ix = es_store_index_get(used.store, "b", 1);
    for (int i = 0; i < 900; i += 7) {
        char id[16];
        int n = snprintf(id, sizeof(id), "d%d", i);
        es_doc *d = es_index_doc_get(used.store, ix, 0, id, (size_t)n);
        assert_non_null(d);
        char src[32];
        snprintf(src, sizeof(src), "{\"n\":%d}", i);
        assert_int_equal(d->src_len, strlen(src));
        assert_memory_equal(es_doc_src(d), src, d->src_len);
    }
    es_store_unlock(used.store);
    fx_free(&fresh);
    fx_free(&used);
}

static void test_item_faults(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "7.17", 0, false);
    const char *body = "{\"index\":{\"_index\":\"a\"}}\n{\"m\":\"efk:s:1 x\"}\n"
                       "{\"index\":{\"_index\":\"a\"}}\n{\"m\":\"efk:s:2 x\"}\n"
                       "{\"index\":{\"_index\":\"b\"}}\n{\"m\":\"efk:s:3 x\"}\n";
    uint32_t pos[] = {2};
    uint64_t counter = 0, failed = 0;
    es_item_rule r = {.status = 429,
                      .positions = pos,
                      .npositions = 1,
                      .probability = -1,
                      .counter = &counter,
                      .failed = &failed};
    assert_int_equal(run_rules(&f, body, NULL, NULL, 0, &r, 1), 200);
    assert_int_equal(item_status(&f, 0), 201);
    assert_int_equal(item_status(&f, 1), 429);
    assert_string_equal(item_err_type(&f, 1), "es_rejected_execution_exception");
    assert_int_equal(item_status(&f, 2), 201);
    assert_int_equal(failed, 1);
    /* the rejected line is not delivered */
    es_acct_report rep;
    uint64_t ranges[4][2];
    es_acct_stream(f.acct, "s", &rep, ranges, 4);
    assert_int_equal(rep.delivered, 2);
    assert_int_equal(rep.lost, 1);
    assert_int_equal(ranges[0][0], 2);
    assert_int_equal(ranges[0][1], 2);

    /* by index, with a given type and reason */
    es_item_rule r2 = {.status = 400,
                       .type = "mapper_parsing_exception",
                       .reason = "boom",
                       .index_glob = "b*",
                       .probability = -1};
    assert_int_equal(run_rules(&f, body, NULL, NULL, 0, &r2, 1), 200);
    assert_int_equal(item_status(&f, 0), 201);
    assert_int_equal(item_status(&f, 2), 400);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(item(&f, 2, NULL), "error"), "reason")),
        "boom");
    /* every 2nd */
    uint64_t c3 = 0;
    es_item_rule r3 = {.status = 409, .every = 2, .probability = -1, .counter = &c3};
    assert_int_equal(run_rules(&f, body, NULL, NULL, 0, &r3, 1), 200);
    assert_int_equal(item_status(&f, 0), 201);
    assert_int_equal(item_status(&f, 1), 409);
    assert_int_equal(item_status(&f, 2), 201);
    fx_free(&f);

    /* probability draws are repeatable from the seed */
    int first[40], second[40];
    for (int pass = 0; pass < 2; pass++) {
        fx_init(&f, "7.17", 0, false);
        rng g;
        rng_init(&g, 7, "rule");
        es_item_rule rp = {.status = 503, .probability = 0.5, .rng = &g};
        buf b40;
        buf_init(&b40, 0);
        for (int i = 0; i < 40; i++)
            assert_int_equal(buf_puts(&b40, "{\"index\":{\"_index\":\"p\"}}\n{}\n"), 0);
        assert_int_equal(run_rules(&f, b40.data, NULL, NULL, 0, &rp, 1), 200);
        int nfail = 0;
        for (int i = 0; i < 40; i++) {
            (pass ? second : first)[i] = item_status(&f, (size_t)i);
            nfail += item_status(&f, (size_t)i) == 503;
        }
        assert_true(nfail > 5 && nfail < 35);
        buf_cleanup(&b40);
        fx_free(&f);
    }
    assert_memory_equal(first, second, sizeof(first));
}

static void test_type_cap(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "5.6", 0, false);
    buf body;
    buf_init(&body, 0);
    for (int i = 0; i < 65; i++)
        assert_int_equal(
            buf_printf(&body, "{\"index\":{\"_index\":\"i\",\"_type\":\"t%d\"}}\n{}\n", i), 0);
    assert_int_equal(run(&f, body.data, NULL), 200);
    assert_int_equal(item_status(&f, 63), 201);
    assert_int_equal(item_status(&f, 64), 400);
    assert_string_equal(json_string_value(json_object_get(item(&f, 64, NULL), "_type")), "t64");
    assert_string_equal(item_err_type(&f, 64), "illegal_argument_exception");
    buf_cleanup(&body);
    fx_free(&f);
}

static void test_accounting_only(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "7.17", 0, true);
    assert_int_equal(run(&f,
                         "{\"index\":{\"_index\":\"a\"}}\n{\"m\":\"efk:s:1 x\"}\n"
                         "{\"index\":{\"_index\":\"a\"}}\n{\"m\":\"efk:s:1 x\"}\n",
                         NULL),
                     200);
    assert_int_equal(docs(&f, "a"), 2);
    es_store_rdlock(f.store);
    es_index *ix = es_store_index_get(f.store, "a", 1);
    assert_int_equal(ix->ndocs, 0); /* nothing kept */
    es_store_unlock(f.store);
    es_acct_report rep;
    es_acct_stream(f.acct, "s", &rep, NULL, 0);
    assert_int_equal(rep.delivered, 1);
    assert_int_equal(rep.duplicated, 1);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_answer_7x),
        cmocka_unit_test(test_item_fields_per_persona),
        cmocka_unit_test(test_type_rules),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_update_merge_result),
        cmocka_unit_test(test_request_level_errors),
        cmocka_unit_test(test_item_level_doc_errors),
        cmocka_unit_test(test_atomic_rejection),
        cmocka_unit_test(test_store_limit),
        cmocka_unit_test(test_memory_per_document),
        cmocka_unit_test(test_reused_document_array),
        cmocka_unit_test(test_item_faults),
        cmocka_unit_test(test_accounting_only),
        cmocka_unit_test(test_type_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
