/*
 * apiserver.c - the fake kube-apiserver: listeners, the request path and the
 * public API.
 *
 * One catch-all route hands every request to handle(), which works like the
 * real server's filter chain: domain faults first (the core chain has
 * already applied its own), then authentication (401), the request-info
 * resolver that turns a path into verb/resource/namespace/name, then
 * authorization (403), then the REST handler for the verb. Paths are
 * resolved here rather than in the route table because the real server's
 * answers for unknown resources (404 Status) and wrong methods (405 Status)
 * depend on the resource, not on a pattern.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "efksim.h"
#include "core/fsutil.h"
#include "core/http.h"
#include "core/rng.h"
#include "core/route.h"
#include "apis_auth.h"
#include "apis_discovery.h"
#include "apis_patch.h"
#include "apis_proto.h"
#include "apis_persona.h"
#include "apis_res.h"
#include "apis_select.h"
#include "apis_status.h"
#include "apis_store.h"
#include "apis_table.h"

#define APIS_BODY_CAP (3u * 1024 * 1024) /* kube-apiserver's MaxRequestBodyBytes */
#define APIS_MAX_SEGS 12

struct efk_apiserver {
    const efk_runtime *rt;
    const apis_persona *persona;
    char git_version[32];
    apis_store *store;
    apis_auth *auth;
    journal *journal;
    fault_chain *faults;
    route_table *routes;
    http_server *https, *http;
    bool insecure_authn;
    size_t body_cap;
    int64_t watch_timeout_ns, bookmark_interval_ns;
    pthread_mutex_t mu; /* rng */
    rng rng;
    uint64_t seed;
    unsigned long rotations;
    char server_address[64];
    char openapi_hash[40];
};

/* ------------------------------------------------------------ responses */

static void common_headers(efk_apiserver *a, http_resp *resp)
{
    if (a->persona->minor < 20)
        return;
    unsigned char x[16];
    pthread_mutex_lock(&a->mu);
    uint64_t r1 = rng_next(&a->rng), r2 = rng_next(&a->rng);
    pthread_mutex_unlock(&a->mu);
    memcpy(x, &r1, 8);
    memcpy(x + 8, &r2, 8);
    x[6] = (unsigned char)((x[6] & 0x0f) | 0x40);
    x[8] = (unsigned char)((x[8] & 0x3f) | 0x80);
    char id[40];
    snprintf(id, sizeof(id), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10], x[11], x[12], x[13],
             x[14], x[15]);
    (void)http_resp_header(resp, "Audit-Id", id);
    (void)http_resp_header(resp, "Cache-Control", "no-cache, private");
}

/* Send a Status (steals it). */
static void send_status(efk_apiserver *a, http_resp *resp, json_t *st)
{
    int code = apis_status_code(st);
    common_headers(a, resp);
    if (code == 429) {
        json_t *ra = json_object_get(json_object_get(st, "details"), "retryAfterSeconds");
        if (json_is_integer(ra)) {
            char b[24];
            snprintf(b, sizeof(b), "%lld", (long long)json_integer_value(ra));
            (void)http_resp_header(resp, "Retry-After", b);
        }
    }
    (void)http_resp_json(resp, code, st);
}

static void send_json(efk_apiserver *a, http_resp *resp, int code, json_t *j)
{
    common_headers(a, resp);
    (void)http_resp_json(resp, code, j);
}

static void send_raw(efk_apiserver *a, http_resp *resp, int code, const char *ctype,
                     const char *data, size_t len)
{
    common_headers(a, resp);
    http_resp_status(resp, code);
    (void)http_resp_header(resp, "Content-Type", ctype);
    if (buf_append(http_resp_buf(resp), data, len))
        http_resp_status(resp, 500);
}

static void send_unauthorized(efk_apiserver *a, http_resp *resp)
{
    if (a->persona->unauthorized_json) {
        send_status(a, resp, apis_err_unauthorized());
        return;
    }
    /* Go's http.Error: text, a newline, nosniff. */
    (void)http_resp_header(resp, "X-Content-Type-Options", "nosniff");
    (void)http_resp_text(resp, 401, "text/plain; charset=utf-8", "Unauthorized\n");
}

static void send_forbidden(efk_apiserver *a, http_resp *resp, const apis_attrs *at)
{
    if (a->persona->forbid == APIS_FORBID_TEXT_URI) {
        char *msg = apis_forbidden_message(a->persona, at);
        (void)http_resp_text(resp, 403, "text/plain; charset=utf-8", msg);
        free(msg);
        return;
    }
    send_status(a, resp, apis_err_forbidden(a->persona, at));
}

/* Unknown paths outside the API: a Status in modern servers, Go's
 * NotFound text in older ones. */
static void send_page_not_found(efk_apiserver *a, http_resp *resp)
{
    if (a->persona->minor >= 20) {
        send_status(a, resp, apis_err_generic(404));
        return;
    }
    (void)http_resp_header(resp, "X-Content-Type-Options", "nosniff");
    (void)http_resp_text(resp, 404, "text/plain; charset=utf-8", "404 page not found\n");
}

/* The core layer's refusals, in the apiserver's words. */
static void reject_cb(void *arg, http_req *req, int status, const char *detail, http_resp *resp)
{
    efk_apiserver *a = arg;
    (void)req;
    switch (status) {
    case 413:
        send_status(a, resp, apis_err_too_large(a->body_cap));
        break;
    case 400:
        send_status(a, resp,
                    apis_err_bad_request(detail && *detail ? detail
                                                           : "the server rejected our "
                                                             "request for an unknown "
                                                             "reason"));
        break;
    case 405:
        send_status(a, resp, apis_err_generic(405));
        break;
    default:
        send_page_not_found(a, resp);
        break;
    }
}

/* ------------------------------------------------------------ negotiation */

enum { ACC_JSON, ACC_TABLE_V1, ACC_TABLE_V1BETA1, ACC_AGG_V2, ACC_NONE };

static void param_of(const char *range, const char *key, char *out, size_t outsz)
{
    out[0] = '\0';
    const char *p = range;
    size_t kl = strlen(key);
    while ((p = strchr(p, ';'))) {
        p++;
        while (*p == ' ')
            p++;
        if (!strncasecmp(p, key, kl) && p[kl] == '=') {
            const char *v = p + kl + 1;
            size_t n = strcspn(v, ";,");
            while (n && v[n - 1] == ' ')
                n--;
            snprintf(out, outsz, "%.*s", (int)n, v);
            return;
        }
    }
}

/* The first media range of Accept this persona can answer. */
static int negotiate(efk_apiserver *a, const char *accept, bool discovery)
{
    if (!accept || !*accept)
        return ACC_JSON;
    char *copy = strdup(accept);
    int result = ACC_NONE;
    char *save = NULL;
    for (char *r = strtok_r(copy, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
        while (*r == ' ')
            r++;
        size_t tl = strcspn(r, ";");
        char type[128];
        snprintf(type, sizeof(type), "%.*s", (int)tl, r);
        while (tl && type[tl - 1] == ' ')
            type[--tl] = '\0';
        if (strcasecmp(type, "application/json") && strcasecmp(type, "application/*") &&
            strcasecmp(type, "*/*"))
            continue;
        char as[64], v[32], g[64];
        param_of(r, "as", as, sizeof(as));
        param_of(r, "v", v, sizeof(v));
        param_of(r, "g", g, sizeof(g));
        if (!as[0]) {
            result = ACC_JSON;
            break;
        }
        if (!strcmp(as, "Table") && !strcmp(g, "meta.k8s.io") && a->persona->table) {
            if (!strcmp(v, "v1")) {
                result = ACC_TABLE_V1;
                break;
            }
            if (!strcmp(v, "v1beta1")) {
                result = ACC_TABLE_V1BETA1;
                break;
            }
        }
        if (discovery && !strcmp(as, "APIGroupDiscoveryList") &&
            !strcmp(g, "apidiscovery.k8s.io") && !strcmp(v, "v2") &&
            a->persona->aggregated_discovery >= 2) {
            result = ACC_AGG_V2;
            break;
        }
    }
    free(copy);
    return result;
}

static void send_not_acceptable(efk_apiserver *a, http_resp *resp)
{
    send_status(a, resp,
                apis_status_new(406, "NotAcceptable",
                                "only the following media types are accepted: application/json, "
                                "application/yaml, application/vnd.kubernetes.protobuf",
                                NULL));
}

/* ------------------------------------------------------------ request info */

typedef struct reqinfo {
    const apis_res *r;
    char ns[256];
    char name[256];
    char sub[64];
    bool legacy_watch;
    bool named;
} reqinfo;

/* Go's encoding/json wording for what jansson found ("near 'x'" names the
 * token it stopped at). */
static void json_error_text(const char *body, size_t len, const json_error_t *je, char *out,
                            size_t outsz)
{
    (void)body;
    const char *near = strstr(je->text, "near '");
    char c = near ? near[6] : '\0';
    if (!len || !near || c == '\0' || c == '\'' || strstr(je->text, "premature end")) {
        snprintf(out, outsz, "unexpected end of JSON input");
        return;
    }
    const char *what = "looking for beginning of value";
    if (strstr(je->text, "string or '}' expected"))
        what = "looking for beginning of object key string";
    else if (strstr(je->text, "end of file expected"))
        what = "after top-level value";
    else if (strstr(je->text, "':' expected"))
        what = "after object key";
    else if (strstr(je->text, "',' or '}' expected"))
        what = "after object key:value pair";
    else if (strstr(je->text, "',' or ']' expected"))
        what = "after array element";
    if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
        snprintf(out, outsz, "invalid character '\\x%02x' %s", (unsigned char)c, what);
    else
        snprintf(out, outsz, "invalid character '%c' %s", c, what);
}

static void summarize(const char *body, size_t len, char *out, size_t outsz)
{
    if (!len)
        snprintf(out, outsz, "<empty>");
    else if (len > 30)
        snprintf(out, outsz, "%.30s ...", body);
    else
        snprintf(out, outsz, "%.*s", (int)len, body);
}

/* Parse a request body as JSON or answer 400/415 (returns NULL). */
static json_t *read_body(efk_apiserver *a, http_req *req, http_resp *resp, const apis_res *r,
                         bool patch)
{
    const char *ct = http_req_header(req, "Content-Type");
    if (!patch && ct && !strncasecmp(ct, "application/vnd.kubernetes.protobuf", 35)) {
        size_t plen = 0;
        const char *pbody = http_req_body(req, &plen);
        char perr[400];
        json_t *o = apis_proto_decode(pbody ? pbody : "", plen, perr, sizeof(perr));
        if (!o) {
            char msg[700];
            snprintf(msg, sizeof(msg), "%s in version \"v1\" cannot be handled as a %s: %s",
                     r->kind, r->kind, perr);
            send_status(a, resp, apis_err_bad_request(msg));
        }
        return o;
    }
    if (!patch && ct && *ct) {
        size_t n = strcspn(ct, ";");
        while (n && ct[n - 1] == ' ')
            n--;
        if (strncasecmp(ct, "application/json", n) || n != 16) {
            send_status(a, resp,
                        apis_err_unsupported_media("application/json, application/yaml, "
                                                   "application/vnd.kubernetes.protobuf"));
            return NULL;
        }
    }
    size_t len = 0;
    const char *body = http_req_body(req, &len);
    json_error_t je;
    json_t *j = json_loadb(body ? body : "", len, JSON_DECODE_ANY, &je);
    if (!j) {
        char why[128], sum[64], msg[600];
        json_error_text(body ? body : "", len, &je, why, sizeof(why));
        summarize(body ? body : "", len, sum, sizeof(sum));
        if (patch)
            snprintf(msg, sizeof(msg), "error decoding patch: %s", why);
        else
            snprintf(msg, sizeof(msg),
                     "the object provided is unrecognized (must be of type %s): couldn't get "
                     "version/kind; json parse error: %s (%s)",
                     r->kind, why, sum);
        send_status(a, resp, apis_err_bad_request(msg));
        return NULL;
    }
    if (!patch && !json_is_object(j)) {
        char msg[400];
        snprintf(
            msg, sizeof(msg),
            "%s in version \"v1\" cannot be handled as a %s: json: cannot unmarshal %s into "
            "Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; "
            "Kind string \"json:\\\"kind,omitempty\\\"\" }",
            r->kind, r->kind, json_is_array(j) ? "array" : "string");
        json_decref(j);
        send_status(a, resp, apis_err_bad_request(msg));
        return NULL;
    }
    return j;
}

/* ------------------------------------------------------------ verbs */

static bool query_true(const char *v)
{
    return v && strcmp(v, "0") != 0 && strcasecmp(v, "false") != 0;
}

static bool parse_long(const char *s, long *out)
{
    if (!s || !*s)
        return false;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end)
        return false;
    *out = v;
    return true;
}

static json_t *parse_blob(apis_blob *b)
{
    size_t len;
    const char *d = apis_blob_data(b, &len);
    return json_loadb(d, len, 0, NULL);
}

static void send_object(efk_apiserver *a, http_resp *resp, int code, const apis_res *r, json_t *obj,
                        int acc)
{
    if (acc == ACC_TABLE_V1 || acc == ACC_TABLE_V1BETA1) {
        json_t *items = json_pack("[o]", obj);
        const char *rv = json_string_value(json_object_get(
            json_object_get(json_array_get(items, 0), "metadata"), "resourceVersion"));
        json_t *t = apis_table_render(
            r, a->persona, items, acc == ACC_TABLE_V1 ? "meta.k8s.io/v1" : "meta.k8s.io/v1beta1",
            clock_wall_ns(a->rt->clock), rv, NULL, -1);
        json_decref(items);
        send_json(a, resp, code, t);
        return;
    }
    send_json(a, resp, code, obj);
}

static void endpoints_warning(efk_apiserver *a, http_resp *resp, const apis_res *r)
{
    if (a->persona->endpoints_warning && r->idx == 3)
        (void)http_resp_header(resp, "Warning",
                               "299 - \"v1 Endpoints is deprecated in v1.33+; use "
                               "discovery.k8s.io/v1 EndpointSlice\"");
}

static void do_get(efk_apiserver *a, http_req *req, http_resp *resp, const reqinfo *ri, int acc)
{
    apis_blob *b = NULL;
    json_t *st = NULL;
    if (apis_store_get_blob(a->store, ri->r, ri->ns, ri->name, &b, &st)) {
        send_status(a, resp, st);
        return;
    }
    endpoints_warning(a, resp, ri->r);
    if (acc == ACC_JSON) {
        size_t len;
        const char *d = apis_blob_data(b, &len);
        send_raw(a, resp, 200, "application/json", d, len);
        apis_blob_unref(b);
        return;
    }
    json_t *o = parse_blob(b);
    apis_blob_unref(b);
    send_object(a, resp, 200, ri->r, o, acc);
}

/* ---- watch streams ---- */

typedef struct watch_stream {
    efk_apiserver *a;
    apis_watch *w;
    int acc;
    const apis_res *r;
} watch_stream;

static int table_event(void *arg, const apis_watch_event *ev, buf *out)
{
    watch_stream *ws = arg;
    json_t *obj = json_loadb(ev->obj, ev->obj_len, 0, NULL);
    json_t *wrapped;
    if (obj && strcmp(ev->type, "ERROR") && strcmp(ev->type, "BOOKMARK")) {
        json_t *items = json_pack("[o]", obj);
        wrapped =
            apis_table_render(ws->r, ws->a->persona, items,
                              ws->acc == ACC_TABLE_V1 ? "meta.k8s.io/v1" : "meta.k8s.io/v1beta1",
                              clock_wall_ns(ws->a->rt->clock), NULL, NULL, -1);
        json_decref(items);
    } else {
        wrapped = obj;
    }
    json_t *ev_j = json_pack("{s:s,s:o*}", "type", ev->type, "object", wrapped);
    char *s = json_dumps(ev_j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(ev_j);
    int rc = s ? buf_puts(out, s) : -ENOMEM;
    if (!rc)
        rc = buf_puts(out, "\n");
    free(s);
    return rc;
}

static int stream_fn(void *cls, buf *out)
{
    watch_stream *ws = cls;
    int rc = apis_watch_poll(ws->w, out, HTTP_STREAM_POLL_MS - 10,
                             ws->acc == ACC_JSON ? NULL : table_event, ws);
    return rc == APIS_WATCH_MORE  ? HTTP_STREAM_MORE
           : rc == APIS_WATCH_END ? HTTP_STREAM_END
                                  : HTTP_STREAM_ABORT;
}

static void stream_free(void *cls)
{
    watch_stream *ws = cls;
    apis_watch_stop(ws->w);
    free(ws);
}

static int64_t rand_range(efk_apiserver *a, int64_t lo, int64_t hi)
{
    pthread_mutex_lock(&a->mu);
    int64_t v = rng_range(&a->rng, lo, hi);
    pthread_mutex_unlock(&a->mu);
    return v;
}

static void do_watch(efk_apiserver *a, http_req *req, http_resp *resp, const reqinfo *ri,
                     const apis_selector *labels, const apis_selector *fields, int acc)
{
    apis_watch_opts o = {0};
    o.r = ri->r;
    o.ns = ri->r->namespaced && ri->ns[0] ? ri->ns : NULL;
    o.name = ri->named ? ri->name : NULL;
    o.labels = labels;
    o.fields = fields;
    o.rv = http_req_arg(req, "resourceVersion");
    o.bookmarks = query_true(http_req_arg(req, "allowWatchBookmarks"));
    o.bookmark_interval_ns = a->bookmark_interval_ns;
    const char *ts = http_req_arg(req, "timeoutSeconds");
    long tsec = 0;
    if (ts && (!parse_long(ts, &tsec) || tsec < 0)) {
        char msg[300];
        snprintf(msg, sizeof(msg), "strconv.ParseInt: parsing \"%s\": invalid syntax", ts);
        send_status(a, resp, apis_err_bad_request(msg));
        return;
    }
    int64_t len_ns = tsec > 0 ? tsec * EFK_NS_PER_S
                              : rand_range(a, a->watch_timeout_ns, 2 * a->watch_timeout_ns - 1);
    o.deadline_mono_ns = clock_mono_ns(a->rt->clock) + len_ns;
    uint64_t call = 0;
    const fault_rule *fr = http_req_fault(req, &call);
    if (fr && fr->action == FAULT_DOMAIN && fr->domain) {
        if (!strcmp(fr->domain, "watch_expire")) {
            o.force_expired = true;
            http_req_fault_applied(req);
        } else if (!strcmp(fr->domain, "watch_drop")) {
            json_t *after = json_object_get(fr->params, "after");
            o.drop_after = json_is_integer(after) ? (uint64_t)json_integer_value(after) : 1;
            o.drop_abort = json_is_true(json_object_get(fr->params, "reset"));
            http_req_fault_applied(req);
        }
    }
    apis_watch *w = NULL;
    json_t *st = NULL;
    if (apis_watch_start(a->store, &o, &w, &st)) {
        send_status(a, resp, st);
        return;
    }
    watch_stream *ws = calloc(1, sizeof(*ws));
    if (!ws) {
        apis_watch_stop(w);
        send_status(a, resp, apis_err_internal("out of memory"));
        return;
    }
    ws->a = a;
    ws->w = w;
    ws->acc = acc;
    ws->r = ri->r;
    common_headers(a, resp);
    endpoints_warning(a, resp, ri->r);
    (void)http_resp_header(resp, "Content-Type",
                           acc == ACC_TABLE_V1 ? "application/json;as=Table;v=v1;g=meta.k8s.io"
                           : acc == ACC_TABLE_V1BETA1
                               ? "application/json;as=Table;v=v1beta1;g=meta.k8s.io"
                               : "application/json");
    if (http_resp_stream(resp, 200, stream_fn, ws, stream_free))
        http_resp_status(resp, 500);
}

/* sendInitialEvents: refused as a server without the WatchList gate does,
 * a 422 client-go treats as final, so it falls back to list+watch. */
static void refuse_initial_events(efk_apiserver *a, http_resp *resp)
{
    json_t *causes = json_array();
    json_array_append_new(causes, apis_cause_new("FieldValueForbidden", "sendInitialEvents", "",
                                                 "sendInitialEvents is forbidden for watch unless "
                                                 "the WatchList feature gate is enabled"));
    json_t *d = json_object();
    json_object_set_new(d, "group", json_string("meta.k8s.io"));
    json_object_set_new(d, "kind", json_string("ListOptions"));
    json_object_set_new(d, "causes", causes);
    send_status(a, resp,
                apis_status_new(422, "Invalid",
                                "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: "
                                "Forbidden: sendInitialEvents is forbidden for watch unless the "
                                "WatchList feature gate is enabled",
                                d));
}

static void do_list_or_watch(efk_apiserver *a, http_req *req, http_resp *resp, const reqinfo *ri,
                             bool watch, int acc)
{
    char err[600];
    apis_selector labels, fields;
    if (apis_label_selector_parse(http_req_arg(req, "labelSelector"), &labels, err, sizeof(err))) {
        send_status(a, resp, apis_err_bad_request(err));
        return;
    }
    if (apis_field_selector_parse(http_req_arg(req, "fieldSelector"), ri->r, &fields, err,
                                  sizeof(err))) {
        apis_selector_cleanup(&labels);
        send_status(a, resp, apis_err_bad_request(err));
        return;
    }
    if (query_true(http_req_arg(req, "sendInitialEvents"))) {
        refuse_initial_events(a, resp);
        goto out;
    }
    if (watch) {
        do_watch(a, req, resp, ri, &labels, &fields, acc);
        goto out;
    }
    long limit = 0;
    const char *ls = http_req_arg(req, "limit");
    if (ls && *ls && (!parse_long(ls, &limit))) {
        char msg[300];
        snprintf(msg, sizeof(msg), "strconv.ParseInt: parsing \"%s\": invalid syntax", ls);
        send_status(a, resp, apis_err_bad_request(msg));
        goto out;
    }
    apis_list_opts o = {0};
    o.ns = ri->r->namespaced && ri->ns[0] ? ri->ns : NULL;
    o.labels = &labels;
    o.fields = &fields;
    o.limit = limit;
    o.cont = http_req_arg(req, "continue");
    o.rv = http_req_arg(req, "resourceVersion");
    o.rv_match = http_req_arg(req, "resourceVersionMatch");
    apis_list l;
    json_t *st = NULL;
    if (apis_store_list(a->store, ri->r, &o, &l, &st)) {
        send_status(a, resp, st);
        goto out;
    }
    endpoints_warning(a, resp, ri->r);
    if (acc == ACC_JSON) {
        buf b;
        buf_init(&b, 0);
        if (apis_list_render(ri->r, &l, &b)) {
            buf_cleanup(&b);
            apis_list_cleanup(&l);
            send_status(a, resp, apis_err_internal("out of memory"));
            goto out;
        }
        send_raw(a, resp, 200, "application/json", b.data, b.len);
        buf_cleanup(&b);
    } else {
        json_t *items = json_array();
        for (size_t i = 0; i < l.n; i++) {
            json_t *o2 = parse_blob(l.items[i]);
            if (o2)
                json_array_append_new(items, o2);
        }
        char rv[24];
        snprintf(rv, sizeof(rv), "%" PRIu64, l.rv);
        json_t *t =
            apis_table_render(ri->r, a->persona, items,
                              acc == ACC_TABLE_V1 ? "meta.k8s.io/v1" : "meta.k8s.io/v1beta1",
                              clock_wall_ns(a->rt->clock), rv, l.cont, l.remaining);
        json_decref(items);
        send_json(a, resp, 200, t);
    }
    apis_list_cleanup(&l);
out:
    apis_selector_cleanup(&labels);
    apis_selector_cleanup(&fields);
}

/* fieldValidation (1.27 GA): without schemas the fake knows each kind's
 * top-level fields and ObjectMeta's; an unknown one is refused (Strict),
 * warned about (Warn, the server default) or ignored. Returns false when it
 * answered 400. */
static const char *const *top_fields(const apis_res *r)
{
    static const char *const SPEC_STATUS[] = {"spec", "status", NULL};
    static const char *const EP[] = {"subsets", NULL};
    static const char *const SA[] = {"secrets", "imagePullSecrets", "automountServiceAccountToken",
                                     NULL};
    static const char *const SECRET[] = {"data", "stringData", "type", "immutable", NULL};
    static const char *const CM[] = {"data", "binaryData", "immutable", NULL};
    static const char *const EV[] = {"involvedObject",
                                     "reason",
                                     "message",
                                     "source",
                                     "firstTimestamp",
                                     "lastTimestamp",
                                     "count",
                                     "type",
                                     "eventTime",
                                     "series",
                                     "action",
                                     "related",
                                     "reportingComponent",
                                     "reportingInstance",
                                     NULL};
    switch (r->idx) {
    case 3:
        return EP;
    case 5:
        return SA;
    case 6:
        return SECRET;
    case 7:
        return CM;
    case 8:
        return EV;
    default:
        return SPEC_STATUS;
    }
}

static bool listed(const char *const *l, const char *k)
{
    for (; *l; l++)
        if (!strcmp(*l, k))
            return true;
    return false;
}

static bool check_fields(efk_apiserver *a, http_req *req, http_resp *resp, const apis_res *r,
                         const json_t *obj)
{
    const char *fv = http_req_arg(req, "fieldValidation");
    if (a->persona->minor < 27 || (fv && !strcmp(fv, "Ignore")) || !json_is_object(obj))
        return true;
    bool strict = fv && !strcmp(fv, "Strict");
    char list[2048] = "";
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        char one[600] = "";
        if (!strcmp(k, "metadata") && json_is_object(v)) {
            const char *mk;
            json_t *mv;
            json_object_foreach(v, mk, mv)
            {
                if (listed(APIS_META_FIELDS, mk))
                    continue;
                snprintf(one, sizeof(one), "metadata.%s", mk);
                if (strict) {
                    n += (size_t)snprintf(list + n, sizeof(list) - n < 2 ? 0 : sizeof(list) - n,
                                          "%sunknown field \"%s\"", n ? ", " : "", one);
                    n = n < sizeof(list) ? n : sizeof(list) - 1;
                } else {
                    char w[700];
                    snprintf(w, sizeof(w), "299 - \"unknown field \\\"%s\\\"\"", one);
                    (void)http_resp_header(resp, "Warning", w);
                }
            }
            continue;
        }
        if (!strcmp(k, "kind") || !strcmp(k, "apiVersion") || !strcmp(k, "metadata") ||
            listed(top_fields(r), k))
            continue;
        if (strict) {
            n += (size_t)snprintf(list + n, sizeof(list) - n < 2 ? 0 : sizeof(list) - n,
                                  "%sunknown field \"%s\"", n ? ", " : "", k);
            n = n < sizeof(list) ? n : sizeof(list) - 1;
        } else {
            char w[700];
            snprintf(w, sizeof(w), "299 - \"unknown field \\\"%s\\\"\"", k);
            (void)http_resp_header(resp, "Warning", w);
        }
    }
    if (!n)
        return true;
    char msg[2400];
    snprintf(msg, sizeof(msg),
             "%s in version \"v1\" cannot be handled as a %s: strict decoding "
             "error: %s",
             r->kind, r->kind, list);
    send_status(a, resp, apis_err_bad_request(msg));
    return false;
}

static void do_create(efk_apiserver *a, http_req *req, http_resp *resp, const reqinfo *ri, int acc)
{
    json_t *obj = read_body(a, req, resp, ri->r, false);
    if (!obj)
        return;
    if (!check_fields(a, req, resp, ri->r, obj)) {
        json_decref(obj);
        return;
    }
    json_t *out = NULL, *st = NULL;
    int rc = apis_store_create(a->store, ri->r, ri->r->namespaced ? ri->ns : NULL, obj,
                               APIS_ORIGIN_API, &out, &st);
    json_decref(obj);
    if (rc) {
        send_status(a, resp, st);
        return;
    }
    send_object(a, resp, 201, ri->r, out, acc);
}

static void do_update(efk_apiserver *a, http_req *req, http_resp *resp, const reqinfo *ri, int acc)
{
    json_t *obj = read_body(a, req, resp, ri->r, false);
    if (!obj)
        return;
    if (!check_fields(a, req, resp, ri->r, obj)) {
        json_decref(obj);
        return;
    }
    json_t *out = NULL, *st = NULL;
    int rc = apis_store_update(a->store, ri->r, ri->ns, ri->name, obj, APIS_ORIGIN_API,
                               ri->sub[0] != '\0', &out, &st);
    json_decref(obj);
    if (rc) {
        send_status(a, resp, st);
        return;
    }
    send_object(a, resp, 200, ri->r, out, acc);
}

static const char PATCH_TYPES[] = "application/json-patch+json, application/merge-patch+json, "
                                  "application/strategic-merge-patch+json";

static void do_patch(efk_apiserver *a, http_req *req, http_resp *resp, const reqinfo *ri, int acc)
{
    const char *ct = http_req_header(req, "Content-Type");
    char type[128] = "";
    if (ct) {
        size_t n = strcspn(ct, ";");
        while (n && ct[n - 1] == ' ')
            n--;
        snprintf(type, sizeof(type), "%.*s", (int)n, ct);
    }
    apis_patch_type pt;
    if (!strcasecmp(type, "application/merge-patch+json"))
        pt = APIS_PATCH_MERGE;
    else if (!strcasecmp(type, "application/strategic-merge-patch+json"))
        pt = APIS_PATCH_STRATEGIC;
    else if (!strcasecmp(type, "application/json-patch+json"))
        pt = APIS_PATCH_JSON;
    else {
        send_status(a, resp, apis_err_unsupported_media(PATCH_TYPES));
        return;
    }
    json_t *patch = read_body(a, req, resp, ri->r, true);
    if (!patch)
        return;
    if (pt != APIS_PATCH_JSON && !check_fields(a, req, resp, ri->r, patch)) {
        json_decref(patch);
        return;
    }
    json_t *out = NULL, *st = NULL;
    int rc = apis_store_patch(a->store, ri->r, ri->ns, ri->name, pt, patch, ri->sub[0] != '\0',
                              &out, &st);
    json_decref(patch);
    if (rc) {
        send_status(a, resp, st);
        return;
    }
    send_object(a, resp, 200, ri->r, out, acc);
}

static void do_delete(efk_apiserver *a, http_req *req, http_resp *resp, const reqinfo *ri)
{
    size_t len = 0;
    const char *body = http_req_body(req, &len);
    const char *uid = NULL, *rv = NULL;
    json_t *opts = NULL;
    if (len) {
        json_error_t je;
        opts = json_loadb(body, len, 0, &je);
        if (!json_is_object(opts)) {
            char why[128], msg[300];
            json_error_text(body, len, &je, why, sizeof(why));
            snprintf(msg, sizeof(msg), "%s",
                     opts ? "json: cannot unmarshal into DeleteOptions" : why);
            json_decref(opts);
            send_status(a, resp, apis_err_bad_request(msg));
            return;
        }
        json_t *pre = json_object_get(opts, "preconditions");
        uid = json_string_value(json_object_get(pre, "uid"));
        rv = json_string_value(json_object_get(pre, "resourceVersion"));
    }
    json_t *out = NULL, *st = NULL;
    int rc = apis_store_delete(a->store, ri->r, ri->ns, ri->name, uid, rv, &out, &st);
    json_decref(opts);
    if (rc) {
        send_status(a, resp, st);
        return;
    }
    send_json(a, resp, 200, out);
}

static void do_delete_collection(efk_apiserver *a, http_req *req, http_resp *resp,
                                 const reqinfo *ri)
{
    char err[600];
    apis_selector labels, fields;
    if (apis_label_selector_parse(http_req_arg(req, "labelSelector"), &labels, err, sizeof(err))) {
        send_status(a, resp, apis_err_bad_request(err));
        return;
    }
    if (apis_field_selector_parse(http_req_arg(req, "fieldSelector"), ri->r, &fields, err,
                                  sizeof(err))) {
        apis_selector_cleanup(&labels);
        send_status(a, resp, apis_err_bad_request(err));
        return;
    }
    apis_list_opts o = {0};
    o.ns = ri->r->namespaced && ri->ns[0] ? ri->ns : NULL;
    o.labels = &labels;
    o.fields = &fields;
    apis_list l;
    json_t *st = NULL;
    if (apis_store_list(a->store, ri->r, &o, &l, &st)) {
        send_status(a, resp, st);
    } else {
        json_t *items = json_array();
        for (size_t i = 0; i < l.n; i++) {
            json_t *obj = parse_blob(l.items[i]);
            json_t *md = json_object_get(obj, "metadata");
            json_t *gone = NULL, *st2 = NULL;
            if (!apis_store_delete(
                    a->store, ri->r, json_string_value(json_object_get(md, "namespace")),
                    json_string_value(json_object_get(md, "name")), NULL, NULL, &gone, &st2) &&
                json_is_object(gone) &&
                strcmp(json_string_value(json_object_get(gone, "kind")), "Status"))
                json_array_append(items, gone);
            else if (!st2)
                json_array_append(items, obj);
            json_decref(gone);
            json_decref(st2);
            json_decref(obj);
        }
        char rv[24];
        snprintf(rv, sizeof(rv), "%" PRIu64, apis_store_rv(a->store));
        json_t *list = json_object();
        json_object_set_new(list, "kind", json_string(ri->r->list_kind));
        json_object_set_new(list, "apiVersion", json_string("v1"));
        json_object_set_new(list, "metadata", json_pack("{s:s}", "resourceVersion", rv));
        json_object_set_new(list, "items", items);
        send_json(a, resp, 200, list);
        apis_list_cleanup(&l);
    }
    apis_selector_cleanup(&labels);
    apis_selector_cleanup(&fields);
}

/* ------------------------------------------------------------ non-resource */

static void health(efk_apiserver *a, http_req *req, http_resp *resp, const char *what)
{
    (void)http_resp_header(resp, "X-Content-Type-Options", "nosniff");
    common_headers(a, resp);
    if (http_req_arg(req, "verbose")) {
        char b[256];
        snprintf(b, sizeof(b), "[+]ping ok\n[+]log ok\n[+]etcd ok\n%s check passed\n", what);
        (void)http_resp_text(resp, 200, "text/plain; charset=utf-8", b);
    } else {
        (void)http_resp_text(resp, 200, "text/plain; charset=utf-8", "ok");
    }
}

/* Returns true when it answered. */
static bool non_resource(efk_apiserver *a, http_req *req, http_resp *resp, const char *path)
{
    const char *m = http_req_method(req);
    bool get = !strcmp(m, "GET") || !strcmp(m, "HEAD");
    if (!strcmp(path, "/healthz") || !strncmp(path, "/healthz/", 9)) {
        health(a, req, resp, "healthz");
        return true;
    }
    if (!a->persona->healthz_only &&
        (!strcmp(path, "/livez") || !strcmp(path, "/readyz") || !strncmp(path, "/livez/", 7) ||
         !strncmp(path, "/readyz/", 8))) {
        health(a, req, resp, path[1] == 'l' ? "livez" : "readyz");
        return true;
    }
    if (a->persona->minor >= 27 && !strncmp(path, "/openapi/v3", 11) && get) {
        if (!strcmp(path, "/openapi/v3") || !strcmp(path, "/openapi/v3/")) {
            send_json(a, resp, 200, apis_openapi_v3_index(a->openapi_hash));
            return true;
        }
        if (!strcmp(path, "/openapi/v3/api/v1")) {
            send_json(a, resp, 200, apis_openapi_v3_core(a->persona));
            return true;
        }
    }
    if (a->persona->minor >= 9 && get &&
        (!strcmp(path, "/openapi/v2") || !strcmp(path, "/swagger-2.0.0.pb-v1"))) {
        const char *acc = http_req_header(req, "Accept");
        if (acc && strstr(acc, "protobuf")) {
            buf b;
            buf_init(&b, 0);
            if (apis_proto_openapi_v2(a->persona, &b)) {
                buf_cleanup(&b);
                send_status(a, resp, apis_err_internal("out of memory"));
                return true;
            }
            send_raw(a, resp, 200, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
                     b.data, b.len);
            buf_cleanup(&b);
        } else {
            json_t *d = apis_openapi_v3_core(a->persona);
            json_object_del(d, "openapi");
            json_object_del(d, "components");
            json_t *sw = json_pack("{s:s}", "swagger", "2.0");
            json_object_update(sw, d);
            json_decref(d);
            send_json(a, resp, 200, sw);
        }
        return true;
    }
    bool known = !strcmp(path, "/") || !strcmp(path, "/version") || !strcmp(path, "/version/") ||
                 !strcmp(path, "/api") || !strcmp(path, "/api/") || !strcmp(path, "/apis") ||
                 !strcmp(path, "/apis/") || !strcmp(path, "/api/v1") || !strcmp(path, "/api/v1/");
    if (!known)
        return false;
    if (!get) {
        send_status(a, resp, apis_err_generic(405));
        return true;
    }
    if (!strcmp(path, "/")) {
        send_json(a, resp, 200, apis_discovery_root(a->persona));
        return true;
    }
    if (!strncmp(path, "/version", 8)) {
        json_t *v = apis_persona_version_doc(a->persona, a->git_version);
        char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(v);
        send_raw(a, resp, 200, "application/json", s, strlen(s));
        free(s);
        return true;
    }
    bool core =
        !strncmp(path, "/api", 4) && (path[4] == '\0' || (path[4] == '/' && path[5] == '\0'));
    bool groups = !strncmp(path, "/apis", 5);
    int acc = negotiate(a, http_req_header(req, "Accept"), core || groups);
    if (acc == ACC_NONE) {
        send_not_acceptable(a, resp);
        return true;
    }
    if (acc == ACC_AGG_V2 && (core || groups)) {
        json_t *d = apis_discovery_aggregated(a->persona, core);
        char *s = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(d);
        send_raw(a, resp, 200,
                 "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", s,
                 strlen(s));
        free(s);
        return true;
    }
    if (core)
        send_json(a, resp, 200, apis_discovery_api(a->server_address));
    else if (groups)
        send_json(a, resp, 200, apis_discovery_apis());
    else
        send_json(a, resp, 200, apis_discovery_v1(a->persona));
    return true;
}

/* ------------------------------------------------------------ the handler */

/* Split and decode the path below /api/v1/. Returns the number of segments,
 * -1 for a bad escape. */
static int split_path(const char *rest, char segs[APIS_MAX_SEGS][256])
{
    int n = 0;
    const char *p = rest;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len) {
            if (n == APIS_MAX_SEGS)
                return APIS_MAX_SEGS + 1;
            char *d = route_pct_decode(p, len);
            if (!d)
                return -1;
            snprintf(segs[n++], 256, "%s", d);
            free(d);
        }
        if (!e)
            break;
        p = e + 1;
    }
    return n;
}

/* Resolve segments to resource/ns/name/sub. Returns false for an unknown
 * resource or shape (404). */
static bool resolve(char segs[APIS_MAX_SEGS][256], int n, reqinfo *ri)
{
    memset(ri, 0, sizeof(*ri));
    int i = 0;
    if (n > 0 && !strcmp(segs[0], "watch")) {
        ri->legacy_watch = true;
        i = 1;
    }
    if (n - i == 3 && !strcmp(segs[i], "namespaces") &&
        (!strcmp(segs[i + 2], "status") || !strcmp(segs[i + 2], "finalize"))) {
        /* namespaces/{name}/status (finalize is not served: 404 below) */
        ri->r = apis_res_at(0);
        snprintf(ri->name, sizeof(ri->name), "%s", segs[i + 1]);
        snprintf(ri->ns, sizeof(ri->ns), "%s", segs[i + 1]);
        snprintf(ri->sub, sizeof(ri->sub), "%s", segs[i + 2]);
        ri->named = true;
    } else if (n - i >= 1 && !strcmp(segs[i], "namespaces") && n - i >= 3) {
        /* namespaces/{ns}/{resource}[/{name}[/{sub}]] */
        snprintf(ri->ns, sizeof(ri->ns), "%s", segs[i + 1]);
        ri->r = apis_res_by_plural(segs[i + 2]);
        if (!ri->r || !ri->r->namespaced)
            return false;
        if (n - i >= 4) {
            snprintf(ri->name, sizeof(ri->name), "%s", segs[i + 3]);
            ri->named = true;
        }
        if (n - i == 5)
            snprintf(ri->sub, sizeof(ri->sub), "%s", segs[i + 4]);
        if (n - i > 5)
            return false;
    } else if (n - i >= 1) {
        ri->r = apis_res_by_plural(segs[i]);
        if (!ri->r)
            return false;
        if (n - i >= 2) {
            if (ri->r->namespaced)
                return false; /* /api/v1/pods/x is not a path */
            snprintf(ri->name, sizeof(ri->name), "%s", segs[i + 1]);
            ri->named = true;
            if (ri->r->idx == 0) /* a namespace is its own namespace for authz */
                snprintf(ri->ns, sizeof(ri->ns), "%s", ri->name);
        }
        if (n - i == 3)
            snprintf(ri->sub, sizeof(ri->sub), "%s", segs[i + 2]);
        if (n - i > 3)
            return false;
    } else {
        return false;
    }
    if (ri->sub[0]) {
        if (ri->legacy_watch || !ri->r->status_sub || strcmp(ri->sub, "status") != 0)
            return false;
    }
    return true;
}

static void handle(void *arg, http_req *req, http_resp *resp)
{
    efk_apiserver *a = arg;
    const char *path = http_req_path(req);
    const char *method = http_req_method(req);
    uint64_t call = 0;
    const fault_rule *fr = http_req_fault(req, &call);
    if (fr && fr->action == FAULT_DOMAIN && fr->domain &&
        !strcmp(fr->domain, "too_many_requests")) {
        json_t *ra = json_object_get(fr->params, "retry_after");
        int retry = json_is_integer(ra) ? (int)json_integer_value(ra) : 1;
        const char *form = json_string_value(json_object_get(fr->params, "form"));
        const char *msg = json_string_value(json_object_get(fr->params, "message"));
        http_req_fault_applied(req);
        if (form && !strcmp(form, "text")) {
            /* the max-in-flight / priority-and-fairness filters' answer */
            char b[24];
            snprintf(b, sizeof(b), "%d", retry);
            (void)http_resp_header(resp, "Retry-After", b);
            (void)http_resp_header(resp, "X-Content-Type-Options", "nosniff");
            (void)http_resp_text(resp, 429, "text/plain; charset=utf-8",
                                 "Too many requests, please try again later.\n");
        } else {
            send_status(a, resp, apis_err_too_many(msg ? msg : "please try again later", retry));
        }
        return;
    }

    /* authentication */
    apis_user u;
    bool secure = strcmp(http_req_listener(req), "https") == 0;
    if (secure || a->insecure_authn) {
        if (apis_auth_authenticate(a->auth, http_req_header(req, "Authorization"),
                                   http_req_identity(req), &u)) {
            send_unauthorized(a, resp);
            return;
        }
    } else {
        memset(&u, 0, sizeof(u));
        snprintf(u.name, sizeof(u.name), "system:unsecured");
        snprintf(u.groups[0], sizeof(u.groups[0]), "system:masters");
        snprintf(u.groups[1], sizeof(u.groups[1]), "system:authenticated");
        u.ngroups = 2;
    }

    /* request info */
    const char *uri_q = http_req_query(req);
    char uri[2048];
    snprintf(uri, sizeof(uri), "%s%s%s", path, uri_q && *uri_q ? "?" : "", uri_q ? uri_q : "");
    bool resource_path = !strncmp(path, "/api/v1/", 8) && path[8] != '\0';
    if (!resource_path) {
        apis_request_attrs ra = {.verb = "get", .path = path};
        if (!apis_auth_authorize(a->auth, &u, &ra)) {
            apis_attrs at = {.user = u.name, .verb = "get", .path = path, .uri = uri};
            send_forbidden(a, resp, &at);
            return;
        }
        if (!non_resource(a, req, resp, path))
            send_page_not_found(a, resp);
        return;
    }
    char segs[APIS_MAX_SEGS][256];
    int n = split_path(path + 8, segs);
    reqinfo ri;
    if (n < 0) {
        send_status(a, resp, apis_err_bad_request("malformed percent-encoding in the path"));
        return;
    }
    if (n == 0) {
        if (!non_resource(a, req, resp, "/api/v1"))
            send_page_not_found(a, resp);
        return;
    }
    if (!resolve(segs, n, &ri)) {
        send_status(a, resp, apis_err_generic(404));
        return;
    }
    const char *verb = NULL;
    /* ?watch on a named path is a plain get, as the real resolver has it */
    bool watch = ri.legacy_watch || (!ri.named && query_true(http_req_arg(req, "watch")));
    if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
        verb = watch ? "watch" : ri.named ? "get" : "list";
    else if (ri.legacy_watch)
        verb = NULL;
    else if (!strcmp(method, "POST") && !ri.named)
        verb = "create";
    else if (!strcmp(method, "PUT") && ri.named)
        verb = "update";
    else if (!strcmp(method, "PATCH") && ri.named)
        verb = "patch";
    else if (!strcmp(method, "DELETE") && !ri.sub[0])
        verb = ri.named ? "delete" : (ri.r->idx == 0 ? NULL : "deletecollection");
    if (!verb) {
        send_status(a, resp, apis_err_generic(405));
        return;
    }
    apis_request_attrs ra = {.verb = verb,
                             .resource = ri.r->name,
                             .subresource = ri.sub,
                             .ns = ri.ns[0] ? ri.ns : NULL,
                             .name = ri.name,
                             .path = path};
    if (!apis_auth_authorize(a->auth, &u, &ra)) {
        apis_attrs at = {.user = u.name,
                         .verb = verb,
                         .resource = ri.r->name,
                         .group = "",
                         .subresource = ri.sub,
                         .ns = ri.ns,
                         .name = ri.name,
                         .path = path,
                         .uri = uri};
        send_forbidden(a, resp, &at);
        return;
    }
    int acc = negotiate(a, http_req_header(req, "Accept"), false);
    if (acc == ACC_NONE) {
        send_not_acceptable(a, resp);
        return;
    }
    if (!strcmp(verb, "get"))
        do_get(a, req, resp, &ri, acc);
    else if (!strcmp(verb, "list") || !strcmp(verb, "watch"))
        do_list_or_watch(a, req, resp, &ri, watch, acc);
    else if (!strcmp(verb, "create"))
        do_create(a, req, resp, &ri, acc);
    else if (!strcmp(verb, "update"))
        do_update(a, req, resp, &ri, acc);
    else if (!strcmp(verb, "patch"))
        do_patch(a, req, resp, &ri, acc);
    else if (!strcmp(verb, "delete"))
        do_delete(a, req, resp, &ri);
    else
        do_delete_collection(a, req, resp, &ri);
}

/* ------------------------------------------------------------ domain faults */

static int check_drop(const json_t *p, efk_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)p, k, v)
    {
        if (!strcmp(k, "after")) {
            if (!json_is_integer(v) || json_integer_value(v) < 1) {
                efk_err_at(err, "/after");
                return efk_err_set(err, -EINVAL, "expected a number of events (1 or more)");
            }
        } else if (!strcmp(k, "reset")) {
            if (!json_is_boolean(v)) {
                efk_err_at(err, "/reset");
                return efk_err_set(err, -EINVAL, "expected true or false");
            }
        } else {
            char ptr[300];
            snprintf(ptr, sizeof(ptr), "/%s", k);
            efk_err_at(err, ptr);
            return efk_err_set(err, -EINVAL, "unknown key \"%s\"; allowed keys: after, reset", k);
        }
    }
    return 0;
}

static int check_expire(const json_t *p, efk_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)p, k, v)
    {
        char ptr[300];
        snprintf(ptr, sizeof(ptr), "/%s", k);
        efk_err_at(err, ptr);
        return efk_err_set(err, -EINVAL, "watch_expire takes no parameters (got \"%s\")", k);
    }
    return 0;
}

static int check_429(const json_t *p, efk_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)p, k, v)
    {
        char ptr[300];
        snprintf(ptr, sizeof(ptr), "/%s", k);
        if (!strcmp(k, "retry_after")) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 86400) {
                efk_err_at(err, ptr);
                return efk_err_set(err, -EINVAL, "expected seconds (0 to 86400)");
            }
        } else if (!strcmp(k, "form")) {
            const char *f = json_string_value(v);
            if (!f || (strcmp(f, "status") && strcmp(f, "text"))) {
                efk_err_at(err, ptr);
                return efk_err_set(err, -EINVAL, "expected \"status\" or \"text\"");
            }
        } else if (!strcmp(k, "message")) {
            if (!json_is_string(v)) {
                efk_err_at(err, ptr);
                return efk_err_set(err, -EINVAL, "expected a string");
            }
        } else {
            efk_err_at(err, ptr);
            return efk_err_set(err, -EINVAL,
                               "unknown key \"%s\"; allowed keys: retry_after, form, message", k);
        }
    }
    return 0;
}

/* ------------------------------------------------------------ life */

static void gen_token(uint64_t seed, const char *name, unsigned long n, char *out)
{
    char stream[400];
    snprintf(stream, sizeof(stream), "apiserver.token:%s:%lu", name, n);
    rng r;
    rng_init(&r, seed, stream);
    static const char ALPHA[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < 48; i++)
        out[i] = ALPHA[rng_next(&r) % 36];
    out[48] = '\0';
}

/* Service-account users get their groups as the token authenticator gives them. */
static void sa_groups(const char *name, const char **groups, size_t *n, char *buf2, size_t bsz)
{
    const char *pre = "system:serviceaccount:";
    if (strncmp(name, pre, strlen(pre)) != 0)
        return;
    const char *ns = name + strlen(pre);
    const char *colon = strchr(ns, ':');
    if (!colon || *n + 2 > APIS_MAX_GROUPS - 1)
        return;
    groups[(*n)++] = "system:serviceaccounts";
    snprintf(buf2, bsz, "system:serviceaccounts:%.*s", (int)(colon - ns), ns);
    groups[(*n)++] = buf2;
}

static int add_identities(efk_apiserver *a, const efk_apiserver_config *cfg, efk_err *err)
{
    if (!cfg->identities) {
        char tok[64];
        gen_token(a->seed, "admin", 0, tok);
        const char *g[] = {"system:masters"};
        if (apis_auth_add(a->auth, "admin", g, 1, tok, true, NULL, false))
            return efk_err_set(err, -ENOMEM, "cannot add the admin identity");
        return 0;
    }
    for (size_t i = 0; i < cfg->nidentities; i++) {
        const efk_apiserver_identity *id = &cfg->identities[i];
        const char *groups[APIS_MAX_GROUPS];
        size_t ng = 0;
        for (size_t k = 0; k < id->ngroups && ng < APIS_MAX_GROUPS - 3; k++)
            groups[ng++] = id->groups[k];
        char sag[300];
        sa_groups(id->name, groups, &ng, sag, sizeof(sag));
        char tok[64];
        const char *token = id->token;
        if (!token && !id->no_token) {
            gen_token(a->seed, id->name, 0, tok);
            token = tok;
        }
        int rc =
            apis_auth_add(a->auth, id->name, groups, ng, token, id->cert, id->rules, id->rejected);
        if (rc) {
            char p[64];
            snprintf(p, sizeof(p), "/identities/%zu", i);
            efk_err_at(err, p);
            return efk_err_set(err, -EINVAL, "cannot add identity \"%s\": %s", id->name,
                               rc == -EEXIST ? "its name or token is taken" : "too many");
        }
    }
    const char *k;
    json_t *v;
    json_object_foreach(cfg->group_rules, k, v)
    {
        if (apis_auth_group_rules(a->auth, k, v)) {
            char p[300];
            snprintf(p, sizeof(p), "/groups/%s", k);
            efk_err_at(err, p);
            return efk_err_set(err, -ENOSPC, "too many groups with rules");
        }
    }
    return 0;
}


int efk_apiserver_fault_actions(fault_chain *c)
{
    int rc;
    if ((rc = fault_domain_add(c, "watch_drop", check_drop)) ||
        (rc = fault_domain_add(c, "watch_expire", check_expire)) ||
        (rc = fault_domain_add(c, "too_many_requests", check_429)))
        return rc;
    return 0;
}

int efk_apiserver_start(const efk_apiserver_config *cfg, const efk_runtime *rt, efk_apiserver **out,
                        efk_err *err)
{
    int rc = 0;
    efk_apiserver *a = calloc(1, sizeof(*a));
    if (!a)
        return efk_err_set(err, -ENOMEM, "out of memory");
    pthread_mutex_init(&a->mu, NULL);
    a->rt = rt;
    a->seed = rt->seed;
    rng_init(&a->rng, rt->seed, "apiserver");
    char msg[256];
    if (apis_persona_find(cfg->version ? cfg->version : "1.33", &a->persona, a->git_version, msg,
                          sizeof(msg))) {
        efk_err_at(err, "/version");
        rc = efk_err_set(err, -EINVAL, "%s", msg);
        goto fail;
    }
    a->insecure_authn = cfg->insecure_authn;
    snprintf(a->openapi_hash, sizeof(a->openapi_hash), "%016llX%016llX",
             (unsigned long long)rng_next(&a->rng), (unsigned long long)rng_next(&a->rng));
    a->body_cap = cfg->body_cap ? cfg->body_cap : APIS_BODY_CAP;
    a->watch_timeout_ns = cfg->watch_timeout_ns ? cfg->watch_timeout_ns : 1800 * EFK_NS_PER_S;
    a->bookmark_interval_ns = cfg->bookmark_interval_ns;
    apis_store_config sc = {.clock = rt->clock,
                            .seed = rt->seed,
                            .persona = a->persona,
                            .history_cap = cfg->history,
                            .max_objects = cfg->max_objects,
                            .max_watchers = cfg->max_watchers,
                            .watch_queue_cap = cfg->watch_queue,
                            .default_namespaces = cfg->default_namespaces};
    a->store = apis_store_new(&sc);
    a->auth = apis_auth_new(cfg->anonymous < 0 ? !a->persona->no_anonymous : cfg->anonymous != 0);
    a->routes = route_table_new();
    a->faults = fault_chain_new(rt->clock, rt->seed, "apiserver");
    if (!a->store || !a->auth || !a->routes || !a->faults) {
        rc = efk_err_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = add_identities(a, cfg, err)))
        goto fail;
    if ((rc = efk_apiserver_fault_actions(a->faults))) {
        efk_err_set(err, rc, "cannot register the apiserver's fault actions");
        goto fail;
    }
    char *jpath = NULL;
    if (rt->journal_files && rt->workdir) {
        char *dir = fs_join(rt->workdir, "journal");
        if (!dir || (rc = fs_mkdirs(dir, 0755, err))) {
            free(dir);
            rc = rc ? rc : -ENOMEM;
            goto fail;
        }
        jpath = fs_join(dir, "apiserver.ndjson");
        free(dir);
    }
    journal_config jc = {.cap = rt->journal_cap, .ndjson_path = jpath, .clock = rt->clock};
    rc = journal_new(&jc, &a->journal);
    free(jpath);
    if (rc) {
        efk_err_set(err, rc, "cannot open the apiserver journal");
        goto fail;
    }
    /* seed */
    size_t i;
    json_t *o;
    json_array_foreach(cfg->objects, i, o)
    {
        if ((rc = efk_apiserver_object_apply(a, o, err))) {
            char p[64];
            snprintf(p, sizeof(p), "/objects/%zu", i);
            if (!err || !err->pointer[0])
                efk_err_at(err, p);
            goto fail;
        }
    }
    if ((rc = http_route(a->routes, "*", "/{rest*}", handle, a))) {
        efk_err_set(err, rc, "cannot add the apiserver route");
        goto fail;
    }
    http_service_config svc = {.name = "apiserver",
                               .routes = a->routes,
                               .reject = reject_cb,
                               .reject_arg = a,
                               .journal = a->journal,
                               .faults = a->faults,
                               .clock = rt->clock,
                               .body_cap = a->body_cap};
    http_listener_config hl = {.name = "https",
                               .port = cfg->port,
                               .tls = true,
                               .cert_pem = rt->server_cert_pem,
                               .key_pem = rt->server_key_pem,
                               .trust_pem = rt->ca_pem};
    if ((rc = http_server_start(&svc, &hl, &a->https, err)))
        goto fail;
    snprintf(a->server_address, sizeof(a->server_address), "127.0.0.1:%u",
             http_server_port(a->https));
    if (cfg->insecure) {
        http_listener_config pl = {.name = "http", .port = cfg->insecure_port};
        if ((rc = http_server_start(&svc, &pl, &a->http, err)))
            goto fail;
    }
    *out = a;
    return 0;
fail:
    efk_apiserver_stop(a);
    return rc ? rc : -EINVAL;
}

void efk_apiserver_stop(efk_apiserver *a)
{
    if (!a)
        return;
    /* Listeners first: their streams end and release their watches. */
    http_server_stop(a->https);
    http_server_stop(a->http);
    apis_store_free(a->store);
    apis_auth_free(a->auth);
    route_table_free(a->routes);
    fault_chain_free(a->faults);
    journal_free(a->journal);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

const char *efk_apiserver_url(const efk_apiserver *a)
{
    return http_server_url(a->https);
}

const char *efk_apiserver_insecure_url(const efk_apiserver *a)
{
    return a->http ? http_server_url(a->http) : NULL;
}

const char *efk_apiserver_version(const efk_apiserver *a)
{
    return a->git_version;
}

journal *efk_apiserver_journal(efk_apiserver *a)
{
    return a->journal;
}

fault_chain *efk_apiserver_faults(efk_apiserver *a)
{
    return a->faults;
}

json_t *efk_apiserver_state_render(efk_apiserver *a)
{
    json_t *s = json_object();
    json_object_set_new(s, "version", json_string(a->git_version));
    json_object_set_new(s, "url", json_string(efk_apiserver_url(a)));
    if (a->http)
        json_object_set_new(s, "insecure_url", json_string(efk_apiserver_insecure_url(a)));
    json_object_set_new(s, "resourceVersion", json_integer((json_int_t)apis_store_rv(a->store)));
    json_object_set_new(s, "watches", json_integer((json_int_t)apis_store_watchers(a->store)));
    json_object_set_new(s, "watch_overflows",
                        json_integer((json_int_t)apis_store_watch_overflows(a->store)));
    json_t *ids = json_array();
    for (size_t i = 0; i < apis_auth_count(a->auth); i++)
        json_array_append_new(ids, apis_auth_describe(a->auth, i));
    json_object_set_new(s, "identities", ids);
    json_object_set_new(s, "objects", apis_store_render(a->store));
    return s;
}

/* ---- identities ---- */

size_t efk_apiserver_identity_count(efk_apiserver *a)
{
    return apis_auth_count(a->auth);
}

json_t *efk_apiserver_identity_at(efk_apiserver *a, size_t i)
{
    json_t *d = apis_auth_describe(a->auth, i);
    if (d)
        json_object_del(d, "rules");
    return d;
}

int efk_apiserver_token(efk_apiserver *a, const char *name, char **token)
{
    return apis_auth_token(a->auth, name, token);
}

int efk_apiserver_token_rotate(efk_apiserver *a, const char *name, char **token)
{
    char tok[64];
    pthread_mutex_lock(&a->mu);
    unsigned long n = ++a->rotations;
    pthread_mutex_unlock(&a->mu);
    gen_token(a->seed, name, n, tok);
    int rc = apis_auth_set_token(a->auth, name, tok);
    if (rc)
        return rc;
    if (token)
        *token = strdup(tok);
    return 0;
}

int efk_apiserver_identity_reject(efk_apiserver *a, const char *name, bool rejected)
{
    return apis_auth_set_rejected(a->auth, name, rejected);
}

/* ---- objects ---- */

static int status_to_err(json_t *st, efk_err *err)
{
    int code = apis_status_code(st);
    efk_err_set(err,
                code == 404   ? -ENOENT
                : code == 409 ? -EEXIST
                              : -EINVAL,
                "%s", apis_status_message(st));
    json_decref(st);
    return code == 404 ? -ENOENT : code == 409 ? -EEXIST : -EINVAL;
}

/* How a seed or timeline write treats an object that is (not) there. */
typedef enum write_mode {
    WRITE_APPLY,   /* create, or replace what is there */
    WRITE_CREATE,  /* create only: AlreadyExists when there */
    WRITE_REPLACE, /* replace only: NotFound when absent */
} write_mode;

static int write_obj(efk_apiserver *a, const json_t *obj, write_mode mode, efk_err *err)
{
    if (!json_is_object(obj))
        return efk_err_set(err, -EINVAL, "expected a Kubernetes object");
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    const apis_res *r = kind ? apis_res_by_kind(kind) : NULL;
    if (!r) {
        efk_err_at(err, "/kind");
        return efk_err_set(err, -EINVAL, "unknown kind \"%s\"", kind ? kind : "");
    }
    json_t *md = json_object_get(obj, "metadata");
    const char *name = json_string_value(json_object_get(md, "name"));
    const char *ns = json_string_value(json_object_get(md, "namespace"));
    if (r->namespaced && (!ns || !*ns))
        ns = "default";
    json_t *st = NULL;
    int rc = 409;
    if (mode != WRITE_REPLACE)
        rc = apis_store_create(a->store, r, r->namespaced ? ns : NULL, obj, APIS_ORIGIN_SEED, NULL,
                               &st);
    if (rc == 409 && name && mode != WRITE_CREATE) {
        json_decref(st);
        st = NULL;
        /* replace: an unconditional update that keeps status as given */
        json_t *copy = json_deep_copy(obj);
        json_object_del(json_object_get(copy, "metadata"), "resourceVersion");
        rc = apis_store_update(a->store, r, r->namespaced ? ns : NULL, name, copy,
                               APIS_ORIGIN_SEED, false, NULL, &st);
        json_decref(copy);
    }
    return rc ? status_to_err(st, err) : 0;
}

int efk_apiserver_object_apply(efk_apiserver *a, const json_t *obj, efk_err *err)
{
    return write_obj(a, obj, WRITE_APPLY, err);
}

int efk_apiserver_object_create(efk_apiserver *a, const json_t *obj, efk_err *err)
{
    return write_obj(a, obj, WRITE_CREATE, err);
}

int efk_apiserver_object_replace(efk_apiserver *a, const json_t *obj, efk_err *err)
{
    return write_obj(a, obj, WRITE_REPLACE, err);
}

int efk_apiserver_object_patch(efk_apiserver *a, const char *kind, const char *ns, const char *name,
                               const json_t *patch, efk_err *err)
{
    const apis_res *r = apis_res_find(kind);
    if (!r)
        return efk_err_set(err, -EINVAL, "unknown kind \"%s\"", kind);
    json_t *st = NULL;
    /* a timeline patch may change status: merge and store as a seed write */
    json_t *cur = NULL;
    if (apis_store_get(a->store, r, r->namespaced ? (ns ? ns : "default") : NULL, name, &cur, &st))
        return status_to_err(st, err);
    json_t *merged = apis_merge_patch(cur, patch);
    json_decref(cur);
    json_object_del(json_object_get(merged, "metadata"), "resourceVersion");
    int rc = apis_store_update(a->store, r, r->namespaced ? (ns ? ns : "default") : NULL, name,
                               merged, APIS_ORIGIN_SEED, false, NULL, &st);
    json_decref(merged);
    return rc ? status_to_err(st, err) : 0;
}

int efk_apiserver_object_delete(efk_apiserver *a, const char *kind, const char *ns,
                                const char *name, efk_err *err)
{
    const apis_res *r = apis_res_find(kind);
    if (!r)
        return efk_err_set(err, -EINVAL, "unknown kind \"%s\"", kind);
    json_t *st = NULL, *out = NULL;
    int rc = apis_store_delete(a->store, r, r->namespaced ? (ns ? ns : "default") : NULL, name,
                               NULL, NULL, &out, &st);
    json_decref(out);
    return rc ? status_to_err(st, err) : 0;
}

json_t *efk_apiserver_object_get(efk_apiserver *a, const char *kind, const char *ns,
                                 const char *name)
{
    const apis_res *r = apis_res_find(kind);
    if (!r)
        return NULL;
    json_t *out = NULL, *st = NULL;
    if (apis_store_get(a->store, r, r->namespaced ? (ns ? ns : "default") : NULL, name, &out,
                       &st)) {
        json_decref(st);
        return NULL;
    }
    return out;
}

long efk_apiserver_object_count(efk_apiserver *a, const char *kind, const char *ns,
                                const char *label_selector)
{
    const apis_res *r = apis_res_find(kind);
    if (!r)
        return -EINVAL;
    apis_selector sel;
    char err[256];
    if (apis_label_selector_parse(label_selector, &sel, err, sizeof(err)))
        return -EINVAL;
    apis_list_opts o = {.ns = ns, .labels = &sel};
    apis_list l;
    json_t *st = NULL;
    long n = -EINVAL;
    if (!apis_store_list(a->store, r, &o, &l, &st)) {
        n = (long)l.n;
        apis_list_cleanup(&l);
    }
    json_decref(st);
    apis_selector_cleanup(&sel);
    return n;
}

uint64_t efk_apiserver_resource_version(efk_apiserver *a)
{
    return apis_store_rv(a->store);
}

size_t efk_apiserver_watch_count(efk_apiserver *a)
{
    return apis_store_watchers(a->store);
}
