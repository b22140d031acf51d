/* breaker.c: the circuit-breaker state machine, and the retry delay policy. See suga_breaker.h
 * for the transitions and the admit/record protocol.
 *
 * The state machine works on one breaker's declaration and state (suga_breaker_state_*), so a
 * breaker can live outside a table: http_client keeps one per host. The table-indexed functions
 * (suga_breaker_admit ...) check the index and call it on the table's breakers and
 * breaker_states.
 *
 * The admit and record paths are a bounds check and a few integer updates: no allocation, no
 * clock (now_ms comes from the caller), and a message is formatted only when a call is refused.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "suga_breaker.h"
#include "suga_suggest.h"

static const char *const phase_names[SUGA_BREAKER_PHASE__COUNT] = {
    [SUGA_BREAKER_CLOSED] = "closed",
    [SUGA_BREAKER_OPEN] = "open",
    [SUGA_BREAKER_HALF_OPEN] = "half_open",
};

const char *suga_breaker_phase_name(suga_breaker_phase phase)
{
    if ((unsigned)phase >= SUGA_BREAKER_PHASE__COUNT)
        return "unknown";
    return phase_names[phase];
}

bool suga_breaker_counts_failure(suga_status status)
{
    return status == SUGA_E_UNAVAILABLE || status == SUGA_E_IO || status == SUGA_E_HANDLER;
}

/* ---- the state machine, on one breaker's declaration and state ---- */

static int64_t cooldown_ms(const suga_breaker *b)
{
    return (int64_t)b->cooldown_seconds * 1000;
}

/* Exactly at opened_at + cooldown the breaker is half-open: the cooldown has fully elapsed. */
static suga_breaker_phase phase_at(const suga_breaker *b, const suga_breaker_state *s, int64_t now_ms)
{
    if (s->phase == SUGA_BREAKER_OPEN && now_ms - s->opened_at_ms >= cooldown_ms(b))
        return SUGA_BREAKER_HALF_OPEN;
    return (suga_breaker_phase)s->phase;
}

static void open_breaker(suga_breaker_state *s, int64_t now_ms)
{
    s->phase = SUGA_BREAKER_OPEN;
    s->opened_at_ms = now_ms;
    s->trials_in_flight = 0;
    s->trial_successes = 0;
    s->trips++;
}

static suga_status no_breaker(suga_ctx *ctx)
{
    return suga_fail(ctx, SUGA_E_INVALID_ARG, "circuit breaker: no declaration or no state");
}

suga_status suga_breaker_state_admit(const suga_breaker *b, suga_breaker_state *s, const char *subject,
                                     int64_t now_ms, suga_ctx *ctx)
{
    if (!b || !s)
        return no_breaker(ctx);
    if (s->phase == SUGA_BREAKER_CLOSED)
        return SUGA_OK;
    /* a refusal names the breaker as the caller asks, by default by its spec name; three
     * pieces, so nothing is formatted unless a call is refused */
    const char *pre = subject ? subject : "circuit breaker '", *name = subject ? "" : b->name ? b->name : "?",
               *post = subject ? "" : "'";
    if (s->phase == SUGA_BREAKER_OPEN) {
        if (phase_at(b, s, now_ms) == SUGA_BREAKER_OPEN) {
            s->rejections++;
            int64_t left = s->opened_at_ms + cooldown_ms(b) - now_ms;
            /* rounded up to the tenth, so "0.0 s" is never shown while it is still open */
            int64_t tenths = (left + 99) / 100;
            return suga_fail(ctx, SUGA_E_UNAVAILABLE,
                             "%s%s%s is open after %u consecutive failures; next trial in %lld.%lld s", pre, name, post,
                             (unsigned)s->consecutive_failures, (long long)(tenths / 10), (long long)(tenths % 10));
        }
        s->phase = SUGA_BREAKER_HALF_OPEN;
        s->trials_in_flight = 0;
        s->trial_successes = 0;
    }
    if (s->trials_in_flight >= b->half_open_max_calls) {
        s->rejections++;
        return suga_fail(ctx, SUGA_E_UNAVAILABLE,
                         "%s%s%s is half-open and its %u trial call%s already running; try again when %s", pre, name,
                         post, (unsigned)b->half_open_max_calls, b->half_open_max_calls == 1 ? " is" : "s are",
                         b->half_open_max_calls == 1 ? "it has finished" : "one has finished");
    }
    s->trials_in_flight++;
    return SUGA_OK;
}

suga_status suga_breaker_state_record(const suga_breaker *b, suga_breaker_state *s, bool success, int64_t now_ms)
{
    if (!b || !s)
        return SUGA_E_INVALID_ARG;
    if (success) {
        s->successes++;
        switch ((suga_breaker_phase)s->phase) {
        case SUGA_BREAKER_CLOSED:
            s->consecutive_failures = 0;
            break;
        case SUGA_BREAKER_HALF_OPEN:
            if (s->trials_in_flight)
                s->trials_in_flight--;
            if (++s->trial_successes >= b->success_threshold) {
                s->phase = SUGA_BREAKER_CLOSED;
                s->consecutive_failures = 0;
                s->trial_successes = 0;
                s->trials_in_flight = 0;
            }
            break;
        default: /* open: a late answer proves little; the cooldown and a trial decide */
            break;
        }
        return SUGA_OK;
    }
    s->failures++;
    s->consecutive_failures++;
    switch ((suga_breaker_phase)s->phase) {
    case SUGA_BREAKER_CLOSED:
        if (s->consecutive_failures >= b->failure_threshold)
            open_breaker(s, now_ms);
        break;
    case SUGA_BREAKER_HALF_OPEN:
        open_breaker(s, now_ms); /* the dependency is still down: a whole new cooldown */
        break;
    default: /* already open: a late failure does not extend the cooldown */
        break;
    }
    return SUGA_OK;
}

suga_status suga_breaker_state_release(suga_breaker_state *s)
{
    if (!s)
        return SUGA_E_INVALID_ARG;
    if (s->phase == SUGA_BREAKER_HALF_OPEN && s->trials_in_flight)
        s->trials_in_flight--;
    return SUGA_OK;
}

suga_status suga_breaker_state_record_status(const suga_breaker *b, suga_breaker_state *s, suga_status status,
                                             int64_t now_ms)
{
    if (status == SUGA_OK)
        return suga_breaker_state_record(b, s, true, now_ms);
    if (suga_breaker_counts_failure(status))
        return suga_breaker_state_record(b, s, false, now_ms);
    return suga_breaker_state_release(s);
}

suga_status suga_breaker_state_reset(suga_breaker_state *s)
{
    if (!s)
        return SUGA_E_INVALID_ARG;
    s->phase = SUGA_BREAKER_CLOSED;
    s->consecutive_failures = 0;
    s->trials_in_flight = 0;
    s->trial_successes = 0;
    s->opened_at_ms = 0;
    return SUGA_OK;
}

suga_status suga_breaker_state_phase(const suga_breaker *b, const suga_breaker_state *s, int64_t now_ms,
                                     suga_breaker_phase *out)
{
    if (!b || !s || !out)
        return SUGA_E_INVALID_ARG;
    *out = phase_at(b, s, now_ms);
    return SUGA_OK;
}

/* ---- the table's breakers, by index: thin wrappers over the state machine ---- */

static bool valid(const suga_table *t, uint16_t index)
{
    return t && t->breaker_states && t->breakers && index < t->breaker_count;
}

static suga_status bad_index(const suga_table *t, uint16_t index, suga_ctx *ctx)
{
    if (!t)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "circuit breaker: no table");
    return suga_fail(ctx, SUGA_E_NOT_FOUND, "no circuit breaker with index %u (this table has %u)", (unsigned)index,
                     (unsigned)t->breaker_count);
}

suga_status suga_breaker_admit(const suga_table *t, uint16_t index, int64_t now_ms, suga_ctx *ctx)
{
    if (!valid(t, index))
        return bad_index(t, index, ctx);
    return suga_breaker_state_admit(&t->breakers[index], &t->breaker_states[index], NULL, now_ms, ctx);
}

suga_status suga_breaker_record(const suga_table *t, uint16_t index, bool success, int64_t now_ms)
{
    if (!valid(t, index))
        return bad_index(t, index, NULL);
    return suga_breaker_state_record(&t->breakers[index], &t->breaker_states[index], success, now_ms);
}

suga_status suga_breaker_release(const suga_table *t, uint16_t index)
{
    if (!valid(t, index))
        return bad_index(t, index, NULL);
    return suga_breaker_state_release(&t->breaker_states[index]);
}

suga_status suga_breaker_record_status(const suga_table *t, uint16_t index, suga_status status, int64_t now_ms)
{
    if (!valid(t, index))
        return bad_index(t, index, NULL);
    return suga_breaker_state_record_status(&t->breakers[index], &t->breaker_states[index], status, now_ms);
}

suga_status suga_breaker_reset(const suga_table *t, uint16_t index)
{
    if (!valid(t, index))
        return bad_index(t, index, NULL);
    return suga_breaker_state_reset(&t->breaker_states[index]);
}

suga_status suga_breaker_phase_at(const suga_table *t, uint16_t index, int64_t now_ms, suga_breaker_phase *out)
{
    if (!out)
        return SUGA_E_INVALID_ARG;
    if (!valid(t, index))
        return bad_index(t, index, NULL);
    return suga_breaker_state_phase(&t->breakers[index], &t->breaker_states[index], now_ms, out);
}

suga_status suga_breaker_find(const suga_table *t, const char *name, size_t len, uint16_t *index, suga_ctx *ctx)
{
    if (!t || !name || !index)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "circuit breaker: no table, name or index");
    for (uint32_t i = 0; t->breakers && i < t->breaker_count; i++) {
        if (strlen(t->breakers[i].name) == len && !memcmp(t->breakers[i].name, name, len)) {
            *index = (uint16_t)i;
            return SUGA_OK;
        }
    }
    /* an unknown name is shown (bounded) and compared as a C string; the hint scans every name,
     * which is fine on this error path */
    char shown[SUGA_MAX_NAME_LEN + 1];
    size_t n = len < SUGA_MAX_NAME_LEN ? len : SUGA_MAX_NAME_LEN;
    memcpy(shown, name, n);
    shown[n] = '\0';
    if (t->breaker_count == 0)
        return suga_fail(ctx, SUGA_E_NOT_FOUND, "unknown circuit breaker '%s' (none is declared in limits.breakers)",
                         shown);
    const char *best =
        suga_closest_member(shown, t->breakers, t->breaker_count, sizeof *t->breakers, offsetof(suga_breaker, name));
    if (best)
        return suga_fail(ctx, SUGA_E_NOT_FOUND, "unknown circuit breaker '%s' (did you mean '%s'?)", shown, best);
    return suga_fail(ctx, SUGA_E_NOT_FOUND, "unknown circuit breaker '%s'", shown);
}

static json_t *breaker_json(const suga_breaker *b, const suga_breaker_state *s, int64_t now_ms)
{
    suga_breaker_phase phase = phase_at(b, s, now_ms);
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s?}", "name", b->name, "state",
                          suga_breaker_phase_name(phase), "consecutive_failures", (json_int_t)s->consecutive_failures,
                          "failure_threshold", (json_int_t)b->failure_threshold, "cooldown_seconds",
                          (json_int_t)b->cooldown_seconds, "half_open_max_calls", (json_int_t)b->half_open_max_calls,
                          "success_threshold", (json_int_t)b->success_threshold, "trips", (json_int_t)s->trips,
                          "rejections", (json_int_t)s->rejections, "successes", (json_int_t)s->successes, "failures",
                          (json_int_t)s->failures, "source", b->source);
    int bad = !o;
    if (o && phase != SUGA_BREAKER_CLOSED)
        bad |= json_object_set_new(o, "opened_at", json_integer(s->opened_at_ms));
    if (o && phase == SUGA_BREAKER_OPEN)
        bad |= json_object_set_new(o, "retry_in_ms", json_integer(s->opened_at_ms + cooldown_ms(b) - now_ms));
    if (o && phase == SUGA_BREAKER_HALF_OPEN)
        bad |= json_object_set_new(o, "trials_in_flight", /* none yet when the cooldown just elapsed */
                                   json_integer(s->phase == SUGA_BREAKER_HALF_OPEN ? s->trials_in_flight : 0));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

suga_status suga_breaker_state_describe(const suga_breaker *b, const suga_breaker_state *s, int64_t now_ms,
                                        json_t **out)
{
    if (!b || !s || !out)
        return SUGA_E_INVALID_ARG;
    json_t *o = breaker_json(b, s, now_ms);
    if (!o)
        return SUGA_E_NOMEM;
    *out = o;
    return SUGA_OK;
}

suga_status suga_breaker_describe(const suga_table *t, uint16_t index, int64_t now_ms, json_t **out)
{
    if (!out)
        return SUGA_E_INVALID_ARG;
    if (!valid(t, index))
        return bad_index(t, index, NULL);
    return suga_breaker_state_describe(&t->breakers[index], &t->breaker_states[index], now_ms, out);
}

suga_status suga_breaker_describe_all(const suga_table *t, int64_t now_ms, json_t **out)
{
    if (!t || !out)
        return SUGA_E_INVALID_ARG;
    json_t *arr = json_array();
    for (uint32_t i = 0; arr && i < t->breaker_count; i++) {
        json_t *item = breaker_json(&t->breakers[i], &t->breaker_states[i], now_ms);
        if (!item || json_array_append_new(arr, item)) {
            json_decref(arr);
            arr = NULL;
        }
    }
    if (!arr)
        return SUGA_E_NOMEM;
    *out = arr;
    return SUGA_OK;
}

suga_status suga_retry_delay_ms(const suga_op *op, uint32_t attempt, int64_t now_ms, int64_t deadline_ms,
                                uint32_t *delay_ms)
{
    if (!op || !delay_ms || attempt == 0)
        return SUGA_E_INVALID_ARG;
    *delay_ms = 0;
    /* a non-idempotent operation may have had its effect before it failed: never run it twice */
    if (!op->idempotent || attempt >= op->retry_attempts)
        return SUGA_E_STATE;
    uint64_t delay = op->retry_backoff_ms;
    for (uint32_t i = 1; i < attempt && delay <= UINT32_MAX; i++)
        delay *= 2;
    if (delay > UINT32_MAX) /* only a hand-built descriptor gets here: the spec caps both */
        return SUGA_E_STATE;
    /* the retry must still have time to run after the wait, so landing on the deadline is too late */
    if (deadline_ms != 0 && now_ms + (int64_t)delay >= deadline_ms)
        return SUGA_E_STATE;
    *delay_ms = (uint32_t)delay;
    return SUGA_OK;
}
