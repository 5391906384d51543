/*
 * rbd_svc.c - request/reply operations on the store, with the audit trail.
 *
 * Every handler validates its fields first and answers a malformed request
 * with 400 and {"error": "..."} naming the field, before touching the store;
 * so a bad request never changes state.
 */
#include "rbd_svc.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

/* The recent invocations (argv and tool), so that every op entry of the
 * audit log names the command line that did it. A ring: the oldest are
 * forgotten first (their ops then carry only the invocation id). */
#define SVC_INVOCATIONS 4096

struct rbd_svc {
    rbd_store *store;
    bool cephx;
    bool conf_missing;
    pthread_mutex_t mu;
    rng rng;
    json_int_t next_invocation;
    json_t *inv[SVC_INVOCATIONS]; /* {"tool", "argv"} by id % SVC_INVOCATIONS */
    json_int_t inv_id[SVC_INVOCATIONS];
};

rbd_svc *rbd_svc_new(rbd_store *store, bool cephx, uint64_t seed)
{
    rbd_svc *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    v->store = store;
    v->cephx = cephx;
    pthread_mutex_init(&v->mu, NULL);
    rng_init(&v->rng, seed, "rbd-svc");
    v->next_invocation = 1;
    return v;
}

void rbd_svc_free(rbd_svc *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < SVC_INVOCATIONS; i++)
        json_decref(v->inv[i]);
    pthread_mutex_destroy(&v->mu);
    free(v);
}

void rbd_svc_set_conf_missing(rbd_svc *v, bool missing)
{
    v->conf_missing = missing;
}

rbd_store *rbd_svc_store(rbd_svc *v)
{
    return v->store;
}

/* ---- request fields --------------------------------------------------------------- */

typedef struct req_ctx {
    const json_t *req;
    char error[512];
    int status;
} req_ctx;

static bool bad(req_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool bad(req_ctx *c, const char *fmt, ...)
{
    if (!c->error[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->error, sizeof(c->error), fmt, ap);
        va_end(ap);
    }
    c->status = 400;
    return false;
}

static bool get_str_max(req_ctx *c, const char *k, bool required, size_t max, const char **out)
{
    const json_t *v = json_object_get(c->req, k);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return bad(c, "missing field '%s' (a string)", k);
        return true;
    }
    if (!json_is_string(v))
        return bad(c, "field '%s' must be a string", k);
    if (json_string_length(v) > max)
        return bad(c, "field '%s' is longer than %zu bytes", k, max);
    *out = json_string_value(v);
    return true;
}

static bool get_str(req_ctx *c, const char *k, bool required, const char **out)
{
    return get_str_max(c, k, required, 4095, out);
}

static bool get_int(req_ctx *c, const char *k, bool required, json_int_t *out)
{
    const json_t *v = json_object_get(c->req, k);
    if (!v || json_is_null(v)) {
        if (required)
            return bad(c, "missing field '%s' (an integer)", k);
        return true;
    }
    if (!json_is_integer(v))
        return bad(c, "field '%s' must be an integer", k);
    *out = json_integer_value(v);
    return true;
}

static bool get_bool(req_ctx *c, const char *k, bool *out)
{
    const json_t *v = json_object_get(c->req, k);
    if (!v || json_is_null(v))
        return true;
    if (!json_is_boolean(v))
        return bad(c, "field '%s' must be true or false", k);
    *out = json_is_true(v);
    return true;
}

static json_t *reply_r(int r)
{
    return json_pack("{s:i}", "r", r);
}

/* ---- audit --------------------------------------------------------------------------- */

/* An audit entry for an op: who (invocation, client) and the request's
 * identifying fields, plus the result. Steals nothing. */
static void audit_op(rbd_svc *v, const char *op, const json_t *req, int r, const char *fault)
{
    json_t *e = json_pack("{s:s, s:s}", "event", json_object_get(req, "invocation") ? "op" : "api",
                          "op", op);
    if (!e)
        return;
    static const char *const keys[] = {"invocation", "pool",       "namespace", "image",  "cookie",
                                       "locker",     "exclusive",  "tag",       "addr",   "range",
                                       "expire",     "name",       "node",      "device", "snap",
                                       "size",       "cephx_name", NULL};
    for (const char *const *k = keys; *k; k++) {
        json_t *x = json_object_get(req, *k);
        if (x)
            json_object_set(e, *k, x);
    }
    json_t *iv = json_object_get(req, "invocation");
    if (json_is_integer(iv)) {
        json_int_t id = json_integer_value(iv);
        pthread_mutex_lock(&v->mu);
        size_t slot = (size_t)(id % SVC_INVOCATIONS);
        if (v->inv_id[slot] == id && v->inv[slot]) {
            json_object_set(e, "tool", json_object_get(v->inv[slot], "tool"));
            json_object_set(e, "argv", json_object_get(v->inv[slot], "argv"));
        }
        pthread_mutex_unlock(&v->mu);
    }
    json_t *cl = json_object_get(req, "client");
    if (json_is_integer(cl)) {
        char name[48];
        snprintf(name, sizeof(name), "client.%" JSON_INTEGER_FORMAT, json_integer_value(cl));
        json_object_set_new(e, "client", json_string(name));
    }
    json_object_set_new(e, "r", json_integer(r));
    if (fault)
        json_object_set_new(e, "fault", json_string(fault));
    rbd_store_audit_add(v->store, e);
}

/* ---- tool protocol ----------------------------------------------------------------- */

static bool is_command_fault(const char *a)
{
    return a && (strcmp(a, "rbd_fail") == 0 || strcmp(a, "rbd_hang") == 0 ||
                 strcmp(a, "rbd_partial") == 0 || strcmp(a, "rbd_mon_unreachable") == 0 ||
                 strcmp(a, "rbd_auth_error") == 0);
}

static json_t *op_invoke(rbd_svc *v, req_ctx *c, const char *fa, const json_t *fp)
{
    const char *tool, *node, *cmdline;
    json_int_t pid = 0;
    const json_t *argv = json_object_get(c->req, "argv");
    if (!get_str(c, "tool", true, &tool) || !get_str(c, "node", false, &node) ||
        !get_str_max(c, "cmdline", false, 2u << 20, &cmdline) || !get_int(c, "pid", false, &pid))
        return NULL;
    if (strcmp(tool, "rbd") != 0 && strcmp(tool, "ceph") != 0)
        return bad(c, "field '%s' must be \"rbd\" or \"ceph\"", "tool"), NULL;
    if (argv && !json_is_array(argv))
        return bad(c, "field '%s' must be an array of strings", "argv"), NULL;
    pthread_mutex_lock(&v->mu);
    json_int_t inv = v->next_invocation++;
    char thread[24];
    snprintf(thread, sizeof(thread), "7f%010" PRIx64,
             (uint64_t)(rng_next(&v->rng) & 0xffffffffffULL));
    size_t slot = (size_t)(inv % SVC_INVOCATIONS);
    json_decref(v->inv[slot]);
    v->inv[slot] = json_pack("{s:s, s:O}", "tool", tool, "argv", argv ? argv : json_null());
    v->inv_id[slot] = inv;
    pthread_mutex_unlock(&v->mu);
    json_t *e = json_pack("{s:s, s:I, s:s, s:O, s:s, s:I}", "event", "invoke", "invocation", inv,
                          "tool", tool, "argv", argv ? argv : json_null(), "node",
                          node ? node : "127.0.0.1", "pid", pid);
    if (e && is_command_fault(fa))
        json_object_set_new(e, "fault", json_string(fa));
    rbd_store_audit_add(v->store, e);
    json_t *rep =
        json_pack("{s:i, s:I, s:s, s:s, s:I, s:s}", "r", 0, "invocation", inv, "release",
                  rbd_store_release(v->store)->name, "auth", v->cephx ? "cephx" : "none", "time",
                  (json_int_t)clock_wall_ns(rbd_store_clock(v->store)), "thread", thread);
    if (rep && v->conf_missing)
        json_object_set_new(rep, "conf_missing", json_true());
    if (rep && is_command_fault(fa))
        json_object_set_new(
            rep, "fault", json_pack("{s:s, s:O}", "action", fa, "params", fp ? fp : json_object()));
    return rep;
}

static json_t *op_connect(rbd_svc *v, req_ctx *c)
{
    const char *name, *key, *node;
    json_int_t nonce = 0, inv = 0;
    if (!get_str(c, "name", false, &name) || !get_str(c, "key", false, &key) ||
        !get_str(c, "node", true, &node) || !get_int(c, "nonce", false, &nonce) ||
        !get_int(c, "invocation", false, &inv))
        return NULL;
    if (nonce < 0 || nonce > UINT32_MAX)
        return bad(c, "field '%s' must be within 0..4294967295", "nonce"), NULL;
    rbd_addr a;
    if (rbd_ip_parse(node, &a) < 0)
        return bad(c, "field '%s' must be an IP address", "node"), NULL;
    const char *who = name && *name ? name : "client.admin";
    int r = 0;
    if (v->cephx && (!key || rbd_store_key_check(v->store, who, key) < 0))
        r = -EPERM;
    uint64_t id = 0;
    if (r == 0)
        r = rbd_store_client_new(v->store, node, (uint32_t)nonce, RBD_CLIENT_CLI, who, &id);
    json_t *cl = r == 0 ? rbd_store_client_get(v->store, id, &r) : NULL;
    json_t *e = json_pack("{s:s, s:I, s:s, s:s, s:i}", "event", "connect", "invocation", inv,
                          "name", who, "node", node, "r", r);
    if (e && cl) {
        char n[48];
        snprintf(n, sizeof(n), "client.%" PRIu64, id);
        json_object_set_new(e, "client", json_string(n));
        json_object_set(e, "address", json_object_get(cl, "address"));
    }
    rbd_store_audit_add(v->store, e);
    json_t *rep = reply_r(r);
    if (rep && cl) {
        json_object_set_new(rep, "client", json_integer((json_int_t)id));
        json_object_set(rep, "address", json_object_get(cl, "address"));
    }
    json_decref(cl);
    return rep;
}

static json_t *op_exit(rbd_svc *v, req_ctx *c)
{
    json_int_t inv = 0, client = 0, code = 0, bytes = 0;
    const char *so, *se;
    bool hang = false;
    if (!get_int(c, "invocation", true, &inv) || !get_int(c, "client", false, &client) ||
        !get_int(c, "exit", true, &code) || !get_int(c, "stdout_bytes", false, &bytes) ||
        !get_str(c, "stdout", false, &so) || !get_str(c, "stderr", false, &se) ||
        !get_bool(c, "hang", &hang))
        return NULL;
    if (client > 0)
        (void)rbd_store_client_close(v->store, (uint64_t)client);
    json_t *e = json_pack("{s:s, s:I, s:I, s:s, s:s, s:I, s:b}", "event", "exit", "invocation", inv,
                          "exit", code, "stdout", so ? so : "", "stderr", se ? se : "",
                          "stdout_bytes", bytes, "hang", hang);
    if (e && client > 0) {
        char n[48];
        snprintf(n, sizeof(n), "client.%" JSON_INTEGER_FORMAT, client);
        json_object_set_new(e, "client", json_string(n));
    }
    rbd_store_audit_add(v->store, e);
    return reply_r(0);
}

/* ---- ops on pools and images ---------------------------------------------------------- */

typedef struct img_ref {
    const char *pool, *ns, *image;
} img_ref;

static bool get_img(req_ctx *c, img_ref *i, bool need_image)
{
    return get_str(c, "pool", true, &i->pool) && get_str(c, "namespace", false, &i->ns) &&
           get_str(c, "image", need_image, &i->image);
}

/* 0 when the request is from the runner (no client) or from a client that
 * may reach the OSDs; -108 for a fenced one, -ENOENT for a closed one. */
static int osd_access(rbd_svc *v, req_ctx *c, bool *bad_req)
{
    json_int_t cl = 0;
    *bad_req = false;
    if (!json_object_get(c->req, "client"))
        return 0;
    if (!get_int(c, "client", true, &cl)) {
        *bad_req = true;
        return 0;
    }
    return rbd_store_client_check(v->store, (uint64_t)cl);
}

static json_t *op_pool_check(rbd_svc *v, req_ctx *c)
{
    img_ref i;
    if (!get_img(c, &i, false))
        return NULL;
    int r = rbd_store_ns_check(v->store, i.pool, i.ns ? i.ns : "");
    json_t *rep = reply_r(r);
    if (rep)
        json_object_set_new(rep, "pool_exists",
                            json_boolean(rbd_store_ns_check(v->store, i.pool, "") == 0));
    return rep;
}

static json_t *op_image_get(rbd_svc *v, req_ctx *c, const char *key)
{
    img_ref i;
    bool br;
    if (!get_img(c, &i, true))
        return NULL;
    int r = osd_access(v, c, &br);
    if (br)
        return NULL;
    json_t *im = NULL;
    if (r == 0)
        im = strcmp(key, "lock") == 0 ? rbd_store_lock_get(v->store, i.pool, i.ns, i.image, &r)
                                      : rbd_store_image_get(v->store, i.pool, i.ns, i.image, &r);
    json_t *rep = reply_r(r);
    if (rep && im)
        json_object_set_new(rep, key, im);
    else
        json_decref(im);
    return rep;
}

static json_t *op_image_list(rbd_svc *v, req_ctx *c)
{
    img_ref i;
    bool br;
    if (!get_img(c, &i, false))
        return NULL;
    int r = osd_access(v, c, &br);
    if (br)
        return NULL;
    json_t *l = r == 0 ? rbd_store_image_list(v->store, i.pool, i.ns, &r) : NULL;
    json_t *rep = reply_r(r);
    if (rep && l)
        json_object_set_new(rep, "images", l);
    else
        json_decref(l);
    return rep;
}

static json_t *op_image_create(rbd_svc *v, req_ctx *c)
{
    img_ref i;
    json_int_t size = 0, order = 0, format = 0, features = -1;
    const char *id, *prefix;
    bool br;
    if (!get_img(c, &i, true) || !get_int(c, "size", true, &size) ||
        !get_int(c, "order", false, &order) || !get_int(c, "format", false, &format) ||
        (!json_is_array(json_object_get(c->req, "features")) &&
         !get_int(c, "features", false, &features)) ||
        !get_str(c, "id", false, &id) || !get_str(c, "block_name_prefix", false, &prefix))
        return NULL;
    if (size < 0)
        return bad(c, "field '%s' must not be negative", "size"), NULL;
    const json_t *feats = json_object_get(c->req, "features");
    uint32_t mask = 0;
    bool fset = false;
    if (json_is_array(feats)) {
        size_t k;
        const json_t *f;
        json_array_foreach (feats, k, f) {
            uint32_t b = json_is_string(f) ? rbd_feature_bit(json_string_value(f)) : 0;
            if (!b)
                return bad(c, "field '%s' has an unknown feature name", "features"), NULL;
            mask |= b;
        }
        fset = true;
    } else if (features >= 0) {
        mask = (uint32_t)features;
        fset = true;
    }
    int r = osd_access(v, c, &br);
    if (br)
        return NULL;
    if (r == 0) {
        rbd_image_spec spec = {.size = (uint64_t)size,
                               .order = (int)order,
                               .format = (int)format,
                               .features = mask,
                               .features_set = fset,
                               .id = id,
                               .block_name_prefix = prefix};
        r = rbd_store_image_create(v->store, i.pool, i.ns, i.image, &spec);
    }
    audit_op(v, "image_create", c->req, r, NULL);
    return reply_r(r);
}

static json_t *op_image_remove(rbd_svc *v, req_ctx *c)
{
    img_ref i;
    bool br;
    if (!get_img(c, &i, true))
        return NULL;
    int r = osd_access(v, c, &br);
    if (br)
        return NULL;
    if (r == 0)
        r = rbd_store_image_remove(v->store, i.pool, i.ns, i.image);
    audit_op(v, "image_remove", c->req, r, NULL);
    return reply_r(r);
}

/* ---- locks ----------------------------------------------------------------------------- */

static json_t *op_lock_add(rbd_svc *v, req_ctx *c)
{
    img_ref i;
    const char *cookie, *tag, *locker, *address, *desc;
    bool exclusive = true, br;
    json_int_t cl = 0;
    if (!get_img(c, &i, true) || !get_str(c, "cookie", true, &cookie) ||
        !get_str(c, "tag", false, &tag) || !get_bool(c, "exclusive", &exclusive) ||
        !get_str(c, "locker", false, &locker) || !get_str(c, "address", false, &address) ||
        !get_str(c, "description", false, &desc) || !get_int(c, "client", false, &cl))
        return NULL;
    rbd_entity who;
    rbd_addr addr;
    int r = osd_access(v, c, &br);
    if (br)
        return NULL;
    if (cl > 0) {
        json_t *j = rbd_store_client_get(v->store, (uint64_t)cl, &r);
        if (j) {
            who = (rbd_entity){RBD_ENT_CLIENT, cl};
            if (rbd_addr_parse(json_string_value(json_object_get(j, "address")), true, &addr) < 0)
                r = -EINVAL;
        }
        json_decref(j);
    } else {
        if (!locker || !address)
            return bad(c, "a lock needs a '%s' (client id) or both 'locker' and 'address'",
                       "client"),
                   NULL;
        if (rbd_entity_parse(locker, &who) < 0)
            return bad(c, "field '%s' must be an entity name like client.4120", "locker"), NULL;
        if (rbd_addr_parse(address, true, &addr) < 0)
            return bad(c, "field '%s' must be an address like 10.0.0.1:0/123", "address"), NULL;
    }
    if (r == 0)
        r = rbd_store_lock_add(v->store, i.pool, i.ns, i.image, &who, &addr, cookie, exclusive, tag,
                               desc);
    audit_op(v, "lock_add", c->req, r, NULL);
    return reply_r(r);
}

static json_t *op_lock_break(rbd_svc *v, req_ctx *c)
{
    img_ref i;
    const char *cookie, *locker;
    bool br;
    if (!get_img(c, &i, true) || !get_str(c, "cookie", true, &cookie) ||
        !get_str(c, "locker", true, &locker))
        return NULL;
    int r = osd_access(v, c, &br);
    if (br)
        return NULL;
    rbd_entity who;
    if (r == 0 && rbd_entity_parse(locker, &who) < 0)
        r = -EINVAL;
    if (r == 0)
        r = rbd_store_lock_break(v->store, i.pool, i.ns, i.image, &who, cookie);
    audit_op(v, "lock_break", c->req, r, NULL);
    return reply_r(r);
}

/* ---- watchers, clients, nodes ------------------------------------------------------------ */

static json_t *op_client_add(rbd_svc *v, req_ctx *c)
{
    const char *node, *kind, *name;
    json_int_t nonce = 0;
    if (!get_str(c, "node", true, &node) || !get_str(c, "kind", false, &kind) ||
        !get_str(c, "name", false, &name) || !get_int(c, "nonce", false, &nonce))
        return NULL;
    if (nonce < 0 || nonce > UINT32_MAX)
        return bad(c, "field '%s' must be within 0..4294967295", "nonce"), NULL;
    rbd_client_kind k = RBD_CLIENT_LIBRBD;
    if (kind && strcmp(kind, "krbd") == 0)
        k = RBD_CLIENT_KRBD;
    else if (kind && strcmp(kind, "seed") == 0)
        k = RBD_CLIENT_SEED;
    else if (kind && strcmp(kind, "librbd") != 0)
        return bad(c, "field '%s' must be \"librbd\", \"krbd\" or \"seed\"", "kind"), NULL;
    uint64_t id = 0;
    int r = rbd_store_client_new(v->store, node, (uint32_t)nonce, k, name, &id);
    if (r == -EINVAL)
        return bad(c, "field '%s' must be an IP address", "node"), NULL;
    json_t *cl = r == 0 ? rbd_store_client_get(v->store, id, &r) : NULL;
    audit_op(v, "client_add", c->req, r, NULL);
    json_t *rep = reply_r(r);
    if (rep && cl) {
        json_object_set_new(rep, "client", json_integer((json_int_t)id));
        json_object_set(rep, "address", json_object_get(cl, "address"));
    }
    json_decref(cl);
    return rep;
}

static json_t *op_client_state(rbd_svc *v, req_ctx *c, const char *op)
{
    json_int_t cl = 0;
    if (!get_int(c, "client", true, &cl))
        return NULL;
    int r = strcmp(op, "client_dead") == 0    ? rbd_store_client_dead(v->store, (uint64_t)cl)
            : strcmp(op, "client_alive") == 0 ? rbd_store_client_alive(v->store, (uint64_t)cl)
                                              : rbd_store_client_close(v->store, (uint64_t)cl);
    audit_op(v, op, c->req, r, NULL);
    return reply_r(r);
}

static json_t *op_node_state(rbd_svc *v, req_ctx *c, bool dead)
{
    const char *node;
    if (!get_str(c, "node", true, &node))
        return NULL;
    int n = dead ? rbd_store_node_dead(v->store, node) : rbd_store_node_alive(v->store, node);
    if (n == -EINVAL)
        return bad(c, "field '%s' must be an IP address", "node"), NULL;
    audit_op(v, dead ? "node_dead" : "node_alive", c->req, 0, NULL);
    json_t *rep = reply_r(0);
    if (rep)
        json_object_set_new(rep, "clients", json_integer(n));
    return rep;
}

static json_t *op_watch(rbd_svc *v, req_ctx *c, bool add)
{
    img_ref i;
    json_int_t cl = 0, cookie = 0;
    const char *node, *address;
    if (!get_img(c, &i, true) || !get_int(c, "client", false, &cl) ||
        !get_int(c, "cookie", false, &cookie) || !get_str(c, "node", false, &node) ||
        !get_str(c, "address", false, &address))
        return NULL;
    if (cookie < 0)
        return bad(c, "field '%s' must not be negative", "cookie"), NULL;
    int r = 0;
    if (add && cl <= 0) {
        /* a new librbd client: on a node, or at an exact address */
        char ip[RBD_ADDR_STR_MAX];
        uint32_t nonce = 0;
        if (address) {
            rbd_addr a;
            if (rbd_addr_parse(address, true, &a) < 0 || a.nonce == 0)
                return bad(c, "field '%s' must be an address like 10.0.0.1:0/123", "address"), NULL;
            rbd_addr_ip(&a, ip, sizeof(ip));
            nonce = a.nonce;
            node = ip;
        }
        if (!node)
            return bad(c, "a watcher needs a '%s' (client id), a 'node' or an 'address'", "client"),
                   NULL;
        uint64_t id = 0;
        r = rbd_store_client_new(v->store, node, nonce, RBD_CLIENT_LIBRBD, NULL, &id);
        if (r == -EINVAL)
            return bad(c, "field '%s' must be an IP address", "node"), NULL;
        cl = (json_int_t)id;
    } else if (cl <= 0) {
        return bad(c, "missing field '%s' (an integer)", "client"), NULL;
    }
    uint64_t got = 0;
    if (r == 0)
        r = add ? rbd_store_watch_add(v->store, i.pool, i.ns, i.image, (uint64_t)cl,
                                      (uint64_t)cookie, &got)
                : rbd_store_watch_del(v->store, i.pool, i.ns, i.image, (uint64_t)cl,
                                      (uint64_t)cookie);
    audit_op(v, add ? "watch_add" : "watch_del", c->req, r, NULL);
    json_t *rep = reply_r(r);
    if (rep && add && r == 0) {
        json_object_set_new(rep, "client", json_integer(cl));
        json_object_set_new(rep, "cookie", json_integer((json_int_t)got));
    }
    return rep;
}

static json_t *op_image_write(rbd_svc *v, req_ctx *c)
{
    img_ref i;
    json_int_t cl = 0;
    if (!get_img(c, &i, true) || !get_int(c, "client", true, &cl))
        return NULL;
    int r = rbd_store_image_write(v->store, i.pool, i.ns, i.image, (uint64_t)cl);
    audit_op(v, "image_write", c->req, r, NULL);
    return reply_r(r);
}

/* ---- mappings --------------------------------------------------------------------------- */

static json_t *op_map(rbd_svc *v, req_ctx *c)
{
    img_ref i;
    const char *node, *snap;
    bool ro = false;
    if (!get_img(c, &i, true) || !get_str(c, "node", true, &node) ||
        !get_str(c, "snap", false, &snap) || !get_bool(c, "read_only", &ro))
        return NULL;
    rbd_addr a;
    if (rbd_ip_parse(node, &a) < 0)
        return bad(c, "field '%s' must be an IP address", "node"), NULL;
    int r = 0, dev = 0;
    uint64_t client = 0;
    if (snap && *snap)
        r = -ENOENT; /* snapshots are not modelled */
    else if (rbd_store_is_blocklisted(v->store, &a))
        r = -RBD_EBLOCKLISTED; /* the new kernel client's IP is fenced */
    else
        r = rbd_store_map(v->store, node, i.pool, i.ns, i.image, snap, ro, &dev, &client);
    audit_op(v, "map", c->req, r, NULL);
    json_t *rep = reply_r(r);
    if (rep && r == 0) {
        char d[32];
        snprintf(d, sizeof(d), "/dev/rbd%d", dev);
        json_object_set_new(rep, "device", json_string(d));
        json_object_set_new(rep, "id", json_integer(dev));
        json_object_set_new(rep, "watcher_client", json_integer((json_int_t)client));
    }
    return rep;
}

static json_t *op_unmap(rbd_svc *v, req_ctx *c)
{
    const char *node, *device, *pool, *ns, *image, *snap;
    if (!get_str(c, "node", true, &node) || !get_str(c, "device", false, &device) ||
        !get_str(c, "pool", false, &pool) || !get_str(c, "namespace", false, &ns) ||
        !get_str(c, "image", false, &image) || !get_str(c, "snap", false, &snap))
        return NULL;
    int r;
    if (device) {
        char *end = NULL;
        long id = -1;
        if (strncmp(device, "/dev/rbd", 8) == 0 && device[8])
            id = strtol(device + 8, &end, 10);
        r = (id >= 0 && end && !*end)
                ? rbd_store_unmap(v->store, node, (int)id, NULL, NULL, NULL, NULL)
                : -EINVAL;
    } else if (pool && image) {
        r = rbd_store_unmap(v->store, node, -1, pool, ns, image, snap);
    } else {
        return bad(c, "unmap needs a '%s' or a pool and an image", "device"), NULL;
    }
    audit_op(v, "unmap", c->req, r, NULL);
    return reply_r(r);
}

static json_t *op_showmapped(rbd_svc *v, req_ctx *c)
{
    const char *node;
    if (!get_str(c, "node", false, &node))
        return NULL;
    json_t *rep = reply_r(0);
    if (rep)
        json_object_set_new(rep, "devices", rbd_store_mappings(v->store, node));
    return rep;
}

/* ---- blocklist (monitor commands) ---------------------------------------------------------- */

static json_t *op_blocklist(rbd_svc *v, req_ctx *c, const char *op)
{
    const char *addrstr = NULL, *name = NULL;
    bool range = false;
    const json_t *exp = json_object_get(c->req, "expire");
    if (!get_str(c, "name", false, &name) || !get_bool(c, "range", &range))
        return NULL;
    bool is_ls = strcmp(op, "blocklist_ls") == 0, is_clear = strcmp(op, "blocklist_clear") == 0;
    if (!is_ls && !is_clear && !get_str(c, "addr", true, &addrstr))
        return NULL;
    if (exp && !json_is_null(exp) && (!json_is_number(exp) || json_number_value(exp) < 0))
        return bad(c, "field '%s' must be a number of seconds >= 0", "expire"), NULL;
    if (is_ls) {
        json_t *rep = reply_r(0);
        if (rep)
            json_object_set_new(rep, "entries", rbd_store_blocklist_list(v->store));
        return rep;
    }
    /* a tool user needs mon caps for changes; the runner does not */
    bool tool = json_object_get(c->req, "invocation") != NULL;
    if (tool && !rbd_store_caps_blocklist(v->store, name ? name : "client.admin")) {
        audit_op(v, op, c->req, -EACCES, NULL);
        return reply_r(-EACCES);
    }
    if (is_clear) {
        rbd_store_blocklist_clear(v->store);
        audit_op(v, op, c->req, 0, NULL);
        return reply_r(0);
    }
    rbd_addr a;
    char msg[600] = "";
    int r = 0;
    if (rbd_addr_parse(addrstr, false, &a) < 0) {
        snprintf(msg, sizeof(msg), "unable to parse address %s", addrstr);
        r = -EINVAL;
    }
    char printed[RBD_ADDR_STR_MAX + 8] = "";
    if (r == 0) {
        char tmp[RBD_ADDR_STR_MAX];
        rbd_addr_format(&a, tmp, sizeof(tmp));
        snprintf(printed, sizeof(printed), "%s%s", range ? "cidr:" : "", tmp);
    }
    if (r == 0 && range) {
        uint32_t bits = a.family == AF_INET6 ? 128 : 32;
        if (a.port != 0) {
            snprintf(msg, sizeof(msg),
                     "You specified a range command, but %s does not parse as a CIDR range",
                     printed + 5);
            r = -EINVAL;
        } else if (a.nonce > bits) {
            snprintf(msg, sizeof(msg), "Too many bits in range for that protocol!");
            r = -EINVAL;
        }
    }
    json_t *rep = NULL;
    if (r == 0 && strcmp(op, "blocklist_add") == 0) {
        double secs = exp && json_is_number(exp) ? json_number_value(exp) : -1;
        int64_t until = 0;
        int64_t ns = secs >= 0 ? (int64_t)llround(secs * 1e9) : -1;
        r = rbd_store_blocklist_add(v->store, &a, range, ns, &until);
        rep = reply_r(r);
        if (rep && r == 0) {
            json_object_set_new(rep, "until", json_integer((json_int_t)until));
            json_object_set_new(
                rep, "expire",
                json_real(secs >= 0
                              ? secs
                              : (double)(until - clock_wall_ns(rbd_store_clock(v->store))) / 1e9));
        }
    } else if (r == 0) {
        r = rbd_store_blocklist_rm(v->store, &a, range);
        rep = reply_r(r);
    } else {
        rep = reply_r(r);
        if (rep)
            json_object_set_new(rep, "message", json_string(msg));
    }
    if (rep && printed[0])
        json_object_set_new(rep, "printed", json_string(printed));
    audit_op(v, op, c->req, r, NULL);
    return rep;
}

/* ---- admin ------------------------------------------------------------------------------- */

static json_t *op_pool(rbd_svc *v, req_ctx *c, const char *op)
{
    const char *name, *pool;
    int r;
    if (strcmp(op, "namespace_add") == 0) {
        if (!get_str(c, "pool", true, &pool) || !get_str(c, "name", true, &name))
            return NULL;
        r = rbd_store_ns_add(v->store, pool, name);
    } else {
        if (!get_str(c, "name", true, &name))
            return NULL;
        r = strcmp(op, "pool_add") == 0 ? rbd_store_pool_add(v->store, name)
                                        : rbd_store_pool_del(v->store, name);
    }
    audit_op(v, op, c->req, r, NULL);
    return reply_r(r);
}

static json_t *op_caps(rbd_svc *v, req_ctx *c, const char *op)
{
    const char *name, *key;
    bool allow = true;
    if (!get_str(c, "name", true, &name))
        return NULL;
    int r;
    if (strcmp(op, "caps_set") == 0) {
        if (!get_bool(c, "blocklist", &allow))
            return NULL;
        r = rbd_store_caps_set(v->store, name, allow);
    } else {
        if (!get_str(c, "key", false, &key))
            return NULL;
        r = rbd_store_key_set(v->store, name, key);
    }
    audit_op(v, op, c->req, r, NULL);
    return reply_r(r);
}

/* ---- dispatch ------------------------------------------------------------------------------- */

json_t *rbd_svc_call(rbd_svc *v, const char *op, const json_t *req, const char *fa,
                     const json_t *fp, int *status)
{
    req_ctx c = {.req = req, .status = 200};
    json_t *empty = NULL;
    if (!req) {
        empty = json_object();
        c.req = empty;
    }
    if (!json_is_object(c.req)) {
        *status = 400;
        return json_pack("{s:s}", "error", "the request body must be a JSON object");
    }
    json_t *rep = NULL;
    bool known = true;
    if (fa && strcmp(fa, "rbd_errno") == 0 && strcmp(op, "invoke") != 0 &&
        strcmp(op, "exit") != 0) {
        json_int_t e = json_integer_value(json_object_get(fp, "errno"));
        int r = -(int)(e > 0 ? e : EIO);
        audit_op(v, op, c.req, r, "rbd_errno");
        json_decref(empty);
        *status = 200;
        return reply_r(r);
    }
    if (strcmp(op, "invoke") == 0)
        rep = op_invoke(v, &c, fa, fp);
    else if (strcmp(op, "connect") == 0)
        rep = op_connect(v, &c);
    else if (strcmp(op, "exit") == 0)
        rep = op_exit(v, &c);
    else if (strcmp(op, "pool_check") == 0)
        rep = op_pool_check(v, &c);
    else if (strcmp(op, "image_get") == 0)
        rep = op_image_get(v, &c, "image");
    else if (strcmp(op, "lock_list") == 0)
        rep = op_image_get(v, &c, "lock");
    else if (strcmp(op, "image_list") == 0)
        rep = op_image_list(v, &c);
    else if (strcmp(op, "image_create") == 0)
        rep = op_image_create(v, &c);
    else if (strcmp(op, "image_remove") == 0)
        rep = op_image_remove(v, &c);
    else if (strcmp(op, "lock_add") == 0)
        rep = op_lock_add(v, &c);
    else if (strcmp(op, "lock_break") == 0)
        rep = op_lock_break(v, &c);
    else if (strcmp(op, "client_add") == 0)
        rep = op_client_add(v, &c);
    else if (strcmp(op, "client_dead") == 0 || strcmp(op, "client_alive") == 0 ||
             strcmp(op, "client_close") == 0)
        rep = op_client_state(v, &c, op);
    else if (strcmp(op, "node_dead") == 0 || strcmp(op, "node_alive") == 0)
        rep = op_node_state(v, &c, strcmp(op, "node_dead") == 0);
    else if (strcmp(op, "watch_add") == 0 || strcmp(op, "watch_del") == 0)
        rep = op_watch(v, &c, strcmp(op, "watch_add") == 0);
    else if (strcmp(op, "image_write") == 0)
        rep = op_image_write(v, &c);
    else if (strcmp(op, "map") == 0)
        rep = op_map(v, &c);
    else if (strcmp(op, "unmap") == 0)
        rep = op_unmap(v, &c);
    else if (strcmp(op, "showmapped") == 0)
        rep = op_showmapped(v, &c);
    else if (strncmp(op, "blocklist_", 10) == 0 &&
             (strcmp(op + 10, "add") == 0 || strcmp(op + 10, "rm") == 0 ||
              strcmp(op + 10, "ls") == 0 || strcmp(op + 10, "clear") == 0))
        rep = op_blocklist(v, &c, op);
    else if (strcmp(op, "pool_add") == 0 || strcmp(op, "pool_del") == 0 ||
             strcmp(op, "namespace_add") == 0)
        rep = op_pool(v, &c, op);
    else if (strcmp(op, "caps_set") == 0 || strcmp(op, "key_set") == 0)
        rep = op_caps(v, &c, op);
    else if (strcmp(op, "state") == 0)
        rep = json_pack("{s:i, s:o}", "r", 0, "state", rbd_store_state(v->store));
    else if (strcmp(op, "audit") == 0) {
        json_int_t since = 0;
        if (get_int(&c, "since", false, &since))
            rep = json_pack("{s:i, s:o}", "r", 0, "entries",
                            rbd_store_audit_list(v->store, since > 0 ? (uint64_t)since : 0));
    } else if (strcmp(op, "reset") == 0) {
        rbd_store_reset(v->store);
        rep = reply_r(0);
    } else
        known = false;
    json_decref(empty);
    if (!known) {
        *status = 404;
        return json_pack("{s:s}", "error", "no such operation");
    }
    if (!rep) {
        *status = c.status == 200 ? 500 : c.status;
        return json_pack("{s:s}", "error", c.error[0] ? c.error : "out of memory");
    }
    *status = 200;
    return rep;
}

/* ---- fault actions ------------------------------------------------------------------------ */

static int check_int(const json_t *p, const char *k, bool required, json_int_t lo, json_int_t hi,
                     efk_err *err)
{
    const json_t *x = json_object_get(p, k);
    char ptr[64];
    snprintf(ptr, sizeof(ptr), "/%s", k);
    if (!x) {
        if (!required)
            return 0;
        efk_err_at(err, ptr);
        return efk_err_set(err, -EINVAL, "missing '%s' (an integer)", k);
    }
    if (!json_is_integer(x) || json_integer_value(x) < lo || json_integer_value(x) > hi) {
        efk_err_at(err, ptr);
        return efk_err_set(err, -EINVAL,
                           "'%s' must be an integer in %" JSON_INTEGER_FORMAT
                           "..%" JSON_INTEGER_FORMAT,
                           k, lo, hi);
    }
    return 0;
}

static int check_strs(const json_t *p, efk_err *err)
{
    static const char *const k[] = {"stdout", "stderr"};
    for (int i = 0; i < 2; i++) {
        const json_t *x = json_object_get(p, k[i]);
        if (x && !json_is_string(x)) {
            char ptr[32];
            snprintf(ptr, sizeof(ptr), "/%s", k[i]);
            efk_err_at(err, ptr);
            return efk_err_set(err, -EINVAL, "'%s' must be a string", k[i]);
        }
    }
    return 0;
}

static int only_keys(const json_t *p, const char *const *allowed, efk_err *err)
{
    const char *key;
    const json_t *val;
    if (p && !json_is_object(p))
        return efk_err_set(err, -EINVAL, "params must be an object");
    json_object_foreach ((json_t *)p, key, val) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, key) == 0)
                ok = true;
        if (!ok) {
            char ptr[300], list[256] = "";
            size_t n = 0;
            for (const char *const *a = allowed; *a; a++)
                n += (size_t)snprintf(list + n, sizeof(list) > n ? sizeof(list) - n : 0, "%s%s",
                                      n ? ", " : "", *a);
            snprintf(ptr, sizeof(ptr), "/%s", key);
            efk_err_at(err, ptr);
            return efk_err_set(err, -EINVAL, "unknown key '%s' (allowed: %s)", key, list);
        }
    }
    return 0;
}

static int chk_fail(const json_t *p, efk_err *err)
{
    static const char *const keys[] = {"errno", "stdout", "stderr", NULL};
    int r = only_keys(p, keys, err);
    if (!r)
        r = check_int(p, "errno", true, 1, 4095, err);
    return r ? r : check_strs(p, err);
}

static int chk_errno(const json_t *p, efk_err *err)
{
    static const char *const keys[] = {"errno", NULL};
    int r = only_keys(p, keys, err);
    return r ? r : check_int(p, "errno", true, 1, 4095, err);
}

static int chk_hang(const json_t *p, efk_err *err)
{
    static const char *const keys[] = {"stdout", "stderr", NULL};
    int r = only_keys(p, keys, err);
    return r ? r : check_strs(p, err);
}

static int chk_partial(const json_t *p, efk_err *err)
{
    static const char *const keys[] = {"bytes", "exit", "hang", NULL};
    int r = only_keys(p, keys, err);
    if (!r)
        r = check_int(p, "bytes", true, 0, INT32_MAX, err);
    if (!r)
        r = check_int(p, "exit", false, 0, 255, err);
    const json_t *h = json_object_get(p, "hang");
    if (!r && h && !json_is_boolean(h)) {
        efk_err_at(err, "/hang");
        r = efk_err_set(err, -EINVAL, "'hang' must be true or false");
    }
    return r;
}

static int chk_unreachable(const json_t *p, efk_err *err)
{
    static const char *const keys[] = {"wait_ms", NULL};
    int r = only_keys(p, keys, err);
    return r ? r : check_int(p, "wait_ms", false, 0, INT32_MAX, err);
}

static int chk_auth(const json_t *p, efk_err *err)
{
    static const char *const keys[] = {"errno", NULL};
    int r = only_keys(p, keys, err);
    return r ? r : check_int(p, "errno", false, 1, 4095, err);
}

int rbd_svc_register_faults(fault_chain *chain)
{
    static const struct {
        const char *name;
        fault_domain_check check;
    } d[] = {
        {"rbd_fail", chk_fail},
        {"rbd_errno", chk_errno},
        {"rbd_hang", chk_hang},
        {"rbd_partial", chk_partial},
        {"rbd_mon_unreachable", chk_unreachable},
        {"rbd_auth_error", chk_auth},
    };
    for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
        int r = fault_domain_add(chain, d[i].name, d[i].check);
        if (r < 0 && r != -EEXIST)
            return r;
    }
    return 0;
}
