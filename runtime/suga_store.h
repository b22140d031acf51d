/* suga_store.h: a bounded in-memory key/value store of JSON values with per-entry TTLs.
 *
 * One implementation serves every cache of the engine: the cache.* interface keeps one store,
 * the dispatcher's result cache (operations with `cache: {ttl}`) another, so neither can evict
 * the other's entries. A store is an opaque object; there is no global state, and stores share
 * nothing.
 *
 * Keys are byte strings with a length (they may contain NUL bytes). Values are deep copies of
 * the JSON passed to suga_store_put; an entry costs its key length plus the length of its
 * value's compact JSON encoding, and the store keeps at most `max_entries` entries of at most
 * `max_bytes` bytes in total. When room is needed expired entries go first (counted as
 * expirations), then the least recently used (counted as evictions).
 *
 * Time is passed in: every function that can observe expiry takes `now_ms`, a monotonic clock in
 * milliseconds chosen by the caller (tests pass a fake one). An entry set with ttl_s > 0 expires
 * at now_ms + ttl_s * 1000; ttl_s == 0 keeps it until it is evicted or deleted. Expiry is lazy:
 * an expired entry is removed when a lookup meets it, when room is needed, or by
 * suga_store_stats_get.
 *
 * Lookups, puts and deletes by key are O(1) on average (chained hash table, recency list, and a
 * min-heap of expiry times so expired entries are found without scanning live ones);
 * suga_store_delete_prefix and suga_store_clear visit every entry.
 *
 * Errors are statuses, never messages: callers know which operation failed and word it. A call
 * that fails leaves the store (entries and counters) as it was. Optional count outputs
 * (`evicted`, `deleted`, `cleared`) may be NULL; other pointers are required
 * (SUGA_E_INVALID_ARG). A key pointer may be NULL only when its length is 0.
 * Not thread-safe, like the rest of the runtime.
 */
#ifndef SUGA_STORE_H
#define SUGA_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "suga.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct suga_store suga_store;

typedef struct suga_store_stats {
    size_t entries, bytes;         /* live entries only: expired ones are purged first */
    size_t max_entries, max_bytes; /* the bounds in force */
    uint64_t hits, misses;         /* lookups by get and peek */
    uint64_t sets;                 /* successful puts, replacements included */
    uint64_t deletes;              /* entries removed by delete and delete_prefix */
    uint64_t evictions;            /* live entries pushed out to make room */
    uint64_t expirations;          /* expired entries removed (on lookup, for room, by stats) */
} suga_store_stats;

/* An empty store with the given bounds (both at least 1, else SUGA_E_INVALID_ARG). Memory for
 * entries is allocated on first put, so an unused store costs one small allocation. */
suga_status suga_store_new(size_t max_entries, size_t max_bytes, suga_store **out);

/* Release the store and every entry. NULL is fine. */
void suga_store_free(suga_store *s);

/* The live value under key: *value is borrowed (owned by the store, valid until the next call
 * that changes the store; take a reference to keep it) and must be treated as read-only.
 * SUGA_E_NOT_FOUND (and *value = NULL) when absent or expired. Counts a hit or a miss (and an
 * expiration when an expired entry is met); a hit makes the entry the most recently used. */
suga_status suga_store_get(suga_store *s, const char *key, size_t len, int64_t now_ms, json_t **value);

/* Whether a live entry is stored under key. Counted like get (hit or miss, expiration), but the
 * entry's recency is left alone: asking whether a key exists is not a use of its value. */
suga_status suga_store_peek(suga_store *s, const char *key, size_t len, int64_t now_ms, bool *live);

/* Store a deep copy of value (NULL stores JSON null) under key for ttl_s seconds, replacing any
 * entry under that key (a replacement is neither a delete nor an eviction, even when the old
 * entry had expired). *evicted = the live entries evicted to make room.
 * SUGA_E_INVALID_ARG when value cannot be encoded (it contains itself), SUGA_E_LIMIT when the
 * entry alone exceeds max_bytes, SUGA_E_NOMEM when an allocation fails. */
suga_status suga_store_put(suga_store *s, const char *key, size_t len, const json_t *value, uint32_t ttl_s,
                           int64_t now_ms, size_t *evicted);

/* Remove the live entry under key: *deleted tells whether there was one. An expired entry is
 * removed too but counts as an expiration, not a delete (*deleted = false). */
suga_status suga_store_delete(suga_store *s, const char *key, size_t len, int64_t now_ms, bool *deleted);

/* Remove every entry whose key starts with prefix[0..len) (len 0: every entry), for
 * invalidation; *deleted = how many, each counted as a delete. It takes no clock, so an expired
 * entry not yet purged is removed and counted like a live one. O(entries). */
suga_status suga_store_delete_prefix(suga_store *s, const char *prefix, size_t len, size_t *deleted);

/* Remove every entry (expired ones not yet purged included); *cleared = how many. Counters are
 * left alone (neither deletes nor evictions). */
suga_status suga_store_clear(suga_store *s, size_t *cleared);

/* Change the bounds (both at least 1); entries beyond them are evicted at once, expired ones
 * first. *evicted = the live entries evicted. */
suga_status suga_store_configure(suga_store *s, size_t max_entries, size_t max_bytes, int64_t now_ms,
                                 size_t *evicted);

/* The bounds in force; nothing is purged or counted. */
suga_status suga_store_bounds(const suga_store *s, size_t *max_entries, size_t *max_bytes);

/* Purge expired entries, then report sizes, bounds and counters. */
suga_status suga_store_stats_get(suga_store *s, int64_t now_ms, suga_store_stats *out);

/* Zero hits, misses, sets, deletes, evictions and expirations; entries and bounds stay. */
suga_status suga_store_reset_counters(suga_store *s);

/* What an entry of this key length and value costs against max_bytes: len + the length of the
 * value's compact JSON encoding (NULL counts as null). For messages about a refused put.
 * SUGA_E_INVALID_ARG when value cannot be encoded, SUGA_E_LIMIT when the sum overflows. */
suga_status suga_store_entry_size(size_t len, const json_t *value, size_t *bytes);

#ifdef __cplusplus
}
#endif

#endif
