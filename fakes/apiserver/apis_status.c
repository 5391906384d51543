#include "apis_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *apis_status_new(int code, const char *reason, const char *message, json_t *details)
{
    json_t *st = json_object();
    json_object_set_new(st, "kind", json_string("Status"));
    json_object_set_new(st, "apiVersion", json_string("v1"));
    json_object_set_new(st, "metadata", json_object());
    json_object_set_new(st, "status", json_string("Failure"));
    if (message && *message)
        json_object_set_new(st, "message", json_string(message));
    if (reason && *reason)
        json_object_set_new(st, "reason", json_string(reason));
    if (details)
        json_object_set_new(st, "details", details);
    json_object_set_new(st, "code", json_integer(code));
    return st;
}

json_t *apis_status_success(const char *name, const char *kind, const char *uid)
{
    json_t *st = json_object();
    json_object_set_new(st, "kind", json_string("Status"));
    json_object_set_new(st, "apiVersion", json_string("v1"));
    json_object_set_new(st, "metadata", json_object());
    json_object_set_new(st, "status", json_string("Success"));
    json_t *d = apis_details_new(name, "", kind);
    if (uid && *uid)
        json_object_set_new(d, "uid", json_string(uid));
    json_object_set_new(st, "details", d);
    return st;
}

json_t *apis_details_new(const char *name, const char *group, const char *kind)
{
    json_t *d = json_object();
    if (name && *name)
        json_object_set_new(d, "name", json_string(name));
    if (group && *group)
        json_object_set_new(d, "group", json_string(group));
    if (kind && *kind)
        json_object_set_new(d, "kind", json_string(kind));
    return d;
}

int apis_status_code(const json_t *st)
{
    json_t *c = json_object_get(st, "code");
    return json_is_integer(c) ? (int)json_integer_value(c) : 500;
}

const char *apis_status_message(const json_t *st)
{
    const char *m = json_string_value(json_object_get(st, "message"));
    return m ? m : "";
}

/* Go's %q of a string: printable ASCII as is, quotes and backslashes escaped,
 * control bytes as \n \t or \x.. (UTF-8 above ASCII passes through). */
static void go_quote(char *out, size_t outsz, const char *s)
{
    size_t n = 0;
#define PUTC(c)                                                                                    \
    do {                                                                                           \
        if (n + 1 < outsz)                                                                         \
            out[n++] = (c);                                                                        \
    } while (0)
    PUTC('"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') {
            PUTC('\\');
            PUTC((char)*p);
        } else if (*p == '\n') {
            PUTC('\\');
            PUTC('n');
        } else if (*p == '\t') {
            PUTC('\\');
            PUTC('t');
        } else if (*p == '\r') {
            PUTC('\\');
            PUTC('r');
        } else if (*p < 0x20 || *p == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            PUTC('\\');
            PUTC('x');
            PUTC(hex[*p >> 4]);
            PUTC(hex[*p & 15]);
        } else {
            PUTC((char)*p);
        }
    }
    PUTC('"');
    out[n] = '\0';
#undef PUTC
}

json_t *apis_err_not_found(const char *resource, const char *name)
{
    char q[600], msg[800];
    go_quote(q, sizeof(q), name);
    snprintf(msg, sizeof(msg), "%s %s not found", resource, q);
    return apis_status_new(404, "NotFound", msg, apis_details_new(name, "", resource));
}

json_t *apis_err_already_exists(const char *resource, const char *name)
{
    char q[600], msg[800];
    go_quote(q, sizeof(q), name);
    snprintf(msg, sizeof(msg), "%s %s already exists", resource, q);
    return apis_status_new(409, "AlreadyExists", msg, apis_details_new(name, "", resource));
}

json_t *apis_err_conflict_msg(const char *resource, const char *name, const char *why)
{
    char q[600], msg[1400];
    go_quote(q, sizeof(q), name);
    snprintf(msg, sizeof(msg), "Operation cannot be fulfilled on %s %s: %s", resource, q, why);
    return apis_status_new(409, "Conflict", msg, apis_details_new(name, "", resource));
}

json_t *apis_err_conflict(const char *resource, const char *name)
{
    return apis_err_conflict_msg(resource, name,
                                 "the object has been modified; please apply your changes to "
                                 "the latest version and try again");
}

json_t *apis_err_bad_request(const char *message)
{
    return apis_status_new(400, "BadRequest", message, NULL);
}

json_t *apis_err_expired(const char *message)
{
    return apis_status_new(410, "Expired", message, NULL);
}

json_t *apis_err_too_large(size_t limit)
{
    char msg[128];
    snprintf(msg, sizeof(msg), "Request entity too large: limit is %zu", limit);
    return apis_status_new(413, "RequestEntityTooLarge", msg, NULL);
}

json_t *apis_err_unsupported_media(const char *accepted)
{
    char msg[512];
    snprintf(msg, sizeof(msg),
             "the body of the request was in an unknown format - accepted media types include: %s",
             accepted);
    return apis_status_new(415, "UnsupportedMediaType", msg, NULL);
}

json_t *apis_err_too_many(const char *message, int retry_after)
{
    char msg[600];
    snprintf(msg, sizeof(msg), "Too many requests: %s", message);
    json_t *d = json_object();
    if (retry_after > 0)
        json_object_set_new(d, "retryAfterSeconds", json_integer(retry_after));
    return apis_status_new(429, "TooManyRequests", msg, d);
}

json_t *apis_err_internal(const char *message)
{
    char msg[800];
    snprintf(msg, sizeof(msg), "Internal error occurred: %s", message);
    json_t *d = json_object();
    json_t *causes = json_array();
    json_t *c = json_object();
    json_object_set_new(c, "message", json_string(message));
    json_array_append_new(causes, c);
    json_object_set_new(d, "causes", causes);
    return apis_status_new(500, "InternalError", msg, d);
}

json_t *apis_err_rv_too_large(uint64_t asked, uint64_t current)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "Timeout: Too large resource version: %llu, current: %llu",
             (unsigned long long)asked, (unsigned long long)current);
    json_t *d = json_object();
    json_t *causes = json_array();
    json_t *c = json_object();
    json_object_set_new(c, "reason", json_string("ResourceVersionTooLarge"));
    json_object_set_new(c, "message", json_string("Too large resource version"));
    json_array_append_new(causes, c);
    json_object_set_new(d, "causes", causes);
    json_object_set_new(d, "retryAfterSeconds", json_integer(1));
    return apis_status_new(504, "Timeout", msg, d);
}

json_t *apis_err_unauthorized(void)
{
    return apis_status_new(401, "Unauthorized", "Unauthorized", NULL);
}

json_t *apis_err_generic(int code)
{
    switch (code) {
    case 404:
        return apis_status_new(404, "NotFound", "the server could not find the requested resource",
                               json_object());
    case 405:
        return apis_status_new(405, "MethodNotAllowed",
                               "the server does not allow this method on the requested resource",
                               json_object());
    case 406:
        return apis_status_new(406, "NotAcceptable",
                               "the server was unable to respond with a content type that the "
                               "client supports",
                               json_object());
    case 400:
        return apis_status_new(400, "BadRequest",
                               "the server rejected our request for an unknown reason",
                               json_object());
    default: {
        char msg[128];
        snprintf(msg, sizeof(msg),
                 "the server responded with the status code %d but did not return more "
                 "information",
                 code);
        return apis_status_new(code, "", msg, json_object());
    }
    }
}

json_t *apis_cause_new(const char *type, const char *field, const char *value, const char *detail)
{
    char msg[1400];
    if (strcmp(type, "FieldValueInvalid") == 0) {
        char q[600];
        go_quote(q, sizeof(q), value);
        snprintf(msg, sizeof(msg), "Invalid value: %s: %s", q, detail);
    } else if (strcmp(type, "FieldValueRequired") == 0) {
        snprintf(msg, sizeof(msg), "Required value%s%s", detail && *detail ? ": " : "",
                 detail ? detail : "");
    } else if (strcmp(type, "FieldValueNotSupported") == 0) {
        char q[600];
        go_quote(q, sizeof(q), value);
        snprintf(msg, sizeof(msg), "Unsupported value: %s: %s", q, detail);
    } else if (strcmp(type, "FieldValueForbidden") == 0) {
        snprintf(msg, sizeof(msg), "Forbidden: %s", detail);
    } else {
        snprintf(msg, sizeof(msg), "%s", detail);
    }
    json_t *c = json_object();
    json_object_set_new(c, "reason", json_string(type));
    json_object_set_new(c, "message", json_string(msg));
    json_object_set_new(c, "field", json_string(field));
    return c;
}

json_t *apis_err_invalid(const char *kind, const char *name, json_t *causes)
{
    char q[600];
    go_quote(q, sizeof(q), name);
    /* utilerrors.Aggregate: one error as is, several as "[a, b]". */
    size_t n = json_array_size(causes);
    size_t cap = 256;
    for (size_t i = 0; i < n; i++)
        cap += strlen(json_string_value(json_object_get(json_array_get(causes, i), "message"))) +
               strlen(json_string_value(json_object_get(json_array_get(causes, i), "field"))) + 4;
    char *agg = malloc(cap);
    size_t off = 0;
    agg[0] = '\0';
    if (n > 1)
        agg[off++] = '[';
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(causes, i);
        off += (size_t)snprintf(agg + off, cap - off, "%s%s: %s", i ? ", " : "",
                                json_string_value(json_object_get(c, "field")),
                                json_string_value(json_object_get(c, "message")));
    }
    if (n > 1)
        snprintf(agg + off, cap - off, "]");
    size_t msz = strlen(kind) + strlen(q) + strlen(agg) + 32;
    char *msg = malloc(msz);
    snprintf(msg, msz, "%s %s is invalid: %s", kind, q, agg);
    json_t *d = apis_details_new(name, "", kind);
    json_object_set_new(d, "causes", causes);
    json_t *st = apis_status_new(422, "Invalid", msg, d);
    free(msg);
    free(agg);
    return st;
}

/* The authorizer's sentence about the user (without the resource prefix). */
static char *user_sentence(const apis_persona *p, const apis_attrs *a)
{
    char user[600], ns[600], path[1200], res[300];
    go_quote(user, sizeof(user), a->user);
    go_quote(ns, sizeof(ns), a->ns);
    go_quote(path, sizeof(path), a->path);
    size_t sz = 4096;
    char *out = malloc(sz);
    bool old = p->forbid != APIS_FORBID_JSON_NEW;
    const char *dot = old ? "." : "";
    if (!a->resource || !*a->resource) {
        snprintf(out, sz, "User %s cannot %s path %s%s", user, a->verb, path, dot);
        return out;
    }
    if (old) {
        snprintf(res, sizeof(res), "%s%s%s%s%s", a->resource, a->group && *a->group ? "." : "",
                 a->group ? a->group : "", a->subresource && *a->subresource ? "/" : "",
                 a->subresource ? a->subresource : "");
        if (a->ns && *a->ns)
            snprintf(out, sz, "User %s cannot %s %s in the namespace %s.", user, a->verb, res, ns);
        else
            snprintf(out, sz, "User %s cannot %s %s at the cluster scope.", user, a->verb, res);
        return out;
    }
    char rq[400], gq[300];
    snprintf(res, sizeof(res), "%s%s%s", a->resource, a->subresource && *a->subresource ? "/" : "",
             a->subresource ? a->subresource : "");
    go_quote(rq, sizeof(rq), res);
    go_quote(gq, sizeof(gq), a->group ? a->group : "");
    if (a->ns && *a->ns)
        snprintf(out, sz, "User %s cannot %s resource %s in API group %s in the namespace %s", user,
                 a->verb, rq, gq, ns);
    else
        snprintf(out, sz, "User %s cannot %s resource %s in API group %s at the cluster scope",
                 user, a->verb, rq, gq);
    return out;
}

char *apis_forbidden_message(const apis_persona *p, const apis_attrs *a)
{
    size_t sz = 8192;
    char *out = malloc(sz);
    if (p->forbid == APIS_FORBID_TEXT_URI) {
        char q[4000];
        go_quote(q, sizeof(q), a->uri);
        snprintf(out, sz, "Forbidden: %s", q);
        return out;
    }
    char *who = user_sentence(p, a);
    /* NewForbidden: `<resource> "<name>" is forbidden: <why>`. */
    if (a->resource && *a->resource) {
        char gr[300], nq[600];
        snprintf(gr, sizeof(gr), "%s%s%s", a->resource, a->group && *a->group ? "." : "",
                 a->group ? a->group : "");
        if (a->name && *a->name) {
            go_quote(nq, sizeof(nq), a->name);
            snprintf(out, sz, "%s %s is forbidden: %s", gr, nq, who);
        } else {
            snprintf(out, sz, "%s is forbidden: %s", gr, who);
        }
    } else {
        snprintf(out, sz, "forbidden: %s", who);
    }
    free(who);
    return out;
}

json_t *apis_err_forbidden(const apis_persona *p, const apis_attrs *a)
{
    char *msg = apis_forbidden_message(p, a);
    json_t *d = apis_details_new(a->name, a->group, a->resource);
    json_t *st = apis_status_new(403, "Forbidden", msg, d);
    free(msg);
    return st;
}
