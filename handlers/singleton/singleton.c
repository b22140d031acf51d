/* singleton.c: the registry of named process-wide instances (JSON and native).
 *
 * The registry is an array sorted by name: instances are few and long-lived, lookups are a
 * binary search, and singleton.list comes out sorted for free.
 */
#include <stdlib.h>
#include <string.h>

#include "singleton/suga_singleton.h"
#include "suga_clock.h"
#include "suga_ops.h"
#include "utility/suga_utility.h"

#define MAX_NESTING 16

typedef enum instance_kind {
    KIND_JSON = 0,
    KIND_NATIVE,
} instance_kind;

static const char *const kind_names[] = {[KIND_JSON] = "json", [KIND_NATIVE] = "native"};

typedef struct instance {
    char *name;
    instance_kind kind;
    json_t *value; /* KIND_JSON */
    void *native;  /* KIND_NATIVE */
    suga_singleton_destroy_fn destroy;
    int64_t created_ms; /* wall clock, for humans reading singleton.list */
    uint64_t uses;
    uint64_t seq; /* creation order: drop_all destroys the newest first */
    size_t bytes;
} instance;

static struct {
    instance *items; /* sorted by name */
    size_t count, cap;
    uint64_t next_seq;
    const char *creating[MAX_NESTING]; /* names whose create function is running */
    size_t depth;
} registry;

/* ---- registry ---- */

/* The instance named name, or NULL with *pos where it would be inserted. */
static instance *find(const char *name, size_t *pos)
{
    size_t lo = 0, hi = registry.count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, registry.items[mid].name);
        if (c == 0) {
            *pos = mid;
            return &registry.items[mid];
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *pos = lo;
    return NULL;
}

static bool being_created(const char *name)
{
    for (size_t i = 0; i < registry.depth; i++)
        if (!strcmp(registry.creating[i], name))
            return true;
    return false;
}

static bool reserve(void)
{
    if (registry.count < registry.cap)
        return true;
    size_t cap = registry.cap ? registry.cap * 2 : 16;
    instance *items = realloc(registry.items, cap * sizeof *items);
    if (!items)
        return false;
    registry.items = items;
    registry.cap = cap;
    return true;
}

/* Registers `it` (its name already allocated); on failure the registry is unchanged. */
static suga_status insert(instance it)
{
    size_t pos;
    if (find(it.name, &pos))
        return SUGA_E_STATE;
    if (!reserve())
        return SUGA_E_NOMEM;
    memmove(&registry.items[pos + 1], &registry.items[pos], (registry.count - pos) * sizeof registry.items[0]);
    it.seq = registry.next_seq++;
    registry.items[pos] = it;
    registry.count++;
    return SUGA_OK;
}

/* Takes the instance out of the registry before destroying it, so a destroy function may use
 * the registry (drop another instance, look one up) without seeing a half-dead entry. */
static void drop_at(size_t pos)
{
    instance it = registry.items[pos];
    memmove(&registry.items[pos], &registry.items[pos + 1], (registry.count - pos - 1) * sizeof registry.items[0]);
    registry.count--;
    free(it.name);
    json_decref(it.value);
    if (it.kind == KIND_NATIVE && it.destroy)
        it.destroy(it.native);
}

/* ---- C API ---- */

static suga_status create_native(const char *name, suga_singleton_create_fn create, void *arg,
                                 suga_singleton_destroy_fn destroy, void **out)
{
    if (!create)
        return SUGA_E_INVALID_ARG;
    if (registry.depth >= MAX_NESTING)
        return SUGA_E_LIMIT;
    registry.creating[registry.depth++] = name;
    void *made = NULL;
    size_t bytes = 0;
    suga_status st = create(arg, &made, &bytes);
    registry.depth--;
    if (st != SUGA_OK)
        return st;
    instance it = {
        .name = strdup(name),
        .kind = KIND_NATIVE,
        .native = made,
        .destroy = destroy,
        .created_ms = suga_clock_wall_ms(),
        .uses = 1,
        .bytes = bytes,
    };
    /* create may have made other instances, so the registry is searched again by insert */
    st = it.name ? insert(it) : SUGA_E_NOMEM;
    if (st != SUGA_OK) {
        free(it.name);
        if (destroy)
            destroy(made);
        return st;
    }
    *out = made;
    return SUGA_OK;
}

suga_status suga_singleton_get_native(const char *name, suga_singleton_create_fn create, void *arg,
                                      suga_singleton_destroy_fn destroy, void **out)
{
    if (!name || !*name || strlen(name) > SUGA_SINGLETON_MAX_NAME || !out)
        return SUGA_E_INVALID_ARG;
    size_t pos;
    instance *it = find(name, &pos);
    if (it) {
        if (it->kind != KIND_NATIVE)
            return SUGA_E_STATE;
        it->uses++;
        *out = it->native;
        return SUGA_OK;
    }
    if (being_created(name))
        return SUGA_E_STATE;
    return create_native(name, create, arg, destroy, out);
}

suga_status suga_singleton_drop_all(void)
{
    while (registry.count) {
        size_t newest = 0;
        for (size_t i = 1; i < registry.count; i++)
            if (registry.items[i].seq > registry.items[newest].seq)
                newest = i;
        drop_at(newest);
    }
    free(registry.items);
    registry.items = NULL;
    registry.cap = 0;
    registry.next_seq = 0;
    return SUGA_OK;
}

/* ---- operations ---- */

static json_t *describe_get(const instance *it, bool created)
{
    return json_pack("{s:s, s:s, s:O?, s:b, s:I}", "name", it->name, "kind", kind_names[it->kind], "value", it->value,
                     "created", created, "uses", (json_int_t)it->uses);
}

static suga_status create_json(suga_ctx *ctx, const char *name, json_t *init, json_t **result)
{
    json_t *value = json_deep_copy(init ? init : json_null());
    size_t bytes = 0;
    if (value && suga_util_json_size(value, &bytes) != SUGA_OK) {
        json_decref(value);
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: init for '%s' cannot be encoded as JSON", ctx->op->name, name);
    }
    instance it = {
        .name = strdup(name),
        .kind = KIND_JSON,
        .value = value,
        .created_ms = suga_clock_wall_ms(),
        .uses = 1,
        .bytes = bytes,
    };
    json_t *out = it.name && value ? describe_get(&it, true) : NULL;
    if (!out || insert(it) != SUGA_OK) { /* absent was checked by the caller: only memory can fail */
        json_decref(out);
        json_decref(value);
        free(it.name);
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory creating '%s'", ctx->op->name, name);
    }
    *result = out;
    return SUGA_OK;
}

/* The value in the result is the instance's own (one more reference, no copy): treat it as
 * read-only, as with cache.get. */
suga_status suga_handle_singleton_get(suga_ctx *ctx, const suga_args_singleton_get *args, json_t **result)
{
    const char *name = args->name.ptr;
    size_t pos;
    instance *it = find(name, &pos);
    if (it) {
        it->uses++;
        return suga_util_result(ctx, describe_get(it, false), result);
    }
    if (being_created(name))
        return suga_fail(ctx, SUGA_E_STATE, "%s: instance '%s' is still being created", ctx->op->name, name);
    if (!args->has_init)
        return suga_fail(ctx, SUGA_E_NOT_FOUND, "%s: no instance '%s' and no 'init' to create it", ctx->op->name, name);
    return create_json(ctx, name, args->init, result);
}

suga_status suga_handle_singleton_drop(suga_ctx *ctx, const suga_args_singleton_drop *args, json_t **result)
{
    size_t pos;
    bool found = find(args->name.ptr, &pos) != NULL;
    json_t *out = json_pack("{s:b}", "dropped", found);
    if (!out)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the result", ctx->op->name);
    if (found)
        drop_at(pos);
    *result = out;
    return SUGA_OK;
}

suga_status suga_handle_singleton_list(suga_ctx *ctx, const suga_args_singleton_list *args, json_t **result)
{
    (void)args;
    json_t *out = json_array();
    for (size_t i = 0; out && i < registry.count; i++) {
        const instance *it = &registry.items[i];
        json_t *row = json_pack("{s:s, s:s, s:I, s:I, s:I}", "name", it->name, "kind", kind_names[it->kind],
                                "created_ms", (json_int_t)it->created_ms, "uses", (json_int_t)it->uses, "bytes",
                                (json_int_t)it->bytes);
        if (json_array_append_new(out, row) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    return suga_util_result(ctx, out, result);
}

suga_status suga_handle_singleton_stats(suga_ctx *ctx, const suga_args_singleton_stats *args, json_t **result)
{
    (void)args;
    size_t json_count = 0, bytes = 0;
    for (size_t i = 0; i < registry.count; i++) {
        json_count += registry.items[i].kind == KIND_JSON;
        bytes += registry.items[i].bytes;
    }
    json_t *out = json_pack("{s:I, s:I, s:I, s:I}", "count", (json_int_t)registry.count, "json", (json_int_t)json_count,
                            "native", (json_int_t)(registry.count - json_count), "bytes", (json_int_t)bytes);
    return suga_util_result(ctx, out, result);
}
