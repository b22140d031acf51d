/* The free-tier guard (runtime/guard.c): thresholds, shedding, blocking, the month-end
 * projection, month rollover, GB-second arithmetic and the persisted state file.
 * Time is passed in, so nothing here sleeps; budgets are tiny so thresholds are a few calls away. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suga_guard.h"

#define HOUR INT64_C(3600000)
#define DAY (24 * HOUR)
#define OCT_2026 INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */
#define NOV_2026 INT64_C(1793491200000)
#define DEC_2026 INT64_C(1796083200000)
#define JAN_2027 INT64_C(1798761600000)
#define FEB_2028 INT64_C(1832976000000)
#define MAR_2028 INT64_C(1835481600000)

/* An hour into November: under 1 % of the month, so only actual usage counts. */
#define EARLY (NOV_2026 + HOUR)

static const suga_limits small_requests = {
    .requests_per_month = 100, .gb_seconds_per_month = 1000000, .warn_percent = 80, .throttle_percent = 90,
    .block_percent = 95};
static const suga_limits small_gb_seconds = {
    .requests_per_month = 1000000, .gb_seconds_per_month = 1, .warn_percent = 80, .throttle_percent = 90,
    .block_percent = 95};

static suga_ctx ctx;

static void reset_ctx(void)
{
    suga_ctx_init(&ctx);
}

static void init(suga_guard *g, const suga_limits *limits, uint32_t memory_mb, int64_t now)
{
    reset_ctx();
    cr_assert_eq(suga_guard_init(g, limits, memory_mb, now, &ctx), SUGA_OK, "%s", ctx.error);
}

static void record_n(suga_guard *g, int n, int64_t now, double duration_ms)
{
    for (int i = 0; i < n; i++)
        cr_assert_eq(suga_guard_record(g, now, duration_ms, &ctx), SUGA_OK, "%s", ctx.error);
}

static suga_status admit(suga_guard *g, int64_t now, bool essential, suga_guard_verdict *v)
{
    reset_ctx();
    return suga_guard_admit(g, now, essential, v, &ctx);
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- temp dirs ---- */

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb, (void)type, (void)ftw;
    return remove(path);
}

static void make_temp_dir(char *out, size_t size)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, size, "%s/suga-guard-test-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(out), "mkdtemp: %s", strerror(errno));
}

static void remove_temp_dir(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Names in dir other than . and .., as one sorted-insensitive comma list (the tests expect few). */
static int count_entries(const char *dir, char *names, size_t size)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    names[0] = '\0';
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        n++;
        strncat(names, e->d_name, size - strlen(names) - 2);
        strcat(names, ",");
    }
    closedir(d);
    return n;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* ---- configuration ---- */

Test(guard, init_validates_the_limits)
{
    suga_guard g;
    memset(&g, 0x5a, sizeof g);
    suga_guard before = g;
    struct {
        suga_limits limits;
        const char *message;
    } bad[] = {
        {{.requests_per_month = 0, .gb_seconds_per_month = 1, .warn_percent = 80, .throttle_percent = 90, .block_percent = 95},
         "suga_guard_init: free tier budget must be non-zero, got 0 requests and 1 GB-seconds a month"},
        {{.requests_per_month = 1, .gb_seconds_per_month = 0, .warn_percent = 80, .throttle_percent = 90, .block_percent = 95},
         "suga_guard_init: free tier budget must be non-zero, got 1 requests and 0 GB-seconds a month"},
        {{.requests_per_month = 1, .gb_seconds_per_month = 1, .warn_percent = 0, .throttle_percent = 90, .block_percent = 95},
         "suga_guard_init: free tier thresholds must rise, 0 < warn < throttle < block <= 100, got warn 0 %, "
         "throttle 90 %, block 95 %"},
        {{.requests_per_month = 1, .gb_seconds_per_month = 1, .warn_percent = 90, .throttle_percent = 90, .block_percent = 95}, NULL},
        {{.requests_per_month = 1, .gb_seconds_per_month = 1, .warn_percent = 80, .throttle_percent = 96, .block_percent = 95}, NULL},
        {{.requests_per_month = 1, .gb_seconds_per_month = 1, .warn_percent = 80, .throttle_percent = 90, .block_percent = 101}, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        reset_ctx();
        cr_expect_eq(suga_guard_init(&g, &bad[i].limits, 128, NOV_2026, &ctx), SUGA_E_INVALID_ARG, "case %zu", i);
        if (bad[i].message)
            cr_expect_str_eq(ctx.error, bad[i].message);
        else
            cr_expect(starts_with(ctx.error, "suga_guard_init: free tier thresholds must rise"), "%s", ctx.error);
        cr_expect_eq(memcmp(&g, &before, sizeof g), 0, "a refused init leaves the guard alone");
    }
    reset_ctx();
    cr_expect_eq(suga_guard_init(&g, &small_requests, 0, NOV_2026, &ctx), SUGA_E_INVALID_ARG);
    cr_expect_str_eq(ctx.error, "suga_guard_init: memory_mb must be the function's configured memory, got 0");
    cr_expect_eq(suga_guard_init(&g, NULL, 128, NOV_2026, &ctx), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_guard_init(NULL, &small_requests, 128, NOV_2026, &ctx), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_guard_init(&g, &small_requests, 128, -1, &ctx), SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "now_ms -1 is not a time"), "%s", ctx.error);
    cr_expect_eq(suga_guard_init(&g, &small_requests, 128, NOV_2026, NULL), SUGA_OK, "ctx may be NULL");
}

Test(guard, the_real_spec_limits_are_the_free_tier)
{
    const suga_limits *limits = suga_main_table.limits;
    cr_assert_not_null(limits);
    suga_guard g;
    init(&g, limits, 128, NOV_2026);
    cr_expect_eq(g.requests_budget, 1000000);
    cr_expect_eq(g.gb_seconds_budget, 400000);
    cr_expect_eq(g.warn_percent, 80);
    cr_expect_eq(g.throttle_percent, 90);
    cr_expect_eq(g.block_percent, 95);
}

Test(guard, unusable_guards_are_refused_not_crashed_on)
{
    suga_guard zero = {0};
    json_t *out = NULL;
    char buf[64];
    reset_ctx();
    cr_expect_eq(suga_guard_admit(&zero, NOV_2026, true, NULL, &ctx), SUGA_E_STATE);
    cr_expect_str_eq(ctx.error, "suga_guard_admit: guard is not initialised (call suga_guard_init first)");
    cr_expect_eq(suga_guard_admit(NULL, NOV_2026, true, NULL, &ctx), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_guard_record(&zero, NOV_2026, 1, &ctx), SUGA_E_STATE);
    cr_expect_eq(suga_guard_record(NULL, NOV_2026, 1, NULL), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_guard_status(&zero, NOV_2026, &out, &ctx), SUGA_E_STATE);
    cr_expect_null(out);
    cr_expect_eq(suga_guard_status(&zero, NOV_2026, NULL, &ctx), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_guard_describe(&zero, NOV_2026, buf, sizeof buf, &ctx), SUGA_E_STATE);
    cr_expect_eq(suga_guard_save(&zero, "/tmp/x", &ctx), SUGA_E_STATE);
    cr_expect_eq(suga_guard_load(&zero, "/tmp/x", NOV_2026, NULL, &ctx), SUGA_E_STATE);
    cr_expect_str_eq(suga_guard_level_name(SUGA_GUARD_THROTTLE), "throttle");
    cr_expect_str_eq(suga_guard_level_name((suga_guard_level)42), "unknown_level");
}

/* ---- thresholds ---- */

Test(guard, request_thresholds_at_exactly_80_90_95_percent)
{
    suga_guard g;
    init(&g, &small_requests, 128, NOV_2026);
    suga_guard_verdict v;

    record_n(&g, 79, EARLY, 10);
    cr_expect_eq(admit(&g, EARLY, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_OK);
    cr_expect_not(v.changed);

    record_n(&g, 1, EARLY, 10); /* 80 of 100 */
    cr_expect_eq(admit(&g, EARLY, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_WARN);
    cr_expect_eq(v.previous, SUGA_GUARD_OK);
    cr_expect(v.changed, "the first admission at warn reports the transition");
    cr_expect_eq(admit(&g, EARLY, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_WARN);
    cr_expect_not(v.changed, "... and the next one does not");

    record_n(&g, 9, EARLY, 10); /* 89 */
    cr_expect_eq(admit(&g, EARLY, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_WARN);
    record_n(&g, 1, EARLY, 10); /* 90 */
    cr_expect_eq(admit(&g, EARLY, false, &v), SUGA_E_BUDGET, "non-essential is shed at throttle");
    cr_expect_eq(v.level, SUGA_GUARD_THROTTLE);
    cr_expect(v.changed);
    cr_expect_str_eq(ctx.error,
                     "free tier budget nearly exhausted: non-essential operation shed: requests at 90.0 % of 100 a "
                     "month (throttle threshold 90 %); essential operations still run until 95 %; month 2026-11 "
                     "resets at 2026-12-01T00:00:00Z");
    cr_expect_eq(admit(&g, EARLY, true, &v), SUGA_OK, "essential still runs at throttle: %s", ctx.error);
    cr_expect_eq(v.level, SUGA_GUARD_THROTTLE);
    cr_expect_not(v.changed);

    record_n(&g, 4, EARLY, 10); /* 94 */
    cr_expect_eq(admit(&g, EARLY, true, &v), SUGA_OK);
    record_n(&g, 1, EARLY, 10); /* 95 */
    cr_expect_eq(admit(&g, EARLY, true, &v), SUGA_E_BUDGET, "block refuses essential operations too");
    cr_expect_eq(v.level, SUGA_GUARD_BLOCK);
    cr_expect_eq(v.previous, SUGA_GUARD_THROTTLE);
    cr_expect(v.changed);
    cr_expect_str_eq(ctx.error,
                     "free tier budget exhausted: requests at 95.0 % of 100 a month (block threshold 95 %); every "
                     "operation is refused until month 2026-11 resets at 2026-12-01T00:00:00Z");
    cr_expect_eq(admit(&g, EARLY, false, &v), SUGA_E_BUDGET);
    cr_expect(starts_with(ctx.error, "free tier budget exhausted: "), "%s", ctx.error);
    cr_expect_eq(g.shed, 1);
    cr_expect_eq(g.blocked, 2);
    cr_expect_eq(g.requests, 95, "admission itself counts nothing");
}

Test(guard, gb_second_thresholds_at_exactly_80_90_95_percent)
{
    suga_guard g;
    /* 1 GB-s budget; 1024 MB × 10 ms = 0.01 GB-s a call: 1 % of the budget each. */
    init(&g, &small_gb_seconds, 1024, NOV_2026);
    suga_guard_verdict v;
    record_n(&g, 79, EARLY, 10);
    cr_expect_eq(admit(&g, EARLY, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_OK);
    record_n(&g, 1, EARLY, 10);
    cr_expect_eq(admit(&g, EARLY, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_WARN);
    record_n(&g, 9, EARLY, 10);
    cr_expect_eq(admit(&g, EARLY, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_WARN);
    record_n(&g, 1, EARLY, 10);
    cr_expect_eq(admit(&g, EARLY, false, &v), SUGA_E_BUDGET);
    cr_expect_eq(v.level, SUGA_GUARD_THROTTLE);
    cr_expect(starts_with(ctx.error, "free tier budget nearly exhausted: non-essential operation shed: GB-seconds "
                                     "at 90.0 % of 1 a month"), "%s", ctx.error);
    cr_expect_eq(admit(&g, EARLY, true, &v), SUGA_OK);
    record_n(&g, 4, EARLY, 10);
    cr_expect_eq(admit(&g, EARLY, true, &v), SUGA_OK);
    record_n(&g, 1, EARLY, 10);
    cr_expect_eq(admit(&g, EARLY, true, &v), SUGA_E_BUDGET);
    cr_expect_eq(v.level, SUGA_GUARD_BLOCK);
    cr_expect_str_eq(ctx.error,
                     "free tier budget exhausted: GB-seconds at 95.0 % of 1 a month (block threshold 95 %); every "
                     "operation is refused until month 2026-11 resets at 2026-12-01T00:00:00Z");
}

Test(guard, one_ms_short_of_a_threshold_is_not_the_threshold)
{
    suga_guard g;
    init(&g, &small_gb_seconds, 1024, NOV_2026);
    /* 1 GB-s = 1024 MB × 1000 ms; 80 % = 800 ms at 1024 MB. */
    record_n(&g, 1, EARLY, 799);
    suga_guard_verdict v;
    cr_expect_eq(admit(&g, EARLY, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_OK);
    record_n(&g, 1, EARLY, 0.5); /* billed as 1 ms */
    cr_expect_eq(admit(&g, EARLY, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_WARN);
}

/* ---- GB-seconds ---- */

Test(guard, gb_second_arithmetic_and_rounding)
{
    suga_guard g;
    init(&g, &small_requests, 128, NOV_2026);
    record_n(&g, 1, EARLY, 1000);
    cr_expect_eq(g.mb_ms, 128000);
    json_t *status = NULL;
    cr_assert_eq(suga_guard_status(&g, EARLY, &status, &ctx), SUGA_OK);
    cr_expect_float_eq(json_real_value(json_object_get(status, "gb_seconds")), 0.125, 1e-12, "128 MB x 1 s");
    json_decref(status);

    /* Lambda bills whole milliseconds, rounded up, at least 1 ms. */
    const struct {
        double duration;
        uint64_t billed_ms;
    } cases[] = {{0, 1}, {0.2, 1}, {1.0, 1}, {1.001, 2}, {41.5, 42}, {900000, 900000}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        init(&g, &small_requests, 1, NOV_2026);
        record_n(&g, 1, EARLY, cases[i].duration);
        cr_expect_eq(g.mb_ms, cases[i].billed_ms, "%g ms", cases[i].duration);
        cr_expect_eq(g.requests, 1);
    }

    /* 10240 MB (Lambda's largest) × 15 min = 9000 GB-s */
    init(&g, &small_requests, 10240, NOV_2026);
    record_n(&g, 1, EARLY, 900000);
    cr_expect_eq(g.mb_ms, UINT64_C(9000) * 1024000);

    /* Init is billed duration without a request, and has no 1 ms minimum of its own. */
    init(&g, &small_requests, 128, NOV_2026);
    cr_expect_eq(suga_guard_record_init(&g, EARLY, 10.2, &ctx), SUGA_OK);
    cr_expect_eq(g.mb_ms, 11 * 128);
    cr_expect_eq(g.requests, 0);
    cr_expect_eq(suga_guard_record_init(&g, EARLY, 0, &ctx), SUGA_OK);
    cr_expect_eq(g.mb_ms, 11 * 128);
}

Test(guard, bad_durations_count_nothing)
{
    suga_guard g;
    init(&g, &small_requests, 128, NOV_2026);
    const double bad[] = {-1, -0.001, NAN, INFINITY, -INFINITY, 1793491200000.0 /* a timestamp */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        reset_ctx();
        cr_expect_eq(suga_guard_record(&g, EARLY, bad[i], &ctx), SUGA_E_INVALID_ARG, "%g", bad[i]);
        cr_expect(starts_with(ctx.error, "suga_guard_record: duration_ms must be a number of milliseconds in "
                                         "[0, 2678400000], got "),
                  "%s", ctx.error);
        cr_expect_eq(suga_guard_record_init(&g, EARLY, bad[i], &ctx), SUGA_E_INVALID_ARG);
    }
    cr_expect_eq(g.requests, 0);
    cr_expect_eq(g.mb_ms, 0);
    cr_expect_eq(suga_guard_record(&g, -5, 1, &ctx), SUGA_E_INVALID_ARG);
    cr_expect_eq(g.requests, 0);
}

Test(guard, counters_saturate_instead_of_wrapping)
{
    suga_guard g;
    init(&g, &small_requests, 10240, NOV_2026);
    g.requests = UINT64_MAX - 1;
    g.mb_ms = UINT64_MAX - 5;
    record_n(&g, 2, EARLY, 1000);
    cr_expect_eq(g.requests, UINT64_MAX);
    cr_expect_eq(g.mb_ms, UINT64_MAX);
    suga_guard_verdict v;
    cr_expect_eq(admit(&g, EARLY, true, &v), SUGA_E_BUDGET);
    cr_expect_eq(v.level, SUGA_GUARD_BLOCK);
}

/* ---- projection ---- */

/* Big enough for the projection's 1,000-request minimum to be reached below the thresholds. */
static const suga_limits mid_requests = {
    .requests_per_month = 2500, .gb_seconds_per_month = 1000000, .warn_percent = 80, .throttle_percent = 90,
    .block_percent = 95};

Test(guard, early_month_noise_is_ignored)
{
    suga_guard g;
    init(&g, &mid_requests, 128, NOV_2026);
    suga_guard_verdict v;
    /* One request in the first second "projects" to 10,000 times the budget. */
    record_n(&g, 1, NOV_2026 + 1000, 10);
    cr_expect_eq(admit(&g, NOV_2026 + 1000, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_OK);
    json_t *s = NULL;
    cr_assert_eq(suga_guard_status(&g, NOV_2026 + 1000, &s, &ctx), SUGA_OK);
    cr_expect_not(json_is_true(json_object_get(s, "projection_trusted")));
    cr_expect_gt(json_real_value(json_object_get(s, "projected_percent")), 1e5, "shown, but not acted on");
    cr_expect_str_eq(json_string_value(json_object_get(s, "level")), "ok");
    json_decref(s);

    /* 1,000 requests (40 %) seven hours in: under 1 % of November (7.2 h), so no projection yet. */
    record_n(&g, 999, NOV_2026 + 7 * HOUR, 10);
    cr_expect_eq(admit(&g, NOV_2026 + 7 * HOUR, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_OK);
    /* At 1 % of the month the same usage projects to 4000 %: throttle, never block. */
    int64_t one_percent = NOV_2026 + 7 * HOUR + 12 * 60000;
    cr_expect_eq(admit(&g, one_percent - 1, false, &v), SUGA_OK);
    cr_expect_eq(admit(&g, one_percent, false, &v), SUGA_E_BUDGET);
    cr_expect_eq(v.level, SUGA_GUARD_THROTTLE);
    cr_expect(strstr(ctx.error, "requests at 40.0 % of 2500 a month, projected 4000.0 % by month end"), "%s",
              ctx.error);
    cr_expect_eq(admit(&g, one_percent, true, &v), SUGA_OK, "a projection never blocks");
}

Test(guard, projection_waits_for_1000_requests)
{
    suga_guard g;
    init(&g, &small_gb_seconds, 128, NOV_2026);
    int64_t t = NOV_2026 + 3 * DAY; /* 10 % of November */
    suga_guard_verdict v;
    /* 8 long calls: 0.1 GB-s, 10 % of the budget, projecting to 100 %: too few to go by. */
    record_n(&g, 8, t, 100);
    cr_expect_eq(admit(&g, t, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_OK);
    /* 991 short ones (1 ms × 128 MB each): 999 calls, 22.4 % used, still no projection. */
    record_n(&g, 991, t, 0);
    cr_expect_eq(admit(&g, t, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_OK);
    /* The 1,000th call: 22.4 % used projects to 224 %. */
    record_n(&g, 1, t, 0);
    cr_expect_eq(admit(&g, t, true, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_THROTTLE);
}

Test(guard, mid_month_projection_raises_the_level_before_actual_usage_does)
{
    suga_guard g;
    init(&g, &mid_requests, 128, NOV_2026);
    int64_t mid = NOV_2026 + 15 * DAY; /* exactly half of November's 30 days */
    suga_guard_verdict v;
    record_n(&g, 999, mid, 10);
    cr_expect_eq(admit(&g, mid, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_OK, "39.96 %% used, 79.92 %% projected");
    record_n(&g, 1, mid, 10);
    cr_expect_eq(admit(&g, mid, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_WARN, "40 %% used, 80 %% projected");
    cr_expect(v.changed);
    record_n(&g, 124, mid, 10);
    cr_expect_eq(admit(&g, mid, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_WARN, "44.96 %% used, 89.92 %% projected");
    record_n(&g, 1, mid, 10);
    cr_expect_eq(admit(&g, mid, false, &v), SUGA_E_BUDGET, "45 %% used, 90 %% projected");
    cr_expect_eq(v.level, SUGA_GUARD_THROTTLE);
    cr_expect_str_eq(ctx.error,
                     "free tier budget nearly exhausted: non-essential operation shed: requests at 45.0 % of 2500 a "
                     "month, projected 90.0 % by month end (throttle threshold 90 %); essential operations still "
                     "run until 95 %; month 2026-11 resets at 2026-12-01T00:00:00Z");
    record_n(&g, 125, mid, 10);
    cr_expect_eq(admit(&g, mid, true, &v), SUGA_OK, "100 %% projected: throttle, not block");
    cr_expect_eq(v.level, SUGA_GUARD_THROTTLE);

    /* The same 1,250 requests later in the month project lower, and the level follows. */
    int64_t late = NOV_2026 + 27 * DAY; /* 90 % of the month: 50 / 0.9 = 55.6 % */
    cr_expect_eq(admit(&g, late, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_OK);
    cr_expect(v.changed);
    cr_expect_eq(v.previous, SUGA_GUARD_THROTTLE);
}

Test(guard, the_level_never_drops_below_actual_usage)
{
    suga_guard g;
    init(&g, &small_requests, 128, NOV_2026);
    record_n(&g, 90, NOV_2026 + 29 * DAY, 10);
    suga_guard_verdict v;
    /* The clock steps back into October: the November counts stay, no projection (no elapsed time). */
    cr_expect_eq(admit(&g, OCT_2026 + 5 * DAY, true, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_THROTTLE);
    cr_expect_eq(g.requests, 90);
    record_n(&g, 5, OCT_2026 + 5 * DAY, 10);
    cr_expect_eq(g.requests, 95, "counted into the current month");
    cr_expect_eq(admit(&g, NOV_2026 + 29 * DAY, true, &v), SUGA_E_BUDGET);
}

/* ---- months ---- */

Test(guard, a_new_month_resets_the_counts)
{
    suga_guard g;
    init(&g, &small_requests, 128, NOV_2026 + 3 * DAY);
    record_n(&g, 95, DEC_2026 - 1, 10);
    suga_guard_verdict v;
    cr_expect_eq(admit(&g, DEC_2026 - 1, true, &v), SUGA_E_BUDGET);
    cr_expect_eq(v.level, SUGA_GUARD_BLOCK);

    /* Status looks at December without changing the guard. */
    json_t *s = NULL;
    cr_assert_eq(suga_guard_status(&g, DEC_2026, &s, &ctx), SUGA_OK);
    cr_expect_str_eq(json_string_value(json_object_get(s, "month")), "2026-12");
    cr_expect_eq(json_integer_value(json_object_get(s, "requests")), 0);
    cr_expect_str_eq(json_string_value(json_object_get(s, "resets_at")), "2027-01-01T00:00:00Z");
    json_decref(s);
    cr_expect_eq(g.requests, 95);

    cr_expect_eq(admit(&g, DEC_2026, false, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_OK);
    cr_expect(v.changed);
    cr_expect_eq(v.previous, SUGA_GUARD_BLOCK);
    cr_expect_eq(g.requests, 0);
    cr_expect_eq(g.blocked, 0);
    cr_expect_eq(g.month_start_ms, DEC_2026);
    cr_expect_eq(g.month_end_ms, JAN_2027);

    /* A record is what first sees the new year here. */
    record_n(&g, 3, JAN_2027 + 5, 10);
    cr_expect_eq(g.requests, 3);
    cr_expect_eq(g.month_start_ms, JAN_2027);
    cr_assert_eq(suga_guard_status(&g, JAN_2027 + 5, &s, &ctx), SUGA_OK);
    cr_expect_str_eq(json_string_value(json_object_get(s, "month")), "2027-01");
    cr_expect_str_eq(json_string_value(json_object_get(s, "resets_at")), "2027-02-01T00:00:00Z");
    json_decref(s);
}

Test(guard, month_boundaries_follow_the_calendar)
{
    suga_guard g;
    init(&g, &small_requests, 128, FEB_2028 + 14 * DAY + 12 * HOUR);
    cr_expect_eq(g.month_start_ms, FEB_2028);
    cr_expect_eq(g.month_end_ms, MAR_2028, "February 2028 has 29 days");
    json_t *s = NULL;
    cr_assert_eq(suga_guard_status(&g, FEB_2028 + 14 * DAY + 12 * HOUR, &s, &ctx), SUGA_OK);
    cr_expect_float_eq(json_real_value(json_object_get(s, "elapsed_percent")), 50.0, 1e-9);
    cr_expect_str_eq(json_string_value(json_object_get(s, "month")), "2028-02");
    cr_expect_eq(json_integer_value(json_object_get(s, "seconds_to_reset")), 14 * 86400 + 12 * 3600);
    json_decref(s);
    init(&g, &small_requests, 128, 0);
    cr_expect_eq(g.month_start_ms, 0);
    cr_expect_eq(g.month_end_ms, 31 * DAY);
    init(&g, &small_requests, 128, JAN_2027 - 1);
    cr_expect_eq(g.month_start_ms, DEC_2026);
}

/* ---- diagnostics ---- */

Test(guard, status_json)
{
    suga_guard g;
    init(&g, &mid_requests, 256, NOV_2026);
    record_n(&g, 1125, NOV_2026 + 15 * DAY, 500);
    admit(&g, NOV_2026 + 15 * DAY, false, NULL);
    json_t *s = NULL;
    cr_assert_eq(suga_guard_status(&g, NOV_2026 + 15 * DAY, &s, &ctx), SUGA_OK);
    cr_expect_eq(json_object_size(s), 17);
    cr_expect(json_is_null(json_object_get(s, "account")), "no account figures were given");
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(s, "process"), "requests")), 1125);
    cr_expect_str_eq(json_string_value(json_object_get(s, "month")), "2026-11");
    cr_expect_str_eq(json_string_value(json_object_get(s, "resets_at")), "2026-12-01T00:00:00Z");
    cr_expect_eq(json_integer_value(json_object_get(s, "seconds_to_reset")), 15 * 86400);
    cr_expect_float_eq(json_real_value(json_object_get(s, "elapsed_percent")), 50.0, 1e-9);
    cr_expect_eq(json_integer_value(json_object_get(s, "memory_mb")), 256);
    cr_expect_eq(json_integer_value(json_object_get(s, "requests")), 1125);
    cr_expect_float_eq(json_real_value(json_object_get(s, "gb_seconds")), 140.625, 1e-9, "1125 × 0.5 s × 0.25 GB");
    cr_expect_eq(json_integer_value(json_object_get(s, "shed")), 1);
    cr_expect_eq(json_integer_value(json_object_get(s, "blocked")), 0);
    json_t *budget = json_object_get(s, "budget");
    cr_expect_eq(json_integer_value(json_object_get(budget, "requests")), 2500);
    cr_expect_eq(json_integer_value(json_object_get(budget, "gb_seconds")), 1000000);
    json_t *thresholds = json_object_get(s, "thresholds");
    cr_expect_eq(json_integer_value(json_object_get(thresholds, "warn")), 80);
    cr_expect_eq(json_integer_value(json_object_get(thresholds, "throttle")), 90);
    cr_expect_eq(json_integer_value(json_object_get(thresholds, "block")), 95);
    json_t *used = json_object_get(s, "used_percent");
    cr_expect_float_eq(json_real_value(json_object_get(used, "requests")), 45.0, 1e-9);
    cr_expect_float_eq(json_real_value(json_object_get(used, "gb_seconds")), 0.0140625, 1e-12);
    cr_expect_float_eq(json_real_value(json_object_get(used, "max")), 45.0, 1e-9);
    cr_expect_float_eq(json_real_value(json_object_get(s, "projected_percent")), 90.0, 1e-9);
    cr_expect(json_is_true(json_object_get(s, "projection_trusted")));
    cr_expect_str_eq(json_string_value(json_object_get(s, "level")), "throttle");
    json_decref(s);
    cr_assert_eq(suga_guard_status(&g, NOV_2026, &s, &ctx), SUGA_OK);
    cr_expect(json_is_null(json_object_get(s, "projected_percent")), "no rate before any time has passed");
    json_decref(s);
}

Test(guard, describe_for_the_transition_log)
{
    suga_guard g;
    init(&g, &mid_requests, 128, NOV_2026);
    char buf[512];
    cr_assert_eq(suga_guard_describe(&g, EARLY, buf, sizeof buf, &ctx), SUGA_OK, "%s", ctx.error);
    cr_expect_str_eq(buf, "free tier guard level ok: requests 0.0 % of 2500 used, GB-seconds 0.0 % of 1000000 used, "
                          "no projection yet (thresholds warn 80 %, throttle 90 %, block 95 %); month 2026-11 resets "
                          "at 2026-12-01T00:00:00Z");
    record_n(&g, 1050, NOV_2026 + 15 * DAY, 1000);
    cr_assert_eq(suga_guard_describe(&g, NOV_2026 + 15 * DAY, buf, sizeof buf, &ctx), SUGA_OK);
    cr_expect_str_eq(buf, "free tier guard level warn: requests 42.0 % of 2500 used, GB-seconds 0.0 % of 1000000 "
                          "used, projected 84.0 % by month end (thresholds warn 80 %, throttle 90 %, block 95 %); "
                          "month 2026-11 resets at 2026-12-01T00:00:00Z");
    char small[16];
    cr_expect_eq(suga_guard_describe(&g, EARLY, small, sizeof small, &ctx), SUGA_E_LIMIT);
    cr_expect_eq(strlen(small), sizeof small - 1, "cut, but terminated");
    cr_expect_eq(suga_guard_describe(&g, EARLY, NULL, 0, &ctx), SUGA_E_INVALID_ARG);
}

/* ---- persistence ---- */

Test(guard, save_and_load_round_trip)
{
    char dir[256], path[300], names[256];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/guard.json", dir);

    suga_guard a;
    init(&a, &small_requests, 128, NOV_2026);
    record_n(&a, 91, EARLY, 250.5);
    cr_expect_eq(admit(&a, EARLY, false, NULL), SUGA_E_BUDGET);
    cr_assert_eq(suga_guard_save(&a, path, &ctx), SUGA_OK, "%s", ctx.error);
    cr_expect_eq(count_entries(dir, names, sizeof names), 1, "only the state file is left: %s", names);

    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    cr_assert_not_null(doc, "%s", jerr.text);
    cr_expect_str_eq(json_string_value(json_object_get(doc, "format")), "suga-guard-state");
    cr_expect_eq(json_integer_value(json_object_get(doc, "version")), 1);
    cr_expect_str_eq(json_string_value(json_object_get(doc, "month")), "2026-11");
    cr_expect_eq(json_integer_value(json_object_get(doc, "requests")), 91);
    cr_expect_eq(json_integer_value(json_object_get(doc, "mb_ms")), 91 * 251 * 128);
    json_decref(doc);

    /* A restarted process resumes: same counts, same level (reported once again, as a change). */
    suga_guard b;
    init(&b, &small_requests, 128, EARLY + HOUR);
    suga_guard_load_outcome outcome = SUGA_GUARD_LOAD_MISSING;
    cr_assert_eq(suga_guard_load(&b, path, EARLY + HOUR, &outcome, &ctx), SUGA_OK, "%s", ctx.error);
    cr_expect_eq(outcome, SUGA_GUARD_LOADED);
    cr_expect_eq(b.requests, a.requests);
    cr_expect_eq(b.mb_ms, a.mb_ms);
    cr_expect_eq(b.shed, 1);
    cr_expect_eq(b.blocked, 0);
    suga_guard_verdict v;
    cr_expect_eq(admit(&b, EARLY + HOUR, true, &v), SUGA_OK);
    cr_expect_eq(v.level, SUGA_GUARD_THROTTLE);
    cr_expect(v.changed, "the new process logs its level once");

    /* Saving again replaces the file (still nothing else in the directory). */
    record_n(&b, 1, EARLY + HOUR, 1);
    cr_assert_eq(suga_guard_save(&b, path, &ctx), SUGA_OK, "%s", ctx.error);
    cr_expect_eq(count_entries(dir, names, sizeof names), 1, "%s", names);
    cr_expect(strstr(read_file(path), "\"requests\": 92"));

    /* Loading into a guard that already counted would double count. */
    cr_expect_eq(suga_guard_load(&b, path, EARLY + HOUR, &outcome, &ctx), SUGA_E_STATE);
    cr_expect(strstr(ctx.error, "already counted 92 requests this month"), "%s", ctx.error);
    remove_temp_dir(dir);
}

Test(guard, a_file_from_another_month_is_ignored)
{
    char dir[256], path[300];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/guard.json", dir);
    suga_guard a;
    init(&a, &small_requests, 128, OCT_2026 + 20 * DAY);
    record_n(&a, 50, OCT_2026 + 20 * DAY, 10);
    cr_assert_eq(suga_guard_save(&a, path, &ctx), SUGA_OK, "%s", ctx.error);

    suga_guard b;
    init(&b, &small_requests, 128, NOV_2026);
    suga_guard_load_outcome outcome = SUGA_GUARD_LOADED;
    cr_expect_eq(suga_guard_load(&b, path, NOV_2026, &outcome, &ctx), SUGA_OK);
    cr_expect_eq(outcome, SUGA_GUARD_LOAD_OTHER_MONTH);
    cr_expect_eq(b.requests, 0);
    /* A guard initialised in October that loads in November loads into November: ignored too. */
    init(&b, &small_requests, 128, OCT_2026 + 25 * DAY);
    cr_expect_eq(suga_guard_load(&b, path, NOV_2026 + 1, &outcome, &ctx), SUGA_OK);
    cr_expect_eq(outcome, SUGA_GUARD_LOAD_OTHER_MONTH);
    cr_expect_eq(b.requests, 0);
    remove_temp_dir(dir);
}

Test(guard, a_missing_file_is_not_an_error)
{
    char dir[256], path[300];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/never-written.json", dir);
    suga_guard g;
    init(&g, &small_requests, 128, NOV_2026);
    suga_guard_load_outcome outcome = SUGA_GUARD_LOADED;
    cr_expect_eq(suga_guard_load(&g, path, NOV_2026, &outcome, &ctx), SUGA_OK);
    cr_expect_eq(outcome, SUGA_GUARD_LOAD_MISSING);
    cr_expect_eq(suga_guard_load(&g, path, NOV_2026, NULL, &ctx), SUGA_OK, "outcome may be NULL");
    remove_temp_dir(dir);
}

Test(guard, corrupt_or_foreign_files_are_rejected_with_the_path)
{
    char dir[256], path[300];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/guard.json", dir);
    const struct {
        const char *content;
        suga_status status;
        const char *problem;
    } cases[] = {
        {"{\"format\": \"suga-guard-state\", \"version\": 1, \"month\": \"2026-11\", \"requ",
         SUGA_E_INVALID_ARG, "invalid JSON at line 1, column "},
        {"", SUGA_E_INVALID_ARG, "the file is empty"},
        {"[1, 2]", SUGA_E_INVALID_ARG, "not a JSON object"},
        {"{\"format\": \"something-else\", \"version\": 1}", SUGA_E_INVALID_ARG,
         "not a suga guard state file (\"format\" is not \"suga-guard-state\")"},
        {"{\"format\": \"suga-guard-state\", \"version\": 2}", SUGA_E_INVALID_ARG,
         "state version 2 was written by a newer suga (this one reads 1)"},
        {"{\"format\": \"suga-guard-state\", \"version\": \"1\"}", SUGA_E_INVALID_ARG,
         "\"version\" must be a positive integer"},
        {"{\"format\": \"suga-guard-state\", \"version\": 1, \"month\": \"2026-13\"}", SUGA_E_INVALID_ARG,
         "\"month\" must be a \"YYYY-MM\" string"},
        {"{\"format\": \"suga-guard-state\", \"version\": 1, \"month\": \"2026-11\", \"requests\": -4, \"mb_ms\": 0, "
         "\"shed\": 0, \"blocked\": 0}",
         SUGA_E_INVALID_ARG, "\"requests\" must be a non-negative integer"},
        {"{\"format\": \"suga-guard-state\", \"version\": 1, \"month\": \"2026-11\", \"requests\": 4, \"shed\": 0, "
         "\"blocked\": 0}",
         SUGA_E_INVALID_ARG, "\"mb_ms\" must be a non-negative integer"},
        {"{\"format\": \"suga-guard-state\", \"format\": \"suga-guard-state\"}", SUGA_E_INVALID_ARG,
         "invalid JSON at line 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(path, cases[i].content);
        suga_guard g;
        init(&g, &small_requests, 128, NOV_2026);
        suga_guard_load_outcome outcome = SUGA_GUARD_LOADED;
        cr_expect_eq(suga_guard_load(&g, path, NOV_2026, &outcome, &ctx), cases[i].status, "case %zu: %s", i,
                     ctx.error);
        char prefix[1024];
        snprintf(prefix, sizeof prefix, "cannot load free tier guard state '%s': %s", path, cases[i].problem);
        cr_expect(starts_with(ctx.error, prefix), "case %zu: %s", i, ctx.error);
        cr_expect(strstr(ctx.error, "the guard starts with fresh counts"), "case %zu: %s", i, ctx.error);
        /* Still usable, with fresh counts. */
        cr_expect_eq(g.requests, 0);
        record_n(&g, 1, NOV_2026, 1);
        cr_expect_eq(admit(&g, NOV_2026, false, NULL), SUGA_OK);
    }

    /* Too big to be ours. */
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < SUGA_GUARD_STATE_MAX_BYTES + 1; i++)
        fputc(' ', f);
    fclose(f);
    suga_guard g;
    init(&g, &small_requests, 128, NOV_2026);
    cr_expect_eq(suga_guard_load(&g, path, NOV_2026, NULL, &ctx), SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "larger than 65536 bytes"), "%s", ctx.error);

    /* Not a file at all. */
    cr_expect_eq(suga_guard_load(&g, dir, NOV_2026, NULL, &ctx), SUGA_E_IO);
    char expected[1024];
    snprintf(expected, sizeof expected, "cannot load free tier guard state '%s': not a regular file", dir);
    cr_expect(starts_with(ctx.error, expected), "%s", ctx.error);
    remove_temp_dir(dir);
}

Test(guard, save_leaves_no_temporary_and_never_a_partial_file)
{
    char dir[256], path[300], names[256], sub[300];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/guard.json", dir);
    suga_guard g;
    init(&g, &small_requests, 128, NOV_2026);
    record_n(&g, 7, EARLY, 10);
    cr_assert_eq(suga_guard_save(&g, path, &ctx), SUGA_OK, "%s", ctx.error);
    char before[4096];
    snprintf(before, sizeof before, "%s", read_file(path));

    /* rename fails (the target is a non-empty directory): the directory is untouched, and the
     * temporary written next to it is removed. */
    snprintf(sub, sizeof sub, "%s/target", dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    char inner[400];
    snprintf(inner, sizeof inner, "%s/keep", sub);
    write_file(inner, "x");
    cr_expect_eq(suga_guard_save(&g, sub, &ctx), SUGA_E_IO);
    char expected[1024];
    snprintf(expected, sizeof expected, "cannot save free tier guard state '%s': rename: ", sub);
    cr_expect(starts_with(ctx.error, expected), "%s", ctx.error);
    cr_expect_eq(count_entries(dir, names, sizeof names), 2, "guard.json and target only: %s", names);
    cr_expect_str_eq(read_file(inner), "x");

    /* The write itself fails (file size limit): the old file is intact, byte for byte. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {.rlim_cur = 16, .rlim_max = RLIM_INFINITY};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    record_n(&g, 1, EARLY, 10);
    cr_expect_eq(suga_guard_save(&g, path, &ctx), SUGA_E_IO);
    snprintf(expected, sizeof expected, "cannot save free tier guard state '%s': write: ", path);
    cr_expect(starts_with(ctx.error, expected), "%s", ctx.error);
    rl.rlim_cur = RLIM_INFINITY;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    cr_expect_str_eq(read_file(path), before);
    cr_expect_eq(count_entries(dir, names, sizeof names), 2, "%s", names);

    /* No directory to write the temporary into. */
    char missing[400];
    snprintf(missing, sizeof missing, "%s/no-such-dir/guard.json", dir);
    cr_expect_eq(suga_guard_save(&g, missing, &ctx), SUGA_E_IO);
    snprintf(expected, sizeof expected, "cannot save free tier guard state '%s': creating a temporary file: ", missing);
    cr_expect(starts_with(ctx.error, expected), "%s", ctx.error);

    cr_expect_eq(suga_guard_save(&g, "", &ctx), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_guard_save(&g, NULL, &ctx), SUGA_E_INVALID_ARG);
    snprintf(sub, sizeof sub, "%s/", dir);
    cr_expect_eq(suga_guard_save(&g, sub, &ctx), SUGA_E_INVALID_ARG);
    remove_temp_dir(dir);
}

Test(guard, save_to_a_relative_path)
{
    char dir[256], names[256];
    make_temp_dir(dir, sizeof dir);
    char cwd[4096];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    cr_assert_eq(chdir(dir), 0);
    suga_guard g;
    init(&g, &small_requests, 128, NOV_2026);
    cr_expect_eq(suga_guard_save(&g, "state.json", &ctx), SUGA_OK, "%s", ctx.error);
    cr_expect_eq(count_entries(".", names, sizeof names), 1, "%s", names);
    cr_expect_eq(suga_guard_load(&g, "state.json", NOV_2026, NULL, &ctx), SUGA_OK, "%s", ctx.error);
    cr_assert_eq(chdir(cwd), 0);
    remove_temp_dir(dir);
}

/* ---- the account's figures (suga_guard_set_account) ---- */

/* A fresh environment learns the account is at 96 %: its next request is refused, although it
 * has served one itself. */
Test(guard, account_at_96_percent_blocks_a_fresh_environment)
{
    suga_guard g;
    init(&g, &small_requests, 128, EARLY);
    cr_expect_eq(admit(&g, EARLY, true, NULL), SUGA_OK, "before the figures: its own count, 0");
    record_n(&g, 1, EARLY, 10);
    cr_assert_eq(suga_guard_set_account(&g, EARLY, 96, 0, &ctx), SUGA_OK, "%s", ctx.error);
    suga_guard_verdict v;
    cr_expect_eq(admit(&g, EARLY + 1000, true, &v), SUGA_E_BUDGET);
    cr_expect_eq(v.level, SUGA_GUARD_BLOCK);
    cr_expect(strstr(ctx.error, "requests at 96.0 % of 100 a month"), "%s", ctx.error);
}

Test(guard, account_at_85_percent_warns_and_serves)
{
    suga_guard g;
    init(&g, &small_requests, 128, EARLY);
    cr_assert_eq(suga_guard_set_account(&g, EARLY, 85, 0, &ctx), SUGA_OK);
    suga_guard_verdict v;
    cr_expect_eq(admit(&g, EARLY, false, &v), SUGA_OK, "non-essential operations still run at 85 %%");
    cr_expect_eq(v.level, SUGA_GUARD_WARN);
    cr_expect(v.changed, "the warning is reported once");
}

/* What the process serves after the figures were taken adds to them... */
Test(guard, what_is_served_since_adds_to_the_account)
{
    suga_guard g;
    init(&g, &small_requests, 128, EARLY);
    record_n(&g, 5, EARLY, 10); /* before the figures: AWS counted these already */
    cr_assert_eq(suga_guard_set_account(&g, EARLY, 90, 0, &ctx), SUGA_OK);
    cr_expect_eq(admit(&g, EARLY, true, NULL), SUGA_OK, "90 %%: essential ones run");
    record_n(&g, 4, EARLY, 10);
    cr_expect_eq(admit(&g, EARLY, true, NULL), SUGA_OK, "94 %%");
    record_n(&g, 1, EARLY, 10);
    cr_expect_eq(admit(&g, EARLY, true, NULL), SUGA_E_BUDGET, "95 %%: 90 + the 5 served since");
}

/* ... and figures lower than the process's own count (stale, or another region's) never lower
 * the level: the larger of the two counts. */
Test(guard, the_larger_of_own_and_account_counts)
{
    suga_guard g;
    init(&g, &small_requests, 128, EARLY);
    record_n(&g, 95, EARLY, 10);
    cr_assert_eq(suga_guard_set_account(&g, EARLY, 10, 0, &ctx), SUGA_OK);
    cr_expect_eq(admit(&g, EARLY, true, NULL), SUGA_E_BUDGET);
    json_t *s = NULL;
    cr_assert_eq(suga_guard_status(&g, EARLY + 2000, &s, &ctx), SUGA_OK);
    cr_expect_eq(json_integer_value(json_object_get(s, "requests")), 95);
    json_t *account = json_object_get(s, "account");
    cr_expect_eq(json_integer_value(json_object_get(account, "requests")), 10);
    cr_expect_eq(json_integer_value(json_object_get(account, "taken_ms_ago")), 2000);
    json_decref(s);
}

Test(guard, account_gb_seconds_count_too)
{
    suga_guard g;
    init(&g, &small_gb_seconds, 128, EARLY);
    /* 1 GB-s budget: 0.96 GB-s = 983,040 MB·ms */
    cr_assert_eq(suga_guard_set_account(&g, EARLY, 0, 983040, &ctx), SUGA_OK);
    cr_expect_eq(admit(&g, EARLY, true, NULL), SUGA_E_BUDGET);
    cr_expect(strstr(ctx.error, "GB-seconds at 96.0 %"), "%s", ctx.error);
}

/* A new month starts from zero: last month's figures are not this month's. */
Test(guard, a_new_month_drops_the_account_figures)
{
    suga_guard g;
    init(&g, &small_requests, 128, NOV_2026 + 29 * DAY);
    cr_assert_eq(suga_guard_set_account(&g, NOV_2026 + 29 * DAY, 99, 0, &ctx), SUGA_OK);
    cr_expect_eq(admit(&g, NOV_2026 + 29 * DAY, true, NULL), SUGA_E_BUDGET);
    cr_expect_eq(admit(&g, DEC_2026 + HOUR, true, NULL), SUGA_OK);
    json_t *s = NULL;
    cr_assert_eq(suga_guard_status(&g, DEC_2026 + HOUR, &s, &ctx), SUGA_OK);
    cr_expect(json_is_null(json_object_get(s, "account")));
    json_decref(s);
}

Test(guard, set_account_refuses_bad_arguments)
{
    suga_guard g;
    reset_ctx();
    cr_expect_eq(suga_guard_set_account(NULL, EARLY, 1, 1, &ctx), SUGA_E_INVALID_ARG);
    memset(&g, 0, sizeof g);
    cr_expect_eq(suga_guard_set_account(&g, EARLY, 1, 1, &ctx), SUGA_E_STATE, "not initialised");
    init(&g, &small_requests, 128, EARLY);
    cr_expect_eq(suga_guard_set_account(&g, -5, 1, 1, &ctx), SUGA_E_INVALID_ARG);
    cr_expect_eq(suga_guard_set_account(&g, OCT_2026, 1, 1, &ctx), SUGA_E_INVALID_ARG, "an earlier month");
    cr_expect(strstr(ctx.error, "suga_guard_set_account"), "%s", ctx.error);
}
