/* bootstrap: the engine as an AWS Lambda custom runtime (provided.al2023).
 *
 * Start-up: read the environment, start the engine (free-tier guard, metrics, log level) and
 * run the init hooks; a failure is posted to /runtime/init/error and the process exits, as
 * Lambda expects. Then, for ever: GET the next event, run the invocation_start hooks, run the
 * event (lambda/events.c), POST the response or the error, and end the invocation
 * (invocation_end hooks, guard count, one EMF metrics line, unload policies).
 *
 * Every invocation that fails without the engine's own log record (a deadline already passed,
 * an event a hook refused, an event that never became a request, an event over the payload limit) writes one warning
 * record with its request id, error type and message. An event over SUGA_RAPI_MAX_PAYLOAD is
 * refused with the function error Runtime.RequestTooLarge and the loop goes on; only a Runtime
 * API that is gone or breaks the protocol (an invocation without a usable request id, a broken
 * response) ends the process, with status 1, for Lambda to start a new sandbox.
 *
 * SIGTERM (sent at shutdown when extensions are present) ends the loop: the guard state is saved
 * and pending metrics are flushed before exiting with status 0. SIGTERM and SIGINT are blocked
 * except while the Runtime API client waits on its socket (runtime_api.h), so an invocation in
 * progress always finishes; a wait for the next event ends at once, and a POST whose answer does
 * not come gives up SUGA_RAPI_STOP_GRACE_MS (1 s) after the signal. From SIGTERM to exit is thus
 * under 2 s whatever the Runtime API does, unless a handler was still running when it came.
 *
 * The loop knows the Runtime API and event routing only; what the engine serves hooks into its
 * life through the spec's lifecycle (spec/lifecycle.yaml, suga_engine_run_hooks): the init hooks
 * run before the first event is asked for (a failure is the init error, with the hook's
 * error_type), the invocation_start hooks before each event (a failure refuses the event, which
 * still gets an answer in its own shape: an Alexa event its route's on_error answer, an HTTP
 * event the status's code, a direct request the function error error_type), the
 * invocation_end hooks after each answer. This deployment's hooks check the settings and the
 * lazy modules at start-up and refresh the settings from Parameter Store before each event
 * (AWS allows calls to the Parameters and Secrets extension only in the INVOKE phase).
 *
 * Nothing on this path loads libcurl or libcrypto: they live in lazy modules (the first
 * Parameter Store fetch loads http_client, in the first invocation).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "runtime_api.h"
#include "suga_clock.h"
#include "suga_log.h"
#include "suga_table.h" /* a failed hook's operation name */

static const char USAGE[] =
    "usage: bootstrap\n"
    "\n"
    "The suga engine as an AWS Lambda custom runtime: it serves invocations from the Lambda\n"
    "Runtime API at $AWS_LAMBDA_RUNTIME_API until it is stopped (SIGTERM flushes metrics).\n"
    "Events: {\"op\"|\"fusion\"|\"batch\": ...} requests, Alexa directives and HTTP events\n"
    "(Function URL / API Gateway), routed by the spec's routes (suga-inspect routes).\n"
    "\n"
    "Environment: AWS_LAMBDA_RUNTIME_API (required), AWS_LAMBDA_FUNCTION_MEMORY_SIZE, LOG_LEVEL,\n"
    "SUGA_MODULE_DIR (lazy modules; default: this program's directory), SUGA_GUARD_STATE_FILE,\n"
    "SUGA_METRICS_NAMESPACE. The operations read their own settings (Home Assistant, Parameter\n"
    "Store: config.settings); the lifecycle hooks that check them at start-up and before each\n"
    "event are listed by `suga-inspect hooks`.\n"
    "See docs/deploy.md.\n";

static volatile sig_atomic_t stop_requested;

static void on_sigterm(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Report a start-up failure to Lambda (and to the log), then give up. */
static int init_failed(suga_rapi *api, const char *type, const char *message)
{
    suga_log_write(NULL, SUGA_LOG_ERROR, message, NULL, NULL);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    if (suga_rapi_error(api, NULL, type, message, &ctx) != SUGA_OK)
        fprintf(stderr, "bootstrap: cannot report the init error: %s\n", ctx.error);
    suga_rapi_close(api);
    return 1;
}

/* _X_AMZN_TRACE_ID for this invocation (X-Ray: SDKs and logs read it from the environment).
 * Not with setenv: glibc never frees a replaced value (a pointer from getenv must stay valid),
 * which grew the process by ~150 bytes an invocation. putenv of one buffer of our own, rewritten
 * in place, allocates nothing; with no trace id the value is empty, which readers treat as unset. */
static void set_trace_id(const char *trace_id)
{
    static char entry[sizeof "_X_AMZN_TRACE_ID=" + sizeof ((suga_rapi_invocation *)0)->trace_id];
    static bool installed;
    snprintf(entry, sizeof entry, "_X_AMZN_TRACE_ID=%s", trace_id);
    if (!installed)
        installed = putenv(entry) == 0;
}

/* The errorType a failed lifecycle hook is reported with: the spec's, else its status's own. */
static const char *hook_error_type(const suga_hook *hook, suga_status status)
{
    return hook && hook->error_type ? hook->error_type : suga_lambda_error_type(status);
}

/* One warning record for a function error that no other record tells of. */
static void log_function_error(const suga_ctx *ctx, const char *error_type, const char *message)
{
    json_t *fields = json_pack("{s:s}", "error_type", error_type);
    suga_log_write(ctx, SUGA_LOG_WARNING, message, fields, NULL);
    json_decref(fields);
}

/* One invocation: the event through the engine, the reply to the Runtime API. */
static suga_status serve(suga_rapi *api, suga_engine *engine, const suga_rapi_invocation *inv, suga_ctx *api_ctx)
{
    set_trace_id(inv->trace_id);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    ctx.request_id = inv->request_id;
    ctx.deadline_ms = inv->deadline_ms;
    suga_lambda_reply reply = {0};
    suga_status st;
    /* whether a log record tells of this invocation already: the engine writes its own ("request",
     * "request failed") for every request it runs (counted in engine->requests); any other
     * function error (a deadline already passed, an event refused by a hook, an event that never
     * became a request) gets one warning here, so that none goes unlogged */
    bool logged = false;
    uint64_t requests_before = engine->requests;
    const suga_hook *failed_hook;
    suga_status refused;
    if (inv->deadline_ms && suga_clock_wall_ms() >= inv->deadline_ms) { /* Lambda is about to stop us anyway */
        suga_fail(&ctx, SUGA_E_STATE, "the invocation's deadline passed before it could start");
        reply.is_error = true;
        snprintf(reply.error_type, sizeof reply.error_type, "DeadlineExceeded");
        st = SUGA_OK;
    } else if ((refused = suga_engine_run_hooks(engine, SUGA_HOOK_INVOCATION_START, &ctx, &failed_hook)) != SUGA_OK) {
        /* a hook says the event cannot run (e.g. the settings are not the deployment's yet), but
         * it still gets an answer in its own shape (Alexa: on_error; HTTP: the status's code) */
        const suga_lambda_refusal refusal = {.status = refused, .error_type = hook_error_type(failed_hook, refused)};
        char why[SUGA_ERROR_MAX]; /* handling the event may overwrite ctx->error */
        snprintf(why, sizeof why, "%s", ctx.error);
        st = suga_lambda_handle(engine, &ctx, inv->event, inv->event_len, &refusal, &reply);
        /* an error, not a warning: until the hook succeeds the deployment serves nothing */
        json_t *fields = json_pack("{s:s, s:s?}", "error_type", refusal.error_type, "hook",
                                   failed_hook ? engine->table->ops[failed_hook->op].name : NULL);
        suga_log_write(&ctx, SUGA_LOG_ERROR, why, fields, NULL);
        json_decref(fields);
        logged = true;
    } else {
        st = suga_lambda_handle(engine, &ctx, inv->event, inv->event_len, NULL, &reply);
        logged = engine->requests != requests_before;
    }
    if (st != SUGA_OK) { /* not even an error reply could be built */
        reply.is_error = true;
        snprintf(reply.error_type, sizeof reply.error_type, "%s", suga_lambda_error_type(st));
    }
    if (reply.is_error && !logged)
        log_function_error(&ctx, reply.error_type, ctx.error);
    if (reply.is_error)
        st = suga_rapi_error(api, inv->request_id, reply.error_type, ctx.error, api_ctx);
    else
        st = suga_rapi_respond(api, inv->request_id, reply.body, reply.body_len, api_ctx);
    suga_lambda_reply_free(&reply);
    return st;
}

/* An event over SUGA_RAPI_MAX_PAYLOAD: the client read it to its end and discarded it
 * (runtime_api.h), so the invocation fails with Runtime.RequestTooLarge for its own request id,
 * and the runtime serves the next one instead of exiting. */
static void refuse_oversized_event(suga_rapi *api, const suga_rapi_invocation *inv, suga_ctx *api_ctx)
{
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    ctx.request_id = inv->request_id;
    char message[SUGA_ERROR_MAX];
    snprintf(message, sizeof message, "%s", api_ctx->error); /* names the size and the limit */
    log_function_error(&ctx, "Runtime.RequestTooLarge", message);
    suga_ctx_init(api_ctx);
    if (suga_rapi_error(api, inv->request_id, "Runtime.RequestTooLarge", message, api_ctx) != SUGA_OK)
        suga_log_write(&ctx, SUGA_LOG_ERROR, api_ctx->error, NULL, NULL);
}

/* Invocation headers the client left out (runtime_api.h): the invocation runs without them. */
static void warn_dropped_headers(const suga_rapi_invocation *inv)
{
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    ctx.request_id = inv->request_id;
    char message[sizeof inv->dropped + 64];
    snprintf(message, sizeof message, "unusable invocation headers from the Runtime API, left out: %s", inv->dropped);
    suga_log_write(&ctx, SUGA_LOG_WARNING, message, NULL, NULL);
}

/* Every invocation ends here, answered or refused: the guard's count, the EMF line, unloads. */
static void end_invocation(suga_engine *engine, double t0)
{
    suga_ctx end;
    suga_ctx_init(&end);
    if (suga_engine_end_invocation(engine, suga_clock_elapsed_ms() - t0, &end) != SUGA_OK)
        suga_log_write(NULL, SUGA_LOG_WARNING, end.error, NULL, NULL);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        bool help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
        fputs(USAGE, help ? stdout : stderr);
        return help ? 0 : 2;
    }
    double started = suga_clock_elapsed_ms();
    /* SIGTERM and SIGINT stay blocked except while the Runtime API client waits on its socket
     * (runtime_api.h): an invocation in progress always finishes, and a stop is never missed */
    struct sigaction sa = {.sa_handler = on_sigterm};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigset_t stop_signals, wait_mask;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigprocmask(SIG_BLOCK, &stop_signals, &wait_mask);
    sigdelset(&wait_mask, SIGTERM);
    sigdelset(&wait_mask, SIGINT);

    suga_rapi api;
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    if (suga_rapi_init(&api, getenv("AWS_LAMBDA_RUNTIME_API"), &ctx) != SUGA_OK) {
        fprintf(stderr, "bootstrap: %s\n", ctx.error); /* no Runtime API to report to */
        return 2;
    }
    suga_rapi_set_wait_mask(&api, &wait_mask);
    static suga_engine engine; /* static: the handlers keep a pointer to it (suga_engine_current) */
    if (suga_engine_init(&engine, &suga_main_table, NULL, &ctx) != SUGA_OK)
        return init_failed(&api, "Runtime.InvalidConfiguration", ctx.error);
    const suga_hook *failed_hook; /* checked now: a bad setting or a missing module fails the init, not a request */
    suga_status started_ok = suga_engine_run_hooks(&engine, SUGA_HOOK_INIT, &ctx, &failed_hook);
    if (started_ok != SUGA_OK)
        return init_failed(&api, hook_error_type(failed_hook, started_ok), ctx.error);
    /* the Init phase as AWS bills it runs from the process's start to its first request for an
     * event; this counts from main(), missing only exec and dynamic loading (~2-3 ms) */
    engine.init.duration_ms = suga_clock_elapsed_ms() - started;

    int rc = 0;
    while (!stop_requested) {
        suga_rapi_invocation inv;
        suga_ctx api_ctx;
        suga_ctx_init(&api_ctx);
        suga_status st = suga_rapi_next(&api, &inv, &api_ctx);
        if (st == SUGA_E_STATE && stop_requested)
            break;
        double t0 = suga_clock_elapsed_ms();
        if (st == SUGA_E_LIMIT && inv.request_id[0]) { /* read and dropped by the client: refused, and on */
            refuse_oversized_event(&api, &inv, &api_ctx);
            end_invocation(&engine, t0);
            continue;
        }
        if (st != SUGA_OK) { /* the Runtime API is gone or broken: Lambda restarts the sandbox */
            suga_log_write(NULL, SUGA_LOG_ERROR, api_ctx.error, NULL, NULL);
            rc = 1;
            break;
        }
        if (inv.dropped[0])
            warn_dropped_headers(&inv);
        if (serve(&api, &engine, &inv, &api_ctx) != SUGA_OK)
            suga_log_write(NULL, SUGA_LOG_ERROR, api_ctx.error, NULL, NULL);
        end_invocation(&engine, t0);
    }
    suga_ctx end;
    suga_ctx_init(&end);
    if (suga_engine_shutdown(&engine, &end) != SUGA_OK)
        suga_log_write(NULL, SUGA_LOG_WARNING, end.error, NULL, NULL);
    suga_rapi_close(&api);
    suga_table_release(&suga_main_table);
    return rc;
}
