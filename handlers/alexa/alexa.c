/* alexa.c: the Alexa bridge, for Smart Home skills and custom skills.
 *
 * Smart Home: a directive is checked (payloadVersion 3, header names, a token), AcceptGrant is
 * answered here (Home Assistant only needs the user's token, which Alexa sends with every
 * directive), and everything else goes to Home Assistant's own Alexa integration through
 * homeassistant.alexa_smart_home, which sits behind the homeassistant circuit breaker. Whatever
 * fails becomes an Alexa ErrorResponse event that keeps the directive's correlationToken and
 * endpointId, so Alexa can say what went wrong instead of "the device is not responding":
 *
 *   Home Assistant down, timing out, or its breaker open  ENDPOINT_UNREACHABLE
 *   Home Assistant refused the token (401/403)            INVALID_AUTHORIZATION_CREDENTIAL
 *   a malformed directive                                 INVALID_DIRECTIVE
 *   anything else                                         INTERNAL_ERROR
 *
 * Custom skills: a request ({version, session, context, request}) is checked and forwarded to
 * Home Assistant's intent endpoint through homeassistant.alexa_intent, behind the same breaker.
 * A custom skill has no error event: whatever fails becomes speech saying why, with a LinkAccount
 * card when the account link is missing or refused, because a Lambda error only makes Alexa say
 * there was a problem with the skill.
 *
 * Either way a failed forward is logged as a warning (the operation itself succeeds: it answered).
 * Tokens are never logged, never part of a message, and never copied into a response.
 */
#include <stdio.h>
#include <string.h>

#include "config/suga_settings.h"
#include "suga_log.h"
#include "suga_mask.h"
#include "suga_ops.h"
#include "utility/suga_utility.h"

/* The configured long-lived token, or NULL: a fallback only, when the request carries none (as
 * in Home Assistant's forwarder script). */
static const char *configured_token(const suga_ctx *ctx)
{
    const suga_settings *settings;
    suga_ctx local = *ctx;
    if (suga_settings_get(&settings, &local) != SUGA_OK)
        return NULL; /* checked at start-up; a later failure leaves only the request's token */
    return settings->home_assistant_token[0] ? settings->home_assistant_token : NULL;
}

/* The first non-empty string among `candidates`, else the configured token. Every token the
 * request carries becomes a secret of the request for the masking function, so no message about
 * this request (Home Assistant quoting it back, say) can show one. */
static const char *first_token(const suga_ctx *ctx, json_t *const *candidates, size_t count)
{
    const char *token = NULL;
    for (size_t i = 0; i < count; i++) {
        if (!json_is_string(candidates[i]) || !json_string_length(candidates[i]))
            continue;
        suga_secret_add_request(json_string_value(candidates[i]), json_string_length(candidates[i]));
        if (!token)
            token = json_string_value(candidates[i]);
    }
    return token ? token : configured_token(ctx);
}

/* Call operation `id` (homeassistant.alexa_*) with {key: value, access_token: token}: SUGA_OK
 * with *answer when Home Assistant answered an object holding `expected`; otherwise the failure's
 * status, with its message in failure[SUGA_ERROR_MAX] (and logged). */
static suga_status forward(const suga_ctx *ctx, uint32_t id, const char *key, json_t *value, const char *token,
                           const char *expected, json_t **answer, char *failure)
{
    *answer = NULL;
    const char *op = suga_main_table.ops[id].name;
    suga_ctx local = *ctx;
    local.error[0] = '\0';
    json_t *args = json_pack("{s:O, s:s}", key, value, "access_token", token);
    suga_status st = args ? suga_call_op_json(&local, id, args, answer) : SUGA_E_NOMEM;
    json_decref(args);
    if (st == SUGA_OK && !json_is_object(json_object_get(*answer, expected))) {
        json_decref(*answer);
        *answer = NULL;
        st = suga_fail(&local, SUGA_E_HANDLER, "%s: Home Assistant answered without \"%s\"", op, expected);
    } else if (st == SUGA_E_NOMEM && !local.error[0]) {
        suga_fail(&local, st, "%s: out of memory", op);
    }
    if (st != SUGA_OK) {
        suga_utf8_sanitize(local.error, failure, SUGA_ERROR_MAX);
        suga_log_write(ctx, SUGA_LOG_WARNING, failure, NULL, NULL);
    }
    return st;
}

/* Whether `id` may be an ErrorResponse's endpointId: what Amazon's Smart Home message schema
 * allows there (1 to 256 of [a-zA-Z0-9_-=#;:?@&]). An answer keeping an id Alexa could not have
 * sent would be refused as a whole. */
static bool valid_endpoint_id(json_t *id)
{
    size_t len = json_string_length(id);
    const char *s = json_string_value(id);
    return s && len >= 1 && len <= 256 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-=#;:?@&") == len;
}

/* {"event": {"header": {...ErrorResponse...}, "endpoint"?: {"endpointId"}, "payload": {type, message}}}:
 * the directive's correlationToken and endpointId are kept when they are what Alexa sends (a
 * non-empty token; an id of the allowed characters), so the answer stays valid whatever came in. */
static json_t *error_event(json_t *directive, const char *type, const char *message)
{
    json_t *header = json_object_get(directive, "header");
    json_t *correlation = json_object_get(header, "correlationToken");
    json_t *endpoint_id = json_object_get(json_object_get(directive, "endpoint"), "endpointId");
    if (!json_string_length(correlation))
        correlation = NULL;
    if (!valid_endpoint_id(endpoint_id))
        endpoint_id = NULL;
    char message_id[SUGA_UUID_LEN + 1];
    if (suga_util_uuid4(message_id) != SUGA_OK)
        strcpy(message_id, "00000000-0000-4000-8000-000000000000");
    char masked[SUGA_ERROR_MAX], clean[SUGA_ERROR_MAX]; /* the message leaves the process */
    suga_mask_text(message, strlen(message), masked, sizeof masked, SUGA_MASK_MESSAGE);
    suga_utf8_sanitize(masked, clean, sizeof clean);
    json_t *event = json_pack("{s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s}}", "header", "namespace", "Alexa", "name",
                              "ErrorResponse", "messageId", message_id, "payloadVersion", "3", "payload", "type", type,
                              "message", clean);
    if (event && json_is_string(correlation))
        json_object_set(json_object_get(event, "header"), "correlationToken", correlation);
    if (event && json_is_string(endpoint_id))
        json_object_set_new(event, "endpoint", json_pack("{s:O}", "endpointId", endpoint_id));
    return event ? json_pack("{s:o}", "event", event) : NULL;
}

/* The user's token: endpoint.scope, payload.scope or payload.grantee (AcceptGrant), else the
 * configured long-lived token. */
static const char *directive_token(const suga_ctx *ctx, json_t *directive)
{
    json_t *payload = json_object_get(directive, "payload");
    json_t *candidates[] = {
        json_object_get(json_object_get(json_object_get(directive, "endpoint"), "scope"), "token"),
        json_object_get(json_object_get(payload, "scope"), "token"),
        json_object_get(json_object_get(payload, "grantee"), "token"),
    };
    return first_token(ctx, candidates, sizeof candidates / sizeof *candidates);
}

/* What is wrong with the directive's shape, or NULL. */
static const char *malformed(json_t *directive)
{
    json_t *header = json_object_get(directive, "header");
    if (!json_is_object(header))
        return "directive.header is missing";
    if (!json_is_string(json_object_get(header, "namespace")) || !json_is_string(json_object_get(header, "name")))
        return "directive.header.namespace and name must be strings";
    if (!json_is_string(json_object_get(header, "messageId")))
        return "directive.header.messageId is missing";
    json_t *version = json_object_get(header, "payloadVersion");
    if (!json_is_string(version) || strcmp(json_string_value(version), "3"))
        return "directive.header.payloadVersion must be \"3\"";
    json_t *payload = json_object_get(directive, "payload");
    if (payload && !json_is_object(payload))
        return "directive.payload must be an object";
    json_t *endpoint = json_object_get(directive, "endpoint");
    if (endpoint && !json_is_string(json_object_get(endpoint, "endpointId")))
        return "directive.endpoint.endpointId must be a string";
    return NULL;
}

static json_t *accept_grant_response(void)
{
    char message_id[SUGA_UUID_LEN + 1];
    if (suga_util_uuid4(message_id) != SUGA_OK)
        return NULL;
    return json_pack("{s:{s:{s:s, s:s, s:s, s:s}, s:{}}}", "event", "header", "namespace", "Alexa.Authorization",
                     "name", "AcceptGrant.Response", "messageId", message_id, "payloadVersion", "3", "payload");
}

/* The ErrorResponse type of a failed forward to Home Assistant. Not the status table's mapping
 * (suga_status_alexa_error_type): here the directive was already checked, so a refused argument
 * can only be the token, and anything else Home Assistant did is an internal error to Alexa. */
static const char *error_type_for(suga_status st)
{
    switch (st) {
    case SUGA_E_UNAVAILABLE:
        return "ENDPOINT_UNREACHABLE";
    case SUGA_E_INVALID_ARG: /* the token, the only argument Alexa supplies that is not checked here */
        return "INVALID_AUTHORIZATION_CREDENTIAL";
    default:
        return "INTERNAL_ERROR";
    }
}

suga_status suga_handle_alexa_smart_home(suga_ctx *ctx, const suga_args_alexa_smart_home *args, json_t **result)
{
    json_t *directive = args->directive;
    const char *problem = malformed(directive);
    if (problem)
        return suga_util_result(ctx, error_event(directive, "INVALID_DIRECTIVE", problem), result);
    json_t *header = json_object_get(directive, "header");
    const char *ns = json_string_value(json_object_get(header, "namespace"));
    const char *name = json_string_value(json_object_get(header, "name"));
    if (!strcmp(ns, "Alexa.Authorization") && !strcmp(name, "AcceptGrant"))
        return suga_util_result(ctx, accept_grant_response(), result);
    const char *token = directive_token(ctx, directive);
    if (!token)
        return suga_util_result(ctx,
                                error_event(directive, "INVALID_AUTHORIZATION_CREDENTIAL",
                                            "the directive carries no token and HOME_ASSISTANT_TOKEN is not set"),
                                result);
    char failure[SUGA_ERROR_MAX];
    suga_status st = forward(ctx, SUGA_OP_HOMEASSISTANT_ALEXA_SMART_HOME, "directive", directive, token, "event",
                             result, failure);
    if (st == SUGA_OK)
        return SUGA_OK;
    return suga_util_result(ctx, error_event(directive, error_type_for(st), failure), result);
}

/* ---- custom skills ---- */

/* What is wrong with a custom skill request's shape, or NULL. */
static const char *malformed_skill_request(json_t *event)
{
    if (!json_is_string(json_object_get(event, "version")))
        return "version must be a string (\"1.0\")";
    json_t *request = json_object_get(event, "request");
    if (!json_is_object(request) || !json_is_string(json_object_get(request, "type")))
        return "request.type must be a string";
    if (!json_is_string(json_object_get(request, "requestId")))
        return "request.requestId must be a string";
    json_t *session = json_object_get(event, "session"), *context = json_object_get(event, "context");
    if (session && !json_is_object(session))
        return "session must be an object";
    if (context && !json_is_object(context))
        return "context must be an object";
    return NULL;
}

/* The user's token: session.user (requests within a session), context.System.user (requests
 * outside one, such as AudioPlayer events), else the configured long-lived token. */
static const char *skill_token(const suga_ctx *ctx, json_t *event)
{
    json_t *system_user = json_object_get(json_object_get(json_object_get(event, "context"), "System"), "user");
    json_t *candidates[] = {
        json_object_get(json_object_get(json_object_get(event, "session"), "user"), "accessToken"),
        json_object_get(system_user, "accessToken"),
    };
    return first_token(ctx, candidates, sizeof candidates / sizeof *candidates);
}

/* Alexa saying what went wrong; a LinkAccount card when linking the account again is the cure.
 * A SessionEndedRequest gets an empty response: Alexa accepts no speech in answer to it. */
static suga_status spoken_failure(suga_ctx *ctx, bool session_ended, const char *speech, bool link_account,
                                  json_t **result)
{
    if (session_ended)
        return suga_util_result(ctx, json_pack("{s:s, s:{}}", "version", "1.0", "response"), result);
    json_t *args = json_pack("{s:s, s:b}", "speech", speech, "card_link_account", link_account);
    if (!args)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory", ctx->op->name);
    suga_status st = suga_call_op_json(ctx, SUGA_OP_LAMBDA_CUSTOM_SKILL_RESPONSE, args, result);
    json_decref(args);
    return st;
}

suga_status suga_handle_alexa_custom_skill(suga_ctx *ctx, const suga_args_alexa_custom_skill *args, json_t **result)
{
    json_t *event = args->event;
    const char *problem = malformed_skill_request(event);
    if (problem) /* Alexa never sends one: the caller is a person or a test, who is better told */
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: not a custom skill request: %s", ctx->op->name, problem);
    const char *type = json_string_value(json_object_get(json_object_get(event, "request"), "type"));
    bool session_ended = !strcmp(type, "SessionEndedRequest");
    const char *token = skill_token(ctx, event);
    if (!token) {
        char warning[SUGA_ERROR_MAX];
        snprintf(warning, sizeof warning,
                 "%s: the request carries no access token (is account linking set up?) and HOME_ASSISTANT_TOKEN is "
                 "not set",
                 ctx->op->name);
        suga_log_write(ctx, SUGA_LOG_WARNING, warning, NULL, NULL);
        return spoken_failure(ctx, session_ended, "To use this skill, please link your Home Assistant account in the "
                              "Alexa app.", true, result);
    }
    char failure[SUGA_ERROR_MAX];
    suga_status st = forward(ctx, SUGA_OP_HOMEASSISTANT_ALEXA_INTENT, "event", event, token, "response", result,
                             failure);
    switch (st) {
    case SUGA_OK:
        return SUGA_OK;
    case SUGA_E_UNAVAILABLE:
        return spoken_failure(ctx, session_ended, "Home Assistant is not reachable right now. Please try again in a "
                              "moment.", false, result);
    case SUGA_E_INVALID_ARG: /* the token, the only argument not checked here */
        return spoken_failure(ctx, session_ended, "Home Assistant did not accept your account link. Please link "
                              "your account again in the Alexa app.", true, result);
    default:
        return spoken_failure(ctx, session_ended, "Sorry, Home Assistant could not handle that request.", false,
                              result);
    }
}

/* ---- answers for events that could not be run (routes: on_error) ---- */

/* The ErrorResponse type for a failure's status name (lambda/events.c passes suga_status_name);
 * a name that is no status's is answered as an internal error, like a status without a type. */
static const char *error_type_for_status(const char *name)
{
    suga_status status = SUGA_E_INTERNAL;
    suga_status_from_name(name, &status);
    return suga_status_alexa_error_type(status);
}

suga_status suga_handle_alexa_error_response(suga_ctx *ctx, const suga_args_alexa_error_response *args, json_t **result)
{
    json_t *directive = json_object_get(args->event, "directive");
    return suga_util_result(ctx,
                            error_event(json_is_object(directive) ? directive : NULL,
                                        error_type_for_status(args->status.ptr), args->message.ptr),
                            result);
}

suga_status suga_handle_alexa_skill_error_speech(suga_ctx *ctx, const suga_args_alexa_skill_error_speech *args, json_t **result)
{
    const char *type = json_string_value(json_object_get(json_object_get(args->event, "request"), "type"));
    bool session_ended = type && !strcmp(type, "SessionEndedRequest");
    const char *status = args->status.ptr;
    const char *speech = !strcmp(status, "budget_exhausted")
                             ? "This skill has used up its budget for the month. Please try again next month."
                         : !strcmp(status, "unavailable")
                             ? "Home Assistant is not reachable right now. Please try again in a moment."
                             : "Sorry, something went wrong while handling that request.";
    return spoken_failure(ctx, session_ended, speech, false, result);
}
