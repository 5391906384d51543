/*
 * rbd_render.h - what `rbd lock ls`, `rbd status`, `rbd info`, `rbd ls`,
 * `rbd showmapped` and `ceph osd blocklist ls` print, per release.
 *
 * Input is the store's JSON (the shapes of the HTTP API, docs/fakes/rbd.md),
 * output is appended to the caller's buffers byte for byte as the real tool
 * writes them. The per-command layouts and their sources:
 *   lock ls   src/tools/rbd/action/Lock.cc (map-keyed JSON up to Luminous)
 *   status    src/tools/rbd/action/Status.cc (object of watchers up to Luminous)
 *   info      src/tools/rbd/action/Info.cc and formatted-output.t per release
 *   ls [-l]   src/tools/rbd/action/List.cc (format 1 images listed first)
 *   showmapped src/krbd.cc dump_images (namespace column from Nautilus)
 *   blocklist src/mon/OSDMonitor.cc ("listed N entries" is the status line)
 */
#ifndef EFK_RBD_RENDER_H
#define EFK_RBD_RENDER_H

#include <jansson.h>

#include "core/buf.h"
#include "rbd_argv.h"
#include "rbd_release.h"

typedef struct rbd_render_opts {
    const rbd_release *rel;
    rbd_out_format format;
    bool pretty;
} rbd_render_opts;

/* `lock` is {"type","tag","lockers":[{"locker","cookie","address"}]}. */
void rbd_render_lock_list(const rbd_render_opts *o, const json_t *lock, buf *out);
/* `image` as the store gives it (its "watchers"). */
void rbd_render_status(const rbd_render_opts *o, const json_t *image, buf *out);
/* `snap`: the snapshot name the user gave, or NULL. */
void rbd_render_info(const rbd_render_opts *o, const json_t *image, const char *snap, buf *out);
/* `images` in list order; `long_listing` for -l. */
void rbd_render_list(const rbd_render_opts *o, const json_t *images, bool long_listing, buf *out);
/* `devices` as rbd_store_mappings gives them. */
void rbd_render_showmapped(const rbd_render_opts *o, const json_t *devices, buf *out);

/* `ceph osd blocklist ls`: `entries` as rbd_store_blocklist_list gives them;
 * `fmt` is the ceph --format value (NULL: plain, "json", "json-pretty",
 * "xml", "xml-pretty"). Data goes to out, the status line to err. */
void rbd_render_blocklist_ls(const rbd_release *rel, const char *fmt, const json_t *entries,
                             buf *out, buf *err);

#endif
