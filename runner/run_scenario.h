/*
 * run_scenario.h - a scenario file, loaded and checked (docs/scenario-format.md).
 *
 * Loading does every check that can be done without running anything: the
 * JSON syntax (file:line:column), every key and value of every section
 * (file:line:column, the JSON pointer, what was expected, the allowed keys),
 * each fake's section through the fake's own parser, every template reference
 * in argv, env, working dirs and rendered files (an unknown name is an error
 * here, not an empty string later), every condition and action, and every
 * name they refer to (processes, steps, log streams).
 *
 * The loaded scenario borrows strings from its document, which it owns.
 */
#ifndef RUN_SCENARIO_H
#define RUN_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"
#include "run_action.h"
#include "run_fakes.h"
#include "run_json.h"
#include "run_loggen.h"
#include "run_pred.h"
#include "run_proc.h"
#include "run_tmpl.h"

#define RUN_SCENARIO_MAX_ITEMS 1000 /* processes, logs, files, steps, expectations each */
#define RUN_DEFAULT_TIMEOUT_NS (INT64_C(60) * 1000000000)
#define RUN_DEFAULT_GRACE_NS   (INT64_C(5) * 1000000000)

typedef struct run_file_spec {
    char ptr[RUN_PTR_MAX];
    const char *path; /* relative to the work dir */
    char *text;       /* owned: the template (or verbatim content) */
    size_t len;
    char *template_path; /* owned: where the template came from, or NULL (inline) */
    bool render;         /* expand ${...}; false: copy as is */
    mode_t mode;
} run_file_spec;

typedef struct run_proc_spec {
    char ptr[RUN_PTR_MAX];
    const char *name;
    const char **argv; /* templates; NULL-terminated */
    size_t argc;
    const char **env_names, **env_values; /* templates */
    size_t nenv;
    const char **inherit; /* names passed through from the runner's environment */
    size_t ninherit;
    const char *cwd;          /* template; NULL: the work dir */
    const char *identity;     /* put this identity's files in the env; NULL: the default */
    bool manual;              /* "start": false: only process.start starts it */
    run_pred *start;          /* start when this holds; NULL: at once */
    run_pred *ready;          /* ready when this holds; NULL: ready once started */
    int64_t ready_timeout_ns; /* 0: the scenario timeout */
    run_restart restart;
    int64_t grace_ns;
} run_proc_spec;

typedef struct run_step_spec {
    char ptr[RUN_PTR_MAX];
    const char *id; /* given, or "timeline/N" */
    bool has_at;
    int64_t at_ns;
    run_pred *when;
    bool repeat;
    int64_t every_ns;
    uint64_t times;  /* total runs; 0: no limit (repeat until the end) */
    run_pred *until; /* stop repeating once this holds */
    run_action *actions;
    size_t nactions;
} run_step_spec;

typedef enum run_expect_mode {
    RUN_EXPECT_END = 0, /* checked once, when the scenario ends */
    RUN_EXPECT_WITHIN,  /* must hold at some point before a deadline */
    RUN_EXPECT_ALWAYS,  /* must hold at every check, from start (or `from`) to the end */
    RUN_EXPECT_NEVER,   /* must not hold at any check */
} run_expect_mode;

extern const char *const run_expect_mode_names[4];

typedef struct run_expect_spec {
    char ptr[RUN_PTR_MAX];
    const char *name; /* given, or made from the kind ("expect/3 process.exited") */
    char *made_name;  /* owned when made */
    run_expect_mode mode;
    int64_t within_ns;
    int from_step; /* -1: measured from the scenario start */
    run_pred *pred;
} run_expect_spec;

typedef struct run_log_item {
    char ptr[RUN_PTR_MAX];
    run_log_spec spec;
} run_log_item;

typedef struct run_scenario {
    run_doc *doc;
    const char *file;
    const char *name;
    const char *description;
    const char **tags;
    size_t ntags;
    uint64_t seed;
    bool has_seed;
    int64_t timeout_ns;
    int64_t duration_ns; /* run at least this long */
    double backoff_scale;
    run_fakes_cfg *fakes;
    run_log_item *logs;
    size_t nlogs;
    run_file_spec *files;
    size_t nfiles;
    run_proc_spec *procs;
    size_t nprocs;
    run_step_spec *steps;
    size_t nsteps;
    run_expect_spec *expects;
    size_t nexpects;
    run_vars *vars; /* every template name, declared (values set at run time) */
    const char **proc_names, **step_names, **stream_names;
} run_scenario;

/* Load a scenario file (path NULL: an empty scenario, for `serve` and
 * `--set` without a file), apply `sets` ("KEY=VALUE" strings, run_set.h)
 * and check everything. New scenario or an error with its place. */
int run_scenario_load(const char *path, char *const *sets, size_t nsets, run_scenario **out,
                      efk_err *err) __attribute__((warn_unused_result));

/* Check a document (taken: freed on error too). */
int run_scenario_from_doc(run_doc *doc, run_scenario **out, efk_err *err)
    __attribute__((warn_unused_result));

void run_scenario_free(run_scenario *s);

/* The names every section may refer to. */
void run_scenario_names(const run_scenario *s, run_names *out);

/* Is a template name a scenario's own (declared at load)? For tests. */
bool run_scenario_knows(const run_scenario *s, const char *name);

#endif
