/* proc.h: run a program from a test and capture what it prints (tests only). */
#ifndef SUGA_TEST_PROC_H
#define SUGA_TEST_PROC_H

#include <stddef.h>

typedef struct proc_result {
    int status;   /* exit status, or 128 + signal */
    char *out;    /* stdout, NUL-terminated, malloc'd */
    char *err;    /* stderr, NUL-terminated, malloc'd */
} proc_result;

/* Runs argv[0] (searched in PATH if it has no '/') in directory cwd (NULL = current), with
 * `input` on stdin (NULL = empty). Returns 0 when the program ran, -1 when it could not. */
int proc_run(const char *const *argv, const char *cwd, const char *input, proc_result *r);
void proc_free(proc_result *r);

/* Reads a whole file; NULL on error. *len may be NULL. */
char *read_file(const char *path, size_t *len);

/* Makes a fresh empty directory under $TMPDIR (or /tmp) and returns its path (malloc'd). */
char *make_temp_dir(const char *tag);
/* Removes a directory tree made by make_temp_dir. */
void remove_tree(const char *path);
/* Number of entries in a directory, not counting . and .. (-1 on error). */
int count_entries(const char *path);

#endif
