/* validate.c: stage 2 of suga-gen. Rules that need the whole model, then ids.
 *
 * - duplicate interface and fusion names across files; modules declared twice must agree;
 * - module dependencies must name declared modules and form no cycle, eager modules may only
 *   depend on eager ones; the init order (dependencies first) is computed here;
 * - an operation's breaker must be declared under limits.breakers;
 * - handler symbols and every generated C identifier must be unique;
 * - defaults and fusion literals are checked with the runtime's own suga_check_value;
 * - patterns must compile; bounds must be ordered; fast_path needs an eager module;
 * - fusion steps must name known operations, bind every required argument, and only refer to
 *   fusion inputs and earlier steps;
 * - lifecycle hooks must name known operations callable without arguments, once per phase;
 * - routes must name known operations and be unique (method and path; namespace and name); they
 *   are sorted into the order runtime/routes.c searches them;
 * - at most SUGA_MAX_OPERATIONS operations; ids are assigned in name order (deterministic).
 */
#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "suga_table.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

void gen_model_init(gen_model *m, FILE *diag_out)
{
    memset(m, 0, sizeof *m);
    m->diag.out = diag_out;
    gen_limits_defaults(&m->limits);
}

void gen_limits_defaults(gen_limits *l)
{
    memset(l, 0, sizeof *l);
    l->requests_per_month = 1000000;
    l->gb_seconds_per_month = 400000;
    l->warn_percent = 80;
    l->throttle_percent = 90;
    l->block_percent = 95;
    l->memory_unload_above_mb = 0;
    l->memory_unload_above_percent = 75;
    /* without `names`, what the engine records and nothing else (the names are never written) */
    l->metric_names = suga_engine_metric_names;
    l->metric_name_count = SUGA_ENGINE_METRIC__COUNT;
}

void gen_model_free(gen_model *m)
{
    gen_arena_free(&m->arena);
}

static const char *const C_RESERVED[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
    "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
    "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
    "volatile", "while", "bool", "true", "false", "alignas", "alignof", "noreturn", "static_assert",
    "thread_local", "NULL", "errno", "main",
};

static bool c_reserved(const char *s)
{
    for (size_t i = 0; i < COUNT(C_RESERVED); i++)
        if (!strcmp(C_RESERVED[i], s))
            return true;
    return s[0] == '_' && (s[1] == '_' || isupper((unsigned char)s[1]));
}

static char *upper(gen_arena *a, const char *s)
{
    char *u = gen_strdup(a, s);
    for (char *c = u; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    return u;
}

/* ------------------------------------------------------------------ identifier uniqueness */

typedef struct ident {
    const char *name;  /* the generated C identifier or symbol */
    const char *owner; /* what generates it, for the message */
    gen_loc loc;
    size_t order;      /* input order, so the later declaration gets the error */
} ident;

static int cmp_ident(const void *a, const void *b)
{
    const ident *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int cmp_ident_order(const void *a, const void *b)
{
    const ident *x = a, *y = b;
    return (x->order > y->order) - (x->order < y->order);
}

/* Reports every identifier generated twice, at the later declaration. `what` distinguishes
 * handler symbols (written by the user) from derived names. */
static void check_unique(gen_model *m, ident *ids, size_t n, const char *what)
{
    qsort(ids, n, sizeof *ids, cmp_ident);
    ident *dups = gen_alloc_array(&m->arena, n ? n : 1, sizeof *dups);
    size_t n_dups = 0, first = 0;
    for (size_t i = 1; i < n; i++) {
        if (strcmp(ids[i].name, ids[first].name)) {
            first = i;
            continue;
        }
        dups[n_dups] = ids[i];
        dups[n_dups++].owner = gen_printf(&m->arena, "%s '%s' of %s is already used by %s (%s:%d:%d)", what,
                                          ids[i].name, ids[i].owner, ids[first].owner, ids[first].loc.file,
                                          ids[first].loc.line, ids[first].loc.col);
    }
    qsort(dups, n_dups, sizeof *dups, cmp_ident_order);
    for (size_t i = 0; i < n_dups; i++)
        gen_error(&m->diag, dups[i].loc, "%s", dups[i].owner);
}

/* Position in the inputs (file, then line and column), so the later declaration is blamed. */
static size_t input_order(const gen_model *m, gen_loc loc)
{
    size_t order = ((size_t)loc.line << 12) + (size_t)(loc.col < 4095 ? loc.col : 4095);
    for (size_t f = 0; f < m->input_count; f++)
        if (loc.file && !strcmp(m->inputs[f], loc.file))
            order += f << 40;
    return order;
}

static void check_identifiers(gen_model *m)
{
    size_t cap = 0;
    for (size_t i = 0; i < m->op_count; i++) {
        cap += 2;
        for (size_t j = 0; j < m->ops[i]->param_count; j++)
            cap += m->ops[i]->params[j].enum_count + (m->ops[i]->params[j].type == SUGA_T_ENUM);
    }
    ident *handlers = gen_alloc_array(&m->arena, m->op_count ? m->op_count : 1, sizeof *handlers);
    cap += m->limits.metric_name_count + 1;
    ident *derived = gen_alloc_array(&m->arena, cap ? cap : 1, sizeof *derived);
    size_t n_derived = 0;
    for (size_t i = 0; i < m->op_count; i++) {
        gen_op *op = m->ops[i];
        const char *owner = gen_printf(&m->arena, "operation %s", op->full_name);
        size_t order = input_order(m, op->loc);
        handlers[i] = (ident){.name = op->handler, .owner = owner, .loc = op->handler_loc, .order = order};
        /* suga_handle_ is the handlers' own corner of the runtime's prefix: libsuga exports only suga_*
         * symbols, handlers included */
        bool runtime_name = (!strncmp(op->handler, "suga_", 5) && strncmp(op->handler, "suga_handle_", 12)) ||
                            !strncmp(op->handler, "SUGA_", 5);
        if (c_reserved(op->handler) || runtime_name)
            gen_error(&m->diag, op->handler_loc,
                      "handler '%s' of %s is reserved (C keywords and names starting with 'suga_', other than "
                      "'suga_handle_', cannot be handlers)",
                      op->handler, op->full_name);
        char *base = gen_printf(&m->arena, "%s_%s", op->iface->name, op->name);
        derived[n_derived++] = (ident){.name = gen_printf(&m->arena, "SUGA_OP_%s", upper(&m->arena, base)),
                                       .owner = owner, .loc = op->loc, .order = order};
        derived[n_derived++] = (ident){.name = gen_printf(&m->arena, "suga_args_%s", base), .owner = owner,
                                       .loc = op->loc, .order = order};
        for (size_t j = 0; j < op->param_count; j++) {
            gen_param *p = &op->params[j];
            /* the enum's type: two params can name the same one with different values */
            if (p->type == SUGA_T_ENUM)
                derived[n_derived++] = (ident){.name = gen_printf(&m->arena, "suga_enum_%s_%s", base, p->name),
                                               .owner = gen_printf(&m->arena, "arg '%s' of %s", p->name, op->full_name),
                                               .loc = p->loc,
                                               .order = order + j};
            for (size_t k = 0; k < p->enum_count; k++)
                derived[n_derived++] = (ident){
                    .name = gen_printf(&m->arena, "SUGA_%s_%s_%s", upper(&m->arena, base), upper(&m->arena, p->name),
                                       upper(&m->arena, p->enum_values[k])),
                    .owner = gen_printf(&m->arena, "arg '%s' of %s", p->name, op->full_name),
                    .loc = p->enum_loc,
                    .order = order + j};
        }
    }
    /* the metric ids (suga_metric_id, suga_ops.h): upper case, and the '.' and '-' that metric
     * names may have become '_', so names that differ only there collide, as does '_count' with
     * the count of ids */
    gen_limits *l = &m->limits;
    l->metric_constants = gen_alloc_array(&m->arena, l->metric_name_count ? l->metric_name_count : 1, sizeof(char *));
    derived[n_derived++] = (ident){.name = "SUGA_METRIC__COUNT", .owner = "the count of metric ids (suga_metric_id)",
                                   .loc = l->loc.file ? l->loc : (gen_loc){"suga-gen", 0, 0}, .order = 0};
    for (size_t i = 0; i < l->metric_name_count; i++) {
        bool repeated = false; /* a name declared twice is check_limits' to report, as such */
        for (size_t j = 0; j < i && !repeated; j++)
            repeated = !strcmp(l->metric_names[i], l->metric_names[j]);
        char *c = upper(&m->arena, gen_printf(&m->arena, "SUGA_METRIC_%s", l->metric_names[i]));
        for (char *q = c; *q; q++)
            *q = *q == '.' || *q == '-' ? '_' : *q;
        l->metric_constants[i] = c;
        if (repeated)
            continue;
        gen_loc loc = l->metric_name_locs ? l->metric_name_locs[i] : l->loc;
        derived[n_derived++] = (ident){.name = c, .owner = gen_printf(&m->arena, "metric '%s'", l->metric_names[i]),
                                       .loc = loc, .order = input_order(m, loc)};
    }
    check_unique(m, handlers, m->op_count, "handler");
    check_unique(m, derived, n_derived, "generated identifier");
}

/* ------------------------------------------------------------------ params */

/* The runtime's view of a parsed param, so suga_check_value can judge defaults and literals. */
static suga_param runtime_param(const gen_param *g)
{
    return (suga_param){
        .name = g->name,
        .type = g->type,
        .has_min = g->has_min,
        .has_max = g->has_max,
        .has_max_len = g->has_max_len,
        .int_min = g->imin,
        .int_max = g->imax,
        .num_min = g->min,
        .num_max = g->max,
        .max_len = g->max_len,
        .pattern = g->pattern,
        .enum_values = (const char *const *)g->enum_values,
        .enum_count = (uint16_t)g->enum_count,
    };
}

static bool check_json_value(gen_model *m, gen_loc loc, const char *owner, const gen_param *g, const char *json,
                             const char *label)
{
    json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
    if (!v) {
        gen_error(&m->diag, loc, "out of memory while checking a value");
        return false;
    }
    suga_param rp = runtime_param(g);
    suga_ctx ctx;
    suga_ctx_init(&ctx);
    suga_status st = suga_check_value(&ctx, owner, &rp, v);
    json_decref(v);
    if (st != SUGA_OK) {
        gen_error(&m->diag, loc, "%s: %s", label, ctx.error);
        return false;
    }
    return true;
}

static void check_params(gen_model *m, gen_param *params, size_t count, const char *owner, bool fields)
{
    for (size_t i = 0; i < count; i++) {
        gen_param *p = &params[i];
        if (fields && c_reserved(p->name))
            gen_error(&m->diag, p->loc, "param name '%s' of %s is reserved in C (it becomes a struct field)", p->name,
                      owner);
        if (p->has_min && p->has_max && (p->type == SUGA_T_INT ? p->imin > p->imax : p->min > p->max))
            gen_error(&m->diag, p->max_loc, "'max' (%.17g) of param '%s' of %s is less than its 'min' (%.17g)", p->max,
                      p->name, owner, p->min);
        if (p->pattern) {
            regex_t re;
            int rc = regcomp(&re, p->pattern, REG_EXTENDED | REG_NOSUB);
            if (rc != 0) {
                char why[128];
                regerror(rc, &re, why, sizeof why);
                gen_error(&m->diag, p->pattern_loc, "bad regex in 'pattern' of param '%s' of %s: %s", p->name, owner,
                          why);
                p->pattern = NULL; /* do not let the default check trip over it again */
            } else {
                regfree(&re);
            }
        }
        if (p->has_default)
            check_json_value(m, p->default_loc, owner, p, p->default_json, "invalid default");
        /* `x` optional without default gets a `has_x` flag: a param called has_x would clash */
        if (fields && !p->required && !p->has_default) {
            for (size_t j = 0; j < count; j++) {
                if (!strncmp(params[j].name, "has_", 4) && !strcmp(params[j].name + 4, p->name))
                    gen_error(&m->diag, params[j].loc,
                              "param '%s' of %s clashes with the presence flag generated for optional param '%s'",
                              params[j].name, owner, p->name);
            }
        }
    }
}

/* ------------------------------------------------------------------ interfaces and modules */

static int cmp_op_name(const void *a, const void *b)
{
    return strcmp((*(gen_op *const *)a)->full_name, (*(gen_op *const *)b)->full_name);
}

static int cmp_module_name(const void *a, const void *b)
{
    return strcmp((*(gen_module *const *)a)->name, (*(gen_module *const *)b)->name);
}

static void check_module(gen_model *m, gen_module *mod)
{
    if (mod->unload == SUGA_UNLOAD_IDLE && !mod->has_idle_seconds)
        gen_error(&m->diag, mod->loc, "module '%s' has unload: idle but no 'idle_seconds'", mod->name);
    if (mod->unload != SUGA_UNLOAD_IDLE && mod->has_idle_seconds)
        gen_error(&m->diag, mod->idle_loc, "'idle_seconds' only applies to unload: idle (module '%s' has unload: %s)",
                  mod->name, suga_unload_names[mod->unload]);
}

static bool same_module(const gen_module *a, const gen_module *b)
{
    return a->load == b->load && a->unload == b->unload && a->idle_seconds == b->idle_seconds &&
           !strcmp(a->category, b->category);
}

/* depends_on is a set: the order it is written in does not change the init order. */
static bool same_dependencies(const gen_module *a, const gen_module *b)
{
    if (a->depends_count != b->depends_count)
        return false;
    for (size_t i = 0; i < a->depends_count; i++) {
        bool found = false;
        for (size_t j = 0; j < b->depends_count && !found; j++)
            found = !strcmp(a->depends_on[i].name, b->depends_on[j].name);
        if (!found)
            return false;
    }
    return true;
}

static const char *dependency_list(gen_model *m, const gen_module *mod)
{
    const char *list = "";
    for (size_t i = 0; i < mod->depends_count; i++)
        list = gen_printf(&m->arena, "%s%s%s", list, i ? ", " : "", mod->depends_on[i].name);
    return list;
}

static void collect_modules(gen_model *m)
{
    gen_module **all = gen_alloc_array(&m->arena, m->interface_count ? m->interface_count : 1, sizeof *all);
    size_t n = 0;
    for (size_t i = 0; i < m->interface_count; i++) {
        gen_module *mod = &m->interfaces[i].module;
        check_module(m, mod);
        gen_module *seen = NULL;
        for (size_t j = 0; j < n && !seen; j++)
            if (!strcmp(all[j]->name, mod->name))
                seen = all[j];
        if (!seen) {
            mod->declared = n;
            all[n++] = mod;
        } else if (!same_module(seen, mod)) {
            gen_error(&m->diag, mod->loc,
                      "module '%s' is declared differently here than at %s:%d:%d (load, unload, idle_seconds and category must match)",
                      mod->name, seen->loc.file, seen->loc.line, seen->loc.col);
        } else if (!same_dependencies(seen, mod)) {
            gen_error(&m->diag, mod->depends_loc.line ? mod->depends_loc : mod->loc,
                      "module '%s' has depends_on [%s] here but [%s] at %s:%d:%d (every declaration of a module must list the same dependencies)",
                      mod->name, dependency_list(m, mod), dependency_list(m, seen), seen->loc.file, seen->loc.line,
                      seen->loc.col);
        }
    }
    qsort(all, n, sizeof *all, cmp_module_name);
    m->modules = all;
    m->module_count = n;
    for (size_t i = 0; i < m->interface_count; i++) {
        gen_interface *iface = &m->interfaces[i];
        for (size_t j = 0; j < n; j++) {
            if (!strcmp(all[j]->name, iface->module.name)) {
                for (size_t k = 0; k < iface->op_count; k++)
                    iface->ops[k].module_index = (uint16_t)j;
            }
        }
    }
}

/* ------------------------------------------------------------------ module dependencies */

static size_t find_module(const gen_model *m, const char *name)
{
    size_t lo = 0, hi = m->module_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->modules[mid]->name, name);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

/* Resolves each depends_on name to a module index. Returns false when any is unusable, so the
 * graph checks below only ever see real, distinct modules. */
static bool resolve_dependencies(gen_model *m)
{
    bool ok = true;
    const char **names = gen_alloc_array(&m->arena, m->module_count ? m->module_count : 1, sizeof *names);
    for (size_t i = 0; i < m->module_count; i++)
        names[i] = m->modules[i]->name;
    for (size_t i = 0; i < m->module_count; i++) {
        gen_module *mod = m->modules[i];
        for (size_t k = 0; k < mod->depends_count; k++) {
            gen_ref *ref = &mod->depends_on[k];
            size_t target = find_module(m, ref->name);
            char hint[96];
            if (target == SIZE_MAX) {
                gen_error(&m->diag, ref->loc, "module '%s' depends on unknown module '%s'%s", mod->name, ref->name,
                          gen_did_you_mean(hint, sizeof hint, ref->name, names, m->module_count));
                ok = false;
            } else if (target == i) {
                gen_error(&m->diag, ref->loc, "module '%s' depends on itself", mod->name);
                ok = false;
            } else if (mod->load == SUGA_LOAD_EAGER && m->modules[target]->load == SUGA_LOAD_LAZY) {
                gen_error(&m->diag, ref->loc,
                          "module '%s' is load: eager but depends on '%s', which is load: lazy (eager modules are initialised at start-up, before any lazy module is loaded)",
                          mod->name, ref->name);
                ok = false;
            } else {
                ref->id = (uint16_t)target;
            }
        }
    }
    return ok;
}

/* Depth-first search without recursion (a generated spec can hold thousands of modules):
 * every edge back to a module still on the path closes a cycle, reported at that edge. */
static bool check_dependency_cycles(gen_model *m)
{
    size_t n = m->module_count;
    unsigned char *colour = gen_alloc(&m->arena, n ? n : 1); /* 0 new, 1 on the path, 2 done */
    size_t *path = gen_alloc_array(&m->arena, n ? n : 1, sizeof *path);
    size_t *next_edge = gen_alloc_array(&m->arena, n ? n : 1, sizeof *next_edge);
    bool ok = true;
    for (size_t root = 0; root < n; root++) {
        if (colour[root])
            continue;
        size_t depth = 0;
        path[depth++] = root;
        colour[root] = 1;
        next_edge[root] = 0;
        while (depth) {
            size_t u = path[depth - 1];
            gen_module *mod = m->modules[u];
            if (next_edge[u] == mod->depends_count) {
                colour[u] = 2;
                depth--;
                continue;
            }
            gen_ref *ref = &mod->depends_on[next_edge[u]++];
            size_t v = ref->id;
            if (colour[v] == 0) {
                colour[v] = 1;
                next_edge[v] = 0;
                path[depth++] = v;
            } else if (colour[v] == 1) {
                size_t from = depth - 1;
                while (path[from] != v)
                    from--;
                const char *text = m->modules[v]->name;
                for (size_t k = from + 1; k < depth; k++)
                    text = gen_printf(&m->arena, "%s -> %s", text, m->modules[path[k]]->name);
                gen_error(&m->diag, ref->loc, "module dependency cycle: %s -> %s", text, m->modules[v]->name);
                ok = false;
            }
        }
    }
    return ok;
}

/* Binary min-heap of module indexes keyed by declaration position: among the modules whose
 * dependencies are all initialised, the one declared first goes next. */
typedef struct ready_heap {
    size_t *items;
    size_t count;
    const gen_model *m;
} ready_heap;

static bool heap_before(const ready_heap *h, size_t a, size_t b)
{
    return h->m->modules[h->items[a]]->declared < h->m->modules[h->items[b]]->declared;
}

static void heap_swap(ready_heap *h, size_t a, size_t b)
{
    size_t t = h->items[a];
    h->items[a] = h->items[b];
    h->items[b] = t;
}

static void heap_push(ready_heap *h, size_t module)
{
    size_t i = h->count++;
    h->items[i] = module;
    while (i && heap_before(h, i, (i - 1) / 2)) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static size_t heap_pop(ready_heap *h)
{
    size_t top = h->items[0];
    h->items[0] = h->items[--h->count];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < h->count && heap_before(h, l, best))
            best = l;
        if (r < h->count && heap_before(h, r, best))
            best = r;
        if (best == i)
            break;
        heap_swap(h, i, best);
        i = best;
    }
    return top;
}

/* Kahn's algorithm over an acyclic graph: dependencies first, ties by declaration order, so
 * the order does not depend on module names and is the same on every run. */
static void compute_init_order(gen_model *m)
{
    size_t n = m->module_count;
    size_t *waiting = gen_alloc_array(&m->arena, n ? n : 1, sizeof *waiting); /* dependencies not yet placed */
    size_t *first = gen_alloc_array(&m->arena, n + 1, sizeof *first);          /* dependents, as CSR */
    size_t edges = 0;
    for (size_t i = 0; i < n; i++) {
        waiting[i] = m->modules[i]->depends_count;
        for (size_t k = 0; k < m->modules[i]->depends_count; k++)
            first[m->modules[i]->depends_on[k].id + 1]++;
        edges += m->modules[i]->depends_count;
    }
    for (size_t i = 0; i < n; i++)
        first[i + 1] += first[i];
    size_t *dependents = gen_alloc_array(&m->arena, edges ? edges : 1, sizeof *dependents);
    size_t *fill = gen_alloc_array(&m->arena, n ? n : 1, sizeof *fill);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < m->modules[i]->depends_count; k++) {
            size_t dep = m->modules[i]->depends_on[k].id;
            dependents[first[dep] + fill[dep]++] = i;
        }
    ready_heap heap = {.items = gen_alloc_array(&m->arena, n ? n : 1, sizeof(size_t)), .m = m};
    for (size_t i = 0; i < n; i++)
        if (!waiting[i])
            heap_push(&heap, i);
    m->module_init_order = gen_alloc_array(&m->arena, n ? n : 1, sizeof *m->module_init_order);
    size_t placed = 0;
    while (heap.count) {
        size_t u = heap_pop(&heap);
        m->module_init_order[placed++] = (uint16_t)u;
        for (size_t e = first[u]; e < first[u + 1]; e++)
            if (--waiting[dependents[e]] == 0)
                heap_push(&heap, dependents[e]);
    }
}

static void check_module_dependencies(gen_model *m)
{
    if (resolve_dependencies(m) && check_dependency_cycles(m))
        compute_init_order(m);
}

/* ------------------------------------------------------------------ circuit breakers */

static int cmp_breaker_name(const void *a, const void *b)
{
    return strcmp(((const gen_breaker *)a)->name, ((const gen_breaker *)b)->name);
}

/* Breakers are indexed in name order (like modules), so the index does not depend on the order
 * of the YAML mapping; every operation's breaker must be one of them. */
static void check_breakers(gen_model *m)
{
    gen_limits *l = &m->limits;
    if (l->breaker_count >= UINT16_MAX) { /* UINT16_MAX is "no breaker" */
        gen_error(&m->diag, l->loc, "too many circuit breakers: %zu are declared, at most %u are supported",
                  l->breaker_count, UINT16_MAX - 1);
        return;
    }
    if (l->breaker_count) /* qsort must not get NULL, even for no elements */
        qsort(l->breakers, l->breaker_count, sizeof *l->breakers, cmp_breaker_name);
    const char **names = gen_alloc_array(&m->arena, l->breaker_count ? l->breaker_count : 1, sizeof *names);
    for (size_t i = 0; i < l->breaker_count; i++)
        names[i] = l->breakers[i].name;
    for (size_t i = 0; i < m->op_count; i++) {
        gen_op *op = m->ops[i];
        op->breaker_index = UINT16_MAX;
        if (!op->breaker)
            continue;
        for (size_t b = 0; b < l->breaker_count && op->breaker_index == UINT16_MAX; b++)
            if (!strcmp(names[b], op->breaker))
                op->breaker_index = (uint16_t)b;
        if (op->breaker_index == UINT16_MAX) {
            char hint[96];
            gen_error(&m->diag, op->breaker_loc, "%s uses breaker '%s', which is not declared in limits.breakers%s",
                      op->full_name, op->breaker,
                      gen_did_you_mean(hint, sizeof hint, op->breaker, names, l->breaker_count));
        }
    }
}

static void check_interfaces(gen_model *m)
{
    for (size_t i = 0; i < m->interface_count; i++) {
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(m->interfaces[i].name, m->interfaces[j].name)) {
                gen_error(&m->diag, m->interfaces[i].loc, "interface '%s' is already declared at %s:%d:%d",
                          m->interfaces[i].name, m->interfaces[j].loc.file, m->interfaces[j].loc.line,
                          m->interfaces[j].loc.col);
                m->interfaces[i].op_count = 0; /* keep its operations out of the id space */
                break;
            }
        }
    }
}

static void check_operations(gen_model *m)
{
    size_t total = 0;
    for (size_t i = 0; i < m->interface_count; i++)
        total += m->interfaces[i].op_count;
    m->ops = gen_alloc_array(&m->arena, total ? total : 1, sizeof *m->ops);
    m->op_count = 0;
    for (size_t i = 0; i < m->interface_count; i++) {
        gen_interface *iface = &m->interfaces[i];
        for (size_t k = 0; k < iface->op_count; k++) {
            gen_op *op = &iface->ops[k];
            op->iface = iface;
            if (m->op_count == SUGA_MAX_OPERATIONS) {
                gen_error(&m->diag, op->loc, "too many operations: %zu are declared, at most %u are supported", total,
                          SUGA_MAX_OPERATIONS);
                return;
            }
            m->ops[m->op_count++] = op;
            check_params(m, op->params, op->param_count, op->full_name, true);
            if (op->fast_path && iface->module.load == SUGA_LOAD_LAZY)
                gen_error(&m->diag, op->fast_path_loc,
                          "fast_path needs an eagerly loaded module, but %s is in module '%s' with load: lazy",
                          op->full_name, iface->module.name);
        }
    }
    qsort(m->ops, m->op_count, sizeof *m->ops, cmp_op_name);
    for (size_t i = 0; i < m->op_count; i++)
        m->ops[i]->id = (uint16_t)i;
}

/* ------------------------------------------------------------------ fusions */

static gen_op *find_op(gen_model *m, const char *name)
{
    size_t lo = 0, hi = m->op_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->ops[mid]->full_name, name);
        if (c == 0)
            return m->ops[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static gen_param *find_param(gen_param *params, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (!strcmp(params[i].name, name))
            return &params[i];
    return NULL;
}

static const char *hint_from_params(gen_model *m, const gen_param *params, size_t count, const char *word)
{
    const char **names = gen_alloc_array(&m->arena, count ? count : 1, sizeof *names);
    for (size_t i = 0; i < count; i++)
        names[i] = params[i].name;
    char *buf = gen_alloc(&m->arena, 96);
    return gen_did_you_mean(buf, 96, word, names, count);
}

static void check_step(gen_model *m, gen_fusion *f, size_t index, gen_step *s)
{
    const char *where = gen_printf(&m->arena, "step %zu of fusion '%s'", index, f->name);
    gen_op *op = find_op(m, s->op_name);
    if (!op) {
        const char **names = gen_alloc_array(&m->arena, m->op_count ? m->op_count : 1, sizeof *names);
        for (size_t i = 0; i < m->op_count; i++)
            names[i] = m->ops[i]->full_name;
        char hint[96];
        gen_error(&m->diag, s->op_loc, "%s: unknown operation '%s'%s", where, s->op_name,
                  gen_did_you_mean(hint, sizeof hint, s->op_name, names, m->op_count));
        return;
    }
    s->op_id = op->id;
    for (size_t b = 0; b < s->binding_count; b++) {
        gen_binding *bind = &s->bindings[b];
        gen_param *target = find_param(op->params, op->param_count, bind->param);
        if (!target) {
            gen_error(&m->diag, bind->loc, "%s: operation '%s' has no arg '%s'%s", where, op->full_name, bind->param,
                      hint_from_params(m, op->params, op->param_count, bind->param));
            continue;
        }
        switch (bind->kind) {
        case SUGA_BIND_LITERAL:
            check_json_value(m, bind->loc, op->full_name, target, bind->literal_json,
                             gen_printf(&m->arena, "%s: invalid literal", where));
            break;
        case SUGA_BIND_INPUT: {
            gen_param *in = find_param(f->params, f->param_count, bind->path);
            if (!in) {
                gen_error(&m->diag, bind->loc, "%s: unbound argument '%s': fusion '%s' has no param '%s'%s", where,
                          bind->source, f->name, bind->path, hint_from_params(m, f->params, f->param_count, bind->path));
            } else if (in->type != target->type && target->type != SUGA_T_ANY && in->type != SUGA_T_ANY &&
                       !(target->type == SUGA_T_NUMBER && in->type == SUGA_T_INT)) {
                gen_error(&m->diag, bind->loc, "%s: '%s' has type %s but arg '%s' of %s has type %s", where, bind->source,
                          suga_type_names[in->type], bind->param, op->full_name, suga_type_names[target->type]);
            } else if (in->type == SUGA_T_ENUM && target->type == SUGA_T_ENUM) {
                /* every value the input accepts must be one the step accepts; other rules
                 * (bounds, max_len, pattern) are checked on the step's arguments at run time */
                for (size_t v = 0; v < in->enum_count; v++) {
                    bool known = false;
                    for (size_t w = 0; w < target->enum_count && !known; w++)
                        known = !strcmp(in->enum_values[v], target->enum_values[w]);
                    if (!known) {
                        gen_error(&m->diag, bind->loc, "%s: '%s' may be '%s', which arg '%s' of %s does not accept",
                                  where, bind->source, in->enum_values[v], bind->param, op->full_name);
                        break;
                    }
                }
            }
            break;
        }
        case SUGA_BIND_STEP:
            if (bind->step >= index)
                gen_error(&m->diag, bind->loc, "%s: unbound argument '%s': step %u does not run before step %zu",
                          where, bind->source, bind->step, index);
            break;
        }
    }
    for (size_t i = 0; i < op->param_count; i++) {
        gen_param *p = &op->params[i];
        bool bound = false;
        for (size_t b = 0; b < s->binding_count && !bound; b++)
            bound = !strcmp(s->bindings[b].param, p->name);
        if (p->required && !bound)
            gen_error(&m->diag, s->loc, "%s: required arg '%s' of %s is not bound", where, p->name, op->full_name);
    }
}

/* `invalidates` names operations whose cached results a successful call of this one clears:
 * each must exist and have a result cache (anything else would be a silent no-op). */
static void check_invalidations(gen_model *m)
{
    for (size_t i = 0; i < m->op_count; i++) {
        gen_op *op = m->ops[i];
        for (size_t k = 0; k < op->invalidate_count; k++) {
            gen_ref *ref = &op->invalidates[k];
            gen_op *target = find_op(m, ref->name);
            if (!target) {
                const char **names = gen_alloc_array(&m->arena, m->op_count, sizeof *names);
                for (size_t j = 0; j < m->op_count; j++)
                    names[j] = m->ops[j]->full_name;
                char hint[96];
                gen_error(&m->diag, ref->loc, "%s invalidates unknown operation '%s'%s", op->full_name, ref->name,
                          gen_did_you_mean(hint, sizeof hint, ref->name, names, m->op_count));
            } else if (!target->has_cache) {
                gen_error(&m->diag, ref->loc, "%s invalidates %s, which has no result cache (add 'cache: {ttl: ...}' to it)",
                          op->full_name, target->full_name);
            } else {
                ref->id = target->id;
            }
        }
    }
}

static void check_fusions(gen_model *m)
{
    for (size_t i = 0; i < m->fusion_count; i++) {
        gen_fusion *f = &m->fusions[i];
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(m->fusions[j].name, f->name))
                gen_error(&m->diag, f->loc, "fusion '%s' is already declared at %s:%d:%d", f->name,
                          m->fusions[j].loc.file, m->fusions[j].loc.line, m->fusions[j].loc.col);
        }
        check_params(m, f->params, f->param_count, gen_printf(&m->arena, "fusion '%s'", f->name), false);
        for (size_t s = 0; s < f->step_count; s++)
            check_step(m, f, s, &f->steps[s]);
    }
}

/* ------------------------------------------------------------------ routes */

/* Resolves a route's `op` to an id; false (after the error) when it names no operation. */
static bool resolve_route_op(gen_model *m, const char *route, gen_ref *ref)
{
    gen_op *op = find_op(m, ref->name);
    if (op) {
        ref->id = op->id;
        return true;
    }
    const char **names = gen_alloc_array(&m->arena, m->op_count ? m->op_count : 1, sizeof *names);
    for (size_t i = 0; i < m->op_count; i++)
        names[i] = m->ops[i]->full_name;
    char hint[96];
    gen_error(&m->diag, ref->loc, "%s: unknown operation '%s'%s", route, ref->name,
              gen_did_you_mean(hint, sizeof hint, ref->name, names, m->op_count));
    return false;
}

/* The params an on_error operation is called with (lambda/events.c): the whole event, the status
 * name of the failure and its (masked) message. */
static const char *const ON_ERROR_PARAMS[] = {"event", "status", "message"};

/* Resolves a route's `on_error` (SUGA_NO_OP when there is none) and checks that the operation
 * takes what it will be given: event (any type), and status and message as strings. */
static void resolve_on_error(gen_model *m, const char *route, gen_ref *ref)
{
    if (!ref->name) {
        ref->id = SUGA_NO_OP;
        return;
    }
    const char *label = gen_printf(&m->arena, "%s: on_error", route);
    if (!resolve_route_op(m, label, ref))
        return;
    const gen_op *op = m->ops[ref->id];
    for (size_t k = 0; k < sizeof ON_ERROR_PARAMS / sizeof *ON_ERROR_PARAMS; k++) {
        const gen_param *found = NULL;
        for (size_t i = 0; i < op->param_count && !found; i++)
            if (!strcmp(op->params[i].name, ON_ERROR_PARAMS[k]))
                found = &op->params[i];
        if (!found)
            gen_error(&m->diag, ref->loc, "%s operation '%s' must take the parameters event, status and message "
                                          "(it answers an event that could not be run); it has no '%s'",
                      label, ref->name, ON_ERROR_PARAMS[k]);
        else if (k > 0 && found->type != SUGA_T_STRING)
            gen_error(&m->diag, ref->loc, "%s operation '%s': parameter '%s' must be a string", label, ref->name,
                      ON_ERROR_PARAMS[k]);
    }
}

static int cmp_http_route(const void *a, const void *b)
{
    const gen_http_route *x = a, *y = b;
    int c = strcmp(x->method, y->method);
    return c ? c : strcmp(x->path, y->path);
}

/* Exact routes first, then (namespace, *), then (*, *): the runtime takes the first match, which
 * is then the most specific one. */
static int alexa_rank(const gen_alexa_route *r)
{
    return !strcmp(r->namespace_name, "*") ? 2 : !strcmp(r->name, "*") ? 1 : 0;
}

static int cmp_alexa_route(const void *a, const void *b)
{
    const gen_alexa_route *x = a, *y = b;
    int c = alexa_rank(x) - alexa_rank(y);
    if (!c)
        c = strcmp(x->namespace_name, y->namespace_name);
    return c ? c : strcmp(x->name, y->name);
}

/* Exact request types first, then "*"; by type within. */
static int cmp_skill_route(const void *a, const void *b)
{
    const gen_skill_route *x = a, *y = b;
    int c = !strcmp(x->request, "*") - !strcmp(y->request, "*");
    return c ? c : strcmp(x->request, y->request);
}

/* Routes come from any number of files, in input order: a repeat is reported at the later one. */
static void check_routes(gen_model *m)
{
    for (size_t i = 0; i < m->http_route_count; i++) {
        gen_http_route *r = &m->http_routes[i];
        const char *label = gen_printf(&m->arena, "http route %s %s", r->method, r->path);
        resolve_route_op(m, label, &r->op);
        for (size_t j = 0; j < i; j++) {
            const gen_http_route *o = &m->http_routes[j];
            if (!strcmp(o->method, r->method) && !strcmp(o->path, r->path)) {
                gen_error(&m->diag, r->loc, "%s is already declared at %s:%d:%d", label, o->loc.file, o->loc.line,
                          o->loc.col);
                break;
            }
        }
    }
    for (size_t i = 0; i < m->alexa_route_count; i++) {
        gen_alexa_route *r = &m->alexa_routes[i];
        const char *label = gen_printf(&m->arena, "alexa route (%s, %s)", r->namespace_name, r->name);
        resolve_route_op(m, label, &r->op);
        resolve_on_error(m, label, &r->on_error);
        for (size_t j = 0; j < i; j++) {
            const gen_alexa_route *o = &m->alexa_routes[j];
            if (!strcmp(o->namespace_name, r->namespace_name) && !strcmp(o->name, r->name)) {
                gen_error(&m->diag, r->loc, "%s is already declared at %s:%d:%d", label, o->loc.file, o->loc.line,
                          o->loc.col);
                break;
            }
        }
    }
    for (size_t i = 0; i < m->skill_route_count; i++) {
        gen_skill_route *r = &m->skill_routes[i];
        const char *label = gen_printf(&m->arena, "alexa_skill route %s", r->request);
        resolve_route_op(m, label, &r->op);
        resolve_on_error(m, label, &r->on_error);
        for (size_t j = 0; j < i; j++) {
            const gen_skill_route *o = &m->skill_routes[j];
            if (!strcmp(o->request, r->request)) {
                gen_error(&m->diag, r->loc, "%s is already declared at %s:%d:%d", label, o->loc.file, o->loc.line,
                          o->loc.col);
                break;
            }
        }
    }
    /* keys are unique once the checks above pass, so the order does not depend on qsort's */
    if (m->http_route_count)
        qsort(m->http_routes, m->http_route_count, sizeof *m->http_routes, cmp_http_route);
    if (m->alexa_route_count)
        qsort(m->alexa_routes, m->alexa_route_count, sizeof *m->alexa_routes, cmp_alexa_route);
    if (m->skill_route_count)
        qsort(m->skill_routes, m->skill_route_count, sizeof *m->skill_routes, cmp_skill_route);
}

/* Lifecycle hooks run with no arguments (suga_engine_run_hooks), so an operation with a required
 * parameter could never succeed there; one operation twice in a phase is a slip, not a plan. */
static void check_hooks(gen_model *m)
{
    for (int phase = 0; phase < SUGA_HOOK__COUNT; phase++) {
        for (size_t i = 0; i < m->hook_count[phase]; i++) {
            gen_hook *h = &m->hooks[phase][i];
            const char *label = gen_printf(&m->arena, "lifecycle %s hook", suga_hook_phase_names[phase]);
            if (!resolve_route_op(m, label, &h->op))
                continue;
            const gen_op *op = m->ops[h->op.id];
            for (size_t k = 0; k < op->param_count; k++) {
                if (op->params[k].required) {
                    gen_error(&m->diag, h->op.loc, "%s '%s' has the required parameter '%s': hooks are called "
                                                   "without arguments",
                              label, h->op.name, op->params[k].name);
                    break;
                }
            }
            for (size_t j = 0; j < i; j++) {
                const gen_hook *o = &m->hooks[phase][j];
                if (o->op.name && !strcmp(o->op.name, h->op.name)) {
                    gen_error(&m->diag, h->op.loc, "%s '%s' is already listed at %s:%d:%d", label, h->op.name,
                              o->op.loc.file, o->op.loc.line, o->op.loc.col);
                    break;
                }
            }
        }
    }
}

static void check_limits(gen_model *m)
{
    gen_limits *l = &m->limits;
    if (!(l->warn_percent < l->throttle_percent && l->throttle_percent < l->block_percent))
        gen_error(&m->diag, l->percent_loc,
                  "free_tier thresholds must rise: warn_percent (%u) < throttle_percent (%u) < block_percent (%u)",
                  l->warn_percent, l->throttle_percent, l->block_percent);
    for (size_t i = 0; i < l->metric_name_count; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(l->metric_names[i], l->metric_names[j])) {
                gen_error(&m->diag, l->metric_name_locs[i], "metric '%s' is already declared at %s:%d:%d",
                          l->metric_names[i], l->metric_name_locs[j].file, l->metric_name_locs[j].line,
                          l->metric_name_locs[j].col);
                break;
            }
    /* The engine records these by constant (suga_schema.h): undeclared, they would be recorded
     * and never emitted. Checked only for a spec that declares `names` (the defaults are them). */
    if (!l->metric_name_locs)
        return;
    for (int k = 0; k < SUGA_ENGINE_METRIC__COUNT; k++) {
        bool declared = false;
        for (size_t i = 0; !declared && i < l->metric_name_count; i++)
            declared = !strcmp(l->metric_names[i], suga_engine_metric_names[k]);
        if (!declared)
            gen_error(&m->diag, l->metric_names_loc,
                      "'names' must declare '%s': the engine records it (runtime/engine.c), and a metric not "
                      "declared is never emitted",
                      suga_engine_metric_names[k]);
    }
}

int gen_validate(gen_model *m)
{
    int before = m->diag.error_count;
    jmp_buf oom;
    m->arena.on_oom = &oom;
    if (setjmp(oom)) {
        gen_error(&m->diag, (gen_loc){"suga-gen", 0, 0}, "out of memory while validating");
        m->arena.on_oom = NULL;
        return -1;
    }
    check_interfaces(m);
    collect_modules(m);
    check_module_dependencies(m);
    check_operations(m);
    check_breakers(m);
    check_identifiers(m);
    check_invalidations(m);
    check_fusions(m);
    check_routes(m);
    check_hooks(m);
    if (m->has_limits)
        check_limits(m);
    if (m->interface_count == 0 && m->input_count > 0 && m->diag.error_count == before)
        gen_error(&m->diag, (gen_loc){m->inputs[0], 1, 1}, "no interface is declared in any input file");
    m->arena.on_oom = NULL;
    return m->diag.error_count == before ? 0 : -1;
}
