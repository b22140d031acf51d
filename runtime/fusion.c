/* fusion.c: fusions and batch requests (suga_fusion.h), on any generated table.
 *
 * A fusion's steps carry operation ids resolved by suga-gen, so running one costs no name
 * lookup: per step, the arguments are assembled from the binding rows (literal JSON, a field of
 * the validated input, or a path into an earlier step's result) and handed to
 * suga_table_call_op_json, which validates them with the operation's own rules and calls the
 * handler. A batch runs its items through the same by-name and by-fusion paths as separate
 * requests would, each with its own suga_ctx so one item's message cannot overwrite another's.
 *
 * Nothing here adds request-level stages (guard, log record, metrics): those wrap the two entry
 * points once, which is the point of fusing and batching.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suga_fusion.h"
#include "suga_internal.h"

/* ---- messages ---- */



/* "unknown key 'x' (did you mean 'y'?)" for the first key of `obj` not among `names`; SUGA_OK
 * when every key is known. `noun` is "arg" for inputs (worded as for operations), else "key". */
static suga_status reject_unknown_keys(suga_ctx *ctx, const char *what, const char *noun, json_t *obj,
                                       const char *const *names, size_t count)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        bool known = false;
        for (size_t i = 0; i < count && !known; i++)
            known = !strcmp(names[i], key);
        if (known)
            continue;
        const char *hint = suga_closest(key, names, count);
        if (hint)
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: unknown %s '%s' (did you mean '%s'?)", what, noun, key, hint);
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: unknown %s '%s'", what, noun, key);
    }
    return SUGA_OK;
}

/* ---- fusion lookup ---- */

suga_status suga_table_find_fusion(const suga_table *table, const char *name, size_t len, const suga_fusion **out)
{
    if (!table || !name || !out)
        return SUGA_E_INVALID_ARG;
    for (uint32_t i = 0; i < table->fusion_count; i++) {
        const char *candidate = table->fusions[i].name;
        if (strlen(candidate) == len && !memcmp(candidate, name, len)) { /* by length: "a\0b" is not "a" */
            *out = &table->fusions[i];
            return SUGA_OK;
        }
    }
    return SUGA_E_NOT_FOUND;
}

suga_status suga_unknown_fusion(const suga_table *table, suga_ctx *ctx, const char *name)
{
    const char *best = suga_closest_member(name, table->fusions, table->fusion_count, sizeof *table->fusions,
                                           offsetof(suga_fusion, name));
    if (best)
        return suga_fail(ctx, SUGA_E_NOT_FOUND, "unknown fusion '%.*s' (did you mean '%s'?)", (int)SUGA_MAX_NAME_LEN,
                         name, best);
    return suga_fail(ctx, SUGA_E_NOT_FOUND, "unknown fusion '%.*s'", (int)SUGA_MAX_NAME_LEN, name);
}

/* ---- fusion input ---- */

/* The fusion's validated input: one value per fusion param (borrowed from the request, or a
 * parsed default owned here), so bindings read it by index without building an object. */
typedef struct fusion_input {
    json_t *values[SUGA_MAX_PARAMS];
    json_t *owned[SUGA_MAX_PARAMS]; /* parsed defaults, released with the input */
    uint16_t count;
} fusion_input;

static void release_input(fusion_input *in)
{
    for (uint16_t i = 0; i < in->count; i++)
        json_decref(in->owned[i]);
}

/* Validate `input` (an object, or NULL/null = {}) against the fusion's params, with the rules
 * of operation arguments, and apply defaults. */
static suga_status effective_input(suga_ctx *ctx, const char *what, const suga_fusion *fusion, json_t *input,
                                   fusion_input *out)
{
    out->count = 0;
    suga_status st = suga_collect_args(ctx, what, fusion->params, fusion->param_count, input, out->values);
    if (st != SUGA_OK)
        return st;
    memset(out->owned, 0, fusion->param_count * sizeof *out->owned);
    out->count = fusion->param_count;
    for (uint16_t i = 0; i < fusion->param_count; i++) {
        const suga_param *p = &fusion->params[i];
        json_t *v = out->values[i];
        /* JSON null means "not given", except for `any`, where null is a value */
        if (!v || (json_is_null(v) && p->type != SUGA_T_ANY)) {
            out->values[i] = NULL; /* absent: a step bound to it leaves its arg out */
            if (p->required)
                return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg '%s' is required", what, p->name);
            if (!p->has_default)
                continue;
            json_error_t err;
            json_t *d = json_loads(p->default_json, JSON_DECODE_ANY, &err);
            if (!d && json_error_code(&err) == json_error_out_of_memory)
                return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory applying the default of arg '%s'", what,
                                 p->name);
            if (!d)
                return suga_fail(ctx, SUGA_E_INTERNAL, "%s: arg '%s': default %s does not parse: %s", what, p->name,
                                 p->default_json ? p->default_json : "(none)", err.text);
            out->values[i] = out->owned[i] = d;
            continue;
        }
        if ((st = suga_check_value(ctx, what, p, v)) != SUGA_OK)
            return st;
    }
    return SUGA_OK;
}

/* ---- bindings ---- */

/* "$steps.N.result" followed by the first `used` bytes of the binding's path, as the spec writes it. */
static const char *step_location(const suga_binding *b, size_t used, char *buf, size_t size)
{
    const char *path = b->path ? b->path : "";
    snprintf(buf, size, "$steps.%u.result%s%.*s", (unsigned)b->step, used ? "." : "", (int)used, path);
    return buf;
}

/* Follow the binding's dotted path through objects from `value` (borrowed in, borrowed out).
 * A missing field or a non-object on the way is an error naming where the path stopped. */
static suga_status follow_path(suga_ctx *ctx, const suga_binding *b, json_t *value, json_t **out)
{
    const char *path = b->path ? b->path : "";
    size_t full = strlen(path);
    char whole[SUGA_ERROR_MAX / 2], at[SUGA_ERROR_MAX / 2];
    for (const char *field = path; full;) { /* "" is the whole result */
        size_t len = strcspn(field, "."), done = field == path ? 0 : (size_t)(field - path) - 1;
        if (!json_is_object(value))
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "cannot bind arg '%s' to %s: %s is %s, not an object", b->param,
                             step_location(b, full, whole, sizeof whole), step_location(b, done, at, sizeof at),
                             suga_json_kind(value));
        json_t *next = json_object_getn(value, field, len);
        if (!next)
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "cannot bind arg '%s' to %s: %s has no field '%.*s'", b->param,
                             step_location(b, full, whole, sizeof whole), step_location(b, done, at, sizeof at),
                             (int)len, field);
        value = next;
        if (!field[len])
            break;
        field += len + 1; /* always advances, whatever the path holds */
    }
    *out = value;
    return SUGA_OK;
}

/* The value binding `b` of step `index` gives its arg: a new reference, or NULL (with SUGA_OK)
 * when the arg is left out so that the operation's own default or required rule applies. */
static suga_status binding_value(suga_ctx *ctx, const suga_fusion *fusion, const suga_binding *b, uint16_t index,
                                 const fusion_input *input, json_t *const *results, json_t **out)
{
    *out = NULL;
    switch (b->kind) {
    case SUGA_BIND_LITERAL: {
        json_error_t err;
        *out = json_loads(b->literal_json, JSON_DECODE_ANY, &err);
        if (*out)
            return SUGA_OK;
        if (json_error_code(&err) == json_error_out_of_memory)
            return suga_fail(ctx, SUGA_E_NOMEM, "out of memory building arg '%s'", b->param);
        return suga_fail(ctx, SUGA_E_INTERNAL, "the literal of arg '%s' does not parse: %s", b->param, err.text);
    }
    case SUGA_BIND_INPUT:
        for (uint16_t i = 0; i < fusion->param_count; i++)
            if (!strcmp(fusion->params[i].name, b->path)) {
                *out = json_incref(input->values[i]); /* absent stays NULL: left out */
                return SUGA_OK;
            }
        return suga_fail(ctx, SUGA_E_INTERNAL, "arg '%s' is bound to $input.%s, which the fusion does not declare",
                         b->param, b->path);
    case SUGA_BIND_STEP: {
        if (b->step >= index) /* suga-gen refuses this; a hand-built fusion might not */
            return suga_fail(ctx, SUGA_E_INTERNAL, "arg '%s' is bound to step %u, which does not run before step %u",
                             b->param, (unsigned)b->step, (unsigned)index);
        json_t *v = NULL;
        suga_status st = follow_path(ctx, b, results[b->step], &v);
        if (st == SUGA_OK)
            *out = json_incref(v);
        return st;
    }
    default:
        return suga_fail(ctx, SUGA_E_INTERNAL, "arg '%s' has an unknown binding kind %d", b->param, (int)b->kind);
    }
}

/* The arguments of step `index`, one per param of its operation (new references in values[],
 * NULL where no binding gives one). */
static suga_status step_values(suga_ctx *ctx, const suga_fusion *fusion, const suga_op *op, uint16_t index,
                               const fusion_input *input, json_t *const *results, json_t **values)
{
    const suga_fusion_step *step = &fusion->steps[index];
    memset(values, 0, op->param_count * sizeof *values);
    for (uint16_t i = 0; i < step->binding_count; i++) {
        const suga_binding *b = &step->bindings[i];
        uint16_t p = 0;
        while (p < op->param_count && strcmp(op->params[p].name, b->param))
            p++;
        if (p == op->param_count || values[p]) /* suga-gen refuses both; a hand-built fusion might not */
            return suga_fail(ctx, SUGA_E_INTERNAL, "arg '%s' is not a parameter of %s, or is bound twice", b->param,
                             op->name);
        suga_status st = binding_value(ctx, fusion, b, index, input, results, &values[p]);
        if (st != SUGA_OK)
            return st;
    }
    return SUGA_OK;
}

/* ---- running a fusion ---- */

/* Run step `index`; results[index] gets its result (JSON null for none). */
static suga_status run_step(const suga_table *table, suga_ctx *ctx, const suga_fusion *fusion, uint16_t index,
                            const fusion_input *input, json_t **results)
{
    const suga_fusion_step *step = &fusion->steps[index];
    results[index] = NULL; /* released by the caller whatever happens below */
    if (step->op >= table->op_count) /* a fusion of another table: never run a wrong handler */
        return suga_fail(ctx, SUGA_E_INTERNAL, "operation id %u is not in this table (%u operations)",
                         (unsigned)step->op, (unsigned)table->op_count);
    const suga_op *op = &table->ops[step->op];
    if (op->param_count > SUGA_MAX_PARAMS)
        return suga_fail(ctx, SUGA_E_INTERNAL, "%s has more params than the format allows", op->name);
    ctx->error[0] = '\0'; /* a step failing without a message must not inherit an older one */
    json_t *values[SUGA_MAX_PARAMS], *res = NULL;
    suga_status st = step_values(ctx, fusion, op, index, input, results, values);
    if (st == SUGA_OK)
        st = suga_table_call_op_values(table, ctx, op, values, &res);
    for (uint16_t i = 0; i < op->param_count; i++)
        json_decref(values[i]);
    if (st == SUGA_OK)
        results[index] = res ? res : json_null();
    return st;
}

/* Prefix the step's own message with "fusion NAME: step N (OP): ", cutting the step's message
 * (at a character boundary, marked "...") rather than the prefix when it does not fit. */
static suga_status step_failed(const suga_table *table, suga_ctx *ctx, const suga_fusion *fusion, uint16_t index,
                               suga_status status)
{
    const suga_fusion_step *step = &fusion->steps[index];
    const char *op = step->op < table->op_count ? table->ops[step->op].name : step->op_name;
    char inner[SUGA_ERROR_MAX], prefix[SUGA_ERROR_MAX / 2];
    memcpy(inner, ctx->error, sizeof inner); /* suga_fail below writes ctx->error */
    inner[sizeof inner - 1] = '\0';
    if (!inner[0])
        snprintf(inner, sizeof inner, "failed with %s", suga_status_name(status));
    int n = snprintf(prefix, sizeof prefix, "fusion %s: step %u (%s): ", fusion->name, (unsigned)index,
                     op ? op : "?");
    size_t room = SUGA_ERROR_MAX - 1 - (n > 0 && (size_t)n < sizeof prefix ? (size_t)n : sizeof prefix - 1);
    if (strlen(inner) > room) {
        size_t cut = room - 3;
        while (cut > 0 && ((unsigned char)inner[cut] & 0xC0) == 0x80) /* not inside a character */
            cut--;
        memcpy(inner + cut, "...", 4);
    }
    return suga_fail(ctx, status, "%s%s", prefix, inner);
}

/* Fusions this short keep their step results on the stack; longer ones allocate. */
#define STACK_STEPS 16

suga_status suga_table_run_fusion(const suga_table *table, suga_ctx *ctx, const suga_fusion *fusion, json_t *input,
                                  json_t **result)
{
    if (!table || !ctx || !fusion || !result) {
        if (ctx)
            suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_table_run_fusion: table, fusion and result are required");
        return SUGA_E_INVALID_ARG;
    }
    *result = NULL;
    char what[SUGA_MAX_NAME_LEN + 8]; /* "fusion NAME", the prefix of input messages */
    size_t name_len = strnlen(fusion->name, SUGA_MAX_NAME_LEN);
    memcpy(what, "fusion ", 7);
    memcpy(what + 7, fusion->name, name_len);
    what[7 + name_len] = '\0';
    /* step results in a C array, not a JSON one: bindings read them by index, and only the last
     * one leaves the fusion, so nothing is allocated here for short fusions */
    json_t *stack_results[STACK_STEPS]; /* [0, ran) is set by run_step; bindings look back only */
    json_t **results = stack_results;
    if (fusion->step_count > STACK_STEPS && !(results = calloc(fusion->step_count, sizeof *results)))
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory", what);
    fusion_input in;
    suga_status st = effective_input(ctx, what, fusion, input, &in);
    uint16_t ran = 0;
    for (; st == SUGA_OK && ran < fusion->step_count; ran++) {
        st = run_step(table, ctx, fusion, ran, &in, results);
        if (st != SUGA_OK)
            st = step_failed(table, ctx, fusion, ran, st);
    }
    if (st == SUGA_OK && ran > 0 && !json_is_null(results[ran - 1])) {
        *result = results[ran - 1]; /* handed over: NULL stands for JSON null */
        results[ran - 1] = NULL;
    }
    for (uint16_t i = 0; i < ran; i++)
        json_decref(results[i]);
    if (results != stack_results)
        free(results);
    release_input(&in);
    return st;
}

/* ---- batch requests ---- */

static const char *const request_keys[] = {"batch", "stop_on_error"};
static const char *const item_keys[] = {"op", "fusion", "args"};

/* Check the request as a whole; *items is its "batch" array (borrowed). */
static suga_status parse_request(suga_ctx *ctx, json_t *request, json_t **items, bool *stop_on_error)
{
    const char *what = "batch request";
    if (!json_is_object(request))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s must be a JSON object, got %s", what, suga_json_kind(request));
    suga_status st = reject_unknown_keys(ctx, what, "key", request, request_keys, 2);
    if (st != SUGA_OK)
        return st;
    json_t *batch = json_object_get(request, "batch");
    if (!batch || json_is_null(batch))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: 'batch' is required: an array of {\"op\" or \"fusion\", \"args\"}",
                         what);
    if (!json_is_array(batch))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: 'batch' must be an array, got %s", what, suga_json_kind(batch));
    size_t n = json_array_size(batch);
    if (n == 0)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: 'batch' is empty: give 1 to %d items", what, SUGA_BATCH_MAX_ITEMS);
    if (n > SUGA_BATCH_MAX_ITEMS) /* bounds the work and the response of one invocation */
        return suga_fail(ctx, SUGA_E_LIMIT, "%s: 'batch' has %zu items, at most %d are allowed in one request (split it)",
                         what, n, SUGA_BATCH_MAX_ITEMS);
    json_t *stop = json_object_get(request, "stop_on_error");
    if (stop && !json_is_null(stop) && !json_is_boolean(stop)) /* null = not given, as for args */
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: 'stop_on_error' must be true or false, got %s", what,
                         suga_json_kind(stop));
    *items = batch;
    *stop_on_error = json_is_true(stop);
    return SUGA_OK;
}

/* Run one item: an operation by name, or a fusion by name. *value is its result. */
static suga_status dispatch_item(const suga_table *table, suga_ctx *ctx, json_t *item, size_t index, json_t **value)
{
    char what[48];
    snprintf(what, sizeof what, "batch item %zu", index);
    if (!json_is_object(item))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s must be a JSON object, got %s", what, suga_json_kind(item));
    suga_status st = reject_unknown_keys(ctx, what, "key", item, item_keys, 3);
    if (st != SUGA_OK)
        return st;
    json_t *op = json_object_get(item, "op"), *fusion = json_object_get(item, "fusion");
    if (!op == !fusion)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: needs exactly one of 'op' and 'fusion'", what);
    json_t *name = op ? op : fusion;
    if (!json_is_string(name))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: '%s' must be a string, got %s", what, op ? "op" : "fusion",
                         suga_json_kind(name));
    json_t *args = json_object_get(item, "args");
    const char *s = json_string_value(name);
    size_t len = json_string_length(name);
    if (op) /* the by-name path of a single request: same lookup, same messages */
        return suga_table_call_json(table, ctx, s, len, args, value);
    const suga_fusion *f;
    if (suga_table_find_fusion(table, s, len, &f) != SUGA_OK)
        return suga_unknown_fusion(table, ctx, s);
    return suga_table_run_fusion(table, ctx, f, args, value);
}

/* Run item `index` with its own ctx and build its entry (*entry, a new reference). Fails only
 * when the entry cannot be built; the item's own failure is in the entry (*ok false). */
static suga_status run_item(const suga_table *table, suga_ctx *ctx, json_t *item, size_t index, json_t **entry,
                            bool *ok)
{
    suga_ctx item_ctx;
    suga_ctx_init(&item_ctx);
    item_ctx.request_id = ctx->request_id;
    item_ctx.correlation_id = ctx->correlation_id;
    item_ctx.deadline_ms = ctx->deadline_ms;
    json_t *value = NULL;
    suga_status st = dispatch_item(table, &item_ctx, item, index, &value);
    *ok = st == SUGA_OK;
    if (*ok) {
        *entry = json_pack("{s:b, s:O}", "ok", 1, "result", value ? value : json_null());
        json_decref(value);
    } else {
        char message[SUGA_ERROR_MAX];
        suga_utf8_sanitize(item_ctx.error, message, sizeof message);
        *entry = json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "status", suga_status_name(st), "message", message);
    }
    if (!*entry)
        return suga_fail(ctx, SUGA_E_NOMEM, "batch request: out of memory building the result of item %zu", index);
    return SUGA_OK;
}

suga_status suga_table_run_batch(const suga_table *table, suga_ctx *ctx, json_t *request, json_t **result)
{
    if (!table || !ctx || !result) {
        if (ctx)
            suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_table_run_batch: table and result are required");
        return SUGA_E_INVALID_ARG;
    }
    *result = NULL;
    json_t *items = NULL;
    bool stop_on_error = false;
    suga_status st = parse_request(ctx, request, &items, &stop_on_error);
    if (st != SUGA_OK)
        return st;
    json_t *results = json_array();
    if (!results)
        return suga_fail(ctx, SUGA_E_NOMEM, "batch request: out of memory");
    json_int_t succeeded = 0, failed = 0, skipped = 0;
    size_t index;
    json_t *item;
    json_array_foreach(items, index, item) {
        json_t *entry = NULL;
        bool ok = false;
        if (stop_on_error && failed) {
            skipped++;
            if (!(entry = json_pack("{s:b}", "skipped", 1)))
                st = suga_fail(ctx, SUGA_E_NOMEM, "batch request: out of memory");
        } else {
            st = run_item(table, ctx, item, index, &entry, &ok);
            if (ok)
                succeeded++;
            else
                failed++;
        }
        if (st == SUGA_OK && json_array_append_new(results, entry)) /* steals entry, also on failure */
            st = suga_fail(ctx, SUGA_E_NOMEM, "batch request: out of memory");
        if (st != SUGA_OK)
            break;
    }
    if (st == SUGA_OK) {
        *result = json_pack("{s:O, s:I, s:I, s:I}", "results", results, "succeeded", succeeded, "failed", failed,
                            "skipped", skipped);
        if (!*result)
            st = suga_fail(ctx, SUGA_E_NOMEM, "batch request: out of memory building the result");
    }
    json_decref(results);
    return st;
}
