/* The security.* operations, through the real engine: the lazy module suga-security.so is
 * loaded from SUGA_MODULE_DIR (set by tests/handlers/meson.build) on the first call.
 *
 * Criterion itself links libcrypto (through its transport libraries), so a Criterion process
 * cannot show that the engine keeps libcrypto off start-up. This file is therefore built twice:
 * as the Criterion suite, and with SUGA_SECURITY_PROBE defined as a plain program linked like
 * the tools (libsuga, jansson, -rdynamic) that reports its own /proc/self/maps before and after
 * its first security call; the suite runs it and reads the report.
 */
#ifdef SUGA_SECURITY_PROBE

#include <stdio.h>
#include <string.h>

#include "suga.h"

static void report_maps(const char *when)
{
    bool libcrypto = false, module = false;
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        libcrypto |= strstr(line, "/libcrypto.so") != NULL;
        module |= strstr(line, "/suga-security.so") != NULL;
    }
    if (f)
        fclose(f);
    printf("%s libcrypto=%s module=%s\n", when, libcrypto ? "yes" : "no", module ? "yes" : "no");
}

int main(void)
{
    report_maps("before");
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *args = json_pack("{s:s}", "data", "abc"), *result = NULL;
    suga_status st = suga_call_json(&ctx, "security.sha256", strlen("security.sha256"), args, &result);
    printf("status %s\n", suga_status_name(st));
    if (st == SUGA_OK)
        printf("result %s\n", json_string_value(result));
    else
        printf("error %s\n", ctx.error);
    report_maps("after");
    json_decref(result);
    json_decref(args);
    return st == SUGA_OK ? 0 : 1;
}

#else

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "handler_test.h"
#include "proc.h"
#include "suga_test_hooks.h"

/* ---- helpers ---- */

static bool mapped(const char *needle)
{
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert(f);
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

static uint32_t security_module(void)
{
    for (uint32_t i = 0; i < suga_main_table.module_count; i++)
        if (!strcmp(suga_main_table.modules[i].name, "security"))
            return i;
    cr_assert_fail("no module 'security' in the table");
    return 0;
}

/* {valid, reason} of security.validate_input; the reason (or "") is copied into why. */
static bool input_valid(const char *kind, const char *value_json, char *why, size_t size)
{
    char args[70000];
    snprintf(args, sizeof args, "{\"value\": %s, \"kind\": \"%s\"}", value_json, kind);
    json_t *r = call_ok("security.validate_input", args);
    json_t *valid = json_object_get(r, "valid"), *reason = json_object_get(r, "reason");
    cr_assert(json_is_boolean(valid));
    cr_assert(json_is_true(valid) ? json_is_null(reason) : json_is_string(reason), "reason is null exactly when valid");
    snprintf(why, size, "%s", json_is_string(reason) ? json_string_value(reason) : "");
    bool ok = json_is_true(valid);
    json_decref(r);
    return ok;
}

static void expect_valid(const char *kind, const char *value_json)
{
    char why[200];
    cr_expect(input_valid(kind, value_json, why, sizeof why), "%s %s should be valid: %s", kind, value_json, why);
}

/* Invalid, with a reason containing `reason_part`. */
static void expect_invalid(const char *kind, const char *value_json, const char *reason_part)
{
    char why[200];
    cr_expect_not(input_valid(kind, value_json, why, sizeof why), "%s %s should be invalid", kind, value_json);
    cr_expect(strstr(why, reason_part), "%s %s: reason '%s' should mention '%s'", kind, value_json, why, reason_part);
}

static char *dump(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    cr_assert(s);
    return s;
}

/* base64url without padding, as in a JWT. */
static char *b64url(const char *data)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *s = (const unsigned char *)data;
    size_t n = strlen(data), o = 0;
    char *out = malloc(n * 4 / 3 + 4);
    cr_assert(out);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
        size_t chars = i + 2 < n ? 4 : i + 1 < n ? 3 : 2;
        for (size_t k = 0; k < chars; k++)
            out[o++] = a[(v >> (18 - 6 * k)) & 0x3F];
    }
    out[o] = '\0';
    return out;
}

/* header.payload.signature from the JSON texts (the signature is not checked, only its form). */
static char *make_jwt(const char *header, const char *payload, const char *signature)
{
    char *h = b64url(header), *p = b64url(payload);
    size_t size = strlen(h) + strlen(p) + strlen(signature) + 3;
    char *jwt = malloc(size);
    cr_assert(jwt);
    snprintf(jwt, size, "%s.%s.%s", h, p, signature);
    free(h);
    free(p);
    return jwt;
}

static json_t *check_token(const char *token, const char *format)
{
    json_t *args = json_pack("{s:s, s:s}", "token", token, "format", format);
    char *text = dump(args);
    json_t *r = call_ok("security.check_token", text);
    free(text);
    json_decref(args);
    return r;
}

static const char *token_reason(const json_t *r)
{
    json_t *reason = json_object_get(r, "reason");
    return json_is_string(reason) ? json_string_value(reason) : "";
}

static long long now_s(void)
{
    return (long long)time(NULL);
}

/* ---- the module: lazy, libcrypto only with it ---- */

Test(security_module, loaded_on_first_call_with_libcrypto, .timeout = 30)
{
    const char *probe = getenv("SUGA_SECURITY_PROBE");
    cr_assert(probe, "SUGA_SECURITY_PROBE must be set by meson");
    proc_result r;
    cr_assert_eq(proc_run((const char *const[]){probe, NULL}, NULL, NULL, &r), 0);
    cr_expect_eq(r.status, 0, "probe failed: %s%s", r.out, r.err);
    cr_expect(strstr(r.out, "before libcrypto=no module=no\n"), "nothing of it before the first call:\n%s", r.out);
    cr_expect(strstr(r.out, "status ok\nresult ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"),
              "%s", r.out);
    cr_expect(strstr(r.out, "after libcrypto=yes module=yes\n"), "both mapped after it:\n%s", r.out);
    proc_free(&r);
}

Test(security_module, tools_do_not_link_libcrypto, .timeout = 30)
{
    const char *cli = getenv("SUGA_CLI");
    cr_assert(cli, "SUGA_CLI must be set by meson");
    proc_result r;
    cr_assert_eq(proc_run((const char *const[]){"ldd", cli, NULL}, NULL, NULL, &r), 0);
    cr_assert_eq(r.status, 0, "ldd failed: %s", r.err);
    cr_expect(strstr(r.out, "libjansson"), "sanity: ldd lists the libraries:\n%s", r.out);
    cr_expect_not(strstr(r.out, "libcrypto"), "suga must not link libcrypto:\n%s", r.out);
    cr_expect_not(strstr(r.out, "libssl"), "suga must not link libssl:\n%s", r.out);
    proc_free(&r);
}

Test(security_module, loads_once_and_unloads_when_idle_for_300_seconds)
{
    uint32_t m = security_module();
    const suga_module_state *st = &suga_main_table.module_states[m];
    cr_expect_eq(suga_main_table.modules[m].load, SUGA_LOAD_LAZY);
    cr_expect_eq(suga_main_table.modules[m].unload, SUGA_UNLOAD_IDLE);
    cr_expect_eq(suga_main_table.modules[m].idle_seconds, 300);
    cr_assert_eq(suga_module_unload(&suga_main_table, m), SUGA_OK);
    cr_expect_not(mapped("/suga-security.so"));
    uint64_t loads = st->loads;
    json_decref(call_ok("security.sha256", "{\"data\": \"x\"}"));
    json_decref(call_ok("security.constant_time_equals", "{\"a\": \"x\", \"b\": \"x\"}"));
    cr_expect(mapped("/suga-security.so"));
    cr_expect_eq(st->loads, loads + 1, "handlers are resolved once");
    cr_assert_eq(suga_table_end_invocation(&suga_main_table), SUGA_OK);
    cr_expect(mapped("/suga-security.so"), "just used: kept");
    cr_assert_eq(suga_module_unload(&suga_main_table, m), SUGA_OK);
    cr_expect_not(mapped("/suga-security.so"));
    json_decref(call_ok("security.sha256", "{\"data\": \"x\"}"));
    cr_expect_eq(st->loads, loads + 2, "and loads again after an unload");
}

static int64_t fake_now;
static int64_t fake_clock(void)
{
    return fake_now;
}

Test(security_module, idle_policy_drops_it_after_300_seconds)
{
    suga_clock_set_test_clock(fake_clock);
    fake_now = 10000000;
    json_decref(call_ok("security.sha256", "{\"data\": \"x\"}"));
    fake_now += 299000;
    suga_table_end_invocation(&suga_main_table);
    cr_expect(mapped("/suga-security.so"), "unused for 299 s");
    fake_now += 1000;
    suga_table_end_invocation(&suga_main_table);
    cr_expect_not(mapped("/suga-security.so"), "unused for 300 s");
    suga_clock_set_test_clock(NULL);
}

Test(security_module, missing_module_gives_the_engines_error)
{
    uint32_t m = security_module();
    cr_assert_eq(suga_module_unload(&suga_main_table, m), SUGA_OK);
    char *saved = strdup(getenv("SUGA_MODULE_DIR"));
    char *empty = make_temp_dir("security-nomodule");
    cr_assert(saved && empty);
    setenv("SUGA_MODULE_DIR", empty, 1);
    suga_ctx ctx;
    call_fails(&ctx, "security.sha256", "{\"data\": \"abc\"}", SUGA_E_UNAVAILABLE);
    cr_expect(strstr(ctx.error, "module 'security' could not be loaded: "), "%s", ctx.error);
    cr_expect(strstr(ctx.error, "suga-security.so"), "names the file: %s", ctx.error);
    json_decref(call_ok("utility.timestamp", NULL)); /* the rest of the engine keeps serving */
    setenv("SUGA_MODULE_DIR", saved, 1);
    json_t *r = call_ok("security.sha256", "{\"data\": \"abc\"}");
    cr_expect_str_eq(json_string_value(r), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                     "and the next call tries again");
    json_decref(r);
    remove_tree(empty);
    free(empty);
    free(saved);
}

/* ---- validate_input ---- */

Test(validate_input, entity_id)
{
    expect_valid("entity_id", "\"light.kitchen\"");
    expect_valid("entity_id", "\"sensor.outdoor_temp_2\"");
    expect_valid("entity_id", "\"a1.b\"");
    expect_invalid("entity_id", "\"Light.kitchen\"", "byte 0");
    expect_invalid("entity_id", "\"light\"", "no '.'");
    expect_invalid("entity_id", "\"light.kitchen.lamp\"", "a second '.'");
    expect_invalid("entity_id", "\".kitchen\"", "empty domain");
    expect_invalid("entity_id", "\"light.\"", "empty object_id");
    expect_invalid("entity_id", "\"_light.x\"", "domain starts or ends with '_'");
    expect_invalid("entity_id", "\"light_.x\"", "domain starts or ends with '_'");
    expect_invalid("entity_id", "\"light._x\"", "object_id starts or ends with '_'");
    expect_invalid("entity_id", "\"light.x_\"", "object_id starts or ends with '_'");
    expect_invalid("entity_id", "\"my__light.x\"", "'__'");
    expect_invalid("entity_id", "\"light.a__b\"", "'__'");
    expect_invalid("entity_id", "\"light.k-1\"", "character not allowed");
    char long_id[300] = "\"light.";
    memset(long_id + 7, 'a', 250);
    strcpy(long_id + 257, "\"");
    expect_invalid("entity_id", long_id, "longer than 255 bytes");
}

Test(validate_input, identifier_token_and_empty)
{
    expect_valid("identifier", "\"_abc1\"");
    expect_valid("identifier", "\"Kitchen_Light\"");
    expect_invalid("identifier", "\"1abc\"", "must start with a letter");
    expect_invalid("identifier", "\"a-b\"", "byte 1");
    expect_valid("token", "\"abc-DEF_123.~+/=!#\"");
    expect_invalid("token", "\"abc def\"", "whitespace at byte 3");
    expect_invalid("token", "\"abc\\u00e9\"", "byte 3 is not printable ASCII");
    expect_invalid("token", "\"ab\\u0001\"", "byte 2 is not printable ASCII");
    const char *kinds[] = {"entity_id", "identifier", "url", "email", "uuid", "iso8601", "token"};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        expect_invalid(kinds[i], "\"\"", "empty");
}

Test(validate_input, url)
{
    expect_valid("url", "\"https://ha.example.com:8123/api/states?x=1#top\"");
    expect_valid("url", "\"http://192.168.1.5:8123\"");
    expect_valid("url", "\"HTTPS://example.com\"");
    expect_valid("url", "\"http://[::1]:8123/\"");
    expect_valid("url", "\"https://example.com/a%20b\"");
    expect_invalid("url", "\"ftp://example.com/\"", "scheme must be http or https");
    expect_invalid("url", "\"example.com/path\"", "no '://'");
    expect_invalid("url", "\"https://user:pass@example.com/\"", "credentials");
    expect_invalid("url", "\"https://token@example.com/\"", "credentials");
    expect_invalid("url", "\"https://example.com/?access_token=abc\"", "credentials in the query string");
    expect_invalid("url", "\"https://example.com/?a=1&api_password=x\"", "credentials in the query string");
    expect_invalid("url", "\"https:///path\"", "host is missing");
    expect_invalid("url", "\"https://\"", "host is missing");
    expect_invalid("url", "\"https://exa mple.com\"", "whitespace at byte 11");
    expect_invalid("url", "\"https://example.com/\\u0007\"", "control character at byte 20");
    expect_invalid("url", "\"https://ex\\u00e4mple.com\"", "non-ASCII byte at byte 10");
    expect_invalid("url", "\"https://example.com/<script>\"", "not allowed in a URL");
    expect_invalid("url", "\"https://example.com/%zz\"", "bad percent-encoding");
    expect_invalid("url", "\"https://example.com:0/\"", "port");
    expect_invalid("url", "\"https://example.com:99999/\"", "port");
    expect_invalid("url", "\"https://example.com:/\"", "port");
    expect_invalid("url", "\"https://example.com:80a/\"", "port");
    expect_invalid("url", "\"https://exa..mple.com/\"", "empty label");
    expect_invalid("url", "\"https://exa_mple.com/\"", "not allowed in the host");
}

Test(validate_input, email)
{
    expect_valid("email", "\"a.b+c@example.co.uk\"");
    expect_valid("email", "\"user_1@sub-domain.example.com\"");
    expect_invalid("email", "\"example.com\"", "no '@'");
    expect_invalid("email", "\"a@b@example.com\"", "more than one '@'");
    expect_invalid("email", "\"@example.com\"", "1 to 64 bytes");
    expect_invalid("email", "\"a..b@example.com\"", "misplaced '.'");
    expect_invalid("email", "\".a@example.com\"", "misplaced '.'");
    expect_invalid("email", "\"a b@example.com\"", "character not allowed before '@'");
    expect_invalid("email", "\"a@localhost\"", "at least two labels");
    expect_invalid("email", "\"a@-example.com\"", "starts or ends with '-'");
    expect_invalid("email", "\"a@example..com\"", "empty label");
    expect_invalid("email", "\"a@example.123\"", "numeric");
    expect_invalid("email", "\"a@\"", "no domain");
}

Test(validate_input, uuid_and_iso8601)
{
    expect_valid("uuid", "\"123e4567-e89b-12d3-a456-426614174000\"");
    expect_valid("uuid", "\"123E4567-E89B-12D3-A456-426614174000\"");
    expect_invalid("uuid", "\"123e4567e89b12d3a456426614174000\"", "36 characters");
    expect_invalid("uuid", "\"123e4567-e89b-12d3-a456_426614174000\"", "byte 23");
    expect_invalid("uuid", "\"123e4567-e89b-12d3-a456-42661417400g\"", "byte 35");
    expect_valid("iso8601", "\"2024-02-29\"");
    expect_valid("iso8601", "\"2024-02-29T12:30\"");
    expect_valid("iso8601", "\"2024-02-29T12:30:00Z\"");
    expect_valid("iso8601", "\"2024-02-29T12:30:00.123456+02:00\"");
    expect_valid("iso8601", "\"2016-12-31T23:59:60-0530\"");
    expect_invalid("iso8601", "\"2023-02-29\"", "day out of range");
    expect_invalid("iso8601", "\"2024-13-01\"", "month out of range");
    expect_invalid("iso8601", "\"2024-01-01T24:00:00Z\"", "time out of range");
    expect_invalid("iso8601", "\"2024-01-01 12:00\"", "not in the form");
    expect_invalid("iso8601", "\"2024-01-01T12:00:00+2\"", "not in the form");
    expect_invalid("iso8601", "\"2024-01-01T12:00:00+24:00\"", "UTC offset out of range");
    expect_invalid("iso8601", "\"2024-01-01T12:00:00.\"", "fraction");
    expect_invalid("iso8601", "\"24-01-01\"", "not in the form");
    expect_invalid("iso8601", "\"2024-01-01Z\"", "not in the form");
}

Test(validate_input, the_value_is_never_in_the_reason)
{
    const char *cases[][2] = {
        {"token", "\"MARKER_q7 x\""},         {"entity_id", "\"MARKER_q7.x\""},
        {"url", "\"https://MARKER_q7:pw@h/\""}, {"email", "\"MARKER_q7\""},
        {"uuid", "\"MARKER_q7\""},            {"iso8601", "\"MARKER_q7\""},
        {"identifier", "\"9MARKER_q7\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char why[200];
        cr_expect_not(input_valid(cases[i][0], cases[i][1], why, sizeof why));
        cr_expect_not(strstr(why, "MARKER_q7"), "%s: reason '%s' echoes the value", cases[i][0], why);
    }
}

Test(validate_input, rejected_by_the_engine_before_the_handler)
{
    suga_ctx ctx;
    call_fails(&ctx, "security.validate_input", "{\"value\": \"x\", \"kind\": \"phone\"}", SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "arg 'kind' must be one of"), "%s", ctx.error);
    call_fails(&ctx, "security.validate_input", "{\"value\": \"x\"}", SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "arg 'kind' is required"), "%s", ctx.error);
    char *big = malloc(65536 + 64);
    cr_assert(big);
    strcpy(big, "{\"kind\": \"token\", \"value\": \"");
    size_t n = strlen(big);
    memset(big + n, 'a', 65537);
    strcpy(big + n + 65537, "\"}");
    call_fails(&ctx, "security.validate_input", big, SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "arg 'value' must be at most 65536 bytes long"), "%s", ctx.error);
    free(big);
}

/* ---- sanitize_data ---- */

Test(sanitize_data, removes_controls_and_trims)
{
    assert_json(call_ok("security.sanitize_data", "{\"text\": \"  hello\\u0001 wor\\tld\\u007f\\u0085 \\n\"}"),
                "{\"text\": \"hello wor\\tld\", \"changed\": true, \"removed\": 4, \"replaced\": 0, "
                "\"truncated\": false}");
    assert_json(call_ok("security.sanitize_data", "{\"text\": \"a\\r\\nb\\u0000c\"}"),
                "{\"text\": \"abc\", \"changed\": true, \"removed\": 3, \"replaced\": 0, \"truncated\": false}");
    assert_json(call_ok("security.sanitize_data", "{\"text\": \"a\\r\\nb\\u0000c\\n\", \"allow_newlines\": true}"),
                "{\"text\": \"a\\r\\nbc\", \"changed\": true, \"removed\": 1, \"replaced\": 0, \"truncated\": false}");
}

Test(sanitize_data, unchanged_text)
{
    assert_json(call_ok("security.sanitize_data", "{\"text\": \"caf\\u00e9 \\u2603 ok\"}"),
                "{\"text\": \"caf\\u00e9 \\u2603 ok\", \"changed\": false, \"removed\": 0, \"replaced\": 0, "
                "\"truncated\": false}");
    assert_json(call_ok("security.sanitize_data", "{\"text\": \"\"}"),
                "{\"text\": \"\", \"changed\": false, \"removed\": 0, \"replaced\": 0, \"truncated\": false}");
}

Test(sanitize_data, cuts_on_a_character_boundary)
{
    /* "héllo": é is bytes 1-2, so 2 bytes keep only "h" */
    assert_json(call_ok("security.sanitize_data", "{\"text\": \"h\\u00e9llo\", \"max_len\": 2}"),
                "{\"text\": \"h\", \"changed\": true, \"removed\": 0, \"replaced\": 0, \"truncated\": true}");
    assert_json(call_ok("security.sanitize_data", "{\"text\": \"h\\u00e9llo\", \"max_len\": 3}"),
                "{\"text\": \"h\\u00e9\", \"changed\": true, \"removed\": 0, \"replaced\": 0, \"truncated\": true}");
    assert_json(call_ok("security.sanitize_data", "{\"text\": \"abc def\", \"max_len\": 4}"),
                "{\"text\": \"abc\", \"changed\": true, \"removed\": 0, \"replaced\": 0, \"truncated\": true}");
    assert_json(call_ok("security.sanitize_data", "{\"text\": \"abc\", \"max_len\": 0}"),
                "{\"text\": \"\", \"changed\": true, \"removed\": 0, \"replaced\": 0, \"truncated\": true}");
    json_t *r = call_ok("security.sanitize_data", "{\"text\": \"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}");
    cr_expect_eq(json_string_length(json_object_get(r, "text")), 12, "default max_len 1024 leaves short text whole");
    json_decref(r);
}

Test(sanitize_data, invalid_utf8_from_a_typed_caller)
{
    /* JSON strings are always UTF-8, so invalid bytes only come through a call by id */
    static const char raw[] = "a\xff" "b\xc3\xed\xa0\x80z";
    suga_args_security_sanitize_data args = {
        .text = {.ptr = raw, .len = sizeof raw - 1}, .max_len = 1024, .allow_newlines = false};
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *r = NULL;
    cr_assert_eq(suga_call_id(&ctx, SUGA_OP_SECURITY_SANITIZE_DATA, &args, &r), SUGA_OK, "%s", ctx.error);
    /* \xff, a lone lead byte \xc3, and a UTF-16 surrogate (3 bytes) are each replaced byte by byte */
    assert_json(r, "{\"text\": \"a\\ufffdb\\ufffd\\ufffd\\ufffd\\ufffdz\", \"changed\": true, \"removed\": 0, "
                   "\"replaced\": 5, \"truncated\": false}");
}

Test(sanitize_data, limits_are_checked_by_the_engine)
{
    suga_ctx ctx;
    call_fails(&ctx, "security.sanitize_data", "{\"text\": \"x\", \"max_len\": -1}", SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "arg 'max_len' must be an integer in [0, 1048576]"), "%s", ctx.error);
    call_fails(&ctx, "security.sanitize_data", "{\"text\": 5}", SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "arg 'text' must be a string"), "%s", ctx.error);
}

/* ---- filter_sensitive ---- */

Test(filter_sensitive, masks_secret_members_at_any_depth)
{
    const char *in = "{\"data\": {\"user\": \"bob\", \"password\": \"hunter2\", \"count\": 3,"
                     " \"nested\": {\"Authorization\": \"Bearer abc\", \"list\": [{\"api_key\": \"k\"},"
                     " {\"X-AWS-Parameters-Secrets-Token\": \"t\"}, {\"x-api-key\": {\"deep\": 1}}, 7]},"
                     " \"LONG_LIVED_ACCESS_TOKEN\": \"x\", \"access_token\": null, \"Cookie\": \"sid=1\","
                     " \"client_secret\": \"s\", \"bearer\": \"b\", \"credentials\": [1], \"host\": \"h\"}}";
    assert_json(call_ok("security.filter_sensitive", in),
                "{\"masked\": 11, \"data\": {\"user\": \"bob\", \"password\": \"***\", \"count\": 3,"
                " \"nested\": {\"Authorization\": \"***\", \"list\": [{\"api_key\": \"***\"},"
                " {\"X-AWS-Parameters-Secrets-Token\": \"***\"}, {\"x-api-key\": \"***\"}, 7]},"
                " \"LONG_LIVED_ACCESS_TOKEN\": \"***\", \"access_token\": \"***\", \"Cookie\": \"***\","
                " \"client_secret\": \"***\", \"bearer\": \"***\", \"credentials\": \"***\", \"host\": \"h\"}}");
}

Test(filter_sensitive, masks_tokens_inside_strings)
{
    char *jwt = make_jwt("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"sub\":\"1\"}", "c2lnbmF0dXJl");
    char args[1024];
    snprintf(args, sizeof args,
             "{\"data\": [\"calling with Bearer abc.def-ghi= now\", \"jwt %s here\", "
             "\"https://me:pw@example.com/x?access_token=zzz&a=1\", \"https://TOKEN@example.com/\", "
             "\"password=hunter2; path=/\", \"plain sensor.kitchen.temp text\"]}",
             jwt);
    json_t *r = call_ok("security.filter_sensitive", args);
    char *text = dump(r);
    cr_expect_not(strstr(text, jwt), "the JWT is gone: %s", text);
    cr_expect_not(strstr(text, "hunter2"), "%s", text);
    assert_json(r, "{\"masked\": 6, \"data\": [\"calling with Bearer *** now\", \"jwt *** here\", "
                   "\"https://me:***@example.com/x?access_token=***&a=1\", \"https://***@example.com/\", "
                   "\"password=***; path=/\", \"plain sensor.kitchen.temp text\"]}");
    free(text);
    free(jwt);
}

Test(filter_sensitive, leaves_the_input_alone_and_copies_scalars)
{
    assert_json(call_ok("security.filter_sensitive", "{\"data\": \"plain\"}"), "{\"data\": \"plain\", \"masked\": 0}");
    assert_json(call_ok("security.filter_sensitive", "{\"data\": null}"), "{\"data\": null, \"masked\": 0}");
    assert_json(call_ok("security.filter_sensitive", "{\"data\": [1, 2.5, true]}"),
                "{\"data\": [1, 2.5, true], \"masked\": 0}");
    json_t *args = json_loads("{\"data\": {\"token\": \"t\", \"a\": {\"secret\": \"s\"}}}", 0, NULL);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *r = NULL;
    cr_assert_eq(suga_call_json(&ctx, "security.filter_sensitive", strlen("security.filter_sensitive"), args, &r),
                 SUGA_OK, "%s", ctx.error);
    json_t *data = json_object_get(args, "data");
    cr_expect_str_eq(json_string_value(json_object_get(data, "token")), "t", "the input is not modified");
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(data, "a"), "secret")), "s");
    cr_expect_eq(int_field(r, "masked"), 2);
    json_decref(r);
    json_decref(args);
    call_fails(&ctx, "security.filter_sensitive", "{}", SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "arg 'data' is required"), "%s", ctx.error);
}

Test(filter_sensitive, refuses_values_nested_deeper_than_json_allows)
{
    /* jansson will not parse more than 2048 levels, so the value is built in C */
    json_t *deep = json_string("Bearer abc");
    for (int i = 0; i < 2100; i++) {
        json_t *outer = json_array();
        cr_assert(outer && json_array_append_new(outer, deep) == 0);
        deep = outer;
    }
    json_t *args = json_pack("{s:o}", "data", deep);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *r = NULL;
    cr_expect_eq(suga_call_json(&ctx, "security.filter_sensitive", strlen("security.filter_sensitive"), args, &r),
                 SUGA_E_LIMIT);
    cr_expect_str_eq(ctx.error, "security.filter_sensitive: data nests deeper than 2048 levels");
    cr_expect_null(r);
    json_decref(args);
}

/* ---- check_token ---- */

Test(check_token, bearer)
{
    json_t *r = check_token("abc123._~+/-==", "bearer");
    assert_json(r, "{\"valid\": true, \"reason\": null}");
    assert_json(check_token("Bearer abc123", "bearer"), "{\"valid\": true, \"reason\": null}");
    assert_json(check_token("abc def", "bearer"), "{\"valid\": false, \"reason\": \"character not allowed in a "
                                                  "bearer token at byte 3 (RFC 6750: letters, digits, -._~+/ then "
                                                  "'=' padding)\"}");
    r = check_token("=abc", "bearer");
    cr_expect(strstr(token_reason(r), "starts with"), "%s", token_reason(r));
    json_decref(r);
    r = check_token("ab=c", "bearer");
    cr_expect(strstr(token_reason(r), "byte 3"), "padding only at the end: %s", token_reason(r));
    json_decref(r);
    assert_json(check_token("", "bearer"), "{\"valid\": false, \"reason\": \"empty\"}");
    r = call_ok("security.check_token", "{\"token\": \"abc\"}");
    cr_expect(json_is_true(json_object_get(r, "valid")), "format defaults to bearer");
    json_decref(r);
}

Test(check_token, jwt_valid_and_expiry)
{
    char payload[128];
    snprintf(payload, sizeof payload, "{\"sub\":\"x\",\"exp\":%lld}", now_s() + 3600);
    char *jwt = make_jwt("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, "c2ln");
    json_t *r = check_token(jwt, "jwt");
    cr_expect(json_is_true(json_object_get(r, "valid")), "%s", token_reason(r));
    cr_expect(matches("^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.000Z$", str_field(r, "expires_at")),
              "%s", str_field(r, "expires_at"));
    json_decref(r);
    char bearer[1024];
    snprintf(bearer, sizeof bearer, "Bearer %s", jwt);
    r = check_token(bearer, "jwt");
    cr_expect(json_is_true(json_object_get(r, "valid")), "after 'Bearer ': %s", token_reason(r));
    json_decref(r);
    free(jwt);

    jwt = make_jwt("{\"alg\":\"HS256\"}", "{\"exp\":1000000000}", "c2ln");
    assert_json(check_token(jwt, "jwt"),
                "{\"valid\": false, \"reason\": \"expired\", \"expires_at\": \"2001-09-09T01:46:40.000Z\"}");
    free(jwt);

    jwt = make_jwt("{\"alg\":\"HS256\"}", "{\"sub\":\"x\"}", "c2ln");
    assert_json(check_token(jwt, "jwt"), "{\"valid\": true, \"reason\": null}");
    free(jwt);
}

static void expect_jwt_reason(const char *token, const char *format, const char *reason_part)
{
    json_t *r = check_token(token, format);
    cr_expect(json_is_false(json_object_get(r, "valid")), "%s should be invalid", token);
    cr_expect(strstr(token_reason(r), reason_part), "reason '%s' should mention '%s'", token_reason(r), reason_part);
    json_decref(r);
}

Test(check_token, jwt_format_problems)
{
    expect_jwt_reason("abc.def", "jwt", "three segments");
    expect_jwt_reason("a.b.c.d", "jwt", "three segments");
    expect_jwt_reason("eyJh.eyJi.c2ln!", "jwt", "outside base64url at byte 14");
    expect_jwt_reason("eyJh..c2ln", "jwt", "empty payload");
    expect_jwt_reason("eyJh.eyJi.", "jwt", "empty signature");
    expect_jwt_reason("e.eyJi.c2ln", "jwt", "the header is not base64url");
    char *jwt = make_jwt("not json", "{}", "c2ln");
    expect_jwt_reason(jwt, "jwt", "the header is not a JSON object");
    free(jwt);
    jwt = make_jwt("{\"alg\":\"HS256\"}", "[1,2]", "c2ln");
    expect_jwt_reason(jwt, "jwt", "the payload is not a JSON object");
    free(jwt);
    jwt = make_jwt("{\"typ\":\"JWT\"}", "{}", "c2ln");
    expect_jwt_reason(jwt, "jwt", "no 'alg'");
    free(jwt);
    jwt = make_jwt("{\"alg\":\"none\"}", "{}", "c2ln");
    expect_jwt_reason(jwt, "jwt", "unsigned");
    free(jwt);
    jwt = make_jwt("{\"alg\":\"HS256\"}", "{\"exp\":\"tomorrow\"}", "c2ln");
    expect_jwt_reason(jwt, "jwt", "'exp' is not a number");
    free(jwt);
    char payload[96];
    snprintf(payload, sizeof payload, "{\"nbf\":%lld}", now_s() + 3600);
    jwt = make_jwt("{\"alg\":\"HS256\"}", payload, "c2ln");
    expect_jwt_reason(jwt, "jwt", "not valid yet");
    free(jwt);
    jwt = make_jwt("{\"alg\":\"HS256\",\"alg\":\"none\"}", "{}", "c2ln");
    expect_jwt_reason(jwt, "jwt", "the header is not a JSON object"); /* duplicate keys are refused */
    free(jwt);
}

Test(check_token, home_assistant_long_lived_token)
{
    char payload[160];
    snprintf(payload, sizeof payload, "{\"iss\":\"0123456789abcdef0123456789abcdef\",\"iat\":%lld,\"exp\":%lld}",
             now_s(), now_s() + 315360000LL);
    char *jwt = make_jwt("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, "c2lnbmF0dXJlX2J5dGVz");
    json_t *r = check_token(jwt, "home_assistant");
    cr_expect(json_is_true(json_object_get(r, "valid")), "%s", token_reason(r));
    cr_expect(json_is_string(json_object_get(r, "expires_at")));
    json_decref(r);
    free(jwt);
    jwt = make_jwt("{\"alg\":\"RS256\"}", payload, "c2ln");
    expect_jwt_reason(jwt, "home_assistant", "HS256");
    free(jwt);
    snprintf(payload, sizeof payload, "{\"exp\":%lld}", now_s() + 60);
    jwt = make_jwt("{\"alg\":\"HS256\"}", payload, "c2ln");
    expect_jwt_reason(jwt, "home_assistant", "'iss'");
    free(jwt);
    jwt = make_jwt("{\"alg\":\"HS256\"}", "{\"iss\":\"abc\"}", "c2ln");
    expect_jwt_reason(jwt, "home_assistant", "'exp'");
    free(jwt);
}

Test(check_token, the_token_never_appears_in_results_or_messages)
{
    static const char marker[] = "ZqMARKER7f3aZq";
    char payload[128];
    snprintf(payload, sizeof payload, "{\"iss\":\"%s\",\"exp\":%lld}", marker, now_s() + 60);
    char *valid_jwt = make_jwt("{\"alg\":\"HS256\"}", payload, marker);
    char *expired_jwt = make_jwt("{\"alg\":\"HS256\"}", "{\"exp\":5}", marker);
    char bad_bearer[64], bad_jwt[64];
    snprintf(bad_bearer, sizeof bad_bearer, "%s %s", marker, marker);
    snprintf(bad_jwt, sizeof bad_jwt, "%s.%s", marker, marker);
    const char *tokens[] = {valid_jwt, expired_jwt, bad_bearer, bad_jwt, marker};
    const char *formats[] = {"bearer", "jwt", "home_assistant"};
    for (size_t t = 0; t < sizeof tokens / sizeof *tokens; t++) {
        for (size_t f = 0; f < sizeof formats / sizeof *formats; f++) {
            json_t *r = check_token(tokens[t], formats[f]);
            char *text = dump(r);
            cr_expect_not(strstr(text, marker), "%s result echoes the token: %s", formats[f], text);
            free(text);
            json_decref(r);
        }
    }
    /* too long: the engine's own message does not show it either */
    char *big = malloc(9000);
    cr_assert(big);
    strcpy(big, "{\"token\": \"");
    for (size_t i = 0; i < 600; i++)
        strcat(big, marker);
    strcat(big, "\"}");
    suga_ctx ctx;
    call_fails(&ctx, "security.check_token", big, SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "arg 'token' must be at most 8192 bytes long"), "%s", ctx.error);
    cr_expect_not(strstr(ctx.error, marker), "%s", ctx.error);
    free(big);
    free(valid_jwt);
    free(expired_jwt);
}

/* ---- constant_time_equals ---- */

Test(constant_time_equals, compares)
{
    assert_json(call_ok("security.constant_time_equals", "{\"a\": \"s3cret\", \"b\": \"s3cret\"}"), "true");
    assert_json(call_ok("security.constant_time_equals", "{\"a\": \"s3cret\", \"b\": \"s3creT\"}"), "false");
    assert_json(call_ok("security.constant_time_equals", "{\"a\": \"abc\", \"b\": \"abcd\"}"), "false");
    assert_json(call_ok("security.constant_time_equals", "{\"a\": \"abcd\", \"b\": \"abc\"}"), "false");
    assert_json(call_ok("security.constant_time_equals", "{\"a\": \"\", \"b\": \"\"}"), "true");
    assert_json(call_ok("security.constant_time_equals", "{\"a\": \"a\\u0000b\", \"b\": \"a\\u0000c\"}"), "false");
    assert_json(call_ok("security.constant_time_equals", "{\"a\": \"a\\u0000b\", \"b\": \"a\\u0000b\"}"), "true");
    suga_ctx ctx;
    call_fails(&ctx, "security.constant_time_equals", "{\"a\": \"x\"}", SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "arg 'b' is required"), "%s", ctx.error);
}

/* ---- hmac_sha256 and sha256 ---- */

static void expect_digest(const char *op, const char *args, const char *want)
{
    json_t *r = call_ok(op, args);
    cr_assert(json_is_string(r), "%s returns a string", op);
    cr_expect_str_eq(json_string_value(r), want, "%s(%s)", op, args);
    json_decref(r);
}

Test(hmac_sha256, rfc4231_vectors)
{
    /* test case 1: key 0x0b x 20, as hex and as the same bytes in a JSON string */
    expect_digest("security.hmac_sha256",
                  "{\"key\": \"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b\", \"key_encoding\": \"hex\", "
                  "\"message\": \"Hi There\"}",
                  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    char args[512] = "{\"key\": \"";
    for (int i = 0; i < 20; i++)
        strcat(args, "\\u000b");
    strcat(args, "\", \"message\": \"Hi There\"}");
    expect_digest("security.hmac_sha256", args, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* test case 2: key "Jefe" */
    expect_digest("security.hmac_sha256", "{\"key\": \"Jefe\", \"message\": \"what do ya want for nothing?\"}",
                  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    expect_digest("security.hmac_sha256",
                  "{\"key\": \"SmVmZQ==\", \"key_encoding\": \"base64\", "
                  "\"message\": \"what do ya want for nothing?\", \"encoding\": \"base64\"}",
                  "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
    /* test cases 6 and 7: a 131-byte key, longer than SHA-256's block, is hashed first */
    char key[300] = "";
    for (int i = 0; i < 131; i++)
        strcat(key, "aa");
    char big[1024];
    snprintf(big, sizeof big,
             "{\"key\": \"%s\", \"key_encoding\": \"hex\", \"message\": \"Test Using Larger Than Block-Size Key - "
             "Hash Key First\"}",
             key);
    expect_digest("security.hmac_sha256", big, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    snprintf(big, sizeof big,
             "{\"key\": \"%s\", \"key_encoding\": \"hex\", \"message\": \"This is a test using a larger than "
             "block-size key and a larger than block-size data. The key needs to be hashed before being used by "
             "the HMAC algorithm.\"}",
             key);
    expect_digest("security.hmac_sha256", big, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

Test(hmac_sha256, empty_key_and_bad_keys)
{
    expect_digest("security.hmac_sha256", "{\"key\": \"\", \"message\": \"\"}",
                  "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    suga_ctx ctx;
    call_fails(&ctx, "security.hmac_sha256",
               "{\"key\": \"SECRETKEYzz\", \"key_encoding\": \"hex\", \"message\": \"m\"}", SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "arg 'key' is not valid hex"), "%s", ctx.error);
    cr_expect_not(strstr(ctx.error, "SECRETKEY"), "the key is not shown: %s", ctx.error);
    call_fails(&ctx, "security.hmac_sha256",
               "{\"key\": \"SECRETKEY\", \"key_encoding\": \"base64\", \"message\": \"m\"}", SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "arg 'key' is not valid base64"), "%s", ctx.error);
    cr_expect_not(strstr(ctx.error, "SECRETKEY"), "%s", ctx.error);
    call_fails(&ctx, "security.hmac_sha256", "{\"key\": \"k\"}", SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "arg 'message' is required"), "%s", ctx.error);
    char *huge = malloc(1048576 + 64);
    cr_assert(huge);
    strcpy(huge, "{\"key\": \"k\", \"message\": \"");
    size_t n = strlen(huge);
    memset(huge + n, 'm', 1048577);
    strcpy(huge + n + 1048577, "\"}");
    call_fails(&ctx, "security.hmac_sha256", huge, SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "arg 'message' must be at most 1048576 bytes long"), "%s", ctx.error);
    free(huge);
}

Test(sha256, fips_180_2_vectors)
{
    expect_digest("security.sha256", "{\"data\": \"abc\"}",
                  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect_digest("security.sha256", "{\"data\": \"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq\"}",
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    expect_digest("security.sha256", "{\"data\": \"\"}",
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect_digest("security.sha256", "{\"data\": \"abc\", \"encoding\": \"base64\"}",
                  "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
    expect_digest("security.sha256", "{\"data\": \"abc\", \"encoding\": \"base64url\"}",
                  "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
    expect_digest("security.sha256", "{\"data\": \"h\\u00e9\"}",
                  "7dfbe0eab96510b11c9a2671d83019cd52953211294db5f917ffa0b7cc84f534");
    suga_ctx ctx;
    call_fails(&ctx, "security.sha256", "{\"data\": \"abc\", \"encoding\": \"hexadecimal\"}", SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "arg 'encoding' must be one of"), "%s", ctx.error);
}

/* ---- validate_request ---- */

static void expect_request(const char *request, const char *want)
{
    char args[8192];
    snprintf(args, sizeof args, "{\"request\": %s}", request);
    assert_json(call_ok("security.validate_request", args), want);
}

Test(validate_request, operations_and_fusions)
{
    expect_request("{\"op\": \"cache.get\", \"args\": {\"key\": \"k\"}, \"correlation_id\": \"c1\"}",
                   "{\"valid\": true, \"kind\": \"op\", \"problems\": []}");
    expect_request("{\"op\": \"debug.health\", \"args\": null}",
                   "{\"valid\": true, \"kind\": \"op\", \"problems\": []}");
    expect_request("{\"fusion\": \"cache_put_get\", \"args\": {}}",
                   "{\"valid\": true, \"kind\": \"fusion\", \"problems\": []}");
    expect_request("{\"op\": \"Cache.Get\"}",
                   "{\"valid\": false, \"kind\": \"op\", \"problems\": [\"op: must be 'interface.operation' "
                   "(lower-case letters, digits and '_')\"]}");
    expect_request("{\"op\": 5, \"args\": [1], \"stop_on_error\": true, \"correlation_id\": 7, \"arg\": 1}",
                   "{\"valid\": false, \"kind\": \"op\", \"problems\": [\"arg: unknown key (did you mean 'args'?)\", "
                   "\"correlation_id: must be a string of at most 128 bytes\", \"stop_on_error: applies to batches "
                   "only\", \"op: must be a string\", \"args: must be an object\"]}");
    expect_request("{\"fusion\": \"Not-A-Name\"}",
                   "{\"valid\": false, \"kind\": \"fusion\", \"problems\": [\"fusion: must be a fusion name "
                   "(lower-case letters, digits and '_')\"]}");
}

Test(validate_request, shape_unknown)
{
    expect_request("{}", "{\"valid\": false, \"kind\": null, \"problems\": [\"request: needs one of 'op', 'fusion', "
                         "'batch' or 'directive'\"]}");
    expect_request("{\"op\": \"a.b\", \"batch\": []}",
                   "{\"valid\": false, \"kind\": null, \"problems\": [\"request: needs exactly one of 'op', 'fusion' "
                   "and 'batch'\"]}");
    expect_request("{\"op\": \"a.b\", \"directive\": {}}",
                   "{\"valid\": false, \"kind\": null, \"problems\": [\"request: 'directive' cannot be combined with "
                   "'op', 'fusion' or 'batch'\"]}");
    suga_ctx ctx;
    call_fails(&ctx, "security.validate_request", "{\"request\": [1]}", SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "arg 'request' must be an object"), "%s", ctx.error);
}

Test(validate_request, batches)
{
    expect_request("{\"batch\": [{\"op\": \"cache.get\", \"args\": {\"key\": \"k\"}}, {\"fusion\": \"f1\"}], "
                   "\"stop_on_error\": true}",
                   "{\"valid\": true, \"kind\": \"batch\", \"problems\": []}");
    expect_request("{\"batch\": []}",
                   "{\"valid\": false, \"kind\": \"batch\", \"problems\": [\"batch: must have at least 1 item\"]}");
    expect_request("{\"batch\": {}, \"args\": {}, \"stop_on_error\": 1}",
                   "{\"valid\": false, \"kind\": \"batch\", \"problems\": [\"args: a batch takes no args (each item "
                   "has its own)\", \"stop_on_error: must be true or false\", \"batch: must be an array\"]}");
    expect_request("{\"batch\": [{\"opp\": \"a.b\", \"op\": \"a.b\"}, 3, {\"op\": \"a.b\", \"fusion\": \"f\"}, "
                   "{\"op\": \"ab\"}, {\"op\": \"a.b\", \"args\": 1}, {\"\\u00e9\\n\": 1, \"op\": \"a.b\"}]}",
                   "{\"valid\": false, \"kind\": \"batch\", \"problems\": ["
                   "\"batch[0].opp: unknown key (did you mean 'op'?)\", \"batch[1]: must be an object\", "
                   "\"batch[2]: needs exactly one of 'op' and 'fusion'\", "
                   "\"batch[3].op: must be 'interface.operation' (lower-case letters, digits and '_')\", "
                   "\"batch[4].args: must be an object\", \"batch[5][\\\"\\u00e9\\\\u000a\\\"]: unknown key\"]}");
}

Test(validate_request, many_problems_are_capped)
{
    char request[1024] = "{\"batch\": [";
    for (int i = 0; i < 101; i++)
        strcat(request, i ? ",0" : "0");
    strcat(request, "]}");
    char args[1100];
    snprintf(args, sizeof args, "{\"request\": %s}", request);
    json_t *r = call_ok("security.validate_request", args);
    json_t *problems = json_object_get(r, "problems");
    cr_expect_eq(json_array_size(problems), 51);
    cr_expect_str_eq(json_string_value(json_array_get(problems, 0)), "batch: must have at most 100 items, got 101");
    cr_expect_str_eq(json_string_value(json_array_get(problems, 1)), "batch[0]: must be an object");
    cr_expect_str_eq(json_string_value(json_array_get(problems, 50)), "(52 more problems not listed)");
    json_decref(r);
}

#define ALEXA_HEADER "\"namespace\": \"Alexa.PowerController\", \"name\": \"TurnOn\", \"messageId\": \"m-1\", " \
                     "\"correlationToken\": \"c\", \"payloadVersion\": \"3\""

Test(validate_request, alexa_directives)
{
    expect_request("{\"directive\": {\"header\": {" ALEXA_HEADER "}, \"endpoint\": {\"endpointId\": \"light#kitchen\", "
                   "\"scope\": {\"type\": \"BearerToken\", \"token\": \"t\"}}, \"payload\": {}}}",
                   "{\"valid\": true, \"kind\": \"alexa\", \"problems\": []}");
    expect_request("{\"directive\": {\"header\": {\"namespace\": \"Alexa.Discovery\", \"name\": \"Discover\", "
                   "\"payloadVersion\": \"2\"}}}",
                   "{\"valid\": false, \"kind\": \"alexa\", \"problems\": [\"directive.header.messageId: missing\", "
                   "\"directive.header.payloadVersion: must be \\\"3\\\"\", \"directive.payload: missing\"]}");
    expect_request("{\"directive\": {\"header\": {\"namespace\": \"Foo\", \"name\": \"\", \"messageId\": 1, "
                   "\"payloadVersion\": 3, \"correlationToken\": 1}, \"endpoint\": {}, \"payload\": []}}",
                   "{\"valid\": false, \"kind\": \"alexa\", \"problems\": [\"directive.header.namespace: must start "
                   "with 'Alexa'\", \"directive.header.name: must be a non-empty string\", "
                   "\"directive.header.messageId: must be a non-empty string\", "
                   "\"directive.header.payloadVersion: must be \\\"3\\\"\", "
                   "\"directive.header.correlationToken: must be a string\", "
                   "\"directive.endpoint.endpointId: missing\", \"directive.payload: must be an object\"]}");
    expect_request("{\"directive\": []}",
                   "{\"valid\": false, \"kind\": \"alexa\", \"problems\": [\"directive: must be an object\"]}");
    expect_request("{\"directive\": {\"payload\": {}}}",
                   "{\"valid\": false, \"kind\": \"alexa\", \"problems\": [\"directive.header: missing\"]}");
}

#endif
