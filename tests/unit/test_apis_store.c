/*
 * The object store and watch hub without sockets: resourceVersion, uid,
 * creationTimestamp, generation, deep copies, 409/404/422/400 answers with
 * the store unchanged, list paging, and watches: state replay, history
 * replay, 410 Expired in-stream, selector transitions, bookmarks, timeouts,
 * drop faults, a slow watcher cut off without stalling writers, many
 * watchers.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apiserver/apis_status.h"
#include "apiserver/apis_store.h"

#define T0_WALL INT64_C(1700000000000000000) /* 2023-11-14T22:13:20Z */

typedef struct fx {
    efk_clock *clock;
    apis_store *s;
} fx;

static int setup_with(void **state, size_t history, size_t queue)
{
    fx *f = calloc(1, sizeof(*f));
    f->clock = clock_test_new(1000 * EFK_NS_PER_S, T0_WALL);
    apis_store_config c = {.clock = f->clock,
                           .seed = 7,
                           .history_cap = history,
                           .watch_queue_cap = queue,
                           .default_namespaces = true};
    f->s = apis_store_new(&c);
    assert_non_null(f->s);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, 0, 0);
}

static int setup_small(void **state)
{
    return setup_with(state, 4, 3);
}

static int teardown(void **state)
{
    fx *f = *state;
    apis_store_free(f->s);
    clock_test_free(f->clock);
    free(f);
    return 0;
}

static const apis_res *R(const char *n)
{
    return apis_res_by_plural(n);
}

static json_t *J(const char *s)
{
    json_t *j = json_loads(s, 0, NULL);
    assert_non_null(j);
    return j;
}

static int create(fx *f, const char *res, const char *ns, const char *obj, json_t **out,
                  json_t **st)
{
    json_t *o = J(obj);
    int rc = apis_store_create(f->s, R(res), ns, o, APIS_ORIGIN_API, out, st);
    json_decref(o);
    return rc;
}

static const char *md(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(json_object_get(o, "metadata"), k));
}

static void test_create_assigns(void **state)
{
    fx *f = *state;
    uint64_t rv0 = apis_store_rv(f->s);
    assert_int_equal(rv0, 4); /* the four default namespaces */
    json_t *out = NULL, *st = NULL;
    assert_int_equal(create(f, "pods", "default",
                            "{\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"}},"
                            "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]},"
                            "\"status\":{\"phase\":\"Running\"}}",
                            &out, &st),
                     0);
    assert_string_equal(json_string_value(json_object_get(out, "kind")), "Pod");
    assert_string_equal(json_string_value(json_object_get(out, "apiVersion")), "v1");
    assert_string_equal(md(out, "namespace"), "default");
    assert_string_equal(md(out, "resourceVersion"), "5");
    assert_string_equal(md(out, "creationTimestamp"), "2023-11-14T22:13:20Z");
    char uid[64];
    snprintf(uid, sizeof(uid), "%s", md(out, "uid"));
    assert_int_equal(strlen(uid), 36);
    assert_int_equal(uid[14], '4');
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(out, "metadata"), "generation")), 1);
    /* the registry resets a pod's status on create and fills defaults */
    json_t *status = json_object_get(out, "status");
    assert_string_equal(json_string_value(json_object_get(status, "phase")), "Pending");
    json_t *c0 = json_array_get(json_object_get(json_object_get(out, "spec"), "containers"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "imagePullPolicy")), "Always");
    /* field order: kind, apiVersion, metadata, spec, status */
    char *s = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_true(strncmp(s,
                        "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"web\","
                        "\"namespace\":\"default\",\"uid\":",
                        60) == 0);
    assert_true(strstr(s, "\"spec\"") < strstr(s, "\"status\""));
    free(s);
    /* deep copies: changing what we got changes nothing inside */
    json_object_set_new(json_object_get(out, "metadata"), "name", json_string("evil"));
    json_t *got = NULL;
    assert_int_equal(apis_store_get(f->s, R("pods"), "default", "web", &got, &st), 0);
    assert_string_equal(md(got, "name"), "web");
    json_decref(got);
    json_decref(out);
    /* another create: the one counter moves on; uids differ */
    assert_int_equal(
        create(f, "configmaps", "default", "{\"metadata\":{\"name\":\"a\"}}", &out, &st), 0);
    assert_string_equal(md(out, "resourceVersion"), "6");
    assert_string_not_equal(md(out, "uid"), uid);
    json_decref(out);
    assert_int_equal(apis_store_rv(f->s), 6);
}

static void expect_status(int rc, json_t **stp, int code, const char *reason, const char *msg)
{
    json_t *st = *stp;
    *stp = NULL;
    assert_int_equal(rc, code);
    assert_non_null(st);
    assert_int_equal(apis_status_code(st), code);
    assert_string_equal(json_string_value(json_object_get(st, "reason")), reason);
    if (msg)
        assert_string_equal(apis_status_message(st), msg);
    json_decref(st);
}

static void test_errors_leave_store_unchanged(void **state)
{
    fx *f = *state;
    json_t *st = NULL, *out = NULL;
    assert_int_equal(create(f, "pods", "default", "{\"metadata\":{\"name\":\"web\"}}", NULL, &st),
                     0);
    uint64_t rv = apis_store_rv(f->s);
    expect_status(create(f, "pods", "default", "{\"metadata\":{\"name\":\"web\"}}", NULL, &st), &st,
                  409, "AlreadyExists", "pods \"web\" already exists");
    expect_status(create(f, "pods", "nope", "{\"metadata\":{\"name\":\"x\"}}", NULL, &st), &st, 404,
                  "NotFound", "namespaces \"nope\" not found");
    expect_status(create(f, "pods", "default", "{\"metadata\":{\"name\":\"Bad_Name\"}}", NULL, &st),
                  &st, 422, "Invalid", NULL);
    expect_status(create(f, "pods", "default", "{\"metadata\":{}}", NULL, &st), &st, 422, "Invalid",
                  "Pod \"\" is invalid: metadata.name: Required value: name or generateName is "
                  "required");
    expect_status(create(f, "services", "default", "{\"metadata\":{\"name\":\"1svc\"}}", NULL, &st),
                  &st, 422, "Invalid", NULL);
    expect_status(
        create(f, "pods", "default",
               "{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\"}}", NULL,
               &st),
        &st, 400, "BadRequest", NULL);
    expect_status(create(f, "pods", "default",
                         "{\"apiVersion\":\"apps/v1\",\"metadata\":{\"name\":\"x\"}}", NULL, &st),
                  &st, 400, "BadRequest",
                  "the API version in the data (apps/v1) does not match the expected API version "
                  "(v1)");
    expect_status(create(f, "pods", "default",
                         "{\"metadata\":{\"name\":\"x\",\"namespace\":\"kube-system\"}}", NULL,
                         &st),
                  &st, 400, "BadRequest",
                  "the namespace of the provided object does not match the namespace sent on the "
                  "request");
    expect_status(create(f, "pods", "default",
                         "{\"metadata\":{\"name\":\"x\",\"labels\":{\"-bad\":\"v\"}}}", NULL, &st),
                  &st, 422, "Invalid", NULL);
    expect_status(create(f, "pods", "default", "{\"metadata\":{\"name\":7}}", NULL, &st), &st, 400,
                  "BadRequest", NULL);
    /* update: 404, name mismatch 400, stale resourceVersion 409 */
    json_t *o = J("{\"metadata\":{\"name\":\"ghost\"}}");
    expect_status(apis_store_update(f->s, R("pods"), "default", "ghost", o, APIS_ORIGIN_API, false,
                                    NULL, &st),
                  &st, 404, "NotFound", "pods \"ghost\" not found");
    expect_status(
        apis_store_update(f->s, R("pods"), "default", "web", o, APIS_ORIGIN_API, false, NULL, &st),
        &st, 400, "BadRequest",
        "the name of the object (ghost) does not match the name on the URL (web)");
    json_decref(o);
    o = J("{\"metadata\":{\"name\":\"web\",\"resourceVersion\":\"1\"}}");
    expect_status(
        apis_store_update(f->s, R("pods"), "default", "web", o, APIS_ORIGIN_API, false, NULL, &st),
        &st, 409, "Conflict",
        "Operation cannot be fulfilled on pods \"web\": the object has been modified; "
        "please apply your changes to the latest version and try again");
    json_decref(o);
    expect_status(apis_store_delete(f->s, R("pods"), "default", "ghost", NULL, NULL, &out, &st),
                  &st, 404, "NotFound", NULL);
    expect_status(
        apis_store_delete(f->s, R("pods"), "default", "web", "wrong-uid", NULL, &out, &st), &st,
        409, "Conflict", NULL);
    assert_int_equal(apis_store_rv(f->s), rv);
    assert_int_equal(apis_store_count(f->s, R("pods")), 1);
}

static void test_update_generation_and_noop(void **state)
{
    fx *f = *state;
    json_t *out = NULL, *st = NULL;
    assert_int_equal(create(f, "configmaps", "default",
                            "{\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"1\"}}", &out, &st),
                     0);
    char rv[24];
    snprintf(rv, sizeof(rv), "%s", md(out, "resourceVersion"));
    json_decref(out);
    /* a metadata-only change keeps generation 1 */
    json_t *o =
        J("{\"metadata\":{\"name\":\"c\",\"labels\":{\"x\":\"y\"}},\"data\":{\"a\":\"1\"}}");
    assert_int_equal(apis_store_update(f->s, R("configmaps"), "default", "c", o, APIS_ORIGIN_API,
                                       false, &out, &st),
                     0);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(out, "metadata"), "generation")), 1);
    assert_string_not_equal(md(out, "resourceVersion"), rv);
    json_decref(out);
    json_decref(o);
    /* a data change bumps generation */
    o = J("{\"metadata\":{\"name\":\"c\",\"labels\":{\"x\":\"y\"}},\"data\":{\"a\":\"2\"}}");
    assert_int_equal(apis_store_update(f->s, R("configmaps"), "default", "c", o, APIS_ORIGIN_API,
                                       false, &out, &st),
                     0);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(out, "metadata"), "generation")), 2);
    uint64_t before = apis_store_rv(f->s);
    json_decref(out);
    /* the same again is a no-op: no new resourceVersion */
    assert_int_equal(apis_store_update(f->s, R("configmaps"), "default", "c", o, APIS_ORIGIN_API,
                                       false, &out, &st),
                     0);
    assert_int_equal(apis_store_rv(f->s), before);
    json_decref(out);
    json_decref(o);
    /* patch with a stale resourceVersion precondition: 409 */
    json_t *p = J("{\"metadata\":{\"resourceVersion\":\"2\"},\"data\":{\"b\":\"3\"}}");
    expect_status(apis_store_patch(f->s, R("configmaps"), "default", "c", APIS_PATCH_MERGE, p,
                                   false, &out, &st),
                  &st, 409, "Conflict", NULL);
    json_decref(p);
    p = J("{\"data\":{\"b\":\"3\"}}");
    assert_int_equal(apis_store_patch(f->s, R("configmaps"), "default", "c", APIS_PATCH_STRATEGIC,
                                      p, false, &out, &st),
                     0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "data"), "b")), "3");
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "data"), "a")), "2");
    json_decref(out);
    json_decref(p);
}

static void test_pod_status_rules(void **state)
{
    fx *f = *state;
    json_t *out = NULL, *st = NULL;
    assert_int_equal(create(f, "pods", "default", "{\"metadata\":{\"name\":\"p\"}}", &out, &st), 0);
    json_decref(out);
    /* PUT on the main resource keeps status; /status takes only status */
    json_t *o = J("{\"metadata\":{\"name\":\"p\",\"labels\":{\"a\":\"b\"}},\"status\":{\"phase\":"
                  "\"Running\"}}");
    assert_int_equal(
        apis_store_update(f->s, R("pods"), "default", "p", o, APIS_ORIGIN_API, false, &out, &st),
        0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "status"), "phase")),
                        "Pending");
    json_decref(out);
    assert_int_equal(
        apis_store_update(f->s, R("pods"), "default", "p", o, APIS_ORIGIN_API, true, &out, &st), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "status"), "phase")),
                        "Running");
    json_decref(out);
    json_decref(o);
    /* seed writes keep status as given */
    o = J("{\"metadata\":{\"name\":\"s\"},\"status\":{\"phase\":\"Running\",\"podIP\":\"10.1.1.1\"}"
          "}");
    assert_int_equal(apis_store_create(f->s, R("pods"), "default", o, APIS_ORIGIN_SEED, &out, &st),
                     0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "status"), "podIP")),
                        "10.1.1.1");
    json_decref(out);
    json_decref(o);
    /* seeding into a missing namespace creates it */
    o = J("{\"metadata\":{\"name\":\"x\"}}");
    assert_int_equal(apis_store_create(f->s, R("pods"), "newns", o, APIS_ORIGIN_SEED, NULL, &st),
                     0);
    json_decref(o);
    assert_int_equal(apis_store_get(f->s, R("namespaces"), NULL, "newns", &out, &st), 0);
    json_decref(out);
}

static void test_list_paging(void **state)
{
    fx *f = *state;
    json_t *st = NULL;
    for (int i = 0; i < 7; i++) {
        char obj[128];
        snprintf(obj, sizeof(obj), "{\"metadata\":{\"name\":\"cm-%d\",\"labels\":{\"i\":\"%d\"}}}",
                 i, i % 2);
        assert_int_equal(create(f, "configmaps", "default", obj, NULL, &st), 0);
    }
    assert_int_equal(
        create(f, "configmaps", "kube-system", "{\"metadata\":{\"name\":\"other\"}}", NULL, &st),
        0);
    apis_list_opts o = {.ns = "default", .limit = 3};
    apis_list l;
    assert_int_equal(apis_store_list(f->s, R("configmaps"), &o, &l, &st), 0);
    assert_int_equal(l.n, 3);
    assert_non_null(l.cont);
    assert_int_equal(l.remaining, 4);
    uint64_t rv = l.rv;
    char names[8][32];
    size_t seen = 0;
    while (1) {
        for (size_t i = 0; i < l.n; i++) {
            json_t *obj = json_loads(apis_blob_data(l.items[i], NULL), 0, NULL);
            snprintf(names[seen++], 32, "%s", md(obj, "name"));
            json_decref(obj);
        }
        if (!l.cont)
            break;
        char *cont = strdup(l.cont);
        apis_list_cleanup(&l);
        o.cont = cont;
        assert_int_equal(apis_store_list(f->s, R("configmaps"), &o, &l, &st), 0);
        assert_int_equal(l.rv, rv); /* the list's version stays the first page's */
        free(cont);
    }
    apis_list_cleanup(&l);
    assert_int_equal(seen, 7);
    for (size_t i = 0; i < 7; i++) {
        char want[32];
        snprintf(want, sizeof(want), "cm-%zu", i);
        assert_string_equal(names[i], want);
    }
    /* rendering a list */
    apis_list_opts all = {.ns = NULL};
    assert_int_equal(apis_store_list(f->s, R("configmaps"), &all, &l, &st), 0);
    assert_int_equal(l.n, 8);
    buf b;
    buf_init(&b, 0);
    assert_int_equal(apis_list_render(R("configmaps"), &l, &b), 0);
    char want[96];
    snprintf(want, sizeof(want),
             "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"metadata\":{"
             "\"resourceVersion\":\"%" PRIu64 "\"},\"items\":[{",
             apis_store_rv(f->s));
    assert_true(strncmp(b.data, want, strlen(want)) == 0);
    buf_cleanup(&b);
    apis_list_cleanup(&l);
    /* selectors on lists */
    apis_selector ls;
    char err[128];
    assert_int_equal(apis_label_selector_parse("i=1", &ls, err, sizeof(err)), 0);
    apis_list_opts sel = {.ns = "default", .labels = &ls};
    assert_int_equal(apis_store_list(f->s, R("configmaps"), &sel, &l, &st), 0);
    assert_int_equal(l.n, 3);
    apis_list_cleanup(&l);
    apis_selector_cleanup(&ls);
    /* bad continue tokens and versions */
    apis_list_opts bad = {.cont = "!!notbase64"};
    expect_status(apis_store_list(f->s, R("configmaps"), &bad, &l, &st), &st, 400, "BadRequest",
                  NULL);
    apis_list_opts bad2 = {.cont = "eyJ2IjoieCJ9"}; /* {"v":"x"} */
    expect_status(apis_store_list(f->s, R("configmaps"), &bad2, &l, &st), &st, 400, "BadRequest",
                  NULL);
    apis_list_opts ahead = {.rv = "99999"};
    expect_status(apis_store_list(f->s, R("configmaps"), &ahead, &l, &st), &st, 504, "Timeout",
                  NULL);
    apis_list_opts junk = {.rv = "abc"};
    expect_status(apis_store_list(f->s, R("configmaps"), &junk, &l, &st), &st, 400, "BadRequest",
                  "invalid resource version: strconv.ParseUint: parsing \"abc\": invalid syntax");
}

/* Drain a watch's ready lines into one string (new). */
static char *drain(apis_watch *w, int *result)
{
    buf b;
    buf_init(&b, 0);
    int rc = APIS_WATCH_MORE;
    for (int i = 0; i < 4 && rc == APIS_WATCH_MORE; i++) {
        size_t before = b.len;
        rc = apis_watch_poll(w, &b, 0, NULL, NULL);
        if (b.len == before && rc == APIS_WATCH_MORE)
            break;
    }
    if (result)
        *result = rc;
    return buf_take(&b, NULL);
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void test_watch_state_and_changes(void **state)
{
    fx *f = *state;
    json_t *st = NULL;
    assert_int_equal(create(f, "pods", "default", "{\"metadata\":{\"name\":\"a\"}}", NULL, &st), 0);
    apis_watch_opts o = {.r = R("pods"), .ns = "default"};
    apis_watch *w = NULL;
    assert_int_equal(apis_watch_start(f->s, &o, &w, &st), 0);
    assert_int_equal(apis_store_watchers(f->s), 1);
    char *out = drain(w, NULL);
    assert_int_equal(count(out, "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\""), 1);
    assert_int_equal(out[strlen(out) - 1], '\n');
    free(out);
    assert_int_equal(create(f, "pods", "default", "{\"metadata\":{\"name\":\"b\"}}", NULL, &st), 0);
    assert_int_equal(create(f, "pods", "kube-system", "{\"metadata\":{\"name\":\"c\"}}", NULL, &st),
                     0);
    json_t *gone = NULL;
    assert_int_equal(apis_store_delete(f->s, R("pods"), "default", "a", NULL, NULL, &gone, &st), 0);
    json_decref(gone);
    out = drain(w, NULL);
    assert_int_equal(count(out, "\n"), 2); /* kube-system is not watched */
    assert_non_null(strstr(out, "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":"
                                "\"v1\",\"metadata\":{\"name\":\"b\""));
    assert_non_null(strstr(out, "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":"
                                "\"v1\",\"metadata\":{\"name\":\"a\""));
    free(out);
    apis_watch_stop(w);
    assert_int_equal(apis_store_watchers(f->s), 0);
}

static void test_watch_history_and_expired(void **state)
{
    fx *f = *state; /* history of 4 events per resource */
    json_t *st = NULL;
    for (int i = 0; i < 6; i++) {
        char obj[64];
        snprintf(obj, sizeof(obj), "{\"metadata\":{\"name\":\"p%d\"}}", i);
        assert_int_equal(create(f, "pods", "default", obj, NULL, &st), 0);
    }
    /* rvs 5..10 (4 namespaces first); history holds 7..10: oldest-1 is 6 */
    apis_watch_opts o = {.r = R("pods"), .rv = "8"};
    apis_watch *w = NULL;
    assert_int_equal(apis_watch_start(f->s, &o, &w, &st), 0);
    int rc;
    char *out = drain(w, &rc);
    assert_int_equal(count(out, "\"type\":\"ADDED\""), 2); /* rv 9 and 10 */
    assert_non_null(strstr(out, "\"name\":\"p4\""));
    assert_null(strstr(out, "\"name\":\"p3\""));
    free(out);
    apis_watch_stop(w);
    o.rv = "6";
    assert_int_equal(apis_watch_start(f->s, &o, &w, &st), 0);
    out = drain(w, &rc);
    assert_int_equal(count(out, "\n"), 4);
    free(out);
    apis_watch_stop(w);
    /* older than the window: one ERROR event with a 410 Status, then the end */
    o.rv = "5";
    assert_int_equal(apis_watch_start(f->s, &o, &w, &st), 0);
    out = drain(w, &rc);
    assert_int_equal(rc, APIS_WATCH_END);
    assert_string_equal(out, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":"
                             "\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old "
                             "resource version: 5 (6)\",\"reason\":\"Expired\",\"code\":410}}\n");
    free(out);
    apis_watch_stop(w);
    /* ahead of the store: 504 */
    o.rv = "1000";
    expect_status(apis_watch_start(f->s, &o, &w, &st), &st, 504, "Timeout", NULL);
    /* the fault: 410 on this watch whatever the version */
    o.rv = "10";
    o.force_expired = true;
    assert_int_equal(apis_watch_start(f->s, &o, &w, &st), 0);
    out = drain(w, &rc);
    assert_non_null(strstr(out, "\"reason\":\"Expired\",\"code\":410"));
    free(out);
    apis_watch_stop(w);
}

static void test_watch_selector_transitions(void **state)
{
    fx *f = *state;
    json_t *st = NULL, *out = NULL;
    assert_int_equal(create(f, "pods", "default",
                            "{\"metadata\":{\"name\":\"a\",\"labels\":{\"app\":\"x\"}}}", NULL,
                            &st),
                     0);
    apis_selector ls;
    char err[64];
    assert_int_equal(apis_label_selector_parse("app=x", &ls, err, sizeof(err)), 0);
    char rv[24];
    snprintf(rv, sizeof(rv), "%" PRIu64, apis_store_rv(f->s));
    apis_watch_opts o = {.r = R("pods"), .labels = &ls, .rv = rv};
    apis_watch *w = NULL;
    assert_int_equal(apis_watch_start(f->s, &o, &w, &st), 0);
    apis_selector_cleanup(&ls); /* the watch took a copy */
    json_t *p = J("{\"metadata\":{\"labels\":{\"app\":\"y\"}}}");
    assert_int_equal(
        apis_store_patch(f->s, R("pods"), "default", "a", APIS_PATCH_MERGE, p, false, &out, &st),
        0);
    char want_rv[64];
    snprintf(want_rv, sizeof(want_rv), "\"resourceVersion\":\"%s\"", md(out, "resourceVersion"));
    json_decref(out);
    json_decref(p);
    char *s = drain(w, NULL);
    /* stopped matching: DELETED with the old labels and the new version */
    assert_non_null(strstr(s, "{\"type\":\"DELETED\""));
    assert_non_null(strstr(s, "\"app\":\"x\""));
    assert_non_null(strstr(s, want_rv));
    free(s);
    p = J("{\"metadata\":{\"labels\":{\"app\":\"x\"}}}");
    assert_int_equal(
        apis_store_patch(f->s, R("pods"), "default", "a", APIS_PATCH_MERGE, p, false, NULL, &st),
        0);
    json_decref(p);
    s = drain(w, NULL);
    assert_non_null(strstr(s, "{\"type\":\"ADDED\"")); /* matches again */
    free(s);
    apis_watch_stop(w);
}

static void test_watch_timeout_bookmark_drop(void **state)
{
    fx *f = *state;
    json_t *st = NULL;
    int64_t now = clock_mono_ns(f->clock);
    apis_watch_opts o = {.r = R("pods"),
                         .rv = "4",
                         .bookmarks = true,
                         .bookmark_interval_ns = 10 * EFK_NS_PER_S,
                         .deadline_mono_ns = now + 30 * EFK_NS_PER_S};
    apis_watch *w = NULL;
    assert_int_equal(apis_watch_start(f->s, &o, &w, &st), 0);
    int rc;
    char *s = drain(w, &rc);
    assert_string_equal(s, "");
    assert_int_equal(rc, APIS_WATCH_MORE);
    free(s);
    clock_test_advance(f->clock, 11 * EFK_NS_PER_S);
    s = drain(w, &rc);
    assert_string_equal(s, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":"
                           "\"v1\",\"metadata\":{\"resourceVersion\":\"4\",\"creationTimestamp\":"
                           "null},\"spec\":{\"containers\":null},\"status\":{}}}\n");
    free(s);
    clock_test_advance(f->clock, 20 * EFK_NS_PER_S);
    s = drain(w, &rc);
    assert_int_equal(rc, APIS_WATCH_END); /* timeoutSeconds reached */
    free(s);
    apis_watch_stop(w);
    /* drop after 2 events, with a reset */
    apis_watch_opts d = {.r = R("namespaces"), .drop_after = 2, .drop_abort = true};
    assert_int_equal(apis_watch_start(f->s, &d, &w, &st), 0);
    s = drain(w, &rc);
    assert_int_equal(rc, APIS_WATCH_ABORT);
    assert_int_equal(count(s, "\n"), 2);
    assert_int_equal(apis_watch_sent(w), 2);
    free(s);
    apis_watch_stop(w);
}

static void test_slow_watcher_cut_off(void **state)
{
    fx *f = *state; /* queue of 3 per watcher */
    json_t *st = NULL;
    apis_watch_opts o = {.r = R("configmaps"), .rv = "4"};
    apis_watch *slow = NULL, *fast = NULL;
    assert_int_equal(apis_watch_start(f->s, &o, &slow, &st), 0);
    assert_int_equal(apis_watch_start(f->s, &o, &fast, &st), 0);
    int rc;
    for (int i = 0; i < 6; i++) {
        char obj[64];
        snprintf(obj, sizeof(obj), "{\"metadata\":{\"name\":\"c%d\"}}", i);
        /* writers never wait for readers */
        assert_int_equal(create(f, "configmaps", "default", obj, NULL, &st), 0);
        char *s = drain(fast, &rc);
        assert_int_equal(count(s, "\n"), 1);
        free(s);
    }
    assert_int_equal(apis_store_watch_overflows(f->s), 1);
    assert_int_equal(apis_store_watchers(f->s), 1);
    /* the slow one delivers what it had queued, then ends */
    char *s = drain(slow, &rc);
    assert_int_equal(count(s, "\n"), 3);
    assert_int_equal(rc, APIS_WATCH_END);
    free(s);
    apis_watch_stop(slow);
    apis_watch_stop(fast);
}

static void test_many_watchers(void **state)
{
    fx *f = *state;
    json_t *st = NULL;
    apis_watch *w[200];
    apis_watch_opts o = {.r = R("endpoints"), .rv = "4"};
    for (int i = 0; i < 200; i++)
        assert_int_equal(apis_watch_start(f->s, &o, &w[i], &st), 0);
    assert_int_equal(apis_store_watchers(f->s), 200);
    assert_int_equal(create(f, "endpoints", "default",
                            "{\"metadata\":{\"name\":\"es\"},\"subsets\":[{\"addresses\":[{\"ip\":"
                            "\"10.0.0.1\"}]}]}",
                            NULL, &st),
                     0);
    for (int i = 0; i < 200; i++) {
        char *s = drain(w[i], NULL);
        assert_int_equal(count(s, "{\"type\":\"ADDED\""), 1);
        assert_non_null(strstr(s, "\"ip\":\"10.0.0.1\""));
        free(s);
        apis_watch_stop(w[i]);
    }
    assert_int_equal(apis_store_watchers(f->s), 0);
}

static void test_namespace_delete_cascades(void **state)
{
    fx *f = *state;
    json_t *st = NULL, *out = NULL;
    assert_int_equal(
        create(f, "namespaces", NULL, "{\"metadata\":{\"name\":\"logging\"}}", &out, &st), 0);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(out, "metadata"), "labels"),
                            "kubernetes.io/metadata.name")),
                        "logging");
    json_decref(out);
    assert_int_equal(create(f, "pods", "logging", "{\"metadata\":{\"name\":\"a\"}}", NULL, &st), 0);
    assert_int_equal(create(f, "secrets", "logging", "{\"metadata\":{\"name\":\"s\"}}", NULL, &st),
                     0);
    assert_int_equal(
        apis_store_delete(f->s, R("namespaces"), NULL, "logging", NULL, NULL, &out, &st), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "status"), "phase")),
                        "Terminating");
    json_decref(out);
    assert_int_equal(apis_store_count(f->s, R("pods")), 0);
    assert_int_equal(apis_store_count(f->s, R("secrets")), 0);
    /* others return a success Status */
    assert_int_equal(
        create(f, "configmaps", "default", "{\"metadata\":{\"name\":\"c\"}}", NULL, &st), 0);
    assert_int_equal(
        apis_store_delete(f->s, R("configmaps"), "default", "c", NULL, NULL, &out, &st), 0);
    assert_string_equal(json_string_value(json_object_get(out, "status")), "Success");
    json_decref(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_assigns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_leave_store_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_generation_and_noop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pod_status_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_state_and_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_history_and_expired, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_watch_selector_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_timeout_bookmark_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_watcher_cut_off, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_many_watchers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespace_delete_cascades, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
