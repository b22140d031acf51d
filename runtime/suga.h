/* suga.h: the public API of libsuga, the runtime that interprets the tables suga-gen generates.
 *
 * Two ways in:
 *   - by name with JSON arguments (`suga_call_json`): what Lambda events, the CLI and inspection
 *     use; the name goes through the perfect hash, the arguments through the generated decoder;
 *   - by id with a typed argument struct (`suga_call_id`, or the generated `suga_fast_*`
 *     wrappers): what C callers that know the operation at compile time use; no hashing.
 *
 * Errors are values: every function returns a suga_status; the message (naming the operation,
 * the argument and the rule) is in the suga_ctx. Nothing here exits or aborts on bad input.
 * The runtime is single-threaded by design (one Lambda invocation at a time per process).
 */
#ifndef SUGA_H
#define SUGA_H

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "suga_schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The statuses, and what each becomes outside the process (HTTP code, Lambda errorType, Alexa
 * ErrorResponse type), are rows of suga_status.def. */
typedef enum suga_status {
#define SUGA_STATUS(id, name, http, lambda_error_type, alexa_error_type) id,
#include "suga_status.def"
    SUGA_STATUS__COUNT
} suga_status;

/* Stable lower-case name of a status ("invalid_arg"), for logs and JSON error bodies;
 * "unknown_status" for a value that is not a status. */
const char *suga_status_name(suga_status status);

/* name → status, the inverse of suga_status_name: SUGA_E_NOT_FOUND (and *out untouched) for a
 * name that is no status's. */
suga_status suga_status_from_name(const char *name, suga_status *out);

/* The HTTP status an HTTP-shaped caller should answer for a status (Function URLs, API Gateway):
 * 200, 400 invalid_arg, 404 not_found, 413 limit, 429 budget, 503 unavailable, 500 otherwise. */
int suga_status_http(suga_status status);

/* The errorType of a Lambda function error for a failure ("InvalidArgument", "NotFound",
 * "BudgetExhausted" ...); "InternalError" for SUGA_OK and for a value that is not a status. */
const char *suga_status_lambda_error_type(suga_status status);

/* The type of an Alexa ErrorResponse for a failure (RATE_LIMIT_EXCEEDED, ENDPOINT_UNREACHABLE,
 * INVALID_DIRECTIVE); "INTERNAL_ERROR" for every other status, SUGA_OK and non-statuses. */
const char *suga_status_alexa_error_type(suga_status status);

/* A borrowed, length-delimited string (decoded string arguments point into the JSON input and
 * are valid for the duration of the call). `ptr` is NUL-terminated when it comes from JSON. */
typedef struct suga_str {
    const char *ptr;
    size_t len;
} suga_str;

#define SUGA_ERROR_MAX 512

/* Per-call context: where the error message goes, and who the call is for. */
typedef struct suga_ctx {
    char error[SUGA_ERROR_MAX];
    const char *request_id;     /* Lambda request id, or NULL */
    const char *correlation_id; /* propagated into logs, or NULL */
    int64_t deadline_ms;        /* wall-clock ms since the epoch, 0 = none; while an operation
                                 * with timeout_ms (spec) runs, its handler sees this clipped to
                                 * now + timeout_ms, restored when it returns */
    bool under_breaker;         /* true while the call runs inside an operation guarded by a
                                 * circuit breaker (spec: breaker; or circuit_breaker.call), which
                                 * counts the operation's outcome once, retries included: a
                                 * handler that guards its own dependency (http_client's per-host
                                 * breakers) leaves it to that breaker instead of counting the
                                 * same failure again. Set by the dispatcher (and
                                 * circuit_breaker.call) around the guarded call and restored
                                 * after it; suga_ctx_init clears it */
} suga_ctx;

void suga_ctx_init(suga_ctx *ctx);

/* Copy `in` into out[size] (cut at size - 1 bytes), each byte that is not part of well-formed
 * UTF-8 replaced by '?': a message that quotes input can then go into JSON. */
void suga_utf8_sanitize(const char *in, char *out, size_t size);

/* Record an error message in ctx and return `status` (so handlers can `return suga_fail(...)`). */
suga_status suga_fail(suga_ctx *ctx, suga_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the tables (written by suga-gen; see docs/architecture.md) ---- */

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

typedef struct suga_op {
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
} suga_op;

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
    uint32_t max_custom_metrics;
    const char *const *metric_priorities;
    uint16_t metric_priority_count;
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
typedef struct suga_http_route { const char *method; const char *path; uint16_t op; const char *source; } suga_http_route;
/* on_error (Alexa and custom skill routes): the operation that answers the event when it cannot
 * be run (the guard refused it, settings could not be loaded, the operation failed), called
 * with {event, status, message}; SUGA_NO_OP when the route has none. */
typedef struct suga_alexa_route { const char *namespace_name; const char *name; uint16_t op; uint16_t on_error; const char *source; } suga_alexa_route; /* "*" = any */
typedef struct suga_skill_route { const char *request; uint16_t op; uint16_t on_error; const char *source; } suga_skill_route; /* custom skill request.type; "*" = any */

typedef struct suga_table {
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
} suga_table;

/* The table compiled into this program from the spec files (spec/NAME.yaml). */
extern const suga_table suga_main_table;

/* ---- lookup and calls ---- */

/* name → descriptor through the perfect hash; SUGA_E_NOT_FOUND for unknown names. */
suga_status suga_lookup(const char *name, size_t len, const suga_op **out);
suga_status suga_table_lookup(const suga_table *table, const char *name, size_t len,
                              const suga_op **out);

/* id → descriptor; SUGA_E_NOT_FOUND when out of range. */
suga_status suga_op_by_id(uint32_t id, const suga_op **out);

/* Call by id with a typed argument struct (`suga_args_<iface>_<op>` from suga_ops.h).
 * The caller owns *result (a new reference; NULL means JSON null). The struct is trusted: the
 * spec's rules (bounds, max_len, pattern, enum range) are checked only on the JSON path, so a
 * C caller that builds arguments from outside input must validate them itself. */
static inline suga_status suga_table_call_id(const suga_table *table, suga_ctx *ctx, uint32_t id,
                                             const void *args, json_t **result);
static inline suga_status suga_call_id(suga_ctx *ctx, uint32_t id, const void *args, json_t **result);

/* Call by name with a JSON object of arguments (NULL = no arguments): lookup, decode and
 * validate, invoke. Strings in `args` are borrowed by the handler for the call only. */
suga_status suga_call_json(suga_ctx *ctx, const char *name, size_t len, json_t *args,
                           json_t **result);
suga_status suga_table_call_json(const suga_table *table, suga_ctx *ctx, const char *name,
                                 size_t len, json_t *args, json_t **result);
/* The same for an operation already resolved (a descriptor of `table`): decode, validate, call.
 * Used where ids were resolved at generation time (fusion steps) and by batch requests. */
suga_status suga_table_call_op_json(const suga_table *table, suga_ctx *ctx, const suga_op *op, json_t *args,
                                    json_t **result);
/* The same with the arguments as one value per parameter of `op` (op->param_count slots,
 * borrowed, NULL = not given), as suga_collect_args makes them: what a fusion step has, without
 * building an object only to take it apart again. */
suga_status suga_table_call_op_values(const suga_table *table, suga_ctx *ctx, const suga_op *op,
                                      json_t *const *values, json_t **result);

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

/* The candidate closest to `word` by edit distance when it is a likely typo, else NULL.
 * Used for "did you mean" hints on unknown operations, arguments and spec keys. */
const char *suga_closest(const char *word, const char *const *candidates, size_t count);
/* The same over an array of structs whose `const char *` name is at `offset` (offsetof) in each
 * `stride`-byte item: no list of names to build, e.g.
 *   suga_closest_member(w, t->ops, t->op_count, sizeof *t->ops, offsetof(suga_op, name)) */
const char *suga_closest_member(const char *word, const void *items, size_t count, size_t stride, size_t offset);

/* Describe one parameter's schema as JSON (type, bounds, default...), for inspection. */
suga_status suga_param_schema(const suga_param *param, json_t **out);

/* ---- introspection, served from the compiled table (suga-inspect --json, debug.*) ---- */

/* One operation as JSON: name, id, slot, handler, module and its policies, fast_path, cache,
 * retry, breaker, timeout, returns, source; with_params adds the parameter schemas. */
suga_status suga_describe_op(const suga_table *table, const suga_op *op, bool with_params, json_t **out);

typedef enum suga_describe_what {
    SUGA_DESCRIBE_OPERATIONS, /* array of operations (without params) */
    SUGA_DESCRIBE_MODULES,    /* array of modules */
    SUGA_DESCRIBE_FUSIONS,    /* array of fusions with steps and bindings */
    SUGA_DESCRIBE_LIMITS,     /* object: free tier and metric budget */
    SUGA_DESCRIBE_HASH,       /* object: perfect hash parameters */
} suga_describe_what;

suga_status suga_describe_table(const suga_table *table, suga_describe_what what, json_t **out);

/* Free what a table built at run time: per-parameter caches (compiled regexes, parsed
 * defaults) and the result cache. */
suga_status suga_table_release(const suga_table *table);

/* ---- modules: lazy loading and unload policies (runtime/modules.c) ---- */

/* Where lazy modules are looked for: $SUGA_MODULE_DIR, else the directory of the running
 * executable. The file of module NAME is suga-NAME.so. */
suga_status suga_module_dir(char *out, size_t size);

/* Load (if lazy and not loaded) the module of `op` and resolve its handlers; count the call as
 * in flight. Pair with suga_module_leave. A failed load leaves other modules serving. */
suga_status suga_module_enter(const suga_table *table, suga_ctx *ctx, const suga_op *op);
/* The call of `op` returned: apply the module's unload policy (immediate unloads now, deferred
 * marks for suga_end_invocation). */
suga_status suga_module_leave(const suga_table *table, const suga_op *op);

/* End of one invocation (Lambda: after the response is sent): unload deferred modules, modules
 * idle longer than their idle_seconds, and, when resident memory is above the limit, memory-policy
 * modules, least recently used first. */
suga_status suga_table_end_invocation(const suga_table *table);
suga_status suga_end_invocation(void);

/* Unload one lazy module now: SUGA_E_STATE when a call of it is in flight or a loaded module
 * depends on it (spec: depends_on; loading a module loads its lazy dependencies first). */
suga_status suga_module_unload(const suga_table *table, uint32_t module);

/* Modules with their policy and live state as JSON (suga-inspect --live, debug.diagnostics). */
suga_status suga_describe_modules_live(const suga_table *table, json_t **out);

/* ---- call by id, inline: the success path is a range check, the call and a counter, so calling
 * by id costs about what a function-pointer call costs (docs/performance.md). The rare paths
 * are out of line. ---- */

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

static inline suga_status suga_table_call_id(const suga_table *table, suga_ctx *ctx, uint32_t id,
                                             const void *args, json_t **result)
{
    if (__builtin_expect(!table || !ctx || !args || !result || id >= table->op_count, 0))
        return suga_call_id_refused(table, ctx, id, args, result);
    if (table->ops[id].out_of_line) /* lazy module, cached results to invalidate, or timeout_ms */
        return suga_call_id_slow(table, ctx, id, args, result);
    *result = NULL;
    suga_status status = table->ops[id].invoke(ctx, args, result);
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
