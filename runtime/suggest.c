/* suggest.c: "did you mean" for unknown names (operations, arguments; and spec keys in suga-gen). */
#include <string.h>

#include "suga_suggest.h"

/* Levenshtein distance, cut off above `limit`; names are short, two rows suffice. */
static size_t edit_distance(const char *a, const char *b, size_t limit)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > limit)
        return limit + 1;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        size_t row_min = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            if (cur[j] < row_min)
                row_min = cur[j];
        }
        if (row_min > limit)
            return limit + 1;
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

const char *suga_closest_member(const char *word, const void *items, size_t count, size_t stride, size_t offset)
{
    const char *best = NULL;
    size_t best_d = 3; /* at most two edits ... */
    size_t len = strlen(word);
    for (size_t i = 0; i < count; i++) {
        const char *candidate;
        memcpy(&candidate, (const char *)items + i * stride + offset, sizeof candidate);
        size_t d = candidate ? edit_distance(word, candidate, 2) : best_d;
        if (d < best_d && d * 2 < (len > 1 ? len : 2)) { /* ... and fewer than half the word */
            best = candidate;
            best_d = d;
        }
    }
    return best;
}

const char *suga_closest(const char *word, const char *const *candidates, size_t count)
{
    return suga_closest_member(word, candidates, count, sizeof *candidates, 0);
}
