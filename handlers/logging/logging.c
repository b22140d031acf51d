/* logging.c: structured JSON log records, one per line (what CloudWatch ingests from a Lambda). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/suga_config.h"
#include "logging/suga_logging.h"
#include "suga_clock.h"
#include "suga_mask.h"
#include "suga_ops.h"
#include "utility/suga_utility.h"

/* the generated enum values of the level argument index the same names */
_Static_assert(SUGA_LOGGING_LOG_LEVEL_DEBUG == (int)SUGA_LOG_DEBUG && SUGA_LOGGING_LOG_LEVEL_INFO == (int)SUGA_LOG_INFO &&
                   SUGA_LOGGING_LOG_LEVEL_WARNING == (int)SUGA_LOG_WARNING &&
                   SUGA_LOGGING_LOG_LEVEL_ERROR == (int)SUGA_LOG_ERROR,
               "logging.log levels and suga_log_level must agree");
_Static_assert(SUGA_LOGGING_SET_LEVEL_LEVEL_DEBUG == (int)SUGA_LOG_DEBUG &&
                   SUGA_LOGGING_SET_LEVEL_LEVEL_ERROR == (int)SUGA_LOG_ERROR,
               "logging.set_level levels and suga_log_level must agree");

static const char *const level_names[] = {
    [SUGA_LOG_DEBUG] = "debug",
    [SUGA_LOG_INFO] = "info",
    [SUGA_LOG_WARNING] = "warning",
    [SUGA_LOG_ERROR] = "error",
};

static const char *const standard_keys[] = {"timestamp", "level", "message", "request_id", "correlation_id"};

static struct {
    bool level_known; /* LOG_LEVEL is read on first use, not at start-up */
    suga_log_level level;
    FILE *out; /* NULL = stderr, looked up at each write so a redirected stderr is followed */
} logger;

static suga_status write_record(const suga_ctx *ctx, suga_log_level level, const char *message,
                                const char *correlation_id, const json_t *fields, bool *written);

const char *suga_log_level_name(suga_log_level level)
{
    if ((unsigned)level > SUGA_LOG_ERROR)
        return NULL;
    return level_names[level];
}

static bool parse_level(const char *text, suga_log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (!strcasecmp(text, level_names[i])) {
            *out = (suga_log_level)i;
            return true;
        }
    }
    if (!strcasecmp(text, "warn")) {
        *out = SUGA_LOG_WARNING;
        return true;
    }
    return false;
}

/* An empty LOG_LEVEL counts as not set: that is how `LOG_LEVEL= cmd` reads to a shell user. */
static void ensure_level(void)
{
    if (logger.level_known)
        return;
    logger.level_known = true; /* before the warning below, which writes through here */
    logger.level = SUGA_LOG_INFO;
    char text[64];
    suga_ctx ignored;
    suga_ctx_init(&ignored);
    suga_status st = suga_config_get_string("LOG_LEVEL", "", text, sizeof text, &ignored);
    if (st == SUGA_OK && (!text[0] || parse_level(text, &logger.level)))
        return;
    char shown[96] = "(a value too long to show)";
    if (st == SUGA_OK)
        suga_util_quote(text, strlen(text), 32, shown, sizeof shown);
    char message[160];
    snprintf(message, sizeof message,
             "LOG_LEVEL %s is not a log level (debug, info, warning, warn, error); using info", shown);
    write_record(NULL, SUGA_LOG_WARNING, message, NULL, NULL, NULL);
}

static bool is_standard_key(const char *key)
{
    for (size_t i = 0; i < sizeof standard_keys / sizeof standard_keys[0]; i++)
        if (!strcmp(key, standard_keys[i]))
            return true;
    return false;
}

/* A caller's field never replaces a standard key (a forged "level" would mislead log queries):
 * it is renamed "field_<key>", again until the name is free. */
static int add_field(json_t *record, const char *key, json_t *value)
{
    if (!is_standard_key(key) && !json_object_get(record, key))
        return json_object_set(record, key, value);
    char *name = strdup(key);
    while (name && (is_standard_key(name) || json_object_get(record, name))) {
        size_t len = strlen(name);
        char *longer = malloc(len + sizeof "field_");
        if (longer) {
            memcpy(longer, "field_", 6);
            memcpy(longer + 6, name, len + 1);
        }
        free(name);
        name = longer;
    }
    int rc = name ? json_object_set(record, name, value) : -1;
    free(name);
    return rc;
}

static int add_string(json_t *record, const char *key, const char *value)
{
    return value ? json_object_set_new(record, key, json_string(value)) : 0;
}

static suga_status build_record(const suga_ctx *ctx, suga_log_level level, const char *message,
                                const char *correlation_id, const json_t *fields, json_t **out)
{
    char stamp[SUGA_ISO8601_SIZE];
    if (suga_clock_iso8601(suga_clock_wall_ms(), stamp) != SUGA_OK)
        return SUGA_E_IO;
    /* the message and the fields leave the process: through the one masking function */
    json_t *masked = NULL;
    char *text = NULL;
    if (suga_mask_string(message, strlen(message), SUGA_MASK_MESSAGE, &text, NULL, NULL) != SUGA_OK)
        return SUGA_E_NOMEM;
    if (fields && suga_mask_json(fields, SUGA_MASK_MESSAGE, &masked, NULL) != SUGA_OK) {
        free(text);
        return SUGA_E_NOMEM;
    }
    json_t *record = json_object();
    int bad = !record;
    if (record) {
        bad |= add_string(record, "timestamp", stamp);
        bad |= add_string(record, "level", level_names[level]);
        bad |= add_string(record, "message", text);
        bad |= add_string(record, "request_id", ctx ? ctx->request_id : NULL);
        bad |= add_string(record, "correlation_id",
                          correlation_id ? correlation_id : ctx ? ctx->correlation_id : NULL);
        const char *key;
        json_t *value;
        json_object_foreach(masked, key, value)
            bad |= add_field(record, key, value);
    }
    json_decref(masked);
    free(text);
    if (bad) {
        json_decref(record);
        return SUGA_E_NOMEM;
    }
    *out = record;
    return SUGA_OK;
}

/* One fwrite per record, newline included, so concurrent writers to the same pipe (a Lambda
 * extension, a child process) cannot split a line. */
static suga_status emit(const json_t *record)
{
    size_t flags = JSON_COMPACT;
    size_t n = json_dumpb(record, NULL, 0, flags);
    char *line = n ? malloc(n + 1) : NULL;
    if (!line)
        return SUGA_E_NOMEM;
    if (json_dumpb(record, line, n, flags) != n) { /* it can fail the second time (memory) */
        free(line);
        return SUGA_E_NOMEM;
    }
    line[n] = '\n';
    FILE *out = logger.out ? logger.out : stderr;
    bool ok = fwrite(line, 1, n + 1, out) == n + 1;
    ok = fflush(out) == 0 && ok;
    int err = errno; /* for the caller's message */
    free(line);
    if (!ok) {
        clearerr(out); /* a later record may get through (a full pipe drains) */
        errno = err;
        return SUGA_E_IO;
    }
    return SUGA_OK;
}

static suga_status write_record(const suga_ctx *ctx, suga_log_level level, const char *message,
                                const char *correlation_id, const json_t *fields, bool *written)
{
    if (written)
        *written = false;
    if ((unsigned)level > SUGA_LOG_ERROR || !message || (fields && !json_is_object(fields)))
        return SUGA_E_INVALID_ARG;
    if (!suga_util_utf8_valid(message, strlen(message)))
        return SUGA_E_INVALID_ARG; /* JSON cannot carry it, and a log line must stay parseable */
    ensure_level();
    if (level < logger.level)
        return SUGA_OK;
    json_t *record = NULL;
    suga_status st = build_record(ctx, level, message, correlation_id, fields, &record);
    if (st == SUGA_OK)
        st = emit(record);
    json_decref(record);
    if (st == SUGA_OK && written)
        *written = true;
    return st;
}

/* ---- C API ---- */

suga_status suga_log_write(const suga_ctx *ctx, suga_log_level level, const char *message, const json_t *fields,
                           bool *written)
{
    return write_record(ctx, level, message, NULL, fields, written);
}

suga_status suga_log_set_output(FILE *out)
{
    logger.out = out;
    return SUGA_OK;
}

suga_status suga_log_set_level(suga_log_level level)
{
    if ((unsigned)level > SUGA_LOG_ERROR)
        return SUGA_E_INVALID_ARG;
    ensure_level(); /* so a bad LOG_LEVEL is still reported once */
    logger.level = level;
    return SUGA_OK;
}

suga_status suga_log_get_level(suga_log_level *out)
{
    if (!out)
        return SUGA_E_INVALID_ARG;
    ensure_level();
    *out = logger.level;
    return SUGA_OK;
}

suga_status suga_log_reset(void)
{
    logger.level_known = false;
    logger.level = SUGA_LOG_INFO;
    logger.out = NULL;
    return SUGA_OK;
}

/* ---- operations ---- */

static suga_status write_failed(suga_ctx *ctx, const char *op, suga_status st)
{
    if (st == SUGA_E_IO)
        return suga_fail(ctx, st, "%s: writing the record failed: %s", op, strerror(errno));
    if (st == SUGA_E_NOMEM)
        return suga_fail(ctx, st, "%s: out of memory building the record", op);
    return suga_fail(ctx, st, "%s: message must be valid UTF-8 text", op);
}

/* What logging.log and its per-level shortcuts share: their arguments differ only in type. */
typedef struct log_request {
    const char *op;
    suga_log_level level;
    suga_str message;
    const json_t *fields; /* NULL when not given */
    const char *correlation_id;
} log_request;

static suga_status log_op(suga_ctx *ctx, const log_request *req, json_t **result)
{
    if (!suga_log_level_name(req->level))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: level %d is not a log level", req->op, (int)req->level);
    bool written = false;
    suga_status st = write_record(ctx, req->level, req->message.ptr, req->correlation_id, req->fields, &written);
    if (st != SUGA_OK)
        return write_failed(ctx, req->op, st);
    return suga_util_result(ctx, req->op, json_pack("{s:b}", "written", written), result);
}

/* The five argument structs have the same fields but distinct types; this reads them alike. */
#define LOG_REQUEST(opname, lvl, a)                                                                         \
    (&(log_request){                                                                                        \
        .op = (opname),                                                                                     \
        .level = (lvl),                                                                                     \
        .message = (a)->message,                                                                            \
        .fields = (a)->has_fields ? (a)->fields : NULL,                                                     \
        .correlation_id = (a)->has_correlation_id ? (a)->correlation_id.ptr : NULL,                         \
    })

suga_status logging_log(suga_ctx *ctx, const suga_args_logging_log *args, json_t **result)
{
    return log_op(ctx, LOG_REQUEST("logging.log", (suga_log_level)args->level, args), result);
}

suga_status logging_debug(suga_ctx *ctx, const suga_args_logging_debug *args, json_t **result)
{
    return log_op(ctx, LOG_REQUEST("logging.debug", SUGA_LOG_DEBUG, args), result);
}

suga_status logging_info(suga_ctx *ctx, const suga_args_logging_info *args, json_t **result)
{
    return log_op(ctx, LOG_REQUEST("logging.info", SUGA_LOG_INFO, args), result);
}

suga_status logging_warning(suga_ctx *ctx, const suga_args_logging_warning *args, json_t **result)
{
    return log_op(ctx, LOG_REQUEST("logging.warning", SUGA_LOG_WARNING, args), result);
}

suga_status logging_error(suga_ctx *ctx, const suga_args_logging_error *args, json_t **result)
{
    return log_op(ctx, LOG_REQUEST("logging.error", SUGA_LOG_ERROR, args), result);
}

suga_status logging_record_request(suga_ctx *ctx, const suga_args_logging_record_request *args, json_t **result)
{
    json_t *fields = json_pack("{s:s%, s:s%, s:f}", "operation", args->operation.ptr, args->operation.len, "status",
                               args->status.ptr, args->status.len, "duration_ms", args->duration_ms);
    if (!fields)
        return suga_fail(ctx, SUGA_E_NOMEM, "logging.record_request: out of memory building the record");
    bool written = false;
    suga_status st = write_record(ctx, SUGA_LOG_INFO, "request",
                                  args->has_correlation_id ? args->correlation_id.ptr : NULL, fields, &written);
    json_decref(fields);
    if (st != SUGA_OK)
        return write_failed(ctx, "logging.record_request", st);
    return suga_util_result(ctx, "logging.record_request", json_pack("{s:b}", "written", written), result);
}

suga_status logging_set_level(suga_ctx *ctx, const suga_args_logging_set_level *args, json_t **result)
{
    suga_log_level previous;
    suga_log_get_level(&previous);
    if (suga_log_set_level((suga_log_level)args->level) != SUGA_OK)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "logging.set_level: level %d is not a log level", args->level);
    return suga_util_result(ctx, "logging.set_level",
                            json_pack("{s:s, s:s}", "level", level_names[args->level], "previous", level_names[previous]),
                            result);
}

suga_status logging_get_level(suga_ctx *ctx, const suga_args_logging_get_level *args, json_t **result)
{
    (void)args;
    suga_log_level level;
    suga_log_get_level(&level);
    return suga_util_result(ctx, "logging.get_level", json_pack("{s:s}", "level", level_names[level]), result);
}
