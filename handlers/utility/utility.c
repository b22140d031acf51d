/* utility.c: the utility.* operations, thin wrappers over the utility C API. */
#include <stdlib.h>
#include <string.h>

#include "suga_clock.h"
#include "suga_ops.h"
#include "utility/suga_utility.h"

suga_status suga_handle_utility_correlation_id(suga_ctx *ctx, const suga_args_utility_correlation_id *args, json_t **result)
{
    (void)args;
    char id[SUGA_UUID_LEN + 1];
    if (suga_util_uuid4(id) != SUGA_OK)
        return suga_fail(ctx, SUGA_E_IO, "%s: the kernel's random source (getrandom) failed", ctx->op->name);
    return suga_util_result(ctx, json_pack("{s:s}", "correlation_id", id), result);
}

suga_status suga_handle_utility_timestamp(suga_ctx *ctx, const suga_args_utility_timestamp *args, json_t **result)
{
    (void)args;
    int64_t now = suga_clock_wall_ms();
    char iso[SUGA_ISO8601_SIZE];
    if (suga_clock_iso8601(now, iso) != SUGA_OK)
        return suga_fail(ctx, SUGA_E_IO, "%s: the real-time clock cannot be read", ctx->op->name);
    return suga_util_result(ctx, json_pack("{s:I, s:s}", "epoch_ms", (json_int_t)now, "iso8601", iso), result);
}

suga_status suga_handle_utility_json_parse(suga_ctx *ctx, const suga_args_utility_json_parse *args, json_t **result)
{
    json_error_t err;
    json_t *v = json_loadb(args->text.ptr, args->text.len, JSON_DECODE_ANY, &err);
    if (!v) {
        if (json_error_code(&err) == json_error_out_of_memory)
            return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory parsing %zu bytes", ctx->op->name, args->text.len);
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: invalid JSON at line %d, column %d: %s", ctx->op->name,
                         err.line, err.column, err.text);
    }
    if (json_is_null(v)) /* the text "null": JSON null is a NULL result */
        json_decref(v);
    else
        *result = v;
    return SUGA_OK;
}

suga_status suga_handle_utility_json_stringify(suga_ctx *ctx, const suga_args_utility_json_stringify *args, json_t **result)
{
    size_t flags = JSON_SORT_KEYS | JSON_ENCODE_ANY | (args->pretty ? JSON_INDENT(2) : JSON_COMPACT);
    /* a typed caller may pass NULL for JSON null */
    char *text = json_dumps(args->value ? args->value : json_null(), flags);
    if (!text)
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "%s: the value cannot be encoded (it contains itself, or memory ran out)", ctx->op->name);
    json_t *out = json_pack("{s:s}", "text", text);
    free(text);
    return suga_util_result(ctx, out, result);
}

/* A suffix longer than max_bytes is left out (a partial "..." or a split character would be
 * worse): the text is then cut to max_bytes, and `truncated` still tells the caller. */
suga_status suga_handle_utility_truncate(suga_ctx *ctx, const suga_args_utility_truncate *args, json_t **result)
{
    size_t max = (size_t)args->max_bytes;
    if (args->text.len <= max)
        return suga_util_result(ctx, json_pack("{s:s%, s:b}", "text", args->text.ptr, args->text.len, "truncated", 0),
                                result);
    const char *suffix = args->suffix.ptr ? args->suffix.ptr : "";
    size_t suffix_len = args->suffix.ptr && args->suffix.len <= max ? args->suffix.len : 0;
    size_t keep = 0;
    suga_util_utf8_cut(args->text.ptr, args->text.len, max - suffix_len, &keep);
    char *text = malloc(keep + suffix_len + 1);
    if (!text)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory for %zu bytes", ctx->op->name, keep + suffix_len);
    memcpy(text, args->text.ptr, keep);
    memcpy(text + keep, suffix, suffix_len);
    json_t *out = json_pack("{s:s%, s:b}", "text", text, keep + suffix_len, "truncated", 1);
    free(text);
    return suga_util_result(ctx, out, result);
}
