/*
 * run_world.h - what conditions and expectations look at while a scenario
 * runs: the fakes (their journals and typed query APIs), the processes, the
 * timeline's steps, the log generators and the work dir.
 *
 * The session (run_session.c) owns all of it and fills this view; unit tests
 * fill one by hand. Everything here is borrowed.
 */
#ifndef RUN_WORLD_H
#define RUN_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/journal.h"
#include "run_loggen.h"
#include "run_proc.h"

typedef enum run_fake_id {
    RUN_FAKE_APISERVER = 0,
    RUN_FAKE_ES,
    RUN_FAKE_RBD,
    RUN_FAKE_N,
} run_fake_id;

extern const char *const run_fake_names[RUN_FAKE_N]; /* "apiserver", "es", "rbd" */

/* A process at run time: its supervisor record and where its output goes. */
typedef struct run_proc_rt {
    run_proc proc;
    char *out_path; /* owned: <workdir>/proc/<name>.stdout */
    char *err_path; /* owned: <workdir>/proc/<name>.stderr */
    bool ready;     /* its readiness condition held (or it has none and started) */
    int64_t ready_ns;
    bool ready_reported; /* a missed ready_timeout was reported */
} run_proc_rt;

/* A timeline step at run time. */
typedef struct run_step_rt {
    uint64_t runs;    /* completed runs */
    int64_t first_ns; /* when the first run started (mono), 0 when never */
    int64_t last_ns;
    bool active;        /* running now (waiting inside) */
    size_t next_action; /* the action to run next when active */
    int64_t resume_ns;  /* a wait inside the step ends then */
    int64_t due_ns;     /* the next repeat may start then */
    bool done;          /* nothing more will run */
} run_step_rt;

typedef struct run_world {
    efk_clock *clock;
    int64_t start_ns; /* monotonic time the scenario started */
    const char *workdir;
    journal *journals[RUN_FAKE_N];
    struct efk_apiserver *apiserver;
    struct efk_es *es;
    struct efk_rbd *rbd;
    run_proc_rt *procs;
    size_t nprocs;
    run_step_rt *steps;
    size_t nsteps;
    run_log *logs;
    size_t nlogs;
    const struct run_vars *vars; /* template values (tcp ports given as templates) */
} run_world;

static inline int64_t run_world_now(const run_world *w)
{
    return clock_mono_ns(w->clock);
}

#endif
