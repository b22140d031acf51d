/* mphf.c: stage 3 of suga-gen. Names → perfect hash parameters, built with cmph.
 *
 * 1. Reduce each name to a 64-bit fingerprint (suga_hash.h); if two names collide, change the
 *    fingerprint seed (deterministic sequence) and try again.
 * 2. Build cmph BDZ_PH over the 8-byte fingerprints with a fixed seed for cmph's rand() use,
 *    so the same names give the same table on every run and machine.
 * 3. Read the parameters back from cmph's packed form (algorithm, hash, seed, r, g) and re-pack
 *    g from base-3 (5 digits per byte) to 2 bits per vertex for shift-and-mask decoding.
 * 4. Evaluate our inline version for every name and compare with cmph_search; any difference
 *    is an error, so the generated code can never silently disagree with cmph.
 */
#include <cmph.h>
#include <stdlib.h>
#include <string.h>

#include "mphf.h"
#include "suga_hash.h"
#include "suga_schema.h"

enum {
    CMPH_RAND_SEED = 20261123,   /* fixed: cmph draws its hash seed from rand() */
    FINGERPRINT_TRIES = 16,
    CMPH_TRIES = 8,
};

static const uint64_t FP_SEED0 = 0x5ca1ab1e0ddba11ull;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static bool fingerprints_distinct(uint64_t *fps, size_t n)
{
    uint64_t *sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return false;
    memcpy(sorted, fps, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_u64);
    bool ok = true;
    for (size_t i = 1; i < n && ok; i++)
        ok = sorted[i] != sorted[i - 1];
    free(sorted);
    return ok;
}

void gen_hash_free(gen_hash *h)
{
    free(h->g2);
    free(h->slot_to_id);
    free(h->slot_of_id);
    memset(h, 0, sizeof *h);
}

/* cmph's byte-vector adapter wants each key as a 4-byte length followed by the bytes. */
typedef struct fp_key {
    uint32_t len;
    unsigned char bytes[8];
} fp_key;

static cmph_t *build_cmph(fp_key *keys, size_t n, unsigned attempt)
{
    cmph_uint8 **vector = malloc(n * sizeof *vector);
    if (!vector)
        return NULL;
    for (size_t i = 0; i < n; i++)
        vector[i] = (cmph_uint8 *)&keys[i];
    cmph_io_adapter_t *source = cmph_io_byte_vector_adapter(vector, (cmph_uint32)n);
    cmph_t *mphf = NULL;
    if (source) {
        cmph_config_t *config = cmph_config_new(source);
        if (config) {
            cmph_config_set_algo(config, CMPH_BDZ_PH);
            srand(CMPH_RAND_SEED + attempt);
            mphf = cmph_new(config);
            cmph_config_destroy(config);
        }
        cmph_io_byte_vector_adapter_destroy(source);
    }
    free(vector);
    return mphf;
}

/* Packed BDZ_PH layout (cmph 2.0.2): u32 algo, u32 hash type, u32 jenkins seed, u32 r,
 * then g as base-3 digits, five per byte. */
static const char *read_params(cmph_t *mphf, gen_hash *h)
{
    cmph_uint32 size = cmph_packed_size(mphf);
    if (size < 16)
        return "cmph packed form is too small";
    unsigned char *packed = malloc(size);
    if (!packed)
        return "out of memory";
    cmph_pack(mphf, packed);
    uint32_t words[4];
    memcpy(words, packed, sizeof words);
    const char *err = NULL;
    if (words[0] != CMPH_BDZ_PH)
        err = "cmph packed an unexpected algorithm";
    else if (words[1] != CMPH_HASH_JENKINS)
        err = "cmph used an unexpected hash function";
    else if (words[3] == 0 || (uint64_t)words[3] * 3 > UINT32_MAX / 2)
        err = "cmph produced an unexpected r";
    if (!err) {
        h->cmph_seed = words[2];
        h->r = words[3];
        h->slot_count = 3 * h->r;
        size_t g_len = size - 16;
        if ((size_t)h->slot_count > g_len * 5)
            err = "cmph's g array is shorter than 3r digits";
    }
    if (!err) {
        h->g2_len = (h->slot_count + 3) / 4;
        h->g2 = calloc(h->g2_len, 1);
        if (!h->g2)
            err = "out of memory";
    }
    for (uint32_t v = 0; !err && v < h->slot_count; v++) {
        unsigned byte = packed[16 + v / 5];
        for (uint32_t k = 0; k < v % 5; k++)
            byte /= 3;
        h->g2[v >> 2] |= (uint8_t)((byte % 3) << ((v & 3) * 2));
    }
    free(packed);
    return err;
}

const char *gen_build_hash(const char *const *names, const size_t *lens, size_t n, gen_hash *h)
{
    memset(h, 0, sizeof *h);
    if (n == 0)
        return "no names to hash";
    uint64_t *fps = malloc(n * sizeof *fps);
    fp_key *keys = malloc(n * sizeof *keys);
    const char *err = NULL;
    cmph_t *mphf = NULL;
    if (!fps || !keys) {
        err = "out of memory";
        goto out;
    }
    bool distinct = false;
    for (unsigned t = 0; t < FINGERPRINT_TRIES && !distinct; t++) {
        h->fingerprint_seed = FP_SEED0 + t * SUGA_FP_K0;
        for (size_t i = 0; i < n; i++)
            fps[i] = suga_fingerprint(names[i], lens[i], h->fingerprint_seed);
        distinct = fingerprints_distinct(fps, n);
    }
    if (!distinct) {
        err = "could not find collision-free 64-bit fingerprints (are two names identical?)";
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        keys[i].len = 8;
        suga_fingerprint_bytes(fps[i], keys[i].bytes);
    }
    for (unsigned attempt = 0; attempt < CMPH_TRIES && !mphf; attempt++)
        mphf = build_cmph(keys, n, attempt);
    if (!mphf) {
        err = "cmph could not build a BDZ_PH function for these names";
        goto out;
    }
    if ((err = read_params(mphf, h)))
        goto out;
    h->slot_to_id = malloc(h->slot_count * sizeof *h->slot_to_id);
    h->slot_of_id = malloc(n * sizeof *h->slot_of_id);
    if (!h->slot_to_id || !h->slot_of_id) {
        err = "out of memory";
        goto out;
    }
    for (uint32_t s = 0; s < h->slot_count; s++)
        h->slot_to_id[s] = SUGA_NO_OP;
    for (size_t i = 0; i < n; i++) {
        uint32_t ours = suga_bdz_ph_vertex(fps[i], h->cmph_seed, h->r, h->g2);
        uint32_t theirs = cmph_search(mphf, (const char *)keys[i].bytes, 8);
        if (ours != theirs || ours >= h->slot_count) {
            err = "inline BDZ_PH evaluation disagrees with cmph_search (unsupported cmph version?)";
            goto out;
        }
        if (h->slot_to_id[ours] != SUGA_NO_OP) {
            err = "cmph returned the same slot for two names";
            goto out;
        }
        h->slot_to_id[ours] = (uint16_t)i;
        h->slot_of_id[i] = ours;
    }
out:
    if (mphf)
        cmph_destroy(mphf);
    free(fps);
    free(keys);
    if (err)
        gen_hash_free(h);
    return err;
}
