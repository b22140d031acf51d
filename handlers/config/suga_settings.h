/* suga_settings.h: the deployment's settings, resolved once and checked as a whole.
 *
 * The Home Assistant bridge reads these variables (docs/deploy.md); the names of the forwarder
 * script Home Assistant's Alexa documentation has users deploy work as aliases, so a user can
 * swap the Lambda's code and keep its configuration:
 *
 *   HOME_ASSISTANT_URL         alias BASE_URL                 http(s) URL with a host; optional
 *   HOME_ASSISTANT_TOKEN       alias LONG_LIVED_ACCESS_TOKEN  optional; never logged or shown
 *   HOME_ASSISTANT_VERIFY_SSL  alias NOT_VERIFY_SSL (inverted) bool, default true
 *   DEBUG_MODE                 alias DEBUG                    bool, default false
 *   LOG_LEVEL                                                 debug | info | warning | error
 *   SUGA_SSM_PARAMETER_PREFIX                                 where Parameter Store settings live
 *
 * Each is read through the config module (so config.set overrides apply); an empty value counts
 * as unset (a SAM template passes empty parameters as ""). A setting given under both names with
 * different meanings is an error rather than a silent choice. Everything is checked when the
 * settings are first needed; the bootstrap asks at start-up, so a bad value is an init error.
 * A bad setting is SUGA_E_STATE (the deployment's fault, not a caller's), with a message naming
 * the variable and the rule, and quoting the value unless it is the token.
 */
#ifndef SUGA_SETTINGS_H
#define SUGA_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "suga.h"

typedef struct suga_settings {
    char home_assistant_url[512];    /* without a trailing '/'; "" when not configured */
    char home_assistant_token[4096]; /* "" when not configured; never log or return it */
    bool verify_ssl;
    bool debug_mode;
    char log_level[16];              /* "" when not set (logging then uses info) */
    char ssm_parameter_prefix[256];  /* "" when not set */
    /* where each came from: the variable's name, or "default" */
    const char *url_source, *token_source, *verify_ssl_source, *debug_source;
    uint64_t version;                /* 1 at the first load; +1 whenever a reload changes a value */
    int64_t loaded_at_ms;            /* wall clock of the last load */
} suga_settings;

/* The settings, loaded and checked on first use. *out stays valid until the next reload. */
suga_status suga_settings_get(const suga_settings **out, suga_ctx *ctx);

/* Read everything again (after config.set, or a changed Parameter Store value). On a check
 * failure the previous settings stay in force. *changed (may be NULL) tells whether any value
 * differs. */
suga_status suga_settings_reload(bool *changed, suga_ctx *ctx);

/* Forget the loaded settings (tests); the next suga_settings_get loads them again. */
suga_status suga_settings_reset(void);

#endif
