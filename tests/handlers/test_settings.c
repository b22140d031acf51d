/* test_settings.c: the deployment's settings (handlers/config/settings.c): the variables, their
 * aliases from Home Assistant's forwarder script, conflicts, checks, the token never shown. */
#include <stdlib.h>

#include "config/suga_config.h"
#include "config/suga_settings.h"
#include "handler_test.h"

static const char *const vars[] = {"HOME_ASSISTANT_URL", "BASE_URL", "HOME_ASSISTANT_TOKEN",
                                   "LONG_LIVED_ACCESS_TOKEN", "HOME_ASSISTANT_VERIFY_SSL", "NOT_VERIFY_SSL",
                                   "DEBUG_MODE", "DEBUG", "LOG_LEVEL", "SUGA_SSM_PARAMETER_PREFIX"};

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
         "HOME_ASSISTANT_URL contains credentials (user@host): use the token instead, got \"http://user:pw@ha.local\""},
        {"HOME_ASSISTANT_URL", "http://ha.local/api?x=1",
         "HOME_ASSISTANT_URL must not have a query or fragment (write the base URL, e.g. "
         "http://homeassistant.local:8123), got \"http://ha.local/api?x=1\""},
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
