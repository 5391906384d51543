#include "run_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"

/*
 * The position index. After jansson has accepted the text, scan() walks it
 * once more with a tiny recursive reader that trusts the syntax, building the
 * JSON pointer of every value as it goes. Each value gets one slot in an
 * open-addressing hash table keyed by its pointer. Columns count characters
 * (UTF-8 continuation bytes do not advance them), as jansson's do.
 */

typedef struct pos_ent {
    char *ptr;
    int line, col;         /* the value */
    int key_line, key_col; /* its key, 0 when not an object member */
} pos_ent;

typedef struct override {
    char *ptr;
    char *origin;
} override;

struct run_doc {
    char *file;
    char *dir;
    char *text;
    size_t len;
    json_t *root;
    pos_ent *tab;
    size_t tabsz; /* power of two */
    size_t used;
    override *ovr;
    size_t novr;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static int tab_grow(run_doc *d)
{
    size_t nsz = d->tabsz ? d->tabsz * 2 : 64;
    pos_ent *nt = calloc(nsz, sizeof(*nt));
    if (!nt)
        return -ENOMEM;
    for (size_t i = 0; i < d->tabsz; i++) {
        if (!d->tab[i].ptr)
            continue;
        size_t j = hash_str(d->tab[i].ptr) & (nsz - 1);
        while (nt[j].ptr)
            j = (j + 1) & (nsz - 1);
        nt[j] = d->tab[i];
    }
    free(d->tab);
    d->tab = nt;
    d->tabsz = nsz;
    return 0;
}

static pos_ent *tab_find(const run_doc *d, const char *ptr)
{
    if (!d->tabsz)
        return NULL;
    size_t j = hash_str(ptr) & (d->tabsz - 1);
    while (d->tab[j].ptr) {
        if (strcmp(d->tab[j].ptr, ptr) == 0)
            return &d->tab[j];
        j = (j + 1) & (d->tabsz - 1);
    }
    return NULL;
}

static int tab_put(run_doc *d, const char *ptr, int line, int col, int kline, int kcol)
{
    if ((d->used + 1) * 2 > d->tabsz && tab_grow(d))
        return -ENOMEM;
    size_t j = hash_str(ptr) & (d->tabsz - 1);
    while (d->tab[j].ptr) {
        if (strcmp(d->tab[j].ptr, ptr) == 0)
            return 0; /* cannot happen with duplicates rejected */
        j = (j + 1) & (d->tabsz - 1);
    }
    d->tab[j].ptr = strdup(ptr);
    if (!d->tab[j].ptr)
        return -ENOMEM;
    d->tab[j].line = line;
    d->tab[j].col = col;
    d->tab[j].key_line = kline;
    d->tab[j].key_col = kcol;
    d->used++;
    return 0;
}

/* ---- the scanner ---- */

typedef struct scanner {
    const char *p, *end;
    int line, col;
    run_doc *d;
    int depth;
} scanner;

static void adv(scanner *s)
{
    if (s->p >= s->end)
        return;
    unsigned char c = (unsigned char)*s->p++;
    if (c == '\n') {
        s->line++;
        s->col = 1;
    } else if ((c & 0xC0) != 0x80) {
        s->col++;
    }
}

static void skip_ws(scanner *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        adv(s);
}

/* Read a string literal (s->p at the opening quote) into out, decoded;
 * only keys need decoding, values are skipped with out == NULL. */
static int scan_string(scanner *s, char *out, size_t outsz)
{
    size_t n = 0;
    adv(s); /* " */
    while (s->p < s->end && *s->p != '"') {
        char c = *s->p;
        if (c == '\\') {
            adv(s);
            if (s->p >= s->end)
                return -EINVAL;
            char e = *s->p;
            adv(s);
            unsigned cp = 0;
            switch (e) {
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case 'r':
                c = '\r';
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'u':
                for (int i = 0; i < 4 && s->p < s->end; i++) {
                    char h = *s->p;
                    cp = cp * 16 + (unsigned)(h >= 'a'   ? h - 'a' + 10
                                              : h >= 'A' ? h - 'A' + 10
                                                         : h - '0');
                    adv(s);
                }
                if (cp >= 0xD800 && cp < 0xDC00 && s->end - s->p >= 6 && s->p[0] == '\\' &&
                    s->p[1] == 'u') {
                    unsigned lo = 0;
                    adv(s);
                    adv(s);
                    for (int i = 0; i < 4; i++) {
                        char h = *s->p;
                        lo = lo * 16 + (unsigned)(h >= 'a'   ? h - 'a' + 10
                                                  : h >= 'A' ? h - 'A' + 10
                                                             : h - '0');
                        adv(s);
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                if (out) {
                    char u[4];
                    size_t k = 0;
                    if (cp < 0x80) {
                        u[k++] = (char)cp;
                    } else if (cp < 0x800) {
                        u[k++] = (char)(0xC0 | (cp >> 6));
                        u[k++] = (char)(0x80 | (cp & 0x3F));
                    } else if (cp < 0x10000) {
                        u[k++] = (char)(0xE0 | (cp >> 12));
                        u[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                        u[k++] = (char)(0x80 | (cp & 0x3F));
                    } else {
                        u[k++] = (char)(0xF0 | (cp >> 18));
                        u[k++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                        u[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                        u[k++] = (char)(0x80 | (cp & 0x3F));
                    }
                    for (size_t i = 0; i < k && n + 1 < outsz; i++)
                        out[n++] = u[i];
                }
                continue;
            default:
                c = e;
                break; /* \" \\ \/ */
            }
            if (out && n + 1 < outsz)
                out[n++] = c;
            continue;
        }
        if (out && n + 1 < outsz)
            out[n++] = c;
        adv(s);
    }
    if (s->p >= s->end)
        return -EINVAL;
    adv(s); /* " */
    if (out)
        out[n] = '\0';
    return 0;
}

static int scan_value(scanner *s, char *ptr, size_t plen, int kline, int kcol);

static int scan_members(scanner *s, char *ptr, size_t plen, bool object)
{
    adv(s); /* { or [ */
    skip_ws(s);
    char close = object ? '}' : ']';
    size_t index = 0;
    while (s->p < s->end && *s->p != close) {
        int kline = 0, kcol = 0;
        char tok[RUN_PTR_MAX];
        if (object) {
            kline = s->line;
            kcol = s->col;
            if (*s->p != '"' || scan_string(s, tok, sizeof(tok)))
                return -EINVAL;
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':')
                return -EINVAL;
            adv(s);
            skip_ws(s);
        } else {
            snprintf(tok, sizeof(tok), "%zu", index);
        }
        run_ptr_join(ptr + plen, RUN_PTR_MAX - plen, "", tok);
        int rc = scan_value(s, ptr, strlen(ptr), kline, kcol);
        ptr[plen] = '\0';
        if (rc)
            return rc;
        index++;
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
            adv(s);
            skip_ws(s);
        }
    }
    if (s->p >= s->end)
        return -EINVAL;
    adv(s);
    return 0;
}

static int scan_value(scanner *s, char *ptr, size_t plen, int kline, int kcol)
{
    skip_ws(s);
    if (s->p >= s->end)
        return -EINVAL;
    int rc = tab_put(s->d, ptr, s->line, s->col, kline, kcol);
    if (rc)
        return rc;
    char c = *s->p;
    if (c == '{' || c == '[') {
        if (++s->depth > 2048)
            return -EINVAL;
        rc = scan_members(s, ptr, plen, c == '{');
        s->depth--;
        return rc;
    }
    if (c == '"')
        return scan_string(s, NULL, 0);
    /* number, true, false, null */
    while (s->p < s->end && !strchr(",]} \t\r\n", *s->p))
        adv(s);
    return 0;
}

static int build_index(run_doc *d)
{
    scanner s = {.p = d->text, .end = d->text + d->len, .line = 1, .col = 1, .d = d};
    char ptr[RUN_PTR_MAX] = "";
    /* a UTF-8 byte order mark does not count as a column */
    if (d->len >= 3 && memcmp(d->text, "\xEF\xBB\xBF", 3) == 0)
        s.p += 3;
    return scan_value(&s, ptr, 0, 0, 0);
}

/* ---- documents ---- */

static char *dir_of(const char *file)
{
    const char *slash = strrchr(file, '/');
    if (!slash)
        return strdup(".");
    if (slash == file)
        return strdup("/");
    return strndup(file, (size_t)(slash - file));
}

static int doc_new(const char *name, run_doc **out)
{
    run_doc *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->file = strdup(name ? name : "<scenario>");
    d->dir = d->file ? dir_of(d->file) : NULL;
    if (!d->file || !d->dir) {
        run_doc_free(d);
        return -ENOMEM;
    }
    *out = d;
    return 0;
}

int run_doc_parse(const char *name, const char *text, size_t len, run_doc **out, efk_err *err)
{
    run_doc *d = NULL;
    int rc = doc_new(name, &d);
    if (rc)
        return efk_err_set(err, rc, "out of memory");
    efk_err_pos(err, d->file, 0, 0);
    if (len > RUN_DOC_MAX_BYTES) {
        rc = efk_err_set(err, -E2BIG, "the file is larger than %zu bytes", RUN_DOC_MAX_BYTES);
        goto out;
    }
    d->text = malloc(len + 1);
    if (!d->text) {
        rc = efk_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    memcpy(d->text, text, len);
    d->text[len] = '\0';
    d->len = len;
    json_error_t je;
    d->root = json_loadb(d->text, d->len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!d->root) {
        efk_err_pos(err, d->file, je.line > 0 ? je.line : 0, je.column > 0 ? je.column : 0);
        rc = efk_err_set(err, -EINVAL, "JSON syntax error: %s", je.text);
        goto out;
    }
    if (build_index(d)) {
        rc = efk_err_set(err, -ENOMEM, "out of memory indexing the file");
        goto out;
    }
    *out = d;
    d = NULL;
out:
    run_doc_free(d);
    return rc;
}

int run_doc_load(const char *path, run_doc **out, efk_err *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = fs_read_file(path, RUN_DOC_MAX_BYTES, &text, &len, err);
    if (rc) {
        efk_err_pos(err, path, 0, 0);
        if (rc == -E2BIG)
            efk_err_set(err, rc, "the file is larger than %zu bytes", RUN_DOC_MAX_BYTES);
        else if (rc == -ENOENT)
            efk_err_set(err, rc, "no such file");
        else if (rc != -ENOMEM)
            efk_err_set(err, rc, "cannot read: %s", strerror(-rc));
        return rc;
    }
    rc = run_doc_parse(path, text, len, out, err);
    free(text);
    return rc;
}

int run_doc_empty(const char *name, run_doc **out)
{
    run_doc *d = NULL;
    int rc = doc_new(name, &d);
    if (rc)
        return rc;
    d->root = json_object();
    if (!d->root) {
        run_doc_free(d);
        return -ENOMEM;
    }
    *out = d;
    return 0;
}

void run_doc_free(run_doc *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->tabsz; i++)
        free(d->tab[i].ptr);
    free(d->tab);
    for (size_t i = 0; i < d->novr; i++) {
        free(d->ovr[i].ptr);
        free(d->ovr[i].origin);
    }
    free(d->ovr);
    json_decref(d->root);
    free(d->text);
    free(d->file);
    free(d->dir);
    free(d);
}

json_t *run_doc_root(const run_doc *d)
{
    return d->root;
}

const char *run_doc_file(const run_doc *d)
{
    return d->file;
}

const char *run_doc_dir(const run_doc *d)
{
    return d->dir;
}

/* Strip the last reference token of a pointer in place; false at the root. */
static bool ptr_parent(char *p)
{
    char *slash = strrchr(p, '/');
    if (!slash)
        return false;
    *slash = '\0';
    return true;
}

bool run_doc_pos(const run_doc *d, const char *pointer, int *line, int *column)
{
    char p[RUN_PTR_MAX];
    snprintf(p, sizeof(p), "%s", pointer ? pointer : "");
    for (;;) {
        pos_ent *e = tab_find(d, p);
        if (e) {
            *line = e->line;
            *column = e->col;
            return true;
        }
        if (!ptr_parent(p))
            return false;
    }
}

bool run_doc_key_pos(const run_doc *d, const char *pointer, int *line, int *column)
{
    pos_ent *e = tab_find(d, pointer ? pointer : "");
    if (!e || !e->key_line)
        return false;
    *line = e->key_line;
    *column = e->key_col;
    return true;
}

int run_doc_override(run_doc *d, const char *pointer, const char *origin)
{
    override *n = realloc(d->ovr, (d->novr + 1) * sizeof(*n));
    if (!n)
        return -ENOMEM;
    d->ovr = n;
    n[d->novr].ptr = strdup(pointer);
    n[d->novr].origin = strdup(origin);
    if (!n[d->novr].ptr || !n[d->novr].origin) {
        free(n[d->novr].ptr);
        free(n[d->novr].origin);
        return -ENOMEM;
    }
    d->novr++;
    return 0;
}

/* The override that made the value at `p`: the latest one whose pointer is
 * p or an ancestor of p. */
static const override *find_override(const run_doc *d, const char *p)
{
    for (size_t i = d->novr; i-- > 0;) {
        size_t n = strlen(d->ovr[i].ptr);
        if (strncmp(p, d->ovr[i].ptr, n) == 0 && (p[n] == '\0' || p[n] == '/'))
            return &d->ovr[i];
    }
    return NULL;
}

void run_doc_locate(const run_doc *d, efk_err *err, bool at_key)
{
    if (!err)
        return;
    const override *o = find_override(d, err->pointer);
    if (o) {
        efk_err_pos(err, o->origin, 0, 0);
        return;
    }
    int line = 0, col = 0;
    if (!(at_key && run_doc_key_pos(d, err->pointer, &line, &col)))
        run_doc_pos(d, err->pointer, &line, &col);
    efk_err_pos(err, d->file, line, col);
}

static int doc_verr(const run_doc *d, efk_err *err, int code, const char *pointer, bool at_key,
                    const char *fmt, va_list ap)
{
    if (!err)
        return code;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    efk_err_at(err, pointer);
    run_doc_locate(d, err, at_key);
    return code;
}

int run_doc_err(const run_doc *d, efk_err *err, int code, const char *pointer, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    doc_verr(d, err, code, pointer, false, fmt, ap);
    va_end(ap);
    return code;
}

int run_doc_err_key(const run_doc *d, efk_err *err, int code, const char *pointer, const char *fmt,
                    ...)
{
    va_list ap;
    va_start(ap, fmt);
    doc_verr(d, err, code, pointer, true, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- pointers ---- */

char *run_ptr_join(char *out, size_t outsz, const char *base, const char *token)
{
    if (!outsz)
        return out;
    size_t n = 0;
    if (out != base) {
        n = (size_t)snprintf(out, outsz, "%s", base);
        if (n >= outsz)
            return out;
    } else {
        n = strlen(out);
    }
    if (n + 1 < outsz)
        out[n++] = '/';
    for (const char *t = token; *t && n + 1 < outsz; t++) {
        if (*t == '~' || *t == '/') {
            if (n + 2 >= outsz)
                break;
            out[n++] = '~';
            out[n++] = *t == '~' ? '0' : '1';
        } else {
            out[n++] = *t;
        }
    }
    out[n] = '\0';
    return out;
}

char *run_ptr_index(char *out, size_t outsz, const char *base, size_t index)
{
    char tok[32];
    snprintf(tok, sizeof(tok), "%zu", index);
    return run_ptr_join(out, outsz, base, tok);
}

json_t *run_ptr_get(json_t *root, const char *pointer)
{
    json_t *v = root;
    const char *p = pointer;
    if (!p || !*p)
        return root;
    if (*p != '/')
        return NULL;
    while (v && *p == '/') {
        p++;
        char tok[RUN_PTR_MAX];
        size_t n = 0;
        while (*p && *p != '/' && n + 1 < sizeof(tok)) {
            if (*p == '~' && (p[1] == '0' || p[1] == '1')) {
                tok[n++] = p[1] == '0' ? '~' : '/';
                p += 2;
            } else {
                tok[n++] = *p++;
            }
        }
        tok[n] = '\0';
        if (json_is_object(v)) {
            v = json_object_get(v, tok);
        } else if (json_is_array(v)) {
            char *end;
            unsigned long i = strtoul(tok, &end, 10);
            if (!n || *end || (n > 1 && tok[0] == '0'))
                return NULL;
            v = json_array_get(v, i);
        } else {
            return NULL;
        }
    }
    return v;
}

const char *run_json_describe(const json_t *v, char *buf, size_t bufsz)
{
    if (!v)
        return "nothing";
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING: {
        const char *s = json_string_value(v);
        if (strlen(s) <= 40)
            snprintf(buf, bufsz, "the string \"%s\"", s);
        else
            snprintf(buf, bufsz, "the string \"%.37s...\"", s);
        return buf;
    }
    case JSON_INTEGER:
        snprintf(buf, bufsz, "the number %lld", (long long)json_integer_value(v));
        return buf;
    case JSON_REAL:
        snprintf(buf, bufsz, "the number %g", json_real_value(v));
        return buf;
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}
