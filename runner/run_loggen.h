/*
 * run_loggen.h - the built-in log generator: container log files as the
 * kubelet's node leaves them, for a log agent to tail.
 *
 * One generator writes one file, var/log/containers/<pod>_<ns>_<container>-
 * <id>.log under the work dir, in the docker json-file format
 *   {"log":"<text>\n","stream":"stdout","time":"2024-05-01T10:00:00.123456789Z"}
 * or the CRI format
 *   2024-05-01T10:00:00.123456789Z stdout F <text>
 * Lines longer than 16 KiB are split as both runtimes split them (docker:
 * chunks without the trailing "\n"; CRI: "P" tags then a final "F").
 *
 * Every line's text starts with the marker "efk:<stream>:<seq> " (seq from 1,
 * never repeated, across rotations) and is filled up to the requested line
 * size with seeded filler, so the ES delivery accounting can tell exactly
 * which lines arrived. Lines are written on their own at a rate (or all at
 * once), and on demand from the timeline.
 *
 * Rotation happens when a line would take the file past a size: "rename"
 * moves the file to <file>.1 (older ones shift to .2 ... .keep) and starts a
 * new file, as docker's json-file driver does; "copytruncate" copies the
 * content to <file>.1 and truncates the file in place, as logrotate's
 * copytruncate does (readers that lag lose what they had not read).
 */
#ifndef RUN_LOGGEN_H
#define RUN_LOGGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define RUN_LOG_MAX_LINE 16384     /* runtime line split (docker and containerd) */
#define RUN_LOG_MAX_SIZE (1 << 20) /* largest line_size a scenario may ask */
#define RUN_LOG_MAX_KEEP 100

typedef enum run_log_format { RUN_LOG_DOCKER = 0, RUN_LOG_CRI } run_log_format;
typedef enum run_rotate_mode {
    RUN_ROTATE_NONE = 0,
    RUN_ROTATE_RENAME,
    RUN_ROTATE_COPYTRUNCATE,
} run_rotate_mode;

typedef struct run_log_spec {
    const char *stream; /* marker stream id, [A-Za-z0-9._-]{1,64} */
    const char *pod, *ns, *container;
    const char *container_id; /* 64 hex digits; NULL: derived from seed and stream */
    run_log_format format;
    bool to_stderr;   /* the runtime's stream field */
    uint64_t lines;   /* written by the generator itself */
    double rate;      /* lines per second; 0: all at once at start */
    int64_t start_ns; /* when to begin, from the scenario start */
    size_t line_size; /* bytes of text per line (at least the marker) */
    run_rotate_mode rotate;
    uint64_t rotate_size; /* bytes */
    unsigned keep;        /* rotated files kept (1..RUN_LOG_MAX_KEEP) */
} run_log_spec;

typedef struct run_log {
    run_log_spec spec; /* strings borrowed from the caller's spec */
    char id[65];
    char *path; /* owned */
    char *name; /* owned: the file name within the dir */
    int fd;
    uint64_t seq;       /* last sequence number written */
    uint64_t size;      /* current file size */
    uint64_t auto_done; /* lines the generator wrote on its own */
    uint64_t rotations;
    char *filler; /* owned, FILLER_LEN bytes */
} run_log;

/* The file name for a pod/namespace/container/id (new string). */
char *run_log_file_name(const char *pod, const char *ns, const char *container, const char *id);

/* Derive a 64-hex container id from a seed and a stream name into out[65]. */
void run_log_make_id(uint64_t seed, const char *stream, char out[65]);

/* Create the file (and `dir`) and prepare the generator. Borrows spec's
 * strings for the life of `l`. 0 or -errno with err. */
int run_log_open(run_log *l, const run_log_spec *spec, const char *dir, uint64_t seed, efk_err *err)
    __attribute__((warn_unused_result));

/* Write `n` lines now, stamped `wall_ns`. 0 or -errno with err. */
int run_log_write(run_log *l, uint64_t n, int64_t wall_ns, efk_err *err)
    __attribute__((warn_unused_result));

/* Write what the rate owes at `elapsed_ns` since the scenario start. */
int run_log_tick(run_log *l, int64_t elapsed_ns, int64_t wall_ns, efk_err *err)
    __attribute__((warn_unused_result));

/* When the generator next has something to write (elapsed ns; INT64_MAX: done). */
int64_t run_log_next_due(const run_log *l);

/* Rotate now with `mode` (RUN_ROTATE_NONE: the spec's, rename if none). */
int run_log_rotate(run_log *l, run_rotate_mode mode, efk_err *err)
    __attribute__((warn_unused_result));

/* Truncate the file in place to 0 bytes (no copy). */
int run_log_truncate(run_log *l, efk_err *err) __attribute__((warn_unused_result));

/* Lines produced so far (the accounting's "expected"). */
static inline uint64_t run_log_produced(const run_log *l)
{
    return l->seq;
}

void run_log_close(run_log *l);

#endif
