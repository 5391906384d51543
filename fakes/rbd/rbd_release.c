#include "rbd_release.h"

#include <pthread.h>
#include <string.h>

static const struct {
    const char *name, *version;
} names[RBD_REL_COUNT] = {
    {"jewel", "10.2.11"},   {"luminous", "12.2.13"}, {"mimic", "13.2.10"}, {"nautilus", "14.2.22"},
    {"octopus", "15.2.17"}, {"pacific", "16.2.15"},  {"quincy", "17.2.7"}, {"reef", "18.2.4"},
};

static rbd_release releases[RBD_REL_COUNT];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/*
 * Every difference flips once, at the first release whose sources or test
 * expectations show the new behaviour (docs/fakes/rbd.md, "Personas", has
 * the table with the sources). Where the boundary is approximate, it is the
 * earliest release known to have the new form.
 */
static void fill(rbd_release *r, rbd_release_id id)
{
    r->id = id;
    r->name = names[id].name;
    r->version = names[id].version;
    r->table_legacy = id < RBD_REL_OCTOPUS;    /* TextTable two-space columns: PR 33138 */
    r->table_hd_left = id >= RBD_REL_NAUTILUS; /* headings of right columns: PR 22566 */
    r->lock_json_map = id < RBD_REL_MIMIC;     /* Lock.cc: object keyed by lock id */
    r->status_json_obj = id < RBD_REL_MIMIC;   /* Status.cc: object of "watcher"s */
    r->showmapped_obj = id < RBD_REL_MIMIC;    /* krbd.cc: object keyed by device id */
    r->namespaces = id >= RBD_REL_NAUTILUS;    /* pool/namespace/image specs */
    r->snapshot_word = id >= RBD_REL_NAUTILUS; /* "snapshot name" (else "snapname") */
    r->pool_quoted = id >= RBD_REL_NAUTILUS;   /* "error opening pool 'p'" */
    r->pretty_needs_format = id >= RBD_REL_NAUTILUS;
    r->info_create_ts = id >= RBD_REL_LUMINOUS;
    r->info_id = id >= RBD_REL_MIMIC;
    r->info_snap_count = id >= RBD_REL_NAUTILUS;
    r->ls_id = id >= RBD_REL_NAUTILUS;
    r->json_line_break = id >= RBD_REL_MIMIC; /* formatted-output.t loses "(no-eol)" */
    r->too_many_args = id >= RBD_REL_OCTOPUS;
    r->blocklist = id >= RBD_REL_PACIFIC;
    r->blacklist = true; /* kept as a deprecated alias from Pacific on */
    r->blocklist_range = id >= RBD_REL_REEF;
    r->blocklist_words = id >= RBD_REL_PACIFIC;
    r->iso_time = id >= RBD_REL_PACIFIC;
    r->concise_new = id >= RBD_REL_NAUTILUS;
    r->ceph_err_new = id >= RBD_REL_NAUTILUS;
    r->size_style = id < RBD_REL_MIMIC    ? RBD_SIZE_PRETTYBYTE
                    : id == RBD_REL_MIMIC ? RBD_SIZE_BYTE_U
                                          : RBD_SIZE_BYTE_U_SP;
    r->log_style = id < RBD_REL_NAUTILUS    ? RBD_LOG_USEC
                   : id == RBD_REL_NAUTILUS ? RBD_LOG_MSEC
                                            : RBD_LOG_ISO;
}

static void init(void)
{
    for (int i = 0; i < RBD_REL_COUNT; i++)
        fill(&releases[i], (rbd_release_id)i);
}

const rbd_release *rbd_release_find(const char *name)
{
    if (!name)
        return NULL;
    pthread_once(&once, init);
    for (int i = 0; i < RBD_REL_COUNT; i++)
        if (strcmp(releases[i].name, name) == 0)
            return &releases[i];
    return NULL;
}

const rbd_release *rbd_release_get(rbd_release_id id)
{
    pthread_once(&once, init);
    if ((int)id < 0 || id >= RBD_REL_COUNT)
        id = RBD_REL_DEFAULT;
    return &releases[id];
}

const char *rbd_release_names(void)
{
    return "jewel, luminous, mimic, nautilus, octopus, pacific, quincy, reef";
}
