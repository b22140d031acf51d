/* libFuzzer target: arbitrary bytes as the JSON arguments of an operation of the golden spec
 * (tests/golden/spec/), through lookup, decoding, validation and the handler. The first byte
 * picks the operation. Must never crash or leak whatever the input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "suga_ops.h" /* golden table */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Handlers that touch every decoded field, so a bad decode shows up under ASan/UBSan. */
suga_status sample_echo(suga_ctx *ctx, const suga_args_sample_echo *a, json_t **result)
{
    (void)ctx;
    *result = json_pack("{s:s%, s:s%, s:I, s:b, s:i, s:O?, s:O?, s:O?}", "text", a->text.ptr, a->text.len, "code",
                        a->code.ptr, a->code.len, "count", (json_int_t)a->count, "flag", a->flag, "mode", a->mode,
                        "options", a->options, "items", a->has_items ? a->items : NULL, "anything",
                        a->has_anything ? a->anything : NULL);
    return *result ? SUGA_OK : SUGA_E_NOMEM;
}

suga_status sample_ping(suga_ctx *ctx, const suga_args_sample_ping *a, json_t **result)
{
    (void)ctx;
    (void)a;
    *result = json_string("pong");
    return SUGA_OK;
}

suga_status sample_cached(suga_ctx *ctx, const suga_args_sample_cached *a, json_t **result)
{
    (void)result;
    return suga_fail(ctx, SUGA_E_HANDLER, "sample.cached: refused '%.*s'", (int)a->key.len, a->key.ptr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const suga_op *op = &golden_main_table.ops[data[0] % golden_main_table.op_count];
    json_t *args = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *result = NULL;
    suga_table_call_json(&golden_main_table, &ctx, op->name, strlen(op->name), args, &result);
    json_decref(result);
    json_decref(args);
    return 0;
}
