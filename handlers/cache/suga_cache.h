/* suga_cache.h: control of the in-process cache behind the cache.* operations.
 *
 * The cache maps string keys to deep copies of JSON values, bounded by an entry count and a byte
 * budget (an entry costs its key length plus the length of its value's compact JSON encoding).
 * Defaults: 1024 entries and 8 MiB, overridable with SUGA_CACHE_MAX_ENTRIES / SUGA_CACHE_MAX_BYTES
 * (read through the config module on first use) and changed at run time by cache.configure.
 * When room is needed expired entries go first, then the least recently used. The entries live
 * in a store of their own (runtime/suga_store.h), apart from the engine's result cache. TTLs are
 * measured on the runtime's monotonic clock (suga_clock.h); entries keep the expiry computed when
 * they were set.
 *
 * cache.get returns the stored value itself with one more reference (no copy, no allocation on
 * a hit): results are shared with the cache and must be treated as read-only.
 */
#ifndef SUGA_CACHE_H
#define SUGA_CACHE_H

#define SUGA_CACHE_DEFAULT_MAX_ENTRIES 1024
#define SUGA_CACHE_DEFAULT_MAX_BYTES (8 * 1024 * 1024)

#endif
