/*
 * main.c - the `efksim` command line.
 *
 *   efksim serve [SCENARIO] [--workdir DIR] [--env-file FILE] [--set KEY=VALUE]...
 *   efksim run [options] PATH...          (runner/run_cli.h)
 *   efksim validate [--set KEY=VALUE]... FILE...
 *   efksim version | help
 *
 * `serve` starts the fakes (and, with a scenario, its processes and
 * timeline), writes the env file, prints one line `efksim: ready` on stdout
 * and runs until SIGINT or SIGTERM, then stops everything and exits 0. Bad
 * invocations print one line naming the problem and exit 2.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "efksim.h"
#include "workdir.h"
#include "run_cli.h"

#define SERVE_MAX_SETS 256

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    stop_requested = sig;
}

static const char USAGE[] =
    "usage: efksim <command> [args]\n"
    "\n"
    "  serve [SCENARIO] [--workdir DIR] [--env-file FILE] [--set KEY=VALUE]...\n"
    "        start the fakes (and a scenario's processes and timeline), write an\n"
    "        env file, print \"efksim: ready\", run until SIGINT/SIGTERM\n"
    "  run [--jobs N] [--shard K/N] [--filter GLOB] [--tag T] [--junit FILE] [--tap]\n"
    "      [--keep] [--seed S] [--set KEY=VALUE]... PATH...\n"
    "        run scenario files or directories and report\n"
    "  validate [--set KEY=VALUE]... FILE...\n"
    "        check scenario files without running them\n"
    "  version\n"
    "\n"
    "See README.md and docs/ for the scenario format and the env file contract.\n";

typedef struct serve_ctx {
    const char *env_file; /* NULL: <workdir>/env */
    int rc;               /* set when writing the env file failed */
} serve_ctx;

/* Called once everything is up: write the env file (`export NAME='value'`
 * lines), then say ready. The env file is complete before the line appears,
 * so a script may source it as soon as it reads the line. */
static void serve_ready(void *arg, const char *workdir, char *const *env)
{
    serve_ctx *ctx = arg;
    run_env e;
    efk_err err;
    char *path = NULL;
    efk_err_init(&err);
    run_env_init(&e);
    for (char *const *p = env; p && *p; p++) {
        const char *eq = strchr(*p, '=');
        if (!eq)
            continue;
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)(eq - *p), *p);
        /* only the contract: the session's own PATH, HOME, TMPDIR... are for
         * its processes, not for the shell that sources this file */
        if (strncmp(name, "EFKSIM_", 7) != 0 && strncmp(name, "KUBERNETES_", 11) != 0 &&
            strcmp(name, "KUBECONFIG") != 0)
            continue;
        if (run_env_set(&e, name, eq + 1)) {
            fprintf(stderr, "efksim serve: out of memory\n");
            ctx->rc = 2;
            goto out;
        }
    }
    path = ctx->env_file ? strdup(ctx->env_file) : fs_join(workdir, "env");
    if (!path || run_env_write(&e, path, &err)) {
        fprintf(stderr, "efksim serve: cannot write the env file: %s\n",
                path ? err.msg : "out of memory");
        ctx->rc = 2;
        stop_requested = SIGTERM;
        goto out;
    }
    if (!ctx->env_file)
        fprintf(stderr, "efksim serve: env file %s\n", path);
    fputs("efksim: ready\n", stdout);
    fflush(stdout);
out:
    free(path);
    run_env_cleanup(&e);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("efksim serve: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see efksim help)\n", stderr);
    va_end(ap);
    return 2;
}

static int cmd_serve(int argc, char **argv)
{
    const char *scenario = NULL, *workdir = NULL;
    char *sets[SERVE_MAX_SETS];
    size_t nsets = 0;
    serve_ctx ctx = {0};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (strcmp(a, "--workdir") == 0 || strcmp(a, "--env-file") == 0 ||
            strcmp(a, "--set") == 0) {
            if (i + 1 >= argc)
                return usage_error("%s needs a value", a);
            val = argv[++i];
        } else if (strncmp(a, "--workdir=", 10) == 0 || strncmp(a, "--env-file=", 11) == 0 ||
                   strncmp(a, "--set=", 6) == 0) {
            val = strchr(a, '=') + 1;
        }
        if (val && strncmp(a, "--workdir", 9) == 0) {
            workdir = val;
        } else if (val && strncmp(a, "--env-file", 10) == 0) {
            ctx.env_file = val;
        } else if (val && strncmp(a, "--set", 5) == 0) {
            if (nsets >= SERVE_MAX_SETS)
                return usage_error("too many --set options (at most %s)", "256");
            if (!strchr(val, '='))
                return usage_error("--set wants KEY=VALUE, not \"%s\"", val);
            sets[nsets++] = (char *)val;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option \"%s\"", a);
        } else if (scenario) {
            return usage_error("one scenario at a time; \"%s\" is one too many", a);
        } else {
            scenario = a;
        }
    }
    if (scenario && access(scenario, R_OK) != 0)
        return usage_error("cannot read scenario \"%s\"", scenario);
    if (ctx.env_file) {
        /* refuse an unwritable env file before anything starts */
        char *dir = strdup(ctx.env_file);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        const char *d = slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".";
        int ok = dir && access(d, W_OK) == 0;
        free(dir);
        if (!ok)
            return usage_error("cannot write the env file \"%s\"", ctx.env_file);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    efk_err err;
    efk_err_init(&err);
    int code = run_serve_scenario(scenario, sets, nsets, workdir, serve_ready, &ctx,
                                  &stop_requested, &err);
    if (code) {
        char msg[2 * EFK_ERR_MSG_MAX];
        fprintf(stderr, "efksim serve: %s\n", efk_err_render(&err, msg, sizeof(msg)));
        return code;
    }
    return ctx.rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(USAGE, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 2, argv + 2);
    if (strcmp(cmd, "run") == 0)
        return run_cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "validate") == 0)
        return run_cmd_validate(argc - 2, argv + 2);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("efksim %s\n", EFKSIM_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(USAGE, stdout);
        return 0;
    }
    fprintf(stderr, "efksim: unknown command \"%s\" (see efksim help)\n", cmd);
    return 2;
}
