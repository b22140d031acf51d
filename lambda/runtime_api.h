/* runtime_api.h: a client of the AWS Lambda Runtime API (the custom-runtime protocol), small
 * enough to keep libcurl off the bootstrap's start-up path.
 *
 * One HTTP/1.1 connection to $AWS_LAMBDA_RUNTIME_API (host:port, plain HTTP on loopback), kept
 * alive across invocations and reopened once when the other side closed it. Responses are parsed
 * with libhttp-parser. The endpoints:
 *
 *   GET  /2018-06-01/runtime/invocation/next            the next event (waits without timeout)
 *   POST /2018-06-01/runtime/invocation/{id}/response   the function's result
 *   POST /2018-06-01/runtime/invocation/{id}/error      a function error
 *   POST /2018-06-01/runtime/init/error                 start-up failed
 *
 * Every function returns a suga_status with the reason in ctx->error.
 *
 * Shutdown: the caller blocks its stop signals (SIGTERM) and hands the mask to wait with to
 * suga_rapi_set_wait_mask. suga_rapi_next then waits for the event with ppoll under that mask,
 * which unblocks the signals atomically: a signal that arrived at any time (even just before the
 * wait began, or while an invocation ran) ends the wait with SUGA_E_STATE "interrupted", so the
 * caller can flush and exit. A plain flag checked before a blocking recv would miss one that
 * lands between the check and the call.
 */
#ifndef SUGA_RUNTIME_API_H
#define SUGA_RUNTIME_API_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "suga.h"

/* Lambda's limit on a synchronous invocation's response payload (and on the event). */
#define SUGA_RAPI_MAX_PAYLOAD 6291556

typedef struct suga_rapi {
    char host[256];
    char port[16];
    int fd;           /* -1 when not connected */
    char *body;       /* the last response's body, NUL-terminated (grows; owned here) */
    size_t body_len, body_cap;
    char *raw;        /* receive buffer */
    size_t raw_cap;
    bool has_wait_mask;
    sigset_t wait_mask; /* the signal mask while waiting for an event (suga_rapi_set_wait_mask) */
} suga_rapi;

/* One invocation as /next delivered it. Strings are NUL-terminated copies; `event` points into
 * the client's buffer and is valid until the next call on the client. */
typedef struct suga_rapi_invocation {
    char request_id[128];
    int64_t deadline_ms;       /* wall clock, ms since the epoch; 0 when the header was absent */
    char function_arn[256];
    char trace_id[512];
    const char *event;
    size_t event_len;
} suga_rapi_invocation;

/* Check `endpoint` ("host:port") and prepare the client; nothing is connected yet. */
suga_status suga_rapi_init(suga_rapi *c, const char *endpoint, suga_ctx *ctx);

/* Wait for events with `mask` as the signal mask (the caller's mask without its stop signals). */
suga_status suga_rapi_set_wait_mask(suga_rapi *c, const sigset_t *mask);

suga_status suga_rapi_next(suga_rapi *c, suga_rapi_invocation *inv, suga_ctx *ctx);
suga_status suga_rapi_respond(suga_rapi *c, const char *request_id, const char *body, size_t len, suga_ctx *ctx);

/* A function error for `request_id`, or, with request_id NULL, the init error. `error_type`
 * (e.g. "InvalidEvent") goes in the body's errorType and in Lambda-Runtime-Function-Error-Type;
 * `message` is the errorMessage. */
suga_status suga_rapi_error(suga_rapi *c, const char *request_id, const char *error_type, const char *message,
                            suga_ctx *ctx);

void suga_rapi_close(suga_rapi *c);

#endif
