/*
 * httpneg.h - the two request headers a static file's answer depends on:
 * If-None-Match (RFC 9110 13.1.2), to answer 304 to a client whose copy
 * is current, and Accept-Encoding (12.5.3), to know whether it takes a
 * gzipped body. Pure: no I/O, no allocation; values are {ptr, len}
 * slices as the request holds them, never NUL-terminated.
 */
#ifndef LK_CORE_HTTPNEG_H
#define LK_CORE_HTTPNEG_H

#include <stddef.h>

/*
 * 1 if v[0..n), one If-None-Match field value, is "*" or lists etag (an
 * entity-tag with its quotes, "\"abc\""), compared weakly as the RFC asks
 * for If-None-Match: a "W/" prefix on either side does not matter. 0
 * otherwise. A malformed element never matches; the elements after it
 * still may. Every comma separates elements: the RFC lets an entity-tag
 * hold one, but etag must not (latchkey's are base64url).
 */
int httpneg_etag_listed(const char *v, size_t n, const char *etag);

/*
 * The quality v[0..n), one Accept-Encoding field value, gives coding (a
 * content-coding name, compared without regard to case): in thousandths,
 * 0 (refused) to 1000, or -1 when v does not name it. A malformed or
 * missing-digit qvalue counts as 0, so a garbled header refuses rather
 * than accepts.
 */
int httpneg_coding_q(const char *v, size_t n, const char *coding);

/*
 * The quality v[0..n), one Accept field value (RFC 9110 12.5.1), gives
 * media type type ("application/json"): the q of the most specific range
 * that matches it (the type itself, then its major type with a star after the slash,
 * then the star-slash-star range), in thousandths; -1 when no range matches. Media
 * type parameters other than q (charset) are not compared. *named (may
 * be NULL) is 1 when that range is the type itself, 0 when a wildcard.
 */
int httpneg_media_q(const char *v, size_t n, const char *type, int *named);

#endif
