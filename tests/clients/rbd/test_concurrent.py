"""Tools running concurrently against one image: the cls_lock conflict rules
hold because each store operation is atomic, as an OSD op on the header
object is. A delay on the lock operations keeps both invocations in flight
at once (how often they overlapped is reported, not asserted: it depends on
the scheduler; the outcome rules are asserted every round)."""
import subprocess

from rbdfake import Server, add_fault, check, clear_faults, finish

IMG = "rbd/img"
ROUNDS = 12
srv = Server({"release": "reef", "pools": [{"name": "rbd", "images": [
    {"name": "img", "size": "1G"}]}]})


def locks():
    return srv.op("lock_list", {"pool": "rbd", "image": "img"})["lock"]


def clear_locks():
    for l in locks()["lockers"]:
        srv.op("lock_break", {"pool": "rbd", "image": "img", "locker": l["locker"],
                              "cookie": l["cookie"]})


def race(cmds):
    """Start every (argv, node) at once; returns [(rc, stdout, stderr)]."""
    procs = [srv.popen(*argv, node=node) for argv, node in cmds]
    res = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        res.append((p.returncode, out, err))
    return res


def overlapped(since):
    """Did both connects happen before the first lock op of this round?"""
    es = [e for e in srv.audit() if e["seq"] > since]
    first_op = min([e["seq"] for e in es if e.get("op") in ("lock_add", "lock_break")] or [0])
    connects = [e for e in es if e.get("event") == "connect" and e["seq"] < first_op]
    return len(connects) >= 2


def last_seq():
    a = srv.audit()
    return a[-1]["seq"] if a else 0


try:
    add_fault(srv, {"id": "slow-locks", "match": {"path": "/rbd/v1/op/lock_*"}, "delay": "50ms"})
    overlaps = 0
    # 1. two nodes take the exclusive lock at once: one wins, the other EBUSY
    for i in range(ROUNDS):
        since = last_seq()
        res = race([(("rbd", "lock", "add", IMG, "kubelet_lock_magic_a"), "10.0.0.1"),
                    (("rbd", "lock", "add", IMG, "kubelet_lock_magic_b"), "10.0.0.2")])
        overlaps += overlapped(since)
        codes = sorted(r[0] for r in res)
        check(codes == [0, 16], "exclusive race %d: exits %r" % (i, codes))
        loser = [r for r in res if r[0] == 16]
        check(loser and loser[0][2] == b"rbd: lock is already held by someone else\n",
              "exclusive race %d: loser said %r" % (i, loser and loser[0][2]))
        held = locks()["lockers"]
        winner = "kubelet_lock_magic_a" if res[0][0] == 0 else "kubelet_lock_magic_b"
        check(len(held) == 1 and held[0]["cookie"] == winner,
              "exclusive race %d: lockers %r" % (i, held))
        clear_locks()
    print("exclusive races that overlapped: %d of %d" % (overlaps, ROUNDS))

    # 2. two shared lockers with the same tag both get in
    res = race([(("rbd", "lock", "add", IMG, "s1", "--shared", "t"), "10.0.0.1"),
                (("rbd", "lock", "add", IMG, "s2", "--shared", "t"), "10.0.0.2")])
    check([r[0] for r in res] == [0, 0], "shared race: %r" % res)
    l = locks()
    check(l["type"] == "shared" and l["tag"] == "t" and len(l["lockers"]) == 2,
          "shared race lockers: %r" % l)
    clear_locks()

    # 3. exclusive against shared: exactly one kind wins
    for i in range(ROUNDS // 2):
        res = race([(("rbd", "lock", "add", IMG, "x"), "10.0.0.1"),
                    (("rbd", "lock", "add", IMG, "s", "--shared", "t"), "10.0.0.2")])
        codes = sorted(r[0] for r in res)
        check(codes == [0, 16], "mixed race %d: %r" % (i, codes))
        l = locks()
        if res[0][0] == 0:
            check(l["type"] == "exclusive" and res[1][2] == b"rbd: lock is already held by "
                  b"someone else with a different tag\n", "mixed race %d: %r %r" % (i, l, res))
        else:
            check(l["type"] == "shared" and res[0][2] ==
                  b"rbd: lock is already held by someone else\n", "mixed race %d: %r" % (i, l))
        clear_locks()

    # 4. eight nodes at once: one exclusive holder
    res = race([(("rbd", "lock", "add", IMG, "n%d" % k), "10.0.1.%d" % k) for k in range(1, 9)])
    codes = sorted(r[0] for r in res)
    check(codes == [0] + [16] * 7, "eight-way race: %r" % codes)
    check(len(locks()["lockers"]) == 1, "eight-way race lockers: %r" % locks())
    clear_locks()

    # 5. two reapers break the same lock: one breaks it, the other gets ENOENT
    for i in range(ROUNDS // 2):
        rc, out, err = srv.run("rbd", "lock", "add", IMG, "kubelet_lock_magic_dead",
                               node="10.0.9.%d" % (i + 1))
        check(rc == 0, "setup %d: %r" % (i, err))
        locker = locks()["lockers"][0]["locker"]
        since = last_seq()
        res = race([(("rbd", "lock", "rm", IMG, "kubelet_lock_magic_dead", locker), "10.0.0.1"),
                    (("rbd", "lock", "rm", IMG, "kubelet_lock_magic_dead", locker), "10.0.0.2")])
        codes = sorted(r[0] for r in res)
        check(codes == [0, 2], "reaper race %d: %r" % (i, res))
        loser = [r for r in res if r[0] == 2]
        check(loser and loser[0][2] ==
              b"rbd: releasing lock failed: (2) No such file or directory\n",
              "reaper race %d: %r" % (i, loser))
        check(locks()["lockers"] == [], "reaper race %d: lock left" % i)
        breaks = [e for e in srv.audit() if e["seq"] > since and e.get("op") == "lock_break"
                  and e.get("r") == 0]
        check(len(breaks) == 1, "reaper race %d: %d successful breaks" % (i, len(breaks)))
    clear_faults(srv)
finally:
    srv.stop()
finish()
