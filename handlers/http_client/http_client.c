/* http_client.c: the http_client.* operations, built as the lazy module suga-http_client.so.
 *
 * Why a lazy module: Debian's libcurl pulls in 33 shared libraries and costs ~14 ms of every
 * process start when linked into a program (docs/http_client.md). Only this shared object links
 * libcurl, so it is mapped on the first outbound call, never at start-up. Other modules reach it
 * through the engine, suga_call_op_json(ctx, SUGA_OP_HTTP_CLIENT_MAKE_REQUEST, ...), which loads
 * the module on that first call; there is no C API header on purpose.
 *
 * libcurl is initialised on the first call of any http_client.* operation, not in a constructor:
 * the module is dlopen()ed by that same first call, so nothing is gained by a constructor, and a
 * failure of curl_global_init then becomes an error value in the caller's ctx instead of a
 * constructor's silent failure. Right after a successful curl_global_init the cleanup is
 * registered with atexit(): OpenSSL registers its own exit handler during curl_global_init, and
 * handlers run last-registered first, so the pooled handles are freed and curl_global_cleanup
 * runs while OpenSSL is still usable. The same cleanup runs from the destructor when the module
 * is dlclose()d (unload: never today, so only if the policy changes); it is idempotent.
 *
 * The pool: one CURL easy handle per host (scheme://host:port), reused call after call with
 * curl_easy_reset, which keeps the handle's live connections, DNS cache and TLS session cache.
 * With unload: never the connections stay open across Lambda invocations. At most max_hosts
 * hosts are kept; a new host past that evicts the least recently used one (closing its
 * connections).
 *
 * Host breakers: every pooled host has a circuit breaker, driven by the runtime's state machine
 * (suga_breaker_state_*) with the thresholds of the breaker declared as "http_client" under
 * limits.breakers (defaults below when it is not declared). Transport failures and 5xx answers
 * count against it; an open one refuses at once with SUGA_E_UNAVAILABLE. A call made inside an
 * operation that has its own breaker (suga_ctx.under_breaker: the homeassistant.* operations)
 * is left to that breaker, so one failure is counted once. Its time is the runtime's monotonic
 * clock (suga_clock.h), which tests replace with suga_clock_set_test_clock.
 *
 * Secrets: the values of secret-looking headers (suga_is_secret_name: Authorization,
 * X-Api-Key, Cookie...), the credential after "Bearer " or "Basic ", and a password in the URL
 * are registered with the runtime's masking function (suga_secret_add_request) before anything
 * can write a message, so suga_fail and every log record mask them wherever they appear, even
 * in libcurl's, OpenSSL's or jansson's text. URLs are shown without user info (and the masking
 * function drops their query in messages and logs).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config/suga_config.h"
#include "suga_breaker.h"
#include "suga_clock.h"
#include "suga_log.h"
#include "suga_mask.h"
#include "suga_ops.h"
#include "utility/suga_utility.h"


#define SAFETY_MARGIN_MS 50       /* kept before the invocation's deadline to answer in */
#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_MAX_HOSTS 8
#define MAX_HOSTS 64              /* the spec's bound on configure.max_hosts */
#define HOST_KEY_MAX 320          /* "https://" + a 253-byte name (or [IPv6]) + ":65535" */
#define LAST_ERROR_MAX 256
#define SHOWN_URL_MAX 300         /* bytes of a URL quoted in a message */
#define HEADER_NAME_MAX 256
#define HEADER_VALUE_MAX 8192
#define CA_PATH_MAX 1024
#define USER_AGENT_MAX 256
#define HOST_BREAKER "http_client" /* the limits.breakers entry whose thresholds host breakers use */

/* Host breakers when spec/limits.yaml declares no "http_client" breaker: the same thresholds as
 * the homeassistant breaker. */
static const suga_breaker default_host_breaker = {
    .name = HOST_BREAKER,
    .failure_threshold = 5,
    .cooldown_seconds = 30,
    .half_open_max_calls = 1,
    .success_threshold = 1,
    .source = "default (no limits.breakers." HOST_BREAKER " in the spec)",
};

/* ---- state ---- */

typedef struct pool_host {
    char key[HOST_KEY_MAX]; /* "http://127.0.0.1:8123": scheme and host lower-case, port explicit */
    CURL *easy;
    bool tls;               /* https */
    bool verify_tls;        /* of the last request */
    bool warned_insecure;   /* a request turned verification off for this host: warned once */
    uint64_t requests, reuses, connections, errors;
    long last_status;       /* 0 = no answer yet */
    char last_error[LAST_ERROR_MAX];
    uint64_t last_used;     /* the pool's sequence number at the last use: LRU order */
    int64_t last_used_ms;   /* suga_clock_monotonic_ms */
    suga_breaker_state breaker; /* this host's circuit breaker (state.host_breaker's thresholds) */
} pool_host;

static struct {
    bool curl_ready;
    bool exit_handler;      /* atexit(cleanup) registered */
    bool settings_ready;    /* environment read (first use) */
    const suga_breaker *host_breaker; /* the thresholds of every host's breaker */
    int64_t timeout_ms;
    bool verify_tls;
    const char *verify_tls_source; /* "default", "HOME_ASSISTANT_VERIFY_SSL", "NOT_VERIFY_SSL", "configure" */
    bool warned_insecure;   /* the default is off: warned once */
    uint32_t max_hosts;
    char user_agent[USER_AGENT_MAX + 1];
    bool custom_user_agent;
    char ca_bundle[CA_PATH_MAX]; /* "" = unknown */
    bool set_cainfo;        /* CURLOPT_CAINFO = ca_bundle; else libcurl's built-in default stands */
    const char *ca_bundle_source;
    pool_host *hosts[MAX_HOSTS];
    uint32_t host_count;
    uint64_t sequence;
    uint64_t evictions;
} state;

static void cleanup(void)
{
    for (uint32_t i = 0; i < state.host_count; i++) {
        curl_easy_cleanup(state.hosts[i]->easy);
        free(state.hosts[i]);
        state.hosts[i] = NULL;
    }
    state.host_count = 0;
    if (state.curl_ready) {
        curl_global_cleanup();
        state.curl_ready = false;
    }
    state.settings_ready = false;
}

__attribute__((destructor)) static void http_client_unloaded(void)
{
    cleanup();
}

/* ---- small helpers ---- */

/* in (NULL = "") into out[size], cut to fit */
static void copy_text(char *out, size_t size, const char *in)
{
    size_t len = in ? strlen(in) : 0;
    if (len >= size)
        len = size - 1;
    if (len)
        memcpy(out, in, len);
    out[len] = '\0';
}

/* ---- set-up on first use ---- */

static void warn(const suga_ctx *ctx, const char *message, json_t *fields)
{
    suga_log_write(ctx, SUGA_LOG_WARNING, message, fields, NULL);
    json_decref(fields);
}

static suga_status init_curl(suga_ctx *ctx)
{
    if (state.curl_ready)
        return SUGA_OK;
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
        return suga_fail(ctx, SUGA_E_STATE, "%s: libcurl could not be initialised: %s", ctx->op->name,
                         curl_easy_strerror(rc));
    state.curl_ready = true;
    if (!state.exit_handler && atexit(cleanup) == 0)
        state.exit_handler = true;
    return SUGA_OK;
}

/* A setting from the config module, as a bool; *set tells whether it is set at all (an empty
 * value counts as unset), text[16] is its value as written (for messages). */
static suga_status config_bool(suga_ctx *ctx, const char *name, bool *set, bool *value, char text[16])
{
    *set = false;
    if (suga_config_get_string(name, "", text, 16, NULL) == SUGA_OK && text[0] == '\0')
        return SUGA_OK; /* unset or empty; a value too long for text is not a bool and falls through */
    suga_ctx inner;
    suga_ctx_init(&inner);
    suga_status st = suga_config_get_bool(name, true, value, &inner);
    if (st != SUGA_OK)
        return suga_fail(ctx, SUGA_E_STATE, "%s: %s", ctx->op->name, inner.error);
    *set = true;
    return SUGA_OK;
}

static bool readable(const char *path)
{
    return path && *path && access(path, R_OK) == 0;
}

/* Where trusted CA certificates come from. libcurl is built with its distribution's bundle path
 * (AL2023: /etc/pki/tls/certs/ca-bundle.crt, Debian: /etc/ssl/certs/ca-certificates.crt) and
 * passes it to OpenSSL explicitly, so OpenSSL's own SSL_CERT_FILE variable is not consulted by
 * libcurl; suga honours it here. Order: SSL_CERT_FILE when readable; else libcurl's built-in
 * default when it exists; else the first known bundle that exists; else libcurl's default. */
static suga_status resolve_ca_bundle(suga_ctx *ctx)
{
    static const char *const known[] = {
        "/etc/pki/tls/certs/ca-bundle.crt",                  /* AL2023, Fedora, RHEL */
        "/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu, Alpine */
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* AL2023, Fedora (the source of the above) */
        "/etc/ssl/cert.pem",                                 /* Alpine, the BSDs */
    };
    char env[CA_PATH_MAX];
    state.set_cainfo = false;
    state.ca_bundle[0] = '\0';
    if (suga_config_get_string("SSL_CERT_FILE", "", env, sizeof env, NULL) == SUGA_OK && env[0]) {
        if (readable(env)) {
            copy_text(state.ca_bundle, sizeof state.ca_bundle, env);
            state.set_cainfo = true;
            state.ca_bundle_source = "SSL_CERT_FILE";
            return SUGA_OK;
        }
        warn(ctx, "http_client: SSL_CERT_FILE names a file that cannot be read; using the default CA bundle",
             json_pack("{s:s, s:s}", "setting", "SSL_CERT_FILE", "path", env));
    }
    const char *builtin = NULL;
#if LIBCURL_VERSION_NUM >= 0x075400 /* CURLINFO_CAINFO: 7.84.0 */
    CURL *probe = curl_easy_init();
    char *path = NULL;
    if (probe && curl_easy_getinfo(probe, CURLINFO_CAINFO, &path) == CURLE_OK && path)
        copy_text(state.ca_bundle, sizeof state.ca_bundle, path);
    if (probe)
        curl_easy_cleanup(probe);
    builtin = state.ca_bundle[0] ? state.ca_bundle : NULL;
#endif
    if (readable(builtin)) {
        state.ca_bundle_source = "libcurl default";
        return SUGA_OK;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (readable(known[i])) {
            copy_text(state.ca_bundle, sizeof state.ca_bundle, known[i]);
            state.set_cainfo = true;
            state.ca_bundle_source = "found";
            return SUGA_OK;
        }
    }
    state.ca_bundle_source = "libcurl default (no bundle file found)";
    return SUGA_OK;
}

static void default_user_agent(void)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    snprintf(state.user_agent, sizeof state.user_agent, "suga-http_client libcurl/%s", v && v->version ? v->version : "?");
    state.custom_user_agent = false;
}

static void warn_insecure_default(const suga_ctx *ctx)
{
    if (state.verify_tls || state.warned_insecure)
        return;
    state.warned_insecure = true;
    const char *setting = state.verify_tls_source;
    const char *value = !strcmp(setting, "NOT_VERIFY_SSL") ? "true" : "false";
    char message[256];
    if (!strcmp(setting, "configure"))
        snprintf(message, sizeof message,
                 "http_client: TLS certificate verification is off for every request (http_client.configure "
                 "verify_tls false); use it only for a server you trust");
    else
        snprintf(message, sizeof message,
                 "http_client: TLS certificate verification is off for every request (%s=%s); use it only for "
                 "a server you trust",
                 setting, value);
    warn(ctx, message, json_pack("{s:s, s:s}", "setting", setting, "value", value));
}

/* The settings, read from the configuration on first use (not at start-up: the module is not
 * loaded then). NOT_VERIFY_SSL, the variable of Home Assistant's own Alexa forwarder script, is
 * the inverted alias of HOME_ASSISTANT_VERIFY_SSL; both may be set when they agree, and a
 * contradiction is refused as the settings module refuses it (handlers/config/settings.c), so
 * the engine never has two answers to "is TLS verified?". The host breakers' thresholds come
 * from the breaker declared as HOST_BREAKER, or default_host_breaker. */
static suga_status ensure_ready(suga_ctx *ctx)
{
    suga_status st = init_curl(ctx);
    if (st != SUGA_OK || state.settings_ready)
        return st;
    bool verify_set = false, verify = true, alias_set = false, alias = false;
    char verify_text[16], alias_text[16];
    st = config_bool(ctx, "HOME_ASSISTANT_VERIFY_SSL", &verify_set, &verify, verify_text);
    if (st == SUGA_OK)
        st = config_bool(ctx, "NOT_VERIFY_SSL", &alias_set, &alias, alias_text);
    if (st != SUGA_OK)
        return st;
    if (verify_set && alias_set && verify == alias)
        return suga_fail(ctx, SUGA_E_STATE,
                         "%s: HOME_ASSISTANT_VERIFY_SSL=%s and NOT_VERIFY_SSL=%s contradict each other: set only one",
                         ctx->op->name, verify_text, alias_text);
    state.verify_tls = verify_set ? verify : alias_set ? !alias : true;
    state.verify_tls_source = verify_set ? "HOME_ASSISTANT_VERIFY_SSL" : alias_set ? "NOT_VERIFY_SSL" : "default";
    uint16_t index;
    bool declared = suga_breaker_find(&suga_main_table, HOST_BREAKER, strlen(HOST_BREAKER), &index, NULL) == SUGA_OK;
    state.host_breaker = declared ? &suga_main_table.breakers[index] : &default_host_breaker;
    state.timeout_ms = DEFAULT_TIMEOUT_MS;
    state.max_hosts = DEFAULT_MAX_HOSTS;
    default_user_agent();
    resolve_ca_bundle(ctx);
    state.settings_ready = true;
    warn_insecure_default(ctx);
    return SUGA_OK;
}

/* ---- the pool ---- */

static void evict_one(void)
{
    uint32_t oldest = 0;
    for (uint32_t i = 1; i < state.host_count; i++)
        if (state.hosts[i]->last_used < state.hosts[oldest]->last_used)
            oldest = i;
    curl_easy_cleanup(state.hosts[oldest]->easy); /* closes its connections */
    free(state.hosts[oldest]);
    state.hosts[oldest] = state.hosts[--state.host_count];
    state.hosts[state.host_count] = NULL;
    state.evictions++;
}

static pool_host *pool_get(const char *key, bool tls)
{
    for (uint32_t i = 0; i < state.host_count; i++)
        if (!strcmp(state.hosts[i]->key, key))
            return state.hosts[i];
    pool_host *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->easy = curl_easy_init();
    if (!h->easy) {
        free(h);
        return NULL;
    }
    copy_text(h->key, sizeof h->key, key);
    h->tls = tls;
    while (state.host_count >= state.max_hosts)
        evict_one();
    state.hosts[state.host_count++] = h;
    return h;
}

/* ---- URLs: the pool key, and the text shown in messages ---- */

typedef struct target {
    CURLU *url;
    char key[HOST_KEY_MAX];
    char shown[SHOWN_URL_MAX + 4];
    bool tls;
} target;

/* The URL as messages and log records show it: the user info replaced by the mask and the
 * fragment dropped; cut to SHOWN_URL_MAX bytes. The query is kept here: suga_fail and the log
 * masking (SUGA_MASK_MESSAGE) replace a URL's whole query wherever it is written. The user info
 * is removed here all the same, because a URL cut inside it would no longer look like one. */
static void show_url(target *t)
{
    copy_text(t->shown, sizeof t->shown, t->key); /* the fallback */
    CURLU *d = curl_url_dup(t->url);
    if (!d)
        return;
    char *part = NULL;
    if (curl_url_get(d, CURLUPART_USER, &part, 0) == CURLUE_OK && part)
        curl_url_set(d, CURLUPART_USER, SUGA_MASK, 0);
    curl_free(part);
    part = NULL;
    curl_url_set(d, CURLUPART_PASSWORD, NULL, 0);
    curl_url_set(d, CURLUPART_OPTIONS, NULL, 0);
    curl_url_set(d, CURLUPART_FRAGMENT, NULL, 0);
    if (curl_url_get(d, CURLUPART_URL, &part, 0) == CURLUE_OK && part) {
        size_t cut = 0;
        suga_util_utf8_cut(part, strlen(part), SHOWN_URL_MAX, &cut);
        snprintf(t->shown, sizeof t->shown, "%.*s%s", (int)cut, part, cut < strlen(part) ? "..." : "");
    }
    curl_free(part);
    curl_url_cleanup(d);
}

/* ---- secrets: registered with the masking function before any message is written ---- */

static suga_status remember(suga_ctx *ctx, const char *value, size_t len)
{
    if (suga_secret_add_request(value, len) != SUGA_OK) /* unmasked, a message could leak it: refuse */
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory remembering a secret to mask", ctx->op->name);
    return SUGA_OK;
}

/* The password of user:password@ in the raw URL text (as written: percent-encoded). */
static suga_status remember_url_password(suga_ctx *ctx, const char *url, size_t len)
{
    const char *scheme_end = url ? memmem(url, len, "://", 3) : NULL;
    if (!scheme_end)
        return SUGA_OK;
    const char *auth = scheme_end + 3, *end = url + len, *at = NULL;
    for (const char *c = auth; c < end && !strchr("/?#", *c); c++) /* the authority; a NUL ends it too */
        if (*c == '@')
            at = c;
    if (!at)
        return SUGA_OK;
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    return colon ? remember(ctx, colon + 1, (size_t)(at - colon - 1)) : SUGA_OK;
}

/* Every secret a request carries: the value of each secret-looking header, the credential after
 * its "Bearer " or "Basic " (a message may quote it alone), and the URL's password. Values
 * shorter than SUGA_SECRET_MIN_LEN are not remembered (suga_mask.h); the shape rules still
 * catch "Bearer x" and URL user info. Malformed headers are left to build_headers, whose
 * messages never quote a value. */
static suga_status remember_secrets(suga_ctx *ctx, const suga_args_http_client_make_request *a)
{
    suga_status st = remember_url_password(ctx, a->url.ptr, a->url.len);
    if (st != SUGA_OK || !a->has_headers || !json_is_object(a->headers))
        return st;
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)a->headers, name, value) {
        if (!json_is_string(value) || !suga_is_secret_name(name))
            continue;
        const char *v = json_string_value(value);
        size_t len = json_string_length(value);
        st = remember(ctx, v, len);
        size_t scheme = len > 7 && !strncasecmp(v, "Bearer ", 7) ? 7 : len > 6 && !strncasecmp(v, "Basic ", 6) ? 6 : 0;
        while (scheme && scheme < len && v[scheme] == ' ')
            scheme++;
        if (st == SUGA_OK && scheme)
            st = remember(ctx, v + scheme, len - scheme);
        if (st != SUGA_OK)
            return st;
    }
    return SUGA_OK;
}

static suga_status parse_target(suga_ctx *ctx, const suga_str *url, target *t)
{
    memset(t, 0, sizeof *t);
    if (memchr(url->ptr, '\0', url->len))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg 'url' contains a NUL character", ctx->op->name);
    /* checked before libcurl sees it: libcurl knows other schemes (ftp, file...) */
    if (strncasecmp(url->ptr, "http://", 7) != 0 && strncasecmp(url->ptr, "https://", 8) != 0)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg 'url' must be an http:// or https:// URL", ctx->op->name);
    t->url = curl_url();
    if (!t->url)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory parsing the URL", ctx->op->name);
    CURLUcode uc = curl_url_set(t->url, CURLUPART_URL, url->ptr, 0);
    if (uc != CURLUE_OK)
        return suga_fail(ctx, uc == CURLUE_OUT_OF_MEMORY ? SUGA_E_NOMEM : SUGA_E_INVALID_ARG,
                         "%s: arg 'url' is not a valid URL: %s", ctx->op->name, curl_url_strerror(uc));
    char *password = NULL; /* decoded, as libcurl sends it: masked in that form too */
    suga_status remembered = SUGA_OK;
    if (curl_url_get(t->url, CURLUPART_PASSWORD, &password, CURLU_URLDECODE) == CURLUE_OK && password)
        remembered = remember(ctx, password, strlen(password));
    curl_free(password);
    if (remembered != SUGA_OK)
        return remembered;
    char *scheme = NULL, *host = NULL, *port = NULL;
    suga_status st = SUGA_OK;
    if (curl_url_get(t->url, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(t->url, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(t->url, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        st = suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg 'url' needs a scheme and a host", ctx->op->name);
    else if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))
        st = suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg 'url' must be an http:// or https:// URL", ctx->op->name);
    else if (!*host)
        st = suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg 'url' has no host", ctx->op->name);
    else {
        for (char *c = scheme; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        for (char *c = host; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        t->tls = !strcmp(scheme, "https");
        snprintf(t->key, sizeof t->key, "%s://%s:%s", scheme, host, port);
        show_url(t);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    return st;
}

/* ---- request headers ---- */

static bool is_tchar(unsigned char c)
{
    return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

typedef struct request_headers {
    struct curl_slist *list;
    bool content_type, user_agent, authorization;
} request_headers;

static suga_status add_header(suga_ctx *ctx, request_headers *rh, const char *text)
{
    struct curl_slist *grown = curl_slist_append(rh->list, text);
    if (!grown)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the headers", ctx->op->name);
    rh->list = grown;
    return SUGA_OK;
}

/* Checks names (RFC 9110 tokens) and values (no CR, LF or NUL: no header injection), never
 * quoting a value (secret ones were registered for masking by remember_secrets already). */
static suga_status build_headers(suga_ctx *ctx, const json_t *headers, request_headers *rh)
{
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)headers, name, value) {
        size_t name_len = strlen(name);
        char shown[HEADER_NAME_MAX + 16];
        suga_util_quote(name, name_len, 64, shown, sizeof shown);
        if (name_len == 0 || name_len > HEADER_NAME_MAX)
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: header name %s must be 1 to %d bytes long", ctx->op->name,
                             shown, HEADER_NAME_MAX);
        for (size_t i = 0; i < name_len; i++)
            if (!is_tchar((unsigned char)name[i]))
                return suga_fail(ctx, SUGA_E_INVALID_ARG,
                                 "%s: header name %s has a character not allowed in a header name", ctx->op->name,
                                 shown);
        if (!json_is_string(value))
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: header %s must be a string", ctx->op->name, shown);
        const char *v = json_string_value(value);
        size_t len = json_string_length(value);
        if (len > HEADER_VALUE_MAX)
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: header %s is longer than %d bytes", ctx->op->name, shown,
                             HEADER_VALUE_MAX);
        for (size_t i = 0; i < len; i++)
            if (v[i] == '\r' || v[i] == '\n' || v[i] == '\0')
                return suga_fail(ctx, SUGA_E_INVALID_ARG,
                                 "%s: header %s has a line break or NUL in its value (not shown)", ctx->op->name,
                                 shown);
        rh->content_type |= !strcasecmp(name, "content-type");
        rh->user_agent |= !strcasecmp(name, "user-agent");
        rh->authorization |= !strcasecmp(name, "authorization");
        /* "Name;" is libcurl's way to send an empty value ("Name:" would remove the header) */
        size_t size = name_len + len + 3;
        char *line = malloc(size);
        if (!line)
            return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the headers", ctx->op->name);
        if (len)
            snprintf(line, size, "%s: %s", name, v);
        else
            snprintf(line, size, "%s;", name);
        suga_status st = add_header(ctx, rh, line);
        memset(line, 0, size); /* a secret value does not linger in freed memory */
        free(line);
        if (st != SUGA_OK)
            return st;
    }
    return SUGA_OK;
}

/* ---- the response ---- */

typedef struct response {
    char *data;
    size_t len, cap, max;
    bool over_limit, nomem;
    json_t *headers;   /* selected response headers of the last response, lower-case names */
    bool headers_nomem;
    bool in_headers;   /* a status line came and the blank line ending its headers has not */
} response;

static size_t on_body(char *bytes, size_t size, size_t nmemb, void *userdata)
{
    response *r = userdata;
    size_t n = size * nmemb;
    if (n > r->max - r->len) {
        r->over_limit = true;
        return 0; /* CURLE_WRITE_ERROR: the transfer stops here */
    }
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + n)
            cap *= 2;
        if (cap > r->max)
            cap = r->max;
        char *grown = realloc(r->data, cap + 1);
        if (!grown) {
            r->nomem = true;
            return 0;
        }
        r->data = grown;
        r->cap = cap;
    }
    memcpy(r->data + r->len, bytes, n);
    r->len += n;
    return n;
}

/* The headers a caller may act on; others (set-cookie above all) are not returned. */
static const char *const kept_headers[] = {
    "content-type", "content-length", "content-encoding", "content-language", "retry-after", "location",
    "etag", "last-modified", "cache-control", "expires", "date", "age", "server", "allow",
    "www-authenticate", "x-request-id", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
};

static json_t *text_value(const char *s, size_t len);

static size_t on_header(char *bytes, size_t size, size_t nmemb, void *userdata)
{
    response *r = userdata;
    size_t n = size * nmemb;
    if (n >= 5 && !memcmp(bytes, "HTTP/", 5)) { /* a new response (after a 100 Continue, say) */
        json_object_clear(r->headers);
        r->in_headers = true;
        return n;
    }
    if ((n == 2 && !memcmp(bytes, "\r\n", 2)) || (n == 1 && bytes[0] == '\n')) {
        r->in_headers = false;
        return n;
    }
    const char *colon = memchr(bytes, ':', n);
    if (!colon || colon == bytes || (size_t)(colon - bytes) >= 64)
        return n;
    char name[64];
    size_t name_len = (size_t)(colon - bytes);
    for (size_t i = 0; i < name_len; i++)
        name[i] = (char)tolower((unsigned char)bytes[i]);
    name[name_len] = '\0';
    bool kept = false;
    for (size_t i = 0; i < sizeof kept_headers / sizeof kept_headers[0] && !kept; i++)
        kept = !strcmp(name, kept_headers[i]);
    if (!kept)
        return n;
    const char *v = colon + 1, *end = bytes + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    json_t *value = text_value(v, (size_t)(end - v));
    if (!value || json_object_set_new(r->headers, name, value) != 0)
        r->headers_nomem = true;
    return n;
}

/* A JSON string of any bytes: invalid UTF-8 bytes become U+FFFD. */
static json_t *text_value(const char *s, size_t len)
{
    if (suga_utf8_valid(s, len))
        return json_stringn(s, len);
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        /* the shortest well-formed prefix is one character; none within 4 bytes: a bad byte */
        size_t step = 0;
        for (size_t k = 1; k <= 4 && i + k <= len && !step; k++)
            if (suga_utf8_valid(s + i, k))
                step = k;
        if (step) {
            memcpy(out + o, s + i, step);
            o += step;
            i += step;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    json_t *v = json_stringn(out, o);
    free(out);
    return v;
}

static bool json_content_type(const json_t *headers)
{
    const char *ct = json_string_value(json_object_get(headers, "content-type"));
    if (!ct)
        return true; /* none: parse_json applies */
    size_t len = strcspn(ct, ";");
    while (len && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
        len--;
    if (len == strlen("application/json") && !strncasecmp(ct, "application/json", len))
        return true;
    return len > 5 && !strncasecmp(ct + len - 5, "+json", 5) && !strncasecmp(ct, "application/", 12);
}

/* ---- errors ---- */

/* What a failed transfer means for the caller, and its status. */
static suga_status describe_failure(CURLcode rc, CURL *easy, const response *r, const char *errbuf, int64_t timeout,
                                    int64_t asked, bool clipped, char *out, size_t size)
{
    long os_errno = 0;
    curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        if (os_errno == ECONNREFUSED)
            snprintf(out, size, "connection refused");
        else
            snprintf(out, size, "could not connect: %s", detail);
        return SUGA_E_UNAVAILABLE;
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(out, size, "could not resolve the host name: %s", detail);
        return SUGA_E_UNAVAILABLE;
    case CURLE_OPERATION_TIMEDOUT:
        if (clipped)
            snprintf(out, size,
                     "timed out after %" PRId64 " ms: timeout_ms %" PRId64
                     " was clipped to the time left before the invocation's deadline (less %d ms)",
                     timeout, asked, SAFETY_MARGIN_MS);
        else
            snprintf(out, size, "timed out after %" PRId64 " ms", timeout);
        return SUGA_E_UNAVAILABLE;
    case CURLE_FILESIZE_EXCEEDED:
        snprintf(out, size, "response body exceeds max_response_bytes (%zu bytes)", r->max);
        return SUGA_E_LIMIT;
    case CURLE_WRITE_ERROR:
        if (r->over_limit) {
            snprintf(out, size, "response body exceeds max_response_bytes (%zu bytes)", r->max);
            return SUGA_E_LIMIT;
        }
        snprintf(out, size, "out of memory reading the response");
        return SUGA_E_NOMEM;
#if LIBCURL_VERSION_NUM >= 0x080600 /* CURLE_TOO_LARGE: 8.6.0 */
    case CURLE_TOO_LARGE: /* 8.6 and later: a header line over 100 KB, or all of them over 300 KB */
        snprintf(out, size, "response headers are too large: %s", detail);
        return SUGA_E_LIMIT;
#endif
    case CURLE_OUT_OF_MEMORY:
        /* before 8.6, libcurl refuses a response header line past its limit (100 KB) with this
         * code: the server's doing, not a lack of memory here. 7.88 leaves the error buffer empty
         * (others say "Rejected ... bytes header" or "Avoided giant realloc for header"), so the
         * sign is where it stopped: after a status line, before the end of its headers */
        if (r->in_headers || (errbuf[0] && strstr(errbuf, "header"))) {
            snprintf(out, size, "response headers are too large (a header line over libcurl's limit of 100 KB)");
            return SUGA_E_LIMIT;
        }
        snprintf(out, size, "out of memory");
        return SUGA_E_NOMEM;
    case CURLE_PEER_FAILED_VERIFICATION:
        snprintf(out, size, "TLS certificate verification failed: %s", detail);
        return SUGA_E_UNAVAILABLE;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        snprintf(out, size, "TLS handshake failed: %s", detail);
        return SUGA_E_UNAVAILABLE;
    case CURLE_GOT_NOTHING:
        snprintf(out, size, "the server closed the connection without answering");
        return SUGA_E_UNAVAILABLE;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        snprintf(out, size, "%s", detail);
        return SUGA_E_INVALID_ARG;
    default:
        snprintf(out, size, "%s", detail);
        return SUGA_E_UNAVAILABLE;
    }
}

/* ---- make_request ---- */

/* suga_fail masks the message: the URL's query, and every secret remember_secrets registered */
static suga_status request_failed(suga_ctx *ctx, suga_status st, const char *method, const target *t, pool_host *h,
                                  const char *why)
{
    suga_fail(ctx, st, "%s: %s %s: %s", ctx->op->name, method, t->shown, why);
    if (h) {
        h->errors++;
        /* the message without the operation's name, for http_client.status */
        const char *tail = ctx->error + strlen(ctx->op->name) + 2;
        copy_text(h->last_error, sizeof h->last_error, tail);
    }
    return st;
}

typedef struct request_body {
    const char *data;
    size_t len;
    char *owned;      /* JSON text made here */
    const char *type; /* content-type to add when the caller gave none */
} request_body;

static suga_status encode_body(suga_ctx *ctx, const suga_args_http_client_make_request *a, const char *method,
                               request_body *b)
{
    memset(b, 0, sizeof *b);
    if (!a->has_body || !a->body || json_is_null(a->body))
        return SUGA_OK;
    if (!strcmp(method, "HEAD"))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: a HEAD request has no body", ctx->op->name);
    if (json_is_string(a->body)) {
        b->data = json_string_value(a->body);
        b->len = json_string_length(a->body);
        b->type = "Content-Type: text/plain; charset=utf-8";
        return SUGA_OK;
    }
    b->owned = json_dumps(a->body, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!b->owned)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg 'body' cannot be encoded as JSON", ctx->op->name);
    b->data = b->owned;
    b->len = strlen(b->owned);
    b->type = "Content-Type: application/json";
    return SUGA_OK;
}

/* POST, PUT and PATCH always carry a body (maybe empty: Content-Length: 0); GET and DELETE only
 * when one is given; HEAD never. */
static void set_method(CURL *easy, const char *method, const request_body *b)
{
    bool get = !strcmp(method, "GET"), del = !strcmp(method, "DELETE");
    if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
        return;
    }
    if (get && !b->data) {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
        return;
    }
    if (b->data || !del) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->len);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, b->data ? b->data : "");
    }
    if (strcmp(method, "POST") != 0)
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
}

static void log_request(const suga_ctx *ctx, const char *method, const target *t, long status, double elapsed_ms,
                        bool reused)
{
    json_t *fields = json_pack("{s:s, s:s, s:s, s:I, s:f, s:b}", "method", method, "url", t->shown, "host", t->key,
                               "status", (json_int_t)status, "elapsed_ms", elapsed_ms, "reused_connection", reused);
    suga_log_write(ctx, SUGA_LOG_DEBUG, "http_client request", fields, NULL);
    json_decref(fields);
}

/* What one transfer says about its host, for the host's breaker: an answer below 500 is a
 * success; a 5xx answer or a transport failure (refused, unreachable, DNS, timeout, TLS, hung
 * up) is a failure; anything else (our own limits, out of memory, a timeout cut short by the
 * invocation's deadline) says nothing about the host and only frees a half-open trial slot. */
static void record_host_outcome(pool_host *h, CURLcode rc, suga_status failure, bool clipped, long status)
{
    suga_status outcome = SUGA_E_STATE; /* not counted */
    if (rc == CURLE_OK)
        outcome = status >= 500 ? SUGA_E_UNAVAILABLE : SUGA_OK;
    else if (failure == SUGA_E_UNAVAILABLE && !(rc == CURLE_OPERATION_TIMEDOUT && clipped))
        outcome = SUGA_E_UNAVAILABLE;
    suga_breaker_state_record_status(state.host_breaker, &h->breaker, outcome, suga_clock_monotonic_ms());
}

/* ---- AWS Signature Version 4: done by libcurl, with the process's own credentials ---- */

/* The credentials an aws_sigv4 request is signed with. They come from the environment Lambda
 * gives the function (its role's temporary credentials), never from the arguments, so no caller
 * can hand a key to a log or a message; the masking function knows them by name already. */
typedef struct aws_signing {
    const char *provider; /* "aws:amz:REGION:SERVICE", NULL when the request is not signed */
    const char *access_key, *secret_key, *session_token;
} aws_signing;

static suga_status aws_signing_for(suga_ctx *ctx, const suga_args_http_client_make_request *a,
                                   const request_headers *rh, aws_signing *sig)
{
    *sig = (aws_signing){0};
    if (!a->has_aws_sigv4)
        return SUGA_OK;
#if LIBCURL_VERSION_NUM < 0x074b00 /* 7.75.0: CURLOPT_AWS_SIGV4 */
    (void)rh;
    return suga_fail(ctx, SUGA_E_STATE, "%s: aws_sigv4 needs libcurl 7.75 or later, this one is %s", ctx->op->name,
                     LIBCURL_VERSION);
#else
    if (rh->authorization) /* the signature is the Authorization header */
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: aws_sigv4 signs the request in its Authorization header: "
                                                  "an Authorization header of the caller's cannot go with it",
                         ctx->op->name);
    const char *key = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY"),
               *token = getenv("AWS_SESSION_TOKEN");
    if (!key || !*key || !secret || !*secret)
        return suga_fail(ctx, SUGA_E_STATE, "%s: aws_sigv4 needs the environment's AWS_ACCESS_KEY_ID and "
                                            "AWS_SECRET_ACCESS_KEY (Lambda sets them from the function's role)",
                         ctx->op->name);
    *sig = (aws_signing){.provider = a->aws_sigv4.ptr, .access_key = key, .secret_key = secret,
                         .session_token = token && *token ? token : NULL};
    return SUGA_OK;
#endif
}

/* Temporary credentials are only valid with their session token, which SigV4 sends (and signs)
 * as X-Amz-Security-Token. */
static suga_status add_session_token(suga_ctx *ctx, request_headers *rh, const char *token)
{
    size_t size = sizeof "X-Amz-Security-Token: " + strlen(token);
    char *line = malloc(size);
    if (!line)
        return suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory building the headers", ctx->op->name);
    snprintf(line, size, "X-Amz-Security-Token: %s", token);
    suga_status st = add_header(ctx, rh, line);
    memset(line, 0, size); /* the token does not linger in freed memory (libcurl keeps its copy) */
    free(line);
    return st;
}

static void sign_request(CURL *e, const aws_signing *sig)
{
#if LIBCURL_VERSION_NUM >= 0x074b00
    if (!sig->provider)
        return;
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, sig->provider);
    curl_easy_setopt(e, CURLOPT_USERNAME, sig->access_key);
    curl_easy_setopt(e, CURLOPT_PASSWORD, sig->secret_key);
#else
    (void)e, (void)sig;
#endif
}

static suga_status perform(suga_ctx *ctx, const suga_args_http_client_make_request *a, const char *method, target *t,
                           json_t **result)
{
    /* the timeout: the caller's (or the configured default), never past the deadline */
    int64_t asked = a->has_timeout_ms ? a->timeout_ms : state.timeout_ms, timeout = asked;
    bool clipped = false;
    if (ctx->deadline_ms > 0) {
        int64_t left = ctx->deadline_ms - suga_clock_wall_ms() - SAFETY_MARGIN_MS;
        if (left <= 0) {
            char why[160];
            snprintf(why, sizeof why,
                     "no time left before the invocation's deadline (%" PRId64 " ms left, %d ms are kept to answer in)",
                     left + SAFETY_MARGIN_MS, SAFETY_MARGIN_MS);
            return request_failed(ctx, SUGA_E_UNAVAILABLE, method, t, NULL, why); /* no host asked: not counted */
        }
        if (left < timeout) {
            timeout = left;
            clipped = true;
        }
    }
    bool verify = a->has_verify_tls ? a->verify_tls : state.verify_tls;

    request_body body;
    suga_status st = encode_body(ctx, a, method, &body);
    if (st != SUGA_OK)
        return st;
    request_headers rh = {0};
    if (a->has_headers && a->headers)
        st = build_headers(ctx, a->headers, &rh);
    if (st == SUGA_OK && body.type && !rh.content_type)
        st = add_header(ctx, &rh, body.type);
    if (st == SUGA_OK && body.data) /* no "Expect: 100-continue" round trip before a large body */
        st = add_header(ctx, &rh, "Expect:");
    aws_signing sig = {0};
    if (st == SUGA_OK)
        st = aws_signing_for(ctx, a, &rh, &sig);
    if (st == SUGA_OK && sig.session_token)
        st = add_session_token(ctx, &rh, sig.session_token);
    pool_host *h = NULL;
    if (st == SUGA_OK && !(h = pool_get(t->key, t->tls)))
        st = suga_fail(ctx, SUGA_E_NOMEM, "%s: out of memory adding %s to the pool", ctx->op->name, t->key);
    /* the host's breaker, unless an operation's own breaker counts this call (under_breaker) */
    bool counted = st == SUGA_OK && !ctx->under_breaker;
    if (counted) {
        char subject[HOST_KEY_MAX + 64];
        snprintf(subject, sizeof subject, "%s: circuit breaker for %s", ctx->op->name, h->key);
        st = suga_breaker_state_admit(state.host_breaker, &h->breaker, subject, suga_clock_monotonic_ms(), ctx);
    }
    if (st != SUGA_OK) {
        curl_slist_free_all(rh.list);
        free(body.owned);
        return st;
    }
    h->last_used = ++state.sequence;
    h->last_used_ms = suga_clock_monotonic_ms();
    if (!verify && t->tls && a->has_verify_tls && !h->warned_insecure && state.verify_tls) {
        h->warned_insecure = true;
        char message[HOST_KEY_MAX + 128];
        snprintf(message, sizeof message, "http_client: TLS certificate verification is off for a request to %s (verify_tls false)", h->key);
        warn(ctx, message, json_pack("{s:s}", "host", h->key));
    }

    response r = {.max = (size_t)a->max_response_bytes, .headers = json_object()};
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *e = h->easy;
    curl_easy_reset(e); /* keeps live connections, the DNS cache and TLS sessions */
    curl_easy_setopt(e, CURLOPT_CURLU, t->url);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    if (state.set_cainfo)
        curl_easy_setopt(e, CURLOPT_CAINFO, state.ca_bundle);
    if (!rh.user_agent)
        curl_easy_setopt(e, CURLOPT_USERAGENT, state.user_agent);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, rh.list);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r.max);
    set_method(e, method, &body);
    sign_request(e, &sig);

    double started = suga_clock_elapsed_ms();
    CURLcode rc = r.headers ? curl_easy_perform(e) : CURLE_OUT_OF_MEMORY;
    double elapsed_ms = (double)(int64_t)((suga_clock_elapsed_ms() - started) * 100.0) / 100.0; /* 0.01 ms */
    h->verify_tls = verify;

    long connects = 0, status = 0;
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    char why[CURL_ERROR_SIZE + 200] = "";
    suga_status failure = SUGA_OK;
    if (rc != CURLE_OK)
        failure = describe_failure(rc, e, &r, errbuf, timeout, asked, clipped, why, sizeof why);
    if (counted) /* what the host did, before what became of its answer here */
        record_host_outcome(h, rc, failure, clipped, status);
    h->requests++;
    h->connections += (uint64_t)(connects > 0 ? connects : 0);
    bool reused = rc == CURLE_OK && connects == 0;
    h->reuses += reused;
    /* nothing of the request may outlive the call inside the handle: the header list and body
     * are freed below, and the handle keeps pointers to them until the next reset */
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(e, CURLOPT_CURLU, NULL);
    curl_slist_free_all(rh.list);
    free(body.owned);

    if (rc != CURLE_OK || r.nomem || r.headers_nomem) {
        st = rc == CURLE_OK ? SUGA_E_NOMEM : failure;
        if (rc == CURLE_OK)
            snprintf(why, sizeof why, "out of memory reading the response");
        free(r.data);
        json_decref(r.headers);
        log_request(ctx, method, t, 0, elapsed_ms, false);
        return request_failed(ctx, st, method, t, h, why);
    }
    h->last_status = status;

    json_t *body_value = NULL;
    if (r.len == 0 || !strcmp(method, "HEAD")) {
        body_value = json_null();
    } else if (a->parse_json && json_content_type(r.headers)) {
        json_error_t jerr;
        body_value = json_loadb(r.data, r.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (!body_value && status >= 200 && status < 300) {
            snprintf(why, sizeof why, "response is not valid JSON (line %d, column %d): %s", jerr.line, jerr.column,
                     jerr.text);
            free(r.data);
            json_decref(r.headers);
            log_request(ctx, method, t, status, elapsed_ms, reused);
            return request_failed(ctx, SUGA_E_HANDLER, method, t, h, why);
        }
        if (!body_value) /* an error page that claims JSON: the status is what the caller acts on */
            body_value = text_value(r.data, r.len);
    } else {
        body_value = text_value(r.data, r.len);
    }
    free(r.data);
    log_request(ctx, method, t, status, elapsed_ms, reused);
    if (!body_value) {
        json_decref(r.headers);
        return request_failed(ctx, SUGA_E_NOMEM, method, t, h, "out of memory building the result");
    }
    return suga_util_result(ctx,
                            json_pack("{s:I, s:o, s:o, s:f, s:b}", "status", (json_int_t)status, "headers", r.headers,
                                      "body", body_value, "elapsed_ms", elapsed_ms, "reused_connection", reused),
                            result);
}

suga_status suga_handle_http_client_make_request(suga_ctx *ctx, const suga_args_http_client_make_request *args, json_t **result)
{
    /* first of all: from here on every message that quotes a secret of this request (libcurl's,
     * OpenSSL's or jansson's text, say) is masked by suga_fail, and every log record by the
     * logger */
    suga_status st = remember_secrets(ctx, args);
    if (st == SUGA_OK)
        st = ensure_ready(ctx);
    if (st != SUGA_OK)
        return st;
    char method[8];
    size_t mlen = args->method.len < sizeof method - 1 ? args->method.len : sizeof method - 1;
    for (size_t i = 0; i < mlen; i++)
        method[i] = (char)toupper((unsigned char)args->method.ptr[i]);
    method[mlen] = '\0';
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"};
    bool known = false;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        known |= !strcmp(method, methods[i]);
    if (!known) /* the spec's pattern refuses these on the JSON path; a typed caller may not have */
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "%s: arg 'method' must be GET, POST, PUT, DELETE, PATCH or HEAD", ctx->op->name);
    if (args->max_response_bytes < 1)
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg 'max_response_bytes' must be at least 1", ctx->op->name);
    if (args->has_headers && args->headers && !json_is_object(args->headers))
        return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg 'headers' must be an object", ctx->op->name);

    target t;
    st = parse_target(ctx, &args->url, &t);
    if (st == SUGA_OK)
        st = perform(ctx, args, method, &t, result);
    curl_url_cleanup(t.url);
    return st;
}

/* ---- status and configure ---- */

/* The thresholds every host's breaker uses, and where they come from. */
static json_t *host_breaker_json(void)
{
    const suga_breaker *b = state.host_breaker;
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:s}", "name", b->name, "failure_threshold",
                     (json_int_t)b->failure_threshold, "cooldown_seconds", (json_int_t)b->cooldown_seconds,
                     "half_open_max_calls", (json_int_t)b->half_open_max_calls, "success_threshold",
                     (json_int_t)b->success_threshold, "source", b->source);
}

static json_t *settings_json(void)
{
    return json_pack("{s:I, s:b, s:s, s:I, s:s, s:b, s:s?, s:s, s:o}", "timeout_ms", (json_int_t)state.timeout_ms,
                     "verify_tls", state.verify_tls, "verify_tls_source", state.verify_tls_source, "max_hosts",
                     (json_int_t)state.max_hosts, "user_agent", state.user_agent, "custom_user_agent",
                     state.custom_user_agent, "ca_bundle", state.ca_bundle[0] ? state.ca_bundle : NULL,
                     "ca_bundle_source", state.ca_bundle_source, "host_breaker", host_breaker_json());
}

static json_t *libcurl_json(void)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    if (!v)
        return json_null();
    json_t *protocols = json_array();
    for (const char *const *p = v->protocols; protocols && p && *p; p++)
        json_array_append_new(protocols, json_string(*p));
    return json_pack("{s:s, s:s?, s:s?, s:o, s:b, s:b, s:b, s:b, s:b}", "version", v->version, "ssl_version",
                     v->ssl_version, "libz_version", v->libz_version, "protocols", protocols, "ssl",
                     (v->features & CURL_VERSION_SSL) != 0, "http2", (v->features & CURL_VERSION_HTTP2) != 0, "ipv6",
                     (v->features & CURL_VERSION_IPV6) != 0, "libz", (v->features & CURL_VERSION_LIBZ) != 0,
                     "async_dns", (v->features & CURL_VERSION_ASYNCHDNS) != 0);
}

/* One pooled host; its breaker as circuit_breaker.get shows a named one, less what every host
 * shares (the thresholds and their source are in settings.host_breaker). */
static json_t *host_json(const pool_host *h, int64_t now)
{
    json_t *breaker = NULL;
    if (suga_breaker_state_describe(state.host_breaker, &h->breaker, now, &breaker) != SUGA_OK)
        return NULL;
    static const char *const shared[] = {"name", "failure_threshold", "cooldown_seconds", "half_open_max_calls",
                                         "success_threshold", "source"};
    for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++)
        json_object_del(breaker, shared[i]);
    return json_pack("{s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:o, s:s?, s:I, s:o}", "host", h->key, "tls", h->tls,
                     "verify_tls", h->verify_tls, "connections", (json_int_t)h->connections, "requests",
                     (json_int_t)h->requests, "reuses", (json_int_t)h->reuses, "errors", (json_int_t)h->errors,
                     "last_status", h->last_status ? json_integer(h->last_status) : json_null(), "last_error",
                     h->last_error[0] ? h->last_error : NULL, "idle_ms", (json_int_t)(now - h->last_used_ms),
                     "breaker", breaker);
}

suga_status suga_handle_http_client_status(suga_ctx *ctx, const suga_args_http_client_status *args, json_t **result)
{
    (void)args;
    suga_status st = ensure_ready(ctx);
    if (st != SUGA_OK)
        return st;
    json_t *hosts = json_array();
    int64_t now = suga_clock_monotonic_ms();
    /* most recently used first */
    const pool_host *order[MAX_HOSTS];
    for (uint32_t i = 0; i < state.host_count; i++) {
        uint32_t j = i;
        while (j > 0 && order[j - 1]->last_used < state.hosts[i]->last_used) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = state.hosts[i];
    }
    for (uint32_t i = 0; hosts && i < state.host_count; i++) {
        json_t *hj = host_json(order[i], now);
        if (!hj || json_array_append_new(hosts, hj) != 0) {
            json_decref(hosts);
            hosts = NULL;
        }
    }
    json_t *built = NULL;
    if (hosts)
        built = json_pack("{s:o, s:o, s:o, s:I, s:I}", "libcurl", libcurl_json(), "settings", settings_json(), "hosts",
                          hosts, "host_count", (json_int_t)state.host_count, "evictions", (json_int_t)state.evictions);
    return suga_util_result(ctx, built, result);
}

suga_status suga_handle_http_client_configure(suga_ctx *ctx, const suga_args_http_client_configure *args, json_t **result)
{
    suga_status st = ensure_ready(ctx);
    if (st != SUGA_OK)
        return st;
    if ((args->has_timeout_ms && (args->timeout_ms < 1 || args->timeout_ms > 60000)) ||
        (args->has_max_hosts && (args->max_hosts < 1 || args->max_hosts > MAX_HOSTS)))
        return suga_fail(ctx, SUGA_E_INVALID_ARG,
                         "%s: timeout_ms must be in [1, 60000] and max_hosts in [1, %d]", ctx->op->name, MAX_HOSTS);
    if (args->has_user_agent) {
        if (args->user_agent.len > USER_AGENT_MAX)
            return suga_fail(ctx, SUGA_E_INVALID_ARG, "%s: arg 'user_agent' is longer than %d bytes", ctx->op->name,
                             USER_AGENT_MAX);
        for (size_t i = 0; i < args->user_agent.len; i++)
            if (args->user_agent.ptr[i] < ' ' || args->user_agent.ptr[i] > '~')
                return suga_fail(ctx, SUGA_E_INVALID_ARG,
                                 "%s: arg 'user_agent' must be printable ASCII", ctx->op->name);
    }
    if (args->has_timeout_ms)
        state.timeout_ms = args->timeout_ms;
    if (args->has_max_hosts) {
        state.max_hosts = (uint32_t)args->max_hosts;
        while (state.host_count > state.max_hosts)
            evict_one();
    }
    if (args->has_user_agent) {
        if (args->user_agent.len == 0) {
            default_user_agent();
        } else {
            snprintf(state.user_agent, sizeof state.user_agent, "%.*s", (int)args->user_agent.len, args->user_agent.ptr);
            state.custom_user_agent = true;
        }
    }
    if (args->has_verify_tls) {
        if (args->verify_tls != state.verify_tls)
            state.warned_insecure = false; /* a change back to off is warned about again */
        state.verify_tls = args->verify_tls;
        state.verify_tls_source = "configure";
        warn_insecure_default(ctx);
    }
    return suga_util_result(ctx, settings_json(), result);
}
