/* suga_metrics.h: the metrics registry and its CloudWatch Embedded Metric Format (EMF) output.
 *
 * A registry aggregates named measurements (invocations, latency, cache hits ...) and turns what
 * was recorded since the last flush into one EMF JSON object: a log line that CloudWatch Logs
 * turns into custom metrics, with no API call and no SDK. CloudWatch bills each custom metric, so
 * a flush emits at most `max_custom_metrics` of them (spec/limits.yaml: 10), the highest-priority
 * ones; the others stay aggregated here (suga_metrics_get, suga_metrics_summary) and the line says
 * how many were held back. docs/metrics.md describes the output and how to find it in CloudWatch.
 *
 * Usage (what the engine does; the metrics.* operations use the same default registry):
 *
 *     suga_metrics *m = suga_metrics_default();
 *     suga_metrics_configure(m, suga_main_table.limits, &ctx);        // once: budget, priorities
 *     for each invocation:
 *         suga_metrics_record(m, "invocations", 1, "Count", NULL);
 *         suga_metrics_record(m, "latency", 12.5, "Milliseconds", NULL);
 *         suga_metrics_write_emf_line(m, now_ms, "suga", stdout, &ctx); // one line, then reset
 *
 * Units are CloudWatch's, spelled as CloudWatch spells them (suga_metrics_unit_names). A metric
 * keeps the unit of its first record. Priority: a metric named in the configured priority list
 * ranks by its place there; the others rank after all listed ones, in the order they were first
 * recorded.
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
#define SUGA_METRICS_DEFAULT_EMITTED 10 /* max_custom_metrics until configured */
#define SUGA_METRICS_EMF_MAX_METRICS 100 /* EMF: metric definitions in one directive */
#define SUGA_METRICS_EMF_MAX_VALUES 100  /* EMF: values in one metric's array */
#define SUGA_METRICS_NAMESPACE_MAX 255   /* CloudWatch: bytes of a namespace */
#define SUGA_METRICS_DEFAULT_NAMESPACE "suga"
/* The one dimension of every emitted metric: "Service": "suga". */
#define SUGA_METRICS_DIMENSION "Service"
#define SUGA_METRICS_DIMENSION_VALUE "suga"
/* Top-level member of an EMF object: how many metrics were recorded but held back. */
#define SUGA_METRICS_NOT_EMITTED_KEY "suga_metrics_not_emitted"

/* The accepted units, in the order of the `unit` enum of metrics.record (spec/metrics.yaml):
 * Count, Milliseconds, Bytes, Percent, None, Seconds, Kilobytes, Megabytes. */
#define SUGA_METRICS_UNIT_COUNT 8
extern const char *const suga_metrics_unit_names[SUGA_METRICS_UNIT_COUNT];

typedef struct suga_metrics suga_metrics;

/* The process-wide registry (static storage: no allocation, usable before any other call),
 * unconfigured until suga_metrics_configure: 10 metrics emitted, no priority list. */
suga_metrics *suga_metrics_default(void);

/* A registry of your own, unconfigured and empty; free it with suga_metrics_free. */
suga_status suga_metrics_new(suga_metrics **out, suga_ctx *ctx);
/* NULL is fine; the default registry is refused (SUGA_E_INVALID_ARG). */
suga_status suga_metrics_free(suga_metrics *reg, suga_ctx *ctx);

/* Back to the state of a new registry: no metrics, unconfigured. */
suga_status suga_metrics_init(suga_metrics *reg, suga_ctx *ctx);

/* Take the metric budget from the limits (spec/limits.yaml `limits.metrics`):
 * limits->max_custom_metrics (0 .. SUGA_METRICS_EMF_MAX_METRICS; 0 turns EMF output off) and the
 * priority list limits->metric_priorities[0 .. metric_priority_count) (valid metric names, no
 * duplicates, at most SUGA_METRICS_MAX), copied. Recorded metrics are kept and re-ranked. */
suga_status suga_metrics_configure(suga_metrics *reg, const suga_limits *limits, suga_ctx *ctx);

/* Whether suga_metrics_configure has succeeded since the registry was created or initialised. */
suga_status suga_metrics_configured(const suga_metrics *reg, bool *out);

/* Add one observation. `unit` is one of suga_metrics_unit_names (exact spelling); NULL means
 * "Count". `value` must be finite. The first record of a name creates the metric (its name must
 * be 1 to 64 bytes of A-Z a-z 0-9 _ . -, and not one of the EMF object's own members "_aws",
 * "Service", "suga_metrics_not_emitted"); SUGA_E_LIMIT once SUGA_METRICS_MAX metrics exist.
 * Recording in another unit than the metric's is SUGA_E_INVALID_ARG naming both; a sum that
 * would overflow a double is SUGA_E_LIMIT. */
suga_status suga_metrics_record(suga_metrics *reg, const char *name, double value, const char *unit,
                                suga_ctx *ctx);

/* One metric's aggregates. `since_*` cover the observations since the last flush; EMF keeps the
 * last SUGA_METRICS_EMF_MAX_VALUES of them (values_kept) for metrics that are not Counts. */
typedef struct suga_metric_stats {
    const char *unit;  /* one of suga_metrics_unit_names */
    uint32_t priority; /* place in the emission order, 0 first */
    bool listed;       /* named in the configured priority list */
    bool emitted;      /* would be in the next EMF object (recorded since the flush, within budget) */
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
 *   {"name", "unit", "priority", "listed", "emitted", "count", "sum", "min", "max", "mean", "last",
 *    "since_flush": {"count", "sum", "min", "max", "values_kept"}}
 * (since_flush min and max are null when nothing was recorded since the flush). Whole numbers
 * are JSON integers, others reals. */
suga_status suga_metrics_get(const suga_metrics *reg, const char *name, json_t **out, suga_ctx *ctx);

/* Every metric, in priority order:
 *   {"metrics": [<as suga_metrics_get>...], "count": N, "max_metrics": 256,
 *    "max_custom_metrics": N, "emitted": N, "not_emitted": N}
 * emitted / not_emitted count the metrics recorded since the flush that the next EMF object
 * would carry / hold back. */
suga_status suga_metrics_summary(const suga_metrics *reg, json_t **out, suga_ctx *ctx);

/* Configuration and size: {"metrics": N, "max_metrics": 256, "max_custom_metrics": N,
 * "priorities": [names], "configured": bool, "recorded_since_flush": N}. */
suga_status suga_metrics_status(const suga_metrics *reg, json_t **out, suga_ctx *ctx);

/* Which metrics recorded since the flush the next EMF object carries and which it holds back,
 * both in priority order: {"emitted": [names], "not_emitted": [names]}. */
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
 * observed since the flush (the last 100). At most max_custom_metrics metrics, by priority.
 * *out = NULL (and SUGA_OK) when nothing was recorded since the flush, or max_custom_metrics is 0.
 * `ns`: NULL means "suga"; else 1 to 255 bytes of A-Z a-z 0-9 . - _ / # : and space, not
 * starting with ':' or "AWS/" (CloudWatch's rules). timestamp_ms: ms since the epoch, >= 0.
 * Changes nothing. */
suga_status suga_metrics_emf(const suga_metrics *reg, int64_t timestamp_ms, const char *ns, json_t **out,
                             suga_ctx *ctx);

/* suga_metrics_emf, then, when it succeeded, reset every metric's since-flush aggregates (held
 * back metrics' included: their observations stay in the totals only). */
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
