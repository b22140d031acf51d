/* status.c: status names and the per-call error message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "suga.h"
#include "suga_mask.h"

/* suga_fail formats here first: big enough that a message quoting a secret is masked before it
 * is cut to SUGA_ERROR_MAX, so no prefix of a secret is left at the cut. */
#define FORMAT_BUFFER 4096

static const char *const status_names[SUGA_STATUS__COUNT] = {
    [SUGA_OK] = "ok",
    [SUGA_E_NOT_FOUND] = "not_found",
    [SUGA_E_INVALID_ARG] = "invalid_arg",
    [SUGA_E_HANDLER] = "handler_error",
    [SUGA_E_NOMEM] = "out_of_memory",
    [SUGA_E_STATE] = "bad_state",
    [SUGA_E_LIMIT] = "limit_exceeded",
    [SUGA_E_IO] = "io_error",
    [SUGA_E_INTERNAL] = "internal_error",
    [SUGA_E_BUDGET] = "budget_exhausted",
    [SUGA_E_UNAVAILABLE] = "unavailable",
};

const char *suga_status_name(suga_status status)
{
    if ((unsigned)status >= SUGA_STATUS__COUNT)
        return "unknown_status";
    return status_names[status];
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

int64_t suga_clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double suga_clock_elapsed_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
