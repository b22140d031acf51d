/* suga_parameter_store.h: AWS Systems Manager Parameter Store, read through the AWS Parameters
 * and Secrets Lambda Extension.
 *
 * The extension is a Lambda layer serving Parameter Store on 127.0.0.1:<port> inside the
 * execution environment: a GET authenticated with the function's own AWS_SESSION_TOKEN (header
 * X-Aws-Parameters-Secrets-Token) answers a parameter, decrypted, from the extension's cache or
 * from SSM. So suga needs no AWS SDK and no request signing, and the request goes out through
 * http_client.make_request like Home Assistant's: libcurl stays in its lazy module.
 *
 * AWS allows calls to the extension only in the INVOKE phase, not during INIT: callers fetch
 * from an invocation (suga_settings_refresh), never at start-up.
 */
#ifndef SUGA_PARAMETER_STORE_H
#define SUGA_PARAMETER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "suga.h"

#define SUGA_PARAMETER_STORE_PORT_VARIABLE "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"
#define SUGA_PARAMETER_STORE_DEFAULT_PORT 2773 /* the extension's own default */

/* Parameter `name` (a full name: "/suga/HOME_ASSISTANT_URL"), decrypted, through the extension on
 * 127.0.0.1:port. Found: *found is true, value[size] holds it and *version its version. Not set
 * in Parameter Store (404, or 400 ParameterNotFound): SUGA_OK, *found false, value "".
 * Errors name the parameter and never show the session token or the value:
 *   SUGA_E_STATE        AWS_SESSION_TOKEN is not set; the extension refused it (403); the value
 *                       is longer than size - 1 bytes or holds a NUL
 *   SUGA_E_UNAVAILABLE  the extension cannot be reached (no layer?) or answered another status
 *                       (SSM throttling, no ssm:GetParameter or kms:Decrypt permission...)
 *   SUGA_E_NOMEM, SUGA_E_INVALID_ARG (a NULL pointer, a name too long to send) */
suga_status suga_parameter_store_get(suga_ctx *ctx, int port, const char *name, char *value, size_t size,
                                     bool *found, int64_t *version);

/* `name` percent-encoded for a URL query: each byte that is not one of RFC 3986's unreserved
 * characters (A-Z a-z 0-9 - . _ ~) becomes %XX. SUGA_E_LIMIT when out[size] is too small (out
 * then holds ""), SUGA_E_INVALID_ARG for a NULL pointer. */
suga_status suga_parameter_store_encode(const char *name, char *out, size_t size);

#endif
