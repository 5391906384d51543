/*
 * run_tmpl.h - "${name}" templates in argv, env, working dirs and rendered
 * files.
 *
 * A template is text with references `${name}`; `$${` stands for a literal
 * `${` (so shell scripts can still say `$${HOME}`); any other `$` is literal.
 * Names are looked up in a run_vars table. The table is filled in two steps:
 * at load time every name the scenario may use is declared (values unknown
 * yet: URLs exist only once the fakes listen), so a template naming anything
 * else is an error before anything runs; at run time the values are set and
 * templates expand. An unknown name is never an empty string.
 */
#ifndef RUN_TMPL_H
#define RUN_TMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define RUN_TMPL_NAME_MAX 256
#define RUN_VARS_MAX      4096

typedef struct run_vars run_vars;

run_vars *run_vars_new(void);
void run_vars_free(run_vars *v);

/* Declare `name` (copied), with a value (copied) or NULL (known, value not
 * yet set). Setting again replaces the value. 0, -ENOSPC past RUN_VARS_MAX,
 * -EINVAL for a name with '}' or whitespace, -ENOMEM. */
int run_vars_set(run_vars *v, const char *name, const char *value)
    __attribute__((warn_unused_result));

/* Is the name declared? Its value (borrowed; NULL when declared only). */
bool run_vars_known(const run_vars *v, const char *name);
const char *run_vars_get(const run_vars *v, const char *name);

/* All declared names (borrowed array of borrowed strings), for suggestions. */
const char *const *run_vars_names(const run_vars *v, size_t *n);

/* Check that every reference in `t` (len bytes) names a declared name and is
 * well formed. On error returns -EINVAL, sets *bad_off to the byte offset of
 * the offending "${" and writes the message ("unknown name ${es.ulr} (did you
 * mean ${es.url}?)") into err->msg. */
int run_tmpl_check(const run_vars *v, const char *t, size_t len, size_t *bad_off, efk_err *err)
    __attribute__((warn_unused_result));

/* Expand `t` into `out` (appended). A declared name without a value is an
 * error too (-ENOENT), as is -E2BIG when out's cap is reached. */
int run_tmpl_expand(const run_vars *v, const char *t, size_t len, buf *out, efk_err *err)
    __attribute__((warn_unused_result));

/* Expand a NUL-terminated template into a new string (caller frees). */
int run_tmpl_expand_str(const run_vars *v, const char *t, char **out, efk_err *err)
    __attribute__((warn_unused_result));

/* 1-based line and column of byte offset `off` in `t` (for template files). */
void run_tmpl_line_col(const char *t, size_t off, int *line, int *col);

#endif
