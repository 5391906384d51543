/*
 * rbd_svc.h - the operations of the fake cluster as requests and replies:
 * what the HTTP API carries (POST /rbd/v1/op/<op>, docs/fakes/rbd.md "API")
 * and what the tools' in-process transport calls directly in unit tests.
 *
 * Two kinds of caller use the same ops:
 *  - a tool invocation ("invoke", "connect", then ops carrying "client"):
 *    OSD ops check that the client is not blocklisted (-108 otherwise), mon
 *    ops ("blocklist_*") check the cephx caps of the named user (-EACCES);
 *  - the runner, tests and scripts (no "client"/"invocation"): seeding and
 *    acting without those checks.
 * Every op that changes something is appended to the store's audit log with
 * who did it (invocation, argv, client) and the result, in order.
 *
 * Faults: a domain fault matched by the server's fault chain for a request
 * is handed in; "rbd_errno" makes any op return -errno without acting; the
 * command-level actions (rbd_fail, rbd_hang, rbd_partial,
 * rbd_mon_unreachable, rbd_auth_error) on "invoke" are passed to the tool in
 * the reply, which carries them out.
 */
#ifndef EFK_RBD_SVC_H
#define EFK_RBD_SVC_H

#include <stdbool.h>
#include <jansson.h>

#include "core/err.h"
#include "core/fault.h"
#include "rbd_store.h"

typedef struct rbd_svc rbd_svc;

/* `store` is borrowed. `cephx`: tools must present key material. NULL on ENOMEM. */
rbd_svc *rbd_svc_new(rbd_store *store, bool cephx, uint64_t seed);
/* Tell the tools their node has no ceph.conf: from Luminous on they print
 * "did not load config file, using default settings." on stderr first. */
void rbd_svc_set_conf_missing(rbd_svc *svc, bool missing);
void rbd_svc_free(rbd_svc *svc);
rbd_store *rbd_svc_store(rbd_svc *svc);

/* Handle one op. `req` is borrowed (an object); `fault_action`/`fault_params`
 * the domain fault matched for the request (NULL: none). Returns the reply
 * (new reference, always an object with "r", or {"error"} for a bad
 * request) and sets *status to 200, 400 (malformed) or 404 (no such op). */
json_t *rbd_svc_call(rbd_svc *svc, const char *op, const json_t *req, const char *fault_action,
                     const json_t *fault_params, int *status);

/* Register the rbd domain fault actions (with their parameter checks) on a
 * fault chain. 0 or the fault_domain_add error. */
int rbd_svc_register_faults(fault_chain *chain) __attribute__((warn_unused_result));

#endif
