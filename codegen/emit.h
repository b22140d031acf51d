/* emit.h: stage 4 of suga-gen, C source text from the checked model and the hash. */
#ifndef SUGA_GEN_EMIT_H
#define SUGA_GEN_EMIT_H

#include <stdio.h>

#include "mphf.h"
#include "model.h"

typedef struct gen_emit_options {
    const char *prefix; /* of exported symbols: <prefix>find_op, <prefix>main_table */
    bool lookup_only;   /* only suga_lookup.c (benchmarks and large synthetic specs) */
} gen_emit_options;

typedef enum gen_output {
    GEN_OUTPUT_LOOKUP, /* suga_lookup.c: the perfect hash and find function */
    GEN_OUTPUT_HEADER, /* suga_ops.h: ids, argument structs, prototypes, fast-path wrappers */
    GEN_OUTPUT_SOURCE, /* suga_ops.c: parameter rows, descriptors, fusions, limits, the table */
    GEN_OUTPUT__COUNT
} gen_output;

extern const char *const gen_output_names[GEN_OUTPUT__COUNT];

/* Writes one output file to f. Returns 0, or -1 when out of memory or the write failed. */
int gen_emit(const gen_model *m, const gen_hash *h, const gen_emit_options *o, gen_output which, FILE *f);

#endif
