/*
 * apis_status.h - the Status bodies kube-apiserver answers errors with.
 *
 * Every constructor here mirrors one of apimachinery's (pkg/api/errors):
 * same reason, same message text, same details, and the field order of the
 * Go struct (kind, apiVersion, metadata, status, message, reason, details,
 * code), because clients print the message verbatim and tests compare bytes.
 * All return a new reference; "code" in the object is the HTTP status.
 */
#ifndef EFK_APIS_STATUS_H
#define EFK_APIS_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "apis_persona.h"

/* A failure Status. `details` is stolen (may be NULL: no details key). */
json_t *apis_status_new(int code, const char *reason, const char *message, json_t *details);

/* A success Status with details (deletions that return no object). */
json_t *apis_status_success(const char *name, const char *kind, const char *uid);

/* StatusDetails with the empty fields left out ({} when all are empty). */
json_t *apis_details_new(const char *name, const char *group, const char *kind);

/* The HTTP status of a Status object (its "code"), 500 when missing. */
int apis_status_code(const json_t *st);
/* Its message (borrowed), "" when missing. */
const char *apis_status_message(const json_t *st);

json_t *apis_err_not_found(const char *resource, const char *name);      /* 404 NotFound */
json_t *apis_err_already_exists(const char *resource, const char *name); /* 409 AlreadyExists */
json_t *apis_err_conflict(const char *resource, const char *name); /* 409 Conflict (stale RV) */
json_t *apis_err_conflict_msg(const char *resource, const char *name, const char *why);
json_t *apis_err_bad_request(const char *message);               /* 400 BadRequest */
json_t *apis_err_expired(const char *message);                   /* 410 Expired */
json_t *apis_err_too_large(size_t limit);                        /* 413 */
json_t *apis_err_unsupported_media(const char *accepted);        /* 415 */
json_t *apis_err_too_many(const char *message, int retry_after); /* 429 */
json_t *apis_err_internal(const char *message);                  /* 500 */
json_t *apis_err_rv_too_large(uint64_t asked, uint64_t current); /* 504 Timeout */
json_t *apis_err_unauthorized(void);                             /* 401 */
/* The generic answers of the go-restful container (no resource known). */
json_t *
apis_err_generic(int code); /* 404 "the server could not find the requested resource", 405 ... */

/* 422 Invalid: `Kind "name" is invalid: <field>: <detail>`. `causes` is an
 * array of {"reason","message","field"} (stolen); the message joins them as
 * apimachinery's aggregate does. */
json_t *apis_err_invalid(const char *kind, const char *name, json_t *causes);
/* One cause of an Invalid: type "FieldValueInvalid" etc., the field path,
 * the detail; for FieldValueInvalid the value is quoted in as Go's %#v does. */
json_t *apis_cause_new(const char *type, const char *field, const char *value, const char *detail);

/* What a request was, for the 403 message. */
typedef struct apis_attrs {
    const char *user;
    const char *verb;     /* get list watch create update patch delete deletecollection */
    const char *resource; /* "" for a non-resource request */
    const char *group;    /* "" for core */
    const char *subresource;
    const char *ns;
    const char *name;
    const char *path; /* the path (non-resource requests) */
    const char *uri;  /* path and query as received (the oldest wording) */
} apis_attrs;

/* The 403 message of the persona's era (never NULL; caller frees). */
char *apis_forbidden_message(const apis_persona *p, const apis_attrs *a);
/* The 403 Status (JSON eras). */
json_t *apis_err_forbidden(const apis_persona *p, const apis_attrs *a);

#endif
