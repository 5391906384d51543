#include "run_report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/duration.h"

const char *const run_status_names[3] = {"PASS", "FAIL", "ERROR"};

void run_result_init(run_result *r)
{
    memset(r, 0, sizeof(*r));
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

void run_result_cleanup(run_result *r)
{
    free(r->file);
    free(r->name);
    free_strv(r->tags);
    free(r->workdir);
    for (size_t i = 0; i < r->nmessages; i++)
        free(r->messages[i]);
    free(r->messages);
    memset(r, 0, sizeof(*r));
}

int run_result_add(run_result *r, const char *msg)
{
    char **n = realloc(r->messages, (r->nmessages + 1) * sizeof(*n));
    if (!n)
        return -ENOMEM;
    r->messages = n;
    n[r->nmessages] = strdup(msg);
    if (!n[r->nmessages])
        return -ENOMEM;
    r->nmessages++;
    return 0;
}

int run_result_addf(run_result *r, const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -ENOMEM;
    int rc = run_result_add(r, s);
    free(s);
    return rc;
}

json_t *run_result_render(const run_result *r)
{
    json_t *tags = json_array(), *msgs = json_array();
    for (size_t i = 0; r->tags && r->tags[i]; i++)
        json_array_append_new(tags, json_string(r->tags[i]));
    for (size_t i = 0; i < r->nmessages; i++)
        json_array_append_new(msgs, json_string(r->messages[i]));
    return json_pack("{s:s?, s:s?, s:o, s:s, s:I, s:I, s:b, s:s?, s:b, s:o, s:I, s:I}", "file",
                     r->file, "name", r->name, "tags", tags, "status", run_status_names[r->status],
                     "dur_ns", (json_int_t)r->dur_ns, "seed", (json_int_t)r->seed, "has_seed",
                     r->has_seed, "workdir", r->workdir, "kept", r->kept, "messages", msgs,
                     "passed", (json_int_t)r->passed, "checked", (json_int_t)r->checked);
}

static char *dupj(const json_t *v)
{
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

int run_result_parse(const json_t *j, run_result *r)
{
    run_result_init(r);
    if (!json_is_object(j))
        return -EINVAL;
    r->file = dupj(json_object_get(j, "file"));
    r->name = dupj(json_object_get(j, "name"));
    r->workdir = dupj(json_object_get(j, "workdir"));
    const char *st = json_string_value(json_object_get(j, "status"));
    r->status = RUN_ERROR;
    for (int i = 0; st && i < 3; i++)
        if (strcmp(st, run_status_names[i]) == 0)
            r->status = (run_status)i;
    r->dur_ns = json_integer_value(json_object_get(j, "dur_ns"));
    r->seed = (uint64_t)json_integer_value(json_object_get(j, "seed"));
    r->has_seed = json_is_true(json_object_get(j, "has_seed"));
    r->kept = json_is_true(json_object_get(j, "kept"));
    r->passed = (size_t)json_integer_value(json_object_get(j, "passed"));
    r->checked = (size_t)json_integer_value(json_object_get(j, "checked"));
    json_t *tags = json_object_get(j, "tags");
    r->tags = calloc(json_array_size(tags) + 1, sizeof(char *));
    if (!r->tags)
        return -ENOMEM;
    size_t i;
    json_t *x;
    json_array_foreach (tags, i, x)
        r->tags[i] = dupj(x);
    json_array_foreach (json_object_get(j, "messages"), i, x) {
        if (json_is_string(x) && run_result_add(r, json_string_value(x)))
            return -ENOMEM;
    }
    return 0;
}

/* ---- human ---- */

#define C_RESET  "\033[0m"
#define C_GREEN  "\033[32m"
#define C_RED    "\033[31m"
#define C_YELLOW "\033[33m"
#define C_BOLD   "\033[1m"
#define C_DIM    "\033[2m"

static const char *col(const run_report_opts *o, const char *c)
{
    return o && o->color ? c : "";
}

static const char *status_color(run_status s)
{
    return s == RUN_PASS ? C_GREEN : s == RUN_FAIL ? C_RED : C_YELLOW;
}

void run_report_line(FILE *out, const run_result *r, size_t done, size_t total,
                     const run_report_opts *o)
{
    char d[32];
    int w = 1;
    for (size_t t = total; t >= 10; t /= 10)
        w++;
    fprintf(out, "[%*zu/%zu] %s%-5s%s %s  %s(%s)%s  %s\n", w, done, total,
            col(o, status_color(r->status)), run_status_names[r->status], col(o, C_RESET),
            r->name ? r->name : "?", col(o, C_DIM), r->file ? r->file : "?", col(o, C_RESET),
            duration_render(r->dur_ns - r->dur_ns % 10000000, d, sizeof(d)));
    fflush(out);
}

void run_report_summary(FILE *out, const run_result *rs, size_t n, int64_t wall_ns,
                        const run_report_opts *o)
{
    size_t pass = 0, fail = 0, err = 0;
    for (size_t i = 0; i < n; i++) {
        const run_result *r = &rs[i];
        if (r->status == RUN_PASS) {
            pass++;
            continue;
        }
        if (r->status == RUN_FAIL)
            fail++;
        else
            err++;
        fprintf(out, "\n%s%s %s%s (%s)", col(o, C_BOLD), run_status_names[r->status],
                r->name ? r->name : "?", col(o, C_RESET), r->file ? r->file : "?");
        if (r->has_seed)
            fprintf(out, " seed %llu", (unsigned long long)r->seed);
        fprintf(out, "\n");
        for (size_t k = 0; k < r->nmessages; k++)
            fprintf(out, "  - %s\n", r->messages[k]);
        if (r->workdir && r->kept)
            fprintf(out, "  work dir kept: %s\n", r->workdir);
    }
    char d[32];
    /* the summary alone on its line, as CI log readers expect it */
    fprintf(out, "\n%sefksim: %zu passed, %zu failed%s\n", col(o, C_BOLD), pass, fail + err,
            col(o, C_RESET));
    fprintf(out, "%zu scenario%s in %s", n, n == 1 ? "" : "s",
            duration_render(wall_ns - wall_ns % 10000000, d, sizeof(d)));
    if (err)
        fprintf(out, "; %zu could not run", err);
    fprintf(out, "\n");
    fflush(out);
}

/* ---- TAP ---- */

static void yaml_block(buf *out, const char *s)
{
    /* a YAML literal block, each line indented */
    if (buf_puts(out, "|\n")) {
    }
    const char *p = s;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (buf_printf(out, "      %.*s\n", (int)len, p)) {
        }
        p += len + (nl ? 1 : 0);
    }
}

void run_report_tap(buf *out, const run_result *rs, size_t n)
{
    int rc = buf_printf(out, "TAP version 13\n1..%zu\n", n);
    for (size_t i = 0; !rc && i < n; i++) {
        const run_result *r = &rs[i];
        char d[32];
        duration_render(r->dur_ns, d, sizeof(d));
        rc = buf_printf(out, "%s %zu - %s # %s%s\n", r->status == RUN_PASS ? "ok" : "not ok", i + 1,
                        r->name ? r->name : "?", r->status == RUN_ERROR ? "ERROR " : "", d);
        if (rc || r->status == RUN_PASS)
            continue;
        rc = buf_printf(out, "  ---\n  file: %s\n", r->file ? r->file : "?");
        if (!rc && r->has_seed)
            rc = buf_printf(out, "  seed: %llu\n", (unsigned long long)r->seed);
        if (!rc && r->workdir && r->kept)
            rc = buf_printf(out, "  workdir: %s\n", r->workdir);
        if (!rc && r->nmessages) {
            rc = buf_puts(out, "  failures:\n");
            for (size_t k = 0; !rc && k < r->nmessages; k++) {
                rc = buf_puts(out, "    - ");
                yaml_block(out, r->messages[k]);
            }
        }
        if (!rc)
            rc = buf_puts(out, "  ...\n");
    }
}

/* ---- JUnit ---- */

int run_xml_escape(buf *out, const char *s)
{
    int rc = 0;
    for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
        switch (*p) {
        case '<':
            rc = buf_puts(out, "&lt;");
            break;
        case '>':
            rc = buf_puts(out, "&gt;");
            break;
        case '&':
            rc = buf_puts(out, "&amp;");
            break;
        case '"':
            rc = buf_puts(out, "&quot;");
            break;
        case '\'':
            rc = buf_puts(out, "&apos;");
            break;
        case '\n':
        case '\t':
        case '\r':
            rc = buf_append(out, p, 1);
            break;
        default:
            /* XML 1.0 has no place for other control characters */
            if (*p < 0x20)
                rc = buf_printf(out, "\\x%02x", *p);
            else
                rc = buf_append(out, p, 1);
        }
    }
    return rc;
}

/* classname: the scenario's directory with '/' as '.', or "efksim". */
static void classname(const char *file, char *out, size_t outsz)
{
    const char *slash = file ? strrchr(file, '/') : NULL;
    if (!slash) {
        snprintf(out, outsz, "efksim");
        return;
    }
    size_t n = (size_t)(slash - file);
    const char *start = file;
    while (n > 0 && (*start == '.' || *start == '/')) {
        start++;
        n--;
    }
    snprintf(out, outsz, "%.*s", (int)n, start);
    for (char *p = out; *p; p++)
        if (*p == '/')
            *p = '.';
    if (!*out)
        snprintf(out, outsz, "efksim");
}

int run_report_junit(buf *out, const run_result *rs, size_t n, int64_t wall_ns)
{
    size_t fail = 0, err = 0;
    for (size_t i = 0; i < n; i++) {
        fail += rs[i].status == RUN_FAIL;
        err += rs[i].status == RUN_ERROR;
    }
    char ts[48];
    clock_format_rfc3339((int64_t)time(NULL) * 1000000000, 0, ts);
    ts[strlen(ts) - 1] = '\0'; /* JUnit's timestamp has no zone suffix */
    int rc =
        buf_printf(out,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<testsuites name=\"efksim\" tests=\"%zu\" failures=\"%zu\" "
                   "errors=\"%zu\" time=\"%.3f\">\n"
                   "  <testsuite name=\"efksim\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
                   "skipped=\"0\" time=\"%.3f\" timestamp=\"%s\">\n",
                   n, fail, err, (double)wall_ns / 1e9, n, fail, err, (double)wall_ns / 1e9, ts);
    for (size_t i = 0; !rc && i < n; i++) {
        const run_result *r = &rs[i];
        char cls[512];
        classname(r->file, cls, sizeof(cls));
        rc = buf_puts(out, "    <testcase classname=\"");
        if (!rc)
            rc = run_xml_escape(out, cls);
        if (!rc)
            rc = buf_puts(out, "\" name=\"");
        if (!rc)
            rc = run_xml_escape(out, r->name ? r->name : "?");
        if (!rc)
            rc = buf_puts(out, "\" file=\"");
        if (!rc)
            rc = run_xml_escape(out, r->file ? r->file : "");
        if (!rc)
            rc = buf_printf(out, "\" time=\"%.3f\"", (double)r->dur_ns / 1e9);
        if (rc)
            break;
        if (r->status == RUN_PASS) {
            rc = buf_puts(out, "/>\n");
            continue;
        }
        const char *tag = r->status == RUN_FAIL ? "failure" : "error";
        rc = buf_printf(out, ">\n      <%s message=\"", tag);
        if (!rc) {
            /* the first line: attribute values lose their newlines anyway */
            const char *m = r->nmessages ? r->messages[0] : run_status_names[r->status];
            const char *nl = strchr(m, '\n');
            char *first = strndup(m, nl ? (size_t)(nl - m) : strlen(m));
            rc = first ? run_xml_escape(out, first) : -ENOMEM;
            free(first);
        }
        if (!rc)
            rc =
                buf_printf(out, "\" type=\"%s\">", r->status == RUN_FAIL ? "expectation" : "error");
        for (size_t k = 0; !rc && k < r->nmessages; k++) {
            rc = run_xml_escape(out, r->messages[k]);
            if (!rc)
                rc = buf_puts(out, "\n");
        }
        if (!rc && r->has_seed)
            rc = buf_printf(out, "seed: %llu\n", (unsigned long long)r->seed);
        if (!rc && r->workdir && r->kept) {
            rc = buf_puts(out, "work dir: ");
            if (!rc)
                rc = run_xml_escape(out, r->workdir);
            if (!rc)
                rc = buf_puts(out, "\n");
        }
        if (!rc)
            rc = buf_printf(out, "</%s>\n    </testcase>\n", tag);
    }
    if (!rc)
        rc = buf_puts(out, "  </testsuite>\n</testsuites>\n");
    return rc;
}
