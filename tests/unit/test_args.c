/* Argument decoding and validation, through the golden spec's generated table
 * (tests/golden/spec/, prefix golden_): every type and rule, accepted and rejected, with the
 * exact message. The handlers below record what they received. */
#include <criterion/criterion.h>
#include <string.h>

#include "suga_ops.h" /* the golden table's header */

static suga_args_sample_echo last_echo;
static int echo_calls;
static const suga_op *echo_op;         /* ctx->op as sample.echo saw it */
static bool ping_calls_echo;           /* sample.ping calls sample.echo by id first */
static const suga_op *ping_op_after;   /* ctx->op as sample.ping saw it after that call */

suga_status sample_echo(suga_ctx *ctx, const suga_args_sample_echo *args, json_t **result)
{
    echo_op = ctx->op;
    last_echo = *args;
    echo_calls++;
    *result = json_pack("{s:s%, s:I}", "text", args->text.ptr, args->text.len, "count", (json_int_t)args->count);
    return SUGA_OK;
}

suga_status sample_ping(suga_ctx *ctx, const suga_args_sample_ping *args, json_t **result)
{
    (void)args;
    if (ping_calls_echo) {
        suga_args_sample_echo echo = {.text = {"inner", 5}};
        json_t *inner = NULL;
        suga_status st = suga_table_call_id(&golden_main_table, ctx, SUGA_OP_SAMPLE_ECHO, &echo, &inner);
        json_decref(inner);
        if (st != SUGA_OK)
            return st;
        ping_op_after = ctx->op;
    }
    *result = json_string("pong");
    return SUGA_OK;
}

suga_status sample_cached(suga_ctx *ctx, const suga_args_sample_cached *args, json_t **result)
{
    /* fails after producing a partial result: the dispatcher must drop it */
    *result = json_string("partial");
    return suga_fail(ctx, SUGA_E_HANDLER, "%s: upstream refused key '%.*s'", ctx->op->name, (int)args->key.len,
                     args->key.ptr);
}

/* Calls sample.echo (or another op) with JSON text; returns the status, error in *ctx. */
static suga_status call(suga_ctx *ctx, const char *op, const char *args_json)
{
    suga_ctx_init(ctx);
    json_error_t err;
    json_t *args = args_json ? json_loads(args_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err) : NULL;
    cr_assert(!args_json || args, "bad test JSON: %s", err.text);
    json_t *result = NULL;
    suga_status st = suga_table_call_json(&golden_main_table, ctx, op, strlen(op), args, &result);
    if (st != SUGA_OK)
        cr_expect_null(result, "a failed call must not return a result");
    json_decref(result);
    /* strings in last_echo point into args: tests below only look at them before this point
     * through the handler's result, or at non-string fields */
    json_decref(args);
    return st;
}

static void expect_error(const char *args_json, suga_status status, const char *message)
{
    suga_ctx ctx;
    cr_expect_eq(call(&ctx, "sample.echo", args_json), status, "for %s", args_json);
    cr_expect_str_eq(ctx.error, message, "for %s", args_json);
}

static void expect_ok(const char *args_json)
{
    suga_ctx ctx;
    suga_status st = call(&ctx, "sample.echo", args_json);
    cr_expect_eq(st, SUGA_OK, "for %s: %s", args_json, ctx.error);
}

Test(args, string_rules)
{
    expect_error("{}", SUGA_E_INVALID_ARG, "sample.echo: arg 'text' is required");
    expect_error("{\"text\": null}", SUGA_E_INVALID_ARG, "sample.echo: arg 'text' is required");
    expect_error("{\"text\": 5}", SUGA_E_INVALID_ARG, "sample.echo: arg 'text' must be a string, got 5");
    expect_error("{\"text\": \"123456789\"}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'text' must be at most 8 bytes long, got 9 bytes");
    expect_ok("{\"text\": \"12345678\"}");
    expect_error("{\"text\": \"a\", \"code\": \"abc\"}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'code' must match pattern '^[A-Z]{3}[0-9]*$', got \"abc\"");
    expect_error("{\"text\": \"a\", \"code\": \"AB\\u0000C\"}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'code' must not contain NUL characters");
    expect_ok("{\"text\": \"a\", \"code\": \"XYZ42\"}");
    cr_expect_eq(last_echo.code.len, 5);
}

Test(args, string_default)
{
    expect_ok("{\"text\": \"a\"}");
    cr_expect_str_eq(last_echo.code.ptr, "ABC");
    cr_expect_eq(last_echo.code.len, 3);
}

Test(args, int_rules)
{
    expect_ok("{\"text\": \"a\", \"count\": -5}");
    cr_expect_eq(last_echo.count, -5);
    expect_ok("{\"text\": \"a\", \"count\": 100}");
    cr_expect_eq(last_echo.count, 100);
    expect_error("{\"text\": \"a\", \"count\": 101}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'count' must be an integer in [-5, 100], got 101");
    expect_error("{\"text\": \"a\", \"count\": -6}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'count' must be an integer in [-5, 100], got -6");
    expect_error("{\"text\": \"a\", \"count\": 1.5}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'count' must be an integer in [-5, 100], got 1.5");
    expect_error("{\"text\": \"a\", \"count\": \"x\"}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'count' must be an integer in [-5, 100], got \"x\"");
    expect_ok("{\"text\": \"a\"}");
    cr_expect_eq(last_echo.count, 7, "default");
}

Test(args, int_presence_flag_and_extremes)
{
    expect_ok("{\"text\": \"a\"}");
    cr_expect_not(last_echo.has_big);
    expect_ok("{\"text\": \"a\", \"big\": -9223372036854775808}");
    cr_expect(last_echo.has_big);
    cr_expect_eq(last_echo.big, INT64_MIN);
    expect_ok("{\"text\": \"a\", \"big\": 9223372036854775807}");
    cr_expect_eq(last_echo.big, INT64_MAX);
}

Test(args, number_rules)
{
    expect_ok("{\"text\": \"a\", \"ratio\": 1}");
    cr_expect(last_echo.has_ratio);
    cr_expect_float_eq(last_echo.ratio, 1.0, 1e-12);
    expect_ok("{\"text\": \"a\", \"ratio\": 2.5}");
    expect_error("{\"text\": \"a\", \"ratio\": 2.6}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'ratio' must be a number in [0.5, 2.5], got 2.6");
    expect_error("{\"text\": \"a\", \"ratio\": 0.25}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'ratio' must be a number in [0.5, 2.5], got 0.25");
    expect_error("{\"text\": \"a\", \"ratio\": \"1\"}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'ratio' must be a number in [0.5, 2.5], got \"1\"");
    expect_ok("{\"text\": \"a\"}");
    cr_expect_not(last_echo.has_ratio);
}

Test(args, bool_rules)
{
    expect_ok("{\"text\": \"a\"}");
    cr_expect(last_echo.flag, "default true");
    expect_ok("{\"text\": \"a\", \"flag\": false}");
    cr_expect_not(last_echo.flag);
    expect_error("{\"text\": \"a\", \"flag\": 1}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'flag' must be true or false, got 1");
    expect_error("{\"text\": \"a\", \"flag\": \"true\"}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'flag' must be true or false, got \"true\"");
}

Test(args, enum_rules)
{
    expect_ok("{\"text\": \"a\"}");
    cr_expect_eq(last_echo.mode, SUGA_SAMPLE_ECHO_MODE_SAFE, "default");
    expect_ok("{\"text\": \"a\", \"mode\": \"off\"}");
    cr_expect_eq(last_echo.mode, SUGA_SAMPLE_ECHO_MODE_OFF);
    expect_error("{\"text\": \"a\", \"mode\": \"OFF\"}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'mode' must be one of fast, safe, off, got \"OFF\"");
    expect_error("{\"text\": \"a\", \"mode\": 0}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'mode' must be one of fast, safe, off, got 0");
}

Test(args, object_array_any)
{
    expect_ok("{\"text\": \"a\"}");
    cr_assert(json_is_object(last_echo.options), "object default");
    cr_expect_eq(json_integer_value(json_object_get(last_echo.options, "retries")), 2);
    cr_expect_not(last_echo.has_items);
    cr_expect_not(last_echo.has_anything);
    expect_error("{\"text\": \"a\", \"options\": []}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'options' must be an object, got []");
    expect_ok("{\"text\": \"a\", \"items\": [1, 2, 3]}");
    cr_expect(last_echo.has_items);
    expect_error("{\"text\": \"a\", \"items\": [1, 2, 3, 4]}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'items' must have at most 3 items, got 4");
    expect_error("{\"text\": \"a\", \"items\": {}}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'items' must be an array, got {}");
    expect_ok("{\"text\": \"a\", \"anything\": null}");
    cr_expect(last_echo.has_anything, "null is a value for 'any'");
    expect_ok("{\"text\": \"a\", \"anything\": [\"x\", {\"y\": 1}]}");
    cr_expect(last_echo.has_anything);
}

Test(args, unknown_and_malformed_arguments)
{
    expect_error("{\"text\": \"a\", \"txt\": 1}", SUGA_E_INVALID_ARG,
                 "sample.echo: unknown arg 'txt' (did you mean 'text'?)");
    expect_error("{\"text\": \"a\", \"zzzzzz\": 1}", SUGA_E_INVALID_ARG, "sample.echo: unknown arg 'zzzzzz'");
    expect_error("[1]", SUGA_E_INVALID_ARG, "sample.echo: args must be a JSON object, got an array");
    expect_error("\"x\"", SUGA_E_INVALID_ARG, "sample.echo: args must be a JSON object, got a string");
    suga_ctx ctx;
    cr_expect_eq(call(&ctx, "sample.echo", NULL), SUGA_E_INVALID_ARG, "no args = {}");
    cr_expect_str_eq(ctx.error, "sample.echo: arg 'text' is required");
    cr_expect_eq(call(&ctx, "sample.ping", NULL), SUGA_OK);
    cr_expect_eq(call(&ctx, "sample.ping", "{}"), SUGA_OK);
    cr_expect_eq(call(&ctx, "sample.ping", "{\"x\": 1}"), SUGA_E_INVALID_ARG);
    cr_expect_str_eq(ctx.error, "sample.ping: unknown arg 'x'");
}

Test(args, rejected_before_the_handler)
{
    echo_calls = 0;
    expect_error("{\"text\": \"a\", \"count\": 1000}", SUGA_E_INVALID_ARG,
                 "sample.echo: arg 'count' must be an integer in [-5, 100], got 1000");
    cr_expect_eq(echo_calls, 0, "the handler must not run on invalid arguments");
}

Test(dispatch, unknown_operation)
{
    suga_ctx ctx;
    cr_expect_eq(call(&ctx, "sample.ech", "{}"), SUGA_E_NOT_FOUND);
    cr_expect_str_eq(ctx.error, "unknown operation 'sample.ech' (did you mean 'sample.echo'?)");
    cr_expect_eq(call(&ctx, "nothing.like.it", "{}"), SUGA_E_NOT_FOUND);
    cr_expect_str_eq(ctx.error, "unknown operation 'nothing.like.it'");
    cr_expect_eq(call(&ctx, "", "{}"), SUGA_E_NOT_FOUND);
    const suga_op *op;
    cr_expect_eq(suga_table_lookup(&golden_main_table, "sample.echo", 10, &op), SUGA_E_NOT_FOUND, "prefix of a name");
    cr_expect_eq(suga_table_lookup(&golden_main_table, "sample.echoo", 12, &op), SUGA_E_NOT_FOUND);
    cr_expect_eq(suga_table_lookup(&golden_main_table, "sample.echo", 11, &op), SUGA_OK);
    cr_expect_eq(op->id, SUGA_OP_SAMPLE_ECHO);
}

Test(dispatch, handler_failure_drops_partial_result)
{
    suga_ctx ctx;
    cr_expect_eq(call(&ctx, "sample.cached", "{\"key\": \"k1\"}"), SUGA_E_HANDLER);
    cr_expect_str_eq(ctx.error, "sample.cached: upstream refused key 'k1'");
    cr_expect_geq(golden_main_table.stats[SUGA_OP_SAMPLE_CACHED].errors, 1);
}

Test(dispatch, call_by_id_and_fast_path)
{
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *result = NULL;
    suga_args_sample_echo args = {.text = {"typed", 5}, .count = 42, .mode = SUGA_SAMPLE_ECHO_MODE_FAST};
    uint64_t before = golden_main_table.stats[SUGA_OP_SAMPLE_ECHO].calls;
    cr_assert_eq(suga_table_call_id(&golden_main_table, &ctx, SUGA_OP_SAMPLE_ECHO, &args, &result), SUGA_OK);
    cr_expect_eq(json_integer_value(json_object_get(result, "count")), 42);
    cr_expect_eq(golden_main_table.stats[SUGA_OP_SAMPLE_ECHO].calls, before + 1, "call by id is counted");
    json_decref(result);
    uint64_t calls = golden_main_table.stats[SUGA_OP_SAMPLE_ECHO].calls;
    cr_assert_eq(suga_fast_sample_echo(&ctx, &args, &result), SUGA_OK);
    cr_expect_str_eq(json_string_value(json_object_get(result, "text")), "typed");
    cr_expect_eq(golden_main_table.stats[SUGA_OP_SAMPLE_ECHO].calls, calls,
                 "the fast path is a direct call: no lookup, no counters, no module check");
    json_decref(result);
    cr_expect_eq(suga_table_call_id(&golden_main_table, &ctx, SUGA_OP__COUNT, &args, &result), SUGA_E_NOT_FOUND);
    cr_expect_str_eq(ctx.error, "no operation with id 5 (this table has 5)");
}

Test(dispatch, handlers_are_told_their_operation)
{
    const suga_op *echo = &golden_main_table.ops[SUGA_OP_SAMPLE_ECHO];
    suga_ctx ctx;
    echo_op = NULL;
    cr_assert_eq(call(&ctx, "sample.echo", "{\"text\": \"a\"}"), SUGA_OK, "%s", ctx.error);
    cr_expect_eq(echo_op, echo, "by name");
    cr_expect_null(ctx.op, "no operation once the handler returned");

    suga_args_sample_echo args = {.text = {"typed", 5}};
    json_t *result = NULL;
    echo_op = NULL;
    cr_assert_eq(suga_table_call_id(&golden_main_table, &ctx, SUGA_OP_SAMPLE_ECHO, &args, &result), SUGA_OK);
    json_decref(result);
    cr_expect_eq(echo_op, echo, "by id");
    cr_expect_null(ctx.op);
    echo_op = NULL;
    cr_assert_eq(suga_fast_sample_echo(&ctx, &args, &result), SUGA_OK);
    json_decref(result);
    cr_expect_eq(echo_op, echo, "fast path");
    cr_expect_null(ctx.op);

    /* a handler calling another operation has its own back when that returns */
    ping_calls_echo = true;
    echo_op = ping_op_after = NULL;
    suga_status st = call(&ctx, "sample.ping", NULL);
    ping_calls_echo = false;
    cr_assert_eq(st, SUGA_OK, "%s", ctx.error);
    cr_expect_eq(echo_op, echo, "the inner call");
    cr_expect_eq(ping_op_after, &golden_main_table.ops[SUGA_OP_SAMPLE_PING], "restored after the inner call");
    cr_expect_null(ctx.op);
}

Test(table, descriptors_carry_the_spec)
{
    const suga_op *op = &golden_main_table.ops[SUGA_OP_SAMPLE_CACHED];
    cr_expect(op->has_cache);
    cr_expect_eq(op->cache_ttl, 30);
    cr_expect_eq(op->retry_attempts, 3);
    cr_expect_eq(op->retry_backoff_ms, 100);
    cr_expect_str_eq(op->breaker, "upstream");
    cr_expect_eq(op->timeout_ms, 2500);
    cr_expect(op->idempotent);
    const suga_op *fetch = &golden_main_table.ops[SUGA_OP_REMOTE_FETCH];
    const suga_module *m = &golden_main_table.modules[fetch->module];
    cr_expect_str_eq(m->name, "remote_client");
    cr_expect_eq(m->load, SUGA_LOAD_LAZY);
    cr_expect_eq(m->unload, SUGA_UNLOAD_IDLE);
    cr_expect_eq(m->idle_seconds, 120);
    cr_expect_eq(golden_main_table.limits->block_percent, 99);
    /* limits.metrics.names, in the spec's order, indexed by the generated ids */
    cr_expect_eq(golden_main_table.limits->metric_name_count, SUGA_METRIC__COUNT);
    cr_expect_eq(SUGA_METRIC__COUNT, 8);
    cr_expect_str_eq(golden_main_table.limits->metric_names[SUGA_METRIC_ERRORS], "errors");
    cr_expect_eq(SUGA_METRIC_ERRORS, 0);
    cr_expect_str_eq(golden_main_table.limits->metric_names[SUGA_METRIC_UPSTREAM_CALLS_FAILED], "upstream.calls-failed");
    cr_assert_eq(golden_main_table.fusion_count, 1);
    const suga_fusion *f = &golden_main_table.fusions[0];
    cr_assert_eq(f->step_count, 2);
    cr_expect_eq(f->steps[1].op, SUGA_OP_SAMPLE_ECHO);
    const suga_binding *b = f->steps[1].bindings;
    cr_assert_eq(f->steps[1].binding_count, 5);
    cr_expect_eq(b[0].kind, SUGA_BIND_LITERAL);
    cr_expect_str_eq(b[0].literal_json, "\"$short\"", "'$$' escapes a literal '$'");
    cr_expect_eq(b[1].kind, SUGA_BIND_STEP);
    cr_expect_eq(b[1].step, 0);
    cr_expect_str_eq(b[1].path, "body");
    cr_expect_eq(b[4].kind, SUGA_BIND_INPUT);
    cr_expect_str_eq(b[4].path, "mode");
}

Test(table, describe_and_schema)
{
    json_t *d = NULL;
    cr_assert_eq(suga_describe_op(&golden_main_table, &golden_main_table.ops[SUGA_OP_SAMPLE_ECHO], true, &d), SUGA_OK);
    cr_expect_str_eq(json_string_value(json_object_get(d, "name")), "sample.echo");
    json_t *params = json_object_get(d, "params");
    cr_assert_eq(json_array_size(params), 10);
    json_t *count = json_array_get(params, 2);
    cr_expect_str_eq(json_string_value(json_object_get(count, "type")), "int");
    cr_expect_eq(json_integer_value(json_object_get(count, "min")), -5);
    cr_expect_eq(json_integer_value(json_object_get(count, "default")), 7);
    json_decref(d);
    cr_assert_eq(suga_describe_table(&golden_main_table, SUGA_DESCRIBE_FUSIONS, &d), SUGA_OK);
    cr_expect_eq(json_array_size(d), 1);
    json_decref(d);
    cr_expect_eq(suga_table_release(&golden_main_table), SUGA_OK);
}

Test(args, long_values_are_cut_at_a_character_boundary)
{
    /* a quote, an x, then two-byte characters: a 57-byte cut would fall inside one */
    char args[256] = "{\"text\": \"a\", \"count\": \"x";
    for (int i = 0; i < 40; i++)
        strcat(args, "\xc3\xa9");
    strcat(args, "\"}");
    suga_ctx ctx;
    cr_assert_eq(call(&ctx, "sample.echo", args), SUGA_E_INVALID_ARG);
    json_t *as_json = json_string(ctx.error); /* NULL when the message is not valid UTF-8 */
    cr_expect_not_null(as_json, "message is valid UTF-8: %s", ctx.error);
    size_t n = strlen(ctx.error);
    cr_expect(n > 3 && !strcmp(ctx.error + n - 3, "..."), "%s", ctx.error);
    json_decref(as_json);
}
