#include "journal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * The ring is an array of pointers to entries; each entry is one allocation
 * holding the struct and all its strings, so adding costs one malloc and a
 * few memcpy, and dropping the oldest is one free. Writers hold the mutex only
 * for the pointer swap and the NDJSON line write.
 */

#define JOURNAL_DEFAULT_CAP 10000
#define JOURNAL_DEFAULT_BODY_CAP 4096

struct journal {
    pthread_mutex_t mu;
    journal_entry **ring;
    size_t cap, head, count; /* head: index of the oldest */
    size_t body_cap;
    uint64_t next_seq, added, dropped;
    FILE *ndjson;
    efk_clock *clock;
};

int journal_new(const journal_config *cfg, journal **out)
{
    journal *j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    j->cap = cfg && cfg->cap ? cfg->cap : JOURNAL_DEFAULT_CAP;
    j->body_cap = cfg && cfg->body_cap ? cfg->body_cap : JOURNAL_DEFAULT_BODY_CAP;
    j->clock = cfg && cfg->clock ? cfg->clock : clock_system();
    j->next_seq = 1;
    j->ring = calloc(j->cap, sizeof(*j->ring));
    if (!j->ring) {
        free(j);
        return -ENOMEM;
    }
    if (cfg && cfg->ndjson_path) {
        j->ndjson = fopen(cfg->ndjson_path, "ae");
        if (!j->ndjson) {
            int rc = -errno;
            free(j->ring);
            free(j);
            return rc;
        }
    }
    pthread_mutex_init(&j->mu, NULL);
    *out = j;
    return 0;
}

void journal_free(journal *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->count; i++)
        free(j->ring[(j->head + i) % j->cap]);
    free(j->ring);
    if (j->ndjson)
        fclose(j->ndjson);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

void journal_entry_free(journal_entry *e)
{
    free(e);
}

void journal_entries_free(journal_entry **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static size_t slen(const char *s)
{
    return s ? strlen(s) + 1 : 1;
}

/* Copy a string into the packed area; NULL becomes "". */
static const char *pack(char **p, const char *s, size_t n)
{
    char *d = *p;
    if (s && n)
        memcpy(d, s, n);
    d[n] = '\0';
    *p += n + 1;
    return d;
}

/* One allocation: the struct, then every string. */
static journal_entry *entry_copy(const journal_entry *e, size_t body_cap)
{
    size_t rq = e->req_body_len < body_cap ? e->req_body_len : body_cap;
    size_t rs = e->resp_body_len < body_cap ? e->resp_body_len : body_cap;
    size_t nh = e->nheaders < JOURNAL_MAX_HEADERS ? e->nheaders : JOURNAL_MAX_HEADERS;
    size_t total = sizeof(*e) + slen(e->listener) + slen(e->method) + slen(e->path) +
                   slen(e->query) + slen(e->identity) + slen(e->fault) + rq + 1 + rs + 1;
    for (size_t i = 0; i < nh; i++)
        total += slen(e->headers[i].name) + slen(e->headers[i].value);
    journal_entry *c = malloc(total);
    if (!c)
        return NULL;
    *c = *e;
    char *p = (char *)(c + 1);
#define PACKS(f) c->f = pack(&p, e->f, e->f ? strlen(e->f) : 0)
    PACKS(listener);
    PACKS(method);
    PACKS(path);
    PACKS(query);
    PACKS(identity);
    PACKS(fault);
#undef PACKS
    c->nheaders = nh;
    for (size_t i = 0; i < nh; i++) {
        const char *n = e->headers[i].name, *v = e->headers[i].value;
        c->headers[i].name = pack(&p, n, n ? strlen(n) : 0);
        c->headers[i].value = pack(&p, v, v ? strlen(v) : 0);
    }
    c->req_body = pack(&p, e->req_body, rq);
    c->req_body_len = rq;
    c->resp_body = pack(&p, e->resp_body, rs);
    c->resp_body_len = rs;
    return c;
}

uint64_t journal_add(journal *j, const journal_entry *e)
{
    journal_entry *c = entry_copy(e, j->body_cap);
    char *line = NULL;
    pthread_mutex_lock(&j->mu);
    if (!c) {
        j->dropped++;
        pthread_mutex_unlock(&j->mu);
        return 0;
    }
    c->seq = j->next_seq++;
    if (!e->wall_ns) {
        c->wall_ns = clock_wall_ns(j->clock);
        c->mono_ns = clock_mono_ns(j->clock);
    }
    j->added++;
    if (j->count == j->cap) {
        free(j->ring[j->head]);
        j->ring[j->head] = c;
        j->head = (j->head + 1) % j->cap;
        j->dropped++;
    } else {
        j->ring[(j->head + j->count) % j->cap] = c;
        j->count++;
    }
    uint64_t seq = c->seq;
    if (j->ndjson) {
        json_t *o = journal_entry_render(c);
        line = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (line) {
            fputs(line, j->ndjson);
            fputc('\n', j->ndjson);
            fflush(j->ndjson);
        }
    }
    pthread_mutex_unlock(&j->mu);
    free(line);
    return seq;
}

int journal_list(journal *j, uint64_t since, size_t max, journal_entry ***out, size_t *n)
{
    int rc = 0;
    journal_entry **v = NULL;
    size_t k = 0;
    pthread_mutex_lock(&j->mu);
    size_t want = 0;
    for (size_t i = 0; i < j->count; i++)
        if (j->ring[(j->head + i) % j->cap]->seq > since)
            want++;
    if (max && want > max)
        want = max;
    v = calloc(want ? want : 1, sizeof(*v));
    if (!v) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < j->count && k < want; i++) {
        journal_entry *e = j->ring[(j->head + i) % j->cap];
        if (e->seq <= since)
            continue;
        /* body caps already applied: copy with an unbounded cap */
        journal_entry *c = entry_copy(e, SIZE_MAX);
        if (!c) {
            rc = -ENOMEM;
            goto out;
        }
        v[k++] = c;
    }
out:
    pthread_mutex_unlock(&j->mu);
    if (rc) {
        journal_entries_free(v, k);
        return rc;
    }
    *out = v;
    *n = k;
    return 0;
}

void journal_stats(journal *j, uint64_t *added, uint64_t *dropped, uint64_t *last_seq)
{
    pthread_mutex_lock(&j->mu);
    if (added)
        *added = j->added;
    if (dropped)
        *dropped = j->dropped;
    if (last_seq)
        *last_seq = j->next_seq - 1;
    pthread_mutex_unlock(&j->mu);
}

void journal_reset(journal *j)
{
    pthread_mutex_lock(&j->mu);
    for (size_t i = 0; i < j->count; i++)
        free(j->ring[(j->head + i) % j->cap]);
    j->head = 0;
    j->count = 0;
    pthread_mutex_unlock(&j->mu);
}

const char *journal_entry_header(const journal_entry *e, const char *name)
{
    for (size_t i = 0; i < e->nheaders; i++)
        if (strcasecmp(e->headers[i].name, name) == 0)
            return e->headers[i].value;
    return NULL;
}

/* A body as a JSON string: valid UTF-8 as is, otherwise each invalid byte
 * replaced by U+FFFD so the journal line stays valid JSON. */
static json_t *body_string(const char *s, size_t len)
{
    json_t *v = json_stringn(s, len);
    if (v)
        return v;
    char *fixed = malloc(len * 3 + 1);
    if (!fixed)
        return json_string("");
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t need = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = need && i + need <= len && c != 0;
        for (size_t k = 1; ok && k < need; k++)
            ok = ((unsigned char)s[i + k] >> 6) == 2;
        if (ok && need > 1) {
            json_t *t = json_stringn(s + i, need); /* rejects overlongs/surrogates */
            ok = t != NULL;
            json_decref(t);
        }
        if (ok) {
            memcpy(fixed + o, s + i, need);
            o += need;
            i += need;
        } else {
            memcpy(fixed + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    v = json_stringn(fixed, o);
    free(fixed);
    return v ? v : json_string("");
}

json_t *journal_entry_render(const journal_entry *e)
{
    char ts[48];
    json_t *h = json_object();
    for (size_t i = 0; i < e->nheaders; i++) {
        char lname[128];
        size_t k = 0;
        for (; e->headers[i].name[k] && k < sizeof(lname) - 1; k++) {
            char c = e->headers[i].name[k];
            lname[k] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        lname[k] = '\0';
        json_object_set_new(h, lname, body_string(e->headers[i].value, strlen(e->headers[i].value)));
    }
    json_t *o = json_object();
    if (!o) {
        json_decref(h);
        return NULL;
    }
#define STR(k, v) json_object_set_new(o, k, body_string(v, strlen(v)))
    json_object_set_new(o, "seq", json_integer((json_int_t)e->seq));
    json_object_set_new(o, "time", json_string(clock_format_rfc3339(e->wall_ns, 6, ts)));
    json_object_set_new(o, "mono_ns", json_integer((json_int_t)e->mono_ns));
    json_object_set_new(o, "dur_us", json_integer((json_int_t)(e->dur_ns / 1000)));
    STR("listener", e->listener);
    STR("method", e->method);
    STR("path", e->path);
    STR("query", e->query);
    STR("identity", e->identity);
    json_object_set_new(o, "headers", h);
    json_object_set_new(o, "req_body", body_string(e->req_body, e->req_body_len));
    json_object_set_new(o, "req_body_size", json_integer((json_int_t)e->req_body_size));
    json_object_set_new(o, "status", json_integer(e->status));
    json_object_set_new(o, "resp_body", body_string(e->resp_body, e->resp_body_len));
    json_object_set_new(o, "resp_body_size", json_integer((json_int_t)e->resp_body_size));
    STR("fault", e->fault);
#undef STR
    return o;
}
