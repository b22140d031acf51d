/* status.c: the status table (suga_status.def) and the per-call error message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "suga.h"
#include "suga_guard.h"
#include "suga_mask.h"

/* suga_fail formats here first: big enough that a message quoting a secret is masked before it
 * is cut to SUGA_ERROR_MAX, so no prefix of a secret is left at the cut. */
#define FORMAT_BUFFER 4096

/* One row per status (suga_status.def); the enum is built from the same rows, so the index is
 * the status. */
static const struct status_row {
    const char *name;
    int http;
    const char *lambda_error_type, *alexa_error_type;
} status_rows[SUGA_STATUS__COUNT] = {
#define SUGA_STATUS(id, name, http, lambda_error_type, alexa_error_type) \
    [id] = {name, http, lambda_error_type, alexa_error_type},
#include "suga_status.def"
};

_Static_assert(SUGA_OK == 0, "suga_status.def must list SUGA_OK first: 0 is success everywhere");
/* the guard's refusal is the same 429 whether an HTTP caller or the guard's own docs say it */
#define SUGA_STATUS(id, name, http, lambda_error_type, alexa_error_type) \
    _Static_assert(id != SUGA_E_BUDGET || http == SUGA_GUARD_HTTP_STATUS, "budget_exhausted is 429");
#include "suga_status.def"

static const struct status_row *status_row(suga_status status)
{
    return (unsigned)status < SUGA_STATUS__COUNT ? &status_rows[status] : NULL;
}

const char *suga_status_name(suga_status status)
{
    const struct status_row *row = status_row(status);
    return row ? row->name : "unknown_status";
}

suga_status suga_status_from_name(const char *name, suga_status *out)
{
    if (!name || !out)
        return SUGA_E_INVALID_ARG;
    for (unsigned i = 0; i < SUGA_STATUS__COUNT; i++) {
        if (!strcmp(name, status_rows[i].name)) {
            *out = (suga_status)i;
            return SUGA_OK;
        }
    }
    return SUGA_E_NOT_FOUND;
}

/* A value that is not a status is answered as the engine's own failure: something is wrong on
 * this side, whatever the caller did. */
int suga_status_http(suga_status status)
{
    const struct status_row *row = status_row(status);
    return row ? row->http : 500;
}

const char *suga_status_lambda_error_type(suga_status status)
{
    const struct status_row *row = status_row(status);
    return row && row->lambda_error_type ? row->lambda_error_type : "InternalError";
}

const char *suga_status_alexa_error_type(suga_status status)
{
    const struct status_row *row = status_row(status);
    return row && row->alexa_error_type ? row->alexa_error_type : "INTERNAL_ERROR";
}

void suga_ctx_init(suga_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
}

/* Every error message goes through the masking function here, where it is made: messages end
 * up in logs, Lambda errors, HTTP bodies and Alexa payloads, and may quote input or a
 * dependency's answer. The arguments may point into ctx->error (a message wrapping the last
 * one): they are read before it is written. */
suga_status suga_fail(suga_ctx *ctx, suga_status status, const char *fmt, ...)
{
    if (ctx) {
        char text[FORMAT_BUFFER];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        size_t len = n < 0 ? 0 : (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
        suga_mask_text(text, len, ctx->error, sizeof ctx->error, SUGA_MASK_MESSAGE);
    }
    return status;
}

/* Length of the well-formed UTF-8 sequence starting at s (with `left` bytes available), or 0.
 * Messages may quote input, and JSON (jansson) accepts only valid UTF-8. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
    if (left == 0)
        return 0;
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF; /* no overlongs, no surrogates */
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF; /* no overlongs, <= U+10FFFF */
    else
        return 0;
    if (left < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

size_t suga_utf8_sequence_len(const char *s, size_t avail)
{
    return s ? utf8_sequence((const unsigned char *)s, avail) : 0;
}

bool suga_utf8_valid(const char *s, size_t len)
{
    if (!s)
        return len == 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_sequence(u + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

void suga_utf8_sanitize(const char *in, char *out, size_t size)
{
    if (!out || size == 0)
        return;
    const unsigned char *s = (const unsigned char *)(in ? in : "");
    size_t len = strnlen((const char *)s, size - 1), i = 0;
    while (i < len) {
        size_t n = utf8_sequence(s + i, len - i);
        if (n == 0) {
            out[i++] = '?';
        } else {
            memcpy(out + i, s + i, n);
            i += n;
        }
    }
    out[len] = '\0';
}
