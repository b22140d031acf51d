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
 * What is refused. The Runtime API is a local service, but what it sends is parsed as if it were
 * hostile, and nothing is ever cut short and then used:
 * - Lambda-Runtime-Aws-Request-Id goes into URL paths: an id that is over 127 bytes, not made of
 *   hex digits and '-', or sent twice refuses the whole invocation (suga_rapi_next fails with
 *   SUGA_E_IO; with no id to answer to, the caller can only give up).
 * - Lambda-Runtime-Deadline-Ms that is not a decimal number of at most 18 digits, a trace id over
 *   511 bytes, a function ARN over 255 bytes, or any of them sent twice, are dropped: the
 *   invocation runs without them (as when they are absent) and inv->dropped says what was left out,
 *   for a warning. They only inform; refusing the event for them would fail a request that can run.
 * - An event over SUGA_RAPI_MAX_PAYLOAD bytes: see suga_rapi_next.
 * - Bytes after a complete response (a second response glued on, or anything unsolicited that is
 *   waiting when the next request is about to be sent): the response in hand is kept, and the
 *   connection is closed, so the next request goes out on a fresh one; the Runtime API never
 *   speaks unasked, so such a stream is out of step and nothing more is read from it.
 *
 * Timeouts. Every wait on the socket (connecting, sending, receiving) is a ppoll with a limit:
 * - Connecting and sending any request: SUGA_RAPI_IO_TIMEOUT_MS for the whole exchange.
 * - The answer to a POST: the same limit (the whole POST, from connecting to the answer's last
 *   byte, takes at most SUGA_RAPI_IO_TIMEOUT_MS); then SUGA_E_IO, and the connection is dropped.
 * - The answer to GET /next: no limit (an idle function waits for its next event as long as
 *   Lambda likes), but a stop signal ends it (below).
 *
 * Shutdown: the caller blocks its stop signals (SIGTERM) and hands the mask to wait with to
 * suga_rapi_set_wait_mask. Every wait is then a ppoll under that mask, which unblocks the signals
 * atomically: a signal that arrived at any time (even just before the wait began, or while an
 * invocation ran) interrupts the next wait. A plain flag checked before a blocking recv would miss
 * one that lands between the check and the call. Any signal that interrupts a wait is taken as a
 * stop signal (the caller lets only those through to a handler). Then:
 * - the wait for an event (suga_rapi_next) ends at once with SUGA_E_STATE "interrupted";
 * - a POST in progress (its answer is what Lambda counts as the invocation's end) gets at most
 *   SUGA_RAPI_STOP_GRACE_MS more, and so does every later wait of the client; past that it gives up
 *   with SUGA_E_STATE. So once a stop signal is seen, the client returns within
 *   SUGA_RAPI_STOP_GRACE_MS whatever the Runtime API does, and the caller can save its state and
 *   exit.
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

/* The limit on connecting plus sending a request, and on a whole POST (its answer included). The
 * Runtime API answers on loopback in well under a millisecond; this only ends a peer that stopped
 * answering, with time to spare for a 6 MB body. */
#define SUGA_RAPI_IO_TIMEOUT_MS 10000

/* Once a stop signal has interrupted a wait, every wait of the client ends at most this long
 * after it: Lambda allows a runtime about 2 s between SIGTERM and SIGKILL at shutdown, and the
 * caller still has to save its state in what is left. */
#define SUGA_RAPI_STOP_GRACE_MS 1000

typedef struct suga_rapi {
    char host[256];
    char port[16];
    int fd;           /* -1 when not connected */
    char *body;       /* the last response's body, NUL-terminated (grows; owned here) */
    size_t body_len, body_cap;
    char *raw;        /* receive buffer */
    size_t raw_cap;
    bool has_wait_mask;
    sigset_t wait_mask; /* the signal mask while waiting (suga_rapi_set_wait_mask) */
    int io_timeout_ms;  /* SUGA_RAPI_IO_TIMEOUT_MS; tests may shorten it after suga_rapi_init */
    int64_t stop_by_ms; /* 0 until a stop signal interrupted a wait; then the monotonic time (ms,
                           CLOCK_MONOTONIC) by which every wait ends */
} suga_rapi;

/* One invocation as /next delivered it. Strings are NUL-terminated copies; `event` points into
 * the client's buffer and is valid until the next call on the client. */
typedef struct suga_rapi_invocation {
    char request_id[128];
    int64_t deadline_ms;       /* wall clock, ms since the epoch; 0 when the header was absent */
    char function_arn[256];
    char trace_id[512];
    const char *event;         /* NULL when the event was refused (SUGA_E_LIMIT) */
    size_t event_len;          /* the refused event's size when it was */
    char dropped[192];         /* headers left out and why ("" when none), e.g.
                                  "Lambda-Runtime-Trace-Id (over 511 bytes)" */
} suga_rapi_invocation;

/* Check `endpoint` ("host:port") and prepare the client; nothing is connected yet. */
suga_status suga_rapi_init(suga_rapi *c, const char *endpoint, suga_ctx *ctx);

/* Wait for events with `mask` as the signal mask (the caller's mask without its stop signals). */
suga_status suga_rapi_set_wait_mask(suga_rapi *c, const sigset_t *mask);

/* The next invocation. SUGA_OK: *inv holds it. SUGA_E_STATE: a stop signal ended the wait.
 * SUGA_E_LIMIT: the event was over SUGA_RAPI_MAX_PAYLOAD bytes; it was read to its end and
 * discarded (the connection stays in step and usable), inv->request_id (always a valid id then),
 * deadline, ARN and trace id are filled, inv->event is NULL and inv->event_len is the event's
 * size; the caller answers it with suga_rapi_error and goes on. An event over the limit without a
 * usable request id cannot be answered: it is SUGA_E_IO, like any other broken response. */
suga_status suga_rapi_next(suga_rapi *c, suga_rapi_invocation *inv, suga_ctx *ctx);
suga_status suga_rapi_respond(suga_rapi *c, const char *request_id, const char *body, size_t len, suga_ctx *ctx);

/* A function error for `request_id`, or, with request_id NULL, the init error. `error_type`
 * (e.g. "InvalidEvent") goes in the body's errorType and in Lambda-Runtime-Function-Error-Type;
 * `message` is the errorMessage. */
suga_status suga_rapi_error(suga_rapi *c, const char *request_id, const char *error_type, const char *message,
                            suga_ctx *ctx);

void suga_rapi_close(suga_rapi *c);

#endif
