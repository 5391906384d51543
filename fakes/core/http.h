/*
 * http.h - the server layer every fake stands on (a wrapper over libmicrohttpd).
 *
 * A fake is a *service*: a route table, a journal, a fault chain and a reject
 * callback; it is exposed on one or more *listeners* (the API server has an
 * https and an http one). Each listener binds 127.0.0.1 on port 0 (or a given
 * port) and reports the port.
 *
 * Threading: libmicrohttpd runs one thread per connection, so a handler, a
 * delay or a stream that waits never stalls another client. Handlers are
 * called concurrently from many threads: fakes lock their own stores.
 *
 * A request's life:
 *   1. headers arrive; `Expect: 100-continue` is answered at once by MHD;
 *      a declared Content-Length over the body cap is refused at once (413);
 *   2. the body is accumulated up to the cap (over it: the reject callback
 *      with 413 once the body is consumed), then gzip/deflate decoded per
 *      Content-Encoding (bad data: reject 400; over the cap: reject 413);
 *   3. paths under /_efksim/ are the admin API (journal, whoami, reset,
 *      faults; not journaled, never faulted), unless the fake routed them;
 *   4. the fault chain is consulted; a delay is served by sleeping in the
 *      connection's own thread; respond/close/reset answer here;
 *   5. the route table picks the handler (404 and 405 go to the reject
 *      callback), the handler fills the response;
 *   6. partial/dribble faults shape how the body goes out; the exchange is
 *      journaled when the response is complete (or the connection died).
 */
#ifndef EFK_HTTP_H
#define EFK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "buf.h"
#include "clock.h"
#include "err.h"
#include "fault.h"
#include "journal.h"
#include "route.h"

#define HTTP_MAX_ORGS 8
#define HTTP_MAX_RESP_HEADERS 24
#define HTTP_STREAM_POLL_MS 100

typedef struct http_server http_server;
typedef struct http_req http_req;
typedef struct http_resp http_resp;

/* The caller as the TLS layer saw it. */
typedef struct http_identity {
    bool tls;            /* the request came over TLS */
    bool cert_present;   /* the client sent a certificate */
    bool cert_verified;  /* ... and it verified against the trusted CA */
    char cn[256];        /* subject CN of a verified certificate */
    size_t norgs;
    char orgs[HTTP_MAX_ORGS][128]; /* subject O values, in order */
} http_identity;

/* A route handler: fill `resp`. Called in the connection's thread. */
typedef void (*http_handler)(void *arg, http_req *req, http_resp *resp);

/* Answer a request the layer itself refuses: 400 (undecodable body or path),
 * 404 (no route), 405 (`detail` lists the allowed methods), 413 (body over
 * the cap; `detail` is the cap). Must fill resp as the real server would. */
typedef void (*http_reject_fn)(void *arg, http_req *req, int status, const char *detail,
                               http_resp *resp);

/* Streaming body producer (watches). Called repeatedly in the connection's
 * thread; append what is ready to `out` (may append nothing) and return
 * HTTP_STREAM_MORE to be called again, HTTP_STREAM_END to end the body cleanly
 * after `out`, or HTTP_STREAM_ABORT to cut the connection. It may wait for
 * data but must return within HTTP_STREAM_POLL_MS so the server can stop. */
#define HTTP_STREAM_MORE 0
#define HTTP_STREAM_END 1
#define HTTP_STREAM_ABORT (-1)
typedef int (*http_stream_fn)(void *cls, buf *out);

typedef struct http_service_config {
    const char *name;        /* the fake's name, for whoami ("es") */
    route_table *routes;     /* borrowed; handlers added with http_route() */
    http_reject_fn reject;   /* required */
    void *reject_arg;
    journal *journal;        /* borrowed; NULL: nothing journaled */
    fault_chain *faults;     /* borrowed; NULL: no faults */
    efk_clock *clock;        /* borrowed; NULL: system clock */
    size_t body_cap;         /* max request body after decoding; 0: 100 MiB */
    size_t conn_memory;      /* MHD per-connection memory; 0: 1 MiB */
    /* Called by POST /_efksim/reset after the journal and faults are
     * cleared, for the fake's own state. May be NULL. */
    void (*reset)(void *arg);
    void *reset_arg;
} http_service_config;

typedef struct http_listener_config {
    const char *name;        /* "http", "https", ... (journaled) */
    uint16_t port;           /* 0: ephemeral */
    bool tls;
    const char *cert_pem;    /* server certificate chain (tls) */
    const char *key_pem;     /* its key (tls) */
    const char *trust_pem;   /* when set, client certificates are requested
                                and verified against this CA */
} http_listener_config;

/* Register a handler. Method "*" matches any. 0 or route_add's errors. */
int http_route(route_table *t, const char *method, const char *pattern, http_handler h,
               void *arg) __attribute__((warn_unused_result));

/* Start a listener for a service. Both configs are borrowed for the call
 * only (everything needed is copied), except the objects the service config
 * points to, which must outlive the server. 0 or a negative errno with err. */
int http_server_start(const http_service_config *svc, const http_listener_config *lc,
                      http_server **out, efk_err *err) __attribute__((warn_unused_result));

/* The bound port. */
uint16_t http_server_port(const http_server *s);

/* "http://127.0.0.1:PORT" or "https://..." (borrowed). */
const char *http_server_url(const http_server *s);

/* Stop listening and close every connection (open streams are ended); the
 * port stays reserved for http_server_up(). Idempotent. 0 or -errno. */
int http_server_down(http_server *s);

/* Listen again on the same port after http_server_down(). Idempotent.
 * 0, or -EADDRINUSE when someone took the port meanwhile. */
int http_server_up(http_server *s, efk_err *err) __attribute__((warn_unused_result));

bool http_server_is_up(const http_server *s);

/* Stop everything, close open connections, free. NULL-safe. */
void http_server_stop(http_server *s);

/* ---- the request (all borrowed, valid during the handler call) ---- */
const char *http_req_method(const http_req *r);
const char *http_req_path(const http_req *r);  /* raw, without query */
const char *http_req_query(const http_req *r); /* raw, without '?', "" if none */
/* Header value (case-insensitive name), NULL when absent. */
const char *http_req_header(const http_req *r, const char *name);
/* Decoded query argument ('+' is a space); "" when given without a value;
 * NULL when absent. With several, the first. */
const char *http_req_arg(const http_req *r, const char *key);
/* Iterate decoded query arguments in order: 0 while there are more. */
int http_req_arg_at(const http_req *r, size_t i, const char **key, const char **value);
/* A route capture by name (decoded), NULL when absent. */
const char *http_req_capture(const http_req *r, const char *name);
/* The decoded body (NUL-terminated; may contain NULs); len may be NULL. */
const char *http_req_body(const http_req *r, size_t *len);
const http_identity *http_req_identity(const http_req *r);
const char *http_req_listener(const http_req *r);
/* The fault rule whose domain action the fake must carry out, or NULL.
 * Also the call number of the rule for this request. */
const fault_rule *http_req_fault(const http_req *r, uint64_t *call_no);
/* Mark that the handler carried out a domain fault (journaled as such). */
void http_req_fault_applied(http_req *r);
/* The server the request came in on. */
http_server *http_req_server(const http_req *r);

/* ---- the response ---- */
void http_resp_status(http_resp *p, int status);
/* Add a header (copied). Content-Length and Transfer-Encoding are the layer's.
 * 0, -ENOSPC past HTTP_MAX_RESP_HEADERS, -ENOMEM. */
int http_resp_header(http_resp *p, const char *name, const char *value);
/* The body buffer, to append to directly (the response owns it). */
buf *http_resp_buf(http_resp *p);
/* Set status, Content-Type and body (copied). */
int http_resp_text(http_resp *p, int status, const char *content_type, const char *body);
/* Set status, `Content-Type: application/json` and the compact JSON body.
 * Steals the reference to `j`. */
int http_resp_json(http_resp *p, int status, json_t *j);
/* Make the body a stream (chunked encoding). The response takes `cls` and
 * calls free_fn(cls) when the stream is over (also if it never started). */
int http_resp_stream(http_resp *p, int status, http_stream_fn fn, void *cls,
                     void (*free_fn)(void *cls));
/* Close the connection after this answer (no keep-alive). */
void http_resp_close(http_resp *p);
/* Cut the connection instead of answering: FIN (reset=false) or RST. */
void http_resp_drop(http_resp *p, bool reset);

#endif
