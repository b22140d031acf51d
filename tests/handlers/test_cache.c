/* test_cache.c: cache.* operations, with an injected clock for TTLs. */
#include <stdio.h>
#include <stdlib.h>

#include "cache/suga_cache.h"
#include "config/suga_config.h"
#include "handler_test.h"
#include "suga_handler_test_hooks.h"

static int64_t fake_now;

static int64_t fake_clock(void)
{
    return fake_now;
}

static void setup(void)
{
    unsetenv("SUGA_CACHE_MAX_ENTRIES");
    unsetenv("SUGA_CACHE_MAX_BYTES");
    suga_config_reset();
    suga_cache_reset();
    fake_now = 1000000;
    suga_clock_set_test_clock(fake_clock);
}

static void teardown(void)
{
    suga_cache_reset();
    suga_clock_set_test_clock(NULL);
    suga_config_reset();
    unsetenv("SUGA_CACHE_MAX_ENTRIES");
    unsetenv("SUGA_CACHE_MAX_BYTES");
}

TestSuite(cache, .init = setup, .fini = teardown);

static json_t *set(const char *key, const char *value_json, int ttl)
{
    char args[4096];
    snprintf(args, sizeof args, "{\"key\": \"%s\", \"value\": %s, \"ttl\": %d}", key, value_json, ttl);
    return call_ok("cache.set", args);
}

static void set_quiet(const char *key, const char *value_json, int ttl)
{
    json_decref(set(key, value_json, ttl));
}

static json_t *get(const char *key)
{
    char args[512];
    snprintf(args, sizeof args, "{\"key\": \"%s\"}", key);
    return call_ok("cache.get", args);
}

static bool exists(const char *key)
{
    char args[512];
    snprintf(args, sizeof args, "{\"key\": \"%s\"}", key);
    json_t *r = call_ok("cache.exists", args);
    cr_assert(json_is_boolean(r));
    bool yes = json_is_true(r);
    json_decref(r);
    return yes;
}

static json_int_t stat_of(const char *field)
{
    json_t *s = call_ok("cache.stats", NULL);
    json_int_t v = int_field(s, field);
    json_decref(s);
    return v;
}

static void configure(const char *args_json)
{
    json_decref(call_ok("cache.configure", args_json));
}

/* A JSON string literal whose compact encoding is exactly `bytes` long (quotes included). */
static char *string_of(size_t bytes)
{
    char *s = malloc(bytes + 1);
    cr_assert_not_null(s);
    memset(s, 'x', bytes);
    s[0] = s[bytes - 1] = '"';
    s[bytes] = '\0';
    return s;
}

/* ---- basics ---- */

Test(cache, set_then_get_returns_a_copy)
{
    assert_json(set("k", "{\"a\": [1, 2]}", 60), "{\"stored\": true, \"ttl\": 60, \"evicted\": 0}");
    assert_json(get("k"), "{\"a\": [1, 2]}");
    cr_assert_null(get("missing"));

    /* the stored value is a deep copy of the argument */
    json_t *value = json_pack("{s:i}", "n", 1);
    json_t *args = json_pack("{s:s, s:O}", "key", "copy", "value", value);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *r = NULL;
    cr_assert_eq(suga_call_json(&ctx, "cache.set", 9, args, &r), SUGA_OK, "%s", ctx.error);
    json_decref(r);
    json_object_set_new(value, "n", json_integer(2));
    assert_json(get("copy"), "{\"n\": 1}");
    json_decref(args);
    json_decref(value);
}

Test(cache, default_ttl_is_300_seconds)
{
    assert_json(call_ok("cache.set", "{\"key\": \"k\", \"value\": 1}"), "{\"stored\": true, \"ttl\": 300, \"evicted\": 0}");
    fake_now += 299999;
    assert_json(get("k"), "1");
    fake_now += 1;
    cr_assert_null(get("k"));
}

Test(cache, get_shares_the_stored_value)
{
    set_quiet("k", "{\"big\": [1, 2, 3]}", 0);
    json_t *a = get("k"), *b = get("k");
    cr_assert_eq(a, b, "a hit returns the stored value, not a copy");
    json_decref(a);
    json_decref(b);
}

Test(cache, fast_path_and_typed_calls)
{
    set_quiet("fast", "\"v\"", 0);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *r = NULL;
    suga_args_cache_get g = {.key = {.ptr = "fast", .len = 4}};
    cr_assert_eq(suga_fast_cache_get(&ctx, &g, &r), SUGA_OK);
    assert_json(r, "\"v\"");
    cr_assert_eq(suga_call_id(&ctx, SUGA_OP_CACHE_GET, &g, &r), SUGA_OK);
    assert_json(r, "\"v\"");
    suga_args_cache_set s = {.key = {.ptr = "typed", .len = 5}, .value = json_integer(5), .ttl = 0};
    cr_assert_eq(suga_call_id(&ctx, SUGA_OP_CACHE_SET, &s, &r), SUGA_OK, "%s", ctx.error);
    json_decref(s.value);
    json_decref(r);
    suga_args_cache_delete d = {.key = {.ptr = "fast", .len = 4}};
    cr_assert_eq(suga_fast_cache_delete(&ctx, &d, &r), SUGA_OK);
    assert_json(r, "{\"deleted\": true}");
    assert_json(get("typed"), "5");
    cr_assert_null(get("fast"));
}

/* suga_call_op_json: the JSON path by generated id, as modules call each other. */
Test(cache, call_by_id_with_json_arguments)
{
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *args = json_pack("{s:s, s:i}", "key", "by-id", "value", 7), *r = NULL;
    uint64_t sets = suga_main_table.stats[SUGA_OP_CACHE_SET].calls;
    cr_assert_eq(suga_call_op_json(&ctx, SUGA_OP_CACHE_SET, args, &r), SUGA_OK, "%s", ctx.error);
    assert_json(r, "{\"stored\": true, \"ttl\": 300, \"evicted\": 0}");
    cr_expect_eq(suga_main_table.stats[SUGA_OP_CACHE_SET].calls, sets + 1, "cache.set ran, with its default ttl");
    assert_json(get("by-id"), "7");
    json_decref(args);

    /* bad arguments: refused before the handler, with the message a call by name gets */
    args = json_pack("{s:s, s:i, s:i}", "key", "k", "value", 1, "ttl", -1);
    cr_assert_eq(suga_call_op_json(&ctx, SUGA_OP_CACHE_SET, args, &r), SUGA_E_INVALID_ARG);
    cr_expect_null(r);
    char by_id[SUGA_ERROR_MAX];
    snprintf(by_id, sizeof by_id, "%s", ctx.error);
    suga_ctx by_name;
    call_fails(&by_name, "cache.set", "{\"key\": \"k\", \"value\": 1, \"ttl\": -1}", SUGA_E_INVALID_ARG);
    cr_expect_str_eq(by_id, by_name.error);
    cr_expect_str_eq(by_id, "cache.set: arg 'ttl' must be an integer in [0, 86400], got -1");
    json_decref(args);

    /* an id that is no operation of this table */
    r = json_true();
    cr_expect_eq(suga_call_op_json(&ctx, SUGA_OP__COUNT, NULL, &r), SUGA_E_NOT_FOUND);
    cr_expect_null(r, "the result is cleared");
    char want[96];
    snprintf(want, sizeof want, "no operation with id %u (this table has %u)", (unsigned)SUGA_OP__COUNT,
             (unsigned)SUGA_OP__COUNT);
    cr_expect_str_eq(ctx.error, want);
    cr_expect_eq(suga_call_op_json(NULL, SUGA_OP_CACHE_GET, NULL, &r), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_call_op_json(&ctx, SUGA_OP_CACHE_GET, NULL, NULL), SUGA_E_INVALID_ARG);
}

Test(cache, replace_updates_value_and_size)
{
    set_quiet("k", "\"aa\"", 0);
    cr_assert_eq(stat_of("bytes"), 1 + 4);
    assert_json(set("k", "\"aaaaaa\"", 0), "{\"stored\": true, \"ttl\": 0, \"evicted\": 0}");
    cr_assert_eq(stat_of("entries"), 1);
    cr_assert_eq(stat_of("bytes"), 1 + 8);
    cr_assert_eq(stat_of("evictions"), 0);
    cr_assert_eq(stat_of("sets"), 2);
    assert_json(get("k"), "\"aaaaaa\"");
}

Test(cache, delete_and_clear)
{
    set_quiet("a", "1", 0);
    set_quiet("b", "2", 0);
    set_quiet("c", "3", 0);
    assert_json(call_ok("cache.delete", "{\"key\": \"a\"}"), "{\"deleted\": true}");
    assert_json(call_ok("cache.delete", "{\"key\": \"a\"}"), "{\"deleted\": false}");
    cr_assert_eq(stat_of("deletes"), 1);
    cr_assert_not(exists("a"));
    assert_json(call_ok("cache.clear", NULL), "{\"cleared\": 2}");
    cr_assert_eq(stat_of("entries"), 0);
    cr_assert_eq(stat_of("bytes"), 0);
    cr_assert_null(get("b"));
}

Test(cache, hit_and_miss_counters)
{
    set_quiet("k", "true", 0);
    json_decref(get("k"));
    json_decref(get("nope"));
    cr_assert(exists("k"));
    cr_assert_not(exists("nope"));
    cr_assert_not(exists("nope2"));
    cr_assert_eq(stat_of("hits"), 2);
    cr_assert_eq(stat_of("misses"), 3);
}

Test(cache, stats_shape)
{
    json_t *s = call_ok("cache.stats", NULL);
    static const char *const fields[] = {"entries", "max_entries", "bytes",   "max_bytes", "hits",
                                         "misses",  "sets",        "deletes", "evictions", "expirations"};
    cr_assert_eq(json_object_size(s), sizeof fields / sizeof fields[0]);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        cr_assert(json_is_integer(json_object_get(s, fields[i])), "%s", fields[i]);
    cr_assert_eq(int_field(s, "max_entries"), SUGA_CACHE_DEFAULT_MAX_ENTRIES);
    cr_assert_eq(int_field(s, "max_bytes"), SUGA_CACHE_DEFAULT_MAX_BYTES);
    json_decref(s);
}

/* ---- TTL ---- */

Test(cache, ttl_expires_on_the_injected_clock)
{
    set_quiet("k", "\"v\"", 10);
    fake_now += 9999;
    assert_json(get("k"), "\"v\"");
    cr_assert(exists("k"));
    fake_now += 1;
    cr_assert_null(get("k"));
    cr_assert_not(exists("k"));
    cr_assert_eq(stat_of("expirations"), 1);
    cr_assert_eq(stat_of("entries"), 0);
}

Test(cache, ttl_zero_never_expires)
{
    set_quiet("k", "1", 0);
    fake_now += INT64_C(1000) * 86400 * 365;
    assert_json(get("k"), "1");
}

Test(cache, expired_entries_do_not_count_as_deleted)
{
    set_quiet("k", "1", 1);
    fake_now += 1000;
    assert_json(call_ok("cache.delete", "{\"key\": \"k\"}"), "{\"deleted\": false}");
    cr_assert_eq(stat_of("deletes"), 0);
    cr_assert_eq(stat_of("expirations"), 1);
}

Test(cache, stats_purge_expired_entries)
{
    set_quiet("a", "1", 1);
    set_quiet("b", "1", 5);
    set_quiet("c", "1", 0);
    fake_now += 1000;
    cr_assert_eq(stat_of("entries"), 2);
    fake_now += 4000;
    cr_assert_eq(stat_of("entries"), 1);
    cr_assert_eq(stat_of("expirations"), 2);
    cr_assert_eq(stat_of("bytes"), 2);
}

Test(cache, many_ttls_expire_in_order)
{
    /* exercises the expiry heap: entry i lives (i * 7 % 50) + 1 seconds */
    configure("{\"max_entries\": 1000}");
    char key[16];
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "k%d", i);
        set_quiet(key, "0", (i * 7 % 50) + 1);
    }
    for (int second = 1; second <= 51; second++) {
        fake_now += 1000;
        int live = 0;
        for (int i = 0; i < 200; i++)
            live += (i * 7 % 50) + 1 > second;
        cr_assert_eq(stat_of("entries"), live, "after %d s", second);
    }
    cr_assert_eq(stat_of("expirations"), 200);
}

/* ---- bounds and eviction ---- */

Test(cache, lru_eviction_by_entries)
{
    configure("{\"max_entries\": 3}");
    set_quiet("a", "1", 0);
    set_quiet("b", "2", 0);
    set_quiet("c", "3", 0);
    json_decref(get("a")); /* a is now the most recent; b the least */
    assert_json(set("d", "4", 0), "{\"stored\": true, \"ttl\": 0, \"evicted\": 1}");
    cr_assert_not(exists("b"));
    cr_assert(exists("a") && exists("c") && exists("d"));
    assert_json(set("e", "5", 0), "{\"stored\": true, \"ttl\": 0, \"evicted\": 1}");
    cr_assert_not(exists("c"), "c was the least recently used");
    cr_assert_eq(stat_of("evictions"), 2);
    cr_assert_eq(stat_of("entries"), 3);
}

Test(cache, exists_does_not_refresh_recency)
{
    configure("{\"max_entries\": 2}");
    set_quiet("a", "1", 0);
    set_quiet("b", "2", 0);
    cr_assert(exists("a"));
    set_quiet("c", "3", 0);
    cr_assert_null(get("a"));
    assert_json(get("b"), "2");
}

Test(cache, lru_eviction_by_bytes)
{
    configure("{\"max_bytes\": 1024}");
    char *v = string_of(300); /* entry = 2-byte key + 300 = 302 bytes: three fit in 1024 */
    set_quiet("k1", v, 0);
    set_quiet("k2", v, 0);
    set_quiet("k3", v, 0);
    cr_assert_eq(stat_of("bytes"), 906);
    json_decref(get("k1"));
    assert_json(set("k4", v, 0), "{\"stored\": true, \"ttl\": 0, \"evicted\": 1}");
    cr_assert_not(exists("k2"));
    cr_assert(exists("k1") && exists("k3") && exists("k4"));
    cr_assert_eq(stat_of("bytes"), 906);
    /* one entry big enough to need two others' room */
    char *big = string_of(600);
    assert_json(set("k5", big, 0), "{\"stored\": true, \"ttl\": 0, \"evicted\": 2}");
    cr_assert_not(exists("k3"));
    cr_assert_not(exists("k1"));
    cr_assert(exists("k4") && exists("k5"));
    cr_assert_eq(stat_of("bytes"), 302 + 602);
    free(v);
    free(big);
}

Test(cache, expired_entries_go_before_live_ones)
{
    configure("{\"max_entries\": 3}");
    set_quiet("a", "1", 0);
    set_quiet("b", "2", 1);
    set_quiet("c", "3", 0);
    fake_now += 1000; /* b has expired, but nothing has looked at it */
    assert_json(set("d", "4", 0), "{\"stored\": true, \"ttl\": 0, \"evicted\": 0}");
    cr_assert(exists("a"), "the oldest live entry stays while an expired one can go");
    cr_assert(exists("c") && exists("d"));
    cr_assert_eq(stat_of("expirations"), 1);
    cr_assert_eq(stat_of("evictions"), 0);
}

Test(cache, configure_evicts_at_once)
{
    for (int i = 0; i < 5; i++) {
        char key[8];
        snprintf(key, sizeof key, "k%d", i);
        set_quiet(key, "0", 0);
    }
    assert_json(call_ok("cache.configure", "{\"max_entries\": 2}"),
                "{\"max_entries\": 2, \"max_bytes\": 8388608, \"evicted\": 3}");
    cr_assert_eq(stat_of("entries"), 2);
    cr_assert(exists("k3") && exists("k4"));
    cr_assert_not(exists("k2"));
    /* no arguments: the bounds as they are */
    assert_json(call_ok("cache.configure", NULL), "{\"max_entries\": 2, \"max_bytes\": 8388608, \"evicted\": 0}");
    char *v = string_of(700);
    assert_json(call_ok("cache.configure", "{\"max_entries\": 10}"),
                "{\"max_entries\": 10, \"max_bytes\": 8388608, \"evicted\": 0}");
    set_quiet("big", v, 0);
    assert_json(call_ok("cache.configure", "{\"max_bytes\": 1024}"),
                "{\"max_entries\": 10, \"max_bytes\": 1024, \"evicted\": 0}");
    set_quiet("big2", v, 0); /* 703 + 704 > 1024: big goes */
    cr_assert_not(exists("big"));
    free(v);
    suga_ctx ctx;
    call_fails(&ctx, "cache.configure", "{\"max_entries\": 0}", SUGA_E_INVALID_ARG);
    call_fails(&ctx, "cache.configure", "{\"max_bytes\": 100}", SUGA_E_INVALID_ARG);
}

Test(cache, oversize_value_is_refused)
{
    configure("{\"max_bytes\": 1024}");
    set_quiet("k", "\"small\"", 0);
    char *v = string_of(1100);
    char args[1300];
    snprintf(args, sizeof args, "{\"key\": \"k\", \"value\": %s}", v);
    suga_ctx ctx;
    call_fails(&ctx, "cache.set", args, SUGA_E_LIMIT);
    cr_assert_str_eq(ctx.error, "cache.set: entry of 1101 bytes (key + encoded value) exceeds max_bytes 1024");
    assert_json(get("k"), "\"small\""); /* the refused set changed nothing */
    cr_assert_eq(stat_of("sets"), 1);
    free(v);
}

Test(cache, many_keys)
{
    configure("{\"max_entries\": 20000}");
    char key[16], value[16];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        snprintf(value, sizeof value, "%d", i);
        set_quiet(key, value, 0);
    }
    cr_assert_eq(stat_of("entries"), 5000);
    for (int i = 0; i < 5000; i += 7) {
        snprintf(key, sizeof key, "key-%d", i);
        json_t *r = get(key);
        cr_assert(json_is_integer(r) && json_integer_value(r) == i, "%s", key);
        json_decref(r);
    }
}

/* ---- bounds from the environment ---- */

Test(cache, bounds_from_environment)
{
    setenv("SUGA_CACHE_MAX_ENTRIES", "2", 1);
    setenv("SUGA_CACHE_MAX_BYTES", "4096", 1);
    cr_assert_eq(stat_of("max_entries"), 2);
    cr_assert_eq(stat_of("max_bytes"), 4096);
    set_quiet("a", "1", 0);
    set_quiet("b", "1", 0);
    assert_json(set("c", "1", 0), "{\"stored\": true, \"ttl\": 0, \"evicted\": 1}");
    /* reset restores the defaults (and reads the environment again) */
    unsetenv("SUGA_CACHE_MAX_ENTRIES");
    suga_cache_reset();
    cr_assert_eq(stat_of("max_entries"), SUGA_CACHE_DEFAULT_MAX_ENTRIES);
    cr_assert_eq(stat_of("entries"), 0);
    cr_assert_eq(stat_of("sets"), 0);
}

Test(cache, bad_bound_in_environment_is_reported)
{
    setenv("SUGA_CACHE_MAX_ENTRIES", "lots", 1);
    suga_ctx ctx;
    call_fails(&ctx, "cache.set", "{\"key\": \"k\", \"value\": 1}", SUGA_E_HANDLER);
    cr_assert(!strncmp(ctx.error, "cache.set: ", 11), "%s", ctx.error);
    cr_assert(strstr(ctx.error, "SUGA_CACHE_MAX_ENTRIES"), "%s", ctx.error);
    cr_assert(strstr(ctx.error, "\"lots\""), "%s", ctx.error);
    setenv("SUGA_CACHE_MAX_ENTRIES", "0", 1);
    call_fails(&ctx, "cache.get", "{\"key\": \"k\"}", SUGA_E_HANDLER);
    cr_assert(strstr(ctx.error, "[1, 1000000]"), "%s", ctx.error);
    /* fixing the setting makes the cache usable: nothing was latched */
    json_decref(call_ok("config.set", "{\"name\": \"SUGA_CACHE_MAX_ENTRIES\", \"value\": 5}"));
    cr_assert_eq(stat_of("max_entries"), 5);
}
