/*
 * rbd_tool.h - the `rbd` and `ceph` programs, minus their main(): argv in,
 * stdout/stderr bytes and an exit status out, with the fake cluster reached
 * through a transport (HTTP in the real executables, a direct call into the
 * service in unit tests).
 *
 * One invocation talks to the store in the order the real tool talks to the
 * cluster: "invoke" (registers the invocation in the audit log and tells the
 * release and any fault scripted for this command line), then - only when
 * the command line parsed - "connect" (a new client.N at <node>:0/<nonce>),
 * then one request per librados/mon operation (open, lock_add, blocklist_add,
 * lock_break, ...), and "exit" with what was printed. Each request is one
 * atomic store operation, so a multi-step command has the same race windows
 * as librbd's (list, then blocklist, then break).
 *
 * Scripted faults (docs/fakes/rbd.md, "Faults") arrive with the "invoke"
 * reply and are carried out here: fail with an errno and message, hang,
 * print partial output, behave as if the monitor were unreachable or the key
 * were wrong. A store that cannot be reached at all is an unreachable monitor.
 */
#ifndef EFK_RBD_TOOL_H
#define EFK_RBD_TOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "core/buf.h"

typedef struct rbd_transport {
    /* One request: the op name and its body (borrowed). Returns the reply
     * (new reference) or NULL when the store cannot be reached. */
    json_t *(*call)(void *ctx, const char *op, const json_t *body);
    /* Wait `ms` milliseconds (a tool waiting for a monitor). */
    void (*sleep_ms)(void *ctx, int64_t ms);
    void *ctx;
} rbd_transport;

typedef struct rbd_tool_env {
    const char *node_ip;      /* EFKSIM_NODE_IP; NULL: "127.0.0.1" */
    uint32_t nonce;           /* EFKSIM_RBD_NONCE; 0: the store draws one */
    const char *release;      /* EFKSIM_RBD_RELEASE, when the store is unreachable */
    int64_t mount_timeout_ms; /* client_mount_timeout default; <= 0: 300 s */
    int pid;
    int64_t wall_ns; /* the time, for log lines when offline */
} rbd_tool_env;

typedef struct rbd_tool_result {
    buf out, err;
    int exit_code;
    bool hang; /* after printing, block until killed */
} rbd_tool_result;

void rbd_tool_result_init(rbd_tool_result *r);
void rbd_tool_result_cleanup(rbd_tool_result *r);

/* Run `rbd` with argv (argv[0] is the program name). Never fails: every
 * problem is something the tool prints. */
void rbd_tool_run(int argc, char **argv, const rbd_tool_env *env, const rbd_transport *t,
                  rbd_tool_result *res);
/* Run `ceph` (only `osd blocklist|blacklist ...` is modelled; everything
 * else is "invalid command" as a monitor without the command answers). */
void ceph_tool_run(int argc, char **argv, const rbd_tool_env *env, const rbd_transport *t,
                   rbd_tool_result *res);

#endif
