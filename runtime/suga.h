/* suga.h: the public API of libsuga, the runtime that interprets the tables suga-gen generates:
 * statuses, the call context, lookup, calls by name, introspection.
 *
 * Two ways in:
 *   - by name with JSON arguments (suga_call_json, here): what Lambda events, the CLI and
 *     inspection use; the name goes through the perfect hash, the arguments through the
 *     table-driven decoder;
 *   - by id with a typed argument struct (suga_call_id, or the generated suga_fast_* wrappers):
 *     what C callers that know the operation at compile time use; no hashing. The ids and the
 *     structs come from the generated suga_ops.h, which brings the table ABI and the inline call
 *     path with it (suga_table.h).
 *
 * Elsewhere: the table ABI generated code is compiled against (suga_table.h); the request-level
 * engine (suga_engine.h); what handlers share: the clock (suga_clock.h), the log (suga_log.h),
 * the result cache (suga_result_cache.h), masking (suga_mask.h), "did you mean" (suga_suggest.h).
 *
 * Errors are values: every function returns a suga_status; the message (naming the operation,
 * the argument and the rule) is in the suga_ctx. Nothing here exits or aborts on bad input.
 * The runtime is single-threaded by design (one Lambda invocation at a time per process).
 */
#ifndef SUGA_H
#define SUGA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status ---- */

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

/* ---- the call context ---- */

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
    const struct suga_op *op;   /* the operation whose handler is running, NULL outside one: a
                                 * handler names itself in messages with ctx->op->name instead
                                 * of spelling its own name, which could drift from the spec's.
                                 * Set by the dispatcher (and the fast-path wrappers) around
                                 * every handler call and restored after it, so a handler that
                                 * calls another operation has its own back when that returns */
} suga_ctx;

void suga_ctx_init(suga_ctx *ctx);

/* Copy `in` into out[size] (cut at size - 1 bytes), each byte that is not part of well-formed
 * UTF-8 replaced by '?': a message that quotes input can then go into JSON. */
void suga_utf8_sanitize(const char *in, char *out, size_t size);

/* Whether s[0..len) is well-formed UTF-8 (no overlong forms, surrogates or code points above
 * U+10FFFF), as jansson requires of every JSON string. A NULL s is valid only when len is 0. */
bool suga_utf8_valid(const char *s, size_t len);

/* The length (1 to 4) of the well-formed UTF-8 sequence at s, which has `avail` bytes readable,
 * or 0 when there is none (avail == 0 included). */
size_t suga_utf8_sequence_len(const char *s, size_t avail);

/* Record an error message in ctx and return `status` (so handlers can `return suga_fail(...)`). */
suga_status suga_fail(suga_ctx *ctx, suga_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- lookup ---- */

/* A compiled table and one operation's descriptor; their layout is in suga_table.h. */
typedef struct suga_table suga_table;
typedef struct suga_op suga_op;

/* The table compiled into this program from the spec files (spec/NAME.yaml). */
extern const suga_table suga_main_table;

/* name → descriptor through the perfect hash; SUGA_E_NOT_FOUND for unknown names. */
suga_status suga_lookup(const char *name, size_t len, const suga_op **out);
suga_status suga_table_lookup(const suga_table *table, const char *name, size_t len,
                              const suga_op **out);

/* id → descriptor; SUGA_E_NOT_FOUND when out of range. */
suga_status suga_op_by_id(uint32_t id, const suga_op **out);

/* ---- calls ---- */

/* Call by name with a JSON object of arguments (NULL = no arguments): lookup, decode and
 * validate, invoke. Strings in `args` are borrowed by the handler for the call only. The caller
 * owns *result (a new reference; NULL means JSON null). */
suga_status suga_call_json(suga_ctx *ctx, const char *name, size_t len, json_t *args,
                           json_t **result);
suga_status suga_table_call_json(const suga_table *table, suga_ctx *ctx, const char *name,
                                 size_t len, json_t *args, json_t **result);
/* The same by the generated id (SUGA_OP_* of suga_ops.h) on the engine's own table: what
 * modules use to call each other, so a misspelt operation is a compile error and no name is
 * hashed. An id out of range is SUGA_E_NOT_FOUND. */
suga_status suga_call_op_json(suga_ctx *ctx, uint32_t id, json_t *args, json_t **result);
/* The same for an operation already resolved (a descriptor of `table`): decode, validate, call.
 * Used where ids were resolved at generation time (fusion steps) and by batch requests. */
suga_status suga_table_call_op_json(const suga_table *table, suga_ctx *ctx, const suga_op *op, json_t *args,
                                    json_t **result);

/* End of one invocation (Lambda: after the response is sent): unload deferred modules, modules
 * idle longer than their idle_seconds, and, when resident memory is above the limit, memory-policy
 * modules, least recently used first. */
suga_status suga_table_end_invocation(const suga_table *table);
suga_status suga_end_invocation(void);

/* Free what a table built at run time: per-parameter caches (compiled regexes, parsed
 * defaults) and the result cache. */
suga_status suga_table_release(const suga_table *table);

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
    SUGA_DESCRIBE_HOOKS,      /* object: lifecycle hooks by phase */
} suga_describe_what;

suga_status suga_describe_table(const suga_table *table, suga_describe_what what, json_t **out);

/* Modules with their policy and live state as JSON (suga-inspect --live, debug.diagnostics). */
suga_status suga_describe_modules_live(const suga_table *table, json_t **out);

#ifdef __cplusplus
}
#endif

#endif
