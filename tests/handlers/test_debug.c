/* test_debug.c: debug.* operations, read from the compiled table. */
#include "handler_test.h"
#include "suga_mask.h"
#include "suga_engine.h"

/* calls and errors of one operation in a debug.stats result (0, 0 when it is not listed) */
static void op_counts(const json_t *stats, const char *op, json_int_t *calls, json_int_t *errors)
{
    json_t *row = json_object_get(json_object_get(stats, "operations"), op);
    *calls = row ? int_field(row, "calls") : 0;
    *errors = row ? int_field(row, "errors") : 0;
}

Test(debug, health)
{
    json_t *h = call_ok("debug.health", NULL);
    cr_assert_str_eq(str_field(h, "status"), "ok");
    cr_assert_eq(int_field(h, "operations"), SUGA_OP__COUNT);
    cr_assert_eq(int_field(h, "operations"), (json_int_t)suga_main_table.op_count);
    cr_assert_eq(int_field(h, "modules"), (json_int_t)suga_main_table.module_count);
    cr_assert_eq(int_field(h, "fusions"), (json_int_t)suga_main_table.fusion_count);
    json_int_t up = int_field(h, "uptime_ms");
    cr_assert(up >= 0 && up < 24 * 3600 * 1000, "uptime_ms %lld for a test process", (long long)up);
    json_decref(h);
}

Test(debug, counters_grow_with_calls_and_errors)
{
    json_t *before = call_ok("debug.stats", NULL);
    json_int_t calls0, errors0;
    op_counts(before, "utility.timestamp", &calls0, &errors0);
    json_decref(before);

    json_decref(call_ok("utility.timestamp", NULL));
    json_decref(call_ok("utility.timestamp", NULL));
    suga_ctx ctx;
    call_fails(&ctx, "utility.json_parse", "{\"text\": \"{\"}", SUGA_E_INVALID_ARG); /* the handler fails */
    call_fails(&ctx, "cache.get", "{}", SUGA_E_INVALID_ARG);                     /* rejected before it */

    json_t *after = call_ok("debug.stats", NULL);
    json_int_t calls, errors;
    op_counts(after, "utility.timestamp", &calls, &errors);
    cr_assert_eq(calls, calls0 + 2);
    cr_assert_eq(errors, errors0);
    op_counts(after, "utility.json_parse", &calls, &errors);
    cr_assert_eq(calls, 1);
    cr_assert_eq(errors, 1);
    op_counts(after, "cache.get", &calls, &errors);
    cr_assert_eq(calls, 1, "a call rejected by argument checks is still a call");
    cr_assert_eq(errors, 1);
    /* totals are the sums over every operation, as they were while debug.stats ran (its own
     * call is counted once it has returned) */
    json_int_t total_calls = 0, total_errors = 0;
    for (uint32_t i = 0; i < suga_main_table.op_count; i++) {
        total_calls += (json_int_t)suga_main_table.stats[i].calls;
        total_errors += (json_int_t)suga_main_table.stats[i].errors;
    }
    json_t *totals = json_object_get(after, "totals");
    cr_assert_eq(int_field(totals, "calls"), total_calls - 1);
    cr_assert_eq(int_field(totals, "errors"), total_errors);
    cr_assert_geq(int_field(totals, "calls"), 4);
    json_decref(after);
}

Test(debug, only_called_filters)
{
    json_decref(call_ok("utility.correlation_id", NULL));
    json_t *called = call_ok("debug.stats", NULL);
    json_t *ops = json_object_get(called, "operations");
    const char *name;
    json_t *row;
    json_object_foreach(ops, name, row)
        cr_assert(int_field(row, "calls") + int_field(row, "errors") > 0, "%s listed but never called", name);
    cr_assert_not_null(json_object_get(ops, "utility.correlation_id"));
    cr_assert_null(json_object_get(ops, "singleton.stats"));
    json_decref(called);

    json_t *all = call_ok("debug.stats", "{\"only_called\": false}");
    cr_assert_eq(json_object_size(json_object_get(all, "operations")), SUGA_OP__COUNT);
    assert_json(json_incref(json_object_get(json_object_get(all, "operations"), "singleton.stats")),
                "{\"calls\": 0, \"errors\": 0}");
    json_decref(all);
}

Test(debug, process_usage)
{
    json_t *s = call_ok("debug.stats", NULL);
    json_t *p = json_object_get(s, "process");
    cr_assert_gt(int_field(p, "max_rss_kb"), 0);
    cr_assert_geq(int_field(p, "user_ms"), 0);
    cr_assert_geq(int_field(p, "system_ms"), 0);
    json_decref(s);
}

Test(debug, list_operations_of_one_interface)
{
    json_t *list = call_ok("debug.list_operations", "{\"interface\": \"cache\"}");
    cr_assert_eq(json_array_size(list), 7);
    size_t i;
    json_t *row;
    json_array_foreach(list, i, row) {
        cr_assert_str_eq(str_field(row, "interface"), "cache");
        json_t *module = json_object_get(row, "module");
        cr_assert_str_eq(str_field(module, "name"), "cache");
        cr_assert_str_eq(str_field(module, "load"), "eager");
        cr_assert_str_eq(str_field(module, "unload"), "never");
        cr_assert_null(json_object_get(row, "cache_ttl"), "no cache.* op has a result cache");
        cr_assert_eq(json_object_size(row), 13, "name, id, slot, interface, operation, summary, handler, module, "
                                                "fast_path, idempotent, essential, source, returns");
    }
    json_decref(list);
    list = call_ok("debug.list_operations", "{\"interface\": \"cache\"}");
    json_t *get = NULL;
    json_array_foreach(list, i, row)
        if (!strcmp(str_field(row, "name"), "cache.get"))
            get = row;
    cr_assert_not_null(get);
    cr_assert_eq(int_field(get, "id"), SUGA_OP_CACHE_GET);
    cr_assert(json_is_true(json_object_get(get, "fast_path")));
    cr_assert(json_is_true(json_object_get(get, "idempotent")));
    cr_assert_str_eq(str_field(get, "summary"), "The value stored under key, or null when it is absent or expired");
    json_decref(list);
}

Test(debug, list_operations_all)
{
    json_t *list = call_ok("debug.list_operations", NULL);
    cr_assert_eq(json_array_size(list), SUGA_OP__COUNT);
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *row = json_array_get(list, i);
        cr_assert_eq(int_field(row, "id"), (json_int_t)i);
        cr_assert_str_eq(str_field(row, "name"), suga_main_table.ops[i].name);
    }
    json_decref(list);
}

Test(debug, unknown_interface_hints)
{
    suga_ctx ctx;
    call_fails(&ctx, "debug.list_operations", "{\"interface\": \"cahce\"}", SUGA_E_NOT_FOUND);
    cr_assert_str_eq(ctx.error, "debug.list_operations: unknown interface 'cahce' (did you mean 'cache'?)");
    call_fails(&ctx, "debug.list_operations", "{\"interface\": \"loging\"}", SUGA_E_NOT_FOUND);
    cr_assert_str_eq(ctx.error, "debug.list_operations: unknown interface 'loging' (did you mean 'logging'?)");
    call_fails(&ctx, "debug.list_operations", "{\"interface\": \"zzzzzz\"}", SUGA_E_NOT_FOUND);
    cr_assert_str_eq(ctx.error, "debug.list_operations: unknown interface 'zzzzzz'");
    /* a prefix of a real interface is not that interface */
    call_fails(&ctx, "debug.list_operations", "{\"interface\": \"cach\"}", SUGA_E_NOT_FOUND);
}

Test(debug, typed_path)
{
    suga_args_debug_list_operations args = {.interface = {.ptr = "debug", .len = 5}, .has_interface = true};
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *r = NULL;
    cr_assert_eq(suga_call_id(&ctx, SUGA_OP_DEBUG_LIST_OPERATIONS, &args, &r), SUGA_OK, "%s", ctx.error);
    cr_assert_eq(json_array_size(r), 4, "health, stats, list_operations, diagnostics");
    json_decref(r);
}

Test(debug, diagnostics_lists_live_module_state)
{
    json_t *d = call_ok("debug.diagnostics", NULL);
    json_t *modules = json_object_get(d, "modules");
    cr_assert_eq(json_array_size(modules), suga_main_table.module_count);
    json_t *first = json_array_get(modules, 0);
    cr_expect_str_eq(str_field(first, "name"), suga_main_table.modules[0].name);
    cr_expect(json_is_true(json_object_get(first, "loaded")), "eager modules are always loaded");
    cr_expect_eq(int_field(first, "in_flight"), 0);
    json_t *memory = json_object_get(d, "memory");
    cr_expect_gt(int_field(memory, "rss_kb"), 0);
    cr_expect_geq(int_field(memory, "peak_rss_kb"), int_field(memory, "rss_kb"));
    json_t *breakers = json_object_get(d, "breakers");
    cr_assert_eq(json_array_size(breakers), suga_main_table.breaker_count);
    cr_assert_gt(suga_main_table.breaker_count, 0, "spec/limits.yaml declares breakers");
    cr_expect_str_eq(str_field(json_array_get(breakers, 0), "state"), "closed");
    cr_expect_eq(int_field(d, "cache_hits_without_load"), 0);
    cr_expect(json_is_null(json_object_get(d, "engine")), "no engine started in this test program");
    cr_expect(json_is_object(json_object_get(d, "metrics")));
    json_decref(d);
}

Test(debug, diagnostics_show_the_engine_and_its_guard_when_one_runs)
{
    suga_engine e;
    suga_engine_config config = {.guard_state_path = "", .metrics_out = stderr};
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_engine_init(&e, &suga_main_table, &config, &ctx), SUGA_OK, "%s", ctx.error);
    json_t *d = call_ok("debug.diagnostics", NULL);
    json_t *engine = json_object_get(d, "engine");
    cr_assert(json_is_object(engine));
    json_t *guard = json_object_get(engine, "guard");
    cr_expect_str_eq(str_field(guard, "level"), "ok");
    cr_expect_eq(int_field(json_object_get(guard, "budget"), "requests"), 1000000);
    json_decref(d);
    cr_assert_eq(suga_engine_shutdown(&e, &ctx), SUGA_OK, "%s", ctx.error);
}

/* Diagnostics quote paths and errors of every kind: they leave the process masked. */
Test(debug, diagnostics_are_masked)
{
    suga_engine e;
    suga_engine_config config = {.guard_state_path = "/nonexistent/guard?api_token=diag-0123456789.json",
                                 .metrics_out = stderr};
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    suga_secret_set("test", "known-diagnostic-value", 22);
    cr_assert_eq(suga_engine_init(&e, &suga_main_table, &config, &ctx), SUGA_OK, "%s", ctx.error);
    json_t *d = call_ok("debug.diagnostics", NULL);
    char *text = json_dumps(d, JSON_COMPACT);
    cr_expect_null(strstr(text, "diag-0123456789"), "%s", text);
    cr_expect(strstr(text, "api_token=***"), "%s", text);
    cr_expect_geq(int_field(json_object_get(d, "masking"), "known_values"), 1);
    free(text);
    json_decref(d);
    suga_engine_shutdown(&e, &ctx);
}
