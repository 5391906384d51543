/*
 * The fake API server on the wire, with libcurl: discovery and health,
 * authentication (token, client certificate, anonymous, rejected, rotated;
 * 401 as JSON and as the 1.3 text), 403 wording, the bad-input answers
 * (400/404/405/413/415/422 with the store unchanged), Table output, paging,
 * watches (live events, the legacy path, timeoutSeconds, 410 in-stream,
 * sendInitialEvents refused) and the domain faults (watch_drop,
 * watch_expire, too_many_requests as JSON and text).
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "efksim.h"
#include "core/fsutil.h"
#include "testutil.h"

typedef struct fx {
    pki_ca *ca;
    pki_pair server;
    char *dir, *ca_path;
    efk_runtime rt;
    efk_apiserver *a;
    char token[128];
    char url[128], insecure[128];
} fx;

static fx *start(const char *section_json)
{
    fx *f = calloc(1, sizeof(*f));
    efk_err err;
    efk_err_init(&err);
    assert_int_equal(pki_ca_new("efksim test CA", &f->ca, &err), 0);
    assert_int_equal(pki_issue_server(f->ca, "apiserver", NULL, NULL, &f->server, &err), 0);
    f->dir = tu_tmpdir();
    f->ca_path = fs_join(f->dir, "ca.crt");
    assert_int_equal(tu_write(f->ca_path, pki_ca_cert_pem(f->ca)), 0);
    f->rt.clock = clock_system();
    f->rt.seed = 11;
    f->rt.workdir = f->dir;
    f->rt.ca = f->ca;
    f->rt.ca_pem = pki_ca_cert_pem(f->ca);
    f->rt.server_cert_pem = f->server.cert_pem;
    f->rt.server_key_pem = f->server.key_pem;
    efk_apiserver_config cfg;
    efk_apiserver_config_init(&cfg);
    json_t *sec = json_loads(section_json ? section_json : "{}", 0, NULL);
    assert_non_null(sec);
    if (efk_apiserver_config_parse(&cfg, sec, f->dir, &err))
        fail_msg("config: %s: %s", err.pointer, err.msg);
    json_decref(sec);
    if (efk_apiserver_start(&cfg, &f->rt, &f->a, &err))
        fail_msg("start: %s", err.msg);
    efk_apiserver_config_cleanup(&cfg);
    json_t *id0 = efk_apiserver_identity_at(f->a, 0);
    const char *tok = json_string_value(json_object_get(id0, "token"));
    snprintf(f->token, sizeof(f->token), "%s", tok ? tok : "");
    json_decref(id0);
    snprintf(f->url, sizeof(f->url), "%s", efk_apiserver_url(f->a));
    if (efk_apiserver_insecure_url(f->a))
        snprintf(f->insecure, sizeof(f->insecure), "%s", efk_apiserver_insecure_url(f->a));
    return f;
}

static void stop(fx *f)
{
    efk_apiserver_stop(f->a);
    pki_pair_cleanup(&f->server);
    pki_ca_free(f->ca);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->ca_path);
    free(f);
}

/* One request over https with the default identity's token (tok NULL), a
 * given token (""=none). Extra headers after. */
static void req(fx *f, const char *method, const char *path, const char *body, const char *tok,
                const char *h1, const char *h2, tu_resp *out)
{
    char url[1024], auth[256];
    snprintf(url, sizeof(url), "%s%s", f->url, path);
    tu_req r = {.method = method, .url = url, .body = body, .cacert = f->ca_path};
    size_t n = 0;
    if (!tok || *tok) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok ? tok : f->token);
        r.headers[n++] = auth;
    }
    if (h1)
        r.headers[n++] = h1;
    if (h2)
        r.headers[n++] = h2;
    tu_http(&r, out);
}

static json_t *body_json(const tu_resp *r)
{
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    if (!j)
        fail_msg("not JSON: %.*s", (int)r->body_len, r->body);
    return j;
}

static void expect_status(const tu_resp *r, long code, const char *reason, const char *message)
{
    if (r->status != code)
        fail_msg("status %ld, want %ld: %s", r->status, code, r->body);
    json_t *j = body_json(r);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "Status");
    assert_string_equal(json_string_value(json_object_get(j, "reason")), reason);
    assert_int_equal(json_integer_value(json_object_get(j, "code")), code);
    if (message)
        assert_string_equal(json_string_value(json_object_get(j, "message")), message);
    json_decref(j);
    char ct[128];
    assert_true(tu_header(r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/json");
}

static void test_discovery(void **state)
{
    (void)state;
    fx *f = start(NULL);
    tu_resp r;
    req(f, NULL, "/version", NULL, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    const char *vstart = "{\n  \"major\": \"1\",\n  \"minor\": \"33\",";
    assert_true(strncmp(r.body, vstart, strlen(vstart)) == 0);
    tu_resp_free(&r);
    req(f, NULL, "/api", NULL, "", NULL, NULL, &r);
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "APIVersions");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "versions"), 0)), "v1");
    json_decref(j);
    tu_resp_free(&r);
    req(f, NULL, "/api", NULL, NULL,
        "Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
        "application/json",
        NULL, &r);
    char ct[128];
    assert_true(tu_header(&r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    j = body_json(&r);
    json_t *res = json_object_get(
        json_array_get(json_object_get(json_array_get(json_object_get(j, "items"), 0), "versions"),
                       0),
        "resources");
    assert_int_equal(json_array_size(res), 11);
    json_decref(j);
    tu_resp_free(&r);
    /* kubectl 1.27 asks for v2beta1 only: a 1.33 server answers the legacy form */
    req(f, NULL, "/apis", NULL, NULL,
        "Accept: application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
        "application/json",
        NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[]}");
    tu_resp_free(&r);
    req(f, NULL, "/api/v1", NULL, NULL, NULL, NULL, &r);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "APIResourceList");
    json_t *pods = json_array_get(json_object_get(j, "resources"), 2);
    assert_string_equal(json_string_value(json_object_get(pods, "name")), "pods");
    assert_string_equal(json_string_value(json_array_get(json_object_get(pods, "shortNames"), 0)),
                        "po");
    json_decref(j);
    tu_resp_free(&r);
    const char *health[] = {"/healthz", "/livez", "/readyz"};
    for (int i = 0; i < 3; i++) {
        req(f, NULL, health[i], NULL, "", NULL, NULL, &r); /* anonymous may */
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "ok");
        tu_resp_free(&r);
    }
    req(f, NULL, "/openapi/v3", NULL, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"api/v1\":{\"serverRelativeURL\":\"/openapi/v3/api/v1?hash="));
    tu_resp_free(&r);
    req(f, NULL, "/nothing/here", NULL, NULL, NULL, NULL, &r);
    expect_status(&r, 404, "NotFound", "the server could not find the requested resource");
    tu_resp_free(&r);
    stop(f);
}

static void test_authn(void **state)
{
    (void)state;
    fx *f = start("{\"identities\":[{\"name\":\"admin\",\"groups\":[\"system:masters\"],"
                  "\"cert\":true},{\"name\":\"bot\",\"token\":\"bot-token\"}]}");
    tu_resp r;
    req(f, NULL, "/api/v1/namespaces", NULL, "wrong", NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(r.body, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                                "\"status\":\"Failure\",\"message\":\"Unauthorized\",\"reason\":"
                                "\"Unauthorized\",\"code\":401}");
    tu_resp_free(&r);
    req(f, NULL, "/api/v1/namespaces", NULL, "bot-token", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
    /* reject, then accept again */
    assert_int_equal(efk_apiserver_identity_reject(f->a, "bot", true), 0);
    req(f, NULL, "/api/v1/namespaces", NULL, "bot-token", NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    tu_resp_free(&r);
    assert_int_equal(efk_apiserver_identity_reject(f->a, "bot", false), 0);
    req(f, NULL, "/api/v1/namespaces", NULL, "bot-token", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
    assert_int_equal(efk_apiserver_identity_reject(f->a, "nobody", true), -ENOENT);
    /* rotate: the old token stops working, the new one works */
    char *nt = NULL;
    assert_int_equal(efk_apiserver_token_rotate(f->a, "bot", &nt), 0);
    assert_string_not_equal(nt, "bot-token");
    req(f, NULL, "/api/v1/namespaces", NULL, "bot-token", NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    tu_resp_free(&r);
    req(f, NULL, "/api/v1/namespaces", NULL, nt, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
    free(nt);
    /* anonymous: discovery yes, resources 403 */
    req(f, NULL, "/api/v1/namespaces/default/pods", NULL, "", NULL, NULL, &r);
    expect_status(&r, 403, "Forbidden",
                  "pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\" in "
                  "API group \"\" in the namespace \"default\"");
    tu_resp_free(&r);
    /* a client certificate: CN and O are the user */
    pki_pair cp;
    efk_err err;
    const char *orgs[] = {"system:masters"};
    assert_int_equal(pki_issue_client(f->ca, "admin", orgs, 1, &cp, &err), 0);
    char *cert = fs_join(f->dir, "c.crt"), *key = fs_join(f->dir, "c.key");
    assert_int_equal(tu_write(cert, cp.cert_pem), 0);
    assert_int_equal(tu_write(key, cp.key_pem), 0);
    char url[256];
    snprintf(url, sizeof(url), "%s/api/v1/nodes", f->url);
    tu_req cr = {.url = url, .cacert = f->ca_path, .cert = cert, .key = key};
    tu_http(&cr, &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
    assert_int_equal(efk_apiserver_identity_reject(f->a, "admin", true), 0);
    tu_http(&cr, &r);
    assert_int_equal(r.status, 401);
    tu_resp_free(&r);
    pki_pair_cleanup(&cp);
    free(cert);
    free(key);
    /* the insecure port trusts everyone */
    snprintf(url, sizeof(url), "%s/api/v1/namespaces", f->insecure);
    tu_req ir = {.url = url};
    tu_http(&ir, &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
    stop(f);
}

static void test_old_personas(void **state)
{
    (void)state;
    fx *f = start("{\"version\":\"1.3\",\"identities\":[{\"name\":\"es\",\"token\":\"t\","
                  "\"rules\":[{\"verbs\":[\"get\"],\"resources\":[\"services\"]}]}]}");
    tu_resp r;
    req(f, NULL, "/api", NULL, "bad", NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(r.body, "Unauthorized\n");
    char ct[128];
    assert_true(tu_header(&r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "text/plain; charset=utf-8");
    tu_resp_free(&r);
    req(f, NULL, "/api/v1/namespaces/kube-system", NULL, "t", NULL, NULL, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(r.body, "Forbidden: \"/api/v1/namespaces/kube-system\"");
    tu_resp_free(&r);
    req(f, NULL, "/version", NULL, "t", NULL, NULL, &r);
    assert_non_null(strstr(r.body, "\"gitVersion\": \"v1.3.7\""));
    tu_resp_free(&r);
    /* 1.3 had no anonymous requests: no credentials is 401, even for /api */
    req(f, NULL, "/api", NULL, "", NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(r.body, "Unauthorized\n");
    tu_resp_free(&r);
    stop(f);
    /* unless a scenario asks for them; and from 1.5 they are the default */
    f = start("{\"version\":\"1.3\",\"anonymous\":true}");
    req(f, NULL, "/api", NULL, "", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
    stop(f);
    f = start("{\"version\":\"1.5\"}");
    req(f, NULL, "/api", NULL, "", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
    stop(f);
    f = start("{\"version\":\"1.33\",\"anonymous\":false}");
    req(f, NULL, "/api", NULL, "", NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    tu_resp_free(&r);
    f = start("{\"version\":\"1.9\",\"identities\":[{\"name\":\"system:serviceaccount:kube-system:"
              "default\",\"token\":\"t\",\"rules\":[{\"verbs\":[\"get\"],\"resources\":["
              "\"services\"]}]}]}");
    req(f, NULL, "/api/v1/namespaces/kube-system", NULL, "t", NULL, NULL, &r);
    expect_status(&r, 403, "Forbidden",
                  "namespaces \"kube-system\" is forbidden: User "
                  "\"system:serviceaccount:kube-system:default\" cannot get namespaces in the "
                  "namespace \"kube-system\".");
    tu_resp_free(&r);
    stop(f);
}

static void test_bad_input(void **state)
{
    (void)state;
    fx *f = start("{\"limits\":{\"body\":4096}}");
    uint64_t rv = efk_apiserver_resource_version(f->a);
    tu_resp r;
    const char *ctj = "Content-Type: application/json";
    req(f, "POST", "/api/v1/namespaces/default/pods", "{bad", NULL, ctj, NULL, &r);
    expect_status(&r, 400, "BadRequest",
                  "the object provided is unrecognized (must be of type Pod): couldn't get "
                  "version/kind; json parse error: invalid character 'b' looking for beginning of "
                  "object key string ({bad)");
    tu_resp_free(&r);
    req(f, "POST", "/api/v1/namespaces/default/pods",
        "{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\"}}", NULL, ctj,
        NULL, &r);
    expect_status(&r, 400, "BadRequest", NULL);
    tu_resp_free(&r);
    req(f, "POST", "/api/v1/namespaces/default/pods", "{\"metadata\":{\"name\":\"Not_DNS\"}}", NULL,
        ctj, NULL, &r);
    expect_status(&r, 422, "Invalid", NULL);
    json_t *j = body_json(&r);
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(json_object_get(j, "details"), "causes"), 0), "field")),
        "metadata.name");
    json_decref(j);
    tu_resp_free(&r);
    char big[6000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "{\"metadata\":{\"name\":\"x\"},\"data\":{\"k\":\"", 38);
    req(f, "POST", "/api/v1/namespaces/default/configmaps", big, NULL, ctj, NULL, &r);
    expect_status(&r, 413, "RequestEntityTooLarge", "Request entity too large: limit is 4096");
    tu_resp_free(&r);
    req(f, NULL, "/api/v1/namespaces/default/widgets", NULL, NULL, NULL, NULL, &r);
    expect_status(&r, 404, "NotFound", "the server could not find the requested resource");
    tu_resp_free(&r);
    req(f, "PUT", "/api/v1/namespaces/default/pods", "{}", NULL, ctj, NULL, &r);
    expect_status(&r, 405, "MethodNotAllowed",
                  "the server does not allow this method on the requested resource");
    tu_resp_free(&r);
    req(f, "POST", "/api/v1/namespaces/default/pods/x", "{}", NULL, ctj, NULL, &r);
    expect_status(&r, 405, "MethodNotAllowed", NULL);
    tu_resp_free(&r);
    req(f, "POST", "/api/v1/namespaces/default/pods", "a: b", NULL, "Content-Type: text/plain",
        NULL, &r);
    expect_status(&r, 415, "UnsupportedMediaType", NULL);
    tu_resp_free(&r);
    req(f, "PATCH", "/api/v1/namespaces/default", "{}", NULL, "Content-Type: application/json",
        NULL, &r);
    expect_status(&r, 415, "UnsupportedMediaType",
                  "the body of the request was in an unknown format - accepted media types "
                  "include: application/json-patch+json, application/merge-patch+json, "
                  "application/strategic-merge-patch+json");
    tu_resp_free(&r);
    req(f, NULL, "/api/v1/pods?fieldSelector=spec.bogus%3Dx", NULL, NULL, NULL, NULL, &r);
    expect_status(&r, 400, "BadRequest", "field label not supported: spec.bogus");
    tu_resp_free(&r);
    req(f, NULL, "/api/v1/pods?labelSelector=a%20in", NULL, NULL, NULL, NULL, &r);
    expect_status(&r, 400, "BadRequest", NULL);
    tu_resp_free(&r);
    req(f, NULL, "/api/v1/namespaces/default/pods/ghost", NULL, NULL, NULL, NULL, &r);
    expect_status(&r, 404, "NotFound", "pods \"ghost\" not found");
    tu_resp_free(&r);
    req(f, NULL,
        "/api/v1/namespaces/default/pods?watch=true&sendInitialEvents=true&"
        "resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
        NULL, NULL, NULL, NULL, &r);
    expect_status(&r, 422, "Invalid",
                  "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: "
                  "sendInitialEvents is forbidden for watch unless the WatchList feature gate is "
                  "enabled");
    tu_resp_free(&r);
    req(f, NULL, "/api/v1/namespaces", NULL, NULL, "Accept: application/vnd.kubernetes.protobuf",
        NULL, &r);
    expect_status(&r, 406, "NotAcceptable", NULL);
    tu_resp_free(&r);
    req(f, "POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
        "{\"metadata\":{\"name\":\"c\",\"labls\":{}},\"dta\":{}}", NULL, ctj, NULL, &r);
    expect_status(&r, 400, "BadRequest",
                  "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding "
                  "error: unknown field \"metadata.labls\", unknown field \"dta\"");
    tu_resp_free(&r);
    req(f, "PATCH", "/api/v1/namespaces/default", "[{\"op\":\"test\",\"path\":\"/x\",\"value\":1}]",
        NULL, "Content-Type: application/json-patch+json", NULL, &r);
    expect_status(&r, 422, "Invalid",
                  "the server rejected our request due to an error in our request");
    tu_resp_free(&r);
    assert_int_equal(efk_apiserver_resource_version(f->a), rv);
    assert_int_equal(efk_apiserver_object_count(f->a, "pods", NULL, NULL), 0);
    assert_int_equal(efk_apiserver_object_count(f->a, "configmaps", NULL, NULL), 0);
    /* Warn (the default): created, with a Warning header per unknown field */
    req(f, "POST", "/api/v1/namespaces/default/configmaps",
        "{\"metadata\":{\"name\":\"c\"},\"dta\":{}}", NULL, ctj, NULL, &r);
    assert_int_equal(r.status, 201);
    char warn[256];
    assert_true(tu_header(&r, "Warning", warn, sizeof(warn)));
    assert_string_equal(warn, "299 - \"unknown field \\\"dta\\\"\"");
    tu_resp_free(&r);
    stop(f);
}

static void test_crud_table_paging(void **state)
{
    (void)state;
    fx *f = start(NULL);
    tu_resp r;
    const char *ctj = "Content-Type: application/json";
    req(f, "POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"logging\"}}", NULL, ctj, NULL,
        &r);
    assert_int_equal(r.status, 201);
    tu_resp_free(&r);
    for (int i = 0; i < 3; i++) {
        char body[256];
        snprintf(
            body, sizeof(body),
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
            "\"p%d\",\"labels\":{\"app\":\"web\"}},\"spec\":{\"nodeName\":\"n%d\",\"containers\":"
            "[{\"name\":\"c\",\"image\":\"nginx:1\"}]}}",
            i, i % 2);
        req(f, "POST", "/api/v1/namespaces/logging/pods", body, NULL, ctj, NULL, &r);
        assert_int_equal(r.status, 201);
        tu_resp_free(&r);
    }
    req(f, "POST", "/api/v1/namespaces/logging/pods", "{\"metadata\":{\"name\":\"p0\"}}", NULL, ctj,
        NULL, &r);
    expect_status(&r, 409, "AlreadyExists", "pods \"p0\" already exists");
    tu_resp_free(&r);
    req(f, NULL, "/api/v1/namespaces/logging/pods?limit=2", NULL, NULL, NULL, NULL, &r);
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "PodList");
    assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
    const char *cont =
        json_string_value(json_object_get(json_object_get(j, "metadata"), "continue"));
    assert_non_null(cont);
    char path[512];
    snprintf(path, sizeof(path), "/api/v1/namespaces/logging/pods?limit=2&continue=%s", cont);
    json_decref(j);
    tu_resp_free(&r);
    req(f, NULL, path, NULL, NULL, NULL, NULL, &r);
    j = body_json(&r);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
    assert_null(json_object_get(json_object_get(j, "metadata"), "continue"));
    json_decref(j);
    tu_resp_free(&r);
    req(f, NULL, "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1", NULL, NULL, NULL, NULL, &r);
    j = body_json(&r);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
    json_decref(j);
    tu_resp_free(&r);
    /* a Table as kubectl asks for it */
    req(f, NULL, "/api/v1/namespaces/logging/pods", NULL, NULL,
        "Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
        "g=meta.k8s.io,application/json",
        NULL, &r);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "Table");
    assert_string_equal(json_string_value(json_object_get(j, "apiVersion")), "meta.k8s.io/v1");
    json_t *cols = json_object_get(j, "columnDefinitions");
    const char *want[] = {"Name", "Ready", "Status", "Restarts", "Age", "IP", "Node"};
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(cols, i), "name")),
                            want[i]);
    json_t *row = json_array_get(json_object_get(j, "rows"), 1);
    json_t *cells = json_object_get(row, "cells");
    assert_string_equal(json_string_value(json_array_get(cells, 0)), "p1");
    assert_string_equal(json_string_value(json_array_get(cells, 1)), "0/1");
    assert_string_equal(json_string_value(json_array_get(cells, 2)), "Pending");
    assert_string_equal(json_string_value(json_array_get(cells, 3)), "0");
    assert_string_equal(json_string_value(json_array_get(cells, 6)), "n1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(row, "object"), "kind")),
                        "PartialObjectMetadata");
    json_decref(j);
    tu_resp_free(&r);
    /* merge patch, stale-version PUT, delete */
    req(f, "PATCH", "/api/v1/namespaces/logging/pods/p0",
        "{\"metadata\":{\"labels\":{\"x\":\"1\"}}}", NULL,
        "Content-Type: application/merge-patch+json", NULL, &r);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(j, "metadata"), "labels"), "x")),
                        "1");
    json_decref(j);
    tu_resp_free(&r);
    req(f, "PUT", "/api/v1/namespaces/logging/pods/p0",
        "{\"metadata\":{\"name\":\"p0\",\"resourceVersion\":\"5\"},\"spec\":{}}", NULL, ctj, NULL,
        &r);
    expect_status(&r, 409, "Conflict", NULL);
    tu_resp_free(&r);
    req(f, "PATCH", "/api/v1/namespaces/logging/status",
        "{\"status\":{\"phase\":\"Active\","
        "\"conditions\":[{\"type\":\"X\",\"status\":\"True\"}]}}",
        NULL, "Content-Type: application/merge-patch+json", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"conditions\":[{\"type\":\"X\""));
    tu_resp_free(&r);
    req(f, NULL, "/api/v1/namespaces/logging/pods/p1?watch=1", NULL, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200); /* a plain get */
    assert_true(strncmp(r.body, "{\"kind\":\"Pod\"", 13) == 0);
    tu_resp_free(&r);
    req(f, "DELETE", "/api/v1/namespaces/logging/pods/p0", NULL, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    tu_resp_free(&r);
    assert_int_equal(efk_apiserver_object_count(f->a, "pods", "logging", NULL), 2);
    assert_int_equal(efk_apiserver_object_count(f->a, "po", "logging", "app=web"), 2);
    stop(f);
}

typedef struct watcher {
    fx *f;
    const char *path;
    tu_resp r;
} watcher;

static void *watch_thread(void *arg)
{
    watcher *w = arg;
    req(w->f, NULL, w->path, NULL, NULL, NULL, NULL, &w->r);
    return NULL;
}

static bool one_watch(void *arg)
{
    return efk_apiserver_watch_count(arg) >= 1;
}

static void test_watch_live(void **state)
{
    (void)state;
    fx *f = start("{\"limits\":{\"history\":3}}");
    /* the legacy /watch/ path, ended by timeoutSeconds */
    watcher w = {f,
                 "/api/v1/watch/namespaces/default/configmaps?resourceVersion=4&"
                 "timeoutSeconds=1",
                 {0}};
    pthread_t t;
    pthread_create(&t, NULL, watch_thread, &w);
    assert_true(tu_wait(one_watch, f->a, 5000));
    efk_err err;
    json_t *cm =
        json_loads("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"agent\",\"namespace\":"
                   "\"default\"},\"data\":{\"a\":\"1\"}}",
                   0, NULL);
    assert_int_equal(efk_apiserver_object_apply(f->a, cm, &err), 0);
    json_object_set_new(json_object_get(cm, "data"), "a", json_string("2"));
    assert_int_equal(efk_apiserver_object_apply(f->a, cm, &err), 0);
    json_decref(cm);
    pthread_join(t, NULL);
    assert_int_equal(w.r.status, 200);
    char *nl = strchr(w.r.body, '\n');
    assert_non_null(nl);
    assert_true(strncmp(w.r.body, "{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\"", 44) ==
                0);
    assert_true(strncmp(nl + 1, "{\"type\":\"MODIFIED\",", 19) == 0);
    assert_non_null(strstr(nl + 1, "\"a\":\"2\""));
    tu_resp_free(&w.r);
    assert_int_equal(efk_apiserver_watch_count(f->a), 0);
    /* too old: a 200 stream with one ERROR event */
    for (int i = 0; i < 4; i++) {
        char b[128];
        snprintf(b, sizeof(b), "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c%d\"}}", i);
        cm = json_loads(b, 0, NULL);
        assert_int_equal(efk_apiserver_object_apply(f->a, cm, &err), 0);
        json_decref(cm);
    }
    tu_resp r;
    req(f, NULL, "/api/v1/configmaps?watch=1&resourceVersion=5", NULL, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\""));
    assert_non_null(strstr(r.body, "\"reason\":\"Expired\",\"code\":410}}\n"));
    tu_resp_free(&r);
    /* the domain faults */
    json_t *rule = json_loads("{\"id\":\"drop\",\"match\":{\"query\":\"*watch=1*\"},\"action\":"
                              "\"watch_drop\",\"params\":{\"after\":2},\"times\":1}",
                              0, NULL);
    assert_int_equal(fault_add_json(efk_apiserver_faults(f->a), rule, false, NULL, &err), 0);
    json_decref(rule);
    req(f, NULL, "/api/v1/configmaps?watch=1", NULL, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    size_t lines = 0;
    for (char *p = r.body; (p = strchr(p, '\n')); p++)
        lines++;
    assert_int_equal(lines, 2);
    tu_resp_free(&r);
    rule = json_loads("{\"match\":{\"path\":\"/api/v1/namespaces\"},\"action\":\"watch_expire\","
                      "\"times\":1}",
                      0, NULL);
    assert_int_equal(fault_add_json(efk_apiserver_faults(f->a), rule, false, NULL, &err), 0);
    json_decref(rule);
    req(f, NULL, "/api/v1/namespaces?watch=true&resourceVersion=0", NULL, NULL, NULL, NULL, &r);
    assert_non_null(strstr(r.body, "\"code\":410"));
    tu_resp_free(&r);
    rule = json_loads("{\"match\":{\"nth\":1},\"action\":\"too_many_requests\",\"params\":{"
                      "\"retry_after\":7}}",
                      0, NULL);
    assert_int_equal(fault_add_json(efk_apiserver_faults(f->a), rule, false, NULL, &err), 0);
    json_decref(rule);
    rule = json_loads("{\"match\":{\"nth\":1},\"action\":\"too_many_requests\",\"params\":{"
                      "\"form\":\"text\"}}",
                      0, NULL);
    assert_int_equal(fault_add_json(efk_apiserver_faults(f->a), rule, false, NULL, &err), 0);
    json_decref(rule);
    req(f, NULL, "/api/v1/pods", NULL, NULL, NULL, NULL, &r);
    expect_status(&r, 429, "TooManyRequests", "Too many requests: please try again later");
    char ra[32];
    assert_true(tu_header(&r, "Retry-After", ra, sizeof(ra)));
    assert_string_equal(ra, "7");
    tu_resp_free(&r);
    req(f, NULL, "/api/v1/pods", NULL, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 429);
    assert_string_equal(r.body, "Too many requests, please try again later.\n");
    assert_true(tu_header(&r, "Retry-After", ra, sizeof(ra)));
    assert_string_equal(ra, "1");
    tu_resp_free(&r);
    /* a bad domain rule is refused with a pointer */
    rule = json_loads("{\"action\":\"watch_drop\",\"params\":{\"after\":0}}", 0, NULL);
    efk_err_init(&err);
    assert_int_equal(fault_add_json(efk_apiserver_faults(f->a), rule, false, NULL, &err), -EINVAL);
    assert_string_equal(err.pointer, "/params/after");
    json_decref(rule);
    stop(f);
}

/* The three write modes of the C API: apply creates or replaces, create
 * refuses an existing object, replace refuses a missing one; each with the
 * real Status message and the store unchanged by a refusal. */
static void test_write_modes(void **state)
{
    (void)state;
    fx *f = start("{}");
    efk_err err;
    efk_err_init(&err);
    json_t *cm = json_loads("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\","
                            "\"namespace\":\"default\"},\"data\":{\"a\":\"1\"}}",
                            0, NULL);
    assert_int_equal(efk_apiserver_object_replace(f->a, cm, &err), -ENOENT);
    assert_string_equal(err.msg, "configmaps \"cfg\" not found");
    assert_null(efk_apiserver_object_get(f->a, "configmaps", "default", "cfg"));
    assert_int_equal(efk_apiserver_object_create(f->a, cm, &err), 0);
    uint64_t rv = efk_apiserver_resource_version(f->a);
    json_object_set_new(json_object_get(cm, "data"), "a", json_string("2"));
    efk_err_init(&err);
    assert_int_equal(efk_apiserver_object_create(f->a, cm, &err), -EEXIST);
    assert_string_equal(err.msg, "configmaps \"cfg\" already exists");
    assert_int_equal(efk_apiserver_resource_version(f->a), rv);
    json_t *got = efk_apiserver_object_get(f->a, "configmaps", "default", "cfg");
    assert_string_equal(json_string_value(json_object_get(json_object_get(got, "data"), "a")), "1");
    json_decref(got);
    assert_int_equal(efk_apiserver_object_replace(f->a, cm, &err), 0);
    got = efk_apiserver_object_get(f->a, "configmaps", "default", "cfg");
    assert_string_equal(json_string_value(json_object_get(json_object_get(got, "data"), "a")), "2");
    json_decref(got);
    json_object_set_new(json_object_get(cm, "data"), "a", json_string("3"));
    assert_int_equal(efk_apiserver_object_apply(f->a, cm, &err), 0);
    got = efk_apiserver_object_get(f->a, "configmaps", "default", "cfg");
    assert_string_equal(json_string_value(json_object_get(json_object_get(got, "data"), "a")), "3");
    json_decref(got);
    json_decref(cm);
    stop(f);
}

/* A client that opens a watch and never reads: its queue fills, it is cut
 * off, and writers are never held up (every write below returns while the
 * client's socket is full). */
static void test_slow_watcher_over_http(void **state)
{
    (void)state;
    fx *f = start("{\"limits\":{\"watch_queue\":16}}");
    int port = atoi(strrchr(f->insecure, ':') + 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    const char *rq = "GET /api/v1/namespaces/default/configmaps?watch=1&resourceVersion=4 "
                     "HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(write(fd, rq, strlen(rq)), (ssize_t)strlen(rq));
    assert_true(tu_wait(one_watch, f->a, 5000));
    char *big = malloc(16385);
    memset(big, 'x', 16384);
    big[16384] = '\0';
    json_t *cm = json_pack("{s:s,s:{s:s},s:{s:s}}", "kind", "ConfigMap", "metadata", "name", "big",
                           "data", "v", big);
    efk_err err;
    int i = 0;
    for (; i < 2000; i++) {
        big[0] = (char)('a' + i % 26);
        json_object_set_new(json_object_get(cm, "data"), "v", json_string(big));
        assert_int_equal(efk_apiserver_object_apply(f->a, cm, &err), 0);
        json_t *st = efk_apiserver_state_render(f->a);
        json_int_t cut = json_integer_value(json_object_get(st, "watch_overflows"));
        json_decref(st);
        if (cut == 1)
            break;
    }
    assert_true(i < 2000); /* cut off long before the writes ran out */
    assert_int_equal(efk_apiserver_watch_count(f->a), 0);
    json_decref(cm);
    free(big);
    close(fd);
    stop(f);
}

static void test_config_errors(void **state)
{
    (void)state;
    const char *bad[][2] = {
        {"{\"verison\":\"1.33\"}", "/verison"},
        {"{\"version\":\"1.4\"}", "/version"},
        {"{\"identities\":[{\"name\":\"a\",\"tokn\":\"x\"}]}", "/identities/0/tokn"},
        {"{\"identities\":[{\"name\":\"a\"},{\"name\":\"a\"}]}", "/identities/1/name"},
        {"{\"identities\":[{\"name\":\"a\",\"rules\":[{\"verbs\":[\"get\"]}]}]}",
         "/identities/0/rules/0"},
        {"{\"objects\":[{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"x\"}}]}",
         "/objects/0/kind"},
        {"{\"objects\":[{\"kind\":\"Pod\",\"metadata\":{}}]}", "/objects/0/metadata/name"},
        {"{\"object_files\":[\"missing.json\"]}", "/object_files/0"},
        {"{\"limits\":{\"history\":0}}", "/limits/history"},
        {"{\"watch_timeout\":\"soon\"}", "/watch_timeout"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        efk_apiserver_config cfg;
        efk_apiserver_config_init(&cfg);
        efk_err err;
        efk_err_init(&err);
        json_t *s = json_loads(bad[i][0], 0, NULL);
        assert_int_equal(efk_apiserver_config_parse(&cfg, s, "/nonexistent", &err), -EINVAL);
        assert_string_equal(err.pointer, bad[i][1]);
        assert_true(strlen(err.msg) > 0);
        json_decref(s);
        efk_apiserver_config_cleanup(&cfg);
    }
    /* objects from a file holding a v1 List */
    char *dir = tu_tmpdir();
    char *path = fs_join(dir, "objs.json");
    assert_int_equal(tu_write(path, "{\"apiVersion\":\"v1\",\"kind\":\"PodList\",\"items\":["
                                    "{\"metadata\":{\"name\":\"a\",\"namespace\":\"logging\"}},"
                                    "{\"metadata\":{\"name\":\"b\",\"namespace\":\"logging\"}}]}"),
                     0);
    efk_apiserver_config cfg;
    efk_apiserver_config_init(&cfg);
    efk_err err;
    json_t *s = json_loads("{\"object_files\":[\"objs.json\"],\"objects\":[{\"kind\":\"Node\","
                           "\"metadata\":{\"name\":\"n1\"}}]}",
                           0, NULL);
    assert_int_equal(efk_apiserver_config_parse(&cfg, s, dir, &err), 0);
    assert_int_equal(json_array_size(cfg.objects), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cfg.objects, 1), "kind")),
                        "Pod");
    json_decref(s);
    efk_apiserver_config_cleanup(&cfg);
    /* a file with one object, and one with an array */
    char *one = fs_join(dir, "one.json"), *arr = fs_join(dir, "arr.json");
    assert_int_equal(tu_write(one, "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"x\"}}"), 0);
    assert_int_equal(tu_write(arr, "[{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"}},"
                                   "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"b\"}}]"),
                     0);
    efk_apiserver_config_init(&cfg);
    s = json_loads("{\"object_files\":[\"one.json\",\"arr.json\"]}", 0, NULL);
    assert_int_equal(efk_apiserver_config_parse(&cfg, s, dir, &err), 0);
    assert_int_equal(json_array_size(cfg.objects), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cfg.objects, 2), "kind")),
                        "Secret");
    json_decref(s);
    efk_apiserver_config_cleanup(&cfg);
    /* a bad item in a file names the file and the item */
    assert_int_equal(tu_write(arr, "[{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"}},"
                                   "{\"kind\":\"Widget\",\"metadata\":{\"name\":\"b\"}}]"),
                     0);
    efk_apiserver_config_init(&cfg);
    efk_err_init(&err);
    s = json_loads("{\"object_files\":[\"one.json\",\"arr.json\"]}", 0, NULL);
    assert_int_equal(efk_apiserver_config_parse(&cfg, s, dir, &err), -EINVAL);
    assert_string_equal(err.pointer, "/object_files/1");
    assert_non_null(strstr(err.msg, "arr.json\", item 1/kind: expected a core/v1 kind"));
    json_decref(s);
    efk_apiserver_config_cleanup(&cfg);
    free(one);
    free(arr);
    /* start refuses a bad seed object, naming it, and leaks nothing */
    fx *f = calloc(1, sizeof(*f));
    assert_int_equal(pki_ca_new("ca", &f->ca, &err), 0);
    assert_int_equal(pki_issue_server(f->ca, "apiserver", NULL, NULL, &f->server, &err), 0);
    efk_runtime rt = {.clock = clock_system(), .seed = 1, .workdir = dir, .ca = f->ca,
                      .ca_pem = pki_ca_cert_pem(f->ca), .server_cert_pem = f->server.cert_pem,
                      .server_key_pem = f->server.key_pem};
    efk_apiserver_config_init(&cfg);
    s = json_loads("{\"objects\":[{\"kind\":\"Pod\",\"metadata\":{\"name\":\"Bad_Name\"}}]}", 0,
                   NULL);
    assert_int_equal(efk_apiserver_config_parse(&cfg, s, dir, &err), 0);
    efk_apiserver *a = NULL;
    efk_err_init(&err);
    assert_int_equal(efk_apiserver_start(&cfg, &rt, &a, &err), -EINVAL);
    assert_null(a);
    assert_string_equal(err.pointer, "/objects/0");
    assert_non_null(strstr(err.msg, "Pod \"Bad_Name\" is invalid: metadata.name"));
    json_decref(s);
    efk_apiserver_config_cleanup(&cfg);
    pki_pair_cleanup(&f->server);
    pki_ca_free(f->ca);
    free(f);
    tu_rmtree(dir);
    free(dir);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discovery),
        cmocka_unit_test(test_authn),
        cmocka_unit_test(test_old_personas),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_crud_table_paging),
        cmocka_unit_test(test_watch_live),
        cmocka_unit_test(test_write_modes),
        cmocka_unit_test(test_slow_watcher_over_http),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
