/* suga_internal.h: what runtime files share among themselves; not installed, not public API. */
#ifndef SUGA_INTERNAL_H
#define SUGA_INTERNAL_H

#include "suga.h"
#include "suga_result_cache.h"
#include "suga_suggest.h"
#include "suga_table.h"

/* Load (if lazy and not loaded) the module of `op` and resolve its handlers; count the call as
 * in flight. Pair with suga_module_leave. A failed load leaves other modules serving
 * (modules.c). */
suga_status suga_module_enter(const suga_table *table, suga_ctx *ctx, const suga_op *op);
/* The call of `op` returned: apply the module's unload policy (immediate unloads now, deferred
 * marks for suga_end_invocation). */
suga_status suga_module_leave(const suga_table *table, const suga_op *op);

/* The deadline a call of `op` runs under (dispatch.c): deadline_ms (wall-clock ms, 0 = none)
 * clipped to now_ms + op->timeout_ms when the operation declares timeout_ms (spec), else
 * deadline_ms unchanged. */
int64_t suga_op_deadline(const suga_op *op, int64_t deadline_ms, int64_t now_ms);

/* Result cache (result_cache.c). The key is the operation's name, a NUL byte and the canonical
 * JSON of the arguments (sorted keys, compact), so equal arguments in any key order hit. */
suga_status suga_result_cache_key(const suga_op *op, json_t *args, char **key, size_t *len);
/* SUGA_OK with a new reference in *result on a hit; SUGA_E_NOT_FOUND on a miss. */
suga_status suga_result_cache_lookup(const suga_table *table, const suga_op *op, const char *key, size_t len,
                                     json_t **result);
suga_status suga_result_cache_store(const suga_table *table, const suga_op *op, const char *key, size_t len,
                                    const json_t *value);

/* Process-wide count of result-cache hits (any table), so a request can tell how many of its
 * operations were answered from the cache. */
uint64_t suga_result_cache_hit_count(void);

/* The NOT_FOUND messages for unknown names, with a did-you-mean hint (dispatch.c, fusion.c). */
suga_status suga_unknown_operation(const suga_table *table, suga_ctx *ctx, const char *name, size_t len);
suga_status suga_unknown_fusion(const suga_table *table, suga_ctx *ctx, const char *name);

/* "an object", "a string", "null" ...: what a JSON value is (NULL: "nothing"), for messages
 * that must not echo the input itself (args.c). */
const char *suga_json_kind(const json_t *v);

/* Free the lazily built caches of a parameter list (args.c). */
void suga_params_release(const suga_param *params, uint16_t count);

#endif
