#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_read_file(const char *path, size_t cap, char **out, size_t *len, efk_err *err)
{
    int rc = 0;
    char *data = NULL;
    size_t n = 0, alloc = 0;
    if (!cap)
        cap = (size_t)256 << 20;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        efk_err_set(err, rc, "cannot open %s: %s", path, strerror(errno));
        goto out;
    }
    for (;;) {
        if (alloc - n < 65537) {
            size_t na = alloc ? alloc * 2 : 65536 + 1;
            char *nd = realloc(data, na);
            if (!nd) {
                rc = efk_err_set(err, -ENOMEM, "out of memory reading %s", path);
                goto out;
            }
            data = nd;
            alloc = na;
        }
        ssize_t r = read(fd, data + n, alloc - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            efk_err_set(err, rc, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > cap) {
            rc = efk_err_set(err, -E2BIG, "%s is larger than %zu bytes", path, cap);
            goto out;
        }
    }
    data[n] = '\0';
    *out = data;
    data = NULL;
    if (len)
        *len = n;
out:
    if (fd >= 0)
        close(fd);
    free(data);
    return rc;
}

int fs_write_file(const char *path, const void *data, size_t len, mode_t mode, efk_err *err)
{
    int rc = 0;
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 32);
    int fd = -1;
    if (!tmp)
        return efk_err_set(err, -ENOMEM, "out of memory");
    snprintf(tmp, pl + 32, "%s.tmp.%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        rc = -errno;
        efk_err_set(err, rc, "cannot write %s: %s", path, strerror(errno));
        goto out;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = -errno;
            efk_err_set(err, rc, "cannot write %s: %s", path, strerror(errno));
            goto out;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, mode) < 0 || close(fd) < 0) {
        fd = -1;
        rc = -errno;
        efk_err_set(err, rc, "cannot write %s: %s", path, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        rc = -errno;
        efk_err_set(err, rc, "cannot write %s: %s", path, strerror(errno));
    }
out:
    if (fd >= 0)
        close(fd);
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

int fs_mkdirs(const char *path, mode_t mode, efk_err *err)
{
    char *p = strdup(path);
    int rc = 0;
    if (!p)
        return efk_err_set(err, -ENOMEM, "out of memory");
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, mode) < 0 && errno != EEXIST) {
                rc = -errno;
                efk_err_set(err, rc, "cannot create directory %s: %s", p, strerror(errno));
                break;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    if (!rc) {
        struct stat st;
        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
            rc = efk_err_set(err, -ENOTDIR, "%s is not a directory", path);
    }
    free(p);
    return rc;
}

static int remove_at(int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        int r = remove_at(fd, e->d_name);
        if (r && !rc)
            rc = r;
    }
    closedir(d);
    if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && !rc)
        rc = -errno;
    return rc;
}

int fs_remove_tree(const char *path)
{
    return remove_at(AT_FDCWD, path);
}

char *fs_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/')
        la--;
    while (*b == '/') {
        b++;
        lb--;
    }
    char *r = malloc(la + lb + 2);
    if (!r)
        return NULL;
    memcpy(r, a, la);
    r[la] = '/';
    memcpy(r + la + 1, b, lb + 1);
    return r;
}
