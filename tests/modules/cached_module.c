/* suga-lazy_cached.so: an operation with a result cache and a write that invalidates it. */
#include "suga_ops.h"

static int handler_runs; /* per load of the module: the module is unloaded after each call */

suga_status lazy_cached_lookup(suga_ctx *ctx, const suga_args_lazy_cached_lookup *args, json_t **result)
{
    (void)ctx;
    handler_runs++;
    *result = json_pack("{s:s%, s:i}", "key", args->key.ptr, args->key.len, "handler_runs", handler_runs);
    return *result ? SUGA_OK : SUGA_E_NOMEM;
}

suga_status lazy_cached_write(suga_ctx *ctx, const suga_args_lazy_cached_write *args, json_t **result)
{
    (void)ctx;
    (void)args;
    *result = json_pack("{s:b}", "written", 1);
    return *result ? SUGA_OK : SUGA_E_NOMEM;
}
