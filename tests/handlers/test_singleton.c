/* test_singleton.c: singleton.* operations and native instances through the C API. */
#include <stdlib.h>

#include "handler_test.h"
#include "singleton/suga_singleton.h"
#include "suga_clock.h"
#include "utility/suga_utility.h"

/* A native instance that records its life: how often it was made and destroyed, and in which
 * order instances were destroyed. */
typedef struct probe {
    int id;
} probe;

static int created;
static int destroyed;
static int destroy_order[8];

static suga_status make_probe(void *arg, void **instance, size_t *approx_bytes)
{
    probe *p = malloc(sizeof *p);
    if (!p)
        return SUGA_E_NOMEM;
    p->id = arg ? *(int *)arg : 0;
    created++;
    *instance = p;
    *approx_bytes = 1000 + (size_t)p->id;
    return SUGA_OK;
}

static void destroy_probe(void *instance)
{
    probe *p = instance;
    if (destroyed < 8)
        destroy_order[destroyed] = p->id;
    destroyed++;
    free(p);
}

static suga_status failing_create(void *arg, void **instance, size_t *approx_bytes)
{
    (void)arg;
    (void)instance;
    (void)approx_bytes;
    created++;
    return SUGA_E_IO;
}

/* A create function that needs itself: must be refused, not recurse forever. */
static suga_status self_needing_create(void *arg, void **instance, size_t *approx_bytes)
{
    void *inner = NULL;
    suga_status *seen = arg;
    *seen = suga_singleton_get_native("loop", self_needing_create, arg, NULL, &inner);
    return make_probe(NULL, instance, approx_bytes);
}

/* A create function that depends on another instance (created on the way). */
static suga_status dependent_create(void *arg, void **instance, size_t *approx_bytes)
{
    (void)arg;
    void *dep = NULL;
    static int dep_id = 1;
    suga_status st = suga_singleton_get_native("dep", make_probe, &dep_id, destroy_probe, &dep);
    if (st != SUGA_OK)
        return st;
    static int id = 2;
    return make_probe(&id, instance, approx_bytes);
}

static void reset(void)
{
    suga_singleton_drop_all();
    created = destroyed = 0;
    memset(destroy_order, 0, sizeof destroy_order);
}

TestSuite(singleton, .init = reset, .fini = reset);

/* ---- JSON instances ---- */

Test(singleton, missing_without_init_is_not_found)
{
    suga_ctx ctx;
    call_fails(&ctx, "singleton.get", "{\"name\": \"x\"}", SUGA_E_NOT_FOUND);
    cr_assert_str_eq(ctx.error, "singleton.get: no instance 'x' and no 'init' to create it");
}

Test(singleton, created_once_from_init)
{
    assert_json(call_ok("singleton.get", "{\"name\": \"settings\", \"init\": {\"a\": 1}}"),
                "{\"name\": \"settings\", \"kind\": \"json\", \"value\": {\"a\": 1}, \"created\": true, \"uses\": 1}");
    assert_json(call_ok("singleton.get", "{\"name\": \"settings\", \"init\": {\"a\": 2}}"),
                "{\"name\": \"settings\", \"kind\": \"json\", \"value\": {\"a\": 1}, \"created\": false, \"uses\": 2}");
    assert_json(call_ok("singleton.get", "{\"name\": \"settings\"}"),
                "{\"name\": \"settings\", \"kind\": \"json\", \"value\": {\"a\": 1}, \"created\": false, \"uses\": 3}");
}

Test(singleton, init_is_copied)
{
    json_t *init = json_pack("{s:i}", "n", 1);
    json_t *args = json_pack("{s:s, s:O}", "name", "copied", "init", init);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *r = NULL;
    cr_assert_eq(suga_call_json(&ctx, "singleton.get", 13, args, &r), SUGA_OK, "%s", ctx.error);
    json_decref(r);
    json_object_set_new(init, "n", json_integer(99));
    json_t *again = call_ok("singleton.get", "{\"name\": \"copied\"}");
    assert_json(json_incref(json_object_get(again, "value")), "{\"n\": 1}");
    json_decref(again);
    json_decref(args);
    json_decref(init);
}

Test(singleton, null_init_creates_a_null_instance)
{
    assert_json(call_ok("singleton.get", "{\"name\": \"nothing\", \"init\": null}"),
                "{\"name\": \"nothing\", \"kind\": \"json\", \"value\": null, \"created\": true, \"uses\": 1}");
}

Test(singleton, drop_json_instance)
{
    json_decref(call_ok("singleton.get", "{\"name\": \"d\", \"init\": 1}"));
    assert_json(call_ok("singleton.drop", "{\"name\": \"d\"}"), "{\"dropped\": true}");
    assert_json(call_ok("singleton.drop", "{\"name\": \"d\"}"), "{\"dropped\": false}");
    suga_ctx ctx;
    call_fails(&ctx, "singleton.get", "{\"name\": \"d\"}", SUGA_E_NOT_FOUND);
    assert_json(call_ok("singleton.get", "{\"name\": \"d\", \"init\": 2}"),
                "{\"name\": \"d\", \"kind\": \"json\", \"value\": 2, \"created\": true, \"uses\": 1}");
}

Test(singleton, names_follow_the_spec_pattern)
{
    suga_ctx ctx;
    call_fails(&ctx, "singleton.get", "{\"name\": \"bad name\", \"init\": 1}", SUGA_E_INVALID_ARG);
    call_fails(&ctx, "singleton.get", "{\"name\": \"9lives\", \"init\": 1}", SUGA_E_INVALID_ARG);
    json_decref(call_ok("singleton.get", "{\"name\": \"ha.client-pool_1\", \"init\": 1}"));
}

/* ---- native instances ---- */

Test(singleton, native_created_once_same_pointer)
{
    int id = 7;
    void *a = NULL, *b = NULL;
    cr_assert_eq(suga_singleton_get_native("pool", make_probe, &id, destroy_probe, &a), SUGA_OK);
    cr_assert_eq(suga_singleton_get_native("pool", make_probe, &id, destroy_probe, &b), SUGA_OK);
    cr_assert_eq(a, b);
    cr_assert_eq(created, 1);
    cr_assert_eq(((probe *)a)->id, 7);
    /* once it exists, no create function is needed */
    cr_assert_eq(suga_singleton_get_native("pool", NULL, NULL, NULL, &b), SUGA_OK);
    cr_assert_eq(a, b);
    assert_json(call_ok("singleton.get", "{\"name\": \"pool\"}"),
                "{\"name\": \"pool\", \"kind\": \"native\", \"value\": null, \"created\": false, \"uses\": 4}");
    assert_json(call_ok("singleton.drop", "{\"name\": \"pool\"}"), "{\"dropped\": true}");
    cr_assert_eq(destroyed, 1);
    cr_assert_eq(suga_singleton_get_native("pool", make_probe, &id, destroy_probe, &b), SUGA_OK);
    cr_assert_eq(created, 2, "made again after a drop");
}

Test(singleton, kinds_do_not_share_a_name)
{
    json_decref(call_ok("singleton.get", "{\"name\": \"shared\", \"init\": 1}"));
    void *p = NULL;
    cr_assert_eq(suga_singleton_get_native("shared", make_probe, NULL, destroy_probe, &p), SUGA_E_STATE);
    cr_assert_eq(created, 0);
    cr_assert_null(p);
}

Test(singleton, failed_create_registers_nothing)
{
    void *p = NULL;
    cr_assert_eq(suga_singleton_get_native("flaky", failing_create, NULL, destroy_probe, &p), SUGA_E_IO);
    cr_assert_eq(suga_singleton_get_native("flaky", failing_create, NULL, destroy_probe, &p), SUGA_E_IO);
    cr_assert_eq(created, 2, "a failed creation is retried on the next use");
    suga_ctx ctx;
    call_fails(&ctx, "singleton.get", "{\"name\": \"flaky\"}", SUGA_E_NOT_FOUND);
}

Test(singleton, bad_native_arguments)
{
    void *p = NULL;
    cr_assert_eq(suga_singleton_get_native(NULL, make_probe, NULL, NULL, &p), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_singleton_get_native("", make_probe, NULL, NULL, &p), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_singleton_get_native("x", NULL, NULL, NULL, &p), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_singleton_get_native("x", make_probe, NULL, NULL, NULL), SUGA_E_INVALID_ARG);
    char long_name[SUGA_SINGLETON_MAX_NAME + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    cr_assert_eq(suga_singleton_get_native(long_name, make_probe, NULL, NULL, &p), SUGA_E_INVALID_ARG);
    cr_assert_eq(created, 0);
}

Test(singleton, a_create_that_needs_itself_is_refused)
{
    suga_status inner = SUGA_OK;
    void *p = NULL;
    cr_assert_eq(suga_singleton_get_native("loop", self_needing_create, &inner, destroy_probe, &p), SUGA_OK);
    cr_assert_eq(inner, SUGA_E_STATE);
    cr_assert_not_null(p);
}

Test(singleton, nested_creation_and_reverse_destruction)
{
    void *outer = NULL;
    cr_assert_eq(suga_singleton_get_native("user", dependent_create, NULL, destroy_probe, &outer), SUGA_OK);
    cr_assert_eq(created, 2);
    cr_assert_eq(((probe *)outer)->id, 2);
    json_decref(call_ok("singleton.get", "{\"name\": \"json_one\", \"init\": [1]}"));
    cr_assert_eq(suga_singleton_drop_all(), SUGA_OK);
    cr_assert_eq(destroyed, 2);
    /* "dep" was registered before "user" (during its creation), so it is destroyed after it */
    cr_assert_eq(destroy_order[0], 2);
    cr_assert_eq(destroy_order[1], 1);
    assert_json(call_ok("singleton.list", NULL), "[]");
}

Test(singleton, null_destroy_leaves_the_instance_to_its_owner)
{
    int id = 5;
    void *p = NULL;
    cr_assert_eq(suga_singleton_get_native("owned", make_probe, &id, NULL, &p), SUGA_OK);
    assert_json(call_ok("singleton.drop", "{\"name\": \"owned\"}"), "{\"dropped\": true}");
    cr_assert_eq(destroyed, 0);
    cr_assert_eq(((probe *)p)->id, 5, "still valid after the drop");
    free(p);
}

/* ---- list and stats ---- */

Test(singleton, list_sorted_with_kinds_and_stats)
{
    int id = 24;
    void *p = NULL;
    json_decref(call_ok("singleton.get", "{\"name\": \"zeta\", \"init\": {\"k\": \"v\"}}"));
    cr_assert_eq(suga_singleton_get_native("alpha", make_probe, &id, destroy_probe, &p), SUGA_OK);
    json_decref(call_ok("singleton.get", "{\"name\": \"mid\", \"init\": 12345}"));
    json_decref(call_ok("singleton.get", "{\"name\": \"mid\"}"));
    json_t *list = call_ok("singleton.list", NULL);
    cr_assert_eq(json_array_size(list), 3);
    static const char *const names[] = {"alpha", "mid", "zeta"};
    static const char *const kinds[] = {"native", "json", "json"};
    static const json_int_t uses[] = {1, 2, 1};
    static const json_int_t bytes[] = {1024, 5, 9}; /* 1000 + id; "12345"; {"k":"v"} */
    int64_t now = suga_clock_wall_ms();
    for (size_t i = 0; i < 3; i++) {
        json_t *row = json_array_get(list, i);
        cr_assert_eq(json_object_size(row), 5);
        cr_assert_str_eq(str_field(row, "name"), names[i]);
        cr_assert_str_eq(str_field(row, "kind"), kinds[i]);
        cr_assert_eq(int_field(row, "uses"), uses[i], "%s", names[i]);
        cr_assert_eq(int_field(row, "bytes"), bytes[i], "%s", names[i]);
        json_int_t created_ms = int_field(row, "created_ms");
        cr_assert(created_ms <= now && created_ms > now - 60000, "created_ms %lld", (long long)created_ms);
    }
    json_decref(list);
    assert_json(call_ok("singleton.stats", NULL), "{\"count\": 3, \"json\": 2, \"native\": 1, \"bytes\": 1038}");
}
