/* suga_result_cache.h: the engine's result cache, for handlers that know better than a TTL.
 *
 * The dispatcher answers an operation declared with `cache: {ttl: N}` from this cache, keyed by
 * the operation and the canonical JSON of its arguments (sorted keys, compact), so equal
 * arguments in any key order hit (runtime/result_cache.c). A handler may seed or clear entries
 * of another operation when it learns their value or knows it changed.
 */
#ifndef SUGA_RESULT_CACHE_H
#define SUGA_RESULT_CACHE_H

#include <jansson.h>

#include "suga_table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Seed or clear one entry of an operation's result cache from outside a call of it, e.g. a
 * listing that also returns each item (homeassistant.list_states warms get_state) or a write that
 * knows exactly which items it changed. `args` are the arguments a call would be keyed by. */
suga_status suga_result_cache_put(const suga_table *table, const suga_op *op, json_t *args, const json_t *value);
suga_status suga_result_cache_forget(const suga_table *table, const suga_op *op, json_t *args);

/* Clear the cached results of the operations `writer` invalidates (spec: invalidates), all
 * arguments; the dispatcher does it after every successful call of `writer`. */
suga_status suga_result_cache_invalidate(const suga_table *table, const suga_op *writer);

#ifdef __cplusplus
}
#endif

#endif
