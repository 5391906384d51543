/*
 * rbd_test_util.h - an in-process fake cluster for the rbd unit tests: a
 * store on a test clock, its service, and a transport that calls the service
 * directly (evaluating the fault chain like the HTTP layer does), so the
 * `rbd` and `ceph` tools run end to end without sockets.
 */
#ifndef RBD_TEST_UTIL_H
#define RBD_TEST_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/fault.h"
#include "rbd/rbd_store.h"
#include "rbd/rbd_svc.h"
#include "rbd/rbd_tool.h"

/* 2017-03-02 08:26:46.500123 UTC, the day of the field report. */
#define RBDT_WALL0 INT64_C(1488443206500123000)

typedef struct rbdt {
    efk_clock *clock;
    rbd_store *store;
    rbd_svc *svc;
    fault_chain *faults;
    int64_t slept_ms;
    int calls;
    bool offline;
    char node[64];
    uint32_t nonce;
    rbd_tool_result res;
} rbdt;

static json_t *rbdt_call(void *ctx, const char *op, const json_t *body)
{
    rbdt *t = ctx;
    if (t->offline)
        return NULL;
    t->calls++;
    char path[128];
    snprintf(path, sizeof(path), "/rbd/v1/op/%s", op);
    char *text = json_dumps(body, JSON_COMPACT);
    fault_req fr = {"POST", path, "", text, text ? strlen(text) : 0, NULL, NULL};
    fault_hit hit;
    fault_eval(t->faults, &fr, &hit);
    free(text);
    const char *fa = NULL;
    const json_t *fp = NULL;
    if (hit.rule && hit.rule->action == FAULT_DOMAIN) {
        fa = hit.rule->domain;
        fp = hit.rule->params;
    }
    int status = 0;
    json_t *rep = rbd_svc_call(t->svc, op, body, fa, fp, &status);
    fault_hit_cleanup(&hit);
    return rep;
}

static void rbdt_sleep(void *ctx, int64_t ms)
{
    ((rbdt *)ctx)->slept_ms += ms;
}

static inline void rbdt_init_auth(rbdt *t, const char *release, bool cephx)
{
    memset(t, 0, sizeof(*t));
    t->clock = clock_test_new(INT64_C(1000000000), RBDT_WALL0);
    rbd_store_config cfg = {.release = rbd_release_find(release), .clock = t->clock, .seed = 42};
    t->store = rbd_store_new(&cfg);
    t->svc = rbd_svc_new(t->store, cephx, 42);
    t->faults = fault_chain_new(t->clock, 42, "rbd");
    if (rbd_svc_register_faults(t->faults) != 0)
        abort();
    snprintf(t->node, sizeof(t->node), "127.0.0.1");
    rbd_tool_result_init(&t->res);
}

static inline void rbdt_init(rbdt *t, const char *release)
{
    rbdt_init_auth(t, release, false);
}

static inline void rbdt_cleanup(rbdt *t)
{
    rbd_tool_result_cleanup(&t->res);
    fault_chain_free(t->faults);
    rbd_svc_free(t->svc);
    rbd_store_free(t->store);
    clock_test_free(t->clock);
}

/* Run a tool with a NULL-terminated argument list; the result is in t->res
 * (reset before every run). */
static inline int rbdt_run(rbdt *t, const char *tool, ...)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)tool;
    va_list ap;
    va_start(ap, tool);
    for (char *a; (a = va_arg(ap, char *)) && argc < 63;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    rbd_tool_result_cleanup(&t->res);
    rbd_tool_result_init(&t->res);
    rbd_transport tr = {rbdt_call, rbdt_sleep, t};
    rbd_tool_env env = {.node_ip = t->node,
                        .nonce = t->nonce,
                        .release = NULL,
                        .mount_timeout_ms = 0,
                        .pid = 4242,
                        .wall_ns = clock_wall_ns(t->clock)};
    if (strcmp(tool, "ceph") == 0)
        ceph_tool_run(argc, argv, &env, &tr, &t->res);
    else
        rbd_tool_run(argc, argv, &env, &tr, &t->res);
    return t->res.exit_code;
}

static inline const char *rbdt_out(const rbdt *t)
{
    return t->res.out.data ? t->res.out.data : "";
}

static inline const char *rbdt_err(const rbdt *t)
{
    return t->res.err.data ? t->res.err.data : "";
}

/* An admin op on the service; returns "r" (or -1000 - HTTP status). */
static inline int rbdt_op(rbdt *t, const char *op, json_t *body)
{
    int status = 0;
    json_t *rep = rbd_svc_call(t->svc, op, body, NULL, NULL, &status);
    json_decref(body);
    int r = status == 200 ? (int)json_integer_value(json_object_get(rep, "r")) : -1000 - status;
    json_decref(rep);
    return r;
}

#endif
