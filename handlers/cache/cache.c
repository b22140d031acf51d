/* cache.c: the cache.* operations over a chained hash table, an LRU list and an expiry heap.
 *
 * Lookups are O(1) on average through the hash table; recency is a doubly linked list (most
 * recent at the head); entries with a TTL also sit in a binary min-heap ordered by expiry, so
 * that when room is needed every expired entry is found without scanning live ones. Expiry is
 * otherwise lazy: an expired entry is removed when it is looked up.
 *
 * Every operation that changes the cache prepares what can fail (copies, allocations, the result
 * object) before it touches the structures, so a failed call leaves the cache as it was.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/suga_cache.h"
#include "config/suga_config.h"
#include "suga_hash.h"
#include "suga_ops.h"
#include "utility/suga_utility.h"

#define NOT_IN_HEAP SIZE_MAX
#define MIN_BUCKETS 64
#define HASH_SEED 0x5ca1ab1ec0ffee00ull

typedef struct entry {
    struct entry *chain;         /* next entry in the same bucket */
    struct entry *newer, *older; /* recency list */
    json_t *value;
    uint64_t hash;
    int64_t expires_at; /* on the cache clock, ms; 0 = never */
    size_t heap_index;  /* NOT_IN_HEAP when the entry has no TTL */
    size_t bytes;       /* key length + compact JSON length of the value */
    size_t key_len;
    char key[];
} entry;

typedef struct cache_counters {
    uint64_t hits, misses, sets, deletes, evictions, expirations;
} cache_counters;

static struct {
    bool ready; /* bounds read from the configuration */
    entry **buckets;
    size_t bucket_count; /* a power of two, or 0 before the first set */
    entry *newest, *oldest;
    entry **heap;
    size_t heap_len, heap_cap;
    size_t count, bytes;
    size_t max_entries, max_bytes;
    cache_counters counters;
} cache;

static int64_t (*cache_clock)(void); /* NULL = CLOCK_MONOTONIC; survives suga_cache_reset */

static int64_t now_ms(void)
{
    if (cache_clock)
        return cache_clock();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* cannot fail for CLOCK_MONOTONIC on Linux */
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- set-up ---- */

/* The bounds accepted from the environment are those cache.configure accepts. */
static suga_status ensure_ready(suga_ctx *ctx, const char *op)
{
    if (cache.ready)
        return SUGA_OK;
    suga_ctx local;
    suga_ctx_init(&local);
    int64_t entries = 0, bytes = 0;
    suga_status st = suga_config_get_int("SUGA_CACHE_MAX_ENTRIES", SUGA_CACHE_DEFAULT_MAX_ENTRIES, 1, 1000000,
                                         &entries, &local);
    if (st == SUGA_OK)
        st = suga_config_get_int("SUGA_CACHE_MAX_BYTES", SUGA_CACHE_DEFAULT_MAX_BYTES, 1024, 1073741824, &bytes,
                                 &local);
    if (st != SUGA_OK)
        return suga_fail(ctx, st, "%s: cannot size the cache: %s", op, local.error);
    cache.max_entries = (size_t)entries;
    cache.max_bytes = (size_t)bytes;
    cache.ready = true;
    return SUGA_OK;
}

/* ---- expiry heap ---- */

static void heap_place(size_t i, entry *e)
{
    cache.heap[i] = e;
    e->heap_index = i;
}

static void heap_sift_up(size_t i)
{
    entry *e = cache.heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (cache.heap[parent]->expires_at <= e->expires_at)
            break;
        heap_place(i, cache.heap[parent]);
        i = parent;
    }
    heap_place(i, e);
}

static void heap_sift_down(size_t i)
{
    entry *e = cache.heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= cache.heap_len)
            break;
        if (child + 1 < cache.heap_len && cache.heap[child + 1]->expires_at < cache.heap[child]->expires_at)
            child++;
        if (e->expires_at <= cache.heap[child]->expires_at)
            break;
        heap_place(i, cache.heap[child]);
        i = child;
    }
    heap_place(i, e);
}

static bool heap_reserve(void)
{
    if (cache.heap_len < cache.heap_cap)
        return true;
    size_t cap = cache.heap_cap ? cache.heap_cap * 2 : 64;
    entry **heap = realloc(cache.heap, cap * sizeof *heap);
    if (!heap)
        return false;
    cache.heap = heap;
    cache.heap_cap = cap;
    return true;
}

static void heap_push(entry *e) /* room reserved by heap_reserve */
{
    heap_place(cache.heap_len++, e);
    heap_sift_up(e->heap_index);
}

static void heap_remove(entry *e)
{
    size_t i = e->heap_index;
    if (i == NOT_IN_HEAP)
        return;
    e->heap_index = NOT_IN_HEAP;
    entry *last = cache.heap[--cache.heap_len];
    if (i == cache.heap_len)
        return;
    heap_place(i, last);
    heap_sift_up(i);
    heap_sift_down(last->heap_index);
}

/* ---- hash table and recency list ---- */

static entry **bucket_of(uint64_t hash)
{
    return &cache.buckets[hash & (cache.bucket_count - 1)];
}

static entry *find(const char *key, size_t len, uint64_t hash)
{
    if (!cache.bucket_count)
        return NULL;
    for (entry *e = *bucket_of(hash); e; e = e->chain)
        if (e->hash == hash && e->key_len == len && suga_key_equal(e->key, key, len))
            return e;
    return NULL;
}

/* Keep at most one entry per bucket on average: double the table before it would exceed that. */
static bool buckets_reserve(size_t entries)
{
    if (entries <= cache.bucket_count)
        return true;
    size_t n = cache.bucket_count ? cache.bucket_count * 2 : MIN_BUCKETS;
    while (n < entries)
        n *= 2;
    entry **fresh = calloc(n, sizeof *fresh);
    if (!fresh)
        return false;
    for (size_t i = 0; i < cache.bucket_count; i++) {
        for (entry *e = cache.buckets[i], *next; e; e = next) {
            next = e->chain;
            e->chain = fresh[e->hash & (n - 1)];
            fresh[e->hash & (n - 1)] = e;
        }
    }
    free(cache.buckets);
    cache.buckets = fresh;
    cache.bucket_count = n;
    return true;
}

static void list_unlink(entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        cache.newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        cache.oldest = e->newer;
    e->newer = e->older = NULL;
}

static void list_push_newest(entry *e)
{
    e->older = cache.newest;
    e->newer = NULL;
    if (cache.newest)
        cache.newest->newer = e;
    cache.newest = e;
    if (!cache.oldest)
        cache.oldest = e;
}

static void insert(entry *e) /* room in buckets and heap reserved */
{
    entry **b = bucket_of(e->hash);
    e->chain = *b;
    *b = e;
    list_push_newest(e);
    if (e->expires_at)
        heap_push(e);
    cache.count++;
    cache.bytes += e->bytes;
}

static void remove_entry(entry *e)
{
    entry **p = bucket_of(e->hash);
    while (*p != e)
        p = &(*p)->chain;
    *p = e->chain;
    list_unlink(e);
    heap_remove(e);
    cache.count--;
    cache.bytes -= e->bytes;
    json_decref(e->value);
    free(e);
}

static bool is_expired(const entry *e, int64_t now)
{
    return e->expires_at && now >= e->expires_at;
}

/* The live entry under key, or NULL; an expired one found on the way is removed. */
static entry *lookup_live(suga_str key, int64_t now)
{
    entry *e = find(key.ptr, key.len, suga_fingerprint(key.ptr, key.len, HASH_SEED));
    if (e && is_expired(e, now)) {
        remove_entry(e);
        cache.counters.expirations++;
        return NULL;
    }
    return e;
}

static void purge_expired(int64_t now)
{
    while (cache.heap_len && is_expired(cache.heap[0], now)) {
        remove_entry(cache.heap[0]);
        cache.counters.expirations++;
    }
}

/* Make room for `entries` more entries of `bytes` more bytes: expired entries first (they count
 * as expirations), then the least recently used (evictions). Returns the number evicted. */
static size_t make_room(size_t entries, size_t bytes, int64_t now)
{
    bool full = cache.count + entries > cache.max_entries || cache.bytes + bytes > cache.max_bytes;
    if (!full)
        return 0;
    purge_expired(now);
    size_t evicted = 0;
    while (cache.oldest && (cache.count + entries > cache.max_entries || cache.bytes + bytes > cache.max_bytes)) {
        remove_entry(cache.oldest);
        cache.counters.evictions++;
        evicted++;
    }
    return evicted;
}

static void drop_all(void)
{
    while (cache.oldest)
        remove_entry(cache.oldest);
}

/* ---- operations ---- */

suga_status cache_get(suga_ctx *ctx, const suga_args_cache_get *args, json_t **result)
{
    suga_status st = ensure_ready(ctx, "cache.get");
    if (st != SUGA_OK)
        return st;
    entry *e = lookup_live(args->key, now_ms());
    if (!e) {
        cache.counters.misses++;
        return SUGA_OK;
    }
    cache.counters.hits++;
    list_unlink(e);
    list_push_newest(e);
    *result = json_incref(e->value); /* shared, read-only: see suga_cache.h */
    return SUGA_OK;
}

/* Recency is left alone: asking whether a key exists is not a use of its value. */
suga_status cache_exists(suga_ctx *ctx, const suga_args_cache_exists *args, json_t **result)
{
    suga_status st = ensure_ready(ctx, "cache.exists");
    if (st != SUGA_OK)
        return st;
    entry *e = lookup_live(args->key, now_ms());
    if (e)
        cache.counters.hits++;
    else
        cache.counters.misses++;
    *result = json_boolean(e != NULL);
    return SUGA_OK;
}

/* The new entry, with everything it needs allocated; nothing in the cache is changed. */
static suga_status prepare_entry(suga_ctx *ctx, const suga_args_cache_set *args, entry **out)
{
    json_t *value = args->value ? args->value : json_null(); /* a typed caller may pass NULL */
    size_t value_bytes;
    if (suga_util_json_size(value, &value_bytes) != SUGA_OK)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "cache.set: value cannot be encoded as JSON (it contains itself)");
    size_t bytes = args->key.len + value_bytes;
    if (bytes > cache.max_bytes)
        return suga_fail(ctx, SUGA_E_LIMIT, "cache.set: entry of %zu bytes (key + encoded value) exceeds max_bytes %zu",
                         bytes, cache.max_bytes);
    entry *e = malloc(sizeof *e + args->key.len + 1);
    json_t *copy = json_deep_copy(value);
    bool reserved = buckets_reserve(cache.count + 1) && (args->ttl == 0 || heap_reserve());
    if (!e || !copy || !reserved) {
        free(e);
        json_decref(copy);
        return suga_fail(ctx, SUGA_E_NOMEM, "cache.set: out of memory storing %zu bytes", bytes);
    }
    *e = (entry){
        .value = copy,
        .hash = suga_fingerprint(args->key.ptr, args->key.len, HASH_SEED),
        .heap_index = NOT_IN_HEAP,
        .bytes = bytes,
        .key_len = args->key.len,
    };
    memcpy(e->key, args->key.ptr, args->key.len);
    e->key[args->key.len] = '\0';
    *out = e;
    return SUGA_OK;
}

suga_status cache_set(suga_ctx *ctx, const suga_args_cache_set *args, json_t **result)
{
    suga_status st = ensure_ready(ctx, "cache.set");
    entry *e = NULL;
    if (st == SUGA_OK)
        st = prepare_entry(ctx, args, &e);
    if (st != SUGA_OK)
        return st;
    json_t *out = json_pack("{s:b, s:I, s:I}", "stored", 1, "ttl", (json_int_t)args->ttl, "evicted", (json_int_t)0);
    if (!out) {
        json_decref(e->value);
        free(e);
        return suga_fail(ctx, SUGA_E_NOMEM, "cache.set: out of memory building the result");
    }
    int64_t now = now_ms();
    entry *old = find(e->key, e->key_len, e->hash);
    if (old) /* replaced, not deleted or evicted */
        remove_entry(old);
    e->expires_at = args->ttl > 0 ? now + args->ttl * 1000 : 0;
    size_t evicted = make_room(1, e->bytes, now);
    insert(e);
    cache.counters.sets++;
    json_integer_set(json_object_get(out, "evicted"), (json_int_t)evicted);
    *result = out;
    return SUGA_OK;
}

suga_status cache_delete(suga_ctx *ctx, const suga_args_cache_delete *args, json_t **result)
{
    suga_status st = ensure_ready(ctx, "cache.delete");
    if (st != SUGA_OK)
        return st;
    entry *e = lookup_live(args->key, now_ms());
    json_t *out = json_pack("{s:b}", "deleted", e != NULL);
    if (!out)
        return suga_fail(ctx, SUGA_E_NOMEM, "cache.delete: out of memory building the result");
    if (e) {
        remove_entry(e);
        cache.counters.deletes++;
    }
    *result = out;
    return SUGA_OK;
}

suga_status cache_clear(suga_ctx *ctx, const suga_args_cache_clear *args, json_t **result)
{
    (void)args;
    suga_status st = ensure_ready(ctx, "cache.clear");
    if (st != SUGA_OK)
        return st;
    json_t *out = json_pack("{s:I}", "cleared", (json_int_t)cache.count);
    if (!out)
        return suga_fail(ctx, SUGA_E_NOMEM, "cache.clear: out of memory building the result");
    drop_all();
    *result = out;
    return SUGA_OK;
}

/* Expired entries are purged first, so `entries` and `bytes` count only live ones. */
suga_status cache_stats(suga_ctx *ctx, const suga_args_cache_stats *args, json_t **result)
{
    (void)args;
    suga_status st = ensure_ready(ctx, "cache.stats");
    if (st != SUGA_OK)
        return st;
    purge_expired(now_ms());
    const cache_counters *c = &cache.counters;
    json_t *out = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "entries", (json_int_t)cache.count,
                            "max_entries", (json_int_t)cache.max_entries, "bytes", (json_int_t)cache.bytes,
                            "max_bytes", (json_int_t)cache.max_bytes, "hits", (json_int_t)c->hits, "misses",
                            (json_int_t)c->misses, "sets", (json_int_t)c->sets, "deletes", (json_int_t)c->deletes,
                            "evictions", (json_int_t)c->evictions, "expirations", (json_int_t)c->expirations);
    return suga_util_result(ctx, "cache.stats", out, result);
}

suga_status cache_configure(suga_ctx *ctx, const suga_args_cache_configure *args, json_t **result)
{
    suga_status st = ensure_ready(ctx, "cache.configure");
    if (st != SUGA_OK)
        return st;
    size_t max_entries = args->has_max_entries ? (size_t)args->max_entries : cache.max_entries;
    size_t max_bytes = args->has_max_bytes ? (size_t)args->max_bytes : cache.max_bytes;
    json_t *out = json_pack("{s:I, s:I, s:I}", "max_entries", (json_int_t)max_entries, "max_bytes",
                            (json_int_t)max_bytes, "evicted", (json_int_t)0);
    if (!out)
        return suga_fail(ctx, SUGA_E_NOMEM, "cache.configure: out of memory building the result");
    cache.max_entries = max_entries;
    cache.max_bytes = max_bytes;
    size_t evicted = make_room(0, 0, now_ms());
    json_integer_set(json_object_get(out, "evicted"), (json_int_t)evicted);
    *result = out;
    return SUGA_OK;
}

/* ---- C API ---- */

suga_status suga_cache_set_clock(int64_t (*now)(void))
{
    cache_clock = now;
    return SUGA_OK;
}

suga_status suga_cache_reset(void)
{
    drop_all();
    free(cache.buckets);
    free(cache.heap);
    memset(&cache, 0, sizeof cache);
    return SUGA_OK;
}
