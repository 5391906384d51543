#include "apis_proto.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apis_discovery.h"
#include "apis_res.h"

/* ---------------------------------------------------------------- reading */

typedef struct pb {
    const unsigned char *p, *end;
} pb;

static bool rd_varint(pb *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
        unsigned char c = *r->p++;
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* Next field: number, wire type, and for length-delimited the bytes. */
static bool rd_field(pb *r, int *num, int *wt, uint64_t *ival, pb *sub)
{
    uint64_t key;
    if (!rd_varint(r, &key))
        return false;
    *num = (int)(key >> 3);
    *wt = (int)(key & 7);
    switch (*wt) {
    case 0:
        return rd_varint(r, ival);
    case 1:
        if (r->end - r->p < 8)
            return false;
        r->p += 8;
        return true;
    case 5:
        if (r->end - r->p < 4)
            return false;
        r->p += 4;
        return true;
    case 2: {
        uint64_t n;
        if (!rd_varint(r, &n) || n > (uint64_t)(r->end - r->p))
            return false;
        sub->p = r->p;
        sub->end = r->p + n;
        r->p += n;
        return true;
    }
    default:
        return false;
    }
}

typedef enum {
    F_STR,
    F_BYTES,
    F_INT,
    F_BOOL,
    F_MSG,
    F_MAP_SS,
    F_MAP_SB,
    F_REP_STR,
    F_REP_MSG
} ftype;

typedef struct msgdef msgdef;
typedef struct fielddef {
    int num;
    const char *name;
    ftype t;
    const msgdef *sub;
} fielddef;
struct msgdef {
    const fielddef *f;
};

static const fielddef OWNER_REF_F[] = {{5, "apiVersion", F_STR, NULL},
                                       {1, "kind", F_STR, NULL},
                                       {3, "name", F_STR, NULL},
                                       {4, "uid", F_STR, NULL},
                                       {6, "controller", F_BOOL, NULL},
                                       {7, "blockOwnerDeletion", F_BOOL, NULL},
                                       {0, NULL, 0, NULL}};
static const msgdef OWNER_REF = {OWNER_REF_F};
static const fielddef META_F[] = {{1, "name", F_STR, NULL},
                                  {2, "generateName", F_STR, NULL},
                                  {3, "namespace", F_STR, NULL},
                                  {6, "resourceVersion", F_STR, NULL},
                                  {11, "labels", F_MAP_SS, NULL},
                                  {12, "annotations", F_MAP_SS, NULL},
                                  {13, "ownerReferences", F_REP_MSG, &OWNER_REF},
                                  {14, "finalizers", F_REP_STR, NULL},
                                  {0, NULL, 0, NULL}};
static const msgdef META = {META_F};
static const fielddef NS_SPEC_F[] = {{1, "finalizers", F_REP_STR, NULL}, {0, NULL, 0, NULL}};
static const msgdef NS_SPEC = {NS_SPEC_F};
static const fielddef NS_STATUS_F[] = {{1, "phase", F_STR, NULL}, {0, NULL, 0, NULL}};
static const msgdef NS_STATUS = {NS_STATUS_F};
static const fielddef NAMESPACE_F[] = {{1, "metadata", F_MSG, &META},
                                       {2, "spec", F_MSG, &NS_SPEC},
                                       {3, "status", F_MSG, &NS_STATUS},
                                       {0, NULL, 0, NULL}};
static const fielddef CONFIGMAP_F[] = {{1, "metadata", F_MSG, &META},
                                       {4, "immutable", F_BOOL, NULL},
                                       {2, "data", F_MAP_SS, NULL},
                                       {3, "binaryData", F_MAP_SB, NULL},
                                       {0, NULL, 0, NULL}};
static const fielddef SECRET_F[] = {
    {1, "metadata", F_MSG, &META},     {5, "immutable", F_BOOL, NULL}, {2, "data", F_MAP_SB, NULL},
    {4, "stringData", F_MAP_SS, NULL}, {3, "type", F_STR, NULL},       {0, NULL, 0, NULL}};
static const fielddef OBJREF_F[] = {
    {1, "kind", F_STR, NULL},       {2, "namespace", F_STR, NULL},
    {3, "name", F_STR, NULL},       {4, "uid", F_STR, NULL},
    {5, "apiVersion", F_STR, NULL}, {6, "resourceVersion", F_STR, NULL},
    {7, "fieldPath", F_STR, NULL},  {0, NULL, 0, NULL}};
static const msgdef OBJREF = {OBJREF_F};
static const fielddef LOCALREF_F[] = {{1, "name", F_STR, NULL}, {0, NULL, 0, NULL}};
static const msgdef LOCALREF = {LOCALREF_F};
static const fielddef SA_F[] = {{1, "metadata", F_MSG, &META},
                                {2, "secrets", F_REP_MSG, &OBJREF},
                                {3, "imagePullSecrets", F_REP_MSG, &LOCALREF},
                                {4, "automountServiceAccountToken", F_BOOL, NULL},
                                {0, NULL, 0, NULL}};
static const struct {
    const char *kind;
    msgdef def;
} KINDS[] = {{"Namespace", {NAMESPACE_F}},
             {"ConfigMap", {CONFIGMAP_F}},
             {"Secret", {SECRET_F}},
             {"ServiceAccount", {SA_F}}};

static char *b64(const unsigned char *s, size_t n)
{
    static const char T[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc(n / 3 * 4 + 8);
    size_t k = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = ((uint32_t)s[i] << 16) | ((uint32_t)s[i + 1] << 8) | s[i + 2];
        o[k++] = T[v >> 18];
        o[k++] = T[(v >> 12) & 63];
        o[k++] = T[(v >> 6) & 63];
        o[k++] = T[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        o[k++] = T[v >> 18];
        o[k++] = T[(v >> 12) & 63];
        o[k++] = '=';
        o[k++] = '=';
    } else if (n - i == 2) {
        uint32_t v = ((uint32_t)s[i] << 16) | ((uint32_t)s[i + 1] << 8);
        o[k++] = T[v >> 18];
        o[k++] = T[(v >> 12) & 63];
        o[k++] = T[(v >> 6) & 63];
        o[k++] = '=';
    }
    o[k] = '\0';
    return o;
}

static json_t *decode_msg(const msgdef *d, pb r, int depth);

static json_t *decode_map_entry(pb r, bool bytes_value, char **key)
{
    json_t *v = NULL;
    *key = NULL;
    int num, wt;
    uint64_t iv;
    pb sub;
    while (r.p < r.end) {
        if (!rd_field(&r, &num, &wt, &iv, &sub)) {
            json_decref(v);
            free(*key);
            *key = NULL;
            return NULL;
        }
        if (wt != 2)
            continue;
        if (num == 1) {
            free(*key);
            *key = strndup((const char *)sub.p, (size_t)(sub.end - sub.p));
        } else if (num == 2) {
            json_decref(v);
            if (bytes_value) {
                char *e = b64(sub.p, (size_t)(sub.end - sub.p));
                v = json_string(e);
                free(e);
            } else {
                v = json_stringn((const char *)sub.p, (size_t)(sub.end - sub.p));
            }
        }
    }
    if (!*key) {
        json_decref(v);
        return NULL;
    }
    return v ? v : json_string("");
}

static json_t *decode_msg(const msgdef *d, pb r, int depth)
{
    if (depth > 8)
        return NULL;
    json_t *o = json_object();
    int num, wt;
    uint64_t iv;
    pb sub;
    while (r.p < r.end) {
        if (!rd_field(&r, &num, &wt, &iv, &sub)) {
            json_decref(o);
            return NULL;
        }
        const fielddef *f = NULL;
        for (const fielddef *x = d->f; x->name; x++)
            if (x->num == num)
                f = x;
        if (!f)
            continue; /* a field we do not need */
        json_t *v = NULL;
        switch (f->t) {
        case F_STR:
            if (wt == 2)
                json_object_set_new(o, f->name,
                                    json_stringn((const char *)sub.p, (size_t)(sub.end - sub.p)));
            break;
        case F_BYTES:
            if (wt == 2) {
                char *e = b64(sub.p, (size_t)(sub.end - sub.p));
                json_object_set_new(o, f->name, json_string(e));
                free(e);
            }
            break;
        case F_INT:
            if (wt == 0)
                json_object_set_new(o, f->name, json_integer((json_int_t)iv));
            break;
        case F_BOOL:
            if (wt == 0)
                json_object_set_new(o, f->name, json_boolean(iv != 0));
            break;
        case F_MSG:
            if (wt == 2 && (v = decode_msg(f->sub, sub, depth + 1)))
                json_object_set_new(o, f->name, v);
            break;
        case F_MAP_SS:
        case F_MAP_SB: {
            if (wt != 2)
                break;
            json_t *m = json_object_get(o, f->name);
            if (!m) {
                m = json_object();
                json_object_set_new(o, f->name, m);
            }
            char *key = NULL;
            v = decode_map_entry(sub, f->t == F_MAP_SB, &key);
            if (v)
                json_object_set_new(m, key, v);
            free(key);
            break;
        }
        case F_REP_STR:
        case F_REP_MSG: {
            if (wt != 2)
                break;
            json_t *a = json_object_get(o, f->name);
            if (!a) {
                a = json_array();
                json_object_set_new(o, f->name, a);
            }
            if (f->t == F_REP_STR)
                json_array_append_new(a,
                                      json_stringn((const char *)sub.p, (size_t)(sub.end - sub.p)));
            else if ((v = decode_msg(f->sub, sub, depth + 1)))
                json_array_append_new(a, v);
            break;
        }
        }
    }
    return o;
}

json_t *apis_proto_decode(const char *data, size_t len, char *err, size_t errsz)
{
    if (len < 4 || memcmp(data, "k8s\0", 4) != 0) {
        snprintf(err, errsz,
                 "provided data does not appear to be a protobuf message, expected "
                 "prefix [107 56 115 0]");
        return NULL;
    }
    pb r = {(const unsigned char *)data + 4, (const unsigned char *)data + len};
    char api_version[64] = "", kind[64] = "";
    pb raw = {NULL, NULL};
    int num, wt;
    uint64_t iv;
    pb sub;
    while (r.p < r.end) {
        if (!rd_field(&r, &num, &wt, &iv, &sub)) {
            snprintf(err, errsz, "proto: runtime.Unknown: illegal tag 0 (wire type 0)");
            return NULL;
        }
        if (num == 1 && wt == 2) { /* typeMeta */
            pb tm = sub;
            while (tm.p < tm.end) {
                pb s2;
                if (!rd_field(&tm, &num, &wt, &iv, &s2))
                    break;
                if (wt == 2 && num == 1)
                    snprintf(api_version, sizeof(api_version), "%.*s", (int)(s2.end - s2.p), s2.p);
                if (wt == 2 && num == 2)
                    snprintf(kind, sizeof(kind), "%.*s", (int)(s2.end - s2.p), s2.p);
            }
        } else if (num == 2 && wt == 2) {
            raw = sub;
        }
    }
    if (strcmp(api_version, "v1") != 0) {
        snprintf(err, errsz, "no kind \"%s\" is registered for version \"%s\"", kind, api_version);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(KINDS) / sizeof(KINDS[0]); i++) {
        if (strcmp(KINDS[i].kind, kind) != 0)
            continue;
        json_t *o = raw.p ? decode_msg(&KINDS[i].def, raw, 0) : json_object();
        if (!o) {
            snprintf(err, errsz, "proto: %s: unexpected EOF", kind);
            return NULL;
        }
        /* kind and apiVersion first, as the JSON form has them */
        json_t *out = json_object();
        json_object_set_new(out, "kind", json_string(kind));
        json_object_set_new(out, "apiVersion", json_string("v1"));
        json_object_update(out, o);
        json_decref(o);
        return out;
    }
    snprintf(err, errsz,
             "efksim decodes protobuf only for Namespace, ConfigMap, Secret and "
             "ServiceAccount, not %s; send application/json",
             kind);
    return NULL;
}

/* ---------------------------------------------------------------- writing */

static int w_varint(buf *b, uint64_t v)
{
    unsigned char t[10];
    size_t n = 0;
    do {
        t[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            t[n] |= 0x80;
        n++;
    } while (v);
    return buf_append(b, t, n);
}

static int w_bytes(buf *b, int num, const void *s, size_t n)
{
    int rc = w_varint(b, ((uint64_t)num << 3) | 2);
    if (!rc)
        rc = w_varint(b, n);
    if (!rc)
        rc = buf_append(b, s, n);
    return rc;
}

static int w_str(buf *b, int num, const char *s)
{
    return w_bytes(b, num, s, strlen(s));
}

static int w_msg(buf *b, int num, buf *sub)
{
    int rc = w_bytes(b, num, sub->data ? sub->data : "", sub->len);
    buf_cleanup(sub);
    return rc;
}

/* NamedAny{name, Any{yaml}} */
static int w_ext(buf *b, int num, const char *name, const char *yaml)
{
    buf any, named;
    buf_init(&any, 0);
    buf_init(&named, 0);
    int rc = w_str(&any, 2, yaml);
    if (!rc)
        rc = w_str(&named, 1, name);
    if (!rc)
        rc = w_msg(&named, 2, &any);
    if (!rc)
        rc = w_msg(b, num, &named);
    buf_cleanup(&any);
    buf_cleanup(&named);
    return rc;
}

/* ParametersItem{Parameter{NonBodyParameter{QueryParameterSubSchema}}} */
static int w_query_param(buf *b, int num, const char *name, const char *desc)
{
    buf q, nb, p, item;
    buf_init(&q, 0);
    buf_init(&nb, 0);
    buf_init(&p, 0);
    buf_init(&item, 0);
    int rc = w_str(&q, 2, "query");
    if (!rc)
        rc = w_str(&q, 3, desc);
    if (!rc)
        rc = w_str(&q, 4, name);
    if (!rc)
        rc = w_str(&q, 6, "string");
    if (!rc)
        rc = w_msg(&nb, 3, &q);
    if (!rc)
        rc = w_msg(&p, 2, &nb);
    if (!rc)
        rc = w_msg(&item, 1, &p);
    if (!rc)
        rc = w_msg(b, num, &item);
    buf_cleanup(&q);
    buf_cleanup(&nb);
    buf_cleanup(&p);
    buf_cleanup(&item);
    return rc;
}

static int w_operation(buf *b, int num, const char *id, const char *action, const apis_res *r,
                       bool write)
{
    buf op;
    buf_init(&op, 0);
    char yaml[160];
    snprintf(yaml, sizeof(yaml), "group: \"\"\nkind: %s\nversion: v1\n", r->kind);
    int rc = w_str(&op, 5, id);
    if (write) {
        if (!rc)
            rc = w_query_param(&op, 8, "dryRun",
                               "When present, indicates that modifications "
                               "should not be persisted.");
        if (!rc)
            rc = w_query_param(&op, 8, "fieldManager",
                               "fieldManager is a name associated with "
                               "the actor or entity that is making these "
                               "changes.");
        if (!rc)
            rc = w_query_param(&op, 8, "fieldValidation",
                               "fieldValidation instructs the server on how to handle objects in "
                               "the request (POST/PUT/PATCH) containing unknown or duplicate "
                               "fields.");
    }
    if (!rc)
        rc = w_ext(&op, 13, "x-kubernetes-action", action);
    if (!rc)
        rc = w_ext(&op, 13, "x-kubernetes-group-version-kind", yaml);
    if (!rc)
        rc = w_msg(b, num, &op);
    buf_cleanup(&op);
    return rc;
}

int apis_proto_openapi_v2(const apis_persona *p, buf *out)
{
    buf info, paths;
    buf_init(&info, 0);
    buf_init(&paths, 0);
    char ver[32];
    snprintf(ver, sizeof(ver), "v1.%d.0", p->minor);
    int rc = w_str(out, 1, "2.0");
    if (!rc)
        rc = w_str(&info, 1, "Kubernetes");
    if (!rc)
        rc = w_str(&info, 2, ver);
    if (!rc)
        rc = w_msg(out, 2, &info);
    for (int i = 0; !rc && i < APIS_NRES; i++) {
        const apis_res *r = apis_res_at(i);
        char path[2][160], id[128];
        apis_openapi_paths(r, path[0], sizeof(path[0]), path[1], sizeof(path[1]));
        for (int item = 0; !rc && item < 2; item++) {
            buf pi, named;
            buf_init(&pi, 0);
            buf_init(&named, 0);
            for (int k = 0; !rc && k < APIS_OPENAPI_NOPS; k++) {
                const apis_openapi_op *o = &APIS_OPENAPI_OPS[k];
                if (o->item != (item == 1))
                    continue;
                apis_openapi_op_id(o, r, id, sizeof(id));
                rc = w_operation(&pi, o->pb_field, id, o->action, r, o->write);
            }
            if (!rc)
                rc = w_str(&named, 1, path[item]);
            if (!rc)
                rc = w_msg(&named, 2, &pi);
            if (!rc)
                rc = w_msg(&paths, 2, &named);
            buf_cleanup(&pi);
            buf_cleanup(&named);
        }
    }
    if (!rc)
        rc = w_msg(out, 8, &paths);
    buf_cleanup(&info);
    buf_cleanup(&paths);
    return rc;
}
