/*
 * es_bulk.h - the _bulk endpoint without HTTP: parse, validate, apply, answer.
 *
 * A request goes through three phases:
 *
 *   1. scan (no lock): split the body on '\n' as ES's BulkRequestParser
 *      does, read each action line (a hand-written fast path for the plain
 *      shapes shippers send, the exact tokenizer for anything else), check
 *      each document with the one-pass validator, find its delivery marker.
 *      Any request-level error (missing final newline, malformed action line,
 *      unknown parameter, _type on 8.x, ...) stops here.
 *   2. validate (no lock): BulkRequest.validate()'s checks ("index is
 *      missing", "id is missing", "no requests added"...), all or nothing.
 *   3. apply (store write lock): item by item, in order - index names,
 *      types, injected item faults, the memory cap, then the store - and
 *      write each item's answer from a template.
 *
 * So a rejected request never touches the store, and a request's items are
 * applied atomically with respect to other requests.
 */
#ifndef EFK_ES_BULK_H
#define EFK_ES_BULK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/rng.h"
#include "es_acct.h"
#include "es_id.h"
#include "es_json.h"
#include "es_persona.h"
#include "es_store.h"

/* An item fault: which items fail and how. The selection holds when every
 * given matcher holds; counters and the rng belong to the caller and are
 * updated under the store lock. */
typedef struct es_item_rule {
    int status;                /* 400, 403, 404, 409, 429, 500, 503 */
    const char *type;          /* error type; NULL: the status's usual one */
    const char *reason;        /* NULL: the persona's usual wording */
    const uint32_t *positions; /* 1-based positions within a request */
    size_t npositions;
    uint64_t every;         /* every nth matching item (0: every one) */
    const char *index_glob; /* NULL: any index */
    double probability;     /* < 0: always */
    uint64_t *counter;      /* matching items seen (for every) */
    uint64_t *failed;       /* items failed by this rule */
    rng *rng;               /* for probability */
} es_item_rule;

/* What a bulk runs against (all borrowed). */
typedef struct es_bulk_env {
    es_store *store;
    es_idgen *ids;
    es_acct *acct; /* NULL: no accounting */
    efk_clock *clock;
    const char *node_name;
} es_bulk_env;

typedef struct es_bulk_req {
    const char *body; /* decoded body (borrowed) */
    size_t len;
    const char *index;         /* default index from the path, or NULL */
    const char *type;          /* default type from the path, or NULL */
    const es_persona *persona; /* already adjusted for compatible-with */
    const es_item_rule *rules;
    size_t nrules;
    int64_t start_ns; /* monotonic time the request arrived (for took) */
} es_bulk_req;

typedef struct es_bulk_stats {
    size_t items;
    size_t failed;
    size_t faulted; /* failed by an item rule */
} es_bulk_stats;

/* Run one bulk request. Appends the answer's body to `out` and returns its
 * HTTP status (200 with items, or a request-level error status). `st` may
 * be NULL. Returns -ENOMEM when memory ran out (nothing applied, or - if it
 * happened during apply - the items done so far stay; `out` then holds a 500
 * body). */
int es_bulk_run(const es_bulk_env *env, const es_bulk_req *req, buf *out, es_bulk_stats *st);

/* The Jackson "Source" wording of a persona (NULL for (byte[])). */
const char *es_persona_src_desc(const es_persona *p);

/* Render a JSON syntax error as the persona's request-level error body (the
 * json_parse_exception / x_content_parse_exception envelope, 400). */
int es_parse_error_render(const es_persona *p, const es_jerr *e, const char *text, size_t len,
                          buf *out) __attribute__((warn_unused_result));

#endif
