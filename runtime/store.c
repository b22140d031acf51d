/* store.c: the bounded key/value store behind the cache.* interface and the result cache.
 *
 * Lookups are O(1) on average through a chained hash table; recency is a doubly linked list
 * (most recent at the head); entries with a TTL also sit in a binary min-heap ordered by expiry,
 * so that when room is needed every expired entry is found without scanning live ones. Expiry is
 * otherwise lazy: an expired entry is removed when it is looked up.
 *
 * Every function that changes the store prepares what can fail (copies, allocations) before it
 * touches the structures, so a failed call leaves the store as it was.
 */
#include <stdlib.h>
#include <string.h>

#include "suga_hash.h"
#include "suga_store.h"

#define NOT_IN_HEAP SIZE_MAX
#define MIN_BUCKETS 64
#define MIN_HEAP 64
#define HASH_SEED 0x5ca1ab1ec0ffee00ull

typedef struct entry {
    struct entry *chain;         /* next entry in the same bucket */
    struct entry *newer, *older; /* recency list */
    json_t *value;
    uint64_t hash;
    int64_t expires_at; /* on the caller's clock, ms; only meaningful when `expires` */
    bool expires;       /* false: set with ttl 0, kept until evicted or deleted */
    size_t heap_index;  /* NOT_IN_HEAP when the entry has no TTL */
    size_t bytes;       /* key length + compact JSON length of the value */
    size_t key_len;
    char key[];         /* key_len bytes, not NUL-terminated: keys may contain NUL */
} entry;

typedef struct store_counters {
    uint64_t hits, misses, sets, deletes, evictions, expirations;
} store_counters;

struct suga_store {
    entry **buckets;
    size_t bucket_count; /* a power of two, or 0 before the first put */
    entry *newest, *oldest;
    entry **heap;
    size_t heap_len, heap_cap;
    size_t count, bytes;
    size_t max_entries, max_bytes;
    store_counters counters;
};

/* A key pointer may be NULL only for the empty key; it is then replaced by "" so that no
 * library function (memcmp) is ever handed a NULL pointer. */
static bool accept_key(const char **key, size_t len)
{
    if (!*key && len)
        return false;
    if (!*key)
        *key = "";
    return true;
}

/* ---- expiry heap ---- */

static void heap_place(suga_store *s, size_t i, entry *e)
{
    s->heap[i] = e;
    e->heap_index = i;
}

static void heap_sift_up(suga_store *s, size_t i)
{
    entry *e = s->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (s->heap[parent]->expires_at <= e->expires_at)
            break;
        heap_place(s, i, s->heap[parent]);
        i = parent;
    }
    heap_place(s, i, e);
}

static void heap_sift_down(suga_store *s, size_t i)
{
    entry *e = s->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= s->heap_len)
            break;
        if (child + 1 < s->heap_len && s->heap[child + 1]->expires_at < s->heap[child]->expires_at)
            child++;
        if (e->expires_at <= s->heap[child]->expires_at)
            break;
        heap_place(s, i, s->heap[child]);
        i = child;
    }
    heap_place(s, i, e);
}

/* Room for one more heap slot, so that inserting later cannot fail. */
static bool heap_reserve(suga_store *s)
{
    if (s->heap_len < s->heap_cap)
        return true;
    if (s->heap_cap > SIZE_MAX / 2 / sizeof *s->heap)
        return false;
    size_t cap = s->heap_cap ? s->heap_cap * 2 : MIN_HEAP;
    entry **heap = realloc(s->heap, cap * sizeof *heap);
    if (!heap)
        return false;
    s->heap = heap;
    s->heap_cap = cap;
    return true;
}

static void heap_push(suga_store *s, entry *e) /* room reserved by heap_reserve */
{
    heap_place(s, s->heap_len++, e);
    heap_sift_up(s, e->heap_index);
}

static void heap_remove(suga_store *s, entry *e)
{
    size_t i = e->heap_index;
    if (i == NOT_IN_HEAP)
        return;
    e->heap_index = NOT_IN_HEAP;
    entry *last = s->heap[--s->heap_len];
    if (i == s->heap_len)
        return;
    heap_place(s, i, last);
    heap_sift_up(s, i);
    heap_sift_down(s, last->heap_index);
}

/* ---- hash table and recency list ---- */

static entry **bucket_of(suga_store *s, uint64_t hash)
{
    return &s->buckets[hash & (s->bucket_count - 1)];
}

static entry *find(suga_store *s, const char *key, size_t len, uint64_t hash)
{
    if (!s->bucket_count)
        return NULL;
    for (entry *e = *bucket_of(s, hash); e; e = e->chain)
        if (e->hash == hash && e->key_len == len && suga_key_equal(e->key, key, len))
            return e;
    return NULL;
}

/* Keep at most one entry per bucket on average: double the table before it would exceed that. */
static bool buckets_reserve(suga_store *s, size_t entries)
{
    if (entries <= s->bucket_count)
        return true;
    size_t n = s->bucket_count ? s->bucket_count * 2 : MIN_BUCKETS;
    while (n < entries)
        n *= 2;
    entry **fresh = calloc(n, sizeof *fresh);
    if (!fresh)
        return false;
    for (size_t i = 0; i < s->bucket_count; i++) {
        for (entry *e = s->buckets[i], *next; e; e = next) {
            next = e->chain;
            e->chain = fresh[e->hash & (n - 1)];
            fresh[e->hash & (n - 1)] = e;
        }
    }
    free(s->buckets);
    s->buckets = fresh;
    s->bucket_count = n;
    return true;
}

static void list_unlink(suga_store *s, entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        s->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        s->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void list_push_newest(suga_store *s, entry *e)
{
    e->older = s->newest;
    e->newer = NULL;
    if (s->newest)
        s->newest->newer = e;
    s->newest = e;
    if (!s->oldest)
        s->oldest = e;
}

static void insert(suga_store *s, entry *e) /* room in buckets and heap reserved */
{
    entry **b = bucket_of(s, e->hash);
    e->chain = *b;
    *b = e;
    list_push_newest(s, e);
    if (e->expires)
        heap_push(s, e);
    s->count++;
    s->bytes += e->bytes;
}

static void entry_free(entry *e)
{
    json_decref(e->value);
    free(e);
}

static void remove_entry(suga_store *s, entry *e)
{
    entry **p = bucket_of(s, e->hash);
    while (*p != e)
        p = &(*p)->chain;
    *p = e->chain;
    list_unlink(s, e);
    heap_remove(s, e);
    s->count--;
    s->bytes -= e->bytes;
    entry_free(e);
}

static bool is_expired(const entry *e, int64_t now)
{
    return e->expires && now >= e->expires_at;
}

/* The live entry under key, or NULL; an expired one found on the way is removed. */
static entry *lookup_live(suga_store *s, const char *key, size_t len, int64_t now)
{
    entry *e = find(s, key, len, suga_fingerprint(key, len, HASH_SEED));
    if (e && is_expired(e, now)) {
        remove_entry(s, e);
        s->counters.expirations++;
        return NULL;
    }
    return e;
}

static void purge_expired(suga_store *s, int64_t now)
{
    while (s->heap_len && is_expired(s->heap[0], now)) {
        remove_entry(s, s->heap[0]);
        s->counters.expirations++;
    }
}

static bool over_bounds(const suga_store *s, size_t entries, size_t bytes)
{
    return s->count + entries > s->max_entries || s->bytes + bytes > s->max_bytes;
}

/* Make room for `entries` more entries of `bytes` more bytes: expired entries first (they count
 * as expirations), then the least recently used (evictions). Returns the number evicted. The
 * expired ones are only looked for when room is short, so a put into a store with room stays
 * O(1) however many entries have expired. */
static size_t make_room(suga_store *s, size_t entries, size_t bytes, int64_t now)
{
    if (!over_bounds(s, entries, bytes))
        return 0;
    purge_expired(s, now);
    size_t evicted = 0;
    while (s->oldest && over_bounds(s, entries, bytes)) {
        remove_entry(s, s->oldest);
        s->counters.evictions++;
        evicted++;
    }
    return evicted;
}

static size_t drop_all(suga_store *s)
{
    size_t n = s->count;
    while (s->oldest)
        remove_entry(s, s->oldest);
    return n;
}

/* ---- life cycle ---- */

static bool bounds_ok(size_t max_entries, size_t max_bytes)
{
    /* 0 would leave no room even for the entry being put, which make_room could not honour */
    return max_entries > 0 && max_bytes > 0;
}

suga_status suga_store_new(size_t max_entries, size_t max_bytes, suga_store **out)
{
    if (!out || !bounds_ok(max_entries, max_bytes))
        return SUGA_E_INVALID_ARG;
    suga_store *s = calloc(1, sizeof *s);
    if (!s)
        return SUGA_E_NOMEM;
    s->max_entries = max_entries;
    s->max_bytes = max_bytes;
    *out = s;
    return SUGA_OK;
}

void suga_store_free(suga_store *s)
{
    if (!s)
        return;
    drop_all(s);
    free(s->buckets);
    free(s->heap);
    free(s);
}

/* ---- lookups ---- */

suga_status suga_store_get(suga_store *s, const char *key, size_t len, int64_t now_ms, json_t **value)
{
    if (!s || !accept_key(&key, len) || !value)
        return SUGA_E_INVALID_ARG;
    *value = NULL;
    entry *e = lookup_live(s, key, len, now_ms);
    if (!e) {
        s->counters.misses++;
        return SUGA_E_NOT_FOUND;
    }
    s->counters.hits++;
    list_unlink(s, e);
    list_push_newest(s, e);
    *value = e->value;
    return SUGA_OK;
}

suga_status suga_store_peek(suga_store *s, const char *key, size_t len, int64_t now_ms, bool *live)
{
    if (!s || !accept_key(&key, len) || !live)
        return SUGA_E_INVALID_ARG;
    entry *e = lookup_live(s, key, len, now_ms);
    if (e)
        s->counters.hits++;
    else
        s->counters.misses++;
    *live = e != NULL;
    return SUGA_OK;
}

/* ---- put ---- */

suga_status suga_store_entry_size(size_t len, const json_t *value, size_t *bytes)
{
    if (!bytes)
        return SUGA_E_INVALID_ARG;
    size_t value_bytes = 4; /* "null" */
    if (value) {
        /* with no buffer, json_dumpb only measures; every JSON text is at least one byte long */
        value_bytes = json_dumpb(value, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
        if (value_bytes == 0)
            return SUGA_E_INVALID_ARG;
    }
    if (value_bytes > SIZE_MAX - len)
        return SUGA_E_LIMIT;
    *bytes = len + value_bytes;
    return SUGA_OK;
}

/* The expiry of an entry put at `now` for ttl_s seconds, saturating instead of overflowing on a
 * clock near the end of int64_t (the clock is the caller's). */
static int64_t expiry_of(int64_t now, uint32_t ttl_s)
{
    int64_t ttl_ms = (int64_t)ttl_s * 1000;
    return now > INT64_MAX - ttl_ms ? INT64_MAX : now + ttl_ms;
}

/* The new entry, with everything it needs allocated (room in the buckets and the heap
 * included); nothing the store holds is changed. */
static suga_status prepare_entry(suga_store *s, const char *key, size_t len, const json_t *value, uint32_t ttl_s,
                                 int64_t now, entry **out)
{
    size_t bytes;
    suga_status st = suga_store_entry_size(len, value, &bytes);
    if (st != SUGA_OK)
        return st;
    if (bytes > s->max_bytes)
        return SUGA_E_LIMIT;
    if (len > SIZE_MAX - sizeof(entry))
        return SUGA_E_NOMEM;
    entry *e = malloc(sizeof *e + len);
    json_t *copy = value ? json_deep_copy(value) : json_null();
    bool reserved = buckets_reserve(s, s->count + 1) && (ttl_s == 0 || heap_reserve(s));
    if (!e || !copy || !reserved) {
        free(e);
        json_decref(copy);
        return SUGA_E_NOMEM;
    }
    *e = (entry){
        .value = copy,
        .hash = suga_fingerprint(key, len, HASH_SEED),
        .expires_at = ttl_s ? expiry_of(now, ttl_s) : 0,
        .expires = ttl_s > 0,
        .heap_index = NOT_IN_HEAP,
        .bytes = bytes,
        .key_len = len,
    };
    memcpy(e->key, key, len);
    *out = e;
    return SUGA_OK;
}

suga_status suga_store_put(suga_store *s, const char *key, size_t len, const json_t *value, uint32_t ttl_s,
                           int64_t now_ms, size_t *evicted)
{
    if (!s || !accept_key(&key, len))
        return SUGA_E_INVALID_ARG;
    entry *e = NULL;
    suga_status st = prepare_entry(s, key, len, value, ttl_s, now_ms, &e);
    if (st != SUGA_OK)
        return st;
    entry *old = find(s, e->key, e->key_len, e->hash);
    if (old) /* replaced, not deleted, evicted or expired */
        remove_entry(s, old);
    size_t n = make_room(s, 1, e->bytes, now_ms);
    insert(s, e);
    s->counters.sets++;
    if (evicted)
        *evicted = n;
    return SUGA_OK;
}

/* ---- removal ---- */

suga_status suga_store_delete(suga_store *s, const char *key, size_t len, int64_t now_ms, bool *deleted)
{
    if (!s || !accept_key(&key, len))
        return SUGA_E_INVALID_ARG;
    entry *e = lookup_live(s, key, len, now_ms);
    if (e) {
        remove_entry(s, e);
        s->counters.deletes++;
    }
    if (deleted)
        *deleted = e != NULL;
    return SUGA_OK;
}

static bool has_prefix(const entry *e, const char *prefix, size_t len)
{
    return e->key_len >= len && memcmp(e->key, prefix, len) == 0;
}

suga_status suga_store_delete_prefix(suga_store *s, const char *prefix, size_t len, size_t *deleted)
{
    if (!s || !accept_key(&prefix, len))
        return SUGA_E_INVALID_ARG;
    size_t n = 0;
    for (entry *e = s->oldest, *newer; e; e = newer) {
        newer = e->newer; /* read before e is freed */
        if (has_prefix(e, prefix, len)) {
            remove_entry(s, e);
            n++;
        }
    }
    s->counters.deletes += n;
    if (deleted)
        *deleted = n;
    return SUGA_OK;
}

suga_status suga_store_clear(suga_store *s, size_t *cleared)
{
    if (!s)
        return SUGA_E_INVALID_ARG;
    size_t n = drop_all(s);
    if (cleared)
        *cleared = n;
    return SUGA_OK;
}

/* ---- bounds and statistics ---- */

suga_status suga_store_configure(suga_store *s, size_t max_entries, size_t max_bytes, int64_t now_ms,
                                 size_t *evicted)
{
    if (!s || !bounds_ok(max_entries, max_bytes))
        return SUGA_E_INVALID_ARG;
    s->max_entries = max_entries;
    s->max_bytes = max_bytes;
    size_t n = make_room(s, 0, 0, now_ms);
    if (evicted)
        *evicted = n;
    return SUGA_OK;
}

suga_status suga_store_bounds(const suga_store *s, size_t *max_entries, size_t *max_bytes)
{
    if (!s || !max_entries || !max_bytes)
        return SUGA_E_INVALID_ARG;
    *max_entries = s->max_entries;
    *max_bytes = s->max_bytes;
    return SUGA_OK;
}

suga_status suga_store_stats_get(suga_store *s, int64_t now_ms, suga_store_stats *out)
{
    if (!s || !out)
        return SUGA_E_INVALID_ARG;
    purge_expired(s, now_ms);
    const store_counters *c = &s->counters;
    *out = (suga_store_stats){
        .entries = s->count,
        .bytes = s->bytes,
        .max_entries = s->max_entries,
        .max_bytes = s->max_bytes,
        .hits = c->hits,
        .misses = c->misses,
        .sets = c->sets,
        .deletes = c->deletes,
        .evictions = c->evictions,
        .expirations = c->expirations,
    };
    return SUGA_OK;
}

suga_status suga_store_reset_counters(suga_store *s)
{
    if (!s)
        return SUGA_E_INVALID_ARG;
    s->counters = (store_counters){0};
    return SUGA_OK;
}
