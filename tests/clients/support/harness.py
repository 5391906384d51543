"""Start apis_serve (the fake API server alone) for a client test, shared by
the apiserver client tests and the programs-under-test tests.

    with Fake(serve_bin, config={...}) as fake:
        fake.env["KUBECONFIG"], fake.url, fake.cmd("reject bot"), fake.dir

The server runs in its own work dir under a fresh temp dir; it stops when
its stdin closes (so it dies with the test). Waiting is always on a
condition with a deadline, never a bare sleep.
"""
import json
import os
import select
import shlex
import shutil
import subprocess
import tempfile
import time


class Fake:
    def __init__(self, serve_bin, config=None, sets=None):
        self.serve_bin = serve_bin
        self.config = config or {}
        self.sets = sets or {}
        self.tmp = tempfile.mkdtemp(prefix="efksim-apis-")
        self.dir = os.path.join(self.tmp, "work")
        self.proc = None
        self.env = {}
        self.url = None

    def __enter__(self):
        cfg = os.path.join(self.tmp, "apiserver.json")
        with open(cfg, "w") as f:
            json.dump(self.config, f)
        argv = [self.serve_bin, "--workdir", self.dir, "--config", cfg]
        for k, v in self.sets.items():
            argv += ["--set", "%s=%s" % (k, json.dumps(v))]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(os.path.join(self.tmp, "serve.err"), "w"),
                                     text=True, bufsize=1)
        line = self._readline(10)
        if not line.startswith("efksim: ready "):
            raise RuntimeError("apis_serve did not start: %r %s" % (
                line, open(os.path.join(self.tmp, "serve.err")).read()))
        _, _, self.url, envfile = line.split()
        self.env = read_env(envfile)
        return self

    def _readline(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if r:
                return self.proc.stdout.readline().rstrip("\n")
            if self.proc.poll() is not None:
                return ""
        raise TimeoutError("no answer from apis_serve")

    def cmd(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self._readline(10)
        if not reply.startswith("ok"):
            raise RuntimeError("%s -> %s" % (line, reply))
        return reply[3:] if len(reply) > 3 else ""

    def identity_dir(self, name):
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
        return os.path.join(self.dir, "identities", safe)

    def journal(self):
        path = os.path.join(self.dir, "journal", "apiserver.ndjson")
        if not os.path.exists(path):
            return []
        return [json.loads(l) for l in open(path) if l.strip()]

    def __exit__(self, *exc):
        if self.proc:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            if self.proc.returncode != 0 and exc[0] is None:
                err = open(os.path.join(self.tmp, "serve.err")).read()
                raise RuntimeError("apis_serve exited %d:\n%s" % (self.proc.returncode, err))
        if exc[0] is None:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print("kept work dir for inspection: " + self.tmp)
        return False


def read_env(path):
    """The variables of an env file of `export NAME='value'` lines."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export "):
                k, _, v = line[7:].partition("=")
                env[k] = shlex.split(v)[0] if v else ""
    return env


def wait_for(cond, timeout=20.0, what="condition"):
    """cond()'s first true value, polled until `timeout` seconds pass."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("timed out after %gs waiting for %s" % (timeout, what))


class Checks:
    """Counts checks so the test ends with 'N passed, N failed'."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print("ok - " + what)
        else:
            self.failed += 1
            print("not ok - " + what + ("\n    " + str(detail).replace("\n", "\n    ")
                                        if detail else ""))
        return cond

    def done(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 0 if self.failed == 0 and self.passed > 0 else 1
