/* mphf.h: the perfect hash over operation names (see mphf.c for how it is built and checked). */
#ifndef SUGA_GEN_MPHF_H
#define SUGA_GEN_MPHF_H

#include <stddef.h>
#include <stdint.h>

typedef struct gen_hash {
    uint64_t fingerprint_seed;
    uint32_t cmph_seed;   /* Jenkins seed cmph chose */
    uint32_t r;           /* vertices per part; 3 r slots in all */
    uint32_t slot_count;
    uint8_t *g2;          /* g digits, 2 bits per vertex */
    size_t g2_len;
    uint16_t *slot_to_id; /* slot_count entries, SUGA_NO_OP where empty */
    uint32_t *slot_of_id; /* n entries */
} gen_hash;

/* Builds the hash for names[0..n) (names[i] has id i). Returns NULL on success, else a message;
 * on failure *h is left empty. */
const char *gen_build_hash(const char *const *names, const size_t *lens, size_t n, gen_hash *h);
void gen_hash_free(gen_hash *h);

#endif
