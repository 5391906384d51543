/*
 * run_fakes.h - the runner's one door to the three fakes.
 *
 * Everything the scenario format says about a fake goes through here: its
 * `fakes.X` section is handed to the fake's own efk_X_config_parse (the fake
 * owns its format; errors come back with a pointer relative to the section,
 * prefixed here with "/fakes/X"), the fakes are started on 127.0.0.1 port 0
 * with the work dir's runtime, timeline actions call each fake's typed C API,
 * and expectation kinds query it. Nothing here speaks HTTP to a fake.
 *
 * Every fake always runs in a scenario (each costs a few milliseconds); a
 * `fakes.X` section only configures it.
 */
#ifndef RUN_FAKES_H
#define RUN_FAKES_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/runtime.h"
#include "run_action.h"
#include "run_check.h"
#include "run_pred.h"
#include "run_tmpl.h"
#include "run_world.h"

typedef struct run_fakes_cfg run_fakes_cfg;
typedef struct run_fakes run_fakes;

/* Parse the "fakes" object (may be NULL: all defaults) at pointer "/fakes".
 * New config (run_fakes_config_free). 0 or -EINVAL with c->err set. */
int run_fakes_config_parse(run_ck *c, const json_t *fakes, const char *base_dir,
                           run_fakes_cfg **out) __attribute__((warn_unused_result));
void run_fakes_config_free(run_fakes_cfg *cfg);

/* The API server identities the scenario has (names borrowed from cfg), for
 * templates and process "identity" shortcuts. The default identity (the
 * serve env's EFKSIM_TOKEN/KUBECONFIG) is the first. */
size_t run_fakes_identities(const run_fakes_cfg *cfg, const char **names, size_t max);

/* Declare the template names the fakes provide (values NULL). */
int run_fakes_declare_vars(const run_fakes_cfg *cfg, run_vars *v)
    __attribute__((warn_unused_result));

/* Start every fake. `rt` is borrowed for the life of the fakes; `wd` is the
 * work dir's layout (identity files are written there). 0 or -errno. */
struct run_workdir;
int run_fakes_start(const run_fakes_cfg *cfg, const efk_runtime *rt, struct run_workdir *wd,
                    run_fakes **out, efk_err *err) __attribute__((warn_unused_result));

/* Fill the world's journals and fake handles. */
void run_fakes_world(run_fakes *f, run_world *w);

/* Set the template values (URLs, identity files) now that the fakes listen,
 * and the environment contract of `efksim serve` (EFKSIM_*, KUBECONFIG...)
 * for the default identity into `env` as NAME=value strings. */
int run_fakes_set_vars(run_fakes *f, run_vars *v) __attribute__((warn_unused_result));

/* The env contract for identity `identity` (NULL: the default) as a
 * NULL-terminated array of new "NAME=value" strings appended to *envp
 * (grown with realloc; *n counts them). */
int run_fakes_env(run_fakes *f, const char *identity, char ***envp, size_t *n)
    __attribute__((warn_unused_result));

/* Carry out an action on a fake. 0 or negative with err (message only). */
int run_fakes_exec(run_fakes *f, const run_action *a, efk_err *err)
    __attribute__((warn_unused_result));

/* Tell the ES accounting how many lines a stream produced. */
void run_fakes_expected(run_fakes *f, const char *stream, uint64_t lines);

/* Each fake's state as JSON (new reference), for artifacts. */
json_t *run_fakes_state(run_fakes *f);

void run_fakes_stop(run_fakes *f);

/* Expectation kinds on the fakes (called by run_pred.c). */
int run_fakes_eval(run_pred *p, run_world *w, buf *observed);
void run_fakes_context(const run_pred *p, run_world *w, buf *out);

/* Load-time checks of fake actions (called by run_action.c). */
int run_fakes_check_fault(run_ck *c, const char *ptr, const json_t *v, run_fake_id f)
    __attribute__((warn_unused_result));
int run_fakes_check_rbd(run_ck *c, const char *ptr, const json_t *v, run_action *a)
    __attribute__((warn_unused_result));

/* Is the fake's API compiled into this efksim? */
bool run_fakes_available(run_fake_id f);

#endif
