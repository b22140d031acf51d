/* modules.c: lazy loading and the unload policies declared per module in the spec.
 *
 * A `load: lazy` module is a shared object, suga-<module>.so, that is dlopen()ed the first time
 * one of its operations is called; its handlers are dlsym()ed once into the slots the generated
 * trampolines call through (suga_op.lazy_handler), and cleared again when it is unloaded. The
 * handlers in it call back into the engine (suga_fail, the utility helpers, jansson): the
 * executable exports those symbols (linked with -rdynamic).
 *
 * Unload policies: never; immediate (after the call returns); deferred (at the end of the
 * invocation, suga_end_invocation); idle (at the end of an invocation, when unused for
 * idle_seconds); memory (at the end of an invocation, when resident memory is above the limit,
 * least recently used first). A module with a call in flight is never unloaded: calls are
 * counted in and out, including calls that re-enter the engine from a handler.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "suga_clock.h"
#include "suga_internal.h"

suga_status suga_module_dir(char *out, size_t size)
{
    if (!out || size == 0)
        return SUGA_E_INVALID_ARG;
    const char *env = getenv("SUGA_MODULE_DIR");
    if (env && *env) {
        if (strlen(env) >= size)
            return SUGA_E_LIMIT;
        memcpy(out, env, strlen(env) + 1);
        return SUGA_OK;
    }
    ssize_t n = readlink("/proc/self/exe", out, size - 1);
    if (n <= 0 || (size_t)n >= size - 1)
        return SUGA_E_IO;
    out[n] = '\0';
    char *slash = strrchr(out, '/');
    if (!slash)
        return SUGA_E_IO;
    slash[slash == out] = '\0'; /* keep "/" for an executable in the root directory */
    return SUGA_OK;
}

static bool module_is_lazy(const suga_table *t, uint32_t module)
{
    return t->modules[module].load == SUGA_LOAD_LAZY;
}

/* Points (or un-points) every handler slot of `module` at its symbol in `handle`. On a missing
 * symbol, clears the slots set so far and returns the op whose handler is missing. */
static const suga_op *bind_handlers(const suga_table *t, uint32_t module, void *handle)
{
    for (uint32_t i = 0; i < t->op_count; i++) {
        const suga_op *op = &t->ops[i];
        if (op->module != module || !op->lazy_handler)
            continue;
        if (!handle) {
            *op->lazy_handler = NULL;
            continue;
        }
        void *symbol = dlsym(handle, op->handler);
        if (!symbol) {
            bind_handlers(t, module, NULL);
            return op;
        }
        *op->lazy_handler = symbol;
    }
    return NULL;
}

/* Whether a loaded module depends on `module` (spec: depends_on): then it stays loaded. */
static bool has_loaded_dependent(const suga_table *t, uint32_t module)
{
    for (uint32_t i = 0; i < t->module_count; i++) {
        if (!t->module_states[i].handle)
            continue;
        for (uint16_t d = 0; d < t->modules[i].depends_count; d++)
            if (t->modules[i].depends_on[d] == module)
                return true;
    }
    return false;
}

static suga_status load(const suga_table *t, uint32_t module, suga_ctx *ctx)
{
    const suga_module *m = &t->modules[module];
    suga_module_state *st = &t->module_states[module];
    /* dependencies first (suga-gen rejects cycles; eager ones are always there) */
    for (uint16_t d = 0; d < m->depends_count; d++) {
        uint32_t dep = m->depends_on[d];
        if (module_is_lazy(t, dep) && !t->module_states[dep].handle) {
            suga_status dep_st = load(t, dep, ctx);
            if (dep_st != SUGA_OK)
                return suga_fail(ctx, dep_st, "module '%s' could not be loaded: it depends on '%s', which could not "
                                              "be loaded: %s",
                                 m->name, t->modules[dep].name, t->module_states[dep].last_error);
        }
    }
    char dir[PATH_MAX], path[PATH_MAX + 64];
    if (suga_module_dir(dir, sizeof dir) != SUGA_OK) {
        snprintf(st->last_error, sizeof st->last_error, "cannot tell where modules are (set SUGA_MODULE_DIR)");
    } else {
        snprintf(path, sizeof path, "%s/suga-%s.so", dir, m->name);
        dlerror();
        void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (handle) {
            const suga_op *missing = bind_handlers(t, module, handle);
            if (!missing) {
                st->handle = handle;
                st->loads++;
                st->last_error[0] = '\0';
                return SUGA_OK;
            }
            snprintf(st->last_error, sizeof st->last_error, "suga-%s.so has no handler '%s' for %s", m->name,
                     missing->handler, missing->name);
            dlclose(handle);
        } else {
            const char *why = dlerror();
            snprintf(st->last_error, sizeof st->last_error, "%s", why ? why : "dlopen failed");
        }
    }
    st->load_failures++;
    return suga_fail(ctx, SUGA_E_UNAVAILABLE, "module '%s' could not be loaded: %s", m->name, st->last_error);
}

suga_status suga_module_unload(const suga_table *t, uint32_t module)
{
    if (!t || module >= t->module_count)
        return SUGA_E_INVALID_ARG;
    suga_module_state *st = &t->module_states[module];
    if (!module_is_lazy(t, module) || !st->handle)
        return SUGA_OK; /* eager modules are part of the binary; an unloaded one stays so */
    if (st->in_flight || has_loaded_dependent(t, module))
        return SUGA_E_STATE;
    bind_handlers(t, module, NULL);
    dlclose(st->handle);
    st->handle = NULL;
    st->unload_pending = false;
    st->unloads++;
    return SUGA_OK;
}

suga_status suga_module_enter(const suga_table *t, suga_ctx *ctx, const suga_op *op)
{
    if (!t || !ctx || !op)
        return SUGA_E_INVALID_ARG;
    suga_module_state *st = &t->module_states[op->module];
    if (module_is_lazy(t, op->module) && !st->handle) {
        suga_status status = load(t, op->module, ctx);
        if (status != SUGA_OK)
            return status;
    }
    st->in_flight++;
    st->last_used_ms = suga_clock_monotonic_ms();
    return SUGA_OK;
}

suga_status suga_module_leave(const suga_table *t, const suga_op *op)
{
    if (!t || !op)
        return SUGA_E_INVALID_ARG;
    suga_module_state *st = &t->module_states[op->module];
    if (st->in_flight)
        st->in_flight--;
    st->last_used_ms = suga_clock_monotonic_ms();
    switch (t->modules[op->module].unload) {
    case SUGA_UNLOAD_IMMEDIATE:
        return st->in_flight ? SUGA_OK : suga_module_unload(t, op->module);
    case SUGA_UNLOAD_DEFERRED:
        st->unload_pending = true;
        return SUGA_OK;
    default: /* never; idle and memory are decided at the end of the invocation */
        return SUGA_OK;
    }
}

/* timeout_ms is applied here because every call of a handler by id or by name reaches it: the
 * generator marks operations with timeout_ms out_of_line, so the inline path stays a range check
 * and a call. The handler sees the clipped deadline; its caller gets its own back. */
suga_status suga_call_id_slow(const suga_table *t, suga_ctx *ctx, uint32_t id, const void *args, json_t **result)
{
    const suga_op *op = &t->ops[id];
    *result = NULL;
    bool lazy = op->lazy_handler != NULL;
    suga_status status = lazy ? suga_module_enter(t, ctx, op) : SUGA_OK;
    t->stats[id].calls++;
    if (status != SUGA_OK) {
        t->stats[id].errors++;
        return status;
    }
    int64_t saved_deadline = ctx->deadline_ms;
    if (op->timeout_ms)
        ctx->deadline_ms = suga_op_deadline(op, saved_deadline, suga_clock_wall_ms());
    const suga_op *caller_op = ctx->op;
    ctx->op = op;
    status = op->invoke(ctx, args, result);
    ctx->op = caller_op;
    ctx->deadline_ms = saved_deadline;
    if (lazy)
        suga_module_leave(t, op);
    if (status != SUGA_OK)
        return suga_call_id_failed(t, id, status, result);
    if (op->invalidate_count)
        suga_result_cache_invalidate(t, op);
    return SUGA_OK;
}

/* Resident set size in KiB, from /proc/self/statm (0 when it cannot be read). */
static uint64_t resident_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long long size = 0, resident = 0;
    int got = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return got == 2 && page > 0 ? resident * (uint64_t)page / 1024 : 0;
}

/* The resident-memory limit above which memory-policy modules are unloaded: the spec's
 * unload_above_mb when set, else a share of the Lambda function's configured memory
 * (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, 128 MB when not running on Lambda). */
static uint64_t memory_limit_kib(const suga_table *t)
{
    const suga_limits *l = t->limits;
    if (l->memory_unload_above_mb)
        return (uint64_t)l->memory_unload_above_mb * 1024;
    const char *env = getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
    char *end = NULL;
    unsigned long long mb = env ? strtoull(env, &end, 10) : 0;
    if (!env || end == env || *end || mb == 0)
        mb = 128;
    return mb * 1024 * l->memory_unload_above_percent / 100;
}

/* Memory policy: unload memory-policy modules, least recently used first, while above the limit. */
static void relieve_memory(const suga_table *t)
{
    uint64_t limit = memory_limit_kib(t);
    while (resident_kib() > limit) {
        uint32_t victim = UINT32_MAX;
        for (uint32_t i = 0; i < t->module_count; i++) {
            const suga_module_state *st = &t->module_states[i];
            if (t->modules[i].unload != SUGA_UNLOAD_MEMORY || !st->handle || st->in_flight)
                continue;
            if (victim == UINT32_MAX || st->last_used_ms < t->module_states[victim].last_used_ms)
                victim = i;
        }
        if (victim == UINT32_MAX || suga_module_unload(t, victim) != SUGA_OK)
            return;
    }
}

suga_status suga_table_end_invocation(const suga_table *t)
{
    if (!t)
        return SUGA_E_INVALID_ARG;
    int64_t now = suga_clock_monotonic_ms();
    bool memory_modules = false;
    /* dependents before their dependencies, so a module kept only by a dependent can go too;
     * an `immediate` one still loaded was kept by a dependent that may be gone now */
    for (uint32_t k = t->module_count; k-- > 0;) {
        uint32_t i = t->module_init_order[k];
        const suga_module *m = &t->modules[i];
        suga_module_state *st = &t->module_states[i];
        if (!st->handle || st->in_flight)
            continue;
        bool idle_expired = m->unload == SUGA_UNLOAD_IDLE && now - st->last_used_ms >= (int64_t)m->idle_seconds * 1000;
        if (st->unload_pending || idle_expired || m->unload == SUGA_UNLOAD_IMMEDIATE)
            suga_module_unload(t, i);
        memory_modules |= m->unload == SUGA_UNLOAD_MEMORY && st->handle;
    }
    if (memory_modules)
        relieve_memory(t);
    return SUGA_OK;
}

suga_status suga_describe_modules_live(const suga_table *t, json_t **out)
{
    if (!t || !out)
        return SUGA_E_INVALID_ARG;
    json_t *arr = json_array();
    for (uint32_t i = 0; arr && i < t->module_count; i++) {
        const suga_module *m = &t->modules[i];
        const suga_module_state *st = &t->module_states[i];
        json_t *row = json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I}", "name", m->name, "load",
                                suga_load_names[m->load], "unload", suga_unload_names[m->unload], "loaded",
                                m->load == SUGA_LOAD_EAGER || st->handle != NULL, "in_flight",
                                (json_int_t)st->in_flight, "loads", (json_int_t)st->loads, "unloads",
                                (json_int_t)st->unloads, "load_failures", (json_int_t)st->load_failures,
                                "hits_without_load", (json_int_t)st->hits_without_load);
        int bad = !row;
        if (row && m->unload == SUGA_UNLOAD_IDLE)
            bad |= json_object_set_new(row, "idle_seconds", json_integer(m->idle_seconds));
        if (row && st->last_error[0])
            bad |= json_object_set_new(row, "last_error", json_string(st->last_error));
        if (bad || json_array_append_new(arr, row)) {
            json_decref(row);
            json_decref(arr);
            arr = NULL;
        }
    }
    if (!arr)
        return SUGA_E_NOMEM;
    *out = arr;
    return SUGA_OK;
}
