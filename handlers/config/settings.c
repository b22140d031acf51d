/* settings.c: the deployment's settings (suga_settings.h) and the config.settings and
 * config.reload operations. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/suga_config.h"
#include "config/suga_settings.h"
#include "suga_ops.h"
#include "utility/suga_utility.h"

static suga_settings current;
static bool loaded;

/* One setting's text under its name or its alias; "" for unset. *source names where it came from.
 * Both set to different texts is an error (the value is quoted only when show_value). */
static suga_status read_text(suga_ctx *ctx, const char *name, const char *alias, char *out, size_t size,
                             const char **source, bool show_value)
{
    char from_alias[4096] = "";
    suga_status st = suga_config_get_string(name, NULL, out, size, ctx);
    if (st == SUGA_E_LIMIT)
        return suga_fail(ctx, SUGA_E_STATE, "%s is longer than %zu bytes", name, size - 1);
    if (st != SUGA_OK)
        return st;
    if (alias && (st = suga_config_get_string(alias, NULL, from_alias, sizeof from_alias, ctx)) != SUGA_OK)
        return st == SUGA_E_LIMIT ? suga_fail(ctx, SUGA_E_STATE, "%s is too long", alias) : st;
    *source = out[0] ? name : "default";
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
    *source = alias;
    return SUGA_OK;
}

/* A bool under `name` or under `alias`, the alias possibly meaning the opposite. */
static suga_status read_bool(suga_ctx *ctx, const char *name, const char *alias, bool alias_inverted, bool fallback,
                             bool *out, const char **source)
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
            *source = alias;
            return SUGA_OK;
        }
    }
    *out = value;
    *source = text[0] ? name : "default";
    return SUGA_OK;
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

static suga_status check_log_level(suga_ctx *ctx, const char *level)
{
    static const char *const levels[] = {"debug", "info", "warning", "warn", "error"};
    if (!level[0])
        return SUGA_OK;
    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++)
        if (!strcasecmp(level, levels[i]))
            return SUGA_OK;
    return suga_fail(ctx, SUGA_E_STATE, "LOG_LEVEL must be debug, info, warning or error, got \"%.32s\"", level);
}

static suga_status load(suga_settings *s, suga_ctx *ctx)
{
    *s = (suga_settings){0};
    suga_status st;
    if ((st = read_text(ctx, "HOME_ASSISTANT_URL", "BASE_URL", s->home_assistant_url, sizeof s->home_assistant_url,
                        &s->url_source, true)) != SUGA_OK)
        return st;
    if (s->home_assistant_url[0] && (st = check_url(ctx, s->url_source, s->home_assistant_url)) != SUGA_OK)
        return st;
    if ((st = read_text(ctx, "HOME_ASSISTANT_TOKEN", "LONG_LIVED_ACCESS_TOKEN", s->home_assistant_token,
                        sizeof s->home_assistant_token, &s->token_source, false)) != SUGA_OK)
        return st;
    if (s->home_assistant_token[0] && (st = check_token(ctx, s->token_source, s->home_assistant_token)) != SUGA_OK)
        return st;
    if ((st = read_bool(ctx, "HOME_ASSISTANT_VERIFY_SSL", "NOT_VERIFY_SSL", true, true, &s->verify_ssl,
                        &s->verify_ssl_source)) != SUGA_OK)
        return st;
    if ((st = read_bool(ctx, "DEBUG_MODE", "DEBUG", false, false, &s->debug_mode, &s->debug_source)) != SUGA_OK)
        return st;
    const char *ignored;
    if ((st = read_text(ctx, "LOG_LEVEL", NULL, s->log_level, sizeof s->log_level, &ignored, true)) != SUGA_OK)
        return st;
    if ((st = check_log_level(ctx, s->log_level)) != SUGA_OK)
        return st;
    if ((st = read_text(ctx, "SUGA_SSM_PARAMETER_PREFIX", NULL, s->ssm_parameter_prefix,
                        sizeof s->ssm_parameter_prefix, &ignored, true)) != SUGA_OK)
        return st;
    if (s->ssm_parameter_prefix[0] && s->ssm_parameter_prefix[0] != '/')
        return suga_fail(ctx, SUGA_E_STATE, "SUGA_SSM_PARAMETER_PREFIX must start with '/', got \"%.100s\"",
                         s->ssm_parameter_prefix);
    suga_util_now_ms(&s->loaded_at_ms);
    return SUGA_OK;
}

/* Whether two loads hold the same values (sources and times aside). */
static bool same_values(const suga_settings *a, const suga_settings *b)
{
    return !strcmp(a->home_assistant_url, b->home_assistant_url) &&
           !strcmp(a->home_assistant_token, b->home_assistant_token) && a->verify_ssl == b->verify_ssl &&
           a->debug_mode == b->debug_mode && !strcmp(a->log_level, b->log_level) &&
           !strcmp(a->ssm_parameter_prefix, b->ssm_parameter_prefix);
}

suga_status suga_settings_get(const suga_settings **out, suga_ctx *ctx)
{
    if (!out)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_settings_get: no output");
    if (!loaded) {
        suga_settings fresh;
        suga_status st = load(&fresh, ctx);
        if (st != SUGA_OK)
            return st;
        fresh.version = 1;
        current = fresh;
        loaded = true;
    }
    *out = &current;
    return SUGA_OK;
}

suga_status suga_settings_reload(bool *changed, suga_ctx *ctx)
{
    suga_settings fresh;
    suga_status st = load(&fresh, ctx);
    if (st != SUGA_OK)
        return st; /* the settings in force stay */
    bool differ = !loaded || !same_values(&fresh, &current);
    fresh.version = loaded ? current.version + differ : 1;
    current = fresh;
    loaded = true;
    if (changed)
        *changed = differ;
    return SUGA_OK;
}

suga_status suga_settings_reset(void)
{
    memset(&current, 0, sizeof current); /* the token does not linger in memory */
    loaded = false;
    return SUGA_OK;
}

/* ---- operations ---- */

static json_t *describe(const suga_settings *s)
{
    char loaded_at[SUGA_ISO8601_SIZE];
    suga_util_iso8601(s->loaded_at_ms, loaded_at);
    json_t *url = s->home_assistant_url[0] ? json_string(s->home_assistant_url) : json_null();
    return json_pack("{s:{s:o, s:s, s:b, s:s, s:b, s:s}, s:b, s:s, s:s?, s:s?, s:I, s:s}", "home_assistant", "url",
                     url, "url_source", s->url_source, "token_set", s->home_assistant_token[0] != '\0',
                     "token_source", s->token_source, "verify_ssl", s->verify_ssl, "verify_ssl_source",
                     s->verify_ssl_source, "debug_mode", s->debug_mode, "debug_mode_source", s->debug_source,
                     "log_level", s->log_level[0] ? s->log_level : NULL, "ssm_parameter_prefix",
                     s->ssm_parameter_prefix[0] ? s->ssm_parameter_prefix : NULL, "version", (json_int_t)s->version,
                     "loaded_at", loaded_at);
}

suga_status config_settings(suga_ctx *ctx, const suga_args_config_settings *args, json_t **result)
{
    (void)args;
    const suga_settings *s;
    suga_status st = suga_settings_get(&s, ctx);
    if (st != SUGA_OK)
        return st;
    return suga_util_result(ctx, "config.settings", describe(s), result);
}

suga_status config_reload(suga_ctx *ctx, const suga_args_config_reload *args, json_t **result)
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
    return suga_util_result(ctx, "config.reload", out, result);
}
