/*
 * rbd_api.h - public C API of the fake Ceph RBD lock store
 * (included by fakes/efksim.h; include that instead).
 *
 * The fake is a small Ceph cluster as `rbd` and `ceph` see it: pools, RADOS
 * namespaces, images, one cls_lock record per image, watchers, clients, the
 * OSD blocklist and kernel mappings, served over HTTP on 127.0.0.1 for the
 * drop-in `rbd`/`ceph` tools (EFKSIM_BIN), the runner and tests. Every
 * change is recorded in an audit log (tool invocation, argv, client, op,
 * result, in order). docs/fakes/rbd.md describes the scenario section
 * "fakes.rbd", the HTTP API, the personas and the faults.
 *
 * Images are named by spec strings "pool/image" or "pool/namespace/image".
 * Operations return 0 or a negative errno as Ceph would (-EBUSY, -EEXIST,
 * -ENOENT, -EINVAL, -EACCES, -108 for a blocklisted client), or -EINVAL with
 * err filled for malformed arguments.
 */
#ifndef EFK_RBD_API_H
#define EFK_RBD_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core/err.h"
#include "core/fault.h"
#include "core/journal.h"
#include "core/runtime.h"

typedef struct efk_rbd efk_rbd;

typedef struct efk_rbd_config {
    char *release;               /* persona: "jewel" .. "reef" (NULL: "reef") */
    int64_t watch_timeout_ns;    /* watchers outlive a dead client this long (30 s) */
    int64_t blocklist_expire_ns; /* default blocklist expiry (3600 s) */
    uint64_t next_client_id;     /* the first client.N given out (4120) */
    bool cephx;                  /* tools must present a key (default: auth none) */
    bool conf_missing;           /* the tools' node has no ceph.conf (log noise) */
    json_t *seed;                /* the validated seed state (pools, images, users,
                                    clients, locks, watchers, mappings, blocklist) */
    json_t *faults;              /* initial fault rules (array), or NULL */
} efk_rbd_config;

/* Defaults (owned pointers NULL). */
void efk_rbd_config_init(efk_rbd_config *cfg);

/* Parse the scenario's "fakes.rbd" object (borrowed). Unknown keys are
 * errors listing the allowed ones; err->pointer is relative to the section
 * ("/pools/0/images/1/size"). 0 or -EINVAL / -ENOMEM. */
int efk_rbd_config_parse(efk_rbd_config *cfg, const json_t *section, const char *base_dir,
                         efk_err *err) __attribute__((warn_unused_result));
void efk_rbd_config_cleanup(efk_rbd_config *cfg);

/* Start on 127.0.0.1, an ephemeral port, and apply the seed. `cfg` is
 * copied; `rt` is borrowed for the fake's life (its clock drives watcher and
 * blocklist expiry). 0 or a negative code with err. */
int efk_rbd_start(const efk_rbd_config *cfg, const efk_runtime *rt, efk_rbd **out, efk_err *err)
    __attribute__((warn_unused_result));
/* Stop (open connections are closed) and free. NULL-safe. */
void efk_rbd_stop(efk_rbd *rbd);

const char *efk_rbd_url(const efk_rbd *rbd); /* borrowed: "http://127.0.0.1:PORT" */
const char *efk_rbd_mon(const efk_rbd *rbd); /* borrowed: "127.0.0.1:PORT" (EFKSIM_RBD_MON) */
journal *efk_rbd_journal(efk_rbd *rbd);      /* borrowed: the HTTP exchanges */
fault_chain *efk_rbd_faults(efk_rbd *rbd);   /* borrowed */
/* Register the store's own fault actions (rbd_fail, rbd_errno, rbd_hang,
 * rbd_partial, rbd_mon_unreachable, rbd_auth_error, with their parameter
 * checks) on a chain, so rules can be checked before any fake runs. 0 or
 * fault_domain_add's error. */
int efk_rbd_fault_actions(fault_chain *c) __attribute__((warn_unused_result));
/* Everything (pools, images with locks and watchers, clients, blocklist,
 * mappings) as a dump for artifacts. New reference. */
json_t *efk_rbd_state_render(efk_rbd *rbd);
/* The persona's name ("jewel"). Borrowed. */
const char *efk_rbd_release(const efk_rbd *rbd);

/* Any operation of the HTTP API (`POST /rbd/v1/op/<op>`), in process.
 * `req` is borrowed. Returns the reply (new reference; {"r": ...} or
 * {"error": ...}) and sets *status (200, 400, 404). */
json_t *efk_rbd_op(efk_rbd *rbd, const char *op, const json_t *req, int *status);

/* ---- timeline actions -------------------------------------------------- */

/* A lock to take. The locker is either an existing client (`client` > 0),
 * a new librbd-style client on `node`, or the literal `locker` ("client.N")
 * and `address` ("IP:0/nonce") of a client that may be long gone. */
typedef struct efk_rbd_lock {
    const char *image;  /* "pool/image" */
    const char *cookie; /* the lock id ("kubelet_lock_magic_node1") */
    const char *tag;    /* shared lock tag; NULL or "": exclusive */
    uint64_t client;
    const char *node;
    const char *locker;
    const char *address;
} efk_rbd_lock;

/* Take a lock with cls_lock's rules. 0, -EBUSY, -EEXIST, -ENOENT, or -EINVAL
 * with err (malformed). */
int efk_rbd_lock_add(efk_rbd *rbd, const efk_rbd_lock *lock, efk_err *err)
    __attribute__((warn_unused_result));
/* Break exactly (locker, cookie). 0, -ENOENT, -EINVAL with err. */
int efk_rbd_lock_remove(efk_rbd *rbd, const char *image, const char *cookie, const char *locker,
                        efk_err *err) __attribute__((warn_unused_result));

/* A new client on a node: kind "librbd" (default), "krbd" or "seed";
 * nonce 0: drawn from the seed. Fills *id. */
int efk_rbd_client_add(efk_rbd *rbd, const char *node, const char *kind, uint32_t nonce,
                       uint64_t *id, efk_err *err) __attribute__((warn_unused_result));
/* A client (or every client of a node) dies: its watchers expire after the
 * watch timeout. Alive again lifts the mark. 0 or -ENOENT. */
int efk_rbd_client_dead(efk_rbd *rbd, uint64_t id);
int efk_rbd_client_alive(efk_rbd *rbd, uint64_t id);
int efk_rbd_node_dead(efk_rbd *rbd, const char *node_ip);
int efk_rbd_node_alive(efk_rbd *rbd, const char *node_ip);

/* Watch an image as client `client` (0: a new librbd client on `node`, an
 * IP, or at `node` given as a full address "IP:0/nonce") with `cookie` (0:
 * the client's next small cookie). Fills *client_out. */
int efk_rbd_watcher_add(efk_rbd *rbd, const char *image, uint64_t client, const char *node,
                        uint64_t cookie, uint64_t *client_out, efk_err *err)
    __attribute__((warn_unused_result));
int efk_rbd_watcher_remove(efk_rbd *rbd, const char *image, uint64_t client, uint64_t cookie,
                           efk_err *err) __attribute__((warn_unused_result));

/* Blocklist an address ("10.0.0.1", "10.0.0.1:0/123") or, with `range`, a
 * CIDR ("10.0.0.0/24"). expire_ns < 0: the default. */
int efk_rbd_blocklist_add(efk_rbd *rbd, const char *addr, bool range, int64_t expire_ns,
                          efk_err *err) __attribute__((warn_unused_result));
int efk_rbd_blocklist_remove(efk_rbd *rbd, const char *addr, bool range, efk_err *err)
    __attribute__((warn_unused_result));
void efk_rbd_blocklist_clear(efk_rbd *rbd);

/* May cephx user `name` ("client.k8s", "*" for all) change the blocklist?
 * Without the caps `rbd lock rm` fails with EACCES and the lock stays. */
int efk_rbd_caps_set(efk_rbd *rbd, const char *name, bool blocklist_allowed)
    __attribute__((warn_unused_result));

/* ---- expectation queries ----------------------------------------------- */

/* The image's lock record {"type", "tag", "lockers": [{"locker", "cookie",
 * "address", ...}]} (new reference) or NULL with *r = -ENOENT. */
json_t *efk_rbd_locks(efk_rbd *rbd, const char *image, int *r);
/* The image's watchers [{"address", "client", "cookie"}] or NULL. */
json_t *efk_rbd_watchers(efk_rbd *rbd, const char *image, int *r);
/* The blocklist [{"addr"|"range", "until"}] (new reference). */
json_t *efk_rbd_blocklist(efk_rbd *rbd);
/* Would a client at `addr` ("IP:port/nonce" or a bare IP) be fenced now? */
bool efk_rbd_is_blocklisted(efk_rbd *rbd, const char *addr);
/* Audit entries with seq > since, oldest first (new reference). */
json_t *efk_rbd_audit(efk_rbd *rbd, uint64_t since);
/* The seq of the first audit entry after `since` whose fields equal all of
 * `pattern`'s (a JSON object, borrowed; a string value may be a glob), or 0
 * when none does. */
uint64_t efk_rbd_audit_find(efk_rbd *rbd, uint64_t since, const json_t *pattern);

#endif
