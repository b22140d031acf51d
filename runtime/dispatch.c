/* dispatch.c: name → descriptor → decode → handler.
 *
 * The perfect-hash lookup itself is generated (suga_lookup.c: `find` of the table); this file
 * adds the range check on the id, argument decoding into a stack buffer, and the call through the
 * generated trampoline. Calling by id skips the hash entirely. Everything here works on any
 * table; main_table.c binds the short names (suga_lookup, suga_call_json...) to the engine's own.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "suga_breaker.h"
#include "suga_clock.h"
#include "suga_internal.h"
#include "suga_store.h"

suga_status suga_table_lookup(const suga_table *table, const char *name, size_t len, const suga_op **out)
{
    if (!table || !name || !out)
        return SUGA_E_INVALID_ARG;
    uint32_t id = table->find(name, len);
    if (id >= table->op_count) /* the generated find already compared the key; never trust an id blindly */
        return SUGA_E_NOT_FOUND;
    *out = &table->ops[id];
    return SUGA_OK;
}

suga_status suga_call_id_refused(const suga_table *table, suga_ctx *ctx, uint32_t id, const void *args,
                                 json_t **result)
{
    if (!table || !ctx || !args || !result) /* typed callers pass their struct, never NULL */
        return SUGA_E_INVALID_ARG;
    return suga_fail(ctx, SUGA_E_NOT_FOUND, "no operation with id %u (this table has %u)", (unsigned)id,
                     (unsigned)table->op_count);
}

suga_status suga_call_id_failed(const suga_table *table, uint32_t id, suga_status status, json_t **result)
{
    table->stats[id].errors++;
    if (*result) { /* a failing handler's partial result is not the caller's to free */
        json_decref(*result);
        *result = NULL;
    }
    return status;
}

suga_status suga_unknown_operation(const suga_table *table, suga_ctx *ctx, const char *name, size_t len)
{
    char shown[SUGA_MAX_NAME_LEN + 1];
    size_t n = len < SUGA_MAX_NAME_LEN ? len : SUGA_MAX_NAME_LEN;
    memcpy(shown, name, n);
    shown[n] = '\0';
    /* the hint scans every name: fine on this error path, never on the hit path */
    const char *best =
        suga_closest_member(shown, table->ops, table->op_count, sizeof *table->ops, offsetof(suga_op, name));
    if (best)
        return suga_fail(ctx, SUGA_E_NOT_FOUND, "unknown operation '%s' (did you mean '%s'?)", shown, best);
    return suga_fail(ctx, SUGA_E_NOT_FOUND, "unknown operation '%s'", shown);
}

int64_t suga_op_deadline(const suga_op *op, int64_t deadline_ms, int64_t now_ms)
{
    if (!op || !op->timeout_ms)
        return deadline_ms;
    int64_t own = now_ms + (int64_t)op->timeout_ms;
    return deadline_ms == 0 || own < deadline_ms ? own : deadline_ms;
}

/* An operation with a breaker or a retry policy. The breaker admits the call once (an open one
 * refuses at once, which is the point: no waiting on a dependency known to be down) and hears
 * once how it went, after the last try: one call with its retries is one success or one failure,
 * so `failure_threshold` counts calls, not tries. A failure that is the dependency's
 * (suga_breaker_counts_failure) is retried with exponential backoff while the policy allows and
 * the deadline leaves time; timeout_ms clips that deadline once, here, so it bounds the whole
 * call with its retries (each try, through suga_call_id_slow, clips it again to no effect). Bad
 * arguments never get here: they were refused by the decoder, and retrying them could not help.
 * While a guarded operation runs, ctx->under_breaker tells handlers that its outcome is counted
 * here (http_client then leaves its per-host breaker out). */
static suga_status call_resilient(const suga_table *table, suga_ctx *ctx, const suga_op *op, const void *args,
                                  json_t **result)
{
    bool guarded = op->breaker_index != SUGA_NO_BREAKER;
    if (guarded) {
        suga_status admitted = suga_breaker_admit(table, op->breaker_index, suga_clock_monotonic_ms(), ctx);
        if (admitted != SUGA_OK) {
            table->stats[op->id].calls++;
            table->stats[op->id].errors++;
            return admitted;
        }
    }
    int64_t saved_deadline = ctx->deadline_ms;
    bool saved_under_breaker = ctx->under_breaker;
    ctx->deadline_ms = suga_op_deadline(op, saved_deadline, suga_clock_wall_ms());
    ctx->under_breaker = saved_under_breaker || guarded;
    suga_status st;
    for (uint32_t attempt = 1;; attempt++) {
        st = suga_table_call_id(table, ctx, op->id, args, result);
        uint32_t delay_ms = 0;
        if (st == SUGA_OK || !suga_breaker_counts_failure(st) ||
            suga_retry_delay_ms(op, attempt, suga_clock_wall_ms(), ctx->deadline_ms, &delay_ms) != SUGA_OK)
            break;
        struct timespec pause = {.tv_sec = delay_ms / 1000, .tv_nsec = (long)(delay_ms % 1000) * 1000000};
        while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
            ;
    }
    ctx->deadline_ms = saved_deadline;
    ctx->under_breaker = saved_under_breaker;
    if (guarded)
        suga_breaker_record_status(table, op->breaker_index, st, suga_clock_monotonic_ms());
    return st;
}

/* A rejected call is still a call: counted, and counted as an error. */
static suga_status rejected(const suga_table *table, const suga_op *op, suga_status st)
{
    table->stats[op->id].calls++;
    table->stats[op->id].errors++;
    return st;
}

/* Decode and validate the values (one per param), then call; no result cache here. */
static suga_status decode_and_call(const suga_table *table, suga_ctx *ctx, const suga_op *op,
                                   json_t *const *values, json_t **result)
{
    if (op->args_size > SUGA_ARGS_BUF_SIZE)
        return suga_fail(ctx, SUGA_E_INTERNAL, "%s: argument struct of %u bytes exceeds the decode buffer", op->name,
                         (unsigned)op->args_size);
    _Alignas(max_align_t) unsigned char buf[SUGA_ARGS_BUF_SIZE];
    memset(buf, 0, op->args_size);
    suga_status st = suga_decode_values(ctx, op->name, op->params, op->param_count, values, buf);
    if (st != SUGA_OK)
        return rejected(table, op, st);
    if (op->breaker_index != SUGA_NO_BREAKER || op->retry_attempts > 1)
        return call_resilient(table, ctx, op, buf, result);
    return suga_table_call_id(table, ctx, op->id, buf, result);
}

/* Cache-first: a hit answers before decoding and before any module is loaded. The key is the
 * canonical JSON of `args`. The result cache is an optimisation, so a failure inside it (no
 * memory for the key or the entry) never fails the call; the call then simply runs uncached. */
static suga_status call_cached(const suga_table *table, suga_ctx *ctx, const suga_op *op, json_t *args,
                               json_t *const *values, json_t **result)
{
    char *key = NULL;
    size_t len = 0;
    if (suga_result_cache_key(op, args, &key, &len) != SUGA_OK)
        return decode_and_call(table, ctx, op, values, result);
    suga_status st = suga_result_cache_lookup(table, op, key, len, result);
    if (st != SUGA_OK) {
        st = decode_and_call(table, ctx, op, values, result);
        if (st == SUGA_OK)
            suga_result_cache_store(table, op, key, len, *result);
    }
    free(key);
    return st;
}

static bool op_of_table(const suga_table *table, const suga_op *op)
{
    return op >= table->ops && op < table->ops + table->op_count;
}

suga_status suga_table_call_op_json(const suga_table *table, suga_ctx *ctx, const suga_op *op, json_t *args,
                                    json_t **result)
{
    if (!table || !ctx || !op || !result || !op_of_table(table, op))
        return SUGA_E_INVALID_ARG;
    *result = NULL;
    json_t *values[SUGA_MAX_PARAMS];
    suga_status st = suga_collect_args(ctx, op->name, op->params, op->param_count, args, values);
    if (st != SUGA_OK)
        return rejected(table, op, st);
    if (op->has_cache)
        return call_cached(table, ctx, op, args, values, result);
    return decode_and_call(table, ctx, op, values, result);
}

suga_status suga_table_call_op_values(const suga_table *table, suga_ctx *ctx, const suga_op *op,
                                      json_t *const *values, json_t **result)
{
    if (!table || !ctx || !op || !values || !result || !op_of_table(table, op))
        return SUGA_E_INVALID_ARG;
    *result = NULL;
    if (!op->has_cache)
        return decode_and_call(table, ctx, op, values, result);
    /* the cache key is the canonical JSON of the arguments: only here is the object built */
    json_t *args = json_object();
    for (uint16_t i = 0; args && i < op->param_count; i++)
        if (values[i] && json_object_set(args, op->params[i].name, values[i])) {
            json_decref(args);
            args = NULL;
        }
    suga_status st = args ? call_cached(table, ctx, op, args, values, result)
                          : decode_and_call(table, ctx, op, values, result);
    json_decref(args);
    return st;
}

suga_status suga_table_call_json(const suga_table *table, suga_ctx *ctx, const char *name, size_t len,
                                 json_t *args, json_t **result)
{
    if (!table || !ctx || !name || !result)
        return SUGA_E_INVALID_ARG;
    *result = NULL;
    const suga_op *op;
    if (suga_table_lookup(table, name, len, &op) != SUGA_OK)
        return suga_unknown_operation(table, ctx, name, len);
    return suga_table_call_op_json(table, ctx, op, args, result);
}

suga_status suga_table_release(const suga_table *table)
{
    if (!table)
        return SUGA_E_INVALID_ARG;
    for (uint32_t i = 0; i < table->op_count; i++)
        suga_params_release(table->ops[i].params, table->ops[i].param_count);
    for (uint32_t i = 0; i < table->fusion_count; i++)
        suga_params_release(table->fusions[i].params, table->fusions[i].param_count);
    if (table->result_store) {
        suga_store_free(*table->result_store);
        *table->result_store = NULL;
    }
    return SUGA_OK;
}
