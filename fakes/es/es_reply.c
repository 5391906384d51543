#include "es_reply.h"

#include <stdio.h>
#include <string.h>

#include "es_json.h"

int es_json_put_str(buf *out, const char *s, size_t len)
{
    if (!es_json_needs_escape(s, len)) {
        int rc = buf_reserve(out, len + 2);
        if (rc)
            return rc;
        char *d = out->data + out->len;
        d[0] = '"';
        memcpy(d + 1, s, len);
        d[len + 1] = '"';
        out->len += len + 2;
        out->data[out->len] = '\0';
        return 0;
    }
    return buf_json_str(out, s, len);
}

int es_put_i64(buf *out, long long v)
{
    char tmp[24];
    char *e = tmp + sizeof(tmp), *p = e;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return buf_append(out, p, (size_t)(e - p));
}

int es_error_render(buf *out, int status, const char *type, const char *reason, const char *extra,
                    const char *caused)
{
    int rc = 0;
    size_t rl = strlen(reason);
    rc = rc ? rc : buf_puts(out, "{\"error\":{\"root_cause\":[{\"type\":");
    rc = rc ? rc : es_json_put_str(out, type, strlen(type));
    rc = rc ? rc : buf_puts(out, ",\"reason\":");
    rc = rc ? rc : es_json_put_str(out, reason, rl);
    rc = rc ? rc : (extra ? buf_puts(out, extra) : 0);
    rc = rc ? rc : buf_puts(out, "}],\"type\":");
    rc = rc ? rc : es_json_put_str(out, type, strlen(type));
    rc = rc ? rc : buf_puts(out, ",\"reason\":");
    rc = rc ? rc : es_json_put_str(out, reason, rl);
    rc = rc ? rc : (extra ? buf_puts(out, extra) : 0);
    if (!rc && caused) {
        rc = buf_puts(out, ",\"caused_by\":");
        rc = rc ? rc : buf_puts(out, caused);
    }
    rc = rc ? rc : buf_printf(out, "},\"status\":%d}", status);
    return rc;
}

int es_index_name_check(const es_persona *p, const char *name, size_t len, char *reason,
                        size_t reasonsz)
{
    const char *bad = NULL;
    char shown[300];
    snprintf(shown, sizeof(shown), "%.*s", (int)(len > 255 ? 255 : len), name);
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c >= 'A' && c <= 'Z') {
            snprintf(reason, reasonsz, "Invalid index name [%s], must be lowercase", shown);
            return -1;
        }
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c == '\\' || c == '/' || c == '*' || c == '?' || c == '"' || c == '<' || c == '>' ||
            c == '|' || c == ' ' || c == ',') {
            bad = "must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?]";
            break;
        }
        if (c == '#') {
            bad = "must not contain '#'";
            break;
        }
        if (c == ':' && p->major >= 8) {
            bad = "must not contain ':'";
            break;
        }
    }
    if (!bad && len > 0 && (name[0] == '_' || name[0] == '-' || name[0] == '+'))
        bad = "must not start with '_', '-', or '+'";
    if (!bad && ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')))
        bad = "must not be '.' or '..'";
    if (bad) {
        snprintf(reason, reasonsz, "Invalid index name [%s], %s", shown, bad);
        return -1;
    }
    if (len > 255) {
        snprintf(reason, reasonsz, "Invalid index name [%s], index name is too long, (%zu > 255)",
                 shown, len);
        return -1;
    }
    if (len == 0) {
        snprintf(reason, reasonsz, "Invalid index name [], must not be empty");
        return -1;
    }
    return 0;
}
