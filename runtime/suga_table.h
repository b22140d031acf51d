/* suga_table.h: the table ABI, what suga-gen's output is compiled against: the rows of a
 * generated table (parameters, operations, modules, breakers, fusions, limits, the hash, routes)
 * with the run-time state the runtime keeps beside them, the interpreter of the parameter rows,
 * and the inline call by id.
 *
 * Apart from suga.h because a program that calls by name never needs the layout, and the layout
 * changes with the generator, not with the API. The generated suga_ops.h includes this header:
 * whoever has operation ids and argument structs has the call that takes them.
 *
 * The call by id is here, inline, rather than in suga.h: its success path reads table->ops[id]
 * (a range check, the call through the generated trampoline and a counter), so it costs about
 * what a function-pointer call costs (docs/performance.md), and that needs the layout; its only
 * callers hold ids and structs from suga_ops.h, which brings this header. The rare paths are out
 * of line (dispatch.c, modules.c).
 */
#ifndef SUGA_TABLE_H
#define SUGA_TABLE_H

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "suga.h"
#include "suga_schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the rows (written by suga-gen; see docs/architecture.md) ---- */

/* Per-parameter state built on first use: the compiled `pattern`, or the parsed default of an
 * object/array/any parameter. The generator allocates one (zeroed) per parameter that needs it. */
typedef struct suga_param_cache {
    int state; /* 0 = not built yet, 1 = ready, -1 = building failed */
    regex_t regex;
    json_t *default_value;
} suga_param_cache;

typedef struct suga_param {
    const char *name;
    const char *summary;
    suga_type type;
    bool required;
    bool has_default;
    bool has_min, has_max, has_max_len;
    int64_t int_min, int_max;  /* bounds for int */
    double num_min, num_max;   /* bounds for number */
    uint32_t max_len;          /* bytes for string, items for array */
    const char *pattern;       /* POSIX extended regex (unanchored), or NULL */
    const char *const *enum_values;
    uint16_t enum_count;
    /* default value, by type; default_json is its JSON text (all types, for display) */
    const char *default_string;
    int64_t default_int; /* int, bool (0/1) and enum (index) */
    double default_number;
    const char *default_json;
    uint32_t offset;          /* of the field in the argument struct */
    int32_t present_offset;   /* of its `has_` flag (optional, no default), else -1 */
    suga_param_cache *cache;  /* NULL when the type needs no run-time cache */
} suga_param;

typedef struct suga_module {
    const char *name;
    const char *category;
    suga_load load;
    suga_unload unload;
    uint32_t idle_seconds;
    const uint16_t *depends_on; /* indexes of the modules initialised before this one (spec:
                                 * depends_on), in index order; NULL when none */
    uint16_t depends_count;
} suga_module;

/* Run-time state of a module (one per module, mutable, kept by runtime/modules.c). Eager modules
 * are always "loaded"; lazy ones are shared objects opened on first use. */
typedef struct suga_module_state {
    void *handle;           /* dlopen handle of a loaded lazy module, else NULL */
    uint32_t in_flight;     /* calls running now: a module is never unloaded under them */
    bool unload_pending;    /* unload: deferred, waiting for suga_end_invocation */
    uint64_t loads, unloads, load_failures;
    uint64_t hits_without_load; /* result-cache hits while the module was not loaded */
    int64_t last_used_ms;   /* monotonic clock */
    char last_error[192];   /* why the last load failed (dlerror text), "" when it did not */
} suga_module_state;

/* A circuit breaker declared under limits.breakers (runtime/breaker.c, suga_breaker.h). */
typedef struct suga_breaker {
    const char *name;
    uint32_t failure_threshold;   /* consecutive counted failures that open it */
    uint32_t cooldown_seconds;    /* open → half-open */
    uint32_t half_open_max_calls; /* trial calls admitted at once while half-open */
    uint32_t success_threshold;   /* successful trials that close it again */
    const char *source;           /* "spec/limits.yaml:14:5" */
} suga_breaker;

/* Run-time state of a breaker (one per breaker, mutable, kept by runtime/breaker.c). All zero
 * is a closed breaker that has seen nothing. Times are on the caller's clock (now_ms). */
typedef struct suga_breaker_state {
    uint8_t phase;                 /* suga_breaker_phase (suga_breaker.h): closed, open, half-open */
    uint32_t consecutive_failures; /* counted failures since the last success */
    uint32_t trials_in_flight;     /* half-open: admitted trials not yet recorded */
    uint32_t trial_successes;      /* half-open: successful trials so far */
    int64_t opened_at_ms;          /* when it last opened */
    uint64_t trips, rejections, successes, failures;
} suga_breaker_state;

typedef suga_status (*suga_invoke_fn)(suga_ctx *ctx, const void *args, json_t **result);

struct suga_op {
    uint16_t id;
    uint16_t module;       /* index into the table's modules */
    uint32_t slot;         /* perfect-hash slot of the name (for inspection) */
    const char *name;      /* "interface.operation" */
    const char *interface;
    const char *operation;
    const char *summary;
    const char *handler;   /* C symbol of the handler */
    suga_invoke_fn invoke; /* generated trampoline: casts args to the typed struct */
    void **lazy_handler;   /* lazy modules: where the dlsym'ed handler goes (NULL when not
                            * loaded); eager modules: NULL, the handler is linked in */
    bool out_of_line;      /* a call by id needs more than the inline path: the module is lazy,
                            * a success invalidates cached results, or timeout_ms clips the
                            * deadline (suga_call_id_slow) */
    const suga_param *params;
    uint16_t param_count;
    uint32_t args_size;
    const char *returns_type; /* a suga_type name, or NULL when not declared */
    const char *returns_summary;
    bool fast_path;
    bool idempotent;
    bool essential;           /* false: shed first when the free-tier guard throttles */
    bool has_cache;
    uint32_t cache_ttl;       /* seconds */
    const uint16_t *invalidates; /* ids whose cached results a successful call clears */
    uint16_t invalidate_count;
    uint32_t retry_attempts;  /* 0 = no retry */
    uint32_t retry_backoff_ms;
    const char *breaker;      /* circuit breaker name, or NULL */
    uint16_t breaker_index;   /* into the table's breakers; UINT16_MAX when none */
    uint32_t timeout_ms;      /* 0 = none; else the deadline the handler sees is at most this
                               * far away, for the whole call with its retries */
    const char *source;       /* "spec/cache.yaml:12:3", where it was declared */
};

typedef struct suga_binding {
    const char *param;         /* argument of the step's operation */
    suga_binding_kind kind;
    const char *literal_json;  /* SUGA_BIND_LITERAL: JSON text */
    uint16_t step;             /* SUGA_BIND_STEP: index of the earlier step */
    const char *path;          /* INPUT: field name; STEP: dotted path into the result, "" = all */
    const char *source;        /* as written in the spec, e.g. "$steps.0.result.state" */
} suga_binding;

typedef struct suga_fusion_step {
    uint16_t op;               /* operation id */
    const char *op_name;
    const suga_binding *bindings;
    uint16_t binding_count;
} suga_fusion_step;

typedef struct suga_fusion {
    const char *name;
    const char *summary;
    const suga_param *params;  /* the fusion's input schema */
    uint16_t param_count;
    const suga_fusion_step *steps;
    uint16_t step_count;
    const char *source;
} suga_fusion;

typedef struct suga_limits {
    uint64_t requests_per_month;
    uint64_t gb_seconds_per_month;
    uint32_t warn_percent, throttle_percent, block_percent;
    /* limits.metrics.names: the only metrics an EMF line ever carries, in the order it carries
     * them (at most SUGA_MAX_METRIC_NAMES, the engine's own among them; the generated
     * suga_metric_id indexes this list). Other metrics stay in the process. */
    const char *const *metric_names;
    uint16_t metric_name_count;
    uint32_t memory_unload_above_mb;      /* resident memory that triggers unload: memory; 0 = ... */
    uint32_t memory_unload_above_percent; /* ... this share of the function's configured memory */
} suga_limits;

/* Description of the perfect hash, for inspection and --verify. */
typedef struct suga_hash_info {
    const char *algorithm;   /* "cmph BDZ_PH over 64-bit fingerprints" */
    uint64_t fingerprint_seed;
    uint32_t cmph_seed;
    uint32_t r;              /* vertices per part; slots = 3 r */
    uint32_t slot_count;
    uint32_t bytes;          /* size of g + slot map */
} suga_hash_info;

/* Per-operation counters kept by the dispatcher: calls by name and by id, including calls whose
 * arguments were rejected (those count as errors too). The fast-path wrappers bypass them. */
typedef struct suga_op_stats {
    uint64_t calls;
    uint64_t errors;
    uint64_t cache_hits; /* answered from the result cache, handler not called */
} suga_op_stats;

/* Event routes (spec: routes; looked up by runtime/routes.c, suga_routes.h). HTTP routes are
 * sorted by method, then path (byte order); Alexa routes exact first, then (namespace, "*"),
 * then ("*", "*"), and custom skill routes exact first, then "*", so the first match is the
 * most specific. */
typedef struct suga_http_route {
    const char *method;
    const char *path;
    uint16_t op;
    const char *source;
} suga_http_route;
/* on_error (Alexa and custom skill routes): the operation that answers the event when it cannot
 * be run (the guard refused it, settings could not be loaded, the operation failed), called
 * with {event, status, message}; SUGA_NO_OP when the route has none. */
typedef struct suga_alexa_route {
    const char *namespace_name; /* "*" = any */
    const char *name;           /* "*" = any */
    uint16_t op;
    uint16_t on_error;
    const char *source;
} suga_alexa_route;
typedef struct suga_skill_route {
    const char *request; /* custom skill request.type; "*" = any */
    uint16_t op;
    uint16_t on_error;
    const char *source;
} suga_skill_route;

/* A lifecycle hook (spec: lifecycle): an operation the engine's host runs with no arguments in
 * its phase (suga_engine_run_hooks, suga_engine.h). */
typedef struct suga_hook {
    uint16_t op;
    const char *error_type; /* init, invocation_start: the Lambda errorType of a failure; NULL = the status's own */
    const char *source;
} suga_hook;

struct suga_table {
    const char *inputs;      /* the spec files this table was generated from */
    const suga_op *ops;
    uint32_t op_count;
    const suga_module *modules;
    uint32_t module_count;
    const suga_fusion *fusions;
    uint32_t fusion_count;
    const suga_limits *limits;
    suga_hash_info hash;
    uint32_t (*find)(const char *name, size_t len); /* id, or SUGA_NO_OP */
    suga_op_stats *stats;    /* op_count entries, mutable */
    suga_module_state *module_states; /* module_count entries, mutable */
    struct suga_store **result_store; /* the result cache, created on first use (result_cache.c) */
    const suga_breaker *breakers;     /* limits.breakers, in name order */
    uint32_t breaker_count;
    suga_breaker_state *breaker_states; /* breaker_count entries, mutable */
    const uint16_t *module_init_order;  /* module_count indexes: dependencies first, ties by
                                         * declaration order (initialise in this order) */
    const suga_http_route *http_routes; uint32_t http_route_count;
    const suga_alexa_route *alexa_routes; uint32_t alexa_route_count;
    const suga_skill_route *skill_routes; uint32_t skill_route_count;
    const suga_hook *hooks[SUGA_HOOK__COUNT]; /* per phase (suga_hook_phase), in run order */
    uint32_t hook_counts[SUGA_HOOK__COUNT];
};

/* ---- the parameter rows' interpreter (args.c), shared with suga-gen ---- */

/* Decode and validate JSON arguments into the op's typed struct (`out` has op->args_size
 * bytes, zeroed by the caller: absent optional fields stay 0). On failure ctx->error reads e.g.
 *   cache.set: arg 'ttl' must be an integer in [0, 86400], got "x"                      */
suga_status suga_decode_args(suga_ctx *ctx, const char *what, const suga_param *params,
                             uint16_t param_count, json_t *args, void *out);

/* The two halves of suga_decode_args, for callers that have the values without an object
 * (fusion steps). suga_collect_args maps the members of `args` (an object, or NULL/null = none)
 * onto the params: values[i] (param_count slots, borrowed) is the member named params[i].name or
 * NULL; an unknown member is refused with a did-you-mean. suga_decode_values checks each value
 * (NULL = not given: the default, or "required") and writes the struct. */
suga_status suga_collect_args(suga_ctx *ctx, const char *what, const suga_param *params, uint16_t param_count,
                              json_t *args, json_t **values);
suga_status suga_decode_values(suga_ctx *ctx, const char *what, const suga_param *params, uint16_t param_count,
                               json_t *const *values, void *out);

/* Check one value against one parameter's rules (type, bounds, max_len, pattern, enum values).
 * `what` names the owner in the message ("cache.set"). suga-gen uses this same function to check
 * defaults and fusion literals, so the spec and the runtime can never disagree on a rule. */
suga_status suga_check_value(suga_ctx *ctx, const char *what, const suga_param *param, json_t *value);

/* Describe one parameter's schema as JSON (type, bounds, default...), for inspection. */
suga_status suga_param_schema(const suga_param *param, json_t **out);

/* suga_table_call_op_json (suga.h) with the arguments as one value per parameter of `op`
 * (op->param_count slots, borrowed, NULL = not given), as suga_collect_args makes them: what a
 * fusion step has, without building an object only to take it apart again. */
suga_status suga_table_call_op_values(const suga_table *table, suga_ctx *ctx, const suga_op *op,
                                      json_t *const *values, json_t **result);

/* ---- modules: lazy loading and unload policies (runtime/modules.c) ---- */

/* Where lazy modules are looked for: $SUGA_MODULE_DIR, else the directory of the running
 * executable. The file of module NAME is suga-NAME.so. */
suga_status suga_module_dir(char *out, size_t size);

/* Unload one lazy module now: SUGA_E_STATE when a call of it is in flight or a loaded module
 * depends on it (spec: depends_on; loading a module loads its lazy dependencies first). */
suga_status suga_module_unload(const suga_table *table, uint32_t module);

/* ---- call by id, inline: the success path is a range check, the call (ctx->op set around it)
 * and a counter, so calling by id costs about what a function-pointer call costs
 * (docs/performance.md). The rare paths are out of line. ---- */

/* Internal: bad arguments or an id out of range (sets the message, returns the status). */
suga_status suga_call_id_refused(const suga_table *table, suga_ctx *ctx, uint32_t id, const void *args,
                                 json_t **result);
/* Internal: the call path of operations marked out_of_line: a lazy module (load, call, unload
 * policy), the deadline clipped by timeout_ms while the handler runs, and invalidation of
 * cached results after a success. */
suga_status suga_call_id_slow(const suga_table *table, suga_ctx *ctx, uint32_t id, const void *args,
                              json_t **result);
/* Internal: the handler returned `status`; counts the error and drops any partial result. */
suga_status suga_call_id_failed(const suga_table *table, uint32_t id, suga_status status, json_t **result);

/* Call by id with a typed argument struct (`suga_args_<iface>_<op>` from suga_ops.h).
 * The caller owns *result (a new reference; NULL means JSON null). The struct is trusted: the
 * spec's rules (bounds, max_len, pattern, enum range) are checked only on the JSON path, so a
 * C caller that builds arguments from outside input must validate them itself. suga_call_id
 * calls into suga_main_table. */
static inline suga_status suga_table_call_id(const suga_table *table, suga_ctx *ctx, uint32_t id,
                                             const void *args, json_t **result)
{
    if (__builtin_expect(!table || !ctx || !args || !result || id >= table->op_count, 0))
        return suga_call_id_refused(table, ctx, id, args, result);
    if (table->ops[id].out_of_line) /* lazy module, cached results to invalidate, or timeout_ms */
        return suga_call_id_slow(table, ctx, id, args, result);
    *result = NULL;
    const suga_op *caller_op = ctx->op; /* the handler is told which operation it serves */
    ctx->op = &table->ops[id];
    suga_status status = table->ops[id].invoke(ctx, args, result);
    ctx->op = caller_op;
    table->stats[id].calls++;
    if (__builtin_expect(status != SUGA_OK, 0))
        return suga_call_id_failed(table, id, status, result);
    return SUGA_OK;
}

static inline suga_status suga_call_id(suga_ctx *ctx, uint32_t id, const void *args, json_t **result)
{
    return suga_table_call_id(&suga_main_table, ctx, id, args, result);
}

#ifdef __cplusplus
}
#endif

#endif
