/*
 * journal.h - every exchange a fake has, kept in a bounded ring.
 *
 * One journal per fake (shared by its listeners). Each entry is one request
 * and its answer: times, method, path, query, selected headers, the request
 * and response bodies up to a cap (with their full sizes), status, caller
 * identity and the fault applied. The ring holds at most `cap` entries; when
 * it is full the oldest entry goes and `dropped` counts it, so a reader can
 * tell a short history from an empty one. Optionally every entry is also
 * appended as one NDJSON line to a file (never capped: it is the artifact).
 *
 * Sequence numbers start at 1 and never repeat within a journal's life, even
 * across journal_reset(), so readers can poll with "since".
 * All functions are thread-safe.
 */
#ifndef EFK_JOURNAL_H
#define EFK_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <jansson.h>

#include "clock.h"

#define JOURNAL_MAX_HEADERS 12

typedef struct journal journal;

typedef struct journal_header {
    const char *name;
    const char *value;
} journal_header;

/* One exchange. In entries returned by journal_* functions every pointer
 * points into the entry's own single allocation (free with journal_entry_free). */
typedef struct journal_entry {
    uint64_t seq;
    int64_t wall_ns;   /* when the request arrived */
    int64_t mono_ns;
    int64_t dur_ns;    /* until the answer was complete */
    const char *listener; /* e.g. "https", "http" */
    const char *method;
    const char *path;  /* raw path as received, without query */
    const char *query; /* raw query without '?', "" when none */
    size_t nheaders;
    journal_header headers[JOURNAL_MAX_HEADERS];
    const char *identity; /* verified client-certificate CN, or "" */
    const char *req_body;
    size_t req_body_len;   /* stored bytes (<= body cap) */
    uint64_t req_body_size; /* full size as received (after decoding) */
    int status;             /* 0 when no answer was sent (closed, reset) */
    const char *resp_body;
    size_t resp_body_len;
    uint64_t resp_body_size;
    const char *fault; /* "<rule id>:<action>" of the fault applied, or "" */
} journal_entry;

typedef struct journal_config {
    size_t cap;          /* entries kept in memory (0: 10000) */
    size_t body_cap;     /* bytes of each body kept (0: 4096) */
    const char *ndjson_path; /* append each entry here, or NULL */
    efk_clock *clock;    /* NULL: system clock */
} journal_config;

/* New journal. 0, -ENOMEM, or -errno when the NDJSON file cannot be opened. */
int journal_new(const journal_config *cfg, journal **out) __attribute__((warn_unused_result));
void journal_free(journal *j);

/* Add an entry: everything in `e` is borrowed and copied (bodies truncated to
 * the body cap; seq and wall_ns/mono_ns are assigned unless wall_ns != 0).
 * Returns the seq given, 0 on ENOMEM (the entry is then counted as dropped). */
uint64_t journal_add(journal *j, const journal_entry *e);

/* Copy entries with seq > since, oldest first, at most `max` (0: all).
 * `*out` is a new array of new entries; free with journal_entries_free.
 * 0 or -ENOMEM. */
int journal_list(journal *j, uint64_t since, size_t max, journal_entry ***out, size_t *n)
    __attribute__((warn_unused_result));
void journal_entries_free(journal_entry **v, size_t n);
void journal_entry_free(journal_entry *e);

/* Counters: entries ever added, entries dropped from the ring (or on ENOMEM),
 * and the last seq given (0 when none). */
void journal_stats(journal *j, uint64_t *added, uint64_t *dropped, uint64_t *last_seq);

/* Forget the entries in memory (the NDJSON file keeps its lines). */
void journal_reset(journal *j);

/* Render one entry as a JSON object (new reference). Header names are
 * lowercase keys under "headers"; bodies are strings (invalid UTF-8 is
 * replaced), with "*_size" giving the full sizes. */
json_t *journal_entry_render(const journal_entry *e);

/* Look up a header of an entry by case-insensitive name; NULL when absent. */
const char *journal_entry_header(const journal_entry *e, const char *name);

#endif
