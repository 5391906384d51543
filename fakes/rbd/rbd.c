/*
 * rbd.c - the fake RBD cluster's life and public API: the "fakes.rbd"
 * section, start/stop, the HTTP routes over rbd_svc, and the typed
 * timeline actions and expectation queries (all of which go through the
 * same operations as the tools, so they are audited the same way).
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/duration.h"
#include "core/fsutil.h"
#include "core/http.h"
#include "core/route.h"
#include "rbd_api.h"
#include "rbd_fmt.h"
#include "rbd_store.h"
#include "rbd_svc.h"

#define RBD_BODY_CAP (8u << 20) /* 256 arguments of 4 KiB, escaped, fit */

struct efk_rbd {
    efk_runtime rt;
    efk_clock *clock;
    rbd_store *store;
    rbd_svc *svc;
    journal *journal;
    fault_chain *faults;
    route_table *routes;
    http_server *http;
    char mon[64];
};

/* ---- config ------------------------------------------------------------------ */

void efk_rbd_config_init(efk_rbd_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
}

void efk_rbd_config_cleanup(efk_rbd_config *cfg)
{
    free(cfg->release);
    json_decref(cfg->seed);
    json_decref(cfg->faults);
    efk_rbd_config_init(cfg);
}


/* Build a JSON pointer (truncated at EFK_ERR_PLACE_MAX, like efk_err_at). */
static void pj(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pj(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, EFK_ERR_PLACE_MAX, fmt, ap);
    va_end(ap);
}

/* Check that object `o` at `ptr` has only the listed keys (comma list). */
static int keys_only(const json_t *o, const char *ptr, const char *allowed, efk_err *err)
{
    if (!json_is_object(o))
        return efk_err_invalid(err, ptr, "expected an object");
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)o, k, v) {
        char want[64];
        snprintf(want, sizeof(want), "%s", k);
        bool ok = false;
        const char *p = allowed;
        size_t kl = strlen(k);
        while (*p) {
            size_t n = strcspn(p, ",");
            const char *w = p;
            while (*w == ' ')
                w++, n--;
            if (n == kl && strncmp(w, k, kl) == 0)
                ok = true;
            p += strcspn(p, ",");
            if (*p == ',')
                p++;
        }
        if (!ok) {
            char kp[EFK_ERR_PLACE_MAX];
            pj(kp, "%s/%s", ptr, k);
            return efk_err_invalid(err, kp, "unknown key \"%s\"; allowed: %s", want, allowed);
        }
    }
    return 0;
}

static int need_str(const json_t *o, const char *k, const char *ptr, bool required, efk_err *err)
{
    const json_t *v = json_object_get(o, k);
    char p[EFK_ERR_PLACE_MAX];
    pj(p, "%s/%s", ptr, k);
    if (!v)
        return required ? efk_err_invalid(err, ptr, "missing \"%s\" (a string)", k) : 0;
    if (!json_is_string(v) || !*json_string_value(v) || strlen(json_string_value(v)) >= 256)
        return efk_err_invalid(err, p, "expected a non-empty string shorter than 256 bytes");
    return 0;
}

static int need_bool(const json_t *o, const char *k, const char *ptr, efk_err *err)
{
    const json_t *v = json_object_get(o, k);
    char p[EFK_ERR_PLACE_MAX];
    pj(p, "%s/%s", ptr, k);
    if (v && !json_is_boolean(v))
        return efk_err_invalid(err, p, "expected true or false");
    return 0;
}

static int need_ip(const json_t *o, const char *k, const char *ptr, bool required, efk_err *err)
{
    int r = need_str(o, k, ptr, required, err);
    const char *s = json_string_value(json_object_get(o, k));
    rbd_addr a;
    if (!r && s && rbd_ip_parse(s, &a) < 0) {
        char p[EFK_ERR_PLACE_MAX];
        pj(p, "%s/%s", ptr, k);
        return efk_err_invalid(err, p, "expected an IP address like \"10.47.136.60\"");
    }
    return r;
}

static int get_duration(const json_t *v, int64_t *out, const char *ptr, efk_err *err)
{
    if (!json_is_string(v) || duration_parse(json_string_value(v), out) != 0)
        return efk_err_invalid(err, ptr, "expected a duration like \"30s\"");
    return 0;
}

/* "pool/image" or "pool/ns/image". */
static int split_spec(const char *spec, char *pool, char *ns, char *image)
{
    if (!spec)
        return -EINVAL;
    const char *a = strchr(spec, '/');
    if (!a || a == spec || strlen(spec) >= RBD_NAME_MAX)
        return -EINVAL;
    const char *b = strchr(a + 1, '/');
    snprintf(pool, RBD_NAME_MAX, "%.*s", (int)(a - spec), spec);
    if (b) {
        if (b == a + 1 || !b[1] || strchr(b + 1, '/'))
            return -EINVAL;
        snprintf(ns, RBD_NAME_MAX, "%.*s", (int)(b - a - 1), a + 1);
        snprintf(image, RBD_NAME_MAX, "%s", b + 1);
    } else {
        if (!a[1])
            return -EINVAL;
        ns[0] = '\0';
        snprintf(image, RBD_NAME_MAX, "%s", a + 1);
    }
    return 0;
}

static int need_spec(const json_t *o, const char *ptr, efk_err *err)
{
    int r = need_str(o, "image", ptr, true, err);
    char p[RBD_NAME_MAX], n[RBD_NAME_MAX], i[RBD_NAME_MAX];
    if (!r && split_spec(json_string_value(json_object_get(o, "image")), p, n, i) < 0) {
        char ip[EFK_ERR_PLACE_MAX];
        pj(ip, "%s/image", ptr);
        return efk_err_invalid(err, ip, "expected \"pool/image\" or \"pool/namespace/image\"");
    }
    return r;
}

static int parse_pools(const json_t *pools, efk_err *err)
{
    char ptr[EFK_ERR_PLACE_MAX];
    if (!json_is_array(pools))
        return efk_err_invalid(err, "/pools", "expected an array of pools");
    size_t i, k;
    json_t *p, *im;
    json_array_foreach (pools, i, p) {
        pj(ptr, "/pools/%zu", i);
        int r = keys_only(p, ptr, "name, namespaces, images", err);
        if (!r)
            r = need_str(p, "name", ptr, true, err);
        if (r)
            return r;
        const json_t *nss = json_object_get(p, "namespaces");
        if (nss) {
            if (!json_is_array(nss))
                return efk_err_invalid(err, ptr, "\"namespaces\" must be an array of names");
            json_array_foreach (nss, k, im) {
                const char *n = json_string_value(im);
                if (!n || !*n || strchr(n, '/') || strchr(n, '@') || strlen(n) >= 256) {
                    char np[EFK_ERR_PLACE_MAX];
                    pj(np, "%s/namespaces/%zu", ptr, k);
                    return efk_err_invalid(err, np, "expected a namespace name without '/' or '@'");
                }
            }
        }
        const json_t *imgs = json_object_get(p, "images");
        if (imgs && !json_is_array(imgs))
            return efk_err_invalid(err, ptr, "\"images\" must be an array of images");
        json_array_foreach (imgs, k, im) {
            char ip[EFK_ERR_PLACE_MAX];
            pj(ip, "%s/images/%zu", ptr, k);
            r = keys_only(im, ip,
                          "name, namespace, size, format, order, features, id, "
                          "block_name_prefix",
                          err);
            if (!r)
                r = need_str(im, "name", ip, true, err);
            if (!r)
                r = need_str(im, "namespace", ip, false, err);
            if (r)
                return r;
            const json_t *sz = json_object_get(im, "size");
            uint64_t bytes = 0;
            char sp[EFK_ERR_PLACE_MAX];
            pj(sp, "%s/size", ip);
            if (!sz)
                return efk_err_invalid(err, ip, "missing \"size\" (bytes, or a size like \"2G\")");
            if (json_is_integer(sz) && json_integer_value(sz) >= 0)
                bytes = (uint64_t)json_integer_value(sz);
            else if (!json_is_string(sz) || size_parse(json_string_value(sz), &bytes) != 0)
                return efk_err_invalid(err, sp, "expected bytes or a size like \"2G\"");
            const json_t *f = json_object_get(im, "format");
            if (f && (!json_is_integer(f) ||
                      (json_integer_value(f) != 1 && json_integer_value(f) != 2))) {
                pj(sp, "%s/format", ip);
                return efk_err_invalid(err, sp, "expected 1 or 2");
            }
            const json_t *o = json_object_get(im, "order");
            if (o &&
                (!json_is_integer(o) || json_integer_value(o) < 12 || json_integer_value(o) > 25)) {
                pj(sp, "%s/order", ip);
                return efk_err_invalid(err, sp, "expected an integer in 12..25");
            }
            const json_t *fs = json_object_get(im, "features");
            if (fs) {
                size_t q;
                json_t *fn;
                if (!json_is_array(fs))
                    return efk_err_invalid(err, ip, "\"features\" must be an array of feature names");
                json_array_foreach (fs, q, fn) {
                    if (!json_is_string(fn) || !rbd_feature_bit(json_string_value(fn))) {
                        pj(sp, "%s/features/%zu", ip, q);
                        return efk_err_invalid(err, sp,
                                   "unknown feature; expected layering, striping, "
                                   "exclusive-lock, object-map, fast-diff, "
                                   "deep-flatten, journaling or data-pool");
                    }
                }
            }
            if ((r = need_str(im, "id", ip, false, err)) ||
                (r = need_str(im, "block_name_prefix", ip, false, err)))
                return r;
        }
    }
    return 0;
}

static int parse_list(const json_t *arr, const char *name, const char *allowed, efk_err *err,
                      int (*each)(const json_t *o, const char *ptr, efk_err *err))
{
    char ptr[EFK_ERR_PLACE_MAX];
    pj(ptr, "/%s", name);
    if (!json_is_array(arr))
        return efk_err_invalid(err, ptr, "expected an array");
    size_t i;
    json_t *o;
    json_array_foreach (arr, i, o) {
        pj(ptr, "/%s/%zu", name, i);
        int r = keys_only(o, ptr, allowed, err);
        if (!r)
            r = each(o, ptr, err);
        if (r)
            return r;
    }
    return 0;
}

static int each_user(const json_t *o, const char *ptr, efk_err *err)
{
    int r = need_str(o, "name", ptr, true, err);
    if (!r)
        r = need_str(o, "key", ptr, false, err);
    return r ? r : need_bool(o, "blocklist", ptr, err);
}

static int each_client(const json_t *o, const char *ptr, efk_err *err)
{
    int r = need_str(o, "name", ptr, true, err);
    if (!r)
        r = need_ip(o, "node", ptr, true, err);
    const char *kind = json_string_value(json_object_get(o, "kind"));
    const char *state = json_string_value(json_object_get(o, "state"));
    const json_t *nonce = json_object_get(o, "nonce");
    char p[EFK_ERR_PLACE_MAX];
    if (!r && json_object_get(o, "kind") &&
        (!kind || (strcmp(kind, "librbd") && strcmp(kind, "krbd") && strcmp(kind, "seed")))) {
        pj(p, "%s/kind", ptr);
        return efk_err_invalid(err, p, "expected \"librbd\", \"krbd\" or \"seed\"");
    }
    if (!r && json_object_get(o, "state") &&
        (!state || (strcmp(state, "alive") && strcmp(state, "dead")))) {
        pj(p, "%s/state", ptr);
        return efk_err_invalid(err, p, "expected \"alive\" or \"dead\"");
    }
    if (!r && nonce &&
        (!json_is_integer(nonce) || json_integer_value(nonce) < 1 ||
         json_integer_value(nonce) > UINT32_MAX)) {
        pj(p, "%s/nonce", ptr);
        return efk_err_invalid(err, p, "expected an integer in 1..4294967295");
    }
    return r;
}

static int each_lock(const json_t *o, const char *ptr, efk_err *err)
{
    int r = need_spec(o, ptr, err);
    if (!r)
        r = need_str(o, "id", ptr, true, err);
    if (!r)
        r = need_str(o, "tag", ptr, false, err);
    if (!r)
        r = need_str(o, "client", ptr, false, err);
    if (!r)
        r = need_ip(o, "node", ptr, false, err);
    if (r)
        return r;
    const char *locker = json_string_value(json_object_get(o, "locker"));
    const char *addr = json_string_value(json_object_get(o, "address"));
    int ways = !!json_object_get(o, "client") + !!json_object_get(o, "node") + !!(locker || addr);
    if (ways != 1)
        return efk_err_invalid(err, ptr,
                   "a lock needs exactly one of \"client\" (a seeded client's name), "
                   "\"node\", or \"locker\" with \"address\"");
    rbd_entity e;
    rbd_addr a;
    char p[EFK_ERR_PLACE_MAX];
    if (locker || addr) {
        if (!locker || rbd_entity_parse(locker, &e) < 0) {
            pj(p, "%s/locker", ptr);
            return efk_err_invalid(err, p, "expected an entity name like \"client.24128\"");
        }
        if (!addr || rbd_addr_parse(addr, true, &a) < 0) {
            pj(p, "%s/address", ptr);
            return efk_err_invalid(err, p, "expected an address like \"10.47.136.60:0/1864102866\"");
        }
    }
    return 0;
}

static int each_watcher(const json_t *o, const char *ptr, efk_err *err)
{
    int r = need_spec(o, ptr, err);
    if (!r)
        r = need_str(o, "client", ptr, false, err);
    if (!r)
        r = need_ip(o, "node", ptr, false, err);
    if (r)
        return r;
    if (!!json_object_get(o, "client") + !!json_object_get(o, "node") != 1)
        return efk_err_invalid(err, ptr, "a watcher needs exactly one of \"client\" or \"node\"");
    const json_t *c = json_object_get(o, "cookie");
    if (c && (!json_is_integer(c) || json_integer_value(c) < 1)) {
        char p[EFK_ERR_PLACE_MAX];
        pj(p, "%s/cookie", ptr);
        return efk_err_invalid(err, p, "expected a positive integer");
    }
    return 0;
}

static int each_mapping(const json_t *o, const char *ptr, efk_err *err)
{
    int r = need_spec(o, ptr, err);
    if (!r)
        r = need_ip(o, "node", ptr, true, err);
    return r ? r : need_bool(o, "read_only", ptr, err);
}

static int each_blocklist(const json_t *o, const char *ptr, efk_err *err)
{
    int r = need_str(o, "addr", ptr, true, err);
    if (!r)
        r = need_bool(o, "range", ptr, err);
    if (r)
        return r;
    rbd_addr a;
    char p[EFK_ERR_PLACE_MAX];
    pj(p, "%s/addr", ptr);
    if (rbd_addr_parse(json_string_value(json_object_get(o, "addr")), true, &a) < 0)
        return efk_err_invalid(err, p, "expected an address (\"10.0.0.1\", \"10.0.0.1:0/123\") or a CIDR");
    if (json_is_true(json_object_get(o, "range")) && !rbd_addr_is_cidr(&a))
        return efk_err_invalid(err, p, "expected a CIDR range like \"10.0.0.0/24\"");

    const json_t *e = json_object_get(o, "expire");
    int64_t ns;
    if (e) {
        pj(p, "%s/expire", ptr);
        return get_duration(e, &ns, p, err);
    }
    return 0;
}

static const char *const TOP_KEYS =
    "release, watch_timeout, blocklist_expire, next_client_id, auth, conf_missing, users, pools, "
    "clients, locks, watchers, mappings, blocklist, faults";

int efk_rbd_config_parse(efk_rbd_config *cfg, const json_t *section, const char *base_dir,
                         efk_err *err)
{
    (void)base_dir;
    if (!section)
        return 0;
    int r = keys_only(section, "", TOP_KEYS, err);
    if (r)
        return r;
    const json_t *v;
    if ((v = json_object_get(section, "release"))) {
        if (!json_is_string(v) || !rbd_release_find(json_string_value(v)))
            return efk_err_invalid(err, "/release", "unknown release; expected one of %s", rbd_release_names());
        free(cfg->release);
        if (!(cfg->release = strdup(json_string_value(v))))
            return efk_err_set(err, -ENOMEM, "out of memory");
    }
    if ((v = json_object_get(section, "watch_timeout")) &&
        (r = get_duration(v, &cfg->watch_timeout_ns, "/watch_timeout", err)))
        return r;
    if ((v = json_object_get(section, "blocklist_expire")) &&
        (r = get_duration(v, &cfg->blocklist_expire_ns, "/blocklist_expire", err)))
        return r;
    if ((v = json_object_get(section, "next_client_id"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 1)
            return efk_err_invalid(err, "/next_client_id", "expected a positive integer");
        cfg->next_client_id = (uint64_t)json_integer_value(v);
    }
    if ((v = json_object_get(section, "auth"))) {
        const char *a = json_string_value(v);
        if (!a || (strcmp(a, "none") && strcmp(a, "cephx")))
            return efk_err_invalid(err, "/auth", "expected \"none\" or \"cephx\"");
        cfg->cephx = strcmp(a, "cephx") == 0;
    }
    if ((v = json_object_get(section, "conf_missing"))) {
        if (!json_is_boolean(v))
            return efk_err_invalid(err, "/conf_missing", "expected true or false");
        cfg->conf_missing = json_is_true(v);
    }
    if ((v = json_object_get(section, "users")) &&
        (r = parse_list(v, "users", "name, key, blocklist", err, each_user)))
        return r;
    if ((v = json_object_get(section, "pools")) && (r = parse_pools(v, err)))
        return r;
    if ((v = json_object_get(section, "clients")) &&
        (r = parse_list(v, "clients", "name, node, kind, nonce, state", err, each_client)))
        return r;
    if ((v = json_object_get(section, "locks")) &&
        (r = parse_list(v, "locks", "image, id, tag, client, node, locker, address", err,
                        each_lock)))
        return r;
    if ((v = json_object_get(section, "watchers")) &&
        (r = parse_list(v, "watchers", "image, client, node, cookie", err, each_watcher)))
        return r;
    if ((v = json_object_get(section, "mappings")) &&
        (r = parse_list(v, "mappings", "image, node, read_only", err, each_mapping)))
        return r;
    if ((v = json_object_get(section, "blocklist")) &&
        (r = parse_list(v, "blocklist", "addr, range, expire", err, each_blocklist)))
        return r;
    const rbd_release *rel = rbd_release_find(cfg->release ? cfg->release : "reef");
    size_t bi;
    json_t *be;
    json_array_foreach (json_object_get(section, "blocklist"), bi, be) {
        if (json_is_true(json_object_get(be, "range")) && !rel->blocklist_range) {
            char p[EFK_ERR_PLACE_MAX];
            pj(p, "/blocklist/%zu/range", bi);
            return efk_err_invalid(err, p,
                       "range entries need a release with `osd blocklist range` "
                       "(reef); this is %s",
                       rel->name);
        }
    }
    if ((v = json_object_get(section, "faults"))) {
        if (!json_is_array(v))
            return efk_err_invalid(err, "/faults", "expected an array of fault rules");
        fault_chain *tmp = fault_chain_new(NULL, 0, "rbd");
        if (!tmp || rbd_svc_register_faults(tmp) != 0) {
            fault_chain_free(tmp);
            return efk_err_set(err, -ENOMEM, "out of memory");
        }
        size_t i;
        json_t *f;
        json_array_foreach (v, i, f) {
            r = fault_check_json(tmp, f, err);
            if (r) {
                char p[EFK_ERR_PLACE_MAX];
                pj(p, "/faults/%zu%s", i, err ? err->pointer : "");
                efk_err_at(err, p);
                fault_chain_free(tmp);
                return r;
            }
        }
        fault_chain_free(tmp);
        json_decref(cfg->faults);
        cfg->faults = json_deep_copy(v);
    }
    /* the seed must refer to clients it declares */
    const json_t *clients = json_object_get(section, "clients");
    static const char *const refs[] = {"locks", "watchers"};
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *o;
        json_array_foreach (json_object_get(section, refs[k]), i, o) {
            const char *cl = json_string_value(json_object_get(o, "client"));
            if (!cl)
                continue;
            bool found = false;
            size_t q;
            json_t *c;
            json_array_foreach (clients, q, c) {
                if (strcmp(json_string_value(json_object_get(c, "name")), cl) == 0)
                    found = true;
            }
            if (!found) {
                char p[EFK_ERR_PLACE_MAX];
                pj(p, "/%s/%zu/client", refs[k], i);
                return efk_err_invalid(err, p, "no client named \"%s\" in \"clients\"", cl);
            }
        }
    }
    json_decref(cfg->seed);
    cfg->seed = json_deep_copy(section);
    return cfg->seed ? 0 : efk_err_set(err, -ENOMEM, "out of memory");
}

/* ---- HTTP ------------------------------------------------------------------------- */

static void reply(http_resp *resp, int status, json_t *j)
{
    if (!j) {
        http_resp_text(resp, 500, "application/json", "{\"error\":\"out of memory\"}");
        return;
    }
    if (http_resp_json(resp, status, j) != 0)
        http_resp_status(resp, 500);
}

static void h_op(void *arg, http_req *req, http_resp *resp)
{
    efk_rbd *rbd = arg;
    const char *op = http_req_capture(req, "op");
    size_t len = 0;
    const char *body = http_req_body(req, &len);
    json_t *j = NULL;
    if (len) {
        json_error_t je;
        j = json_loadb(body, len, 0, &je);
        if (!j) {
            char msg[300];
            snprintf(msg, sizeof(msg), "invalid JSON body: %s at line %d column %d", je.text,
                     je.line, je.column);
            reply(resp, 400, json_pack("{s:s}", "error", msg));
            return;
        }
    }
    const fault_rule *fr = http_req_fault(req, NULL);
    const char *fa = fr ? fr->domain : NULL;
    if (fa)
        http_req_fault_applied(req);
    int status = 0;
    json_t *rep = rbd_svc_call(rbd->svc, op ? op : "", j, fa, fr ? fr->params : NULL, &status);
    json_decref(j);
    reply(resp, status, rep);
}

static void h_state(void *arg, http_req *req, http_resp *resp)
{
    (void)req;
    reply(resp, 200, rbd_store_state(((efk_rbd *)arg)->store));
}

static void h_audit(void *arg, http_req *req, http_resp *resp)
{
    const char *since = http_req_arg(req, "since");
    char *end = NULL;
    unsigned long long s = since ? strtoull(since, &end, 10) : 0;
    if (since && (!*since || *end)) {
        reply(resp, 400, json_pack("{s:s}", "error", "since must be a sequence number"));
        return;
    }
    reply(
        resp, 200,
        json_pack("{s:o}", "entries", rbd_store_audit_list(((efk_rbd *)arg)->store, (uint64_t)s)));
}

static void h_reject(void *arg, http_req *req, int status, const char *detail, http_resp *resp)
{
    (void)arg;
    (void)req;
    char msg[256];
    switch (status) {
    case 404:
        snprintf(msg, sizeof(msg), "no such endpoint");
        break;
    case 405:
        snprintf(msg, sizeof(msg), "method not allowed (allowed: %s)", detail ? detail : "");
        break;
    case 413:
        snprintf(msg, sizeof(msg), "request body over %s bytes", detail ? detail : "the cap");
        break;
    default:
        snprintf(msg, sizeof(msg), "bad request%s%s", detail ? ": " : "", detail ? detail : "");
    }
    if (status == 405 && detail)
        (void)http_resp_header(resp, "Allow", detail);
    reply(resp, status, json_pack("{s:s}", "error", msg));
}

static void on_reset(void *arg)
{
    rbd_store_reset(((efk_rbd *)arg)->store);
}

/* ---- seeding ----------------------------------------------------------------------------- */

static int seed_op(efk_rbd *rbd, const char *op, json_t *req, const char *ptr, efk_err *err)
{
    int status = 0;
    json_t *rep = rbd_svc_call(rbd->svc, op, req, NULL, NULL, &status);
    int r = status == 200 ? (int)json_integer_value(json_object_get(rep, "r")) : -EINVAL;
    if (r < 0) {
        char e[160];
        const char *msg = json_string_value(json_object_get(rep, "error"));
        efk_err_at(err, ptr);
        efk_err_set(err, r, "%s", msg ? msg : rbd_strerror(r, e, sizeof(e)));
    }
    json_decref(rep);
    json_decref(req);
    return r;
}

static int find_client(const json_t *clients, const char *name, json_int_t *id)
{
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)clients, k, v) {
        if (strcmp(k, name) == 0) {
            *id = json_integer_value(v);
            return 0;
        }
    }
    return -ENOENT;
}

static json_t *spec_req(const char *spec)
{
    char p[RBD_NAME_MAX], n[RBD_NAME_MAX], i[RBD_NAME_MAX];
    if (split_spec(spec, p, n, i) < 0)
        return NULL;
    return json_pack("{s:s, s:s, s:s}", "pool", p, "namespace", n, "image", i);
}

static int apply_seed(efk_rbd *rbd, const json_t *seed, efk_err *err)
{
    char ptr[EFK_ERR_PLACE_MAX];
    int r = 0;
    size_t i, k;
    json_t *o, *x;
    json_t *names = json_object(); /* client name -> id */
    if (!names)
        return efk_err_set(err, -ENOMEM, "out of memory");
    json_array_foreach (json_object_get(seed, "users"), i, o) {
        pj(ptr, "/users/%zu", i);
        const char *name = json_string_value(json_object_get(o, "name"));
        if (json_object_get(o, "key") &&
            (r = seed_op(rbd, "key_set",
                         json_pack("{s:s, s:O}", "name", name, "key", json_object_get(o, "key")),
                         ptr, err)))
            goto out;
        if (json_object_get(o, "blocklist") &&
            (r = seed_op(rbd, "caps_set",
                         json_pack("{s:s, s:O}", "name", name, "blocklist",
                                   json_object_get(o, "blocklist")),
                         ptr, err)))
            goto out;
    }
    json_array_foreach (json_object_get(seed, "pools"), i, o) {
        pj(ptr, "/pools/%zu", i);
        const char *pool = json_string_value(json_object_get(o, "name"));
        if ((r = seed_op(rbd, "pool_add", json_pack("{s:s}", "name", pool), ptr, err)))
            goto out;
        json_array_foreach (json_object_get(o, "namespaces"), k, x) {
            pj(ptr, "/pools/%zu/namespaces/%zu", i, k);
            if ((r = seed_op(rbd, "namespace_add", json_pack("{s:s, s:O}", "pool", pool, "name", x),
                             ptr, err)))
                goto out;
        }
        json_array_foreach (json_object_get(o, "images"), k, x) {
            pj(ptr, "/pools/%zu/images/%zu", i, k);
            json_t *req = json_deep_copy(x);
            const json_t *sz = json_object_get(x, "size");
            uint64_t bytes = 0;
            if (json_is_string(sz) && size_parse(json_string_value(sz), &bytes) == 0)
                json_object_set_new(req, "size", json_integer((json_int_t)bytes));
            json_object_set_new(req, "pool", json_string(pool));
            json_object_set(req, "image", json_object_get(x, "name"));
            json_object_del(req, "name");
            if ((r = seed_op(rbd, "image_create", req, ptr, err)))
                goto out;
        }
    }
    json_array_foreach (json_object_get(seed, "clients"), i, o) {
        pj(ptr, "/clients/%zu", i);
        int status = 0;
        json_t *req = json_pack("{s:O, s:s, s:I}", "node", json_object_get(o, "node"), "kind",
                                json_string_value(json_object_get(o, "kind"))
                                    ? json_string_value(json_object_get(o, "kind"))
                                    : "librbd",
                                "nonce", json_integer_value(json_object_get(o, "nonce")));
        json_t *rep = rbd_svc_call(rbd->svc, "client_add", req, NULL, NULL, &status);
        json_decref(req);
        json_int_t id = json_integer_value(json_object_get(rep, "client"));
        json_decref(rep);
        if (id <= 0) {
            efk_err_at(err, ptr);
            r = efk_err_set(err, -ENOSPC, "cannot add the client");
            goto out;
        }
        json_object_set_new(names, json_string_value(json_object_get(o, "name")), json_integer(id));
        const char *state = json_string_value(json_object_get(o, "state"));
        if (state && strcmp(state, "dead") == 0)
            (void)rbd_store_client_dead(rbd->store, (uint64_t)id);
    }
    json_array_foreach (json_object_get(seed, "locks"), i, o) {
        pj(ptr, "/locks/%zu", i);
        json_t *req = spec_req(json_string_value(json_object_get(o, "image")));
        const char *tag = json_string_value(json_object_get(o, "tag"));
        json_object_set(req, "cookie", json_object_get(o, "id"));
        json_object_set_new(req, "exclusive", json_boolean(!tag));
        json_object_set_new(req, "tag", json_string(tag ? tag : ""));
        const char *cl = json_string_value(json_object_get(o, "client"));
        const char *node = json_string_value(json_object_get(o, "node"));
        json_int_t id = 0;
        if (cl)
            (void)find_client(names, cl, &id);
        if (node) {
            uint64_t nid = 0;
            if (rbd_store_client_new(rbd->store, node, 0, RBD_CLIENT_SEED, NULL, &nid) < 0) {
                json_decref(req);
                efk_err_at(err, ptr);
                r = efk_err_set(err, -ENOSPC, "cannot add the client");
                goto out;
            }
            id = (json_int_t)nid;
        }
        if (id > 0) {
            json_object_set_new(req, "client", json_integer(id));
        } else {
            json_object_set(req, "locker", json_object_get(o, "locker"));
            json_object_set(req, "address", json_object_get(o, "address"));
        }
        /* the runner's seed is not a tool: take the client's identity
         * without the tool's blocklist check */
        if (id > 0) {
            int rr = 0;
            json_t *cj = rbd_store_client_get(rbd->store, (uint64_t)id, &rr);
            json_object_del(req, "client");
            char ent[48];
            snprintf(ent, sizeof(ent), "client.%" JSON_INTEGER_FORMAT, id);
            json_object_set_new(req, "locker", json_string(ent));
            json_object_set(req, "address", json_object_get(cj, "address"));
            json_decref(cj);
        }
        if ((r = seed_op(rbd, "lock_add", req, ptr, err)))
            goto out;
    }
    json_array_foreach (json_object_get(seed, "watchers"), i, o) {
        pj(ptr, "/watchers/%zu", i);
        json_t *req = spec_req(json_string_value(json_object_get(o, "image")));
        const char *cl = json_string_value(json_object_get(o, "client"));
        json_int_t id = 0;
        if (cl)
            (void)find_client(names, cl, &id);
        if (id > 0)
            json_object_set_new(req, "client", json_integer(id));
        else
            json_object_set(req, "node", json_object_get(o, "node"));
        if (json_object_get(o, "cookie"))
            json_object_set(req, "cookie", json_object_get(o, "cookie"));
        if ((r = seed_op(rbd, "watch_add", req, ptr, err)))
            goto out;
    }
    json_array_foreach (json_object_get(seed, "mappings"), i, o) {
        pj(ptr, "/mappings/%zu", i);
        json_t *req = spec_req(json_string_value(json_object_get(o, "image")));
        json_object_set(req, "node", json_object_get(o, "node"));
        json_object_set_new(req, "read_only",
                            json_boolean(json_is_true(json_object_get(o, "read_only"))));
        if ((r = seed_op(rbd, "map", req, ptr, err)))
            goto out;
    }
    json_array_foreach (json_object_get(seed, "blocklist"), i, o) {
        pj(ptr, "/blocklist/%zu", i);
        json_t *req = json_pack("{s:O, s:b}", "addr", json_object_get(o, "addr"), "range",
                                json_is_true(json_object_get(o, "range")));
        int64_t ns = 0;
        const json_t *e = json_object_get(o, "expire");
        if (e && duration_parse(json_string_value(e), &ns) == 0)
            json_object_set_new(req, "expire", json_real((double)ns / 1e9));
        if ((r = seed_op(rbd, "blocklist_add", req, ptr, err)))
            goto out;
    }
out:
    json_decref(names);
    return r;
}

/* ---- life -------------------------------------------------------------------------------- */

int efk_rbd_start(const efk_rbd_config *cfg, const efk_runtime *rt, efk_rbd **out, efk_err *err)
{
    int rc = 0;
    efk_rbd *rbd = calloc(1, sizeof(*rbd));
    if (!rbd)
        return efk_err_set(err, -ENOMEM, "out of memory");
    rbd->rt = *rt;
    rbd->clock = rt->clock ? rt->clock : clock_system();
    const rbd_release *rel = rbd_release_find(cfg->release ? cfg->release : "reef");
    if (!rel) {
        efk_err_at(err, "/release");
        rc = efk_err_set(err, -EINVAL, "unknown release \"%s\"; expected one of %s", cfg->release,
                         rbd_release_names());
        goto fail;
    }
    rbd_store_config sc = {.release = rel,
                           .clock = rbd->clock,
                           .seed = rt->seed,
                           .watch_timeout_ns = cfg->watch_timeout_ns,
                           .blocklist_expire_ns = cfg->blocklist_expire_ns,
                           .first_client_id = cfg->next_client_id,
                           .audit_cap = rt->journal_cap};
    rbd->store = rbd_store_new(&sc);
    rbd->svc = rbd->store ? rbd_svc_new(rbd->store, cfg->cephx, rt->seed) : NULL;
    if (rbd->svc)
        rbd_svc_set_conf_missing(rbd->svc, cfg->conf_missing);
    rbd->faults = fault_chain_new(rbd->clock, rt->seed, "rbd");
    rbd->routes = route_table_new();
    if (!rbd->store || !rbd->svc || !rbd->faults || !rbd->routes) {
        rc = efk_err_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = rbd_svc_register_faults(rbd->faults))) {
        efk_err_set(err, rc, "cannot register the fault actions");
        goto fail;
    }
    size_t i;
    json_t *f;
    json_array_foreach (cfg->faults, i, f) {
        rc = fault_add_json(rbd->faults, f, false, NULL, err);
        if (rc) {
            char ptr[EFK_ERR_PLACE_MAX + 32];
            pj(ptr, "/faults/%zu%s", i, err ? err->pointer : "");
            efk_err_at(err, ptr);
            goto fail;
        }
    }
    {
        journal_config jc = {.cap = rt->journal_cap, .clock = rbd->clock};
        char *path = NULL;
        if (rt->journal_files && rt->workdir) {
            char *dir = fs_join(rt->workdir, "journal");
            if (dir && fs_mkdirs(dir, 0755, err) == 0)
                path = fs_join(dir, "rbd.ndjson");
            free(dir);
        }
        jc.ndjson_path = path;
        rc = journal_new(&jc, &rbd->journal);
        free(path);
        if (rc) {
            efk_err_set(err, rc, "cannot create the journal");
            goto fail;
        }
    }
    if ((rc = http_route(rbd->routes, "POST", "/rbd/v1/op/{op}", h_op, rbd)) ||
        (rc = http_route(rbd->routes, "GET", "/rbd/v1/state", h_state, rbd)) ||
        (rc = http_route(rbd->routes, "GET", "/rbd/v1/audit", h_audit, rbd))) {
        efk_err_set(err, rc, "cannot register the routes");
        goto fail;
    }
    if (cfg->seed && (rc = apply_seed(rbd, cfg->seed, err)))
        goto fail;
    http_service_config svc = {.name = "rbd",
                               .routes = rbd->routes,
                               .reject = h_reject,
                               .reject_arg = rbd,
                               .journal = rbd->journal,
                               .faults = rbd->faults,
                               .clock = rbd->clock,
                               .body_cap = RBD_BODY_CAP,
                               .reset = on_reset,
                               .reset_arg = rbd};
    http_listener_config lc = {.name = "http", .port = 0};
    rc = http_server_start(&svc, &lc, &rbd->http, err);
    if (rc)
        goto fail;
    snprintf(rbd->mon, sizeof(rbd->mon), "127.0.0.1:%u", http_server_port(rbd->http));
    *out = rbd;
    return 0;
fail:
    efk_rbd_stop(rbd);
    return rc ? rc : -EINVAL;
}

void efk_rbd_stop(efk_rbd *rbd)
{
    if (!rbd)
        return;
    http_server_stop(rbd->http);
    route_table_free(rbd->routes);
    fault_chain_free(rbd->faults);
    journal_free(rbd->journal);
    rbd_svc_free(rbd->svc);
    rbd_store_free(rbd->store);
    free(rbd);
}

const char *efk_rbd_url(const efk_rbd *rbd)
{
    return http_server_url(rbd->http);
}

const char *efk_rbd_mon(const efk_rbd *rbd)
{
    return rbd->mon;
}

journal *efk_rbd_journal(efk_rbd *rbd)
{
    return rbd->journal;
}

int efk_rbd_fault_actions(fault_chain *c)
{
    return rbd_svc_register_faults(c);
}

fault_chain *efk_rbd_faults(efk_rbd *rbd)
{
    return rbd->faults;
}

json_t *efk_rbd_state_render(efk_rbd *rbd)
{
    return rbd_store_state(rbd->store);
}

const char *efk_rbd_release(const efk_rbd *rbd)
{
    return rbd_store_release(rbd->store)->name;
}

json_t *efk_rbd_op(efk_rbd *rbd, const char *op, const json_t *req, int *status)
{
    return rbd_svc_call(rbd->svc, op, req, NULL, NULL, status);
}

/* ---- typed actions ------------------------------------------------------------------------- */

/* Run an op; 0/-errno from "r", -EINVAL with err for a rejected request.
 * Steals `req`; *rep_out (optional) receives the reply. */
static int run(efk_rbd *rbd, const char *op, json_t *req, json_t **rep_out, efk_err *err)
{
    if (!req)
        return efk_err_set(err, -EINVAL, "invalid arguments");
    int status = 0;
    json_t *rep = rbd_svc_call(rbd->svc, op, req, NULL, NULL, &status);
    json_decref(req);
    int r;
    if (status != 200) {
        r = efk_err_set(err, -EINVAL, "%s",
                        json_string_value(json_object_get(rep, "error"))
                            ? json_string_value(json_object_get(rep, "error"))
                            : "invalid request");
    } else {
        r = (int)json_integer_value(json_object_get(rep, "r"));
    }
    if (rep_out)
        *rep_out = rep;
    else
        json_decref(rep);
    return r;
}

static json_t *spec_or_err(const char *spec, efk_err *err)
{
    json_t *req = spec_req(spec);
    if (!req)
        efk_err_set(err, -EINVAL,
                    "image \"%s\": expected \"pool/image\" or "
                    "\"pool/namespace/image\"",
                    spec ? spec : "(null)");
    return req;
}

int efk_rbd_lock_add(efk_rbd *rbd, const efk_rbd_lock *l, efk_err *err)
{
    if (!l || !l->cookie)
        return efk_err_set(err, -EINVAL, "a lock needs an image and a cookie");
    json_t *req = spec_or_err(l->image, err);
    if (!req)
        return -EINVAL;
    bool shared = l->tag && *l->tag;
    json_object_set_new(req, "cookie", json_string(l->cookie));
    json_object_set_new(req, "exclusive", json_boolean(!shared));
    json_object_set_new(req, "tag", json_string(shared ? l->tag : ""));
    uint64_t id = l->client;
    if (!id && l->node) {
        int r = rbd_store_client_new(rbd->store, l->node, 0, RBD_CLIENT_LIBRBD, NULL, &id);
        if (r < 0) {
            json_decref(req);
            return efk_err_set(err, r, "cannot add a client on node \"%s\"", l->node);
        }
    }
    if (id) {
        int r = 0;
        json_t *cj = rbd_store_client_get(rbd->store, id, &r);
        if (!cj) {
            json_decref(req);
            return efk_err_set(err, r, "no client %" PRIu64, id);
        }
        char ent[48];
        snprintf(ent, sizeof(ent), "client.%" PRIu64, id);
        json_object_set_new(req, "locker", json_string(ent));
        json_object_set(req, "address", json_object_get(cj, "address"));
        json_decref(cj);
    } else {
        if (l->locker)
            json_object_set_new(req, "locker", json_string(l->locker));
        if (l->address)
            json_object_set_new(req, "address", json_string(l->address));
    }
    return run(rbd, "lock_add", req, NULL, err);
}

int efk_rbd_lock_remove(efk_rbd *rbd, const char *image, const char *cookie, const char *locker,
                        efk_err *err)
{
    json_t *req = spec_or_err(image, err);
    if (!req)
        return -EINVAL;
    if (cookie)
        json_object_set_new(req, "cookie", json_string(cookie));
    if (locker)
        json_object_set_new(req, "locker", json_string(locker));
    return run(rbd, "lock_break", req, NULL, err);
}

int efk_rbd_client_add(efk_rbd *rbd, const char *node, const char *kind, uint32_t nonce,
                       uint64_t *id, efk_err *err)
{
    json_t *rep = NULL;
    int r =
        run(rbd, "client_add",
            json_pack("{s:s?, s:s?, s:I}", "node", node, "kind", kind, "nonce", (json_int_t)nonce),
            &rep, err);
    if (r == 0 && id)
        *id = (uint64_t)json_integer_value(json_object_get(rep, "client"));
    json_decref(rep);
    return r;
}

static int client_op(efk_rbd *rbd, const char *op, uint64_t id)
{
    return run(rbd, op, json_pack("{s:I}", "client", (json_int_t)id), NULL, NULL);
}

int efk_rbd_client_dead(efk_rbd *rbd, uint64_t id)
{
    return client_op(rbd, "client_dead", id);
}

int efk_rbd_client_alive(efk_rbd *rbd, uint64_t id)
{
    return client_op(rbd, "client_alive", id);
}

int efk_rbd_node_dead(efk_rbd *rbd, const char *node_ip)
{
    return run(rbd, "node_dead", json_pack("{s:s?}", "node", node_ip), NULL, NULL);
}

int efk_rbd_node_alive(efk_rbd *rbd, const char *node_ip)
{
    return run(rbd, "node_alive", json_pack("{s:s?}", "node", node_ip), NULL, NULL);
}

int efk_rbd_watcher_add(efk_rbd *rbd, const char *image, uint64_t client, const char *node,
                        uint64_t cookie, uint64_t *client_out, efk_err *err)
{
    json_t *req = spec_or_err(image, err);
    if (!req)
        return -EINVAL;
    if (client)
        json_object_set_new(req, "client", json_integer((json_int_t)client));
    if (node)
        json_object_set_new(req, strpbrk(node, "/") ? "address" : "node", json_string(node));
    if (cookie)
        json_object_set_new(req, "cookie", json_integer((json_int_t)cookie));
    json_t *rep = NULL;
    int r = run(rbd, "watch_add", req, &rep, err);
    if (r == 0 && client_out)
        *client_out = (uint64_t)json_integer_value(json_object_get(rep, "client"));
    json_decref(rep);
    return r;
}

int efk_rbd_watcher_remove(efk_rbd *rbd, const char *image, uint64_t client, uint64_t cookie,
                           efk_err *err)
{
    json_t *req = spec_or_err(image, err);
    if (!req)
        return -EINVAL;
    json_object_set_new(req, "client", json_integer((json_int_t)client));
    if (cookie)
        json_object_set_new(req, "cookie", json_integer((json_int_t)cookie));
    return run(rbd, "watch_del", req, NULL, err);
}

int efk_rbd_blocklist_add(efk_rbd *rbd, const char *addr, bool range, int64_t expire_ns,
                          efk_err *err)
{
    json_t *req = json_pack("{s:s?, s:b}", "addr", addr, "range", range);
    if (req && expire_ns >= 0)
        json_object_set_new(req, "expire", json_real((double)expire_ns / 1e9));
    return run(rbd, "blocklist_add", req, NULL, err);
}

int efk_rbd_blocklist_remove(efk_rbd *rbd, const char *addr, bool range, efk_err *err)
{
    return run(rbd, "blocklist_rm", json_pack("{s:s?, s:b}", "addr", addr, "range", range), NULL,
               err);
}

void efk_rbd_blocklist_clear(efk_rbd *rbd)
{
    (void)run(rbd, "blocklist_clear", json_object(), NULL, NULL);
}

int efk_rbd_caps_set(efk_rbd *rbd, const char *name, bool blocklist_allowed)
{
    return run(rbd, "caps_set",
               json_pack("{s:s?, s:b}", "name", name, "blocklist", blocklist_allowed), NULL, NULL);
}

/* ---- queries ----------------------------------------------------------------------------- */

json_t *efk_rbd_locks(efk_rbd *rbd, const char *image, int *r)
{
    char p[RBD_NAME_MAX], n[RBD_NAME_MAX], i[RBD_NAME_MAX];
    if (split_spec(image, p, n, i) < 0) {
        *r = -EINVAL;
        return NULL;
    }
    return rbd_store_lock_get(rbd->store, p, n, i, r);
}

json_t *efk_rbd_watchers(efk_rbd *rbd, const char *image, int *r)
{
    char p[RBD_NAME_MAX], n[RBD_NAME_MAX], i[RBD_NAME_MAX];
    if (split_spec(image, p, n, i) < 0) {
        *r = -EINVAL;
        return NULL;
    }
    json_t *im = rbd_store_image_get(rbd->store, p, n, i, r);
    json_t *w = im ? json_incref(json_object_get(im, "watchers")) : NULL;
    json_decref(im);
    return w;
}

json_t *efk_rbd_blocklist(efk_rbd *rbd)
{
    return rbd_store_blocklist_list(rbd->store);
}

bool efk_rbd_is_blocklisted(efk_rbd *rbd, const char *addr)
{
    rbd_addr a;
    if (rbd_addr_parse(addr, true, &a) < 0)
        return false;
    return rbd_store_is_blocklisted(rbd->store, &a);
}

json_t *efk_rbd_audit(efk_rbd *rbd, uint64_t since)
{
    return rbd_store_audit_list(rbd->store, since);
}

static bool value_matches(const json_t *want, const json_t *have)
{
    if (json_is_string(want) && json_is_string(have))
        return fnmatch(json_string_value(want), json_string_value(have), 0) == 0;
    return json_equal(want, have);
}

uint64_t efk_rbd_audit_find(efk_rbd *rbd, uint64_t since, const json_t *pattern)
{
    json_t *all = rbd_store_audit_list(rbd->store, since);
    uint64_t seq = 0;
    size_t i;
    json_t *e;
    json_array_foreach (all, i, e) {
        bool ok = true;
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)pattern, k, v) {
            if (!value_matches(v, json_object_get(e, k))) {
                ok = false;
                break;
            }
        }
        if (ok) {
            seq = (uint64_t)json_integer_value(json_object_get(e, "seq"));
            break;
        }
    }
    json_decref(all);
    return seq;
}
