/*
 * atomicfile.h - replacing a file's content so that no reader ever sees
 * it half written: a temporary file in the same directory, written whole,
 * fsync'd, renamed over the target, then the directory fsync'd. A reader
 * opens either the old content or the new one, never an empty or partial
 * file, and the target is never truncated in place.
 */
#ifndef LK_LIB_ATOMICFILE_H
#define LK_LIB_ATOMICFILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Replaces path's content with data[0..n), the file ending with mode
 * (the temporary file is created 0600 and set to mode before the rename).
 * 0, or -1 with a short reason in err (naming the step and errno's text,
 * never the content); on failure the old file is untouched and the
 * temporary file removed.
 */
int atomicfile_write(const char *path, const void *data, size_t n, mode_t mode, char *err, size_t cap);

#endif
