/*
 * rbd_release.h - Ceph release personas of the fake rbd/ceph tools.
 *
 * Real clients parse what their era's tools printed, so every difference the
 * fake reproduces is a named flag of a release here, never an ad-hoc version
 * comparison in a renderer. docs/fakes/rbd.md has the table with the source of
 * each flag (the ceph tree's src/tools/rbd, src/common/TextTable.cc,
 * src/mon/OSDMonitor.cc, src/test/cli-integration/rbd/formatted-output.t).
 */
#ifndef EFK_RBD_RELEASE_H
#define EFK_RBD_RELEASE_H

#include <stdbool.h>

typedef enum rbd_release_id {
    RBD_REL_JEWEL = 0, /* 10.2 */
    RBD_REL_LUMINOUS,  /* 12.2 */
    RBD_REL_MIMIC,     /* 13.2 */
    RBD_REL_NAUTILUS,  /* 14.2 */
    RBD_REL_OCTOPUS,   /* 15.2 */
    RBD_REL_PACIFIC,   /* 16.2 */
    RBD_REL_QUINCY,    /* 17.2 */
    RBD_REL_REEF,      /* 18.2 */
    RBD_REL_COUNT
} rbd_release_id;

#define RBD_REL_DEFAULT RBD_REL_REEF

/* How sizes are printed by `rbd info` and `rbd ls -l`. */
typedef enum rbd_size_style {
    RBD_SIZE_PRETTYBYTE, /* info "1024 MB", "4096 kB"; ls -l si_t "1024M" */
    RBD_SIZE_BYTE_U,     /* byte_u_t without a space: "1GiB" (mimic) */
    RBD_SIZE_BYTE_U_SP,  /* byte_u_t with a space: "1 GiB" (nautilus on) */
} rbd_size_style;

/* How the daemons' log lines (librados/librbd noise on stderr) look. */
typedef enum rbd_log_style {
    RBD_LOG_USEC, /* "2017-03-02 08:26:46.500123 7f0c8d7fa700 -1 " */
    RBD_LOG_MSEC, /* "2019-05-01 10:00:00.123 7f0c8d7fa700 -1 " */
    RBD_LOG_ISO,  /* "2021-03-01T10:00:00.123+0000 7f0c8d7fa700 -1 " */
} rbd_log_style;

typedef struct rbd_release {
    rbd_release_id id;
    const char *name;         /* "jewel" */
    const char *version;      /* "10.2.11" (what `rbd --version` would say) */
    bool table_legacy;        /* TextTable: one space after every cell (trailing) */
    bool table_hd_left;       /* right-aligned columns keep a left-aligned heading */
    bool lock_json_map;       /* lock ls: object keyed by lock id (else array) */
    bool status_json_obj;     /* status: "watchers" an object of "watcher"s */
    bool showmapped_obj;      /* showmapped: object keyed by device id */
    bool namespaces;          /* pool/namespace/image specs, --namespace */
    bool snapshot_word;       /* "snapshot name specified..." (else "snapname") */
    bool pool_quoted;         /* "error opening pool 'p'" and the default-pool hint */
    bool pretty_needs_format; /* --pretty-format alone is an error */
    bool info_create_ts;      /* info: create_timestamp */
    bool info_id;             /* info: id line and JSON key, op_features */
    bool info_snap_count;     /* info: snapshot_count, access/modify timestamps */
    bool ls_id;               /* ls -l JSON: "id" */
    bool json_line_break;     /* JSON/XML output ends with a newline */
    bool too_many_args;       /* extra positionals: "rbd: too many arguments" (1) */
    bool blocklist;           /* `osd blocklist` exists */
    bool blacklist;           /* `osd blacklist` exists */
    bool blocklist_range;     /* `osd blocklist range` exists */
    bool blocklist_words;     /* mon replies say "blocklist" (else "blacklist") */
    bool iso_time;            /* utime printed 2026-05-06T08:59:47.102488+0000 */
    bool concise_new;         /* ceph usage "<addr> [<expire:float>]" */
    bool ceph_err_new;        /* ceph: "RADOS timed out (error connecting...)" */
    rbd_size_style size_style;
    rbd_log_style log_style;
} rbd_release;

/* The release by name ("jewel", case-sensitive); NULL when unknown. */
const rbd_release *rbd_release_find(const char *name);
/* The release by id (always valid for ids < RBD_REL_COUNT). */
const rbd_release *rbd_release_get(rbd_release_id id);
/* The known names joined by ", " (static). */
const char *rbd_release_names(void);

#endif
