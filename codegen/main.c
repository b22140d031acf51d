/* main.c: the suga-gen command. Parse → validate → hash → emit → write, all or nothing.
 *
 *   suga-gen --out-dir DIR [--root DIR] [--prefix P] [--lookup-only] FILE...
 *
 * Every problem is printed as FILE:LINE:COL: error: MESSAGE and the exit status is 1. Outputs are
 * written to temporaries in DIR and renamed only when every stage succeeded; on failure the
 * temporaries and any previous outputs are removed, so a build never sees a stale or partial
 * table.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emit.h"
#include "mphf.h"
#include "model.h"

static const char USAGE[] =
    "usage: suga-gen --out-dir DIR [--root DIR] [--prefix PREFIX] [--lookup-only] SPEC.yaml...\n"
    "\n"
    "Compiles suga operation specs into C: suga_ops.h, suga_ops.c and suga_lookup.c in DIR.\n"
    "\n"
    "  -o, --out-dir DIR   where to write the generated files (required)\n"
    "  -r, --root DIR      show input paths relative to DIR in messages and banners\n"
    "                      (keeps output identical whatever the build directory)\n"
    "  -p, --prefix P      prefix of the exported symbols (default 'suga_': suga_find_op,\n"
    "                      suga_main_table)\n"
    "  -l, --lookup-only   write only suga_lookup.c (benchmarks, synthetic specs)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Errors are reported as FILE:LINE:COL: error: MESSAGE; the exit status is then 1 and no\n"
    "output file is left in DIR. The spec format is documented in spec/README.md.\n";

static const char *display_name(const char *path, const char *root_real)
{
    static char real[PATH_MAX];
    if (root_real && realpath(path, real)) {
        size_t n = strlen(root_real);
        if (!strncmp(real, root_real, n) && real[n] == '/')
            return real + n + 1;
    }
    while (!strncmp(path, "./", 2))
        path += 2;
    return path;
}

static char *join(const char *dir, const char *name, const char *suffix)
{
    size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s%s", dir, name, suffix);
    return p;
}

static void remove_outputs(const char *dir)
{
    for (int i = 0; i < GEN_OUTPUT__COUNT; i++) {
        char *p = join(dir, gen_output_names[i], "");
        if (p)
            unlink(p);
        free(p);
    }
}

/* Write each output to DIR/.NAME.tmp, then rename them all; undo everything on any failure. */
static int write_outputs(const char *dir, const gen_model *m, const gen_hash *h, const gen_emit_options *o)
{
    gen_output which[GEN_OUTPUT__COUNT];
    size_t count = 0;
    if (!o->lookup_only) {
        which[count++] = GEN_OUTPUT_HEADER;
        which[count++] = GEN_OUTPUT_SOURCE;
    }
    which[count++] = GEN_OUTPUT_LOOKUP;
    char *tmp[GEN_OUTPUT__COUNT] = {0};
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        const char *name = gen_output_names[which[i]];
        char hidden[256];
        snprintf(hidden, sizeof hidden, ".%s", name);
        tmp[i] = join(dir, hidden, ".tmp");
        FILE *f = tmp[i] ? fopen(tmp[i], "wb") : NULL;
        if (!f) {
            fprintf(stderr, "suga-gen: error: cannot write %s/%s: %s\n", dir, name, strerror(errno));
            rc = -1;
            break;
        }
        static char buffer[1 << 16]; /* large writes: the big specs emit tens of MB */
        setvbuf(f, buffer, _IOFBF, sizeof buffer);
        int emitted = gen_emit(m, h, o, which[i], f);
        if (fclose(f) != 0 || emitted != 0) {
            fprintf(stderr, "suga-gen: error: cannot write %s: %s\n", tmp[i], errno ? strerror(errno) : "out of memory");
            rc = -1;
        }
    }
    for (size_t i = 0; i < count && rc == 0; i++) {
        char *final = join(dir, gen_output_names[which[i]], "");
        if (!final || rename(tmp[i], final) != 0) {
            fprintf(stderr, "suga-gen: error: cannot rename %s: %s\n", tmp[i], strerror(errno));
            rc = -1;
        }
        free(final);
    }
    for (size_t i = 0; i < count; i++) {
        if (tmp[i] && rc != 0)
            unlink(tmp[i]);
        free(tmp[i]);
    }
    if (rc != 0)
        remove_outputs(dir);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option LONG[] = {
        {"out-dir", required_argument, NULL, 'o'}, {"root", required_argument, NULL, 'r'},
        {"prefix", required_argument, NULL, 'p'},  {"lookup-only", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *out_dir = NULL, *root = NULL;
    gen_emit_options options = {.prefix = "suga_"};
    int c;
    while ((c = getopt_long(argc, argv, "o:r:p:lh", LONG, NULL)) != -1) {
        switch (c) {
        case 'o':
            out_dir = optarg;
            break;
        case 'r':
            root = optarg;
            break;
        case 'p':
            options.prefix = optarg;
            break;
        case 'l':
            options.lookup_only = true;
            break;
        case 'h':
            fputs(USAGE, stdout);
            return 0;
        default:
            fputs(USAGE, stderr);
            return 2;
        }
    }
    if (!out_dir || optind >= argc) {
        fprintf(stderr, "suga-gen: error: %s\n\n%s", !out_dir ? "--out-dir is required" : "no spec files given", USAGE);
        return 2;
    }
    for (const char *s = options.prefix; *s; s++) {
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (s != options.prefix && *s >= '0' && *s <= '9'))) {
            fprintf(stderr, "suga-gen: error: --prefix '%s' is not the start of a C identifier\n", options.prefix);
            return 2;
        }
    }
    char root_real[PATH_MAX];
    if (root && !realpath(root, root_real)) {
        fprintf(stderr, "suga-gen: error: --root %s: %s\n", root, strerror(errno));
        return 2;
    }

    gen_model model;
    gen_model_init(&model, stderr);
    for (int i = optind; i < argc; i++)
        gen_parse_file(&model, argv[i], display_name(argv[i], root ? root_real : NULL));
    int rc = 1;
    gen_hash hash = {0};
    if (model.diag.error_count == 0 && gen_validate(&model) == 0) {
        const char **names = malloc(model.op_count * sizeof *names);
        size_t *lens = malloc(model.op_count * sizeof *lens);
        const char *err = names && lens ? NULL : "out of memory";
        for (size_t i = 0; !err && i < model.op_count; i++) {
            names[i] = model.ops[i]->full_name;
            lens[i] = strlen(names[i]);
        }
        if (!err)
            err = gen_build_hash(names, lens, model.op_count, &hash);
        free(names);
        free(lens);
        if (err)
            fprintf(stderr, "suga-gen: error: perfect hash: %s\n", err);
        else
            rc = write_outputs(out_dir, &model, &hash, &options) == 0 ? 0 : 1;
    }
    if (rc != 0)
        remove_outputs(out_dir);
    gen_hash_free(&hash);
    gen_model_free(&model);
    return rc;
}
