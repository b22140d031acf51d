/* The status table (runtime/suga_status.def), in the manner of systemd's test-errno-list: every
 * row round-trips name → status → name, values that are not statuses get the documented
 * fallbacks, and the codes are the ones docs/architecture.md and suga.h promise, written out
 * here again so that a change to the table is a change to this test too. */
#include <criterion/criterion.h>
#include <string.h>

#include "suga.h"

static const struct {
    suga_status status;
    const char *name;
} rows[] = {
#define SUGA_STATUS(id, name, http, lambda_error_type, alexa_error_type) {id, name},
#include "suga_status.def"
};

Test(status, every_row_round_trips)
{
    cr_assert_eq(sizeof rows / sizeof *rows, (size_t)SUGA_STATUS__COUNT, "one row per status");
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        cr_assert_eq(rows[i].status, (suga_status)i, "%s: the rows are in enum order", rows[i].name);
        cr_assert_str_eq(suga_status_name(rows[i].status), rows[i].name);
        suga_status back = SUGA_STATUS__COUNT;
        cr_assert_eq(suga_status_from_name(rows[i].name, &back), SUGA_OK, "%s", rows[i].name);
        cr_assert_eq(back, rows[i].status, "%s", rows[i].name);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(rows[i].name, rows[j].name, "two statuses named alike");
    }
}

Test(status, what_is_not_a_status)
{
    cr_assert_str_eq(suga_status_name(SUGA_STATUS__COUNT), "unknown_status");
    cr_assert_str_eq(suga_status_name((suga_status)-1), "unknown_status");
    cr_assert_eq(suga_status_http(SUGA_STATUS__COUNT), 500);
    cr_assert_str_eq(suga_status_lambda_error_type(SUGA_STATUS__COUNT), "InternalError");
    cr_assert_str_eq(suga_status_alexa_error_type((suga_status)-1), "INTERNAL_ERROR");
    suga_status out = SUGA_E_IO;
    cr_assert_eq(suga_status_from_name("unknown_status", &out), SUGA_E_NOT_FOUND);
    cr_assert_eq(suga_status_from_name("OK", &out), SUGA_E_NOT_FOUND, "names are lower-case, exactly");
    cr_assert_eq(suga_status_from_name("", &out), SUGA_E_NOT_FOUND);
    cr_assert_eq(out, SUGA_E_IO, "left untouched");
    cr_assert_eq(suga_status_from_name(NULL, &out), SUGA_E_INVALID_ARG);
    cr_assert_eq(suga_status_from_name("ok", NULL), SUGA_E_INVALID_ARG);
}

Test(status, codes_as_documented)
{
    static const struct {
        suga_status status;
        const char *name;
        int http;
        const char *lambda, *alexa;
    } documented[] = {
        {SUGA_OK, "ok", 200, "InternalError", "INTERNAL_ERROR"}, /* no error: the fallbacks */
        {SUGA_E_NOT_FOUND, "not_found", 404, "NotFound", "INVALID_DIRECTIVE"},
        {SUGA_E_INVALID_ARG, "invalid_arg", 400, "InvalidArgument", "INVALID_DIRECTIVE"},
        {SUGA_E_HANDLER, "handler_error", 500, "HandlerError", "INTERNAL_ERROR"},
        {SUGA_E_NOMEM, "out_of_memory", 500, "OutOfMemory", "INTERNAL_ERROR"},
        {SUGA_E_STATE, "bad_state", 500, "InvalidState", "INTERNAL_ERROR"},
        {SUGA_E_LIMIT, "limit_exceeded", 413, "LimitExceeded", "INTERNAL_ERROR"},
        {SUGA_E_IO, "io_error", 500, "IOError", "INTERNAL_ERROR"},
        {SUGA_E_INTERNAL, "internal_error", 500, "InternalError", "INTERNAL_ERROR"},
        {SUGA_E_BUDGET, "budget_exhausted", 429, "BudgetExhausted", "RATE_LIMIT_EXCEEDED"},
        {SUGA_E_UNAVAILABLE, "unavailable", 503, "Unavailable", "ENDPOINT_UNREACHABLE"},
    };
    cr_assert_eq(sizeof documented / sizeof *documented, (size_t)SUGA_STATUS__COUNT,
                 "a new status needs its documented codes here and in docs/architecture.md");
    for (size_t i = 0; i < sizeof documented / sizeof *documented; i++) {
        suga_status s = documented[i].status;
        cr_expect_str_eq(suga_status_name(s), documented[i].name);
        cr_expect_eq(suga_status_http(s), documented[i].http, "%s", documented[i].name);
        cr_expect_str_eq(suga_status_lambda_error_type(s), documented[i].lambda, "%s", documented[i].name);
        cr_expect_str_eq(suga_status_alexa_error_type(s), documented[i].alexa, "%s", documented[i].name);
    }
}
