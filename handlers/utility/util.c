/* util.c: the utility C API (suga_utility.h) that the other handler modules build on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "suga_mask.h"
#include "suga_table.h" /* ctx->op->name */
#include "utility/suga_utility.h"

suga_status suga_util_uuid4(char out[SUGA_UUID_LEN + 1])
{
    if (!out)
        return SUGA_E_INVALID_ARG;
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) { /* short reads and EINTR are possible before the pool is ready */
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return SUGA_E_IO;
        got += (size_t)n;
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* variant 10xx (RFC 9562) */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < sizeof b; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0F];
    }
    out[o] = '\0';
    return SUGA_OK;
}

/* Length of a UTF-8 sequence announced by its lead byte; 0 for a continuation or invalid byte. */
static size_t utf8_lead_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c >= 0xE0 && c <= 0xEF)
        return 3;
    if (c >= 0xF0 && c <= 0xF4)
        return 4;
    return 0;
}

static bool utf8_is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

suga_status suga_util_utf8_cut(const char *s, size_t len, size_t max, size_t *cut)
{
    if (!cut || (!s && len))
        return SUGA_E_INVALID_ARG;
    if (len <= max) {
        *cut = len;
        return SUGA_OK;
    }
    const unsigned char *u = (const unsigned char *)s;
    /* s[max] is the first byte dropped: if it continues a sequence, find where that began */
    size_t start = max;
    while (start > 0 && max - start < 3 && utf8_is_continuation(u[start]))
        start--;
    size_t seq = utf8_lead_len(u[start]);
    *cut = (start < max && seq && start + seq > max) ? start : max;
    return SUGA_OK;
}

suga_status suga_util_json_size(const json_t *v, size_t *out)
{
    if (!out)
        return SUGA_E_INVALID_ARG;
    if (!v) {
        *out = 4; /* "null" */
        return SUGA_OK;
    }
    /* with no buffer, json_dumpb only measures; every JSON text is at least one byte long */
    size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    if (n == 0)
        return SUGA_E_INVALID_ARG;
    *out = n;
    return SUGA_OK;
}

/* One input character as it appears inside the quotes; returns the input bytes consumed. */
static size_t quote_char(const unsigned char *s, size_t avail, char piece[8])
{
    if (*s == '"' || *s == '\\') {
        snprintf(piece, 8, "\\%c", *s);
        return 1;
    }
    if (*s < 0x20 || *s == 0x7F) {
        snprintf(piece, 8, "\\u%04x", *s);
        return 1;
    }
    size_t n = suga_utf8_sequence_len((const char *)s, avail);
    if (n == 0) { /* not UTF-8: shown as a byte, so the message itself stays valid UTF-8 */
        snprintf(piece, 8, "\\x%02x", *s);
        return 1;
    }
    memcpy(piece, s, n);
    piece[n] = '\0';
    return n;
}

/* The quote of text that has already been through the masking function. */
static suga_status quote_masked(const char *text, size_t len, size_t max, char *out, size_t size);

suga_status suga_util_quote(const char *text, size_t len, size_t max, char *out, size_t size)
{
    if (!out || size < sizeof "\"...\"" || (!text && len))
        return SUGA_E_INVALID_ARG;
    /* masked before it is cut: a cut would leave the start of a secret that no rule then knows */
    char *masked = NULL;
    size_t masked_len = 0;
    if (suga_mask_string(text ? text : "", len, SUGA_MASK_MESSAGE, &masked, &masked_len, NULL) != SUGA_OK) {
        snprintf(out, size, "(not shown)");
        return SUGA_OK;
    }
    suga_status st = quote_masked(masked, masked_len, max, out, size);
    free(masked);
    return st;
}

static suga_status quote_masked(const char *text, size_t len, size_t max, char *out, size_t size)
{
    static const char ellipsis[] = "\"...";
    const unsigned char *u = (const unsigned char *)text;
    size_t limit, i = 0, o = 0;
    suga_util_utf8_cut(text, len, max, &limit);
    out[o++] = '"';
    while (i < limit) {
        char piece[8];
        size_t used = quote_char(u + i, limit - i, piece);
        size_t plen = strlen(piece);
        if (o + plen + sizeof ellipsis > size) /* keep room for the closing `"...` and the NUL */
            break;
        memcpy(out + o, piece, plen);
        o += plen;
        i += used;
    }
    if (i < len) {
        memcpy(out + o, ellipsis, sizeof ellipsis);
    } else {
        out[o++] = '"';
        out[o] = '\0';
    }
    return SUGA_OK;
}

suga_status suga_util_result(suga_ctx *ctx, json_t *built, json_t **result)
{
    if (!built && ctx && ctx->op)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the result", ctx->op->name);
    if (!built) /* not called by a handler: there is no operation to name */
        return suga_fail(ctx, SUGA_E_NOMEM, "out of memory building the result");
    *result = built;
    return SUGA_OK;
}
