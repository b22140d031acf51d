/* suga_engine.h: one request through every request-level stage.
 *
 * The dispatcher (suga.h) calls one operation; fusion.c runs fusions and batches. The engine
 * wraps them with what a request needs once, however many operations it runs:
 *
 *     request ──▶ shape check ──▶ free-tier guard (one admission) ──▶ operation | fusion | batch
 *             ──▶ metrics (invocations, errors, latency, cache hits) ──▶ one log record
 *
 * and, at the end of each invocation (suga_engine_end_invocation), counts it against the free
 * tier, writes the invocation's metrics as one CloudWatch EMF line, and applies the modules'
 * deferred, idle and memory unload policies.
 *
 * A request is a JSON object of one of three shapes:
 *     {"op": "interface.operation", "args": {...}}
 *     {"fusion": "name", "args": {...}}
 *     {"batch": [{"op" | "fusion": ..., "args": ...}, ...], "stop_on_error": false}
 * each with an optional "correlation_id" (string), carried into the log records.
 *
 * One engine per process (the Lambda bootstrap, the suga CLI); it is not thread-safe, like the
 * rest of the runtime. The last engine initialised is the one handlers see (suga_engine_current),
 * so debug.diagnostics, lambda.* and initialization.* can report on it.
 */
#ifndef SUGA_ENGINE_H
#define SUGA_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "suga.h"
#include "suga_guard.h"
#include "suga_metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Memory assumed when AWS_LAMBDA_FUNCTION_MEMORY_SIZE is not set (running locally): Lambda's
 * smallest size, so the guard errs on the side of counting less than a real function would. */
#define SUGA_ENGINE_DEFAULT_MEMORY_MB 128

typedef struct suga_engine_config {
    /* The function's memory in MB; 0 = AWS_LAMBDA_FUNCTION_MEMORY_SIZE, else the default above. */
    uint32_t memory_mb;
    /* Where the guard's counts are saved and resumed from; NULL = $SUGA_GUARD_STATE_FILE, else
     * /tmp/suga-guard.json on Lambda (AWS_LAMBDA_FUNCTION_NAME set), else not persisted.
     * "" = never persist. */
    const char *guard_state_path;
    /* Where EMF metric lines go; NULL = stdout (Lambda sends it to CloudWatch Logs). */
    FILE *metrics_out;
    /* CloudWatch namespace of the metrics; NULL = $SUGA_METRICS_NAMESPACE, else "suga". */
    const char *metrics_namespace;
} suga_engine_config;

/* Init phase, for initialization.status: what ran and how long it took. */
typedef struct suga_engine_init_info {
    int64_t started_ms;  /* wall clock */
    double duration_ms;  /* suga_engine_init itself */
    bool guard_resumed;  /* counts came from a saved state file */
    char guard_note[SUGA_ERROR_MAX + 64]; /* why the state file was not used, "" when it was or there is none */
} suga_engine_init_info;

typedef struct suga_engine {
    const suga_table *table;
    suga_guard guard;
    char guard_path[256];  /* "" = not persisted */
    FILE *metrics_out;
    char metrics_namespace[SUGA_METRICS_NAMESPACE_MAX + 1];
    suga_engine_init_info init;
    bool init_recorded;    /* the Init phase's GB-seconds went to the guard */
    uint64_t invocations;  /* ended with suga_engine_end_invocation */
    uint64_t requests, request_errors, cache_hits; /* since the engine started */
    /* the counts above, and the modules' loads and unloads, at the last end of invocation: the
     * metrics of an invocation are the differences */
    uint64_t requests_seen, request_errors_seen, cache_hits_seen;
    uint64_t module_loads_seen, module_unloads_seen;
} suga_engine;

/* Start the engine over `table`: the guard (budgets from table->limits; resumed from the state
 * file when there is one for this month), the metric names that may be emitted (the default
 * registry is configured with table->limits), the log level. A state file that cannot be used is
 * not fatal: the guard starts from zero and the reason is logged and kept in e->init.guard_note.
 * Fails (SUGA_E_INVALID_ARG, message in ctx) only on a configuration that cannot work: bad limits
 * (among them, metric names that omit one the engine records: suga_engine_metric_names), a
 * non-numeric or out-of-range AWS_LAMBDA_FUNCTION_MEMORY_SIZE. */
suga_status suga_engine_init(suga_engine *e, const suga_table *table, const suga_engine_config *config,
                             suga_ctx *ctx);

/* Run one request (borrowed) through every stage; on success *result (a new reference, NULL =
 * JSON null) is the operation's result, the fusion's {"result", "steps"} or the batch's
 * {"results", "succeeded", "failed", "skipped"}. On failure ctx->error says why: a malformed
 * request (SUGA_E_INVALID_ARG), an unknown name (SUGA_E_NOT_FOUND), the guard (SUGA_E_BUDGET),
 * or the operation's own error. ctx's request id, correlation id and deadline are used as they
 * are; the request's "correlation_id" fills the correlation id when ctx has none, for the
 * duration of the call (ctx is left as it was given). */
suga_status suga_engine_request(suga_engine *e, suga_ctx *ctx, json_t *request, json_t **result);

/* Run the operations the spec's lifecycle declares for `phase` (table->hooks), in order, each
 * by id with no arguments, outside the guard and the request counts (they are the host's
 * housekeeping, not requests):
 *   SUGA_HOOK_INIT              once, after suga_engine_init and before the first event;
 *   SUGA_HOOK_INVOCATION_START  before each event is run (ctx: the invocation's request id and
 *                               deadline);
 *   SUGA_HOOK_INVOCATION_END    after each answer is sent (suga_engine_end_invocation runs them).
 * Init and invocation-start hooks stop at the first failure and return it with ctx->error and
 * *failed (may be NULL) set, unlogged: the host reports it (an init error; the event refused with
 * the hook's error_type). Invocation-end hooks all run; each failure is logged as a warning and
 * the first one is returned. SUGA_OK when the phase has no hooks. */
suga_status suga_engine_run_hooks(suga_engine *e, suga_hook_phase phase, suga_ctx *ctx, const suga_hook **failed);

/* End of one invocation (Lambda: after the response is posted). `billed_ms` is the invocation's
 * duration from receiving the event to posting the response. Runs the invocation_end hooks
 * (their failures are logged, not returned), counts it against the free tier
 * (the first one also counts the Init phase), writes the EMF line, applies unload policies and
 * saves the guard's state every 100 invocations and whenever its level changed. The request's
 * secrets (suga_secret_add_request) are forgotten. */
suga_status suga_engine_end_invocation(suga_engine *e, double billed_ms, suga_ctx *ctx);

/* Save the guard's state and flush pending metrics (SIGTERM, process exit). */
suga_status suga_engine_shutdown(suga_engine *e, suga_ctx *ctx);

/* The engine initialised last in this process, or NULL (handlers report on it). */
suga_engine *suga_engine_current(void);

/* Engine state as JSON for diagnostics: {"requests", "request_errors", "invocations", "memory_mb",
 * "guard": suga_guard_status, "init": {...}}. */
suga_status suga_engine_describe(const suga_engine *e, json_t **out);

#ifdef __cplusplus
}
#endif

#endif
