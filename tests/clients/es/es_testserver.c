/*
 * es_testserver - run the fake Elasticsearch alone, for client tests and
 * benchmarks: `es_testserver [-c FAKES_ES_JSON] [-s SEED]`.
 *
 * Prints "EFKSIM_ES_URL=http://127.0.0.1:PORT" and then "ready" on stdout
 * (flushed), then serves until SIGINT/SIGTERM or until stdin reaches EOF
 * (so a test that dies never leaves it behind), and exits 0.
 * The config is the scenario's "fakes.es" object, as a JSON string.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "efksim.h"
#include "testserver.h"

int main(int argc, char **argv)
{
    const char *conf = NULL;
    uint64_t seed = 1;
    int opt;
    while ((opt = getopt(argc, argv, "c:s:")) != -1) {
        if (opt == 'c')
            conf = optarg;
        else if (opt == 's')
            seed = strtoull(optarg, NULL, 10);
        else {
            fprintf(stderr, "usage: es_testserver [-c FAKES_ES_JSON] [-s SEED]\n");
            return 2;
        }
    }
    efk_es_config cfg;
    efk_es_config_init(&cfg);
    efk_err err;
    efk_err_init(&err);
    if (conf) {
        json_t *j = ts_json_arg("es_testserver", conf);
        if (!j)
            return 2;
        int rc = efk_es_config_parse(&cfg, j, ".", &err);
        json_decref(j);
        if (rc) {
            char msg[2048];
            fprintf(stderr, "es_testserver: fakes.es%s\n", efk_err_render(&err, msg, sizeof(msg)));
            return 2;
        }
    }
    efk_runtime rt;
    memset(&rt, 0, sizeof(rt));
    rt.clock = clock_system();
    rt.seed = seed;
    efk_es *es = NULL;
    if (efk_es_start(&cfg, &rt, &es, &err)) {
        char msg[2048];
        fprintf(stderr, "es_testserver: %s\n", efk_err_render(&err, msg, sizeof(msg)));
        efk_es_config_cleanup(&cfg);
        return 1;
    }
    efk_es_config_cleanup(&cfg);
    printf("EFKSIM_ES_URL=%s\nready\n", efk_es_url(es));
    fflush(stdout);
    ts_serve_stdin(NULL, NULL);
    efk_es_stop(es);
    return 0;
}
