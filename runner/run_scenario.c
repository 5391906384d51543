#include "run_scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "run_set.h"

const char *const run_expect_mode_names[4] = {"end", "within", "always", "never"};

static const char *const top_keys[] = {"$schema",   "name",     "description", "tags",
                                       "seed",      "timeout",  "duration",    "backoff_scale",
                                       "vars",      "fakes",    "logs",        "files",
                                       "processes", "timeline", "expect",      NULL};
static const char *const log_keys[] = {
    "stream", "pod",  "namespace", "container", "container_id", "format", "output",
    "lines",  "rate", "start",     "line_size", "rotate",       NULL};
static const char *const rotate_keys[] = {"mode", "size", "keep", NULL};
static const char *const file_keys[] = {"path", "template", "content", "render", "mode", NULL};
static const char *const proc_keys[] = {"name",          "argv",     "env",        "inherit_env",
                                        "cwd",           "identity", "start",      "ready",
                                        "ready_timeout", "restart",  "stop_grace", NULL};
static const char *const step_keys[] = {"id", "at", "when", "repeat", "do", NULL};
static const char *const repeat_keys[] = {"every", "times", "until", NULL};
static const char *const expect_mods[] = {"name", "within", "always", "never", "from", NULL};

/* ---- helpers ---- */

static int oom(run_ck *c)
{
    return efk_err_set(c->err, -ENOMEM, "out of memory");
}

/* Check a template string at `ptr`; the error points at the string. */
static int check_tmpl(run_ck *c, const run_scenario *s, const char *ptr, const char *t)
{
    efk_err e;
    efk_err_init(&e);
    size_t off = 0;
    if (run_tmpl_check(s->vars, t, strlen(t), &off, &e) == 0)
        return 0;
    return run_doc_err(c->doc, c->err, -EINVAL, ptr, "%s", e.msg);
}

static int array_of(run_ck *c, const char *ptr, const json_t *root, const char *key, json_t **out)
{
    int rc = ck_array(c, ptr, root, key, false, out);
    if (rc)
        return rc;
    if (*out && json_array_size(*out) > RUN_SCENARIO_MAX_ITEMS) {
        char p[RUN_PTR_MAX];
        return run_doc_err(c->doc, c->err, -EINVAL, run_ptr_join(p, sizeof(p), ptr, key),
                           "at most %d entries", RUN_SCENARIO_MAX_ITEMS);
    }
    return 0;
}

static int dup_name(run_ck *c, const char *ptr, const char *what, const char *name)
{
    return run_doc_err(c->doc, c->err, -EINVAL, ptr, "%s \"%s\" is defined twice", what, name);
}

/* ---- sections ---- */

static int parse_header(run_ck *c, run_scenario *s, json_t *root)
{
    int rc;
    const char *schema;
    if ((rc = ck_object(c, "", root, top_keys)) ||
        (rc = ck_str(c, "", root, "$schema", false, &schema)) ||
        (rc = ck_str(c, "", root, "name", false, &s->name)) ||
        (rc = ck_str(c, "", root, "description", false, &s->description)))
        return rc;
    if (s->name && !*s->name)
        return run_doc_err(c->doc, c->err, -EINVAL, "/name", "expected a non-empty name");
    json_t *tags = NULL;
    if ((rc = ck_array(c, "", root, "tags", false, &tags)))
        return rc;
    if (tags) {
        s->ntags = json_array_size(tags);
        s->tags = calloc(s->ntags + 1, sizeof(*s->tags));
        if (!s->tags)
            return oom(c);
        for (size_t i = 0; i < s->ntags; i++) {
            char p[RUN_PTR_MAX];
            run_ptr_index(p, sizeof(p), "/tags", i);
            json_t *t = json_array_get(tags, i);
            const char *v = json_string_value(t);
            bool ok = v && *v && strlen(v) <= 64;
            for (const char *q = v; ok && *q; q++)
                ok = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                     (*q >= '0' && *q <= '9') || *q == '.' || *q == '_' || *q == '-';
            if (!ok)
                return run_doc_err(c->doc, c->err, -EINVAL, p,
                                   "expected a tag of 1 to 64 characters from [A-Za-z0-9._-]");
            s->tags[i] = v;
        }
    }
    json_t *seed = json_object_get(root, "seed");
    if (seed) {
        if (!json_is_integer(seed) || json_integer_value(seed) < 0)
            return run_doc_err(c->doc, c->err, -EINVAL, "/seed",
                               "expected a non-negative integer seed");
        s->seed = (uint64_t)json_integer_value(seed);
        s->has_seed = true;
    }
    s->timeout_ns = RUN_DEFAULT_TIMEOUT_NS;
    s->backoff_scale = 1.0;
    if ((rc = ck_duration(c, "", root, "timeout", false, &s->timeout_ns)) ||
        (rc = ck_duration(c, "", root, "duration", false, &s->duration_ns)) ||
        (rc = ck_number(c, "", root, "backoff_scale", false, 0.0001, 100, &s->backoff_scale)))
        return rc;
    if (s->timeout_ns <= 0)
        return run_doc_err(c->doc, c->err, -EINVAL, "/timeout", "expected a positive duration");
    if (s->duration_ns > s->timeout_ns)
        return run_doc_err(c->doc, c->err, -EINVAL, "/duration",
                           "the scenario cannot run longer than its timeout");
    json_t *vars = json_object_get(root, "vars");
    if (vars) {
        if (!json_is_object(vars))
            return run_doc_err(c->doc, c->err, -EINVAL, "/vars",
                               "expected an object of names to strings");
        const char *k;
        json_t *v;
        json_object_foreach (vars, k, v) {
            char p[RUN_PTR_MAX], name[RUN_TMPL_NAME_MAX + 8];
            run_ptr_join(p, sizeof(p), "/vars", k);
            if (!json_is_string(v) && !json_is_number(v) && !json_is_boolean(v))
                return run_doc_err(c->doc, c->err, -EINVAL, p,
                                   "expected a string, number or boolean");
            snprintf(name, sizeof(name), "vars.%s", k);
            if (run_vars_set(s->vars, name, NULL))
                return run_doc_err_key(c->doc, c->err, -EINVAL, p,
                                       "a variable name has no spaces, \"{\", \"}\" or \"$\"");
        }
    }
    return 0;
}

static int parse_logs(run_ck *c, run_scenario *s, json_t *root)
{
    json_t *arr = NULL;
    int rc = array_of(c, "", root, "logs", &arr);
    if (rc || !arr)
        return rc;
    s->nlogs = json_array_size(arr);
    s->logs = calloc(s->nlogs + 1, sizeof(*s->logs));
    s->stream_names = calloc(s->nlogs + 1, sizeof(*s->stream_names));
    if (!s->logs || !s->stream_names)
        return oom(c);
    for (size_t i = 0; i < s->nlogs; i++) {
        run_log_item *it = &s->logs[i];
        run_log_spec *l = &it->spec;
        const char *ptr = run_ptr_index(it->ptr, sizeof(it->ptr), "/logs", i);
        json_t *o = json_array_get(arr, i);
        static const char *const formats[] = {"docker", "cri", NULL};
        static const char *const outs[] = {"stdout", "stderr", NULL};
        int fmt = 0, out = 0;
        int64_t lines = 0, size = 100;
        l->ns = "default";
        l->rate = 0;
        if ((rc = ck_object(c, ptr, o, log_keys)) ||
            (rc = ck_name(c, ptr, o, "pod", true, &l->pod)) ||
            (rc = ck_name(c, ptr, o, "namespace", false, &l->ns)) ||
            (rc = ck_name(c, ptr, o, "container", true, &l->container)) ||
            (rc = ck_str(c, ptr, o, "container_id", false, &l->container_id)) ||
            (rc = ck_enum(c, ptr, o, "format", false, formats, &fmt)) ||
            (rc = ck_enum(c, ptr, o, "output", false, outs, &out)) ||
            (rc = ck_int(c, ptr, o, "lines", false, 0, 100000000, &lines)) ||
            (rc = ck_number(c, ptr, o, "rate", false, 0, 1e7, &l->rate)) ||
            (rc = ck_duration(c, ptr, o, "start", false, &l->start_ns)) ||
            (rc = ck_int(c, ptr, o, "line_size", false, 1, RUN_LOG_MAX_SIZE, &size)))
            return rc;
        l->stream = l->pod;
        if ((rc = ck_name(c, ptr, o, "stream", false, &l->stream)))
            return rc;
        l->format = fmt ? RUN_LOG_CRI : RUN_LOG_DOCKER;
        l->to_stderr = out == 1;
        l->lines = (uint64_t)lines;
        l->line_size = (size_t)size;
        if (l->container_id) {
            bool ok = strlen(l->container_id) == 64;
            for (const char *q = l->container_id; ok && *q; q++)
                ok = (*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f');
            if (!ok) {
                char p[RUN_PTR_MAX];
                return run_doc_err(c->doc, c->err, -EINVAL,
                                   run_ptr_join(p, sizeof(p), ptr, "container_id"),
                                   "expected 64 lowercase hex digits, like a docker container id");
            }
        }
        json_t *rot = json_object_get(o, "rotate");
        if (rot) {
            char rp[RUN_PTR_MAX];
            run_ptr_join(rp, sizeof(rp), ptr, "rotate");
            static const char *const modes[] = {"rename", "copytruncate", NULL};
            int mode = 0;
            int64_t keep = 5;
            uint64_t rsize = 0;
            if ((rc = ck_object(c, rp, rot, rotate_keys)) ||
                (rc = ck_enum(c, rp, rot, "mode", false, modes, &mode)) ||
                (rc = ck_size(c, rp, rot, "size", true, &rsize)) ||
                (rc = ck_int(c, rp, rot, "keep", false, 1, RUN_LOG_MAX_KEEP, &keep)))
                return rc;
            if (rsize == 0) {
                char p[RUN_PTR_MAX];
                return run_doc_err(c->doc, c->err, -EINVAL, run_ptr_join(p, sizeof(p), rp, "size"),
                                   "expected a size above 0");
            }
            l->rotate = mode ? RUN_ROTATE_COPYTRUNCATE : RUN_ROTATE_RENAME;
            l->rotate_size = rsize;
            l->keep = (unsigned)keep;
        } else {
            l->keep = 5;
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(s->logs[k].spec.stream, l->stream) == 0) {
                char p[RUN_PTR_MAX];
                run_ptr_join(p, sizeof(p), ptr, json_object_get(o, "stream") ? "stream" : "pod");
                return dup_name(c, p, "log stream", l->stream);
            }
            if (strcmp(s->logs[k].spec.pod, l->pod) == 0 &&
                strcmp(s->logs[k].spec.ns, l->ns) == 0 &&
                strcmp(s->logs[k].spec.container, l->container) == 0 && !l->container_id &&
                !s->logs[k].spec.container_id) {
                /* ids derive from the stream, so files differ; fine */
            }
        }
        s->stream_names[i] = l->stream;
        char name[RUN_TMPL_NAME_MAX];
        snprintf(name, sizeof(name), "log.%s.path", l->stream);
        if ((rc = run_vars_set(s->vars, name, NULL)))
            return oom(c);
        snprintf(name, sizeof(name), "log.%s.container_id", l->stream);
        if ((rc = run_vars_set(s->vars, name, NULL)))
            return oom(c);
    }
    return 0;
}

static int parse_files(run_ck *c, run_scenario *s, json_t *root)
{
    json_t *arr = NULL;
    int rc = array_of(c, "", root, "files", &arr);
    if (rc || !arr)
        return rc;
    s->nfiles = json_array_size(arr);
    s->files = calloc(s->nfiles + 1, sizeof(*s->files));
    if (!s->files)
        return oom(c);
    for (size_t i = 0; i < s->nfiles; i++) {
        run_file_spec *f = &s->files[i];
        const char *ptr = run_ptr_index(f->ptr, sizeof(f->ptr), "/files", i);
        json_t *o = json_array_get(arr, i);
        const char *tmpl = NULL, *content = NULL, *mode = "0644";
        f->render = true;
        if ((rc = ck_object(c, ptr, o, file_keys)) ||
            (rc = ck_str(c, ptr, o, "path", true, &f->path)) ||
            (rc = ck_str(c, ptr, o, "template", false, &tmpl)) ||
            (rc = ck_str(c, ptr, o, "content", false, &content)) ||
            (rc = ck_bool(c, ptr, o, "render", false, &f->render)) ||
            (rc = ck_str(c, ptr, o, "mode", false, &mode)))
            return rc;
        char p[RUN_PTR_MAX];
        if (!*f->path || f->path[0] == '/' || strstr(f->path, ".."))
            return run_doc_err(c->doc, c->err, -EINVAL, run_ptr_join(p, sizeof(p), ptr, "path"),
                               "expected a path inside the work dir (relative, without \"..\")");
        char *end;
        long m = strtol(mode, &end, 8);
        if (!*mode || *end || m < 0 || m > 07777)
            return run_doc_err(c->doc, c->err, -EINVAL, run_ptr_join(p, sizeof(p), ptr, "mode"),
                               "expected an octal file mode like \"0644\" or \"0755\"");
        f->mode = (mode_t)m;
        if (!tmpl == !content)
            return run_doc_err(c->doc, c->err, -EINVAL, ptr,
                               "give exactly one of \"template\" (a file, relative to the "
                               "scenario) or \"content\" (the text)");
        if (content) {
            f->text = strdup(content);
            f->len = strlen(content);
            if (!f->text)
                return oom(c);
            if (f->render &&
                (rc = check_tmpl(c, s, run_ptr_join(p, sizeof(p), ptr, "content"), content)))
                return rc;
            continue;
        }
        f->template_path = tmpl[0] == '/' ? strdup(tmpl) : fs_join(run_doc_dir(c->doc), tmpl);
        if (!f->template_path)
            return oom(c);
        efk_err e;
        efk_err_init(&e);
        if (fs_read_file(f->template_path, (size_t)16 << 20, &f->text, &f->len, &e))
            return run_doc_err(c->doc, c->err, -EINVAL, run_ptr_join(p, sizeof(p), ptr, "template"),
                               "%s", e.msg);
        if (f->render) {
            size_t off = 0;
            efk_err_init(&e);
            if (run_tmpl_check(s->vars, f->text, f->len, &off, &e)) {
                /* the place is in the template file */
                int line, col;
                run_tmpl_line_col(f->text, off, &line, &col);
                efk_err_set(c->err, -EINVAL, "%s (rendered by %s %s)", e.msg, run_doc_file(c->doc),
                            run_ptr_join(p, sizeof(p), ptr, "template"));
                efk_err_at(c->err, "");
                efk_err_pos(c->err, f->template_path, line, col);
                return -EINVAL;
            }
        }
    }
    return 0;
}

/* Names first: processes, steps and log streams may refer to each other. */
static int collect_names(run_ck *c, run_scenario *s, json_t *root)
{
    json_t *procs = NULL, *steps = NULL;
    int rc;
    if ((rc = array_of(c, "", root, "processes", &procs)) ||
        (rc = array_of(c, "", root, "timeline", &steps)))
        return rc;
    s->nprocs = procs ? json_array_size(procs) : 0;
    s->nsteps = steps ? json_array_size(steps) : 0;
    s->procs = calloc(s->nprocs + 1, sizeof(*s->procs));
    s->proc_names = calloc(s->nprocs + 1, sizeof(*s->proc_names));
    s->steps = calloc(s->nsteps + 1, sizeof(*s->steps));
    s->step_names = calloc(s->nsteps + 1, sizeof(*s->step_names));
    if (!s->procs || !s->proc_names || !s->steps || !s->step_names)
        return oom(c);
    for (size_t i = 0; i < s->nprocs; i++) {
        run_proc_spec *p = &s->procs[i];
        const char *ptr = run_ptr_index(p->ptr, sizeof(p->ptr), "/processes", i);
        json_t *o = json_array_get(procs, i);
        if ((rc = ck_object(c, ptr, o, proc_keys)) ||
            (rc = ck_name(c, ptr, o, "name", true, &p->name)))
            return rc;
        for (size_t k = 0; k < i; k++)
            if (strcmp(s->proc_names[k], p->name) == 0) {
                char q[RUN_PTR_MAX];
                return dup_name(c, run_ptr_join(q, sizeof(q), ptr, "name"), "process", p->name);
            }
        s->proc_names[i] = p->name;
    }
    for (size_t i = 0; i < s->nsteps; i++) {
        run_step_spec *st = &s->steps[i];
        const char *ptr = run_ptr_index(st->ptr, sizeof(st->ptr), "/timeline", i);
        json_t *o = json_array_get(steps, i);
        if ((rc = ck_object(c, ptr, o, step_keys)))
            return rc;
        st->id = NULL;
        if ((rc = ck_name(c, ptr, o, "id", false, &st->id)))
            return rc;
        if (!st->id) {
            /* "timeline/N": unique, and what reports call it */
            st->id = st->ptr + 1;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(s->step_names[k], st->id) == 0) {
                char q[RUN_PTR_MAX];
                return dup_name(c, run_ptr_join(q, sizeof(q), ptr, "id"), "step", st->id);
            }
        s->step_names[i] = st->id;
    }
    return 0;
}

static int parse_processes(run_ck *c, run_scenario *s, json_t *root, const run_names *names)
{
    json_t *procs = json_object_get(root, "processes");
    int rc;
    const char *idn[64];
    size_t nid = run_fakes_identities(s->fakes, idn, 64);
    for (size_t i = 0; i < s->nprocs; i++) {
        run_proc_spec *p = &s->procs[i];
        const char *ptr = p->ptr;
        json_t *o = json_array_get(procs, i);
        char q[RUN_PTR_MAX];
        json_t *argv = NULL;
        if ((rc = ck_array(c, ptr, o, "argv", true, &argv)))
            return rc;
        if (json_array_size(argv) == 0)
            return run_doc_err(c->doc, c->err, -EINVAL, run_ptr_join(q, sizeof(q), ptr, "argv"),
                               "expected at least the program to run");
        p->argc = json_array_size(argv);
        p->argv = calloc(p->argc + 1, sizeof(*p->argv));
        if (!p->argv)
            return oom(c);
        run_ptr_join(q, sizeof(q), ptr, "argv");
        for (size_t k = 0; k < p->argc; k++) {
            char ap[RUN_PTR_MAX];
            run_ptr_index(ap, sizeof(ap), q, k);
            json_t *a = json_array_get(argv, k);
            if (!json_is_string(a))
                return run_doc_err(c->doc, c->err, -EINVAL, ap, "expected a string");
            p->argv[k] = json_string_value(a);
            if ((rc = check_tmpl(c, s, ap, p->argv[k])))
                return rc;
        }
        json_t *env = json_object_get(o, "env");
        if (env) {
            run_ptr_join(q, sizeof(q), ptr, "env");
            if (!json_is_object(env))
                return run_doc_err(c->doc, c->err, -EINVAL, q,
                                   "expected an object of variable names to values");
            p->nenv = json_object_size(env);
            p->env_names = calloc(p->nenv + 1, sizeof(*p->env_names));
            p->env_values = calloc(p->nenv + 1, sizeof(*p->env_values));
            if (!p->env_names || !p->env_values)
                return oom(c);
            size_t k = 0;
            const char *name;
            json_t *val;
            json_object_foreach (env, name, val) {
                char ep[RUN_PTR_MAX];
                run_ptr_join(ep, sizeof(ep), q, name);
                if (!*name || strchr(name, '='))
                    return run_doc_err_key(c->doc, c->err, -EINVAL, ep,
                                           "an environment variable name is non-empty and has no "
                                           "\"=\"");
                if (!json_is_string(val))
                    return run_doc_err(c->doc, c->err, -EINVAL, ep, "expected a string value");
                p->env_names[k] = name;
                p->env_values[k] = json_string_value(val);
                if ((rc = check_tmpl(c, s, ep, p->env_values[k])))
                    return rc;
                k++;
            }
        }
        json_t *inh = NULL;
        if ((rc = ck_array(c, ptr, o, "inherit_env", false, &inh)))
            return rc;
        if (inh) {
            p->ninherit = json_array_size(inh);
            p->inherit = calloc(p->ninherit + 1, sizeof(*p->inherit));
            if (!p->inherit)
                return oom(c);
            for (size_t k = 0; k < p->ninherit; k++) {
                const char *n = json_string_value(json_array_get(inh, k));
                if (!n || !*n || strchr(n, '=')) {
                    char ip[RUN_PTR_MAX];
                    run_ptr_join(q, sizeof(q), ptr, "inherit_env");
                    return run_doc_err(c->doc, c->err, -EINVAL, run_ptr_index(ip, sizeof(ip), q, k),
                                       "expected an environment variable name");
                }
                p->inherit[k] = n;
            }
        }
        if ((rc = ck_str(c, ptr, o, "cwd", false, &p->cwd)) ||
            (p->cwd && (rc = check_tmpl(c, s, run_ptr_join(q, sizeof(q), ptr, "cwd"), p->cwd))))
            return rc;
        if ((rc = ck_str(c, ptr, o, "identity", false, &p->identity)))
            return rc;
        if (p->identity) {
            bool found = false;
            for (size_t k = 0; k < nid; k++)
                found = found || strcmp(idn[k], p->identity) == 0;
            if (!found) {
                const char *near[1];
                run_ptr_join(q, sizeof(q), ptr, "identity");
                if (!nid)
                    return run_doc_err(c->doc, c->err, -EINVAL, q,
                                       "no API server identities in this scenario");
                if (run_nearest(p->identity, idn, nid, near, 1))
                    return run_doc_err(c->doc, c->err, -EINVAL, q,
                                       "no identity named \"%s\" in fakes.apiserver (did you mean "
                                       "\"%s\"?)",
                                       p->identity, near[0]);
                return run_doc_err(c->doc, c->err, -EINVAL, q,
                                   "no identity named \"%s\" in fakes.apiserver", p->identity);
            }
        }
        json_t *start = json_object_get(o, "start");
        if (start) {
            run_ptr_join(q, sizeof(q), ptr, "start");
            if (json_is_false(start))
                p->manual = true;
            else if (json_is_true(start))
                p->manual = false;
            else if ((rc = run_pred_parse(c, q, start, names, &p->start)))
                return rc;
        }
        json_t *ready = json_object_get(o, "ready");
        if (ready && (rc = run_pred_parse(c, run_ptr_join(q, sizeof(q), ptr, "ready"), ready, names,
                                          &p->ready)))
            return rc;
        static const char *const policies[] = {"never", "on-failure", "always", NULL};
        int pol = 0;
        p->grace_ns = RUN_DEFAULT_GRACE_NS;
        if ((rc = ck_duration(c, ptr, o, "ready_timeout", false, &p->ready_timeout_ns)) ||
            (rc = ck_enum(c, ptr, o, "restart", false, policies, &pol)) ||
            (rc = ck_duration(c, ptr, o, "stop_grace", false, &p->grace_ns)))
            return rc;
        p->restart = (run_restart)pol;
    }
    return 0;
}

static int parse_timeline(run_ck *c, run_scenario *s, json_t *root, const run_names *names)
{
    json_t *steps = json_object_get(root, "timeline");
    int rc;
    for (size_t i = 0; i < s->nsteps; i++) {
        run_step_spec *st = &s->steps[i];
        const char *ptr = st->ptr;
        json_t *o = json_array_get(steps, i);
        char q[RUN_PTR_MAX];
        st->has_at = json_object_get(o, "at") != NULL;
        if ((rc = ck_duration(c, ptr, o, "at", false, &st->at_ns)))
            return rc;
        json_t *when = json_object_get(o, "when");
        if (when && (rc = run_pred_parse(c, run_ptr_join(q, sizeof(q), ptr, "when"), when, names,
                                         &st->when)))
            return rc;
        if (!st->has_at && !st->when)
            return run_doc_err(c->doc, c->err, -EINVAL, ptr,
                               "a step needs \"at\" (a time from the start, like \"5s\") or "
                               "\"when\" (a condition), or both");
        json_t *rep = json_object_get(o, "repeat");
        st->times = 1;
        if (rep) {
            run_ptr_join(q, sizeof(q), ptr, "repeat");
            int64_t times = 0;
            if ((rc = ck_object(c, q, rep, repeat_keys)) ||
                (rc = ck_duration(c, q, rep, "every", true, &st->every_ns)) ||
                (rc = ck_int(c, q, rep, "times", false, 1, 1000000, &times)))
                return rc;
            if (st->every_ns <= 0) {
                char r[RUN_PTR_MAX];
                return run_doc_err(c->doc, c->err, -EINVAL, run_ptr_join(r, sizeof(r), q, "every"),
                                   "expected a positive duration");
            }
            json_t *until = json_object_get(rep, "until");
            char r[RUN_PTR_MAX];
            if (until && (rc = run_pred_parse(c, run_ptr_join(r, sizeof(r), q, "until"), until,
                                              names, &st->until)))
                return rc;
            st->repeat = true;
            st->times = (uint64_t)times;
        }
        json_t *acts = NULL;
        if ((rc = ck_array(c, ptr, o, "do", true, &acts)))
            return rc;
        st->nactions = json_array_size(acts);
        st->actions = calloc(st->nactions + 1, sizeof(*st->actions));
        if (!st->actions)
            return oom(c);
        run_ptr_join(q, sizeof(q), ptr, "do");
        for (size_t k = 0; k < st->nactions; k++) {
            char ap[RUN_PTR_MAX];
            run_ptr_index(ap, sizeof(ap), q, k);
            if ((rc = run_action_parse(c, ap, json_array_get(acts, k), names, run_doc_dir(c->doc),
                                       &st->actions[k])))
                return rc;
        }
    }
    return 0;
}

static int parse_expect(run_ck *c, run_scenario *s, json_t *root, const run_names *names)
{
    json_t *arr = NULL;
    int rc = array_of(c, "", root, "expect", &arr);
    if (rc || !arr)
        return rc;
    s->nexpects = json_array_size(arr);
    s->expects = calloc(s->nexpects + 1, sizeof(*s->expects));
    if (!s->expects)
        return oom(c);
    for (size_t i = 0; i < s->nexpects; i++) {
        run_expect_spec *e = &s->expects[i];
        const char *ptr = run_ptr_index(e->ptr, sizeof(e->ptr), "/expect", i);
        json_t *o = json_array_get(arr, i);
        char q[RUN_PTR_MAX];
        char tmp[96];
        e->from_step = -1;
        if (!json_is_object(o))
            return run_doc_err(c->doc, c->err, -EINVAL, ptr, "expected an object, got %s",
                               run_json_describe(o, tmp, sizeof(tmp)));
        /* modifiers, then exactly one kind key */
        json_t *kind_obj = json_object();
        if (!kind_obj)
            return oom(c);
        const char *k;
        json_t *v;
        json_object_foreach (o, k, v) {
            bool mod = false;
            for (const char *const *m = expect_mods; *m; m++)
                mod = mod || strcmp(*m, k) == 0;
            if (!mod)
                json_object_set(kind_obj, k, v);
        }
        if (json_object_size(kind_obj) != 1) {
            size_t n = json_object_size(kind_obj);
            json_decref(kind_obj);
            char list[800];
            run_join_names(run_pred_kind_names, list, sizeof(list));
            return run_doc_err(c->doc, c->err, -EINVAL, ptr,
                               "%s; an expectation is one kind (%s) with optional \"name\", "
                               "\"within\", \"always\", \"never\" and \"from\"",
                               n ? "more than one kind of expectation in one entry"
                                 : "no kind of expectation given",
                               list);
        }
        rc = run_pred_parse(c, ptr, kind_obj, names, &e->pred);
        json_decref(kind_obj);
        if (rc)
            return rc;
        bool always = false, never = false;
        bool has_within = json_object_get(o, "within") != NULL;
        if ((rc = ck_str(c, ptr, o, "name", false, &e->name)) ||
            (rc = ck_duration(c, ptr, o, "within", false, &e->within_ns)) ||
            (rc = ck_bool(c, ptr, o, "always", false, &always)) ||
            (rc = ck_bool(c, ptr, o, "never", false, &never)))
            return rc;
        if (has_within + always + never > 1)
            return run_doc_err(c->doc, c->err, -EINVAL, ptr,
                               "use at most one of \"within\", \"always\" and \"never\"");
        if ((json_object_get(o, "always") && !always) || (json_object_get(o, "never") && !never))
            return run_doc_err(
                c->doc, c->err, -EINVAL,
                run_ptr_join(q, sizeof(q), ptr, json_object_get(o, "always") ? "always" : "never"),
                "expected true (leave the key out for an end-of-run check)");
        e->mode = has_within ? RUN_EXPECT_WITHIN
                  : always   ? RUN_EXPECT_ALWAYS
                  : never    ? RUN_EXPECT_NEVER
                             : RUN_EXPECT_END;
        const char *from = NULL;
        if ((rc = ck_str(c, ptr, o, "from", false, &from)))
            return rc;
        if (from) {
            run_ptr_join(q, sizeof(q), ptr, "from");
            if (e->mode == RUN_EXPECT_END)
                return run_doc_err(c->doc, c->err, -EINVAL, q,
                                   "\"from\" needs \"within\", \"always\" or \"never\"");
            for (size_t st = 0; st < names->nsteps; st++)
                if (strcmp(names->steps[st], from) == 0)
                    e->from_step = (int)st;
            if (e->from_step < 0) {
                const char *near[1];
                if (run_nearest(from, names->steps, names->nsteps, near, 1))
                    return run_doc_err(c->doc, c->err, -EINVAL, q,
                                       "no timeline step \"%s\" (did you mean \"%s\"?)", from,
                                       near[0]);
                return run_doc_err(c->doc, c->err, -EINVAL, q, "no timeline step \"%s\"", from);
            }
        }
        if (!e->name) {
            if (asprintf(&e->made_name, "%s %s", ptr + 1, run_pred_kind_names[e->pred->kind]) < 0)
                return oom(c);
            e->name = e->made_name;
        }
    }
    return 0;
}

/* The template names every scenario has, then the fakes' and identities'. */
static int declare_vars(run_scenario *s)
{
    static const char *const base[] = {"workdir",      "bin",           "ca", "log_dir", "seed",
                                       "scenario.dir", "scenario.name", NULL};
    int rc;
    for (const char *const *b = base; *b; b++)
        if ((rc = run_vars_set(s->vars, *b, NULL)))
            return rc;
    if ((rc = run_fakes_declare_vars(s->fakes, s->vars)))
        return rc;
    return 0;
}

void run_scenario_names(const run_scenario *s, run_names *out)
{
    out->procs = s->proc_names;
    out->nprocs = s->nprocs;
    out->steps = s->step_names;
    out->nsteps = s->nsteps;
    out->streams = s->stream_names;
    out->nstreams = s->nlogs;
    out->vars = s->vars;
}

static const char *basename_noext(const char *file, char *out, size_t outsz)
{
    const char *b = strrchr(file, '/');
    b = b ? b + 1 : file;
    snprintf(out, outsz, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && dot != out && strcmp(dot, ".json") == 0)
        *dot = '\0';
    return out;
}

int run_scenario_from_doc(run_doc *doc, run_scenario **out, efk_err *err)
{
    run_scenario *s = calloc(1, sizeof(*s));
    if (!s) {
        run_doc_free(doc);
        return efk_err_set(err, -ENOMEM, "out of memory");
    }
    s->doc = doc;
    s->file = run_doc_file(doc);
    run_ck ck = {doc, err};
    run_ck *c = &ck;
    json_t *root = run_doc_root(doc);
    int rc;
    s->vars = run_vars_new();
    if (!s->vars) {
        rc = oom(c);
        goto out;
    }
    if (!json_is_object(root)) {
        char tmp[96];
        rc = run_doc_err(doc, err, -EINVAL, "",
                         "expected a scenario object ({\"name\": ..., \"processes\": [...], ...}), "
                         "got %s",
                         run_json_describe(root, tmp, sizeof(tmp)));
        goto out;
    }
    if ((rc = parse_header(c, s, root)))
        goto out;
    if (!s->name) {
        static char dflt[256];
        (void)dflt;
        char tmp[256];
        basename_noext(s->file, tmp, sizeof(tmp));
        /* keep it alive with the doc: store as the "name" member */
        json_object_set_new(root, "name", json_string(tmp));
        s->name = json_string_value(json_object_get(root, "name"));
        if (!s->name) {
            rc = oom(c);
            goto out;
        }
    }
    if ((rc = run_fakes_config_parse(c, json_object_get(root, "fakes"), run_doc_dir(doc),
                                     &s->fakes)))
        goto out;
    if ((rc = declare_vars(s))) {
        rc = oom(c);
        goto out;
    }
    run_names names;
    if ((rc = parse_logs(c, s, root)) || (rc = collect_names(c, s, root)))
        goto out;
    run_scenario_names(s, &names);
    if ((rc = parse_files(c, s, root)) || (rc = parse_processes(c, s, root, &names)) ||
        (rc = parse_timeline(c, s, root, &names)) || (rc = parse_expect(c, s, root, &names)))
        goto out;
    *out = s;
    return 0;
out:
    run_scenario_free(s);
    return rc;
}

int run_scenario_load(const char *path, char *const *sets, size_t nsets, run_scenario **out,
                      efk_err *err)
{
    run_doc *doc = NULL;
    int rc = path ? run_doc_load(path, &doc, err) : run_doc_empty("(no scenario)", &doc);
    if (rc) {
        if (!path)
            efk_err_set(err, rc, "out of memory");
        return rc;
    }
    for (size_t i = 0; i < nsets; i++) {
        if ((rc = run_set_apply(doc, sets[i], err))) {
            run_doc_free(doc);
            return rc;
        }
    }
    return run_scenario_from_doc(doc, out, err);
}

void run_scenario_free(run_scenario *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nfiles; i++) {
        free(s->files[i].text);
        free(s->files[i].template_path);
    }
    free(s->files);
    for (size_t i = 0; i < s->nprocs; i++) {
        run_proc_spec *p = &s->procs[i];
        free(p->argv);
        free(p->env_names);
        free(p->env_values);
        free(p->inherit);
        run_pred_free(p->start);
        run_pred_free(p->ready);
    }
    free(s->procs);
    for (size_t i = 0; i < s->nsteps; i++) {
        run_step_spec *st = &s->steps[i];
        run_pred_free(st->when);
        run_pred_free(st->until);
        for (size_t k = 0; k < st->nactions; k++)
            run_action_cleanup(&st->actions[k]);
        free(st->actions);
    }
    free(s->steps);
    for (size_t i = 0; i < s->nexpects; i++) {
        run_pred_free(s->expects[i].pred);
        free(s->expects[i].made_name);
    }
    free(s->expects);
    free(s->logs);
    free(s->tags);
    free(s->proc_names);
    free(s->step_names);
    free(s->stream_names);
    run_fakes_config_free(s->fakes);
    run_vars_free(s->vars);
    run_doc_free(s->doc);
    free(s);
}

bool run_scenario_knows(const run_scenario *s, const char *name)
{
    return run_vars_known(s->vars, name);
}
