/* Fault chain without sockets: parsing errors with pointers, each matcher,
 * call numbers (nth, every, from..to), time windows on a test clock, seeded
 * probability, expiry, order, removal, domain actions. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "core/fault.h"

static const char *hdr_lookup(void *arg, const char *name)
{
    const char **h = arg; /* name, value, name, value, NULL */
    for (; h && *h; h += 2)
        if (strcasecmp(h[0], name) == 0)
            return h[1];
    return NULL;
}

static fault_req rq(const char *method, const char *path, const char *query, const char *body,
                    const char **hdrs)
{
    fault_req r = {method, path, query, body, body ? strlen(body) : 0, hdr_lookup, (void *)hdrs};
    return r;
}

static void add(fault_chain *c, const char *js)
{
    json_t *spec = json_loads(js, 0, NULL);
    assert_non_null(spec);
    efk_err err;
    efk_err_init(&err);
    int rc = fault_add_json(c, spec, false, NULL, &err);
    if (rc)
        fail_msg("%s: %s %s", js, err.pointer, err.msg);
    json_decref(spec);
}

/* Apply a request; return the id of the rule hit or "" */
static const char *hit_id(fault_chain *c, fault_req r, char *out)
{
    fault_hit h;
    fault_eval(c, &r, &h);
    snprintf(out, FAULT_ID_MAX, "%s", h.rule ? h.rule->id : "");
    fault_hit_cleanup(&h);
    return out;
}

static void expect_error(fault_chain *c, const char *js, const char *pointer, const char *msg_part)
{
    json_t *spec = json_loads(js, 0, NULL);
    assert_non_null(spec);
    efk_err err;
    efk_err_init(&err);
    assert_int_equal(fault_check_json(c, spec, &err), -EINVAL);
    assert_string_equal(err.pointer, pointer);
    if (!strstr(err.msg, msg_part))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg_part);
    json_decref(spec);
}

static int check_items(const json_t *p, efk_err *err)
{
    json_t *s = json_object_get(p, "status");
    if (!json_is_integer(s)) {
        efk_err_at(err, "/status");
        return efk_err_set(err, -EINVAL, "expected an item status");
    }
    return 0;
}

static void test_parse_errors(void **state)
{
    fault_chain *c = fault_chain_new(NULL, 1, NULL);
    assert_int_equal(fault_domain_add(c, "es.items", check_items), 0);
    assert_int_equal(fault_domain_add(c, "es.items", check_items), -EEXIST);
    expect_error(c, "[]", "", "expected a fault rule object");
    expect_error(c, "{\"bogus\":1}", "/bogus", "allowed keys: id, match, action");
    expect_error(c, "{\"match\":{\"verb\":\"GET\"}}", "/match/verb", "allowed keys: method");
    expect_error(c, "{\"match\":{\"nth\":0}}", "/match/nth", "positive integer");
    expect_error(c, "{\"match\":{\"from\":5,\"to\":2}}", "/match/to", "not less than");
    expect_error(c, "{\"match\":{\"probability\":1.5}}", "/match/probability", "from 0 to 1");
    expect_error(c, "{\"match\":{\"after\":\"5 parsecs\"}}", "/match/after", "duration");
    expect_error(c, "{\"action\":\"explode\"}", "/action", "allowed actions: pass, respond");
    expect_error(c, "{\"action\":\"explode\"}", "/action", "es.items");
    expect_error(c, "{\"action\":\"respond\"}", "/status", "needs a \"status\"");
    expect_error(c, "{\"status\":99}", "/status", "100 to 599");
    expect_error(c, "{\"status\":200,\"headers\":{\"X\":1}}", "/headers/X", "string header");
    expect_error(c, "{\"delay\":{\"min\":\"2s\",\"max\":\"1s\"}}", "/delay/max", "not less");
    expect_error(c, "{\"times\":0}", "/times", "positive");
    expect_error(c, "{\"action\":\"es.items\",\"params\":{}}", "/params/status", "item status");
    expect_error(c, "{\"action\":\"close\",\"params\":{}}", "/params", "only for a fake");
    expect_error(c, "{\"action\":\"dribble\",\"bytes\":0}", "/bytes", "at least 1");
    fault_chain_free(c);
}

static void test_static_matchers(void **state)
{
    fault_chain *c = fault_chain_new(NULL, 1, NULL);
    char id[FAULT_ID_MAX];
    add(c, "{\"id\":\"m\",\"match\":{\"method\":\"PUT\"},\"status\":500}");
    add(c, "{\"id\":\"p\",\"match\":{\"path\":\"*/_bulk\"},\"status\":500}");
    add(c, "{\"id\":\"q\",\"match\":{\"query\":\"*watch=true*\"},\"status\":500}");
    add(c, "{\"id\":\"h\",\"match\":{\"header\":{\"name\":\"user-agent\",\"value\":\"kubectl/*\"}},"
           "\"status\":500}");
    add(c, "{\"id\":\"hp\",\"match\":{\"header\":\"X-Trace\"},\"status\":500}");
    add(c, "{\"id\":\"b\",\"match\":{\"body\":\"efk:s9:\"},\"status\":500}");
    const char *ua[] = {"User-Agent", "kubectl/v1.33.0", NULL};
    const char *other[] = {"User-Agent", "curl/7.88", NULL};
    const char *trace[] = {"x-trace", "1", NULL};
    assert_string_equal(hit_id(c, rq("PUT", "/", "", NULL, NULL), id), "m");
    assert_string_equal(hit_id(c, rq("POST", "/logs/_bulk", "", NULL, NULL), id), "p");
    assert_string_equal(hit_id(c, rq("POST", "/_bulk", "", NULL, NULL), id), "p");
    assert_string_equal(hit_id(c, rq("GET", "/api/v1/pods", "a=1&watch=true", NULL, NULL), id),
                        "q");
    assert_string_equal(hit_id(c, rq("GET", "/api", "", NULL, ua), id), "h");
    assert_string_equal(hit_id(c, rq("GET", "/api", "", NULL, other), id), "");
    assert_string_equal(hit_id(c, rq("GET", "/api", "", NULL, trace), id), "hp");
    assert_string_equal(hit_id(c, rq("POST", "/x", "", "{\"log\":\"efk:s9:4 a\"}", NULL), id), "b");
    assert_string_equal(hit_id(c, rq("POST", "/x", "", "{\"log\":\"efk:s1:4 a\"}", NULL), id), "");
    assert_string_equal(hit_id(c, rq("GET", "/", "", NULL, NULL), id), "");
    fault_chain_free(c);
}

static void test_call_numbers(void **state)
{
    fault_chain *c = fault_chain_new(NULL, 1, NULL);
    char id[FAULT_ID_MAX];
    add(c, "{\"id\":\"third\",\"match\":{\"path\":\"/a\",\"nth\":3},\"status\":503}");
    add(c, "{\"id\":\"even\",\"match\":{\"path\":\"/b\",\"every\":2},\"status\":503}");
    add(c, "{\"id\":\"range\",\"match\":{\"path\":\"/c\",\"from\":2,\"to\":3},\"status\":503}");
    const char *want_a[] = {"", "", "third", "", ""};
    for (int i = 0; i < 5; i++) {
        /* requests to other paths do not count for /a's rule */
        hit_id(c, rq("GET", "/zzz", "", NULL, NULL), id);
        assert_string_equal(hit_id(c, rq("GET", "/a", "", NULL, NULL), id), want_a[i]);
    }
    const char *want_b[] = {"", "even", "", "even"};
    for (int i = 0; i < 4; i++)
        assert_string_equal(hit_id(c, rq("GET", "/b", "", NULL, NULL), id), want_b[i]);
    const char *want_c[] = {"", "range", "range", ""};
    for (int i = 0; i < 4; i++)
        assert_string_equal(hit_id(c, rq("GET", "/c", "", NULL, NULL), id), want_c[i]);
    /* the call number is reported */
    fault_hit h;
    fault_req r = rq("GET", "/b", "", NULL, NULL);
    hit_id(c, r, id);
    fault_eval(c, &r, &h);
    assert_non_null(h.rule);
    assert_int_equal(h.call_no, 6);
    fault_hit_cleanup(&h);
    fault_chain_free(c);
}

static void test_time_window(void **state)
{
    efk_clock *clk = clock_test_new(1000 * EFK_NS_PER_S, 0);
    fault_chain *c = fault_chain_new(clk, 1, NULL);
    char id[FAULT_ID_MAX];
    add(c, "{\"id\":\"w\",\"match\":{\"after\":\"2s\",\"before\":\"5s\"},\"status\":503}");
    assert_string_equal(hit_id(c, rq("GET", "/", "", NULL, NULL), id), "");
    clock_test_advance(clk, 2 * EFK_NS_PER_S);
    assert_string_equal(hit_id(c, rq("GET", "/", "", NULL, NULL), id), "w");
    clock_test_advance(clk, 2999 * EFK_NS_PER_MS);
    assert_string_equal(hit_id(c, rq("GET", "/", "", NULL, NULL), id), "w");
    clock_test_advance(clk, EFK_NS_PER_MS);
    assert_string_equal(hit_id(c, rq("GET", "/", "", NULL, NULL), id), "");
    /* a new epoch restarts the window */
    fault_chain_set_epoch(c, clock_mono_ns(clk) - 3 * EFK_NS_PER_S);
    assert_string_equal(hit_id(c, rq("GET", "/", "", NULL, NULL), id), "w");
    fault_chain_free(c);
    clock_test_free(clk);
}

static int pattern_of(uint64_t seed, char *out, int n)
{
    fault_chain *c = fault_chain_new(NULL, seed, "es");
    char id[FAULT_ID_MAX];
    add(c, "{\"id\":\"p\",\"match\":{\"probability\":0.3},\"status\":429}");
    int hits = 0;
    for (int i = 0; i < n; i++) {
        out[i] = hit_id(c, rq("POST", "/_bulk", "", NULL, NULL), id)[0] ? 'x' : '.';
        hits += out[i] == 'x';
    }
    out[n] = '\0';
    fault_chain_free(c);
    return hits;
}

static void test_probability_seeded(void **state)
{
    char a[1001], b[1001], d[1001];
    int ha = pattern_of(7, a, 1000);
    pattern_of(7, b, 1000);
    pattern_of(8, d, 1000);
    assert_string_equal(a, b);              /* same seed, same schedule */
    assert_string_not_equal(a, d);          /* another seed, another one */
    assert_in_range(ha, 230, 370);          /* about 30% */
}

static void test_expiry_order_removal(void **state)
{
    fault_chain *c = fault_chain_new(NULL, 1, NULL);
    char id[FAULT_ID_MAX];
    add(c, "{\"id\":\"twice\",\"status\":500,\"times\":2}");
    add(c, "{\"id\":\"always\",\"status\":502}");
    assert_string_equal(hit_id(c, rq("GET", "/", "", NULL, NULL), id), "twice");
    assert_int_equal(fault_uses(c, "twice"), 1);
    assert_string_equal(hit_id(c, rq("GET", "/", "", NULL, NULL), id), "twice");
    assert_int_equal(fault_uses(c, "twice"), -ENOENT); /* expired: gone */
    assert_string_equal(hit_id(c, rq("GET", "/", "", NULL, NULL), id), "always");
    /* first=true goes in front */
    json_t *spec = json_loads("{\"id\":\"front\",\"status\":418}", 0, NULL);
    char newid[FAULT_ID_MAX];
    assert_int_equal(fault_add_json(c, spec, true, newid, NULL), 0);
    assert_string_equal(newid, "front");
    assert_int_equal(fault_add_json(c, spec, false, NULL, NULL), -EEXIST);
    json_decref(spec);
    assert_string_equal(hit_id(c, rq("GET", "/", "", NULL, NULL), id), "front");
    /* a request holding a rule survives its removal */
    fault_hit h;
    fault_req r = rq("GET", "/", "", NULL, NULL);
    fault_eval(c, &r, &h);
    assert_int_equal(fault_del(c, "front"), 0);
    assert_int_equal(fault_del(c, "front"), -ENOENT);
    assert_string_equal(h.rule->id, "front");
    assert_int_equal(h.rule->status, 418);
    fault_hit_cleanup(&h);
    json_t *list = fault_list_render(c);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")), "always");
    json_decref(list);
    fault_clear(c);
    assert_string_equal(hit_id(c, rq("GET", "/", "", NULL, NULL), id), "");
    /* generated ids */
    spec = json_loads("{\"status\":500}", 0, NULL);
    assert_int_equal(fault_add_json(c, spec, false, newid, NULL), 0);
    assert_string_equal(newid, "rule-1");
    json_decref(spec);
    fault_chain_free(c);
}

static void test_actions_parsed(void **state)
{
    fault_chain *c = fault_chain_new(NULL, 3, NULL);
    assert_int_equal(fault_domain_add(c, "es.items", check_items), 0);
    fault_hit h;
    fault_req r = rq("GET", "/", "", NULL, NULL);
    struct {
        const char *spec;
        fault_action action;
        const char *name;
    } cases[] = {
        {"{\"delay\":\"5s\"}", FAULT_PASS, "pass"},
        {"{\"status\":429,\"body\":\"x\"}", FAULT_RESPOND, "respond"},
        {"{\"action\":\"close\"}", FAULT_CLOSE, "close"},
        {"{\"action\":\"reset\"}", FAULT_RESET, "reset"},
        {"{\"action\":\"partial\",\"bytes\":10}", FAULT_PARTIAL, "partial"},
        {"{\"action\":\"dribble\",\"bytes\":4,\"interval\":\"10ms\"}", FAULT_DRIBBLE, "dribble"},
        {"{\"action\":\"es.items\",\"params\":{\"status\":429}}", FAULT_DOMAIN, "es.items"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fault_clear(c);
        json_t *spec = json_loads(cases[i].spec, 0, NULL);
        assert_int_equal(fault_add_json(c, spec, false, NULL, NULL), 0);
        json_decref(spec);
        fault_eval(c, &r, &h);
        assert_non_null(h.rule);
        assert_int_equal(h.rule->action, cases[i].action);
        assert_string_equal(fault_action_name(h.rule), cases[i].name);
        fault_hit_cleanup(&h);
    }
    /* the details */
    fault_clear(c);
    json_t *spec = json_loads("{\"status\":429,\"headers\":{\"Retry-After\":\"3\"},"
                              "\"body\":{\"a\":[1,2]},\"delay\":{\"min\":\"1s\",\"max\":\"2s\"}}",
                              0, NULL);
    assert_int_equal(fault_add_json(c, spec, false, NULL, NULL), 0);
    json_decref(spec);
    fault_eval(c, &r, &h);
    assert_int_equal(h.rule->status, 429);
    assert_string_equal(h.rule->header_names[0], "Retry-After");
    assert_string_equal(h.rule->resp_body, "{\"a\":[1,2]}");
    assert_in_range(h.delay_ns, EFK_NS_PER_S, 2 * EFK_NS_PER_S);
    fault_hit_cleanup(&h);
    fault_clear(c);
    spec = json_loads("{\"action\":\"dribble\"}", 0, NULL);
    assert_int_equal(fault_add_json(c, spec, false, NULL, NULL), 0);
    json_decref(spec);
    fault_eval(c, &r, &h);
    assert_int_equal(h.rule->bytes, 1); /* defaults: 1 byte every 100 ms */
    assert_int_equal(h.rule->interval_ns, 100 * EFK_NS_PER_MS);
    fault_hit_cleanup(&h);
    fault_chain_free(c);
}

static void test_glob(void **state)
{
    assert_true(fault_glob("*/_bulk", "/a/b/_bulk"));
    assert_true(fault_glob("/api/v1/namespaces/*/endpoints*", "/api/v1/namespaces/ks/endpoints/es"));
    assert_false(fault_glob("/api/v1/pods", "/api/v1/pods/x"));
    assert_true(fault_glob("[ab]?", "bz"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),      cmocka_unit_test(test_static_matchers),
        cmocka_unit_test(test_call_numbers),      cmocka_unit_test(test_time_window),
        cmocka_unit_test(test_probability_seeded), cmocka_unit_test(test_expiry_order_removal),
        cmocka_unit_test(test_actions_parsed),    cmocka_unit_test(test_glob),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
