/* events.c: Lambda events → engine requests → replies (events.h). Which operation serves an
 * Alexa directive, a custom skill request or an HTTP path is the spec's routing table's decision
 * (runtime/routes.c), so nothing here names an operation. */
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "runtime_api.h"
#include "suga_routes.h"

const char *suga_lambda_error_type(suga_status status)
{
    return suga_status_lambda_error_type(status);
}

void suga_lambda_reply_free(suga_lambda_reply *reply)
{
    if (!reply)
        return;
    free(reply->body);
    reply->body = NULL;
    reply->body_len = 0;
}

/* A function error of `type`; the message is already in ctx->error. */
static suga_status error_reply(suga_lambda_reply *reply, const char *type)
{
    reply->is_error = true;
    snprintf(reply->error_type, sizeof reply->error_type, "%s", type);
    return SUGA_OK;
}

/* The payload `value` (consumed; NULL = JSON null), or ResponseTooLarge past Lambda's limit. */
static suga_status body_reply(suga_lambda_reply *reply, suga_ctx *ctx, json_t *value)
{
    char *text = json_dumps(value ? value : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(value);
    if (!text)
        return suga_fail(ctx, SUGA_E_NOMEM, "out of memory encoding the response");
    size_t len = strlen(text);
    if (len > SUGA_RAPI_MAX_PAYLOAD) {
        free(text);
        suga_fail(ctx, SUGA_E_LIMIT, "the response is %zu bytes, over Lambda's limit of %d bytes for a synchronous "
                                     "invocation (ask for less, or split the batch)",
                  len, SUGA_RAPI_MAX_PAYLOAD);
        return error_reply(reply, "ResponseTooLarge");
    }
    reply->body = text;
    reply->body_len = len;
    return SUGA_OK;
}

/* Run `request` (borrowed) through the engine: its result, or a function error. */
static suga_status run_request(suga_engine *e, suga_ctx *ctx, json_t *request, suga_lambda_reply *reply)
{
    json_t *result = NULL;
    suga_status st = suga_engine_request(e, ctx, request, &result);
    if (st != SUGA_OK)
        return error_reply(reply, suga_lambda_error_type(st));
    return body_reply(reply, ctx, result);
}

/* {"op": NAME, "args": ARGS} (ARGS borrowed; NULL = none). */
static json_t *op_request(const suga_op *op, json_t *args)
{
    json_t *request = json_pack("{s:s}", "op", op->name);
    if (request && args && json_object_set(request, "args", args)) {
        json_decref(request);
        return NULL;
    }
    return request;
}

/* ---- Alexa directives and custom skill requests ---- */

/* An Alexa-shaped event must get an Alexa-shaped answer: when its operation could not run or
 * failed (the guard refused it, the settings could not be loaded, the operation failed, the
 * answer was too large), the route's on_error operation answers it from the status and the
 * message, called directly (it is the refusal's answer, not a request the guard counts). Only a
 * route without one, or an on_error that fails too, leaves a function error. */
static suga_status answer_failure(suga_engine *e, suga_ctx *ctx, const suga_op *on_error, json_t *event,
                                  suga_status failed, const char *error_type, suga_lambda_reply *reply)
{
    if (!on_error)
        return error_reply(reply, error_type);
    char message[SUGA_ERROR_MAX];
    suga_utf8_sanitize(ctx->error, message, sizeof message);
    json_t *args = json_pack("{s:O, s:s, s:s}", "event", event, "status", suga_status_name(failed), "message", message);
    json_t *result = NULL;
    suga_status st = args ? suga_table_call_op_json(e->table, ctx, on_error, args, &result)
                          : suga_fail(ctx, SUGA_E_NOMEM, "out of memory building the arguments of %s", on_error->name);
    json_decref(args);
    if (st != SUGA_OK)
        return error_reply(reply, suga_lambda_error_type(st));
    *reply = (suga_lambda_reply){0};
    return body_reply(reply, ctx, result);
}

/* `op` with the one argument {param: value}; a failure, or an answer too large for Lambda, is
 * answered by on_error. */
static suga_status run_routed(suga_engine *e, suga_ctx *ctx, const suga_op *op, const suga_op *on_error,
                              const char *param, json_t *value, json_t *event, suga_lambda_reply *reply)
{
    json_t *args = json_pack("{s:O}", param, value);
    json_t *request = args ? op_request(op, args) : NULL;
    json_decref(args);
    if (!request)
        return suga_fail(ctx, SUGA_E_NOMEM, "out of memory building the request");
    json_t *result = NULL;
    suga_status st = suga_engine_request(e, ctx, request, &result);
    json_decref(request);
    if (st == SUGA_OK && (st = body_reply(reply, ctx, result)) == SUGA_OK && !reply->is_error)
        return SUGA_OK;
    if (st == SUGA_OK) /* the answer was over Lambda's limit: body_reply made it a function error */
        st = SUGA_E_LIMIT;
    return answer_failure(e, ctx, on_error, event, st, suga_lambda_error_type(st), reply);
}

/* The route of a directive; a directive without a usable header goes to the catch-all route,
 * whose operation answers INVALID_DIRECTIVE (it keeps the correlationToken when there is one). */
static suga_status alexa_route(suga_engine *e, suga_ctx *ctx, json_t *directive, const suga_op **op,
                               const suga_op **on_error)
{
    json_t *header = json_object_get(directive, "header");
    const char *ns = json_string_value(json_object_get(header, "namespace"));
    const char *name = json_string_value(json_object_get(header, "name"));
    const char *message_id = json_string_value(json_object_get(header, "messageId"));
    if (message_id && !ctx->correlation_id) /* Alexa's id for this exchange, carried into the logs */
        ctx->correlation_id = message_id;
    if (suga_route_alexa(e->table, ns && name ? ns : "", ns && name ? name : "", op, on_error) != SUGA_OK)
        return suga_fail(ctx, SUGA_E_NOT_FOUND, "no operation serves Alexa directive %.64s.%.64s (routes.alexa in "
                                                "the spec)",
                         ns ? ns : "?", name ? name : "?");
    return SUGA_OK;
}

static suga_status skill_route(suga_engine *e, suga_ctx *ctx, json_t *event, const suga_op **op,
                               const suga_op **on_error)
{
    json_t *request = json_object_get(event, "request");
    const char *type = json_string_value(json_object_get(request, "type"));
    const char *request_id = json_string_value(json_object_get(request, "requestId"));
    if (request_id && !ctx->correlation_id) /* Alexa's id for this request, carried into the logs */
        ctx->correlation_id = request_id;
    if (suga_route_alexa_skill(e->table, type, op, on_error) != SUGA_OK)
        return suga_fail(ctx, SUGA_E_NOT_FOUND, "no operation serves custom skill request %.64s (routes.alexa_skill "
                                                "in the spec)",
                         type);
    return SUGA_OK;
}

/* ---- HTTP events (Function URL, API Gateway HTTP API 2.0 and REST 1.0 payloads) ---- */

/* {"statusCode", "headers", "body"}: what Function URLs and API Gateway expect back. `allow`
 * (may be NULL) is the Allow header a 405 must carry. */
static suga_status http_reply(suga_lambda_reply *reply, suga_ctx *ctx, int status_code, json_t *body,
                              const char *allow)
{
    char *text = json_dumps(body ? body : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(body);
    json_t *response = text ? json_pack("{s:i, s:{s:s}, s:s}", "statusCode", status_code, "headers", "content-type",
                                        "application/json", "body", text)
                            : NULL;
    free(text);
    if (response && allow &&
        json_object_set_new(json_object_get(response, "headers"), "allow", json_string(allow))) {
        json_decref(response);
        response = NULL;
    }
    if (!response)
        return suga_fail(ctx, SUGA_E_NOMEM, "out of memory building the HTTP response");
    return body_reply(reply, ctx, response);
}

/* {"error": {"status", "message"}} with the HTTP status code; `status` is a suga status name, or
 * what the code means when no status says it ("method_not_allowed"). */
static suga_status http_error(suga_lambda_reply *reply, suga_ctx *ctx, const char *status, int status_code,
                              const char *allow)
{
    char message[SUGA_ERROR_MAX];
    suga_utf8_sanitize(ctx->error, message, sizeof message);
    json_t *body = json_pack("{s:{s:s, s:s}}", "error", "status", status, "message", message);
    if (!body)
        return suga_fail(ctx, SUGA_E_NOMEM, "out of memory building the HTTP error");
    return http_reply(reply, ctx, status_code, body, allow);
}

static suga_status http_failure(suga_lambda_reply *reply, suga_ctx *ctx, suga_status st)
{
    return http_error(reply, ctx, suga_status_name(st), suga_status_http(st), NULL);
}

/* Method and path from either payload format; NULL when the event has neither. */
static void http_target(json_t *event, const char **method, const char **path)
{
    json_t *http = json_object_get(json_object_get(event, "requestContext"), "http");
    *method = json_string_value(json_object_get(http, "method")); /* 2.0 */
    if (!*method)
        *method = json_string_value(json_object_get(event, "httpMethod")); /* 1.0 */
    *path = json_string_value(json_object_get(event, "rawPath"));
    if (!*path)
        *path = json_string_value(json_object_get(event, "path"));
}

/* The operation's arguments: the JSON object in the body, or none. */
static suga_status http_args(suga_ctx *ctx, json_t *event, json_t **args)
{
    *args = NULL;
    json_t *query = json_object_get(event, "queryStringParameters");
    if (json_is_object(query) && json_object_size(query))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "query parameters are not read: send the arguments as a JSON object "
                                                  "in the body");
    json_t *body = json_object_get(event, "body");
    if (!json_is_string(body) || json_string_length(body) == 0)
        return SUGA_OK;
    if (json_is_true(json_object_get(event, "isBase64Encoded")))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "the body must be JSON text (send it with content-type "
                                                  "application/json, not base64-encoded)");
    json_error_t err;
    *args = json_loadb(json_string_value(body), json_string_length(body), 0, &err);
    if (!*args)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "the body is not valid JSON (line %d, column %d): %s", err.line,
                         err.column, err.text);
    return SUGA_OK;
}

static suga_status handle_http(suga_engine *e, suga_ctx *ctx, json_t *event, const suga_lambda_refusal *refusal,
                               suga_lambda_reply *reply)
{
    const char *method, *path;
    http_target(event, &method, &path);
    if (!method || !path) {
        suga_fail(ctx, SUGA_E_INVALID_ARG, "HTTP event without a method and a path (requestContext.http.method and "
                                           "rawPath, or httpMethod and path)");
        return http_failure(reply, ctx, SUGA_E_INVALID_ARG);
    }
    size_t len = strcspn(path, "?");
    while (len > 1 && path[len - 1] == '/') /* /health/ is /health */
        len--;
    const suga_op *op;
    bool wrong_method = false;
    if (suga_route_http(e->table, method, path, len, &op, &wrong_method) != SUGA_OK) {
        suga_fail(ctx, SUGA_E_NOT_FOUND, "%s %.*s: %s", method, (int)(len > 200 ? 200 : len), path,
                  wrong_method ? "method not allowed on this path" : "no such path");
        if (!wrong_method)
            return http_failure(reply, ctx, SUGA_E_NOT_FOUND);
        char allow[128] = "";
        suga_route_http_allow(e->table, path, len, allow, sizeof allow);
        return http_error(reply, ctx, "method_not_allowed", 405, allow);
    }
    if (refusal)
        return http_failure(reply, ctx, refusal->status);
    json_t *args;
    suga_status st = http_args(ctx, event, &args);
    if (st != SUGA_OK)
        return http_failure(reply, ctx, st);
    json_t *request = op_request(op, args);
    json_decref(args);
    if (!request)
        return suga_fail(ctx, SUGA_E_NOMEM, "out of memory building the request");
    json_t *result = NULL;
    st = suga_engine_request(e, ctx, request, &result);
    json_decref(request);
    if (st != SUGA_OK)
        return http_failure(reply, ctx, st);
    return http_reply(reply, ctx, 200, result, NULL);
}

/* ---- dispatch on the event's shape ---- */

typedef enum event_kind { EVENT_REQUEST, EVENT_ALEXA, EVENT_SKILL, EVENT_HTTP, EVENT_UNKNOWN } event_kind;

static event_kind kind_of(json_t *doc)
{
    if (json_object_get(doc, "op") || json_object_get(doc, "fusion") || json_object_get(doc, "batch"))
        return EVENT_REQUEST;
    if (json_object_get(doc, "directive")) /* whatever its shape: Alexa must get an Alexa answer */
        return EVENT_ALEXA;
    if (json_is_object(json_object_get(doc, "requestContext")))
        return EVENT_HTTP;
    if (json_is_string(json_object_get(json_object_get(doc, "request"), "type")))
        return EVENT_SKILL;
    return EVENT_UNKNOWN;
}

/* An Alexa directive or custom skill request: its route's operation, or its on_error answer. */
static suga_status handle_alexa_kind(suga_engine *e, suga_ctx *ctx, json_t *doc, event_kind kind,
                                     const suga_lambda_refusal *refusal, suga_lambda_reply *reply)
{
    const suga_op *op, *on_error;
    json_t *directive = json_object_get(doc, "directive");
    suga_status st = kind == EVENT_ALEXA ? alexa_route(e, ctx, directive, &op, &on_error)
                                         : skill_route(e, ctx, doc, &op, &on_error);
    if (st != SUGA_OK)
        return error_reply(reply, kind == EVENT_ALEXA ? "UnsupportedDirective" : "UnsupportedRequest");
    if (refusal)
        return answer_failure(e, ctx, on_error, doc, refusal->status, refusal->error_type, reply);
    return kind == EVENT_ALEXA ? run_routed(e, ctx, op, on_error, "directive", directive, doc, reply)
                               : run_routed(e, ctx, op, on_error, "event", doc, doc, reply);
}

suga_status suga_lambda_handle(suga_engine *engine, suga_ctx *ctx, const char *event, size_t len,
                               const suga_lambda_refusal *refusal, suga_lambda_reply *reply)
{
    *reply = (suga_lambda_reply){0};
    const char *caller_correlation_id = ctx->correlation_id;
    json_error_t err;
    json_t *doc = json_loadb(event, len, 0, &err);
    event_kind kind = doc && json_is_object(doc) ? kind_of(doc) : EVENT_UNKNOWN;
    suga_status st;
    if (kind == EVENT_ALEXA || kind == EVENT_SKILL) {
        st = handle_alexa_kind(engine, ctx, doc, kind, refusal, reply);
    } else if (kind == EVENT_HTTP) {
        st = handle_http(engine, ctx, doc, refusal, reply);
    } else if (refusal) { /* a direct request, or what cannot be told: a function error, as it was given */
        st = error_reply(reply, refusal->error_type);
    } else if (kind == EVENT_REQUEST) {
        st = run_request(engine, ctx, doc, reply);
    } else {
        if (!doc)
            suga_fail(ctx, SUGA_E_INVALID_ARG, "the event is not valid JSON (line %d, column %d): %s", err.line,
                      err.column, err.text);
        else if (!json_is_object(doc))
            suga_fail(ctx, SUGA_E_INVALID_ARG, "the event must be a JSON object");
        else
            suga_fail(ctx, SUGA_E_INVALID_ARG, "the event is neither a request ({\"op\" | \"fusion\" | \"batch\": "
                                               "...}), an Alexa directive ({\"directive\": ...}), an Alexa custom skill "
                                               "request ({\"request\": {\"type\": ...}}) nor an HTTP event "
                                               "({\"requestContext\": ...})");
        st = error_reply(reply, "InvalidEvent");
    }
    ctx->correlation_id = caller_correlation_id; /* it may have pointed into the event (Alexa's ids) */
    json_decref(doc);
    return st;
}
