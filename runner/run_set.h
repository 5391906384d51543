/*
 * run_set.h - `--set KEY=VALUE`: override one scalar of a scenario by its
 * dotted path, on `run`, `serve` and `validate`, with or without a file.
 *
 *   --set fakes.rbd.release=jewel      --set seed=7
 *   --set processes.agent.restart=always   (array entries by name, id or stream)
 *   --set timeline.2.at=10s                (or by index)
 *
 * The path is checked against the format itself (the JSON Schema in
 * scenarios/, which covers every key): a path that does not exist in the
 * format is an error listing the nearest valid ones. The value takes the type
 * the format gives that key (a string stays a string: "8.15" is not a
 * number); where the schema allows several, the type of the value already in
 * the file, else JSON's reading of the text (42, true, null), else a string.
 * Every value set is recorded as an override, so later errors about it name
 * the --set rather than a line of the file.
 */
#ifndef RUN_SET_H
#define RUN_SET_H

#include "core/err.h"
#include "run_json.h"

/* Apply one "KEY=VALUE" to the document. 0 or -EINVAL with err. */
int run_set_apply(run_doc *doc, const char *assignment, efk_err *err)
    __attribute__((warn_unused_result));

#endif
