/* suga_suggest.h: "did you mean" for unknown names: operations, arguments, spec keys, settings.
 * Shared by the runtime, the handlers and suga-gen (runtime/suggest.c). */
#ifndef SUGA_SUGGEST_H
#define SUGA_SUGGEST_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The candidate closest to `word` by edit distance when it is a likely typo, else NULL.
 * Used for "did you mean" hints on unknown operations, arguments and spec keys. */
const char *suga_closest(const char *word, const char *const *candidates, size_t count);
/* The same over an array of structs whose `const char *` name is at `offset` (offsetof) in each
 * `stride`-byte item: no list of names to build, e.g.
 *   suga_closest_member(w, t->ops, t->op_count, sizeof *t->ops, offsetof(suga_op, name)) */
const char *suga_closest_member(const char *word, const void *items, size_t count, size_t stride, size_t offset);

#ifdef __cplusplus
}
#endif

#endif
