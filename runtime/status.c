/* status.c: status names and the per-call error message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "suga.h"

static const char *const status_names[SUGA_STATUS__COUNT] = {
    [SUGA_OK] = "ok",
    [SUGA_E_NOT_FOUND] = "not_found",
    [SUGA_E_INVALID_ARG] = "invalid_arg",
    [SUGA_E_HANDLER] = "handler_error",
    [SUGA_E_NOMEM] = "out_of_memory",
    [SUGA_E_STATE] = "bad_state",
    [SUGA_E_LIMIT] = "limit_exceeded",
    [SUGA_E_IO] = "io_error",
    [SUGA_E_INTERNAL] = "internal_error",
    [SUGA_E_BUDGET] = "budget_exhausted",
    [SUGA_E_UNAVAILABLE] = "unavailable",
};

const char *suga_status_name(suga_status status)
{
    if ((unsigned)status >= SUGA_STATUS__COUNT)
        return "unknown_status";
    return status_names[status];
}

void suga_ctx_init(suga_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
}

suga_status suga_fail(suga_ctx *ctx, suga_status status, const char *fmt, ...)
{
    if (ctx) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
        va_end(ap);
    }
    return status;
}
