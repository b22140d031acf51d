/* log.c: the record writer and the level (suga_log.h). The level is read from the environment,
 * never through the config module: the runtime sits below the handlers, and the config module
 * pushes the level its overrides and settings ask for (suga_log_set_level). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "suga_clock.h"
#include "suga_internal.h"
#include "suga_log.h"
#include "suga_mask.h"
#include "suga_test_hooks.h"

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

suga_status suga_log_parse_level(const char *text, suga_log_level *out)
{
    if (!text || !out)
        return SUGA_E_INVALID_ARG;
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (!strcasecmp(text, level_names[i])) {
            *out = (suga_log_level)i;
            return SUGA_OK;
        }
    }
    if (!strcasecmp(text, "warn")) { /* what Python's logging and many tools call it */
        *out = SUGA_LOG_WARNING;
        return SUGA_OK;
    }
    return SUGA_E_INVALID_ARG;
}

/* An empty LOG_LEVEL counts as not set: that is how `LOG_LEVEL= cmd` reads to a shell user. */
static void ensure_level(void)
{
    if (logger.level_known)
        return;
    logger.level_known = true; /* before the warning below, which writes through here */
    logger.level = SUGA_LOG_INFO;
    const char *text = getenv("LOG_LEVEL");
    if (!text || !text[0] || suga_log_parse_level(text, &logger.level) == SUGA_OK)
        return;
    /* masked before it is cut (a cut secret would no longer be recognised), then made UTF-8,
     * which the record requires */
    char masked[256], cut[40], shown[40];
    suga_mask_text(text, strlen(text), masked, sizeof masked, SUGA_MASK_MESSAGE);
    snprintf(cut, sizeof cut, "%.32s", masked);
    suga_utf8_sanitize(cut, shown, sizeof shown);
    char message[160];
    snprintf(message, sizeof message,
             "LOG_LEVEL \"%s\"%s is not a log level (debug, info, warning, warn, error); using info", shown,
             strlen(masked) > 32 ? "..." : "");
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
    if (!suga_utf8_valid(message, strlen(message)))
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

suga_status suga_log_write(const suga_ctx *ctx, suga_log_level level, const char *message, const json_t *fields,
                           bool *written)
{
    return write_record(ctx, level, message, NULL, fields, written);
}

suga_status suga_log_write_correlated(const suga_ctx *ctx, const char *correlation_id, suga_log_level level,
                                      const char *message, const json_t *fields, bool *written)
{
    return write_record(ctx, level, message, correlation_id, fields, written);
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
