/*
 * rbd_store.c - the fake cluster's state behind one mutex.
 *
 * Layout: pools own images (by pointer, so a pool can be removed without
 * moving images around), images own their lock record and watchers by value
 * in capped arrays, clients live in one capped array indexed by nothing but a
 * linear scan (a few thousand at most; every operation is O(clients) at
 * worst, which is microseconds).
 *
 * Expiry is lazy: every public entry point calls prune() first, which drops
 * blocklist entries past their "until", lockers past their expiration, and
 * watchers whose client is closed, blocklisted, or dead for longer than the
 * watch timeout. A test clock therefore moves the store by itself.
 */
#include "rbd_store.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef struct locker {
    rbd_entity entity;
    char *cookie;
    rbd_addr addr;
    char *description;
    int64_t expire_wall_ns; /* 0: never */
} locker;

typedef struct watcher {
    uint64_t client;
    uint64_t cookie;
    rbd_addr addr;
} watcher;

typedef struct image {
    char *ns, *name, *id, *prefix;
    uint64_t size;
    int order, format;
    uint32_t features;
    int64_t create_ns, access_ns, modify_ns;
    int lock_type; /* 0 none, 1 exclusive, 2 shared */
    char *tag;
    locker lockers[RBD_MAX_LOCKERS];
    size_t nlockers;
    watcher watchers[RBD_MAX_WATCHERS];
    size_t nwatchers;
} image;

typedef struct pool {
    char *name;
    int64_t id;
    char *ns[RBD_MAX_NAMESPACES];
    size_t nns;
    image **images;
    size_t nimages, aimages;
} pool;

typedef enum { CL_ALIVE = 0, CL_DEAD, CL_CLOSED } client_state;

typedef struct client {
    uint64_t id;
    rbd_addr addr;
    char node[64];
    char *name;
    rbd_client_kind kind;
    client_state state;
    int64_t dead_mono_ns;
    uint64_t next_cookie;
} client;

typedef struct bl_entry {
    rbd_addr addr;
    bool range;
    int64_t until_wall_ns;
} bl_entry;

typedef struct mapping {
    char node[64];
    int dev_id;
    char *pool, *ns, *image, *snap;
    bool read_only;
    uint64_t client, cookie;
} mapping;

typedef struct cap_entry {
    char *name;
    bool blocklist;
    char *key;
    bool has_caps;
} cap_entry;

struct rbd_store {
    pthread_mutex_t mu;
    const rbd_release *release;
    efk_clock *clock;
    uint64_t seed;
    rng rng;
    int64_t watch_timeout_ns, blocklist_expire_ns;
    uint64_t first_client_id, next_client_id;
    int64_t next_pool_id;
    pool *pools[RBD_MAX_POOLS];
    size_t npools;
    size_t total_images;
    client *clients;
    size_t nclients;
    bl_entry blocklist[RBD_MAX_BLOCKLIST];
    size_t nblocklist;
    mapping maps[RBD_MAX_MAPPINGS];
    size_t nmaps;
    cap_entry caps[RBD_MAX_CAPS];
    size_t ncaps;
    json_t **audit;
    size_t audit_cap, audit_head, audit_len;
    uint64_t audit_seq, audit_dropped;
};

/* ---- features ------------------------------------------------------------- */

static const struct {
    uint32_t bit;
    const char *name;
} feature_names[] = {
    {1u << 0, "layering"},   {1u << 1, "striping"},     {1u << 2, "exclusive-lock"},
    {1u << 3, "object-map"}, {1u << 4, "fast-diff"},    {1u << 5, "deep-flatten"},
    {1u << 6, "journaling"}, {1u << 7, "data-pool"},    {1u << 8, "operations"},
    {1u << 9, "migrating"},  {1u << 10, "non-primary"},
};

uint32_t rbd_feature_bit(const char *name)
{
    for (size_t i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
        if (strcmp(feature_names[i].name, name) == 0)
            return feature_names[i].bit;
    return 0;
}

json_t *rbd_features_json(uint32_t features)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
        if (features & feature_names[i].bit)
            json_array_append_new(a, json_string(feature_names[i].name));
    return a;
}

/* ---- helpers --------------------------------------------------------------- */

static int64_t now_mono(rbd_store *s)
{
    return clock_mono_ns(s->clock);
}

static int64_t now_wall(rbd_store *s)
{
    return clock_wall_ns(s->clock);
}

static bool name_ok(const char *n, bool allow_empty)
{
    if (!n)
        return false;
    size_t l = strlen(n);
    return (allow_empty || l > 0) && l < RBD_NAME_MAX;
}

static pool *find_pool(rbd_store *s, const char *name)
{
    for (size_t i = 0; i < s->npools; i++)
        if (strcmp(s->pools[i]->name, name) == 0)
            return s->pools[i];
    return NULL;
}

static bool pool_has_ns(const pool *p, const char *ns)
{
    if (!ns || !*ns)
        return true;
    for (size_t i = 0; i < p->nns; i++)
        if (strcmp(p->ns[i], ns) == 0)
            return true;
    return false;
}

static image *find_image(rbd_store *s, const char *pool_name, const char *ns, const char *name,
                         int *r)
{
    pool *p = pool_name ? find_pool(s, pool_name) : NULL;
    if (!p || !pool_has_ns(p, ns) || !name) {
        *r = -ENOENT;
        return NULL;
    }
    const char *n = ns ? ns : "";
    for (size_t i = 0; i < p->nimages; i++)
        if (strcmp(p->images[i]->name, name) == 0 && strcmp(p->images[i]->ns, n) == 0) {
            *r = 0;
            return p->images[i];
        }
    *r = -ENOENT;
    return NULL;
}

static client *find_client(rbd_store *s, uint64_t id)
{
    for (size_t i = 0; i < s->nclients; i++)
        if (s->clients[i].id == id)
            return &s->clients[i];
    return NULL;
}

static bool blocklisted_locked(rbd_store *s, const rbd_addr *a)
{
    rbd_addr any = *a;
    any.port = 0;
    any.nonce = 0;
    for (size_t i = 0; i < s->nblocklist; i++) {
        const bl_entry *e = &s->blocklist[i];
        if (e->range) {
            if (rbd_addr_in_range(a, &e->addr))
                return true;
        } else if (rbd_addr_eq(&e->addr, a) || rbd_addr_eq(&e->addr, &any)) {
            return true;
        }
    }
    return false;
}

static void locker_free(locker *l)
{
    free(l->cookie);
    free(l->description);
    memset(l, 0, sizeof(*l));
}

static void locker_remove(image *im, size_t i)
{
    locker_free(&im->lockers[i]);
    memmove(&im->lockers[i], &im->lockers[i + 1], (im->nlockers - i - 1) * sizeof(locker));
    im->nlockers--;
    memset(&im->lockers[im->nlockers], 0, sizeof(locker));
}

static void watcher_remove(image *im, size_t i)
{
    memmove(&im->watchers[i], &im->watchers[i + 1], (im->nwatchers - i - 1) * sizeof(watcher));
    im->nwatchers--;
}

static void image_free(image *im)
{
    if (!im)
        return;
    for (size_t i = 0; i < im->nlockers; i++)
        locker_free(&im->lockers[i]);
    free(im->ns);
    free(im->name);
    free(im->id);
    free(im->prefix);
    free(im->tag);
    free(im);
}

static void pool_free(pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nimages; i++)
        image_free(p->images[i]);
    for (size_t i = 0; i < p->nns; i++)
        free(p->ns[i]);
    free(p->images);
    free(p->name);
    free(p);
}

static void mapping_free(mapping *m)
{
    free(m->pool);
    free(m->ns);
    free(m->image);
    free(m->snap);
    memset(m, 0, sizeof(*m));
}

/* Is the watcher's client gone for good (closed, expired, blocklisted)? */
static bool watcher_stale(rbd_store *s, const watcher *w, int64_t mono)
{
    client *c = find_client(s, w->client);
    if (!c) /* a seeded watcher of an unknown client stays until removed */
        return blocklisted_locked(s, &w->addr);
    if (c->state == CL_CLOSED)
        return true;
    if (c->state == CL_DEAD && mono - c->dead_mono_ns >= s->watch_timeout_ns)
        return true;
    return blocklisted_locked(s, &w->addr);
}

static void prune(rbd_store *s)
{
    int64_t wall = now_wall(s), mono = now_mono(s);
    for (size_t i = 0; i < s->nblocklist;) {
        if (s->blocklist[i].until_wall_ns <= wall) {
            memmove(&s->blocklist[i], &s->blocklist[i + 1],
                    (s->nblocklist - i - 1) * sizeof(bl_entry));
            s->nblocklist--;
        } else {
            i++;
        }
    }
    for (size_t p = 0; p < s->npools; p++) {
        pool *pl = s->pools[p];
        for (size_t k = 0; k < pl->nimages; k++) {
            image *im = pl->images[k];
            for (size_t i = 0; i < im->nlockers;) {
                if (im->lockers[i].expire_wall_ns && im->lockers[i].expire_wall_ns < wall)
                    locker_remove(im, i);
                else
                    i++;
            }
            for (size_t i = 0; i < im->nwatchers;) {
                if (watcher_stale(s, &im->watchers[i], mono))
                    watcher_remove(im, i);
                else
                    i++;
            }
        }
    }
}

static void lock_s(rbd_store *s)
{
    pthread_mutex_lock(&s->mu);
    prune(s);
}

static void unlock_s(rbd_store *s)
{
    pthread_mutex_unlock(&s->mu);
}

/* ---- life ------------------------------------------------------------------ */

static void clear_all(rbd_store *s)
{
    for (size_t i = 0; i < s->npools; i++)
        pool_free(s->pools[i]);
    s->npools = 0;
    s->total_images = 0;
    for (size_t i = 0; i < s->nclients; i++)
        free(s->clients[i].name);
    s->nclients = 0;
    s->nblocklist = 0;
    for (size_t i = 0; i < s->nmaps; i++)
        mapping_free(&s->maps[i]);
    s->nmaps = 0;
    for (size_t i = 0; i < s->ncaps; i++) {
        free(s->caps[i].name);
        free(s->caps[i].key);
    }
    s->ncaps = 0;
    for (size_t i = 0; i < s->audit_len; i++)
        json_decref(s->audit[(s->audit_head + i) % s->audit_cap]);
    s->audit_len = 0;
    s->audit_head = 0;
    s->next_client_id = s->first_client_id;
    s->next_pool_id = 1;
    rng_init(&s->rng, s->seed, "rbd");
}

rbd_store *rbd_store_new(const rbd_store_config *cfg)
{
    rbd_store *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->audit_cap = cfg && cfg->audit_cap ? cfg->audit_cap : RBD_AUDIT_DEFAULT_CAP;
    s->audit = calloc(s->audit_cap, sizeof(json_t *));
    s->clients = calloc(RBD_MAX_CLIENTS, sizeof(client));
    if (!s->audit || !s->clients) {
        free(s->audit);
        free(s->clients);
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    s->release = cfg && cfg->release ? cfg->release : rbd_release_get(RBD_REL_DEFAULT);
    s->clock = cfg && cfg->clock ? cfg->clock : clock_system();
    s->seed = cfg ? cfg->seed : 0;
    s->watch_timeout_ns =
        cfg && cfg->watch_timeout_ns > 0 ? cfg->watch_timeout_ns : 30 * EFK_NS_PER_S;
    s->blocklist_expire_ns =
        cfg && cfg->blocklist_expire_ns > 0 ? cfg->blocklist_expire_ns : 3600 * EFK_NS_PER_S;
    s->first_client_id = cfg && cfg->first_client_id ? cfg->first_client_id : 4120;
    clear_all(s);
    return s;
}

void rbd_store_free(rbd_store *s)
{
    if (!s)
        return;
    clear_all(s);
    pthread_mutex_destroy(&s->mu);
    free(s->audit);
    free(s->clients);
    free(s);
}

const rbd_release *rbd_store_release(rbd_store *s)
{
    return s->release;
}

efk_clock *rbd_store_clock(rbd_store *s)
{
    return s->clock;
}

void rbd_store_reset(rbd_store *s)
{
    pthread_mutex_lock(&s->mu);
    clear_all(s);
    pthread_mutex_unlock(&s->mu);
}

void rbd_store_set_next_client_id(rbd_store *s, uint64_t id)
{
    pthread_mutex_lock(&s->mu);
    if (id)
        s->next_client_id = id;
    pthread_mutex_unlock(&s->mu);
}

void rbd_store_tick(rbd_store *s)
{
    lock_s(s);
    unlock_s(s);
}

/* ---- caps and keys --------------------------------------------------------- */

static cap_entry *find_cap(rbd_store *s, const char *name, bool create)
{
    for (size_t i = 0; i < s->ncaps; i++)
        if (strcmp(s->caps[i].name, name) == 0)
            return &s->caps[i];
    if (!create || s->ncaps >= RBD_MAX_CAPS)
        return NULL;
    cap_entry *c = &s->caps[s->ncaps];
    c->name = strdup(name);
    if (!c->name)
        return NULL;
    c->blocklist = true;
    s->ncaps++;
    return c;
}

int rbd_store_caps_set(rbd_store *s, const char *name, bool blocklist_allowed)
{
    if (!name_ok(name, false))
        return -EINVAL;
    pthread_mutex_lock(&s->mu);
    cap_entry *c = find_cap(s, name, true);
    if (c) {
        c->blocklist = blocklist_allowed;
        c->has_caps = true;
    }
    pthread_mutex_unlock(&s->mu);
    return c ? 0 : -ENOSPC;
}

int rbd_store_key_set(rbd_store *s, const char *name, const char *key)
{
    if (!name_ok(name, false))
        return -EINVAL;
    pthread_mutex_lock(&s->mu);
    int r = 0;
    cap_entry *c = find_cap(s, name, key != NULL);
    if (c) {
        free(c->key);
        c->key = key ? strdup(key) : NULL;
        if (key && !c->key)
            r = -ENOMEM;
    } else if (key) {
        r = -ENOSPC;
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

bool rbd_store_caps_blocklist(rbd_store *s, const char *name)
{
    pthread_mutex_lock(&s->mu);
    bool ok = true;
    cap_entry *c = name ? find_cap(s, name, false) : NULL;
    if (c && c->has_caps) {
        ok = c->blocklist;
    } else {
        cap_entry *any = find_cap(s, "*", false);
        if (any && any->has_caps)
            ok = any->blocklist;
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

int rbd_store_key_check(rbd_store *s, const char *name, const char *key)
{
    pthread_mutex_lock(&s->mu);
    int r = 0;
    cap_entry *c = name ? find_cap(s, name, false) : NULL;
    if (c && c->key && (!key || strcmp(c->key, key) != 0))
        r = -EPERM;
    pthread_mutex_unlock(&s->mu);
    return r;
}

/* ---- pools and namespaces ---------------------------------------------------- */

int rbd_store_pool_add(rbd_store *s, const char *name)
{
    if (!name_ok(name, false))
        return -EINVAL;
    lock_s(s);
    int r = 0;
    if (find_pool(s, name)) {
        r = -EEXIST;
    } else if (s->npools >= RBD_MAX_POOLS) {
        r = -ENOSPC;
    } else {
        pool *p = calloc(1, sizeof(*p));
        if (p)
            p->name = strdup(name);
        if (!p || !p->name) {
            free(p);
            r = -ENOMEM;
        } else {
            p->id = s->next_pool_id++;
            s->pools[s->npools++] = p;
        }
    }
    unlock_s(s);
    return r;
}

int rbd_store_pool_del(rbd_store *s, const char *name)
{
    lock_s(s);
    int r = -ENOENT;
    for (size_t i = 0; i < s->npools; i++) {
        if (strcmp(s->pools[i]->name, name) == 0) {
            s->total_images -= s->pools[i]->nimages;
            pool_free(s->pools[i]);
            memmove(&s->pools[i], &s->pools[i + 1], (s->npools - i - 1) * sizeof(pool *));
            s->npools--;
            r = 0;
            break;
        }
    }
    unlock_s(s);
    return r;
}

int rbd_store_ns_add(rbd_store *s, const char *pool_name, const char *ns)
{
    if (!name_ok(ns, false) || strchr(ns, '/') || strchr(ns, '@'))
        return -EINVAL;
    lock_s(s);
    int r = 0;
    pool *p = pool_name ? find_pool(s, pool_name) : NULL;
    if (!p) {
        r = -ENOENT;
    } else if (pool_has_ns(p, ns)) {
        r = -EEXIST;
    } else if (p->nns >= RBD_MAX_NAMESPACES) {
        r = -ENOSPC;
    } else if (!(p->ns[p->nns] = strdup(ns))) {
        r = -ENOMEM;
    } else {
        p->nns++;
    }
    unlock_s(s);
    return r;
}

int rbd_store_ns_check(rbd_store *s, const char *pool_name, const char *ns)
{
    lock_s(s);
    pool *p = pool_name ? find_pool(s, pool_name) : NULL;
    int r = p && pool_has_ns(p, ns) ? 0 : -ENOENT;
    unlock_s(s);
    return r;
}

/* ---- images ----------------------------------------------------------------- */

int rbd_store_image_create(rbd_store *s, const char *pool_name, const char *ns, const char *name,
                           const rbd_image_spec *spec)
{
    if (!name_ok(name, false) || !name_ok(ns ? ns : "", true) || !spec)
        return -EINVAL;
    int order = spec->order ? spec->order : 22;
    int format = spec->format ? spec->format : 2;
    if (order < 12 || order > 25 || (format != 1 && format != 2))
        return -EINVAL;
    lock_s(s);
    int r = 0;
    image *im = NULL;
    pool *p = pool_name ? find_pool(s, pool_name) : NULL;
    if (!p || !pool_has_ns(p, ns)) {
        r = -ENOENT;
        goto out;
    }
    if (find_image(s, pool_name, ns, name, &r)) {
        r = -EEXIST;
        goto out;
    }
    r = 0;
    if (s->total_images >= RBD_MAX_IMAGES) {
        r = -ENOSPC;
        goto out;
    }
    if (p->nimages == p->aimages) {
        size_t na = p->aimages ? p->aimages * 2 : 8;
        image **ni = realloc(p->images, na * sizeof(*ni));
        if (!ni) {
            r = -ENOMEM;
            goto out;
        }
        p->images = ni;
        p->aimages = na;
    }
    im = calloc(1, sizeof(*im));
    if (!im) {
        r = -ENOMEM;
        goto out;
    }
    char idbuf[32], prefix[64];
    if (spec->id) {
        snprintf(idbuf, sizeof(idbuf), "%.31s", spec->id);
    } else if (format == 2) {
        snprintf(idbuf, sizeof(idbuf), "%012" PRIx64,
                 (uint64_t)(rng_next(&s->rng) & 0xffffffffffffULL));
    } else {
        idbuf[0] = '\0';
    }
    if (spec->block_name_prefix)
        snprintf(prefix, sizeof(prefix), "%.63s", spec->block_name_prefix);
    else if (format == 2)
        snprintf(prefix, sizeof(prefix), "rbd_data.%s", idbuf);
    else
        snprintf(prefix, sizeof(prefix), "rb.0.%" PRIx64 ".%08" PRIx64,
                 rng_range(&s->rng, 0x1000, 0xffff), (uint64_t)(rng_next(&s->rng) & 0xffffffffULL));
    im->ns = strdup(ns ? ns : "");
    im->name = strdup(name);
    im->id = strdup(idbuf);
    im->prefix = strdup(prefix);
    im->tag = strdup("");
    if (!im->ns || !im->name || !im->id || !im->prefix || !im->tag) {
        image_free(im);
        r = -ENOMEM;
        goto out;
    }
    im->size = spec->size;
    im->order = order;
    im->format = format;
    im->features = format == 1 ? 0 : spec->features_set ? spec->features : RBD_FEATURES_DEFAULT;
    im->create_ns = spec->create_wall_ns ? spec->create_wall_ns : now_wall(s);
    im->access_ns = im->modify_ns = im->create_ns;
    p->images[p->nimages++] = im;
    s->total_images++;
out:
    unlock_s(s);
    return r;
}

int rbd_store_image_remove(rbd_store *s, const char *pool_name, const char *ns, const char *name)
{
    lock_s(s);
    int r;
    image *im = find_image(s, pool_name, ns, name, &r);
    if (im && im->nwatchers) {
        r = -EBUSY;
    } else if (im) {
        pool *p = find_pool(s, pool_name);
        for (size_t i = 0; i < p->nimages; i++) {
            if (p->images[i] == im) {
                memmove(&p->images[i], &p->images[i + 1], (p->nimages - i - 1) * sizeof(image *));
                p->nimages--;
                break;
            }
        }
        image_free(im);
        s->total_images--;
        r = 0;
    }
    unlock_s(s);
    return r;
}

static json_t *lock_json(const image *im)
{
    json_t *lk = json_array();
    for (size_t i = 0; i < im->nlockers; i++) {
        const locker *l = &im->lockers[i];
        char ent[48], addr[RBD_ADDR_STR_MAX];
        json_array_append_new(lk, json_pack("{s:s, s:s, s:s, s:s, s:I}", "locker",
                                            rbd_entity_format(&l->entity, ent, sizeof(ent)),
                                            "cookie", l->cookie, "address",
                                            rbd_addr_format(&l->addr, addr, sizeof(addr)),
                                            "description", l->description ? l->description : "",
                                            "expiration", (json_int_t)l->expire_wall_ns));
    }
    const char *type = !im->nlockers ? "none" : im->lock_type == 2 ? "shared" : "exclusive";
    return json_pack("{s:s, s:s, s:o}", "type", type, "tag", im->nlockers ? im->tag : "", "lockers",
                     lk);
}

static json_t *watchers_json(const image *im)
{
    json_t *w = json_array();
    for (size_t i = 0; i < im->nwatchers; i++) {
        char addr[RBD_ADDR_STR_MAX];
        json_array_append_new(w,
                              json_pack("{s:s, s:I, s:I}", "address",
                                        rbd_addr_format(&im->watchers[i].addr, addr, sizeof(addr)),
                                        "client", (json_int_t)im->watchers[i].client, "cookie",
                                        (json_int_t)im->watchers[i].cookie));
    }
    return w;
}

static json_t *image_json(const pool *p, const image *im)
{
    uint64_t obj = 1ULL << im->order;
    uint64_t objects = (im->size + obj - 1) / obj;
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:I, s:I, s:i, s:o, s:I, s:[], s:[], s:s,"
                     " s:I, s:I, s:I, s:i, s:o, s:o}",
                     "pool", p->name, "namespace", im->ns, "name", im->name, "id", im->id, "size",
                     (json_int_t)im->size, "order", im->order, "object_size", (json_int_t)obj,
                     "objects", (json_int_t)objects, "format", im->format, "features",
                     rbd_features_json(im->features), "features_mask", (json_int_t)im->features,
                     "op_features", "flags", "block_name_prefix", im->prefix, "create_timestamp",
                     (json_int_t)im->create_ns, "access_timestamp", (json_int_t)im->access_ns,
                     "modify_timestamp", (json_int_t)im->modify_ns, "snapshot_count", 0, "lock",
                     lock_json(im), "watchers", watchers_json(im));
}

json_t *rbd_store_image_get(rbd_store *s, const char *pool_name, const char *ns, const char *name,
                            int *r)
{
    lock_s(s);
    json_t *j = NULL;
    image *im = find_image(s, pool_name, ns, name, r);
    if (im) {
        j = image_json(find_pool(s, pool_name), im);
        if (!j)
            *r = -ENOMEM;
    }
    unlock_s(s);
    return j;
}

static int image_cmp(const void *a, const void *b)
{
    const image *x = *(image *const *)a, *y = *(image *const *)b;
    if (x->format != y->format)
        return x->format - y->format;
    return strcmp(x->name, y->name);
}

json_t *rbd_store_image_list(rbd_store *s, const char *pool_name, const char *ns, int *r)
{
    lock_s(s);
    json_t *out = NULL;
    image **v = NULL;
    pool *p = pool_name ? find_pool(s, pool_name) : NULL;
    if (!p || !pool_has_ns(p, ns)) {
        *r = -ENOENT;
        goto done;
    }
    const char *n = ns ? ns : "";
    v = calloc(p->nimages + 1, sizeof(*v));
    out = json_array();
    if (!v || !out) {
        json_decref(out);
        out = NULL;
        *r = -ENOMEM;
        goto done;
    }
    size_t cnt = 0;
    for (size_t i = 0; i < p->nimages; i++)
        if (strcmp(p->images[i]->ns, n) == 0)
            v[cnt++] = p->images[i];
    qsort(v, cnt, sizeof(*v), image_cmp);
    for (size_t i = 0; i < cnt; i++)
        json_array_append_new(out, image_json(p, v[i]));
    *r = 0;
done:
    free(v);
    unlock_s(s);
    return out;
}

/* ---- clients ------------------------------------------------------------------- */

static const char *kind_name(rbd_client_kind k)
{
    switch (k) {
    case RBD_CLIENT_KRBD:
        return "krbd";
    case RBD_CLIENT_LIBRBD:
        return "librbd";
    case RBD_CLIENT_SEED:
        return "seed";
    default:
        return "cli";
    }
}

static const char *state_name(client_state st)
{
    return st == CL_DEAD ? "dead" : st == CL_CLOSED ? "closed" : "alive";
}

/* Make room by forgetting the oldest closed client; false when none is. */
static bool evict_closed(rbd_store *s)
{
    for (size_t i = 0; i < s->nclients; i++) {
        if (s->clients[i].state == CL_CLOSED) {
            free(s->clients[i].name);
            memmove(&s->clients[i], &s->clients[i + 1], (s->nclients - i - 1) * sizeof(client));
            s->nclients--;
            return true;
        }
    }
    return false;
}

static int client_new_locked(rbd_store *s, const char *node_ip, uint32_t nonce,
                             rbd_client_kind kind, const char *name, uint64_t *id)
{
    rbd_addr a;
    if (!node_ip || rbd_ip_parse(node_ip, &a) < 0 || strlen(node_ip) >= 64)
        return -EINVAL;
    if (s->nclients >= RBD_MAX_CLIENTS && !evict_closed(s))
        return -ENOSPC;
    client *c = &s->clients[s->nclients];
    memset(c, 0, sizeof(*c));
    c->name = strdup(name && *name ? name : "client.admin");
    if (!c->name)
        return -ENOMEM;
    c->id = s->next_client_id++;
    c->addr = a;
    c->addr.port = 0;
    while (!nonce)
        nonce = (uint32_t)rng_range(&s->rng, 1000000, UINT32_MAX);
    c->addr.nonce = nonce;
    snprintf(c->node, sizeof(c->node), "%s", node_ip);
    c->kind = kind;
    c->state = CL_ALIVE;
    c->next_cookie = 1;
    s->nclients++;
    *id = c->id;
    return 0;
}

int rbd_store_client_new(rbd_store *s, const char *node_ip, uint32_t nonce, rbd_client_kind kind,
                         const char *name, uint64_t *id)
{
    lock_s(s);
    int r = client_new_locked(s, node_ip, nonce, kind, name, id);
    unlock_s(s);
    return r;
}

static void unwatch_client(rbd_store *s, uint64_t id)
{
    for (size_t p = 0; p < s->npools; p++)
        for (size_t k = 0; k < s->pools[p]->nimages; k++) {
            image *im = s->pools[p]->images[k];
            for (size_t i = 0; i < im->nwatchers;)
                if (im->watchers[i].client == id)
                    watcher_remove(im, i);
                else
                    i++;
        }
}

static int set_state(rbd_store *s, uint64_t id, client_state st)
{
    lock_s(s);
    client *c = find_client(s, id);
    int r = c ? 0 : -ENOENT;
    if (c && c->state == CL_CLOSED && st != CL_CLOSED)
        r = -ESTALE;
    else if (c && c->state != st) {
        if (st == CL_DEAD)
            c->dead_mono_ns = now_mono(s);
        c->state = st;
        if (st == CL_CLOSED)
            unwatch_client(s, id);
    }
    unlock_s(s);
    return r;
}

int rbd_store_client_close(rbd_store *s, uint64_t id)
{
    return set_state(s, id, CL_CLOSED);
}

int rbd_store_client_dead(rbd_store *s, uint64_t id)
{
    return set_state(s, id, CL_DEAD);
}

int rbd_store_client_alive(rbd_store *s, uint64_t id)
{
    return set_state(s, id, CL_ALIVE);
}

static int node_state(rbd_store *s, const char *node_ip, client_state st)
{
    rbd_addr a;
    if (!node_ip || rbd_ip_parse(node_ip, &a) < 0)
        return -EINVAL;
    lock_s(s);
    int n = 0;
    int64_t mono = now_mono(s);
    for (size_t i = 0; i < s->nclients; i++) {
        client *c = &s->clients[i];
        if (strcmp(c->node, node_ip) != 0 || c->state == CL_CLOSED || c->state == st)
            continue;
        c->state = st;
        if (st == CL_DEAD)
            c->dead_mono_ns = mono;
        n++;
    }
    unlock_s(s);
    return n;
}

int rbd_store_node_dead(rbd_store *s, const char *node_ip)
{
    return node_state(s, node_ip, CL_DEAD);
}

int rbd_store_node_alive(rbd_store *s, const char *node_ip)
{
    return node_state(s, node_ip, CL_ALIVE);
}

static json_t *client_json(rbd_store *s, const client *c)
{
    char addr[RBD_ADDR_STR_MAX];
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:b}", "id", (json_int_t)c->id, "name",
                     c->name, "address", rbd_addr_format(&c->addr, addr, sizeof(addr)), "node",
                     c->node, "kind", kind_name(c->kind), "state", state_name(c->state),
                     "blocklisted", blocklisted_locked(s, &c->addr));
}

json_t *rbd_store_client_get(rbd_store *s, uint64_t id, int *r)
{
    lock_s(s);
    client *c = find_client(s, id);
    json_t *j = c ? client_json(s, c) : NULL;
    *r = c ? (j ? 0 : -ENOMEM) : -ENOENT;
    unlock_s(s);
    return j;
}

json_t *rbd_store_client_list(rbd_store *s)
{
    lock_s(s);
    json_t *a = json_array();
    for (size_t i = 0; a && i < s->nclients; i++)
        json_array_append_new(a, client_json(s, &s->clients[i]));
    unlock_s(s);
    return a;
}

static int client_check_locked(rbd_store *s, uint64_t id, client **out)
{
    client *c = find_client(s, id);
    if (!c || c->state == CL_CLOSED)
        return -ENOENT;
    if (blocklisted_locked(s, &c->addr))
        return -RBD_EBLOCKLISTED;
    if (out)
        *out = c;
    return 0;
}

int rbd_store_client_check(rbd_store *s, uint64_t id)
{
    lock_s(s);
    int r = client_check_locked(s, id, NULL);
    unlock_s(s);
    return r;
}

/* ---- cls_lock --------------------------------------------------------------------- */

/* locker_id_t order: entity (type, then number), then cookie. */
static int locker_cmp(const rbd_entity *e, const char *cookie, const locker *l)
{
    if (e->type != l->entity.type)
        return e->type < l->entity.type ? -1 : 1;
    if (e->num != l->entity.num)
        return e->num < l->entity.num ? -1 : 1;
    return strcmp(cookie, l->cookie);
}

int rbd_store_lock_add(rbd_store *s, const char *pool_name, const char *ns, const char *image_name,
                       const rbd_entity *who, const rbd_addr *addr, const char *cookie,
                       bool exclusive, const char *tag, const char *description)
{
    if (!who || !addr || !name_ok(cookie, true) || !name_ok(tag ? tag : "", true))
        return -EINVAL;
    if (description && strlen(description) >= RBD_NAME_MAX)
        return -EINVAL;
    const char *t = tag ? tag : "";
    lock_s(s);
    int r;
    image *im = find_image(s, pool_name, ns, image_name, &r);
    if (!im)
        goto out;
    /* cls_lock lock_obj, in its order. */
    if (im->nlockers && strcmp(t, im->tag) != 0) {
        r = -EBUSY;
        goto out;
    }
    size_t pos = 0;
    for (; pos < im->nlockers; pos++) {
        int c = locker_cmp(who, cookie, &im->lockers[pos]);
        if (c == 0) {
            r = -EEXIST;
            goto out;
        }
        if (c < 0)
            break;
    }
    if (im->nlockers && (exclusive || im->lock_type != 2)) {
        r = -EBUSY;
        goto out;
    }
    if (im->nlockers >= RBD_MAX_LOCKERS) {
        r = -ENOSPC;
        goto out;
    }
    char *ck = strdup(cookie), *ds = strdup(description ? description : ""), *tg = strdup(t);
    if (!ck || !ds || !tg) {
        free(ck);
        free(ds);
        free(tg);
        r = -ENOMEM;
        goto out;
    }
    memmove(&im->lockers[pos + 1], &im->lockers[pos], (im->nlockers - pos) * sizeof(locker));
    locker *l = &im->lockers[pos];
    memset(l, 0, sizeof(*l));
    l->entity = *who;
    l->cookie = ck;
    l->addr = *addr;
    l->description = ds;
    im->nlockers++;
    im->lock_type = exclusive ? 1 : 2;
    free(im->tag);
    im->tag = tg;
    r = 0;
out:
    unlock_s(s);
    return r;
}

int rbd_store_lock_break(rbd_store *s, const char *pool_name, const char *ns,
                         const char *image_name, const rbd_entity *who, const char *cookie)
{
    if (!who || !cookie)
        return -EINVAL;
    lock_s(s);
    int r;
    image *im = find_image(s, pool_name, ns, image_name, &r);
    if (im) {
        r = -ENOENT;
        for (size_t i = 0; i < im->nlockers; i++)
            if (locker_cmp(who, cookie, &im->lockers[i]) == 0) {
                locker_remove(im, i);
                r = 0;
                break;
            }
    }
    unlock_s(s);
    return r;
}

json_t *rbd_store_lock_get(rbd_store *s, const char *pool_name, const char *ns,
                           const char *image_name, int *r)
{
    lock_s(s);
    image *im = find_image(s, pool_name, ns, image_name, r);
    json_t *j = im ? lock_json(im) : NULL;
    unlock_s(s);
    return j;
}

/* ---- watchers ---------------------------------------------------------------------- */

static int watch_add_locked(rbd_store *s, image *im, client *c, uint64_t cookie,
                            uint64_t *cookie_out)
{
    if (!cookie)
        cookie = c->next_cookie;
    for (size_t i = 0; i < im->nwatchers; i++)
        if (im->watchers[i].client == c->id && im->watchers[i].cookie == cookie)
            return -EEXIST;
    if (im->nwatchers >= RBD_MAX_WATCHERS)
        return -ENOSPC;
    watcher *w = &im->watchers[im->nwatchers++];
    w->client = c->id;
    w->cookie = cookie;
    w->addr = c->addr;
    if (cookie >= c->next_cookie)
        c->next_cookie = cookie + 1;
    if (cookie_out)
        *cookie_out = cookie;
    return 0;
}

int rbd_store_watch_add(rbd_store *s, const char *pool_name, const char *ns, const char *image_name,
                        uint64_t id, uint64_t cookie, uint64_t *cookie_out)
{
    lock_s(s);
    int r;
    client *c = NULL;
    image *im = find_image(s, pool_name, ns, image_name, &r);
    if (im && (r = client_check_locked(s, id, &c)) == 0)
        r = watch_add_locked(s, im, c, cookie, cookie_out);
    unlock_s(s);
    return r;
}

int rbd_store_watch_del(rbd_store *s, const char *pool_name, const char *ns, const char *image_name,
                        uint64_t id, uint64_t cookie)
{
    lock_s(s);
    int r;
    image *im = find_image(s, pool_name, ns, image_name, &r);
    if (im) {
        r = -ENOENT;
        for (size_t i = 0; i < im->nwatchers; i++)
            if (im->watchers[i].client == id && (!cookie || im->watchers[i].cookie == cookie)) {
                watcher_remove(im, i);
                r = 0;
                break;
            }
    }
    unlock_s(s);
    return r;
}

int rbd_store_image_write(rbd_store *s, const char *pool_name, const char *ns,
                          const char *image_name, uint64_t id)
{
    lock_s(s);
    int r;
    client *c = NULL;
    image *im = find_image(s, pool_name, ns, image_name, &r);
    if (!im || (r = client_check_locked(s, id, &c)) < 0)
        goto out;
    const watcher *w = NULL;
    for (size_t i = 0; i < im->nwatchers; i++)
        if (im->watchers[i].client == id)
            w = &im->watchers[i];
    if (!w) {
        r = -ENOTCONN; /* writes need an open image (a watch) */
        goto out;
    }
    im->modify_ns = now_wall(s);
    if (!(im->features & RBD_FEATURE_EXCLUSIVE_LOCK)) {
        r = 0;
        goto out;
    }
    char cookie[48];
    snprintf(cookie, sizeof(cookie), "auto %" PRIu64, w->cookie);
    rbd_entity who = {RBD_ENT_CLIENT, (int64_t)id};
    for (size_t i = 0; i < im->nlockers; i++)
        if (locker_cmp(&who, cookie, &im->lockers[i]) == 0) {
            r = 0;
            goto out;
        }
    if (im->nlockers) {
        r = -EBUSY;
        goto out;
    }
    locker *l = &im->lockers[0];
    memset(l, 0, sizeof(*l));
    l->entity = who;
    l->cookie = strdup(cookie);
    l->description = strdup("");
    l->addr = c->addr;
    char *tg = strdup("internal");
    if (!l->cookie || !l->description || !tg) {
        locker_free(l);
        free(tg);
        r = -ENOMEM;
        goto out;
    }
    free(im->tag);
    im->tag = tg;
    im->lock_type = 1;
    im->nlockers = 1;
    r = 0;
out:
    unlock_s(s);
    return r;
}

/* ---- mappings --------------------------------------------------------------------- */

int rbd_store_map(rbd_store *s, const char *node_ip, const char *pool_name, const char *ns,
                  const char *image_name, const char *snap, bool read_only, int *dev_id,
                  uint64_t *client_out)
{
    lock_s(s);
    int r;
    uint64_t id = 0;
    image *im = find_image(s, pool_name, ns, image_name, &r);
    if (!im)
        goto out;
    if (s->nmaps >= RBD_MAX_MAPPINGS) {
        r = -ENOSPC;
        goto out;
    }
    r = client_new_locked(s, node_ip, 0, RBD_CLIENT_KRBD, "client.admin", &id);
    if (r < 0)
        goto out;
    client *c = find_client(s, id);
    uint64_t cookie = 0;
    r = watch_add_locked(s, im, c, 0, &cookie);
    if (r < 0) {
        c->state = CL_CLOSED;
        goto out;
    }
    int dev = 0;
    for (bool taken = true; taken; dev += taken) {
        taken = false;
        for (size_t i = 0; i < s->nmaps; i++)
            if (strcmp(s->maps[i].node, node_ip) == 0 && s->maps[i].dev_id == dev)
                taken = true;
    }
    mapping *m = &s->maps[s->nmaps];
    memset(m, 0, sizeof(*m));
    snprintf(m->node, sizeof(m->node), "%s", node_ip);
    m->dev_id = dev;
    m->pool = strdup(pool_name);
    m->ns = strdup(ns ? ns : "");
    m->image = strdup(image_name);
    m->snap = strdup(snap && *snap ? snap : "-");
    m->read_only = read_only;
    m->client = id;
    m->cookie = cookie;
    if (!m->pool || !m->ns || !m->image || !m->snap) {
        mapping_free(m);
        c->state = CL_CLOSED;
        unwatch_client(s, id);
        r = -ENOMEM;
        goto out;
    }
    s->nmaps++;
    *dev_id = dev;
    if (client_out)
        *client_out = id;
out:
    unlock_s(s);
    return r;
}

int rbd_store_unmap(rbd_store *s, const char *node_ip, int dev_id, const char *pool_name,
                    const char *ns, const char *image_name, const char *snap)
{
    lock_s(s);
    int r = -ENOENT;
    for (size_t i = 0; i < s->nmaps; i++) {
        mapping *m = &s->maps[i];
        if (strcmp(m->node, node_ip) != 0)
            continue;
        if (dev_id >= 0 && m->dev_id != dev_id)
            continue;
        if (dev_id < 0 &&
            (!pool_name || strcmp(m->pool, pool_name) != 0 || strcmp(m->ns, ns ? ns : "") != 0 ||
             !image_name || strcmp(m->image, image_name) != 0 ||
             strcmp(m->snap, snap && *snap ? snap : "-") != 0))
            continue;
        client *c = find_client(s, m->client);
        if (c) {
            c->state = CL_CLOSED;
            unwatch_client(s, c->id);
        }
        mapping_free(m);
        memmove(&s->maps[i], &s->maps[i + 1], (s->nmaps - i - 1) * sizeof(mapping));
        s->nmaps--;
        r = 0;
        break;
    }
    unlock_s(s);
    return r;
}

static int map_cmp(const void *a, const void *b)
{
    return ((const mapping *)a)->dev_id - ((const mapping *)b)->dev_id;
}

json_t *rbd_store_mappings(rbd_store *s, const char *node_ip)
{
    lock_s(s);
    json_t *a = json_array();
    mapping *v = calloc(s->nmaps + 1, sizeof(mapping));
    size_t n = 0;
    for (size_t i = 0; v && i < s->nmaps; i++)
        if (!node_ip || strcmp(s->maps[i].node, node_ip) == 0)
            v[n++] = s->maps[i];
    if (v)
        qsort(v, n, sizeof(*v), map_cmp);
    for (size_t i = 0; a && i < n; i++) {
        char dev[32];
        snprintf(dev, sizeof(dev), "/dev/rbd%d", v[i].dev_id);
        json_array_append_new(a, json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:s}", "id",
                                           v[i].dev_id, "pool", v[i].pool, "namespace", v[i].ns,
                                           "image", v[i].image, "snap", v[i].snap, "device", dev,
                                           "client", (json_int_t)v[i].client, "read_only",
                                           v[i].read_only, "node", v[i].node));
    }
    free(v);
    unlock_s(s);
    return a;
}

/* ---- blocklist --------------------------------------------------------------------- */

int rbd_store_blocklist_add(rbd_store *s, const rbd_addr *addr, bool range, int64_t expire_ns,
                            int64_t *until_wall_ns)
{
    if (!addr || (range && !rbd_addr_is_cidr(addr)))
        return -EINVAL;
    lock_s(s);
    int r = 0;
    int64_t until = now_wall(s) + (expire_ns < 0 ? s->blocklist_expire_ns : expire_ns);
    bl_entry *e = NULL;
    for (size_t i = 0; i < s->nblocklist; i++)
        if (s->blocklist[i].range == range && rbd_addr_eq(&s->blocklist[i].addr, addr))
            e = &s->blocklist[i];
    if (!e) {
        if (s->nblocklist >= RBD_MAX_BLOCKLIST) {
            r = -ENOSPC;
            goto out;
        }
        e = &s->blocklist[s->nblocklist++];
        e->addr = *addr;
        e->range = range;
    }
    e->until_wall_ns = until;
    if (until_wall_ns)
        *until_wall_ns = until;
out:
    unlock_s(s);
    if (r == 0)
        rbd_store_tick(s); /* drop the watches of the clients it fences */
    return r;
}

int rbd_store_blocklist_rm(rbd_store *s, const rbd_addr *addr, bool range)
{
    lock_s(s);
    int r = -ENOENT;
    for (size_t i = 0; i < s->nblocklist; i++)
        if (s->blocklist[i].range == range && rbd_addr_eq(&s->blocklist[i].addr, addr)) {
            memmove(&s->blocklist[i], &s->blocklist[i + 1],
                    (s->nblocklist - i - 1) * sizeof(bl_entry));
            s->nblocklist--;
            r = 0;
            break;
        }
    unlock_s(s);
    return r;
}

void rbd_store_blocklist_clear(rbd_store *s)
{
    lock_s(s);
    s->nblocklist = 0;
    unlock_s(s);
}

json_t *rbd_store_blocklist_list(rbd_store *s)
{
    lock_s(s);
    json_t *a = json_array();
    for (size_t i = 0; a && i < s->nblocklist; i++) {
        char addr[RBD_ADDR_STR_MAX];
        rbd_addr_format(&s->blocklist[i].addr, addr, sizeof(addr));
        json_array_append_new(a,
                              json_pack("{s:s, s:I}", s->blocklist[i].range ? "range" : "addr",
                                        addr, "until", (json_int_t)s->blocklist[i].until_wall_ns));
    }
    unlock_s(s);
    return a;
}

bool rbd_store_is_blocklisted(rbd_store *s, const rbd_addr *addr)
{
    lock_s(s);
    bool b = blocklisted_locked(s, addr);
    unlock_s(s);
    return b;
}

/* ---- audit ------------------------------------------------------------------------- */

uint64_t rbd_store_audit_add(rbd_store *s, json_t *entry)
{
    if (!entry)
        return 0;
    pthread_mutex_lock(&s->mu);
    uint64_t seq = ++s->audit_seq;
    json_object_set_new(entry, "seq", json_integer((json_int_t)seq));
    json_object_set_new(entry, "time", json_integer((json_int_t)now_wall(s)));
    if (s->audit_len == s->audit_cap) {
        json_decref(s->audit[s->audit_head]);
        s->audit_head = (s->audit_head + 1) % s->audit_cap;
        s->audit_len--;
        s->audit_dropped++;
    }
    s->audit[(s->audit_head + s->audit_len) % s->audit_cap] = entry;
    s->audit_len++;
    pthread_mutex_unlock(&s->mu);
    return seq;
}

json_t *rbd_store_audit_list(rbd_store *s, uint64_t since)
{
    pthread_mutex_lock(&s->mu);
    json_t *a = json_array();
    for (size_t i = 0; a && i < s->audit_len; i++) {
        json_t *e = s->audit[(s->audit_head + i) % s->audit_cap];
        if ((uint64_t)json_integer_value(json_object_get(e, "seq")) > since)
            json_array_append_new(a, json_deep_copy(e));
    }
    pthread_mutex_unlock(&s->mu);
    return a;
}

void rbd_store_audit_stats(rbd_store *s, uint64_t *last_seq, uint64_t *dropped)
{
    pthread_mutex_lock(&s->mu);
    if (last_seq)
        *last_seq = s->audit_seq;
    if (dropped)
        *dropped = s->audit_dropped;
    pthread_mutex_unlock(&s->mu);
}

/* ---- state ----------------------------------------------------------------------- */

json_t *rbd_store_state(rbd_store *s)
{
    json_t *bl = rbd_store_blocklist_list(s);
    json_t *clients = rbd_store_client_list(s);
    json_t *maps = rbd_store_mappings(s, NULL);
    lock_s(s);
    json_t *pools = json_array();
    for (size_t i = 0; pools && i < s->npools; i++) {
        pool *p = s->pools[i];
        json_t *nss = json_array(), *imgs = json_array();
        for (size_t k = 0; k < p->nns; k++)
            json_array_append_new(nss, json_string(p->ns[k]));
        for (size_t k = 0; k < p->nimages; k++)
            json_array_append_new(imgs, image_json(p, p->images[k]));
        json_array_append_new(pools,
                              json_pack("{s:s, s:I, s:o, s:o}", "name", p->name, "id",
                                        (json_int_t)p->id, "namespaces", nss, "images", imgs));
    }
    json_t *st = json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, s:I, s:I}", "release", s->release->name,
                           "next_client_id", (json_int_t)s->next_client_id, "pools", pools,
                           "clients", clients, "blocklist", bl, "mappings", maps, "audit_last_seq",
                           (json_int_t)s->audit_seq, "audit_dropped", (json_int_t)s->audit_dropped);
    unlock_s(s);
    return st;
}
