/* circuit_breaker.c: the circuit_breaker interface over the breakers of the engine's own table
 * (suga_main_table; declared in spec/limits.yaml, state machine in runtime/breaker.c).
 *
 * Time is the runtime's monotonic clock (suga_clock.h), the one module idle times and the result
 * cache use, so a test that replaces it (suga_clock_set_test_clock) moves cooldowns too.
 */
#include <stdio.h>
#include <string.h>

#include "suga_breaker.h"
#include "suga_clock.h"
#include "suga_ops.h"
#include "utility/suga_utility.h"

/* name → index, with the unknown-name message (and its hint) prefixed by the operation. */
static suga_status find(suga_ctx *ctx, suga_str name, uint16_t *index)
{
    suga_ctx local;
    suga_ctx_init(&local);
    suga_status st = suga_breaker_find(&suga_main_table, name.ptr, name.len, index, &local);
    if (st != SUGA_OK)
        return suga_fail(ctx, st, "%s: %s", ctx->op->name, local.error);
    return SUGA_OK;
}

suga_status suga_handle_circuit_breaker_get(suga_ctx *ctx, const suga_args_circuit_breaker_get *args, json_t **result)
{
    uint16_t index;
    suga_status st = find(ctx, args->name, &index);
    if (st != SUGA_OK)
        return st;
    st = suga_breaker_describe(&suga_main_table, index, suga_clock_monotonic_ms(), result);
    if (st != SUGA_OK)
        return suga_fail(ctx, st, "%s: out of memory building the result", ctx->op->name);
    return SUGA_OK;
}

suga_status suga_handle_circuit_breaker_list(suga_ctx *ctx, const suga_args_circuit_breaker_list *args, json_t **result)
{
    (void)args;
    suga_status st = suga_breaker_describe_all(&suga_main_table, suga_clock_monotonic_ms(), result);
    if (st != SUGA_OK)
        return suga_fail(ctx, st, "%s: out of memory building the result", ctx->op->name);
    return SUGA_OK;
}

suga_status suga_handle_circuit_breaker_reset(suga_ctx *ctx, const suga_args_circuit_breaker_reset *args, json_t **result)
{
    uint16_t index;
    suga_status st = find(ctx, args->name, &index);
    if (st != SUGA_OK)
        return st;
    suga_breaker_phase before;
    suga_breaker_phase_at(&suga_main_table, index, suga_clock_monotonic_ms(), &before);
    suga_breaker_reset(&suga_main_table, index);
    return suga_util_result(ctx,
                            json_pack("{s:s, s:s, s:s}", "name", suga_main_table.breakers[index].name,
                                      "previous_state", suga_breaker_phase_name(before), "state",
                                      suga_breaker_phase_name(SUGA_BREAKER_CLOSED)),
                            result);
}

/* The operation is resolved before the breaker is asked, so a misspelt name is reported as such
 * (with its hint) even while the breaker is open, and never takes a half-open trial slot. */
suga_status suga_handle_circuit_breaker_call(suga_ctx *ctx, const suga_args_circuit_breaker_call *args, json_t **result)
{
    uint16_t index;
    suga_status st = find(ctx, args->name, &index);
    if (st != SUGA_OK)
        return st;
    const suga_op *op;
    if (suga_table_lookup(&suga_main_table, args->op.ptr, args->op.len, &op) != SUGA_OK) {
        /* the dispatcher words the unknown-operation error, hint included; nothing runs */
        return suga_table_call_json(&suga_main_table, ctx, args->op.ptr, args->op.len, NULL, result);
    }
    /* each nesting level holds an argument buffer on the stack, and arguments can nest deeply */
    if (op->id == SUGA_OP_CIRCUIT_BREAKER_CALL)
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "%s: op cannot be %s itself (name the operation to run directly)", ctx->op->name,
                         ctx->op->name);
    /* an operation declared with this very breaker already goes through it in the dispatcher:
     * admitting it here as well would count every outcome twice and, half-open, take the one
     * trial slot the dispatcher's own admit then needs */
    if (op->breaker_index == index)
        return suga_table_call_op_json(&suga_main_table, ctx, op, args->args, result);
    st = suga_breaker_admit(&suga_main_table, index, suga_clock_monotonic_ms(), ctx);
    if (st != SUGA_OK)
        return st;
    /* this breaker counts the outcome, as the dispatcher's would (suga_ctx.under_breaker) */
    bool under_breaker = ctx->under_breaker;
    ctx->under_breaker = true;
    st = suga_table_call_op_json(&suga_main_table, ctx, op, args->args, result);
    ctx->under_breaker = under_breaker;
    suga_breaker_record_status(&suga_main_table, index, st, suga_clock_monotonic_ms());
    return st;
}
