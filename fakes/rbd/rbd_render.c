#include "rbd_render.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rbd_addr.h"
#include "rbd_fmt.h"

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int64_t jint(const json_t *o, const char *k)
{
    return (int64_t)json_integer_value(json_object_get(o, k));
}

static bool formatted(const rbd_render_opts *o)
{
    return o->format == RBD_OUT_JSON || o->format == RBD_OUT_XML;
}

static void fmt_start(const rbd_render_opts *o, rbd_fmt *f)
{
    rbd_fmt_init(f, o->format == RBD_OUT_XML ? RBD_FMT_XML : RBD_FMT_JSON, o->pretty, RBD_OUT_CAP);
}

static void fmt_end(const rbd_render_opts *o, rbd_fmt *f, buf *out)
{
    if (rbd_fmt_flush(f, o->rel->json_line_break, out) != 0)
        rbd_out(out, ""); /* over the cap: what fitted was written */
    rbd_fmt_cleanup(f);
}

static void table_out(rbd_table *t, buf *out)
{
    if (rbd_table_render(t, out) != 0)
        rbd_out(out, "");
    rbd_table_cleanup(t);
}

/* ---- lock ls ------------------------------------------------------------------ */

void rbd_render_lock_list(const rbd_render_opts *o, const json_t *lock, buf *out)
{
    const json_t *lockers = json_object_get(lock, "lockers");
    size_t n = json_array_size(lockers);
    bool exclusive = strcmp(jstr(lock, "type"), "shared") != 0;
    if (formatted(o)) {
        rbd_fmt f;
        fmt_start(o, &f);
        if (o->rel->lock_json_map)
            rbd_fmt_open_object(&f, "locks");
        else
            rbd_fmt_open_array(&f, "locks");
        for (size_t i = 0; i < n; i++) {
            const json_t *l = json_array_get(lockers, i);
            if (o->rel->lock_json_map) {
                rbd_fmt_open_object(&f, jstr(l, "cookie"));
            } else {
                rbd_fmt_open_object(&f, "lock");
                rbd_fmt_string(&f, "id", jstr(l, "cookie"));
            }
            rbd_fmt_string(&f, "locker", jstr(l, "locker"));
            rbd_fmt_string(&f, "address", jstr(l, "address"));
            rbd_fmt_close(&f);
        }
        rbd_fmt_close(&f);
        fmt_end(o, &f, out);
        return;
    }
    if (!n)
        return;
    rbd_outf(out, "There %s%zu%s lock%s on this image.\n", n == 1 ? "is " : "are ", n,
             exclusive ? " exclusive" : " shared", n == 1 ? "" : "s");
    if (!exclusive)
        rbd_outf(out, "Lock tag: %s\n", jstr(lock, "tag"));
    rbd_table t;
    rbd_table_init(&t, o->rel->table_legacy);
    rbd_table_col(&t, "Locker", RBD_LEFT, RBD_LEFT);
    rbd_table_col(&t, "ID", RBD_LEFT, RBD_LEFT);
    rbd_table_col(&t, "Address", RBD_LEFT, RBD_LEFT);
    for (size_t i = 0; i < n; i++) {
        const json_t *l = json_array_get(lockers, i);
        rbd_table_cell(&t, jstr(l, "locker"));
        rbd_table_cell(&t, jstr(l, "cookie"));
        rbd_table_cell(&t, jstr(l, "address"));
    }
    table_out(&t, out);
}

/* ---- status --------------------------------------------------------------------- */

void rbd_render_status(const rbd_render_opts *o, const json_t *image, buf *out)
{
    const json_t *w = json_object_get(image, "watchers");
    size_t n = json_array_size(w);
    if (formatted(o)) {
        rbd_fmt f;
        fmt_start(o, &f);
        rbd_fmt_open_object(&f, "status");
        if (o->rel->status_json_obj)
            rbd_fmt_open_object(&f, "watchers");
        else
            rbd_fmt_open_array(&f, "watchers");
        for (size_t i = 0; i < n; i++) {
            const json_t *e = json_array_get(w, i);
            rbd_fmt_open_object(&f, "watcher");
            rbd_fmt_string(&f, "address", jstr(e, "address"));
            rbd_fmt_unsigned(&f, "client", (uint64_t)jint(e, "client"));
            rbd_fmt_unsigned(&f, "cookie", (uint64_t)jint(e, "cookie"));
            rbd_fmt_close(&f);
        }
        rbd_fmt_close(&f);
        rbd_fmt_close(&f);
        fmt_end(o, &f, out);
        return;
    }
    if (!n) {
        rbd_out(out, "Watchers: none\n");
        return;
    }
    rbd_out(out, "Watchers:\n");
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(w, i);
        rbd_outf(out, "\twatcher=%s client.%" PRIu64 " cookie=%" PRIu64 "\n", jstr(e, "address"),
                 (uint64_t)jint(e, "client"), (uint64_t)jint(e, "cookie"));
    }
}

/* ---- info ------------------------------------------------------------------------- */

static void features_line(const json_t *arr, const char *label, buf *out)
{
    rbd_outf(out, "\t%s: ", label);
    for (size_t i = 0; i < json_array_size(arr); i++)
        rbd_outf(out, "%s%s", i ? ", " : "", json_string_value(json_array_get(arr, i)));
    rbd_out(out, "\n");
}

static void features_fmt(rbd_fmt *f, const json_t *arr, const char *group, const char *item)
{
    rbd_fmt_open_array(f, group);
    for (size_t i = 0; i < json_array_size(arr); i++)
        rbd_fmt_string(f, item, json_string_value(json_array_get(arr, i)));
    rbd_fmt_close(f);
}

void rbd_render_info(const rbd_render_opts *o, const json_t *im, const char *snap, buf *out)
{
    const rbd_release *rel = o->rel;
    bool old_format = jint(im, "format") == 1;
    const char *name = jstr(im, "name");
    const char *id = jstr(im, "id");
    char created[64] = "", accessed[64] = "", modified[64] = "";
    if (!old_format && rel->info_create_ts) {
        rbd_ctime(jint(im, "create_timestamp"), created, sizeof(created));
        rbd_ctime(jint(im, "access_timestamp"), accessed, sizeof(accessed));
        rbd_ctime(jint(im, "modify_timestamp"), modified, sizeof(modified));
    }
    const json_t *features = json_object_get(im, "features");
    const json_t *op_features = json_object_get(im, "op_features");
    const json_t *flags = json_object_get(im, "flags");
    if (formatted(o)) {
        rbd_fmt f;
        fmt_start(o, &f);
        rbd_fmt_open_object(&f, "image");
        rbd_fmt_string(&f, "name", name);
        if (rel->info_id)
            rbd_fmt_string(&f, "id", id);
        rbd_fmt_unsigned(&f, "size", (uint64_t)jint(im, "size"));
        rbd_fmt_unsigned(&f, "objects", (uint64_t)jint(im, "objects"));
        rbd_fmt_int(&f, "order", jint(im, "order"));
        rbd_fmt_unsigned(&f, "object_size", (uint64_t)jint(im, "object_size"));
        if (rel->info_snap_count)
            rbd_fmt_unsigned(&f, "snapshot_count", (uint64_t)jint(im, "snapshot_count"));
        rbd_fmt_string(&f, "block_name_prefix", jstr(im, "block_name_prefix"));
        rbd_fmt_int(&f, "format", old_format ? 1 : 2);
        if (!old_format) {
            features_fmt(&f, features, "features", "feature");
            if (rel->info_id)
                features_fmt(&f, op_features, "op_features", "op_feature");
            features_fmt(&f, flags, "flags", "flag");
        }
        if (created[0]) {
            rbd_fmt_string(&f, "create_timestamp", created);
            if (rel->info_snap_count) {
                rbd_fmt_string(&f, "access_timestamp", accessed);
                rbd_fmt_string(&f, "modify_timestamp", modified);
            }
        }
        rbd_fmt_close(&f);
        fmt_end(o, &f, out);
        return;
    }
    char size[32], objsize[32];
    rbd_size_info(rel, (uint64_t)jint(im, "size"), size, sizeof(size));
    rbd_size_info(rel, (uint64_t)jint(im, "object_size"), objsize, sizeof(objsize));
    rbd_outf(out,
             "rbd image '%s':\n\tsize %s in %" PRId64 " objects\n\torder %" PRId64
             " (%s objects)\n",
             name, size, jint(im, "objects"), jint(im, "order"), objsize);
    if (rel->info_snap_count)
        rbd_outf(out, "\tsnapshot_count: %" PRId64 "\n", jint(im, "snapshot_count"));
    if (rel->info_id && !old_format && *id)
        rbd_outf(out, "\tid: %s\n", id);
    rbd_outf(out, "\tblock_name_prefix: %s\n\tformat: %s\n", jstr(im, "block_name_prefix"),
             old_format ? "1" : "2");
    if (!old_format) {
        features_line(features, "features", out);
        if (rel->info_id)
            features_line(op_features, "op_features", out);
        features_line(flags, "flags", out);
    }
    if (created[0]) {
        rbd_outf(out, "\tcreate_timestamp: %s\n", created);
        if (rel->info_snap_count)
            rbd_outf(out, "\taccess_timestamp: %s\n\tmodify_timestamp: %s\n", accessed, modified);
    }
    (void)snap; /* snapshots are not modelled: opening one fails first */
}

/* ---- ls ---------------------------------------------------------------------------- */

static const char *lock_word(const json_t *im, bool json)
{
    const json_t *lock = json_object_get(im, "lock");
    if (!json_array_size(json_object_get(lock, "lockers")))
        return NULL;
    bool shared = strcmp(jstr(lock, "type"), "shared") == 0;
    if (json)
        return shared ? "shared" : "exclusive";
    return shared ? "shr" : "excl";
}

void rbd_render_list(const rbd_render_opts *o, const json_t *images, bool long_listing, buf *out)
{
    size_t n = json_array_size(images);
    if (formatted(o)) {
        rbd_fmt f;
        fmt_start(o, &f);
        rbd_fmt_open_array(&f, "images");
        for (size_t i = 0; i < n; i++) {
            const json_t *im = json_array_get(images, i);
            if (!long_listing) {
                rbd_fmt_string(&f, "name", jstr(im, "name"));
                continue;
            }
            rbd_fmt_open_object(&f, "image");
            rbd_fmt_string(&f, "image", jstr(im, "name"));
            if (o->rel->ls_id)
                rbd_fmt_string(&f, "id", jstr(im, "id"));
            rbd_fmt_unsigned(&f, "size", (uint64_t)jint(im, "size"));
            rbd_fmt_int(&f, "format", jint(im, "format"));
            const char *lw = lock_word(im, true);
            if (lw)
                rbd_fmt_string(&f, "lock_type", lw);
            rbd_fmt_close(&f);
        }
        rbd_fmt_close(&f);
        fmt_end(o, &f, out);
        return;
    }
    if (!long_listing) {
        for (size_t i = 0; i < n; i++)
            rbd_outf(out, "%s\n", jstr(json_array_get(images, i), "name"));
        return;
    }
    if (!n)
        return;
    rbd_align hd = o->rel->table_hd_left ? RBD_LEFT : RBD_RIGHT;
    rbd_table t;
    rbd_table_init(&t, o->rel->table_legacy);
    rbd_table_col(&t, "NAME", RBD_LEFT, RBD_LEFT);
    rbd_table_col(&t, "SIZE", hd, RBD_RIGHT);
    rbd_table_col(&t, "PARENT", RBD_LEFT, RBD_LEFT);
    rbd_table_col(&t, "FMT", hd, RBD_RIGHT);
    rbd_table_col(&t, "PROT", RBD_LEFT, RBD_LEFT);
    rbd_table_col(&t, "LOCK", RBD_LEFT, RBD_LEFT);
    for (size_t i = 0; i < n; i++) {
        const json_t *im = json_array_get(images, i);
        char size[32], fmt[8];
        rbd_size_list(o->rel, (uint64_t)jint(im, "size"), size, sizeof(size));
        snprintf(fmt, sizeof(fmt), "%d", (int)jint(im, "format"));
        const char *lw = lock_word(im, false);
        rbd_table_cell(&t, jstr(im, "name"));
        rbd_table_cell(&t, size);
        rbd_table_cell(&t, "");
        rbd_table_cell(&t, fmt);
        rbd_table_cell(&t, "");
        rbd_table_cell(&t, lw ? lw : "");
    }
    table_out(&t, out);
}

/* ---- showmapped ------------------------------------------------------------------- */

void rbd_render_showmapped(const rbd_render_opts *o, const json_t *devices, buf *out)
{
    size_t n = json_array_size(devices);
    bool ns = o->rel->namespaces;
    if (formatted(o)) {
        rbd_fmt f;
        fmt_start(o, &f);
        char ids[64][16];
        if (o->rel->showmapped_obj)
            rbd_fmt_open_object(&f, "devices");
        else
            rbd_fmt_open_array(&f, "devices");
        for (size_t i = 0; i < n && i < 64; i++) {
            const json_t *d = json_array_get(devices, i);
            snprintf(ids[i], sizeof(ids[i]), "%" PRId64, jint(d, "id"));
            if (o->rel->showmapped_obj) {
                rbd_fmt_open_object(&f, ids[i]);
            } else {
                rbd_fmt_open_object(&f, "device");
                rbd_fmt_string(&f, "id", ids[i]);
            }
            rbd_fmt_string(&f, "pool", jstr(d, "pool"));
            if (ns)
                rbd_fmt_string(&f, "namespace", jstr(d, "namespace"));
            rbd_fmt_string(&f, "name", jstr(d, "image"));
            rbd_fmt_string(&f, "snap", jstr(d, "snap"));
            rbd_fmt_string(&f, "device", jstr(d, "device"));
            rbd_fmt_close(&f);
        }
        rbd_fmt_close(&f);
        fmt_end(o, &f, out);
        return;
    }
    if (!n)
        return;
    rbd_table t;
    rbd_table_init(&t, o->rel->table_legacy);
    rbd_table_col(&t, "id", RBD_LEFT, RBD_LEFT);
    rbd_table_col(&t, "pool", RBD_LEFT, RBD_LEFT);
    if (ns)
        rbd_table_col(&t, "namespace", RBD_LEFT, RBD_LEFT);
    rbd_table_col(&t, "image", RBD_LEFT, RBD_LEFT);
    rbd_table_col(&t, "snap", RBD_LEFT, RBD_LEFT);
    rbd_table_col(&t, "device", RBD_LEFT, RBD_LEFT);
    for (size_t i = 0; i < n; i++) {
        const json_t *d = json_array_get(devices, i);
        char id[16];
        snprintf(id, sizeof(id), "%" PRId64, jint(d, "id"));
        rbd_table_cell(&t, id);
        rbd_table_cell(&t, jstr(d, "pool"));
        if (ns)
            rbd_table_cell(&t, jstr(d, "namespace"));
        rbd_table_cell(&t, jstr(d, "image"));
        rbd_table_cell(&t, jstr(d, "snap"));
        rbd_table_cell(&t, jstr(d, "device"));
    }
    table_out(&t, out);
}

/* ---- ceph osd blocklist ls ------------------------------------------------------------ */

static void bl_section(rbd_fmt *f, const rbd_release *rel, const json_t *entries, bool ranges,
                       buf *out)
{
    const char *name = ranges                 ? "range_blocklist"
                       : rel->blocklist_words ? "blocklist"
                                              : "blacklist";
    rbd_fmt_open_array(f, name);
    for (size_t i = 0; i < json_array_size(entries); i++) {
        const json_t *e = json_array_get(entries, i);
        const char *key = ranges ? "range" : "addr";
        if (!json_object_get(e, key))
            continue;
        char until[64];
        rbd_utime(rel, jint(e, "until"), until, sizeof(until));
        rbd_fmt_open_object(f, "entry");
        rbd_fmt_string(f, key, jstr(e, key));
        rbd_fmt_string(f, "until", until);
        rbd_fmt_close(f);
    }
    rbd_fmt_close(f);
    if (rbd_fmt_flush(f, false, out) != 0)
        rbd_out(out, "");
}

void rbd_render_blocklist_ls(const rbd_release *rel, const char *fmt, const json_t *entries,
                             buf *out, buf *err)
{
    size_t n = json_array_size(entries);
    if (fmt && strcmp(fmt, "plain") != 0) {
        bool xml = strncmp(fmt, "xml", 3) == 0;
        bool pretty = strstr(fmt, "-pretty") != NULL;
        rbd_fmt f;
        rbd_fmt_init(&f, xml ? RBD_FMT_XML : RBD_FMT_JSON, pretty, RBD_OUT_CAP);
        bl_section(&f, rel, entries, false, out);
        if (rel->blocklist_range)
            bl_section(&f, rel, entries, true, out);
        rbd_fmt_cleanup(&f);
    } else {
        /* the monitor prints the address map, then the range map */
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < n; i++) {
                const json_t *e = json_array_get(entries, i);
                bool range = json_object_get(e, "range") != NULL;
                if (range != (pass == 1))
                    continue;
                char until[64];
                rbd_utime(rel, jint(e, "until"), until, sizeof(until));
                rbd_outf(out, "%s%s %s\n", range ? "cidr:" : "", jstr(e, range ? "range" : "addr"),
                         until);
            }
    }
    rbd_outf(err, "listed %zu entries\n", n);
}
