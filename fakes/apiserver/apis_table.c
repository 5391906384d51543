#include "apis_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *apis_human_duration(int64_t ns, char *out, size_t outsz)
{
    int64_t secs = ns / 1000000000LL;
    if (secs < -1) {
        snprintf(out, outsz, "<invalid>");
        return out;
    }
    if (secs < 0) {
        snprintf(out, outsz, "0s");
        return out;
    }
    if (secs < 120) {
        snprintf(out, outsz, "%llds", (long long)secs);
        return out;
    }
    int64_t minutes = secs / 60;
    if (minutes < 10) {
        int64_t s = secs % 60;
        if (s == 0)
            snprintf(out, outsz, "%lldm", (long long)minutes);
        else
            snprintf(out, outsz, "%lldm%llds", (long long)minutes, (long long)s);
        return out;
    }
    if (minutes < 180) {
        snprintf(out, outsz, "%lldm", (long long)minutes);
        return out;
    }
    int64_t hours = secs / 3600;
    if (hours < 8) {
        int64_t m = minutes % 60;
        if (m == 0)
            snprintf(out, outsz, "%lldh", (long long)hours);
        else
            snprintf(out, outsz, "%lldh%lldm", (long long)hours, (long long)m);
    } else if (hours < 48) {
        snprintf(out, outsz, "%lldh", (long long)hours);
    } else if (hours < 24 * 8) {
        int64_t h = hours % 24;
        if (h == 0)
            snprintf(out, outsz, "%lldd", (long long)(hours / 24));
        else
            snprintf(out, outsz, "%lldd%lldh", (long long)(hours / 24), (long long)h);
    } else if (hours < 24 * 365 * 2) {
        snprintf(out, outsz, "%lldd", (long long)(hours / 24));
    } else if (hours < 24 * 365 * 8) {
        int64_t dy = (hours / 24) % 365;
        if (dy == 0)
            snprintf(out, outsz, "%lldy", (long long)(hours / 24 / 365));
        else
            snprintf(out, outsz, "%lldy%lldd", (long long)(hours / 24 / 365), (long long)dy);
    } else {
        snprintf(out, outsz, "%lldy", (long long)(hours / 24 / 365));
    }
    return out;
}

/* RFC 3339 "2006-01-02T15:04:05Z" to Unix ns; -1 when unparsable. */
static int64_t parse_time(const char *s)
{
    if (!s)
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return -1;
    return (int64_t)timegm(&tm) * 1000000000LL;
}

static const char *sget(const json_t *o, const char *path)
{
    char buf[200];
    snprintf(buf, sizeof(buf), "%s", path);
    const json_t *cur = o;
    char *save = NULL;
    for (char *t = strtok_r(buf, ".", &save); t && cur; t = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, t);
    return json_string_value(cur);
}

static const json_t *jget(const json_t *o, const char *path)
{
    char buf[200];
    snprintf(buf, sizeof(buf), "%s", path);
    const json_t *cur = o;
    char *save = NULL;
    for (char *t = strtok_r(buf, ".", &save); t && cur; t = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, t);
    return cur;
}

static json_t *age_cell(const json_t *obj, const char *path, int64_t now)
{
    int64_t t = parse_time(sget(obj, path));
    if (t < 0)
        return json_string("<unknown>");
    char b[32];
    return json_string(apis_human_duration(now - t, b, sizeof(b)));
}

static json_t *str_or(const char *s, const char *dflt)
{
    return json_string(s && *s ? s : dflt);
}

typedef struct col {
    const char *name, *type, *format, *desc;
    int priority;
} col;

static const char DESC_NAME[] =
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
static const char DESC_AGE[] =
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

#define NAME_COL                                                                                   \
    {                                                                                              \
        "Name", "string", "name", DESC_NAME, 0                                                     \
    }
#define AGE_COL                                                                                    \
    {                                                                                              \
        "Age", "string", "", DESC_AGE, 0                                                           \
    }

static const col POD_COLS[] = {
    NAME_COL,
    {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0},
    {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
    {"Restarts", "string", "",
     "The number of times the containers in this pod have been restarted and when the last "
     "container in this pod has restarted.",
     0},
    AGE_COL,
    {"IP", "string", "",
     "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet "
     "allocated.",
     1},
    {"Node", "string", "",
     "NodeName is a request to schedule this pod onto a specific node. If it is non-empty, the "
     "scheduler simply schedules this pod onto that node, assuming that it fits resource "
     "requirements.",
     1},
    {"Nominated Node", "string", "",
     "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot "
     "be scheduled right away as preemption victims receive their graceful termination periods. "
     "This field does not guarantee that the pod will be scheduled on this node. Scheduler may "
     "decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also "
     "decide to give the resources on this node to a higher priority pod that is created after "
     "preemption. As a result, this field may be different than PodSpec.nodeName when the pod is "
     "scheduled.",
     1},
    {"Readiness Gates", "string", "",
     "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when "
     "all its containers are ready AND all conditions specified in the readiness gates have status "
     "equal to \"True\" More info: "
     "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
     1},
    {NULL, NULL, NULL, NULL, 0}};
static const col NS_COLS[] = {NAME_COL,
                              {"Status", "string", "", "The status of the namespace", 0},
                              AGE_COL,
                              {NULL, NULL, NULL, NULL, 0}};
static const col SVC_COLS[] = {
    NAME_COL,
    {"Type", "string", "", "type determines how the Service is exposed. Defaults to ClusterIP.", 0},
    {"Cluster-IP", "string", "",
     "clusterIP is the IP address of the service and is usually assigned randomly.", 0},
    {"External-IP", "string", "",
     "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
     "traffic for this service.",
     0},
    {"Port(s)", "string", "", "The list of ports that are exposed by this service.", 0},
    AGE_COL,
    {"Selector", "string", "",
     "Route service traffic to pods with label keys and values matching this selector. If empty or "
     "not present, the service is assumed to have an external process managing its endpoints, "
     "which Kubernetes will not modify.",
     1},
    {NULL, NULL, NULL, NULL, 0}};
static const col EP_COLS[] = {NAME_COL,
                              {"Endpoints", "string", "", "Endpoints of the service", 0},
                              AGE_COL,
                              {NULL, NULL, NULL, NULL, 0}};
static const col NODE_COLS[] = {
    NAME_COL,
    {"Status", "string", "", "The status of the node", 0},
    {"Roles", "string", "", "The roles of the node", 0},
    AGE_COL,
    {"Version", "string", "", "Kubelet Version reported by the node.", 0},
    {"Internal-IP", "string", "",
     "List of addresses reachable to the node. Queried from cloud provider, if available.", 1},
    {"External-IP", "string", "",
     "List of addresses reachable to the node. Queried from cloud provider, if available.", 1},
    {"OS-Image", "string", "",
     "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1},
    {"Kernel-Version", "string", "",
     "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1},
    {"Container-Runtime", "string", "",
     "ContainerRuntime Version reported by the node through runtime remote API (e.g. "
     "containerd://1.4.2).",
     1},
    {NULL, NULL, NULL, NULL, 0}};
static const col SA_COLS[] = {NAME_COL,
                              {"Secrets", "string", "",
                               "Secrets is a list of the secrets in the same namespace that pods "
                               "running using this ServiceAccount are allowed to use.",
                               0},
                              AGE_COL,
                              {NULL, NULL, NULL, NULL, 0}};
static const col SECRET_COLS[] = {
    NAME_COL,
    {"Type", "string", "", "Used to facilitate programmatic handling of secret data.", 0},
    {"Data", "string", "", "Data contains the secret data.", 0},
    AGE_COL,
    {NULL, NULL, NULL, NULL, 0}};
static const col CM_COLS[] = {NAME_COL,
                              {"Data", "string", "", "Data contains the configuration data.", 0},
                              AGE_COL,
                              {NULL, NULL, NULL, NULL, 0}};
static const col EV_COLS[] = {
    {"Last Seen", "string", "", "Time when last Event occurred", 0},
    {"Type", "string", "",
     "Type of this event (Normal, Warning), new types could be added in the future.", 0},
    {"Reason", "string", "",
     "This should be a short, machine understandable string that gives the reason for the "
     "transition into the object's current status.",
     0},
    {"Object", "string", "", "The object that this event is about.", 0},
    {"Subobject", "string", "", "The subobject that this event is about.", 1},
    {"Source", "string", "",
     "The component reporting this event. Should be a short machine understandable string.", 1},
    {"Message", "string", "", "A human-readable description of the status of this operation.", 0},
    {"First Seen", "string", "",
     "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", 1},
    {"Count", "string", "", "The number of times this event has occurred.", 1},
    {"Name", "string", "name", DESC_NAME, 1},
    {NULL, NULL, NULL, NULL, 0}};
static const col PV_COLS[] = {
    NAME_COL,
    {"Capacity", "string", "",
     "capacity is the description of the persistent volume's resources and capacity.", 0},
    {"Access Modes", "string", "", "accessModes contains all ways the volume can be mounted.", 0},
    {"Reclaim Policy", "string", "",
     "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from "
     "its claim.",
     0},
    {"Status", "string", "",
     "phase indicates if a volume is available, bound to a claim, or released by a claim.", 0},
    {"Claim", "string", "",
     "claimRef is part of a bi-directional binding between PersistentVolume and "
     "PersistentVolumeClaim.",
     0},
    {"StorageClass", "string", "",
     "storageClassName is the name of StorageClass to which this persistent volume belongs. Empty "
     "value means that this volume does not belong to any StorageClass.",
     0},
    {"VolumeAttributesClass", "string", "",
     "VolumeAttributesClass is the name of the VolumeAttributesClass this persistent volume uses.",
     0},
    {"Reason", "string", "",
     "reason is a brief CamelCase string that describes any failure and is meant for machine "
     "parsing and tidy display in the CLI.",
     0},
    AGE_COL,
    {"VolumeMode", "string", "",
     "volumeMode defines if a volume is intended to be used with a formatted filesystem or to "
     "remain in raw block state.",
     1},
    {NULL, NULL, NULL, NULL, 0}};
static const col PVC_COLS[] = {
    NAME_COL,
    {"Status", "string", "", "phase represents the current phase of PersistentVolumeClaim.", 0},
    {"Volume", "string", "",
     "volumeName is the binding reference to the PersistentVolume backing this claim.", 0},
    {"Capacity", "string", "", "capacity represents the actual resources of the underlying volume.",
     0},
    {"Access Modes", "string", "",
     "accessModes contains the actual access modes the volume backing the PVC has.", 0},
    {"StorageClass", "string", "",
     "storageClassName is the name of the StorageClass required by the claim.", 0},
    {"VolumeAttributesClass", "string", "",
     "volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.",
     0},
    AGE_COL,
    {"VolumeMode", "string", "", "volumeMode defines what type of volume is required by the claim.",
     1},
    {NULL, NULL, NULL, NULL, 0}};

static const col *cols_for(const apis_res *r)
{
    static const col *const T[APIS_NRES] = {NS_COLS,   POD_COLS, SVC_COLS,    EP_COLS,
                                            NODE_COLS, SA_COLS,  SECRET_COLS, CM_COLS,
                                            EV_COLS,   PV_COLS,  PVC_COLS};
    return T[r->idx];
}

static bool skip_col(const apis_persona *p, const col *c)
{
    /* VolumeAttributesClass columns came with 1.29. */
    return p->minor < 29 && !strcmp(c->name, "VolumeAttributesClass");
}

static json_t *pod_cells(const json_t *o, int64_t now)
{
    const json_t *spec = json_object_get(o, "spec"), *st = json_object_get(o, "status");
    size_t total = json_array_size(json_object_get(spec, "containers"));
    size_t ready = 0;
    long restarts = 0;
    int64_t last_restart = -1;
    const char *reason = sget(o, "status.reason");
    if (!reason || !*reason)
        reason = sget(o, "status.phase");
    const json_t *css = json_object_get(st, "containerStatuses");
    size_t i;
    json_t *cs;
    const char *waiting = NULL, *terminated = NULL;
    json_array_foreach(css, i, cs)
    {
        restarts += (long)json_integer_value(json_object_get(cs, "restartCount"));
        if (json_is_true(json_object_get(cs, "ready")) && jget(cs, "state.running"))
            ready++;
        const char *w = sget(cs, "state.waiting.reason");
        if (w && *w)
            waiting = w;
        const char *t = sget(cs, "state.terminated.reason");
        if (t && *t)
            terminated = t;
        int64_t lt = parse_time(sget(cs, "lastState.terminated.finishedAt"));
        if (lt > last_restart)
            last_restart = lt;
    }
    if (waiting)
        reason = waiting;
    else if (terminated)
        reason = terminated;
    if (sget(o, "metadata.deletionTimestamp"))
        reason = "Terminating";
    char readys[32], rs[64];
    snprintf(readys, sizeof(readys), "%zu/%zu", ready, total);
    if (restarts > 0 && last_restart >= 0) {
        char ago[32];
        snprintf(rs, sizeof(rs), "%ld (%s ago)", restarts,
                 apis_human_duration(now - last_restart, ago, sizeof(ago)));
    } else {
        snprintf(rs, sizeof(rs), "%ld", restarts);
    }
    json_t *cells = json_array();
    json_array_append_new(cells, str_or(sget(o, "metadata.name"), ""));
    json_array_append_new(cells, json_string(readys));
    json_array_append_new(cells, str_or(reason, "Pending"));
    json_array_append_new(cells, json_string(rs));
    json_array_append_new(cells, age_cell(o, "metadata.creationTimestamp", now));
    json_array_append_new(cells, str_or(sget(o, "status.podIP"), "<none>"));
    json_array_append_new(cells, str_or(sget(o, "spec.nodeName"), "<none>"));
    json_array_append_new(cells, str_or(sget(o, "status.nominatedNodeName"), "<none>"));
    json_array_append_new(cells, json_string("<none>"));
    return cells;
}

static void join_append(char *out, size_t outsz, const char *s)
{
    size_t n = strlen(out);
    snprintf(out + n, outsz - n, "%s%s", n ? "," : "", s);
}

static json_t *svc_cells(const json_t *o, int64_t now)
{
    const json_t *spec = json_object_get(o, "spec");
    const char *type = sget(o, "spec.type");
    char ports[512] = "", sel[512] = "", ext[256] = "";
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(spec, "ports"), i, p)
    {
        char one[64];
        json_int_t port = json_integer_value(json_object_get(p, "port"));
        json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
        const char *proto = json_string_value(json_object_get(p, "protocol"));
        if (np)
            snprintf(one, sizeof(one), "%lld:%lld/%s", (long long)port, (long long)np,
                     proto ? proto : "TCP");
        else
            snprintf(one, sizeof(one), "%lld/%s", (long long)port, proto ? proto : "TCP");
        join_append(ports, sizeof(ports), one);
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(spec, "selector"), k, v)
    {
        char one[300];
        snprintf(one, sizeof(one), "%s=%s", k, json_string_value(v) ? json_string_value(v) : "");
        join_append(sel, sizeof(sel), one);
    }
    json_array_foreach(json_object_get(spec, "externalIPs"), i, p)
        join_append(ext, sizeof(ext), json_string_value(p) ? json_string_value(p) : "");
    if (!ext[0] && type && !strcmp(type, "LoadBalancer"))
        snprintf(ext, sizeof(ext), "<pending>");
    if (!ext[0] && type && !strcmp(type, "ExternalName"))
        snprintf(ext, sizeof(ext), "%s",
                 sget(o, "spec.externalName") ? sget(o, "spec.externalName") : "");
    json_t *cells = json_array();
    json_array_append_new(cells, str_or(sget(o, "metadata.name"), ""));
    json_array_append_new(cells, str_or(type, "ClusterIP"));
    json_array_append_new(cells, str_or(sget(o, "spec.clusterIP"), "<none>"));
    json_array_append_new(cells, str_or(ext, "<none>"));
    json_array_append_new(cells, str_or(ports, "<none>"));
    json_array_append_new(cells, age_cell(o, "metadata.creationTimestamp", now));
    json_array_append_new(cells, str_or(sel, "<none>"));
    return cells;
}

static json_t *ep_cells(const json_t *o, int64_t now)
{
    char list[512] = "";
    int shown = 0, more = 0;
    size_t i, j, k;
    json_t *ss, *a, *p;
    json_array_foreach(json_object_get(o, "subsets"), i, ss)
    {
        const json_t *ports = json_object_get(ss, "ports");
        json_array_foreach(json_object_get(ss, "addresses"), j, a)
        {
            const char *ip = json_string_value(json_object_get(a, "ip"));
            if (json_array_size(ports) == 0) {
                if (shown < 3) {
                    join_append(list, sizeof(list), ip ? ip : "");
                    shown++;
                } else {
                    more++;
                }
            }
            json_array_foreach(ports, k, p)
            {
                if (shown < 3) {
                    char one[96];
                    snprintf(one, sizeof(one), "%s:%lld", ip ? ip : "",
                             (long long)json_integer_value(json_object_get(p, "port")));
                    join_append(list, sizeof(list), one);
                    shown++;
                } else {
                    more++;
                }
            }
        }
    }
    if (more) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof(list) - n, " + %d more...", more);
    }
    json_t *cells = json_array();
    json_array_append_new(cells, str_or(sget(o, "metadata.name"), ""));
    json_array_append_new(cells, str_or(list, "<none>"));
    json_array_append_new(cells, age_cell(o, "metadata.creationTimestamp", now));
    return cells;
}

static json_t *node_cells(const json_t *o, int64_t now)
{
    char status[128] = "Unknown", roles[256] = "", iip[128] = "", eip[128] = "";
    size_t i;
    json_t *c;
    json_array_foreach(jget(o, "status.conditions"), i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        const char *s = json_string_value(json_object_get(c, "status"));
        if (t && !strcmp(t, "Ready"))
            snprintf(status, sizeof(status), "%s",
                     s && !strcmp(s, "True") ? "Ready"
                                             : (s && !strcmp(s, "False") ? "NotReady" : "Unknown"));
    }
    if (json_is_true(jget(o, "spec.unschedulable")))
        strncat(status, ",SchedulingDisabled", sizeof(status) - strlen(status) - 1);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)jget(o, "metadata.labels"), k, v)
    {
        if (!strncmp(k, "node-role.kubernetes.io/", 24) && k[24])
            join_append(roles, sizeof(roles), k + 24);
        else if (!strcmp(k, "kubernetes.io/role") && json_string_value(v))
            join_append(roles, sizeof(roles), json_string_value(v));
    }
    json_array_foreach(jget(o, "status.addresses"), i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        const char *a = json_string_value(json_object_get(c, "address"));
        if (t && a && !strcmp(t, "InternalIP"))
            join_append(iip, sizeof(iip), a);
        if (t && a && !strcmp(t, "ExternalIP"))
            join_append(eip, sizeof(eip), a);
    }
    json_t *cells = json_array();
    json_array_append_new(cells, str_or(sget(o, "metadata.name"), ""));
    json_array_append_new(cells, json_string(status));
    json_array_append_new(cells, str_or(roles, "<none>"));
    json_array_append_new(cells, age_cell(o, "metadata.creationTimestamp", now));
    json_array_append_new(cells, str_or(sget(o, "status.nodeInfo.kubeletVersion"), ""));
    json_array_append_new(cells, str_or(iip, "<none>"));
    json_array_append_new(cells, str_or(eip, "<none>"));
    json_array_append_new(cells, str_or(sget(o, "status.nodeInfo.osImage"), "<unknown>"));
    json_array_append_new(cells, str_or(sget(o, "status.nodeInfo.kernelVersion"), "<unknown>"));
    json_array_append_new(cells,
                          str_or(sget(o, "status.nodeInfo.containerRuntimeVersion"), "<unknown>"));
    return cells;
}

static json_t *count_cell(const json_t *o, const char *a, const char *b)
{
    char n[24];
    snprintf(n, sizeof(n), "%zu",
             json_object_size(json_object_get(o, a)) +
                 (b ? json_object_size(json_object_get(o, b)) : 0));
    return json_string(n);
}

static const char *access_modes(const json_t *modes, char *out, size_t outsz)
{
    out[0] = '\0';
    size_t i;
    json_t *m;
    json_array_foreach(modes, i, m)
    {
        const char *s = json_string_value(m);
        const char *abbr = !s                               ? ""
                           : !strcmp(s, "ReadWriteOnce")    ? "RWO"
                           : !strcmp(s, "ReadOnlyMany")     ? "ROX"
                           : !strcmp(s, "ReadWriteMany")    ? "RWX"
                           : !strcmp(s, "ReadWriteOncePod") ? "RWOP"
                                                            : s;
        join_append(out, outsz, abbr);
    }
    return out;
}

static json_t *row_cells(const apis_res *r, const apis_persona *p, const json_t *o, int64_t now)
{
    json_t *cells;
    char b[256], b2[256];
    switch (r->idx) {
    case 0:
        cells = json_array();
        json_array_append_new(cells, str_or(sget(o, "metadata.name"), ""));
        json_array_append_new(cells, str_or(sget(o, "status.phase"), ""));
        json_array_append_new(cells, age_cell(o, "metadata.creationTimestamp", now));
        return cells;
    case 1:
        return pod_cells(o, now);
    case 2:
        return svc_cells(o, now);
    case 3:
        return ep_cells(o, now);
    case 4:
        return node_cells(o, now);
    case 5:
        cells = json_array();
        json_array_append_new(cells, str_or(sget(o, "metadata.name"), ""));
        snprintf(b, sizeof(b), "%zu", json_array_size(json_object_get(o, "secrets")));
        json_array_append_new(cells, json_string(b));
        json_array_append_new(cells, age_cell(o, "metadata.creationTimestamp", now));
        return cells;
    case 6:
        cells = json_array();
        json_array_append_new(cells, str_or(sget(o, "metadata.name"), ""));
        json_array_append_new(cells, str_or(sget(o, "type"), "Opaque"));
        json_array_append_new(cells, count_cell(o, "data", NULL));
        json_array_append_new(cells, age_cell(o, "metadata.creationTimestamp", now));
        return cells;
    case 7:
        cells = json_array();
        json_array_append_new(cells, str_or(sget(o, "metadata.name"), ""));
        json_array_append_new(cells, count_cell(o, "data", "binaryData"));
        json_array_append_new(cells, age_cell(o, "metadata.creationTimestamp", now));
        return cells;
    case 8: {
        cells = json_array();
        const char *last = sget(o, "lastTimestamp") ? "lastTimestamp"
                           : sget(o, "eventTime")   ? "eventTime"
                                                    : "metadata.creationTimestamp";
        const char *first = sget(o, "firstTimestamp") ? "firstTimestamp" : last;
        json_array_append_new(cells, age_cell(o, last, now));
        json_array_append_new(cells, str_or(sget(o, "type"), ""));
        json_array_append_new(cells, str_or(sget(o, "reason"), ""));
        const char *kind = sget(o, "involvedObject.kind");
        char lk[64] = "";
        for (size_t i = 0; kind && kind[i] && i + 1 < sizeof(lk); i++)
            lk[i] = (char)((kind[i] >= 'A' && kind[i] <= 'Z') ? kind[i] + 32 : kind[i]);
        snprintf(b, sizeof(b), "%s/%s", lk,
                 sget(o, "involvedObject.name") ? sget(o, "involvedObject.name") : "");
        json_array_append_new(cells, json_string(b));
        json_array_append_new(cells, str_or(sget(o, "involvedObject.fieldPath"), ""));
        const char *comp = sget(o, "source.component") ? sget(o, "source.component")
                                                       : sget(o, "reportingComponent");
        if (sget(o, "source.host"))
            snprintf(b2, sizeof(b2), "%s, %s", comp ? comp : "", sget(o, "source.host"));
        else
            snprintf(b2, sizeof(b2), "%s", comp ? comp : "");
        json_array_append_new(cells, json_string(b2));
        json_array_append_new(cells, str_or(sget(o, "message"), ""));
        json_array_append_new(cells, age_cell(o, first, now));
        json_int_t count = json_integer_value(json_object_get(o, "count"));
        snprintf(b, sizeof(b), "%lld", (long long)(count ? count : 1));
        json_array_append_new(cells, json_string(b));
        json_array_append_new(cells, str_or(sget(o, "metadata.name"), ""));
        return cells;
    }
    case 9: {
        cells = json_array();
        json_array_append_new(cells, str_or(sget(o, "metadata.name"), ""));
        json_array_append_new(cells, str_or(sget(o, "spec.capacity.storage"), ""));
        json_array_append_new(cells,
                              json_string(access_modes(jget(o, "spec.accessModes"), b, sizeof(b))));
        json_array_append_new(cells, str_or(sget(o, "spec.persistentVolumeReclaimPolicy"), ""));
        json_array_append_new(cells, str_or(sget(o, "status.phase"), ""));
        if (sget(o, "spec.claimRef.name"))
            snprintf(b2, sizeof(b2), "%s/%s",
                     sget(o, "spec.claimRef.namespace") ? sget(o, "spec.claimRef.namespace") : "",
                     sget(o, "spec.claimRef.name"));
        else
            b2[0] = '\0';
        json_array_append_new(cells, json_string(b2));
        json_array_append_new(cells, str_or(sget(o, "spec.storageClassName"), ""));
        if (p->minor >= 29)
            json_array_append_new(cells,
                                  str_or(sget(o, "spec.volumeAttributesClassName"), "<unset>"));
        json_array_append_new(cells, str_or(sget(o, "status.reason"), ""));
        json_array_append_new(cells, age_cell(o, "metadata.creationTimestamp", now));
        json_array_append_new(cells, str_or(sget(o, "spec.volumeMode"), "Filesystem"));
        return cells;
    }
    default: {
        cells = json_array();
        json_array_append_new(cells, str_or(sget(o, "metadata.name"), ""));
        json_array_append_new(cells, str_or(sget(o, "status.phase"), ""));
        json_array_append_new(cells, str_or(sget(o, "spec.volumeName"), ""));
        json_array_append_new(cells, str_or(sget(o, "status.capacity.storage"), ""));
        json_array_append_new(
            cells, json_string(access_modes(jget(o, "status.accessModes"), b, sizeof(b))));
        json_array_append_new(cells, str_or(sget(o, "spec.storageClassName"), ""));
        if (p->minor >= 29)
            json_array_append_new(cells,
                                  str_or(sget(o, "spec.volumeAttributesClassName"), "<unset>"));
        json_array_append_new(cells, age_cell(o, "metadata.creationTimestamp", now));
        json_array_append_new(cells, str_or(sget(o, "spec.volumeMode"), "Filesystem"));
        return cells;
    }
    }
}

json_t *apis_table_render(const apis_res *r, const apis_persona *p, const json_t *items,
                          const char *api_version, int64_t now_ns, const char *rv, const char *cont,
                          long remaining)
{
    json_t *t = json_object();
    json_object_set_new(t, "kind", json_string("Table"));
    json_object_set_new(t, "apiVersion", json_string(api_version));
    json_t *md = json_object();
    if (rv)
        json_object_set_new(md, "resourceVersion", json_string(rv));
    if (cont)
        json_object_set_new(md, "continue", json_string(cont));
    if (remaining >= 0)
        json_object_set_new(md, "remainingItemCount", json_integer(remaining));
    json_object_set_new(t, "metadata", md);
    json_t *cols = json_array();
    for (const col *c = cols_for(r); c->name; c++) {
        if (skip_col(p, c))
            continue;
        json_array_append_new(cols, json_pack("{s:s,s:s,s:s,s:s,s:i}", "name", c->name, "type",
                                              c->type, "format", c->format, "description", c->desc,
                                              "priority", c->priority));
    }
    json_object_set_new(t, "columnDefinitions", cols);
    json_t *rows = json_array();
    size_t i;
    json_t *o;
    json_array_foreach((json_t *)items, i, o)
    {
        json_t *pom = json_object();
        json_object_set_new(pom, "kind", json_string("PartialObjectMetadata"));
        json_object_set_new(pom, "apiVersion", json_string(api_version));
        json_t *omd = json_object_get(o, "metadata");
        json_object_set_new(pom, "metadata", omd ? json_deep_copy(omd) : json_object());
        json_t *row = json_object();
        json_object_set_new(row, "cells", row_cells(r, p, o, now_ns));
        json_object_set_new(row, "object", pom);
        json_array_append_new(rows, row);
    }
    json_object_set_new(t, "rows", rows);
    return t;
}
