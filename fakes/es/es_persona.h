/*
 * es_persona.h - what changes between Elasticsearch versions on the wire.
 *
 * Clients of each era expect their era: the root document's fields, the
 * X-Elastic-Product header (7.14+), whether `_type` is required (<= 6.x),
 * optional (7.x) or an error (8.x unless the request uses the
 * `compatible-with=7` media type), the fields of a bulk item (`result` from
 * 5.x, `_seq_no`/`_primary_term` from 6.x, `_type` up to 7.x), the shape of
 * `hits.total` and the wording of errors. A persona is chosen once per fake
 * from `fakes.es.version`; a request may switch an 8.x persona into its 7.x
 * compatibility shape (es_persona_for_request).
 */
#ifndef EFK_ES_PERSONA_H
#define EFK_ES_PERSONA_H

#include <stdbool.h>

#include "core/err.h"

typedef struct es_persona {
    int major, minor, patch;
    char number[32];    /* "7.17.25" */
    const char *lucene; /* lucene_version */
    const char *build_hash;
    const char *build_date; /* build_timestamp (2.x) / build_date */
    const char *min_wire;   /* NULL before 6.x */
    const char *min_index;
    bool product_header;    /* X-Elastic-Product: Elasticsearch */
    bool dup_keys;          /* strict duplicate field detection */
    bool multi_type;        /* several mapping types per index (2.x, 5.x) */
    bool type_required;     /* bulk actions need a _type (<= 6.x) */
    bool type_rejected;     /* _type is a request error (8.x) */
    bool compat7;           /* an 8.x persona answering a compatible-with=7 request */
    bool total_as_object;   /* hits.total {value, relation} (>= 7.0) */
    bool parse_exc_wrapped; /* x_content_parse_exception (8.x) vs json_parse_exception */
} es_persona;

/* Choose a persona from a version string: "2.4", "5.6", "6.8", "7.17", "8",
 * "8.x" or any "MAJOR.MINOR[.PATCH]" whose major is 2, 5, 6, 7 or 8 (the
 * number is reported as given, completed with the persona's defaults).
 * 0 or -EINVAL with err (the allowed values listed). */
int es_persona_parse(const char *version, es_persona *p, efk_err *err)
    __attribute__((warn_unused_result));

/* What "compatible-with" a request asks for in Content-Type / Accept (either
 * NULL): 0 when none, else the version number; -1 when the two disagree. */
int es_compat_version(const char *content_type, const char *accept);

/* The persona to answer one request with: `base` itself, or for an 8.x
 * persona and compatible-with=7, its 7.x-shaped twin. */
void es_persona_for_request(const es_persona *base, int compat, es_persona *out);

#endif
