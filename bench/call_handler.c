/* call_handler.c: the handler of bench.noop (bench/spec/bench.yaml), in its own translation unit
 * so the "direct call" in call_bench.c is a real call, as it is for any handler in another file. */
#include "suga_ops.h"

volatile int64_t bench_counter;

suga_status bench_noop(suga_ctx *ctx, const suga_args_bench_noop *args, json_t **result)
{
    (void)ctx;
    (void)result;
    bench_counter += args->n; /* trivial work, no allocation; volatile so it is never elided */
    return SUGA_OK;
}

/* A plain function pointer, writable and defined here so the caller must load it each call. */
suga_status (*bench_noop_ptr)(suga_ctx *, const suga_args_bench_noop *, json_t **) = bench_noop;
