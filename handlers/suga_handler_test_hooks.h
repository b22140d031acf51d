/* suga_handler_test_hooks.h: what tests may reset in the handler modules, with the runtime's own
 * hooks (suga_test_hooks.h). Not installed: these undo what a deployment configured, which no
 * program serving requests should do. */
#ifndef SUGA_HANDLER_TEST_HOOKS_H
#define SUGA_HANDLER_TEST_HOOKS_H

#include "suga.h"
#include "suga_test_hooks.h"

/* Drop every config.set override (the environment is untouched), releasing their memory. */
suga_status suga_config_reset(void);

/* Forget the loaded settings and the Parameter Store counters; the next suga_settings_get loads
 * them again. */
suga_status suga_settings_reset(void);

/* Drop every cache.* entry and counter and restore the default bounds (the store is freed; the
 * next use creates it again and reads the environment again), releasing all memory. */
suga_status suga_cache_reset(void);

#endif
