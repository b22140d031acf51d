/* routes.c: event → operation through the table's routes (suga_routes.h). The generator sorts
 * the routes for these lookups: HTTP by method then path, so (method, path) is found by
 * bisection; Alexa directives and custom skill requests most specific first, so the first match
 * is the answer. */
#include <string.h>

#include "suga_routes.h"

/* A route path (NUL-terminated) against a request path of `len` bytes, in the order the
 * generator sorted with strcmp (route paths hold no NUL byte). */
static int cmp_path(const char *route_path, const char *path, size_t len)
{
    size_t route_len = strlen(route_path);
    int c = memcmp(route_path, path, route_len < len ? route_len : len);
    return c ? c : (route_len > len) - (route_len < len);
}

static suga_status found(const suga_table *t, uint16_t id, const suga_op **op)
{
    if (id >= t->op_count)
        return SUGA_E_INTERNAL;
    *op = &t->ops[id];
    return SUGA_OK;
}

/* A route's operation and its on_error operation (*on_error may be NULL: not wanted). */
static suga_status found_pair(const suga_table *t, uint16_t id, uint16_t error_id, const suga_op **op,
                              const suga_op **on_error)
{
    if (on_error && error_id != SUGA_NO_OP && found(t, error_id, on_error) != SUGA_OK)
        return SUGA_E_INTERNAL;
    return found(t, id, op);
}

suga_status suga_route_http(const suga_table *t, const char *method, const char *path, size_t path_len,
                            const suga_op **op, bool *method_not_allowed)
{
    if (method_not_allowed)
        *method_not_allowed = false;
    if (op)
        *op = NULL;
    if (!t || !method || !path || !op)
        return SUGA_E_INVALID_ARG;
    uint32_t lo = 0, hi = t->http_routes ? t->http_route_count : 0;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const suga_http_route *r = &t->http_routes[mid];
        int c = strcmp(r->method, method);
        if (!c)
            c = cmp_path(r->path, path, path_len);
        if (!c)
            return found(t, r->op, op);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* the rare answer: is it the method that is wrong (405) or the path (404)? */
    for (uint32_t i = 0; method_not_allowed && t->http_routes && i < t->http_route_count; i++)
        if (!cmp_path(t->http_routes[i].path, path, path_len))
            *method_not_allowed = true;
    return SUGA_E_NOT_FOUND;
}

suga_status suga_route_http_allow(const suga_table *t, const char *path, size_t path_len, char *out, size_t size)
{
    if (!t || !path || !out || !size)
        return SUGA_E_INVALID_ARG;
    size_t used = 0;
    out[0] = '\0';
    for (uint32_t i = 0; t->http_routes && i < t->http_route_count; i++) {
        const suga_http_route *r = &t->http_routes[i];
        if (cmp_path(r->path, path, path_len))
            continue;
        size_t need = strlen(r->method) + (used ? 2 : 0);
        if (used + need >= size) {
            out[0] = '\0';
            return SUGA_E_LIMIT;
        }
        memcpy(out + used, ", ", used ? 2 : 0);
        memcpy(out + used + (used ? 2 : 0), r->method, strlen(r->method) + 1);
        used += need;
    }
    return used ? SUGA_OK : SUGA_E_NOT_FOUND;
}

static bool part_matches(const char *route, const char *value)
{
    return !strcmp(route, "*") || !strcmp(route, value);
}

suga_status suga_route_alexa(const suga_table *t, const char *namespace_name, const char *name, const suga_op **op,
                             const suga_op **on_error)
{
    if (op)
        *op = NULL;
    if (on_error)
        *on_error = NULL;
    if (!t || !namespace_name || !name || !op)
        return SUGA_E_INVALID_ARG;
    for (uint32_t i = 0; t->alexa_routes && i < t->alexa_route_count; i++) {
        const suga_alexa_route *r = &t->alexa_routes[i];
        if (part_matches(r->namespace_name, namespace_name) && part_matches(r->name, name))
            return found_pair(t, r->op, r->on_error, op, on_error);
    }
    return SUGA_E_NOT_FOUND;
}

suga_status suga_route_alexa_skill(const suga_table *t, const char *request_type, const suga_op **op,
                                   const suga_op **on_error)
{
    if (op)
        *op = NULL;
    if (on_error)
        *on_error = NULL;
    if (!t || !request_type || !op)
        return SUGA_E_INVALID_ARG;
    for (uint32_t i = 0; t->skill_routes && i < t->skill_route_count; i++) {
        const suga_skill_route *r = &t->skill_routes[i];
        if (part_matches(r->request, request_type))
            return found_pair(t, r->op, r->on_error, op, on_error);
    }
    return SUGA_E_NOT_FOUND;
}

/* One route as JSON: its key (k1, and k2 unless NULL), the operation by name and id ("?" for an
 * id the table does not have). */
static json_t *route_json(const suga_table *t, const char *k1, const char *v1, const char *k2, const char *v2,
                          uint16_t id, const char *source)
{
    json_t *route = json_pack("{s:s, s:s, s:i, s:s?}", k1, v1, "op", id < t->op_count ? t->ops[id].name : "?", "id",
                              (int)id, "source", source);
    if (route && k2 && json_object_set_new(route, k2, json_string(v2))) {
        json_decref(route);
        return NULL;
    }
    return route;
}

/* `route` (consumed) with "on_error": the operation's name, when the route has one. */
static json_t *with_on_error(const suga_table *t, json_t *route, uint16_t on_error)
{
    if (route && on_error != SUGA_NO_OP &&
        json_object_set_new(route, "on_error", json_string(on_error < t->op_count ? t->ops[on_error].name : "?"))) {
        json_decref(route);
        return NULL;
    }
    return route;
}

suga_status suga_describe_routes(const suga_table *t, json_t **out)
{
    if (!t || !out)
        return SUGA_E_INVALID_ARG;
    json_t *http = json_array(), *alexa = json_array(), *skill = json_array();
    bool bad = !http || !alexa || !skill;
    for (uint32_t i = 0; !bad && t->http_routes && i < t->http_route_count; i++) {
        const suga_http_route *r = &t->http_routes[i];
        bad = json_array_append_new(http, route_json(t, "method", r->method, "path", r->path, r->op, r->source));
    }
    for (uint32_t i = 0; !bad && t->alexa_routes && i < t->alexa_route_count; i++) {
        const suga_alexa_route *r = &t->alexa_routes[i];
        bad = json_array_append_new(alexa, with_on_error(t, route_json(t, "namespace", r->namespace_name, "name",
                                                                        r->name, r->op, r->source),
                                                         r->on_error));
    }
    for (uint32_t i = 0; !bad && t->skill_routes && i < t->skill_route_count; i++) {
        const suga_skill_route *r = &t->skill_routes[i];
        bad = json_array_append_new(skill, with_on_error(t, route_json(t, "request", r->request, NULL, NULL, r->op,
                                                                        r->source),
                                                         r->on_error));
    }
    json_t *doc = bad ? NULL : json_object();
    if (!doc) {
        json_decref(http);
        json_decref(alexa);
        json_decref(skill);
        return SUGA_E_NOMEM;
    }
    /* json_object_set_new takes the reference whether it succeeds or not */
    bad = json_object_set_new(doc, "http", http);
    bad |= json_object_set_new(doc, "alexa", alexa);
    bad |= json_object_set_new(doc, "alexa_skill", skill);
    if (bad) {
        json_decref(doc);
        return SUGA_E_NOMEM;
    }
    *out = doc;
    return SUGA_OK;
}
