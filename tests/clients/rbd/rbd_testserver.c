/*
 * rbd_testserver - run the fake RBD lock store alone, for client tests:
 *   rbd_testserver [-c FAKES_RBD_JSON] [-s SEED] [-T WALL_NS]
 *
 * Prints "EFKSIM_RBD_MON=127.0.0.1:PORT" and then "ready" on stdout
 * (flushed), then serves until SIGINT/SIGTERM or until stdin reaches EOF (so
 * a test that dies never leaves it behind), and exits 0.
 *
 * -T freezes time: the store runs on a test clock starting at WALL_NS (Unix
 * nanoseconds), so dates in the output are the same on every run (golden
 * files). The clock then moves only when told on stdin:
 *   "advance <duration>"  (e.g. "advance 31s"), answered with "ok"
 * Fault delays always run on real time (the HTTP layer waits on CLOCK_MONOTONIC).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/duration.h"
#include "efksim.h"
#include "testserver.h"

/* "advance <duration>" moves the frozen clock. */
static void on_line(void *arg, char *line)
{
    efk_clock *test_clock = arg;
    int64_t ns = 0;
    if (strncmp(line, "advance ", 8) == 0 && test_clock && duration_parse(line + 8, &ns) == 0) {
        clock_test_advance(test_clock, ns);
        printf("ok\n");
    } else {
        printf("error: expected \"advance <duration>\" (with -T)\n");
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *conf = NULL;
    uint64_t seed = 1;
    long long frozen = 0;
    int opt;
    while ((opt = getopt(argc, argv, "c:s:T:")) != -1) {
        if (opt == 'c')
            conf = optarg;
        else if (opt == 's')
            seed = strtoull(optarg, NULL, 10);
        else if (opt == 'T')
            frozen = strtoll(optarg, NULL, 10);
        else {
            fprintf(stderr, "usage: rbd_testserver [-c FAKES_RBD_JSON] [-s SEED] [-T WALL_NS]\n");
            return 2;
        }
    }
    efk_rbd_config cfg;
    efk_rbd_config_init(&cfg);
    efk_err err;
    efk_err_init(&err);
    if (conf) {
        json_t *j = ts_json_arg("rbd_testserver", conf);
        if (!j)
            return 2;
        int rc = efk_rbd_config_parse(&cfg, j, ".", &err);
        json_decref(j);
        if (rc) {
            char msg[2048];
            fprintf(stderr, "rbd_testserver: fakes.rbd%s\n",
                    efk_err_render(&err, msg, sizeof(msg)));
            return 2;
        }
    }
    efk_clock *test_clock = frozen > 0 ? clock_test_new(INT64_C(1000000000), frozen) : NULL;
    efk_runtime rt;
    memset(&rt, 0, sizeof(rt));
    rt.clock = test_clock ? test_clock : clock_system();
    rt.seed = seed;
    efk_rbd *rbd = NULL;
    if (efk_rbd_start(&cfg, &rt, &rbd, &err)) {
        char msg[2048];
        fprintf(stderr, "rbd_testserver: %s\n", efk_err_render(&err, msg, sizeof(msg)));
        efk_rbd_config_cleanup(&cfg);
        clock_test_free(test_clock);
        return 1;
    }
    efk_rbd_config_cleanup(&cfg);
    printf("EFKSIM_RBD_MON=%s\nready\n", efk_rbd_mon(rbd));
    fflush(stdout);
    ts_serve_stdin(on_line, test_clock);
    efk_rbd_stop(rbd);
    clock_test_free(test_clock);
    return 0;
}
