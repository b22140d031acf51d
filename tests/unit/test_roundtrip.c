/* Every operation of the real spec (the files in spec/, compiled into libsuga) round-trips through the
 * perfect hash, and names that are not operations are rejected, however close they are. */
#include <criterion/criterion.h>
#include <string.h>

#include "suga_ops.h"

Test(roundtrip, every_operation_of_the_real_spec)
{
    const suga_table *t = &suga_main_table;
    cr_assert_eq(t->op_count, SUGA_OP__COUNT);
    for (uint32_t i = 0; i < t->op_count; i++) {
        const suga_op *op = NULL;
        const char *name = t->ops[i].name;
        cr_assert_eq(suga_lookup(name, strlen(name), &op), SUGA_OK, "%s", name);
        cr_expect_eq(op, &t->ops[i], "%s", name);
        cr_expect_eq(op->id, i);
        cr_expect_lt(op->slot, t->hash.slot_count);
        const suga_op *by_id = NULL;
        cr_expect_eq(suga_op_by_id(i, &by_id), SUGA_OK);
        cr_expect_eq(by_id, op);
        if (i > 0)
            cr_expect_lt(strcmp(t->ops[i - 1].name, name), 0, "ids follow name order");
    }
    const suga_op *op;
    cr_expect_eq(suga_op_by_id(t->op_count, &op), SUGA_E_NOT_FOUND);
}

Test(roundtrip, near_misses_are_rejected)
{
    const suga_table *t = &suga_main_table;
    for (uint32_t i = 0; i < t->op_count; i++) {
        char name[SUGA_MAX_NAME_LEN + 2];
        size_t len = strlen(t->ops[i].name);
        const suga_op *op;
        for (size_t pos = 0; pos < len; pos++) {
            memcpy(name, t->ops[i].name, len + 1);
            name[pos] ^= 0x20; /* case flip or punctuation change: never another valid name here */
            if (suga_lookup(name, len, &op) == SUGA_OK)
                cr_expect_str_eq(op->name, name, "'%s' matched %s", name, op->name);
        }
        /* a prefix or an extension may itself be a name (call_service, call_services): then it must
         * find exactly that one */
        memcpy(name, t->ops[i].name, len - 1);
        name[len - 1] = '\0';
        if (suga_lookup(name, len - 1, &op) == SUGA_OK)
            cr_expect_str_eq(op->name, name, "prefix of %s matched %s", t->ops[i].name, op->name);
        memcpy(name, t->ops[i].name, len);
        name[len] = 'x';
        name[len + 1] = '\0';
        if (suga_lookup(name, len + 1, &op) == SUGA_OK)
            cr_expect_str_eq(op->name, name, "%s + 'x' matched %s", t->ops[i].name, op->name);
    }
    const suga_op *op;
    cr_expect_eq(suga_lookup("", 0, &op), SUGA_E_NOT_FOUND);
    cr_expect_eq(suga_lookup(NULL, 0, &op), SUGA_E_INVALID_ARG);
}

Test(roundtrip, issue_example_message)
{
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *args = json_pack("{s:s, s:i, s:s}", "key", "k", "value", 1, "ttl", "x");
    json_t *result = NULL;
    cr_expect_eq(suga_call_json(&ctx, "cache.set", 9, args, &result), SUGA_E_INVALID_ARG);
    cr_expect_str_eq(ctx.error, "cache.set: arg 'ttl' must be an integer in [0, 86400], got \"x\"");
    cr_expect_null(result);
    json_decref(args);
}
