/* arena.h: all memory of one suga-gen run comes from an arena and is freed at once.
 *
 * Allocation failure does not return NULL to every caller: it jumps to the recovery point the
 * stage entry (gen_parse_*, gen_validate, ...) set with GEN_ARENA_TRY, which reports
 * "out of memory" and returns an error status. That keeps the parsing code about the spec,
 * not about NULL checks, and still never aborts.
 */
#ifndef SUGA_GEN_ARENA_H
#define SUGA_GEN_ARENA_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

typedef struct gen_arena_block gen_arena_block;

typedef struct gen_arena {
    gen_arena_block *head;
    jmp_buf *on_oom; /* where to go when an allocation fails; NULL = return NULL */
} gen_arena;

void *gen_alloc(gen_arena *arena, size_t size); /* zeroed */
void *gen_alloc_array(gen_arena *arena, size_t count, size_t size);
char *gen_strndup(gen_arena *arena, const char *s, size_t len);
char *gen_strdup(gen_arena *arena, const char *s);
char *gen_printf(gen_arena *arena, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gen_arena_free(gen_arena *arena);

#endif
