/*
 * rbd_store.h - the state of the fake Ceph cluster: pools, RADOS namespaces,
 * images with their cls_lock record and watchers, clients, the OSD blocklist,
 * kernel mappings, and the audit log of everything done to it.
 *
 * The store knows nothing of HTTP or of the CLI. Every function takes the
 * store's mutex for its whole duration, so one call is one atomic operation,
 * as one OSD op on an object is: two `rbd lock add` racing on an image are
 * serialised and exactly one wins. A multi-step CLI action (`rbd lock rm`:
 * read lock info, blocklist, break) is several calls, with the same windows
 * for races the real librbd has.
 *
 * Results are negative errno values as Ceph returns them (-EBUSY, -EEXIST,
 * -ENOENT, -EINVAL, -EBLOCKLISTED=-108...). Data comes out as new jansson
 * objects in the shapes the HTTP API sends (docs/fakes/rbd.md, "API").
 *
 * Time is read from the clock given at creation: watchers of a client declared
 * dead expire `watch_timeout` after the declaration, blocklist entries expire
 * at their "until" time; both are pruned whenever the store is touched.
 */
#ifndef EFK_RBD_STORE_H
#define EFK_RBD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/rng.h"
#include "rbd_addr.h"
#include "rbd_release.h"

/* Linux ESHUTDOWN: what librados returns to a blocklisted client. */
#define RBD_EBLOCKLISTED 108

#define RBD_NAME_MAX          256 /* pool, namespace, image names, cookies, tags */
#define RBD_MAX_POOLS         64
#define RBD_MAX_NAMESPACES    64   /* per pool, besides the default "" */
#define RBD_MAX_IMAGES        4096 /* in the whole cluster */
#define RBD_MAX_LOCKERS       64   /* per image */
#define RBD_MAX_WATCHERS      64   /* per image */
#define RBD_MAX_CLIENTS       4096 /* tracked; closed CLI clients are forgotten first */
#define RBD_MAX_BLOCKLIST     1024
#define RBD_MAX_MAPPINGS      256
#define RBD_MAX_CAPS          64 /* cephx identities with restricted caps */
#define RBD_AUDIT_DEFAULT_CAP 10000

/* Feature bits as librbd numbers them. */
#define RBD_FEATURE_LAYERING       (1u << 0)
#define RBD_FEATURE_STRIPINGV2     (1u << 1)
#define RBD_FEATURE_EXCLUSIVE_LOCK (1u << 2)
#define RBD_FEATURE_OBJECT_MAP     (1u << 3)
#define RBD_FEATURE_FAST_DIFF      (1u << 4)
#define RBD_FEATURE_DEEP_FLATTEN   (1u << 5)
#define RBD_FEATURE_JOURNALING     (1u << 6)
#define RBD_FEATURE_DATA_POOL      (1u << 7)
#define RBD_FEATURES_DEFAULT                                                                       \
    61u /* layering, exclusive-lock, object-map, fast-diff, deep-flatten                           \
         */

/* "layering" -> bit; 0 when unknown. */
uint32_t rbd_feature_bit(const char *name);
/* The names of the bits in librbd's order, as a new JSON array of strings. */
json_t *rbd_features_json(uint32_t features);

typedef struct rbd_store rbd_store;

/* What a client is: an `rbd`/`ceph` invocation (lives for the invocation), a
 * kernel mapping (krbd), a long-running librbd user, or one seeded by hand. */
typedef enum rbd_client_kind {
    RBD_CLIENT_CLI = 0,
    RBD_CLIENT_KRBD,
    RBD_CLIENT_LIBRBD,
    RBD_CLIENT_SEED,
} rbd_client_kind;

typedef struct rbd_store_config {
    const rbd_release *release;  /* NULL: reef */
    efk_clock *clock;            /* borrowed; NULL: system clock */
    uint64_t seed;               /* ids, nonces and prefixes come from it */
    int64_t watch_timeout_ns;    /* 0: 30 s (osd_client_watch_timeout) */
    int64_t blocklist_expire_ns; /* 0: 3600 s (mon_osd_blocklist_default_expire) */
    uint64_t first_client_id;    /* 0: 4120 */
    size_t audit_cap;            /* 0: RBD_AUDIT_DEFAULT_CAP */
} rbd_store_config;

/* New empty store (no pools). NULL on ENOMEM. */
rbd_store *rbd_store_new(const rbd_store_config *cfg);
void rbd_store_free(rbd_store *s);

const rbd_release *rbd_store_release(rbd_store *s);
efk_clock *rbd_store_clock(rbd_store *s);
/* Forget everything (pools, clients, blocklist, audit) but the config. */
void rbd_store_reset(rbd_store *s);
/* The next client id to give (seeding "client.24128" for a transcript). */
void rbd_store_set_next_client_id(rbd_store *s, uint64_t id);

/* ---- cephx identities (who may run `osd blocklist`) ---------------------- */
/* Deny (allow=false) or allow the mon `osd blocklist` commands to the cephx
 * name ("client.k8s"; "*" for everyone not listed). Default: allowed. */
int rbd_store_caps_set(rbd_store *s, const char *name, bool blocklist_allowed)
    __attribute__((warn_unused_result));
/* A key the cephx name must present (--key, -k keyring, -K keyfile); NULL
 * removes it. With no key set any key is accepted. */
int rbd_store_key_set(rbd_store *s, const char *name, const char *key)
    __attribute__((warn_unused_result));

/* ---- pools, namespaces, images ------------------------------------------ */
int rbd_store_pool_add(rbd_store *s, const char *pool) __attribute__((warn_unused_result));
int rbd_store_pool_del(rbd_store *s, const char *pool) __attribute__((warn_unused_result));
int rbd_store_ns_add(rbd_store *s, const char *pool, const char *ns)
    __attribute__((warn_unused_result));
/* 0 when the pool (and namespace, "" being the default) exists, else -ENOENT. */
int rbd_store_ns_check(rbd_store *s, const char *pool, const char *ns);

typedef struct rbd_image_spec {
    uint64_t size;     /* bytes */
    int order;         /* 0: 22 */
    int format;        /* 0: 2 */
    uint32_t features; /* for format 2; 0 with features_set false: default */
    bool features_set;
    const char *id;                /* NULL: generated */
    const char *block_name_prefix; /* NULL: derived from the id */
    int64_t create_wall_ns;        /* 0: now */
} rbd_image_spec;

/* Create an image. -ENOENT (pool/namespace), -EEXIST, -EINVAL, -ENOSPC. */
int rbd_store_image_create(rbd_store *s, const char *pool, const char *ns, const char *name,
                           const rbd_image_spec *spec) __attribute__((warn_unused_result));
/* Remove an image. -ENOENT; -EBUSY while it has watchers. */
int rbd_store_image_remove(rbd_store *s, const char *pool, const char *ns, const char *name)
    __attribute__((warn_unused_result));
/* The image as JSON (see the API doc), or NULL with *r = -ENOENT. New ref. */
json_t *rbd_store_image_get(rbd_store *s, const char *pool, const char *ns, const char *name,
                            int *r);
/* The images of a pool/namespace in `rbd ls` order (format 1 by name, then
 * format 2 by name), each as rbd_store_image_get() gives it. NULL with *r. */
json_t *rbd_store_image_list(rbd_store *s, const char *pool, const char *ns, int *r);

/* ---- clients --------------------------------------------------------------- */
/* A new client (client.<next id>) at node_ip:0/nonce. nonce 0: drawn from the
 * seeded rng. `name` is the cephx name ("client.admin"). Fills *id.
 * 0, -EINVAL (bad IP), -ENOSPC. */
int rbd_store_client_new(rbd_store *s, const char *node_ip, uint32_t nonce, rbd_client_kind kind,
                         const char *name, uint64_t *id) __attribute__((warn_unused_result));
/* The session of a client ended cleanly: its watches go at once. */
int rbd_store_client_close(rbd_store *s, uint64_t id);
/* The client's process/node died: its watchers stay until the watch timeout. */
int rbd_store_client_dead(rbd_store *s, uint64_t id);
/* It lives again (a dead mark is lifted; expired watchers do not come back). */
int rbd_store_client_alive(rbd_store *s, uint64_t id);
/* Every client of a node at once. Returns how many were changed, or -ENOENT. */
int rbd_store_node_dead(rbd_store *s, const char *node_ip);
int rbd_store_node_alive(rbd_store *s, const char *node_ip);
/* The client as JSON {id, name, address, node, kind, state, blocklisted}. */
json_t *rbd_store_client_get(rbd_store *s, uint64_t id, int *r);
json_t *rbd_store_client_list(rbd_store *s);
/* 0 when the client may talk to OSDs; -RBD_EBLOCKLISTED when its address is
 * on the blocklist; -ENOENT when unknown or closed. */
int rbd_store_client_check(rbd_store *s, uint64_t id);

/* ---- cls_lock on the image header ---------------------------------------- */
/* Take the lock as `locker` (client.N) from `addr` with `cookie`: exclusive, or
 * shared with `tag`. cls_lock's rules in its order: a held lock with another
 * tag -> -EBUSY; the same (locker, cookie) -> -EEXIST; exclusive requested or
 * held by others, or types differ -> -EBUSY. -ENOENT: no such image. */
int rbd_store_lock_add(rbd_store *s, const char *pool, const char *ns, const char *image,
                       const rbd_entity *locker, const rbd_addr *addr, const char *cookie,
                       bool exclusive, const char *tag, const char *description)
    __attribute__((warn_unused_result));
/* Remove exactly (locker, cookie). -ENOENT when absent. */
int rbd_store_lock_break(rbd_store *s, const char *pool, const char *ns, const char *image,
                         const rbd_entity *locker, const char *cookie)
    __attribute__((warn_unused_result));
/* {"type": "exclusive"|"shared"|"none", "tag", "lockers": [...]} or NULL. */
json_t *rbd_store_lock_get(rbd_store *s, const char *pool, const char *ns, const char *image,
                           int *r);

/* ---- watchers ------------------------------------------------------------ */
/* Add a watch of client `id` on the image with `cookie` (0: the client's next
 * small cookie, krbd style). Fills *cookie_out. -ENOENT, -EEXIST, -ENOSPC,
 * -RBD_EBLOCKLISTED. */
int rbd_store_watch_add(rbd_store *s, const char *pool, const char *ns, const char *image,
                        uint64_t id, uint64_t cookie, uint64_t *cookie_out)
    __attribute__((warn_unused_result));
int rbd_store_watch_del(rbd_store *s, const char *pool, const char *ns, const char *image,
                        uint64_t id, uint64_t cookie) __attribute__((warn_unused_result));

/* The client "writes" to an image it watches: with exclusive-lock enabled it
 * takes the managed lock (cookie "auto <watch cookie>", tag "internal").
 * -EBUSY when another client holds it; 0 when it is already its own. */
int rbd_store_image_write(rbd_store *s, const char *pool, const char *ns, const char *image,
                          uint64_t id) __attribute__((warn_unused_result));

/* ---- kernel mappings (rbd map) ------------------------------------------ */
/* Map on a node: a new krbd client of that node watches the image (cookie 1).
 * Fills *dev_id (rbdN) and *client. */
int rbd_store_map(rbd_store *s, const char *node_ip, const char *pool, const char *ns,
                  const char *image, const char *snap, bool read_only, int *dev_id,
                  uint64_t *client) __attribute__((warn_unused_result));
/* Unmap by device id (-1: any) or by spec. -ENOENT when nothing matched. */
int rbd_store_unmap(rbd_store *s, const char *node_ip, int dev_id, const char *pool, const char *ns,
                    const char *image, const char *snap) __attribute__((warn_unused_result));
/* The mappings of a node ([{id, pool, namespace, image, snap, device, client}]). */
json_t *rbd_store_mappings(rbd_store *s, const char *node_ip);

/* ---- blocklist ---------------------------------------------------------- */
/* Add (or renew) an entry; `range` for a CIDR. expire_ns < 0: the default.
 * Removes the watches of every client it matches. Fills *until_wall_ns. */
int rbd_store_blocklist_add(rbd_store *s, const rbd_addr *addr, bool range, int64_t expire_ns,
                            int64_t *until_wall_ns) __attribute__((warn_unused_result));
/* 0, or -ENOENT when not listed. */
int rbd_store_blocklist_rm(rbd_store *s, const rbd_addr *addr, bool range)
    __attribute__((warn_unused_result));
void rbd_store_blocklist_clear(rbd_store *s);
/* [{"addr" | "range", "until": wall ns}] in insertion order. */
json_t *rbd_store_blocklist_list(rbd_store *s);
/* Is this address blocklisted now (exact, IP:0/0, or a range)? */
bool rbd_store_is_blocklisted(rbd_store *s, const rbd_addr *addr);

/* ---- audit log ----------------------------------------------------------- */
/* Append an entry (a JSON object; `entry` is stolen). seq and time are added.
 * The ring keeps audit_cap entries; older ones are counted as dropped. */
uint64_t rbd_store_audit_add(rbd_store *s, json_t *entry);
/* Entries with seq > since, oldest first (new array). */
json_t *rbd_store_audit_list(rbd_store *s, uint64_t since);
void rbd_store_audit_stats(rbd_store *s, uint64_t *last_seq, uint64_t *dropped);

/* ---- whole state ---------------------------------------------------------- */
/* Everything, as a JSON dump for artifacts and `GET /rbd/v1/state`. */
json_t *rbd_store_state(rbd_store *s);
/* Prune expired watchers and blocklist entries now (also done by every call). */
void rbd_store_tick(rbd_store *s);

/* Was a cephx name allowed to change the blocklist? */
bool rbd_store_caps_blocklist(rbd_store *s, const char *name);
/* 0 when `key` is acceptable for `name` (or no key is configured); -EPERM. */
int rbd_store_key_check(rbd_store *s, const char *name, const char *key);

#endif
