/* test_lambda.c: lambda.* operations - the invocation context, the environment's status and Alexa
 * custom-skill responses. */
#include <stdlib.h>

#include "handler_test.h"
#include "suga_clock.h"
#include "suga_engine.h"
#include "utility/suga_utility.h"

static void clear_lambda_env(void)
{
    static const char *const vars[] = {"AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_FUNCTION_NAME",
                                       "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                                       "AWS_REGION", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
                                       "_X_AMZN_TRACE_ID"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        unsetenv(vars[i]);
}

TestSuite(lambda, .init = clear_lambda_env);

Test(lambda, context_reads_the_call_and_the_environment)
{
    setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001", 1);
    setenv("AWS_LAMBDA_FUNCTION_NAME", "suga-alexa", 1);
    setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256", 1);
    setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793", 1);
    json_t *args = NULL, *r = NULL;
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    ctx.request_id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";
    ctx.correlation_id = "corr-1";
    ctx.deadline_ms = suga_clock_wall_ms() + 3000;
    cr_assert_eq(suga_call_json(&ctx, "lambda.context", 14, args, &r), SUGA_OK, "%s", ctx.error);
    cr_expect_str_eq(json_string_value(json_object_get(r, "request_id")), "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
    cr_expect_str_eq(json_string_value(json_object_get(r, "correlation_id")), "corr-1");
    json_int_t remaining = json_integer_value(json_object_get(r, "remaining_ms"));
    cr_expect(remaining > 2000 && remaining <= 3000, "remaining %lld", (long long)remaining);
    cr_expect_eq(json_integer_value(json_object_get(r, "memory_mb")), 256);
    cr_expect_str_eq(json_string_value(json_object_get(r, "function_name")), "suga-alexa");
    cr_expect_str_eq(json_string_value(json_object_get(r, "trace_id")), "Root=1-5759e988-bd862e3fe1be46a994272793");
    cr_expect(json_is_true(json_object_get(r, "on_lambda")));
    cr_expect(json_is_null(json_object_get(r, "region")));
    json_decref(r);
}

Test(lambda, context_without_a_deadline_or_lambda)
{
    json_t *r = call_ok("lambda.context", NULL);
    assert_json(r, "{\"request_id\": null, \"correlation_id\": null, \"deadline_ms\": null, \"remaining_ms\": null,"
                   " \"memory_mb\": 128, \"function_name\": null, \"function_version\": null, \"region\": null,"
                   " \"log_group\": null, \"log_stream\": null, \"trace_id\": null, \"on_lambda\": false}");
}

Test(lambda, a_passed_deadline_leaves_zero_time)
{
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    ctx.deadline_ms = 1000; /* 1970 */
    json_t *r = NULL;
    cr_assert_eq(suga_call_json(&ctx, "lambda.context", 14, NULL, &r), SUGA_OK, "%s", ctx.error);
    cr_expect_eq(json_integer_value(json_object_get(r, "remaining_ms")), 0);
    json_decref(r);
}

Test(lambda, status_counts_the_engine_invocations)
{
    json_t *r = call_ok("lambda.status", NULL);
    cr_expect(json_is_true(json_object_get(r, "cold")));
    cr_expect_eq(json_integer_value(json_object_get(r, "invocations")), 0);
    json_decref(r);
    suga_engine e;
    suga_engine_config config = {.guard_state_path = "", .metrics_out = stderr};
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_engine_init(&e, &suga_main_table, &config, &ctx), SUGA_OK, "%s", ctx.error);
    cr_assert_eq(suga_engine_end_invocation(&e, 3, &ctx), SUGA_OK, "%s", ctx.error);
    r = call_ok("lambda.status", NULL);
    cr_expect(json_is_false(json_object_get(r, "cold")), "warm after one invocation");
    cr_expect_eq(json_integer_value(json_object_get(r, "invocations")), 1);
    json_decref(r);
    suga_engine_shutdown(&e, &ctx);
}

Test(lambda, plain_speech_ends_the_session)
{
    json_t *r = call_ok("lambda.custom_skill_response", "{\"speech\": \"The kitchen light is on.\"}");
    assert_json(r, "{\"version\": \"1.0\", \"response\": {\"outputSpeech\": {\"type\": \"PlainText\","
                   " \"text\": \"The kitchen light is on.\"}, \"shouldEndSession\": true}}");
}

Test(lambda, ssml_is_wrapped_once_and_a_reprompt_keeps_the_session_open)
{
    json_t *r = call_ok("lambda.custom_skill_response",
                        "{\"speech\": \"Which room?\", \"ssml\": true, \"reprompt\": \"<speak>Say a room.</speak>\","
                        " \"session_attributes\": {\"step\": 2}}");
    assert_json(r, "{\"version\": \"1.0\", \"sessionAttributes\": {\"step\": 2}, \"response\": {"
                   "\"outputSpeech\": {\"type\": \"SSML\", \"ssml\": \"<speak>Which room?</speak>\"},"
                   " \"reprompt\": {\"outputSpeech\": {\"type\": \"SSML\", \"ssml\": \"<speak>Say a room.</speak>\"}},"
                   " \"shouldEndSession\": false}}");
}

Test(lambda, simple_and_standard_cards)
{
    json_t *r = call_ok("lambda.custom_skill_response",
                        "{\"speech\": \"Done.\", \"card_title\": \"Lights\", \"card_text\": \"Kitchen on\"}");
    assert_json(json_incref(json_object_get(json_object_get(r, "response"), "card")),
                "{\"type\": \"Simple\", \"title\": \"Lights\", \"content\": \"Kitchen on\"}");
    json_decref(r);
    r = call_ok("lambda.custom_skill_response",
                "{\"speech\": \"Done.\", \"card_title\": \"Lights\", \"card_text\": \"Kitchen on\","
                " \"card_small_image_url\": \"https://example.com/s.png\","
                " \"card_large_image_url\": \"https://example.com/l.png\"}");
    assert_json(json_incref(json_object_get(json_object_get(r, "response"), "card")),
                "{\"type\": \"Standard\", \"title\": \"Lights\", \"text\": \"Kitchen on\", \"image\": {"
                "\"smallImageUrl\": \"https://example.com/s.png\", \"largeImageUrl\": \"https://example.com/l.png\"}}");
    json_decref(r);
    r = call_ok("lambda.custom_skill_response", "{\"speech\": \"Please link your account.\", \"card_link_account\": true}");
    assert_json(json_incref(json_object_get(json_object_get(r, "response"), "card")), "{\"type\": \"LinkAccount\"}");
    json_decref(r);
}

Test(lambda, impossible_combinations_are_refused)
{
    suga_ctx ctx;
    call_fails(&ctx, "lambda.custom_skill_response", "{\"speech\": \"x\", \"card_text\": \"y\"}", SUGA_E_INVALID_ARG);
    cr_expect_str_eq(ctx.error, "lambda.custom_skill_response: arg 'card_text' needs 'card_title'");
    call_fails(&ctx, "lambda.custom_skill_response",
               "{\"speech\": \"x\", \"card_title\": \"t\", \"card_small_image_url\": \"https://a/s.png\"}",
               SUGA_E_INVALID_ARG);
    cr_expect_str_eq(ctx.error, "lambda.custom_skill_response: a standard card needs both 'card_small_image_url' and "
                                "'card_large_image_url'");
    call_fails(&ctx, "lambda.custom_skill_response", "{\"speech\": \"x\", \"reprompt\": \"y\", \"end_session\": true}",
               SUGA_E_INVALID_ARG);
    cr_expect_str_eq(ctx.error,
                     "lambda.custom_skill_response: a 'reprompt' needs the session kept open, but 'end_session' is true");
    call_fails(&ctx, "lambda.custom_skill_response",
               "{\"speech\": \"x\", \"card_title\": \"t\", \"card_small_image_url\": \"http://a/s.png\","
               " \"card_large_image_url\": \"https://a/l.png\"}",
               SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "card_small_image_url"), "%s", ctx.error);
    call_fails(&ctx, "lambda.custom_skill_response",
               "{\"speech\": \"x\", \"card_title\": \"t\", \"card_link_account\": true}", SUGA_E_INVALID_ARG);
    cr_expect_str_eq(ctx.error, "lambda.custom_skill_response: a LinkAccount card has no title, text or image: drop "
                                "'card_title' or 'card_link_account'");
}
