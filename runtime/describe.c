/* describe.c: the compiled table as JSON, for suga-inspect --json and the debug interface.
 * One place decides how an operation, module or fusion looks from outside. */
#include <stdio.h>

#include "suga_table.h"

static suga_status finish(json_t *value, json_t **out)
{
    if (!value)
        return SUGA_E_NOMEM;
    *out = value;
    return SUGA_OK;
}

/* depends_on by name (the indexes mean nothing outside the table); absent when empty. */
static int add_dependencies(json_t *o, const suga_table *t, const suga_module *m)
{
    if (!m->depends_count)
        return 0;
    json_t *names = json_array();
    for (uint16_t i = 0; names && i < m->depends_count; i++) {
        uint16_t dep = m->depends_on[i];
        if (dep >= t->module_count || json_array_append_new(names, json_string(t->modules[dep].name))) {
            json_decref(names);
            names = NULL;
        }
    }
    return !names || json_object_set_new(o, "depends_on", names);
}

static json_t *module_json(const suga_table *t, const suga_module *m)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "name", m->name, "category", m->category, "load",
                          suga_load_names[m->load], "unload", suga_unload_names[m->unload]);
    bool idle = m->unload == SUGA_UNLOAD_IDLE;
    if (o && ((idle && json_object_set_new(o, "idle_seconds", json_integer(m->idle_seconds))) ||
              add_dependencies(o, t, m))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *params_json(const suga_param *params, uint16_t count)
{
    json_t *arr = json_array();
    for (uint16_t i = 0; arr && i < count; i++) {
        json_t *schema = NULL;
        if (suga_param_schema(&params[i], &schema) != SUGA_OK || json_array_append_new(arr, schema)) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* Adds the optional policy keys; returns nonzero when an allocation failed. */
static int add_policies(json_t *o, const suga_op *op)
{
    int bad = 0;
    if (op->has_cache)
        bad |= json_object_set_new(o, "cache_ttl", json_integer(op->cache_ttl));
    if (op->retry_attempts)
        bad |= json_object_set_new(o, "retry", json_pack("{s:i, s:i}", "attempts", (int)op->retry_attempts,
                                                         "backoff_ms", (int)op->retry_backoff_ms));
    if (op->breaker)
        bad |= json_object_set_new(o, "breaker", json_string(op->breaker));
    if (op->timeout_ms)
        bad |= json_object_set_new(o, "timeout_ms", json_integer(op->timeout_ms));
    if (op->returns_type)
        bad |= json_object_set_new(o, "returns", json_pack("{s:s, s:s?}", "type", op->returns_type, "summary",
                                                           op->returns_summary));
    return bad;
}

suga_status suga_describe_op(const suga_table *table, const suga_op *op, bool with_params, json_t **out)
{
    if (!table || !op || !out)
        return SUGA_E_INVALID_ARG;
    json_t *o = json_pack("{s:s, s:i, s:i, s:s, s:s, s:s?, s:s, s:o, s:b, s:b, s:b, s:s}", "name", op->name, "id",
                          (int)op->id, "slot", (int)op->slot, "interface", op->interface, "operation", op->operation,
                          "summary", op->summary, "handler", op->handler, "module",
                          module_json(table, &table->modules[op->module]), "fast_path", op->fast_path, "idempotent",
                          op->idempotent, "essential", op->essential, "source", op->source);
    if (o && (add_policies(o, op) || (with_params && json_object_set_new(o, "params", params_json(op->params, op->param_count))))) {
        json_decref(o);
        o = NULL;
    }
    return finish(o, out);
}

static json_t *fusion_json(const suga_fusion *f)
{
    json_t *steps = json_array();
    for (uint16_t s = 0; steps && s < f->step_count; s++) {
        const suga_fusion_step *st = &f->steps[s];
        json_t *args = json_object();
        for (uint16_t b = 0; args && b < st->binding_count; b++) {
            const suga_binding *bd = &st->bindings[b];
            json_t *v = bd->kind == SUGA_BIND_LITERAL ? json_pack("{s:s}", "literal", bd->literal_json)
                                                      : json_pack("{s:s}", "bind", bd->source);
            if (json_object_set_new(args, bd->param, v)) {
                json_decref(args);
                args = NULL;
            }
        }
        if (json_array_append_new(steps, json_pack("{s:s, s:i, s:o*}", "op", st->op_name, "id", (int)st->op, "args", args))) {
            json_decref(steps);
            steps = NULL;
        }
    }
    return json_pack("{s:s, s:s?, s:o*, s:o*, s:s}", "name", f->name, "summary", f->summary, "params",
                     params_json(f->params, f->param_count), "steps", steps, "source", f->source);
}

static json_t *array_of(const suga_table *t, suga_describe_what what)
{
    json_t *arr = json_array();
    uint32_t n = what == SUGA_DESCRIBE_OPERATIONS ? t->op_count
                 : what == SUGA_DESCRIBE_MODULES  ? t->module_count
                                                  : t->fusion_count;
    for (uint32_t i = 0; arr && i < n; i++) {
        json_t *item = NULL;
        if (what == SUGA_DESCRIBE_OPERATIONS)
            suga_describe_op(t, &t->ops[i], false, &item);
        else if (what == SUGA_DESCRIBE_MODULES)
            item = module_json(t, &t->modules[i]);
        else
            item = fusion_json(&t->fusions[i]);
        if (!item || json_array_append_new(arr, item)) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return arr;
}

/* The declarations of limits.breakers; their live state is circuit_breaker.list's business. */
static json_t *breakers_json(const suga_table *t)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; arr && t->breakers && i < t->breaker_count; i++) {
        const suga_breaker *b = &t->breakers[i];
        json_t *item = json_pack("{s:s, s:I, s:I, s:I, s:I, s:s?}", "name", b->name, "failure_threshold",
                                 (json_int_t)b->failure_threshold, "cooldown_seconds", (json_int_t)b->cooldown_seconds,
                                 "half_open_max_calls", (json_int_t)b->half_open_max_calls, "success_threshold",
                                 (json_int_t)b->success_threshold, "source", b->source);
        if (!item || json_array_append_new(arr, item)) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return arr;
}

static json_t *limits_json(const suga_table *t)
{
    const suga_limits *l = t->limits;
    json_t *names = json_array();
    for (uint16_t i = 0; names && i < l->metric_name_count; i++) {
        if (json_array_append_new(names, json_string(l->metric_names[i]))) {
            json_decref(names);
            names = NULL;
        }
    }
    return json_pack("{s:{s:I, s:I, s:i, s:i, s:i}, s:{s:o*}, s:o*}", "free_tier", "requests_per_month",
                     (json_int_t)l->requests_per_month, "gb_seconds_per_month", (json_int_t)l->gb_seconds_per_month,
                     "warn_percent", (int)l->warn_percent, "throttle_percent", (int)l->throttle_percent,
                     "block_percent", (int)l->block_percent, "metrics", "names", names, "breakers", breakers_json(t));
}

static json_t *hash_json(const suga_table *t)
{
    char seed[24];
    snprintf(seed, sizeof seed, "0x%016llx", (unsigned long long)t->hash.fingerprint_seed);
    return json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:s}", "algorithm", t->hash.algorithm, "fingerprint_seed",
                     seed, "cmph_seed", (int)t->hash.cmph_seed, "r", (int)t->hash.r, "slots", (int)t->hash.slot_count,
                     "operations", (int)t->op_count, "bytes", (int)t->hash.bytes, "inputs", t->inputs);
}

/* {"init": [{op, error_type, source}], "invocation_start": [...], "invocation_end": [...]}: every
 * phase present, empty when it has no hooks, so a reader need not know the phases. */
static json_t *hooks_json(const suga_table *t)
{
    json_t *doc = json_object();
    for (int phase = 0; doc && phase < SUGA_HOOK__COUNT; phase++) {
        json_t *list = json_array();
        for (uint32_t i = 0; list && i < t->hook_counts[phase]; i++) {
            const suga_hook *h = &t->hooks[phase][i];
            json_t *item = json_pack("{s:s, s:s?, s:s}", "op", t->ops[h->op].name, "error_type", h->error_type,
                                     "source", h->source);
            if (!item || json_array_append_new(list, item)) {
                json_decref(list);
                list = NULL;
            }
        }
        if (!list || json_object_set_new(doc, suga_hook_phase_names[phase], list)) {
            json_decref(doc);
            doc = NULL;
        }
    }
    return doc;
}

suga_status suga_describe_table(const suga_table *table, suga_describe_what what, json_t **out)
{
    if (!table || !out)
        return SUGA_E_INVALID_ARG;
    switch (what) {
    case SUGA_DESCRIBE_OPERATIONS:
    case SUGA_DESCRIBE_MODULES:
    case SUGA_DESCRIBE_FUSIONS:
        return finish(array_of(table, what), out);
    case SUGA_DESCRIBE_LIMITS:
        return finish(limits_json(table), out);
    case SUGA_DESCRIBE_HASH:
        return finish(hash_json(table), out);
    case SUGA_DESCRIBE_HOOKS:
        return finish(hooks_json(table), out);
    }
    return SUGA_E_INVALID_ARG;
}
