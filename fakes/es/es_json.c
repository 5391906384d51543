#include "es_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Strings are the bulk of a log document, so their scan is the hot loop:
 * sixteen bytes are loaded at once (es_json_plain_run, SSE2; eight with the
 * usual word-at-a-time bit tricks for the tail) and tested for the four
 * kinds of byte that need attention inside a string ('"', '\\', a control
 * byte, a non-ASCII byte). Only when a block holds one of them do we walk
 * its bytes. Non-ASCII bytes are validated as UTF-8 (ES rejects invalid
 * UTF-8 the way Jackson does).
 */

#define ONES       UINT64_C(0x0101010101010101)
#define HIGHS      UINT64_C(0x8080808080808080)
#define HASZERO(v) (((v)-ONES) & ~(v)&HIGHS)

static inline uint64_t special_bytes(uint64_t w)
{
    uint64_t q = w ^ (ONES * '"');
    uint64_t b = w ^ (ONES * '\\');
    uint64_t ctl = (w - ONES * 0x20) & ~w & HIGHS;
    return HASZERO(q) | HASZERO(b) | ctl | (w & HIGHS);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t min;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static inline bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Skip a string body starting after the opening quote; returns the position
 * after the closing quote, or NULL when the string is invalid. */
static const char *string_rest(const char *p, const char *end, bool *escaped)
{
    for (;;) {
        p = es_json_plain_run(p, end);
        while (end - p >= 8) { /* the tail under 16 bytes, or without SSE2 */
            uint64_t w;
            memcpy(&w, p, 8);
            if (special_bytes(w))
                break;
            p += 8;
        }
        if (p >= end)
            return NULL;
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c == '\\') {
            if (escaped)
                *escaped = true;
            if (end - p < 2)
                return NULL;
            unsigned char e = (unsigned char)p[1];
            if (e == 'u') {
                if (end - p < 6 || !is_hex((unsigned char)p[2]) || !is_hex((unsigned char)p[3]) ||
                    !is_hex((unsigned char)p[4]) || !is_hex((unsigned char)p[5]))
                    return NULL;
                p += 6;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                       e == 'r' || e == 't') {
                p += 2;
            } else {
                return NULL;
            }
            continue;
        }
        if (c < 0x20)
            return NULL;
        if (c >= 0x80) {
            size_t n = utf8_len((const unsigned char *)p, (const unsigned char *)end);
            if (!n)
                return NULL;
            p += n;
            continue;
        }
        p++;
    }
}

/* The common case inline (a string without escapes or non-ASCII bytes ends
 * in the first 16-byte blocks); everything else, out of line. */
static inline __attribute__((always_inline)) const char *skip_string(const char *p,
                                                                      const char *end,
                                                                      bool *escaped)
{
    p = es_json_plain_run(p, end);
    if (p < end && *p == '"')
        return p + 1;
    return string_rest(p, end, escaped);
}

static inline const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Blanks within one NDJSON line: a '\n' is not one of them. */
static inline const char *skip_ws_line(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p;
}

static const char *skip_number(const char *p, const char *end)
{
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return NULL;
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return NULL;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return NULL;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

static inline bool ident_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || c >= 0x80;
}

static const char *skip_literal(const char *p, const char *end)
{
    static const char *const lits[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(lits[i]);
        if ((size_t)(end - p) >= n && memcmp(p, lits[i], n) == 0) {
            if ((size_t)(end - p) > n && ident_char((unsigned char)p[n]))
                return NULL;
            return p + n;
        }
    }
    return NULL;
}

/* Most tokens are not preceded by blanks: one test says so. */
static inline __attribute__((always_inline)) const char *ws_fast(const char *p, const char *end,
                                                                  bool line)
{
    if (p < end && (unsigned char)*p > ' ')
        return p;
    return line ? skip_ws_line(p, end) : skip_ws(p, end);
}

/* A field name's bit in its object's filter: names whose bits are new in
 * the object cannot repeat an earlier one, so only a filter hit compares. */
static inline uint64_t key_bit(const char *k, size_t klen)
{
    unsigned h = klen ? (unsigned char)k[0] * 31u + (unsigned char)k[klen - 1] : 0;
    return UINT64_C(1) << ((h + (unsigned)klen * 7u) & 63);
}

#define FAST_KEYS 256

typedef struct key_ref {
    const char *p;
    size_t len;
    int depth;
} key_ref;

es_check es_json_check(const char *p, size_t len, const es_check_opts *opts, es_check_out *out)
{
    const char *s = p, *end = p + len;
    uint8_t stk[ES_JSON_MAX_DEPTH + 1];
    uint64_t seen[ES_JSON_MAX_DEPTH + 1]; /* per open object: key_bit()s */
    key_ref keys[FAST_KEYS];
    size_t nkeys = 0;
    int d = 0;
    bool dup = opts && opts->dup_keys;
    const char *want = opts ? opts->field : NULL;
    size_t want_len = opts ? opts->field_len : 0;
    bool want_this = false;
    const char *val_start = NULL;
    bool line = opts && opts->line;
#define WSP(x) ws_fast((x), end, line)

    if (out) {
        out->field_val = NULL;
        out->field_val_len = 0;
        out->field_is_string = false;
        out->trailing_tok = ES_TOK_NONE;
        out->line_end = NULL;
    }
    s = WSP(s);
    if (line && (s == end || *s != '{'))
        return ES_CHECK_SYNTAX; /* not the plain case: let the exact path look */
    if (s == end)
        return ES_CHECK_EMPTY;
    if (*s != '{') {
        es_lex lx;
        es_lex_init(&lx, p, len, false);
        int rc = es_lex_next(&lx);
        es_lex_cleanup(&lx);
        return rc ? ES_CHECK_SYNTAX : ES_CHECK_NOT_OBJECT;
    }
    seen[d] = 0;
    stk[d++] = '{';
    s++;
    s = WSP(s);
    if (s < end && *s == '}') {
        s++;
        d--;
        goto after_value;
    }

key:
    if (s >= end || *s != '"')
        return ES_CHECK_SYNTAX;
    {
        const char *k = s + 1;
        s = skip_string(k, end, NULL);
        if (!s)
            return ES_CHECK_SYNTAX;
        size_t klen = (size_t)(s - 1 - k);
        if (dup) {
            uint64_t bit = key_bit(k, klen);
            bool maybe = seen[d - 1] & bit;
            seen[d - 1] |= bit;
            for (size_t i = nkeys; maybe && i > 0 && keys[i - 1].depth == d; i--) {
                if (keys[i - 1].len == klen && (klen == 0 || keys[i - 1].p[0] == k[0]) &&
                    memcmp(keys[i - 1].p, k, klen) == 0)
                    return ES_CHECK_DUP_KEY;
            }
            if (nkeys == FAST_KEYS) {
                /* A very wide object: let the exact (slower) reader decide. */
                if (line)
                    return ES_CHECK_SYNTAX;
                es_jerr e;
                return es_json_explain(p, len, true, NULL, &e) ? ES_CHECK_SYNTAX : ES_CHECK_OK;
            }
            keys[nkeys].p = k;
            keys[nkeys].len = klen;
            keys[nkeys].depth = d;
            nkeys++;
        }
        want_this = want && d == 1 && klen == want_len && memcmp(k, want, klen) == 0;
    }
    s = WSP(s);
    if (s >= end || *s != ':')
        return ES_CHECK_SYNTAX;
    s = WSP(s + 1);

value:
    if (s >= end)
        return ES_CHECK_SYNTAX;
    val_start = s;
    switch (*s) {
    case '"':
        s = skip_string(s + 1, end, NULL);
        if (!s)
            return ES_CHECK_SYNTAX;
        if (want_this && out) {
            out->field_val = val_start + 1;
            out->field_val_len = (size_t)(s - val_start - 2);
            out->field_is_string = true;
            want_this = false;
        }
        goto after_value;
    case '{':
        if (d >= ES_JSON_MAX_DEPTH)
            return ES_CHECK_SYNTAX;
        want_this = false;
        seen[d] = 0;
        stk[d++] = '{';
        s = WSP(s + 1);
        if (s < end && *s == '}') {
            s++;
            d--;
            goto after_value;
        }
        goto key;
    case '[':
        if (d >= ES_JSON_MAX_DEPTH)
            return ES_CHECK_SYNTAX;
        want_this = false;
        stk[d++] = '[';
        s = WSP(s + 1);
        if (s < end && *s == ']') {
            s++;
            d--;
            goto after_value;
        }
        goto value;
    case 't':
    case 'f':
    case 'n':
        s = skip_literal(s, end);
        break;
    default:
        s = skip_number(s, end);
        if (s && s < end && ident_char((unsigned char)*s))
            return ES_CHECK_SYNTAX;
        break;
    }
    if (!s)
        return ES_CHECK_SYNTAX;
    if (want_this && out) {
        out->field_val = val_start;
        out->field_val_len = (size_t)(s - val_start);
        out->field_is_string = false;
        want_this = false;
    }

after_value:
    s = WSP(s);
    if (d == 0)
        goto done;
    if (s >= end)
        return ES_CHECK_SYNTAX;
    if (stk[d - 1] == '{') {
        if (*s == ',') {
            s = WSP(s + 1);
            goto key;
        }
        if (*s == '}') {
            s++;
            while (nkeys > 0 && keys[nkeys - 1].depth == d)
                nkeys--;
            d--;
            goto after_value;
        }
        return ES_CHECK_SYNTAX;
    }
    if (*s == ',') {
        s = WSP(s + 1);
        goto value;
    }
    if (*s == ']') {
        s++;
        d--;
        goto after_value;
    }
    return ES_CHECK_SYNTAX;

done:
    if (line) {
        if (s < end && *s == '\n') {
            if (out)
                out->line_end = s;
            return ES_CHECK_OK;
        }
        return ES_CHECK_SYNTAX;
    }
    if (s == end)
        return ES_CHECK_OK;
    {
        /* More after the object: ES reads one more token to say what. */
        es_lex lx;
        es_lex_init(&lx, s, (size_t)(end - s), false);
        int rc = es_lex_next(&lx);
        es_tok t = lx.tok;
        es_lex_cleanup(&lx);
        if (rc)
            return ES_CHECK_SYNTAX;
        if (out)
            out->trailing_tok = t;
        return ES_CHECK_TRAILING;
    }
#undef WSP
}

/* ---------------- the pull tokenizer ---------------- */

enum {
    ST_ROOT,      /* expecting a root value or the end */
    ST_OBJ_FIRST, /* after '{' */
    ST_OBJ_KEY,   /* after ',' in an object */
    ST_OBJ_VALUE, /* after a field name (colon consumed) */
    ST_OBJ_AFTER, /* after a value in an object */
    ST_ARR_FIRST, /* after '[' */
    ST_ARR_VALUE, /* after ',' in an array */
    ST_ARR_AFTER, /* after a value in an array */
};

const char *es_tok_name(es_tok t)
{
    switch (t) {
    case ES_TOK_START_OBJECT:
        return "START_OBJECT";
    case ES_TOK_END_OBJECT:
        return "END_OBJECT";
    case ES_TOK_START_ARRAY:
        return "START_ARRAY";
    case ES_TOK_END_ARRAY:
        return "END_ARRAY";
    case ES_TOK_FIELD_NAME:
        return "FIELD_NAME";
    case ES_TOK_VALUE_STRING:
        return "VALUE_STRING";
    case ES_TOK_VALUE_NUMBER:
        return "VALUE_NUMBER";
    case ES_TOK_VALUE_BOOLEAN:
        return "VALUE_BOOLEAN";
    case ES_TOK_VALUE_NULL:
        return "VALUE_NULL";
    case ES_TOK_NONE:
        break;
    }
    return "null";
}

void es_lex_init(es_lex *lx, const char *s, size_t len, bool dup_keys)
{
    memset(lx, 0, offsetof(es_lex, stack));
    lx->s = s;
    lx->len = len;
    lx->state = ST_ROOT;
    lx->dup_keys = dup_keys;
    lx->src_desc = NULL;
    lx->nkeys = 0;
    lx->keys_cap = 0;
    lx->keys = NULL;
}

void es_lex_cleanup(es_lex *lx)
{
    free(lx->keys);
    lx->keys = NULL;
    lx->nkeys = lx->keys_cap = 0;
}

/* Jackson's column for a problem seen at byte `off`: it has consumed the
 * offending character, so the column is one past it (1-based). */
static void set_loc(es_lex *lx, size_t off, int col_adjust)
{
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < off && i < lx->len; i++) {
        if (lx->s[i] == '\n') {
            line++;
            line_start = i + 1;
        }
    }
    lx->err.offset = off;
    lx->err.line = line;
    lx->err.column = (int)(off - line_start) + col_adjust;
}

static void source_desc(const char *desc, const char *s, size_t len, char *out, size_t outsz)
{
    if (desc) {
        snprintf(out, outsz, "%s", desc);
        return;
    }
    size_t n = len > 500 ? 500 : len;
    int w;
    if (len > 500)
        w = snprintf(out, outsz, "(byte[])\"%.*s\"[truncated %zu bytes]", (int)n, s, len - n);
    else
        w = snprintf(out, outsz, "(byte[])\"%.*s\"", (int)n, s);
    (void)w;
}

static int fail(es_lex *lx, size_t off, int col_adjust, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(es_lex *lx, size_t off, int col_adjust, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->err.msg, sizeof(lx->err.msg), fmt, ap);
    va_end(ap);
    set_loc(lx, off, col_adjust);
    return -1;
}

/* "('x' (code 120))" as Jackson prints a character. */
static void char_desc(unsigned char c, char *out, size_t outsz)
{
    if (c < 0x20)
        snprintf(out, outsz, "(CTRL-CHAR, code %d)", c);
    else if (c >= 0x80)
        snprintf(out, outsz, "((char)0x%x (code %d))", c, c);
    else
        snprintf(out, outsz, "('%c' (code %d))", c, c);
}

static int unexpected(es_lex *lx, size_t off, const char *what)
{
    char cd[48];
    char_desc((unsigned char)lx->s[off], cd, sizeof(cd));
    return fail(lx, off, 2, "Unexpected character %s: %s", cd, what);
}

static int unexpected_eof(es_lex *lx)
{
    if (lx->depth == 0)
        return fail(lx, lx->len, 1, "Unexpected end-of-input");
    /* find where the innermost open container started */
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i < lx->len; i++) {
        char c = lx->s[i];
        if (c == '"') {
            const char *e = skip_string(lx->s + i + 1, lx->s + lx->len, NULL);
            if (!e)
                break;
            i = (size_t)(e - lx->s) - 1;
        } else if (c == '{' || c == '[') {
            depth++;
            if (depth == lx->depth)
                start = i;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    char src[600];
    source_desc(lx->src_desc, lx->s, lx->len, src, sizeof(src));
    return fail(lx, lx->len, 1,
                "Unexpected end-of-input: expected close marker for %s (start marker at [Source: "
                "%s; line: 1, column: %zu])",
                lx->stack[lx->depth - 1] == '{' ? "Object" : "Array", src, start + 1);
}

static int bad_value(es_lex *lx, size_t off)
{
    unsigned char c = (unsigned char)lx->s[off];
    if (ident_char(c) && !(c >= '0' && c <= '9')) {
        size_t e = off;
        while (e < lx->len && ident_char((unsigned char)lx->s[e]) && e - off < 256)
            e++;
        return fail(lx, e, 1,
                    "Unrecognized token '%.*s': was expecting (JSON String, Number, Array, Object "
                    "or token 'null', 'true' or 'false')",
                    (int)(e - off), lx->s + off);
    }
    if (c == ']' || c == '}') {
        if (lx->state == ST_ROOT) {
            char src[600];
            source_desc(lx->src_desc, lx->s, lx->len, src, sizeof(src));
            return fail(lx, off, 2,
                        "Unexpected close marker '%c': expected '%c' (for root starting at "
                        "[Source: %s; line: 1, column: 0])",
                        c, c == ']' ? '}' : ']', src);
        }
        return unexpected(lx, off, "expected a value");
    }
    return unexpected(lx, off,
                      "expected a valid value (JSON String, Number, Array, Object or token "
                      "'null', 'true' or 'false')");
}

/* Read a string body at lx->pos (after the quote); sets text. */
static int lex_string(es_lex *lx)
{
    const char *start = lx->s + lx->pos;
    const char *end = lx->s + lx->len;
    const char *p = start;
    bool esc = false;
    for (;;) {
        if (p >= end)
            return fail(lx, lx->len, 1,
                        "Unexpected end-of-input: was expecting closing quote for a string value");
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c == '\\') {
            esc = true;
            if (p + 1 >= end)
                return fail(lx, lx->len, 1, "Unexpected end-of-input in character escape sequence");
            unsigned char e = (unsigned char)p[1];
            if (e == 'u') {
                for (int i = 2; i < 6; i++) {
                    if (p + i >= end)
                        return fail(lx, lx->len, 1,
                                    "Unexpected end-of-input in character escape sequence");
                    if (!is_hex((unsigned char)p[i]))
                        return unexpected(lx, (size_t)(p + i - lx->s),
                                          "expected a hex-digit for character escape sequence");
                }
                p += 6;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                       e == 'r' || e == 't') {
                p += 2;
            } else {
                char cd[48];
                char_desc(e, cd, sizeof(cd));
                /* Jackson: "Unrecognized character escape 'x' (code 120)" */
                if (e >= 0x20 && e < 0x80)
                    return fail(lx, (size_t)(p + 1 - lx->s), 2,
                                "Unrecognized character escape '%c' (code %d)", e, e);
                return fail(lx, (size_t)(p + 1 - lx->s), 2, "Unrecognized character escape %s", cd);
            }
            continue;
        }
        if (c < 0x20)
            return fail(lx, (size_t)(p - lx->s), 2,
                        "Illegal unquoted character ((CTRL-CHAR, code %d)): has to be escaped "
                        "using backslash to be included in string value",
                        c);
        if (c >= 0x80) {
            size_t n = utf8_len((const unsigned char *)p, (const unsigned char *)end);
            if (!n) {
                if (c < 0xC2 || c > 0xF4)
                    return fail(lx, (size_t)(p - lx->s), 2, "Invalid UTF-8 start byte 0x%x", c);
                size_t i = 1;
                while (p + i < end && ((unsigned char)p[i] & 0xC0) == 0x80)
                    i++;
                unsigned char m = p + i < end ? (unsigned char)p[i] : 0;
                return fail(lx, (size_t)(p + i - lx->s), 2, "Invalid UTF-8 middle byte 0x%x", m);
            }
            p += n;
            continue;
        }
        p++;
    }
    lx->text = start;
    lx->text_len = (size_t)(p - start);
    lx->escaped = esc;
    lx->pos = (size_t)(p + 1 - lx->s);
    return 0;
}

static int lex_number(es_lex *lx)
{
    const char *s = lx->s, *p = s + lx->pos, *end = s + lx->len;
    const char *start = p;
    if (*p == '-') {
        p++;
        if (p >= end)
            return fail(lx, lx->len, 1, "Unexpected end-of-input in a Number value");
        if (*p < '0' || *p > '9') {
            char cd[48];
            char_desc((unsigned char)*p, cd, sizeof(cd));
            return fail(lx, (size_t)(p - s), 2,
                        "Unexpected character %s in numeric value: expected digit (0-9) to "
                        "follow minus sign, for valid numeric value",
                        cd);
        }
    }
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return fail(lx, (size_t)(p - s), 2,
                        "Invalid numeric value: Leading zeroes not allowed");
    } else {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9') {
            if (p >= end)
                return fail(lx, lx->len, 1, "Unexpected end-of-input in a Number value");
            char cd[48];
            char_desc((unsigned char)*p, cd, sizeof(cd));
            return fail(lx, (size_t)(p - s), 2,
                        "Unexpected character %s in numeric value: Decimal point not followed by "
                        "a digit",
                        cd);
        }
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9') {
            if (p >= end)
                return fail(lx, lx->len, 1, "Unexpected end-of-input in a Number value");
            char cd[48];
            char_desc((unsigned char)*p, cd, sizeof(cd));
            return fail(lx, (size_t)(p - s), 2,
                        "Unexpected character %s in numeric value: Exponent indicator not "
                        "followed by a digit",
                        cd);
        }
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && ident_char((unsigned char)*p)) {
        /* "12ab": Jackson reads the number then fails on the letter */
        if (lx->state == ST_ROOT)
            return unexpected(lx, (size_t)(p - s), "Expected space separating root-level values");
    }
    lx->text = start;
    lx->text_len = (size_t)(p - start);
    lx->pos = (size_t)(p - s);
    return 0;
}

static int push(es_lex *lx, uint8_t kind)
{
    if (lx->depth >= ES_JSON_MAX_DEPTH)
        return fail(lx, lx->pos, 1,
                    "Document nesting depth (%d) exceeds the maximum allowed (%d, from "
                    "`StreamReadConstraints.getMaxNestingDepth()`)",
                    lx->depth + 1, ES_JSON_MAX_DEPTH);
    lx->stack[lx->depth++] = kind;
    return 0;
}

static void after_value_state(es_lex *lx)
{
    if (lx->depth == 0)
        lx->state = ST_ROOT;
    else
        lx->state = lx->stack[lx->depth - 1] == '{' ? ST_OBJ_AFTER : ST_ARR_AFTER;
}

static void pop(es_lex *lx)
{
    if (lx->dup_keys) {
        while (lx->nkeys > 0 && lx->keys[lx->nkeys - 1].depth == lx->depth)
            lx->nkeys--;
    }
    lx->depth--;
    after_value_state(lx);
}

/* Read a value token at lx->pos (whitespace already skipped). */
static int lex_value(es_lex *lx)
{
    size_t off = lx->pos;
    char c = lx->s[off];
    lx->text = lx->s + off;
    lx->text_len = 1;
    lx->escaped = false;
    switch (c) {
    case '{':
        if (push(lx, '{'))
            return -1;
        lx->pos++;
        lx->tok = ES_TOK_START_OBJECT;
        lx->state = ST_OBJ_FIRST;
        return 0;
    case '[':
        if (push(lx, '['))
            return -1;
        lx->pos++;
        lx->tok = ES_TOK_START_ARRAY;
        lx->state = ST_ARR_FIRST;
        return 0;
    case '"':
        lx->pos++;
        if (lex_string(lx))
            return -1;
        lx->tok = ES_TOK_VALUE_STRING;
        after_value_state(lx);
        return 0;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        if (lex_number(lx))
            return -1;
        lx->tok = ES_TOK_VALUE_NUMBER;
        after_value_state(lx);
        return 0;
    default:
        break;
    }
    const char *e = skip_literal(lx->s + off, lx->s + lx->len);
    if (!e)
        return bad_value(lx, off);
    lx->text_len = (size_t)(e - (lx->s + off));
    lx->tok = c == 'n' ? ES_TOK_VALUE_NULL : ES_TOK_VALUE_BOOLEAN;
    lx->pos = (size_t)(e - lx->s);
    after_value_state(lx);
    return 0;
}

static int lex_key(es_lex *lx)
{
    size_t off = lx->pos;
    if (lx->s[off] != '"')
        return unexpected(lx, off, "was expecting double-quote to start field name");
    lx->pos++;
    if (lex_string(lx))
        return -1;
    const char *k = lx->text;
    size_t klen = lx->text_len;
    if (lx->dup_keys) {
        for (size_t i = lx->nkeys; i > 0 && lx->keys[i - 1].depth == lx->depth; i--) {
            if (lx->keys[i - 1].len == klen && memcmp(lx->keys[i - 1].p, k, klen) == 0)
                return fail(lx, lx->pos, 1, "Duplicate field '%.*s'",
                            (int)(klen > 200 ? 200 : klen), k);
        }
        if (lx->nkeys == lx->keys_cap) {
            size_t nc = lx->keys_cap ? lx->keys_cap * 2 : 32;
            void *nk = realloc(lx->keys, nc * sizeof(*lx->keys));
            if (!nk)
                return fail(lx, off, 1, "out of memory");
            lx->keys = nk;
            lx->keys_cap = nc;
        }
        lx->keys[lx->nkeys].p = k;
        lx->keys[lx->nkeys].len = klen;
        lx->keys[lx->nkeys].depth = lx->depth;
        lx->nkeys++;
    }
    const char *p = skip_ws(lx->s + lx->pos, lx->s + lx->len);
    if (p >= lx->s + lx->len)
        return unexpected_eof(lx);
    if (*p != ':')
        return unexpected(lx, (size_t)(p - lx->s),
                          "was expecting a colon to separate field name and value");
    lx->pos = (size_t)(p + 1 - lx->s);
    lx->tok = ES_TOK_FIELD_NAME;
    lx->state = ST_OBJ_VALUE;
    return 0;
}

static int close_mismatch(es_lex *lx, size_t off)
{
    char c = lx->s[off];
    char src[600];
    source_desc(lx->src_desc, lx->s, lx->len, src, sizeof(src));
    bool obj = lx->stack[lx->depth - 1] == '{';
    return fail(lx, off, 2,
                "Unexpected close marker '%c': expected '%c' (for %s starting at [Source: %s; "
                "line: 1, column: 1])",
                c, obj ? '}' : ']', obj ? "Object" : "Array", src);
}

/* After a value inside an object or an array: a comma and the next member,
 * the closing mark, or Jackson's complaint. */
static int after_member(es_lex *lx, char c, bool obj)
{
    if (c == ',') {
        lx->pos++;
        const char *p = skip_ws(lx->s + lx->pos, lx->s + lx->len);
        lx->pos = (size_t)(p - lx->s);
        if (lx->pos >= lx->len)
            return unexpected_eof(lx);
        lx->state = obj ? ST_OBJ_KEY : ST_ARR_VALUE;
        return obj ? lex_key(lx) : lex_value(lx);
    }
    if (c == (obj ? '}' : ']')) {
        lx->pos++;
        lx->tok = obj ? ES_TOK_END_OBJECT : ES_TOK_END_ARRAY;
        pop(lx);
        return 0;
    }
    if (c == (obj ? ']' : '}'))
        return close_mismatch(lx, lx->pos);
    return unexpected(lx, lx->pos,
                      obj ? "was expecting comma to separate Object entries"
                          : "was expecting comma to separate Array entries");
}

int es_lex_next(es_lex *lx)
{
    const char *p = skip_ws(lx->s + lx->pos, lx->s + lx->len);
    lx->pos = (size_t)(p - lx->s);
    if (lx->pos >= lx->len) {
        if (lx->state == ST_ROOT) {
            lx->tok = ES_TOK_NONE;
            lx->text = NULL;
            lx->text_len = 0;
            return 0;
        }
        return unexpected_eof(lx);
    }
    char c = *p;
    switch (lx->state) {
    case ST_ROOT:
    case ST_OBJ_VALUE:
    case ST_ARR_VALUE:
        return lex_value(lx);
    case ST_ARR_FIRST:
        if (c == ']') {
            lx->pos++;
            lx->tok = ES_TOK_END_ARRAY;
            pop(lx);
            return 0;
        }
        return lex_value(lx);
    case ST_OBJ_FIRST:
        if (c == '}') {
            lx->pos++;
            lx->tok = ES_TOK_END_OBJECT;
            pop(lx);
            return 0;
        }
        return lex_key(lx);
    case ST_OBJ_KEY:
        return lex_key(lx);
    case ST_OBJ_AFTER:
        return after_member(lx, c, true);
    case ST_ARR_AFTER:
        return after_member(lx, c, false);
    default:
        break;
    }
    return fail(lx, lx->pos, 1, "internal tokenizer state");
}

int es_lex_skip(es_lex *lx)
{
    if (lx->tok != ES_TOK_START_OBJECT && lx->tok != ES_TOK_START_ARRAY)
        return 0;
    int target = lx->depth - 1;
    while (lx->depth > target) {
        if (es_lex_next(lx))
            return -1;
        if (lx->tok == ES_TOK_NONE)
            return unexpected_eof(lx);
    }
    return 0;
}

bool es_json_explain(const char *p, size_t len, bool dup_keys, const char *src_desc, es_jerr *e)
{
    es_lex lx;
    es_lex_init(&lx, p, len, dup_keys);
    lx.src_desc = src_desc;
    bool found = false;
    for (;;) {
        if (es_lex_next(&lx)) {
            *e = lx.err;
            found = true;
            break;
        }
        if (lx.tok == ES_TOK_NONE)
            break;
    }
    es_lex_cleanup(&lx);
    return found;
}

int es_jerr_render(const es_jerr *e, const char *src_desc, const char *text, size_t len, buf *out)
{
    char src[600];
    source_desc(src_desc, text, len, src, sizeof(src));
    return buf_printf(out, "%s\n at [Source: %s; line: %d, column: %d]", e->msg, src, e->line,
                      e->column);
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

static int put_utf8(buf *out, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return buf_append(out, u, n);
}

int es_json_unescape(const char *p, size_t len, buf *out)
{
    size_t i = 0, start = 0;
    int rc;
    while (i < len) {
        if (p[i] != '\\') {
            i++;
            continue;
        }
        if ((rc = buf_append(out, p + start, i - start)))
            return rc;
        if (i + 1 >= len)
            return -EINVAL;
        char e = p[i + 1];
        char c;
        switch (e) {
        case 'b':
            c = '\b';
            break;
        case 'f':
            c = '\f';
            break;
        case 'n':
            c = '\n';
            break;
        case 'r':
            c = '\r';
            break;
        case 't':
            c = '\t';
            break;
        case 'u': {
            if (i + 6 > len)
                return -EINVAL;
            uint32_t cp = 0;
            for (int k = 2; k < 6; k++)
                cp = cp * 16 + (uint32_t)hexv(p[i + (size_t)k]);
            i += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= len && p[i] == '\\' && p[i + 1] == 'u') {
                uint32_t lo = 0;
                for (int k = 2; k < 6; k++)
                    lo = lo * 16 + (uint32_t)hexv(p[i + (size_t)k]);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD;
            if ((rc = put_utf8(out, cp)))
                return rc;
            start = i;
            continue;
        }
        default:
            c = e;
            break;
        }
        if ((rc = buf_append(out, &c, 1)))
            return rc;
        i += 2;
        start = i;
    }
    return buf_append(out, p + start, len - start);
}

char *es_lex_strdup(const es_lex *lx)
{
    if (!lx->escaped)
        return strndup(lx->text, lx->text_len);
    buf b;
    buf_init(&b, 0);
    if (es_json_unescape(lx->text, lx->text_len, &b)) {
        buf_cleanup(&b);
        return NULL;
    }
    return buf_take(&b, NULL);
}

bool es_json_needs_escape(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\')
            return true;
    }
    return false;
}
