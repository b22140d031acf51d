/* suga_metrics.h: the metrics registry and its CloudWatch Embedded Metric Format (EMF) output.
 *
 * A registry aggregates named measurements (invocations, latency, cache hits ...) and turns what
 * was recorded since the last flush into one EMF JSON object: a log line that CloudWatch Logs
 * turns into custom metrics, with no API call and no SDK. CloudWatch bills each custom metric
 * name it has ever received, so the budget has to hold over time, not per line: the only metrics
 * an EMF object ever carries are the names the registry was configured with (spec/limits.yaml
 * `limits.metrics.names`, at most SUGA_MAX_METRIC_NAMES = 10). Any other name can be recorded and
 * stays aggregated here (suga_metrics_get, suga_metrics_summary), never emitted; each line says
 * how many such metrics it left out. An unconfigured registry declares nothing, so emits nothing.
 * docs/metrics.md describes the output and how to find it in CloudWatch.
 *
 * Usage (what the engine does; the metrics.* operations use the same default registry):
 *
 *     suga_metrics *m = suga_metrics_default();
 *     suga_metrics_configure(m, suga_main_table.limits, &ctx);        // once: the declared names
 *     for each invocation:
 *         suga_metrics_record(m, "invocations", 1, "Count", NULL);
 *         suga_metrics_record_id(m, SUGA_METRIC_LATENCY, 12.5, "Milliseconds", NULL); // suga_ops.h
 *         suga_metrics_write_emf_line(m, now_ms, "suga", stdout, &ctx); // one line, then reset
 *
 * Units are CloudWatch's, spelled as CloudWatch spells them (suga_metrics_unit_names). A metric
 * keeps the unit of its first record. Order: the declared metrics in the order of the names,
 * then the others in the order they were first recorded (summary, plan and EMF objects use it).
 *
 * Every function but suga_metrics_default returns a suga_status; messages go to ctx->error (ctx
 * may be NULL). A call that fails leaves the registry as it was. Recording a metric that already
 * exists allocates nothing and costs a hash of its name; nothing here allocates on record at all.
 * Single-threaded, like the rest of the runtime: no locking.
 */
#ifndef SUGA_METRICS_H
#define SUGA_METRICS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "suga_table.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SUGA_METRICS_MAX 256            /* distinct metrics a registry holds */
#define SUGA_METRICS_NAME_MAX 64        /* bytes of a metric name: [A-Za-z0-9_.-]{1,64} */
#define SUGA_METRICS_EMF_MAX_METRICS 100 /* EMF: metric definitions in one directive */
#define SUGA_METRICS_EMF_MAX_VALUES 100  /* EMF: values in one metric's array */
#define SUGA_METRICS_NAMESPACE_MAX 255   /* CloudWatch: bytes of a namespace */
#define SUGA_METRICS_DEFAULT_NAMESPACE "suga"
/* The one dimension of every emitted metric: "Service": "suga". */
#define SUGA_METRICS_DIMENSION "Service"
#define SUGA_METRICS_DIMENSION_VALUE "suga"
/* Top-level member of an EMF object: how many metrics were recorded since the last line but not
 * emitted (their names are not declared). */
#define SUGA_METRICS_NOT_EMITTED_KEY "suga_metrics_not_emitted"

/* The accepted units, in the order of the `unit` enum of metrics.record (spec/metrics.yaml):
 * Count, Milliseconds, Bytes, Percent, None, Seconds, Kilobytes, Megabytes. */
#define SUGA_METRICS_UNIT_COUNT 8
extern const char *const suga_metrics_unit_names[SUGA_METRICS_UNIT_COUNT];

typedef struct suga_metrics suga_metrics;

/* The process-wide registry (static storage: no allocation, usable before any other call),
 * unconfigured until suga_metrics_configure: no name declared, nothing emitted. */
suga_metrics *suga_metrics_default(void);

/* A registry of your own, unconfigured and empty; free it with suga_metrics_free. */
suga_status suga_metrics_new(suga_metrics **out, suga_ctx *ctx);
/* NULL is fine; the default registry is refused (SUGA_E_INVALID_ARG). */
suga_status suga_metrics_free(suga_metrics *reg, suga_ctx *ctx);

/* Back to the state of a new registry: no metrics, unconfigured. */
suga_status suga_metrics_init(suga_metrics *reg, suga_ctx *ctx);

/* Declare the names that may be emitted, from the limits (spec/limits.yaml `limits.metrics.names`):
 * limits->metric_names[0 .. metric_name_count), at most SUGA_MAX_METRIC_NAMES valid metric names
 * (suga_metrics_check_name), no duplicates; copied, replacing any earlier declaration. Recorded
 * metrics are kept, and emitted from now on when their name is declared. */
suga_status suga_metrics_configure(suga_metrics *reg, const suga_limits *limits, suga_ctx *ctx);

/* Whether suga_metrics_configure has succeeded since the registry was created or initialised. */
suga_status suga_metrics_configured(const suga_metrics *reg, bool *out);

/* The metric name rule: 1 to 64 bytes of A-Z a-z 0-9 _ . - (within CloudWatch's rules), and not
 * one of the EMF object's own members "_aws", "Service", "suga_metrics_not_emitted".
 * SUGA_E_INVALID_ARG with the reason. suga-gen checks limits.metrics.names with it too. */
suga_status suga_metrics_check_name(const char *name, suga_ctx *ctx);

/* Add one observation. `unit` is one of suga_metrics_unit_names (exact spelling); NULL means
 * "Count". `value` must be finite. The first record of a name creates the metric (its name must
 * pass suga_metrics_check_name), declared or not; SUGA_E_LIMIT once SUGA_METRICS_MAX metrics
 * exist. Recording in another unit than the metric's is SUGA_E_INVALID_ARG naming both; a sum
 * that would overflow a double is SUGA_E_LIMIT. */
suga_status suga_metrics_record(suga_metrics *reg, const char *name, double value, const char *unit,
                                suga_ctx *ctx);

/* suga_metrics_record of the id-th declared name: `id` is a suga_metric_id from the generated
 * suga_ops.h (SUGA_METRIC_LATENCY ...) when the registry was configured from that table's limits,
 * so a metric meant for CloudWatch but not declared in the spec does not compile. An id beyond
 * the declared names is SUGA_E_INVALID_ARG. */
suga_status suga_metrics_record_id(suga_metrics *reg, uint32_t id, double value, const char *unit, suga_ctx *ctx);

/* One metric's aggregates. `since_*` cover the observations since the last flush; EMF keeps the
 * last SUGA_METRICS_EMF_MAX_VALUES of them (values_kept) for metrics that are not Counts. */
typedef struct suga_metric_stats {
    const char *unit;  /* one of suga_metrics_unit_names */
    bool declared;     /* its name is declared: it may be emitted */
    bool emitted;      /* would be in the next EMF object (declared, and recorded since the flush) */
    uint64_t count;
    double sum, min, max, last;
    uint64_t since_count;
    double since_sum, since_min, since_max; /* min and max are 0 when since_count is 0 */
    uint32_t values_kept;
} suga_metric_stats;

/* The aggregates of `name`; SUGA_E_NOT_FOUND ("no metric 'x' (did you mean 'y'?)") when it has
 * not been recorded (or was reset). */
suga_status suga_metrics_stats(const suga_metrics *reg, const char *name, suga_metric_stats *out, suga_ctx *ctx);

/* The same as JSON (a new object the caller owns):
 *   {"name", "unit", "declared", "emitted", "count", "sum", "min", "max", "mean", "last",
 *    "since_flush": {"count", "sum", "min", "max", "values_kept"}}
 * (since_flush min and max are null when nothing was recorded since the flush). Whole numbers
 * are JSON integers, others reals. */
suga_status suga_metrics_get(const suga_metrics *reg, const char *name, json_t **out, suga_ctx *ctx);

/* Every metric, declared ones first (in the order of the names), then the others as first recorded:
 *   {"metrics": [<as suga_metrics_get>...], "count": N, "max_metrics": 256, "emitted": N,
 *    "not_emitted": N}
 * emitted / not_emitted count the metrics recorded since the flush that the next EMF object
 * would carry / leave out (not declared). */
suga_status suga_metrics_summary(const suga_metrics *reg, json_t **out, suga_ctx *ctx);

/* Configuration and size: {"metrics": N, "max_metrics": 256, "names": [the declared names],
 * "configured": bool, "recorded_since_flush": N}. */
suga_status suga_metrics_status(const suga_metrics *reg, json_t **out, suga_ctx *ctx);

/* Which metrics recorded since the flush the next EMF object carries and which it leaves out,
 * both in the summary's order: {"emitted": [names], "not_emitted": [names]}. */
suga_status suga_metrics_plan(const suga_metrics *reg, json_t **out, suga_ctx *ctx);

/* Forget one metric (aggregates, unit and its place in the first-recorded order), or all of them
 * when name is NULL; the configuration stays. SUGA_E_NOT_FOUND for an unknown name. *removed
 * (may be NULL) is the number of metrics forgotten. */
suga_status suga_metrics_reset(suga_metrics *reg, const char *name, uint32_t *removed, suga_ctx *ctx);

/* One EMF object (new, the caller owns it) for the metrics recorded since the last flush:
 *   {"_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [{"Namespace": ns,
 *     "Dimensions": [["Service"]], "Metrics": [{"Name": "latency", "Unit": "Milliseconds"}, ...]}]},
 *    "Service": "suga", "invocations": 3, "latency": [12.5, 8, 30.25], ...,
 *    "suga_metrics_not_emitted": 0}
 * A Count metric's value is its sum since the flush; any other unit gives the array of values
 * observed since the flush (the last 100). Only declared metrics, in the order of the names: at
 * most SUGA_MAX_METRIC_NAMES. *out = NULL (and SUGA_OK) when no declared metric was recorded
 * since the flush.
 * `ns`: NULL means "suga"; else 1 to 255 bytes of A-Z a-z 0-9 . - _ / # : and space, not
 * starting with ':' or "AWS/" (CloudWatch's rules). timestamp_ms: ms since the epoch, >= 0.
 * Changes nothing. */
suga_status suga_metrics_emf(const suga_metrics *reg, int64_t timestamp_ms, const char *ns, json_t **out,
                             suga_ctx *ctx);

/* suga_metrics_emf, then, when it succeeded, reset every metric's since-flush aggregates (those
 * of metrics not emitted included: their observations stay in the totals only). */
suga_status suga_metrics_flush(suga_metrics *reg, int64_t timestamp_ms, const char *ns, json_t **out,
                               suga_ctx *ctx);

/* suga_metrics_flush written to `out` as one compact line ending in '\n', flushed (Lambda freezes
 * the process after the response; a buffered line would wait for the next invocation). Nothing is
 * written when there is nothing to emit. SUGA_E_IO when writing fails; the since-flush aggregates
 * are then kept, so the next line carries them. */
suga_status suga_metrics_write_emf_line(suga_metrics *reg, int64_t timestamp_ms, const char *ns, FILE *out,
                                        suga_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif
