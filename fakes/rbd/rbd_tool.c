/*
 * rbd_tool.c - the `rbd` and `ceph` programs over a transport.
 *
 * Each action follows its counterpart in src/tools/rbd/action/ step by step
 * (argument checks, connect, open the pool, open the image, the operation,
 * the message on failure), because reapers depend on which message comes
 * out at which step. The `ceph` part follows ceph.in and ceph_argparse.py
 * for `osd blocklist` and the monitor's replies in OSDMonitor.cc.
 */
#include "rbd_tool.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/fsutil.h"
#include "rbd_addr.h"
#include "rbd_argv.h"
#include "rbd_fmt.h"
#include "rbd_release.h"
#include "rbd_render.h"
#include "rbd_store.h"

#define DEFAULT_MOUNT_TIMEOUT_MS (300 * 1000)
#define AUDIT_TEXT_MAX           4096

void rbd_tool_result_init(rbd_tool_result *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->out, RBD_OUT_CAP);
    buf_init(&r->err, RBD_OUT_CAP);
}

void rbd_tool_result_cleanup(rbd_tool_result *r)
{
    buf_cleanup(&r->out);
    buf_cleanup(&r->err);
}

/* ---- the session with the store --------------------------------------------------- */

typedef struct sess {
    const char *tool;
    const rbd_tool_env *env;
    const rbd_transport *t;
    rbd_tool_result *res;
    const rbd_release *rel;
    json_int_t inv, client;
    bool online, cephx, quiet;
    int64_t time_ns;
    char thread[24];
    char entity[128];
    json_t *invoke_reply; /* owns the fault object */
    const json_t *fault;  /* {"action", "params"} or NULL */
} sess;

static const char *node_ip(const sess *s)
{
    return s->env->node_ip && *s->env->node_ip ? s->env->node_ip : "127.0.0.1";
}

static json_t *call(sess *s, const char *op, json_t *body, int *r)
{
    if (!body) {
        *r = -ENOMEM;
        return NULL;
    }
    if (s->inv)
        json_object_set_new(body, "invocation", json_integer(s->inv));
    if (s->client)
        json_object_set_new(body, "client", json_integer(s->client));
    json_t *rep = s->online ? s->t->call(s->t->ctx, op, body) : NULL;
    json_decref(body);
    if (!rep) {
        *r = -ETIMEDOUT; /* the cluster stopped answering */
        return NULL;
    }
    *r = (int)json_integer_value(json_object_get(rep, "r"));
    return rep;
}

static void logline(sess *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logline(sess *s, int level, const char *fmt, ...)
{
    if (s->quiet)
        return;
    char prefix[128], msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    rbd_log_prefix(s->rel, s->time_ns, s->thread, level, prefix, sizeof(prefix));
    rbd_outf(&s->res->err, "%s%s\n", prefix, msg);
}

static void err_line(sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void err_line(sess *s, const char *fmt, ...)
{
    char msg[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    rbd_out(&s->res->err, msg);
}

static char *serr(int r, char *out, size_t n)
{
    return rbd_strerror(r, out, n);
}

static void invoke(sess *s, int argc, char **argv)
{
    json_t *args = json_array();
    buf line;
    buf_init(&line, 1u << 20);
    rbd_out(&line, s->tool);
    for (int i = 1; i < argc && args; i++) {
        json_array_append_new(args, json_string(argv[i]));
        rbd_out(&line, " ");
        rbd_out(&line, argv[i]);
    }
    json_t *body = json_pack("{s:s, s:o, s:s, s:s, s:i, s:I}", "tool", s->tool, "argv", args,
                             "cmdline", line.data ? line.data : s->tool, "node", node_ip(s), "pid",
                             s->env->pid, "nonce", (json_int_t)s->env->nonce);
    buf_cleanup(&line);
    s->online = s->t && s->t->call;
    int r = 0;
    json_t *rep = call(s, "invoke", body, &r);
    const rbd_release *fallback = rbd_release_find(s->env->release);
    s->rel = fallback ? fallback : rbd_release_get(RBD_REL_DEFAULT);
    s->time_ns = s->env->wall_ns;
    snprintf(s->thread, sizeof(s->thread), "7f%010x", (unsigned)(s->env->pid * 2654435761u));
    if (!rep || r < 0) {
        json_decref(rep);
        s->online = false;
        return;
    }
    const rbd_release *rel = rbd_release_find(json_string_value(json_object_get(rep, "release")));
    if (rel)
        s->rel = rel;
    s->inv = json_integer_value(json_object_get(rep, "invocation"));
    s->cephx = json_is_string(json_object_get(rep, "auth")) &&
               strcmp(json_string_value(json_object_get(rep, "auth")), "cephx") == 0;
    if (json_integer_value(json_object_get(rep, "time")))
        s->time_ns = json_integer_value(json_object_get(rep, "time"));
    const char *th = json_string_value(json_object_get(rep, "thread"));
    if (th)
        snprintf(s->thread, sizeof(s->thread), "%s", th);
    if (json_is_true(json_object_get(rep, "conf_missing")) && s->rel->id >= RBD_REL_LUMINOUS)
        logline(s, -1, "did not load config file, using default settings.");
    const json_t *f = json_object_get(rep, "fault");
    s->fault = json_is_object(f) ? f : NULL;
    s->invoke_reply = rep;
}

static void finish(sess *s)
{
    if (s->online && s->inv) {
        char out[AUDIT_TEXT_MAX + 1], err[AUDIT_TEXT_MAX + 1];
        snprintf(out, sizeof(out), "%s", s->res->out.data ? s->res->out.data : "");
        snprintf(err, sizeof(err), "%s", s->res->err.data ? s->res->err.data : "");
        int r = 0;
        json_t *rep = call(s, "exit",
                           json_pack("{s:i, s:s, s:s, s:I, s:b}", "exit", s->res->exit_code,
                                     "stdout", out, "stderr", err, "stdout_bytes",
                                     (json_int_t)s->res->out.len, "hang", s->res->hang),
                           &r);
        json_decref(rep);
    }
    json_decref(s->invoke_reply);
    s->invoke_reply = NULL;
}

static const char *fault_action(const sess *s)
{
    return s->fault ? json_string_value(json_object_get(s->fault, "action")) : NULL;
}

static const json_t *fault_params(const sess *s)
{
    return s->fault ? json_object_get(s->fault, "params") : NULL;
}

static bool fault_is(const sess *s, const char *name)
{
    const char *a = fault_action(s);
    return a && strcmp(a, name) == 0;
}

/* ---- connecting ------------------------------------------------------------------------ */

/* The key material the options name, read as librados would. Returns 0,
 * or -errno with *path_out naming what could not be read. */
static int read_key(const rbd_conn_opts *c, const char *entity, char **key_out, char *path_out,
                    size_t pathsz)
{
    *key_out = NULL;
    if (c->key && *c->key) {
        *key_out = strdup(c->key);
        return *key_out ? 0 : -ENOMEM;
    }
    efk_err e;
    char *data = NULL;
    size_t len = 0;
    if (c->keyfile && *c->keyfile) {
        int r = fs_read_file(c->keyfile, 1u << 20, &data, &len, &e);
        if (r < 0) {
            snprintf(path_out, pathsz, "%s", c->keyfile);
            return r;
        }
        size_t n = strcspn(data, "\r\n \t");
        data[n] = '\0';
        *key_out = data;
        return 0;
    }
    const char *paths = c->keyring && *c->keyring ? c->keyring : NULL;
    char defaults[512];
    if (!paths) {
        snprintf(defaults, sizeof(defaults),
                 "/etc/ceph/ceph.%s.keyring,/etc/ceph/ceph.keyring,/etc/ceph/keyring,"
                 "/etc/ceph/keyring.bin,",
                 entity);
        paths = defaults;
    }
    char list[1024];
    snprintf(list, sizeof(list), "%s", paths);
    for (char *save = NULL, *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (fs_read_file(p, 1u << 20, &data, &len, &e) < 0)
            continue;
        /* [client.x] ... key = SECRET */
        char section[160];
        snprintf(section, sizeof(section), "[%s]", entity);
        const char *sec = strstr(data, section);
        const char *k = sec ? strstr(sec, "key") : NULL;
        const char *eq = k ? strchr(k, '=') : NULL;
        if (eq) {
            eq++;
            while (*eq == ' ' || *eq == '\t')
                eq++;
            size_t n = strcspn(eq, "\r\n \t");
            *key_out = strndup(eq, n);
        }
        free(data);
        if (*key_out)
            return 0;
    }
    snprintf(path_out, pathsz, "%s", paths);
    return -ENOENT;
}

static int64_t mount_timeout_ms(const sess *s, const rbd_conn_opts *c)
{
    if (c->mount_timeout_s >= 0)
        return c->mount_timeout_s * 1000;
    return s->env->mount_timeout_ms > 0 ? s->env->mount_timeout_ms : DEFAULT_MOUNT_TIMEOUT_MS;
}

static bool is_ceph(const sess *s)
{
    return strcmp(s->tool, "ceph") == 0;
}

/* What librados and the tool print when connect() fails with r. */
static void connect_failed(sess *s, int r, const char *what)
{
    char e[160];
    if (is_ceph(s)) {
        const char *cls = r == -ETIMEDOUT ? "RADOS timed out"
                          : r == -ENOENT  ? "RADOS object not found"
                          : r == -EACCES  ? "RADOS permission denied"
                                          : "RADOS permission error";
        if (s->rel->ceph_err_new)
            err_line(s, "[errno %d] %s (error connecting to the cluster)\n", -r, cls);
        else
            err_line(s, "[errno %d] error connecting to the cluster\n", -r);
        s->res->exit_code = 1;
        return;
    }
    (void)what;
    err_line(s, "rbd: couldn't connect to the cluster!\n");
    s->res->exit_code = -r;
    (void)e;
}

static void mon_unreachable(sess *s, const rbd_conn_opts *c, int64_t wait_ms)
{
    int64_t ms = wait_ms >= 0 ? wait_ms : mount_timeout_ms(s, c);
    if (s->t && s->t->sleep_ms)
        s->t->sleep_ms(s->t->ctx, ms);
    s->time_ns += ms * 1000000;
    logline(s, 0, "monclient(hunting): authenticate timed out after %" PRId64, (ms + 999) / 1000);
    char e[160];
    logline(s, -1, "librados: %s authentication error %s", s->entity,
            serr(-ETIMEDOUT, e, sizeof(e)));
    connect_failed(s, -ETIMEDOUT, "timeout");
}

static void auth_failed(sess *s, int r)
{
    char e[160];
    logline(s, -1, "librados: %s authentication error %s", s->entity, serr(r, e, sizeof(e)));
    connect_failed(s, r, "auth");
}

/* Connect as librados does; false (with the failure printed) when it fails. */
static bool do_connect(sess *s, const rbd_conn_opts *c)
{
    rbd_conn_entity(c, s->entity, sizeof(s->entity));
    s->quiet = c->log_to_stderr_off;
    if (fault_is(s, "rbd_mon_unreachable")) {
        const json_t *w = json_object_get(fault_params(s), "wait_ms");
        mon_unreachable(s, c, json_is_integer(w) ? json_integer_value(w) : -1);
        return false;
    }
    if (!s->online) {
        mon_unreachable(s, c, -1);
        return false;
    }
    if (fault_is(s, "rbd_auth_error")) {
        const json_t *e = json_object_get(fault_params(s), "errno");
        auth_failed(s, json_is_integer(e) ? -(int)json_integer_value(e) : -EPERM);
        return false;
    }
    char *key = NULL;
    char path[1024] = "";
    if (s->cephx) {
        int r = read_key(c, s->entity, &key, path, sizeof(path));
        if (r < 0) {
            char e[160];
            logline(s, -1, "auth: unable to find a keyring on %s: %s", path,
                    serr(-ENOENT, e, sizeof(e)));
            logline(s, -1, "%s: ERROR: missing keyring, cannot use cephx for authentication",
                    s->rel->id == RBD_REL_JEWEL ? "monclient(hunting)" : "monclient");
            logline(s, 0, "librados: %s initialization error %s", s->entity,
                    serr(-ENOENT, e, sizeof(e)));
            connect_failed(s, -ENOENT, "keyring");
            return false;
        }
    }
    int r = 0;
    json_t *rep = call(s, "connect",
                       json_pack("{s:s, s:s?, s:s, s:I}", "name", s->entity, "key", key, "node",
                                 node_ip(s), "nonce", (json_int_t)s->env->nonce),
                       &r);
    free(key);
    if (!rep) {
        mon_unreachable(s, c, -1);
        return false;
    }
    if (r < 0) {
        json_decref(rep);
        auth_failed(s, r);
        return false;
    }
    s->client = json_integer_value(json_object_get(rep, "client"));
    json_decref(rep);
    return true;
}

/* A scripted command failure, hang or partial output once connected.
 * Returns true when the fault ended the command. */
static bool command_fault(sess *s, const char *default_prefix)
{
    const json_t *p = fault_params(s);
    const char *so = json_string_value(json_object_get(p, "stdout"));
    const char *se = json_string_value(json_object_get(p, "stderr"));
    if (fault_is(s, "rbd_hang")) {
        if (so)
            rbd_out(&s->res->out, so);
        if (se)
            rbd_out(&s->res->err, se);
        s->res->hang = true;
        return true;
    }
    if (fault_is(s, "rbd_fail")) {
        int e = (int)json_integer_value(json_object_get(p, "errno"));
        if (e <= 0)
            e = EIO;
        if (so)
            rbd_out(&s->res->out, so);
        if (se) {
            rbd_out(&s->res->err, se);
        } else {
            char m[160];
            if (is_ceph(s))
                err_line(s, "Error %s: %s\n", rbd_errno_name(e), strerror(e));
            else
                err_line(s, "%s%s\n", default_prefix, serr(e, m, sizeof(m)));
        }
        s->res->exit_code = e;
        return true;
    }
    return false;
}

/* rbd_partial: cut what was printed, then exit or hang. */
static void partial_fault(sess *s)
{
    if (!fault_is(s, "rbd_partial"))
        return;
    const json_t *p = fault_params(s);
    json_int_t bytes = json_integer_value(json_object_get(p, "bytes"));
    if (bytes >= 0 && (size_t)bytes < s->res->out.len) {
        s->res->out.len = (size_t)bytes;
        s->res->out.data[bytes] = '\0';
    }
    const json_t *ex = json_object_get(p, "exit");
    if (json_is_integer(ex))
        s->res->exit_code = (int)json_integer_value(ex);
    if (json_is_true(json_object_get(p, "hang")))
        s->res->hang = true;
}

/* ---- rbd actions ---------------------------------------------------------------------- */

/* The request body naming the command's image (pool, namespace, image). */
static json_t *img_req(const rbd_cmd *cmd)
{
    return json_pack("{s:s, s:s, s:s}", "pool", cmd->pool, "namespace", cmd->ns, "image",
                     cmd->image);
}

/* utils::init_io_ctx + set_namespace. */
static bool open_pool(sess *s, const rbd_cmd *cmd)
{
    int r = 0;
    json_t *rep =
        call(s, "pool_check",
             json_pack("{s:s, s:s}", "pool", cmd->pool, "namespace", cmd->ns ? cmd->ns : ""), &r);
    bool ns_missing = rep && r == -ENOENT && cmd->ns && *cmd->ns &&
                      json_is_true(json_object_get(rep, "pool_exists"));
    json_decref(rep);
    if (r == 0)
        return true;
    char e[160];
    if (ns_missing) {
        err_line(s, "rbd: namespace '%s' does not exist.\n", cmd->ns);
    } else if (!s->rel->pool_quoted) {
        err_line(s, "rbd: error opening pool %s: %s\n", cmd->pool, serr(r, e, sizeof(e)));
    } else if (r == -ENOENT && !cmd->pool_given) {
        err_line(s,
                 "rbd: error opening default pool '%s'\nEnsure that the default pool has been "
                 "created or specify an alternate pool name.\n",
                 cmd->pool);
    } else {
        err_line(s, "rbd: error opening pool '%s': %s\n", cmd->pool, serr(r, e, sizeof(e)));
    }
    s->res->exit_code = -r;
    return false;
}

/* utils::init_and_open_image: the image JSON (new ref) or NULL after printing. */
static json_t *open_image(sess *s, const rbd_cmd *cmd)
{
    if (!open_pool(s, cmd))
        return NULL;
    int r = 0;
    json_t *rep = call(s, "image_get", img_req(cmd), &r);
    char e[160];
    if (r < 0) {
        json_decref(rep);
        err_line(s, "rbd: error opening image %s: %s\n", cmd->image, serr(r, e, sizeof(e)));
        s->res->exit_code = -r;
        return NULL;
    }
    json_t *im = json_incref(json_object_get(rep, "image"));
    json_decref(rep);
    if (cmd->snap && *cmd->snap) {
        json_decref(im);
        err_line(s, "error setting snapshot context: %s\n", serr(-ENOENT, e, sizeof(e)));
        s->res->exit_code = ENOENT;
        return NULL;
    }
    return im;
}

static rbd_render_opts ropts(const sess *s, const rbd_cmd *cmd)
{
    rbd_render_opts o = {s->rel, cmd->format, cmd->pretty};
    if (!cmd->format_given)
        o.format = RBD_OUT_PLAIN;
    return o;
}

static void act_lock_list(sess *s, const rbd_cmd *cmd)
{
    json_t *im = open_image(s, cmd);
    if (!im)
        return;
    json_decref(im);
    int r = 0;
    json_t *rep = call(s, "lock_list", img_req(cmd), &r);
    if (r < 0) {
        char e[160];
        err_line(s, "rbd: listing locks failed: %s\n", serr(r, e, sizeof(e)));
        s->res->exit_code = -r;
    } else {
        rbd_render_opts o = ropts(s, cmd);
        rbd_render_lock_list(&o, json_object_get(rep, "lock"), &s->res->out);
    }
    json_decref(rep);
}

static void act_lock_add(sess *s, const rbd_cmd *cmd)
{
    json_t *im = open_image(s, cmd);
    if (!im)
        return;
    json_decref(im);
    bool shared = cmd->shared_tag && *cmd->shared_tag;
    int r = 0;
    json_t *rep = call(s, "lock_add",
                       json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "pool", cmd->pool, "namespace",
                                 cmd->ns, "image", cmd->image, "cookie", cmd->lock_id, "exclusive",
                                 !shared, "tag", shared ? cmd->shared_tag : ""),
                       &r);
    json_decref(rep);
    if (r == -EBUSY || r == -EEXIST) {
        err_line(s, "rbd: lock is already held by someone else%s\n",
                 shared ? " with a different tag" : "");
        s->res->exit_code = -r;
    } else if (r < 0) {
        char e[160];
        err_line(s, "rbd: taking lock failed: %s\n", serr(r, e, sizeof(e)));
        s->res->exit_code = -r;
    }
}

/* librbd break_lock: parse the locker, blocklist its address (unless told
 * not to), then break exactly (locker, cookie). */
static int break_lock(sess *s, const rbd_cmd *cmd)
{
    rbd_entity who;
    if (rbd_entity_parse(cmd->locker, &who) < 0)
        return -EINVAL;
    int r = 0;
    if (cmd->conn.blocklist_on_break != 0) {
        json_t *rep = call(s, "lock_list", img_req(cmd), &r);
        if (r < 0) {
            char e[160];
            json_decref(rep);
            logline(s, -1, "librbd: unable to retrieve lock info: %s", serr(r, e, sizeof(e)));
            return r;
        }
        const json_t *lockers = json_object_get(json_object_get(rep, "lock"), "lockers");
        char addr[RBD_ADDR_STR_MAX] = "";
        for (size_t i = 0; i < json_array_size(lockers); i++) {
            const json_t *l = json_array_get(lockers, i);
            rbd_entity e;
            if (rbd_entity_parse(json_string_value(json_object_get(l, "locker")), &e) == 0 &&
                e.type == who.type && e.num == who.num) {
                snprintf(addr, sizeof(addr), "%s",
                         json_string_value(json_object_get(l, "address")));
                break;
            }
        }
        json_decref(rep);
        if (!addr[0])
            return -ENOENT;
        json_t *body = json_pack("{s:s, s:s, s:b}", "addr", addr, "name", s->entity, "range", 0);
        if (body && cmd->conn.blocklist_expire_s > 0)
            json_object_set_new(body, "expire", json_real((double)cmd->conn.blocklist_expire_s));
        rep = call(s, "blocklist_add", body, &r);
        json_decref(rep);
        if (r < 0) {
            char e[160];
            logline(s, -1, "librbd: unable to %s client: %s",
                    s->rel->blocklist_words ? "blocklist" : "blacklist", serr(r, e, sizeof(e)));
            return r;
        }
    }
    json_t *rep =
        call(s, "lock_break",
             json_pack("{s:s, s:s, s:s, s:s, s:s}", "pool", cmd->pool, "namespace", cmd->ns,
                       "image", cmd->image, "locker", cmd->locker, "cookie", cmd->lock_id),
             &r);
    json_decref(rep);
    return r;
}

static void act_lock_remove(sess *s, const rbd_cmd *cmd)
{
    json_t *im = open_image(s, cmd);
    if (!im)
        return;
    json_decref(im);
    int r = break_lock(s, cmd);
    if (r < 0) {
        char e[160];
        err_line(s, "rbd: releasing lock failed: %s\n", serr(r, e, sizeof(e)));
        s->res->exit_code = -r;
    }
}

static void act_status(sess *s, const rbd_cmd *cmd)
{
    json_t *im = open_image(s, cmd);
    if (!im)
        return;
    rbd_render_opts o = ropts(s, cmd);
    rbd_render_status(&o, im, &s->res->out);
    json_decref(im);
}

static void act_info(sess *s, const rbd_cmd *cmd)
{
    json_t *im = open_image(s, cmd);
    if (!im)
        return;
    rbd_render_opts o = ropts(s, cmd);
    rbd_render_info(&o, im, cmd->snap, &s->res->out);
    json_decref(im);
}

static void act_list(sess *s, const rbd_cmd *cmd)
{
    if (!open_pool(s, cmd))
        return;
    int r = 0;
    json_t *rep =
        call(s, "image_list", json_pack("{s:s, s:s}", "pool", cmd->pool, "namespace", cmd->ns), &r);
    if (r < 0) {
        char e[160];
        err_line(s, "rbd: list: %s\n", serr(r, e, sizeof(e)));
        s->res->exit_code = -r;
    } else {
        rbd_render_opts o = ropts(s, cmd);
        rbd_render_list(&o, json_object_get(rep, "images"), cmd->long_listing, &s->res->out);
    }
    json_decref(rep);
}

static void act_create(sess *s, const rbd_cmd *cmd)
{
    if (!open_pool(s, cmd))
        return;
    int r = 0;
    json_t *body = json_pack("{s:s, s:s, s:s, s:I, s:i, s:i}", "pool", cmd->pool, "namespace",
                             cmd->ns, "image", cmd->image, "size", (json_int_t)cmd->size, "order",
                             cmd->order, "format", cmd->image_format);
    if (body && cmd->features_given)
        json_object_set_new(body, "features", json_integer(cmd->features));
    json_t *rep = call(s, "image_create", body, &r);
    json_decref(rep);
    if (r < 0) {
        char e[160];
        if (r == -EEXIST)
            logline(s, -1, "librbd: rbd image %s already exists", cmd->image);
        err_line(s, "rbd: create error: %s\n", serr(r, e, sizeof(e)));
        s->res->exit_code = -r;
    }
}

static void act_remove(sess *s, const rbd_cmd *cmd)
{
    if (!open_pool(s, cmd))
        return;
    int r = 0;
    json_t *rep = call(s, "image_remove", img_req(cmd), &r);
    json_decref(rep);
    if (r == 0) {
        if (!cmd->no_progress)
            err_line(s, "\rRemoving image: 100%% complete...done.\n");
        return;
    }
    char e[160];
    if (r == -EBUSY)
        logline(s, -1, "librbd: image has watchers - not removing");
    if (!cmd->no_progress)
        err_line(s, "\rRemoving image: 0%% complete...failed.\n");
    if (r == -EBUSY)
        err_line(s, "rbd: error: image still has watchers\nThis means the image is still open "
                    "or the client using it crashed. Try again after closing/unmapping it or "
                    "waiting 30s for the crashed client to timeout.\n");
    else
        err_line(s, "rbd: delete error: %s\n", serr(r, e, sizeof(e)));
    s->res->exit_code = -r;
}

static void act_map(sess *s, const rbd_cmd *cmd)
{
    int r = 0;
    json_t *rep = call(s, "map",
                       json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "node", node_ip(s), "pool",
                                 cmd->pool, "namespace", cmd->ns, "image", cmd->image, "snap",
                                 cmd->snap ? cmd->snap : "", "read_only", cmd->read_only),
                       &r);
    if (r < 0) {
        char e[160];
        err_line(s, "rbd: sysfs write failed\n");
        if (s->rel->id >= RBD_REL_LUMINOUS)
            err_line(s, "In some cases useful info is found in syslog - try \"dmesg | tail\".\n");
        err_line(s, "rbd: map failed: %s\n", serr(r, e, sizeof(e)));
        s->res->exit_code = -r;
    } else {
        rbd_outf(&s->res->out, "%s\n", json_string_value(json_object_get(rep, "device")));
    }
    json_decref(rep);
}

static void act_unmap(sess *s, const rbd_cmd *cmd)
{
    int r = 0;
    json_t *body = json_pack("{s:s}", "node", node_ip(s));
    if (body && cmd->device)
        json_object_set_new(body, "device", json_string(cmd->device));
    else if (body) {
        json_t *spec = json_pack("{s:s, s:s, s:s, s:s}", "pool", cmd->pool, "namespace", cmd->ns,
                                 "image", cmd->image, "snap", cmd->snap ? cmd->snap : "");
        json_object_update(body, spec);
        json_decref(spec);
    }
    json_t *rep = call(s, "unmap", body, &r);
    json_decref(rep);
    if (r == 0)
        return;
    char e[160];
    if (r == -ENOENT || r == -EINVAL) {
        if (cmd->device)
            err_line(s, "rbd: '%s' is not an rbd device\n", cmd->device);
        else if (cmd->ns && *cmd->ns)
            err_line(s, "rbd: %s/%s/%s%s%s: not a mapped image or snapshot\n", cmd->pool, cmd->ns,
                     cmd->image, cmd->snap && *cmd->snap ? "@" : "", cmd->snap ? cmd->snap : "");
        else
            err_line(s, "rbd: %s/%s%s%s: not a mapped image or snapshot\n", cmd->pool, cmd->image,
                     cmd->snap && *cmd->snap ? "@" : "", cmd->snap ? cmd->snap : "");
        r = -EINVAL;
    }
    err_line(s, "rbd: unmap failed: %s\n", serr(r, e, sizeof(e)));
    s->res->exit_code = -r;
}

static void act_showmapped(sess *s, const rbd_cmd *cmd)
{
    int r = 0;
    json_t *rep = call(s, "showmapped", json_pack("{s:s}", "node", node_ip(s)), &r);
    rbd_render_opts o = ropts(s, cmd);
    json_t *empty = json_array();
    if (r < 0 && r != -ETIMEDOUT) {
        char e[160];
        err_line(s, "rbd: showmapped failed: %s\n", serr(r, e, sizeof(e)));
        s->res->exit_code = -r;
    } else {
        rbd_render_showmapped(&o, rep ? json_object_get(rep, "devices") : empty, &s->res->out);
    }
    json_decref(empty);
    json_decref(rep);
}

static const char *fail_prefix(rbd_action a)
{
    switch (a) {
    case RBD_ACT_LOCK_LIST:
        return "rbd: listing locks failed: ";
    case RBD_ACT_LOCK_ADD:
        return "rbd: taking lock failed: ";
    case RBD_ACT_LOCK_REMOVE:
        return "rbd: releasing lock failed: ";
    case RBD_ACT_STATUS:
        return "rbd: show status failed: ";
    case RBD_ACT_INFO:
        return "rbd: info: ";
    case RBD_ACT_LIST:
        return "rbd: list: ";
    case RBD_ACT_CREATE:
        return "rbd: create error: ";
    case RBD_ACT_REMOVE:
        return "rbd: delete error: ";
    case RBD_ACT_MAP:
        return "rbd: map failed: ";
    case RBD_ACT_UNMAP:
        return "rbd: unmap failed: ";
    case RBD_ACT_SHOWMAPPED:
        return "rbd: showmapped failed: ";
    default:
        return "rbd: ";
    }
}

void rbd_tool_run(int argc, char **argv, const rbd_tool_env *env, const rbd_transport *t,
                  rbd_tool_result *res)
{
    sess s = {.tool = "rbd", .env = env, .t = t, .res = res};
    invoke(&s, argc, argv);
    rbd_cmd cmd;
    int r = rbd_cmd_parse(&cmd, argc, argv, s.rel, &res->out, &res->err);
    if (r < 0 || cmd.done) {
        if (r == -ENOMEM)
            rbd_out(&res->err, "rbd: out of memory\n");
        res->exit_code = cmd.exit_code ? cmd.exit_code : (r < 0 ? 1 : 0);
        goto out;
    }
    if (cmd.action == RBD_ACT_CREATE && cmd.image_format == 1)
        rbd_out(&res->err, "rbd: image format 1 is deprecated\n");
    /* krbd's unmap and showmapped read sysfs: no cluster connection */
    bool needs_cluster = cmd.action != RBD_ACT_UNMAP && cmd.action != RBD_ACT_SHOWMAPPED;
    if (needs_cluster && !do_connect(&s, &cmd.conn))
        goto out;
    if (!needs_cluster && fault_is(&s, "rbd_mon_unreachable"))
        s.fault = NULL; /* the kernel does not ask the monitor */
    if (command_fault(&s, fail_prefix(cmd.action)))
        goto out;
    switch (cmd.action) {
    case RBD_ACT_LOCK_LIST:
        act_lock_list(&s, &cmd);
        break;
    case RBD_ACT_LOCK_ADD:
        act_lock_add(&s, &cmd);
        break;
    case RBD_ACT_LOCK_REMOVE:
        act_lock_remove(&s, &cmd);
        break;
    case RBD_ACT_STATUS:
        act_status(&s, &cmd);
        break;
    case RBD_ACT_INFO:
        act_info(&s, &cmd);
        break;
    case RBD_ACT_LIST:
        act_list(&s, &cmd);
        break;
    case RBD_ACT_CREATE:
        act_create(&s, &cmd);
        break;
    case RBD_ACT_REMOVE:
        act_remove(&s, &cmd);
        break;
    case RBD_ACT_MAP:
        act_map(&s, &cmd);
        break;
    case RBD_ACT_UNMAP:
        act_unmap(&s, &cmd);
        break;
    case RBD_ACT_SHOWMAPPED:
        act_showmapped(&s, &cmd);
        break;
    default:
        break;
    }
    partial_fault(&s);
out:
    rbd_cmd_cleanup(&cmd);
    finish(&s);
}

/* ---- ceph ----------------------------------------------------------------------------- */

/* The `osd blocklist` signatures of a release, in ceph_argparse terms. */
typedef enum { D_PREFIX, D_CHOICE, D_ADDR, D_FLOAT, D_RANGE } desc_type;

typedef struct desc {
    desc_type t;
    const char *text; /* prefix word or "add|rm" */
    const char *name;
    bool req;
} desc;

typedef struct sig {
    desc d[6];
    int n;
    const char *help;
    const char *op; /* "add_rm", "ls", "clear" */
    bool blocklist;
} sig;

static int sigs_for(const rbd_release *rel, sig *out)
{
    int n = 0;
    for (int spelling = 0; spelling < 2; spelling++) {
        bool block = spelling == 0;
        if ((block && !rel->blocklist) || (!block && !rel->blacklist))
            continue;
        const char *word = block ? "blocklist" : "blacklist";
        static char help_addrm[2][160], help_ls[2][64], help_clear[2][64];
        snprintf(help_addrm[spelling], sizeof(help_addrm[0]),
                 "add (optionally until <expire> seconds from now) or remove <addr> from %s", word);
        snprintf(help_ls[spelling], sizeof(help_ls[0]), "show %sed clients", word);
        snprintf(help_clear[spelling], sizeof(help_clear[0]), "clear all %sed clients", word);
        sig a = {.help = help_addrm[spelling], .op = "add_rm", .blocklist = block};
        a.d[a.n++] = (desc){D_PREFIX, "osd", "prefix", true};
        a.d[a.n++] = (desc){D_PREFIX, word, "prefix", true};
        if (block && rel->blocklist_range)
            a.d[a.n++] = (desc){D_RANGE, NULL, "range", false};
        a.d[a.n++] = (desc){D_CHOICE, "add|rm", block ? "blocklistop" : "blacklistop", true};
        a.d[a.n++] = (desc){D_ADDR, NULL, "addr", true};
        a.d[a.n++] = (desc){D_FLOAT, NULL, "expire", false};
        out[n++] = a;
        sig l = {.help = help_ls[spelling], .op = "ls", .blocklist = block};
        l.d[l.n++] = (desc){D_PREFIX, "osd", "prefix", true};
        l.d[l.n++] = (desc){D_PREFIX, word, "prefix", true};
        l.d[l.n++] = (desc){D_PREFIX, "ls", "prefix", true};
        out[n++] = l;
        sig c = {.help = help_clear[spelling], .op = "clear", .blocklist = block};
        c.d[c.n++] = (desc){D_PREFIX, "osd", "prefix", true};
        c.d[c.n++] = (desc){D_PREFIX, word, "prefix", true};
        c.d[c.n++] = (desc){D_PREFIX, "clear", "prefix", true};
        out[n++] = c;
    }
    return n;
}

static void concise(const rbd_release *rel, const sig *g, char *out, size_t outsz)
{
    out[0] = '\0';
    size_t len = 0;
    for (int i = 0; i < g->n; i++) {
        const desc *d = &g->d[i];
        char chunk[96];
        switch (d->t) {
        case D_PREFIX:
        case D_CHOICE:
            snprintf(chunk, sizeof(chunk), "%s", d->text);
            break;
        case D_ADDR:
            snprintf(chunk, sizeof(chunk), rel->concise_new ? "<addr>" : "<EntityAddr>");
            break;
        case D_FLOAT:
            snprintf(chunk, sizeof(chunk), rel->concise_new ? "<expire:float>" : "<float[0.0-]>");
            break;
        case D_RANGE:
            snprintf(chunk, sizeof(chunk), "<range>");
            break;
        }
        char wrapped[128];
        if (!d->req)
            snprintf(wrapped, sizeof(wrapped), rel->concise_new ? "[%s]" : "{%s}", chunk);
        else
            snprintf(wrapped, sizeof(wrapped), "%s", chunk);
        len += (size_t)snprintf(out + len, outsz > len ? outsz - len : 0, "%s%s", i ? " " : "",
                                wrapped);
    }
}

/* validate_one: 0 or a message (static). */
static const char *desc_valid(const desc *d, const char *w, bool partial, char *msg, size_t msgsz)
{
    switch (d->t) {
    case D_PREFIX:
        if (partial ? strncmp(d->text, w, strlen(w)) == 0 : strcmp(d->text, w) == 0)
            return NULL;
        snprintf(msg, msgsz, "no match for %s", w);
        return msg;
    case D_CHOICE: {
        bool ok = partial ? (strncmp("add", w, strlen(w)) == 0 || strncmp("rm", w, strlen(w)) == 0)
                          : (strcmp(w, "add") == 0 || strcmp(w, "rm") == 0);
        if (ok)
            return NULL;
        snprintf(msg, msgsz, "%s not in %s", w, d->text);
        return msg;
    }
    case D_RANGE:
        if (*w && strspn(w, "range") == strlen(w))
            return NULL;
        snprintf(msg, msgsz, "invalid chars %s in %s", w, w);
        return msg;
    case D_FLOAT: {
        char *end = NULL;
        double v = strtod(w, &end);
        if (!*w || *end) {
            snprintf(msg, msgsz, "%s doesn't represent a float", w);
            return msg;
        }
        if (v < 0.0) {
            snprintf(msg, msgsz, "%s not in range [0.0]", w);
            return msg;
        }
        return NULL;
    }
    case D_ADDR: {
        char ip[256] = "", nonce[256] = "";
        const char *slash = strchr(w, '/');
        if (slash) {
            snprintf(ip, sizeof(ip), "%.*s", (int)(slash - w), w);
            snprintf(nonce, sizeof(nonce), "%s", slash + 1);
        } else {
            snprintf(ip, sizeof(ip), "%s", w);
        }
        rbd_addr a;
        if (strchr(ip, '.') && ip[0] != '[') {
            char a4[256];
            snprintf(a4, sizeof(a4), "%s", ip);
            char *colon = strchr(a4, ':');
            if (colon) {
                *colon = '\0';
                char *end = NULL;
                long p = strtol(colon + 1, &end, 10);
                if (!colon[1] || *end || p > 65535) {
                    snprintf(msg, msgsz, "%s: invalid IPv4 port", colon + 1);
                    return msg;
                }
            }
            if (rbd_ip_parse(a4, &a) < 0 || a.family != AF_INET) {
                snprintf(msg, msgsz, "%s: invalid IPv4 address", a4);
                return msg;
            }
        } else if (rbd_addr_parse(ip, false, &a) < 0) {
            snprintf(msg, msgsz, "%s not valid IPv6 address", ip);
            return msg;
        }
        if (slash) {
            char *end = NULL;
            long long nv = strtoll(nonce, &end, 10);
            if (!*nonce || *end || nv < 0) {
                snprintf(msg, msgsz, "%s: invalid entity, nonce %s not integer > 0", w, nonce);
                return msg;
            }
        }
        return NULL;
    }
    }
    return NULL;
}

static int matchnum(char **args, int nargs, const sig *g)
{
    int cnt = 0, wi = 0;
    char msg[512];
    for (int i = 0; i < g->n; i++) {
        if (wi >= nargs)
            return cnt;
        const char *w = args[wi++];
        if (desc_valid(&g->d[i], w, wi == nargs, msg, sizeof(msg))) {
            if (!g->d[i].req) {
                wi--;
                continue;
            }
            return cnt;
        }
        cnt++;
    }
    return cnt;
}

typedef struct validated {
    bool range;
    const char *range_word; /* what filled the "range" slot (the monitor wants "range") */
    const char *op;         /* "add", "rm", "ls", "clear" */
    const char *addr, *expire;
} validated;

/* ceph_argparse.validate for one signature: 0 ok; 1 prefix mismatch or too
 * few (try the next); -1 a solid mismatch (message printed in `msg`). */
static int validate_sig(char **args, int nargs, const sig *g, validated *v, char *msg, size_t msgsz,
                        char *note, size_t notesz)
{
    int wi = 0, matched = 0, req = 0;
    const char *saved_arg = NULL;
    char saved[512] = "";
    memset(v, 0, sizeof(*v));
    note[0] = '\0';
    for (int i = 0; i < g->n; i++)
        if (g->d[i].req)
            req++;
    for (int i = 0; i < g->n; i++) {
        const desc *d = &g->d[i];
        if (wi >= nargs) {
            if (!d->req)
                continue;
            if (d->t == D_PREFIX)
                snprintf(msg, msgsz, "missing required parameter %s", d->text);
            else
                snprintf(msg, msgsz, "missing required parameter %s(%s)", d->name,
                         d->t == D_ADDR ? "<EntityAddr>" : d->text);
            return -1;
        }
        const char *w = args[wi++];
        char why[512];
        const char *bad = desc_valid(d, w, false, why, sizeof(why));
        if (bad) {
            if (!d->req) {
                saved_arg = w;
                snprintf(saved, sizeof(saved), "%s", bad);
                wi--;
                continue;
            }
            if (d->t == D_PREFIX)
                return 1;
            snprintf(msg, msgsz, "%s", bad);
            return -1;
        }
        matched++;
        saved_arg = NULL;
        switch (d->t) {
        case D_RANGE:
            v->range = true;
            v->range_word = w;
            break;
        case D_CHOICE:
            v->op = w;
            break;
        case D_ADDR:
            v->addr = w;
            break;
        case D_FLOAT:
            v->expire = w;
            break;
        default:
            break;
        }
    }
    if (matched < req)
        return 1;
    if (wi < nargs) {
        if (saved_arg)
            snprintf(note, notesz, "%s not valid:  %s\n", saved_arg, saved);
        size_t len = (size_t)snprintf(msg, msgsz, "unused arguments: [");
        for (int k = wi; k < nargs; k++)
            len += (size_t)snprintf(msg + len, msgsz > len ? msgsz - len : 0, "%s'%s'",
                                    k > wi ? ", " : "", args[k]);
        snprintf(msg + len, msgsz > len ? msgsz - len : 0, "]");
        return -1;
    }
    if (!v->op)
        v->op = g->op;
    return 0;
}

static void invalid_command(sess *s)
{
    err_line(s, "Error EINVAL: invalid command\n");
    s->res->exit_code = EINVAL;
}

static void ceph_blocklist(sess *s, const sig *g, const validated *v, const char *fmt)
{
    const char *word = s->rel->blocklist_words ? "blocklist" : "blacklist";
    int r = 0;
    if (strcmp(v->op, "ls") == 0) {
        json_t *rep = call(s, "blocklist_ls", json_object(), &r);
        if (r < 0) {
            char e[160];
            err_line(s, "Error %s: %s\n", rbd_errno_name(r), serr(r, e, sizeof(e)));
            s->res->exit_code = -r;
        } else {
            if (fmt && strncmp(fmt, "json", 4) == 0)
                rbd_out(&s->res->out, "\n");
            rbd_render_blocklist_ls(s->rel, fmt, json_object_get(rep, "entries"), &s->res->out,
                                    &s->res->err);
        }
        json_decref(rep);
        return;
    }
    if (strcmp(v->op, "clear") == 0) {
        json_t *rep = call(s, "blocklist_clear", json_pack("{s:s}", "name", s->entity), &r);
        json_decref(rep);
        if (r == -EACCES) {
            err_line(s, "Error EACCES: access denied\n");
            s->res->exit_code = EACCES;
            return;
        }
        err_line(s, " removed all %s entries\n", word);
        if (fmt && strncmp(fmt, "json", 4) == 0)
            rbd_out(&s->res->out, "\n");
        return;
    }
    if (v->range_word && strcmp(v->range_word, "range") != 0) {
        /* OSDMonitor: any other word in that slot */
        err_line(s, "Error EINVAL: Did you mean to specify \"osd blocklist range\"?\n");
        s->res->exit_code = EINVAL;
        return;
    }
    bool add = strcmp(v->op, "add") == 0;
    json_t *body =
        json_pack("{s:s, s:s, s:b}", "addr", v->addr, "name", s->entity, "range", v->range);
    if (body && add && v->expire)
        json_object_set_new(body, "expire", json_real(strtod(v->expire, NULL)));
    json_t *rep = call(s, add ? "blocklist_add" : "blocklist_rm", body, &r);
    const char *printed = json_string_value(json_object_get(rep, "printed"));
    if (r == -EACCES) {
        err_line(s, "Error EACCES: access denied\n");
        s->res->exit_code = EACCES;
    } else if (r == -EINVAL && json_string_value(json_object_get(rep, "message"))) {
        err_line(s, "Error EINVAL: %s\n", json_string_value(json_object_get(rep, "message")));
        s->res->exit_code = EINVAL;
    } else if (r < 0 && !(r == -ENOENT && !add)) {
        char e[160];
        err_line(s, "Error %s: %s\n", rbd_errno_name(r), serr(r, e, sizeof(e)));
        s->res->exit_code = -r;
    } else if (add) {
        char until[64];
        rbd_utime(s->rel, json_integer_value(json_object_get(rep, "until")), until, sizeof(until));
        double d = json_number_value(json_object_get(rep, "expire"));
        err_line(s, "%sing %s until %s (%g sec)\n", word, printed ? printed : v->addr, until, d);
    } else if (r == 0) {
        err_line(s, "un-%sing %s\n", word, printed ? printed : v->addr);
    } else {
        err_line(s, "%s isn't %sed\n", printed ? printed : v->addr, word);
    }
    if (s->res->exit_code == 0 && fmt && strncmp(fmt, "json", 4) == 0)
        rbd_out(&s->res->out, "\n");
    (void)g;
    json_decref(rep);
}

static bool in_choices(const char *const *l, const char *s)
{
    for (; *l; l++)
        if (strcmp(*l, s) == 0)
            return true;
    return false;
}

void ceph_tool_run(int argc, char **argv, const rbd_tool_env *env, const rbd_transport *t,
                   rbd_tool_result *res)
{
    sess s = {.tool = "ceph", .env = env, .t = t, .res = res};
    invoke(&s, argc, argv);
    rbd_conn_opts conn;
    memset(&conn, 0, sizeof(conn));
    rbd_conn_opts_cleanup(&conn);
    char *args[RBD_ARGV_MAX];
    int nargs = 0;
    const char *fmt = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (nargs >= RBD_ARGV_MAX) {
            rbd_out(&res->err, "ceph: too many arguments\n");
            res->exit_code = 1;
            goto out;
        }
        if ((strcmp(a, "-f") == 0 || strcmp(a, "--format") == 0) && i + 1 < argc) {
            fmt = argv[++i];
        } else if (strncmp(a, "--format=", 9) == 0) {
            fmt = a + 9;
        } else if (strcmp(a, "--connect-timeout") == 0 && i + 1 < argc) {
            conn.mount_timeout_s = strtoll(argv[++i], NULL, 10);
        } else {
            int used = rbd_conn_take(&conn, s.rel, "ceph", a, i + 1 < argc ? argv[i + 1] : NULL,
                                     &res->err);
            if (used < 0)
                goto out;
            if (used) {
                i += used - 1;
                continue;
            }
            args[nargs++] = argv[i];
        }
    }
    static const char *const choices[] = {"json",       "json-pretty", "xml",
                                          "xml-pretty", "plain",       NULL};
    if (fmt && !in_choices(choices, fmt)) {
        err_line(&s,
                 "usage: ceph [-h] [-c CEPHCONF] [-i INPUT_FILE] [-o OUTPUT_FILE]\n"
                 "            [--id CLIENT_ID] [--name CLIENT_NAME] [--cluster CLUSTER]\n"
                 "            [-f {json,json-pretty,xml,xml-pretty,plain}]\n"
                 "ceph: error: argument -f/--format: invalid choice: '%s' (choose from "
                 "'json', 'json-pretty', 'xml', 'xml-pretty', 'plain')\n",
                 fmt);
        res->exit_code = 2;
        goto out;
    }
    if (!do_connect(&s, &conn))
        goto out;
    if (command_fault(&s, ""))
        goto out;
    if (nargs == 0)
        goto out; /* the interactive mode with nothing on stdin */
    sig sigs[8];
    int nsigs = sigs_for(s.rel, sigs);
    int best = 0;
    for (int i = 0; i < nsigs; i++) {
        int m = matchnum(args, nargs, &sigs[i]);
        if (m > best)
            best = m;
    }
    const sig *cands[8];
    int ncands = 0;
    for (int i = 0; i < nsigs; i++)
        if (best > 0 && matchnum(args, nargs, &sigs[i]) == best)
            cands[ncands++] = &sigs[i];
    /* shortest signatures first, as validate_command sorts them */
    for (int i = 1; i < ncands; i++)
        for (int k = i; k > 0 && cands[k - 1]->n > cands[k]->n; k--) {
            const sig *tmp = cands[k];
            cands[k] = cands[k - 1];
            cands[k - 1] = tmp;
        }
    for (int i = 0; i < ncands; i++) {
        validated v;
        char msg[1024], note[600], line[256];
        int rv = validate_sig(args, nargs, cands[i], &v, msg, sizeof(msg), note, sizeof(note));
        if (rv == 1)
            continue;
        if (rv < 0) {
            concise(s.rel, cands[i], line, sizeof(line));
            err_line(&s, "%sInvalid command:  %s\n%s :  %s\n", note, msg, line, cands[i]->help);
            invalid_command(&s);
            goto out;
        }
        ceph_blocklist(&s, cands[i], &v, fmt);
        goto out;
    }
    err_line(&s, "no valid command found; 10 closest matches:\n");
    for (int i = 0; i < ncands && i < 10; i++) {
        char line[256];
        concise(s.rel, cands[i], line, sizeof(line));
        err_line(&s, "%s\n", line);
    }
    invalid_command(&s);
out:
    partial_fault(&s);
    rbd_conn_opts_cleanup(&conn);
    finish(&s);
}
