/* The strings suga-gen writes into C, compiled: each must be the spec's own text again. The
 * golden spec's sample.cached holds a `?` alone, a trigraph (`??=`) and a run of three (`???`)
 * in a summary, a pattern and a default; under -std=c17 an unescaped pair would be a trigraph
 * and compile to other characters. The expected text is read from the YAML file itself, so this
 * test does not share the generator's idea of escaping. (Literals in this file that hold a pair
 * write the second `?` as `\?` for the same reason.) */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "suga_ops.h" /* the golden table's header */

/* The golden table's eager handlers (remote.fetch is lazy, not linked); never called here. */
suga_status sample_echo(suga_ctx *ctx, const suga_args_sample_echo *args, json_t **result)
{
    (void)ctx, (void)args, (void)result;
    return SUGA_E_INTERNAL;
}

suga_status sample_ping(suga_ctx *ctx, const suga_args_sample_ping *args, json_t **result)
{
    (void)ctx, (void)args, (void)result;
    return SUGA_E_INTERNAL;
}

suga_status sample_cached(suga_ctx *ctx, const suga_args_sample_cached *args, json_t **result)
{
    (void)ctx, (void)args, (void)result;
    return SUGA_E_INTERNAL;
}

static char *spec_text(const char *file)
{
    const char *root = getenv("SUGA_GOLDEN_ROOT");
    cr_assert(root, "SUGA_GOLDEN_ROOT must be set by meson");
    char path[4096];
    snprintf(path, sizeof path, "%s/spec/%s", root, file);
    char *text = read_file(path, NULL);
    cr_assert(text, "cannot read %s", path);
    return text;
}

/* The spec writes these strings in double quotes with no YAML escapes, so the compiled string,
 * quoted, must occur in the file byte for byte. */
static void expect_in_spec(const char *spec, const char *compiled, const char *what)
{
    cr_assert(compiled, "%s is missing from the table", what);
    size_t n = strlen(compiled);
    char *quoted = malloc(n + 3);
    cr_assert(quoted);
    snprintf(quoted, n + 3, "\"%s\"", compiled);
    cr_expect(strstr(spec, quoted), "%s compiled to %s, which is not the spec's text", what, quoted);
    free(quoted);
}

static const suga_param *param_of(suga_op_id id, const char *name)
{
    const suga_op *op = &golden_main_table.ops[id];
    for (uint16_t i = 0; i < op->param_count; i++)
        if (!strcmp(op->params[i].name, name))
            return &op->params[i];
    cr_assert_fail("%s has no param '%s'", op->name, name);
    return NULL;
}

Test(golden_strings, question_marks_and_trigraphs_survive)
{
    char *spec = spec_text("sample.yaml");
    const suga_param *q = param_of(SUGA_OP_SAMPLE_CACHED, "query");
    expect_in_spec(spec, q->summary, "the summary of 'query'");
    expect_in_spec(spec, q->pattern, "the pattern of 'query'");
    expect_in_spec(spec, q->default_string, "the default of 'query'");
    free(spec);
    spec = spec_text("remote.yaml");
    expect_in_spec(spec, param_of(SUGA_OP_REMOTE_FETCH, "url")->pattern, "the pattern of 'url'");
    /* this summary's YAML has escaped quotes: only its trigraph is compared */
    cr_expect(strstr(golden_main_table.ops[SUGA_OP_REMOTE_FETCH].summary, "trigraph ?\?=, a"), "%s",
              golden_main_table.ops[SUGA_OP_REMOTE_FETCH].summary);
    /* and the cases are really there: a lone `?`, a trigraph, a run of three */
    cr_expect_str_eq(q->summary, "why? ?\?= and ?\?\? stay");
    cr_expect_str_eq(q->default_string, "what?\?= ?\?\?");
    cr_expect_str_eq(q->default_json, "\"what?\?= ?\?\?\"");
    cr_expect_str_eq(q->pattern, "^[a-z ]*[?\?=]*( [?\?\?]+)?$");
    free(spec);
}

/* The runtime compiles the pattern from the same string: the default must still match it. */
Test(golden_strings, the_compiled_pattern_accepts_the_default)
{
    const suga_param *q = param_of(SUGA_OP_SAMPLE_CACHED, "query");
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    json_t *v = json_string(q->default_string);
    cr_expect_eq(suga_check_value(&ctx, "sample.cached", q, v), SUGA_OK, "%s", ctx.error);
    json_decref(v);
    json_t *bad = json_string("what#");
    cr_expect_eq(suga_check_value(&ctx, "sample.cached", q, bad), SUGA_E_INVALID_ARG,
                 "a trigraph's `#` must not match");
    json_decref(bad);
    cr_expect_eq(suga_table_release(&golden_main_table), SUGA_OK);
}
