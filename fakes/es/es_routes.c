/*
 * es_routes.c - the HTTP surface of the fake Elasticsearch.
 *
 * Every handler starts with begin(): the compatible-with media types (an
 * 8.x persona answers a compatible-with=7 request in the 7.x shape), the
 * optional security check (401 security_exception with WWW-Authenticate),
 * the "es_reject" domain fault, and the strict Content-Type check of 6.x+.
 * Answers carry X-Elastic-Product from 7.14 on, and the content type the
 * request asked for.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <ctype.h>

#include "core/duration.h"

#include "es_json.h"
#include "es_query.h"
#include "es_reply.h"
#include "es_server.h"

/* Templates and lifecycle policies kept at most (each kind). */
#define ES_MAX_TEMPLATES 1000

typedef struct ctx {
    efk_es *es;
    http_req *req;
    http_resp *resp;
    es_persona p;
    int compat; /* compatible-with asked for, 0 when none */
    bool head;
} ctx;

#define LIT(b, s) buf_append(b, s, sizeof(s) - 1)

/* ------------------------------------------------------------ answers */

static void set_headers(ctx *c, const char *content_type)
{
    if (c->p.product_header)
        http_resp_header(c->resp, "X-Elastic-Product", "Elasticsearch");
    if (content_type) {
        http_resp_header(c->resp, "Content-Type", content_type);
    } else if (c->compat) {
        char ct[96];
        snprintf(ct, sizeof(ct), "application/vnd.elasticsearch+json;compatible-with=%d",
                 c->compat);
        http_resp_header(c->resp, "Content-Type", ct);
    } else {
        http_resp_header(c->resp, "Content-Type", "application/json; charset=UTF-8");
    }
}

/* The body is already in the response buffer. */
static void send_raw(ctx *c, int status, const char *content_type)
{
    http_resp_status(c->resp, status);
    set_headers(c, content_type);
}

static void send_json(ctx *c, int status, json_t *j)
{
    buf *b = http_resp_buf(c->resp);
    buf_reset(b);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!s || buf_puts(b, s)) {
        free(s);
        buf_reset(b);
        http_resp_text(c->resp, 500, "text/plain", "out of memory\n");
        return;
    }
    free(s);
    send_raw(c, status, NULL);
}

static void send_error(ctx *c, int status, const char *type, const char *reason, const char *extra)
{
    buf *b = http_resp_buf(c->resp);
    buf_reset(b);
    if (es_error_render(b, status, type, reason, extra, NULL))
        buf_reset(b);
    send_raw(c, status, NULL);
}

static void send_index_missing(ctx *c, const char *name, const char *rtype)
{
    char reason[600];
    snprintf(reason, sizeof(reason), "no such index [%s]", name);
    buf x;
    buf_init(&x, 0);
    int rc = buf_printf(&x, ",\"resource.type\":\"%s\",\"resource.id\":", rtype);
    rc = rc ? rc : es_json_put_str(&x, name, strlen(name));
    rc = rc ? rc : buf_puts(&x, ",\"index_uuid\":\"_na_\",\"index\":");
    rc = rc ? rc : es_json_put_str(&x, name, strlen(name));
    send_error(c, 404, "index_not_found_exception", reason, rc ? NULL : x.data);
    buf_cleanup(&x);
}

/* ------------------------------------------------------------ begin */

static const char *req_uri(http_req *req, char *out, size_t outsz)
{
    const char *q = http_req_query(req);
    snprintf(out, outsz, "%s%s%s", http_req_path(req), *q ? "?" : "", q);
    return out;
}

static bool b64_decode(const char *in, char *out, size_t outsz)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (const char *p = in; *p && *p != '='; p++) {
        const char *f = strchr(tbl, *p);
        if (!f || !*p)
            return false;
        acc = (acc << 6) | (uint32_t)(f - tbl);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= outsz)
                return false;
            out[o++] = (char)((acc >> bits) & 0xFF);
        }
    }
    out[o] = '\0';
    return true;
}

static void send_401(ctx *c, const char *reason)
{
    static const char *const basic = "Basic realm=\"security\" charset=\"UTF-8\"";
    buf x;
    buf_init(&x, 0);
    int rc;
    bool v8 = c->p.major >= 8;
    if (v8)
        rc = buf_puts(&x, ",\"header\":{\"WWW-Authenticate\":[\"Basic realm=\\\"security\\\" "
                          "charset=\\\"UTF-8\\\"\",\"Bearer realm=\\\"security\\\"\",\"ApiKey\"]}");
    else
        rc = buf_puts(&x, ",\"header\":{\"WWW-Authenticate\":\"Basic realm=\\\"security\\\" "
                          "charset=\\\"UTF-8\\\"\"}");
    buf *b = http_resp_buf(c->resp);
    buf_reset(b);
    if (rc || es_error_render(b, 401, "security_exception", reason, x.data, NULL))
        buf_reset(b);
    buf_cleanup(&x);
    http_resp_status(c->resp, 401);
    http_resp_header(c->resp, "WWW-Authenticate", basic);
    if (v8) {
        http_resp_header(c->resp, "WWW-Authenticate", "Bearer realm=\"security\"");
        http_resp_header(c->resp, "WWW-Authenticate", "ApiKey");
    }
    /* a 401 is sent before the product is known: no X-Elastic-Product */
    http_resp_header(c->resp, "Content-Type", "application/json; charset=UTF-8");
}

static bool authenticate(ctx *c)
{
    efk_es *es = c->es;
    if (!es->nusers && !es->napi_keys)
        return true;
    char uri[1024], reason[2400];
    req_uri(c->req, uri, sizeof(uri));
    const char *h = http_req_header(c->req, "Authorization");
    if (!h || !*h) {
        snprintf(reason, sizeof(reason), "missing authentication %s for REST request [%s]",
                 c->p.major >= 7 ? "credentials" : "token", uri);
        send_401(c, reason);
        return false;
    }
    char dec[512];
    if (strncasecmp(h, "Basic ", 6) == 0 && b64_decode(h + 6, dec, sizeof(dec))) {
        char *colon = strchr(dec, ':');
        if (colon) {
            *colon = '\0';
            for (size_t i = 0; i < es->nusers; i++)
                if (strcmp(es->users[i].user, dec) == 0 &&
                    strcmp(es->users[i].secret, colon + 1) == 0)
                    return true;
        }
        snprintf(reason, sizeof(reason), "unable to authenticate user [%s] for REST request [%s]",
                 dec, uri);
        send_401(c, reason);
        return false;
    }
    if (strncasecmp(h, "ApiKey ", 7) == 0 && b64_decode(h + 7, dec, sizeof(dec))) {
        char *colon = strchr(dec, ':');
        if (colon) {
            *colon = '\0';
            for (size_t i = 0; i < es->napi_keys; i++)
                if (strcmp(es->api_keys[i].user, dec) == 0 &&
                    strcmp(es->api_keys[i].secret, colon + 1) == 0)
                    return true;
        }
    }
    snprintf(reason, sizeof(reason),
             "unable to authenticate with provided credentials and anonymous access is not allowed "
             "for this request");
    send_401(c, reason);
    return false;
}

static void send_reject_kind(ctx *c, const char *kind)
{
    char reason[1400];
    if (strcmp(kind, "too_large") == 0) {
        buf_reset(http_resp_buf(c->resp));
        http_resp_status(c->resp, 413);
        return;
    }
    if (strcmp(kind, "proxy_html") == 0) {
        http_resp_text(c->resp, 502, "text/html",
                       "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                       "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
                       "</body>\r\n</html>\r\n");
        return;
    }
    if (strcmp(kind, "security") == 0) {
        char uri[1024];
        snprintf(reason, sizeof(reason), "missing authentication %s for REST request [%s]",
                 c->p.major >= 7 ? "credentials" : "token", req_uri(c->req, uri, sizeof(uri)));
        send_401(c, reason);
        return;
    }
    size_t len = 0;
    http_req_body(c->req, &len);
    if (strcmp(kind, "circuit_breaking") == 0) {
        unsigned long long limit = 1020054732ULL, want = limit + len;
        snprintf(reason, sizeof(reason),
                 "[parent] Data too large, data for [<http_request>] would be [%llu/%.1fgb], which "
                 "is larger than the limit of [%llu/%.1fgb], real usage: [%llu/%.1fgb], new bytes "
                 "reserved: [%zu/%.1fkb], usages [request=0/0b, fielddata=0/0b, "
                 "in_flight_requests=%zu/%.1fkb, accounting=0/0b]",
                 want, want / 1073741824.0, limit, limit / 1073741824.0, limit,
                 limit / 1073741824.0, len, len / 1024.0, len, len / 1024.0);
        char extra[200];
        snprintf(extra, sizeof(extra),
                 ",\"bytes_wanted\":%llu,\"bytes_limit\":%llu,"
                 "\"durability\":\"TRANSIENT\"",
                 want, limit);
        send_error(c, 429, "circuit_breaking_exception", reason, extra);
        return;
    }
    if (strcmp(kind, "no_master") == 0) {
        send_error(c, 503, "cluster_block_exception",
                   "blocked by: [SERVICE_UNAVAILABLE/2/no master];", NULL);
        return;
    }
    if (strcmp(kind, "unavailable") == 0) {
        snprintf(
            reason, sizeof(reason),
            "[_all][0] primary shard is not active Timeout: [1m], request: [BulkShardRequest]");
        send_error(c, 503, "unavailable_shards_exception", reason, NULL);
        return;
    }
    /* rejected_execution */
    if (c->p.major > 7 || (c->p.major == 7 && c->p.minor >= 9))
        snprintf(
            reason, sizeof(reason),
            "rejected execution of coordinating operation [coordinating_and_primary_bytes=%zu, "
            "replica_bytes=0, all_bytes=%zu, coordinating_operation_bytes=%zu, "
            "max_coordinating_and_primary_bytes=107374182]",
            (size_t)107374182 - len / 2, (size_t)107374182 - len / 2, len);
    else
        snprintf(
            reason, sizeof(reason),
            "rejected execution of org.elasticsearch.transport.TransportService$7@3b1a2f0e on "
            "EsThreadPoolExecutor[bulk, queue capacity = 200, org.elasticsearch.common.util."
            "concurrent.EsThreadPoolExecutor@5e1b0c2a[Running, pool size = 2, active threads = "
            "2, queued tasks = 200, completed tasks = 81924]]");
    send_error(c, 429, "es_rejected_execution_exception", reason, NULL);
}

static bool media_type_ok(const char *ct, int major)
{
    if (!ct)
        return false;
    char t[128];
    size_t n = strcspn(ct, ";");
    snprintf(t, sizeof(t), "%.*s", (int)n, ct);
    for (char *p = t; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    char *e = t + strlen(t);
    while (e > t && e[-1] == ' ')
        *--e = '\0';
    static const char *const ok[] = {"application/json",
                                     "application/x-ndjson",
                                     "application/smile",
                                     "application/cbor",
                                     "application/yaml",
                                     "application/vnd.elasticsearch+json",
                                     "application/vnd.elasticsearch+x-ndjson",
                                     NULL};
    for (size_t i = 0; ok[i]; i++)
        if (strcmp(t, ok[i]) == 0)
            return i < 5 || major >= 7;
    return false;
}

static bool begin(efk_es *es, http_req *req, http_resp *resp, ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->es = es;
    c->req = req;
    c->resp = resp;
    c->head = strcmp(http_req_method(req), "HEAD") == 0;
    const char *ct = http_req_header(req, "Content-Type");
    const char *accept = http_req_header(req, "Accept");
    int compat = es_compat_version(ct, accept);
    es_persona_for_request(&es->persona, compat > 0 ? compat : 0, &c->p);
    if (compat != 0) {
        int maj = es->persona.major;
        bool ok = compat > 0 && (compat == maj || (maj >= 8 && compat == maj - 1));
        if (!ok) {
            char reason[800], caused[1200];
            snprintf(reason, sizeof(reason),
                     "Invalid media-type value on headers [Content-Type, Accept]");
            buf cb;
            buf_init(&cb, 0);
            char msg[900];
            if (compat < 0)
                snprintf(msg, sizeof(msg),
                         "A compatible version is required on both Content-Type and Accept headers "
                         "if either one has requested a compatible version and the compatible "
                         "versions must match. Accept=%s, Content-Type=%s",
                         accept ? accept : "null", ct ? ct : "null");
            else
                snprintf(msg, sizeof(msg),
                         "Accept version must be either version %d or %d, but found %d. Accept=%s",
                         maj, maj - 1, compat, accept ? accept : "null");
            int rc = buf_puts(&cb, "{\"type\":\"status_exception\",\"reason\":");
            rc = rc ? rc : es_json_put_str(&cb, msg, strlen(msg));
            rc = rc ? rc : buf_puts(&cb, "}");
            snprintf(caused, sizeof(caused), "%s", rc ? "{}" : cb.data);
            buf_cleanup(&cb);
            buf *b = http_resp_buf(resp);
            buf_reset(b);
            if (es_error_render(b, 400, "media_type_header_exception", reason, NULL, caused))
                buf_reset(b);
            c->compat = 0;
            send_raw(c, 400, NULL);
            return false;
        }
        c->compat = compat;
    }
    if (!authenticate(c))
        return false;
    const fault_rule *fr = http_req_fault(req, NULL);
    if (fr && fr->domain && strcmp(fr->domain, "es_reject") == 0) {
        http_req_fault_applied(req);
        send_reject_kind(c, json_string_value(json_object_get(fr->params, "kind")));
        return false;
    }
    size_t blen = 0;
    http_req_body(req, &blen);
    if (blen > 0 && es->persona.major >= 6 && !media_type_ok(ct, es->persona.major)) {
        char msg[400];
        buf *b = http_resp_buf(resp);
        buf_reset(b);
        snprintf(msg, sizeof(msg), "Content-Type header [%s] is not supported", ct ? ct : "");
        int rc = buf_puts(b, "{\"error\":");
        rc = rc ? rc : es_json_put_str(b, msg, strlen(msg));
        rc = rc ? rc : buf_puts(b, ",\"status\":406}");
        (void)rc;
        send_raw(c, 406, NULL);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ reject */

void es_reject(void *arg, http_req *req, int status, const char *detail, http_resp *resp)
{
    efk_es *es = arg;
    ctx c;
    memset(&c, 0, sizeof(c));
    c.es = es;
    c.req = req;
    c.resp = resp;
    c.p = es->persona;
    char msg[1200];
    buf *b = http_resp_buf(resp);
    buf_reset(b);
    if (status == 413) {
        /* ES answers an over-long body with 413 and nothing else */
        http_resp_status(resp, 413);
        return;
    }
    if (status == 405) {
        snprintf(msg, sizeof(msg),
                 "Incorrect HTTP method for uri [%s] and method [%s], allowed: [%s]",
                 http_req_path(req), http_req_method(req), detail ? detail : "");
        int rc = buf_puts(b, "{\"error\":");
        rc = rc ? rc : es_json_put_str(b, msg, strlen(msg));
        rc = rc ? rc : buf_puts(b, ",\"status\":405}");
        (void)rc;
        send_raw(&c, 405, NULL);
        return;
    }
    if (status == 400 && detail && strstr(detail, "gzip")) {
        send_error(&c, 400, "illegal_argument_exception", detail, NULL);
        return;
    }
    /* no route: ES says so with a 400 and a plain string */
    char uri[1024];
    snprintf(msg, sizeof(msg), "no handler found for uri [%s] and method [%s]",
             req_uri(req, uri, sizeof(uri)), http_req_method(req));
    int rc = buf_puts(b, "{\"error\":");
    rc = rc ? rc : es_json_put_str(b, msg, strlen(msg));
    rc = rc ? rc : buf_puts(b, ",\"status\":400}");
    (void)rc;
    send_raw(&c, 400, NULL);
}

/* ------------------------------------------------------------ / */

static void h_root(void *arg, http_req *req, http_resp *resp)
{
    ctx c;
    if (!begin(arg, req, resp, &c))
        return;
    efk_es *es = c.es;
    const es_persona *p = &es->persona;
    json_t *v = json_object();
    json_object_set_new(v, "number", json_string(p->number));
    if (p->major >= 6) {
        json_object_set_new(v, "build_flavor", json_string("default"));
        json_object_set_new(v, "build_type", json_string(p->major >= 7 ? "docker" : "tar"));
    }
    json_object_set_new(v, "build_hash", json_string(p->build_hash));
    json_object_set_new(v, p->major <= 2 ? "build_timestamp" : "build_date",
                        json_string(p->build_date));
    json_object_set_new(v, "build_snapshot", json_false());
    json_object_set_new(v, "lucene_version", json_string(p->lucene));
    if (p->min_wire) {
        json_object_set_new(v, "minimum_wire_compatibility_version", json_string(p->min_wire));
        json_object_set_new(v, "minimum_index_compatibility_version", json_string(p->min_index));
    }
    json_t *root = json_pack("{ss ss ss so ss}", "name", es->node_name, "cluster_name",
                             es->cluster_name, "cluster_uuid", es->cluster_uuid, "version", v,
                             "tagline", "You Know, for Search");
    send_json(&c, 200, root);
}

/* ------------------------------------------------------------ _bulk */

static void h_bulk(void *arg, http_req *req, http_resp *resp)
{
    efk_es *es = arg;
    ctx c;
    int64_t start = clock_mono_ns(es->clock);
    if (!begin(es, req, resp, &c))
        return;
    const char *index = http_req_capture(req, "index");
    const char *type = http_req_capture(req, "type");
    if (type && c.p.type_rejected) {
        es_reject(es, req, 404, NULL, resp);
        return;
    }
    size_t len = 0;
    const char *body = http_req_body(req, &len);
    if (len == 0 && c.p.major >= 6) {
        send_error(&c, 400, "parse_exception", "request body is required", NULL);
        return;
    }
    /* the item fault this request carries, if any */
    es_item_rule rule;
    uint32_t positions[1000];
    size_t nrules = 0;
    es_rule_state *rs = NULL;
    const fault_rule *fr = http_req_fault(req, NULL);
    if (fr && fr->domain && strcmp(fr->domain, "es_items") == 0 &&
        (rs = es_rule_state_get(es, fr->id)) != NULL) {
        memset(&rule, 0, sizeof(rule));
        const json_t *pm = fr->params;
        rule.status = (int)json_integer_value(json_object_get(pm, "status"));
        rule.type = json_string_value(json_object_get(pm, "type"));
        rule.reason = json_string_value(json_object_get(pm, "reason"));
        rule.index_glob = json_string_value(json_object_get(pm, "index"));
        json_t *pos = json_object_get(pm, "positions");
        size_t i;
        json_t *x;
        json_array_foreach (pos, i, x) {
            if (rule.npositions < sizeof(positions) / sizeof(positions[0]))
                positions[rule.npositions++] = (uint32_t)json_integer_value(x);
        }
        rule.positions = positions;
        json_t *every = json_object_get(pm, "every");
        rule.every = every ? (uint64_t)json_integer_value(every) : 0;
        json_t *prob = json_object_get(pm, "probability");
        rule.probability = prob ? json_number_value(prob) : -1;
        rule.counter = &rs->counter;
        rule.failed = &rs->failed;
        rule.rng = &rs->rng;
        nrules = 1;
        http_req_fault_applied(req);
    }
    es_bulk_env env = {.store = es->store,
                       .ids = &es->ids,
                       .acct = es->acct,
                       .clock = es->clock,
                       .node_name = es->node_name};
    es_bulk_req br = {.body = body,
                      .len = len,
                      .index = index,
                      .type = type,
                      .persona = &c.p,
                      .rules = nrules ? &rule : NULL,
                      .nrules = nrules,
                      .start_ns = start};
    buf *out = http_resp_buf(resp);
    buf_reset(out);
    int st = es_bulk_run(&env, &br, out, NULL);
    if (st < 0) {
        buf_reset(out);
        http_resp_text(resp, 500, "text/plain", "out of memory\n");
        return;
    }
    send_raw(&c, st, NULL);
}

/* ------------------------------------------------------------ indices */

static bool is_pattern(const char *s)
{
    return strchr(s, '*') || strchr(s, '?');
}

/* Resolve an index expression under the store lock into a new array.
 * Returns 0, or -ENOENT with the missing concrete name in `missing`. */
static int resolve(efk_es *es, const char *expr, es_index ***out, size_t *n, char *missing,
                   size_t msz)
{
    size_t total = es_store_index_count(es->store);
    es_index **all = calloc(total ? total : 1, sizeof(*all));
    es_index **sel = calloc(total ? total : 1, sizeof(*sel));
    if (!all || !sel) {
        free(all);
        free(sel);
        return -ENOMEM;
    }
    total = es_store_index_list(es->store, all, total);
    size_t k = 0;
    if (!expr || !*expr || strcmp(expr, "_all") == 0 || strcmp(expr, "*") == 0) {
        for (size_t i = 0; i < total; i++)
            if (all[i]->name[0] != '.' || (expr && strcmp(expr, "*") != 0))
                sel[k++] = all[i];
        if (!expr || !*expr || strcmp(expr, "_all") == 0) {
            k = 0;
            for (size_t i = 0; i < total; i++)
                sel[k++] = all[i];
        }
    } else {
        char *copy = strdup(expr);
        char *save = NULL;
        for (char *part = copy ? strtok_r(copy, ",", &save) : NULL; part;
             part = strtok_r(NULL, ",", &save)) {
            if (is_pattern(part)) {
                for (size_t i = 0; i < total; i++) {
                    if (fnmatch(part, all[i]->name, 0) != 0)
                        continue;
                    if (all[i]->name[0] == '.' && part[0] != '.')
                        continue;
                    bool dup = false;
                    for (size_t j = 0; j < k; j++)
                        dup = dup || sel[j] == all[i];
                    if (!dup)
                        sel[k++] = all[i];
                }
            } else {
                es_index *ix = es_store_index_get(es->store, part, strlen(part));
                if (!ix) {
                    snprintf(missing, msz, "%s", part);
                    free(copy);
                    free(all);
                    free(sel);
                    return -ENOENT;
                }
                bool dup = false;
                for (size_t j = 0; j < k; j++)
                    dup = dup || sel[j] == ix;
                if (!dup)
                    sel[k++] = ix;
            }
        }
        free(copy);
    }
    free(all);
    *out = sel;
    *n = k;
    return 0;
}

static int shards_of(const es_persona *p)
{
    return p->major >= 7 ? 1 : 5;
}

static int replicas_of(const es_index *ix)
{
    json_t *r = json_object_get(json_object_get(ix->settings, "index"), "number_of_replicas");
    if (!r)
        r = json_object_get(ix->settings, "number_of_replicas");
    if (!r)
        r = json_object_get(ix->settings, "index.number_of_replicas");
    if (json_is_integer(r))
        return (int)json_integer_value(r);
    if (json_is_string(r))
        return atoi(json_string_value(r));
    return 1;
}

static json_t *index_settings(efk_es *es, const es_index *ix)
{
    char created[32], vcreated[32];
    snprintf(created, sizeof(created), "%lld", (long long)ix->created_ms);
    const es_persona *p = &es->persona;
    snprintf(vcreated, sizeof(vcreated), "%d%02d%02d99", p->major, p->minor, p->patch);
    char shards[8], reps[8];
    snprintf(shards, sizeof(shards), "%d", shards_of(p));
    snprintf(reps, sizeof(reps), "%d", replicas_of(ix));
    return json_pack("{s{ss ss ss ss s{ss} ss}}", "index", "creation_date", created,
                     "number_of_shards", shards, "number_of_replicas", reps, "uuid", ix->uuid,
                     "version", "created", vcreated, "provided_name", ix->name);
}

/* "/_bulk" and friends also match "/{index}": as ES does, a method the
 * endpoint lacks is a 405 naming the ones it has, not an index lookup. */
static bool endpoint_methods(efk_es *es, http_req *req, http_resp *resp)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD"};
    char allowed[64] = "";
    for (size_t i = 0; i < 5; i++) {
        route_match m;
        memset(&m, 0, sizeof(m));
        if (route_match_path(es->routes, methods[i], http_req_path(req), &m) == 0) {
            if (strcmp(m.pattern, "/{index}") != 0) {
                if (*allowed)
                    strcat(allowed, ", ");
                strcat(allowed, methods[i]);
            }
            route_match_cleanup(&m);
        }
    }
    if (!*allowed)
        return false;
    es_reject(es, req, 405, allowed, resp);
    return true;
}

static void h_index(void *arg, http_req *req, http_resp *resp)
{
    efk_es *es = arg;
    ctx c;
    if (!begin(es, req, resp, &c))
        return;
    const char *name = http_req_capture(req, "index");
    const char *m = http_req_method(req);
    if (name[0] == '_' && endpoint_methods(es, req, resp))
        return;
    if (strcmp(m, "PUT") == 0) {
        char reason[600];
        if (es_index_name_check(&c.p, name, strlen(name), reason, sizeof(reason))) {
            char extra[600];
            snprintf(extra, sizeof(extra), ",\"index_uuid\":\"_na_\",\"index\":\"%s\"", name);
            send_error(&c, 400, "invalid_index_name_exception", reason, extra);
            return;
        }
        size_t len = 0;
        const char *body = http_req_body(req, &len);
        json_t *j = NULL;
        if (len) {
            es_check chk =
                es_json_check(body, len, &(es_check_opts){.dup_keys = c.p.dup_keys}, NULL);
            if (chk == ES_CHECK_SYNTAX || chk == ES_CHECK_DUP_KEY) {
                es_jerr e;
                buf *b = http_resp_buf(resp);
                buf_reset(b);
                if (es_json_explain(body, len, c.p.dup_keys, es_persona_src_desc(&c.p), &e) &&
                    es_parse_error_render(&c.p, &e, body, len, b) == 0) {
                    send_raw(&c, 400, NULL);
                    return;
                }
            }
            j = json_loadb(body, len, 0, NULL);
        }
        es_store_wrlock(es->store);
        es_index *ix = NULL;
        int rc = es_store_full(es->store) ? -ENOSPC
                                          : es_store_index_add(es->store, name, strlen(name), &ix);
        char uuid[24] = "";
        if (rc == 0 || rc == -EEXIST)
            snprintf(uuid, sizeof(uuid), "%s", ix->uuid);
        if (rc == 0 && json_is_object(j)) {
            json_t *s = json_object_get(j, "settings");
            if (json_is_object(s))
                json_object_update(ix->settings, s);
            json_t *mp = json_object_get(j, "mappings");
            if (json_is_object(mp))
                json_object_update(ix->mappings, mp);
            json_t *al = json_object_get(j, "aliases");
            if (json_is_object(al))
                json_object_update(ix->aliases, al);
        }
        es_store_unlock(es->store);
        json_decref(j);
        if (rc == -EEXIST) {
            char reason2[600], extra[600];
            snprintf(reason2, sizeof(reason2), "index [%s/%s] already exists", name, uuid);
            snprintf(extra, sizeof(extra), ",\"index_uuid\":\"%s\",\"index\":\"%s\"", uuid, name);
            send_error(&c, 400,
                       c.p.major >= 6 ? "resource_already_exists_exception"
                                      : "index_already_exists_exception",
                       reason2, extra);
            return;
        }
        if (rc == -ENOSPC) {
            send_error(&c, c.p.major >= 7 ? 429 : 403, "cluster_block_exception",
                       c.p.major >= 7 ? "blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded "
                                        "flood-stage watermark, index has read-only-allow-delete "
                                        "block];"
                                      : "blocked by: [FORBIDDEN/12/index read-only / allow delete "
                                        "(api)];",
                       NULL);
            return;
        }
        if (rc) {
            send_error(&c, 500, "out_of_memory_error", "efksim could not create the index", NULL);
            return;
        }
        if (c.p.major >= 6)
            send_json(&c, 200,
                      json_pack("{sb sb ss}", "acknowledged", 1, "shards_acknowledged", 1, "index",
                                name));
        else if (c.p.major == 5)
            send_json(&c, 200, json_pack("{sb sb}", "acknowledged", 1, "shards_acknowledged", 1));
        else
            send_json(&c, 200, json_pack("{sb}", "acknowledged", 1));
        return;
    }
    bool del = strcmp(m, "DELETE") == 0;
    if (del)
        es_store_wrlock(es->store);
    else
        es_store_rdlock(es->store);
    es_index **sel = NULL;
    size_t n = 0;
    char missing[300] = "";
    int rc = resolve(es, name, &sel, &n, missing, sizeof(missing));
    if (rc == -ENOENT) {
        es_store_unlock(es->store);
        if (c.head) {
            http_resp_status(resp, 404);
            set_headers(&c, NULL);
            return;
        }
        send_index_missing(&c, missing, "index_or_alias");
        return;
    }
    if (rc) {
        es_store_unlock(es->store);
        send_error(&c, 500, "out_of_memory_error", "efksim ran out of memory", NULL);
        return;
    }
    if (del) {
        if (c.p.major >= 8 && is_pattern(name) && n > 0) {
            es_store_unlock(es->store);
            free(sel);
            send_error(&c, 400, "illegal_argument_exception",
                       "Wildcard expressions or all indices are not allowed", NULL);
            return;
        }
        for (size_t i = 0; i < n; i++)
            es_store_index_del(es->store, sel[i]);
        es_store_unlock(es->store);
        free(sel);
        send_json(&c, 200, json_pack("{sb}", "acknowledged", 1));
        return;
    }
    if (c.head) {
        es_store_unlock(es->store);
        free(sel);
        http_resp_status(resp, n ? 200 : 404);
        set_headers(&c, NULL);
        return;
    }
    json_t *out = json_object();
    for (size_t i = 0; i < n; i++) {
        es_index *ix = sel[i];
        json_object_set_new(out, ix->name,
                            json_pack("{sO sO so}", "aliases", ix->aliases, "mappings",
                                      ix->mappings, "settings", index_settings(es, ix)));
    }
    es_store_unlock(es->store);
    free(sel);
    send_json(&c, 200, out);
}

static void h_refresh(void *arg, http_req *req, http_resp *resp)
{
    efk_es *es = arg;
    ctx c;
    if (!begin(es, req, resp, &c))
        return;
    const char *name = http_req_capture(req, "index");
    es_store_rdlock(es->store);
    es_index **sel = NULL;
    size_t n = 0;
    char missing[300];
    int rc = resolve(es, name, &sel, &n, missing, sizeof(missing));
    int total = 0;
    for (size_t i = 0; i < n; i++)
        total += shards_of(&c.p) * (1 + replicas_of(sel[i]));
    int ok = (int)n * shards_of(&c.p);
    es_store_unlock(es->store);
    free(sel);
    if (rc == -ENOENT) {
        send_index_missing(&c, missing, "index_or_alias");
        return;
    }
    send_json(&c, 200,
              json_pack("{s{si si si}}", "_shards", "total", total, "successful", ok, "failed", 0));
}

/* ------------------------------------------------------------ search */

typedef struct hit {
    es_index *ix;
    es_doc *doc;
    json_t *sortv; /* array of sort values, or NULL */
    size_t order;
} hit;

static const es_sort_key *g_keys; /* qsort context: set under the store read lock */
static size_t g_nkeys;
static pthread_mutex_t g_sort_lock = PTHREAD_MUTEX_INITIALIZER;

static int hit_cmp(const void *a, const void *b)
{
    const hit *x = a, *y = b;
    for (size_t i = 0; i < g_nkeys; i++) {
        if (strcmp(g_keys[i].field, "_doc") == 0 || strcmp(g_keys[i].field, "_score") == 0)
            continue;
        int c =
            es_sort_cmp(json_array_get(x->sortv, i), json_array_get(y->sortv, i), g_keys[i].desc);
        if (c)
            return c;
    }
    return x->order < y->order ? -1 : x->order > y->order;
}

static long arg_long(http_req *req, const char *k, long dflt)
{
    const char *v = req ? http_req_arg(req, k) : NULL;
    return v && *v ? strtol(v, NULL, 10) : dflt;
}

/* Run a search (or count). Writes the answer body to out and returns the
 * status. `req` may be NULL (the C API). */
static int search_run(efk_es *es, const es_persona *p, http_req *req, const char *expr,
                      const json_t *body, bool count_only, buf *out)
{
    int64_t start = clock_mono_ns(es->clock);
    char type[64], reason[600];
    const json_t *query = body ? json_object_get(body, "query") : NULL;
    buf_reset(out);
    if (body && !json_is_object(body)) {
        int rc = es_error_render(out, 400, "parsing_exception",
                                 "Unknown key for a VALUE_STRING in [query].", NULL, NULL);
        return rc ? rc : 400;
    }
    if (es_query_check(query, type, sizeof(type), reason, sizeof(reason))) {
        int rc = es_error_render(out, 400, type, reason, NULL, NULL);
        return rc ? rc : 400;
    }
    if (req && http_req_arg(req, "q")) {
        int rc = es_error_render(out, 400, "illegal_argument_exception",
                                 "efksim does not support the q= query string; send a query body",
                                 NULL, NULL);
        return rc ? rc : 400;
    }
    long from = arg_long(req, "from", 0), size = arg_long(req, "size", 10);
    if (body && json_is_integer(json_object_get(body, "from")))
        from = (long)json_integer_value(json_object_get(body, "from"));
    if (body && json_is_integer(json_object_get(body, "size")))
        size = (long)json_integer_value(json_object_get(body, "size"));
    if (from < 0 || size < 0) {
        int rc = es_error_render(out, 400, "illegal_argument_exception",
                                 from < 0 ? "[from] parameter cannot be negative"
                                          : "[size] parameter cannot be negative, found [-1]",
                                 NULL, NULL);
        return rc ? rc : 400;
    }
    if (!count_only && from + size > 10000) {
        snprintf(
            reason, sizeof(reason),
            "Result window is too large, from + size must be less than or equal to: [10000] "
            "but was [%ld]. See the scroll api for a more efficient way to request large data "
            "sets. This limit can be set by changing the [index.max_result_window] index level "
            "setting.",
            from + size);
        int rc = es_error_render(out, 400, "illegal_argument_exception", reason, NULL, NULL);
        return rc ? rc : 400;
    }
    es_sort_key *keys = NULL;
    size_t nkeys = 0;
    json_t *sort_spec = body ? json_object_get(body, "sort") : NULL;
    json_t *url_sort = NULL;
    if (!sort_spec && req && http_req_arg(req, "sort")) {
        /* sort=field:desc,other */
        url_sort = json_array();
        char *copy = strdup(http_req_arg(req, "sort"));
        char *save = NULL;
        for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t;
             t = strtok_r(NULL, ",", &save)) {
            char *colon = strchr(t, ':');
            if (colon) {
                *colon = '\0';
                json_array_append_new(url_sort, json_pack("{ss}", t, colon + 1));
            } else {
                json_array_append_new(url_sort, json_string(t));
            }
        }
        free(copy);
        sort_spec = url_sort;
    }
    if (!count_only && es_sort_parse(sort_spec, &keys, &nkeys, reason, sizeof(reason))) {
        json_decref(url_sort);
        es_sort_free(keys, nkeys);
        int rc = es_error_render(out, 400, "parsing_exception", reason, NULL, NULL);
        return rc ? rc : 400;
    }
    json_decref(url_sort);
    bool want_source = true;
    json_t *src_opt = body ? json_object_get(body, "_source") : NULL;
    if (json_is_false(src_opt))
        want_source = false;
    bool match_all = es_query_is_match_all(query);

    es_store_rdlock(es->store);
    es_index **sel = NULL;
    size_t n = 0;
    char missing[300];
    int rc = resolve(es, expr, &sel, &n, missing, sizeof(missing));
    if (rc) {
        es_store_unlock(es->store);
        es_sort_free(keys, nkeys);
        if (rc == -ENOENT) {
            char r2[400], extra[800];
            snprintf(r2, sizeof(r2), "no such index [%s]", missing);
            snprintf(extra, sizeof(extra),
                     ",\"resource.type\":\"index_or_alias\",\"resource.id\":\"%s\","
                     "\"index_uuid\":\"_na_\",\"index\":\"%s\"",
                     missing, missing);
            rc = es_error_render(out, 404, "index_not_found_exception", r2, extra, NULL);
            return rc ? rc : 404;
        }
        return rc;
    }
    uint64_t total = 0;
    hit *hits = NULL;
    size_t nhits = 0, cap = 0;
    int shards = 0;
    for (size_t i = 0; i < n; i++) {
        es_index *ix = sel[i];
        shards += shards_of(p);
        if (match_all && (count_only || (!nkeys && (size_t)(from + size) <= nhits))) {
            total += ix->live;
            continue;
        }
        if (es_store_accounting_only(es->store)) {
            /* nothing kept to look into: counts only */
            if (match_all)
                total += ix->live;
            continue;
        }
        for (size_t d = 0; d < ix->ndocs; d++) {
            es_doc *doc = &ix->docs[d];
            if (!doc->live)
                continue;
            json_t *parsed = NULL;
            if (!match_all) {
                parsed = json_loadb(es_doc_src(doc), doc->src_len, 0, NULL);
                if (!parsed || !es_query_match(query, parsed, es_doc_id(doc), doc->id_len)) {
                    json_decref(parsed);
                    continue;
                }
            }
            total++;
            if (count_only) {
                json_decref(parsed);
                continue;
            }
            /* keep only what can be shown: everything when sorting */
            if (!nkeys && nhits >= (size_t)(from + size)) {
                json_decref(parsed);
                continue;
            }
            if (nhits == cap) {
                size_t nc = cap ? cap * 2 : 64;
                hit *nh = realloc(hits, nc * sizeof(*nh));
                if (!nh) {
                    json_decref(parsed);
                    continue;
                }
                hits = nh;
                cap = nc;
            }
            hit *h = &hits[nhits];
            h->ix = ix;
            h->doc = doc;
            h->order = nhits;
            h->sortv = NULL;
            if (nkeys) {
                if (!parsed)
                    parsed = json_loadb(es_doc_src(doc), doc->src_len, 0, NULL);
                h->sortv = json_array();
                for (size_t k = 0; k < nkeys; k++)
                    json_array_append_new(h->sortv, parsed ? es_sort_value(parsed, keys[k].field)
                                                           : json_null());
            }
            nhits++;
            json_decref(parsed);
        }
    }
    if (nkeys && nhits > 1) {
        pthread_mutex_lock(&g_sort_lock);
        g_keys = keys;
        g_nkeys = nkeys;
        qsort(hits, nhits, sizeof(*hits), hit_cmp);
        pthread_mutex_unlock(&g_sort_lock);
    }
    int64_t took = (clock_mono_ns(es->clock) - start) / 1000000;
    rc = 0;
    if (count_only) {
        rc = buf_printf(out,
                        "{\"count\":%llu,\"_shards\":{\"total\":%d,\"successful\":%d,"
                        "\"skipped\":0,\"failed\":0}}",
                        (unsigned long long)total, shards, shards);
    } else {
        bool with_type = p->major <= 7 || p->compat7;
        bool as_int = !p->total_as_object ||
                      (req && http_req_arg(req, "rest_total_hits_as_int") &&
                       strcmp(http_req_arg(req, "rest_total_hits_as_int"), "false") != 0);
        rc = buf_printf(out,
                        "{\"took\":%lld,\"timed_out\":false,\"_shards\":{\"total\":%d,"
                        "\"successful\":%d,%s\"failed\":0},\"hits\":{\"total\":",
                        (long long)took, shards, shards, p->major >= 5 ? "\"skipped\":0," : "");
        json_t *tth = body ? json_object_get(body, "track_total_hits") : NULL;
        bool exact = json_is_true(tth) || !p->total_as_object;
        uint64_t shown_total = total;
        const char *relation = "eq";
        if (!exact && total > 10000) {
            shown_total = 10000;
            relation = "gte";
        }
        if (!rc && as_int)
            rc = buf_printf(out, "%llu", (unsigned long long)total);
        else if (!rc)
            rc = buf_printf(out, "{\"value\":%llu,\"relation\":\"%s\"}",
                            (unsigned long long)shown_total, relation);
        bool any = (size_t)from < nhits && size > 0;
        rc = rc ? rc
                : buf_puts(out, nkeys || !total ? ",\"max_score\":null,\"hits\":["
                                                : ",\"max_score\":1.0,\"hits\":[");
        (void)any;
        for (size_t i = (size_t)from; !rc && i < nhits && i < (size_t)(from + size); i++) {
            hit *h = &hits[i];
            if (i > (size_t)from)
                rc = LIT(out, ",");
            rc = rc ? rc : LIT(out, "{\"_index\":");
            rc = rc ? rc : es_json_put_str(out, h->ix->name, h->ix->name_len);
            if (with_type) {
                const char *t = p->compat7 ? "_doc" : h->ix->types[h->doc->type];
                rc = rc ? rc : LIT(out, ",\"_type\":");
                rc = rc ? rc : es_json_put_str(out, t, strlen(t));
            }
            rc = rc ? rc : LIT(out, ",\"_id\":");
            rc = rc ? rc : es_json_put_str(out, es_doc_id(h->doc), h->doc->id_len);
            rc = rc ? rc : (nkeys ? LIT(out, ",\"_score\":null") : LIT(out, ",\"_score\":1.0"));
            if (want_source) {
                rc = rc ? rc : LIT(out, ",\"_source\":");
                rc = rc ? rc : buf_append(out, es_doc_src(h->doc), h->doc->src_len);
            }
            if (nkeys) {
                char *sv = json_dumps(h->sortv, JSON_COMPACT | JSON_ENCODE_ANY);
                rc = rc ? rc : LIT(out, ",\"sort\":");
                rc = rc ? rc : buf_puts(out, sv ? sv : "[]");
                free(sv);
            }
            rc = rc ? rc : LIT(out, "}");
        }
        rc = rc ? rc : LIT(out, "]}}");
    }
    es_store_unlock(es->store);
    for (size_t i = 0; i < nhits; i++)
        json_decref(hits[i].sortv);
    free(hits);
    free(sel);
    es_sort_free(keys, nkeys);
    return rc ? rc : 200;
}

static void h_search(void *arg, http_req *req, http_resp *resp)
{
    efk_es *es = arg;
    ctx c;
    if (!begin(es, req, resp, &c))
        return;
    bool count = strstr(http_req_path(req), "/_count") != NULL;
    size_t len = 0;
    const char *b = http_req_body(req, &len);
    json_t *body = NULL;
    if (len) {
        es_check chk = es_json_check(b, len, &(es_check_opts){.dup_keys = c.p.dup_keys}, NULL);
        if (chk == ES_CHECK_SYNTAX || chk == ES_CHECK_DUP_KEY) {
            es_jerr e;
            buf *ob = http_resp_buf(resp);
            buf_reset(ob);
            if (es_json_explain(b, len, c.p.dup_keys, es_persona_src_desc(&c.p), &e) &&
                es_parse_error_render(&c.p, &e, b, len, ob) == 0) {
                send_raw(&c, 400, NULL);
                return;
            }
        }
        body = json_loadb(b, len, JSON_DECODE_ANY, NULL);
    }
    buf *out = http_resp_buf(resp);
    int st = search_run(es, &c.p, req, http_req_capture(req, "index"), body, count, out);
    json_decref(body);
    if (st < 0) {
        http_resp_text(resp, 500, "text/plain", "out of memory\n");
        return;
    }
    send_raw(&c, st, NULL);
}

int efk_es_count(efk_es *es, const char *index, const json_t *query, uint64_t *count, efk_err *err)
{
    json_t *body = query ? json_pack("{sO}", "query", query) : NULL;
    buf out;
    buf_init(&out, 0);
    int st = search_run(es, &es->persona, NULL, index, body, true, &out);
    json_decref(body);
    int rc = 0;
    if (st == 200) {
        json_t *j = json_loads(out.data, 0, NULL);
        *count = (uint64_t)json_integer_value(json_object_get(j, "count"));
        json_decref(j);
    } else {
        json_t *j = json_loads(out.data ? out.data : "", 0, NULL);
        const char *reason =
            json_string_value(json_object_get(json_object_get(j, "error"), "reason"));
        rc = efk_err_set(err, st == 404 ? -ENOENT : (st < 0 ? st : -EINVAL), "%s",
                         reason ? reason : "search failed");
        json_decref(j);
    }
    buf_cleanup(&out);
    return rc;
}

json_t *efk_es_search(efk_es *es, const char *index, const json_t *body, efk_err *err)
{
    buf out;
    buf_init(&out, 0);
    int st = search_run(es, &es->persona, NULL, index, body, false, &out);
    json_t *j = st > 0 ? json_loads(out.data, 0, NULL) : NULL;
    if (st != 200) {
        const char *reason =
            json_string_value(json_object_get(json_object_get(j, "error"), "reason"));
        efk_err_set(err, st == 404 ? -ENOENT : -EINVAL, "%s", reason ? reason : "search failed");
        json_decref(j);
        j = NULL;
    }
    buf_cleanup(&out);
    return j;
}

/* ------------------------------------------------------------ documents */

static void h_doc_get(void *arg, http_req *req, http_resp *resp)
{
    efk_es *es = arg;
    ctx c;
    if (!begin(es, req, resp, &c))
        return;
    const char *name = http_req_capture(req, "index");
    const char *type = http_req_capture(req, "type");
    const char *id = http_req_capture(req, "id");
    es_store_wrlock(es->store); /* a lookup may index recent docs */
    es_index *ix = es_store_index_get(es->store, name, strlen(name));
    if (!ix) {
        es_store_unlock(es->store);
        send_index_missing(&c, name, "index_expression");
        return;
    }
    int t = 0;
    if (c.p.multi_type)
        t = es_index_type(ix, type, strlen(type), false);
    es_doc *d = t >= 0 ? es_index_doc_get(es->store, ix, t, id, strlen(id)) : NULL;
    buf *out = http_resp_buf(resp);
    buf_reset(out);
    bool with_type = c.p.major <= 7 || c.p.compat7;
    const char *tname =
        c.p.compat7 || !ix->ntypes ? "_doc" : (c.p.multi_type ? type : ix->types[0]);
    int rc = LIT(out, "{\"_index\":");
    rc = rc ? rc : es_json_put_str(out, ix->name, ix->name_len);
    if (with_type) {
        rc = rc ? rc : LIT(out, ",\"_type\":");
        rc = rc ? rc : es_json_put_str(out, tname, strlen(tname));
    }
    rc = rc ? rc : LIT(out, ",\"_id\":");
    rc = rc ? rc : es_json_put_str(out, id, strlen(id));
    bool found = d && d->live;
    if (found) {
        rc = rc ? rc : buf_printf(out, ",\"_version\":%lld", (long long)d->version);
        if (c.p.major >= 6)
            rc =
                rc ? rc
                   : buf_printf(out, ",\"_seq_no\":%lld,\"_primary_term\":1", (long long)d->seq_no);
        rc = rc ? rc : LIT(out, ",\"found\":true,\"_source\":");
        rc = rc ? rc : buf_append(out, es_doc_src(d), d->src_len);
        rc = rc ? rc : LIT(out, "}");
    } else {
        rc = rc ? rc : LIT(out, ",\"found\":false}");
    }
    es_store_unlock(es->store);
    if (rc) {
        http_resp_text(resp, 500, "text/plain", "out of memory\n");
        return;
    }
    send_raw(&c, found ? 200 : 404, NULL);
}

/* PUT/POST /{index}/_doc[/{id}] (and /{index}/{type}[/{id}] before 8.x):
 * one document through the bulk engine, answered as the index API does. */
static void h_doc_put(void *arg, http_req *req, http_resp *resp)
{
    efk_es *es = arg;
    ctx c;
    int64_t start = clock_mono_ns(es->clock);
    if (!begin(es, req, resp, &c))
        return;
    const char *name = http_req_capture(req, "index");
    const char *type = http_req_capture(req, "type");
    const char *id = http_req_capture(req, "id");
    if (type && strcmp(type, "_doc") != 0 && strcmp(type, "_create") != 0 && c.p.type_rejected) {
        es_reject(es, req, 404, NULL, resp);
        return;
    }
    bool create =
        (type && strcmp(type, "_create") == 0) ||
        (http_req_arg(req, "op_type") && strcmp(http_req_arg(req, "op_type"), "create") == 0);
    size_t len = 0;
    const char *body = http_req_body(req, &len);
    if (len == 0) {
        send_error(&c, 400, "parse_exception", "request body is required", NULL);
        return;
    }
    buf nd;
    buf_init(&nd, 0);
    int rc = buf_printf(&nd, "{\"%s\":{", create ? "create" : "index");
    if (id) {
        rc = rc ? rc : LIT(&nd, "\"_id\":");
        rc = rc ? rc : es_json_put_str(&nd, id, strlen(id));
    }
    rc = rc ? rc : LIT(&nd, "}}\n");
    if (memchr(body, '\n', len)) {
        /* a pretty-printed document: make it one line */
        json_t *j = json_loadb(body, len, 0, NULL);
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
        rc = rc ? rc : (s ? buf_puts(&nd, s) : buf_append(&nd, "{bad", 4));
        free(s);
        json_decref(j);
    } else {
        rc = rc ? rc : buf_append(&nd, body, len);
    }
    rc = rc ? rc : LIT(&nd, "\n");
    const char *t = type && strcmp(type, "_doc") != 0 && strcmp(type, "_create") != 0 ? type : NULL;
    es_bulk_env env = {.store = es->store,
                       .ids = &es->ids,
                       .acct = es->acct,
                       .clock = es->clock,
                       .node_name = es->node_name};
    es_bulk_req br = {.body = nd.data,
                      .len = nd.len,
                      .index = name,
                      .type = t,
                      .persona = &c.p,
                      .start_ns = start};
    buf out;
    buf_init(&out, 0);
    int st = rc ? rc : es_bulk_run(&env, &br, &out, NULL);
    buf_cleanup(&nd);
    json_t *j = st > 0 ? json_loads(out.data, 0, NULL) : NULL;
    buf_cleanup(&out);
    if (st != 200 || !j) {
        /* a request-level error: pass it on */
        if (j)
            send_json(&c, st, j);
        else
            http_resp_text(resp, 500, "text/plain", "out of memory\n");
        return;
    }
    json_t *it = json_array_get(json_object_get(j, "items"), 0);
    json_t *res = json_object_iter_value(json_object_iter(it));
    int status = (int)json_integer_value(json_object_get(res, "status"));
    json_t *err = json_object_get(res, "error");
    if (err) {
        json_t *e = json_pack("{s[O]sO}", "root_cause", err, "type", json_object_get(err, "type"));
        const char *k;
        json_t *v;
        json_object_foreach (err, k, v)
            if (strcmp(k, "type"))
                json_object_set(e, k, v);
        json_t *top = json_pack("{sosi}", "error", e, "status", status);
        json_decref(j);
        send_json(&c, status, top);
        return;
    }
    json_t *ans = json_deep_copy(res);
    json_object_del(ans, "status");
    json_object_del(ans, "found");
    json_decref(j);
    send_json(&c, status, ans);
}

/* ------------------------------------------------------------ cat & health */

static void fmt_bytes(uint64_t b, char *out, size_t sz)
{
    static const char *const u[] = {"b", "kb", "mb", "gb", "tb"};
    double v = (double)b;
    int i = 0;
    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    if (i == 0 || v == (double)(uint64_t)v)
        snprintf(out, sz, "%llu%s", (unsigned long long)v, u[i]);
    else
        snprintf(out, sz, "%.1f%s", v, u[i]);
}

static const char *health_of(efk_es *es, const es_index *ix)
{
    (void)es;
    return replicas_of(ix) > 0 ? "yellow" : "green";
}

typedef struct table {
    size_t ncols, nrows;
    const char *cols[16];
    bool numeric[16];
    char *cells[4096][16];
} table;

static void cat_render(ctx *c, table *t)
{
    http_req *req = c->req;
    const char *fmt = http_req_arg(req, "format");
    const char *h = http_req_arg(req, "h");
    bool verbose = http_req_arg(req, "v") && strcmp(http_req_arg(req, "v"), "false") != 0;
    int sel[16];
    size_t nsel = 0;
    if (h && *h) {
        char *copy = strdup(h);
        char *save = NULL;
        for (char *p = copy ? strtok_r(copy, ",", &save) : NULL; p && nsel < 16;
             p = strtok_r(NULL, ",", &save))
            for (size_t i = 0; i < t->ncols; i++)
                if (strcmp(t->cols[i], p) == 0)
                    sel[nsel++] = (int)i;
        free(copy);
    } else {
        for (size_t i = 0; i < t->ncols; i++)
            sel[nsel++] = (int)i;
    }
    buf *out = http_resp_buf(c->resp);
    buf_reset(out);
    int rc = 0;
    if (fmt && strcmp(fmt, "json") == 0) {
        json_t *arr = json_array();
        for (size_t r = 0; r < t->nrows; r++) {
            json_t *o = json_object();
            for (size_t k = 0; k < nsel; k++)
                json_object_set_new(o, t->cols[sel[k]], json_string(t->cells[r][sel[k]]));
            json_array_append_new(arr, o);
        }
        send_json(c, 200, arr);
        return;
    }
    size_t w[16] = {0};
    for (size_t k = 0; k < nsel; k++) {
        if (verbose)
            w[k] = strlen(t->cols[sel[k]]);
        for (size_t r = 0; r < t->nrows; r++)
            if (strlen(t->cells[r][sel[k]]) > w[k])
                w[k] = strlen(t->cells[r][sel[k]]);
    }
    for (size_t r = verbose ? 0 : 1; !rc && r < t->nrows + 1; r++) {
        for (size_t k = 0; !rc && k < nsel; k++) {
            const char *v = r == 0 ? t->cols[sel[k]] : t->cells[r - 1][sel[k]];
            bool right = r > 0 && t->numeric[sel[k]];
            int pad = (int)(w[k] - strlen(v));
            rc = buf_printf(out, "%s%*s%s%*s", k ? " " : "", right ? pad : 0, "", v,
                            right || k + 1 == nsel ? 0 : pad, "");
        }
        rc = rc ? rc : buf_puts(out, "\n");
    }
    send_raw(c, 200, "text/plain; charset=UTF-8");
}

static void table_free(table *t)
{
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t k = 0; k < t->ncols; k++)
            free(t->cells[r][k]);
}

static void h_cat_indices(void *arg, http_req *req, http_resp *resp)
{
    efk_es *es = arg;
    ctx c;
    if (!begin(es, req, resp, &c))
        return;
    table *t = calloc(1, sizeof(*t));
    if (!t) {
        http_resp_text(resp, 500, "text/plain", "out of memory\n");
        return;
    }
    static const char *const cols[] = {"health",     "status",        "index",      "uuid",
                                       "pri",        "rep",           "docs.count", "docs.deleted",
                                       "store.size", "pri.store.size"};
    t->ncols = 10;
    for (size_t i = 0; i < t->ncols; i++) {
        t->cols[i] = cols[i];
        t->numeric[i] = i >= 4;
    }
    es_store_rdlock(es->store);
    es_index **sel = NULL;
    size_t n = 0;
    char missing[300];
    int rc = resolve(es, http_req_capture(req, "index"), &sel, &n, missing, sizeof(missing));
    bool raw = http_req_arg(req, "bytes") && strcmp(http_req_arg(req, "bytes"), "b") == 0;
    for (size_t i = 0; i < n && t->nrows < 4096; i++) {
        es_index *ix = sel[i];
        char v[10][64];
        snprintf(v[0], 64, "%s", health_of(es, ix));
        snprintf(v[1], 160, "open");
        snprintf(v[3], 160, "%s", ix->uuid);
        snprintf(v[4], 160, "%d", shards_of(&c.p));
        snprintf(v[5], 160, "%d", replicas_of(ix));
        snprintf(v[6], 160, "%llu", (unsigned long long)ix->live);
        snprintf(v[7], 160, "%llu", (unsigned long long)ix->deleted);
        if (raw)
            snprintf(v[8], 160, "%llu", (unsigned long long)ix->src_bytes);
        else
            fmt_bytes(ix->src_bytes, v[8], 64);
        snprintf(v[9], 160, "%s", v[8]);
        for (size_t k = 0; k < 10; k++)
            t->cells[t->nrows][k] = strdup(k == 2 ? ix->name : v[k]);
        t->nrows++;
    }
    es_store_unlock(es->store);
    free(sel);
    if (rc == -ENOENT)
        send_index_missing(&c, missing, "index_or_alias");
    else
        cat_render(&c, t);
    table_free(t);
    free(t);
}

typedef struct health {
    const char *status;
    int pri, active, unassigned;
    size_t nindices;
} health;

static void health_get(efk_es *es, const es_persona *p, health *h)
{
    memset(h, 0, sizeof(*h));
    h->status = "green";
    es_store_rdlock(es->store);
    size_t n = es_store_index_count(es->store);
    es_index **list = calloc(n ? n : 1, sizeof(*list));
    if (list)
        n = es_store_index_list(es->store, list, n);
    for (size_t i = 0; list && i < n; i++) {
        int s = shards_of(p);
        h->pri += s;
        h->active += s;
        h->unassigned += s * replicas_of(list[i]);
        if (replicas_of(list[i]) > 0)
            h->status = "yellow";
    }
    h->nindices = n;
    es_store_unlock(es->store);
    free(list);
}

static void h_cat_health(void *arg, http_req *req, http_resp *resp)
{
    efk_es *es = arg;
    ctx c;
    if (!begin(es, req, resp, &c))
        return;
    health h;
    health_get(es, &c.p, &h);
    table *t = calloc(1, sizeof(*t));
    if (!t)
        return;
    static const char *const cols[] = {"epoch",
                                       "timestamp",
                                       "cluster",
                                       "status",
                                       "node.total",
                                       "node.data",
                                       "shards",
                                       "pri",
                                       "relo",
                                       "init",
                                       "unassign",
                                       "pending_tasks",
                                       "max_task_wait_time",
                                       "active_shards_percent"};
    t->ncols = 14;
    for (size_t i = 0; i < t->ncols; i++) {
        t->cols[i] = cols[i];
        t->numeric[i] = i != 2 && i != 3;
    }
    int64_t now = clock_wall_ns(es->clock) / 1000000000;
    time_t tt = (time_t)now;
    struct tm tm;
    gmtime_r(&tt, &tm);
    char v[14][160];
    snprintf(v[0], 160, "%lld", (long long)now);
    snprintf(v[1], 160, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
    snprintf(v[2], 160, "%s", es->cluster_name);
    snprintf(v[3], 160, "%s", h.status);
    snprintf(v[4], 160, "1");
    snprintf(v[5], 160, "1");
    snprintf(v[6], 160, "%d", h.active);
    snprintf(v[7], 160, "%d", h.pri);
    snprintf(v[8], 160, "0");
    snprintf(v[9], 160, "0");
    snprintf(v[10], 160, "%d", h.unassigned);
    snprintf(v[11], 160, "0");
    snprintf(v[12], 160, "-");
    double pct = h.active + h.unassigned ? 100.0 * h.active / (h.active + h.unassigned) : 100.0;
    snprintf(v[13], 160, "%.1f%%", pct);
    for (size_t k = 0; k < 14; k++)
        t->cells[0][k] = strdup(v[k]);
    t->nrows = 1;
    cat_render(&c, t);
    table_free(t);
    free(t);
}

static int status_rank(const char *s)
{
    return strcmp(s, "green") == 0 ? 2 : strcmp(s, "yellow") == 0 ? 1 : 0;
}

static void h_cluster_health(void *arg, http_req *req, http_resp *resp)
{
    efk_es *es = arg;
    ctx c;
    if (!begin(es, req, resp, &c))
        return;
    const char *want = http_req_arg(req, "wait_for_status");
    int64_t timeout_ns = 30 * EFK_NS_PER_S;
    const char *to = http_req_arg(req, "timeout");
    if (to && duration_parse(to, &timeout_ns) != 0) {
        char reason[300];
        snprintf(reason, sizeof(reason),
                 "failed to parse setting [timeout] with value [%s] as a time value: unit is "
                 "missing or unrecognized",
                 to);
        send_error(&c, 400, "illegal_argument_exception", reason, NULL);
        return;
    }
    if (want && status_rank(want) == 0 && strcmp(want, "red") != 0) {
        char reason[300];
        snprintf(reason, sizeof(reason), "unknown cluster health status [%s]", want);
        send_error(&c, 400, "illegal_argument_exception", reason, NULL);
        return;
    }
    health h;
    health_get(es, &c.p, &h);
    bool timed_out = false;
    if (want) {
        int64_t deadline = clock_mono_ns(es->clock) + timeout_ns;
        while (status_rank(h.status) < status_rank(want)) {
            if (clock_mono_ns(es->clock) >= deadline || !http_server_is_up(es->http)) {
                timed_out = true;
                break;
            }
            /* the state changes only through other requests: look again soon */
            int64_t next = clock_mono_ns(es->clock) + 50 * EFK_NS_PER_MS;
            es->clock->sleep_until(es->clock, next < deadline ? next : deadline);
            health_get(es, &c.p, &h);
        }
    }
    double pct = h.active + h.unassigned ? 100.0 * h.active / (h.active + h.unassigned) : 100.0;
    json_t *j = json_pack(
        "{ss ss sb si si si si si si si si si si si sf}", "cluster_name", es->cluster_name,
        "status", h.status, "timed_out", timed_out, "number_of_nodes", 1, "number_of_data_nodes", 1,
        "active_primary_shards", h.pri, "active_shards", h.active, "relocating_shards", 0,
        "initializing_shards", 0, "unassigned_shards", h.unassigned, "delayed_unassigned_shards", 0,
        "number_of_pending_tasks", 0, "number_of_in_flight_fetch", 0,
        "task_max_waiting_in_queue_millis", 0, "active_shards_percent_as_number", pct);
    send_json(&c, timed_out ? 408 : 200, j);
}

/* ------------------------------------------------------------ templates */

static void h_template(void *arg, http_req *req, http_resp *resp)
{
    efk_es *es = arg;
    ctx c;
    if (!begin(es, req, resp, &c))
        return;
    bool composable = strncmp(http_req_path(req), "/_index_template", 16) == 0;
    json_t *store = composable ? es->index_templates : es->templates;
    const char *name = http_req_capture(req, "name");
    const char *m = http_req_method(req);
    pthread_mutex_lock(&es->meta_lock);
    if (strcmp(m, "PUT") == 0 || strcmp(m, "POST") == 0) {
        size_t len = 0;
        const char *b = http_req_body(req, &len);
        json_t *j = len ? json_loadb(b, len, 0, NULL) : NULL;
        if (!json_is_object(j)) {
            pthread_mutex_unlock(&es->meta_lock);
            json_decref(j);
            send_error(&c, 400, "parse_exception",
                       len ? "failed to parse template source" : "request body is required", NULL);
            return;
        }
        if (!json_object_get(store, name) && json_object_size(store) >= ES_MAX_TEMPLATES) {
            pthread_mutex_unlock(&es->meta_lock);
            json_decref(j);
            send_error(&c, 400, "illegal_argument_exception",
                       "efksim keeps at most 1000 templates of each kind", NULL);
            return;
        }
        json_object_set_new(store, name, j);
        pthread_mutex_unlock(&es->meta_lock);
        send_json(&c, 200, json_pack("{sb}", "acknowledged", 1));
        return;
    }
    if (strcmp(m, "DELETE") == 0) {
        int rc = json_object_del(store, name);
        pthread_mutex_unlock(&es->meta_lock);
        if (rc) {
            char reason[400];
            if (composable) {
                snprintf(reason, sizeof(reason), "index_template [%s] missing", name);
                send_error(&c, 404, "resource_not_found_exception", reason, NULL);
            } else {
                snprintf(reason, sizeof(reason), "index_template [%s] missing", name);
                send_error(&c, 404, "index_template_missing_exception", reason, NULL);
            }
            return;
        }
        send_json(&c, 200, json_pack("{sb}", "acknowledged", 1));
        return;
    }
    /* GET / HEAD, a name, a pattern or all */
    json_t *found = composable ? json_array() : json_object();
    const char *k;
    json_t *v;
    json_object_foreach (store, k, v) {
        if (name && fnmatch(name, k, 0) != 0)
            continue;
        if (composable)
            json_array_append_new(found, json_pack("{ss sO}", "name", k, "index_template", v));
        else
            json_object_set(found, k, v);
    }
    pthread_mutex_unlock(&es->meta_lock);
    size_t n = composable ? json_array_size(found) : json_object_size(found);
    if (c.head) {
        json_decref(found);
        http_resp_status(resp, n || !name ? 200 : 404);
        set_headers(&c, NULL);
        return;
    }
    if (!n && name && !is_pattern(name)) {
        json_decref(found);
        if (composable) {
            char reason[400];
            snprintf(reason, sizeof(reason), "index template matching [%s] not found", name);
            send_error(&c, 404, "resource_not_found_exception", reason, NULL);
        } else {
            send_json(&c, 404, json_object());
        }
        return;
    }
    if (composable)
        send_json(&c, 200, json_pack("{so}", "index_templates", found));
    else
        send_json(&c, 200, found);
}

static void h_ilm(void *arg, http_req *req, http_resp *resp)
{
    efk_es *es = arg;
    ctx c;
    if (!begin(es, req, resp, &c))
        return;
    const char *name = http_req_capture(req, "name");
    const char *m = http_req_method(req);
    pthread_mutex_lock(&es->meta_lock);
    if (strcmp(m, "PUT") == 0) {
        size_t len = 0;
        const char *b = http_req_body(req, &len);
        json_t *j = len ? json_loadb(b, len, 0, NULL) : json_object();
        json_t *pol = json_is_object(j) ? json_object_get(j, "policy") : NULL;
        if (!json_object_get(es->ilm, name) && json_object_size(es->ilm) >= ES_MAX_TEMPLATES) {
            pthread_mutex_unlock(&es->meta_lock);
            json_decref(j);
            send_error(&c, 400, "illegal_argument_exception",
                       "efksim keeps at most 1000 lifecycle policies", NULL);
            return;
        }
        json_object_set_new(es->ilm, name,
                            json_pack("{si ss sO}", "version", 1, "modified_date",
                                      "2024-01-01T00:00:00.000Z", "policy",
                                      pol ? pol : json_object()));
        json_decref(j);
        pthread_mutex_unlock(&es->meta_lock);
        send_json(&c, 200, json_pack("{sb}", "acknowledged", 1));
        return;
    }
    json_t *p = name ? json_object_get(es->ilm, name) : NULL;
    json_t *ans = NULL;
    if (p)
        ans = json_pack("{sO}", name, p);
    else if (!name)
        ans = json_deep_copy(es->ilm);
    pthread_mutex_unlock(&es->meta_lock);
    if (!ans) {
        char reason[300];
        snprintf(reason, sizeof(reason), "Lifecycle policy not found: %s", name);
        send_error(&c, 404, "resource_not_found_exception", reason, NULL);
        return;
    }
    send_json(&c, 200, ans);
}

/* ------------------------------------------------------------ cluster info */

static void h_nodes(void *arg, http_req *req, http_resp *resp)
{
    efk_es *es = arg;
    ctx c;
    if (!begin(es, req, resp, &c))
        return;
    const es_persona *p = &es->persona;
    json_t *roles = p->major >= 7 ? json_pack("[ssss]", "data", "ingest", "master", "ml")
                                  : json_pack("[sss]", "master", "data", "ingest");
    json_t *node = json_pack("{ss ss ss ss ss ss ss so s{} s{s[s] ss sI}}", "name", es->node_name,
                             "transport_address", "127.0.0.1:9300", "host", "127.0.0.1", "ip",
                             "127.0.0.1", "version", p->number, "build_flavor", "default",
                             "build_hash", p->build_hash, "roles", roles, "attributes", "http",
                             "bound_address", es->publish, "publish_address", es->publish,
                             "max_content_length_in_bytes", (json_int_t)es->max_content_length);
    json_t *nodes = json_object();
    json_object_set_new(nodes, es->node_id, node);
    send_json(&c, 200,
              json_pack("{s{si si si} ss so}", "_nodes", "total", 1, "successful", 1, "failed", 0,
                        "cluster_name", es->cluster_name, "nodes", nodes));
}

static void h_license(void *arg, http_req *req, http_resp *resp)
{
    efk_es *es = arg;
    ctx c;
    if (!begin(es, req, resp, &c))
        return;
    char uid[40];
    snprintf(uid, sizeof(uid), "%.8s-%.4s-4%.3s-a%.3s-%.12s", es->cluster_uuid, es->node_id,
             es->node_id + 4, es->node_id + 7, es->node_id + 10);
    send_json(&c, 200,
              json_pack("{s{ss ss ss ss sI si ss ss sI}}", "license", "status", "active", "uid",
                        uid, "type", "basic", "issue_date", "2024-01-01T00:00:00.000Z",
                        "issue_date_in_millis", (json_int_t)1704067200000LL, "max_nodes", 1000,
                        "issued_to", es->cluster_name, "issuer", "elasticsearch",
                        "start_date_in_millis", (json_int_t)-1));
}

static void h_xpack(void *arg, http_req *req, http_resp *resp)
{
    efk_es *es = arg;
    ctx c;
    if (!begin(es, req, resp, &c))
        return;
    const es_persona *p = &es->persona;
    static const struct {
        const char *name;
        bool available, enabled;
    } feats[] = {{"ccr", false, true},       {"enrich", true, true},    {"graph", false, true},
                 {"ilm", true, true},        {"logstash", false, true}, {"ml", false, true},
                 {"monitoring", true, true}, {"rollup", true, true},    {"security", true, false},
                 {"slm", true, true},        {"sql", true, true},       {"transform", true, true},
                 {"watcher", false, true}};
    json_t *f = json_object();
    for (size_t i = 0; i < sizeof(feats) / sizeof(feats[0]); i++)
        json_object_set_new(
            f, feats[i].name,
            json_pack("{sb sb}", "available", feats[i].available, "enabled",
                      feats[i].name[0] == 's' && strcmp(feats[i].name, "security") == 0
                          ? (es->nusers || es->napi_keys)
                          : feats[i].enabled));
    char uid[40];
    snprintf(uid, sizeof(uid), "%.8s-%.4s-4%.3s-a%.3s-%.12s", es->cluster_uuid, es->node_id,
             es->node_id + 4, es->node_id + 7, es->node_id + 10);
    send_json(&c, 200,
              json_pack("{s{ss ss} s{ss ss ss ss} so ss}", "build", "hash", p->build_hash, "date",
                        p->build_date, "license", "uid", uid, "type", "basic", "mode", "basic",
                        "status", "active", "features", f, "tagline", "You know, for X"));
}

/* ------------------------------------------------------------ /_efksim/delivery */

static void h_delivery(void *arg, http_req *req, http_resp *resp)
{
    efk_es *es = arg;
    const char *m = http_req_method(req);
    if (strcmp(m, "GET") == 0) {
        const char *stream = http_req_arg(req, "stream");
        long max = arg_long(req, "max_ranges", 1000);
        http_resp_json(resp, 200, es_acct_render(es->acct, stream, max > 0 ? (size_t)max : 1000));
        return;
    }
    if (strcmp(m, "DELETE") == 0) {
        es_acct_reset(es->acct);
        http_resp_json(resp, 200, json_pack("{sb}", "reset", 1));
        return;
    }
    /* POST/PUT {"expected": {"stream": N}} */
    size_t len = 0;
    const char *b = http_req_body(req, &len);
    json_error_t je;
    json_t *j = json_loadb(b, len, 0, &je);
    json_t *exp = json_object_get(j, "expected");
    if (!json_is_object(exp)) {
        json_decref(j);
        http_resp_json(resp, 400,
                       json_pack("{ss ss}", "error",
                                 "expected a body {\"expected\": {\"<stream>\": <lines>}}",
                                 "pointer", "/expected"));
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach (exp, k, v) {
        char ptr[128];
        snprintf(ptr, sizeof(ptr), "/expected/%s", k);
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            es_acct_set_expected(es->acct, k, (uint64_t)json_integer_value(v))) {
            json_decref(j);
            http_resp_json(resp, 400,
                           json_pack("{ss ss}", "error",
                                     "expected a stream name [A-Za-z0-9._-]{1,64} with "
                                     "a line count",
                                     "pointer", ptr));
            return;
        }
    }
    json_decref(j);
    http_resp_json(resp, 200, es_acct_render(es->acct, NULL, 0));
}

/* ------------------------------------------------------------ table */

int es_routes_add(efk_es *es)
{
    static const struct {
        const char *method, *pattern;
        http_handler h;
    } R[] = {
        {"GET", "/", h_root},
        {"HEAD", "/", h_root},
        {"POST", "/_bulk", h_bulk},
        {"PUT", "/_bulk", h_bulk},
        {"POST", "/{index}/_bulk", h_bulk},
        {"PUT", "/{index}/_bulk", h_bulk},
        {"POST", "/{index}/{type}/_bulk", h_bulk},
        {"PUT", "/{index}/{type}/_bulk", h_bulk},
        {"GET", "/{index}", h_index},
        {"HEAD", "/{index}", h_index},
        {"PUT", "/{index}", h_index},
        {"DELETE", "/{index}", h_index},
        {"POST", "/_refresh", h_refresh},
        {"GET", "/_refresh", h_refresh},
        {"POST", "/{index}/_refresh", h_refresh},
        {"GET", "/{index}/_refresh", h_refresh},
        {"GET", "/_count", h_search},
        {"POST", "/_count", h_search},
        {"GET", "/{index}/_count", h_search},
        {"POST", "/{index}/_count", h_search},
        {"GET", "/_search", h_search},
        {"POST", "/_search", h_search},
        {"GET", "/{index}/_search", h_search},
        {"POST", "/{index}/_search", h_search},
        {"GET", "/{index}/{type}/{id}", h_doc_get},
        {"PUT", "/{index}/{type}/{id}", h_doc_put},
        {"POST", "/{index}/{type}/{id}", h_doc_put},
        {"POST", "/{index}/{type}", h_doc_put},
        {"GET", "/_cat/indices", h_cat_indices},
        {"GET", "/_cat/indices/{index}", h_cat_indices},
        {"GET", "/_cat/health", h_cat_health},
        {"GET", "/_cluster/health", h_cluster_health},
        {"GET", "/_cluster/health/{index}", h_cluster_health},
        {"GET", "/_template", h_template},
        {"GET", "/_template/{name}", h_template},
        {"HEAD", "/_template/{name}", h_template},
        {"PUT", "/_template/{name}", h_template},
        {"POST", "/_template/{name}", h_template},
        {"DELETE", "/_template/{name}", h_template},
        {"GET", "/_index_template", h_template},
        {"GET", "/_index_template/{name}", h_template},
        {"HEAD", "/_index_template/{name}", h_template},
        {"PUT", "/_index_template/{name}", h_template},
        {"POST", "/_index_template/{name}", h_template},
        {"DELETE", "/_index_template/{name}", h_template},
        {"GET", "/_ilm/policy", h_ilm},
        {"GET", "/_ilm/policy/{name}", h_ilm},
        {"PUT", "/_ilm/policy/{name}", h_ilm},
        {"GET", "/_nodes", h_nodes},
        {"GET", "/_nodes/http", h_nodes},
        {"GET", "/_nodes/{nodes}/http", h_nodes},
        {"GET", "/_license", h_license},
        {"GET", "/_xpack", h_xpack},
        {"GET", "/_efksim/delivery", h_delivery},
        {"POST", "/_efksim/delivery", h_delivery},
        {"PUT", "/_efksim/delivery", h_delivery},
        {"DELETE", "/_efksim/delivery", h_delivery},
    };
    for (size_t i = 0; i < sizeof(R) / sizeof(R[0]); i++) {
        int rc = http_route(es->routes, R[i].method, R[i].pattern, R[i].h, es);
        if (rc)
            return rc;
    }
    return 0;
}
