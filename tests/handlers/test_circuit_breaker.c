/* test_circuit_breaker.c: circuit_breaker.* through the real engine, on the homeassistant
 * breaker of spec/limits.yaml (5 failures, 30 s cooldown, one trial). The engine's clock is
 * replaced, so cooldowns pass without sleeping; each Criterion test runs in its own process, so
 * every test starts with a closed breaker.
 *
 * The failing operation is config.get of an override that is not an int: the handler fails
 * with SUGA_E_HANDLER, which counts against a breaker (bad JSON given to utility.json_parse is
 * SUGA_E_INVALID_ARG, which does not: it is the caller's fault, not the dependency's). */
#include "handler_test.h"
#include "suga_test_hooks.h"

static int64_t fake_now = 1000000;

static int64_t fake_clock(void)
{
    return fake_now;
}

static void setup(void)
{
    suga_clock_set_test_clock(fake_clock);
    json_decref(call_ok("config.set", "{\"name\": \"CB_TEST_NUMBER\", \"value\": \"not a number\"}"));
}

#define FAILING_CALL                                                                                                 \
    "{\"name\": \"homeassistant\", \"op\": \"config.get\", \"args\": {\"name\": \"CB_TEST_NUMBER\", \"type\": \"int\"}}"
#define GOOD_CALL "{\"name\": \"homeassistant\", \"op\": \"utility.json_parse\", \"args\": {\"text\": \"[1, 2]\"}}"

static void trip(void)
{
    suga_ctx ctx;
    for (int i = 0; i < 5; i++) {
        call_fails(&ctx, "circuit_breaker.call", FAILING_CALL, SUGA_E_HANDLER);
        cr_assert(strstr(ctx.error, "config.get: ") == ctx.error, "the operation's own message: %s", ctx.error);
    }
}

static json_t *get_breaker(void)
{
    return call_ok("circuit_breaker.get", "{\"name\": \"homeassistant\"}");
}

TestSuite(circuit_breaker, .init = setup);

Test(circuit_breaker, list_and_get_describe_the_declared_breaker)
{
    json_t *list = call_ok("circuit_breaker.list", NULL);
    cr_assert(json_is_array(list));
    cr_assert_eq(json_array_size(list), suga_main_table.breaker_count);
    json_t *ha = NULL;
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) {
        if (!strcmp(str_field(item, "name"), "homeassistant"))
            ha = item;
    }
    cr_assert_not_null(ha, "homeassistant is not listed");
    cr_expect_str_eq(str_field(ha, "state"), "closed");
    cr_expect_eq(int_field(ha, "failure_threshold"), 5);
    cr_expect_eq(int_field(ha, "cooldown_seconds"), 30);
    cr_expect_eq(int_field(ha, "half_open_max_calls"), 1);
    cr_expect_eq(int_field(ha, "success_threshold"), 1);
    cr_expect_null(json_object_get(ha, "retry_in_ms"));
    json_t *one = get_breaker();
    cr_expect(json_equal(one, ha), "get and list agree");
    json_decref(one);
    json_decref(list);
}

Test(circuit_breaker, call_runs_the_operation_and_counts_its_success)
{
    assert_json(call_ok("circuit_breaker.call", GOOD_CALL), "[1, 2]");
    /* no args: the operation gets none */
    json_t *ts = call_ok("circuit_breaker.call", "{\"name\": \"homeassistant\", \"op\": \"utility.timestamp\"}");
    cr_expect(json_is_integer(json_object_get(ts, "epoch_ms")));
    json_decref(ts);
    json_t *b = get_breaker();
    cr_expect_eq(int_field(b, "successes"), 2);
    cr_expect_eq(int_field(b, "failures"), 0);
    json_decref(b);
}

Test(circuit_breaker, five_failures_open_it_and_calls_are_refused)
{
    trip();
    json_t *b = get_breaker();
    cr_expect_str_eq(str_field(b, "state"), "open");
    cr_expect_eq(int_field(b, "consecutive_failures"), 5);
    cr_expect_eq(int_field(b, "trips"), 1);
    cr_expect_eq(int_field(b, "opened_at"), fake_now);
    cr_expect_eq(int_field(b, "retry_in_ms"), 30000);
    json_decref(b);

    suga_ctx ctx;
    fake_now += 17700;
    call_fails(&ctx, "circuit_breaker.call", GOOD_CALL, SUGA_E_UNAVAILABLE);
    cr_expect_str_eq(ctx.error,
                     "circuit breaker 'homeassistant' is open after 5 consecutive failures; next trial in 12.3 s");
    b = get_breaker();
    cr_expect_eq(int_field(b, "rejections"), 1);
    cr_expect_eq(int_field(b, "successes"), 0, "a refused call never ran");
    json_decref(b);
}

Test(circuit_breaker, after_the_cooldown_one_good_trial_closes_it)
{
    trip();
    fake_now += 30000;
    json_t *b = get_breaker();
    cr_expect_str_eq(str_field(b, "state"), "half_open");
    json_decref(b);
    assert_json(call_ok("circuit_breaker.call", GOOD_CALL), "[1, 2]");
    b = get_breaker();
    cr_expect_str_eq(str_field(b, "state"), "closed");
    cr_expect_eq(int_field(b, "consecutive_failures"), 0);
    json_decref(b);
}

Test(circuit_breaker, a_failed_trial_opens_it_again)
{
    trip();
    fake_now += 30000;
    suga_ctx ctx;
    call_fails(&ctx, "circuit_breaker.call", FAILING_CALL, SUGA_E_HANDLER);
    json_t *b = get_breaker();
    cr_expect_str_eq(str_field(b, "state"), "open");
    cr_expect_eq(int_field(b, "trips"), 2);
    cr_expect_eq(int_field(b, "retry_in_ms"), 30000, "a fresh cooldown");
    json_decref(b);
}

Test(circuit_breaker, reset_closes_it)
{
    trip();
    assert_json(call_ok("circuit_breaker.reset", "{\"name\": \"homeassistant\"}"),
                "{\"name\": \"homeassistant\", \"previous_state\": \"open\", \"state\": \"closed\"}");
    assert_json(call_ok("circuit_breaker.call", GOOD_CALL), "[1, 2]");
    /* resetting a closed breaker is harmless */
    assert_json(call_ok("circuit_breaker.reset", "{\"name\": \"homeassistant\"}"),
                "{\"name\": \"homeassistant\", \"previous_state\": \"closed\", \"state\": \"closed\"}");
    json_t *b = get_breaker();
    cr_expect_eq(int_field(b, "trips"), 1, "statistics survive a reset");
    json_decref(b);
}

Test(circuit_breaker, bad_input_does_not_count)
{
    suga_ctx ctx;
    for (int i = 0; i < 10; i++)
        call_fails(&ctx, "circuit_breaker.call",
                   "{\"name\": \"homeassistant\", \"op\": \"utility.json_parse\", \"args\": {\"text\": \"{oops\"}}",
                   SUGA_E_INVALID_ARG);
    /* arguments the operation's spec refuses do not count either */
    call_fails(&ctx, "circuit_breaker.call", "{\"name\": \"homeassistant\", \"op\": \"utility.json_parse\"}",
               SUGA_E_INVALID_ARG);
    cr_expect_str_eq(ctx.error, "utility.json_parse: arg 'text' is required");
    json_t *b = get_breaker();
    cr_expect_str_eq(str_field(b, "state"), "closed");
    cr_expect_eq(int_field(b, "consecutive_failures"), 0);
    cr_expect_eq(int_field(b, "failures"), 0);
    json_decref(b);
}

Test(circuit_breaker, unknown_names_get_a_hint)
{
    suga_ctx ctx;
    call_fails(&ctx, "circuit_breaker.get", "{\"name\": \"homeasistant\"}", SUGA_E_NOT_FOUND);
    cr_expect_str_eq(ctx.error,
                     "circuit_breaker.get: unknown circuit breaker 'homeasistant' (did you mean 'homeassistant'?)");
    call_fails(&ctx, "circuit_breaker.reset", "{\"name\": \"home_assistant\"}", SUGA_E_NOT_FOUND);
    cr_expect_str_eq(ctx.error,
                     "circuit_breaker.reset: unknown circuit breaker 'home_assistant' (did you mean 'homeassistant'?)");
    call_fails(&ctx, "circuit_breaker.call", "{\"name\": \"upstream\", \"op\": \"utility.timestamp\"}", SUGA_E_NOT_FOUND);
    cr_expect(strstr(ctx.error, "circuit_breaker.call: unknown circuit breaker 'upstream'") == ctx.error, "%s", ctx.error);
    /* an unknown operation is reported as such, even while the breaker is open */
    trip();
    call_fails(&ctx, "circuit_breaker.call", "{\"name\": \"homeassistant\", \"op\": \"utility.timestmp\"}",
               SUGA_E_NOT_FOUND);
    cr_expect_str_eq(ctx.error, "unknown operation 'utility.timestmp' (did you mean 'utility.timestamp'?)");
}

Test(circuit_breaker, cannot_call_itself)
{
    suga_ctx ctx;
    call_fails(&ctx, "circuit_breaker.call",
               "{\"name\": \"homeassistant\", \"op\": \"circuit_breaker.call\", \"args\": {\"name\": \"homeassistant\", "
               "\"op\": \"utility.timestamp\"}}",
               SUGA_E_INVALID_ARG);
    cr_expect_str_eq(ctx.error,
                     "circuit_breaker.call: op cannot be circuit_breaker.call itself (name the operation to run directly)");
    /* the other circuit_breaker operations can go through a breaker like any other */
    json_t *r = call_ok("circuit_breaker.call", "{\"name\": \"homeassistant\", \"op\": \"circuit_breaker.list\"}");
    cr_expect(json_is_array(r));
    json_decref(r);
}
