"""Drive efksim's fakes from the programs-under-test tests: the fake API
server through its test server (tests/clients/apiserver/apis_serve.c: a work
dir, "efksim: ready URL ENVFILE", commands on stdin)."""

import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import harness  # noqa: E402
from harness import wait_for  # noqa: E402,F401  (the tests use fakes.wait_for)


class Apiserver(harness.Fake):
    """harness.Fake started at once and stopped by the test's cleanup."""

    def __init__(self, test, binary, section):
        super().__init__(binary, config=section)
        self.__enter__()
        test.addCleanup(self.stop)
        self.workdir = self.dir

    def command(self, line):
        return self.cmd(line)

    def sa_dir(self, name):
        return self.identity_dir(name)

    def paths(self):
        return [e["path"] for e in self.journal()]

    def stop(self):
        if self.proc is not None:
            self.__exit__(None, None, None)
            self.proc = None


def clean_env(extra):
    """A minimal environment: no CA bundle variables, so clients get the
    test CA only explicitly."""
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": tempfile.gettempdir(), "HOME": "/nonexistent"}
    env.update(extra)
    return env
