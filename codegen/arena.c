/* arena.c: bump allocation in chained blocks; see arena.h for the failure policy. */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gen_arena_block {
    gen_arena_block *next;
    size_t used, size;
    _Alignas(max_align_t) unsigned char data[];
};

enum { ARENA_BLOCK = 64 * 1024 };

static void *out_of_memory(gen_arena *arena)
{
    if (arena->on_oom)
        longjmp(*arena->on_oom, 1);
    return NULL;
}

void *gen_alloc(gen_arena *arena, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    gen_arena_block *b = arena->head;
    if (!b || b->size - b->used < size) {
        size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        b = malloc(sizeof *b + cap);
        if (!b)
            return out_of_memory(arena);
        b->size = cap;
        b->used = 0;
        b->next = arena->head;
        arena->head = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

void *gen_alloc_array(gen_arena *arena, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return out_of_memory(arena);
    return gen_alloc(arena, count * size);
}

char *gen_strndup(gen_arena *arena, const char *s, size_t len)
{
    char *p = gen_alloc(arena, len + 1);
    if (p)
        memcpy(p, s, len);
    return p;
}

char *gen_strdup(gen_arena *arena, const char *s)
{
    return s ? gen_strndup(arena, s, strlen(s)) : NULL;
}

char *gen_printf(gen_arena *arena, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return out_of_memory(arena);
    char *p = gen_alloc(arena, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void gen_arena_free(gen_arena *arena)
{
    gen_arena_block *b = arena->head;
    while (b) {
        gen_arena_block *next = b->next;
        free(b);
        b = next;
    }
    arena->head = NULL;
}
