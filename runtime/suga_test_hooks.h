/* suga_test_hooks.h: what tests may change in the runtime and nothing else should. Not
 * installed: a program linking libsuga has no business moving the clock or forgetting state.
 * The handlers' own hooks are in handlers/suga_handler_test_hooks.h, which includes this one. */
#ifndef SUGA_TEST_HOOKS_H
#define SUGA_TEST_HOOKS_H

#include <stdint.h>

#include "suga.h"

/* Replace the clock (suga_clock.h): while set, the wall clock, the monotonic clock and elapsed
 * times all read now_ms(), so one fake time drives deadlines, TTLs (result cache, cache.*),
 * module idle times, breaker cooldowns and the guard's month alike. NULL restores the system
 * clocks. */
suga_status suga_clock_set_test_clock(int64_t (*now_ms)(void));

/* Back to the log's initial state: output stderr, LOG_LEVEL read again on next use. */
suga_status suga_log_reset(void);

/* Forget every secret the masking function remembers (wiping the copies); the environment is
 * read again on next use. */
void suga_secret_reset(void);

#endif
