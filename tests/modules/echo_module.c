/* The handler of <iface>.echo for one test module, compiled once per module with
 * -DECHO_HANDLER=<iface>_echo -DECHO_ARGS=suga_args_<iface>_echo into suga-<iface>.so. */
#include "suga_ops.h"

suga_status ECHO_HANDLER(suga_ctx *ctx, const ECHO_ARGS *args, json_t **result);

suga_status ECHO_HANDLER(suga_ctx *ctx, const ECHO_ARGS *args, json_t **result)
{
    (void)ctx;
    *result = args->has_value ? json_incref(args->value) : NULL;
    return SUGA_OK;
}
