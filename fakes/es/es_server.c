/*
 * es_server.c - the fake Elasticsearch's life and its public API: config,
 * start/stop, faults, accounting and the expectation queries. The HTTP
 * routes are in es_routes.c.
 */
#include "es_server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/duration.h"
#include "core/fsutil.h"
#include "es_json.h"

/* ------------------------------------------------------------ config */

void efk_es_config_init(efk_es_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->store_limit = ES_STORE_DEFAULT_LIMIT;
    cfg->max_content_length = (uint64_t)100 << 20;
    /* large bodies arrive in few callbacks with a large buffer, but
     * libmicrohttpd zeroes the whole buffer after every request: 512 KiB
     * measured best for 360 KB bulk bodies */
    cfg->conn_memory = (size_t)512 << 10;
}

static void creds_free(efk_es_credential *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].user);
        free(c[i].secret);
    }
}

void efk_es_config_cleanup(efk_es_config *cfg)
{
    free(cfg->version);
    free(cfg->cluster_name);
    free(cfg->node_name);
    creds_free(cfg->users, cfg->nusers);
    creds_free(cfg->api_keys, cfg->napi_keys);
    free(cfg->acct_field);
    free(cfg->acct_regex);
    json_decref(cfg->expected);
    json_decref(cfg->faults);
    efk_es_config_init(cfg);
}


static int get_string(const json_t *v, char **out, efk_err *err, const char *ptr)
{
    if (!json_is_string(v))
        return efk_err_invalid(err, ptr, "expected a string");
    free(*out);
    *out = strdup(json_string_value(v));
    return *out ? 0 : efk_err_set(err, -ENOMEM, "out of memory");
}

static int get_size(const json_t *v, uint64_t *out, efk_err *err, const char *ptr)
{
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v) && size_parse(json_string_value(v), out) == 0 && *out > 0)
        return 0;
    return efk_err_invalid(err, ptr, "expected a byte size like \"1G\", \"512MiB\" or a positive integer");
}

static int parse_creds(const json_t *arr, efk_es_credential *out, size_t *n, const char *ptr,
                       const char *k1, const char *k2, efk_err *err)
{
    char p[128];
    if (!json_is_array(arr))
        return efk_err_invalid(err, ptr, "expected an array of objects");
    if (json_array_size(arr) > EFK_ES_MAX_CREDENTIALS)
        return efk_err_invalid(err, ptr, "at most 32 entries");
    size_t i;
    json_t *o;
    json_array_foreach (arr, i, o) {
        snprintf(p, sizeof(p), "%s/%zu", ptr, i);
        if (!json_is_object(o))
            return efk_err_invalid(err, p, "expected an object");
        const char *k;
        json_t *v;
        json_object_foreach (o, k, v) {
            if (strcmp(k, k1) && strcmp(k, k2)) {
                snprintf(p, sizeof(p), "%s/%zu/%s", ptr, i, k);
                return efk_err_invalid(err, p, "unknown key \"%s\"; allowed: %s, %s", k, k1, k2);
            }
        }
        json_t *a = json_object_get(o, k1), *b = json_object_get(o, k2);
        if (!json_is_string(a) || !json_is_string(b)) {
            snprintf(p, sizeof(p), "%s/%zu/%s", ptr, i, json_is_string(a) ? k2 : k1);
            return efk_err_invalid(err, p, "expected a string");
        }
        out[*n].user = strdup(json_string_value(a));
        out[*n].secret = strdup(json_string_value(b));
        (*n)++;
        if (!out[*n - 1].user || !out[*n - 1].secret)
            return efk_err_set(err, -ENOMEM, "out of memory");
    }
    return 0;
}

static const char *const TOP_KEYS =
    "version, store_limit, store, max_content_length, cluster_name, node_name, conn_memory, "
    "security, accounting, expected, faults";

int efk_es_config_parse(efk_es_config *cfg, const json_t *section, const char *base_dir,
                        efk_err *err)
{
    (void)base_dir;
    if (!section)
        return 0;
    if (!json_is_object(section))
        return efk_err_invalid(err, "", "expected an object");
    const char *k;
    json_t *v;
    char ptr[256];
    int rc = 0;
    json_object_foreach ((json_t *)section, k, v) {
        snprintf(ptr, sizeof(ptr), "/%s", k);
        if (strcmp(k, "version") == 0) {
            es_persona p;
            if (json_is_number(v)) {
                char tmp[32];
                snprintf(tmp, sizeof(tmp), "%g", json_number_value(v));
                json_t *s = json_string(tmp);
                rc = get_string(s, &cfg->version, err, ptr);
                json_decref(s);
            } else {
                rc = get_string(v, &cfg->version, err, ptr);
            }
            if (!rc && es_persona_parse(cfg->version, &p, err)) {
                efk_err_at(err, ptr);
                return -EINVAL;
            }
        } else if (strcmp(k, "store_limit") == 0) {
            rc = get_size(v, &cfg->store_limit, err, ptr);
        } else if (strcmp(k, "max_content_length") == 0) {
            rc = get_size(v, &cfg->max_content_length, err, ptr);
        } else if (strcmp(k, "conn_memory") == 0) {
            uint64_t n = 0;
            rc = get_size(v, &n, err, ptr);
            cfg->conn_memory = (size_t)n;
        } else if (strcmp(k, "store") == 0) {
            if (json_is_string(v) && strcmp(json_string_value(v), "full") == 0)
                cfg->accounting_only = false;
            else if (json_is_string(v) && strcmp(json_string_value(v), "accounting") == 0)
                cfg->accounting_only = true;
            else
                return efk_err_invalid(err, ptr, "expected \"full\" or \"accounting\"");
        } else if (strcmp(k, "cluster_name") == 0) {
            rc = get_string(v, &cfg->cluster_name, err, ptr);
        } else if (strcmp(k, "node_name") == 0) {
            rc = get_string(v, &cfg->node_name, err, ptr);
        } else if (strcmp(k, "security") == 0) {
            if (!json_is_object(v))
                return efk_err_invalid(err, ptr, "expected an object");
            const char *sk;
            json_t *sv;
            json_object_foreach (v, sk, sv) {
                char sp[256];
                snprintf(sp, sizeof(sp), "/security/%s", sk);
                if (strcmp(sk, "users") == 0)
                    rc = parse_creds(sv, cfg->users, &cfg->nusers, sp, "name", "password", err);
                else if (strcmp(sk, "api_keys") == 0)
                    rc = parse_creds(sv, cfg->api_keys, &cfg->napi_keys, sp, "id", "key", err);
                else
                    return efk_err_invalid(err, sp, "unknown key \"%s\"; allowed: users, api_keys", sk);
                if (rc)
                    return rc;
            }
        } else if (strcmp(k, "accounting") == 0) {
            if (!json_is_object(v))
                return efk_err_invalid(err, ptr, "expected an object");
            const char *ak;
            json_t *av;
            json_object_foreach (v, ak, av) {
                char ap[256];
                snprintf(ap, sizeof(ap), "/accounting/%s", ak);
                if (strcmp(ak, "field") == 0)
                    rc = get_string(av, &cfg->acct_field, err, ap);
                else if (strcmp(ak, "regex") == 0)
                    rc = get_string(av, &cfg->acct_regex, err, ap);
                else if (strcmp(ak, "max_streams") == 0) {
                    if (!json_is_integer(av) || json_integer_value(av) <= 0 ||
                        json_integer_value(av) > 1000000)
                        return efk_err_invalid(err, ap, "expected an integer in 1..1000000");
                    cfg->acct_max_streams = (size_t)json_integer_value(av);
                } else
                    return efk_err_invalid(err, ap, "unknown key \"%s\"; allowed: field, regex, max_streams",
                               ak);
                if (rc)
                    return rc;
            }
            if (cfg->acct_regex) {
                es_acct_config ac = {.regex = cfg->acct_regex};
                es_acct *a = NULL;
                efk_err e2;
                efk_err_init(&e2);
                if (es_acct_new(&ac, &a, &e2)) {
                    efk_err_at(err, "/accounting/regex");
                    return efk_err_set(err, -EINVAL, "%s", e2.msg);
                }
                es_acct_free(a);
            }
        } else if (strcmp(k, "expected") == 0) {
            if (!json_is_object(v))
                return efk_err_invalid(err, ptr, "expected an object of stream: line count");
            const char *ek;
            json_t *ev;
            json_object_foreach (v, ek, ev) {
                if (!json_is_integer(ev) || json_integer_value(ev) < 0) {
                    snprintf(ptr, sizeof(ptr), "/expected/%s", ek);
                    return efk_err_invalid(err, ptr, "expected a line count");
                }
            }
            json_decref(cfg->expected);
            cfg->expected = json_deep_copy(v);
        } else if (strcmp(k, "faults") == 0) {
            if (!json_is_array(v))
                return efk_err_invalid(err, ptr, "expected an array of fault rules");
            json_decref(cfg->faults);
            cfg->faults = json_deep_copy(v);
        } else {
            return efk_err_invalid(err, ptr,
                       "unknown key \"%s\"; allowed: version, store_limit, store, "
                       "max_content_length, cluster_name, node_name, conn_memory, "
                       "security, accounting, expected, faults",
                       k);
        }
        if (rc)
            return rc;
    }
    (void)TOP_KEYS;
    return 0;
}

/* ------------------------------------------------------------ faults */

static int check_items(const json_t *params, efk_err *err)
{
    if (!json_is_object(params))
        return efk_err_invalid(err, "", "expected an object");
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)params, k, v) {
        char p[128];
        snprintf(p, sizeof(p), "/%s", k);
        if (strcmp(k, "status") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 400 || json_integer_value(v) > 599)
                return efk_err_invalid(err, p, "expected an HTTP error status (400..599)");
        } else if (strcmp(k, "type") == 0 || strcmp(k, "reason") == 0 || strcmp(k, "index") == 0) {
            if (!json_is_string(v))
                return efk_err_invalid(err, p, "expected a string");
        } else if (strcmp(k, "positions") == 0) {
            if (!json_is_array(v) || json_array_size(v) > 1000)
                return efk_err_invalid(err, p, "expected an array of item positions (1-based)");
            size_t i;
            json_t *x;
            json_array_foreach (v, i, x)
                if (!json_is_integer(x) || json_integer_value(x) < 1) {
                    snprintf(p, sizeof(p), "/positions/%zu", i);
                    return efk_err_invalid(err, p, "expected a positive integer");
                }
        } else if (strcmp(k, "every") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 1)
                return efk_err_invalid(err, p, "expected a positive integer");
        } else if (strcmp(k, "probability") == 0) {
            if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1)
                return efk_err_invalid(err, p, "expected a number in 0..1");
        } else {
            return efk_err_invalid(err, p,
                       "unknown key \"%s\"; allowed: status, type, reason, positions, "
                       "every, index, probability",
                       k);
        }
    }
    if (!json_object_get(params, "status"))
        return efk_err_invalid(err, "/status", "required: the item status (e.g. 429)");
    return 0;
}

static const char *const KINDS[] = {
    "rejected_execution", "circuit_breaking", "no_master", "unavailable",
    "too_large",          "proxy_html",       "security",  NULL};

static int check_reject(const json_t *params, efk_err *err)
{
    if (!json_is_object(params))
        return efk_err_invalid(err, "", "expected an object");
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)params, k, v) {
        if (strcmp(k, "kind") != 0)
            return efk_err_invalid(err, "", "unknown key \"%s\"; allowed: kind", k);
    }
    json_t *kind = json_object_get(params, "kind");
    if (!json_is_string(kind))
        return efk_err_invalid(err, "/kind",
                   "required: one of rejected_execution, circuit_breaking, "
                   "no_master, unavailable, too_large, proxy_html, security");
    for (size_t i = 0; KINDS[i]; i++)
        if (strcmp(KINDS[i], json_string_value(kind)) == 0)
            return 0;
    return efk_err_invalid(err, "/kind",
               "unknown kind \"%s\"; allowed: rejected_execution, circuit_breaking, "
               "no_master, unavailable, too_large, proxy_html, security",
               json_string_value(kind));
}

es_rule_state *es_rule_state_get(efk_es *es, const char *id)
{
    pthread_mutex_lock(&es->rules_lock);
    es_rule_state *free_slot = NULL;
    for (size_t i = 0; i < ES_MAX_RULE_STATES; i++) {
        es_rule_state *s = &es->rules[i];
        if (s->used && strcmp(s->id, id) == 0) {
            pthread_mutex_unlock(&es->rules_lock);
            return s;
        }
        if (!s->used && !free_slot)
            free_slot = s;
    }
    if (!free_slot) {
        /* forget states of rules that are gone */
        for (size_t i = 0; i < ES_MAX_RULE_STATES; i++)
            if (fault_uses(es->faults, es->rules[i].id) == -ENOENT)
                es->rules[i].used = false;
        for (size_t i = 0; i < ES_MAX_RULE_STATES && !free_slot; i++)
            if (!es->rules[i].used)
                free_slot = &es->rules[i];
    }
    if (free_slot) {
        memset(free_slot, 0, sizeof(*free_slot));
        snprintf(free_slot->id, sizeof(free_slot->id), "%s", id);
        char stream[FAULT_ID_MAX + 16];
        snprintf(stream, sizeof(stream), "es.items.%s", id);
        rng_init(&free_slot->rng, es->rt.seed, stream);
        free_slot->used = true;
    }
    pthread_mutex_unlock(&es->rules_lock);
    return free_slot;
}

int efk_es_fault_add(efk_es *es, const json_t *rule, char *id_out, efk_err *err)
{
    return fault_add_json(es->faults, rule, false, id_out, err);
}

int efk_es_fault_del(efk_es *es, const char *id)
{
    pthread_mutex_lock(&es->rules_lock);
    for (size_t i = 0; i < ES_MAX_RULE_STATES; i++)
        if (es->rules[i].used && strcmp(es->rules[i].id, id) == 0)
            es->rules[i].used = false;
    pthread_mutex_unlock(&es->rules_lock);
    return fault_del(es->faults, id);
}

int efk_es_fail_items(efk_es *es, const efk_es_item_fault *f, char *id_out, efk_err *err)
{
    json_t *params = json_pack("{si}", "status", f->status);
    json_t *rule = json_pack("{s{ss}ss}", "match", "path", "*_bulk", "action", "es_items");
    if (!params || !rule) {
        json_decref(params);
        json_decref(rule);
        return efk_err_set(err, -ENOMEM, "out of memory");
    }
    if (f->error_type)
        json_object_set_new(params, "type", json_string(f->error_type));
    if (f->reason)
        json_object_set_new(params, "reason", json_string(f->reason));
    if (f->npositions) {
        json_t *a = json_array();
        for (size_t i = 0; i < f->npositions; i++)
            json_array_append_new(a, json_integer(f->positions[i]));
        json_object_set_new(params, "positions", a);
    }
    if (f->every)
        json_object_set_new(params, "every", json_integer((json_int_t)f->every));
    if (f->index)
        json_object_set_new(params, "index", json_string(f->index));
    if (f->probability >= 0)
        json_object_set_new(params, "probability", json_real(f->probability));
    json_object_set_new(rule, "params", params);
    if (f->id)
        json_object_set_new(rule, "id", json_string(f->id));
    if (f->times > 0)
        json_object_set_new(rule, "times", json_integer(f->times));
    int rc = fault_add_json(es->faults, rule, false, id_out, err);
    json_decref(rule);
    return rc;
}

int efk_es_fail_requests(efk_es *es, const char *kind, const char *path_glob, int64_t times,
                         char *id_out, efk_err *err)
{
    json_t *rule = json_pack("{s{ss}sss{ss}}", "match", "path", path_glob ? path_glob : "*_bulk",
                             "action", "es_reject", "params", "kind", kind ? kind : "");
    if (!rule)
        return efk_err_set(err, -ENOMEM, "out of memory");
    if (times > 0)
        json_object_set_new(rule, "times", json_integer(times));
    int rc = fault_add_json(es->faults, rule, false, id_out, err);
    json_decref(rule);
    return rc;
}

int efk_es_slow(efk_es *es, int64_t min_ns, int64_t max_ns, const char *path_glob, int64_t times,
                char *id_out, efk_err *err)
{
    char a[64], b[64];
    if (min_ns < 0) {
        /* hang: wait until the fake stops (a day is "forever" for a test) */
        snprintf(a, sizeof(a), "24h");
        snprintf(b, sizeof(b), "24h");
    } else {
        if (max_ns < min_ns)
            max_ns = min_ns;
        duration_render(min_ns, a, sizeof(a));
        duration_render(max_ns, b, sizeof(b));
    }
    json_t *rule = json_pack("{s{ss}sss{ssss}}", "match", "path", path_glob ? path_glob : "*",
                             "action", "pass", "delay", "min", a, "max", b);
    if (!rule)
        return efk_err_set(err, -ENOMEM, "out of memory");
    if (times > 0)
        json_object_set_new(rule, "times", json_integer(times));
    int rc = fault_add_json(es->faults, rule, false, id_out, err);
    json_decref(rule);
    return rc;
}

/* ------------------------------------------------------------ life */

static int64_t now_ms(void *arg)
{
    return clock_wall_ns((efk_clock *)arg) / 1000000;
}

static void on_reset(void *arg)
{
    efk_es_clear(arg);
}

int efk_es_start(const efk_es_config *cfg, const efk_runtime *rt, efk_es **out, efk_err *err)
{
    int rc = 0;
    efk_es *es = calloc(1, sizeof(*es));
    if (!es)
        return efk_err_set(err, -ENOMEM, "out of memory");
    es->rt = *rt;
    es->clock = rt->clock ? rt->clock : clock_system();
    pthread_mutex_init(&es->rules_lock, NULL);
    pthread_mutex_init(&es->meta_lock, NULL);
    rc = es_persona_parse(cfg->version ? cfg->version : "7.17", &es->persona, err);
    if (rc)
        goto fail;
    snprintf(es->cluster_name, sizeof(es->cluster_name), "%s",
             cfg->cluster_name ? cfg->cluster_name : "elasticsearch");
    snprintf(es->node_name, sizeof(es->node_name), "%s",
             cfg->node_name ? cfg->node_name : "efksim-es");
    es->store_limit = cfg->store_limit ? cfg->store_limit : ES_STORE_DEFAULT_LIMIT;
    es->max_content_length =
        cfg->max_content_length ? cfg->max_content_length : (uint64_t)100 << 20;
    for (size_t i = 0; i < cfg->nusers; i++) {
        es->users[i].user = strdup(cfg->users[i].user);
        es->users[i].secret = strdup(cfg->users[i].secret);
        es->nusers++;
    }
    for (size_t i = 0; i < cfg->napi_keys; i++) {
        es->api_keys[i].user = strdup(cfg->api_keys[i].user);
        es->api_keys[i].secret = strdup(cfg->api_keys[i].secret);
        es->napi_keys++;
    }
    {
        rng r;
        rng_init(&r, rt->seed, "es.uuids");
        uint8_t u[16];
        for (int i = 0; i < 16; i += 8) {
            uint64_t x = rng_next(&r);
            memcpy(u + i, &x, 8);
        }
        es->cluster_uuid[es_base64url(u, 16, es->cluster_uuid)] = '\0';
        for (int i = 0; i < 16; i += 8) {
            uint64_t x = rng_next(&r);
            memcpy(u + i, &x, 8);
        }
        es->node_id[es_base64url(u, 16, es->node_id)] = '\0';
    }
    es_store_config sc = {.limit = es->store_limit,
                          .accounting_only = cfg->accounting_only,
                          .seed = rt->seed,
                          .now_ms = now_ms,
                          .now_arg = es->clock};
    es->store = es_store_new(&sc);
    es->templates = json_object();
    es->index_templates = json_object();
    es->ilm = json_object();
    if (!es->store || !es->templates || !es->index_templates || !es->ilm) {
        rc = efk_err_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    es_idgen_init(&es->ids, es->clock, rt->seed);
    es->ids_ok = true;
    es_acct_config ac = {
        .field = cfg->acct_field, .regex = cfg->acct_regex, .max_streams = cfg->acct_max_streams};
    rc = es_acct_new(&ac, &es->acct, err);
    if (rc) {
        efk_err_at(err, cfg->acct_regex ? "/accounting/regex" : "/accounting");
        goto fail;
    }
    if (cfg->expected) {
        const char *k;
        json_t *v;
        json_object_foreach (cfg->expected, k, v) {
            if (es_acct_set_expected(es->acct, k, (uint64_t)json_integer_value(v))) {
                char ptr[128];
                snprintf(ptr, sizeof(ptr), "/expected/%s", k);
                efk_err_at(err, ptr);
                rc = efk_err_set(err, -EINVAL,
                                 "invalid stream name \"%s\": expected "
                                 "[A-Za-z0-9._-]{1,64}",
                                 k);
                goto fail;
            }
        }
    }
    {
        journal_config jc = {.cap = rt->journal_cap, .clock = es->clock};
        char *path = NULL;
        if (rt->journal_files && rt->workdir) {
            char *dir = fs_join(rt->workdir, "journal");
            if (dir && fs_mkdirs(dir, 0755, err) == 0)
                path = fs_join(dir, "es.ndjson");
            free(dir);
        }
        jc.ndjson_path = path;
        rc = journal_new(&jc, &es->journal);
        free(path);
        if (rc) {
            efk_err_set(err, rc, "cannot create the journal");
            goto fail;
        }
    }
    es->faults = fault_chain_new(es->clock, rt->seed, "es");
    es->routes = route_table_new();
    if (!es->faults || !es->routes) {
        rc = efk_err_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = efk_es_fault_actions(es->faults))) {
        efk_err_set(err, rc, "cannot register the fault actions");
        goto fail;
    }
    if (cfg->faults) {
        size_t i;
        json_t *f;
        json_array_foreach (cfg->faults, i, f) {
            rc = fault_add_json(es->faults, f, false, NULL, err);
            if (rc) {
                char ptr[EFK_ERR_PLACE_MAX + 32];
                snprintf(ptr, sizeof(ptr), "/faults/%zu%s", i, err ? err->pointer : "");
                efk_err_at(err, ptr);
                goto fail;
            }
        }
    }
    rc = es_routes_add(es);
    if (rc) {
        efk_err_set(err, rc, "cannot register the routes");
        goto fail;
    }
    http_service_config svc = {.name = "es",
                               .routes = es->routes,
                               .reject = es_reject,
                               .reject_arg = es,
                               .journal = es->journal,
                               .faults = es->faults,
                               .clock = es->clock,
                               .body_cap = (size_t)es->max_content_length,
                               .conn_memory = cfg->conn_memory,
                               .reset = on_reset,
                               .reset_arg = es};
    http_listener_config lc = {.name = "http", .port = 0};
    rc = http_server_start(&svc, &lc, &es->http, err);
    if (rc)
        goto fail;
    snprintf(es->publish, sizeof(es->publish), "127.0.0.1:%u", http_server_port(es->http));
    *out = es;
    return 0;
fail:
    efk_es_stop(es);
    return rc ? rc : -EINVAL;
}

void efk_es_stop(efk_es *es)
{
    if (!es)
        return;
    http_server_stop(es->http);
    route_table_free(es->routes);
    fault_chain_free(es->faults);
    journal_free(es->journal);
    es_acct_free(es->acct);
    if (es->ids_ok)
        es_idgen_cleanup(&es->ids);
    es_store_free(es->store);
    json_decref(es->templates);
    json_decref(es->index_templates);
    json_decref(es->ilm);
    creds_free(es->users, es->nusers);
    creds_free(es->api_keys, es->napi_keys);
    pthread_mutex_destroy(&es->rules_lock);
    pthread_mutex_destroy(&es->meta_lock);
    free(es);
}

const char *efk_es_url(const efk_es *es)
{
    return http_server_url(es->http);
}

journal *efk_es_journal(efk_es *es)
{
    return es->journal;
}

int efk_es_fault_actions(fault_chain *c)
{
    int rc;
    if ((rc = fault_domain_add(c, "es_items", check_items)) ||
        (rc = fault_domain_add(c, "es_reject", check_reject)))
        return rc;
    return 0;
}

fault_chain *efk_es_faults(efk_es *es)
{
    return es->faults;
}

int efk_es_down(efk_es *es)
{
    return http_server_down(es->http);
}

int efk_es_up(efk_es *es, efk_err *err)
{
    return http_server_up(es->http, err);
}

void efk_es_clear(efk_es *es)
{
    es_store_wrlock(es->store);
    es_store_clear(es->store);
    es_store_unlock(es->store);
    es_acct_reset(es->acct);
    pthread_mutex_lock(&es->meta_lock);
    json_object_clear(es->templates);
    json_object_clear(es->index_templates);
    json_object_clear(es->ilm);
    pthread_mutex_unlock(&es->meta_lock);
}

int efk_es_set_expected(efk_es *es, const char *stream, uint64_t expected)
{
    return es_acct_set_expected(es->acct, stream, expected);
}

void efk_es_delivery_get(efk_es *es, const char *stream, efk_es_delivery *d, uint64_t (*ranges)[2],
                         size_t max)
{
    es_acct_report r;
    es_acct_stream(es->acct, stream, &r, ranges, max);
    d->known = r.known;
    d->has_expected = r.has_expected;
    d->expected = r.expected;
    d->delivered = r.delivered;
    d->lost = r.lost;
    d->duplicated = r.duplicated;
    d->out_of_order = r.out_of_order;
    d->max_seq = r.max_seq;
    d->overflow = r.overflow;
    d->nlost_ranges = r.nlost_ranges;
}

json_t *efk_es_delivery_render(efk_es *es, const char *stream)
{
    return es_acct_render(es->acct, stream, 0);
}

json_t *efk_es_state_render(efk_es *es)
{
    json_t *st = json_object();
    json_t *ixs = json_object();
    if (!st || !ixs) {
        json_decref(st);
        json_decref(ixs);
        return NULL;
    }
    es_store_rdlock(es->store);
    size_t n = es_store_index_count(es->store);
    es_index **list = calloc(n ? n : 1, sizeof(*list));
    if (list) {
        n = es_store_index_list(es->store, list, n);
        for (size_t i = 0; i < n; i++)
            json_object_set_new(ixs, list[i]->name,
                                json_pack("{sI sI sI sI}", "docs", (json_int_t)list[i]->live,
                                          "deleted", (json_int_t)list[i]->deleted, "bytes",
                                          (json_int_t)list[i]->bytes, "source_bytes",
                                          (json_int_t)list[i]->src_bytes));
    }
    json_t *store =
        json_pack("{sI sI sb sb}", "bytes", (json_int_t)es_store_bytes(es->store), "limit",
                  (json_int_t)es_store_limit(es->store), "full", es_store_full(es->store),
                  "accounting_only", es_store_accounting_only(es->store));
    es_store_unlock(es->store);
    free(list);
    json_object_set_new(st, "version", json_string(es->persona.number));
    json_object_set_new(st, "url", json_string(efk_es_url(es)));
    json_object_set_new(st, "up", json_boolean(http_server_is_up(es->http)));
    json_object_set_new(st, "store", store);
    json_object_set_new(st, "indices", ixs);
    json_object_set_new(st, "delivery", efk_es_delivery_render(es, NULL));
    json_object_set_new(st, "faults", fault_list_render(es->faults));
    return st;
}
