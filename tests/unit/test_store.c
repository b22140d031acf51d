/* test_store.c: the bounded key/value store (runtime/store.c) on its own, with an explicit clock.
 *
 * The cache.* interface over it is tested through the engine in tests/handlers/test_cache.c;
 * here are the store's own contracts: byte-string keys (NUL bytes included), prefix deletion,
 * independence of stores, argument checks and the unchanged store after a refused call. */
#include <criterion/criterion.h>
#include <string.h>

#include "suga_store.h"

#define T0 INT64_C(1000000)

/* A key literal with its length, NUL bytes included: K("a\0b") is 3 bytes. */
#define K(literal) literal, sizeof literal - 1

static suga_store *store_new(size_t max_entries, size_t max_bytes)
{
    suga_store *s = NULL;
    cr_assert_eq(suga_store_new(max_entries, max_bytes, &s), SUGA_OK);
    cr_assert_not_null(s);
    return s;
}

/* Put the value parsed from `json` (any JSON text); returns the evicted count. */
static size_t put(suga_store *s, const char *key, size_t len, const char *json, uint32_t ttl, int64_t now)
{
    json_error_t error;
    json_t *v = json_loads(json, JSON_DECODE_ANY, &error);
    cr_assert_not_null(v, "%s: %s", json, error.text);
    size_t evicted = 99;
    cr_assert_eq(suga_store_put(s, key, len, v, ttl, now, &evicted), SUGA_OK, "put %.*s", (int)len, key);
    json_decref(v);
    return evicted;
}

/* Whether a live entry is under key; asserts its value when `expected` (JSON text) is given. */
static bool holds(suga_store *s, const char *key, size_t len, int64_t now, const char *expected)
{
    json_t *v = (json_t *)1;
    suga_status st = suga_store_get(s, key, len, now, &v);
    if (st == SUGA_E_NOT_FOUND) {
        cr_assert_null(v, "a miss sets *value to NULL");
        return false;
    }
    cr_assert_eq(st, SUGA_OK);
    if (expected) {
        json_t *want = json_loads(expected, JSON_DECODE_ANY, NULL);
        cr_assert(json_equal(v, want), "%.*s", (int)len, key);
        json_decref(want);
    }
    return true;
}

static bool live(suga_store *s, const char *key, size_t len, int64_t now)
{
    bool yes = false;
    cr_assert_eq(suga_store_peek(s, key, len, now, &yes), SUGA_OK);
    return yes;
}

static suga_store_stats stats_of(suga_store *s, int64_t now)
{
    suga_store_stats st;
    cr_assert_eq(suga_store_stats_get(s, now, &st), SUGA_OK);
    return st;
}

/* A JSON string literal whose compact encoding is exactly `bytes` long (quotes included). */
static char *string_of(size_t bytes)
{
    char *text = malloc(bytes + 1);
    cr_assert_not_null(text);
    memset(text, 'x', bytes);
    text[0] = text[bytes - 1] = '"';
    text[bytes] = '\0';
    return text;
}

static void assert_same_stats(suga_store_stats a, suga_store_stats b)
{
    cr_assert(a.entries == b.entries && a.bytes == b.bytes && a.max_entries == b.max_entries &&
              a.max_bytes == b.max_bytes && a.hits == b.hits && a.misses == b.misses && a.sets == b.sets &&
              a.deletes == b.deletes && a.evictions == b.evictions && a.expirations == b.expirations);
}

/* ---- basics ---- */

Test(store, put_then_get_returns_the_stored_copy)
{
    suga_store *s = store_new(16, 4096);
    json_t *v = json_pack("{s:[i,i]}", "a", 1, 2);
    cr_assert_eq(suga_store_put(s, K("k"), v, 60, T0, NULL), SUGA_OK, "evicted may be NULL");
    json_array_append_new(json_object_get(v, "a"), json_integer(3)); /* the store holds a copy */
    json_t *a = NULL, *b = NULL;
    cr_assert_eq(suga_store_get(s, K("k"), T0, &a), SUGA_OK);
    cr_assert_neq(a, v);
    cr_assert_eq(json_array_size(json_object_get(a, "a")), 2);
    cr_assert_eq(suga_store_get(s, K("k"), T0, &b), SUGA_OK);
    cr_assert_eq(a, b, "a hit lends the stored value itself");
    cr_assert_not(holds(s, K("missing"), T0, NULL));
    suga_store_stats st = stats_of(s, T0);
    cr_assert_eq(st.entries, 1);
    cr_assert_eq(st.bytes, 1 + strlen("{\"a\":[1,2]}"), "key + compact JSON");
    cr_assert(st.hits == 2 && st.misses == 1 && st.sets == 1);
    json_decref(v);
    suga_store_free(s);
}

Test(store, null_value_and_empty_key)
{
    suga_store *s = store_new(4, 4096);
    cr_assert_eq(suga_store_put(s, NULL, 0, NULL, 0, T0, NULL), SUGA_OK, "NULL value stores JSON null");
    json_t *v = NULL;
    cr_assert_eq(suga_store_get(s, "", 0, T0, &v), SUGA_OK, "NULL and \"\" are the same empty key");
    cr_assert(json_is_null(v));
    cr_assert_eq(stats_of(s, T0).bytes, 4);
    suga_store_free(s);
}

Test(store, keys_are_byte_strings_with_nul_bytes)
{
    suga_store *s = store_new(16, 4096);
    put(s, K("a\0b"), "1", 0, T0);
    put(s, K("a\0c"), "2", 0, T0);
    put(s, K("a"), "3", 0, T0);
    put(s, K("a\0b\0"), "4", 0, T0);
    cr_assert_eq(stats_of(s, T0).entries, 4);
    cr_assert(holds(s, K("a\0b"), T0, "1"));
    cr_assert(holds(s, K("a\0c"), T0, "2"));
    cr_assert(holds(s, K("a"), T0, "3"));
    cr_assert(holds(s, K("a\0b\0"), T0, "4"));
    cr_assert_not(holds(s, K("a\0d"), T0, NULL));
    /* keys in the fingerprint's window range (8..40 bytes) differing only after a NUL */
    put(s, K("operation.name\0{\"x\":1}"), "5", 0, T0);
    cr_assert_not(holds(s, K("operation.name\0{\"x\":2}"), T0, NULL));
    cr_assert(holds(s, K("operation.name\0{\"x\":1}"), T0, "5"));
    suga_store_free(s);
}

Test(store, replace_updates_value_and_size)
{
    suga_store *s = store_new(16, 4096);
    put(s, K("k"), "\"aa\"", 0, T0);
    cr_assert_eq(put(s, K("k"), "\"aaaaaa\"", 0, T0), 0);
    suga_store_stats st = stats_of(s, T0);
    cr_assert(st.entries == 1 && st.bytes == 1 + 8 && st.sets == 2);
    cr_assert(st.evictions == 0 && st.deletes == 0 && st.expirations == 0, "a replacement is none of these");
    cr_assert(holds(s, K("k"), T0, "\"aaaaaa\""));
    /* replacing an expired entry does not count an expiration either */
    put(s, K("t"), "1", 1, T0);
    put(s, K("t"), "2", 0, T0 + 5000);
    cr_assert_eq(stats_of(s, T0 + 5000).expirations, 0);
    cr_assert(holds(s, K("t"), T0 + 5000, "2"));
    suga_store_free(s);
}

/* ---- TTL ---- */

Test(store, ttl_expires_on_the_explicit_clock)
{
    suga_store *s = store_new(16, 4096);
    put(s, K("k"), "\"v\"", 10, T0);
    cr_assert(holds(s, K("k"), T0 + 9999, "\"v\""));
    cr_assert(live(s, K("k"), T0 + 9999));
    cr_assert_not(holds(s, K("k"), T0 + 10000, NULL));
    cr_assert_not(live(s, K("k"), T0 + 10000));
    suga_store_stats st = stats_of(s, T0 + 10000);
    cr_assert(st.expirations == 1 && st.entries == 0 && st.bytes == 0);
    cr_assert(st.hits == 2 && st.misses == 2, "an expired lookup is a miss");
    suga_store_free(s);
}

Test(store, ttl_zero_never_expires_and_huge_clocks_saturate)
{
    suga_store *s = store_new(16, 4096);
    put(s, K("forever"), "1", 0, T0);
    cr_assert(holds(s, K("forever"), INT64_MAX, "1"));
    put(s, K("late"), "2", UINT32_MAX, INT64_MAX - 10); /* expiry saturates instead of wrapping */
    cr_assert(holds(s, K("late"), INT64_MAX - 1, "2"));
    suga_store_free(s);
}

Test(store, stats_purge_expired_entries)
{
    suga_store *s = store_new(16, 4096);
    put(s, K("a"), "1", 1, T0);
    put(s, K("b"), "1", 5, T0);
    put(s, K("c"), "1", 0, T0);
    cr_assert_eq(stats_of(s, T0 + 1000).entries, 2);
    suga_store_stats st = stats_of(s, T0 + 5000);
    cr_assert(st.entries == 1 && st.bytes == 2 && st.expirations == 2);
    suga_store_free(s);
}

Test(store, many_ttls_expire_in_order)
{
    /* exercises the expiry heap (and bucket growth): entry i lives (i * 7 % 50) + 1 seconds */
    suga_store *s = store_new(1000, 1 << 20);
    char key[16];
    for (int i = 0; i < 200; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        put(s, key, (size_t)n, "0", (uint32_t)(i * 7 % 50) + 1, T0);
    }
    for (int second = 1; second <= 51; second++) {
        size_t expect = 0;
        for (int i = 0; i < 200; i++)
            expect += (i * 7 % 50) + 1 > second;
        cr_assert_eq(stats_of(s, T0 + second * 1000).entries, expect, "after %d s", second);
    }
    cr_assert_eq(stats_of(s, T0 + 60000).expirations, 200);
    suga_store_free(s);
}

/* ---- bounds and eviction ---- */

Test(store, lru_eviction_by_entries)
{
    suga_store *s = store_new(3, 4096);
    put(s, K("a"), "1", 0, T0);
    put(s, K("b"), "2", 0, T0);
    put(s, K("c"), "3", 0, T0);
    cr_assert(holds(s, K("a"), T0, NULL)); /* a is now the most recent; b the least */
    cr_assert_eq(put(s, K("d"), "4", 0, T0), 1);
    cr_assert_not(live(s, K("b"), T0));
    cr_assert(live(s, K("a"), T0) && live(s, K("c"), T0) && live(s, K("d"), T0));
    cr_assert_eq(put(s, K("e"), "5", 0, T0), 1);
    cr_assert_not(live(s, K("c"), T0), "c was the least recently used");
    suga_store_stats st = stats_of(s, T0);
    cr_assert(st.evictions == 2 && st.entries == 3);
    suga_store_free(s);
}

Test(store, peek_does_not_refresh_recency)
{
    suga_store *s = store_new(2, 4096);
    put(s, K("a"), "1", 0, T0);
    put(s, K("b"), "2", 0, T0);
    cr_assert(live(s, K("a"), T0));
    put(s, K("c"), "3", 0, T0);
    cr_assert_not(holds(s, K("a"), T0, NULL));
    cr_assert(holds(s, K("b"), T0, "2"));
    suga_store_free(s);
}

Test(store, lru_eviction_by_bytes)
{
    suga_store *s = store_new(100, 1024);
    char *v = string_of(300); /* entry = 2-byte key + 300 = 302 bytes: three fit in 1024 */
    put(s, K("k1"), v, 0, T0);
    put(s, K("k2"), v, 0, T0);
    put(s, K("k3"), v, 0, T0);
    cr_assert_eq(stats_of(s, T0).bytes, 906);
    cr_assert(holds(s, K("k1"), T0, NULL));
    cr_assert_eq(put(s, K("k4"), v, 0, T0), 1);
    cr_assert_not(live(s, K("k2"), T0));
    cr_assert_eq(stats_of(s, T0).bytes, 906);
    char *big = string_of(600); /* needs the room of two others */
    cr_assert_eq(put(s, K("k5"), big, 0, T0), 2);
    cr_assert(!live(s, K("k3"), T0) && !live(s, K("k1"), T0));
    cr_assert(live(s, K("k4"), T0) && live(s, K("k5"), T0));
    cr_assert_eq(stats_of(s, T0).bytes, 302 + 602);
    free(v);
    free(big);
    suga_store_free(s);
}

Test(store, expired_entries_go_before_live_ones)
{
    suga_store *s = store_new(3, 4096);
    put(s, K("a"), "1", 0, T0);
    put(s, K("b"), "2", 1, T0);
    put(s, K("c"), "3", 0, T0);
    /* b has expired, but nothing has looked at it */
    cr_assert_eq(put(s, K("d"), "4", 0, T0 + 1000), 0);
    cr_assert(live(s, K("a"), T0 + 1000), "the oldest live entry stays while an expired one can go");
    cr_assert(live(s, K("c"), T0 + 1000) && live(s, K("d"), T0 + 1000));
    suga_store_stats st = stats_of(s, T0 + 1000);
    cr_assert(st.expirations == 1 && st.evictions == 0);
    suga_store_free(s);
}

Test(store, oversize_and_unencodable_values_leave_the_store_unchanged)
{
    suga_store *s = store_new(2, 1024);
    put(s, K("k"), "\"small\"", 0, T0);
    put(s, K("j"), "1", 0, T0);
    suga_store_stats before = stats_of(s, T0);
    char *text = string_of(1024); /* 1 + 1024 > 1024 */
    json_t *big = json_loads(text, JSON_DECODE_ANY, NULL);
    size_t evicted = 42, bytes = 0;
    cr_assert_eq(suga_store_put(s, K("k"), big, 0, T0, &evicted), SUGA_E_LIMIT);
    cr_assert_eq(evicted, 42, "outputs untouched on failure");
    cr_assert_eq(suga_store_entry_size(1, big, &bytes), SUGA_OK);
    cr_assert_eq(bytes, 1025);
    /* a value that contains itself cannot be encoded (jansson refuses direct self-insertion, so
     * the cycle goes through a second array) */
    json_t *loop = json_array(), *inner = json_array();
    cr_assert_eq(json_array_append(inner, loop), 0);
    cr_assert_eq(json_array_append(loop, inner), 0);
    cr_assert_eq(suga_store_put(s, K("new"), loop, 0, T0, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_entry_size(3, loop, &bytes), SUGA_E_INVALID_ARG);
    json_array_clear(inner); /* break the cycle so both can be freed */
    json_decref(inner);
    json_decref(loop);
    assert_same_stats(before, stats_of(s, T0));
    cr_assert(holds(s, K("k"), T0, "\"small\""), "the refused replacement kept the old value");
    cr_assert(holds(s, K("j"), T0, "1"), "nothing was evicted for it");
    json_decref(big);
    free(text);
    suga_store_free(s);
}

Test(store, an_entry_of_exactly_max_bytes_fits)
{
    suga_store *s = store_new(4, 1024);
    char *text = string_of(1023);
    put(s, K("a"), "1", 0, T0);
    cr_assert_eq(put(s, K("k"), text, 0, T0), 1);
    suga_store_stats st = stats_of(s, T0);
    cr_assert(st.entries == 1 && st.bytes == 1024);
    free(text);
    suga_store_free(s);
}

Test(store, configure_shrinks_at_once)
{
    suga_store *s = store_new(10, 4096);
    char key[8];
    for (int i = 0; i < 5; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        put(s, key, (size_t)n, "0", i == 1 ? 1 : 0, T0); /* k1 expires after a second */
    }
    size_t evicted = 99;
    cr_assert_eq(suga_store_configure(s, 2, 4096, T0 + 1000, &evicted), SUGA_OK);
    cr_assert_eq(evicted, 2, "k1 expired (not an eviction), then k0 and k2 were the oldest");
    suga_store_stats st = stats_of(s, T0 + 1000);
    cr_assert(st.entries == 2 && st.max_entries == 2 && st.expirations == 1 && st.evictions == 2);
    cr_assert(live(s, K("k3"), T0 + 1000) && live(s, K("k4"), T0 + 1000));
    /* by bytes: 2 entries of 3 bytes; 5 bytes keep only the newest */
    cr_assert_eq(suga_store_configure(s, 2, 5, T0 + 1000, &evicted), SUGA_OK);
    cr_assert_eq(evicted, 1);
    cr_assert(live(s, K("k4"), T0 + 1000));
    /* growing evicts nothing; zero bounds are refused and change nothing */
    cr_assert_eq(suga_store_configure(s, 100, 4096, T0, &evicted), SUGA_OK);
    cr_assert_eq(evicted, 0);
    cr_assert_eq(suga_store_configure(s, 0, 4096, T0, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_configure(s, 10, 0, T0, NULL), SUGA_E_INVALID_ARG);
    size_t max_entries = 0, max_bytes = 0;
    cr_assert_eq(suga_store_bounds(s, &max_entries, &max_bytes), SUGA_OK);
    cr_assert(max_entries == 100 && max_bytes == 4096);
    suga_store_free(s);
}

/* ---- removal ---- */

Test(store, delete_live_and_expired)
{
    suga_store *s = store_new(16, 4096);
    put(s, K("a"), "1", 0, T0);
    put(s, K("t"), "1", 1, T0);
    bool deleted = false;
    cr_assert_eq(suga_store_delete(s, K("a"), T0, &deleted), SUGA_OK);
    cr_assert(deleted);
    cr_assert_eq(suga_store_delete(s, K("a"), T0, &deleted), SUGA_OK);
    cr_assert_not(deleted);
    cr_assert_eq(suga_store_delete(s, K("t"), T0 + 1000, &deleted), SUGA_OK);
    cr_assert_not(deleted, "an expired entry is not deleted, it expired");
    suga_store_stats st = stats_of(s, T0 + 1000);
    cr_assert(st.deletes == 1 && st.expirations == 1 && st.entries == 0);
    suga_store_free(s);
}

Test(store, delete_prefix_removes_only_matching_keys)
{
    suga_store *s = store_new(64, 1 << 16);
    /* result-cache style keys: operation name, NUL, canonical arguments */
    put(s, K("a.b\0{\"k\":1}"), "1", 0, T0);
    put(s, K("a.b\0{\"k\":2}"), "2", 60, T0);
    put(s, K("a.b\0"), "3", 0, T0);
    put(s, K("a.bc\0{\"k\":1}"), "4", 0, T0);
    put(s, K("a.b"), "5", 0, T0);
    put(s, K("x.a.b\0{}"), "6", 0, T0);
    size_t deleted = 0;
    cr_assert_eq(suga_store_delete_prefix(s, K("a.b\0"), &deleted), SUGA_OK);
    cr_assert_eq(deleted, 3);
    cr_assert_not(live(s, K("a.b\0{\"k\":1}"), T0));
    cr_assert_not(live(s, K("a.b\0{\"k\":2}"), T0));
    cr_assert_not(live(s, K("a.b\0"), T0));
    cr_assert(live(s, K("a.bc\0{\"k\":1}"), T0), "a.b\\0 is not a prefix of a.bc\\0...");
    cr_assert(live(s, K("a.b"), T0), "shorter than the prefix");
    cr_assert(live(s, K("x.a.b\0{}"), T0), "the prefix must be at the start");
    suga_store_stats st = stats_of(s, T0);
    cr_assert(st.deletes == 3 && st.entries == 3);
    cr_assert_eq(st.bytes, (sizeof "a.bc\0{\"k\":1}" - 1) + 1 + 3 + 1 + (sizeof "x.a.b\0{}" - 1) + 1);
    /* no match: nothing happens; the empty prefix matches everything */
    cr_assert_eq(suga_store_delete_prefix(s, K("zz"), &deleted), SUGA_OK);
    cr_assert_eq(deleted, 0);
    cr_assert_eq(suga_store_delete_prefix(s, NULL, 0, &deleted), SUGA_OK);
    cr_assert_eq(deleted, 3);
    cr_assert_eq(stats_of(s, T0).bytes, 0);
    /* the store is still sound afterwards: the heap and buckets were kept consistent */
    put(s, K("a.b\0{}"), "7", 5, T0);
    cr_assert(holds(s, K("a.b\0{}"), T0, "7"));
    cr_assert_eq(stats_of(s, T0 + 5000).entries, 0);
    suga_store_free(s);
}

Test(store, delete_prefix_keeps_the_heap_consistent)
{
    /* remove every other TTL entry from the middle of the heap, then let the rest expire in order */
    suga_store *s = store_new(1000, 1 << 20);
    char key[16];
    for (int i = 0; i < 100; i++) {
        int n = snprintf(key, sizeof key, "%c%d", i % 2 ? 'o' : 'e', i);
        put(s, key, (size_t)n, "0", (uint32_t)(i * 13 % 40) + 1, T0);
    }
    size_t deleted = 0;
    cr_assert_eq(suga_store_delete_prefix(s, K("o"), &deleted), SUGA_OK);
    cr_assert_eq(deleted, 50);
    for (int second = 1; second <= 41; second++) {
        size_t expect = 0;
        for (int i = 0; i < 100; i += 2)
            expect += (i * 13 % 40) + 1 > second;
        cr_assert_eq(stats_of(s, T0 + second * 1000).entries, expect, "after %d s", second);
    }
    suga_store_free(s);
}

Test(store, clear_counts_every_entry_and_keeps_counters)
{
    suga_store *s = store_new(16, 4096);
    put(s, K("a"), "1", 0, T0);
    put(s, K("b"), "1", 1, T0);
    put(s, K("c"), "1", 0, T0);
    size_t cleared = 0;
    cr_assert_eq(suga_store_clear(s, &cleared), SUGA_OK);
    cr_assert_eq(cleared, 3, "an expired entry not yet purged is still held");
    suga_store_stats st = stats_of(s, T0 + 1000);
    cr_assert(st.entries == 0 && st.bytes == 0 && st.sets == 3);
    cr_assert(st.deletes == 0 && st.evictions == 0 && st.expirations == 0);
    cr_assert_eq(suga_store_clear(s, NULL), SUGA_OK);
    put(s, K("a"), "2", 0, T0);
    cr_assert(holds(s, K("a"), T0, "2"), "usable after clear");
    suga_store_free(s);
}

/* ---- statistics ---- */

Test(store, stats_and_reset_counters)
{
    suga_store *s = store_new(2, 4096);
    put(s, K("a"), "1", 0, T0);
    put(s, K("b"), "22", 1, T0);
    put(s, K("c"), "333", 0, T0 + 1000); /* b expired: purged for room, not evicted */
    put(s, K("d"), "4", 0, T0 + 1000);   /* a evicted */
    cr_assert(holds(s, K("c"), T0 + 1000, NULL));
    cr_assert_not(holds(s, K("a"), T0 + 1000, NULL));
    cr_assert_not(live(s, K("zz"), T0 + 1000));
    bool deleted;
    cr_assert_eq(suga_store_delete(s, K("d"), T0 + 1000, &deleted), SUGA_OK);
    suga_store_stats st = stats_of(s, T0 + 1000);
    cr_assert_eq(st.entries, 1);
    cr_assert_eq(st.bytes, 1 + 3);
    cr_assert(st.max_entries == 2 && st.max_bytes == 4096);
    cr_assert(st.hits == 1 && st.misses == 2 && st.sets == 4);
    cr_assert(st.deletes == 1 && st.evictions == 1 && st.expirations == 1);
    cr_assert_eq(suga_store_reset_counters(s), SUGA_OK);
    st = stats_of(s, T0 + 1000);
    cr_assert(st.hits == 0 && st.misses == 0 && st.sets == 0 && st.deletes == 0 && st.evictions == 0 &&
              st.expirations == 0);
    cr_assert(st.entries == 1 && st.bytes == 4 && st.max_entries == 2, "entries and bounds stay");
    suga_store_free(s);
}

/* ---- independence, arguments, scale ---- */

Test(store, two_stores_share_nothing)
{
    suga_store *a = store_new(2, 4096), *b = store_new(2, 4096);
    put(a, K("k"), "\"from a\"", 0, T0);
    put(b, K("k"), "\"from b\"", 0, T0);
    put(b, K("x"), "1", 0, T0);
    put(b, K("y"), "1", 0, T0); /* evicts b's k, not a's */
    cr_assert(holds(a, K("k"), T0, "\"from a\""));
    cr_assert_not(holds(b, K("k"), T0, NULL));
    size_t n = 0;
    cr_assert_eq(suga_store_clear(b, &n), SUGA_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(suga_store_configure(b, 1, 1024, T0, NULL), SUGA_OK);
    suga_store_stats sa = stats_of(a, T0), sb = stats_of(b, T0);
    cr_assert(sa.entries == 1 && sa.max_entries == 2 && sa.evictions == 0 && sa.hits == 1);
    cr_assert(sb.entries == 0 && sb.max_entries == 1 && sb.evictions == 1 && sb.misses == 1);
    suga_store_free(b);
    cr_assert(holds(a, K("k"), T0, "\"from a\""), "freeing one leaves the other");
    suga_store_free(a);
}

Test(store, bad_arguments_are_refused)
{
    suga_store *s = NULL;
    cr_assert_eq(suga_store_new(0, 1024, &s), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_new(1, 0, &s), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_new(1, 1, NULL), SUGA_E_INVALID_ARG);
    cr_assert_null(s);
    suga_store_free(NULL);
    s = store_new(4, 1024);
    json_t *v = NULL;
    bool yes;
    size_t n, m;
    suga_store_stats st;
    cr_assert_eq(suga_store_get(NULL, K("k"), T0, &v), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_get(s, NULL, 1, T0, &v), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_get(s, K("k"), T0, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_peek(s, K("k"), T0, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_peek(s, NULL, 2, T0, &yes), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_put(NULL, K("k"), NULL, 0, T0, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_put(s, NULL, 3, NULL, 0, T0, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_delete(s, NULL, 1, T0, &yes), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_delete_prefix(s, NULL, 1, &n), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_delete_prefix(NULL, K("a"), &n), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_clear(NULL, &n), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_configure(NULL, 1, 1, T0, &n), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_bounds(s, NULL, &m), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_bounds(NULL, &n, &m), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_stats_get(s, T0, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_stats_get(NULL, T0, &st), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_reset_counters(NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_store_entry_size(1, NULL, NULL), SUGA_E_INVALID_ARG);
    st = stats_of(s, T0);
    cr_assert(st.entries == 0 && st.hits == 0 && st.misses == 0 && st.sets == 0, "refused calls count nothing");
    suga_store_free(s);
}

Test(store, many_keys_with_churn)
{
    suga_store *s = store_new(20000, 1 << 24);
    char key[32], value[16];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof key, "key-%d", i);
        snprintf(value, sizeof value, "%d", i);
        put(s, key, (size_t)n, value, i % 3 ? 0 : 30, T0);
    }
    cr_assert_eq(stats_of(s, T0).entries, 5000);
    for (int i = 0; i < 5000; i += 7) {
        int n = snprintf(key, sizeof key, "key-%d", i);
        json_t *v = NULL;
        cr_assert_eq(suga_store_get(s, key, (size_t)n, T0, &v), SUGA_OK, "%s", key);
        cr_assert(json_is_integer(v) && json_integer_value(v) == i, "%s", key);
    }
    for (int i = 0; i < 5000; i += 2) {
        int n = snprintf(key, sizeof key, "key-%d", i);
        bool deleted = false;
        cr_assert_eq(suga_store_delete(s, key, (size_t)n, T0, &deleted), SUGA_OK);
        cr_assert(deleted, "%s", key);
    }
    cr_assert_eq(stats_of(s, T0).entries, 2500);
    /* the odd keys with a TTL (i % 3 == 0) expire; the others stay */
    size_t expect = 0;
    for (int i = 1; i < 5000; i += 2)
        expect += i % 3 != 0;
    cr_assert_eq(stats_of(s, T0 + 30000).entries, expect);
    suga_store_free(s); /* with entries left: freed too (the ASan build checks) */
}
