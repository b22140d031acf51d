/* args.c: argument validation and decoding, driven by the generated parameter tables.
 *
 * The generator emits, per operation, a typed struct and one row per parameter (type, rule,
 * default, offsetof the field), in the style of systemd's gperf tables; this file is the one
 * interpreter of those rows. Keeping a single interpreter instead of one generated decoder per
 * operation keeps the rules (and their messages) in one audited place, and lets suga-gen check
 * spec defaults with the very same code.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suga_internal.h"

/* A short rendering of a value for messages: compact JSON, cut at 60 bytes. */
static const char *render(json_t *v, char *buf, size_t size)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (!text) {
        snprintf(buf, size, "(%s)", json_is_object(v) ? "object" : json_is_array(v) ? "array" : "value");
        return buf;
    }
    size_t len = strlen(text);
    if (len > 60) {
        /* cut at a character boundary: messages end up in JSON, which needs valid UTF-8 */
        size_t cut = 57;
        while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
            cut--;
        snprintf(buf, size, "%.*s...", (int)cut, text);
    } else {
        snprintf(buf, size, "%s", text);
    }
    free(text);
    return buf;
}

/* "an integer in [0, 86400]", "a number >= 0.5", "an integer" ... */
static const char *describe_rule(const suga_param *p, char *buf, size_t size)
{
    const char *noun = p->type == SUGA_T_INT ? "an integer" : "a number";
    if (p->type == SUGA_T_INT) {
        if (p->has_min && p->has_max)
            snprintf(buf, size, "%s in [%" PRId64 ", %" PRId64 "]", noun, p->int_min, p->int_max);
        else if (p->has_min)
            snprintf(buf, size, "%s >= %" PRId64, noun, p->int_min);
        else if (p->has_max)
            snprintf(buf, size, "%s <= %" PRId64, noun, p->int_max);
        else
            snprintf(buf, size, "%s", noun);
    } else {
        if (p->has_min && p->has_max)
            snprintf(buf, size, "%s in [%.17g, %.17g]", noun, p->num_min, p->num_max);
        else if (p->has_min)
            snprintf(buf, size, "%s >= %.17g", noun, p->num_min);
        else if (p->has_max)
            snprintf(buf, size, "%s <= %.17g", noun, p->num_max);
        else
            snprintf(buf, size, "%s", noun);
    }
    return buf;
}

/* Compile (once, when the table gives a cache) and run the param's pattern. */
static suga_status match_pattern(suga_ctx *ctx, const char *what, const suga_param *p, const char *s,
                                 bool *matched)
{
    regex_t local, *re = &local;
    if (p->cache) {
        re = &p->cache->regex;
        if (p->cache->state == 0)
            p->cache->state = regcomp(re, p->pattern, REG_EXTENDED | REG_NOSUB) == 0 ? 1 : -1;
        if (p->cache->state < 0)
            return suga_fail(ctx, SUGA_E_INTERNAL, "%s: arg '%s': pattern '%s' does not compile", what, p->name,
                             p->pattern);
    } else if (regcomp(re, p->pattern, REG_EXTENDED | REG_NOSUB) != 0) {
        return suga_fail(ctx, SUGA_E_INTERNAL, "%s: arg '%s': pattern '%s' does not compile", what, p->name,
                         p->pattern);
    }
    *matched = regexec(re, s, 0, NULL, 0) == 0;
    if (!p->cache)
        regfree(re);
    return SUGA_OK;
}

/* Index of a JSON string among the enum values, by length and bytes: "debug\u0000x" is not "debug". */
static int enum_index(const suga_param *p, json_t *v)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    for (uint16_t i = 0; i < p->enum_count; i++)
        if (strlen(p->enum_values[i]) == len && !memcmp(p->enum_values[i], s, len))
            return i;
    return -1;
}

suga_status suga_check_value(suga_ctx *ctx, const char *what, const suga_param *p, json_t *v)
{
    char got[72], rule[96];
    switch (p->type) {
    case SUGA_T_STRING: {
        if (!json_is_string(v))
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg '%s' must be a string, got %s", what, p->name,
                             render(v, got, sizeof got));
        size_t len = json_string_length(v);
        if (p->has_max_len && len > p->max_len)
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg '%s' must be at most %" PRIu32 " bytes long, got %zu bytes",
                             what, p->name, p->max_len, len);
        if (p->pattern) {
            const char *s = json_string_value(v);
            if (strlen(s) != len)
                return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg '%s' must not contain NUL characters", what, p->name);
            bool matched = false;
            suga_status st = match_pattern(ctx, what, p, s, &matched);
            if (st != SUGA_OK)
                return st;
            if (!matched)
                return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg '%s' must match pattern '%s', got %s", what, p->name,
                                 p->pattern, render(v, got, sizeof got));
        }
        return SUGA_OK;
    }
    case SUGA_T_INT: {
        bool ok = json_is_integer(v);
        if (ok) {
            json_int_t i = json_integer_value(v);
            ok = (!p->has_min || i >= p->int_min) && (!p->has_max || i <= p->int_max);
        }
        if (!ok)
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg '%s' must be %s, got %s", what, p->name,
                             describe_rule(p, rule, sizeof rule), render(v, got, sizeof got));
        return SUGA_OK;
    }
    case SUGA_T_NUMBER: {
        bool ok = json_is_number(v);
        if (ok) {
            double d = json_number_value(v);
            ok = isfinite(d) && (!p->has_min || d >= p->num_min) && (!p->has_max || d <= p->num_max);
        }
        if (!ok)
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg '%s' must be %s, got %s", what, p->name,
                             describe_rule(p, rule, sizeof rule), render(v, got, sizeof got));
        return SUGA_OK;
    }
    case SUGA_T_BOOL:
        if (!json_is_boolean(v))
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg '%s' must be true or false, got %s", what, p->name,
                             render(v, got, sizeof got));
        return SUGA_OK;
    case SUGA_T_ENUM:
        if (!json_is_string(v) || enum_index(p, v) < 0) {
            char list[256] = "";
            size_t used = 0;
            for (uint16_t i = 0; i < p->enum_count && used < sizeof list; i++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", p->enum_values[i]);
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg '%s' must be one of %s, got %s", what, p->name, list,
                             render(v, got, sizeof got));
        }
        return SUGA_OK;
    case SUGA_T_OBJECT:
        if (!json_is_object(v))
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg '%s' must be an object, got %s", what, p->name,
                             render(v, got, sizeof got));
        return SUGA_OK;
    case SUGA_T_ARRAY:
        if (!json_is_array(v))
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg '%s' must be an array, got %s", what, p->name,
                             render(v, got, sizeof got));
        if (p->has_max_len && json_array_size(v) > p->max_len)
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg '%s' must have at most %" PRIu32 " items, got %zu", what,
                             p->name, p->max_len, json_array_size(v));
        return SUGA_OK;
    case SUGA_T_ANY:
        return SUGA_OK;
    default:
        return suga_fail(ctx, SUGA_E_INTERNAL, "%s: arg '%s' has an unknown type %d in the table", what, p->name,
                         (int)p->type);
    }
}

/* Store an already checked value into the typed struct. Strings and JSON values are borrowed. */
static void store(const suga_param *p, json_t *v, unsigned char *out)
{
    unsigned char *field = out + p->offset;
    switch (p->type) {
    case SUGA_T_STRING: {
        suga_str s = {.ptr = json_string_value(v), .len = json_string_length(v)};
        memcpy(field, &s, sizeof s);
        break;
    }
    case SUGA_T_INT: {
        int64_t i = json_integer_value(v);
        memcpy(field, &i, sizeof i);
        break;
    }
    case SUGA_T_NUMBER: {
        double d = json_number_value(v);
        memcpy(field, &d, sizeof d);
        break;
    }
    case SUGA_T_BOOL: {
        bool b = json_is_true(v);
        memcpy(field, &b, sizeof b);
        break;
    }
    case SUGA_T_ENUM: {
        int e = enum_index(p, v);
        memcpy(field, &e, sizeof e);
        break;
    }
    default:
        memcpy(field, &v, sizeof v);
        break;
    }
    if (p->present_offset >= 0) {
        bool present = true;
        memcpy(out + p->present_offset, &present, sizeof present);
    }
}

static suga_status store_default(suga_ctx *ctx, const char *what, const suga_param *p, unsigned char *out)
{
    unsigned char *field = out + p->offset;
    switch (p->type) {
    case SUGA_T_STRING: {
        suga_str s = {.ptr = p->default_string, .len = strlen(p->default_string)};
        memcpy(field, &s, sizeof s);
        return SUGA_OK;
    }
    case SUGA_T_INT:
        memcpy(field, &p->default_int, sizeof p->default_int);
        return SUGA_OK;
    case SUGA_T_NUMBER:
        memcpy(field, &p->default_number, sizeof p->default_number);
        return SUGA_OK;
    case SUGA_T_BOOL: {
        bool b = p->default_int != 0;
        memcpy(field, &b, sizeof b);
        return SUGA_OK;
    }
    case SUGA_T_ENUM: {
        int e = (int)p->default_int;
        memcpy(field, &e, sizeof e);
        return SUGA_OK;
    }
    default: {
        /* object/array/any defaults are parsed once and kept for the life of the table */
        if (!p->cache)
            return suga_fail(ctx, SUGA_E_INTERNAL, "%s: arg '%s' has a JSON default but no cache slot", what, p->name);
        if (p->cache->state == 0) {
            p->cache->default_value = json_loads(p->default_json, JSON_DECODE_ANY, NULL);
            p->cache->state = p->cache->default_value ? 1 : -1;
        }
        if (p->cache->state < 0)
            return suga_fail(ctx, SUGA_E_NOMEM, "%s: arg '%s': cannot build the default value", what, p->name);
        json_t *v = p->cache->default_value;
        memcpy(field, &v, sizeof v);
        return SUGA_OK;
    }
    }
}

/* "an object", "null" ...: what a JSON value is, for messages that must not echo input. */
const char *suga_json_kind(const json_t *v)
{
    if (!v) /* a NULL request */
        return "nothing";
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

suga_status suga_collect_args(suga_ctx *ctx, const char *what, const suga_param *params, uint16_t param_count,
                              json_t *args, json_t **values)
{
    if (param_count > SUGA_MAX_PARAMS)
        return suga_fail(ctx, SUGA_E_INTERNAL, "%s: %u params exceed the format's limit of %u", what,
                         (unsigned)param_count, SUGA_MAX_PARAMS);
    memset(values, 0, param_count * sizeof *values);
    if (!args || json_is_null(args))
        return SUGA_OK;
    if (!json_is_object(args))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: args must be a JSON object, got %s", what, suga_json_kind(args));
    /* one pass over the members: each is matched to its param or refused, so no per-param lookup */
    const char *key;
    json_t *value;
    json_object_foreach(args, key, value) {
        uint16_t i = 0;
        while (i < param_count && strcmp(params[i].name, key))
            i++;
        if (i == param_count) {
            const char *names[SUGA_MAX_PARAMS];
            for (uint16_t k = 0; k < param_count; k++)
                names[k] = params[k].name;
            const char *hint = suga_closest(key, names, param_count);
            if (hint)
                return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: unknown arg '%s' (did you mean '%s'?)", what, key, hint);
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: unknown arg '%s'", what, key);
        }
        values[i] = value;
    }
    return SUGA_OK;
}

suga_status suga_decode_values(suga_ctx *ctx, const char *what, const suga_param *params, uint16_t param_count,
                               json_t *const *values, void *out)
{
    for (uint16_t i = 0; i < param_count; i++) {
        const suga_param *p = &params[i];
        json_t *v = values[i];
        /* JSON null means "not given", except for `any`, where null is a value */
        if (!v || (json_is_null(v) && p->type != SUGA_T_ANY)) {
            if (p->required)
                return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg '%s' is required", what, p->name);
            if (p->has_default) {
                suga_status st = store_default(ctx, what, p, out);
                if (st != SUGA_OK)
                    return st;
            }
            continue;
        }
        suga_status st = suga_check_value(ctx, what, p, v);
        if (st != SUGA_OK)
            return st;
        store(p, v, out);
    }
    return SUGA_OK;
}

suga_status suga_decode_args(suga_ctx *ctx, const char *what, const suga_param *params, uint16_t param_count,
                             json_t *args, void *out)
{
    json_t *values[SUGA_MAX_PARAMS];
    suga_status st = suga_collect_args(ctx, what, params, param_count, args, values);
    return st == SUGA_OK ? suga_decode_values(ctx, what, params, param_count, values, out) : st;
}

suga_status suga_param_schema(const suga_param *p, json_t **out)
{
    json_t *o = json_object();
    if (!o)
        return SUGA_E_NOMEM;
    int bad = 0;
    bad |= json_object_set_new(o, "name", json_string(p->name));
    bad |= json_object_set_new(o, "type", json_string(suga_type_names[p->type]));
    bad |= json_object_set_new(o, "required", json_boolean(p->required));
    if (p->summary)
        bad |= json_object_set_new(o, "summary", json_string(p->summary));
    if (p->has_min)
        bad |= json_object_set_new(o, "min", p->type == SUGA_T_INT ? json_integer(p->int_min) : json_real(p->num_min));
    if (p->has_max)
        bad |= json_object_set_new(o, "max", p->type == SUGA_T_INT ? json_integer(p->int_max) : json_real(p->num_max));
    if (p->has_max_len)
        bad |= json_object_set_new(o, "max_len", json_integer(p->max_len));
    if (p->pattern)
        bad |= json_object_set_new(o, "pattern", json_string(p->pattern));
    if (p->enum_count) {
        json_t *values = json_array();
        for (uint16_t i = 0; values && i < p->enum_count; i++)
            bad |= json_array_append_new(values, json_string(p->enum_values[i]));
        bad |= json_object_set_new(o, "values", values);
    }
    if (p->has_default) {
        json_t *d = json_loads(p->default_json, JSON_DECODE_ANY, NULL);
        bad |= json_object_set_new(o, "default", d);
    }
    if (bad) {
        json_decref(o);
        return SUGA_E_NOMEM;
    }
    *out = o;
    return SUGA_OK;
}

void suga_params_release(const suga_param *params, uint16_t count)
{
    for (uint16_t i = 0; i < count; i++) {
        suga_param_cache *c = params[i].cache;
        if (!c || c->state != 1)
            continue;
        if (params[i].pattern)
            regfree(&c->regex);
        json_decref(c->default_value);
        c->default_value = NULL;
        c->state = 0;
    }
}
