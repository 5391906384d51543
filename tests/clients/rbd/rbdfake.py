"""Helpers for the rbd client tests: start rbd_testserver, run the real
`rbd`/`ceph` executables of the build against it, read its audit log."""
import json
import os
import subprocess
import sys
import urllib.request

BUILD = os.environ.get("EFKSIM_BUILD_DIR")
if not BUILD:
    sys.exit("EFKSIM_BUILD_DIR is not set (run through ctest)")
BIN = os.path.join(BUILD, "bin")

# 2017-03-02 08:26:46.500123 UTC: the day of the field report
FROZEN = 1488443206500123000


class Server:
    """rbd_testserver with a fakes.rbd config; stdin kept open (its EOF stops it)."""

    def __init__(self, config, frozen=False, seed=1):
        args = [os.path.join(BIN, "rbd_testserver"), "-c", json.dumps(config), "-s", str(seed)]
        if frozen:
            args += ["-T", str(FROZEN)]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        first = self.proc.stdout.readline().strip()
        ready = self.proc.stdout.readline().strip()
        if not first.startswith("EFKSIM_RBD_MON=") or ready != "ready":
            raise RuntimeError("rbd_testserver did not start: %r %r" % (first, ready))
        self.mon = first.split("=", 1)[1]

    def env(self, node=None, nonce=None, extra=None):
        e = {"PATH": BIN + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
             "EFKSIM_RBD_MON": self.mon, "LC_ALL": "C"}
        if node:
            e["EFKSIM_NODE_IP"] = node
        if nonce:
            e["EFKSIM_RBD_NONCE"] = str(nonce)
        if extra:
            e.update(extra)
        return e

    def run(self, *argv, node=None, nonce=None, extra=None):
        """Run a tool; returns (exit, stdout bytes, stderr bytes)."""
        p = subprocess.run(list(argv), env=self.env(node, nonce, extra), capture_output=True,
                           timeout=120)
        return p.returncode, p.stdout, p.stderr

    def popen(self, *argv, node=None, nonce=None, extra=None):
        return subprocess.Popen(list(argv), env=self.env(node, nonce, extra),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def op(self, name, body):
        req = urllib.request.Request("http://%s/rbd/v1/op/%s" % (self.mon, name),
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def get(self, path):
        with urllib.request.urlopen("http://%s%s" % (self.mon, path), timeout=30) as r:
            return json.loads(r.read())

    def audit(self):
        return self.get("/rbd/v1/audit")["entries"]

    def advance(self, duration):
        self.proc.stdin.write("advance %s\n" % duration)
        self.proc.stdin.flush()
        if self.proc.stdout.readline().strip() != "ok":
            raise RuntimeError("advance failed")

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)
    return cond


def finish():
    if failures:
        print("%d check(s) failed" % failures)
        sys.exit(1)
    print("ok")


def add_fault(srv, rule):
    """POST /_efksim/faults on the store (never faulted or journaled itself)."""
    req = urllib.request.Request("http://%s/_efksim/faults" % srv.mon,
                                 data=json.dumps(rule).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def clear_faults(srv):
    req = urllib.request.Request("http://%s/_efksim/faults" % srv.mon, method="DELETE")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status
