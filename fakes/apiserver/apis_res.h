/*
 * apis_res.h - the core/v1 resources the fake serves, and what differs
 * between them: names, kinds, scope, verbs, short names, which field
 * selectors they support, how their names are validated and what defaults
 * the real registry fills in on create.
 */
#ifndef EFK_APIS_RES_H
#define EFK_APIS_RES_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

typedef enum apis_name_rule {
    APIS_NAME_SUBDOMAIN, /* DNS-1123 subdomain (most) */
    APIS_NAME_LABEL,     /* DNS-1123 label (namespaces) */
    APIS_NAME_1035,      /* DNS-1035 label (services) */
} apis_name_rule;

typedef struct apis_res {
    int idx;               /* position in the table */
    const char *name;      /* plural: "pods" */
    const char *singular;  /* "pod" */
    const char *kind;      /* "Pod" */
    const char *list_kind; /* "PodList" */
    bool namespaced;
    const char *short_names[3];
    const char *verbs[9];   /* NULL-terminated */
    const char *status_sub; /* "status" when it has a /status subresource, else NULL */
    bool in_all;            /* category "all" */
    apis_name_rule name_rule;
    /* Field selector labels it understands beyond metadata.name/namespace. */
    const char *fields[14];
} apis_res;

#define APIS_NRES 11

/* ObjectMeta's fields in the order Go serializes them (NULL-terminated). */
extern const char *const APIS_META_FIELDS[];

/* The table (APIS_NRES entries). */
const apis_res *apis_res_at(int idx);
/* By plural, singular, kind (case-insensitive) or short name; NULL if unknown. */
const apis_res *apis_res_find(const char *name);
/* By plural name only (URL segment); NULL if unknown. */
const apis_res *apis_res_by_plural(const char *plural);
/* By kind ("Pod"); NULL if unknown. */
const apis_res *apis_res_by_kind(const char *kind);

/* The value of a field-selector label on an object. Returns false when the
 * resource does not support that label ("field label not supported"). The
 * value is written into `out` ("" when the field is unset). */
bool apis_res_field(const apis_res *r, const json_t *obj, const char *label, char *out,
                    size_t outsz);

/* Validate a name for this resource. Returns NULL when valid, else the
 * validator's sentence (static) for a FieldValueInvalid cause. */
const char *apis_res_name_error(const apis_res *r, const char *name);
/* The same for a namespace name (DNS-1123 label). */
const char *apis_res_ns_name_error(const char *name);

/* Fill the defaults the real registry adds on create (pods: restartPolicy,
 * dnsPolicy, a Pending status ...; services: a cluster IP; namespaces:
 * the kubernetes finalizer, Active phase). `obj` is modified in place.
 * `seq` numbers allocations (cluster IPs). `api_create`: the request came
 * over the API (pod status is reset as the registry does), else it is seed
 * data kept as given. `ns_label`: add kubernetes.io/metadata.name. */
void apis_res_defaults(const apis_res *r, json_t *obj, unsigned long seq, bool api_create,
                       bool ns_label);

/* The APIResource entry for /api/v1 (new reference). */
json_t *apis_res_discovery_entry(const apis_res *r, bool with_categories);

#endif
