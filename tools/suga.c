/* suga: run operations, fusions and batches of this engine from the shell.
 *
 *   suga call cache.set '{"key": "k", "value": 1}'
 *   suga run '{"fusion": "cache_put_get", "args": {"key": "k", "value": 1}}' '{"op": "cache.get", ...}'
 *
 * `call` goes the way one operation call does: name through the perfect hash, arguments through
 * the generated decoder and validators, then the handler. `run` goes the way a Lambda event
 * does: each REQUEST is one invocation through the engine (guard, metrics, log record, then
 * suga_engine_end_invocation, which applies the unload policies), so policies can be watched
 * working; --live prints the modules' state after each invocation.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suga.h"
#include "suga_clock.h"
#include "suga_engine.h"
#include "suga_mask.h"

static const char USAGE[] =
    "usage: suga [OPTIONS] call NAME [JSON | -]\n"
    "       suga [OPTIONS] run REQUEST... | -\n"
    "\n"
    "Runs operations of this engine locally and prints their JSON results on stdout.\n"
    "\n"
    "  call NAME [JSON]   one operation: NAME is interface.operation (see `suga-inspect list`), JSON\n"
    "                     an object of arguments (default {}); '-' reads it from standard input\n"
    "  run REQUEST...     each REQUEST is one invocation through the engine, as a Lambda event is:\n"
    "                       {\"op\": NAME, \"args\": {...}}\n"
    "                       {\"fusion\": NAME, \"args\": {...}}       (see `suga-inspect fusions`)\n"
    "                       {\"batch\": [{\"op\"|\"fusion\": ..., \"args\": ...}, ...], \"stop_on_error\": false}\n"
    "                     one result line per request; '-' reads one request per line from stdin\n"
    "  -p, --pretty       indent the results\n"
    "  -l, --live         run: after each invocation also print the lazy modules' live state\n"
    "                     (loaded, loads, unloads, calls in flight, cache hits without a load)\n"
    "  -m, --metrics      run: write the CloudWatch EMF metric lines to stderr (default: dropped)\n"
    "  -h, --help         show this help\n"
    "\n"
    "run writes one JSON log record per request on stderr (LOG_LEVEL=error silences them).\n"
    "Exit status: 0 when every call or request succeeded, 1 when one failed (message on stderr),\n"
    "2 on bad usage.\n";

typedef struct options {
    int json_flags;
    bool live, metrics;
} options;

/* What the CLI prints leaves the process like a log line does: through the masking function
 * (messages in its message mode; results in its data mode, which keeps URLs' harmless query
 * parameters), so a terminal or a CI log never shows a token the process knows. */
static void print_error(const char *what, const char *message)
{
    char masked[SUGA_ERROR_MAX + 128];
    suga_mask_text(message, strlen(message), masked, sizeof masked, SUGA_MASK_MESSAGE);
    fprintf(stderr, "suga: error: %s%s\n", what, masked);
}

static int print_json(const options *o, json_t *value)
{
    json_t *masked = NULL;
    if (suga_mask_json(value, SUGA_MASK_DATA, &masked, NULL) != SUGA_OK) {
        print_error("", "out of memory masking the result");
        return 1;
    }
    int rc = json_dumpf(masked, stdout, o->json_flags) == 0 ? 0 : 1;
    json_decref(masked);
    putchar('\n');
    fflush(stdout);
    return rc;
}

static json_t *parse_json(const char *text, FILE *in, const char *what)
{
    json_error_t err;
    json_t *v = in ? json_loadf(in, 0, &err) : json_loads(text, 0, &err);
    if (!v) {
        char message[SUGA_ERROR_MAX];
        snprintf(message, sizeof message, "%s not valid JSON (line %d, column %d): %s", what, err.line, err.column,
                 err.text);
        print_error("", message);
    }
    return v;
}

static int cmd_call(const options *o, int argc, char **argv)
{
    if (argc < 1 || argc > 2) {
        fputs(USAGE, stderr);
        return 2;
    }
    const char *name = argv[0];
    json_t *args = NULL;
    if (argc == 2 && !(args = !strcmp(argv[1], "-") ? parse_json(NULL, stdin, "arguments are")
                                                     : parse_json(argv[1], NULL, "arguments are")))
        return 1;
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *result = NULL;
    suga_status st = suga_call_json(&ctx, name, strlen(name), args, &result);
    json_decref(args);
    if (st != SUGA_OK) {
        print_error("", ctx.error[0] ? ctx.error : suga_status_name(st));
        return 1;
    }
    int rc = print_json(o, result);
    json_decref(result);
    return rc;
}

/* --live: the lazy modules' state (eager ones are linked in: always loaded, nothing to watch) */
static void print_lazy_modules(const options *o, const suga_table *table)
{
    json_t *modules = NULL, *lazy = json_array();
    if (lazy && suga_describe_modules_live(table, &modules) == SUGA_OK) {
        size_t i;
        json_t *m;
        json_array_foreach(modules, i, m) {
            if (table->modules[i].load == SUGA_LOAD_LAZY)
                json_array_append(lazy, m);
        }
        json_t *live = json_pack("{s:O}", "lazy_modules", lazy);
        if (live)
            print_json(o, live);
        json_decref(live);
    }
    json_decref(modules);
    json_decref(lazy);
}

/* One invocation: the request, its result line, the end-of-invocation policies, --live. */
static int run_one(const options *o, suga_engine *engine, const char *text, unsigned index)
{
    char what[48];
    snprintf(what, sizeof what, "request %u is", index);
    double t0 = suga_clock_elapsed_ms();
    json_t *request = parse_json(text, NULL, what);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *result = NULL;
    suga_status st = SUGA_E_INVALID_ARG;
    if (request) {
        st = suga_engine_request(engine, &ctx, request, &result);
        json_decref(request);
    }
    int rc = 0;
    if (st == SUGA_OK) {
        rc = print_json(o, result);
    } else {
        if (request) {
            char prefix[48];
            snprintf(prefix, sizeof prefix, "request %u: ", index);
            char message[SUGA_ERROR_MAX + 64];
            snprintf(message, sizeof message, "%s (%s, HTTP %d)", ctx.error, suga_status_name(st), suga_status_http(st));
            print_error(prefix, message);
        }
        rc = 1;
    }
    json_decref(result);
    suga_ctx end;
    suga_ctx_init(&end);
    if (suga_engine_end_invocation(engine, suga_clock_elapsed_ms() - t0, &end) != SUGA_OK)
        print_error("end of invocation: ", end.error);
    if (o->live)
        print_lazy_modules(o, engine->table);
    return rc;
}

static int cmd_run(const options *o, int argc, char **argv)
{
    if (argc < 1) {
        fputs(USAGE, stderr);
        return 2;
    }
    FILE *devnull = o->metrics ? NULL : fopen("/dev/null", "w");
    suga_engine_config config = {.metrics_out = o->metrics ? stderr : devnull};
    suga_engine engine;
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    if ((!o->metrics && !devnull) || suga_engine_init(&engine, &suga_main_table, &config, &ctx) != SUGA_OK) {
        print_error("cannot start the engine: ", ctx.error[0] ? ctx.error : "cannot open /dev/null");
        if (devnull)
            fclose(devnull);
        return 1;
    }
    int rc = 0;
    unsigned index = 0;
    if (argc == 1 && !strcmp(argv[0], "-")) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, stdin)) > 0) {
            if (strspn(line, " \t\r\n") == (size_t)n) /* blank lines separate nothing */
                continue;
            rc |= run_one(o, &engine, line, ++index);
        }
        free(line);
    } else {
        for (int i = 0; i < argc; i++)
            rc |= run_one(o, &engine, argv[i], ++index);
    }
    if (suga_engine_shutdown(&engine, &ctx) != SUGA_OK)
        print_error("shutting the engine down: ", ctx.error);
    if (devnull)
        fclose(devnull);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option LONG[] = {
        {"pretty", no_argument, NULL, 'p'},
        {"live", no_argument, NULL, 'l'},
        {"metrics", no_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    options o = {.json_flags = JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER};
    int c;
    while ((c = getopt_long(argc, argv, "+plmh", LONG, NULL)) != -1) {
        switch (c) {
        case 'p':
            o.json_flags = JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER;
            break;
        case 'l':
            o.live = true;
            break;
        case 'm':
            o.metrics = true;
            break;
        case 'h':
            fputs(USAGE, stdout);
            return 0;
        default:
            fputs(USAGE, stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fputs(USAGE, stderr);
        return 2;
    }
    const char *command = argv[optind];
    int rc;
    if (!strcmp(command, "call")) {
        rc = cmd_call(&o, argc - optind - 1, argv + optind + 1);
    } else if (!strcmp(command, "run")) {
        rc = cmd_run(&o, argc - optind - 1, argv + optind + 1);
    } else {
        fprintf(stderr, "suga: error: unknown command '%s' (call or run)\n", command);
        fputs(USAGE, stderr);
        return 2;
    }
    suga_table_release(&suga_main_table);
    return rc;
}
