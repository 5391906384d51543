/*
 * run_report.h - scenario results and the three ways of reporting them:
 * human (a line per scenario, failures in detail at the end, colours only on
 * a terminal), TAP version 13, and JUnit XML (one <testcase> per scenario,
 * classname from the scenario's directory, so CI systems that read JUnit
 * group them).
 *
 * A result travels from the worker process that ran the scenario to the
 * parent as JSON (run_result_render / run_result_parse).
 */
#ifndef RUN_REPORT_H
#define RUN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "core/buf.h"

typedef enum run_status {
    RUN_PASS = 0,
    RUN_FAIL,  /* an expectation failed, or the run timed out */
    RUN_ERROR, /* the scenario could not run: bad file, missing program, interrupted */
} run_status;

extern const char *const run_status_names[3]; /* "PASS", "FAIL", "ERROR" */

typedef struct run_result {
    char *file; /* as given */
    char *name;
    char **tags; /* NULL-terminated */
    run_status status;
    int64_t dur_ns;
    uint64_t seed;
    bool has_seed;   /* the scenario got that far */
    char *workdir;   /* where it ran; NULL when none was made */
    bool kept;       /* the work dir was kept */
    char **messages; /* failures (or the error), each possibly multi-line */
    size_t nmessages;
    size_t passed;  /* expectations that held */
    size_t checked; /* expectations evaluated */
} run_result;

void run_result_init(run_result *r);
void run_result_cleanup(run_result *r);
/* Add a message (copied). 0 or -ENOMEM. */
int run_result_add(run_result *r, const char *msg);
int run_result_addf(run_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* To and from JSON (the worker -> parent wire). New reference / 0 or -EINVAL. */
json_t *run_result_render(const run_result *r);
int run_result_parse(const json_t *j, run_result *r);

typedef struct run_report_opts {
    bool color; /* ANSI colours (only when stdout is a terminal) */
    bool verbose;
} run_report_opts;

/* One progress line: "[ 3/12] PASS  name  (file)  1.23s". */
void run_report_line(FILE *out, const run_result *r, size_t done, size_t total,
                     const run_report_opts *o);
/* The closing part: each failure in detail, then the summary line
 * "efksim: N passed, M failed" (and ", K errors"). */
void run_report_summary(FILE *out, const run_result *rs, size_t n, int64_t wall_ns,
                        const run_report_opts *o);

/* TAP: the plan, then one "ok"/"not ok" per result with a YAML block for
 * failures. */
void run_report_tap(buf *out, const run_result *rs, size_t n);

/* JUnit XML for all results. 0 or -ENOMEM. */
int run_report_junit(buf *out, const run_result *rs, size_t n, int64_t wall_ns);

/* Escape text for XML (attribute-safe) into out. */
int run_xml_escape(buf *out, const char *s);

#endif
