/*
 * arena.c - bump allocation from a chain of blocks (arena.h).
 *
 * Blocks grow geometrically up to ARENA_BLOCK_MAX so a big arena costs few
 * mallocs; a request larger than that gets a block of its own. It must
 * never hand out memory past its max nor overflow a size computation.
 */
#include "lib/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK_MIN 1024
#define ARENA_BLOCK_MAX (256 * 1024)
#define ARENA_ALIGN alignof(max_align_t)

struct block {
    struct block *prev;
    size_t cap, used; /* of data[] */
    alignas(max_align_t) unsigned char data[];
};

struct arena {
    struct block *head; /* the block being filled; older ones behind it */
    size_t max, used;
    size_t next_cap; /* size of the next block to make */
};

struct arena *arena_new(size_t max) {
    struct arena *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->max = max;
    a->next_cap = ARENA_BLOCK_MIN;
    return a;
}

void arena_free(struct arena *a) {
    if (a == NULL)
        return;
    struct block *b = a->head;
    while (b != NULL) {
        struct block *prev = b->prev;
        free(b);
        b = prev;
    }
    free(a);
}

void *arena_alloc(struct arena *a, size_t n) {
    if (n > SIZE_MAX / 2)
        return NULL;
    size_t need = (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (need == 0)
        need = ARENA_ALIGN;
    if (a->max != 0 && (need > a->max || a->used > a->max - need))
        return NULL;
    struct block *b = a->head;
    if (b == NULL || b->cap - b->used < need) {
        size_t cap = a->next_cap > need ? a->next_cap : need;
        if (cap > SIZE_MAX - sizeof(struct block))
            return NULL;
        struct block *nb = malloc(sizeof(struct block) + cap);
        if (nb == NULL)
            return NULL;
        nb->cap = cap;
        nb->used = 0;
        /* A block of its own for a large request keeps the current block
         * in front, so its free space is not thrown away. */
        if (b != NULL && need >= a->next_cap && b->cap - b->used >= ARENA_ALIGN) {
            nb->prev = b->prev;
            b->prev = nb;
        } else {
            nb->prev = b;
            a->head = nb;
        }
        if (a->next_cap < ARENA_BLOCK_MAX)
            a->next_cap *= 2;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->used += need;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n) {
    if (n == SIZE_MAX)
        return NULL;
    char *d = arena_alloc(a, n + 1);
    if (d == NULL)
        return NULL;
    if (n > 0)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

size_t arena_used(const struct arena *a) {
    return a->used;
}
