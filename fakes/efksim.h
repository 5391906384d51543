/*
 * efksim.h - the public C API of efksim: start and stop each fake in-process,
 * read its URL, seed and inspect its state.
 *
 * This is the one header users include. The runner uses only what is here.
 * Each fake's part lives in its room (fakes/<fake>/<fake>_api.h) and is
 * included below; the core types (errors, clock, journal, faults, PKI) come
 * with it because the API speaks them.
 */
#ifndef EFKSIM_H
#define EFKSIM_H

#include "core/err.h"
#include "core/clock.h"
#include "core/journal.h"
#include "core/fault.h"
#include "core/pki.h"
#include "core/runtime.h"

#define EFKSIM_VERSION "0.1.0"

/* Each fake's public part. */
#include "apiserver/apiserver_api.h"
#include "es/es_api.h"
#include "rbd/rbd_api.h"

#endif
