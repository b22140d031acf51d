/* logging.c: the logging.* operations, over the runtime's record writer (suga_log.h), so a record
 * written by an operation is the same as one the engine or another module writes. */
#include <errno.h>
#include <string.h>

#include "suga_log.h"
#include "suga_ops.h"
#include "utility/suga_utility.h"

/* the generated enum values of the level argument index the same names */
_Static_assert(SUGA_LOGGING_LOG_LEVEL_DEBUG == (int)SUGA_LOG_DEBUG && SUGA_LOGGING_LOG_LEVEL_INFO == (int)SUGA_LOG_INFO &&
                   SUGA_LOGGING_LOG_LEVEL_WARNING == (int)SUGA_LOG_WARNING &&
                   SUGA_LOGGING_LOG_LEVEL_ERROR == (int)SUGA_LOG_ERROR,
               "logging.log levels and suga_log_level must agree");
_Static_assert(SUGA_LOGGING_SET_LEVEL_LEVEL_DEBUG == (int)SUGA_LOG_DEBUG &&
                   SUGA_LOGGING_SET_LEVEL_LEVEL_ERROR == (int)SUGA_LOG_ERROR,
               "logging.set_level levels and suga_log_level must agree");

/* ---- operations ---- */

static suga_status write_failed(suga_ctx *ctx, suga_status st)
{
    const char *op = ctx->op->name;
    if (st == SUGA_E_IO)
        return suga_fail(ctx, st, "%s: writing the record failed: %s", op, strerror(errno));
    if (st == SUGA_E_NOMEM)
        return suga_fail(ctx, st, "%s: out of memory building the record", op);
    return suga_fail(ctx, st, "%s: message must be valid UTF-8 text", op);
}

/* What logging.log and its per-level shortcuts share: their arguments differ only in type. */
typedef struct log_request {
    suga_log_level level;
    suga_str message;
    const json_t *fields; /* NULL when not given */
    const char *correlation_id;
} log_request;

static suga_status log_op(suga_ctx *ctx, const log_request *req, json_t **result)
{
    if (!suga_log_level_name(req->level))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: level %d is not a log level", ctx->op->name, (int)req->level);
    bool written = false;
    suga_status st =
        suga_log_write_correlated(ctx, req->correlation_id, req->level, req->message.ptr, req->fields, &written);
    if (st != SUGA_OK)
        return write_failed(ctx, st);
    return suga_util_result(ctx, json_pack("{s:b}", "written", written), result);
}

/* The five argument structs have the same fields but distinct types; this reads them alike. */
#define LOG_REQUEST(lvl, a)                                                                                 \
    (&(log_request){                                                                                        \
        .level = (lvl),                                                                                     \
        .message = (a)->message,                                                                            \
        .fields = (a)->has_fields ? (a)->fields : NULL,                                                     \
        .correlation_id = (a)->has_correlation_id ? (a)->correlation_id.ptr : NULL,                         \
    })

suga_status suga_handle_logging_log(suga_ctx *ctx, const suga_args_logging_log *args, json_t **result)
{
    return log_op(ctx, LOG_REQUEST((suga_log_level)args->level, args), result);
}

suga_status suga_handle_logging_debug(suga_ctx *ctx, const suga_args_logging_debug *args, json_t **result)
{
    return log_op(ctx, LOG_REQUEST(SUGA_LOG_DEBUG, args), result);
}

suga_status suga_handle_logging_info(suga_ctx *ctx, const suga_args_logging_info *args, json_t **result)
{
    return log_op(ctx, LOG_REQUEST(SUGA_LOG_INFO, args), result);
}

suga_status suga_handle_logging_warning(suga_ctx *ctx, const suga_args_logging_warning *args, json_t **result)
{
    return log_op(ctx, LOG_REQUEST(SUGA_LOG_WARNING, args), result);
}

suga_status suga_handle_logging_error(suga_ctx *ctx, const suga_args_logging_error *args, json_t **result)
{
    return log_op(ctx, LOG_REQUEST(SUGA_LOG_ERROR, args), result);
}

suga_status suga_handle_logging_record_request(suga_ctx *ctx, const suga_args_logging_record_request *args, json_t **result)
{
    json_t *fields = json_pack("{s:s%, s:s%, s:f}", "operation", args->operation.ptr, args->operation.len, "status",
                               args->status.ptr, args->status.len, "duration_ms", args->duration_ms);
    if (!fields)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the record", ctx->op->name);
    bool written = false;
    suga_status st = suga_log_write_correlated(ctx, args->has_correlation_id ? args->correlation_id.ptr : NULL,
                                               SUGA_LOG_INFO, "request", fields, &written);
    json_decref(fields);
    if (st != SUGA_OK)
        return write_failed(ctx, st);
    return suga_util_result(ctx, json_pack("{s:b}", "written", written), result);
}

suga_status suga_handle_logging_set_level(suga_ctx *ctx, const suga_args_logging_set_level *args, json_t **result)
{
    suga_log_level previous;
    suga_log_get_level(&previous);
    if (suga_log_set_level((suga_log_level)args->level) != SUGA_OK)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: level %d is not a log level", ctx->op->name, args->level);
    json_t *out = json_pack("{s:s, s:s}", "level", suga_log_level_name((suga_log_level)args->level), "previous",
                            suga_log_level_name(previous));
    return suga_util_result(ctx, out, result);
}

suga_status suga_handle_logging_get_level(suga_ctx *ctx, const suga_args_logging_get_level *args, json_t **result)
{
    (void)args;
    suga_log_level level;
    suga_log_get_level(&level);
    return suga_util_result(ctx, json_pack("{s:s}", "level", suga_log_level_name(level)), result);
}
