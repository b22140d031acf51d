/* The http_client.* operations, through the real engine: the lazy module suga-http_client.so is
 * loaded from SUGA_MODULE_DIR (set by tests/handlers/meson.build) on the first call, and talks to
 * tests/handlers/http_test_server.py, started by each test on a free port of 127.0.0.1. Nothing
 * here reaches beyond the loopback interface.
 *
 * Like test_security.c this file is built twice: as the Criterion suite, and with
 * SUGA_HTTP_CLIENT_PROBE defined as a plain program linked like the tools (libsuga, jansson,
 * -rdynamic) that reports its own /proc/self/maps before and after its first http_client call,
 * and how long the first and the second call took; the suite runs it and reads the report.
 */
#ifdef SUGA_HTTP_CLIENT_PROBE

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "suga.h"

static void report_maps(const char *when)
{
    bool libcurl = false, module = false;
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        libcurl |= strstr(line, "/libcurl") != NULL;
        module |= strstr(line, "/suga-http_client.so") != NULL;
    }
    if (f)
        fclose(f);
    printf("%s libcurl=%s module=%s\n", when, libcurl ? "yes" : "no", module ? "yes" : "no");
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One GET of url; prints the status and returns the call's duration in ms. */
static double get(const char *url, const char *label, suga_status *st)
{
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *args = json_pack("{s:s}", "url", url), *result = NULL;
    double started = now_ms();
    *st = suga_call_json(&ctx, "http_client.make_request", strlen("http_client.make_request"), args, &result);
    double took = now_ms() - started;
    if (*st == SUGA_OK)
        printf("%s status %lld reused %s\n", label, (long long)json_integer_value(json_object_get(result, "status")),
               json_is_true(json_object_get(result, "reused_connection")) ? "yes" : "no");
    else
        printf("%s error %s: %s\n", label, suga_status_name(*st), ctx.error);
    json_decref(result);
    json_decref(args);
    return took;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    report_maps("before");
    suga_status first, second;
    double t1 = get(argv[1], "first", &first);
    report_maps("after");
    double t2 = get(argv[1], "second", &second);
    double t3 = get(argv[1], "third", &second);
    printf("first_call_ms %.3f\nsecond_call_ms %.3f\nthird_call_ms %.3f\n", t1, t2, t3);
    return first == SUGA_OK && second == SUGA_OK ? 0 : 1;
}

#else

#include <arpa/inet.h>
#include <curl/curlver.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/suga_parameter_store.h"
#include "handler_test.h"
#include "proc.h"
#include "suga_handler_test_hooks.h"
#include "suga_log.h"

/* A token no message, result or log record may ever contain. */
#define MARKER "suga-marker-token-7f3a9c21e5"

/* ---- the test server ---- */

static struct {
    pid_t pid;
    int port;
    int stdin_fd;
} server = {.pid = -1, .stdin_fd = -1};

/* Starts the server with extra arguments (NULL-terminated list, may be empty). */
static void start_server_with(const char *const *extra)
{
    const char *script = getenv("SUGA_HTTP_TEST_SERVER");
    const char *python = getenv("SUGA_PYTHON");
    cr_assert(script, "SUGA_HTTP_TEST_SERVER must be set by meson");
    if (!python)
        python = "python3";
    int out[2], in[2];
    cr_assert_eq(pipe(out), 0);
    cr_assert_eq(pipe(in), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        const char *argv[16] = {python, script, "--token", MARKER};
        size_t n = 4;
        for (size_t i = 0; extra[i] && n < 15; i++)
            argv[n++] = extra[i];
        argv[n] = NULL;
        execvp(python, (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    server.pid = pid;
    server.stdin_fd = in[1];
    char line[64] = "";
    size_t len = 0;
    struct pollfd p = {.fd = out[0], .events = POLLIN};
    while (len < sizeof line - 1 && !memchr(line, '\n', len)) {
        cr_assert_gt(poll(&p, 1, 10000), 0, "the test server did not start within 10 s");
        ssize_t n = read(out[0], line + len, sizeof line - 1 - len);
        cr_assert_gt(n, 0, "the test server exited before printing its port");
        len += (size_t)n;
        line[len] = '\0';
    }
    close(out[0]);
    cr_assert_eq(sscanf(line, "PORT %d", &server.port), 1, "unexpected first line from the server: %s", line);
}

static void start_server(void)
{
    start_server_with((const char *const[]){NULL});
}

static void stop_server(void)
{
    if (server.pid > 0) {
        close(server.stdin_fd);
        kill(server.pid, SIGTERM);
        waitpid(server.pid, NULL, 0);
        server.pid = -1;
    }
}

TestSuite(http_client, .init = start_server, .fini = stop_server, .timeout = 30);
TestSuite(http_client_breaker, .init = start_server, .fini = stop_server, .timeout = 30);

/* A port of 127.0.0.1 where nothing listens (bound, then released). */
static int closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(s, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

/* ---- calls ---- */

/* printf into a fresh string (the caller frees) */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    cr_assert_geq(vasprintf(&s, f, ap), 0);
    va_end(ap);
    return s;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* make_request with args (JSON text, "%PORT%"-free: built with fmt by the caller); a failure
 * leaves its message in ctx. deadline_ms 0 = none. */
static suga_status request_with(suga_ctx *ctx, const char *args_json, int64_t deadline_ms, json_t **result)
{
    json_error_t err;
    json_t *args = json_loads(args_json, 0, &err);
    cr_assert_not_null(args, "test bug: bad args JSON %s: %s", args_json, err.text);
    suga_ctx_init(ctx);
    ctx->deadline_ms = deadline_ms;
    *result = NULL;
    suga_status st = suga_call_json(ctx, "http_client.make_request", strlen("http_client.make_request"), args, result);
    json_decref(args);
    return st;
}

/* make_request that must succeed; args is freed */
static json_t *request_ok(char *args)
{
    suga_ctx ctx;
    json_t *r = NULL;
    suga_status st = request_with(&ctx, args, 0, &r);
    cr_assert_eq(st, SUGA_OK, "make_request(%s) failed with %s: %s", args, suga_status_name(st), ctx.error);
    free(args);
    return r;
}

/* make_request that must fail with want; the message goes to msg; args is freed */
static void request_fails(char *args, suga_status want, char *msg, size_t size)
{
    suga_ctx ctx;
    json_t *r = NULL;
    suga_status st = request_with(&ctx, args, 0, &r);
    cr_assert_eq(st, want, "make_request(%s): expected %s, got %s (%s)", args, suga_status_name(want),
                 suga_status_name(st), ctx.error);
    cr_assert_null(r);
    snprintf(msg, size, "%s", ctx.error);
    free(args);
}

static json_t *get_json(const char *path)
{
    return request_ok(fmt("{\"url\": \"http://127.0.0.1:%d%s\"}", server.port, path));
}

static json_t *status_ok(void)
{
    return call_ok("http_client.status", NULL);
}

/* The pool entry of our test server in http_client.status (a new reference). */
static json_t *server_host(void)
{
    json_t *st = status_ok();
    char key[64];
    snprintf(key, sizeof key, "http://127.0.0.1:%d", server.port);
    json_t *found = NULL, *h;
    size_t i;
    json_array_foreach(json_object_get(st, "hosts"), i, h)
        if (!strcmp(json_string_value(json_object_get(h, "host")), key))
            found = json_incref(h);
    json_decref(st);
    cr_assert(found, "no pool entry for %s", key);
    return found;
}

static char *dump(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    cr_assert(s);
    return s;
}

/* ---- log capture ---- */

static FILE *capture_logs(suga_log_level level)
{
    FILE *f = tmpfile();
    cr_assert(f);
    cr_assert_eq(suga_log_set_output(f), SUGA_OK);
    cr_assert_eq(suga_log_set_level(level), SUGA_OK);
    return f;
}

static char *captured(FILE *f)
{
    fflush(f);
    long size = ftell(f);
    cr_assert_geq(size, 0);
    char *text = calloc(1, (size_t)size + 1);
    cr_assert(text);
    rewind(f);
    cr_assert_eq(fread(text, 1, (size_t)size, f), (size_t)size);
    return text;
}

static int count(const char *haystack, const char *needle)
{
    int n = 0;
    for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* ---- the module: lazy, libcurl only with it ---- */

Test(http_client_module, loaded_on_first_call_with_libcurl, .init = start_server, .fini = stop_server, .timeout = 30)
{
    const char *probe = getenv("SUGA_HTTP_CLIENT_PROBE");
    cr_assert(probe, "SUGA_HTTP_CLIENT_PROBE must be set by meson");
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/json", server.port);
    proc_result r;
    cr_assert_eq(proc_run((const char *const[]){probe, url, NULL}, NULL, NULL, &r), 0);
    cr_expect_eq(r.status, 0, "probe failed: %s%s", r.out, r.err);
    cr_expect(strstr(r.out, "before libcurl=no module=no\n"), "nothing of it before the first call:\n%s", r.out);
    cr_expect(strstr(r.out, "first status 200 reused no\n"), "%s", r.out);
    cr_expect(strstr(r.out, "after libcurl=yes module=yes\n"), "both mapped after it:\n%s", r.out);
    cr_expect(strstr(r.out, "second status 200 reused yes\n"), "the connection is kept:\n%s", r.out);
    cr_log_info("probe:\n%s", r.out);
    proc_free(&r);
}

static void expect_no_libcurl(const char *env)
{
    const char *program = getenv(env);
    cr_assert(program, "%s must be set by meson", env);
    proc_result r;
    cr_assert_eq(proc_run((const char *const[]){"ldd", program, NULL}, NULL, NULL, &r), 0);
    cr_assert_eq(r.status, 0, "ldd failed: %s", r.err);
    cr_expect(strstr(r.out, "libjansson"), "sanity: ldd lists the libraries:\n%s", r.out);
    cr_expect_not(strstr(r.out, "libcurl"), "%s must not link libcurl:\n%s", program, r.out);
    proc_free(&r);
}

Test(http_client_module, bootstrap_and_cli_do_not_link_libcurl)
{
    expect_no_libcurl("SUGA_CLI");
    expect_no_libcurl("SUGA_BOOTSTRAP");
}

Test(http_client_module, module_links_libcurl)
{
    const char *dir = getenv("SUGA_MODULE_DIR");
    cr_assert(dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/suga-http_client.so", dir);
    proc_result r;
    cr_assert_eq(proc_run((const char *const[]){"ldd", path, NULL}, NULL, NULL, &r), 0);
    cr_expect(strstr(r.out, "libcurl.so.4"), "the module links libcurl:\n%s", r.out);
    proc_free(&r);
}

/* ---- requests and results ---- */

Test(http_client, get_json_round_trip)
{
    json_t *r = get_json("/json");
    cr_expect_eq(int_field(r, "status"), 200);
    assert_json(json_incref(json_object_get(r, "body")), "{\"ok\": true, \"items\": [1, 2, 3], \"name\": \"suga\"}");
    json_t *headers = json_object_get(r, "headers");
    cr_expect_str_eq(str_field(headers, "content-type"), "application/json");
    cr_expect(json_is_string(json_object_get(headers, "content-length")));
    cr_expect(json_is_string(json_object_get(headers, "server")), "selected headers are kept, lower-cased");
    cr_expect(json_is_number(json_object_get(r, "elapsed_ms")));
    cr_expect(json_is_false(json_object_get(r, "reused_connection")), "the first call opens the connection");
    json_decref(r);
}

Test(http_client, post_json_body_and_headers)
{
    json_t *r = request_ok(fmt("{\"method\": \"POST\", \"url\": \"http://127.0.0.1:%d/echo\","
                               " \"headers\": {\"X-Suga-Test\": \"yes\", \"Accept\": \"application/json\"},"
                               " \"body\": {\"entity_id\": \"light.kitchen\", \"n\": [1, 2]}}",
                               server.port));
    cr_expect_eq(int_field(r, "status"), 200);
    json_t *echo = json_object_get(r, "body");
    cr_expect_str_eq(str_field(echo, "method"), "POST");
    cr_expect_str_eq(str_field(echo, "body"), "{\"entity_id\":\"light.kitchen\",\"n\":[1,2]}");
    json_t *h = json_object_get(echo, "headers");
    cr_expect_str_eq(str_field(h, "content-type"), "application/json");
    cr_expect_str_eq(str_field(h, "x-suga-test"), "yes");
    cr_expect_str_eq(str_field(h, "accept"), "application/json");
    cr_expect(matches("^suga-http_client libcurl/", str_field(h, "user-agent")), "default user agent");
    cr_expect_null(json_object_get(h, "expect"), "no 100-continue round trip");
    json_decref(r);
}

Test(http_client, string_body_sent_as_is)
{
    json_t *r = request_ok(fmt("{\"method\": \"put\", \"url\": \"http://127.0.0.1:%d/echo\", \"body\": \"plain text\"}",
                               server.port));
    json_t *echo = json_object_get(r, "body");
    cr_expect_str_eq(str_field(echo, "method"), "PUT", "lower-case methods are sent upper-case");
    cr_expect_str_eq(str_field(echo, "body"), "plain text");
    cr_expect_str_eq(str_field(json_object_get(echo, "headers"), "content-type"), "text/plain; charset=utf-8");
    json_decref(r);

    r = request_ok(fmt("{\"method\": \"PATCH\", \"url\": \"http://127.0.0.1:%d/echo\", \"body\": \"a=1\","
                       " \"headers\": {\"Content-Type\": \"application/x-www-form-urlencoded\"}}",
                       server.port));
    echo = json_object_get(r, "body");
    cr_expect_str_eq(str_field(echo, "method"), "PATCH");
    cr_expect_str_eq(str_field(json_object_get(echo, "headers"), "content-type"), "application/x-www-form-urlencoded",
                     "the caller's content-type wins");
    json_decref(r);
}

Test(http_client, delete_head_and_empty_bodies)
{
    json_t *r = request_ok(fmt("{\"method\": \"DELETE\", \"url\": \"http://127.0.0.1:%d/echo\"}", server.port));
    json_t *echo = json_object_get(r, "body");
    cr_expect_str_eq(str_field(echo, "method"), "DELETE");
    cr_expect_str_eq(str_field(echo, "body"), "");
    json_decref(r);

    r = request_ok(fmt("{\"method\": \"POST\", \"url\": \"http://127.0.0.1:%d/echo\", \"body\": null}", server.port));
    echo = json_object_get(r, "body");
    cr_expect_str_eq(str_field(json_object_get(echo, "headers"), "content-length"), "0", "POST without a body");
    json_decref(r);

    r = request_ok(fmt("{\"method\": \"HEAD\", \"url\": \"http://127.0.0.1:%d/json\"}", server.port));
    cr_expect_eq(int_field(r, "status"), 200);
    cr_expect(json_is_null(json_object_get(r, "body")), "HEAD has no body");
    cr_expect(json_is_string(json_object_get(json_object_get(r, "headers"), "content-length")));
    json_decref(r);

    r = get_json("/empty");
    cr_expect_eq(int_field(r, "status"), 204);
    cr_expect(json_is_null(json_object_get(r, "body")));
    json_decref(r);
}

Test(http_client, error_statuses_are_results)
{
    static const int codes[] = {400, 404, 500, 502};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char path[32];
        snprintf(path, sizeof path, "/status/%d", codes[i]);
        json_t *r = get_json(path);
        cr_expect_eq(int_field(r, "status"), codes[i]);
        cr_expect_eq(int_field(json_object_get(r, "body"), "status"), codes[i]);
        json_decref(r);
    }
    json_t *r = get_json("/status/503");
    cr_expect_str_eq(str_field(json_object_get(r, "headers"), "retry-after"), "7");
    json_decref(r);

    r = get_json("/status/401");
    cr_expect_eq(int_field(r, "status"), 401);
    cr_expect_str_eq(str_field(r, "body"), "401: Unauthorized", "a text/plain body stays text");
    json_decref(r);

    r = get_json("/status/302");
    cr_expect_eq(int_field(r, "status"), 302, "redirects are not followed");
    cr_expect_str_eq(str_field(json_object_get(r, "headers"), "location"), "/json");
    json_decref(r);
}

Test(http_client, text_and_binary_bodies)
{
    json_t *r = get_json("/text");
    cr_expect_str_eq(str_field(r, "body"), "hello, suga\n");
    json_decref(r);

    r = get_json("/binary");
    cr_expect_str_eq(str_field(r, "body"), "ab\xEF\xBF\xBD\xEF\xBF\xBD" "cd\xEF\xBF\xBD", "bad bytes become U+FFFD");
    json_decref(r);

    r = request_ok(fmt("{\"url\": \"http://127.0.0.1:%d/json\", \"parse_json\": false}", server.port));
    cr_expect_str_eq(str_field(r, "body"), "{\"ok\": true, \"items\": [1, 2, 3], \"name\": \"suga\"}");
    json_decref(r);
}

/* ---- the pool ---- */

Test(http_client, connection_is_reused)
{
    json_t *first = get_json("/echo");
    json_t *second = get_json("/echo");
    cr_expect(json_is_false(json_object_get(first, "reused_connection")));
    cr_expect(json_is_true(json_object_get(second, "reused_connection")));
    json_t *e1 = json_object_get(first, "body"), *e2 = json_object_get(second, "body");
    cr_expect_eq(int_field(e1, "client_port"), int_field(e2, "client_port"), "the same TCP connection");
    cr_expect_eq(int_field(e2, "connection_requests"), 2);
    json_decref(first);
    json_decref(second);

    json_t *h = server_host();
    cr_expect_eq(int_field(h, "connections"), 1);
    cr_expect_eq(int_field(h, "requests"), 2);
    cr_expect_eq(int_field(h, "reuses"), 1);
    cr_expect_eq(int_field(h, "errors"), 0);
    cr_expect_eq(int_field(h, "last_status"), 200);
    cr_expect(json_is_null(json_object_get(h, "last_error")));
    cr_expect(json_is_false(json_object_get(h, "tls")));
    json_decref(h);
}

Test(http_client, closed_connection_is_replaced)
{
    json_decref(get_json("/close")); /* the server closes after answering */
    json_t *r = get_json("/json");
    cr_expect(json_is_false(json_object_get(r, "reused_connection")));
    json_decref(r);
    json_t *h = server_host();
    cr_expect_eq(int_field(h, "connections"), 2);
    json_decref(h);
}

Test(http_client, least_recently_used_host_is_evicted)
{
    json_decref(call_ok("http_client.configure", "{\"max_hosts\": 1}"));
    json_decref(get_json("/json"));
    /* "localhost" is a different pool key for the same server */
    json_decref(request_ok(fmt("{\"url\": \"http://localhost:%d/json\"}", server.port)));
    json_t *st = status_ok();
    cr_expect_eq(int_field(st, "host_count"), 1);
    cr_expect_eq(int_field(st, "evictions"), 1);
    char key[64];
    snprintf(key, sizeof key, "http://localhost:%d", server.port);
    cr_expect_str_eq(str_field(json_array_get(json_object_get(st, "hosts"), 0), "host"), key);
    json_decref(st);
}

Test(http_client, status_reports_libcurl_and_settings)
{
    json_t *st = status_ok();
    json_t *curl = json_object_get(st, "libcurl");
    cr_expect(matches("^[0-9]+\\.[0-9]+\\.[0-9]+", str_field(curl, "version")));
    cr_expect(json_is_true(json_object_get(curl, "ssl")), "libcurl has TLS");
    json_t *settings = json_object_get(st, "settings");
    cr_expect_eq(int_field(settings, "timeout_ms"), 5000);
    cr_expect_eq(int_field(settings, "max_hosts"), 8);
    cr_expect(json_is_true(json_object_get(settings, "verify_tls")), "TLS verification is on by default");
    cr_expect_str_eq(str_field(settings, "verify_tls_source"), "default");
    cr_expect(json_is_string(json_object_get(settings, "ca_bundle_source")));
    cr_expect_eq(json_array_size(json_object_get(st, "hosts")), 0);
    json_decref(st);
}

/* ---- timeouts and the deadline ---- */

Test(http_client, timeout_is_unavailable_and_fast)
{
    char msg[SUGA_ERROR_MAX];
    double started = now_ms();
    request_fails(fmt("{\"url\": \"http://127.0.0.1:%d/slow/3000\", \"timeout_ms\": 200}", server.port),
                  SUGA_E_UNAVAILABLE, msg, sizeof msg);
    double took = now_ms() - started;
    cr_expect(took >= 190 && took < 1000, "took %.0f ms", took);
    char want[160];
    snprintf(want, sizeof want, "http_client.make_request: GET http://127.0.0.1:%d/slow/3000: timed out after 200 ms",
             server.port);
    cr_expect_str_eq(msg, want);
    json_t *h = server_host();
    cr_expect_eq(int_field(h, "errors"), 1);
    cr_expect(matches("timed out after 200 ms$", str_field(h, "last_error")), "%s", str_field(h, "last_error"));
    json_decref(h);
}

Test(http_client, configured_default_timeout_applies)
{
    json_t *s = call_ok("http_client.configure", "{\"timeout_ms\": 150, \"user_agent\": \"suga-test/1\"}");
    cr_expect_eq(int_field(s, "timeout_ms"), 150);
    cr_expect_str_eq(str_field(s, "user_agent"), "suga-test/1");
    json_decref(s);
    char msg[SUGA_ERROR_MAX];
    request_fails(fmt("{\"url\": \"http://127.0.0.1:%d/slow/2000\"}", server.port), SUGA_E_UNAVAILABLE, msg,
                  sizeof msg);
    cr_expect(strstr(msg, "timed out after 150 ms"), "%s", msg);
    json_t *r = get_json("/echo");
    cr_expect_str_eq(str_field(json_object_get(json_object_get(r, "body"), "headers"), "user-agent"), "suga-test/1");
    json_decref(r);
    /* an empty user agent restores the default */
    s = call_ok("http_client.configure", "{\"user_agent\": \"\"}");
    cr_expect(matches("^suga-http_client libcurl/", str_field(s, "user_agent")));
    json_decref(s);
}

Test(http_client, timeout_clipped_to_the_deadline)
{
    json_decref(status_ok()); /* load the module first: loading libcurl takes 20-60 ms here */
    char *args = fmt("{\"url\": \"http://127.0.0.1:%d/slow/2000\"}", server.port);
    suga_ctx ctx;
    json_t *r = NULL;
    double started = now_ms();
    suga_status st = request_with(&ctx, args, wall_ms() + 100, &r);
    double took = now_ms() - started;
    cr_expect_eq(st, SUGA_E_UNAVAILABLE, "%s", ctx.error);
    cr_expect(took < 300, "took %.0f ms: the 5000 ms timeout is clipped to 100 - 50 ms", took);
    cr_expect(strstr(ctx.error, "timed out after"), "%s", ctx.error);
    cr_expect(strstr(ctx.error, "clipped to the time left before the invocation's deadline"), "%s", ctx.error);
    free(args);
}

Test(http_client, no_time_left_fails_at_once)
{
    json_decref(get_json("/json")); /* load the module and open the connection first */
    char *args = fmt("{\"url\": \"http://127.0.0.1:%d/echo\"}", server.port);
    suga_ctx ctx;
    json_t *r = NULL;
    double started = now_ms();
    suga_status st = request_with(&ctx, args, wall_ms() + 30, &r);
    double took = now_ms() - started;
    cr_expect_eq(st, SUGA_E_UNAVAILABLE);
    cr_expect(took < 50, "took %.1f ms: nothing is sent", took);
    cr_expect(strstr(ctx.error, "no time left before the invocation's deadline"), "%s", ctx.error);
    cr_expect(matches("^http_client\\.make_request: GET http://127\\.0\\.0\\.1:[0-9]+/echo: no time left", ctx.error),
              "%s", ctx.error);
    free(args);
    json_t *h = server_host();
    cr_expect_eq(int_field(h, "requests"), 1, "nothing was sent");
    json_decref(h);
}

Test(http_client, a_distant_deadline_does_not_shorten_the_timeout)
{
    char *args = fmt("{\"url\": \"http://127.0.0.1:%d/slow/100\", \"timeout_ms\": 2000}", server.port);
    suga_ctx ctx;
    json_t *r = NULL;
    cr_expect_eq(request_with(&ctx, args, wall_ms() + 60000, &r), SUGA_OK, "%s", ctx.error);
    json_decref(r);
    free(args);
}

/* ---- transport errors ---- */

Test(http_client, connection_refused)
{
    int port = closed_port();
    char msg[SUGA_ERROR_MAX], want[128];
    request_fails(fmt("{\"url\": \"http://127.0.0.1:%d/api/states\"}", port), SUGA_E_UNAVAILABLE, msg, sizeof msg);
    snprintf(want, sizeof want, "http_client.make_request: GET http://127.0.0.1:%d/api/states: connection refused", port);
    cr_expect_str_eq(msg, want);
    json_t *st = status_ok();
    json_t *h = json_array_get(json_object_get(st, "hosts"), 0);
    cr_expect_eq(int_field(h, "errors"), 1);
    cr_expect_eq(int_field(h, "connections"), 0);
    cr_expect(json_is_null(json_object_get(h, "last_status")));
    cr_expect(strstr(str_field(h, "last_error"), "connection refused"));
    json_decref(st);
}

Test(http_client, https_to_a_closed_port_fails_cleanly)
{
    int port = closed_port();
    char msg[SUGA_ERROR_MAX], want[128];
    request_fails(fmt("{\"url\": \"https://127.0.0.1:%d/api/\"}", port), SUGA_E_UNAVAILABLE, msg, sizeof msg);
    snprintf(want, sizeof want, "http_client.make_request: GET https://127.0.0.1:%d/api/: connection refused", port);
    cr_expect_str_eq(msg, want);
    json_t *st = status_ok();
    json_t *h = json_array_get(json_object_get(st, "hosts"), 0);
    cr_expect(json_is_true(json_object_get(h, "tls")));
    cr_expect(json_is_true(json_object_get(h, "verify_tls")));
    json_decref(st);
}

Test(http_client, https_to_a_plain_http_server_fails_the_handshake)
{
    char msg[SUGA_ERROR_MAX];
    request_fails(fmt("{\"url\": \"https://127.0.0.1:%d/json\", \"timeout_ms\": 3000}", server.port),
                  SUGA_E_UNAVAILABLE, msg, sizeof msg);
    cr_expect(matches("^http_client\\.make_request: GET https://127\\.0\\.0\\.1:[0-9]+/json: TLS handshake failed: ", msg),
              "%s", msg);
}

Test(http_client, unresolvable_host)
{
    char msg[SUGA_ERROR_MAX];
    /* .invalid never resolves (RFC 6761); the resolver answers from /etc/hosts or fails locally */
    request_fails(strdup("{\"url\": \"http://suga-test.invalid/\", \"timeout_ms\": 3000}"), SUGA_E_UNAVAILABLE, msg,
                  sizeof msg);
    cr_expect(matches("GET http://suga-test\\.invalid/: (could not resolve|timed out)", msg), "%s", msg);
}

/* ---- host breakers (limits.breakers.http_client: 5 failures, 30 s) ---- */

/* The runtime's clock, which host breakers read: set by each test, so a cooldown takes no time. */
static int64_t clock_now = 1000000;
static int64_t test_clock(void)
{
    return clock_now;
}

/* The breaker of host `key` in http_client.status (a new reference). */
static json_t *host_breaker(const char *key)
{
    json_t *st = status_ok(), *found = NULL, *h;
    size_t i;
    json_array_foreach(json_object_get(st, "hosts"), i, h)
        if (!strcmp(json_string_value(json_object_get(h, "host")), key))
            found = json_incref(json_object_get(h, "breaker"));
    json_decref(st);
    cr_assert(found, "no pool entry for %s", key);
    return found;
}

Test(http_client_breaker, a_failing_host_opens_and_other_hosts_are_unaffected)
{
    suga_clock_set_test_clock(test_clock);
    int port = closed_port();
    char msg[SUGA_ERROR_MAX], want[256], key[64];
    snprintf(key, sizeof key, "http://127.0.0.1:%d", port);
    for (int i = 0; i < 5; i++) {
        request_fails(fmt("{\"url\": \"http://127.0.0.1:%d/api/\"}", port), SUGA_E_UNAVAILABLE, msg, sizeof msg);
        cr_expect(strstr(msg, ": connection refused"), "failure %d is the host's own: %s", i + 1, msg);
    }
    clock_now += 17700;
    double started = now_ms();
    request_fails(fmt("{\"url\": \"http://127.0.0.1:%d/api/\"}", port), SUGA_E_UNAVAILABLE, msg, sizeof msg);
    cr_expect(now_ms() - started < 50, "an open breaker answers at once");
    snprintf(want, sizeof want,
             "http_client.make_request: circuit breaker for %s is open after 5 consecutive failures; next trial in "
             "12.3 s",
             key);
    cr_expect_str_eq(msg, want);
    json_t *b = host_breaker(key);
    assert_json(b, "{\"state\": \"open\", \"consecutive_failures\": 5, \"trips\": 1, \"rejections\": 1,"
                   " \"successes\": 0, \"failures\": 5, \"opened_at\": 1000000, \"retry_in_ms\": 12300}");
    /* another host (our server) is unaffected */
    json_t *r = get_json("/json");
    cr_expect_eq(int_field(r, "status"), 200);
    json_decref(r);
    char server_key[64];
    snprintf(server_key, sizeof server_key, "http://127.0.0.1:%d", server.port);
    b = host_breaker(server_key);
    cr_expect_str_eq(str_field(b, "state"), "closed");
    cr_expect_eq(int_field(b, "successes"), 1);
    json_decref(b);
    json_t *st = status_ok();
    assert_json(json_incref(json_object_get(json_object_get(st, "settings"), "host_breaker")),
                "{\"name\": \"http_client\", \"failure_threshold\": 5, \"cooldown_seconds\": 30,"
                " \"half_open_max_calls\": 1, \"success_threshold\": 1, \"source\": \"spec/limits.yaml:19:5\"}");
    json_decref(st);
    suga_clock_set_test_clock(NULL);
}

Test(http_client_breaker, server_errors_count_and_the_cooldown_leads_to_a_trial)
{
    suga_clock_set_test_clock(test_clock);
    char key[64], msg[SUGA_ERROR_MAX];
    snprintf(key, sizeof key, "http://127.0.0.1:%d", server.port);
    /* 5xx answers are results for the caller, and failures of the host */
    for (int i = 0; i < 5; i++) {
        json_t *r = get_json(i % 2 ? "/status/503" : "/status/500");
        cr_expect_geq(int_field(r, "status"), 500);
        json_decref(r);
    }
    request_fails(fmt("{\"url\": \"http://127.0.0.1:%d/json\"}", server.port), SUGA_E_UNAVAILABLE, msg, sizeof msg);
    cr_expect(strstr(msg, "circuit breaker for http://127.0.0.1:"), "%s", msg);
    cr_expect(strstr(msg, "next trial in 30.0 s"), "%s", msg);
    /* a failed trial opens it again, with a fresh cooldown */
    clock_now += 30000;
    json_t *r = get_json("/status/502");
    json_decref(r);
    json_t *b = host_breaker(key);
    cr_expect_str_eq(str_field(b, "state"), "open");
    cr_expect_eq(int_field(b, "trips"), 2);
    cr_expect_eq(int_field(b, "retry_in_ms"), 30000);
    json_decref(b);
    /* a good trial closes it */
    clock_now += 30000;
    r = get_json("/json");
    cr_expect_eq(int_field(r, "status"), 200);
    json_decref(r);
    b = host_breaker(key);
    cr_expect_str_eq(str_field(b, "state"), "closed");
    cr_expect_eq(int_field(b, "consecutive_failures"), 0);
    json_decref(b);
    json_decref(get_json("/json"));
    suga_clock_set_test_clock(NULL);
}

Test(http_client_breaker, answers_below_500_and_our_own_limits_do_not_count)
{
    char key[64], msg[SUGA_ERROR_MAX];
    snprintf(key, sizeof key, "http://127.0.0.1:%d", server.port);
    for (int i = 0; i < 4; i++)
        json_decref(get_json("/status/500"));
    json_decref(get_json("/status/404")); /* the host answers: the run of failures ends */
    for (int i = 0; i < 4; i++)
        json_decref(get_json("/status/500"));
    for (int i = 0; i < 3; i++) {
        request_fails(fmt("{\"url\": \"http://127.0.0.1:%d/big/5000\", \"max_response_bytes\": 10}", server.port),
                      SUGA_E_LIMIT, msg, sizeof msg);
        request_fails(fmt("{\"url\": \"http://127.0.0.1:%d/bigheader/150000\"}", server.port), SUGA_E_LIMIT, msg,
                      sizeof msg);
    }
    json_t *b = host_breaker(key);
    cr_expect_str_eq(str_field(b, "state"), "closed");
    cr_expect_eq(int_field(b, "consecutive_failures"), 4, "neither limit counts, nor breaks the run");
    cr_expect_eq(int_field(b, "failures"), 8);
    json_decref(b);
}

Test(http_client_breaker, calls_under_an_operation_breaker_are_left_to_it)
{
    int port = closed_port();
    char key[64];
    snprintf(key, sizeof key, "http://127.0.0.1:%d", port);
    char *args = fmt("{\"url\": \"http://127.0.0.1:%d/api/\"}", port);
    json_t *parsed = json_loads(args, 0, NULL);
    for (int i = 0; i < 7; i++) {
        suga_ctx ctx;
        suga_ctx_init(&ctx);
        ctx.under_breaker = true; /* as the dispatcher sets it inside homeassistant.* */
        json_t *r = NULL;
        cr_expect_eq(suga_call_json(&ctx, "http_client.make_request", 24, parsed, &r), SUGA_E_UNAVAILABLE);
        cr_expect(strstr(ctx.error, "connection refused"), "never refused by the host breaker: %s", ctx.error);
        cr_expect(ctx.under_breaker, "the caller's flag is left as it was");
    }
    json_decref(parsed);
    /* circuit_breaker.call runs it under the named breaker too */
    suga_ctx ctx;
    char *through = fmt("{\"name\": \"homeassistant\", \"op\": \"http_client.make_request\", \"args\": %s}", args);
    call_fails(&ctx, "circuit_breaker.call", through, SUGA_E_UNAVAILABLE);
    free(through);
    free(args);
    json_t *b = host_breaker(key);
    assert_json(b, "{\"state\": \"closed\", \"consecutive_failures\": 0, \"trips\": 0, \"rejections\": 0,"
                   " \"successes\": 0, \"failures\": 0}");
    json_t *named = call_ok("circuit_breaker.get", "{\"name\": \"homeassistant\"}");
    cr_expect_eq(int_field(named, "failures"), 1, "counted once, by the breaker the call ran under");
    json_decref(named);
}

Test(http_client_breaker, a_parameter_store_fetch_goes_through_the_host_breaker)
{
    suga_clock_set_test_clock(test_clock);
    setenv("AWS_SESSION_TOKEN", "session-for-the-test", 1);
    int port = closed_port();
    char value[64], want[SUGA_ERROR_MAX];
    bool found = false;
    int64_t version = 0;
    suga_ctx ctx;
    for (int i = 0; i < 5; i++) {
        suga_ctx_init(&ctx);
        cr_expect_eq(suga_parameter_store_get(&ctx, port, "/suga/HOME_ASSISTANT_URL", value, sizeof value, &found,
                                              &version),
                     SUGA_E_UNAVAILABLE);
    }
    cr_expect(strstr(ctx.error, ": connection refused"), "%s", ctx.error);
    suga_ctx_init(&ctx);
    cr_expect_eq(
        suga_parameter_store_get(&ctx, port, "/suga/HOME_ASSISTANT_URL", value, sizeof value, &found, &version),
        SUGA_E_UNAVAILABLE);
    snprintf(want, sizeof want,
             "Parameter Store: cannot read /suga/HOME_ASSISTANT_URL through the Parameters and Secrets extension on "
             "127.0.0.1:%d (is its layer added to the function?): http_client.make_request: circuit breaker for "
             "http://127.0.0.1:%d is open after 5 consecutive failures; next trial in 30.0 s",
             port, port);
    cr_expect_str_eq(ctx.error, want);
    suga_clock_set_test_clock(NULL);
}

/* ---- limits and bodies ---- */

Test(http_client, response_size_limit)
{
    char msg[SUGA_ERROR_MAX];
    request_fails(fmt("{\"url\": \"http://127.0.0.1:%d/big/5000\", \"max_response_bytes\": 1000}", server.port),
                  SUGA_E_LIMIT, msg, sizeof msg);
    cr_expect(strstr(msg, "/big/5000: response body exceeds max_response_bytes (1000 bytes)"), "%s", msg);
    /* chunked: no Content-Length to refuse up front, the running count stops it */
    request_fails(fmt("{\"url\": \"http://127.0.0.1:%d/big/50000?chunked=1\", \"max_response_bytes\": 10000}",
                      server.port),
                  SUGA_E_LIMIT, msg, sizeof msg);
    cr_expect(strstr(msg, "response body exceeds max_response_bytes (10000 bytes)"), "%s", msg);
    json_t *r = request_ok(fmt("{\"url\": \"http://127.0.0.1:%d/big/1000?chunked=1\", \"max_response_bytes\": 1000}",
                               server.port));
    cr_expect_eq(json_string_length(json_object_get(r, "body")), 1000, "exactly the limit is accepted");
    json_decref(r);
    r = request_ok(fmt("{\"url\": \"http://127.0.0.1:%d/big/2000000\", \"max_response_bytes\": 3000000}",
                       server.port));
    cr_expect_eq(json_string_length(json_object_get(r, "body")), 2000000, "past the default 1 MiB when allowed");
    json_decref(r);
}

Test(http_client, response_size_default_is_one_mebibyte)
{
    char msg[SUGA_ERROR_MAX];
    request_fails(fmt("{\"url\": \"http://127.0.0.1:%d/big/1048577\"}", server.port), SUGA_E_LIMIT, msg, sizeof msg);
    cr_expect(strstr(msg, "(1048576 bytes)"), "%s", msg);
}

Test(http_client, bad_json_body)
{
    char msg[SUGA_ERROR_MAX], want[200];
    request_fails(fmt("{\"url\": \"http://127.0.0.1:%d/badjson\"}", server.port), SUGA_E_HANDLER, msg, sizeof msg);
    snprintf(want, sizeof want, "http_client.make_request: GET http://127.0.0.1:%d/badjson: response is not valid JSON (line 1, column ",
             server.port);
    cr_expect(!strncmp(msg, want, strlen(want)), "%s", msg);
    /* parse_json false: the text */
    json_t *r = request_ok(fmt("{\"url\": \"http://127.0.0.1:%d/badjson\", \"parse_json\": false}", server.port));
    cr_expect_str_eq(str_field(r, "body"), "{\"ok\": tru");
    json_decref(r);
    /* an error status keeps its (bad) body as text: the status is what the caller acts on */
    r = get_json("/badjson/500");
    cr_expect_eq(int_field(r, "status"), 500);
    cr_expect_str_eq(str_field(r, "body"), "{\"ok\": tru");
    json_decref(r);
}

Test(http_client, oversized_response_headers_are_a_limit)
{
    char msg[SUGA_ERROR_MAX], want[200];
    request_fails(fmt("{\"url\": \"http://127.0.0.1:%d/bigheader/150000\"}", server.port), SUGA_E_LIMIT, msg,
                  sizeof msg);
    snprintf(want, sizeof want,
             "http_client.make_request: GET http://127.0.0.1:%d/bigheader/150000: response headers are too large%s",
             server.port, LIBCURL_VERSION_NUM >= 0x080600 ? ": " : " (a header line over libcurl's limit of 100 KB)");
    cr_expect(!strncmp(msg, want, strlen(want)), "%s", msg);
    json_t *r = get_json("/bigheader/50000");
    cr_expect_eq(int_field(r, "status"), 200, "a large header within libcurl's limit is fine");
    json_decref(r);
}

/* ---- arguments ---- */

Test(http_client, bad_arguments)
{
    suga_ctx ctx;
    call_fails(&ctx, "http_client.make_request", "{\"url\": \"ftp://u:" MARKER "@127.0.0.1/x?token=" MARKER "\"}",
               SUGA_E_INVALID_ARG);
    cr_expect_str_eq(ctx.error, "http_client.make_request: arg 'url' must be an http:// or https:// URL",
                     "the URL is not quoted");
    call_fails(&ctx, "http_client.make_request", "{\"url\": \"http://127.0.0.1/a b?token=" MARKER "\"}",
               SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "arg 'url' is not a valid URL: "), "%s", ctx.error);
    cr_expect_not(strstr(ctx.error, MARKER), "%s", ctx.error);
    call_fails(&ctx, "http_client.make_request", "{\"url\": \"http://127.0.0.1/\", \"method\": \"TRACE\"}",
               SUGA_E_INVALID_ARG);
    call_fails(&ctx, "http_client.make_request", "{\"url\": \"http://127.0.0.1/\", \"timeout_ms\": 0}", SUGA_E_INVALID_ARG);
    call_fails(&ctx, "http_client.make_request", "{\"url\": \"http://127.0.0.1/\", \"max_response_bytes\": 6291457}",
               SUGA_E_INVALID_ARG);
    call_fails(&ctx, "http_client.make_request", "{\"url\": \"http://127.0.0.1/\", \"headers\": {\"X-N\": 1}}",
               SUGA_E_INVALID_ARG);
    cr_expect_str_eq(ctx.error, "http_client.make_request: header \"X-N\" must be a string");
    call_fails(&ctx, "http_client.make_request",
               "{\"url\": \"http://127.0.0.1/\", \"headers\": {\"X-Api-Key\": \"" MARKER "\\r\\nX-Evil: 1\"}}",
               SUGA_E_INVALID_ARG);
    cr_expect_str_eq(ctx.error,
                     "http_client.make_request: header \"X-Api-Key\" has a line break or NUL in its value (not shown)");
    call_fails(&ctx, "http_client.make_request", "{\"url\": \"http://127.0.0.1/\", \"headers\": {\"Bad Name\": \"x\"}}",
               SUGA_E_INVALID_ARG);
    call_fails(&ctx, "http_client.make_request", "{\"url\": \"http://127.0.0.1/\", \"method\": \"HEAD\", \"body\": \"x\"}",
               SUGA_E_INVALID_ARG);
    cr_expect_str_eq(ctx.error, "http_client.make_request: a HEAD request has no body");
    call_fails(&ctx, "http_client.make_request", "{\"url\": \"http://[::1/\"}", SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "arg 'url' is not a valid URL"), "%s", ctx.error);
    call_fails(&ctx, "http_client.configure", "{\"max_hosts\": 65}", SUGA_E_INVALID_ARG);
    call_fails(&ctx, "http_client.configure", "{\"user_agent\": \"a\\nb\"}", SUGA_E_INVALID_ARG);
}

/* ---- AWS Signature Version 4 (aws_sigv4): libcurl signs; the signature itself is checked
 * independently by the fake CloudWatch (tests/fixtures/fake_cloudwatch.py) end to end ---- */

#define AWS_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" MARKER

static void set_aws_credentials(const char *session_token)
{
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET, 1);
    if (session_token)
        setenv("AWS_SESSION_TOKEN", session_token, 1);
    else
        unsetenv("AWS_SESSION_TOKEN");
}

Test(http_client, aws_sigv4_signs_with_the_process_credentials)
{
    set_aws_credentials("IQoJb3JpZ2luX2VjE" MARKER);
    json_t *r = request_ok(fmt("{\"method\": \"POST\", \"url\": \"http://127.0.0.1:%d/echo\","
                               " \"aws_sigv4\": \"aws:amz:eu-west-1:monitoring\","
                               " \"headers\": {\"X-Amz-Target\": \"GraniteServiceVersion20100801.GetMetricStatistics\","
                               " \"Content-Type\": \"application/x-amz-json-1.0\"},"
                               " \"body\": {\"Namespace\": \"AWS/Lambda\"}}",
                               server.port));
    cr_expect_eq(int_field(r, "status"), 200);
    json_t *echo = json_object_get(r, "body"), *h = json_object_get(echo, "headers");
    json_t *sig = json_object_get(echo, "sigv4");
    cr_assert(json_is_object(sig), "an AWS4-HMAC-SHA256 Authorization header");
    cr_expect(matches("^[0-9]{8}/eu-west-1/monitoring/aws4_request$", str_field(sig, "scope")), "%s",
              str_field(sig, "scope"));
    cr_expect_eq(int_field(sig, "signature_hex_length"), 64);
    cr_expect(matches("^[0-9]{8}T[0-9]{6}Z$", str_field(h, "x-amz-date")), "%s", str_field(h, "x-amz-date"));
    cr_expect_str_eq(str_field(h, "x-amz-security-token"), "<not echoed>", "the session token is sent");
    /* the session token and the API's target are signed too, so neither can be swapped in transit */
    static const char *const must_sign[] = {"host", "x-amz-date", "x-amz-security-token", "x-amz-target"};
    json_t *signed_headers = json_object_get(sig, "signed_headers");
    for (size_t i = 0; i < sizeof must_sign / sizeof *must_sign; i++) {
        bool found = false;
        size_t k;
        json_t *name;
        json_array_foreach(signed_headers, k, name) found |= !strcmp(json_string_value(name), must_sign[i]);
        cr_expect(found, "%s is signed", must_sign[i]);
    }
    json_decref(r);
    unsetenv("AWS_SESSION_TOKEN");
}

Test(http_client, aws_sigv4_refusals_name_the_rule_and_never_a_credential)
{
    suga_ctx ctx;
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    char *args = fmt("{\"url\": \"http://127.0.0.1:%d/echo\", \"aws_sigv4\": \"aws:amz:us-east-1:monitoring\"}",
                     server.port);
    call_fails(&ctx, "http_client.make_request", args, SUGA_E_STATE);
    free(args);
    cr_expect_str_eq(ctx.error, "http_client.make_request: aws_sigv4 needs the environment's AWS_ACCESS_KEY_ID and "
                                "AWS_SECRET_ACCESS_KEY (Lambda sets them from the function's role)");
    set_aws_credentials(NULL);
    args = fmt("{\"url\": \"http://127.0.0.1:%d/echo\", \"aws_sigv4\": \"aws:amz:us-east-1:monitoring\","
               " \"headers\": {\"Authorization\": \"Bearer " MARKER "\"}}",
               server.port);
    call_fails(&ctx, "http_client.make_request", args, SUGA_E_INVALID_ARG);
    free(args);
    cr_expect_str_eq(ctx.error, "http_client.make_request: aws_sigv4 signs the request in its Authorization header: "
                                "an Authorization header of the caller's cannot go with it");
    call_fails(&ctx, "http_client.make_request", "{\"url\": \"http://127.0.0.1/\", \"aws_sigv4\": \"aws4:x\"}",
               SUGA_E_INVALID_ARG);
    cr_expect(strstr(ctx.error, "arg 'aws_sigv4'"), "%s", ctx.error);
    /* a transport failure of a signed request: the message names the host, never a credential */
    call_fails(&ctx, "http_client.make_request",
               "{\"url\": \"http://127.0.0.1:1/\", \"aws_sigv4\": \"aws:amz:us-east-1:monitoring\"}",
               SUGA_E_UNAVAILABLE);
    cr_expect_not(strstr(ctx.error, MARKER), "%s", ctx.error);
    cr_expect_not(strstr(ctx.error, "AKIDEXAMPLE"), "%s", ctx.error);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
}

/* ---- secrets ---- */

Test(http_client, bearer_token_sent_but_never_shown)
{
    FILE *logs = capture_logs(SUGA_LOG_DEBUG);
    const char *auth = "\"headers\": {\"Authorization\": \"Bearer " MARKER "\", \"X-Api-Key\": \"" MARKER "-key\"}";
    int refused = closed_port();
    char *texts[16];
    size_t n = 0;
    char *requests[] = {
        fmt("{\"url\": \"http://127.0.0.1:%d/echo\", %s}", server.port, auth),
        fmt("{\"url\": \"http://127.0.0.1:%d/status/500\", %s}", server.port, auth),
        fmt("{\"url\": \"http://127.0.0.1:%d/status/401\", %s}", server.port, auth),
        fmt("{\"url\": \"http://127.0.0.1:%d/badjson\", %s}", server.port, auth),
        fmt("{\"url\": \"http://127.0.0.1:%d/slow/1000\", \"timeout_ms\": 100, %s}", server.port, auth),
        fmt("{\"url\": \"http://127.0.0.1:%d/big/5000\", \"max_response_bytes\": 10, %s}", server.port, auth),
        fmt("{\"url\": \"http://127.0.0.1:%d/api/states\", %s}", refused, auth),
        fmt("{\"url\": \"https://127.0.0.1:%d/api/states\", %s}", server.port, auth),
        fmt("{\"url\": \"http://user:" MARKER "@127.0.0.1:%d/x?access_token=" MARKER "&a=1\", %s}", refused, auth),
        fmt("{\"method\": \"POST\", \"url\": \"http://127.0.0.1:%d/status/500\", \"body\": {\"x\": 1}, %s}", server.port,
            auth),
    };
    bool matched = false;
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        suga_ctx ctx;
        json_t *r = NULL;
        suga_status st = request_with(&ctx, requests[i], 0, &r);
        if (st == SUGA_OK) {
            texts[n++] = dump(r);
            json_t *body = json_object_get(r, "body");
            if (json_is_object(body) && json_is_true(json_object_get(body, "authorization_matches")))
                matched = true;
        } else {
            texts[n++] = strdup(ctx.error);
        }
        json_decref(r);
        free(requests[i]);
    }
    cr_expect(matched, "the server received the bearer token");
    for (size_t i = 0; i < n; i++) {
        cr_expect_not(strstr(texts[i], MARKER), "the token leaked: %s", texts[i]);
        free(texts[i]);
    }
    /* the URL's password and token query value are masked */
    json_t *st = status_ok();
    char *status_text = dump(st);
    cr_expect_not(strstr(status_text, MARKER), "%s", status_text);
    free(status_text);
    json_decref(st);
    char *log_text = captured(logs);
    cr_expect(strstr(log_text, "\"http_client request\""), "debug records were written:\n%s", log_text);
    cr_expect_not(strstr(log_text, MARKER), "the token leaked into the logs:\n%s", log_text);
    free(log_text);
    suga_log_reset();
    fclose(logs);
}

Test(http_client, url_secrets_are_masked_in_messages)
{
    int port = closed_port();
    char msg[SUGA_ERROR_MAX], want[200];
    request_fails(fmt("{\"url\": \"http://admin:" MARKER "@127.0.0.1:%d/api?api_password=" MARKER "&entity=light.x#frag\"}",
                      port),
                  SUGA_E_UNAVAILABLE, msg, sizeof msg);
    snprintf(want, sizeof want,
             "http_client.make_request: GET http://***@127.0.0.1:%d/api?***: connection refused",
             port);
    cr_expect_str_eq(msg, want);
}

/* ---- secrets the runtime masks (registered by http_client before any message is written) ---- */

/* Markers no rule could mask by their shape: only their registration as secrets hides them. */
#define HEADER_MARKER "Qx7Rv2Lm9Wp4Zt8K"
#define BASIC_MARKER "Hn3Jd8Ws5Tc1Yb6F"
#define PASSWORD_MARKER "Mk4Pz9Rf2Lx7Cq5V"

Test(http_client, secret_header_values_are_masked_even_when_the_server_quotes_them)
{
    FILE *logs = capture_logs(SUGA_LOG_DEBUG);
    static const struct {
        const char *header, *value;
    } cases[] = {
        {"X-Custom-Auth-Token", HEADER_MARKER},               /* a secret-looking name */
        {"Authorization", "Basic " BASIC_MARKER},             /* the credential alone is quoted */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char msg[SUGA_ERROR_MAX];
        /* the body is '"' and the header's last word: jansson's message quotes it whole */
        request_fails(fmt("{\"url\": \"http://u:" PASSWORD_MARKER "@127.0.0.1:%d/reflect-badjson?header=%s\","
                          " \"headers\": {\"%s\": \"%s\"}}",
                          server.port, cases[i].header, cases[i].header, cases[i].value),
                      SUGA_E_HANDLER, msg, sizeof msg);
        cr_expect(strstr(msg, "response is not valid JSON"), "%s", msg);
        cr_expect(strstr(msg, "premature end of input near '\"***'"), "the quoted value is masked: %s", msg);
        cr_expect_not(strstr(msg, HEADER_MARKER) || strstr(msg, BASIC_MARKER) || strstr(msg, PASSWORD_MARKER), "%s",
                      msg);
    }
    json_t *h = server_host();
    char *host_text = dump(h);
    cr_expect(strstr(host_text, "premature end of input"), "last_error is the masked message: %s", host_text);
    cr_expect_not(strstr(host_text, HEADER_MARKER) || strstr(host_text, BASIC_MARKER), "%s", host_text);
    free(host_text);
    json_decref(h);
    char *log_text = captured(logs);
    cr_expect(strstr(log_text, "\"http_client request\""), "debug records were written:\n%s", log_text);
    bool leaked = strstr(log_text, HEADER_MARKER) || strstr(log_text, BASIC_MARKER) || strstr(log_text, PASSWORD_MARKER);
    cr_expect_not(leaked, "a secret leaked into the logs:\n%s", log_text);
    free(log_text);
    suga_log_reset();
    fclose(logs);
}

/* ---- TLS verification settings ---- */

Test(http_client, verify_tls_on_by_default)
{
    unsetenv("HOME_ASSISTANT_VERIFY_SSL");
    unsetenv("NOT_VERIFY_SSL");
    FILE *logs = capture_logs(SUGA_LOG_INFO);
    json_decref(get_json("/json"));
    json_t *h = server_host();
    cr_expect(json_is_true(json_object_get(h, "verify_tls")));
    json_decref(h);
    char *text = captured(logs);
    cr_expect_eq(count(text, "\"level\":\"warning\""), 0, "%s", text);
    free(text);
    suga_log_reset();
    fclose(logs);
}

static void expect_verification_off(const char *source)
{
    FILE *logs = capture_logs(SUGA_LOG_INFO);
    for (int i = 0; i < 3; i++)
        json_decref(get_json("/json"));
    char msg[SUGA_ERROR_MAX];
    request_fails(fmt("{\"url\": \"https://127.0.0.1:%d/\"}", closed_port()), SUGA_E_UNAVAILABLE, msg, sizeof msg);
    json_t *st = status_ok();
    json_t *settings = json_object_get(st, "settings");
    cr_expect(json_is_false(json_object_get(settings, "verify_tls")));
    cr_expect_str_eq(str_field(settings, "verify_tls_source"), source);
    json_t *h = json_array_get(json_object_get(st, "hosts"), 0);
    cr_expect(json_is_false(json_object_get(h, "verify_tls")));
    json_decref(st);
    char *text = captured(logs);
    cr_expect_eq(count(text, "\"level\":\"warning\""), 1, "exactly one warning:\n%s", text);
    cr_expect(strstr(text, "TLS certificate verification is off for every request"), "%s", text);
    cr_expect(strstr(text, source), "the warning names the setting:\n%s", text);
    free(text);
    suga_log_reset();
    fclose(logs);
}

Test(http_client, home_assistant_verify_ssl_false_turns_it_off_with_one_warning)
{
    setenv("HOME_ASSISTANT_VERIFY_SSL", "false", 1);
    unsetenv("NOT_VERIFY_SSL");
    expect_verification_off("HOME_ASSISTANT_VERIFY_SSL");
}

Test(http_client, not_verify_ssl_alias_is_inverted)
{
    unsetenv("HOME_ASSISTANT_VERIFY_SSL");
    setenv("NOT_VERIFY_SSL", "true", 1);
    expect_verification_off("NOT_VERIFY_SSL");
}

Test(http_client, verify_ssl_and_its_alias_must_agree)
{
    /* as the settings module does (handlers/config/settings.c): both may be set when they agree */
    setenv("HOME_ASSISTANT_VERIFY_SSL", "true", 1);
    setenv("NOT_VERIFY_SSL", "true", 1);
    suga_ctx ctx;
    call_fails(&ctx, "http_client.status", NULL, SUGA_E_STATE);
    cr_expect_str_eq(ctx.error, "http_client.status: HOME_ASSISTANT_VERIFY_SSL=true and NOT_VERIFY_SSL=true "
                                "contradict each other: set only one");
    setenv("NOT_VERIFY_SSL", "false", 1); /* agrees: verify; read again on the next call */
    json_t *st = status_ok();
    json_t *settings = json_object_get(st, "settings");
    cr_expect(json_is_true(json_object_get(settings, "verify_tls")));
    cr_expect_str_eq(str_field(settings, "verify_tls_source"), "HOME_ASSISTANT_VERIFY_SSL");
    json_decref(st);
}

Test(http_client, bad_verify_ssl_value_is_a_clear_error)
{
    setenv("HOME_ASSISTANT_VERIFY_SSL", "maybe", 1);
    suga_ctx ctx;
    call_fails(&ctx, "http_client.status", NULL, SUGA_E_STATE);
    cr_expect(strstr(ctx.error, "HOME_ASSISTANT_VERIFY_SSL"), "%s", ctx.error);
    cr_expect(strstr(ctx.error, "maybe"), "%s", ctx.error);
    setenv("HOME_ASSISTANT_VERIFY_SSL", "yes", 1); /* fixed: read again on the next call */
    json_decref(status_ok());
}

Test(http_client, configure_verify_tls_false_warns_once)
{
    unsetenv("HOME_ASSISTANT_VERIFY_SSL");
    unsetenv("NOT_VERIFY_SSL");
    FILE *logs = capture_logs(SUGA_LOG_INFO);
    json_t *s = call_ok("http_client.configure", "{\"verify_tls\": false}");
    cr_expect(json_is_false(json_object_get(s, "verify_tls")));
    cr_expect_str_eq(str_field(s, "verify_tls_source"), "configure");
    json_decref(s);
    json_decref(call_ok("http_client.configure", "{\"verify_tls\": false}"));
    json_decref(get_json("/json"));
    char *text = captured(logs);
    cr_expect_eq(count(text, "\"level\":\"warning\""), 1, "%s", text);
    free(text);
    suga_log_reset();
    fclose(logs);
}

Test(http_client, ssl_cert_file_names_the_ca_bundle)
{
    setenv("SSL_CERT_FILE", getenv("SUGA_HTTP_TEST_SERVER"), 1); /* any readable file will do */
    json_t *st = status_ok();
    json_t *settings = json_object_get(st, "settings");
    cr_expect_str_eq(str_field(settings, "ca_bundle"), getenv("SUGA_HTTP_TEST_SERVER"));
    cr_expect_str_eq(str_field(settings, "ca_bundle_source"), "SSL_CERT_FILE");
    json_decref(st);
}

Test(http_client, unreadable_ssl_cert_file_falls_back_with_a_warning)
{
    setenv("SSL_CERT_FILE", "/nonexistent/suga-ca.pem", 1);
    FILE *logs = capture_logs(SUGA_LOG_INFO);
    json_t *st = status_ok();
    json_t *settings = json_object_get(st, "settings");
    cr_expect_str_neq(str_field(settings, "ca_bundle_source"), "SSL_CERT_FILE");
    json_decref(st);
    char *text = captured(logs);
    cr_expect_eq(count(text, "SSL_CERT_FILE names a file that cannot be read"), 1, "%s", text);
    free(text);
    suga_log_reset();
    fclose(logs);
}

/* ---- TLS against a local HTTPS server with a self-signed certificate ---- */

typedef struct tls_files {
    char *dir, cert[512], key[512];
} tls_files;

/* A self-signed certificate for 127.0.0.1 made with the openssl tool. Without the tool the test
 * fails, saying what to install: a test that cannot run must not pass by not running. */
static void make_certificate(tls_files *t)
{
    t->dir = make_temp_dir("suga-http-tls");
    cr_assert(t->dir);
    snprintf(t->cert, sizeof t->cert, "%s/cert.pem", t->dir);
    snprintf(t->key, sizeof t->key, "%s/key.pem", t->dir);
    proc_result r;
    int ran = proc_run((const char *const[]){"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", t->key, "-out",
                                             t->cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                                             "subjectAltName=IP:127.0.0.1", NULL},
                       NULL, NULL, &r);
    if (ran != 0 || r.status != 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", ran != 0 ? "could not run it" : r.err);
        if (ran == 0)
            proc_free(&r);
        remove_tree(t->dir);
        free(t->dir);
        cr_assert_fail("the openssl program is needed to make the test certificate (%s): install the Debian package "
                       "openssl (scripts/lib/common.sh lists it in TEST_PACKAGES)",
                       why);
    }
    proc_free(&r);
}

static void drop_certificate(tls_files *t)
{
    remove_tree(t->dir);
    free(t->dir);
}

Test(http_client_tls, certificate_verified_by_default, .timeout = 30)
{
    unsetenv("HOME_ASSISTANT_VERIFY_SSL");
    unsetenv("NOT_VERIFY_SSL");
    unsetenv("SSL_CERT_FILE");
    tls_files t;
    make_certificate(&t);
    start_server_with((const char *const[]){"--tls-cert", t.cert, "--tls-key", t.key, NULL});
    FILE *logs = capture_logs(SUGA_LOG_INFO);

    /* on by default: a self-signed certificate is refused */
    char msg[SUGA_ERROR_MAX];
    request_fails(fmt("{\"url\": \"https://127.0.0.1:%d/json\"}", server.port), SUGA_E_UNAVAILABLE, msg, sizeof msg);
    cr_expect(matches("^http_client\\.make_request: GET https://127\\.0\\.0\\.1:[0-9]+/json: TLS certificate verification failed: ", msg),
              "%s", msg);

    /* verify_tls false for one request: it goes through, with one warning for the host */
    for (int i = 0; i < 2; i++) {
        json_t *r = request_ok(fmt("{\"url\": \"https://127.0.0.1:%d/json\", \"verify_tls\": false}", server.port));
        cr_expect_eq(int_field(r, "status"), 200);
        cr_expect(json_is_true(json_object_get(json_object_get(r, "body"), "ok")));
        json_decref(r);
    }
    char *text = captured(logs);
    cr_expect_eq(count(text, "\"level\":\"warning\""), 1, "%s", text);
    cr_expect(strstr(text, "TLS certificate verification is off for a request to https://127.0.0.1:"), "%s", text);
    free(text);

    json_t *st = status_ok();
    json_t *h = json_array_get(json_object_get(st, "hosts"), 0);
    cr_expect(json_is_true(json_object_get(h, "tls")));
    cr_expect(json_is_false(json_object_get(h, "verify_tls")), "the last request did not verify");
    cr_expect_eq(int_field(h, "errors"), 1);
    json_decref(st);
    suga_log_reset();
    fclose(logs);
    stop_server();
    drop_certificate(&t);
}

Test(http_client_tls, ssl_cert_file_trusts_a_private_ca, .timeout = 30)
{
    unsetenv("HOME_ASSISTANT_VERIFY_SSL");
    unsetenv("NOT_VERIFY_SSL");
    tls_files t;
    make_certificate(&t);
    setenv("SSL_CERT_FILE", t.cert, 1);
    start_server_with((const char *const[]){"--tls-cert", t.cert, "--tls-key", t.key, NULL});
    json_t *r = request_ok(fmt("{\"url\": \"https://127.0.0.1:%d/json\"}", server.port));
    cr_expect_eq(int_field(r, "status"), 200);
    json_decref(r);
    r = request_ok(fmt("{\"url\": \"https://127.0.0.1:%d/json\"}", server.port));
    cr_expect(json_is_true(json_object_get(r, "reused_connection")), "TLS connections are kept too");
    json_decref(r);
    json_t *st = status_ok();
    json_t *settings = json_object_get(st, "settings");
    cr_expect_str_eq(str_field(settings, "ca_bundle_source"), "SSL_CERT_FILE");
    json_t *h = json_array_get(json_object_get(st, "hosts"), 0);
    cr_expect(json_is_true(json_object_get(h, "tls")));
    cr_expect(json_is_true(json_object_get(h, "verify_tls")));
    cr_expect_eq(int_field(h, "connections"), 1);
    json_decref(st);
    stop_server();
    drop_certificate(&t);
}

#endif
