/* suga_hash.h: the name → slot function, shared by suga-gen (which builds and self-checks the
 * tables with it) and by the generated lookup code (which evaluates it at run time).
 *
 * Why this shape (measured, see docs/performance.md): cmph's own `cmph_search_packed` costs
 * 30–60 ns per lookup because it decodes its packed blob generically and hashes byte by byte.
 * Instead, a name is first reduced to a 64-bit fingerprint with fixed whole-word loads (no
 * variable-length memcpy, no length-dependent loop), the generator checks that the fingerprints
 * of all names are distinct, and cmph's BDZ_PH builds its perfect hash over those 8-byte
 * fingerprints. Evaluating BDZ_PH on an 8-byte key is one Jenkins mix round plus three table
 * reads; the generator emits the parameters (seed, r, g) as constants so the modulo operations
 * become multiplications. The Jenkins mix is the largest remaining cost; it is cmph's, and
 * the price of building with cmph (docs/performance.md measures the alternative).
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

#define SUGA_FP_K0 0xa0761d6478bd642full
#define SUGA_FP_K1 0xe7037ed1a0b428dbull
#define SUGA_FP_K2 0x8ebc6af09c88c6e3ull
#define SUGA_FP_K3 0x589965cc75374cc3ull
#define SUGA_FP_K4 0x1d8e4e27c47d124full

/* Names of SUGA_WINDOW_MIN..SUGA_WINDOW_MAX bytes are read as five fixed 8-byte windows
 * (overlapping when the name is shorter), so neither hashing nor comparing has a loop whose trip
 * count depends on the length: such a loop mispredicts once per lookup when lengths vary. */
#define SUGA_WINDOW_MIN 8u
#define SUGA_WINDOW_MAX 40u

typedef struct suga_windows {
    size_t o1, o2, o3; /* offsets of the middle windows; the others are 0 and len - 8 */
} suga_windows;

static inline suga_windows suga_windows_of(size_t len)
{
    size_t o3 = len < 16 ? 0 : len - 16;
    return (suga_windows){.o1 = len < 16 ? len - 8 : 8, .o2 = o3 < 16 ? o3 : 16, .o3 = o3};
}

/* 64x64 → 128-bit multiply, folded: the mixing step (GCC/clang extension). */
static inline uint64_t suga_mum(uint64_t a, uint64_t b)
{
    __extension__ typedef unsigned __int128 suga_u128;
    suga_u128 r = (suga_u128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* Any length: whole words in a loop, then the tail. Used outside the window range. */
static inline uint64_t suga_fingerprint_any(const char *name, size_t len, uint64_t seed)
{
    uint64_t h = seed ^ ((uint64_t)len * SUGA_FP_K4);
    size_t i = 0;
    for (; i + 8 <= len; i += 8)
        h = suga_mum(h ^ suga_load64(name + i), SUGA_FP_K1);
    uint64_t tail = 0;
    for (size_t k = 0; i + k < len; k++)
        tail |= (uint64_t)(unsigned char)name[i + k] << (8 * k);
    return suga_mum(h ^ tail, SUGA_FP_K2);
}

/* The fingerprint: five windows and two multiply levels (independent products, then one that
 * combines them) for names in the window range. It only has to tell the known names apart, which
 * suga-gen checks (and changes the seed until it does). */
static inline uint64_t suga_fingerprint(const char *name, size_t len, uint64_t seed)
{
    if (__builtin_expect(len < SUGA_WINDOW_MIN || len > SUGA_WINDOW_MAX, 0))
        return suga_fingerprint_any(name, len, seed);
    suga_windows w = suga_windows_of(len);
    uint64_t a = suga_load64(name) ^ seed, b = suga_load64(name + w.o1) ^ SUGA_FP_K1;
    uint64_t c = suga_load64(name + w.o2) ^ SUGA_FP_K2, d = suga_load64(name + w.o3) ^ SUGA_FP_K3;
    uint64_t e = suga_load64(name + len - 8) ^ ((uint64_t)len * SUGA_FP_K0);
    return suga_mum(suga_mum(a, b) ^ suga_mum(c, d) ^ e, SUGA_FP_K4);
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
    /* d mod 3 picks the vertex; done with masks because a branch here goes each way at random */
    d -= 3 * ((d * 11) >> 5); /* d mod 3 for d in 0..6 */
    uint32_t m1 = 0u - (uint32_t)(d == 1), m2 = 0u - (uint32_t)(d == 2);
    return v0 ^ ((v0 ^ v1) & m1) ^ ((v0 ^ v2) & m2);
}

/* Full key comparison (lengths already known equal): the same five windows, XORed and ORed. */
static inline bool suga_key_equal(const char *a, const char *b, size_t len)
{
    if (__builtin_expect(len < SUGA_WINDOW_MIN || len > SUGA_WINDOW_MAX, 0))
        return memcmp(a, b, len) == 0;
    suga_windows w = suga_windows_of(len);
    uint64_t x = (suga_load64(a) ^ suga_load64(b)) | (suga_load64(a + w.o1) ^ suga_load64(b + w.o1)) |
                 (suga_load64(a + w.o2) ^ suga_load64(b + w.o2)) | (suga_load64(a + w.o3) ^ suga_load64(b + w.o3)) |
                 (suga_load64(a + len - 8) ^ suga_load64(b + len - 8));
    return x == 0;
}

#endif
