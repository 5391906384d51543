#include "apis_discovery.h"

#include <stdio.h>
#include <string.h>

#include "apis_res.h"

json_t *apis_discovery_api(const char *server_address)
{
    json_t *d = json_object();
    json_object_set_new(d, "kind", json_string("APIVersions"));
    json_object_set_new(d, "versions", json_pack("[s]", "v1"));
    json_object_set_new(
        d, "serverAddressByClientCIDRs",
        json_pack("[{s:s,s:s}]", "clientCIDR", "0.0.0.0/0", "serverAddress", server_address));
    return d;
}

json_t *apis_discovery_apis(void)
{
    json_t *d = json_object();
    json_object_set_new(d, "kind", json_string("APIGroupList"));
    json_object_set_new(d, "apiVersion", json_string("v1"));
    json_object_set_new(d, "groups", json_array());
    return d;
}

json_t *apis_discovery_v1(const apis_persona *p)
{
    json_t *d = json_object();
    json_object_set_new(d, "kind", json_string("APIResourceList"));
    json_object_set_new(d, "groupVersion", json_string("v1"));
    json_t *res = json_array();
    for (int i = 0; i < APIS_NRES; i++) {
        const apis_res *r = apis_res_at(i);
        json_array_append_new(res, apis_res_discovery_entry(r, p->minor >= 7));
        if (r->status_sub) {
            char name[64];
            snprintf(name, sizeof(name), "%s/status", r->name);
            json_t *e = json_object();
            json_object_set_new(e, "name", json_string(name));
            json_object_set_new(e, "singularName", json_string(""));
            json_object_set_new(e, "namespaced", json_boolean(r->namespaced));
            json_object_set_new(e, "kind", json_string(r->kind));
            json_object_set_new(e, "verbs", json_pack("[sss]", "get", "patch", "update"));
            json_array_append_new(res, e);
        }
    }
    json_object_set_new(d, "resources", res);
    return d;
}

json_t *apis_discovery_aggregated(const apis_persona *p, bool core)
{
    json_t *d = json_object();
    json_object_set_new(d, "kind", json_string("APIGroupDiscoveryList"));
    json_object_set_new(d, "apiVersion", json_string("apidiscovery.k8s.io/v2"));
    json_object_set_new(d, "metadata", json_object());
    json_t *items = json_array();
    if (core) {
        json_t *resources = json_array();
        for (int i = 0; i < APIS_NRES; i++) {
            const apis_res *r = apis_res_at(i);
            json_t *e = json_object();
            json_object_set_new(e, "resource", json_string(r->name));
            json_object_set_new(
                e, "responseKind",
                json_pack("{s:s,s:s,s:s}", "group", "", "version", "v1", "kind", r->kind));
            json_object_set_new(e, "scope", json_string(r->namespaced ? "Namespaced" : "Cluster"));
            json_object_set_new(e, "singularResource", json_string(r->singular));
            json_t *verbs = json_array();
            for (int k = 0; r->verbs[k]; k++)
                json_array_append_new(verbs, json_string(r->verbs[k]));
            json_object_set_new(e, "verbs", verbs);
            if (r->short_names[0]) {
                json_t *sn = json_array();
                for (int k = 0; k < 3 && r->short_names[k]; k++)
                    json_array_append_new(sn, json_string(r->short_names[k]));
                json_object_set_new(e, "shortNames", sn);
            }
            if (r->in_all)
                json_object_set_new(e, "categories", json_pack("[s]", "all"));
            if (r->status_sub)
                json_object_set_new(e, "subresources",
                                    json_pack("[{s:s,s:{s:s,s:s,s:s},s:[sss]}]", "subresource",
                                              "status", "responseKind", "group", "", "version",
                                              "v1", "kind", r->kind, "verbs", "get", "patch",
                                              "update"));
            json_array_append_new(resources, e);
        }
        json_t *ver = json_pack("{s:s,s:o,s:s}", "version", "v1", "resources", resources,
                                "freshness", "Current");
        json_t *group = json_object();
        json_object_set_new(group, "metadata", json_pack("{s:n}", "creationTimestamp"));
        json_object_set_new(group, "versions", json_pack("[o]", ver));
        json_array_append_new(items, group);
    }
    (void)p;
    json_object_set_new(d, "items", items);
    return d;
}

json_t *apis_discovery_root(const apis_persona *p)
{
    json_t *paths = json_array();
    const char *const P[] = {"/api",   "/api/v1", "/apis",    "/apis/", "/healthz",
                             "/livez", "/readyz", "/version", NULL};
    for (int i = 0; P[i]; i++) {
        if (p->healthz_only && (!strcmp(P[i], "/livez") || !strcmp(P[i], "/readyz")))
            continue;
        json_array_append_new(paths, json_string(P[i]));
    }
    return json_pack("{s:o}", "paths", paths);
}

json_t *apis_openapi_v3_index(const char *hash)
{
    char url[128];
    snprintf(url, sizeof(url), "/openapi/v3/api/v1?hash=%s", hash);
    return json_pack("{s:{s:{s:s}}}", "paths", "api/v1", "serverRelativeURL", url);
}

static json_t *param(const char *name, const char *desc)
{
    return json_pack("{s:s,s:s,s:s,s:{s:s,s:b}}", "name", name, "in", "query", "description", desc,
                     "schema", "type", "string", "uniqueItems", 1);
}

static json_t *op(const char *id, const char *action, const apis_res *r, bool write)
{
    json_t *o = json_object();
    json_object_set_new(o, "operationId", json_string(id));
    json_t *params = json_array();
    if (write) {
        json_array_append_new(params, param("dryRun", "When present, indicates that "
                                                      "modifications should not be persisted."));
        json_array_append_new(params, param("fieldManager", "fieldManager is a name associated "
                                                            "with the actor or entity that is "
                                                            "making these changes."));
        json_array_append_new(params,
                              param("fieldValidation",
                                    "fieldValidation instructs the server on how to handle "
                                    "objects in the request (POST/PUT/PATCH) containing unknown "
                                    "or duplicate fields."));
    }
    json_object_set_new(o, "parameters", params);
    json_object_set_new(o, "x-kubernetes-action", json_string(action));
    json_object_set_new(o, "x-kubernetes-group-version-kind",
                        json_pack("{s:s,s:s,s:s}", "group", "", "kind", r->kind, "version", "v1"));
    return o;
}

const apis_openapi_op APIS_OPENAPI_OPS[APIS_OPENAPI_NOPS] = {
    {false, 2, "get", "list", "list", false},       {false, 4, "post", "create", "post", true},
    {true, 2, "get", "read", "get", false},         {true, 3, "put", "replace", "put", true},
    {true, 5, "delete", "delete", "delete", false}, {true, 8, "patch", "patch", "patch", true},
};

void apis_openapi_paths(const apis_res *r, char *coll, size_t csz, char *item, size_t isz)
{
    if (r->namespaced)
        snprintf(coll, csz, "/api/v1/namespaces/{namespace}/%s", r->name);
    else
        snprintf(coll, csz, "/api/v1/%s", r->name);
    snprintf(item, isz, "%s/{name}", coll);
}

void apis_openapi_op_id(const apis_openapi_op *op, const apis_res *r, char *out, size_t sz)
{
    snprintf(out, sz, "%sCoreV1%s%s", op->verb, r->namespaced ? "Namespaced" : "", r->kind);
}

json_t *apis_openapi_v3_core(const apis_persona *p)
{
    json_t *paths = json_object();
    for (int i = 0; i < APIS_NRES; i++) {
        const apis_res *r = apis_res_at(i);
        char coll[128], item[160], id[128];
        apis_openapi_paths(r, coll, sizeof(coll), item, sizeof(item));
        json_t *c = json_object(), *it = json_object();
        for (int k = 0; k < APIS_OPENAPI_NOPS; k++) {
            const apis_openapi_op *o = &APIS_OPENAPI_OPS[k];
            apis_openapi_op_id(o, r, id, sizeof(id));
            json_object_set_new(o->item ? it : c, o->method, op(id, o->action, r, o->write));
        }
        json_object_set_new(paths, coll, c);
        json_object_set_new(paths, item, it);
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "openapi", json_string("3.0.0"));
    char ver[32];
    snprintf(ver, sizeof(ver), "v1.%d.0", p->minor);
    json_object_set_new(doc, "info", json_pack("{s:s,s:s}", "title", "Kubernetes", "version", ver));
    json_object_set_new(doc, "paths", paths);
    json_object_set_new(doc, "components", json_pack("{s:{}}", "schemas"));
    return doc;
}
