/* events.h: one Lambda event in, one reply out.
 *
 * The event's shape says what it is, and the spec's routing table (spec/routes.yaml, compiled
 * into the table's http_routes, alexa_routes and skill_routes) says which operation serves it:
 *
 *   {"op" | "fusion" | "batch": ...}           a direct engine request, run as it is
 *   {"directive": {"header": {"namespace", "name", ...}, ...}}
 *                                              an Alexa Smart Home directive: routes.alexa
 *                                              picks the operation, which gets {"directive": ...}
 *   {"version", "session"?, "context"?, "request": {"type", "requestId", ...}}
 *                                              an Alexa custom skill request: routes.alexa_skill
 *                                              picks the operation by request.type, which gets
 *                                              {"event": ...} (the whole request)
 *   {"requestContext": ..., "rawPath" | "path", ...}
 *                                              a Function URL / API Gateway HTTP event:
 *                                              routes.http picks the operation by method and
 *                                              path; the reply is an HTTP response object
 *
 * A direct request that fails becomes a Lambda function error (errorType from the status,
 * errorMessage from the engine). An Alexa directive or custom skill request never does while its
 * route has an on_error operation (spec: routes): whatever stops it (the guard, a refusal, the
 * operation failing, an answer over Lambda's limit) is answered by that operation with an Alexa
 * ErrorResponse or a spoken answer. An HTTP event always gets an HTTP response, with the status
 * code suga_status_http gives (405 with Allow for a path that exists under another method).
 * What is not even JSON, or has none of these shapes, is an InvalidEvent function error.
 */
#ifndef SUGA_LAMBDA_EVENTS_H
#define SUGA_LAMBDA_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "suga_engine.h"

typedef struct suga_lambda_reply {
    bool is_error;        /* post to /error with error_type and ctx->error, not to /response */
    char error_type[64];  /* "InvalidEvent", "NotFound", ... (Lambda's errorType) */
    char *body;           /* the response payload (malloc'd JSON text) when !is_error */
    size_t body_len;
} suga_lambda_reply;

/* Why an event must not be run (the bootstrap could not load the deployment's settings): it is
 * answered in its own shape from `status` and ctx->error (the message): an Alexa event through its
 * route's on_error, an HTTP event with the status's code, anything else as the function error
 * `error_type`. */
typedef struct suga_lambda_refusal {
    suga_status status;
    const char *error_type;
} suga_lambda_refusal;

/* Handle one event (`len` bytes of JSON); refusal NULL runs it. Fails only when not even an error
 * reply can be built (out of memory); everything else, malformed events included, is a reply. */
suga_status suga_lambda_handle(suga_engine *engine, suga_ctx *ctx, const char *event, size_t len,
                               const suga_lambda_refusal *refusal, suga_lambda_reply *reply);

void suga_lambda_reply_free(suga_lambda_reply *reply);

/* The Lambda errorType for a status: "InvalidArgument", "NotFound", "BudgetExhausted" ...: the
 * runtime's status table (suga_status_lambda_error_type), under the name the bootstrap knows. */
const char *suga_lambda_error_type(suga_status status);

#endif
