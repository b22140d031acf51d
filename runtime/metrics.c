/* metrics.c: the metrics registry and its CloudWatch EMF output (suga_metrics.h, docs/metrics.md).
 *
 * Storage is fixed-size and inline (no allocation behind a registry), so the default registry
 * can live in static storage, recording never allocates, and a failed record cannot leave a
 * half-made metric. Only the JSON views allocate. Metrics sit in an array in the order they were
 * first recorded, which is also the order of the undeclared ones in the views; a small
 * open-addressing table maps names to their place, so a record costs one hash and usually one
 * compare.
 *
 * What may be emitted is decided by name, once, at configuration (the declared names), not per
 * line: CloudWatch bills every metric name it has ever been sent, so a per-line cap would let
 * any number of names through over time.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "suga_metrics.h"
#include "suga_suggest.h"

/* A power of two, twice SUGA_METRICS_MAX: the table is never more than half full, so probe
 * sequences stay short and always reach an empty slot. */
#define HASH_SLOTS 512
#define NAME_RULE "1 to 64 bytes of A-Z a-z 0-9 _ . -"
#define NAMESPACE_RULE "1 to 255 bytes of A-Z a-z 0-9 . - _ / # : and space"
#define UNIT_LIST "Count, Milliseconds, Bytes, Percent, None, Seconds, Kilobytes or Megabytes"
/* room for a name of SUGA_METRICS_NAME_MAX bytes, each shown as \xNN at worst, quotes and "..." */
#define SHOWN_MAX (4 * SUGA_METRICS_NAME_MAX + 8)

enum { UNIT_COUNT = 0 }; /* index of "Count" in suga_metrics_unit_names */

const char *const suga_metrics_unit_names[SUGA_METRICS_UNIT_COUNT] = {
    "Count", "Milliseconds", "Bytes", "Percent", "None", "Seconds", "Kilobytes", "Megabytes",
};

_Static_assert(SUGA_MAX_METRIC_NAMES <= SUGA_METRICS_EMF_MAX_METRICS, "every declared metric fits one EMF directive");

/* Names that are members of every EMF object: a metric called so would overwrite them. */
static const char *const reserved_names[] = {"_aws", SUGA_METRICS_DIMENSION, SUGA_METRICS_NOT_EMITTED_KEY};

typedef struct metric {
    uint64_t count, since_count;
    double sum, min, max, last;
    double since_sum, since_min, since_max;
    uint8_t unit;     /* index into suga_metrics_unit_names */
    uint8_t name_len;
    int16_t declared; /* place in the declared names, -1 when not declared (never emitted) */
    uint16_t ring_start, ring_len; /* the values since the flush: the last EMF_MAX_VALUES of them */
    char name[SUGA_METRICS_NAME_MAX + 1];
    double ring[SUGA_METRICS_EMF_MAX_VALUES];
} metric;

/* All zero is a valid empty, unconfigured registry: the default registry then lives in .bss, so
 * it adds nothing to the binary and its untouched pages cost no memory. */
struct suga_metrics {
    bool configured;
    uint16_t metric_count;
    uint16_t name_count; /* declared names; 0 until configured: nothing is emitted */
    uint16_t slots[HASH_SLOTS]; /* index into metrics + 1; 0 = empty */
    char names[SUGA_MAX_METRIC_NAMES][SUGA_METRICS_NAME_MAX + 1];
    metric metrics[SUGA_METRICS_MAX];
};

static suga_metrics default_registry;

suga_metrics *suga_metrics_default(void)
{
    return &default_registry;
}

/* ---- names ---- */

static uint32_t hash_name(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a: names are short, this is a handful of multiplies */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int find(const suga_metrics *reg, const char *name, size_t len)
{
    for (uint32_t h = hash_name(name, len) & (HASH_SLOTS - 1);; h = (h + 1) & (HASH_SLOTS - 1)) {
        uint16_t slot = reg->slots[h];
        if (!slot)
            return -1;
        const metric *m = &reg->metrics[slot - 1];
        if (m->name_len == len && memcmp(m->name, name, len) == 0)
            return slot - 1;
    }
}

static void insert_slot(suga_metrics *reg, int index)
{
    const metric *m = &reg->metrics[index];
    uint32_t h = hash_name(m->name, m->name_len) & (HASH_SLOTS - 1);
    while (reg->slots[h])
        h = (h + 1) & (HASH_SLOTS - 1);
    reg->slots[h] = (uint16_t)(index + 1);
}

/* Removal shifts the array (keeping the first-recorded order), which moves every later index:
 * rebuilding the table is simpler than patching it, and removal is rare. */
static void rebuild_slots(suga_metrics *reg)
{
    memset(reg->slots, 0, sizeof reg->slots);
    for (int i = 0; i < reg->metric_count; i++)
        insert_slot(reg, i);
}

/* `s` (len bytes, any bytes) for a message: in single quotes, bytes outside printable ASCII as
 * \xNN, cut after SUGA_METRICS_NAME_MAX bytes with "...". */
static const char *show(const char *s, size_t len, char out[SHOWN_MAX])
{
    size_t n = 0, shown = len > SUGA_METRICS_NAME_MAX ? SUGA_METRICS_NAME_MAX : len;
    out[n++] = '\'';
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, 5, "\\x%02x", c);
    }
    out[n++] = '\'';
    if (shown < len) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}

static bool name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
}

/* `len` is strnlen(name, SUGA_METRICS_NAME_MAX + 1). */
static suga_status check_name(const char *name, size_t len, suga_ctx *ctx)
{
    char shown[SHOWN_MAX];
    if (!name)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "metric name is missing");
    if (len == 0)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "metric name is empty (use " NAME_RULE ")");
    if (len > SUGA_METRICS_NAME_MAX)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "metric name %s is longer than %d bytes", show(name, len, shown),
                         SUGA_METRICS_NAME_MAX);
    for (size_t i = 0; i < len; i++)
        if (!name_char((unsigned char)name[i]))
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "metric name %s has a character other than A-Z a-z 0-9 _ . - at byte %zu",
                             show(name, len, shown), i);
    for (size_t i = 0; i < sizeof reserved_names / sizeof reserved_names[0]; i++)
        if (strcmp(name, reserved_names[i]) == 0)
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "metric name %s is reserved: every EMF object has a member of that name",
                             show(name, len, shown));
    return SUGA_OK;
}

static int unit_index(const char *unit)
{
    for (int i = 0; i < SUGA_METRICS_UNIT_COUNT; i++)
        if (strcmp(unit, suga_metrics_unit_names[i]) == 0)
            return i;
    return -1;
}

static suga_status unknown_unit(const char *name, size_t len, const char *unit, suga_ctx *ctx)
{
    char shown[SHOWN_MAX], shown_unit[SHOWN_MAX];
    const char *hint = suga_closest(unit, suga_metrics_unit_names, SUGA_METRICS_UNIT_COUNT);
    show(unit, strnlen(unit, SUGA_METRICS_NAME_MAX + 1), shown_unit);
    if (hint)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "metric %s: unknown unit %s (did you mean '%s'?)", show(name, len, shown),
                         shown_unit, hint);
    return suga_fail(ctx, SUGA_E_INVALID_ARG, "metric %s: unknown unit %s (expected " UNIT_LIST ")", show(name, len, shown),
                     shown_unit);
}

static suga_status not_found(const suga_metrics *reg, const char *name, size_t len, suga_ctx *ctx)
{
    char shown[SHOWN_MAX];
    if (reg->metric_count == 0)
        return suga_fail(ctx, SUGA_E_NOT_FOUND, "no metric %s (nothing has been recorded)", show(name, len, shown));
    const char *names[SUGA_METRICS_MAX];
    for (int i = 0; i < reg->metric_count; i++)
        names[i] = reg->metrics[i].name;
    const char *hint = suga_closest(name, names, reg->metric_count);
    if (hint)
        return suga_fail(ctx, SUGA_E_NOT_FOUND, "no metric %s (did you mean '%s'?)", show(name, len, shown), hint);
    return suga_fail(ctx, SUGA_E_NOT_FOUND, "no metric %s", show(name, len, shown));
}

/* The metric of a valid, existing name, or the failure to report. */
static suga_status locate(const suga_metrics *reg, const char *name, int *index, suga_ctx *ctx)
{
    size_t len = name ? strnlen(name, SUGA_METRICS_NAME_MAX + 1) : 0;
    suga_status st = check_name(name, len, ctx);
    if (st != SUGA_OK)
        return st;
    *index = find(reg, name, len);
    return *index < 0 ? not_found(reg, name, len, ctx) : SUGA_OK;
}

static int16_t declared_place(const suga_metrics *reg, const char *name)
{
    for (int i = 0; i < reg->name_count; i++)
        if (strcmp(reg->names[i], name) == 0)
            return (int16_t)i;
    return -1;
}

suga_status suga_metrics_check_name(const char *name, suga_ctx *ctx)
{
    return check_name(name, name ? strnlen(name, SUGA_METRICS_NAME_MAX + 1) : 0, ctx);
}

/* ---- the registry ---- */

suga_status suga_metrics_init(suga_metrics *reg, suga_ctx *ctx)
{
    if (!reg)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_metrics_init: no registry");
    /* not a memset of the whole registry: that would make all of the default registry's pages
     * resident; slots beyond metric_count and name_count are never read */
    reg->metric_count = reg->name_count = 0;
    reg->configured = false;
    memset(reg->slots, 0, sizeof reg->slots);
    return SUGA_OK;
}

suga_status suga_metrics_new(suga_metrics **out, suga_ctx *ctx)
{
    if (!out)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_metrics_new: no place for the registry");
    suga_metrics *reg = calloc(1, sizeof *reg);
    if (!reg)
        return suga_fail(ctx, SUGA_E_NOMEM, "out of memory creating a metrics registry (%zu bytes)", sizeof *reg);
    *out = reg;
    return SUGA_OK;
}

suga_status suga_metrics_free(suga_metrics *reg, suga_ctx *ctx)
{
    if (reg == &default_registry)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_metrics_free: the default registry is not allocated");
    free(reg);
    return SUGA_OK;
}

suga_status suga_metrics_configure(suga_metrics *reg, const suga_limits *limits, suga_ctx *ctx)
{
    if (!reg || !limits)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_metrics_configure: a registry and limits are required");
    uint16_t n = limits->metric_name_count;
    if (n > SUGA_MAX_METRIC_NAMES) /* suga-gen refuses such a spec: this is a table made otherwise */
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "the limits declare %u metric names, at most %u may be emitted (each is a CloudWatch custom "
                         "metric, billed)",
                         (unsigned)n, SUGA_MAX_METRIC_NAMES);
    if (n && !limits->metric_names)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "the limits declare %u metric names but have no array", (unsigned)n);
    /* everything is checked before anything changes */
    for (uint16_t i = 0; i < n; i++) {
        const char *name = limits->metric_names[i];
        suga_ctx local;
        suga_ctx_init(&local);
        if (suga_metrics_check_name(name, &local) != SUGA_OK)
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "declared metric %u: %s", (unsigned)i, local.error);
        for (uint16_t j = 0; j < i; j++)
            if (strcmp(limits->metric_names[j], name) == 0)
                return suga_fail(ctx, SUGA_E_INVALID_ARG, "the limits declare metric '%s' twice (places %u and %u)",
                                 name, (unsigned)j, (unsigned)i);
    }
    for (uint16_t i = 0; i < n; i++)
        strcpy(reg->names[i], limits->metric_names[i]); /* checked: at most 64 bytes */
    reg->name_count = n;
    reg->configured = true;
    for (int i = 0; i < reg->metric_count; i++)
        reg->metrics[i].declared = declared_place(reg, reg->metrics[i].name);
    return SUGA_OK;
}

suga_status suga_metrics_configured(const suga_metrics *reg, bool *out)
{
    if (!reg || !out)
        return SUGA_E_INVALID_ARG;
    *out = reg->configured;
    return SUGA_OK;
}

/* ---- recording ---- */

static void observe(metric *m, double value)
{
    if (m->count == 0 || value < m->min)
        m->min = value;
    if (m->count == 0 || value > m->max)
        m->max = value;
    if (m->since_count == 0 || value < m->since_min)
        m->since_min = value;
    if (m->since_count == 0 || value > m->since_max)
        m->since_max = value;
    m->count++;
    m->since_count++;
    m->sum += value;
    m->since_sum += value;
    m->last = value;
    if (m->unit == UNIT_COUNT) /* a Count is emitted as its sum: the values are not needed */
        return;
    if (m->ring_len < SUGA_METRICS_EMF_MAX_VALUES) {
        m->ring[(m->ring_start + m->ring_len++) % SUGA_METRICS_EMF_MAX_VALUES] = value;
    } else {
        m->ring[m->ring_start] = value;
        m->ring_start = (uint16_t)((m->ring_start + 1) % SUGA_METRICS_EMF_MAX_VALUES);
    }
}

suga_status suga_metrics_record(suga_metrics *reg, const char *name, double value, const char *unit,
                                suga_ctx *ctx)
{
    if (!reg)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_metrics_record: no registry");
    size_t len = name ? strnlen(name, SUGA_METRICS_NAME_MAX + 1) : 0;
    /* a name already recorded is known to be valid: only a new one is checked */
    int index = len >= 1 && len <= SUGA_METRICS_NAME_MAX ? find(reg, name, len) : -1;
    suga_status st = index < 0 ? check_name(name, len, ctx) : SUGA_OK;
    if (st != SUGA_OK)
        return st;
    int u = unit ? unit_index(unit) : UNIT_COUNT;
    if (u < 0)
        return unknown_unit(name, len, unit, ctx);
    char shown[SHOWN_MAX];
    if (!isfinite(value))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "metric %s: value must be a finite number, got %g",
                         show(name, len, shown), value);
    if (index >= 0) {
        metric *m = &reg->metrics[index];
        if (m->unit != u)
            return suga_fail(ctx, SUGA_E_INVALID_ARG,
                             "metric %s has unit %s, cannot record a value in %s (a metric keeps the unit of its first record)",
                             show(name, len, shown), suga_metrics_unit_names[m->unit], suga_metrics_unit_names[u]);
        if (!isfinite(m->sum + value) || !isfinite(m->since_sum + value))
            return suga_fail(ctx, SUGA_E_LIMIT, "metric %s: adding %g would overflow its sum", show(name, len, shown),
                             value);
        observe(m, value);
        return SUGA_OK;
    }
    if (reg->metric_count >= SUGA_METRICS_MAX)
        return suga_fail(ctx, SUGA_E_LIMIT, "cannot add metric %s: the registry already holds %d metrics, its limit",
                         show(name, len, shown), SUGA_METRICS_MAX);
    index = reg->metric_count++;
    metric *m = &reg->metrics[index];
    *m = (metric){.unit = (uint8_t)u, .name_len = (uint8_t)len};
    memcpy(m->name, name, len + 1);
    m->declared = declared_place(reg, m->name);
    insert_slot(reg, index);
    observe(m, value);
    return SUGA_OK;
}

suga_status suga_metrics_record_id(suga_metrics *reg, uint32_t id, double value, const char *unit, suga_ctx *ctx)
{
    if (!reg)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_metrics_record_id: no registry");
    if (id >= reg->name_count)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "metric id %u is not declared (the registry declares %u names%s)",
                         (unsigned)id, (unsigned)reg->name_count, reg->configured ? "" : ": it is not configured");
    return suga_metrics_record(reg, reg->names[id], value, unit, ctx);
}

/* ---- the order, and what is emitted ---- */

typedef struct plan {
    uint16_t order[SUGA_METRICS_MAX]; /* metric indexes: declared ones by place, then the others */
    bool emitted[SUGA_METRICS_MAX];   /* by metric index */
    uint16_t emitted_count, not_emitted_count; /* recorded since the flush: declared / not declared */
} plan;

/* A metric is emitted when its name is declared and it has news since the flush; that is the
 * whole rule, so no line can carry more than the declared names, however many metrics exist. */
static void make_plan(const suga_metrics *reg, plan *p)
{
    int16_t by_place[SUGA_MAX_METRIC_NAMES];
    for (int i = 0; i < reg->name_count; i++)
        by_place[i] = -1;
    for (int i = 0; i < reg->metric_count; i++)
        if (reg->metrics[i].declared >= 0)
            by_place[reg->metrics[i].declared] = (int16_t)i;
    uint16_t n = 0;
    for (int i = 0; i < reg->name_count; i++)
        if (by_place[i] >= 0)
            p->order[n++] = (uint16_t)by_place[i];
    for (int i = 0; i < reg->metric_count; i++)
        if (reg->metrics[i].declared < 0)
            p->order[n++] = (uint16_t)i;
    p->emitted_count = p->not_emitted_count = 0;
    for (uint16_t k = 0; k < n; k++) {
        uint16_t i = p->order[k];
        const metric *m = &reg->metrics[i];
        p->emitted[i] = m->declared >= 0 && m->since_count > 0;
        p->emitted_count += p->emitted[i];
        p->not_emitted_count += m->declared < 0 && m->since_count > 0;
    }
}

static void fill_stats(const suga_metrics *reg, const plan *p, int i, suga_metric_stats *out)
{
    const metric *m = &reg->metrics[i];
    *out = (suga_metric_stats){
        .unit = suga_metrics_unit_names[m->unit],
        .declared = m->declared >= 0,
        .emitted = p->emitted[i],
        .count = m->count,
        .sum = m->sum,
        .min = m->min,
        .max = m->max,
        .last = m->last,
        .since_count = m->since_count,
        .since_sum = m->since_sum,
        .since_min = m->since_count ? m->since_min : 0,
        .since_max = m->since_count ? m->since_max : 0,
        .values_kept = m->ring_len,
    };
}

/* ---- JSON views ---- */

/* Whole numbers as integers (a count reads 3, not 3.0), everything else as reals; 2^53 bounds
 * the integers a double holds exactly. */
static json_t *number(double v)
{
    if (v >= -9007199254740992.0 && v <= 9007199254740992.0 && (double)(int64_t)v == v)
        return json_integer((json_int_t)v);
    return json_real(v);
}

/* Both steal `v` (and drop it on failure); a NULL `v` (a failed constructor) fails. */
static bool put(json_t *obj, const char *key, json_t *v)
{
    return json_object_set_new(obj, key, v) == 0;
}

static bool push(json_t *arr, json_t *v)
{
    return json_array_append_new(arr, v) == 0;
}

static suga_status no_memory(suga_ctx *ctx, const char *what, json_t *partial)
{
    json_decref(partial);
    return suga_fail(ctx, SUGA_E_NOMEM, "out of memory building %s", what);
}

static json_t *metric_json(const suga_metrics *reg, const plan *p, int i)
{
    suga_metric_stats s;
    fill_stats(reg, p, i, &s);
    json_t *since = json_object(), *o = json_object();
    bool ok = since && o && put(since, "count", json_integer((json_int_t)s.since_count)) &&
              put(since, "sum", number(s.since_sum)) &&
              put(since, "min", s.since_count ? number(s.since_min) : json_null()) &&
              put(since, "max", s.since_count ? number(s.since_max) : json_null()) &&
              put(since, "values_kept", json_integer(s.values_kept));
    ok = ok && put(o, "name", json_string(reg->metrics[i].name)) && put(o, "unit", json_string(s.unit)) &&
         put(o, "declared", json_boolean(s.declared)) &&
         put(o, "emitted", json_boolean(s.emitted)) && put(o, "count", json_integer((json_int_t)s.count)) &&
         put(o, "sum", number(s.sum)) && put(o, "min", number(s.min)) && put(o, "max", number(s.max)) &&
         put(o, "mean", number(s.sum / (double)s.count)) && put(o, "last", number(s.last));
    if (ok) {
        ok = put(o, "since_flush", since);
        since = NULL; /* stolen, even on failure */
    }
    json_decref(since);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

suga_status suga_metrics_stats(const suga_metrics *reg, const char *name, suga_metric_stats *out, suga_ctx *ctx)
{
    if (!reg || !out)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_metrics_stats: a registry and an output are required");
    int i;
    suga_status st = locate(reg, name, &i, ctx);
    if (st != SUGA_OK)
        return st;
    plan p;
    make_plan(reg, &p);
    fill_stats(reg, &p, i, out);
    return SUGA_OK;
}

suga_status suga_metrics_get(const suga_metrics *reg, const char *name, json_t **out, suga_ctx *ctx)
{
    if (!reg || !out)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_metrics_get: a registry and an output are required");
    int i;
    suga_status st = locate(reg, name, &i, ctx);
    if (st != SUGA_OK)
        return st;
    plan p;
    make_plan(reg, &p);
    json_t *o = metric_json(reg, &p, i);
    if (!o)
        return no_memory(ctx, "the metric", NULL);
    *out = o;
    return SUGA_OK;
}

suga_status suga_metrics_summary(const suga_metrics *reg, json_t **out, suga_ctx *ctx)
{
    if (!reg || !out)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_metrics_summary: a registry and an output are required");
    plan p;
    make_plan(reg, &p);
    json_t *list = json_array(), *o = json_object();
    bool ok = list && o;
    for (int k = 0; ok && k < reg->metric_count; k++)
        ok = push(list, metric_json(reg, &p, p.order[k]));
    if (ok) {
        ok = put(o, "metrics", list);
        list = NULL;
    }
    json_decref(list);
    ok = ok && put(o, "count", json_integer(reg->metric_count)) && put(o, "max_metrics", json_integer(SUGA_METRICS_MAX)) &&
         put(o, "emitted", json_integer(p.emitted_count)) &&
         put(o, "not_emitted", json_integer(p.not_emitted_count));
    if (!ok)
        return no_memory(ctx, "the metrics summary", o);
    *out = o;
    return SUGA_OK;
}

suga_status suga_metrics_status(const suga_metrics *reg, json_t **out, suga_ctx *ctx)
{
    if (!reg || !out)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_metrics_status: a registry and an output are required");
    int pending = 0;
    for (int i = 0; i < reg->metric_count; i++)
        pending += reg->metrics[i].since_count > 0;
    json_t *names = json_array(), *o = json_object();
    bool ok = names && o;
    for (int i = 0; ok && i < reg->name_count; i++)
        ok = push(names, json_string(reg->names[i]));
    if (ok) {
        ok = put(o, "names", names);
        names = NULL;
    }
    json_decref(names);
    ok = ok && put(o, "metrics", json_integer(reg->metric_count)) &&
         put(o, "max_metrics", json_integer(SUGA_METRICS_MAX)) &&
         put(o, "configured", json_boolean(reg->configured)) && put(o, "recorded_since_flush", json_integer(pending));
    if (!ok)
        return no_memory(ctx, "the metrics status", o);
    *out = o;
    return SUGA_OK;
}

suga_status suga_metrics_plan(const suga_metrics *reg, json_t **out, suga_ctx *ctx)
{
    if (!reg || !out)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_metrics_plan: a registry and an output are required");
    plan p;
    make_plan(reg, &p);
    json_t *emitted = json_array(), *not_emitted = json_array(), *o = json_object();
    bool ok = emitted && not_emitted && o;
    for (int k = 0; ok && k < reg->metric_count; k++) {
        const metric *m = &reg->metrics[p.order[k]];
        if (m->since_count)
            ok = push(p.emitted[p.order[k]] ? emitted : not_emitted, json_string(m->name));
    }
    if (ok) {
        bool put_emitted = put(o, "emitted", emitted); /* both run: each steals its array */
        bool put_not_emitted = put(o, "not_emitted", not_emitted);
        ok = put_emitted && put_not_emitted;
    } else {
        json_decref(emitted);
        json_decref(not_emitted);
    }
    if (!ok)
        return no_memory(ctx, "the metrics plan", o);
    *out = o;
    return SUGA_OK;
}

/* ---- reset ---- */

static void reset_since(suga_metrics *reg)
{
    for (int i = 0; i < reg->metric_count; i++) {
        metric *m = &reg->metrics[i];
        m->since_count = 0;
        m->since_sum = m->since_min = m->since_max = 0;
        m->ring_start = m->ring_len = 0;
    }
}

suga_status suga_metrics_reset(suga_metrics *reg, const char *name, uint32_t *removed, suga_ctx *ctx)
{
    if (!reg)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_metrics_reset: no registry");
    uint32_t n = 0;
    if (!name) {
        n = reg->metric_count;
        reg->metric_count = 0;
        memset(reg->slots, 0, sizeof reg->slots);
    } else {
        int i;
        suga_status st = locate(reg, name, &i, ctx);
        if (st != SUGA_OK)
            return st;
        memmove(&reg->metrics[i], &reg->metrics[i + 1], (size_t)(reg->metric_count - i - 1) * sizeof reg->metrics[0]);
        reg->metric_count--;
        rebuild_slots(reg);
        n = 1;
    }
    if (removed)
        *removed = n;
    return SUGA_OK;
}

/* ---- EMF ---- */

static bool namespace_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_' || c == '/' || c == '#' || c == ':' || c == ' ';
}

static suga_status check_namespace(const char *ns, suga_ctx *ctx)
{
    size_t len = strnlen(ns, SUGA_METRICS_NAMESPACE_MAX + 1);
    char shown[SHOWN_MAX];
    if (len == 0)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "EMF namespace is empty (use " NAMESPACE_RULE ")");
    if (len > SUGA_METRICS_NAMESPACE_MAX)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "EMF namespace %s is longer than %d bytes", show(ns, len, shown),
                         SUGA_METRICS_NAMESPACE_MAX);
    bool blank = true;
    for (size_t i = 0; i < len; i++) {
        if (!namespace_char((unsigned char)ns[i]))
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "EMF namespace %s has a character CloudWatch refuses at byte %zu (use " NAMESPACE_RULE ")",
                             show(ns, len, shown), i);
        blank = blank && ns[i] == ' ';
    }
    if (blank)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "EMF namespace %s has nothing but spaces", show(ns, len, shown));
    if (ns[0] == ':')
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "EMF namespace %s must not start with ':'", show(ns, len, shown));
    if (strncmp(ns, "AWS/", 4) == 0)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "EMF namespace %s must not start with 'AWS/' (AWS services' own)",
                         show(ns, len, shown));
    return SUGA_OK;
}

/* The value of one emitted metric: a Count's sum, or the values kept since the flush. */
static json_t *emf_value(const metric *m)
{
    if (m->unit == UNIT_COUNT)
        return number(m->since_sum);
    json_t *values = json_array();
    for (uint16_t k = 0; values && k < m->ring_len; k++)
        if (!push(values, number(m->ring[(m->ring_start + k) % SUGA_METRICS_EMF_MAX_VALUES]))) {
            json_decref(values);
            return NULL;
        }
    return values;
}

/* {"Namespace": ns, "Dimensions": [["Service"]], "Metrics": [{"Name", "Unit"}...]} */
static json_t *emf_directive(const suga_metrics *reg, const plan *p, const char *ns)
{
    json_t *dims = json_pack("[[s]]", SUGA_METRICS_DIMENSION), *defs = json_array(), *d = json_object();
    bool ok = defs && d && put(d, "Namespace", json_string(ns));
    if (ok) {
        ok = put(d, "Dimensions", dims);
        dims = NULL;
    }
    json_decref(dims);
    for (int k = 0; ok && k < reg->metric_count; k++) {
        const metric *m = &reg->metrics[p->order[k]];
        if (p->emitted[p->order[k]])
            ok = push(defs, json_pack("{s:s, s:s}", "Name", m->name, "Unit", suga_metrics_unit_names[m->unit]));
    }
    if (ok) {
        ok = put(d, "Metrics", defs);
        defs = NULL;
    }
    json_decref(defs);
    if (!ok) {
        json_decref(d);
        return NULL;
    }
    return d;
}

suga_status suga_metrics_emf(const suga_metrics *reg, int64_t timestamp_ms, const char *ns, json_t **out,
                             suga_ctx *ctx)
{
    if (!reg || !out)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_metrics_emf: a registry and an output are required");
    if (timestamp_ms < 0)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "EMF timestamp must be milliseconds since the epoch (>= 0), got %lld",
                         (long long)timestamp_ms);
    if (!ns)
        ns = SUGA_METRICS_DEFAULT_NAMESPACE;
    suga_status st = check_namespace(ns, ctx);
    if (st != SUGA_OK)
        return st;
    *out = NULL;
    plan p;
    make_plan(reg, &p);
    if (p.emitted_count == 0)
        return SUGA_OK;
    json_t *root = json_object(), *aws = json_object(), *directives = json_array();
    bool ok = root && aws && directives && put(aws, "Timestamp", json_integer(timestamp_ms)) &&
              push(directives, emf_directive(reg, &p, ns));
    if (ok) {
        ok = put(aws, "CloudWatchMetrics", directives);
        directives = NULL;
    }
    json_decref(directives);
    if (ok) {
        ok = put(root, "_aws", aws);
        aws = NULL;
    }
    json_decref(aws);
    ok = ok && put(root, SUGA_METRICS_DIMENSION, json_string(SUGA_METRICS_DIMENSION_VALUE));
    for (int k = 0; ok && k < reg->metric_count; k++) {
        const metric *m = &reg->metrics[p.order[k]];
        if (p.emitted[p.order[k]])
            ok = put(root, m->name, emf_value(m));
    }
    ok = ok && put(root, SUGA_METRICS_NOT_EMITTED_KEY, json_integer(p.not_emitted_count));
    if (!ok)
        return no_memory(ctx, "the EMF object", root);
    *out = root;
    return SUGA_OK;
}

suga_status suga_metrics_flush(suga_metrics *reg, int64_t timestamp_ms, const char *ns, json_t **out,
                               suga_ctx *ctx)
{
    suga_status st = suga_metrics_emf(reg, timestamp_ms, ns, out, ctx);
    if (st == SUGA_OK)
        reset_since(reg);
    return st;
}

suga_status suga_metrics_write_emf_line(suga_metrics *reg, int64_t timestamp_ms, const char *ns, FILE *out,
                                        suga_ctx *ctx)
{
    if (!out)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "suga_metrics_write_emf_line: no stream to write to");
    json_t *emf = NULL;
    suga_status st = suga_metrics_emf(reg, timestamp_ms, ns, &emf, ctx);
    if (st != SUGA_OK)
        return st;
    if (emf) {
        /* 15 significant digits: a latency of 0.1 reads 0.1, not 0.10000000000000001 */
        char *line = json_dumps(emf, JSON_COMPACT | JSON_REAL_PRECISION(15));
        json_decref(emf);
        if (!line)
            return suga_fail(ctx, SUGA_E_NOMEM, "out of memory encoding the EMF line");
        errno = 0;
        bool written = fputs(line, out) != EOF && fputc('\n', out) != EOF && fflush(out) != EOF;
        int err = errno;
        free(line);
        if (!written)
            return suga_fail(ctx, SUGA_E_IO, "cannot write the EMF line: %s", err ? strerror(err) : "stream error");
    }
    reset_since(reg);
    return SUGA_OK;
}
