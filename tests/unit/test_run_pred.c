/* Conditions: parsing (with errors naming the place), and evaluation of
 * every kind that needs no fake API against a hand-made world: journals,
 * journal order, processes, output patterns (incremental), files, steps,
 * tcp, all/any/not. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/fsutil.h"
#include "run_pred.h"
#include "support/testutil.h"

typedef struct fx {
    char *dir;
    journal *j;
    run_world w;
    run_proc_rt procs[2];
    run_step_rt steps[2];
    run_doc *docs[32]; /* conditions borrow from their documents */
    size_t ndocs;
    run_doc *doc;
} fx;

static const char *const PROCS[] = {"agent", "helper"};
static const char *const STEPS[] = {"boot", "timeline/1"};
static const char *const STREAMS[] = {"app"};

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    f->dir = tu_tmpdir();
    journal_config jc = {.cap = 100};
    assert_int_equal(journal_new(&jc, &f->j), 0);
    f->w.clock = clock_system();
    f->w.start_ns = clock_mono_ns(f->w.clock);
    f->w.workdir = f->dir;
    f->w.journals[RUN_FAKE_ES] = f->j;
    for (int i = 0; i < 2; i++) {
        run_proc_init(&f->procs[i].proc, PROCS[i], RUN_RESTART_NEVER, 1000000000, 1.0);
        char name[64];
        snprintf(name, sizeof(name), "%s.stdout", PROCS[i]);
        f->procs[i].out_path = fs_join(f->dir, name);
        snprintf(name, sizeof(name), "%s.stderr", PROCS[i]);
        f->procs[i].err_path = fs_join(f->dir, name);
    }
    f->w.procs = f->procs;
    f->w.nprocs = 2;
    f->w.steps = f->steps;
    f->w.nsteps = 2;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    journal_free(f->j);
    for (int i = 0; i < 2; i++) {
        free(f->procs[i].out_path);
        free(f->procs[i].err_path);
    }
    for (size_t i = 0; i < f->ndocs; i++)
        run_doc_free(f->docs[i]);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Parse one condition from text; asserts success. */
static run_pred *cond(fx *f, const char *text)
{
    efk_err err;
    efk_err_init(&err);
    assert_true(f->ndocs < 32);
    char wrapped[2048];
    snprintf(wrapped, sizeof(wrapped), "{\"when\": %s}", text);
    assert_int_equal(run_doc_parse("t.json", wrapped, strlen(wrapped), &f->doc, &err), 0);
    f->docs[f->ndocs++] = f->doc;
    run_ck ck = {f->doc, &err};
    run_names names = {PROCS, 2, STEPS, 2, STREAMS, 1, NULL};
    run_pred *p = NULL;
    int rc =
        run_pred_parse(&ck, "/when", json_object_get(run_doc_root(f->doc), "when"), &names, &p);
    if (rc) {
        char out[2000];
        fprintf(stderr, "%s\n", efk_err_render(&err, out, sizeof(out)));
    }
    assert_int_equal(rc, 0);
    return p;
}

static char *cond_err(fx *f, const char *text)
{
    efk_err err;
    efk_err_init(&err);
    assert_true(f->ndocs < 32);
    char wrapped[2048];
    snprintf(wrapped, sizeof(wrapped), "{\"when\": %s}", text);
    assert_int_equal(run_doc_parse("t.json", wrapped, strlen(wrapped), &f->doc, &err), 0);
    f->docs[f->ndocs++] = f->doc;
    run_ck ck = {f->doc, &err};
    run_names names = {PROCS, 2, STEPS, 2, STREAMS, 1, NULL};
    run_pred *p = NULL;
    assert_int_equal(
        run_pred_parse(&ck, "/when", json_object_get(run_doc_root(f->doc), "when"), &names, &p),
        -EINVAL);
    assert_null(p);
    char out[2000];
    return strdup(efk_err_render(&err, out, sizeof(out)));
}

static int eval(run_pred *p, fx *f, char *obs, size_t obssz)
{
    buf b;
    buf_init(&b, 0);
    int r = run_pred_eval(p, &f->w, &b);
    snprintf(obs, obssz, "%s", b.data ? b.data : "");
    buf_cleanup(&b);
    return r;
}

static void add_entry(fx *f, const char *method, const char *path, int status, const char *body)
{
    journal_entry e;
    memset(&e, 0, sizeof(e));
    e.listener = "http";
    e.method = method;
    e.path = path;
    e.query = "";
    e.identity = "";
    e.fault = "";
    e.headers[0].name = "User-Agent";
    e.headers[0].value = "rsyslog/8.2302";
    e.nheaders = 1;
    e.req_body = body ? body : "";
    e.req_body_len = body ? strlen(body) : 0;
    e.status = status;
    e.resp_body = "";
    assert_true(journal_add(f->j, &e) > 0);
}

static void test_journal_counts(void **state)
{
    fx *f = *state;
    run_pred *p = cond(f, "{\"journal\": {\"fake\": \"es\", \"method\": \"POST\", \"path\": "
                          "\"*/_bulk\", \"status\": [200, 201], \"header\": {\"user-agent\": "
                          "\"rsyslog*\"}, \"body\": \"efk:app:\", \"min\": 2}}");
    char obs[512];
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 0);
    assert_string_equal(obs, "0 matching requests");
    add_entry(f, "POST", "/logs/_bulk", 200, "{\"index\":{}}\n{\"m\":\"efk:app:1 x\"}\n");
    add_entry(f, "GET", "/logs/_bulk", 200, "efk:app:");     /* wrong method */
    add_entry(f, "POST", "/logs/_bulk", 429, "efk:app:2");   /* wrong status */
    add_entry(f, "POST", "/logs/_search", 200, "efk:app:2"); /* wrong path */
    add_entry(f, "POST", "/_bulk", 200, "nothing of ours");  /* wrong body */
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 0);
    assert_string_equal(obs, "1 matching request");
    add_entry(f, "POST", "/_bulk", 201, "efk:app:3");
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 1);
    assert_string_equal(obs, "2 matching requests");
    /* incremental: evaluating again does not count twice */
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 1);
    assert_string_equal(obs, "2 matching requests");
    buf d;
    buf_init(&d, 0);
    run_pred_describe(p, &d);
    assert_string_equal(d.data, "es received at least 2 requests POST */_bulk answered 200 or 201 "
                                "with user-agent: rsyslog* with body containing \"efk:app:\"");
    buf_cleanup(&d);
    /* the failure context lists the last entries on that path */
    buf ctx;
    buf_init(&ctx, 0);
    run_pred_context(p, &f->w, &ctx);
    if (!strstr(ctx.data, "last 5 of 6 es journal entries on that path"))
        fprintf(stderr, "context: %s\n", ctx.data);
    assert_non_null(strstr(ctx.data, "last 5 of 6 es journal entries on that path"));
    assert_non_null(strstr(ctx.data, "#3 POST /logs/_bulk -> 429"));
    buf_cleanup(&ctx);
    run_pred_free(p);
    /* exact and max */
    p = cond(f, "{\"journal\": {\"fake\": \"es\", \"path\": \"*/_bulk\", \"max\": 3}}");
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 0);
    assert_string_equal(obs, "5 matching requests");
    run_pred_free(p);
    p = cond(f, "{\"journal\": {\"fake\": \"apiserver\"}}");
    assert_int_equal(eval(p, f, obs, sizeof(obs)), -ENODEV);
    assert_string_equal(obs, "the apiserver fake is not running");
    run_pred_free(p);
}

static void test_journal_order(void **state)
{
    fx *f = *state;
    run_pred *p = cond(f, "{\"journal.order\": {\"fake\": \"es\", \"first\": {\"path\": "
                          "\"/_template*\"}, \"then\": {\"path\": \"*/_bulk\"}}}");
    char obs[512];
    add_entry(f, "GET", "/", 200, NULL);
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 0);
    assert_string_equal(obs, "neither was seen");
    add_entry(f, "POST", "/_bulk", 200, NULL);
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 0);
    assert_string_equal(obs, "only the second was seen (entry 2)");
    add_entry(f, "PUT", "/_template/x", 200, NULL);
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 0);
    assert_string_equal(obs, "first seen at entry 3, second at entry 2");
    run_pred_free(p);
    /* the right order */
    p = cond(f, "{\"journal.order\": {\"fake\": \"es\", \"first\": {\"method\": \"GET\"}, "
                "\"then\": {\"method\": \"PUT\"}}}");
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 1);
    run_pred_free(p);
}

static void test_process_kinds(void **state)
{
    fx *f = *state;
    char obs[512];
    run_pred *started = cond(f, "{\"process.started\": {\"process\": \"agent\"}}");
    run_pred *running = cond(f, "{\"process.running\": {\"process\": \"agent\"}}");
    run_pred *exited = cond(f, "{\"process.exited\": {\"process\": \"agent\", \"code\": 2}}");
    run_pred *killed =
        cond(f, "{\"process.exited\": {\"process\": \"agent\", \"signal\": \"KILL\"}}");
    run_pred *restarts =
        cond(f, "{\"process.restarts\": {\"process\": \"agent\", \"min\": 2, \"max\": 3}}");
    run_pred *ready = cond(f, "{\"process.ready\": {\"process\": \"agent\"}}");
    run_proc *p = &f->procs[0].proc;
    assert_int_equal(eval(started, f, obs, sizeof(obs)), 0);
    assert_string_equal(obs, "never started");
    p->state = RUN_PROC_RUNNING;
    p->pid = 4242;
    p->starts = 1;
    assert_int_equal(eval(started, f, obs, sizeof(obs)), 1);
    assert_int_equal(eval(running, f, obs, sizeof(obs)), 1);
    assert_string_equal(obs, "running (pid 4242, 0 restarts)");
    assert_int_equal(eval(ready, f, obs, sizeof(obs)), 0);
    f->procs[0].ready = true;
    assert_int_equal(eval(ready, f, obs, sizeof(obs)), 1);
    assert_int_equal(eval(exited, f, obs, sizeof(obs)), 0);
    p->state = RUN_PROC_EXITED;
    p->pid = 0;
    p->exited_once = true;
    p->exit_code = 2;
    assert_int_equal(eval(exited, f, obs, sizeof(obs)), 1);
    assert_int_equal(eval(killed, f, obs, sizeof(obs)), 0);
    assert_int_equal(eval(running, f, obs, sizeof(obs)), 0);
    p->exit_code = -1;
    p->exit_signal = SIGKILL;
    assert_int_equal(eval(exited, f, obs, sizeof(obs)), 0);
    assert_int_equal(eval(killed, f, obs, sizeof(obs)), 1);
    assert_string_equal(obs, "killed by SIGKILL (0 restarts)");
    assert_int_equal(eval(restarts, f, obs, sizeof(obs)), 0);
    p->restarts = 2;
    assert_int_equal(eval(restarts, f, obs, sizeof(obs)), 1);
    p->restarts = 4;
    assert_int_equal(eval(restarts, f, obs, sizeof(obs)), 0);
    run_pred_free(started);
    run_pred_free(running);
    run_pred_free(exited);
    run_pred_free(killed);
    run_pred_free(restarts);
    run_pred_free(ready);
}

static void test_output_incremental(void **state)
{
    fx *f = *state;
    char obs[512];
    run_pred *p = cond(f, "{\"process.output\": {\"process\": \"helper\", \"stream\": \"stderr\", "
                          "\"pattern\": \"^error: [0-9]+$\", \"count\": 2}}");
    run_pred *both = cond(f, "{\"process.output\": {\"process\": \"helper\", \"pattern\": \"x\"}}");
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 0); /* no file yet */
    FILE *e = fopen(f->procs[1].err_path, "w");
    FILE *o = fopen(f->procs[1].out_path, "w");
    fputs("error: 1\nerror: no\n", e);
    fputs("error: 5\n", o); /* stdout does not count for stderr */
    fflush(e);
    fflush(o);
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 0);
    assert_string_equal(obs, "1 matching line");
    /* a line still being written counts once it matches... */
    fputs("error: 2", e);
    fflush(e);
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 1);
    /* ...and is not counted twice when its newline arrives */
    fputs("\n", e);
    fflush(e);
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 1);
    assert_string_equal(obs, "2 matching lines");
    fputs("error: 3\n", e);
    fflush(e);
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 0);
    assert_string_equal(obs, "3 matching lines");
    fputs("x on stdout\n", o);
    fflush(o);
    assert_int_equal(eval(both, f, obs, sizeof(obs)), 1);
    fclose(e);
    fclose(o);
    run_pred_free(p);
    run_pred_free(both);
}

static void test_file_kind(void **state)
{
    fx *f = *state;
    char obs[512];
    run_pred *exists = cond(f, "{\"file\": {\"path\": \"etc/es.yml\", \"contains\": \"unicast\", "
                               "\"matches\": \"hosts: \\\\[[0-9., ]+\\\\]\"}}");
    run_pred *eq = cond(f, "{\"file\": {\"path\": \"etc/es.yml\", \"equals\": \"a\\n\"}}");
    run_pred *gone = cond(f, "{\"file\": {\"path\": \"etc/es.yml\", \"exists\": false}}");
    assert_int_equal(eval(exists, f, obs, sizeof(obs)), 0);
    assert_string_equal(obs, "etc/es.yml does not exist");
    assert_int_equal(eval(gone, f, obs, sizeof(obs)), 1);
    char *d = fs_join(f->dir, "etc");
    assert_int_equal(fs_mkdirs(d, 0755, NULL), 0);
    free(d);
    char *path = fs_join(f->dir, "etc/es.yml");
    tu_write(path, "discovery.zen.ping.unicast.hosts: [10.0.0.1, 10.0.0.2]\n");
    assert_int_equal(eval(exists, f, obs, sizeof(obs)), 1);
    assert_int_equal(eval(gone, f, obs, sizeof(obs)), 0);
    assert_int_equal(eval(eq, f, obs, sizeof(obs)), 0);
    tu_write(path, "a\n");
    assert_int_equal(eval(eq, f, obs, sizeof(obs)), 1);
    assert_int_equal(eval(exists, f, obs, sizeof(obs)), 0);
    assert_string_equal(obs, "etc/es.yml holds \"a\n\"");
    free(path);
    run_pred_free(exists);
    run_pred_free(eq);
    run_pred_free(gone);
}

static void test_step_and_logic(void **state)
{
    fx *f = *state;
    char obs[512];
    run_pred *p = cond(f, "{\"all\": [{\"step\": {\"step\": \"boot\"}}, {\"not\": {\"step\": "
                          "{\"step\": \"timeline/1\"}}}]}");
    run_pred *any = cond(f, "{\"any\": [{\"step\": {\"step\": \"boot\", \"min\": 2}}, {\"step\": "
                            "{\"step\": \"timeline/1\"}}]}");
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 0);
    if (!strstr(obs, "not yet: step \"boot\" ran at least 1 time (it ran 0 times)"))
        fprintf(stderr, "obs: %s\n", obs);
    assert_non_null(strstr(obs, "not yet: step \"boot\" ran at least 1 time (it ran 0 times)"));
    assert_int_equal(eval(any, f, obs, sizeof(obs)), 0);
    assert_string_equal(obs, "none of the 2 conditions holds");
    f->steps[0].runs = 1;
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 1);
    assert_int_equal(eval(any, f, obs, sizeof(obs)), 0);
    f->steps[1].runs = 1;
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 0);
    assert_int_equal(eval(any, f, obs, sizeof(obs)), 1);
    run_pred_free(p);
    run_pred_free(any);
}

static void test_tcp(void **state)
{
    fx *f = *state;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    getsockname(s, (struct sockaddr *)&a, &len);
    int port = ntohs(a.sin_port);
    char text[128];
    snprintf(text, sizeof(text), "{\"tcp\": {\"port\": %d}}", port);
    run_pred *p = cond(f, text);
    char obs[512];
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 0); /* bound, not listening */
    assert_int_equal(listen(s, 4), 0);
    assert_int_equal(eval(p, f, obs, sizeof(obs)), 1);
    close(s);
    run_pred_free(p);
}

static void test_parse_errors(void **state)
{
    fx *f = *state;
    char *m;
    m = cond_err(f, "{\"journl\": {\"fake\": \"es\"}}");
    assert_non_null(strstr(m, "t.json:1:11: /when/journl: unknown condition \"journl\" (did you "
                              "mean \"journal\"?); kinds: all, any, not, journal"));
    free(m);
    m = cond_err(f, "{\"process.exited\": {\"process\": \"agnet\"}}");
    assert_string_equal(m, "t.json:1:41: /when/process.exited/process: no process named "
                           "\"agnet\" (did you mean \"agent\"?)");
    free(m);
    m = cond_err(f, "{\"journal\": {\"fake\": \"kafka\"}}");
    assert_string_equal(m, "t.json:1:31: /when/journal/fake: expected one of \"apiserver\", "
                           "\"es\", \"rbd\", got the string \"kafka\"");
    free(m);
    m = cond_err(f, "{\"process.output\": {\"process\": \"agent\", \"pattern\": \"([\"}}");
    assert_non_null(strstr(m, "/when/process.output/pattern: expected a POSIX extended regular "
                              "expression"));
    free(m);
    m = cond_err(f, "{\"file\": {\"path\": \"../etc/passwd\"}}");
    assert_non_null(strstr(m, "/when/file/path: expected a path inside the work dir"));
    free(m);
    m = cond_err(f, "{\"tcp\": {\"port\": 80, \"host\": \"10.0.0.1\"}}");
    assert_non_null(strstr(m, "/when/tcp/host: expected a loopback IPv4 address"));
    free(m);
    m = cond_err(f, "{\"step\": {\"step\": \"boot\"}, \"file\": {\"path\": \"x\"}}");
    assert_non_null(strstr(m, "t.json:1:10: /when: expected a condition: an object with one key"));
    free(m);
    m = cond_err(
        f, "{\"process.exited\": {\"process\": \"agent\", \"code\": 1, \"signal\": \"TERM\"}}");
    assert_non_null(strstr(m, "a process exits with a code or dies of a signal, not both"));
    free(m);
    m = cond_err(f, "{\"journal\": {\"fake\": \"es\", \"count\": 1, \"min\": 1}}");
    assert_non_null(strstr(m, "/when/journal/count: \"count\" is an exact number"));
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_journal_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_incremental, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_step_and_logic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
