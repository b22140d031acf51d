/* proc.c: subprocess and file helpers for the tests. */
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

static int buf_read(buf *b, int fd)
{
    if (b->cap - b->len < 4097) {
        size_t cap = b->cap ? b->cap * 2 : 8192;
        char *grown = realloc(b->data, cap);
        if (!grown)
            return -1;
        b->data = grown;
        b->cap = cap;
    }
    ssize_t n = read(fd, b->data + b->len, b->cap - b->len - 1);
    if (n > 0)
        b->len += (size_t)n;
    return (int)n;
}

int proc_run(const char *const *argv, const char *cwd, const char *input, proc_result *r)
{
    memset(r, 0, sizeof *r);
    int out[2], err[2], in[2];
    if (pipe(out) || pipe(err) || pipe(in))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(in[1]);
        close(out[0]);
        close(err[0]);
        if (cwd && chdir(cwd) != 0)
            _exit(126);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (input) {
        size_t len = strlen(input), done = 0;
        while (done < len) {
            ssize_t n = write(in[1], input + done, len - done);
            if (n <= 0)
                break;
            done += (size_t)n;
        }
    }
    close(in[1]);
    buf bo = {0}, be = {0};
    struct pollfd fds[2] = {{.fd = out[0], .events = POLLIN}, {.fd = err[0], .events = POLLIN}};
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP))) {
                if (buf_read(i == 0 ? &bo : &be, fds[i].fd) <= 0) {
                    close(fds[i].fd);
                    fds[i].fd = -1;
                    open_fds--;
                }
            }
        }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->out = bo.data ? bo.data : calloc(1, 1);
    r->err = be.data ? be.data : calloc(1, 1);
    if (r->out)
        r->out[bo.len] = '\0';
    if (r->err)
        r->err[be.len] = '\0';
    return r->out && r->err ? 0 : -1;
}

void proc_free(proc_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    buf b = {0};
    int n;
    while ((n = buf_read(&b, fileno(f))) > 0)
        ;
    fclose(f);
    if (n < 0 && !b.data)
        return NULL;
    if (!b.data && !(b.data = calloc(1, 1)))
        return NULL;
    b.data[b.len] = '\0';
    if (len)
        *len = b.len;
    return b.data;
}

char *make_temp_dir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/suga-test-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    return mkdtemp(path) ? strdup(path) : NULL;
}

void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char child[4096];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(child);
            else
                unlink(child);
        }
        closedir(d);
    }
    rmdir(path);
}

int count_entries(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}
