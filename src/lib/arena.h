/*
 * arena.h - a bump allocator: many small allocations, one free.
 *
 * For data that lives and dies together (a parsed document and everything
 * it points to). Allocations are zeroed and aligned for any type; nothing
 * is freed on its own. Not thread-safe: an arena belongs to one thread at
 * a time.
 */
#ifndef LK_LIB_ARENA_H
#define LK_LIB_ARENA_H

#include <stddef.h>

struct arena;

/*
 * A new empty arena that hands out at most max bytes in all (0: no limit
 * beyond memory itself); NULL when out of memory. Free with arena_free.
 */
struct arena *arena_new(size_t max);

/* Frees a and everything allocated from it. NULL-safe. */
void arena_free(struct arena *a);

/*
 * n zeroed bytes aligned for any type (n == 0 gives a valid, unique
 * pointer). NULL when out of memory or when the arena's max would be
 * passed; the arena stays usable after a failure.
 */
void *arena_alloc(struct arena *a, size_t n);

/* A NUL-terminated copy of s[0..n) (s may hold NUL bytes; they are
 * copied); NULL as arena_alloc. */
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* Bytes handed out so far (with alignment padding), for limits and tests. */
size_t arena_used(const struct arena *a);

#endif
