/*
 * apis_table.h - server-side printing: the meta.k8s.io Table kubectl asks
 * for with `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, with the
 * columns of the real server's printers (pkg/printers/internalversion), so
 * `kubectl get pods` shows READY, STATUS, RESTARTS and AGE as on a cluster.
 */
#ifndef EFK_APIS_TABLE_H
#define EFK_APIS_TABLE_H

#include <stdint.h>
#include <jansson.h>

#include "apis_persona.h"
#include "apis_res.h"

/* A Table of `items` (an array of objects, borrowed). `api_version` is
 * "meta.k8s.io/v1" or "meta.k8s.io/v1beta1"; `now_ns` is the wall time AGE is
 * counted from. `rv`/`cont` go into the Table's metadata (cont may be NULL;
 * remaining < 0: not given). New reference. */
json_t *apis_table_render(const apis_res *r, const apis_persona *p, const json_t *items,
                          const char *api_version, int64_t now_ns, const char *rv, const char *cont,
                          long remaining);

/* Go's duration.HumanDuration, as the AGE column prints it ("5m2s", "3d"). */
char *apis_human_duration(int64_t ns, char *out, size_t outsz);

#endif
