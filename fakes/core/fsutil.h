/*
 * fsutil.h - small file-system helpers shared by the fakes, the runner and
 * the CLI: read a whole file with a cap, write one atomically, make dirs.
 */
#ifndef EFK_FSUTIL_H
#define EFK_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Read a whole file (at most `cap` bytes; 0: 256 MiB) into a new
 * NUL-terminated buffer. 0; -E2BIG over the cap; -errno with err. */
int fs_read_file(const char *path, size_t cap, char **out, size_t *len, efk_err *err)
    __attribute__((warn_unused_result));

/* Write `len` bytes to `path` atomically (temp file in the same directory,
 * fsync-free, rename) with `mode`. 0 or -errno with err. */
int fs_write_file(const char *path, const void *data, size_t len, mode_t mode, efk_err *err)
    __attribute__((warn_unused_result));

/* mkdir -p with `mode` for the directories created. 0 or -errno with err. */
int fs_mkdirs(const char *path, mode_t mode, efk_err *err) __attribute__((warn_unused_result));

/* rm -rf (does not follow symlinks). 0 or -errno of the first failure. */
int fs_remove_tree(const char *path);

/* Join two path parts with one '/' into a new string (NULL on ENOMEM). */
char *fs_join(const char *a, const char *b);

#endif
