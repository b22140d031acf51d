/* emit.h: stage 4 of suga-gen, C source text from the checked model and the hash. */
#ifndef SUGA_GEN_EMIT_H
#define SUGA_GEN_EMIT_H

#include "mphf.h"
#include "model.h"

typedef struct gen_emit_options {
    const char *prefix; /* of exported symbols: <prefix>find_op, <prefix>main_table */
    bool lookup_only;   /* only suga_lookup.c (benchmarks and large synthetic specs) */
} gen_emit_options;

typedef struct gen_output {
    const char *name; /* file name inside the output directory */
    char *data;       /* malloc'd */
    size_t len;
} gen_output;

/* Renders the output files into memory. Returns 0, or -1 when out of memory. */
int gen_emit(const gen_model *m, const gen_hash *h, const gen_emit_options *o, gen_output *out, size_t *count);

#endif
