#include "run_action.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/duration.h"
#include "core/fsutil.h"
#include "run_fakes.h"

const char *const run_action_kind_names[RUN_A_KIND_N + 1] = {
    "wait",
    "apiserver.create",
    "apiserver.update",
    "apiserver.patch",
    "apiserver.delete",
    "apiserver.reject",
    "apiserver.accept",
    "apiserver.rotate_token",
    "apiserver.fault.add",
    "apiserver.fault.remove",
    "es.down",
    "es.up",
    "es.fault.add",
    "es.fault.remove",
    "rbd.lock.add",
    "rbd.lock.remove",
    "rbd.watcher.add",
    "rbd.watcher.remove",
    "rbd.client.dead",
    "rbd.client.alive",
    "rbd.node.dead",
    "rbd.node.alive",
    "rbd.blocklist.add",
    "rbd.blocklist.remove",
    "rbd.fault.add",
    "rbd.fault.remove",
    "process.start",
    "process.stop",
    "process.kill",
    "process.restart",
    "logs.write",
    "logs.rotate",
    "logs.truncate",
    NULL,
};

static const char *const k_none[] = {NULL};
static const char *const k_object[] = {"object", "file", NULL};
static const char *const k_patch[] = {"resource", "namespace", "name", "patch", "type", NULL};
static const char *const k_delete[] = {"resource", "namespace", "name", NULL};
static const char *const k_identity[] = {"identity", NULL};
static const char *const k_fault_remove[] = {"id", NULL};
static const char *const k_lock_add[] = {"image", "id",     "locker", "address",
                                         "node",  "client", "tag",    NULL};
static const char *const k_lock_remove[] = {"image", "id", "locker", NULL};
static const char *const k_watcher[] = {"image", "node", "client", "cookie", NULL};
static const char *const k_client[] = {"client", NULL};
static const char *const k_node[] = {"node", NULL};
static const char *const k_bl_add[] = {"address", "range", "expire", NULL};
static const char *const k_bl_remove[] = {"address", "range", NULL};
static const char *const k_proc[] = {"process", NULL};
static const char *const k_kill[] = {"process", "signal", NULL};
static const char *const k_write[] = {"stream", "lines", NULL};
static const char *const k_rotate[] = {"stream", "mode", NULL};
static const char *const k_stream[] = {"stream", NULL};

/* Objects for apiserver.create/update: inline, or from a file holding one
 * object, an array of objects, or a v1 List. */
static int load_objects(run_ck *c, const char *ptr, const json_t *v, const char *base_dir,
                        run_action *a)
{
    char p[RUN_PTR_MAX];
    json_t *obj = json_object_get(v, "object");
    const char *file = NULL;
    int rc = ck_str(c, ptr, v, "file", false, &file);
    if (rc)
        return rc;
    if (!obj == !file)
        return run_doc_err(c->doc, c->err, -EINVAL, ptr,
                           "give exactly one of \"object\" (inline) or \"file\" (a JSON file "
                           "with an object, an array of objects or a v1 List)");
    json_t *src = NULL;
    if (file) {
        run_ptr_join(p, sizeof(p), ptr, "file");
        char *path = file[0] == '/' ? strdup(file) : fs_join(base_dir, file);
        if (!path)
            return -ENOMEM;
        json_error_t je;
        src = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
        if (!src) {
            rc = run_doc_err(c->doc, c->err, -EINVAL, p, "cannot load %s: %s (line %d, column %d)",
                             path, je.text, je.line, je.column);
            free(path);
            return rc;
        }
        free(path);
    } else {
        run_ptr_join(p, sizeof(p), ptr, "object");
        src = json_incref(obj);
    }
    json_t *items = NULL;
    if (json_is_array(src))
        items = json_incref(src);
    else if (json_is_object(src) && json_is_array(json_object_get(src, "items")) &&
             json_is_string(json_object_get(src, "kind")) &&
             strcmp(json_string_value(json_object_get(src, "kind")), "List") == 0)
        items = json_incref(json_object_get(src, "items"));
    else if (json_is_object(src))
        items = json_pack("[O]", src);
    json_decref(src);
    if (!items || json_array_size(items) == 0) {
        json_decref(items);
        return run_doc_err(c->doc, c->err, -EINVAL, p,
                           "expected a Kubernetes object (with apiVersion, kind and "
                           "metadata.name), an array of them, or a v1 List");
    }
    size_t i;
    json_t *o;
    json_array_foreach (items, i, o) {
        json_t *md = json_object_get(o, "metadata");
        if (!json_is_object(o) || !json_is_string(json_object_get(o, "kind")) ||
            !json_is_string(json_object_get(o, "apiVersion")) || !json_is_object(md) ||
            !json_is_string(json_object_get(md, "name"))) {
            json_decref(items);
            return run_doc_err(c->doc, c->err, -EINVAL, p,
                               "object %zu: expected apiVersion, kind and metadata.name", i);
        }
    }
    a->objects = items;
    return 0;
}

static int parse_kind(run_ck *c, const char *ptr, const json_t *v, const run_names *names,
                      const char *base_dir, run_action *a)
{
    int rc;
    char p[RUN_PTR_MAX];
    char tmp[96];
    switch (a->kind) {
    case RUN_A_WAIT:
        if (!json_is_string(v) || duration_parse(json_string_value(v), &a->wait_ns) != 0)
            return run_doc_err(c->doc, c->err, -EINVAL, ptr,
                               "expected a duration like \"5s\" (units ns, us, ms, s, m, h), got "
                               "%s",
                               run_json_describe(v, tmp, sizeof(tmp)));
        return 0;
    case RUN_A_APISERVER_CREATE:
    case RUN_A_APISERVER_UPDATE:
        if ((rc = ck_object(c, ptr, v, k_object)))
            return rc;
        return load_objects(c, ptr, v, base_dir, a);
    case RUN_A_APISERVER_PATCH: {
        /* the fake's C API applies JSON merge patches (RFC 7386) */
        static const char *const types[] = {"merge", NULL};
        int t = 0;
        if ((rc = ck_object(c, ptr, v, k_patch)) ||
            (rc = ck_str(c, ptr, v, "resource", true, &a->str[0])) ||
            (rc = ck_str(c, ptr, v, "namespace", false, &a->str[1])) ||
            (rc = ck_str(c, ptr, v, "name", true, &a->str[2])) ||
            (rc = ck_enum(c, ptr, v, "type", false, types, &t)))
            return rc;
        (void)t;
        json_t *patch = json_object_get(v, "patch");
        if (!patch)
            return ck_missing(c, ptr, "patch");
        if (!json_is_object(patch))
            return run_doc_err(c->doc, c->err, -EINVAL, run_ptr_join(p, sizeof(p), ptr, "patch"),
                               "expected a merge patch object");
        return 0;
    }
    case RUN_A_APISERVER_DELETE:
        if ((rc = ck_object(c, ptr, v, k_delete)) ||
            (rc = ck_str(c, ptr, v, "resource", true, &a->str[0])) ||
            (rc = ck_str(c, ptr, v, "namespace", false, &a->str[1])) ||
            (rc = ck_str(c, ptr, v, "name", true, &a->str[2])))
            return rc;
        return 0;
    case RUN_A_APISERVER_REJECT:
    case RUN_A_APISERVER_ACCEPT:
    case RUN_A_APISERVER_ROTATE_TOKEN:
        if ((rc = ck_object(c, ptr, v, k_identity)) ||
            (rc = ck_str(c, ptr, v, "identity", true, &a->str[0])))
            return rc;
        return 0;
    case RUN_A_APISERVER_FAULT_ADD:
    case RUN_A_ES_FAULT_ADD:
    case RUN_A_RBD_FAULT_ADD: {
        run_fake_id f = a->kind == RUN_A_APISERVER_FAULT_ADD ? RUN_FAKE_APISERVER
                        : a->kind == RUN_A_ES_FAULT_ADD      ? RUN_FAKE_ES
                                                             : RUN_FAKE_RBD;
        return run_fakes_check_fault(c, ptr, v, f);
    }
    case RUN_A_APISERVER_FAULT_REMOVE:
    case RUN_A_ES_FAULT_REMOVE:
    case RUN_A_RBD_FAULT_REMOVE:
        if ((rc = ck_object(c, ptr, v, k_fault_remove)) ||
            (rc = ck_str(c, ptr, v, "id", true, &a->str[0])))
            return rc;
        return 0;
    case RUN_A_ES_DOWN:
    case RUN_A_ES_UP:
        return ck_object(c, ptr, v, k_none);
    case RUN_A_RBD_LOCK_ADD: {
        /* the locker: an existing client, a new client on a node, or a
         * literal client.N at an address (a client that may be long gone) */
        if ((rc = ck_object(c, ptr, v, k_lock_add)) ||
            (rc = ck_str(c, ptr, v, "image", true, &a->str[0])) ||
            (rc = ck_str(c, ptr, v, "id", true, &a->str[1])) ||
            (rc = ck_str(c, ptr, v, "locker", false, &a->str[2])) ||
            (rc = ck_str(c, ptr, v, "address", false, &a->str[3])) ||
            (rc = ck_str(c, ptr, v, "tag", false, &a->str[4])) ||
            (rc = ck_str(c, ptr, v, "node", false, &a->str[5])) ||
            (rc = ck_int(c, ptr, v, "client", false, 1, INT64_MAX, &a->ns)))
            return rc;
        int ways = (a->str[2] != NULL) + (a->str[5] != NULL) + (a->ns > 0);
        if (ways != 1 || (a->str[2] && !a->str[3]) || (!a->str[2] && a->str[3]))
            return run_doc_err(c->doc, c->err, -EINVAL, ptr,
                               "name the locker one way: \"client\" (an existing client's "
                               "number), \"node\" (a new client on that node's IP), or "
                               "\"locker\" (\"client.N\") with its \"address\" "
                               "(\"IP:0/nonce\")");
        return run_fakes_check_rbd(c, ptr, v, a);
    }
    case RUN_A_RBD_LOCK_REMOVE:
        if ((rc = ck_object(c, ptr, v, k_lock_remove)) ||
            (rc = ck_str(c, ptr, v, "image", true, &a->str[0])) ||
            (rc = ck_str(c, ptr, v, "id", true, &a->str[1])) ||
            (rc = ck_str(c, ptr, v, "locker", true, &a->str[2])))
            return rc;
        return run_fakes_check_rbd(c, ptr, v, a);
    case RUN_A_RBD_WATCHER_ADD:
    case RUN_A_RBD_WATCHER_REMOVE: {
        int64_t cookie = 0;
        if ((rc = ck_object(c, ptr, v, k_watcher)) ||
            (rc = ck_str(c, ptr, v, "image", true, &a->str[0])) ||
            (rc = ck_str(c, ptr, v, "node", false, &a->str[1])) ||
            (rc = ck_int(c, ptr, v, "client", false, 1, INT64_MAX, &a->ns)) ||
            (rc = ck_int(c, ptr, v, "cookie", false, 0, INT64_MAX, &cookie)))
            return rc;
        a->lines = (uint64_t)cookie;
        if (a->kind == RUN_A_RBD_WATCHER_ADD && !a->str[1] == !a->ns)
            return run_doc_err(c->doc, c->err, -EINVAL, ptr,
                               "give \"client\" (an existing client's number) or \"node\" (a "
                               "new client on that node's IP)");
        if (a->kind == RUN_A_RBD_WATCHER_REMOVE && !a->ns)
            return ck_missing(c, ptr, "client");
        return run_fakes_check_rbd(c, ptr, v, a);
    }
    case RUN_A_RBD_CLIENT_DEAD:
    case RUN_A_RBD_CLIENT_ALIVE: {
        json_t *cl = json_object_get(v, "client");
        if ((rc = ck_object(c, ptr, v, k_client)))
            return rc;
        if (!cl)
            return ck_missing(c, ptr, "client");
        /* 4120 or "client.4120" */
        const char *cs = json_string_value(cl);
        if (json_is_integer(cl) && json_integer_value(cl) > 0)
            a->ns = json_integer_value(cl);
        else if (cs && strncmp(cs, "client.", 7) == 0 && cs[7] &&
                 strspn(cs + 7, "0123456789") == strlen(cs + 7))
            a->ns = strtoll(cs + 7, NULL, 10);
        if (a->ns <= 0)
            return run_doc_err(c->doc, c->err, -EINVAL, run_ptr_join(p, sizeof(p), ptr, "client"),
                               "expected a client as a number (4120) or \"client.4120\"");
        return run_fakes_check_rbd(c, ptr, v, a);
    }
    case RUN_A_RBD_NODE_DEAD:
    case RUN_A_RBD_NODE_ALIVE:
        if ((rc = ck_object(c, ptr, v, k_node)) ||
            (rc = ck_str(c, ptr, v, "node", true, &a->str[0])))
            return rc;
        return run_fakes_check_rbd(c, ptr, v, a);
    case RUN_A_RBD_BLOCKLIST_ADD:
        a->ns = -1;
        if ((rc = ck_object(c, ptr, v, k_bl_add)) ||
            (rc = ck_str(c, ptr, v, "address", true, &a->str[0])) ||
            (rc = ck_bool(c, ptr, v, "range", false, &a->flag)) ||
            (rc = ck_duration(c, ptr, v, "expire", false, &a->ns)))
            return rc;
        return run_fakes_check_rbd(c, ptr, v, a);
    case RUN_A_RBD_BLOCKLIST_REMOVE:
        if ((rc = ck_object(c, ptr, v, k_bl_remove)) ||
            (rc = ck_str(c, ptr, v, "address", true, &a->str[0])) ||
            (rc = ck_bool(c, ptr, v, "range", false, &a->flag)))
            return rc;
        return run_fakes_check_rbd(c, ptr, v, a);
    case RUN_A_PROCESS_START:
    case RUN_A_PROCESS_STOP:
    case RUN_A_PROCESS_RESTART:
        if ((rc = ck_object(c, ptr, v, k_proc)))
            return rc;
        return ck_ref(c, ptr, v, "process", "process", names->procs, names->nprocs, &a->proc);
    case RUN_A_PROCESS_KILL: {
        const char *sig = "KILL";
        if ((rc = ck_object(c, ptr, v, k_kill)) ||
            (rc = ck_ref(c, ptr, v, "process", "process", names->procs, names->nprocs, &a->proc)) ||
            (rc = ck_str(c, ptr, v, "signal", false, &sig)))
            return rc;
        a->sig = run_signal_parse(sig);
        if (a->sig < 0)
            return run_doc_err(c->doc, c->err, -EINVAL, run_ptr_join(p, sizeof(p), ptr, "signal"),
                               "expected a signal name like \"TERM\" or \"KILL\", got \"%s\"", sig);
        return 0;
    }
    case RUN_A_LOGS_WRITE: {
        int64_t n = 0;
        if ((rc = ck_object(c, ptr, v, k_write)) ||
            (rc = ck_ref(c, ptr, v, "stream", "log stream", names->streams, names->nstreams,
                         &a->log)) ||
            (rc = ck_int(c, ptr, v, "lines", true, 1, 100000000, &n)))
            return rc;
        a->lines = (uint64_t)n;
        return 0;
    }
    case RUN_A_LOGS_ROTATE: {
        static const char *const modes[] = {"rename", "copytruncate", NULL};
        int m = -1;
        if ((rc = ck_object(c, ptr, v, k_rotate)) ||
            (rc = ck_ref(c, ptr, v, "stream", "log stream", names->streams, names->nstreams,
                         &a->log)) ||
            (rc = ck_enum(c, ptr, v, "mode", false, modes, &m)))
            return rc;
        a->rotate = m < 0 ? RUN_ROTATE_NONE : m == 0 ? RUN_ROTATE_RENAME : RUN_ROTATE_COPYTRUNCATE;
        return 0;
    }
    case RUN_A_LOGS_TRUNCATE:
        if ((rc = ck_object(c, ptr, v, k_stream)))
            return rc;
        return ck_ref(c, ptr, v, "stream", "log stream", names->streams, names->nstreams, &a->log);
    case RUN_A_KIND_N:
        break;
    }
    return -EINVAL;
}

int run_action_parse(run_ck *c, const char *ptr, const json_t *v, const run_names *names,
                     const char *base_dir, run_action *a)
{
    memset(a, 0, sizeof(*a));
    char list[1200];
    run_join_names(run_action_kind_names, list, sizeof(list));
    if (!json_is_object(v) || json_object_size(v) != 1) {
        char tmp[96];
        return run_doc_err(c->doc, c->err, -EINVAL, ptr,
                           "expected an action: an object with one key naming it (%s), got %s",
                           list,
                           json_is_object(v) ? (json_object_size(v) ? "several keys" : "{}")
                                             : run_json_describe(v, tmp, sizeof(tmp)));
    }
    const char *key = json_object_iter_key(json_object_iter((json_t *)v));
    json_t *val = json_object_get(v, key);
    char sub[RUN_PTR_MAX];
    run_ptr_join(sub, sizeof(sub), ptr, key);
    int kind = -1;
    for (int k = 0; k < RUN_A_KIND_N; k++)
        if (strcmp(key, run_action_kind_names[k]) == 0)
            kind = k;
    if (kind < 0) {
        const char *near[1];
        if (run_nearest(key, run_action_kind_names, RUN_A_KIND_N, near, 1))
            return run_doc_err_key(c->doc, c->err, -EINVAL, sub,
                                   "unknown action \"%s\" (did you mean \"%s\"?); actions: %s", key,
                                   near[0], list);
        return run_doc_err_key(c->doc, c->err, -EINVAL, sub, "unknown action \"%s\"; actions: %s",
                               key, list);
    }
    a->kind = (run_action_kind)kind;
    snprintf(a->ptr, sizeof(a->ptr), "%s", sub);
    a->spec = val;
    int rc = parse_kind(c, sub, val, names, base_dir, a);
    if (rc) {
        if (rc == -ENOMEM)
            efk_err_set(c->err, rc, "out of memory");
        run_action_cleanup(a);
    }
    return rc;
}

void run_action_cleanup(run_action *a)
{
    json_decref(a->objects);
    a->objects = NULL;
}

const char *run_action_describe(const run_action *a, char *out, size_t outsz)
{
    const char *name = run_action_kind_names[a->kind];
    const json_t *s = a->spec;
    const char *arg = NULL;
    static const char *const keys[] = {"process", "stream", "identity", "id",   "image",
                                       "client",  "node",   "address",  "name", NULL};
    for (const char *const *k = keys; !arg && *k && json_is_object(s); k++)
        arg = json_string_value(json_object_get(s, *k));
    if (a->kind == RUN_A_WAIT)
        arg = json_string_value(s);
    snprintf(out, outsz, "%s%s%s", name, arg ? " " : "", arg ? arg : "");
    return out;
}
