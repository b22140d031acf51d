/* suga_schema.h: the vocabulary shared by the generator (suga-gen) and the runtime.
 *
 * Both sides must agree on the numbering of types and policies because the generator writes
 * these values into the tables the runtime reads; keeping them in one header (with their spelling
 * in the spec) means a new policy is added in exactly one place. No dependencies beyond libc.
 */
#ifndef SUGA_SCHEMA_H
#define SUGA_SCHEMA_H

#include <stddef.h>

/* Parameter types, spelled as in the spec (`type: string`). */
typedef enum suga_type {
    SUGA_T_STRING = 0,
    SUGA_T_INT,
    SUGA_T_NUMBER,
    SUGA_T_BOOL,
    SUGA_T_ENUM,
    SUGA_T_OBJECT,
    SUGA_T_ARRAY,
    SUGA_T_ANY,
    SUGA_T__COUNT
} suga_type;

/* Module load policy (`module: {load: ...}`). */
typedef enum suga_load {
    SUGA_LOAD_EAGER = 0,
    SUGA_LOAD_LAZY,
    SUGA_LOAD__COUNT
} suga_load;

/* Module unload policy (`module: {unload: ...}`). */
typedef enum suga_unload {
    SUGA_UNLOAD_NEVER = 0,
    SUGA_UNLOAD_IMMEDIATE,
    SUGA_UNLOAD_DEFERRED,
    SUGA_UNLOAD_IDLE,
    SUGA_UNLOAD_MEMORY,
    SUGA_UNLOAD__COUNT
} suga_unload;

/* Fusion argument binding kinds: a literal from the spec, a field of the fusion's input, or
 * (part of) the result of an earlier step. */
typedef enum suga_binding_kind {
    SUGA_BIND_LITERAL = 0,
    SUGA_BIND_INPUT,
    SUGA_BIND_STEP,
} suga_binding_kind;

/* Lifecycle hook phases (spec: `lifecycle: {init: [...], invocation_start: [...], ...}`): where
 * in the host's life (the Lambda bootstrap, suga_engine.h) the phase's operations run. */
typedef enum suga_hook_phase {
    SUGA_HOOK_INIT = 0,         /* once, before the first event; a failure is an init error */
    SUGA_HOOK_INVOCATION_START, /* before each event; a failure refuses the event */
    SUGA_HOOK_INVOCATION_END,   /* after each answer is sent; a failure is only logged */
    SUGA_HOOK__COUNT
} suga_hook_phase;

static const char *const suga_hook_phase_names[SUGA_HOOK__COUNT] = {
    [SUGA_HOOK_INIT] = "init",
    [SUGA_HOOK_INVOCATION_START] = "invocation_start",
    [SUGA_HOOK_INVOCATION_END] = "invocation_end",
};

/* The metrics the engine records itself (runtime/engine.c). The engine names them by these
 * constants only, so a metric it has no constant for does not compile; and since only the names
 * a table declares (spec: limits.metrics.names) are ever emitted, each of these must be declared:
 * suga-gen refuses a spec whose `names` omits one, and suga_engine_init refuses a table whose
 * limits omit one (a table not made by this suga-gen). A new engine metric is added here, and
 * then to spec/limits.yaml, which holds at most SUGA_MAX_METRIC_NAMES. */
typedef enum suga_engine_metric {
    SUGA_ENGINE_METRIC_INVOCATIONS = 0, /* Count: requests */
    SUGA_ENGINE_METRIC_ERRORS,          /* Count: requests that failed */
    SUGA_ENGINE_METRIC_LATENCY,         /* Milliseconds: each request's duration */
    SUGA_ENGINE_METRIC_CACHE_HITS,      /* Count: result-cache hits */
    SUGA_ENGINE_METRIC_MODULE_LOADS,    /* Count: lazy modules opened */
    SUGA_ENGINE_METRIC_MODULE_UNLOADS,  /* Count: lazy modules closed */
    SUGA_ENGINE_METRIC_GUARD_STATE,     /* None: the free-tier guard's new level */
    SUGA_ENGINE_METRIC__COUNT
} suga_engine_metric;

static const char *const suga_engine_metric_names[SUGA_ENGINE_METRIC__COUNT] = {
    [SUGA_ENGINE_METRIC_INVOCATIONS] = "invocations",
    [SUGA_ENGINE_METRIC_ERRORS] = "errors",
    [SUGA_ENGINE_METRIC_LATENCY] = "latency",
    [SUGA_ENGINE_METRIC_CACHE_HITS] = "cache_hits",
    [SUGA_ENGINE_METRIC_MODULE_LOADS] = "module_loads",
    [SUGA_ENGINE_METRIC_MODULE_UNLOADS] = "module_unloads",
    [SUGA_ENGINE_METRIC_GUARD_STATE] = "guard_state",
};

static const char *const suga_type_names[SUGA_T__COUNT] = {
    [SUGA_T_STRING] = "string", [SUGA_T_INT] = "int",       [SUGA_T_NUMBER] = "number",
    [SUGA_T_BOOL] = "bool",     [SUGA_T_ENUM] = "enum",     [SUGA_T_OBJECT] = "object",
    [SUGA_T_ARRAY] = "array",   [SUGA_T_ANY] = "any",
};

static const char *const suga_load_names[SUGA_LOAD__COUNT] = {
    [SUGA_LOAD_EAGER] = "eager",
    [SUGA_LOAD_LAZY] = "lazy",
};

static const char *const suga_unload_names[SUGA_UNLOAD__COUNT] = {
    [SUGA_UNLOAD_NEVER] = "never",         [SUGA_UNLOAD_IMMEDIATE] = "immediate",
    [SUGA_UNLOAD_DEFERRED] = "deferred",   [SUGA_UNLOAD_IDLE] = "idle",
    [SUGA_UNLOAD_MEMORY] = "memory",
};

/* Hard limits of the table format: ids are uint16_t with 0xFFFF meaning "no operation", and an
 * argument struct must fit the runtime's fixed decode buffer. */
#define SUGA_MAX_OPERATIONS 65535u
#define SUGA_NO_OP 0xFFFFu
#define SUGA_MAX_PARAMS 64u
#define SUGA_ARGS_BUF_SIZE 2048u
#define SUGA_MAX_NAME_LEN 255u
/* Metric names a table may declare (limits.metrics.names): the only metrics ever emitted, each
 * one CloudWatch custom metric, billed; 10 is the number the AWS free tier includes. */
#define SUGA_MAX_METRIC_NAMES 10u

#endif
