"""Drive efksim's fakes from the programs-under-test tests: the fake API
server through its test server (tests/clients/apiserver/apis_serve.c: a work
dir, "efksim: ready URL ENVFILE", commands on stdin)."""

import json
import os
import shlex
import subprocess
import tempfile
import time


def wait_for(cond, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("timed out after %gs waiting for %s" % (timeout, what))


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export "):
                k, _, v = line[7:].partition("=")
                env[k] = shlex.split(v)[0] if v else ""
    return env


class Apiserver:
    def __init__(self, test, binary, section):
        self.tmp = tempfile.TemporaryDirectory(prefix="efk-sut-apis-")
        test.addCleanup(self.tmp.cleanup)
        self.workdir = os.path.join(self.tmp.name, "work")
        cfg = os.path.join(self.tmp.name, "apiserver.json")
        with open(cfg, "w") as f:
            json.dump(section, f)
        self.proc = subprocess.Popen([binary, "--workdir", self.workdir, "--config", cfg],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        test.addCleanup(self.stop)
        line = self.proc.stdout.readline()
        if not line.startswith("efksim: ready "):
            raise AssertionError("apis_serve did not start: %r %s" % (line, self.proc.stderr.read()))
        _, _, self.url, envfile = line.split()
        self.env = read_env(envfile)

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply.startswith("ok"):
            raise AssertionError("apis_serve %r: %s" % (line, reply))
        return reply

    def sa_dir(self, name):
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
        return os.path.join(self.workdir, "identities", safe)

    def journal(self):
        path = os.path.join(self.workdir, "journal", "apiserver.ndjson")
        try:
            with open(path) as f:
                return [json.loads(l) for l in f if l.strip()]
        except FileNotFoundError:
            return []

    def paths(self):
        return [e["path"] for e in self.journal()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()


def clean_env(extra):
    """A minimal environment: no CA bundle variables, so clients get the
    test CA only explicitly."""
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": tempfile.gettempdir(), "HOME": "/nonexistent"}
    env.update(extra)
    return env
