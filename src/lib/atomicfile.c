/*
 * atomicfile.c - write a temporary file next to the target, fsync, rename.
 *
 * Must never open the target for writing (a reader could see it empty),
 * never leave a temporary file behind on failure, and never put the
 * content into an error message.
 */
#include "lib/atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *err, size_t cap, const char *what, int e) {
    snprintf(err, cap, "%s: %s", what, strerror(e));
    return -1;
}

/* The directory part of path ("." when there is none) into dir. 0 or -1. */
static int dir_of(const char *path, char *dir, size_t cap) {
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return snprintf(dir, cap, ".") < (int)cap ? 0 : -1;
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if (n + 1 > cap)
        return -1;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return 0;
}

int atomicfile_write(const char *path, const void *data, size_t n, mode_t mode, char *err, size_t cap) {
    char dir[PATH_MAX], tmp[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    if (*base == '\0' || dir_of(path, dir, sizeof(dir)) != 0)
        return fail(err, cap, "token file path", EINVAL);
    int len = snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.XXXXXX", dir, base);
    if (len < 0 || (size_t)len >= sizeof(tmp))
        return fail(err, cap, "token file path", ENAMETOOLONG);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return fail(err, cap, "create a temporary file", errno);
    const char *p = data;
    size_t left = n;
    int e = 0;
    const char *what = NULL;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : EIO;
            what = "write the temporary file";
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (what == NULL && fchmod(fd, mode) != 0)
        e = errno, what = "set the temporary file's mode";
    if (what == NULL && fsync(fd) != 0)
        e = errno, what = "fsync the temporary file";
    if (close(fd) != 0 && what == NULL)
        e = errno, what = "close the temporary file";
    if (what == NULL && rename(tmp, path) != 0)
        e = errno, what = "rename over the token file";
    if (what != NULL) {
        unlink(tmp);
        return fail(err, cap, what, e);
    }
    /* The rename itself survives a crash once the directory is on disk. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        int r = fsync(dfd);
        e = errno;
        close(dfd);
        if (r != 0 && e != EINVAL)
            return fail(err, cap, "fsync the directory", e);
    }
    return 0;
}
