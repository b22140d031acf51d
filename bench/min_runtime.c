/* min_runtime.c: the floor for the bootstrap's start-up benchmark (bench/lambda_bench.py): a C
 * program that does nothing but connect to $AWS_LAMBDA_RUNTIME_API and send one
 * GET /2018-06-01/runtime/invocation/next, then waits for the answer. Linked with libc only. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    const char *colon = api ? strrchr(api, ':') : NULL;
    if (!colon)
        return 2;
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(colon - api), api);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *a;
    if (getaddrinfo(host, colon + 1, &hints, &a) != 0)
        return 1;
    int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0 || connect(fd, a->ai_addr, a->ai_addrlen) != 0)
        return 1;
    char req[512];
    int n = snprintf(req, sizeof req, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", api);
    if (write(fd, req, (size_t)n) != n)
        return 1;
    char buf[4096];
    ssize_t got = read(fd, buf, sizeof buf); /* the benchmark stops us once the GET has arrived */
    freeaddrinfo(a);
    close(fd);
    return got > 0 ? 0 : 1;
}
