/*
 * route.h - method + path pattern route table with captures.
 *
 * Patterns are split on '/'. A segment is a literal ("_bulk"), a capture
 * ("{index}", one non-empty segment), or a tail capture ("{rest*}", the rest
 * of the path, possibly empty, as raw text with its slashes). Captures are
 * percent-decoded per segment, so "%2F" inside a segment stays in it.
 *
 * When several patterns match, the most specific wins: segments are compared
 * left to right and a literal beats a capture beats a tail. Routes with equal
 * specificity keep their insertion order. A path that matches some pattern but
 * with another method is reported as "method not allowed" (405), so fakes can
 * answer as their real server does; method "*" matches every method.
 */
#ifndef EFK_ROUTE_H
#define EFK_ROUTE_H

#include <stddef.h>

#define ROUTE_MAX_CAPTURES 8
#define ROUTE_MAX_ROUTES 512
#define ROUTE_MAX_SEGMENTS 32

typedef struct route_table route_table;

/* The handler is opaque to the table: any function pointer, cast back to its
 * real type by whoever registered it (http.h does this for http_handler). */
typedef void (*route_fn)(void);

typedef struct route_match {
    route_fn handler;
    void *handler_arg;
    size_t ncaptures;
    const char *names[ROUTE_MAX_CAPTURES]; /* borrowed from the table */
    char *values[ROUTE_MAX_CAPTURES];      /* owned by the match; route_match_cleanup */
    const char *pattern;                   /* borrowed: the pattern that matched */
} route_match;

/* New empty table (NULL on ENOMEM). */
route_table *route_table_new(void);
void route_table_free(route_table *t);

/* Add a route. `method` ("GET", or "*") and `pattern` are copied.
 * 0, -EINVAL for a malformed pattern, -ENOSPC past ROUTE_MAX_ROUTES, -ENOMEM. */
int route_add(route_table *t, const char *method, const char *pattern, route_fn handler,
              void *handler_arg) __attribute__((warn_unused_result));

/* Match a raw (still percent-encoded) path without query.
 * Returns 0 and fills `m` on a match; -ENOENT when no pattern matches the path;
 * -EPERM when a pattern matches the path but not the method (405; `m` then
 * holds the allowed methods joined by ", " in m->values[0] and ncaptures 0);
 * -EINVAL for a path that cannot be decoded (bad %-escape); -ENOMEM.
 * Thread-safe for concurrent matching once routes are added. */
int route_match_path(const route_table *t, const char *method, const char *raw_path,
                     route_match *m) __attribute__((warn_unused_result));

/* Look up a capture by name; NULL when absent. Borrowed from `m`. */
const char *route_capture(const route_match *m, const char *name);

void route_match_cleanup(route_match *m);

/* Percent-decode `len` bytes of `s` into a new string ('+' is kept as '+').
 * NULL on a bad escape or ENOMEM. Caller frees. */
char *route_pct_decode(const char *s, size_t len);

#endif
