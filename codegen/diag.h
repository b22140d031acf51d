/* diag.h: error reporting for suga-gen. One `gen_error(loc, ...)` prints
 *   spec/cache.yaml:12:7: error: MESSAGE
 * and counts it; stages keep going after an error so one run reports every problem. */
#ifndef SUGA_GEN_DIAG_H
#define SUGA_GEN_DIAG_H

#include <stddef.h>
#include <stdio.h>

typedef struct gen_loc {
    const char *file; /* display name, e.g. "spec/cache.yaml" */
    int line, col;    /* 1-based */
} gen_loc;

typedef struct gen_diag {
    FILE *out;       /* where messages go (stderr in suga-gen, a memstream in tests) */
    int error_count;
} gen_diag;

void gen_error(gen_diag *diag, gen_loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Formats, using suga_closest (runtime/suggest.c), " (did you mean 'x'?)" into buf when there is a close candidate, else "". */
const char *gen_did_you_mean(char *buf, size_t size, const char *word,
                             const char *const *candidates, size_t count);

#endif
