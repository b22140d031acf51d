/* result_cache.c: cache-first for operations declared with `cache: {ttl: N}`.
 *
 * A call by name of such an operation first looks up its result under (operation, canonical
 * arguments). A hit answers at once: no decoding, no handler, and no loading of a lazy module.
 * A successful call stores its result for ttl seconds. A successful call of an operation that
 * declares `invalidates: [...]` clears the cached results of those operations (all arguments).
 * The entries live in their own bounded store (runtime/store.c), separate from the cache.*
 * interface's, so neither can evict the other's entries.
 */
#include <stdlib.h>
#include <string.h>

#include "suga_clock.h"
#include "suga_internal.h"
#include "suga_store.h"

enum {
    RESULT_CACHE_MAX_ENTRIES = 1024,
    RESULT_CACHE_MAX_BYTES = 4 * 1024 * 1024,
};

static uint64_t hits_total;

uint64_t suga_result_cache_hit_count(void)
{
    return hits_total;
}

static suga_status store_of(const suga_table *t, suga_store **out)
{
    if (!t->result_store)
        return SUGA_E_INTERNAL;
    if (!*t->result_store) {
        suga_status st = suga_store_new(RESULT_CACHE_MAX_ENTRIES, RESULT_CACHE_MAX_BYTES, t->result_store);
        if (st != SUGA_OK)
            return st;
    }
    *out = *t->result_store;
    return SUGA_OK;
}

suga_status suga_result_cache_key(const suga_op *op, json_t *args, char **key, size_t *len)
{
    char *canonical = args ? json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    const char *text = canonical ? canonical : "{}";
    if (args && !canonical)
        return SUGA_E_NOMEM;
    size_t name_len = strlen(op->name), text_len = strlen(text);
    char *k = malloc(name_len + 1 + text_len + 1);
    if (k) {
        memcpy(k, op->name, name_len + 1); /* the NUL separates name and arguments */
        memcpy(k + name_len + 1, text, text_len + 1);
        *key = k;
        *len = name_len + 1 + text_len;
    }
    free(canonical);
    return k ? SUGA_OK : SUGA_E_NOMEM;
}

suga_status suga_result_cache_lookup(const suga_table *t, const suga_op *op, const char *key, size_t len,
                                     json_t **result)
{
    suga_store *store;
    suga_status st = store_of(t, &store);
    if (st != SUGA_OK)
        return st;
    json_t *value = NULL;
    st = suga_store_get(store, key, len, suga_clock_monotonic_ms(), &value);
    if (st != SUGA_OK)
        return st;
    *result = json_incref(value);
    t->stats[op->id].calls++;
    t->stats[op->id].cache_hits++;
    hits_total++;
    if (op->lazy_handler && !*op->lazy_handler) /* answered without loading the module */
        t->module_states[op->module].hits_without_load++;
    return SUGA_OK;
}

suga_status suga_result_cache_store(const suga_table *t, const suga_op *op, const char *key, size_t len,
                                    const json_t *value)
{
    suga_store *store;
    suga_status st = store_of(t, &store);
    if (st != SUGA_OK)
        return st;
    size_t evicted = 0;
    json_t *null_value = value ? NULL : json_null();
    st = suga_store_put(store, key, len, value ? value : null_value, op->cache_ttl, suga_clock_monotonic_ms(),
                        &evicted);
    json_decref(null_value);
    return st;
}

suga_status suga_result_cache_invalidate(const suga_table *t, const suga_op *writer)
{
    if (!t || !writer)
        return SUGA_E_INVALID_ARG;
    if (!t->result_store || !*t->result_store)
        return SUGA_OK; /* nothing was ever cached */
    for (uint16_t i = 0; i < writer->invalidate_count; i++) {
        const suga_op *target = &t->ops[writer->invalidates[i]];
        size_t deleted = 0;
        /* the name with its NUL separator: "a.b" must not clear "a.bc" */
        suga_status st = suga_store_delete_prefix(*t->result_store, target->name, strlen(target->name) + 1, &deleted);
        if (st != SUGA_OK)
            return st;
    }
    return SUGA_OK;
}

suga_status suga_result_cache_put(const suga_table *t, const suga_op *op, json_t *args, const json_t *value)
{
    if (!t || !op || !op->has_cache)
        return SUGA_E_INVALID_ARG;
    char *key = NULL;
    size_t len = 0;
    suga_status st = suga_result_cache_key(op, args, &key, &len);
    if (st == SUGA_OK)
        st = suga_result_cache_store(t, op, key, len, value);
    free(key);
    return st;
}

suga_status suga_result_cache_forget(const suga_table *t, const suga_op *op, json_t *args)
{
    if (!t || !op)
        return SUGA_E_INVALID_ARG;
    if (!t->result_store || !*t->result_store)
        return SUGA_OK; /* nothing was ever cached */
    char *key = NULL;
    size_t len = 0;
    suga_status st = suga_result_cache_key(op, args, &key, &len);
    if (st == SUGA_OK)
        st = suga_store_delete(*t->result_store, key, len, suga_clock_monotonic_ms(), NULL);
    free(key);
    return st;
}
