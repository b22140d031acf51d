/* security.c: the security.* operations, built as the lazy module suga-security.so.
 *
 * The module is lazy because of libcrypto: linking libssl/libcrypto into the engine costs 3-5 ms
 * of every process start (docs/security.md), and the Lambda bootstrap must start fast. Only
 * this shared object links libcrypto, so the library is mapped when the first security.*
 * operation runs, never before. The engine's own symbols this file uses (suga_fail, the
 * suga_util_* helpers) are resolved from the executable that dlopens it (-rdynamic).
 *
 * Nothing here writes a caller's value into a reason, a problem or an error message: a value
 * handed to security.* may be a secret, and messages end up in logs. Reasons name the rule and,
 * where it helps, the byte offset.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "suga_clock.h"
#include "suga_mask.h"
#include "suga_ops.h"
#include "suga_suggest.h"
#include "utility/suga_utility.h"

#define REASON_MAX 160
#define DIGEST_TEXT_MAX 96 /* 64 hex digits, or 44 base64 characters, and the NUL */

/* ---- small helpers: ASCII classes (locale-free), UTF-8, growable buffers ---- */

static bool is_lower_digit_underscore(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(unsigned char c)
{
    return is_alpha(c) || is_digit(c);
}

static bool is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hex_value(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    return (c | 0x20) - 'a' + 10;
}

static bool is_base64url_char(unsigned char c)
{
    return is_alnum(c) || c == '-' || c == '_';
}

static unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

static bool starts_with_nocase(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower((unsigned char)s[i]) != (unsigned char)prefix[i])
            return false;
    return true;
}

/* Length of the well-formed UTF-8 sequence at s (avail bytes readable) and its code point, or
 * 0 when it is not one (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (n > avail)
        return 0;
    uint32_t v = c & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF)
        return 0;
    *cp = v;
    return n;
}

typedef struct buffer {
    char *data;
    size_t len, cap;
    bool failed; /* an allocation failed: the contents are incomplete */
} buffer;

static void buffer_put(buffer *b, const void *bytes, size_t n)
{
    if (b->failed || n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
}

/* ---- validate_input ---- */

/* Each check returns true when the value is valid, else writes the reason. */
typedef bool (*input_check)(const unsigned char *s, size_t len, char *why, size_t size);

static bool reason(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool reason(char *why, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
    return false;
}

/* Home Assistant's rule (homeassistant/core.py, VALID_ENTITY_ID): two slugs of lower-case
 * letters, digits and '_' joined by one '.', neither starting nor ending with '_', and no "__"
 * anywhere (its look-ahead spans the whole id); at most 255 bytes (MAX_LENGTH_STATE_ENTITY_ID). */
static bool check_entity_id(const unsigned char *s, size_t len, char *why, size_t size)
{
    if (len > 255)
        return reason(why, size, "longer than 255 bytes");
    const unsigned char *dot = memchr(s, '.', len);
    if (!dot)
        return reason(why, size, "no '.' between domain and object_id");
    for (size_t i = 0; i < len; i++) {
        if (s + i != dot && !is_lower_digit_underscore(s[i]))
            return reason(why, size, "%s at byte %zu (lower-case letters, digits and '_' only)",
                          s[i] == '.' ? "a second '.'" : "character not allowed", i);
        if (i > 0 && s[i] == '_' && s[i - 1] == '_')
            return reason(why, size, "'__' at byte %zu", i - 1);
    }
    size_t domain = (size_t)(dot - s), object = len - domain - 1;
    if (domain == 0)
        return reason(why, size, "empty domain");
    if (object == 0)
        return reason(why, size, "empty object_id");
    if (s[0] == '_' || s[domain - 1] == '_')
        return reason(why, size, "domain starts or ends with '_'");
    if (dot[1] == '_' || s[len - 1] == '_')
        return reason(why, size, "object_id starts or ends with '_'");
    return true;
}

/* A C/Python-style identifier: a letter or '_', then letters, digits and '_'. */
static bool check_identifier(const unsigned char *s, size_t len, char *why, size_t size)
{
    if (len > 255)
        return reason(why, size, "longer than 255 bytes");
    if (!is_alpha(s[0]) && s[0] != '_')
        return reason(why, size, "must start with a letter or '_'");
    for (size_t i = 1; i < len; i++)
        if (!is_alnum(s[i]) && s[i] != '_')
            return reason(why, size, "character not allowed at byte %zu (letters, digits and '_' only)", i);
    return true;
}

/* Printable ASCII, no whitespace: what can travel in a header or a query without encoding. */
static bool check_token_chars(const unsigned char *s, size_t len, char *why, size_t size)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\v' || s[i] == '\f')
            return reason(why, size, "whitespace at byte %zu", i);
        if (s[i] < 0x21 || s[i] > 0x7E)
            return reason(why, size, "byte %zu is not printable ASCII", i);
    }
    return true;
}

static bool check_uuid(const unsigned char *s, size_t len, char *why, size_t size)
{
    if (len != 36)
        return reason(why, size, "a UUID is 36 characters (8-4-4-4-12 hex digits), got %zu", len);
    for (size_t i = 0; i < len; i++) {
        bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
        if (hyphen ? s[i] != '-' : !is_hex(s[i]))
            return reason(why, size, "not in the 8-4-4-4-12 hex form (byte %zu)", i);
    }
    return true;
}

/* Host of a URL: a bracketed IPv6 literal, or dot-separated labels of letters, digits and '-'
 * (a trailing dot, as in a fully qualified name, is allowed). */
static bool check_host(const unsigned char *h, size_t len, char *why, size_t size)
{
    if (len == 0)
        return reason(why, size, "host is missing");
    if (h[0] == '[') {
        if (len < 3 || h[len - 1] != ']')
            return reason(why, size, "unterminated IPv6 address");
        for (size_t i = 1; i + 1 < len; i++)
            if (!is_hex(h[i]) && h[i] != ':' && h[i] != '.')
                return reason(why, size, "character not allowed in an IPv6 address");
        return true;
    }
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        if (h[i] == '.') {
            if (label == 0)
                return reason(why, size, "empty label in the host");
            label = 0;
        } else if (is_alnum(h[i]) || h[i] == '-') {
            if (++label > 63)
                return reason(why, size, "host label longer than 63 characters");
        } else {
            return reason(why, size, "character not allowed in the host (letters, digits, '-' and '.')");
        }
    }
    return true;
}

/* The query carries a parameter whose name looks like a secret (?access_token=..., the legacy
 * Home Assistant ?api_password=...): credentials, like user:password@, do not belong in a URL. */
static bool query_has_secret(const unsigned char *q, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && q[i] != '&' && q[i] != ';' && q[i] != '#')
            continue;
        const unsigned char *eq = memchr(q + start, '=', i - start);
        size_t name_len = eq ? (size_t)(eq - (q + start)) : i - start;
        if (suga_is_secret_name_n((const char *)q + start, name_len))
            return true;
        if (i < len && q[i] == '#')
            return false;
        start = i + 1;
    }
    return false;
}

static bool check_url(const unsigned char *s, size_t len, char *why, size_t size)
{
    static const char unsafe[] = "<>\"\\{}|^`";
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7F)
            return reason(why, size, "control character at byte %zu", i);
        if (s[i] == ' ')
            return reason(why, size, "whitespace at byte %zu", i);
        if (s[i] >= 0x80)
            return reason(why, size, "non-ASCII byte at byte %zu (percent-encode it)", i);
        if (strchr(unsafe, s[i]))
            return reason(why, size, "character not allowed in a URL at byte %zu (percent-encode it)", i);
        if (s[i] == '%' && (i + 2 >= len || !is_hex(s[i + 1]) || !is_hex(s[i + 2])))
            return reason(why, size, "bad percent-encoding at byte %zu", i);
    }
    const unsigned char *sep = memmem(s, len, "://", 3);
    if (!sep)
        return reason(why, size, "not an absolute URL (no '://')");
    size_t scheme = (size_t)(sep - s);
    if (!((scheme == 4 && starts_with_nocase((const char *)s, len, "http")) ||
          (scheme == 5 && starts_with_nocase((const char *)s, len, "https"))))
        return reason(why, size, "scheme must be http or https");
    const unsigned char *auth = sep + 3, *end = s + len, *p = auth;
    while (p < end && *p != '/' && *p != '?' && *p != '#')
        p++;
    size_t auth_len = (size_t)(p - auth);
    if (memchr(auth, '@', auth_len))
        return reason(why, size, "credentials (user:password@) in the URL are not allowed");
    const unsigned char *colon = NULL;
    if (auth_len && auth[0] == '[') {
        const unsigned char *close = memchr(auth, ']', auth_len);
        if (close && close + 1 < p)
            colon = close + 1;
        if (colon && *colon != ':')
            return reason(why, size, "unexpected character after the IPv6 address");
    } else {
        colon = memchr(auth, ':', auth_len);
    }
    size_t host_len = colon ? (size_t)(colon - auth) : auth_len;
    if (!check_host(auth, host_len, why, size))
        return false;
    if (colon) {
        size_t count = (size_t)(p - colon - 1);
        unsigned long port = 0;
        bool numeric = count >= 1 && count <= 5;
        for (size_t i = 0; numeric && i < count; i++) {
            numeric = is_digit(colon[1 + i]);
            port = port * 10 + (unsigned long)(colon[1 + i] - '0');
        }
        if (!numeric || port == 0 || port > 65535)
            return reason(why, size, "port must be a number in 1..65535");
    }
    const unsigned char *query = memchr(p, '?', (size_t)(end - p));
    if (query && query_has_secret(query + 1, (size_t)(end - query - 1)))
        return reason(why, size, "credentials in the query string are not allowed");
    return true;
}

/* RFC 5321/5322 in the common, unquoted form: local@domain, local part of atext and dots (no
 * leading, trailing or doubled dot, at most 64 bytes), a domain of at least two labels. Quoted
 * local parts, address literals and internationalised addresses are not accepted. */
static bool check_email(const unsigned char *s, size_t len, char *why, size_t size)
{
    static const char atext[] = "!#$%&'*+/=?^_`{|}~-";
    if (len > 254)
        return reason(why, size, "longer than 254 bytes");
    const unsigned char *at = memchr(s, '@', len);
    if (!at)
        return reason(why, size, "no '@'");
    if (memchr(at + 1, '@', len - (size_t)(at - s) - 1))
        return reason(why, size, "more than one '@'");
    size_t local = (size_t)(at - s), domain = len - local - 1;
    if (local == 0 || local > 64)
        return reason(why, size, "the part before '@' must be 1 to 64 bytes");
    for (size_t i = 0; i < local; i++) {
        if (s[i] == '.') {
            if (i == 0 || i + 1 == local || s[i - 1] == '.')
                return reason(why, size, "misplaced '.' before '@'");
        } else if (!is_alnum(s[i]) && !(s[i] && strchr(atext, s[i]))) {
            return reason(why, size, "character not allowed before '@' at byte %zu", i);
        }
    }
    if (domain == 0)
        return reason(why, size, "no domain after '@'");
    const unsigned char *d = at + 1;
    size_t labels = 0, label = 0;
    for (size_t i = 0; i <= domain; i++) {
        if (i == domain || d[i] == '.') {
            if (label == 0)
                return reason(why, size, "empty label in the domain");
            if (d[i - 1] == '-' || d[i - label] == '-')
                return reason(why, size, "a domain label starts or ends with '-'");
            labels++;
            label = 0;
            continue;
        }
        if (!is_alnum(d[i]) && d[i] != '-')
            return reason(why, size, "character not allowed in the domain at byte %zu", local + 1 + i);
        if (++label > 63)
            return reason(why, size, "domain label longer than 63 characters");
    }
    if (labels < 2)
        return reason(why, size, "the domain needs at least two labels (example.com)");
    bool all_digits = true; /* of the last label: a numeric top-level domain is an IP address */
    for (size_t i = domain; i > 0 && d[i - 1] != '.'; i--)
        all_digits &= is_digit(d[i - 1]);
    if (all_digits)
        return reason(why, size, "the top-level domain is numeric");
    return true;
}

/* Reads exactly n digits at s[*i]; false when they are not all digits. */
static bool digits(const unsigned char *s, size_t len, size_t *i, size_t n, int *out)
{
    if (*i + n > len)
        return false;
    int v = 0;
    for (size_t k = 0; k < n; k++) {
        if (!is_digit(s[*i + k]))
            return false;
        v = v * 10 + (s[*i + k] - '0');
    }
    *i += n;
    *out = v;
    return true;
}

static bool expect(const unsigned char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != (unsigned char)c)
        return false;
    (*i)++;
    return true;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* The extended ISO 8601 forms people exchange (RFC 3339 and its relatives): YYYY-MM-DD, or
 * that followed by THH:MM[:SS[.fraction]] and an optional Z or +HH:MM / -HH:MM / +HHMM. */
static bool check_iso8601(const unsigned char *s, size_t len, char *why, size_t size)
{
    static const char form[] = "not in the form YYYY-MM-DD[THH:MM[:SS[.fff]][Z|+HH:MM]]";
    size_t i = 0;
    int year, month, day, hour, minute, second = 0;
    if (!digits(s, len, &i, 4, &year) || !expect(s, len, &i, '-') || !digits(s, len, &i, 2, &month) ||
        !expect(s, len, &i, '-') || !digits(s, len, &i, 2, &day))
        return reason(why, size, "%s", form);
    if (month < 1 || month > 12)
        return reason(why, size, "month out of range (01..12)");
    if (day < 1 || day > days_in_month(year, month))
        return reason(why, size, "day out of range for the month");
    if (i == len)
        return true;
    if (!expect(s, len, &i, 'T') || !digits(s, len, &i, 2, &hour) || !expect(s, len, &i, ':') ||
        !digits(s, len, &i, 2, &minute))
        return reason(why, size, "%s", form);
    if (expect(s, len, &i, ':') && !digits(s, len, &i, 2, &second))
        return reason(why, size, "%s", form);
    if (i < len && (s[i] == '.' || s[i] == ',')) {
        size_t start = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start || i - start > 9)
            return reason(why, size, "the fraction of a second needs 1 to 9 digits");
    }
    if (hour > 23 || minute > 59 || second > 60) /* 60: a leap second */
        return reason(why, size, "time out of range");
    if (i == len || (s[i] == 'Z' && i + 1 == len))
        return true;
    int oh, om;
    if (s[i] != '+' && s[i] != '-')
        return reason(why, size, "%s", form);
    i++;
    if (!digits(s, len, &i, 2, &oh))
        return reason(why, size, "%s", form);
    expect(s, len, &i, ':'); /* +HH:MM and +HHMM are both ISO 8601 */
    if (!digits(s, len, &i, 2, &om) || i != len)
        return reason(why, size, "%s", form);
    if (oh > 23 || om > 59)
        return reason(why, size, "UTC offset out of range");
    return true;
}

suga_status suga_handle_security_validate_input(suga_ctx *ctx, const suga_args_security_validate_input *args, json_t **result)
{
    static const input_check checks[] = {
        [SUGA_SECURITY_VALIDATE_INPUT_KIND_ENTITY_ID] = check_entity_id,
        [SUGA_SECURITY_VALIDATE_INPUT_KIND_IDENTIFIER] = check_identifier,
        [SUGA_SECURITY_VALIDATE_INPUT_KIND_URL] = check_url,
        [SUGA_SECURITY_VALIDATE_INPUT_KIND_EMAIL] = check_email,
        [SUGA_SECURITY_VALIDATE_INPUT_KIND_UUID] = check_uuid,
        [SUGA_SECURITY_VALIDATE_INPUT_KIND_ISO8601] = check_iso8601,
        [SUGA_SECURITY_VALIDATE_INPUT_KIND_TOKEN] = check_token_chars,
    };
    if ((unsigned)args->kind >= sizeof checks / sizeof *checks) /* one compare, whatever the enum's signedness */
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: kind %d is out of range", ctx->op->name, (int)args->kind);
    char why[REASON_MAX] = "";
    bool valid = args->value.len > 0;
    if (!valid)
        snprintf(why, sizeof why, "empty");
    else
        valid = checks[args->kind]((const unsigned char *)args->value.ptr, args->value.len, why, sizeof why);
    json_t *reason_value = valid ? json_null() : json_string(why);
    return suga_util_result(ctx, json_pack("{s:b, s:o}", "valid", valid, "reason", reason_value), result);
}

/* ---- sanitize_data ---- */

static bool is_trim_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

suga_status suga_handle_security_sanitize_data(suga_ctx *ctx, const suga_args_security_sanitize_data *args, json_t **result)
{
    static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
    const unsigned char *s = (const unsigned char *)args->text.ptr;
    size_t len = s ? args->text.len : 0;
    buffer out = {0};
    json_int_t removed = 0, replaced = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0) { /* one U+FFFD per byte that does not start a well-formed sequence */
            buffer_put(&out, replacement, 3);
            replaced++;
            i++;
            continue;
        }
        bool control = cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F); /* C0, DEL, C1 */
        bool kept = cp == '\t' || ((cp == '\n' || cp == '\r') && args->allow_newlines);
        if (control && !kept)
            removed++;
        else
            buffer_put(&out, s + i, n);
        i += n;
    }
    if (out.failed) {
        free(out.data);
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory", ctx->op->name);
    }
    const char *text = out.data ? out.data : "";
    size_t start = 0, end = out.len;
    while (start < end && is_trim_space((unsigned char)text[start]))
        start++;
    while (end > start && is_trim_space((unsigned char)text[end - 1]))
        end--;
    size_t cut = end - start;
    suga_util_utf8_cut(text + start, end - start, (size_t)args->max_len, &cut);
    bool truncated = cut < end - start;
    while (truncated && cut > 0 && is_trim_space((unsigned char)text[start + cut - 1]))
        cut--; /* the cut may leave a space that was inside the text at the end */
    bool changed = cut != len || memcmp(text + start, s ? (const char *)s : "", cut) != 0;
    json_t *built = json_pack("{s:s%, s:b, s:I, s:I, s:b}", "text", text + start, cut, "changed", changed, "removed",
                              removed, "replaced", replaced, "truncated", truncated);
    free(out.data);
    return suga_util_result(ctx, built, result);
}

/* ---- filter_sensitive: the runtime's masking function (suga_mask.h), in its data mode ---- */

/* Characters of a bearer token (RFC 6750 b64token, with its '=' padding). */
static bool is_b64token_char(unsigned char c)
{
    return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
}

suga_status suga_handle_security_filter_sensitive(suga_ctx *ctx, const suga_args_security_filter_sensitive *args,
                                      json_t **result)
{
    json_t *data = NULL;
    size_t masked = 0;
    suga_status st = suga_mask_json(args->data, SUGA_MASK_DATA, &data, &masked);
    if (st == SUGA_E_LIMIT)
        return suga_fail(ctx, st, "%s: data nests deeper than 2048 levels", ctx->op->name);
    if (st != SUGA_OK)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory", ctx->op->name);
    return suga_util_result(ctx, json_pack("{s:o, s:I}", "data", data, "masked", (json_int_t)masked), result);
}

/* ---- encodings ---- */

static const char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int base64_value(unsigned char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (is_digit(c))
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

/* Strict base64 (url = false: '+/' with '=' padding to a multiple of 4) or base64url
 * (url = true: '-_', no padding, as JWTs use). out needs len * 3 / 4 + 3 bytes. False on any
 * character outside the alphabet, bad padding or an impossible length. */
static bool base64_decode(const unsigned char *s, size_t len, bool url, unsigned char *out, size_t *out_len)
{
    if (!url) {
        if (len % 4)
            return false;
        size_t pad = 0;
        while (pad < 2 && len > pad && s[len - 1 - pad] == '=')
            pad++;
        len -= pad;
    }
    if (len % 4 == 1)
        return false;
    size_t o = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        int v = base64_value(s[i], url);
        if (v < 0)
            return false;
        acc = acc << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            out[o++] = (unsigned char)(acc >> 16);
            out[o++] = (unsigned char)(acc >> 8);
            out[o++] = (unsigned char)acc;
            acc = 0;
        }
    }
    if (len % 4 == 2) {
        out[o++] = (unsigned char)(acc >> 4);
    } else if (len % 4 == 3) {
        out[o++] = (unsigned char)(acc >> 10);
        out[o++] = (unsigned char)(acc >> 2);
    }
    *out_len = o;
    return true;
}

static bool hex_decode(const unsigned char *s, size_t len, unsigned char *out, size_t *out_len)
{
    if (len % 2)
        return false;
    for (size_t i = 0; i < len; i += 2) {
        if (!is_hex(s[i]) || !is_hex(s[i + 1]))
            return false;
        out[i / 2] = (unsigned char)(hex_value(s[i]) << 4 | hex_value(s[i + 1]));
    }
    *out_len = len / 2;
    return true;
}

/* A digest as hex (lower case), base64 (padded) or base64url (unpadded, as in a JWT). */
static void encode_digest(const unsigned char *md, size_t n, int encoding, char out[DIGEST_TEXT_MAX])
{
    size_t o = 0;
    if (encoding == SUGA_SECURITY_SHA256_ENCODING_HEX) {
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
            out[o++] = hex[md[i] >> 4];
            out[o++] = hex[md[i] & 0x0F];
        }
        out[o] = '\0';
        return;
    }
    bool url = encoding == SUGA_SECURITY_SHA256_ENCODING_BASE64URL;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t acc = (uint32_t)md[i] << 16 | (i + 1 < n ? (uint32_t)md[i + 1] << 8 : 0) | (i + 2 < n ? md[i + 2] : 0);
        size_t chars = i + 2 < n ? 4 : i + 1 < n ? 3 : 2;
        for (size_t k = 0; k < 4; k++) {
            char c = base64_alphabet[(acc >> (18 - 6 * k)) & 0x3F];
            if (k >= chars)
                c = '=';
            else if (url && c == '+')
                c = '-';
            else if (url && c == '/')
                c = '_';
            if (!(url && c == '='))
                out[o++] = c;
        }
    }
    out[o] = '\0';
}

/* The hmac_sha256 and sha256 encodings are declared with the same values in the same order;
 * encode_digest is written against one of them. */
_Static_assert((int)SUGA_SECURITY_HMAC_SHA256_ENCODING_HEX == (int)SUGA_SECURITY_SHA256_ENCODING_HEX &&
                   (int)SUGA_SECURITY_HMAC_SHA256_ENCODING_BASE64 == (int)SUGA_SECURITY_SHA256_ENCODING_BASE64 &&
                   (int)SUGA_SECURITY_HMAC_SHA256_ENCODING_BASE64URL == (int)SUGA_SECURITY_SHA256_ENCODING_BASE64URL,
               "spec/security.yaml: hmac_sha256 and sha256 must list the same encodings in the same order");

/* libcrypto's reason for the last failure (its queue is cleared so it does not leak into a
 * later call's report). */
static suga_status crypto_failed(suga_ctx *ctx)
{
    char why[256] = "no reason given";
    unsigned long code = ERR_get_error();
    if (code)
        ERR_error_string_n(code, why, sizeof why);
    ERR_clear_error();
    return suga_fail(ctx, SUGA_E_INTERNAL, "%s: libcrypto failed: %s", ctx->op->name, why);
}

/* ---- check_token ---- */

/* "Bearer " (any case, then blanks) in front of a token is the Authorization header's form. */
static void strip_bearer(const unsigned char **s, size_t *len)
{
    if (*len > 7 && starts_with_nocase((const char *)*s, *len, "bearer") && ((*s)[6] == ' ' || (*s)[6] == '\t')) {
        size_t p = 6;
        while (p < *len && ((*s)[p] == ' ' || (*s)[p] == '\t'))
            p++;
        *s += p;
        *len -= p;
    }
}

static bool check_bearer(const unsigned char *s, size_t len, char *why, size_t size)
{
    size_t i = 0;
    while (i < len && s[i] != '=' && is_b64token_char(s[i]))
        i++;
    if (i == 0)
        return reason(why, size, len ? "a bearer token starts with a letter, digit or one of -._~+/" : "empty");
    while (i < len && s[i] == '=')
        i++;
    if (i < len)
        return reason(why, size,
                      "character not allowed in a bearer token at byte %zu "
                      "(RFC 6750: letters, digits, -._~+/ then '=' padding)",
                      i);
    return true;
}

/* base64url-decodes one JWT segment and parses it as a JSON object; NULL with a reason else. */
static json_t *jwt_part(const unsigned char *s, size_t len, const char *what, char *why, size_t size)
{
    size_t raw_size = len * 3 / 4 + 3;
    unsigned char *raw = malloc(raw_size);
    size_t n = 0;
    if (!raw) {
        reason(why, size, "out of memory decoding the %s", what);
        return NULL;
    }
    json_t *obj = NULL;
    if (!base64_decode(s, len, true, raw, &n))
        reason(why, size, "the %s is not base64url", what);
    else if (!(obj = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL)) || !json_is_object(obj))
        reason(why, size, "the %s is not a JSON object", what);
    if (obj && !json_is_object(obj)) {
        json_decref(obj);
        obj = NULL;
    }
    OPENSSL_cleanse(raw, raw_size); /* the payload of a live token is not left behind in freed memory */
    free(raw);
    return obj;
}

typedef struct token_verdict {
    bool valid;
    char reason[REASON_MAX];
    bool has_exp;
    double exp; /* seconds since the epoch */
} token_verdict;

/* A claim that must be a NumericDate: *present and *value set; false when it is not a number. */
static bool numeric_claim(json_t *payload, const char *name, bool *present, double *value)
{
    json_t *v = json_object_get(payload, name);
    *present = v != NULL;
    if (v && !json_is_number(v))
        return false;
    *value = v ? json_number_value(v) : 0;
    return true;
}

static void check_jwt_claims(json_t *header, json_t *payload, bool home_assistant, token_verdict *v)
{
    const char *alg = json_string_value(json_object_get(header, "alg"));
    bool has_nbf;
    double nbf;
    double now = (double)suga_clock_wall_ms() / 1000.0;
    if (!alg)
        reason(v->reason, sizeof v->reason, "the header has no 'alg'");
    else if (!strcmp(alg, "none"))
        reason(v->reason, sizeof v->reason, "an unsigned JWT (alg 'none') is not accepted");
    else if (home_assistant && strcmp(alg, "HS256"))
        reason(v->reason, sizeof v->reason, "Home Assistant tokens are signed with HS256");
    else if (!numeric_claim(payload, "exp", &v->has_exp, &v->exp) || (v->has_exp && !isfinite(v->exp)))
        reason(v->reason, sizeof v->reason, "'exp' is not a number");
    else if (!numeric_claim(payload, "nbf", &has_nbf, &nbf))
        reason(v->reason, sizeof v->reason, "'nbf' is not a number");
    else if (home_assistant && !json_is_string(json_object_get(payload, "iss")))
        reason(v->reason, sizeof v->reason, "a Home Assistant token names its refresh token in 'iss'");
    else if (home_assistant && !v->has_exp)
        reason(v->reason, sizeof v->reason, "a Home Assistant token has an 'exp'");
    else if (v->has_exp && v->exp <= now)
        reason(v->reason, sizeof v->reason, "expired");
    else if (has_nbf && nbf > now)
        reason(v->reason, sizeof v->reason, "not valid yet ('nbf' is in the future)");
    else
        v->valid = true;
}

static void check_jwt(const unsigned char *s, size_t len, bool home_assistant, token_verdict *v)
{
    const unsigned char *dot1 = memchr(s, '.', len);
    const unsigned char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - s)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - s))) {
        reason(v->reason, sizeof v->reason, "a JWT has three segments separated by '.'");
        return;
    }
    size_t header_len = (size_t)(dot1 - s), payload_len = (size_t)(dot2 - dot1 - 1);
    size_t signature_len = len - (size_t)(dot2 + 1 - s);
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '.' && !is_base64url_char(s[i])) {
            reason(v->reason, sizeof v->reason, "character outside base64url at byte %zu", i);
            return;
        }
    }
    if (header_len == 0 || payload_len == 0 || signature_len == 0) {
        reason(v->reason, sizeof v->reason, "empty %s segment",
               header_len == 0 ? "header" : payload_len == 0 ? "payload" : "signature");
        return;
    }
    if (signature_len % 4 == 1) {
        reason(v->reason, sizeof v->reason, "the signature is not base64url");
        return;
    }
    json_t *header = jwt_part(s, header_len, "header", v->reason, sizeof v->reason);
    json_t *payload = header ? jwt_part(dot1 + 1, payload_len, "payload", v->reason, sizeof v->reason) : NULL;
    if (header && payload)
        check_jwt_claims(header, payload, home_assistant, v);
    json_decref(header);
    json_decref(payload);
}

suga_status suga_handle_security_check_token(suga_ctx *ctx, const suga_args_security_check_token *args, json_t **result)
{
    const unsigned char *s = (const unsigned char *)args->token.ptr;
    size_t len = s ? args->token.len : 0;
    strip_bearer(&s, &len);
    token_verdict v = {0};
    if (len == 0)
        reason(v.reason, sizeof v.reason, "empty");
    else if (args->format == SUGA_SECURITY_CHECK_TOKEN_FORMAT_BEARER)
        v.valid = check_bearer(s, len, v.reason, sizeof v.reason);
    else
        check_jwt(s, len, args->format == SUGA_SECURITY_CHECK_TOKEN_FORMAT_HOME_ASSISTANT, &v);
    json_t *out = json_pack("{s:b, s:o}", "valid", v.valid, "reason", v.valid ? json_null() : json_string(v.reason));
    if (out && v.has_exp) {
        char iso[SUGA_ISO8601_SIZE];
        /* an exp beyond what the calendar functions handle is reported as a number of seconds */
        json_t *at = fabs(v.exp) < 1e14 && suga_clock_iso8601((int64_t)(v.exp * 1000.0), iso) == SUGA_OK
                         ? json_string(iso)
                         : json_real(v.exp);
        if (json_object_set_new(out, "expires_at", at) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    return suga_util_result(ctx, out, result);
}

/* ---- constant_time_equals, hmac_sha256, sha256 ---- */

/* CRYPTO_memcmp takes time that depends on the length only, never on where the bytes differ.
 * With different lengths there is nothing to compare, but returning at once would make the
 * answer faster for a wrong length than for a wrong content: comparing a with itself spends the
 * time a comparison of a would take. The length difference itself is not hidden. */
suga_status suga_handle_security_constant_time_equals(suga_ctx *ctx, const suga_args_security_constant_time_equals *args,
                                          json_t **result)
{
    (void)ctx;
    const char *a = args->a.ptr ? args->a.ptr : "", *b = args->b.ptr ? args->b.ptr : "";
    size_t a_len = args->a.ptr ? args->a.len : 0, b_len = args->b.ptr ? args->b.len : 0;
    bool equal;
    if (a_len == b_len) {
        equal = CRYPTO_memcmp(a, b, a_len) == 0;
    } else {
        volatile int spent = CRYPTO_memcmp(a, a, a_len);
        (void)spent;
        equal = false;
    }
    *result = json_boolean(equal); /* json_true/json_false: shared values, never NULL */
    return SUGA_OK;
}

#define HMAC_KEY_MAX 4096 /* the key's max_len; decoding only ever shrinks it */

suga_status suga_handle_security_hmac_sha256(suga_ctx *ctx, const suga_args_security_hmac_sha256 *args, json_t **result)
{
    const char *op = ctx->op->name;
    unsigned char key[HMAC_KEY_MAX + 3];
    const unsigned char *k = (const unsigned char *)(args->key.ptr ? args->key.ptr : "");
    size_t key_len = args->key.ptr ? args->key.len : 0;
    if (key_len > HMAC_KEY_MAX)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg 'key' must be at most %d bytes long", op, HMAC_KEY_MAX);
    bool decoded = true;
    if (args->key_encoding == SUGA_SECURITY_HMAC_SHA256_KEY_ENCODING_HEX)
        decoded = hex_decode(k, key_len, key, &key_len);
    else if (args->key_encoding == SUGA_SECURITY_HMAC_SHA256_KEY_ENCODING_BASE64)
        decoded = base64_decode(k, key_len, false, key, &key_len);
    else
        memcpy(key, k, key_len);
    if (!decoded) {
        OPENSSL_cleanse(key, sizeof key);
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg 'key' is not valid %s (its value is not shown)", op,
                         args->key_encoding == SUGA_SECURITY_HMAC_SHA256_KEY_ENCODING_HEX ? "hex" : "base64");
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    const char *message = args->message.ptr ? args->message.ptr : "";
    size_t message_len = args->message.ptr ? args->message.len : 0;
    /* key is never NULL, even when empty: some libcrypto versions refuse a NULL key */
    unsigned char *ok = HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)message, message_len, md, &md_len);
    OPENSSL_cleanse(key, sizeof key);
    if (!ok)
        return crypto_failed(ctx);
    char text[DIGEST_TEXT_MAX];
    encode_digest(md, md_len, args->encoding, text);
    return suga_util_result(ctx, json_string(text), result);
}

suga_status suga_handle_security_sha256(suga_ctx *ctx, const suga_args_security_sha256 *args, json_t **result)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    const char *data = args->data.ptr ? args->data.ptr : "";
    size_t data_len = args->data.ptr ? args->data.len : 0;
    if (!EVP_Digest(data, data_len, md, &md_len, EVP_sha256(), NULL))
        return crypto_failed(ctx);
    char text[DIGEST_TEXT_MAX];
    encode_digest(md, md_len, args->encoding, text);
    return suga_util_result(ctx, json_string(text), result);
}

/* ---- validate_request ---- */

#define PROBLEMS_LISTED 50 /* a malformed batch can have thousands; the first ones say enough */
#define PATH_MAX_LEN 160

typedef struct problems {
    json_t *list;
    size_t total;
    bool failed;
} problems;

static void problem(problems *p, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(problems *p, const char *path, const char *fmt, ...)
{
    if (p->total++ >= PROBLEMS_LISTED)
        return;
    char what[192], line[PATH_MAX_LEN + 200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "%s: %s", path, what);
    if (json_array_append_new(p->list, json_string(line)) != 0)
        p->failed = true;
}

/* path + "." + key; a key that is not a plain name is quoted (valid UTF-8, bounded). */
static void path_join(char *out, size_t size, const char *path, const char *key)
{
    bool plain = strlen(key) > 0 && strlen(key) <= 64;
    for (const char *c = key; plain && *c; c++)
        plain = is_alnum((unsigned char)*c) || *c == '_' || *c == '-';
    if (plain) {
        snprintf(out, size, "%s%s%s", path, *path ? "." : "", key);
        return;
    }
    char quoted[64];
    suga_util_quote(key, strlen(key), 24, quoted, sizeof quoted);
    snprintf(out, size, "%s[%s]", path, quoted);
}

/* A name: lower-case letter, then lower-case letters, digits and '_'; 1..64 bytes. */
static bool is_name(const char *s, size_t len)
{
    if (len == 0 || len > 64 || !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!is_lower_digit_underscore((unsigned char)s[i]))
            return false;
    return true;
}

static bool is_op_name(json_t *v)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    const char *dot = s ? memchr(s, '.', len) : NULL;
    return dot && is_name(s, (size_t)(dot - s)) && is_name(dot + 1, len - (size_t)(dot - s) - 1);
}

/* Members of obj not in `known`, each reported with a "did you mean" hint when one is close. */
static void unknown_keys(problems *p, json_t *obj, const char *path, const char *const *known, size_t count)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        bool found = false;
        for (size_t i = 0; i < count && !found; i++)
            found = !strcmp(key, known[i]);
        if (found)
            continue;
        char at[PATH_MAX_LEN];
        path_join(at, sizeof at, path, key);
        const char *hint = suga_closest(key, known, count);
        problem(p, at, "unknown key%s%s%s", hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
    }
}

/* The "op" or "fusion" of a request or of a batch item, and its "args". */
static void check_call(problems *p, json_t *obj, const char *path)
{
    json_t *op = json_object_get(obj, "op"), *fusion = json_object_get(obj, "fusion");
    char at[PATH_MAX_LEN];
    path_join(at, sizeof at, path, op ? "op" : "fusion");
    if (op && !json_is_string(op))
        problem(p, at, "must be a string");
    else if (op && !is_op_name(op))
        problem(p, at, "must be 'interface.operation' (lower-case letters, digits and '_')");
    else if (fusion && !json_is_string(fusion))
        problem(p, at, "must be a string");
    else if (fusion && !is_name(json_string_value(fusion), json_string_length(fusion)))
        problem(p, at, "must be a fusion name (lower-case letters, digits and '_')");
    json_t *args = json_object_get(obj, "args");
    path_join(at, sizeof at, path, "args");
    if (args && !json_is_object(args) && !json_is_null(args))
        problem(p, at, "must be an object");
}

static void check_batch(problems *p, json_t *request)
{
    static const char *const item_keys[] = {"op", "fusion", "args"};
    json_t *batch = json_object_get(request, "batch");
    if (json_object_get(request, "args"))
        problem(p, "args", "a batch takes no args (each item has its own)");
    json_t *stop = json_object_get(request, "stop_on_error");
    if (stop && !json_is_boolean(stop))
        problem(p, "stop_on_error", "must be true or false");
    if (!json_is_array(batch)) {
        problem(p, "batch", "must be an array");
        return;
    }
    size_t n = json_array_size(batch);
    if (n == 0)
        problem(p, "batch", "must have at least 1 item");
    if (n > 100)
        problem(p, "batch", "must have at most 100 items, got %zu", n);
    size_t i;
    json_t *item;
    json_array_foreach(batch, i, item) {
        char at[PATH_MAX_LEN];
        snprintf(at, sizeof at, "batch[%zu]", i);
        if (!json_is_object(item)) {
            problem(p, at, "must be an object");
            continue;
        }
        unknown_keys(p, item, at, item_keys, sizeof item_keys / sizeof *item_keys);
        bool has_op = json_object_get(item, "op") != NULL, has_fusion = json_object_get(item, "fusion") != NULL;
        if (has_op == has_fusion)
            problem(p, at, "needs exactly one of 'op' and 'fusion'");
        else
            check_call(p, item, at);
    }
}

/* A string member that must be present and non-empty. */
static json_t *required_string(problems *p, json_t *obj, const char *path, const char *key)
{
    char at[PATH_MAX_LEN];
    path_join(at, sizeof at, path, key);
    json_t *v = json_object_get(obj, key);
    if (!v)
        problem(p, at, "missing");
    else if (!json_is_string(v) || json_string_length(v) == 0)
        problem(p, at, "must be a non-empty string");
    return json_is_string(v) ? v : NULL;
}

/* An object member that must be present. */
static json_t *required_object(problems *p, json_t *obj, const char *path, const char *key)
{
    char at[PATH_MAX_LEN];
    path_join(at, sizeof at, path, key);
    json_t *v = json_object_get(obj, key);
    if (!v)
        problem(p, at, "missing");
    else if (!json_is_object(v))
        problem(p, at, "must be an object");
    return json_is_object(v) ? v : NULL;
}

/* An Alexa Smart Home directive (payload version 3). */
static void check_alexa(problems *p, json_t *request)
{
    json_t *directive = required_object(p, request, "", "directive");
    if (!directive)
        return;
    json_t *header = required_object(p, directive, "directive", "header");
    if (header) {
        json_t *ns = required_string(p, header, "directive.header", "namespace");
        if (ns && json_string_length(ns) && strncmp(json_string_value(ns), "Alexa", 5))
            problem(p, "directive.header.namespace", "must start with 'Alexa'");
        required_string(p, header, "directive.header", "name");
        required_string(p, header, "directive.header", "messageId");
        json_t *version = json_object_get(header, "payloadVersion");
        if (!version)
            problem(p, "directive.header.payloadVersion", "missing");
        else if (!json_is_string(version) || strcmp(json_string_value(version), "3"))
            problem(p, "directive.header.payloadVersion", "must be \"3\"");
        json_t *token = json_object_get(header, "correlationToken");
        if (token && !json_is_string(token))
            problem(p, "directive.header.correlationToken", "must be a string");
    }
    json_t *endpoint = json_object_get(directive, "endpoint");
    if (endpoint && !json_is_object(endpoint))
        problem(p, "directive.endpoint", "must be an object");
    else if (endpoint && required_string(p, endpoint, "directive.endpoint", "endpointId") &&
             json_string_length(json_object_get(endpoint, "endpointId")) > 256)
        problem(p, "directive.endpoint.endpointId", "must be at most 256 bytes");
    required_object(p, directive, "directive", "payload");
}

static const char *check_request(problems *p, json_t *request)
{
    static const char *const request_keys[] = {"op", "fusion", "batch", "args", "stop_on_error", "correlation_id"};
    json_t *op = json_object_get(request, "op"), *fusion = json_object_get(request, "fusion");
    json_t *batch = json_object_get(request, "batch"), *directive = json_object_get(request, "directive");
    int shapes = !!op + !!fusion + !!batch;
    if (directive && shapes) {
        problem(p, "request", "'directive' cannot be combined with 'op', 'fusion' or 'batch'");
        return NULL;
    }
    if (directive) {
        check_alexa(p, request);
        return "alexa";
    }
    if (shapes != 1) {
        problem(p, "request", shapes ? "needs exactly one of 'op', 'fusion' and 'batch'"
                                     : "needs one of 'op', 'fusion', 'batch' or 'directive'");
        return NULL;
    }
    unknown_keys(p, request, "", request_keys, sizeof request_keys / sizeof *request_keys);
    json_t *correlation = json_object_get(request, "correlation_id");
    if (correlation && (!json_is_string(correlation) || json_string_length(correlation) > 128))
        problem(p, "correlation_id", "must be a string of at most 128 bytes");
    if (batch) {
        check_batch(p, request);
        return "batch";
    }
    if (json_object_get(request, "stop_on_error"))
        problem(p, "stop_on_error", "applies to batches only");
    check_call(p, request, "");
    return op ? "op" : "fusion";
}

suga_status suga_handle_security_validate_request(suga_ctx *ctx, const suga_args_security_validate_request *args,
                                      json_t **result)
{
    problems p = {.list = json_array()};
    if (!p.list)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory", ctx->op->name);
    const char *kind = check_request(&p, args->request);
    if (p.total > PROBLEMS_LISTED) {
        char more[64];
        snprintf(more, sizeof more, "(%zu more problems not listed)", p.total - PROBLEMS_LISTED);
        p.failed |= json_array_append_new(p.list, json_string(more)) != 0;
    }
    if (p.failed) {
        json_decref(p.list);
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory", ctx->op->name);
    }
    json_t *kind_value = kind ? json_string(kind) : json_null();
    return suga_util_result(
        ctx, json_pack("{s:b, s:o, s:o}", "valid", p.total == 0, "kind", kind_value, "problems", p.list), result);
}
