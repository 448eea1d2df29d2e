/*
 * framing.h - refusing HTTP/1 requests whose body another HTTP
 * implementation could frame differently (request smuggling).
 *
 * h2o 2.2 reads a request's body by its last Transfer-Encoding header, or
 * else its first Content-Length, and drops those headers (and every Host
 * but the last) before a handler sees the request. A proxy in front may
 * frame by the other header, or by another copy, and then bytes h2o reads
 * as the next request on the connection were part of this one for the
 * proxy: a request nobody sent through the proxy. So the head is read
 * again, as it was sent, and a request that admits two readings is
 * refused, its connection closed after the answer.
 */
#ifndef LK_NET_FRAMING_H
#define LK_NET_FRAMING_H

#include <stddef.h>

struct lk_error;

/*
 * Checks the head of one HTTP/1.x request: buf[0..len) holds it from its
 * request line on (one empty line before that is skipped, as h2o does),
 * through the empty line that ends its header fields, and may go on past
 * it. The request line must start with method[0..method_len) and a space
 * (so these are this request's bytes). Refused, each naming what:
 *   - both Content-Length and Transfer-Encoding;
 *   - Content-Length twice or more (even with equal values), or one that
 *     is not a decimal number;
 *   - Transfer-Encoding twice or more, any value but exactly "chunked",
 *     or any at all in an HTTP/1.0 request;
 *   - Host twice or more, or none in an HTTP/1.1 request;
 *   - a header line starting with a space or tab (obsolete line folding),
 *     and a line ending in LF without CR;
 *   - a head that is not there to read (fails closed).
 * Returns 0, or LK_EINVAL with err saying what ("invalid request: ...",
 * client bytes only through str_echo). Pure: reads nothing but buf.
 */
int framing_check(const char *buf, size_t len, const char *method, size_t method_len, struct lk_error *err);

#endif
