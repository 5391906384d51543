#include "apis_select.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The label parser follows apimachinery's lexer closely enough to accept and
 * refuse the same strings: identifiers are runs of anything but whitespace
 * and the special characters `=!(),<>`; operators are `=`, `==`, `!=`, `in`,
 * `notin`, `>`, `<`, and `!` before a key; values in sets are identifiers
 * separated by commas inside parentheses (an empty value is allowed).
 */

typedef enum {
    T_END,
    T_IDENT,
    T_EQ,
    T_DEQ,
    T_NEQ,
    T_IN,
    T_NOTIN,
    T_NOT,
    T_LP,
    T_RP,
    T_COMMA,
    T_GT,
    T_LT
} tok_t;

typedef struct lexer {
    const char *s;
    size_t pos;
    char text[320];
} lexer;

static bool special(char c)
{
    return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '<' || c == '>';
}

static tok_t lex(lexer *l)
{
    while (l->s[l->pos] && isspace((unsigned char)l->s[l->pos]))
        l->pos++;
    char c = l->s[l->pos];
    l->text[0] = '\0';
    if (!c)
        return T_END;
    if (special(c)) {
        char n = l->s[l->pos + 1];
        if (c == '=' && n == '=') {
            l->pos += 2;
            strcpy(l->text, "==");
            return T_DEQ;
        }
        if (c == '!' && n == '=') {
            l->pos += 2;
            strcpy(l->text, "!=");
            return T_NEQ;
        }
        l->pos++;
        l->text[0] = c;
        l->text[1] = '\0';
        switch (c) {
        case '=':
            return T_EQ;
        case '!':
            return T_NOT;
        case '(':
            return T_LP;
        case ')':
            return T_RP;
        case ',':
            return T_COMMA;
        case '>':
            return T_GT;
        default:
            return T_LT;
        }
    }
    size_t n = 0;
    while (l->s[l->pos] && !isspace((unsigned char)l->s[l->pos]) && !special(l->s[l->pos])) {
        if (n + 1 < sizeof(l->text))
            l->text[n++] = l->s[l->pos];
        l->pos++;
    }
    l->text[n] = '\0';
    if (!strcmp(l->text, "in"))
        return T_IN;
    if (!strcmp(l->text, "notin"))
        return T_NOTIN;
    return T_IDENT;
}

static tok_t peek(lexer *l)
{
    lexer save = *l;
    tok_t t = lex(l);
    *l = save;
    return t;
}

/* Label keys: an optional DNS subdomain prefix and '/', then a name of at
 * most 63 characters [A-Za-z0-9._-] starting and ending alphanumeric. */
static bool key_ok(const char *k)
{
    const char *slash = strrchr(k, '/');
    const char *name = slash ? slash + 1 : k;
    size_t n = strlen(name);
    if (slash && (slash == k || (size_t)(slash - k) > 253))
        return false;
    if (n == 0 || n > 63 || !isalnum((unsigned char)name[0]) ||
        !isalnum((unsigned char)name[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_' && name[i] != '.')
            return false;
    return true;
}

static bool value_ok(const char *v)
{
    size_t n = strlen(v);
    if (n == 0)
        return true;
    if (n > 63 || !isalnum((unsigned char)v[0]) || !isalnum((unsigned char)v[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && v[i] != '-' && v[i] != '_' && v[i] != '.')
            return false;
    return true;
}

static int add_value(apis_sel_req *r, const char *v)
{
    if (r->nvalues >= APIS_SEL_MAX_VALUES)
        return -E2BIG;
    r->values[r->nvalues] = strdup(v);
    if (!r->values[r->nvalues])
        return -ENOMEM;
    r->nvalues++;
    return 0;
}

void apis_selector_cleanup(apis_selector *sel)
{
    for (size_t i = 0; i < sel->n; i++) {
        free(sel->reqs[i].key);
        for (size_t k = 0; k < sel->reqs[i].nvalues; k++)
            free(sel->reqs[i].values[k]);
    }
    memset(sel, 0, sizeof(*sel));
}

bool apis_selector_empty(const apis_selector *sel)
{
    return sel->n == 0;
}

static int fail(apis_selector *out, char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(apis_selector *out, char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    apis_selector_cleanup(out);
    return -EINVAL;
}

static const char *tok_desc(tok_t t, const char *text)
{
    return t == T_END ? "" : text;
}

int apis_label_selector_parse(const char *s, apis_selector *out, char *err, size_t errsz)
{
    memset(out, 0, sizeof(*out));
    if (!s)
        return 0;
    lexer l = {.s = s};
    if (peek(&l) == T_END)
        return 0;
    while (1) {
        if (out->n >= APIS_SEL_MAX_REQS)
            return fail(out, err, errsz, "too many requirements in selector %s%s", "", "");
        apis_sel_req *r = &out->reqs[out->n];
        memset(r, 0, sizeof(*r));
        tok_t t = lex(&l);
        bool negate = false;
        if (t == T_NOT) {
            negate = true;
            t = lex(&l);
        }
        if (t != T_IDENT)
            return fail(out, err, errsz, "unable to parse requirement: found '%s', expected: %s",
                        tok_desc(t, l.text), "!, identifier, or 'end of string'");
        if (!key_ok(l.text))
            return fail(out, err, errsz,
                        "unable to parse requirement: invalid label key \"%s\": %s", l.text,
                        "name part must consist of alphanumeric characters, '-', '_' or '.', "
                        "and must start and end with an alphanumeric character");
        r->key = strdup(l.text);
        out->n++;
        tok_t op = peek(&l);
        if (negate) {
            r->op = APIS_OP_NOT_EXISTS;
            if (op != T_END && op != T_COMMA) {
                lex(&l);
                return fail(out, err, errsz, "found '%s', expected: %s", l.text,
                            "',' or 'end of string'");
            }
        } else if (op == T_END || op == T_COMMA) {
            r->op = APIS_OP_EXISTS;
        } else {
            lex(&l);
            switch (op) {
            case T_EQ:
            case T_DEQ:
                r->op = APIS_OP_EQ;
                break;
            case T_NEQ:
                r->op = APIS_OP_NEQ;
                break;
            case T_IN:
                r->op = APIS_OP_IN;
                break;
            case T_NOTIN:
                r->op = APIS_OP_NOTIN;
                break;
            case T_GT:
                r->op = APIS_OP_GT;
                break;
            case T_LT:
                r->op = APIS_OP_LT;
                break;
            default:
                return fail(out, err, errsz, "found '%s', expected: %s", l.text,
                            "in, notin, =, ==, !=, gt, lt");
            }
            if (r->op == APIS_OP_IN || r->op == APIS_OP_NOTIN) {
                if (lex(&l) != T_LP)
                    return fail(out, err, errsz, "found '%s', expected: %s", l.text, "'('");
                while (1) {
                    tok_t v = lex(&l);
                    if (v == T_RP && r->nvalues == 0) {
                        break; /* "k in ()" : an empty set */
                    }
                    if (v == T_IDENT) {
                        if (!value_ok(l.text))
                            return fail(out, err, errsz, "invalid label value: \"%s\": %s", l.text,
                                        "a valid label must be an empty string or consist of "
                                        "alphanumeric characters, '-', '_' or '.'");
                        if (add_value(r, l.text))
                            return fail(out, err, errsz, "too many values in set%s%s", "", "");
                        v = lex(&l);
                    } else if (v == T_COMMA || v == T_RP) {
                        if (add_value(r, ""))
                            return fail(out, err, errsz, "too many values in set%s%s", "", "");
                    } else {
                        return fail(out, err, errsz, "found '%s', expected: %s",
                                    tok_desc(v, l.text), "',', or identifier");
                    }
                    if (v == T_RP)
                        break;
                    if (v != T_COMMA)
                        return fail(out, err, errsz, "found '%s', expected: %s",
                                    tok_desc(v, l.text), "',' or ')'");
                }
            } else {
                tok_t v = peek(&l);
                char val[320] = "";
                if (v == T_IDENT) {
                    lex(&l);
                    snprintf(val, sizeof(val), "%s", l.text);
                } else if (v != T_END && v != T_COMMA) {
                    lex(&l);
                    return fail(out, err, errsz, "found '%s', expected: %s", l.text, "identifier");
                }
                if (r->op == APIS_OP_GT || r->op == APIS_OP_LT) {
                    char *end = NULL;
                    strtoll(val, &end, 10);
                    if (!val[0] || *end)
                        return fail(out, err, errsz,
                                    "unable to parse requirement: for 'Gt', 'Lt' operators, the "
                                    "value must be an integer%s%s",
                                    "", "");
                } else if (!value_ok(val)) {
                    return fail(out, err, errsz, "invalid label value: \"%s\": %s", val,
                                "a valid label must be an empty string or consist of alphanumeric "
                                "characters, '-', '_' or '.', and must start and end with an "
                                "alphanumeric character");
                }
                add_value(r, val);
            }
        }
        tok_t sep = lex(&l);
        if (sep == T_END)
            break;
        if (sep != T_COMMA)
            return fail(out, err, errsz, "found '%s', expected: %s", l.text,
                        "',' or 'end of string'");
    }
    return 0;
}

/* Field selector values may escape '\\', ',' and '=' with a backslash. */
static char *unescape_field(const char *s, size_t n)
{
    char *o = malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n)
            i++;
        o[k++] = s[i];
    }
    o[k] = '\0';
    return o;
}

int apis_field_selector_parse(const char *s, const apis_res *r, apis_selector *out, char *err,
                              size_t errsz)
{
    memset(out, 0, sizeof(*out));
    if (!s || !*s)
        return 0;
    const char *p = s;
    while (1) {
        /* one term up to an unescaped ',' */
        const char *q = p;
        while (*q && *q != ',') {
            if (*q == '\\' && q[1])
                q++;
            q++;
        }
        size_t n = (size_t)(q - p);
        char *term = strndup(p, n);
        /* operator: first unescaped "!=", "==" or "=" */
        size_t i = 0;
        apis_sel_op op = APIS_OP_EQ;
        size_t oplen = 0;
        for (; i < n; i++) {
            if (term[i] == '\\') {
                i++;
                continue;
            }
            if (term[i] == '!' && term[i + 1] == '=') {
                op = APIS_OP_NEQ;
                oplen = 2;
                break;
            }
            if (term[i] == '=' && term[i + 1] == '=') {
                oplen = 2;
                break;
            }
            if (term[i] == '=') {
                oplen = 1;
                break;
            }
        }
        if (!oplen || out->n >= APIS_SEL_MAX_REQS) {
            snprintf(err, errsz, "invalid selector: '%s'; can't understand '%s'", s, term);
            free(term);
            apis_selector_cleanup(out);
            return -EINVAL;
        }
        char *key = unescape_field(term, i);
        char *val = unescape_field(term + i + oplen, n - i - oplen);
        free(term);
        apis_sel_req *rq = &out->reqs[out->n++];
        memset(rq, 0, sizeof(*rq));
        rq->key = key;
        rq->op = op;
        rq->values[0] = val;
        rq->nvalues = 1;
        if (!*q)
            break;
        p = q + 1;
    }
    /* Check labels after parsing, as the server converts the whole selector. */
    if (r) {
        json_t *empty = json_object();
        for (size_t i = 0; i < out->n; i++) {
            char tmp[8];
            if (!apis_res_field(r, empty, out->reqs[i].key, tmp, sizeof(tmp))) {
                snprintf(err, errsz, "field label not supported: %s", out->reqs[i].key);
                json_decref(empty);
                apis_selector_cleanup(out);
                return -EINVAL;
            }
        }
        json_decref(empty);
    }
    return 0;
}

bool apis_label_selector_match(const apis_selector *sel, const json_t *obj)
{
    const json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
    for (size_t i = 0; i < sel->n; i++) {
        const apis_sel_req *r = &sel->reqs[i];
        const char *v = json_string_value(json_object_get(labels, r->key));
        bool has = v != NULL;
        switch (r->op) {
        case APIS_OP_EXISTS:
            if (!has)
                return false;
            break;
        case APIS_OP_NOT_EXISTS:
            if (has)
                return false;
            break;
        case APIS_OP_EQ:
            if (!has || strcmp(v, r->values[0]) != 0)
                return false;
            break;
        case APIS_OP_NEQ:
            if (has && strcmp(v, r->values[0]) == 0)
                return false;
            break;
        case APIS_OP_IN:
        case APIS_OP_NOTIN: {
            bool found = false;
            for (size_t k = 0; has && k < r->nvalues; k++)
                if (!strcmp(v, r->values[k]))
                    found = true;
            if (r->op == APIS_OP_IN ? !found : (has && found))
                return false;
            break;
        }
        case APIS_OP_GT:
        case APIS_OP_LT: {
            if (!has)
                return false;
            char *end = NULL;
            long long lv = strtoll(v, &end, 10);
            if (!*v || *end)
                return false;
            long long rv = strtoll(r->values[0], NULL, 10);
            if (r->op == APIS_OP_GT ? !(lv > rv) : !(lv < rv))
                return false;
            break;
        }
        }
    }
    return true;
}

bool apis_field_selector_match(const apis_selector *sel, const apis_res *r, const json_t *obj)
{
    for (size_t i = 0; i < sel->n; i++) {
        char v[512];
        if (!apis_res_field(r, obj, sel->reqs[i].key, v, sizeof(v)))
            return false;
        bool eq = strcmp(v, sel->reqs[i].values[0]) == 0;
        if (sel->reqs[i].op == APIS_OP_EQ ? !eq : eq)
            return false;
    }
    return true;
}
