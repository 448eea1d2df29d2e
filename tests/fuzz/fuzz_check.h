/*
 * fuzz_check.h - what every fuzz harness shares: CHECK(), which reports a
 * broken invariant with its place and aborts (libFuzzer then keeps the
 * input), and the largest time RFC 3339 writes with four-digit years.
 */
#ifndef LK_FUZZ_CHECK_H
#define LK_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);                              \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

/* 9999-12-31T23:59:59Z */
#define MAX_UNIX INT64_C(253402300799)

#endif
