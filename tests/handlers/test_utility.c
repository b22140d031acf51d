/* test_utility.c: utility.* operations and the utility C API. */
#include <stdlib.h>

#include "handler_test.h"
#include "suga_clock.h"
#include "utility/suga_utility.h"

#define UUID4_RE "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
#define ISO_RE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"

/* ---- correlation ids ---- */

Test(utility, correlation_id_is_a_random_uuid4)
{
    json_t *a = call_ok("utility.correlation_id", NULL);
    json_t *b = call_ok("utility.correlation_id", NULL);
    const char *ia = str_field(a, "correlation_id"), *ib = str_field(b, "correlation_id");
    cr_assert(matches(UUID4_RE, ia), "not a UUID v4: %s", ia);
    cr_assert(matches(UUID4_RE, ib), "not a UUID v4: %s", ib);
    cr_assert_str_neq(ia, ib);
    cr_assert_eq(json_object_size(a), 1);
    json_decref(a);
    json_decref(b);
}

Test(utility, uuid4_sets_version_and_variant_bits)
{
    /* over many ids every random nibble takes several values, the fixed ones never change */
    bool seen_variant[4] = {false};
    for (int i = 0; i < 200; i++) {
        char id[SUGA_UUID_LEN + 1];
        cr_assert_eq(suga_util_uuid4(id), SUGA_OK);
        cr_assert_eq(strlen(id), SUGA_UUID_LEN);
        cr_assert_eq(id[14], '4', "version nibble in %s", id);
        const char *variants = "89ab";
        const char *v = strchr(variants, id[19]);
        cr_assert_not_null(v, "variant nibble in %s", id);
        seen_variant[v - variants] = true;
    }
    for (int i = 0; i < 4; i++)
        cr_assert(seen_variant[i], "variant nibble %c never seen: the random bits are masked too much", "89ab"[i]);
    cr_assert_eq(suga_util_uuid4(NULL), SUGA_E_INVALID_ARG);
}

/* ---- time ---- */

Test(utility, timestamp_is_now_in_both_forms)
{
    int64_t before = suga_clock_wall_ms();
    json_t *r = call_ok("utility.timestamp", NULL);
    int64_t after = suga_clock_wall_ms();
    json_int_t ms = int_field(r, "epoch_ms");
    cr_assert(ms >= before && ms <= after, "epoch_ms %lld outside [%lld, %lld]", (long long)ms, (long long)before,
              (long long)after);
    char iso[SUGA_ISO8601_SIZE];
    cr_assert_eq(suga_clock_iso8601(ms, iso), SUGA_OK);
    cr_assert_str_eq(str_field(r, "iso8601"), iso);
    cr_assert(matches(ISO_RE, iso), "%s", iso);
    json_decref(r);
}

/* ---- json_parse / json_stringify ---- */

Test(utility, json_parse_returns_the_value)
{
    assert_json(call_ok("utility.json_parse", "{\"text\": \"{\\\"a\\\": [1, 2.5, null], \\\"b\\\": \\\"x\\\"}\"}"),
                "{\"a\": [1, 2.5, null], \"b\": \"x\"}");
    assert_json(call_ok("utility.json_parse", "{\"text\": \"42\"}"), "42");
    assert_json(call_ok("utility.json_parse", "{\"text\": \"\\\"s\\\"\"}"), "\"s\"");
    cr_assert_null(call_ok("utility.json_parse", "{\"text\": \"null\"}"));
}

Test(utility, json_parse_error_names_line_and_column)
{
    suga_ctx ctx;
    call_fails(&ctx, "utility.json_parse", "{\"text\": \"{\\\"a\\\": 1,\\n  \\\"b\\\": }\"}", SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "utility.json_parse: invalid JSON at line 2, column 8: unexpected token near '}'");
    call_fails(&ctx, "utility.json_parse", "{\"text\": \"[1, 2\"}", SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "utility.json_parse: invalid JSON at line 1, column 5: ']' expected near end of file");
    call_fails(&ctx, "utility.json_parse", "{\"text\": \"\"}", SUGA_E_INVALID_ARG);
    cr_assert(strstr(ctx.error, "utility.json_parse: invalid JSON at line 1"), "%s", ctx.error);
}

Test(utility, json_stringify_sorts_keys)
{
    json_t *r = call_ok("utility.json_stringify", "{\"value\": {\"b\": [1, {\"z\": 1, \"y\": 2}], \"a\": \"x\"}}");
    cr_assert_str_eq(str_field(r, "text"), "{\"a\":\"x\",\"b\":[1,{\"y\":2,\"z\":1}]}");
    json_decref(r);
    r = call_ok("utility.json_stringify", "{\"value\": {\"b\": 1, \"a\": [true]}, \"pretty\": true}");
    cr_assert_str_eq(str_field(r, "text"), "{\n  \"a\": [\n    true\n  ],\n  \"b\": 1\n}");
    json_decref(r);
    r = call_ok("utility.json_stringify", "{\"value\": \"plain\"}");
    cr_assert_str_eq(str_field(r, "text"), "\"plain\"");
    json_decref(r);
    r = call_ok("utility.json_stringify", "{\"value\": null}");
    cr_assert_str_eq(str_field(r, "text"), "null");
    json_decref(r);
}

/* ---- truncate ---- */

static void check_truncate(const char *text, int max, const char *suffix, const char *want, bool truncated)
{
    json_t *args = json_pack("{s:s, s:i, s:s}", "text", text, "max_bytes", max, "suffix", suffix);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *r = NULL;
    suga_status st = suga_call_json(&ctx, "utility.truncate", strlen("utility.truncate"), args, &r);
    json_decref(args);
    cr_assert_eq(st, SUGA_OK, "%s", ctx.error);
    cr_assert_str_eq(str_field(r, "text"), want, "truncate(\"%s\", %d, \"%s\")", text, max, suffix);
    cr_assert_eq(json_is_true(json_object_get(r, "truncated")), truncated);
    cr_assert_leq(strlen(str_field(r, "text")), (size_t)max);
    json_decref(r);
}

Test(utility, truncate_ascii_and_suffix)
{
    check_truncate("hello", 10, "", "hello", false);
    check_truncate("hello", 5, "...", "hello", false);
    check_truncate("hello world", 5, "", "hello", true);
    check_truncate("abcdefgh", 5, "...", "ab...", true);
    check_truncate("abcdefgh", 0, "", "", true);
    check_truncate("abcdefgh", 2, "...", "ab", true); /* a suffix that cannot fit is left out */
    check_truncate("abcdefgh", 3, "...", "...", true);
}

Test(utility, truncate_never_splits_a_utf8_sequence)
{
    /* é is 2 bytes (C3 A9), € is 3 (E2 82 AC), 😀 is 4 (F0 9F 98 80) */
    check_truncate("h\xc3\xa9llo", 1, "", "h", true);
    check_truncate("h\xc3\xa9llo", 2, "", "h", true);
    check_truncate("h\xc3\xa9llo", 3, "", "h\xc3\xa9", true);
    check_truncate("a\xe2\x82\xac", 2, "", "a", true);
    check_truncate("a\xe2\x82\xac", 3, "", "a", true);
    check_truncate("a\xe2\x82\xac" "b", 4, "", "a\xe2\x82\xac", true);
    for (int max = 1; max <= 4; max++)
        check_truncate("a\xf0\x9f\x98\x80" "b", max, "", "a", true);
    check_truncate("a\xf0\x9f\x98\x80" "b", 5, "", "a\xf0\x9f\x98\x80", true);
    /* suffix counted within max_bytes, and a multi-byte suffix is cut whole */
    check_truncate("\xc3\xa9\xc3\xa9\xc3\xa9", 5, "\xe2\x80\xa6", "\xc3\xa9\xe2\x80\xa6", true);
    check_truncate("\xc3\xa9\xc3\xa9\xc3\xa9", 4, "\xe2\x80\xa6", "\xe2\x80\xa6", true);
    check_truncate("\xc3\xa9\xc3\xa9\xc3\xa9", 2, "\xe2\x80\xa6", "\xc3\xa9", true);
}

Test(utility, truncate_through_the_typed_path)
{
    const char *text = "caf\xc3\xa9 au lait";
    suga_args_utility_truncate args = {
        .text = {.ptr = text, .len = strlen(text)},
        .max_bytes = 4,
        .suffix = {.ptr = "", .len = 0},
    };
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *r = NULL;
    cr_assert_eq(suga_call_id(&ctx, SUGA_OP_UTILITY_TRUNCATE, &args, &r), SUGA_OK, "%s", ctx.error);
    assert_json(r, "{\"text\": \"caf\", \"truncated\": true}");
}

Test(utility, utf8_cut_points)
{
    const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"; /* a é € 😀: sequences start at 0, 1, 3, 6 */
    size_t len = strlen(s);
    static const size_t want[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10};
    for (size_t max = 0; max <= len; max++) {
        size_t cut = 99;
        cr_assert_eq(suga_util_utf8_cut(s, len, max, &cut), SUGA_OK);
        cr_assert_eq(cut, want[max], "max %zu: cut %zu, want %zu", max, cut, want[max]);
    }
    size_t cut;
    cr_assert_eq(suga_util_utf8_cut(s, len, 100, &cut), SUGA_OK);
    cr_assert_eq(cut, len);
    /* stray continuation bytes are not UTF-8: each is its own character */
    cr_assert_eq(suga_util_utf8_cut("\x80\x80\x80\x80\x80", 5, 3, &cut), SUGA_OK);
    cr_assert_eq(cut, 3);
    cr_assert_eq(suga_util_utf8_cut(NULL, 3, 1, &cut), SUGA_E_INVALID_ARG);
}

/* ---- helpers for messages and sizes ---- */

Test(utility, quote_escapes_and_cuts)
{
    char out[64];
    cr_assert_eq(suga_util_quote("a\"b\\c\n", 6, 32, out, sizeof out), SUGA_OK);
    cr_assert_str_eq(out, "\"a\\\"b\\\\c\\u000a\"");
    cr_assert_eq(suga_util_quote("ab\xff" "c", 4, 32, out, sizeof out), SUGA_OK);
    cr_assert_str_eq(out, "\"ab\\xffc\"");
    cr_assert_eq(suga_util_quote("abcdef", 6, 3, out, sizeof out), SUGA_OK);
    cr_assert_str_eq(out, "\"abc\"...");
    cr_assert_eq(suga_util_quote("\xc3\xa9\xc3\xa9", 4, 3, out, sizeof out), SUGA_OK);
    cr_assert_str_eq(out, "\"\xc3\xa9\"...");
    char tiny[8];
    cr_assert_eq(suga_util_quote("abcdefgh", 8, 100, tiny, sizeof tiny), SUGA_OK);
    cr_assert_str_eq(tiny, "\"ab\"...");
    cr_assert_eq(suga_util_quote("x", 1, 1, tiny, 5), SUGA_E_INVALID_ARG);
}

Test(utility, json_size_is_the_compact_encoding_length)
{
    json_t *v = json_loads("{\"a\": [1, 2], \"b\": \"\xc3\xa9\"}", 0, NULL);
    size_t n = 0;
    cr_assert_eq(suga_util_json_size(v, &n), SUGA_OK);
    cr_assert_eq(n, strlen("{\"a\":[1,2],\"b\":\"\xc3\xa9\"}"));
    json_decref(v);
    cr_assert_eq(suga_util_json_size(NULL, &n), SUGA_OK);
    cr_assert_eq(n, 4);
}

Test(utility, utf8_validity)
{
    cr_assert(suga_utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10));
    cr_assert_not(suga_utf8_valid("\xc3", 1));         /* truncated */
    cr_assert_not(suga_utf8_valid("\xc0\xaf", 2));     /* overlong */
    cr_assert_not(suga_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    cr_assert_not(suga_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
}
