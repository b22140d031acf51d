/* suga_mask.h: the one masking function. Everything the process writes outside itself (log
 * records, error messages, Lambda error bodies, Alexa payloads and speech, diagnostics, the CLI)
 * passes through it, so a secret the process holds cannot leave by any of those ways.
 *
 * It replaces with "***":
 *   - every secret the process knows by value: environment variables whose names look secret
 *     (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, HOME_ASSISTANT_TOKEN ...; read on first use),
 *     values registered under a slot (suga_secret_set: settings from Parameter Store, config.set
 *     overrides) and the current request's own (suga_secret_add_request: an Alexa user's bearer
 *     token, an Authorization header being sent);
 *   - secrets by shape: the credential after "Bearer ", a JWT (eyJ... with three segments), the
 *     value of a name=value pair or a "name": "value" JSON member whose name looks secret, and
 *     a URL's userinfo (in messages the whole userinfo and the whole query; in data only the
 *     password and the secret-looking query values, see suga_mask_mode);
 *   - in JSON, the value of every member whose name looks secret, at any depth.
 *
 * A value is remembered as a secret only when it could not be ordinary text: at least
 * SUGA_SECRET_MIN_LEN bytes and not all digits (so no port, count or "true" is taken for one).
 * A shorter one is still caught by the name and shape rules. Everything here is
 * single-threaded, like the rest of the runtime.
 */
#ifndef SUGA_MASK_H
#define SUGA_MASK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "suga.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SUGA_MASK "***"
#define SUGA_SECRET_MIN_LEN 8  /* shorter values are not remembered (see above) */
#define SUGA_SECRET_SLOTS 64   /* process secrets: environment variables and registered slots */
#define SUGA_REQUEST_SECRETS 16 /* secrets of the current request; past this the oldest is dropped */

typedef enum suga_mask_mode {
    /* messages and logs: a URL loses its whole userinfo and its whole query (https:// then
     * ***@host/path?*** ) */
    SUGA_MASK_MESSAGE = 0,
    /* data (security.filter_sensitive): only the password of a userinfo (me:***@host) and the
     * values of secret-looking query parameters (?access_token=***&a=1) */
    SUGA_MASK_DATA,
} suga_mask_mode;

/* Whether a name (of a setting, a header, a JSON member, a query parameter) looks like it holds a
 * secret: it contains, ignoring case, token, secret, password, passwd, authorization, api_key,
 * apikey, api-key, access_key, credential, private_key, private-key, session, bearer, cookie or
 * passphrase. Substrings, so access_token, X-Api-Key and db_password_file are caught. */
bool suga_is_secret_name(const char *name);
bool suga_is_secret_name_n(const char *name, size_t len);

/* Remember `value` (len bytes) as a process secret under `slot` (e.g. "HOME_ASSISTANT_TOKEN" or
 * "parameter_store:/suga/HOME_ASSISTANT_TOKEN"), replacing the slot's earlier value; a NULL or
 * too-short value forgets the slot. SUGA_E_LIMIT when all SUGA_SECRET_SLOTS slots are taken,
 * SUGA_E_NOMEM when the copy fails. */
suga_status suga_secret_set(const char *slot, const char *value, size_t len);

/* Remember a secret of the current request until suga_secret_end_request (the engine calls it at
 * the end of each invocation). Too-short values are ignored (SUGA_OK). */
suga_status suga_secret_add_request(const char *value, size_t len);
void suga_secret_end_request(void);

/* The number of process and request secrets remembered now (diagnostics; never their values). */
size_t suga_secret_count(void);

/* Mask in[0..len) into out[size] (NUL-terminated; cut, on a UTF-8 boundary, when it does not fit).
 * Returns how many things were masked. `in` and `out` may not overlap. */
size_t suga_mask_text(const char *in, size_t len, char *out, size_t size, suga_mask_mode mode);

/* The same for text of any length: *out is malloc'd (NUL-terminated, *out_len bytes without the
 * NUL); *count (may be NULL) is increased by the number masked. SUGA_E_NOMEM. */
suga_status suga_mask_string(const char *in, size_t len, suga_mask_mode mode, char **out, size_t *out_len,
                             size_t *count);

/* A deep copy of `in` (NULL is JSON null) with secret-named members' values replaced by "***"
 * and every string masked as text; *count (may be NULL) is increased by the number masked.
 * SUGA_E_LIMIT when it nests deeper than 2,048 levels (jansson's own parsing limit),
 * SUGA_E_NOMEM. */
suga_status suga_mask_json(const json_t *in, suga_mask_mode mode, json_t **out, size_t *count);

#ifdef __cplusplus
}
#endif

#endif
