/* suga: run operations of this engine from the shell.
 *
 *   suga call cache.set '{"key": "k", "value": 1}'
 *
 * The call goes the way an external request does: name through the perfect hash, arguments
 * through the generated decoder and validators, then the handler. The result is printed as JSON
 * on stdout; on failure the error message goes to stderr and the exit status is 1.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suga.h"

static const char USAGE[] =
    "usage: suga [--pretty] call NAME [JSON | -]\n"
    "\n"
    "Runs one operation of this engine locally and prints its JSON result.\n"
    "\n"
    "  call NAME [JSON]   NAME is interface.operation (see `suga-inspect list`); JSON is an\n"
    "                     object of arguments (default {}); '-' reads it from standard input\n"
    "  -p, --pretty       indent the result\n"
    "  -h, --help         show this help\n"
    "\n"
    "Exit status: 0 on success, 1 when the operation failed (message on stderr), 2 on bad usage.\n";

static int fail(const char *fmt, const char *a, const char *b)
{
    fputs("suga: error: ", stderr);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 1;
}

int main(int argc, char **argv)
{
    static const struct option LONG[] = {
        {"pretty", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int flags = JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER;
    int c;
    while ((c = getopt_long(argc, argv, "+ph", LONG, NULL)) != -1) {
        switch (c) {
        case 'p':
            flags = JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER;
            break;
        case 'h':
            fputs(USAGE, stdout);
            return 0;
        default:
            fputs(USAGE, stderr);
            return 2;
        }
    }
    int rest = argc - optind;
    if (rest < 2 || rest > 3 || strcmp(argv[optind], "call")) {
        fputs(USAGE, stderr);
        return 2;
    }
    const char *name = argv[optind + 1];
    json_t *args = NULL;
    if (rest == 3) {
        json_error_t err;
        const char *text = argv[optind + 2];
        args = !strcmp(text, "-") ? json_loadf(stdin, 0, &err) : json_loads(text, 0, &err);
        if (!args) {
            char where[64];
            snprintf(where, sizeof where, "line %d, column %d", err.line, err.column);
            return fail("arguments are not valid JSON (%s): %s", where, err.text);
        }
    }
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *result = NULL;
    suga_status st = suga_call_json(&ctx, name, strlen(name), args, &result);
    json_decref(args);
    if (st != SUGA_OK) {
        fail("%s%s", ctx.error[0] ? ctx.error : suga_status_name(st), "");
        suga_table_release(&suga_main_table);
        return 1;
    }
    json_t *shown = result ? result : json_null();
    int rc = json_dumpf(shown, stdout, flags) == 0 ? 0 : 1;
    putchar('\n');
    json_decref(result);
    suga_table_release(&suga_main_table);
    return rc;
}
