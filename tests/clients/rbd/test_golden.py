"""Golden outputs per release persona: every case of golden/cases.txt run with
the real executables against golden/seed.json (time frozen), compared byte
for byte with golden/<release>/<case>.out (stdout) and .err (stderr).

  test_golden.py [--update] [RELEASE...]

--update rewrites the expected files from the current tools (for review in
the diff, never blindly)."""
import json
import os
import sys

from rbdfake import Server, check, finish

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")
RELEASES = ["jewel", "luminous", "mimic", "nautilus", "pacific", "reef"]

update = "--update" in sys.argv
wanted = [a for a in sys.argv[1:] if not a.startswith("--")] or RELEASES
seed = json.load(open(os.path.join(GOLDEN, "seed.json")))
cases = []
for line in open(os.path.join(GOLDEN, "cases.txt")):
    if line.strip() and not line.startswith("#"):
        name, cmd = line.split(None, 1)
        cases.append((name, cmd.split()))


def read(path):
    return open(path, "rb").read() if os.path.exists(path) else b""


for rel in wanted:
    cfg = dict(seed, release=rel)
    srv = Server(cfg, frozen=True)
    spelling = "blocklist" if rel in ("pacific", "quincy", "reef") else "blacklist"
    os.makedirs(os.path.join(GOLDEN, rel), exist_ok=True)
    try:
        for name, cmd in cases:
            argv = [a.replace("{bl}", spelling) for a in cmd]
            rc, out, err = srv.run(*argv, node="10.99.0.1")
            base = os.path.join(GOLDEN, rel, name)
            if update:
                open(base + ".out", "wb").write(out)
                if err:
                    open(base + ".err", "wb").write(err)
                elif os.path.exists(base + ".err"):
                    os.remove(base + ".err")
            check(rc == 0, "%s %s: exit %d" % (rel, name, rc))
            check(out == read(base + ".out"), "%s %s: stdout %r" % (rel, name, out))
            check(err == read(base + ".err"), "%s %s: stderr %r" % (rel, name, err))
    finally:
        srv.stop()
finish()
