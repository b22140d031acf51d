/* lambda.c: the invocation as handlers see it, and Alexa custom-skill responses.
 *
 * The request id, correlation id and deadline travel in the call's suga_ctx (the bootstrap fills
 * them from the Runtime API headers); the function's identity comes from the variables Lambda
 * sets in every execution environment; the counts come from the running engine. Nothing here
 * keeps state of its own.
 */
#include <stdlib.h>
#include <string.h>

#include "suga_clock.h"
#include "suga_engine.h"
#include "suga_ops.h"
#include "utility/suga_utility.h"

/* A Lambda-set variable as a JSON string, or null when the process does not run on Lambda. */
static json_t *env_or_null(const char *name)
{
    const char *v = getenv(name);
    return v && *v && suga_utf8_valid(v, strlen(v)) ? json_string(v) : json_null();
}

static json_t *string_or_null(const char *s)
{
    return s && suga_utf8_valid(s, strlen(s)) ? json_string(s) : json_null();
}

static bool on_lambda(void)
{
    return getenv("AWS_LAMBDA_RUNTIME_API") != NULL;
}

static uint32_t memory_mb(void)
{
    const suga_engine *e = suga_engine_current();
    if (e)
        return e->guard.memory_mb;
    const char *v = getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
    long mb = v ? strtol(v, NULL, 10) : 0;
    return mb > 0 && mb <= 1048576 ? (uint32_t)mb : SUGA_ENGINE_DEFAULT_MEMORY_MB;
}

suga_status suga_handle_lambda_context(suga_ctx *ctx, const suga_args_lambda_context *args, json_t **result)
{
    (void)args;
    json_t *deadline = json_null(), *remaining = json_null();
    if (ctx->deadline_ms > 0) {
        int64_t left = ctx->deadline_ms - suga_clock_wall_ms();
        deadline = json_integer(ctx->deadline_ms);
        remaining = json_integer(left > 0 ? left : 0); /* past the deadline is simply no time left */
    }
    json_t *out = json_pack("{s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "request_id",
                            string_or_null(ctx->request_id), "correlation_id", string_or_null(ctx->correlation_id),
                            "deadline_ms", deadline, "remaining_ms", remaining, "memory_mb", (json_int_t)memory_mb(),
                            "function_name", env_or_null("AWS_LAMBDA_FUNCTION_NAME"), "function_version",
                            env_or_null("AWS_LAMBDA_FUNCTION_VERSION"), "region", env_or_null("AWS_REGION"),
                            "log_group", env_or_null("AWS_LAMBDA_LOG_GROUP_NAME"), "log_stream",
                            env_or_null("AWS_LAMBDA_LOG_STREAM_NAME"), "trace_id", env_or_null("_X_AMZN_TRACE_ID"),
                            "on_lambda", on_lambda());
    return suga_util_result(ctx, out, result);
}

suga_status suga_handle_lambda_status(suga_ctx *ctx, const suga_args_lambda_status *args, json_t **result)
{
    (void)args;
    const suga_engine *e = suga_engine_current();
    uint64_t invocations = e ? e->invocations : 0;
    /* cold: this environment has not finished an invocation yet (the current one is its first) */
    json_t *out = json_pack("{s:b, s:b, s:I, s:I, s:I, s:I, s:o}", "on_lambda", on_lambda(), "cold", invocations == 0,
                            "invocations", (json_int_t)invocations, "requests", (json_int_t)(e ? e->requests : 0),
                            "request_errors", (json_int_t)(e ? e->request_errors : 0), "memory_mb",
                            (json_int_t)memory_mb(), "runtime_api", env_or_null("AWS_LAMBDA_RUNTIME_API"));
    return suga_util_result(ctx, out, result);
}

/* ---- Alexa custom-skill responses ---- */

/* {"type": "PlainText", "text": ...} or {"type": "SSML", "ssml": "<speak>...</speak>"}. Alexa
 * rejects SSML that is not wrapped in <speak>, so a bare fragment is wrapped here. */
static json_t *output_speech(suga_str text, bool ssml)
{
    if (!ssml)
        return json_pack("{s:s, s:s%}", "type", "PlainText", "text", text.ptr, text.len);
    static const char open[] = "<speak>", close[] = "</speak>";
    size_t lead = 0;
    while (lead < text.len && strchr(" \t\r\n", text.ptr[lead]))
        lead++;
    if (text.len - lead >= sizeof open - 1 && !strncmp(text.ptr + lead, open, sizeof open - 1))
        return json_pack("{s:s, s:s%}", "type", "SSML", "ssml", text.ptr, text.len);
    size_t n = sizeof open - 1 + text.len + sizeof close - 1;
    char *wrapped = malloc(n + 1);
    if (!wrapped)
        return NULL;
    memcpy(wrapped, open, sizeof open - 1);
    memcpy(wrapped + sizeof open - 1, text.ptr, text.len);
    memcpy(wrapped + sizeof open - 1 + text.len, close, sizeof close);
    json_t *out = json_pack("{s:s, s:s%}", "type", "SSML", "ssml", wrapped, n);
    free(wrapped);
    return out;
}

static json_t *card(const suga_args_lambda_custom_skill_response *a)
{
    if (!a->has_card_small_image_url)
        return json_pack("{s:s, s:s%, s:s%}", "type", "Simple", "title", a->card_title.ptr, a->card_title.len,
                         "content", a->has_card_text ? a->card_text.ptr : "", a->has_card_text ? a->card_text.len : 0);
    return json_pack("{s:s, s:s%, s:s%, s:{s:s%, s:s%}}", "type", "Standard", "title", a->card_title.ptr,
                     a->card_title.len, "text", a->has_card_text ? a->card_text.ptr : "",
                     a->has_card_text ? a->card_text.len : 0, "image", "smallImageUrl", a->card_small_image_url.ptr,
                     a->card_small_image_url.len, "largeImageUrl", a->card_large_image_url.ptr,
                     a->card_large_image_url.len);
}

/* Combinations the spec's per-argument rules cannot express. */
static suga_status check_combinations(suga_ctx *ctx, const suga_args_lambda_custom_skill_response *a)
{
    const char *op = ctx->op->name;
    if (a->has_card_text && !a->has_card_title)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg 'card_text' needs 'card_title'", op);
    if (a->has_card_small_image_url != a->has_card_large_image_url)
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "%s: a standard card needs both 'card_small_image_url' and 'card_large_image_url'", op);
    if (a->has_card_small_image_url && !a->has_card_title)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: card images need 'card_title'", op);
    if (a->card_link_account && a->has_card_title)
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "%s: a LinkAccount card has no title, text or image: drop 'card_title' or 'card_link_account'",
                         op);
    if (a->has_reprompt && a->has_end_session && a->end_session)
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "%s: a 'reprompt' needs the session kept open, but 'end_session' is true", op);
    return SUGA_OK;
}

suga_status suga_handle_lambda_custom_skill_response(suga_ctx *ctx, const suga_args_lambda_custom_skill_response *a,
                                         json_t **result)
{
    suga_status st = check_combinations(ctx, a);
    if (st != SUGA_OK)
        return st;
    bool end_session = a->has_end_session ? a->end_session : !a->has_reprompt;
    json_t *response = json_pack("{s:o, s:b}", "outputSpeech", output_speech(a->speech, a->ssml), "shouldEndSession",
                                 end_session);
    bool ok = response != NULL;
    if (ok && a->has_card_title)
        ok = !json_object_set_new(response, "card", card(a));
    if (ok && a->card_link_account)
        ok = !json_object_set_new(response, "card", json_pack("{s:s}", "type", "LinkAccount"));
    if (ok && a->has_reprompt)
        ok = !json_object_set_new(response, "reprompt",
                                  json_pack("{s:o}", "outputSpeech", output_speech(a->reprompt, a->ssml)));
    json_t *out = ok ? json_pack("{s:s, s:O}", "version", "1.0", "response", response) : NULL;
    json_decref(response);
    if (out && a->has_session_attributes && json_object_set(out, "sessionAttributes", a->session_attributes)) {
        json_decref(out);
        out = NULL;
    }
    return suga_util_result(ctx, out, result);
}
