/*
 * apis_discovery.h - the discovery documents: /api, /apis, /api/v1 in their
 * legacy form, and the aggregated form (apidiscovery.k8s.io/v2) that
 * client-go 1.30+ asks for first. kubectl of 1.27 asks for v2beta1 only; a
 * 1.33 server no longer serves that, so it falls back to the legacy
 * documents exactly as against a real 1.33 cluster.
 */
#ifndef EFK_APIS_DISCOVERY_H
#define EFK_APIS_DISCOVERY_H

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>

#include "apis_persona.h"
#include "apis_res.h"

/* {"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[...]} */
json_t *apis_discovery_api(const char *server_address);
/* {"kind":"APIGroupList","apiVersion":"v1","groups":[]} */
json_t *apis_discovery_apis(void);
/* The APIResourceList of core/v1 (with status subresources). */
json_t *apis_discovery_v1(const apis_persona *p);
/* The aggregated list for /api (core) or /apis (no groups here). */
json_t *apis_discovery_aggregated(const apis_persona *p, bool core);
/* The root document {"paths":[...]} for GET /. */
json_t *apis_discovery_root(const apis_persona *p);

/* OpenAPI v3 (1.27+): the index {"paths":{"api/v1":{...}}} and the api/v1
 * document. The document lists, per resource, its paths and operations with
 * their x-kubernetes-group-version-kind and query parameters (kubectl looks
 * for fieldValidation on PATCH to decide on server-side validation); it
 * carries no schemas, so kubectl builds apply patches from its built-in
 * types, as it does for core/v1 against any server. */
json_t *apis_openapi_v3_index(const char *hash);
json_t *apis_openapi_v3_core(const apis_persona *p);

/* The operations both OpenAPI documents list per kind: on the collection
 * path list and create, on the item path read, replace, delete and patch. */
typedef struct apis_openapi_op {
    bool item;          /* on ".../{name}" */
    int pb_field;       /* its field in gnostic's PathItem */
    const char *method; /* "get" ... */
    const char *verb;   /* operationId prefix: "list", "create", "read" ... */
    const char *action; /* x-kubernetes-action */
    bool write;         /* takes dryRun, fieldManager, fieldValidation */
} apis_openapi_op;

#define APIS_OPENAPI_NOPS 6
extern const apis_openapi_op APIS_OPENAPI_OPS[APIS_OPENAPI_NOPS];

/* The collection and item paths of a resource, and an operation's id
 * ("patchCoreV1NamespacedPod"). */
void apis_openapi_paths(const apis_res *r, char *coll, size_t csz, char *item, size_t isz);
void apis_openapi_op_id(const apis_openapi_op *op, const apis_res *r, char *out, size_t sz);

#endif
