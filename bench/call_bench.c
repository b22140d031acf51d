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
 *
 * Each timed run checks that every call returned SUGA_OK with a NULL result and that the
 * handler's counter moved by exactly ITERS, so no call can be optimised away unnoticed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "suga_ops.h"

extern volatile int64_t bench_counter;
extern suga_status (*bench_noop_ptr)(suga_ctx *, const suga_args_bench_noop *, json_t **);

static suga_ctx ctx;
static suga_args_bench_noop args = {.n = 1};
static json_t *args_json;

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

typedef struct path {
    const char *name;
    const char *label;
    unsigned (*loop)(size_t iters);
    size_t iters; /* per timed repetition */
} path;

static path PATHS[] = {
    {"empty", "loop alone", loop_empty, 50000000},
    {"direct", "direct call `bench_noop(...)`", loop_direct, 50000000},
    {"fnptr", "plain function pointer", loop_fnptr, 50000000},
    {"fast", "generated `suga_fast_bench_noop`", loop_fast, 50000000},
    {"call_id", "`suga_table_call_id` (by id)", loop_call_id, 50000000},
    {"call_json", "`suga_table_call_json` (by name, JSON args)", loop_call_json, 2000000},
};
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
    if (bad || bench_counter - before != (int64_t)iters) {
        fprintf(stderr, "call_bench: %s: %u calls failed or returned a result; counter moved by %lld, expected %zu (%s)\n",
                p->name, bad, (long long)(bench_counter - before), iters, ctx.error);
        exit(1);
    }
    return t;
}

static const char USAGE[] =
    "usage: call_bench [--reps R] [--scale S]\n"
    "       call_bench --count PATH ITERS\n"
    "\n"
    "Times one call of the bench.noop handler on each path (empty, direct, fnptr, fast, call_id,\n"
    "call_json) and prints a markdown table (best of R repetitions, default 7; --scale multiplies\n"
    "the iteration counts). --count runs one path ITERS times, for callgrind:\n"
    "  valgrind --tool=callgrind --toggle-collect=loop_PATH call_bench --count PATH ITERS\n";

int main(int argc, char **argv)
{
    suga_ctx_init(&ctx);
    args_json = json_pack("{s:i}", "n", 1);
    if (!args_json)
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
    double base = best[2];
    printf("| path | ns per call | ÷ function pointer |\n|---|---:|---:|\n");
    for (int i = 0; i < PATH_COUNT; i++)
        printf("| %s | %.2f | %.2f |\n", PATHS[i].label, best[i], best[i] / base);
    printf("\nBest of %u repetitions; %zu calls per repetition (%zu for call_json).\n", reps,
           (size_t)(PATHS[1].iters * scale) + 1, (size_t)(PATHS[PATH_COUNT - 1].iters * scale) + 1);
    double ratio = best[4] / base;
    printf("\nTarget \"call by id within 1.5x of a plain function-pointer call\": %s (%.2fx).\n",
           ratio <= 1.5 ? "met" : "**NOT met**", ratio);
    json_decref(args_json);
    suga_table_release(&bench_main_table);
    return 0;
}
