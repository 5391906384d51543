/*
 * es_store.h - the index and document store of the fake Elasticsearch.
 *
 * Indices by name; each keeps its documents' ids and source bytes exactly as
 * they arrived (no tree is built), packed into large append-only chunks so a
 * stored document costs its source plus about 70 bytes (the id, a 48-byte
 * record and a 16-byte hash slot): well under 1.5x for log documents. Overwritten and
 * deleted sources stay in their chunk until the index is deleted (ES keeps
 * them until a merge, too); they still count against the memory cap.
 *
 * Versions, sequence numbers and tombstones follow ES: a deleted id keeps its
 * version, so indexing it again yields version+1 and "created".
 *
 * Memory cap: `limit` bytes over every index (chunks, records, tables). Past
 * it, writes are refused (es_store_full) the way a cluster past its
 * flood-stage watermark refuses them; reads and deletes still work, and
 * deleting an index frees its memory. In accounting-only mode the store keeps
 * no ids or sources, only per-index counts (for soak runs of many millions of
 * documents).
 *
 * Locking: one read-write lock for the whole store. Writers (bulk apply,
 * index create/delete) take it exclusively with es_store_wrlock(); readers
 * (search, count, cat) share it. Functions below that take an `es_index *` or
 * return one must be called with the lock held. Nothing inside is aliased
 * outside: callers copy what they keep after unlocking.
 */
#ifndef EFK_ES_STORE_H
#define EFK_ES_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define ES_STORE_DEFAULT_LIMIT (UINT64_C(1) << 30)
#define ES_MAX_TYPES           64
#define ES_MAX_INDICES         4096
#define ES_MAX_ID_BYTES        512

typedef struct es_store es_store;
typedef struct es_index es_index;

/* A stored document (a view into the store; valid while the lock is held). */
typedef struct es_doc {
    const char *data; /* id bytes, then source bytes */
    uint32_t src_len;
    uint16_t id_len;
    uint16_t type; /* index into the index's types */
    uint32_t hash;
    uint16_t live;     /* 0: a tombstone */
    uint16_t in_table; /* indexed in the id table yet */
    int64_t version;
    int64_t seq_no;
} es_doc;

static inline const char *es_doc_id(const es_doc *d)
{
    return d->data;
}
static inline const char *es_doc_src(const es_doc *d)
{
    return d->data + d->id_len;
}

struct es_index {
    char *name;
    size_t name_len;
    char uuid[23]; /* 22 chars of base64url, as ES shows index uuids */
    int64_t created_ms;
    char *types[ES_MAX_TYPES];
    size_t ntypes;
    es_doc *docs; /* in arrival order (the "_doc" order) */
    size_t ndocs, docs_cap; /* docs_cap: the capacity accounted (doubling) */
    size_t docs_room;       /* the capacity allocated (>= docs_cap: a reused array) */
    uint64_t *table; /* open addressing: hash << 32 | (doc index + 1), 0 empty */
    size_t table_cap;
    size_t in_table;   /* documents in the table */
    size_t table_upto; /* docs[0..table_upto) are all in the table */
    uint64_t live;     /* documents that exist */
    uint64_t deleted;  /* docs.deleted, as _cat/indices shows it */
    int64_t next_seq_no;
    uint64_t bytes;     /* memory this index holds */
    uint64_t src_bytes; /* source bytes of live documents */
    char **chunks;
    size_t *chunk_sizes;
    size_t nchunks, chunks_cap;
    size_t chunk_used, chunk_size; /* of the last chunk */
    json_t *settings;              /* PUT /index body's "settings" (or {}) */
    json_t *mappings;              /* and "mappings" (or {}) */
    json_t *aliases;
};

typedef struct es_store_config {
    uint64_t limit; /* bytes; 0: ES_STORE_DEFAULT_LIMIT */
    bool accounting_only;
    uint64_t seed; /* index uuids */
    int64_t (*now_ms)(void *arg);
    void *now_arg;
} es_store_config;

/* New empty store (NULL on ENOMEM). The config is copied. */
es_store *es_store_new(const es_store_config *cfg);
void es_store_free(es_store *s);

void es_store_rdlock(es_store *s);
void es_store_wrlock(es_store *s);
void es_store_unlock(es_store *s);

/* Make sure about `bytes` of chunk space is faulted in and ready, without
 * the lock (call before es_store_wrlock on the write path). Thread-safe. */
void es_store_reserve(es_store *s, size_t bytes);

/* Remove every index (under the caller's write lock). */
void es_store_clear(es_store *s);

/* ---- with the lock held ---- */
bool es_store_full(const es_store *s); /* over the limit? */
uint64_t es_store_bytes(const es_store *s);
uint64_t es_store_limit(const es_store *s);
bool es_store_accounting_only(const es_store *s);

es_index *es_store_index_get(es_store *s, const char *name, size_t len);
/* Create an index (the name is copied; validity is the caller's job).
 * 0, -EEXIST (then *out is the existing one), -ENOSPC past ES_MAX_INDICES,
 * -ENOMEM. */
int es_store_index_add(es_store *s, const char *name, size_t len, es_index **out)
    __attribute__((warn_unused_result));
/* Delete an index and free its memory. */
void es_store_index_del(es_store *s, es_index *ix);
/* Indices in name order: fills up to `max` pointers, returns the count. */
size_t es_store_index_list(es_store *s, es_index **out, size_t max);
size_t es_store_index_count(const es_store *s);

/* The index of a type name in `ix` (adding it when `add`), or -1 when absent;
 * -ENOSPC past ES_MAX_TYPES. */
int es_index_type(es_index *ix, const char *type, size_t len, bool add);

/* Look a document up (live or tombstone), NULL when never seen (or on
 * ENOMEM). May index recent documents first: needs the write lock. */
es_doc *es_index_doc_get(es_store *s, es_index *ix, int type, const char *id, size_t id_len);

/* Write a document's source under (type, id). With `create`, an existing live
 * document is a conflict. `fresh` says the id was just generated (unique by
 * construction, so no lookup is needed: ES skips it for auto ids too). Fills the new version and
 * seq_no, and whether it was created (vs overwritten). `expect_version` >= 0 requires the current
 * version to equal it (internal versioning).
 * 0; -EEXIST (create over a live doc; *version = its version);
 * -ESTALE (expect_version mismatch; *version = current, 0 when missing);
 * -ENOSPC (store over its limit); -ENOMEM. */
int es_index_put(es_store *s, es_index *ix, int type, const char *id, size_t id_len,
                 const char *src, size_t src_len, bool create, bool fresh, int64_t expect_version,
                 int64_t *version, int64_t *seq_no, bool *created)
    __attribute__((warn_unused_result));

/* Delete a document: 0 with its new version (found), -ENOENT (not found: a
 * version 1 tombstone is not kept; *version = 1), -ESTALE, -ENOMEM. Always
 * consumes a seq_no (ES does for not_found too). */
int es_index_del_doc(es_store *s, es_index *ix, int type, const char *id, size_t id_len,
                     int64_t expect_version, int64_t *version, int64_t *seq_no)
    __attribute__((warn_unused_result));

/* Accounting-only mode: count a document without keeping it. */
void es_index_count_only(es_store *s, es_index *ix, size_t src_len, int64_t *seq_no);

#endif
