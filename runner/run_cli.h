/*
 * run_cli.h - the runner's commands, called by the `efksim` command line
 * (runner/main.c) with argv starting at the subcommand's first argument.
 * Each returns the process exit code.
 *
 *   efksim run [--jobs N] [--shard K/N] [--filter GLOB] [--tag T]... [--junit FILE]
 *              [--tap] [--keep] [--seed S] [--set KEY=VALUE]... [--workdir DIR]
 *              PATH...
 *       0 all passed, 1 some failed, 2 some could not run (bad file, missing
 *       program); 130/143 when interrupted by SIGINT/SIGTERM (after
 *       stopping everything and writing the reports for what ran).
 *   efksim validate [--set KEY=VALUE]... [FILE...]
 *       0 all valid, 1 some invalid (each error on stderr with its place),
 *       2 bad usage.
 */
#ifndef RUN_CLI_H
#define RUN_CLI_H

#include <signal.h>
#include <stddef.h>

#include "core/err.h"
#include "run_session.h"

int run_cmd_run(int argc, char **argv);
int run_cmd_validate(int argc, char **argv);

/* For `efksim serve [SCENARIO] [--set KEY=VALUE]...`: load the scenario
 * (`path` NULL: an empty one) with the overrides, set it up in `workdir`
 * (NULL: a temp dir, removed at the end), call `ready` once everything is up
 * (the caller writes its env file and prints "efksim: ready"), then run its
 * timeline without checking anything until *stop becomes non-zero, then stop
 * every process and fake. Returns 0, or 2 with err when the scenario cannot
 * be loaded or started (err is then a one-line message with its place). */
int run_serve_scenario(const char *path, char *const *sets, size_t nsets, const char *workdir,
                       run_ready_fn ready, void *arg, const volatile sig_atomic_t *stop,
                       efk_err *err);

#endif
