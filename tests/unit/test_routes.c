/* Event routing (runtime/routes.c, suga_routes.h) through the golden spec's generated table
 * (tests/golden/spec/remote.yaml declares the routes, in an order the generator must sort):
 * every match rule, the precedence of Alexa wildcards, the 405 answer, and bad arguments. And
 * the same spec's lifecycle hooks, run by the engine (suga_engine_run_hooks). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suga_engine.h"
#include "suga_log.h"
#include "suga_ops.h" /* the golden table's header */
#include "suga_routes.h"

/* The golden table's eager handlers (remote.fetch is lazy, not linked); the routes never call
 * them, the lifecycle hooks call sample.ping. */
suga_status sample_echo(suga_ctx *ctx, const suga_args_sample_echo *args, json_t **result)
{
    (void)ctx, (void)args, (void)result;
    return SUGA_E_INTERNAL;
}

static int ping_calls;
static suga_status ping_answer; /* what sample.ping returns */

suga_status sample_ping(suga_ctx *ctx, const suga_args_sample_ping *args, json_t **result)
{
    (void)args, (void)result;
    ping_calls++;
    return ping_answer == SUGA_OK ? SUGA_OK : suga_fail(ctx, ping_answer, "sample.ping: told to fail");
}

suga_status sample_cached(suga_ctx *ctx, const suga_args_sample_cached *args, json_t **result)
{
    (void)ctx, (void)args, (void)result;
    return SUGA_E_INTERNAL;
}

static const suga_table *const T = &golden_main_table;

/* The route for (method, path), as an operation id; -1 for not found, -2 for 405, -3 else. */
static int http(const char *method, const char *path)
{
    const suga_op *op = (const suga_op *)1;
    bool not_allowed = true;
    suga_status st = suga_route_http(T, method, path, strlen(path), &op, &not_allowed);
    if (st == SUGA_OK) {
        cr_expect_not(not_allowed, "%s %s: a match is never a 405", method, path);
        return op->id;
    }
    cr_expect_null(op, "%s %s: *op is NULL unless a route matched", method, path);
    if (st == SUGA_E_NOT_FOUND)
        return not_allowed ? -2 : -1;
    return -3;
}

static int alexa(const char *namespace_name, const char *name)
{
    const suga_op *op = (const suga_op *)1;
    suga_status st = suga_route_alexa(T, namespace_name, name, &op, NULL);
    if (st == SUGA_OK)
        return op->id;
    cr_expect_null(op);
    return st == SUGA_E_NOT_FOUND ? -1 : -3;
}

static int skill(const char *request_type)
{
    const suga_op *op = (const suga_op *)1;
    suga_status st = suga_route_alexa_skill(T, request_type, &op, NULL);
    if (st == SUGA_OK)
        return op->id;
    cr_expect_null(op);
    return st == SUGA_E_NOT_FOUND ? -1 : -3;
}

Test(routes, generated_table_is_sorted_and_resolved)
{
    cr_assert_eq(T->http_route_count, 6);
    cr_assert_eq(T->alexa_route_count, 6);
    for (uint32_t i = 1; i < T->http_route_count; i++) {
        const suga_http_route *a = &T->http_routes[i - 1], *b = &T->http_routes[i];
        int c = strcmp(a->method, b->method);
        cr_expect(c < 0 || (c == 0 && strcmp(a->path, b->path) < 0), "http routes %u and %u are out of order", i - 1, i);
    }
    cr_expect_str_eq(T->http_routes[0].method, "DELETE");
    cr_expect_str_eq(T->http_routes[0].path, "/cache/entry_1.v2-x");
    cr_expect_eq(T->http_routes[0].op, SUGA_OP_SAMPLE_CACHED);
    cr_expect_str_eq(T->http_routes[0].source, "spec/remote.yaml:35:7");
    /* exact first, then (namespace, *), then (*, *) */
    int last_rank = 0;
    for (uint32_t i = 0; i < T->alexa_route_count; i++) {
        const suga_alexa_route *r = &T->alexa_routes[i];
        int rank = !strcmp(r->namespace_name, "*") ? 2 : !strcmp(r->name, "*") ? 1 : 0;
        cr_expect_geq(rank, last_rank, "alexa route %u (%s, %s) is out of order", i, r->namespace_name, r->name);
        last_rank = rank;
    }
    cr_expect_str_eq(T->alexa_routes[5].namespace_name, "*");
    cr_expect_str_eq(T->alexa_routes[5].source, "spec/remote.yaml:40:7");
}

Test(routes, every_route_round_trips)
{
    for (uint32_t i = 0; i < T->http_route_count; i++) {
        const suga_http_route *r = &T->http_routes[i];
        cr_expect_eq(http(r->method, r->path), r->op, "%s %s", r->method, r->path);
    }
    for (uint32_t i = 0; i < T->alexa_route_count; i++) {
        const suga_alexa_route *r = &T->alexa_routes[i];
        cr_expect_eq(alexa(r->namespace_name, r->name), r->op, "(%s, %s)", r->namespace_name, r->name);
    }
}

Test(routes, http_exact_method_and_path)
{
    cr_expect_eq(http("GET", "/echo"), SUGA_OP_SAMPLE_ECHO);
    cr_expect_eq(http("HEAD", "/echo"), SUGA_OP_SAMPLE_PING);
    cr_expect_eq(http("GET", "/"), SUGA_OP_SAMPLE_PING);
    cr_expect_eq(http("GET", "/echo/deeper"), SUGA_OP_SAMPLE_CACHED);
    cr_expect_eq(http("POST", "/fetch"), SUGA_OP_REMOTE_FETCH);
    cr_expect_eq(http("DELETE", "/cache/entry_1.v2-x"), SUGA_OP_SAMPLE_CACHED);
    /* no prefixes, no trailing '/', no query string, no case folding, no decoding */
    cr_expect_eq(http("GET", "/ech"), -1);
    cr_expect_eq(http("GET", "/echo/"), -1);
    cr_expect_eq(http("GET", "/echo/deeper/still"), -1);
    cr_expect_eq(http("GET", "/echo?x=1"), -1);
    cr_expect_eq(http("GET", "/ECHO"), -1);
    cr_expect_eq(http("GET", "/%65cho"), -1);
    cr_expect_eq(http("GET", ""), -1);
    cr_expect_eq(http("GET", "//"), -1);
    cr_expect_eq(http("GET", "/nowhere"), -1);
    cr_expect_eq(http("", "/nowhere"), -1);
}

Test(routes, http_path_is_length_delimited)
{
    const suga_op *op = NULL;
    /* the caller passes the path without its query string: only path_len bytes count */
    cr_expect_eq(suga_route_http(T, "GET", "/echo?x=1", 5, &op, NULL), SUGA_OK);
    cr_expect_eq(op->id, SUGA_OP_SAMPLE_ECHO);
    cr_expect_eq(suga_route_http(T, "GET", "/echo/deeper", 5, &op, NULL), SUGA_OK);
    cr_expect_eq(op->id, SUGA_OP_SAMPLE_ECHO);
    cr_expect_eq(suga_route_http(T, "GET", "/echo/deeper", 1, &op, NULL), SUGA_OK);
    cr_expect_eq(op->id, SUGA_OP_SAMPLE_PING);
    cr_expect_eq(suga_route_http(T, "GET", "/echo", 0, &op, NULL), SUGA_E_NOT_FOUND);
    cr_expect_null(op);
    /* a NUL inside the request path is just a byte that no route has */
    cr_expect_eq(suga_route_http(T, "GET", "/echo\0x", 7, &op, NULL), SUGA_E_NOT_FOUND);
    cr_expect_eq(suga_route_http(T, "GET", "/\0", 2, &op, NULL), SUGA_E_NOT_FOUND);
}

Test(routes, http_method_not_allowed)
{
    /* the path has a route, the method does not: 405 */
    cr_expect_eq(http("POST", "/echo"), -2);
    cr_expect_eq(http("PUT", "/"), -2);
    cr_expect_eq(http("GET", "/fetch"), -2);
    cr_expect_eq(http("GET", "/cache/entry_1.v2-x"), -2);
    /* methods are case-sensitive, and HEAD does not fall back to GET */
    cr_expect_eq(http("get", "/echo"), -2);
    cr_expect_eq(http("HEAD", "/"), -2);
    cr_expect_eq(http("HEAD", "/echo/deeper"), -2);
    cr_expect_eq(http("OPTIONS", "/fetch"), -2);
    /* a path no route has stays 404, whatever the method */
    cr_expect_eq(http("POST", "/echo/"), -1);
    cr_expect_eq(http("DELETE", "/cache"), -1);
    /* the flag is optional, and reset on every call */
    const suga_op *op = NULL;
    cr_expect_eq(suga_route_http(T, "POST", "/echo", 5, &op, NULL), SUGA_E_NOT_FOUND);
    bool not_allowed = true;
    cr_expect_eq(suga_route_http(T, "GET", "/echo", 5, &op, &not_allowed), SUGA_OK);
    cr_expect_not(not_allowed);
}

Test(routes, http_allow_lists_the_methods_of_a_path)
{
    char allow[32];
    cr_expect_eq(suga_route_http_allow(T, "/echo", 5, allow, sizeof allow), SUGA_OK);
    cr_expect_str_eq(allow, "GET, HEAD");
    cr_expect_eq(suga_route_http_allow(T, "/fetch", 6, allow, sizeof allow), SUGA_OK);
    cr_expect_str_eq(allow, "POST");
    cr_expect_eq(suga_route_http_allow(T, "/echo?q", 5, allow, sizeof allow), SUGA_OK);
    cr_expect_str_eq(allow, "GET, HEAD");
    cr_expect_eq(suga_route_http_allow(T, "/nowhere", 8, allow, sizeof allow), SUGA_E_NOT_FOUND);
    cr_expect_str_eq(allow, "");
    /* "GET, HEAD" needs 10 bytes with its NUL */
    cr_expect_eq(suga_route_http_allow(T, "/echo", 5, allow, 10), SUGA_OK);
    cr_expect_eq(suga_route_http_allow(T, "/echo", 5, allow, 9), SUGA_E_LIMIT);
    cr_expect_str_eq(allow, "");
    cr_expect_eq(suga_route_http_allow(T, "/echo", 5, allow, 3), SUGA_E_LIMIT);
    cr_expect_eq(suga_route_http_allow(NULL, "/echo", 5, allow, sizeof allow), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_route_http_allow(T, NULL, 0, allow, sizeof allow), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_route_http_allow(T, "/echo", 5, NULL, 8), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_route_http_allow(T, "/echo", 5, allow, 0), SUGA_E_INVALID_ARG);
}

Test(routes, alexa_precedence)
{
    /* exact beats (namespace, *), which beats (*, *) */
    cr_expect_eq(alexa("Alexa.Discovery", "Discover"), SUGA_OP_SAMPLE_ECHO);
    cr_expect_eq(alexa("Alexa.Discovery", "Other"), SUGA_OP_SAMPLE_CACHED);
    cr_expect_eq(alexa("Alexa.PowerController", "TurnOn"), SUGA_OP_SAMPLE_ECHO);
    cr_expect_eq(alexa("Alexa.PowerController", "TurnOff"), SUGA_OP_SAMPLE_PING);
    cr_expect_eq(alexa("Alexa", "ReportState"), SUGA_OP_REMOTE_FETCH);
    /* an exact route does not make a namespace wildcard: Alexa has none, so the catch-all */
    cr_expect_eq(alexa("Alexa", "Discover"), SUGA_OP_SAMPLE_PING);
    cr_expect_eq(alexa("Alexa.Authorization", "AcceptGrant"), SUGA_OP_SAMPLE_PING);
    /* exact comparison: no case folding, no prefix of a namespace */
    cr_expect_eq(alexa("alexa.discovery", "Discover"), SUGA_OP_SAMPLE_PING);
    cr_expect_eq(alexa("Alexa.Discovery", "discover"), SUGA_OP_SAMPLE_CACHED);
    cr_expect_eq(alexa("Alexa.Discovery.Extra", "Discover"), SUGA_OP_SAMPLE_PING);
    /* "*" in the input is not a wildcard: only wildcard routes match it */
    cr_expect_eq(alexa("*", "Discover"), SUGA_OP_SAMPLE_PING);
    cr_expect_eq(alexa("Alexa.Discovery", "*"), SUGA_OP_SAMPLE_CACHED);
    cr_expect_eq(alexa("Alexa", "*"), SUGA_OP_SAMPLE_PING);
    cr_expect_eq(alexa("", ""), SUGA_OP_SAMPLE_PING);
}

Test(routes, skill_request_types_exact_before_wildcard)
{
    cr_assert_eq(T->skill_route_count, 3);
    cr_expect_str_eq(T->skill_routes[0].request, "AudioPlayer.PlaybackStarted"); /* exact ones in byte order */
    cr_expect_str_eq(T->skill_routes[1].request, "SessionEndedRequest");
    cr_expect_str_eq(T->skill_routes[2].request, "*");
    cr_expect_eq(skill("SessionEndedRequest"), SUGA_OP_SAMPLE_CACHED);
    cr_expect_eq(skill("AudioPlayer.PlaybackStarted"), SUGA_OP_REMOTE_FETCH);
    cr_expect_eq(skill("IntentRequest"), SUGA_OP_SAMPLE_PING);
    cr_expect_eq(skill("sessionendedrequest"), SUGA_OP_SAMPLE_PING); /* case-sensitive */
    cr_expect_eq(skill(""), SUGA_OP_SAMPLE_PING);
    suga_table t = golden_main_table;
    t.skill_route_count = 2; /* without the wildcard */
    const suga_op *op = (const suga_op *)1;
    cr_expect_eq(suga_route_alexa_skill(&t, "IntentRequest", &op, NULL), SUGA_E_NOT_FOUND);
    cr_expect_null(op);
    cr_expect_eq(suga_route_alexa_skill(NULL, "IntentRequest", &op, NULL), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_route_alexa_skill(T, NULL, &op, NULL), SUGA_E_INVALID_ARG);
}

Test(routes, alexa_without_catch_all)
{
    /* the golden routes without the catch-all (the last one): unmatched directives are 404 */
    suga_table t = golden_main_table;
    t.alexa_route_count = 5;
    const suga_op *op = (const suga_op *)1;
    cr_expect_eq(suga_route_alexa(&t, "Alexa", "Discover", &op, NULL), SUGA_E_NOT_FOUND);
    cr_expect_null(op);
    cr_expect_eq(suga_route_alexa(&t, "Alexa.Discovery", "Anything", &op, NULL), SUGA_OK);
    cr_expect_eq(op->id, SUGA_OP_SAMPLE_CACHED);
    /* only the namespace wildcard of the same namespace applies */
    cr_expect_eq(suga_route_alexa(&t, "Alexa.PowerControllerX", "TurnOn", &op, NULL), SUGA_E_NOT_FOUND);
}

Test(routes, tables_without_routes)
{
    const suga_table none = {0};
    const suga_op *op = (const suga_op *)1;
    bool not_allowed = true;
    char allow[8];
    cr_expect_eq(suga_route_http(&none, "GET", "/health", 7, &op, &not_allowed), SUGA_E_NOT_FOUND);
    cr_expect_null(op);
    cr_expect_not(not_allowed);
    cr_expect_eq(suga_route_http_allow(&none, "/health", 7, allow, sizeof allow), SUGA_E_NOT_FOUND);
    cr_expect_eq(suga_route_alexa(&none, "Alexa", "ReportState", &op, NULL), SUGA_E_NOT_FOUND);
    cr_expect_eq(suga_route_alexa_skill(&none, "IntentRequest", &op, NULL), SUGA_E_NOT_FOUND);
    json_t *doc = NULL;
    cr_assert_eq(suga_describe_routes(&none, &doc), SUGA_OK);
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    cr_expect_str_eq(text, "{\"alexa\":[],\"alexa_skill\":[],\"http\":[]}");
    free(text);
    json_decref(doc);
}

Test(routes, a_route_to_a_missing_operation_is_internal)
{
    static const suga_http_route bad_http[] = {{.method = "GET", .path = "/x", .op = 999, .source = "test"}};
    static const suga_alexa_route bad_alexa[] = {{.namespace_name = "*", .name = "*", .op = SUGA_OP__COUNT,
                                                  .on_error = SUGA_NO_OP, .source = "test"}};
    suga_table t = golden_main_table;
    t.http_routes = bad_http;
    t.http_route_count = 1;
    t.alexa_routes = bad_alexa;
    t.alexa_route_count = 1;
    const suga_op *op = (const suga_op *)1;
    cr_expect_eq(suga_route_http(&t, "GET", "/x", 2, &op, NULL), SUGA_E_INTERNAL);
    cr_expect_null(op);
    cr_expect_eq(suga_route_alexa(&t, "Alexa", "X", &op, NULL), SUGA_E_INTERNAL);
    cr_expect_null(op);
    static const suga_alexa_route bad_on_error[] = {{.namespace_name = "*", .name = "*", .op = SUGA_OP_SAMPLE_PING,
                                                     .on_error = SUGA_OP__COUNT, .source = "test"}};
    t.alexa_routes = bad_on_error;
    const suga_op *on_error = (const suga_op *)1;
    cr_expect_eq(suga_route_alexa(&t, "Alexa", "X", &op, &on_error), SUGA_E_INTERNAL, "a bad on_error id too");
    cr_expect_null(on_error);
    t.alexa_routes = bad_alexa;
    json_t *doc = NULL;
    cr_assert_eq(suga_describe_routes(&t, &doc), SUGA_OK);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(doc, "http"), 0), "op")), "?");
    json_decref(doc);
}

Test(routes, null_arguments)
{
    const suga_op *op = (const suga_op *)1;
    bool not_allowed = true;
    cr_expect_eq(suga_route_http(NULL, "GET", "/echo", 5, &op, &not_allowed), SUGA_E_INVALID_ARG);
    cr_expect_null(op, "outputs are reset even when the arguments are refused");
    cr_expect_not(not_allowed);
    cr_expect_eq(suga_route_http(T, NULL, "/echo", 5, &op, NULL), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_route_http(T, "GET", NULL, 0, &op, NULL), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_route_http(T, "GET", "/echo", 5, NULL, &not_allowed), SUGA_E_INVALID_ARG);
    op = (const suga_op *)1;
    cr_expect_eq(suga_route_alexa(NULL, "Alexa", "X", &op, NULL), SUGA_E_INVALID_ARG);
    cr_expect_null(op);
    cr_expect_eq(suga_route_alexa(T, NULL, "X", &op, NULL), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_route_alexa(T, "Alexa", NULL, &op, NULL), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_route_alexa(T, "Alexa", "X", NULL, NULL), SUGA_E_INVALID_ARG);
    json_t *doc = NULL;
    cr_expect_eq(suga_describe_routes(NULL, &doc), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_describe_routes(T, NULL), SUGA_E_INVALID_ARG);
    cr_expect_null(doc);
}

Test(routes, describe)
{
    json_t *doc = NULL;
    cr_assert_eq(suga_describe_routes(T, &doc), SUGA_OK);
    json_t *http_routes = json_object_get(doc, "http"), *alexa_routes = json_object_get(doc, "alexa");
    cr_assert(json_is_array(http_routes) && json_is_array(alexa_routes));
    cr_expect_eq(json_array_size(http_routes), T->http_route_count);
    cr_expect_eq(json_array_size(alexa_routes), T->alexa_route_count);
    char *first = json_dumps(json_array_get(http_routes, 0), JSON_COMPACT | JSON_SORT_KEYS);
    cr_expect_str_eq(first, "{\"id\":2,\"method\":\"DELETE\",\"op\":\"sample.cached\",\"path\":\"/cache/entry_1.v2-x\","
                            "\"source\":\"spec/remote.yaml:35:7\"}");
    free(first);
    char *last = json_dumps(json_array_get(alexa_routes, 5), JSON_COMPACT | JSON_SORT_KEYS);
    cr_expect_str_eq(last, "{\"id\":4,\"name\":\"*\",\"namespace\":\"*\",\"on_error\":\"remote.refused\","
                           "\"op\":\"sample.ping\",\"source\":\"spec/remote.yaml:40:7\"}");
    free(last);
    json_decref(doc);
}

/* A route's on_error operation comes with its operation: the most specific route's, so an exact
 * route without one does not borrow the catch-all's. */
Test(routes, on_error_comes_with_the_route)
{
    const suga_op *op, *on_error = (const suga_op *)1;
    cr_assert_eq(suga_route_alexa(T, "Alexa.Anything", "Else", &op, &on_error), SUGA_OK);
    cr_expect_eq(op->id, SUGA_OP_SAMPLE_PING);
    cr_assert_not_null(on_error);
    cr_expect_eq(on_error->id, SUGA_OP_REMOTE_REFUSED);
    cr_assert_eq(suga_route_alexa(T, "", "", &op, &on_error), SUGA_OK, "a directive without a usable header");
    cr_expect_eq(on_error->id, SUGA_OP_REMOTE_REFUSED);
    cr_assert_eq(suga_route_alexa(T, "Alexa.Discovery", "Discover", &op, &on_error), SUGA_OK);
    cr_expect_null(on_error);
    cr_assert_eq(suga_route_alexa_skill(T, "LaunchRequest", &op, &on_error), SUGA_OK);
    cr_expect_eq(on_error->id, SUGA_OP_REMOTE_REFUSED);
    cr_assert_eq(suga_route_alexa_skill(T, "SessionEndedRequest", &op, &on_error), SUGA_OK);
    cr_expect_null(on_error);
    cr_expect_eq(suga_route_alexa_skill(T, NULL, &op, &on_error), SUGA_E_INVALID_ARG);
    cr_expect_null(on_error, "reset even when the arguments are refused");
}

/* ---- lifecycle hooks ---- */

static suga_engine engine;
static FILE *devnull;

static void start_engine(void)
{
    devnull = fopen("/dev/null", "w");
    cr_assert_not_null(devnull);
    suga_engine_config config = {.guard_state_path = "", .metrics_out = devnull};
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_engine_init(&engine, T, &config, &ctx), SUGA_OK, "%s", ctx.error);
    ping_calls = 0;
    ping_answer = SUGA_OK;
}

static void stop_engine(void)
{
    suga_engine_shutdown(&engine, NULL);
    fclose(devnull);
}

TestSuite(hooks, .init = start_engine, .fini = stop_engine);

/* The generated hook lists: one per phase, in declaration order, with the spec's error_type. */
Test(hooks, generated_lists)
{
    for (int phase = 0; phase < SUGA_HOOK__COUNT; phase++) {
        cr_assert_eq(T->hook_counts[phase], 1, "%s", suga_hook_phase_names[phase]);
        cr_expect_eq(T->hooks[phase][0].op, SUGA_OP_SAMPLE_PING);
    }
    cr_expect_str_eq(T->hooks[SUGA_HOOK_INIT][0].error_type, "Runtime.GoldenInit");
    cr_expect_null(T->hooks[SUGA_HOOK_INVOCATION_START][0].error_type);
    cr_expect(strstr(T->hooks[SUGA_HOOK_INIT][0].source, "spec/remote.yaml:"), "%s", T->hooks[SUGA_HOOK_INIT][0].source);
}

Test(hooks, each_phase_runs_its_operations)
{
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    const suga_hook *failed = (const suga_hook *)1;
    for (int phase = 0; phase < SUGA_HOOK__COUNT; phase++)
        cr_expect_eq(suga_engine_run_hooks(&engine, (suga_hook_phase)phase, &ctx, &failed), SUGA_OK, "%s", ctx.error);
    cr_expect_null(failed);
    cr_expect_eq(ping_calls, SUGA_HOOK__COUNT);
    cr_expect_eq(engine.requests, 0, "hooks are housekeeping, not requests");
}

/* init and invocation_start: the first failure comes back, with the hook, for the host to
 * report (an init error, a refused event) */
Test(hooks, a_failure_names_its_hook)
{
    ping_answer = SUGA_E_UNAVAILABLE;
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    const suga_hook *failed = NULL;
    cr_expect_eq(suga_engine_run_hooks(&engine, SUGA_HOOK_INIT, &ctx, &failed), SUGA_E_UNAVAILABLE);
    cr_expect_eq(failed, &T->hooks[SUGA_HOOK_INIT][0]);
    cr_expect_str_eq(ctx.error, "sample.ping: told to fail");
    suga_ctx_init(&ctx);
    cr_expect_eq(suga_engine_run_hooks(&engine, SUGA_HOOK_INVOCATION_START, &ctx, &failed), SUGA_E_UNAVAILABLE);
    cr_expect_eq(failed, &T->hooks[SUGA_HOOK_INVOCATION_START][0]);
}

/* invocation_end hooks run after the answer: suga_engine_end_invocation runs them, and their
 * failure does not fail the end of the invocation */
Test(hooks, end_hooks_run_at_the_end_of_an_invocation)
{
    ping_answer = SUGA_E_IO;
    char *log = NULL;
    size_t log_size = 0;
    FILE *log_out = open_memstream(&log, &log_size);
    cr_assert_not_null(log_out);
    suga_log_set_output(log_out);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    cr_expect_eq(suga_engine_end_invocation(&engine, 1.0, &ctx), SUGA_OK, "%s", ctx.error);
    cr_expect_eq(ping_calls, 1);
    suga_log_set_output(NULL);
    fclose(log_out);
    /* nobody else can tell of it: one warning naming the phase, the operation and the status */
    cr_expect(strstr(log, "\"level\":\"warning\",\"message\":\"sample.ping: told to fail\""), "%s", log);
    cr_expect(strstr(log, "\"hook\":\"invocation_end\",\"operation\":\"sample.ping\",\"status\":\"io_error\""),
              "%s", log);
    free(log);
    const suga_hook *failed = NULL;
    cr_expect_eq(suga_engine_run_hooks(&engine, SUGA_HOOK_INVOCATION_END, &ctx, &failed), SUGA_E_IO);
    cr_expect_eq(failed, &T->hooks[SUGA_HOOK_INVOCATION_END][0]);
}

Test(hooks, bad_arguments)
{
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    cr_expect_eq(suga_engine_run_hooks(&engine, SUGA_HOOK__COUNT, &ctx, NULL), SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "suga_engine_run_hooks"), "%s", ctx.error);
    cr_expect_eq(suga_engine_run_hooks(NULL, SUGA_HOOK_INIT, &ctx, NULL), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_engine_run_hooks(&engine, SUGA_HOOK_INIT, NULL, NULL), SUGA_E_INVALID_ARG);
    cr_expect_eq(ping_calls, 0);
}
