/*
 * run_check.h - reading typed values out of a scenario document with errors
 * that say where and what was expected.
 *
 * Every getter takes the object the value is a member of, the object's JSON
 * pointer and the key. A missing optional member leaves *out untouched and
 * returns 0, so callers set defaults first. Errors carry the file, the
 * pointer of the offending value and its line:column (run_json.h).
 * All return 0 or -EINVAL (or -ENOMEM).
 */
#ifndef RUN_CHECK_H
#define RUN_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <regex.h>

#include "core/buf.h"
#include "core/err.h"
#include "run_json.h"

typedef struct run_ck {
    const run_doc *doc;
    efk_err *err;
} run_ck;

/* `v` must be an object whose keys are all in the NULL-terminated `allowed`
 * list; an unknown key is an error at that key listing the allowed ones (and
 * the nearest, when one is close). */
int ck_object(run_ck *c, const char *ptr, const json_t *v, const char *const *allowed)
    __attribute__((warn_unused_result));

/* A required member is missing. */
int ck_missing(run_ck *c, const char *ptr, const char *key);

int ck_str(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
           const char **out) __attribute__((warn_unused_result));
/* A non-empty string matching [A-Za-z0-9._-]{1,64} (names and ids). */
int ck_name(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
            const char **out) __attribute__((warn_unused_result));
int ck_bool(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
            bool *out) __attribute__((warn_unused_result));
/* An integer in [min, max]. */
int ck_int(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
           int64_t min, int64_t max, int64_t *out) __attribute__((warn_unused_result));
/* A number (integer or real) in [min, max]. */
int ck_number(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
              double min, double max, double *out) __attribute__((warn_unused_result));
/* A duration string ("5s", "1m30s", "250ms", "0"), in nanoseconds. */
int ck_duration(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
                int64_t *out) __attribute__((warn_unused_result));
/* A byte size: a non-negative integer or a string like "64k", "1M". */
int ck_size(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
            uint64_t *out) __attribute__((warn_unused_result));
/* One of the NULL-terminated `choices`; *out is its index. */
int ck_enum(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
            const char *const *choices, int *out) __attribute__((warn_unused_result));
/* A POSIX extended regular expression, compiled into *re (regfree it when
 * *compiled is set). */
int ck_regex(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
             regex_t *re, bool *compiled) __attribute__((warn_unused_result));
/* A string member naming one of `names` (a process, a step...): *out is its
 * index. An unknown name is an error with the nearest one. */
int ck_ref(run_ck *c, const char *ptr, const json_t *obj, const char *key, const char *what,
           const char *const *names, size_t n, int *out) __attribute__((warn_unused_result));

/* Join a NULL-terminated list of names with ", " into out (truncated). */
char *run_join_names(const char *const *names, char *out, size_t outsz);

/* Append printf-style text to `b` (NULL: nothing); a full buffer keeps what
 * it has. For observations and descriptions. */
void run_put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A member that must be an array (of anything); borrowed. */
int ck_array(run_ck *c, const char *ptr, const json_t *obj, const char *key, bool required,
             json_t **out) __attribute__((warn_unused_result));

/* Count bounds shared by every kind that counts: "count" (exact), "min",
 * "max". With none given, min is `default_min`. max < 0: unbounded. */
typedef struct run_count {
    int64_t min, max;
} run_count;
int ck_count(run_ck *c, const char *ptr, const json_t *obj, int64_t default_min, run_count *out)
    __attribute__((warn_unused_result));
bool run_count_ok(const run_count *rc, int64_t n);
/* "exactly 3", "at least 1", "between 2 and 5", "at most 0". */
char *run_count_render(const run_count *rc, char *out, size_t outsz);

/* Up to `max` candidates nearest to `word` by edit distance (at most a third
 * of the word's length, or 2), best first. Returns how many were written. */
size_t run_nearest(const char *word, const char *const *cands, size_t ncands, const char **out,
                   size_t max);
/* Levenshtein distance with transpositions (optimal string alignment). */
size_t run_edit_distance(const char *a, const char *b);

#endif
