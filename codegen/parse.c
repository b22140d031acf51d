/* parse.c: stage 1 of suga-gen. YAML (libyaml's document API) → gen_model.
 *
 * This stage checks what can be checked inside one node: YAML syntax, known keys (with a
 * "did you mean"), value types and ranges, identifiers, keys that do not apply to a param's type.
 * Rules that need the whole model (duplicates across files, handler collisions, defaults against
 * bounds, fusion bindings) live in validate.c. Every error names the position of the offending
 * node; parsing continues after an error so one run reports every problem.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <yaml.h>

#include "model.h"
#include "suga_metrics.h"

typedef struct parser {
    gen_model *m;
    yaml_document_t *doc;
    const char *file;
    size_t budget; /* nodes left to visit when converting values (aliases can multiply work) */
} parser;

enum { MAX_VALUE_DEPTH = 32, VALUE_NODE_BUDGET = 100000 };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const TOP_KEYS[] = {"interface", "summary", "module", "operations", "fusions", "limits",
                                       "routes", "lifecycle"};
static const char *const MODULE_KEYS[] = {"name", "load", "unload", "idle_seconds", "category", "depends_on"};
static const char *const OP_KEYS[] = {"summary", "handler", "params", "returns", "fast_path", "cache",
                                      "retry", "breaker", "idempotent", "timeout_ms", "essential",
                                      "invalidates"};
static const char *const PARAM_KEYS[] = {"type", "summary", "required", "default", "min",
                                         "max", "max_len", "pattern", "values"};
static const char *const RETURNS_KEYS[] = {"type", "summary"};
static const char *const CACHE_KEYS[] = {"ttl"};
static const char *const RETRY_KEYS[] = {"attempts", "backoff_ms"};
static const char *const FUSION_KEYS[] = {"summary", "params", "steps"};
static const char *const STEP_KEYS[] = {"op", "args"};
static const char *const LIMITS_KEYS[] = {"free_tier", "metrics", "memory", "breakers"};
static const char *const BREAKER_KEYS[] = {"failure_threshold", "cooldown_seconds", "half_open_max_calls",
                                           "success_threshold"};
static const char *const MEMORY_KEYS[] = {"unload_above_mb", "unload_above_percent"};
static const char *const FREE_TIER_KEYS[] = {"requests_per_month", "gb_seconds_per_month",
                                             "warn_percent", "throttle_percent", "block_percent"};
/* "priorities" and "max_custom_metrics" are known only to be refused with what replaced them
 * (parse_metric_limits): a spec written for the per-line budget must not pass with another meaning. */
static const char *const METRICS_KEYS[] = {"names", "priorities", "max_custom_metrics"};
static const char *const ROUTES_KEYS[] = {"http", "alexa", "alexa_skill"};
static const char *const HTTP_ROUTE_KEYS[] = {"method", "path", "op", "summary"};
static const char *const ALEXA_ROUTE_KEYS[] = {"namespace", "name", "op", "summary", "on_error"};
static const char *const SKILL_ROUTE_KEYS[] = {"request", "op", "summary", "on_error"};
static const char *const HOOK_KEYS[] = {"op", "error_type", "summary"};
/* The methods a route may name. Methods are case-sensitive (RFC 9110), so only these spellings. */
static const char *const HTTP_METHODS[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"};
enum { MAX_ROUTE_PATH = 256, MAX_ALEXA_NAME = 64, MAX_ERROR_TYPE = 64 };

/* ------------------------------------------------------------------ nodes and positions */

static gen_loc loc_of(const parser *p, const yaml_node_t *n)
{
    return (gen_loc){.file = p->file, .line = (int)n->start_mark.line + 1, .col = (int)n->start_mark.column + 1};
}

static yaml_node_t *node_at(const parser *p, int index)
{
    return yaml_document_get_node(p->doc, index);
}

static const char *scalar_text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

typedef enum scalar_class { SC_NULL, SC_BOOL, SC_INT, SC_FLOAT, SC_STRING } scalar_class;

static bool matches_int(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static bool matches_float(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (!strcmp(s, ".inf") || !strcmp(s, ".Inf") || !strcmp(s, ".nan") || !strcmp(s, ".NaN"))
        return true;
    bool digits = false, dot = false;
    for (; *s && *s != 'e' && *s != 'E'; s++) {
        if (*s >= '0' && *s <= '9')
            digits = true;
        else if (*s == '.' && !dot)
            dot = true;
        else
            return false;
    }
    if (!digits)
        return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+')
            s++;
        if (!*s)
            return false;
        for (; *s; s++)
            if (*s < '0' || *s > '9')
                return false;
    } else if (!dot) {
        return false;
    }
    return true;
}

/* YAML core-schema resolution of plain scalars; quoted scalars are always strings. Only
 * true/false are booleans: `yes` would surprise someone writing `summary: yes`. */
static scalar_class classify(const yaml_node_t *n)
{
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return SC_STRING;
    const char *s = scalar_text(n);
    if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
        return SC_NULL;
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") || !strcmp(s, "false") ||
        !strcmp(s, "False") || !strcmp(s, "FALSE"))
        return SC_BOOL;
    if (matches_int(s))
        return SC_INT;
    if (matches_float(s))
        return SC_FLOAT;
    return SC_STRING;
}

/* "a mapping", "a sequence", or the scalar itself quoted, for "got ..." in messages. */
static const char *describe(parser *p, const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a sequence";
    case YAML_SCALAR_NODE:
        if (classify(n) == SC_NULL)
            return "null";
        if (n->data.scalar.length > 60)
            return gen_printf(&p->m->arena, "'%.57s...'", scalar_text(n));
        return gen_printf(&p->m->arena, "'%s'", scalar_text(n));
    default:
        return "nothing";
    }
}

#define ERR(p, n, ...) gen_error(&(p)->m->diag, loc_of((p), (n)), __VA_ARGS__)

/* ------------------------------------------------------------------ mappings */

typedef struct key_ref {
    const char *key;
    size_t index;
    yaml_node_t *node;
    int first_line; /* for a repeated key: line of its first occurrence */
} key_ref;

static int cmp_key_ref(const void *a, const void *b)
{
    const key_ref *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

static int cmp_key_ref_index(const void *a, const void *b)
{
    const key_ref *x = a, *y = b;
    return (x->index > y->index) - (x->index < y->index);
}

static size_t map_size(const yaml_node_t *map)
{
    return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

/* Checks that keys are plain strings, known (when `allowed` is given) and unique.
 * Returns false if anything was wrong; the map can still be read. */
static bool check_map_keys(parser *p, yaml_node_t *map, const char *const *allowed, size_t n_allowed,
                           const char *where)
{
    bool ok = true;
    size_t n = map_size(map);
    key_ref *refs = gen_alloc_array(&p->m->arena, n ? n : 1, sizeof *refs);
    size_t n_refs = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *pair = &map->data.mapping.pairs.start[i];
        yaml_node_t *k = node_at(p, pair->key);
        if (!k || k->type != YAML_SCALAR_NODE || classify(k) == SC_NULL) {
            if (k)
                ERR(p, k, "keys in %s must be strings, got %s", where, describe(p, k));
            ok = false;
            continue;
        }
        refs[n_refs++] = (key_ref){.key = scalar_text(k), .index = i, .node = k};
        if (allowed) {
            bool known = false;
            for (size_t j = 0; j < n_allowed && !known; j++)
                known = !strcmp(allowed[j], scalar_text(k));
            if (!known) {
                char hint[96];
                ERR(p, k, "unknown key '%s' in %s%s", scalar_text(k), where,
                    gen_did_you_mean(hint, sizeof hint, scalar_text(k), allowed, n_allowed));
                ok = false;
            }
        }
    }
    /* duplicates: sort by (key, position), then report each repeat at its own position */
    qsort(refs, n_refs, sizeof *refs, cmp_key_ref);
    key_ref *dups = gen_alloc_array(&p->m->arena, n_refs ? n_refs : 1, sizeof *dups);
    size_t n_dups = 0, first = 0;
    for (size_t i = 1; i < n_refs; i++) {
        if (strcmp(refs[i].key, refs[first].key)) {
            first = i;
            continue;
        }
        dups[n_dups] = refs[i];
        dups[n_dups++].first_line = (int)refs[first].node->start_mark.line + 1;
    }
    qsort(dups, n_dups, sizeof *dups, cmp_key_ref_index);
    for (size_t i = 0; i < n_dups; i++) {
        ERR(p, dups[i].node, "duplicate key '%s' in %s (first defined at line %d)", dups[i].key, where,
            dups[i].first_line);
        ok = false;
    }
    return ok;
}

static yaml_node_t *map_get(parser *p, yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = node_at(p, pair->key);
        if (k && k->type == YAML_SCALAR_NODE && !strcmp(scalar_text(k), key))
            return node_at(p, pair->value);
    }
    return NULL;
}

static bool expect_map(parser *p, yaml_node_t *n, const char *what)
{
    if (n->type == YAML_MAPPING_NODE)
        return true;
    ERR(p, n, "%s must be a mapping, got %s", what, describe(p, n));
    return false;
}

/* ------------------------------------------------------------------ scalars */

static bool read_string(parser *p, yaml_node_t *n, const char *key, char **out)
{
    if (n->type != YAML_SCALAR_NODE || classify(n) == SC_NULL) {
        ERR(p, n, "'%s' must be a string, got %s", key, describe(p, n));
        return false;
    }
    if (strlen(scalar_text(n)) != n->data.scalar.length) {
        ERR(p, n, "'%s' must not contain a NUL character", key);
        return false;
    }
    *out = gen_strdup(&p->m->arena, scalar_text(n));
    return true;
}

static bool read_bool(parser *p, yaml_node_t *n, const char *key, bool *out)
{
    if (n->type != YAML_SCALAR_NODE || classify(n) != SC_BOOL) {
        ERR(p, n, "'%s' must be true or false, got %s", key, describe(p, n));
        return false;
    }
    char c = scalar_text(n)[0];
    *out = c == 't' || c == 'T';
    return true;
}

static bool read_uint(parser *p, yaml_node_t *n, const char *key, uint64_t min, uint64_t max, uint64_t *out)
{
    if (n->type == YAML_SCALAR_NODE && classify(n) == SC_INT && scalar_text(n)[0] != '-') {
        errno = 0;
        unsigned long long v = strtoull(scalar_text(n), NULL, 10);
        if (errno == 0 && v >= min && v <= max) {
            *out = v;
            return true;
        }
    }
    ERR(p, n, "'%s' must be an integer in [%" PRIu64 ", %" PRIu64 "], got %s", key, min, max, describe(p, n));
    return false;
}

static bool read_u32(parser *p, yaml_node_t *n, const char *key, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v;
    if (!read_uint(p, n, key, min, max, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool is_identifier(const char *s)
{
    if (!(*s >= 'a' && *s <= 'z'))
        return false;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

/* A name that becomes part of C identifiers and of `interface.operation`: lower-case snake case,
 * so that upper-casing it for the id enum cannot make two names collide by case alone. */
static bool read_name(parser *p, yaml_node_t *n, const char *what, char **out)
{
    char *s;
    if (!read_string(p, n, what, &s))
        return false;
    if (!is_identifier(s) || strlen(s) > 64) {
        ERR(p, n, "%s '%s' is not a valid identifier (lower-case letters, digits and '_', starting with a letter, at most 64)",
            what, s);
        return false;
    }
    *out = s;
    return true;
}

static bool name_of_key(parser *p, yaml_node_t *key, const char *what, char **out)
{
    return key->type == YAML_SCALAR_NODE && read_name(p, key, what, out);
}

/* ------------------------------------------------------------------ values → JSON */

static json_t *to_json(parser *p, yaml_node_t *n, int depth);

static json_t *scalar_to_json(parser *p, yaml_node_t *n)
{
    const char *s = scalar_text(n);
    switch (classify(n)) {
    case SC_NULL:
        return json_null();
    case SC_BOOL:
        return json_boolean(s[0] == 't' || s[0] == 'T');
    case SC_INT: {
        errno = 0;
        long long v = strtoll(s, NULL, 10);
        if (errno) {
            ERR(p, n, "integer %s is out of range (64-bit)", s);
            return NULL;
        }
        return json_integer(v);
    }
    case SC_FLOAT: {
        double v = strtod(s, NULL);
        if (!isfinite(v) || strstr(s, "inf") || strstr(s, "Inf") || strstr(s, "nan") || strstr(s, "NaN")) {
            ERR(p, n, "number %s cannot be represented in JSON", s);
            return NULL;
        }
        return json_real(v);
    }
    case SC_STRING:
        return json_stringn(s, n->data.scalar.length);
    }
    return NULL;
}

static json_t *to_json(parser *p, yaml_node_t *n, int depth)
{
    if (depth > MAX_VALUE_DEPTH || p->budget == 0) {
        ERR(p, n, "value is nested too deeply (or expands through aliases to too many nodes)");
        return NULL;
    }
    p->budget--;
    json_t *out = NULL;
    switch (n->type) {
    case YAML_SCALAR_NODE:
        out = scalar_to_json(p, n);
        break;
    case YAML_SEQUENCE_NODE:
        out = json_array();
        for (yaml_node_item_t *it = n->data.sequence.items.start; out && it < n->data.sequence.items.top; it++) {
            json_t *v = to_json(p, node_at(p, *it), depth + 1);
            if (!v || json_array_append_new(out, v)) {
                json_decref(out);
                out = NULL;
            }
        }
        break;
    case YAML_MAPPING_NODE:
        if (!check_map_keys(p, n, NULL, 0, "value"))
            return NULL;
        out = json_object();
        for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; out && pr < n->data.mapping.pairs.top; pr++) {
            yaml_node_t *k = node_at(p, pr->key);
            json_t *v = to_json(p, node_at(p, pr->value), depth + 1);
            if (!v || json_object_set_new(out, scalar_text(k), v)) {
                json_decref(out);
                out = NULL;
            }
        }
        break;
    default:
        break;
    }
    return out;
}

/* Canonical JSON text (sorted keys, compact), so generated files do not depend on key order. */
static char *value_json(parser *p, yaml_node_t *n)
{
    p->budget = VALUE_NODE_BUDGET;
    json_t *v = to_json(p, n, 0);
    if (!v)
        return NULL;
    char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    json_decref(v);
    if (!text) {
        ERR(p, n, "out of memory while encoding a value");
        return NULL;
    }
    char *copy = gen_strdup(&p->m->arena, text);
    free(text);
    return copy;
}

/* ------------------------------------------------------------------ params */

static bool parse_type(parser *p, yaml_node_t *n, suga_type *out)
{
    char *s;
    if (!read_string(p, n, "type", &s))
        return false;
    for (int t = 0; t < SUGA_T__COUNT; t++) {
        if (!strcmp(s, suga_type_names[t])) {
            *out = (suga_type)t;
            return true;
        }
    }
    char hint[96];
    ERR(p, n, "unknown type '%s' (expected string, int, number, bool, enum, object, array or any)%s", s,
        gen_did_you_mean(hint, sizeof hint, s, suga_type_names, SUGA_T__COUNT));
    return false;
}

static bool read_bound(parser *p, yaml_node_t *n, const char *key, suga_type type, double *d, int64_t *i)
{
    scalar_class c = n->type == YAML_SCALAR_NODE ? classify(n) : SC_STRING;
    if (type == SUGA_T_INT) {
        if (n->type == YAML_SCALAR_NODE && c == SC_INT) {
            errno = 0;
            long long v = strtoll(scalar_text(n), NULL, 10);
            if (!errno) {
                *i = v;
                *d = (double)v;
                return true;
            }
        }
        ERR(p, n, "'%s' of an int param must be a 64-bit integer, got %s", key, describe(p, n));
        return false;
    }
    if (n->type == YAML_SCALAR_NODE && (c == SC_INT || c == SC_FLOAT)) {
        double v = strtod(scalar_text(n), NULL);
        if (isfinite(v)) {
            *d = v;
            *i = 0;
            return true;
        }
    }
    ERR(p, n, "'%s' must be a finite number, got %s", key, describe(p, n));
    return false;
}

/* Keys that only make sense for some types; a misplaced one is an error, not ignored. */
static bool key_applies(suga_type t, const char *key)
{
    if (!strcmp(key, "min") || !strcmp(key, "max"))
        return t == SUGA_T_INT || t == SUGA_T_NUMBER;
    if (!strcmp(key, "max_len"))
        return t == SUGA_T_STRING || t == SUGA_T_ARRAY;
    if (!strcmp(key, "pattern"))
        return t == SUGA_T_STRING;
    if (!strcmp(key, "values"))
        return t == SUGA_T_ENUM;
    return true;
}

static bool parse_param(parser *p, yaml_node_t *key, yaml_node_t *val, const char *owner, gen_param *out)
{
    memset(out, 0, sizeof *out); /* the slot may hold a param that failed to parse */
    bool ok = name_of_key(p, key, "param name", &out->name);
    out->loc = loc_of(p, key);
    if (!expect_map(p, val, "a param"))
        return false;
    const char *where = gen_printf(&p->m->arena, "param '%s' of %s", scalar_text(key), owner);
    ok &= check_map_keys(p, val, PARAM_KEYS, COUNT(PARAM_KEYS), where);

    yaml_node_t *n = map_get(p, val, "type");
    if (!n) {
        ERR(p, val, "%s has no 'type'", where);
        return false;
    }
    out->type_loc = loc_of(p, n);
    if (!parse_type(p, n, &out->type))
        return false;
    for (yaml_node_pair_t *pr = val->data.mapping.pairs.start; pr < val->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node_at(p, pr->key);
        if (k->type == YAML_SCALAR_NODE && !key_applies(out->type, scalar_text(k))) {
            ERR(p, k, "'%s' does not apply to a param of type '%s'", scalar_text(k), suga_type_names[out->type]);
            ok = false;
        }
    }
    if ((n = map_get(p, val, "summary")))
        ok &= read_string(p, n, "summary", &out->summary);
    if ((n = map_get(p, val, "required")))
        ok &= read_bool(p, n, "required", &out->required);
    if ((n = map_get(p, val, "min")) && key_applies(out->type, "min")) {
        out->has_min = read_bound(p, n, "min", out->type, &out->min, &out->imin);
        out->min_loc = loc_of(p, n);
        ok &= out->has_min;
    }
    if ((n = map_get(p, val, "max")) && key_applies(out->type, "max")) {
        out->has_max = read_bound(p, n, "max", out->type, &out->max, &out->imax);
        out->max_loc = loc_of(p, n);
        ok &= out->has_max;
    }
    if ((n = map_get(p, val, "max_len")) && key_applies(out->type, "max_len")) {
        out->has_max_len = read_u32(p, n, "max_len", 1, UINT32_MAX, &out->max_len);
        ok &= out->has_max_len;
    }
    if ((n = map_get(p, val, "pattern")) && key_applies(out->type, "pattern")) {
        out->pattern_loc = loc_of(p, n);
        ok &= read_string(p, n, "pattern", &out->pattern);
    }
    if (out->type == SUGA_T_ENUM) {
        n = map_get(p, val, "values");
        if (!n) {
            ERR(p, val, "%s is an enum but has no 'values'", where);
            return false;
        }
        out->enum_loc = loc_of(p, n);
        if (n->type != YAML_SEQUENCE_NODE || n->data.sequence.items.top == n->data.sequence.items.start) {
            ERR(p, n, "'values' must be a non-empty sequence of names, got %s", describe(p, n));
            return false;
        }
        size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        out->enum_values = gen_alloc_array(&p->m->arena, count, sizeof(char *));
        for (size_t i = 0; i < count; i++) {
            yaml_node_t *item = node_at(p, n->data.sequence.items.start[i]);
            char *v;
            if (!read_name(p, item, "enum value", &v)) {
                ok = false;
                continue;
            }
            for (size_t j = 0; j < out->enum_count; j++) {
                if (!strcmp(out->enum_values[j], v)) {
                    ERR(p, item, "enum value '%s' is listed twice", v);
                    ok = false;
                }
            }
            out->enum_values[out->enum_count++] = v;
        }
    }
    if ((n = map_get(p, val, "default"))) {
        out->default_loc = loc_of(p, n);
        out->default_json = value_json(p, n);
        out->has_default = out->default_json != NULL;
        ok &= out->has_default;
        if (out->required) {
            ERR(p, n, "%s is required, so a default would never be used", where);
            ok = false;
        }
    }
    return ok;
}

static bool parse_params(parser *p, yaml_node_t *map, const char *owner, gen_param **out, size_t *count)
{
    if (!expect_map(p, map, "'params'"))
        return false;
    bool ok = check_map_keys(p, map, NULL, 0, gen_printf(&p->m->arena, "params of %s", owner));
    size_t n = map_size(map);
    if (n > SUGA_MAX_PARAMS) {
        ERR(p, map, "%s has %zu params; at most %u are supported", owner, n, SUGA_MAX_PARAMS);
        return false;
    }
    *out = gen_alloc_array(&p->m->arena, n ? n : 1, sizeof **out);
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *pr = &map->data.mapping.pairs.start[i];
        gen_param *param = &(*out)[*count];
        if (parse_param(p, node_at(p, pr->key), node_at(p, pr->value), owner, param))
            (*count)++;
        else
            ok = false;
    }
    return ok;
}

/* ------------------------------------------------------------------ interface files */

static bool parse_enum_name(parser *p, yaml_node_t *n, const char *key, const char *const *names, int count,
                            int *out)
{
    char *s;
    if (!read_string(p, n, key, &s))
        return false;
    for (int i = 0; i < count; i++) {
        if (!strcmp(s, names[i])) {
            *out = i;
            return true;
        }
    }
    char hint[96], list[160] = "";
    for (int i = 0; i < count; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
    ERR(p, n, "'%s' must be one of %s, got '%s'%s", key, list, s,
        gen_did_you_mean(hint, sizeof hint, s, names, (size_t)count));
    return false;
}

/* `depends_on: [a, b]`: names only here; validate.c resolves them and checks the graph. An
 * empty list is allowed (it says "no dependencies" as explicitly as leaving the key out). */
static bool parse_depends_on(parser *p, yaml_node_t *n, gen_module *m)
{
    m->depends_loc = loc_of(p, n);
    if (n->type != YAML_SEQUENCE_NODE) {
        ERR(p, n, "'depends_on' must be a sequence of module names, got %s", describe(p, n));
        return false;
    }
    bool ok = true;
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    m->depends_on = gen_alloc_array(&p->m->arena, count ? count : 1, sizeof *m->depends_on);
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = node_at(p, n->data.sequence.items.start[i]);
        gen_ref *ref = &m->depends_on[m->depends_count];
        ref->loc = loc_of(p, item);
        if (!read_name(p, item, "module name", &ref->name)) {
            ok = false;
            continue;
        }
        bool repeated = false;
        for (size_t j = 0; j < m->depends_count && !repeated; j++)
            repeated = !strcmp(m->depends_on[j].name, ref->name);
        if (repeated) {
            ERR(p, item, "module '%s' is listed twice in 'depends_on'", ref->name);
            ok = false;
            continue;
        }
        m->depends_count++;
    }
    return ok;
}

static bool parse_module(parser *p, yaml_node_t *map, gen_module *m)
{
    m->loc = loc_of(p, map);
    if (!expect_map(p, map, "'module'"))
        return false;
    bool ok = check_map_keys(p, map, MODULE_KEYS, COUNT(MODULE_KEYS), "module");
    yaml_node_t *n;
    if ((n = map_get(p, map, "name")))
        ok &= read_name(p, n, "module name", &m->name);
    if ((n = map_get(p, map, "category")))
        ok &= read_name(p, n, "module category", &m->category);
    int v;
    if ((n = map_get(p, map, "load"))) {
        m->load_loc = loc_of(p, n);
        if (parse_enum_name(p, n, "load", suga_load_names, SUGA_LOAD__COUNT, &v))
            m->load = (suga_load)v;
        else
            ok = false;
    }
    if ((n = map_get(p, map, "unload"))) {
        if (parse_enum_name(p, n, "unload", suga_unload_names, SUGA_UNLOAD__COUNT, &v))
            m->unload = (suga_unload)v;
        else
            ok = false;
    }
    if ((n = map_get(p, map, "idle_seconds"))) {
        m->idle_loc = loc_of(p, n);
        m->has_idle_seconds = read_u32(p, n, "idle_seconds", 1, 86400, &m->idle_seconds);
        ok &= m->has_idle_seconds;
    }
    if ((n = map_get(p, map, "depends_on")))
        ok &= parse_depends_on(p, n, m);
    return ok;
}

static bool parse_returns(parser *p, yaml_node_t *n, gen_op *op)
{
    /* `returns: object` is shorthand for `returns: {type: object}` */
    yaml_node_t *type = n;
    if (n->type == YAML_MAPPING_NODE) {
        if (!check_map_keys(p, n, RETURNS_KEYS, COUNT(RETURNS_KEYS), "'returns'"))
            return false;
        yaml_node_t *s = map_get(p, n, "summary");
        if (s && !read_string(p, s, "summary", &op->returns_summary))
            return false;
        type = map_get(p, n, "type");
        if (!type) {
            ERR(p, n, "'returns' has no 'type'");
            return false;
        }
    }
    suga_type t;
    if (!parse_type(p, type, &t))
        return false;
    op->returns_type = gen_strdup(&p->m->arena, suga_type_names[t]);
    return true;
}

static bool parse_op(parser *p, gen_interface *iface, yaml_node_t *key, yaml_node_t *val, gen_op *op)
{
    memset(op, 0, sizeof *op); /* the slot may hold an operation that failed to parse */
    op->loc = loc_of(p, key);
    if (!name_of_key(p, key, "operation name", &op->name))
        return false;
    op->full_name = gen_printf(&p->m->arena, "%s.%s", iface->name ? iface->name : "?", op->name);
    if (!expect_map(p, val, gen_printf(&p->m->arena, "operation '%s'", op->full_name)))
        return false;
    const char *where = gen_printf(&p->m->arena, "operation '%s'", op->full_name);
    bool ok = check_map_keys(p, val, OP_KEYS, COUNT(OP_KEYS), where);
    yaml_node_t *n, *sub;
    if ((n = map_get(p, val, "summary")))
        ok &= read_string(p, n, "summary", &op->summary);
    if ((n = map_get(p, val, "handler"))) {
        op->handler_loc = loc_of(p, n);
        if (read_string(p, n, "handler", &op->handler)) {
            const char *s = op->handler;
            bool ident = (*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'));
            for (s++; ident && *s; s++)
                ident = *s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9');
            if (!ident) {
                ERR(p, n, "handler '%s' is not a valid C identifier", op->handler);
                ok = false;
            }
        } else {
            ok = false;
        }
    } else {
        /* the convention: interface_operation */
        op->handler = gen_printf(&p->m->arena, "%s_%s", iface->name ? iface->name : "", op->name);
        op->handler_loc = op->loc;
    }
    if ((n = map_get(p, val, "params")))
        ok &= parse_params(p, n, where, &op->params, &op->param_count);
    if ((n = map_get(p, val, "returns")))
        ok &= parse_returns(p, n, op);
    if ((n = map_get(p, val, "fast_path"))) {
        op->fast_path_loc = loc_of(p, n);
        ok &= read_bool(p, n, "fast_path", &op->fast_path);
    }
    if ((n = map_get(p, val, "idempotent")))
        ok &= read_bool(p, n, "idempotent", &op->idempotent);
    op->essential = true; /* shedding is opt-in: only operations marked essential: false are shed */
    if ((n = map_get(p, val, "essential")))
        ok &= read_bool(p, n, "essential", &op->essential);
    if ((n = map_get(p, val, "cache"))) {
        if (expect_map(p, n, "'cache'") && check_map_keys(p, n, CACHE_KEYS, COUNT(CACHE_KEYS), "'cache'")) {
            if ((sub = map_get(p, n, "ttl")))
                op->has_cache = read_u32(p, sub, "ttl", 1, 86400, &op->cache_ttl);
            else
                ERR(p, n, "'cache' needs a 'ttl' in seconds");
            ok &= op->has_cache;
        } else {
            ok = false;
        }
    }
    if ((n = map_get(p, val, "retry"))) {
        if (expect_map(p, n, "'retry'") && check_map_keys(p, n, RETRY_KEYS, COUNT(RETRY_KEYS), "'retry'")) {
            if ((sub = map_get(p, n, "attempts")))
                ok &= read_u32(p, sub, "attempts", 1, 10, &op->retry_attempts);
            else {
                ERR(p, n, "'retry' needs 'attempts'");
                ok = false;
            }
            op->retry_backoff_ms = 100;
            if ((sub = map_get(p, n, "backoff_ms")))
                ok &= read_u32(p, sub, "backoff_ms", 0, 60000, &op->retry_backoff_ms);
        } else {
            ok = false;
        }
    }
    if ((n = map_get(p, val, "breaker"))) {
        op->breaker_loc = loc_of(p, n);
        ok &= read_name(p, n, "breaker", &op->breaker);
    }
    if ((n = map_get(p, val, "invalidates"))) {
        if (n->type != YAML_SEQUENCE_NODE || n->data.sequence.items.top == n->data.sequence.items.start) {
            ERR(p, n, "'invalidates' must be a non-empty sequence of operation names, got %s", describe(p, n));
            ok = false;
        } else {
            size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
            op->invalidates = gen_alloc_array(&p->m->arena, count, sizeof *op->invalidates);
            for (size_t i = 0; i < count; i++) {
                yaml_node_t *item = node_at(p, n->data.sequence.items.start[i]);
                gen_ref *ref = &op->invalidates[op->invalidate_count];
                ref->loc = loc_of(p, item);
                if (read_string(p, item, "invalidates", &ref->name))
                    op->invalidate_count++;
                else
                    ok = false;
            }
        }
    }
    if ((n = map_get(p, val, "timeout_ms")))
        ok &= read_u32(p, n, "timeout_ms", 1, 900000, &op->timeout_ms);
    return ok;
}

static void parse_interface(parser *p, yaml_node_t *root, yaml_node_t *name_node)
{
    gen_model *m = p->m;
    gen_interface *iface = gen_alloc(&m->arena, sizeof *iface);
    iface->loc = loc_of(p, name_node);
    bool ok = read_name(p, name_node, "interface name", &iface->name);
    yaml_node_t *n;
    if ((n = map_get(p, root, "summary")))
        ok &= read_string(p, n, "summary", &iface->summary);
    iface->module.loc = iface->loc;
    if ((n = map_get(p, root, "module"))) {
        iface->has_module = true;
        ok &= parse_module(p, n, &iface->module);
    }
    if (!iface->module.name)
        iface->module.name = iface->name;
    if (!iface->module.category)
        iface->module.category = gen_strdup(&m->arena, "core");

    n = map_get(p, root, "operations");
    if (!n) {
        ERR(p, root, "interface '%s' has no 'operations'", iface->name ? iface->name : "?");
        return;
    }
    if (!expect_map(p, n, "'operations'"))
        return;
    size_t count = map_size(n);
    if (count == 0) {
        ERR(p, n, "interface '%s' declares no operations", iface->name ? iface->name : "?");
        return;
    }
    ok &= check_map_keys(p, n, NULL, 0, gen_printf(&m->arena, "operations of '%s'", iface->name ? iface->name : "?"));
    iface->ops = gen_alloc_array(&m->arena, count, sizeof *iface->ops);
    for (size_t i = 0; i < count; i++) {
        yaml_node_pair_t *pr = &n->data.mapping.pairs.start[i];
        if (parse_op(p, iface, node_at(p, pr->key), node_at(p, pr->value), &iface->ops[iface->op_count]))
            iface->op_count++;
        else
            ok = false;
    }
    if (!ok || !iface->name)
        return;

    /* append to the model (array grows by doubling; pointers into it are taken after parsing) */
    if ((m->interface_count & (m->interface_count - 1)) == 0) {
        size_t cap = m->interface_count ? m->interface_count * 2 : 4;
        gen_interface *grown = gen_alloc_array(&m->arena, cap, sizeof *grown);
        if (m->interface_count)
            memcpy(grown, m->interfaces, m->interface_count * sizeof *grown);
        m->interfaces = grown;
    }
    m->interfaces[m->interface_count++] = *iface;
}

/* ------------------------------------------------------------------ fusions */

static bool parse_binding(parser *p, yaml_node_t *key, yaml_node_t *val, gen_binding *b)
{
    memset(b, 0, sizeof *b);
    b->loc = loc_of(p, val);
    if (!name_of_key(p, key, "argument name", &b->param))
        return false;
    if (val->type == YAML_SCALAR_NODE && classify(val) == SC_STRING && scalar_text(val)[0] == '$' &&
        scalar_text(val)[1] != '$') {
        const char *s = scalar_text(val);
        b->source = gen_strdup(&p->m->arena, s);
        if (!strncmp(s, "$input.", 7) && is_identifier(s + 7)) {
            b->kind = SUGA_BIND_INPUT;
            b->path = gen_strdup(&p->m->arena, s + 7);
            return true;
        }
        if (!strncmp(s, "$steps.", 7)) {
            char *end;
            errno = 0;
            unsigned long step = strtoul(s + 7, &end, 10);
            if (end != s + 7 && !errno && step < 65535 && !strncmp(end, ".result", 7) &&
                (end[7] == '\0' || end[7] == '.')) {
                const char *path = end[7] ? end + 8 : "";
                bool path_ok = true;
                for (const char *c = path; *c; c++)
                    path_ok &= (*c == '.' && c[1] && c[1] != '.') || *c == '_' || (*c >= 'a' && *c <= 'z') ||
                               (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-';
                if (path_ok && !(end[7] == '.' && !*path)) {
                    b->kind = SUGA_BIND_STEP;
                    b->step = (uint16_t)step;
                    b->path = gen_strdup(&p->m->arena, path);
                    return true;
                }
            }
        }
        ERR(p, val, "binding '%s' must be '$input.<param>' or '$steps.<n>.result[.<field>...]' (write '$$' for a literal '$')",
            s);
        return false;
    }
    b->kind = SUGA_BIND_LITERAL;
    if (val->type == YAML_SCALAR_NODE && classify(val) == SC_STRING && !strncmp(scalar_text(val), "$$", 2)) {
        json_t *s = json_string(scalar_text(val) + 1);
        char *text = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
        json_decref(s);
        if (!text) {
            ERR(p, val, "out of memory while encoding a value");
            return false;
        }
        b->literal_json = gen_strdup(&p->m->arena, text);
        free(text);
        return true;
    }
    b->literal_json = value_json(p, val);
    return b->literal_json != NULL;
}

static bool parse_step(parser *p, yaml_node_t *n, const char *where, gen_step *step)
{
    memset(step, 0, sizeof *step);
    step->loc = loc_of(p, n);
    if (!expect_map(p, n, "a fusion step"))
        return false;
    bool ok = check_map_keys(p, n, STEP_KEYS, COUNT(STEP_KEYS), where);
    yaml_node_t *op = map_get(p, n, "op");
    if (!op) {
        ERR(p, n, "%s has no 'op'", where);
        return false;
    }
    step->op_loc = loc_of(p, op);
    ok &= read_string(p, op, "op", &step->op_name);
    yaml_node_t *args = map_get(p, n, "args");
    if (args) {
        if (!expect_map(p, args, "'args'"))
            return false;
        ok &= check_map_keys(p, args, NULL, 0, gen_printf(&p->m->arena, "args of %s", where));
        size_t count = map_size(args);
        step->bindings = gen_alloc_array(&p->m->arena, count ? count : 1, sizeof *step->bindings);
        for (size_t i = 0; i < count; i++) {
            yaml_node_pair_t *pr = &args->data.mapping.pairs.start[i];
            if (parse_binding(p, node_at(p, pr->key), node_at(p, pr->value), &step->bindings[step->binding_count]))
                step->binding_count++;
            else
                ok = false;
        }
    }
    return ok;
}

static void parse_fusions(parser *p, yaml_node_t *map)
{
    gen_model *m = p->m;
    if (!expect_map(p, map, "'fusions'"))
        return;
    if (!check_map_keys(p, map, NULL, 0, "fusions"))
        return;
    size_t count = map_size(map);
    gen_fusion *grown = gen_alloc_array(&m->arena, m->fusion_count + count + 1, sizeof *grown);
    if (m->fusion_count)
        memcpy(grown, m->fusions, m->fusion_count * sizeof *grown);
    m->fusions = grown;
    for (size_t i = 0; i < count; i++) {
        yaml_node_pair_t *pr = &map->data.mapping.pairs.start[i];
        yaml_node_t *key = node_at(p, pr->key), *val = node_at(p, pr->value);
        gen_fusion *f = &m->fusions[m->fusion_count];
        memset(f, 0, sizeof *f);
        f->loc = loc_of(p, key);
        if (!name_of_key(p, key, "fusion name", &f->name))
            continue;
        const char *where = gen_printf(&m->arena, "fusion '%s'", f->name);
        if (!expect_map(p, val, where))
            continue;
        bool ok = check_map_keys(p, val, FUSION_KEYS, COUNT(FUSION_KEYS), where);
        yaml_node_t *n;
        if ((n = map_get(p, val, "summary")))
            ok &= read_string(p, n, "summary", &f->summary);
        if ((n = map_get(p, val, "params")))
            ok &= parse_params(p, n, where, &f->params, &f->param_count);
        n = map_get(p, val, "steps");
        if (!n) {
            ERR(p, val, "%s has no 'steps'", where);
            continue;
        }
        if (n->type != YAML_SEQUENCE_NODE || n->data.sequence.items.top == n->data.sequence.items.start) {
            ERR(p, n, "'steps' of %s must be a non-empty sequence, got %s", where, describe(p, n));
            continue;
        }
        size_t steps = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        if (steps > 64) {
            ERR(p, n, "%s has %zu steps; at most 64 are supported", where, steps);
            continue;
        }
        f->steps = gen_alloc_array(&m->arena, steps, sizeof *f->steps);
        for (size_t s = 0; s < steps; s++) {
            const char *swhere = gen_printf(&m->arena, "step %zu of %s", s, where);
            ok &= parse_step(p, node_at(p, n->data.sequence.items.start[s]), swhere, &f->steps[f->step_count]);
            f->step_count++;
        }
        if (ok)
            m->fusion_count++;
    }
}

/* ------------------------------------------------------------------ limits */

/* `breakers: {name: {failure_threshold, cooldown_seconds, half_open_max_calls, success_threshold}}`.
 * The bounds keep a breaker meaningful: it must open at some point (1..100 failures), close
 * again within an hour, and let at least one trial through. */
static bool parse_breakers(parser *p, yaml_node_t *map, gen_limits *lim)
{
    gen_model *m = p->m;
    if (!expect_map(p, map, "'breakers'"))
        return false;
    bool ok = check_map_keys(p, map, NULL, 0, "breakers");
    size_t count = map_size(map);
    lim->breakers = gen_alloc_array(&m->arena, count ? count : 1, sizeof *lim->breakers);
    lim->breaker_count = 0;
    for (size_t i = 0; i < count; i++) {
        yaml_node_pair_t *pr = &map->data.mapping.pairs.start[i];
        yaml_node_t *key = node_at(p, pr->key), *val = node_at(p, pr->value), *n;
        gen_breaker *b = &lim->breakers[lim->breaker_count];
        memset(b, 0, sizeof *b);
        b->loc = loc_of(p, key);
        b->half_open_max_calls = 1;
        b->success_threshold = 1;
        if (!name_of_key(p, key, "breaker name", &b->name)) {
            ok = false;
            continue;
        }
        const char *where = gen_printf(&m->arena, "breaker '%s'", b->name);
        if (!expect_map(p, val, where)) {
            ok = false;
            continue;
        }
        bool this_ok = check_map_keys(p, val, BREAKER_KEYS, COUNT(BREAKER_KEYS), where);
        if ((n = map_get(p, val, "failure_threshold")))
            this_ok &= read_u32(p, n, "failure_threshold", 1, 100, &b->failure_threshold);
        else {
            ERR(p, val, "%s needs 'failure_threshold' (consecutive failures that open it)", where);
            this_ok = false;
        }
        if ((n = map_get(p, val, "cooldown_seconds")))
            this_ok &= read_u32(p, n, "cooldown_seconds", 1, 3600, &b->cooldown_seconds);
        else {
            ERR(p, val, "%s needs 'cooldown_seconds' (how long it stays open before a trial call)", where);
            this_ok = false;
        }
        if ((n = map_get(p, val, "half_open_max_calls")))
            this_ok &= read_u32(p, n, "half_open_max_calls", 1, 10, &b->half_open_max_calls);
        if ((n = map_get(p, val, "success_threshold")))
            this_ok &= read_u32(p, n, "success_threshold", 1, 10, &b->success_threshold);
        if (this_ok)
            lim->breaker_count++;
        ok &= this_ok;
    }
    return ok;
}

/* limits.metrics: `names`, the only metric names that may reach CloudWatch. Each name follows the
 * runtime's rule (suga_metrics_check_name, the same function, so spec and registry cannot
 * disagree) and there are at most SUGA_MAX_METRIC_NAMES; duplicates and the engine's own names
 * are validate.c's (check_limits). */
static bool parse_metric_limits(parser *p, yaml_node_t *mt, gen_limits *lim)
{
    bool ok = check_map_keys(p, mt, METRICS_KEYS, COUNT(METRICS_KEYS), "metrics");
    yaml_node_t *n;
    if ((n = map_get(p, mt, "max_custom_metrics"))) {
        ERR(p, n, "'max_custom_metrics' is gone: the metrics emitted are those 'names' declares, at most %u, "
                  "each a CloudWatch custom metric",
            SUGA_MAX_METRIC_NAMES);
        ok = false;
    }
    if ((n = map_get(p, mt, "priorities"))) {
        ERR(p, n, "'priorities' is now 'names': the only metric names that may reach CloudWatch (at most %u; "
                  "any other name is never emitted)",
            SUGA_MAX_METRIC_NAMES);
        ok = false;
    }
    if (!(n = map_get(p, mt, "names")))
        return ok;
    if (n->type != YAML_SEQUENCE_NODE) {
        ERR(p, n, "'names' must be a sequence of metric names, got %s", describe(p, n));
        return false;
    }
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    const char **names = gen_alloc_array(&p->m->arena, count ? count : 1, sizeof(char *));
    lim->metric_name_locs = gen_alloc_array(&p->m->arena, count ? count : 1, sizeof(gen_loc));
    lim->metric_names_loc = loc_of(p, n);
    lim->metric_name_count = 0;
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = node_at(p, n->data.sequence.items.start[i]);
        if (i == SUGA_MAX_METRIC_NAMES) { /* once, at the first name over */
            ERR(p, item, "'names' declares %zu metric names, at most %u may reach CloudWatch (each is a custom "
                         "metric, billed: the free tier includes %u)",
                count, SUGA_MAX_METRIC_NAMES, SUGA_MAX_METRIC_NAMES);
            ok = false;
        }
        char *name;
        if (!read_string(p, item, "metric name", &name)) {
            ok = false;
            continue;
        }
        suga_ctx local;
        suga_ctx_init(&local);
        if (suga_metrics_check_name(name, &local) != SUGA_OK) {
            ERR(p, item, "%s", local.error);
            ok = false;
            continue;
        }
        lim->metric_name_locs[lim->metric_name_count] = loc_of(p, item);
        names[lim->metric_name_count++] = name;
    }
    lim->metric_names = names;
    return ok;
}

static void parse_limits(parser *p, yaml_node_t *map)
{
    gen_model *m = p->m;
    if (m->has_limits) {
        ERR(p, map, "limits are already declared at %s:%d:%d", m->limits.loc.file, m->limits.loc.line,
            m->limits.loc.col);
        return;
    }
    if (!expect_map(p, map, "'limits'"))
        return;
    gen_limits lim;
    gen_limits_defaults(&lim);
    lim.loc = loc_of(p, map);
    bool ok = check_map_keys(p, map, LIMITS_KEYS, COUNT(LIMITS_KEYS), "limits");
    yaml_node_t *ft = map_get(p, map, "free_tier"), *n;
    if (ft && expect_map(p, ft, "'free_tier'")) {
        ok &= check_map_keys(p, ft, FREE_TIER_KEYS, COUNT(FREE_TIER_KEYS), "free_tier");
        lim.percent_loc = loc_of(p, ft);
        if ((n = map_get(p, ft, "requests_per_month")))
            ok &= read_uint(p, n, "requests_per_month", 1, UINT64_C(1) << 40, &lim.requests_per_month);
        if ((n = map_get(p, ft, "gb_seconds_per_month")))
            ok &= read_uint(p, n, "gb_seconds_per_month", 1, UINT64_C(1) << 40, &lim.gb_seconds_per_month);
        if ((n = map_get(p, ft, "warn_percent")))
            ok &= read_u32(p, n, "warn_percent", 1, 100, &lim.warn_percent);
        if ((n = map_get(p, ft, "throttle_percent")))
            ok &= read_u32(p, n, "throttle_percent", 1, 100, &lim.throttle_percent);
        if ((n = map_get(p, ft, "block_percent")))
            ok &= read_u32(p, n, "block_percent", 1, 100, &lim.block_percent);
    } else if (ft) {
        ok = false;
    }
    yaml_node_t *mt = map_get(p, map, "metrics");
    if (mt && expect_map(p, mt, "'metrics'")) {
        ok &= parse_metric_limits(p, mt, &lim);
    } else if (mt) {
        ok = false;
    }
    yaml_node_t *mem = map_get(p, map, "memory");
    if (mem && expect_map(p, mem, "'memory'")) {
        ok &= check_map_keys(p, mem, MEMORY_KEYS, COUNT(MEMORY_KEYS), "memory");
        if ((n = map_get(p, mem, "unload_above_mb")))
            ok &= read_u32(p, n, "unload_above_mb", 0, 10240, &lim.memory_unload_above_mb);
        if ((n = map_get(p, mem, "unload_above_percent")))
            ok &= read_u32(p, n, "unload_above_percent", 1, 100, &lim.memory_unload_above_percent);
    } else if (mem) {
        ok = false;
    }
    if ((n = map_get(p, map, "breakers")))
        ok &= parse_breakers(p, n, &lim);
    if (ok) {
        m->limits = lim;
        m->has_limits = true;
    }
}

/* ------------------------------------------------------------------ routes */

static bool parse_method(parser *p, yaml_node_t *n, char **out)
{
    char *s;
    if (!read_string(p, n, "method", &s))
        return false;
    for (size_t i = 0; i < COUNT(HTTP_METHODS); i++) {
        if (!strcmp(s, HTTP_METHODS[i])) {
            *out = s;
            return true;
        }
    }
    /* the hint is taken on the upper-cased word, so that 'get' suggests 'GET' */
    char *up = gen_strdup(&p->m->arena, s), hint[96];
    for (char *c = up; *c; c++)
        *c = *c >= 'a' && *c <= 'z' ? (char)(*c - 'a' + 'A') : *c;
    ERR(p, n, "'method' must be one of GET, POST, PUT, DELETE, PATCH, HEAD, got '%s'%s", s,
        gen_did_you_mean(hint, sizeof hint, up, HTTP_METHODS, COUNT(HTTP_METHODS)));
    return false;
}

static bool path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '_' ||
           c == '.' || c == '-';
}

/* An exact path, compared byte for byte with the request's: nothing is decoded or normalised at
 * run time, so a path that could never arrive as written (a query, a wildcard, '%', a trailing
 * '/', '//', a '.' or '..' segment) is refused here rather than silently never matched. */
static bool parse_route_path(parser *p, yaml_node_t *n, char **out)
{
    char *s;
    if (!read_string(p, n, "path", &s))
        return false;
    size_t len = strlen(s);
    const char *bad = s;
    while (*bad && path_char(*bad))
        bad++;
    if (s[0] != '/') {
        ERR(p, n, "path '%s' must start with '/'", s);
    } else if (len > MAX_ROUTE_PATH) {
        ERR(p, n, "path %s is %zu bytes long; at most %d are allowed", describe(p, n), len, MAX_ROUTE_PATH);
    } else if (strchr(s, '?')) {
        ERR(p, n, "path '%s' has a query string: routes match the path alone (the caller strips '?' and what follows)",
            s);
    } else if (strchr(s, '*')) {
        ERR(p, n, "path '%s' has a '*': HTTP routes match exact paths, there are no wildcards", s);
    } else if (*bad) {
        char found[16];
        if (*bad > ' ' && *bad < 0x7f)
            snprintf(found, sizeof found, "'%c'", *bad);
        else
            snprintf(found, sizeof found, "byte 0x%02x", (unsigned char)*bad);
        ERR(p, n, "path '%s' may only contain letters, digits, '/', '_', '.' and '-' (found %s)", s, found);
    } else if (strstr(s, "//")) {
        ERR(p, n, "path '%s' has an empty segment ('//')", s);
    } else if (len > 1 && s[len - 1] == '/') {
        ERR(p, n, "path '%s' ends with '/': the caller strips a trailing '/', so write '%.*s'", s, (int)(len - 1), s);
    } else if (strstr(s, "/./") || strstr(s, "/../") || (len >= 2 && !strcmp(s + len - 2, "/.")) ||
               (len >= 3 && !strcmp(s + len - 3, "/.."))) {
        ERR(p, n, "path '%s' has a '.' or '..' segment (paths are matched as sent, never normalised)", s);
    } else {
        *out = s;
        return true;
    }
    return false;
}

/* An Alexa directive namespace or name, or a custom skill's request type: '*' (any), or
 * dot-separated words of letters and digits. */
static bool parse_alexa_name(parser *p, yaml_node_t *n, const char *key, const char *example, char **out)
{
    char *s;
    if (!read_string(p, n, key, &s))
        return false;
    if (!strcmp(s, "*")) {
        *out = s;
        return true;
    }
    if (strchr(s, '*')) {
        ERR(p, n, "%s '%s' has a '*' in it: a wildcard is '*' alone (any %s); patterns such as 'Alexa.*' are not supported",
            key, s, key);
        return false;
    }
    size_t len = strlen(s);
    bool ok = len > 0 && len <= MAX_ALEXA_NAME && s[0] != '.' && s[len - 1] != '.' && !strstr(s, "..");
    for (const char *c = s; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.';
    if (!ok) {
        ERR(p, n, "%s '%s' must be '*' or dot-separated words of letters and digits, such as '%s' (at most %d bytes)", key,
            s, example, MAX_ALEXA_NAME);
        return false;
    }
    *out = s;
    return true;
}

/* Reports each of `required` missing from the route mapping `n`. */
static bool route_has(parser *p, yaml_node_t *n, const char *where, const char *const *required, size_t count)
{
    bool ok = true;
    for (size_t i = 0; i < count; i++) {
        if (!map_get(p, n, required[i])) {
            ERR(p, n, "%s has no '%s'", where, required[i]);
            ok = false;
        }
    }
    return ok;
}

static bool parse_route_op(parser *p, yaml_node_t *n, const char *key, gen_ref *op)
{
    op->loc = loc_of(p, n);
    return read_string(p, n, key, &op->name);
}

/* `{method: GET, path: /health, op: debug.health, summary: ...}` */
static bool parse_http_route(parser *p, yaml_node_t *n, size_t index, gen_http_route *r)
{
    memset(r, 0, sizeof *r);
    r->loc = loc_of(p, n);
    const char *where = gen_printf(&p->m->arena, "http route %zu", index);
    if (!expect_map(p, n, where))
        return false;
    bool ok = check_map_keys(p, n, HTTP_ROUTE_KEYS, COUNT(HTTP_ROUTE_KEYS), where);
    ok &= route_has(p, n, where, HTTP_ROUTE_KEYS, 3);
    yaml_node_t *v;
    if ((v = map_get(p, n, "method")))
        ok &= parse_method(p, v, &r->method);
    if ((v = map_get(p, n, "path")))
        ok &= parse_route_path(p, v, &r->path);
    if ((v = map_get(p, n, "op")))
        ok &= parse_route_op(p, v, "op", &r->op);
    if ((v = map_get(p, n, "summary")))
        ok &= read_string(p, v, "summary", &r->summary);
    return ok;
}

/* `{namespace: Alexa.Discovery, name: Discover, op: alexa.discover, on_error: ..., summary: ...}`;
 * "*" is a wildcard for the name, or for both (the catch-all). */
static bool parse_alexa_route(parser *p, yaml_node_t *n, size_t index, gen_alexa_route *r)
{
    memset(r, 0, sizeof *r);
    r->loc = loc_of(p, n);
    const char *where = gen_printf(&p->m->arena, "alexa route %zu", index);
    if (!expect_map(p, n, where))
        return false;
    bool ok = check_map_keys(p, n, ALEXA_ROUTE_KEYS, COUNT(ALEXA_ROUTE_KEYS), where);
    ok &= route_has(p, n, where, ALEXA_ROUTE_KEYS, 3);
    yaml_node_t *v, *name = map_get(p, n, "name");
    if ((v = map_get(p, n, "namespace")))
        ok &= parse_alexa_name(p, v, "namespace", "Alexa.Discovery", &r->namespace_name);
    if (name)
        ok &= parse_alexa_name(p, name, "name", "Discover", &r->name);
    if ((v = map_get(p, n, "op")))
        ok &= parse_route_op(p, v, "op", &r->op);
    if ((v = map_get(p, n, "on_error")))
        ok &= parse_route_op(p, v, "on_error", &r->on_error);
    if ((v = map_get(p, n, "summary")))
        ok &= read_string(p, v, "summary", &r->summary);
    /* a name only means something within its namespace, so (*, Discover) has no meaning */
    if (r->namespace_name && r->name && !strcmp(r->namespace_name, "*") && strcmp(r->name, "*")) {
        ERR(p, name, "%s: namespace '*' needs name '*' (a name is only meaningful within its namespace; the catch-all is {namespace: \"*\", name: \"*\"})",
            where);
        ok = false;
    }
    return ok;
}

/* `{request: IntentRequest, op: alexa.custom_skill, on_error: ..., summary: ...}`: a custom
 * skill's request type (request.type), or "*" for any. */
static bool parse_skill_route(parser *p, yaml_node_t *n, size_t index, gen_skill_route *r)
{
    memset(r, 0, sizeof *r);
    r->loc = loc_of(p, n);
    const char *where = gen_printf(&p->m->arena, "alexa_skill route %zu", index);
    if (!expect_map(p, n, where))
        return false;
    bool ok = check_map_keys(p, n, SKILL_ROUTE_KEYS, COUNT(SKILL_ROUTE_KEYS), where);
    ok &= route_has(p, n, where, SKILL_ROUTE_KEYS, 2);
    yaml_node_t *v;
    if ((v = map_get(p, n, "request")))
        ok &= parse_alexa_name(p, v, "request", "IntentRequest", &r->request);
    if ((v = map_get(p, n, "op")))
        ok &= parse_route_op(p, v, "op", &r->op);
    if ((v = map_get(p, n, "on_error")))
        ok &= parse_route_op(p, v, "on_error", &r->on_error);
    if ((v = map_get(p, n, "summary")))
        ok &= read_string(p, v, "summary", &r->summary);
    return ok;
}

/* The number of routes listed under `key` of the routes mapping (*list: that sequence); 0 when
 * there is none or it is not a sequence (reported). */
static size_t route_list(parser *p, yaml_node_t *map, const char *key, yaml_node_t **list)
{
    yaml_node_t *n = *list = map_get(p, map, key);
    if (!n)
        return 0;
    if (n->type != YAML_SEQUENCE_NODE) {
        ERR(p, n, "'%s' of routes must be a sequence of routes, got %s", key, describe(p, n));
        return 0;
    }
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

/* A copy of the `count` routes (elem_size bytes each) at `routes`, with room for `more` after. */
static void *grow_routes(parser *p, const void *routes, size_t count, size_t more, size_t elem_size)
{
    void *grown = gen_alloc_array(&p->m->arena, count + more, elem_size);
    if (count)
        memcpy(grown, routes, count * elem_size);
    return grown;
}

/* `routes: {http: [...], alexa: [...], alexa_skill: [...]}`, in any file and any number of
 * files: the lists are joined, and validate.c checks them as one. */
static void parse_routes(parser *p, yaml_node_t *map)
{
    gen_model *m = p->m;
    if (!expect_map(p, map, "'routes'"))
        return;
    check_map_keys(p, map, ROUTES_KEYS, COUNT(ROUTES_KEYS), "routes");
    yaml_node_t *n;
    size_t count;
    if ((count = route_list(p, map, "http", &n))) {
        m->http_routes = grow_routes(p, m->http_routes, m->http_route_count, count, sizeof *m->http_routes);
        for (size_t i = 0; i < count; i++)
            if (parse_http_route(p, node_at(p, n->data.sequence.items.start[i]), i, &m->http_routes[m->http_route_count]))
                m->http_route_count++;
    }
    if ((count = route_list(p, map, "alexa", &n))) {
        m->alexa_routes = grow_routes(p, m->alexa_routes, m->alexa_route_count, count, sizeof *m->alexa_routes);
        for (size_t i = 0; i < count; i++)
            if (parse_alexa_route(p, node_at(p, n->data.sequence.items.start[i]), i,
                                  &m->alexa_routes[m->alexa_route_count]))
                m->alexa_route_count++;
    }
    if ((count = route_list(p, map, "alexa_skill", &n))) {
        m->skill_routes = grow_routes(p, m->skill_routes, m->skill_route_count, count, sizeof *m->skill_routes);
        for (size_t i = 0; i < count; i++)
            if (parse_skill_route(p, node_at(p, n->data.sequence.items.start[i]), i,
                                  &m->skill_routes[m->skill_route_count]))
                m->skill_route_count++;
    }
}

/* ------------------------------------------------------------------ lifecycle hooks */

/* A Lambda errorType: what the Runtime API reports, so letters, digits, '.' and '_' only
 * ("Runtime.InvalidConfiguration"). */
static bool parse_error_type(parser *p, yaml_node_t *n, char **out)
{
    char *s;
    if (!read_string(p, n, "error_type", &s))
        return false;
    size_t len = strlen(s);
    bool ok = len >= 1 && len <= MAX_ERROR_TYPE;
    for (size_t i = 0; ok && i < len; i++)
        ok = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
             s[i] == '.' || s[i] == '_';
    if (!ok) {
        ERR(p, n, "error_type '%s' must be 1 to %d letters, digits, '.' or '_' (a Lambda errorType such as "
                  "Runtime.InvalidConfiguration)", s, MAX_ERROR_TYPE);
        return false;
    }
    *out = s;
    return true;
}

/* `{op: config.refresh, error_type: InvalidConfiguration, summary: ...}` */
static bool parse_hook(parser *p, yaml_node_t *n, suga_hook_phase phase, size_t index, gen_hook *h)
{
    memset(h, 0, sizeof *h);
    h->loc = loc_of(p, n);
    const char *where = gen_printf(&p->m->arena, "%s hook %zu", suga_hook_phase_names[phase], index);
    if (!expect_map(p, n, where))
        return false;
    bool ok = check_map_keys(p, n, HOOK_KEYS, COUNT(HOOK_KEYS), where);
    ok &= route_has(p, n, where, HOOK_KEYS, 1);
    yaml_node_t *v;
    if ((v = map_get(p, n, "op")))
        ok &= parse_route_op(p, v, "op", &h->op);
    if ((v = map_get(p, n, "error_type"))) {
        if (phase == SUGA_HOOK_INVOCATION_END) { /* the answer is gone: a failure can only be logged */
            ERR(p, v, "%s: 'error_type' applies to init and invocation_start hooks only (an invocation_end hook "
                      "runs after the answer is sent; its failure is logged)", where);
            ok = false;
        } else {
            ok &= parse_error_type(p, v, &h->error_type);
        }
    }
    if ((v = map_get(p, n, "summary")))
        ok &= read_string(p, v, "summary", &h->summary);
    return ok;
}

/* `lifecycle: {init: [...], invocation_start: [...], invocation_end: [...]}`, in any file and any
 * number of files: each phase's lists are joined in input order, which is the order they run. */
static void parse_lifecycle(parser *p, yaml_node_t *map)
{
    gen_model *m = p->m;
    if (!expect_map(p, map, "'lifecycle'"))
        return;
    check_map_keys(p, map, suga_hook_phase_names, SUGA_HOOK__COUNT, "lifecycle");
    for (int phase = 0; phase < SUGA_HOOK__COUNT; phase++) {
        yaml_node_t *n = map_get(p, map, suga_hook_phase_names[phase]);
        if (!n)
            continue;
        if (n->type != YAML_SEQUENCE_NODE) {
            ERR(p, n, "'%s' of lifecycle must be a sequence of hooks, got %s", suga_hook_phase_names[phase],
                describe(p, n));
            continue;
        }
        size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        m->hooks[phase] = grow_routes(p, m->hooks[phase], m->hook_count[phase], count, sizeof *m->hooks[phase]);
        for (size_t i = 0; i < count; i++)
            if (parse_hook(p, node_at(p, n->data.sequence.items.start[i]), (suga_hook_phase)phase, i,
                           &m->hooks[phase][m->hook_count[phase]]))
                m->hook_count[phase]++;
    }
}

/* ------------------------------------------------------------------ files */

static void parse_root(parser *p, yaml_node_t *root)
{
    if (root->type != YAML_MAPPING_NODE) {
        ERR(p, root, "a spec file must be a mapping with 'interface', 'fusions', 'limits', 'routes' or 'lifecycle', got %s",
            describe(p, root));
        return;
    }
    if (map_size(root) == 0) {
        ERR(p, root, "empty spec: expected 'interface', 'fusions', 'limits', 'routes' or 'lifecycle'");
        return;
    }
    check_map_keys(p, root, TOP_KEYS, COUNT(TOP_KEYS), "a spec file");
    yaml_node_t *iface = map_get(p, root, "interface");
    if (iface) {
        parse_interface(p, root, iface);
    } else {
        static const char *const NEEDS_IFACE[] = {"summary", "module", "operations"};
        for (size_t i = 0; i < COUNT(NEEDS_IFACE); i++) {
            for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
                yaml_node_t *k = node_at(p, pr->key);
                if (k->type == YAML_SCALAR_NODE && !strcmp(scalar_text(k), NEEDS_IFACE[i]))
                    ERR(p, k, "'%s' needs an 'interface' in the same file", NEEDS_IFACE[i]);
            }
        }
    }
    yaml_node_t *n;
    if ((n = map_get(p, root, "fusions")))
        parse_fusions(p, n);
    if ((n = map_get(p, root, "limits")))
        parse_limits(p, n);
    if ((n = map_get(p, root, "routes")))
        parse_routes(p, n);
    if ((n = map_get(p, root, "lifecycle")))
        parse_lifecycle(p, n);
}

static void note_input(gen_model *m, const char *display)
{
    char **grown = gen_alloc_array(&m->arena, m->input_count + 1, sizeof *grown);
    if (m->input_count)
        memcpy(grown, m->inputs, m->input_count * sizeof *grown);
    grown[m->input_count++] = gen_strdup(&m->arena, display);
    m->inputs = grown;
}

static void yaml_syntax_error(gen_model *m, const char *file, const yaml_parser_t *yp)
{
    /* `name: *` (a route wildcard written plainly) reads as an alias to YAML: say what to write */
    bool alias = yp->context && strstr(yp->context, "alias");
    gen_error(&m->diag, (gen_loc){file, (int)yp->problem_mark.line + 1, (int)yp->problem_mark.column + 1},
              "YAML syntax error: %s%s%s%s", yp->problem ? yp->problem : "unknown problem", yp->context ? " " : "",
              yp->context ? yp->context : "", alias ? " (a plain '*' starts an alias; write a wildcard as \"*\")" : "");
}

int gen_parse_buffer(gen_model *m, const char *display_name, const unsigned char *data, size_t len)
{
    int errors_before = m->diag.error_count;
    jmp_buf oom;
    yaml_parser_t yp;
    yaml_document_t doc;
    volatile bool have_parser = false, have_doc = false;
    parser p = {.m = m, .doc = &doc, .file = NULL};

    m->arena.on_oom = &oom;
    if (setjmp(oom)) {
        gen_error(&m->diag, (gen_loc){display_name, 1, 1}, "out of memory while parsing");
        goto done;
    }
    note_input(m, display_name);
    p.file = m->inputs[m->input_count - 1];
    if (!yaml_parser_initialize(&yp)) {
        gen_error(&m->diag, (gen_loc){p.file, 1, 1}, "out of memory while starting the YAML parser");
        goto done;
    }
    have_parser = true;
    yaml_parser_set_input_string(&yp, data, len);
    if (!yaml_parser_load(&yp, &doc)) {
        yaml_syntax_error(m, p.file, &yp);
        goto done;
    }
    have_doc = true;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        gen_error(&m->diag, (gen_loc){p.file, 1, 1}, "empty spec: expected 'interface', 'fusions', 'limits', 'routes' or 'lifecycle'");
        goto done;
    }
    parse_root(&p, root);

    /* a second document is almost always a stray '---'; say so rather than ignore it */
    yaml_document_t extra;
    if (!yaml_parser_load(&yp, &extra)) {
        yaml_syntax_error(m, p.file, &yp);
    } else {
        yaml_node_t *second = yaml_document_get_root_node(&extra);
        if (second)
            gen_error(&m->diag, (gen_loc){p.file, (int)second->start_mark.line + 1, (int)second->start_mark.column + 1},
                      "a spec file holds one YAML document; found a second one");
        yaml_document_delete(&extra);
    }
done:
    if (have_doc)
        yaml_document_delete(&doc);
    if (have_parser)
        yaml_parser_delete(&yp);
    m->arena.on_oom = NULL;
    return m->diag.error_count == errors_before ? 0 : -1;
}

int gen_parse_file(gen_model *m, const char *path, const char *display_name)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        gen_error(&m->diag, (gen_loc){display_name, 0, 0}, "cannot open: %s", strerror(errno));
        return -1;
    }
    size_t cap = 65536, len = 0;
    unsigned char *buf = malloc(cap);
    int rc = -1;
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        unsigned char *grown = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
        if (!grown) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    if (!buf)
        gen_error(&m->diag, (gen_loc){display_name, 0, 0}, "out of memory while reading");
    else if (ferror(f))
        gen_error(&m->diag, (gen_loc){display_name, 0, 0}, "read error: %s", strerror(errno));
    else
        rc = gen_parse_buffer(m, display_name, buf, len);
    free(buf);
    fclose(f);
    return rc;
}
