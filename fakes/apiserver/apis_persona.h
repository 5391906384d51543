/*
 * apis_persona.h - what changed in kube-apiserver across the eras efksim plays.
 *
 * Clients of each era expect their own server: a 1.3 cluster answers 401 with
 * a text body and 403 with "Forbidden: <uri>", a 1.9 one sends Status JSON with
 * the pre-2018 forbidden wording, a 1.20 one the current wording, a 1.33 one
 * adds aggregated discovery v2. A persona is chosen by `fakes.apiserver.version`
 * ("1.33", or a full "1.33.2"); nothing here is a hidden default.
 */
#ifndef EFK_APIS_PERSONA_H
#define EFK_APIS_PERSONA_H

#include <stdbool.h>
#include <jansson.h>

/* How a 403 is answered. */
typedef enum apis_forbid_style {
    APIS_FORBID_TEXT_URI, /* text/plain `Forbidden: "/api/v1/..."` (<= 1.5) */
    APIS_FORBID_JSON_OLD, /* Status, `User "u" cannot get pods in the namespace "ns".` */
    APIS_FORBID_JSON_NEW, /* Status, `... cannot get resource "pods" in API group "" ...` */
} apis_forbid_style;

typedef struct apis_persona {
    const char *name;        /* "1.33" */
    int minor;               /* 33 */
    const char *git_version; /* default patch release: "v1.33.1" */
    const char *git_commit;
    const char *build_date;
    const char *go_version;
    bool unauthorized_json; /* 401 as Status JSON (else text "Unauthorized\n") */
    apis_forbid_style forbid;
    bool table;               /* serves meta.k8s.io Table (1.10+) */
    bool bookmarks;           /* honours allowWatchBookmarks (1.15+) */
    int aggregated_discovery; /* 0 none, 2: apidiscovery.k8s.io/v2 (v2beta1 is gone in 1.33) */
    bool version_emulation;   /* /version has emulation fields (1.32+) */
    bool endpoints_warning;   /* Warning header on v1 Endpoints (1.33+) */
    bool ns_name_label;       /* namespaces get kubernetes.io/metadata.name (1.21+) */
    bool healthz_only;        /* no /readyz /livez (< 1.16) */
    bool no_anonymous;        /* no anonymous requests at all: 401 (< 1.5, before --anonymous-auth) */
} apis_persona;

/* Find the persona for a version string: "1.3", "1.33", "v1.20.4", "1.9.11".
 * A full version overrides the gitVersion of the answer. Unknown minors are
 * rejected (the list is in the error). 0 or -EINVAL. `git_version_out` (at
 * least 32 bytes) receives the gitVersion to report. */
int apis_persona_find(const char *version, const apis_persona **out, char *git_version_out,
                      char *errmsg, size_t errsz) __attribute__((warn_unused_result));

/* The default persona (1.33). Borrowed, static. */
const apis_persona *apis_persona_default(void);

/* The /version document (new reference). */
json_t *apis_persona_version_doc(const apis_persona *p, const char *git_version);

/* The supported version names, comma-separated ("1.3, 1.5, ..."). Static. */
const char *apis_persona_names(void);

#endif
