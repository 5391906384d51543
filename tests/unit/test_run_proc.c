/* Process supervision: the kubelet back-off, start/exit/restart, SIGTERM
 * then SIGKILL to the whole group, missing programs, nothing left behind. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/fsutil.h"
#include "run_proc.h"
#include "support/testutil.h"

#define S INT64_C(1000000000)

static void test_backoff_kubelet_sequence(void **state)
{
    run_backoff b;
    run_backoff_init(&b, 1.0);
    /* first exit: restart at once */
    int64_t t = 100 * S;
    assert_int_equal(run_backoff_restart_at(&b, t), t);
    run_backoff_next(&b, t);
    /* then 10 s, 20 s, 40 s, 80 s, 160 s, 300 s, 300 s after each exit */
    int64_t want[] = {10, 20, 40, 80, 160, 300, 300, 300};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        t += 1 * S; /* it ran for a second, then crashed */
        int64_t at = run_backoff_restart_at(&b, t);
        assert_int_equal(at - t, want[i] * S);
        t = at;
        run_backoff_next(&b, t);
    }
}

static void test_backoff_resets_after_long_run(void **state)
{
    run_backoff b;
    run_backoff_init(&b, 1.0);
    int64_t t = 0;
    run_backoff_next(&b, t); /* restart 1 */
    t += 5 * S;
    t = run_backoff_restart_at(&b, t);
    run_backoff_next(&b, t); /* back-off now 20 s */
    /* ran 10 minutes and 1 s since the last restart: expired, at once */
    int64_t exit_t = t + 601 * S;
    assert_int_equal(run_backoff_restart_at(&b, exit_t), exit_t);
    run_backoff_next(&b, exit_t);
    assert_int_equal(b.cur_ns, 10 * S);
    /* exactly 10 minutes is not past it */
    run_backoff_next(&b, exit_t + 1 * S); /* 20 s */
    assert_int_equal(run_backoff_restart_at(&b, exit_t + 601 * S), exit_t + 621 * S);
}

static void test_backoff_scaled(void **state)
{
    run_backoff b;
    run_backoff_init(&b, 0.01); /* 100 ms doubling to 3 s, reset after 6 s */
    run_backoff_next(&b, 0);
    assert_int_equal(run_backoff_restart_at(&b, S / 10), S / 10 + S / 10);
    for (int i = 0; i < 10; i++)
        run_backoff_next(&b, 0);
    assert_int_equal(b.cur_ns, 3 * S);
    assert_int_equal(run_backoff_restart_at(&b, 6 * S + 1), 6 * S + 1);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * S + ts.tv_nsec;
}

/* Wait for the leader of p with a deadline; feed run_proc_reaped. */
static bool reap(run_proc *p, long timeout_ms)
{
    int64_t end = tu_now_ms() + timeout_ms;
    while (tu_now_ms() < end) {
        int st;
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) {
            run_proc_reaped(p, st, now_ns());
            return true;
        }
        run_proc_tick(p, now_ns());
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static char *envp_path[] = {"PATH=/usr/bin:/bin", NULL};

typedef struct fx {
    char *dir, *out, *err;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    f->dir = tu_tmpdir();
    f->out = fs_join(f->dir, "p.out");
    f->err = fs_join(f->dir, "p.err");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->out);
    free(f->err);
    free(f);
    return 0;
}

static char *slurp(const char *path)
{
    char *s = NULL;
    size_t n;
    if (fs_read_file(path, 0, &s, &n, NULL))
        return strdup("");
    return s;
}

static void test_exit_code_and_output(void **state)
{
    fx *f = *state;
    run_proc p;
    run_proc_init(&p, "t", RUN_RESTART_NEVER, S, 1.0);
    char *argv[] = {"sh", "-c", "echo out; echo err >&2; pwd; exit 3", NULL};
    efk_err err;
    efk_err_init(&err);
    assert_int_equal(run_proc_start(&p, argv, envp_path, f->dir, f->out, f->err, now_ns(), &err),
                     0);
    assert_int_equal(p.state, RUN_PROC_RUNNING);
    assert_true(getpgid(p.pid) == p.pid);
    assert_true(reap(&p, 5000));
    assert_int_equal(p.state, RUN_PROC_EXITED);
    assert_int_equal(p.exit_code, 3);
    assert_int_equal(p.exit_signal, 0);
    char *o = slurp(f->out), *e = slurp(f->err);
    char want[4200];
    snprintf(want, sizeof(want), "out\n%s\n", f->dir);
    assert_string_equal(o, want);
    assert_string_equal(e, "err\n");
    free(o);
    free(e);
    char d[200];
    assert_string_equal(run_proc_describe(&p, now_ns(), d, sizeof(d)),
                        "exited with code 3 (0 restarts)");
}

static void test_missing_program(void **state)
{
    fx *f = *state;
    run_proc p;
    run_proc_init(&p, "ghost", RUN_RESTART_ALWAYS, S, 1.0);
    char *argv[] = {"no-such-program-efksim", NULL};
    efk_err err;
    efk_err_init(&err);
    assert_int_equal(run_proc_start(&p, argv, envp_path, NULL, f->out, f->err, 0, &err), -ENOENT);
    assert_string_equal(err.msg, "process \"ghost\": program \"no-such-program-efksim\" not found "
                                 "or not executable on PATH /usr/bin:/bin");
    assert_int_equal(p.state, RUN_PROC_IDLE);
    /* a directory that does not exist: the exec step fails, reported */
    char *argv2[] = {"sh", "-c", "true", NULL};
    efk_err_init(&err);
    assert_int_equal(
        run_proc_start(&p, argv2, envp_path, "/nonexistent-dir-efksim", f->out, f->err, 0, &err),
        -ENOENT);
    assert_non_null(strstr(err.msg, "cannot run /usr/bin/sh in /nonexistent-dir-efksim"));
    assert_int_equal(p.state, RUN_PROC_IDLE);
}

static void test_restart_policies(void **state)
{
    fx *f = *state;
    char *ok[] = {"sh", "-c", "exit 0", NULL};
    char *bad[] = {"sh", "-c", "exit 1", NULL};
    efk_err err;
    run_proc p;
    /* on-failure: exit 0 is done */
    run_proc_init(&p, "a", RUN_RESTART_ON_FAILURE, S, 1.0);
    assert_int_equal(run_proc_start(&p, ok, envp_path, NULL, f->out, f->err, now_ns(), &err), 0);
    assert_true(reap(&p, 5000));
    assert_int_equal(p.state, RUN_PROC_EXITED);
    /* on-failure: exit 1 restarts at once the first time */
    run_proc_init(&p, "b", RUN_RESTART_ON_FAILURE, S, 1.0);
    assert_int_equal(run_proc_start(&p, bad, envp_path, NULL, f->out, f->err, now_ns(), &err), 0);
    assert_true(reap(&p, 5000));
    assert_int_equal(p.state, RUN_PROC_BACKOFF);
    assert_true(run_proc_tick(&p, now_ns()));
    assert_int_equal(p.restarts, 1);
    assert_int_equal(run_proc_start(&p, bad, envp_path, NULL, f->out, f->err, now_ns(), &err), 0);
    assert_true(reap(&p, 5000));
    /* the second exit waits 10 s */
    assert_int_equal(p.state, RUN_PROC_BACKOFF);
    assert_false(run_proc_tick(&p, p.exited_ns + 9 * S));
    assert_true(run_proc_tick(&p, p.exited_ns + 10 * S));
    assert_int_equal(p.restarts, 2);
    /* always: exit 0 restarts too; an intentional stop does not */
    run_proc_init(&p, "c", RUN_RESTART_ALWAYS, S, 1.0);
    assert_int_equal(run_proc_start(&p, ok, envp_path, NULL, f->out, f->err, now_ns(), &err), 0);
    assert_true(reap(&p, 5000));
    assert_int_equal(p.state, RUN_PROC_BACKOFF);
    run_proc_stop(&p, now_ns(), false);
    assert_int_equal(p.state, RUN_PROC_EXITED);
    assert_false(run_proc_tick(&p, now_ns() + 3600 * S));
    /* never */
    run_proc_init(&p, "d", RUN_RESTART_NEVER, S, 1.0);
    assert_int_equal(run_proc_start(&p, bad, envp_path, NULL, f->out, f->err, now_ns(), &err), 0);
    assert_true(reap(&p, 5000));
    assert_int_equal(p.state, RUN_PROC_EXITED);
    assert_int_equal(p.restarts, 0);
}

static void test_term_then_kill_group(void **state)
{
    fx *f = *state;
    run_proc p;
    run_proc_init(&p, "stubborn", RUN_RESTART_ALWAYS, S / 5, 1.0);
    /* ignores TERM, and has a child in its group that ignores it too */
    char *argv[] = {"sh", "-c",
                    "trap '' TERM; sh -c 'trap \"\" TERM; echo $$ > child.pid; "
                    "while :; do sleep 1; done' & while :; do sleep 1; done",
                    NULL};
    efk_err err;
    efk_err_init(&err);
    assert_int_equal(run_proc_start(&p, argv, envp_path, f->dir, f->out, f->err, now_ns(), &err),
                     0);
    char *pidfile = fs_join(f->dir, "child.pid");
    int64_t end = tu_now_ms() + 5000;
    char *s = NULL;
    while (tu_now_ms() < end) {
        s = slurp(pidfile);
        if (s[0] && strchr(s, '\n'))
            break;
        free(s);
        s = NULL;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    assert_non_null(s);
    pid_t child = (pid_t)atoi(s);
    free(s);
    free(pidfile);
    assert_true(child > 0);
    assert_int_equal(getpgid(child), p.pid);
    int64_t t0 = now_ns();
    run_proc_stop(&p, t0, false);
    assert_int_equal(p.state, RUN_PROC_STOPPING);
    assert_true(reap(&p, 5000));
    /* TERM was ignored; it died of KILL after the grace, and did not restart */
    assert_int_equal(p.exit_signal, SIGKILL);
    assert_true(now_ns() - t0 >= S / 5);
    assert_int_equal(p.state, RUN_PROC_EXITED);
    /* the child is gone too (killed with the group); reap it as the
     * subreaper would, it was reparented to init or to us */
    end = tu_now_ms() + 5000;
    while (kill(child, 0) == 0 && tu_now_ms() < end) {
        waitpid(child, NULL, WNOHANG);
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    assert_int_not_equal(kill(child, 0), 0);
}

static void test_restart_action(void **state)
{
    fx *f = *state;
    run_proc p;
    run_proc_init(&p, "r", RUN_RESTART_NEVER, S, 1.0);
    char *argv[] = {"sh", "-c", "exec sleep 30", NULL};
    efk_err err;
    assert_int_equal(run_proc_start(&p, argv, envp_path, NULL, f->out, f->err, now_ns(), &err), 0);
    run_proc_stop(&p, now_ns(), true);
    assert_true(reap(&p, 5000));
    assert_int_equal(p.exit_signal, SIGTERM);
    assert_int_equal(p.state, RUN_PROC_BACKOFF);
    assert_true(run_proc_tick(&p, now_ns()));
    assert_int_equal(p.restarts, 1);
    assert_int_equal(run_proc_start(&p, argv, envp_path, NULL, f->out, f->err, now_ns(), &err), 0);
    assert_int_equal(p.starts, 2);
    assert_int_equal(run_proc_signal(&p, SIGKILL), 0);
    assert_true(reap(&p, 5000));
    assert_int_equal(p.exit_signal, SIGKILL);
    assert_int_equal(p.state, RUN_PROC_EXITED);
}

static void test_kill_descendants(void **state)
{
    fx *f = *state;
    assert_int_equal(run_proc_subreaper(), 0);
    run_proc p;
    run_proc_init(&p, "daemon", RUN_RESTART_NEVER, S, 1.0);
    /* a daemon that leaves its group and its parent: setsid + double fork */
    char *argv[] = {"sh", "-c", "setsid sh -c 'sleep 60 & echo $! > d.pid' ; exit 0", NULL};
    efk_err err;
    assert_int_equal(run_proc_start(&p, argv, envp_path, f->dir, f->out, f->err, now_ns(), &err),
                     0);
    assert_true(reap(&p, 5000));
    char *pidfile = fs_join(f->dir, "d.pid");
    int64_t end = tu_now_ms() + 5000;
    pid_t d = 0;
    while (tu_now_ms() < end && d <= 0) {
        char *s = slurp(pidfile);
        if (strchr(s, '\n'))
            d = (pid_t)atoi(s);
        free(s);
    }
    free(pidfile);
    assert_true(d > 0);
    assert_int_equal(kill(d, 0), 0); /* alive, out of the group */
    assert_true(run_proc_kill_descendants(5 * S) >= 1);
    assert_int_not_equal(kill(d, 0), 0);
}

static void test_signal_names(void **state)
{
    assert_int_equal(run_signal_parse("TERM"), SIGTERM);
    assert_int_equal(run_signal_parse("SIGKILL"), SIGKILL);
    assert_int_equal(run_signal_parse("9"), 9);
    assert_int_equal(run_signal_parse("NOPE"), -1);
    assert_int_equal(run_signal_parse("0"), -1);
    assert_string_equal(run_signal_name(SIGTERM), "SIGTERM");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_kubelet_sequence),
        cmocka_unit_test(test_backoff_resets_after_long_run),
        cmocka_unit_test(test_backoff_scaled),
        cmocka_unit_test_setup_teardown(test_exit_code_and_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_program, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_term_then_kill_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_action, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_descendants, setup, teardown),
        cmocka_unit_test(test_signal_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
