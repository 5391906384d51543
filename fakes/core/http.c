#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/*
 * How the pieces fit.
 *
 * libmicrohttpd runs in thread-per-connection mode: every connection has its
 * own thread, so anything that waits (a fault's delay, a dribbled body, a
 * watch stream waiting for events) waits in that thread alone and never holds
 * up another client. Per-request state lives in `struct http_req`, created by
 * the URI log callback (the only place MHD shows the raw request target with
 * its query) and freed by the completion callback, after the exchange has
 * been journaled. Per-connection state (the TLS peer's identity, verified
 * once per connection rather than per request) hangs off MHD's socket
 * context.
 *
 * Stopping: `stopping` is raised before MHD_stop_daemon() so delays and
 * stream producers (which return at least every HTTP_STREAM_POLL_MS) end
 * their connection promptly and MHD can join the threads.
 */

#define HTTP_DEFAULT_BODY_CAP ((size_t)100 << 20)
#define HTTP_DEFAULT_CONN_MEMORY ((size_t)1 << 20)
#define SLICE_NS (50 * EFK_NS_PER_MS)

static const char *const JOURNAL_HEADERS[] = {
    "Authorization", "User-Agent",   "Content-Type", "Content-Encoding",
    "Accept",        "Content-Length", "Expect",     "Transfer-Encoding",
    "X-Opaque-Id",   "Connection",   NULL};

struct http_server {
    /* the service (borrowed objects, copied name) */
    char *svc_name;
    route_table *routes;
    http_reject_fn reject;
    void *reject_arg;
    journal *journal;
    fault_chain *faults;
    efk_clock *clock;
    size_t body_cap;
    size_t conn_memory;
    void (*reset)(void *arg);
    void *reset_arg;
    /* the listener */
    char *name;
    bool tls;
    char *cert_pem, *key_pem, *trust_pem;
    uint16_t port;
    char url[64];
    pthread_mutex_t mu; /* down/up/stop */
    struct MHD_Daemon *daemon;
    atomic_bool stopping;
};

typedef struct conn_ctx {
    bool checked;
    http_identity ident;
} conn_ctx;

typedef struct query_arg {
    char *key;
    char *value;
} query_arg;

struct http_resp {
    int status;
    size_t nheaders;
    char *hnames[HTTP_MAX_RESP_HEADERS];
    char *hvalues[HTTP_MAX_RESP_HEADERS];
    buf body;
    http_stream_fn stream;
    void *stream_cls;
    void (*stream_free)(void *);
    bool close;
    bool drop;
    bool rst;
};

enum req_state { REQ_NEW = 0, REQ_BODY, REQ_DONE };

struct http_req {
    http_server *srv;
    struct MHD_Connection *conn;
    enum req_state state;
    char *raw_uri;
    char *path;        /* raw path */
    const char *query; /* into raw_uri, "" when none */
    const char *method;
    size_t nargs;
    query_arg *args;
    bool args_parsed;
    buf body;
    uint64_t body_received;
    bool too_big;
    bool admin;
    route_match match;
    http_identity ident;
    fault_hit hit;
    bool fault_applied;
    int64_t start_wall, start_mono;
    struct http_resp resp;
    /* shaping and streaming */
    size_t partial; /* SIZE_MAX: whole body */
    size_t dribble_bytes;
    int64_t dribble_ns;
    buf spool;      /* stream bytes produced but not yet handed to MHD */
    size_t spool_off;
    bool stream_ended;
    buf sent_copy;  /* the first body_cap bytes of a streamed/shaped body */
    uint64_t sent_total;
    bool answered;
    bool journaled;
};

/* ---------------------------------------------------------------- routing */

int http_route(route_table *t, const char *method, const char *pattern, http_handler h, void *arg)
{
    return route_add(t, method, pattern, (route_fn)h, arg);
}

/* --------------------------------------------------------------- response */

void http_resp_status(http_resp *p, int status)
{
    p->status = status;
}

int http_resp_header(http_resp *p, const char *name, const char *value)
{
    if (p->nheaders >= HTTP_MAX_RESP_HEADERS)
        return -ENOSPC;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return -ENOMEM;
    }
    p->hnames[p->nheaders] = n;
    p->hvalues[p->nheaders++] = v;
    return 0;
}

buf *http_resp_buf(http_resp *p)
{
    return &p->body;
}

int http_resp_text(http_resp *p, int status, const char *content_type, const char *body)
{
    p->status = status;
    buf_reset(&p->body);
    int rc = content_type ? http_resp_header(p, "Content-Type", content_type) : 0;
    if (!rc && body)
        rc = buf_puts(&p->body, body);
    return rc;
}

int http_resp_json(http_resp *p, int status, json_t *j)
{
    int rc = -ENOMEM;
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (s)
        rc = http_resp_text(p, status, "application/json", s);
    free(s);
    json_decref(j);
    return rc;
}

int http_resp_stream(http_resp *p, int status, http_stream_fn fn, void *cls,
                     void (*free_fn)(void *cls))
{
    if (p->stream_free)
        p->stream_free(p->stream_cls);
    p->status = status;
    p->stream = fn;
    p->stream_cls = cls;
    p->stream_free = free_fn;
    return 0;
}

void http_resp_close(http_resp *p)
{
    p->close = true;
}

void http_resp_drop(http_resp *p, bool reset)
{
    p->drop = true;
    p->rst = reset;
}

static void resp_cleanup(http_resp *p)
{
    for (size_t i = 0; i < p->nheaders; i++) {
        free(p->hnames[i]);
        free(p->hvalues[i]);
    }
    p->nheaders = 0;
    buf_cleanup(&p->body);
    if (p->stream_free)
        p->stream_free(p->stream_cls);
    p->stream_free = NULL;
    p->stream = NULL;
}

static void resp_clear(http_resp *p)
{
    resp_cleanup(p);
    p->status = 0;
    p->close = p->drop = p->rst = false;
}

/* ---------------------------------------------------------------- request */

const char *http_req_method(const http_req *r)
{
    return r->method;
}

const char *http_req_path(const http_req *r)
{
    return r->path;
}

const char *http_req_query(const http_req *r)
{
    return r->query;
}

const char *http_req_header(const http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static const char *header_cb(void *arg, const char *name)
{
    return http_req_header(arg, name);
}

/* Decode one query component: '+' is a space, bad escapes are kept as text
 * (as lenient servers do; the path is strict). */
static char *query_decode(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            out[o++] = ' ';
        } else if (c == '%' && i + 2 < len) {
            char *dec = route_pct_decode(s + i, 3);
            if (dec) {
                out[o++] = dec[0];
                i += 2;
                free(dec);
            } else {
                out[o++] = c;
            }
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return out;
}

static int parse_args(http_req *r)
{
    if (r->args_parsed)
        return 0;
    r->args_parsed = true;
    size_t n = 0;
    for (const char *p = r->query; *p; p++)
        n += *p == '&';
    r->args = calloc(n + 1, sizeof(*r->args));
    if (!r->args)
        return -ENOMEM;
    const char *p = r->query;
    while (*p) {
        const char *e = strchr(p, '&');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l) {
            const char *eq = memchr(p, '=', l);
            size_t kl = eq ? (size_t)(eq - p) : l;
            query_arg *a = &r->args[r->nargs];
            a->key = query_decode(p, kl);
            a->value = eq ? query_decode(eq + 1, l - kl - 1) : strdup("");
            if (!a->key || !a->value) {
                free(a->key);
                free(a->value);
                return -ENOMEM;
            }
            r->nargs++;
        }
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

const char *http_req_arg(const http_req *r, const char *key)
{
    if (parse_args((http_req *)r))
        return NULL;
    for (size_t i = 0; i < r->nargs; i++)
        if (strcmp(r->args[i].key, key) == 0)
            return r->args[i].value;
    return NULL;
}

int http_req_arg_at(const http_req *r, size_t i, const char **key, const char **value)
{
    if (parse_args((http_req *)r) || i >= r->nargs)
        return -ENOENT;
    *key = r->args[i].key;
    *value = r->args[i].value;
    return 0;
}

const char *http_req_capture(const http_req *r, const char *name)
{
    return route_capture(&r->match, name);
}

const char *http_req_body(const http_req *r, size_t *len)
{
    if (len)
        *len = r->body.len;
    return r->body.data ? r->body.data : "";
}

const http_identity *http_req_identity(const http_req *r)
{
    return &r->ident;
}

const char *http_req_listener(const http_req *r)
{
    return r->srv->name;
}

const fault_rule *http_req_fault(const http_req *r, uint64_t *call_no)
{
    if (call_no)
        *call_no = r->hit.call_no;
    if (r->hit.rule && r->hit.rule->action == FAULT_DOMAIN)
        return r->hit.rule;
    return NULL;
}

void http_req_fault_applied(http_req *r)
{
    r->fault_applied = true;
}

http_server *http_req_server(const http_req *r)
{
    return r->srv;
}

static void req_free(http_req *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nargs; i++) {
        free(r->args[i].key);
        free(r->args[i].value);
    }
    free(r->args);
    free(r->raw_uri);
    free(r->path);
    buf_cleanup(&r->body);
    route_match_cleanup(&r->match);
    fault_hit_cleanup(&r->hit);
    resp_cleanup(&r->resp);
    buf_cleanup(&r->spool);
    buf_cleanup(&r->sent_copy);
    free(r);
}

/* ---------------------------------------------------------- TLS identity */

static void read_identity(http_server *s, struct MHD_Connection *conn, http_identity *id)
{
    memset(id, 0, sizeof(*id));
    id->tls = s->tls;
    if (!s->tls)
        return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return;
    gnutls_session_t sess = (gnutls_session_t)ci->tls_session;
    unsigned int n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(sess, &n);
    if (!certs || !n)
        return;
    id->cert_present = true;
    unsigned int status = 0;
    if (!s->trust_pem || gnutls_certificate_verify_peers2(sess, &status) < 0 || status != 0)
        return;
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0)
        return;
    if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0) {
        size_t sz = sizeof(id->cn);
        if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, id->cn, &sz) < 0)
            id->cn[0] = '\0';
        for (unsigned i = 0; i < HTTP_MAX_ORGS; i++) {
            sz = sizeof(id->orgs[0]);
            if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, i, 0,
                                              id->orgs[id->norgs], &sz) < 0)
                break;
            id->norgs++;
        }
        id->cert_verified = true;
    }
    gnutls_x509_crt_deinit(crt);
}

static void conn_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(conn_ctx));
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        free(*socket_context);
        *socket_context = NULL;
    }
}

static void identity_of(http_server *s, struct MHD_Connection *conn, http_identity *id)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_ctx *cc = ci ? ci->socket_context : NULL;
    if (!cc) {
        read_identity(s, conn, id);
        return;
    }
    if (!cc->checked) {
        read_identity(s, conn, &cc->ident);
        cc->checked = true;
    }
    *id = cc->ident;
}

/* ------------------------------------------------------------ body decode */

/* Inflate gzip or zlib (auto-detected), or raw deflate when `raw`. Members
 * of a multi-member gzip stream are all decoded. -EINVAL on corrupt data,
 * -E2BIG past the cap, -ENOMEM. */
static int inflate_body(const char *in, size_t inlen, bool raw, size_t cap, buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, raw ? -15 : 15 + 32) != Z_OK)
        return -ENOMEM;
    int rc = 0;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)inlen;
    buf_init(out, cap);
    for (;;) {
        if ((rc = buf_reserve(out, 65536)) != 0) {
            if (rc == -E2BIG && out->len < cap)
                rc = buf_reserve(out, cap - out->len);
            if (rc)
                break;
        }
        size_t room = out->alloc - out->len - 1;
        if (room == 0) {
            rc = -E2BIG;
            break;
        }
        zs.next_out = (Bytef *)out->data + out->len;
        zs.avail_out = (uInt)(room > UINT32_MAX ? UINT32_MAX : room);
        int z = inflate(&zs, Z_NO_FLUSH);
        out->len = (size_t)((char *)zs.next_out - out->data);
        out->data[out->len] = '\0';
        if (z == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            if (inflateReset(&zs) != Z_OK) { /* another gzip member follows */
                rc = -EINVAL;
                break;
            }
            continue;
        }
        if (z == Z_BUF_ERROR && zs.avail_in == 0) {
            rc = -EINVAL; /* truncated */
            break;
        }
        if (z != Z_OK && z != Z_BUF_ERROR) {
            rc = z == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
            break;
        }
        if (out->len >= cap && zs.avail_out != 0 && zs.avail_in == 0) {
            rc = -EINVAL;
            break;
        }
    }
    inflateEnd(&zs);
    if (rc)
        buf_cleanup(out);
    return rc;
}

/* Decode r->body per Content-Encoding. 0, or the status to reject with. */
static int decode_body(http_req *r, const char **why)
{
    const char *ce = http_req_header(r, "Content-Encoding");
    if (!ce || !*ce || strcasecmp(ce, "identity") == 0)
        return 0;
    bool gz = strcasecmp(ce, "gzip") == 0 || strcasecmp(ce, "x-gzip") == 0;
    bool defl = strcasecmp(ce, "deflate") == 0;
    if (!gz && !defl) {
        *why = "unsupported Content-Encoding";
        return 415;
    }
    buf out;
    int rc = inflate_body(r->body.data ? r->body.data : "", r->body.len, false, r->srv->body_cap,
                          &out);
    if (rc == -EINVAL && defl) /* "deflate" is meant to be zlib-wrapped; many send it raw */
        rc = inflate_body(r->body.data ? r->body.data : "", r->body.len, true, r->srv->body_cap,
                          &out);
    if (rc == -E2BIG) {
        *why = "request body over the cap after decoding";
        return 413;
    }
    if (rc) {
        *why = gz ? "request body is not valid gzip data" : "request body is not valid deflate data";
        return 400;
    }
    buf_cleanup(&r->body);
    r->body = out;
    return 0;
}

/* ---------------------------------------------------------------- waiting */

/* Sleep on the real monotonic clock, in slices, ending early when the
 * listener stops. Returns false when it stopped. */
static bool wait_ns(http_server *s, int64_t ns)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t end = (int64_t)now.tv_sec * EFK_NS_PER_S + now.tv_nsec + ns;
    for (;;) {
        if (atomic_load(&s->stopping))
            return false;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t left = end - ((int64_t)now.tv_sec * EFK_NS_PER_S + now.tv_nsec);
        if (left <= 0)
            return true;
        if (left > SLICE_NS)
            left = SLICE_NS;
        struct timespec ts = {.tv_sec = left / EFK_NS_PER_S, .tv_nsec = left % EFK_NS_PER_S};
        nanosleep(&ts, NULL);
    }
}

/* ------------------------------------------------------------ admin API */

static void admin_error(http_resp *p, int status, const char *msg, const char *pointer)
{
    http_resp_json(p, status, json_pack("{ss ss}", "error", msg, "pointer", pointer ? pointer : ""));
}

/* The /_efksim/ endpoints every fake has. Returns false when the path is
 * not one of them (the fake's own routes are tried next). */
static bool admin_handle(http_req *r, http_resp *p)
{
    http_server *s = r->srv;
    const char *path = r->path;
    const char *m = r->method;
    if (strcmp(path, "/_efksim/whoami") == 0 && strcmp(m, "GET") == 0) {
        http_resp_json(p, 200,
                       json_pack("{ss sI ss si ss}", "name", s->svc_name, "pid", (json_int_t)getpid(),
                                 "listener", s->name, "port", (int)s->port, "url", s->url));
        return true;
    }
    if (strcmp(path, "/_efksim/journal") == 0 && strcmp(m, "GET") == 0) {
        if (!s->journal) {
            admin_error(p, 404, "this fake keeps no journal", NULL);
            return true;
        }
        const char *since_s = http_req_arg(r, "since"), *limit_s = http_req_arg(r, "limit");
        char *end;
        unsigned long long since = since_s ? strtoull(since_s, &end, 10) : 0;
        if (since_s && (*end || !*since_s)) {
            admin_error(p, 400, "since: expected a sequence number", NULL);
            return true;
        }
        unsigned long long limit = limit_s ? strtoull(limit_s, &end, 10) : 0;
        if (limit_s && (*end || !*limit_s)) {
            admin_error(p, 400, "limit: expected a count", NULL);
            return true;
        }
        journal_entry **v = NULL;
        size_t n = 0;
        if (journal_list(s->journal, since, (size_t)limit, &v, &n)) {
            admin_error(p, 500, "out of memory", NULL);
            return true;
        }
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, journal_entry_render(v[i]));
        journal_entries_free(v, n);
        uint64_t added, dropped, last;
        journal_stats(s->journal, &added, &dropped, &last);
        http_resp_json(p, 200,
                       json_pack("{sI sI sI so}", "last_seq", (json_int_t)last, "added",
                                 (json_int_t)added, "dropped", (json_int_t)dropped, "entries", arr));
        return true;
    }
    if (strcmp(path, "/_efksim/reset") == 0 && strcmp(m, "POST") == 0) {
        if (s->journal)
            journal_reset(s->journal);
        if (s->faults)
            fault_clear(s->faults);
        if (s->reset)
            s->reset(s->reset_arg);
        http_resp_json(p, 200, json_pack("{sb}", "reset", 1));
        return true;
    }
    if (strcmp(path, "/_efksim/faults") == 0 || strncmp(path, "/_efksim/faults/", 16) == 0) {
        if (!s->faults) {
            admin_error(p, 404, "this fake has no fault chain", NULL);
            return true;
        }
        const char *id = path[15] == '/' ? path + 16 : NULL;
        if (!id && strcmp(m, "GET") == 0) {
            http_resp_json(p, 200, fault_list_render(s->faults));
        } else if (!id && strcmp(m, "DELETE") == 0) {
            fault_clear(s->faults);
            http_resp_json(p, 200, json_pack("{sb}", "cleared", 1));
        } else if (!id && strcmp(m, "POST") == 0) {
            json_error_t je;
            json_t *spec = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &je);
            if (!spec) {
                char msg[300];
                snprintf(msg, sizeof(msg), "invalid JSON at line %d column %d: %s", je.line,
                         je.column, je.text);
                admin_error(p, 400, msg, NULL);
                return true;
            }
            efk_err err;
            efk_err_init(&err);
            char newid[FAULT_ID_MAX];
            const char *first = http_req_arg(r, "first");
            int rc = fault_add_json(s->faults, spec, first && strcmp(first, "false") != 0, newid,
                                    &err);
            json_decref(spec);
            if (rc)
                admin_error(p, rc == -EEXIST ? 409 : 400, err.msg, err.pointer);
            else
                http_resp_json(p, 201, json_pack("{ss}", "id", newid));
        } else if (id && strcmp(m, "DELETE") == 0) {
            char *dec = route_pct_decode(id, strlen(id));
            int rc = dec ? fault_del(s->faults, dec) : -EINVAL;
            free(dec);
            if (rc)
                admin_error(p, 404, "no such fault rule", NULL);
            else
                http_resp_json(p, 200, json_pack("{sb}", "deleted", 1));
        } else {
            admin_error(p, 405, "method not allowed", NULL);
        }
        return true;
    }
    return false;
}

/* ------------------------------------------------------- the MHD glue */

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    http_server *s = cls;
    http_req *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->srv = s;
    r->conn = conn;
    r->partial = SIZE_MAX;
    r->start_wall = clock_wall_ns(s->clock);
    r->start_mono = clock_mono_ns(s->clock);
    buf_init(&r->body, s->body_cap);
    buf_init(&r->resp.body, 0);
    buf_init(&r->spool, 0);
    buf_init(&r->sent_copy, 0);
    r->raw_uri = strdup(uri ? uri : "/");
    if (!r->raw_uri) {
        free(r);
        return NULL;
    }
    char *q = strchr(r->raw_uri, '?');
    r->path = q ? strndup(r->raw_uri, (size_t)(q - r->raw_uri)) : strdup(r->raw_uri);
    r->query = q ? q + 1 : "";
    if (!r->path) {
        free(r->raw_uri);
        free(r);
        return NULL;
    }
    return r;
}

static void journal_exchange(http_req *r, enum MHD_RequestTerminationCode toe)
{
    http_server *s = r->srv;
    if (!s->journal || r->admin)
        return;
    journal_entry e;
    memset(&e, 0, sizeof(e));
    e.wall_ns = r->start_wall;
    e.mono_ns = r->start_mono;
    e.dur_ns = clock_mono_ns(s->clock) - r->start_mono;
    e.listener = s->name;
    e.method = r->method ? r->method : "";
    e.path = r->path;
    e.query = r->query;
    for (size_t i = 0; JOURNAL_HEADERS[i] && e.nheaders < JOURNAL_MAX_HEADERS; i++) {
        const char *v = http_req_header(r, JOURNAL_HEADERS[i]);
        if (v) {
            e.headers[e.nheaders].name = JOURNAL_HEADERS[i];
            e.headers[e.nheaders++].value = v;
        }
    }
    e.identity = r->ident.cert_verified ? r->ident.cn : "";
    e.req_body = r->body.data ? r->body.data : "";
    e.req_body_len = r->body.len;
    e.req_body_size = r->too_big ? r->body_received : r->body.len;
    e.status = r->answered ? r->resp.status : 0;
    if (r->resp.stream || r->partial != SIZE_MAX || r->dribble_bytes) {
        e.resp_body = r->sent_copy.data ? r->sent_copy.data : "";
        e.resp_body_len = r->sent_copy.len;
        e.resp_body_size = r->sent_total;
    } else {
        e.resp_body = r->resp.body.data ? r->resp.body.data : "";
        e.resp_body_len = r->resp.body.len;
        e.resp_body_size = r->resp.body.len;
    }
    char fault[FAULT_ID_MAX + 64] = "";
    const fault_rule *fr = r->hit.rule;
    if (fr && (fr->action != FAULT_DOMAIN || r->fault_applied))
        snprintf(fault, sizeof(fault), "%s:%s", fr->id, fault_action_name(fr));
    e.fault = fault;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && e.status && !r->resp.drop)
        e.status = -e.status; /* answered, but the client never got all of it */
    journal_add(s->journal, &e);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    http_req *r = *con_cls;
    if (!r)
        return;
    if (!r->journaled)
        journal_exchange(r, toe);
    req_free(r);
    *con_cls = NULL;
}

/* Keep the first body_cap bytes of what went out, for the journal. */
static void note_sent(http_req *r, const char *data, size_t n)
{
    r->sent_total += n;
    size_t cap = 4096;
    if (r->sent_copy.len < cap) {
        size_t k = n < cap - r->sent_copy.len ? n : cap - r->sent_copy.len;
        if (buf_append(&r->sent_copy, data, k) != 0)
            return; /* the journal copy is best effort */
    }
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *out, size_t max)
{
    http_req *r = cls;
    http_server *s = r->srv;
    while (r->spool_off >= r->spool.len) {
        buf_reset(&r->spool);
        r->spool_off = 0;
        if (r->stream_ended)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (atomic_load(&s->stopping))
            return MHD_CONTENT_READER_END_WITH_ERROR;
        int rc = r->resp.stream(r->resp.stream_cls, &r->spool);
        if (rc == HTTP_STREAM_ABORT)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (rc == HTTP_STREAM_END)
            r->stream_ended = true;
    }
    size_t n = r->spool.len - r->spool_off;
    if (n > max)
        n = max;
    memcpy(out, r->spool.data + r->spool_off, n);
    r->spool_off += n;
    note_sent(r, out, n);
    return (ssize_t)n;
}

/* A fixed body sent partially (then the connection is cut) or dribbled. */
static ssize_t shaped_reader(void *cls, uint64_t pos, char *out, size_t max)
{
    http_req *r = cls;
    const buf *b = &r->resp.body;
    size_t limit = r->partial < b->len ? r->partial : b->len;
    if (pos >= limit)
        return r->partial < b->len ? MHD_CONTENT_READER_END_WITH_ERROR
                                   : MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = limit - (size_t)pos;
    if (r->dribble_bytes) {
        if (pos > 0 && !wait_ns(r->srv, r->dribble_ns))
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (n > r->dribble_bytes)
            n = r->dribble_bytes;
    }
    if (n > max)
        n = max;
    memcpy(out, b->data + pos, n);
    note_sent(r, out, n);
    return (ssize_t)n;
}

static void set_linger_rst(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
}

/* Hand r->resp to MHD. */
static enum MHD_Result send_resp(http_req *r)
{
    http_resp *p = &r->resp;
    if (p->drop) {
        if (p->rst)
            set_linger_rst(r->conn);
        journal_exchange(r, MHD_REQUEST_TERMINATED_WITH_ERROR);
        r->journaled = true;
        return MHD_NO;
    }
    if (!p->status)
        p->status = 500;
    struct MHD_Response *mr;
    if (p->stream)
        mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_reader, r, NULL);
    else if (r->partial != SIZE_MAX || r->dribble_bytes)
        mr = MHD_create_response_from_callback(p->body.len, 64 * 1024, shaped_reader, r, NULL);
    else
        mr = MHD_create_response_from_buffer(p->body.len, p->body.data ? p->body.data : (void *)"",
                                             MHD_RESPMEM_PERSISTENT);
    if (!mr)
        return MHD_NO;
    for (size_t i = 0; i < p->nheaders; i++)
        MHD_add_response_header(mr, p->hnames[i], p->hvalues[i]);
    if (p->close || r->partial != SIZE_MAX)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
    r->answered = true;
    if (!p->stream && r->partial == SIZE_MAX && !r->dribble_bytes) {
        /* Everything is known now: journal before the answer leaves, so a
         * client that has its answer can already find it in the journal. */
        journal_exchange(r, MHD_REQUEST_TERMINATED_COMPLETED_OK);
        r->journaled = true;
    }
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)p->status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static void do_reject(http_req *r, int status, const char *detail)
{
    resp_clear(&r->resp);
    buf_init(&r->resp.body, 0);
    r->srv->reject(r->srv->reject_arg, r, status, detail, &r->resp);
}

/* Apply a core fault action to the response. Returns true when the rule
 * answered (the fake is not called). */
static bool apply_fault(http_req *r)
{
    const fault_rule *fr = r->hit.rule;
    http_resp *p = &r->resp;
    switch (fr->action) {
    case FAULT_CLOSE:
        http_resp_drop(p, false);
        return true;
    case FAULT_RESET:
        http_resp_drop(p, true);
        return true;
    case FAULT_PARTIAL:
    case FAULT_DRIBBLE:
        if (fr->action == FAULT_PARTIAL)
            r->partial = fr->bytes;
        else {
            r->dribble_bytes = fr->bytes;
            r->dribble_ns = fr->interval_ns;
        }
        if (!fr->status)
            return false; /* shape the fake's own answer */
        /* the rule's own answer, shaped */
        __attribute__((fallthrough));
    case FAULT_RESPOND:
        p->status = fr->status;
        for (size_t i = 0; i < fr->nheaders; i++)
            if (http_resp_header(p, fr->header_names[i], fr->header_values[i]))
                p->status = 500;
        if (fr->resp_body && buf_append(&p->body, fr->resp_body, fr->resp_body_len))
            p->status = 500;
        return true;
    case FAULT_PASS:
    case FAULT_DOMAIN:
        return false;
    }
    return false;
}

static void dispatch(http_req *r)
{
    http_server *s = r->srv;
    http_resp *p = &r->resp;
    const char *why = NULL;

    if (r->too_big) {
        char cap[32];
        snprintf(cap, sizeof(cap), "%zu", s->body_cap);
        do_reject(r, 413, cap);
        return;
    }
    int st = decode_body(r, &why);
    if (st) {
        char cap[32];
        snprintf(cap, sizeof(cap), "%zu", s->body_cap);
        do_reject(r, st, st == 413 ? cap : why);
        return;
    }
    if (strncmp(r->path, "/_efksim/", 9) == 0) {
        r->admin = true;
        if (admin_handle(r, p))
            return;
    }
    if (s->faults && !r->admin) {
        fault_req fq = {r->method, r->path, r->query, r->body.data, r->body.len, header_cb, r};
        fault_eval(s->faults, &fq, &r->hit);
        if (r->hit.rule) {
            if (r->hit.delay_ns > 0 && !wait_ns(s, r->hit.delay_ns)) {
                http_resp_drop(p, false);
                return;
            }
            if (apply_fault(r))
                return;
        }
    }
    int rc = route_match_path(s->routes, r->method, r->path, &r->match);
    if (rc == -ENOENT) {
        if (r->admin)
            admin_error(p, 404, "no such efksim endpoint", NULL);
        else
            do_reject(r, 404, NULL);
        return;
    }
    if (rc == -EPERM) {
        char allowed[256];
        snprintf(allowed, sizeof(allowed), "%s", r->match.values[0] ? r->match.values[0] : "");
        route_match_cleanup(&r->match);
        do_reject(r, 405, allowed);
        return;
    }
    if (rc == -EINVAL) {
        do_reject(r, 400, "malformed percent-encoding in the path");
        return;
    }
    if (rc) {
        http_resp_text(p, 500, "text/plain", "out of memory\n");
        return;
    }
    ((http_handler)r->match.handler)(r->match.handler_arg, r, p);
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    http_server *s = cls;
    http_req *r = *con_cls;
    if (!r)
        return MHD_NO; /* the URI callback ran out of memory */
    if (r->state == REQ_NEW) {
        r->conn = conn;
        r->method = method;
        identity_of(s, conn, &r->ident);
        r->state = REQ_BODY;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (!*end && n > s->body_cap) {
                /* refuse before reading (and before any 100 Continue) */
                r->too_big = true;
                r->body_received = n;
                r->state = REQ_DONE;
                char cap[32];
                snprintf(cap, sizeof(cap), "%zu", s->body_cap);
                do_reject(r, 413, cap);
                http_resp_close(&r->resp);
                return send_resp(r);
            }
            if (!*end && n > 0 && buf_reserve(&r->body, (size_t)n) != 0)
                r->too_big = true; /* cannot hold it: answer 413 */
        }
        return MHD_YES;
    }
    if (r->state == REQ_BODY && *upload_data_size) {
        size_t n = *upload_data_size;
        r->body_received += n;
        if (!r->too_big && buf_append(&r->body, upload_data, n) != 0)
            r->too_big = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->state == REQ_DONE) {
        *upload_data_size = 0; /* already answered (413 early): discard */
        return MHD_YES;
    }
    r->state = REQ_DONE;
    dispatch(r);
    return send_resp(r);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    if (getenv("EFKSIM_HTTP_DEBUG")) {
        fprintf(stderr, "efksim http %s: ", (const char *)cls);
        vfprintf(stderr, fmt, ap);
    }
}

/* ------------------------------------------------------------ lifecycle */

static int listen_socket(uint16_t port, uint16_t *bound, efk_err *err)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return efk_err_set(err, -errno, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof(a);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 512) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
        int e = errno;
        close(fd);
        return efk_err_set(err, -e, "cannot listen on 127.0.0.1:%u: %s", port, strerror(e));
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

static int daemon_start(http_server *s, efk_err *err)
{
    uint16_t bound = 0;
    int fd = listen_socket(s->port, &bound, err);
    if (fd < 0)
        return fd;
    s->port = bound;
    atomic_store(&s->stopping, false);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (s->tls)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem tlsopts[] = {
        {s->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, s->cert_pem},
        {s->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, s->key_pem},
        {s->tls && s->trust_pem ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, s->trust_pem},
        {MHD_OPTION_END, 0, NULL}};
    /* MHD stops reading an option array at the first END: compact it */
    struct MHD_OptionItem compact[4];
    size_t k = 0;
    for (size_t i = 0; i < 3; i++)
        if (tlsopts[i].option != MHD_OPTION_END)
            compact[k++] = tlsopts[i];
    compact[k] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, access_handler, s, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_URI_LOG_CALLBACK, uri_log, s, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, conn_notify, s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        s->conn_memory, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, s->name, MHD_OPTION_ARRAY, compact, MHD_OPTION_END);
    if (!s->daemon) {
        close(fd);
        return efk_err_set(err, -EIO, "cannot start the %s server on 127.0.0.1:%u%s", s->name,
                           bound, s->tls ? " (TLS: check the certificate and key)" : "");
    }
    return 0;
}

/* Quiesce first so MHD hands back the listen socket: we close it ourselves,
 * and new connections are refused at once while MHD winds down. */
static void daemon_stop(http_server *s)
{
    if (!s->daemon)
        return;
    atomic_store(&s->stopping, true);
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
}

int http_server_start(const http_service_config *svc, const http_listener_config *lc,
                      http_server **out, efk_err *err)
{
    int rc = 0;
    if (!svc->routes || !svc->reject)
        return efk_err_set(err, -EINVAL, "http: a service needs routes and a reject callback");
    if (lc->tls && (!lc->cert_pem || !lc->key_pem))
        return efk_err_set(err, -EINVAL, "http: a TLS listener needs a certificate and a key");
    http_server *s = calloc(1, sizeof(*s));
    if (!s)
        return efk_err_set(err, -ENOMEM, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    s->svc_name = strdup(svc->name ? svc->name : "fake");
    s->name = strdup(lc->name ? lc->name : (lc->tls ? "https" : "http"));
    s->routes = svc->routes;
    s->reject = svc->reject;
    s->reject_arg = svc->reject_arg;
    s->journal = svc->journal;
    s->faults = svc->faults;
    s->clock = svc->clock ? svc->clock : clock_system();
    s->body_cap = svc->body_cap ? svc->body_cap : HTTP_DEFAULT_BODY_CAP;
    s->conn_memory = svc->conn_memory ? svc->conn_memory : HTTP_DEFAULT_CONN_MEMORY;
    s->reset = svc->reset;
    s->reset_arg = svc->reset_arg;
    s->tls = lc->tls;
    s->port = lc->port;
    if (lc->tls) {
        s->cert_pem = strdup(lc->cert_pem);
        s->key_pem = strdup(lc->key_pem);
        if (lc->trust_pem)
            s->trust_pem = strdup(lc->trust_pem);
    }
    if (!s->svc_name || !s->name || (lc->tls && (!s->cert_pem || !s->key_pem)) ||
        (lc->trust_pem && lc->tls && !s->trust_pem)) {
        rc = efk_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = daemon_start(s, err)))
        goto out;
    snprintf(s->url, sizeof(s->url), "%s://127.0.0.1:%u", s->tls ? "https" : "http", s->port);
    *out = s;
    s = NULL;
out:
    if (s) {
        free(s->svc_name);
        free(s->name);
        free(s->cert_pem);
        free(s->key_pem);
        free(s->trust_pem);
        pthread_mutex_destroy(&s->mu);
        free(s);
    }
    return rc;
}

uint16_t http_server_port(const http_server *s)
{
    return s->port;
}

const char *http_server_url(const http_server *s)
{
    return s->url;
}

int http_server_down(http_server *s)
{
    pthread_mutex_lock(&s->mu);
    daemon_stop(s);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int http_server_up(http_server *s, efk_err *err)
{
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    if (!s->daemon)
        rc = daemon_start(s, err);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

bool http_server_is_up(const http_server *s)
{
    pthread_mutex_lock((pthread_mutex_t *)&s->mu);
    bool up = s->daemon != NULL;
    pthread_mutex_unlock((pthread_mutex_t *)&s->mu);
    return up;
}

void http_server_stop(http_server *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    daemon_stop(s);
    pthread_mutex_unlock(&s->mu);
    free(s->svc_name);
    free(s->name);
    free(s->cert_pem);
    if (s->key_pem) {
        explicit_bzero(s->key_pem, strlen(s->key_pem));
        free(s->key_pem);
    }
    free(s->trust_pem);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
