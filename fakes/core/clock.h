/*
 * clock.h - time is passed in, never read from a global.
 *
 * Every fake, the journal and the fault chain read time through an efk_clock,
 * so unit tests can use a test clock they advance by hand and scenarios can
 * scale time. The system clock reads CLOCK_MONOTONIC and CLOCK_REALTIME.
 */
#ifndef EFK_CLOCK_H
#define EFK_CLOCK_H

#include <stdint.h>

typedef struct efk_clock efk_clock;

struct efk_clock {
    int64_t (*mono_ns)(efk_clock *c); /* monotonic nanoseconds */
    int64_t (*wall_ns)(efk_clock *c); /* Unix time in nanoseconds */
    /* Wait on the monotonic clock until `deadline_ns` (test clocks return at
     * once when already past it, else poll). Used only by delays. */
    void (*sleep_until)(efk_clock *c, int64_t deadline_ns);
    void *state;
};

/* The process-wide system clock (stateless, thread-safe, never freed). */
efk_clock *clock_system(void);

/* A test clock starting at the given monotonic and wall times; advanced only
 * by clock_test_advance(). Thread-safe. Returns new (free with clock_test_free)
 * or NULL on ENOMEM. */
efk_clock *clock_test_new(int64_t mono_start_ns, int64_t wall_start_ns);
void clock_test_advance(efk_clock *c, int64_t delta_ns);
void clock_test_free(efk_clock *c);

static inline int64_t clock_mono_ns(efk_clock *c)
{
    return c->mono_ns(c);
}
static inline int64_t clock_wall_ns(efk_clock *c)
{
    return c->wall_ns(c);
}

/* Format a wall time as RFC 3339 UTC with the given number of fractional
 * digits (0, 3, 6 or 9): "2017-03-02T02:27:01.123Z". `out` >= 40 bytes. */
char *clock_format_rfc3339(int64_t wall_ns, int frac_digits, char *out);

#define EFK_NS_PER_MS INT64_C(1000000)
#define EFK_NS_PER_S INT64_C(1000000000)

#endif
