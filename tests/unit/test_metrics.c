/* The metrics registry and its EMF output (runtime/metrics.c): units, names, the 256-metric limit,
 * the declared names (the only ones ever emitted), flushing, the JSON views, and the EMF objects, each
 * checked by a validator of the CloudWatch embedded metric format written here from the AWS
 * specification (which is itself tested against broken documents, so it cannot pass vacuously).
 * Criterion runs every test in its own process: the default registry starts fresh in each. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suga_metrics.h"

#define T0 INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */
#define WHY_MAX 256

/* ---- an EMF validator, from the specification ----
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html */

/* Every unit CloudWatch accepts (MetricDatum), not only the ones suga records. */
static const char *const cloudwatch_units[] = {
    "Seconds",          "Microseconds",     "Milliseconds",     "Bytes",            "Kilobytes",
    "Megabytes",        "Gigabytes",        "Terabytes",        "Bits",             "Kilobits",
    "Megabits",         "Gigabits",         "Terabits",         "Percent",          "Count",
    "Bytes/Second",     "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
    "Bits/Second",      "Kilobits/Second",  "Megabits/Second",  "Gigabits/Second",  "Terabits/Second",
    "Count/Second",     "None",
};

#define REJECT(...)                                                                                                    \
    do {                                                                                                               \
        snprintf(why, WHY_MAX, __VA_ARGS__);                                                                           \
        return false;                                                                                                  \
    } while (0)

/* The spec's objects "MUST NOT contain any additional members". */
static bool only_members(const json_t *obj, const char *const *allowed, size_t n, const char *what, char *why)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value) {
        (void)value;
        bool known = false;
        for (size_t i = 0; i < n; i++)
            known = known || strcmp(key, allowed[i]) == 0;
        if (!known)
            REJECT("%s has a member '%s' the specification does not define", what, key);
    }
    return true;
}

/* Names, namespaces and dimension keys: strings of 1 to 255 characters (the spec's JSON schema). */
static bool short_string(const json_t *v)
{
    return json_is_string(v) && json_string_length(v) >= 1 && json_string_length(v) <= 255;
}

static bool valid_dimensions(const json_t *doc, const json_t *dims, char *why)
{
    if (!json_is_array(dims) || json_array_size(dims) == 0)
        REJECT("Dimensions is not a non-empty array of DimensionSets");
    size_t i, j;
    json_t *set, *key;
    json_array_foreach(dims, i, set) {
        /* 9 is the older specification's limit (the current one allows 30): what passes here is
         * valid under both */
        if (!json_is_array(set) || json_array_size(set) > 9)
            REJECT("DimensionSet %zu is not an array of at most 9 keys", i);
        json_array_foreach(set, j, key) {
            if (!short_string(key))
                REJECT("dimension key %zu of set %zu is not a string of 1 to 255 characters", j, i);
            if (!json_is_string(json_object_get(doc, json_string_value(key))))
                REJECT("dimension '%s' has no top-level string member", json_string_value(key));
        }
    }
    return true;
}

static bool valid_metric_target(const json_t *target, const char *name, char *why)
{
    if (json_is_number(target))
        return true;
    if (!json_is_array(target) || json_array_size(target) == 0 || json_array_size(target) > 100)
        REJECT("metric '%s' has no top-level number or array of 1 to 100 numbers", name);
    size_t i;
    json_t *v;
    json_array_foreach(target, i, v) {
        if (!json_is_number(v))
            REJECT("value %zu of metric '%s' is not a number", i, name);
    }
    return true;
}

static bool valid_metrics(const json_t *doc, const json_t *defs, char *why)
{
    static const char *const def_members[] = {"Name", "Unit", "StorageResolution"};
    if (!json_is_array(defs) || json_array_size(defs) > 100)
        REJECT("Metrics is not an array of at most 100 MetricDefinitions");
    size_t i;
    json_t *def;
    json_array_foreach(defs, i, def) {
        if (!json_is_object(def))
            REJECT("MetricDefinition %zu is not an object", i);
        if (!only_members(def, def_members, 3, "a MetricDefinition", why))
            return false;
        json_t *name = json_object_get(def, "Name");
        if (!short_string(name))
            REJECT("MetricDefinition %zu has no Name of 1 to 255 characters", i);
        const char *n = json_string_value(name);
        for (size_t k = 0; k < i; k++)
            if (strcmp(json_string_value(json_object_get(json_array_get(defs, k), "Name")), n) == 0)
                REJECT("metric '%s' is defined twice", n);
        json_t *unit = json_object_get(def, "Unit");
        if (unit) {
            bool known = false;
            for (size_t k = 0; json_is_string(unit) && k < sizeof cloudwatch_units / sizeof cloudwatch_units[0]; k++)
                known = known || strcmp(json_string_value(unit), cloudwatch_units[k]) == 0;
            if (!known)
                REJECT("metric '%s' has a Unit that is not a CloudWatch unit", n);
        }
        json_t *resolution = json_object_get(def, "StorageResolution");
        if (resolution && !(json_is_integer(resolution) &&
                             (json_integer_value(resolution) == 1 || json_integer_value(resolution) == 60)))
            REJECT("metric '%s' has a StorageResolution other than 1 or 60", n);
        if (!valid_metric_target(json_object_get(doc, n), n, why))
            return false;
    }
    return true;
}

static bool emf_valid(const json_t *doc, char *why)
{
    static const char *const aws_members[] = {"Timestamp", "CloudWatchMetrics"};
    static const char *const directive_members[] = {"Namespace", "Dimensions", "Metrics"};
    if (!json_is_object(doc))
        REJECT("the document is not a JSON object");
    json_t *aws = json_object_get(doc, "_aws");
    if (!json_is_object(aws))
        REJECT("_aws is missing or not an object");
    if (!only_members(aws, aws_members, 2, "_aws", why))
        return false;
    json_t *ts = json_object_get(aws, "Timestamp");
    if (!json_is_integer(ts) || json_integer_value(ts) < 0)
        REJECT("Timestamp is not an integer number of milliseconds since the epoch");
    json_t *directives = json_object_get(aws, "CloudWatchMetrics");
    if (!json_is_array(directives) || json_array_size(directives) == 0)
        REJECT("CloudWatchMetrics is not a non-empty array");
    size_t i;
    json_t *d;
    json_array_foreach(directives, i, d) {
        if (!json_is_object(d))
            REJECT("MetricDirective %zu is not an object", i);
        if (!only_members(d, directive_members, 3, "a MetricDirective", why))
            return false;
        json_t *ns = json_object_get(d, "Namespace");
        if (!short_string(ns) || json_string_value(ns)[0] == ':')
            REJECT("MetricDirective %zu has no Namespace of 1 to 255 characters not starting with ':'", i);
        if (!valid_dimensions(doc, json_object_get(d, "Dimensions"), why) ||
            !valid_metrics(doc, json_object_get(d, "Metrics"), why))
            return false;
    }
    return true;
}

static void assert_emf(const json_t *doc)
{
    char why[WHY_MAX] = "";
    char *text = json_dumps(doc, JSON_COMPACT);
    cr_assert(emf_valid(doc, why), "invalid EMF (%s): %s", why, text ? text : "?");
    free(text);
}

/* ---- helpers ---- */

static suga_ctx ctx;
static suga_metrics *reg;

static void declare(const char *const *names, uint16_t count)
{
    const suga_limits limits = {.metric_names = names, .metric_name_count = count};
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_configure(reg, &limits, &ctx), SUGA_OK, "%s", ctx.error);
}

/* spec/limits.yaml's names: the engine's own */
static const char *const spec_names[] = {"invocations",  "errors",         "latency",    "cache_hits",
                                         "module_loads", "module_unloads", "guard_state"};

/* Each test starts with a registry configured as the engine configures it. */
static void setup(void)
{
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_new(&reg, &ctx), SUGA_OK, "%s", ctx.error);
    declare(spec_names, 7);
}

static void teardown(void)
{
    suga_metrics_free(reg, NULL);
    reg = NULL;
}

TestSuite(metrics, .init = setup, .fini = teardown);

static void rec_in(suga_metrics *r, const char *name, double value, const char *unit)
{
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_record(r, name, value, unit, &ctx), SUGA_OK, "record %s: %s", name, ctx.error);
}

static void rec(const char *name, double value, const char *unit)
{
    rec_in(reg, name, value, unit);
}

/* A record that must fail with `want` and exactly `message`. */
static void rec_fails(const char *name, double value, const char *unit, suga_status want, const char *message)
{
    suga_ctx_init(&ctx);
    suga_status st = suga_metrics_record(reg, name, value, unit, &ctx);
    cr_assert_eq(st, want, "record %s: expected %s, got %s (%s)", name ? name : "NULL", suga_status_name(want),
                 suga_status_name(st), ctx.error);
    cr_assert_str_eq(ctx.error, message);
}

/* The EMF object (validated), or NULL when there is nothing to emit. */
static json_t *emf_in(suga_metrics *r, int64_t ts, const char *ns)
{
    json_t *doc = (json_t *)1;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_emf(r, ts, ns, &doc, &ctx), SUGA_OK, "%s", ctx.error);
    if (doc)
        assert_emf(doc);
    return doc;
}

static json_t *emf(void)
{
    return emf_in(reg, T0, NULL);
}

static json_t *flush(void)
{
    json_t *doc = (json_t *)1;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_flush(reg, T0, "suga", &doc, &ctx), SUGA_OK, "%s", ctx.error);
    if (doc)
        assert_emf(doc);
    return doc;
}

static suga_metric_stats stats_of(const char *name)
{
    suga_metric_stats s;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_stats(reg, name, &s, &ctx), SUGA_OK, "%s", ctx.error);
    return s;
}

/* Assert `actual` equals the JSON text `expected`; consumes `actual`. */
static void assert_json(json_t *actual, const char *expected)
{
    json_error_t err;
    json_t *want = json_loads(expected, JSON_DECODE_ANY, &err);
    cr_assert_not_null(want, "test bug: %s: %s", expected, err.text);
    char *got = json_dumps(actual, JSON_COMPACT | JSON_ENCODE_ANY);
    cr_assert(json_equal(actual, want), "expected %s, got %s", expected, got ? got : "NULL");
    free(got);
    json_decref(want);
    json_decref(actual);
}

/* The names in the EMF object's metric definitions, comma-separated, in order. */
static const char *defined_names(const json_t *doc, char *buf, size_t size)
{
    json_t *defs = json_object_get(json_array_get(json_object_get(json_object_get(doc, "_aws"), "CloudWatchMetrics"), 0),
                                   "Metrics");
    buf[0] = '\0';
    size_t i;
    json_t *def;
    json_array_foreach(defs, i, def) {
        if (i)
            strncat(buf, ",", size - strlen(buf) - 1);
        strncat(buf, json_string_value(json_object_get(def, "Name")), size - strlen(buf) - 1);
    }
    return buf;
}

static json_int_t not_emitted(const json_t *doc)
{
    json_t *v = json_object_get(doc, SUGA_METRICS_NOT_EMITTED_KEY);
    cr_assert(json_is_integer(v), "no %s", SUGA_METRICS_NOT_EMITTED_KEY);
    return json_integer_value(v);
}

/* The summary's metric names, comma-separated, in its order. */
static const char *summary_names(char *buf, size_t size)
{
    json_t *summary = NULL;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_summary(reg, &summary, &ctx), SUGA_OK, "%s", ctx.error);
    buf[0] = '\0';
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(summary, "metrics"), i, m) {
        if (i)
            strncat(buf, ",", size - strlen(buf) - 1);
        strncat(buf, json_string_value(json_object_get(m, "name")), size - strlen(buf) - 1);
    }
    json_decref(summary);
    return buf;
}

/* ---- the validator itself ---- */

static const char *const valid_doc =
    "{\"_aws\": {\"Timestamp\": 1790812800000, \"CloudWatchMetrics\": [{\"Namespace\": \"suga\","
    " \"Dimensions\": [[\"Service\"]], \"Metrics\": [{\"Name\": \"latency\", \"Unit\": \"Milliseconds\"},"
    " {\"Name\": \"invocations\", \"Unit\": \"Count\"}]}]},"
    " \"Service\": \"suga\", \"latency\": [1, 2.5], \"invocations\": 3}";

static bool text_valid(const char *text, char *why)
{
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    cr_assert_not_null(doc, "test bug: %s: %s", text, err.text);
    bool ok = emf_valid(doc, why);
    json_decref(doc);
    return ok;
}

Test(metrics, validator_accepts_valid_emf)
{
    char why[WHY_MAX] = "";
    cr_assert(text_valid(valid_doc, why), "%s", why);
    /* the specification's own example, with a member that is neither metric nor dimension */
    cr_assert(text_valid("{\"_aws\": {\"Timestamp\": 1574109732004, \"CloudWatchMetrics\": [{\"Namespace\":"
                         " \"lambda-function-metrics\", \"Dimensions\": [[\"functionVersion\"]], \"Metrics\":"
                         " [{\"Name\": \"time\", \"Unit\": \"Milliseconds\"}]}]}, \"functionVersion\": \"$LATEST\","
                         " \"time\": 100, \"requestId\": \"989ffbf8-9ace-4817-a57c-e4dd734019ee\"}",
                         why),
              "%s", why);
}

Test(metrics, validator_rejects_broken_emf)
{
    static const struct {
        const char *doc;
        const char *reason; /* a part of the validator's reason */
    } cases[] = {
        {"[]", "not a JSON object"},
        {"{\"latency\": 1}", "_aws is missing"},
        {"{\"_aws\": []}", "_aws is missing or not an object"},
        {"{\"_aws\": {\"CloudWatchMetrics\": []}}", "Timestamp"},
        {"{\"_aws\": {\"Timestamp\": \"1790812800000\", \"CloudWatchMetrics\": []}}", "Timestamp"},
        {"{\"_aws\": {\"Timestamp\": 1.5, \"CloudWatchMetrics\": []}}", "Timestamp"},
        {"{\"_aws\": {\"Timestamp\": 1}}", "CloudWatchMetrics"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": {}}}", "CloudWatchMetrics"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [], \"Extra\": 1}}", "'Extra'"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [1]}}", "not an object"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [{\"Dimensions\": [[]], \"Metrics\": []}]}}",
         "Namespace"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [{\"Namespace\": 7, \"Dimensions\": [[]], \"Metrics\": []}]}}",
         "Namespace"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [{\"Namespace\": \"\", \"Dimensions\": [[]], \"Metrics\": []}]}}",
         "Namespace"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [{\"Namespace\": \"s\", \"Metrics\": []}]}}",
         "Dimensions"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [{\"Namespace\": \"s\", \"Dimensions\": [\"Service\"],"
         " \"Metrics\": []}]}, \"Service\": \"x\"}",
         "DimensionSet 0"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [{\"Namespace\": \"s\", \"Dimensions\": [[\"Service\"]],"
         " \"Metrics\": []}]}}",
         "dimension 'Service'"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [{\"Namespace\": \"s\", \"Dimensions\": [[\"Service\"]],"
         " \"Metrics\": []}]}, \"Service\": 1}",
         "dimension 'Service'"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [{\"Namespace\": \"s\", \"Dimensions\": [[]],"
         " \"Metrics\": [], \"Unit\": \"Count\"}]}}",
         "'Unit'"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [{\"Namespace\": \"s\", \"Dimensions\": [[]],"
         " \"Metrics\": [{\"Unit\": \"Count\"}]}]}}",
         "no Name"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [{\"Namespace\": \"s\", \"Dimensions\": [[]],"
         " \"Metrics\": [{\"Name\": \"n\", \"Unit\": \"Counts\"}]}]}, \"n\": 1}",
         "not a CloudWatch unit"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [{\"Namespace\": \"s\", \"Dimensions\": [[]],"
         " \"Metrics\": [{\"Name\": \"n\"}]}]}}",
         "metric 'n' has no top-level"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [{\"Namespace\": \"s\", \"Dimensions\": [[]],"
         " \"Metrics\": [{\"Name\": \"n\"}]}]}, \"n\": \"1\"}",
         "metric 'n' has no top-level"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [{\"Namespace\": \"s\", \"Dimensions\": [[]],"
         " \"Metrics\": [{\"Name\": \"n\"}]}]}, \"n\": [1, \"2\"]}",
         "value 1 of metric 'n'"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [{\"Namespace\": \"s\", \"Dimensions\": [[]],"
         " \"Metrics\": [{\"Name\": \"n\"}, {\"Name\": \"n\"}]}]}, \"n\": 1}",
         "defined twice"},
        {"{\"_aws\": {\"Timestamp\": 1, \"CloudWatchMetrics\": [{\"Namespace\": \"s\", \"Dimensions\": [[]],"
         " \"Metrics\": [{\"Name\": \"n\", \"StorageResolution\": 5}]}]}, \"n\": 1}",
         "StorageResolution"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char why[WHY_MAX] = "";
        cr_assert_not(text_valid(cases[i].doc, why), "case %zu accepted: %s", i, cases[i].doc);
        cr_assert(strstr(why, cases[i].reason), "case %zu: reason '%s' does not mention '%s'", i, why, cases[i].reason);
    }
}

Test(metrics, validator_enforces_the_100_limits)
{
    json_t *doc = json_loads(valid_doc, 0, NULL);
    char why[WHY_MAX] = "";
    json_t *values = json_object_get(doc, "latency");
    while (json_array_size(values) < 100)
        json_array_append_new(values, json_integer(1));
    cr_assert(emf_valid(doc, why), "100 values are allowed: %s", why);
    json_array_append_new(values, json_integer(1));
    cr_assert_not(emf_valid(doc, why), "101 values are not");
    cr_assert(strstr(why, "1 to 100 numbers"), "%s", why);
    json_array_remove(values, 0);

    json_t *defs = json_object_get(json_array_get(json_object_get(json_object_get(doc, "_aws"), "CloudWatchMetrics"), 0),
                                   "Metrics");
    char name[16];
    for (int i = 0; json_array_size(defs) < 101; i++) {
        snprintf(name, sizeof name, "m%d", i);
        json_array_append_new(defs, json_pack("{s:s}", "Name", name));
        json_object_set_new(doc, name, json_integer(i));
    }
    cr_assert_not(emf_valid(doc, why), "101 metric definitions are not allowed");
    cr_assert(strstr(why, "at most 100 MetricDefinitions"), "%s", why);
    json_array_remove(defs, 100);
    cr_assert(emf_valid(doc, why), "100 are: %s", why);
    json_decref(doc);
}

/* ---- units ---- */

Test(metrics, every_unit_is_accepted_and_emitted_as_named)
{
    char name[32];
    for (int i = 0; i < SUGA_METRICS_UNIT_COUNT; i++) {
        snprintf(name, sizeof name, "m_%s", suga_metrics_unit_names[i]);
        rec(name, 2, suga_metrics_unit_names[i]);
        cr_assert_str_eq(stats_of(name).unit, suga_metrics_unit_names[i]);
    }
    const char *names[SUGA_METRICS_UNIT_COUNT];
    char declared[SUGA_METRICS_UNIT_COUNT][32];
    for (int i = 0; i < SUGA_METRICS_UNIT_COUNT; i++) {
        snprintf(declared[i], sizeof declared[i], "m_%s", suga_metrics_unit_names[i]);
        names[i] = declared[i];
    }
    declare(names, SUGA_METRICS_UNIT_COUNT);
    json_t *doc = emf();
    json_t *defs = json_object_get(json_array_get(json_object_get(json_object_get(doc, "_aws"), "CloudWatchMetrics"), 0),
                                   "Metrics");
    cr_assert_eq(json_array_size(defs), SUGA_METRICS_UNIT_COUNT);
    for (int i = 0; i < SUGA_METRICS_UNIT_COUNT; i++)
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(defs, (size_t)i), "Unit")),
                         suga_metrics_unit_names[i]);
    json_decref(doc);
}

Test(metrics, unit_list_is_cloudwatchs_spelling)
{
    static const char *const want[] = {"Count",   "Milliseconds", "Bytes",     "Percent",
                                       "None",    "Seconds",      "Kilobytes", "Megabytes"};
    cr_assert_eq(SUGA_METRICS_UNIT_COUNT, 8);
    for (int i = 0; i < SUGA_METRICS_UNIT_COUNT; i++)
        cr_assert_str_eq(suga_metrics_unit_names[i], want[i]);
}

Test(metrics, null_unit_means_count)
{
    rec("invocations", 1, NULL);
    cr_assert_str_eq(stats_of("invocations").unit, "Count");
    rec("invocations", 1, "Count");
    cr_assert_eq(stats_of("invocations").count, 2);
}

Test(metrics, unknown_units_are_refused)
{
    rec_fails("latency", 1, "Millis", SUGA_E_INVALID_ARG,
              "metric 'latency': unknown unit 'Millis' (expected Count, Milliseconds, Bytes, Percent, None, Seconds, "
              "Kilobytes or Megabytes)");
    rec_fails("latency", 1, "count", SUGA_E_INVALID_ARG, "metric 'latency': unknown unit 'count' (did you mean 'Count'?)");
    rec_fails("latency", 1, "Count/Second", SUGA_E_INVALID_ARG,
              "metric 'latency': unknown unit 'Count/Second' (expected Count, Milliseconds, Bytes, Percent, None, "
              "Seconds, Kilobytes or Megabytes)");
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_get(reg, "latency", &(json_t *){NULL}, &ctx), SUGA_E_NOT_FOUND,
                 "a refused first record creates nothing");
}

Test(metrics, a_metric_keeps_its_first_unit)
{
    rec("latency", 12, "Milliseconds");
    rec_fails("latency", 1, "Count", SUGA_E_INVALID_ARG,
              "metric 'latency' has unit Milliseconds, cannot record a value in Count (a metric keeps the unit of its "
              "first record)");
    rec_fails("latency", 1, NULL, SUGA_E_INVALID_ARG,
              "metric 'latency' has unit Milliseconds, cannot record a value in Count (a metric keeps the unit of its "
              "first record)");
    suga_metric_stats s = stats_of("latency");
    cr_assert_eq(s.count, 1, "the refused records changed nothing");
    cr_assert_eq(s.sum, 12);
    cr_assert_eq(s.values_kept, 1);
    /* after a reset the name is free again, unit included */
    cr_assert_eq(suga_metrics_reset(reg, "latency", NULL, &ctx), SUGA_OK);
    rec("latency", 1, "Seconds");
    cr_assert_str_eq(stats_of("latency").unit, "Seconds");
}

/* ---- names ---- */

Test(metrics, bad_names_are_refused_with_the_rule)
{
    rec_fails(NULL, 1, NULL, SUGA_E_INVALID_ARG, "metric name is missing");
    rec_fails("", 1, NULL, SUGA_E_INVALID_ARG, "metric name is empty (use 1 to 64 bytes of A-Z a-z 0-9 _ . -)");
    rec_fails("cache hits", 1, NULL, SUGA_E_INVALID_ARG,
              "metric name 'cache hits' has a character other than A-Z a-z 0-9 _ . - at byte 5");
    rec_fails("caf\xc3\xa9", 1, NULL, SUGA_E_INVALID_ARG,
              "metric name 'caf\\xc3\\xa9' has a character other than A-Z a-z 0-9 _ . - at byte 3");
    rec_fails("it's", 1, NULL, SUGA_E_INVALID_ARG,
              "metric name 'it\\x27s' has a character other than A-Z a-z 0-9 _ . - at byte 2");
    rec_fails("a/b", 1, NULL, SUGA_E_INVALID_ARG,
              "metric name 'a/b' has a character other than A-Z a-z 0-9 _ . - at byte 1");
    char long_name[80];
    memset(long_name, 'a', 65);
    long_name[65] = '\0';
    rec_fails(long_name, 1, NULL, SUGA_E_INVALID_ARG,
              "metric name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'... is longer than 64 bytes");
    rec_fails("_aws", 1, NULL, SUGA_E_INVALID_ARG,
              "metric name '_aws' is reserved: every EMF object has a member of that name");
    rec_fails("Service", 1, NULL, SUGA_E_INVALID_ARG,
              "metric name 'Service' is reserved: every EMF object has a member of that name");
    rec_fails("suga_metrics_not_emitted", 1, NULL, SUGA_E_INVALID_ARG,
              "metric name 'suga_metrics_not_emitted' is reserved: every EMF object has a member of that name");
    long_name[64] = '\0';
    rec(long_name, 1, NULL); /* 64 bytes is the limit, not over it */
    rec("Mixed.Case-name_9", 1, NULL);
    rec("service", 1, NULL); /* only the exact member names are reserved */
    json_t *summary = NULL;
    cr_assert_eq(suga_metrics_summary(reg, &summary, &ctx), SUGA_OK);
    cr_assert_eq(json_integer_value(json_object_get(summary, "count")), 3, "only the valid names were created");
    json_decref(summary);
    /* the rule on its own, as suga-gen applies it to limits.metrics.names */
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_check_name("Mixed.Case-name_9", &ctx), SUGA_OK);
    cr_assert_eq(suga_metrics_check_name("a/b", &ctx), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "metric name 'a/b' has a character other than A-Z a-z 0-9 _ . - at byte 1");
    cr_assert_eq(suga_metrics_check_name(NULL, NULL), SUGA_E_INVALID_ARG);
}

Test(metrics, non_finite_values_and_overflow_are_refused)
{
    rec_fails("x", 1.0 / 0.0, NULL, SUGA_E_INVALID_ARG, "metric 'x': value must be a finite number, got inf");
    rec("big", 1e308, "None");
    rec_fails("big", 1e308, "None", SUGA_E_LIMIT, "metric 'big': adding 1e+308 would overflow its sum");
    suga_metric_stats s = stats_of("big");
    cr_assert_eq(s.count, 1);
    cr_assert_eq(s.sum, 1e308);
    cr_assert_eq(s.values_kept, 1);
    /* the since-flush sum can overflow while the total does not */
    rec("mixed", -1e308, "None");
    json_decref(flush());
    rec("mixed", 1e308, "None");
    rec_fails("mixed", 1e308, "None", SUGA_E_LIMIT, "metric 'mixed': adding 1e+308 would overflow its sum");
    cr_assert_eq(stats_of("mixed").since_count, 1);
}

/* ---- the 256-metric limit ---- */

Test(metrics, at_most_256_metrics)
{
    char name[16];
    for (int i = 0; i < SUGA_METRICS_MAX; i++) {
        snprintf(name, sizeof name, "m%d", i);
        rec(name, i, NULL);
    }
    rec_fails("m256", 1, NULL, SUGA_E_LIMIT, "cannot add metric 'm256': the registry already holds 256 metrics, its limit");
    rec("m0", 5, NULL); /* existing metrics still record */
    rec("m255", 5, NULL);
    cr_assert_eq(stats_of("m0").count, 2);
    cr_assert_eq(stats_of("m255").sum, 260);
    for (int i = 0; i < SUGA_METRICS_MAX; i++) { /* every name still resolves to its own metric */
        snprintf(name, sizeof name, "m%d", i);
        suga_metric_stats s = stats_of(name);
        cr_assert_eq(s.last, i == 0 || i == 255 ? 5 : i, "%s", name);
    }
    cr_assert_eq(suga_metrics_reset(reg, "m17", NULL, &ctx), SUGA_OK);
    rec("m256", 1, NULL); /* room again */
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_stats(reg, "m17", &(suga_metric_stats){0}, &ctx), SUGA_E_NOT_FOUND);
    cr_assert_eq(stats_of("m18").last, 18, "the metrics after a removed one are still found");
    json_t *summary = NULL;
    cr_assert_eq(suga_metrics_summary(reg, &summary, &ctx), SUGA_OK);
    cr_assert_eq(json_integer_value(json_object_get(summary, "count")), 256);
    cr_assert_eq(json_integer_value(json_object_get(summary, "not_emitted")), 256, "none of them is declared");
    json_decref(summary);
    cr_assert_null(emf(), "undeclared metrics alone make no line");
}

/* ---- the declared names: the only ones emitted ---- */

Test(metrics, emf_carries_the_declared_metrics_only)
{
    rec("custom_a", 1, NULL);      /* not declared, recorded first */
    rec("guard_state", 1, "None"); /* declared 7th */
    rec("latency", 20, "Milliseconds");
    rec("custom_b", 1, NULL);
    rec("invocations", 1, NULL);
    rec("cache_hits", 2, NULL);
    json_t *doc = emf();
    char names[256];
    cr_assert_str_eq(defined_names(doc, names, sizeof names), "invocations,latency,cache_hits,guard_state",
                     "in the order of the names, not of the records");
    cr_assert_eq(not_emitted(doc), 2);
    cr_assert_null(json_object_get(doc, "custom_a"), "a metric not emitted is not a member either");
    cr_assert_null(json_object_get(doc, "custom_b"));
    assert_json(doc, "{\"_aws\": {\"Timestamp\": 1790812800000, \"CloudWatchMetrics\": [{\"Namespace\": \"suga\","
                     " \"Dimensions\": [[\"Service\"]], \"Metrics\": [{\"Name\": \"invocations\", \"Unit\": \"Count\"},"
                     " {\"Name\": \"latency\", \"Unit\": \"Milliseconds\"}, {\"Name\": \"cache_hits\", \"Unit\": \"Count\"},"
                     " {\"Name\": \"guard_state\", \"Unit\": \"None\"}]}]},"
                     " \"Service\": \"suga\", \"invocations\": 1, \"latency\": [20], \"cache_hits\": 2,"
                     " \"guard_state\": [1], \"suga_metrics_not_emitted\": 2}");

    /* the others are aggregated all the same, and come after the declared ones */
    suga_metric_stats s = stats_of("custom_a");
    cr_assert(!s.declared && !s.emitted);
    cr_assert_eq(s.count, 1);
    cr_assert(stats_of("guard_state").declared && stats_of("guard_state").emitted);
    cr_assert_str_eq(summary_names(names, sizeof names), "invocations,latency,cache_hits,guard_state,custom_a,custom_b");

    json_t *plan = NULL;
    cr_assert_eq(suga_metrics_plan(reg, &plan, &ctx), SUGA_OK);
    assert_json(plan, "{\"emitted\": [\"invocations\", \"latency\", \"cache_hits\", \"guard_state\"],"
                      " \"not_emitted\": [\"custom_a\", \"custom_b\"]}");
}

/* The issue this rule fixes: a per-line cap let any name through in a line where the others were
 * idle, so over time more than 10 names reached CloudWatch and were billed. */
Test(metrics, an_undeclared_metric_never_reaches_a_line)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    cr_assert_not_null(f);
    char name[32];
    for (int i = 0; i < 1000; i++) {
        rec("custom", 1, NULL); /* alone in most periods: the old rule emitted it then */
        if (i % 10 == 0)
            rec("invocations", 1, NULL);
        snprintf(name, sizeof name, "custom_%d", i % 20); /* and 20 more names, in turn */
        rec(name, i, "Milliseconds");
        suga_ctx_init(&ctx);
        cr_assert_eq(suga_metrics_write_emf_line(reg, T0 + i, NULL, f, &ctx), SUGA_OK, "%s", ctx.error);
    }
    cr_assert_eq(fclose(f), 0);
    int lines = 0;
    for (char *line = buf, *nl; (nl = strchr(line, '\n')); line = nl + 1, lines++) {
        json_error_t err;
        json_t *doc = json_loadb(line, (size_t)(nl - line), 0, &err);
        cr_assert_not_null(doc, "line %d is JSON: %s", lines, err.text);
        assert_emf(doc);
        char names[256];
        cr_assert_str_eq(defined_names(doc, names, sizeof names), "invocations", "line %d", lines);
        cr_assert_null(json_object_get(doc, "custom"), "line %d", lines);
        cr_assert_eq(not_emitted(doc), 2, "line %d: custom and one custom_N", lines);
        json_decref(doc);
    }
    free(buf);
    cr_assert_eq(lines, 100, "a line in each period with a declared metric, none in the others");
    suga_metric_stats s = stats_of("custom");
    cr_assert_eq(s.count, 1000, "every record is in the registry");
    cr_assert(!s.declared && !s.emitted);
    cr_assert_eq(stats_of("invocations").count, 100);
}

Test(metrics, only_declared_metrics_recorded_since_the_flush_are_emitted)
{
    rec("invocations", 1, NULL);
    rec("errors", 1, NULL);
    rec("custom", 1, NULL);
    json_t *doc = flush();
    char names[256];
    cr_assert_str_eq(defined_names(doc, names, sizeof names), "invocations,errors");
    cr_assert_eq(not_emitted(doc), 1);
    json_decref(doc);
    rec("errors", 2, NULL);
    doc = flush();
    cr_assert_str_eq(defined_names(doc, names, sizeof names), "errors", "invocations had no news");
    cr_assert_eq(not_emitted(doc), 0);
    json_decref(doc);
    rec("custom", 4, NULL);
    cr_assert_null(flush(), "a period with only undeclared metrics writes nothing");
    cr_assert_eq(stats_of("custom").sum, 5, "they stay in the totals");
    cr_assert_eq(stats_of("custom").since_count, 0, "and the flush started a new period for them too");
}

Test(metrics, an_unconfigured_registry_emits_nothing)
{
    cr_assert_eq(suga_metrics_init(reg, &ctx), SUGA_OK);
    char name[16];
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "n%02d", i);
        rec(name, 1, NULL);
    }
    rec("invocations", 1, NULL);
    cr_assert_null(emf(), "nothing is declared");
    json_t *summary = NULL;
    cr_assert_eq(suga_metrics_summary(reg, &summary, &ctx), SUGA_OK);
    cr_assert_eq(json_integer_value(json_object_get(summary, "not_emitted")), 13);
    json_decref(summary);
    bool configured = true;
    cr_assert_eq(suga_metrics_configured(reg, &configured), SUGA_OK);
    cr_assert_not(configured);
}

Test(metrics, configure_declares_metrics_already_recorded)
{
    cr_assert_eq(suga_metrics_init(reg, &ctx), SUGA_OK);
    rec("latency", 1, "Milliseconds");
    rec("errors", 1, NULL);
    cr_assert_not(stats_of("latency").declared);
    declare(spec_names, 7);
    cr_assert(stats_of("latency").declared);
    char names[64];
    cr_assert_str_eq(summary_names(names, sizeof names), "errors,latency");
    static const char *const other[] = {"latency"};
    declare(other, 1);
    cr_assert_not(stats_of("errors").declared, "a new declaration replaces the old one");
    json_t *doc = emf();
    cr_assert_str_eq(defined_names(doc, names, sizeof names), "latency");
    cr_assert_eq(not_emitted(doc), 1);
    json_decref(doc);
}

Test(metrics, at_most_ten_names_are_declared)
{
    static const char *const ten[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"};
    declare(ten, 10);
    for (int i = 0; i < 11; i++)
        rec(ten[i], 1, NULL);
    json_t *doc = emf();
    char names[256];
    cr_assert_str_eq(defined_names(doc, names, sizeof names), "a,b,c,d,e,f,g,h,i,j");
    cr_assert_eq(not_emitted(doc), 1);
    json_decref(doc);
    const suga_limits eleven = {.metric_names = ten, .metric_name_count = 11};
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_configure(reg, &eleven, &ctx), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "the limits declare 11 metric names, at most 10 may be emitted (each is a CloudWatch "
                                "custom metric, billed)");
}

Test(metrics, record_id_records_a_declared_name)
{
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_record_id(reg, 2, 12.5, "Milliseconds", &ctx), SUGA_OK, "%s", ctx.error);
    cr_assert_eq(stats_of("latency").sum, 12.5, "id 2 is the third name declared");
    cr_assert_eq(suga_metrics_record_id(reg, 0, 1, NULL, &ctx), SUGA_OK, "%s", ctx.error);
    cr_assert_eq(stats_of("invocations").count, 1);
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_record_id(reg, 7, 1, NULL, &ctx), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "metric id 7 is not declared (the registry declares 7 names)");
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_record_id(reg, 2, 1, "Count", &ctx), SUGA_E_INVALID_ARG, "the record's own rules apply");
    cr_assert_eq(suga_metrics_init(reg, &ctx), SUGA_OK);
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_record_id(reg, 0, 1, NULL, &ctx), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "metric id 0 is not declared (the registry declares 0 names: it is not configured)");
    cr_assert_eq(suga_metrics_record_id(NULL, 0, 1, NULL, NULL), SUGA_E_INVALID_ARG);
}

Test(metrics, bad_configurations_change_nothing)
{
    static const char *const dup[] = {"invocations", "errors", "latency", "errors"};
    static const char *const bad[] = {"bad name"};
    static const char *const reserved[] = {"ok", "_aws"};
    static const char *const missing[] = {"ok", NULL};
    const struct {
        suga_limits limits;
        const char *message;
    } cases[] = {
        {{.metric_names = dup, .metric_name_count = 4}, "the limits declare metric 'errors' twice (places 1 and 3)"},
        {{.metric_names = bad, .metric_name_count = 1},
         "declared metric 0: metric name 'bad name' has a character other than A-Z a-z 0-9 _ . - at byte 3"},
        {{.metric_names = reserved, .metric_name_count = 2},
         "declared metric 1: metric name '_aws' is reserved: every EMF object has a member of that name"},
        {{.metric_names = missing, .metric_name_count = 2}, "declared metric 1: metric name is missing"},
        {{.metric_name_count = 2}, "the limits declare 2 metric names but have no array"},
        {{.metric_names = dup, .metric_name_count = 257},
         "the limits declare 257 metric names, at most 10 may be emitted (each is a CloudWatch custom metric, billed)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        suga_ctx_init(&ctx);
        cr_assert_eq(suga_metrics_configure(reg, &cases[i].limits, &ctx), SUGA_E_INVALID_ARG, "case %zu", i);
        cr_assert_str_eq(ctx.error, cases[i].message);
    }
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_configure(reg, NULL, &ctx), SUGA_E_INVALID_ARG);
    json_t *status = NULL;
    cr_assert_eq(suga_metrics_status(reg, &status, &ctx), SUGA_OK);
    assert_json(status, "{\"metrics\": 0, \"max_metrics\": 256, \"configured\": true,"
                        " \"recorded_since_flush\": 0, \"names\": [\"invocations\", \"errors\", \"latency\","
                        " \"cache_hits\", \"module_loads\", \"module_unloads\", \"guard_state\"]}");
}

/* ---- flushing ---- */

Test(metrics, flush_resets_only_the_since_flush_aggregates)
{
    rec("invocations", 1, NULL);
    rec("invocations", 1, NULL);
    rec("latency", 10, "Milliseconds");
    rec("latency", 30, "Milliseconds");
    json_t *doc = flush();
    cr_assert_eq(json_integer_value(json_object_get(doc, "invocations")), 2, "a Count emits its sum");
    assert_json(json_incref(json_object_get(doc, "latency")), "[10, 30]");
    json_decref(doc);

    suga_metric_stats s = stats_of("latency");
    cr_assert_eq(s.count, 2);
    cr_assert_eq(s.sum, 40);
    cr_assert_eq(s.min, 10);
    cr_assert_eq(s.max, 30);
    cr_assert_eq(s.last, 30);
    cr_assert_eq(s.since_count, 0);
    cr_assert_eq(s.since_sum, 0);
    cr_assert_eq(s.values_kept, 0);
    cr_assert_not(s.emitted);

    cr_assert_null(emf(), "nothing recorded since the flush: nothing to emit");
    cr_assert_null(flush());

    rec("latency", 5, "Milliseconds");
    doc = flush();
    assert_json(json_incref(json_object_get(doc, "latency")), "[5]");
    cr_assert_null(json_object_get(doc, "invocations"), "no news from invocations");
    json_decref(doc);
    s = stats_of("latency");
    cr_assert_eq(s.count, 3);
    cr_assert_eq(s.min, 5);
    cr_assert_eq(s.since_count, 0);
}

Test(metrics, emf_does_not_reset)
{
    rec("invocations", 3, NULL);
    json_decref(emf());
    json_t *doc = emf();
    cr_assert_eq(json_integer_value(json_object_get(doc, "invocations")), 3);
    json_decref(doc);
    cr_assert_eq(stats_of("invocations").since_count, 1);
}

Test(metrics, emf_keeps_the_last_100_values)
{
    for (int i = 0; i < 150; i++)
        rec("latency", i, "Milliseconds");
    json_t *doc = emf();
    json_t *values = json_object_get(doc, "latency");
    cr_assert_eq(json_array_size(values), 100);
    for (size_t k = 0; k < 100; k++)
        cr_assert_eq(json_integer_value(json_array_get(values, k)), (json_int_t)(50 + k), "value %zu", k);
    json_decref(doc);
    suga_metric_stats s = stats_of("latency");
    cr_assert_eq(s.since_count, 150, "the aggregates cover every value");
    cr_assert_eq(s.values_kept, 100);
    cr_assert_eq(s.since_min, 0);
    cr_assert_eq(s.since_max, 149);
}

Test(metrics, counts_emit_their_sum_and_other_units_their_values)
{
    static const char *const names[] = {"hits", "memory"};
    declare(names, 2);
    rec("hits", 2, "Count");
    rec("hits", 0.5, "Count");
    rec("memory", 1.5, "Megabytes");
    rec("memory", 2, "Megabytes");
    json_t *doc = emf();
    cr_assert(json_is_real(json_object_get(doc, "hits")));
    cr_assert_eq(json_real_value(json_object_get(doc, "hits")), 2.5);
    assert_json(json_incref(json_object_get(doc, "memory")), "[1.5, 2]");
    json_decref(doc);
}

Test(metrics, emf_namespace_and_timestamp)
{
    rec("invocations", 1, NULL);
    json_t *doc = emf_in(reg, 1234, "My App/prod #1:x");
    json_t *d = json_array_get(json_object_get(json_object_get(doc, "_aws"), "CloudWatchMetrics"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(d, "Namespace")), "My App/prod #1:x");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "_aws"), "Timestamp")), 1234);
    json_decref(doc);
    doc = emf_in(reg, 0, NULL);
    d = json_array_get(json_object_get(json_object_get(doc, "_aws"), "CloudWatchMetrics"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(d, "Namespace")), "suga");
    json_decref(doc);

    char long_ns[300];
    memset(long_ns, 'n', 256);
    long_ns[256] = '\0';
    const struct {
        int64_t ts;
        const char *ns;
        const char *message;
    } cases[] = {
        {-1, "suga", "EMF timestamp must be milliseconds since the epoch (>= 0), got -1"},
        {T0, "", "EMF namespace is empty (use 1 to 255 bytes of A-Z a-z 0-9 . - _ / # : and space)"},
        {T0, "AWS/Lambda", "EMF namespace 'AWS/Lambda' must not start with 'AWS/' (AWS services' own)"},
        {T0, ":x", "EMF namespace ':x' must not start with ':'"},
        {T0, "   ", "EMF namespace '   ' has nothing but spaces"},
        {T0, "a$b",
         "EMF namespace 'a$b' has a character CloudWatch refuses at byte 1 (use 1 to 255 bytes of A-Z a-z 0-9 . - _ / # "
         ": and space)"},
        {T0, long_ns,
         "EMF namespace 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn'... is longer than 255 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *out = (json_t *)1;
        suga_ctx_init(&ctx);
        cr_assert_eq(suga_metrics_flush(reg, cases[i].ts, cases[i].ns, &out, &ctx), SUGA_E_INVALID_ARG, "case %zu", i);
        cr_assert_str_eq(ctx.error, cases[i].message);
    }
    cr_assert_eq(stats_of("invocations").since_count, 1, "a refused flush resets nothing");
}

Test(metrics, write_emf_line_writes_one_validated_line)
{
    rec("invocations", 1, NULL);
    rec("latency", 0.1, "Milliseconds");
    rec("latency", 12.25, "Milliseconds");
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    cr_assert_not_null(f);
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_write_emf_line(reg, T0, "suga", f, &ctx), SUGA_OK, "%s", ctx.error);
    cr_assert_eq(suga_metrics_write_emf_line(reg, T0 + 1, "suga", f, &ctx), SUGA_OK, "%s", ctx.error);
    cr_assert_eq(fclose(f), 0);

    cr_assert_gt(size, 1);
    cr_assert_eq(buf[size - 1], '\n', "the line ends with a newline");
    cr_assert_eq(strchr(buf, '\n'), buf + size - 1, "exactly one line: the second call had nothing to write");
    cr_assert_null(strstr(buf, "0.10000"), "reals are written short: %s", buf);
    json_error_t err;
    json_t *doc = json_loadb(buf, size - 1, 0, &err);
    cr_assert_not_null(doc, "the line is JSON: %s (%s)", err.text, buf);
    assert_emf(doc);
    assert_json(doc, "{\"_aws\": {\"Timestamp\": 1790812800000, \"CloudWatchMetrics\": [{\"Namespace\": \"suga\","
                     " \"Dimensions\": [[\"Service\"]], \"Metrics\": [{\"Name\": \"invocations\", \"Unit\": \"Count\"},"
                     " {\"Name\": \"latency\", \"Unit\": \"Milliseconds\"}]}]},"
                     " \"Service\": \"suga\", \"invocations\": 1, \"latency\": [0.1, 12.25],"
                     " \"suga_metrics_not_emitted\": 0}");
    cr_assert(strncmp(buf, "{\"_aws\":", 8) == 0, "_aws comes first: %s", buf);
    free(buf);
    cr_assert_eq(stats_of("latency").since_count, 0, "writing the line flushed");
}

Test(metrics, a_failed_write_keeps_the_data_for_the_next_line)
{
    rec("invocations", 1, NULL);
    FILE *f = fopen("/dev/full", "w");
    cr_assert_not_null(f, "/dev/full is needed for this test");
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_write_emf_line(reg, T0, NULL, f, &ctx), SUGA_E_IO);
    cr_assert_str_eq(ctx.error, "cannot write the EMF line: No space left on device");
    fclose(f);
    cr_assert_eq(stats_of("invocations").since_count, 1);
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_write_emf_line(reg, T0, NULL, NULL, &ctx), SUGA_E_INVALID_ARG);
}

/* ---- views, lookup, reset ---- */

Test(metrics, get_and_summary)
{
    rec("custom", 7, "Bytes");
    rec("latency", 10, "Milliseconds");
    rec("latency", 15, "Milliseconds");
    rec("invocations", 2, NULL);
    json_t *m = NULL;
    cr_assert_eq(suga_metrics_get(reg, "latency", &m, &ctx), SUGA_OK, "%s", ctx.error);
    assert_json(m, "{\"name\": \"latency\", \"unit\": \"Milliseconds\", \"declared\": true,"
                   " \"emitted\": true, \"count\": 2, \"sum\": 25, \"min\": 10, \"max\": 15, \"mean\": 12.5,"
                   " \"last\": 15, \"since_flush\": {\"count\": 2, \"sum\": 25, \"min\": 10, \"max\": 15,"
                   " \"values_kept\": 2}}");
    json_t *s = NULL;
    cr_assert_eq(suga_metrics_summary(reg, &s, &ctx), SUGA_OK, "%s", ctx.error);
    assert_json(s, "{\"count\": 3, \"max_metrics\": 256, \"emitted\": 2, \"not_emitted\": 1,"
                   " \"metrics\": [{\"name\": \"invocations\", \"unit\": \"Count\", \"declared\": true,"
                   " \"emitted\": true, \"count\": 1, \"sum\": 2, \"min\": 2, \"max\": 2, \"mean\": 2, \"last\": 2,"
                   " \"since_flush\": {\"count\": 1, \"sum\": 2, \"min\": 2, \"max\": 2, \"values_kept\": 0}},"
                   " {\"name\": \"latency\", \"unit\": \"Milliseconds\", \"declared\": true,"
                   " \"emitted\": true, \"count\": 2, \"sum\": 25, \"min\": 10, \"max\": 15, \"mean\": 12.5,"
                   " \"last\": 15, \"since_flush\": {\"count\": 2, \"sum\": 25, \"min\": 10, \"max\": 15,"
                   " \"values_kept\": 2}},"
                   " {\"name\": \"custom\", \"unit\": \"Bytes\", \"declared\": false,"
                   " \"emitted\": false, \"count\": 1, \"sum\": 7, \"min\": 7, \"max\": 7, \"mean\": 7,"
                   " \"last\": 7, \"since_flush\": {\"count\": 1, \"sum\": 7, \"min\": 7, \"max\": 7,"
                   " \"values_kept\": 1}}]}");
    json_decref(flush());
    cr_assert_eq(suga_metrics_get(reg, "latency", &m, &ctx), SUGA_OK);
    assert_json(json_incref(json_object_get(m, "since_flush")),
                "{\"count\": 0, \"sum\": 0, \"min\": null, \"max\": null, \"values_kept\": 0}");
    json_decref(m);
}

Test(metrics, unknown_names_suggest_a_close_one)
{
    json_t *m = (json_t *)1;
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_get(reg, "latency", &m, &ctx), SUGA_E_NOT_FOUND);
    cr_assert_str_eq(ctx.error, "no metric 'latency' (nothing has been recorded)");
    rec("latency", 1, "Milliseconds");
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_get(reg, "latncy", &m, &ctx), SUGA_E_NOT_FOUND);
    cr_assert_str_eq(ctx.error, "no metric 'latncy' (did you mean 'latency'?)");
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_reset(reg, "errors", NULL, &ctx), SUGA_E_NOT_FOUND);
    cr_assert_str_eq(ctx.error, "no metric 'errors'");
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_get(reg, "bad name", &m, &ctx), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "metric name 'bad name' has a character other than A-Z a-z 0-9 _ . - at byte 3");
}

Test(metrics, reset_one_or_all)
{
    rec("a", 1, NULL);
    rec("b", 1, NULL);
    rec("c", 1, NULL);
    uint32_t removed = 99;
    cr_assert_eq(suga_metrics_reset(reg, "a", &removed, &ctx), SUGA_OK);
    cr_assert_eq(removed, 1);
    char names[64];
    cr_assert_str_eq(summary_names(names, sizeof names), "b,c");
    rec("a", 1, NULL);
    cr_assert_str_eq(summary_names(names, sizeof names), "b,c,a", "a recorded again counts as new");
    cr_assert_eq(suga_metrics_reset(reg, NULL, &removed, &ctx), SUGA_OK);
    cr_assert_eq(removed, 3);
    cr_assert_null(emf());
    json_t *status = NULL;
    cr_assert_eq(suga_metrics_status(reg, &status, &ctx), SUGA_OK);
    cr_assert_eq(json_integer_value(json_object_get(status, "metrics")), 0);
    cr_assert_eq(json_array_size(json_object_get(status, "names")), 7, "the configuration stays");
    json_decref(status);
    cr_assert_eq(suga_metrics_init(reg, &ctx), SUGA_OK);
    bool configured = true;
    suga_metrics_configured(reg, &configured);
    cr_assert_not(configured, "init forgets the configuration too");
}

/* ---- the default registry ---- */

Test(metrics, the_default_registry)
{
    suga_metrics *d = suga_metrics_default();
    cr_assert_not_null(d);
    cr_assert_eq(d, suga_metrics_default());
    cr_assert_neq(d, reg);
    rec_in(d, "invocations", 1, NULL);
    json_t *status = NULL;
    cr_assert_eq(suga_metrics_status(d, &status, &ctx), SUGA_OK);
    assert_json(status, "{\"metrics\": 1, \"max_metrics\": 256, \"configured\": false,"
                        " \"recorded_since_flush\": 1, \"names\": []}");
    cr_assert_null(emf_in(d, T0, NULL), "unconfigured: nothing is declared, nothing emitted");
    suga_ctx_init(&ctx);
    cr_assert_eq(suga_metrics_free(d, &ctx), SUGA_E_INVALID_ARG);
    cr_assert_str_eq(ctx.error, "suga_metrics_free: the default registry is not allocated");
    cr_assert_eq(suga_metrics_free(NULL, NULL), SUGA_OK);
    cr_assert_eq(suga_metrics_stats(reg, "invocations", &(suga_metric_stats){0}, NULL), SUGA_E_NOT_FOUND,
                 "registries are independent");
}

Test(metrics, null_arguments_are_refused)
{
    json_t *out = NULL;
    cr_assert_eq(suga_metrics_record(NULL, "x", 1, NULL, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_metrics_emf(NULL, T0, NULL, &out, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_metrics_emf(reg, T0, NULL, NULL, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_metrics_flush(NULL, T0, NULL, &out, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_metrics_get(reg, "x", NULL, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_metrics_summary(NULL, &out, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_metrics_status(reg, NULL, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_metrics_plan(NULL, &out, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_metrics_reset(NULL, NULL, NULL, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_metrics_configured(reg, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_metrics_new(NULL, NULL), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_metrics_init(NULL, NULL), SUGA_E_INVALID_ARG);
}

/* ---- allocation failures ---- */

static int allocations_left;

static void *failing_malloc(size_t size)
{
    if (allocations_left-- <= 0)
        return NULL;
    return malloc(size);
}

/* Run `build` with jansson's allocations failing after 0, 1, 2 ... of them until it succeeds:
 * each failing run must report SUGA_E_NOMEM with no output (and, under ASan, leak nothing). */
static void survives_allocation_failures(const char *what, suga_status (*build)(json_t **out, suga_ctx *c))
{
    for (int budget = 0;; budget++) {
        cr_assert_lt(budget, 10000, "%s never succeeded", what);
        json_t *out = NULL;
        suga_ctx c;
        suga_ctx_init(&c);
        allocations_left = budget;
        json_set_alloc_funcs(failing_malloc, free);
        suga_status st = build(&out, &c);
        json_set_alloc_funcs(malloc, free);
        if (st == SUGA_OK) {
            cr_assert_not_null(out, "%s", what);
            json_decref(out);
            cr_assert_gt(budget, 0, "%s allocates", what);
            return;
        }
        cr_assert_eq(st, SUGA_E_NOMEM, "%s with %d allocations: %s (%s)", what, budget, suga_status_name(st), c.error);
        cr_assert_null(out, "%s: no output on failure", what);
        cr_assert(strncmp(c.error, "out of memory", 13) == 0, "%s: %s", what, c.error);
    }
}

static suga_status build_emf(json_t **out, suga_ctx *c)
{
    return suga_metrics_emf(reg, T0, NULL, out, c);
}

static suga_status build_summary(json_t **out, suga_ctx *c)
{
    return suga_metrics_summary(reg, out, c);
}

static suga_status build_get(json_t **out, suga_ctx *c)
{
    return suga_metrics_get(reg, "latency", out, c);
}

static suga_status build_status(json_t **out, suga_ctx *c)
{
    return suga_metrics_status(reg, out, c);
}

static suga_status build_plan(json_t **out, suga_ctx *c)
{
    return suga_metrics_plan(reg, out, c);
}

Test(metrics, allocation_failures_are_reported_and_leak_nothing)
{
    rec("invocations", 1, NULL);
    rec("latency", 2.5, "Milliseconds");
    rec("latency", 3, "Milliseconds");
    rec("custom", 1, NULL);
    survives_allocation_failures("emf", build_emf);
    survives_allocation_failures("summary", build_summary);
    survives_allocation_failures("get", build_get);
    survives_allocation_failures("status", build_status);
    survives_allocation_failures("plan", build_plan);

    /* a line that cannot be encoded is not written, and the data waits for the next one */
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    allocations_left = 0;
    json_set_alloc_funcs(failing_malloc, free);
    suga_ctx_init(&ctx);
    suga_status st = suga_metrics_write_emf_line(reg, T0, NULL, f, &ctx);
    json_set_alloc_funcs(malloc, free);
    cr_assert_eq(st, SUGA_E_NOMEM, "%s", ctx.error);
    fclose(f);
    cr_assert_eq(size, 0);
    free(buf);
    cr_assert_eq(stats_of("latency").since_count, 2);
}
