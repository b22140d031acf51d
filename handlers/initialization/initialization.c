/* initialization.c: what start-up did, and the modules in the order they depend on each other.
 *
 * The order is suga-gen's (module_init_order: dependencies first, ties in declaration order),
 * read from the compiled table, so it cannot drift from the spec's depends_on. require_modules is
 * the start-up check (spec/lifecycle.yaml's init hook) a Lambda bootstrap runs before asking for
 * its first event: a lazy module whose shared object is missing would otherwise fail only at its
 * first call. check_modules reports the same without failing.
 */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "suga_clock.h"
#include "suga_engine.h"
#include "suga_ops.h"
#include "utility/suga_utility.h"

/* "linked" (eager), "loaded", "not_loaded", or "failed" (the last load attempt failed). */
static const char *module_state(const suga_table *t, uint32_t m)
{
    const suga_module_state *s = &t->module_states[m];
    if (t->modules[m].load == SUGA_LOAD_EAGER)
        return "linked";
    if (s->handle)
        return "loaded";
    return s->last_error[0] ? "failed" : "not_loaded";
}

static json_t *dependency_names(const suga_table *t, const suga_module *m)
{
    json_t *names = json_array();
    for (uint16_t i = 0; names && i < m->depends_count; i++)
        if (json_array_append_new(names, json_string(t->modules[m->depends_on[i]].name))) {
            json_decref(names);
            return NULL;
        }
    return names;
}

suga_status suga_handle_initialization_status(suga_ctx *ctx, const suga_args_initialization_status *args, json_t **result)
{
    (void)args;
    const suga_table *t = &suga_main_table;
    json_t *modules = json_array();
    for (uint32_t i = 0; modules && i < t->module_count; i++) {
        uint16_t m = t->module_init_order[i];
        json_t *entry = json_pack("{s:s, s:s, s:s, s:o}", "name", t->modules[m].name, "load",
                                  suga_load_names[t->modules[m].load], "state", module_state(t, m), "depends_on",
                                  dependency_names(t, &t->modules[m]));
        if (json_array_append_new(modules, entry)) {
            json_decref(modules);
            modules = NULL;
        }
    }
    const suga_engine *e = suga_engine_current();
    json_t *out;
    if (!e) { /* a program that calls operations without starting the engine (tests, embedders) */
        out = json_pack("{s:b, s:n, s:n, s:b, s:s, s:o}", "ready", 0, "started_at", "duration_ms", "guard_resumed", 0,
                        "guard_note", "the engine was not started (suga_engine_init)", "modules", modules);
    } else {
        char started[SUGA_ISO8601_SIZE];
        suga_clock_iso8601(e->init.started_ms, started);
        out = json_pack("{s:b, s:s, s:f, s:b, s:s, s:o}", "ready", 1, "started_at", started, "duration_ms",
                        e->init.duration_ms, "guard_resumed", e->init.guard_resumed, "guard_note",
                        e->init.guard_note, "modules", modules);
    }
    return suga_util_result(ctx, out, result);
}

suga_status suga_handle_initialization_order(suga_ctx *ctx, const suga_args_initialization_order *args, json_t **result)
{
    (void)args;
    const suga_table *t = &suga_main_table;
    json_t *out = json_array();
    for (uint32_t i = 0; out && i < t->module_count; i++)
        if (json_array_append_new(out, json_string(t->modules[t->module_init_order[i]].name))) {
            json_decref(out);
            out = NULL;
        }
    return suga_util_result(ctx, out, result);
}

/* {ok, module_dir, modules: [{name, path, present}]} for every lazy module, without loading any. */
static suga_status module_report(suga_ctx *ctx, json_t **out, bool *all_present)
{
    const suga_table *t = &suga_main_table;
    char dir[PATH_MAX];
    if (suga_module_dir(dir, sizeof dir) != SUGA_OK)
        return suga_fail(ctx, SUGA_E_IO, "%s: cannot tell where lazy modules are (set SUGA_MODULE_DIR)",
                         ctx->op->name);
    json_t *modules = json_array();
    *all_present = true;
    for (uint32_t m = 0; modules && m < t->module_count; m++) {
        if (t->modules[m].load != SUGA_LOAD_LAZY)
            continue;
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/suga-%s.so", dir, t->modules[m].name);
        bool present = access(path, R_OK) == 0;
        *all_present = *all_present && present;
        if (json_array_append_new(modules, json_pack("{s:s, s:s, s:b}", "name", t->modules[m].name, "path", path,
                                                     "present", present))) {
            json_decref(modules);
            modules = NULL;
        }
    }
    return suga_util_result(ctx, json_pack("{s:b, s:s, s:o}", "ok", *all_present, "module_dir", dir, "modules", modules),
                            out);
}

suga_status suga_handle_initialization_check_modules(suga_ctx *ctx, const suga_args_initialization_check_modules *args,
                                                     json_t **result)
{
    (void)args;
    bool all_present;
    return module_report(ctx, result, &all_present);
}

suga_status suga_handle_initialization_require_modules(suga_ctx *ctx,
                                                       const suga_args_initialization_require_modules *args,
                                                       json_t **result)
{
    (void)args;
    bool all_present;
    json_t *report = NULL;
    suga_status st = module_report(ctx, &report, &all_present);
    if (st != SUGA_OK || all_present) {
        *result = report;
        return st;
    }
    char missing[256] = "";
    size_t i, used = 0;
    json_t *m;
    json_array_foreach(json_object_get(report, "modules"), i, m) {
        if (!json_is_true(json_object_get(m, "present")) && used < sizeof missing)
            used += (size_t)snprintf(missing + used, sizeof missing - used, "%s%s", used ? ", " : "",
                                     json_string_value(json_object_get(m, "path")));
    }
    json_decref(report);
    return suga_fail(ctx, SUGA_E_UNAVAILABLE, "lazy module missing from the deployment package: %s", missing);
}
