/*
 * err.h - the caller-owned error detail every efksim module writes into.
 *
 * Functions return an int status (0 or a negative errno-like code); the human
 * detail goes here: a message plus, where known, the place it is about (a file
 * with line and column, or a JSON pointer into a document). Nothing global.
 */
#ifndef EFK_ERR_H
#define EFK_ERR_H

#include <stddef.h>

#define EFK_ERR_MSG_MAX 1024
#define EFK_ERR_PLACE_MAX 512

typedef struct efk_err {
    char msg[EFK_ERR_MSG_MAX];       /* what was wrong, and what was expected */
    char file[EFK_ERR_PLACE_MAX];    /* file the error is about, or "" */
    char pointer[EFK_ERR_PLACE_MAX]; /* JSON pointer of the offending value, or "" */
    int line;                        /* 1-based, 0 when unknown */
    int column;                      /* 1-based, 0 when unknown */
} efk_err;

/* Clear all fields. `err` may be NULL (then nothing happens). */
void efk_err_init(efk_err *err);

/* Set the message (printf-style); keeps file/pointer/line/column. NULL-safe.
 * Always returns `code`, so callers can write `return efk_err_set(err, -EINVAL, ...)`. */
int efk_err_set(efk_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A value was not what was expected: set the JSON pointer it is at and the
 * message (printf-style). NULL-safe. Always returns -EINVAL. */
int efk_err_invalid(efk_err *err, const char *pointer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set the JSON pointer the error is about (copied). NULL-safe. */
void efk_err_at(efk_err *err, const char *pointer);

/* Set the file, line and column the error is about (copied). NULL-safe. */
void efk_err_pos(efk_err *err, const char *file, int line, int column);

/* Render "file:line:column: pointer: msg" leaving out the parts that are unset,
 * into `out` (always NUL-terminated). Returns `out`. */
const char *efk_err_render(const efk_err *err, char *out, size_t outsz);

#endif
