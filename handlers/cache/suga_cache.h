/* suga_cache.h: control of the in-process cache behind the cache.* operations.
 *
 * The cache maps string keys to deep copies of JSON values, bounded by an entry count and a byte
 * budget (an entry costs its key length plus the length of its value's compact JSON encoding).
 * Defaults: 1024 entries and 8 MiB, overridable with SUGA_CACHE_MAX_ENTRIES / SUGA_CACHE_MAX_BYTES
 * (read through the config module on first use) and changed at run time by cache.configure.
 * When room is needed expired entries go first, then the least recently used. The entries live
 * in a store of their own (runtime/suga_store.h), apart from the engine's result cache.
 *
 * cache.get returns the stored value itself with one more reference (no copy, no allocation on
 * a hit): results are shared with the cache and must be treated as read-only.
 */
#ifndef SUGA_CACHE_H
#define SUGA_CACHE_H

#include <stdint.h>

#include "suga.h"

#define SUGA_CACHE_DEFAULT_MAX_ENTRIES 1024
#define SUGA_CACHE_DEFAULT_MAX_BYTES (8 * 1024 * 1024)

/* The clock TTLs are measured with, in milliseconds; NULL restores CLOCK_MONOTONIC. Tests use it
 * to expire entries without sleeping. Entries keep the expiry computed when they were set. */
suga_status suga_cache_set_clock(int64_t (*now_ms)(void));

/* Drop every entry and counter and restore the default bounds (the store is freed; the next use
 * creates it again and reads the environment again), releasing all memory. The clock is left as
 * it is. */
suga_status suga_cache_reset(void);

#endif
