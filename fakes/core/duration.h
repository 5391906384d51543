/*
 * duration.h - durations as people write them: "250ms", "5s", "1m30s", "2h",
 * "1.5s", "10us", "0". Used by scenario files and fault rules.
 */
#ifndef EFK_DURATION_H
#define EFK_DURATION_H

#include <stdint.h>
#include <stddef.h>

/* Parse `s` into nanoseconds. Units: ns us ms s m h (a bare "0" is allowed).
 * Returns 0, or -EINVAL for anything else (negative, missing unit, overflow). */
int duration_parse(const char *s, int64_t *out_ns) __attribute__((warn_unused_result));

/* Render nanoseconds compactly ("1.5s", "250ms", "2m0s"). Returns out. */
char *duration_render(int64_t ns, char *out, size_t outsz);

/* Parse a byte size: "1024", "64k", "512KiB", "1M", "8G", "1GiB", "10MB"
 * (k/M/G are binary, as in Elasticsearch settings). 0 or -EINVAL. */
int size_parse(const char *s, uint64_t *out) __attribute__((warn_unused_result));

#endif
