/*
 * es_api.h - public C API of the fake Elasticsearch
 * (included by fakes/efksim.h; include that instead).
 *
 * The fake serves the _bulk API and the read endpoints a test needs, as the
 * Elasticsearch version chosen by `version` (2.4, 5.6, 6.8, 7.17, 8.x), keeps
 * what arrives in a capped in-memory store, and counts delivered log lines
 * per stream (see docs/fakes/es.md). Faults: the core chain plus two domain
 * actions, "es_items" (fail chosen bulk items) and "es_reject" (fail whole
 * requests the way ES and proxies in front of it do).
 */
#ifndef EFK_ES_API_H
#define EFK_ES_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core/err.h"
#include "core/fault.h"
#include "core/journal.h"
#include "core/runtime.h"

typedef struct efk_es efk_es;

#define EFK_ES_MAX_CREDENTIALS 32

typedef struct efk_es_credential {
    char *user;   /* basic: user name; api key: the key id */
    char *secret; /* basic: password; api key: the key */
} efk_es_credential;

typedef struct efk_es_config {
    char *version;               /* "7.17" by default */
    uint64_t store_limit;        /* bytes (default 1 GiB) */
    bool accounting_only;        /* "store": "accounting" */
    uint64_t max_content_length; /* http.max_content_length (default 100 MiB) */
    char *cluster_name;          /* "elasticsearch" */
    char *node_name;             /* "efksim-es" */
    size_t conn_memory;          /* per-connection buffer (default 512 KiB) */
    /* security: when any credential is set, every request needs one */
    efk_es_credential users[EFK_ES_MAX_CREDENTIALS];
    size_t nusers;
    efk_es_credential api_keys[EFK_ES_MAX_CREDENTIALS];
    size_t napi_keys;
    /* delivery accounting */
    char *acct_field;        /* field carrying the marker; NULL: anywhere */
    char *acct_regex;        /* two groups: stream, seq; NULL: the marker */
    size_t acct_max_streams; /* 0: 10000 */
    json_t *expected;        /* {"stream": N}, or NULL */
    json_t *faults;          /* initial fault rules (array), or NULL */
} efk_es_config;

/* Defaults (owned strings are NULL until parsed). */
void efk_es_config_init(efk_es_config *cfg);

/* Parse the scenario's "fakes.es" object (borrowed). Unknown keys are errors
 * listing the allowed ones; err->pointer is relative to the section.
 * 0 or -EINVAL / -ENOMEM. */
int efk_es_config_parse(efk_es_config *cfg, const json_t *section, const char *base_dir,
                        efk_err *err) __attribute__((warn_unused_result));
void efk_es_config_cleanup(efk_es_config *cfg);

/* Start the fake on 127.0.0.1, an ephemeral port. `cfg` is copied; `rt` is
 * borrowed for the fake's life. 0 or a negative code with err. */
int efk_es_start(const efk_es_config *cfg, const efk_runtime *rt, efk_es **out, efk_err *err)
    __attribute__((warn_unused_result));
/* Stop (open connections are closed) and free. NULL-safe. */
void efk_es_stop(efk_es *es);

const char *efk_es_url(const efk_es *es); /* borrowed: "http://127.0.0.1:PORT" */
journal *efk_es_journal(efk_es *es);      /* borrowed */
fault_chain *efk_es_faults(efk_es *es);   /* borrowed */
/* Register the fake's own fault actions (es_items, es_reject, with their
 * parameter checks) on a chain, so rules can be checked before any fake
 * runs. 0 or fault_domain_add's error. */
int efk_es_fault_actions(fault_chain *c) __attribute__((warn_unused_result));
/* A dump for artifacts: persona, indices with counts and bytes, store use,
 * delivery report. New reference. */
json_t *efk_es_state_render(efk_es *es);

/* ---- timeline actions ---- */

/* Go down (connections refused; the port stays reserved) / come back.
 * 0 or a negative code (up: -EADDRINUSE when the port was taken). */
int efk_es_down(efk_es *es);
int efk_es_up(efk_es *es, efk_err *err) __attribute__((warn_unused_result));

/* Fail chosen bulk items. Matchers combine (all must hold); leave a field
 * 0/NULL/negative for "any". */
typedef struct efk_es_item_fault {
    const char *id; /* rule id, or NULL for a generated one */
    int status;     /* 400, 403, 404, 409, 429, 500, 503 */
    const char
        *error_type;    /* NULL: usual for the status (429: es_rejected_execution_exception...) */
    const char *reason; /* NULL: the persona's wording */
    const uint32_t *positions; /* 1-based item positions within a request */
    size_t npositions;
    uint64_t every;     /* every nth matching item, counted across requests */
    const char *index;  /* glob on the item's index */
    double probability; /* < 0: unset; drawn from the seeded stream */
    int64_t times;      /* requests the rule applies to; -1 unlimited */
} efk_es_item_fault;

/* Add an item-fault rule (at the end of the chain). The rule id is copied to
 * id_out (FAULT_ID_MAX bytes) when not NULL. 0 or -EINVAL with err. */
int efk_es_fail_items(efk_es *es, const efk_es_item_fault *f, char *id_out, efk_err *err)
    __attribute__((warn_unused_result));

/* Fail whole requests (matching `path_glob`, NULL: bulk requests) with:
 *   "rejected_execution" (429 es_rejected_execution_exception, indexing pressure),
 *   "circuit_breaking"   (429 circuit_breaking_exception),
 *   "no_master"          (503 cluster_block_exception, no master),
 *   "unavailable"        (503 unavailable_shards_exception),
 *   "too_large"          (413, empty body, as ES over http.max_content_length),
 *   "proxy_html"         (502 HTML page, as an nginx in front of ES),
 *   "security"           (401 security_exception).
 * `times` -1 for unlimited. 0 or -EINVAL with err. */
int efk_es_fail_requests(efk_es *es, const char *kind, const char *path_glob, int64_t times,
                         char *id_out, efk_err *err) __attribute__((warn_unused_result));

/* Delay answers (uniform in [min, max]) or hang them until the fake stops
 * (hang: min = max = -1). `times` -1 for unlimited. */
int efk_es_slow(efk_es *es, int64_t min_ns, int64_t max_ns, const char *path_glob, int64_t times,
                char *id_out, efk_err *err) __attribute__((warn_unused_result));

/* Add any rule in the JSON form of docs/faults.md (domain actions included),
 * or remove one by id. */
int efk_es_fault_add(efk_es *es, const json_t *rule, char *id_out, efk_err *err)
    __attribute__((warn_unused_result));
int efk_es_fault_del(efk_es *es, const char *id);

/* Delete every index and forget the accounting. */
void efk_es_clear(efk_es *es);

/* ---- expectation queries ---- */

/* Count documents in indices matching `index` (a name, comma list or
 * wildcard; NULL: all) that match `query` (query DSL, NULL: all).
 * 0, -ENOENT (a concrete index does not exist) or -EINVAL (bad query) with err. */
int efk_es_count(efk_es *es, const char *index, const json_t *query, uint64_t *count, efk_err *err)
    __attribute__((warn_unused_result));

/* Run a search as `POST /{index}/_search` with `body` would; returns the
 * answer (new reference) or NULL with err. */
json_t *efk_es_search(efk_es *es, const char *index, const json_t *body, efk_err *err);

/* The runner tells how many lines a stream produced. 0, -EINVAL, -ENOSPC. */
int efk_es_set_expected(efk_es *es, const char *stream, uint64_t expected)
    __attribute__((warn_unused_result));

typedef struct efk_es_delivery {
    bool known; /* the stream has been seen or announced */
    bool has_expected;
    uint64_t expected;
    uint64_t delivered;    /* distinct lines that arrived */
    uint64_t lost;         /* lines in the gaps of [1, max(expected, highest seen)] */
    uint64_t duplicated;   /* extra arrivals */
    uint64_t out_of_order; /* first arrivals below the highest seen */
    uint64_t max_seq;
    bool overflow; /* range cap hit: losses are a lower bound */
    size_t nlost_ranges;
} efk_es_delivery;

/* One stream's delivery figures; up to `max` lost ranges ([first, last]) are
 * copied to `ranges` when not NULL. */
void efk_es_delivery_get(efk_es *es, const char *stream, efk_es_delivery *d, uint64_t (*ranges)[2],
                         size_t max);

/* The delivery report as served on GET /_efksim/delivery (all streams, or
 * one when `stream` is not NULL). New reference. */
json_t *efk_es_delivery_render(efk_es *es, const char *stream);

#endif
