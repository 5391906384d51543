"""Unit tests for fixtures/sut/rbd-lock-reaper.

The reaper's Tools.run is replaced by FakeCli, which answers argv the way
the real `kubectl`, `rbd` and `ceph` print (the layouts of
research/rbd-lock.md: both `rbd lock ls` plain layouts, both JSON shapes,
blocklist vs blacklist), so argv construction and every parser run for real.
Each test is one case of the "Scenarios a lock reaper must be tested
against" list; the end-to-end versions against the fake store run as
scenarios (scenarios/reaper/).
"""

import io
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sutload  # noqa: E402

R = sutload.load("rbd-lock-reaper", "rbd_lock_reaper")

NOW = 1700000000.0
T_OLD = "2023-11-14T20:00:00Z"      # ~53 min before NOW
T_RECENT = "2023-11-14T22:12:00Z"   # 80 s before NOW


def node(name, ip, ready="True", since=T_OLD, hostname=None, taint=False):
    obj = {"metadata": {"name": name,
                        "labels": {"kubernetes.io/hostname": hostname or name}},
           "spec": {},
           "status": {"addresses": [{"type": "InternalIP", "address": ip},
                                    {"type": "Hostname", "address": hostname or name}],
                      "conditions": [{"type": "Ready", "status": ready,
                                      "lastTransitionTime": since}]}}
    if taint:
        obj["spec"]["taints"] = [{"key": "node.kubernetes.io/out-of-service",
                                  "value": "nodeshutdown", "effect": "NoExecute"}]
    return obj


class Img:
    def __init__(self, locks=(), watchers=(), shared_tag=None):
        self.locks = [list(l) for l in locks]       # [id, locker, addr]
        self.watchers = list(watchers)              # [addr]
        self.tag = shared_tag


class FakeCli:
    """The three tools, answering like the real ones of a release."""

    def __init__(self, nodes=(), pools=None, release="reef"):
        self.nodes = list(nodes)
        self.pools = pools or {}
        self.release = release
        self.blocklist = []              # addresses
        self.ops = []                    # mutating operations, in order
        self.calls = []                  # every argv (tool + args, globals dropped)
        self.fail = {}                   # key -> (code, stderr) ; keys below
        self.hooks = {}                  # key -> fn(self) run before answering

    # -- helpers
    def old(self):
        return self.release in ("jewel", "luminous")

    def blword(self):
        return "blacklist" if self.release in ("jewel", "luminous", "mimic", "nautilus",
                                               "octopus") else "blocklist"

    def render_plain(self, img):
        if not img.locks:
            return ""
        n = len(img.locks)
        kind = "shared" if img.tag else "exclusive"
        out = "There %s %d %s lock%s on this image.\n" % ("is" if n == 1 else "are", n, kind,
                                                          "" if n == 1 else "s")
        if img.tag:
            out += "Lock tag: %s\n" % img.tag
        rows = [["Locker", "ID", "Address"]] + [[l[1], l[0], l[2]] for l in
                                                 sorted(img.locks, key=lambda l: (l[1], l[0]))]
        w = [max(len(r[i]) for r in rows) for i in range(3)]
        for r in rows:
            if self.old():
                out += "".join(c.ljust(w[i]) + " " for i, c in enumerate(r)) + "\n"
            else:
                out += "  ".join(c.ljust(w[i]) for i, c in enumerate(r)) + "\n"
        return out

    def render_json(self, img):
        if self.old():
            return json.dumps({l[0]: {"locker": l[1], "address": l[2]} for l in img.locks})
        return json.dumps([{"id": l[0], "locker": l[1], "address": l[2]} for l in img.locks])

    def image(self, spec):
        pool, name = spec.split("/", 1)
        if pool not in self.pools or name not in self.pools[pool]:
            raise R.Failure([], 2, "", "rbd: error opening image %s: (2) No such file or "
                                       "directory\n" % name)
        return self.pools[pool][name]

    def check(self, key):
        if key in self.hooks:
            self.hooks.pop(key)(self)
        if key in self.fail:
            code, err = self.fail[key]
            raise R.Failure([], code, "", err)

    # -- the tools
    def run(self, argv, timeout):
        tool = os.path.basename(argv[0])
        a = list(argv[1:])
        # drop the global options the reaper passes
        while a and a[0] in ("-m", "--id", "--keyring"):
            a = a[2:]
        self.calls.append([tool] + a)
        if tool == "kubectl":
            self.check("nodes")
            return json.dumps({"kind": "List", "apiVersion": "v1", "items": self.nodes}), ""
        if tool == "rbd":
            return self.rbd(a)
        if tool == "ceph":
            return self.ceph(a)
        raise AssertionError("unexpected tool %r" % argv)

    def rbd(self, a):
        if a[:1] == ["ls"]:
            self.check("ls")
            return json.dumps(sorted(self.pools.get(a[-1], {}))), ""
        if a[:2] == ["lock", "ls"]:
            self.check("lock ls")
            img = self.image(a[-1])
            if "--format" in a:
                return self.render_json(img), ""
            return self.render_plain(img), "2023-11-14 did not load config file\n"
        if a[:1] == ["status"]:
            self.check("status")
            img = self.image(a[-1])
            if self.release == "jewel":
                body = ",".join('"watcher":{"address":"%s","client":%d,"cookie":1}'
                                % (w, 4100 + i) for i, w in enumerate(img.watchers))
                return '{"watchers":{%s}}' % body, ""
            return json.dumps({"watchers": [{"address": w, "client": 4100 + i, "cookie": 1}
                                            for i, w in enumerate(img.watchers)]}), ""
        if a[:2] == ["lock", "rm"]:
            spec, lock_id, locker = a[2], a[3], a[4]
            self.check("lock rm")
            img = self.image(spec)
            for l in img.locks:
                if l[0] == lock_id and l[1] == locker:
                    img.locks.remove(l)
                    self.ops.append(("break", spec, lock_id, locker))
                    return "", ""
            raise R.Failure([], 2, "", "rbd: releasing lock failed: (2) No such file or "
                                       "directory\n")
        raise AssertionError("unexpected rbd %r" % a)

    def ceph(self, a):
        if a[:1] != ["osd"] or len(a) < 3:
            raise AssertionError("unexpected ceph %r" % a)
        word, verb = a[1], a[2]
        if word != self.blword():
            raise R.Failure([], 22, "", "no valid command found; 10 closest matches:\n...\n"
                                        "Error EINVAL: invalid command\n")
        if verb == "ls":
            self.check("bl ls")
            return "\n" + json.dumps([{"addr": b, "until": "2023-11-15T22:13:20.000000+0000"}
                                      for b in self.blocklist]), \
                "listed %d entries\n" % len(self.blocklist)
        if verb == "add":
            self.check("bl add")
            self.blocklist.append(a[3])
            self.ops.append(("blocklist", a[3], a[4]))
            return "", "%sing %s until 2023-11-15T22:13:20 (%s sec)\n" % (word, a[3], a[4])
        if verb == "rm":
            self.check("bl rm")
            if a[3] in self.blocklist:
                self.blocklist.remove(a[3])
                self.ops.append(("unblocklist", a[3]))
                return "", "un-%sing %s\n" % (word, a[3])
            return "", "%s isn't %sed\n" % (a[3], word)
        raise AssertionError("unexpected ceph %r" % a)


SEED_LOCK = ("kubelet_lock_magic_node1", "client.24128", "10.47.136.60:0/1864102866")


def reap(cli, *argv, clock=None):
    out, err = io.StringIO(), io.StringIO()
    args = R.parse_args(list(argv))
    log = R.Log(out, err, clock or (lambda: NOW))
    tools = R.Tools(args, log)
    tools.run = cli.run
    code = R.main(list(argv), clock=clock or (lambda: NOW), sleep=lambda s: None,
                  tools=tools, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def decisions(out):
    res = []
    for line in out.splitlines():
        parts = dict(p.split("=", 1) for p in line.split(" ")[1:] if "=" in p)
        res.append((parts["decision"], parts.get("reason")))
    return res


class Parsers(unittest.TestCase):
    def test_plain_both_layouts_and_ids_with_spaces(self):
        for rel in ("jewel", "reef"):
            cli = FakeCli(release=rel)
            img = Img([SEED_LOCK, ("auto 139763228736640", "client.4157",
                                   "10.0.0.5:0/3112")])
            text = cli.render_plain(img)
            self.assertEqual(sorted(R.parse_locks_plain("noise line\n" + text)),
                             sorted([SEED_LOCK, ("auto 139763228736640", "client.4157",
                                                 "10.0.0.5:0/3112")]))
        legacy = FakeCli(release="jewel").render_plain(Img([SEED_LOCK]))
        # the seed's table, byte for byte (Jewel: a space after every cell)
        self.assertEqual(legacy, "There is 1 exclusive lock on this image.\n"
                                 "Locker       ID                       Address                   \n"
                                 "client.24128 kubelet_lock_magic_node1 10.47.136.60:0/1864102866 \n")
        self.assertEqual(R.parse_locks_plain(""), [])
        with self.assertRaises(ValueError):
            R.parse_locks_plain("There is 1 exclusive lock on this image.\n")

    def test_json_shapes(self):
        arr = '[{"id":"a b","locker":"client.1","address":"1.2.3.4:0/5"}]'
        self.assertEqual(R.parse_locks_json(arr), [("a b", "client.1", "1.2.3.4:0/5")])
        obj = '{"kubelet_lock_magic_n":{"locker":"client.2","address":"1.2.3.4:0/6"}}'
        self.assertEqual(R.parse_locks_json(obj),
                         [("kubelet_lock_magic_n", "client.2", "1.2.3.4:0/6")])
        self.assertEqual(R.parse_locks_json("[]"), [])
        self.assertEqual(R.parse_locks_json("{}"), [])
        with self.assertRaises(ValueError):
            R.parse_locks_json("rbd: too many positional arguments")

    def test_watchers_shapes(self):
        self.assertEqual(R.parse_watchers_json('{"watchers":[{"address":"1.2.3.4:0/9",'
                                               '"client":1,"cookie":1}]}'), ["1.2.3.4:0/9"])
        self.assertEqual(R.parse_watchers_json(
            '{"watchers":{"watcher":{"address":"a:0/1"},"watcher":{"address":"b:0/2"}}}'),
            ["a:0/1", "b:0/2"])
        self.assertEqual(R.parse_watchers_plain("Watchers: none\n"), [])
        self.assertEqual(R.parse_watchers_plain(
            "Watchers:\n\twatcher=10.16.153.105:0/710245699 client.14163 cookie=1\n"),
            ["10.16.153.105:0/710245699"])
        with self.assertRaises(ValueError):
            R.parse_watchers_json("")

    def test_addresses_and_coverage(self):
        self.assertEqual(R.addr_ip("v1:10.0.0.5:6789/3112"), "10.0.0.5")
        self.assertEqual(R.addr_ip("[fd00::2]:0/77"), "fd00::2")
        self.assertEqual(R.fence_addr("fd00::2"), "[fd00::2]:0/0")
        self.assertTrue(R.covers(["10.0.0.5:0/0"], [], "10.0.0.5"))
        self.assertFalse(R.covers(["10.0.0.5:0/3112"], [], "10.0.0.5"))
        self.assertFalse(R.covers(["10.0.0.50:0/0"], [], "10.0.0.5"))
        self.assertTrue(R.covers([], ["10.0.0.0:0/24"], "10.0.0.5"))
        self.assertTrue(R.covers([], ["10.0.0.0/24"], "10.0.0.5"))
        self.assertFalse(R.covers([], ["10.0.1.0:0/24"], "10.0.0.5"))

    def test_durations_and_args(self):
        self.assertEqual(R.parse_duration("90"), 90)
        self.assertEqual(R.parse_duration("1h30m"), 5400)
        self.assertEqual(R.parse_duration("250ms"), 0.25)
        for bad in ("", "5x", "m5"):
            with self.assertRaises(ValueError):
                R.parse_duration(bad)
        with self.assertRaises(SystemExit) as cm:
            R.parse_args([])
        self.assertEqual(cm.exception.code, 2)
        with self.assertRaises(SystemExit):
            R.parse_args(["--image", "noslash"])


class Scenarios(unittest.TestCase):
    """Numbers are those of research/rbd-lock.md's list."""

    def seed_cli(self, release="reef", nodes=None, watchers=()):
        nodes = nodes if nodes is not None else [node("node2", "10.46.181.146")]
        return FakeCli(nodes, {"mioss": {"index-api-image": Img([SEED_LOCK], watchers)}},
                       release)

    def test_01_seed_node_deleted_fence_then_break(self):
        cli = self.seed_cli()
        code, out, err = reap(cli, "--pool", "mioss")
        self.assertEqual(code, 0, err)
        self.assertEqual(cli.ops, [("blocklist", "10.47.136.60:0/0", "86400"),
                                   ("break", "mioss/index-api-image", "kubelet_lock_magic_node1",
                                    "client.24128")])
        self.assertEqual(decisions(out), [("fence", "blocklisted"), ("break", "node-deleted")])
        self.assertIn("decision=break pool=mioss image=index-api-image "
                      "lock_id=kubelet_lock_magic_node1 locker=client.24128 "
                      "addr=10.47.136.60:0/1864102866 node=node1 fence=10.47.136.60:0/0 "
                      "reason=node-deleted", out)
        self.assertTrue(out.startswith("2023-11-14T22:13:20Z decision=fence "))
        # the blocklist was read back between add and break
        i_add = [n for n, c in enumerate(cli.calls)
                 if c[:4] == ["ceph", "osd", "blocklist", "add"]][0]
        i_rm = [n for n, c in enumerate(cli.calls) if c[:3] == ["rbd", "lock", "rm"]][0]
        self.assertIn(["ceph", "osd", "blocklist", "ls", "--format", "json"],
                      cli.calls[i_add + 1:i_rm])
        self.assertIn("run: ceph osd blocklist add 10.47.136.60:0/0 86400", err)

    def test_01_node_not_ready_past_grace_and_out_of_service(self):
        cli = self.seed_cli(nodes=[node("node1", "10.47.136.60", ready="Unknown")])
        code, out, _ = reap(cli, "--pool", "mioss", "--grace", "10m")
        self.assertEqual(decisions(out), [("fence", "blocklisted"), ("break", "node-not-ready")])
        cli = self.seed_cli(nodes=[node("node1", "10.47.136.60", ready="False", since=T_RECENT,
                                        taint=True)])
        code, out, _ = reap(cli, "--pool", "mioss")
        self.assertEqual(decisions(out)[-1], ("break", "node-out-of-service"))

    def test_01_seed_nodes_fixture_matched_by_hostname_label(self):
        path = os.path.join(sutload.SOURCE_DIR, "fixtures", "objects", "seed-nodes.json")
        with open(path) as f:
            items = json.load(f)["items"]
        nodes = [o for o in items if o["kind"] == "Node"]
        cli = self.seed_cli(nodes=nodes, release="jewel")
        code, out, _ = reap(cli, "--pool", "mioss", "--grace", "5m")
        self.assertEqual(code, 0)
        self.assertEqual(decisions(out), [("fence", "blocklisted"), ("break", "node-not-ready")])
        self.assertIn(" node=10.47.136.60 ", out)

    def test_02_node_alive_with_watcher_untouched(self):
        cli = self.seed_cli(nodes=[node("node1", "10.47.136.60")],
                            watchers=["10.47.136.60:0/2079632212"])
        code, out, _ = reap(cli, "--pool", "mioss")
        self.assertEqual(code, 0)
        self.assertEqual(cli.ops, [])
        self.assertEqual(decisions(out), [("skip", "node-ready")])
        self.assertFalse(any(c[0] == "ceph" for c in cli.calls))

    def test_03_node_just_died_watcher_lingers_waits_then_reaps(self):
        cli = self.seed_cli(nodes=[node("node1", "10.47.136.60", ready="False", since=T_OLD)],
                            watchers=["10.47.136.60:0/2079632212"])
        code, out, _ = reap(cli, "--pool", "mioss", "--grace", "5m")
        self.assertEqual(code, 0)
        self.assertEqual(decisions(out), [("wait", "watcher-from-locker")])
        self.assertEqual(cli.ops, [])
        # within the grace period it waits without even looking at watchers
        cli2 = self.seed_cli(nodes=[node("node1", "10.47.136.60", ready="False",
                                          since=T_RECENT)])
        code, out, _ = reap(cli2, "--pool", "mioss", "--grace", "5m")
        self.assertEqual(decisions(out), [("wait", "within-grace")])
        self.assertEqual(cli2.ops, [])
        # loop mode: the watch expires after the second round
        t = [NOW]

        def clock():
            return t[0]

        def expire(c):
            c.pools["mioss"]["index-api-image"].watchers = []
        rounds = {"n": 0}

        def on_status(c):
            rounds["n"] += 1
            if rounds["n"] == 2:
                expire(c)
            c.hooks["status"] = on_status
        cli.hooks["status"] = on_status
        out, err = io.StringIO(), io.StringIO()
        args = ["--pool", "mioss", "--interval", "5s", "--until-settled"]
        tools = R.Tools(R.parse_args(args), R.Log(out, err, clock))
        tools.run = cli.run

        def sleep(s):
            t[0] += s
        code = R.main(args, clock=clock, sleep=sleep, tools=tools, out=out, err=err)
        self.assertEqual(code, 0)
        self.assertEqual(decisions(out.getvalue()),
                         [("wait", "watcher-from-locker"), ("fence", "blocklisted"),
                          ("break", "node-not-ready")])

    def test_03_node_deleted_but_its_watch_lingers(self):
        cli = self.seed_cli(watchers=["10.47.136.60:0/2079632212"])
        code, out, _ = reap(cli, "--pool", "mioss")
        self.assertEqual((code, decisions(out)), (0, [("wait", "watcher-from-locker")]))
        self.assertEqual(cli.ops, [])
        self.assertFalse(any(c[0] == "ceph" for c in cli.calls))

    def test_04_watcher_from_another_node_reported_not_broken(self):
        cli = self.seed_cli(watchers=["10.46.181.146:0/99"])
        code, out, err = reap(cli, "--pool", "mioss")
        self.assertEqual(decisions(out), [("skip", "watcher-other-node")])
        self.assertEqual(cli.ops, [])
        self.assertIn("watchers 10.46.181.146:0/99, none from the locker 10.47.136.60", err)

    def test_05_status_failure_is_not_no_watchers(self):
        cli = self.seed_cli()
        cli.fail["status"] = (1, "rbd: couldn't connect to the cluster!\n")
        code, out, err = reap(cli, "--pool", "mioss")
        self.assertEqual(code, 1)
        self.assertEqual(decisions(out), [("skip", "status-failed")])
        self.assertEqual(cli.ops, [])
        self.assertIn("rbd: couldn't connect to the cluster! (exit 1)", err)

    def test_06_removed_concurrently_before_rm(self):
        cli = self.seed_cli()
        cli.hooks["lock rm"] = lambda c: c.pools["mioss"]["index-api-image"].locks.clear()
        code, out, _ = reap(cli, "--pool", "mioss")
        self.assertEqual(code, 0)
        self.assertEqual(decisions(out), [("fence", "blocklisted"), ("gone", "removed-meanwhile")])
        self.assertEqual(len([c for c in cli.calls if c[:3] == ["rbd", "lock", "rm"]]), 1)

    def test_06_removed_between_list_and_fence(self):
        cli = self.seed_cli()
        cli.hooks["bl add"] = lambda c: c.pools["mioss"]["index-api-image"].locks.clear()
        code, out, _ = reap(cli, "--pool", "mioss")
        self.assertEqual(decisions(out), [("fence", "blocklisted"), ("gone", "removed-meanwhile")])
        self.assertFalse(any(c[:3] == ["rbd", "lock", "rm"] for c in cli.calls))

    def test_07_lock_replaced_by_new_holder(self):
        cli = self.seed_cli()

        def replace(c):
            c.pools["mioss"]["index-api-image"].locks = [
                ["kubelet_lock_magic_node1", "client.30001", "10.47.136.60:0/555"]]
        cli.hooks["bl add"] = replace
        code, out, _ = reap(cli, "--pool", "mioss")
        self.assertEqual(decisions(out), [("fence", "blocklisted"), ("skip", "lock-changed")])
        self.assertEqual(cli.pools["mioss"]["index-api-image"].locks,
                         [["kubelet_lock_magic_node1", "client.30001", "10.47.136.60:0/555"]])

    def test_08_blocklist_add_fails_no_break(self):
        for err in ("Error EACCES: access denied\n", "Error EINVAL: (22) Invalid argument\n"):
            cli = self.seed_cli()
            cli.fail["bl add"] = (13 if "EACCES" in err else 22, err)
            code, out, e = reap(cli, "--pool", "mioss")
            self.assertEqual(code, 1)
            self.assertEqual(decisions(out), [("skip", "fence-failed")])
            self.assertEqual(cli.ops, [])
            self.assertFalse(any(c[:3] == ["rbd", "lock", "rm"] for c in cli.calls))

    def test_08_blacklist_spelling_on_old_releases(self):
        for rel in ("jewel", "luminous", "nautilus"):
            cli = self.seed_cli(release=rel)
            code, out, _ = reap(cli, "--pool", "mioss")
            self.assertEqual(code, 0, rel)
            self.assertEqual(cli.ops[0], ("blocklist", "10.47.136.60:0/0", "86400"))
            self.assertIn(["ceph", "osd", "blacklist", "add", "10.47.136.60:0/0", "86400"],
                          cli.calls)
            self.assertEqual(decisions(out)[-1], ("break", "node-deleted"))

    def test_08_blocklist_not_listed_after_add(self):
        cli = self.seed_cli()
        orig = cli.ceph

        def ceph(a):
            r = orig(a)
            if a[2] == "add":
                cli.blocklist.clear()          # the add "succeeded" but nothing is listed
            return r
        cli.ceph = ceph
        code, out, _ = reap(cli, "--pool", "mioss")
        self.assertEqual(code, 1)
        self.assertEqual(decisions(out), [("skip", "fence-unverified")])
        self.assertFalse(any(c[:3] == ["rbd", "lock", "rm"] for c in cli.calls))

    def test_09_rm_eacces_lock_stays(self):
        cli = self.seed_cli()
        cli.fail["lock rm"] = (13, "librbd: unable to blacklist client: (13) Permission denied\n"
                                   "rbd: releasing lock failed: (13) Permission denied\n")
        code, out, err = reap(cli, "--pool", "mioss")
        self.assertEqual(code, 1)
        self.assertEqual(decisions(out), [("fence", "blocklisted"), ("fail", "still-locked")])
        self.assertIn("rbd: releasing lock failed: (13) Permission denied (exit 13)", err)

    def test_10_shared_locks_foreign_ids_left_alone(self):
        for rel in ("jewel", "reef"):
            img = Img([("kubelet_lock_magic_node1", "client.4261", "10.47.136.60:0/1"),
                       ("backup-host", "client.14599", "10.9.9.9:0/2"),
                       ("kubelet_lock_magic_node3", "client.599", "10.9.9.3:0/3")],
                      shared_tag="k8s")
            cli = FakeCli([node("node3", "10.9.9.3")], {"p": {"img": img}}, rel)
            code, out, _ = reap(cli, "--pool", "p", "--lock-format", "plain")
            self.assertEqual(code, 0, rel)
            self.assertEqual(cli.ops, [("blocklist", "10.47.136.60:0/0", "86400"),
                                       ("break", "p/img", "kubelet_lock_magic_node1",
                                        "client.4261")])
            self.assertEqual(sorted(decisions(out)), sorted([
                ("fence", "blocklisted"), ("break", "node-deleted"), ("skip", "foreign-lock"),
                ("skip", "node-ready")]))

    def test_11_managed_lock_never_touched(self):
        img = Img([("auto 139763228736640", "client.4157", "10.0.0.5:0/3112")])
        cli = FakeCli([], {"p": {"img": img}}, "jewel")
        code, out, _ = reap(cli, "--pool", "p")
        self.assertEqual(decisions(out), [("skip", "managed-lock")])
        self.assertIn('lock_id="auto 139763228736640"', out)
        self.assertEqual(cli.ops, [])

    def test_12_hostnames_exact_and_case_insensitive(self):
        # node10 alive must not shelter node1's lock, nor the other way round
        img = Img([("kubelet_lock_magic_node1", "client.1", "10.0.0.1:0/1"),
                   ("kubelet_lock_magic_node10", "client.2", "10.0.0.10:0/2")])
        cli = FakeCli([node("node10", "10.0.0.10"),
                       node("Worker-A", "10.0.0.20", hostname="node-a")], {"p": {"i": img}})
        code, out, _ = reap(cli, "--pool", "p")
        self.assertEqual(cli.ops[1], ("break", "p/i", "kubelet_lock_magic_node1", "client.1"))
        self.assertEqual(len(cli.ops), 2)
        img2 = Img([("kubelet_lock_magic_node-a", "client.3", "10.0.0.20:0/3")])
        cli2 = FakeCli([node("Worker-A", "10.0.0.20", hostname="NODE-A")], {"p": {"i": img2}})
        code, out, _ = reap(cli2, "--pool", "p")
        self.assertEqual(decisions(out), [("skip", "node-ready")])

    def test_12_hostname_unknown_but_ip_on_live_node(self):
        img = Img([("kubelet_lock_magic_oshost7", "client.3", "10.0.0.7:0/3")])
        cli = FakeCli([node("k8s-node-7", "10.0.0.7")], {"p": {"i": img}})
        code, out, _ = reap(cli, "--pool", "p")
        self.assertEqual(decisions(out), [("skip", "locker-ip-on-live-node")])
        self.assertIn("node=k8s-node-7", out)
        self.assertEqual(cli.ops, [])

    def test_13_both_generations_json_and_plain(self):
        for rel in ("jewel", "luminous", "mimic", "reef"):
            for fmt in ("json", "plain"):
                cli = self.seed_cli(release=rel)
                code, out, err = reap(cli, "--pool", "mioss", "--lock-format", fmt)
                self.assertEqual(code, 0, (rel, fmt, err))
                self.assertEqual(cli.ops[-1], ("break", "mioss/index-api-image",
                                               "kubelet_lock_magic_node1", "client.24128"),
                                 (rel, fmt))

    def test_13_empty_lock_list(self):
        cli = FakeCli([], {"p": {"a": Img(), "b": Img()}})
        for fmt in ("json", "plain"):
            code, out, _ = reap(cli, "--pool", "p", "--lock-format", fmt)
            self.assertEqual((code, out), (0, ""))

    def test_15_image_deleted_during_run(self):
        cli = self.seed_cli()
        cli.hooks["status"] = lambda c: c.pools["mioss"].pop("index-api-image")
        code, out, _ = reap(cli, "--pool", "mioss")
        self.assertEqual(code, 0)
        self.assertEqual(decisions(out), [("skip", "image-missing")])
        self.assertEqual(cli.ops, [])

    def test_16_returning_node_not_refenced_and_unfence(self):
        cli = self.seed_cli()
        reap(cli, "--pool", "mioss")
        self.assertEqual(cli.blocklist, ["10.47.136.60:0/0"])
        # the node comes back and is Ready: nothing to do
        cli.nodes = [node("node1", "10.47.136.60")]
        cli.pools["mioss"]["index-api-image"].locks = [
            ["kubelet_lock_magic_node1", "client.40000", "10.47.136.60:0/7"]]
        n_ops = len(cli.ops)
        code, out, _ = reap(cli, "--pool", "mioss")
        self.assertEqual(decisions(out), [("skip", "node-ready")])
        self.assertEqual(len(cli.ops), n_ops)
        code, out, _ = reap(cli, "unfence", "--node", "node1")
        self.assertEqual(code, 0)
        self.assertEqual(cli.ops[-1], ("unblocklist", "10.47.136.60:0/0"))
        self.assertEqual(decisions(out), [("unfence", "removed")])
        code, out, _ = reap(cli, "unfence", "--addr", "10.47.136.60")
        self.assertEqual(decisions(out), [("skip", "not-blocklisted")])

    def test_17_two_reapers_race(self):
        cli = self.seed_cli()
        # reaper B runs completely while reaper A is between its fence and rm
        other = []
        cli.hooks["bl add"] = lambda c: other.append(reap(c, "--pool", "mioss"))
        code, out, _ = reap(cli, "--pool", "mioss")
        self.assertEqual(code, 0)
        self.assertEqual([o[0] for o in cli.ops], ["blocklist", "break", "blocklist"])
        self.assertEqual(decisions(out), [("fence", "blocklisted"), ("gone", "removed-meanwhile")])
        self.assertEqual(len([o for o in cli.ops if o[0] == "break"]), 1)
        self.assertEqual(decisions(other[0][1]), [("fence", "blocklisted"),
                                                  ("break", "node-deleted")])

    def test_18_rm_exit_0_without_effect_detected(self):
        cli = self.seed_cli()
        orig = cli.rbd

        def rbd(a):
            if a[:2] == ["lock", "rm"]:
                return "", "rbd: too many positional arguments or unrecognized optional argument\n"
            return orig(a)
        cli.rbd = rbd
        code, out, _ = reap(cli, "--pool", "mioss")
        self.assertEqual(code, 1)
        self.assertEqual(decisions(out), [("fence", "blocklisted"), ("fail", "still-locked")])

    def test_nodes_unavailable_touches_nothing(self):
        cli = self.seed_cli()
        cli.fail["nodes"] = (1, "error: You must be logged in to the server (Unauthorized)\n")
        code, out, err = reap(cli, "--pool", "mioss")
        self.assertEqual(code, 3)
        self.assertEqual(cli.ops, [])
        self.assertEqual(decisions(out), [("skip", "nodes-unavailable")])
        self.assertIn("(Unauthorized) (exit 1)", err)

    def test_dry_run_changes_nothing(self):
        cli = self.seed_cli()
        code, out, _ = reap(cli, "--pool", "mioss", "--dry-run")
        self.assertEqual(code, 0)
        self.assertEqual(cli.ops, [])
        self.assertEqual(decisions(out), [("fence", "dry-run"), ("break", "dry-run:node-deleted")])

    def test_global_options_reach_the_tools(self):
        cli = self.seed_cli()
        seen = []
        orig = cli.run

        def run(argv, timeout):
            seen.append(argv)
            return orig(argv, timeout)
        cli.run = run
        reap(cli, "--pool", "mioss", "-m", "127.0.0.1:6789", "--id", "admin", "--rbd",
             "/x/rbd")
        rbd_calls = [a for a in seen if a[0] == "/x/rbd"]
        self.assertTrue(rbd_calls)
        for a in rbd_calls:
            self.assertEqual(a[1:5], ["-m", "127.0.0.1:6789", "--id", "admin"])


if __name__ == "__main__":
    unittest.main()
