"""Faults and failure modes with the real executables: a command that fails,
hangs, or prints half its output; a slow store; an unreachable monitor (no
store listening); a node that dies (its watch expires after 30 s of the
store's frozen clock); a fenced node."""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import harness  # noqa: E402
from rbdfake import Server, add_fault, check, clear_faults, finish

srv = Server({"release": "nautilus", "pools": [{"name": "rbd", "images": [
    {"name": "img", "size": "1G"}]}]}, frozen=True)


def wait_for(cond, what, deadline_s=30):
    """harness.wait_for, with a timeout counted as a failed check."""
    try:
        return bool(harness.wait_for(cond, deadline_s, what))
    except AssertionError as e:
        return check(False, str(e))


try:
    # a command failing with a chosen errno and message
    add_fault(srv, {"match": {"path": "/rbd/v1/op/invoke", "body": "rbd status"},
                    "action": "rbd_fail", "times": 1,
                    "params": {"errno": 110, "stderr": "rbd: show status failed: (110) "
                               "Connection timed out\n"}})
    rc, out, err = srv.run("rbd", "status", "img")
    check((rc, out, err) == (110, b"", b"rbd: show status failed: (110) Connection timed out\n"),
          "rbd_fail: %r" % ((rc, out, err),))
    rc, out, err = srv.run("rbd", "status", "img")
    check((rc, out) == (0, b"Watchers: none\n"), "after the fault: %r" % ((rc, out, err),))

    # a slow store (generic delay) still answers
    add_fault(srv, {"match": {"path": "/rbd/v1/op/image_get"}, "delay": "200ms", "times": 1})
    rc, out, err = srv.run("rbd", "info", "img", "--format", "json")
    check(rc == 0 and out.startswith(b'{"name":"img"'), "slow info: %r" % ((rc, out, err),))

    # a hanging command: it prints, then never returns until killed
    add_fault(srv, {"id": "hang", "match": {"path": "/rbd/v1/op/invoke", "body": "lock ls"},
                    "action": "rbd_hang", "params": {"stderr": "waiting for the monitor\n"}})
    p = srv.popen("rbd", "lock", "ls", "img")
    wait_for(lambda: any(e.get("event") == "exit" and e.get("hang") for e in srv.audit()),
             "the hanging command's report")
    check(p.poll() is None, "the hanging rbd exited")
    p.kill()
    out, err = p.communicate(timeout=30)
    check(p.returncode == -9 and err == b"waiting for the monitor\n", "hang: %r" % err)
    clear_faults(srv)

    # partial output: the first 41 bytes of the table
    srv.run("rbd", "lock", "add", "img", "kubelet_lock_magic_n1", node="10.0.0.1")
    add_fault(srv, {"match": {"path": "/rbd/v1/op/invoke", "body": "lock ls"},
                    "action": "rbd_partial", "params": {"bytes": 41, "exit": 141}, "times": 1})
    rc, out, err = srv.run("rbd", "lock", "ls", "img")
    check((rc, out) == (141, b"There is 1 exclusive lock on this image.\n"),
          "partial: %r" % ((rc, out),))

    # auth failure
    add_fault(srv, {"match": {"path": "/rbd/v1/op/invoke"}, "action": "rbd_auth_error",
                    "params": {}, "times": 2})
    rc, out, err = srv.run("rbd", "lock", "ls", "img")
    check(rc == 1 and err.endswith(b" -1 librados: client.admin authentication error (1) "
                                   b"Operation not permitted\nrbd: couldn't connect to the "
                                   b"cluster!\n"), "auth rbd: %r" % err)
    rc, out, err = srv.run("ceph", "osd", "blacklist", "ls")
    check(rc == 1 and err.endswith(b"[errno 1] RADOS permission error (error connecting to the "
                                   b"cluster)\n"), "auth ceph: %r" % err)

    # -m with a loopback monitor reaches the store without EFKSIM_RBD_MON
    rc, out, err = srv.run("rbd", "-m", srv.mon, "ls", extra={"EFKSIM_RBD_MON": ""})
    check((rc, out) == (0, b"img\n"), "-m loopback: %r" % ((rc, out, err),))

    # so does a ceph.conf's mon host given with -c
    import tempfile  # noqa: E402
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as conf:
        conf.write("[global]\n\tfsid = 1\n\tmon host = %s\n" % srv.mon)
        conf.flush()
        rc, out, err = srv.run("rbd", "-c", conf.name, "ls", extra={"EFKSIM_RBD_MON": ""})
        check((rc, out) == (0, b"img\n"), "ceph.conf mon host: %r" % ((rc, out, err),))

    # the node dies: its mapping's watch lingers 30 s, then goes
    rc, out, err = srv.run("rbd", "map", "img", node="10.16.153.105")
    check((rc, out) == (0, b"/dev/rbd0\n"), "map: %r" % ((rc, out, err),))
    rc, out, err = srv.run("rbd", "status", "img")
    check(out.startswith(b"Watchers:\n\twatcher=10.16.153.105:0/") and
          out.endswith(b" cookie=1\n"), "status with the mapping: %r" % out)
    srv.op("node_dead", {"node": "10.16.153.105"})
    srv.advance("29s")
    rc, out, err = srv.run("rbd", "status", "img")
    check(b"watcher=10.16.153.105" in out, "watch gone too early: %r" % out)
    srv.advance("1s")
    rc, out, err = srv.run("rbd", "status", "img")
    check(out == b"Watchers: none\n", "watch not expired: %r" % out)

    # a fenced node fails like a fenced client
    rc, out, err = srv.run("ceph", "osd", "blacklist", "add", "10.0.0.1")
    check(rc == 0 and err.startswith(b"blacklisting 10.0.0.1:0/0 until 2017-03-02 "),
          "blacklist add: %r" % err)
    rc, out, err = srv.run("rbd", "lock", "ls", "img", node="10.0.0.1")
    check((rc, err) == (108, b"rbd: error opening image img: (108) Cannot send after transport "
                             b"endpoint shutdown\n"), "fenced: %r" % ((rc, err),))
finally:
    srv.stop()

# nothing listening: the tools wait client_mount_timeout, then give up
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
from rbdfake import BIN  # noqa: E402
import subprocess  # noqa: E402
env = {"PATH": BIN + os.pathsep + "/usr/bin:/bin", "EFKSIM_RBD_MON": "127.0.0.1:%d" % port,
       "EFKSIM_RBD_RELEASE": "jewel"}
p = subprocess.run(["rbd", "lock", "ls", "img", "--client_mount_timeout", "1"], env=env,
                   capture_output=True, timeout=60)
check(p.returncode == 110 and b"monclient(hunting): authenticate timed out after 1\n" in p.stderr
      and p.stderr.endswith(b"rbd: couldn't connect to the cluster!\n"),
      "unreachable rbd: %r" % ((p.returncode, p.stderr),))
env["EFKSIM_RBD_MOUNT_TIMEOUT"] = "1s"
p = subprocess.run(["ceph", "osd", "blacklist", "ls"], env=env, capture_output=True, timeout=60)
check(p.returncode == 1 and p.stderr.endswith(b"[errno 110] error connecting to the cluster\n"),
      "unreachable ceph: %r" % ((p.returncode, p.stderr),))
# and a parse error needs no monitor at all
p = subprocess.run(["rbd", "lock", "add", "img"], env=env, capture_output=True, timeout=60)
check((p.returncode, p.stderr) == (22, b"rbd: lock id was not specified\n"),
      "parse error offline: %r" % ((p.returncode, p.stderr),))
finish()
