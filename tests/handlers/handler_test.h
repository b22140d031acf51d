/* handler_test.h: calling operations through the real engine from Criterion tests.
 *
 * Arguments are written as JSON text (as a Lambda event would carry them) and go through
 * suga_call_json: lookup, decoding and validation, then the handler.
 */
#ifndef HANDLER_TEST_H
#define HANDLER_TEST_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <regex.h>
#include <string.h>

#include "suga_ops.h"

/* Call `op` with args given as JSON text (NULL = no arguments); ctx is initialised here. */
static inline suga_status call(suga_ctx *ctx, const char *op, const char *args_json, json_t **result)
{
    json_t *args = NULL;
    if (args_json) {
        json_error_t err;
        args = json_loads(args_json, JSON_ALLOW_NUL, &err);
        cr_assert_not_null(args, "test bug: bad args JSON %s: %s", args_json, err.text);
    }
    suga_ctx_init(ctx);
    *result = NULL;
    suga_status st = suga_call_json(ctx, op, strlen(op), args, result);
    json_decref(args);
    return st;
}

/* Call `op`, require success, return the result (caller frees). */
static inline json_t *call_ok(const char *op, const char *args_json)
{
    suga_ctx ctx;
    json_t *result = NULL;
    suga_status st = call(&ctx, op, args_json, &result);
    cr_assert_eq(st, SUGA_OK, "%s(%s) failed with %s: %s", op, args_json ? args_json : "", suga_status_name(st),
                 ctx.error);
    return result;
}

/* Call `op`, require failure with `want`; ctx->error holds the message. */
static inline void call_fails(suga_ctx *ctx, const char *op, const char *args_json, suga_status want)
{
    json_t *result = NULL;
    suga_status st = call(ctx, op, args_json, &result);
    cr_assert_eq(st, want, "%s(%s): expected %s, got %s (%s)", op, args_json ? args_json : "", suga_status_name(want),
                 suga_status_name(st), ctx->error);
    cr_assert_null(result, "%s: a failed call must not return a result", op);
}

/* Assert that `actual` equals the JSON written in `expected_json`; consumes `actual`. */
static inline void assert_json(json_t *actual, const char *expected_json)
{
    json_error_t err;
    json_t *expected = json_loads(expected_json, JSON_DECODE_ANY, &err);
    cr_assert_not_null(expected, "test bug: bad expected JSON %s: %s", expected_json, err.text);
    char *got = json_dumps(actual, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    cr_assert(json_equal(actual, expected), "expected %s, got %s", expected_json, got ? got : "NULL");
    free(got);
    json_decref(expected);
    json_decref(actual);
}

static inline json_int_t int_field(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    cr_assert(json_is_integer(v), "field '%s' is not an integer", key);
    return json_integer_value(v);
}

static inline const char *str_field(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    cr_assert(json_is_string(v), "field '%s' is not a string", key);
    return json_string_value(v);
}

static inline bool matches(const char *pattern, const char *s)
{
    regex_t re;
    cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0, "test bug: bad regex %s", pattern);
    bool ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

#endif
