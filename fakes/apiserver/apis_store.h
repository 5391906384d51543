/*
 * apis_store.h - the object store and the watch hub of the fake API server.
 *
 * The store knows nothing of HTTP. It holds objects per resource, keyed by
 * namespace/name, and one resourceVersion counter for all of them (like
 * etcd's revision). Objects go in and come out as deep copies; internally
 * each object is also kept serialized once ("blob", refcounted), so a GET, a
 * list or a watch event for a hundred watchers costs no re-encoding.
 *
 * Watches: every write appends an event to its resource's bounded history
 * (a ring of `history_cap` events) and offers it to every watcher of that
 * resource. A watcher has its own bounded queue; the writer never waits for a
 * reader. A watcher whose queue is full is cut off (as the real cacher
 * terminates a watcher that blocks its dispatch): it delivers what it had
 * queued, then ends, and the client re-watches from the last version it saw.
 * A watch from a version older than the history window ends with an ERROR
 * event carrying a 410 Expired Status, inside a 200 stream.
 *
 * Errors: write and read functions return 0, or the HTTP status of the
 * failure with *status set to the Status object (new reference).
 * All functions are thread-safe.
 */
#ifndef EFK_APIS_STORE_H
#define EFK_APIS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/clock.h"
#include "apis_persona.h"
#include "apis_res.h"
#include "apis_select.h"

#define APIS_DEFAULT_HISTORY          1000
#define APIS_DEFAULT_MAX_OBJECTS      100000
#define APIS_DEFAULT_MAX_WATCHERS     1024
#define APIS_DEFAULT_WATCH_QUEUE      1024
#define APIS_DEFAULT_MAX_OBJECT_BYTES (1536 * 1024) /* etcd's request limit */

typedef struct apis_store apis_store;
typedef struct apis_watch apis_watch;
typedef struct apis_blob apis_blob;

typedef struct apis_store_config {
    efk_clock *clock;            /* borrowed; required */
    uint64_t seed;               /* uids are drawn from it */
    const apis_persona *persona; /* borrowed; NULL: default */
    size_t history_cap;          /* events kept per resource (0: default) */
    size_t max_objects;          /* all resources together (0: default) */
    size_t max_watchers;         /* 0: default */
    size_t watch_queue_cap;      /* per watcher (0: default) */
    bool default_namespaces;     /* create default, kube-system, kube-public, kube-node-lease */
} apis_store_config;

/* New store; NULL on ENOMEM. */
apis_store *apis_store_new(const apis_store_config *cfg);
/* Free; ends every open watch (their streams see the end). NULL-safe. */
void apis_store_free(apis_store *s);

/* The current resourceVersion (the last one assigned). */
uint64_t apis_store_rv(apis_store *s);
/* Number of objects of a resource (all namespaces). */
size_t apis_store_count(apis_store *s, const apis_res *r);
/* Open watches. */
size_t apis_store_watchers(apis_store *s);
/* Watchers cut off for a full queue so far. */
uint64_t apis_store_watch_overflows(apis_store *s);

/* How a write came in. API writes follow the registry strategy (pod status
 * reset on create and kept on update, validation of names, the namespace must
 * exist); seed writes keep what they are given and create a missing namespace. */
typedef enum apis_origin { APIS_ORIGIN_API, APIS_ORIGIN_SEED } apis_origin;

/* Create. `obj` borrowed. On success *out (may be NULL to not ask) is the
 * stored object. 409 AlreadyExists, 404 (namespace), 400/422 (bad object),
 * 507-like 500 when the store is full. */
int apis_store_create(apis_store *s, const apis_res *r, const char *ns, const json_t *obj,
                      apis_origin origin, json_t **out, json_t **status)
    __attribute__((warn_unused_result));

/* Replace (PUT). A resourceVersion in the object must match (409 Conflict);
 * without one the update is unconditional. `status_sub`: the /status
 * subresource (only status changes). 404 when absent. */
int apis_store_update(apis_store *s, const apis_res *r, const char *ns, const char *name,
                      const json_t *obj, apis_origin origin, bool status_sub, json_t **out,
                      json_t **status) __attribute__((warn_unused_result));

typedef enum apis_patch_type {
    APIS_PATCH_MERGE,
    APIS_PATCH_STRATEGIC,
    APIS_PATCH_JSON,
} apis_patch_type;

/* Patch an object (read, patch, write atomically). A resourceVersion put in
 * by the patch is a precondition (409). 404 when absent. */
int apis_store_patch(apis_store *s, const apis_res *r, const char *ns, const char *name,
                     apis_patch_type type, const json_t *patch, bool status_sub, json_t **out,
                     json_t **status) __attribute__((warn_unused_result));

/* Delete. Preconditions (uid, resourceVersion) may be NULL. *out is what the
 * real server answers: the deleted object (pods, namespaces) or a success
 * Status (the rest). Deleting a namespace deletes everything in it. */
int apis_store_delete(apis_store *s, const apis_res *r, const char *ns, const char *name,
                      const char *pre_uid, const char *pre_rv, json_t **out, json_t **status)
    __attribute__((warn_unused_result));

/* Get a deep copy. 404 when absent. */
int apis_store_get(apis_store *s, const apis_res *r, const char *ns, const char *name, json_t **out,
                   json_t **status) __attribute__((warn_unused_result));

/* Get the serialized object (a new reference to its blob). */
int apis_store_get_blob(apis_store *s, const apis_res *r, const char *ns, const char *name,
                        apis_blob **out, json_t **status) __attribute__((warn_unused_result));

typedef struct apis_list_opts {
    const char *ns;              /* NULL or "": all namespaces */
    const apis_selector *labels; /* may be NULL */
    const apis_selector *fields; /* may be NULL */
    long limit;                  /* <= 0: all */
    const char *cont;            /* continue token or NULL */
    const char *rv;              /* resourceVersion parameter or NULL */
    const char *rv_match;        /* resourceVersionMatch or NULL */
} apis_list_opts;

typedef struct apis_list {
    uint64_t rv;    /* the list's resourceVersion */
    char *cont;     /* continue token or NULL */
    long remaining; /* remainingItemCount, -1 when not given */
    size_t n;
    apis_blob **items; /* references */
} apis_list;

/* List. 400 for a bad continue token, 410 Expired for one past the history,
 * 504 for a resourceVersion ahead of the store. */
int apis_store_list(apis_store *s, const apis_res *r, const apis_list_opts *o, apis_list *out,
                    json_t **status) __attribute__((warn_unused_result));
void apis_list_cleanup(apis_list *l);

/* Render a list as the real server does ({"kind":"PodList","apiVersion":"v1",
 * "metadata":{...},"items":[...]}) into `out`. 0 or -E2BIG/-ENOMEM. */
int apis_list_render(const apis_res *r, const apis_list *l, buf *out)
    __attribute__((warn_unused_result));

/* Blobs: an immutable serialized object. */
const char *apis_blob_data(const apis_blob *b, size_t *len);
apis_blob *apis_blob_ref(apis_blob *b);
void apis_blob_unref(apis_blob *b);

/* Every object as a JSON array (a dump for artifacts; new reference). */
json_t *apis_store_render(apis_store *s);

/* ---- watches ---- */

typedef struct apis_watch_opts {
    const apis_res *r;
    const char *ns;               /* NULL: all namespaces */
    const char *name;             /* NULL: any (legacy /watch/.../name paths) */
    const apis_selector *labels;  /* copied; may be NULL */
    const apis_selector *fields;  /* copied; may be NULL */
    const char *rv;               /* NULL/""/"0": state first, then changes */
    bool bookmarks;               /* allowWatchBookmarks */
    bool force_expired;           /* a fault: answer 410 whatever the version */
    uint64_t drop_after;          /* a fault: cut the stream after N events (0: never) */
    bool drop_abort;              /* ... with a reset instead of a clean end */
    int64_t deadline_mono_ns;     /* the watch ends here (0: never) */
    int64_t bookmark_interval_ns; /* 0: 60 s */
} apis_watch_opts;

/* Start a watch. Always gives a watch (a too-old version gives one that
 * yields the ERROR event and ends); 504 for a version ahead of the store,
 * 429-like 500 when the watcher cap is reached. */
int apis_watch_start(apis_store *s, const apis_watch_opts *o, apis_watch **out, json_t **status)
    __attribute__((warn_unused_result));

/* What apis_watch_poll says. */
#define APIS_WATCH_MORE  0
#define APIS_WATCH_END   1
#define APIS_WATCH_ABORT (-1)

/* One event as handed to a renderer. */
typedef struct apis_watch_event {
    const char *type; /* "ADDED" ... "BOOKMARK" "ERROR" */
    const char *obj;  /* serialized object */
    size_t obj_len;
} apis_watch_event;

/* Wait up to `wait_ms` for events and append them as lines
 * `{"type":"...","object":{...}}\n` to `out`, or, when `render` is given,
 * call it per event (to produce Table objects). Returns MORE, END (the watch
 * is over: timeout, cut off, expired, store gone) or ABORT (a drop fault
 * asked for a reset). Call from one thread at a time. */
int apis_watch_poll(apis_watch *w, buf *out, int wait_ms,
                    int (*render)(void *arg, const apis_watch_event *ev, buf *out), void *arg);

/* Events delivered so far. */
uint64_t apis_watch_sent(const apis_watch *w);

/* Stop and free (from the stream's free callback). NULL-safe. */
void apis_watch_stop(apis_watch *w);

/* ---- utilities shared with the routes ---- */

/* Parse a decimal resourceVersion; false when it is not one. */
bool apis_rv_parse(const char *s, uint64_t *out);

#endif
