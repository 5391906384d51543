/*
 * es_json.h - the JSON reading the bulk hot path needs, without trees.
 *
 * Two readers over the same grammar:
 *
 *   es_json_check()  validates one document in a single pass and builds
 *                    nothing: strings are skipped eight bytes at a time
 *                    (log documents are mostly string content), numbers and
 *                    literals are checked byte by byte, nesting is tracked in a
 *                    small stack. It answers only "valid or not" (plus, when
 *                    asked, where a top-level field's value is), so it stays
 *                    tight.
 *
 *   es_lex           a pull tokenizer with Elasticsearch's token names
 *                    (START_OBJECT, FIELD_NAME, VALUE_STRING...) for action
 *                    lines, whose errors quote those names; and, on the rare
 *                    invalid document, the slow path that says exactly what
 *                    was wrong the way Jackson (the parser inside ES) says it:
 *                    "Unexpected character ('x' (code 120)): was expecting
 *                    comma to separate Object entries", with its line and
 *                    column.
 *
 * Both accept exactly RFC 8259 JSON (what Jackson accepts by default) and
 * several root values in a row separated by whitespace, as Jackson does.
 */
#ifndef EFK_ES_JSON_H
#define EFK_ES_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The first byte in [p, end) that a JSON string scan must look at: '"',
 * '\\', a control byte or a non-ASCII byte; `end` when the 16-byte blocks
 * hold none (the last 15 bytes are left to the caller's byte loop). */
static inline __attribute__((always_inline)) const char *es_json_plain_run(const char *p,
                                                                            const char *end)
{
#ifdef __SSE2__
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* signed compare: bytes >= 0x80 are negative, so "< 0x20" catches
         * control bytes and non-ASCII bytes at once */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
                                 _mm_cmplt_epi8(v, sp));
        int bits = _mm_movemask_epi8(m);
        if (bits)
            return p + __builtin_ctz((unsigned)bits);
        p += 16;
    }
#endif
    return p;
}

#define ES_JSON_MAX_DEPTH 1000
#define ES_JSON_MSG_MAX   320

/* Token kinds, with the names ES prints in its errors. */
typedef enum es_tok {
    ES_TOK_NONE = 0, /* end of input ("null" in ES's messages) */
    ES_TOK_START_OBJECT,
    ES_TOK_END_OBJECT,
    ES_TOK_START_ARRAY,
    ES_TOK_END_ARRAY,
    ES_TOK_FIELD_NAME,
    ES_TOK_VALUE_STRING,
    ES_TOK_VALUE_NUMBER,
    ES_TOK_VALUE_BOOLEAN,
    ES_TOK_VALUE_NULL,
} es_tok;

/* "START_OBJECT", ... ("null" for ES_TOK_NONE). Borrowed. */
const char *es_tok_name(es_tok t);

/* A syntax problem as Jackson describes it. */
typedef struct es_jerr {
    size_t offset;             /* byte offset where it was seen */
    int line, column;          /* Jackson's location (1-based) */
    char msg[ES_JSON_MSG_MAX]; /* Jackson's text, without the location */
} es_jerr;

/* Append Jackson's full message: msg + "\n at [Source: <src>; line: L,
 * column: C]". <src> is `src_desc` when not NULL (ES versions name their
 * input stream class there), else (byte[])"<text>" cut at 500 bytes like
 * Jackson does. 0 or buf's errors. */
int es_jerr_render(const es_jerr *e, const char *src_desc, const char *text, size_t len, buf *out)
    __attribute__((warn_unused_result));

/* ---- the fast validator ---- */
typedef enum es_check {
    ES_CHECK_OK = 0,
    ES_CHECK_EMPTY,      /* only whitespace */
    ES_CHECK_NOT_OBJECT, /* valid JSON but the first token is not '{' */
    ES_CHECK_TRAILING,   /* valid object followed by more JSON */
    ES_CHECK_SYNTAX,     /* invalid JSON (ask es_json_explain for details) */
    ES_CHECK_DUP_KEY,    /* a field name repeated in one object */
} es_check;

typedef struct es_check_opts {
    bool dup_keys;     /* detect duplicate field names (ES >= 5) */
    const char *field; /* report the value of this top-level field */
    size_t field_len;
    /* NDJSON line mode: the input runs on past the document and a '\n' ends
     * it. ES_CHECK_OK only for an object followed by blanks and '\n' (then
     * out->line_end points at the '\n'); any other answer means: find the
     * line and check it again without line mode for the exact verdict. */
    bool line;
} es_check_opts;

typedef struct es_check_out {
    const char *field_val; /* the value's raw bytes (a string without its
                              quotes, escapes kept), or NULL when absent */
    size_t field_val_len;
    bool field_is_string;
    es_tok trailing_tok;  /* ES_CHECK_TRAILING: the first extra token */
    const char *line_end; /* line mode: the '\n' after the document */
} es_check_out;

/* Validate one document `p[0..len)`. `opts` and `out` may be NULL.
 * Thread-safe (no state). */
es_check es_json_check(const char *p, size_t len, const es_check_opts *opts, es_check_out *out);

/* For a document es_json_check called ES_CHECK_SYNTAX or ES_CHECK_DUP_KEY:
 * fill `e` with Jackson's description of the first problem. Returns true
 * when one was found. */
bool es_json_explain(const char *p, size_t len, bool dup_keys, const char *src_desc, es_jerr *e);

/* ---- the pull tokenizer ---- */
typedef struct es_lex {
    const char *s;
    size_t len, pos;
    es_tok tok;       /* the current token */
    const char *text; /* its raw text: string contents without quotes,
                         the number or literal as written */
    size_t text_len;
    bool escaped; /* the string contains backslash escapes */
    es_jerr err;  /* after a -1 */
    /* grammar state */
    int depth;
    uint8_t stack[ES_JSON_MAX_DEPTH + 1]; /* '{' or '[' per level */
    int state;
    bool dup_keys;
    const char *src_desc; /* how messages name the input (NULL: the bytes) */
    /* open-object key lists for duplicate detection */
    size_t nkeys, keys_cap;
    struct es_lex_key {
        const char *p;
        size_t len;
        int depth;
    } * keys;
} es_lex;

/* Start tokenizing `s[0..len)` (borrowed). */
void es_lex_init(es_lex *lx, const char *s, size_t len, bool dup_keys);
void es_lex_cleanup(es_lex *lx);

/* Advance to the next token: 0 with lx->tok set (ES_TOK_NONE at the end of
 * input), or -1 with lx->err filled. */
int es_lex_next(es_lex *lx);

/* Skip the children of the current START_OBJECT/START_ARRAY token, leaving
 * the matching END token current. 0 or -1 (lx->err). */
int es_lex_skip(es_lex *lx);

/* Decode the current string token (escapes resolved) into a new
 * NUL-terminated string; NULL on ENOMEM. Caller frees. */
char *es_lex_strdup(const es_lex *lx);

/* Decode a JSON string body (no quotes, escapes kept) into `out`. */
int es_json_unescape(const char *p, size_t len, buf *out) __attribute__((warn_unused_result));

/* Does `s[0..len)` need escaping inside a JSON string literal? */
bool es_json_needs_escape(const char *s, size_t len);

#endif
