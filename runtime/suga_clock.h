/* suga_clock.h: the process's one clock, for the runtime and every handler.
 *
 * Two readings of it: the wall clock (ms since the Unix epoch: Lambda deadlines, the guard's
 * month, timestamps people read) and a monotonic clock (ms from an arbitrary start: TTLs, idle
 * times, breaker cooldowns, durations), which a change of the system time cannot move. Everything
 * that decides by time reads it here, so a test replaces time once for all of them
 * (suga_clock_set_test_clock, suga_test_hooks.h) instead of once per module.
 *
 * The readings cannot fail on Linux (CLOCK_REALTIME and CLOCK_MONOTONIC always exist), so they
 * return the time itself rather than a status.
 */
#ifndef SUGA_CLOCK_H
#define SUGA_CLOCK_H

#include <stdint.h>

#include "suga.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SUGA_ISO8601_SIZE 32 /* room for any year an int64_t of milliseconds can express */

/* Wall-clock time in ms since the Unix epoch. */
int64_t suga_clock_wall_ms(void);

/* Monotonic time in whole ms, for deadlines and expiry within the process. */
int64_t suga_clock_monotonic_ms(void);

/* The same clock in fractional ms, for measured durations (latency, init time, billed time). */
double suga_clock_elapsed_ms(void);

/* epoch_ms as ISO-8601 UTC with milliseconds: "2026-11-23T10:49:00.123Z".
 * SUGA_E_INVALID_ARG when out is NULL or the time is outside what the C library can break down. */
suga_status suga_clock_iso8601(int64_t epoch_ms, char out[SUGA_ISO8601_SIZE]);

#ifdef __cplusplus
}
#endif

#endif
