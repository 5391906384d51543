/*
 * apis_select.h - label and field selectors, parsed once and matched many
 * times (lists, and every event of every watch).
 *
 * Labels: requirements joined by ',' (AND): `k`, `!k`, `k=v`, `k==v`, `k!=v`,
 * `k in (a,b)`, `k notin (a,b)`, `k>5`, `k<5`, as apimachinery's parser.
 * Fields: `k=v`, `k==v`, `k!=v` joined by ','; which labels a resource knows
 * is checked against apis_res (unknown: 400 "field label not supported: k").
 */
#ifndef EFK_APIS_SELECT_H
#define EFK_APIS_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "apis_res.h"

#define APIS_SEL_MAX_REQS   32
#define APIS_SEL_MAX_VALUES 32

typedef enum apis_sel_op {
    APIS_OP_EXISTS,
    APIS_OP_NOT_EXISTS,
    APIS_OP_EQ,
    APIS_OP_NEQ,
    APIS_OP_IN,
    APIS_OP_NOTIN,
    APIS_OP_GT,
    APIS_OP_LT,
} apis_sel_op;

typedef struct apis_sel_req {
    char *key;
    apis_sel_op op;
    size_t nvalues;
    char *values[APIS_SEL_MAX_VALUES];
} apis_sel_req;

typedef struct apis_selector {
    size_t n;
    apis_sel_req reqs[APIS_SEL_MAX_REQS];
} apis_selector;

/* Parse a label selector ("" or NULL selects everything). 0, or -EINVAL with
 * the real parser's sentence in `err` (for a 400 BadRequest). */
int apis_label_selector_parse(const char *s, apis_selector *out, char *err, size_t errsz)
    __attribute__((warn_unused_result));

/* Parse a field selector and check each label against the resource. 0, or
 * -EINVAL with the message for a 400 in `err`. */
int apis_field_selector_parse(const char *s, const apis_res *r, apis_selector *out, char *err,
                              size_t errsz) __attribute__((warn_unused_result));

/* Match an object's metadata.labels (borrowed) against a label selector. */
bool apis_label_selector_match(const apis_selector *sel, const json_t *obj);

/* Match an object against a field selector (parsed for resource r). */
bool apis_field_selector_match(const apis_selector *sel, const apis_res *r, const json_t *obj);

bool apis_selector_empty(const apis_selector *sel);

void apis_selector_cleanup(apis_selector *sel);

#endif
