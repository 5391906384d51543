/*
 * rbd_argv.c - the rbd command line in the three passes of the real tool
 * (global_init, Shell::get_command_spec, boost::program_options), see the
 * header. Everything the passes print goes to the caller's buffers; nothing
 * here connects anywhere.
 */
#include "rbd_argv.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbd_fmt.h"
#include "rbd_store.h"

/* ---- option tables ------------------------------------------------------------ */

typedef enum opt_key {
    O_POOL = 1,
    O_NAMESPACE,
    O_IMAGE,
    O_SNAP,
    O_FORMAT,
    O_PRETTY,
    O_SHARED,
    O_LONG,
    O_SIZE,
    O_IMAGE_FORMAT,
    O_NEW_FORMAT,
    O_ORDER,
    O_OBJECT_SIZE,
    O_FEATURE,
    O_IMAGE_SHARED,
    O_STRIPE_UNIT,
    O_STRIPE_COUNT,
    O_DATA_POOL,
    O_THICK,
    O_NO_PROGRESS,
    O_OPTIONS,
    O_READ_ONLY,
    O_EXCLUSIVE,
    O_DEVICE_TYPE,
    O_IMAGE_ID,
} opt_key;

typedef struct opt_def {
    const char *lng;
    char shrt;
    bool value;
    opt_key key;
    bool multi;
    rbd_release_id since;
} opt_def;

#define SPEC_OPTS                                                                                  \
    {"pool", 'p', true, O_POOL, false, RBD_REL_JEWEL},                                             \
        {"namespace", 0, true, O_NAMESPACE, false, RBD_REL_NAUTILUS},                              \
    {                                                                                              \
        "image", 0, true, O_IMAGE, false, RBD_REL_JEWEL                                            \
    }
#define FORMAT_OPTS                                                                                \
    {"format", 0, true, O_FORMAT, false, RBD_REL_JEWEL},                                           \
    {                                                                                              \
        "pretty-format", 0, false, O_PRETTY, false, RBD_REL_JEWEL                                  \
    }

static const opt_def opts_lock_list[] = {SPEC_OPTS, FORMAT_OPTS, {NULL, 0, 0, 0, 0, 0}};
static const opt_def opts_lock_add[] = {
    SPEC_OPTS, {"shared", 0, true, O_SHARED, false, RBD_REL_JEWEL}, {NULL, 0, 0, 0, 0, 0}};
static const opt_def opts_lock_rm[] = {SPEC_OPTS, {NULL, 0, 0, 0, 0, 0}};
static const opt_def opts_status[] = {SPEC_OPTS, FORMAT_OPTS, {NULL, 0, 0, 0, 0, 0}};
static const opt_def opts_info[] = {SPEC_OPTS,
                                    {"snap", 0, true, O_SNAP, false, RBD_REL_JEWEL},
                                    {"image-id", 0, true, O_IMAGE_ID, false, RBD_REL_LUMINOUS},
                                    FORMAT_OPTS,
                                    {NULL, 0, 0, 0, 0, 0}};
static const opt_def opts_list[] = {{"long", 'l', false, O_LONG, false, RBD_REL_JEWEL},
                                    {"pool", 'p', true, O_POOL, false, RBD_REL_JEWEL},
                                    {"namespace", 0, true, O_NAMESPACE, false, RBD_REL_NAUTILUS},
                                    FORMAT_OPTS,
                                    {NULL, 0, 0, 0, 0, 0}};
static const opt_def opts_create[] = {
    SPEC_OPTS,
    {"image-format", 0, true, O_IMAGE_FORMAT, false, RBD_REL_JEWEL},
    {"new-format", 0, false, O_NEW_FORMAT, false, RBD_REL_JEWEL},
    {"order", 0, true, O_ORDER, false, RBD_REL_JEWEL},
    {"object-size", 0, true, O_OBJECT_SIZE, false, RBD_REL_JEWEL},
    {"image-feature", 0, true, O_FEATURE, true, RBD_REL_JEWEL},
    {"image-shared", 0, false, O_IMAGE_SHARED, false, RBD_REL_JEWEL},
    {"stripe-unit", 0, true, O_STRIPE_UNIT, false, RBD_REL_JEWEL},
    {"stripe-count", 0, true, O_STRIPE_COUNT, false, RBD_REL_JEWEL},
    {"data-pool", 0, true, O_DATA_POOL, false, RBD_REL_LUMINOUS},
    {"thick-provision", 0, false, O_THICK, false, RBD_REL_MIMIC},
    {"size", 's', true, O_SIZE, false, RBD_REL_JEWEL},
    {"no-progress", 0, false, O_NO_PROGRESS, false, RBD_REL_MIMIC},
    {NULL, 0, 0, 0, 0, 0}};
static const opt_def opts_remove[] = {
    SPEC_OPTS,
    {"no-progress", 0, false, O_NO_PROGRESS, false, RBD_REL_JEWEL},
    {NULL, 0, 0, 0, 0, 0}};
static const opt_def opts_map[] = {
    SPEC_OPTS,
    {"snap", 0, true, O_SNAP, false, RBD_REL_JEWEL},
    {"options", 'o', true, O_OPTIONS, false, RBD_REL_JEWEL},
    {"read-only", 0, false, O_READ_ONLY, false, RBD_REL_JEWEL},
    {"exclusive", 0, false, O_EXCLUSIVE, false, RBD_REL_JEWEL},
    {"device-type", 't', true, O_DEVICE_TYPE, false, RBD_REL_NAUTILUS},
    {NULL, 0, 0, 0, 0, 0}};
static const opt_def opts_unmap[] = {
    SPEC_OPTS,
    {"snap", 0, true, O_SNAP, false, RBD_REL_JEWEL},
    {"options", 'o', true, O_OPTIONS, false, RBD_REL_JEWEL},
    {"device-type", 't', true, O_DEVICE_TYPE, false, RBD_REL_NAUTILUS},
    {NULL, 0, 0, 0, 0, 0}};
static const opt_def opts_showmapped[] = {
    FORMAT_OPTS,
    {"device-type", 't', true, O_DEVICE_TYPE, false, RBD_REL_NAUTILUS},
    {NULL, 0, 0, 0, 0, 0}};

typedef struct action_def {
    rbd_action act;
    const char *spec[3];
    const char *alias[3];
    const opt_def *opts;
    int npos; /* positional arguments the action declares */
    const char *desc;
    rbd_release_id since;      /* spec available from */
    rbd_release_id spec_until; /* spec replaced by the alias from (RBD_REL_COUNT: never) */
} action_def;

/* Registration order of the real Shell (it matters only for help). */
static const action_def actions[] = {
    {RBD_ACT_CREATE,
     {"create"},
     {NULL},
     opts_create,
     1,
     "Create an empty image.",
     RBD_REL_JEWEL,
     RBD_REL_COUNT},
    {RBD_ACT_INFO,
     {"info"},
     {NULL},
     opts_info,
     1,
     "Show information about image size, striping, etc.",
     RBD_REL_JEWEL,
     RBD_REL_COUNT},
    {RBD_ACT_MAP,
     {"device", "map"},
     {"map"},
     opts_map,
     1,
     "Map an image to a block device.",
     RBD_REL_NAUTILUS,
     RBD_REL_COUNT},
    {RBD_ACT_MAP,
     {"map"},
     {NULL},
     opts_map,
     1,
     "Map image to a block device using the kernel.",
     RBD_REL_JEWEL,
     RBD_REL_NAUTILUS},
    {RBD_ACT_UNMAP,
     {"device", "unmap"},
     {"unmap"},
     opts_unmap,
     1,
     "Unmap a rbd device.",
     RBD_REL_NAUTILUS,
     RBD_REL_COUNT},
    {RBD_ACT_UNMAP,
     {"unmap"},
     {NULL},
     opts_unmap,
     1,
     "Unmap a rbd device that was used by the kernel.",
     RBD_REL_JEWEL,
     RBD_REL_NAUTILUS},
    {RBD_ACT_SHOWMAPPED,
     {"device", "list"},
     {"showmapped"},
     opts_showmapped,
     0,
     "List mapped rbd images.",
     RBD_REL_NAUTILUS,
     RBD_REL_COUNT},
    {RBD_ACT_SHOWMAPPED,
     {"showmapped"},
     {NULL},
     opts_showmapped,
     0,
     "Show the rbd images mapped by the kernel.",
     RBD_REL_JEWEL,
     RBD_REL_NAUTILUS},
    {RBD_ACT_LIST,
     {"list"},
     {"ls"},
     opts_list,
     1,
     "List rbd images.",
     RBD_REL_JEWEL,
     RBD_REL_COUNT},
    {RBD_ACT_LOCK_ADD,
     {"lock", "add"},
     {NULL},
     opts_lock_add,
     2,
     "Take a lock on an image.",
     RBD_REL_JEWEL,
     RBD_REL_COUNT},
    {RBD_ACT_LOCK_LIST,
     {"lock", "list"},
     {"lock", "ls"},
     opts_lock_list,
     1,
     "Show locks held on an image.",
     RBD_REL_JEWEL,
     RBD_REL_COUNT},
    {RBD_ACT_LOCK_REMOVE,
     {"lock", "remove"},
     {"lock", "rm"},
     opts_lock_rm,
     3,
     "Release a lock on an image.",
     RBD_REL_JEWEL,
     RBD_REL_COUNT},
    {RBD_ACT_REMOVE,
     {"remove"},
     {"rm"},
     opts_remove,
     1,
     "Delete an image.",
     RBD_REL_JEWEL,
     RBD_REL_COUNT},
    {RBD_ACT_STATUS,
     {"status"},
     {NULL},
     opts_status,
     1,
     "Show the status of this image.",
     RBD_REL_JEWEL,
     RBD_REL_COUNT},
};
#define NACTIONS (sizeof(actions) / sizeof(actions[0]))

/* Long options every action treats as switches when spotting command words
 * (at::SWITCH_ARGUMENTS and the actions' switches). */
static const char *const long_switches[] = {
    "pretty-format", "no-progress", "read-only",       "exclusive", "image-shared",
    "new-format",    "long",        "thick-provision", "force",     "whole-object",
    "verbose",       "help",        "no-error",        NULL};
static const char short_switches[] = "l";

/* ---- helpers ----------------------------------------------------------------------- */

static int sdup(char **dst, const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        return -ENOMEM;
    free(*dst);
    *dst = d;
    return 0;
}

static int eprint(buf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int eprint(buf *err, const char *fmt, ...)
{
    char tmp[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    return buf_puts(err, tmp);
}

void rbd_conn_opts_cleanup(rbd_conn_opts *c)
{
    free(c->mon_host);
    free(c->id);
    free(c->name);
    free(c->conf);
    free(c->cluster);
    free(c->keyring);
    free(c->keyfile);
    free(c->key);
    free(c->default_pool);
    memset(c, 0, sizeof(*c));
    c->blocklist_on_break = -1;
    c->blocklist_expire_s = -1;
    c->mount_timeout_s = -1;
}

void rbd_cmd_cleanup(rbd_cmd *cmd)
{
    rbd_conn_opts_cleanup(&cmd->conn);
    free(cmd->pool);
    free(cmd->ns);
    free(cmd->image);
    free(cmd->snap);
    free(cmd->lock_id);
    free(cmd->locker);
    free(cmd->shared_tag);
    free(cmd->device);
    free(cmd->map_options);
    memset(cmd, 0, sizeof(*cmd));
}

char *rbd_conn_entity(const rbd_conn_opts *c, char *out, size_t outsz)
{
    if (c->name && *c->name)
        snprintf(out, outsz, "%s", c->name);
    else if (c->id && *c->id)
        snprintf(out, outsz, "client.%s", c->id);
    else
        snprintf(out, outsz, "client.admin");
    return out;
}

/* ---- pass 1: Ceph connection and config options -------------------------------------- */

static const char *const cfg_bools[] = {"rbd_cache",
                                        "rbd_blocklist_on_break_lock",
                                        "rbd_blacklist_on_break_lock",
                                        "log_to_stderr",
                                        "err_to_stderr",
                                        "log_to_syslog",
                                        "rbd_validate_names",
                                        "no_mon_config",
                                        "daemonize",
                                        "rbd_cache_writethrough_until_flush",
                                        "log_flush_on_exit",
                                        NULL};
static const char *const cfg_names[] = {"admin_socket",
                                        "log_file",
                                        "fsid",
                                        "public_addr",
                                        "public_network",
                                        "run_dir",
                                        "keyring",
                                        "key",
                                        "keyfile",
                                        "mon_host",
                                        "mon_dns_srv_name",
                                        "setuser",
                                        "setgroup",
                                        "chdir",
                                        "host",
                                        "pid_file",
                                        "restapi_log_level",
                                        "max_open_files",
                                        NULL};
static const char *const cfg_prefixes[] = {"debug_",      "rbd_",
                                           "ms_",         "mon_",
                                           "osd_",        "client_",
                                           "auth_",       "log_",
                                           "rados_",      "objecter_",
                                           "cephx_",      "crush_",
                                           "bluestore_",  "filestore_",
                                           "mds_",        "mgr_",
                                           "rgw_",        "heartbeat_",
                                           "err_",        "clog_",
                                           "fuse_",       "journal_",
                                           "throttler_",  "perf_",
                                           "mempool_",    "immutable_object_cache_",
                                           "rbd_mirror_", NULL};

static bool in_list(const char *const *l, const char *s)
{
    for (; *l; l++)
        if (strcmp(*l, s) == 0)
            return true;
    return false;
}

/* Is `name` (underscored) a config key of this release? */
static bool config_key(const rbd_release *rel, const char *name)
{
    if (strstr(name, "blacklist") && rel->blocklist)
        return false; /* renamed in Pacific */
    if (strstr(name, "blocklist") && !rel->blocklist)
        return false;
    if (in_list(cfg_bools, name) || in_list(cfg_names, name))
        return true;
    for (const char *const *p = cfg_prefixes; *p; p++)
        if (strncmp(name, *p, strlen(*p)) == 0 && strlen(name) > strlen(*p))
            return true;
    return false;
}

static int set_config(rbd_conn_opts *c, const char *tool, const char *name, const char *val,
                      buf *err)
{
    char *end = NULL;
    if (strcmp(name, "rbd_blocklist_on_break_lock") == 0 ||
        strcmp(name, "rbd_blacklist_on_break_lock") == 0) {
        if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0)
            c->blocklist_on_break = 1;
        else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0)
            c->blocklist_on_break = 0;
        else
            return eprint(err,
                          "Parse error parsing binary flag  --%s=%s. Expected true or false.\n",
                          name, val);
    } else if (strcmp(name, "rbd_blocklist_expire_seconds") == 0 ||
               strcmp(name, "rbd_blacklist_expire_seconds") == 0) {
        long long v = strtoll(val, &end, 10);
        if (!*val || *end || v < 0)
            return eprint(err, "parse error setting '%s' to '%s'\n", name, val);
        c->blocklist_expire_s = v;
    } else if (strcmp(name, "client_mount_timeout") == 0) {
        double v = strtod(val, &end);
        if (!*val || *end || v < 0)
            return eprint(err, "parse error setting '%s' to '%s'\n", name, val);
        c->mount_timeout_s = (int64_t)(v + 0.999);
    } else if (strcmp(name, "rbd_default_pool") == 0) {
        return sdup(&c->default_pool, val);
    } else if (strcmp(name, "key") == 0) {
        return sdup(&c->key, val);
    } else if (strcmp(name, "keyring") == 0) {
        return sdup(&c->keyring, val);
    } else if (strcmp(name, "keyfile") == 0) {
        return sdup(&c->keyfile, val);
    } else if (strcmp(name, "mon_host") == 0) {
        return sdup(&c->mon_host, val);
    } else if (strcmp(name, "log_to_stderr") == 0) {
        c->log_to_stderr_off = strcmp(val, "false") == 0 || strcmp(val, "0") == 0;
    }
    (void)tool;
    return 0;
}

int rbd_conn_take(rbd_conn_opts *c, const rbd_release *rel, const char *tool, const char *arg,
                  const char *next, buf *err)
{
    static const struct {
        const char *lng, *lng2, *shrt;
        int field;
    } globals[] = {
        {"--mon_host", "--mon-host", "-m", 0},
        {"--id", "--user", "-i", 1},
        {"--name", NULL, "-n", 2},
        {"--conf", NULL, "-c", 3},
        {"--cluster", NULL, NULL, 4},
        {"--keyring", NULL, "-k", 5},
        {"--keyfile", NULL, "-K", 6},
        {"--key", NULL, NULL, 7},
        {"--secret", NULL, NULL, 8},
    };
    if (!arg || arg[0] != '-' || !arg[1])
        return 0;
    for (size_t g = 0; g < sizeof(globals) / sizeof(globals[0]); g++) {
        const char *val = NULL;
        int used = 0;
        const char *forms[] = {globals[g].lng, globals[g].lng2, globals[g].shrt};
        for (int k = 0; k < 3 && !used; k++) {
            const char *f = forms[k];
            if (!f)
                continue;
            size_t fl = strlen(f);
            if (strcmp(arg, f) == 0 && next) {
                val = next;
                used = 2;
            } else if (strncmp(arg, f, fl) == 0 && arg[fl] == '=') {
                val = arg + fl + 1;
                used = 1;
            } else if (k == 2 && strncmp(arg, f, fl) == 0 && arg[fl] && fl == 2) {
                val = arg + fl; /* -mHOST, as ceph_argparse accepts */
                used = 1;
            }
        }
        if (!used)
            continue;
        char **dst[] = {&c->mon_host, &c->id,      &c->name, &c->conf,   &c->cluster,
                        &c->keyring,  &c->keyfile, &c->key,  &c->keyfile};
        if (globals[g].field == 8 && strcmp(tool, "rbd") == 0 &&
            eprint(err, "rbd: --secret is deprecated, use --keyfile\n") < 0)
            return -ENOMEM;
        return sdup(dst[globals[g].field], val) < 0 ? -ENOMEM : used;
    }
    if (arg[1] != '-' || !arg[2])
        return 0;
    char name[128];
    const char *eq = strchr(arg + 2, '=');
    size_t nl = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
    if (nl == 0 || nl >= sizeof(name))
        return 0;
    for (size_t i = 0; i < nl; i++)
        name[i] = arg[2 + i] == '-' ? '_' : arg[2 + i];
    name[nl] = '\0';
    if (!config_key(rel, name))
        return 0;
    if (in_list(cfg_bools, name)) {
        /* ceph_argparse_binary_flag: "--opt" or "--opt=value", never the next word */
        int r = set_config(c, tool, name, eq ? eq + 1 : "true", err);
        return r < 0 ? r : 1;
    }
    if (eq) {
        int r = set_config(c, tool, name, eq + 1, err);
        return r < 0 ? r : 1;
    }
    if (!next)
        return 0; /* left for the option parser, which will not know it */
    int r = set_config(c, tool, name, next, err);
    return r < 0 ? r : 2;
}

/* ---- sizes ------------------------------------------------------------------------- */

int rbd_parse_size(const char *s, bool bytes_default, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE)
        return -EINVAL;
    int shift = -1;
    if (*end == '\0') {
        shift = bytes_default ? 0 : 20;
    } else {
        static const char units[] = "BKMGTPE";
        const char *u = strchr(units, *end);
        if (!u || !*u)
            return -EINVAL;
        shift = (int)(u - units) * 10;
        end++;
        if (*end == 'i' && end[1] == 'B' && shift)
            end += 2;
        else if (*end == 'B' && shift)
            end++;
        if (*end)
            return -EINVAL;
    }
    if (shift && v > (UINT64_MAX >> shift))
        return -EINVAL;
    *out = (uint64_t)v << shift;
    return 0;
}

/* ---- spec extraction -------------------------------------------------------------- */

typedef struct spec_parts {
    char pool[RBD_ARG_MAX], ns[RBD_ARG_MAX], image[RBD_ARG_MAX], snap[RBD_ARG_MAX];
    bool has_pool, has_ns, has_snap;
} spec_parts;

static bool img_snap(const char *t, size_t len, spec_parts *p, bool full)
{
    const char *at = memchr(t, '@', len);
    size_t il = at ? (size_t)(at - t) : len;
    if (il == 0 || il >= RBD_ARG_MAX)
        return false;
    if (full && memchr(t, '/', il))
        return false;
    memcpy(p->image, t, il);
    p->image[il] = '\0';
    p->has_snap = false;
    if (at) {
        size_t sl = len - il - 1;
        if (sl == 0 || sl >= RBD_ARG_MAX)
            return false;
        if (full && (memchr(at + 1, '@', sl) || memchr(at + 1, '/', sl)))
            return false;
        memcpy(p->snap, at + 1, sl);
        p->snap[sl] = '\0';
        p->has_snap = true;
    }
    return true;
}

/* Jewel..Mimic: ^(?:([^/@]+)/)?([^/@]+)(?:@([^/@]+))?$ */
static bool spec_legacy(const char *s, spec_parts *p)
{
    memset(p, 0, sizeof(*p));
    const char *rest = s;
    const char *slash = strchr(s, '/');
    if (slash) {
        size_t pl = (size_t)(slash - s);
        if (pl == 0 || pl >= RBD_ARG_MAX || memchr(s, '@', pl))
            return false;
        memcpy(p->pool, s, pl);
        p->has_pool = true;
        rest = slash + 1;
    }
    return img_snap(rest, strlen(rest), p, true);
}

/* Nautilus on, relaxed (SPEC_VALIDATION_NONE):
 *   ^(?:([^/]+)/(?:([^/@]+)/)?)?([^@]+)(?:@(.+))?$
 * or with full validation no '/' or '@' inside any part. The alternatives are
 * tried in the regex engine's order. */
static bool spec_nautilus(const char *s, spec_parts *p, bool full)
{
    memset(p, 0, sizeof(*p));
    const char *slash = strchr(s, '/');
    if (slash && slash > s && (size_t)(slash - s) < RBD_ARG_MAX &&
        !(full && memchr(s, '@', (size_t)(slash - s)))) {
        const char *rest = slash + 1;
        const char *s2 = strchr(rest, '/');
        if (s2 && s2 > rest && !memchr(rest, '@', (size_t)(s2 - rest)) &&
            (size_t)(s2 - rest) < RBD_ARG_MAX) {
            spec_parts q = *p;
            if (img_snap(s2 + 1, strlen(s2 + 1), &q, full)) {
                *p = q;
                memcpy(p->pool, s, (size_t)(slash - s));
                p->pool[slash - s] = '\0';
                memcpy(p->ns, rest, (size_t)(s2 - rest));
                p->ns[s2 - rest] = '\0';
                p->has_pool = p->has_ns = true;
                return true;
            }
        }
        spec_parts q;
        memset(&q, 0, sizeof(q));
        if (img_snap(rest, strlen(rest), &q, full)) {
            *p = q;
            memcpy(p->pool, s, (size_t)(slash - s));
            p->pool[slash - s] = '\0';
            p->has_pool = true;
            return true;
        }
    }
    memset(p, 0, sizeof(*p));
    return img_snap(s, strlen(s), p, full);
}

/* ---- pass 2 and 3 ---------------------------------------------------------------------- */

typedef struct parse_ctx {
    const rbd_release *rel;
    buf *out, *err;
    rbd_cmd *cmd;
    char *words[RBD_ARGV_MAX]; /* after pass 1 (borrowed from argv) */
    size_t nwords;
} parse_ctx;

static bool is_long_switch(const char *name)
{
    for (const char *const *p = long_switches; *p; p++) {
        size_t l = strlen(*p);
        if (strncmp(name, *p, l) == 0 && (name[l] == '\0'))
            return true;
    }
    return false;
}

/* Shell::get_command_spec. */
static size_t command_words(parse_ctx *c, const char **spec, size_t max, bool *help)
{
    size_t n = 0;
    *help = false;
    for (size_t i = 0; i < c->nwords; i++) {
        const char *a = c->words[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            *help = true;
            return 0;
        }
        if (strcmp(a, "--") == 0) {
            for (size_t k = i + 1; k < c->nwords && n < max; k++)
                spec[n++] = c->words[k];
            return n;
        }
        if (a[0] == '-' && a[1]) {
            bool sw;
            if (a[1] == '-')
                sw = is_long_switch(a + 2);
            else
                sw = strchr(short_switches, a[1]) != NULL;
            if (!sw && !strchr(a, '='))
                i++;
        } else if (n < max) {
            spec[n++] = a;
        }
    }
    return n;
}

static size_t spec_len(const char *const *sp)
{
    size_t n = 0;
    while (n < 3 && sp[n])
        n++;
    return n;
}

static bool spec_match(const char *const *sp, const char **words, size_t nwords)
{
    size_t n = spec_len(sp);
    if (!n || n > nwords)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(sp[i], words[i]) != 0)
            return false;
    return true;
}

static const action_def *find_action(const rbd_release *rel, const char **words, size_t n,
                                     size_t *matched)
{
    for (size_t i = 0; i < NACTIONS; i++) {
        const action_def *a = &actions[i];
        if (rel->id < a->since)
            continue;
        bool spec_ok = rel->id < a->spec_until;
        if (spec_ok && spec_match(a->spec, words, n)) {
            *matched = spec_len(a->spec);
            return a;
        }
        if (a->alias[0] && spec_match(a->alias, words, n)) {
            *matched = spec_len(a->alias);
            return a;
        }
    }
    return NULL;
}

static void action_name(const action_def *a, char *out, size_t outsz)
{
    size_t n = spec_len(a->spec);
    snprintf(out, outsz, "%s%s%s%s%s", a->spec[0], n > 1 ? " " : "", n > 1 ? a->spec[1] : "",
             n > 2 ? " " : "", n > 2 ? a->spec[2] : "");
}

void rbd_help_render(const rbd_release *rel, buf *out)
{
    int r = buf_puts(out, "usage: rbd <command> ...\n\n"
                          "Command-line interface for managing Ceph RBD images.\n\n"
                          "Positional arguments:\n  <command>\n");
    const action_def *sorted[NACTIONS];
    size_t n = 0;
    for (size_t i = 0; i < NACTIONS; i++)
        if (rel->id >= actions[i].since && rel->id < actions[i].spec_until)
            sorted[n++] = &actions[i];
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0; k--) {
            char a[64], b[64];
            action_name(sorted[k - 1], a, sizeof(a));
            action_name(sorted[k], b, sizeof(b));
            if (strcmp(a, b) <= 0)
                break;
            const action_def *t = sorted[k];
            sorted[k] = sorted[k - 1];
            sorted[k - 1] = t;
        }
    for (size_t i = 0; !r && i < n; i++) {
        char name[96], full[160];
        action_name(sorted[i], name, sizeof(name));
        if (sorted[i]->alias[0]) {
            size_t al = spec_len(sorted[i]->alias);
            snprintf(full, sizeof(full), "%s (%s%s%s)", name, sorted[i]->alias[0],
                     al > 1 ? " " : "", al > 1 ? sorted[i]->alias[1] : "");
        } else {
            snprintf(full, sizeof(full), "%s", name);
        }
        char line[320];
        snprintf(line, sizeof(line), "    %-30s %s\n", full, sorted[i]->desc);
        r = buf_puts(out, line);
    }
    if (!r)
        r = buf_puts(out, "\nOptional arguments:\n"
                          "  -c [ --conf ] arg     path to cluster configuration\n"
                          "  --cluster arg         cluster name\n"
                          "  --id arg              client id (without 'client.' prefix)\n"
                          "  -n [ --name ] arg     client name\n"
                          "  -m [ --mon_host ] arg monitor host\n"
                          "  -K [ --keyfile ] arg  path to secret key\n"
                          "  -k [ --keyring ] arg  path to keyring\n"
                          "\nSee 'rbd help <command>' for help on a specific command.\n");
    (void)r;
}

/* A boost::program_options error: "rbd: <what>" then a blank line before
 * Octopus (the old Shell printed two newlines), exit 1. */
static void po_error(parse_ctx *c, const char *what)
{
    rbd_outf(c->err, "rbd: %s\n%s", what, c->rel->too_many_args ? "" : "\n");
    c->cmd->exit_code = 1;
    c->cmd->done = true;
}

static void fail(parse_ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(parse_ctx *c, int code, const char *fmt, ...)
{
    char tmp[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    rbd_out(c->err, tmp);
    c->cmd->exit_code = code;
    c->cmd->done = true;
}

typedef struct po_values {
    const char *val[32]; /* by opt_key */
    int count[32];
    const char *features[RBD_MAX_FEATURE_ARGS];
    size_t nfeatures;
    const char *pos[RBD_ARGV_MAX];
    size_t npos;
} po_values;

static const opt_def *find_opt(const action_def *a, const rbd_release *rel, const char *lng,
                               size_t lnglen, char shrt)
{
    for (const opt_def *o = a->opts; o->lng; o++) {
        if (rel->id < o->since)
            continue;
        if (lng && strlen(o->lng) == lnglen && strncmp(o->lng, lng, lnglen) == 0)
            return o;
        if (!lng && shrt && o->shrt == shrt)
            return o;
    }
    return NULL;
}

static bool store_opt(parse_ctx *c, po_values *v, const opt_def *o, const char *val)
{
    char msg[RBD_ARG_MAX + 128];
    if (o->multi) {
        if (v->nfeatures >= RBD_MAX_FEATURE_ARGS) {
            snprintf(msg, sizeof(msg), "option '--%s' cannot be specified more than %d times",
                     o->lng, RBD_MAX_FEATURE_ARGS);
            po_error(c, msg);
            return false;
        }
        v->features[v->nfeatures++] = val;
        return true;
    }
    if (v->count[o->key]++ && o->value) {
        snprintf(msg, sizeof(msg), "option '--%s' cannot be specified more than once", o->lng);
        po_error(c, msg);
        return false;
    }
    v->val[o->key] = val ? val : "";
    return true;
}

/* boost::program_options over the words left by pass 1. */
static bool po_parse(parse_ctx *c, const action_def *a, size_t cmd_words, po_values *v)
{
    char msg[RBD_ARG_MAX + 128];
    size_t words_seen = 0;
    bool only_pos = false;
    for (size_t i = 0; i < c->nwords; i++) {
        const char *t = c->words[i];
        if (!only_pos && strcmp(t, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (!only_pos && t[0] == '-' && t[1] == '-' && t[2]) {
            const char *name = t + 2, *eq = strchr(name, '=');
            size_t nl = eq ? (size_t)(eq - name) : strlen(name);
            const opt_def *o = find_opt(a, c->rel, name, nl, 0);
            if (!o) {
                snprintf(msg, sizeof(msg), "unrecognised option '%s'", t);
                po_error(c, msg);
                return false;
            }
            const char *val = NULL;
            if (o->value) {
                if (eq) {
                    val = eq + 1;
                } else if (i + 1 < c->nwords) {
                    val = c->words[++i];
                } else {
                    snprintf(msg, sizeof(msg), "the required argument for option '--%s' is missing",
                             o->lng);
                    po_error(c, msg);
                    return false;
                }
            } else if (eq) {
                snprintf(msg, sizeof(msg), "option '--%s' does not take any arguments", o->lng);
                po_error(c, msg);
                return false;
            }
            if (!store_opt(c, v, o, val))
                return false;
            continue;
        }
        if (!only_pos && t[0] == '-' && t[1] && t[1] != '-') {
            for (size_t k = 1; t[k]; k++) {
                const opt_def *o = find_opt(a, c->rel, NULL, 0, t[k]);
                if (!o) {
                    snprintf(msg, sizeof(msg), "unrecognised option '%s'", t);
                    po_error(c, msg);
                    return false;
                }
                const char *val = NULL;
                if (o->value) {
                    if (t[k + 1]) {
                        val = t + k + 1;
                    } else if (i + 1 < c->nwords) {
                        val = c->words[++i];
                    } else {
                        snprintf(msg, sizeof(msg),
                                 "the required argument for option '--%s' is missing", o->lng);
                        po_error(c, msg);
                        return false;
                    }
                }
                if (!store_opt(c, v, o, val))
                    return false;
                if (o->value)
                    break;
            }
            continue;
        }
        if (words_seen < cmd_words) {
            words_seen++;
            continue;
        }
        if (c->rel->too_many_args && (int)v->npos >= a->npos) {
            fail(c, 1, "rbd: too many arguments\n");
            return false;
        }
        if (v->npos < RBD_ARGV_MAX)
            v->pos[v->npos++] = t;
    }
    return true;
}

static const char *pos_arg(const po_values *v, size_t i)
{
    return i < v->npos ? v->pos[i] : "";
}

static bool check_format(parse_ctx *c, const po_values *v)
{
    rbd_cmd *cmd = c->cmd;
    char msg[RBD_ARG_MAX + 128];
    const char *f = v->val[O_FORMAT];
    cmd->pretty = v->count[O_PRETTY] > 0;
    if (f) {
        if (strcmp(f, "plain") == 0) {
            cmd->format = RBD_OUT_PLAIN;
        } else if (strcmp(f, "json") == 0) {
            cmd->format = RBD_OUT_JSON;
        } else if (strcmp(f, "xml") == 0) {
            cmd->format = RBD_OUT_XML;
        } else {
            snprintf(msg, sizeof(msg), "the argument ('%s') for option '--format' is invalid", f);
            po_error(c, msg);
            return false;
        }
        cmd->format_given = true;
    }
    return true;
}

/* utils::get_formatter, run by the action after its spec checks. */
static bool check_pretty(parse_ctx *c)
{
    rbd_cmd *cmd = c->cmd;
    if (cmd->pretty && ((cmd->format_given && cmd->format == RBD_OUT_PLAIN) ||
                        (!cmd->format_given && c->rel->pretty_needs_format))) {
        fail(c, 22, "rbd: --pretty-format only works when --format is json or xml\n");
        return false;
    }
    return true;
}

/* utils::get_pool_image_snapshot_names. */
static bool image_spec(parse_ctx *c, const po_values *v, size_t *argi, bool snap_allowed,
                       bool full_validation)
{
    rbd_cmd *cmd = c->cmd;
    spec_parts p;
    if (v->val[O_POOL] && (sdup(&cmd->pool, v->val[O_POOL]) < 0))
        return false;
    if (v->val[O_POOL])
        cmd->pool_given = true;
    if (c->rel->namespaces && v->val[O_NAMESPACE] && sdup(&cmd->ns, v->val[O_NAMESPACE]) < 0)
        return false;
    if (v->val[O_SNAP] && sdup(&cmd->snap, v->val[O_SNAP]) < 0)
        return false;
    const char *img = v->val[O_IMAGE];
    const char *spec = NULL;
    bool from_option = img && *img;
    if (from_option)
        spec = img;
    else
        spec = pos_arg(v, (*argi)++);
    if (spec && *spec && strlen(spec) < RBD_ARG_MAX) {
        bool ok =
            c->rel->namespaces ? spec_nautilus(spec, &p, full_validation) : spec_legacy(spec, &p);
        if (!ok) {
            /* the old tool ignored a bad --image value and used it whole */
            if (from_option && !c->rel->namespaces) {
                memset(&p, 0, sizeof(p));
                snprintf(p.image, sizeof(p.image), "%s", spec);
            } else {
                fail(c, 22, "rbd: invalid spec '%s'\n", spec);
                return false;
            }
        }
        if (p.has_pool && sdup(&cmd->pool, p.pool) < 0)
            return false;
        if (p.has_pool)
            cmd->pool_given = true;
        if (p.has_ns && sdup(&cmd->ns, p.ns) < 0)
            return false;
        if (sdup(&cmd->image, p.image) < 0)
            return false;
        if (p.has_snap && sdup(&cmd->snap, p.snap) < 0)
            return false;
    } else if (spec && strlen(spec) >= RBD_ARG_MAX) {
        fail(c, 22, "rbd: invalid spec '%.64s...'\n", spec);
        return false;
    }
    if (!cmd->image || !*cmd->image) {
        fail(c, 22, "rbd: image name was not specified\n");
        return false;
    }
    if (cmd->ns && *cmd->ns && (strchr(cmd->ns, '/') || strchr(cmd->ns, '@'))) {
        fail(c, 22, "rbd: invalid namespace name '%s'\n", cmd->ns);
        return false;
    }
    if (!snap_allowed && cmd->snap && *cmd->snap) {
        fail(c, 22, "rbd: %s specified for a command that doesn't use it\n",
             c->rel->snapshot_word ? "snapshot name" : "snapname");
        return false;
    }
    return true;
}

/* `rbd ls [pool-spec]` (utils::get_pool_name / get_pool_and_namespace_names). */
static bool pool_spec(parse_ctx *c, const po_values *v, size_t *argi)
{
    rbd_cmd *cmd = c->cmd;
    if (c->rel->namespaces && v->val[O_NAMESPACE] && sdup(&cmd->ns, v->val[O_NAMESPACE]) < 0)
        return false;
    if (v->val[O_POOL]) {
        cmd->pool_given = true;
        return sdup(&cmd->pool, v->val[O_POOL]) == 0;
    }
    const char *p = pos_arg(v, (*argi)++);
    if (!*p)
        return true;
    cmd->pool_given = true;
    if (c->rel->namespaces) {
        const char *slash = strrchr(p, '/');
        if (slash) {
            if (sdup(&cmd->ns, slash + 1) < 0)
                return false;
            char tmp[RBD_ARG_MAX];
            snprintf(tmp, sizeof(tmp), "%.*s", (int)(slash - p), p);
            return sdup(&cmd->pool, tmp) == 0;
        }
    }
    return sdup(&cmd->pool, p) == 0;
}

static bool create_opts(parse_ctx *c, const po_values *v)
{
    rbd_cmd *cmd = c->cmd;
    char msg[RBD_ARG_MAX + 128];
    if (v->val[O_SIZE]) {
        if (rbd_parse_size(v->val[O_SIZE], false, &cmd->size) < 0) {
            snprintf(msg, sizeof(msg), "the argument ('%s') for option '--size' is invalid",
                     v->val[O_SIZE]);
            po_error(c, msg);
            return false;
        }
        cmd->size_given = true;
    }
    if (v->val[O_IMAGE_FORMAT]) {
        const char *f = v->val[O_IMAGE_FORMAT];
        if (strcmp(f, "1") != 0 && strcmp(f, "2") != 0) {
            snprintf(msg, sizeof(msg), "the argument ('%s') for option '--image-format' is invalid",
                     f);
            po_error(c, msg);
            return false;
        }
        cmd->image_format = f[0] - '0';
    }
    if (v->count[O_NEW_FORMAT])
        cmd->image_format = 2;
    if (v->val[O_ORDER]) {
        char *end = NULL;
        long o = strtol(v->val[O_ORDER], &end, 10);
        if (!*v->val[O_ORDER] || *end || o < 12 || o > 25) {
            snprintf(msg, sizeof(msg), "the argument ('%s') for option '--order' is invalid",
                     v->val[O_ORDER]);
            po_error(c, msg);
            return false;
        }
        cmd->order = (int)o;
    } else if (v->val[O_OBJECT_SIZE]) {
        uint64_t osz = 0;
        if (rbd_parse_size(v->val[O_OBJECT_SIZE], true, &osz) < 0 || osz < 4096 ||
            osz > (32u << 20) || (osz & (osz - 1))) {
            snprintf(msg, sizeof(msg), "the argument ('%s') for option '--object-size' is invalid",
                     v->val[O_OBJECT_SIZE]);
            po_error(c, msg);
            return false;
        }
        int o = 0;
        while ((UINT64_C(1) << o) < osz)
            o++;
        cmd->order = o;
    }
    for (size_t i = 0; i < v->nfeatures; i++) {
        char tmp[RBD_ARG_MAX];
        snprintf(tmp, sizeof(tmp), "%s", v->features[i]);
        for (char *save = NULL, *tok = strtok_r(tmp, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            uint32_t bit = rbd_feature_bit(tok);
            char *end = NULL;
            unsigned long num = strtoul(tok, &end, 10);
            if (!bit && isdigit((unsigned char)*tok) && !*end)
                bit = (uint32_t)num;
            if (!bit) {
                snprintf(msg, sizeof(msg),
                         "the argument ('%s') for option '--image-feature' is invalid",
                         v->features[i]);
                po_error(c, msg);
                return false;
            }
            cmd->features |= bit;
            cmd->features_given = true;
        }
    }
    if (v->count[O_IMAGE_SHARED]) {
        uint32_t single = RBD_FEATURE_EXCLUSIVE_LOCK | RBD_FEATURE_OBJECT_MAP |
                          RBD_FEATURE_FAST_DIFF | RBD_FEATURE_JOURNALING;
        if (!cmd->features_given) {
            cmd->features = RBD_FEATURES_DEFAULT;
            cmd->features_given = true;
        }
        cmd->features &= ~single;
    }
    cmd->no_progress = v->count[O_NO_PROGRESS] > 0;
    return true;
}

int rbd_cmd_parse(rbd_cmd *cmd, int argc, char **argv, const rbd_release *rel, buf *out, buf *err)
{
    memset(cmd, 0, sizeof(*cmd));
    rbd_conn_opts_cleanup(&cmd->conn);
    parse_ctx c = {.rel = rel, .out = out, .err = err, .cmd = cmd};
    po_values v;
    memset(&v, 0, sizeof(v));
    if (argc - 1 > RBD_ARGV_MAX) {
        fail(&c, 1, "rbd: too many arguments\n");
        return -E2BIG;
    }
    /* pass 1: global_init */
    for (int i = 1; i < argc; i++) {
        if (strlen(argv[i]) >= RBD_ARG_MAX) {
            fail(&c, 1, "rbd: argument %d is longer than %d bytes\n", i, RBD_ARG_MAX);
            return -E2BIG;
        }
        if (strcmp(argv[i], "--") == 0) {
            for (; i < argc; i++)
                c.words[c.nwords++] = argv[i];
            break;
        }
        int used =
            rbd_conn_take(&cmd->conn, rel, "rbd", argv[i], i + 1 < argc ? argv[i + 1] : NULL, err);
        if (used < 0)
            return -ENOMEM;
        if (used) {
            i += used - 1;
            continue;
        }
        c.words[c.nwords++] = argv[i];
    }
    /* pass 2: the command words */
    const char *words[RBD_ARGV_MAX];
    bool help = false;
    size_t nw = command_words(&c, words, RBD_ARGV_MAX, &help);
    if (help || nw == 0 || (nw == 1 && strcmp(words[0], "help") == 0)) {
        rbd_help_render(rel, out);
        cmd->action = RBD_ACT_HELP;
        cmd->done = true;
        return 0;
    }
    if (strcmp(words[0], "help") == 0) {
        size_t matched = 0;
        const action_def *a = find_action(rel, words + 1, nw - 1, &matched);
        if (!a || matched != nw - 1) {
            rbd_out(err, "error: unknown option '");
            for (size_t i = 1; i < nw; i++)
                rbd_outf(err, "%s%s", i > 1 ? " " : "", words[i]);
            rbd_out(err, "'\n\n");
            rbd_help_render(rel, out);
            cmd->exit_code = 1;
        } else {
            char name[64];
            action_name(a, name, sizeof(name));
            rbd_outf(out, "usage: rbd %s\n\n%s\n", name, a->desc);
            cmd->action = RBD_ACT_HELP;
        }
        cmd->done = true;
        return 0;
    }
    size_t matched = 0;
    const action_def *a = find_action(rel, words, nw, &matched);
    if (!a) {
        rbd_out(err, "error: unknown option '");
        for (size_t i = 0; i < nw; i++)
            rbd_outf(err, "%s%s", i ? " " : "", words[i]);
        rbd_out(err, "'\n\n");
        rbd_help_render(rel, out);
        cmd->exit_code = 1;
        cmd->done = true;
        return 0;
    }
    cmd->action = a->act;
    action_name(a, cmd->action_name, sizeof(cmd->action_name));
    /* pass 3: options and positionals */
    if (!po_parse(&c, a, matched, &v))
        return 0;
    if (!check_format(&c, &v))
        return 0;
    size_t argi = 0;
    int r = 0;
    switch (a->act) {
    case RBD_ACT_LOCK_LIST:
    case RBD_ACT_STATUS:
        if (image_spec(&c, &v, &argi, false, false) && check_pretty(&c)) {
        }
        break;
    case RBD_ACT_INFO:
        if (image_spec(&c, &v, &argi, true, false) && check_pretty(&c)) {
        }
        break;
    case RBD_ACT_LOCK_ADD:
    case RBD_ACT_LOCK_REMOVE:
        if (!image_spec(&c, &v, &argi, false, false))
            break;
        /* Lock.cc reads the id and the locker at the fixed positional
         * indices 1 and 2, even when --image gave the image. */
        if (!*pos_arg(&v, 1)) {
            fail(&c, 22, "rbd: lock id was not specified\n");
            break;
        }
        if (sdup(&cmd->lock_id, pos_arg(&v, 1)) < 0) {
            r = -ENOMEM;
            break;
        }
        if (a->act == RBD_ACT_LOCK_ADD) {
            if (v.val[O_SHARED] && sdup(&cmd->shared_tag, v.val[O_SHARED]) < 0)
                r = -ENOMEM;
            break;
        }
        if (!*pos_arg(&v, 2)) {
            fail(&c, 22, "rbd: locker was not specified\n");
            break;
        }
        if (sdup(&cmd->locker, pos_arg(&v, 2)) < 0)
            r = -ENOMEM;
        break;
    case RBD_ACT_LIST:
        cmd->long_listing = v.count[O_LONG] > 0;
        if (pool_spec(&c, &v, &argi))
            (void)check_pretty(&c);
        break;
    case RBD_ACT_CREATE:
        if (!image_spec(&c, &v, &argi, false, true))
            break;
        if (!create_opts(&c, &v))
            break;
        if (!cmd->size_given)
            fail(&c, 22, "rbd: must specify --size <M/G/T>\n");
        break;
    case RBD_ACT_REMOVE:
        if (image_spec(&c, &v, &argi, false, false))
            cmd->no_progress = v.count[O_NO_PROGRESS] > 0;
        break;
    case RBD_ACT_MAP:
        if (!image_spec(&c, &v, &argi, true, false))
            break;
        cmd->read_only = v.count[O_READ_ONLY] > 0;
        if (v.val[O_OPTIONS]) {
            if (sdup(&cmd->map_options, v.val[O_OPTIONS]) < 0)
                r = -ENOMEM;
            if (strstr(v.val[O_OPTIONS], "ro"))
                cmd->read_only = true;
        }
        break;
    case RBD_ACT_UNMAP: {
        const char *first = v.val[O_IMAGE] ? v.val[O_IMAGE] : pos_arg(&v, 0);
        if (strncmp(first, "/dev/", 5) == 0) {
            if (sdup(&cmd->device, first) < 0)
                r = -ENOMEM;
            break;
        }
        (void)image_spec(&c, &v, &argi, true, false);
        break;
    }
    case RBD_ACT_SHOWMAPPED:
        (void)check_pretty(&c);
        break;
    default:
        break;
    }
    if (r == 0 && !cmd->done) {
        if (!cmd->pool || !*cmd->pool) {
            if (sdup(&cmd->pool, cmd->conn.default_pool && *cmd->conn.default_pool
                                     ? cmd->conn.default_pool
                                     : "rbd") < 0)
                r = -ENOMEM;
        }
        if (!cmd->ns && sdup(&cmd->ns, "") < 0)
            r = -ENOMEM;
    }
    return r;
}
