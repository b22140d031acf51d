/* test_settings.c: the deployment's settings (handlers/config/settings.c): the variables, their
 * aliases from Home Assistant's forwarder script, conflicts, checks, the token never shown. */
#include <stdlib.h>

#include "config/suga_config.h"
#include "config/suga_parameter_store.h"
#include "config/suga_settings.h"
#include "handler_test.h"
#include "suga_handler_test_hooks.h"
#include "suga_log.h"

static const char *const vars[] = {"HOME_ASSISTANT_URL", "BASE_URL", "HOME_ASSISTANT_TOKEN",
                                   "LONG_LIVED_ACCESS_TOKEN", "HOME_ASSISTANT_VERIFY_SSL", "NOT_VERIFY_SSL",
                                   "DEBUG_MODE", "DEBUG", "LOG_LEVEL", "SUGA_SSM_PARAMETER_PREFIX",
                                   "SUGA_SSM_TTL_SECONDS", "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT",
                                   "AWS_SESSION_TOKEN"};

static void clean(void)
{
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        unsetenv(vars[i]);
    suga_config_reset();
    suga_settings_reset();
}

TestSuite(settings, .init = clean, .fini = clean);

static const char *str(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    return json_string_value(b ? json_object_get(v, b) : v);
}

Test(settings, defaults_when_nothing_is_set)
{
    json_t *r = call_ok("config.settings", NULL);
    json_t *ha = json_object_get(r, "home_assistant");
    cr_expect(json_is_null(json_object_get(ha, "url")));
    cr_expect(json_is_false(json_object_get(ha, "token_set")));
    cr_expect(json_is_true(json_object_get(ha, "verify_ssl")), "TLS verification is on by default");
    cr_expect_str_eq(str(ha, "verify_ssl_source", NULL), "default");
    cr_expect(json_is_false(json_object_get(r, "debug_mode")));
    cr_expect_eq(json_integer_value(json_object_get(r, "version")), 1);
    json_decref(r);
}

Test(settings, the_forwarder_scripts_names_work_as_aliases)
{
    setenv("BASE_URL", "http://homeassistant.local:8123/", 1);
    setenv("LONG_LIVED_ACCESS_TOKEN", "eyJhbGciOiJIUzI1NiJ9.tok-MARKER-42.sig", 1);
    setenv("NOT_VERIFY_SSL", "true", 1);
    setenv("DEBUG", "1", 1);
    json_t *r = call_ok("config.settings", NULL);
    cr_expect_str_eq(str(r, "home_assistant", "url"), "http://homeassistant.local:8123", "trailing '/' dropped");
    cr_expect_str_eq(str(r, "home_assistant", "url_source"), "BASE_URL");
    cr_expect(json_is_true(json_object_get(json_object_get(r, "home_assistant"), "token_set")));
    cr_expect_str_eq(str(r, "home_assistant", "token_source"), "LONG_LIVED_ACCESS_TOKEN");
    cr_expect(json_is_false(json_object_get(json_object_get(r, "home_assistant"), "verify_ssl")),
              "NOT_VERIFY_SSL is inverted");
    cr_expect(json_is_true(json_object_get(r, "debug_mode")));
    char *text = json_dumps(r, 0);
    cr_expect_null(strstr(text, "MARKER"), "the token is never shown: %s", text);
    free(text);
    json_decref(r);
    const suga_settings *s;
    cr_assert_eq(suga_settings_get(&s, NULL), SUGA_OK);
    cr_expect_str_eq(s->home_assistant_token, "eyJhbGciOiJIUzI1NiJ9.tok-MARKER-42.sig", "the C API has it");
}

Test(settings, the_canonical_names_win_when_both_agree_and_conflicts_are_errors)
{
    setenv("HOME_ASSISTANT_URL", "https://ha.example.com", 1);
    setenv("BASE_URL", "https://ha.example.com", 1);
    json_t *r = call_ok("config.settings", NULL);
    cr_expect_str_eq(str(r, "home_assistant", "url_source"), "HOME_ASSISTANT_URL");
    json_decref(r);
    suga_settings_reset();
    setenv("BASE_URL", "https://other.example.com", 1);
    suga_ctx ctx;
    call_fails(&ctx, "config.settings", NULL, SUGA_E_STATE);
    cr_expect_str_eq(ctx.error, "HOME_ASSISTANT_URL (\"https://ha.example.com\") and its alias BASE_URL "
                                "(\"https://other.example.com\") are both set, to different values: set only one");
    unsetenv("BASE_URL");
    setenv("HOME_ASSISTANT_TOKEN", "token-MARKER-a", 1);
    setenv("LONG_LIVED_ACCESS_TOKEN", "token-MARKER-b", 1);
    call_fails(&ctx, "config.settings", NULL, SUGA_E_STATE);
    cr_expect_str_eq(ctx.error, "HOME_ASSISTANT_TOKEN and its alias LONG_LIVED_ACCESS_TOKEN are both set, to "
                                "different values (not shown): set only one");
    unsetenv("LONG_LIVED_ACCESS_TOKEN");
    setenv("HOME_ASSISTANT_VERIFY_SSL", "true", 1);
    setenv("NOT_VERIFY_SSL", "true", 1);
    call_fails(&ctx, "config.settings", NULL, SUGA_E_STATE);
    cr_expect_str_eq(ctx.error, "HOME_ASSISTANT_VERIFY_SSL=true and NOT_VERIFY_SSL=true contradict each other: set "
                                "only one");
    setenv("NOT_VERIFY_SSL", "false", 1); /* agrees: verify */
    r = call_ok("config.settings", NULL);
    cr_expect(json_is_true(json_object_get(json_object_get(r, "home_assistant"), "verify_ssl")));
    json_decref(r);
}

Test(settings, bad_values_name_the_variable_and_the_rule)
{
    static const struct {
        const char *name, *value, *message;
    } cases[] = {
        {"HOME_ASSISTANT_URL", "homeassistant.local:8123",
         "HOME_ASSISTANT_URL must start with http:// or https://, got \"homeassistant.local:8123\""},
        {"HOME_ASSISTANT_URL", "http://", "HOME_ASSISTANT_URL has no host, got \"http://\""},
        {"HOME_ASSISTANT_URL", "http://user:pw@ha.local",
         "HOME_ASSISTANT_URL contains credentials (user@host): use the token instead, got \"http://***@ha.local\""},
        {"HOME_ASSISTANT_URL", "http://ha.local/api?x=1",
         "HOME_ASSISTANT_URL must not have a query or fragment (write the base URL, e.g. "
         "http://homeassistant.local:8123), got \"http://ha.local/api?***\""},
        {"HOME_ASSISTANT_TOKEN", "two words-MARKER",
         "HOME_ASSISTANT_TOKEN must be printable ASCII without spaces (the value is not shown)"},
        {"HOME_ASSISTANT_VERIFY_SSL", "maybe",
         "HOME_ASSISTANT_VERIFY_SSL must be true or false (or 1/0, yes/no, on/off), got \"maybe\""},
        {"LOG_LEVEL", "chatty", "LOG_LEVEL must be debug, info, warning or error, got \"chatty\""},
        {"SUGA_SSM_PARAMETER_PREFIX", "suga/prod", "SUGA_SSM_PARAMETER_PREFIX must start with '/', got \"suga/prod\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        clean();
        setenv(cases[i].name, cases[i].value, 1);
        suga_ctx ctx;
        call_fails(&ctx, "config.settings", NULL, SUGA_E_STATE);
        cr_expect_str_eq(ctx.error, cases[i].message);
    }
}

Test(settings, empty_values_count_as_unset)
{
    setenv("HOME_ASSISTANT_URL", "", 1);
    setenv("BASE_URL", "http://ha.local", 1);
    json_t *r = call_ok("config.settings", NULL);
    cr_expect_str_eq(str(r, "home_assistant", "url"), "http://ha.local");
    json_decref(r);
}

Test(settings, reload_bumps_the_version_only_on_a_change_and_keeps_good_settings_on_a_bad_one)
{
    setenv("HOME_ASSISTANT_URL", "http://ha.local", 1);
    json_t *r = call_ok("config.settings", NULL);
    json_decref(r);
    r = call_ok("config.reload", NULL);
    cr_expect(json_is_false(json_object_get(r, "changed")));
    cr_expect_eq(json_integer_value(json_object_get(r, "version")), 1);
    json_decref(r);
    json_decref(call_ok("config.set", "{\"name\": \"HOME_ASSISTANT_URL\", \"value\": \"http://ha2.local\"}"));
    r = call_ok("config.reload", NULL);
    cr_expect(json_is_true(json_object_get(r, "changed")));
    cr_expect_eq(json_integer_value(json_object_get(r, "version")), 2);
    cr_expect_str_eq(str(r, "home_assistant", "url"), "http://ha2.local");
    json_decref(r);
    json_decref(call_ok("config.set", "{\"name\": \"HOME_ASSISTANT_URL\", \"value\": \"ftp://x\"}"));
    suga_ctx ctx;
    call_fails(&ctx, "config.reload", NULL, SUGA_E_STATE);
    r = call_ok("config.settings", NULL);
    cr_expect_str_eq(str(r, "home_assistant", "url"), "http://ha2.local", "a bad reload changes nothing");
    json_decref(r);
}

/* ---- Parameter Store (the fetches themselves: tests/lambda/test_ssm.py) ---- */

Test(settings, without_a_prefix_there_is_no_parameter_store_and_a_refresh_does_nothing)
{
    setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "not a port", 1); /* the extension's business, not suga's */
    json_t *r = call_ok("config.settings", NULL);
    cr_expect(json_is_null(json_object_get(r, "parameter_store")));
    json_decref(r);
    bool changed = true;
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_settings_refresh(&ctx, false, &changed), SUGA_OK, "%s", ctx.error);
    cr_expect_not(changed);
    json_t *status = NULL;
    cr_assert_eq(suga_settings_status(&status), SUGA_OK);
    cr_expect_eq(int_field(status, "version"), 1);
    cr_expect(json_is_null(json_object_get(status, "parameter_store")));
    json_decref(status);
    assert_json(call_ok("config.refresh", NULL), "{\"changed\": false, \"version\": 1}");
}

Test(settings, ttl_and_port_are_checked_with_the_environment)
{
    static const struct {
        const char *name, *value, *message;
    } cases[] = {
        {"SUGA_SSM_TTL_SECONDS", "5m",
         "config: environment variable SUGA_SSM_TTL_SECONDS is not an int in [0, 86400]: \"5m\""},
        {"SUGA_SSM_TTL_SECONDS", "-1",
         "config: environment variable SUGA_SSM_TTL_SECONDS is not an int in [0, 86400]: \"-1\""},
        {"PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "0", /* "SECRETS" in the name: config shows no value */
         "config: environment variable PARAMETERS_SECRETS_EXTENSION_HTTP_PORT is not an int in [1, 65535] (value not "
         "shown: the name looks secret)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        clean();
        setenv("SUGA_SSM_PARAMETER_PREFIX", "/suga", 1);
        setenv(cases[i].name, cases[i].value, 1);
        suga_ctx ctx;
        call_fails(&ctx, "config.settings", NULL, SUGA_E_STATE);
        cr_expect_str_eq(ctx.error, cases[i].message);
    }
    clean();
    setenv("SUGA_SSM_PARAMETER_PREFIX", "/", 1);
    setenv("SUGA_SSM_TTL_SECONDS", "", 1); /* empty counts as unset */
    json_t *r = call_ok("config.settings", NULL);
    json_t *store = json_object_get(r, "parameter_store");
    cr_expect_eq(int_field(store, "ttl_s"), 300);
    cr_expect_eq(int_field(store, "port"), SUGA_PARAMETER_STORE_DEFAULT_PORT);
    cr_expect(json_is_null(json_object_get(store, "fetched_at")), "nothing is fetched before an invocation");
    cr_expect_str_eq(str_field(json_array_get(json_object_get(store, "parameters"), 0), "name"),
                     "/HOME_ASSISTANT_URL", "the prefix / names the top level");
    cr_expect(json_is_null(json_object_get(json_array_get(json_object_get(store, "parameters"), 0), "found")));
    json_decref(r);
}

Test(settings, a_failed_first_fetch_leaves_the_environments_settings_and_is_counted)
{
    setenv("SUGA_SSM_PARAMETER_PREFIX", "/suga/", 1);
    setenv("HOME_ASSISTANT_URL", "http://ha.local", 1);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_settings_refresh(&ctx, false, NULL), SUGA_E_STATE, "no AWS_SESSION_TOKEN: %s", ctx.error);
    cr_expect_str_eq(ctx.error, "Parameter Store: cannot read /suga/HOME_ASSISTANT_URL: AWS_SESSION_TOKEN is not "
                                "set (Lambda sets it; the Parameters and Secrets extension wants it in "
                                "X-Aws-Parameters-Secrets-Token)");
    const suga_settings *s;
    cr_assert_eq(suga_settings_get(&s, NULL), SUGA_OK);
    cr_expect_eq(s->fetched_at_ms, 0, "the settings are the environment's alone");
    cr_expect_str_eq(s->home_assistant_url, "http://ha.local");
    json_t *r = call_ok("config.settings", NULL);
    json_t *store = json_object_get(r, "parameter_store");
    cr_expect_eq(int_field(store, "fetches"), 1);
    cr_expect_eq(int_field(store, "failures"), 1);
    cr_expect_str_eq(str_field(store, "last_error"), ctx.error);
    json_decref(r);
    suga_ctx_init(&ctx);
    cr_expect_eq(suga_settings_refresh(&ctx, false, NULL), SUGA_E_STATE, "before a first success, every call tries");
    /* the lifecycle's invocation_start hook: no deployment settings yet, so the event is refused */
    call_fails(&ctx, "config.refresh", NULL, SUGA_E_UNAVAILABLE);
    cr_expect(strstr(ctx.error, "AWS_SESSION_TOKEN is not set"), "%s", ctx.error);
}

Test(settings, parameter_names_are_percent_encoded)
{
    char out[64];
    cr_assert_eq(suga_parameter_store_encode("/suga/prod-1/LOG_LEVEL", out, sizeof out), SUGA_OK);
    cr_expect_str_eq(out, "%2Fsuga%2Fprod-1%2FLOG_LEVEL");
    cr_assert_eq(suga_parameter_store_encode("a b&c=d~e.\xc3\xa9", out, sizeof out), SUGA_OK);
    cr_expect_str_eq(out, "a%20b%26c%3Dd~e.%C3%A9");
    cr_expect_eq(suga_parameter_store_encode("/abc", out, 6), SUGA_E_LIMIT, "%%2Fabc needs 7 bytes");
    cr_expect_str_eq(out, "");
    cr_expect_eq(suga_parameter_store_encode("/ab", out, 6), SUGA_OK);
    cr_expect_eq(suga_parameter_store_encode(NULL, out, sizeof out), SUGA_E_INVALID_ARG);
}

/* DEBUG_MODE (alias DEBUG, the forwarder script's variable) means debug logging, unless LOG_LEVEL
 * says otherwise; a reload that turns it on or off changes the level at once. */
Test(settings, debug_mode_means_debug_logging_unless_log_level_is_set)
{
    suga_log_level level;
    setenv("DEBUG", "1", 1);
    suga_log_reset();
    json_decref(call_ok("config.settings", NULL));
    cr_assert_eq(suga_log_get_level(&level), SUGA_OK);
    cr_expect_eq(level, SUGA_LOG_DEBUG, "DEBUG=1 alone: debug");

    clean();
    setenv("DEBUG_MODE", "true", 1);
    setenv("LOG_LEVEL", "warning", 1);
    suga_log_reset();
    json_decref(call_ok("config.settings", NULL));
    suga_log_get_level(&level);
    cr_expect_eq(level, SUGA_LOG_WARNING, "an explicit LOG_LEVEL wins");

    clean();
    suga_log_reset();
    json_decref(call_ok("config.settings", NULL));
    suga_log_get_level(&level);
    cr_expect_eq(level, SUGA_LOG_INFO);
    json_decref(call_ok("config.set", "{\"name\": \"DEBUG_MODE\", \"value\": true}"));
    json_decref(call_ok("config.reload", NULL));
    suga_log_get_level(&level);
    cr_expect_eq(level, SUGA_LOG_DEBUG, "turned on by a reload");
    json_decref(call_ok("config.unset", "{\"name\": \"DEBUG_MODE\"}"));
    json_decref(call_ok("config.reload", NULL));
    suga_log_get_level(&level);
    cr_expect_eq(level, SUGA_LOG_INFO, "and off again");
    suga_log_reset();
}
