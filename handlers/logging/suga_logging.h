/* suga_logging.h: structured logs for the other modules, the same records as the logging.*
 * operations write.
 *
 * A record is one compact JSON object per line, keys in this order: timestamp (ISO-8601 UTC),
 * level, message, request_id (from ctx, when set), correlation_id (when known), then the caller's
 * fields. The message and the fields pass the runtime's masking function (suga_mask.h: known
 * secrets, secret-named members, bearer tokens, URL userinfo and queries). A caller field whose name
 * clashes with one of the five standard keys is written as "field_<name>". Each line is written
 * with one fwrite and flushed, so records of a crashing process are not lost.
 *
 * The minimum level comes from LOG_LEVEL (debug, info, warning/warn, error, any case; read through
 * the config module, so an override applies) on first use, else info. An unrecognised LOG_LEVEL
 * selects info and writes one warning record saying so.
 */
#ifndef SUGA_LOGGING_H
#define SUGA_LOGGING_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "suga.h"

typedef enum suga_log_level {
    SUGA_LOG_DEBUG = 0,
    SUGA_LOG_INFO,
    SUGA_LOG_WARNING,
    SUGA_LOG_ERROR,
} suga_log_level;

/* Write one record when level is at least the minimum; *written (may be NULL) says whether it
 * was. ctx (may be NULL) supplies request_id and correlation_id; fields (may be NULL) must be an
 * object. SUGA_E_IO when the stream refuses the line, SUGA_E_NOMEM when building it fails. */
suga_status suga_log_write(const suga_ctx *ctx, suga_log_level level, const char *message, const json_t *fields,
                           bool *written);

/* Where records go from now on; NULL means stderr (the default). The stream stays the caller's. */
suga_status suga_log_set_output(FILE *out);

suga_status suga_log_set_level(suga_log_level level);
suga_status suga_log_get_level(suga_log_level *out);

/* "debug", "info", "warning", "error"; NULL for a value outside the enum. */
const char *suga_log_level_name(suga_log_level level);

/* Back to the initial state: output stderr, LOG_LEVEL read again on next use. For tests. */
suga_status suga_log_reset(void);

#endif
