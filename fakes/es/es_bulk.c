#include "es_bulk.h"

#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_json.h"
#include "es_reply.h"

enum { ACT_INDEX, ACT_CREATE, ACT_UPDATE, ACT_DELETE };
static const char *const ACT_NAMES[] = {"index", "create", "update", "delete"};
static const uint8_t ACT_LENS[] = {5, 6, 6, 6};

enum { RES_CREATED, RES_UPDATED, RES_DELETED, RES_NOT_FOUND, RES_NOOP };
static const char *const RES_NAMES[] = {"created", "updated", "deleted", "not_found", "noop"};
static const uint8_t RES_LENS[] = {7, 7, 7, 9, 4};

enum { VT_INTERNAL, VT_EXTERNAL, VT_EXTERNAL_GTE };

#define UNASSIGNED_SEQ (-2)

typedef struct sref {
    const char *p;
    uint32_t len;
} sref;

typedef struct op {
    uint8_t act;
    uint8_t create; /* index with op_type=create, or create */
    uint8_t check;  /* es_check of the source */
    uint8_t has_mark;
    uint8_t trailing_tok;
    uint8_t version_type;
    uint8_t result;
    uint8_t gen_id;
    uint32_t line; /* 1-based line of the action */
    sref index, type, id;
    int64_t version; /* -1: none */
    int64_t if_seq_no, if_primary_term;
    const char *src;
    uint32_t src_len;
    es_mark mark;
    json_t *upd; /* update: the parsed body */
    int status;
    int64_t ver, seq;
    const char *type_name; /* resolved type for the answer */
    char gid[ES_ID_LEN];
    char *err; /* failed item: the "error" object (malloc) */
} op;

typedef struct bulk {
    const es_bulk_env *env;
    const es_bulk_req *req;
    const es_persona *p;
    op *ops;
    size_t nops, cap;
    char **pool; /* decoded strings to free */
    size_t npool, pool_cap;
    sref def_index, def_type;
    es_check_opts copts;
    bool acct_fast;
    char *ids; /* ids generated for the request in one go */
    size_t nids, nids_used;
    const char *esc_name; /* the last index name checked for escapes */
    size_t esc_len;
    bool esc_needed;
    const char *type_ok;   /* a type name known to need no escaping */
    const char *last_type;    /* the last type name copied for the answer */
    const char *last_type_of; /* the store's name it is a copy of */
    const char *have_type;    /* the store's single type name seen last */
    size_t have_type_len;
    const char *tn_last; /* the answer's type name rendered last, and its length */
    size_t tn_last_len;
} bulk;

/* ------------------------------------------------------------------ */

static char *pool_add(bulk *b, char *s)
{
    if (!s)
        return NULL;
    if (b->npool == b->pool_cap) {
        size_t nc = b->pool_cap ? b->pool_cap * 2 : 8;
        char **n = realloc(b->pool, nc * sizeof(*n));
        if (!n) {
            free(s);
            return NULL;
        }
        b->pool = n;
        b->pool_cap = nc;
    }
    b->pool[b->npool++] = s;
    return s;
}

/* Each connection thread keeps its last op array for the next request: a
 * 1000-item bulk needs ~200 KB of ops, and growing a fresh array for every
 * request (three reallocs, freshly faulted pages each time) cost more than
 * validating a tenth of the documents. The array goes with its thread. */
#define OPS_KEEP_MAX 65536 /* ops kept per thread at most (~13 MB) */

typedef struct ops_cache {
    op *ops;
    size_t cap;
} ops_cache;

static pthread_key_t ops_key;
static pthread_once_t ops_once = PTHREAD_ONCE_INIT;

static void ops_cache_free(void *p)
{
    ops_cache *c = p;
    free(c->ops);
    free(c);
}

static void ops_key_init(void)
{
    if (pthread_key_create(&ops_key, ops_cache_free) != 0)
        ops_key = (pthread_key_t)-1;
}

/* Take this thread's kept array (or nothing). */
static void ops_take(bulk *b)
{
    pthread_once(&ops_once, ops_key_init);
    if (ops_key == (pthread_key_t)-1)
        return;
    ops_cache *c = pthread_getspecific(ops_key);
    if (c && c->ops) {
        b->ops = c->ops;
        b->cap = c->cap;
        c->ops = NULL;
        c->cap = 0;
    }
}

/* Keep the array for this thread's next request, or free it. */
static void ops_give_back(bulk *b)
{
    ops_cache *c = ops_key == (pthread_key_t)-1 ? NULL : pthread_getspecific(ops_key);
    if (!c && b->cap <= OPS_KEEP_MAX && ops_key != (pthread_key_t)-1) {
        c = calloc(1, sizeof(*c));
        if (c && pthread_setspecific(ops_key, c) != 0) {
            free(c);
            c = NULL;
        }
    }
    if (c && !c->ops && b->cap <= OPS_KEEP_MAX) {
        c->ops = b->ops;
        c->cap = b->cap;
    } else {
        free(b->ops);
    }
    b->ops = NULL;
    b->cap = 0;
}

/* gcc turns memset of an op (200 bytes) into `rep stos`, whose start-up
 * costs more than the stores; sixteen-byte stores instead. */
static inline void zero_op(op *o)
{
#ifdef __SSE2__
    _Static_assert(sizeof(op) >= 16, "op is at least one store");
    char *d = (char *)o;
    const __m128i z = _mm_setzero_si128();
    size_t i = 0;
    for (; i + 16 <= sizeof(*o); i += 16) {
        _mm_storeu_si128((__m128i *)(void *)(d + i), z);
        __asm__("" : : : "memory"); /* else gcc merges the stores back into a memset */
    }
    if (i < sizeof(*o))
        _mm_storeu_si128((__m128i *)(void *)(d + sizeof(*o) - 16), z);
#else
    memset(o, 0, sizeof(*o));
#endif
}

static op *new_op(bulk *b)
{
    if (b->nops == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 256;
        op *n = realloc(b->ops, nc * sizeof(*n));
        if (!n)
            return NULL;
        b->ops = n;
        b->cap = nc;
    }
    op *o = &b->ops[b->nops++];
    zero_op(o);
    o->version = -1;
    o->if_seq_no = UNASSIGNED_SEQ;
    o->index = b->def_index;
    return o;
}

const char *es_persona_src_desc(const es_persona *p)
{
    if (p->major >= 8)
        return "REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)";
    if (p->major == 7)
        return "(org.elasticsearch.common.bytes.AbstractBytesReference$"
               "MarkSupportingStreamInputWrapper)";
    if (p->major == 6)
        return "(org.elasticsearch.common.bytes.BytesReference$MarkSupportingStreamInputWrapper)";
    return "org.elasticsearch.common.bytes.BytesReference$MarkSupportingStreamInputWrapper@"
           "6a4f787b";
}

/* Request-level errors ------------------------------------------------ */

static int req_error(buf *out, int status, const char *type, const char *reason)
{
    buf_reset(out);
    int rc = es_error_render(out, status, type, reason, NULL, NULL);
    return rc ? rc : status;
}

static int illegal_arg(buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int illegal_arg(buf *out, const char *fmt, ...)
{
    char reason[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    return req_error(out, 400, "illegal_argument_exception", reason);
}

int es_parse_error_render(const es_persona *p, const es_jerr *e, const char *text, size_t len,
                          buf *out)
{
    buf full;
    buf_init(&full, 0);
    int rc = es_jerr_render(e, es_persona_src_desc(p), text, len, &full);
    if (rc)
        goto out;
    if (!p->parse_exc_wrapped) {
        rc = es_error_render(out, 400, "json_parse_exception", full.data, NULL, NULL);
        goto out;
    }
    {
        buf reason, caused;
        buf_init(&reason, 0);
        buf_init(&caused, 0);
        rc = buf_printf(&reason, "[%d:%d] %s", e->line, e->column, full.data);
        rc = rc ? rc : buf_puts(&caused, "{\"type\":\"json_parse_exception\",\"reason\":");
        rc = rc ? rc : es_json_put_str(&caused, full.data, full.len);
        rc = rc ? rc : buf_puts(&caused, "}");
        rc = rc ? rc
                : es_error_render(out, 400, "x_content_parse_exception", reason.data, NULL,
                                  caused.data);
        buf_cleanup(&reason);
        buf_cleanup(&caused);
    }
out:
    buf_cleanup(&full);
    return rc;
}

static int parse_error(bulk *b, const es_jerr *e, const char *text, size_t len, buf *out)
{
    buf_reset(out);
    int rc = es_parse_error_render(b->p, e, text, len, out);
    return rc ? rc : 400;
}

/* Action lines ---------------------------------------------------------- */

/* a[0..n) == b[0..n), word at a time: the names compared per action line
 * are short, and a libc call for each cost more than the compare. */
static inline bool same_bytes(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        uint64_t x, y, diff = 0;
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            diff |= x ^ y;
        }
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return (diff | (x ^ y)) == 0;
    }
    if (n >= 4) {
        uint32_t x0, y0, x1, y1;
        memcpy(&x0, a, 4);
        memcpy(&y0, b, 4);
        memcpy(&x1, a + n - 4, 4);
        memcpy(&y1, b + n - 4, 4);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

static int action_code(const char *s, size_t len)
{
    for (int i = 0; i < 4; i++)
        if (ACT_LENS[i] == len && same_bytes(ACT_NAMES[i], s, len))
            return i;
    return -1;
}

enum {
    K_UNKNOWN,
    K_INDEX,
    K_TYPE,
    K_ID,
    K_ROUTING,
    K_PARENT,
    K_OP_TYPE,
    K_VERSION,
    K_VERSION_TYPE,
    K_IF_SEQ_NO,
    K_IF_PRIMARY_TERM,
    K_RETRY_ON_CONFLICT,
    K_PIPELINE,
    K_SOURCE,
    K_REQUIRE_ALIAS,
    K_DYNAMIC_TEMPLATES,
    K_REQUIRE_DATA_STREAM,
    K_LIST_EXECUTED_PIPELINES,
};

/* The metadata keys each persona's parser knows: underscore forms were
 * deprecated aliases up to 6.x and gone in 7.0; later keys arrived with the
 * versions given (major*100 + minor). */
#define MK(s, k, a, b)                                                                             \
    {                                                                                              \
        s, sizeof(s) - 1, k, a, b                                                                  \
    }
static const struct {
    const char *name;
    size_t len;
    int key;
    int since, until; /* inclusive, major*100+minor; 0: open */
} META_KEYS[] = {
    MK("_index", K_INDEX, 0, 0),
    MK("_type", K_TYPE, 0, 0),
    MK("_id", K_ID, 0, 0),
    MK("routing", K_ROUTING, 0, 0),
    MK("op_type", K_OP_TYPE, 0, 0),
    MK("version", K_VERSION, 0, 0),
    MK("version_type", K_VERSION_TYPE, 0, 0),
    MK("retry_on_conflict", K_RETRY_ON_CONFLICT, 0, 0),
    MK("pipeline", K_PIPELINE, 500, 0),
    MK("_source", K_SOURCE, 500, 0),
    MK("_routing", K_ROUTING, 0, 699),
    MK("parent", K_PARENT, 0, 699),
    MK("_parent", K_PARENT, 0, 699),
    MK("_op_type", K_OP_TYPE, 0, 699),
    MK("_version", K_VERSION, 0, 699),
    MK("_version_type", K_VERSION_TYPE, 0, 699),
    MK("_retry_on_conflict", K_RETRY_ON_CONFLICT, 0, 699),
    MK("if_seq_no", K_IF_SEQ_NO, 607, 0),
    MK("if_primary_term", K_IF_PRIMARY_TERM, 607, 0),
    MK("require_alias", K_REQUIRE_ALIAS, 710, 0),
    MK("dynamic_templates", K_DYNAMIC_TEMPLATES, 713, 0),
    MK("require_data_stream", K_REQUIRE_DATA_STREAM, 813, 0),
    MK("list_executed_pipelines", K_LIST_EXECUTED_PIPELINES, 813, 0),
};

static int meta_key(const es_persona *p, const char *k, size_t len)
{
    int v = p->major * 100 + (p->minor > 99 ? 99 : p->minor);
    for (size_t i = 0; i < sizeof(META_KEYS) / sizeof(META_KEYS[0]); i++) {
        if (META_KEYS[i].len == len && same_bytes(META_KEYS[i].name, k, len) &&
            v >= META_KEYS[i].since && (!META_KEYS[i].until || v <= META_KEYS[i].until))
            return META_KEYS[i].key;
    }
    return K_UNKNOWN;
}
#undef MK

static bool parse_i64(const char *s, size_t len, int64_t *out)
{
    if (!len || len > 19)
        return false;
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-') {
        neg = true;
        i = 1;
        if (len == 1)
            return false;
    }
    int64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

/* Store a metadata value into the op. Returns 0, or a status with the
 * request-level error written to out. */
static int set_meta(bulk *b, op *o, int key, const char *k, size_t klen, const char *v, size_t vlen,
                    bool escaped, buf *out)
{
    sref s = {v, (uint32_t)vlen};
    if (escaped) {
        buf tmp;
        buf_init(&tmp, 0);
        if (es_json_unescape(v, vlen, &tmp)) {
            buf_cleanup(&tmp);
            return -ENOMEM;
        }
        size_t n = tmp.len;
        char *d = pool_add(b, buf_take(&tmp, NULL));
        if (!d)
            return -ENOMEM;
        s.p = d;
        s.len = (uint32_t)n;
    }
    switch (key) {
    case K_INDEX:
        o->index = s;
        break;
    case K_TYPE:
        if (b->p->type_rejected)
            return illegal_arg(out,
                               "Action/metadata line [%u] contains an unknown parameter [%.*s]",
                               o->line, (int)klen, k);
        o->type = s;
        break;
    case K_ID:
        o->id = s;
        break;
    case K_OP_TYPE:
        if (s.len == 6 && memcmp(s.p, "create", 6) == 0)
            o->create = 1;
        else if (s.len == 5 && memcmp(s.p, "index", 5) == 0)
            o->create = o->act == ACT_CREATE;
        else
            return illegal_arg(out, "opType must be 'create' or 'index', found: [%.*s]", (int)s.len,
                               s.p);
        break;
    case K_VERSION:
        if (!parse_i64(s.p, s.len, &o->version))
            return illegal_arg(out, "For input string: \"%.*s\"", (int)s.len, s.p);
        break;
    case K_VERSION_TYPE:
        if (s.len == 8 && memcmp(s.p, "internal", 8) == 0)
            o->version_type = VT_INTERNAL;
        else if (s.len == 8 && memcmp(s.p, "external", 8) == 0)
            o->version_type = VT_EXTERNAL;
        else if ((s.len == 12 && memcmp(s.p, "external_gte", 12) == 0) ||
                 (s.len == 9 && memcmp(s.p, "external_gt", 9) == 0))
            o->version_type = s.len == 12 ? VT_EXTERNAL_GTE : VT_EXTERNAL;
        else
            return illegal_arg(out, "No version type match [%.*s]", (int)s.len, s.p);
        break;
    case K_IF_SEQ_NO:
        if (!parse_i64(s.p, s.len, &o->if_seq_no))
            return illegal_arg(out, "For input string: \"%.*s\"", (int)s.len, s.p);
        break;
    case K_IF_PRIMARY_TERM:
        if (!parse_i64(s.p, s.len, &o->if_primary_term))
            return illegal_arg(out, "For input string: \"%.*s\"", (int)s.len, s.p);
        break;
    default:
        /* routing, parent, pipeline, retry_on_conflict, require_alias...:
         * accepted; a single node needs none of them */
        break;
    }
    return 0;
}

/* The plain shapes shippers send: {"act":{"k":"v",...}} with simple string
 * values, no escapes, read from `p` up to the end of its line (the body's
 * end is `end`). Returns the line's '\n', or NULL to let the exact tokenizer
 * (which also words the errors) handle the line. */
static const char *fast_action(bulk *b, op *o, const char *p, const char *end)
{
/* skip blanks, then require the character c */
#define EXPECT(c)                                                                                  \
    do {                                                                                           \
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))                                 \
            p++;                                                                                   \
        if (p >= end || *p != (c))                                                                 \
            return NULL;                                                                           \
        p++;                                                                                       \
    } while (0)
/* a string without escapes or control bytes: [s, s + n) */
#define PLAIN(s, n)                                                                                \
    do {                                                                                           \
        EXPECT('"');                                                                               \
        s = p;                                                                                     \
        p = es_json_plain_run(p, end);                                                             \
        while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)                    \
            p++;                                                                                   \
        if (p >= end || *p != '"')                                                                 \
            return NULL;                                                                           \
        n = (size_t)(p++ - s);                                                                     \
    } while (0)
    const char *a, *k, *v;
    size_t alen, klen, vlen;
    EXPECT('{');
    PLAIN(a, alen);
    int act = action_code(a, alen);
    if (act < 0)
        return NULL;
    EXPECT(':');
    EXPECT('{');
    o->act = (uint8_t)act;
    o->create = act == ACT_CREATE;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            PLAIN(k, klen);
            EXPECT(':');
            PLAIN(v, vlen);
            switch (meta_key(b->p, k, klen)) {
            case K_INDEX:
                o->index.p = v;
                o->index.len = (uint32_t)vlen;
                break;
            case K_ID:
                o->id.p = v;
                o->id.len = (uint32_t)vlen;
                break;
            case K_TYPE:
                if (b->p->type_rejected)
                    return NULL;
                o->type.p = v;
                o->type.len = (uint32_t)vlen;
                break;
            case K_ROUTING:
            case K_PIPELINE:
            case K_PARENT:
                break;
            default:
                return NULL; /* rarer keys and unknown ones: the exact path */
            }
            while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
                p++;
            if (p < end && *p == ',') {
                p++;
                continue;
            }
            if (p < end && *p == '}') {
                p++;
                break;
            }
            return NULL;
        }
    }
    EXPECT('}');
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p < end && *p == '\n' ? p : NULL;
#undef PLAIN
#undef EXPECT
}

/* The exact reading of an action line, following ES's BulkRequestParser.
 * Returns 1 (op filled), 0 (a blank line: skipped), or an HTTP status with
 * the error written to out (or -ENOMEM). */
static int slow_action(bulk *b, op *o, const char *p, size_t len, buf *out)
{
    es_lex lx;
    es_lex_init(&lx, p, len, false);
    lx.src_desc = es_persona_src_desc(b->p);
    int ret = 1;
    if (es_lex_next(&lx))
        goto syntax;
    if (lx.tok == ES_TOK_NONE) {
        ret = 0;
        goto done;
    }
    if (lx.tok != ES_TOK_START_OBJECT) {
        ret = illegal_arg(
            out, "Malformed action/metadata line [%u], expected START_OBJECT but found [%s]",
            o->line, es_tok_name(lx.tok));
        goto done;
    }
    if (es_lex_next(&lx))
        goto syntax;
    if (lx.tok != ES_TOK_FIELD_NAME) {
        ret = illegal_arg(out,
                          "Malformed action/metadata line [%u], expected FIELD_NAME but found [%s]",
                          o->line, es_tok_name(lx.tok));
        goto done;
    }
    {
        char *name = es_lex_strdup(&lx);
        if (!name) {
            ret = -ENOMEM;
            goto done;
        }
        int act = action_code(name, strlen(name));
        if (act < 0) {
            ret = illegal_arg(out,
                              "Malformed action/metadata line [%u], expected field [create], "
                              "[delete], [index] or [update] but found [%s]",
                              o->line, name);
            free(name);
            goto done;
        }
        free(name);
        o->act = (uint8_t)act;
        o->create = act == ACT_CREATE;
    }
    if (es_lex_next(&lx))
        goto syntax;
    if (lx.tok == ES_TOK_START_OBJECT) {
        char key[256] = "";
        size_t klen = 0;
        for (;;) {
            if (es_lex_next(&lx))
                goto syntax;
            if (lx.tok == ES_TOK_END_OBJECT)
                break;
            if (lx.tok == ES_TOK_FIELD_NAME) {
                char *k = es_lex_strdup(&lx);
                if (!k) {
                    ret = -ENOMEM;
                    goto done;
                }
                klen = strlen(k);
                if (klen >= sizeof(key))
                    klen = sizeof(key) - 1;
                memcpy(key, k, klen);
                key[klen] = '\0';
                free(k);
                continue;
            }
            int kc = meta_key(b->p, key, klen);
            if (lx.tok == ES_TOK_VALUE_STRING || lx.tok == ES_TOK_VALUE_NUMBER ||
                lx.tok == ES_TOK_VALUE_BOOLEAN || lx.tok == ES_TOK_VALUE_NULL) {
                if (kc == K_UNKNOWN) {
                    ret = illegal_arg(
                        out, "Action/metadata line [%u] contains an unknown parameter [%s]",
                        o->line, key);
                    goto done;
                }
                int rc = set_meta(b, o, kc, key, klen, lx.text, lx.text_len, lx.escaped, out);
                if (rc) {
                    ret = rc;
                    goto done;
                }
                continue;
            }
            if (lx.tok == ES_TOK_START_ARRAY) {
                ret = illegal_arg(out,
                                  "Malformed action/metadata line [%u], expected a simple value "
                                  "for field [%s] but found [START_ARRAY]",
                                  o->line, key);
                goto done;
            }
            if (lx.tok == ES_TOK_START_OBJECT && (kc == K_SOURCE || kc == K_DYNAMIC_TEMPLATES)) {
                if (es_lex_skip(&lx))
                    goto syntax;
                continue;
            }
            ret = illegal_arg(out,
                              "Malformed action/metadata line [%u], expected a simple value for "
                              "field [%s] but found [%s]",
                              o->line, key, es_tok_name(lx.tok));
            goto done;
        }
    } else if (lx.tok != ES_TOK_END_OBJECT) {
        ret = illegal_arg(out,
                          "Malformed action/metadata line [%u], expected START_OBJECT or "
                          "END_OBJECT but found [%s]",
                          o->line, es_tok_name(lx.tok));
        goto done;
    }
    goto done;
syntax:
    ret = parse_error(b, &lx.err, p, len, out);
done:
    es_lex_cleanup(&lx);
    return ret;
}

/* Update bodies ------------------------------------------------------- */

static int parse_update(bulk *b, op *o, buf *out)
{
    const char *s = o->src;
    size_t len = o->src_len;
    es_check c = es_json_check(s, len, &(es_check_opts){.dup_keys = b->p->dup_keys}, NULL);
    if (c == ES_CHECK_SYNTAX || c == ES_CHECK_DUP_KEY) {
        es_jerr e;
        if (es_json_explain(s, len, b->p->dup_keys, es_persona_src_desc(b->p), &e))
            return parse_error(b, &e, s, len, out);
    }
    if (c == ES_CHECK_EMPTY || c == ES_CHECK_NOT_OBJECT) {
        /* UpdateRequest.fromXContent: the body must be an object */
        if (b->p->major >= 7)
            return req_error(out, 400, "x_content_parse_exception",
                             "[1:1] [UpdateRequest] Expected START_OBJECT but was: null");
        return illegal_arg(out, "Malformed content, must start with an object");
    }
    json_error_t je;
    json_t *j = json_loadb(s, len, JSON_DISABLE_EOF_CHECK, &je);
    if (!j)
        return -ENOMEM;
    const char *k;
    json_t *v;
    json_object_foreach (j, k, v) {
        if (strcmp(k, "doc") == 0 || strcmp(k, "upsert") == 0) {
            if (!json_is_object(v)) {
                json_decref(j);
                return req_error(out, 400,
                                 b->p->major >= 7 ? "x_content_parse_exception" : "parse_exception",
                                 "[UpdateRequest] failed to parse field [doc]");
            }
        } else if (strcmp(k, "doc_as_upsert") == 0 || strcmp(k, "detect_noop") == 0 ||
                   strcmp(k, "scripted_upsert") == 0) {
            if (!json_is_boolean(v)) {
                int st = illegal_arg(
                    out, "Failed to parse value [%s] as only [true] or [false] are allowed.",
                    json_is_string(v) ? json_string_value(v) : "?");
                json_decref(j);
                return st;
            }
        } else if (strcmp(k, "script") == 0 || strcmp(k, "_source") == 0 ||
                   strcmp(k, "lang") == 0 || strcmp(k, "params") == 0 || strcmp(k, "fields") == 0) {
            /* accepted; scripts are refused per item when applied */
        } else {
            int st;
            if (b->p->major >= 7) {
                char reason[512];
                snprintf(reason, sizeof(reason), "[1:2] [UpdateRequest] unknown field [%s]", k);
                st = req_error(out, 400, "x_content_parse_exception", reason);
            } else {
                st = illegal_arg(out, "[UpdateRequest] unknown field [%s], parser not found", k);
            }
            json_decref(j);
            return st;
        }
    }
    o->upd = j;
    return 0;
}

/* The scan phase ------------------------------------------------------ */

/* Find the delivery marker of a valid document. */
static void mark_doc(bulk *b, op *o, const es_check_out *co)
{
    if (!b->env->acct)
        return;
    if (b->acct_fast) {
        if (b->copts.field) {
            if (co->field_val && co->field_is_string)
                o->has_mark =
                    es_acct_find(b->env->acct, co->field_val, co->field_val_len, &o->mark);
        } else {
            o->has_mark = es_acct_find(b->env->acct, o->src, o->src_len, &o->mark);
        }
    } else {
        o->has_mark = es_acct_find_slow(b->env->acct, o->src, o->src_len, &o->mark);
    }
}

static void check_doc(bulk *b, op *o)
{
    es_check_out co;
    o->check = (uint8_t)es_json_check(o->src, o->src_len, &b->copts, &co);
    o->trailing_tok = (uint8_t)co.trailing_tok;
    if (o->check == ES_CHECK_OK)
        mark_doc(b, o, &co);
}

static int scan(bulk *b, buf *out)
{
    const char *body = b->req->body;
    size_t len = b->req->len, pos = 0;
    uint32_t line = 0;
    const char *end = body + len;
    for (;;) {
        if (pos >= len)
            return 0;
        op *o = new_op(b);
        if (!o)
            return -ENOMEM;
        const char *a = body + pos;
        /* the plain action line reads itself to its end; others are split
         * on '\n' first */
        const char *nl = fast_action(b, o, a, end);
        bool fast = nl != NULL;
        if (!fast)
            nl = memchr(a, '\n', len - pos);
        if (!nl) {
            b->nops--;
            return illegal_arg(out, "The bulk request must be terminated by a newline [\\n]");
        }
        line++;
        o->line = line;
        size_t alen = (size_t)(nl - a);
        pos = (size_t)(nl - body) + 1;
        if (!fast) {
            zero_op(o);
            o->version = -1;
            o->if_seq_no = UNASSIGNED_SEQ;
            o->index = b->def_index;
            o->line = line;
            int rc = slow_action(b, o, a, alen, out);
            if (rc == 0) {
                b->nops--; /* a blank line */
                continue;
            }
            if (rc != 1)
                return rc;
        }
        /* one pointer per distinct index name, so later steps compare
         * pointers instead of bytes */
        if (b->nops > 1 && o->index.p) {
            const sref *prev = &b->ops[b->nops - 2].index;
            if (prev->p && prev->len == o->index.len && prev->p != o->index.p &&
                same_bytes(prev->p, o->index.p, o->index.len))
                o->index.p = prev->p;
        }
        if (o->act == ACT_DELETE)
            continue;
        /* the document: validated in the same pass that finds its end */
        es_check_out co;
        es_check c = ES_CHECK_SYNTAX;
        if (o->act != ACT_UPDATE && pos < len) {
            es_check_opts lo = b->copts;
            lo.line = true;
            c = es_json_check(body + pos, len - pos, &lo, &co);
        }
        if (c == ES_CHECK_OK)
            nl = co.line_end;
        else
            nl = pos < len ? memchr(body + pos, '\n', len - pos) : NULL;
        if (!nl) {
            b->nops--; /* an action without its source line is dropped, as ES does */
            if (pos != len)
                return illegal_arg(out, "The bulk request must be terminated by a newline [\\n]");
            return 0;
        }
        line++;
        o->src = body + pos;
        size_t sl = (size_t)(nl - o->src);
        if (sl > 0 && o->src[sl - 1] == '\r')
            sl--;
        if (sl > UINT32_MAX)
            return illegal_arg(out, "document too large");
        o->src_len = (uint32_t)sl;
        pos = (size_t)(nl - body) + 1;
        if (o->act == ACT_UPDATE) {
            int rc = parse_update(b, o, out);
            if (rc)
                return rc;
            if (b->env->acct) {
                json_t *d = json_object_get(o->upd, "doc");
                if (!d)
                    d = json_object_get(o->upd, "upsert");
                if (d)
                    o->has_mark = es_acct_find(b->env->acct, o->src, o->src_len, &o->mark);
            }
        } else if (c == ES_CHECK_OK) {
            o->check = ES_CHECK_OK;
            mark_doc(b, o, &co);
        } else {
            check_doc(b, o);
        }
    }
}

/* BulkRequest.validate(): every problem of every item, numbered. */
static int validate(bulk *b, buf *out)
{
    buf v;
    buf_init(&v, 0);
    int n = 0, rc = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        rc = rc ? rc : buf_printf(&v, "%d: ", ++n);                                                \
        rc = rc ? rc : buf_printf(&v, __VA_ARGS__);                                                \
        rc = rc ? rc : buf_puts(&v, ";");                                                          \
    } while (0)
    if (b->nops == 0)
        ADD("no requests added");
    for (size_t i = 0; i < b->nops; i++) {
        op *o = &b->ops[i];
        if (!o->index.p)
            ADD("index is missing");
        if (b->p->type_required && !o->type.p && !b->def_type.p)
            ADD("type is missing");
        if ((o->act == ACT_DELETE || o->act == ACT_UPDATE) && !o->id.p)
            ADD("id is missing");
        if (o->act == ACT_UPDATE && o->upd && !json_object_get(o->upd, "doc") &&
            !json_object_get(o->upd, "script") && !json_object_get(o->upd, "upsert"))
            ADD("script or doc is missing");
        if (o->act == ACT_UPDATE && o->upd &&
            json_is_true(json_object_get(o->upd, "doc_as_upsert")) &&
            !json_object_get(o->upd, "doc"))
            ADD("doc must be specified if doc_as_upsert is enabled");
        if (o->id.p && o->id.len > ES_MAX_ID_BYTES)
            ADD("id [%.*s] is too long, must be no longer than 512 bytes but was: %u",
                (int)o->id.len, o->id.p, o->id.len);
        if (o->id.p && o->id.len == 0 && b->p->major >= 7)
            ADD("id is too short, must be no shorter than 1 byte but was: 0");
        if (o->act != ACT_DELETE && o->act != ACT_UPDATE && !o->id.p && o->version >= 0 &&
            o->version_type != VT_INTERNAL)
            ADD("an id must be provided if version type or value are set");
        if (o->create && o->version >= 0 && o->version_type == VT_INTERNAL && b->p->major >= 7)
            ADD("create operations do not support explicit versions. use index instead");
    }
#undef ADD
    if (rc) {
        buf_cleanup(&v);
        return rc;
    }
    if (n == 0) {
        buf_cleanup(&v);
        return 0;
    }
    buf reason;
    buf_init(&reason, 0);
    rc = buf_printf(&reason, "Validation Failed: %s", v.data);
    buf_cleanup(&v);
    if (rc) {
        buf_cleanup(&reason);
        return rc;
    }
    rc = req_error(out, 400, "action_request_validation_exception", reason.data);
    buf_cleanup(&reason);
    return rc;
}

/* Item errors ---------------------------------------------------------- */

static int item_fail(op *o, int status, const char *type, const char *reason, const char *extra,
                     const char *caused)
{
    buf e;
    buf_init(&e, 0);
    int rc = buf_puts(&e, "{\"type\":");
    rc = rc ? rc : es_json_put_str(&e, type, strlen(type));
    rc = rc ? rc : buf_puts(&e, ",\"reason\":");
    rc = rc ? rc : es_json_put_str(&e, reason, strlen(reason));
    rc = rc ? rc : (extra ? buf_puts(&e, extra) : 0);
    if (!rc && caused) {
        rc = buf_puts(&e, ",\"caused_by\":");
        rc = rc ? rc : buf_puts(&e, caused);
    }
    rc = rc ? rc : buf_puts(&e, "}");
    if (rc) {
        buf_cleanup(&e);
        return rc;
    }
    o->err = buf_take(&e, NULL);
    o->status = status;
    return o->err ? 0 : -ENOMEM;
}

/* ,"index_uuid":"…","shard":"0","index":"…" */
static int shard_extra(buf *x, const es_index *ix, const char *iname, size_t ilen)
{
    int rc = buf_puts(x, ",\"index_uuid\":");
    rc = rc ? rc : es_json_put_str(x, ix ? ix->uuid : "_na_", ix ? strlen(ix->uuid) : 4);
    rc = rc ? rc : (ix ? buf_puts(x, ",\"shard\":\"0\"") : 0);
    rc = rc ? rc : buf_puts(x, ",\"index\":");
    rc = rc ? rc : es_json_put_str(x, iname, ilen);
    return rc;
}

static const char *type_for_id(const bulk *b, const op *o)
{
    (void)b;
    return o->type_name ? o->type_name : "_doc";
}

static int fail_conflict(bulk *b, op *o, const es_index *ix, const char *fmt_tail)
{
    char reason[1200];
    const char *id = o->gen_id ? o->gid : o->id.p;
    int idl = (int)(o->gen_id ? ES_ID_LEN : o->id.len);
    if (b->p->major >= 7)
        snprintf(reason, sizeof(reason), "[%.*s]: %s", idl, id, fmt_tail);
    else
        snprintf(reason, sizeof(reason), "[%s][%.*s]: %s", type_for_id(b, o), idl, id, fmt_tail);
    buf x;
    buf_init(&x, 0);
    int rc = shard_extra(&x, ix, o->index.p, o->index.len);
    rc = rc ? rc : item_fail(o, 409, "version_conflict_engine_exception", reason, x.data, NULL);
    buf_cleanup(&x);
    return rc;
}

static int fail_doc(bulk *b, op *o)
{
    char reason[200];
    buf caused;
    buf_init(&caused, 0);
    int rc = 0;
    bool v8 = b->p->major >= 8;
    const char *type = v8 ? "document_parsing_exception" : "mapper_parsing_exception";
    switch (o->check) {
    case ES_CHECK_EMPTY:
        snprintf(reason, sizeof(reason), "%sfailed to parse, document is empty",
                 v8 ? "[0:0] " : "");
        rc = item_fail(o, 400, type, reason, NULL, NULL);
        break;
    case ES_CHECK_NOT_OBJECT:
        snprintf(reason, sizeof(reason), "%sMalformed content, must start with an object",
                 v8 ? "[1:1] " : "");
        rc = item_fail(o, 400, type, reason, NULL, NULL);
        break;
    case ES_CHECK_TRAILING: {
        char msg[128];
        snprintf(msg, sizeof(msg), "Malformed content, found extra data after parsing: %s",
                 es_tok_name((es_tok)o->trailing_tok));
        rc = buf_puts(&caused, "{\"type\":\"illegal_argument_exception\",\"reason\":");
        rc = rc ? rc : es_json_put_str(&caused, msg, strlen(msg));
        rc = rc ? rc : buf_puts(&caused, "}");
        if (v8)
            snprintf(reason, sizeof(reason), "[1:%u] failed to parse: %s", o->src_len + 1, msg);
        else
            snprintf(reason, sizeof(reason), "failed to parse");
        rc = rc ? rc : item_fail(o, 400, type, reason, NULL, caused.data);
        break;
    }
    default: {
        es_jerr e;
        memset(&e, 0, sizeof(e));
        if (!es_json_explain(o->src, o->src_len, b->p->dup_keys, es_persona_src_desc(b->p), &e))
            snprintf(e.msg, sizeof(e.msg), "Unexpected end-of-input");
        buf full;
        buf_init(&full, 0);
        rc = es_jerr_render(&e, es_persona_src_desc(b->p), o->src, o->src_len, &full);
        if (!rc && v8) {
            buf r;
            buf_init(&r, 0);
            rc = buf_printf(&r, "[%d:%d] %s", e.line, e.column, full.data);
            rc = rc ? rc : buf_puts(&caused, "{\"type\":\"x_content_parse_exception\",\"reason\":");
            rc = rc ? rc : es_json_put_str(&caused, r.data, r.len);
            rc = rc ? rc
                    : buf_puts(&caused,
                               ",\"caused_by\":{\"type\":\"json_parse_exception\",\"reason\":");
            rc = rc ? rc : es_json_put_str(&caused, full.data, full.len);
            rc = rc ? rc : buf_puts(&caused, "}}");
            buf_reset(&r);
            rc = rc ? rc : buf_printf(&r, "[%d:%d] failed to parse: %s", e.line, e.column, e.msg);
            rc = rc ? rc : item_fail(o, 400, type, r.data, NULL, caused.data);
            buf_cleanup(&r);
        } else if (!rc) {
            rc = buf_puts(&caused, "{\"type\":\"json_parse_exception\",\"reason\":");
            rc = rc ? rc : es_json_put_str(&caused, full.data, full.len);
            rc = rc ? rc : buf_puts(&caused, "}");
            rc = rc ? rc : item_fail(o, 400, type, "failed to parse", NULL, caused.data);
        }
        buf_cleanup(&full);
        break;
    }
    }
    buf_cleanup(&caused);
    return rc;
}

static int fail_block(bulk *b, op *o)
{
    char reason[600];
    int status;
    if (b->p->major >= 7) {
        status = 429;
        snprintf(reason, sizeof(reason),
                 "index [%.*s] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage "
                 "watermark, index has read-only-allow-delete block];",
                 (int)o->index.len, o->index.p);
    } else if (b->p->major >= 5) {
        status = 403;
        snprintf(reason, sizeof(reason),
                 "index [%.*s] blocked by: [FORBIDDEN/12/index read-only / allow delete (api)];",
                 (int)o->index.len, o->index.p);
    } else {
        status = 403;
        snprintf(reason, sizeof(reason), "blocked by: [FORBIDDEN/5/index read-only (api)];");
    }
    return item_fail(o, status, "cluster_block_exception", reason, NULL, NULL);
}

static const char *default_type_for(int status)
{
    switch (status) {
    case 400:
        return "mapper_parsing_exception";
    case 403:
        return "cluster_block_exception";
    case 404:
        return "document_missing_exception";
    case 409:
        return "version_conflict_engine_exception";
    case 429:
        return "es_rejected_execution_exception";
    case 503:
        return "unavailable_shards_exception";
    default:
        return "illegal_state_exception";
    }
}

static int fail_rule(bulk *b, op *o, const es_index *ix, const es_item_rule *r, size_t nitems)
{
    const char *type = r->type ? r->type : default_type_for(r->status);
    char reason[1200];
    const char *id = o->gen_id ? o->gid : o->id.p ? o->id.p : "";
    int idl = (int)(o->gen_id ? ES_ID_LEN : o->id.len);
    int il = (int)o->index.len;
    const char *in = o->index.p;
    buf x;
    buf_init(&x, 0);
    const char *caused = NULL;
    char cb[400];
    int rc = 0;
    if (r->reason) {
        snprintf(reason, sizeof(reason), "%s", r->reason);
    } else if (strcmp(type, "es_rejected_execution_exception") == 0) {
        if (b->p->major >= 7)
            snprintf(
                reason, sizeof(reason),
                "rejected execution of processing of [%lld][indices:data/write/bulk[s][p]]: "
                "request: BulkShardRequest [[%.*s][0]] containing [%zu] requests, target "
                "allocation id: %.22s, primary term: 1 on EsThreadPoolExecutor[name = %s/write, "
                "queue capacity = 10000, org.elasticsearch.common.util.concurrent."
                "EsThreadPoolExecutor@1f4a8e3c[Running, pool size = 2, active threads = 2, "
                "queued tasks = 10000, completed tasks = %lld]]",
                (long long)(o->line * 7 + 1000), il, in, nitems, ix ? ix->uuid : "_na_",
                b->env->node_name, (long long)(o->line * 13 + 50000));
        else
            snprintf(reason, sizeof(reason),
                     "rejected execution of org.elasticsearch.transport.TransportService$7@5b3a2d1 "
                     "on EsThreadPoolExecutor[bulk, queue capacity = 200, org.elasticsearch.common."
                     "util.concurrent.EsThreadPoolExecutor@7f1c0a2e[Running, pool size = 2, active "
                     "threads = 2, queued tasks = 200, completed tasks = %lld]]",
                     (long long)(o->line * 13 + 50000));
    } else if (strcmp(type, "mapper_parsing_exception") == 0 ||
               strcmp(type, "document_parsing_exception") == 0) {
        if (b->p->major >= 7) {
            snprintf(reason, sizeof(reason),
                     "failed to parse field [message] of type [long] in document with id '%.*s'. "
                     "Preview of field's value: 'efk'",
                     idl, id);
            snprintf(cb, sizeof(cb),
                     "{\"type\":\"illegal_argument_exception\",\"reason\":\"For input string: "
                     "\\\"efk\\\"\"}");
        } else {
            snprintf(reason, sizeof(reason), "failed to parse [message]");
            snprintf(cb, sizeof(cb),
                     "{\"type\":\"number_format_exception\",\"reason\":\"For input string: "
                     "\\\"efk\\\"\"}");
        }
        caused = cb;
    } else if (strcmp(type, "version_conflict_engine_exception") == 0) {
        if (b->p->major >= 7)
            snprintf(reason, sizeof(reason),
                     "[%.*s]: version conflict, document already exists (current version [1])", idl,
                     id);
        else
            snprintf(reason, sizeof(reason),
                     "[%s][%.*s]: version conflict, document already exists (current version [1])",
                     type_for_id(b, o), idl, id);
        rc = shard_extra(&x, ix, in, o->index.len);
    } else if (strcmp(type, "cluster_block_exception") == 0) {
        if (r->status == 429)
            snprintf(reason, sizeof(reason),
                     "index [%.*s] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded "
                     "flood-stage watermark, index has read-only-allow-delete block];",
                     il, in);
        else
            snprintf(
                reason, sizeof(reason),
                "index [%.*s] blocked by: [FORBIDDEN/12/index read-only / allow delete (api)];", il,
                in);
    } else if (strcmp(type, "document_missing_exception") == 0) {
        if (b->p->major >= 8)
            snprintf(reason, sizeof(reason), "[%.*s]: document missing", idl, id);
        else
            snprintf(reason, sizeof(reason), "[%s][%.*s]: document missing", type_for_id(b, o), idl,
                     id);
        rc = shard_extra(&x, ix, in, o->index.len);
    } else if (strcmp(type, "unavailable_shards_exception") == 0) {
        snprintf(reason, sizeof(reason),
                 "[%.*s][0] primary shard is not active Timeout: [1m], request: [BulkShardRequest "
                 "[[%.*s][0]] containing [%zu] requests]",
                 il, in, il, in, nitems);
    } else {
        snprintf(reason, sizeof(reason), "shard [%.*s][0] failed: injected %d", il, in, r->status);
    }
    rc = rc ? rc : item_fail(o, r->status, type, reason, x.len ? x.data : NULL, caused);
    buf_cleanup(&x);
    return rc;
}

/* Item faults: does a rule take this item? (store lock held) */
static const es_item_rule *pick_rule(const bulk *b, const op *o, size_t pos)
{
    for (size_t i = 0; i < b->req->nrules; i++) {
        const es_item_rule *r = &b->req->rules[i];
        if (r->index_glob) {
            char name[300];
            snprintf(name, sizeof(name), "%.*s", (int)o->index.len, o->index.p);
            if (fnmatch(r->index_glob, name, 0) != 0)
                continue;
        }
        if (r->npositions) {
            bool hit = false;
            for (size_t k = 0; k < r->npositions; k++)
                hit = hit || r->positions[k] == pos;
            if (!hit)
                continue;
        }
        uint64_t n = r->counter ? ++*r->counter : 1;
        if (r->every > 1 && n % r->every != 0)
            continue;
        if (r->probability >= 0 && r->rng && rng_double(r->rng) >= r->probability)
            continue;
        if (r->failed)
            ++*r->failed;
        return r;
    }
    return NULL;
}

/* Update merge (ES's XContentHelper.update): objects merge recursively,
 * anything else replaces. Returns whether something changed. */
static bool merge(json_t *dst, json_t *src)
{
    bool changed = false;
    const char *k;
    json_t *v;
    json_object_foreach (src, k, v) {
        json_t *old = json_object_get(dst, k);
        if (old && json_is_object(old) && json_is_object(v)) {
            changed = merge(old, v) || changed;
        } else if (!old || !json_equal(old, v)) {
            json_object_set(dst, k, v);
            changed = true;
        }
    }
    return changed;
}

/* The apply phase ------------------------------------------------------ */

typedef struct ix_cache {
    const char *name;
    size_t len;
    es_index *ix;
    char invalid[400];
    bool bad;
} ix_cache;

/* A type name for the answer, copied out of the store (the answer is
 * written after the lock is released, when the index may be gone). The
 * last one is reused: a request names few types. */
static const char *intern_type(bulk *b, const char *name)
{
    /* the store's name: its pointer is stable under the write lock */
    if (b->last_type && name == b->last_type_of)
        return b->last_type;
    if (b->last_type && strcmp(b->last_type, name) == 0) {
        b->last_type_of = name;
        return b->last_type;
    }
    const char *c = pool_add(b, strdup(name));
    if (c) {
        b->last_type = c;
        b->last_type_of = name;
    }
    return c ? c : "_doc";
}

static int resolve_type(bulk *b, op *o, es_index *ix, int *tidx)
{
    const es_persona *p = b->p;
    sref t = o->type.p ? o->type : b->def_type;
    if (p->major >= 8) {
        /* typeless; a compat-7 request may name one, answered as _doc */
        if (!ix->ntypes && es_index_type(ix, "_doc", 4, true) < 0)
            return -ENOMEM;
        *tidx = 0;
        o->type_name = "_doc";
        return 0;
    }
    if (!t.p) {
        t.p = "_doc";
        t.len = 4;
    }
    if (p->multi_type) {
        int r = es_index_type(ix, t.p, t.len, true);
        if (r == -ENOSPC) {
            char *tn = pool_add(b, strndup(t.p, t.len));
            o->type_name = tn ? tn : "_doc";
            int frc = item_fail(o, 400, "illegal_argument_exception",
                                "efksim keeps at most 64 mapping types per index", NULL, NULL);
            return frc ? frc : 1;
        }
        if (r < 0)
            return r;
        *tidx = r;
        o->type_name = intern_type(b, ix->types[r]);
        return 0;
    }
    if (!ix->ntypes) {
        int r = es_index_type(ix, t.p, t.len, true);
        if (r < 0)
            return r;
    }
    const char *have = ix->types[0];
    if (have != b->have_type) { /* a store name: stable under the write lock */
        b->have_type = have;
        b->have_type_len = strlen(have);
    }
    if ((b->have_type_len == t.len && same_bytes(have, t.p, t.len)) ||
        (t.len == 4 && same_bytes(t.p, "_doc", 4))) {
        *tidx = 0;
        o->type_name = intern_type(b, have);
        return 0;
    }
    char reason[600];
    snprintf(reason, sizeof(reason),
             "Rejecting mapping update to [%s] as the final mapping would have more than 1 type: "
             "[%s, %.*s]",
             ix->name, have, (int)t.len, t.p);
    o->type_name = NULL;
    {
        /* answer with the type the client sent */
        char *tn = pool_add(b, strndup(t.p, t.len));
        o->type_name = tn ? tn : "_doc";
    }
    int rc = item_fail(o, 400, "illegal_argument_exception", reason, NULL, NULL);
    return rc ? rc : 1;
}

static int apply_update(bulk *b, op *o, es_index *ix, int tidx)
{
    es_store *s = b->env->store;
    es_doc *d = es_index_doc_get(s, ix, tidx, o->id.p, o->id.len);
    json_t *doc = json_object_get(o->upd, "doc");
    bool as_upsert = json_is_true(json_object_get(o->upd, "doc_as_upsert"));
    json_t *upsert = json_object_get(o->upd, "upsert");
    json_t *detect = json_object_get(o->upd, "detect_noop");
    bool detect_noop = !detect || json_is_true(detect);
    if (json_object_get(o->upd, "script"))
        return item_fail(o, 400, "illegal_argument_exception",
                         "efksim does not run scripts: use a partial \"doc\" update", NULL, NULL);
    if (o->if_seq_no != UNASSIGNED_SEQ &&
        (!d || !d->live || d->seq_no != o->if_seq_no || o->if_primary_term != 1)) {
        char tail[300];
        if (d && d->live)
            snprintf(tail, sizeof(tail),
                     "version conflict, required seqNo [%lld], primary term [%lld]. current "
                     "document has seqNo [%lld] and primary term [1]",
                     (long long)o->if_seq_no, (long long)o->if_primary_term, (long long)d->seq_no);
        else
            snprintf(tail, sizeof(tail),
                     "version conflict, required seqNo [%lld], primary term [%lld]. but no "
                     "document was found",
                     (long long)o->if_seq_no, (long long)o->if_primary_term);
        return fail_conflict(b, o, ix, tail);
    }
    json_t *newdoc = NULL;
    bool created = false;
    if (!d || !d->live) {
        json_t *base = as_upsert ? doc : upsert;
        if (!base) {
            char reason[700];
            if (b->p->major >= 8)
                snprintf(reason, sizeof(reason), "[%.*s]: document missing", (int)o->id.len,
                         o->id.p);
            else
                snprintf(reason, sizeof(reason), "[%s][%.*s]: document missing", type_for_id(b, o),
                         (int)o->id.len, o->id.p);
            buf x;
            buf_init(&x, 0);
            int rc = shard_extra(&x, ix, o->index.p, o->index.len);
            rc = rc ? rc : item_fail(o, 404, "document_missing_exception", reason, x.data, NULL);
            buf_cleanup(&x);
            return rc;
        }
        newdoc = json_incref(base);
        created = true;
    } else {
        json_t *cur = json_loadb(es_doc_src(d), d->src_len, 0, NULL);
        if (!cur)
            cur = json_object();
        if (!cur)
            return -ENOMEM;
        bool changed = doc ? merge(cur, doc) : false;
        if (!changed && detect_noop) {
            json_decref(cur);
            o->status = 200;
            o->result = RES_NOOP;
            o->ver = d->version;
            o->seq = d->seq_no;
            return 0;
        }
        newdoc = cur;
    }
    if (es_store_full(s)) {
        json_decref(newdoc);
        return fail_block(b, o);
    }
    if (es_store_accounting_only(s)) {
        /* nothing is kept: an upsert only counts */
        json_decref(newdoc);
        es_index_count_only(s, ix, o->src_len, &o->seq);
        o->ver = 1;
        o->status = 201;
        o->result = RES_CREATED;
        return 0;
    }
    char *text = json_dumps(newdoc, JSON_COMPACT);
    json_decref(newdoc);
    if (!text)
        return -ENOMEM;
    bool was_created;
    int rc = es_index_put(s, ix, tidx, o->id.p, o->id.len, text, strlen(text), false, false, -1,
                          &o->ver, &o->seq, &was_created);
    free(text);
    if (rc == -ENOSPC)
        return fail_block(b, o);
    if (rc)
        return rc;
    o->status = created ? 201 : 200;
    o->result = created ? RES_CREATED : RES_UPDATED;
    return 0;
}

static int apply_one(bulk *b, op *o, size_t pos, ix_cache *cache)
{
    es_store *s = b->env->store;
    bool acct_only = es_store_accounting_only(s);
    /* the index: name rules, then auto-creation */
    if (cache->name != o->index.p && (!cache->name || cache->len != o->index.len ||
                                      memcmp(cache->name, o->index.p, o->index.len) != 0)) {
        cache->name = o->index.p;
        cache->len = o->index.len;
        cache->bad = es_index_name_check(b->p, o->index.p, o->index.len, cache->invalid,
                                         sizeof(cache->invalid)) != 0;
        cache->ix = cache->bad ? NULL : es_store_index_get(s, o->index.p, o->index.len);
    }
    if (cache->bad) {
        /* name what the client sent for the answer */
        o->type_name = o->type.p ? pool_add(b, strndup(o->type.p, o->type.len)) : NULL;
        buf x;
        buf_init(&x, 0);
        int rc = shard_extra(&x, NULL, o->index.p, o->index.len);
        rc = rc ? rc
                : item_fail(o, 400, "invalid_index_name_exception", cache->invalid, x.data, NULL);
        buf_cleanup(&x);
        return rc;
    }
    es_index *ix = cache->ix;
    if (!ix) {
        if (o->act == ACT_DELETE && b->p->major >= 7) {
            char reason[400];
            snprintf(reason, sizeof(reason), "no such index [%.*s]", (int)o->index.len, o->index.p);
            buf x;
            buf_init(&x, 0);
            int rc = buf_puts(&x, ",\"resource.type\":\"index_expression\",\"resource.id\":");
            rc = rc ? rc : es_json_put_str(&x, o->index.p, o->index.len);
            rc = rc ? rc : shard_extra(&x, NULL, o->index.p, o->index.len);
            o->type_name = o->type.p ? pool_add(b, strndup(o->type.p, o->type.len)) : NULL;
            rc = rc ? rc : item_fail(o, 404, "index_not_found_exception", reason, x.data, NULL);
            buf_cleanup(&x);
            return rc;
        }
        if (es_store_full(s)) {
            o->type_name = o->type.p ? pool_add(b, strndup(o->type.p, o->type.len)) : NULL;
            return fail_block(b, o);
        }
        int rc = es_store_index_add(s, o->index.p, o->index.len, &ix);
        if (rc == -ENOSPC) {
            char reason[300];
            snprintf(reason, sizeof(reason),
                     "Validation Failed: 1: this action would add [2] shards, but this cluster "
                     "currently has [%d]/[%d] maximum normal shards open;",
                     ES_MAX_INDICES * 2, ES_MAX_INDICES * 2);
            return item_fail(o, 400, "validation_exception", reason, NULL, NULL);
        }
        if (rc && rc != -EEXIST)
            return rc;
        cache->ix = ix;
    }
    int tidx = 0;
    int rc = resolve_type(b, o, ix, &tidx);
    if (rc)
        return rc < 0 ? rc : 0;
    if (!o->id.p && o->act != ACT_DELETE && o->act != ACT_UPDATE) {
        if (b->nids_used < b->nids) {
            memcpy(o->gid, b->ids + (size_t)b->nids_used * ES_ID_LEN, ES_ID_LEN);
            b->nids_used++;
        } else {
            es_idgen_next(b->env->ids, o->gid, 1);
        }
        o->gen_id = 1;
    }
    const es_item_rule *r = pick_rule(b, o, pos);
    if (r)
        return fail_rule(b, o, ix, r, b->nops);
    if (o->act == ACT_DELETE) {
        rc = es_index_del_doc(s, ix, tidx, o->id.p, o->id.len,
                              o->version >= 0 && o->version_type == VT_INTERNAL ? o->version : -1,
                              &o->ver, &o->seq);
        if (rc == -ESTALE) {
            char tail[200];
            snprintf(tail, sizeof(tail),
                     "version conflict, current version [%lld] is different than the one provided "
                     "[%lld]",
                     (long long)o->ver, (long long)o->version);
            return fail_conflict(b, o, ix, tail);
        }
        if (rc == -ENOENT) {
            o->status = 404;
            o->result = RES_NOT_FOUND;
            return 0;
        }
        if (rc)
            return rc;
        o->status = 200;
        o->result = RES_DELETED;
        return 0;
    }
    if (o->act == ACT_UPDATE)
        return apply_update(b, o, ix, tidx);
    /* index / create */
    if (o->check != ES_CHECK_OK)
        return fail_doc(b, o);
    if (es_store_full(s))
        return fail_block(b, o);
    if (acct_only) {
        es_index_count_only(s, ix, o->src_len, &o->seq);
        o->ver = 1;
        o->status = 201;
        o->result = RES_CREATED;
        return 0;
    }
    const char *id = o->gen_id ? o->gid : o->id.p;
    size_t idl = o->gen_id ? ES_ID_LEN : o->id.len;
    es_doc *cur = NULL;
    int64_t expect = -1;
    if (o->if_seq_no != UNASSIGNED_SEQ) {
        cur = es_index_doc_get(s, ix, tidx, id, idl);
        if (!cur || !cur->live || cur->seq_no != o->if_seq_no || o->if_primary_term != 1) {
            char tail[300];
            if (cur && cur->live)
                snprintf(tail, sizeof(tail),
                         "version conflict, required seqNo [%lld], primary term [%lld]. current "
                         "document has seqNo [%lld] and primary term [1]",
                         (long long)o->if_seq_no, (long long)o->if_primary_term,
                         (long long)cur->seq_no);
            else
                snprintf(tail, sizeof(tail),
                         "version conflict, required seqNo [%lld], primary term [%lld]. but no "
                         "document was found",
                         (long long)o->if_seq_no, (long long)o->if_primary_term);
            return fail_conflict(b, o, ix, tail);
        }
    }
    if (o->version >= 0 && o->version_type != VT_INTERNAL) {
        cur = es_index_doc_get(s, ix, tidx, id, idl);
        if (cur && cur->live &&
            (o->version_type == VT_EXTERNAL ? cur->version >= o->version
                                            : cur->version > o->version)) {
            char tail[200];
            snprintf(tail, sizeof(tail),
                     "version conflict, current version [%lld] is higher%s than the one provided "
                     "[%lld]",
                     (long long)cur->version, o->version_type == VT_EXTERNAL ? " or equal to" : "",
                     (long long)o->version);
            return fail_conflict(b, o, ix, tail);
        }
    } else if (o->version >= 0) {
        expect = o->version;
    }
    bool created = false;
    rc = es_index_put(s, ix, tidx, id, idl, o->src, o->src_len, o->create, o->gen_id != 0, expect,
                      &o->ver, &o->seq, &created);
    if (rc == -EEXIST) {
        char tail[200];
        snprintf(tail, sizeof(tail),
                 "version conflict, document already exists (current version [%lld])",
                 (long long)o->ver);
        return fail_conflict(b, o, ix, tail);
    }
    if (rc == -ESTALE) {
        char tail[200];
        snprintf(
            tail, sizeof(tail),
            "version conflict, current version [%lld] is different than the one provided [%lld]",
            (long long)o->ver, (long long)o->version);
        return fail_conflict(b, o, ix, tail);
    }
    if (rc == -ENOSPC)
        return fail_block(b, o);
    if (rc)
        return rc;
    if (o->version >= 0 && o->version_type != VT_INTERNAL) {
        es_doc *d = es_index_doc_get(s, ix, tidx, id, idl);
        if (d) {
            d->version = o->version;
            o->ver = o->version;
        }
    }
    o->status = created ? 201 : 200;
    o->result = created ? RES_CREATED : RES_UPDATED;
    return 0;
}

/* Rendering ------------------------------------------------------------ */

#define LIT(b, s) buf_append(b, s, sizeof(s) - 1)

/* Escape-free strings are copied straight; the rest take the slow path. */
static inline char *put_raw(char *d, const char *s, size_t n)
{
    memcpy(d, s, n);
    return d + n;
}

#define PUTL(d, lit) put_raw(d, lit, sizeof(lit) - 1)

/* A short copy without a call: names, ids and words of an answer are
 * mostly 4 to 32 bytes. Reads and writes stay inside [s, s + n). */
static inline char *put_short(char *d, const char *s, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a, z;
        memcpy(&a, s, 8);
        memcpy(&z, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &z, 8);
    } else if (n > 16 && n <= 32) {
        char a[16], z[16];
        memcpy(a, s, 16);
        memcpy(z, s + n - 16, 16);
        memcpy(d, a, 16);
        memcpy(d + n - 16, z, 16);
    } else if (n >= 4 && n < 8) {
        uint32_t a, z;
        memcpy(&a, s, 4);
        memcpy(&z, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &z, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    } else {
        memcpy(d, s, n);
    }
    return d + n;
}

static const char DIGIT_PAIRS[] = "00010203040506070809101112131415161718192021222324252627282930313233"
                                  "34353637383940414243444546474849505152535455565758596061626364656667"
                                  "6869707172737475767778798081828384858687888990919293949596979899";

static inline char *put_u64(char *d, uint64_t v)
{
    size_t n = 1;
    for (uint64_t t = v; t >= 10; t /= 10)
        n++;
    char *q = d + n;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        q -= 2;
        memcpy(q, DIGIT_PAIRS + 2 * r, 2);
    }
    if (v >= 10) {
        memcpy(q - 2, DIGIT_PAIRS + 2 * v, 2);
    } else {
        q[-1] = (char)('0' + v);
    }
    return d + n;
}

/* The common answer (6.x+, success, names without escapes) from a template
 * in one reservation; NULL when the item needs the general path. */
static int render_ok_fast(bulk *b, buf *out, const op *o, bool comma, bool *done)
{
    const es_persona *p = b->p;
    *done = false;
    if (o->err || p->major < 6 || !o->index.p)
        return 0;
    bool with_type = p->major <= 7 || p->compat7;
    const char *tn = p->compat7 ? "_doc" : o->type_name;
    if (with_type && !tn)
        return 0;
    size_t tl = 0;
    if (with_type) {
        if (tn != b->tn_last) {
            b->tn_last = tn;
            b->tn_last_len = strlen(tn);
        }
        tl = b->tn_last_len;
    }
    const char *id = o->gen_id ? o->gid : o->id.p;
    size_t idl = o->gen_id ? ES_ID_LEN : o->id.len;
    if (!id)
        return 0;
    if (o->index.len != b->esc_len ||
        (o->index.p != b->esc_name && memcmp(o->index.p, b->esc_name, o->index.len) != 0)) {
        b->esc_name = o->index.p;
        b->esc_len = o->index.len;
        b->esc_needed = es_json_needs_escape(o->index.p, o->index.len);
    }
    if (b->esc_needed || (with_type && tn != b->type_ok && es_json_needs_escape(tn, tl)) ||
        (!o->gen_id && es_json_needs_escape(id, idl)))
        return 0;
    static const char shards_ok[] = "\",\"_shards\":{\"total\":2,\"successful\":1,\"failed\":0}";
    static const char shards_noop[] = "\",\"_shards\":{\"total\":0,\"successful\":0,\"failed\":0}";
    int rc = buf_reserve(out, 240 + o->index.len + tl + idl);
    if (rc)
        return rc;
    char *d = out->data + out->len;
    if (comma)
        *d++ = ',';
    d = PUTL(d, "{\"");
    d = put_short(d, ACT_NAMES[o->act], ACT_LENS[o->act]);
    d = PUTL(d, "\":{\"_index\":\"");
    d = put_short(d, o->index.p, o->index.len);
    if (with_type) {
        d = PUTL(d, "\",\"_type\":\"");
        d = put_short(d, tn, tl);
    }
    d = PUTL(d, "\",\"_id\":\"");
    d = put_short(d, id, idl);
    d = PUTL(d, "\",\"_version\":");
    d = put_u64(d, (uint64_t)o->ver);
    d = PUTL(d, ",\"result\":\"");
    d = put_short(d, RES_NAMES[o->result], RES_LENS[o->result]);
    if (o->result == RES_NOOP)
        d = put_raw(d, shards_noop, sizeof(shards_noop) - 1);
    else
        d = put_raw(d, shards_ok, sizeof(shards_ok) - 1);
    d = PUTL(d, ",\"_seq_no\":");
    d = put_u64(d, (uint64_t)o->seq);
    d = PUTL(d, ",\"_primary_term\":1,\"status\":");
    d = put_u64(d, (uint64_t)o->status);
    d = PUTL(d, "}}");
    if (with_type)
        b->type_ok = tn;
    out->len = (size_t)(d - out->data);
    out->data[out->len] = '\0';
    *done = true;
    return 0;
}

static int render_item(bulk *b, buf *out, const op *o, bool comma)
{
    bool done;
    int frc = render_ok_fast(b, out, o, comma, &done);
    if (frc || done)
        return frc;
    if (comma && (frc = LIT(out, ",")) != 0)
        return frc;
    const es_persona *p = b->p;
    bool with_type = p->major <= 7 || p->compat7;
    const char *id = o->gen_id ? o->gid : o->id.p;
    size_t idl = o->gen_id ? ES_ID_LEN : o->id.len;
    const char *tn = o->type_name;
    if (!tn) {
        if (o->type.p) {
            tn = NULL; /* the raw one from the request, below */
        } else if (b->def_type.p) {
            tn = NULL;
        } else {
            tn = "_doc";
        }
    }
    int rc = buf_reserve(out, 256 + o->index.len + idl + (o->err ? strlen(o->err) : 0));
    if (rc)
        return rc;
    rc = LIT(out, "{\"");
    rc = rc ? rc : buf_puts(out, ACT_NAMES[o->act]);
    rc = rc ? rc : LIT(out, "\":{");
    bool ok = !o->err;
    if (!rc && ok && p->major <= 5 && o->act == ACT_DELETE)
        rc = o->result == RES_DELETED ? LIT(out, "\"found\":true,") : LIT(out, "\"found\":false,");
    rc = rc ? rc : LIT(out, "\"_index\":");
    if (!rc) {
        /* most items name the same index: check its escaping once */
        if (o->index.p != b->esc_name || o->index.len != b->esc_len) {
            b->esc_name = o->index.p;
            b->esc_len = o->index.len;
            b->esc_needed = !o->index.p || es_json_needs_escape(o->index.p, o->index.len);
        }
        if (b->esc_needed) {
            rc = es_json_put_str(out, o->index.p ? o->index.p : "", o->index.len);
        } else {
            rc = buf_reserve(out, o->index.len + 2);
            if (!rc) {
                char *d = out->data + out->len;
                d[0] = '"';
                memcpy(d + 1, o->index.p, o->index.len);
                d[o->index.len + 1] = '"';
                out->len += o->index.len + 2;
                out->data[out->len] = '\0';
            }
        }
    }
    if (!rc && with_type) {
        rc = LIT(out, ",\"_type\":");
        if (p->compat7)
            rc = rc ? rc : LIT(out, "\"_doc\"");
        else if (tn)
            rc = rc ? rc : es_json_put_str(out, tn, strlen(tn));
        else {
            sref t = o->type.p ? o->type : b->def_type;
            rc = rc ? rc : es_json_put_str(out, t.p, t.len);
        }
    }
    rc = rc ? rc : LIT(out, ",\"_id\":");
    if (!rc)
        rc = id ? es_json_put_str(out, id, idl) : LIT(out, "null");
    if (ok) {
        rc = rc ? rc : LIT(out, ",\"_version\":");
        rc = rc ? rc : es_put_i64(out, o->ver);
        if (p->major >= 5) {
            rc = rc ? rc : LIT(out, ",\"result\":\"");
            rc = rc ? rc : buf_puts(out, RES_NAMES[o->result]);
            rc = rc ? rc : LIT(out, "\"");
        }
        if (o->result == RES_NOOP)
            rc = rc ? rc : LIT(out, ",\"_shards\":{\"total\":0,\"successful\":0,\"failed\":0}");
        else
            rc = rc ? rc : LIT(out, ",\"_shards\":{\"total\":2,\"successful\":1,\"failed\":0}");
        if (p->major == 5 && (o->act == ACT_INDEX || o->act == ACT_CREATE))
            rc = rc ? rc
                    : (o->result == RES_CREATED ? LIT(out, ",\"created\":true")
                                                : LIT(out, ",\"created\":false"));
        if (p->major >= 6) {
            rc = rc ? rc : LIT(out, ",\"_seq_no\":");
            rc = rc ? rc : es_put_i64(out, o->seq);
            rc = rc ? rc : LIT(out, ",\"_primary_term\":1");
        }
        rc = rc ? rc : LIT(out, ",\"status\":");
        rc = rc ? rc : es_put_i64(out, o->status);
        rc = rc ? rc : LIT(out, "}}");
    } else {
        rc = rc ? rc : LIT(out, ",\"status\":");
        rc = rc ? rc : es_put_i64(out, o->status);
        rc = rc ? rc : LIT(out, ",\"error\":");
        rc = rc ? rc : buf_puts(out, o->err);
        rc = rc ? rc : LIT(out, "}}");
    }
    return rc;
}

static void bulk_cleanup(bulk *b)
{
    for (size_t i = 0; i < b->nops; i++) {
        json_decref(b->ops[i].upd);
        free(b->ops[i].err);
    }
    ops_give_back(b);
    for (size_t i = 0; i < b->npool; i++)
        free(b->pool[i]);
    free(b->pool);
    free(b->ids);
}

int es_bulk_run(const es_bulk_env *env, const es_bulk_req *req, buf *out, es_bulk_stats *st)
{
    bulk b;
    memset(&b, 0, sizeof(b));
    ops_take(&b);
    b.env = env;
    b.req = req;
    b.p = req->persona;
    if (req->index) {
        b.def_index.p = req->index;
        b.def_index.len = (uint32_t)strlen(req->index);
    }
    if (req->type) {
        b.def_type.p = req->type;
        b.def_type.len = (uint32_t)strlen(req->type);
    }
    b.copts.dup_keys = b.p->dup_keys;
    if (env->acct) {
        const char *f = NULL;
        size_t fl = 0;
        b.acct_fast = es_acct_fast(env->acct, &f, &fl);
        if (b.acct_fast && f) {
            b.copts.field = f;
            b.copts.field_len = fl;
        }
    }
    if (st)
        memset(st, 0, sizeof(*st));
    int status = scan(&b, out);
    if (status == 0)
        status = validate(&b, out);
    if (status != 0)
        goto done;

    es_mark *marks = NULL;
    size_t nmarks = 0;
    uint64_t unmarked = 0;
    if (env->acct) {
        marks = malloc((b.nops ? b.nops : 1) * sizeof(*marks));
        if (!marks) {
            status = -ENOMEM;
            goto done;
        }
    }
    /* ids for the documents that come without one: one clock read, one lock */
    size_t need = 0;
    for (size_t k = 0; k < b.nops; k++)
        need += !b.ops[k].id.p && (b.ops[k].act == ACT_INDEX || b.ops[k].act == ACT_CREATE);
    if (need) {
        b.ids = malloc(need * ES_ID_LEN);
        if (b.ids) {
            es_idgen_next(env->ids, b.ids, need);
            b.nids = need;
        }
    }
    if (!es_store_accounting_only(env->store)) {
        size_t bytes = 0;
        for (size_t k = 0; k < b.nops; k++)
            bytes += b.ops[k].src_len + ES_ID_LEN;
        es_store_reserve(env->store, bytes);
    }
    ix_cache cache;
    memset(&cache, 0, sizeof(cache));
    es_store_wrlock(env->store);
    int rc = 0;
    size_t i;
    for (i = 0; i < b.nops; i++) {
        op *o = &b.ops[i];
        rc = apply_one(&b, o, i + 1, &cache);
        if (rc)
            break;
        bool delivered = !o->err && o->act != ACT_DELETE;
        if (marks && delivered) {
            if (o->has_mark)
                marks[nmarks++] = o->mark;
            else
                unmarked++;
        }
    }
    es_store_unlock(env->store);
    if (marks && (nmarks || unmarked))
        es_acct_record(env->acct, marks, nmarks, unmarked);
    free(marks);
    if (rc) {
        buf_reset(out);
        if (es_error_render(out, 500, "out_of_memory_error", "efksim ran out of memory", NULL,
                            NULL) == 0)
            status = 500;
        else
            status = rc;
        goto done;
    }

    bool errors = false;
    size_t failed = 0, faulted = 0;
    for (i = 0; i < b.nops; i++) {
        if (b.ops[i].err) {
            errors = true;
            failed++;
        }
    }
    (void)faulted;
    int64_t took = (clock_mono_ns(env->clock) - req->start_ns) / 1000000;
    if (took < 0)
        took = 0;
    buf_reset(out);
    rc = buf_reserve(out, 64 + b.nops * 200);
    rc = rc ? rc : LIT(out, "{\"took\":");
    rc = rc ? rc : es_put_i64(out, took);
    rc = rc ? rc
            : (errors ? LIT(out, ",\"errors\":true,\"items\":[")
                      : LIT(out, ",\"errors\":false,\"items\":["));
    for (i = 0; i < b.nops && !rc; i++)
        rc = render_item(&b, out, &b.ops[i], i > 0);
    rc = rc ? rc : LIT(out, "]}");
    status = rc ? rc : 200;
    if (st) {
        st->items = b.nops;
        st->failed = failed;
    }
done:
    bulk_cleanup(&b);
    return status;
}
