/* runtime_api.c: the Lambda Runtime API client (runtime_api.h). Plain sockets for the
 * connection, libhttp-parser for the responses, jansson for the error bodies: all three cost
 * well under a millisecond of start-up, where libcurl would cost ~14 ms.
 *
 * The socket is non-blocking, and every wait on it goes through wait_ready (ppoll under the
 * caller's wait mask, with the exchange's time limit): that one place is what makes every read
 * and write bounded and every wait open to a stop signal. */
#include <errno.h>
#include <limits.h>
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
#include <time.h>
#include <unistd.h>

#include <http_parser.h>
#include <jansson.h>

#include "runtime_api.h"

#define API "/2018-06-01/runtime"
#define RECV_CHUNK 65536
/* A POST's answer body is only ever quoted in an error message: no more of it is kept. */
#define ANSWER_KEEP 4096

/* ---- endpoint and connection ---- */

suga_status suga_rapi_init(suga_rapi *c, const char *endpoint, suga_ctx *ctx)
{
    if (!c)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_rapi_init: no client");
    *c = (suga_rapi){.fd = -1, .io_timeout_ms = SUGA_RAPI_IO_TIMEOUT_MS};
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

/* The system's monotonic clock itself, not the runtime's (suga_clock.h): these limits bound real
 * waits in ppoll, and a test's fake time (suga_clock_set_test_clock) would turn them into waits
 * that never end or end at once. */
static int64_t monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* How one exchange may wait: the limits are monotonic times in ms, -1 for none. */
typedef struct limits {
    const char *method, *path; /* for messages */
    int64_t send_by;           /* connecting and sending end by then */
    int64_t answer_by;         /* the answer's last byte comes by then */
    bool interruptible;        /* a stop signal ends the exchange at once (the wait for an event) */
} limits;

/* Wait until fd is ready for `events` (POLLIN, POLLOUT), by `by` (-1: no limit) and by the
 * client's stop limit. A signal ends the wait of an interruptible exchange at once; any other
 * exchange learns from it that the process is stopping and gets SUGA_RAPI_STOP_GRACE_MS more. */
static suga_status wait_ready(suga_rapi *c, int fd, short events, int64_t by, const limits *lim, const char *doing,
                              suga_ctx *ctx)
{
    for (;;) {
        if (c->stop_by_ms && lim->interruptible)
            return suga_fail(ctx, SUGA_E_STATE, "interrupted");
        bool stop_bound = c->stop_by_ms && (by < 0 || c->stop_by_ms < by);
        int64_t limit = stop_bound ? c->stop_by_ms : by;
        struct timespec timeout, *wait_for = NULL;
        if (limit >= 0) {
            int64_t left = limit - monotonic_ms();
            if (left <= 0) {
                if (stop_bound)
                    return suga_fail(ctx, SUGA_E_STATE, "gave up %s %s %s: stopping, and %d ms have passed since the "
                                                        "stop signal",
                                     doing, lim->method, lim->path, SUGA_RAPI_STOP_GRACE_MS);
                return suga_fail(ctx, SUGA_E_IO, "timed out %s %s %s: the Runtime API took over %d ms", doing,
                                 lim->method, lim->path, c->io_timeout_ms);
            }
            timeout = (struct timespec){.tv_sec = left / 1000, .tv_nsec = (long)(left % 1000) * 1000000};
            wait_for = &timeout;
        }
        struct pollfd ready = {.fd = fd, .events = events};
        int n = ppoll(&ready, 1, wait_for, c->has_wait_mask ? &c->wait_mask : NULL);
        if (n > 0)
            return SUGA_OK; /* ready, or an error or hang-up that the next call on fd reports */
        if (n < 0 && errno != EINTR)
            return suga_fail(ctx, SUGA_E_IO, "%s %s %s: poll: %s", doing, lim->method, lim->path, strerror(errno));
        if (n < 0 && !c->stop_by_ms) /* see runtime_api.h: a signal here is a stop signal */
            c->stop_by_ms = monotonic_ms() + SUGA_RAPI_STOP_GRACE_MS;
        /* n == 0: the time is up, which the next turn reports */
    }
}

/* Connect to the endpoint without blocking, so that a peer that accepts nothing (a full listen
 * backlog) costs at most the exchange's send limit, not the kernel's minutes of SYN retries. */
static suga_status connect_endpoint(suga_rapi *c, const limits *lim, suga_ctx *ctx)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list = NULL;
    int rc = getaddrinfo(c->host, c->port, &hints, &list);
    if (rc != 0)
        return suga_fail(ctx, SUGA_E_IO, "Runtime API %s:%s: %s", c->host, c->port, gai_strerror(rc));
    int err = 0;
    suga_status st = SUGA_OK;
    for (struct addrinfo *a = list; a && st == SUGA_OK; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
            err = errno;
            close(fd);
            continue;
        }
        st = wait_ready(c, fd, POLLOUT, lim->send_by, lim, "connecting for", ctx);
        socklen_t len = sizeof err;
        if (st != SUGA_OK || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            close(fd);
            continue;
        }
        int one = 1; /* small requests, each answered before the next: no Nagle delay */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        break;
    }
    freeaddrinfo(list);
    if (st != SUGA_OK)
        return st;
    if (c->fd < 0)
        return suga_fail(ctx, SUGA_E_IO, "cannot connect to the Runtime API at %s:%s: %s", c->host, c->port,
                         strerror(err));
    return SUGA_OK;
}

/* Between exchanges the Runtime API has nothing to say. A byte waiting now is unsolicited (the
 * stream is out of step with our requests), and an end of stream means it closed the idle
 * connection: either way the next request goes out on a fresh connection. */
static bool idle_connection_usable(int fd)
{
    char byte;
    ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Send head and body with as many sendmsg calls as it takes, waiting for room in between;
 * MSG_NOSIGNAL, so a closed peer is an EPIPE error and not a SIGPIPE. On a failure of the socket
 * itself *err is its errno (0 otherwise). */
static suga_status send_all(suga_rapi *c, const limits *lim, const char *head, size_t head_len, const char *body,
                            size_t body_len, int *err, suga_ctx *ctx)
{
    struct iovec iov[2] = {{.iov_base = (void *)head, .iov_len = head_len},
                           {.iov_base = (void *)body, .iov_len = body_len}};
    struct iovec *v = iov;
    int count = body_len ? 2 : 1;
    *err = 0;
    while (count > 0) {
        struct msghdr msg = {.msg_iov = v, .msg_iovlen = (size_t)count};
        ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            suga_status st = wait_ready(c, c->fd, POLLOUT, lim->send_by, lim, "sending", ctx);
            if (st != SUGA_OK)
                return st;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *err = errno;
            return suga_fail(ctx, SUGA_E_IO, "sending %s %s to the Runtime API: %s", lim->method, lim->path,
                             strerror(*err));
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
    return SUGA_OK;
}

/* ---- response parsing ---- */

/* The invocation headers, one bit each: a second copy of one is a reason to distrust both. */
enum { SEEN_REQUEST_ID = 1, SEEN_DEADLINE = 2, SEEN_ARN = 4, SEEN_TRACE_ID = 8 };

typedef struct response {
    suga_rapi *c;
    suga_rapi_invocation *inv; /* NULL: headers are not needed */
    bool complete, no_memory;
    bool too_large;      /* /next's body passed SUGA_RAPI_MAX_PAYLOAD: the rest is discarded */
    bool unanswerable;   /* ... and there is no usable request id to refuse it to: stop reading */
    bool id_ok;          /* after the headers: inv->request_id is usable */
    size_t body_total;   /* every body byte seen, kept or not */
    unsigned seen;       /* SEEN_* */
    char id_problem[96]; /* why the request id is refused ("" when it is not) */
    char field[64], value[512];
    size_t field_len, value_len;
    size_t value_total;  /* the value's full length, beyond what `value` holds */
    bool field_cut;
    bool in_value;
} response;

/* Request ids go into URL paths: only what Lambda's ids are made of (UUIDs) is accepted. */
static bool valid_request_id(const char *id)
{
    size_t n = strlen(id);
    return n > 0 && n < 128 && strspn(id, "0123456789abcdefABCDEF-") == n;
}

static bool header_is(const response *r, const char *name)
{
    return !r->field_cut && r->field_len == strlen(name) && strncasecmp(r->field, name, r->field_len) == 0;
}

/* The value into out when all of it fits (with its NUL); false, and out untouched, otherwise. */
static bool copy_value(const response *r, char *out, size_t size)
{
    if (r->value_total >= size)
        return false;
    memcpy(out, r->value, r->value_len);
    out[r->value_len] = '\0';
    return true;
}

/* Note a header the invocation goes without, for inv->dropped. */
static void drop(response *r, const char *name, const char *why)
{
    char *out = r->inv->dropped;
    size_t used = strlen(out);
    if (used < sizeof r->inv->dropped - 1)
        snprintf(out + used, sizeof r->inv->dropped - used, "%s%s (%s)", used ? ", " : "", name, why);
}

/* At most 18 digits: any deadline until the year 33658, and never an overflow of int64_t. */
static bool parse_deadline(const response *r, int64_t *out)
{
    char text[20];
    if (!copy_value(r, text, sizeof text) || text[0] == '\0' || strspn(text, "0123456789") != strlen(text))
        return false;
    *out = strtoll(text, NULL, 10);
    return true;
}

/* A text header the invocation can go without (the function ARN, the trace id): a repeated one
 * is dropped with its first copy, one longer than `out` is dropped rather than cut. */
static void commit_text_header(response *r, const char *name, unsigned bit, char *out, size_t size,
                               const char *too_long)
{
    if (r->seen & bit) {
        out[0] = '\0';
        drop(r, name, "sent twice");
    } else if (!copy_value(r, out, size)) {
        drop(r, name, too_long);
    }
    r->seen |= bit;
}

/* An invocation header: a repeated one, or one longer than where it goes, is never cut short and
 * used (runtime_api.h says which refuse the invocation and which are dropped). */
static void commit_invocation_header(response *r)
{
    suga_rapi_invocation *inv = r->inv;
    if (header_is(r, "Lambda-Runtime-Aws-Request-Id")) {
        if (r->seen & SEEN_REQUEST_ID)
            snprintf(r->id_problem, sizeof r->id_problem, "was sent twice");
        else if (!copy_value(r, inv->request_id, sizeof inv->request_id))
            snprintf(r->id_problem, sizeof r->id_problem, "is %zu bytes long, over the %zu allowed", r->value_total,
                     sizeof inv->request_id - 1);
        r->seen |= SEEN_REQUEST_ID;
    } else if (header_is(r, "Lambda-Runtime-Deadline-Ms")) {
        if (r->seen & SEEN_DEADLINE) {
            inv->deadline_ms = 0;
            drop(r, "Lambda-Runtime-Deadline-Ms", "sent twice");
        } else if (!parse_deadline(r, &inv->deadline_ms)) {
            drop(r, "Lambda-Runtime-Deadline-Ms", "not a number of at most 18 digits");
        }
        r->seen |= SEEN_DEADLINE;
    } else if (header_is(r, "Lambda-Runtime-Invoked-Function-Arn")) {
        commit_text_header(r, "Lambda-Runtime-Invoked-Function-Arn", SEEN_ARN, inv->function_arn,
                           sizeof inv->function_arn, "over 255 bytes");
    } else if (header_is(r, "Lambda-Runtime-Trace-Id")) {
        commit_text_header(r, "Lambda-Runtime-Trace-Id", SEEN_TRACE_ID, inv->trace_id, sizeof inv->trace_id,
                           "over 511 bytes");
    }
}

static void commit_header(response *r)
{
    if (r->inv)
        commit_invocation_header(r);
    r->field_len = r->value_len = r->value_total = 0;
    r->field_cut = r->in_value = false;
}

/* Append what fits (keeping room for a NUL); false when some of it did not. */
static bool append(char *buf, size_t size, size_t *len, const char *at, size_t n)
{
    size_t room = size - 1 - *len;
    size_t take = n < room ? n : room;
    memcpy(buf + *len, at, take);
    *len += take;
    return take == n;
}

/* A field or value may come in several pieces (split across reads): the pieces are joined, and
 * what does not fit is counted, so that commit_header knows the value was longer. */
static int on_header_field(http_parser *p, const char *at, size_t n)
{
    response *r = p->data;
    if (r->in_value)
        commit_header(r);
    if (!append(r->field, sizeof r->field, &r->field_len, at, n))
        r->field_cut = true; /* longer than any header we read: none of ours */
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    response *r = p->data;
    r->in_value = true;
    append(r->value, sizeof r->value, &r->value_len, at, n);
    r->value_total += n;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    response *r = p->data;
    if (r->in_value)
        commit_header(r);
    if (r->inv) {
        r->id_ok = !r->id_problem[0] && valid_request_id(r->inv->request_id);
        /* a declared length over the limit is known now: nothing of the body is stored */
        if (p->status_code == 200 && p->content_length != ULLONG_MAX && p->content_length > SUGA_RAPI_MAX_PAYLOAD)
            r->too_large = true;
    }
    return 0;
}

static bool keep_body(response *r, const char *at, size_t n)
{
    suga_rapi *c = r->c;
    if (c->body_len + n + 1 > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 4096;
        while (cap < c->body_len + n + 1)
            cap *= 2;
        char *grown = realloc(c->body, cap);
        if (!grown)
            return false;
        c->body = grown;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, at, n);
    c->body_len += n;
    c->body[c->body_len] = '\0';
    return true;
}

/* An event over the limit is read to its end and discarded, so that the connection stays in
 * step and the invocation can be refused by its id; without a usable id it cannot be refused,
 * and reading stops. A POST's answer is kept up to ANSWER_KEEP bytes (for messages only). */
static int on_body(http_parser *p, const char *at, size_t n)
{
    response *r = p->data;
    r->body_total += n;
    size_t keep_limit = r->inv ? SUGA_RAPI_MAX_PAYLOAD : ANSWER_KEEP;
    if (r->inv && (r->too_large || r->body_total > keep_limit)) {
        r->too_large = true;
        if (!r->id_ok || p->status_code != 200) {
            r->unanswerable = true;
            return -1;
        }
        return 0;
    }
    size_t room = keep_limit > r->c->body_len ? keep_limit - r->c->body_len : 0;
    if (!keep_body(r, at, n < room ? n : room)) {
        r->no_memory = true;
        return -1;
    }
    return 0;
}

/* The end of the response: the parser stops here, so that bytes after it are seen as extra, not
 * parsed as the start of another response. */
static int on_message_complete(http_parser *p)
{
    ((response *)p->data)->complete = true;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings SETTINGS = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* Read one response. *closed_idle tells that the other side closed the connection before
 * sending a byte (a keep-alive connection closed while idle: the request can be sent again on a
 * new one). */
static suga_status read_response(suga_rapi *c, response *r, const limits *lim, int *status, bool *closed_idle,
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
    bool got_any = false;
    *closed_idle = false;
    for (;;) {
        suga_status st = wait_ready(c, c->fd, POLLIN, lim->answer_by, lim, "waiting for the answer to", ctx);
        if (st != SUGA_OK)
            return st;
        ssize_t n = recv(c->fd, c->raw, c->raw_cap, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (n < 0) {
            *closed_idle = !got_any && errno == ECONNRESET;
            return suga_fail(ctx, SUGA_E_IO, "reading the answer to %s %s: %s", lim->method, lim->path,
                             strerror(errno));
        }
        if (n > 0)
            got_any = true;
        /* n == 0 is the end of the stream: the parser is told, so a body delimited by the close
         * completes and a cut response is an error */
        size_t used = http_parser_execute(&parser, &SETTINGS, c->raw, (size_t)n);
        if (r->no_memory)
            return suga_fail(ctx, SUGA_E_NOMEM, "out of memory reading the Runtime API's response");
        if (r->unanswerable && parser.status_code == 200)
            return suga_fail(ctx, SUGA_E_IO, "the Runtime API sent an event over %d bytes without a usable "
                                             "Lambda-Runtime-Aws-Request-Id to refuse it to",
                             SUGA_RAPI_MAX_PAYLOAD);
        if (r->unanswerable)
            return suga_fail(ctx, SUGA_E_IO, "the Runtime API answered %u to %s %s with a body over %d bytes",
                             parser.status_code, lim->method, lim->path, SUGA_RAPI_MAX_PAYLOAD);
        if (r->complete) {
            *status = (int)parser.status_code;
            /* bytes after the response: see runtime_api.h, the stream is out of step */
            if (used < (size_t)n || !http_should_keep_alive(&parser))
                disconnect(c);
            return SUGA_OK;
        }
        if (n == 0) {
            *closed_idle = !got_any;
            return suga_fail(ctx, SUGA_E_IO, "the Runtime API closed the connection%s (%s %s)",
                             got_any ? " in the middle of its answer" : "", lim->method, lim->path);
        }
        if (parser.http_errno != HPE_OK || used != (size_t)n)
            return suga_fail(ctx, SUGA_E_IO, "the Runtime API's answer to %s %s is not valid HTTP: %s", lim->method,
                             lim->path, http_errno_description(HTTP_PARSER_ERRNO(&parser)));
    }
}

/* One request and its response, on the kept-alive connection; once more on a fresh connection
 * when the old one turns out to be closed before anything was answered. r is the response's
 * parsing state (with inv set for /next); on any failure the connection is dropped, since the
 * stream's position is unknown. */
static suga_status exchange(suga_rapi *c, const limits *lim, const char *extra_headers, const char *body,
                            size_t body_len, response *r, int *status, suga_ctx *ctx)
{
    char head[1024];
    int n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: %s:%s\r\n%sContent-Length: %zu\r\n\r\n",
                     lim->method, lim->path, c->host, c->port, extra_headers ? extra_headers : "", body_len);
    if (n < 0 || (size_t)n >= sizeof head)
        return suga_fail(ctx, SUGA_E_INTERNAL, "Runtime API request head too long for %s", lim->path);
    if (lim->interruptible && c->stop_by_ms) /* stopping: no new wait for an event */
        return suga_fail(ctx, SUGA_E_STATE, "interrupted");
    suga_rapi_invocation *inv = r->inv;
    for (int attempt = 0;; attempt++) {
        if (c->fd >= 0 && !idle_connection_usable(c->fd))
            disconnect(c);
        bool reused = c->fd >= 0;
        if (!reused) {
            suga_status st = connect_endpoint(c, lim, ctx);
            if (st != SUGA_OK)
                return st;
        }
        int err = 0;
        suga_status st = send_all(c, lim, head, (size_t)n, body, body_len, &err, ctx);
        if (st != SUGA_OK) {
            disconnect(c);
            if (reused && attempt == 0 && (err == EPIPE || err == ECONNRESET))
                continue;
            return st;
        }
        *r = (response){.c = c, .inv = inv};
        bool closed_idle = false;
        st = read_response(c, r, lim, status, &closed_idle, ctx);
        if (st == SUGA_OK)
            return st;
        disconnect(c);
        if (closed_idle && reused && attempt == 0)
            continue;
        return st;
    }
}

/* ---- endpoints ---- */

/* The limits of an exchange that starts now. */
static limits limits_from_now(const suga_rapi *c, const char *method, const char *path, bool is_next)
{
    int64_t by = monotonic_ms() + c->io_timeout_ms;
    return (limits){.method = method, .path = path, .send_by = by, .answer_by = is_next ? -1 : by,
                    .interruptible = is_next};
}

suga_status suga_rapi_next(suga_rapi *c, suga_rapi_invocation *inv, suga_ctx *ctx)
{
    *inv = (suga_rapi_invocation){0};
    int status = 0;
    limits lim = limits_from_now(c, "GET", API "/invocation/next", true);
    response r = {.inv = inv};
    suga_status st = exchange(c, &lim, NULL, NULL, 0, &r, &status, ctx);
    if (st != SUGA_OK)
        return st;
    if (status != 200)
        return suga_fail(ctx, SUGA_E_IO, "the Runtime API answered %d to /invocation/next: %.200s", status,
                         c->body ? c->body : "");
    if (r.id_problem[0])
        return suga_fail(ctx, SUGA_E_IO, "refused an invocation: its Lambda-Runtime-Aws-Request-Id %s",
                         r.id_problem);
    if (!r.id_ok)
        return suga_fail(ctx, SUGA_E_IO, "the Runtime API sent an invocation without a usable "
                                         "Lambda-Runtime-Aws-Request-Id (\"%.64s\")",
                         inv->request_id);
    if (r.too_large) {
        inv->event_len = r.body_total;
        return suga_fail(ctx, SUGA_E_LIMIT, "the event is %zu bytes, over Lambda's limit of %d bytes for a "
                                            "synchronous invocation",
                         r.body_total, SUGA_RAPI_MAX_PAYLOAD);
    }
    inv->event = c->body ? c->body : "";
    inv->event_len = c->body_len;
    return SUGA_OK;
}

static suga_status post(suga_rapi *c, const char *path, const char *extra_headers, const char *body, size_t len,
                        suga_ctx *ctx)
{
    int status = 0;
    limits lim = limits_from_now(c, "POST", path, false);
    response r = {0};
    suga_status st = exchange(c, &lim, extra_headers, body, len, &r, &status, ctx);
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
