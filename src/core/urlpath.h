/*
 * urlpath.h - the one shape a request path may take.
 *
 * The router matches the path as h2o decoded it, and the segments it
 * matched become handler parameters (names, ids). A path whose decoded
 * form says something other than it appears to (an encoded '/' that
 * splits a name into two segments, a NUL that cuts a name short, a
 * dot-segment h2o resolves into another resource, a second layer of
 * encoding, bytes that are not UTF-8) is refused before routing, so no
 * handler, message or log line ever sees one.
 */
#ifndef LK_CORE_URLPATH_H
#define LK_CORE_URLPATH_H

#include <stddef.h>

struct lk_error;

/*
 * Checks path[0..n), a request target up to (not including) its query,
 * percent-encoded as sent. It must start with '/', and each of its
 * segments must, once percent-decoded:
 *   - have come from well-formed escapes ('%' and two hex digits);
 *   - hold no '/' (so no %2F) and no control character (NUL to 0x1F, DEL);
 *   - hold no %XX, which would mean it was encoded twice;
 *   - not be "." or "..";
 *   - be well-formed UTF-8.
 * Returns 0, or LK_EINVAL with err naming the rule and the segment by its
 * position. The message never echoes the path: a path may hold a token,
 * encoded so that no cut would recognise it.
 */
int urlpath_check(const char *path, size_t n, struct lk_error *err);

#endif
