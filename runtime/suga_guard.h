/* suga_guard.h: the free-tier guard. Counts what this process serves against the monthly AWS
 * Lambda free tier (requests and GB-seconds, from spec/limits.yaml), and answers, before each
 * operation, whether it may run: warn at 80 %, shed non-essential operations at 90 %, refuse
 * everything at 95 % (the thresholds are the spec's).
 *
 * A best-effort brake, not a bill: each Lambda execution environment has its own guard and counts
 * only the invocations it served; concurrent environments each see part of the traffic, and /tmp
 * (where the state is saved) disappears with the environment. docs/guard.md says what that means;
 * CloudWatch and billing alarms remain the authority.
 *
 * Usage, one guard per process (the runtime is single-threaded, so there is no locking):
 *
 *     suga_guard guard;
 *     suga_guard_init(&guard, suga_main_table.limits, memory_mb, now_ms, &ctx);
 *     suga_guard_load(&guard, "/tmp/suga-guard.json", now_ms, &outcome, &ctx);  // optional
 *     for each invocation:
 *         suga_guard_admit(&guard, now_ms, op_is_essential, &verdict, &ctx);   // before the op
 *         if (verdict.changed) log suga_guard_describe(...) once
 *         ... run the operation unless refused (SUGA_E_BUDGET: answer 429 with ctx.error) ...
 *         suga_guard_record(&guard, end_ms, duration_ms, &ctx);  // every invocation, refused ones too
 *         every 100 invocations or on a level change:
 *             suga_guard_save(&guard, "/tmp/suga-guard.json", &ctx);
 *
 * Time is always passed in (wall-clock ms since the Unix epoch), so nothing here reads a clock
 * and tests need no sleeping. Every function but suga_guard_level_name returns a suga_status;
 * messages go to ctx->error (ctx may be NULL when the caller does not want them).
 */
#ifndef SUGA_GUARD_H
#define SUGA_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "suga_table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What SUGA_E_BUDGET means to an HTTP-shaped caller: Too Many Requests. */
#define SUGA_GUARD_HTTP_STATUS 429

/* The projection of month-end usage (usage so far × month length / time elapsed) is trusted only
 * once at least this share of the month has elapsed (1 % is 7.2 to 7.4 hours), which caps its
 * amplification at 100× ... */
#define SUGA_GUARD_PROJECTION_MIN_ELAPSED_PERCENT 1
/* ... and at least this many invocations were recorded this month (a rate from fewer is mostly
 * noise). Before both, the level comes from actual usage alone. */
#define SUGA_GUARD_PROJECTION_MIN_REQUESTS 1000

/* The persisted state file: its "format" and "version" keys, and the largest file load reads
 * (a real one is a few hundred bytes; anything bigger is not ours). */
#define SUGA_GUARD_STATE_FORMAT "suga-guard-state"
#define SUGA_GUARD_STATE_VERSION 1
#define SUGA_GUARD_STATE_MAX_BYTES 65536

typedef enum suga_guard_level {
    SUGA_GUARD_OK = 0,   /* under the warn threshold */
    SUGA_GUARD_WARN,     /* at or over warn: everything runs; log it */
    SUGA_GUARD_THROTTLE, /* at or over throttle: non-essential operations are shed */
    SUGA_GUARD_BLOCK,    /* at or over block (actual usage): everything is refused */
    SUGA_GUARD_LEVEL__COUNT
} suga_guard_level;

/* Stable lower-case name ("ok", "warn", "throttle", "block"), for logs and JSON. */
const char *suga_guard_level_name(suga_guard_level level);

/* The guard's whole state: a plain struct the caller owns (no allocation behind it). Read the
 * fields for diagnostics if you like; change them only through the functions below. */
typedef struct suga_guard {
    /* configuration, copied from suga_limits and the caller at init */
    uint64_t requests_budget;   /* requests a month; 0 means "not initialised" */
    uint64_t gb_seconds_budget; /* GB-seconds a month */
    uint32_t warn_percent, throttle_percent, block_percent;
    uint32_t memory_mb;         /* the function's configured memory */

    /* the calendar month (UTC) being counted: [month_start_ms, month_end_ms) */
    int32_t month_index;        /* year * 12 + (month - 1) */
    int64_t month_start_ms, month_end_ms;

    /* this month's counts (saturating) */
    uint64_t requests;          /* invocations recorded, refused ones included */
    uint64_t mb_ms;             /* billed duration × memory, in MB·ms (1 GB-s = 1024 × 1000 MB·ms) */
    uint64_t shed;              /* non-essential operations refused at throttle */
    uint64_t blocked;           /* operations refused at block */

    /* the level the last suga_guard_admit returned, so a change is reported once */
    suga_guard_level reported_level;

    /* the account's own figures for the month (suga_guard_set_account: AWS/Lambda in
     * CloudWatch, every function of the account in this region), with this process's counts
     * when they came, so what it served since is added to them; account_month_index < 0: none */
    int32_t account_month_index;
    uint64_t account_requests, account_mb_ms;
    uint64_t requests_at_account, mb_ms_at_account;
    int64_t account_at_ms; /* when the figures were taken (the caller's now_ms) */
} suga_guard;

/* Start counting the month that contains now_ms, with nothing counted yet.
 * `limits`: budgets and thresholds (suga_main_table.limits, from spec/limits.yaml); copied, so it
 * need not outlive the guard. Budgets must be non-zero and thresholds rise strictly:
 * 0 < warn < throttle < block <= 100; otherwise SUGA_E_INVALID_ARG and the guard is unchanged.
 * `memory_mb`: the function's configured memory (Lambda: AWS_LAMBDA_FUNCTION_MEMORY_SIZE; when it
 * is unknown, e.g. run locally, the caller picks a value, 128 being Lambda's smallest). */
suga_status suga_guard_init(suga_guard *g, const suga_limits *limits, uint32_t memory_mb, int64_t now_ms,
                            suga_ctx *ctx);

/* The answer for one operation (or one batch or fusion: one admission each). */
typedef struct suga_guard_verdict {
    suga_guard_level level;    /* the level now */
    suga_guard_level previous; /* the level the previous admission returned (OK before the first) */
    bool changed;              /* level != previous: log the transition once (suga_guard_describe) */
} suga_guard_verdict;

/* May an operation run now? SUGA_OK when it may (verdict->level says how close to the budget);
 * SUGA_E_BUDGET when it is refused, with ctx->error starting
 *   "free tier budget exhausted: ..."                      at block (every operation), or
 *   "free tier budget nearly exhausted: non-essential operation shed: ..."  at throttle,
 * and naming the budget, its used (and projected) percentage, the threshold and when the month
 * resets. `essential` comes from the operation's metadata. `verdict` (may be NULL) is filled in
 * either way. Admission does not count the request: suga_guard_record does, once the invocation
 * is over, refused or not. */
suga_status suga_guard_admit(suga_guard *g, int64_t now_ms, bool essential, suga_guard_verdict *verdict,
                             suga_ctx *ctx);

/* Count one invocation that ended at now_ms and took duration_ms (the time Lambda bills: from
 * receiving the event to posting the response). Lambda rounds the billed duration up to the next
 * whole millisecond, with 1 ms minimum, so this does too; GB-seconds = memory_mb / 1024 × ms / 1000
 * (128 MB × 1000 ms = 0.125 GB-s). Call it for every invocation, refused ones included: AWS bills
 * those requests too. A negative or non-finite duration is SUGA_E_INVALID_ARG and counts nothing. */
suga_status suga_guard_record(suga_guard *g, int64_t now_ms, double duration_ms, suga_ctx *ctx);

/* Count the Init phase (process start to the first request for the next event) as GB-seconds,
 * without a request: with a custom runtime (provided.al2023), AWS bills Init duration too. Call it
 * once per process, at the first invocation. Same rounding and rules as suga_guard_record. */
suga_status suga_guard_record_init(suga_guard *g, int64_t now_ms, double duration_ms, suga_ctx *ctx);

/* The account's usage this month as AWS counts it (the Invocations sum and the Duration sum
 * times this function's memory, from CloudWatch), taken at now_ms. From then on the guard's level
 * comes from the larger of this process's own counts and (the account's figures + what this
 * process has served since), for requests and GB-seconds alike: a fresh environment learns that
 * the account is at 96 % and refuses at once. Figures are for the month that contains now_ms; a
 * new month drops them (the next fetch brings the new month's). Each call replaces the previous
 * figures. Not persisted by suga_guard_save: they are fetched again. */
suga_status suga_guard_set_account(suga_guard *g, int64_t now_ms, uint64_t requests, uint64_t mb_ms, suga_ctx *ctx);

/* Diagnostics as a new JSON object (the caller owns *out):
 *   {"month": "2026-11", "resets_at": "2026-12-01T00:00:00Z", "seconds_to_reset": N,
 *    "elapsed_percent": x, "memory_mb": 128, "requests": N, "gb_seconds": x, "shed": N,
 *    "blocked": N, "budget": {"requests": N, "gb_seconds": N},
 *    "thresholds": {"warn": 80, "throttle": 90, "block": 95},
 *    "used_percent": {"requests": x, "gb_seconds": x, "max": x},
 *    "projected_percent": x or null, "projection_trusted": bool, "level": "warn",
 *    "process": {"requests": N, "gb_seconds": x},
 *    "account": null or {"requests": N, "gb_seconds": x, "taken_ms_ago": N}}
 * "requests" and "gb_seconds" are what the level is computed from: the process's own counts, or
 * the account's figures plus what the process served since, whichever is larger; "process" is
 * this process's own counts.
 * As seen at now_ms: if a new month has begun since the last admit or record, the counts are
 * those of the new month (zero). Does not change the guard. */
suga_status suga_guard_status(const suga_guard *g, int64_t now_ms, json_t **out, suga_ctx *ctx);

/* One line for the log when the level changes, e.g.
 *   "free tier guard level warn: requests 80.0 % of 1000000 used, GB-seconds 3.1 % of 400000
 *    used, projected 96.2 % by month end (thresholds warn 80 %, throttle 90 %, block 95 %);
 *    month 2026-11 resets at 2026-12-01T00:00:00Z"
 * Written into buf (always NUL-terminated when size > 0); SUGA_E_LIMIT if it had to be cut. */
suga_status suga_guard_describe(const suga_guard *g, int64_t now_ms, char *buf, size_t size, suga_ctx *ctx);

/* Write the month's counts to `path` as JSON, atomically: a temporary file in the same directory,
 * fsync, rename over `path`, fsync of the directory. `path` either keeps its old content or gets
 * the whole new one, never a partial file; on failure the temporary is removed. SUGA_E_IO with
 * the path and the system error on failure. On Lambda put it under /tmp (the only writable
 * place); it lives only as long as the execution environment. */
suga_status suga_guard_save(const suga_guard *g, const char *path, suga_ctx *ctx);

typedef enum suga_guard_load_outcome {
    SUGA_GUARD_LOADED,           /* the file was for the current month: counts restored */
    SUGA_GUARD_LOAD_MISSING,     /* no file at `path`: nothing to resume, counts start at zero */
    SUGA_GUARD_LOAD_OTHER_MONTH, /* the file is for another month: ignored, counts start at zero */
} suga_guard_load_outcome;

/* Resume the counts a previous process saved with suga_guard_save. Call it right after init,
 * before anything is recorded: loading into a guard that has already counted something this
 * month is SUGA_E_STATE (it would count those twice or lose them).
 * A missing file and a file for another month are not errors: SUGA_OK, with *outcome (may be NULL)
 * saying which. A file that cannot be read is SUGA_E_IO; one that is not a guard state file
 * (bad JSON, another format, a newer version, bad values, too big) is SUGA_E_INVALID_ARG; both
 * with a message naming the path and the problem. On any failure the guard is left as it was,
 * usable, with its fresh counts. */
suga_status suga_guard_load(suga_guard *g, const char *path, int64_t now_ms, suga_guard_load_outcome *outcome,
                            suga_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif
