/*
 * run_proc.h - the programs under test: start, watch, restart, stop.
 *
 * Each program runs in its own process group (so a signal reaches the shell
 * and everything it started), with stdin from /dev/null and stdout/stderr
 * appended to files in the work dir. Stopping is SIGTERM to the group, then
 * SIGKILL to the group after a grace period. The runner process that owns
 * them is a child subreaper (run_proc_subreaper), so daemons that double-fork
 * out of the group are still its descendants and are killed at the end
 * (run_proc_kill_descendants): nothing is left behind.
 *
 * Restarts follow the kubelet. After a container exits, the kubelet restarts
 * it at once the first time; each later exit waits the current back-off
 * (10 s, doubling to 5 min) counted from the exit, and the back-off resets
 * when the container ran for more than twice the maximum (10 min) since its
 * last restart (k8s.io/client-go/util/flowcontrol Backoff: Next and
 * IsInBackOffSince, as kuberuntime uses them). A scenario scales all three
 * durations by one factor so a CrashLoopBackOff plays out in seconds.
 *
 * A run_proc is driven by its owner's loop: run_proc_start, then
 * run_proc_reaped when waitpid reports it, run_proc_tick to send SIGKILL at
 * the grace deadline and to learn when a restart is due. Nothing here waits.
 */
#ifndef RUN_PROC_H
#define RUN_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

#define RUN_BACKOFF_INITIAL_NS (INT64_C(10) * 1000000000)
#define RUN_BACKOFF_MAX_NS     (INT64_C(300) * 1000000000)

/* ---- the kubelet back-off ---- */
typedef struct run_backoff {
    int64_t initial_ns, max_ns; /* scaled */
    int64_t cur_ns;             /* the back-off set at the last restart */
    int64_t last_ns;            /* when it was set; valid when `has` */
    bool has;
} run_backoff;

/* 10 s and 5 min, multiplied by `scale` (> 0). */
void run_backoff_init(run_backoff *b, double scale);
/* When may a container that exited at `exited_ns` be restarted? */
int64_t run_backoff_restart_at(const run_backoff *b, int64_t exited_ns);
/* Record a restart at `now_ns` (the kubelet's Next): the back-off becomes the
 * initial one, or doubles up to the maximum. */
void run_backoff_next(run_backoff *b, int64_t now_ns);

/* ---- processes ---- */
typedef enum run_restart {
    RUN_RESTART_NEVER = 0,
    RUN_RESTART_ON_FAILURE,
    RUN_RESTART_ALWAYS,
} run_restart;

typedef enum run_proc_state {
    RUN_PROC_IDLE = 0, /* never started */
    RUN_PROC_RUNNING,
    RUN_PROC_STOPPING, /* SIGTERM sent, waiting for the group leader */
    RUN_PROC_BACKOFF,  /* exited, a restart is scheduled */
    RUN_PROC_EXITED,   /* exited, no restart coming */
} run_proc_state;

typedef struct run_proc {
    const char *name; /* borrowed */
    run_restart restart;
    int64_t grace_ns; /* SIGTERM to SIGKILL */
    run_backoff backoff;
    run_proc_state state;
    pid_t pid; /* the group leader (and pgid); 0 when none */
    int64_t started_ns, exited_ns;
    bool exited_once;  /* exit_code/exit_signal are valid */
    int exit_code;     /* -1 when killed by a signal */
    int exit_signal;   /* 0 when it exited normally */
    uint64_t starts;   /* times started */
    uint64_t restarts; /* restarts (policy or process.restart) */
    int64_t restart_at_ns;
    int64_t kill_at_ns;  /* STOPPING: when SIGKILL goes */
    bool stop_wanted;    /* an intentional stop: no policy restart */
    bool restart_wanted; /* process.restart: start again once it is gone */
} run_proc;

/* Initialise (not started). `name` is borrowed. */
void run_proc_init(run_proc *p, const char *name, run_restart restart, int64_t grace_ns,
                   double backoff_scale);

/* Start the program: fork, new process group, stdin /dev/null, stdout and
 * stderr appended to the given files (created 0644), cwd, and execve of
 * argv[0] found on the PATH of `envp` (or the given path when it has a '/').
 * A program that cannot be found or executed is an error here (nothing keeps
 * running). Everything is borrowed. 0 or negative errno with err. */
int run_proc_start(run_proc *p, char *const argv[], char *const envp[], const char *cwd,
                   const char *out_path, const char *err_path, int64_t now_ns, efk_err *err)
    __attribute__((warn_unused_result));

/* Set NAME=value in a NULL-terminated environment array (*v, *n entries,
 * grown with realloc; an earlier NAME is replaced). 0 or -ENOMEM. */
int run_envv_set(char ***v, size_t *n, const char *name, const char *value)
    __attribute__((warn_unused_result));
/* Free such an array. */
void run_envv_free(char **v);

/* Resolve a program name against a PATH value: a new string (caller frees),
 * or NULL when there is no executable file by that name. */
char *run_proc_which(const char *prog, const char *path_value);

/* waitpid reported `status` for p->pid. Decides whether a restart follows
 * (state BACKOFF with restart_at_ns) or not (EXITED). */
void run_proc_reaped(run_proc *p, int status, int64_t now_ns);

/* Send `sig` to the whole group. 0 or -errno (-ESRCH when not running). */
int run_proc_signal(run_proc *p, int sig);

/* Ask for a stop: SIGTERM to the group now, SIGKILL at now + grace.
 * `restart_after` makes it a restart (started again once it is gone). */
void run_proc_stop(run_proc *p, int64_t now_ns, bool restart_after);

/* Housekeeping: SIGKILL when the grace ran out. Returns true when the
 * process should be started now (a restart is due). */
bool run_proc_tick(run_proc *p, int64_t now_ns);

/* The next time run_proc_tick wants to be called (INT64_MAX: none). */
int64_t run_proc_next_event(const run_proc *p);

/* A human summary: "running (pid 123)", "exited with code 1", "killed by
 * SIGKILL", "waiting 10s to restart (restart 3)". Returns out. */
const char *run_proc_describe(const run_proc *p, int64_t now_ns, char *out, size_t outsz);

/* Become a child subreaper (prctl), so orphans of our processes are ours. */
int run_proc_subreaper(void);

/* SIGKILL every remaining descendant of this process (children listed in
 * /proc/self/task/ * /children, repeatedly) and reap them, for at most
 * `budget_ns`. Returns how many were killed. */
int run_proc_kill_descendants(int64_t budget_ns);

/* Signal names as scenarios write them ("TERM", "SIGKILL", "9"): the
 * number, or -1 when unknown. And back ("SIGTERM"). */
int run_signal_parse(const char *s);
const char *run_signal_name(int sig);

#endif
