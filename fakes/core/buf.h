/*
 * buf.h - a growable byte buffer with a hard cap.
 *
 * Every buffer that grows from outside input has a declared maximum (curl's
 * "toobig" habit): appending past the cap fails with -E2BIG and leaves the
 * buffer as it was, so callers can answer 413 instead of growing without end.
 * The data is always NUL-terminated (the terminator is not counted in len).
 */
#ifndef EFK_BUF_H
#define EFK_BUF_H

#include <stddef.h>

typedef struct buf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t alloc;
    size_t cap; /* maximum len; 0 means SIZE_MAX */
} buf;

/* Initialise an empty buffer that may grow to `cap` bytes (0: unbounded). */
void buf_init(buf *b, size_t cap);

/* Free the data; the buffer is empty and usable again afterwards. */
void buf_cleanup(buf *b);

/* Make room for `extra` more bytes. 0, -E2BIG past the cap, -ENOMEM. */
int buf_reserve(buf *b, size_t extra) __attribute__((warn_unused_result));

/* Append bytes (copied). 0, -E2BIG, -ENOMEM; on error nothing is appended. */
int buf_append(buf *b, const void *data, size_t len) __attribute__((warn_unused_result));

/* Append a NUL-terminated string (copied). */
int buf_puts(buf *b, const char *s) __attribute__((warn_unused_result));

/* Append printf-style output. */
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)))
__attribute__((warn_unused_result));

/* Append `s` as a JSON string literal with quotes and escapes. */
int buf_json_str(buf *b, const char *s, size_t len) __attribute__((warn_unused_result));

/* Take the data out: returns it (caller frees) and leaves the buffer empty.
 * Never NULL: an empty buffer yields a fresh "" allocation (NULL only on ENOMEM). */
char *buf_take(buf *b, size_t *len_out);

/* Drop the contents, keep the allocation. */
void buf_reset(buf *b);

#endif
