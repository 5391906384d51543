/* The fake as a whole, over HTTP with libcurl on port 0: config parsing,
 * the public API (faults, down/up, counts, search, delivery), store limits. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "core/buf.h"
#include "efksim.h"

typedef struct resp {
    long status;
    char *body;
    size_t len;
} resp;

static size_t on_data(char *p, size_t sz, size_t n, void *arg)
{
    resp *r = arg;
    char *nb = realloc(r->body, r->len + sz * n + 1);
    if (!nb)
        return 0;
    memcpy(nb + r->len, p, sz * n);
    r->body = nb;
    r->len += sz * n;
    r->body[r->len] = '\0';
    return sz * n;
}

/* 0 or the curl error */
static int http(const char *method, const char *url, const char *ctype, const char *body, resp *r)
{
    memset(r, 0, sizeof(*r));
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    if (ctype) {
        char line[200];
        snprintf(line, sizeof(line), "Content-Type: %s", ctype);
        h = curl_slist_append(h, line);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (!r->body)
        r->body = strdup("");
    return (int)rc;
}

static json_t *http_json(const char *method, efk_es *es, const char *path, const char *body,
                         long *status)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", efk_es_url(es), path);
    resp r;
    assert_int_equal(http(method, url, body ? "application/x-ndjson" : NULL, body, &r), 0);
    *status = r.status;
    json_t *j = json_loads(r.body, 0, NULL);
    free(r.body);
    return j;
}

static efk_es *start(const char *conf, efk_clock *clk)
{
    efk_es_config cfg;
    efk_es_config_init(&cfg);
    efk_err err;
    efk_err_init(&err);
    json_t *j = json_loads(conf, 0, NULL);
    assert_non_null(j);
    if (efk_es_config_parse(&cfg, j, ".", &err))
        fail_msg("config: %s %s", err.pointer, err.msg);
    json_decref(j);
    efk_runtime rt;
    memset(&rt, 0, sizeof(rt));
    rt.clock = clk ? clk : clock_system();
    rt.seed = 3;
    efk_es *es = NULL;
    if (efk_es_start(&cfg, &rt, &es, &err))
        fail_msg("start: %s", err.msg);
    efk_es_config_cleanup(&cfg);
    return es;
}

static void expect_config_error(const char *conf, const char *pointer, const char *msg_part)
{
    efk_es_config cfg;
    efk_es_config_init(&cfg);
    efk_err err;
    efk_err_init(&err);
    json_t *j = json_loads(conf, 0, NULL);
    assert_int_equal(efk_es_config_parse(&cfg, j, ".", &err), -EINVAL);
    assert_string_equal(err.pointer, pointer);
    if (!strstr(err.msg, msg_part))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg_part);
    json_decref(j);
    efk_es_config_cleanup(&cfg);
}

static void test_config(void **state)
{
    (void)state;
    expect_config_error("{\"verison\":\"7\"}", "/verison", "allowed: version, store_limit");
    expect_config_error("{\"version\":\"3.0\"}", "/version", "unsupported Elasticsearch version");
    expect_config_error("{\"store_limit\":\"lots\"}", "/store_limit", "byte size");
    expect_config_error("{\"store\":\"disk\"}", "/store", "\"full\" or \"accounting\"");
    expect_config_error("{\"security\":{\"users\":[{\"name\":\"a\"}]}}",
                        "/security/users/0/password", "expected a string");
    expect_config_error("{\"accounting\":{\"regex\":\"(x\"}}", "/accounting/regex",
                        "regular expression");
    expect_config_error("{\"accounting\":{\"feild\":\"x\"}}", "/accounting/feild",
                        "allowed: field");
    expect_config_error("{\"expected\":{\"s\":-1}}", "/expected/s", "line count");
    efk_es_config cfg;
    efk_es_config_init(&cfg);
    json_t *j = json_loads("{\"version\":8.15,\"store_limit\":\"8G\",\"store\":\"accounting\","
                           "\"max_content_length\":\"10mb\"}",
                           0, NULL);
    efk_err err;
    assert_int_equal(efk_es_config_parse(&cfg, j, ".", &err), 0);
    assert_string_equal(cfg.version, "8.15");
    assert_int_equal(cfg.store_limit, UINT64_C(8) << 30);
    assert_true(cfg.accounting_only);
    assert_int_equal(cfg.max_content_length, UINT64_C(10) << 20);
    json_decref(j);
    efk_es_config_cleanup(&cfg);
}

static void test_api_faults_and_queries(void **state)
{
    (void)state;
    efk_es *es = start("{\"version\":\"7.17\",\"expected\":{\"s\":5}}", NULL);
    efk_err err;
    uint32_t pos[] = {2};
    efk_es_item_fault f = {.id = "f1",
                           .status = 429,
                           .positions = pos,
                           .npositions = 1,
                           .probability = -1,
                           .times = 1};
    char id[FAULT_ID_MAX];
    assert_int_equal(efk_es_fail_items(es, &f, id, &err), 0);
    assert_string_equal(id, "f1");
    long st;
    const char *body = "{\"index\":{\"_index\":\"l\"}}\n{\"m\":\"efk:s:1 a\"}\n"
                       "{\"index\":{\"_index\":\"l\"}}\n{\"m\":\"efk:s:2 b\"}\n"
                       "{\"index\":{\"_index\":\"l\"}}\n{\"m\":\"efk:s:3 c\"}\n";
    json_t *j = http_json("POST", es, "/_bulk", body, &st);
    assert_int_equal(st, 200);
    json_t *items = json_object_get(j, "items");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_array_get(items, 1), "index"), "status")),
                     429);
    json_decref(j);
    /* the rule expired after one request */
    j = http_json("POST", es, "/_bulk", "{\"index\":{\"_index\":\"l\"}}\n{\"m\":\"efk:s:3 c\"}\n",
                  &st);
    assert_true(json_is_false(json_object_get(j, "errors")));
    json_decref(j);

    uint64_t n;
    assert_int_equal(efk_es_count(es, "l", NULL, &n, &err), 0);
    assert_int_equal(n, 3);
    json_t *q = json_loads("{\"match\":{\"m\":\"b\"}}", 0, NULL);
    assert_int_equal(efk_es_count(es, "l*", q, &n, &err), 0);
    assert_int_equal(n, 0); /* line 2 was rejected */
    json_decref(q);
    assert_int_equal(efk_es_count(es, "nope", NULL, &n, &err), -ENOENT);
    json_t *sb = json_loads("{\"query\":{\"match\":{\"m\":\"c\"}},\"size\":1}", 0, NULL);
    json_t *res = efk_es_search(es, "l", sb, &err);
    assert_non_null(res);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(res, "hits"), "total"), "value")),
                     2);
    assert_int_equal(json_array_size(json_object_get(json_object_get(res, "hits"), "hits")), 1);
    json_decref(res);
    json_decref(sb);

    efk_es_delivery d;
    uint64_t ranges[4][2];
    efk_es_delivery_get(es, "s", &d, ranges, 4);
    assert_true(d.known);
    assert_int_equal(d.expected, 5);
    assert_int_equal(d.delivered, 2);
    assert_int_equal(d.duplicated, 1);
    assert_int_equal(d.lost, 3);
    assert_int_equal(d.nlost_ranges, 2);
    assert_int_equal(ranges[0][0], 2);
    assert_int_equal(ranges[1][0], 4);
    assert_int_equal(ranges[1][1], 5);
    j = http_json("GET", es, "/_efksim/delivery?stream=s", NULL, &st);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(j, "streams"), "s"), "lost")),
                     3);
    json_decref(j);

    /* whole-request failures */
    assert_int_equal(efk_es_fail_requests(es, "no_master", NULL, 1, id, &err), 0);
    j = http_json("POST", es, "/_bulk", "{\"index\":{\"_index\":\"l\"}}\n{}\n", &st);
    assert_int_equal(st, 503);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "type")),
                        "cluster_block_exception");
    json_decref(j);
    assert_int_equal(efk_es_fail_requests(es, "bogus", NULL, 1, id, &err), -EINVAL);

    /* down: connections refused; up: served again on the same URL */
    char url[256];
    snprintf(url, sizeof(url), "%s/", efk_es_url(es));
    assert_int_equal(efk_es_down(es), 0);
    resp r;
    assert_int_equal(http("GET", url, NULL, NULL, &r), CURLE_COULDNT_CONNECT);
    free(r.body);
    assert_int_equal(efk_es_up(es, &err), 0);
    assert_int_equal(http("GET", url, NULL, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    free(r.body);

    json_t *stt = efk_es_state_render(es);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(stt, "indices"), "l"), "docs")),
                     3);
    assert_string_equal(json_string_value(json_object_get(stt, "version")), "7.17.25");
    json_decref(stt);

    efk_es_clear(es);
    assert_int_equal(efk_es_count(es, NULL, NULL, &n, &err), 0);
    assert_int_equal(n, 0);
    efk_es_stop(es);
}

static void test_store_limit_reads_still_work(void **state)
{
    (void)state;
    efk_es *es = start("{\"version\":\"7.17\",\"store_limit\":\"256k\"}", NULL);
    buf b;
    buf_init(&b, 0);
    char filler[1000];
    memset(filler, 'y', sizeof(filler) - 1);
    filler[sizeof(filler) - 1] = '\0';
    for (int i = 1; i <= 400; i++)
        assert_int_equal(buf_printf(&b,
                                    "{\"index\":{\"_index\":\"big\"}}\n{\"m\":\"efk:s:%d %s\"}\n",
                                    i, filler),
                         0);
    long st;
    json_t *j = http_json("POST", es, "/_bulk", b.data, &st);
    assert_int_equal(st, 200);
    assert_true(json_is_true(json_object_get(j, "errors")));
    json_t *last = json_object_get(json_array_get(json_object_get(j, "items"), 399), "index");
    assert_int_equal(json_integer_value(json_object_get(last, "status")), 429);
    assert_string_equal(json_string_value(json_object_get(json_object_get(last, "error"), "type")),
                        "cluster_block_exception");
    json_decref(j);
    j = http_json("GET", es, "/big/_count", NULL, &st);
    assert_int_equal(st, 200);
    uint64_t stored = (uint64_t)json_integer_value(json_object_get(j, "count"));
    assert_true(stored > 50 && stored < 400);
    json_decref(j);
    efk_es_delivery d;
    assert_int_equal(efk_es_set_expected(es, "s", 400), 0);
    efk_es_delivery_get(es, "s", &d, NULL, 0);
    assert_int_equal(d.delivered, stored);
    assert_int_equal(d.lost, 400 - stored);
    buf_cleanup(&b);
    efk_es_stop(es);
}

static void test_accounting_mode(void **state)
{
    (void)state;
    efk_es *es = start("{\"store\":\"accounting\"}", NULL);
    long st;
    json_t *j = http_json("POST", es, "/_bulk",
                          "{\"index\":{\"_index\":\"a\"}}\n{\"m\":\"efk:s:1 x\"}\n"
                          "{\"index\":{\"_index\":\"a\"}}\n{\"m\":\"efk:s:2 x\"}\n",
                          &st);
    assert_int_equal(st, 200);
    json_decref(j);
    j = http_json("GET", es, "/a/_count", NULL, &st);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 2);
    json_decref(j);
    j = http_json("GET", es, "/a/_search", NULL, &st);
    json_t *hits = json_object_get(j, "hits");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(hits, "total"), "value")),
                     2);
    assert_int_equal(json_array_size(json_object_get(hits, "hits")), 0);
    json_decref(j);
    efk_es_delivery d;
    efk_es_delivery_get(es, "s", &d, NULL, 0);
    assert_int_equal(d.delivered, 2);
    efk_es_stop(es);
}

/* Bulks, searches and index deletions at once: every answer stays whole
 * (the sanitizer build catches an answer written from freed store memory). */
typedef struct worker {
    efk_es *es;
    int kind; /* 0 bulk, 1 delete, 2 search */
    int ok, bad;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    char url[256];
    buf b;
    buf_init(&b, 0);
    for (int i = 1; i <= 200; i++)
        if (buf_printf(&b,
                       "{\"index\":{\"_index\":\"race\",\"_type\":\"events\"}}\n"
                       "{\"m\":\"efk:race:%d x\"}\n",
                       i))
            return NULL;
    for (int n = 0; n < 25; n++) {
        resp r;
        int rc;
        if (w->kind == 0) {
            snprintf(url, sizeof(url), "%s/_bulk", efk_es_url(w->es));
            rc = http("POST", url, "application/x-ndjson", b.data, &r);
        } else if (w->kind == 1) {
            snprintf(url, sizeof(url), "%s/race", efk_es_url(w->es));
            rc = http("DELETE", url, NULL, NULL, &r);
        } else {
            snprintf(url, sizeof(url), "%s/race/_search?size=3&sort=m.keyword:desc",
                     efk_es_url(w->es));
            rc = http("GET", url, NULL, NULL, &r);
        }
        json_t *j = rc == 0 ? json_loads(r.body, 0, NULL) : NULL;
        bool good = j && (r.status == 200 || (w->kind != 0 && r.status == 404));
        if (good && w->kind == 0)
            good = json_array_size(json_object_get(j, "items")) == 200;
        if (good)
            w->ok++;
        else
            w->bad++;
        json_decref(j);
        free(r.body);
    }
    buf_cleanup(&b);
    return NULL;
}

static void test_concurrent_bulk_and_delete(void **state)
{
    (void)state;
    efk_es *es = start("{\"version\":\"7.17\"}", NULL);
    worker w[5];
    pthread_t t[5];
    for (int i = 0; i < 5; i++) {
        w[i] = (worker){.es = es, .kind = i < 3 ? 0 : i - 2};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 5; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].bad, 0);
        assert_int_equal(w[i].ok, 25);
    }
    efk_es_stop(es);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_api_faults_and_queries),
        cmocka_unit_test(test_store_limit_reads_still_work),
        cmocka_unit_test(test_accounting_mode),
        cmocka_unit_test(test_concurrent_bulk_and_delete),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
