/* The rbd command line: global/config options, command words, boost-style
 * option errors, image specs per release, and the actions' own checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rbd/rbd_argv.h"

typedef struct parsed {
    rbd_cmd cmd;
    buf out, err;
    int rc;
} parsed;

static void parse(parsed *p, const char *release, ...)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = "rbd";
    va_list ap;
    va_start(ap, release);
    for (char *a; (a = va_arg(ap, char *));)
        argv[argc++] = a;
    va_end(ap);
    buf_init(&p->out, 0);
    buf_init(&p->err, 0);
    p->rc = rbd_cmd_parse(&p->cmd, argc, argv, rbd_release_find(release), &p->out, &p->err);
}

static void done(parsed *p)
{
    rbd_cmd_cleanup(&p->cmd);
    buf_cleanup(&p->out);
    buf_cleanup(&p->err);
}

static const char *err(const parsed *p)
{
    return p->err.data ? p->err.data : "";
}

static void test_kubernetes_lock_add(void **state)
{
    (void)state;
    parsed p;
    parse(&p, "jewel", "lock", "add", "index-api-image", "kubelet_lock_magic_node1", "--pool",
          "mioss", "--id", "admin", "-m", "10.0.0.1:6789", "--key=AQBxyz==", NULL);
    assert_int_equal(p.rc, 0);
    assert_false(p.cmd.done);
    assert_int_equal(p.cmd.action, RBD_ACT_LOCK_ADD);
    assert_string_equal(p.cmd.pool, "mioss");
    assert_string_equal(p.cmd.image, "index-api-image");
    assert_string_equal(p.cmd.lock_id, "kubelet_lock_magic_node1");
    assert_null(p.cmd.shared_tag);
    assert_string_equal(p.cmd.conn.id, "admin");
    assert_string_equal(p.cmd.conn.mon_host, "10.0.0.1:6789");
    assert_string_equal(p.cmd.conn.key, "AQBxyz==");
    char ent[64];
    assert_string_equal(rbd_conn_entity(&p.cmd.conn, ent, sizeof(ent)), "client.admin");
    done(&p);
}

static void test_lock_remove_order_and_config(void **state)
{
    (void)state;
    parsed p;
    parse(&p, "reef", "lock", "rm", "--rbd_blocklist_on_break_lock=false", "mioss/img",
          "kubelet_lock_magic_node1", "client.24128", "--rbd-blocklist-expire-seconds", "60", "-n",
          "client.reaper", NULL);
    assert_int_equal(p.cmd.action, RBD_ACT_LOCK_REMOVE);
    assert_string_equal(p.cmd.lock_id, "kubelet_lock_magic_node1"); /* id, then locker */
    assert_string_equal(p.cmd.locker, "client.24128");
    assert_int_equal(p.cmd.conn.blocklist_on_break, 0);
    assert_int_equal(p.cmd.conn.blocklist_expire_s, 60);
    assert_string_equal(p.cmd.conn.name, "client.reaper");
    done(&p);
    /* the old option name does not exist from Pacific on */
    parse(&p, "pacific", "lock", "rm", "img", "id", "client.1",
          "--rbd_blacklist_on_break_lock=false", NULL);
    assert_true(p.cmd.done);
    assert_int_equal(p.cmd.exit_code, 1);
    assert_string_equal(err(&p),
                        "rbd: unrecognised option '--rbd_blacklist_on_break_lock=false'\n");
    done(&p);
    parse(&p, "luminous", "lock", "rm", "img", "id", "client.1",
          "--rbd_blacklist_on_break_lock=false", NULL);
    assert_false(p.cmd.done);
    assert_int_equal(p.cmd.conn.blocklist_on_break, 0);
    done(&p);
    /* a bool option never takes the next word: "false" becomes a positional */
    parse(&p, "jewel", "lock", "rm", "--rbd_blacklist_on_break_lock", "false", "img", "id",
          "client.1", NULL);
    assert_int_equal(p.cmd.conn.blocklist_on_break, 1);
    assert_string_equal(p.cmd.image, "false");
    assert_string_equal(p.cmd.lock_id, "img");
    assert_string_equal(p.cmd.locker, "id");
    done(&p);
}

static void test_missing_arguments(void **state)
{
    (void)state;
    parsed p;
    parse(&p, "jewel", "lock", "add", NULL);
    assert_int_equal(p.cmd.exit_code, 22);
    assert_string_equal(err(&p), "rbd: image name was not specified\n");
    done(&p);
    parse(&p, "jewel", "lock", "add", "img", NULL);
    assert_int_equal(p.cmd.exit_code, 22);
    assert_string_equal(err(&p), "rbd: lock id was not specified\n");
    done(&p);
    parse(&p, "reef", "lock", "remove", "img", "id", NULL);
    assert_int_equal(p.cmd.exit_code, 22);
    assert_string_equal(err(&p), "rbd: locker was not specified\n");
    done(&p);
    /* an empty locker argument is "not specified" too (Kubernetes' empty locker) */
    parse(&p, "jewel", "lock", "remove", "img", "id", "", NULL);
    assert_string_equal(err(&p), "rbd: locker was not specified\n");
    done(&p);
    /* --image gives the image, yet the lock id is still positional 1 */
    parse(&p, "jewel", "lock", "add", "--image", "img", "myid", NULL);
    assert_int_equal(p.cmd.exit_code, 22);
    assert_string_equal(err(&p), "rbd: lock id was not specified\n");
    done(&p);
    parse(&p, "jewel", "create", "img", NULL);
    assert_int_equal(p.cmd.exit_code, 22);
    assert_string_equal(err(&p), "rbd: must specify --size <M/G/T>\n");
    done(&p);
}

static void test_specs_per_release(void **state)
{
    (void)state;
    parsed p;
    parse(&p, "jewel", "lock", "ls", "a/b/c", NULL);
    assert_int_equal(p.cmd.exit_code, 22);
    assert_string_equal(err(&p), "rbd: invalid spec 'a/b/c'\n");
    done(&p);
    parse(&p, "reef", "lock", "ls", "a/b/c", NULL);
    assert_false(p.cmd.done);
    assert_string_equal(p.cmd.pool, "a");
    assert_string_equal(p.cmd.ns, "b");
    assert_string_equal(p.cmd.image, "c");
    done(&p);
    parse(&p, "jewel", "lock", "ls", "mioss/img@snap", NULL);
    assert_string_equal(err(&p), "rbd: snapname specified for a command that doesn't use it\n");
    done(&p);
    parse(&p, "nautilus", "status", "mioss/img@snap", NULL);
    assert_string_equal(err(&p),
                        "rbd: snapshot name specified for a command that doesn't use it\n");
    done(&p);
    parse(&p, "jewel", "info", "img@snap", "--pool", "p", NULL);
    assert_false(p.cmd.done);
    assert_string_equal(p.cmd.snap, "snap");
    assert_string_equal(p.cmd.pool, "p");
    done(&p);
    /* the spec's pool wins over --pool; the default pool is "rbd" */
    parse(&p, "jewel", "status", "a/img", "-p", "b", NULL);
    assert_string_equal(p.cmd.pool, "a");
    done(&p);
    parse(&p, "jewel", "status", "img", NULL);
    assert_string_equal(p.cmd.pool, "rbd");
    assert_false(p.cmd.pool_given);
    done(&p);
    parse(&p, "reef", "status", "img", "--rbd_default_pool", "vols", NULL);
    assert_string_equal(p.cmd.pool, "vols");
    done(&p);
    parse(&p, "reef", "status", "img", "--namespace", "a/b", NULL);
    assert_string_equal(err(&p), "rbd: invalid namespace name 'a/b'\n");
    done(&p);
    /* --namespace does not exist before Nautilus */
    parse(&p, "mimic", "status", "img", "--namespace", "ns", NULL);
    assert_int_equal(p.cmd.exit_code, 1);
    assert_string_equal(err(&p), "rbd: unrecognised option '--namespace'\n\n");
    done(&p);
}

static void test_option_errors(void **state)
{
    (void)state;
    parsed p;
    parse(&p, "reef", "lock", "ls", "img", "--format", "yaml", NULL);
    assert_int_equal(p.cmd.exit_code, 1);
    assert_string_equal(err(&p), "rbd: the argument ('yaml') for option '--format' is invalid\n");
    done(&p);
    parse(&p, "jewel", "lock", "ls", "img", "--pool", NULL);
    assert_string_equal(err(&p), "rbd: the required argument for option '--pool' is missing\n\n");
    done(&p);
    parse(&p, "reef", "lock", "add", "img", "id", "--format", "json", NULL);
    assert_string_equal(err(&p), "rbd: unrecognised option '--format'\n");
    done(&p);
    parse(&p, "reef", "lock", "ls", "img", "-p", "a", "--pool", "b", NULL);
    assert_string_equal(err(&p), "rbd: option '--pool' cannot be specified more than once\n");
    done(&p);
    parse(&p, "reef", "lock", "ls", "img", "--pretty-format", NULL);
    assert_int_equal(p.cmd.exit_code, 22);
    assert_string_equal(err(&p), "rbd: --pretty-format only works when --format is json or xml\n");
    done(&p);
    parse(&p, "jewel", "lock", "ls", "img", "--pretty-format", NULL); /* silently plain */
    assert_false(p.cmd.done);
    done(&p);
    parse(&p, "jewel", "lock", "ls", "img", "--format", "plain", "--pretty-format", NULL);
    assert_int_equal(p.cmd.exit_code, 22);
    done(&p);
    parse(&p, "reef", "create", "img", "--size", "ten", NULL);
    assert_string_equal(err(&p), "rbd: the argument ('ten') for option '--size' is invalid\n");
    done(&p);
    parse(&p, "reef", "create", "img", "--size", "10G", "--image-feature", "bogus", NULL);
    assert_string_equal(err(&p),
                        "rbd: the argument ('bogus') for option '--image-feature' is invalid\n");
    done(&p);
}

static void test_extra_positionals(void **state)
{
    (void)state;
    parsed p;
    parse(&p, "jewel", "lock", "ls", "img", "extra", NULL);
    assert_false(p.cmd.done); /* the old Shell accepted and ignored them */
    assert_string_equal(p.cmd.image, "img");
    done(&p);
    parse(&p, "reef", "lock", "ls", "img", "extra", NULL);
    assert_int_equal(p.cmd.exit_code, 1);
    assert_string_equal(err(&p), "rbd: too many arguments\n");
    done(&p);
}

static void test_unknown_command_and_help(void **state)
{
    (void)state;
    parsed p;
    parse(&p, "reef", "lock", "foo", "img", NULL);
    assert_int_equal(p.cmd.exit_code, 1);
    assert_string_equal(err(&p), "error: unknown option 'lock foo img'\n\n");
    assert_non_null(strstr(p.out.data, "usage: rbd <command> ..."));
    assert_non_null(strstr(p.out.data, "lock remove (lock rm)"));
    done(&p);
    parse(&p, "jewel", "device", "map", "img", NULL); /* `device` came with Nautilus */
    assert_int_equal(p.cmd.exit_code, 1);
    assert_string_equal(err(&p), "error: unknown option 'device map img'\n\n");
    done(&p);
    parse(&p, "reef", "device", "map", "img", NULL);
    assert_int_equal(p.cmd.action, RBD_ACT_MAP);
    done(&p);
    parse(&p, "reef", "--help", NULL);
    assert_int_equal(p.cmd.exit_code, 0);
    assert_true(p.cmd.done);
    assert_non_null(strstr(p.out.data, "See 'rbd help <command>'"));
    done(&p);
}

static void test_ls_and_map(void **state)
{
    (void)state;
    parsed p;
    parse(&p, "reef", "ls", "-l", "mioss/ns1", "--format=json", NULL);
    assert_int_equal(p.cmd.action, RBD_ACT_LIST);
    assert_true(p.cmd.long_listing);
    assert_string_equal(p.cmd.pool, "mioss");
    assert_string_equal(p.cmd.ns, "ns1");
    assert_int_equal(p.cmd.format, RBD_OUT_JSON);
    done(&p);
    parse(&p, "jewel", "map", "img", "--pool", "p", "-o", "ro,noshare", NULL);
    assert_int_equal(p.cmd.action, RBD_ACT_MAP);
    assert_true(p.cmd.read_only);
    done(&p);
    parse(&p, "jewel", "unmap", "/dev/rbd3", NULL);
    assert_string_equal(p.cmd.device, "/dev/rbd3");
    done(&p);
    parse(&p, "reef", "create", "-s", "1G", "--image-format", "1", "img", NULL);
    assert_int_equal(p.cmd.size, UINT64_C(1073741824));
    assert_int_equal(p.cmd.image_format, 1);
    done(&p);
    parse(&p, "reef", "create", "--size", "512", "img", "--object-size", "8M", "--image-feature",
          "layering,exclusive-lock", NULL);
    assert_int_equal(p.cmd.size, UINT64_C(536870912));
    assert_int_equal(p.cmd.order, 23);
    assert_int_equal(p.cmd.features, 5);
    done(&p);
}

static void test_sizes(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(rbd_parse_size("1024", false, &v), 0);
    assert_int_equal(v, UINT64_C(1) << 30);
    assert_int_equal(rbd_parse_size("2G", false, &v), 0);
    assert_int_equal(v, UINT64_C(2) << 30);
    assert_int_equal(rbd_parse_size("4KiB", false, &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(rbd_parse_size("10B", false, &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(rbd_parse_size("-1", false, &v), -EINVAL);
    assert_int_equal(rbd_parse_size("1X", false, &v), -EINVAL);
    assert_int_equal(rbd_parse_size("99999999999999999999999", false, &v), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kubernetes_lock_add),
        cmocka_unit_test(test_lock_remove_order_and_config),
        cmocka_unit_test(test_missing_arguments),
        cmocka_unit_test(test_specs_per_release),
        cmocka_unit_test(test_option_errors),
        cmocka_unit_test(test_extra_positionals),
        cmocka_unit_test(test_unknown_command_and_help),
        cmocka_unit_test(test_ls_and_map),
        cmocka_unit_test(test_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
