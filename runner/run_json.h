/*
 * run_json.h - a scenario document: its JSON tree, where each value sits in
 * the text, and errors that name both.
 *
 * jansson reports line and column only for syntax errors. Every other error
 * in a scenario is about a value, named by its JSON pointer, and users want
 * to jump to it: "scenarios/x.json:12:7: /timeline/3/at: expected a duration
 * like "5s"". So once jansson has accepted the text, a second pass scans it
 * and records, for every value, its pointer and where it starts (and for an
 * object member, where its key starts). Lookups go through a hash table.
 *
 * Values changed after loading (by --set) are recorded as overrides: an error
 * about them names the override ("--set fakes.es.version=x") instead of a
 * place in the file.
 */
#ifndef RUN_JSON_H
#define RUN_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "core/err.h"

#define RUN_DOC_MAX_BYTES ((size_t)16 << 20) /* a scenario file is at most 16 MiB */
#define RUN_PTR_MAX       512                /* longest JSON pointer kept */

typedef struct run_doc run_doc;

/* Load and parse a file. Duplicate keys are syntax errors (as in jansson's
 * JSON_REJECT_DUPLICATES). Syntax errors fill err with file:line:column.
 * 0 or a negative errno; *out is new (run_doc_free). */
int run_doc_load(const char *path, run_doc **out, efk_err *err) __attribute__((warn_unused_result));

/* The same from memory; `name` is what errors call the file (copied). */
int run_doc_parse(const char *name, const char *text, size_t len, run_doc **out, efk_err *err)
    __attribute__((warn_unused_result));

/* An empty document ({}) named `name`, for "--set without a scenario". */
int run_doc_empty(const char *name, run_doc **out) __attribute__((warn_unused_result));

void run_doc_free(run_doc *d);

/* The root value (borrowed; may be changed in place by the owner). */
json_t *run_doc_root(const run_doc *d);
/* The file name as given, and its directory ("." when none). Borrowed. */
const char *run_doc_file(const run_doc *d);
const char *run_doc_dir(const run_doc *d);

/* Where the value at `pointer` starts, 1-based. When the pointer names no
 * value of the text (a missing member), the nearest existing ancestor is used.
 * false when nothing is known (empty pointer of an in-memory doc). */
bool run_doc_pos(const run_doc *d, const char *pointer, int *line, int *column);
/* Where the key of the object member at `pointer` starts (false if none). */
bool run_doc_key_pos(const run_doc *d, const char *pointer, int *line, int *column);

/* Record that the value at `pointer` (and everything below it) came from
 * `origin` (copied, e.g. "--set seed=4"). */
int run_doc_override(run_doc *d, const char *pointer, const char *origin)
    __attribute__((warn_unused_result));

/* Fill err's file, line and column for err->pointer (already set), from the
 * value's position, or from the override that made it. With `at_key`, the
 * position of the member's key is preferred (for unknown keys). */
void run_doc_locate(const run_doc *d, efk_err *err, bool at_key);

/* Set a complete error about the value at `pointer`: message, pointer, file,
 * line and column. Returns `code`. */
int run_doc_err(const run_doc *d, efk_err *err, int code, const char *pointer, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* As run_doc_err, positioned at the member's key (unknown keys). */
int run_doc_err_key(const run_doc *d, efk_err *err, int code, const char *pointer, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));

/* Append a reference token to a pointer, escaping '~' and '/' as RFC 6901
 * says. The result is truncated to `outsz`. Returns out. */
char *run_ptr_join(char *out, size_t outsz, const char *base, const char *token);
char *run_ptr_index(char *out, size_t outsz, const char *base, size_t index);

/* Look up a value by JSON pointer (borrowed), NULL when absent. */
json_t *run_ptr_get(json_t *root, const char *pointer);

/* A short description of a JSON value's type for messages ("a string",
 * "an array", "the number 3"...). Borrowed static text or written to buf. */
const char *run_json_describe(const json_t *v, char *buf, size_t bufsz);

#endif
