/* The lock store: cls_lock semantics, blocklist matching and expiry, watcher
 * expiry after a client dies (on a test clock), managed locks, mappings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/clock.h"
#include "rbd/rbd_store.h"

#define S (INT64_C(1000000000))

typedef struct fx {
    efk_clock *clock;
    rbd_store *s;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    f->clock = clock_test_new(1000 * S, INT64_C(1488443206) * S);
    rbd_store_config cfg = {.clock = f->clock, .seed = 7};
    f->s = rbd_store_new(&cfg);
    assert_int_equal(rbd_store_pool_add(f->s, "rbd"), 0);
    rbd_image_spec spec = {.size = 1u << 30};
    assert_int_equal(rbd_store_image_create(f->s, "rbd", "", "img", &spec), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    rbd_store_free(f->s);
    clock_test_free(f->clock);
    free(f);
    return 0;
}

static rbd_entity client(int64_t n)
{
    rbd_entity e = {RBD_ENT_CLIENT, n};
    return e;
}

static rbd_addr addr(const char *s)
{
    rbd_addr a;
    assert_int_equal(rbd_addr_parse(s, true, &a), 0);
    return a;
}

static int lock(fx *f, int64_t who, const char *cookie, bool excl, const char *tag)
{
    rbd_entity e = client(who);
    rbd_addr a = addr("10.0.0.1:0/100");
    return rbd_store_lock_add(f->s, "rbd", "", "img", &e, &a, cookie, excl, tag, "");
}

static int unlock(fx *f, int64_t who, const char *cookie)
{
    rbd_entity e = client(who);
    return rbd_store_lock_break(f->s, "rbd", "", "img", &e, cookie);
}

static size_t nlockers(fx *f)
{
    int r;
    json_t *l = rbd_store_lock_get(f->s, "rbd", "", "img", &r);
    assert_int_equal(r, 0);
    size_t n = json_array_size(json_object_get(l, "lockers"));
    json_decref(l);
    return n;
}

/* ---- cls_lock ------------------------------------------------------------- */

static void test_exclusive_conflicts(void **state)
{
    fx *f = *state;
    assert_int_equal(lock(f, 1, "a", true, ""), 0);
    /* the same (locker, cookie) again: EEXIST */
    assert_int_equal(lock(f, 1, "a", true, ""), -EEXIST);
    /* the same locker with another cookie, or another locker: EBUSY */
    assert_int_equal(lock(f, 1, "b", true, ""), -EBUSY);
    assert_int_equal(lock(f, 2, "a", true, ""), -EBUSY);
    /* a shared lock on an exclusive one: EBUSY (type differs) */
    assert_int_equal(lock(f, 2, "s", false, ""), -EBUSY);
    assert_int_equal(nlockers(f), 1);
}

static void test_tag_checked_first(void **state)
{
    fx *f = *state;
    assert_int_equal(lock(f, 1, "s1", false, "tagA"), 0);
    /* same (locker, cookie) but another tag: the tag check comes first -> EBUSY, not EEXIST */
    assert_int_equal(lock(f, 1, "s1", false, "tagB"), -EBUSY);
    /* same tag, same (locker, cookie): EEXIST */
    assert_int_equal(lock(f, 1, "s1", false, "tagA"), -EEXIST);
    /* exclusive with an empty tag against a tagged shared lock: tag mismatch */
    assert_int_equal(lock(f, 2, "x", true, ""), -EBUSY);
    /* more shared lockers with the same tag */
    assert_int_equal(lock(f, 2, "s2", false, "tagA"), 0);
    assert_int_equal(lock(f, 3, "s3", false, "tagA"), 0);
    assert_int_equal(nlockers(f), 3);
    int r;
    json_t *l = rbd_store_lock_get(f->s, "rbd", "", "img", &r);
    assert_string_equal(json_string_value(json_object_get(l, "type")), "shared");
    assert_string_equal(json_string_value(json_object_get(l, "tag")), "tagA");
    json_decref(l);
}

static void test_break_exact_and_order(void **state)
{
    fx *f = *state;
    assert_int_equal(lock(f, 10, "c", false, "t"), 0);
    assert_int_equal(lock(f, 9, "z", false, "t"), 0);
    assert_int_equal(lock(f, 9, "a", false, "t"), 0);
    /* lockers sorted as cls_lock's map: by client number, then cookie */
    int r;
    json_t *l = rbd_store_lock_get(f->s, "rbd", "", "img", &r);
    json_t *lk = json_object_get(l, "lockers");
    assert_string_equal(json_string_value(json_object_get(json_array_get(lk, 0), "cookie")), "a");
    assert_string_equal(json_string_value(json_object_get(json_array_get(lk, 1), "cookie")), "z");
    assert_string_equal(json_string_value(json_object_get(json_array_get(lk, 2), "locker")),
                        "client.10");
    json_decref(l);
    /* the locker must match exactly with the cookie */
    assert_int_equal(unlock(f, 9, "c"), -ENOENT);
    assert_int_equal(unlock(f, 10, "a"), -ENOENT);
    assert_int_equal(unlock(f, 10, "c"), 0);
    assert_int_equal(unlock(f, 10, "c"), -ENOENT);
    assert_int_equal(nlockers(f), 2);
    /* once the last locker is gone any type and tag may lock again */
    assert_int_equal(unlock(f, 9, "a"), 0);
    assert_int_equal(unlock(f, 9, "z"), 0);
    assert_int_equal(lock(f, 11, "x", true, ""), 0);
}

static void test_missing_image_and_bad_input(void **state)
{
    fx *f = *state;
    rbd_entity e = client(1);
    rbd_addr a = addr("10.0.0.1:0/1");
    assert_int_equal(rbd_store_lock_add(f->s, "rbd", "", "nope", &e, &a, "c", true, "", ""),
                     -ENOENT);
    assert_int_equal(rbd_store_lock_add(f->s, "nopool", "", "img", &e, &a, "c", true, "", ""),
                     -ENOENT);
    assert_int_equal(rbd_store_lock_break(f->s, "rbd", "", "nope", &e, "c"), -ENOENT);
    char big[RBD_NAME_MAX + 10];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(rbd_store_lock_add(f->s, "rbd", "", "img", &e, &a, big, true, "", ""),
                     -EINVAL);
    assert_int_equal(nlockers(f), 0);
}

static void test_entity_parse_strict(void **state)
{
    (void)state;
    rbd_entity e;
    assert_int_equal(rbd_entity_parse("client.24128", &e), 0);
    assert_int_equal(e.type, RBD_ENT_CLIENT);
    assert_int_equal(e.num, 24128);
    assert_int_equal(rbd_entity_parse("osd.3", &e), 0);
    assert_int_equal(e.type, RBD_ENT_OSD);
    /* the Kubernetes 1.6-1.8 bug: padding kept after the locker */
    assert_int_equal(rbd_entity_parse("client.4261 ", &e), -EINVAL);
    assert_int_equal(rbd_entity_parse("client. 4261", &e), -EINVAL);
    assert_int_equal(rbd_entity_parse("client.", &e), -EINVAL);
    assert_int_equal(rbd_entity_parse("client.12x", &e), -EINVAL);
    assert_int_equal(rbd_entity_parse("kubelet.1", &e), -EINVAL);
    assert_int_equal(rbd_entity_parse("", &e), -EINVAL);
    assert_int_equal(rbd_entity_parse("client.-5", &e), 0); /* strtoll takes a sign */
    assert_int_equal(e.num, -5);
}

/* ---- blocklist -------------------------------------------------------------- */

static bool listed(fx *f, const char *a)
{
    rbd_addr x = addr(a);
    return rbd_store_is_blocklisted(f->s, &x);
}

static void test_blocklist_exact_and_any(void **state)
{
    fx *f = *state;
    rbd_addr exact = addr("10.47.136.60:0/1864102866");
    int64_t until = 0;
    assert_int_equal(rbd_store_blocklist_add(f->s, &exact, false, -1, &until), 0);
    assert_int_equal(until, clock_wall_ns(f->clock) + 3600 * S);
    assert_true(listed(f, "10.47.136.60:0/1864102866"));
    assert_false(listed(f, "10.47.136.60:0/1864102867")); /* another nonce of the same node */
    assert_false(listed(f, "10.47.136.61:0/1864102866"));
    rbd_addr any = addr("10.0.0.5"); /* a bare IP is IP:0/0: every client of the IP */
    assert_int_equal(rbd_store_blocklist_add(f->s, &any, false, 60 * S, NULL), 0);
    assert_true(listed(f, "10.0.0.5:0/1"));
    assert_true(listed(f, "10.0.0.5:6789/424242"));
    assert_false(listed(f, "10.0.0.50:0/1"));
    /* an entry with a port but nonce 0 is only that exact address */
    rbd_addr port = addr("10.0.0.6:6800/0");
    assert_int_equal(rbd_store_blocklist_add(f->s, &port, false, 60 * S, NULL), 0);
    assert_true(listed(f, "10.0.0.6:6800/0"));
    assert_false(listed(f, "10.0.0.6:0/7"));
    /* rm of what is not listed */
    rbd_addr other = addr("10.9.9.9");
    assert_int_equal(rbd_store_blocklist_rm(f->s, &other, false), -ENOENT);
    assert_int_equal(rbd_store_blocklist_rm(f->s, &any, false), 0);
    assert_false(listed(f, "10.0.0.5:0/1"));
}

static void test_blocklist_cidr(void **state)
{
    fx *f = *state;
    rbd_addr r24 = addr("10.1.2.0/24");
    assert_true(rbd_addr_is_cidr(&r24));
    assert_int_equal(rbd_store_blocklist_add(f->s, &r24, true, -1, NULL), 0);
    assert_true(listed(f, "10.1.2.7:0/99"));
    assert_true(listed(f, "10.1.2.255:0/1"));
    assert_false(listed(f, "10.1.3.1:0/1"));
    rbd_addr r20 = addr("172.16.16.0/20");
    assert_int_equal(rbd_store_blocklist_add(f->s, &r20, true, -1, NULL), 0);
    assert_true(listed(f, "172.16.31.254:0/5"));
    assert_false(listed(f, "172.16.32.1:0/5"));
    rbd_addr v6 = addr("[fd00::]:0/64");
    assert_int_equal(rbd_store_blocklist_add(f->s, &v6, true, -1, NULL), 0);
    assert_true(listed(f, "[fd00::1234]:0/5"));
    assert_false(listed(f, "[fd01::1]:0/5"));
    /* a range that is not a CIDR */
    rbd_addr port = addr("10.5.0.0:80/24");
    assert_int_equal(rbd_store_blocklist_add(f->s, &port, true, -1, NULL), -EINVAL);
    json_t *l = rbd_store_blocklist_list(f->s);
    assert_int_equal(json_array_size(l), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "range")),
                        "10.1.2.0:0/24");
    json_decref(l);
}

static void test_blocklist_expiry(void **state)
{
    fx *f = *state;
    rbd_addr a = addr("10.0.0.7");
    assert_int_equal(rbd_store_blocklist_add(f->s, &a, false, 10 * S, NULL), 0);
    clock_test_advance(f->clock, 9 * S);
    assert_true(listed(f, "10.0.0.7:0/3"));
    clock_test_advance(f->clock, 1 * S);
    assert_false(listed(f, "10.0.0.7:0/3"));
    json_t *l = rbd_store_blocklist_list(f->s);
    assert_int_equal(json_array_size(l), 0);
    json_decref(l);
    /* re-adding renews the expiry of the same entry */
    assert_int_equal(rbd_store_blocklist_add(f->s, &a, false, 10 * S, NULL), 0);
    clock_test_advance(f->clock, 5 * S);
    assert_int_equal(rbd_store_blocklist_add(f->s, &a, false, 10 * S, NULL), 0);
    clock_test_advance(f->clock, 6 * S);
    assert_true(listed(f, "10.0.0.7:0/3"));
    l = rbd_store_blocklist_list(f->s);
    assert_int_equal(json_array_size(l), 1);
    json_decref(l);
}

static void test_blocklisted_client_fenced(void **state)
{
    fx *f = *state;
    uint64_t id = 0, cookie = 0;
    assert_int_equal(rbd_store_client_new(f->s, "10.0.0.8", 555, RBD_CLIENT_LIBRBD, NULL, &id), 0);
    assert_int_equal(rbd_store_watch_add(f->s, "rbd", "", "img", id, 0, &cookie), 0);
    assert_int_equal(cookie, 1);
    assert_int_equal(rbd_store_client_check(f->s, id), 0);
    rbd_addr a = addr("10.0.0.8");
    assert_int_equal(rbd_store_blocklist_add(f->s, &a, false, -1, NULL), 0);
    /* its next operation fails like a fenced client's, its watch is gone */
    assert_int_equal(rbd_store_client_check(f->s, id), -RBD_EBLOCKLISTED);
    assert_int_equal(rbd_store_watch_add(f->s, "rbd", "", "img", id, 0, NULL), -RBD_EBLOCKLISTED);
    int r;
    json_t *im = rbd_store_image_get(f->s, "rbd", "", "img", &r);
    assert_int_equal(json_array_size(json_object_get(im, "watchers")), 0);
    json_decref(im);
}

/* ---- watchers -------------------------------------------------------------- */

static size_t nwatchers(fx *f)
{
    int r;
    json_t *im = rbd_store_image_get(f->s, "rbd", "", "img", &r);
    assert_int_equal(r, 0);
    size_t n = json_array_size(json_object_get(im, "watchers"));
    json_decref(im);
    return n;
}

static void test_watcher_expires_after_death(void **state)
{
    fx *f = *state;
    uint64_t id = 0;
    assert_int_equal(rbd_store_client_new(f->s, "10.0.0.9", 0, RBD_CLIENT_KRBD, NULL, &id), 0);
    assert_int_equal(rbd_store_watch_add(f->s, "rbd", "", "img", id, 0, NULL), 0);
    clock_test_advance(f->clock, 3600 * S); /* alive: the watch stays */
    assert_int_equal(nwatchers(f), 1);
    assert_int_equal(rbd_store_client_dead(f->s, id), 0);
    clock_test_advance(f->clock, 29 * S); /* node just died: still there */
    assert_int_equal(nwatchers(f), 1);
    clock_test_advance(f->clock, 1 * S); /* 30 s: osd_client_watch_timeout */
    assert_int_equal(nwatchers(f), 0);
    /* alive again does not bring the watch back */
    assert_int_equal(rbd_store_client_alive(f->s, id), 0);
    assert_int_equal(nwatchers(f), 0);
}

static void test_watch_timeout_configurable_and_node(void **state)
{
    (void)state;
    efk_clock *c = clock_test_new(0, INT64_C(1488443206) * S);
    rbd_store_config cfg = {.clock = c, .watch_timeout_ns = 5 * S};
    rbd_store *s = rbd_store_new(&cfg);
    assert_int_equal(rbd_store_pool_add(s, "p"), 0);
    rbd_image_spec spec = {.size = 1 << 20};
    assert_int_equal(rbd_store_image_create(s, "p", "", "i", &spec), 0);
    uint64_t a = 0, b = 0, other = 0;
    assert_int_equal(rbd_store_client_new(s, "10.0.0.1", 0, RBD_CLIENT_LIBRBD, NULL, &a), 0);
    assert_int_equal(rbd_store_client_new(s, "10.0.0.1", 0, RBD_CLIENT_LIBRBD, NULL, &b), 0);
    assert_int_equal(rbd_store_client_new(s, "10.0.0.2", 0, RBD_CLIENT_LIBRBD, NULL, &other), 0);
    assert_int_equal(rbd_store_watch_add(s, "p", "", "i", a, 7, NULL), 0);
    assert_int_equal(rbd_store_watch_add(s, "p", "", "i", b, 0, NULL), 0);
    assert_int_equal(rbd_store_watch_add(s, "p", "", "i", other, 0, NULL), 0);
    assert_int_equal(rbd_store_node_dead(s, "10.0.0.1"), 2);
    clock_test_advance(c, 4 * S);
    int r;
    json_t *im = rbd_store_image_get(s, "p", "", "i", &r);
    assert_int_equal(json_array_size(json_object_get(im, "watchers")), 3);
    json_decref(im);
    clock_test_advance(c, 1 * S);
    im = rbd_store_image_get(s, "p", "", "i", &r);
    json_t *w = json_object_get(im, "watchers");
    assert_int_equal(json_array_size(w), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(w, 0), "client")),
                     (json_int_t)other);
    json_decref(im);
    rbd_store_free(s);
    clock_test_free(c);
}

static void test_closed_client_unwatches_and_rm_busy(void **state)
{
    fx *f = *state;
    uint64_t id = 0;
    assert_int_equal(rbd_store_client_new(f->s, "10.0.0.3", 0, RBD_CLIENT_LIBRBD, NULL, &id), 0);
    assert_int_equal(rbd_store_watch_add(f->s, "rbd", "", "img", id, 0, NULL), 0);
    assert_int_equal(rbd_store_image_remove(f->s, "rbd", "", "img"), -EBUSY);
    assert_int_equal(rbd_store_client_close(f->s, id), 0);
    assert_int_equal(nwatchers(f), 0);
    assert_int_equal(rbd_store_client_check(f->s, id), -ENOENT);
    assert_int_equal(rbd_store_image_remove(f->s, "rbd", "", "img"), 0);
    assert_int_equal(rbd_store_image_remove(f->s, "rbd", "", "img"), -ENOENT);
}

/* ---- managed lock, mappings, clients ----------------------------------------- */

static void test_managed_lock_on_write(void **state)
{
    fx *f = *state;
    uint64_t a = 0, b = 0;
    assert_int_equal(rbd_store_client_new(f->s, "10.0.0.1", 0, RBD_CLIENT_LIBRBD, NULL, &a), 0);
    assert_int_equal(rbd_store_client_new(f->s, "10.0.0.2", 0, RBD_CLIENT_LIBRBD, NULL, &b), 0);
    assert_int_equal(rbd_store_image_write(f->s, "rbd", "", "img", a), -ENOTCONN);
    assert_int_equal(rbd_store_watch_add(f->s, "rbd", "", "img", a, 140737488355328ULL, NULL), 0);
    assert_int_equal(rbd_store_watch_add(f->s, "rbd", "", "img", b, 0, NULL), 0);
    assert_int_equal(rbd_store_image_write(f->s, "rbd", "", "img", a), 0);
    assert_int_equal(rbd_store_image_write(f->s, "rbd", "", "img", a), 0);
    assert_int_equal(rbd_store_image_write(f->s, "rbd", "", "img", b), -EBUSY);
    int r;
    json_t *l = rbd_store_lock_get(f->s, "rbd", "", "img", &r);
    assert_string_equal(json_string_value(json_object_get(l, "tag")), "internal");
    json_t *lk = json_array_get(json_object_get(l, "lockers"), 0);
    assert_string_equal(json_string_value(json_object_get(lk, "cookie")), "auto 140737488355328");
    json_decref(l);
}

static void test_clients_ids_and_mappings(void **state)
{
    fx *f = *state;
    rbd_store_set_next_client_id(f->s, 24128);
    uint64_t id = 0;
    assert_int_equal(
        rbd_store_client_new(f->s, "10.47.136.60", 1864102866, RBD_CLIENT_CLI, NULL, &id), 0);
    assert_int_equal(id, 24128);
    int r;
    json_t *c = rbd_store_client_get(f->s, id, &r);
    assert_string_equal(json_string_value(json_object_get(c, "address")),
                        "10.47.136.60:0/1864102866");
    json_decref(c);
    assert_int_equal(rbd_store_client_new(f->s, "not-an-ip", 0, RBD_CLIENT_CLI, NULL, &id),
                     -EINVAL);
    int dev = -1;
    uint64_t krbd = 0;
    assert_int_equal(rbd_store_map(f->s, "10.0.0.1", "rbd", "", "img", NULL, false, &dev, &krbd),
                     0);
    assert_int_equal(dev, 0);
    assert_int_equal(rbd_store_map(f->s, "10.0.0.1", "rbd", "", "img", NULL, true, &dev, NULL), 0);
    assert_int_equal(dev, 1);
    assert_int_equal(rbd_store_map(f->s, "10.0.0.2", "rbd", "", "img", NULL, false, &dev, NULL), 0);
    assert_int_equal(dev, 0); /* device numbers are per node */
    assert_int_equal(nwatchers(f), 3);
    json_t *m = rbd_store_mappings(f->s, "10.0.0.1");
    assert_int_equal(json_array_size(m), 2);
    json_decref(m);
    assert_int_equal(rbd_store_unmap(f->s, "10.0.0.1", 0, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(rbd_store_unmap(f->s, "10.0.0.1", 0, NULL, NULL, NULL, NULL), -ENOENT);
    assert_int_equal(rbd_store_unmap(f->s, "10.0.0.2", -1, "rbd", "", "img", NULL), 0);
    assert_int_equal(nwatchers(f), 1);
    assert_int_equal(rbd_store_map(f->s, "10.0.0.1", "rbd", "", "nope", NULL, false, &dev, NULL),
                     -ENOENT);
}

static void test_namespaces_and_list_order(void **state)
{
    fx *f = *state;
    rbd_image_spec v1 = {.size = 1 << 20, .format = 1};
    rbd_image_spec v2 = {.size = 1 << 20};
    assert_int_equal(rbd_store_image_create(f->s, "rbd", "", "zeta", &v1), 0);
    assert_int_equal(rbd_store_image_create(f->s, "rbd", "", "alpha", &v2), 0);
    assert_int_equal(rbd_store_image_create(f->s, "rbd", "", "beta", &v1), 0);
    assert_int_equal(rbd_store_image_create(f->s, "rbd", "", "alpha", &v2), -EEXIST);
    assert_int_equal(rbd_store_image_create(f->s, "rbd", "ns", "x", &v2), -ENOENT);
    assert_int_equal(rbd_store_ns_add(f->s, "rbd", "ns"), 0);
    assert_int_equal(rbd_store_ns_add(f->s, "rbd", "ns"), -EEXIST);
    assert_int_equal(rbd_store_image_create(f->s, "rbd", "ns", "x", &v2), 0);
    int r;
    json_t *l = rbd_store_image_list(f->s, "rbd", "", &r);
    assert_int_equal(r, 0);
    const char *want[] = {"beta", "zeta", "alpha", "img"}; /* format 1 first, each by name */
    assert_int_equal(json_array_size(l), 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(l, i), "name")),
                            want[i]);
    json_decref(l);
    l = rbd_store_image_list(f->s, "rbd", "ns", &r);
    assert_int_equal(json_array_size(l), 1);
    json_decref(l);
    assert_null(rbd_store_image_list(f->s, "rbd", "other", &r));
    assert_int_equal(r, -ENOENT);
}

static void test_audit_ring(void **state)
{
    (void)state;
    rbd_store_config cfg = {.audit_cap = 3};
    rbd_store *s = rbd_store_new(&cfg);
    for (int i = 0; i < 5; i++)
        rbd_store_audit_add(s, json_pack("{s:i}", "n", i));
    uint64_t last = 0, dropped = 0;
    rbd_store_audit_stats(s, &last, &dropped);
    assert_int_equal(last, 5);
    assert_int_equal(dropped, 2);
    json_t *a = rbd_store_audit_list(s, 3);
    assert_int_equal(json_array_size(a), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0), "n")), 3);
    json_decref(a);
    rbd_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exclusive_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tag_checked_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_break_exact_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_image_and_bad_input, setup, teardown),
        cmocka_unit_test(test_entity_parse_strict),
        cmocka_unit_test_setup_teardown(test_blocklist_exact_and_any, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocklist_cidr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocklist_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocklisted_client_fenced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watcher_expires_after_death, setup, teardown),
        cmocka_unit_test(test_watch_timeout_configurable_and_node),
        cmocka_unit_test_setup_teardown(test_closed_client_unwatches_and_rm_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_managed_lock_on_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clients_ids_and_mappings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespaces_and_list_order, setup, teardown),
        cmocka_unit_test(test_audit_ring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
