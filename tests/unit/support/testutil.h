/*
 * testutil.h - small helpers shared by the cmocka tests: an HTTP client over
 * libcurl that returns status, headers and body, temp dirs, and waiting on a
 * condition with a deadline (never a bare sleep).
 */
#ifndef EFK_TESTUTIL_H
#define EFK_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

typedef struct tu_resp {
    long status;       /* 0 when no HTTP answer came */
    CURLcode curl_rc;  /* the transfer's result */
    char *body;        /* NUL-terminated, owned */
    size_t body_len;
    char *headers;     /* raw header block, owned */
} tu_resp;

typedef struct tu_req {
    const char *method;     /* NULL: GET, or POST when body is set */
    const char *url;
    const char *body;
    size_t body_len;        /* 0: strlen(body) */
    const char *headers[16]; /* "Name: value", NULL-terminated */
    const char *cacert;     /* CA file for https */
    const char *cert, *key; /* client certificate files */
    long timeout_ms;        /* 0: 30 s */
    CURL *reuse;            /* a handle to reuse (keep-alive), or NULL */
} tu_req;

/* Perform a request; always fills `out` (free with tu_resp_free). */
void tu_http(const tu_req *req, tu_resp *out);
void tu_resp_free(tu_resp *r);

/* Value of a response header (case-insensitive) into `out`; false if absent. */
bool tu_header(const tu_resp *r, const char *name, char *out, size_t outsz);

/* A fresh temp directory (mkdtemp under TMPDIR or /tmp); caller frees the
 * string and removes the tree with tu_rmtree. */
char *tu_tmpdir(void);
void tu_rmtree(const char *path);

/* Write a string to a file; returns 0. */
int tu_write(const char *path, const char *s);

/* Poll `cond(arg)` every millisecond until true or `timeout_ms` passes. */
bool tu_wait(bool (*cond)(void *arg), void *arg, long timeout_ms);

int64_t tu_now_ms(void);

#endif
