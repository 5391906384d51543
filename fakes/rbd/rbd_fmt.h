/*
 * rbd_fmt.h - the output machinery of the Ceph tools, reproduced byte for
 * byte: Ceph's Formatter (JSON and XML, compact and pretty), TextTable (the
 * legacy one-space-after-every-cell layout and the two-space layout), the
 * size printers (prettybyte_t, si_t, byte_u_t), utime_t and ctime() dates,
 * the daemon log line prefix, and cpp_strerror().
 *
 * Formatter rules kept exactly (src/common/Formatter.cc, escape.cc):
 *  - compact JSON has no spaces: {"a":1,"b":"x"}; pretty JSON indents by 4
 *    and writes ": "; an empty section is {} / [] in both;
 *  - section names are written as given (not escaped), so a map keyed by a
 *    lock id "auto 1" yields the same broken XML the real tool printed;
 *  - string values: JSON escapes " \ TAB LF and other controls as \u00XX,
 *    nothing else (no "\/"); XML escapes < & > ' " and controls but TAB/LF;
 *  - flush adds a newline for pretty output, or when line breaks are enabled
 *    (the rbd CLI enables them from Mimic on).
 */
#ifndef EFK_RBD_FMT_H
#define EFK_RBD_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "rbd_release.h"

#define RBD_FMT_MAX_DEPTH 16

typedef enum rbd_fmt_kind { RBD_FMT_JSON = 0, RBD_FMT_XML } rbd_fmt_kind;

typedef struct rbd_fmt {
    rbd_fmt_kind kind;
    bool pretty;
    buf out;
    int depth;
    bool is_array[RBD_FMT_MAX_DEPTH];
    int size[RBD_FMT_MAX_DEPTH];
    const char *names[RBD_FMT_MAX_DEPTH]; /* XML closing tags (borrowed) */
    int err;                              /* first append error, sticky */
} rbd_fmt;

/* Caller-owned formatter; `cap` bounds the output (0: 16 MiB). */
void rbd_fmt_init(rbd_fmt *f, rbd_fmt_kind kind, bool pretty, size_t cap);
void rbd_fmt_cleanup(rbd_fmt *f);

/* Sections. `name` must stay valid until the section is closed. */
void rbd_fmt_open_object(rbd_fmt *f, const char *name);
void rbd_fmt_open_array(rbd_fmt *f, const char *name);
void rbd_fmt_close(rbd_fmt *f);
void rbd_fmt_string(rbd_fmt *f, const char *name, const char *value);
void rbd_fmt_unsigned(rbd_fmt *f, const char *name, uint64_t v);
void rbd_fmt_int(rbd_fmt *f, const char *name, int64_t v);

/* Append the document to `out` (pretty or line_break: then a newline) and
 * reset the formatter. 0, or the first error (-E2BIG past the cap). */
int rbd_fmt_flush(rbd_fmt *f, bool line_break, buf *out) __attribute__((warn_unused_result));

/* Append text to a tool's output buffer. Output buffers of the tools are
 * capped (RBD_OUT_CAP); text past the cap is dropped and counted in the
 * buffer's `len` never growing, which the caller reports. */
#define RBD_OUT_CAP (64u << 20)
void rbd_out(buf *b, const char *s);
void rbd_outf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- TextTable ----------------------------------------------------------- */

#define RBD_TABLE_MAX_COLS  12
#define RBD_TABLE_MAX_CELLS 200000

typedef enum rbd_align { RBD_LEFT = 1, RBD_CENTER, RBD_RIGHT } rbd_align;

typedef struct rbd_table {
    bool legacy; /* one space after every cell, including the last */
    size_t ncols, ncells;
    const char *heading[RBD_TABLE_MAX_COLS];
    rbd_align hd_align[RBD_TABLE_MAX_COLS], col_align[RBD_TABLE_MAX_COLS];
    size_t width[RBD_TABLE_MAX_COLS];
    char **cells; /* row-major, owned */
    size_t acells;
    int err;
} rbd_table;

void rbd_table_init(rbd_table *t, bool legacy);
void rbd_table_cleanup(rbd_table *t);
/* Define a column; `heading` is borrowed. */
void rbd_table_col(rbd_table *t, const char *heading, rbd_align hd, rbd_align col);
/* Add the next cell (copied); rows are ncols cells. */
void rbd_table_cell(rbd_table *t, const char *s);
size_t rbd_table_rows(const rbd_table *t);
/* Append the rendered table (heading line, then rows). 0 or the error. */
int rbd_table_render(rbd_table *t, buf *out) __attribute__((warn_unused_result));

/* ---- sizes, times, errors ------------------------------------------------ */

/* `rbd info` size text for the release: "1024 MB" / "1GiB" / "1 GiB". */
char *rbd_size_info(const rbd_release *rel, uint64_t v, char *out, size_t outsz);
/* `rbd ls -l` SIZE column: "1024M" / "1GiB" / "1 GiB". */
char *rbd_size_list(const rbd_release *rel, uint64_t v, char *out, size_t outsz);
/* byte_u_t with or without the space before the unit. */
char *rbd_byte_u(uint64_t v, bool space, char *out, size_t outsz);

/* utime_t as the monitor prints it, in UTC: "2019-11-13 12:55:53.700776"
 * or (Pacific on) "2026-05-06T08:59:47.102488+0000". */
char *rbd_utime(const rbd_release *rel, int64_t wall_ns, char *out, size_t outsz);
/* ctime() without its newline, UTC: "Thu Mar  2 08:26:46 2017". */
char *rbd_ctime(int64_t wall_ns, char *out, size_t outsz);
/* A daemon log line prefix up to and including the level ("-1 ", " 0 "), in
 * UTC, for the release's log style; `thread` is the hex thread id. */
char *rbd_log_prefix(const rbd_release *rel, int64_t wall_ns, const char *thread, int level,
                     char *out, size_t outsz);
/* cpp_strerror: "(2) No such file or directory" for -2 or 2. */
char *rbd_strerror(int r, char *out, size_t outsz);
/* errno.errorcode[] name as the ceph CLI prints it ("EACCES"). */
const char *rbd_errno_name(int e);

#endif
