/* test_logging.c: logging.* operations and the logging C API, with records captured in memory. */
#include <stdio.h>
#include <stdlib.h>

#include "config/suga_config.h"
#include "handler_test.h"
#include "suga_handler_test_hooks.h"
#include "suga_log.h"

#define ISO_RE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"

static FILE *capture;
static char *captured;
static size_t captured_len;

static void setup(void)
{
    unsetenv("LOG_LEVEL");
    suga_config_reset();
    suga_log_reset();
    capture = open_memstream(&captured, &captured_len);
    cr_assert_not_null(capture);
    suga_log_set_output(capture);
}

static void teardown(void)
{
    suga_log_reset();
    suga_config_reset();
    unsetenv("LOG_LEVEL");
    if (capture)
        fclose(capture);
    free(captured);
    capture = NULL;
    captured = NULL;
}

TestSuite(logging, .init = setup, .fini = teardown);

/* Everything written so far, as an array of parsed records; each line must be one JSON object. */
static json_t *records(void)
{
    fflush(capture);
    json_t *all = json_array();
    const char *p = captured;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        cr_assert_not_null(nl, "record not terminated by a newline: %s", p);
        json_error_t err;
        json_t *rec = json_loadb(p, (size_t)(nl - p), 0, &err);
        cr_assert(json_is_object(rec), "line is not a JSON object: %.*s (%s)", (int)(nl - p), p, err.text);
        json_array_append_new(all, rec);
        p = nl + 1;
    }
    return all;
}

static size_t record_count(void)
{
    json_t *all = records();
    size_t n = json_array_size(all);
    json_decref(all);
    return n;
}

/* The keys of a record in the order they were written. */
static void assert_key_order(const json_t *rec, const char *const *keys, size_t count)
{
    cr_assert_eq(json_object_size(rec), count, "record has %zu keys, want %zu", json_object_size(rec), count);
    size_t i = 0;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)rec, key, value) {
        (void)value;
        cr_assert_str_eq(key, keys[i], "key %zu is %s, want %s", i, key, keys[i]);
        i++;
    }
}

static suga_status call_with_ids(const char *op, const char *args_json, json_t **result)
{
    json_t *args = json_loads(args_json, 0, NULL);
    cr_assert_not_null(args);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    ctx.request_id = "req-123";
    ctx.correlation_id = "corr-from-ctx";
    suga_status st = suga_call_json(&ctx, op, strlen(op), args, result);
    json_decref(args);
    return st;
}

/* ---- records ---- */

Test(logging, record_fields_in_order)
{
    json_t *r = NULL;
    cr_assert_eq(call_with_ids("logging.info", "{\"message\": \"hello\", \"fields\": {\"user\": \"bob\", \"count\": 3}}", &r),
                 SUGA_OK);
    assert_json(r, "{\"written\": true}");
    json_t *all = records();
    cr_assert_eq(json_array_size(all), 1);
    json_t *rec = json_array_get(all, 0);
    static const char *const keys[] = {"timestamp", "level", "message", "request_id", "correlation_id", "user", "count"};
    assert_key_order(rec, keys, 7);
    cr_assert(matches(ISO_RE, str_field(rec, "timestamp")), "%s", str_field(rec, "timestamp"));
    cr_assert_str_eq(str_field(rec, "level"), "info");
    cr_assert_str_eq(str_field(rec, "message"), "hello");
    cr_assert_str_eq(str_field(rec, "request_id"), "req-123");
    cr_assert_str_eq(str_field(rec, "correlation_id"), "corr-from-ctx");
    cr_assert_eq(int_field(rec, "count"), 3);
    json_decref(all);
    /* compact: no spaces after separators */
    cr_assert_null(strstr(captured, "\": "), "%s", captured);
}

Test(logging, correlation_id_argument_wins_and_absent_ids_are_left_out)
{
    json_t *r = NULL;
    cr_assert_eq(call_with_ids("logging.warning", "{\"message\": \"m\", \"correlation_id\": \"corr-arg\"}", &r), SUGA_OK);
    json_decref(r);
    json_decref(call_ok("logging.error", "{\"message\": \"no ids\"}"));
    json_t *all = records();
    cr_assert_str_eq(str_field(json_array_get(all, 0), "correlation_id"), "corr-arg");
    cr_assert_str_eq(str_field(json_array_get(all, 0), "level"), "warning");
    static const char *const keys[] = {"timestamp", "level", "message"};
    assert_key_order(json_array_get(all, 1), keys, 3);
    json_decref(all);
}

Test(logging, caller_fields_cannot_overwrite_standard_keys)
{
    json_decref(call_ok("logging.info", "{\"message\": \"real\", \"fields\": {\"level\": \"error\", \"message\": \"fake\","
                                        " \"field_level\": 1, \"timestamp\": 0}}"));
    json_t *all = records();
    json_t *rec = json_array_get(all, 0);
    cr_assert_str_eq(str_field(rec, "level"), "info");
    cr_assert_str_eq(str_field(rec, "message"), "real");
    cr_assert(matches(ISO_RE, str_field(rec, "timestamp")));
    cr_assert_str_eq(str_field(rec, "field_level"), "error");
    cr_assert_str_eq(str_field(rec, "field_message"), "fake");
    cr_assert_eq(int_field(rec, "field_field_level"), 1, "a prefixed name that is taken is prefixed again");
    cr_assert_eq(int_field(rec, "field_timestamp"), 0);
    json_decref(all);
}

Test(logging, secrets_are_masked)
{
    json_decref(call_ok("logging.info", "{\"message\": \"login\", \"fields\": {\"user\": \"bob\", \"password\": \"hunter2\","
                                        " \"headers\": {\"Authorization\": \"Bearer abc.def\"},"
                                        " \"items\": [{\"api_key\": \"k-999\"}]}}"));
    cr_assert_null(strstr(captured, "hunter2"), "%s", captured);
    cr_assert_null(strstr(captured, "abc.def"), "%s", captured);
    cr_assert_null(strstr(captured, "k-999"), "%s", captured);
    json_t *all = records();
    json_t *rec = json_array_get(all, 0);
    cr_assert_str_eq(str_field(rec, "password"), "***");
    cr_assert_str_eq(str_field(json_object_get(rec, "headers"), "Authorization"), "***");
    cr_assert_str_eq(str_field(json_array_get(json_object_get(rec, "items"), 0), "api_key"), "***");
    cr_assert_str_eq(str_field(rec, "user"), "bob");
    json_decref(all);
}

Test(logging, record_request)
{
    json_t *r = NULL;
    cr_assert_eq(call_with_ids("logging.record_request",
                               "{\"operation\": \"cache.get\", \"status\": \"ok\", \"duration_ms\": 1.25}", &r),
                 SUGA_OK);
    assert_json(r, "{\"written\": true}");
    json_t *all = records();
    json_t *rec = json_array_get(all, 0);
    static const char *const keys[] = {"timestamp", "level",     "message",    "request_id",
                                       "correlation_id", "operation", "status", "duration_ms"};
    assert_key_order(rec, keys, 8);
    cr_assert_str_eq(str_field(rec, "level"), "info");
    cr_assert_str_eq(str_field(rec, "message"), "request");
    cr_assert_str_eq(str_field(rec, "operation"), "cache.get");
    cr_assert_str_eq(str_field(rec, "status"), "ok");
    cr_assert_float_eq(json_number_value(json_object_get(rec, "duration_ms")), 1.25, 1e-9);
    json_decref(all);
}

/* ---- levels ---- */

Test(logging, default_level_is_info)
{
    assert_json(call_ok("logging.get_level", NULL), "{\"level\": \"info\"}");
    assert_json(call_ok("logging.debug", "{\"message\": \"quiet\"}"), "{\"written\": false}");
    assert_json(call_ok("logging.info", "{\"message\": \"loud\"}"), "{\"written\": true}");
    assert_json(call_ok("logging.log", "{\"level\": \"debug\", \"message\": \"quiet\"}"), "{\"written\": false}");
    assert_json(call_ok("logging.log", "{\"level\": \"error\", \"message\": \"loud\"}"), "{\"written\": true}");
    json_t *all = records();
    cr_assert_eq(json_array_size(all), 2);
    cr_assert_str_eq(str_field(json_array_get(all, 1), "level"), "error");
    json_decref(all);
}

Test(logging, set_level_filters_and_reports_previous)
{
    assert_json(call_ok("logging.set_level", "{\"level\": \"error\"}"), "{\"level\": \"error\", \"previous\": \"info\"}");
    assert_json(call_ok("logging.warning", "{\"message\": \"dropped\"}"), "{\"written\": false}");
    assert_json(call_ok("logging.error", "{\"message\": \"kept\"}"), "{\"written\": true}");
    assert_json(call_ok("logging.set_level", "{\"level\": \"debug\"}"), "{\"level\": \"debug\", \"previous\": \"error\"}");
    assert_json(call_ok("logging.debug", "{\"message\": \"now kept\"}"), "{\"written\": true}");
    assert_json(call_ok("logging.get_level", NULL), "{\"level\": \"debug\"}");
    cr_assert_eq(record_count(), 2);
    suga_ctx ctx;
    call_fails(&ctx, "logging.set_level", "{\"level\": \"verbose\"}", SUGA_E_INVALID_ARG);
}

Test(logging, log_level_from_environment)
{
    setenv("LOG_LEVEL", "DEBUG", 1);
    assert_json(call_ok("logging.debug", "{\"message\": \"d\"}"), "{\"written\": true}");
    suga_log_reset();
    suga_log_set_output(capture);
    setenv("LOG_LEVEL", "Warn", 1);
    assert_json(call_ok("logging.info", "{\"message\": \"i\"}"), "{\"written\": false}");
    assert_json(call_ok("logging.warning", "{\"message\": \"w\"}"), "{\"written\": true}");
    assert_json(call_ok("logging.get_level", NULL), "{\"level\": \"warning\"}");
    cr_assert_eq(record_count(), 2, "no warning about a valid LOG_LEVEL");
}

Test(logging, log_level_read_once_on_first_use)
{
    setenv("LOG_LEVEL", "error", 1);
    assert_json(call_ok("logging.get_level", NULL), "{\"level\": \"error\"}");
    setenv("LOG_LEVEL", "debug", 1);
    assert_json(call_ok("logging.get_level", NULL), "{\"level\": \"error\"}");
}

Test(logging, log_level_override_through_config)
{
    setenv("LOG_LEVEL", "error", 1);
    json_decref(call_ok("config.set", "{\"name\": \"LOG_LEVEL\", \"value\": \"debug\"}"));
    assert_json(call_ok("logging.get_level", NULL), "{\"level\": \"debug\"}");
}

/* The log reads the environment only; the config module pushes an override to it, also after
 * the level was first read, and its removal gives the environment's level back. */
Test(logging, log_level_override_after_first_use)
{
    setenv("LOG_LEVEL", "error", 1);
    assert_json(call_ok("logging.get_level", NULL), "{\"level\": \"error\"}");
    json_decref(call_ok("config.set", "{\"name\": \"LOG_LEVEL\", \"value\": \"Warn\"}"));
    assert_json(call_ok("logging.get_level", NULL), "{\"level\": \"warning\"}");
    json_decref(call_ok("config.set", "{\"name\": \"LOG_LEVEL\", \"value\": \"verbose\"}"));
    assert_json(call_ok("logging.get_level", NULL), "{\"level\": \"warning\"}"); /* no level: left as it was */
    json_decref(call_ok("config.unset", "{\"name\": \"LOG_LEVEL\"}"));
    assert_json(call_ok("logging.get_level", NULL), "{\"level\": \"error\"}");
}

Test(logging, one_parser_for_level_names)
{
    static const struct {
        const char *text;
        suga_log_level level;
    } good[] = {{"debug", SUGA_LOG_DEBUG}, {"INFO", SUGA_LOG_INFO}, {"Warning", SUGA_LOG_WARNING},
                {"warn", SUGA_LOG_WARNING}, {"error", SUGA_LOG_ERROR}};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        suga_log_level level = SUGA_LOG_ERROR + 1;
        cr_assert_eq(suga_log_parse_level(good[i].text, &level), SUGA_OK, "%s", good[i].text);
        cr_assert_eq(level, good[i].level, "%s", good[i].text);
    }
    suga_log_level untouched = SUGA_LOG_INFO;
    static const char *const bad[] = {"", "verbose", "warnings", " info", "err"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(suga_log_parse_level(bad[i], &untouched), SUGA_E_INVALID_ARG, "'%s'", bad[i]);
    cr_assert_eq(untouched, SUGA_LOG_INFO);
    cr_assert_eq(suga_log_parse_level(NULL, &untouched), SUGA_E_INVALID_ARG);
}

Test(logging, invalid_log_level_warns_once_and_uses_info)
{
    setenv("LOG_LEVEL", "verbose", 1);
    assert_json(call_ok("logging.debug", "{\"message\": \"d\"}"), "{\"written\": false}");
    assert_json(call_ok("logging.info", "{\"message\": \"i\"}"), "{\"written\": true}");
    assert_json(call_ok("logging.get_level", NULL), "{\"level\": \"info\"}");
    json_t *all = records();
    cr_assert_eq(json_array_size(all), 2, "one warning, then the info record");
    json_t *warning = json_array_get(all, 0);
    cr_assert_str_eq(str_field(warning, "level"), "warning");
    const char *msg = str_field(warning, "message");
    cr_assert(strstr(msg, "LOG_LEVEL") && strstr(msg, "verbose") && strstr(msg, "using info"), "%s", msg);
    cr_assert_str_eq(str_field(json_array_get(all, 1), "message"), "i");
    json_decref(all);
}

Test(logging, empty_log_level_is_not_set)
{
    setenv("LOG_LEVEL", "", 1);
    assert_json(call_ok("logging.get_level", NULL), "{\"level\": \"info\"}");
    cr_assert_eq(record_count(), 0);
}

/* ---- C API and typed path ---- */

Test(logging, c_api)
{
    bool written = false;
    json_t *fields = json_pack("{s:s, s:s}", "component", "bootstrap", "session_id", "abc123");
    cr_assert_eq(suga_log_write(NULL, SUGA_LOG_WARNING, "from C", fields, &written), SUGA_OK);
    cr_assert(written);
    cr_assert_eq(suga_log_write(NULL, SUGA_LOG_DEBUG, "filtered", NULL, &written), SUGA_OK);
    cr_assert_not(written);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    ctx.request_id = "r-9";
    cr_assert_eq(suga_log_write(&ctx, SUGA_LOG_ERROR, "with ctx", NULL, NULL), SUGA_OK);
    cr_assert_eq(suga_log_write(NULL, (suga_log_level)7, "bad level", NULL, &written), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_log_write(NULL, SUGA_LOG_ERROR, "bad \xff utf-8", NULL, &written), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_log_write(NULL, SUGA_LOG_ERROR, "not an object", fields, NULL), SUGA_OK);
    json_t *array = json_array();
    cr_assert_eq(suga_log_write(NULL, SUGA_LOG_ERROR, "fields must be an object", array, NULL), SUGA_E_INVALID_ARG);
    json_decref(array);
    json_decref(fields);
    cr_assert_null(strstr(captured, "abc123"));
    json_t *all = records();
    cr_assert_eq(json_array_size(all), 3);
    cr_assert_str_eq(str_field(json_array_get(all, 0), "component"), "bootstrap");
    cr_assert_str_eq(str_field(json_array_get(all, 1), "request_id"), "r-9");
    json_decref(all);

    suga_log_level level;
    cr_assert_eq(suga_log_set_level(SUGA_LOG_ERROR), SUGA_OK);
    cr_assert_eq(suga_log_get_level(&level), SUGA_OK);
    cr_assert_eq(level, SUGA_LOG_ERROR);
    cr_assert_eq(suga_log_set_level((suga_log_level)9), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(suga_log_level_name(SUGA_LOG_WARNING), "warning");
    cr_assert_null(suga_log_level_name((suga_log_level)4));
}

Test(logging, typed_path)
{
    suga_args_logging_log args = {
        .level = SUGA_LOGGING_LOG_LEVEL_WARNING,
        .message = {.ptr = "typed", .len = 5},
    };
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *r = NULL;
    cr_assert_eq(suga_call_id(&ctx, SUGA_OP_LOGGING_LOG, &args, &r), SUGA_OK, "%s", ctx.error);
    assert_json(r, "{\"written\": true}");
    json_t *all = records();
    cr_assert_str_eq(str_field(json_array_get(all, 0), "level"), "warning");
    json_decref(all);
}

Test(logging, a_stream_that_refuses_writes_is_an_io_error)
{
    FILE *ro = fopen("/dev/null", "r");
    cr_assert_not_null(ro);
    suga_log_set_output(ro);
    suga_ctx ctx;
    call_fails(&ctx, "logging.error", "{\"message\": \"x\"}", SUGA_E_IO);
    cr_assert(!strncmp(ctx.error, "logging.error: writing the record failed", 40), "%s", ctx.error);
    suga_log_set_output(capture);
    fclose(ro);
    assert_json(call_ok("logging.error", "{\"message\": \"y\"}"), "{\"written\": true}");
}

Test(logging, fusion_fields_from_a_timestamp)
{
    /* what the log_with_timestamp fusion feeds logging.info: the timestamp result as fields */
    json_t *ts = call_ok("utility.timestamp", NULL);
    json_t *args = json_pack("{s:s, s:O}", "message", "tick", "fields", ts);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *r = NULL;
    cr_assert_eq(suga_call_json(&ctx, "logging.info", 12, args, &r), SUGA_OK, "%s", ctx.error);
    json_decref(r);
    json_t *all = records();
    json_t *rec = json_array_get(all, 0);
    cr_assert_eq(int_field(rec, "epoch_ms"), int_field(ts, "epoch_ms"));
    cr_assert_str_eq(str_field(rec, "iso8601"), str_field(ts, "iso8601"));
    json_decref(all);
    json_decref(args);
    json_decref(ts);
}
