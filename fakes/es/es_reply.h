/*
 * es_reply.h - Elasticsearch's error bodies and name rules, shared by the
 * bulk path and the other routes.
 */
#ifndef EFK_ES_REPLY_H
#define EFK_ES_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "es_persona.h"

/* Append the request-level error envelope:
 *   {"error":{"root_cause":[{"type":T,"reason":R<extra>}],"type":T,
 *    "reason":R<extra>[,"caused_by":<caused>]},"status":N}
 * `extra` is raw JSON members starting with ',' (or NULL); `caused` a raw
 * JSON object (or NULL). 0 or buf's errors. */
int es_error_render(buf *out, int status, const char *type, const char *reason, const char *extra,
                    const char *caused) __attribute__((warn_unused_result));

/* Check an index name the way ES does when it creates an index. 0 when
 * valid; else -1 with ES's reason ("Invalid index name [Foo], must be
 * lowercase") in `reason`. */
int es_index_name_check(const es_persona *p, const char *name, size_t len, char *reason,
                        size_t reasonsz);

/* Append `s` as a JSON string literal (quotes included). */
int es_json_put_str(buf *out, const char *s, size_t len) __attribute__((warn_unused_result));

/* Append a decimal integer. */
int es_put_i64(buf *out, long long v) __attribute__((warn_unused_result));

#endif
