/* suga_settings.h: the deployment's settings, resolved once and checked as a whole.
 *
 * The Home Assistant bridge reads these variables (docs/deploy.md); the names of the forwarder
 * script Home Assistant's Alexa documentation has users deploy work as aliases, so a user can
 * swap the Lambda's code and keep its configuration:
 *
 *   HOME_ASSISTANT_URL         alias BASE_URL                 http(s) URL with a host; optional
 *   HOME_ASSISTANT_TOKEN       alias LONG_LIVED_ACCESS_TOKEN  optional; never logged or shown
 *   HOME_ASSISTANT_VERIFY_SSL  alias NOT_VERIFY_SSL (inverted) bool, default true
 *   DEBUG_MODE                 alias DEBUG                    bool, default false: debug logging
 *                                                             unless LOG_LEVEL is set
 *   LOG_LEVEL                                                 debug | info | warning | error
 *   SUGA_SSM_PARAMETER_PREFIX                                 where Parameter Store settings live
 *   SUGA_SSM_TTL_SECONDS                                      0..86400, default 300
 *   PARAMETERS_SECRETS_EXTENSION_HTTP_PORT                    the extension's port, default 2773
 *
 * Each is read through the config module (so config.set overrides apply); an empty value counts
 * as unset (a SAM template passes empty parameters as ""). A setting given under both names with
 * different meanings is an error rather than a silent choice. Everything is checked when the
 * settings are first needed; the bootstrap asks at start-up, so a bad value is an init error.
 * A bad setting is SUGA_E_STATE (the deployment's fault, not a caller's), with a message naming
 * the variable and the rule, and quoting the value unless it is the token.
 *
 * Parameter Store: with a prefix P (one trailing '/' dropped), the first five settings can also
 * live in Parameter Store under the variables' own names, P/HOME_ASSISTANT_URL and so on (each
 * optional; a SecureString for the token). Precedence, per setting: a config.set override (of
 * the name or its alias), then Parameter Store, then the environment (name, then alias), then the
 * default. Parameter Store values go through the same checks; a bad one is SUGA_E_STATE naming
 * the full parameter name. They are read through the Parameters and Secrets extension
 * (suga_parameter_store.h), which AWS allows only during an invocation: the settings loaded at
 * start-up are the environment's alone until the first suga_settings_refresh, which completes
 * them (the version stays 1).
 */
#ifndef SUGA_SETTINGS_H
#define SUGA_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "suga.h"

#define SUGA_SETTINGS_PARAMETERS 5       /* the settings Parameter Store can hold */
#define SUGA_SETTINGS_NAME_SIZE 288      /* a prefix (255 bytes) + "/" + the longest variable name */
#define SUGA_SETTINGS_SOURCE_SIZE 320    /* "parameter_store:" + a full parameter name */

/* One of the settings' parameters in Parameter Store, as the last successful fetch found it. */
typedef struct suga_settings_parameter {
    char name[SUGA_SETTINGS_NAME_SIZE]; /* full name: "/suga/HOME_ASSISTANT_URL" */
    bool found;
    int64_t version; /* when found */
} suga_settings_parameter;

typedef struct suga_settings {
    char home_assistant_url[512];    /* without a trailing '/'; "" when not configured */
    char home_assistant_token[4096]; /* "" when not configured; never log or return it */
    bool verify_ssl;
    bool debug_mode;
    char log_level[16];              /* "" when not set (logging then uses info) */
    char ssm_parameter_prefix[256];  /* "" when not set */
    int64_t ssm_ttl_s;               /* SUGA_SSM_TTL_SECONDS: how long fetched values are used */
    int ssm_port;                    /* PARAMETERS_SECRETS_EXTENSION_HTTP_PORT */
    /* where each came from: the variable's name, "parameter_store:<full name>", or "default" */
    char url_source[SUGA_SETTINGS_SOURCE_SIZE], token_source[SUGA_SETTINGS_SOURCE_SIZE],
        verify_ssl_source[SUGA_SETTINGS_SOURCE_SIZE], debug_source[SUGA_SETTINGS_SOURCE_SIZE],
        log_level_source[SUGA_SETTINGS_SOURCE_SIZE];
    /* with a prefix: the fetch these values were built from; 0 = none yet (the values are the
     * environment's alone, not yet the deployment's settings) */
    int64_t fetched_at_ms;
    suga_settings_parameter parameters[SUGA_SETTINGS_PARAMETERS]; /* names set whenever a prefix is */
    uint64_t version;                /* 1 at the first load; +1 whenever a reload changes a value */
    int64_t loaded_at_ms;            /* wall clock of the last load */
} suga_settings;

/* The settings, loaded and checked on first use (from the environment: no Parameter Store
 * fetch). *out stays valid until the next reload or refresh. */
suga_status suga_settings_get(const suga_settings **out, suga_ctx *ctx);

/* Bring the settings up to date when a prefix is set and a fetch is due: no fetch has succeeded
 * yet, the last attempt is SUGA_SSM_TTL_SECONDS old (0: every call), or force. Then the
 * environment is read again and the parameters fetched; otherwise nothing happens (no I/O).
 * On a failure (the extension, or a bad value) the settings in force stay; ctx says why, and
 * fetched_at_ms == 0 in the settings tells that there are no Parameter Store values at all yet.
 * *changed (may be NULL) tells whether any value differs. */
suga_status suga_settings_refresh(suga_ctx *ctx, bool force, bool *changed);

/* Read everything again (after config.set, or a changed Parameter Store value): the same as a
 * forced refresh, and without a prefix a re-read of the environment. On a check failure the
 * previous settings stay in force. *changed (may be NULL) tells whether any value differs. */
suga_status suga_settings_reload(bool *changed, suga_ctx *ctx);

/* {version, loaded_at, parameter_store} (what debug.diagnostics shows; no value), or JSON null
 * when the settings were never loaded. The caller owns *out. */
suga_status suga_settings_status(json_t **out);

#endif
