/*
 * es_query.h - enough of the query DSL for tests and for a person to look at
 * what arrived: match_all, match_none, term, terms, match, match_phrase,
 * range, exists, ids, prefix, wildcard, bool (must, filter, should,
 * must_not, minimum_should_match); size, from, sort.
 *
 * Documents are stored as raw source bytes; a query parses each document it
 * must look inside (jansson, once per document per search) and drops the
 * tree afterwards. Field semantics follow ES's dynamic mapping: a string is a
 * `text` field (lowercased word tokens) with a `.keyword` sub-field (the
 * exact value); numbers and booleans compare as values. Every hit scores 1.0
 * (the fake does not rank).
 */
#ifndef EFK_ES_QUERY_H
#define EFK_ES_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* Validate a query object (NULL or absent means match_all). 0, or -1 with
 * ES's error type and reason written to type/reason. */
int es_query_check(const json_t *q, char *type, size_t typesz, char *reason, size_t reasonsz);

/* Does `doc` (a parsed _source) with id `id` match `q` (checked)? */
bool es_query_match(const json_t *q, const json_t *doc, const char *id, size_t id_len);

/* Is the query a plain match_all (no need to look inside documents)? */
bool es_query_is_match_all(const json_t *q);

/* A parsed sort specification. */
typedef struct es_sort_key {
    char *field; /* "_doc", "_score", or a field path */
    bool desc;
} es_sort_key;

/* Parse "sort" (string, object or array of them). 0 or -1 with a reason.
 * The keys array is new (es_sort_free). */
int es_sort_parse(const json_t *sort, es_sort_key **keys, size_t *n, char *reason, size_t reasonsz);
void es_sort_free(es_sort_key *keys, size_t n);

/* The value a document sorts by on `field`: a new reference (json_null()
 * when missing). Strings from a "x.keyword" path come from "x". */
json_t *es_sort_value(const json_t *doc, const char *field);

/* Compare two sort values (missing last, numbers numerically, strings
 * bytewise); `desc` flips everything but the missing-last rule. */
int es_sort_cmp(const json_t *a, const json_t *b, bool desc);

#endif
