/* suga_hash.h: the name → slot function, shared by suga-gen (which builds and self-checks the
 * tables with it) and by the generated lookup code (which evaluates it at run time).
 *
 * Why this shape (measured, see docs/performance.md): cmph's own `cmph_search_packed` costs
 * 30–60 ns per lookup because it decodes its packed blob generically and hashes byte by byte.
 * Instead, a name is first reduced to a 64-bit fingerprint with whole-word loads (no
 * variable-length memcpy), the generator checks that the fingerprints of all names are distinct,
 * and cmph's BDZ_PH builds its perfect hash over those 8-byte fingerprints. Evaluating BDZ_PH on
 * an 8-byte key is one Jenkins mix round plus three table reads; the generator emits the
 * parameters (seed, r, g) as constants so the modulo operations become multiplications.
 *
 * The evaluation below reproduces cmph 2.0.2's `bdz_ph_search` exactly (Jenkins hash_vector with
 * the seed cmph chose, three vertices in [0,r), [r,2r), [2r,3r), g digits summed mod 3); suga-gen
 * compares it against `cmph_search` for every key and refuses to emit a table on any mismatch,
 * so a different cmph would be caught at build time, not at run time.
 *
 * The fingerprint is only required to separate the known names: an unknown name can land on any
 * slot, which is why every lookup ends with a full key comparison.
 */
#ifndef SUGA_HASH_H
#define SUGA_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t suga_load64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v); /* fixed size: compiles to one load */
    return v;
}

static inline uint32_t suga_load32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

#define SUGA_FP_MUL1 0x9E3779B97F4A7C15ull
#define SUGA_FP_MUL2 0xBF58476D1CE4E5B9ull

/* Whole-word fingerprint. For a fixed length every step is a bijection of the running state, so
 * two names of equal length that differ in one word always differ in state after that word;
 * lengths are mixed into the initial state. Byte order is the machine's: the generator runs on
 * the build machine and so does the code, and tables are checked at generation time. */
static inline uint64_t suga_fingerprint(const char *name, size_t len, uint64_t seed)
{
    uint64_t h = seed ^ ((uint64_t)len * SUGA_FP_MUL1);
    if (len >= 8) {
        const char *last = name + len - 8;
        for (const char *p = name; p < last; p += 8) {
            h = (h ^ suga_load64(p)) * SUGA_FP_MUL1;
            h ^= h >> 29;
        }
        h = (h ^ suga_load64(last)) * SUGA_FP_MUL1; /* overlapping final word */
    } else if (len >= 4) {
        uint64_t v = suga_load32(name) | ((uint64_t)suga_load32(name + len - 4) << 32);
        h = (h ^ v) * SUGA_FP_MUL1;
    } else if (len > 0) {
        const unsigned char *u = (const unsigned char *)name;
        uint64_t v = u[0] | ((uint64_t)u[len / 2] << 8) | ((uint64_t)u[len - 1] << 16);
        h = (h ^ v) * SUGA_FP_MUL1;
    }
    h ^= h >> 31;
    h *= SUGA_FP_MUL2;
    h ^= h >> 32;
    return h;
}

/* The 8 bytes cmph sees as the key: the fingerprint, little-endian. Written byte by byte so the
 * generator's keys do not depend on the host's byte order. */
static inline void suga_fingerprint_bytes(uint64_t fp, unsigned char out[8])
{
    for (int i = 0; i < 8; i++)
        out[i] = (unsigned char)(fp >> (8 * i));
}

/* Bob Jenkins' 96-bit mix, as cmph's jenkins_hash uses it. */
#define SUGA_JENKINS_MIX(a, b, c)                                                                  \
    do {                                                                                           \
        a -= b; a -= c; a ^= (c >> 13);                                                            \
        b -= c; b -= a; b ^= (a << 8);                                                             \
        c -= a; c -= b; c ^= (b >> 13);                                                            \
        a -= b; a -= c; a ^= (c >> 12);                                                            \
        b -= c; b -= a; b ^= (a << 16);                                                            \
        c -= a; c -= b; c ^= (b >> 5);                                                             \
        a -= b; a -= c; a ^= (c >> 3);                                                             \
        b -= c; b -= a; b ^= (a << 10);                                                            \
        c -= a; c -= b; c ^= (b >> 15);                                                            \
    } while (0)

/* cmph BDZ_PH evaluated on an 8-byte key. `g2` holds the g digits (0..2) of the 3r vertices,
 * four 2-bit digits per byte (the generator re-packs cmph's base-3 bytes so that reading a digit
 * is a shift and a mask instead of a table of 5 x 256 bytes). With `r` a compile-time constant in
 * generated code, the three `% r` are strength-reduced to multiplications. */
static inline uint32_t suga_bdz_ph_vertex(uint64_t fp, uint32_t seed, uint32_t r, const uint8_t *g2)
{
    uint32_t a = 0x9e3779b9u, b = 0x9e3779b9u, c = seed;
    c += 8;                       /* key length */
    b += (uint32_t)(fp >> 32);    /* key bytes 4..7, little-endian */
    a += (uint32_t)fp;            /* key bytes 0..3 */
    SUGA_JENKINS_MIX(a, b, c);
    uint32_t v0 = a % r, v1 = b % r + r, v2 = c % r + 2 * r;
    uint32_t d = ((g2[v0 >> 2] >> ((v0 & 3) * 2)) & 3) + ((g2[v1 >> 2] >> ((v1 & 3) * 2)) & 3) +
                 ((g2[v2 >> 2] >> ((v2 & 3) * 2)) & 3);
    d %= 3;
    return d == 0 ? v0 : (d == 1 ? v1 : v2);
}

/* Full key comparison with whole-word loads (lengths already known equal). */
static inline bool suga_key_equal(const char *a, const char *b, size_t len)
{
    if (len >= 8) {
        size_t i = 0;
        for (; i + 8 < len; i += 8)
            if (suga_load64(a + i) != suga_load64(b + i))
                return false;
        return suga_load64(a + len - 8) == suga_load64(b + len - 8);
    }
    if (len >= 4)
        return suga_load32(a) == suga_load32(b) && suga_load32(a + len - 4) == suga_load32(b + len - 4);
    for (size_t i = 0; i < len; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

#endif
