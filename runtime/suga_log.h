/* suga_log.h: structured logs, one JSON record per line (what CloudWatch ingests from a Lambda),
 * for the runtime, the handlers (the logging.* operations write through it) and the programs.
 *
 * A record is one compact JSON object per line, keys in this order: timestamp (ISO-8601 UTC),
 * level, message, request_id (from ctx, when set), correlation_id (when known), then the caller's
 * fields. The message and the fields pass the runtime's masking function (suga_mask.h: known
 * secrets, secret-named members, bearer tokens, URL userinfo and queries). A caller field whose name
 * clashes with one of the five standard keys is written as "field_<name>". Each line is written
 * with one fwrite and flushed, so records of a crashing process are not lost.
 *
 * The minimum level comes from the environment's LOG_LEVEL (suga_log_parse_level) on first use,
 * else info; an unrecognised LOG_LEVEL selects info and writes one warning record saying so. The
 * log knows nothing of configuration overrides or settings: the config module pushes the level
 * they ask for (an override of LOG_LEVEL, DEBUG_MODE, Parameter Store) with suga_log_set_level.
 */
#ifndef SUGA_LOG_H
#define SUGA_LOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "suga.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum suga_log_level {
    SUGA_LOG_DEBUG = 0,
    SUGA_LOG_INFO,
    SUGA_LOG_WARNING,
    SUGA_LOG_ERROR,
} suga_log_level;

/* Write one record when level is at least the minimum; *written (may be NULL) says whether it
 * was. ctx (may be NULL) supplies request_id and correlation_id; fields (may be NULL) must be an
 * object. SUGA_E_INVALID_ARG for a level outside the enum, a message that is not UTF-8 or fields
 * that are not an object; SUGA_E_IO when the stream refuses the line (errno says why),
 * SUGA_E_NOMEM when building it fails. */
suga_status suga_log_write(const suga_ctx *ctx, suga_log_level level, const char *message, const json_t *fields,
                           bool *written);

/* The same with correlation_id (when not NULL) in place of ctx's: a record written on behalf of
 * another request (logging.log's correlation_id argument). */
suga_status suga_log_write_correlated(const suga_ctx *ctx, const char *correlation_id, suga_log_level level,
                                      const char *message, const json_t *fields, bool *written);

/* Where records go from now on; NULL means stderr (the default). The stream stays the caller's. */
suga_status suga_log_set_output(FILE *out);

suga_status suga_log_set_level(suga_log_level level);
suga_status suga_log_get_level(suga_log_level *out);

/* The one reading of a level's name: debug, info, warning (or warn), error, in any case.
 * SUGA_E_INVALID_ARG for anything else, the empty text included (*out is then untouched). */
suga_status suga_log_parse_level(const char *text, suga_log_level *out);

/* "debug", "info", "warning", "error"; NULL for a value outside the enum. */
const char *suga_log_level_name(suga_log_level level);

#ifdef __cplusplus
}
#endif

#endif
