/* call_bench.c: what a call costs on each path into a handler.
 *
 *   call_bench [--reps R] [--iters N]        time every path, print a markdown table
 *   call_bench --count PATH ITERS            run one path ITERS times and nothing else
 *                                            (for valgrind --tool=callgrind --toggle-collect=loop_PATH)
 *
 * Paths, all ending in the same handler (bench_noop in call_handler.c, generated from
 * bench/spec/bench.yaml with --prefix bench_ and linked with libsuga):
 *   empty     the loop alone (what is subtracted from the callgrind counts)
 *   direct    bench_noop(&ctx, &args, &result)
 *   fnptr     through a plain function pointer loaded from memory each call
 *   fast      the generated suga_fast_bench_noop wrapper (fast_path: true)
 *   call_id   suga_table_call_id(&bench_main_table, &ctx, SUGA_OP_BENCH_NOOP, &args, &result)
 *   call_json suga_table_call_json(&bench_main_table, &ctx, "bench.noop", 10, {"n": 1}, &result)
 *   engine    suga_engine_request({"op": "bench.noop", "args": {"n": 1}}): the whole normal path of
 *             a request (shape check, lookup, guard, validation, handler, metrics; log off)
 *   fusion3   suga_engine_request({"fusion": "noop3", "args": {"n": 1}}): three steps in one request
 *   engine3   the same three operations as three engine requests
 *
 * Each timed run checks that every call returned SUGA_OK with a NULL result and that the
 * handler's counter moved by exactly ITERS, so no call can be optimised away unnoticed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "suga_engine.h"
#include "suga_log.h"
#include "suga_ops.h"

extern volatile int64_t bench_counter;
extern suga_status (*bench_noop_ptr)(suga_ctx *, const suga_args_bench_noop *, json_t **);

static suga_ctx ctx;
static suga_args_bench_noop args = {.n = 1};
static json_t *args_json, *op_request, *fusion_request;
static suga_engine engine;

#define LOOP(call)                                                                                 \
    unsigned bad = 0;                                                                              \
    for (size_t i = 0; i < iters; i++) {                                                           \
        json_t *result;                                                                            \
        suga_status st = (call);                                                                   \
        bad += (st != SUGA_OK) | (result != NULL);                                                 \
    }                                                                                              \
    return bad;

static suga_status nothing(json_t **result)
{
    *result = NULL;
    bench_counter += args.n; /* keeps the counter check uniform */
    return SUGA_OK;
}

__attribute__((noinline)) unsigned loop_empty(size_t iters) { LOOP(nothing(&result)) }
__attribute__((noinline)) unsigned loop_direct(size_t iters) { LOOP((result = NULL, bench_noop(&ctx, &args, &result))) }
__attribute__((noinline)) unsigned loop_fnptr(size_t iters) { LOOP((result = NULL, bench_noop_ptr(&ctx, &args, &result))) }
__attribute__((noinline)) unsigned loop_fast(size_t iters) { LOOP(suga_fast_bench_noop(&ctx, &args, &result)) }
__attribute__((noinline)) unsigned loop_call_id(size_t iters)
{
    LOOP(suga_table_call_id(&bench_main_table, &ctx, SUGA_OP_BENCH_NOOP, &args, &result))
}
__attribute__((noinline)) unsigned loop_call_json(size_t iters)
{
    LOOP(suga_table_call_json(&bench_main_table, &ctx, "bench.noop", 10, args_json, &result))
}

/* The engine's result is the handler's (NULL) for an op, an object for a fusion: dropped here
 * like any caller would, so the fusion pays for building it. */
static suga_status engine_call(json_t *request, json_t **result)
{
    suga_status st = suga_engine_request(&engine, &ctx, request, result);
    if (*result && request == fusion_request) {
        json_decref(*result);
        *result = NULL;
    }
    return st;
}

static suga_status engine_three(json_t **result)
{
    suga_status st = SUGA_OK;
    for (int i = 0; i < 3; i++)
        st |= engine_call(op_request, result);
    return st;
}

__attribute__((noinline)) unsigned loop_engine(size_t iters) { LOOP(engine_call(op_request, &result)) }

/* The same request with the log on: its info record built, masked (suga_mask.h) and written to
 * /dev/null, which is what a request costs on Lambda at the default LOG_LEVEL. */
static FILE *devnull;
static unsigned engine_logged(size_t iters)
{
    LOOP(engine_call(op_request, &result))
}
__attribute__((noinline)) unsigned loop_engine_log(size_t iters)
{
    suga_log_set_output(devnull);
    suga_log_set_level(SUGA_LOG_INFO);
    unsigned bad = engine_logged(iters);
    suga_log_set_level(SUGA_LOG_ERROR);
    suga_log_set_output(NULL);
    return bad;
}
__attribute__((noinline)) unsigned loop_fusion3(size_t iters) { LOOP(engine_call(fusion_request, &result)) }
__attribute__((noinline)) unsigned loop_engine3(size_t iters) { LOOP(engine_three(&result)) }

typedef struct path {
    const char *name;
    const char *label;
    unsigned (*loop)(size_t iters);
    size_t iters; /* per timed repetition */
    int handler_calls; /* handler calls per iteration */
} path;

static path PATHS[] = {
    {"empty", "loop alone", loop_empty, 50000000, 1},
    {"direct", "direct call `bench_noop(...)`", loop_direct, 50000000, 1},
    {"fnptr", "plain function pointer", loop_fnptr, 50000000, 1},
    {"fast", "generated `suga_fast_bench_noop`", loop_fast, 50000000, 1},
    {"call_id", "`suga_table_call_id` (by id)", loop_call_id, 50000000, 1},
    {"call_json", "`suga_table_call_json` (by name, JSON args)", loop_call_json, 2000000, 1},
    {"engine", "`suga_engine_request`, one operation (every stage, log off)", loop_engine, 1000000, 1},
    {"engine_log", "`suga_engine_request`, one operation, log on (its record masked, to /dev/null)", loop_engine_log,
     200000, 1},
    {"fusion3", "`suga_engine_request`, 3-step fusion", loop_fusion3, 300000, 3},
    {"engine3", "`suga_engine_request` × 3, the same operations separately", loop_engine3, 300000, 3},
};
enum { P_DIRECT = 1, P_FNPTR = 2, P_FAST = 3, P_CALL_ID = 4, P_CALL_JSON = 5, P_ENGINE = 6, P_ENGINE_LOG = 7,
       P_FUSION3 = 8, P_ENGINE3 = 9 };
enum { PATH_COUNT = sizeof PATHS / sizeof PATHS[0] };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double run(const path *p, size_t iters)
{
    int64_t before = bench_counter;
    double t0 = now_s();
    unsigned bad = p->loop(iters);
    double t = now_s() - t0;
    if (bad || bench_counter - before != (int64_t)(iters * (size_t)p->handler_calls)) {
        fprintf(stderr, "call_bench: %s: %u calls failed or returned a result; counter moved by %lld, expected %zu (%s)\n",
                p->name, bad, (long long)(bench_counter - before), iters * (size_t)p->handler_calls, ctx.error);
        exit(1);
    }
    return t;
}

static const char USAGE[] =
    "usage: call_bench [--reps R] [--scale S]\n"
    "       call_bench --count PATH ITERS\n"
    "\n"
    "Times one call of the bench.noop handler on each path (empty, direct, fnptr, fast, call_id,\n"
    "call_json, engine, engine_log, fusion3, engine3) and prints a markdown table (best of R repetitions, default 7; --scale multiplies\n"
    "the iteration counts). --count runs one path ITERS times, for callgrind:\n"
    "  valgrind --tool=callgrind --toggle-collect=loop_PATH call_bench --count PATH ITERS\n";

/* The engine as the Lambda bootstrap runs it, with the log off (LOG_LEVEL=error: a request
 * record is info) and metrics going to /dev/null: they are recorded, never flushed in the loop. */
static int start_engine(void)
{
    op_request = json_pack("{s:s, s:{s:i}}", "op", "bench.noop", "args", "n", 1);
    fusion_request = json_pack("{s:s, s:{s:i}}", "fusion", "noop3", "args", "n", 1);
    devnull = fopen("/dev/null", "w");
    suga_engine_config config = {.guard_state_path = "", .metrics_out = devnull};
    if (!op_request || !fusion_request || !devnull || suga_log_set_level(SUGA_LOG_ERROR) != SUGA_OK ||
        suga_engine_init(&engine, &bench_main_table, &config, &ctx) != SUGA_OK) {
        fprintf(stderr, "call_bench: cannot start the engine: %s\n", ctx.error);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    suga_ctx_init(&ctx);
    args_json = json_pack("{s:i}", "n", 1);
    if (!args_json || start_engine())
        return 1;
    unsigned reps = 7;
    double scale = 1;
    if (argc == 4 && !strcmp(argv[1], "--count")) {
        for (int i = 0; i < PATH_COUNT; i++)
            if (!strcmp(argv[2], PATHS[i].name)) {
                run(&PATHS[i], strtoull(argv[3], NULL, 10));
                json_decref(args_json);
                return 0;
            }
        fprintf(stderr, "call_bench: unknown path '%s'\n", argv[2]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(USAGE, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--scale") && i + 1 < argc) {
            scale = strtod(argv[++i], NULL);
        } else {
            fputs(USAGE, stderr);
            return 2;
        }
    }
    if (reps == 0 || !(scale > 0)) {
        fputs(USAGE, stderr);
        return 2;
    }
    double best[PATH_COUNT];
    for (int i = 0; i < PATH_COUNT; i++)
        best[i] = 1e30;
    for (unsigned r = 0; r < reps; r++) /* interleaved, so a noisy moment hits every path alike */
        for (int i = 0; i < PATH_COUNT; i++) {
            size_t iters = (size_t)(PATHS[i].iters * scale) + 1;
            double ns = run(&PATHS[i], iters) * 1e9 / (double)iters;
            best[i] = ns < best[i] ? ns : best[i];
        }
    double base = best[P_FNPTR];
    printf("| path | ns per call | ÷ function pointer |\n|---|---:|---:|\n");
    for (int i = 0; i < PATH_COUNT; i++)
        printf("| %s | %.2f | %.2f |\n", PATHS[i].label, best[i], best[i] / base);
    printf("\nBest of %u repetitions; iterations per repetition: %zu (direct .. call_id), %zu (call_json), "
           "%zu (engine), %zu (engine_log), %zu (fusion3, engine3).\n",
           reps, (size_t)(PATHS[P_DIRECT].iters * scale) + 1, (size_t)(PATHS[P_CALL_JSON].iters * scale) + 1,
           (size_t)(PATHS[P_ENGINE].iters * scale) + 1, (size_t)(PATHS[P_ENGINE_LOG].iters * scale) + 1,
           (size_t)(PATHS[P_FUSION3].iters * scale) + 1);
    double ratio = best[P_CALL_ID] / base, fast_ratio = best[P_FAST] / base;
    printf("\nTarget \"call by id within 1.5x of a plain function-pointer call\": %s (%.2fx).\n",
           ratio <= 1.5 ? "met" : "**NOT met**", ratio);
    printf("Target \"fast path within 1.5x of a plain function-pointer call\": %s (%.2fx).\n",
           fast_ratio <= 1.5 ? "met" : "**NOT met**", fast_ratio);
    printf("Target \"whole normal path under 1 µs\": %s (%.0f ns).\n", best[P_ENGINE] < 1000 ? "met" : "**NOT met**",
           best[P_ENGINE]);
    /* engine overhead = time beyond the handler's own (three direct calls) */
    double handler3 = 3 * best[P_DIRECT];
    double fused = best[P_FUSION3] - handler3, separate = best[P_ENGINE3] - handler3;
    printf("Target \"3-step fusion: at least 2x less engine overhead than 3 separate calls\": %s "
           "(%.0f ns vs %.0f ns of overhead, %.2fx).\n",
           separate >= 2 * fused ? "met" : "**NOT met**", fused, separate, separate / fused);
    json_decref(args_json);
    json_decref(op_request);
    json_decref(fusion_request);
    suga_table_release(&bench_main_table);
    return 0;
}
