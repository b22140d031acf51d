/* settings.c: the deployment's settings (suga_settings.h) and the config.settings and
 * config.reload operations. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/suga_config.h"
#include "config/suga_parameter_store.h"
#include "config/suga_settings.h"
#include "suga_clock.h"
#include "suga_handler_test_hooks.h"
#include "suga_log.h"
#include "suga_mask.h"
#include "suga_ops.h"
#include "utility/suga_utility.h"

#define STORE_SOURCE "parameter_store:"
#define TTL_VARIABLE "SUGA_SSM_TTL_SECONDS"
#define DEFAULT_TTL_S 300 /* the extension's own cache (SSM_PARAMETER_STORE_TTL) defaults to 300 s too */

/* The settings Parameter Store can hold, under the prefix, by the variables' own names. */
enum { STORED_URL, STORED_TOKEN, STORED_VERIFY_SSL, STORED_DEBUG, STORED_LOG_LEVEL };
static const struct {
    const char *name, *alias;
} stored[SUGA_SETTINGS_PARAMETERS] = {
    [STORED_URL] = {"HOME_ASSISTANT_URL", "BASE_URL"},
    [STORED_TOKEN] = {"HOME_ASSISTANT_TOKEN", "LONG_LIVED_ACCESS_TOKEN"},
    [STORED_VERIFY_SSL] = {"HOME_ASSISTANT_VERIFY_SSL", "NOT_VERIFY_SSL"},
    [STORED_DEBUG] = {"DEBUG_MODE", "DEBUG"},
    [STORED_LOG_LEVEL] = {"LOG_LEVEL", NULL},
};

static suga_settings current;
static bool loaded;

/* The values of one fetch, by setting; never logged or returned. Static rather than 20 KB of
 * stack, used by one refresh at a time (the runtime is single-threaded) and wiped after it. */
static char fetched[SUGA_SETTINGS_PARAMETERS][sizeof current.home_assistant_token];

/* Parameter Store attempts, for config.settings and debug.diagnostics. */
static struct {
    uint64_t fetches, failures;
    int64_t attempted_at_ms;         /* the last attempt, good or bad: the TTL counts from it */
    char last_error[SUGA_ERROR_MAX]; /* of the last attempt when it failed, else "" */
} store;

/* One setting's text under its name or its alias; "" for unset. *source names where it came from.
 * Both set to different texts is an error (the value is quoted only when show_value). */
static suga_status read_text(suga_ctx *ctx, const char *name, const char *alias, char *out, size_t size,
                             char source[SUGA_SETTINGS_SOURCE_SIZE], bool show_value)
{
    char from_alias[4096] = "";
    suga_status st = suga_config_get_string(name, NULL, out, size, ctx);
    if (st == SUGA_E_LIMIT)
        return suga_fail(ctx, SUGA_E_STATE, "%s is longer than %zu bytes", name, size - 1);
    if (st != SUGA_OK)
        return st;
    if (alias && (st = suga_config_get_string(alias, NULL, from_alias, sizeof from_alias, ctx)) != SUGA_OK)
        return st == SUGA_E_LIMIT ? suga_fail(ctx, SUGA_E_STATE, "%s is too long", alias) : st;
    snprintf(source, SUGA_SETTINGS_SOURCE_SIZE, "%s", out[0] ? name : "default");
    if (!from_alias[0] || (out[0] && !strcmp(out, from_alias)))
        return SUGA_OK;
    if (out[0]) {
        if (show_value)
            return suga_fail(ctx, SUGA_E_STATE, "%s (\"%.100s\") and its alias %s (\"%.100s\") are both set, "
                                                      "to different values: set only one",
                             name, out, alias, from_alias);
        return suga_fail(ctx, SUGA_E_STATE, "%s and its alias %s are both set, to different values (not "
                                                  "shown): set only one",
                         name, alias);
    }
    if (strlen(from_alias) >= size)
        return suga_fail(ctx, SUGA_E_STATE, "%s is longer than %zu bytes", alias, size - 1);
    strcpy(out, from_alias);
    snprintf(source, SUGA_SETTINGS_SOURCE_SIZE, "%s", alias);
    return SUGA_OK;
}

/* A bool under `name` or under `alias`, the alias possibly meaning the opposite. */
static suga_status read_bool(suga_ctx *ctx, const char *name, const char *alias, bool alias_inverted, bool fallback,
                             bool *out, char source[SUGA_SETTINGS_SOURCE_SIZE])
{
    char text[64], alias_text[64] = "";
    suga_status st = suga_config_get_string(name, NULL, text, sizeof text, ctx);
    if (st == SUGA_OK && alias)
        st = suga_config_get_string(alias, NULL, alias_text, sizeof alias_text, ctx);
    if (st == SUGA_E_LIMIT)
        return suga_fail(ctx, SUGA_E_STATE, "%s must be true or false", text[0] ? name : alias);
    if (st != SUGA_OK)
        return st;
    bool value = fallback, from_alias = false;
    if (text[0] && !suga_config_parse_bool(text, &value))
        return suga_fail(ctx, SUGA_E_STATE, "%s must be true or false (or 1/0, yes/no, on/off), got \"%.32s\"",
                         name, text);
    if (alias_text[0]) {
        if (!suga_config_parse_bool(alias_text, &from_alias))
            return suga_fail(ctx, SUGA_E_STATE,
                             "%s must be true or false (or 1/0, yes/no, on/off), got \"%.32s\"", alias, alias_text);
        bool meaning = alias_inverted ? !from_alias : from_alias;
        if (text[0] && meaning != value)
            return suga_fail(ctx, SUGA_E_STATE, "%s=%s and %s=%s contradict each other: set only one", name,
                             text, alias, alias_text);
        if (!text[0]) {
            *out = meaning;
            snprintf(source, SUGA_SETTINGS_SOURCE_SIZE, "%s", alias);
            return SUGA_OK;
        }
    }
    *out = value;
    snprintf(source, SUGA_SETTINGS_SOURCE_SIZE, "%s", text[0] ? name : "default");
    return SUGA_OK;
}

/* An integer; empty counts as unset, as for the other settings. */
static suga_status read_int(suga_ctx *ctx, const char *name, int64_t fallback, int64_t min, int64_t max,
                            int64_t *out)
{
    char text[32];
    if (suga_config_get_string(name, NULL, text, sizeof text, NULL) == SUGA_OK && !text[0]) {
        *out = fallback;
        return SUGA_OK;
    }
    suga_status st = suga_config_get_int(name, fallback, min, max, out, ctx);
    return st == SUGA_E_HANDLER ? SUGA_E_STATE : st; /* config's message names it; the fault is the deployment's */
}

/* The Parameter Store value of setting i when it applies: fetched, not empty, and not
 * overridden with config.set under its name or alias (an override wins over every source). */
static const char *stored_value(const suga_settings *s, bool with_store, size_t i)
{
    if (!with_store || !s->parameters[i].found || !fetched[i][0] || suga_config_is_overridden(stored[i].name) ||
        (stored[i].alias && suga_config_is_overridden(stored[i].alias)))
        return NULL;
    return fetched[i];
}

/* Setting i as text: from Parameter Store when that applies, else from the environment. */
static suga_status read_setting(suga_ctx *ctx, const suga_settings *s, bool with_store, size_t i, char *out,
                                size_t size, char source[SUGA_SETTINGS_SOURCE_SIZE], bool show_value)
{
    const char *value = stored_value(s, with_store, i);
    if (!value)
        return read_text(ctx, stored[i].name, stored[i].alias, out, size, source, show_value);
    if (strlen(value) >= size)
        return suga_fail(ctx, SUGA_E_STATE, "Parameter Store parameter %s is longer than %zu bytes",
                         s->parameters[i].name, size - 1);
    strcpy(out, value);
    snprintf(source, SUGA_SETTINGS_SOURCE_SIZE, STORE_SOURCE "%s", s->parameters[i].name);
    return SUGA_OK;
}

/* Setting i as a bool: from Parameter Store when that applies, else from the environment. */
static suga_status read_bool_setting(suga_ctx *ctx, const suga_settings *s, bool with_store, size_t i,
                                     bool alias_inverted, bool fallback, bool *out,
                                     char source[SUGA_SETTINGS_SOURCE_SIZE])
{
    const char *value = stored_value(s, with_store, i);
    if (!value)
        return read_bool(ctx, stored[i].name, stored[i].alias, alias_inverted, fallback, out, source);
    if (!suga_config_parse_bool(value, out))
        return suga_fail(ctx, SUGA_E_STATE, "Parameter Store parameter %s must be true or false (or 1/0, yes/no, "
                                            "on/off), got \"%.32s\"",
                         s->parameters[i].name, value);
    snprintf(source, SUGA_SETTINGS_SOURCE_SIZE, STORE_SOURCE "%s", s->parameters[i].name);
    return SUGA_OK;
}

/* How a message names where a value came from: the variable, or the parameter. */
static const char *label(const char *source, char *buf, size_t size)
{
    if (strncmp(source, STORE_SOURCE, sizeof STORE_SOURCE - 1))
        return source;
    snprintf(buf, size, "Parameter Store parameter %s", source + sizeof STORE_SOURCE - 1);
    return buf;
}

/* An http(s) URL with a host and nothing that could smuggle credentials or a second request. */
static suga_status check_url(suga_ctx *ctx, const char *source, char *url)
{
    const char *rest = !strncasecmp(url, "https://", 8) ? url + 8 : !strncasecmp(url, "http://", 7) ? url + 7 : NULL;
    size_t len = strlen(url), host_start = rest ? (size_t)(rest - url) : 0;
    while (len > host_start && url[len - 1] == '/') /* http://ha:8123/ and http://ha:8123 are one place */
        url[--len] = '\0';
    const char *why = NULL;
    if (!rest)
        why = "must start with http:// or https://";
    else if (!*rest || *rest == '/' || *rest == ':')
        why = "has no host";
    else if (strpbrk(url, " \t\r\n"))
        why = "contains whitespace";
    else if (memchr(rest, '@', strcspn(rest, "/")))
        why = "contains credentials (user@host): use the token instead";
    else if (strpbrk(url, "?#"))
        why = "must not have a query or fragment (write the base URL, e.g. http://homeassistant.local:8123)";
    if (why)
        return suga_fail(ctx, SUGA_E_STATE, "%s %s, got \"%.200s\"", source, why, url);
    return SUGA_OK;
}

static suga_status check_token(suga_ctx *ctx, const char *source, const char *token)
{
    for (const unsigned char *p = (const unsigned char *)token; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return suga_fail(ctx, SUGA_E_STATE, "%s must be printable ASCII without spaces (the value is not "
                                                      "shown)",
                             source);
    return SUGA_OK;
}

static suga_status check_log_level(suga_ctx *ctx, const char *source, const char *level)
{
    suga_log_level ignored;
    if (!level[0] || suga_log_parse_level(level, &ignored) == SUGA_OK)
        return SUGA_OK;
    return suga_fail(ctx, SUGA_E_STATE, "%s must be debug, info, warning or error, got \"%.32s\"", source, level);
}

/* Where Parameter Store settings live and how often they are fetched: from the environment only. */
static suga_status load_store_settings(suga_settings *s, suga_ctx *ctx)
{
    char ignored[SUGA_SETTINGS_SOURCE_SIZE];
    int64_t port = SUGA_PARAMETER_STORE_DEFAULT_PORT;
    suga_status st;
    if ((st = read_text(ctx, "SUGA_SSM_PARAMETER_PREFIX", NULL, s->ssm_parameter_prefix,
                        sizeof s->ssm_parameter_prefix, ignored, true)) != SUGA_OK)
        return st;
    if (s->ssm_parameter_prefix[0] && s->ssm_parameter_prefix[0] != '/')
        return suga_fail(ctx, SUGA_E_STATE, "SUGA_SSM_PARAMETER_PREFIX must start with '/', got \"%.100s\"",
                         s->ssm_parameter_prefix);
    if ((st = read_int(ctx, TTL_VARIABLE, DEFAULT_TTL_S, 0, 86400, &s->ssm_ttl_s)) != SUGA_OK)
        return st;
    /* the port is the extension's variable too: only checked when suga is to use it */
    if (s->ssm_parameter_prefix[0] &&
        (st = read_int(ctx, SUGA_PARAMETER_STORE_PORT_VARIABLE, port, 1, 65535, &port)) != SUGA_OK)
        return st;
    s->ssm_port = (int)port;
    size_t len = strlen(s->ssm_parameter_prefix);
    if (len && s->ssm_parameter_prefix[len - 1] == '/') /* "/suga/" and "/suga" name the same parameters */
        len--;
    for (size_t i = 0; s->ssm_parameter_prefix[0] && i < SUGA_SETTINGS_PARAMETERS; i++)
        snprintf(s->parameters[i].name, sizeof s->parameters[i].name, "%.*s/%s", (int)len, s->ssm_parameter_prefix,
                 stored[i].name);
    return SUGA_OK;
}

/* Fetch every parameter into `fetched`; the first failure ends it (the others would fail alike).
 * The value of a secret-named parameter (the token) becomes a secret of the process at once, so
 * it is masked in every message from here on, whatever later check quotes it. */
static suga_status fetch(suga_settings *s, suga_ctx *ctx)
{
    for (size_t i = 0; i < SUGA_SETTINGS_PARAMETERS; i++) {
        suga_settings_parameter *p = &s->parameters[i];
        suga_status st = suga_parameter_store_get(ctx, s->ssm_port, p->name, fetched[i], sizeof fetched[i], &p->found,
                                                  &p->version);
        if (st != SUGA_OK)
            return st;
        if (suga_is_secret_name(stored[i].name)) {
            char slot[sizeof STORE_SOURCE + SUGA_SETTINGS_NAME_SIZE];
            snprintf(slot, sizeof slot, STORE_SOURCE "%s", p->name);
            if (suga_secret_set(slot, p->found ? fetched[i] : NULL, p->found ? strlen(fetched[i]) : 0) != SUGA_OK)
                return suga_fail(ctx, SUGA_E_NOMEM, "Parameter Store: cannot remember %s as a secret to mask", p->name);
        }
    }
    return SUGA_OK;
}

/* The settings' values (the store settings already in s): with_store takes `fetched` first. */
static suga_status load_values(suga_settings *s, suga_ctx *ctx, bool with_store)
{
    char buf[SUGA_SETTINGS_SOURCE_SIZE + 32];
    suga_status st;
    if ((st = read_setting(ctx, s, with_store, STORED_URL, s->home_assistant_url, sizeof s->home_assistant_url,
                           s->url_source, true)) != SUGA_OK)
        return st;
    if (s->home_assistant_url[0] &&
        (st = check_url(ctx, label(s->url_source, buf, sizeof buf), s->home_assistant_url)) != SUGA_OK)
        return st;
    if ((st = read_setting(ctx, s, with_store, STORED_TOKEN, s->home_assistant_token, sizeof s->home_assistant_token,
                           s->token_source, false)) != SUGA_OK)
        return st;
    if (s->home_assistant_token[0] &&
        (st = check_token(ctx, label(s->token_source, buf, sizeof buf), s->home_assistant_token)) != SUGA_OK)
        return st;
    if ((st = read_bool_setting(ctx, s, with_store, STORED_VERIFY_SSL, true, true, &s->verify_ssl,
                                s->verify_ssl_source)) != SUGA_OK)
        return st;
    if ((st = read_bool_setting(ctx, s, with_store, STORED_DEBUG, false, false, &s->debug_mode, s->debug_source)) !=
        SUGA_OK)
        return st;
    if ((st = read_setting(ctx, s, with_store, STORED_LOG_LEVEL, s->log_level, sizeof s->log_level,
                           s->log_level_source, true)) != SUGA_OK)
        return st;
    if ((st = check_log_level(ctx, label(s->log_level_source, buf, sizeof buf), s->log_level)) != SUGA_OK)
        return st;
    s->loaded_at_ms = suga_clock_wall_ms();
    return SUGA_OK;
}

/* Whether two loads hold the same values (sources, times and versions aside). */
static bool same_values(const suga_settings *a, const suga_settings *b)
{
    return !strcmp(a->home_assistant_url, b->home_assistant_url) &&
           !strcmp(a->home_assistant_token, b->home_assistant_token) && a->verify_ssl == b->verify_ssl &&
           a->debug_mode == b->debug_mode && !strcmp(a->log_level, b->log_level) &&
           !strcmp(a->ssm_parameter_prefix, b->ssm_parameter_prefix) && a->ssm_ttl_s == b->ssm_ttl_s &&
           a->ssm_port == b->ssm_port;
}

/* The log level the settings ask for: LOG_LEVEL when set, else debug with DEBUG_MODE (what users
 * of Home Assistant's forwarder script expect of DEBUG=true), else info. */
static suga_log_level wanted_level(const suga_settings *s)
{
    suga_log_level level = SUGA_LOG_INFO;
    if (s->log_level[0] && suga_log_parse_level(s->log_level, &level) == SUGA_OK)
        return level;
    return s->debug_mode ? SUGA_LOG_DEBUG : SUGA_LOG_INFO;
}

/* Put fresh in force. A changed LOG_LEVEL or DEBUG_MODE (from Parameter Store, say) applies to the
 * log at once: the runtime's log read LOG_LEVEL from the environment itself at start-up, and
 * knows nothing of DEBUG_MODE or Parameter Store. */
static void commit(suga_settings *fresh, bool *changed)
{
    bool differ = !same_values(fresh, &current);
    /* the first fetch completes the start-up settings (the environment's alone): the settings
     * become the deployment's, they do not change */
    bool completes = fresh->fetched_at_ms && !current.fetched_at_ms &&
                     !strcmp(fresh->ssm_parameter_prefix, current.ssm_parameter_prefix);
    fresh->version = current.version + (differ && !completes);
    if (wanted_level(fresh) != wanted_level(&current) || strcmp(fresh->log_level, current.log_level))
        suga_log_set_level(wanted_level(fresh));
    current = *fresh;
    memset(fresh, 0, sizeof *fresh); /* the token does not linger on the caller's stack */
    if (changed)
        *changed = differ;
}

suga_status suga_settings_get(const suga_settings **out, suga_ctx *ctx)
{
    if (!out)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_settings_get: no output");
    if (!loaded) {
        suga_settings fresh = {0};
        suga_status st = load_store_settings(&fresh, ctx);
        if (st == SUGA_OK)
            st = load_values(&fresh, ctx, false);
        if (st != SUGA_OK)
            return st;
        fresh.version = 1;
        current = fresh;
        loaded = true;
        if (!current.log_level[0] && current.debug_mode) /* LOG_LEVEL, when set, the log read itself */
            suga_log_set_level(SUGA_LOG_DEBUG);
    }
    *out = &current;
    return SUGA_OK;
}

suga_status suga_settings_refresh(suga_ctx *ctx, bool force, bool *changed)
{
    if (changed)
        *changed = false;
    const suga_settings *in_force;
    suga_status st = suga_settings_get(&in_force, ctx);
    if (st != SUGA_OK)
        return st;
    int64_t now = suga_clock_wall_ms();
    bool due = force || (in_force->ssm_parameter_prefix[0] &&
                         (!in_force->fetched_at_ms || now < store.attempted_at_ms ||
                          now - store.attempted_at_ms >= in_force->ssm_ttl_s * 1000));
    if (!due)
        return SUGA_OK;
    suga_settings fresh = {0};
    st = load_store_settings(&fresh, ctx);
    bool fetching = st == SUGA_OK && fresh.ssm_parameter_prefix[0];
    if (fetching) {
        store.fetches++;
        store.attempted_at_ms = now;
        if ((st = fetch(&fresh, ctx)) == SUGA_OK)
            fresh.fetched_at_ms = now;
    }
    if (st == SUGA_OK)
        st = load_values(&fresh, ctx, fetching);
    memset(fetched, 0, sizeof fetched);
    if (fetching) {
        store.failures += st != SUGA_OK;
        snprintf(store.last_error, sizeof store.last_error, "%s", st == SUGA_OK || !ctx ? "" : ctx->error);
    }
    if (st != SUGA_OK) {
        memset(&fresh, 0, sizeof fresh);
        return st; /* the settings in force stay */
    }
    commit(&fresh, changed);
    return SUGA_OK;
}

suga_status suga_settings_reload(bool *changed, suga_ctx *ctx)
{
    return suga_settings_refresh(ctx, true, changed);
}

suga_status suga_settings_reset(void)
{
    memset(&current, 0, sizeof current); /* the token does not linger in memory */
    memset(&store, 0, sizeof store);
    loaded = false;
    return SUGA_OK;
}

/* The parameter_store object: where, how often, how it went, what was found (never a value). */
static json_t *store_json(const suga_settings *s)
{
    if (!s->ssm_parameter_prefix[0])
        return json_null();
    json_t *parameters = json_array();
    for (size_t i = 0; parameters && i < SUGA_SETTINGS_PARAMETERS; i++) {
        const suga_settings_parameter *p = &s->parameters[i];
        json_t *row = json_pack("{s:s, s:o, s:o}", "name", p->name, "found",
                                s->fetched_at_ms ? json_boolean(p->found) : json_null(), "version",
                                p->found ? json_integer((json_int_t)p->version) : json_null());
        if (json_array_append_new(parameters, row)) {
            json_decref(parameters);
            parameters = NULL;
        }
    }
    char fetched_at[SUGA_ISO8601_SIZE];
    suga_clock_iso8601(s->fetched_at_ms, fetched_at);
    return json_pack("{s:s, s:I, s:i, s:o, s:I, s:I, s:s?, s:o}", "prefix", s->ssm_parameter_prefix, "ttl_s",
                     (json_int_t)s->ssm_ttl_s, "port", s->ssm_port, "fetched_at",
                     s->fetched_at_ms ? json_string(fetched_at) : json_null(), "fetches", (json_int_t)store.fetches,
                     "failures", (json_int_t)store.failures, "last_error",
                     store.last_error[0] ? store.last_error : NULL, "parameters", parameters);
}

suga_status suga_settings_status(json_t **out)
{
    if (!out)
        return SUGA_E_INVALID_ARG;
    if (!loaded) {
        *out = json_null();
        return SUGA_OK;
    }
    char loaded_at[SUGA_ISO8601_SIZE];
    suga_clock_iso8601(current.loaded_at_ms, loaded_at);
    *out = json_pack("{s:I, s:s, s:o}", "version", (json_int_t)current.version, "loaded_at", loaded_at,
                     "parameter_store", store_json(&current));
    return *out ? SUGA_OK : SUGA_E_NOMEM;
}

/* ---- operations ---- */

static json_t *describe(const suga_settings *s)
{
    char loaded_at[SUGA_ISO8601_SIZE];
    suga_clock_iso8601(s->loaded_at_ms, loaded_at);
    json_t *url = s->home_assistant_url[0] ? json_string(s->home_assistant_url) : json_null();
    return json_pack("{s:{s:o, s:s, s:b, s:s, s:b, s:s}, s:b, s:s, s:s?, s:s, s:s?, s:o, s:I, s:s}", "home_assistant",
                     "url", url, "url_source", s->url_source, "token_set", s->home_assistant_token[0] != '\0',
                     "token_source", s->token_source, "verify_ssl", s->verify_ssl, "verify_ssl_source",
                     s->verify_ssl_source, "debug_mode", s->debug_mode, "debug_mode_source", s->debug_source,
                     "log_level", s->log_level[0] ? s->log_level : NULL, "log_level_source", s->log_level_source,
                     "ssm_parameter_prefix", s->ssm_parameter_prefix[0] ? s->ssm_parameter_prefix : NULL,
                     "parameter_store", store_json(s), "version", (json_int_t)s->version, "loaded_at", loaded_at);
}

suga_status suga_handle_config_settings(suga_ctx *ctx, const suga_args_config_settings *args, json_t **result)
{
    (void)args;
    const suga_settings *s;
    suga_status st = suga_settings_get(&s, ctx);
    if (st != SUGA_OK)
        return st;
    return suga_util_result(ctx, describe(s), result);
}

suga_status suga_handle_config_reload(suga_ctx *ctx, const suga_args_config_reload *args, json_t **result)
{
    (void)args;
    bool changed = false;
    suga_status st = suga_settings_reload(&changed, ctx);
    if (st != SUGA_OK)
        return st;
    json_t *out = describe(&current);
    if (out && json_object_set_new(out, "changed", json_boolean(changed))) {
        json_decref(out);
        out = NULL;
    }
    return suga_util_result(ctx, out, result);
}

/* Once per invocation, before the event runs (spec/lifecycle.yaml). Until a first fetch has
 * succeeded the settings are the environment's alone, not the deployment's: the event is refused
 * (unavailable) and the next invocation tries again. After that a failed refresh keeps the
 * settings in force, with a warning, and the event runs. */
suga_status suga_handle_config_refresh(suga_ctx *ctx, const suga_args_config_refresh *args, json_t **result)
{
    (void)args;
    bool changed = false;
    suga_status st = suga_settings_refresh(ctx, false, &changed);
    if (st != SUGA_OK && (!loaded || !current.fetched_at_ms))
        return suga_fail(ctx, SUGA_E_UNAVAILABLE, "%s", ctx->error);
    if (st != SUGA_OK) {
        char message[SUGA_ERROR_MAX + 64];
        snprintf(message, sizeof message, "Parameter Store refresh failed, the settings in force stay: %s",
                 ctx->error);
        json_t *fields = json_pack("{s:s, s:I}", "error_status", suga_status_name(st), "settings_version",
                                   (json_int_t)current.version);
        suga_log_write(ctx, SUGA_LOG_WARNING, message, fields, NULL);
        json_decref(fields);
        ctx->error[0] = '\0';
    }
    return suga_util_result(ctx, json_pack("{s:b, s:I}", "changed", changed, "version", (json_int_t)current.version),
                            result);
}
