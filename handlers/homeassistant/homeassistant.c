/* homeassistant.c: Home Assistant's REST API as operations.
 *
 * Every request goes out through http_client.make_request, called through the engine: that
 * loads the lazy http_client module (and libcurl) on first use, clips the timeout to the
 * invocation's deadline and keeps the connection alive across invocations. The base URL, the
 * default token and TLS verification come from the deployment's settings (suga_settings.h); a
 * token given with the call (an Alexa user's) wins over the configured one. Tokens are never
 * logged and never part of a message.
 *
 * Statuses: a transport failure or a 5xx answer is SUGA_E_UNAVAILABLE (it counts for the
 * homeassistant circuit breaker, and idempotent reads are retried); 401/403 is
 * SUGA_E_INVALID_ARG ("Home Assistant refused the token": the caller's credential, which must
 * not open the breaker); 404 is SUGA_E_NOT_FOUND; another 4xx is SUGA_E_HANDLER; no
 * HOME_ASSISTANT_URL is SUGA_E_STATE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/suga_settings.h"
#include "suga_clock.h"
#include "suga_ops.h"
#include "suga_result_cache.h"
#include "utility/suga_utility.h"

/* The request timeout: Alexa waits 8 s for the whole skill; leave room for the rest. */
#define HA_TIMEOUT_MS 5000

/* The bearer token: the call's own, else the configured one; NULL with a message when neither. */
static const char *bearer(suga_ctx *ctx, const suga_settings *s, bool has_token, suga_str token)
{
    if (has_token && token.len)
        return token.ptr;
    if (s->home_assistant_token[0])
        return s->home_assistant_token;
    suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: no access token: pass access_token, or set HOME_ASSISTANT_TOKEN",
              ctx->op->name);
    return NULL;
}

/* What a non-2xx answer means, as a status and a message naming the request (never the token). */
static suga_status answer_failed(suga_ctx *ctx, const char *method, const char *path, int status, json_t *body)
{
    const char *op = ctx->op->name;
    const char *detail = json_string_value(json_object_get(body, "message"));
    char shown[160] = "";
    if (detail)
        suga_util_quote(detail, strlen(detail), 120, shown, sizeof shown);
    if (status == 401 || status == 403)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: Home Assistant refused the token (%d) for %s %s", op, status,
                         method, path);
    if (status == 404)
        return suga_fail(ctx, SUGA_E_NOT_FOUND, "%s: Home Assistant has no %s (404)%s%s", op, path,
                         detail ? ": " : "", shown);
    if (status >= 500)
        return suga_fail(ctx, SUGA_E_UNAVAILABLE, "%s: Home Assistant answered %d to %s %s%s%s", op, status, method,
                         path, detail ? ": " : "", shown);
    return suga_fail(ctx, SUGA_E_HANDLER, "%s: Home Assistant answered %d to %s %s%s%s", op, status, method, path,
                     detail ? ": " : "", shown);
}

/* One request to Home Assistant: *out is the parsed body of a 2xx answer (a new reference). */
static suga_status ha_request(suga_ctx *ctx, const char *method, const char *path, json_t *body, bool has_token,
                              suga_str token, json_t **out)
{
    *out = NULL;
    const char *op = ctx->op->name;
    const suga_settings *s;
    suga_status st = suga_settings_get(&s, ctx);
    if (st != SUGA_OK)
        return st;
    if (!s->home_assistant_url[0])
        return suga_fail(ctx, SUGA_E_STATE, "%s: HOME_ASSISTANT_URL is not set", op);
    const char *bearer_token = bearer(ctx, s, has_token, token);
    if (!bearer_token)
        return SUGA_E_INVALID_ARG;
    size_t auth_len = strlen(bearer_token) + sizeof "Bearer ";
    char *auth = malloc(auth_len);
    char url[1024];
    int n = snprintf(url, sizeof url, "%s%s", s->home_assistant_url, path);
    json_t *args = NULL;
    if (auth) {
        snprintf(auth, auth_len, "Bearer %s", bearer_token);
        args = json_pack("{s:s, s:s, s:{s:s, s:s}, s:i, s:b}", "method", method, "url", url, "headers",
                         "Authorization", auth, "Accept", "application/json", "timeout_ms", HA_TIMEOUT_MS,
                         "verify_tls", s->verify_ssl);
        free(auth);
    }
    if (n < 0 || (size_t)n >= sizeof url) {
        json_decref(args);
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: the URL for %s is too long", op, path);
    }
    if (!args || (body && json_object_set(args, "body", body))) {
        json_decref(args);
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the request", op);
    }
    json_t *response = NULL;
    st = suga_call_op_json(ctx, SUGA_OP_HTTP_CLIENT_MAKE_REQUEST, args, &response);
    json_decref(args);
    if (st != SUGA_OK) /* http_client's status and message (which never shows the Authorization value) */
        return st;
    int status = (int)json_integer_value(json_object_get(response, "status"));
    json_t *answer = json_object_get(response, "body");
    if (status < 200 || status > 299) {
        st = answer_failed(ctx, method, path, status, answer);
        json_decref(response);
        return st;
    }
    *out = json_incref(answer ? answer : json_null());
    json_decref(response);
    return SUGA_OK;
}

static const suga_op *get_state_op(void)
{
    return &suga_main_table.ops[SUGA_OP_HOMEASSISTANT_GET_STATE];
}

/* The cache key of get_state(entity_id): the arguments a call without a token would be keyed by. */
static json_t *state_key(json_t *state)
{
    json_t *id = json_object_get(state, "entity_id");
    return json_is_string(id) ? json_pack("{s:O}", "entity_id", id) : NULL;
}

/* ---- operations ---- */

suga_status suga_handle_homeassistant_health(suga_ctx *ctx, const suga_args_homeassistant_health *args, json_t **result)
{
    int64_t t0 = suga_clock_monotonic_ms();
    json_t *body;
    suga_status st = ha_request(ctx, "GET", "/api/", NULL, args->has_access_token, args->access_token, &body);
    if (st != SUGA_OK)
        return st;
    int64_t t1 = suga_clock_monotonic_ms();
    json_t *message = json_object_get(body, "message");
    json_t *out = json_pack("{s:b, s:O, s:I}", "ok", 1, "message", message ? message : json_null(), "elapsed_ms",
                            (json_int_t)(t1 - t0));
    json_decref(body);
    return suga_util_result(ctx, out, result);
}

suga_status suga_handle_homeassistant_config(suga_ctx *ctx, const suga_args_homeassistant_config *args, json_t **result)
{
    return ha_request(ctx, "GET", "/api/config", NULL, args->has_access_token, args->access_token, result);
}

suga_status suga_handle_homeassistant_get_state(suga_ctx *ctx, const suga_args_homeassistant_get_state *args, json_t **result)
{
    char path[300];
    snprintf(path, sizeof path, "/api/states/%.*s", (int)args->entity_id.len, args->entity_id.ptr);
    return ha_request(ctx, "GET", path, NULL, args->has_access_token, args->access_token, result);
}

static bool contains_nocase(const char *haystack, const char *needle, size_t needle_len)
{
    if (!haystack)
        return false;
    for (const char *p = haystack; *p; p++)
        if (!strncasecmp(p, needle, needle_len))
            return true;
    return false;
}

static bool state_matches(json_t *state, const suga_args_homeassistant_list_states *a)
{
    const char *id = json_string_value(json_object_get(state, "entity_id"));
    if (!id)
        return false;
    json_t *attrs = json_object_get(state, "attributes");
    if (a->has_domain && (strncmp(id, a->domain.ptr, a->domain.len) || id[a->domain.len] != '.'))
        return false;
    if (a->has_area) {
        const char *area = json_string_value(json_object_get(attrs, "area_id"));
        if (!area)
            area = json_string_value(json_object_get(attrs, "area"));
        if (!area || strlen(area) != a->area.len || strncmp(area, a->area.ptr, a->area.len))
            return false;
    }
    if (a->has_pattern && a->pattern.len &&
        !contains_nocase(id, a->pattern.ptr, a->pattern.len) &&
        !contains_nocase(json_string_value(json_object_get(attrs, "friendly_name")), a->pattern.ptr, a->pattern.len))
        return false;
    return true;
}

suga_status suga_handle_homeassistant_list_states(suga_ctx *ctx, const suga_args_homeassistant_list_states *args,
                                      json_t **result)
{
    json_t *all;
    suga_status st = ha_request(ctx, "GET", "/api/states", NULL, args->has_access_token, args->access_token, &all);
    if (st != SUGA_OK)
        return st;
    if (!json_is_array(all)) {
        json_decref(all);
        return suga_fail(ctx, SUGA_E_HANDLER, "%s: /api/states did not answer a list", ctx->op->name);
    }
    json_t *kept = json_array();
    size_t i;
    json_t *state;
    json_array_foreach(all, i, state) {
        json_t *key = state_key(state);
        if (key && !args->has_access_token) /* a listing is as fresh as a get: seed get_state's cache */
            suga_result_cache_put(&suga_main_table, get_state_op(), key, state);
        json_decref(key);
        if (kept && state_matches(state, args) && json_array_append(kept, state)) {
            json_decref(kept);
            kept = NULL;
        }
    }
    json_decref(all);
    json_t *out = kept ? json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(kept), "states", kept) : NULL;
    return suga_util_result(ctx, out, result);
}

/* POST a service call; the states it changed lose their cached get_state results. */
static suga_status service_call(suga_ctx *ctx, suga_str domain, suga_str service, const char *entity_id, json_t *data,
                                bool has_token, suga_str token, json_t **result)
{
    char path[200];
    snprintf(path, sizeof path, "/api/services/%.*s/%.*s", (int)domain.len, domain.ptr, (int)service.len, service.ptr);
    json_t *body = data ? json_deep_copy(data) : json_object();
    if (!body || !json_is_object(body) || (entity_id && json_object_set_new(body, "entity_id", json_string(entity_id)))) {
        json_decref(body);
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the service data", ctx->op->name);
    }
    json_t *changed;
    suga_status st = ha_request(ctx, "POST", path, body, has_token, token, &changed);
    json_decref(body);
    if (st != SUGA_OK)
        return st;
    size_t i;
    json_t *state;
    if (json_is_array(changed))
        json_array_foreach(changed, i, state) {
            json_t *key = state_key(state);
            if (key)
                suga_result_cache_forget(&suga_main_table, get_state_op(), key);
            json_decref(key);
        }
    if (entity_id) { /* also when Home Assistant listed no change (the state was already so) */
        json_t *key = json_pack("{s:s}", "entity_id", entity_id);
        suga_result_cache_forget(&suga_main_table, get_state_op(), key);
        json_decref(key);
    }
    json_t *out = json_pack("{s:o}", "changed", json_is_array(changed) ? changed : json_array());
    if (!json_is_array(changed))
        json_decref(changed);
    return suga_util_result(ctx, out, result);
}

suga_status suga_handle_homeassistant_call_service(suga_ctx *ctx, const suga_args_homeassistant_call_service *args,
                                       json_t **result)
{
    char entity[256];
    if (args->has_entity_id)
        snprintf(entity, sizeof entity, "%.*s", (int)args->entity_id.len, args->entity_id.ptr);
    return service_call(ctx, args->domain, args->service, args->has_entity_id ? entity : NULL,
                        args->has_data ? args->data : NULL, args->has_access_token, args->access_token, result);
}

/* One item of call_services, checked like call_service's own arguments would be. */
static suga_status one_call(suga_ctx *ctx, json_t *item, size_t index, bool has_token, suga_str token, json_t **out)
{
    json_t *args = json_is_object(item) ? json_deep_copy(item) : NULL;
    if (!args)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: call %zu must be an object", ctx->op->name, index);
    if (has_token)
        json_object_set_new(args, "access_token", json_stringn(token.ptr, token.len));
    suga_status st = suga_call_op_json(ctx, SUGA_OP_HOMEASSISTANT_CALL_SERVICE, args, out);
    json_decref(args);
    return st;
}

suga_status suga_handle_homeassistant_call_services(suga_ctx *ctx, const suga_args_homeassistant_call_services *args,
                                        json_t **result)
{
    json_t *results = json_array();
    json_int_t ok = 0, failed = 0, skipped = 0;
    size_t i;
    json_t *item;
    json_array_foreach(args->calls, i, item) {
        json_t *entry;
        if (args->stop_on_error && failed) {
            skipped++;
            entry = json_pack("{s:b}", "skipped", 1);
        } else {
            suga_ctx item_ctx = *ctx;
            item_ctx.error[0] = '\0';
            json_t *value = NULL;
            suga_status st = one_call(&item_ctx, item, i, args->has_access_token, args->access_token, &value);
            if (st == SUGA_OK) {
                ok++;
                entry = json_pack("{s:b, s:o}", "ok", 1, "changed", json_incref(json_object_get(value, "changed")));
            } else {
                failed++;
                char message[SUGA_ERROR_MAX];
                suga_utf8_sanitize(item_ctx.error, message, sizeof message);
                entry = json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "status", suga_status_name(st), "message",
                                  message);
            }
            json_decref(value);
        }
        if (!results || !entry || json_array_append_new(results, entry)) {
            json_decref(results);
            return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory", ctx->op->name);
        }
    }
    json_t *out = json_pack("{s:o, s:I, s:I, s:I}", "results", results, "succeeded", ok, "failed", failed, "skipped",
                            skipped);
    return suga_util_result(ctx, out, result);
}

/* The entities of one domain, reduced to what a listing needs. */
static suga_status list_domain(suga_ctx *ctx, const char *domain, const char *key, bool has_token, suga_str token,
                               json_t **result)
{
    json_t *all;
    suga_status st = ha_request(ctx, "GET", "/api/states", NULL, has_token, token, &all);
    if (st != SUGA_OK)
        return st;
    json_t *items = json_array();
    size_t len = strlen(domain), i;
    json_t *state;
    json_array_foreach(all, i, state) {
        const char *id = json_string_value(json_object_get(state, "entity_id"));
        if (!items || !id || strncmp(id, domain, len) || id[len] != '.')
            continue;
        json_t *attrs = json_object_get(state, "attributes");
        json_t *name = json_object_get(attrs, "friendly_name"), *last = json_object_get(attrs, "last_triggered");
        if (json_array_append_new(items, json_pack("{s:s, s:O, s:O, s:O}", "entity_id", id, "name",
                                                   name ? name : json_null(), "state",
                                                   json_object_get(state, "state") ? json_object_get(state, "state")
                                                                                   : json_null(),
                                                   "last_triggered", last ? last : json_null()))) {
            json_decref(items);
            items = NULL;
        }
    }
    json_decref(all);
    json_t *out = items ? json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(items), key, items) : NULL;
    return suga_util_result(ctx, out, result);
}

suga_status suga_handle_homeassistant_list_automations(suga_ctx *ctx, const suga_args_homeassistant_list_automations *args,
                                           json_t **result)
{
    return list_domain(ctx, "automation", "automations", args->has_access_token, args->access_token, result);
}

suga_status suga_handle_homeassistant_list_scripts(suga_ctx *ctx, const suga_args_homeassistant_list_scripts *args,
                                       json_t **result)
{
    return list_domain(ctx, "script", "scripts", args->has_access_token, args->access_token, result);
}

suga_status suga_handle_homeassistant_trigger_automation(suga_ctx *ctx, const suga_args_homeassistant_trigger_automation *args,
                                             json_t **result)
{
    char entity[256];
    snprintf(entity, sizeof entity, "%.*s", (int)args->entity_id.len, args->entity_id.ptr);
    json_t *data = json_pack("{s:b}", "skip_condition", args->skip_condition);
    suga_status st = data ? service_call(ctx, (suga_str){"automation", 10}, (suga_str){"trigger", 7}, entity, data,
                                         args->has_access_token, args->access_token, result)
                          : suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory", ctx->op->name);
    json_decref(data);
    return st;
}

suga_status suga_handle_homeassistant_run_script(suga_ctx *ctx, const suga_args_homeassistant_run_script *args, json_t **result)
{
    char entity[256];
    snprintf(entity, sizeof entity, "%.*s", (int)args->entity_id.len, args->entity_id.ptr);
    json_t *data = args->has_variables ? json_pack("{s:O}", "variables", args->variables) : json_object();
    suga_status st = data ? service_call(ctx, (suga_str){"script", 6}, (suga_str){"turn_on", 7}, entity, data,
                                         args->has_access_token, args->access_token, result)
                          : suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory", ctx->op->name);
    json_decref(data);
    return st;
}

suga_status suga_handle_homeassistant_conversation(suga_ctx *ctx, const suga_args_homeassistant_conversation *args,
                                       json_t **result)
{
    json_t *body = json_pack("{s:s%}", "text", args->text.ptr, args->text.len);
    if (body && args->has_language)
        json_object_set_new(body, "language", json_stringn(args->language.ptr, args->language.len));
    if (body && args->has_conversation_id)
        json_object_set_new(body, "conversation_id", json_stringn(args->conversation_id.ptr, args->conversation_id.len));
    if (!body)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory", ctx->op->name);
    suga_status st = ha_request(ctx, "POST", "/api/conversation/process", body, args->has_access_token,
                                args->access_token, result);
    json_decref(body);
    return st;
}

suga_status suga_handle_homeassistant_alexa_smart_home(suga_ctx *ctx, const suga_args_homeassistant_alexa_smart_home *args,
                                           json_t **result)
{
    json_t *body = json_pack("{s:O}", "directive", args->directive);
    if (!body)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory", ctx->op->name);
    suga_status st = ha_request(ctx, "POST", "/api/alexa/smart_home", body, true, args->access_token, result);
    json_decref(body);
    return st;
}

suga_status suga_handle_homeassistant_alexa_intent(suga_ctx *ctx, const suga_args_homeassistant_alexa_intent *args, json_t **result)
{
    /* the request goes as Alexa sent it: Home Assistant's intent handler reads session, context
     * and request itself */
    return ha_request(ctx, "POST", "/api/alexa", args->event, true, args->access_token, result);
}
