/* suga_breaker.h: named circuit breakers (spec: limits.breakers, an operation's `breaker:`) and
 * the retry policy (an operation's `retry:`).
 *
 * A breaker protects callers from a dependency that is down: after failure_threshold counted
 * failures in a row it opens, and calls are refused at once (SUGA_E_UNAVAILABLE) instead of
 * waiting on the dependency; after cooldown_seconds it is half-open and lets up to
 * half_open_max_calls trial calls through; success_threshold successful trials close it, and a
 * failed trial opens it again with a fresh cooldown.
 *
 *     closed --(failure_threshold consecutive failures)--> open
 *     open   --(cooldown_seconds elapsed, on the next admit)--> half_open
 *     half_open --(success_threshold successful trials)--> closed
 *     half_open --(any failed trial)--> open (cooldown starts again)
 *
 * Usage around one call of an operation whose breaker_index is not SUGA_NO_BREAKER:
 *
 *     st = suga_breaker_admit(table, op->breaker_index, now_ms, ctx);
 *     if (st != SUGA_OK) return st;                 // open: refused, nothing was called
 *     st = <call the operation>;
 *     suga_breaker_record_status(table, op->breaker_index, st, now_ms);
 *
 * Every admitted call must be followed by exactly one record (suga_breaker_record,
 * suga_breaker_record_status or suga_breaker_release): a half-open breaker holds a trial slot
 * for each admitted call until then. Time is always passed in (ms on one clock of the caller's
 * choosing; the engine uses its monotonic clock), so nothing here reads a clock, sleeps or
 * allocates on the admit/record path. The state lives in the table's breaker_states (one per
 * declared breaker, generated zeroed = closed); the runtime is single-threaded, so no locking.
 *
 * The state machine itself works on one declaration and one state (suga_breaker_state_*, at the
 * end of this file), so a breaker can also live outside a table: http_client keeps one state per
 * host, all driven by the declaration of the breaker named "http_client" (docs/http_client.md).
 * The table-indexed functions check the index and call those.
 */
#ifndef SUGA_BREAKER_H
#define SUGA_BREAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "suga_table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* suga_op.breaker_index of an operation without a breaker. */
#define SUGA_NO_BREAKER UINT16_MAX

/* The values of suga_breaker_state.phase. */
typedef enum suga_breaker_phase {
    SUGA_BREAKER_CLOSED = 0, /* calls pass; consecutive counted failures are counted */
    SUGA_BREAKER_OPEN,       /* calls are refused until the cooldown has elapsed */
    SUGA_BREAKER_HALF_OPEN,  /* a limited number of trial calls pass */
    SUGA_BREAKER_PHASE__COUNT
} suga_breaker_phase;

/* Stable lower-case name ("closed", "open", "half_open"), for logs and JSON. */
const char *suga_breaker_phase_name(suga_breaker_phase phase);

/* Whether a call that ended with `status` counts as a failure of the dependency behind the
 * breaker. Counted: SUGA_E_UNAVAILABLE (it is down, or its module could not be loaded),
 * SUGA_E_IO (talking to it failed) and SUGA_E_HANDLER (it answered with a failure). Not
 * counted: SUGA_OK, and the failures that are the caller's or this process's own doing, which
 * say nothing about the dependency: SUGA_E_INVALID_ARG, SUGA_E_NOT_FOUND (bad input),
 * SUGA_E_BUDGET (refused by the free-tier guard), SUGA_E_NOMEM, SUGA_E_STATE, SUGA_E_LIMIT and
 * SUGA_E_INTERNAL. */
bool suga_breaker_counts_failure(suga_status status);

/* May a call go through breaker `index` now? SUGA_OK (counted as admitted: record its outcome),
 * or SUGA_E_UNAVAILABLE with ctx->error reading e.g.
 *   circuit breaker 'homeassistant' is open after 5 consecutive failures; next trial in 12.3 s
 * An open breaker whose cooldown has elapsed becomes half-open here. SUGA_E_NOT_FOUND when the
 * index is out of range; ctx may be NULL. */
suga_status suga_breaker_admit(const suga_table *table, uint16_t index, int64_t now_ms, suga_ctx *ctx);

/* The outcome of an admitted call: `success` false for a counted failure. Closed: failures in a
 * row open it at failure_threshold, a success resets the run. Half-open: the call was a trial;
 * success_threshold successes close it, a failure reopens it with a fresh cooldown. Open (a call
 * admitted before it opened, finishing late): counted in the statistics, the state is kept. */
suga_status suga_breaker_record(const suga_table *table, uint16_t index, bool success, int64_t now_ms);

/* An admitted call ended in a way that says nothing about the dependency (bad arguments, say):
 * frees its half-open trial slot without counting a success or a failure. */
suga_status suga_breaker_release(const suga_table *table, uint16_t index);

/* record(true) for SUGA_OK, record(false) when suga_breaker_counts_failure(status), else
 * release: the one call a dispatcher needs after an admitted call. */
suga_status suga_breaker_record_status(const suga_table *table, uint16_t index, suga_status status, int64_t now_ms);

/* Close the breaker now (an operator knows the dependency is back). The statistics (trips,
 * rejections, successes, failures) are kept. */
suga_status suga_breaker_reset(const suga_table *table, uint16_t index);

/* The phase the breaker is in at now_ms, without changing it: an open breaker whose cooldown
 * has elapsed reads as half-open (the next admit makes it so). */
suga_status suga_breaker_phase_at(const suga_table *table, uint16_t index, int64_t now_ms, suga_breaker_phase *out);

/* name → index. SUGA_E_NOT_FOUND for an unknown name, with ctx->error reading e.g.
 *   unknown circuit breaker 'homeasistant' (did you mean 'homeassistant'?)
 * ctx may be NULL. */
suga_status suga_breaker_find(const suga_table *table, const char *name, size_t len, uint16_t *index, suga_ctx *ctx);

/* One breaker as JSON: {name, state, consecutive_failures, failure_threshold, cooldown_seconds,
 * half_open_max_calls, success_threshold, opened_at (ms, when open or half-open), retry_in_ms
 * (when open), trials_in_flight (when half-open), trips, rejections, successes, failures,
 * source}. Nothing is changed (see suga_breaker_phase_at). */
suga_status suga_breaker_describe(const suga_table *table, uint16_t index, int64_t now_ms, json_t **out);

/* Every breaker of the table, in index (name) order, as a JSON array. */
suga_status suga_breaker_describe_all(const suga_table *table, int64_t now_ms, json_t **out);

/* ---- the state machine on one declaration and one state ----
 *
 * The same transitions and messages as the table-indexed functions above, for a breaker whose
 * state the caller keeps (zeroed = closed). `config` is never changed. SUGA_E_INVALID_ARG for a
 * NULL config or state (with a message in ctx when there is one). */

/* As suga_breaker_admit. `subject` names the breaker at the start of a refusal message, e.g.
 *   "http_client.make_request: circuit breaker for http://127.0.0.1:2773" gives
 *   "http_client.make_request: circuit breaker for http://127.0.0.1:2773 is open after 5
 *    consecutive failures; next trial in 12.3 s";
 * NULL gives "circuit breaker 'NAME'" with config->name. */
suga_status suga_breaker_state_admit(const suga_breaker *config, suga_breaker_state *state, const char *subject,
                                     int64_t now_ms, suga_ctx *ctx);
/* As suga_breaker_record, suga_breaker_release, suga_breaker_record_status, suga_breaker_reset. */
suga_status suga_breaker_state_record(const suga_breaker *config, suga_breaker_state *state, bool success,
                                      int64_t now_ms);
suga_status suga_breaker_state_release(suga_breaker_state *state);
suga_status suga_breaker_state_record_status(const suga_breaker *config, suga_breaker_state *state,
                                             suga_status status, int64_t now_ms);
suga_status suga_breaker_state_reset(suga_breaker_state *state);
/* As suga_breaker_phase_at and suga_breaker_describe (the "name" and "source" are config's). */
suga_status suga_breaker_state_phase(const suga_breaker *config, const suga_breaker_state *state, int64_t now_ms,
                                     suga_breaker_phase *out);
suga_status suga_breaker_state_describe(const suga_breaker *config, const suga_breaker_state *state, int64_t now_ms,
                                        json_t **out);

/* The retry policy of `op` (spec: retry: {attempts, backoff_ms}). retry_attempts counts every
 * try, the first one included: attempts: 3 is one call and up to two retries. For retry number
 * `attempt` (1 = the first retry), SUGA_OK with *delay_ms = retry_backoff_ms × 2^(attempt-1)
 * (100, 200, 400 ... for backoff_ms: 100) when
 *   - the operation is idempotent (running it twice must be harmless),
 *   - attempt < retry_attempts (tries left), and
 *   - now_ms + delay is still before deadline_ms (0 = no deadline), so the retry can run;
 * else SUGA_E_STATE (do not retry) with *delay_ms = 0. SUGA_E_INVALID_ARG for attempt 0 (the
 * first try is not a retry) or NULL pointers. Whether the failure is worth retrying is the
 * caller's decision (suga_breaker_counts_failure is a good test). */
suga_status suga_retry_delay_ms(const suga_op *op, uint32_t attempt, int64_t now_ms, int64_t deadline_ms,
                                uint32_t *delay_ms);

#ifdef __cplusplus
}
#endif

#endif
