#include "run_loggen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/fsutil.h"
#include "core/rng.h"

#define FILLER_LEN  65536
#define WRITE_BATCH (256 * 1024)

char *run_log_file_name(const char *pod, const char *ns, const char *container, const char *id)
{
    char *s = NULL;
    if (asprintf(&s, "%s_%s_%s-%s.log", pod, ns, container, id) < 0)
        return NULL;
    return s;
}

void run_log_make_id(uint64_t seed, const char *stream, char out[65])
{
    rng r;
    rng_init(&r, seed, stream);
    for (int i = 0; i < 4; i++)
        snprintf(out + 16 * i, 17, "%016llx", (unsigned long long)rng_next(&r));
    out[64] = '\0';
}

/* Lowercase words and spaces: JSON-safe, and looks like text to a reader. */
static void make_filler(char *f, uint64_t seed, const char *stream)
{
    rng r;
    char name[96];
    snprintf(name, sizeof(name), "filler:%s", stream);
    rng_init(&r, seed, name);
    size_t i = 0;
    while (i < FILLER_LEN) {
        int64_t wl = rng_range(&r, 2, 9);
        for (int64_t k = 0; k < wl && i < FILLER_LEN; k++)
            f[i++] = (char)('a' + rng_range(&r, 0, 25));
        if (i < FILLER_LEN)
            f[i++] = ' ';
    }
}

int run_log_open(run_log *l, const run_log_spec *spec, const char *dir, uint64_t seed, efk_err *err)
{
    memset(l, 0, sizeof(*l));
    l->fd = -1;
    l->spec = *spec;
    if (spec->container_id)
        snprintf(l->id, sizeof(l->id), "%s", spec->container_id);
    else
        run_log_make_id(seed, spec->stream, l->id);
    l->spec.container_id = l->id;
    if (l->spec.keep == 0)
        l->spec.keep = 1;
    int rc = fs_mkdirs(dir, 0755, err);
    if (rc)
        return rc;
    l->name = run_log_file_name(spec->pod, spec->ns, spec->container, l->id);
    l->path = l->name ? fs_join(dir, l->name) : NULL;
    l->filler = malloc(FILLER_LEN);
    if (!l->name || !l->path || !l->filler) {
        run_log_close(l);
        return efk_err_set(err, -ENOMEM, "out of memory");
    }
    make_filler(l->filler, seed, spec->stream);
    l->fd = open(l->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (l->fd < 0) {
        rc = -errno;
        efk_err_set(err, rc, "cannot create %s: %s", l->path, strerror(errno));
        run_log_close(l);
        return rc;
    }
    return 0;
}

void run_log_close(run_log *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    free(l->path);
    free(l->name);
    free(l->filler);
    l->path = l->name = l->filler = NULL;
}

/* RFC 3339 with nanoseconds, trailing zeros trimmed (Go's RFC3339Nano). */
static void stamp(int64_t wall_ns, char out[48])
{
    clock_format_rfc3339(wall_ns, 9, out);
    char *dot = strchr(out, '.');
    char *z = strchr(out, 'Z');
    if (!dot || !z)
        return;
    char *e = z;
    while (e > dot + 1 && e[-1] == '0')
        e--;
    if (e == dot + 1)
        e = dot;
    memmove(e, z, strlen(z) + 1);
}

static int flush(run_log *l, buf *b, efk_err *err)
{
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = write(l->fd, b->data + off, b->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int rc = -errno;
            return efk_err_set(err, rc, "cannot write %s: %s", l->path, strerror(errno));
        }
        off += (size_t)w;
    }
    l->size += b->len;
    buf_reset(b);
    return 0;
}

/* Append one runtime record of `text` (one chunk of a line). */
static int record(run_log *l, buf *b, const char *ts, const char *text, size_t n, bool last)
{
    const char *stream = l->spec.to_stderr ? "stderr" : "stdout";
    int rc;
    if (l->spec.format == RUN_LOG_CRI) {
        if ((rc = buf_printf(b, "%s %s %s ", ts, stream, last ? "F" : "P")) ||
            (rc = buf_append(b, text, n)) || (rc = buf_puts(b, "\n")))
            return rc;
        return 0;
    }
    /* the text is marker and filler only: nothing needs escaping */
    if ((rc = buf_puts(b, "{\"log\":\"")) || (rc = buf_append(b, text, n)) ||
        (rc = buf_printf(b, "%s\",\"stream\":\"%s\",\"time\":\"%s\"}\n", last ? "\\n" : "", stream,
                         ts)))
        return rc;
    return 0;
}

static int rotate_files(run_log *l, run_rotate_mode mode, efk_err *err)
{
    char *from = NULL, *to = NULL;
    int rc = 0;
    /* shift <file>.k-1 -> <file>.k, dropping the oldest */
    for (unsigned k = l->spec.keep; k >= 2; k--) {
        if (asprintf(&from, "%s.%u", l->path, k - 1) < 0 ||
            asprintf(&to, "%s.%u", l->path, k) < 0) {
            rc = efk_err_set(err, -ENOMEM, "out of memory");
            goto out;
        }
        if (rename(from, to) < 0 && errno != ENOENT) {
            rc = -errno;
            efk_err_set(err, rc, "cannot rename %s: %s", from, strerror(errno));
            goto out;
        }
        free(from);
        free(to);
        from = to = NULL;
    }
    if (asprintf(&to, "%s.1", l->path) < 0) {
        rc = efk_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    if (mode == RUN_ROTATE_COPYTRUNCATE) {
        char *data = NULL;
        size_t len = 0;
        rc = fs_read_file(l->path, 0, &data, &len, err);
        if (rc)
            goto out;
        int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            rc = -errno;
            efk_err_set(err, rc, "cannot create %s: %s", to, strerror(errno));
            free(data);
            goto out;
        }
        size_t off = 0;
        while (off < len) {
            ssize_t w = write(fd, data + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = -errno;
                efk_err_set(err, rc, "cannot write %s: %s", to, strerror(errno));
                break;
            }
            off += (size_t)w;
        }
        close(fd);
        free(data);
        if (rc)
            goto out;
        if (ftruncate(l->fd, 0) < 0) {
            rc = -errno;
            efk_err_set(err, rc, "cannot truncate %s: %s", l->path, strerror(errno));
            goto out;
        }
    } else {
        if (rename(l->path, to) < 0) {
            rc = -errno;
            efk_err_set(err, rc, "cannot rename %s: %s", l->path, strerror(errno));
            goto out;
        }
        close(l->fd);
        l->fd = open(l->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
        if (l->fd < 0) {
            rc = -errno;
            efk_err_set(err, rc, "cannot create %s: %s", l->path, strerror(errno));
            goto out;
        }
    }
    l->size = 0;
    l->rotations++;
out:
    free(from);
    free(to);
    return rc;
}

int run_log_rotate(run_log *l, run_rotate_mode mode, efk_err *err)
{
    if (mode == RUN_ROTATE_NONE)
        mode = l->spec.rotate != RUN_ROTATE_NONE ? l->spec.rotate : RUN_ROTATE_RENAME;
    return rotate_files(l, mode, err);
}

int run_log_truncate(run_log *l, efk_err *err)
{
    if (ftruncate(l->fd, 0) < 0) {
        int rc = -errno;
        return efk_err_set(err, rc, "cannot truncate %s: %s", l->path, strerror(errno));
    }
    l->size = 0;
    return 0;
}

int run_log_write(run_log *l, uint64_t n, int64_t wall_ns, efk_err *err)
{
    buf b, text;
    buf_init(&b, 0);
    buf_init(&text, 0);
    char ts[48];
    stamp(wall_ns, ts);
    int rc = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t seq = l->seq + 1;
        buf_reset(&text);
        if ((rc = buf_printf(&text, "efk:%s:%llu ", l->spec.stream, (unsigned long long)seq)))
            goto nomem;
        size_t marker_len = text.len;
        /* filler up to the line size, from a seeded pool at a seq-dependent offset */
        size_t want = l->spec.line_size > text.len ? l->spec.line_size - text.len : 0;
        size_t off = (size_t)((seq * 7919) % (FILLER_LEN / 2));
        while (want > 0) {
            size_t take = want < FILLER_LEN - off ? want : FILLER_LEN - off;
            if ((rc = buf_append(&text, l->filler + off, take)))
                goto nomem;
            want -= take;
            off = 0;
        }
        /* a trailing space would be trimmed by some readers: end the filler
         * on a letter (the marker itself keeps its space) */
        if (text.len > marker_len && text.data[text.len - 1] == ' ')
            text.data[text.len - 1] = 'x';
        /* split like the runtimes */
        size_t start = b.len;
        for (size_t pos = 0; pos < text.len || pos == 0;) {
            size_t chunk = text.len - pos < RUN_LOG_MAX_LINE ? text.len - pos : RUN_LOG_MAX_LINE;
            bool last = pos + chunk >= text.len;
            if ((rc = record(l, &b, ts, text.data + pos, chunk, last)))
                goto nomem;
            pos += chunk;
            if (last)
                break;
        }
        size_t reclen = b.len - start;
        if (l->spec.rotate != RUN_ROTATE_NONE && l->spec.rotate_size &&
            l->size + start + reclen > l->spec.rotate_size && l->size + start > 0) {
            /* write what came before, rotate, then this line goes first */
            buf tail;
            buf_init(&tail, 0);
            if ((rc = buf_append(&tail, b.data + start, reclen))) {
                buf_cleanup(&tail);
                goto nomem;
            }
            b.len = start;
            if ((rc = flush(l, &b, err)) || (rc = rotate_files(l, l->spec.rotate, err))) {
                buf_cleanup(&tail);
                goto out;
            }
            rc = buf_append(&b, tail.data, tail.len);
            buf_cleanup(&tail);
            if (rc)
                goto nomem;
        }
        l->seq = seq;
        if (b.len >= WRITE_BATCH && (rc = flush(l, &b, err)))
            goto out;
    }
    rc = flush(l, &b, err);
    goto out;
nomem:
    rc = efk_err_set(err, -ENOMEM, "out of memory writing %s", l->path);
out:
    buf_cleanup(&b);
    buf_cleanup(&text);
    return rc;
}

int run_log_tick(run_log *l, int64_t elapsed_ns, int64_t wall_ns, efk_err *err)
{
    if (l->auto_done >= l->spec.lines || elapsed_ns < l->spec.start_ns)
        return 0;
    uint64_t owed;
    if (l->spec.rate <= 0) {
        owed = l->spec.lines;
    } else {
        double t = (double)(elapsed_ns - l->spec.start_ns) / 1e9;
        double due = t * l->spec.rate + 1; /* the first line goes at the start */
        owed = due >= (double)l->spec.lines ? l->spec.lines : (uint64_t)due;
    }
    if (owed <= l->auto_done)
        return 0;
    uint64_t n = owed - l->auto_done;
    int rc = run_log_write(l, n, wall_ns, err);
    if (!rc)
        l->auto_done += n;
    return rc;
}

int64_t run_log_next_due(const run_log *l)
{
    if (l->auto_done >= l->spec.lines)
        return INT64_MAX;
    if (l->spec.rate <= 0)
        return l->spec.start_ns;
    /* line k (0-based) is due at start + k / rate */
    return l->spec.start_ns + (int64_t)((double)l->auto_done / l->spec.rate * 1e9);
}
