/* model.h: the parsed spec, as the stages of suga-gen pass it along.
 *
 *   parse.c    YAML files → gen_model (syntax, keys, value types; positions kept on every node)
 *   validate.c gen_model  → checked and resolved model (cross-file rules, ids, bindings)
 *   mphf.c     names      → perfect hash parameters (cmph), self-checked
 *   emit.c     model+hash → suga_ops.h, suga_ops.c, suga_lookup.c
 *
 * Every parsed thing carries the position of the node it came from, so any stage can report
 * `file:line:col: error: ...` through diag.h. All strings are owned by the model's arena.
 */
#ifndef SUGA_GEN_MODEL_H
#define SUGA_GEN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "arena.h"
#include "diag.h"
#include "suga_schema.h"

typedef struct gen_param {
    gen_loc loc;
    char *name;
    char *summary;
    suga_type type;
    gen_loc type_loc;
    bool required;
    bool has_default, has_min, has_max, has_max_len;
    char *default_json; /* canonical JSON text of the default */
    gen_loc default_loc;
    /* numeric bounds as written; for int params they are integral */
    double min, max;
    int64_t imin, imax;
    gen_loc min_loc, max_loc;
    uint32_t max_len;
    char *pattern;
    gen_loc pattern_loc;
    char **enum_values;
    size_t enum_count;
    gen_loc enum_loc;
} gen_param;

/* A reference to an operation (or, in depends_on, a module) by name, resolved by validate.c. */
typedef struct gen_ref {
    gen_loc loc;
    char *name;
    uint16_t id; /* operation id, or module index */
} gen_ref;

typedef struct gen_module {
    gen_loc loc;
    char *name;
    char *category;
    suga_load load;
    gen_loc load_loc;
    suga_unload unload;
    uint32_t idle_seconds;
    bool has_idle_seconds;
    gen_loc idle_loc;
    gen_ref *depends_on; /* modules initialised before this one, as written */
    size_t depends_count;
    gen_loc depends_loc;
    /* filled by validate */
    size_t declared;     /* position of the first declaration over all files (init-order ties) */
} gen_module;

/* A circuit breaker declared under limits.breakers; operations name it with `breaker:`. */
typedef struct gen_breaker {
    gen_loc loc;
    char *name;
    uint32_t failure_threshold;   /* consecutive failures that open it */
    uint32_t cooldown_seconds;    /* open → half-open */
    uint32_t half_open_max_calls; /* trial calls admitted while half-open */
    uint32_t success_threshold;   /* half-open successes that close it */
} gen_breaker;

typedef struct gen_op {
    gen_loc loc;
    struct gen_interface *iface;
    char *name;      /* operation name */
    char *full_name; /* interface.operation */
    char *summary;
    char *handler;
    gen_loc handler_loc;
    gen_param *params;
    size_t param_count;
    char *returns_type; /* NULL when not declared */
    char *returns_summary;
    bool fast_path;
    gen_loc fast_path_loc;
    bool idempotent;
    bool essential;
    bool has_cache;
    uint32_t cache_ttl;
    uint32_t retry_attempts, retry_backoff_ms;
    char *breaker;
    gen_loc breaker_loc;
    uint32_t timeout_ms;
    gen_ref *invalidates; /* operations whose cached results a successful call clears */
    size_t invalidate_count;
    /* filled by validate/mphf */
    uint16_t id;
    uint16_t module_index;
    uint16_t breaker_index; /* into limits.breakers (name order), UINT16_MAX when none */
    uint32_t slot;
} gen_op;

typedef struct gen_interface {
    gen_loc loc; /* of the `interface:` value */
    char *name;
    char *summary;
    gen_module module;
    bool has_module;
    gen_op *ops;
    size_t op_count;
} gen_interface;

typedef struct gen_binding {
    gen_loc loc;
    char *param;
    suga_binding_kind kind;
    char *literal_json;
    char *source;   /* the `$...` text for INPUT/STEP */
    uint16_t step;
    char *path;
} gen_binding;

typedef struct gen_step {
    gen_loc loc;
    char *op_name;
    gen_loc op_loc;
    gen_binding *bindings;
    size_t binding_count;
    uint16_t op_id; /* resolved by validate */
} gen_step;

typedef struct gen_fusion {
    gen_loc loc;
    char *name;
    char *summary;
    gen_param *params;
    size_t param_count;
    gen_step *steps;
    size_t step_count;
} gen_fusion;

/* An event route (spec: routes.http, routes.alexa, routes.alexa_skill): which operation answers
 * an event. The shape rules are checked by parse.c; validate.c resolves `op`, refuses duplicates and sorts
 * the lists into the order the runtime searches them (runtime/routes.c). */
typedef struct gen_http_route {
    gen_loc loc;  /* of the route's mapping: the generated `source` */
    char *method; /* GET, POST, PUT, DELETE, PATCH or HEAD */
    char *path;   /* exact: "/health" */
    gen_ref op;
    char *summary;
} gen_http_route;

typedef struct gen_alexa_route {
    gen_loc loc;
    char *namespace_name; /* "Alexa.Discovery", or "*" (then name is "*" too) */
    char *name;           /* "Discover", or "*" */
    gen_ref op;
    gen_ref on_error;     /* answers the event when it cannot be run (name NULL: none) */
    char *summary;
} gen_alexa_route;

typedef struct gen_skill_route {
    gen_loc loc;
    char *request; /* request.type: "IntentRequest", "AudioPlayer.PlaybackStarted", or "*" */
    gen_ref op;
    gen_ref on_error;
    char *summary;
} gen_skill_route;

/* A lifecycle hook (spec: lifecycle.<phase>): an operation the engine's host runs with no
 * arguments at that point of its life (runtime: suga_engine_run_hooks). validate.c resolves `op`
 * and checks it can be called without arguments. */
typedef struct gen_hook {
    gen_loc loc;
    gen_ref op;
    char *error_type; /* init and invocation_start: the Lambda errorType of a failure, or NULL */
    char *summary;
} gen_hook;

typedef struct gen_limits {
    gen_loc loc;
    uint64_t requests_per_month;
    uint64_t gb_seconds_per_month;
    uint32_t warn_percent, throttle_percent, block_percent;
    gen_loc percent_loc;
    uint32_t memory_unload_above_mb, memory_unload_above_percent;
    /* metrics.names: the only metrics ever emitted, in order (at most SUGA_MAX_METRIC_NAMES);
     * the defaults are the engine's own (suga_engine_metric_names) */
    const char *const *metric_names;
    size_t metric_name_count;
    gen_loc *metric_name_locs; /* NULL for the defaults */
    gen_loc metric_names_loc;  /* of the `names` sequence */
    char **metric_constants;   /* built by validate: SUGA_METRIC_<NAME>, the generated suga_metric_id */
    gen_breaker *breakers; /* sorted by name by validate: the index is suga_op.breaker_index */
    size_t breaker_count;
} gen_limits;

typedef struct gen_model {
    gen_arena arena; /* owns every string and array below */
    gen_diag diag;
    gen_interface *interfaces;
    size_t interface_count;
    gen_fusion *fusions;
    size_t fusion_count;
    gen_limits limits;
    bool has_limits;
    gen_http_route *http_routes; /* all files, in input order; sorted by validate (method, path) */
    size_t http_route_count;
    gen_alexa_route *alexa_routes; /* sorted by validate: exact, then (namespace, *), then (*, *) */
    size_t alexa_route_count;
    gen_skill_route *skill_routes; /* sorted by validate: exact request types, then "*" */
    size_t skill_route_count;
    gen_hook *hooks[SUGA_HOOK__COUNT]; /* per phase, all files, in input order (the run order) */
    size_t hook_count[SUGA_HOOK__COUNT];
    char **inputs; /* display names of the input files, in command-line order */
    size_t input_count;
    /* built by validate: every operation sorted by full name (index = id) */
    gen_op **ops;
    size_t op_count;
    gen_module **modules; /* distinct modules, sorted by name */
    size_t module_count;
    uint16_t *module_init_order; /* module indexes, dependencies first, ties by declaration */
} gen_model;

/* Stage entry points; each returns 0 on success, -1 after reporting errors via model->diag. */
void gen_model_init(gen_model *model, FILE *diag_out);
void gen_limits_defaults(gen_limits *limits);
int gen_parse_buffer(gen_model *model, const char *display_name, const unsigned char *data, size_t len);
int gen_parse_file(gen_model *model, const char *path, const char *display_name);
int gen_validate(gen_model *model);
void gen_model_free(gen_model *model);

#endif
