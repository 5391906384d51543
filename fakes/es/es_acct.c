#include "es_acct.h"

#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

typedef struct range {
    uint64_t lo, hi;
} range;

typedef struct stream {
    char name[ES_ACCT_STREAM_MAX + 1];
    size_t name_len;
    uint32_t hash;
    range *r;
    size_t nr, rcap;
    uint64_t delivered, duplicated, out_of_order, max_seq, expected;
    bool has_expected, overflow;
    uint64_t *examples;
    size_t nexamples;
} stream;

struct es_acct {
    pthread_mutex_t lock;
    es_acct_config cfg;
    char *field;
    char **path; /* field split on '.' when nested */
    size_t npath;
    bool has_regex;
    regex_t re;
    stream **streams; /* open-addressing table */
    size_t table_cap, nstreams;
    size_t nranges; /* over all streams */
    uint64_t unmarked;
};

static bool stream_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

int es_acct_new(const es_acct_config *cfg, es_acct **out, efk_err *err)
{
    es_acct *a = calloc(1, sizeof(*a));
    if (!a)
        return efk_err_set(err, -ENOMEM, "out of memory");
    a->cfg = *cfg;
    if (!a->cfg.max_streams)
        a->cfg.max_streams = ES_ACCT_DEFAULT_STREAMS;
    if (!a->cfg.max_ranges)
        a->cfg.max_ranges = ES_ACCT_DEFAULT_RANGES;
    if (!a->cfg.max_examples)
        a->cfg.max_examples = ES_ACCT_DEFAULT_EXAMPLES;
    a->cfg.field = NULL;
    a->cfg.regex = NULL;
    pthread_mutex_init(&a->lock, NULL);
    a->table_cap = 64;
    while (a->table_cap < a->cfg.max_streams * 2)
        a->table_cap *= 2;
    a->streams = calloc(a->table_cap, sizeof(*a->streams));
    if (!a->streams)
        goto nomem;
    if (cfg->field && *cfg->field) {
        a->field = strdup(cfg->field);
        if (!a->field)
            goto nomem;
        if (strchr(a->field, '.')) {
            size_t n = 1;
            for (const char *p = a->field; *p; p++)
                n += *p == '.';
            a->path = calloc(n, sizeof(*a->path));
            if (!a->path)
                goto nomem;
            char *save = NULL;
            char *copy = strdup(a->field);
            if (!copy)
                goto nomem;
            for (char *t = strtok_r(copy, ".", &save); t; t = strtok_r(NULL, ".", &save)) {
                a->path[a->npath] = strdup(t);
                if (!a->path[a->npath]) {
                    free(copy);
                    goto nomem;
                }
                a->npath++;
            }
            free(copy);
        }
    }
    if (cfg->regex && *cfg->regex) {
        int rc = regcomp(&a->re, cfg->regex, REG_EXTENDED);
        if (rc) {
            char msg[256];
            regerror(rc, &a->re, msg, sizeof(msg));
            es_acct_free(a);
            efk_err_at(err, "/regex");
            return efk_err_set(err, -EINVAL, "invalid regular expression: %s", msg);
        }
        a->has_regex = true;
        if (a->re.re_nsub < 2) {
            es_acct_free(a);
            efk_err_at(err, "/regex");
            return efk_err_set(err, -EINVAL,
                               "the regular expression needs two groups: the stream and the "
                               "sequence number");
        }
    }
    *out = a;
    return 0;
nomem:
    es_acct_free(a);
    return efk_err_set(err, -ENOMEM, "out of memory");
}

void es_acct_free(es_acct *a)
{
    if (!a)
        return;
    es_acct_reset(a);
    free(a->streams);
    for (size_t i = 0; i < a->npath; i++)
        free(a->path[i]);
    free(a->path);
    free(a->field);
    if (a->has_regex)
        regfree(&a->re);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

bool es_acct_fast(const es_acct *a, const char **field, size_t *field_len)
{
    if (a->has_regex || a->npath)
        return false;
    *field = a->field;
    *field_len = a->field ? strlen(a->field) : 0;
    return true;
}

/* Parse a marker at p ("efk:" already matched at p). */
static bool parse_marker(const char *p, const char *end, es_mark *m)
{
    const char *s = p + 4;
    const char *st = s;
    while (s < end && stream_char((unsigned char)*s) && s - st <= ES_ACCT_STREAM_MAX)
        s++;
    size_t sl = (size_t)(s - st);
    if (sl == 0 || sl > ES_ACCT_STREAM_MAX || s >= end || *s != ':')
        return false;
    s++;
    uint64_t seq = 0;
    const char *ds = s;
    while (s < end && *s >= '0' && *s <= '9' && s - ds < 19) {
        seq = seq * 10 + (uint64_t)(*s - '0');
        s++;
    }
    if (s == ds || seq == 0 || (s < end && *s >= '0' && *s <= '9'))
        return false;
    m->stream = st;
    m->stream_len = sl;
    m->seq = seq;
    return true;
}

/*
 * Search for "efk:" by its rarest letter: memchr for 'k' runs at memory
 * speed, and log text holds few k's, so each hit is checked in place.
 */
bool es_acct_find(const es_acct *a, const char *src, size_t len, es_mark *m)
{
    (void)a;
    const char *end = src + len;
    const char *p = src + 2;
    while (p + 1 < end) {
        const char *k = memchr(p, 'k', (size_t)(end - p - 1));
        if (!k)
            return false;
        if (k[-2] == 'e' && k[-1] == 'f' && k[1] == ':' && parse_marker(k - 2, end, m))
            return true;
        p = k + 1;
    }
    return false;
}

bool es_acct_find_slow(const es_acct *a, const char *src, size_t len, es_mark *m)
{
    json_t *root = NULL;
    const char *text = src;
    size_t tlen = len;
    char *tmp = NULL;
    bool found = false;
    if (a->field) {
        root = json_loadb(src, len, JSON_DECODE_ANY, NULL);
        if (!root)
            return false;
        json_t *v = root;
        if (a->npath) {
            for (size_t i = 0; i < a->npath && v; i++)
                v = json_object_get(v, a->path[i]);
            /* ES flattens "a.b" keys too: try the literal dotted key */
            if (!v)
                v = json_object_get(root, a->field);
        } else {
            v = json_object_get(root, a->field);
        }
        if (!v || !json_is_string(v))
            goto out;
        text = json_string_value(v);
        tlen = json_string_length(v);
    }
    if (a->has_regex) {
        tmp = strndup(text, tlen);
        if (!tmp)
            goto out;
        regmatch_t g[3];
        if (regexec(&a->re, tmp, 3, g, 0) != 0 || g[1].rm_so < 0 || g[2].rm_so < 0)
            goto out;
        size_t sl = (size_t)(g[1].rm_eo - g[1].rm_so);
        if (sl == 0 || sl > ES_ACCT_STREAM_MAX)
            goto out;
        uint64_t seq = 0;
        for (regoff_t i = g[2].rm_so; i < g[2].rm_eo; i++) {
            char c = tmp[i];
            if (c < '0' || c > '9' || seq > UINT64_MAX / 10 - 10)
                goto out;
            seq = seq * 10 + (uint64_t)(c - '0');
        }
        if (!seq)
            goto out;
        /* the stream must outlive this call: point into the source when it
         * is there verbatim, else into the configured text (field values are
         * unescaped copies, so find the name in the raw source) */
        const char *name = tmp + g[1].rm_so;
        const char *in_src = memmem(src, len, name, sl);
        if (!in_src)
            goto out;
        m->stream = in_src;
        m->stream_len = sl;
        m->seq = seq;
        found = true;
        goto out;
    }
    {
        es_mark mm;
        if (!es_acct_find(a, text, tlen, &mm))
            goto out;
        const char *in_src = memmem(src, len, mm.stream, mm.stream_len);
        if (!in_src)
            goto out;
        m->stream = in_src;
        m->stream_len = mm.stream_len;
        m->seq = mm.seq;
        found = true;
    }
out:
    free(tmp);
    json_decref(root);
    return found;
}

static uint32_t name_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* Find or add a stream (lock held). NULL when the cap is hit or ENOMEM. */
static stream *get_stream(es_acct *a, const char *name, size_t len, bool add)
{
    uint32_t h = name_hash(name, len);
    size_t mask = a->table_cap - 1;
    size_t i = h & mask;
    for (;; i = (i + 1) & mask) {
        stream *s = a->streams[i];
        if (!s)
            break;
        if (s->hash == h && s->name_len == len && memcmp(s->name, name, len) == 0)
            return s;
    }
    if (!add || a->nstreams >= a->cfg.max_streams)
        return NULL;
    stream *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    memcpy(s->name, name, len);
    s->name_len = len;
    s->hash = h;
    a->streams[i] = s;
    a->nstreams++;
    return s;
}

static void add_example(es_acct *a, stream *s, uint64_t seq)
{
    for (size_t i = 0; i < s->nexamples; i++)
        if (s->examples[i] == seq)
            return;
    if (s->nexamples >= a->cfg.max_examples)
        return;
    if (!s->examples) {
        s->examples = calloc(a->cfg.max_examples, sizeof(*s->examples));
        if (!s->examples)
            return;
    }
    s->examples[s->nexamples++] = seq;
}

static bool insert_range(es_acct *a, stream *s, size_t at, uint64_t seq)
{
    if (a->nranges >= a->cfg.max_ranges)
        return false;
    if (s->nr == s->rcap) {
        size_t nc = s->rcap ? s->rcap * 2 : 4;
        range *nr = realloc(s->r, nc * sizeof(*nr));
        if (!nr)
            return false;
        s->r = nr;
        s->rcap = nc;
    }
    memmove(s->r + at + 1, s->r + at, (s->nr - at) * sizeof(*s->r));
    s->r[at].lo = s->r[at].hi = seq;
    s->nr++;
    a->nranges++;
    return true;
}

static void record_one(es_acct *a, stream *s, uint64_t seq)
{
    /* fast path: the next line in order */
    if (s->nr && s->r[s->nr - 1].hi + 1 == seq) {
        s->r[s->nr - 1].hi = seq;
        s->delivered++;
        if (seq > s->max_seq)
            s->max_seq = seq;
        return;
    }
    /* first range with lo > seq */
    size_t lo = 0, hi = s->nr;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->r[mid].lo > seq)
            hi = mid;
        else
            lo = mid + 1;
    }
    size_t idx = lo;
    if (idx > 0 && seq <= s->r[idx - 1].hi) {
        s->duplicated++;
        add_example(a, s, seq);
        return;
    }
    if (seq < s->max_seq)
        s->out_of_order++;
    else
        s->max_seq = seq;
    s->delivered++;
    bool left = idx > 0 && s->r[idx - 1].hi + 1 == seq;
    bool right = idx < s->nr && s->r[idx].lo == seq + 1;
    if (left && right) {
        s->r[idx - 1].hi = s->r[idx].hi;
        memmove(s->r + idx, s->r + idx + 1, (s->nr - idx - 1) * sizeof(*s->r));
        s->nr--;
        a->nranges--;
    } else if (left) {
        s->r[idx - 1].hi = seq;
    } else if (right) {
        s->r[idx].lo = seq;
    } else if (!insert_range(a, s, idx, seq)) {
        s->overflow = true;
    }
}

void es_acct_record(es_acct *a, const es_mark *marks, size_t n, uint64_t unmarked)
{
    pthread_mutex_lock(&a->lock);
    a->unmarked += unmarked;
    stream *last = NULL;
    for (size_t i = 0; i < n; i++) {
        const es_mark *m = &marks[i];
        stream *s = last;
        if (!s || s->name_len != m->stream_len || s->name[0] != m->stream[0] ||
            memcmp(s->name, m->stream, m->stream_len) != 0)
            s = get_stream(a, m->stream, m->stream_len, true);
        if (!s) {
            a->unmarked++; /* over the stream cap: counted, never silently */
            continue;
        }
        last = s;
        record_one(a, s, m->seq);
    }
    pthread_mutex_unlock(&a->lock);
}

int es_acct_set_expected(es_acct *a, const char *name, uint64_t expected)
{
    size_t len = strlen(name);
    if (len == 0 || len > ES_ACCT_STREAM_MAX)
        return -EINVAL;
    for (size_t i = 0; i < len; i++)
        if (!stream_char((unsigned char)name[i]))
            return -EINVAL;
    pthread_mutex_lock(&a->lock);
    stream *s = get_stream(a, name, len, true);
    if (s) {
        s->expected = expected;
        s->has_expected = true;
    }
    pthread_mutex_unlock(&a->lock);
    return s ? 0 : -ENOSPC;
}

void es_acct_reset(es_acct *a)
{
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < a->table_cap; i++) {
        stream *s = a->streams[i];
        if (!s)
            continue;
        free(s->r);
        free(s->examples);
        free(s);
        a->streams[i] = NULL;
    }
    a->nstreams = 0;
    a->nranges = 0;
    a->unmarked = 0;
    pthread_mutex_unlock(&a->lock);
}

/* Walk the gaps of a stream: calls fn for each lost range. */
static uint64_t gaps(const stream *s, uint64_t (*out)[2], size_t max, size_t *nranges)
{
    uint64_t top = s->max_seq;
    if (s->has_expected && s->expected > top)
        top = s->expected;
    uint64_t next = 1, lost = 0;
    size_t n = 0;
    for (size_t i = 0; i <= s->nr; i++) {
        uint64_t lo = i < s->nr ? s->r[i].lo : top + 1;
        if (lo > top + 1)
            lo = top + 1;
        if (lo > next) {
            if (out && n < max) {
                out[n][0] = next;
                out[n][1] = lo - 1;
            }
            n++;
            lost += lo - next;
        }
        if (i < s->nr && s->r[i].hi + 1 > next)
            next = s->r[i].hi + 1;
    }
    *nranges = n;
    return lost;
}

static void fill_report(const stream *s, es_acct_report *r, uint64_t (*ranges)[2], size_t max)
{
    r->known = true;
    r->has_expected = s->has_expected;
    r->expected = s->expected;
    r->delivered = s->delivered;
    r->duplicated = s->duplicated;
    r->out_of_order = s->out_of_order;
    r->max_seq = s->max_seq;
    r->overflow = s->overflow;
    r->lost = gaps(s, ranges, max, &r->nlost_ranges);
}

void es_acct_stream(es_acct *a, const char *name, es_acct_report *r, uint64_t (*ranges)[2],
                    size_t max)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_lock(&a->lock);
    stream *s = get_stream(a, name, strlen(name), false);
    if (s)
        fill_report(s, r, ranges, max);
    pthread_mutex_unlock(&a->lock);
}

uint64_t es_acct_unmarked(es_acct *a)
{
    pthread_mutex_lock(&a->lock);
    uint64_t u = a->unmarked;
    pthread_mutex_unlock(&a->lock);
    return u;
}

static json_t *render_stream(const stream *s, size_t max_ranges)
{
    es_acct_report r;
    uint64_t(*ranges)[2] = calloc(max_ranges, sizeof(*ranges));
    if (!ranges)
        return NULL;
    fill_report(s, &r, ranges, max_ranges);
    json_t *o = json_object();
    json_t *lr = json_array();
    json_t *ex = json_array();
    if (!o || !lr || !ex) {
        json_decref(o);
        json_decref(lr);
        json_decref(ex);
        free(ranges);
        return NULL;
    }
    size_t shown = r.nlost_ranges < max_ranges ? r.nlost_ranges : max_ranges;
    for (size_t i = 0; i < shown; i++)
        json_array_append_new(
            lr, json_pack("[II]", (json_int_t)ranges[i][0], (json_int_t)ranges[i][1]));
    for (size_t i = 0; i < s->nexamples; i++)
        json_array_append_new(ex, json_integer((json_int_t)s->examples[i]));
    json_object_set_new(o, "expected",
                        r.has_expected ? json_integer((json_int_t)r.expected) : json_null());
    json_object_set_new(o, "delivered", json_integer((json_int_t)r.delivered));
    json_object_set_new(o, "lost", json_integer((json_int_t)r.lost));
    json_object_set_new(o, "lost_ranges", lr);
    if (r.nlost_ranges > shown)
        json_object_set_new(o, "lost_ranges_truncated", json_true());
    json_object_set_new(o, "duplicated", json_integer((json_int_t)r.duplicated));
    json_object_set_new(o, "duplicate_examples", ex);
    json_object_set_new(o, "out_of_order", json_integer((json_int_t)r.out_of_order));
    json_object_set_new(o, "max_seq", json_integer((json_int_t)r.max_seq));
    json_object_set_new(o, "overflow", json_boolean(r.overflow));
    free(ranges);
    return o;
}

static int cmp_stream(const void *x, const void *y)
{
    const stream *a = *(stream *const *)x, *b = *(stream *const *)y;
    return strcmp(a->name, b->name);
}

json_t *es_acct_render(es_acct *a, const char *name, size_t max_ranges)
{
    if (!max_ranges)
        max_ranges = 1000;
    json_t *root = json_object();
    json_t *streams = json_object();
    if (!root || !streams) {
        json_decref(root);
        json_decref(streams);
        return NULL;
    }
    pthread_mutex_lock(&a->lock);
    stream **list = calloc(a->nstreams ? a->nstreams : 1, sizeof(*list));
    size_t n = 0;
    if (list) {
        for (size_t i = 0; i < a->table_cap; i++) {
            stream *s = a->streams[i];
            if (s && (!name || strcmp(s->name, name) == 0))
                list[n++] = s;
        }
        qsort(list, n, sizeof(*list), cmp_stream);
        for (size_t i = 0; i < n; i++) {
            json_t *o = render_stream(list[i], max_ranges);
            if (o)
                json_object_set_new(streams, list[i]->name, o);
        }
    }
    uint64_t unmarked = a->unmarked;
    pthread_mutex_unlock(&a->lock);
    free(list);
    json_object_set_new(root, "streams", streams);
    json_object_set_new(root, "unmarked", json_integer((json_int_t)unmarked));
    return root;
}
