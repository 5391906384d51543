/*
 * run_pred.h - conditions: what timeline steps wait for ("when"), what makes
 * a process start or count as ready, and what expectations assert.
 *
 * A condition is a JSON object with exactly one key naming its kind, e.g.
 *   {"journal": {"fake": "es", "method": "POST", "path": "*\/_bulk", "min": 3}}
 *   {"process.exited": {"process": "helper", "code": 1}}
 *   {"all": [ ... ]}
 * The same kinds serve `when`, `start`, `ready` and `expect`, so anything a
 * step can wait for, an expectation can assert, and the other way round.
 *
 * Evaluation is incremental where it can be: journal kinds remember the last
 * sequence number they read and keep counting from there; output kinds keep
 * the offset they read the process's files to. So a condition polled every
 * few milliseconds costs what arrived since the last poll, not the history.
 * Each condition node belongs to one place in the scenario and carries that
 * state.
 */
#ifndef RUN_PRED_H
#define RUN_PRED_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "core/buf.h"
#include "run_check.h"
#include "run_world.h"

typedef enum run_pred_kind {
    RUN_P_ALL = 0,
    RUN_P_ANY,
    RUN_P_NOT,
    RUN_P_JOURNAL,
    RUN_P_JOURNAL_ORDER,
    RUN_P_APISERVER_OBJECT,
    RUN_P_ES_COUNT,
    RUN_P_ES_FIELD,
    RUN_P_ES_DELIVERY,
    RUN_P_RBD_LOCK,
    RUN_P_RBD_WATCHER,
    RUN_P_RBD_BLOCKLIST,
    RUN_P_RBD_AUDIT,
    RUN_P_PROC_STARTED,
    RUN_P_PROC_RUNNING,
    RUN_P_PROC_READY,
    RUN_P_PROC_EXITED,
    RUN_P_PROC_RESTARTS,
    RUN_P_PROC_OUTPUT,
    RUN_P_FILE,
    RUN_P_STEP,
    RUN_P_TCP,
    RUN_P_KIND_N,
} run_pred_kind;

/* The kinds' names as scenarios spell them, in enum order. */
extern const char *const run_pred_kind_names[RUN_P_KIND_N + 1];

#define RUN_MATCH_MAX_HEADERS 8
#define RUN_MATCH_MAX_STATUS  8

/* One HTTP exchange pattern (journal kinds). Strings borrowed from the doc. */
typedef struct run_http_match {
    const char *method; /* exact */
    const char *path;   /* glob */
    const char *query;  /* glob */
    size_t nstatus;
    int status[RUN_MATCH_MAX_STATUS]; /* any of; 0 entries: any */
    size_t nheaders;
    const char *header_names[RUN_MATCH_MAX_HEADERS];
    const char *header_values[RUN_MATCH_MAX_HEADERS]; /* globs */
    const char *body;                                 /* substring of the request body */
    bool has_re;
    regex_t body_re;      /* on the request body */
    const char *identity; /* glob on the client certificate CN */
} run_http_match;

/* Names the parser resolves references against (processes, steps, logs). */
typedef struct run_names {
    const char *const *procs;
    size_t nprocs;
    const char *const *steps;
    size_t nsteps;
    const char *const *streams;
    size_t nstreams;
    const struct run_vars *vars; /* template names (tcp ports may be templates) */
} run_names;

typedef struct run_pred run_pred;
struct run_pred {
    run_pred_kind kind;
    char ptr[RUN_PTR_MAX]; /* where it is in the scenario */
    const json_t *spec;    /* its parameters (borrowed from the doc) */
    run_pred **kids;       /* all/any/not */
    size_t nkids;
    /* parameters (what applies to the kind) */
    run_fake_id fake;
    run_http_match m, then; /* journal; journal.order: m first, then `then` */
    run_count count;
    int proc;        /* index into world->procs */
    int step;        /* index into world->steps */
    int out_streams; /* process.output: 1 stdout, 2 stderr, 3 both */
    bool has_re;
    regex_t re;      /* output pattern, file "matches", es.field "matches" */
    int exit_code;   /* process.exited: -1 any */
    int exit_signal; /* 0 any */
    bool exists;
    const char *path; /* file */
    const char *contains, *equals;
    const char *host; /* tcp */
    int port;
    const char *port_tmpl; /* tcp: a template like "${es.port}" instead of a number */
    const char *str[6];    /* kind-specific names (see run_pred.c) */
    json_t *query;         /* es kinds: the query (borrowed) */
    json_t *value;         /* es.field "equals", apiserver.object "fields" */
    run_count dcount[5];   /* es.delivery: expected delivered lost duplicated reordered */
    bool dhas[5];
    size_t nops;       /* rbd.audit "order": how many op matchers */
    const json_t *ops; /* the matchers (borrowed array) */
    /* incremental state */
    uint64_t seen_seq;
    int64_t matches;
    uint64_t first_a, first_b; /* journal.order: seq of the first matches */
    off_t out_off[2];
    buf partial[2]; /* an unfinished last line of each output file */
};

/* Parse a condition at `ptr` in the doc. New tree (run_pred_free). */
int run_pred_parse(run_ck *c, const char *ptr, const json_t *v, const run_names *names,
                   run_pred **out) __attribute__((warn_unused_result));
void run_pred_free(run_pred *p);

/* Evaluate: 1 holds, 0 does not, negative when it cannot be evaluated (a
 * fake query failed). `observed`, when not NULL, gets what was seen
 * ("3 matching requests", "exited with code 0"). */
int run_pred_eval(run_pred *p, run_world *w, buf *observed);

/* What it asserts, in words ("es received at least 1 request POST *\/_bulk"). */
void run_pred_describe(const run_pred *p, buf *out);

/* Context for a failure report: the last relevant journal entries, the
 * tail of a process's output, the head of a file. */
void run_pred_context(const run_pred *p, run_world *w, buf *out);

/* Does a journal entry match? (exposed for tests) */
bool run_http_match_entry(const run_http_match *m, const journal_entry *e);

#endif
