/* The one masking function (runtime/mask.c): names, known secrets by value (environment, slots,
 * the request's), shapes (Bearer, JWT, name=value, "name": "value", URL userinfo and query) in
 * both modes, JSON, cut buffers, suga_fail, and input an attacker would write. Criterion runs
 * each test in its own process, so each starts with nothing remembered. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "suga_mask.h"
#include "suga_test_hooks.h"

static char out[512];

static const char *msg(const char *in)
{
    suga_mask_text(in, strlen(in), out, sizeof out, SUGA_MASK_MESSAGE);
    return out;
}

static const char *data(const char *in)
{
    suga_mask_text(in, strlen(in), out, sizeof out, SUGA_MASK_DATA);
    return out;
}

static void assert_json_eq(json_t *actual, const char *expected)
{
    json_t *want = json_loads(expected, 0, NULL);
    cr_assert_not_null(want, "bad expected JSON: %s", expected);
    char *got = json_dumps(actual, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    cr_assert(json_equal(actual, want), "got %s, want %s", got, expected);
    free(got);
    json_decref(want);
}

Test(mask, secret_names)
{
    const char *secret[] = {"API_TOKEN", "x-Authorization", "db_password", "PASSWD", "Private_Key", "apiKey",
                            "api_key", "CLIENT_SECRET", "aws_credentials", "SESSIONID", "LONG_LIVED_ACCESS_TOKEN",
                            "AWS_ACCESS_KEY_ID", "Cookie", "x-api-key", "X-Aws-Parameters-Secrets-Token"};
    const char *plain[] = {"username", "LOG_LEVEL", "BASE_URL", "key", "api", "", "pass", "HOME_ASSISTANT_URL"};
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
        cr_assert(suga_is_secret_name(secret[i]), "%s should look secret", secret[i]);
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        cr_assert_not(suga_is_secret_name(plain[i]), "%s should not look secret", plain[i]);
    cr_assert_not(suga_is_secret_name(NULL));
    cr_assert(suga_is_secret_name_n("my_token_and_more", 8));
    cr_assert_not(suga_is_secret_name_n("my_token", 4), "only the first len bytes count");
}

Test(mask, shapes_in_messages)
{
    cr_assert_str_eq(msg("sent Authorization: Bearer abc.def-ghi= to ha"), "sent Authorization: Bearer *** to ha");
    cr_assert_str_eq(msg("the body says: password=hunter2; path=/"), "the body says: password=***; path=/");
    cr_assert_str_eq(msg("{\"access_token\": \"s3cr3t\\\"x\", \"a\": 1}"), "{\"access_token\": \"***\", \"a\": 1}");
    cr_assert_str_eq(msg("jwt eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl here"), "jwt *** here");
    cr_assert_str_eq(msg("plain sensor.kitchen.temp text, 12:30"), "plain sensor.kitchen.temp text, 12:30");
    cr_assert_str_eq(msg("the bearer of bad news"), "the bearer *** bad news", "over-masking prose is the cheaper mistake");
}

Test(mask, urls_lose_userinfo_and_query_in_messages_only)
{
    const char *url = "GET https://admin:pw@ha.example.com:8123/api/states?x=1&access_token=zz#frag failed";
    cr_assert_str_eq(msg(url), "GET https://***@ha.example.com:8123/api/states?*** failed");
    cr_assert_str_eq(data(url), "GET https://admin:***@ha.example.com:8123/api/states?x=1&access_token=*** failed");
    cr_assert_str_eq(msg("\"https://TOKEN@example.com/\""), "\"https://***@example.com/\"");
    cr_assert_str_eq(data("https://TOKEN@example.com/"), "https://***@example.com/");
    cr_assert_str_eq(msg("see http://ha.local:8123/api/ and ?x=1 later"), "see http://ha.local:8123/api/ and ?x=1 later",
                     "a '?' outside a URL is text");
    cr_assert_str_eq(msg("url https://h/p? end"), "url https://h/p? end", "an empty query masks nothing");
}

Test(mask, known_secrets_from_the_environment)
{
    setenv("SUGA_TEST_API_TOKEN", "tok-0123456789-MARKER", 1);
    setenv("SUGA_TEST_SECRET_SHORT", "abc", 1);   /* too short to tell from text */
    setenv("SUGA_TEST_SECRET_PORT", "27731234", 1); /* a number: not remembered */
    setenv("SUGA_TEST_PLAIN", "plain-value-123456", 1);
    suga_secret_reset();
    cr_assert_str_eq(msg("Home Assistant said: bad tok-0123456789-MARKER!"), "Home Assistant said: bad ***!");
    cr_assert_str_eq(msg("abc at 27731234 plain-value-123456"), "abc at 27731234 plain-value-123456");
    cr_assert_eq(suga_secret_count() >= 1, true);
}

Test(mask, slots_replace_and_forget)
{
    cr_assert_eq(suga_secret_set("HOME_ASSISTANT_TOKEN", "first-token-value", 17), SUGA_OK);
    cr_assert_str_eq(msg("x first-token-value y"), "x *** y");
    cr_assert_eq(suga_secret_set("HOME_ASSISTANT_TOKEN", "second-token-value", 18), SUGA_OK);
    cr_assert_str_eq(msg("first-token-value second-token-value"), "first-token-value ***", "a rotated value replaces the old one");
    cr_assert_eq(suga_secret_set("HOME_ASSISTANT_TOKEN", NULL, 0), SUGA_OK);
    cr_assert_str_eq(msg("second-token-value"), "second-token-value");
    cr_assert_eq(suga_secret_set("", "whatever-value", 14), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_secret_set(NULL, "whatever-value", 14), SUGA_E_INVALID_ARG);
}

Test(mask, slots_are_bounded)
{
    char slot[32], value[32];
    size_t before = suga_secret_count();
    suga_status st = SUGA_OK;
    for (int i = 0; st == SUGA_OK && i < SUGA_SECRET_SLOTS + 1; i++) {
        snprintf(slot, sizeof slot, "slot-%d", i);
        snprintf(value, sizeof value, "value-of-slot-%d", i);
        st = suga_secret_set(slot, value, strlen(value));
    }
    cr_assert_eq(st, SUGA_E_LIMIT);
    cr_assert_eq(suga_secret_count(), SUGA_SECRET_SLOTS);
    cr_assert_geq(SUGA_SECRET_SLOTS, before);
}

Test(mask, request_secrets_last_until_the_end_of_the_request)
{
    cr_assert_eq(suga_secret_add_request("alexa-user-token-1", 18), SUGA_OK);
    cr_assert_str_eq(msg("Home Assistant: invalid alexa-user-token-1"), "Home Assistant: invalid ***");
    suga_secret_end_request();
    cr_assert_str_eq(msg("alexa-user-token-1"), "alexa-user-token-1");
    /* past the limit the oldest is dropped, the newest kept */
    char value[32];
    for (int i = 0; i < SUGA_REQUEST_SECRETS + 2; i++) {
        snprintf(value, sizeof value, "request-secret-%02d", i);
        cr_assert_eq(suga_secret_add_request(value, strlen(value)), SUGA_OK);
    }
    cr_assert_str_eq(msg("request-secret-17"), "***");
    cr_assert_str_eq(msg("request-secret-00"), "request-secret-00");
    cr_assert_eq(suga_secret_add_request("short", 5), SUGA_OK, "too short: ignored, not an error");
}

Test(mask, the_longest_known_secret_wins_and_a_cut_one_is_masked)
{
    suga_secret_set("a", "prefix-secret", 13);
    suga_secret_set("b", "prefix-secret-and-more", 22);
    cr_assert_str_eq(msg("[prefix-secret-and-more]"), "[***]");
    /* a message cut in the middle of a secret: its start is masked */
    cr_assert_str_eq(msg("value prefix-sec"), "value ***");
    cr_assert_str_eq(msg("value pref"), "value pref", "too short a start to tell");
}

Test(mask, a_small_buffer_is_cut_on_a_character)
{
    char small[8];
    suga_mask_text("h\xc3\xa9h\xc3\xa9h\xc3\xa9", 9, small, sizeof small, SUGA_MASK_MESSAGE);
    cr_assert_str_eq(small, "h\xc3\xa9h\xc3\xa9h");
    suga_mask_text("ab\xe2\x82\xac", 5, small, 5, SUGA_MASK_MESSAGE);
    cr_assert_str_eq(small, "ab", "a 3-byte character that does not fit is dropped whole");
    cr_assert_eq(suga_mask_text("x", 1, NULL, 4, SUGA_MASK_MESSAGE), 0);
    suga_mask_text(NULL, 0, small, sizeof small, SUGA_MASK_MESSAGE);
    cr_assert_str_eq(small, "");
}

Test(mask, counts_and_any_length)
{
    char buf[64];
    cr_assert_eq(suga_mask_text("token=abcdef here", 17, buf, sizeof buf, SUGA_MASK_MESSAGE), 1);
    cr_assert_str_eq(buf, "token=*** here");
    size_t n = 100000;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    memcpy(big + n - 20, " Bearer xyz.123", 15);
    big[n] = '\0';
    char *masked = NULL;
    size_t len = 0, count = 0;
    cr_assert_eq(suga_mask_string(big, strlen(big), SUGA_MASK_MESSAGE, &masked, &len, &count), SUGA_OK);
    cr_assert_eq(count, 1);
    cr_assert(strstr(masked, "Bearer ***"));
    cr_assert_eq(len, strlen(masked));
    free(masked);
    free(big);
    cr_assert_eq(suga_mask_string(NULL, 3, SUGA_MASK_MESSAGE, &masked, NULL, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_mask_string("", 0, SUGA_MASK_MESSAGE, &masked, NULL, NULL), SUGA_OK);
    cr_assert_str_eq(masked, "");
    free(masked);
}

Test(mask, json_is_a_deep_masked_copy)
{
    suga_secret_set("t", "known-secret-value", 18);
    json_t *in = json_loads("{\"user\": \"bob\", \"password\": \"hunter2\", \"nested\": {\"Auth_Token\": {\"x\": 1},"
                            " \"list\": [{\"session\": \"s1\", \"ok\": 1}, \"plain\", \"x known-secret-value\"]},"
                            " \"n\": 5, \"url\": \"https://u:p@h/x?q=1\"}",
                            0, NULL);
    json_t *masked = NULL;
    size_t count = 0;
    cr_assert_eq(suga_mask_json(in, SUGA_MASK_MESSAGE, &masked, &count), SUGA_OK);
    assert_json_eq(masked, "{\"user\": \"bob\", \"password\": \"***\", \"nested\": {\"Auth_Token\": \"***\","
                           " \"list\": [{\"session\": \"***\", \"ok\": 1}, \"plain\", \"x ***\"]}, \"n\": 5,"
                           " \"url\": \"https://***@h/x?***\"}");
    cr_assert_eq(count, 6); /* three members, the known secret, the userinfo and the query */
    cr_assert_str_eq(json_string_value(json_object_get(in, "password")), "hunter2", "the input is untouched");
    json_decref(masked);
    cr_assert_eq(suga_mask_json(NULL, SUGA_MASK_DATA, &masked, NULL), SUGA_OK);
    cr_assert(json_is_null(masked));
    cr_assert_eq(suga_mask_json(in, SUGA_MASK_DATA, NULL, NULL), SUGA_E_INVALID_ARG);
    json_decref(in);
}

Test(mask, json_too_deep_is_a_limit)
{
    json_t *root = json_array(), *at = root;
    for (int i = 0; i < 2100; i++) {
        json_t *inner = json_array();
        json_array_append_new(at, inner);
        at = inner;
    }
    json_t *masked = NULL;
    cr_assert_eq(suga_mask_json(root, SUGA_MASK_DATA, &masked, NULL), SUGA_E_LIMIT);
    cr_assert_null(masked);
    json_decref(root);
}

Test(mask, suga_fail_masks_what_it_writes)
{
    suga_secret_add_request("the-users-token-xyz", 19);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    suga_fail(&ctx, SUGA_E_HANDLER, "Home Assistant answered 500: %s", "echo: Authorization: Bearer the-users-token-xyz");
    cr_assert_str_eq(ctx.error, "Home Assistant answered 500: echo: Authorization: Bearer ***");
    /* a message wrapping the previous one (arguments pointing into ctx.error) */
    suga_fail(&ctx, SUGA_E_HANDLER, "outer: %s", ctx.error);
    cr_assert_str_eq(ctx.error, "outer: Home Assistant answered 500: echo: Authorization: Bearer ***");
    /* a secret at the end of a message too long for the buffer is masked before the cut */
    char longer[SUGA_ERROR_MAX + 64];
    memset(longer, 'x', sizeof longer);
    longer[sizeof longer - 1] = '\0';
    memcpy(longer + SUGA_ERROR_MAX - 30, "the-users-token-xyz", 19);
    suga_fail(&ctx, SUGA_E_HANDLER, "%s", longer);
    cr_assert_null(strstr(ctx.error, "the-users"), "%s", ctx.error);
    cr_assert_eq(strlen(ctx.error), SUGA_ERROR_MAX - 1);
}

/* What an attacker would send to make the scan misbehave: unterminated forms, nothing but
 * delimiters, NUL bytes inside the length, huge runs. Nothing may crash or read past the end,
 * and a secret must never survive. */
Test(mask, hostile_text)
{
    suga_secret_set("k", "hostile-known-secret", 20);
    const char *cases[] = {
        "://", "://@", "https://@", "https://a@", "?#?#", "=", "==", "token=", "\"token\":", "\"token\": \"",
        "\"token\": \"unterminated", "Bearer", "Bearer ", "bearer\t", "eyJ", "eyJabcd.", "eyJabcd.efgh.",
        "\"", "\":\"", ":\"\":", "a://b?c#d", "hostile-known-secre", "\xff\xfe://\xc3", "x=hostile-known-secret",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *copy = strdup(cases[i]); /* exact length: ASan sees a read past the end */
        suga_mask_text(copy, strlen(copy), out, sizeof out, SUGA_MASK_MESSAGE);
        suga_mask_text(copy, strlen(copy), out, sizeof out, SUGA_MASK_DATA);
        cr_assert_null(strstr(out, "hostile-known-secret"), "%s -> %s", cases[i], out);
        free(copy);
    }
    /* a secret from JSON may hold a NUL: it is kept whole, at its length */
    static const char nul_secret[] = "nul\0inside-secret";
    cr_assert_eq(suga_secret_add_request(nul_secret, sizeof nul_secret - 1), SUGA_OK);
    char text[64] = "x ";
    memcpy(text + 2, nul_secret, sizeof nul_secret);
    char masked[64];
    suga_mask_text(text, 2 + sizeof nul_secret - 1, masked, sizeof masked, SUGA_MASK_MESSAGE);
    cr_assert_str_eq(masked, "x ***");
    const char with_nul[] = "pre\0Bearer hidden-token-1234 post";
    suga_mask_text(with_nul, sizeof with_nul - 1, out, sizeof out, SUGA_MASK_MESSAGE);
    cr_assert_str_eq(out, "pre", "the output is a C string; the NUL ends it");
    char run[3000];
    memset(run, ':', sizeof run - 1);
    run[sizeof run - 1] = '\0';
    cr_assert_eq(suga_mask_text(run, strlen(run), out, sizeof out, SUGA_MASK_MESSAGE), 0);
    cr_assert_eq(strlen(out), sizeof out - 1);
}

Test(mask, masking_twice_changes_nothing_more)
{
    const char *in = "https://u:p@h/x?token=a Bearer b password=c {\"secret\": \"d\"}";
    char first[256], second[256];
    suga_mask_text(in, strlen(in), first, sizeof first, SUGA_MASK_MESSAGE);
    suga_mask_text(first, strlen(first), second, sizeof second, SUGA_MASK_MESSAGE);
    cr_assert_str_eq(first, second);
}
