/* The public API: the fakes.rbd section (errors with their JSON pointers),
 * seeding, typed actions and queries, and the HTTP surface over libcurl. */
#include <curl/curl.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "efksim.h"
#include "runner/run_schema.h"

static json_t *J(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        fail_msg("bad test JSON: %s", je.text);
    return j;
}

static void parse_fails(const char *text, const char *pointer, const char *msg_part)
{
    efk_rbd_config cfg;
    efk_rbd_config_init(&cfg);
    efk_err err;
    efk_err_init(&err);
    json_t *j = J(text);
    int r = efk_rbd_config_parse(&cfg, j, ".", &err);
    json_decref(j);
    efk_rbd_config_cleanup(&cfg);
    if (r != -EINVAL || strcmp(err.pointer, pointer) != 0 || !strstr(err.msg, msg_part))
        fail_msg("%s: got %d at \"%s\": %s", text, r, err.pointer, err.msg);
}

static void test_config_errors(void **state)
{
    (void)state;
    parse_fails("{\"relase\": \"jewel\"}", "/relase", "allowed: release, watch_timeout");
    parse_fails("{\"release\": \"hammer\"}", "/release", "jewel, luminous");
    parse_fails("{\"watch_timeout\": 30}", "/watch_timeout", "duration");
    parse_fails("{\"auth\": \"kerberos\"}", "/auth", "\"none\" or \"cephx\"");
    parse_fails("{\"pools\": [{\"name\": \"p\", \"images\": [{\"name\": \"i\"}]}]}",
                "/pools/0/images/0", "missing \"size\"");
    parse_fails(
        "{\"pools\": [{\"name\": \"p\", \"images\": [{\"name\": \"i\", \"size\": \"big\"}]}]}",
        "/pools/0/images/0/size", "size like");
    parse_fails("{\"pools\": [{\"name\": \"p\", \"images\": [{\"name\": \"i\", \"size\": 1, "
                "\"features\": [\"teleport\"]}]}]}",
                "/pools/0/images/0/features/0", "unknown feature");
    parse_fails("{\"clients\": [{\"name\": \"c\", \"node\": \"node-1\"}]}", "/clients/0/node",
                "IP address");
    parse_fails("{\"locks\": [{\"image\": \"p/i\", \"id\": \"x\", \"locker\": \"client.4 \", "
                "\"address\": \"10.0.0.1:0/1\"}]}",
                "/locks/0/locker", "entity name");
    parse_fails("{\"locks\": [{\"image\": \"p/i\", \"id\": \"x\", \"client\": \"ghost\"}]}",
                "/locks/0/client", "no client named \"ghost\"");
    parse_fails("{\"locks\": [{\"image\": \"i\", \"id\": \"x\", \"node\": \"10.0.0.1\"}]}",
                "/locks/0/image", "pool/image");
    parse_fails("{\"blocklist\": [{\"addr\": \"10.0.0.1:80/5\", \"range\": true}]}",
                "/blocklist/0/addr", "CIDR");
    parse_fails("{\"release\": \"pacific\", \"blocklist\": [{\"addr\": \"10.0.0.0/8\", "
                "\"range\": true}]}",
                "/blocklist/0/range", "reef");
    parse_fails("{\"faults\": [{\"action\": \"rbd_fail\", \"params\": {\"errno\": 0}}]}",
                "/faults/0/params/errno", "1..4095");
}

static efk_rbd *start(const char *section, efk_clock *clock, efk_err *err)
{
    efk_rbd_config cfg;
    efk_rbd_config_init(&cfg);
    json_t *j = J(section);
    int r = efk_rbd_config_parse(&cfg, j, ".", err);
    json_decref(j);
    assert_int_equal(r, 0);
    efk_runtime rt;
    memset(&rt, 0, sizeof(rt));
    rt.clock = clock;
    rt.seed = 3;
    efk_rbd *rbd = NULL;
    r = efk_rbd_start(&cfg, &rt, &rbd, err);
    efk_rbd_config_cleanup(&cfg);
    if (r)
        fail_msg("start: %s at %s", err->msg, err->pointer);
    return rbd;
}

static const char *SEED =
    "{\"release\": \"reef\", \"watch_timeout\": \"10s\", \"next_client_id\": 500,"
    " \"users\": [{\"name\": \"client.k8s\", \"blocklist\": false}],"
    " \"pools\": [{\"name\": \"mioss\", \"namespaces\": [\"ns1\"], \"images\": ["
    "   {\"name\": \"index-api-image\", \"size\": \"2G\", \"format\": 1},"
    "   {\"name\": \"db\", \"size\": 1048576, \"namespace\": \"ns1\"}]}],"
    " \"clients\": [{\"name\": \"n1\", \"node\": \"10.47.136.60\", \"nonce\": 1864102866},"
    "               {\"name\": \"gone\", \"node\": \"10.0.0.9\", \"state\": \"dead\"}],"
    " \"locks\": [{\"image\": \"mioss/index-api-image\", \"id\": \"kubelet_lock_magic_node1\","
    "              \"client\": \"n1\"},"
    "            {\"image\": \"mioss/ns1/db\", \"id\": \"old\", \"locker\": \"client.24128\","
    "             \"address\": \"10.1.1.1:0/7\"}],"
    " \"watchers\": [{\"image\": \"mioss/index-api-image\", \"client\": \"gone\"}],"
    " \"mappings\": [{\"image\": \"mioss/index-api-image\", \"node\": \"10.0.0.5\"}],"
    " \"blocklist\": [{\"addr\": \"10.9.0.0/16\", \"range\": true, \"expire\": \"1m\"}]}";

static void test_seed_and_queries(void **state)
{
    (void)state;
    efk_clock *clock = clock_test_new(INT64_C(1000000000), INT64_C(1488443206500123000));
    efk_err err;
    efk_err_init(&err);
    efk_rbd *rbd = start(SEED, clock, &err);
    assert_string_equal(efk_rbd_release(rbd), "reef");
    assert_int_equal(strncmp(efk_rbd_mon(rbd), "127.0.0.1:", 10), 0);
    int r;
    json_t *l = efk_rbd_locks(rbd, "mioss/index-api-image", &r);
    json_t *lk = json_array_get(json_object_get(l, "lockers"), 0);
    assert_string_equal(json_string_value(json_object_get(lk, "locker")), "client.500");
    assert_string_equal(json_string_value(json_object_get(lk, "address")),
                        "10.47.136.60:0/1864102866");
    json_decref(l);
    l = efk_rbd_locks(rbd, "mioss/ns1/db", &r);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(l, "lockers"), 0), "locker")),
                        "client.24128");
    json_decref(l);
    /* the dead client's watch and the mapping's; 10 s later only the mapping's */
    json_t *w = efk_rbd_watchers(rbd, "mioss/index-api-image", &r);
    assert_int_equal(json_array_size(w), 2);
    json_decref(w);
    clock_test_advance(clock, INT64_C(10000000000));
    w = efk_rbd_watchers(rbd, "mioss/index-api-image", &r);
    assert_int_equal(json_array_size(w), 1);
    json_decref(w);
    assert_true(efk_rbd_is_blocklisted(rbd, "10.9.200.1:0/3"));
    clock_test_advance(clock, INT64_C(60000000000));
    assert_false(efk_rbd_is_blocklisted(rbd, "10.9.200.1:0/3"));
    /* typed actions */
    efk_rbd_lock lock = {.image = "mioss/index-api-image", .cookie = "other", .node = "10.0.0.7"};
    assert_int_equal(efk_rbd_lock_add(rbd, &lock, &err), -EBUSY);
    assert_int_equal(efk_rbd_lock_remove(rbd, "mioss/index-api-image", "kubelet_lock_magic_node1",
                                         "client.500", &err),
                     0);
    assert_int_equal(efk_rbd_lock_add(rbd, &lock, &err), 0);
    assert_int_equal(efk_rbd_lock_add(rbd, &(efk_rbd_lock){.image = "nopool", .cookie = "x"}, &err),
                     -EINVAL);
    assert_non_null(strstr(err.msg, "pool/image"));
    assert_int_equal(efk_rbd_blocklist_add(rbd, "10.0.0.7", false, -1, &err), 0);
    assert_true(efk_rbd_is_blocklisted(rbd, "10.0.0.7:0/1"));
    assert_int_equal(efk_rbd_blocklist_add(rbd, "bogus", false, -1, &err), -EINVAL);
    assert_int_equal(efk_rbd_blocklist_remove(rbd, "10.0.0.7", false, &err), 0);
    assert_int_equal(efk_rbd_blocklist_remove(rbd, "10.0.0.7", false, &err), -ENOENT);
    uint64_t id = 0;
    assert_int_equal(efk_rbd_client_add(rbd, "10.0.0.8", "krbd", 0, &id, &err), 0);
    uint64_t got = 0;
    assert_int_equal(efk_rbd_watcher_add(rbd, "mioss/ns1/db", id, NULL, 0, &got, &err), 0);
    assert_int_equal(got, id);
    assert_int_equal(efk_rbd_watcher_add(rbd, "mioss/ns1/db", 0, "10.0.0.44:0/4444", 0, &got, &err),
                     0);
    w = efk_rbd_watchers(rbd, "mioss/ns1/db", &r);
    assert_string_equal(json_string_value(json_object_get(json_array_get(w, 1), "address")),
                        "10.0.0.44:0/4444");
    json_decref(w);
    assert_int_equal(efk_rbd_client_dead(rbd, id), 0);
    assert_int_equal(efk_rbd_node_alive(rbd, "10.0.0.8"), 0);
    assert_int_equal(efk_rbd_caps_set(rbd, "client.x", false), 0);
    /* the audit log: find the lock removal, then the later lock add */
    json_t *pat = J("{\"op\": \"lock_break\", \"cookie\": \"kubelet_*\"}");
    uint64_t brk = efk_rbd_audit_find(rbd, 0, pat);
    json_decref(pat);
    pat = J("{\"op\": \"lock_add\", \"cookie\": \"other\", \"r\": 0}");
    uint64_t add = efk_rbd_audit_find(rbd, 0, pat);
    json_decref(pat);
    assert_true(brk > 0 && add > brk);
    pat = J("{\"op\": \"lock_break\", \"cookie\": \"nothing\"}");
    assert_int_equal(efk_rbd_audit_find(rbd, 0, pat), 0);
    json_decref(pat);
    json_t *st = efk_rbd_state_render(rbd);
    assert_string_equal(json_string_value(json_object_get(st, "release")), "reef");
    assert_int_equal(json_array_size(json_object_get(st, "mappings")), 1);
    json_decref(st);
    efk_rbd_stop(rbd);
    clock_test_free(clock);
}

typedef struct http_answer {
    long status;
    buf body;
} http_answer;

static size_t on_data(char *p, size_t sz, size_t n, void *arg)
{
    return buf_append(arg, p, sz * n) == 0 ? sz * n : 0;
}

static void http(const char *method, const char *url, const char *body, http_answer *a)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    buf_init(&a->body, 0);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a->body);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static void test_http_surface(void **state)
{
    (void)state;
    efk_err err;
    efk_err_init(&err);
    efk_rbd *rbd = start("{\"pools\": [{\"name\": \"rbd\"}]}", clock_system(), &err);
    char url[256];
    http_answer a;
    snprintf(url, sizeof(url), "%s/rbd/v1/op/image_create", efk_rbd_url(rbd));
    http("POST", url, "{\"pool\": \"rbd\", \"image\": \"img\", \"size\": 1048576}", &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(a.body.data, "{\"r\":0}");
    buf_cleanup(&a.body);
    http("POST", url, "{\"pool\": \"rbd\", \"image\": \"img\", \"size\": 1048576}", &a);
    assert_string_equal(a.body.data, "{\"r\":-17}");
    buf_cleanup(&a.body);
    http("POST", url, "{\"pool\": \"rbd\", \"image\": \"img2\"}", &a);
    assert_int_equal(a.status, 400);
    assert_non_null(strstr(a.body.data, "missing field 'size'"));
    buf_cleanup(&a.body);
    http("POST", url, "{nope", &a);
    assert_int_equal(a.status, 400);
    assert_non_null(strstr(a.body.data, "invalid JSON body"));
    buf_cleanup(&a.body);
    snprintf(url, sizeof(url), "%s/rbd/v1/op/teleport", efk_rbd_url(rbd));
    http("POST", url, "{}", &a);
    assert_int_equal(a.status, 404);
    buf_cleanup(&a.body);
    snprintf(url, sizeof(url), "%s/rbd/v1/state", efk_rbd_url(rbd));
    http("POST", url, "{}", &a);
    assert_int_equal(a.status, 405);
    buf_cleanup(&a.body);
    http("GET", url, NULL, &a);
    assert_int_equal(a.status, 200);
    assert_non_null(strstr(a.body.data, "\"name\":\"img\""));
    buf_cleanup(&a.body);
    snprintf(url, sizeof(url), "%s/rbd/v1/audit?since=1", efk_rbd_url(rbd));
    http("GET", url, NULL, &a);
    assert_int_equal(a.status, 200);
    json_t *j = json_loads(a.body.data, 0, NULL);
    json_t *e = json_object_get(j, "entries");
    assert_true(json_array_size(e) >= 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(e, 0), "seq")), 2);
    json_decref(j);
    buf_cleanup(&a.body);
    /* a domain fault through the HTTP layer */
    json_t *rule = J("{\"match\": {\"path\": \"/rbd/v1/op/image_get\"}, \"action\": \"rbd_errno\","
                     " \"params\": {\"errno\": 5}, \"times\": 1}");
    assert_int_equal(fault_add_json(efk_rbd_faults(rbd), rule, false, NULL, &err), 0);
    json_decref(rule);
    snprintf(url, sizeof(url), "%s/rbd/v1/op/image_get", efk_rbd_url(rbd));
    http("POST", url, "{\"pool\": \"rbd\", \"image\": \"img\"}", &a);
    assert_string_equal(a.body.data, "{\"r\":-5}");
    buf_cleanup(&a.body);
    http("POST", url, "{\"pool\": \"rbd\", \"image\": \"img\"}", &a);
    assert_non_null(strstr(a.body.data, "\"r\":0"));
    buf_cleanup(&a.body);
    /* the journal records an exchange when its answer is complete, which
     * may be just after the client has it: wait with a deadline */
    uint64_t added = 0, dropped = 0, last = 0;
    efk_clock *sys = clock_system();
    int64_t deadline = clock_mono_ns(sys) + INT64_C(10000000000);
    for (;;) {
        journal_stats(efk_rbd_journal(rbd), &added, &dropped, &last);
        if (added >= 10 || clock_mono_ns(sys) > deadline)
            break;
        sys->sleep_until(sys, clock_mono_ns(sys) + INT64_C(1000000));
    }
    assert_int_equal(added, 10); /* every exchange above, rejects included */
    assert_int_equal(dropped, 0);
    efk_rbd_stop(rbd);
}

/* The section's JSON Schema fragment agrees with the parser: the documented
 * example and the golden seed validate, and so do not a few wrong ones. */
static void test_schema(void **state)
{
    (void)state;
    const char *root = getenv("EFKSIM_SOURCE_DIR");
    assert_non_null(root);
    char dir[1024], path[1024];
    snprintf(dir, sizeof(dir), "%s/scenarios", root);
    run_schema *sch = NULL;
    efk_err err;
    efk_err_init(&err);
    assert_int_equal(run_schema_load(dir, &sch, &err), 0);
    /* the example of docs/fakes/rbd.md */
    snprintf(path, sizeof(path), "%s/docs/fakes/rbd.md", root);
    char *md = NULL;
    size_t len = 0;
    assert_int_equal(fs_read_file(path, 0, &md, &len, &err), 0);
    char *start = strstr(md, "```json\n{\n  \"fakes\"");
    assert_non_null(start);
    start += 8;
    char *end = strstr(start, "```");
    *end = '\0';
    json_t *doc = J(start);
    free(md);
    if (run_schema_validate(sch, doc, &err) != 0)
        fail_msg("doc example: %s: %s", err.pointer, err.msg);
    efk_rbd_config cfg;
    efk_rbd_config_init(&cfg);
    assert_int_equal(efk_rbd_config_parse(
                         &cfg, json_object_get(json_object_get(doc, "fakes"), "rbd"), ".", &err),
                     0);
    efk_rbd_config_cleanup(&cfg);
    json_decref(doc);
    /* the golden seed */
    snprintf(path, sizeof(path), "%s/tests/clients/rbd/golden/seed.json", root);
    json_t *seed = json_load_file(path, 0, NULL);
    assert_non_null(seed);
    doc = json_pack("{s:{s:O}}", "fakes", "rbd", seed);
    if (run_schema_validate(sch, doc, &err) != 0)
        fail_msg("golden seed: %s: %s", err.pointer, err.msg);
    json_decref(doc);
    json_decref(seed);
    static const char *const bad[] = {
        "{\"fakes\": {\"rbd\": {\"release\": \"hammer\"}}}",
        "{\"fakes\": {\"rbd\": {\"relase\": \"jewel\"}}}",
        "{\"fakes\": {\"rbd\": {\"locks\": [{\"image\": \"p/i\", \"id\": \"x\"}]}}}",
        "{\"fakes\": {\"rbd\": {\"pools\": [{\"name\": \"p\", \"images\": [{\"name\": \"i\"}]}]}}}",
        "{\"fakes\": {\"rbd\": {\"watch_timeout\": \"soon\"}}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        doc = J(bad[i]);
        efk_err_init(&err);
        if (run_schema_validate(sch, doc, &err) == 0)
            fail_msg("schema accepted %s", bad[i]);
        json_decref(doc);
    }
    run_schema_free(sch);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_seed_and_queries),
        cmocka_unit_test(test_http_surface),
        cmocka_unit_test(test_schema),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return r;
}
