/* The bad-spec catalogue: every malformed spec in tests/bad-specs/ must make suga-gen print
 * the exact first error line listed in tests/bad-specs/expected.txt, exit with status 1, and
 * leave nothing in the output directory. Plus the two cases too large to store as files. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proc.h"

static const char *env_path(const char *name)
{
    const char *v = getenv(name);
    cr_assert(v && *v, "%s must be set by meson", name);
    return v;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs suga-gen on one case; returns its first stderr line (malloc'd) and checks the rest. */
static char *run_case(const char *dir, const char *name, const char *out_dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    cr_assert(stat(path, &st) == 0, "missing case %s", path);
    const char *argv[64] = {env_path("SUGA_GEN"), "--out-dir", out_dir};
    int argc = 3;
    char *files[32];
    int n_files = 0;
    const char *cwd = dir;
    if (S_ISDIR(st.st_mode)) {
        cwd = path;
        DIR *d = opendir(path);
        cr_assert(d);
        struct dirent *e;
        while ((e = readdir(d)) && n_files < 32)
            if (strstr(e->d_name, ".yaml"))
                files[n_files++] = strdup(e->d_name);
        closedir(d);
        qsort(files, (size_t)n_files, sizeof files[0], cmp_str);
        for (int i = 0; i < n_files; i++)
            argv[argc++] = files[i];
    } else {
        argv[argc++] = name;
    }
    argv[argc] = NULL;
    proc_result r;
    cr_assert(proc_run(argv, cwd, NULL, &r) == 0);
    cr_expect_eq(r.status, 1, "%s: exit status %d, expected 1", name, r.status);
    cr_expect_eq(count_entries(out_dir), 0, "%s: suga-gen left files in its output directory", name);
    char *nl = strchr(r.err, '\n');
    char *first = strndup(r.err, nl ? (size_t)(nl - r.err) : strlen(r.err));
    proc_free(&r);
    for (int i = 0; i < n_files; i++)
        free(files[i]);
    return first;
}

Test(bad_specs, catalogue)
{
    const char *dir = env_path("SUGA_BAD_SPECS");
    char expected_path[4096];
    snprintf(expected_path, sizeof expected_path, "%s/expected.txt", dir);
    char *expected = read_file(expected_path, NULL);
    cr_assert(expected, "cannot read %s", expected_path);
    char *out_dir = make_temp_dir("bad");
    cr_assert(out_dir);
    int cases = 0;
    char *save = NULL;
    for (char *line = strtok_r(expected, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || !line[0])
            continue;
        char *tab = strchr(line, '\t');
        cr_assert(tab, "malformed line in expected.txt: %s", line);
        *tab = '\0';
        char *got = run_case(dir, line, out_dir);
        cr_expect_str_eq(got, tab + 1, "case %s", line);
        free(got);
        cases++;
    }
    /* every case on disk must be listed, so none is silently skipped */
    DIR *d = opendir(dir);
    int on_disk = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        on_disk += e->d_name[0] != '.' && strcmp(e->d_name, "expected.txt");
    closedir(d);
    cr_expect_eq(cases, on_disk, "expected.txt lists %d cases, the directory holds %d", cases, on_disk);
    cr_expect_geq(cases, 30, "the catalogue must hold at least 30 malformed specs");
    remove_tree(out_dir);
    free(out_dir);
    free(expected);
}

/* A spec with more operations than ids can hold: generated here, too big to keep on disk. */
Test(bad_specs, too_many_operations, .timeout = 120)
{
    char *dir = make_temp_dir("many");
    char *out_dir = make_temp_dir("many-out");
    cr_assert(dir && out_dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/big.yaml", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs("interface: big\noperations:\n", f);
    for (int i = 0; i < 65536; i++)
        fprintf(f, "  op%d: {}\n", i);
    fclose(f);
    const char *argv[] = {env_path("SUGA_GEN"), "--out-dir", out_dir, "big.yaml", NULL};
    proc_result r;
    cr_assert(proc_run(argv, dir, NULL, &r) == 0);
    cr_expect_eq(r.status, 1);
    cr_expect_str_eq(r.err, "big.yaml:65538:3: error: too many operations: 65536 are declared, at most 65535 are supported\n");
    cr_expect_eq(count_entries(out_dir), 0);
    proc_free(&r);
    remove_tree(dir);
    remove_tree(out_dir);
    free(dir);
    free(out_dir);
}

/* A failed run must also remove outputs left by an earlier successful run. */
Test(bad_specs, failure_removes_previous_outputs)
{
    char *out_dir = make_temp_dir("stale");
    cr_assert(out_dir);
    const char *dir = env_path("SUGA_BAD_SPECS");
    char good[4096], bad[4096];
    snprintf(good, sizeof good, "%s/../golden/spec/sample.yaml", dir);
    snprintf(bad, sizeof bad, "%s/07-unknown-op-key.yaml", dir);
    const char *ok_argv[] = {env_path("SUGA_GEN"), "--out-dir", out_dir, good, NULL};
    proc_result r;
    cr_assert(proc_run(ok_argv, NULL, NULL, &r) == 0);
    cr_assert_eq(r.status, 0, "%s", r.err);
    proc_free(&r);
    cr_assert_eq(count_entries(out_dir), 3);
    const char *bad_argv[] = {env_path("SUGA_GEN"), "--out-dir", out_dir, bad, NULL};
    cr_assert(proc_run(bad_argv, NULL, NULL, &r) == 0);
    cr_expect_eq(r.status, 1);
    cr_expect_eq(count_entries(out_dir), 0);
    proc_free(&r);
    remove_tree(out_dir);
    free(out_dir);
}

Test(suga_gen, usage_errors)
{
    const char *no_out[] = {env_path("SUGA_GEN"), "x.yaml", NULL};
    proc_result r;
    cr_assert(proc_run(no_out, NULL, NULL, &r) == 0);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "--out-dir is required"), "%s", r.err);
    proc_free(&r);
    const char *help[] = {env_path("SUGA_GEN"), "--help", NULL};
    cr_assert(proc_run(help, NULL, NULL, &r) == 0);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "usage: suga-gen"));
    proc_free(&r);
    const char *missing[] = {env_path("SUGA_GEN"), "--out-dir", "/tmp", "/nonexistent/spec.yaml", NULL};
    cr_assert(proc_run(missing, NULL, NULL, &r) == 0);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "/nonexistent/spec.yaml: error: cannot open: No such file or directory"), "%s", r.err);
    proc_free(&r);
}
