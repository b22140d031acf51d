/* debug.c: health, counters and the operation catalogue, read from the compiled table
 * (suga_main_table) rather than from any list kept by hand, so they cannot drift from the spec. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config/suga_settings.h"
#include "suga_breaker.h"
#include "suga_clock.h"
#include "suga_engine.h"
#include "suga_mask.h"
#include "suga_metrics.h"
#include "suga_ops.h"
#include "suga_suggest.h"
#include "utility/suga_utility.h"

/* ---- uptime ---- */

static bool read_small_file(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0;
}

/* Process start in clock ticks after boot: field 22 of /proc/self/stat. The command name (field
 * 2) may contain spaces and parentheses, so fields are counted from its closing parenthesis. */
static bool process_start_ticks(unsigned long long *ticks)
{
    char buf[1024];
    if (!read_small_file("/proc/self/stat", buf, sizeof buf))
        return false;
    const char *p = strrchr(buf, ')');
    if (!p)
        return false;
    p++;
    for (int field = 3; field < 22; field++) {
        p = strchr(p + 1, ' ');
        if (!p)
            return false;
    }
    char *end;
    *ticks = strtoull(p + 1, &end, 10);
    return end != p + 1;
}

static bool uptime_from_proc(int64_t *out)
{
    unsigned long long start_ticks;
    char buf[128];
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0 || !process_start_ticks(&start_ticks) || !read_small_file("/proc/uptime", buf, sizeof buf))
        return false;
    char *end;
    double boot_s = strtod(buf, &end);
    if (end == buf)
        return false;
    int64_t ms = (int64_t)(boot_s * 1000.0) - (int64_t)(start_ticks * 1000ull / (unsigned long long)hz);
    *out = ms > 0 ? ms : 0;
    return true;
}

static int64_t uptime_ms(void)
{
    static int64_t first_call; /* the fallback clock starts when debug is first asked */
    if (!first_call)
        first_call = suga_clock_monotonic_ms();
    int64_t ms;
    if (uptime_from_proc(&ms))
        return ms;
    return suga_clock_monotonic_ms() - first_call;
}

suga_status suga_handle_debug_health(suga_ctx *ctx, const suga_args_debug_health *args, json_t **result)
{
    (void)args;
    const suga_table *t = &suga_main_table;
    json_t *out = json_pack("{s:s, s:I, s:I, s:I, s:I}", "status", "ok", "uptime_ms", (json_int_t)uptime_ms(),
                            "operations", (json_int_t)t->op_count, "modules", (json_int_t)t->module_count, "fusions",
                            (json_int_t)t->fusion_count);
    return suga_util_result(ctx, out, result);
}

/* ---- stats ---- */

static json_t *process_usage(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return json_object(); /* nothing to report is not an error for a diagnostic */
    json_int_t user_ms = (json_int_t)ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000;
    json_int_t system_ms = (json_int_t)ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000;
    /* ru_maxrss is in kilobytes on Linux */
    return json_pack("{s:I, s:I, s:I}", "max_rss_kb", (json_int_t)ru.ru_maxrss, "user_ms", user_ms, "system_ms",
                     system_ms);
}

/* Calls rejected before the handler ran (bad arguments) count as calls and as errors. */
suga_status suga_handle_debug_stats(suga_ctx *ctx, const suga_args_debug_stats *args, json_t **result)
{
    const suga_table *t = &suga_main_table;
    json_t *ops = json_object();
    uint64_t calls = 0, errors = 0;
    for (uint32_t i = 0; ops && i < t->op_count; i++) {
        const suga_op_stats *s = &t->stats[i];
        calls += s->calls;
        errors += s->errors;
        if (args->only_called && !s->calls)
            continue;
        json_t *row = json_pack("{s:I, s:I}", "calls", (json_int_t)s->calls, "errors", (json_int_t)s->errors);
        if (json_object_set_new(ops, t->ops[i].name, row) != 0) {
            json_decref(ops);
            ops = NULL;
        }
    }
    json_t *out = NULL;
    if (ops)
        out = json_pack("{s:o, s:{s:I, s:I}, s:o}", "operations", ops, "totals", "calls", (json_int_t)calls, "errors",
                        (json_int_t)errors, "process", process_usage());
    return suga_util_result(ctx, out, result);
}

/* ---- list_operations ---- */

static bool interface_is(const suga_op *op, suga_str name)
{
    return strlen(op->interface) == name.len && !memcmp(op->interface, name.ptr, name.len);
}

static suga_status unknown_interface(suga_ctx *ctx, suga_str name)
{
    const suga_table *t = &suga_main_table;
    const char **names = malloc((t->op_count + 1) * sizeof *names);
    if (!names)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory", ctx->op->name);
    size_t n = 0;
    for (uint32_t i = 0; i < t->op_count; i++) {
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = !strcmp(names[j], t->ops[i].interface);
        if (!seen)
            names[n++] = t->ops[i].interface;
    }
    const char *hint = suga_closest(name.ptr, names, n);
    free(names);
    if (hint)
        return suga_fail(ctx, SUGA_E_NOT_FOUND, "%s: unknown interface '%.*s' (did you mean '%s'?)", ctx->op->name,
                         (int)name.len, name.ptr, hint);
    return suga_fail(ctx, SUGA_E_NOT_FOUND, "%s: unknown interface '%.*s'", ctx->op->name, (int)name.len, name.ptr);
}

suga_status suga_handle_debug_list_operations(suga_ctx *ctx, const suga_args_debug_list_operations *args, json_t **result)
{
    const suga_table *t = &suga_main_table;
    bool filter = args->has_interface;
    bool matched = false;
    json_t *out = json_array();
    for (uint32_t i = 0; out && i < t->op_count; i++) {
        const suga_op *op = &t->ops[i];
        if (filter && !interface_is(op, args->interface))
            continue;
        matched = true;
        json_t *row = NULL; /* the same description suga-inspect --json gives */
        if (suga_describe_op(t, op, false, &row) != SUGA_OK || json_array_append_new(out, row) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    if (out && filter && !matched) {
        json_decref(out);
        return unknown_interface(ctx, args->interface);
    }
    return suga_util_result(ctx, out, result);
}

/* ---- diagnostics ---- */

/* Resident and peak memory of the process, from /proc/self/status (VmRSS, VmHWM), in KiB. */
static json_t *memory_usage(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    json_int_t rss = -1, hwm = -1;
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            long long kib;
            if (sscanf(line, "VmRSS: %lld kB", &kib) == 1)
                rss = kib;
            else if (sscanf(line, "VmHWM: %lld kB", &kib) == 1)
                hwm = kib;
        }
        fclose(f);
    }
    return json_pack("{s:I, s:I}", "rss_kb", rss, "peak_rss_kb", hwm);
}

/* The engine's own state (requests, guard usage, init), or null when no engine was started in
 * this process (a one-shot `suga call`, a test). */
static json_t *engine_state(void)
{
    json_t *out = NULL;
    const suga_engine *e = suga_engine_current();
    if (e && suga_engine_describe(e, &out) == SUGA_OK)
        return out;
    return json_null();
}

suga_status suga_handle_debug_diagnostics(suga_ctx *ctx, const suga_args_debug_diagnostics *args, json_t **result)
{
    (void)args;
    json_t *modules = NULL, *breakers = NULL, *metrics = NULL;
    suga_status st = suga_describe_modules_live(&suga_main_table, &modules);
    if (st == SUGA_OK)
        st = suga_breaker_describe_all(&suga_main_table, suga_clock_monotonic_ms(), &breakers);
    if (st == SUGA_OK)
        st = suga_metrics_status(suga_metrics_default(), &metrics, NULL);
    if (st != SUGA_OK) {
        json_decref(modules);
        json_decref(breakers);
        return suga_fail(ctx, st, "%s: cannot describe the engine's state (%s)", ctx->op->name, suga_status_name(st));
    }
    json_t *settings = NULL; /* their version and Parameter Store state: which settings a result came from */
    if (suga_settings_status(&settings) != SUGA_OK) {
        json_decref(modules);
        json_decref(breakers);
        json_decref(metrics);
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory describing the settings", ctx->op->name);
    }
    uint64_t hits_without_load = 0;
    for (uint32_t m = 0; m < suga_main_table.module_count; m++)
        hits_without_load += suga_main_table.module_states[m].hits_without_load;
    json_t *out = json_pack("{s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:{s:I}}", "modules", modules,
                            "cache_hits_without_load", (json_int_t)hits_without_load, "breakers", breakers, "engine",
                            engine_state(), "settings", settings, "metrics", metrics, "memory", memory_usage(),
                            "masking", "known_values", (json_int_t)suga_secret_count());
    /* diagnostics quote errors of every kind (a module's dlerror, a fetch's failure): they leave
     * the process through the masking function like everything else */
    json_t *masked = NULL;
    st = out ? suga_mask_json(out, SUGA_MASK_MESSAGE, &masked, NULL) : SUGA_E_NOMEM;
    json_decref(out);
    if (st != SUGA_OK)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the result", ctx->op->name);
    *result = masked;
    return SUGA_OK;
}
