/*
 * rng.h - seeded pseudo-random numbers (xoshiro256**, seeded by splitmix64).
 *
 * Every probabilistic choice in efksim comes from an rng derived from the
 * scenario seed and a stream name, so the same seed gives the same schedule.
 * Not thread-safe by itself: the owner serialises access.
 */
#ifndef EFK_RNG_H
#define EFK_RNG_H

#include <stdint.h>

typedef struct rng {
    uint64_t s[4];
} rng;

/* Seed from a 64-bit seed and a stream name (may be NULL), so each fake gets
 * its own independent, repeatable stream from one scenario seed. */
void rng_init(rng *r, uint64_t seed, const char *stream);

uint64_t rng_next(rng *r);

/* Uniform in [0, 1). */
double rng_double(rng *r);

/* Uniform integer in [lo, hi] (inclusive); lo when hi <= lo. */
int64_t rng_range(rng *r, int64_t lo, int64_t hi);

#endif
