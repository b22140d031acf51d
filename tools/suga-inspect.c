/* suga-inspect: show what the compiled tables contain (not the YAML they came from).
 *
 * It links the same generated table the engine runs with, so what it prints is what the engine
 * does: ids, hash slots, handlers, modules and their policies, parameter schemas, fusions,
 * limits, event routes and lifecycle hooks. --verify re-checks the perfect hash the way the
 * engine uses it. It runs no operation: that is `suga`'s job.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suga.h"
#include "suga_routes.h"
#include "suga_table.h"

static const char USAGE[] =
    "usage: suga-inspect [--json] [COMMAND]\n"
    "       suga-inspect --verify [--unknown N] [--seed S]\n"
    "\n"
    "Shows the operation tables compiled into this build of suga. It runs nothing: to see what\n"
    "requests load and unload, `suga --live run REQUEST...`.\n"
    "\n"
    "Commands:\n"
    "  list          every operation: id, hash slot, handler, module, load/unload policy,\n"
    "                fast path, cache ttl (the default command)\n"
    "  show NAME     one operation (interface.operation) with its parameter schema\n"
    "  modules       modules with their load/unload policies and dependencies\n"
    "  fusions       fusions with their steps and argument bindings\n"
    "  limits        free-tier and metric budgets, circuit breakers\n"
    "  hash          the perfect hash parameters\n"
    "  routes        event routes: HTTP (method, path), Alexa (namespace, name) and skill requests\n"
    "  hooks         lifecycle hooks: the operations the bootstrap runs at start-up, before and\n"
    "                after each event\n"
    "\n"
    "Options:\n"
    "  -j, --json        machine-readable output (one JSON document)\n"
    "  -v, --verify      round-trip every name through the perfect hash and check that\n"
    "                    random unknown names are rejected; prints 'N operations verified'\n"
    "  -u, --unknown N   how many unknown names --verify tries (default 100000)\n"
    "  -s, --seed S      seed for the unknown names (default 1)\n"
    "  -h, --help        show this help\n";

/* ------------------------------------------------------------------ text output */

static const suga_module *module_of(const suga_op *op)
{
    return &suga_main_table.modules[op->module];
}

static void print_list(void)
{
    const suga_table *t = &suga_main_table;
    printf("%-5s %-5s %-32s %-28s %-12s %-6s %-9s %-4s %s\n", "ID", "SLOT", "OPERATION", "HANDLER", "MODULE", "LOAD",
           "UNLOAD", "FAST", "CACHE");
    const char *iface = NULL;
    for (uint32_t i = 0; i < t->op_count; i++) {
        const suga_op *op = &t->ops[i];
        if (!iface || strcmp(iface, op->interface)) {
            iface = op->interface;
            printf("# %s\n", iface);
        }
        const suga_module *m = module_of(op);
        char cache[24] = "-";
        if (op->has_cache)
            snprintf(cache, sizeof cache, "%" PRIu32 "s", op->cache_ttl);
        printf("%-5u %-5" PRIu32 " %-32s %-28s %-12s %-6s %-9s %-4s %s\n", op->id, op->slot, op->name, op->handler,
               m->name, suga_load_names[m->load], suga_unload_names[m->unload], op->fast_path ? "yes" : "no", cache);
    }
    printf("%u operations in %u modules, %u fusions\n", t->op_count, t->module_count, t->fusion_count);
}

static void print_param(const suga_param *p, const char *indent)
{
    json_t *schema = NULL;
    printf("%s%-16s %-7s %s", indent, p->name, suga_type_names[p->type], p->required ? "required" : "optional");
    if (suga_param_schema(p, &schema) == SUGA_OK) {
        static const char *const RULES[] = {"default", "min", "max", "max_len", "pattern", "values"};
        for (size_t i = 0; i < sizeof RULES / sizeof RULES[0]; i++) {
            json_t *v = json_object_get(schema, RULES[i]);
            if (!v)
                continue;
            char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            printf(", %s %s", RULES[i], text ? text : "?");
            free(text);
        }
        json_decref(schema);
    }
    if (p->summary)
        printf("  # %s", p->summary);
    putchar('\n');
}

static void print_show(const suga_op *op)
{
    const suga_module *m = module_of(op);
    printf("%s\n", op->name);
    printf("  summary     %s\n", op->summary ? op->summary : "-");
    printf("  id          %u (SUGA_OP_", op->id);
    for (const char *c = op->name; *c; c++)
        putchar(*c == '.' ? '_' : (*c >= 'a' && *c <= 'z') ? *c - 'a' + 'A' : *c);
    printf(")\n  slot        %" PRIu32 " of %" PRIu32 "\n", op->slot, suga_main_table.hash.slot_count);
    printf("  handler     %s\n", op->handler);
    printf("  module      %s (load: %s, unload: %s", m->name, suga_load_names[m->load], suga_unload_names[m->unload]);
    if (m->unload == SUGA_UNLOAD_IDLE)
        printf(", idle_seconds: %" PRIu32, m->idle_seconds);
    printf(", category: %s)\n", m->category);
    printf("  fast_path   %s\n  idempotent  %s\n", op->fast_path ? "yes" : "no", op->idempotent ? "yes" : "no");
    if (op->has_cache)
        printf("  cache       ttl %" PRIu32 " s\n", op->cache_ttl);
    if (op->retry_attempts)
        printf("  retry       %" PRIu32 " attempts, backoff %" PRIu32 " ms\n", op->retry_attempts, op->retry_backoff_ms);
    if (op->breaker)
        printf("  breaker     %s\n", op->breaker);
    if (op->timeout_ms)
        printf("  timeout     %" PRIu32 " ms\n", op->timeout_ms);
    if (op->returns_type)
        printf("  returns     %s%s%s\n", op->returns_type, op->returns_summary ? ": " : "",
               op->returns_summary ? op->returns_summary : "");
    printf("  declared    %s\n", op->source);
    printf("  params%s\n", op->param_count ? "" : "      (none)");
    for (uint16_t i = 0; i < op->param_count; i++)
        print_param(&op->params[i], "    ");
}

static void print_modules(void)
{
    printf("%-16s %-12s %-6s %-9s %-5s %s\n", "MODULE", "CATEGORY", "LOAD", "UNLOAD", "IDLE", "DEPENDS_ON");
    for (uint32_t i = 0; i < suga_main_table.module_count; i++) {
        const suga_module *m = &suga_main_table.modules[i];
        char idle[16] = "-", deps[128] = "-";
        if (m->unload == SUGA_UNLOAD_IDLE)
            snprintf(idle, sizeof idle, "%" PRIu32, m->idle_seconds);
        size_t used = 0;
        for (uint16_t d = 0; d < m->depends_count && used < sizeof deps; d++)
            used += (size_t)snprintf(deps + used, sizeof deps - used, "%s%s", d ? "," : "",
                                     suga_main_table.modules[m->depends_on[d]].name);
        printf("%-16s %-12s %-6s %-9s %-5s %s\n", m->name, m->category, suga_load_names[m->load],
               suga_unload_names[m->unload], idle, deps);
    }
}

static void print_fusions(void)
{
    for (uint32_t i = 0; i < suga_main_table.fusion_count; i++) {
        const suga_fusion *f = &suga_main_table.fusions[i];
        printf("%s: %s (%s)\n", f->name, f->summary ? f->summary : "-", f->source);
        for (uint16_t p = 0; p < f->param_count; p++)
            print_param(&f->params[p], "  input ");
        for (uint16_t s = 0; s < f->step_count; s++) {
            const suga_fusion_step *st = &f->steps[s];
            printf("  step %u: %s (id %u)\n", s, st->op_name, st->op);
            for (uint16_t b = 0; b < st->binding_count; b++) {
                const suga_binding *bd = &st->bindings[b];
                printf("    %-16s <- %s\n", bd->param, bd->kind == SUGA_BIND_LITERAL ? bd->literal_json : bd->source);
            }
        }
    }
    printf("%u fusions\n", suga_main_table.fusion_count);
}

static void print_limits(void)
{
    const suga_limits *l = suga_main_table.limits;
    printf("free tier   %" PRIu64 " requests/month, %" PRIu64 " GB-s/month\n", l->requests_per_month,
           l->gb_seconds_per_month);
    printf("thresholds  warn %" PRIu32 " %%, throttle %" PRIu32 " %%, block %" PRIu32 " %%\n", l->warn_percent,
           l->throttle_percent, l->block_percent);
    printf("metrics     %u names may be emitted (at most %u), no other:", (unsigned)l->metric_name_count,
           SUGA_MAX_METRIC_NAMES);
    for (uint16_t i = 0; i < l->metric_name_count; i++)
        printf(" %s", l->metric_names[i]);
    putchar('\n');
    for (uint32_t i = 0; i < suga_main_table.breaker_count; i++) {
        const suga_breaker *b = &suga_main_table.breakers[i];
        printf("breaker     %s: opens after %" PRIu32 " consecutive failures, half-open after %" PRIu32
               " s (%" PRIu32 " trial call%s, %" PRIu32 " success%s to close)\n",
               b->name, b->failure_threshold, b->cooldown_seconds, b->half_open_max_calls,
               b->half_open_max_calls == 1 ? "" : "s", b->success_threshold, b->success_threshold == 1 ? "" : "es");
    }
}

static void print_hash(void)
{
    const suga_hash_info *h = &suga_main_table.hash;
    printf("algorithm         %s\n", h->algorithm);
    printf("fingerprint seed  0x%016" PRIx64 "\n", h->fingerprint_seed);
    printf("cmph seed         %" PRIu32 "\n", h->cmph_seed);
    printf("r                 %" PRIu32 " (slots = 3 r = %" PRIu32 ")\n", h->r, h->slot_count);
    printf("load factor       %.2f\n", (double)suga_main_table.op_count / h->slot_count);
    printf("bytes             %" PRIu32 " (g + slot map)\n", h->bytes);
    printf("generated from    %s\n", suga_main_table.inputs);
}

/* An operation's name by id, "?" for one the table does not have, "-" for none (SUGA_NO_OP). */
static const char *op_name(const suga_table *t, uint16_t id)
{
    return id == SUGA_NO_OP ? "-" : id < t->op_count ? t->ops[id].name : "?";
}

/* In table order, which is the order the lookups search (runtime/routes.c). */
static void print_routes(void)
{
    const suga_table *t = &suga_main_table;
    printf("%-7s %-32s %-32s %s\n", "METHOD", "PATH", "OPERATION", "DECLARED");
    for (uint32_t i = 0; i < t->http_route_count; i++) {
        const suga_http_route *r = &t->http_routes[i];
        printf("%-7s %-32s %-32s %s\n", r->method, r->path, op_name(t, r->op), r->source);
    }
    if (!t->http_route_count)
        puts("(none)");
    printf("\n%-24s %-15s %-24s %-26s %s\n", "NAMESPACE", "NAME", "OPERATION", "ON ERROR", "DECLARED");
    for (uint32_t i = 0; i < t->alexa_route_count; i++) {
        const suga_alexa_route *r = &t->alexa_routes[i];
        printf("%-24s %-15s %-24s %-26s %s\n", r->namespace_name, r->name, op_name(t, r->op), op_name(t, r->on_error),
               r->source);
    }
    if (!t->alexa_route_count)
        puts("(none)");
    printf("\n%-40s %-24s %-26s %s\n", "SKILL REQUEST", "OPERATION", "ON ERROR", "DECLARED");
    for (uint32_t i = 0; i < t->skill_route_count; i++) {
        const suga_skill_route *r = &t->skill_routes[i];
        printf("%-40s %-24s %-26s %s\n", r->request, op_name(t, r->op), op_name(t, r->on_error), r->source);
    }
    if (!t->skill_route_count)
        puts("(none)");
    printf("\n%u HTTP routes, %u Alexa routes, %u custom skill routes\n", t->http_route_count, t->alexa_route_count,
           t->skill_route_count);
}

/* ------------------------------------------------------------------ verify */

/* xorshift64*: deterministic and good enough to make name-like noise */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* An unknown name that looks like a real one: a real name with one change (replace, insert,
 * delete, swap interface and operation), or random text of a plausible length. */
static size_t make_unknown(uint64_t *rng, char *out, size_t cap)
{
    static const char ALPHABET[] = "abcdefghijklmnopqrstuvwxyz_.0123456789";
    const suga_table *t = &suga_main_table;
    const char *base = t->ops[next_random(rng) % t->op_count].name;
    size_t len = strlen(base);
    memcpy(out, base, len);
    size_t pos = len ? next_random(rng) % len : 0;
    char c = ALPHABET[next_random(rng) % (sizeof ALPHABET - 1)];
    switch (next_random(rng) % 4) {
    case 0:
        out[pos] = c;
        break;
    case 1:
        if (len + 1 < cap) {
            memmove(out + pos + 1, out + pos, len - pos);
            out[pos] = c;
            len++;
        }
        break;
    case 2:
        if (len > 1) {
            memmove(out + pos, out + pos + 1, len - pos - 1);
            len--;
        }
        break;
    default:
        len = 1 + next_random(rng) % (cap - 1);
        for (size_t i = 0; i < len; i++)
            out[i] = ALPHABET[next_random(rng) % (sizeof ALPHABET - 1)];
        break;
    }
    out[len] = '\0';
    return len;
}

static int is_real_name(const char *name)
{
    const suga_table *t = &suga_main_table;
    uint32_t lo = 0, hi = t->op_count;
    while (lo < hi) { /* ids are in name order */
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(t->ops[mid].name, name);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int verify(unsigned long unknown, uint64_t seed)
{
    const suga_table *t = &suga_main_table;
    unsigned long failures = 0;
    for (uint32_t i = 0; i < t->op_count; i++) {
        const suga_op *op = NULL;
        suga_status st = suga_table_lookup(t, t->ops[i].name, strlen(t->ops[i].name), &op);
        if (st != SUGA_OK || op != &t->ops[i] || op->id != i || op->slot >= t->hash.slot_count) {
            fprintf(stderr, "suga-inspect: error: %s (id %" PRIu32 ") does not round-trip: %s\n", t->ops[i].name, i,
                    st == SUGA_OK ? "wrong descriptor" : suga_status_name(st));
            failures++;
        }
        if (i > 0 && strcmp(t->ops[i - 1].name, t->ops[i].name) >= 0) {
            fprintf(stderr, "suga-inspect: error: ids are not in name order at %s\n", t->ops[i].name);
            failures++;
        }
    }
    uint64_t rng = seed ? seed : 1;
    unsigned long tried = 0, rejected = 0;
    char name[SUGA_MAX_NAME_LEN + 2];
    while (tried < unknown) {
        size_t len = make_unknown(&rng, name, sizeof name - 1);
        if (is_real_name(name))
            continue;
        tried++;
        const suga_op *op = NULL;
        if (suga_table_lookup(t, name, len, &op) == SUGA_E_NOT_FOUND)
            rejected++;
        else if (failures++ < 10)
            fprintf(stderr, "suga-inspect: error: unknown name '%s' was accepted as %s\n", name, op ? op->name : "?");
    }
    if (failures) {
        fprintf(stderr, "suga-inspect: %lu verification failures\n", failures);
        return 1;
    }
    printf("%" PRIu32 " operations verified; %lu of %lu unknown names rejected\n", t->op_count, rejected, tried);
    return 0;
}

static void print_hooks(void)
{
    const suga_table *t = &suga_main_table;
    printf("%-17s %-32s %-29s %s\n", "PHASE", "OPERATION", "ERROR_TYPE", "DECLARED");
    for (int phase = 0; phase < SUGA_HOOK__COUNT; phase++)
        for (uint32_t i = 0; i < t->hook_counts[phase]; i++) {
            const suga_hook *h = &t->hooks[phase][i];
            printf("%-17s %-32s %-29s %s\n", suga_hook_phase_names[phase], t->ops[h->op].name,
                   h->error_type ? h->error_type : "-", h->source);
        }
}

/* ------------------------------------------------------------------ main */

static int emit_json(json_t *doc)
{
    if (!doc) {
        fprintf(stderr, "suga-inspect: error: out of memory\n");
        return 1;
    }
    int rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? 0 : 1;
    putchar('\n');
    json_decref(doc);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option LONG[] = {
        {"json", no_argument, NULL, 'j'},         {"verify", no_argument, NULL, 'v'},
        {"unknown", required_argument, NULL, 'u'}, {"seed", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    bool json = false, do_verify = false;
    unsigned long unknown = 100000;
    uint64_t seed = 1;
    int c;
    while ((c = getopt_long(argc, argv, "jvu:s:h", LONG, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'v':
            do_verify = true;
            break;
        case 'u':
            unknown = strtoul(optarg, &end, 10);
            if (*end || !*optarg) {
                fprintf(stderr, "suga-inspect: error: --unknown needs a number, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 's':
            seed = strtoull(optarg, &end, 0);
            if (*end || !*optarg) {
                fprintf(stderr, "suga-inspect: error: --seed needs a number, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h':
            fputs(USAGE, stdout);
            return 0;
        default:
            fputs(USAGE, stderr);
            return 2;
        }
    }
    if (do_verify)
        return verify(unknown, seed);
    const char *cmd = optind < argc ? argv[optind] : "list";
    int extra = argc - optind - 1;
    if (!strcmp(cmd, "show")) {
        if (extra != 1) {
            fprintf(stderr, "suga-inspect: error: 'show' needs exactly one operation name\n");
            return 2;
        }
        const char *name = argv[optind + 1];
        const suga_op *op;
        if (suga_lookup(name, strlen(name), &op) != SUGA_OK) {
            suga_ctx ctx;
            suga_ctx_init(&ctx);
            json_t *ignored = NULL;
            /* reuse the dispatcher's message, which carries the "did you mean" hint */
            suga_call_json(&ctx, name, strlen(name), NULL, &ignored);
            fprintf(stderr, "suga-inspect: error: %s\n", ctx.error);
            return 1;
        }
        if (json) {
            json_t *doc = NULL;
            suga_describe_op(&suga_main_table, op, true, &doc);
            return emit_json(doc);
        }
        print_show(op);
        return 0;
    }
    if (extra > 0) {
        fprintf(stderr, "suga-inspect: error: '%s' takes no arguments\n", cmd);
        return 2;
    }
    static const struct {
        const char *name;
        void (*text)(void);
        suga_describe_what json;
        suga_status (*describe)(const suga_table *, json_t **); /* instead of suga_describe_table */
    } COMMANDS[] = {
        {.name = "list", .text = print_list, .json = SUGA_DESCRIBE_OPERATIONS},
        {.name = "modules", .text = print_modules, .json = SUGA_DESCRIBE_MODULES},
        {.name = "fusions", .text = print_fusions, .json = SUGA_DESCRIBE_FUSIONS},
        {.name = "limits", .text = print_limits, .json = SUGA_DESCRIBE_LIMITS},
        {.name = "hash", .text = print_hash, .json = SUGA_DESCRIBE_HASH},
        {.name = "routes", .text = print_routes, .describe = suga_describe_routes},
        {.name = "hooks", .text = print_hooks, .json = SUGA_DESCRIBE_HOOKS},
    };
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++) {
        if (!strcmp(cmd, COMMANDS[i].name)) {
            if (json) {
                json_t *doc = NULL;
                if (COMMANDS[i].describe)
                    COMMANDS[i].describe(&suga_main_table, &doc);
                else
                    suga_describe_table(&suga_main_table, COMMANDS[i].json, &doc);
                return emit_json(doc);
            }
            COMMANDS[i].text();
            return 0;
        }
    }
    fprintf(stderr, "suga-inspect: error: unknown command '%s' (try --help)\n", cmd);
    return 2;
}
