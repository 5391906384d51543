/*
 * apis_patch.h - the three patch formats kube-apiserver takes on PATCH.
 *
 *   application/merge-patch+json            RFC 7386 (null deletes a key)
 *   application/strategic-merge-patch+json  the Kubernetes format kubectl
 *       apply sends: like a merge patch, but lists whose Go field declares a
 *       merge key (containers by name, ports by containerPort, env by name...)
 *       are merged element by element, and the directives `$patch`
 *       (replace/delete/merge), `$setElementOrder/<f>`, `$retainKeys` and
 *       `$deleteFromPrimitiveList/<f>` are honoured
 *   application/json-patch+json             RFC 6902 operations
 *
 * The patch metadata (which lists merge on which key) is a table of the
 * core/v1 fields that have one. Every function returns a new object and
 * leaves its inputs alone.
 */
#ifndef EFK_APIS_PATCH_H
#define EFK_APIS_PATCH_H

#include <stddef.h>
#include <jansson.h>

/* RFC 7386. Returns a new reference (never NULL unless ENOMEM). */
json_t *apis_merge_patch(const json_t *target, const json_t *patch);

/* Strategic merge of `patch` (an object) into `orig` (an object). 0 and a new
 * object in *out; -EINVAL with a message when the patch is malformed. */
int apis_strategic_merge(const json_t *orig, const json_t *patch, json_t **out, char *err,
                         size_t errsz) __attribute__((warn_unused_result));

/* RFC 6902. 0 and a new document in *out; -EINVAL with the reason (a bad op,
 * a path that does not exist, a failed test). */
int apis_json_patch(const json_t *orig, const json_t *ops, json_t **out, char *err, size_t errsz)
    __attribute__((warn_unused_result));

/* The merge key of a list field at a dotted path with "[]" for list elements
 * ("spec.containers[].ports" -> "containerPort"); NULL when the list is
 * atomic. "*" for lists of primitives merged as sets (finalizers). */
const char *apis_patch_merge_key(const char *path);

#endif
