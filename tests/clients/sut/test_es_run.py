"""Tests for fixtures/sut/es-run.sh: the config it lays down per ES major and
what a failing discovery step does to the rest of the script, per build."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sutload  # noqa: E402

SEED_YML = """cluster.name: kubernetes-logging

node.name: ${NODE_NAME}
node.master: ${NODE_MASTER}
node.data: ${NODE_DATA}

transport.tcp.port: ${TRANSPORT_PORT}
http.port: ${HTTP_PORT}

path.data: /data

network.host: 0.0.0.0

discovery.zen.minimum_master_nodes: ${MINIMUM_MASTER_NODES}
discovery.zen.ping.multicast.enabled: false
"""


class EsRun(unittest.TestCase):
    def setUp(self):
        t = tempfile.TemporaryDirectory()
        self.addCleanup(t.cleanup)
        self.home = t.name

    def stub(self, body):
        """A discovery helper stand-in (its own tests are test_es_discovery)."""
        p = os.path.join(self.home, "stub")
        with open(p, "w") as f:
            f.write("#!/bin/sh\n" + body + "\n")
        os.chmod(p, 0o755)
        return p

    def run_sh(self, env, *args):
        e = {"PATH": "/usr/bin:/bin", "ES_HOME": self.home, "HOSTNAME": "es-0"}
        e.update(env)
        return subprocess.run([sutload.sut_path("es-run.sh")] + list(args), env=e,
                              capture_output=True, text=True, timeout=30)

    def config(self):
        with open(os.path.join(self.home, "config", "elasticsearch.yml")) as f:
            return f.read()

    def test_seed_fatal_leaves_no_hosts_and_es_still_starts(self):
        d = self.stub('echo "F0302 ... fatal" >&2; exit 255')
        r = self.run_sh({"ES_DISCOVERY": d}, "sh", "-c", "echo started; exit 7")
        self.assertEqual(self.config(), SEED_YML)
        self.assertEqual(r.stdout, "started\n")
        self.assertEqual(r.returncode, 7)
        self.assertIn("F0302 ... fatal", r.stderr)

    def test_seed_success_appends(self):
        d = self.stub('echo \'discovery.zen.ping.unicast.hosts: ["172.30.0.11", '
                      '"172.30.192.15"]\'')
        r = self.run_sh({"ES_DISCOVERY": d})
        self.assertEqual(r.returncode, 0)
        self.assertEqual(self.config(), SEED_YML + 'discovery.zen.ping.unicast.hosts: '
                         '["172.30.0.11", "172.30.192.15"]\n')

    def test_restart_starts_from_the_image_file(self):
        d = self.stub('echo \'discovery.zen.ping.unicast.hosts: ["10.0.0.1"]\'')
        self.run_sh({"ES_DISCOVERY": d})
        self.run_sh({"ES_DISCOVERY": d})
        self.assertEqual(self.config().count("unicast.hosts"), 1)

    def test_set_e_builds_abort_with_255(self):
        d = self.stub('echo "MINIMUM_MASTER_NODES=$MINIMUM_MASTER_NODES NODE_NAME=$NODE_NAME"'
                      ' >&2; exit 255')
        r = self.run_sh({"ES_DISCOVERY": d, "ES_DISCOVERY_BUILD": "2018"}, "echo", "started")
        self.assertEqual(r.returncode, 255)
        self.assertEqual(r.stdout, "")
        self.assertIn("MINIMUM_MASTER_NODES=2 NODE_NAME=es-0", r.stderr)
        self.assertIn("+ export MINIMUM_MASTER_NODES=2", r.stderr)   # set -x trace
        # ES 6 has no multicast setting
        self.assertNotIn("multicast", self.config())
        self.assertIn("discovery.zen.minimum_master_nodes", self.config())

    def test_es7_template(self):
        d = self.stub('echo \'discovery.seed_hosts: ["10.0.0.1"]\'; '
                      'echo \'cluster.initial_master_nodes: ["10.0.0.1"]\'')
        r = self.run_sh({"ES_DISCOVERY": d, "ES_DISCOVERY_ES_MAJOR": "7"}, "true")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.config(), """cluster.name: kubernetes-logging

node.name: ${NODE_NAME}
node.master: ${NODE_MASTER}
node.data: ${NODE_DATA}

transport.profiles.default.port: ${TRANSPORT_PORT}
http.port: ${HTTP_PORT}

path.data: /data

network.host: 0.0.0.0
discovery.seed_hosts: ["10.0.0.1"]
cluster.initial_master_nodes: ["10.0.0.1"]
""")


if __name__ == "__main__":
    unittest.main()
