/*
 * run_action.h - what a timeline step does.
 *
 * An action is a JSON object with one key naming it, whose value holds its
 * parameters:  {"es.down": {}}, {"process.kill": {"process": "agent"}},
 * {"apiserver.reject": {"identity": "system:serviceaccount:kube-system:default"}}
 * and {"wait": "2s"}. Actions on the fakes map one to one to each fake's
 * typed C API (run_fakes.c); the others act on processes and log files.
 * Parsing checks everything that can be checked before anything runs.
 */
#ifndef RUN_ACTION_H
#define RUN_ACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "run_check.h"
#include "run_loggen.h"
#include "run_pred.h"

typedef enum run_action_kind {
    RUN_A_WAIT = 0,
    RUN_A_APISERVER_CREATE,
    RUN_A_APISERVER_UPDATE,
    RUN_A_APISERVER_PATCH,
    RUN_A_APISERVER_DELETE,
    RUN_A_APISERVER_REJECT,
    RUN_A_APISERVER_ACCEPT,
    RUN_A_APISERVER_ROTATE_TOKEN,
    RUN_A_APISERVER_FAULT_ADD,
    RUN_A_APISERVER_FAULT_REMOVE,
    RUN_A_ES_DOWN,
    RUN_A_ES_UP,
    RUN_A_ES_FAULT_ADD,
    RUN_A_ES_FAULT_REMOVE,
    RUN_A_RBD_LOCK_ADD,
    RUN_A_RBD_LOCK_REMOVE,
    RUN_A_RBD_WATCHER_ADD,
    RUN_A_RBD_WATCHER_REMOVE,
    RUN_A_RBD_CLIENT_DEAD,
    RUN_A_RBD_CLIENT_ALIVE,
    RUN_A_RBD_NODE_DEAD,
    RUN_A_RBD_NODE_ALIVE,
    RUN_A_RBD_BLOCKLIST_ADD,
    RUN_A_RBD_BLOCKLIST_REMOVE,
    RUN_A_RBD_FAULT_ADD,
    RUN_A_RBD_FAULT_REMOVE,
    RUN_A_PROCESS_START,
    RUN_A_PROCESS_STOP,
    RUN_A_PROCESS_KILL,
    RUN_A_PROCESS_RESTART,
    RUN_A_LOGS_WRITE,
    RUN_A_LOGS_ROTATE,
    RUN_A_LOGS_TRUNCATE,
    RUN_A_KIND_N,
} run_action_kind;

extern const char *const run_action_kind_names[RUN_A_KIND_N + 1];

typedef struct run_action {
    run_action_kind kind;
    char ptr[RUN_PTR_MAX];
    const json_t *spec;     /* its parameters (borrowed from the doc) */
    int64_t wait_ns;        /* wait */
    int proc;               /* process.* */
    int sig;                /* process.kill */
    int log;                /* logs.* */
    uint64_t lines;         /* logs.write */
    run_rotate_mode rotate; /* logs.rotate (NONE: the log's own) */
    json_t *objects;        /* apiserver.create/update: array of objects (owned) */
    const char *str[6];     /* kind-specific names (see run_action.c) */
    bool flag;              /* rbd blocklist "range" */
    int64_t ns;             /* rbd: "expire" (-1: the default), "client" numbers */
} run_action;

/* Parse an action at `ptr`. `base_dir` resolves files. 0 or -EINVAL. */
int run_action_parse(run_ck *c, const char *ptr, const json_t *v, const run_names *names,
                     const char *base_dir, run_action *out) __attribute__((warn_unused_result));
void run_action_cleanup(run_action *a);

/* "es.down", "process.kill agent" ... into out. */
const char *run_action_describe(const run_action *a, char *out, size_t outsz);

#endif
