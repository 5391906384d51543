/* The `rbd` and `ceph` tools end to end against an in-process store: the
 * field report's transcript, lock break blocklisting (and its EACCES
 * failure), fenced clients, faults, cephx, the ceph blocklist commands per
 * release, and bad input leaving the store unchanged. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rbd_test_util.h"

#define S (INT64_C(1000000000))

static void seed_image(rbdt *t, const char *pool, const char *image, int format)
{
    rbdt_op(t, "pool_add", json_pack("{s:s}", "name", pool));
    assert_int_equal(rbdt_op(t, "image_create",
                             json_pack("{s:s, s:s, s:I, s:i}", "pool", pool, "image", image, "size",
                                       (json_int_t)2147483648LL, "format", format)),
                     0);
}

static void as_node(rbdt *t, const char *ip, uint32_t nonce)
{
    snprintf(t->node, sizeof(t->node), "%s", ip);
    t->nonce = nonce;
}

static size_t lockers(rbdt *t, const char *pool, const char *image)
{
    int r;
    json_t *l = rbd_store_lock_get(t->store, pool, "", image, &r);
    size_t n = json_array_size(json_object_get(l, "lockers"));
    json_decref(l);
    return n;
}

static uint64_t audit_seq(rbdt *t, const char *op)
{
    json_t *a = rbd_store_audit_list(t->store, 0);
    size_t i;
    json_t *e;
    uint64_t seq = 0;
    json_array_foreach (a, i, e) {
        const char *o = json_string_value(json_object_get(e, "op"));
        if (o && strcmp(o, op) == 0 && json_object_get(e, "invocation")) {
            seq = (uint64_t)json_integer_value(json_object_get(e, "seq"));
            break;
        }
    }
    json_decref(a);
    return seq;
}

/* The field report: Jewel, node 10.47.136.60 took the lock, the operator
 * lists it from elsewhere and removes it; a second remove fails. */
static void test_seed_transcript_jewel(void **state)
{
    (void)state;
    rbdt t;
    rbdt_init(&t, "jewel");
    seed_image(&t, "mioss", "index-api-image", 1);
    rbd_store_set_next_client_id(t.store, 24128);
    as_node(&t, "10.47.136.60", 1864102866);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "add", "index-api-image",
                              "kubelet_lock_magic_node1", "--pool", "mioss", "--id", "admin", "-m",
                              "10.0.0.1:6789", NULL),
                     0);
    assert_string_equal(rbdt_out(&t), "");
    assert_string_equal(rbdt_err(&t), "");
    as_node(&t, "10.46.181.146", 0);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "list", "mioss/index-api-image", NULL), 0);
    /* the real bytes: Jewel's TextTable writes a space after every cell */
    assert_string_equal(rbdt_out(&t),
                        "There is 1 exclusive lock on this image.\n"
                        "Locker       ID                       Address                   \n"
                        "client.24128 kubelet_lock_magic_node1 10.47.136.60:0/1864102866 \n");
    assert_string_equal(rbdt_err(&t), "");
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "remove", "mioss/index-api-image",
                              "kubelet_lock_magic_node1", "client.24128", NULL),
                     0);
    assert_string_equal(rbdt_out(&t), "");
    assert_string_equal(rbdt_err(&t), "");
    assert_int_equal(lockers(&t, "mioss", "index-api-image"), 0);
    /* librbd blocklisted the locker's address before breaking */
    uint64_t bl = audit_seq(&t, "blocklist_add"), br = audit_seq(&t, "lock_break");
    assert_true(bl > 0 && br > bl);
    rbd_addr a;
    assert_int_equal(rbd_addr_parse("10.47.136.60:0/1864102866", true, &a), 0);
    assert_true(rbd_store_is_blocklisted(t.store, &a));
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "remove", "mioss/index-api-image",
                              "kubelet_lock_magic_node1", "client.24128", NULL),
                     2);
    assert_string_equal(rbdt_err(&t),
                        "rbd: releasing lock failed: (2) No such file or directory\n");
    rbdt_cleanup(&t);
}

static void test_break_blocklist_eacces_keeps_lock(void **state)
{
    (void)state;
    rbdt t;
    rbdt_init(&t, "luminous");
    seed_image(&t, "rbd", "img", 2);
    as_node(&t, "10.0.0.1", 777);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "add", "img", "kubelet_lock_magic_a", NULL), 0);
    assert_int_equal(
        rbdt_op(&t, "caps_set", json_pack("{s:s, s:b}", "name", "client.k8s", "blocklist", 0)), 0);
    as_node(&t, "10.0.0.2", 0);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "remove", "img", "kubelet_lock_magic_a",
                              "client.4120", "--id", "k8s", NULL),
                     13);
    const char *e = rbdt_err(&t);
    const char *log = strstr(e, " -1 librbd: unable to blacklist client: (13) Permission denied\n");
    assert_non_null(log);
    assert_non_null(strstr(e, "rbd: releasing lock failed: (13) Permission denied\n"));
    assert_true(strstr(e, "rbd: releasing lock failed") > log);
    assert_int_equal(lockers(&t, "rbd", "img"), 1);
    assert_int_equal(audit_seq(&t, "lock_break"), 0);
    /* the user with caps (client.admin) can; a reaper that blocklists itself
     * passes rbd_blacklist_on_break_lock=false and needs no mon caps */
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "remove", "img", "kubelet_lock_magic_a",
                              "client.4120", "--id", "k8s", "--rbd_blacklist_on_break_lock=false",
                              NULL),
                     0);
    assert_int_equal(lockers(&t, "rbd", "img"), 0);
    json_t *bl = rbd_store_blocklist_list(t.store);
    assert_int_equal(json_array_size(bl), 0);
    json_decref(bl);
    rbdt_cleanup(&t);
}

static void test_break_cookie_mismatch_after_blocklist(void **state)
{
    (void)state;
    rbdt t;
    rbdt_init(&t, "reef");
    seed_image(&t, "rbd", "img", 2);
    as_node(&t, "10.0.0.1", 4242);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "add", "img", "mine", NULL), 0);
    as_node(&t, "10.0.0.2", 0);
    /* right locker, wrong cookie: librbd blocklists first, then cls says ENOENT */
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "rm", "img", "theirs", "client.4120", NULL), 2);
    assert_int_equal(lockers(&t, "rbd", "img"), 1);
    rbd_addr a;
    assert_int_equal(rbd_addr_parse("10.0.0.1:0/4242", true, &a), 0);
    assert_true(rbd_store_is_blocklisted(t.store, &a));
    /* a padded locker never gets parsed: EINVAL and no blocklisting */
    rbd_store_blocklist_clear(t.store);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "rm", "img", "mine", "client.4120 ", NULL), 22);
    assert_string_equal(rbdt_err(&t), "rbd: releasing lock failed: (22) Invalid argument\n");
    assert_false(rbd_store_is_blocklisted(t.store, &a));
    /* an unknown locker: ENOENT before any blocklisting */
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "rm", "img", "mine", "client.9", NULL), 2);
    assert_false(rbd_store_is_blocklisted(t.store, &a));
    rbdt_cleanup(&t);
}

static void test_lock_add_conflicts(void **state)
{
    (void)state;
    rbdt t;
    rbdt_init(&t, "reef");
    seed_image(&t, "rbd", "img", 2);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "add", "img", "a", NULL), 0);
    /* every CLI run is a new client: a second add is EBUSY, not EEXIST */
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "add", "img", "a", NULL), 16);
    assert_string_equal(rbdt_err(&t), "rbd: lock is already held by someone else\n");
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "add", "img", "b", "--shared", "t", NULL), 16);
    assert_string_equal(rbdt_err(&t),
                        "rbd: lock is already held by someone else with a different tag\n");
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "add", "nope", "a", NULL), 2);
    assert_string_equal(rbdt_err(&t),
                        "rbd: error opening image nope: (2) No such file or directory\n");
    rbdt_cleanup(&t);
}

static void test_fenced_client(void **state)
{
    (void)state;
    rbdt t;
    rbdt_init(&t, "nautilus");
    seed_image(&t, "rbd", "img", 2);
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blacklist", "add", "10.0.0.66", NULL), 0);
    assert_non_null(strstr(rbdt_err(&t), "blacklisting 10.0.0.66:0/0 until "));
    as_node(&t, "10.0.0.66", 0);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "ls", "img", NULL), 108);
    assert_string_equal(rbdt_err(&t), "rbd: error opening image img: (108) Cannot send after "
                                      "transport endpoint shutdown\n");
    assert_int_equal(rbdt_run(&t, "rbd", "map", "img", NULL), 108);
    assert_non_null(strstr(rbdt_err(&t), "rbd: map failed: (108) Cannot send after transport "
                                         "endpoint shutdown\n"));
    as_node(&t, "10.0.0.67", 0);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "ls", "img", NULL), 0);
    rbdt_cleanup(&t);
}

static void test_status_watcher_expiry(void **state)
{
    (void)state;
    rbdt t;
    rbdt_init(&t, "reef");
    seed_image(&t, "rbd", "img", 2);
    as_node(&t, "10.16.153.105", 0);
    assert_int_equal(rbdt_run(&t, "rbd", "map", "img", NULL), 0);
    assert_string_equal(rbdt_out(&t), "/dev/rbd0\n");
    as_node(&t, "10.0.0.1", 0);
    assert_int_equal(rbdt_run(&t, "rbd", "status", "img", NULL), 0);
    assert_non_null(strstr(rbdt_out(&t), "Watchers:\n\twatcher=10.16.153.105:0/"));
    assert_non_null(strstr(rbdt_out(&t), " cookie=1\n"));
    rbd_store_node_dead(t.store, "10.16.153.105");
    clock_test_advance(t.clock, 29 * S);
    assert_int_equal(rbdt_run(&t, "rbd", "status", "img", NULL), 0);
    assert_non_null(strstr(rbdt_out(&t), "watcher="));
    clock_test_advance(t.clock, 1 * S);
    assert_int_equal(rbdt_run(&t, "rbd", "status", "img", NULL), 0);
    assert_string_equal(rbdt_out(&t), "Watchers: none\n");
    assert_int_equal(rbdt_run(&t, "rbd", "status", "img", "--format", "json", NULL), 0);
    assert_string_equal(rbdt_out(&t), "{\"watchers\":[]}\n");
    rbdt_cleanup(&t);
}

static void test_map_showmapped_unmap_rm(void **state)
{
    (void)state;
    rbdt t;
    rbdt_init(&t, "reef");
    seed_image(&t, "rbd", "img", 2);
    as_node(&t, "10.0.0.5", 0);
    assert_int_equal(rbdt_run(&t, "rbd", "device", "map", "rbd/img", NULL), 0);
    assert_int_equal(rbdt_run(&t, "rbd", "showmapped", NULL), 0);
    assert_string_equal(rbdt_out(&t), "id  pool  namespace  image  snap  device   \n"
                                      "0   rbd              img    -     /dev/rbd0\n");
    assert_int_equal(rbdt_run(&t, "rbd", "rm", "img", NULL), 16);
    assert_non_null(strstr(rbdt_err(&t), "rbd: error: image still has watchers\n"));
    assert_int_equal(rbdt_run(&t, "rbd", "unmap", "/dev/rbd7", NULL), 22);
    assert_string_equal(rbdt_err(&t), "rbd: '/dev/rbd7' is not an rbd device\n"
                                      "rbd: unmap failed: (22) Invalid argument\n");
    assert_int_equal(rbdt_run(&t, "rbd", "unmap", "/dev/rbd0", NULL), 0);
    assert_int_equal(rbdt_run(&t, "rbd", "showmapped", NULL), 0);
    assert_string_equal(rbdt_out(&t), "");
    assert_int_equal(rbdt_run(&t, "rbd", "rm", "img", NULL), 0);
    assert_string_equal(rbdt_err(&t), "\rRemoving image: 100% complete...done.\n");
    assert_int_equal(rbdt_run(&t, "rbd", "rm", "img", "--no-progress", NULL), 2);
    assert_string_equal(rbdt_err(&t), "rbd: delete error: (2) No such file or directory\n");
    assert_int_equal(rbdt_run(&t, "rbd", "create", "new", "--size", "1G", NULL), 0);
    assert_int_equal(rbdt_run(&t, "rbd", "create", "new", "--size", "1G", NULL), 17);
    assert_non_null(strstr(rbdt_err(&t), "librbd: rbd image new already exists\n"
                                         "rbd: create error: (17) File exists\n"));
    rbdt_cleanup(&t);
}

static void test_pool_errors_per_release(void **state)
{
    (void)state;
    rbdt t;
    rbdt_init(&t, "jewel");
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "ls", "mioss/img", NULL), 2);
    assert_string_equal(rbdt_err(&t),
                        "rbd: error opening pool mioss: (2) No such file or directory\n");
    rbdt_cleanup(&t);
    rbdt_init(&t, "reef");
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "ls", "mioss/img", NULL), 2);
    assert_string_equal(rbdt_err(&t),
                        "rbd: error opening pool 'mioss': (2) No such file or directory\n");
    assert_int_equal(rbdt_run(&t, "rbd", "ls", NULL), 2);
    assert_string_equal(rbdt_err(&t), "rbd: error opening default pool 'rbd'\nEnsure that the "
                                      "default pool has been created or specify an alternate "
                                      "pool name.\n");
    seed_image(&t, "p", "img", 2);
    assert_int_equal(rbdt_run(&t, "rbd", "ls", "p/ns", NULL), 2);
    assert_string_equal(rbdt_err(&t), "rbd: namespace 'ns' does not exist.\n");
    rbdt_cleanup(&t);
}

static void test_faults(void **state)
{
    (void)state;
    rbdt t;
    rbdt_init(&t, "reef");
    seed_image(&t, "rbd", "img", 2);
    efk_err err;
    json_t *rule =
        json_pack("{s:{s:s, s:s}, s:s, s:{s:i}, s:i}", "match", "path", "/rbd/v1/op/invoke", "body",
                  "rbd lock ls", "action", "rbd_fail", "params", "errno", 13, "times", 1);
    assert_int_equal(fault_add_json(t.faults, rule, false, NULL, &err), 0);
    json_decref(rule);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "ls", "img", NULL), 13);
    assert_string_equal(rbdt_err(&t), "rbd: listing locks failed: (13) Permission denied\n");
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "ls", "img", NULL), 0); /* times: 1 */
    rule = json_pack("{s:{s:s, s:s}, s:s, s:{s:s}}", "match", "path", "/rbd/v1/op/invoke", "body",
                     "status", "action", "rbd_hang", "params", "stderr", "waiting\n");
    assert_int_equal(fault_add_json(t.faults, rule, false, NULL, &err), 0);
    json_decref(rule);
    rbdt_run(&t, "rbd", "status", "img", NULL);
    assert_true(t.res.hang);
    assert_string_equal(rbdt_err(&t), "waiting\n");
    fault_clear(t.faults);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "add", "img", "x", NULL), 0);
    rule = json_pack("{s:{s:s, s:s}, s:s, s:{s:i}}", "match", "path", "/rbd/v1/op/invoke", "body",
                     "lock ls", "action", "rbd_partial", "params", "bytes", 20);
    assert_int_equal(fault_add_json(t.faults, rule, false, NULL, &err), 0);
    json_decref(rule);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "ls", "img", NULL), 0);
    assert_string_equal(rbdt_out(&t), "There is 1 exclusive"); /* 20 bytes */
    fault_clear(t.faults);
    rule = json_pack("{s:{s:s}, s:s, s:{}}", "match", "path", "/rbd/v1/op/invoke", "action",
                     "rbd_mon_unreachable", "params");
    assert_int_equal(fault_add_json(t.faults, rule, false, NULL, &err), 0);
    json_decref(rule);
    t.slept_ms = 0;
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "ls", "img", "--client_mount_timeout", "5", NULL),
                     110);
    assert_int_equal(t.slept_ms, 5000);
    assert_non_null(
        strstr(rbdt_err(&t), "  0 monclient(hunting): authenticate timed out after 5\n"));
    assert_non_null(strstr(rbdt_err(&t), " -1 librados: client.admin authentication error (110) "
                                         "Connection timed out\nrbd: couldn't connect to the "
                                         "cluster!\n"));
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blocklist", "ls", "--connect-timeout", "7", NULL),
                     1);
    assert_non_null(
        strstr(rbdt_err(&t), "[errno 110] RADOS timed out (error connecting to the cluster)\n"));
    fault_clear(t.faults);
    rule = json_pack("{s:{s:s}, s:s, s:{}}", "match", "path", "/rbd/v1/op/invoke", "action",
                     "rbd_auth_error", "params");
    assert_int_equal(fault_add_json(t.faults, rule, false, NULL, &err), 0);
    json_decref(rule);
    assert_int_equal(rbdt_run(&t, "rbd", "status", "img", NULL), 1);
    assert_non_null(strstr(rbdt_err(&t), "librados: client.admin authentication error (1) "
                                         "Operation not permitted\nrbd: couldn't connect to the "
                                         "cluster!\n"));
    fault_clear(t.faults);
    /* an op-level errno: the blocklist step of lock rm fails with EINVAL */
    rule = json_pack("{s:{s:s}, s:s, s:{s:i}}", "match", "path", "/rbd/v1/op/blocklist_add",
                     "action", "rbd_errno", "params", "errno", 22);
    assert_int_equal(fault_add_json(t.faults, rule, false, NULL, &err), 0);
    json_decref(rule);
    int lr;
    json_t *lk = rbd_store_lock_get(t.store, "rbd", "", "img", &lr);
    char locker[64];
    snprintf(locker, sizeof(locker), "%s",
             json_string_value(
                 json_object_get(json_array_get(json_object_get(lk, "lockers"), 0), "locker")));
    json_decref(lk);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "rm", "img", "x", locker, NULL), 22);
    assert_non_null(strstr(rbdt_err(&t), "librbd: unable to blocklist client: (22) Invalid "
                                         "argument\nrbd: releasing lock failed: (22) Invalid "
                                         "argument\n"));
    assert_int_equal(lockers(&t, "rbd", "img"), 1);
    /* bad fault parameters are refused with their place */
    rule = json_pack("{s:s, s:{s:i}}", "action", "rbd_fail", "params", "errno", 0);
    efk_err_init(&err);
    assert_int_equal(fault_add_json(t.faults, rule, false, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.pointer, "errno"));
    json_decref(rule);
    rbdt_cleanup(&t);
}

static void test_store_unreachable(void **state)
{
    (void)state;
    rbdt t;
    rbdt_init(&t, "reef");
    t.offline = true;
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "ls", "img", NULL), 110);
    assert_int_equal(t.slept_ms, 300000);
    assert_non_null(strstr(rbdt_err(&t), "rbd: couldn't connect to the cluster!\n"));
    /* parse errors come before any connection */
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "add", "img", NULL), 22);
    assert_string_equal(rbdt_err(&t), "rbd: lock id was not specified\n");
    rbdt_cleanup(&t);
}

static void test_cephx(void **state)
{
    (void)state;
    rbdt t;
    rbdt_init_auth(&t, "luminous", true);
    seed_image(&t, "rbd", "img", 2);
    assert_int_equal(
        rbdt_op(&t, "key_set", json_pack("{s:s, s:s}", "name", "client.k8s", "key", "AQBgood==")),
        0);
    assert_int_equal(rbdt_run(&t, "rbd", "status", "img", "--id", "k8s", "--keyring",
                              "/nonexistent/keyring", NULL),
                     2);
    assert_non_null(strstr(rbdt_err(&t), "auth: unable to find a keyring on /nonexistent/keyring: "
                                         "(2) No such file or directory\n"));
    assert_non_null(strstr(rbdt_err(&t), "rbd: couldn't connect to the cluster!\n"));
    assert_int_equal(rbdt_run(&t, "rbd", "status", "img", "--id", "k8s", "--key=AQBbad==", NULL),
                     1);
    assert_int_equal(rbdt_run(&t, "rbd", "status", "img", "--id", "k8s", "--key=AQBgood==", NULL),
                     0);
    assert_string_equal(rbdt_out(&t), "Watchers: none\n");
    rbdt_cleanup(&t);
}

static void test_ceph_blocklist_releases(void **state)
{
    (void)state;
    rbdt t;
    rbdt_init(&t, "pacific");
    assert_int_equal(
        rbdt_run(&t, "ceph", "osd", "blocklist", "add", "10.0.0.1:0/123", "86400", NULL), 0);
    assert_string_equal(rbdt_err(&t), "blocklisting 10.0.0.1:0/123 until "
                                      "2017-03-03T08:26:46.500123+0000 (86400 sec)\n");
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blacklist", "add", "10.0.0.2", NULL), 0);
    assert_string_equal(rbdt_err(&t), "blocklisting 10.0.0.2:0/0 until "
                                      "2017-03-02T09:26:46.500123+0000 (3600 sec)\n");
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blocklist", "add", "10.0.0.3", "157784760", NULL),
                     0);
    assert_non_null(strstr(rbdt_err(&t), "(1.57785e+08 sec)\n"));
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blocklist", "ls", NULL), 0);
    assert_string_equal(rbdt_out(&t), "10.0.0.1:0/123 2017-03-03T08:26:46.500123+0000\n"
                                      "10.0.0.2:0/0 2017-03-02T09:26:46.500123+0000\n"
                                      "10.0.0.3:0/0 2022-03-02T13:32:46.500123+0000\n");
    assert_string_equal(rbdt_err(&t), "listed 3 entries\n");
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blocklist", "rm", "10.0.0.9", NULL), 0);
    assert_string_equal(rbdt_err(&t), "10.0.0.9:0/0 isn't blocklisted\n");
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blocklist", "rm", "10.0.0.2", NULL), 0);
    assert_string_equal(rbdt_err(&t), "un-blocklisting 10.0.0.2:0/0\n");
    /* no range before Reef */
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blocklist", "range", "add", "10.1.0.0/16", NULL),
                     22);
    assert_string_equal(rbdt_err(&t), "Invalid command:  range not in add|rm\n"
                                      "osd blocklist add|rm <addr> [<expire:float>] :  add "
                                      "(optionally until <expire> seconds from now) or remove "
                                      "<addr> from blocklist\n"
                                      "Error EINVAL: invalid command\n");
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blocklist", "clear", NULL), 0);
    assert_string_equal(rbdt_err(&t), " removed all blocklist entries\n");
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blocklist", "ls", "-f", "json", NULL), 0);
    assert_string_equal(rbdt_out(&t), "\n[]");
    assert_int_equal(
        rbdt_op(&t, "caps_set", json_pack("{s:s, s:b}", "name", "client.admin", "blocklist", 0)),
        0);
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blocklist", "add", "10.0.0.1", NULL), 13);
    assert_string_equal(rbdt_err(&t), "Error EACCES: access denied\n");
    rbdt_cleanup(&t);

    rbdt_init(&t, "reef");
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blocklist", "range", "add", "10.1.0.0/16", NULL),
                     0);
    assert_string_equal(rbdt_err(&t), "blocklisting cidr:10.1.0.0:0/16 until "
                                      "2017-03-02T09:26:46.500123+0000 (3600 sec)\n");
    as_node(&t, "10.1.200.3", 0);
    assert_int_equal(rbdt_run(&t, "rbd", "ls", NULL),
                     2); /* fenced, but the pool is missing first */
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blocklist", "range", "add", "10.1.0.0/40", NULL),
                     22);
    assert_string_equal(rbdt_err(&t), "Error EINVAL: Too many bits in range for that protocol!\n");
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blocklist", "ls", "--format=json", NULL), 0);
    assert_string_equal(rbdt_out(&t), "\n[][{\"range\":\"10.1.0.0:0/16\",\"until\":"
                                      "\"2017-03-02T09:26:46.500123+0000\"}]");
    rbdt_cleanup(&t);

    rbdt_init(&t, "jewel");
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blocklist", "ls", NULL), 22);
    assert_non_null(strstr(rbdt_err(&t), "no valid command found; 10 closest matches:\n"));
    assert_non_null(strstr(rbdt_err(&t), "Error EINVAL: invalid command\n"));
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blacklist", "add", "10.0.0.x", NULL), 22);
    assert_string_equal(rbdt_err(&t), "Invalid command:  10.0.0.x: invalid IPv4 address\n"
                                      "osd blacklist add|rm <EntityAddr> {<float[0.0-]>} :  add "
                                      "(optionally until <expire> seconds from now) or remove "
                                      "<addr> from blacklist\n"
                                      "Error EINVAL: invalid command\n");
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blacklist", "add", "10.0.0.1/abc", NULL), 22);
    assert_non_null(strstr(rbdt_err(&t), "Invalid command:  10.0.0.1/abc: invalid entity, nonce "
                                         "abc not integer > 0\n"));
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blacklist", "add", "10.0.0.1", "-5", NULL), 22);
    assert_non_null(strstr(rbdt_err(&t), "-5 not valid:  -5 not in range [0.0]\n"
                                         "Invalid command:  unused arguments: ['-5']\n"));
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blacklist", "add", NULL), 22);
    assert_non_null(strstr(rbdt_err(&t), "Invalid command:  missing required parameter "
                                         "addr(<EntityAddr>)\n"));
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blacklist", "add", "10.0.0.1", NULL), 0);
    assert_string_equal(rbdt_err(&t), "blacklisting 10.0.0.1:0/0 until 2017-03-02 "
                                      "09:26:46.500123 (3600 sec)\n");
    assert_int_equal(rbdt_run(&t, "ceph", "osd", "blacklist", "ls", NULL), 0);
    assert_string_equal(rbdt_out(&t), "10.0.0.1:0/0 2017-03-02 09:26:46.500123\n");
    assert_int_equal(rbdt_run(&t, "ceph", "-f", "yaml", "osd", "blacklist", "ls", NULL), 2);
    assert_non_null(strstr(rbdt_err(&t), "ceph: error: argument -f/--format: invalid choice: "
                                         "'yaml'"));
    rbdt_cleanup(&t);
}

/* Bad input gets its message and exit code and leaves the store as it was. */
static void test_bad_input_store_unchanged(void **state)
{
    (void)state;
    rbdt t;
    rbdt_init(&t, "reef");
    seed_image(&t, "rbd", "img", 2);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "add", "img", "held", NULL), 0);
    json_t *before = rbd_store_state(t.store);
    json_object_del(before, "next_client_id");
    json_object_del(before, "clients");
    json_object_del(before, "audit_last_seq");
    static const struct {
        const char *args[8];
        int code;
        const char *err;
    } cases[] = {
        {{"lock", "foo", "img"}, 1, "error: unknown option 'lock foo img'\n\n"},
        {{"lock", "rm", "img", "held"}, 22, "rbd: locker was not specified\n"},
        {{"lock", "rm", "img", "held", "client.4120x"},
         22,
         "rbd: releasing lock failed: (22) Invalid argument\n"},
        {{"lock", "rm", "a/b/c/d@", "held", "client.4120"}, 22, "rbd: invalid spec 'a/b/c/d@'\n"},
        {{"lock", "add", "img@snap", "x"},
         22,
         "rbd: snapshot name specified for a command that doesn't use it\n"},
        {{"lock", "add", "img", "x", "--shared"},
         1,
         "rbd: the required argument for option '--shared' is missing\n"},
        {{"lock", "add", "img", "x", "--bogus"}, 1, "rbd: unrecognised option '--bogus'\n"},
        {{"lock", "ls", "img", "extra"}, 1, "rbd: too many arguments\n"},
        {{"status"}, 22, "rbd: image name was not specified\n"},
        {{"create", "img2"}, 22, "rbd: must specify --size <M/G/T>\n"},
        {{"rm", "nope", "--no-progress"}, 2, "rbd: delete error: (2) No such file or directory\n"},
        {{"unmap", "rbd/img"},
         22,
         "rbd: rbd/img: not a mapped image or snapshot\nrbd: unmap failed: (22) Invalid "
         "argument\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *const *a = cases[i].args;
        rbdt_run(&t, "rbd", a[0], a[1], a[2], a[3], a[4], a[5], a[6], NULL);
        if (t.res.exit_code != cases[i].code || strcmp(rbdt_err(&t), cases[i].err) != 0)
            fail_msg("case %zu (%s %s): exit %d, stderr \"%s\"", i, a[0], a[1] ? a[1] : "",
                     t.res.exit_code, rbdt_err(&t));
    }
    json_t *after = rbd_store_state(t.store);
    json_object_del(after, "next_client_id");
    json_object_del(after, "clients");
    json_object_del(after, "audit_last_seq");
    assert_true(json_equal(before, after));
    json_decref(before);
    json_decref(after);
    rbdt_cleanup(&t);
}

/* Kubernetes' combined output: the config noise comes before the table. */
static void test_conf_missing_noise(void **state)
{
    (void)state;
    rbdt t;
    rbdt_init(&t, "luminous");
    rbd_svc_set_conf_missing(t.svc, true);
    seed_image(&t, "rbd", "img", 2);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "add", "img", "kubelet_lock_magic_n1", NULL), 0);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "ls", "img", NULL), 0);
    const char *e = rbdt_err(&t);
    assert_non_null(strstr(e, " -1 did not load config file, using default settings.\n"));
    assert_int_equal(strncmp(e, "2017-03-02 08:26:46.500123 7f", 29), 0);
    assert_int_equal(strncmp(rbdt_out(&t), "There is 1 exclusive lock", 25), 0);
    /* even a command line error comes after it (global_init runs first) */
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "add", "img", NULL), 22);
    assert_non_null(
        strstr(rbdt_err(&t), "using default settings.\nrbd: lock id was not specified\n"));
    rbdt_cleanup(&t);
    rbdt_init(&t, "jewel");
    rbd_svc_set_conf_missing(t.svc, true);
    seed_image(&t, "rbd", "img", 2);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "ls", "img", NULL), 0);
    assert_string_equal(rbdt_err(&t), "");
    rbdt_cleanup(&t);
}

static void test_audit_of_invocations(void **state)
{
    (void)state;
    rbdt t;
    rbdt_init(&t, "reef");
    seed_image(&t, "rbd", "img", 2);
    as_node(&t, "10.0.0.1", 99);
    assert_int_equal(rbdt_run(&t, "rbd", "lock", "add", "img", "kubelet_lock_magic_n1", NULL), 0);
    json_t *a = rbd_store_audit_list(t.store, 0);
    size_t i;
    json_t *e, *lock = NULL, *ex = NULL;
    json_array_foreach (a, i, e) {
        const char *ev = json_string_value(json_object_get(e, "event"));
        if (strcmp(ev, "op") == 0)
            lock = e;
        if (strcmp(ev, "exit") == 0)
            ex = e;
    }
    assert_non_null(lock);
    assert_string_equal(json_string_value(json_object_get(lock, "op")), "lock_add");
    assert_string_equal(json_string_value(json_object_get(lock, "client")), "client.4120");
    assert_string_equal(json_string_value(json_array_get(json_object_get(lock, "argv"), 2)), "img");
    assert_string_equal(json_string_value(json_object_get(lock, "tool")), "rbd");
    assert_int_equal(json_integer_value(json_object_get(lock, "r")), 0);
    assert_non_null(ex);
    assert_int_equal(json_integer_value(json_object_get(ex, "exit")), 0);
    json_decref(a);
    rbdt_cleanup(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_transcript_jewel),
        cmocka_unit_test(test_break_blocklist_eacces_keeps_lock),
        cmocka_unit_test(test_break_cookie_mismatch_after_blocklist),
        cmocka_unit_test(test_lock_add_conflicts),
        cmocka_unit_test(test_fenced_client),
        cmocka_unit_test(test_status_watcher_expiry),
        cmocka_unit_test(test_map_showmapped_unmap_rm),
        cmocka_unit_test(test_pool_errors_per_release),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_store_unreachable),
        cmocka_unit_test(test_cephx),
        cmocka_unit_test(test_ceph_blocklist_releases),
        cmocka_unit_test(test_bad_input_store_unchanged),
        cmocka_unit_test(test_conf_missing_noise),
        cmocka_unit_test(test_audit_of_invocations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
