/* suga_config.h: typed settings for the other modules, with the same sources and rules as the
 * config.* operations: a process-level override (config.set) wins over the environment, which
 * wins over the caller's fallback.
 *
 * Conversion rules: int = the whole text is a base-10 64-bit integer (strtoll); number = the whole
 * text is a finite strtod number; bool = true/false/1/0/yes/no/on/off in any case. A setting that
 * does not convert, or is out of range, is an error (SUGA_E_HANDLER) whose message in ctx names
 * the setting, where it came from and the rule, e.g.
 *   config: environment variable SUGA_CACHE_MAX_ENTRIES must be an int in [1, 1000000], got "0"
 * and never shows the value when suga_is_secret_name(name). ctx may be NULL.
 * A fallback that breaks the caller's own rule (outside [min, max]) is SUGA_E_INVALID_ARG.
 */
#ifndef SUGA_CONFIG_H
#define SUGA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "suga.h"

suga_status suga_config_get_int(const char *name, int64_t fallback, int64_t min, int64_t max, int64_t *out,
                                suga_ctx *ctx);

suga_status suga_config_get_number(const char *name, double fallback, double min, double max, double *out,
                                   suga_ctx *ctx);

suga_status suga_config_get_bool(const char *name, bool fallback, bool *out, suga_ctx *ctx);

/* The bool rule above for any text: true/false/1/0/yes/no/on/off in any case. */
bool suga_config_parse_bool(const char *text, bool *out);

/* Copies the setting (or fallback; NULL means "") into out, NUL-terminated. SUGA_E_LIMIT when
 * the value needs more than size - 1 bytes (out then holds the empty string). */
suga_status suga_config_get_string(const char *name, const char *fallback, char *out, size_t size, suga_ctx *ctx);

/* Whether config.set has overridden `name` in this process. The deployment's settings need it:
 * an override wins over Parameter Store, which wins over the environment (suga_settings.h). */
bool suga_config_is_overridden(const char *name);

#endif
