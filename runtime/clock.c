/* clock.c: the one clock (suga_clock.h) and its one test override (suga_test_hooks.h). */
#include <stdio.h>
#include <time.h>

#include "suga_clock.h"
#include "suga_test_hooks.h"

/* NULL = the system clocks. One override for both readings: a test that moves time moves
 * deadlines, TTLs, idle times and cooldowns together, as real time would. */
static int64_t (*test_clock)(void);

suga_status suga_clock_set_test_clock(int64_t (*now_ms)(void))
{
    test_clock = now_ms;
    return SUGA_OK;
}

static int64_t read_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t suga_clock_wall_ms(void)
{
    return test_clock ? test_clock() : read_ms(CLOCK_REALTIME);
}

int64_t suga_clock_monotonic_ms(void)
{
    return test_clock ? test_clock() : read_ms(CLOCK_MONOTONIC);
}

double suga_clock_elapsed_ms(void)
{
    if (test_clock)
        return (double)test_clock();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

suga_status suga_clock_iso8601(int64_t epoch_ms, char out[SUGA_ISO8601_SIZE])
{
    if (!out)
        return SUGA_E_INVALID_ARG;
    /* floor division, so that -1 ms is 23:59:59.999 of the day before, not .-01 */
    int64_t secs = epoch_ms / 1000, ms = epoch_ms % 1000;
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return SUGA_E_INVALID_ARG;
    int n = snprintf(out, SUGA_ISO8601_SIZE, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ms);
    if (n < 0 || n >= SUGA_ISO8601_SIZE)
        return SUGA_E_INVALID_ARG;
    return SUGA_OK;
}
