/*
 * run_schema.h - the scenario format's JSON Schema, read at run time.
 *
 * scenarios/scenario.schema.json covers every key of the format; each fake's
 * section is a fragment in scenarios/schema/ that it $refs. `--set` walks it
 * to know whether a dotted path exists in the format, what type its value
 * has, and which valid paths are nearest to a wrong one; the tests validate
 * every shipped scenario and every documented example against it.
 *
 * Supported: $ref (relative files and "#/..." fragments, $defs), type (one or
 * several), properties, additionalProperties (false or a schema),
 * patternProperties (as "any key"), required, items, prefixItems, enum,
 * const, minimum/maximum, minItems/maxItems, minLength, pattern (POSIX ERE),
 * oneOf/anyOf/allOf/not, minProperties/maxProperties. Anything else is ignored.
 * A $ref to a file that is not there is not checked (its owner checks it).
 *
 * The schema files are compiled into efksim (every *.schema.json under scenarios/,
 * in the pseudo-directory "(built-in)"); $EFKSIM_SCHEMA_DIR, a directory holding
 * scenario.schema.json, overrides them while the schema is being edited.
 */
#ifndef RUN_SCHEMA_H
#define RUN_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct run_schema run_schema;

/* Load scenario.schema.json and what it refers to from `dir` (NULL: the
 * default place). 0 or negative with err. */
int run_schema_load(const char *dir, run_schema **out, efk_err *err)
    __attribute__((warn_unused_result));
void run_schema_free(run_schema *s);

/* The directory run_schema_load(NULL) would use (borrowed), or NULL. */
const char *run_schema_default_dir(void);

/* Validate a document. 0 when it conforms; else -EINVAL with err->pointer
 * naming the first offending value and err->msg saying why. */
int run_schema_validate(run_schema *s, const json_t *doc, efk_err *err);

/* Walk a dotted path ("fakes.es.version", "processes.0.restart"); array
 * segments are indexes. Returns 1 when the path exists in the format and
 * fills *types with the JSON types its value may have (bit mask of
 * 1 << json_type), 0 when it does not. */
int run_schema_path(run_schema *s, const char *dotted, unsigned *types);

/* The valid paths (dotted, arrays as "N"), down to `depth` segments, as a
 * new NULL-terminated array of new strings (free with run_schema_paths_free). */
char **run_schema_paths(run_schema *s, int depth, size_t *n);
void run_schema_paths_free(char **v);

#endif
