#include "fault.h"

#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "rng.h"

/* A rule as the chain keeps it: the public rule first (so a fault_rule *
 * converts back), a reference count shared with requests in flight, and the
 * counters that change per request (guarded by the chain's mutex). */
typedef struct rule_box {
    fault_rule r;
    atomic_int refs;
    uint64_t calls; /* requests that passed the static matchers */
    uint64_t uses;  /* times applied */
    int64_t left;   /* uses left; -1 unlimited */
} rule_box;

#define MAX_DOMAINS 16

struct fault_chain {
    pthread_mutex_t mu;
    efk_clock *clock;
    int64_t epoch;
    rng rng;
    uint64_t next_auto_id;
    size_t n;
    rule_box *rules[FAULT_MAX_RULES];
    size_t ndomains;
    char *domain_names[MAX_DOMAINS];
    fault_domain_check domain_checks[MAX_DOMAINS];
};

static void rule_free(fault_rule *r)
{
    free(r->method);
    free(r->path);
    free(r->query);
    free(r->header_name);
    free(r->header_value);
    free(r->body);
    free(r->domain);
    json_decref(r->params);
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->header_names[i]);
        free(r->header_values[i]);
    }
    free(r->resp_body);
    json_decref(r->spec);
}

static void box_unref(rule_box *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
        rule_free(&b->r);
        free(b);
    }
}

fault_chain *fault_chain_new(efk_clock *clock, uint64_t seed, const char *stream)
{
    fault_chain *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    pthread_mutex_init(&c->mu, NULL);
    c->clock = clock ? clock : clock_system();
    c->epoch = clock_mono_ns(c->clock);
    rng_init(&c->rng, seed, stream ? stream : "faults");
    c->next_auto_id = 1;
    return c;
}

void fault_chain_free(fault_chain *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        box_unref(c->rules[i]);
    for (size_t i = 0; i < c->ndomains; i++)
        free(c->domain_names[i]);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void fault_chain_set_epoch(fault_chain *c, int64_t mono_ns)
{
    pthread_mutex_lock(&c->mu);
    c->epoch = mono_ns;
    pthread_mutex_unlock(&c->mu);
}

int fault_domain_add(fault_chain *c, const char *name, fault_domain_check check)
{
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->ndomains; i++)
        if (strcmp(c->domain_names[i], name) == 0) {
            rc = -EEXIST;
            goto out;
        }
    if (c->ndomains >= MAX_DOMAINS) {
        rc = -ENOSPC;
        goto out;
    }
    if (!(c->domain_names[c->ndomains] = strdup(name))) {
        rc = -ENOMEM;
        goto out;
    }
    c->domain_checks[c->ndomains++] = check;
out:
    pthread_mutex_unlock(&c->mu);
    return rc;
}

bool fault_glob(const char *pattern, const char *s)
{
    return fnmatch(pattern, s, 0) == 0;
}

/* ---- parsing the JSON form ---- */

static const char *const TOP_KEYS[] = {"id",     "match",    "action", "delay", "status",
                                       "headers", "body",    "bytes",  "interval", "times",
                                       "params", NULL};
static const char *const MATCH_KEYS[] = {"method", "path",  "query", "header",
                                         "body",   "nth",   "every", "from",
                                         "to",     "after", "before", "probability", NULL};
static const char *const CORE_ACTIONS[] = {"pass",    "respond", "close", "reset",
                                           "partial", "dribble", NULL};


static int check_keys(const json_t *o, const char *base, const char *const *allowed, efk_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(k, allowed[i]) == 0)
                ok = 1;
        if (!ok) {
            char list[512] = "", ptr[256];
            for (size_t i = 0; allowed[i]; i++) {
                if (i)
                    strncat(list, ", ", sizeof(list) - strlen(list) - 1);
                strncat(list, allowed[i], sizeof(list) - strlen(list) - 1);
            }
            snprintf(ptr, sizeof(ptr), "%s/%s", base, k);
            efk_err_at(err, ptr);
            return efk_err_set(err, -EINVAL, "unknown key \"%s\"; allowed keys: %s", k, list);
        }
    }
    return 0;
}

static int get_str(const json_t *o, const char *key, const char *ptr, char **out, efk_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return efk_err_invalid(err, ptr, "expected a string for \"%s\"", key);
    if (!(*out = strdup(json_string_value(v))))
        return efk_err_set(err, -ENOMEM, "out of memory");
    return 0;
}

static int get_count(const json_t *o, const char *key, const char *ptr, uint64_t *out,
                     efk_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return efk_err_invalid(err, ptr, "expected a positive integer for \"%s\"", key);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int get_dur(const json_t *v, const char *ptr, int64_t *out, efk_err *err)
{
    if (json_is_string(v) && duration_parse(json_string_value(v), out) == 0)
        return 0;
    if (json_is_integer(v) && json_integer_value(v) >= 0) { /* milliseconds */
        *out = json_integer_value(v) * EFK_NS_PER_MS;
        return 0;
    }
    return efk_err_invalid(err, ptr, "expected a duration like \"5s\" or \"250ms\"%s", "");
}

static int parse_rule(fault_chain *c, const json_t *spec, fault_rule *r, efk_err *err)
{
    int rc;
    memset(r, 0, sizeof(*r));
    r->after_ns = r->before_ns = -1;
    r->probability = -1;
    r->times = -1;
    if (!json_is_object(spec))
        return efk_err_invalid(err, "", "expected a fault rule object%s", "");
    if ((rc = check_keys(spec, "", TOP_KEYS, err)))
        return rc;
    json_t *v = json_object_get(spec, "id");
    if (v) {
        if (!json_is_string(v) || !json_string_length(v) ||
            json_string_length(v) >= FAULT_ID_MAX)
            return efk_err_invalid(err, "/id", "expected a non-empty string id of at most %s characters",
                       "63");
        snprintf(r->id, sizeof(r->id), "%s", json_string_value(v));
    }

    json_t *m = json_object_get(spec, "match");
    if (m) {
        if (!json_is_object(m))
            return efk_err_invalid(err, "/match", "expected an object of matchers%s", "");
        if ((rc = check_keys(m, "/match", MATCH_KEYS, err)) ||
            (rc = get_str(m, "method", "/match/method", &r->method, err)) ||
            (rc = get_str(m, "path", "/match/path", &r->path, err)) ||
            (rc = get_str(m, "query", "/match/query", &r->query, err)) ||
            (rc = get_str(m, "body", "/match/body", &r->body, err)) ||
            (rc = get_count(m, "nth", "/match/nth", &r->nth, err)) ||
            (rc = get_count(m, "every", "/match/every", &r->every, err)) ||
            (rc = get_count(m, "from", "/match/from", &r->from, err)) ||
            (rc = get_count(m, "to", "/match/to", &r->to, err)))
            return rc;
        if (r->to && r->from && r->to < r->from)
            return efk_err_invalid(err, "/match/to", "expected \"to\" not less than \"from\"%s", "");
        json_t *h = json_object_get(m, "header");
        if (h) {
            /* {"name": "...", "value": "glob"} or "Name" (presence) */
            if (json_is_string(h)) {
                r->header_name = strdup(json_string_value(h));
            } else if (json_is_object(h)) {
                static const char *const HK[] = {"name", "value", NULL};
                if ((rc = check_keys(h, "/match/header", HK, err)) ||
                    (rc = get_str(h, "name", "/match/header/name", &r->header_name, err)) ||
                    (rc = get_str(h, "value", "/match/header/value", &r->header_value, err)))
                    return rc;
            }
            if (!r->header_name || !*r->header_name)
                return efk_err_invalid(err, "/match/header",
                           "expected a header name or {\"name\": ..., \"value\": glob}%s", "");
        }
        if ((v = json_object_get(m, "after")) && (rc = get_dur(v, "/match/after", &r->after_ns, err)))
            return rc;
        if ((v = json_object_get(m, "before")) &&
            (rc = get_dur(v, "/match/before", &r->before_ns, err)))
            return rc;
        if ((v = json_object_get(m, "probability"))) {
            if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1)
                return efk_err_invalid(err, "/match/probability", "expected a number from 0 to 1%s", "");
            r->probability = json_number_value(v);
        }
    }

    /* the action */
    v = json_object_get(spec, "action");
    const char *act = v ? json_string_value(v) : NULL;
    if (v && !act)
        return efk_err_invalid(err, "/action", "expected an action name%s", "");
    if (!act)
        act = json_object_get(spec, "status") ? "respond" : "pass";
    r->action = FAULT_DOMAIN;
    for (size_t i = 0; CORE_ACTIONS[i]; i++)
        if (strcmp(act, CORE_ACTIONS[i]) == 0)
            r->action = (fault_action)i;
    if (r->action == FAULT_DOMAIN) {
        fault_domain_check check = NULL;
        int found = 0;
        char list[512] = "pass, respond, close, reset, partial, dribble";
        pthread_mutex_lock(&c->mu);
        for (size_t i = 0; i < c->ndomains; i++) {
            strncat(list, ", ", sizeof(list) - strlen(list) - 1);
            strncat(list, c->domain_names[i], sizeof(list) - strlen(list) - 1);
            if (strcmp(c->domain_names[i], act) == 0) {
                found = 1;
                check = c->domain_checks[i];
            }
        }
        pthread_mutex_unlock(&c->mu);
        if (!found) {
            efk_err_at(err, "/action");
            return efk_err_set(err, -EINVAL, "unknown action \"%s\"; allowed actions: %s", act,
                               list);
        }
        if (!(r->domain = strdup(act)))
            return efk_err_set(err, -ENOMEM, "out of memory");
        json_t *p = json_object_get(spec, "params");
        if (p && !json_is_object(p))
            return efk_err_invalid(err, "/params", "expected an object of parameters for \"%s\"", act);
        r->params = p ? json_deep_copy(p) : json_object();
        if (!r->params)
            return efk_err_set(err, -ENOMEM, "out of memory");
        if (check) {
            efk_err sub;
            efk_err_init(&sub);
            if ((rc = check(r->params, &sub))) {
                char ptr[EFK_ERR_PLACE_MAX + 8];
                snprintf(ptr, sizeof(ptr), "/params%s", sub.pointer);
                efk_err_at(err, ptr);
                return efk_err_set(err, rc, "%s", sub.msg);
            }
        }
    } else if (json_object_get(spec, "params")) {
        return efk_err_invalid(err, "/params", "\"params\" is only for a fake's own actions, not \"%s\"", act);
    }

    if ((v = json_object_get(spec, "status"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 100 || json_integer_value(v) > 599)
            return efk_err_invalid(err, "/status", "expected an HTTP status from 100 to 599%s", "");
        r->status = (int)json_integer_value(v);
    }
    if (r->action == FAULT_RESPOND && !r->status)
        return efk_err_invalid(err, "/status", "action \"respond\" needs a \"status\"%s", "");
    json_t *hs = json_object_get(spec, "headers");
    if (hs) {
        if (!json_is_object(hs))
            return efk_err_invalid(err, "/headers", "expected an object of header names to values%s", "");
        const char *k;
        json_t *hv;
        json_object_foreach(hs, k, hv) {
            char ptr[256];
            snprintf(ptr, sizeof(ptr), "/headers/%s", k);
            if (!json_is_string(hv))
                return efk_err_invalid(err, ptr, "expected a string header value%s", "");
            if (r->nheaders >= FAULT_MAX_HEADERS)
                return efk_err_invalid(err, ptr, "at most %s headers", "16");
            r->header_names[r->nheaders] = strdup(k);
            r->header_values[r->nheaders] = strdup(json_string_value(hv));
            r->nheaders++;
            if (!r->header_names[r->nheaders - 1] || !r->header_values[r->nheaders - 1])
                return efk_err_set(err, -ENOMEM, "out of memory");
        }
    }
    if ((v = json_object_get(spec, "body"))) {
        if (json_is_string(v)) {
            r->resp_body_len = json_string_length(v);
            r->resp_body = malloc(r->resp_body_len + 1);
            if (r->resp_body)
                memcpy(r->resp_body, json_string_value(v), r->resp_body_len + 1);
        } else {
            r->resp_body = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            r->resp_body_len = r->resp_body ? strlen(r->resp_body) : 0;
        }
        if (!r->resp_body)
            return efk_err_set(err, -ENOMEM, "out of memory");
    }
    if ((v = json_object_get(spec, "bytes"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return efk_err_invalid(err, "/bytes", "expected a byte count (0 or more)%s", "");
        r->bytes = (size_t)json_integer_value(v);
    } else if (r->action == FAULT_DRIBBLE) {
        r->bytes = 1;
    }
    if ((v = json_object_get(spec, "interval")) &&
        (rc = get_dur(v, "/interval", &r->interval_ns, err)))
        return rc;
    if (r->action == FAULT_DRIBBLE && !json_object_get(spec, "interval"))
        r->interval_ns = 100 * EFK_NS_PER_MS;
    if (r->action == FAULT_DRIBBLE && r->bytes == 0)
        return efk_err_invalid(err, "/bytes", "action \"dribble\" needs at least 1 byte per tick%s", "");
    if ((v = json_object_get(spec, "delay"))) {
        if (json_is_object(v)) {
            static const char *const DK[] = {"min", "max", NULL};
            json_t *mn = json_object_get(v, "min"), *mx = json_object_get(v, "max");
            if ((rc = check_keys(v, "/delay", DK, err)))
                return rc;
            if (!mn || !mx)
                return efk_err_invalid(err, "/delay", "expected {\"min\": duration, \"max\": duration}%s", "");
            if ((rc = get_dur(mn, "/delay/min", &r->delay_min_ns, err)) ||
                (rc = get_dur(mx, "/delay/max", &r->delay_max_ns, err)))
                return rc;
            if (r->delay_max_ns < r->delay_min_ns)
                return efk_err_invalid(err, "/delay/max", "expected \"max\" not less than \"min\"%s", "");
        } else {
            if ((rc = get_dur(v, "/delay", &r->delay_min_ns, err)))
                return rc;
            r->delay_max_ns = r->delay_min_ns;
        }
    }
    if ((v = json_object_get(spec, "times"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 1)
            return efk_err_invalid(err, "/times", "expected a positive number of uses%s", "");
        r->times = json_integer_value(v);
    }
    if (!(r->spec = json_deep_copy(spec)))
        return efk_err_set(err, -ENOMEM, "out of memory");
    return 0;
}

int fault_check_json(fault_chain *c, const json_t *spec, efk_err *err)
{
    fault_rule r;
    int rc = parse_rule(c, spec, &r, err);
    rule_free(&r);
    return rc;
}

int fault_add_json(fault_chain *c, const json_t *spec, bool first, char *id_out, efk_err *err)
{
    rule_box *b = calloc(1, sizeof(*b));
    if (!b)
        return efk_err_set(err, -ENOMEM, "out of memory");
    int rc = parse_rule(c, spec, &b->r, err);
    if (rc) {
        rule_free(&b->r);
        free(b);
        return rc;
    }
    atomic_init(&b->refs, 1);
    b->left = b->r.times;
    pthread_mutex_lock(&c->mu);
    if (c->n >= FAULT_MAX_RULES) {
        rc = efk_err_set(err, -ENOSPC, "too many fault rules (at most %d)", FAULT_MAX_RULES);
        goto out;
    }
    if (!b->r.id[0]) {
        /* generated ids never collide with a given one */
        for (;;) {
            snprintf(b->r.id, sizeof(b->r.id), "rule-%llu", (unsigned long long)c->next_auto_id++);
            int dup = 0;
            for (size_t i = 0; i < c->n; i++)
                dup |= strcmp(c->rules[i]->r.id, b->r.id) == 0;
            if (!dup)
                break;
        }
    }
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->rules[i]->r.id, b->r.id) == 0) {
            efk_err_at(err, "/id");
            rc = efk_err_set(err, -EEXIST, "a fault rule with id \"%s\" exists already", b->r.id);
            goto out;
        }
    if (first) {
        memmove(&c->rules[1], &c->rules[0], c->n * sizeof(c->rules[0]));
        c->rules[0] = b;
    } else {
        c->rules[c->n] = b;
    }
    c->n++;
    if (id_out)
        snprintf(id_out, FAULT_ID_MAX, "%s", b->r.id);
    b = NULL;
out:
    pthread_mutex_unlock(&c->mu);
    box_unref(b);
    return rc;
}

/* Remove slot i (mutex held). */
static void remove_at(fault_chain *c, size_t i)
{
    box_unref(c->rules[i]);
    memmove(&c->rules[i], &c->rules[i + 1], (c->n - i - 1) * sizeof(c->rules[0]));
    c->n--;
}

int fault_del(fault_chain *c, const char *id)
{
    int rc = -ENOENT;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->rules[i]->r.id, id) == 0) {
            remove_at(c, i);
            rc = 0;
            break;
        }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void fault_clear(fault_chain *c)
{
    pthread_mutex_lock(&c->mu);
    while (c->n)
        remove_at(c, c->n - 1);
    pthread_mutex_unlock(&c->mu);
}

const char *fault_action_name(const fault_rule *r)
{
    if (r->action == FAULT_DOMAIN)
        return r->domain;
    return CORE_ACTIONS[r->action];
}

json_t *fault_list_render(fault_chain *c)
{
    json_t *a = json_array();
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; a && i < c->n; i++) {
        rule_box *b = c->rules[i];
        json_array_append_new(
            a, json_pack("{ss ss sO sI sI sI}", "id", b->r.id, "action", fault_action_name(&b->r),
                         "spec", b->r.spec, "calls", (json_int_t)b->calls, "uses",
                         (json_int_t)b->uses, "left", (json_int_t)b->left));
    }
    pthread_mutex_unlock(&c->mu);
    return a;
}

int64_t fault_uses(fault_chain *c, const char *id)
{
    int64_t r = -ENOENT;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->rules[i]->r.id, id) == 0)
            r = (int64_t)c->rules[i]->uses;
    pthread_mutex_unlock(&c->mu);
    return r;
}

/* The matchers that do not depend on the rule's counters. */
static int static_match(const fault_rule *r, const fault_req *q, int64_t since_epoch)
{
    if (r->method && strcmp(r->method, q->method ? q->method : "") != 0)
        return 0;
    if (r->path && !fault_glob(r->path, q->path ? q->path : ""))
        return 0;
    if (r->query && !fault_glob(r->query, q->query ? q->query : ""))
        return 0;
    if (r->header_name) {
        const char *hv = q->header ? q->header(q->header_arg, r->header_name) : NULL;
        if (!hv || (r->header_value && !fault_glob(r->header_value, hv)))
            return 0;
    }
    if (r->body && (!q->body || !memmem(q->body, q->body_len, r->body, strlen(r->body))))
        return 0;
    if (r->after_ns >= 0 && since_epoch < r->after_ns)
        return 0;
    if (r->before_ns >= 0 && since_epoch >= r->before_ns)
        return 0;
    return 1;
}

void fault_eval(fault_chain *c, const fault_req *req, fault_hit *hit)
{
    memset(hit, 0, sizeof(*hit));
    int64_t now = clock_mono_ns(c->clock);
    pthread_mutex_lock(&c->mu);
    int64_t since = now - c->epoch;
    for (size_t i = 0; i < c->n; i++) {
        rule_box *b = c->rules[i];
        const fault_rule *r = &b->r;
        if (!static_match(r, req, since))
            continue;
        uint64_t call = ++b->calls;
        if (r->nth && call != r->nth)
            continue;
        if (r->every && call % r->every != 0)
            continue;
        if (r->from && call < r->from)
            continue;
        if (r->to && call > r->to)
            continue;
        if (r->probability >= 0 && !(rng_double(&c->rng) < r->probability))
            continue;
        b->uses++;
        atomic_fetch_add(&b->refs, 1);
        hit->rule = &b->r;
        hit->call_no = call;
        hit->delay_ns = rng_range(&c->rng, r->delay_min_ns, r->delay_max_ns);
        if (b->left > 0 && --b->left == 0)
            remove_at(c, i);
        break;
    }
    pthread_mutex_unlock(&c->mu);
}

void fault_hit_cleanup(fault_hit *hit)
{
    if (hit->rule)
        box_unref((rule_box *)hit->rule);
    hit->rule = NULL;
}
