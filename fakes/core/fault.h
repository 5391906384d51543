/*
 * fault.h - the fault reactor chain (the client-go fake's reactors, on the wire).
 *
 * A chain is an ordered list of rules in front of a fake. Each request is
 * offered to the rules in order; the first rule that matches is applied and
 * the others are not consulted. A rule matches when all its matchers hold:
 *
 *   method      exact, case-sensitive ("POST")
 *   path        glob (fnmatch without FNM_PATHNAME: '*' also crosses '/')
 *               against the raw path without query ("*\/_bulk")
 *   query       glob against the raw query string without '?'
 *   header      name (case-insensitive) present, value matching a glob
 *   body        substring of the (decoded) request body
 *   after/before  a window of time since the chain's epoch
 *   nth / every / from..to   the rule's call number: the 1-based count of
 *               requests that passed all the matchers above (so "nth: 3" is
 *               the third bulk request, not the third request overall)
 *   probability drawn last from the chain's seeded rng, only for requests
 *               that passed everything else (so the schedule is repeatable)
 *
 * Actions: respond (status, headers, body), pass (hand to the fake), close
 * (no answer, FIN), reset (RST), partial (send the first `bytes` bytes of the
 * answer's body after its headers, then close), dribble (send the answer's
 * body `bytes` at a time every `interval`), or a domain action a fake has
 * registered (ES item failures, watch drops...), which the fake carries out.
 * Any action may be preceded by a delay, fixed or uniform in [min, max].
 * partial and dribble apply to the rule's own body when it gives a status,
 * else to the fake's real answer. A rule with `times: N` expires after N uses.
 *
 * Rules are immutable once added; their counters live in the chain. Rules can
 * be added and removed while requests are being served: a request that
 * matched a rule keeps a reference to it until it is done.
 * All functions are thread-safe.
 */
#ifndef EFK_FAULT_H
#define EFK_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "clock.h"
#include "err.h"

#define FAULT_MAX_RULES 256
#define FAULT_MAX_HEADERS 16
#define FAULT_ID_MAX 64

typedef enum fault_action {
    FAULT_PASS = 0,
    FAULT_RESPOND,
    FAULT_CLOSE,
    FAULT_RESET,
    FAULT_PARTIAL,
    FAULT_DRIBBLE,
    FAULT_DOMAIN,
} fault_action;

typedef struct fault_chain fault_chain;

/* A rule (read-only for everyone but the chain). */
typedef struct fault_rule {
    char id[FAULT_ID_MAX];
    /* matchers; NULL / 0 means "any" */
    char *method;
    char *path;
    char *query;
    char *header_name;
    char *header_value; /* glob; NULL: presence is enough */
    char *body;
    uint64_t nth;        /* 0: unset */
    uint64_t every;      /* 0: unset */
    uint64_t from, to;   /* 0: unset (to 0 = open-ended) */
    int64_t after_ns;    /* -1: unset */
    int64_t before_ns;   /* -1: unset */
    double probability;  /* < 0: unset */
    /* action */
    fault_action action;
    char *domain;        /* FAULT_DOMAIN: the registered action name */
    json_t *params;      /* FAULT_DOMAIN: its parameters (object), else NULL */
    int64_t delay_min_ns, delay_max_ns; /* 0, 0: no delay */
    int status;          /* respond (and partial/dribble when set); 0 unset */
    size_t nheaders;
    char *header_names[FAULT_MAX_HEADERS];
    char *header_values[FAULT_MAX_HEADERS];
    char *resp_body;     /* NULL: "" */
    size_t resp_body_len;
    size_t bytes;        /* partial: bytes sent; dribble: bytes per tick */
    int64_t interval_ns; /* dribble */
    int64_t times;       /* uses left at creation; -1: unlimited */
    json_t *spec;        /* the JSON the rule was made from (for listing) */
} fault_rule;

/* What the chain decided for one request. */
typedef struct fault_hit {
    fault_rule *rule;  /* a new reference (fault_hit_cleanup drops it), or NULL */
    int64_t delay_ns;  /* drawn from the rule's delay range */
    uint64_t call_no;  /* the rule's call number for this request */
} fault_hit;

/* What the chain needs to know of a request. Everything is borrowed. */
typedef struct fault_req {
    const char *method;
    const char *path;
    const char *query;
    const char *body;
    size_t body_len;
    const char *(*header)(void *arg, const char *name); /* lookup, NULL if absent */
    void *header_arg;
} fault_req;

/* Validate a domain action's params; write the problem into err (with a
 * pointer relative to the params object) and return -EINVAL if bad. */
typedef int (*fault_domain_check)(const json_t *params, efk_err *err);

/* New chain. The rng is seeded from (seed, stream); the epoch is now.
 * `clock` is borrowed (NULL: system clock). NULL on ENOMEM. */
fault_chain *fault_chain_new(efk_clock *clock, uint64_t seed, const char *stream);
void fault_chain_free(fault_chain *c);

/* Time windows are measured from the epoch (a monotonic time). */
void fault_chain_set_epoch(fault_chain *c, int64_t mono_ns);

/* Register a domain action name (copied) with an optional check. 0, -EEXIST,
 * -ENOSPC, -ENOMEM. Do this before rules using it are added. */
int fault_domain_add(fault_chain *c, const char *name, fault_domain_check check)
    __attribute__((warn_unused_result));

/* Parse and add a rule from its JSON form (see docs/faults.md). The spec is
 * borrowed (deep-copied). The rule goes to the end of the chain, or to the
 * front when `first`. Its id is the spec's "id" or a generated "rule-N"
 * (copied to id_out when not NULL, FAULT_ID_MAX bytes).
 * 0; -EINVAL with err filled (pointer relative to the spec); -EEXIST for a
 * duplicate id; -ENOSPC past FAULT_MAX_RULES; -ENOMEM. */
int fault_add_json(fault_chain *c, const json_t *spec, bool first, char *id_out, efk_err *err)
    __attribute__((warn_unused_result));

/* Only parse and validate a spec, without adding it. Same errors. */
int fault_check_json(fault_chain *c, const json_t *spec, efk_err *err)
    __attribute__((warn_unused_result));

/* Remove a rule by id. 0 or -ENOENT. */
int fault_del(fault_chain *c, const char *id);

/* Remove every rule and forget call counters. */
void fault_clear(fault_chain *c);

/* The rules as a JSON array of {"id", "spec", "calls", "uses", "left"}. New reference. */
json_t *fault_list_render(fault_chain *c);

/* Offer a request to the chain. Fills `hit` (hit->rule NULL when no rule
 * applies) and updates counters; an expiring rule is removed from the chain.
 * Never fails: on ENOMEM no rule applies. */
void fault_eval(fault_chain *c, const fault_req *req, fault_hit *hit);
void fault_hit_cleanup(fault_hit *hit);

/* Name of an action ("respond", ... or the domain name). Borrowed. */
const char *fault_action_name(const fault_rule *r);

/* How many times has rule `id` been applied? -ENOENT if there is no such rule
 * (an expired rule is gone). */
int64_t fault_uses(fault_chain *c, const char *id);

/* Glob match as the chain does it (exposed for the journal matchers). */
bool fault_glob(const char *pattern, const char *s);

#endif
