/* The Runtime API client (lambda/runtime_api.c) against a scripted server thread on 127.0.0.1:
 * the contract of suga_rapi_next for an event over the limit, nothing read past a complete
 * response, dropped headers, and the time limits (a shortened io_timeout_ms, and the stop grace
 * after a signal). The end-to-end side is tests/lambda/test_runtime_api.py. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runtime_api.h"

/* ---- a scripted server: each request read gets the next answer (NULL: read, never answered) ---- */

#define MAX_ANSWERS 8

typedef struct server {
    int listen_fd;
    char endpoint[64];
    char *answers[MAX_ANSWERS];
    int answer_count;
    int connections; /* accepted so far */
    int requests;    /* read so far */
    pthread_t thread;
} server;

/* One request's head and Content-Length body; false at the end of the stream. */
static bool read_request(int fd)
{
    char buf[8192];
    size_t used = 0;
    while (used < sizeof buf - 1) {
        ssize_t n = recv(fd, buf + used, sizeof buf - 1 - used, 0);
        if (n <= 0)
            return false;
        used += (size_t)n;
        buf[used] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end)
            continue;
        const char *cl = strstr(buf, "Content-Length: ");
        size_t want = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 16, NULL, 10) : 0);
        while (used < want) { /* the bodies sent here are small */
            n = recv(fd, buf, sizeof buf, 0);
            if (n <= 0)
                return false;
            used += (size_t)n;
        }
        return true;
    }
    return false;
}

static void *serve(void *arg)
{
    server *s = arg;
    int next = 0;
    for (;;) {
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        __atomic_add_fetch(&s->connections, 1, __ATOMIC_SEQ_CST);
        while (read_request(fd)) {
            __atomic_add_fetch(&s->requests, 1, __ATOMIC_SEQ_CST);
            const char *answer = next < s->answer_count ? s->answers[next] : NULL;
            next++;
            if (answer && send(fd, answer, strlen(answer), MSG_NOSIGNAL) < 0)
                break;
        }
        close(fd);
    }
}

static void server_start(server *s)
{
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    cr_assert_eq(bind(s->listen_fd, (struct sockaddr *)&addr, sizeof addr), 0);
    cr_assert_eq(listen(s->listen_fd, 4), 0);
    getsockname(s->listen_fd, (struct sockaddr *)&addr, &len);
    snprintf(s->endpoint, sizeof s->endpoint, "127.0.0.1:%u", ntohs(addr.sin_port));
    pthread_create(&s->thread, NULL, serve, s);
}

/* The answer (malloc'd, owned by the server from now on; NULL: read, never answered). */
static void add_answer(server *s, char *text)
{
    s->answers[s->answer_count++] = text;
}

static char *invocation(const char *request_id, const char *extra_headers, const char *body)
{
    size_t len = strlen(request_id) + strlen(extra_headers) + strlen(body) + 256;
    char *text = malloc(len);
    snprintf(text, len,
             "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: %s\r\nLambda-Runtime-Deadline-Ms: 4102444800000\r\n"
             "%sContent-Length: %zu\r\n\r\n%s",
             request_id, extra_headers, strlen(body), body);
    return text;
}

static server srv;
static suga_rapi api;
static suga_ctx ctx;

static void client_start(void)
{
    server_start(&srv);
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_rapi_init(&api, srv.endpoint, &ctx), SUGA_OK, "%s", ctx.error);
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1000 + (double)t.tv_nsec / 1e6;
}

/* ---- tests ---- */

Test(runtime_api, oversized_event_is_refused_by_its_id_and_the_connection_goes_on)
{
    size_t size = SUGA_RAPI_MAX_PAYLOAD + 1000;
    char *big = malloc(size + 1);
    memset(big, 'x', size);
    big[size] = '\0';
    add_answer(&srv, invocation("b16-1", "Lambda-Runtime-Trace-Id: Root=1-abc\r\n", big));
    add_answer(&srv, invocation("5a11-2", "", "{\"op\":\"debug.health\"}"));
    client_start();
    suga_rapi_invocation inv;
    cr_assert_eq(suga_rapi_next(&api, &inv, &ctx), SUGA_E_LIMIT, "%s", ctx.error);
    cr_assert_str_eq(inv.request_id, "b16-1");
    cr_assert_str_eq(inv.trace_id, "Root=1-abc");
    cr_assert_eq(inv.deadline_ms, 4102444800000);
    cr_assert_null(inv.event);
    cr_assert_eq(inv.event_len, size);
    cr_assert(strstr(ctx.error, "6291556"), "%s", ctx.error);
    cr_assert_geq(api.fd, 0, "the body was read to its end: the connection stays");
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_rapi_next(&api, &inv, &ctx), SUGA_OK, "%s", ctx.error);
    cr_assert_str_eq(inv.request_id, "5a11-2");
    cr_assert_str_eq(inv.event, "{\"op\":\"debug.health\"}");
    cr_assert_eq(__atomic_load_n(&srv.connections, __ATOMIC_SEQ_CST), 1);
    free(big);
    suga_rapi_close(&api);
}

Test(runtime_api, nothing_is_read_past_a_complete_response)
{
    char *a = invocation("aa-1", "", "{\"a\":1}"), *b = invocation("bb-2", "", "{\"b\":2}");
    char glued[1024];
    snprintf(glued, sizeof glued, "%s%s", a, b);
    add_answer(&srv, strdup(glued));
    add_answer(&srv, invocation("cc-3", "", "{\"c\":3}"));
    client_start();
    suga_rapi_invocation inv;
    cr_assert_eq(suga_rapi_next(&api, &inv, &ctx), SUGA_OK, "%s", ctx.error);
    cr_assert_str_eq(inv.request_id, "aa-1");
    cr_assert_str_eq(inv.event, "{\"a\":1}");
    cr_assert_eq(api.fd, -1, "extra bytes: the connection is closed");
    cr_assert_eq(suga_rapi_next(&api, &inv, &ctx), SUGA_OK, "%s", ctx.error);
    cr_assert_str_eq(inv.request_id, "cc-3");
    cr_assert_eq(__atomic_load_n(&srv.connections, __ATOMIC_SEQ_CST), 2);
    free(a);
    free(b);
    suga_rapi_close(&api);
}

Test(runtime_api, informative_headers_that_do_not_fit_are_dropped_not_cut)
{
    char headers[1024], arn[300];
    memset(arn, 'a', sizeof arn - 1);
    arn[sizeof arn - 1] = '\0';
    snprintf(headers, sizeof headers, "Lambda-Runtime-Invoked-Function-Arn: %s\r\nLambda-Runtime-Deadline-Ms: 12x\r\n",
             arn);
    /* invocation() sends its own deadline first: this second one is "sent twice" too */
    add_answer(&srv, invocation("dd-1", headers, "{}"));
    client_start();
    suga_rapi_invocation inv;
    cr_assert_eq(suga_rapi_next(&api, &inv, &ctx), SUGA_OK, "%s", ctx.error);
    cr_assert_str_eq(inv.function_arn, "");
    cr_assert_eq(inv.deadline_ms, 0);
    cr_assert(strstr(inv.dropped, "Lambda-Runtime-Invoked-Function-Arn (over 255 bytes)"), "%s", inv.dropped);
    cr_assert(strstr(inv.dropped, "Lambda-Runtime-Deadline-Ms (sent twice)"), "%s", inv.dropped);
    suga_rapi_close(&api);
}

Test(runtime_api, request_id_longer_than_its_buffer_is_refused)
{
    char id[200];
    memset(id, 'a', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    add_answer(&srv, invocation(id, "", "{}"));
    client_start();
    suga_rapi_invocation inv;
    cr_assert_eq(suga_rapi_next(&api, &inv, &ctx), SUGA_E_IO);
    cr_assert_str_eq(ctx.error, "refused an invocation: its Lambda-Runtime-Aws-Request-Id is 199 bytes long, over "
                                "the 127 allowed");
    suga_rapi_close(&api);
}

Test(runtime_api, an_unanswered_post_times_out)
{
    add_answer(&srv, invocation("ee-1", "", "{}"));
    add_answer(&srv, NULL); /* the response POST: read, never answered */
    client_start();
    api.io_timeout_ms = 200;
    suga_rapi_invocation inv;
    cr_assert_eq(suga_rapi_next(&api, &inv, &ctx), SUGA_OK, "%s", ctx.error);
    double t0 = now_ms();
    cr_assert_eq(suga_rapi_respond(&api, "ee-1", "{}", 2, &ctx), SUGA_E_IO);
    double took = now_ms() - t0;
    cr_assert(took >= 190 && took < 1000, "took %.0f ms", took);
    cr_assert(strstr(ctx.error, "timed out waiting for the answer to POST /2018-06-01/runtime/invocation/ee-1/"
                                "response: the Runtime API took over 200 ms"),
              "%s", ctx.error);
    cr_assert_eq(api.fd, -1, "the stream's position is unknown: dropped");
    suga_rapi_close(&api);
}

static void on_signal(int sig)
{
    (void)sig;
}

Test(runtime_api, after_a_stop_signal_a_post_gets_one_grace_second_and_next_none)
{
    add_answer(&srv, invocation("ff-1", "", "{}"));
    add_answer(&srv, NULL);
    client_start();
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t stop, wait_mask;
    sigemptyset(&stop);
    sigaddset(&stop, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &stop, &wait_mask);
    sigdelset(&wait_mask, SIGUSR1);
    suga_rapi_set_wait_mask(&api, &wait_mask);
    suga_rapi_invocation inv;
    cr_assert_eq(suga_rapi_next(&api, &inv, &ctx), SUGA_OK, "%s", ctx.error);
    raise(SIGUSR1); /* pending while blocked, as SIGTERM during an invocation: the POST's wait takes it */
    double t0 = now_ms();
    cr_assert_eq(suga_rapi_respond(&api, "ff-1", "{}", 2, &ctx), SUGA_E_STATE, "%s", ctx.error);
    double took = now_ms() - t0;
    cr_assert(took >= SUGA_RAPI_STOP_GRACE_MS - 10 && took < SUGA_RAPI_STOP_GRACE_MS + 500, "took %.0f ms", took);
    cr_assert(strstr(ctx.error, "stopping"), "%s", ctx.error);
    t0 = now_ms();
    cr_assert_eq(suga_rapi_next(&api, &inv, &ctx), SUGA_E_STATE);
    cr_assert_lt(now_ms() - t0, 50, "no wait for an event once stopping");
    suga_rapi_close(&api);
}
