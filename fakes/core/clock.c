#include "clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <errno.h>

static int64_t ts_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * EFK_NS_PER_S + ts.tv_nsec;
}

static int64_t sys_mono(efk_clock *c)
{
    (void)c;
    return ts_ns(CLOCK_MONOTONIC);
}

static int64_t sys_wall(efk_clock *c)
{
    (void)c;
    return ts_ns(CLOCK_REALTIME);
}

static void sys_sleep_until(efk_clock *c, int64_t deadline_ns)
{
    (void)c;
    struct timespec ts = {.tv_sec = deadline_ns / EFK_NS_PER_S,
                          .tv_nsec = deadline_ns % EFK_NS_PER_S};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static efk_clock system_clock = {sys_mono, sys_wall, sys_sleep_until, NULL};

efk_clock *clock_system(void)
{
    return &system_clock;
}

/* A test clock: two counters behind a mutex; sleeping waits on a condition
 * that clock_test_advance() broadcasts, so a delayed request completes
 * exactly when the test moves time past its deadline. */
typedef struct test_clock {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t mono, wall;
} test_clock;

static int64_t test_mono(efk_clock *c)
{
    test_clock *t = c->state;
    pthread_mutex_lock(&t->mu);
    int64_t v = t->mono;
    pthread_mutex_unlock(&t->mu);
    return v;
}

static int64_t test_wall(efk_clock *c)
{
    test_clock *t = c->state;
    pthread_mutex_lock(&t->mu);
    int64_t v = t->wall;
    pthread_mutex_unlock(&t->mu);
    return v;
}

static void test_sleep_until(efk_clock *c, int64_t deadline_ns)
{
    test_clock *t = c->state;
    pthread_mutex_lock(&t->mu);
    while (t->mono < deadline_ns)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

efk_clock *clock_test_new(int64_t mono_start_ns, int64_t wall_start_ns)
{
    efk_clock *c = calloc(1, sizeof(*c));
    test_clock *t = calloc(1, sizeof(*t));
    if (!c || !t) {
        free(c);
        free(t);
        return NULL;
    }
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    t->mono = mono_start_ns;
    t->wall = wall_start_ns;
    c->mono_ns = test_mono;
    c->wall_ns = test_wall;
    c->sleep_until = test_sleep_until;
    c->state = t;
    return c;
}

void clock_test_advance(efk_clock *c, int64_t delta_ns)
{
    test_clock *t = c->state;
    pthread_mutex_lock(&t->mu);
    t->mono += delta_ns;
    t->wall += delta_ns;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

void clock_test_free(efk_clock *c)
{
    if (!c)
        return;
    test_clock *t = c->state;
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t);
    free(c);
}

char *clock_format_rfc3339(int64_t wall_ns, int frac_digits, char *out)
{
    time_t secs = (time_t)(wall_ns / EFK_NS_PER_S);
    int64_t frac = wall_ns % EFK_NS_PER_S;
    if (frac < 0) {
        frac += EFK_NS_PER_S;
        secs -= 1;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    switch (frac_digits) {
    case 3: snprintf(out + n, 8, ".%03lldZ", (long long)(frac / 1000000)); break;
    case 6: snprintf(out + n, 9, ".%06lldZ", (long long)(frac / 1000)); break;
    case 9: snprintf(out + n, 12, ".%09lldZ", (long long)frac); break;
    default: snprintf(out + n, 2, "Z"); break;
    }
    return out;
}
