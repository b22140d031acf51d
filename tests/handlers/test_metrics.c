/* test_metrics.c: metrics.* operations through the engine, on the process-wide registry that the
 * first metrics.* call configures from the table's limits (spec/limits.yaml). Criterion runs each
 * test in its own process, and setup empties the registry anyway. */
#include <stdio.h>
#include <stdlib.h>

#include "handler_test.h"
#include "suga_clock.h"
#include "suga_engine.h"
#include "suga_metrics.h"
#include "utility/suga_utility.h"

static void setup(void)
{
    suga_metrics_init(suga_metrics_default(), NULL);
}

static void teardown(void)
{
    suga_metrics_init(suga_metrics_default(), NULL);
}

TestSuite(metrics, .init = setup, .fini = teardown);

static void record(const char *name, const char *value, const char *unit)
{
    char args[256];
    if (unit)
        snprintf(args, sizeof args, "{\"name\": \"%s\", \"value\": %s, \"unit\": \"%s\"}", name, value, unit);
    else
        snprintf(args, sizeof args, "{\"name\": \"%s\", \"value\": %s}", name, value);
    json_decref(call_ok("metrics.record", args));
}

static void fails_with(const char *op, const char *args, suga_status want, const char *message)
{
    suga_ctx ctx;
    call_fails(&ctx, op, args, want);
    cr_assert_str_eq(ctx.error, message);
}

/* The spec's declared metric names, as JSON text, from the compiled table. */
static void table_names(char *out, size_t size)
{
    const suga_limits *l = suga_main_table.limits;
    size_t used = (size_t)snprintf(out, size, "[");
    for (uint16_t i = 0; i < l->metric_name_count; i++)
        used += (size_t)snprintf(out + used, size - used, "%s\"%s\"", i ? ", " : "", l->metric_names[i]);
    snprintf(out + used, size - used, "]");
}

/* ---- record ---- */

Test(metrics, record_returns_the_count_so_far)
{
    assert_json(call_ok("metrics.record", "{\"name\": \"invocations\", \"value\": 1}"),
                "{\"name\": \"invocations\", \"unit\": \"Count\", \"count\": 1}");
    assert_json(call_ok("metrics.record", "{\"name\": \"invocations\", \"value\": 2, \"unit\": \"count\"}"),
                "{\"name\": \"invocations\", \"unit\": \"Count\", \"count\": 2}");
    assert_json(call_ok("metrics.record", "{\"name\": \"latency\", \"value\": 12.5, \"unit\": \"milliseconds\"}"),
                "{\"name\": \"latency\", \"unit\": \"Milliseconds\", \"count\": 1}");
    suga_metric_stats s;
    cr_assert_eq(suga_metrics_stats(suga_metrics_default(), "invocations", &s, NULL), SUGA_OK,
                 "the operations record into the default registry");
    cr_assert_eq(s.sum, 3);
}

Test(metrics, every_spec_unit_maps_to_its_cloudwatch_name)
{
    static const char *const spec_units[] = {"count",   "milliseconds", "bytes",     "percent",
                                             "none",    "seconds",      "kilobytes", "megabytes"};
    char name[32];
    for (int i = 0; i < SUGA_METRICS_UNIT_COUNT; i++) {
        snprintf(name, sizeof name, "u_%s", spec_units[i]);
        record(name, "1", spec_units[i]);
        suga_metric_stats s;
        cr_assert_eq(suga_metrics_stats(suga_metrics_default(), name, &s, NULL), SUGA_OK);
        cr_assert_str_eq(s.unit, suga_metrics_unit_names[i]);
    }
}

Test(metrics, record_refuses_bad_arguments)
{
    fails_with("metrics.record", "{\"value\": 1}", SUGA_E_INVALID_ARG, "metrics.record: arg 'name' is required");
    fails_with("metrics.record", "{\"name\": \"x\"}", SUGA_E_INVALID_ARG, "metrics.record: arg 'value' is required");
    fails_with("metrics.record", "{\"name\": \"a b\", \"value\": 1}", SUGA_E_INVALID_ARG,
               "metrics.record: arg 'name' must match pattern '^[A-Za-z0-9_.-]+$', got \"a b\"");
    fails_with("metrics.record", "{\"name\": \"\", \"value\": 1}", SUGA_E_INVALID_ARG,
               "metrics.record: arg 'name' must match pattern '^[A-Za-z0-9_.-]+$', got \"\"");
    fails_with("metrics.record",
               "{\"name\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"value\": 1}",
               SUGA_E_INVALID_ARG, "metrics.record: arg 'name' must be at most 64 bytes long, got 65 bytes");
    fails_with("metrics.record", "{\"name\": \"x\", \"value\": \"1\"}", SUGA_E_INVALID_ARG,
               "metrics.record: arg 'value' must be a number, got \"1\"");
    fails_with("metrics.record", "{\"name\": \"x\", \"value\": 1, \"unit\": \"Count\"}", SUGA_E_INVALID_ARG,
               "metrics.record: arg 'unit' must be one of count, milliseconds, bytes, percent, none, seconds, "
               "kilobytes, megabytes, got \"Count\"");
    fails_with("metrics.record", "{\"name\": \"x\", \"value\": 1, \"units\": \"count\"}", SUGA_E_INVALID_ARG,
               "metrics.record: unknown arg 'units' (did you mean 'unit'?)");
    /* the registry's own rules, behind the spec's */
    fails_with("metrics.record", "{\"name\": \"_aws\", \"value\": 1}", SUGA_E_INVALID_ARG,
               "metrics.record: metric name '_aws' is reserved: every EMF object has a member of that name");
    record("latency", "3", "milliseconds");
    fails_with("metrics.record", "{\"name\": \"latency\", \"value\": 1}", SUGA_E_INVALID_ARG,
               "metrics.record: metric 'latency' has unit Milliseconds, cannot record a value in Count (a metric "
               "keeps the unit of its first record)");
    assert_json(call_ok("metrics.get", "{\"name\": \"latency\"}"),
                "{\"name\": \"latency\", \"unit\": \"Milliseconds\", \"declared\": true,"
                " \"emitted\": true, \"count\": 1, \"sum\": 3, \"min\": 3, \"max\": 3, \"mean\": 3, \"last\": 3,"
                " \"since_flush\": {\"count\": 1, \"sum\": 3, \"min\": 3, \"max\": 3, \"values_kept\": 1}}");
}

Test(metrics, typed_callers_with_a_bad_unit_are_refused)
{
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *r = NULL;
    suga_args_metrics_record a = {.name = {.ptr = "x", .len = 1}, .value = 1, .unit = 99};
    cr_assert_eq(suga_call_id(&ctx, SUGA_OP_METRICS_RECORD, &a, &r), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "metrics.record: unit 99 is not one of the 8 units");
    cr_assert_null(r);
    a.unit = SUGA_METRICS_RECORD_UNIT_BYTES;
    cr_assert_eq(suga_call_id(&ctx, SUGA_OP_METRICS_RECORD, &a, &r), SUGA_OK, "%s", ctx.error);
    assert_json(r, "{\"name\": \"x\", \"unit\": \"Bytes\", \"count\": 1}");
    /* a typed name is its len bytes, whatever follows them */
    a.name = (suga_str){.ptr = "latency_and_more", .len = 7};
    a.unit = SUGA_METRICS_RECORD_UNIT_MILLISECONDS;
    cr_assert_eq(suga_call_id(&ctx, SUGA_OP_METRICS_RECORD, &a, &r), SUGA_OK, "%s", ctx.error);
    assert_json(r, "{\"name\": \"latency\", \"unit\": \"Milliseconds\", \"count\": 1}");
    a.name = (suga_str){.ptr = "caf\xc3", .len = 4}; /* not even UTF-8: the registry's rule, not a memory error */
    cr_assert_eq(suga_call_id(&ctx, SUGA_OP_METRICS_RECORD, &a, &r), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error,
                     "metrics.record: metric name 'caf\\xc3' has a character other than A-Z a-z 0-9 _ . - at byte 3");
    a.name = (suga_str){.ptr = "a\0b", .len = 3};
    cr_assert_eq(suga_call_id(&ctx, SUGA_OP_METRICS_RECORD, &a, &r), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "metrics.record: the metric name must be at most 64 bytes, without NUL characters");
    suga_args_metrics_get g = {.name = {.ptr = NULL, .len = 0}};
    cr_assert_eq(suga_call_id(&ctx, SUGA_OP_METRICS_GET, &g, &r), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "metrics.get: metric name is empty (use 1 to 64 bytes of A-Z a-z 0-9 _ . -)");
}

/* ---- get, summary, reset ---- */

Test(metrics, get_unknown_names)
{
    fails_with("metrics.get", "{\"name\": \"latency\"}", SUGA_E_NOT_FOUND,
               "metrics.get: no metric 'latency' (nothing has been recorded)");
    record("latency", "1", "milliseconds");
    fails_with("metrics.get", "{\"name\": \"latncy\"}", SUGA_E_NOT_FOUND,
               "metrics.get: no metric 'latncy' (did you mean 'latency'?)");
    fails_with("metrics.get", "{}", SUGA_E_INVALID_ARG, "metrics.get: arg 'name' is required");
    fails_with("metrics.get", "{\"name\": \"a/b\"}", SUGA_E_INVALID_ARG,
               "metrics.get: arg 'name' must match pattern '^[A-Za-z0-9_.-]+$', got \"a/b\"");
}

Test(metrics, summary_declared_metrics_first)
{
    record("custom", "1", NULL);
    record("latency", "10", "milliseconds");
    record("latency", "20", "milliseconds");
    record("invocations", "2", NULL);
    json_t *s = call_ok("metrics.summary", NULL);
    cr_assert_eq(int_field(s, "count"), 3);
    cr_assert_eq(int_field(s, "max_metrics"), 256);
    cr_assert_eq(int_field(s, "emitted"), 2);
    cr_assert_eq(int_field(s, "not_emitted"), 1, "custom is not declared in spec/limits.yaml");
    json_t *list = json_object_get(s, "metrics");
    cr_assert_eq(json_array_size(list), 3);
    cr_assert_str_eq(str_field(json_array_get(list, 0), "name"), "invocations");
    cr_assert_str_eq(str_field(json_array_get(list, 1), "name"), "latency");
    cr_assert_str_eq(str_field(json_array_get(list, 2), "name"), "custom", "undeclared metrics come last");
    json_t *latency = json_array_get(list, 1);
    cr_assert_eq(json_number_value(json_object_get(latency, "mean")), 15);
    cr_assert_eq(int_field(latency, "count"), 2);
    cr_assert(json_is_false(json_object_get(json_array_get(list, 2), "declared")));
    json_decref(s);
    fails_with("metrics.summary", "{\"verbose\": true}", SUGA_E_INVALID_ARG, "metrics.summary: unknown arg 'verbose'");
}

Test(metrics, reset_one_or_all)
{
    record("a", "1", NULL);
    record("b", "1", NULL);
    record("c", "1", NULL);
    assert_json(call_ok("metrics.reset", "{\"name\": \"b\"}"), "{\"reset\": 1}");
    fails_with("metrics.get", "{\"name\": \"b\"}", SUGA_E_NOT_FOUND, "metrics.get: no metric 'b'");
    fails_with("metrics.reset", "{\"name\": \"b\"}", SUGA_E_NOT_FOUND, "metrics.reset: no metric 'b'");
    fails_with("metrics.reset", "{\"name\": \"a b\"}", SUGA_E_INVALID_ARG,
               "metrics.reset: arg 'name' must match pattern '^[A-Za-z0-9_.-]+$', got \"a b\"");
    assert_json(call_ok("metrics.reset", NULL), "{\"reset\": 2}");
    assert_json(call_ok("metrics.reset", NULL), "{\"reset\": 0}");
    json_t *status = call_ok("metrics.status", NULL);
    cr_assert_eq(int_field(status, "metrics"), 0);
    cr_assert(json_is_true(json_object_get(status, "configured")), "reset keeps the configuration");
    json_decref(status);
}

/* ---- export ---- */

Test(metrics, export_without_anything_recorded)
{
    assert_json(call_ok("metrics.export", NULL), "{\"emf\": null, \"emitted\": [], \"not_emitted\": []}");
}

Test(metrics, export_is_the_emf_object_without_flushing)
{
    record("latency", "12.5", "milliseconds");
    record("invocations", "1", NULL);
    record("invocations", "1", NULL);
    int64_t before = suga_clock_wall_ms();
    json_t *r = call_ok("metrics.export", NULL);
    int64_t after = suga_clock_wall_ms();
    json_t *aws = json_object_get(json_object_get(r, "emf"), "_aws");
    json_int_t ts = int_field(aws, "Timestamp");
    cr_assert(ts >= before && ts <= after, "Timestamp is the wall clock in ms: %lld", (long long)ts);
    json_object_set_new(aws, "Timestamp", json_integer(1)); /* the rest is exact */
    assert_json(r, "{\"emf\": {\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [{\"Namespace\": \"suga\","
                   " \"Dimensions\": [[\"Service\"]], \"Metrics\": [{\"Name\": \"invocations\", \"Unit\": \"Count\"},"
                   " {\"Name\": \"latency\", \"Unit\": \"Milliseconds\"}]}]}, \"Service\": \"suga\","
                   " \"invocations\": 2, \"latency\": [12.5], \"suga_metrics_not_emitted\": 0},"
                   " \"emitted\": [\"invocations\", \"latency\"], \"not_emitted\": []}");
    /* nothing was flushed: a second export carries the same data */
    r = call_ok("metrics.export", "{\"namespace\": \"home/lambda\"}");
    json_t *d = json_array_get(json_object_get(json_object_get(json_object_get(r, "emf"), "_aws"), "CloudWatchMetrics"), 0);
    cr_assert_str_eq(str_field(d, "Namespace"), "home/lambda");
    cr_assert_eq(int_field(json_object_get(r, "emf"), "invocations"), 2);
    json_decref(r);
}

Test(metrics, export_leaves_out_every_undeclared_name)
{
    char name[32];
    for (int i = 0; i < 12; i++) { /* more new names than the whole budget */
        snprintf(name, sizeof name, "custom_%02d", i);
        record(name, "1", NULL);
    }
    record("errors", "1", NULL);
    json_t *r = call_ok("metrics.export", NULL);
    json_t *emitted = json_object_get(r, "emitted"), *left_out = json_object_get(r, "not_emitted");
    cr_assert_eq(json_array_size(emitted), 1);
    cr_assert_str_eq(json_string_value(json_array_get(emitted, 0)), "errors");
    cr_assert_eq(json_array_size(left_out), 12);
    cr_assert_str_eq(json_string_value(json_array_get(left_out, 0)), "custom_00", "in the order recorded");
    json_t *emf = json_object_get(r, "emf");
    cr_assert_eq(int_field(emf, "suga_metrics_not_emitted"), 12);
    json_t *defs = json_object_get(json_array_get(json_object_get(json_object_get(emf, "_aws"), "CloudWatchMetrics"), 0),
                                   "Metrics");
    cr_assert_eq(json_array_size(defs), 1);
    cr_assert_null(json_object_get(emf, "custom_00"), "an undeclared metric is not in the object");
    json_decref(r);
}

/* metrics.record of a name spec/limits.yaml does not declare: it is kept and shown, and no line
 * the engine writes ever carries it (the engine's own metrics still go out). */
Test(metrics, a_new_name_from_metrics_record_stays_in_the_process)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buf, &size);
    cr_assert_not_null(out);
    suga_engine e;
    suga_engine_config config = {.guard_state_path = "", .metrics_out = out};
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_engine_init(&e, &suga_main_table, &config, &ctx), SUGA_OK, "%s", ctx.error);
    json_t *request = json_pack("{s:s, s:{s:s, s:i}}", "op", "metrics.record", "args", "name", "my.new-metric", "value", 2);
    for (int i = 0; i < 50; i++) {
        json_t *result = NULL;
        suga_ctx_init(&ctx);
        cr_assert_eq(suga_engine_request(&e, &ctx, request, &result), SUGA_OK, "%s", ctx.error);
        json_decref(result);
        cr_assert_eq(suga_engine_end_invocation(&e, 1, &ctx), SUGA_OK, "%s", ctx.error);
    }
    json_decref(request);
    cr_assert_eq(fclose(out), 0);
    int lines = 0;
    for (char *line = buf, *nl; (nl = strchr(line, '\n')); line = nl + 1, lines++) {
        json_t *doc = json_loadb(line, (size_t)(nl - line), 0, NULL);
        cr_assert_not_null(doc, "line %d is JSON", lines);
        cr_assert_null(json_object_get(doc, "my.new-metric"), "line %d", lines);
        cr_assert_null(strstr(line, "my.new-metric"), "line %d names it nowhere", lines);
        cr_assert_eq(int_field(doc, "invocations"), 1, "line %d: the engine's metrics go out", lines);
        cr_assert_eq(int_field(doc, "suga_metrics_not_emitted"), 1, "line %d", lines);
        json_decref(doc);
    }
    free(buf);
    cr_assert_eq(lines, 50);
    assert_json(call_ok("metrics.get", "{\"name\": \"my.new-metric\"}"),
                "{\"name\": \"my.new-metric\", \"unit\": \"Count\", \"declared\": false, \"emitted\": false,"
                " \"count\": 50, \"sum\": 100, \"min\": 2, \"max\": 2, \"mean\": 2, \"last\": 2,"
                " \"since_flush\": {\"count\": 0, \"sum\": 0, \"min\": null, \"max\": null, \"values_kept\": 0}}");
    suga_ctx_init(&ctx);
    suga_engine_shutdown(&e, &ctx);
}

Test(metrics, export_refuses_bad_namespaces)
{
    record("invocations", "1", NULL);
    fails_with("metrics.export", "{\"namespace\": \"AWS/Lambda\"}", SUGA_E_INVALID_ARG,
               "metrics.export: EMF namespace 'AWS/Lambda' must not start with 'AWS/' (AWS services' own)");
    fails_with("metrics.export", "{\"namespace\": \":x\"}", SUGA_E_INVALID_ARG,
               "metrics.export: EMF namespace ':x' must not start with ':'");
    fails_with("metrics.export", "{\"namespace\": \"a$b\"}", SUGA_E_INVALID_ARG,
               "metrics.export: arg 'namespace' must match pattern '^[A-Za-z0-9._/#: -]+$', got \"a$b\"");
    fails_with("metrics.export", "{\"namespace\": \"\"}", SUGA_E_INVALID_ARG,
               "metrics.export: arg 'namespace' must match pattern '^[A-Za-z0-9._/#: -]+$', got \"\"");
}

/* ---- status and configuration ---- */

Test(metrics, status_shows_the_tables_names)
{
    char names[1024], expected[1400];
    table_names(names, sizeof names);
    snprintf(expected, sizeof expected,
             "{\"metrics\": 0, \"max_metrics\": 256, \"names\": %s, \"configured\": true,"
             " \"recorded_since_flush\": 0}",
             names);
    assert_json(call_ok("metrics.status", NULL), expected);
    cr_assert_leq(suga_main_table.limits->metric_name_count, 10, "spec/limits.yaml: at most 10 custom metrics");
    cr_assert_eq(suga_main_table.limits->metric_name_count, SUGA_METRIC__COUNT);
    cr_assert_str_eq(suga_main_table.limits->metric_names[SUGA_METRIC_INVOCATIONS], "invocations");
    cr_assert_str_eq(suga_main_table.limits->metric_names[SUGA_METRIC_GUARD_STATE], "guard_state");
    record("invocations", "1", NULL);
    json_t *s = call_ok("metrics.status", NULL);
    cr_assert_eq(int_field(s, "metrics"), 1);
    cr_assert_eq(int_field(s, "recorded_since_flush"), 1);
    json_decref(s);
}

Test(metrics, a_registry_configured_by_the_engine_is_left_alone)
{
    static const char *const mine[] = {"latency"};
    const suga_limits limits = {.metric_names = mine, .metric_name_count = 1};
    cr_assert_eq(suga_metrics_configure(suga_metrics_default(), &limits, NULL), SUGA_OK);
    assert_json(call_ok("metrics.status", NULL),
                "{\"metrics\": 0, \"max_metrics\": 256, \"names\": [\"latency\"],"
                " \"configured\": true, \"recorded_since_flush\": 0}");
    record("invocations", "1", NULL);
    record("latency", "5", "milliseconds");
    json_t *r = call_ok("metrics.export", NULL);
    cr_assert_not_null(json_object_get(r, "emf"));
    json_object_del(r, "emf");
    assert_json(r, "{\"emitted\": [\"latency\"], \"not_emitted\": [\"invocations\"]}");
}

Test(metrics, operation_metadata)
{
    static const struct {
        const char *name;
        bool essential, idempotent;
    } ops[] = {
        {"metrics.record", true, false},  {"metrics.get", true, true},     {"metrics.summary", false, true},
        {"metrics.reset", true, false},   {"metrics.export", false, true}, {"metrics.status", false, true},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        const suga_op *op = NULL;
        cr_assert_eq(suga_lookup(ops[i].name, strlen(ops[i].name), &op), SUGA_OK, "%s", ops[i].name);
        cr_assert_eq(op->essential, ops[i].essential, "%s essential", ops[i].name);
        cr_assert_eq(op->idempotent, ops[i].idempotent, "%s idempotent", ops[i].name);
        cr_assert_str_eq(suga_main_table.modules[op->module].name, "metrics");
    }
}
