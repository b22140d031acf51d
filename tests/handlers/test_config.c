/* test_config.c: config.* operations and the config C API. */
#include <stdlib.h>

#include "config/suga_config.h"
#include "handler_test.h"
#include "suga_handler_test_hooks.h"

static const char *const test_vars[] = {
    "SUGA_T_VALUE", "SUGA_T_INT", "SUGA_T_NUM", "SUGA_T_BOOL", "SUGA_T_API_TOKEN", "SUGA_TLIST_A", "SUGA_TLIST_B",
    "SUGA_TLIST_C", "SUGA_TLIST_PASSWORD", "SUGA_TLISTX", "SUGA_T_LONG",
};

static void clean(void)
{
    suga_config_reset();
    for (size_t i = 0; i < sizeof test_vars / sizeof test_vars[0]; i++)
        unsetenv(test_vars[i]);
}

TestSuite(config, .init = clean, .fini = clean);

/* ---- precedence ---- */

Test(config, override_beats_environment_beats_default)
{
    const char *get = "{\"name\": \"SUGA_T_VALUE\", \"default_value\": \"dflt\"}";
    assert_json(call_ok("config.get", get), "{\"name\": \"SUGA_T_VALUE\", \"value\": \"dflt\", \"source\": \"default\"}");
    setenv("SUGA_T_VALUE", "from-env", 1);
    assert_json(call_ok("config.get", get),
                "{\"name\": \"SUGA_T_VALUE\", \"value\": \"from-env\", \"source\": \"environment\"}");
    assert_json(call_ok("config.set", "{\"name\": \"SUGA_T_VALUE\", \"value\": \"from-override\"}"),
                "{\"name\": \"SUGA_T_VALUE\", \"previous\": null}");
    assert_json(call_ok("config.get", get),
                "{\"name\": \"SUGA_T_VALUE\", \"value\": \"from-override\", \"source\": \"override\"}");
    /* the environment itself is not changed by an override */
    cr_assert_str_eq(getenv("SUGA_T_VALUE"), "from-env");
    assert_json(call_ok("config.unset", "{\"name\": \"SUGA_T_VALUE\"}"), "{\"name\": \"SUGA_T_VALUE\", \"removed\": true}");
    assert_json(call_ok("config.unset", "{\"name\": \"SUGA_T_VALUE\"}"), "{\"name\": \"SUGA_T_VALUE\", \"removed\": false}");
    assert_json(call_ok("config.get", get),
                "{\"name\": \"SUGA_T_VALUE\", \"value\": \"from-env\", \"source\": \"environment\"}");
}

Test(config, nothing_set_is_null_and_unset)
{
    assert_json(call_ok("config.get", "{\"name\": \"SUGA_T_VALUE\", \"type\": \"int\"}"),
                "{\"name\": \"SUGA_T_VALUE\", \"value\": null, \"source\": \"unset\"}");
}

Test(config, set_returns_previous_override)
{
    json_decref(call_ok("config.set", "{\"name\": \"SUGA_T_VALUE\", \"value\": 7}"));
    assert_json(call_ok("config.set", "{\"name\": \"SUGA_T_VALUE\", \"value\": true}"),
                "{\"name\": \"SUGA_T_VALUE\", \"previous\": 7}");
    assert_json(call_ok("config.get", "{\"name\": \"SUGA_T_VALUE\", \"type\": \"bool\"}"),
                "{\"name\": \"SUGA_T_VALUE\", \"value\": true, \"source\": \"override\"}");
}

/* ---- conversions ---- */

Test(config, conversions_by_type)
{
    setenv("SUGA_T_INT", "-9223372036854775808", 1);
    assert_json(call_ok("config.get", "{\"name\": \"SUGA_T_INT\", \"type\": \"int\"}"),
                "{\"name\": \"SUGA_T_INT\", \"value\": -9223372036854775808, \"source\": \"environment\"}");
    setenv("SUGA_T_NUM", "1.5e3", 1);
    json_t *r = call_ok("config.get", "{\"name\": \"SUGA_T_NUM\", \"type\": \"number\"}");
    cr_assert(json_is_real(json_object_get(r, "value")));
    cr_assert_float_eq(json_real_value(json_object_get(r, "value")), 1500.0, 1e-9);
    json_decref(r);
    static const struct {
        const char *text;
        bool value;
    } bools[] = {{"true", true}, {"FALSE", false}, {"1", true}, {"0", false}, {"Yes", true},
                 {"no", false},  {"ON", true},     {"off", false}};
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        setenv("SUGA_T_BOOL", bools[i].text, 1);
        r = call_ok("config.get", "{\"name\": \"SUGA_T_BOOL\", \"type\": \"bool\"}");
        cr_assert_eq(json_is_true(json_object_get(r, "value")), bools[i].value, "%s", bools[i].text);
        json_decref(r);
    }
    /* an override set as a number reads as a string in its shortest exact form */
    json_decref(call_ok("config.set", "{\"name\": \"SUGA_T_VALUE\", \"value\": 0.1}"));
    assert_json(call_ok("config.get", "{\"name\": \"SUGA_T_VALUE\"}"),
                "{\"name\": \"SUGA_T_VALUE\", \"value\": \"0.1\", \"source\": \"override\"}");
}

Test(config, bad_values_name_variable_source_and_type)
{
    suga_ctx ctx;
    setenv("SUGA_T_INT", "abc", 1);
    call_fails(&ctx, "config.get", "{\"name\": \"SUGA_T_INT\", \"type\": \"int\"}", SUGA_E_HANDLER);
    cr_assert_str_eq(ctx.error, "config.get: environment variable SUGA_T_INT is not an int: \"abc\"");
    static const char *const not_ints[] = {"12abc", " 5", "", "9223372036854775808", "1.5", "0x10"};
    for (size_t i = 0; i < sizeof not_ints / sizeof not_ints[0]; i++) {
        setenv("SUGA_T_INT", not_ints[i], 1);
        call_fails(&ctx, "config.get", "{\"name\": \"SUGA_T_INT\", \"type\": \"int\"}", SUGA_E_HANDLER);
        cr_assert(strstr(ctx.error, "is not an int"), "%s: %s", not_ints[i], ctx.error);
    }
    static const char *const not_numbers[] = {"inf", "nan", "1e999", "1.5x", ""};
    for (size_t i = 0; i < sizeof not_numbers / sizeof not_numbers[0]; i++) {
        setenv("SUGA_T_NUM", not_numbers[i], 1);
        call_fails(&ctx, "config.get", "{\"name\": \"SUGA_T_NUM\", \"type\": \"number\"}", SUGA_E_HANDLER);
        cr_assert(strstr(ctx.error, "environment variable SUGA_T_NUM is not a number"), "%s: %s", not_numbers[i],
                  ctx.error);
    }
    json_decref(call_ok("config.set", "{\"name\": \"SUGA_T_BOOL\", \"value\": \"maybe\"}"));
    call_fails(&ctx, "config.get", "{\"name\": \"SUGA_T_BOOL\", \"type\": \"bool\"}", SUGA_E_HANDLER);
    cr_assert_str_eq(ctx.error, "config.get: override SUGA_T_BOOL is not a bool: \"maybe\"");
}

Test(config, secret_values_never_appear_in_errors)
{
    suga_ctx ctx;
    setenv("SUGA_T_API_TOKEN", "s3cr3t-value", 1);
    /* the C API, which modules read their settings with, never quotes a secret's value */
    int64_t v;
    cr_assert_eq(suga_config_get_int("SUGA_T_API_TOKEN", 1, 0, 10, &v, &ctx), SUGA_E_HANDLER);
    cr_assert(strstr(ctx.error, "SUGA_T_API_TOKEN"), "%s", ctx.error);
    cr_assert(strstr(ctx.error, "is not an int"), "%s", ctx.error);
    cr_assert_null(strstr(ctx.error, "s3cr3t"), "secret leaked: %s", ctx.error);
}

/* Anyone allowed to invoke the function may call config.get: the role's credentials and the
 * tokens must not be readable through it. */
Test(config, get_of_a_secret_says_only_whether_it_is_set)
{
    const char *names[] = {"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "HOME_ASSISTANT_TOKEN",
                           "LONG_LIVED_ACCESS_TOKEN", "AWS_ACCESS_KEY_ID"};
    char args[160], want[256];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        setenv(names[i], "K", 1);
        for (int typed = 0; typed < 2; typed++) {
            snprintf(args, sizeof args, "{\"name\": \"%s\"%s}", names[i], typed ? ", \"type\": \"int\"" : "");
            snprintf(want, sizeof want, "{\"name\": \"%s\", \"hidden\": true, \"set\": true, \"source\": \"environment\"}",
                     names[i]);
            assert_json(call_ok("config.get", args), want);
        }
    }
    json_decref(call_ok("config.set", "{\"name\": \"SUGA_T_API_TOKEN\", \"value\": \"override-secret-1\"}"));
    assert_json(call_ok("config.get", "{\"name\": \"SUGA_T_API_TOKEN\"}"),
                "{\"name\": \"SUGA_T_API_TOKEN\", \"hidden\": true, \"set\": true, \"source\": \"override\"}");
    assert_json(call_ok("config.get", "{\"name\": \"SUGA_T_UNSET_TOKEN\", \"default_value\": \"d\"}"),
                "{\"name\": \"SUGA_T_UNSET_TOKEN\", \"hidden\": true, \"set\": false, \"source\": \"default\"}");
    assert_json(call_ok("config.get", "{\"name\": \"SUGA_T_UNSET_TOKEN\"}"),
                "{\"name\": \"SUGA_T_UNSET_TOKEN\", \"hidden\": true, \"set\": false, \"source\": \"unset\"}");
}

/* A secret set as an override is masked wherever it would show afterwards, and forgotten
 * (as an override's value) when the override is removed. */
Test(config, an_overridden_secret_is_masked_everywhere)
{
    json_decref(call_ok("config.set", "{\"name\": \"SUGA_T_PASSWORD\", \"value\": \"override-pass-123\"}"));
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    suga_fail(&ctx, SUGA_E_HANDLER, "the server echoed override-pass-123");
    cr_assert_str_eq(ctx.error, "the server echoed ***");
    json_decref(call_ok("config.unset", "{\"name\": \"SUGA_T_PASSWORD\"}"));
    suga_fail(&ctx, SUGA_E_HANDLER, "the server echoed override-pass-123");
    cr_assert_str_eq(ctx.error, "the server echoed override-pass-123");
}

Test(config, default_must_have_the_type)
{
    suga_ctx ctx;
    call_fails(&ctx, "config.get", "{\"name\": \"SUGA_T_INT\", \"type\": \"int\", \"default_value\": \"5\"}",
               SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "config.get: default_value must have type int, got \"\\\"5\\\"\"");
    call_fails(&ctx, "config.get", "{\"name\": \"SUGA_T_INT\", \"type\": \"bool\", \"default_value\": 1}",
               SUGA_E_INVALID_ARG);
    call_fails(&ctx, "config.get", "{\"name\": \"SUGA_T_INT\", \"default_value\": {\"a\": 1}}", SUGA_E_INVALID_ARG);
    json_t *r = call_ok("config.get", "{\"name\": \"SUGA_T_NUM\", \"type\": \"number\", \"default_value\": 5}");
    cr_assert(json_is_real(json_object_get(r, "value")), "an int default for a number is widened");
    cr_assert_str_eq(str_field(r, "source"), "default");
    json_decref(r);
    /* a default is not checked when the setting is set */
    setenv("SUGA_T_INT", "3", 1);
    assert_json(call_ok("config.get", "{\"name\": \"SUGA_T_INT\", \"type\": \"int\", \"default_value\": 1}"),
                "{\"name\": \"SUGA_T_INT\", \"value\": 3, \"source\": \"environment\"}");
}

/* ---- set ---- */

Test(config, set_accepts_only_scalars)
{
    suga_ctx ctx;
    call_fails(&ctx, "config.set", "{\"name\": \"SUGA_T_VALUE\", \"value\": {\"a\": 1}}", SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "config.set: value for SUGA_T_VALUE must be a string, number or bool, got an object");
    call_fails(&ctx, "config.set", "{\"name\": \"SUGA_T_VALUE\", \"value\": [1]}", SUGA_E_INVALID_ARG);
    call_fails(&ctx, "config.set", "{\"name\": \"SUGA_T_VALUE\", \"value\": null}", SUGA_E_INVALID_ARG);
    call_fails(&ctx, "config.set", "{\"name\": \"SUGA_T_VALUE\", \"value\": \"a\\u0000b\"}", SUGA_E_INVALID_ARG);
    /* the spec's pattern keeps names to identifiers */
    call_fails(&ctx, "config.set", "{\"name\": \"1BAD\", \"value\": 1}", SUGA_E_INVALID_ARG);
    /* nothing was stored by the failed calls */
    assert_json(call_ok("config.get", "{\"name\": \"SUGA_T_VALUE\"}"),
                "{\"name\": \"SUGA_T_VALUE\", \"value\": null, \"source\": \"unset\"}");
}

Test(config, set_masks_a_secret_previous)
{
    json_decref(call_ok("config.set", "{\"name\": \"SUGA_T_API_TOKEN\", \"value\": \"old-secret\"}"));
    json_t *r = call_ok("config.set", "{\"name\": \"SUGA_T_API_TOKEN\", \"value\": \"new-secret\"}");
    char *text = json_dumps(r, JSON_COMPACT);
    cr_assert_null(strstr(text, "old-secret"), "%s", text);
    free(text);
    assert_json(r, "{\"name\": \"SUGA_T_API_TOKEN\", \"previous\": \"***\"}");
}

/* ---- list ---- */

Test(config, list_merges_sorts_and_masks)
{
    setenv("SUGA_TLIST_C", "env-c", 1);
    setenv("SUGA_TLIST_B", "env-b", 1);
    setenv("SUGA_TLIST_PASSWORD", "hunter2", 1);
    setenv("SUGA_TLISTX", "other", 1);
    json_decref(call_ok("config.set", "{\"name\": \"SUGA_TLIST_C\", \"value\": \"override-c\"}"));
    json_decref(call_ok("config.set", "{\"name\": \"SUGA_TLIST_A\", \"value\": 1}"));
    json_t *r = call_ok("config.list", "{\"prefix\": \"SUGA_TLIST_\"}");
    char *text = json_dumps(r, JSON_COMPACT);
    cr_assert_null(strstr(text, "hunter2"), "secret listed: %s", text);
    free(text);
    assert_json(r, "[{\"name\": \"SUGA_TLIST_A\", \"value\": \"1\", \"source\": \"override\"},"
                   " {\"name\": \"SUGA_TLIST_B\", \"value\": \"env-b\", \"source\": \"environment\"},"
                   " {\"name\": \"SUGA_TLIST_C\", \"value\": \"override-c\", \"source\": \"override\"},"
                   " {\"name\": \"SUGA_TLIST_PASSWORD\", \"value\": \"***\", \"source\": \"environment\"}]");
}

Test(config, list_defaults_to_the_suga_prefix)
{
    setenv("SUGA_TLIST_B", "env-b", 1);
    json_t *r = call_ok("config.list", NULL);
    bool found = false;
    size_t i;
    json_t *row;
    json_array_foreach(r, i, row) {
        cr_assert(!strncmp(str_field(row, "name"), "SUGA_", 5), "%s", str_field(row, "name"));
        found |= !strcmp(str_field(row, "name"), "SUGA_TLIST_B");
        if (i > 0)
            cr_assert_lt(strcmp(str_field(json_array_get(r, i - 1), "name"), str_field(row, "name")), 0, "not sorted");
    }
    cr_assert(found);
    json_decref(r);
}

/* ---- C API ---- */

Test(config, c_api_int)
{
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    int64_t v = 0;
    cr_assert_eq(suga_config_get_int("SUGA_T_INT", 10, 1, 100, &v, &ctx), SUGA_OK);
    cr_assert_eq(v, 10);
    setenv("SUGA_T_INT", "42", 1);
    cr_assert_eq(suga_config_get_int("SUGA_T_INT", 10, 1, 100, &v, &ctx), SUGA_OK);
    cr_assert_eq(v, 42);
    json_decref(call_ok("config.set", "{\"name\": \"SUGA_T_INT\", \"value\": 99}"));
    cr_assert_eq(suga_config_get_int("SUGA_T_INT", 10, 1, 100, &v, &ctx), SUGA_OK);
    cr_assert_eq(v, 99);
    json_decref(call_ok("config.set", "{\"name\": \"SUGA_T_INT\", \"value\": 101}"));
    cr_assert_eq(suga_config_get_int("SUGA_T_INT", 10, 1, 100, &v, &ctx), SUGA_E_HANDLER);
    cr_assert_str_eq(ctx.error, "config: override SUGA_T_INT is not an int in [1, 100]: \"101\"");
    cr_assert_eq(v, 99, "output untouched on error");
    cr_assert_eq(suga_config_get_int("SUGA_T_INT", 0, 1, 100, &v, &ctx), SUGA_E_INVALID_ARG, "fallback out of range");
    cr_assert_eq(suga_config_get_int(NULL, 1, 0, 2, &v, NULL), SUGA_E_INVALID_ARG);
}

Test(config, c_api_number_bool_string)
{
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    double d = 0;
    setenv("SUGA_T_NUM", "0.25", 1);
    cr_assert_eq(suga_config_get_number("SUGA_T_NUM", 1.0, 0.0, 1.0, &d, &ctx), SUGA_OK);
    cr_assert_float_eq(d, 0.25, 1e-12);
    setenv("SUGA_T_NUM", "2", 1);
    cr_assert_eq(suga_config_get_number("SUGA_T_NUM", 1.0, 0.0, 1.0, &d, &ctx), SUGA_E_HANDLER);
    cr_assert(strstr(ctx.error, "SUGA_T_NUM"), "%s", ctx.error);

    bool b = false;
    cr_assert_eq(suga_config_get_bool("SUGA_T_BOOL", true, &b, &ctx), SUGA_OK);
    cr_assert(b);
    setenv("SUGA_T_BOOL", "off", 1);
    cr_assert_eq(suga_config_get_bool("SUGA_T_BOOL", true, &b, &ctx), SUGA_OK);
    cr_assert_not(b);
    setenv("SUGA_T_BOOL", "nope", 1);
    cr_assert_eq(suga_config_get_bool("SUGA_T_BOOL", true, &b, &ctx), SUGA_E_HANDLER);
    cr_assert(strstr(ctx.error, "environment variable SUGA_T_BOOL is not a bool"), "%s", ctx.error);

    char buf[8];
    cr_assert_eq(suga_config_get_string("SUGA_T_LONG", "dflt", buf, sizeof buf, &ctx), SUGA_OK);
    cr_assert_str_eq(buf, "dflt");
    setenv("SUGA_T_LONG", "1234567", 1);
    cr_assert_eq(suga_config_get_string("SUGA_T_LONG", NULL, buf, sizeof buf, &ctx), SUGA_OK);
    cr_assert_str_eq(buf, "1234567");
    setenv("SUGA_T_LONG", "12345678", 1);
    cr_assert_eq(suga_config_get_string("SUGA_T_LONG", NULL, buf, sizeof buf, &ctx), SUGA_E_LIMIT);
    cr_assert_str_eq(buf, "");
    cr_assert(strstr(ctx.error, "SUGA_T_LONG"), "%s", ctx.error);
}

Test(config, reset_drops_overrides)
{
    json_decref(call_ok("config.set", "{\"name\": \"SUGA_T_VALUE\", \"value\": \"x\"}"));
    cr_assert_eq(suga_config_reset(), SUGA_OK);
    assert_json(call_ok("config.get", "{\"name\": \"SUGA_T_VALUE\"}"),
                "{\"name\": \"SUGA_T_VALUE\", \"value\": null, \"source\": \"unset\"}");
}

Test(config, typed_path)
{
    suga_args_config_get args = {
        .name = {.ptr = "SUGA_T_INT", .len = 10},
        .type = SUGA_CONFIG_GET_TYPE_INT,
        .default_value = json_integer(8),
        .has_default_value = true,
    };
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *r = NULL;
    cr_assert_eq(suga_call_id(&ctx, SUGA_OP_CONFIG_GET, &args, &r), SUGA_OK, "%s", ctx.error);
    json_decref(args.default_value);
    assert_json(r, "{\"name\": \"SUGA_T_INT\", \"value\": 8, \"source\": \"default\"}");
}
