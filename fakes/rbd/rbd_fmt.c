#include "rbd_fmt.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FMT_DEFAULT_CAP (16u << 20)

void rbd_out(buf *b, const char *s)
{
    if (buf_puts(b, s ? s : "") != 0)
        return; /* over RBD_OUT_CAP: the tool reports the truncation */
}

void rbd_outf(buf *b, const char *fmt, ...)
{
    char small[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        rbd_out(b, small);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big)
        return;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rbd_out(b, big);
    free(big);
}

/* ---- Formatter ------------------------------------------------------------ */

static void put(rbd_fmt *f, const char *s, size_t n)
{
    if (f->err)
        return;
    int r = buf_append(&f->out, s, n);
    if (r)
        f->err = r;
}

static void puts_(rbd_fmt *f, const char *s)
{
    put(f, s, strlen(s));
}

static void indent(rbd_fmt *f, int levels, const char *unit)
{
    for (int i = 0; i < levels; i++)
        puts_(f, unit);
}

void rbd_fmt_init(rbd_fmt *f, rbd_fmt_kind kind, bool pretty, size_t cap)
{
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    f->pretty = pretty;
    buf_init(&f->out, cap ? cap : FMT_DEFAULT_CAP);
}

void rbd_fmt_cleanup(rbd_fmt *f)
{
    buf_cleanup(&f->out);
}

static void json_string(rbd_fmt *f, const char *s)
{
    puts_(f, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"':
            puts_(f, "\\\"");
            break;
        case '\\':
            puts_(f, "\\\\");
            break;
        case '\t':
            puts_(f, "\\t");
            break;
        case '\n':
            puts_(f, "\\n");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                snprintf(esc, sizeof(esc), "\\u%04x", *p);
                puts_(f, esc);
            } else {
                put(f, (const char *)p, 1);
            }
        }
    }
    puts_(f, "\"");
}

static void xml_string(rbd_fmt *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '<':
            puts_(f, "&lt;");
            break;
        case '&':
            puts_(f, "&amp;");
            break;
        case '>':
            puts_(f, "&gt;");
            break;
        case '\'':
            puts_(f, "&apos;");
            break;
        case '"':
            puts_(f, "&quot;");
            break;
        default:
            if ((*p < 0x20 && *p != 0x09 && *p != 0x0a) || *p == 0x7f) {
                snprintf(esc, sizeof(esc), "&#x%02x;", *p);
                puts_(f, esc);
            } else {
                put(f, (const char *)p, 1);
            }
        }
    }
}

/* JSONFormatter::print_name (with print_comma). */
static void json_name(rbd_fmt *f, const char *name)
{
    if (f->depth == 0)
        return;
    int d = f->depth - 1;
    if (f->size[d]) {
        if (f->pretty) {
            puts_(f, ",\n");
            indent(f, d, "    ");
        } else {
            puts_(f, ",");
        }
    } else if (f->pretty) {
        puts_(f, "\n");
        indent(f, d, "    ");
    }
    if (f->pretty && f->is_array[d])
        puts_(f, "    ");
    if (!f->is_array[d]) {
        if (f->pretty)
            puts_(f, "    ");
        puts_(f, "\"");
        puts_(f, name);
        puts_(f, f->pretty ? "\": " : "\":");
    }
    f->size[d]++;
}

static void xml_spaces(rbd_fmt *f)
{
    if (f->pretty)
        for (int i = 0; i < f->depth; i++)
            puts_(f, " ");
}

static void open_section(rbd_fmt *f, const char *name, bool array)
{
    if (f->depth >= RBD_FMT_MAX_DEPTH) {
        f->err = -E2BIG;
        return;
    }
    if (f->kind == RBD_FMT_JSON) {
        json_name(f, name);
        puts_(f, array ? "[" : "{");
    } else {
        xml_spaces(f);
        puts_(f, "<");
        puts_(f, name);
        puts_(f, ">");
        if (f->pretty)
            puts_(f, "\n");
    }
    f->is_array[f->depth] = array;
    f->size[f->depth] = 0;
    f->names[f->depth] = name;
    f->depth++;
}

void rbd_fmt_open_object(rbd_fmt *f, const char *name)
{
    open_section(f, name, false);
}

void rbd_fmt_open_array(rbd_fmt *f, const char *name)
{
    open_section(f, name, true);
}

void rbd_fmt_close(rbd_fmt *f)
{
    if (f->depth == 0) {
        f->err = -EINVAL;
        return;
    }
    int d = f->depth - 1;
    if (f->kind == RBD_FMT_JSON) {
        if (f->pretty && f->size[d]) {
            puts_(f, "\n");
            indent(f, d, "    ");
        }
        puts_(f, f->is_array[d] ? "]" : "}");
        f->depth--;
    } else {
        f->depth--;
        xml_spaces(f);
        puts_(f, "</");
        puts_(f, f->names[d]);
        puts_(f, ">");
        if (f->pretty)
            puts_(f, "\n");
    }
}

static void xml_value(rbd_fmt *f, const char *name, const char *text, bool escape)
{
    xml_spaces(f);
    puts_(f, "<");
    puts_(f, name);
    puts_(f, ">");
    if (escape)
        xml_string(f, text);
    else
        puts_(f, text);
    puts_(f, "</");
    puts_(f, name);
    puts_(f, ">");
    if (f->pretty)
        puts_(f, "\n");
}

void rbd_fmt_string(rbd_fmt *f, const char *name, const char *value)
{
    if (f->kind == RBD_FMT_JSON) {
        json_name(f, name);
        json_string(f, value ? value : "");
    } else {
        xml_value(f, name, value ? value : "", true);
    }
}

void rbd_fmt_unsigned(rbd_fmt *f, const char *name, uint64_t v)
{
    char n[32];
    snprintf(n, sizeof(n), "%" PRIu64, v);
    if (f->kind == RBD_FMT_JSON) {
        json_name(f, name);
        puts_(f, n);
    } else {
        xml_value(f, name, n, false);
    }
}

void rbd_fmt_int(rbd_fmt *f, const char *name, int64_t v)
{
    char n[32];
    snprintf(n, sizeof(n), "%" PRId64, v);
    if (f->kind == RBD_FMT_JSON) {
        json_name(f, name);
        puts_(f, n);
    } else {
        xml_value(f, name, n, false);
    }
}

int rbd_fmt_flush(rbd_fmt *f, bool line_break, buf *out)
{
    int r = f->err;
    if (!r)
        r = buf_append(out, f->out.data ? f->out.data : "", f->out.len);
    if (!r && (f->pretty || line_break))
        r = buf_puts(out, "\n");
    buf_reset(&f->out);
    f->depth = 0;
    f->err = 0;
    return r;
}

/* ---- TextTable ---------------------------------------------------------------- */

void rbd_table_init(rbd_table *t, bool legacy)
{
    memset(t, 0, sizeof(*t));
    t->legacy = legacy;
}

void rbd_table_cleanup(rbd_table *t)
{
    for (size_t i = 0; i < t->ncells; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

void rbd_table_col(rbd_table *t, const char *heading, rbd_align hd, rbd_align col)
{
    if (t->ncols >= RBD_TABLE_MAX_COLS) {
        t->err = -E2BIG;
        return;
    }
    t->heading[t->ncols] = heading;
    t->hd_align[t->ncols] = hd;
    t->col_align[t->ncols] = col;
    t->width[t->ncols] = strlen(heading);
    t->ncols++;
}

void rbd_table_cell(rbd_table *t, const char *s)
{
    if (t->err || !t->ncols)
        return;
    if (t->ncells >= RBD_TABLE_MAX_CELLS) {
        t->err = -E2BIG;
        return;
    }
    if (t->ncells == t->acells) {
        size_t na = t->acells ? t->acells * 2 : 32;
        char **nc = realloc(t->cells, na * sizeof(*nc));
        if (!nc) {
            t->err = -ENOMEM;
            return;
        }
        t->cells = nc;
        t->acells = na;
    }
    char *c = strdup(s ? s : "");
    if (!c) {
        t->err = -ENOMEM;
        return;
    }
    size_t col = t->ncells % t->ncols;
    if (strlen(c) > t->width[col])
        t->width[col] = strlen(c);
    t->cells[t->ncells++] = c;
}

size_t rbd_table_rows(const rbd_table *t)
{
    return t->ncols ? (t->ncells + t->ncols - 1) / t->ncols : 0;
}

static int pad(buf *out, const char *s, size_t width, rbd_align a)
{
    size_t len = strlen(s), lpad = 0, rpad = 0;
    if (len < width) {
        switch (a) {
        case RBD_RIGHT:
            lpad = width - len;
            break;
        case RBD_CENTER:
            lpad = width / 2 - len / 2;
            rpad = width - lpad - len;
            break;
        default:
            rpad = width - len;
        }
    }
    int r = 0;
    for (size_t i = 0; !r && i < lpad; i++)
        r = buf_puts(out, " ");
    if (!r)
        r = buf_puts(out, s);
    for (size_t i = 0; !r && i < rpad; i++)
        r = buf_puts(out, " ");
    return r;
}

static int render_row(rbd_table *t, buf *out, const char *const *cells, bool heading)
{
    int r = 0;
    for (size_t j = 0; !r && j < t->ncols; j++) {
        if (!t->legacy && j)
            r = buf_puts(out, "  ");
        if (!r)
            r = pad(out, cells[j] ? cells[j] : "", t->width[j],
                    heading ? t->hd_align[j] : t->col_align[j]);
        if (!r && t->legacy)
            r = buf_puts(out, " ");
    }
    return r ? r : buf_puts(out, "\n");
}

int rbd_table_render(rbd_table *t, buf *out)
{
    if (t->err)
        return t->err;
    int r = render_row(t, out, t->heading, true);
    for (size_t i = 0; !r && i < rbd_table_rows(t); i++) {
        const char *row[RBD_TABLE_MAX_COLS] = {0};
        for (size_t j = 0; j < t->ncols && i * t->ncols + j < t->ncells; j++)
            row[j] = t->cells[i * t->ncols + j];
        r = render_row(t, out, row, false);
    }
    return r;
}

/* ---- sizes ------------------------------------------------------------------------- */

static char *prettybyte(uint64_t v, bool si, char *out, size_t outsz)
{
    static const char *pb[] = {" PB", " TB", " GB", " MB", " kB"};
    static const char *st[] = {"P", "T", "G", "M", "k"};
    static const int shift[] = {50, 40, 30, 20, 10};
    for (int i = 0; i < 5; i++) {
        if (v > (UINT64_C(100) << shift[i])) {
            snprintf(out, outsz, "%" PRIu64 "%s", v >> shift[i], si ? st[i] : pb[i]);
            return out;
        }
    }
    snprintf(out, outsz, "%" PRIu64 "%s", v, si ? "" : " bytes");
    return out;
}

char *rbd_byte_u(uint64_t v, bool space, char *out, size_t outsz)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    uint64_t n = v;
    int index = 0;
    while (n >= 1024 && index < 6) {
        n /= 1024;
        index++;
    }
    char u[8];
    snprintf(u, sizeof(u), "%s%s", space ? " " : "", units[index]);
    uint64_t mult = UINT64_C(1) << (10 * index);
    if (index == 0 || v % mult == 0) {
        snprintf(out, outsz, "%" PRIu64 "%s", n, u);
    } else {
        for (int i = 2; i >= 0; i--)
            if (snprintf(out, outsz, "%.*f%s", i, (double)v / (double)mult, u) <= 7)
                break;
    }
    return out;
}

char *rbd_size_info(const rbd_release *rel, uint64_t v, char *out, size_t outsz)
{
    if (rel->size_style == RBD_SIZE_PRETTYBYTE)
        return prettybyte(v, false, out, outsz);
    return rbd_byte_u(v, rel->size_style == RBD_SIZE_BYTE_U_SP, out, outsz);
}

char *rbd_size_list(const rbd_release *rel, uint64_t v, char *out, size_t outsz)
{
    if (rel->size_style == RBD_SIZE_PRETTYBYTE)
        return prettybyte(v, true, out, outsz);
    return rbd_byte_u(v, rel->size_style == RBD_SIZE_BYTE_U_SP, out, outsz);
}

/* ---- times ------------------------------------------------------------------------- */

static void split(int64_t wall_ns, struct tm *tm, long *usec)
{
    int64_t sec = wall_ns / INT64_C(1000000000);
    int64_t rem = wall_ns % INT64_C(1000000000);
    if (rem < 0) {
        rem += INT64_C(1000000000);
        sec--;
    }
    time_t t = (time_t)sec;
    gmtime_r(&t, tm);
    *usec = (long)(rem / 1000);
}

char *rbd_utime(const rbd_release *rel, int64_t wall_ns, char *out, size_t outsz)
{
    struct tm tm;
    long usec;
    split(wall_ns, &tm, &usec);
    snprintf(out, outsz, "%04d-%02d-%02d%c%02d:%02d:%02d.%06ld%s", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, rel->iso_time ? 'T' : ' ', tm.tm_hour, tm.tm_min, tm.tm_sec, usec,
             rel->iso_time ? "+0000" : "");
    return out;
}

char *rbd_ctime(int64_t wall_ns, char *out, size_t outsz)
{
    static const char *wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    long usec;
    split(wall_ns, &tm, &usec);
    snprintf(out, outsz, "%s %s %2d %02d:%02d:%02d %d", wd[tm.tm_wday % 7], mo[tm.tm_mon % 12],
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
    return out;
}

char *rbd_log_prefix(const rbd_release *rel, int64_t wall_ns, const char *thread, int level,
                     char *out, size_t outsz)
{
    struct tm tm;
    long usec;
    split(wall_ns, &tm, &usec);
    switch (rel->log_style) {
    case RBD_LOG_USEC:
        snprintf(out, outsz, "%04d-%02d-%02d %02d:%02d:%02d.%06ld %s %2d ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec, thread, level);
        break;
    case RBD_LOG_MSEC:
        snprintf(out, outsz, "%04d-%02d-%02d %02d:%02d:%02d.%03ld %s %2d ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec / 1000, thread,
                 level);
        break;
    default:
        snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03ld+0000 %s %2d ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec / 1000, thread,
                 level);
    }
    return out;
}

/* ---- errors -------------------------------------------------------------------------- */

char *rbd_strerror(int r, char *out, size_t outsz)
{
    int e = r < 0 ? -r : r;
    char tmp[128];
    const char *msg = strerror_r(e, tmp, sizeof(tmp));
    snprintf(out, outsz, "(%d) %s", e, msg);
    return out;
}

static const struct {
    int e;
    const char *name;
} errnames[] = {
    {1, "EPERM"},        {2, "ENOENT"},         {5, "EIO"},
    {11, "EAGAIN"},      {12, "ENOMEM"},        {13, "EACCES"},
    {16, "EBUSY"},       {17, "EEXIST"},        {19, "ENODEV"},
    {22, "EINVAL"},      {28, "ENOSPC"},        {30, "EROFS"},
    {34, "ERANGE"},      {38, "ENOSYS"},        {39, "ENOTEMPTY"},
    {61, "ENODATA"},     {95, "ENOTSUP"},       {103, "ECONNABORTED"},
    {104, "ECONNRESET"}, {107, "ENOTCONN"},     {108, "ESHUTDOWN"},
    {110, "ETIMEDOUT"},  {111, "ECONNREFUSED"}, {113, "EHOSTUNREACH"},
    {116, "ESTALE"},     {125, "ECANCELED"},
};

const char *rbd_errno_name(int e)
{
    if (e < 0)
        e = -e;
    for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
        if (errnames[i].e == e)
            return errnames[i].name;
    return "Unknown";
}
