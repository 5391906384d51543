#include "rbd_release.h"

#include <string.h>

/*
 * One row per release. Where a boundary could only be placed approximately
 * (see docs/fakes/rbd.md, "Personas"), the flag flips at the first release
 * whose sources or test expectations show the new behaviour.
 */
#define T true
#define F false
static const rbd_release releases[RBD_REL_COUNT] = {
    {RBD_REL_JEWEL, "jewel", "10.2.11", .table_legacy = T, .table_hd_left = F,
     .lock_json_map = T, .status_json_obj = T, .showmapped_obj = T, .namespaces = F,
     .snapshot_word = F, .pool_quoted = F, .pretty_needs_format = F, .info_create_ts = F,
     .info_id = F, .info_snap_count = F, .ls_id = F, .json_line_break = F, .too_many_args = F,
     .blocklist = F, .blacklist = T, .blocklist_range = F, .blocklist_words = F,
     .iso_time = F, .concise_new = F, .ceph_err_new = F, .size_style = RBD_SIZE_PRETTYBYTE,
     .log_style = RBD_LOG_USEC},
    {RBD_REL_LUMINOUS, "luminous", "12.2.13", .table_legacy = T, .table_hd_left = F,
     .lock_json_map = T, .status_json_obj = T, .showmapped_obj = T, .namespaces = F,
     .snapshot_word = F, .pool_quoted = F, .pretty_needs_format = F, .info_create_ts = T,
     .info_id = F, .info_snap_count = F, .ls_id = F, .json_line_break = F, .too_many_args = F,
     .blocklist = F, .blacklist = T, .blocklist_range = F, .blocklist_words = F,
     .iso_time = F, .concise_new = F, .ceph_err_new = F, .size_style = RBD_SIZE_PRETTYBYTE,
     .log_style = RBD_LOG_USEC},
    {RBD_REL_MIMIC, "mimic", "13.2.10", .table_legacy = T, .table_hd_left = F,
     .lock_json_map = F, .status_json_obj = F, .showmapped_obj = F, .namespaces = F,
     .snapshot_word = F, .pool_quoted = F, .pretty_needs_format = F, .info_create_ts = T,
     .info_id = T, .info_snap_count = F, .ls_id = F, .json_line_break = T, .too_many_args = F,
     .blocklist = F, .blacklist = T, .blocklist_range = F, .blocklist_words = F,
     .iso_time = F, .concise_new = F, .ceph_err_new = F, .size_style = RBD_SIZE_BYTE_U,
     .log_style = RBD_LOG_USEC},
    {RBD_REL_NAUTILUS, "nautilus", "14.2.22", .table_legacy = T, .table_hd_left = T,
     .lock_json_map = F, .status_json_obj = F, .showmapped_obj = F, .namespaces = T,
     .snapshot_word = T, .pool_quoted = T, .pretty_needs_format = T, .info_create_ts = T,
     .info_id = T, .info_snap_count = T, .ls_id = T, .json_line_break = T, .too_many_args = F,
     .blocklist = F, .blacklist = T, .blocklist_range = F, .blocklist_words = F,
     .iso_time = F, .concise_new = T, .ceph_err_new = T, .size_style = RBD_SIZE_BYTE_U_SP,
     .log_style = RBD_LOG_MSEC},
    {RBD_REL_OCTOPUS, "octopus", "15.2.17", .table_legacy = F, .table_hd_left = T,
     .lock_json_map = F, .status_json_obj = F, .showmapped_obj = F, .namespaces = T,
     .snapshot_word = T, .pool_quoted = T, .pretty_needs_format = T, .info_create_ts = T,
     .info_id = T, .info_snap_count = T, .ls_id = T, .json_line_break = T, .too_many_args = T,
     .blocklist = F, .blacklist = T, .blocklist_range = F, .blocklist_words = F,
     .iso_time = F, .concise_new = T, .ceph_err_new = T, .size_style = RBD_SIZE_BYTE_U_SP,
     .log_style = RBD_LOG_ISO},
    {RBD_REL_PACIFIC, "pacific", "16.2.15", .table_legacy = F, .table_hd_left = T,
     .lock_json_map = F, .status_json_obj = F, .showmapped_obj = F, .namespaces = T,
     .snapshot_word = T, .pool_quoted = T, .pretty_needs_format = T, .info_create_ts = T,
     .info_id = T, .info_snap_count = T, .ls_id = T, .json_line_break = T, .too_many_args = T,
     .blocklist = T, .blacklist = T, .blocklist_range = F, .blocklist_words = T,
     .iso_time = T, .concise_new = T, .ceph_err_new = T, .size_style = RBD_SIZE_BYTE_U_SP,
     .log_style = RBD_LOG_ISO},
    {RBD_REL_QUINCY, "quincy", "17.2.7", .table_legacy = F, .table_hd_left = T,
     .lock_json_map = F, .status_json_obj = F, .showmapped_obj = F, .namespaces = T,
     .snapshot_word = T, .pool_quoted = T, .pretty_needs_format = T, .info_create_ts = T,
     .info_id = T, .info_snap_count = T, .ls_id = T, .json_line_break = T, .too_many_args = T,
     .blocklist = T, .blacklist = T, .blocklist_range = F, .blocklist_words = T,
     .iso_time = T, .concise_new = T, .ceph_err_new = T, .size_style = RBD_SIZE_BYTE_U_SP,
     .log_style = RBD_LOG_ISO},
    {RBD_REL_REEF, "reef", "18.2.4", .table_legacy = F, .table_hd_left = T,
     .lock_json_map = F, .status_json_obj = F, .showmapped_obj = F, .namespaces = T,
     .snapshot_word = T, .pool_quoted = T, .pretty_needs_format = T, .info_create_ts = T,
     .info_id = T, .info_snap_count = T, .ls_id = T, .json_line_break = T, .too_many_args = T,
     .blocklist = T, .blacklist = T, .blocklist_range = T, .blocklist_words = T,
     .iso_time = T, .concise_new = T, .ceph_err_new = T, .size_style = RBD_SIZE_BYTE_U_SP,
     .log_style = RBD_LOG_ISO},
};
#undef T
#undef F

const rbd_release *rbd_release_find(const char *name)
{
    if (!name)
        return NULL;
    for (int i = 0; i < RBD_REL_COUNT; i++)
        if (strcmp(releases[i].name, name) == 0)
            return &releases[i];
    return NULL;
}

const rbd_release *rbd_release_get(rbd_release_id id)
{
    if ((int)id < 0 || id >= RBD_REL_COUNT)
        id = RBD_REL_DEFAULT;
    return &releases[id];
}

const char *rbd_release_names(void)
{
    return "jewel, luminous, mimic, nautilus, octopus, pacific, quincy, reef";
}
