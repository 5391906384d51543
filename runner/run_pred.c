#include "run_pred.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fault.h"
#include "core/fsutil.h"
#include "run_fakes.h"
#include "run_tmpl.h"

const char *const run_fake_names[RUN_FAKE_N] = {"apiserver", "es", "rbd"};

const char *const run_pred_kind_names[RUN_P_KIND_N + 1] = {"all",
                                                           "any",
                                                           "not",
                                                           "journal",
                                                           "journal.order",
                                                           "apiserver.object",
                                                           "es.count",
                                                           "es.field",
                                                           "es.delivery",
                                                           "rbd.lock",
                                                           "rbd.watcher",
                                                           "rbd.blocklist",
                                                           "rbd.audit",
                                                           "process.started",
                                                           "process.running",
                                                           "process.ready",
                                                           "process.exited",
                                                           "process.restarts",
                                                           "process.output",
                                                           "file",
                                                           "step",
                                                           "tcp",
                                                           NULL};

#define OUTPUT_LINE_MAX (64 * 1024) /* longer output lines are matched in pieces */
#define CONTEXT_ENTRIES 5
#define CONTEXT_TAIL    2048

/* ---- parsing ---- */

static const char *const match_keys[] = {"method", "path",         "query",    "status", "header",
                                         "body",   "body_matches", "identity", NULL};

static int parse_match(run_ck *c, const char *ptr, const json_t *o, run_http_match *m)
{
    int rc;
    char p[RUN_PTR_MAX];
    if ((rc = ck_str(c, ptr, o, "method", false, &m->method)) ||
        (rc = ck_str(c, ptr, o, "path", false, &m->path)) ||
        (rc = ck_str(c, ptr, o, "query", false, &m->query)) ||
        (rc = ck_str(c, ptr, o, "body", false, &m->body)) ||
        (rc = ck_str(c, ptr, o, "identity", false, &m->identity)) ||
        (rc = ck_regex(c, ptr, o, "body_matches", false, &m->body_re, &m->has_re)))
        return rc;
    json_t *st = json_object_get(o, "status");
    if (st) {
        run_ptr_join(p, sizeof(p), ptr, "status");
        if (json_is_integer(st)) {
            m->status[m->nstatus++] = (int)json_integer_value(st);
        } else if (json_is_array(st) && json_array_size(st) > 0 &&
                   json_array_size(st) <= RUN_MATCH_MAX_STATUS) {
            size_t i;
            json_t *x;
            json_array_foreach (st, i, x) {
                if (!json_is_integer(x)) {
                    char q[RUN_PTR_MAX];
                    return run_doc_err(c->doc, c->err, -EINVAL, run_ptr_index(q, sizeof(q), p, i),
                                       "expected an HTTP status code");
                }
                m->status[m->nstatus++] = (int)json_integer_value(x);
            }
        } else {
            return run_doc_err(c->doc, c->err, -EINVAL, p,
                               "expected a status code or an array of 1 to %d status codes",
                               RUN_MATCH_MAX_STATUS);
        }
        for (size_t i = 0; i < m->nstatus; i++)
            if (m->status[i] < 0 || m->status[i] > 599)
                return run_doc_err(c->doc, c->err, -EINVAL, p,
                                   "expected status codes from 0 (no answer) to 599");
    }
    json_t *h = json_object_get(o, "header");
    if (h) {
        run_ptr_join(p, sizeof(p), ptr, "header");
        if (!json_is_object(h) || json_object_size(h) == 0 ||
            json_object_size(h) > RUN_MATCH_MAX_HEADERS)
            return run_doc_err(c->doc, c->err, -EINVAL, p,
                               "expected an object of 1 to %d header names with value globs",
                               RUN_MATCH_MAX_HEADERS);
        const char *k;
        json_t *v;
        json_object_foreach (h, k, v) {
            if (!json_is_string(v)) {
                char q[RUN_PTR_MAX];
                return run_doc_err(c->doc, c->err, -EINVAL, run_ptr_join(q, sizeof(q), p, k),
                                   "expected a glob for the header's value (\"*\" for any)");
            }
            m->header_names[m->nheaders] = k;
            m->header_values[m->nheaders++] = json_string_value(v);
        }
    }
    return 0;
}

static const char *const fakes_enum[] = {"apiserver", "es", "rbd", NULL};

/* The keys each kind takes (count keys are "count", "min", "max"). */
#define COUNT_KEYS "count", "min", "max"
static const char *const k_journal[] = {"fake",     "method",   "path", "query",
                                        "status",   "header",   "body", "body_matches",
                                        "identity", COUNT_KEYS, NULL};
static const char *const k_order[] = {"fake", "first", "then", NULL};
static const char *const k_object[] = {"resource", "namespace", "name", "exists", "fields", NULL};
static const char *const k_es_count[] = {"index", "query", COUNT_KEYS, NULL};
static const char *const k_es_field[] = {"index",   "query", "field", "equals",
                                         "matches", "every", NULL};
static const char *const k_delivery[] = {"stream",     "expected",  "delivered", "lost",
                                         "duplicated", "reordered", NULL};
static const char *const k_lock[] = {"image", "id", "locker", "exists", NULL};
static const char *const k_watcher[] = {"image", "address", "exists", NULL};
static const char *const k_blocklist[] = {"address", "exists", NULL};
static const char *const k_audit[] = {"match", "order", COUNT_KEYS, NULL};
static const char *const k_proc[] = {"process", NULL};
static const char *const k_exited[] = {"process", "code", "signal", NULL};
static const char *const k_restarts[] = {"process", COUNT_KEYS, NULL};
static const char *const k_output[] = {"process", "stream", "pattern", COUNT_KEYS, NULL};
static const char *const k_file[] = {"path", "exists", "contains", "matches", "equals", NULL};
static const char *const k_step[] = {"step", COUNT_KEYS, NULL};
static const char *const k_tcp[] = {"port", "host", NULL};

static const char *const delivery_names[5] = {"expected", "delivered", "lost", "duplicated",
                                              "reordered"};

static int parse_kind(run_ck *c, run_pred *p, const char *ptr, const json_t *v,
                      const run_names *names)
{
    int rc = 0;
    char sub[RUN_PTR_MAX];
    int idx;
    switch (p->kind) {
    case RUN_P_ALL:
    case RUN_P_ANY: {
        if (!json_is_array(v) || json_array_size(v) == 0)
            return run_doc_err(c->doc, c->err, -EINVAL, ptr,
                               "expected a non-empty array of conditions");
        p->kids = calloc(json_array_size(v), sizeof(*p->kids));
        if (!p->kids)
            return -ENOMEM;
        size_t i;
        json_t *x;
        json_array_foreach (v, i, x) {
            run_ptr_index(sub, sizeof(sub), ptr, i);
            if ((rc = run_pred_parse(c, sub, x, names, &p->kids[p->nkids])))
                return rc;
            p->nkids++;
        }
        return 0;
    }
    case RUN_P_NOT:
        p->kids = calloc(1, sizeof(*p->kids));
        if (!p->kids)
            return -ENOMEM;
        if ((rc = run_pred_parse(c, ptr, v, names, &p->kids[0])))
            return rc;
        p->nkids = 1;
        return 0;
    case RUN_P_JOURNAL:
        if ((rc = ck_object(c, ptr, v, k_journal)) ||
            (rc = ck_enum(c, ptr, v, "fake", true, fakes_enum, &idx)))
            return rc;
        p->fake = (run_fake_id)idx;
        if ((rc = parse_match(c, ptr, v, &p->m)))
            return rc;
        return ck_count(c, ptr, v, 1, &p->count);
    case RUN_P_JOURNAL_ORDER: {
        if ((rc = ck_object(c, ptr, v, k_order)) ||
            (rc = ck_enum(c, ptr, v, "fake", true, fakes_enum, &idx)))
            return rc;
        p->fake = (run_fake_id)idx;
        static const char *const ord[2] = {"first", "then"};
        for (int k = 0; k < 2; k++) {
            json_t *o = json_object_get(v, ord[k]);
            if (!o)
                return ck_missing(c, ptr, ord[k]);
            run_ptr_join(sub, sizeof(sub), ptr, ord[k]);
            if ((rc = ck_object(c, sub, o, match_keys)) ||
                (rc = parse_match(c, sub, o, k ? &p->then : &p->m)))
                return rc;
        }
        return 0;
    }
    case RUN_P_APISERVER_OBJECT:
        p->exists = true;
        if ((rc = ck_object(c, ptr, v, k_object)) ||
            (rc = ck_str(c, ptr, v, "resource", true, &p->str[0])) ||
            (rc = ck_str(c, ptr, v, "namespace", false, &p->str[1])) ||
            (rc = ck_str(c, ptr, v, "name", true, &p->str[2])) ||
            (rc = ck_bool(c, ptr, v, "exists", false, &p->exists)))
            return rc;
        p->value = json_object_get(v, "fields");
        if (p->value) {
            run_ptr_join(sub, sizeof(sub), ptr, "fields");
            if (!json_is_object(p->value) || json_object_size(p->value) == 0)
                return run_doc_err(c->doc, c->err, -EINVAL, sub,
                                   "expected an object of JSON pointers (\"/status/phase\") to the "
                                   "values they must have");
            const char *k;
            json_t *x;
            json_object_foreach (p->value, k, x) {
                if (k[0] != '/') {
                    char q[RUN_PTR_MAX];
                    return run_doc_err_key(c->doc, c->err, -EINVAL,
                                           run_ptr_join(q, sizeof(q), sub, k),
                                           "expected a JSON pointer starting with \"/\", like "
                                           "\"/status/phase\"");
                }
            }
            if (!p->exists)
                return run_doc_err(c->doc, c->err, -EINVAL, sub,
                                   "\"fields\" cannot be checked on an object that must not "
                                   "exist");
        }
        return 0;
    case RUN_P_ES_COUNT:
        p->str[0] = "*";
        if ((rc = ck_object(c, ptr, v, k_es_count)) ||
            (rc = ck_str(c, ptr, v, "index", false, &p->str[0])))
            return rc;
        p->query = json_object_get(v, "query");
        if (p->query && !json_is_object(p->query))
            return run_doc_err(c->doc, c->err, -EINVAL,
                               run_ptr_join(sub, sizeof(sub), ptr, "query"),
                               "expected an Elasticsearch query object like {\"match_all\": {}}");
        return ck_count(c, ptr, v, 1, &p->count);
    case RUN_P_ES_FIELD: {
        p->str[0] = "*";
        bool every = true;
        if ((rc = ck_object(c, ptr, v, k_es_field)) ||
            (rc = ck_str(c, ptr, v, "index", false, &p->str[0])) ||
            (rc = ck_str(c, ptr, v, "field", true, &p->str[1])) ||
            (rc = ck_bool(c, ptr, v, "every", false, &every)) ||
            (rc = ck_regex(c, ptr, v, "matches", false, &p->re, &p->has_re)))
            return rc;
        p->exists = every; /* reused: every document (true) or some (false) */
        p->query = json_object_get(v, "query");
        if (p->query && !json_is_object(p->query))
            return run_doc_err(c->doc, c->err, -EINVAL,
                               run_ptr_join(sub, sizeof(sub), ptr, "query"),
                               "expected an Elasticsearch query object like {\"match_all\": {}}");
        p->value = json_object_get(v, "equals");
        if (!p->value == !p->has_re)
            return run_doc_err(c->doc, c->err, -EINVAL, ptr,
                               "give exactly one of \"equals\" (a JSON value) or \"matches\" (a "
                               "regular expression)");
        return 0;
    }
    case RUN_P_ES_DELIVERY: {
        if ((rc = ck_object(c, ptr, v, k_delivery)) ||
            (rc = ck_name(c, ptr, v, "stream", false, &p->str[2])))
            return rc;
        bool any = false;
        for (int k = 0; k < 5; k++) {
            json_t *x = json_object_get(v, delivery_names[k]);
            if (!x)
                continue;
            run_ptr_join(sub, sizeof(sub), ptr, delivery_names[k]);
            if (json_is_integer(x) && json_integer_value(x) >= 0) {
                p->dcount[k].min = p->dcount[k].max = json_integer_value(x);
            } else if (json_is_object(x)) {
                static const char *const mm[] = {"min", "max", NULL};
                if ((rc = ck_object(c, sub, x, mm)) || (rc = ck_count(c, sub, x, 0, &p->dcount[k])))
                    return rc;
            } else {
                return run_doc_err(c->doc, c->err, -EINVAL, sub,
                                   "expected a number of lines or {\"min\": N, \"max\": M}");
            }
            p->dhas[k] = true;
            any = true;
        }
        if (!any)
            return run_doc_err(c->doc, c->err, -EINVAL, ptr,
                               "expected at least one of \"expected\", \"delivered\", \"lost\", "
                               "\"duplicated\", \"reordered\"");
        return 0;
    }
    case RUN_P_RBD_LOCK:
        p->exists = true;
        if ((rc = ck_object(c, ptr, v, k_lock)) ||
            (rc = ck_str(c, ptr, v, "image", true, &p->str[0])) ||
            (rc = ck_str(c, ptr, v, "id", false, &p->str[1])) ||
            (rc = ck_str(c, ptr, v, "locker", false, &p->str[2])) ||
            (rc = ck_bool(c, ptr, v, "exists", false, &p->exists)))
            return rc;
        return 0;
    case RUN_P_RBD_WATCHER:
        p->exists = true;
        if ((rc = ck_object(c, ptr, v, k_watcher)) ||
            (rc = ck_str(c, ptr, v, "image", true, &p->str[0])) ||
            (rc = ck_str(c, ptr, v, "address", false, &p->str[1])) ||
            (rc = ck_bool(c, ptr, v, "exists", false, &p->exists)))
            return rc;
        return 0;
    case RUN_P_RBD_BLOCKLIST:
        p->exists = true;
        if ((rc = ck_object(c, ptr, v, k_blocklist)) ||
            (rc = ck_str(c, ptr, v, "address", true, &p->str[0])) ||
            (rc = ck_bool(c, ptr, v, "exists", false, &p->exists)))
            return rc;
        return 0;
    case RUN_P_RBD_AUDIT: {
        /* audit entries are the fake's own: match any of their fields
         * ("op", "pool", "image", "cookie", "locker", "addr", "client",
         * "tool", "r", ...); string values are globs */
        if ((rc = ck_object(c, ptr, v, k_audit)))
            return rc;
        json_t *order = json_object_get(v, "order");
        json_t *match = json_object_get(v, "match");
        if (!order == !match)
            return run_doc_err(c->doc, c->err, -EINVAL, ptr,
                               "give \"match\" (audit fields, with a count) or \"order\" (a "
                               "list of them that must happen in that order)");
        if (order) {
            run_ptr_join(sub, sizeof(sub), ptr, "order");
            if (json_object_get(v, "count") || json_object_get(v, "min") ||
                json_object_get(v, "max"))
                return run_doc_err(c->doc, c->err, -EINVAL, sub,
                                   "\"order\" cannot go with a count");
            if (!json_is_array(order) || json_array_size(order) < 2)
                return run_doc_err(c->doc, c->err, -EINVAL, sub,
                                   "expected an array of at least 2 audit patterns");
            size_t i;
            json_t *x;
            json_array_foreach (order, i, x) {
                char q[RUN_PTR_MAX];
                if (!json_is_object(x) || json_object_size(x) == 0)
                    return run_doc_err(c->doc, c->err, -EINVAL, run_ptr_index(q, sizeof(q), sub, i),
                                       "expected an object of audit fields, like {\"op\": "
                                       "\"lock_break\"}");
            }
            p->ops = order;
            p->nops = json_array_size(order);
            return 0;
        }
        if (!json_is_object(match) || json_object_size(match) == 0)
            return run_doc_err(c->doc, c->err, -EINVAL,
                               run_ptr_join(sub, sizeof(sub), ptr, "match"),
                               "expected an object of audit fields, like {\"op\": \"lock_break\"}");
        return ck_count(c, ptr, v, 1, &p->count);
    }
    case RUN_P_PROC_STARTED:
    case RUN_P_PROC_RUNNING:
    case RUN_P_PROC_READY:
        if ((rc = ck_object(c, ptr, v, k_proc)))
            return rc;
        return ck_ref(c, ptr, v, "process", "process", names->procs, names->nprocs, &p->proc);
    case RUN_P_PROC_EXITED: {
        p->exit_code = -1;
        int64_t code = -1;
        const char *sig = NULL;
        if ((rc = ck_object(c, ptr, v, k_exited)) ||
            (rc = ck_ref(c, ptr, v, "process", "process", names->procs, names->nprocs, &p->proc)) ||
            (rc = ck_int(c, ptr, v, "code", false, 0, 255, &code)) ||
            (rc = ck_str(c, ptr, v, "signal", false, &sig)))
            return rc;
        p->exit_code = (int)code;
        if (sig) {
            p->exit_signal = run_signal_parse(sig);
            if (p->exit_signal < 0)
                return run_doc_err(
                    c->doc, c->err, -EINVAL, run_ptr_join(sub, sizeof(sub), ptr, "signal"),
                    "expected a signal name like \"TERM\" or \"KILL\", got \"%s\"", sig);
            if (code >= 0)
                return run_doc_err(c->doc, c->err, -EINVAL, ptr,
                                   "a process exits with a code or dies of a signal, not both");
        }
        return 0;
    }
    case RUN_P_PROC_RESTARTS:
        if ((rc = ck_object(c, ptr, v, k_restarts)) ||
            (rc = ck_ref(c, ptr, v, "process", "process", names->procs, names->nprocs, &p->proc)))
            return rc;
        return ck_count(c, ptr, v, 1, &p->count);
    case RUN_P_PROC_OUTPUT: {
        static const char *const streams[] = {"stdout", "stderr", "both", NULL};
        int s = 2;
        if ((rc = ck_object(c, ptr, v, k_output)) ||
            (rc = ck_ref(c, ptr, v, "process", "process", names->procs, names->nprocs, &p->proc)) ||
            (rc = ck_enum(c, ptr, v, "stream", false, streams, &s)) ||
            (rc = ck_regex(c, ptr, v, "pattern", true, &p->re, &p->has_re)))
            return rc;
        p->out_streams = s + 1;
        return ck_count(c, ptr, v, 1, &p->count);
    }
    case RUN_P_FILE:
        p->exists = true;
        if ((rc = ck_object(c, ptr, v, k_file)) ||
            (rc = ck_str(c, ptr, v, "path", true, &p->path)) ||
            (rc = ck_bool(c, ptr, v, "exists", false, &p->exists)) ||
            (rc = ck_str(c, ptr, v, "contains", false, &p->contains)) ||
            (rc = ck_str(c, ptr, v, "equals", false, &p->equals)) ||
            (rc = ck_regex(c, ptr, v, "matches", false, &p->re, &p->has_re)))
            return rc;
        if (!p->exists && (p->contains || p->equals || p->has_re))
            return run_doc_err(c->doc, c->err, -EINVAL, ptr,
                               "a file that must not exist has no content to check");
        if (p->path[0] == '/' || strstr(p->path, ".."))
            return run_doc_err(c->doc, c->err, -EINVAL, run_ptr_join(sub, sizeof(sub), ptr, "path"),
                               "expected a path inside the work dir (relative, without \"..\")");
        return 0;
    case RUN_P_STEP:
        if ((rc = ck_object(c, ptr, v, k_step)) ||
            (rc =
                 ck_ref(c, ptr, v, "step", "timeline step", names->steps, names->nsteps, &p->step)))
            return rc;
        return ck_count(c, ptr, v, 1, &p->count);
    case RUN_P_TCP: {
        int64_t port = 0;
        p->host = "127.0.0.1";
        if ((rc = ck_object(c, ptr, v, k_tcp)))
            return rc;
        json_t *pv = json_object_get(v, "port");
        if (json_is_string(pv) && names->vars) {
            /* a template like "${es.port}": checked now, expanded when used */
            efk_err e;
            efk_err_init(&e);
            p->port_tmpl = json_string_value(pv);
            run_ptr_join(sub, sizeof(sub), ptr, "port");
            if (run_tmpl_check(names->vars, p->port_tmpl, strlen(p->port_tmpl), NULL, &e))
                return run_doc_err(c->doc, c->err, -EINVAL, sub, "%s", e.msg);
        } else if ((rc = ck_int(c, ptr, v, "port", true, 1, 65535, &port))) {
            return rc;
        }
        if ((rc = ck_str(c, ptr, v, "host", false, &p->host)))
            return rc;
        struct in_addr a;
        if (inet_pton(AF_INET, p->host, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127)
            return run_doc_err(c->doc, c->err, -EINVAL, run_ptr_join(sub, sizeof(sub), ptr, "host"),
                               "expected a loopback IPv4 address (127.x.y.z): efksim never "
                               "connects elsewhere");
        p->port = (int)port;
        return 0;
    }
    case RUN_P_KIND_N:
        break;
    }
    return -EINVAL;
}

int run_pred_parse(run_ck *c, const char *ptr, const json_t *v, const run_names *names,
                   run_pred **out)
{
    char tmp[96];
    if (!json_is_object(v) || json_object_size(v) != 1) {
        char list[600];
        run_join_names(run_pred_kind_names, list, sizeof(list));
        return run_doc_err(c->doc, c->err, -EINVAL, ptr,
                           "expected a condition: an object with one key naming its kind (%s), "
                           "got %s",
                           list,
                           json_is_object(v) ? (json_object_size(v) ? "several keys" : "{}")
                                             : run_json_describe(v, tmp, sizeof(tmp)));
    }
    const char *key = json_object_iter_key(json_object_iter((json_t *)v));
    json_t *val = json_object_get(v, key);
    int kind = -1;
    for (int k = 0; k < RUN_P_KIND_N; k++)
        if (strcmp(key, run_pred_kind_names[k]) == 0)
            kind = k;
    char sub[RUN_PTR_MAX];
    run_ptr_join(sub, sizeof(sub), ptr, key);
    if (kind < 0) {
        const char *near[1];
        char list[600];
        run_join_names(run_pred_kind_names, list, sizeof(list));
        if (run_nearest(key, run_pred_kind_names, RUN_P_KIND_N, near, 1))
            return run_doc_err_key(c->doc, c->err, -EINVAL, sub,
                                   "unknown condition \"%s\" (did you mean \"%s\"?); kinds: %s",
                                   key, near[0], list);
        return run_doc_err_key(c->doc, c->err, -EINVAL, sub, "unknown condition \"%s\"; kinds: %s",
                               key, list);
    }
    run_pred *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->kind = (run_pred_kind)kind;
    snprintf(p->ptr, sizeof(p->ptr), "%s", sub);
    p->spec = val;
    buf_init(&p->partial[0], OUTPUT_LINE_MAX);
    buf_init(&p->partial[1], OUTPUT_LINE_MAX);
    int rc = parse_kind(c, p, sub, val, names);
    if (rc) {
        if (rc == -ENOMEM)
            efk_err_set(c->err, rc, "out of memory");
        run_pred_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void run_pred_free(run_pred *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nkids; i++)
        run_pred_free(p->kids[i]);
    free(p->kids);
    if (p->m.has_re)
        regfree(&p->m.body_re);
    if (p->then.has_re)
        regfree(&p->then.body_re);
    if (p->has_re)
        regfree(&p->re);
    buf_cleanup(&p->partial[0]);
    buf_cleanup(&p->partial[1]);
    free(p);
}

/* ---- describing ---- */

static const char *plural(const run_count *c)
{
    return (c->max == 1 || (c->max < 0 && c->min == 1)) ? "" : "s";
}

static void describe_match(const run_http_match *m, buf *out)
{
    bool any = false;
    if (m->method) {
        run_put(out, "%s", m->method);
        any = true;
    }
    if (m->path) {
        run_put(out, "%s%s", any ? " " : "", m->path);
        any = true;
    }
    if (m->query)
        run_put(out, "%s?%s", any ? "" : "?", m->query), any = true;
    if (!any)
        run_put(out, "any request");
    for (size_t i = 0; i < m->nstatus; i++)
        run_put(out, "%s%d", i == 0 ? " answered " : " or ", m->status[i]);
    for (size_t i = 0; i < m->nheaders; i++)
        run_put(out, " with %s: %s", m->header_names[i], m->header_values[i]);
    if (m->identity)
        run_put(out, " from certificate %s", m->identity);
    if (m->body)
        run_put(out, " with body containing \"%s\"", m->body);
    if (m->has_re)
        run_put(out, " with body matching a pattern");
}

static const char *proc_name(const run_pred *p)
{
    const char *s = json_string_value(json_object_get(p->spec, "process"));
    return s ? s : "?";
}

static void describe(const run_pred *p, buf *out)
{
    char cnt[64];
    switch (p->kind) {
    case RUN_P_ALL:
    case RUN_P_ANY:
        run_put(out, "%s of (", p->kind == RUN_P_ALL ? "all" : "any");
        for (size_t i = 0; i < p->nkids; i++) {
            if (i)
                run_put(out, "; ");
            describe(p->kids[i], out);
        }
        run_put(out, ")");
        break;
    case RUN_P_NOT:
        run_put(out, "not (");
        describe(p->kids[0], out);
        run_put(out, ")");
        break;
    case RUN_P_JOURNAL:
        run_put(out, "%s received %s request%s ", run_fake_names[p->fake],
                run_count_render(&p->count, cnt, sizeof(cnt)), plural(&p->count));
        describe_match(&p->m, out);
        break;
    case RUN_P_JOURNAL_ORDER:
        run_put(out, "%s received ", run_fake_names[p->fake]);
        describe_match(&p->m, out);
        run_put(out, " before any ");
        describe_match(&p->then, out);
        break;
    case RUN_P_APISERVER_OBJECT:
        run_put(out, "apiserver %s %s%s%s %s", p->str[0], p->str[1] ? p->str[1] : "",
                p->str[1] ? "/" : "", p->str[2], p->exists ? "exists" : "does not exist");
        if (p->value) {
            char *s = json_dumps(p->value, JSON_COMPACT | JSON_SORT_KEYS);
            run_put(out, " with %s", s ? s : "fields");
            free(s);
        }
        break;
    case RUN_P_ES_COUNT:
        run_put(out, "es holds %s document%s in %s", run_count_render(&p->count, cnt, sizeof(cnt)),
                plural(&p->count), p->str[0]);
        if (p->query) {
            char *s = json_dumps(p->query, JSON_COMPACT | JSON_SORT_KEYS);
            run_put(out, " matching %s", s ? s : "the query");
            free(s);
        }
        break;
    case RUN_P_ES_FIELD:
        run_put(out, "%s document in %s has %s ", p->exists ? "every" : "some", p->str[0],
                p->str[1]);
        if (p->value) {
            char *s = json_dumps(p->value, JSON_ENCODE_ANY | JSON_COMPACT);
            run_put(out, "= %s", s ? s : "the value");
            free(s);
        } else {
            run_put(out, "matching /%s/", json_string_value(json_object_get(p->spec, "matches")));
        }
        break;
    case RUN_P_ES_DELIVERY:
        run_put(out, "delivery of %s%s%s:", p->str[2] ? "stream \"" : "all streams",
                p->str[2] ? p->str[2] : "", p->str[2] ? "\"" : "");
        for (int k = 0; k < 5; k++)
            if (p->dhas[k])
                run_put(out, " %s %s", delivery_names[k],
                        run_count_render(&p->dcount[k], cnt, sizeof(cnt)));
        break;
    case RUN_P_RBD_LOCK:
        run_put(out, "rbd image %s %s", p->str[0], p->exists ? "has a lock" : "has no lock");
        if (p->str[1])
            run_put(out, " with id \"%s\"", p->str[1]);
        if (p->str[2])
            run_put(out, " held by %s", p->str[2]);
        break;
    case RUN_P_RBD_WATCHER:
        run_put(out, "rbd image %s %s", p->str[0], p->exists ? "has a watcher" : "has no watcher");
        if (p->str[1])
            run_put(out, " at %s", p->str[1]);
        break;
    case RUN_P_RBD_BLOCKLIST:
        run_put(out, "%s is %sblocklisted", p->str[0], p->exists ? "" : "not ");
        break;
    case RUN_P_RBD_AUDIT:
        if (p->ops) {
            run_put(out, "the rbd store carried out, in this order:");
            for (size_t i = 0; i < p->nops; i++) {
                char *m = json_dumps(json_array_get(p->ops, i), JSON_COMPACT);
                run_put(out, "%s %s", i ? "," : "", m ? m : "?");
                free(m);
            }
        } else {
            char *m = json_dumps(json_object_get(p->spec, "match"), JSON_COMPACT);
            run_put(out, "the rbd store carried out %s operation%s matching %s",
                    run_count_render(&p->count, cnt, sizeof(cnt)), plural(&p->count), m ? m : "?");
            free(m);
        }
        break;
    case RUN_P_PROC_STARTED:
        run_put(out, "process %s started", proc_name(p));
        break;
    case RUN_P_PROC_RUNNING:
        run_put(out, "process %s is running", proc_name(p));
        break;
    case RUN_P_PROC_READY:
        run_put(out, "process %s is ready", proc_name(p));
        break;
    case RUN_P_PROC_EXITED:
        run_put(out, "process %s exited", proc_name(p));
        if (p->exit_code >= 0)
            run_put(out, " with code %d", p->exit_code);
        if (p->exit_signal > 0)
            run_put(out, " killed by %s", run_signal_name(p->exit_signal));
        break;
    case RUN_P_PROC_RESTARTS:
        run_put(out, "process %s restarted %s time%s", proc_name(p),
                run_count_render(&p->count, cnt, sizeof(cnt)), plural(&p->count));
        break;
    case RUN_P_PROC_OUTPUT:
        run_put(out, "process %s printed %s line%s matching /%s/ on %s", proc_name(p),
                run_count_render(&p->count, cnt, sizeof(cnt)), plural(&p->count),
                json_string_value(json_object_get(p->spec, "pattern")),
                p->out_streams == 1   ? "stdout"
                : p->out_streams == 2 ? "stderr"
                                      : "stdout or stderr");
        break;
    case RUN_P_FILE:
        run_put(out, "file %s %s", p->path, p->exists ? "exists" : "does not exist");
        if (p->contains)
            run_put(out, " and contains \"%s\"", p->contains);
        if (p->has_re)
            run_put(out, " and matches /%s/",
                    json_string_value(json_object_get(p->spec, "matches")));
        if (p->equals)
            run_put(out, " and equals \"%s\"", p->equals);
        break;
    case RUN_P_STEP:
        run_put(out, "step \"%s\" ran %s time%s",
                json_string_value(json_object_get(p->spec, "step")),
                run_count_render(&p->count, cnt, sizeof(cnt)), plural(&p->count));
        break;
    case RUN_P_TCP:
        if (p->port_tmpl)
            run_put(out, "%s:%s accepts connections", p->host, p->port_tmpl);
        else
            run_put(out, "%s:%d accepts connections", p->host, p->port);
        break;
    case RUN_P_KIND_N:
        break;
    }
}

void run_pred_describe(const run_pred *p, buf *out)
{
    describe(p, out);
}

/* ---- evaluation ---- */

static bool status_ok(const run_http_match *m, int st)
{
    if (!m->nstatus)
        return true;
    for (size_t i = 0; i < m->nstatus; i++)
        if (m->status[i] == st)
            return true;
    return false;
}

bool run_http_match_entry(const run_http_match *m, const journal_entry *e)
{
    if (m->method && strcmp(m->method, e->method ? e->method : "") != 0)
        return false;
    if (m->path && !fault_glob(m->path, e->path ? e->path : ""))
        return false;
    if (m->query && !fault_glob(m->query, e->query ? e->query : ""))
        return false;
    if (!status_ok(m, e->status))
        return false;
    for (size_t i = 0; i < m->nheaders; i++) {
        const char *v = journal_entry_header(e, m->header_names[i]);
        if (!v || !fault_glob(m->header_values[i], v))
            return false;
    }
    if (m->identity && !fault_glob(m->identity, e->identity ? e->identity : ""))
        return false;
    if (m->body &&
        !memmem(e->req_body ? e->req_body : "", e->req_body_len, m->body, strlen(m->body)))
        return false;
    if (m->has_re && regexec(&m->body_re, e->req_body ? e->req_body : "", 0, NULL, 0) != 0)
        return false;
    return true;
}

/* Read the journal entries that arrived since the last call. */
static int journal_scan(run_pred *p, run_world *w, buf *obs)
{
    journal *j = w->journals[p->fake];
    if (!j) {
        run_put(obs, "the %s fake is not running", run_fake_names[p->fake]);
        return -ENODEV;
    }
    for (;;) {
        journal_entry **v = NULL;
        size_t n = 0;
        if (journal_list(j, p->seen_seq, 1024, &v, &n)) {
            run_put(obs, "out of memory reading the %s journal", run_fake_names[p->fake]);
            return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
            const journal_entry *e = v[i];
            if (p->kind == RUN_P_JOURNAL) {
                if (run_http_match_entry(&p->m, e))
                    p->matches++;
            } else {
                if (!p->first_a && run_http_match_entry(&p->m, e))
                    p->first_a = e->seq;
                if (!p->first_b && run_http_match_entry(&p->then, e))
                    p->first_b = e->seq;
            }
            p->seen_seq = e->seq;
        }
        journal_entries_free(v, n);
        if (n < 1024)
            break;
    }
    return 0;
}

/* Count new output lines matching the pattern, in both files as asked. */
static int output_scan(run_pred *p, run_world *w)
{
    const run_proc_rt *pr = &w->procs[p->proc];
    for (int s = 0; s < 2; s++) {
        if (!(p->out_streams & (1 << s)))
            continue;
        const char *path = s == 0 ? pr->out_path : pr->err_path;
        if (!path)
            continue;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue; /* not started yet */
        char chunk[16384];
        for (;;) {
            ssize_t r = pread(fd, chunk, sizeof(chunk), p->out_off[s]);
            if (r <= 0)
                break;
            p->out_off[s] += r;
            for (ssize_t i = 0; i < r; i++) {
                buf *lb = &p->partial[s];
                if (chunk[i] != '\n' && buf_append(lb, &chunk[i], 1) == 0)
                    continue;
                /* a whole line, or one too long to keep: match what we have */
                if (regexec(&p->re, lb->data ? lb->data : "", 0, NULL, 0) == 0)
                    p->matches++;
                buf_reset(lb);
                if (chunk[i] != '\n' && buf_append(lb, &chunk[i], 1)) {
                    /* cannot fail right after a reset */
                }
            }
        }
        close(fd);
    }
    return 0;
}

static char *read_rel(run_world *w, const char *rel, size_t *len)
{
    char *path = fs_join(w->workdir, rel);
    char *data = NULL;
    if (path && fs_read_file(path, (size_t)64 << 20, &data, len, NULL))
        data = NULL;
    free(path);
    return data;
}

static int eval_file(run_pred *p, run_world *w, buf *obs)
{
    size_t len = 0;
    char *data = read_rel(w, p->path, &len);
    if (!data) {
        run_put(obs, "%s does not exist", p->path);
        return !p->exists;
    }
    if (!p->exists) {
        run_put(obs, "%s exists (%zu bytes)", p->path, len);
        free(data);
        return 0;
    }
    int ok = 1;
    if (p->contains && !memmem(data, len, p->contains, strlen(p->contains)))
        ok = 0;
    if (ok && p->has_re && regexec(&p->re, data, 0, NULL, 0) != 0)
        ok = 0;
    if (ok && p->equals && (strlen(p->equals) != len || memcmp(data, p->equals, len) != 0))
        ok = 0;
    if (len <= 200)
        run_put(obs, "%s holds \"%.*s\"", p->path, (int)len, data);
    else
        run_put(obs, "%s holds %zu bytes starting \"%.120s...\"", p->path, len, data);
    free(data);
    return ok;
}

static int eval_tcp(run_pred *p, run_world *w, buf *obs)
{
    if (p->port_tmpl) {
        char *ps = NULL;
        efk_err e;
        efk_err_init(&e);
        if (!w->vars || run_tmpl_expand_str(w->vars, p->port_tmpl, &ps, &e)) {
            run_put(obs, "port %s: %s", p->port_tmpl, e.msg);
            return 0;
        }
        char *end;
        long v = strtol(ps, &end, 10);
        if (!*ps || *end || v < 1 || v > 65535) {
            run_put(obs, "port %s is \"%s\", not a port number", p->port_tmpl, ps);
            free(ps);
            return 0;
        }
        free(ps);
        p->port = (int)v;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        run_put(obs, "socket: %s", strerror(errno));
        return 0;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p->port)};
    inet_pton(AF_INET, p->host, &a.sin_addr);
    int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    run_put(obs, ok ? "%s:%d accepted a connection" : "%s:%d refused: %s", p->host, p->port,
            strerror(errno));
    close(fd);
    return ok;
}

int run_pred_eval(run_pred *p, run_world *w, buf *obs)
{
    int rc;
    char d[200];
    switch (p->kind) {
    case RUN_P_ALL:
    case RUN_P_ANY: {
        int result = p->kind == RUN_P_ALL;
        for (size_t i = 0; i < p->nkids; i++) {
            /* every child is evaluated (they keep incremental state) */
            int r = run_pred_eval(p->kids[i], w, NULL);
            if (r < 0)
                return r;
            if (p->kind == RUN_P_ALL && !r && result) {
                result = 0;
                run_put(obs, "not yet: ");
                describe(p->kids[i], obs);
                buf tmp;
                buf_init(&tmp, 4096);
                run_pred_eval(p->kids[i], w, &tmp);
                run_put(obs, " (%s)", tmp.data ? tmp.data : "");
                buf_cleanup(&tmp);
            }
            if (p->kind == RUN_P_ANY && r)
                result = 1;
        }
        if (p->kind == RUN_P_ANY && !result)
            run_put(obs, "none of the %zu conditions holds", p->nkids);
        if (p->kind == RUN_P_ALL && result)
            run_put(obs, "all %zu conditions hold", p->nkids);
        return result;
    }
    case RUN_P_NOT: {
        int r = run_pred_eval(p->kids[0], w, obs);
        return r < 0 ? r : !r;
    }
    case RUN_P_JOURNAL:
        if ((rc = journal_scan(p, w, obs)))
            return rc;
        run_put(obs, "%lld matching request%s", (long long)p->matches, p->matches == 1 ? "" : "s");
        return run_count_ok(&p->count, p->matches);
    case RUN_P_JOURNAL_ORDER:
        if ((rc = journal_scan(p, w, obs)))
            return rc;
        if (!p->first_a && !p->first_b)
            run_put(obs, "neither was seen");
        else if (!p->first_a)
            run_put(obs, "only the second was seen (entry %llu)", (unsigned long long)p->first_b);
        else if (!p->first_b)
            run_put(obs, "only the first was seen (entry %llu)", (unsigned long long)p->first_a);
        else
            run_put(obs, "first seen at entry %llu, second at entry %llu",
                    (unsigned long long)p->first_a, (unsigned long long)p->first_b);
        return p->first_a && p->first_b && p->first_a < p->first_b;
    case RUN_P_APISERVER_OBJECT:
    case RUN_P_ES_COUNT:
    case RUN_P_ES_FIELD:
    case RUN_P_ES_DELIVERY:
    case RUN_P_RBD_LOCK:
    case RUN_P_RBD_WATCHER:
    case RUN_P_RBD_BLOCKLIST:
    case RUN_P_RBD_AUDIT:
        return run_fakes_eval(p, w, obs);
    case RUN_P_PROC_STARTED: {
        const run_proc *pr = &w->procs[p->proc].proc;
        run_put(obs, "%s", run_proc_describe(pr, run_world_now(w), d, sizeof(d)));
        return pr->starts > 0;
    }
    case RUN_P_PROC_RUNNING: {
        const run_proc *pr = &w->procs[p->proc].proc;
        run_put(obs, "%s", run_proc_describe(pr, run_world_now(w), d, sizeof(d)));
        return pr->state == RUN_PROC_RUNNING;
    }
    case RUN_P_PROC_READY: {
        const run_proc_rt *pr = &w->procs[p->proc];
        run_put(obs, "%s, %s", pr->ready ? "ready" : "not ready",
                run_proc_describe(&pr->proc, run_world_now(w), d, sizeof(d)));
        return pr->ready && pr->proc.state == RUN_PROC_RUNNING;
    }
    case RUN_P_PROC_EXITED: {
        const run_proc *pr = &w->procs[p->proc].proc;
        run_put(obs, "%s", run_proc_describe(pr, run_world_now(w), d, sizeof(d)));
        /* it must be down now, with the last exit as asked */
        if (!pr->exited_once || pr->state == RUN_PROC_RUNNING || pr->state == RUN_PROC_STOPPING)
            return 0;
        if (p->exit_code >= 0 && (pr->exit_signal || pr->exit_code != p->exit_code))
            return 0;
        if (p->exit_signal > 0 && pr->exit_signal != p->exit_signal)
            return 0;
        return 1;
    }
    case RUN_P_PROC_RESTARTS: {
        const run_proc *pr = &w->procs[p->proc].proc;
        run_put(obs, "%llu restart%s; %s", (unsigned long long)pr->restarts,
                pr->restarts == 1 ? "" : "s",
                run_proc_describe(pr, run_world_now(w), d, sizeof(d)));
        return run_count_ok(&p->count, (int64_t)pr->restarts);
    }
    case RUN_P_PROC_OUTPUT: {
        output_scan(p, w);
        /* a last line without its newline yet counts too, without being
         * consumed (it is counted once complete) */
        int64_t n = p->matches;
        for (int s = 0; s < 2; s++)
            if (p->partial[s].len && regexec(&p->re, p->partial[s].data, 0, NULL, 0) == 0)
                n++;
        run_put(obs, "%lld matching line%s", (long long)n, n == 1 ? "" : "s");
        return run_count_ok(&p->count, n);
    }
    case RUN_P_FILE:
        return eval_file(p, w, obs);
    case RUN_P_STEP: {
        const run_step_rt *s = &w->steps[p->step];
        run_put(obs, "it ran %llu time%s", (unsigned long long)s->runs, s->runs == 1 ? "" : "s");
        return run_count_ok(&p->count, (int64_t)s->runs);
    }
    case RUN_P_TCP:
        return eval_tcp(p, w, obs);
    case RUN_P_KIND_N:
        break;
    }
    return -EINVAL;
}

/* ---- failure context ---- */

static void journal_tail(run_world *w, run_fake_id f, const run_http_match *m, buf *out)
{
    journal *j = w->journals[f];
    if (!j)
        return;
    uint64_t added, dropped, last;
    journal_stats(j, &added, &dropped, &last);
    uint64_t since = last > 200 ? last - 200 : 0;
    journal_entry **v = NULL;
    size_t n = 0;
    if (journal_list(j, since, 0, &v, &n))
        return;
    /* prefer entries on the same path; else the last ones */
    size_t idx[CONTEXT_ENTRIES];
    size_t k = 0;
    for (size_t i = n; i-- > 0 && k < CONTEXT_ENTRIES;)
        if (!m || !m->path || fault_glob(m->path, v[i]->path))
            idx[k++] = i;
    if (k == 0)
        for (size_t i = n; i-- > 0 && k < CONTEXT_ENTRIES;)
            idx[k++] = i;
    run_put(out, "\n    last %zu of %llu %s journal entries%s:", k, (unsigned long long)added,
            run_fake_names[f],
            m && m->path && k && fault_glob(m->path, v[idx[0]]->path) ? " on that path" : "");
    if (k == 0)
        run_put(out, " (none)");
    for (size_t i = k; i-- > 0;) {
        const journal_entry *e = v[idx[i]];
        run_put(out, "\n      #%llu %s %s%s%s -> %d", (unsigned long long)e->seq, e->method,
                e->path, e->query && *e->query ? "?" : "", e->query ? e->query : "", e->status);
        if (e->fault && *e->fault)
            run_put(out, " (fault %s)", e->fault);
        if (e->req_body_len) {
            /* one line per entry: control characters shown escaped */
            char shown[420];
            size_t sn = 0;
            for (size_t b = 0; b < e->req_body_len && b < 100 && sn + 5 < sizeof(shown); b++) {
                unsigned char ch = (unsigned char)e->req_body[b];
                if (ch == '\n')
                    sn += (size_t)snprintf(shown + sn, sizeof(shown) - sn, "\\n");
                else if (ch < 0x20)
                    sn += (size_t)snprintf(shown + sn, sizeof(shown) - sn, "\\x%02x", ch);
                else
                    shown[sn++] = (char)ch;
            }
            shown[sn] = '\0';
            run_put(out, " body %s%s", shown, e->req_body_len > 100 ? "..." : "");
        }
    }
    journal_entries_free(v, n);
}

static void file_tail(const char *path, const char *label, buf *out)
{
    if (!path)
        return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) == 0) {
        off_t from = st.st_size > CONTEXT_TAIL ? st.st_size - CONTEXT_TAIL : 0;
        char tail[CONTEXT_TAIL + 1];
        ssize_t r = pread(fd, tail, CONTEXT_TAIL, from);
        if (r > 0) {
            tail[r] = '\0';
            /* the last 10 lines */
            int lines = 0;
            char *s = tail + r;
            while (s > tail && lines <= 10)
                if (*--s == '\n')
                    lines++;
            if (*s == '\n')
                s++;
            run_put(out, "\n    last lines of %s:", label);
            for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n"))
                run_put(out, "\n      | %s", line);
        } else {
            run_put(out, "\n    %s is empty", label);
        }
    }
    close(fd);
}

void run_pred_context(const run_pred *p, run_world *w, buf *out)
{
    char label[300];
    switch (p->kind) {
    case RUN_P_ALL:
    case RUN_P_ANY:
    case RUN_P_NOT:
        for (size_t i = 0; i < p->nkids; i++)
            run_pred_context(p->kids[i], w, out);
        break;
    case RUN_P_JOURNAL:
    case RUN_P_JOURNAL_ORDER:
        journal_tail(w, p->fake, &p->m, out);
        break;
    case RUN_P_APISERVER_OBJECT:
        journal_tail(w, RUN_FAKE_APISERVER, NULL, out);
        break;
    case RUN_P_ES_COUNT:
    case RUN_P_ES_FIELD:
        journal_tail(w, RUN_FAKE_ES, NULL, out);
        break;
    case RUN_P_ES_DELIVERY:
        journal_tail(w, RUN_FAKE_ES, NULL, out);
        run_fakes_context(p, w, out);
        break;
    case RUN_P_RBD_LOCK:
    case RUN_P_RBD_WATCHER:
    case RUN_P_RBD_BLOCKLIST:
    case RUN_P_RBD_AUDIT:
        run_fakes_context(p, w, out);
        break;
    case RUN_P_PROC_STARTED:
    case RUN_P_PROC_RUNNING:
    case RUN_P_PROC_READY:
    case RUN_P_PROC_EXITED:
    case RUN_P_PROC_RESTARTS:
    case RUN_P_PROC_OUTPUT: {
        const run_proc_rt *pr = &w->procs[p->proc];
        snprintf(label, sizeof(label), "%s stdout", pr->proc.name);
        file_tail(pr->out_path, label, out);
        snprintf(label, sizeof(label), "%s stderr", pr->proc.name);
        file_tail(pr->err_path, label, out);
        break;
    }
    case RUN_P_FILE:
    case RUN_P_STEP:
    case RUN_P_TCP:
    case RUN_P_KIND_N:
        break;
    }
}
