#include "apis_res.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RW_VERBS                                                                                   \
    {                                                                                              \
        "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch", NULL    \
    }
#define NS_VERBS                                                                                   \
    {                                                                                              \
        "create", "delete", "get", "list", "patch", "update", "watch", NULL                        \
    }

static const apis_res RES[APIS_NRES] = {
    {0,
     "namespaces",
     "namespace",
     "Namespace",
     "NamespaceList",
     false,
     {"ns"},
     NS_VERBS,
     "status",
     false,
     APIS_NAME_LABEL,
     {"status.phase"}},
    {1,
     "pods",
     "pod",
     "Pod",
     "PodList",
     true,
     {"po"},
     RW_VERBS,
     "status",
     true,
     APIS_NAME_SUBDOMAIN,
     {"spec.nodeName", "spec.host", "spec.restartPolicy", "spec.schedulerName",
      "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
      "status.podIPs", "status.nominatedNodeName"}},
    {2,
     "services",
     "service",
     "Service",
     "ServiceList",
     true,
     {"svc"},
     RW_VERBS,
     "status",
     true,
     APIS_NAME_1035,
     {"spec.clusterIP", "spec.type"}},
    {3,
     "endpoints",
     "endpoints",
     "Endpoints",
     "EndpointsList",
     true,
     {"ep"},
     RW_VERBS,
     NULL,
     false,
     APIS_NAME_SUBDOMAIN,
     {NULL}},
    {4,
     "nodes",
     "node",
     "Node",
     "NodeList",
     false,
     {"no"},
     RW_VERBS,
     "status",
     false,
     APIS_NAME_SUBDOMAIN,
     {"spec.unschedulable"}},
    {5,
     "serviceaccounts",
     "serviceaccount",
     "ServiceAccount",
     "ServiceAccountList",
     true,
     {"sa"},
     RW_VERBS,
     NULL,
     false,
     APIS_NAME_SUBDOMAIN,
     {NULL}},
    {6,
     "secrets",
     "secret",
     "Secret",
     "SecretList",
     true,
     {NULL},
     RW_VERBS,
     NULL,
     false,
     APIS_NAME_SUBDOMAIN,
     {"type"}},
    {7,
     "configmaps",
     "configmap",
     "ConfigMap",
     "ConfigMapList",
     true,
     {"cm"},
     RW_VERBS,
     NULL,
     false,
     APIS_NAME_SUBDOMAIN,
     {NULL}},
    {8,
     "events",
     "event",
     "Event",
     "EventList",
     true,
     {"ev"},
     RW_VERBS,
     NULL,
     false,
     APIS_NAME_SUBDOMAIN,
     {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
      "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
      "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"}},
    {9,
     "persistentvolumes",
     "persistentvolume",
     "PersistentVolume",
     "PersistentVolumeList",
     false,
     {"pv"},
     RW_VERBS,
     "status",
     false,
     APIS_NAME_SUBDOMAIN,
     {NULL}},
    {10,
     "persistentvolumeclaims",
     "persistentvolumeclaim",
     "PersistentVolumeClaim",
     "PersistentVolumeClaimList",
     true,
     {"pvc"},
     RW_VERBS,
     "status",
     false,
     APIS_NAME_SUBDOMAIN,
     {NULL}},
};

const char *const APIS_META_FIELDS[] = {
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
    "annotations", "ownerReferences", "finalizers", "managedFields", NULL};

const apis_res *apis_res_at(int idx)
{
    return (idx >= 0 && idx < APIS_NRES) ? &RES[idx] : NULL;
}

const apis_res *apis_res_by_plural(const char *plural)
{
    for (int i = 0; i < APIS_NRES; i++)
        if (strcmp(RES[i].name, plural) == 0)
            return &RES[i];
    return NULL;
}

const apis_res *apis_res_by_kind(const char *kind)
{
    for (int i = 0; i < APIS_NRES; i++)
        if (strcmp(RES[i].kind, kind) == 0)
            return &RES[i];
    return NULL;
}

const apis_res *apis_res_find(const char *name)
{
    for (int i = 0; i < APIS_NRES; i++) {
        const apis_res *r = &RES[i];
        if (!strcasecmp(r->name, name) || !strcasecmp(r->singular, name) ||
            !strcasecmp(r->kind, name))
            return r;
        for (int k = 0; k < 3 && r->short_names[k]; k++)
            if (!strcasecmp(r->short_names[k], name))
                return r;
    }
    return NULL;
}

/* Walk a dotted path through objects. */
static const json_t *dig(const json_t *obj, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    const json_t *cur = obj;
    for (char *save = NULL, *t = strtok_r(buf, ".", &save); t && cur;
         t = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, t);
    return cur;
}

static void scalar_text(const json_t *v, char *out, size_t outsz)
{
    if (json_is_string(v))
        snprintf(out, outsz, "%s", json_string_value(v));
    else if (json_is_true(v))
        snprintf(out, outsz, "true");
    else if (json_is_integer(v))
        snprintf(out, outsz, "%lld", (long long)json_integer_value(v));
    else
        out[0] = '\0';
}

bool apis_res_field(const apis_res *r, const json_t *obj, const char *label, char *out,
                    size_t outsz)
{
    out[0] = '\0';
    if (!strcmp(label, "metadata.name")) {
        scalar_text(dig(obj, "metadata.name"), out, outsz);
        return true;
    }
    if (!strcmp(label, "metadata.namespace") && r->namespaced) {
        scalar_text(dig(obj, "metadata.namespace"), out, outsz);
        return true;
    }
    bool known = false;
    for (int i = 0; i < 14 && r->fields[i]; i++)
        if (!strcmp(r->fields[i], label))
            known = true;
    if (!known)
        return false;
    if (!strcmp(label, "spec.host")) {
        scalar_text(dig(obj, "spec.nodeName"), out, outsz);
    } else if (!strcmp(label, "spec.unschedulable") || !strcmp(label, "spec.hostNetwork")) {
        snprintf(out, outsz, "%s", json_is_true(dig(obj, label)) ? "true" : "false");
    } else if (!strcmp(label, "status.podIPs")) {
        /* The selector matches the first (primary) pod IP. */
        const json_t *ips = dig(obj, "status.podIPs");
        scalar_text(json_object_get(json_array_get(ips, 0), "ip"), out, outsz);
    } else if (r->idx == 8 && !strcmp(label, "source")) {
        scalar_text(dig(obj, "source.component"), out, outsz);
    } else {
        scalar_text(dig(obj, label), out, outsz);
    }
    return true;
}

static bool is_alnum_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool dns_label_ok(const char *s, size_t n, bool alpha_first)
{
    if (n == 0 || n > 63)
        return false;
    if (alpha_first ? !(s[0] >= 'a' && s[0] <= 'z') : !is_alnum_lower(s[0]))
        return false;
    if (!is_alnum_lower(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum_lower(s[i]) && s[i] != '-')
            return false;
    return true;
}

static const char MSG_SUBDOMAIN[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
static const char MSG_LABEL[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
static const char MSG_1035[] =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

static const char *label_error(const char *name, bool alpha_first)
{
    size_t n = strlen(name);
    if (n > 63)
        return "must be no more than 63 characters";
    if (!dns_label_ok(name, n, alpha_first))
        return alpha_first ? MSG_1035 : MSG_LABEL;
    return NULL;
}

const char *apis_res_ns_name_error(const char *name)
{
    return label_error(name, false);
}

const char *apis_res_name_error(const apis_res *r, const char *name)
{
    switch (r->name_rule) {
    case APIS_NAME_LABEL:
        return label_error(name, false);
    case APIS_NAME_1035:
        return label_error(name, true);
    case APIS_NAME_SUBDOMAIN:
        break;
    }
    size_t n = strlen(name);
    if (n > 253)
        return "must be no more than 253 characters";
    const char *p = name;
    while (1) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        /* Subdomain parts may be longer than 63 as a whole name allows. */
        if (len == 0 || !is_alnum_lower(p[0]) || !is_alnum_lower(p[len - 1]))
            return MSG_SUBDOMAIN;
        for (size_t i = 0; i < len; i++)
            if (!is_alnum_lower(p[i]) && p[i] != '-')
                return MSG_SUBDOMAIN;
        if (!dot)
            break;
        p = dot + 1;
    }
    return NULL;
}

static void set_default(json_t *o, const char *key, json_t *v)
{
    if (!json_object_get(o, key))
        json_object_set_new(o, key, v);
    else
        json_decref(v);
}

static json_t *obj_child(json_t *o, const char *key)
{
    json_t *c = json_object_get(o, key);
    if (!json_is_object(c)) {
        c = json_object();
        json_object_set_new(o, key, c);
    }
    return c;
}

static void pod_container_defaults(json_t *containers)
{
    size_t i;
    json_t *c;
    json_array_foreach(containers, i, c)
    {
        if (!json_is_object(c))
            continue;
        const char *image = json_string_value(json_object_get(c, "image"));
        /* The registry's rule: "Always" for :latest or no tag, else IfNotPresent. */
        const char *policy = "IfNotPresent";
        if (image) {
            const char *slash = strrchr(image, '/');
            const char *tail = slash ? slash + 1 : image;
            const char *colon = strchr(tail, ':');
            if (!strchr(tail, '@') && (!colon || !strcmp(colon, ":latest")))
                policy = "Always";
        }
        set_default(c, "resources", json_object());
        set_default(c, "terminationMessagePath", json_string("/dev/termination-log"));
        set_default(c, "terminationMessagePolicy", json_string("File"));
        set_default(c, "imagePullPolicy", json_string(policy));
        json_t *ports = json_object_get(c, "ports");
        size_t k;
        json_t *p;
        json_array_foreach(ports, k, p)
        {
            if (json_is_object(p))
                set_default(p, "protocol", json_string("TCP"));
        }
    }
}

void apis_res_defaults(const apis_res *r, json_t *obj, unsigned long seq, bool api_create,
                       bool ns_label)
{
    switch (r->idx) {
    case 0: { /* namespaces */
        if (ns_label) {
            json_t *md = obj_child(obj, "metadata");
            json_t *labels = obj_child(md, "labels");
            json_t *name = json_object_get(md, "name");
            if (json_is_string(name))
                json_object_set(labels, "kubernetes.io/metadata.name", name);
        }
        json_t *spec = obj_child(obj, "spec");
        set_default(spec, "finalizers", json_pack("[s]", "kubernetes"));
        json_t *status = obj_child(obj, "status");
        set_default(status, "phase", json_string("Active"));
        break;
    }
    case 1: { /* pods */
        json_t *spec = obj_child(obj, "spec");
        pod_container_defaults(json_object_get(spec, "containers"));
        pod_container_defaults(json_object_get(spec, "initContainers"));
        set_default(spec, "restartPolicy", json_string("Always"));
        set_default(spec, "terminationGracePeriodSeconds", json_integer(30));
        set_default(spec, "dnsPolicy", json_string("ClusterFirst"));
        if (json_object_get(spec, "serviceAccountName") && !json_object_get(spec, "serviceAccount"))
            json_object_set(spec, "serviceAccount", json_object_get(spec, "serviceAccountName"));
        set_default(spec, "securityContext", json_object());
        set_default(spec, "schedulerName", json_string("default-scheduler"));
        set_default(spec, "enableServiceLinks", json_true());
        set_default(spec, "preemptionPolicy", json_string("PreemptLowerPriority"));
        set_default(spec, "priority", json_integer(0));
        if (api_create || !json_is_object(json_object_get(obj, "status"))) {
            json_t *st = json_object();
            json_object_set_new(st, "phase", json_string("Pending"));
            json_object_set_new(st, "qosClass", json_string("BestEffort"));
            json_object_set_new(obj, "status", st);
        }
        break;
    }
    case 2: { /* services */
        json_t *spec = obj_child(obj, "spec");
        json_t *ports = json_object_get(spec, "ports");
        size_t k;
        json_t *p;
        json_array_foreach(ports, k, p)
        {
            if (!json_is_object(p))
                continue;
            set_default(p, "protocol", json_string("TCP"));
            if (json_object_get(p, "port"))
                set_default(p, "targetPort", json_deep_copy(json_object_get(p, "port")));
        }
        set_default(spec, "type", json_string("ClusterIP"));
        set_default(spec, "sessionAffinity", json_string("None"));
        const char *type = json_string_value(json_object_get(spec, "type"));
        if (type && strcmp(type, "ExternalName") != 0) {
            if (!json_object_get(spec, "clusterIP")) {
                /* Allocate from the default 10.96.0.0/12 range, past .1 (kubernetes). */
                char ip[32];
                unsigned long n = seq + 10;
                snprintf(ip, sizeof(ip), "10.96.%lu.%lu", (n >> 8) & 255, n & 255);
                json_object_set_new(spec, "clusterIP", json_string(ip));
            }
            if (!json_object_get(spec, "clusterIPs"))
                json_object_set_new(spec, "clusterIPs",
                                    json_pack("[O]", json_object_get(spec, "clusterIP")));
            set_default(spec, "ipFamilies", json_pack("[s]", "IPv4"));
            set_default(spec, "ipFamilyPolicy", json_string("SingleStack"));
            set_default(spec, "internalTrafficPolicy", json_string("Cluster"));
        }
        json_t *status = obj_child(obj, "status");
        set_default(status, "loadBalancer", json_object());
        break;
    }
    case 3: { /* endpoints: ports default to TCP */
        size_t i, k;
        json_t *ss, *p;
        json_array_foreach(json_object_get(obj, "subsets"), i, ss)
        {
            json_array_foreach(json_object_get(ss, "ports"), k, p)
            {
                if (json_is_object(p))
                    set_default(p, "protocol", json_string("TCP"));
            }
        }
        break;
    }
    case 5: /* serviceaccounts: nothing */
        break;
    case 6: { /* secrets */
        set_default(obj, "type", json_string("Opaque"));
        break;
    }
    case 4: { /* nodes */
        obj_child(obj, "spec");
        break;
    }
    case 10: { /* pvcs */
        json_t *spec = obj_child(obj, "spec");
        set_default(spec, "volumeMode", json_string("Filesystem"));
        json_t *status = obj_child(obj, "status");
        set_default(status, "phase", json_string("Pending"));
        break;
    }
    case 9: { /* pvs */
        json_t *spec = obj_child(obj, "spec");
        set_default(spec, "persistentVolumeReclaimPolicy", json_string("Retain"));
        set_default(spec, "volumeMode", json_string("Filesystem"));
        json_t *status = obj_child(obj, "status");
        set_default(status, "phase", json_string("Available"));
        break;
    }
    default:
        break;
    }
}

json_t *apis_res_discovery_entry(const apis_res *r, bool with_categories)
{
    json_t *e = json_object();
    json_object_set_new(e, "name", json_string(r->name));
    json_object_set_new(e, "singularName", json_string(r->singular));
    json_object_set_new(e, "namespaced", json_boolean(r->namespaced));
    json_object_set_new(e, "kind", json_string(r->kind));
    json_t *verbs = json_array();
    for (int i = 0; r->verbs[i]; i++)
        json_array_append_new(verbs, json_string(r->verbs[i]));
    json_object_set_new(e, "verbs", verbs);
    if (r->short_names[0]) {
        json_t *sn = json_array();
        for (int i = 0; i < 3 && r->short_names[i]; i++)
            json_array_append_new(sn, json_string(r->short_names[i]));
        json_object_set_new(e, "shortNames", sn);
    }
    if (with_categories && r->in_all)
        json_object_set_new(e, "categories", json_pack("[s]", "all"));
    return e;
}
