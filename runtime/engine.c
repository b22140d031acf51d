/* engine.c: the request-level stages around the dispatcher (suga_engine.h).
 *
 * Each stage runs once per request, not once per operation: a batch of ten operations is one
 * guard admission, one log record and one latency sample, which is what makes batching and
 * fusing cheaper than separate requests. Stages that cannot change the answer (metrics, the log)
 * never fail a request: a metric that cannot be recorded is dropped, a log line that cannot be
 * written is lost, and the operation's result still goes back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "suga_clock.h"
#include "suga_engine.h"
#include "suga_fusion.h"
#include "suga_internal.h"
#include "suga_log.h"
#include "suga_mask.h"
#include "suga_metrics.h"

#define GUARD_SAVE_EVERY 100 /* invocations between two saves of the guard's state */

_Static_assert(SUGA_ENGINE_METRIC__COUNT <= SUGA_MAX_METRIC_NAMES, "the engine's own metrics must fit the budget");

static suga_engine *current_engine;

suga_engine *suga_engine_current(void)
{
    return current_engine;
}

/* ---- init ---- */

/* The engine records its metrics by suga_engine_metric (suga_schema.h), never by a string of its
 * own, so a metric it has no constant for does not compile; suga-gen refuses a spec that does
 * not declare all of them. A table made otherwise (by hand, by another suga-gen) is checked here:
 * an engine metric it does not declare would be recorded and never emitted, which is a table that
 * cannot work as documented, so init fails rather than let it pass silently. */
static suga_status check_engine_metrics(const suga_limits *limits, suga_ctx *ctx)
{
    for (int k = 0; k < SUGA_ENGINE_METRIC__COUNT; k++) {
        bool declared = false;
        for (uint16_t i = 0; !declared && limits->metric_names && i < limits->metric_name_count; i++)
            declared = limits->metric_names[i] && !strcmp(limits->metric_names[i], suga_engine_metric_names[k]);
        if (!declared)
            return suga_fail(ctx, SUGA_E_INVALID_ARG,
                             "suga_engine_init: the table's limits.metrics.names do not declare '%s', which the engine "
                             "records (a metric not declared is never emitted)",
                             suga_engine_metric_names[k]);
    }
    return SUGA_OK;
}

static suga_status read_memory_mb(const suga_engine_config *config, uint32_t *out, suga_ctx *ctx)
{
    if (config && config->memory_mb) {
        *out = config->memory_mb;
        return SUGA_OK;
    }
    const char *text = getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
    if (!text || !*text) {
        *out = SUGA_ENGINE_DEFAULT_MEMORY_MB;
        return SUGA_OK;
    }
    char *end;
    errno = 0;
    unsigned long mb = strtoul(text, &end, 10);
    /* Lambda allows 128 .. 10240 MB; the wider range only rejects what cannot be a size */
    if (errno || *end || end == text || text[0] == '-' || mb < 1 || mb > 1048576)
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "AWS_LAMBDA_FUNCTION_MEMORY_SIZE must be a whole number of MB in [1, 1048576], got \"%.32s\"",
                         text);
    *out = (uint32_t)mb;
    return SUGA_OK;
}

static suga_status choose_guard_path(suga_engine *e, const suga_engine_config *config, suga_ctx *ctx)
{
    const char *path = config ? config->guard_state_path : NULL;
    if (!path)
        path = getenv("SUGA_GUARD_STATE_FILE");
    if (!path && getenv("AWS_LAMBDA_FUNCTION_NAME")) /* /tmp is Lambda's only writable place */
        path = "/tmp/suga-guard.json";
    if (!path)
        path = "";
    if (strlen(path) >= sizeof e->guard_path)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "the guard state file path (SUGA_GUARD_STATE_FILE) must be shorter "
                                                  "than %zu bytes, got %zu",
                         sizeof e->guard_path, strlen(path));
    strcpy(e->guard_path, path);
    return SUGA_OK;
}

static void resume_guard(suga_engine *e, int64_t now)
{
    if (!e->guard_path[0])
        return;
    suga_ctx local;
    suga_ctx_init(&local);
    suga_guard_load_outcome outcome = SUGA_GUARD_LOAD_MISSING;
    suga_status st = suga_guard_load(&e->guard, e->guard_path, now, &outcome, &local);
    if (st == SUGA_OK && outcome == SUGA_GUARD_LOADED) {
        e->init.guard_resumed = true;
        return;
    }
    if (st == SUGA_OK && outcome == SUGA_GUARD_LOAD_OTHER_MONTH)
        snprintf(e->init.guard_note, sizeof e->init.guard_note, "state file %s is for another month: starting from zero",
                 e->guard_path);
    else if (st != SUGA_OK) /* a damaged file must not stop the function from serving */
        snprintf(e->init.guard_note, sizeof e->init.guard_note, "%.*s; starting from zero", SUGA_ERROR_MAX - 1,
                 local.error);
    if (e->init.guard_note[0])
        suga_log_write(NULL, SUGA_LOG_WARNING, e->init.guard_note, NULL, NULL);
}

suga_status suga_engine_init(suga_engine *e, const suga_table *table, const suga_engine_config *config,
                             suga_ctx *ctx)
{
    if (!e || !table || !table->limits)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_engine_init: an engine and a table with limits are required");
    double t0 = suga_clock_elapsed_ms();
    suga_engine fresh = {
        .table = table,
        .metrics_out = config && config->metrics_out ? config->metrics_out : stdout,
    };
    uint32_t memory_mb = 0;
    suga_status st = read_memory_mb(config, &memory_mb, ctx);
    if (st != SUGA_OK)
        return st;
    int64_t now = suga_clock_wall_ms();
    fresh.init.started_ms = now;
    if ((st = suga_guard_init(&fresh.guard, table->limits, memory_mb, now, ctx)) != SUGA_OK)
        return st;
    const char *ns = config && config->metrics_namespace ? config->metrics_namespace : getenv("SUGA_METRICS_NAMESPACE");
    if (!ns || !*ns)
        ns = SUGA_METRICS_DEFAULT_NAMESPACE;
    if (strlen(ns) > SUGA_METRICS_NAMESPACE_MAX) /* CloudWatch's limit: cutting it would file metrics elsewhere */
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "metrics namespace (SUGA_METRICS_NAMESPACE) must be at most %d bytes, "
                                                  "got %zu", SUGA_METRICS_NAMESPACE_MAX, strlen(ns));
    strcpy(fresh.metrics_namespace, ns);
    if ((st = check_engine_metrics(table->limits, ctx)) != SUGA_OK)
        return st;
    if ((st = suga_metrics_configure(suga_metrics_default(), table->limits, ctx)) != SUGA_OK)
        return st;
    if ((st = choose_guard_path(&fresh, config, ctx)) != SUGA_OK)
        return st;
    resume_guard(&fresh, now);
    for (uint32_t m = 0; m < table->module_count; m++) { /* loads before this engine are not its own */
        fresh.module_loads_seen += table->module_states[m].loads;
        fresh.module_unloads_seen += table->module_states[m].unloads;
    }
    fresh.init.duration_ms = suga_clock_elapsed_ms() - t0;
    *e = fresh;
    current_engine = e;
    return SUGA_OK;
}

/* ---- one request ---- */

typedef enum request_kind { REQUEST_OP, REQUEST_FUSION, REQUEST_BATCH } request_kind;

/* The request's shape, and what the guard must know before anything runs. */
typedef struct request_plan {
    request_kind kind;
    const char *name;        /* operation or fusion name; "batch" */
    const suga_op *op;       /* REQUEST_OP */
    const suga_fusion *fusion; /* REQUEST_FUSION */
    json_t *args;
    bool essential;          /* false: shed at throttle */
} request_plan;

/* The request's members, found in one pass over the object (no lookup per key). */
typedef struct request_members {
    json_t *op, *fusion, *batch, *args, *stop_on_error, *correlation_id;
} request_members;

static const char *const REQUEST_KEYS[] = {"op", "fusion", "batch", "args", "stop_on_error", "correlation_id"};

static json_t **member_slot(request_members *m, const char *key)
{
    json_t **slots[] = {&m->op, &m->fusion, &m->batch, &m->args, &m->stop_on_error, &m->correlation_id};
    for (size_t i = 0; i < sizeof REQUEST_KEYS / sizeof *REQUEST_KEYS; i++)
        if (!strcmp(key, REQUEST_KEYS[i]))
            return slots[i];
    return NULL;
}

static bool fusion_essential(const suga_table *t, const suga_fusion *f)
{
    for (uint16_t i = 0; i < f->step_count; i++)
        if (!t->ops[f->steps[i].op].essential)
            return false;
    return true;
}

/* A batch is essential when every item is: shedding it at throttle sheds only what could be
 * shed item by item. Unknown names count as essential (they fail on their own). */
static bool batch_essential(const suga_table *t, json_t *items)
{
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) {
        json_t *op = json_object_get(item, "op"), *fusion = json_object_get(item, "fusion");
        const suga_op *o;
        const suga_fusion *f;
        if (json_is_string(op) &&
            suga_table_lookup(t, json_string_value(op), json_string_length(op), &o) == SUGA_OK && !o->essential)
            return false;
        if (json_is_string(fusion) &&
            suga_table_find_fusion(t, json_string_value(fusion), json_string_length(fusion), &f) == SUGA_OK &&
            !fusion_essential(t, f))
            return false;
    }
    return true;
}

static suga_status plan_request(const suga_table *t, suga_ctx *ctx, json_t *request, request_plan *plan)
{
    if (!json_is_object(request))
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "request must be a JSON object with \"op\", \"fusion\" or \"batch\"");
    request_members m = {0};
    const char *key;
    json_t *value;
    json_object_foreach(request, key, value) {
        json_t **slot = member_slot(&m, key);
        if (!slot) {
            const char *hint = suga_closest(key, REQUEST_KEYS, sizeof REQUEST_KEYS / sizeof *REQUEST_KEYS);
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "request: unknown key '%.64s'%s%s%s", key,
                             hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        }
        *slot = value;
    }
    json_t *op = m.op, *fusion = m.fusion, *batch = m.batch;
    if (!!op + !!fusion + !!batch != 1)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "request: needs exactly one of \"op\", \"fusion\" and \"batch\"");
    json_t *correlation = m.correlation_id;
    if (correlation && (!json_is_string(correlation) || json_string_length(correlation) > 128))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "request: \"correlation_id\" must be a string of at most 128 bytes");
    if (correlation && !ctx->correlation_id)
        ctx->correlation_id = json_string_value(correlation);
    plan->args = m.args;
    if (batch) { /* the batch runner checks the rest of the shape, with its own messages */
        if (plan->args)
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "request: a batch takes no \"args\" (each item has its own)");
        plan->kind = REQUEST_BATCH;
        plan->name = "batch";
        plan->essential = !json_is_array(batch) || batch_essential(t, batch);
        return SUGA_OK;
    }
    if (m.stop_on_error)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "request: \"stop_on_error\" applies to batches only");
    json_t *name = op ? op : fusion;
    if (!json_is_string(name))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "request: \"%s\" must be a string", op ? "op" : "fusion");
    plan->name = json_string_value(name);
    if (op) {
        plan->kind = REQUEST_OP;
        if (suga_table_lookup(t, plan->name, json_string_length(name), &plan->op) != SUGA_OK)
            return suga_unknown_operation(t, ctx, plan->name, json_string_length(name));
        plan->name = plan->op->name;
        plan->essential = plan->op->essential;
        return SUGA_OK;
    }
    plan->kind = REQUEST_FUSION;
    if (suga_table_find_fusion(t, plan->name, json_string_length(name), &plan->fusion) != SUGA_OK)
        return suga_unknown_fusion(t, ctx, plan->name);
    plan->name = plan->fusion->name;
    plan->essential = fusion_essential(t, plan->fusion);
    return SUGA_OK;
}

/* By name rather than by the table's metric id: the default registry is shared, and whoever
 * configures it again (a test, another table) may declare other names in another order; a name
 * it does not declare is then only not emitted, where a stale id would record the wrong metric.
 * A metric that cannot be recorded is dropped (see the top of this file). */
static void record_metric(suga_engine_metric which, double value, const char *unit)
{
    suga_metrics_record(suga_metrics_default(), suga_engine_metric_names[which], value, unit, NULL);
}

static void log_guard_change(suga_engine *e, const suga_ctx *ctx, const suga_guard_verdict *v, int64_t now)
{
    char line[512];
    suga_guard_describe(&e->guard, now, line, sizeof line, NULL); /* a cut line is still worth logging */
    suga_log_level level = v->level == SUGA_GUARD_OK ? SUGA_LOG_INFO
                           : v->level == SUGA_GUARD_BLOCK ? SUGA_LOG_ERROR
                                                          : SUGA_LOG_WARNING;
    json_t *fields = json_pack("{s:s, s:s}", "guard_level", suga_guard_level_name(v->level), "previous_level",
                               suga_guard_level_name(v->previous));
    suga_log_write(ctx, level, line, fields, NULL);
    json_decref(fields);
    record_metric(SUGA_ENGINE_METRIC_GUARD_STATE, (double)v->level, "None");
    if (e->guard_path[0]) /* a level change is worth persisting at once */
        suga_guard_save(&e->guard, e->guard_path, NULL);
}

static suga_status run_plan(const suga_table *t, suga_ctx *ctx, const request_plan *plan, json_t *request,
                            json_t **result)
{
    switch (plan->kind) {
    case REQUEST_OP:
        return suga_table_call_op_json(t, ctx, plan->op, plan->args, result);
    case REQUEST_FUSION:
        return suga_table_run_fusion(t, ctx, plan->fusion, plan->args, result);
    case REQUEST_BATCH:
        return suga_table_run_batch(t, ctx, request, result);
    }
    return SUGA_E_INTERNAL;
}

/* The level of a request's log record: failures the caller caused are warnings, the engine's or
 * a dependency's are errors. */
static suga_log_level record_level(suga_status st)
{
    switch (st) {
    case SUGA_OK:
        return SUGA_LOG_INFO;
    case SUGA_E_INVALID_ARG:
    case SUGA_E_NOT_FOUND:
    case SUGA_E_LIMIT:
    case SUGA_E_BUDGET:
        return SUGA_LOG_WARNING;
    default:
        return SUGA_LOG_ERROR;
    }
}

static void log_request(const suga_ctx *ctx, const char *operation, suga_status st, double duration_ms,
                        uint64_t cache_hits)
{
    suga_log_level min, level = record_level(st);
    if (suga_log_get_level(&min) == SUGA_OK && level < min) /* log off: build nothing */
        return;
    json_t *fields = json_pack("{s:s, s:s, s:f, s:I}", "operation", operation, "status", suga_status_name(st),
                               "duration_ms", duration_ms, "cache_hits", (json_int_t)cache_hits);
    if (fields && st != SUGA_OK) {
        char message[SUGA_ERROR_MAX];
        suga_utf8_sanitize(ctx->error, message, sizeof message);
        json_object_set_new(fields, "error", json_string(message)); /* without it the record still goes */
    }
    suga_log_write(ctx, level, st == SUGA_OK ? "request" : "request failed", fields, NULL);
    json_decref(fields);
}

suga_status suga_engine_request(suga_engine *e, suga_ctx *ctx, json_t *request, json_t **result)
{
    if (!e || !e->table || !ctx || !result)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_engine_request: an initialised engine and a result are required");
    *result = NULL;
    double t0 = suga_clock_elapsed_ms();
    uint64_t hits_before = suga_result_cache_hit_count();
    const char *caller_correlation_id = ctx->correlation_id; /* the request's may fill it, for this call only */
    request_plan plan = {.name = "(malformed request)", .essential = true};
    suga_status st = plan_request(e->table, ctx, request, &plan);
    if (st == SUGA_OK) {
        int64_t now = suga_clock_wall_ms();
        suga_guard_verdict verdict;
        st = suga_guard_admit(&e->guard, now, plan.essential, &verdict, ctx);
        if (verdict.changed)
            log_guard_change(e, ctx, &verdict, now);
        if (st == SUGA_OK)
            st = run_plan(e->table, ctx, &plan, request, result);
    }
    double duration = suga_clock_elapsed_ms() - t0;
    uint64_t hits = suga_result_cache_hit_count() - hits_before;
    /* counts go to the registry once per invocation (record_counts); each latency is a value */
    e->requests++;
    e->request_errors += st != SUGA_OK;
    e->cache_hits += hits;
    record_metric(SUGA_ENGINE_METRIC_LATENCY, duration, "Milliseconds");
    log_request(ctx, plan.name, st, duration, hits);
    ctx->correlation_id = caller_correlation_id; /* never left pointing into the request */
    return st;
}

/* ---- invocation counts ---- */

/* What happened since the last end of invocation, as Count metrics (none recorded for zero,
 * so a quiet metric takes no room in the EMF line). */
static void record_count(suga_engine_metric which, uint64_t now, uint64_t *seen)
{
    if (now > *seen)
        record_metric(which, (double)(now - *seen), "Count");
    *seen = now;
}

static void record_counts(suga_engine *e)
{
    record_count(SUGA_ENGINE_METRIC_INVOCATIONS, e->requests, &e->requests_seen);
    record_count(SUGA_ENGINE_METRIC_ERRORS, e->request_errors, &e->request_errors_seen);
    record_count(SUGA_ENGINE_METRIC_CACHE_HITS, e->cache_hits, &e->cache_hits_seen);
    uint64_t loads = 0, unloads = 0;
    for (uint32_t m = 0; m < e->table->module_count; m++) {
        loads += e->table->module_states[m].loads;
        unloads += e->table->module_states[m].unloads;
    }
    record_count(SUGA_ENGINE_METRIC_MODULE_LOADS, loads, &e->module_loads_seen);
    record_count(SUGA_ENGINE_METRIC_MODULE_UNLOADS, unloads, &e->module_unloads_seen);
}

/* ---- lifecycle hooks ---- */

suga_status suga_engine_run_hooks(suga_engine *e, suga_hook_phase phase, suga_ctx *ctx, const suga_hook **failed)
{
    if (failed)
        *failed = NULL;
    if (!e || !e->table || !ctx || (unsigned)phase >= SUGA_HOOK__COUNT)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_engine_run_hooks: an initialised engine, a context and a "
                                                  "phase are required");
    const suga_table *t = e->table;
    suga_status first = SUGA_OK;
    for (uint32_t i = 0; i < t->hook_counts[phase]; i++) {
        const suga_hook *h = &t->hooks[phase][i];
        json_t *ignored = NULL;
        suga_status st = suga_table_call_op_json(t, ctx, &t->ops[h->op], NULL, &ignored);
        json_decref(ignored);
        if (st == SUGA_OK)
            continue;
        if (first == SUGA_OK && failed)
            *failed = h;
        if (first == SUGA_OK)
            first = st;
        if (phase != SUGA_HOOK_INVOCATION_END) /* what follows may rely on it: the host reports it */
            return st;
        /* the answer is gone: nobody else will tell of it, and the other hooks still run */
        json_t *fields = json_pack("{s:s, s:s, s:s}", "hook", suga_hook_phase_names[phase], "operation",
                                   t->ops[h->op].name, "status", suga_status_name(st));
        suga_log_write(ctx, SUGA_LOG_WARNING, ctx->error, fields, NULL);
        json_decref(fields);
    }
    return first;
}

/* ---- end of invocation ---- */

suga_status suga_engine_end_invocation(suga_engine *e, double billed_ms, suga_ctx *ctx)
{
    if (!e || !e->table)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_engine_end_invocation: an initialised engine is required");
    suga_ctx hook_ctx; /* the hooks log their own failures; the invocation's status is the engine's */
    suga_ctx_init(&hook_ctx);
    suga_engine_run_hooks(e, SUGA_HOOK_INVOCATION_END, &hook_ctx, NULL);
    int64_t now = suga_clock_wall_ms();
    suga_status st = SUGA_OK;
    if (!e->init_recorded) { /* a custom runtime's Init phase is billed too */
        e->init_recorded = true;
        st = suga_guard_record_init(&e->guard, now, e->init.duration_ms, ctx);
    }
    suga_status recorded = suga_guard_record(&e->guard, now, billed_ms, ctx);
    if (st == SUGA_OK)
        st = recorded;
    e->invocations++;
    suga_secret_end_request(); /* the request's tokens are not the next one's to mask (or to keep) */
    /* the unloads happen before the metrics are written, so this invocation's line shows them */
    suga_status unloaded = suga_table_end_invocation(e->table);
    record_counts(e);
    suga_status flushed = suga_metrics_write_emf_line(suga_metrics_default(), now, e->metrics_namespace,
                                                      e->metrics_out, ctx);
    if (e->guard_path[0] && e->invocations % GUARD_SAVE_EVERY == 0)
        suga_guard_save(&e->guard, e->guard_path, NULL); /* best effort: the next save may succeed */
    if (st == SUGA_OK)
        st = unloaded;
    return st == SUGA_OK ? flushed : st;
}

suga_status suga_engine_shutdown(suga_engine *e, suga_ctx *ctx)
{
    if (!e || !e->table)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_engine_shutdown: an initialised engine is required");
    suga_status st = SUGA_OK;
    if (e->guard_path[0])
        st = suga_guard_save(&e->guard, e->guard_path, ctx);
    record_counts(e);
    suga_status flushed = suga_metrics_write_emf_line(suga_metrics_default(), suga_clock_wall_ms(),
                                                      e->metrics_namespace, e->metrics_out, ctx);
    if (current_engine == e)
        current_engine = NULL;
    return st == SUGA_OK ? flushed : st;
}

suga_status suga_engine_describe(const suga_engine *e, json_t **out)
{
    if (!e || !e->table || !out)
        return SUGA_E_INVALID_ARG;
    json_t *guard = NULL;
    suga_status st = suga_guard_status(&e->guard, suga_clock_wall_ms(), &guard, NULL);
    if (st != SUGA_OK)
        return st;
    *out = json_pack("{s:I, s:I, s:I, s:I, s:o, s:{s:I, s:f, s:b, s:s, s:s}}", "requests", (json_int_t)e->requests,
                     "request_errors", (json_int_t)e->request_errors, "invocations", (json_int_t)e->invocations,
                     "memory_mb", (json_int_t)e->guard.memory_mb, "guard", guard, "init", "started_ms",
                     (json_int_t)e->init.started_ms, "duration_ms", e->init.duration_ms, "guard_resumed",
                     e->init.guard_resumed, "guard_state_file", e->guard_path[0] ? e->guard_path : "(none)",
                     "guard_note", e->init.guard_note);
    return *out ? SUGA_OK : SUGA_E_NOMEM;
}
