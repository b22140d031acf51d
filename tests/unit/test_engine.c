/* The engine's request-level stages (runtime/engine.c) on the engine's own table: request
 * shapes, one guard admission and one log record per request (op, fusion or batch), guard
 * shedding and blocking with a resumed state file, metrics as EMF at the end of an invocation.
 * The wall clock is fixed (2026-11-15, mid-month), so guard levels do not depend on the date. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suga_engine.h"
#include "suga_guard.h"
#include "suga_log.h"
#include "suga_metrics.h"
#include "suga_test_hooks.h"

#define NOV_15_2026 INT64_C(1794700800000) /* 2026-11-15T00:00:00Z */

static int64_t fixed_clock(void)
{
    return NOV_15_2026;
}

static char *log_text, *metrics_text;
static size_t log_len, metrics_len;
static FILE *log_stream, *metrics_stream;
static char state_dir[64];
static char state_path[128];
static suga_engine engine;

static void setup(void)
{
    log_stream = open_memstream(&log_text, &log_len);
    metrics_stream = open_memstream(&metrics_text, &metrics_len);
    cr_assert(log_stream && metrics_stream);
    cr_assert_eq(suga_log_set_output(log_stream), SUGA_OK);
    cr_assert_eq(suga_log_set_level(SUGA_LOG_INFO), SUGA_OK);
    cr_assert_eq(suga_clock_set_test_clock(fixed_clock), SUGA_OK);
    strcpy(state_dir, "/tmp/suga-engine-test-XXXXXX");
    cr_assert_not_null(mkdtemp(state_dir));
    snprintf(state_path, sizeof state_path, "%s/guard.json", state_dir);
    unsetenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
}

static void teardown(void)
{
    suga_log_reset();
    suga_clock_set_test_clock(NULL);
    fclose(log_stream);
    fclose(metrics_stream);
    free(log_text);
    free(metrics_text);
    unlink(state_path);
    rmdir(state_dir);
    suga_table_release(&suga_main_table);
}

TestSuite(engine, .init = setup, .fini = teardown);

static void start(void)
{
    suga_engine_config config = {.guard_state_path = state_path, .metrics_out = metrics_stream};
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_engine_init(&engine, &suga_main_table, &config, &ctx), SUGA_OK, "%s", ctx.error);
    cr_assert_eq(suga_engine_current(), &engine);
}

/* Run a request written as JSON text; ctx gets request id "req-1". */
static suga_status request(suga_ctx *ctx, const char *text, json_t **result)
{
    json_error_t err;
    json_t *req = json_loads(text, JSON_DECODE_ANY, &err);
    cr_assert_not_null(req, "test bug: %s: %s", text, err.text);
    suga_ctx_init(ctx);
    ctx->request_id = "req-1";
    *result = NULL;
    suga_status st = suga_engine_request(&engine, ctx, req, result);
    json_decref(req);
    return st;
}

/* The log records written so far, one JSON object per line. */
static json_t *log_records(void)
{
    fflush(log_stream);
    json_t *all = json_array();
    const char *line = log_text;
    while (line && *line) {
        const char *end = strchr(line, '\n');
        cr_assert_not_null(end, "a log record must end with a newline: %s", line);
        json_error_t err;
        json_t *rec = json_loadb(line, (size_t)(end - line), 0, &err);
        cr_assert_not_null(rec, "log line is not JSON: %.*s", (int)(end - line), line);
        json_array_append_new(all, rec);
        line = end + 1;
    }
    return all;
}

/* Records whose message is "request" or "request failed" (not guard transitions). */
static size_t request_records(json_t *all)
{
    size_t n = 0, i;
    json_t *rec;
    json_array_foreach(all, i, rec) {
        const char *m = json_string_value(json_object_get(rec, "message"));
        n += m && !strncmp(m, "request", 7);
    }
    return n;
}

Test(engine, an_operation_request_is_run_and_logged_once)
{
    start();
    suga_ctx ctx;
    json_t *r;
    cr_assert_eq(request(&ctx, "{\"op\": \"utility.truncate\", \"args\": {\"text\": \"abcdef\", \"max_bytes\": 3},"
                               " \"correlation_id\": \"corr-7\"}",
                         &r),
                 SUGA_OK, "%s", ctx.error);
    cr_assert_str_eq(json_string_value(json_object_get(r, "text")), "abc");
    json_decref(r);
    json_t *all = log_records();
    cr_assert_eq(json_array_size(all), 1, "one record per request");
    json_t *rec = json_array_get(all, 0);
    cr_expect_str_eq(json_string_value(json_object_get(rec, "level")), "info");
    cr_expect_str_eq(json_string_value(json_object_get(rec, "request_id")), "req-1");
    cr_expect_str_eq(json_string_value(json_object_get(rec, "correlation_id")), "corr-7");
    cr_expect_str_eq(json_string_value(json_object_get(rec, "operation")), "utility.truncate");
    cr_expect_str_eq(json_string_value(json_object_get(rec, "status")), "ok");
    cr_expect(json_is_number(json_object_get(rec, "duration_ms")));
    cr_expect(json_is_string(json_object_get(rec, "timestamp")));
    json_decref(all);
    cr_expect_eq(engine.requests, 1);
    cr_expect_eq(engine.request_errors, 0);
}

Test(engine, log_off_writes_nothing)
{
    start();
    cr_assert_eq(suga_log_set_level(SUGA_LOG_ERROR), SUGA_OK);
    suga_ctx ctx;
    json_t *r;
    cr_assert_eq(request(&ctx, "{\"op\": \"utility.timestamp\"}", &r), SUGA_OK, "%s", ctx.error);
    json_decref(r);
    cr_assert_eq(request(&ctx, "{\"op\": \"utility.truncate\", \"args\": {}}", &r), SUGA_E_INVALID_ARG);
    json_t *all = log_records();
    cr_expect_eq(json_array_size(all), 0, "info and warning records are below error");
    json_decref(all);
}

Test(engine, malformed_requests_are_refused_with_clear_messages)
{
    start();
    static const struct {
        const char *request;
        suga_status status;
        const char *message;
    } cases[] = {
        {"[1]", SUGA_E_INVALID_ARG, "request must be a JSON object with \"op\", \"fusion\" or \"batch\""},
        {"{\"opp\": \"cache.get\"}", SUGA_E_INVALID_ARG, "request: unknown key 'opp' (did you mean 'op'?)"},
        {"{}", SUGA_E_INVALID_ARG, "request: needs exactly one of \"op\", \"fusion\" and \"batch\""},
        {"{\"op\": \"cache.get\", \"fusion\": \"cache_put_get\"}", SUGA_E_INVALID_ARG,
         "request: needs exactly one of \"op\", \"fusion\" and \"batch\""},
        {"{\"op\": 3}", SUGA_E_INVALID_ARG, "request: \"op\" must be a string"},
        {"{\"op\": \"cache.gte\"}", SUGA_E_NOT_FOUND, "unknown operation 'cache.gte' (did you mean 'cache.get'?)"},
        {"{\"fusion\": \"cache_put_gte\"}", SUGA_E_NOT_FOUND,
         "unknown fusion 'cache_put_gte' (did you mean 'cache_put_get'?)"},
        {"{\"op\": \"cache.get\", \"stop_on_error\": true}", SUGA_E_INVALID_ARG,
         "request: \"stop_on_error\" applies to batches only"},
        {"{\"batch\": [], \"args\": {}}", SUGA_E_INVALID_ARG,
         "request: a batch takes no \"args\" (each item has its own)"},
        {"{\"op\": \"cache.get\", \"correlation_id\": 5}", SUGA_E_INVALID_ARG,
         "request: \"correlation_id\" must be a string of at most 128 bytes"},
        {"{\"op\": \"cache.get\", \"args\": {\"key\": 1}}", SUGA_E_INVALID_ARG,
         "cache.get: arg 'key' must be a string, got 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        suga_ctx ctx;
        json_t *r;
        cr_expect_eq(request(&ctx, cases[i].request, &r), cases[i].status, "%s: %s", cases[i].request, ctx.error);
        cr_expect_str_eq(ctx.error, cases[i].message, "%s", cases[i].request);
        cr_expect_null(r);
    }
    cr_expect_eq(engine.request_errors, sizeof cases / sizeof cases[0]);
    json_t *all = log_records();
    cr_expect_eq(request_records(all), sizeof cases / sizeof cases[0], "every refused request is logged too");
    json_t *first = json_array_get(all, 0);
    cr_expect_str_eq(json_string_value(json_object_get(first, "level")), "warning");
    cr_expect_str_eq(json_string_value(json_object_get(first, "status")), "invalid_arg");
    json_decref(all);
}

Test(engine, a_fusion_and_a_batch_are_one_record_each)
{
    start();
    suga_ctx ctx;
    json_t *r;
    cr_assert_eq(request(&ctx, "{\"fusion\": \"cache_put_get\", \"args\": {\"key\": \"f\", \"value\": [1, 2]}}", &r),
                 SUGA_OK, "%s", ctx.error);
    json_t *want = json_pack("[i, i]", 1, 2);
    cr_expect(json_equal(r, want), "a fusion's result is its last step's");
    json_decref(want);
    json_decref(r);
    cr_assert_eq(request(&ctx,
                         "{\"batch\": [{\"op\": \"cache.get\", \"args\": {\"key\": \"f\"}},"
                         " {\"op\": \"no.such\"}, {\"op\": \"utility.timestamp\"}]}",
                         &r),
                 SUGA_OK, "%s", ctx.error);
    cr_expect_eq(json_integer_value(json_object_get(r, "succeeded")), 2);
    cr_expect_eq(json_integer_value(json_object_get(r, "failed")), 1);
    json_decref(r);
    json_t *all = log_records();
    cr_assert_eq(request_records(all), 2, "one record for the fusion, one for the batch");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(all, 0), "operation")), "cache_put_get");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(all, 1), "operation")), "batch");
    json_decref(all);
}

/* A state file for this month with `requests` already counted, as a previous process left it. */
static void previous_process_counted(uint64_t requests)
{
    suga_guard g;
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_guard_init(&g, suga_main_table.limits, 128, NOV_15_2026, &ctx), SUGA_OK, "%s", ctx.error);
    for (uint64_t i = 0; i < requests; i++)
        cr_assert_eq(suga_guard_record(&g, NOV_15_2026, 1, &ctx), SUGA_OK);
    cr_assert_eq(suga_guard_save(&g, state_path, &ctx), SUGA_OK, "%s", ctx.error);
}

Test(engine, at_throttle_non_essential_requests_are_shed_and_the_change_logged_once)
{
    previous_process_counted(905000); /* 90.5 % of 1,000,000 */
    start();
    cr_expect(engine.init.guard_resumed);
    suga_ctx ctx;
    json_t *r;
    /* debug.stats is essential: false in spec/debug.yaml */
    cr_expect_eq(request(&ctx, "{\"op\": \"debug.stats\"}", &r), SUGA_E_BUDGET);
    cr_expect(strstr(ctx.error, "free tier budget nearly exhausted: non-essential operation shed") == ctx.error, "%s",
              ctx.error);
    cr_expect_eq(suga_status_http(SUGA_E_BUDGET), 429);
    cr_expect_eq(request(&ctx, "{\"op\": \"utility.timestamp\"}", &r), SUGA_OK, "%s", ctx.error);
    json_decref(r);
    /* a batch with one non-essential item is shed as a whole: one admission */
    cr_expect_eq(request(&ctx, "{\"batch\": [{\"op\": \"utility.timestamp\"}, {\"op\": \"debug.stats\"}]}", &r),
                 SUGA_E_BUDGET);
    cr_expect_eq(request(&ctx, "{\"batch\": [{\"op\": \"utility.timestamp\"}]}", &r), SUGA_OK, "%s", ctx.error);
    json_decref(r);
    cr_expect_eq(engine.guard.shed, 2);
    json_t *all = log_records();
    size_t transitions = 0, i;
    json_t *rec;
    json_array_foreach(all, i, rec) {
        const char *level = json_string_value(json_object_get(rec, "guard_level"));
        if (level) {
            transitions++;
            cr_expect_str_eq(level, "throttle");
            cr_expect_str_eq(json_string_value(json_object_get(rec, "level")), "warning");
        }
    }
    cr_expect_eq(transitions, 1, "the level change is logged once, not per request");
    json_decref(all);
}

Test(engine, at_block_everything_is_refused)
{
    previous_process_counted(950000);
    start();
    suga_ctx ctx;
    json_t *r;
    cr_expect_eq(request(&ctx, "{\"op\": \"utility.timestamp\"}", &r), SUGA_E_BUDGET);
    cr_expect(strstr(ctx.error, "free tier budget exhausted") == ctx.error, "%s", ctx.error);
    cr_expect_null(r);
    cr_expect_eq(engine.guard.blocked, 1);
}

Test(engine, a_damaged_state_file_does_not_stop_the_engine)
{
    FILE *f = fopen(state_path, "w");
    cr_assert_not_null(f);
    fputs("{not json", f);
    fclose(f);
    start();
    cr_expect_not(engine.init.guard_resumed);
    cr_expect(strstr(engine.init.guard_note, state_path), "%s", engine.init.guard_note);
    suga_ctx ctx;
    json_t *r;
    cr_expect_eq(request(&ctx, "{\"op\": \"utility.timestamp\"}", &r), SUGA_OK, "%s", ctx.error);
    json_decref(r);
}

Test(engine, the_end_of_an_invocation_counts_it_writes_emf_and_saves_state)
{
    start();
    suga_ctx ctx;
    json_t *r;
    cr_assert_eq(request(&ctx, "{\"op\": \"utility.timestamp\"}", &r), SUGA_OK, "%s", ctx.error);
    json_decref(r);
    cr_assert_eq(request(&ctx, "{\"op\": \"utility.truncate\"}", &r), SUGA_E_INVALID_ARG);
    suga_ctx end;
    suga_ctx_init(&end);
    cr_assert_eq(suga_engine_end_invocation(&engine, 12.5, &end), SUGA_OK, "%s", end.error);
    cr_expect_eq(engine.guard.requests, 1, "one invocation, however many requests it served");
    cr_expect_eq(engine.invocations, 1);
    fflush(metrics_stream);
    cr_assert(metrics_len > 0 && metrics_text[metrics_len - 1] == '\n', "one EMF line");
    cr_expect_null(strchr(metrics_text, '\n') + 1 < metrics_text + metrics_len ? strchr(metrics_text, '\n') + 1 : NULL,
                   "exactly one line");
    json_error_t err;
    json_t *emf = json_loads(metrics_text, 0, &err);
    cr_assert_not_null(emf, "EMF line is not JSON: %s", err.text);
    cr_expect(json_is_object(json_object_get(emf, "_aws")));
    cr_expect_eq(json_number_value(json_object_get(emf, "invocations")), 2, "two requests");
    cr_expect_eq(json_number_value(json_object_get(emf, "errors")), 1);
    cr_expect_not_null(json_object_get(emf, "latency"));
    json_decref(emf);
    cr_assert_eq(suga_engine_shutdown(&engine, &end), SUGA_OK, "%s", end.error);
    cr_expect_eq(access(state_path, R_OK), 0, "shutdown saves the guard's state");
    cr_expect_null(suga_engine_current());
}

Test(engine, cache_hits_are_counted_per_request)
{
    start();
    suga_ctx ctx;
    json_t *r;
    /* security.validate_input is declared with cache: {ttl: 300} in spec/security.yaml */
    const char *text = "{\"op\": \"security.validate_input\", \"args\": {\"value\": \"light.kitchen\","
                       " \"kind\": \"entity_id\"}}";
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(request(&ctx, text, &r), SUGA_OK, "%s", ctx.error);
        cr_expect(json_is_true(json_object_get(r, "valid")));
        json_decref(r);
    }
    json_t *all = log_records();
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(all, 0), "cache_hits")), 0);
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(all, 1), "cache_hits")), 1);
    json_decref(all);
    suga_ctx end;
    suga_ctx_init(&end);
    cr_assert_eq(suga_engine_end_invocation(&engine, 1, &end), SUGA_OK, "%s", end.error);
    fflush(metrics_stream);
    json_t *emf = json_loads(metrics_text, 0, NULL);
    cr_assert_not_null(emf);
    cr_expect_eq(json_number_value(json_object_get(emf, "cache_hits")), 1);
    cr_expect_eq(json_number_value(json_object_get(emf, "module_loads")), 1, "the miss loaded suga-security.so");
    json_decref(emf);
}

Test(engine, bad_memory_size_is_an_init_error)
{
    setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "lots", 1);
    suga_engine e;
    suga_engine_config config = {.guard_state_path = ""};
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    cr_expect_eq(suga_engine_init(&e, &suga_main_table, &config, &ctx), SUGA_E_INVALID_ARG);
    cr_expect_str_eq(ctx.error,
                     "AWS_LAMBDA_FUNCTION_MEMORY_SIZE must be a whole number of MB in [1, 1048576], got \"lots\"");
    setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512", 1);
    cr_expect_eq(suga_engine_init(&e, &suga_main_table, &config, &ctx), SUGA_OK, "%s", ctx.error);
    cr_expect_eq(e.guard.memory_mb, 512);
    unsetenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
}

/* The engine records its metrics by suga_engine_metric (suga_schema.h); suga-gen refuses a spec
 * that does not declare all of them (tests/bad-specs/113-*), and init refuses a table made
 * otherwise that leaves one out: recorded, it would never be emitted. */
Test(engine, a_table_that_does_not_declare_an_engine_metric_is_an_init_error)
{
    const suga_limits *spec = suga_main_table.limits;
    for (int k = 0; k < SUGA_ENGINE_METRIC__COUNT; k++) {
        bool declared = false;
        for (uint16_t i = 0; i < spec->metric_name_count; i++)
            declared = declared || !strcmp(spec->metric_names[i], suga_engine_metric_names[k]);
        cr_assert(declared, "spec/limits.yaml declares %s", suga_engine_metric_names[k]);
    }
    static const char *const names[] = {"invocations", "errors", "latency", "cache_hits", "module_loads",
                                        "guard_state", "custom"};
    suga_limits limits = *spec;
    limits.metric_names = names;
    limits.metric_name_count = 7;
    suga_table table = suga_main_table;
    table.limits = &limits;
    suga_engine e;
    suga_engine_config config = {.guard_state_path = "", .metrics_out = metrics_stream};
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_engine_init(&e, &table, &config, &ctx), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "suga_engine_init: the table's limits.metrics.names do not declare 'module_unloads', "
                                "which the engine records (a metric not declared is never emitted)");
    cr_assert_null(suga_engine_current(), "no engine was started");
    static const char *const all[] = {"invocations", "errors", "latency", "cache_hits", "module_loads",
                                      "module_unloads", "guard_state", "custom"};
    limits.metric_names = all;
    limits.metric_name_count = 8;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_engine_init(&e, &table, &config, &ctx), SUGA_OK, "%s", ctx.error);
    suga_engine_shutdown(&e, NULL);
}

/* What the engine records reaches the line under the names it declares, and only those: a
 * metric recorded next to them (metrics.record of a new name) does not. */
Test(engine, the_emf_line_carries_only_declared_names)
{
    start();
    suga_ctx ctx;
    json_t *result = NULL;
    cr_assert_eq(request(&ctx, "{\"op\": \"metrics.record\", \"args\": {\"name\": \"not_declared\", \"value\": 1}}",
                         &result),
                 SUGA_OK, "%s", ctx.error);
    json_decref(result);
    cr_assert_eq(suga_engine_end_invocation(&engine, 5, &ctx), SUGA_OK, "%s", ctx.error);
    fflush(metrics_stream);
    json_t *emf = json_loads(metrics_text, 0, NULL);
    cr_assert_not_null(emf);
    json_t *defs = json_object_get(json_array_get(json_object_get(json_object_get(emf, "_aws"), "CloudWatchMetrics"), 0),
                                   "Metrics");
    size_t i;
    json_t *def;
    json_array_foreach(defs, i, def) {
        const char *name = json_string_value(json_object_get(def, "Name"));
        bool declared = false;
        for (uint16_t k = 0; k < suga_main_table.limits->metric_name_count; k++)
            declared = declared || !strcmp(suga_main_table.limits->metric_names[k], name);
        cr_expect(declared, "%s is declared", name);
    }
    cr_expect_null(json_object_get(emf, "not_declared"));
    cr_expect_eq(json_integer_value(json_object_get(emf, "suga_metrics_not_emitted")), 1);
    json_decref(emf);
}
