/* lookup_bench.c: name → operation id, measured for several methods on the same names.
 *
 *   lookup_bench [--reps R] [--queries Q] [--chain-budget B] DATA_DIR
 *
 * DATA_DIR/n<N>/keys.txt and unknown.txt are written by bench/make-synthetic-specs; the sizes
 * and the generated functions come from bench_sets.h, written by bench/run:
 *
 *   BENCH_SET(N, suga_find_fn, gperf_lookup_fn)      gperf finished
 *   BENCH_SET_NO_GPERF(N, suga_find_fn, "why")       gperf failed or was skipped
 *
 * Methods (all return the id = line of keys.txt, or SUGA_NO_OP):
 *   suga     the generated find function (suga-gen --lookup-only --prefix bN_)
 *   gperf    gperf -t -C -l output; entry->id
 *   cmph     cmph_search_packed on a packed BDZ_PH blob built here over the names, then the
 *            same slot → id map and full-key check suga does (so both reject unknown names)
 *   bsearch  libc bsearch over the sorted names (strcmp)
 *   chain    strcmp against every name in turn (naive dispatch); fewer queries at large N
 *   array    table[id] with a range check: what a caller that already has the id pays
 *
 * Every method is first checked on every known name (right id) and every unknown name
 * (rejected); each timed run's checksum (sum of returned ids) must equal the expected one, which
 * also keeps the compiler from discarding any lookup. Two query mixes: known names only, and
 * 50 % unknown names of the same length distribution. Queries are pre-generated and shuffled
 * with a fixed seed. Each cell is timed `reps` times, interleaved across methods (so a noisy
 * moment hits every method alike), and the best is reported. Lookups are independent of each
 * other, so this measures throughput, as a dispatcher serving a stream of requests sees it.
 */
#include <cmph.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "suga_schema.h" /* SUGA_NO_OP */

typedef uint32_t (*find_fn)(const char *name, size_t len);

struct suga_bench_gperf_entry {
    const char *name;
    int id;
};
typedef const struct suga_bench_gperf_entry *(*gperf_fn)(const char *str, size_t len);

#define BENCH_SET(n, suga, gperf)                                                                  \
    uint32_t suga(const char *name, size_t len);                                                   \
    const struct suga_bench_gperf_entry *gperf(const char *str, size_t len);
#define BENCH_SET_NO_GPERF(n, suga, why) uint32_t suga(const char *name, size_t len);
#include "bench_sets.h"
#undef BENCH_SET
#undef BENCH_SET_NO_GPERF

typedef struct bench_set {
    unsigned n;
    find_fn suga;
    gperf_fn gperf;         /* NULL when gperf did not finish */
    const char *gperf_note; /* why there is no gperf, or NULL */
} bench_set;

static const bench_set SETS[] = {
#define BENCH_SET(n, suga, gperf) {n, suga, gperf, NULL},
#define BENCH_SET_NO_GPERF(n, suga, why) {n, suga, NULL, why},
#include "bench_sets.h"
};
enum { SET_COUNT = sizeof SETS / sizeof SETS[0] };

/* ------------------------------------------------------------------ data */

typedef struct query {
    const char *name; /* NUL-terminated */
    uint32_t len;
    uint32_t id; /* expected answer: id or SUGA_NO_OP */
} query;

typedef struct keyset {
    unsigned n;
    char *known_text, *unknown_text;
    const char **known; /* id order = byte order */
    uint32_t *known_len;
    const char **unknown;
    uint32_t *unknown_len;
    /* array floor: what a descriptor table by id looks like */
    struct entry {
        const char *name;
        uint32_t len;
        uint32_t id;
    } *by_id;
    /* cmph */
    void *packed;
    uint32_t packed_size;
    uint32_t cmph_range;
    uint32_t *cmph_slot_to_id;
    double cmph_build_ms;
} keyset;

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "lookup_bench: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open %s", path);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0;) {
        len += got;
        if (len + 1 == cap)
            buf = realloc(buf, cap *= 2);
    }
    if (!buf)
        die("out of memory reading %s", path);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/* Split text into lines in place. */
static unsigned split_lines(char *text, const char ***lines, uint32_t **lens)
{
    unsigned count = 0;
    for (char *p = text; *p; p++)
        count += *p == '\n';
    *lines = malloc((count + 1) * sizeof **lines);
    *lens = malloc((count + 1) * sizeof **lens);
    unsigned i = 0;
    for (char *p = text; *p && i <= count;) {
        char *nl = strchr(p, '\n');
        if (!nl)
            nl = p + strlen(p);
        if (nl > p) {
            (*lines)[i] = p;
            (*lens)[i] = (uint32_t)(nl - p);
            i++;
        }
        if (!*nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    return i;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void build_cmph(keyset *k)
{
    double t0 = now_s();
    cmph_t *mphf = NULL;
    for (unsigned attempt = 0; attempt < 8 && !mphf; attempt++) {
        cmph_io_adapter_t *source = cmph_io_vector_adapter((char **)k->known, k->n);
        cmph_config_t *config = cmph_config_new(source);
        cmph_config_set_algo(config, CMPH_BDZ_PH);
        srand(20261123 + attempt); /* cmph draws its seed from rand() */
        mphf = cmph_new(config);
        cmph_config_destroy(config);
        cmph_io_vector_adapter_destroy(source);
    }
    k->cmph_build_ms = (now_s() - t0) * 1e3;
    if (!mphf)
        die("cmph could not build BDZ_PH for %s", "the names");
    k->packed_size = cmph_packed_size(mphf);
    k->packed = malloc(k->packed_size);
    cmph_pack(mphf, k->packed);
    cmph_destroy(mphf);
    uint32_t range = 0;
    for (unsigned i = 0; i < k->n; i++) {
        uint32_t s = cmph_search_packed(k->packed, k->known[i], k->known_len[i]);
        range = s + 1 > range ? s + 1 : range;
    }
    k->cmph_range = range;
    k->cmph_slot_to_id = malloc(range * sizeof *k->cmph_slot_to_id);
    for (uint32_t s = 0; s < range; s++)
        k->cmph_slot_to_id[s] = SUGA_NO_OP;
    for (unsigned i = 0; i < k->n; i++) {
        uint32_t s = cmph_search_packed(k->packed, k->known[i], k->known_len[i]);
        if (k->cmph_slot_to_id[s] != SUGA_NO_OP)
            die("cmph BDZ_PH is not perfect on %s", k->known[i]);
        k->cmph_slot_to_id[s] = i;
    }
}

static void load_keyset(keyset *k, const char *dir, unsigned n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/n%u/keys.txt", dir, n);
    k->known_text = read_file(path);
    k->n = split_lines(k->known_text, &k->known, &k->known_len);
    if (k->n != n)
        die("%s does not hold the expected number of names", path);
    for (unsigned i = 1; i < n; i++)
        if (strcmp(k->known[i - 1], k->known[i]) >= 0)
            die("%s is not sorted and unique", path);
    snprintf(path, sizeof path, "%s/n%u/unknown.txt", dir, n);
    k->unknown_text = read_file(path);
    if (split_lines(k->unknown_text, &k->unknown, &k->unknown_len) != n)
        die("%s does not hold one unknown name per known name", path);
    k->by_id = malloc(n * sizeof *k->by_id);
    for (unsigned i = 0; i < n; i++)
        k->by_id[i] = (struct entry){k->known[i], k->known_len[i], i};
    build_cmph(k);
}

static void free_keyset(keyset *k)
{
    free(k->known_text);
    free(k->unknown_text);
    free(k->known);
    free(k->known_len);
    free(k->unknown);
    free(k->unknown_len);
    free(k->by_id);
    free(k->packed);
    free(k->cmph_slot_to_id);
}

static uint64_t rng_state;
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* `count` queries: successive shuffles of the pool (every known name, plus as many unknown
 * ones when `mixed`), so every name is asked equally often and the order is unpredictable. */
static query *make_queries(const keyset *k, bool mixed, size_t count, uint64_t seed)
{
    size_t pool_n = mixed ? 2 * (size_t)k->n : k->n;
    query *pool = malloc(pool_n * sizeof *pool);
    for (unsigned i = 0; i < k->n; i++) {
        pool[i] = (query){k->known[i], k->known_len[i], i};
        if (mixed)
            pool[k->n + i] = (query){k->unknown[i], k->unknown_len[i], SUGA_NO_OP};
    }
    query *q = malloc(count * sizeof *q);
    if (!pool || !q)
        die("out of memory for %s", "queries");
    rng_state = seed;
    for (size_t done = 0; done < count;) {
        for (size_t i = pool_n - 1; i > 0; i--) {
            size_t j = rng_next() % (i + 1);
            query t = pool[i];
            pool[i] = pool[j];
            pool[j] = t;
        }
        size_t take = count - done < pool_n ? count - done : pool_n;
        memcpy(q + done, pool, take * sizeof *q);
        done += take;
    }
    free(pool);
    return q;
}

/* ------------------------------------------------------------------ methods */

static const keyset *cur; /* the key set the helpers below look at */

static int cmp_name(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

static inline uint32_t by_bsearch(const char *name)
{
    const char **hit = bsearch(name, cur->known, cur->n, sizeof *cur->known, cmp_name);
    return hit ? (uint32_t)(hit - cur->known) : SUGA_NO_OP;
}

static inline uint32_t by_chain(const char *name)
{
    const char *const *names = cur->known;
    for (unsigned i = 0, n = cur->n; i < n; i++)
        if (!strcmp(name, names[i]))
            return i;
    return SUGA_NO_OP;
}

static inline uint32_t by_cmph(const char *name, uint32_t len)
{
    uint32_t slot = cmph_search_packed(cur->packed, name, len);
    if (slot >= cur->cmph_range)
        return SUGA_NO_OP;
    uint32_t id = cur->cmph_slot_to_id[slot];
    if (id == SUGA_NO_OP || cur->known_len[id] != len || memcmp(cur->known[id], name, len) != 0)
        return SUGA_NO_OP;
    return id;
}

static inline uint32_t by_gperf(gperf_fn fn, const char *name, uint32_t len)
{
    const struct suga_bench_gperf_entry *e = fn(name, len);
    return e ? (uint32_t)e->id : SUGA_NO_OP;
}

/* Branch-free, so the 50 % unknown mix does not pay for mispredicting the range check: a floor. */
static inline uint32_t by_array(uint32_t id)
{
    uint32_t mask = 0u - (uint32_t)(id < cur->n);
    uint32_t v = cur->by_id[id & mask].id;
    return (v & mask) | (SUGA_NO_OP & ~mask);
}

enum method { M_ARRAY, M_SUGA, M_GPERF, M_CMPH, M_BSEARCH, M_CHAIN, M__COUNT };
static const char *const METHOD_NAMES[M__COUNT] = {
    [M_ARRAY] = "array by id (the floor)",
    [M_SUGA] = "**suga generated lookup**",
    [M_GPERF] = "gperf -t -C -l",
    [M_CMPH] = "cmph_search_packed BDZ_PH (+ key check)",
    [M_BSEARCH] = "bsearch over sorted names",
    [M_CHAIN] = "strcmp chain",
};

/* One answer, for verification. */
static uint32_t lookup_one(enum method m, const bench_set *s, const char *name, uint32_t len, uint32_t id)
{
    switch (m) {
    case M_ARRAY: return by_array(id);
    case M_SUGA: return s->suga(name, len);
    case M_GPERF: return by_gperf(s->gperf, name, len);
    case M_CMPH: return by_cmph(name, len);
    case M_BSEARCH: return by_bsearch(name);
    case M_CHAIN: return by_chain(name);
    default: return SUGA_NO_OP;
    }
}

/* The timed loops: one per method so each call site is direct (or a loop-invariant pointer). */
#define TIMED_LOOP(expr)                                                                           \
    uint64_t sum = 0;                                                                              \
    double t0 = now_s();                                                                           \
    for (size_t r = 0; r < loops; r++)                                                             \
        for (size_t i = 0; i < nq; i++) {                                                          \
            const query *q = &qs[i];                                                               \
            sum += (expr);                                                                         \
        }                                                                                          \
    *checksum = sum;                                                                               \
    return now_s() - t0;

__attribute__((noinline)) static double run_array(const bench_set *s, const query *qs, size_t nq, size_t loops, uint64_t *checksum)
{
    (void)s;
    TIMED_LOOP(by_array(q->id))
}
__attribute__((noinline)) static double run_suga(const bench_set *s, const query *qs, size_t nq, size_t loops, uint64_t *checksum)
{
    find_fn fn = s->suga;
    TIMED_LOOP(fn(q->name, q->len))
}
__attribute__((noinline)) static double run_gperf(const bench_set *s, const query *qs, size_t nq, size_t loops, uint64_t *checksum)
{
    gperf_fn fn = s->gperf;
    TIMED_LOOP(by_gperf(fn, q->name, q->len))
}
__attribute__((noinline)) static double run_cmph(const bench_set *s, const query *qs, size_t nq, size_t loops, uint64_t *checksum)
{
    (void)s;
    TIMED_LOOP(by_cmph(q->name, q->len))
}
__attribute__((noinline)) static double run_bsearch(const bench_set *s, const query *qs, size_t nq, size_t loops, uint64_t *checksum)
{
    (void)s;
    TIMED_LOOP(by_bsearch(q->name))
}
__attribute__((noinline)) static double run_chain(const bench_set *s, const query *qs, size_t nq, size_t loops, uint64_t *checksum)
{
    (void)s;
    TIMED_LOOP(by_chain(q->name))
}

typedef double (*run_fn)(const bench_set *, const query *, size_t, size_t, uint64_t *);
static const run_fn RUNS[M__COUNT] = {
    [M_ARRAY] = run_array, [M_SUGA] = run_suga,       [M_GPERF] = run_gperf,
    [M_CMPH] = run_cmph,   [M_BSEARCH] = run_bsearch, [M_CHAIN] = run_chain,
};

/* ------------------------------------------------------------------ driver */

typedef struct cell {
    bool have;
    double ns;      /* best ns per lookup */
    size_t lookups; /* per repetition */
} cell;

static cell results[2][M__COUNT][SET_COUNT];
static unsigned reps = 7;
static size_t query_count = 1u << 20;     /* distinct query slots; looped to reach min_lookups */
static size_t min_lookups = 2u << 20;     /* per cell and repetition */
static double chain_budget = 64.0 * 1024 * 1024; /* names compared per chain repetition */
/* --only / --size / --mix: one method, size and mix (for callgrind --toggle-collect=run_METHOD) */
static int only_method = -1, only_mix = -1;
static unsigned only_size;
static const char *const METHOD_KEYS[M__COUNT] = {
    [M_ARRAY] = "array", [M_SUGA] = "suga",       [M_GPERF] = "gperf",
    [M_CMPH] = "cmph",   [M_BSEARCH] = "bsearch", [M_CHAIN] = "chain",
};

static bool method_available(enum method m, const bench_set *s)
{
    return (m != M_GPERF || s->gperf != NULL) && (only_method < 0 || (int)m == only_method);
}

static void verify(const bench_set *s, const keyset *k)
{
    for (int m = 0; m < M__COUNT; m++) {
        if (!method_available(m, s))
            continue;
        for (unsigned i = 0; i < k->n; i++) {
            uint32_t got = lookup_one(m, s, k->known[i], k->known_len[i], i);
            if (got != i) {
                fprintf(stderr, "lookup_bench: N=%u %s: '%s' gave %u, expected %u\n", s->n, METHOD_NAMES[m],
                        k->known[i], got, i);
                exit(1);
            }
            got = lookup_one(m, s, k->unknown[i], k->unknown_len[i], SUGA_NO_OP);
            if (got != SUGA_NO_OP) {
                fprintf(stderr, "lookup_bench: N=%u %s: unknown '%s' was not rejected (gave %u)\n", s->n,
                        METHOD_NAMES[m], k->unknown[i], got);
                exit(1);
            }
        }
    }
}

static void bench_set_run(const bench_set *s, const char *dir)
{
    keyset k = {0};
    load_keyset(&k, dir, s->n);
    cur = &k;
    verify(s, &k);
    fprintf(stderr, "lookup_bench: N=%u: %s verified on all %u known and %u unknown names; "
                    "cmph BDZ_PH built in %.2f ms, packed %u bytes\n",
            s->n, only_method < 0 ? "every method" : METHOD_KEYS[only_method], k.n, k.n, k.cmph_build_ms,
            k.packed_size);
    for (int mix = 0; mix < 2; mix++) {
        if (only_mix >= 0 && mix != only_mix)
            continue;
        query *qs = make_queries(&k, mix == 1, query_count, 0x5eed0000u + s->n * 2 + mix);
        uint64_t expect_full = 0;
        for (size_t i = 0; i < query_count; i++)
            expect_full += qs[i].id;
        size_t loops = (min_lookups + query_count - 1) / query_count;
        /* the chain compares ~n/2 (known) to n (unknown) names per lookup: cap its queries */
        size_t chain_nq = (size_t)(chain_budget / k.n);
        chain_nq = chain_nq < 1000 ? 1000 : chain_nq > query_count ? query_count : chain_nq;
        uint64_t expect_chain = 0;
        for (size_t i = 0; i < chain_nq; i++)
            expect_chain += qs[i].id;
        for (unsigned r = 0; r < reps; r++) {
            for (int m = 0; m < M__COUNT; m++) {
                if (!method_available(m, s))
                    continue;
                size_t nq = m == M_CHAIN ? chain_nq : query_count;
                size_t lp = m == M_CHAIN ? 1 : loops;
                uint64_t sum = 0;
                double t = RUNS[m](s, qs, nq, lp, &sum);
                uint64_t want = m == M_CHAIN ? expect_chain : expect_full * loops;
                if (sum != want) {
                    fprintf(stderr, "lookup_bench: N=%u %s: checksum %llu, expected %llu\n", s->n, METHOD_NAMES[m],
                            (unsigned long long)sum, (unsigned long long)want);
                    exit(1);
                }
                double ns = t * 1e9 / (double)(nq * lp);
                cell *c = &results[mix][m][s - SETS];
                if (!c->have || ns < c->ns)
                    *c = (cell){true, ns, nq * lp};
            }
        }
        free(qs);
    }
    free_keyset(&k);
    cur = NULL;
}

static void print_value(double ns)
{
    if (ns >= 1000)
        printf(" %.0f |", ns);
    else if (ns >= 100)
        printf(" %.0f |", ns);
    else
        printf(" %.1f |", ns);
}

static void print_table(int mix)
{
    printf("\n#### ns per lookup, %s\n\n| method |", mix ? "50 % unknown names" : "known names only");
    for (int i = 0; i < SET_COUNT; i++)
        printf(" N=%u |", SETS[i].n);
    printf("\n|---|");
    for (int i = 0; i < SET_COUNT; i++)
        printf("---:|");
    printf("\n");
    static const enum method ORDER[] = {M_ARRAY, M_SUGA, M_GPERF, M_CMPH, M_BSEARCH, M_CHAIN};
    for (size_t o = 0; o < sizeof ORDER / sizeof ORDER[0]; o++) {
        enum method m = ORDER[o];
        printf("| %s |", METHOD_NAMES[m]);
        for (int i = 0; i < SET_COUNT; i++) {
            const cell *c = &results[mix][m][i];
            if (c->have)
                print_value(c->ns);
            else if (m == M_GPERF && SETS[i].gperf_note)
                printf(" %s |", SETS[i].gperf_note);
            else
                printf(" — |");
        }
        printf("\n");
    }
    printf("| suga ÷ gperf (same run) |");
    for (int i = 0; i < SET_COUNT; i++) {
        const cell *a = &results[mix][M_SUGA][i], *b = &results[mix][M_GPERF][i];
        if (a->have && b->have)
            printf(" %.2f |", a->ns / b->ns);
        else
            printf(" — |");
    }
    printf("\n| cmph_search_packed ÷ suga |");
    for (int i = 0; i < SET_COUNT; i++) {
        const cell *a = &results[mix][M_CMPH][i], *b = &results[mix][M_SUGA][i];
        if (a->have && b->have)
            printf(" %.2f |", a->ns / b->ns);
        else
            printf(" — |");
    }
    printf("\n\nLookups per cell and repetition: %zu (strcmp chain:", results[mix][M_SUGA][0].lookups);
    for (int i = 0; i < SET_COUNT; i++)
        printf("%s%zu", i ? ", " : " ", results[mix][M_CHAIN][i].lookups);
    printf("); best of %u repetitions.\n", reps);
}

/* The target: at N = 4096 and 32768, suga is no slower than gperf. */
static void print_targets(void)
{
    printf("\n");
    for (int i = 0; i < SET_COUNT; i++) {
        if (SETS[i].n != 4096 && SETS[i].n != 32768)
            continue;
        printf("Target \"suga no slower than gperf at N=%u\": ", SETS[i].n);
        if (!SETS[i].gperf) {
            printf("met by default: gperf %s.\n", SETS[i].gperf_note);
            continue;
        }
        const cell *k = &results[0][M_SUGA][i], *kg = &results[0][M_GPERF][i];
        const cell *u = &results[1][M_SUGA][i], *ug = &results[1][M_GPERF][i];
        bool met = k->ns <= kg->ns && u->ns <= ug->ns;
        printf("%s (suga %.1f vs gperf %.1f ns known, %.1f vs %.1f ns with 50 %% unknown: %.2fx and %.2fx).\n",
               met ? "met" : "**NOT met**", k->ns, kg->ns, u->ns, ug->ns, k->ns / kg->ns, u->ns / ug->ns);
    }
}

static const char USAGE[] =
    "usage: lookup_bench [--reps R] [--queries Q] [--lookups L] [--chain-budget B] DATA_DIR\n"
    "\n"
    "Times name → id lookups (suga, gperf, cmph_search_packed, bsearch, strcmp chain, array by\n"
    "id) for the sizes compiled in (bench_sets.h), reading DATA_DIR/n<N>/keys.txt and\n"
    "unknown.txt. Prints markdown tables of ns per lookup (best of R repetitions).\n"
    "\n"
    "  --reps R          repetitions per cell, best kept (default 7)\n"
    "  --queries Q       distinct pre-generated queries per mix (default 1048576)\n"
    "  --lookups L       lookups per cell and repetition, at least (default 2097152)\n"
    "  --chain-budget B  names compared per strcmp-chain repetition (default 67108864)\n"
    "  --only METHOD     time only array|suga|gperf|cmph|bsearch|chain (verification too)\n"
    "  --size N          only this N;  --mix 0|1  only known names (0) or 50 %% unknown (1)\n"
    "\n"
    "Stable counts: valgrind --tool=callgrind --branch-sim=yes --toggle-collect=run_suga \\\n"
    "  lookup_bench --only suga --size 4096 --mix 0 --reps 1 --queries 100000 --lookups 100000 DIR\n";

int main(int argc, char **argv)
{
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(USAGE, stdout);
            return 0;
        } else if (!strcmp(a, "--reps") && has_value) {
            reps = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--queries") && has_value) {
            query_count = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--lookups") && has_value) {
            min_lookups = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--chain-budget") && has_value) {
            chain_budget = strtod(argv[++i], NULL);
        } else if (!strcmp(a, "--only") && has_value) {
            const char *m = argv[++i];
            for (int k = 0; k < M__COUNT; k++)
                if (!strcmp(m, METHOD_KEYS[k]))
                    only_method = k;
            if (only_method < 0) {
                fprintf(stderr, "lookup_bench: unknown method '%s'\n", m);
                return 2;
            }
        } else if (!strcmp(a, "--size") && has_value) {
            only_size = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--mix") && has_value) {
            only_mix = atoi(argv[++i]);
        } else if (a[0] != '-' && !dir) {
            dir = a;
        } else {
            fputs(USAGE, stderr);
            return 2;
        }
    }
    if (!dir || reps == 0 || query_count == 0) {
        fputs(USAGE, stderr);
        return 2;
    }
    for (int i = 0; i < SET_COUNT; i++)
        if (!only_size || SETS[i].n == only_size)
            bench_set_run(&SETS[i], dir);
    if (only_method >= 0 || only_size || only_mix >= 0)
        return 0; /* a partial run: the tables would be mostly empty */
    print_table(0);
    print_table(1);
    print_targets();
    return 0;
}
