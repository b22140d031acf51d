/* guard.c: the free-tier guard (suga_guard.h, docs/guard.md).
 *
 * Threshold decisions use exact integer arithmetic (128-bit products), so "at 80 %" means exactly
 * 80 % and a test can cross a threshold on a known request; floating point is used only for the
 * numbers shown to people. GB-seconds are kept as integer MB·ms for the same reason: Lambda bills
 * whole milliseconds times whole megabytes, so the sum is exact. Nothing here reads a clock. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suga_guard.h"

/* GCC and clang on every 64-bit target Lambda runs (x86_64, arm64) have a 128-bit integer; the
 * products below (count × 100 × month length, budget × 1024000 × 100 × elapsed) need ~123 bits. */
__extension__ typedef unsigned __int128 u128;

#define MS_PER_DAY INT64_C(86400000)
#define MB_MS_PER_GB_S UINT64_C(1024000) /* 1 GB = 1024 MB (as AWS bills: 128 MB = 0.125 GB) × 1000 ms */
/* 10000-01-01T00:00:00Z: times are shown as four-digit years, and nothing real is later. */
#define MAX_TIME_MS INT64_C(253402300800000)
/* No billed duration is longer than a month (Lambda's limit is 15 minutes); a bigger number is a
 * timestamp or a unit mistake, and refusing it keeps the conversion to integer defined. */
#define MAX_DURATION_MS 2678400000.0

static const char *const level_names[SUGA_GUARD_LEVEL__COUNT] = {
    [SUGA_GUARD_OK] = "ok",
    [SUGA_GUARD_WARN] = "warn",
    [SUGA_GUARD_THROTTLE] = "throttle",
    [SUGA_GUARD_BLOCK] = "block",
};

const char *suga_guard_level_name(suga_guard_level level)
{
    if ((unsigned)level >= SUGA_GUARD_LEVEL__COUNT)
        return "unknown_level";
    return level_names[level];
}

/* ---- calendar (proleptic Gregorian, UTC), after Howard Hinnant's days_from_civil ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* The month index (year × 12 + month − 1) of a day number (days since 1970-01-01, >= 0 here). */
static int32_t month_index_of_day(int64_t z)
{
    z += 719468;
    const int64_t era = z / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    const int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
    return (int32_t)(y * 12 + (int64_t)m - 1);
}

static int32_t month_index_of(int64_t ms)
{
    return month_index_of_day(ms / MS_PER_DAY);
}

static int64_t month_start_of(int32_t index)
{
    return days_from_civil(index / 12, (unsigned)(index % 12) + 1, 1) * MS_PER_DAY;
}

/* "2026-11" */
static void month_key(int32_t index, char out[16])
{
    snprintf(out, 16, "%04d-%02d", (int)(index / 12) % 10000, (int)(index % 12) + 1);
}

/* "2026-12-01T00:00:00Z": the instant the month after `index` begins. */
static void reset_time(int32_t index, char out[32])
{
    int32_t next = index + 1;
    snprintf(out, 32, "%04d-%02d-01T00:00:00Z", (int)(next / 12) % 10000, (int)(next % 12) + 1);
}

static bool time_ok(int64_t ms)
{
    return ms >= 0 && ms < MAX_TIME_MS;
}

/* ---- the month's usage as seen at a given time ---- */

typedef struct view {
    int32_t month_index;
    int64_t start_ms, end_ms;
    int64_t elapsed_ms; /* clamped to [0, end - start]: a clock that stepped back counts as 0 */
    uint64_t requests, mb_ms, shed, blocked; /* requests, mb_ms: what the level is computed from */
    uint64_t own_requests, own_mb_ms;         /* this process's own counts */
    bool account;                             /* the account's figures are in requests and mb_ms */
} view;

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    uint64_t sum;
    return __builtin_add_overflow(a, b, &sum) ? UINT64_MAX : sum;
}

static uint64_t larger(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static void set_month(suga_guard *g, int32_t index)
{
    g->month_index = index;
    g->month_start_ms = month_start_of(index);
    g->month_end_ms = month_start_of(index + 1);
    g->requests = g->mb_ms = g->shed = g->blocked = 0;
    g->account_month_index = -1; /* the account's figures were the old month's */
}

/* A new month resets the counts. Only forward: if the clock steps back into an earlier month,
 * the current month keeps its counts (dropping them would undercount, the unsafe direction). */
static void roll(suga_guard *g, int64_t now_ms)
{
    if (now_ms >= g->month_end_ms)
        set_month(g, month_index_of(now_ms));
}

static void take_view(const suga_guard *g, int64_t now_ms, view *v)
{
    if (now_ms >= g->month_end_ms) {
        v->month_index = month_index_of(now_ms);
        v->start_ms = month_start_of(v->month_index);
        v->end_ms = month_start_of(v->month_index + 1);
        v->requests = v->mb_ms = v->shed = v->blocked = 0;
    } else {
        v->month_index = g->month_index;
        v->start_ms = g->month_start_ms;
        v->end_ms = g->month_end_ms;
        v->requests = g->requests;
        v->mb_ms = g->mb_ms;
        v->shed = g->shed;
        v->blocked = g->blocked;
    }
    int64_t elapsed = now_ms - v->start_ms;
    v->elapsed_ms = elapsed < 0 ? 0 : elapsed;
    v->own_requests = v->requests;
    v->own_mb_ms = v->mb_ms;
    v->account = g->account_month_index == v->month_index;
    if (v->account) { /* the larger of what this process saw and what the account had plus it since */
        uint64_t since_requests = g->requests >= g->requests_at_account ? g->requests - g->requests_at_account : 0;
        uint64_t since_mb_ms = g->mb_ms >= g->mb_ms_at_account ? g->mb_ms - g->mb_ms_at_account : 0;
        v->requests = larger(v->requests, sat_add(g->account_requests, since_requests));
        v->mb_ms = larger(v->mb_ms, sat_add(g->account_mb_ms, since_mb_ms));
    }
}

static u128 gb_units(const suga_guard *g)
{
    return (u128)g->gb_seconds_budget * MB_MS_PER_GB_S;
}

/* Does used × (num / den) reach pct % of budget? (num / den scales actual usage to the month-end
 * projection; 1 / 1 is actual usage.) Exact: used × 100 × num >= pct × budget × den. */
static bool reaches(uint64_t used, u128 budget, uint32_t pct, uint64_t num, uint64_t den)
{
    return (u128)used * 100 * num >= (u128)pct * budget * den;
}

static suga_guard_level level_at(const suga_guard *g, const view *v, uint64_t num, uint64_t den)
{
    const uint32_t pct[] = {g->block_percent, g->throttle_percent, g->warn_percent};
    const suga_guard_level level[] = {SUGA_GUARD_BLOCK, SUGA_GUARD_THROTTLE, SUGA_GUARD_WARN};
    for (size_t i = 0; i < 3; i++)
        if (reaches(v->requests, g->requests_budget, pct[i], num, den) ||
            reaches(v->mb_ms, gb_units(g), pct[i], num, den))
            return level[i];
    return SUGA_GUARD_OK;
}

/* Early in the month the rate is noise (one request in the first second "projects" to millions),
 * so the projection counts only after SUGA_GUARD_PROJECTION_MIN_ELAPSED_PERCENT of the month and
 * SUGA_GUARD_PROJECTION_MIN_REQUESTS invocations. */
static bool projection_trusted(const view *v)
{
    u128 length = (u128)(v->end_ms - v->start_ms);
    return v->requests >= SUGA_GUARD_PROJECTION_MIN_REQUESTS &&
           (u128)v->elapsed_ms * 100 >= length * SUGA_GUARD_PROJECTION_MIN_ELAPSED_PERCENT;
}

/* The level: actual usage, raised by the trusted projection, but by the projection to THROTTLE
 * at most. Blocking on an estimate would refuse every request for the rest of the month although
 * nothing has been used up yet; throttling slows the rate instead (and the projection with it),
 * and BLOCK still comes once actual usage reaches the block threshold. */
static suga_guard_level level_of(const suga_guard *g, const view *v)
{
    suga_guard_level level = level_at(g, v, 1, 1);
    if (level < SUGA_GUARD_THROTTLE && projection_trusted(v)) {
        suga_guard_level projected = level_at(g, v, (uint64_t)(v->end_ms - v->start_ms), (uint64_t)v->elapsed_ms);
        if (projected > SUGA_GUARD_THROTTLE)
            projected = SUGA_GUARD_THROTTLE;
        if (projected > level)
            level = projected;
    }
    return level;
}

/* ---- numbers for people ---- */

/* Tenths of a percent of used × num / den against budget, rounded down (so 94.99 % never shows
 * as the 95.0 % that would block). */
static uint64_t tenths(uint64_t used, u128 budget, uint64_t num, uint64_t den)
{
    u128 t = (u128)used * 1000 * num / (budget * den);
    return t > UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

static double percent(uint64_t used, u128 budget)
{
    return (double)used * 100.0 / (double)budget;
}

/* Which budget is closer to running out. Both share the projection factor, so the budget with
 * the higher used share also has the higher projected share. */
typedef struct dominant {
    const char *name;   /* "requests" or "GB-seconds" */
    uint64_t used;
    u128 budget;        /* in the same unit as used */
    uint64_t budget_shown; /* in the unit people read: requests or GB-s */
} dominant;

static dominant dominant_of(const suga_guard *g, const view *v)
{
    dominant req = {"requests", v->requests, g->requests_budget, g->requests_budget};
    dominant gbs = {"GB-seconds", v->mb_ms, gb_units(g), g->gb_seconds_budget};
    return percent(gbs.used, gbs.budget) > percent(req.used, req.budget) ? gbs : req;
}

/* "requests at 90.0 % of 1000000 a month, projected 131.2 % by month end" */
static void usage_phrase(const suga_guard *g, const view *v, char *buf, size_t size)
{
    dominant d = dominant_of(g, v);
    uint64_t used = tenths(d.used, d.budget, 1, 1);
    int n = snprintf(buf, size, "%s at %" PRIu64 ".%u %% of %" PRIu64 " a month", d.name, used / 10,
                     (unsigned)(used % 10), d.budget_shown);
    if (n >= 0 && (size_t)n < size && projection_trusted(v)) {
        uint64_t proj = tenths(d.used, d.budget, (uint64_t)(v->end_ms - v->start_ms), (uint64_t)v->elapsed_ms);
        snprintf(buf + n, size - (size_t)n, ", projected %" PRIu64 ".%u %% by month end", proj / 10,
                 (unsigned)(proj % 10));
    }
}

/* ---- checks shared by the entry points ---- */

static suga_status check_guard(const suga_guard *g, suga_ctx *ctx, const char *fn)
{
    if (!g)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: guard is NULL", fn);
    if (g->requests_budget == 0)
        return suga_fail(ctx, SUGA_E_STATE, "%s: guard is not initialised (call suga_guard_init first)", fn);
    return SUGA_OK;
}

static suga_status check_time(int64_t now_ms, suga_ctx *ctx, const char *fn)
{
    if (!time_ok(now_ms))
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "%s: now_ms %" PRId64 " is not a time between 1970 and 9999 (ms since the epoch)", fn, now_ms);
    return SUGA_OK;
}

/* What every entry point that takes a time checks first. */
static suga_status check_call(const suga_guard *g, int64_t now_ms, suga_ctx *ctx, const char *fn)
{
    suga_status st = check_guard(g, ctx, fn);
    return st == SUGA_OK ? check_time(now_ms, ctx, fn) : st;
}

/* ---- public entry points ---- */

suga_status suga_guard_init(suga_guard *g, const suga_limits *limits, uint32_t memory_mb, int64_t now_ms,
                            suga_ctx *ctx)
{
    static const char fn[] = "suga_guard_init";
    if (!g || !limits)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: %s is NULL", fn, !g ? "guard" : "limits");
    if (limits->requests_per_month == 0 || limits->gb_seconds_per_month == 0)
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "%s: free tier budget must be non-zero, got %" PRIu64 " requests and %" PRIu64
                         " GB-seconds a month",
                         fn, limits->requests_per_month, limits->gb_seconds_per_month);
    if (!(limits->warn_percent > 0 && limits->warn_percent < limits->throttle_percent &&
          limits->throttle_percent < limits->block_percent && limits->block_percent <= 100))
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "%s: free tier thresholds must rise, 0 < warn < throttle < block <= 100, got warn %u %%, "
                         "throttle %u %%, block %u %%",
                         fn, limits->warn_percent, limits->throttle_percent, limits->block_percent);
    if (memory_mb == 0)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: memory_mb must be the function's configured memory, got 0", fn);
    suga_status st = check_time(now_ms, ctx, fn);
    if (st != SUGA_OK)
        return st;

    memset(g, 0, sizeof *g);
    g->requests_budget = limits->requests_per_month;
    g->gb_seconds_budget = limits->gb_seconds_per_month;
    g->warn_percent = limits->warn_percent;
    g->throttle_percent = limits->throttle_percent;
    g->block_percent = limits->block_percent;
    g->memory_mb = memory_mb;
    g->reported_level = SUGA_GUARD_OK;
    set_month(g, month_index_of(now_ms));
    return SUGA_OK;
}

suga_status suga_guard_admit(suga_guard *g, int64_t now_ms, bool essential, suga_guard_verdict *verdict,
                             suga_ctx *ctx)
{
    static const char fn[] = "suga_guard_admit";
    if (verdict)
        *verdict = (suga_guard_verdict){SUGA_GUARD_OK, SUGA_GUARD_OK, false};
    suga_status st = check_call(g, now_ms, ctx, fn);
    if (st != SUGA_OK)
        return st;

    roll(g, now_ms);
    view v;
    take_view(g, now_ms, &v);
    suga_guard_level level = level_of(g, &v);
    suga_guard_level previous = g->reported_level;
    g->reported_level = level;
    if (verdict)
        *verdict = (suga_guard_verdict){level, previous, level != previous};

    if (level < SUGA_GUARD_THROTTLE || (level == SUGA_GUARD_THROTTLE && essential))
        return SUGA_OK;

    char usage[160], month[16], reset[32];
    usage_phrase(g, &v, usage, sizeof usage);
    month_key(v.month_index, month);
    reset_time(v.month_index, reset);
    if (level == SUGA_GUARD_BLOCK) {
        g->blocked = sat_add(g->blocked, 1);
        return suga_fail(ctx, SUGA_E_BUDGET,
                         "free tier budget exhausted: %s (block threshold %u %%); every operation is refused "
                         "until month %s resets at %s",
                         usage, g->block_percent, month, reset);
    }
    g->shed = sat_add(g->shed, 1);
    return suga_fail(ctx, SUGA_E_BUDGET,
                     "free tier budget nearly exhausted: non-essential operation shed: %s (throttle threshold "
                     "%u %%); essential operations still run until %u %%; month %s resets at %s",
                     usage, g->throttle_percent, g->block_percent, month, reset);
}

/* Billed milliseconds for a duration: rounded up to a whole ms as Lambda does, at least
 * `minimum`. The caller has checked the range, so the conversion is defined. */
static uint64_t billed_ms(double duration_ms, uint64_t minimum)
{
    uint64_t ms = (uint64_t)duration_ms;
    if ((double)ms < duration_ms)
        ms++;
    return ms < minimum ? minimum : ms;
}

static suga_status count(suga_guard *g, int64_t now_ms, double duration_ms, bool request, suga_ctx *ctx,
                         const char *fn)
{
    suga_status st = check_call(g, now_ms, ctx, fn);
    if (st != SUGA_OK)
        return st;
    if (!isfinite(duration_ms) || duration_ms < 0 || duration_ms > MAX_DURATION_MS)
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "%s: duration_ms must be a number of milliseconds in [0, %.0f], got %g (nothing counted)",
                         fn, MAX_DURATION_MS, duration_ms);

    roll(g, now_ms);
    /* An invocation is billed at least 1 ms; Init is added to it, so it has no minimum of its own. */
    uint64_t ms = billed_ms(duration_ms, request ? 1 : 0);
    uint64_t mb_ms;
    if (__builtin_mul_overflow(ms, (uint64_t)g->memory_mb, &mb_ms))
        mb_ms = UINT64_MAX;
    g->mb_ms = sat_add(g->mb_ms, mb_ms);
    if (request)
        g->requests = sat_add(g->requests, 1);
    return SUGA_OK;
}

suga_status suga_guard_record(suga_guard *g, int64_t now_ms, double duration_ms, suga_ctx *ctx)
{
    return count(g, now_ms, duration_ms, true, ctx, "suga_guard_record");
}

suga_status suga_guard_record_init(suga_guard *g, int64_t now_ms, double duration_ms, suga_ctx *ctx)
{
    return count(g, now_ms, duration_ms, false, ctx, "suga_guard_record_init");
}

suga_status suga_guard_set_account(suga_guard *g, int64_t now_ms, uint64_t requests, uint64_t mb_ms, suga_ctx *ctx)
{
    static const char fn[] = "suga_guard_set_account";
    suga_status st = check_call(g, now_ms, ctx, fn);
    if (st != SUGA_OK)
        return st;
    roll(g, now_ms);
    if (now_ms < g->month_start_ms) /* the clock stepped back into an earlier month: not this one's */
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: now_ms is before the month being counted", fn);
    g->account_month_index = g->month_index;
    g->account_requests = requests;
    g->account_mb_ms = mb_ms;
    g->requests_at_account = g->requests;
    g->mb_ms_at_account = g->mb_ms;
    g->account_at_ms = now_ms;
    return SUGA_OK;
}

/* Sets key to value (a new reference, NULL when its allocation failed); nonzero on failure. */
static int set(json_t *o, const char *key, json_t *value)
{
    return !value || json_object_set_new(o, key, value);
}

#if JSON_INTEGER_IS_LONG_LONG
#define JSON_INT_MAX LLONG_MAX
#else
#define JSON_INT_MAX LONG_MAX
#endif

/* JSON integers are signed; a saturated count shows as the largest one. */
static json_int_t json_count(uint64_t n)
{
    return n > (uint64_t)JSON_INT_MAX ? JSON_INT_MAX : (json_int_t)n;
}

suga_status suga_guard_status(const suga_guard *g, int64_t now_ms, json_t **out, suga_ctx *ctx)
{
    static const char fn[] = "suga_guard_status";
    if (!out)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    suga_status st = check_call(g, now_ms, ctx, fn);
    if (st != SUGA_OK)
        return st;

    view v;
    take_view(g, now_ms, &v);
    char month[16], reset[32];
    month_key(v.month_index, month);
    reset_time(v.month_index, reset);
    int64_t length = v.end_ms - v.start_ms;
    int64_t to_reset = v.end_ms - now_ms;
    double req_pct = percent(v.requests, g->requests_budget);
    double gbs_pct = percent(v.mb_ms, gb_units(g));
    double max_pct = req_pct > gbs_pct ? req_pct : gbs_pct;

    json_t *o = json_object();
    int bad = !o;
    if (o) {
        bad |= set(o, "month", json_string(month));
        bad |= set(o, "resets_at", json_string(reset));
        bad |= set(o, "seconds_to_reset", json_integer((to_reset + 999) / 1000));
        bad |= set(o, "elapsed_percent", json_real((double)v.elapsed_ms * 100.0 / (double)length));
        bad |= set(o, "memory_mb", json_integer(g->memory_mb));
        bad |= set(o, "requests", json_integer(json_count(v.requests)));
        bad |= set(o, "gb_seconds", json_real((double)v.mb_ms / (double)MB_MS_PER_GB_S));
        bad |= set(o, "shed", json_integer(json_count(v.shed)));
        bad |= set(o, "blocked", json_integer(json_count(v.blocked)));
        bad |= set(o, "budget", json_pack("{s:I, s:I}", "requests", json_count(g->requests_budget), "gb_seconds",
                                          json_count(g->gb_seconds_budget)));
        bad |= set(o, "thresholds", json_pack("{s:i, s:i, s:i}", "warn", (int)g->warn_percent, "throttle",
                                              (int)g->throttle_percent, "block", (int)g->block_percent));
        bad |= set(o, "used_percent",
                   json_pack("{s:f, s:f, s:f}", "requests", req_pct, "gb_seconds", gbs_pct, "max", max_pct));
        /* The raw projection is shown even before it is trusted (for diagnosis); null before any
         * time has elapsed, when there is no rate to speak of. */
        bad |= set(o, "projected_percent",
                   v.elapsed_ms > 0 ? json_real(max_pct * (double)length / (double)v.elapsed_ms) : json_null());
        bad |= set(o, "projection_trusted", json_boolean(projection_trusted(&v)));
        bad |= set(o, "level", json_string(suga_guard_level_name(level_of(g, &v))));
        bad |= set(o, "process", json_pack("{s:I, s:f}", "requests", json_count(v.own_requests), "gb_seconds",
                                           (double)v.own_mb_ms / (double)MB_MS_PER_GB_S));
        bad |= set(o, "account",
                   v.account ? json_pack("{s:I, s:f, s:I}", "requests", json_count(g->account_requests), "gb_seconds",
                                         (double)g->account_mb_ms / (double)MB_MS_PER_GB_S, "taken_ms_ago",
                                         (json_int_t)(now_ms - g->account_at_ms))
                             : json_null());
    }
    if (bad) {
        json_decref(o);
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the status", fn);
    }
    *out = o;
    return SUGA_OK;
}

suga_status suga_guard_describe(const suga_guard *g, int64_t now_ms, char *buf, size_t size, suga_ctx *ctx)
{
    static const char fn[] = "suga_guard_describe";
    if (!buf || size == 0)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: no buffer", fn);
    buf[0] = '\0';
    suga_status st = check_call(g, now_ms, ctx, fn);
    if (st != SUGA_OK)
        return st;

    view v;
    take_view(g, now_ms, &v);
    char month[16], reset[32], projection[64] = "no projection yet";
    month_key(v.month_index, month);
    reset_time(v.month_index, reset);
    uint64_t req = tenths(v.requests, g->requests_budget, 1, 1);
    uint64_t gbs = tenths(v.mb_ms, gb_units(g), 1, 1);
    if (projection_trusted(&v)) {
        dominant d = dominant_of(g, &v);
        uint64_t proj = tenths(d.used, d.budget, (uint64_t)(v.end_ms - v.start_ms), (uint64_t)v.elapsed_ms);
        snprintf(projection, sizeof projection, "projected %" PRIu64 ".%u %% by month end", proj / 10,
                 (unsigned)(proj % 10));
    }
    int n = snprintf(buf, size,
                     "free tier guard level %s: requests %" PRIu64 ".%u %% of %" PRIu64 " used, GB-seconds %" PRIu64
                     ".%u %% of %" PRIu64 " used, %s (thresholds warn %u %%, throttle %u %%, block %u %%); "
                     "month %s resets at %s",
                     suga_guard_level_name(level_of(g, &v)), req / 10, (unsigned)(req % 10), g->requests_budget,
                     gbs / 10, (unsigned)(gbs % 10), g->gb_seconds_budget, projection, g->warn_percent,
                     g->throttle_percent, g->block_percent, month, reset);
    if (n < 0 || (size_t)n >= size)
        return suga_fail(ctx, SUGA_E_LIMIT, "%s: the description needs %d bytes, the buffer has %zu", fn, n + 1, size);
    return SUGA_OK;
}

/* ---- persistence ---- */

static suga_status io_fail(suga_ctx *ctx, const char *verb, const char *path, const char *step, int err)
{
    return suga_fail(ctx, SUGA_E_IO, "cannot %s free tier guard state '%s': %s: %s", verb, path, step, strerror(err));
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

suga_status suga_guard_save(const suga_guard *g, const char *path, suga_ctx *ctx)
{
    static const char fn[] = "suga_guard_save";
    suga_status st = check_guard(g, ctx, fn);
    if (st != SUGA_OK)
        return st;
    size_t path_len = path ? strlen(path) : 0;
    if (path_len == 0 || path[path_len - 1] == '/')
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: path '%s' does not name a file", fn, path ? path : "(null)");

    char month[16];
    month_key(g->month_index, month);
    json_t *doc = json_pack("{s:s, s:i, s:s, s:I, s:I, s:f, s:I, s:I, s:i}", "format", SUGA_GUARD_STATE_FORMAT,
                            "version", SUGA_GUARD_STATE_VERSION, "month", month, "requests", json_count(g->requests),
                            "mb_ms", json_count(g->mb_ms), "gb_seconds", (double)g->mb_ms / (double)MB_MS_PER_GB_S,
                            "shed", json_count(g->shed), "blocked", json_count(g->blocked), "memory_mb",
                            (int)g->memory_mb);
    /* gb_seconds is for people: ten significant digits, not 2.8551250000000001 */
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(doc);
    /* The temporary is a hidden sibling of the target, so the rename stays in one file system
     * (rename is atomic only there) and a crash leaves at most a stray ".NAME.tmp-XXXXXX". */
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    size_t tmp_size = path_len + sizeof "/..tmp-XXXXXX";
    char *tmp = text ? malloc(tmp_size) : NULL;
    if (!tmp) {
        free(text);
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory saving to '%s'", fn, path);
    }
    snprintf(tmp, tmp_size, "%.*s.%s.tmp-XXXXXX", (int)dir_len, path, path + dir_len);

    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        st = io_fail(ctx, "save", path, "creating a temporary file", errno);
        free(text);
        free(tmp);
        return st;
    }
    const char *step = NULL;
    if (write_all(fd, text, strlen(text)) != 0 || write_all(fd, "\n", 1) != 0)
        step = "write";
    else if (fsync(fd) != 0)
        step = "fsync";
    int err = errno;
    if (close(fd) != 0 && !step) {
        step = "close";
        err = errno;
    }
    if (!step && rename(tmp, path) != 0) {
        step = "rename";
        err = errno;
    }
    free(text);
    if (step) {
        unlink(tmp);
        free(tmp);
        return io_fail(ctx, "save", path, step, err);
    }
    free(tmp);

    /* Make the rename itself durable. Best effort: the new file is complete either way, and some
     * file systems refuse fsync on a directory. */
    char *dir = dir_len ? strndup(path, dir_len) : NULL;
    int dfd = open(dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(dir);
    return SUGA_OK;
}

/* Reads a whole small file; *size_out is its size. Returns 0, or an errno value, or -1 when the
 * file is over SUGA_GUARD_STATE_MAX_BYTES, or -2 when it is not a regular file. */
static int read_small_file(const char *path, char **data_out, size_t *size_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int err = errno;
        close(fd);
        return err;
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return -2;
    }
    if (sb.st_size > SUGA_GUARD_STATE_MAX_BYTES) {
        close(fd);
        return -1;
    }
    char *data = malloc(SUGA_GUARD_STATE_MAX_BYTES + 1);
    if (!data) {
        close(fd);
        return ENOMEM;
    }
    size_t size = 0;
    /* Read to end of file rather than trusting st_size: the file may be growing. */
    for (;;) {
        ssize_t n = read(fd, data + size, SUGA_GUARD_STATE_MAX_BYTES + 1 - size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            free(data);
            close(fd);
            return err;
        }
        if (n == 0)
            break;
        size += (size_t)n;
        if (size > SUGA_GUARD_STATE_MAX_BYTES) {
            free(data);
            close(fd);
            return -1;
        }
    }
    close(fd);
    *data_out = data;
    *size_out = size;
    return 0;
}

/* "YYYY-MM" → month index; -1 if malformed. */
static int32_t parse_month(const char *s)
{
    if (strlen(s) != 7 || s[4] != '-')
        return -1;
    int year = 0, month = 0;
    for (int i = 0; i < 7; i++) {
        if (i == 4)
            continue;
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (i < 4)
            year = year * 10 + (s[i] - '0');
        else
            month = month * 10 + (s[i] - '0');
    }
    if (year < 1970 || month < 1 || month > 12)
        return -1;
    return year * 12 + month - 1;
}

typedef struct loaded {
    int32_t month_index;
    uint64_t requests, mb_ms, shed, blocked;
} loaded;

/* Checks the document; on failure writes what is wrong into why (for the caller's message). */
static bool parse_state(json_t *doc, loaded *out, char *why, size_t why_size)
{
    if (!json_is_object(doc)) {
        snprintf(why, why_size, "not a JSON object");
        return false;
    }
    const char *format = json_string_value(json_object_get(doc, "format"));
    if (!format || strcmp(format, SUGA_GUARD_STATE_FORMAT) != 0) {
        snprintf(why, why_size, "not a suga guard state file (\"format\" is not \"%s\")", SUGA_GUARD_STATE_FORMAT);
        return false;
    }
    json_t *version = json_object_get(doc, "version");
    if (!json_is_integer(version) || json_integer_value(version) < 1) {
        snprintf(why, why_size, "\"version\" must be a positive integer");
        return false;
    }
    if (json_integer_value(version) != SUGA_GUARD_STATE_VERSION) {
        snprintf(why, why_size, "state version %" JSON_INTEGER_FORMAT " was written by a newer suga (this one reads %d)",
                 json_integer_value(version), SUGA_GUARD_STATE_VERSION);
        return false;
    }
    const char *month = json_string_value(json_object_get(doc, "month"));
    out->month_index = month ? parse_month(month) : -1;
    if (out->month_index < 0) {
        snprintf(why, why_size, "\"month\" must be a \"YYYY-MM\" string");
        return false;
    }
    static const char *const keys[] = {"requests", "mb_ms", "shed", "blocked"};
    uint64_t *fields[] = {&out->requests, &out->mb_ms, &out->shed, &out->blocked};
    for (size_t i = 0; i < 4; i++) {
        json_t *value = json_object_get(doc, keys[i]);
        if (!json_is_integer(value) || json_integer_value(value) < 0) {
            snprintf(why, why_size, "\"%s\" must be a non-negative integer", keys[i]);
            return false;
        }
        *fields[i] = (uint64_t)json_integer_value(value);
    }
    return true;
}

suga_status suga_guard_load(suga_guard *g, const char *path, int64_t now_ms, suga_guard_load_outcome *outcome,
                            suga_ctx *ctx)
{
    static const char fn[] = "suga_guard_load";
    suga_status st = check_call(g, now_ms, ctx, fn);
    if (st != SUGA_OK)
        return st;
    if (!path || !*path)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: no path", fn);
    view v;
    take_view(g, now_ms, &v);
    if (v.requests || v.mb_ms || v.shed || v.blocked)
        return suga_fail(ctx, SUGA_E_STATE,
                         "%s: the guard has already counted %" PRIu64 " requests this month; load '%s' right "
                         "after suga_guard_init, before anything is recorded",
                         fn, v.requests, path);

    char *data = NULL;
    size_t size = 0;
    int err = read_small_file(path, &data, &size);
    if (err == ENOENT) {
        if (outcome)
            *outcome = SUGA_GUARD_LOAD_MISSING;
        return SUGA_OK;
    }
    static const char fresh[] = "; the guard starts with fresh counts";
    if (err == -1)
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "cannot load free tier guard state '%s': larger than %d bytes, not a guard state file%s",
                         path, SUGA_GUARD_STATE_MAX_BYTES, fresh);
    if (err == -2)
        return suga_fail(ctx, SUGA_E_IO, "cannot load free tier guard state '%s': not a regular file%s", path, fresh);
    if (err == ENOMEM)
        return suga_fail(ctx, SUGA_E_NOMEM, "cannot load free tier guard state '%s': out of memory", path);
    if (err != 0)
        return suga_fail(ctx, SUGA_E_IO, "cannot load free tier guard state '%s': %s%s", path, strerror(err), fresh);

    json_error_t jerr;
    json_t *doc = json_loadb(data, size, JSON_REJECT_DUPLICATES, &jerr);
    free(data);
    if (!doc) {
        if (size == 0)
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "cannot load free tier guard state '%s': the file is empty%s",
                             path, fresh);
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "cannot load free tier guard state '%s': invalid JSON at line %d, column %d: %s%s", path,
                         jerr.line, jerr.column, jerr.text, fresh);
    }
    loaded state;
    char why[160];
    bool ok = parse_state(doc, &state, why, sizeof why);
    json_decref(doc);
    if (!ok)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "cannot load free tier guard state '%s': %s%s", path, why, fresh);

    if (state.month_index != v.month_index) {
        if (outcome)
            *outcome = SUGA_GUARD_LOAD_OTHER_MONTH;
        return SUGA_OK;
    }
    roll(g, now_ms);
    g->requests = state.requests;
    g->mb_ms = state.mb_ms;
    g->shed = state.shed;
    g->blocked = state.blocked;
    if (outcome)
        *outcome = SUGA_GUARD_LOADED;
    return SUGA_OK;
}
