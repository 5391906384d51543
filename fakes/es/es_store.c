#include "es_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/rng.h"
#include "es_id.h"

#define CHUNK_SIZE ((size_t)4 << 20)

/* Every stored byte lands in a chunk, written once at network speed. Fresh
 * memory costs a page fault per 4 KiB touched; mapping a chunk with
 * MAP_POPULATE faults it in with one system call instead of a thousand
 * exceptions (the same zeroing, a fraction of the overhead). */
static char *chunk_alloc(size_t size)
{
    void *p =
        mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void chunk_free(char *p, size_t size)
{
    if (p)
        munmap(p, size);
}

/* Spare chunks: faulted in by request threads before they take the store
 * lock (so the kernel's page zeroing runs in parallel, not under the lock),
 * and chunks of deleted indices kept for reuse, as a log cluster that drops
 * old indices reuses their memory. Fresh memory is what storing costs most
 * on a virtual machine (the kernel zeroes every page, ~3 GB/s here), so
 * reuse matters. Bounded by the limit itself: stored plus spare bytes never
 * pass it by more than the chunks being filled, since storing takes spare
 * chunks first (the process keeps its memory after a delete, as a JVM keeps
 * its heap). */
struct es_store {
    pthread_mutex_t spare_lock;
    char **spare;
    size_t nspare;
    size_t spare_cap; /* chunks kept at most (limit-dependent) */
    pthread_rwlock_t lock;
    es_store_config cfg;
    rng uuid_rng;
    es_doc *spare_docs; /* the largest document array a deletion freed */
    size_t spare_docs_room;
    es_index **ix; /* sorted by name */
    size_t nix;
    uint64_t bytes; /* over all indices */
};

es_store *es_store_new(const es_store_config *cfg)
{
    es_store *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->cfg = *cfg;
    if (!s->cfg.limit)
        s->cfg.limit = ES_STORE_DEFAULT_LIMIT;
    s->ix = calloc(ES_MAX_INDICES, sizeof(*s->ix));
    if (!s->ix) {
        free(s);
        return NULL;
    }
    rng_init(&s->uuid_rng, cfg->seed, "es.index-uuids");
    pthread_rwlock_init(&s->lock, NULL);
    pthread_mutex_init(&s->spare_lock, NULL);
    /* keep what deletions free, up to the limit, as spare */
    s->spare_cap = (size_t)(s->cfg.limit / CHUNK_SIZE);
    s->spare = calloc(s->spare_cap ? s->spare_cap : 1, sizeof(*s->spare));
    if (!s->spare) {
        es_store_free(s);
        return NULL;
    }
    return s;
}

static void spare_put(es_store *s, char *c, size_t size)
{
    if (s && size == CHUNK_SIZE) {
        pthread_mutex_lock(&s->spare_lock);
        if (s->nspare < s->spare_cap) {
            s->spare[s->nspare++] = c;
            c = NULL;
        }
        pthread_mutex_unlock(&s->spare_lock);
    }
    chunk_free(c, size);
}

static char *spare_get(es_store *s)
{
    char *c = NULL;
    pthread_mutex_lock(&s->spare_lock);
    if (s->nspare)
        c = s->spare[--s->nspare];
    pthread_mutex_unlock(&s->spare_lock);
    return c;
}

void es_store_reserve(es_store *s, size_t bytes)
{
    size_t want = bytes / CHUNK_SIZE + 1;
    if (want > s->spare_cap)
        want = s->spare_cap;
    for (;;) {
        pthread_mutex_lock(&s->spare_lock);
        bool enough = s->nspare >= want;
        pthread_mutex_unlock(&s->spare_lock);
        if (enough)
            return;
        char *c = chunk_alloc(CHUNK_SIZE);
        if (!c)
            return;
        pthread_mutex_lock(&s->spare_lock);
        if (s->nspare < s->spare_cap) {
            s->spare[s->nspare++] = c;
            c = NULL;
        }
        pthread_mutex_unlock(&s->spare_lock);
        if (c) {
            chunk_free(c, CHUNK_SIZE);
            return;
        }
    }
}

/* The document array of a deleted index is kept (the largest one only) for
 * the next index that grows, as its chunks are: its pages are already
 * faulted in, where a growing array costs a fresh page per 100 documents.
 * The next index is charged for the capacity it would have grown to, not
 * for the larger array it got, so the limit sees the same bytes either way. */
static void spare_docs_put(es_store *s, es_doc *docs, size_t room)
{
    if (s && docs && room > 1024) {
        pthread_mutex_lock(&s->spare_lock);
        if (room > s->spare_docs_room) {
            es_doc *old = s->spare_docs;
            s->spare_docs = docs;
            s->spare_docs_room = room;
            docs = old;
        }
        pthread_mutex_unlock(&s->spare_lock);
    }
    free(docs);
}

/* Make room for `cap` documents in ix->docs: the spare array when it is
 * large enough, else a realloc. 0 or -ENOMEM. */
static int docs_grow(es_store *s, es_index *ix, size_t cap)
{
    if (cap <= ix->docs_room)
        return 0;
    es_doc *spare = NULL;
    size_t room = 0;
    pthread_mutex_lock(&s->spare_lock);
    if (s->spare_docs_room >= cap) {
        spare = s->spare_docs;
        room = s->spare_docs_room;
        s->spare_docs = NULL;
        s->spare_docs_room = 0;
    }
    pthread_mutex_unlock(&s->spare_lock);
    if (spare) {
        if (ix->ndocs)
            memcpy(spare, ix->docs, ix->ndocs * sizeof(*spare));
        free(ix->docs);
        ix->docs = spare;
        ix->docs_room = room;
        return 0;
    }
    es_doc *nd = realloc(ix->docs, cap * sizeof(*nd));
    if (!nd)
        return -ENOMEM;
    ix->docs = nd;
    ix->docs_room = cap;
    return 0;
}

static void index_free(es_store *s, es_index *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->nchunks; i++)
        spare_put(s, ix->chunks[i], ix->chunk_sizes[i]);
    free(ix->chunks);
    free(ix->chunk_sizes);
    for (size_t i = 0; i < ix->ntypes; i++)
        free(ix->types[i]);
    spare_docs_put(s, ix->docs, ix->docs_room);
    free(ix->table);
    free(ix->name);
    json_decref(ix->settings);
    json_decref(ix->mappings);
    json_decref(ix->aliases);
    free(ix);
}

void es_store_clear(es_store *s)
{
    for (size_t i = 0; i < s->nix; i++)
        index_free(s, s->ix[i]);
    s->nix = 0;
    s->bytes = 0;
}

void es_store_free(es_store *s)
{
    if (!s)
        return;
    es_store_clear(s);
    free(s->ix);
    for (size_t i = 0; i < s->nspare; i++)
        chunk_free(s->spare[i], CHUNK_SIZE);
    free(s->spare);
    free(s->spare_docs);
    pthread_mutex_destroy(&s->spare_lock);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

void es_store_rdlock(es_store *s)
{
    pthread_rwlock_rdlock(&s->lock);
}
void es_store_wrlock(es_store *s)
{
    pthread_rwlock_wrlock(&s->lock);
}
void es_store_unlock(es_store *s)
{
    pthread_rwlock_unlock(&s->lock);
}

bool es_store_full(const es_store *s)
{
    return s->bytes >= s->cfg.limit;
}
uint64_t es_store_bytes(const es_store *s)
{
    return s->bytes;
}
uint64_t es_store_limit(const es_store *s)
{
    return s->cfg.limit;
}
bool es_store_accounting_only(const es_store *s)
{
    return s->cfg.accounting_only;
}
size_t es_store_index_count(const es_store *s)
{
    return s->nix;
}

static int name_cmp(const es_index *ix, const char *name, size_t len)
{
    size_t n = ix->name_len < len ? ix->name_len : len;
    int c = memcmp(ix->name, name, n);
    if (c)
        return c;
    return ix->name_len < len ? -1 : ix->name_len > len;
}

/* Position of `name` (found) or where it would go. */
static size_t find_pos(es_store *s, const char *name, size_t len, bool *found)
{
    size_t lo = 0, hi = s->nix;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = name_cmp(s->ix[mid], name, len);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

es_index *es_store_index_get(es_store *s, const char *name, size_t len)
{
    bool found;
    size_t pos = find_pos(s, name, len, &found);
    return found ? s->ix[pos] : NULL;
}

int es_store_index_add(es_store *s, const char *name, size_t len, es_index **out)
{
    bool found;
    size_t pos = find_pos(s, name, len, &found);
    if (found) {
        *out = s->ix[pos];
        return -EEXIST;
    }
    if (s->nix >= ES_MAX_INDICES)
        return -ENOSPC;
    es_index *ix = calloc(1, sizeof(*ix));
    if (!ix)
        return -ENOMEM;
    ix->name = strndup(name, len);
    ix->settings = json_object();
    ix->mappings = json_object();
    ix->aliases = json_object();
    if (!ix->name || !ix->settings || !ix->mappings || !ix->aliases) {
        index_free(s, ix);
        return -ENOMEM;
    }
    ix->name_len = len;
    uint8_t u[16];
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = rng_next(&s->uuid_rng);
        memcpy(u + i, &r, 8);
    }
    size_t n = es_base64url(u, 16, ix->uuid);
    ix->uuid[n] = '\0';
    ix->created_ms = s->cfg.now_ms ? s->cfg.now_ms(s->cfg.now_arg) : 0;
    memmove(s->ix + pos + 1, s->ix + pos, (s->nix - pos) * sizeof(*s->ix));
    s->ix[pos] = ix;
    s->nix++;
    ix->bytes = sizeof(*ix) + len;
    s->bytes += ix->bytes;
    *out = ix;
    return 0;
}

void es_store_index_del(es_store *s, es_index *ix)
{
    bool found;
    size_t pos = find_pos(s, ix->name, ix->name_len, &found);
    if (!found || s->ix[pos] != ix)
        return;
    memmove(s->ix + pos, s->ix + pos + 1, (s->nix - pos - 1) * sizeof(*s->ix));
    s->nix--;
    s->bytes -= ix->bytes;
    index_free(s, ix);
}

size_t es_store_index_list(es_store *s, es_index **out, size_t max)
{
    size_t n = s->nix < max ? s->nix : max;
    memcpy(out, s->ix, n * sizeof(*out));
    return n;
}

int es_index_type(es_index *ix, const char *type, size_t len, bool add)
{
    for (size_t i = 0; i < ix->ntypes; i++) {
        if (strlen(ix->types[i]) == len && memcmp(ix->types[i], type, len) == 0)
            return (int)i;
    }
    if (!add)
        return -1;
    if (ix->ntypes >= ES_MAX_TYPES)
        return -ENOSPC;
    char *t = strndup(type, len);
    if (!t)
        return -ENOMEM;
    ix->types[ix->ntypes] = t;
    return (int)ix->ntypes++;
}

/* The id eight bytes at a time, mixed with the type and the length (ids
 * are mostly 20 bytes: three rounds instead of twenty). */
static uint32_t doc_hash(int type, const char *id, size_t len)
{
    const uint64_t mul = UINT64_C(0xff51afd7ed558ccd);
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ ((uint64_t)(unsigned)type << 32) ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, id + i, 8);
        h = (h ^ w) * mul;
        h ^= h >> 29;
    }
    if (i < len) {
        uint64_t w = 0;
        for (size_t k = 0; i + k < len; k++)
            w |= (uint64_t)(unsigned char)id[i + k] << (8 * k);
        h = (h ^ w) * mul;
        h ^= h >> 29;
    }
    h *= mul;
    return (uint32_t)(h ^ (h >> 32));
}

static int grow_table(es_store *s, es_index *ix);

static void table_put(es_index *ix, size_t k)
{
    size_t mask = ix->table_cap - 1;
    size_t i = ix->docs[k].hash & mask;
    while (ix->table[i])
        i = (i + 1) & mask;
    ix->table[i] = (uint64_t)ix->docs[k].hash << 32 | (uint64_t)(k + 1);
    ix->docs[k].in_table = 1;
    ix->in_table++;
}

/* Documents stored under generated ids are not put in the id table when
 * they arrive (a random write into a large table is a cache miss per
 * document, and pure log shipping never looks them up); the first lookup
 * after them indexes them all. */
static int table_catch_up(es_store *s, es_index *ix)
{
    if (ix->table_upto == ix->ndocs)
        return 0;
    while (ix->in_table + (ix->ndocs - ix->table_upto) > ix->table_cap / 2) {
        int rc = grow_table(s, ix);
        if (rc)
            return rc;
    }
    for (size_t k = ix->table_upto; k < ix->ndocs; k++)
        if (!ix->docs[k].in_table)
            table_put(ix, k);
    ix->table_upto = ix->ndocs;
    return 0;
}

/* The slot keeps the hash beside the index, so probing compares in the
 * table and only a real candidate touches the document record. */
es_doc *es_index_doc_get(es_store *s, es_index *ix, int type, const char *id, size_t id_len)
{
    if (table_catch_up(s, ix))
        return NULL;
    if (!ix->table_cap)
        return NULL;
    uint32_t h = doc_hash(type, id, id_len);
    size_t mask = ix->table_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint64_t slot = ix->table[i];
        if (!slot)
            return NULL;
        if ((uint32_t)(slot >> 32) != h)
            continue;
        es_doc *d = &ix->docs[(uint32_t)slot - 1];
        if (d->type == type && d->id_len == id_len && memcmp(d->data, id, id_len) == 0)
            return d;
    }
}

static void account(es_store *s, es_index *ix, int64_t delta)
{
    ix->bytes = (uint64_t)((int64_t)ix->bytes + delta);
    s->bytes = (uint64_t)((int64_t)s->bytes + delta);
}

static int grow_table(es_store *s, es_index *ix)
{
    size_t ncap = ix->table_cap ? ix->table_cap * 2 : 1024;
    uint64_t *nt = calloc(ncap, sizeof(*nt));
    if (!nt)
        return -ENOMEM;
    size_t mask = ncap - 1;
    for (size_t k = 0; k < ix->ndocs; k++) {
        if (!ix->docs[k].in_table)
            continue;
        size_t i = ix->docs[k].hash & mask;
        while (nt[i])
            i = (i + 1) & mask;
        nt[i] = (uint64_t)ix->docs[k].hash << 32 | (uint64_t)(k + 1);
    }
    account(s, ix, (int64_t)((ncap - ix->table_cap) * sizeof(*nt)));
    free(ix->table);
    ix->table = nt;
    ix->table_cap = ncap;
    return 0;
}

/* Copy id + source into the chunk space; NULL on ENOMEM. */
static char *store_bytes(es_store *s, es_index *ix, const char *id, size_t id_len, const char *src,
                         size_t src_len)
{
    size_t need = id_len + src_len;
    if (!ix->nchunks || ix->chunk_size - ix->chunk_used < need) {
        if (ix->nchunks == ix->chunks_cap) {
            size_t nc = ix->chunks_cap ? ix->chunks_cap * 2 : 16;
            char **n = realloc(ix->chunks, nc * sizeof(*n));
            if (!n)
                return NULL;
            ix->chunks = n;
            size_t *z = realloc(ix->chunk_sizes, nc * sizeof(*z));
            if (!z)
                return NULL;
            ix->chunk_sizes = z;
            account(s, ix, (int64_t)((nc - ix->chunks_cap) * (sizeof(*n) + sizeof(*z))));
            ix->chunks_cap = nc;
        }
        size_t size = need > CHUNK_SIZE ? need : CHUNK_SIZE;
        /* the first chunk of an index starts small: many indices hold few docs */
        if (ix->nchunks == 0 && need <= 64 * 1024)
            size = 64 * 1024;
        char *c = size == CHUNK_SIZE ? spare_get(s) : NULL;
        if (!c)
            c = chunk_alloc(size);
        if (!c)
            return NULL;
        ix->chunk_sizes[ix->nchunks] = size;
        ix->chunks[ix->nchunks++] = c;
        ix->chunk_size = size;
        ix->chunk_used = 0;
        account(s, ix, (int64_t)size);
    }
    char *p = ix->chunks[ix->nchunks - 1] + ix->chunk_used;
    memcpy(p, id, id_len);
    memcpy(p + id_len, src, src_len);
    ix->chunk_used += need;
    return p;
}

int es_index_put(es_store *s, es_index *ix, int type, const char *id, size_t id_len,
                 const char *src, size_t src_len, bool create, bool fresh, int64_t expect_version,
                 int64_t *version, int64_t *seq_no, bool *created)
{
    es_doc *d = fresh ? NULL : es_index_doc_get(s, ix, type, id, id_len);
    if (d && d->live && create) {
        *version = d->version;
        return -EEXIST;
    }
    if (expect_version >= 0) {
        int64_t cur = d && d->live ? d->version : 0;
        if (cur != expect_version) {
            *version = cur;
            return -ESTALE;
        }
    }
    if (es_store_full(s))
        return -ENOSPC;
    if (src_len > UINT32_MAX || id_len > ES_MAX_ID_BYTES)
        return -EINVAL;
    if (!d) {
        if (ix->ndocs == ix->docs_cap) {
            size_t nc = ix->docs_cap ? ix->docs_cap * 2 : 256;
            if (docs_grow(s, ix, nc))
                return -ENOMEM;
            account(s, ix, (int64_t)((nc - ix->docs_cap) * sizeof(es_doc)));
            ix->docs_cap = nc;
        }
        if (!fresh && (ix->in_table + 1) * 2 > ix->table_cap) {
            int rc = grow_table(s, ix);
            if (rc)
                return rc;
        }
        char *data = store_bytes(s, ix, id, id_len, src, src_len);
        if (!data)
            return -ENOMEM;
        d = &ix->docs[ix->ndocs];
        d->data = data;
        d->id_len = (uint16_t)id_len;
        d->src_len = (uint32_t)src_len;
        d->type = (uint16_t)type;
        d->hash = doc_hash(type, id, id_len);
        d->live = 0;
        d->in_table = 0;
        d->version = 0;
        if (!fresh)
            table_put(ix, ix->ndocs);
        ix->ndocs++;
        if (!fresh && ix->table_upto == ix->ndocs - 1)
            ix->table_upto = ix->ndocs;
    } else {
        char *data = store_bytes(s, ix, id, id_len, src, src_len);
        if (!data)
            return -ENOMEM;
        if (d->live)
            ix->src_bytes -= d->src_len;
        d->data = data;
        d->src_len = (uint32_t)src_len;
    }
    *created = !d->live;
    if (d->live) {
        ix->deleted++; /* an overwrite leaves a deleted copy behind, as in Lucene */
    } else {
        ix->live++;
    }
    d->live = 1;
    d->version++;
    d->seq_no = ix->next_seq_no++;
    ix->src_bytes += src_len;
    *version = d->version;
    *seq_no = d->seq_no;
    return 0;
}

int es_index_del_doc(es_store *s, es_index *ix, int type, const char *id, size_t id_len,
                     int64_t expect_version, int64_t *version, int64_t *seq_no)
{
    es_doc *d = es_index_doc_get(s, ix, type, id, id_len);
    if (expect_version >= 0) {
        int64_t cur = d && d->live ? d->version : 0;
        if (cur != expect_version) {
            *version = cur;
            return -ESTALE;
        }
    }
    *seq_no = ix->next_seq_no++;
    if (!d || !d->live) {
        *version = d ? d->version + 1 : 1;
        if (d)
            d->version++;
        return -ENOENT;
    }
    d->live = 0;
    d->version++;
    d->seq_no = *seq_no;
    ix->live--;
    ix->deleted++;
    ix->src_bytes -= d->src_len;
    *version = d->version;
    return 0;
}

void es_index_count_only(es_store *s, es_index *ix, size_t src_len, int64_t *seq_no)
{
    (void)s;
    ix->live++;
    ix->src_bytes += src_len;
    *seq_no = ix->next_seq_no++;
}
