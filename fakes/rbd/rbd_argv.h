/*
 * rbd_argv.h - the `rbd` command line, parsed the way src/tools/rbd does it.
 *
 * The real tool works in three passes, and so does this parser:
 *  1. Ceph's global_init takes out the connection options (-m, --id/-i,
 *     -n, -c, --cluster, -k, -K, --key, --secret) and every config option
 *     given as "--opt value" or "--opt=value" (rbd_blocklist_on_break_lock,
 *     client_mount_timeout, debug_*...), wherever they appear;
 *  2. Shell::get_command_spec collects the words that are not options (and
 *     not the values of options) and picks the action whose command words
 *     start the list ("lock ls", "status"...); none: "error: unknown option
 *     '<all words>'" and the help, exit 1;
 *  3. boost::program_options parses what is left against the action's
 *     options and positionals: "rbd: unrecognised option '--x'", "rbd: the
 *     required argument for option '--pool' is missing", "rbd: the argument
 *     ('yaml') for option '--format' is invalid" (exit 1); then the action
 *     itself checks its arguments before it connects: "rbd: invalid spec",
 *     "rbd: image name was not specified", "rbd: lock id was not specified"
 *     (exit 22).
 * Release differences (namespaces, message wording, extra positionals) come
 * from the rbd_release flags.
 */
#ifndef EFK_RBD_ARGV_H
#define EFK_RBD_ARGV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "rbd_release.h"

#define RBD_ARGV_MAX         256  /* arguments considered (more: an error) */
#define RBD_ARG_MAX          4096 /* bytes per argument */
#define RBD_MAX_FEATURE_ARGS 16

typedef enum rbd_action {
    RBD_ACT_NONE = 0,
    RBD_ACT_HELP,
    RBD_ACT_LOCK_LIST,
    RBD_ACT_LOCK_ADD,
    RBD_ACT_LOCK_REMOVE,
    RBD_ACT_STATUS,
    RBD_ACT_INFO,
    RBD_ACT_LIST,
    RBD_ACT_CREATE,
    RBD_ACT_REMOVE,
    RBD_ACT_MAP,
    RBD_ACT_UNMAP,
    RBD_ACT_SHOWMAPPED,
} rbd_action;

typedef enum rbd_out_format { RBD_OUT_PLAIN = 0, RBD_OUT_JSON, RBD_OUT_XML } rbd_out_format;

/* Connection settings shared by `rbd` and `ceph`. All strings owned. */
typedef struct rbd_conn_opts {
    char *mon_host; /* -m / --mon_host / --mon-host */
    char *id;       /* --id / -i / --user (without "client.") */
    char *name;     /* -n / --name ("client.x") */
    char *conf;     /* -c / --conf */
    char *cluster;
    char *keyring;              /* -k / --keyring */
    char *keyfile;              /* -K / --keyfile (and the deprecated --secret) */
    char *key;                  /* --key */
    int blocklist_on_break;     /* rbd_blocklist_on_break_lock: -1 unset, 0, 1 */
    int64_t blocklist_expire_s; /* rbd_blocklist_expire_seconds: -1 unset */
    char *default_pool;         /* rbd_default_pool */
    int64_t mount_timeout_s;    /* client_mount_timeout: -1 unset */
    bool log_to_stderr_off;     /* --log-to-stderr=false (no librados noise) */
} rbd_conn_opts;

typedef struct rbd_cmd {
    rbd_action action;
    char action_name[32]; /* "lock list" */
    rbd_conn_opts conn;
    /* the image / pool the command is about */
    char *pool, *ns, *image, *snap;
    bool pool_given; /* pool named explicitly (not the default) */
    /* per action */
    char *lock_id, *locker, *shared_tag;
    rbd_out_format format;
    bool format_given, pretty;
    bool long_listing;
    uint64_t size; /* bytes */
    bool size_given;
    int order;        /* 0: default */
    int image_format; /* 0: default */
    uint32_t features;
    bool features_given;
    bool no_progress;
    char *device; /* unmap: /dev/rbdN */
    char *map_options;
    bool read_only;
    /* the outcome of parsing */
    int exit_code; /* 0: ready to run */
    bool done;     /* nothing to run (help printed, or an error) */
} rbd_cmd;

/* Parse argv (argv[0] is the program) for a release. On return either
 * cmd->done is false and the command is ready to run, or cmd->done is true
 * and `out`/`err` hold what the tool prints and cmd->exit_code its status.
 * 0, or -ENOMEM / -E2BIG (too many or too long arguments: then a message is
 * in `err` and exit_code is 1). Free with rbd_cmd_cleanup. */
int rbd_cmd_parse(rbd_cmd *cmd, int argc, char **argv, const rbd_release *rel, buf *out, buf *err);
void rbd_cmd_cleanup(rbd_cmd *cmd);
void rbd_conn_opts_cleanup(rbd_conn_opts *c);

/* If `arg` (with `next`, the following argument or NULL) is a Ceph
 * connection or config option, take it into `c` and return how many
 * arguments it used (1 or 2); 0 when it is not one; -ENOMEM. `err` receives
 * warnings ("parse error setting ...", "--secret is deprecated"). */
int rbd_conn_take(rbd_conn_opts *c, const rbd_release *rel, const char *tool, const char *arg,
                  const char *next, buf *err);

/* The cephx entity the options name: --name, else "client." + --id, else
 * "client.admin". Returns out. */
char *rbd_conn_entity(const rbd_conn_opts *c, char *out, size_t outsz);

/* Parse a size as the rbd tool does ("1024" = MiB, "10G", "512M", "1T",
 * "4K", "1B"...). 0 or -EINVAL. */
int rbd_parse_size(const char *s, bool bytes_default, uint64_t *out)
    __attribute__((warn_unused_result));

/* Print the general help (stdout of `rbd help`). */
void rbd_help_render(const rbd_release *rel, buf *out);

#endif
