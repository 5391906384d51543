#include "run_session.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/duration.h"
#include "core/fsutil.h"
#include "run_fakes.h"
#include "workdir.h"

extern char **environ;

typedef enum exp_state { EXP_PENDING = 0, EXP_PASSED, EXP_FAILED } exp_state;

typedef struct exp_rt {
    exp_state state;
    char *msg;     /* the failure, when failed */
    int64_t at_ns; /* when it settled */
} exp_rt;

struct run_session {
    run_scenario *sc;
    run_opts opts;
    run_workdir wd;
    bool wd_ok;
    efk_runtime rt;
    run_fakes *fakes;
    run_world w;
    run_proc_rt *procs;
    run_step_rt *steps;
    run_log *logs;
    size_t nlogs_open;
    exp_rt *exps;
    run_result *res;
    bool error;   /* could not run */
    bool aborted; /* stop the loop now */
    bool timed_out;
    bool interrupted;
    uint64_t seed;
    char bin[PATH_MAX];
};

static const char *const BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const char *run_self_dir(void)
{
    static char dir[PATH_MAX];
    if (dir[0])
        return dir;
    ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
    if (n <= 0) {
        snprintf(dir, sizeof(dir), ".");
        return dir;
    }
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    return dir;
}

static int64_t now(run_session *s)
{
    return clock_mono_ns(s->rt.clock);
}

static int64_t elapsed(run_session *s)
{
    return now(s) - s->w.start_ns;
}

static void add_msg(run_session *s, const char *fmt, va_list ap)
{
    char *m = NULL;
    if (vasprintf(&m, fmt, ap) < 0)
        m = NULL;
    if (m)
        run_result_add(s->res, m);
    free(m);
}

/* Record a failure (the scenario fails but goes on). */
static void fail(run_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(run_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_msg(s, fmt, ap);
    va_end(ap);
    if (s->res->status == RUN_PASS)
        s->res->status = RUN_FAIL;
}

/* The scenario cannot go on (exit 2 material). */
static void error_out(run_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void error_out(run_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_msg(s, fmt, ap);
    va_end(ap);
    s->res->status = RUN_ERROR;
    s->error = true;
    s->aborted = true;
}

static const char *dur(int64_t ns, char *b, size_t bsz)
{
    return duration_render(ns, b, bsz);
}

/* ---- setup ---- */

static int set_var(run_session *s, const char *name, const char *value)
{
    int rc = run_vars_set(s->sc->vars, name, value);
    if (rc)
        error_out(s, "cannot set ${%s}: %s", name, strerror(-rc));
    return rc;
}

static int setup_vars(run_session *s)
{
    char tmp[PATH_MAX + 64];
    int rc;
    const char *bin = s->opts.bin_dir;
    if (!bin)
        bin = getenv("EFKSIM_BIN");
    if (!bin || !*bin)
        bin = run_self_dir();
    /* absolute: processes run in the work dir, not where efksim started */
    if (!realpath(bin, s->bin))
        snprintf(s->bin, sizeof(s->bin), "%s", bin);
    char scdir[PATH_MAX];
    if (!realpath(run_doc_dir(s->sc->doc), scdir))
        snprintf(scdir, sizeof(scdir), "%s", run_doc_dir(s->sc->doc));
    snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)s->seed);
    if ((rc = set_var(s, "workdir", s->wd.dir)) || (rc = set_var(s, "bin", s->bin)) ||
        (rc = set_var(s, "ca", s->wd.ca_path)) || (rc = set_var(s, "log_dir", s->wd.log_dir)) ||
        (rc = set_var(s, "seed", tmp)) || (rc = set_var(s, "scenario.dir", scdir)) ||
        (rc = set_var(s, "scenario.name", s->sc->name)))
        return rc;
    json_t *vars = json_object_get(run_doc_root(s->sc->doc), "vars");
    const char *k;
    json_t *v;
    json_object_foreach (vars, k, v) {
        char name[RUN_TMPL_NAME_MAX + 8];
        snprintf(name, sizeof(name), "vars.%s", k);
        char *val = json_is_string(v) ? strdup(json_string_value(v))
                                      : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        rc = val ? set_var(s, name, val) : -ENOMEM;
        free(val);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < s->nlogs_open; i++) {
        char name[RUN_TMPL_NAME_MAX];
        snprintf(name, sizeof(name), "log.%s.path", s->logs[i].spec.stream);
        if ((rc = set_var(s, name, s->logs[i].path)))
            return rc;
        snprintf(name, sizeof(name), "log.%s.container_id", s->logs[i].spec.stream);
        if ((rc = set_var(s, name, s->logs[i].id)))
            return rc;
    }
    if ((rc = run_fakes_set_vars(s->fakes, s->sc->vars))) {
        error_out(s, "cannot set the fakes' template values: %s", strerror(-rc));
        return rc;
    }
    return 0;
}

static int render_files(run_session *s)
{
    for (size_t i = 0; i < s->sc->nfiles; i++) {
        const run_file_spec *f = &s->sc->files[i];
        char *path = fs_join(s->wd.dir, f->path);
        char *dir = path ? strdup(path) : NULL;
        if (!path || !dir) {
            free(path);
            free(dir);
            error_out(s, "out of memory");
            return -ENOMEM;
        }
        *strrchr(dir, '/') = '\0';
        efk_err e;
        efk_err_init(&e);
        int rc = fs_mkdirs(dir, 0755, &e);
        free(dir);
        buf b;
        buf_init(&b, (size_t)64 << 20);
        if (!rc) {
            if (f->render)
                rc = run_tmpl_expand(s->sc->vars, f->text, f->len, &b, &e);
            else
                rc = buf_append(&b, f->text, f->len);
        }
        if (!rc)
            rc = fs_write_file(path, b.data ? b.data : "", b.len, f->mode, &e);
        if (!rc && chmod(path, f->mode) < 0)
            rc = -errno;
        buf_cleanup(&b);
        if (rc) {
            error_out(s, "%s: cannot render %s: %s", f->ptr, f->path,
                      e.msg[0] ? e.msg : strerror(-rc));
            free(path);
            return rc;
        }
        free(path);
    }
    return 0;
}

static int open_logs(run_session *s)
{
    s->logs = calloc(s->sc->nlogs + 1, sizeof(*s->logs));
    if (!s->logs) {
        error_out(s, "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < s->sc->nlogs; i++) {
        efk_err e;
        efk_err_init(&e);
        int rc = run_log_open(&s->logs[i], &s->sc->logs[i].spec, s->wd.log_dir, s->seed, &e);
        if (rc) {
            error_out(s, "%s: %s", s->sc->logs[i].ptr, e.msg);
            return rc;
        }
        s->nlogs_open++;
    }
    return 0;
}

static int setup(run_session *s)
{
    efk_err e;
    efk_err_init(&e);
    run_scenario *sc = s->sc;
    if (sc->has_seed) {
        s->seed = sc->seed;
    } else {
        if (getrandom(&s->seed, sizeof(s->seed), 0) != (ssize_t)sizeof(s->seed))
            s->seed = (uint64_t)getpid() * 2654435761u ^ (uint64_t)clock_wall_ns(clock_system());
        s->seed &= INT64_MAX; /* printable and re-usable as a JSON integer */
    }
    s->res->seed = s->seed;
    s->res->has_seed = true;
    int rc = run_workdir_init(&s->wd, s->opts.workdir, &e);
    if (rc) {
        error_out(s, "cannot make the work dir: %s", e.msg);
        return rc;
    }
    s->wd_ok = true;
    s->res->workdir = strdup(s->wd.dir);
    const char *subdirs[] = {"proc", "home", "tmp", NULL};
    for (const char **d = subdirs; *d; d++) {
        char *p = fs_join(s->wd.dir, *d);
        rc = p ? fs_mkdirs(p, 0755, &e) : -ENOMEM;
        free(p);
        if (rc) {
            error_out(s, "cannot make the work dir: %s", e.msg);
            return rc;
        }
    }
    run_workdir_runtime(&s->wd, &s->rt);
    s->rt.clock = clock_system();
    s->rt.seed = s->seed;
    s->rt.journal_files = true;
    s->w.clock = s->rt.clock;
    s->w.workdir = s->wd.dir;
    s->w.start_ns = now(s);
    if ((rc = run_fakes_start(sc->fakes, &s->rt, &s->wd, &s->fakes, &e))) {
        error_out(s, "%s", e.msg);
        return rc;
    }
    run_fakes_world(s->fakes, &s->w);
    if ((rc = open_logs(s)) || (rc = setup_vars(s)) || (rc = render_files(s)))
        return rc;
    s->procs = calloc(sc->nprocs + 1, sizeof(*s->procs));
    s->steps = calloc(sc->nsteps + 1, sizeof(*s->steps));
    s->exps = calloc(sc->nexpects + 1, sizeof(*s->exps));
    if (!s->procs || !s->steps || !s->exps) {
        error_out(s, "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < sc->nprocs; i++) {
        const run_proc_spec *ps = &sc->procs[i];
        run_proc_init(&s->procs[i].proc, ps->name, ps->restart, ps->grace_ns, sc->backoff_scale);
        char name[300];
        snprintf(name, sizeof(name), "proc/%s.stdout", ps->name);
        s->procs[i].out_path = fs_join(s->wd.dir, name);
        snprintf(name, sizeof(name), "proc/%s.stderr", ps->name);
        s->procs[i].err_path = fs_join(s->wd.dir, name);
        if (!s->procs[i].out_path || !s->procs[i].err_path) {
            error_out(s, "out of memory");
            return -ENOMEM;
        }
    }
    s->w.procs = s->procs;
    s->w.nprocs = sc->nprocs;
    s->w.steps = s->steps;
    s->w.nsteps = sc->nsteps;
    s->w.logs = s->logs;
    s->w.nlogs = s->nlogs_open;
    s->w.vars = sc->vars;
    /* time starts now: everything before was set-up */
    s->w.start_ns = now(s);
    return 0;
}

/* ---- processes ---- */

/* The environment of a process: minimal and documented (PATH with ${bin}
 * first, HOME and TMPDIR in the work dir, LANG, TZ), the serve contract
 * (EFKSIM_*, KUBECONFIG, ...) for its identity, what it inherits by name,
 * then its own env (templates). */
static int build_env(run_session *s, const run_proc_spec *ps, char ***out, efk_err *e)
{
    char **v = NULL;
    size_t n = 0;
    char path[PATH_MAX + 256], home[PATH_MAX], tmp[PATH_MAX];
    snprintf(path, sizeof(path), "%s:%s", s->bin, BASE_PATH);
    snprintf(home, sizeof(home), "%s/home", s->wd.dir);
    snprintf(tmp, sizeof(tmp), "%s/tmp", s->wd.dir);
    int rc;
    if ((rc = run_envv_set(&v, &n, "PATH", path)) || (rc = run_envv_set(&v, &n, "HOME", home)) ||
        (rc = run_envv_set(&v, &n, "TMPDIR", tmp)) ||
        (rc = run_envv_set(&v, &n, "LANG", "C.UTF-8")) ||
        (rc = run_envv_set(&v, &n, "TZ", "UTC")) ||
        (rc = run_envv_set(&v, &n, "EFKSIM_WORKDIR", s->wd.dir)) ||
        (rc = run_envv_set(&v, &n, "EFKSIM_CA", s->wd.ca_path)) ||
        (rc = run_envv_set(&v, &n, "EFKSIM_BIN", s->bin)) ||
        (rc = run_envv_set(&v, &n, "EFKSIM_LOG_DIR", s->wd.log_dir)))
        goto nomem;
    if ((rc = run_fakes_env(s->fakes, ps->identity, &v, &n)))
        goto nomem;
    for (size_t i = 0; i < ps->ninherit; i++) {
        const char *val = getenv(ps->inherit[i]);
        if (val && (rc = run_envv_set(&v, &n, ps->inherit[i], val)))
            goto nomem;
    }
    for (size_t i = 0; i < ps->nenv; i++) {
        char *val = NULL;
        if ((rc = run_tmpl_expand_str(s->sc->vars, ps->env_values[i], &val, e))) {
            run_envv_free(v);
            return rc;
        }
        rc = run_envv_set(&v, &n, ps->env_names[i], val);
        free(val);
        if (rc)
            goto nomem;
    }
    if (!v && (rc = run_envv_set(&v, &n, "PATH", path)))
        goto nomem;
    *out = v;
    return 0;
nomem:
    run_envv_free(v);
    return efk_err_set(e, -ENOMEM, "out of memory");
}

static int start_proc(run_session *s, size_t i)
{
    const run_proc_spec *ps = &s->sc->procs[i];
    run_proc_rt *pr = &s->procs[i];
    efk_err e;
    efk_err_init(&e);
    char **argv = calloc(ps->argc + 1, sizeof(*argv));
    char **envp = NULL;
    char *cwd = NULL;
    int rc = argv ? 0 : -ENOMEM;
    for (size_t k = 0; !rc && k < ps->argc; k++)
        rc = run_tmpl_expand_str(s->sc->vars, ps->argv[k], &argv[k], &e);
    if (!rc)
        rc = build_env(s, ps, &envp, &e);
    if (!rc && ps->cwd)
        rc = run_tmpl_expand_str(s->sc->vars, ps->cwd, &cwd, &e);
    if (!rc)
        rc = run_proc_start(&pr->proc, argv, envp, cwd ? cwd : s->wd.dir, pr->out_path,
                            pr->err_path, now(s), &e);
    if (!rc) {
        pr->ready = false;
        /* a marker in the output files, so people reading them see restarts */
    }
    run_envv_free(argv);
    run_envv_free(envp);
    free(cwd);
    if (rc)
        error_out(s, "%s: %s", ps->ptr, e.msg[0] ? e.msg : strerror(-rc));
    return rc;
}

static void reap(run_session *s)
{
    for (;;) {
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid <= 0)
            return;
        for (size_t i = 0; i < s->sc->nprocs; i++) {
            if (s->procs[i].proc.pid == pid) {
                run_proc_reaped(&s->procs[i].proc, st, now(s));
                s->procs[i].ready = false;
            }
        }
        /* anything else was an orphan we adopted as subreaper: reaped */
    }
}

static void tick_procs(run_session *s)
{
    for (size_t i = 0; i < s->sc->nprocs && !s->aborted; i++) {
        const run_proc_spec *ps = &s->sc->procs[i];
        run_proc_rt *pr = &s->procs[i];
        if (run_proc_tick(&pr->proc, now(s))) {
            if (start_proc(s, i))
                return;
            continue;
        }
        if (pr->proc.state == RUN_PROC_IDLE && !ps->manual && pr->proc.starts == 0) {
            int ok = 1;
            if (ps->start) {
                ok = run_pred_eval(ps->start, &s->w, NULL);
                if (ok < 0) {
                    buf b;
                    buf_init(&b, 4096);
                    run_pred_eval(ps->start, &s->w, &b);
                    error_out(s, "%s/start: cannot evaluate: %s", ps->ptr, b.data ? b.data : "");
                    buf_cleanup(&b);
                    return;
                }
            }
            if (ok && start_proc(s, i))
                return;
        }
        if (pr->proc.state == RUN_PROC_RUNNING && !pr->ready) {
            int ok = 1;
            if (ps->ready)
                ok = run_pred_eval(ps->ready, &s->w, NULL);
            if (ok > 0) {
                pr->ready = true;
                pr->ready_ns = now(s);
            } else if (s->opts.check && ps->ready_timeout_ns && !pr->ready_reported &&
                       now(s) - pr->proc.started_ns > ps->ready_timeout_ns) {
                buf b, d;
                buf_init(&b, 16384);
                buf_init(&d, 4096);
                run_pred_eval(ps->ready, &s->w, &b);
                run_pred_describe(ps->ready, &d);
                run_pred_context(ps->ready, &s->w, &b);
                char t[32];
                fail(s, "process %s was not ready within %s\n    expected: %s\n    observed: %s",
                     ps->name, dur(ps->ready_timeout_ns, t, sizeof(t)), d.data ? d.data : "",
                     b.data ? b.data : "");
                buf_cleanup(&b);
                buf_cleanup(&d);
                pr->ready_reported = true;
            }
        }
    }
}

/* Stop every process: TERM to each group, KILL after its grace, then any
 * descendant left. */
static void stop_all(run_session *s)
{
    for (size_t i = 0; i < s->sc->nprocs; i++)
        run_proc_stop(&s->procs[i].proc, now(s), false);
    int64_t deadline = now(s);
    for (size_t i = 0; i < s->sc->nprocs; i++)
        if (s->procs[i].proc.state == RUN_PROC_STOPPING &&
            s->procs[i].proc.kill_at_ns + INT64_C(2000000000) > deadline)
            deadline = s->procs[i].proc.kill_at_ns + INT64_C(2000000000);
    for (;;) {
        reap(s);
        bool any = false;
        for (size_t i = 0; i < s->sc->nprocs; i++) {
            run_proc_tick(&s->procs[i].proc, now(s));
            any = any || s->procs[i].proc.state == RUN_PROC_STOPPING;
        }
        if (!any || now(s) > deadline)
            break;
        poll(NULL, 0, 5);
    }
    run_proc_kill_descendants(INT64_C(2000000000));
    reap(s);
}

/* ---- timeline ---- */

static int exec_action(run_session *s, const run_step_spec *st, const run_action *a)
{
    efk_err e;
    efk_err_init(&e);
    int rc = 0;
    run_proc_rt *pr = NULL;
    if (a->kind >= RUN_A_PROCESS_START && a->kind <= RUN_A_PROCESS_RESTART)
        pr = &s->procs[a->proc];
    switch (a->kind) {
    case RUN_A_WAIT:
        return 0; /* handled by the step */
    case RUN_A_PROCESS_START:
        if (pr->proc.state == RUN_PROC_RUNNING || pr->proc.state == RUN_PROC_STOPPING) {
            fail(s, "%s: process %s is already running", a->ptr, pr->proc.name);
            return 0;
        }
        return start_proc(s, (size_t)a->proc);
    case RUN_A_PROCESS_STOP:
        run_proc_stop(&pr->proc, now(s), false);
        return 0;
    case RUN_A_PROCESS_RESTART:
        run_proc_stop(&pr->proc, now(s), true);
        return 0;
    case RUN_A_PROCESS_KILL:
        if ((rc = run_proc_signal(&pr->proc, a->sig)))
            fail(s, "%s: process %s is not running (%s)", a->ptr, pr->proc.name, strerror(-rc));
        return 0;
    case RUN_A_LOGS_WRITE:
        rc = run_log_write(&s->logs[a->log], a->lines, clock_wall_ns(s->rt.clock), &e);
        run_fakes_expected(s->fakes, s->logs[a->log].spec.stream,
                           run_log_produced(&s->logs[a->log]));
        break;
    case RUN_A_LOGS_ROTATE:
        rc = run_log_rotate(&s->logs[a->log], a->rotate, &e);
        break;
    case RUN_A_LOGS_TRUNCATE:
        rc = run_log_truncate(&s->logs[a->log], &e);
        break;
    default:
        rc = run_fakes_exec(s->fakes, a, &e);
        break;
    }
    if (rc)
        fail(s, "%s (step %s): %s", a->ptr, st->id, e.msg[0] ? e.msg : strerror(-rc));
    return 0;
}

/* Run the step's actions from where it is, until a wait or the end. */
static void continue_step(run_session *s, size_t i)
{
    const run_step_spec *st = &s->sc->steps[i];
    run_step_rt *rt = &s->steps[i];
    while (rt->next_action < st->nactions && !s->aborted) {
        const run_action *a = &st->actions[rt->next_action++];
        if (a->kind == RUN_A_WAIT) {
            rt->resume_ns = now(s) + a->wait_ns;
            return;
        }
        exec_action(s, st, a);
    }
    rt->active = false;
    rt->runs++;
    rt->last_ns = now(s);
    if (st->repeat && (st->times == 0 || rt->runs < st->times))
        rt->due_ns = rt->first_ns + (int64_t)rt->runs * st->every_ns;
    else
        rt->done = true;
}

static void tick_timeline(run_session *s)
{
    for (size_t i = 0; i < s->sc->nsteps && !s->aborted; i++) {
        const run_step_spec *st = &s->sc->steps[i];
        run_step_rt *rt = &s->steps[i];
        if (rt->done)
            continue;
        if (rt->active) {
            if (now(s) >= rt->resume_ns)
                continue_step(s, i);
            continue;
        }
        if (rt->runs == 0 && st->has_at && elapsed(s) < st->at_ns)
            continue;
        if (rt->runs > 0 && now(s) < rt->due_ns)
            continue;
        if (rt->runs > 0 && st->until) {
            int u = run_pred_eval(st->until, &s->w, NULL);
            if (u > 0) {
                rt->done = true;
                continue;
            }
        }
        if (st->when) {
            int ok = run_pred_eval(st->when, &s->w, NULL);
            if (ok < 0) {
                buf b;
                buf_init(&b, 4096);
                run_pred_eval(st->when, &s->w, &b);
                error_out(s, "%s/when: cannot evaluate: %s", st->ptr, b.data ? b.data : "");
                buf_cleanup(&b);
                return;
            }
            if (!ok)
                continue;
        }
        rt->active = true;
        rt->next_action = 0;
        if (rt->runs == 0)
            rt->first_ns = now(s);
        continue_step(s, i);
    }
}

/* ---- expectations ---- */

static void settle(run_session *s, size_t i, bool ok, const char *why, buf *obs, bool context)
{
    const run_expect_spec *es = &s->sc->expects[i];
    exp_rt *x = &s->exps[i];
    x->state = ok ? EXP_PASSED : EXP_FAILED;
    x->at_ns = elapsed(s);
    s->res->checked++;
    if (ok) {
        s->res->passed++;
        return;
    }
    buf d;
    buf_init(&d, 8192);
    run_pred_describe(es->pred, &d);
    buf ctx;
    buf_init(&ctx, 16384);
    if (context)
        run_pred_context(es->pred, &s->w, &ctx);
    char t[32];
    fail(s, "%s: %s\n    expected: %s%s\n    observed: %s (at %s)%s", es->name, why,
         es->mode == RUN_EXPECT_NEVER ? "never " : "", d.data ? d.data : "",
         obs && obs->data ? obs->data : "", dur(x->at_ns - x->at_ns % 1000000, t, sizeof(t)),
         ctx.data ? ctx.data : "");
    buf_cleanup(&d);
    buf_cleanup(&ctx);
}

/* The anchor of an expectation: the start, or when its `from` step first ran.
 * false while that step has not run. */
static bool anchor(run_session *s, const run_expect_spec *es, int64_t *at)
{
    if (es->from_step < 0) {
        *at = s->w.start_ns;
        return true;
    }
    const run_step_rt *rt = &s->steps[es->from_step];
    if (!rt->runs && !rt->active)
        return false;
    *at = rt->first_ns;
    return true;
}

static void tick_expect(run_session *s, bool final)
{
    for (size_t i = 0; i < s->sc->nexpects && !s->aborted; i++) {
        const run_expect_spec *es = &s->sc->expects[i];
        exp_rt *x = &s->exps[i];
        if (x->state != EXP_PENDING || es->mode == RUN_EXPECT_END)
            continue;
        int64_t a;
        if (!anchor(s, es, &a)) {
            if (final) {
                buf b;
                buf_init(&b, 256);
                if (buf_printf(&b, "step \"%s\" never ran", s->sc->step_names[es->from_step])) {
                }
                if (es->mode == RUN_EXPECT_WITHIN)
                    settle(s, i, false, "its \"from\" step never ran", &b, false);
                else {
                    /* nothing to check against: a window that never opened */
                    settle(s, i, false, "its \"from\" step never ran, so it was never checked", &b,
                           false);
                }
                buf_cleanup(&b);
            }
            continue;
        }
        buf obs;
        buf_init(&obs, 16384);
        int r = run_pred_eval(es->pred, &s->w, &obs);
        char t[32];
        if (r < 0) {
            settle(s, i, false, "could not be evaluated", &obs, false);
        } else if (es->mode == RUN_EXPECT_WITHIN) {
            if (r)
                settle(s, i, true, NULL, NULL, false);
            else if (now(s) > a + es->within_ns || final) {
                char why[96];
                snprintf(why, sizeof(why), "did not hold within %s%s%s",
                         dur(es->within_ns, t, sizeof(t)), es->from_step >= 0 ? " of step " : "",
                         es->from_step >= 0 ? s->sc->step_names[es->from_step] : "");
                settle(s, i, false, why, &obs, true);
            }
        } else if (es->mode == RUN_EXPECT_ALWAYS && !r) {
            settle(s, i, false, "stopped holding", &obs, true);
        } else if (es->mode == RUN_EXPECT_NEVER && r) {
            settle(s, i, false, "held, and must never hold", &obs, true);
        }
        buf_cleanup(&obs);
    }
}

/* An exchange is journaled once its answer is complete on the server's side,
 * which can be a moment after the client has it (and has exited). Before the
 * end-of-run checks, let the journals settle: until no entry arrived for
 * SETTLE_TICKS ticks, for at most SETTLE_MAX_NS. */
#define SETTLE_TICKS  3
#define SETTLE_MAX_NS (INT64_C(500) * 1000000)

static void settle_journals(run_session *s)
{
    uint64_t last[RUN_FAKE_N] = {0};
    int quiet = 0;
    int64_t until = now(s) + SETTLE_MAX_NS;
    while (quiet < SETTLE_TICKS && now(s) < until) {
        bool changed = false;
        for (int f = 0; f < RUN_FAKE_N; f++) {
            if (!s->w.journals[f])
                continue;
            uint64_t added, dropped, seq;
            journal_stats(s->w.journals[f], &added, &dropped, &seq);
            if (seq != last[f])
                changed = true;
            last[f] = seq;
        }
        quiet = changed ? 0 : quiet + 1;
        if (quiet < SETTLE_TICKS)
            poll(NULL, 0, (int)(RUN_TICK_NS / 1000000));
    }
}

static void end_expect(run_session *s)
{
    settle_journals(s);
    /* the last check of always/never, then the end-of-run ones */
    tick_expect(s, true);
    for (size_t i = 0; i < s->sc->nexpects; i++) {
        const run_expect_spec *es = &s->sc->expects[i];
        exp_rt *x = &s->exps[i];
        if (x->state != EXP_PENDING)
            continue;
        if (es->mode == RUN_EXPECT_ALWAYS || es->mode == RUN_EXPECT_NEVER) {
            settle(s, i, true, NULL, NULL, false);
            continue;
        }
        buf obs;
        buf_init(&obs, 16384);
        int r = run_pred_eval(es->pred, &s->w, &obs);
        if (r > 0)
            settle(s, i, true, NULL, NULL, false);
        else
            settle(s, i, false,
                   r < 0 ? "could not be evaluated at the end" : "did not hold at the end", &obs,
                   r == 0);
        buf_cleanup(&obs);
    }
}

/* ---- the loop ---- */

static bool finished(run_session *s)
{
    if (elapsed(s) < s->sc->duration_ns)
        return false;
    for (size_t i = 0; i < s->sc->nsteps; i++) {
        const run_step_spec *st = &s->sc->steps[i];
        const run_step_rt *rt = &s->steps[i];
        if (rt->done)
            continue;
        /* a step that repeats without end never holds up the end */
        if (st->repeat && st->times == 0 && rt->runs > 0 && !rt->active)
            continue;
        return false;
    }
    for (size_t i = 0; i < s->sc->nexpects; i++)
        if (s->sc->expects[i].mode == RUN_EXPECT_WITHIN && s->exps[i].state == EXP_PENDING)
            return false;
    /* log generators still owing lines hold up the end too */
    for (size_t i = 0; i < s->nlogs_open; i++)
        if (run_log_next_due(&s->logs[i]) != INT64_MAX)
            return false;
    return true;
}

static void report_pending(run_session *s)
{
    char t[32];
    buf b;
    buf_init(&b, 32768);
    int rc = buf_printf(&b, "timed out after %s", dur(s->sc->timeout_ns, t, sizeof(t)));
    for (size_t i = 0; !rc && i < s->sc->nsteps; i++) {
        const run_step_spec *st = &s->sc->steps[i];
        const run_step_rt *rt = &s->steps[i];
        if (rt->done || (st->repeat && st->times == 0 && rt->runs > 0))
            continue;
        rc = buf_printf(&b, "\n    step %s never %s", st->id, rt->runs ? "finished" : "ran");
        if (!rc && st->when && !rt->runs) {
            rc = buf_puts(&b, ": waiting for ");
            run_pred_describe(st->when, &b);
            buf obs;
            buf_init(&obs, 4096);
            run_pred_eval(st->when, &s->w, &obs);
            rc = buf_printf(&b, " (observed %s)", obs.data ? obs.data : "");
            buf_cleanup(&obs);
        }
    }
    fail(s, "%s", b.data ? b.data : "timed out");
    buf_cleanup(&b);
}

static int64_t next_wakeup(run_session *s)
{
    int64_t t = now(s) + RUN_TICK_NS;
    for (size_t i = 0; i < s->sc->nprocs; i++) {
        int64_t e = run_proc_next_event(&s->procs[i].proc);
        if (e < t)
            t = e;
    }
    for (size_t i = 0; i < s->nlogs_open; i++) {
        int64_t d = run_log_next_due(&s->logs[i]);
        if (d != INT64_MAX && s->w.start_ns + d < t)
            t = s->w.start_ns + d;
    }
    return t;
}

static void loop(run_session *s)
{
    for (;;) {
        if (s->opts.stop && *s->opts.stop) {
            s->interrupted = true;
            return;
        }
        reap(s);
        /* lines owed first: what a program starting now reads is there */
        for (size_t i = 0; i < s->nlogs_open && !s->aborted; i++) {
            efk_err e;
            efk_err_init(&e);
            uint64_t before = run_log_produced(&s->logs[i]);
            if (run_log_tick(&s->logs[i], elapsed(s), clock_wall_ns(s->rt.clock), &e))
                error_out(s, "%s: %s", s->sc->logs[i].ptr, e.msg);
            if (run_log_produced(&s->logs[i]) != before)
                run_fakes_expected(s->fakes, s->logs[i].spec.stream, run_log_produced(&s->logs[i]));
        }
        tick_procs(s);
        tick_timeline(s);
        if (s->opts.check)
            tick_expect(s, false);
        if (s->aborted)
            return;
        if (s->opts.check && finished(s))
            return;
        if (s->opts.check && elapsed(s) >= s->sc->timeout_ns) {
            s->timed_out = true;
            return;
        }
        int64_t wake = next_wakeup(s) - now(s);
        if (wake > 0)
            poll(NULL, 0, (int)((wake + 999999) / 1000000));
    }
}

static void teardown(run_session *s)
{
    if (s->procs)
        stop_all(s);
    /* what the generators produced, for the accounting's "expected" */
    for (size_t i = 0; i < s->nlogs_open && s->fakes; i++)
        run_fakes_expected(s->fakes, s->logs[i].spec.stream, run_log_produced(&s->logs[i]));
    if (s->fakes) {
        json_t *st = run_fakes_state(s->fakes);
        char *path = fs_join(s->wd.dir, "state.json");
        char *text = st ? json_dumps(st, JSON_INDENT(2)) : NULL;
        if (path && text && fs_write_file(path, text, strlen(text), 0644, NULL)) {
            /* an artifact only */
        }
        free(text);
        free(path);
        json_decref(st);
        run_fakes_stop(s->fakes);
        s->fakes = NULL;
    }
    for (size_t i = 0; i < s->nlogs_open; i++)
        run_log_close(&s->logs[i]);
    free(s->logs);
    for (size_t i = 0; s->procs && i < s->sc->nprocs; i++) {
        free(s->procs[i].out_path);
        free(s->procs[i].err_path);
    }
    free(s->procs);
    free(s->steps);
    for (size_t i = 0; s->exps && i < s->sc->nexpects; i++)
        free(s->exps[i].msg);
    free(s->exps);
}

void run_session_run(run_scenario *sc, const run_opts *o, run_result *res)
{
    run_session s;
    memset(&s, 0, sizeof(s));
    s.sc = sc;
    s.opts = *o;
    s.res = res;
    res->status = RUN_PASS;
    int64_t t0 = clock_mono_ns(clock_system());
    run_proc_subreaper();
    if (setup(&s) == 0) {
        loop(&s);
        if (s.interrupted) {
            error_out(&s, "interrupted");
        } else if (!s.aborted) {
            if (s.timed_out)
                report_pending(&s);
            end_expect(&s);
        }
    }
    teardown(&s);
    res->dur_ns = clock_mono_ns(clock_system()) - t0;
    if (s.wd_ok) {
        /* a failed scenario keeps its work dir: journals, output, files */
        bool keep = o->keep || res->status != RUN_PASS;
        res->kept = keep;
        bool made = s.wd.created;
        run_workdir_cleanup(&s.wd, !keep);
        if (!keep && !made && res->workdir)
            fs_remove_tree(res->workdir);
    }
}

int run_session_serve(run_scenario *sc, const run_opts *o, run_ready_fn ready, void *arg,
                      efk_err *err)
{
    run_session s;
    memset(&s, 0, sizeof(s));
    run_result res;
    run_result_init(&res);
    s.sc = sc;
    s.opts = *o;
    s.opts.check = false;
    s.res = &res;
    int code = 0;
    run_proc_subreaper();
    if (setup(&s) == 0) {
        /* the env of the serve contract, as the processes see it */
        run_proc_spec none;
        memset(&none, 0, sizeof(none));
        char **env = NULL;
        efk_err e;
        efk_err_init(&e);
        if (build_env(&s, &none, &env, &e) == 0) {
            if (ready)
                ready(arg, s.wd.dir, env);
            run_envv_free(env);
            loop(&s);
        } else {
            error_out(&s, "%s", e.msg);
        }
    }
    if (s.error) {
        code = 2;
        efk_err_set(err, -EINVAL, "%s", res.nmessages ? res.messages[0] : "cannot start");
    }
    teardown(&s);
    if (s.wd_ok)
        run_workdir_cleanup(&s.wd, !o->keep && !o->workdir);
    run_result_cleanup(&res);
    return code;
}
