/* libFuzzer target: arbitrary bytes as a spec file through suga-gen's parse and validate
 * stages (and the perfect-hash build when they succeed). Must never crash, leak or hang;
 * errors are expected and simply counted. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mphf.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gen_model m;
    gen_model_init(&m, NULL);
    if (gen_parse_buffer(&m, "fuzz.yaml", data, size) == 0 && gen_validate(&m) == 0 && m.op_count > 0) {
        const char *names[64];
        size_t lens[64];
        size_t n = m.op_count < 64 ? m.op_count : 64;
        for (size_t i = 0; i < n; i++) {
            names[i] = m.ops[i]->full_name;
            lens[i] = strlen(names[i]);
        }
        gen_hash h;
        if (!gen_build_hash(names, lens, n, &h))
            gen_hash_free(&h);
    }
    gen_model_free(&m);
    return 0;
}
