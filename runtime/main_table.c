/* main_table.c: the short-form API, bound to the table compiled into this program
 * (suga_main_table, generated from spec/). Kept apart from dispatch.c so that tools and tests
 * can use the dispatcher with another generated table without linking the engine's own. */
#include "suga_table.h"

suga_status suga_lookup(const char *name, size_t len, const suga_op **out)
{
    return suga_table_lookup(&suga_main_table, name, len, out);
}

suga_status suga_op_by_id(uint32_t id, const suga_op **out)
{
    if (!out || id >= suga_main_table.op_count)
        return SUGA_E_NOT_FOUND;
    *out = &suga_main_table.ops[id];
    return SUGA_OK;
}

suga_status suga_call_json(suga_ctx *ctx, const char *name, size_t len, json_t *args, json_t **result)
{
    return suga_table_call_json(&suga_main_table, ctx, name, len, args, result);
}

suga_status suga_call_op_json(suga_ctx *ctx, uint32_t id, json_t *args, json_t **result)
{
    if (!ctx || !result)
        return SUGA_E_INVALID_ARG;
    *result = NULL;
    if (id >= suga_main_table.op_count) /* the message of a call by id with a typed struct */
        return suga_fail(ctx, SUGA_E_NOT_FOUND, "no operation with id %u (this table has %u)", (unsigned)id,
                         (unsigned)suga_main_table.op_count);
    return suga_table_call_op_json(&suga_main_table, ctx, &suga_main_table.ops[id], args, result);
}

suga_status suga_end_invocation(void)
{
    return suga_table_end_invocation(&suga_main_table);
}
