/* runtime_api.c: the Lambda Runtime API client (runtime_api.h). Plain sockets for the
 * connection, libhttp-parser for the responses, jansson for the error bodies: all three cost
 * well under a millisecond of start-up, where libcurl would cost ~14 ms. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <http_parser.h>
#include <jansson.h>

#include "runtime_api.h"

#define API "/2018-06-01/runtime"
#define RECV_CHUNK 65536

/* ---- endpoint and connection ---- */

suga_status suga_rapi_init(suga_rapi *c, const char *endpoint, suga_ctx *ctx)
{
    if (!c)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_rapi_init: no client");
    *c = (suga_rapi){.fd = -1};
    if (!endpoint || !*endpoint)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "AWS_LAMBDA_RUNTIME_API is not set (expected host:port)");
    const char *host = endpoint, *colon = strrchr(endpoint, ':');
    size_t host_len = colon ? (size_t)(colon - endpoint) : 0;
    if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') { /* [::1]:9001 */
        host++;
        host_len -= 2;
    }
    const char *port = colon ? colon + 1 : "";
    size_t port_len = strlen(port);
    bool port_ok = port_len >= 1 && port_len < sizeof c->port && strspn(port, "0123456789") == port_len;
    if (!colon || host_len == 0 || host_len >= sizeof c->host || !port_ok)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "AWS_LAMBDA_RUNTIME_API must be host:port, got \"%.64s\"", endpoint);
    memcpy(c->host, host, host_len);
    c->host[host_len] = '\0';
    memcpy(c->port, port, port_len + 1);
    return SUGA_OK;
}

suga_status suga_rapi_set_wait_mask(suga_rapi *c, const sigset_t *mask)
{
    if (!c || !mask)
        return SUGA_E_INVALID_ARG;
    c->wait_mask = *mask;
    c->has_wait_mask = true;
    return SUGA_OK;
}

void suga_rapi_close(suga_rapi *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->body);
    free(c->raw);
    c->body = c->raw = NULL;
    c->body_len = c->body_cap = c->raw_cap = 0;
}

static void disconnect(suga_rapi *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static suga_status connect_endpoint(suga_rapi *c, suga_ctx *ctx)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list = NULL;
    int rc = getaddrinfo(c->host, c->port, &hints, &list);
    if (rc != 0)
        return suga_fail(ctx, SUGA_E_IO, "Runtime API %s:%s: %s", c->host, c->port, gai_strerror(rc));
    int err = 0;
    for (struct addrinfo *a = list; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            int one = 1; /* small requests, each answered before the next: no Nagle delay */
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c->fd = fd;
            break;
        }
        err = errno;
        close(fd);
    }
    freeaddrinfo(list);
    if (c->fd < 0)
        return suga_fail(ctx, SUGA_E_IO, "cannot connect to the Runtime API at %s:%s: %s", c->host, c->port,
                         strerror(err));
    return SUGA_OK;
}

/* Send head and body with as many sendmsg calls as it takes; MSG_NOSIGNAL, so a closed peer is
 * an EPIPE error and not a SIGPIPE. */
static int send_all(int fd, const char *head, size_t head_len, const char *body, size_t body_len)
{
    struct iovec iov[2] = {{.iov_base = (void *)head, .iov_len = head_len},
                           {.iov_base = (void *)body, .iov_len = body_len}};
    struct iovec *v = iov;
    int count = body_len ? 2 : 1;
    while (count > 0) {
        struct msghdr msg = {.msg_iov = v, .msg_iovlen = (size_t)count};
        ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        while (count > 0 && (size_t)n >= v->iov_len) {
            n -= (ssize_t)v->iov_len;
            v++;
            count--;
        }
        if (count > 0) {
            v->iov_base = (char *)v->iov_base + n;
            v->iov_len -= (size_t)n;
        }
    }
    return 0;
}

/* ---- response parsing ---- */

typedef struct response {
    suga_rapi *c;
    suga_rapi_invocation *inv; /* NULL: headers are not needed */
    bool complete, too_large, no_memory;
    char field[64], value[512];
    size_t field_len, value_len;
    bool in_value;
} response;

static bool header_is(const response *r, const char *name)
{
    return r->field_len == strlen(name) && strncasecmp(r->field, name, r->field_len) == 0;
}

static void copy_value(const response *r, char *out, size_t size)
{
    size_t n = r->value_len < size - 1 ? r->value_len : size - 1;
    memcpy(out, r->value, n);
    out[n] = '\0';
}

/* A complete header: keep the ones an invocation needs. Over-long fields or values are cut at
 * the buffers' sizes; the request id is then refused by its own check. */
static void commit_header(response *r)
{
    if (r->inv) {
        if (header_is(r, "Lambda-Runtime-Aws-Request-Id")) {
            copy_value(r, r->inv->request_id, sizeof r->inv->request_id);
        } else if (header_is(r, "Lambda-Runtime-Deadline-Ms")) {
            char text[32];
            copy_value(r, text, sizeof text);
            r->inv->deadline_ms = strtoll(text, NULL, 10);
        } else if (header_is(r, "Lambda-Runtime-Invoked-Function-Arn")) {
            copy_value(r, r->inv->function_arn, sizeof r->inv->function_arn);
        } else if (header_is(r, "Lambda-Runtime-Trace-Id")) {
            copy_value(r, r->inv->trace_id, sizeof r->inv->trace_id);
        }
    }
    r->field_len = r->value_len = 0;
    r->in_value = false;
}

static void append(char *buf, size_t size, size_t *len, const char *at, size_t n)
{
    size_t room = size - 1 - *len;
    n = n < room ? n : room;
    memcpy(buf + *len, at, n);
    *len += n;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    response *r = p->data;
    if (r->in_value)
        commit_header(r);
    append(r->field, sizeof r->field, &r->field_len, at, n);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    response *r = p->data;
    r->in_value = true;
    append(r->value, sizeof r->value, &r->value_len, at, n);
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    response *r = p->data;
    if (r->in_value)
        commit_header(r);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    response *r = p->data;
    suga_rapi *c = r->c;
    if (c->body_len + n > SUGA_RAPI_MAX_PAYLOAD) {
        r->too_large = true;
        return -1;
    }
    if (c->body_len + n + 1 > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 4096;
        while (cap < c->body_len + n + 1)
            cap *= 2;
        char *grown = realloc(c->body, cap);
        if (!grown) {
            r->no_memory = true;
            return -1;
        }
        c->body = grown;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, at, n);
    c->body_len += n;
    c->body[c->body_len] = '\0';
    return 0;
}

static int on_message_complete(http_parser *p)
{
    ((response *)p->data)->complete = true;
    return 0;
}

static const http_parser_settings SETTINGS = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* Read one response. *got_any tells whether any byte came (a keep-alive connection the other
 * side closed while idle gives none, and the request can be sent again on a new one). */
static suga_status read_response(suga_rapi *c, response *r, bool interruptible, int *status, bool *got_any,
                                 suga_ctx *ctx)
{
    if (!c->raw) {
        if (!(c->raw = malloc(RECV_CHUNK)))
            return suga_fail(ctx, SUGA_E_NOMEM, "out of memory reading the Runtime API");
        c->raw_cap = RECV_CHUNK;
    }
    c->body_len = 0;
    if (c->body)
        c->body[0] = '\0';
    http_parser parser;
    http_parser_init(&parser, HTTP_RESPONSE);
    parser.data = r;
    *got_any = false;
    while (!r->complete) {
        if (interruptible && c->has_wait_mask) { /* see runtime_api.h: why ppoll */
            struct pollfd ready = {.fd = c->fd, .events = POLLIN};
            if (ppoll(&ready, 1, NULL, &c->wait_mask) < 0) {
                if (errno == EINTR)
                    return suga_fail(ctx, SUGA_E_STATE, "interrupted");
                return suga_fail(ctx, SUGA_E_IO, "waiting for the Runtime API: %s", strerror(errno));
            }
        }
        ssize_t n = recv(c->fd, c->raw, c->raw_cap, 0);
        if (n < 0 && errno == EINTR) {
            /* waiting for an event may be given up (shutdown); a posted answer's receipt may not */
            if (interruptible)
                return suga_fail(ctx, SUGA_E_STATE, "interrupted");
            continue;
        }
        if (n < 0)
            return suga_fail(ctx, SUGA_E_IO, "reading from the Runtime API: %s", strerror(errno));
        if (n > 0)
            *got_any = true;
        /* n == 0 is the end of the stream: the parser is told, so a body delimited by the close
         * completes and a cut response is an error */
        size_t used = http_parser_execute(&parser, &SETTINGS, c->raw, (size_t)n);
        if (r->too_large)
            return suga_fail(ctx, SUGA_E_LIMIT, "the Runtime API sent a body over %d bytes", SUGA_RAPI_MAX_PAYLOAD);
        if (r->no_memory)
            return suga_fail(ctx, SUGA_E_NOMEM, "out of memory reading the Runtime API's response");
        if (parser.http_errno != HPE_OK || (used != (size_t)n && !r->complete))
            return suga_fail(ctx, SUGA_E_IO, "the Runtime API's response is not valid HTTP: %s",
                             http_errno_description(HTTP_PARSER_ERRNO(&parser)));
        if (n == 0 && !r->complete)
            return suga_fail(ctx, SUGA_E_IO, "the Runtime API closed the connection%s",
                             *got_any ? " in the middle of a response" : "");
    }
    *status = (int)parser.status_code;
    if (!http_should_keep_alive(&parser))
        disconnect(c);
    return SUGA_OK;
}

/* One request and its response, on the kept-alive connection; once more on a fresh connection
 * when the old one turns out to be closed before anything was answered. */
static suga_status exchange(suga_rapi *c, const char *method, const char *path, const char *extra_headers,
                            const char *body, size_t body_len, suga_rapi_invocation *inv, int *status, suga_ctx *ctx)
{
    char head[1024];
    int n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: %s:%s\r\n%sContent-Length: %zu\r\n\r\n", method, path,
                     c->host, c->port, extra_headers ? extra_headers : "", body_len);
    if (n < 0 || (size_t)n >= sizeof head)
        return suga_fail(ctx, SUGA_E_INTERNAL, "Runtime API request head too long for %s", path);
    for (int attempt = 0;; attempt++) {
        bool reused = c->fd >= 0;
        if (!reused) {
            suga_status st = connect_endpoint(c, ctx);
            if (st != SUGA_OK)
                return st;
        }
        if (send_all(c->fd, head, (size_t)n, body, body_len) != 0) {
            int err = errno;
            disconnect(c);
            if (reused && attempt == 0 && (err == EPIPE || err == ECONNRESET))
                continue;
            return suga_fail(ctx, SUGA_E_IO, "sending %s %s to the Runtime API: %s", method, path, strerror(err));
        }
        response r = {.c = c, .inv = inv};
        bool got_any = false;
        suga_status st = read_response(c, &r, inv != NULL, status, &got_any, ctx);
        if (st == SUGA_E_IO && reused && !got_any && attempt == 0) {
            disconnect(c);
            continue;
        }
        if (st != SUGA_OK && st != SUGA_E_STATE)
            disconnect(c); /* the stream's position is unknown now */
        return st;
    }
}

/* ---- endpoints ---- */

/* Request ids go into URL paths: only what Lambda's ids are made of (UUIDs) is accepted. */
static bool valid_request_id(const char *id)
{
    size_t n = strlen(id);
    return n > 0 && n < 128 && strspn(id, "0123456789abcdefABCDEF-") == n;
}

suga_status suga_rapi_next(suga_rapi *c, suga_rapi_invocation *inv, suga_ctx *ctx)
{
    *inv = (suga_rapi_invocation){0};
    int status = 0;
    suga_status st = exchange(c, "GET", API "/invocation/next", NULL, NULL, 0, inv, &status, ctx);
    if (st != SUGA_OK)
        return st;
    if (status != 200)
        return suga_fail(ctx, SUGA_E_IO, "the Runtime API answered %d to /invocation/next: %.200s", status,
                         c->body ? c->body : "");
    if (!valid_request_id(inv->request_id))
        return suga_fail(ctx, SUGA_E_IO, "the Runtime API sent an invocation without a usable "
                                         "Lambda-Runtime-Aws-Request-Id (\"%.64s\")",
                         inv->request_id);
    inv->event = c->body ? c->body : "";
    inv->event_len = c->body_len;
    return SUGA_OK;
}

static suga_status post(suga_rapi *c, const char *path, const char *extra_headers, const char *body, size_t len,
                        suga_ctx *ctx)
{
    int status = 0;
    suga_status st = exchange(c, "POST", path, extra_headers, body, len, NULL, &status, ctx);
    if (st != SUGA_OK)
        return st;
    if (status == 202)
        return SUGA_OK;
    return suga_fail(ctx, status == 413 ? SUGA_E_LIMIT : SUGA_E_IO, "the Runtime API answered %d to %s: %.200s",
                     status, path, c->body ? c->body : "");
}

suga_status suga_rapi_respond(suga_rapi *c, const char *request_id, const char *body, size_t len, suga_ctx *ctx)
{
    if (!valid_request_id(request_id))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "not a request id: \"%.64s\"", request_id);
    char path[256];
    snprintf(path, sizeof path, API "/invocation/%s/response", request_id);
    return post(c, path, NULL, body, len, ctx);
}

suga_status suga_rapi_error(suga_rapi *c, const char *request_id, const char *error_type, const char *message,
                            suga_ctx *ctx)
{
    size_t type_len = strlen(error_type);
    /* the type is also a header value: letters, digits and . _ - only */
    if (type_len == 0 || type_len > 64 ||
        strspn(error_type, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != type_len)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "not an error type: \"%.64s\"", error_type);
    if (request_id && !valid_request_id(request_id))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "not a request id: \"%.64s\"", request_id);
    char clean[SUGA_ERROR_MAX]; /* messages may quote input; JSON needs valid UTF-8 */
    suga_utf8_sanitize(message, clean, sizeof clean);
    json_t *doc = json_pack("{s:s, s:s, s:[]}", "errorMessage", clean, "errorType", error_type, "stackTrace");
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!body)
        return suga_fail(ctx, SUGA_E_NOMEM, "out of memory building the error for the Runtime API");
    char path[256], header[128];
    if (request_id)
        snprintf(path, sizeof path, API "/invocation/%s/error", request_id);
    else
        snprintf(path, sizeof path, API "/init/error");
    snprintf(header, sizeof header, "Lambda-Runtime-Function-Error-Type: %s\r\nContent-Type: application/json\r\n",
             error_type);
    suga_status st = post(c, path, header, body, strlen(body), ctx);
    free(body);
    return st;
}
