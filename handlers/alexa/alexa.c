/* alexa.c: the Alexa Smart Home bridge.
 *
 * A directive is checked (payloadVersion 3, header names, a token), AcceptGrant is answered
 * here (Home Assistant only needs the user's token, which Alexa sends with every directive), and
 * everything else goes to Home Assistant's own Alexa integration through
 * homeassistant.alexa_smart_home, which sits behind the homeassistant circuit breaker. Whatever
 * fails becomes an Alexa ErrorResponse event that keeps the directive's correlationToken and
 * endpointId, so Alexa can say what went wrong instead of "the device is not responding":
 *
 *   Home Assistant down, timing out, or its breaker open  ENDPOINT_UNREACHABLE
 *   Home Assistant refused the token (401/403)            INVALID_AUTHORIZATION_CREDENTIAL
 *   a malformed directive                                 INVALID_DIRECTIVE
 *   anything else                                         INTERNAL_ERROR
 *
 * Tokens are never logged, never part of a message, and never copied into a response.
 */
#include <string.h>

#include "config/suga_settings.h"
#include "suga_ops.h"
#include "utility/suga_utility.h"

/* {"event": {"header": {...ErrorResponse...}, "endpoint"?: {"endpointId"}, "payload": {type, message}}} */
static json_t *error_event(json_t *directive, const char *type, const char *message)
{
    json_t *header = json_object_get(directive, "header");
    json_t *correlation = json_object_get(header, "correlationToken");
    json_t *endpoint_id = json_object_get(json_object_get(directive, "endpoint"), "endpointId");
    char message_id[SUGA_UUID_LEN + 1];
    if (suga_util_uuid4(message_id) != SUGA_OK)
        strcpy(message_id, "00000000-0000-4000-8000-000000000000");
    char clean[SUGA_ERROR_MAX];
    suga_utf8_sanitize(message, clean, sizeof clean);
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
 * configured long-lived token (a fallback only, as in Home Assistant's forwarder script). */
static const char *user_token(json_t *directive, const suga_settings *settings)
{
    json_t *payload = json_object_get(directive, "payload");
    json_t *candidates[] = {
        json_object_get(json_object_get(json_object_get(directive, "endpoint"), "scope"), "token"),
        json_object_get(json_object_get(payload, "scope"), "token"),
        json_object_get(json_object_get(payload, "grantee"), "token"),
    };
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++)
        if (json_is_string(candidates[i]) && json_string_length(candidates[i]))
            return json_string_value(candidates[i]);
    return settings && settings->home_assistant_token[0] ? settings->home_assistant_token : NULL;
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

suga_status alexa_smart_home(suga_ctx *ctx, const suga_args_alexa_smart_home *args, json_t **result)
{
    json_t *directive = args->directive;
    const char *problem = malformed(directive);
    if (problem)
        return suga_util_result(ctx, "alexa.smart_home", error_event(directive, "INVALID_DIRECTIVE", problem), result);
    json_t *header = json_object_get(directive, "header");
    const char *ns = json_string_value(json_object_get(header, "namespace"));
    const char *name = json_string_value(json_object_get(header, "name"));
    if (!strcmp(ns, "Alexa.Authorization") && !strcmp(name, "AcceptGrant"))
        return suga_util_result(ctx, "alexa.smart_home", accept_grant_response(), result);
    const suga_settings *settings = NULL;
    suga_ctx local = *ctx;
    if (suga_settings_get(&settings, &local) != SUGA_OK)
        settings = NULL; /* checked at start-up; a later failure leaves only the directive's token */
    const char *token = user_token(directive, settings);
    if (!token)
        return suga_util_result(ctx, "alexa.smart_home",
                                error_event(directive, "INVALID_AUTHORIZATION_CREDENTIAL",
                                            "the directive carries no token and HOME_ASSISTANT_TOKEN is not set"),
                                result);
    json_t *forward = json_pack("{s:O, s:s}", "directive", directive, "access_token", token);
    if (!forward)
        return suga_fail(ctx, SUGA_E_NOMEM, "alexa.smart_home: out of memory");
    local.error[0] = '\0';
    json_t *answer = NULL;
    suga_status st = suga_call_json(&local, "homeassistant.alexa_smart_home", sizeof "homeassistant.alexa_smart_home" - 1,
                                    forward, &answer);
    json_decref(forward);
    if (st == SUGA_OK && json_is_object(json_object_get(answer, "event"))) {
        *result = answer;
        return SUGA_OK;
    }
    json_decref(answer);
    if (st == SUGA_OK)
        return suga_util_result(ctx, "alexa.smart_home",
                                error_event(directive, "INTERNAL_ERROR", "Home Assistant answered without an event"),
                                result);
    return suga_util_result(ctx, "alexa.smart_home", error_event(directive, error_type_for(st), local.error), result);
}
