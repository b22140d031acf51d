/* cache.c: the cache.* operations, a thin layer over one suga_store (runtime/store.c).
 *
 * The store does the data structure (hash table, LRU list, expiry heap, bounds, counters); this
 * file adds what is particular to the interface: bounds read from the configuration on first
 * use, the JSON results and the messages; time is the runtime's monotonic clock (suga_clock.h).
 *
 * Each operation builds its result object before it asks the store to change anything, so an
 * allocation failure leaves the cache as it was; counts learnt afterwards are written into
 * members that already exist (json_integer_set, or replacing a member's value, allocate nothing).
 */
#include "cache/suga_cache.h"
#include "config/suga_config.h"
#include "suga_clock.h"
#include "suga_handler_test_hooks.h"
#include "suga_ops.h"
#include "suga_store.h"
#include "utility/suga_utility.h"

static suga_store *cache_store; /* NULL until first use, and again after suga_cache_reset */

/* The store refused a request the handler believed valid (e.g. a typed caller's NULL key pointer
 * with a non-zero length: suga.h trusts typed argument structs). */
static suga_status store_failed(suga_ctx *ctx, suga_status st)
{
    return suga_fail(ctx, st, "%s: the cache store refused the request (%s)", ctx->op->name, suga_status_name(st));
}

/* Hand over the result built beforehand when the store did its part, else drop it and report. */
static suga_status deliver(suga_ctx *ctx, suga_status st, json_t *out, json_t **result)
{
    if (st != SUGA_OK) {
        json_decref(out);
        return store_failed(ctx, st);
    }
    *result = out;
    return SUGA_OK;
}

/* Create the store with the bounds from the configuration (the range accepted there is the one
 * cache.configure accepts). Nothing is latched on failure: a corrected setting makes the next
 * call succeed. */
static suga_status create_store(suga_ctx *ctx)
{
    const char *op = ctx->op->name;
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
    st = suga_store_new((size_t)entries, (size_t)bytes, &cache_store);
    if (st == SUGA_E_NOMEM)
        return suga_fail(ctx, st, "%s: out of memory creating the cache", op);
    return st == SUGA_OK ? SUGA_OK : store_failed(ctx, st);
}

/* The store, created on first use (and again after suga_cache_reset). */
static suga_status ensure_ready(suga_ctx *ctx, suga_store **out)
{
    if (!cache_store) {
        suga_status st = create_store(ctx);
        if (st != SUGA_OK)
            return st;
    }
    *out = cache_store;
    return SUGA_OK;
}

/* ---- operations ---- */

suga_status suga_handle_cache_get(suga_ctx *ctx, const suga_args_cache_get *args, json_t **result)
{
    suga_store *s;
    suga_status st = ensure_ready(ctx, &s);
    if (st != SUGA_OK)
        return st;
    json_t *value = NULL;
    st = suga_store_get(s, args->key.ptr, args->key.len, suga_clock_monotonic_ms(), &value);
    if (st == SUGA_E_NOT_FOUND)
        return SUGA_OK; /* *result stays NULL: JSON null */
    if (st != SUGA_OK)
        return store_failed(ctx, st);
    *result = json_incref(value); /* shared, read-only: see suga_cache.h */
    return SUGA_OK;
}

suga_status suga_handle_cache_exists(suga_ctx *ctx, const suga_args_cache_exists *args, json_t **result)
{
    suga_store *s;
    suga_status st = ensure_ready(ctx, &s);
    if (st != SUGA_OK)
        return st;
    bool live = false;
    st = suga_store_peek(s, args->key.ptr, args->key.len, suga_clock_monotonic_ms(), &live);
    if (st != SUGA_OK)
        return store_failed(ctx, st);
    *result = json_boolean(live);
    return SUGA_OK;
}

/* The message for a put the store refused. The entry's size is measured again here, on the
 * failure path only, so that a successful set measures the value once. */
static suga_status set_refused(suga_ctx *ctx, suga_store *s, const suga_args_cache_set *args, suga_status st)
{
    size_t bytes = 0, max_entries = 0, max_bytes = 0;
    if (suga_store_entry_size(args->key.len, args->value, &bytes) == SUGA_E_INVALID_ARG)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: value cannot be encoded as JSON (it contains itself)",
                         ctx->op->name);
    if (st == SUGA_E_LIMIT && suga_store_bounds(s, &max_entries, &max_bytes) == SUGA_OK)
        return suga_fail(ctx, st, "%s: entry of %zu bytes (key + encoded value) exceeds max_bytes %zu", ctx->op->name,
                         bytes, max_bytes);
    if (st == SUGA_E_NOMEM)
        return suga_fail(ctx, st, "%s: out of memory storing %zu bytes", ctx->op->name, bytes);
    return store_failed(ctx, st);
}

/* TTLs of typed callers are not range-checked (suga.h): a negative one keeps the value, as 0
 * does, and one beyond the store's range is capped (at 136 years). */
static uint32_t ttl_seconds(int64_t ttl)
{
    if (ttl <= 0)
        return 0;
    return ttl > UINT32_MAX ? UINT32_MAX : (uint32_t)ttl;
}

suga_status suga_handle_cache_set(suga_ctx *ctx, const suga_args_cache_set *args, json_t **result)
{
    suga_store *s;
    suga_status st = ensure_ready(ctx, &s);
    if (st != SUGA_OK)
        return st;
    json_t *out = json_pack("{s:b, s:I, s:I}", "stored", 1, "ttl", (json_int_t)args->ttl, "evicted", (json_int_t)0);
    if (!out)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the result", ctx->op->name);
    size_t evicted = 0;
    /* a typed caller may pass a NULL value: the store keeps JSON null for it */
    st = suga_store_put(s, args->key.ptr, args->key.len, args->value, ttl_seconds(args->ttl), suga_clock_monotonic_ms(),
                        &evicted);
    if (st != SUGA_OK) {
        json_decref(out);
        return set_refused(ctx, s, args, st);
    }
    json_integer_set(json_object_get(out, "evicted"), (json_int_t)evicted);
    *result = out;
    return SUGA_OK;
}

suga_status suga_handle_cache_delete(suga_ctx *ctx, const suga_args_cache_delete *args, json_t **result)
{
    suga_store *s;
    suga_status st = ensure_ready(ctx, &s);
    if (st != SUGA_OK)
        return st;
    json_t *out = json_pack("{s:b}", "deleted", 0);
    if (!out)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the result", ctx->op->name);
    bool deleted = false;
    st = suga_store_delete(s, args->key.ptr, args->key.len, suga_clock_monotonic_ms(), &deleted);
    if (deleted) /* replaces the value of an existing member: allocates nothing, cannot fail */
        json_object_set_new(out, "deleted", json_true());
    return deliver(ctx, st, out, result);
}

suga_status suga_handle_cache_clear(suga_ctx *ctx, const suga_args_cache_clear *args, json_t **result)
{
    (void)args;
    suga_store *s;
    suga_status st = ensure_ready(ctx, &s);
    if (st != SUGA_OK)
        return st;
    json_t *out = json_pack("{s:I}", "cleared", (json_int_t)0);
    if (!out)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the result", ctx->op->name);
    size_t cleared = 0;
    st = suga_store_clear(s, &cleared);
    json_integer_set(json_object_get(out, "cleared"), (json_int_t)cleared);
    return deliver(ctx, st, out, result);
}

/* Expired entries are purged first, so `entries` and `bytes` count only live ones. */
suga_status suga_handle_cache_stats(suga_ctx *ctx, const suga_args_cache_stats *args, json_t **result)
{
    (void)args;
    suga_store *s;
    suga_status st = ensure_ready(ctx, &s);
    if (st != SUGA_OK)
        return st;
    suga_store_stats c;
    st = suga_store_stats_get(s, suga_clock_monotonic_ms(), &c);
    if (st != SUGA_OK)
        return store_failed(ctx, st);
    json_t *out = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "entries", (json_int_t)c.entries,
                            "max_entries", (json_int_t)c.max_entries, "bytes", (json_int_t)c.bytes, "max_bytes",
                            (json_int_t)c.max_bytes, "hits", (json_int_t)c.hits, "misses", (json_int_t)c.misses,
                            "sets", (json_int_t)c.sets, "deletes", (json_int_t)c.deletes, "evictions",
                            (json_int_t)c.evictions, "expirations", (json_int_t)c.expirations);
    return suga_util_result(ctx, out, result);
}

suga_status suga_handle_cache_configure(suga_ctx *ctx, const suga_args_cache_configure *args, json_t **result)
{
    suga_store *s;
    suga_status st = ensure_ready(ctx, &s);
    if (st != SUGA_OK)
        return st;
    size_t max_entries = 0, max_bytes = 0; /* absent arguments keep the bounds in force */
    st = suga_store_bounds(s, &max_entries, &max_bytes);
    if (st != SUGA_OK)
        return store_failed(ctx, st);
    if (args->has_max_entries)
        max_entries = (size_t)args->max_entries;
    if (args->has_max_bytes)
        max_bytes = (size_t)args->max_bytes;
    json_t *out = json_pack("{s:I, s:I, s:I}", "max_entries", (json_int_t)max_entries, "max_bytes",
                            (json_int_t)max_bytes, "evicted", (json_int_t)0);
    if (!out)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the result", ctx->op->name);
    size_t evicted = 0;
    st = suga_store_configure(s, max_entries, max_bytes, suga_clock_monotonic_ms(), &evicted);
    json_integer_set(json_object_get(out, "evicted"), (json_int_t)evicted);
    return deliver(ctx, st, out, result);
}

/* ---- C API ---- */

suga_status suga_cache_reset(void)
{
    suga_store_free(cache_store);
    cache_store = NULL;
    return SUGA_OK;
}
