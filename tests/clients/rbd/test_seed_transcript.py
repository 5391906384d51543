"""The field report (../shared/seed) on the Jewel persona, with the real
executables: node 10.47.136.60 holds the lock of mioss/index-api-image, the
operator lists it and removes it, and a second remove fails with ENOENT.

The report's transcript is a blog post: its blank-trimming editor removed
the trailing space Jewel's TextTable writes after every cell. The tool's
bytes are checked exactly, and checked to equal the transcript once the
trailing blanks are stripped the same way."""
from rbdfake import Server, check, finish

SEED_LIST = (b"There is 1 exclusive lock on this image.\n"
             b"Locker       ID                       Address\n"
             b"client.24128 kubelet_lock_magic_node1 10.47.136.60:0/1864102866\n")
REAL_LIST = (b"There is 1 exclusive lock on this image.\n"
             b"Locker       ID                       Address                   \n"
             b"client.24128 kubelet_lock_magic_node1 10.47.136.60:0/1864102866 \n")

srv = Server({"release": "jewel", "next_client_id": 24128,
              "pools": [{"name": "mioss", "images": [
                  {"name": "index-api-image", "size": "2G", "format": 1,
                   "block_name_prefix": "rb.0.5e36.1befd79f"}]}]})
try:
    # the kubelet on 10.47.136.60 takes the lock the way Kubernetes 1.3 did
    rc, out, err = srv.run("rbd", "lock", "add", "index-api-image", "kubelet_lock_magic_node1",
                           "--pool", "mioss", "--id", "admin", "-m", "10.47.136.1:6789",
                           "--key=AQDx8lhYAAAAABAAxm1v8V4Qp1JmlpDaq0V8KQ==",
                           node="10.47.136.60", nonce=1864102866)
    check(rc == 0 and out == b"" and err == b"", "lock add: %r %r %r" % (rc, out, err))

    # the operator's session (transcript lines start with "# ")
    rc, out, err = srv.run("rbd", "ls", "mioss", node="10.46.181.146")
    check((rc, out, err) == (0, b"index-api-image\n", b""), "rbd ls mioss: %r" % ((rc, out, err),))
    rc, out, err = srv.run("rbd", "info", "mioss/index-api-image", node="10.46.181.146")
    check(out == b"rbd image 'index-api-image':\n\tsize 2048 MB in 512 objects\n"
                 b"\torder 22 (4096 kB objects)\n\tblock_name_prefix: rb.0.5e36.1befd79f\n"
                 b"\tformat: 1\n" and rc == 0, "rbd info: %r" % out)
    rc, out, err = srv.run("rbd", "lock", "list", "mioss/index-api-image", node="10.46.181.146")
    check(rc == 0 and err == b"", "lock list status: %r %r" % (rc, err))
    check(out == REAL_LIST, "lock list bytes: %r" % out)
    stripped = b"".join(l.rstrip(b" ") + b"\n" for l in out.split(b"\n")[:-1])
    check(stripped == SEED_LIST, "lock list vs the transcript: %r" % stripped)

    rc, out, err = srv.run("rbd", "lock", "remove", "mioss/index-api-image",
                           "kubelet_lock_magic_node1", "client.24128", node="10.46.181.146")
    check((rc, out, err) == (0, b"", b""), "lock remove: %r" % ((rc, out, err),))
    rc, out, err = srv.run("rbd", "lock", "list", "mioss/index-api-image", node="10.46.181.146")
    check((rc, out, err) == (0, b"", b""), "no locks left: %r" % ((rc, out, err),))

    rc, out, err = srv.run("rbd", "lock", "remove", "mioss/index-api-image",
                           "kubelet_lock_magic_node1", "client.24128", node="10.46.181.146")
    check(rc == 2 and out == b"" and
          err == b"rbd: releasing lock failed: (2) No such file or directory\n",
          "second remove: %r" % ((rc, out, err),))

    # librbd blocklisted the old locker's address before breaking its lock
    audit = [e for e in srv.audit() if e.get("event") == "op"]
    ops = [(e["op"], e.get("r")) for e in audit]
    check(ops[:3] == [("lock_add", 0), ("blocklist_add", 0), ("lock_break", 0)],
          "audit order: %r" % ops)
    bl = [e for e in audit if e["op"] == "blocklist_add"][0]
    check(bl.get("addr") == "10.47.136.60:0/1864102866", "blocklisted %r" % bl.get("addr"))
    check(bl.get("argv", [])[:2] == ["lock", "remove"], "audit argv %r" % bl.get("argv"))
    rc, out, err = srv.run("ceph", "osd", "blacklist", "ls")
    check(rc == 0 and out.startswith(b"10.47.136.60:0/1864102866 ") and
          err == b"listed 1 entries\n", "blacklist ls: %r" % ((rc, out, err),))
finally:
    srv.stop()
finish()
