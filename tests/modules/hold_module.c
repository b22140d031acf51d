/* lazy_now.hold: while it runs, its own module must not be unloaded, neither directly nor by
 * the end-of-invocation policies. It reports what the engine answered, and which operation the
 * dispatcher said it serves (ctx->op, set on the lazy-module path too). */
#include <stdio.h>
#include <string.h>

#include "suga_ops.h"

suga_status lazy_now_hold(suga_ctx *ctx, const suga_args_lazy_now_hold *args, json_t **result)
{
    (void)args;
    const suga_op *self = ctx->op;
    if (!self)
        return suga_fail(ctx, SUGA_E_INTERNAL, "lazy_now.hold: the dispatcher did not say which operation it serves");
    suga_status unload = suga_module_unload(&mod_main_table, self->module);
    suga_status end = suga_table_end_invocation(&mod_main_table);
    *result = json_pack("{s:s, s:s, s:s, s:b}", "op", self->name, "unload", suga_status_name(unload),
                        "end_invocation", suga_status_name(end), "still_bound", *self->lazy_handler != NULL);
    return *result ? SUGA_OK : SUGA_E_NOMEM;
}
