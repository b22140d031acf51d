/* config.c: settings from process-level overrides and the environment, converted by type.
 *
 * An override is kept both as the JSON value given to config.set (so `previous` can show it as
 * it was given) and as text, so that every source goes through the same conversion rules as an
 * environment variable would.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config/suga_config.h"
#include "suga_handler_test_hooks.h"
#include "suga_log.h"
#include "suga_mask.h"
#include "suga_ops.h"
#include "utility/suga_utility.h"

typedef enum setting_source {
    SOURCE_UNSET = 0,
    SOURCE_OVERRIDE,
    SOURCE_ENVIRONMENT,
    SOURCE_DEFAULT,
} setting_source;

static const char *const source_names[] = {
    [SOURCE_UNSET] = "unset",
    [SOURCE_OVERRIDE] = "override",
    [SOURCE_ENVIRONMENT] = "environment",
    [SOURCE_DEFAULT] = "default",
};

/* how a source is named in messages: "environment variable SUGA_X is not an int" */
static const char *const source_nouns[] = {
    [SOURCE_UNSET] = "setting",
    [SOURCE_OVERRIDE] = "override",
    [SOURCE_ENVIRONMENT] = "environment variable",
    [SOURCE_DEFAULT] = "default of",
};

typedef enum setting_type {
    TYPE_STRING = SUGA_CONFIG_GET_TYPE_STRING,
    TYPE_INT = SUGA_CONFIG_GET_TYPE_INT,
    TYPE_NUMBER = SUGA_CONFIG_GET_TYPE_NUMBER,
    TYPE_BOOL = SUGA_CONFIG_GET_TYPE_BOOL,
} setting_type;

static const char *const type_nouns[] = {
    [TYPE_STRING] = "valid UTF-8 text",
    [TYPE_INT] = "an int",
    [TYPE_NUMBER] = "a number",
    [TYPE_BOOL] = "a bool",
};

typedef struct override {
    char *name;
    char *text;    /* what conversions read, exactly as if it came from the environment */
    json_t *value; /* as given to config.set */
} override;

static struct {
    override *items;
    size_t count, cap;
} overrides;

/* ---- sources ---- */

static override *find_override(const char *name)
{
    for (size_t i = 0; i < overrides.count; i++)
        if (!strcmp(overrides.items[i].name, name))
            return &overrides.items[i];
    return NULL;
}

static setting_source lookup(const char *name, const char **text)
{
    const override *o = find_override(name);
    if (o) {
        *text = o->text;
        return SOURCE_OVERRIDE;
    }
    const char *env = getenv(name);
    if (env) {
        *text = env;
        return SOURCE_ENVIRONMENT;
    }
    return SOURCE_UNSET;
}

/* ---- conversions: the whole text must convert, so "10k" or " 5" are errors, not 10 or 5 ---- */

static bool parse_int(const char *text, int64_t *out)
{
    if (!*text || isspace((unsigned char)*text))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_number(const char *text, double *out)
{
    if (!*text || isspace((unsigned char)*text))
        return false;
    errno = 0;
    char *end;
    double v = strtod(text, &end);
    if (errno == ERANGE || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

bool suga_config_parse_bool(const char *text, bool *out)
{
    static const struct {
        const char *word;
        bool value;
    } words[] = {
        {"true", true}, {"false", false}, {"1", true},  {"0", false},
        {"yes", true},  {"no", false},    {"on", true}, {"off", false},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (!strcasecmp(text, words[i].word)) {
            *out = words[i].value;
            return true;
        }
    }
    return false;
}

/* The error for a setting that breaks `rule`; a secret-looking setting's value is never shown. */
static suga_status bad_setting(suga_ctx *ctx, const char *what, const char *name, setting_source src, const char *text,
                               const char *rule)
{
    if (suga_is_secret_name(name))
        return suga_fail(ctx, SUGA_E_HANDLER, "%s: %s %s is not %s (value not shown: the name looks secret)", what,
                         source_nouns[src], name, rule);
    char shown[96];
    suga_util_quote(text, strlen(text), 64, shown, sizeof shown);
    return suga_fail(ctx, SUGA_E_HANDLER, "%s: %s %s is not %s: %s", what, source_nouns[src], name, rule, shown);
}

/* text → JSON value of `type`; NULL *out with SUGA_OK never happens */
static suga_status convert(suga_ctx *ctx, const char *name, setting_source src, const char *text, setting_type type,
                           json_t **out)
{
    int64_t i;
    double d;
    bool b;
    json_t *v = NULL;
    switch (type) {
    case TYPE_INT:
        if (!parse_int(text, &i))
            return bad_setting(ctx, ctx->op->name, name, src, text, type_nouns[type]);
        v = json_integer((json_int_t)i);
        break;
    case TYPE_NUMBER:
        if (!parse_number(text, &d))
            return bad_setting(ctx, ctx->op->name, name, src, text, type_nouns[type]);
        v = json_real(d);
        break;
    case TYPE_BOOL:
        if (!suga_config_parse_bool(text, &b))
            return bad_setting(ctx, ctx->op->name, name, src, text, type_nouns[type]);
        v = json_boolean(b);
        break;
    case TYPE_STRING:
    default:
        if (!suga_utf8_valid(text, strlen(text)))
            return bad_setting(ctx, ctx->op->name, name, src, text, type_nouns[TYPE_STRING]);
        v = json_string(text);
        break;
    }
    if (!v)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory converting %s", ctx->op->name, name);
    *out = v;
    return SUGA_OK;
}

/* A default must already have the type asked for; an int default for a number is widened. */
static suga_status check_default(suga_ctx *ctx, json_t *def, setting_type type, json_t **out)
{
    static const char *const type_names[] = {
        [TYPE_STRING] = "string", [TYPE_INT] = "int", [TYPE_NUMBER] = "number", [TYPE_BOOL] = "bool"};
    bool ok = (type == TYPE_STRING && json_is_string(def)) || (type == TYPE_INT && json_is_integer(def)) ||
              (type == TYPE_NUMBER && json_is_number(def)) || (type == TYPE_BOOL && json_is_boolean(def));
    if (!ok) {
        char *text = json_dumps(def, JSON_COMPACT | JSON_ENCODE_ANY);
        char shown[96] = "a value that cannot be shown";
        if (text)
            suga_util_quote(text, strlen(text), 64, shown, sizeof shown);
        free(text);
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: default_value must have type %s, got %s", ctx->op->name,
                         type_names[type], shown);
    }
    json_t *v = type == TYPE_NUMBER ? json_real(json_number_value(def)) : json_deep_copy(def);
    if (!v)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory copying default_value", ctx->op->name);
    *out = v;
    return SUGA_OK;
}

suga_status suga_handle_config_get(suga_ctx *ctx, const suga_args_config_get *args, json_t **result)
{
    const char *name = args->name.ptr;
    setting_type type = (setting_type)args->type;
    if ((unsigned)type > TYPE_BOOL) /* only a typed caller can get here */
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: type %d is not one of string, int, number, bool",
                         ctx->op->name, args->type);
    const char *text = NULL;
    setting_source src = lookup(name, &text);
    if (suga_is_secret_name(name)) { /* whoever may invoke the function must not read its credentials */
        if (src == SOURCE_UNSET && args->has_default_value && args->default_value && !json_is_null(args->default_value))
            src = SOURCE_DEFAULT;
        return suga_util_result(ctx,
                                json_pack("{s:s, s:b, s:b, s:s}", "name", name, "hidden", 1, "set",
                                          src == SOURCE_OVERRIDE || src == SOURCE_ENVIRONMENT, "source",
                                          source_names[src]),
                                result);
    }
    json_t *value = NULL;
    suga_status st = SUGA_OK;
    if (src != SOURCE_UNSET) {
        st = convert(ctx, name, src, text, type, &value);
    } else if (args->has_default_value && args->default_value && !json_is_null(args->default_value)) {
        src = SOURCE_DEFAULT;
        st = check_default(ctx, args->default_value, type, &value);
    }
    if (st != SUGA_OK)
        return st;
    json_t *out = json_pack("{s:s, s:O?, s:s}", "name", name, "value", value, "source", source_names[src]);
    json_decref(value);
    return suga_util_result(ctx, out, result);
}

/* ---- overrides ---- */

/* The text an override is read as: strings as they are, numbers in their shortest exact form,
 * bools as true/false. Other JSON types cannot be settings. */
static suga_status override_text(suga_ctx *ctx, const char *name, json_t *value, char **out)
{
    char buf[64];
    const char *text = buf;
    if (json_is_string(value)) {
        if (strlen(json_string_value(value)) != json_string_length(value))
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: value for %s must not contain NUL characters",
                             ctx->op->name, name);
        text = json_string_value(value);
    } else if (json_is_integer(value)) {
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
    } else if (json_is_real(value)) {
        double d = json_real_value(value);
        for (int precision = 15; precision <= 17; precision++) { /* 0.1, not 0.10000000000000001 */
            snprintf(buf, sizeof buf, "%.*g", precision, d);
            if (strtod(buf, NULL) == d)
                break;
        }
    } else if (json_is_boolean(value)) {
        text = json_is_true(value) ? "true" : "false";
    } else {
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: value for %s must be a string, number or bool, got %s",
                         ctx->op->name, name,
                         json_is_object(value)  ? "an object"
                         : json_is_array(value) ? "an array"
                                                : "null");
    }
    *out = strdup(text);
    if (!*out)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory storing %s", ctx->op->name, name);
    return SUGA_OK;
}

/* A free slot at the end of the override array (count is not changed). */
static suga_status reserve_override(void)
{
    if (overrides.count < overrides.cap)
        return SUGA_OK;
    size_t cap = overrides.cap ? overrides.cap * 2 : 8;
    override *items = realloc(overrides.items, cap * sizeof *items);
    if (!items)
        return SUGA_E_NOMEM;
    overrides.items = items;
    overrides.cap = cap;
    return SUGA_OK;
}

static void free_override(override *o)
{
    free(o->name);
    free(o->text);
    json_decref(o->value);
}

/* A previous value for a result: null when there was none, masked when the name looks secret. */
static json_t *shown_previous(const char *name, json_t *previous)
{
    if (!previous)
        return json_null();
    if (suga_is_secret_name(name))
        return json_string(SUGA_MASK);
    return json_deep_copy(previous);
}

/* The masking function's slot of an override of a secret-named setting: its own, so the
 * environment's value (remembered under the bare name) stays masked too. NULL text forgets it. */
static suga_status secret_slot(const char *name, const char *text)
{
    char slot[160];
    snprintf(slot, sizeof slot, "override:%s", name);
    return suga_secret_set(slot, text, text ? strlen(text) : 0);
}

/* The runtime's log reads LOG_LEVEL from the environment and knows nothing of overrides, so a
 * change of the override is pushed to it: the level now in force (override, else environment),
 * when there is one. A value that is no level is the settings' to report (config.settings). */
static void follow_log_level(const char *name)
{
    const char *text = NULL;
    suga_log_level level;
    if (!strcmp(name, "LOG_LEVEL") && lookup(name, &text) != SOURCE_UNSET &&
        suga_log_parse_level(text, &level) == SUGA_OK)
        suga_log_set_level(level);
}

/* Everything that can fail happens before the override is touched, so a failed set changes nothing. */
suga_status suga_handle_config_set(suga_ctx *ctx, const suga_args_config_set *args, json_t **result)
{
    const char *name = args->name.ptr;
    json_t *value = args->value ? args->value : json_null();
    char *text = NULL;
    suga_status st = override_text(ctx, name, value, &text);
    if (st != SUGA_OK)
        return st;
    override *existing = find_override(name);
    override fresh = {
        .name = existing ? NULL : strdup(name),
        .text = text,
        .value = json_deep_copy(value),
    };
    json_t *out = json_pack("{s:s, s:o}", "name", name, "previous",
                            shown_previous(name, existing ? existing->value : NULL));
    if (!fresh.value || (!existing && (!fresh.name || reserve_override() != SUGA_OK)) || !out) {
        free_override(&fresh);
        json_decref(out);
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory storing %s", ctx->op->name, name);
    }
    /* an override of a secret is a secret of the process from now on: masked wherever it shows */
    if (suga_is_secret_name(name) && secret_slot(name, text) != SUGA_OK) {
        free_override(&fresh);
        json_decref(out);
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: cannot remember %s as a secret to mask", ctx->op->name, name);
    }
    if (existing) {
        fresh.name = existing->name;
        existing->name = NULL;
        free_override(existing);
        *existing = fresh;
    } else {
        overrides.items[overrides.count++] = fresh;
    }
    follow_log_level(name);
    *result = out;
    return SUGA_OK;
}

suga_status suga_handle_config_unset(suga_ctx *ctx, const suga_args_config_unset *args, json_t **result)
{
    const char *name = args->name.ptr;
    override *o = find_override(name);
    json_t *out = json_pack("{s:s, s:b}", "name", name, "removed", o != NULL);
    if (!out)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the result", ctx->op->name);
    if (o) { /* order does not matter: config.list sorts */
        if (suga_is_secret_name(name))
            secret_slot(name, NULL); /* forgetting cannot fail */
        free_override(o);
        *o = overrides.items[--overrides.count];
        follow_log_level(name);
    }
    *result = out;
    return SUGA_OK;
}

/* ---- list ---- */

typedef struct listed {
    const char *name; /* not NUL-terminated for environment entries ("NAME=value") */
    size_t name_len;
    const char *value;
    setting_source src;
} listed;

/* Only names config.get accepts are listed: anything else in the environment is not a setting. */
static bool is_setting_name(const char *s, size_t len)
{
    if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return false;
    return true;
}

static int compare_names(const listed *a, const listed *b)
{
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c = memcmp(a->name, b->name, n);
    if (c == 0 && a->name_len != b->name_len)
        c = a->name_len < b->name_len ? -1 : 1;
    return c;
}

static int compare_listed(const void *pa, const void *pb)
{
    const listed *a = pa, *b = pb;
    int c = compare_names(a, b);
    /* the same name from two sources: the override sorts first, and the duplicate is skipped */
    return c ? c : (int)a->src - (int)b->src;
}

/* Environment entries and overrides whose name starts with prefix; the caller frees *out. */
static suga_status collect(const char *prefix, size_t prefix_len, listed **out, size_t *count)
{
    size_t env_count = 0;
    for (char **e = environ; e && *e; e++)
        env_count++;
    listed *items = malloc((env_count + overrides.count + 1) * sizeof *items);
    if (!items)
        return SUGA_E_NOMEM;
    size_t n = 0;
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        size_t len = eq ? (size_t)(eq - *e) : 0;
        if (eq && len >= prefix_len && !memcmp(*e, prefix, prefix_len) && is_setting_name(*e, len))
            items[n++] = (listed){.name = *e, .name_len = len, .value = eq + 1, .src = SOURCE_ENVIRONMENT};
    }
    for (size_t i = 0; i < overrides.count; i++) {
        const override *o = &overrides.items[i];
        if (!strncmp(o->name, prefix, prefix_len))
            items[n++] = (listed){.name = o->name, .name_len = strlen(o->name), .value = o->text, .src = SOURCE_OVERRIDE};
    }
    qsort(items, n, sizeof *items, compare_listed);
    *out = items;
    *count = n;
    return SUGA_OK;
}

static json_t *listed_json(const listed *item)
{
    json_t *name = json_stringn(item->name, item->name_len);
    char *cname = name ? strndup(item->name, item->name_len) : NULL;
    json_t *value;
    if (cname && suga_is_secret_name(cname))
        value = json_string(SUGA_MASK);
    else if (suga_utf8_valid(item->value, strlen(item->value)))
        value = json_string(item->value);
    else /* JSON cannot carry it; config.get reports the same */
        value = json_null();
    free(cname);
    json_t *out = NULL;
    if (name && value)
        out = json_pack("{s:O, s:O, s:s}", "name", name, "value", value, "source", source_names[item->src]);
    json_decref(name);
    json_decref(value);
    return out;
}

suga_status suga_handle_config_list(suga_ctx *ctx, const suga_args_config_list *args, json_t **result)
{
    const char *prefix = args->prefix.ptr ? args->prefix.ptr : "";
    size_t prefix_len = args->prefix.ptr ? args->prefix.len : 0;
    listed *items = NULL;
    size_t count = 0;
    if (collect(prefix, prefix_len, &items, &count) != SUGA_OK)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory listing settings", ctx->op->name);
    json_t *out = json_array();
    for (size_t i = 0; out && i < count; i++) {
        if (i > 0 && compare_names(&items[i], &items[i - 1]) == 0)
            continue; /* shadowed by the override just listed */
        if (json_array_append_new(out, listed_json(&items[i])) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    free(items);
    return suga_util_result(ctx, out, result);
}

/* ---- C API ---- */

static void describe_int_rule(int64_t min, int64_t max, char *buf, size_t size)
{
    if (min == INT64_MIN && max == INT64_MAX)
        snprintf(buf, size, "an int");
    else
        snprintf(buf, size, "an int in [%" PRId64 ", %" PRId64 "]", min, max);
}

suga_status suga_config_get_int(const char *name, int64_t fallback, int64_t min, int64_t max, int64_t *out,
                                suga_ctx *ctx)
{
    if (!name || !out || min > max || fallback < min || fallback > max)
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "config: get_int(%s) needs an output and a fallback %" PRId64 " within [%" PRId64 ", %" PRId64 "]",
                         name ? name : "(null)", fallback, min, max);
    const char *text;
    setting_source src = lookup(name, &text);
    if (src == SOURCE_UNSET) {
        *out = fallback;
        return SUGA_OK;
    }
    int64_t v;
    if (!parse_int(text, &v) || v < min || v > max) {
        char rule[96];
        describe_int_rule(min, max, rule, sizeof rule);
        return bad_setting(ctx, "config", name, src, text, rule);
    }
    *out = v;
    return SUGA_OK;
}

suga_status suga_config_get_number(const char *name, double fallback, double min, double max, double *out,
                                   suga_ctx *ctx)
{
    if (!name || !out || !(min <= max) || !(fallback >= min && fallback <= max))
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "config: get_number(%s) needs an output and a fallback %g within [%g, %g]",
                         name ? name : "(null)", fallback, min, max);
    const char *text;
    setting_source src = lookup(name, &text);
    if (src == SOURCE_UNSET) {
        *out = fallback;
        return SUGA_OK;
    }
    double v;
    if (!parse_number(text, &v) || v < min || v > max) {
        char rule[96];
        snprintf(rule, sizeof rule, "a number in [%g, %g]", min, max);
        return bad_setting(ctx, "config", name, src, text, rule);
    }
    *out = v;
    return SUGA_OK;
}

suga_status suga_config_get_bool(const char *name, bool fallback, bool *out, suga_ctx *ctx)
{
    if (!name || !out)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "config: get_bool needs a name and an output");
    const char *text;
    setting_source src = lookup(name, &text);
    if (src == SOURCE_UNSET) {
        *out = fallback;
        return SUGA_OK;
    }
    if (!suga_config_parse_bool(text, out))
        return bad_setting(ctx, "config", name, src, text, "a bool (true/false, 1/0, yes/no, on/off)");
    return SUGA_OK;
}

suga_status suga_config_get_string(const char *name, const char *fallback, char *out, size_t size, suga_ctx *ctx)
{
    if (!name || !out || size == 0)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "config: get_string needs a name and an output buffer");
    const char *text;
    setting_source src = lookup(name, &text);
    if (src == SOURCE_UNSET) {
        text = fallback ? fallback : "";
        src = SOURCE_DEFAULT;
    }
    size_t len = strlen(text);
    if (len >= size) {
        out[0] = '\0';
        return suga_fail(ctx, SUGA_E_LIMIT, "config: %s %s is %zu bytes long; at most %zu are allowed",
                         source_nouns[src], name, len, size - 1);
    }
    memcpy(out, text, len + 1);
    return SUGA_OK;
}

bool suga_config_is_overridden(const char *name)
{
    return name && find_override(name) != NULL;
}

suga_status suga_config_reset(void)
{
    for (size_t i = 0; i < overrides.count; i++)
        free_override(&overrides.items[i]);
    free(overrides.items);
    overrides.items = NULL;
    overrides.count = overrides.cap = 0;
    return SUGA_OK;
}
