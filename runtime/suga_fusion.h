/* suga_fusion.h: running fusions (spec/fusions.yaml) and batch requests on a generated table.
 *
 * A fusion is a fixed sequence of operations compiled by suga-gen into step arrays whose
 * operation ids and argument bindings are already resolved; running one is one call here, with
 * one validation pass of the fusion's input and one of each step's arguments. A batch request
 * runs several independent operations or fusions in one call and reports one result per item.
 *
 * Both are single entry points on purpose: the request-level stages (free-tier guard, the log
 * record, metrics) belong around suga_table_run_fusion / suga_table_run_batch, once per fusion
 * or batch, not around each step. The steps and items go through suga_table_call_op_json and
 * suga_table_call_json, so those must stay free of request-level stages.
 *
 * Errors are values, as everywhere in libsuga: every function returns a suga_status and leaves
 * the message in ctx->error; nothing aborts on bad input.
 */
#ifndef SUGA_FUSION_H
#define SUGA_FUSION_H

#include <jansson.h>
#include <stddef.h>

#include "suga_table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most items a batch request may carry; more is refused with SUGA_E_LIMIT (split the request). */
#define SUGA_BATCH_MAX_ITEMS 100

/* name → fusion of `table` (a linear scan: tables hold a handful of fusions, and a fusion is
 * worth several calls). SUGA_E_NOT_FOUND for unknown names, SUGA_E_INVALID_ARG for NULLs. */
suga_status suga_table_find_fusion(const suga_table *table, const char *name, size_t len, const suga_fusion **out);

/* Run `fusion`, whose step ids index table->ops (a fusion of that table, or one built against
 * it). `input` is a JSON object or NULL (= {}), validated against fusion->params with the rules
 * of operation arguments (messages start with "fusion NAME: "); it is borrowed.
 * On success *result (a new reference, NULL = JSON null) is the last step's result: a fusion
 * answers like the one operation it stands for; the earlier results are only what later steps
 * bind to ($steps.N.result...), kept in a C array, not built into the answer. On failure *result is NULL,
 * and for a failing step the message reads "fusion NAME: step N (OP): <the step's message>". */
suga_status suga_table_run_fusion(const suga_table *table, suga_ctx *ctx, const suga_fusion *fusion, json_t *input,
                                  json_t **result);

/* Run a batch request (borrowed):
 *   {"batch": [{"op": "iface.op", "args": {...}} | {"fusion": "name", "args": {...}}, ...],
 *    "stop_on_error": false}
 * 1 .. SUGA_BATCH_MAX_ITEMS items, each run independently with its own copy of ctx (request id,
 * correlation id and deadline are kept). *result (a new reference) is
 *   {"results": [{"ok": true, "result": ...} | {"ok": false, "error": {"status", "message"}}
 *                | {"skipped": true}, ...], "succeeded": n, "failed": n, "skipped": n}
 * A failing or malformed item gives an error entry and the others still run; with
 * stop_on_error the items after the first failure are reported as skipped. Returns SUGA_OK
 * whenever the request as a whole was well-formed, else an error (and *result NULL). */
suga_status suga_table_run_batch(const suga_table *table, suga_ctx *ctx, json_t *request, json_t **result);

#ifdef __cplusplus
}
#endif

#endif
