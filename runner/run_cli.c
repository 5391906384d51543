#include "run_cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fsutil.h"
#include "run_report.h"
#include "run_scenario.h"

/*
 * `efksim run` forks one worker process per scenario, at most --jobs at a
 * time. A worker loads nothing new: it inherits the checked scenario, runs it
 * in its own work dir (its fakes on their own ports, its processes in their
 * own groups) and writes its result as one JSON document to a pipe. So
 * scenarios in parallel share nothing, and a scenario that crashes the
 * worker costs only itself. The parent only schedules, collects and reports.
 */

#define MAX_SETS        64
#define MAX_TAGS        32
#define WORKER_GRACE_NS (INT64_C(60) * 1000000000) /* past a scenario's own timeout */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    g_stop = sig;
}

static void usage_run(FILE *out)
{
    fprintf(out,
            "usage: efksim run [--jobs N] [--shard K/N] [--filter GLOB] [--tag T]...\n"
            "                  [--junit FILE] [--tap] [--keep] [--seed S] [--set KEY=VALUE]...\n"
            "                  [--workdir DIR] PATH...\n"
            "Run scenario files (or every *.json under the given directories).\n"
            "Exit 0 when all passed, 1 when some failed, 2 when some could not run.\n");
}

static void usage_validate(FILE *out)
{
    fprintf(out, "usage: efksim validate [--set KEY=VALUE]... [PATH...]\n"
                 "Check scenario files (or every *.json under the given directories) without\n"
                 "running them. Exit 0 when all are valid, 1 when some are not.\n");
}

/* ---- collecting files ---- */

typedef struct strlist {
    char **v;
    size_t n, alloc;
} strlist;

static int sl_add(strlist *l, const char *s)
{
    if (l->n + 1 >= l->alloc) {
        size_t na = l->alloc ? l->alloc * 2 : 32;
        char **nv = realloc(l->v, na * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        l->v = nv;
        l->alloc = na;
    }
    l->v[l->n] = strdup(s);
    if (!l->v[l->n])
        return -ENOMEM;
    l->n++;
    l->v[l->n] = NULL;
    return 0;
}

static void sl_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Every *.json under `dir` (not *.schema.json: those are the format's). */
static int scan_dir(const char *dir, strlist *out, int depth)
{
    if (depth > 16)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    struct dirent *de;
    int rc = 0;
    while (!rc && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *p = fs_join(dir, de->d_name);
        if (!p) {
            rc = -ENOMEM;
            break;
        }
        struct stat st;
        if (stat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                rc = scan_dir(p, out, depth + 1);
            else if (S_ISREG(st.st_mode) && ends_with(p, ".json") && !ends_with(p, ".schema.json"))
                rc = sl_add(out, p);
        }
        free(p);
    }
    closedir(d);
    return rc;
}

static int collect(char **paths, size_t n, strlist *out)
{
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(paths[i], &st) < 0) {
            fprintf(stderr, "efksim: %s: %s\n", paths[i], strerror(errno));
            return -errno;
        }
        if (S_ISDIR(st.st_mode)) {
            strlist sub = {0};
            int rc = scan_dir(paths[i], &sub, 0);
            if (rc) {
                fprintf(stderr, "efksim: %s: %s\n", paths[i], strerror(-rc));
                sl_free(&sub);
                return rc;
            }
            if (sub.n)
                qsort(sub.v, sub.n, sizeof(*sub.v), cmp_str);
            for (size_t k = 0; k < sub.n; k++)
                if (sl_add(out, sub.v[k]))
                    return -ENOMEM;
            sl_free(&sub);
        } else if (sl_add(out, paths[i])) {
            return -ENOMEM;
        }
    }
    return 0;
}

/* ---- options ---- */

typedef struct run_args {
    long jobs;
    long shard_k, shard_n;
    const char *filter;
    const char *tags[MAX_TAGS];
    size_t ntags;
    const char *junit;
    bool tap;
    bool keep;
    const char *seed;
    char *sets[MAX_SETS + 1];
    size_t nsets;
    const char *workdir;
    char **paths;
    size_t npaths;
} run_args;

/* "--name value" or "--name=value". */
static const char *optval(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "efksim: %s needs a value\n", name);
        return "";
    }
    return argv[++*i];
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

static int add_set(run_args *a, const char *v)
{
    if (a->nsets >= MAX_SETS) {
        fprintf(stderr, "efksim: at most %d --set options\n", MAX_SETS);
        return -E2BIG;
    }
    a->sets[a->nsets++] = (char *)v;
    return 0;
}

static int parse_run_args(int argc, char **argv, run_args *a, bool validate_only)
{
    memset(a, 0, sizeof(*a));
    a->jobs = 1;
    a->paths = calloc((size_t)argc + 1, sizeof(*a->paths));
    if (!a->paths)
        return -ENOMEM;
    bool dashdash = false;
    for (int i = 0; i < argc; i++) {
        const char *v;
        const char *arg = argv[i];
        if (dashdash || arg[0] != '-' || !arg[1]) {
            a->paths[a->npaths++] = argv[i];
            continue;
        }
        if (!strcmp(arg, "--")) {
            dashdash = true;
        } else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            validate_only ? usage_validate(stdout) : usage_run(stdout);
            return 1;
        } else if ((v = optval(argc, argv, &i, "--set"))) {
            if (!*v || add_set(a, v))
                return -EINVAL;
        } else if (validate_only) {
            fprintf(stderr, "efksim validate: unknown option %s\n", arg);
            return -EINVAL;
        } else if ((v = optval(argc, argv, &i, "--jobs")) || (v = optval(argc, argv, &i, "-j"))) {
            if (parse_long(v, 1, 256, &a->jobs)) {
                fprintf(stderr, "efksim run: --jobs expects a number from 1 to 256, got \"%s\"\n",
                        v);
                return -EINVAL;
            }
        } else if ((v = optval(argc, argv, &i, "--shard"))) {
            const char *slash = strchr(v, '/');
            char k[32];
            snprintf(k, sizeof(k), "%.*s", slash ? (int)(slash - v) : 0, v);
            if (!slash || parse_long(k, 1, 100000, &a->shard_k) ||
                parse_long(slash + 1, 1, 100000, &a->shard_n) || a->shard_k > a->shard_n) {
                fprintf(stderr, "efksim run: --shard expects K/N with 1 <= K <= N, got \"%s\"\n",
                        v);
                return -EINVAL;
            }
        } else if ((v = optval(argc, argv, &i, "--filter"))) {
            if (!*v)
                return -EINVAL;
            a->filter = v;
        } else if ((v = optval(argc, argv, &i, "--tag"))) {
            if (!*v || a->ntags >= MAX_TAGS) {
                fprintf(stderr, "efksim run: --tag expects a tag (at most %d)\n", MAX_TAGS);
                return -EINVAL;
            }
            a->tags[a->ntags++] = v;
        } else if ((v = optval(argc, argv, &i, "--junit"))) {
            if (!*v)
                return -EINVAL;
            a->junit = v;
        } else if ((v = optval(argc, argv, &i, "--seed"))) {
            long dummy;
            char *end;
            errno = 0;
            unsigned long long sv = strtoull(v, &end, 10);
            (void)dummy;
            if (!*v || *end || errno || sv > (unsigned long long)INT64_MAX) {
                fprintf(stderr, "efksim run: --seed expects a non-negative integer, got \"%s\"\n",
                        v);
                return -EINVAL;
            }
            a->seed = v;
        } else if ((v = optval(argc, argv, &i, "--workdir"))) {
            if (!*v)
                return -EINVAL;
            a->workdir = v;
        } else if (!strcmp(arg, "--tap")) {
            a->tap = true;
        } else if (!strcmp(arg, "--keep")) {
            a->keep = true;
        } else {
            fprintf(stderr, "efksim run: unknown option %s (see efksim run --help)\n", arg);
            return -EINVAL;
        }
    }
    return 0;
}

/* ---- validate ---- */

static void print_err(const efk_err *e)
{
    char out[EFK_ERR_MSG_MAX + 2 * EFK_ERR_PLACE_MAX + 64];
    efk_err_render(e, out, sizeof(out));
    fprintf(stderr, "%s\n", out);
}

int run_cmd_validate(int argc, char **argv)
{
    run_args a;
    int rc = parse_run_args(argc, argv, &a, true);
    if (rc) {
        free(a.paths);
        return rc > 0 ? 0 : 2;
    }
    int bad = 0;
    strlist files = {0};
    if (a.npaths && collect(a.paths, a.npaths, &files)) {
        free(a.paths);
        sl_free(&files);
        return 2;
    }
    size_t n = a.npaths ? files.n : 1;
    for (size_t i = 0; i < n; i++) {
        const char *path = a.npaths ? files.v[i] : NULL;
        run_scenario *sc = NULL;
        efk_err e;
        efk_err_init(&e);
        if (run_scenario_load(path, a.sets, a.nsets, &sc, &e)) {
            print_err(&e);
            bad++;
            continue;
        }
        printf("%s: ok (%s: %zu processes, %zu steps, %zu expectations)\n",
               path ? path : "(no scenario)", sc->name, sc->nprocs, sc->nsteps, sc->nexpects);
        run_scenario_free(sc);
    }
    sl_free(&files);
    free(a.paths);
    return bad ? 1 : 0;
}

/* ---- run ---- */

typedef struct job {
    const char *file;
    run_scenario *sc; /* NULL when it did not load */
    efk_err load_err;
    pid_t pid;
    int fd; /* the result pipe */
    buf out;
    int64_t started_ns, deadline_ns;
    bool done;
    bool term_sent;
    run_result res;
} job;

static bool has_tag(const run_scenario *sc, const run_args *a)
{
    if (!a->ntags)
        return true;
    for (size_t i = 0; i < a->ntags; i++)
        for (size_t k = 0; k < sc->ntags; k++)
            if (strcmp(a->tags[i], sc->tags[k]) == 0)
                return true;
    return false;
}

static void sanitize(const char *in, char *out, size_t outsz)
{
    size_t n = 0;
    for (const char *p = in; *p && n + 1 < outsz && n < 60; p++)
        out[n++] = ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')
                       ? *p
                       : '_';
    out[n] = '\0';
}

static void worker(job *j, const char *workdir, bool keep, int wfd)
{
    /* a signal to the runner reaches the worker too: stop, clean, report */
    static volatile sig_atomic_t stop;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    (void)stop;
    run_result res;
    run_result_init(&res);
    res.file = strdup(j->file);
    res.name = strdup(j->sc->name);
    res.tags = calloc(j->sc->ntags + 1, sizeof(char *));
    for (size_t i = 0; res.tags && i < j->sc->ntags; i++)
        res.tags[i] = strdup(j->sc->tags[i]);
    /* a fresh dir: what an earlier run left there is not this run's */
    fs_remove_tree(workdir);
    run_opts o = {.workdir = workdir, .check = true, .stop = &g_stop, .keep = keep};
    run_session_run(j->sc, &o, &res);
    /* only the given root survives when nothing is kept */
    json_t *r = run_result_render(&res);
    char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;
    size_t len = text ? strlen(text) : 0, off = 0;
    while (off < len) {
        ssize_t w = write(wfd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    free(text);
    json_decref(r);
    run_result_cleanup(&res);
    close(wfd);
}

static int start_job(job *j, size_t idx, const char *root, bool keep, int64_t now_ns)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    char name[80], dir[PATH_MAX];
    sanitize(j->sc->name, name, sizeof(name));
    snprintf(dir, sizeof(dir), "%s/%03zu-%s", root, idx + 1, name);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -errno;
    }
    if (pid == 0) {
        close(p[0]);
        worker(j, dir, keep, p[1]);
        _exit(0);
    }
    close(p[1]);
    j->pid = pid;
    j->fd = p[0];
    buf_init(&j->out, (size_t)16 << 20);
    j->started_ns = now_ns;
    j->deadline_ns = now_ns + j->sc->timeout_ns + WORKER_GRACE_NS;
    return 0;
}

/* Read what the worker wrote; at EOF, reap it and parse the result. */
static bool drain_job(job *j)
{
    char chunk[8192];
    for (;;) {
        ssize_t r = read(j->fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return false;
        if (r > 0) {
            if (buf_append(&j->out, chunk, (size_t)r)) {
                /* over 16 MiB of result: keep reading to EOF, parse fails */
            }
            continue;
        }
        break;
    }
    close(j->fd);
    j->fd = -1;
    int st = 0;
    while (waitpid(j->pid, &st, 0) < 0 && errno == EINTR)
        ;
    json_t *doc = j->out.data ? json_loads(j->out.data, 0, NULL) : NULL;
    if (!doc || run_result_parse(doc, &j->res)) {
        run_result_cleanup(&j->res);
        run_result_init(&j->res);
        j->res.file = strdup(j->file);
        j->res.name = strdup(j->sc->name);
        j->res.status = RUN_ERROR;
        if (WIFSIGNALED(st))
            run_result_addf(&j->res, "the worker running it died of signal %d", WTERMSIG(st));
        else
            run_result_addf(&j->res, "the worker running it exited (%d) without a result",
                            WEXITSTATUS(st));
    }
    json_decref(doc);
    buf_cleanup(&j->out);
    j->done = true;
    return true;
}

static int64_t mono(void)
{
    return clock_mono_ns(clock_system());
}

static int write_file(const char *path, const char *data, size_t len)
{
    efk_err e;
    efk_err_init(&e);
    if (fs_write_file(path, data, len, 0644, &e)) {
        fprintf(stderr, "efksim: %s\n", e.msg);
        return -1;
    }
    return 0;
}

int run_cmd_run(int argc, char **argv)
{
    run_args a;
    int code = 0;
    strlist files = {0};
    job *jobs = NULL;
    size_t njobs = 0;
    char *root = NULL;
    bool root_made = false;
    int rc = parse_run_args(argc, argv, &a, false);
    if (rc) {
        code = rc > 0 ? 0 : 2;
        goto out;
    }
    if (!a.npaths) {
        usage_run(stderr);
        code = 2;
        goto out;
    }
    char seedset[80];
    if (a.seed) {
        snprintf(seedset, sizeof(seedset), "seed=%s", a.seed);
        if (add_set(&a, seedset)) {
            code = 2;
            goto out;
        }
    }
    if (collect(a.paths, a.npaths, &files)) {
        code = 2;
        goto out;
    }
    if (!files.n) {
        fprintf(stderr, "efksim run: no scenario files found\n");
        code = 2;
        goto out;
    }
    /* load and select */
    jobs = calloc(files.n, sizeof(*jobs));
    if (!jobs) {
        code = 2;
        goto out;
    }
    size_t selected = 0;
    for (size_t i = 0; i < files.n; i++) {
        job *j = &jobs[njobs];
        memset(j, 0, sizeof(*j));
        j->file = files.v[i];
        j->fd = -1;
        efk_err_init(&j->load_err);
        if (run_scenario_load(j->file, a.sets, a.nsets, &j->sc, &j->load_err)) {
            j->sc = NULL;
            if (a.filter && fnmatch(a.filter, j->file, 0) != 0)
                continue;
        } else {
            bool match = !a.filter || fnmatch(a.filter, j->sc->name, 0) == 0 ||
                         fnmatch(a.filter, j->file, 0) == 0;
            if (!match || !has_tag(j->sc, &a)) {
                run_scenario_free(j->sc);
                continue;
            }
        }
        /* shard over the selected files, in path order */
        if (a.shard_n && (selected++ % (size_t)a.shard_n) != (size_t)(a.shard_k - 1)) {
            run_scenario_free(j->sc);
            continue;
        }
        njobs++;
    }
    if (!njobs) {
        fprintf(stderr, "efksim run: no scenario matches the selection\n");
        code = 2;
        goto out;
    }
    /* where work dirs go */
    if (a.workdir) {
        efk_err e;
        efk_err_init(&e);
        if (fs_mkdirs(a.workdir, 0755, &e)) {
            fprintf(stderr, "efksim run: %s\n", e.msg);
            code = 2;
            goto out;
        }
        root = realpath(a.workdir, NULL);
    } else {
        const char *t = getenv("TMPDIR");
        char tmpl[PATH_MAX];
        snprintf(tmpl, sizeof(tmpl), "%s/efksim-run-XXXXXX", t && *t ? t : "/tmp");
        if (mkdtemp(tmpl)) {
            root = strdup(tmpl);
            root_made = true;
        }
    }
    if (!root) {
        fprintf(stderr, "efksim run: cannot make a work dir: %s\n", strerror(errno));
        code = 2;
        goto out;
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    run_report_opts ro = {.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !a.tap};
    FILE *human = a.tap ? stderr : stdout;
    int64_t t0 = mono();
    run_result *results = calloc(njobs, sizeof(*results));
    size_t nres = 0, next = 0, running = 0;
    if (!results) {
        code = 2;
        goto restore;
    }
    while (nres < njobs) {
        /* start what may start */
        while (!g_stop && running < (size_t)a.jobs && next < njobs) {
            job *j = &jobs[next];
            if (!j->sc) {
                run_result_init(&j->res);
                j->res.file = strdup(j->file);
                char tmp[EFK_ERR_MSG_MAX + 2 * EFK_ERR_PLACE_MAX + 64];
                efk_err_render(&j->load_err, tmp, sizeof(tmp));
                j->res.status = RUN_ERROR;
                run_result_add(&j->res, tmp);
                const char *b = strrchr(j->file, '/');
                j->res.name = strdup(b ? b + 1 : j->file);
                j->done = true;
                results[nres++] = j->res;
                run_report_line(human, &j->res, nres, njobs, &ro);
                next++;
                continue;
            }
            if (start_job(j, next, root, a.keep, mono())) {
                run_result_init(&j->res);
                j->res.file = strdup(j->file);
                j->res.name = strdup(j->sc->name);
                j->res.status = RUN_ERROR;
                run_result_addf(&j->res, "cannot start a worker: %s", strerror(errno));
                j->done = true;
                results[nres++] = j->res;
                run_report_line(human, &j->res, nres, njobs, &ro);
                next++;
                continue;
            }
            running++;
            next++;
        }
        if (g_stop && next < njobs) {
            /* what never started is reported as such */
            for (; next < njobs; next++) {
                job *j = &jobs[next];
                run_result_init(&j->res);
                j->res.file = strdup(j->file);
                j->res.name = strdup(j->sc ? j->sc->name : j->file);
                j->res.status = RUN_ERROR;
                run_result_add(&j->res, "not run: interrupted");
                j->done = true;
                results[nres++] = j->res;
            }
        }
        if (!running)
            continue;
        /* wait for output from any running worker */
        struct pollfd pfd[256];
        size_t map[256], np = 0;
        for (size_t i = 0; i < next && np < 256; i++) {
            if (jobs[i].fd >= 0 && !jobs[i].done) {
                pfd[np].fd = jobs[i].fd;
                pfd[np].events = POLLIN;
                map[np++] = i;
            }
        }
        int pr = poll(pfd, np, 200);
        int64_t t = mono();
        for (size_t k = 0; k < np; k++) {
            job *j = &jobs[map[k]];
            if (g_stop && !j->term_sent) {
                kill(j->pid, SIGTERM);
                j->term_sent = true;
            }
            if (t > j->deadline_ns) {
                /* the worker is stuck past its scenario's own timeout */
                kill(j->pid, SIGKILL);
            }
            if (pr > 0 && (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))) {
                int fl = fcntl(j->fd, F_GETFL);
                fcntl(j->fd, F_SETFL, fl | O_NONBLOCK);
                if (drain_job(j)) {
                    running--;
                    results[nres++] = j->res;
                    run_report_line(human, &j->res, nres, njobs, &ro);
                }
            }
        }
    }
    int64_t wall = mono() - t0;
    size_t fail = 0, err = 0;
    for (size_t i = 0; i < nres; i++) {
        fail += results[i].status == RUN_FAIL;
        err += results[i].status == RUN_ERROR;
    }
    run_report_summary(human, results, nres, wall, &ro);
    if (a.tap) {
        buf b;
        buf_init(&b, 0);
        run_report_tap(&b, results, nres);
        fwrite(b.data ? b.data : "", 1, b.len, stdout);
        fflush(stdout);
        buf_cleanup(&b);
    }
    if (a.junit) {
        buf b;
        buf_init(&b, 0);
        if (run_report_junit(&b, results, nres, wall) || write_file(a.junit, b.data, b.len))
            err++;
        buf_cleanup(&b);
    }
    code = err ? 2 : fail ? 1 : 0;
    if (g_stop)
        code = 128 + g_stop;
    /* keep the root when anything in it is kept */
    bool kept = false;
    for (size_t i = 0; i < nres; i++)
        kept = kept || results[i].kept;
    if (root_made && !kept)
        fs_remove_tree(root);
    free(results);
restore:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
out:
    for (size_t i = 0; jobs && i < njobs; i++) {
        run_scenario_free(jobs[i].sc);
        run_result_cleanup(&jobs[i].res);
    }
    free(jobs);
    free(root);
    sl_free(&files);
    free(a.paths);
    return code;
}

int run_serve_scenario(const char *path, char *const *sets, size_t nsets, const char *workdir,
                       run_ready_fn ready, void *arg, const volatile sig_atomic_t *stop,
                       efk_err *err)
{
    run_scenario *sc = NULL;
    if (run_scenario_load(path, sets, nsets, &sc, err))
        return 2;
    run_opts o = {.workdir = workdir, .check = false, .stop = stop, .keep = workdir != NULL};
    int code = run_session_serve(sc, &o, ready, arg, err);
    run_scenario_free(sc);
    return code;
}
