/*
 * runtime.h - what every fake is given when it starts: the clock, the seed,
 * the work dir and the test PKI. Owned by whoever starts the fakes (the
 * runner, `efksim serve`, or a unit test); fakes borrow it for their life.
 */
#ifndef EFK_RUNTIME_H
#define EFK_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "pki.h"

typedef struct efk_runtime {
    efk_clock *clock;              /* borrowed; never NULL */
    uint64_t seed;                 /* scenario seed; derive rng streams from it */
    const char *workdir;           /* the work dir (journals go in workdir/journal/) */
    pki_ca *ca;                    /* test CA (issue certificates with it) */
    const char *ca_pem;            /* its certificate */
    const char *server_cert_pem;   /* server certificate (SANs: pki.h defaults) */
    const char *server_key_pem;    /* its key */
    size_t journal_cap;            /* entries kept in memory (0: default) */
    bool journal_files;            /* also write workdir/journal/<fake>.ndjson */
} efk_runtime;

#endif
