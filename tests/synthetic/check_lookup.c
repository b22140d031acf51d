/* check_lookup: compiled by tests/synthetic/roundtrip together with a suga_lookup.c generated
 * with --prefix synth_. Every known name (keys.txt, line i = id i) must map to its id; every
 * unknown name (unknown.txt) must be rejected. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "suga_schema.h"

uint32_t synth_find_op(const char *name, size_t len);

static long check(const char *path, int known, long *failures)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        (*failures)++;
        return 0;
    }
    char line[512];
    long n = 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n");
        line[len] = '\0';
        uint32_t id = synth_find_op(line, len);
        uint32_t want = known ? (uint32_t)n : SUGA_NO_OP;
        if (id != want && (*failures)++ < 10)
            fprintf(stderr, "check_lookup: %s '%s' gave %u, expected %u\n", known ? "known" : "unknown", line, id, want);
        n++;
    }
    fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: check_lookup KEYS UNKNOWN\n");
        return 2;
    }
    long failures = 0;
    long known = check(argv[1], 1, &failures);
    long unknown = check(argv[2], 0, &failures);
    if (failures) {
        fprintf(stderr, "check_lookup: %ld failures\n", failures);
        return 1;
    }
    printf("%ld operations verified; %ld unknown names rejected\n", known, unknown);
    return known > 0 && unknown > 0 ? 0 : 1;
}
