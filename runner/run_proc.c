#include "run_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/duration.h"

/* ---- back-off ---- */

void run_backoff_init(run_backoff *b, double scale)
{
    if (!(scale > 0))
        scale = 1;
    memset(b, 0, sizeof(*b));
    b->initial_ns = (int64_t)((double)RUN_BACKOFF_INITIAL_NS * scale);
    b->max_ns = (int64_t)((double)RUN_BACKOFF_MAX_NS * scale);
    if (b->initial_ns < 1)
        b->initial_ns = 1;
    if (b->max_ns < b->initial_ns)
        b->max_ns = b->initial_ns;
}

static bool expired(const run_backoff *b, int64_t now_ns)
{
    return now_ns - b->last_ns > 2 * b->max_ns;
}

int64_t run_backoff_restart_at(const run_backoff *b, int64_t exited_ns)
{
    if (!b->has || expired(b, exited_ns))
        return exited_ns;
    return exited_ns + b->cur_ns;
}

void run_backoff_next(run_backoff *b, int64_t now_ns)
{
    if (!b->has || expired(b, now_ns)) {
        b->cur_ns = b->initial_ns;
    } else {
        b->cur_ns = b->cur_ns > b->max_ns / 2 ? b->max_ns : b->cur_ns * 2;
    }
    b->last_ns = now_ns;
    b->has = true;
}

/* ---- processes ---- */

void run_proc_init(run_proc *p, const char *name, run_restart restart, int64_t grace_ns,
                   double backoff_scale)
{
    memset(p, 0, sizeof(*p));
    p->name = name;
    p->restart = restart;
    p->grace_ns = grace_ns;
    run_backoff_init(&p->backoff, backoff_scale);
}

char *run_proc_which(const char *prog, const char *path_value)
{
    if (!prog || !*prog)
        return NULL;
    if (strchr(prog, '/')) {
        struct stat st;
        if (stat(prog, &st) == 0 && S_ISREG(st.st_mode) && access(prog, X_OK) == 0)
            return strdup(prog);
        return NULL;
    }
    const char *p = path_value ? path_value : "/usr/bin:/bin";
    while (*p) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        char cand[4096];
        if (n == 0)
            snprintf(cand, sizeof(cand), "./%s", prog);
        else
            snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, p, prog);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
            return strdup(cand);
        if (!colon)
            break;
        p = colon + 1;
    }
    return NULL;
}

int run_envv_set(char ***v, size_t *n, const char *name, const char *value)
{
    size_t nl = strlen(name);
    char *e = NULL;
    if (asprintf(&e, "%s=%s", name, value) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < *n; i++) {
        if (strncmp((*v)[i], name, nl) == 0 && (*v)[i][nl] == '=') {
            free((*v)[i]);
            (*v)[i] = e;
            return 0;
        }
    }
    char **nv = realloc(*v, (*n + 2) * sizeof(*nv));
    if (!nv) {
        free(e);
        return -ENOMEM;
    }
    *v = nv;
    nv[(*n)++] = e;
    nv[*n] = NULL;
    return 0;
}

void run_envv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static const char *env_get(char *const envp[], const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
            return envp[i] + n + 1;
    return NULL;
}

int run_proc_start(run_proc *p, char *const argv[], char *const envp[], const char *cwd,
                   const char *out_path, const char *err_path, int64_t now_ns, efk_err *err)
{
    int rc = 0, outfd = -1, errfd = -1, nullfd = -1, pipefd[2] = {-1, -1};
    char *exe = NULL;
    if (p->state == RUN_PROC_RUNNING || p->state == RUN_PROC_STOPPING)
        return efk_err_set(err, -EBUSY, "process \"%s\" is already running", p->name);
    if (!argv || !argv[0])
        return efk_err_set(err, -EINVAL, "process \"%s\" has an empty argv", p->name);
    exe = run_proc_which(argv[0], env_get(envp, "PATH"));
    if (!exe) {
        rc = efk_err_set(err, -ENOENT,
                         "process \"%s\": program \"%s\" not found or not executable%s%s", p->name,
                         argv[0], strchr(argv[0], '/') ? "" : " on PATH ",
                         strchr(argv[0], '/') ? "" : (env_get(envp, "PATH") ?: "(unset)"));
        goto out;
    }
    nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    outfd = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    errfd = open(err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (nullfd < 0 || outfd < 0 || errfd < 0) {
        rc = -errno;
        efk_err_set(err, rc, "process \"%s\": cannot open its output files (%s): %s", p->name,
                    outfd < 0 ? out_path : err_path, strerror(errno));
        goto out;
    }
    if (pipe2(pipefd, O_CLOEXEC)) {
        rc = -errno;
        efk_err_set(err, rc, "pipe: %s", strerror(errno));
        goto out;
    }
    pid_t pid = fork();
    if (pid < 0) {
        rc = -errno;
        efk_err_set(err, rc, "process \"%s\": fork: %s", p->name, strerror(errno));
        goto out;
    }
    if (pid == 0) {
        /* The child: only async-signal-safe calls until execve. */
        int e = 0;
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (int s = 1; s < NSIG; s++) {
            if (s == SIGKILL || s == SIGSTOP)
                continue;
            struct sigaction sa;
            memset(&sa, 0, sizeof(sa));
            sa.sa_handler = SIG_DFL;
            sigaction(s, &sa, NULL);
        }
        setpgid(0, 0);
        /* if the runner dies the program must not live on */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (dup2(nullfd, 0) < 0 || dup2(outfd, 1) < 0 || dup2(errfd, 2) < 0)
            e = errno;
        if (!e && cwd && chdir(cwd) < 0)
            e = errno;
        if (!e) {
            execve(exe, argv, envp);
            e = errno;
        }
        ssize_t w = write(pipefd[1], &e, sizeof(e));
        (void)w;
        _exit(127);
    }
    /* the parent also sets the group, so signals sent right away reach it */
    setpgid(pid, pid);
    close(pipefd[1]);
    pipefd[1] = -1;
    int child_errno = 0;
    ssize_t r;
    do {
        r = read(pipefd[0], &child_errno, sizeof(child_errno));
    } while (r < 0 && errno == EINTR);
    if (r == (ssize_t)sizeof(child_errno)) {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        rc = -child_errno;
        efk_err_set(err, rc, "process \"%s\": cannot run %s%s%s: %s", p->name, exe,
                    cwd ? " in " : "", cwd ? cwd : "", strerror(child_errno));
        goto out;
    }
    p->pid = pid;
    p->state = RUN_PROC_RUNNING;
    p->started_ns = now_ns;
    p->starts++;
    p->stop_wanted = false;
    p->restart_wanted = false;
out:
    free(exe);
    if (nullfd >= 0)
        close(nullfd);
    if (outfd >= 0)
        close(outfd);
    if (errfd >= 0)
        close(errfd);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    return rc;
}

void run_proc_reaped(run_proc *p, int status, int64_t now_ns)
{
    p->exited_once = true;
    p->exited_ns = now_ns;
    if (WIFEXITED(status)) {
        p->exit_code = WEXITSTATUS(status);
        p->exit_signal = 0;
    } else {
        p->exit_code = -1;
        p->exit_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    /* the leader is gone; anything left in its group goes too */
    if (p->pid > 0)
        kill(-p->pid, SIGKILL);
    p->pid = 0;
    bool failed = p->exit_code != 0;
    if (p->restart_wanted) {
        /* process.restart: immediately, no back-off */
        p->state = RUN_PROC_BACKOFF;
        p->restart_at_ns = now_ns;
        return;
    }
    if (!p->stop_wanted &&
        (p->restart == RUN_RESTART_ALWAYS || (p->restart == RUN_RESTART_ON_FAILURE && failed))) {
        p->state = RUN_PROC_BACKOFF;
        p->restart_at_ns = run_backoff_restart_at(&p->backoff, now_ns);
        return;
    }
    p->state = RUN_PROC_EXITED;
}

int run_proc_signal(run_proc *p, int sig)
{
    if (p->pid <= 0)
        return -ESRCH;
    if (kill(-p->pid, sig) < 0)
        return -errno;
    return 0;
}

void run_proc_stop(run_proc *p, int64_t now_ns, bool restart_after)
{
    if (restart_after)
        p->restart_wanted = true;
    else
        p->stop_wanted = true;
    if (p->state == RUN_PROC_RUNNING) {
        run_proc_signal(p, SIGTERM);
        p->state = RUN_PROC_STOPPING;
        p->kill_at_ns = now_ns + p->grace_ns;
    } else if (p->state == RUN_PROC_BACKOFF && !restart_after) {
        p->state = RUN_PROC_EXITED; /* cancel the pending restart */
    } else if (restart_after && (p->state == RUN_PROC_EXITED || p->state == RUN_PROC_BACKOFF)) {
        p->state = RUN_PROC_BACKOFF;
        p->restart_at_ns = now_ns;
    }
}

bool run_proc_tick(run_proc *p, int64_t now_ns)
{
    if (p->state == RUN_PROC_STOPPING && now_ns >= p->kill_at_ns) {
        run_proc_signal(p, SIGKILL);
        p->kill_at_ns = INT64_MAX; /* once */
    }
    if (p->state == RUN_PROC_BACKOFF && now_ns >= p->restart_at_ns) {
        if (!p->restart_wanted)
            run_backoff_next(&p->backoff, now_ns);
        p->restarts++;
        return true;
    }
    return false;
}

int64_t run_proc_next_event(const run_proc *p)
{
    if (p->state == RUN_PROC_STOPPING)
        return p->kill_at_ns;
    if (p->state == RUN_PROC_BACKOFF)
        return p->restart_at_ns;
    return INT64_MAX;
}

const char *run_proc_describe(const run_proc *p, int64_t now_ns, char *out, size_t outsz)
{
    char d[32];
    char last[96] = "";
    if (p->exited_once) {
        if (p->exit_signal)
            snprintf(last, sizeof(last), "killed by %s", run_signal_name(p->exit_signal));
        else
            snprintf(last, sizeof(last), "exited with code %d", p->exit_code);
    }
    switch (p->state) {
    case RUN_PROC_IDLE:
        snprintf(out, outsz, "never started");
        break;
    case RUN_PROC_RUNNING:
        snprintf(out, outsz, "running (pid %d, %llu restarts)", (int)p->pid,
                 (unsigned long long)p->restarts);
        break;
    case RUN_PROC_STOPPING:
        snprintf(out, outsz, "stopping (pid %d)", (int)p->pid);
        break;
    case RUN_PROC_BACKOFF:
        snprintf(out, outsz, "%s; back-off: restart in %s (%llu restarts so far)", last,
                 duration_render(p->restart_at_ns > now_ns ? p->restart_at_ns - now_ns : 0, d,
                                 sizeof(d)),
                 (unsigned long long)p->restarts);
        break;
    case RUN_PROC_EXITED:
        snprintf(out, outsz, "%s (%llu restarts)", last, (unsigned long long)p->restarts);
        break;
    }
    return out;
}

int run_proc_subreaper(void)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        return -errno;
    return 0;
}

/* Children of every thread of this process, from procfs. */
static size_t list_children(pid_t *out, size_t max)
{
    size_t n = 0;
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < max) {
        if (de->d_name[0] == '.')
            continue;
        char path[300];
        snprintf(path, sizeof(path), "/proc/self/task/%.200s/children", de->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        long pid;
        while (n < max && fscanf(f, "%ld", &pid) == 1)
            out[n++] = (pid_t)pid;
        fclose(f);
    }
    closedir(d);
    return n;
}

static int64_t mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int run_proc_kill_descendants(int64_t budget_ns)
{
    int killed = 0;
    int64_t deadline = mono_now() + budget_ns;
    for (;;) {
        pid_t kids[256];
        size_t n = list_children(kids, 256);
        if (!n)
            break;
        for (size_t i = 0; i < n; i++) {
            /* the whole group when it leads one, else just it */
            if (getpgid(kids[i]) == kids[i])
                kill(-kids[i], SIGKILL);
            if (kill(kids[i], SIGKILL) == 0)
                killed++;
        }
        for (size_t i = 0; i < n; i++) {
            int st;
            waitpid(kids[i], &st, 0);
        }
        if (mono_now() > deadline)
            break;
    }
    return killed;
}

static const struct {
    const char *name;
    int sig;
} sigs[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ABRT", SIGABRT},
            {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
            {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"CONT", SIGCONT},
            {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"BUS", SIGBUS},   {"FPE", SIGFPE},
            {"ILL", SIGILL},   {"TRAP", SIGTRAP}, {"SYS", SIGSYS},   {"XCPU", SIGXCPU}};

int run_signal_parse(const char *s)
{
    if (!s || !*s)
        return -1;
    if (s[0] >= '0' && s[0] <= '9') {
        char *end;
        long v = strtol(s, &end, 10);
        return (*end || v <= 0 || v >= NSIG) ? -1 : (int)v;
    }
    if (strncmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (strcmp(s, sigs[i].name) == 0)
            return sigs[i].sig;
    return -1;
}

const char *run_signal_name(int sig)
{
    static const char *const names[] = {
        [SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",   [SIGQUIT] = "SIGQUIT", [SIGABRT] = "SIGABRT",
        [SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
        [SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM", [SIGCONT] = "SIGCONT",
        [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP", [SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",
        [SIGILL] = "SIGILL",   [SIGTRAP] = "SIGTRAP", [SIGSYS] = "SIGSYS",   [SIGXCPU] = "SIGXCPU"};
    if (sig > 0 && sig < (int)(sizeof(names) / sizeof(names[0])) && names[sig])
        return names[sig];
    return "a signal";
}
