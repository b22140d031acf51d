/* parameter_store.c: Parameter Store reads through the Parameters and Secrets Lambda Extension
 * (suga_parameter_store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/suga_parameter_store.h"
#include "suga_ops.h"
#include "utility/suga_utility.h"

#define GET_PATH "/systemsmanager/parameters/get"
#define TOKEN_HEADER "X-Aws-Parameters-Secrets-Token"
/* The extension answers from its cache or after one SSM call: 2 s is plenty, and http_client
 * clips it to the invocation's deadline anyway. */
#define TIMEOUT_MS 2000
/* An advanced parameter holds at most 8 KB; the rest of the answer is a few hundred bytes. */
#define MAX_RESPONSE_BYTES 65536
#define NAME_MAX_BYTES 1024 /* longer than any name the settings ask for */

suga_status suga_parameter_store_encode(const char *name, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!name || !out || !size)
        return SUGA_E_INVALID_ARG;
    size_t used = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                     *p == '.' || *p == '_' || *p == '~';
        if (used + (plain ? 1 : 3) >= size) {
            out[0] = '\0';
            return SUGA_E_LIMIT;
        }
        if (plain) {
            out[used++] = (char)*p;
        } else {
            out[used++] = '%';
            out[used++] = hex[*p >> 4];
            out[used++] = hex[*p & 15];
        }
    }
    out[used] = '\0';
    return SUGA_OK;
}

/* What an error answer says, for a message: SSM's "__type: message", or the extension's text. */
static void answer_detail(json_t *body, char *out, size_t size)
{
    const char *type = json_string_value(json_object_get(body, "__type"));
    const char *text = json_is_string(body) ? json_string_value(body)
                                            : json_string_value(json_object_get(body, "message"));
    char quoted[160] = "";
    if (text)
        suga_util_quote(text, strlen(text), 120, quoted, sizeof quoted);
    snprintf(out, size, "%s%s%s%s", type || text ? ": " : "", type ? type : "", type && text ? " " : "", quoted);
}

/* The extension's answer to the GET of `name`. */
static suga_status read_answer(suga_ctx *ctx, const char *name, int status, json_t *body, char *value, size_t size,
                               bool *found, int64_t *version)
{
    const char *type = json_string_value(json_object_get(body, "__type"));
    if (status == 404 || (status == 400 && type && !strcmp(type, "ParameterNotFound")))
        return SUGA_OK; /* *found stays false */
    if (status == 403)
        return suga_fail(ctx, SUGA_E_STATE, "Parameter Store: the Parameters and Secrets extension refused the session "
                                            "token (403) reading %s: AWS_SESSION_TOKEN must be the function's own",
                         name);
    if (status != 200) {
        char detail[200];
        answer_detail(body, detail, sizeof detail);
        return suga_fail(ctx, SUGA_E_UNAVAILABLE, "Parameter Store: the Parameters and Secrets extension answered %d "
                                                  "reading %s%s",
                         status, name, detail);
    }
    json_t *parameter = json_object_get(body, "Parameter");
    json_t *text = json_object_get(parameter, "Value");
    if (!json_is_string(text))
        return suga_fail(ctx, SUGA_E_UNAVAILABLE, "Parameter Store: the extension's answer for %s has no "
                                                  "Parameter.Value string",
                         name);
    size_t len = json_string_length(text);
    if (len >= size)
        return suga_fail(ctx, SUGA_E_STATE, "Parameter Store parameter %s is longer than %zu bytes", name, size - 1);
    if (strlen(json_string_value(text)) != len)
        return suga_fail(ctx, SUGA_E_STATE, "Parameter Store parameter %s contains a NUL character", name);
    memcpy(value, json_string_value(text), len + 1);
    *version = json_integer_value(json_object_get(parameter, "Version")); /* 0 if absent: diagnostics only */
    *found = true;
    return SUGA_OK;
}

suga_status suga_parameter_store_get(suga_ctx *ctx, int port, const char *name, char *value, size_t size,
                                     bool *found, int64_t *version)
{
    if (!name || !value || !size || !found || !version)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_parameter_store_get: a name and outputs are needed");
    value[0] = '\0';
    *found = false;
    *version = 0;
    const char *token = getenv("AWS_SESSION_TOKEN");
    if (!token || !token[0])
        return suga_fail(ctx, SUGA_E_STATE, "Parameter Store: cannot read %s: AWS_SESSION_TOKEN is not set (Lambda "
                                            "sets it; the Parameters and Secrets extension wants it in %s)",
                         name, TOKEN_HEADER);
    char encoded[3 * NAME_MAX_BYTES + 1], url[sizeof encoded + 128];
    if (suga_parameter_store_encode(name, encoded, sizeof encoded) != SUGA_OK)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "Parameter Store: the name %.64s... is longer than %d bytes", name,
                         NAME_MAX_BYTES);
    snprintf(url, sizeof url, "http://127.0.0.1:%d" GET_PATH "?name=%s&withDecryption=true", port, encoded);
    json_t *args = json_pack("{s:s, s:s, s:{s:s}, s:i, s:i}", "method", "GET", "url", url, "headers", TOKEN_HEADER,
                             token, "timeout_ms", TIMEOUT_MS, "max_response_bytes", MAX_RESPONSE_BYTES);
    if (!args)
        return suga_fail(ctx, SUGA_E_NOMEM, "Parameter Store: out of memory building the request for %s", name);
    json_t *response = NULL;
    suga_status st = suga_call_op_json(ctx, SUGA_OP_HTTP_CLIENT_MAKE_REQUEST, args, &response);
    json_decref(args);
    if (st != SUGA_OK) { /* http_client's message never shows a secret-looking header's value */
        char why[SUGA_ERROR_MAX];
        snprintf(why, sizeof why, "%s", ctx ? ctx->error : "");
        return suga_fail(ctx, st == SUGA_E_NOMEM ? SUGA_E_NOMEM : SUGA_E_UNAVAILABLE,
                         "Parameter Store: cannot read %s through the Parameters and Secrets extension on "
                         "127.0.0.1:%d (is its layer added to the function?): %s",
                         name, port, why);
    }
    int status = (int)json_integer_value(json_object_get(response, "status"));
    st = read_answer(ctx, name, status, json_object_get(response, "body"), value, size, found, version);
    json_decref(response);
    return st;
}
