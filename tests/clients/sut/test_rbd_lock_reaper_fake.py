"""rbd-lock-reaper against efksim's fake RBD store (its real `rbd` and `ceph`
tools) and the fake API server (nodes through real kubectl).

Usage: test_rbd_lock_reaper_fake.py apis_serve rbd_testserver BIN_DIR
"""

import json
import os
import subprocess
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakes  # noqa: E402
import sutload  # noqa: E402

APIS = RBDSRV = BIN = None
SEED_LOCK = {"image": "mioss/index-api-image", "id": "kubelet_lock_magic_node1",
             "locker": "client.24128", "address": "10.47.136.60:0/1864102866"}


def node(name, ip, ready="True"):
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}],
                       "conditions": [{"type": "Ready", "status": ready,
                                       "lastTransitionTime": "2017-02-16T05:00:00Z"}]}}


class Store:
    def __init__(self, test, section):
        self.proc = subprocess.Popen([RBDSRV, "-c", json.dumps(section)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        test.addCleanup(self.stop)
        self.mon = self.proc.stdout.readline().strip().split("=", 1)[1]
        assert self.proc.stdout.readline().strip() == "ready"

    def audit(self):
        with urllib.request.urlopen("http://%s/rbd/v1/audit" % self.mon, timeout=10) as r:
            return [e for e in json.loads(r.read())["entries"] if e.get("argv")]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(10)
        self.proc.stdout.close()


class ReaperOnFakes(unittest.TestCase):
    def setup(self, rbd_section, nodes):
        self.store = Store(self, rbd_section)
        self.apis = fakes.Apiserver(self, APIS, {"version": "1.33", "objects": nodes})
        self.env = fakes.clean_env({"PATH": BIN + ":/usr/bin:/bin",
                                    "EFKSIM_RBD_MON": self.store.mon,
                                    "KUBECONFIG": self.apis.env["KUBECONFIG"]})

    def reap(self, *args):
        return subprocess.run([sutload.sut_path("rbd-lock-reaper")] + list(args), env=self.env,
                              capture_output=True, text=True, timeout=120)

    def tool(self, *argv, node_ip=None):
        env = dict(self.env)
        if node_ip:
            env["EFKSIM_NODE_IP"] = node_ip
        return subprocess.run(list(argv), env=env, capture_output=True, text=True, timeout=30)

    def test_seed_jewel_fence_break_then_new_node_locks(self):
        self.setup({"release": "jewel",
                    "pools": [{"name": "mioss", "images": [{"name": "index-api-image",
                                                            "size": "2G"}]}],
                    "locks": [SEED_LOCK]},
                   [node("node2", "10.46.181.146")])
        r = self.reap("--pool", "mioss")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([l.split()[1] for l in r.stdout.splitlines()],
                         ["decision=fence", "decision=break"])
        ops = [(e["op"], e.get("addr") or e.get("cookie"), e["tool"])
               for e in self.store.audit() if e["event"] == "op"]
        # fenced first (every client of the node's IP), then the break, which
        # librbd precedes with a blocklist of the locker's own address
        self.assertEqual(ops, [("blocklist_add", "10.47.136.60:0/0", "ceph"),
                               ("blocklist_add", "10.47.136.60:0/1864102866", "rbd"),
                               ("lock_break", "kubelet_lock_magic_node1", "rbd")])
        ls = self.tool("rbd", "lock", "ls", "mioss/index-api-image")
        self.assertEqual((ls.returncode, ls.stdout), (0, ""))
        # the new node can take the image now (the seed's pod then started)
        add = self.tool("rbd", "lock", "add", "mioss/index-api-image",
                        "kubelet_lock_magic_node2", node_ip="10.46.181.146")
        self.assertEqual(add.returncode, 0, add.stderr)

    def test_reef_alive_watcher_foreign_and_managed_locks_untouched(self):
        self.setup({"release": "reef",
                    "pools": [{"name": "rbd", "images": [
                        {"name": "a", "size": "1G"}, {"name": "b", "size": "1G"}]}],
                    "clients": [{"name": "krbd1", "node": "10.0.0.1", "kind": "krbd"}],
                    "watchers": [{"image": "rbd/a", "client": "krbd1"}],
                    "locks": [{"image": "rbd/a", "id": "kubelet_lock_magic_node1",
                               "locker": "client.4100", "address": "10.0.0.1:0/11"},
                              {"image": "rbd/b", "id": "backup-host", "locker": "client.4101",
                               "address": "10.0.0.9:0/12"}]},
                   [node("node1", "10.0.0.1", ready="False")])
        r = self.reap("--pool", "rbd")
        self.assertEqual(r.returncode, 0, r.stderr)
        d = [(l.split()[1], l.split()[-1]) for l in r.stdout.splitlines()]
        self.assertEqual(d, [("decision=wait", "reason=watcher-from-locker"),
                             ("decision=skip", "reason=foreign-lock")])
        self.assertEqual([e for e in self.store.audit() if e["event"] == "op"], [])


if __name__ == "__main__":
    APIS = os.path.abspath(sys.argv.pop(1))
    RBDSRV = os.path.abspath(sys.argv.pop(1))
    BIN = os.path.abspath(sys.argv.pop(1))
    unittest.main()
