/* suga-inspect and suga, run as a user would run them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "suga_table.h"

static proc_result run(const char *tool_env, const char *const *args, const char *input)
{
    const char *argv[16] = {getenv(tool_env)};
    cr_assert(argv[0], "%s must be set by meson", tool_env);
    int n = 1;
    for (; args[n - 1]; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    proc_result r;
    cr_assert(proc_run(argv, NULL, input, &r) == 0);
    return r;
}

#define INSPECT(...) run("SUGA_INSPECT", (const char *const[]){__VA_ARGS__, NULL}, NULL)
#define SUGA(...) run("SUGA_CLI", (const char *const[]){__VA_ARGS__, NULL}, NULL)

Test(inspect, help_and_bad_usage)
{
    proc_result r = INSPECT("--help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "usage: suga-inspect"));
    proc_free(&r);
    r = INSPECT("frobnicate");
    cr_expect_eq(r.status, 2);
    cr_expect_str_eq(r.err, "suga-inspect: error: unknown command 'frobnicate' (try --help)\n");
    proc_free(&r);
}

Test(inspect, list_text_and_json)
{
    proc_result r = INSPECT("list");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "cache.get"));
    char summary[96];
    snprintf(summary, sizeof summary, "%u operations in %u modules, %u fusions\n", suga_main_table.op_count,
             suga_main_table.module_count, suga_main_table.fusion_count);
    cr_expect(strstr(r.out, summary), "%s", r.out);
    proc_free(&r);
    r = INSPECT("--json", "list");
    cr_assert_eq(r.status, 0);
    json_t *doc = json_loads(r.out, 0, NULL);
    cr_assert(json_is_array(doc), "--json list is an array");
    cr_expect_eq(json_array_size(doc), suga_main_table.op_count);
    json_t *first = json_array_get(doc, 0);
    cr_expect_str_eq(json_string_value(json_object_get(first, "name")), suga_main_table.ops[0].name);
    cr_expect_eq(json_integer_value(json_object_get(first, "slot")), suga_main_table.ops[0].slot);
    cr_expect(json_is_object(json_object_get(first, "module")));
    json_decref(doc);
    proc_free(&r);
}

Test(inspect, show_one_operation)
{
    proc_result r = INSPECT("show", "cache.set");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "handler     suga_handle_cache_set"), "%s", r.out);
    cr_expect(strstr(r.out, "ttl              int     optional, default 300, min 0, max 86400"), "%s", r.out);
    proc_free(&r);
    r = INSPECT("--json", "show", "cache.set");
    json_t *doc = json_loads(r.out, 0, NULL);
    cr_assert(doc, "%s", r.out);
    cr_expect_eq(json_array_size(json_object_get(doc, "params")), 3);
    json_decref(doc);
    proc_free(&r);
    r = INSPECT("show", "cache.gte");
    cr_expect_eq(r.status, 1);
    cr_expect_str_eq(r.err, "suga-inspect: error: unknown operation 'cache.gte' (did you mean 'cache.get'?)\n");
    proc_free(&r);
}

Test(inspect, fusions_modules_limits_hash)
{
    proc_result r = INSPECT("--json", "fusions");
    json_t *doc = json_loads(r.out, 0, NULL);
    cr_assert(json_is_array(doc));
    cr_expect_eq(json_array_size(doc), suga_main_table.fusion_count);
    json_decref(doc);
    proc_free(&r);
    r = INSPECT("fusions");
    cr_expect(strstr(r.out, "step 0: cache.set"), "%s", r.out);
    proc_free(&r);
    r = INSPECT("modules");
    cr_expect(strstr(r.out, "cache"));
    proc_free(&r);
    r = INSPECT("--json", "limits");
    doc = json_loads(r.out, 0, NULL);
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(doc, "free_tier"), "requests_per_month")), 1000000);
    json_decref(doc);
    proc_free(&r);
    r = INSPECT("hash");
    cr_expect(strstr(r.out, "cmph BDZ_PH"), "%s", r.out);
    proc_free(&r);
}

Test(inspect, verify)
{
    proc_result r = INSPECT("--verify", "--unknown", "5000");
    cr_expect_eq(r.status, 0, "%s", r.err);
    char expected[96];
    snprintf(expected, sizeof expected, "%u operations verified; 5000 of 5000 unknown names rejected\n",
             suga_main_table.op_count);
    cr_expect_str_eq(r.out, expected);
    proc_free(&r);
}

Test(cli, call_prints_the_result)
{
    proc_result r = SUGA("call", "utility.json_stringify", "{\"value\": {\"b\": 1, \"a\": [true]}}");
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "{\"text\":\"{\\\"a\\\":[true],\\\"b\\\":1}\"}\n");
    proc_free(&r);
    r = run("SUGA_CLI", (const char *const[]){"call", "utility.truncate", "-", NULL},
            "{\"text\": \"hello world\", \"max_bytes\": 5}");
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "\"hello\""), "%s", r.out);
    proc_free(&r);
}

Test(cli, errors_exit_1_with_the_message)
{
    proc_result r = SUGA("call", "cache.set", "{\"key\": \"k\", \"value\": 1, \"ttl\": \"x\"}");
    cr_expect_eq(r.status, 1);
    cr_expect_str_eq(r.err, "suga: error: cache.set: arg 'ttl' must be an integer in [0, 86400], got \"x\"\n");
    cr_expect_str_eq(r.out, "");
    proc_free(&r);
    r = SUGA("call", "cache.set", "{\"key\": ");
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "suga: error: arguments are not valid JSON (line 1, column"), "%s", r.err);
    proc_free(&r);
    r = SUGA("call", "no.such_op");
    cr_expect_eq(r.status, 1);
    cr_expect_str_eq(r.err, "suga: error: unknown operation 'no.such_op'\n");
    proc_free(&r);
    r = SUGA("--help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "usage: suga"));
    proc_free(&r);
    r = SUGA("bogus");
    cr_expect_eq(r.status, 2);
    proc_free(&r);
}

/* What the CLI prints leaves the process: a secret it knows never shows, in results or errors. */
Test(cli, output_is_masked)
{
    setenv("AWS_SECRET_ACCESS_KEY", "cli-secret-0123456789", 1);
    proc_result r = SUGA("call", "utility.truncate", "{\"text\": \"key cli-secret-0123456789 here\", \"max_bytes\": 100}");
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "{\"text\":\"key *** here\",\"truncated\":false}\n");
    proc_free(&r);
    r = SUGA("call", "config.get", "{\"name\": \"AWS_SECRET_ACCESS_KEY\"}");
    cr_expect_str_eq(r.out, "{\"name\":\"AWS_SECRET_ACCESS_KEY\",\"hidden\":true,\"set\":true,\"source\":\"environment\"}\n");
    proc_free(&r);
    r = SUGA("call", "cache.set", "{\"key\": \"k\", \"value\": 1, \"ttl\": \"cli-secret-0123456789\"}");
    cr_expect_eq(r.status, 1);
    cr_expect_str_eq(r.err, "suga: error: cache.set: arg 'ttl' must be an integer in [0, 86400], got \"***\"\n");
    proc_free(&r);
}

Test(cli, run_goes_through_the_engine_one_invocation_per_request)
{
    setenv("LOG_LEVEL", "info", 1);
    proc_result r = SUGA("run", "{\"fusion\": \"cache_put_get\", \"args\": {\"key\": \"k\", \"value\": 7}}",
                         "{\"batch\": [{\"op\": \"cache.get\", \"args\": {\"key\": \"k\"}}, {\"op\": \"no.such\"}]}");
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(r.out,
                     "7\n"
                     "{\"results\":[{\"ok\":true,\"result\":7},{\"ok\":false,\"error\":{\"status\":\"not_found\","
                     "\"message\":\"unknown operation 'no.such'\"}}],\"succeeded\":1,\"failed\":1,\"skipped\":0}\n");
    /* one log record per request, naming what ran */
    cr_expect(strstr(r.err, "\"operation\":\"cache_put_get\""), "%s", r.err);
    cr_expect(strstr(r.err, "\"operation\":\"batch\""), "%s", r.err);
    proc_free(&r);
    r = SUGA("run", "{\"op\": \"debug.healt\"}");
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "suga: error: request 1: unknown operation 'debug.healt' (did you mean 'debug.health'?) "
                            "(not_found, HTTP 404)\n"),
              "%s", r.err);
    proc_free(&r);
    r = SUGA("--metrics", "run", "{\"op\": \"utility.timestamp\"}");
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.err, "{\"_aws\":"), "EMF line on stderr with --metrics: %s", r.err);
    proc_free(&r);
    unsetenv("LOG_LEVEL");
}

Test(inspect, modules_text)
{
    proc_result r = INSPECT("modules");
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "DEPENDS_ON"), "%s", r.out);
    const char *row = strstr(r.out, "\nlogging ");
    const char *end = row ? strchr(row + 1, '\n') : NULL;
    cr_expect(end && end - row > 8 && !strncmp(end - 8, " utility", 8), "logging depends on utility: %s", r.out);
    proc_free(&r);
}

/* suga-inspect inspects; running requests is suga's (`suga --live run`) */
Test(inspect, runs_nothing)
{
    proc_result r = INSPECT("--live", "modules");
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "usage: suga-inspect"), "%s", r.err);
    proc_free(&r);
    r = INSPECT("--run", "{\"op\": \"utility.timestamp\"}", "modules");
    cr_expect_eq(r.status, 2);
    proc_free(&r);
}

/* The hooks listed are the compiled table's, in run order, with their error types. */
Test(inspect, hooks_text_and_json)
{
    const suga_table *t = &suga_main_table;
    cr_assert_gt(t->hook_counts[SUGA_HOOK_INIT], 0, "spec/lifecycle.yaml declares init hooks");
    proc_result r = INSPECT("hooks");
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strncmp(r.out, "PHASE", 5) == 0, "%s", r.out);
    const char *at = r.out;
    for (int phase = 0; phase < SUGA_HOOK__COUNT; phase++)
        for (uint32_t i = 0; i < t->hook_counts[phase]; i++) {
            const char *name = t->ops[t->hooks[phase][i].op].name;
            const char *found = strstr(at, name);
            cr_expect(found, "%s after the previous hook in: %s", name, r.out);
            at = found ? found : at;
        }
    cr_expect(strstr(r.out, "Runtime.MissingModule"), "%s", r.out);
    proc_free(&r);
    r = INSPECT("--json", "hooks");
    cr_expect_eq(r.status, 0, "%s", r.err);
    json_t *doc = json_loads(r.out, 0, NULL);
    cr_assert(json_is_object(doc), "%s", r.out);
    for (int phase = 0; phase < SUGA_HOOK__COUNT; phase++) {
        json_t *list = json_object_get(doc, suga_hook_phase_names[phase]);
        cr_assert(json_is_array(list), "%s in %s", suga_hook_phase_names[phase], r.out);
        cr_expect_eq(json_array_size(list), t->hook_counts[phase]);
        for (uint32_t i = 0; i < t->hook_counts[phase] && i < json_array_size(list); i++)
            cr_expect_str_eq(json_string_value(json_object_get(json_array_get(list, i), "op")),
                             t->ops[t->hooks[phase][i].op].name);
    }
    json_decref(doc);
    proc_free(&r);
}

Test(inspect, routes_text_and_json)
{
    proc_result r = INSPECT("routes");
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "GET     /health                          debug.health"), "%s", r.out);
    cr_expect(strstr(r.out, "alexa.smart_home         alexa.error_response"), "the on_error column: %s", r.out);
    char summary[96];
    snprintf(summary, sizeof summary, "%u HTTP routes, %u Alexa routes, %u custom skill routes\n",
             suga_main_table.http_route_count, suga_main_table.alexa_route_count, suga_main_table.skill_route_count);
    cr_expect(strstr(r.out, summary), "%s", r.out);
    proc_free(&r);
    r = INSPECT("--json", "routes");
    cr_assert_eq(r.status, 0, "%s", r.err);
    json_t *doc = json_loads(r.out, 0, NULL);
    cr_assert(json_is_object(doc), "%s", r.out);
    json_t *http = json_object_get(doc, "http");
    cr_expect_eq(json_array_size(http), suga_main_table.http_route_count);
    cr_expect_eq(json_array_size(json_object_get(doc, "alexa")), suga_main_table.alexa_route_count);
    cr_expect_eq(json_array_size(json_object_get(doc, "alexa_skill")), suga_main_table.skill_route_count);
    cr_expect_gt(suga_main_table.skill_route_count, 0, "spec/routes.yaml routes custom skill requests");
    bool health = false;
    for (size_t i = 0; i < json_array_size(http); i++) {
        json_t *route = json_array_get(http, i);
        if (!strcmp(json_string_value(json_object_get(route, "path")), "/health")) {
            health = true;
            cr_expect_str_eq(json_string_value(json_object_get(route, "method")), "GET");
            cr_expect_str_eq(json_string_value(json_object_get(route, "op")), "debug.health");
        }
    }
    cr_expect(health, "GET /health is routed: %s", r.out);
    json_decref(doc);
    proc_free(&r);
    r = INSPECT("routes", "extra");
    cr_expect_eq(r.status, 2);
    proc_free(&r);
    r = INSPECT("--help");
    cr_expect(strstr(r.out, "  routes "), "%s", r.out);
    proc_free(&r);
}
