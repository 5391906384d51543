#include "apis_store.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rng.h"
#include "apis_patch.h"
#include "apis_status.h"

/* ---- blobs ---- */

struct apis_blob {
    int refs;
    size_t len;
    char data[];
};

static apis_blob *blob_new(const char *s, size_t len)
{
    apis_blob *b = malloc(sizeof(*b) + len + 1);
    if (!b)
        return NULL;
    b->refs = 1;
    b->len = len;
    memcpy(b->data, s, len);
    b->data[len] = '\0';
    return b;
}

static apis_blob *blob_of(const json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!s)
        return NULL;
    apis_blob *b = blob_new(s, strlen(s));
    free(s);
    return b;
}

const char *apis_blob_data(const apis_blob *b, size_t *len)
{
    if (len)
        *len = b->len;
    return b->data;
}

apis_blob *apis_blob_ref(apis_blob *b)
{
    if (b)
        __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
    return b;
}

void apis_blob_unref(apis_blob *b)
{
    if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free(b);
}

/* ---- state ---- */

enum { EV_ADDED = 0, EV_MODIFIED, EV_DELETED, EV_BOOKMARK, EV_ERROR };
static const char *const EV_NAMES[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};

typedef struct entry {
    char *key;   /* "ns/name" or "name" */
    json_t *obj; /* never modified once stored */
    apis_blob *blob;
    uint64_t rv;
} entry;

/* A write as watchers see it. Only touched under the store lock, except the
 * blobs, which are immutable and refcounted on their own. */
typedef struct event {
    int refs;
    int type;
    uint64_t rv;
    json_t *obj;  /* the new object (the deleted one for DELETED) */
    json_t *prev; /* MODIFIED: the object before */
    apis_blob *blob;
    apis_blob *prev_blob; /* lazily: prev with the event's resourceVersion */
} event;

typedef struct rstate {
    entry **v; /* sorted by key */
    size_t n, cap;
    event **hist; /* ring */
    size_t hstart, hcount;
    bool evicted;
    uint64_t floor0; /* oldest-1 before anything was evicted */
} rstate;

typedef struct qitem {
    int type;
    apis_blob *blob;
} qitem;

struct apis_watch {
    apis_store *s;
    const apis_res *r;
    char *ns, *name;
    apis_selector labels, fields;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    qitem *q; /* ring of qcap */
    size_t qcap, qhead, qn;
    qitem *init; /* replayed / synthetic events, delivered first */
    size_t ninit, init_pos;
    bool in_hub;
    bool overflow;
    bool closed;
    char *error_line; /* an ERROR event to send, then end */
    uint64_t sent;
    uint64_t drop_after;
    bool drop_abort;
    bool bookmarks;
    uint64_t progress_rv;
    uint64_t bookmark_rv;
    int64_t deadline;
    int64_t next_bookmark;
    int64_t bm_interval;
    efk_clock *clock;
};

struct apis_store {
    pthread_mutex_t mu;
    efk_clock *clock;
    const apis_persona *persona;
    rng rng;
    uint64_t rv;
    size_t nobjects;
    size_t history_cap, max_objects, max_watchers, queue_cap;
    unsigned long ip_seq;
    rstate res[APIS_NRES];
    apis_watch **watchers;
    size_t nwatchers;
    uint64_t overflows;
};

static void event_unref(event *e)
{
    if (!e || --e->refs > 0)
        return;
    json_decref(e->obj);
    json_decref(e->prev);
    apis_blob_unref(e->blob);
    apis_blob_unref(e->prev_blob);
    free(e);
}

static void entry_free(entry *e)
{
    if (!e)
        return;
    free(e->key);
    json_decref(e->obj);
    apis_blob_unref(e->blob);
    free(e);
}

bool apis_rv_parse(const char *s, uint64_t *out)
{
    if (!s || !*s || strlen(s) > 20)
        return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        uint64_t nv = v * 10 + (uint64_t)(*p - '0');
        if (nv / 10 != v)
            return false;
        v = nv;
    }
    *out = v;
    return true;
}

static json_t *status_err(json_t **status, json_t *st)
{
    if (status)
        *status = st;
    else
        json_decref(st);
    return NULL;
}

#define FAIL(st)                                                                                   \
    do {                                                                                           \
        json_t *st_ = (st);                                                                        \
        int code_ = apis_status_code(st_);                                                         \
        status_err(status, st_);                                                                   \
        return code_;                                                                              \
    } while (0)

/* ---- keys and lookup ---- */

static char *make_key(const apis_res *r, const char *ns, const char *name)
{
    size_t n = strlen(name) + (r->namespaced ? strlen(ns ? ns : "") + 1 : 0) + 1;
    char *k = malloc(n);
    if (!k)
        return NULL;
    if (r->namespaced)
        snprintf(k, n, "%s/%s", ns ? ns : "", name);
    else
        snprintf(k, n, "%s", name);
    return k;
}

/* Index of the first entry with key >= k. */
static size_t lower_bound(const rstate *rs, const char *k)
{
    size_t lo = 0, hi = rs->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(rs->v[mid]->key, k) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static entry *find(apis_store *s, const apis_res *r, const char *ns, const char *name, size_t *pos)
{
    char *k = make_key(r, ns, name);
    if (!k)
        return NULL;
    rstate *rs = &s->res[r->idx];
    size_t i = lower_bound(rs, k);
    entry *e = (i < rs->n && strcmp(rs->v[i]->key, k) == 0) ? rs->v[i] : NULL;
    if (pos)
        *pos = i;
    free(k);
    return e;
}

static int insert_at(rstate *rs, size_t i, entry *e)
{
    if (rs->n == rs->cap) {
        size_t nc = rs->cap ? rs->cap * 2 : 64;
        entry **nv = realloc(rs->v, nc * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        rs->v = nv;
        rs->cap = nc;
    }
    memmove(rs->v + i + 1, rs->v + i, (rs->n - i) * sizeof(*rs->v));
    rs->v[i] = e;
    rs->n++;
    return 0;
}

static void remove_at(rstate *rs, size_t i)
{
    memmove(rs->v + i, rs->v + i + 1, (rs->n - i - 1) * sizeof(*rs->v));
    rs->n--;
}

/* ---- canonical objects ---- */

/* Keys in the order the Go types serialize them: kind, apiVersion,
 * metadata (its fields in ObjectMeta order), spec, the rest, status. */
static json_t *canon(const json_t *obj)
{
    json_t *o = json_object();
    json_t *v;
    if ((v = json_object_get(obj, "kind")))
        json_object_set(o, "kind", v);
    if ((v = json_object_get(obj, "apiVersion")))
        json_object_set(o, "apiVersion", v);
    json_t *md = json_object_get(obj, "metadata");
    if (json_is_object(md)) {
        json_t *m = json_object();
        for (int i = 0; APIS_META_FIELDS[i]; i++)
            if ((v = json_object_get(md, APIS_META_FIELDS[i])))
                json_object_set(m, APIS_META_FIELDS[i], v);
        const char *k;
        json_object_foreach(md, k, v)
        {
            if (!json_object_get(m, k))
                json_object_set(m, k, v);
        }
        json_object_set_new(o, "metadata", m);
    }
    if ((v = json_object_get(obj, "spec")))
        json_object_set(o, "spec", v);
    const char *k;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (!json_object_get(o, k) && strcmp(k, "status") != 0)
            json_object_set(o, k, v);
    }
    if ((v = json_object_get(obj, "status")))
        json_object_set(o, "status", v);
    return o;
}

static json_t *meta_of(json_t *obj)
{
    json_t *md = json_object_get(obj, "metadata");
    if (!json_is_object(md)) {
        md = json_object();
        json_object_set_new(obj, "metadata", md);
    }
    return md;
}

static const char *str_at(const json_t *obj, const char *k1, const char *k2)
{
    const json_t *v = json_object_get(obj, k1);
    if (k2)
        v = json_object_get(v, k2);
    return json_string_value(v);
}

static void set_rv(json_t *obj, uint64_t rv)
{
    char b[24];
    snprintf(b, sizeof(b), "%" PRIu64, rv);
    json_object_set_new(meta_of(obj), "resourceVersion", json_string(b));
}

static void now_rfc3339(apis_store *s, char *out)
{
    clock_format_rfc3339(clock_wall_ns(s->clock), 0, out);
}

static void new_uid(apis_store *s, char *out)
{
    uint64_t a = rng_next(&s->rng), b = rng_next(&s->rng);
    unsigned char x[16];
    memcpy(x, &a, 8);
    memcpy(x + 8, &b, 8);
    x[6] = (unsigned char)((x[6] & 0x0f) | 0x40);
    x[8] = (unsigned char)((x[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", x[0],
             x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10], x[11], x[12], x[13],
             x[14], x[15]);
}

static void self_link(apis_store *s, const apis_res *r, json_t *obj, const char *ns,
                      const char *name)
{
    /* selfLink was set until 1.20 (deprecated in 1.16, gone with 1.20). */
    if (s->persona->minor >= 20)
        return;
    char link[1024];
    if (r->namespaced)
        snprintf(link, sizeof(link), "/api/v1/namespaces/%s/%s/%s", ns, r->name, name);
    else
        snprintf(link, sizeof(link), "/api/v1/%s/%s", r->name, name);
    json_object_set_new(meta_of(obj), "selfLink", json_string(link));
}

/* ---- watch plumbing (store lock held) ---- */

static bool watch_matches(const apis_watch *w, const json_t *obj)
{
    if (!obj)
        return false;
    const json_t *md = json_object_get(obj, "metadata");
    if (w->ns) {
        const char *ns = json_string_value(json_object_get(md, "namespace"));
        if (!ns || strcmp(ns, w->ns) != 0)
            return false;
    }
    if (w->name) {
        const char *n = json_string_value(json_object_get(md, "name"));
        if (!n || strcmp(n, w->name) != 0)
            return false;
    }
    if (w->labels.n && !apis_label_selector_match(&w->labels, obj))
        return false;
    if (w->fields.n && !apis_field_selector_match(&w->fields, w->r, obj))
        return false;
    return true;
}

/* Which event a watcher sees for a write, as the cacher decides it: an object
 * that starts matching is ADDED, one that stops matching is DELETED (its old
 * content with the new resourceVersion). Returns -1 for nothing. */
static int event_for(apis_watch *w, event *ev, apis_blob **blob)
{
    bool cur = ev->type != EV_DELETED && watch_matches(w, ev->obj);
    bool old = false;
    if (ev->type == EV_MODIFIED)
        old = watch_matches(w, ev->prev);
    else if (ev->type == EV_DELETED)
        old = watch_matches(w, ev->obj);
    if (cur && !old) {
        *blob = ev->blob;
        return EV_ADDED;
    }
    if (cur && old) {
        *blob = ev->blob;
        return EV_MODIFIED;
    }
    if (!cur && old) {
        if (ev->type == EV_DELETED) {
            *blob = ev->blob;
        } else {
            if (!ev->prev_blob) {
                json_t *c = json_deep_copy(ev->prev);
                set_rv(c, ev->rv);
                ev->prev_blob = blob_of(c);
                json_decref(c);
            }
            *blob = ev->prev_blob;
        }
        return *blob ? EV_DELETED : -1;
    }
    return -1;
}

static void hub_remove(apis_store *s, apis_watch *w)
{
    for (size_t i = 0; i < s->nwatchers; i++) {
        if (s->watchers[i] == w) {
            s->watchers[i] = s->watchers[--s->nwatchers];
            break;
        }
    }
    w->in_hub = false;
}

static void publish(apis_store *s, const apis_res *r, event *ev)
{
    rstate *rs = &s->res[r->idx];
    /* history */
    if (rs->hcount == s->history_cap) {
        event_unref(rs->hist[rs->hstart]);
        rs->hstart = (rs->hstart + 1) % s->history_cap;
        rs->hcount--;
        rs->evicted = true;
    }
    rs->hist[(rs->hstart + rs->hcount) % s->history_cap] = ev;
    rs->hcount++;
    ev->refs++;
    /* watchers */
    for (size_t i = 0; i < s->nwatchers;) {
        apis_watch *w = s->watchers[i];
        if (w->r != r) {
            i++;
            continue;
        }
        apis_blob *b = NULL;
        int t = event_for(w, ev, &b);
        pthread_mutex_lock(&w->mu);
        bool cut = false;
        if (t >= 0) {
            if (w->qn == w->qcap) {
                w->overflow = true;
                cut = true;
            } else {
                qitem *it = &w->q[(w->qhead + w->qn) % w->qcap];
                it->type = t;
                it->blob = apis_blob_ref(b);
                w->qn++;
            }
        }
        if (!cut)
            w->progress_rv = ev->rv;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
        if (cut) {
            s->overflows++;
            hub_remove(s, w); /* swaps the last one into i */
        } else {
            i++;
        }
    }
}

static event *event_new(int type, uint64_t rv, json_t *obj, json_t *prev, apis_blob *blob)
{
    event *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->refs = 1;
    e->type = type;
    e->rv = rv;
    e->obj = json_incref(obj);
    e->prev = json_incref(prev);
    e->blob = apis_blob_ref(blob);
    return e;
}

static void emit(apis_store *s, const apis_res *r, int type, uint64_t rv, json_t *obj, json_t *prev,
                 apis_blob *blob)
{
    event *e = event_new(type, rv, obj, prev, blob);
    if (!e)
        return;
    publish(s, r, e);
    event_unref(e);
}

/* ---- store life ---- */

static int create_locked(apis_store *s, const apis_res *r, const char *ns, const json_t *in,
                         apis_origin origin, json_t **out, json_t **status);

apis_store *apis_store_new(const apis_store_config *cfg)
{
    apis_store *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    s->clock = cfg->clock;
    s->persona = cfg->persona ? cfg->persona : apis_persona_default();
    rng_init(&s->rng, cfg->seed, "apiserver.store");
    s->history_cap = cfg->history_cap ? cfg->history_cap : APIS_DEFAULT_HISTORY;
    s->max_objects = cfg->max_objects ? cfg->max_objects : APIS_DEFAULT_MAX_OBJECTS;
    s->max_watchers = cfg->max_watchers ? cfg->max_watchers : APIS_DEFAULT_MAX_WATCHERS;
    s->queue_cap = cfg->watch_queue_cap ? cfg->watch_queue_cap : APIS_DEFAULT_WATCH_QUEUE;
    s->watchers = calloc(s->max_watchers, sizeof(*s->watchers));
    bool ok = s->watchers != NULL;
    for (int i = 0; ok && i < APIS_NRES; i++) {
        s->res[i].hist = calloc(s->history_cap, sizeof(event *));
        ok = s->res[i].hist != NULL;
    }
    if (!ok) {
        apis_store_free(s);
        return NULL;
    }
    if (cfg->default_namespaces) {
        static const char *const NS[] = {"default", "kube-node-lease", "kube-public",
                                         "kube-system"};
        for (size_t i = 0; i < 4; i++) {
            json_t *o = json_pack("{s:{s:s}}", "metadata", "name", NS[i]);
            json_t *st = NULL;
            pthread_mutex_lock(&s->mu);
            int rc = create_locked(s, apis_res_at(0), NULL, o, APIS_ORIGIN_SEED, NULL, &st);
            pthread_mutex_unlock(&s->mu);
            json_decref(st);
            json_decref(o);
            if (rc) {
                apis_store_free(s);
                return NULL;
            }
        }
    }
    return s;
}

void apis_store_free(apis_store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nwatchers; i++) {
        apis_watch *w = s->watchers[i];
        pthread_mutex_lock(&w->mu);
        w->closed = true;
        w->in_hub = false;
        w->s = NULL;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
    s->nwatchers = 0;
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < APIS_NRES; i++) {
        rstate *rs = &s->res[i];
        for (size_t k = 0; k < rs->n; k++)
            entry_free(rs->v[k]);
        free(rs->v);
        for (size_t k = 0; rs->hist && k < rs->hcount; k++)
            event_unref(rs->hist[(rs->hstart + k) % s->history_cap]);
        free(rs->hist);
    }
    free(s->watchers);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

uint64_t apis_store_rv(apis_store *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t v = s->rv;
    pthread_mutex_unlock(&s->mu);
    return v;
}

size_t apis_store_count(apis_store *s, const apis_res *r)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->res[r->idx].n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

size_t apis_store_watchers(apis_store *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->nwatchers;
    pthread_mutex_unlock(&s->mu);
    return n;
}

uint64_t apis_store_watch_overflows(apis_store *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t n = s->overflows;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* ---- validation shared by create and update ---- */

/* apiVersion and kind, when given, must be those of the resource. */
static json_t *check_type(const apis_res *r, const json_t *obj)
{
    const char *av = str_at(obj, "apiVersion", NULL);
    const char *kind = str_at(obj, "kind", NULL);
    char msg[600];
    if (json_object_get(obj, "apiVersion") && !av) {
        snprintf(msg, sizeof(msg),
                 "%s in version \"v1\" cannot be handled as a %s: json: cannot unmarshal %s into "
                 "Go struct field %s.apiVersion of type string",
                 r->kind, r->kind, "number", r->kind);
        return apis_err_bad_request(msg);
    }
    if (av && strcmp(av, "v1") != 0) {
        snprintf(msg, sizeof(msg),
                 "the API version in the data (%s) does not match the expected API version (v1)",
                 av);
        return apis_err_bad_request(msg);
    }
    if (kind && strcmp(kind, r->kind) != 0) {
        snprintf(msg, sizeof(msg),
                 "%s in version \"v1\" cannot be handled as a %s: converting (v1.%s) to (core.%s): "
                 "unknown conversion",
                 kind, r->kind, kind, r->kind);
        return apis_err_bad_request(msg);
    }
    json_t *md = json_object_get(obj, "metadata");
    if (md && !json_is_object(md)) {
        snprintf(msg, sizeof(msg),
                 "%s in version \"v1\" cannot be handled as a %s: json: cannot unmarshal %s into "
                 "Go struct field %s.metadata of type v1.ObjectMeta",
                 r->kind, r->kind, json_is_array(md) ? "array" : "string", r->kind);
        return apis_err_bad_request(msg);
    }
    if (md) {
        static const char *const STR_FIELDS[] = {
            "name", "namespace", "generateName", "resourceVersion", "uid", NULL};
        for (int i = 0; STR_FIELDS[i]; i++) {
            json_t *v = json_object_get(md, STR_FIELDS[i]);
            if (v && !json_is_string(v)) {
                snprintf(msg, sizeof(msg),
                         "%s in version \"v1\" cannot be handled as a %s: json: cannot unmarshal "
                         "%s into Go struct field ObjectMeta.metadata.%s of type string",
                         r->kind, r->kind, json_is_integer(v) ? "number" : "object", STR_FIELDS[i]);
                return apis_err_bad_request(msg);
            }
        }
        const char *maps[] = {"labels", "annotations"};
        for (int i = 0; i < 2; i++) {
            json_t *m = json_object_get(md, maps[i]);
            if (!m || json_is_null(m))
                continue;
            bool ok = json_is_object(m);
            const char *k;
            json_t *v;
            if (ok)
                json_object_foreach(m, k, v) if (!json_is_string(v)) ok = false;
            if (!ok) {
                snprintf(msg, sizeof(msg),
                         "%s in version \"v1\" cannot be handled as a %s: json: cannot unmarshal "
                         "%s into Go struct field ObjectMeta.metadata.%s of type %s",
                         r->kind, r->kind, json_is_object(m) ? "number" : "array", maps[i],
                         json_is_object(m) ? "string" : "map[string]string");
                return apis_err_bad_request(msg);
            }
        }
    }
    return NULL;
}

/* Label keys and values as ValidateLabels checks them. */
static json_t *check_labels(const apis_res *r, const char *name, const json_t *obj)
{
    json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
    if (!json_is_object(labels))
        return NULL;
    json_t *causes = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v)
    {
        char sel[1200], err[600];
        apis_selector tmp;
        snprintf(sel, sizeof(sel), "%s", k);
        if (apis_label_selector_parse(sel, &tmp, err, sizeof(err)) || tmp.n != 1 ||
            tmp.reqs[0].op != APIS_OP_EXISTS) {
            char field[700];
            snprintf(field, sizeof(field), "metadata.labels");
            json_array_append_new(
                causes, apis_cause_new("FieldValueInvalid", field, k,
                                       "name part must consist of alphanumeric characters, '-', "
                                       "'_' or '.', and must start and end with an alphanumeric "
                                       "character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
                                       "regex used for validation is "
                                       "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"));
        }
        if (tmp.n)
            apis_selector_cleanup(&tmp);
        const char *val = json_string_value(v);
        snprintf(sel, sizeof(sel), "a=%s", val);
        if (strlen(val) > 63 || apis_label_selector_parse(sel, &tmp, err, sizeof(err))) {
            char field[700];
            snprintf(field, sizeof(field), "metadata.labels");
            json_array_append_new(
                causes, apis_cause_new("FieldValueInvalid", field, val,
                                       strlen(val) > 63
                                           ? "must be no more than 63 characters"
                                           : "a valid label must be an empty string or consist of "
                                             "alphanumeric characters, '-', '_' or '.', and must "
                                             "start and end with an alphanumeric character (e.g. "
                                             "'MyValue',  or 'my_value',  or '12345', regex used "
                                             "for validation is "
                                             "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
        } else {
            apis_selector_cleanup(&tmp);
        }
    }
    if (json_array_size(causes) == 0) {
        json_decref(causes);
        return NULL;
    }
    return apis_err_invalid(r->kind, name, causes);
}

static json_t *check_object_size(apis_store *s, apis_blob *b)
{
    (void)s;
    if (b->len > APIS_DEFAULT_MAX_OBJECT_BYTES)
        return apis_status_new(413, "RequestEntityTooLarge",
                               "Request entity too large: etcdserver: request is too large", NULL);
    return NULL;
}

/* ---- create ---- */

static const char GEN_CHARS[] = "bcdfghjklmnpqrstvwxz2456789";

static int create_locked(apis_store *s, const apis_res *r, const char *ns, const json_t *in,
                         apis_origin origin, json_t **out, json_t **status)
{
    json_t *st;
    if (!json_is_object(in))
        FAIL(apis_err_bad_request("the object provided is unrecognized"));
    if ((st = check_type(r, in)))
        FAIL(st);
    const json_t *md_in = json_object_get(in, "metadata");
    const char *name = str_at(md_in, "name", NULL);
    const char *gen = str_at(md_in, "generateName", NULL);
    const char *obj_ns = str_at(md_in, "namespace", NULL);
    char genbuf[300];
    if ((!name || !*name) && gen && *gen) {
        snprintf(genbuf, sizeof(genbuf), "%.*s", 58, gen);
        size_t l = strlen(genbuf);
        for (int i = 0; i < 5; i++)
            genbuf[l + (size_t)i] = GEN_CHARS[rng_next(&s->rng) % (sizeof(GEN_CHARS) - 1)];
        genbuf[l + 5] = '\0';
        name = genbuf;
    }
    if (!name || !*name) {
        json_t *c = json_array();
        json_array_append_new(c, apis_cause_new("FieldValueRequired", "metadata.name", "",
                                                "name or generateName is required"));
        FAIL(apis_err_invalid(r->kind, "", c));
    }
    if (r->namespaced) {
        if (!ns || !*ns)
            ns = obj_ns && *obj_ns ? obj_ns : "default";
        if (obj_ns && *obj_ns && strcmp(obj_ns, ns) != 0)
            FAIL(apis_err_bad_request("the namespace of the provided object does not match the "
                                      "namespace sent on the request"));
    }
    const char *nerr = apis_res_name_error(r, name);
    if (nerr) {
        json_t *c = json_array();
        json_array_append_new(c, apis_cause_new("FieldValueInvalid", "metadata.name", name, nerr));
        FAIL(apis_err_invalid(r->kind, name, c));
    }
    if ((st = check_labels(r, name, in)))
        FAIL(st);
    if (r->namespaced && !find(s, apis_res_at(0), NULL, ns, NULL)) {
        if (origin == APIS_ORIGIN_API)
            FAIL(apis_err_not_found("namespaces", ns));
        const char *nserr = apis_res_ns_name_error(ns);
        if (nserr) {
            json_t *c = json_array();
            json_array_append_new(
                c, apis_cause_new("FieldValueInvalid", "metadata.namespace", ns, nserr));
            FAIL(apis_err_invalid(r->kind, name, c));
        }
        json_t *nso = json_pack("{s:{s:s}}", "metadata", "name", ns);
        int rc = create_locked(s, apis_res_at(0), NULL, nso, APIS_ORIGIN_SEED, NULL, status);
        json_decref(nso);
        if (rc)
            return rc;
    }
    size_t pos;
    if (find(s, r, ns, name, &pos))
        FAIL(apis_err_already_exists(r->name, name));
    if (s->nobjects >= s->max_objects)
        FAIL(apis_err_internal("etcdserver: mvcc: database space exceeded"));

    json_t *obj = json_deep_copy(in);
    json_object_set_new(obj, "kind", json_string(r->kind));
    json_object_set_new(obj, "apiVersion", json_string("v1"));
    json_t *md = meta_of(obj);
    json_object_set_new(md, "name", json_string(name));
    if (r->namespaced)
        json_object_set_new(md, "namespace", json_string(ns));
    else
        json_object_del(md, "namespace");
    char uid[40], ts[48];
    new_uid(s, uid);
    now_rfc3339(s, ts);
    json_object_set_new(md, "uid", json_string(uid));
    json_object_set_new(md, "generation", json_integer(1));
    json_object_set_new(md, "creationTimestamp", json_string(ts));
    json_object_del(md, "deletionTimestamp");
    json_object_del(md, "deletionGracePeriodSeconds");
    json_object_del(md, "selfLink");
    json_object_del(md, "managedFields");
    if (json_is_null(json_object_get(md, "labels")))
        json_object_del(md, "labels");
    if (json_is_null(json_object_get(md, "annotations")))
        json_object_del(md, "annotations");
    if (r->idx == 1 || r->idx == 2)
        s->ip_seq++;
    apis_res_defaults(r, obj, s->ip_seq, origin == APIS_ORIGIN_API, s->persona->ns_name_label);
    self_link(s, r, obj, ns, name);
    uint64_t rv = s->rv + 1;
    set_rv(obj, rv);
    json_t *c = canon(obj);
    json_decref(obj);
    apis_blob *b = blob_of(c);
    if (!b) {
        json_decref(c);
        FAIL(apis_err_internal("out of memory"));
    }
    if ((st = check_object_size(s, b))) {
        apis_blob_unref(b);
        json_decref(c);
        FAIL(st);
    }
    entry *e = calloc(1, sizeof(*e));
    char *key = make_key(r, ns, name);
    if (!e || !key || insert_at(&s->res[r->idx], pos, e)) {
        free(e);
        free(key);
        apis_blob_unref(b);
        json_decref(c);
        FAIL(apis_err_internal("out of memory"));
    }
    e->key = key;
    e->obj = c;
    e->blob = b;
    e->rv = rv;
    s->rv = rv;
    s->nobjects++;
    emit(s, r, EV_ADDED, rv, c, NULL, b);
    if (out)
        *out = json_deep_copy(c);
    return 0;
}

int apis_store_create(apis_store *s, const apis_res *r, const char *ns, const json_t *obj,
                      apis_origin origin, json_t **out, json_t **status)
{
    pthread_mutex_lock(&s->mu);
    int rc = create_locked(s, r, ns, obj, origin, out, status);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---- update ---- */

/* Everything but metadata and status: a change there bumps generation. */
static bool spec_changed(const json_t *a, const json_t *b)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v)
    {
        if (!strcmp(k, "metadata") || !strcmp(k, "status") || !strcmp(k, "kind") ||
            !strcmp(k, "apiVersion"))
            continue;
        if (!json_equal(v, json_object_get(b, k)))
            return true;
    }
    json_object_foreach((json_t *)b, k, v)
    {
        if (!strcmp(k, "metadata") || !strcmp(k, "status") || !strcmp(k, "kind") ||
            !strcmp(k, "apiVersion"))
            continue;
        if (!json_object_get(a, k))
            return true;
    }
    return false;
}

static int update_locked(apis_store *s, const apis_res *r, const char *ns, const char *name,
                         const json_t *in, apis_origin origin, bool status_sub, json_t **out,
                         json_t **status)
{
    json_t *st;
    if (!json_is_object(in))
        FAIL(apis_err_bad_request("the object provided is unrecognized"));
    if ((st = check_type(r, in)))
        FAIL(st);
    const json_t *md_in = json_object_get(in, "metadata");
    const char *obj_name = str_at(md_in, "name", NULL);
    const char *obj_ns = str_at(md_in, "namespace", NULL);
    char msg[1200];
    if (!obj_name || strcmp(obj_name, name) != 0) {
        snprintf(msg, sizeof(msg),
                 "the name of the object (%s) does not match the name on the URL (%s)",
                 obj_name ? obj_name : "", name);
        FAIL(apis_err_bad_request(msg));
    }
    if (r->namespaced && obj_ns && *obj_ns && strcmp(obj_ns, ns) != 0)
        FAIL(apis_err_bad_request("the namespace of the provided object does not match the "
                                  "namespace sent on the request"));
    size_t pos;
    entry *old = find(s, r, ns, name, &pos);
    if (!old)
        FAIL(apis_err_not_found(r->name, name));
    const char *want_rv = str_at(md_in, "resourceVersion", NULL);
    if (want_rv && *want_rv) {
        uint64_t w;
        if (!apis_rv_parse(want_rv, &w)) {
            json_t *c = json_array();
            json_array_append_new(c, apis_cause_new("FieldValueInvalid", "metadata.resourceVersion",
                                                    want_rv, "must be specified for an update"));
            FAIL(apis_err_invalid(r->kind, name, c));
        }
        if (w != old->rv)
            FAIL(apis_err_conflict(r->name, name));
    }
    if ((st = check_labels(r, name, in)))
        FAIL(st);
    json_t *obj;
    if (status_sub) {
        /* /status: only the status of the request is taken. */
        obj = json_deep_copy(old->obj);
        json_t *nst = json_object_get(in, "status");
        if (nst)
            json_object_set_new(obj, "status", json_deep_copy(nst));
        else
            json_object_del(obj, "status");
    } else {
        obj = json_deep_copy(in);
        /* The main resource does not change status for kinds with a /status
         * subresource, when the write came over the API. */
        if (origin == APIS_ORIGIN_API && r->status_sub) {
            json_t *ost = json_object_get(old->obj, "status");
            if (ost)
                json_object_set_new(obj, "status", json_deep_copy(ost));
            else
                json_object_del(obj, "status");
        }
    }
    json_object_set_new(obj, "kind", json_string(r->kind));
    json_object_set_new(obj, "apiVersion", json_string("v1"));
    json_t *md = meta_of(obj);
    json_t *omd = json_object_get(old->obj, "metadata");
    static const char *const KEEP[] = {"name",
                                       "namespace",
                                       "uid",
                                       "creationTimestamp",
                                       "deletionTimestamp",
                                       "deletionGracePeriodSeconds",
                                       "selfLink",
                                       NULL};
    for (int i = 0; KEEP[i]; i++) {
        json_t *v = json_object_get(omd, KEEP[i]);
        if (v)
            json_object_set(md, KEEP[i], v);
        else
            json_object_del(md, KEEP[i]);
    }
    json_object_del(md, "managedFields");
    if (json_is_null(json_object_get(md, "labels")))
        json_object_del(md, "labels");
    if (json_is_null(json_object_get(md, "annotations")))
        json_object_del(md, "annotations");
    if (origin == APIS_ORIGIN_API)
        apis_res_defaults(r, obj, s->ip_seq, false, s->persona->ns_name_label);
    /* keep an allocated cluster IP */
    if (r->idx == 2) {
        json_t *spec = json_object_get(obj, "spec");
        json_t *ospec = json_object_get(old->obj, "spec");
        if (json_is_object(spec) && json_object_get(ospec, "clusterIP") &&
            !json_object_get(spec, "clusterIP"))
            json_object_set(spec, "clusterIP", json_object_get(ospec, "clusterIP"));
    }
    json_int_t gen = json_integer_value(json_object_get(omd, "generation"));
    if (spec_changed(old->obj, obj))
        gen++;
    json_object_set_new(md, "generation", json_integer(gen));
    set_rv(obj, old->rv);
    json_t *c = canon(obj);
    json_decref(obj);
    if (json_equal(c, old->obj)) {
        /* A no-op update: etcd is not written, the version stays. */
        if (out)
            *out = json_deep_copy(old->obj);
        json_decref(c);
        return 0;
    }
    uint64_t rv = s->rv + 1;
    set_rv(c, rv);
    apis_blob *b = blob_of(c);
    if (!b) {
        json_decref(c);
        FAIL(apis_err_internal("out of memory"));
    }
    if ((st = check_object_size(s, b))) {
        apis_blob_unref(b);
        json_decref(c);
        FAIL(st);
    }
    json_t *prev = old->obj;
    apis_blob_unref(old->blob);
    old->obj = c;
    old->blob = b;
    old->rv = rv;
    s->rv = rv;
    emit(s, r, EV_MODIFIED, rv, c, prev, b);
    json_decref(prev);
    if (out)
        *out = json_deep_copy(c);
    return 0;
}

int apis_store_update(apis_store *s, const apis_res *r, const char *ns, const char *name,
                      const json_t *obj, apis_origin origin, bool status_sub, json_t **out,
                      json_t **status)
{
    pthread_mutex_lock(&s->mu);
    int rc = update_locked(s, r, ns, name, obj, origin, status_sub, out, status);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int apis_store_patch(apis_store *s, const apis_res *r, const char *ns, const char *name,
                     apis_patch_type type, const json_t *patch, bool status_sub, json_t **out,
                     json_t **status)
{
    pthread_mutex_lock(&s->mu);
    int rc;
    entry *old = find(s, r, ns, name, NULL);
    if (!old) {
        pthread_mutex_unlock(&s->mu);
        FAIL(apis_err_not_found(r->name, name));
    }
    json_t *patched = NULL;
    char err[600] = "";
    switch (type) {
    case APIS_PATCH_MERGE:
        if (!json_is_object(patch)) {
            pthread_mutex_unlock(&s->mu);
            FAIL(apis_err_bad_request("json: cannot unmarshal array into Go value of type "
                                      "map[string]interface {}"));
        }
        patched = apis_merge_patch(old->obj, patch);
        break;
    case APIS_PATCH_STRATEGIC:
        if (apis_strategic_merge(old->obj, patch, &patched, err, sizeof(err))) {
            pthread_mutex_unlock(&s->mu);
            FAIL(apis_err_bad_request(err));
        }
        break;
    case APIS_PATCH_JSON:
        if (apis_json_patch(old->obj, patch, &patched, err, sizeof(err))) {
            pthread_mutex_unlock(&s->mu);
            /* a json-patch that does not apply: 422, the generic sentence,
             * the patcher's reason as the cause */
            json_t *d = json_object();
            json_object_set_new(d, "causes", json_pack("[{s:s}]", "message", err));
            FAIL(apis_status_new(422, "Invalid",
                                 "the server rejected our request due to an error in our request",
                                 d));
        }
        break;
    }
    if (!json_is_object(patched)) {
        json_decref(patched);
        pthread_mutex_unlock(&s->mu);
        FAIL(apis_err_bad_request("the patch produced something that is not an object"));
    }
    /* The patched object carries the current resourceVersion unless the
     * patch put one in (a precondition) or removed it (unconditional). */
    if (!str_at(json_object_get(patched, "metadata"), "resourceVersion", NULL)) {
        char b[24];
        snprintf(b, sizeof(b), "%" PRIu64, old->rv);
        json_object_set_new(meta_of(patched), "resourceVersion", json_string(b));
    }
    /* A patch cannot rename. */
    const char *pn = str_at(json_object_get(patched, "metadata"), "name", NULL);
    if (!pn || strcmp(pn, name) != 0) {
        json_decref(patched);
        pthread_mutex_unlock(&s->mu);
        char msg[1200];
        snprintf(msg, sizeof(msg),
                 "the name of the object (%s) does not match the name on the URL (%s)",
                 pn ? pn : "", name);
        FAIL(apis_err_bad_request(msg));
    }
    rc = update_locked(s, r, ns, name, patched, APIS_ORIGIN_API, status_sub, out, status);
    json_decref(patched);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---- delete ---- */

static void delete_entry_locked(apis_store *s, const apis_res *r, size_t pos, json_t **deleted)
{
    rstate *rs = &s->res[r->idx];
    entry *e = rs->v[pos];
    remove_at(rs, pos);
    s->nobjects--;
    uint64_t rv = ++s->rv;
    json_t *obj = json_deep_copy(e->obj);
    set_rv(obj, rv);
    if (r->idx == 0) {
        char ts[48];
        now_rfc3339(s, ts);
        json_object_set_new(meta_of(obj), "deletionTimestamp", json_string(ts));
        json_t *st = json_object_get(obj, "status");
        if (json_is_object(st))
            json_object_set_new(st, "phase", json_string("Terminating"));
    }
    json_t *c = canon(obj);
    json_decref(obj);
    apis_blob *b = blob_of(c);
    if (b)
        emit(s, r, EV_DELETED, rv, c, NULL, b);
    apis_blob_unref(b);
    if (deleted)
        *deleted = c;
    else
        json_decref(c);
    entry_free(e);
}

int apis_store_delete(apis_store *s, const apis_res *r, const char *ns, const char *name,
                      const char *pre_uid, const char *pre_rv, json_t **out, json_t **status)
{
    pthread_mutex_lock(&s->mu);
    size_t pos;
    entry *e = find(s, r, ns, name, &pos);
    if (!e) {
        pthread_mutex_unlock(&s->mu);
        FAIL(apis_err_not_found(r->name, name));
    }
    const char *uid = str_at(e->obj, "metadata", "uid");
    char why[512], rvs[24];
    snprintf(rvs, sizeof(rvs), "%" PRIu64, e->rv);
    if (pre_uid && *pre_uid && strcmp(pre_uid, uid ? uid : "") != 0) {
        snprintf(why, sizeof(why),
                 "Precondition failed: UID in precondition: %s, UID in object meta: %s", pre_uid,
                 uid ? uid : "");
        pthread_mutex_unlock(&s->mu);
        FAIL(apis_err_conflict_msg(r->name, name, why));
    }
    if (pre_rv && *pre_rv && strcmp(pre_rv, rvs) != 0) {
        snprintf(why, sizeof(why),
                 "Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in "
                 "object meta: %s",
                 pre_rv, rvs);
        pthread_mutex_unlock(&s->mu);
        FAIL(apis_err_conflict_msg(r->name, name, why));
    }
    char uidcopy[64];
    snprintf(uidcopy, sizeof(uidcopy), "%s", uid ? uid : "");
    if (r->idx == 0) {
        /* The namespace controller's job, done at once: empty it first. */
        char prefix[300];
        snprintf(prefix, sizeof(prefix), "%s/", name);
        size_t plen = strlen(prefix);
        for (int i = 0; i < APIS_NRES; i++) {
            const apis_res *ri = apis_res_at(i);
            if (!ri->namespaced)
                continue;
            rstate *rs = &s->res[i];
            size_t p = lower_bound(rs, prefix);
            while (p < rs->n && strncmp(rs->v[p]->key, prefix, plen) == 0)
                delete_entry_locked(s, ri, p, NULL);
        }
        find(s, r, ns, name, &pos);
    }
    json_t *deleted = NULL;
    delete_entry_locked(s, r, pos, &deleted);
    pthread_mutex_unlock(&s->mu);
    if (r->idx == 0 || r->idx == 1) {
        if (out)
            *out = deleted;
        else
            json_decref(deleted);
    } else {
        json_decref(deleted);
        if (out)
            *out = apis_status_success(name, r->name, uidcopy);
    }
    return 0;
}

/* ---- reads ---- */

int apis_store_get(apis_store *s, const apis_res *r, const char *ns, const char *name, json_t **out,
                   json_t **status)
{
    pthread_mutex_lock(&s->mu);
    entry *e = find(s, r, ns, name, NULL);
    json_t *c = e ? json_deep_copy(e->obj) : NULL;
    pthread_mutex_unlock(&s->mu);
    if (!e)
        FAIL(apis_err_not_found(r->name, name));
    *out = c;
    return 0;
}

int apis_store_get_blob(apis_store *s, const apis_res *r, const char *ns, const char *name,
                        apis_blob **out, json_t **status)
{
    pthread_mutex_lock(&s->mu);
    entry *e = find(s, r, ns, name, NULL);
    apis_blob *b = e ? apis_blob_ref(e->blob) : NULL;
    pthread_mutex_unlock(&s->mu);
    if (!e)
        FAIL(apis_err_not_found(r->name, name));
    *out = b;
    return 0;
}

/* Continue tokens as the real server writes them: base64url (no padding) of
 * {"v":"meta.k8s.io/v1","rv":N,"start":"<last key>\u0000"}. */
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64url(const char *s, size_t n)
{
    char *o = malloc(n * 4 / 3 + 4);
    size_t k = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = ((uint32_t)(unsigned char)s[i] << 16) |
                     ((uint32_t)(unsigned char)s[i + 1] << 8) | (unsigned char)s[i + 2];
        o[k++] = B64[v >> 18];
        o[k++] = B64[(v >> 12) & 63];
        o[k++] = B64[(v >> 6) & 63];
        o[k++] = B64[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)(unsigned char)s[i] << 16;
        o[k++] = B64[v >> 18];
        o[k++] = B64[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v =
            ((uint32_t)(unsigned char)s[i] << 16) | ((uint32_t)(unsigned char)s[i + 1] << 8);
        o[k++] = B64[v >> 18];
        o[k++] = B64[(v >> 12) & 63];
        o[k++] = B64[(v >> 6) & 63];
    }
    o[k] = '\0';
    return o;
}

/* Decode base64 (url or std alphabet, padding optional). NULL with the
 * offending byte offset in *bad. */
static char *b64dec(const char *s, size_t *outlen, size_t *bad)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == '=')
        n--;
    char *o = malloc(n + 1);
    uint32_t acc = 0;
    int bits = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = strchr(B64, s[i]);
        int v;
        if (s[i] == '+')
            v = 62;
        else if (s[i] == '/')
            v = 63;
        else if (p && s[i])
            v = (int)(p - B64);
        else {
            *bad = i;
            free(o);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (n % 4 == 1) {
        *bad = n - 1;
        free(o);
        return NULL;
    }
    o[k] = '\0';
    *outlen = k;
    return o;
}

static bool entry_matches(const apis_res *r, const entry *e, const apis_list_opts *o)
{
    if (o->labels && o->labels->n && !apis_label_selector_match(o->labels, e->obj))
        return false;
    if (o->fields && o->fields->n && !apis_field_selector_match(o->fields, r, e->obj))
        return false;
    return true;
}

int apis_store_list(apis_store *s, const apis_res *r, const apis_list_opts *o, apis_list *out,
                    json_t **status)
{
    memset(out, 0, sizeof(*out));
    out->remaining = -1;
    char msg[600];
    char *start = NULL;
    bool start_after = false;
    uint64_t token_rv = 0;
    if (o->rv_match && *o->rv_match) {
        if (!o->rv || !*o->rv)
            FAIL(apis_err_bad_request(
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless "
                "resourceVersion is provided"));
        if (strcmp(o->rv_match, "NotOlderThan") && strcmp(o->rv_match, "Exact")) {
            snprintf(msg, sizeof(msg),
                     "resourceVersionMatch: Unsupported value: \"%s\": supported values: "
                     "\"Exact\", \"NotOlderThan\", \"\"",
                     o->rv_match);
            FAIL(apis_err_bad_request(msg));
        }
    }
    if (o->cont && *o->cont) {
        if (o->rv && *o->rv && strcmp(o->rv, "0") != 0)
            FAIL(apis_err_bad_request("specifying resource version is not allowed when using "
                                      "continue"));
        size_t len = 0, bad = 0;
        char *raw = b64dec(o->cont, &len, &bad);
        if (!raw) {
            snprintf(msg, sizeof(msg),
                     "continue key is not valid: illegal base64 data at input "
                     "byte %zu",
                     bad);
            FAIL(apis_err_bad_request(msg));
        }
        json_error_t jerr;
        json_t *tok = json_loadb(raw, len, JSON_ALLOW_NUL, &jerr);
        free(raw);
        const char *v = str_at(tok, "v", NULL);
        const char *st = str_at(tok, "start", NULL);
        /* "key\u0000" means: strictly after key */
        size_t stlen = st ? json_string_length(json_object_get(tok, "start")) : 0;
        if (st && stlen && st[stlen - 1] == '\0')
            start_after = true;
        json_t *jrv = json_object_get(tok, "rv");
        if (!tok || !v || strcmp(v, "meta.k8s.io/v1") || !st || !json_is_integer(jrv) ||
            json_integer_value(jrv) <= 0) {
            json_decref(tok);
            FAIL(apis_err_bad_request("continue key is not valid: incorrect encoded start "
                                      "resourceVersion (version meta.k8s.io/v1)"));
        }
        start = strdup(st);
        token_rv = (uint64_t)json_integer_value(jrv);
        json_decref(tok);
    }
    uint64_t want = 0;
    if (o->rv && *o->rv && !apis_rv_parse(o->rv, &want)) {
        snprintf(msg, sizeof(msg),
                 "invalid resource version: strconv.ParseUint: parsing \"%s\": invalid syntax",
                 o->rv);
        free(start);
        FAIL(apis_err_bad_request(msg));
    }
    pthread_mutex_lock(&s->mu);
    if (want > s->rv) {
        uint64_t cur = s->rv;
        pthread_mutex_unlock(&s->mu);
        free(start);
        FAIL(apis_err_rv_too_large(want, cur));
    }
    if (o->rv_match && !strcmp(o->rv_match, "Exact") && want != s->rv) {
        /* No snapshots of the past are kept. */
        pthread_mutex_unlock(&s->mu);
        free(start);
        FAIL(apis_err_expired("The resourceVersion for the provided list is too old."));
    }
    rstate *rs = &s->res[r->idx];
    char prefix[320] = "";
    if (r->namespaced && o->ns && *o->ns)
        snprintf(prefix, sizeof(prefix), "%s/", o->ns);
    size_t plen = strlen(prefix);
    size_t i = lower_bound(rs, start && strcmp(start, prefix) > 0 ? start : prefix);
    if (start && start_after && i < rs->n && !strcmp(rs->v[i]->key, start))
        i++;
    size_t cap = o->limit > 0 ? (size_t)o->limit : rs->n;
    out->items = calloc(cap ? cap : 1, sizeof(apis_blob *));
    const char *last = NULL;
    for (; i < rs->n; i++) {
        entry *e = rs->v[i];
        if (plen && strncmp(e->key, prefix, plen) != 0)
            break;
        if (!entry_matches(r, e, o))
            continue;
        if (out->n == cap)
            break;
        out->items[out->n++] = apis_blob_ref(e->blob);
        last = e->key;
    }
    bool more = false;
    long remaining = 0;
    for (; i < rs->n; i++) {
        entry *e = rs->v[i];
        if (plen && strncmp(e->key, prefix, plen) != 0)
            break;
        if (entry_matches(r, e, o)) {
            more = true;
            remaining++;
        }
    }
    out->rv = token_rv ? token_rv : s->rv;
    if (more && last) {
        json_t *tok = json_object();
        json_object_set_new(tok, "v", json_string("meta.k8s.io/v1"));
        json_object_set_new(tok, "rv", json_integer((json_int_t)out->rv));
        size_t kl = strlen(last);
        char *sk = malloc(kl + 2);
        memcpy(sk, last, kl);
        sk[kl] = '\0';
        json_object_set_new(tok, "start", json_stringn(sk, kl + 1));
        free(sk);
        char *ts = json_dumps(tok, JSON_COMPACT | JSON_PRESERVE_ORDER);
        out->cont = b64url(ts, strlen(ts));
        free(ts);
        json_decref(tok);
        bool selectors = (o->labels && o->labels->n) || (o->fields && o->fields->n);
        if (!selectors)
            out->remaining = remaining;
    }
    pthread_mutex_unlock(&s->mu);
    free(start);
    return 0;
}

void apis_list_cleanup(apis_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        apis_blob_unref(l->items[i]);
    free(l->items);
    free(l->cont);
    memset(l, 0, sizeof(*l));
}

int apis_list_render(const apis_res *r, const apis_list *l, buf *out)
{
    int rc = buf_printf(out, "{\"kind\":\"%s\",\"apiVersion\":\"v1\",\"metadata\":{", r->list_kind);
    if (!rc)
        rc = buf_printf(out, "\"resourceVersion\":\"%" PRIu64 "\"", l->rv);
    if (!rc && l->cont)
        rc = buf_printf(out, ",\"continue\":\"%s\"", l->cont);
    if (!rc && l->remaining >= 0)
        rc = buf_printf(out, ",\"remainingItemCount\":%ld", l->remaining);
    if (!rc)
        rc = buf_puts(out, "},\"items\":[");
    for (size_t i = 0; !rc && i < l->n; i++) {
        if (i)
            rc = buf_puts(out, ",");
        if (!rc)
            rc = buf_append(out, l->items[i]->data, l->items[i]->len);
    }
    if (!rc)
        rc = buf_puts(out, "]}");
    return rc;
}

json_t *apis_store_render(apis_store *s)
{
    json_t *a = json_array();
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < APIS_NRES; i++)
        for (size_t k = 0; k < s->res[i].n; k++)
            json_array_append_new(a, json_deep_copy(s->res[i].v[k]->obj));
    pthread_mutex_unlock(&s->mu);
    return a;
}

/* ---- watches ---- */

static int add_init(apis_watch *w, int type, apis_blob *b, size_t *cap)
{
    if (w->ninit == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        qitem *ni = realloc(w->init, nc * sizeof(*ni));
        if (!ni)
            return -ENOMEM;
        w->init = ni;
        *cap = nc;
    }
    w->init[w->ninit].type = type;
    w->init[w->ninit].blob = apis_blob_ref(b);
    w->ninit++;
    return 0;
}

static void sel_copy(apis_selector *dst, const apis_selector *src)
{
    memset(dst, 0, sizeof(*dst));
    if (!src)
        return;
    for (size_t i = 0; i < src->n; i++) {
        apis_sel_req *d = &dst->reqs[i];
        d->key = strdup(src->reqs[i].key);
        d->op = src->reqs[i].op;
        d->nvalues = src->reqs[i].nvalues;
        for (size_t k = 0; k < d->nvalues; k++)
            d->values[k] = strdup(src->reqs[i].values[k]);
    }
    dst->n = src->n;
}

static void watch_free(apis_watch *w)
{
    for (size_t i = 0; i < w->qn; i++)
        apis_blob_unref(w->q[(w->qhead + i) % w->qcap].blob);
    for (size_t i = w->init_pos; i < w->ninit; i++)
        apis_blob_unref(w->init[i].blob);
    free(w->init);
    free(w->q);
    free(w->ns);
    free(w->name);
    free(w->error_line);
    apis_selector_cleanup(&w->labels);
    apis_selector_cleanup(&w->fields);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

static char *expired_line(uint64_t asked, uint64_t floor)
{
    char msg[128];
    snprintf(msg, sizeof(msg), "too old resource version: %" PRIu64 " (%" PRIu64 ")", asked, floor);
    json_t *st = apis_err_expired(msg);
    json_t *ev = json_pack("{s:s,s:o}", "type", "ERROR", "object", st);
    char *s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(ev);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (!line) {
        free(s);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    return line;
}

int apis_watch_start(apis_store *s, const apis_watch_opts *o, apis_watch **out, json_t **status)
{
    uint64_t want = 0;
    bool from_state = !o->rv || !*o->rv || !strcmp(o->rv, "0");
    if (!from_state && !apis_rv_parse(o->rv, &want)) {
        char msg[600];
        snprintf(msg, sizeof(msg),
                 "invalid resource version: strconv.ParseUint: parsing \"%s\": invalid syntax",
                 o->rv);
        FAIL(apis_err_bad_request(msg));
    }
    apis_watch *w = calloc(1, sizeof(*w));
    if (!w)
        FAIL(apis_err_internal("out of memory"));
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->r = o->r;
    w->ns = o->ns && *o->ns ? strdup(o->ns) : NULL;
    w->name = o->name && *o->name ? strdup(o->name) : NULL;
    sel_copy(&w->labels, o->labels);
    sel_copy(&w->fields, o->fields);
    w->qcap = s->queue_cap;
    w->q = calloc(w->qcap, sizeof(qitem));
    w->drop_after = o->drop_after;
    w->drop_abort = o->drop_abort;
    w->bookmarks = o->bookmarks && s->persona->bookmarks;
    w->deadline = o->deadline_mono_ns;
    w->clock = s->clock;
    w->bm_interval = o->bookmark_interval_ns > 0 ? o->bookmark_interval_ns : 60 * EFK_NS_PER_S;
    w->next_bookmark = clock_mono_ns(s->clock) + w->bm_interval;
    if (!w->q) {
        watch_free(w);
        FAIL(apis_err_internal("out of memory"));
    }
    size_t initcap = 0;
    pthread_mutex_lock(&s->mu);
    if (want > s->rv) {
        uint64_t cur = s->rv;
        pthread_mutex_unlock(&s->mu);
        watch_free(w);
        FAIL(apis_err_rv_too_large(want, cur));
    }
    rstate *rs = &s->res[o->r->idx];
    uint64_t floor = rs->evicted ? rs->hist[rs->hstart]->rv - 1 : rs->floor0;
    if (o->force_expired || (!from_state && want < floor)) {
        pthread_mutex_unlock(&s->mu);
        w->error_line = expired_line(want, o->force_expired && want >= floor ? s->rv : floor);
        w->s = NULL;
        *out = w;
        return 0;
    }
    if (s->nwatchers >= s->max_watchers) {
        pthread_mutex_unlock(&s->mu);
        watch_free(w);
        FAIL(apis_err_too_many("too many open watches", 1));
    }
    int rc = 0;
    if (from_state) {
        for (size_t i = 0; !rc && i < rs->n; i++)
            if (watch_matches(w, rs->v[i]->obj))
                rc = add_init(w, EV_ADDED, rs->v[i]->blob, &initcap);
    } else {
        for (size_t i = 0; !rc && i < rs->hcount; i++) {
            event *ev = rs->hist[(rs->hstart + i) % s->history_cap];
            if (ev->rv <= want)
                continue;
            apis_blob *b = NULL;
            int t = event_for(w, ev, &b);
            if (t >= 0)
                rc = add_init(w, t, b, &initcap);
        }
    }
    if (rc) {
        pthread_mutex_unlock(&s->mu);
        watch_free(w);
        FAIL(apis_err_internal("out of memory"));
    }
    w->progress_rv = s->rv;
    w->bookmark_rv = 0;
    w->s = s;
    w->in_hub = true;
    s->watchers[s->nwatchers++] = w;
    pthread_mutex_unlock(&s->mu);
    *out = w;
    return 0;
}

uint64_t apis_watch_sent(const apis_watch *w)
{
    return w->sent;
}

static int default_render(buf *out, const char *type, const char *obj, size_t len)
{
    int rc = buf_printf(out, "{\"type\":\"%s\",\"object\":", type);
    if (!rc)
        rc = buf_append(out, obj, len);
    if (!rc)
        rc = buf_puts(out, "}\n");
    return rc;
}

static int bookmark_obj(const apis_res *r, uint64_t rv, char *out, size_t outsz)
{
    const char *extra = "";
    if (r->idx == 1)
        extra = ",\"spec\":{\"containers\":null},\"status\":{}";
    else if (r->idx == 0 || r->idx == 9 || r->idx == 10 || r->idx == 4)
        extra = ",\"spec\":{},\"status\":{}";
    else if (r->idx == 2)
        extra = ",\"spec\":{},\"status\":{\"loadBalancer\":{}}";
    return snprintf(out, outsz,
                    "{\"kind\":\"%s\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":"
                    "\"%" PRIu64 "\",\"creationTimestamp\":null}%s}",
                    r->kind, rv, extra);
}

#define POLL_BATCH 256

int apis_watch_poll(apis_watch *w, buf *out, int wait_ms,
                    int (*render)(void *arg, const apis_watch_event *ev, buf *out), void *arg)
{
    qitem batch[POLL_BATCH];
    size_t nb = 0;
    bool ended = false, bookmark = false;
    uint64_t bm_rv = 0;
    pthread_mutex_lock(&w->mu);
    if (w->error_line) {
        char *line = w->error_line;
        w->error_line = NULL;
        pthread_mutex_unlock(&w->mu);
        if (render) {
            const char *obj = strstr(line, "\"object\":") + 9;
            apis_watch_event ev = {"ERROR", obj, strlen(obj) - 2};
            render(arg, &ev, out);
        } else if (buf_puts(out, line)) {
            /* the buffer is capped; the stream ends either way */
        }
        free(line);
        return APIS_WATCH_END;
    }
    for (int round = 0; round < 2; round++) {
        while (nb < POLL_BATCH && w->init_pos < w->ninit)
            batch[nb++] = w->init[w->init_pos++];
        while (nb < POLL_BATCH && w->qn) {
            batch[nb++] = w->q[w->qhead];
            w->qhead = (w->qhead + 1) % w->qcap;
            w->qn--;
        }
        if (nb)
            break;
        if (w->overflow || w->closed) {
            ended = true;
            break;
        }
        int64_t now = clock_mono_ns(w->clock);
        if (w->deadline && now >= w->deadline) {
            ended = true;
            break;
        }
        if (w->bookmarks && now >= w->next_bookmark) {
            bookmark = true;
            bm_rv = w->progress_rv;
            w->next_bookmark = now + w->bm_interval;
            break;
        }
        if (round == 1 || wait_ms <= 0)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)wait_ms * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
    pthread_mutex_unlock(&w->mu);
    int result = ended ? APIS_WATCH_END : APIS_WATCH_MORE;
    size_t i = 0;
    for (; i < nb; i++) {
        const char *type = EV_NAMES[batch[i].type];
        int rc;
        if (render) {
            apis_watch_event ev = {type, batch[i].blob->data, batch[i].blob->len};
            rc = render(arg, &ev, out);
        } else {
            rc = default_render(out, type, batch[i].blob->data, batch[i].blob->len);
        }
        apis_blob_unref(batch[i].blob);
        if (rc)
            result = APIS_WATCH_ABORT; /* output cap: cannot say more */
        w->sent++;
        if (w->drop_after && w->sent >= w->drop_after) {
            result = w->drop_abort ? APIS_WATCH_ABORT : APIS_WATCH_END;
            i++;
            break;
        }
    }
    for (; i < nb; i++)
        apis_blob_unref(batch[i].blob);
    if (bookmark) {
        char obj[512];
        int n = bookmark_obj(w->r, bm_rv, obj, sizeof(obj));
        apis_watch_event ev = {"BOOKMARK", obj, (size_t)n};
        if (render ? render(arg, &ev, out) : default_render(out, "BOOKMARK", obj, (size_t)n))
            result = APIS_WATCH_ABORT;
    }
    return result;
}

void apis_watch_stop(apis_watch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    apis_store *s = w->s;
    pthread_mutex_unlock(&w->mu);
    if (s) {
        pthread_mutex_lock(&s->mu);
        if (w->in_hub)
            hub_remove(s, w);
        pthread_mutex_unlock(&s->mu);
    }
    watch_free(w);
}
