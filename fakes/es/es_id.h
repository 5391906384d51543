/*
 * es_id.h - generated document ids, shaped like Elasticsearch's own.
 *
 * ES (5.x on) generates 20-character ids: 15 bytes, URL-safe base64 without
 * padding, laid out for index locality: two bytes of a sequence number first,
 * then four bytes of the millisecond timestamp, six bytes of the node's MAC
 * address, then the remaining timestamp and sequence bytes. Clients and
 * people recognise them ("4ZR9ZYwBmY1y2rVbAAAB" style) and some tooling
 * checks the length, so the fake makes the same kind: the "MAC" comes from the
 * seed, the time from the clock, and ids are unique and strictly increasing
 * in (time, sequence) even when the clock stalls or steps back.
 */
#ifndef EFK_ES_ID_H
#define EFK_ES_ID_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"

#define ES_ID_LEN 20

typedef struct es_idgen {
    pthread_mutex_t lock;
    efk_clock *clock; /* borrowed */
    uint8_t node[6];  /* the "MAC address" */
    uint32_t seq;     /* 24-bit sequence */
    int64_t last_ms;
} es_idgen;

/* Seed the generator (node bytes and first sequence number from `seed`). */
void es_idgen_init(es_idgen *g, efk_clock *clock, uint64_t seed);
void es_idgen_cleanup(es_idgen *g);

/* Write `n` consecutive ids, each ES_ID_LEN bytes (no NUL), to out. Thread-safe. */
void es_idgen_next(es_idgen *g, char *out, size_t n);

/* Base64url-encode `len` bytes without padding into out (4*ceil(len/3) max);
 * returns the characters written. */
size_t es_base64url(const uint8_t *in, size_t len, char *out);

#endif
