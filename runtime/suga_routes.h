/* suga_routes.h: events → operations, through the routes declared in the spec (spec: routes) and
 * compiled into the table (suga_table.http_routes, alexa_routes, skill_routes). Table-generic:
 * any generated table works; nothing here allocates except suga_describe_routes.
 *
 * HTTP (Lambda Function URL, API Gateway): the method and the path must both match a route
 * exactly, byte for byte: methods are case-sensitive ("GET", never "get") and paths are not
 * decoded or normalised. The caller passes the path alone: it strips the query string ("?..."),
 * and a trailing '/' (except for "/" itself), before the lookup; a route never holds either.
 * HEAD does not fall back to GET: a HEAD route is declared like any other.
 *
 *     bool not_allowed;
 *     const suga_op *op;
 *     st = suga_route_http(t, "GET", path, path_len, &op, &not_allowed);
 *     if (st == SUGA_OK)              -> call op
 *     else if (st == SUGA_E_NOT_FOUND) -> 405 if not_allowed (Allow: suga_route_http_allow), else 404
 *
 * Alexa Smart Home directives: (directive.header.namespace, directive.header.name). An exact
 * route wins over the namespace's wildcard (namespace, "*"), which wins over the catch-all
 * ("*", "*"). Names are compared exactly (case-sensitive); an input "*" is not a wildcard, it
 * matches only routes whose namespace or name is the wildcard.
 *
 * Alexa custom skill requests: request.type ("LaunchRequest", "IntentRequest",
 * "SessionEndedRequest", "AudioPlayer.PlaybackStarted" ...), exact routes before "*".
 *
 * Errors are values: SUGA_E_INVALID_ARG for a NULL table or argument (out-parameters
 * documented "may be NULL" excepted), SUGA_E_NOT_FOUND when no route matches, SUGA_E_INTERNAL when
 * a route names an operation id the table does not have (a suga bug, never bad input).
 */
#ifndef SUGA_ROUTES_H
#define SUGA_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "suga_table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The operation routed to by (method, path); path is path_len bytes, need not be NUL-terminated.
 * *op is set (NULL unless SUGA_OK). SUGA_E_NOT_FOUND when no route matches; when the path has a
 * route under another method it is SUGA_E_NOT_FOUND too, but *method_not_allowed (may be NULL)
 * is set to true, so the caller can answer 405 rather than 404. */
suga_status suga_route_http(const suga_table *t, const char *method, const char *path, size_t path_len,
                            const suga_op **op, bool *method_not_allowed);

/* The methods that have a route for `path`, for a 405's Allow header: "GET, HEAD" (in byte
 * order, ", "-separated) into out[size]. SUGA_E_NOT_FOUND (out = "") when no route has that path,
 * SUGA_E_LIMIT (out = "") when the list does not fit. */
suga_status suga_route_http_allow(const suga_table *t, const char *path, size_t path_len, char *out, size_t size);

/* The operation routed to by an Alexa directive's namespace and name (most specific route
 * first), and the route's on_error operation (NULL when it has none; on_error may be NULL when
 * not wanted). *op is set (NULL unless SUGA_OK). */
suga_status suga_route_alexa(const suga_table *t, const char *namespace_name, const char *name, const suga_op **op,
                             const suga_op **on_error);

/* The operation routed to by a custom skill request's type (request.type; an exact route before
 * "*"), and its on_error operation, as for suga_route_alexa. */
suga_status suga_route_alexa_skill(const suga_table *t, const char *request_type, const suga_op **op,
                                   const suga_op **on_error);

/* The routes as JSON, for suga-inspect: {"http": [{"method", "path", "op", "id", "source"}...],
 * "alexa": [{"namespace", "name", "op", "id", "source", "on_error"?}...], "alexa_skill":
 * [{"request", "op", "id", "source", "on_error"?}...]}, each list in table order (the order the
 * lookups search). *out is a new reference. */
suga_status suga_describe_routes(const suga_table *t, json_t **out);

#ifdef __cplusplus
}
#endif

#endif
