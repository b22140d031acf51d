/* suga_utility.h: helpers the other handler modules share (ids, UTF-8, JSON; time and secrets are the
 * runtime's: suga_clock.h, suga_mask.h).
 *
 * Every function returns a suga_status (pure predicates return bool) and never aborts; a NULL
 * pointer where an output is expected gives SUGA_E_INVALID_ARG. These functions take no suga_ctx:
 * the calling handler knows which operation failed and writes the message.
 */
#ifndef SUGA_UTILITY_H
#define SUGA_UTILITY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "suga.h"

#define SUGA_UUID_LEN 36     /* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" */

/* A random UUID version 4 (RFC 9562) from getrandom(); lower-case, NUL-terminated.
 * SUGA_E_IO when the kernel's random source fails. */
suga_status suga_util_uuid4(char out[SUGA_UUID_LEN + 1]);

/* The longest prefix of s[0..len) of at most max bytes that does not split a UTF-8 sequence:
 * *cut = len when len <= max. Bytes that are not valid UTF-8 are treated as single characters. */
suga_status suga_util_utf8_cut(const char *s, size_t len, size_t max, size_t *cut);

/* Whether a text is UTF-8 is the runtime's question: suga_utf8_valid (suga.h). */

/* Length of the compact JSON encoding of v (JSON null for a NULL v), without building the text.
 * SUGA_E_INVALID_ARG when v cannot be encoded (a reference cycle). */
suga_status suga_util_json_size(const json_t *v, size_t *out);

/* A string for messages: `text` (len bytes, any bytes) through the masking function (suga_mask.h)
 * first, so that a cut never leaves the start of a secret, then in double quotes with JSON-style
 * escapes, bytes that are not UTF-8 shown as \xNN, cut (UTF-8-safe) after at most `max` bytes or
 * when `out` is full, and then followed by "...". The result is valid UTF-8 and NUL-terminated.
 * SUGA_E_INVALID_ARG when size < 6 (room for `""...` and the NUL). */
suga_status suga_util_quote(const char *text, size_t len, size_t max, char *out, size_t size);

/* Hand a freshly built result to the caller: *result = built when it is non-NULL, else an
 * out-of-memory failure "<op>: out of memory building the result", <op> being the operation the
 * handler serves (ctx->op) (jansson constructors and json_pack return NULL when an allocation
 * fails). */
suga_status suga_util_result(suga_ctx *ctx, json_t *built, json_t **result);

#endif
