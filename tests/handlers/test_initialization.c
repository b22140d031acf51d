/* test_initialization.c: initialization.* - start-up facts, module order, the start-up check of
 * lazy modules' shared objects. */
#include <stdlib.h>
#include <unistd.h>

#include "handler_test.h"
#include "suga_engine.h"

static ssize_t index_of(json_t *names, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v) if (!strcmp(json_string_value(v), name)) return (ssize_t)i;
    return -1;
}

Test(initialization, order_puts_every_dependency_first)
{
    json_t *order = call_ok("initialization.order", NULL);
    cr_assert_eq(json_array_size(order), suga_main_table.module_count);
    size_t checked = 0;
    for (uint32_t m = 0; m < suga_main_table.module_count; m++) {
        const suga_module *mod = &suga_main_table.modules[m];
        for (uint16_t d = 0; d < mod->depends_count; d++) {
            const char *dep = suga_main_table.modules[mod->depends_on[d]].name;
            cr_expect_lt(index_of(order, dep), index_of(order, mod->name), "%s before %s", dep, mod->name);
            checked++;
        }
    }
    cr_expect_gt(checked, 0, "spec/ declares module dependencies");
    json_decref(order);
}

Test(initialization, status_before_and_after_the_engine_starts)
{
    json_t *s = call_ok("initialization.status", NULL);
    cr_expect(json_is_false(json_object_get(s, "ready")));
    json_t *modules = json_object_get(s, "modules");
    cr_assert_eq(json_array_size(modules), suga_main_table.module_count);
    size_t i;
    json_t *m;
    json_array_foreach(modules, i, m) {
        const char *state = json_string_value(json_object_get(m, "state"));
        const char *load = json_string_value(json_object_get(m, "load"));
        cr_expect_str_eq(state, !strcmp(load, "eager") ? "linked" : "not_loaded", "%s",
                         json_string_value(json_object_get(m, "name")));
    }
    json_decref(s);
    suga_engine e;
    suga_engine_config config = {.guard_state_path = "", .metrics_out = stderr};
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_engine_init(&e, &suga_main_table, &config, &ctx), SUGA_OK, "%s", ctx.error);
    s = call_ok("initialization.status", NULL);
    cr_expect(json_is_true(json_object_get(s, "ready")));
    cr_expect(json_is_string(json_object_get(s, "started_at")));
    cr_expect_geq(json_real_value(json_object_get(s, "duration_ms")), 0);
    json_decref(s);
    suga_engine_shutdown(&e, &ctx);
}

Test(initialization, check_modules_finds_missing_shared_objects)
{
    char dir[] = "/tmp/suga-init-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    setenv("SUGA_MODULE_DIR", dir, 1);
    json_t *r = call_ok("initialization.check_modules", NULL);
    cr_expect_str_eq(json_string_value(json_object_get(r, "module_dir")), dir);
    json_t *modules = json_object_get(r, "modules");
    size_t lazy = 0;
    for (uint32_t m = 0; m < suga_main_table.module_count; m++)
        lazy += suga_main_table.modules[m].load == SUGA_LOAD_LAZY;
    cr_assert_eq(json_array_size(modules), lazy, "one entry per lazy module");
    cr_assert_gt(lazy, 0, "spec/ has lazy modules");
    cr_expect(json_is_false(json_object_get(r, "ok")), "nothing in an empty directory");
    json_decref(r);
    /* the lifecycle's init hook fails instead, naming every missing file */
    suga_ctx ctx;
    call_fails(&ctx, "initialization.require_modules", NULL, SUGA_E_UNAVAILABLE);
    char want[512];
    snprintf(want, sizeof want, "lazy module missing from the deployment package: %s/suga-", dir);
    cr_expect(strncmp(ctx.error, want, strlen(want)) == 0, "%s", ctx.error);
    for (uint32_t m = 0; m < suga_main_table.module_count; m++)
        if (suga_main_table.modules[m].load == SUGA_LOAD_LAZY) {
            snprintf(want, sizeof want, "suga-%s.so", suga_main_table.modules[m].name);
            cr_expect(strstr(ctx.error, want), "%s names %s", ctx.error, want);
        }
    /* put an (empty) file for each: present is about the file, not about loading it */
    for (uint32_t m = 0; m < suga_main_table.module_count; m++) {
        if (suga_main_table.modules[m].load != SUGA_LOAD_LAZY)
            continue;
        char path[256];
        snprintf(path, sizeof path, "%s/suga-%s.so", dir, suga_main_table.modules[m].name);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        fclose(f);
    }
    r = call_ok("initialization.check_modules", NULL);
    cr_expect(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    r = call_ok("initialization.require_modules", NULL);
    cr_expect(json_is_true(json_object_get(r, "ok")), "the same report when every module is there");
    json_decref(r);
    for (uint32_t m = 0; m < suga_main_table.module_count; m++) {
        char path[256];
        snprintf(path, sizeof path, "%s/suga-%s.so", dir, suga_main_table.modules[m].name);
        unlink(path);
    }
    rmdir(dir);
    unsetenv("SUGA_MODULE_DIR");
}
