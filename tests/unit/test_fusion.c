/* test_fusion.c: fusions and batch requests (runtime/fusion.c) through the engine's own table.
 *
 * The real fusions of spec/fusions.yaml run through suga_main_table; the binding paths that
 * those cannot reach ($steps.N.result.a.b) are exercised with small fusions built here against
 * the same table, which is what suga_table_run_fusion accepts: step ids index table->ops. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/suga_cache.h"
#include "config/suga_config.h"
#include "suga_fusion.h"
#include "suga_handler_test_hooks.h"
#include "suga_log.h"
#include "suga_ops.h"

static FILE *capture;
static char *captured;
static size_t captured_len;

static void setup(void)
{
    unsetenv("LOG_LEVEL");
    suga_config_reset();
    suga_log_reset();
    suga_cache_reset();
    capture = open_memstream(&captured, &captured_len);
    cr_assert_not_null(capture);
    suga_log_set_output(capture);
}

static void teardown(void)
{
    suga_log_reset();
    suga_cache_reset();
    suga_config_reset();
    if (capture)
        fclose(capture);
    free(captured);
    capture = NULL;
    captured = NULL;
}

TestSuite(fusion, .init = setup, .fini = teardown);
TestSuite(batch, .init = setup, .fini = teardown);

/* ---- helpers ---- */

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
    cr_assert_not_null(v, "test bug: bad JSON %s: %s", text, err.text);
    return v;
}

static void assert_json(json_t *got, const char *want_text)
{
    json_t *want = parse(want_text);
    char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    cr_assert(json_equal(got, want), "got %s, want %s", g ? g : "(null)", want_text);
    free(g);
    json_decref(want);
}

/* Run `fusion` of the main table with input JSON text (NULL = no input). */
static suga_status run_named(suga_ctx *ctx, const char *name, const char *input_json, json_t **result)
{
    const suga_fusion *f = NULL;
    cr_assert_eq(suga_table_find_fusion(&suga_main_table, name, strlen(name), &f), SUGA_OK, "no fusion %s", name);
    json_t *input = input_json ? parse(input_json) : NULL;
    suga_ctx_init(ctx);
    *result = (json_t *)1; /* must be overwritten */
    suga_status st = suga_table_run_fusion(&suga_main_table, ctx, f, input, result);
    json_decref(input);
    if (st != SUGA_OK)
        cr_expect_null(*result, "a failed fusion must not return a result");
    return st;
}

/* Run a hand-built fusion against the main table. */
static suga_status run_fusion(suga_ctx *ctx, const suga_fusion *f, const char *input_json, json_t **result)
{
    json_t *input = input_json ? parse(input_json) : NULL;
    suga_ctx_init(ctx);
    suga_status st = suga_table_run_fusion(&suga_main_table, ctx, f, input, result);
    json_decref(input);
    if (st != SUGA_OK)
        cr_expect_null(*result, "a failed fusion must not return a result");
    return st;
}

static suga_status run_batch(suga_ctx *ctx, const char *request_json, json_t **result)
{
    json_t *request = parse(request_json);
    suga_ctx_init(ctx);
    *result = (json_t *)1;
    suga_status st = suga_table_run_batch(&suga_main_table, ctx, request, result);
    json_decref(request);
    if (st != SUGA_OK)
        cr_expect_null(*result, "a refused batch must not return a result");
    return st;
}

static void call_ok(const char *op, const char *args_json, json_t **result)
{
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *args = parse(args_json);
    suga_status st = suga_call_json(&ctx, op, strlen(op), args, result);
    json_decref(args);
    cr_assert_eq(st, SUGA_OK, "%s failed: %s", op, ctx.error);
}

/* The value under `key` in the cache, via cache.get (a new reference; JSON null when absent). */
static json_t *cached(const char *key)
{
    char args[300];
    snprintf(args, sizeof args, "{\"key\": \"%s\"}", key);
    json_t *v = NULL;
    call_ok("cache.get", args, &v);
    return v ? v : json_null();
}

static void store(const char *key, const char *value_json)
{
    json_t *args = json_pack("{s:s, s:o}", "key", key, "value", parse(value_json));
    cr_assert_not_null(args);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *r = NULL;
    cr_assert_eq(suga_call_json(&ctx, "cache.set", 9, args, &r), SUGA_OK, "%s", ctx.error);
    json_decref(r);
    json_decref(args);
}

/* Every log record written so far, parsed. */
static json_t *records(void)
{
    fflush(capture);
    json_t *all = json_array();
    const char *p = captured;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        cr_assert_not_null(nl);
        json_t *rec = json_loadb(p, (size_t)(nl - p), 0, NULL);
        cr_assert(json_is_object(rec), "not a record: %.*s", (int)(nl - p), p);
        json_array_append_new(all, rec);
        p = nl + 1;
    }
    return all;
}

/* The error entry of batch item i: asserts it failed with `status` and returns its message. */
static const char *item_error(json_t *batch_result, size_t i, const char *status)
{
    json_t *entry = json_array_get(json_object_get(batch_result, "results"), i);
    cr_assert(json_is_object(entry), "no entry %zu", i);
    cr_assert(json_is_false(json_object_get(entry, "ok")), "item %zu did not fail", i);
    json_t *error = json_object_get(entry, "error");
    cr_assert_str_eq(json_string_value(json_object_get(error, "status")), status, "item %zu", i);
    const char *message = json_string_value(json_object_get(error, "message"));
    cr_assert_not_null(message);
    return message;
}

static void assert_counts(json_t *batch_result, json_int_t succeeded, json_int_t failed, json_int_t skipped)
{
    cr_assert_eq(json_integer_value(json_object_get(batch_result, "succeeded")), succeeded);
    cr_assert_eq(json_integer_value(json_object_get(batch_result, "failed")), failed);
    cr_assert_eq(json_integer_value(json_object_get(batch_result, "skipped")), skipped);
    cr_assert_eq(json_array_size(json_object_get(batch_result, "results")), (size_t)(succeeded + failed + skipped));
}

/* ---- fusions built here against the main table ---- */

/* nav: step 0 reads "doc" from the cache, step 1 stores the part of it at `path` under "out". */
static const suga_binding nav_get[] = {
    {.param = "key", .kind = SUGA_BIND_LITERAL, .literal_json = "\"doc\""},
};
static suga_binding nav_set[] = {
    {.param = "key", .kind = SUGA_BIND_LITERAL, .literal_json = "\"out\""},
    {.param = "value", .kind = SUGA_BIND_STEP, .step = 0, .path = "a.b"},
};
static const suga_fusion_step nav_steps[] = {
    {.op = SUGA_OP_CACHE_GET, .op_name = "cache.get", .bindings = nav_get, .binding_count = 1},
    {.op = SUGA_OP_CACHE_SET, .op_name = "cache.set", .bindings = nav_set, .binding_count = 2},
};
static const suga_fusion nav = {.name = "nav", .steps = nav_steps, .step_count = 2};

/* put: cache.set of key "k" with value 1 and ttl from an optional input (with or without a default). */
static const suga_binding put_set[] = {
    {.param = "key", .kind = SUGA_BIND_LITERAL, .literal_json = "\"k\""},
    {.param = "value", .kind = SUGA_BIND_LITERAL, .literal_json = "1"},
    {.param = "ttl", .kind = SUGA_BIND_INPUT, .path = "ttl"},
};
static const suga_fusion_step put_steps[] = {
    {.op = SUGA_OP_CACHE_SET, .op_name = "cache.set", .bindings = put_set, .binding_count = 3},
};
static const suga_param ttl_optional[] = {{.name = "ttl", .type = SUGA_T_INT, .present_offset = -1}};
static const suga_param ttl_defaulted[] = {
    {.name = "ttl", .type = SUGA_T_INT, .has_default = true, .default_int = 7, .default_json = "7", .present_offset = -1},
};
static const suga_fusion put_optional = {
    .name = "put_optional", .params = ttl_optional, .param_count = 1, .steps = put_steps, .step_count = 1};
static const suga_fusion put_defaulted = {
    .name = "put_defaulted", .params = ttl_defaulted, .param_count = 1, .steps = put_steps, .step_count = 1};

/* ---- lookup ---- */

Test(fusion, find_by_name_and_length)
{
    const suga_fusion *f = NULL;
    cr_assert_eq(suga_table_find_fusion(&suga_main_table, "cache_put_get", 13, &f), SUGA_OK);
    cr_assert_str_eq(f->name, "cache_put_get");
    cr_assert_eq(suga_table_find_fusion(&suga_main_table, "cache_put_get_more", 13, &f), SUGA_OK);
    cr_assert_eq(suga_table_find_fusion(&suga_main_table, "cache_put_ge", 12, &f), SUGA_E_NOT_FOUND);
    cr_assert_eq(suga_table_find_fusion(&suga_main_table, "cache_put_get\0x", 15, &f), SUGA_E_NOT_FOUND);
    cr_assert_eq(suga_table_find_fusion(&suga_main_table, NULL, 0, &f), SUGA_E_INVALID_ARG);
}

/* ---- the real fusions ---- */

Test(fusion, cache_put_get_stores_then_reads_back)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(run_named(&ctx, "cache_put_get", "{\"key\": \"k\", \"value\": {\"a\": [1, 2]}}", &r), SUGA_OK, "%s",
                 ctx.error);
    assert_json(r, "{\"a\": [1, 2]}"); /* a fusion's result is its last step's */
    json_decref(r);
    json_t *v = cached("k");
    assert_json(v, "{\"a\": [1, 2]}");
    json_decref(v);
}

Test(fusion, null_is_a_value_for_an_any_input)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(run_named(&ctx, "cache_put_get", "{\"key\": \"k\", \"value\": null}", &r), SUGA_OK, "%s", ctx.error);
    cr_assert_null(r, "the last step returned JSON null");
    json_decref(r);
}

Test(fusion, log_with_timestamp_logs_the_timestamp_fields)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(run_named(&ctx, "log_with_timestamp", "{\"message\": \"fused\"}", &r), SUGA_OK, "%s", ctx.error);
    assert_json(r, "{\"written\": true}");
    json_t *all = records();
    cr_assert_eq(json_array_size(all), 1);
    json_t *rec = json_array_get(all, 0);
    cr_assert_str_eq(json_string_value(json_object_get(rec, "level")), "info");
    cr_assert_str_eq(json_string_value(json_object_get(rec, "message")), "fused");
    /* step 1's fields are step 0's result: the timestamp */
    cr_assert(json_is_integer(json_object_get(rec, "epoch_ms")));
    cr_assert(json_is_string(json_object_get(rec, "iso8601")));
    json_decref(all);
    json_decref(r);
}

/* ---- input validation ---- */

Test(fusion, missing_required_input)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(run_named(&ctx, "cache_put_get", "{\"key\": \"k\"}", &r), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "fusion cache_put_get: arg 'value' is required");
    cr_assert_eq(run_named(&ctx, "cache_put_get", NULL, &r), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "fusion cache_put_get: arg 'key' is required");
    cr_assert_eq(run_named(&ctx, "cache_put_get", "{\"key\": null, \"value\": 1}", &r), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "fusion cache_put_get: arg 'key' is required");
}

Test(fusion, unknown_input_with_hint)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(run_named(&ctx, "cache_put_get", "{\"kee\": \"k\", \"value\": 1}", &r), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "fusion cache_put_get: unknown arg 'kee' (did you mean 'key'?)");
    cr_assert_eq(run_named(&ctx, "cache_put_get", "{\"key\": \"k\", \"value\": 1, \"zzzzzz\": 0}", &r), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "fusion cache_put_get: unknown arg 'zzzzzz'");
}

Test(fusion, wrong_type_and_rule)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(run_named(&ctx, "cache_put_get", "{\"key\": 42, \"value\": 1}", &r), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "fusion cache_put_get: arg 'key' must be a string, got 42");
    cr_assert_eq(run_named(&ctx, "cache_put_get", "[1]", &r), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "fusion cache_put_get: args must be a JSON object, got an array");
    /* the fusion's own max_len catches a long key before any step runs */
    char input[400];
    snprintf(input, sizeof input, "{\"key\": \"%0257d\", \"value\": 1}", 0);
    cr_assert_eq(run_named(&ctx, "cache_put_get", input, &r), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "fusion cache_put_get: arg 'key' must be at most 256 bytes long, got 257 bytes");
    json_t *stats = NULL;
    call_ok("cache.stats", "{}", &stats);
    cr_assert_eq(json_integer_value(json_object_get(stats, "entries")), 0, "no step may run");
    json_decref(stats);
}

Test(fusion, optional_input_left_out_and_input_default)
{
    suga_ctx ctx;
    json_t *r = NULL;
    /* not given, no default: the arg is left out, so cache.set's own default (300) applies */
    cr_assert_eq(run_fusion(&ctx, &put_optional, NULL, &r), SUGA_OK, "%s", ctx.error);
    assert_json(r, "{\"stored\": true, \"ttl\": 300, \"evicted\": 0}");
    json_decref(r);
    cr_assert_eq(run_fusion(&ctx, &put_optional, "{\"ttl\": 5}", &r), SUGA_OK, "%s", ctx.error);
    assert_json(r, "{\"stored\": true, \"ttl\": 5, \"evicted\": 0}");
    json_decref(r);
    /* the fusion's default wins over the operation's */
    cr_assert_eq(run_fusion(&ctx, &put_defaulted, "{\"ttl\": null}", &r), SUGA_OK, "%s", ctx.error);
    assert_json(r, "{\"stored\": true, \"ttl\": 7, \"evicted\": 0}");
    json_decref(r);
    /* the step still validates its args with its own rules */
    cr_assert_eq(run_fusion(&ctx, &put_optional, "{\"ttl\": 100000}", &r), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "fusion put_optional: step 0 (cache.set): cache.set: arg 'ttl' must be an integer in "
                                "[0, 86400], got 100000");
}

/* ---- step failures ---- */

Test(fusion, failing_step_names_fusion_step_and_op)
{
    json_t *r = NULL;
    call_ok("cache.configure", "{\"max_bytes\": 1024}", &r);
    json_decref(r);
    char input[2100];
    snprintf(input, sizeof input, "{\"key\": \"k\", \"value\": \"%02000d\"}", 0);
    suga_ctx ctx;
    cr_assert_eq(run_named(&ctx, "cache_put_get", input, &r), SUGA_E_LIMIT);
    /* 1 byte of key + 2002 bytes of encoded value */
    cr_assert_str_eq(ctx.error, "fusion cache_put_get: step 0 (cache.set): cache.set: entry of 2003 bytes (key + "
                                "encoded value) exceeds max_bytes 1024");
    json_t *v = cached("k");
    cr_assert(json_is_null(v), "step 1 must not run");
    json_decref(v);
}

Test(fusion, step_path_through_objects)
{
    store("doc", "{\"a\": {\"b\": [1, {\"c\": true}]}}");
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(run_fusion(&ctx, &nav, NULL, &r), SUGA_OK, "%s", ctx.error);
    json_decref(r);
    json_t *v = cached("out");
    assert_json(v, "[1, {\"c\": true}]");
    json_decref(v);
}

Test(fusion, step_path_errors)
{
    suga_ctx ctx;
    json_t *r = NULL;
    store("doc", "{\"a\": {\"x\": 1}}");
    cr_assert_eq(run_fusion(&ctx, &nav, NULL, &r), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "fusion nav: step 1 (cache.set): cannot bind arg 'value' to $steps.0.result.a.b: "
                                "$steps.0.result.a has no field 'b'");
    store("doc", "{\"a\": \"text\"}");
    cr_assert_eq(run_fusion(&ctx, &nav, NULL, &r), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "fusion nav: step 1 (cache.set): cannot bind arg 'value' to $steps.0.result.a.b: "
                                "$steps.0.result.a is a string, not an object");
    store("doc", "{}");
    cr_assert_eq(run_fusion(&ctx, &nav, NULL, &r), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "fusion nav: step 1 (cache.set): cannot bind arg 'value' to $steps.0.result.a.b: "
                                "$steps.0.result has no field 'a'");
    call_ok("cache.delete", "{\"key\": \"doc\"}", &r);
    json_decref(r);
    cr_assert_eq(run_fusion(&ctx, &nav, NULL, &r), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "fusion nav: step 1 (cache.set): cannot bind arg 'value' to $steps.0.result.a.b: "
                                "$steps.0.result is null, not an object");
    json_t *v = cached("out");
    cr_assert(json_is_null(v), "nothing may be stored");
    json_decref(v);
}

Test(fusion, long_step_message_is_cut_at_the_end)
{
    /* a path long enough that the inner message cannot fit behind the prefix */
    char field[241], path[250], doc[300];
    memset(field, 'f', sizeof field - 1);
    field[sizeof field - 1] = '\0';
    snprintf(path, sizeof path, "%s.g", field);
    snprintf(doc, sizeof doc, "{\"%s\": 5}", field);
    store("doc", doc);
    suga_binding set[] = {nav_set[0], nav_set[1]};
    set[1].path = path;
    const suga_fusion_step steps[] = {nav_steps[0], {.op = SUGA_OP_CACHE_SET, .bindings = set, .binding_count = 2}};
    const suga_fusion f = {.name = "long", .steps = steps, .step_count = 2};
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(run_fusion(&ctx, &f, NULL, &r), SUGA_E_INVALID_ARG);
    cr_assert_eq(strlen(ctx.error), SUGA_ERROR_MAX - 1, "%s", ctx.error);
    cr_assert(!strncmp(ctx.error, "fusion long: step 1 (cache.set): cannot bind arg 'value' to $steps.0.result.fff", 79),
              "%s", ctx.error);
    cr_assert_str_eq(ctx.error + SUGA_ERROR_MAX - 4, "...");
}

Test(fusion, inconsistent_fusions_are_internal_errors)
{
    const suga_fusion_step bad_id[] = {{.op = 60000, .op_name = "nowhere.op"}};
    const suga_fusion f1 = {.name = "bad_id", .steps = bad_id, .step_count = 1};
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(run_fusion(&ctx, &f1, NULL, &r), SUGA_E_INTERNAL);
    char want[200];
    snprintf(want, sizeof want, "fusion bad_id: step 0 (nowhere.op): operation id 60000 is not in this table (%u operations)",
             (unsigned)suga_main_table.op_count);
    cr_assert_str_eq(ctx.error, want);
    const suga_binding forward[] = {{.param = "key", .kind = SUGA_BIND_STEP, .step = 0, .path = ""}};
    const suga_fusion_step self[] = {{.op = SUGA_OP_CACHE_GET, .bindings = forward, .binding_count = 1}};
    const suga_fusion f2 = {.name = "self", .steps = self, .step_count = 1};
    cr_assert_eq(run_fusion(&ctx, &f2, NULL, &r), SUGA_E_INTERNAL);
    cr_assert_str_eq(ctx.error, "fusion self: step 0 (cache.get): arg 'key' is bound to step 0, which does not run before "
                                "step 0");
    cr_assert_eq(suga_table_run_fusion(&suga_main_table, &ctx, NULL, NULL, &r), SUGA_E_INVALID_ARG);
}

/* ---- batches ---- */

#define MIXED                                                                                                          \
    "[{\"op\": \"cache.set\", \"args\": {\"key\": \"a\", \"value\": 1}},"                                               \
    " {\"op\": \"cache.get\", \"args\": {}},"                                                                         \
    " {\"op\": \"cache.set\", \"args\": {\"key\": \"b\", \"value\": 2}}]"

Test(batch, failed_item_does_not_hide_the_others)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(run_batch(&ctx, "{\"batch\": " MIXED "}", &r), SUGA_OK, "%s", ctx.error);
    assert_counts(r, 2, 1, 0);
    json_t *results = json_object_get(r, "results");
    assert_json(json_array_get(results, 0), "{\"ok\": true, \"result\": {\"stored\": true, \"ttl\": 300, \"evicted\": 0}}");
    cr_assert_str_eq(item_error(r, 1, "invalid_arg"), "cache.get: arg 'key' is required");
    cr_assert(json_is_true(json_object_get(json_array_get(results, 2), "ok")));
    cr_assert_str_eq(ctx.error, "", "an item's failure is not the batch's");
    json_decref(r);
    json_t *v = cached("b");
    assert_json(v, "2");
    json_decref(v);
}

Test(batch, stop_on_error_skips_the_rest)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(run_batch(&ctx, "{\"batch\": " MIXED ", \"stop_on_error\": true}", &r), SUGA_OK, "%s", ctx.error);
    assert_counts(r, 1, 1, 1);
    assert_json(json_array_get(json_object_get(r, "results"), 2), "{\"skipped\": true}");
    json_decref(r);
    json_t *v = cached("b");
    cr_assert(json_is_null(v), "a skipped item must not run");
    json_decref(v);
    /* false and null are the default */
    cr_assert_eq(run_batch(&ctx, "{\"batch\": " MIXED ", \"stop_on_error\": null}", &r), SUGA_OK);
    assert_counts(r, 2, 1, 0);
    json_decref(r);
}

Test(batch, null_result_and_fusion_items)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(run_batch(&ctx,
                           "{\"batch\": [{\"op\": \"cache.get\", \"args\": {\"key\": \"none\"}},"
                           " {\"fusion\": \"cache_put_get\", \"args\": {\"key\": \"f\", \"value\": \"v\"}},"
                           " {\"fusion\": \"cache_put_gte\", \"args\": {}},"
                           " {\"fusion\": \"cache_put_get\", \"args\": {\"key\": \"f\"}},"
                           " {\"fusion\": \"zzzzzzzzzz\"}]}",
                           &r),
                 SUGA_OK, "%s", ctx.error);
    assert_counts(r, 2, 3, 0);
    json_t *results = json_object_get(r, "results");
    assert_json(json_array_get(results, 0), "{\"ok\": true, \"result\": null}");
    assert_json(json_array_get(results, 1), "{\"ok\": true, \"result\": \"v\"}");
    cr_assert_str_eq(item_error(r, 2, "not_found"), "unknown fusion 'cache_put_gte' (did you mean 'cache_put_get'?)");
    cr_assert_str_eq(item_error(r, 3, "invalid_arg"), "fusion cache_put_get: arg 'value' is required");
    cr_assert_str_eq(item_error(r, 4, "not_found"), "unknown fusion 'zzzzzzzzzz'");
    json_decref(r);
}

Test(batch, unknown_operation_with_hint)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(run_batch(&ctx, "{\"batch\": [{\"op\": \"cache.gte\", \"args\": {\"key\": \"a\"}}, {\"op\": \"nope\"}]}", &r),
                 SUGA_OK);
    assert_counts(r, 0, 2, 0);
    cr_assert_str_eq(item_error(r, 0, "not_found"), "unknown operation 'cache.gte' (did you mean 'cache.get'?)");
    cr_assert_str_eq(item_error(r, 1, "not_found"), "unknown operation 'nope'");
    json_decref(r);
}

Test(batch, malformed_items_are_item_errors)
{
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(run_batch(&ctx,
                           "{\"batch\": [7, {\"op\": \"cache.get\", \"fusion\": \"cache_put_get\"}, {\"args\": {}},"
                           " {\"op\": 3}, {\"op\": \"cache.get\", \"arg\": {}}, {\"op\": \"cache.get\", \"args\": [1]},"
                           " {\"op\": \"cache.stats\"}]}",
                           &r),
                 SUGA_OK, "%s", ctx.error);
    assert_counts(r, 1, 6, 0);
    cr_assert_str_eq(item_error(r, 0, "invalid_arg"), "batch item 0 must be a JSON object, got a number");
    cr_assert_str_eq(item_error(r, 1, "invalid_arg"), "batch item 1: needs exactly one of 'op' and 'fusion'");
    cr_assert_str_eq(item_error(r, 2, "invalid_arg"), "batch item 2: needs exactly one of 'op' and 'fusion'");
    cr_assert_str_eq(item_error(r, 3, "invalid_arg"), "batch item 3: 'op' must be a string, got a number");
    cr_assert_str_eq(item_error(r, 4, "invalid_arg"), "batch item 4: unknown key 'arg' (did you mean 'args'?)");
    cr_assert_str_eq(item_error(r, 5, "invalid_arg"), "cache.get: args must be a JSON object, got an array");
    cr_assert(json_is_true(json_object_get(json_array_get(json_object_get(r, "results"), 6), "ok")));
    json_decref(r);
}

Test(batch, malformed_requests_are_refused_whole)
{
    static const struct {
        const char *request;
        suga_status status;
        const char *message;
    } cases[] = {
        {"[]", SUGA_E_INVALID_ARG, "batch request must be a JSON object, got an array"},
        {"{}", SUGA_E_INVALID_ARG, "batch request: 'batch' is required: an array of {\"op\" or \"fusion\", \"args\"}"},
        {"{\"batch\": {}}", SUGA_E_INVALID_ARG, "batch request: 'batch' must be an array, got an object"},
        {"{\"batch\": []}", SUGA_E_INVALID_ARG, "batch request: 'batch' is empty: give 1 to 100 items"},
        {"{\"batch\": [{\"op\": \"cache.stats\"}], \"stop_on_eror\": true}", SUGA_E_INVALID_ARG,
         "batch request: unknown key 'stop_on_eror' (did you mean 'stop_on_error'?)"},
        {"{\"batch\": [{\"op\": \"cache.stats\"}], \"extra\": 1}", SUGA_E_INVALID_ARG, "batch request: unknown key 'extra'"},
        {"{\"batch\": [{\"op\": \"cache.stats\"}], \"stop_on_error\": 1}", SUGA_E_INVALID_ARG,
         "batch request: 'stop_on_error' must be true or false, got a number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        suga_ctx ctx;
        json_t *r = NULL;
        cr_assert_eq(run_batch(&ctx, cases[i].request, &r), cases[i].status, "%s", cases[i].request);
        cr_assert_str_eq(ctx.error, cases[i].message);
    }
    suga_ctx ctx;
    json_t *r = (json_t *)1;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_table_run_batch(&suga_main_table, &ctx, NULL, &r), SUGA_E_INVALID_ARG);
    cr_assert_null(r);
    cr_assert_str_eq(ctx.error, "batch request must be a JSON object, got nothing");
}

/* A request of n cache.stats items. */
static json_t *stats_batch(size_t n)
{
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, json_pack("{s:s}", "op", "cache.stats"));
    return json_pack("{s:o}", "batch", items);
}

Test(batch, at_most_100_items)
{
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *request = stats_batch(SUGA_BATCH_MAX_ITEMS), *r = NULL;
    cr_assert_eq(suga_table_run_batch(&suga_main_table, &ctx, request, &r), SUGA_OK, "%s", ctx.error);
    assert_counts(r, 100, 0, 0);
    json_decref(r);
    json_decref(request);
    request = stats_batch(SUGA_BATCH_MAX_ITEMS + 1);
    cr_assert_eq(suga_table_run_batch(&suga_main_table, &ctx, request, &r), SUGA_E_LIMIT);
    cr_assert_null(r);
    cr_assert_str_eq(ctx.error, "batch request: 'batch' has 101 items, at most 100 are allowed in one request (split it)");
    json_decref(request);
}

Test(batch, items_keep_the_callers_ids)
{
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    ctx.request_id = "req-9";
    ctx.correlation_id = "corr-9";
    json_t *request = parse("{\"batch\": [{\"op\": \"logging.info\", \"args\": {\"message\": \"one\"}},"
                            " {\"fusion\": \"log_with_timestamp\", \"args\": {\"message\": \"two\"}}]}");
    json_t *r = NULL;
    cr_assert_eq(suga_table_run_batch(&suga_main_table, &ctx, request, &r), SUGA_OK, "%s", ctx.error);
    assert_counts(r, 2, 0, 0);
    json_t *all = records();
    cr_assert_eq(json_array_size(all), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *rec = json_array_get(all, i);
        cr_assert_str_eq(json_string_value(json_object_get(rec, "request_id")), "req-9");
        cr_assert_str_eq(json_string_value(json_object_get(rec, "correlation_id")), "corr-9");
    }
    json_decref(all);
    json_decref(r);
    json_decref(request);
}

Test(batch, messages_that_cut_a_character_stay_valid_json)
{
    /* args.c quotes a bad value cut near 57 bytes; the cut must not split "é" (2 bytes), or the
     * message could not be carried in the JSON result */
    char request[400];
    char value[100] = "a";
    for (int i = 0; i < 40; i++)
        strcat(value, "\xc3\xa9");
    snprintf(request, sizeof request, "{\"batch\": [{\"op\": \"cache.set\", \"args\": {\"key\": \"k\", \"value\": 1, "
                                      "\"ttl\": \"%s\"}}]}", value);
    suga_ctx ctx;
    json_t *r = NULL;
    cr_assert_eq(run_batch(&ctx, request, &r), SUGA_OK, "%s", ctx.error);
    const char *message = item_error(r, 0, "invalid_arg");
    cr_assert(!strncmp(message, "cache.set: arg 'ttl' must be an integer in [0, 86400], got \"a\xc3\xa9", 63), "%s",
              message);
    size_t len = strlen(message);
    cr_assert_str_eq(message + len - 5, "\xc3\xa9...", "%s", message);
    json_decref(r);
}

/* ---- out of memory ---- */

static long allocation_to_fail; /* counts down; the allocation that finds it at 0 fails */

static void *failing_malloc(size_t size)
{
    if (allocation_to_fail-- == 0)
        return NULL;
    return malloc(size);
}

/* One jansson allocation failing, each in turn: every run ends in SUGA_OK (the failure, when
 * not absorbed, shows in an item's entry) or SUGA_E_NOMEM, never in a crash, a result on
 * failure, or a leak (the sanitizer build checks that). */
Test(batch, allocation_failures_are_reported)
{
    json_t *request = parse("{\"batch\": [{\"fusion\": \"cache_put_get\", \"args\": {\"key\": \"k\", \"value\": [1, {\"a\": 2}]}},"
                            " {\"op\": \"cache.gte\"}, {\"fusion\": \"log_with_timestamp\", \"args\": {\"message\": \"m\"}}]}");
    bool reached = true;
    long n;
    for (n = 0; n < 5000 && reached; n++) {
        suga_ctx ctx;
        suga_ctx_init(&ctx);
        json_t *r = (json_t *)1;
        allocation_to_fail = n;
        json_set_alloc_funcs(failing_malloc, free);
        suga_status st = suga_table_run_batch(&suga_main_table, &ctx, request, &r);
        json_set_alloc_funcs(malloc, free);
        reached = allocation_to_fail < 0;
        cr_assert(st == SUGA_OK || st == SUGA_E_NOMEM, "allocation %ld: %s: %s", n, suga_status_name(st), ctx.error);
        if (st == SUGA_OK) {
            /* every item has its entry; whether the failure shows is not asserted, as callees may
             * absorb their own (the result cache does, by design) */
            json_int_t failed = json_integer_value(json_object_get(r, "failed"));
            cr_assert(failed >= 1, "item 1 names an unknown operation");
            assert_counts(r, 3 - failed, failed, 0);
            json_decref(r);
        } else {
            cr_assert_null(r);
            cr_assert(strstr(ctx.error, "out of memory"), "allocation %ld: %s", n, ctx.error);
        }
        suga_cache_reset();
    }
    cr_assert(!reached && n > 20, "the batch never completed (%ld runs)", n);
    json_decref(request);
}
