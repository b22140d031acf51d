/* The one clock (runtime/clock.c): the system clocks, the one test override that moves every
 * reading at once, and the ISO-8601 form of an instant. */
#include <criterion/criterion.h>

#include "suga_clock.h"
#include "suga_test_hooks.h"

static int64_t fake_now;

static int64_t fake_clock(void)
{
    return fake_now;
}

Test(clock, the_system_clocks_move_forward)
{
    int64_t wall = suga_clock_wall_ms(), mono = suga_clock_monotonic_ms();
    double elapsed = suga_clock_elapsed_ms();
    cr_assert_gt(wall, INT64_C(1735689600000), "the wall clock is after 2025-01-01");
    cr_assert_geq(suga_clock_wall_ms(), wall);
    cr_assert_geq(suga_clock_monotonic_ms(), mono);
    cr_assert_geq(suga_clock_elapsed_ms(), elapsed);
    cr_assert_lt(elapsed - (double)mono, 1000.0, "elapsed and monotonic times are one clock");
}

Test(clock, one_override_moves_every_reading)
{
    fake_now = 5000;
    cr_assert_eq(suga_clock_set_test_clock(fake_clock), SUGA_OK);
    cr_assert_eq(suga_clock_wall_ms(), 5000);
    cr_assert_eq(suga_clock_monotonic_ms(), 5000);
    cr_assert_float_eq(suga_clock_elapsed_ms(), 5000.0, 1e-9);
    fake_now += 1500;
    cr_assert_eq(suga_clock_wall_ms(), 6500);
    cr_assert_eq(suga_clock_monotonic_ms(), 6500);
    cr_assert_eq(suga_clock_set_test_clock(NULL), SUGA_OK);
    cr_assert_gt(suga_clock_wall_ms(), INT64_C(1735689600000), "NULL gives the system clocks back");
}

Test(clock, iso8601_known_instants)
{
    static const struct {
        int64_t ms;
        const char *want;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {1795430940123, "2026-11-23T10:49:00.123Z"},
        {951868799999, "2000-02-29T23:59:59.999Z"},
        {-1, "1969-12-31T23:59:59.999Z"}, /* floor, not truncation toward zero */
        {-1000, "1969-12-31T23:59:59.000Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[SUGA_ISO8601_SIZE];
        cr_assert_eq(suga_clock_iso8601(cases[i].ms, out), SUGA_OK);
        cr_assert_str_eq(out, cases[i].want, "for %lld", (long long)cases[i].ms);
    }
    /* the largest instant still fits the buffer (year 292278994) */
    char out[SUGA_ISO8601_SIZE];
    cr_assert_eq(suga_clock_iso8601(INT64_MAX, out), SUGA_OK);
    cr_assert_str_eq(out, "292278994-08-17T07:12:55.807Z");
    cr_assert_eq(suga_clock_iso8601(0, NULL), SUGA_E_INVALID_ARG);
}
