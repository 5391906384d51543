/*
 * es_acct.h - delivery accounting: which log lines arrived, which were lost,
 * which came twice, which came out of order.
 *
 * Every line the runner's log generator writes starts with the marker
 * `efk:<stream>:<seq> ` (stream [A-Za-z0-9._-]{1,64}, seq from 1). Each
 * document the fake stores is searched for it: by default anywhere in the
 * source (a scan for "efk:" over the raw bytes, no parsing), or in one
 * configured field, or with a user regex whose two groups are the stream and
 * the sequence number (the slow path).
 *
 * Per stream the accounting keeps the set of sequence numbers seen as sorted,
 * merged ranges (in-order delivery keeps it at one range), so a soak of
 * millions of lines costs a few bytes. A line whose number is already in the
 * set is a duplicate (counted, the first few kept as examples); a line whose
 * number is below the highest seen so far is out of order. Lost lines are the
 * gaps in [1, max(expected, highest seen)], reported as ranges.
 *
 * Caps: streams, stored ranges and examples are bounded; past the range cap a
 * stream is marked "overflow" (its counters stay exact, its loss ranges no
 * longer are) and the report says so.
 * All functions are thread-safe.
 */
#ifndef EFK_ES_ACCT_H
#define EFK_ES_ACCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core/err.h"

#define ES_ACCT_STREAM_MAX       64
#define ES_ACCT_DEFAULT_STREAMS  10000
#define ES_ACCT_DEFAULT_RANGES   1000000
#define ES_ACCT_DEFAULT_EXAMPLES 10

typedef struct es_acct es_acct;

typedef struct es_acct_config {
    const char *field;   /* field that carries the marker ("a.b" nests); NULL: any */
    const char *regex;   /* POSIX ERE, group 1 = stream, group 2 = seq; NULL: marker */
    size_t max_streams;  /* 0: ES_ACCT_DEFAULT_STREAMS */
    size_t max_ranges;   /* over all streams; 0: ES_ACCT_DEFAULT_RANGES */
    size_t max_examples; /* duplicate examples kept per stream; 0: default */
} es_acct_config;

/* A marker found in a document (stream points into the document). */
typedef struct es_mark {
    const char *stream;
    size_t stream_len;
    uint64_t seq;
} es_mark;

/* New accounting; the config is copied. 0 or -EINVAL (bad regex, with err
 * pointing at "/regex") / -ENOMEM. */
int es_acct_new(const es_acct_config *cfg, es_acct **out, efk_err *err)
    __attribute__((warn_unused_result));
void es_acct_free(es_acct *a);

/* Does the fast path apply (marker anywhere or in a top-level field)?
 * When it does and a top-level field is configured, *field names it. */
bool es_acct_fast(const es_acct *a, const char **field, size_t *field_len);

/* Find the marker in a document source (the whole source, or the raw value
 * of the configured top-level field the scanner found: pass that instead).
 * true when found. Thread-safe, no state touched. */
bool es_acct_find(const es_acct *a, const char *src, size_t len, es_mark *m);

/* Find the marker the slow way (nested field / regex): parses the source. */
bool es_acct_find_slow(const es_acct *a, const char *src, size_t len, es_mark *m);

/* Record deliveries (marks borrowed) and documents without a marker. */
void es_acct_record(es_acct *a, const es_mark *marks, size_t n, uint64_t unmarked);

/* The runner says how many lines a stream produced. 0 or -ENOSPC (stream cap)
 * / -EINVAL (bad stream name). */
int es_acct_set_expected(es_acct *a, const char *stream, uint64_t expected)
    __attribute__((warn_unused_result));

/* Forget everything (expected counts too). */
void es_acct_reset(es_acct *a);

/* One stream's figures. */
typedef struct es_acct_report {
    bool known; /* the stream has been seen or announced */
    bool has_expected;
    uint64_t expected;
    uint64_t delivered;    /* distinct lines that arrived */
    uint64_t lost;         /* lines in the gaps */
    uint64_t duplicated;   /* extra arrivals of lines already seen */
    uint64_t out_of_order; /* first arrivals below the highest seen */
    uint64_t max_seq;
    bool overflow; /* range cap hit: lost/ranges are a lower bound */
    size_t nlost_ranges;
} es_acct_report;

/* Fill `r` for `stream`; copy up to `max` lost ranges ([first, last], both
 * inclusive) into `ranges` when not NULL. */
void es_acct_stream(es_acct *a, const char *stream, es_acct_report *r, uint64_t (*ranges)[2],
                    size_t max);

/* Total documents seen without a marker. */
uint64_t es_acct_unmarked(es_acct *a);

/* The whole report as JSON (new reference), or one stream's when `stream`
 * is not NULL:
 *   {"streams":{"<s>":{"expected":N|null,"delivered":N,"lost":N,
 *    "lost_ranges":[[a,b],...],"duplicated":N,"duplicate_examples":[seq,...],
 *    "out_of_order":N,"max_seq":N,"overflow":false}},"unmarked":N}
 * At most `max_ranges` ranges per stream are listed (0: 1000);
 * "lost_ranges_truncated" says when more exist. */
json_t *es_acct_render(es_acct *a, const char *stream, size_t max_ranges);

#endif
