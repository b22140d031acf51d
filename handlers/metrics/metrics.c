/* metrics.c: the metrics.* operations, a thin layer over the process-wide registry
 * (runtime/metrics.c, suga_metrics_default()), which the engine also records into and flushes as
 * one EMF line per invocation.
 *
 * The registry takes the metric names that may be emitted from the table's limits
 * (spec/limits.yaml `limits.metrics.names`) on the first metrics.* call, unless the engine
 * configured it before; so a call from the CLI sees the same names as the Lambda function.
 * metrics.record takes any valid name: one not declared there is kept and shown (get, summary)
 * but never emitted. Runtime messages are prefixed with the operation.
 */
#include <string.h>

#include "suga_clock.h"
#include "suga_metrics.h"
#include "suga_ops.h"
#include "utility/suga_utility.h"

/* The spec's `unit` enum is the runtime's unit list, in the same order, lower-cased (enum values
 * are names); these catch a reordering of either. */
_Static_assert(SUGA_METRICS_RECORD_UNIT_COUNT == 0, "unit enum order");
_Static_assert(SUGA_METRICS_RECORD_UNIT_MILLISECONDS == 1, "unit enum order");
_Static_assert(SUGA_METRICS_RECORD_UNIT_MEGABYTES == SUGA_METRICS_UNIT_COUNT - 1, "unit enum size");

static suga_status registry(suga_ctx *ctx, suga_metrics **out)
{
    suga_metrics *m = suga_metrics_default();
    bool configured = false;
    suga_metrics_configured(m, &configured);
    if (!configured) {
        suga_ctx local;
        suga_ctx_init(&local);
        if (suga_metrics_configure(m, suga_main_table.limits, &local) != SUGA_OK)
            return suga_fail(ctx, SUGA_E_INTERNAL, "%s: the table's metric limits were refused: %s", ctx->op->name,
                             local.error);
    }
    *out = m;
    return SUGA_OK;
}

/* The registry takes C strings, but a typed caller's suga_str need not be NUL-terminated at
 * len (suga.h trusts typed argument structs): copy it. A name from JSON has passed the spec's
 * pattern and max_len, so only typed callers can fail here. */
static suga_status c_string(suga_ctx *ctx, const char *what, suga_str s, size_t max, char *out)
{
    if (s.len > max || (s.len && (!s.ptr || memchr(s.ptr, '\0', s.len))))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: %s must be at most %zu bytes, without NUL characters",
                         ctx->op->name, what, max);
    if (s.len)
        memcpy(out, s.ptr, s.len);
    out[s.len] = '\0';
    return SUGA_OK;
}

/* Run the registry's answer through: on failure, its message with the operation in front. */
static suga_status relay(suga_ctx *ctx, suga_status st, const suga_ctx *local)
{
    return st == SUGA_OK ? SUGA_OK : suga_fail(ctx, st, "%s: %s", ctx->op->name, local->error);
}

suga_status suga_handle_metrics_record(suga_ctx *ctx, const suga_args_metrics_record *args, json_t **result)
{
    suga_metrics *m;
    suga_status st = registry(ctx, &m);
    if (st != SUGA_OK)
        return st;
    /* typed callers are trusted, not blindly; one unsigned compare whatever the enum's
     * underlying type (gcc makes it unsigned: a "< 0" test would be dead code) */
    if ((unsigned)args->unit >= SUGA_METRICS_UNIT_COUNT)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: unit %d is not one of the %d units", ctx->op->name,
                         (int)args->unit, SUGA_METRICS_UNIT_COUNT);
    char name[SUGA_METRICS_NAME_MAX + 1];
    if ((st = c_string(ctx, "the metric name", args->name, SUGA_METRICS_NAME_MAX, name)) != SUGA_OK)
        return st;
    const char *unit = suga_metrics_unit_names[args->unit];
    /* built first, so that a metric is never recorded by a call that then fails for memory; the
     * name is not checked as UTF-8 here, the registry refuses anything but ASCII just after */
    json_t *out = json_pack("{s:o, s:s, s:I}", "name", json_string_nocheck(name), "unit", unit, "count",
                            (json_int_t)0);
    if (!out)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the result", ctx->op->name);
    suga_ctx local;
    suga_ctx_init(&local);
    suga_metric_stats stats;
    st = suga_metrics_record(m, name, args->value, unit, &local);
    if (st == SUGA_OK)
        st = suga_metrics_stats(m, name, &stats, &local);
    if (st != SUGA_OK) {
        json_decref(out);
        return relay(ctx, st, &local);
    }
    json_integer_set(json_object_get(out, "count"), (json_int_t)stats.count);
    *result = out;
    return SUGA_OK;
}

suga_status suga_handle_metrics_get(suga_ctx *ctx, const suga_args_metrics_get *args, json_t **result)
{
    suga_metrics *m;
    suga_status st = registry(ctx, &m);
    if (st != SUGA_OK)
        return st;
    char name[SUGA_METRICS_NAME_MAX + 1];
    if ((st = c_string(ctx, "the metric name", args->name, SUGA_METRICS_NAME_MAX, name)) != SUGA_OK)
        return st;
    suga_ctx local;
    suga_ctx_init(&local);
    return relay(ctx, suga_metrics_get(m, name, result, &local), &local);
}

suga_status suga_handle_metrics_summary(suga_ctx *ctx, const suga_args_metrics_summary *args, json_t **result)
{
    (void)args;
    suga_metrics *m;
    suga_status st = registry(ctx, &m);
    if (st != SUGA_OK)
        return st;
    suga_ctx local;
    suga_ctx_init(&local);
    return relay(ctx, suga_metrics_summary(m, result, &local), &local);
}

suga_status suga_handle_metrics_reset(suga_ctx *ctx, const suga_args_metrics_reset *args, json_t **result)
{
    suga_metrics *m;
    suga_status st = registry(ctx, &m);
    if (st != SUGA_OK)
        return st;
    char name[SUGA_METRICS_NAME_MAX + 1];
    if (args->has_name && (st = c_string(ctx, "the metric name", args->name, SUGA_METRICS_NAME_MAX, name)) != SUGA_OK)
        return st;
    json_t *out = json_pack("{s:I}", "reset", (json_int_t)0);
    if (!out)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the result", ctx->op->name);
    suga_ctx local;
    suga_ctx_init(&local);
    uint32_t removed = 0;
    st = suga_metrics_reset(m, args->has_name ? name : NULL, &removed, &local);
    if (st != SUGA_OK) {
        json_decref(out);
        return relay(ctx, st, &local);
    }
    json_integer_set(json_object_get(out, "reset"), (json_int_t)removed);
    *result = out;
    return SUGA_OK;
}

suga_status suga_handle_metrics_export(suga_ctx *ctx, const suga_args_metrics_export *args, json_t **result)
{
    suga_metrics *m;
    suga_status st = registry(ctx, &m);
    if (st != SUGA_OK)
        return st;
    char ns[SUGA_METRICS_NAMESPACE_MAX + 1];
    if ((st = c_string(ctx, "the namespace", args->namespace, SUGA_METRICS_NAMESPACE_MAX, ns)) != SUGA_OK)
        return st;
    int64_t now = suga_clock_wall_ms();
    suga_ctx local;
    suga_ctx_init(&local);
    json_t *emf = NULL, *plan = NULL;
    st = suga_metrics_emf(m, now, ns, &emf, &local);
    if (st == SUGA_OK)
        st = suga_metrics_plan(m, &plan, &local);
    if (st != SUGA_OK) {
        json_decref(emf);
        return relay(ctx, st, &local);
    }
    /* the plan already holds emitted and not_emitted: the EMF object joins them */
    if (json_object_set_new(plan, "emf", emf ? emf : json_null()) != 0) {
        json_decref(plan);
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the result", ctx->op->name);
    }
    *result = plan;
    return SUGA_OK;
}

suga_status suga_handle_metrics_status(suga_ctx *ctx, const suga_args_metrics_status *args, json_t **result)
{
    (void)args;
    suga_metrics *m;
    suga_status st = registry(ctx, &m);
    if (st != SUGA_OK)
        return st;
    suga_ctx local;
    suga_ctx_init(&local);
    return relay(ctx, suga_metrics_status(m, result, &local), &local);
}
