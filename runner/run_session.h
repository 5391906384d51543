/*
 * run_session.h - one scenario, running: the work dir, the fakes, the log
 * generators, the rendered files, the processes, the timeline and the
 * expectations, all driven by one loop in one thread.
 *
 * The loop wakes every RUN_TICK_NS, or sooner when a timer is due, and in
 * order: reaps exited processes and applies restart policies; writes what the
 * log generators owe (so a program starting now reads it); starts processes
 * whose start condition holds and checks readiness; runs timeline steps that
 * are due (an `at` time passed and/or a `when` condition holds; a step's
 * actions run in order and a `wait` inside a step suspends only that step);
 * and evaluates expectations: `within` until it holds or its deadline
 * passes, `always`/`never` at every tick. The scenario ends when every step
 * has run (steps that repeat forever do not hold it up), every `within` is
 * settled and `duration` has passed; or at `timeout`, which is a failure
 * naming what was still pending. End-of-run expectations are checked then,
 * before anything is stopped. Then every process group gets SIGTERM, SIGKILL
 * after its grace period, any descendant still alive is killed, and the
 * fakes stop.
 */
#ifndef RUN_SESSION_H
#define RUN_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "run_report.h"
#include "run_scenario.h"

#define RUN_TICK_NS (INT64_C(10) * 1000000)

typedef struct run_session run_session;

typedef struct run_opts {
    const char *workdir;               /* NULL: a new temp dir */
    bool check;                        /* false (serve): no expectations, runs until stopped */
    const volatile sig_atomic_t *stop; /* set to stop (signals); may be NULL */
    bool keep;                         /* keep the work dir even when it passed */
    const char *bin_dir; /* where rbd/ceph are (NULL: $EFKSIM_BIN, else efksim's dir) */
} run_opts;

/* Run a scenario to the end and fill `res` (status, messages, work dir).
 * The scenario's template values are set in the process; use it once. */
void run_session_run(run_scenario *sc, const run_opts *o, run_result *res);

/* For `efksim serve SCENARIO`: set everything up (work dir, fakes, logs,
 * files, processes), then run the timeline without checking until *o->stop
 * is set, then stop everything. `ready` is called once everything is up,
 * with the session's work dir and the env of the serve contract
 * (NULL-terminated "NAME=value" strings, borrowed), so the caller can write
 * its env file and print "efksim: ready". Returns 0, or an exit code
 * (2: could not start) with err. */
typedef void (*run_ready_fn)(void *arg, const char *workdir, char *const *env);
int run_session_serve(run_scenario *sc, const run_opts *o, run_ready_fn ready, void *arg,
                      efk_err *err);

/* The directory of the running efksim (or test) executable, for ${bin}.
 * Borrowed static storage. */
const char *run_self_dir(void);

#endif
