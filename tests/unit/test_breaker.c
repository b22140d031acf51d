/* Circuit breakers and the retry policy (runtime/breaker.c): every transition, cooldown
 * boundaries to the millisecond, half-open trial slots, reset, describe, find, and retry
 * delays with deadline clipping. Time is passed in, so nothing here sleeps. Criterion runs each
 * test in its own process, so every test starts with closed breakers. */
#include <criterion/criterion.h>
#include <string.h>

#include "suga_breaker.h"
#include "suga_ops.h"

/* A hand-built table: `db` uses every knob, `edge` the defaults. */
static const suga_breaker test_breakers[] = {
    {.name = "db", .failure_threshold = 3, .cooldown_seconds = 10, .half_open_max_calls = 2,
     .success_threshold = 2, .source = "test:1:1"},
    {.name = "edge", .failure_threshold = 1, .cooldown_seconds = 1, .half_open_max_calls = 1,
     .success_threshold = 1, .source = "test:2:1"},
};
static suga_breaker_state test_states[2];
static const suga_table table = {.breakers = test_breakers, .breaker_count = 2, .breaker_states = test_states};
enum { DB = 0, EDGE = 1 };

static suga_ctx ctx;

static suga_status admit(const suga_table *t, uint16_t index, int64_t now)
{
    suga_ctx_init(&ctx);
    return suga_breaker_admit(t, index, now, &ctx);
}

static suga_breaker_phase phase(const suga_table *t, uint16_t index, int64_t now)
{
    suga_breaker_phase p = SUGA_BREAKER_PHASE__COUNT;
    cr_assert_eq(suga_breaker_phase_at(t, index, now, &p), SUGA_OK);
    return p;
}

/* One admitted call that fails (or succeeds) at `now`. */
static void call(const suga_table *t, uint16_t index, int64_t now, bool success)
{
    cr_assert_eq(admit(t, index, now), SUGA_OK, "admit at %lld: %s", (long long)now, ctx.error);
    cr_assert_eq(suga_breaker_record(t, index, success, now), SUGA_OK);
}

/* Trip `db` (threshold 3) at time `at`. */
static void trip_db(int64_t at)
{
    for (int i = 0; i < 3; i++)
        call(&table, DB, at, false);
    cr_assert_eq(phase(&table, DB, at), SUGA_BREAKER_OPEN);
}

Test(breaker, closed_admits_and_counts_consecutive_failures_only)
{
    call(&table, DB, 0, false);
    call(&table, DB, 1, false);
    cr_expect_eq(test_states[DB].consecutive_failures, 2);
    call(&table, DB, 2, true); /* a success breaks the run */
    cr_expect_eq(test_states[DB].consecutive_failures, 0);
    call(&table, DB, 3, false);
    call(&table, DB, 4, false);
    cr_expect_eq(phase(&table, DB, 4), SUGA_BREAKER_CLOSED);
    cr_expect_eq(test_states[DB].failures, 4);
    cr_expect_eq(test_states[DB].successes, 1);
    cr_expect_eq(test_states[DB].trips, 0);
}

Test(breaker, opens_at_the_threshold_and_refuses_calls)
{
    trip_db(1000);
    cr_expect_eq(test_states[DB].trips, 1);
    cr_expect_eq(test_states[DB].opened_at_ms, 1000);
    cr_expect_eq(admit(&table, DB, 1000), SUGA_E_UNAVAILABLE);
    cr_expect_str_eq(ctx.error, "circuit breaker 'db' is open after 3 consecutive failures; next trial in 10.0 s");
    cr_expect_eq(admit(&table, DB, 3550), SUGA_E_UNAVAILABLE);
    cr_expect_str_eq(ctx.error, "circuit breaker 'db' is open after 3 consecutive failures; next trial in 7.5 s");
    cr_expect_eq(test_states[DB].rejections, 2);
    /* the other breaker is independent */
    cr_expect_eq(admit(&table, EDGE, 1000), SUGA_OK);
    /* a NULL ctx is allowed: the caller does not want the message */
    cr_expect_eq(suga_breaker_admit(&table, DB, 1001, NULL), SUGA_E_UNAVAILABLE);
}

Test(breaker, cooldown_boundary_is_exact)
{
    trip_db(5000);
    /* one millisecond before: still open, and the wait is rounded up, never shown as 0.0 s */
    cr_expect_eq(admit(&table, DB, 14999), SUGA_E_UNAVAILABLE);
    cr_expect_str_eq(ctx.error, "circuit breaker 'db' is open after 3 consecutive failures; next trial in 0.1 s");
    cr_expect_eq(phase(&table, DB, 14999), SUGA_BREAKER_OPEN);
    /* exactly opened_at + cooldown: half-open, and the admit is a trial */
    cr_expect_eq(phase(&table, DB, 15000), SUGA_BREAKER_HALF_OPEN);
    cr_expect_eq(test_states[DB].phase, SUGA_BREAKER_OPEN, "phase_at must not change the state");
    cr_expect_eq(admit(&table, DB, 15000), SUGA_OK, "%s", ctx.error);
    cr_expect_eq(test_states[DB].phase, SUGA_BREAKER_HALF_OPEN);
    cr_expect_eq(test_states[DB].trials_in_flight, 1);
}

Test(breaker, half_open_limits_trial_calls)
{
    trip_db(0);
    cr_assert_eq(admit(&table, DB, 10000), SUGA_OK);
    cr_assert_eq(admit(&table, DB, 10001), SUGA_OK);
    cr_expect_eq(admit(&table, DB, 10002), SUGA_E_UNAVAILABLE);
    cr_expect_str_eq(ctx.error,
                     "circuit breaker 'db' is half-open and its 2 trial calls are already running; try again when one has finished");
    cr_expect_eq(test_states[DB].rejections, 1);
    /* a trial that says nothing about the dependency frees its slot without a verdict */
    cr_expect_eq(suga_breaker_record_status(&table, DB, SUGA_E_INVALID_ARG, 10003), SUGA_OK);
    cr_expect_eq(test_states[DB].trials_in_flight, 1);
    cr_expect_eq(test_states[DB].phase, SUGA_BREAKER_HALF_OPEN);
    cr_expect_eq(admit(&table, DB, 10004), SUGA_OK);
    cr_expect_eq(test_states[DB].trials_in_flight, 2);
}

Test(breaker, half_open_one_slot_message)
{
    call(&table, EDGE, 0, false);
    cr_assert_eq(admit(&table, EDGE, 1000), SUGA_OK);
    cr_expect_eq(admit(&table, EDGE, 1000), SUGA_E_UNAVAILABLE);
    cr_expect_str_eq(ctx.error,
                     "circuit breaker 'edge' is half-open and its 1 trial call is already running; try again when it has finished");
}

Test(breaker, half_open_closes_after_success_threshold)
{
    trip_db(0);
    call(&table, DB, 10000, true);
    cr_expect_eq(phase(&table, DB, 10000), SUGA_BREAKER_HALF_OPEN, "one success of two needed");
    call(&table, DB, 10001, true);
    cr_expect_eq(phase(&table, DB, 10001), SUGA_BREAKER_CLOSED);
    cr_expect_eq(test_states[DB].consecutive_failures, 0);
    cr_expect_eq(test_states[DB].trials_in_flight, 0);
    /* closed again: it takes a whole new run of failures to trip */
    call(&table, DB, 10002, false);
    call(&table, DB, 10003, false);
    cr_expect_eq(phase(&table, DB, 10003), SUGA_BREAKER_CLOSED);
    call(&table, DB, 10004, false);
    cr_expect_eq(phase(&table, DB, 10004), SUGA_BREAKER_OPEN);
    cr_expect_eq(test_states[DB].trips, 2);
}

Test(breaker, failed_trial_reopens_with_a_fresh_cooldown)
{
    trip_db(0);
    call(&table, DB, 10000, true);  /* one good trial ... */
    call(&table, DB, 12000, false); /* ... then a bad one: open again from 12000 */
    cr_expect_eq(phase(&table, DB, 12000), SUGA_BREAKER_OPEN);
    cr_expect_eq(test_states[DB].opened_at_ms, 12000);
    cr_expect_eq(test_states[DB].trips, 2);
    cr_expect_eq(test_states[DB].trial_successes, 0, "a reopened breaker starts its trials over");
    cr_expect_eq(admit(&table, DB, 21999), SUGA_E_UNAVAILABLE);
    cr_expect_str_eq(ctx.error, "circuit breaker 'db' is open after 4 consecutive failures; next trial in 0.1 s");
    cr_expect_eq(admit(&table, DB, 22000), SUGA_OK);
}

Test(breaker, late_outcomes_while_open_do_not_change_it)
{
    cr_assert_eq(admit(&table, DB, 0), SUGA_OK); /* admitted while closed, finishes later */
    trip_db(100);
    cr_expect_eq(suga_breaker_record(&table, DB, true, 5000), SUGA_OK);
    cr_expect_eq(phase(&table, DB, 5000), SUGA_BREAKER_OPEN, "a late success does not close it");
    cr_expect_eq(suga_breaker_record(&table, DB, false, 9000), SUGA_OK);
    cr_expect_eq(test_states[DB].opened_at_ms, 100, "a late failure does not extend the cooldown");
    cr_expect_eq(test_states[DB].trips, 1);
    cr_expect_eq(phase(&table, DB, 10100), SUGA_BREAKER_HALF_OPEN);
}

Test(breaker, reset_closes_and_keeps_statistics)
{
    trip_db(0);
    admit(&table, DB, 1);
    cr_expect_eq(suga_breaker_reset(&table, DB), SUGA_OK);
    cr_expect_eq(phase(&table, DB, 2), SUGA_BREAKER_CLOSED);
    cr_expect_eq(test_states[DB].consecutive_failures, 0);
    cr_expect_eq(test_states[DB].trips, 1);
    cr_expect_eq(test_states[DB].rejections, 1);
    cr_expect_eq(test_states[DB].failures, 3);
    cr_expect_eq(admit(&table, DB, 2), SUGA_OK);
    /* a reset half-open breaker forgets its trials */
    trip_db(100);
    cr_assert_eq(admit(&table, DB, 10100), SUGA_OK);
    cr_expect_eq(suga_breaker_reset(&table, DB), SUGA_OK);
    cr_expect_eq(test_states[DB].trials_in_flight, 0);
}

static void expect_json(json_t *actual, const char *expected_json)
{
    json_error_t err;
    json_t *expected = json_loads(expected_json, 0, &err);
    cr_assert_not_null(expected, "test bug: %s", err.text);
    char *got = json_dumps(actual, JSON_COMPACT | JSON_SORT_KEYS);
    cr_expect(json_equal(actual, expected), "expected %s, got %s", expected_json, got);
    free(got);
    json_decref(expected);
}

Test(breaker, describe_in_every_state)
{
    json_t *d = NULL;
    cr_assert_eq(suga_breaker_describe(&table, DB, 0, &d), SUGA_OK);
    expect_json(d, "{\"name\":\"db\",\"state\":\"closed\",\"consecutive_failures\":0,\"failure_threshold\":3,"
                   "\"cooldown_seconds\":10,\"half_open_max_calls\":2,\"success_threshold\":2,\"trips\":0,"
                   "\"rejections\":0,\"successes\":0,\"failures\":0,\"source\":\"test:1:1\"}");
    json_decref(d);

    trip_db(1000);
    admit(&table, DB, 4000);
    cr_assert_eq(suga_breaker_describe(&table, DB, 4000, &d), SUGA_OK);
    expect_json(d, "{\"name\":\"db\",\"state\":\"open\",\"consecutive_failures\":3,\"failure_threshold\":3,"
                   "\"cooldown_seconds\":10,\"half_open_max_calls\":2,\"success_threshold\":2,\"opened_at\":1000,"
                   "\"retry_in_ms\":7000,\"trips\":1,\"rejections\":1,\"successes\":0,\"failures\":3,"
                   "\"source\":\"test:1:1\"}");
    json_decref(d);

    /* cooldown elapsed but nobody asked yet: it reads as half-open with no trial running */
    cr_assert_eq(suga_breaker_describe(&table, DB, 11000, &d), SUGA_OK);
    cr_expect_str_eq(json_string_value(json_object_get(d, "state")), "half_open");
    cr_expect_eq(json_integer_value(json_object_get(d, "trials_in_flight")), 0);
    cr_expect_null(json_object_get(d, "retry_in_ms"));
    json_decref(d);
    admit(&table, DB, 11000);
    cr_assert_eq(suga_breaker_describe(&table, DB, 11000, &d), SUGA_OK);
    cr_expect_eq(json_integer_value(json_object_get(d, "trials_in_flight")), 1);
    cr_expect_eq(json_integer_value(json_object_get(d, "opened_at")), 1000);
    json_decref(d);

    json_t *all = NULL;
    cr_assert_eq(suga_breaker_describe_all(&table, 11000, &all), SUGA_OK);
    cr_assert_eq(json_array_size(all), 2);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(all, 0), "name")), "db");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(all, 1), "state")), "closed");
    json_decref(all);
}

Test(breaker, find_by_name_with_a_hint)
{
    uint16_t index = 99;
    suga_ctx_init(&ctx);
    cr_expect_eq(suga_breaker_find(&table, "edge", 4, &index, &ctx), SUGA_OK);
    cr_expect_eq(index, EDGE);
    cr_expect_eq(suga_breaker_find(&table, "edgeX", 4, &index, &ctx), SUGA_OK, "the length decides, not a NUL");
    cr_expect_eq(suga_breaker_find(&table, "dbb", 3, &index, &ctx), SUGA_E_NOT_FOUND);
    cr_expect_str_eq(ctx.error, "unknown circuit breaker 'dbb' (did you mean 'db'?)");
    cr_expect_eq(suga_breaker_find(&table, "zzzzzzzz", 8, &index, &ctx), SUGA_E_NOT_FOUND);
    cr_expect_str_eq(ctx.error, "unknown circuit breaker 'zzzzzzzz'");
    cr_expect_eq(suga_breaker_find(&table, "ed", 1, &index, NULL), SUGA_E_NOT_FOUND);
    const suga_table none = {0};
    cr_expect_eq(suga_breaker_find(&none, "db", 2, &index, &ctx), SUGA_E_NOT_FOUND);
    cr_expect_str_eq(ctx.error, "unknown circuit breaker 'db' (none is declared in limits.breakers)");
}

Test(breaker, bad_index_and_arguments)
{
    cr_expect_eq(admit(&table, 2, 0), SUGA_E_NOT_FOUND);
    cr_expect_str_eq(ctx.error, "no circuit breaker with index 2 (this table has 2)");
    cr_expect_eq(admit(&table, SUGA_NO_BREAKER, 0), SUGA_E_NOT_FOUND);
    cr_expect_eq(suga_breaker_admit(NULL, 0, 0, NULL), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_breaker_record(&table, 7, true, 0), SUGA_E_NOT_FOUND);
    cr_expect_eq(suga_breaker_release(&table, 7), SUGA_E_NOT_FOUND);
    cr_expect_eq(suga_breaker_reset(&table, 7), SUGA_E_NOT_FOUND);
    json_t *d = NULL;
    cr_expect_eq(suga_breaker_describe(&table, 7, 0, &d), SUGA_E_NOT_FOUND);
    cr_expect_null(d);
    cr_expect_eq(suga_breaker_phase_at(&table, DB, 0, NULL), SUGA_E_INVALID_ARG);
    cr_expect_str_eq(suga_breaker_phase_name(SUGA_BREAKER_HALF_OPEN), "half_open");
    cr_expect_str_eq(suga_breaker_phase_name(SUGA_BREAKER_PHASE__COUNT), "unknown");
}

Test(breaker, which_failures_count)
{
    cr_expect(suga_breaker_counts_failure(SUGA_E_UNAVAILABLE));
    cr_expect(suga_breaker_counts_failure(SUGA_E_IO));
    cr_expect(suga_breaker_counts_failure(SUGA_E_HANDLER));
    cr_expect_not(suga_breaker_counts_failure(SUGA_OK));
    cr_expect_not(suga_breaker_counts_failure(SUGA_E_INVALID_ARG));
    cr_expect_not(suga_breaker_counts_failure(SUGA_E_NOT_FOUND));
    cr_expect_not(suga_breaker_counts_failure(SUGA_E_BUDGET));
    cr_expect_not(suga_breaker_counts_failure(SUGA_E_NOMEM));
    cr_expect_not(suga_breaker_counts_failure(SUGA_E_INTERNAL));
    /* record_status applies it: bad input never trips a breaker */
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(admit(&table, EDGE, i), SUGA_OK);
        suga_breaker_record_status(&table, EDGE, SUGA_E_INVALID_ARG, i);
    }
    cr_expect_eq(phase(&table, EDGE, 10), SUGA_BREAKER_CLOSED);
    cr_assert_eq(admit(&table, EDGE, 11), SUGA_OK);
    suga_breaker_record_status(&table, EDGE, SUGA_E_IO, 11);
    cr_expect_eq(phase(&table, EDGE, 11), SUGA_BREAKER_OPEN);
}

/* ---- the state machine outside a table (http_client keeps one state per host) ---- */

Test(breaker_state, a_state_of_its_own_follows_the_declaration)
{
    suga_breaker_state host = {0};
    const suga_breaker *config = &test_breakers[DB]; /* threshold 3, cooldown 10 s, 2 trials, 2 successes */
    const char *subject = "http_client.make_request: circuit breaker for http://127.0.0.1:2773";
    for (int i = 0; i < 3; i++) {
        suga_ctx_init(&ctx);
        cr_assert_eq(suga_breaker_state_admit(config, &host, subject, 100, &ctx), SUGA_OK);
        cr_assert_eq(suga_breaker_state_record_status(config, &host, SUGA_E_UNAVAILABLE, 100), SUGA_OK);
    }
    suga_breaker_phase p;
    cr_assert_eq(suga_breaker_state_phase(config, &host, 100, &p), SUGA_OK);
    cr_expect_eq(p, SUGA_BREAKER_OPEN);
    cr_expect_eq(test_states[DB].failures, 0, "the table's state is not touched");
    suga_ctx_init(&ctx);
    cr_expect_eq(suga_breaker_state_admit(config, &host, subject, 2450, &ctx), SUGA_E_UNAVAILABLE);
    cr_expect_str_eq(ctx.error, "http_client.make_request: circuit breaker for http://127.0.0.1:2773 is open after 3 "
                                "consecutive failures; next trial in 7.7 s");
    /* without a subject, the declaration's name */
    cr_expect_eq(suga_breaker_state_admit(config, &host, NULL, 2450, &ctx), SUGA_E_UNAVAILABLE);
    cr_expect_str_eq(ctx.error, "circuit breaker 'db' is open after 3 consecutive failures; next trial in 7.7 s");
    /* half-open after the cooldown: two trial slots, then a refusal naming the subject */
    cr_expect_eq(suga_breaker_state_admit(config, &host, subject, 10100, &ctx), SUGA_OK);
    cr_expect_eq(suga_breaker_state_admit(config, &host, subject, 10100, &ctx), SUGA_OK);
    cr_expect_eq(suga_breaker_state_admit(config, &host, subject, 10100, &ctx), SUGA_E_UNAVAILABLE);
    cr_expect(strstr(ctx.error, "circuit breaker for http://127.0.0.1:2773 is half-open and its 2 trial calls"), "%s",
              ctx.error);
    cr_expect_eq(suga_breaker_state_release(&host), SUGA_OK);
    cr_expect_eq(suga_breaker_state_record(config, &host, true, 10200), SUGA_OK);
    cr_expect_eq(suga_breaker_state_admit(config, &host, subject, 10300, &ctx), SUGA_OK);
    cr_expect_eq(suga_breaker_state_record(config, &host, true, 10300), SUGA_OK);
    cr_assert_eq(suga_breaker_state_phase(config, &host, 10300, &p), SUGA_OK);
    cr_expect_eq(p, SUGA_BREAKER_CLOSED, "success_threshold 2 reached");
    json_t *d = NULL;
    cr_assert_eq(suga_breaker_state_describe(config, &host, 10300, &d), SUGA_OK);
    expect_json(d, "{\"name\":\"db\",\"state\":\"closed\",\"consecutive_failures\":0,\"failure_threshold\":3,"
                   "\"cooldown_seconds\":10,\"half_open_max_calls\":2,\"success_threshold\":2,\"trips\":1,"
                   "\"rejections\":3,\"successes\":2,\"failures\":3,\"source\":\"test:1:1\"}");
    json_decref(d);
    cr_expect_eq(suga_breaker_state_reset(&host), SUGA_OK);
    cr_expect_eq(host.trips, 1, "reset keeps the statistics");
}

Test(breaker_state, null_declaration_or_state)
{
    suga_breaker_state s = {0};
    suga_breaker_phase p;
    json_t *d = NULL;
    suga_ctx_init(&ctx);
    cr_expect_eq(suga_breaker_state_admit(NULL, &s, NULL, 0, &ctx), SUGA_E_INVALID_ARG);
    cr_expect_str_eq(ctx.error, "circuit breaker: no declaration or no state");
    cr_expect_eq(suga_breaker_state_admit(&test_breakers[0], NULL, NULL, 0, NULL), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_breaker_state_record(NULL, &s, true, 0), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_breaker_state_record_status(&test_breakers[0], NULL, SUGA_OK, 0), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_breaker_state_release(NULL), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_breaker_state_reset(NULL), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_breaker_state_phase(&test_breakers[0], &s, 0, NULL), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_breaker_state_describe(NULL, &s, 0, &d), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_breaker_state_phase(NULL, &s, 0, &p), SUGA_E_INVALID_ARG);
}

/* ---- the engine's own table ---- */

Test(breaker, main_table_declares_homeassistant)
{
    uint16_t index;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_breaker_find(&suga_main_table, "homeassistant", 13, &index, &ctx), SUGA_OK, "%s", ctx.error);
    const suga_breaker *b = &suga_main_table.breakers[index];
    cr_expect_eq(b->failure_threshold, 5);
    cr_expect_eq(b->cooldown_seconds, 30);
    cr_expect_eq(b->half_open_max_calls, 1, "the default");
    cr_expect_eq(b->success_threshold, 1, "the default");
    cr_expect(strstr(b->source, "spec/limits.yaml:") == b->source, "source %s", b->source);
    for (int i = 0; i < 5; i++)
        call(&suga_main_table, index, 1000, false);
    cr_expect_eq(admit(&suga_main_table, index, 1000 + 17700), SUGA_E_UNAVAILABLE);
    cr_expect_str_eq(ctx.error,
                     "circuit breaker 'homeassistant' is open after 5 consecutive failures; next trial in 12.3 s");
}

Test(breaker, main_table_breaker_indexes_match_names)
{
    const suga_table *t = &suga_main_table;
    for (uint32_t i = 0; i < t->breaker_count; i++)
        if (i)
            cr_expect(strcmp(t->breakers[i - 1].name, t->breakers[i].name) < 0, "breakers in name order");
    for (uint32_t i = 0; i < t->op_count; i++) {
        const suga_op *op = &t->ops[i];
        if (!op->breaker) {
            cr_expect_eq(op->breaker_index, SUGA_NO_BREAKER, "%s has no breaker", op->name);
            continue;
        }
        cr_assert_lt(op->breaker_index, t->breaker_count, "%s", op->name);
        cr_expect_str_eq(t->breakers[op->breaker_index].name, op->breaker, "%s", op->name);
    }
}

Test(breaker, main_table_init_order_puts_dependencies_first)
{
    const suga_table *t = &suga_main_table;
    cr_assert_not_null(t->module_init_order);
    bool placed[1024] = {false};
    cr_assert_leq(t->module_count, 1024);
    for (uint32_t i = 0; i < t->module_count; i++) {
        uint16_t m = t->module_init_order[i];
        cr_assert_lt(m, t->module_count);
        cr_assert_not(placed[m], "module %s listed twice", t->modules[m].name);
        for (uint16_t d = 0; d < t->modules[m].depends_count; d++) {
            uint16_t dep = t->modules[m].depends_on[d];
            cr_expect(placed[dep], "%s is initialised before its dependency %s", t->modules[m].name,
                      t->modules[dep].name);
            cr_expect(!(t->modules[m].load == SUGA_LOAD_EAGER && t->modules[dep].load == SUGA_LOAD_LAZY));
        }
        placed[m] = true;
    }
}

/* ---- retry policy ---- */

static const suga_op retried = {.name = "t.retried", .idempotent = true, .retry_attempts = 4, .retry_backoff_ms = 100};

Test(retry, exponential_backoff_until_the_attempts_are_used)
{
    uint32_t delay = 7;
    cr_expect_eq(suga_retry_delay_ms(&retried, 1, 0, 0, &delay), SUGA_OK);
    cr_expect_eq(delay, 100);
    cr_expect_eq(suga_retry_delay_ms(&retried, 2, 0, 0, &delay), SUGA_OK);
    cr_expect_eq(delay, 200);
    cr_expect_eq(suga_retry_delay_ms(&retried, 3, 0, 0, &delay), SUGA_OK);
    cr_expect_eq(delay, 400);
    /* attempts: 4 is four tries in all: the first call and three retries */
    cr_expect_eq(suga_retry_delay_ms(&retried, 4, 0, 0, &delay), SUGA_E_STATE);
    cr_expect_eq(delay, 0);
    cr_expect_eq(suga_retry_delay_ms(&retried, 0, 0, 0, &delay), SUGA_E_INVALID_ARG, "the first try is no retry");
    cr_expect_eq(suga_retry_delay_ms(NULL, 1, 0, 0, &delay), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_retry_delay_ms(&retried, 1, 0, 0, NULL), SUGA_E_INVALID_ARG);
}

Test(retry, the_delay_must_leave_time_before_the_deadline)
{
    uint32_t delay;
    cr_expect_eq(suga_retry_delay_ms(&retried, 1, 1000, 1101, &delay), SUGA_OK);
    cr_expect_eq(delay, 100);
    cr_expect_eq(suga_retry_delay_ms(&retried, 1, 1000, 1100, &delay), SUGA_E_STATE, "landing on the deadline is too late");
    cr_expect_eq(suga_retry_delay_ms(&retried, 2, 1000, 1150, &delay), SUGA_E_STATE);
    cr_expect_eq(suga_retry_delay_ms(&retried, 3, 1000, 900, &delay), SUGA_E_STATE, "already past the deadline");
    cr_expect_eq(suga_retry_delay_ms(&retried, 3, 1000, 0, &delay), SUGA_OK, "0 is no deadline");
    cr_expect_eq(delay, 400);
}

Test(retry, non_idempotent_and_unconfigured_operations_never_retry)
{
    uint32_t delay;
    const suga_op once = {.name = "t.once", .idempotent = false, .retry_attempts = 10, .retry_backoff_ms = 100};
    for (uint32_t attempt = 1; attempt < 10; attempt++)
        cr_expect_eq(suga_retry_delay_ms(&once, attempt, 0, 0, &delay), SUGA_E_STATE);
    const suga_op plain = {.name = "t.plain", .idempotent = true};
    cr_expect_eq(suga_retry_delay_ms(&plain, 1, 0, 0, &delay), SUGA_E_STATE);
    const suga_op instant = {.name = "t.instant", .idempotent = true, .retry_attempts = 3, .retry_backoff_ms = 0};
    cr_expect_eq(suga_retry_delay_ms(&instant, 2, 0, 1, &delay), SUGA_OK);
    cr_expect_eq(delay, 0);
    /* the spec's largest policy (10 attempts, 60 s) still fits: 60000 × 2^8 */
    const suga_op longest = {.name = "t.longest", .idempotent = true, .retry_attempts = 10, .retry_backoff_ms = 60000};
    cr_expect_eq(suga_retry_delay_ms(&longest, 9, 0, 0, &delay), SUGA_OK);
    cr_expect_eq(delay, 15360000u);
}

Test(retry, main_table_policies)
{
    /* every operation of the engine's table with a retry policy: delays double from backoff_ms */
    for (uint32_t i = 0; i < suga_main_table.op_count; i++) {
        const suga_op *op = &suga_main_table.ops[i];
        uint32_t delay;
        suga_status st = suga_retry_delay_ms(op, 1, 0, 0, &delay);
        if (op->idempotent && op->retry_attempts > 1) {
            cr_expect_eq(st, SUGA_OK, "%s", op->name);
            cr_expect_eq(delay, op->retry_backoff_ms, "%s", op->name);
        } else {
            cr_expect_eq(st, SUGA_E_STATE, "%s", op->name);
        }
    }
}
