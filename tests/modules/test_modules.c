/* Lazy loading and unload policies, with real shared objects (tests/modules/meson.build builds
 * suga-<module>.so for the modules of tests/modules/spec/). A module's mapping is checked in
 * /proc/self/maps: loaded means mapped, unloaded means gone. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "suga_breaker.h"
#include "suga_ops.h" /* the test table, prefix mod_ */
#include "suga_test_hooks.h"

suga_status plain_ping(suga_ctx *ctx, const suga_args_plain_ping *args, json_t **result)
{
    (void)ctx;
    (void)args;
    *result = json_string("pong");
    return SUGA_OK;
}

/* resilient.*: each fails with `failure_status` while `failures_left` > 0, counting its calls
 * and noting what each call saw in its ctx (the deadline, under_breaker). */
#define SEEN_MAX 16
static int failures_left, handler_calls;
static suga_status failure_status = SUGA_E_UNAVAILABLE;
static int64_t seen_deadline[SEEN_MAX];
static bool seen_under_breaker[SEEN_MAX];

static suga_status fail_or_count(suga_ctx *ctx, json_t **result)
{
    if (handler_calls < SEEN_MAX) {
        seen_deadline[handler_calls] = ctx->deadline_ms;
        seen_under_breaker[handler_calls] = ctx->under_breaker;
    }
    handler_calls++;
    if (failures_left > 0) {
        failures_left--;
        return suga_fail(ctx, failure_status, "upstream down (%d more failures)", failures_left);
    }
    *result = json_integer(handler_calls);
    return SUGA_OK;
}

suga_status resilient_flaky(suga_ctx *ctx, const suga_args_resilient_flaky *args, json_t **result)
{
    (void)args;
    return fail_or_count(ctx, result);
}

suga_status resilient_write(suga_ctx *ctx, const suga_args_resilient_write *args, json_t **result)
{
    (void)args;
    return fail_or_count(ctx, result);
}

suga_status resilient_fragile(suga_ctx *ctx, const suga_args_resilient_fragile *args, json_t **result)
{
    (void)args;
    return fail_or_count(ctx, result);
}

suga_status resilient_guarded(suga_ctx *ctx, const suga_args_resilient_guarded *args, json_t **result)
{
    (void)args;
    return fail_or_count(ctx, result);
}

suga_status resilient_timed(suga_ctx *ctx, const suga_args_resilient_timed *args, json_t **result)
{
    (void)args;
    return fail_or_count(ctx, result);
}

suga_status resilient_timed_retried(suga_ctx *ctx, const suga_args_resilient_timed_retried *args, json_t **result)
{
    (void)args;
    return fail_or_count(ctx, result);
}

static bool mapped(const char *module)
{
    char needle[128];
    snprintf(needle, sizeof needle, "/suga-%s.so", module);
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert(f);
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

static const suga_module_state *state_of(const char *module)
{
    for (uint32_t i = 0; i < mod_main_table.module_count; i++)
        if (!strcmp(mod_main_table.modules[i].name, module))
            return &mod_main_table.module_states[i];
    cr_assert_fail("no module %s", module);
    return NULL;
}

static suga_status call(suga_ctx *ctx, const char *op, const char *args_json, json_t **result)
{
    suga_ctx_init(ctx);
    json_t *args = args_json ? json_loads(args_json, 0, NULL) : NULL;
    suga_status st = suga_table_call_json(&mod_main_table, ctx, op, strlen(op), args, result);
    json_decref(args);
    return st;
}

static void echo_ok(const char *op)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(call(&ctx, op, "{\"value\": 42}", &r), SUGA_OK, "%s: %s", op, ctx.error);
    cr_expect_eq(json_integer_value(r), 42);
    json_decref(r);
}

Test(modules, lazy_module_is_loaded_on_first_call_only)
{
    cr_expect_not(mapped("lazy_never"), "not loaded before its first call");
    echo_ok("lazy_never.echo");
    cr_expect(mapped("lazy_never"));
    echo_ok("lazy_never.echo");
    cr_expect_eq(state_of("lazy_never")->loads, 1, "handlers are resolved once");
    suga_table_end_invocation(&mod_main_table);
    cr_expect(mapped("lazy_never"), "unload: never keeps it");
}

Test(modules, immediate_unloads_after_the_call_and_reloads)
{
    echo_ok("lazy_now.echo");
    cr_expect_not(mapped("lazy_now"), "unload: immediate drops it when the call returns");
    cr_expect_eq(state_of("lazy_now")->unloads, 1);
    echo_ok("lazy_now.echo");
    cr_expect_eq(state_of("lazy_now")->loads, 2, "and it loads again on the next call");
    cr_expect_not(mapped("lazy_now"));
}

Test(modules, deferred_unloads_at_the_end_of_the_invocation)
{
    echo_ok("lazy_later.echo");
    echo_ok("lazy_later.echo");
    cr_expect(mapped("lazy_later"), "still there during the invocation");
    cr_assert_eq(suga_table_end_invocation(&mod_main_table), SUGA_OK);
    cr_expect_not(mapped("lazy_later"));
    cr_expect_eq(state_of("lazy_later")->loads, 1);
    cr_expect_eq(state_of("lazy_later")->unloads, 1);
    echo_ok("lazy_later.echo");
    cr_expect(mapped("lazy_later"), "reloaded for the next invocation");
}

static int64_t fake_now;
static int64_t fake_clock(void)
{
    return fake_now;
}

Test(modules, idle_unloads_after_idle_seconds)
{
    suga_clock_set_test_clock(fake_clock);
    fake_now = 1000000;
    echo_ok("lazy_idle.echo");
    fake_now += 4000;
    suga_table_end_invocation(&mod_main_table);
    cr_expect(mapped("lazy_idle"), "used 4 s ago, idle_seconds is 5");
    fake_now += 1000;
    suga_table_end_invocation(&mod_main_table);
    cr_expect_not(mapped("lazy_idle"), "unused for 5 s");
    suga_clock_set_test_clock(NULL);
}

Test(modules, memory_unloads_above_the_limit)
{
    setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "100000", 1);
    echo_ok("lazy_mem.echo");
    suga_table_end_invocation(&mod_main_table);
    cr_expect(mapped("lazy_mem"), "far below 75 %% of 100000 MB");
    setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1", 1);
    suga_table_end_invocation(&mod_main_table);
    cr_expect_not(mapped("lazy_mem"), "above 75 %% of 1 MB");
    unsetenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
}

Test(modules, never_unloaded_while_in_flight)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(call(&ctx, "lazy_now.hold", NULL, &r), SUGA_OK, "%s", ctx.error);
    cr_expect_str_eq(json_string_value(json_object_get(r, "op")), "lazy_now.hold");
    cr_expect_str_eq(json_string_value(json_object_get(r, "unload")), "bad_state", "refused while running");
    cr_expect(json_is_true(json_object_get(r, "still_bound")));
    json_decref(r);
    cr_expect_not(mapped("lazy_now"), "unloaded once the call returned");
}

Test(modules, missing_module_fails_clearly_and_others_keep_serving)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_expect_eq(call(&ctx, "lazy_missing.echo", "{}", &r), SUGA_E_UNAVAILABLE);
    cr_expect(strstr(ctx.error, "module 'lazy_missing' could not be loaded: "), "%s", ctx.error);
    cr_expect(strstr(ctx.error, "suga-lazy_missing.so"), "names the file: %s", ctx.error);
    cr_expect(strstr(ctx.error, "No such file or directory"), "carries dlerror: %s", ctx.error);
    cr_expect_eq(state_of("lazy_missing")->load_failures, 1);
    cr_assert_eq(call(&ctx, "plain.ping", NULL, &r), SUGA_OK);
    json_decref(r);
    echo_ok("lazy_never.echo");
    cr_expect_eq(call(&ctx, "lazy_missing.echo", "{}", &r), SUGA_E_UNAVAILABLE, "and it is tried again");
    cr_expect_eq(state_of("lazy_missing")->load_failures, 2);
}

Test(modules, module_without_a_handler_is_refused)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_expect_eq(call(&ctx, "lazy_broken.echo", "{}", &r), SUGA_E_UNAVAILABLE);
    cr_expect(strstr(ctx.error, "has no handler 'lazy_broken_run' for lazy_broken.run"), "%s", ctx.error);
    cr_expect_not(mapped("lazy_broken"), "a module that failed to bind is closed again");
    json_t *live = NULL;
    cr_assert_eq(suga_describe_modules_live(&mod_main_table, &live), SUGA_OK);
    size_t i;
    json_t *row;
    bool seen = false;
    json_array_foreach(live, i, row) {
        if (strcmp(json_string_value(json_object_get(row, "name")), "lazy_broken"))
            continue;
        seen = true;
        cr_expect(json_is_false(json_object_get(row, "loaded")));
        cr_expect(strstr(json_string_value(json_object_get(row, "last_error")), "lazy_broken_run"));
    }
    cr_expect(seen);
    json_decref(live);
}

Test(result_cache, a_hit_answers_without_loading_the_module)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(call(&ctx, "lazy_cached.lookup", "{\"key\": \"k1\"}", &r), SUGA_OK, "%s", ctx.error);
    cr_expect_eq(json_integer_value(json_object_get(r, "handler_runs")), 1);
    json_decref(r);
    cr_expect_not(mapped("lazy_cached"), "unload: immediate");
    cr_assert_eq(call(&ctx, "lazy_cached.lookup", "{\"key\": \"k1\"}", &r), SUGA_OK, "%s", ctx.error);
    cr_expect_eq(json_integer_value(json_object_get(r, "handler_runs")), 1, "the cached result");
    cr_expect_str_eq(json_string_value(json_object_get(r, "key")), "k1");
    json_decref(r);
    cr_expect_eq(state_of("lazy_cached")->loads, 1, "a hit never loads the module");
    cr_expect_not(mapped("lazy_cached"));
    cr_expect_eq(state_of("lazy_cached")->hits_without_load, 1);
    const suga_op *op;
    cr_assert_eq(suga_table_lookup(&mod_main_table, "lazy_cached.lookup", 18, &op), SUGA_OK);
    cr_expect_eq(mod_main_table.stats[op->id].cache_hits, 1);
    cr_expect_eq(mod_main_table.stats[op->id].calls, 2, "a hit is a call");
}

Test(result_cache, keyed_by_canonical_arguments)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(call(&ctx, "lazy_cached.lookup", "{\"key\": \"a\"}", &r), SUGA_OK);
    json_decref(r);
    cr_assert_eq(call(&ctx, "lazy_cached.lookup", "{\"key\": \"b\"}", &r), SUGA_OK);
    cr_expect_str_eq(json_string_value(json_object_get(r, "key")), "b", "other arguments, other entry");
    json_decref(r);
    cr_expect_eq(state_of("lazy_cached")->loads, 2);
    cr_assert_eq(call(&ctx, "lazy_cached.lookup", "{\"key\": \"a\"}", &r), SUGA_OK);
    json_decref(r);
    cr_expect_eq(state_of("lazy_cached")->loads, 2, "'a' again is a hit");
    cr_expect_eq(call(&ctx, "lazy_cached.lookup", "{}", &r), SUGA_E_INVALID_ARG, "bad arguments are never cached");
    cr_expect_str_eq(ctx.error, "lazy_cached.lookup: arg 'key' is required");
}

Test(result_cache, a_write_invalidates)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(call(&ctx, "lazy_cached.lookup", "{\"key\": \"k\"}", &r), SUGA_OK);
    json_decref(r);
    cr_assert_eq(call(&ctx, "lazy_cached.write", NULL, &r), SUGA_OK, "%s", ctx.error);
    json_decref(r);
    cr_assert_eq(call(&ctx, "lazy_cached.lookup", "{\"key\": \"k\"}", &r), SUGA_OK);
    json_decref(r);
    cr_expect_eq(state_of("lazy_cached")->loads, 3, "lookup, write, and lookup again after the write");
}

static int64_t cache_now;
static int64_t cache_clock(void)
{
    return cache_now;
}

Test(result_cache, entries_expire_after_ttl)
{
    suga_clock_set_test_clock(cache_clock);
    cache_now = 5000000;
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(call(&ctx, "lazy_cached.lookup", "{\"key\": \"t\"}", &r), SUGA_OK);
    json_decref(r);
    cache_now += 59000;
    cr_assert_eq(call(&ctx, "lazy_cached.lookup", "{\"key\": \"t\"}", &r), SUGA_OK);
    json_decref(r);
    cr_expect_eq(state_of("lazy_cached")->loads, 1, "59 s: still cached (ttl 60)");
    cache_now += 1000;
    cr_assert_eq(call(&ctx, "lazy_cached.lookup", "{\"key\": \"t\"}", &r), SUGA_OK);
    json_decref(r);
    cr_expect_eq(state_of("lazy_cached")->loads, 2, "60 s: expired");
    suga_clock_set_test_clock(NULL);
}

/* ---- retry and circuit breakers (spec: retry, breaker; limits.breakers) ---- */

static void resilient_reset(int failures, suga_status status)
{
    failures_left = failures;
    handler_calls = 0;
    failure_status = status;
}

Test(resilience, an_idempotent_operation_is_retried_until_it_succeeds)
{
    resilient_reset(2, SUGA_E_UNAVAILABLE);
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(call(&ctx, "resilient.flaky", NULL, &r), SUGA_OK, "%s", ctx.error);
    cr_expect_eq(handler_calls, 3, "two failures, then the third try succeeds");
    cr_expect_eq(json_integer_value(r), 3);
    json_decref(r);
}

Test(resilience, retries_stop_at_the_declared_attempts)
{
    resilient_reset(5, SUGA_E_IO);
    suga_ctx ctx;
    json_t *r = NULL;
    cr_expect_eq(call(&ctx, "resilient.flaky", NULL, &r), SUGA_E_IO);
    cr_expect_eq(handler_calls, 3, "attempts: 3 counts every try");
    cr_expect_str_eq(ctx.error, "upstream down (2 more failures)", "the last try's message");
}

Test(resilience, non_idempotent_operations_and_caller_errors_are_not_retried)
{
    resilient_reset(1, SUGA_E_UNAVAILABLE);
    suga_ctx ctx;
    json_t *r = NULL;
    cr_expect_eq(call(&ctx, "resilient.write", NULL, &r), SUGA_E_UNAVAILABLE);
    cr_expect_eq(handler_calls, 1, "a write is not idempotent: running it twice could do it twice");
    resilient_reset(1, SUGA_E_BUDGET);
    cr_expect_eq(call(&ctx, "resilient.flaky", NULL, &r), SUGA_E_BUDGET);
    cr_expect_eq(handler_calls, 1, "not the dependency's failure: retrying cannot help");
}

Test(resilience, no_retry_past_the_deadline)
{
    resilient_reset(2, SUGA_E_UNAVAILABLE);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ctx.deadline_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000; /* now: no time left */
    json_t *r = NULL;
    cr_expect_eq(suga_table_call_json(&mod_main_table, &ctx, "resilient.flaky", 15, NULL, &r), SUGA_E_UNAVAILABLE);
    cr_expect_eq(handler_calls, 1);
}

static int64_t breaker_now;
static int64_t breaker_clock(void)
{
    return breaker_now;
}

Test(resilience, an_open_breaker_answers_at_once_and_recovers_after_the_cooldown)
{
    breaker_now = 1000000;
    suga_clock_set_test_clock(breaker_clock);
    resilient_reset(2, SUGA_E_UNAVAILABLE);
    suga_ctx ctx;
    json_t *r = NULL;
    cr_expect_eq(call(&ctx, "resilient.fragile", NULL, &r), SUGA_E_UNAVAILABLE);
    cr_expect_eq(call(&ctx, "resilient.fragile", NULL, &r), SUGA_E_UNAVAILABLE);
    /* failure_threshold 2: open now, so the handler is not called */
    cr_expect_eq(call(&ctx, "resilient.fragile", NULL, &r), SUGA_E_UNAVAILABLE);
    cr_expect_eq(handler_calls, 2);
    cr_expect(strstr(ctx.error, "circuit breaker 'upstream' is open"), "%s", ctx.error);
    breaker_now += 999; /* cooldown_seconds: 1 */
    cr_expect_eq(call(&ctx, "resilient.fragile", NULL, &r), SUGA_E_UNAVAILABLE);
    cr_expect_eq(handler_calls, 2, "still open 1 ms before the cooldown ends");
    breaker_now += 1;
    cr_assert_eq(call(&ctx, "resilient.fragile", NULL, &r), SUGA_OK, "%s", ctx.error);
    cr_expect_eq(handler_calls, 3, "half-open: one trial call goes through, and closes it");
    json_decref(r);
    cr_assert_eq(call(&ctx, "resilient.fragile", NULL, &r), SUGA_OK, "%s", ctx.error);
    json_decref(r);
    cr_expect_eq(mod_main_table.breaker_states[0].trips, 1);
    suga_clock_set_test_clock(NULL);
}

static const suga_breaker_state *upstream(void)
{
    cr_assert_eq(mod_main_table.breaker_count, 1);
    cr_assert_str_eq(mod_main_table.breakers[0].name, "upstream");
    return &mod_main_table.breaker_states[0];
}

Test(resilience, a_call_with_its_retries_is_one_breaker_failure)
{
    breaker_now = 2000000;
    suga_clock_set_test_clock(breaker_clock);
    resilient_reset(100, SUGA_E_UNAVAILABLE); /* every try fails */
    suga_ctx ctx;
    json_t *r = NULL;
    /* upstream: failure_threshold 2; guarded: attempts 3 */
    cr_expect_eq(call(&ctx, "resilient.guarded", NULL, &r), SUGA_E_UNAVAILABLE);
    cr_expect_eq(handler_calls, 3, "every try of the first call ran");
    cr_expect_eq(upstream()->consecutive_failures, 1, "three failed tries are one failed call");
    cr_expect_eq(upstream()->phase, SUGA_BREAKER_CLOSED);
    cr_expect_eq(call(&ctx, "resilient.guarded", NULL, &r), SUGA_E_UNAVAILABLE);
    cr_expect_eq(handler_calls, 6, "and every try of the second");
    cr_expect_eq(upstream()->phase, SUGA_BREAKER_OPEN, "two failed calls reach failure_threshold 2");
    cr_expect_eq(upstream()->failures, 2);
    cr_expect_eq(call(&ctx, "resilient.guarded", NULL, &r), SUGA_E_UNAVAILABLE);
    cr_expect_eq(handler_calls, 6, "open: the third call is refused without a try");
    cr_expect(strstr(ctx.error, "circuit breaker 'upstream' is open after 2 consecutive failures"), "%s", ctx.error);

    /* half-open: the trial is one call, retries included; two failed tries then a success close it */
    breaker_now += 1000;
    resilient_reset(2, SUGA_E_UNAVAILABLE);
    cr_assert_eq(call(&ctx, "resilient.guarded", NULL, &r), SUGA_OK, "%s", ctx.error);
    json_decref(r);
    cr_expect_eq(handler_calls, 3);
    cr_expect_eq(upstream()->phase, SUGA_BREAKER_CLOSED, "the trial call succeeded on its third try");
    cr_expect_eq(upstream()->trials_in_flight, 0);
    cr_expect_eq(upstream()->trips, 1);
    suga_clock_set_test_clock(NULL);
}

Test(resilience, a_guarded_operation_runs_under_its_breaker)
{
    resilient_reset(1, SUGA_E_UNAVAILABLE);
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(call(&ctx, "resilient.guarded", NULL, &r), SUGA_OK, "%s", ctx.error);
    json_decref(r);
    cr_expect(seen_under_breaker[0] && seen_under_breaker[1], "every try of a guarded operation is under_breaker");
    cr_expect_not(ctx.under_breaker, "restored when the operation returns");
    resilient_reset(1, SUGA_E_UNAVAILABLE);
    cr_assert_eq(call(&ctx, "resilient.flaky", NULL, &r), SUGA_OK, "%s", ctx.error);
    json_decref(r);
    cr_expect_not(seen_under_breaker[0] || seen_under_breaker[1], "retried without a breaker: not under one");
    /* an outer guarded call stays so for what it calls */
    resilient_reset(0, SUGA_OK);
    suga_ctx_init(&ctx);
    ctx.under_breaker = true;
    cr_assert_eq(suga_table_call_json(&mod_main_table, &ctx, "resilient.flaky", 15, NULL, &r), SUGA_OK);
    json_decref(r);
    cr_expect(seen_under_breaker[0]);
    cr_expect(ctx.under_breaker);
}

/* ---- timeout_ms: the deadline a handler sees ---- */

static int64_t wall_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Call `op` by name (by_id false) or by id with the caller's deadline; the handler must succeed. */
static void call_with_deadline(const char *op, uint32_t id, bool by_id, int64_t deadline_ms)
{
    resilient_reset(0, SUGA_OK);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    ctx.deadline_ms = deadline_ms;
    json_t *r = NULL;
    suga_status st;
    if (by_id) {
        suga_args_resilient_timed args = {0}; /* no parameters: every such struct is alike */
        st = suga_table_call_id(&mod_main_table, &ctx, id, &args, &r);
    } else {
        st = suga_table_call_json(&mod_main_table, &ctx, op, strlen(op), NULL, &r);
    }
    cr_assert_eq(st, SUGA_OK, "%s: %s", op, ctx.error);
    json_decref(r);
    cr_expect_eq(ctx.deadline_ms, deadline_ms, "%s: the caller's deadline is restored", op);
    cr_assert_eq(handler_calls, 1);
}

Test(timeout, the_handler_sees_the_deadline_clipped_to_timeout_ms)
{
    cr_expect(mod_main_table.ops[SUGA_OP_RESILIENT_TIMED].out_of_line, "timeout_ms takes the out-of-line path");
    for (int by_id = 0; by_id < 2; by_id++) {
        /* no deadline: now + 200 ms */
        int64_t before = wall_now_ms();
        call_with_deadline("resilient.timed", SUGA_OP_RESILIENT_TIMED, by_id, 0);
        int64_t after = wall_now_ms();
        cr_expect(seen_deadline[0] >= before + 200 && seen_deadline[0] <= after + 200,
                  "by %s: saw %lld, expected %lld..%lld", by_id ? "id" : "name", (long long)seen_deadline[0],
                  (long long)before + 200, (long long)after + 200);
        /* a later deadline is brought in */
        before = wall_now_ms();
        call_with_deadline("resilient.timed", SUGA_OP_RESILIENT_TIMED, by_id, before + 60000);
        after = wall_now_ms();
        cr_expect(seen_deadline[0] >= before + 200 && seen_deadline[0] <= after + 200, "by %s: saw %lld",
                  by_id ? "id" : "name", (long long)(seen_deadline[0] - before));
        /* an earlier one stands */
        int64_t soon = wall_now_ms() + 50;
        call_with_deadline("resilient.timed", SUGA_OP_RESILIENT_TIMED, by_id, soon);
        cr_expect_eq(seen_deadline[0], soon, "by %s: the caller's deadline is sooner", by_id ? "id" : "name");
    }
}

Test(timeout, operations_without_timeout_ms_see_the_callers_deadline)
{
    cr_expect_not(mod_main_table.ops[SUGA_OP_RESILIENT_FRAGILE].out_of_line, "the inline path is kept");
    int64_t later = wall_now_ms() + 60000;
    for (int by_id = 0; by_id < 2; by_id++) {
        call_with_deadline("resilient.fragile", SUGA_OP_RESILIENT_FRAGILE, by_id, 0);
        cr_expect_eq(seen_deadline[0], 0, "no deadline stays none");
        call_with_deadline("resilient.fragile", SUGA_OP_RESILIENT_FRAGILE, by_id, later);
        cr_expect_eq(seen_deadline[0], later);
    }
}

Test(timeout, timeout_ms_covers_the_retries_too)
{
    /* attempts 3, backoff 40 ms: the first retry waits 40 ms (within the 100), the second would
     * wait 80 more and end past it, so it is not made; without timeout_ms there would be 3 tries */
    resilient_reset(100, SUGA_E_UNAVAILABLE);
    suga_ctx ctx;
    json_t *r = NULL;
    int64_t before = wall_now_ms();
    cr_expect_eq(call(&ctx, "resilient.timed_retried", NULL, &r), SUGA_E_UNAVAILABLE);
    cr_expect_eq(handler_calls, 2, "the second retry would end past timeout_ms");
    cr_expect_eq(seen_deadline[1], seen_deadline[0], "every try sees the one deadline of the call");
    cr_expect(seen_deadline[0] >= before + 100 && seen_deadline[0] <= before + 110, "saw %lld",
              (long long)(seen_deadline[0] - before));
    cr_expect_eq(ctx.deadline_ms, 0);
}

Test(modules, dependencies_load_first_and_stay_while_a_dependent_is_loaded)
{
    const suga_module_state *base = state_of("lazy_base"), *top = state_of("lazy_top");
    uint64_t base_loads = base->loads;
    cr_assert_not(mapped("lazy_base"));
    echo_ok("lazy_top.echo");
    cr_expect(mapped("lazy_top") && mapped("lazy_base"), "lazy_top depends on lazy_base: both loaded");
    cr_expect_eq(base->loads, base_loads + 1);
    echo_ok("lazy_base.echo");
    cr_expect(mapped("lazy_base"), "unload: immediate, but lazy_top (loaded) depends on it");
    uint32_t base_index = (uint32_t)(base - mod_main_table.module_states);
    cr_expect_eq(suga_module_unload(&mod_main_table, base_index), SUGA_E_STATE);
    cr_assert_eq(suga_table_end_invocation(&mod_main_table), SUGA_OK);
    cr_expect_not(mapped("lazy_top"), "deferred: unloaded at the end of the invocation");
    cr_expect_not(mapped("lazy_base"), "and then nothing keeps its dependency");
    cr_expect_eq(top->handle, NULL);
}
