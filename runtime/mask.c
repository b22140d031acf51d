/* mask.c: the one masking function (suga_mask.h): the secrets the process knows, and the scan
 * that replaces them, and anything shaped like a secret, with "***".
 *
 * One scan, left to right, tries at each position the rules below and copies what none of them
 * claims. Each rule answers "the secret starts at `skip` and is `n` bytes long", so a rule can
 * keep what comes before the secret (the "Bearer " of a credential, the "name=" of a pair). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suga_mask.h"
#include "suga_test_hooks.h"

#define MASK_MAX_DEPTH 2048      /* jansson's own parsing limit: deeper values cannot come from JSON */
#define SLOT_NAME_MAX 160
#define PARTIAL_PREFIX_MIN 6     /* a cut-off secret at the end of a text is masked from this long */

/* ---- the names that mark a secret ---- */

/* Matched as case-insensitive substrings: access_token and x-aws-parameters-secrets-token are
 * caught by "token"; the hyphenated forms are HTTP header spellings (x-api-key, Cookie). */
static const char *const secret_words[] = {
    "token",      "secret",      "password",    "passwd",  "authorization", "api_key", "apikey", "api-key",
    "access_key", "credential",  "private_key", "private-key", "session", "bearer", "cookie", "passphrase",
};

static unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

static bool contains_nocase(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= len; i++) {
        size_t k = 0;
        while (k < n && ascii_lower((unsigned char)s[i + k]) == (unsigned char)word[k])
            k++;
        if (k == n)
            return true;
    }
    return false;
}

bool suga_is_secret_name_n(const char *name, size_t len)
{
    if (!name)
        return false;
    for (size_t i = 0; i < sizeof secret_words / sizeof *secret_words; i++)
        if (contains_nocase(name, len, secret_words[i]))
            return true;
    return false;
}

bool suga_is_secret_name(const char *name)
{
    return name && suga_is_secret_name_n(name, strlen(name));
}

/* ---- the secrets the process knows ---- */

typedef struct secret {
    char *value;
    size_t len;
    char slot[SLOT_NAME_MAX]; /* "" for a request's secret */
} secret;

static struct {
    bool environment_read;
    secret process[SUGA_SECRET_SLOTS];
    size_t process_count;
    secret request[SUGA_REQUEST_SECRETS];
    size_t request_count, request_oldest;
    bool first_byte[256]; /* a secret starts with this byte: the scan skips the others quickly */
} known;

static void wipe(secret *s)
{
    if (s->value) {
        memset(s->value, 0, s->len); /* a secret does not linger in freed memory */
        free(s->value);
    }
    *s = (secret){0};
}

static void index_first_bytes(void)
{
    memset(known.first_byte, 0, sizeof known.first_byte);
    for (size_t i = 0; i < known.process_count; i++)
        known.first_byte[(unsigned char)known.process[i].value[0]] = true;
    for (size_t i = 0; i < known.request_count; i++)
        known.first_byte[(unsigned char)known.request[i].value[0]] = true;
}

/* Whether a value could be told from ordinary text: long enough, not a number. */
static bool worth_remembering(const char *value, size_t len)
{
    if (!value || len < SUGA_SECRET_MIN_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (value[i] < '0' || value[i] > '9')
            return true;
    return false;
}

/* value[0..len) and a NUL (not strndup: a value from JSON may hold a NUL, and len must stay
 * its length). */
static char *copy_bytes(const char *value, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, value, len);
        copy[len] = '\0';
    }
    return copy;
}

static void read_environment(void);

static void ensure_environment(void)
{
    if (!known.environment_read)
        read_environment();
}

static secret *find_slot(const char *slot)
{
    for (size_t i = 0; i < known.process_count; i++)
        if (!strcmp(known.process[i].slot, slot))
            return &known.process[i];
    return NULL;
}

static suga_status set_slot(const char *slot, const char *value, size_t len)
{
    secret *s = find_slot(slot);
    if (!worth_remembering(value, len)) {
        if (s) { /* forget it: the last one takes its place */
            wipe(s);
            *s = known.process[--known.process_count];
            known.process[known.process_count] = (secret){0};
            index_first_bytes();
        }
        return SUGA_OK;
    }
    if (s && s->len == len && !memcmp(s->value, value, len))
        return SUGA_OK;
    if (!s && known.process_count == SUGA_SECRET_SLOTS)
        return SUGA_E_LIMIT;
    char *copy = copy_bytes(value, len);
    if (!copy)
        return SUGA_E_NOMEM;
    if (s)
        wipe(s);
    else
        s = &known.process[known.process_count++];
    s->value = copy;
    s->len = len;
    size_t slot_len = strnlen(slot, sizeof s->slot - 1);
    memcpy(s->slot, slot, slot_len);
    s->slot[slot_len] = '\0';
    index_first_bytes();
    return SUGA_OK;
}

static void read_environment(void)
{
    known.environment_read = true;
    extern char **environ;
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || !suga_is_secret_name_n(*e, (size_t)(eq - *e)))
            continue;
        char name[SLOT_NAME_MAX];
        size_t n = (size_t)(eq - *e) < sizeof name - 1 ? (size_t)(eq - *e) : sizeof name - 1;
        memcpy(name, *e, n);
        name[n] = '\0';
        set_slot(name, eq + 1, strlen(eq + 1)); /* full or out of memory: the shape rules remain */
    }
}

suga_status suga_secret_set(const char *slot, const char *value, size_t len)
{
    if (!slot || !*slot || (!value && len))
        return SUGA_E_INVALID_ARG;
    ensure_environment();
    return set_slot(slot, value, len);
}

suga_status suga_secret_add_request(const char *value, size_t len)
{
    if (!value && len)
        return SUGA_E_INVALID_ARG;
    if (!worth_remembering(value, len))
        return SUGA_OK;
    for (size_t i = 0; i < known.request_count; i++)
        if (known.request[i].len == len && !memcmp(known.request[i].value, value, len))
            return SUGA_OK;
    char *copy = copy_bytes(value, len);
    if (!copy)
        return SUGA_E_NOMEM;
    secret *s;
    if (known.request_count < SUGA_REQUEST_SECRETS) {
        s = &known.request[known.request_count++];
    } else { /* a request with this many secrets is odd; the newest matter most */
        s = &known.request[known.request_oldest];
        known.request_oldest = (known.request_oldest + 1) % SUGA_REQUEST_SECRETS;
        wipe(s);
    }
    s->value = copy;
    s->len = len;
    index_first_bytes();
    return SUGA_OK;
}

void suga_secret_end_request(void)
{
    if (!known.request_count)
        return;
    for (size_t i = 0; i < known.request_count; i++)
        wipe(&known.request[i]);
    known.request_count = known.request_oldest = 0;
    index_first_bytes();
}

void suga_secret_reset(void)
{
    suga_secret_end_request();
    for (size_t i = 0; i < known.process_count; i++)
        wipe(&known.process[i]);
    known.process_count = 0;
    known.environment_read = false;
    index_first_bytes();
}

size_t suga_secret_count(void)
{
    ensure_environment();
    return known.process_count + known.request_count;
}

/* ---- the output ---- */

typedef struct writer {
    char *data;
    size_t len, cap; /* cap counts the NUL */
    bool grow;       /* false: a fixed buffer, cut when full */
    bool full, failed;
} writer;

static void put(writer *w, const char *bytes, size_t n)
{
    if (w->full || w->failed || n == 0)
        return;
    if (w->len + n + 1 > w->cap) {
        if (!w->grow) {
            size_t room = w->cap - 1 - w->len;
            memcpy(w->data + w->len, bytes, room);
            w->len += room;
            w->full = true;
            return;
        }
        size_t cap = w->cap ? w->cap : 64;
        while (cap < w->len + n + 1)
            cap *= 2;
        char *grown = realloc(w->data, cap);
        if (!grown) {
            w->failed = true;
            return;
        }
        w->data = grown;
        w->cap = cap;
    }
    memcpy(w->data + w->len, bytes, n);
    w->len += n;
}

/* A cut may split a UTF-8 sequence: drop its lead and continuation bytes. */
static void end_on_character(writer *w)
{
    if (!w->full)
        return;
    size_t i = w->len, back = 0;
    while (i > 0 && back < 4 && ((unsigned char)w->data[i - 1] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    if (i > 0 && (unsigned char)w->data[i - 1] >= 0xC0) {
        unsigned char lead = (unsigned char)w->data[i - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if (back + 1 < need)
            w->len = i - 1;
    }
}

/* ---- the rules ---- */

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_base64url_char(unsigned char c)
{
    return is_alnum(c) || c == '-' || c == '_';
}

/* Characters of a bearer token (RFC 6750 b64token, with its '=' padding). */
static bool is_b64token_char(unsigned char c)
{
    return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
}

/* Whether c ends a value or URL part embedded in text: whitespace, quotes, angle brackets, a NUL,
 * or one of `also`. */
static bool ends_in_text(unsigned char c, const char *also)
{
    return c == '\0' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"' || c == '\'' || c == '<' ||
           c == '>' || strchr(also, c) != NULL;
}

/* The longest known secret starting at s[i], or, at the very end of the text, the start of one
 * (a message cut by its buffer may end in the middle of a secret). */
static size_t known_length(const unsigned char *s, size_t len, size_t i)
{
    if (!known.first_byte[s[i]])
        return 0;
    size_t best = 0, left = len - i;
    const secret *lists[2] = {known.process, known.request};
    size_t counts[2] = {known.process_count, known.request_count};
    for (size_t l = 0; l < 2; l++) {
        for (size_t k = 0; k < counts[l]; k++) {
            const secret *x = &lists[l][k];
            size_t n = x->len <= left ? x->len : left;
            if (n > best && (n == x->len || n >= PARTIAL_PREFIX_MIN) && !memcmp(s + i, x->value, n))
                best = n;
        }
    }
    return best;
}

/* Length of a JWT starting at s[i] ("eyJ" - the base64url of '{"' - then two more segments), or 0.
 * The first two segments must have some length, so "eyJ.a.b" in prose is not taken for one. */
static size_t jwt_length(const unsigned char *s, size_t len, size_t i)
{
    if (i > 0 && is_base64url_char(s[i - 1]))
        return 0;
    if (len - i < 3 || memcmp(s + i, "eyJ", 3) != 0)
        return 0;
    size_t p = i;
    for (int segment = 0; segment < 3; segment++) {
        size_t begin = p;
        while (p < len && is_base64url_char(s[p]))
            p++;
        if (segment < 2 && (p - begin < 4 || p >= len || s[p] != '.'))
            return 0;
        if (segment < 2)
            p++;
    }
    return p - i;
}

/* Length of the credential after "Bearer" at s[i] (the scheme word, then blanks), or 0; *skip is
 * where the credential starts. */
static size_t bearer_length(const unsigned char *s, size_t len, size_t i, size_t *skip)
{
    static const char word[] = "bearer";
    if ((i > 0 && is_alnum(s[i - 1])) || len - i < sizeof word)
        return 0;
    for (size_t k = 0; k < sizeof word - 1; k++)
        if (ascii_lower(s[i + k]) != (unsigned char)word[k])
            return 0;
    size_t p = i + sizeof word - 1;
    if (s[p] != ' ' && s[p] != '\t')
        return 0;
    while (p < len && (s[p] == ' ' || s[p] == '\t'))
        p++;
    size_t begin = p;
    while (p < len && is_b64token_char(s[p]))
        p++;
    *skip = begin;
    return p - begin;
}

/* Length of the value after a '=' at s[i] whose name (the run of name characters before it)
 * looks secret, as in "?access_token=abc&x=1" or "password=hunter2"; else 0. */
static size_t pair_length(const unsigned char *s, size_t len, size_t i)
{
    size_t name = i;
    while (name > 0 && (is_alnum(s[name - 1]) || s[name - 1] == '_' || s[name - 1] == '-'))
        name--;
    if (name == i || !suga_is_secret_name_n((const char *)s + name, i - name))
        return 0;
    size_t p = i + 1;
    while (p < len && !ends_in_text(s[p], "&;,)"))
        p++;
    return p - i - 1;
}

/* Length of the string value of a JSON member whose name looks secret, at the ':' s[i] of
 * `"name": "value"` (escapes inside the value included); *skip is where the value starts. */
static size_t member_length(const unsigned char *s, size_t len, size_t i, size_t *skip)
{
    size_t q = i;
    while (q > 0 && (s[q - 1] == ' ' || s[q - 1] == '\t'))
        q--;
    if (q < 2 || s[q - 1] != '"')
        return 0;
    size_t name_end = q - 1, name = name_end;
    while (name > 0 && s[name - 1] != '"' && name_end - name < 128)
        name--;
    if (name == 0 || s[name - 1] != '"' || !suga_is_secret_name_n((const char *)s + name, name_end - name))
        return 0;
    size_t p = i + 1;
    while (p < len && (s[p] == ' ' || s[p] == '\t'))
        p++;
    if (p >= len || s[p] != '"')
        return 0;
    size_t begin = ++p;
    while (p < len && s[p] != '"')
        p += s[p] == '\\' && p + 1 < len ? 2 : 1;
    *skip = begin;
    return p - begin;
}

/* The end of the URL whose "://" is at s[i]: the first character that ends it in text, less the
 * punctuation of the sentence around it ("GET https://h/p?q=1: refused"). */
static size_t url_end(const unsigned char *s, size_t len, size_t i)
{
    size_t p = i + 3;
    while (p < len && !ends_in_text(s[p], ""))
        p++;
    while (p > i + 3 && strchr(".,:;!)", s[p - 1]))
        p--;
    return p;
}

/* The userinfo of the URL whose "://" is at s[i] ("user:password@" before the host), or 0. In
 * data only the password is masked (the whole userinfo when it has no ':', as in
 * https://TOKEN@host); in messages the whole of it. *skip is where the masked part starts. */
static size_t userinfo_length(const unsigned char *s, size_t len, size_t i, size_t *skip, suga_mask_mode mode)
{
    size_t p = i + 3, at = 0;
    for (size_t q = p; q < len && !ends_in_text(s[q], "/?#"); q++)
        if (s[q] == '@')
            at = q;
    if (!at)
        return 0;
    const unsigned char *colon = mode == SUGA_MASK_DATA ? memchr(s + p, ':', at - p) : NULL;
    *skip = colon ? (size_t)(colon - s) + 1 : p;
    return at - *skip;
}

typedef struct scan {
    const unsigned char *s;
    size_t len;
    suga_mask_mode mode;
    size_t url_end; /* while i < url_end the scan is inside a URL (messages: its query is masked) */
} scan;

/* The secret starting at or after s[i] that a rule claims: its start (*skip) and length, or 0. */
static size_t claim(scan *sc, size_t i, size_t *skip)
{
    const unsigned char *s = sc->s;
    size_t len = sc->len, n;
    *skip = i;
    if ((n = known_length(s, len, i)) || (n = jwt_length(s, len, i)))
        return n;
    switch (s[i]) {
    case 'b':
    case 'B':
        return bearer_length(s, len, i, skip);
    case '=':
        *skip = i + 1;
        return pair_length(s, len, i);
    case ':':
        if (len - i >= 3 && s[i + 1] == '/' && s[i + 2] == '/') {
            sc->url_end = url_end(s, len, i);
            return userinfo_length(s, len, i, skip, sc->mode);
        }
        return member_length(s, len, i, skip);
    case '?':
    case '#':
        if (sc->mode == SUGA_MASK_MESSAGE && i < sc->url_end && i + 1 < sc->url_end) {
            *skip = i + 1;
            return sc->url_end - i - 1;
        }
        return 0;
    default:
        return 0;
    }
}

static size_t mask_into(const char *text, size_t len, suga_mask_mode mode, writer *w)
{
    ensure_environment();
    scan sc = {.s = (const unsigned char *)text, .len = len, .mode = mode};
    size_t found = 0, copied = 0; /* text[copied..i) is still to be copied */
    for (size_t i = 0; i < len;) {
        size_t skip, n = claim(&sc, i, &skip);
        if (!n) {
            i++;
            continue;
        }
        put(w, text + copied, skip - copied);
        put(w, SUGA_MASK, sizeof SUGA_MASK - 1);
        copied = i = skip + n;
        found++;
    }
    put(w, text + copied, len - copied);
    end_on_character(w);
    return found;
}

size_t suga_mask_text(const char *in, size_t len, char *out, size_t size, suga_mask_mode mode)
{
    if (!out || size == 0)
        return 0;
    writer w = {.data = out, .cap = size};
    size_t found = in ? mask_into(in, len, mode, &w) : 0;
    out[w.len] = '\0';
    return found;
}

suga_status suga_mask_string(const char *in, size_t len, suga_mask_mode mode, char **out, size_t *out_len,
                             size_t *count)
{
    if (!out || (!in && len))
        return SUGA_E_INVALID_ARG;
    writer w = {.grow = true};
    size_t found = mask_into(in ? in : "", len, mode, &w);
    put(&w, "", 0);
    if (!w.failed && !w.data && !(w.data = malloc(1)))
        w.failed = true;
    if (w.failed) {
        free(w.data);
        return SUGA_E_NOMEM;
    }
    w.data[w.len] = '\0';
    *out = w.data;
    if (out_len)
        *out_len = w.len;
    if (count)
        *count += found;
    return SUGA_OK;
}

/* ---- JSON ---- */

typedef struct json_mask {
    suga_mask_mode mode;
    size_t masked;
    bool too_deep;
} json_mask;

static json_t *mask_value(const json_t *in, json_mask *m, int depth);

static json_t *mask_object(const json_t *in, json_mask *m, int depth)
{
    json_t *out = json_object();
    if (!out)
        return NULL;
    const char *key;
    json_t *value;
    json_t *src = (json_t *)in; /* jansson's iteration macros take a non-const object */
    json_object_foreach(src, key, value) {
        json_t *copy;
        if (suga_is_secret_name(key)) {
            copy = json_string(SUGA_MASK);
            m->masked++;
        } else {
            copy = mask_value(value, m, depth + 1);
        }
        if (!copy || json_object_set_new(out, key, copy) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *mask_array(const json_t *in, json_mask *m, int depth)
{
    json_t *out = json_array();
    if (!out)
        return NULL;
    size_t i;
    json_t *value;
    json_t *src = (json_t *)in;
    json_array_foreach(src, i, value) {
        json_t *copy = mask_value(value, m, depth + 1);
        if (!copy || json_array_append_new(out, copy) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *mask_json_string(const json_t *in, json_mask *m)
{
    char *text = NULL;
    size_t len = 0, found = 0;
    if (suga_mask_string(json_string_value(in), json_string_length(in), m->mode, &text, &len, &found) != SUGA_OK)
        return NULL;
    json_t *out = found ? json_stringn(text, len) : json_deep_copy(in);
    free(text);
    m->masked += found;
    return out;
}

static json_t *mask_value(const json_t *in, json_mask *m, int depth)
{
    if (depth > MASK_MAX_DEPTH) {
        m->too_deep = true;
        return NULL;
    }
    if (!in)
        return json_null(); /* typed callers may pass NULL for JSON null */
    if (json_is_object(in))
        return mask_object(in, m, depth);
    if (json_is_array(in))
        return mask_array(in, m, depth);
    if (json_is_string(in))
        return mask_json_string(in, m);
    return json_deep_copy(in); /* numbers, booleans, null: a copy, sharing nothing with `in` */
}

suga_status suga_mask_json(const json_t *in, suga_mask_mode mode, json_t **out, size_t *count)
{
    if (!out)
        return SUGA_E_INVALID_ARG;
    ensure_environment();
    json_mask m = {.mode = mode};
    json_t *copy = mask_value(in, &m, 0);
    if (!copy)
        return m.too_deep ? SUGA_E_LIMIT : SUGA_E_NOMEM;
    *out = copy;
    if (count)
        *count += m.masked;
    return SUGA_OK;
}
