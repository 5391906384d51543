"""es-discovery (and es-run.sh) against efksim's fake API server over HTTPS,
in-cluster mode (service-account dir + KUBERNETES_SERVICE_HOST/PORT), as
the seed's ES pod ran it.

Usage: test_es_discovery_fake.py PATH/TO/apis_serve
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakes  # noqa: E402
import sutload  # noqa: E402

APIS = None
DEFAULT = "system:serviceaccount:kube-system:default"
EFK = "system:serviceaccount:kube-system:k8s-efk"
SEED_F = ("kube-system namespace doesn't exist: the server has asked for the client to "
          "provide credentials (get namespaces kube-system)")
EP_PATH = "/api/v1/namespaces/kube-system/endpoints/elasticsearch-logging"


def service():
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "elasticsearch-logging", "namespace": "kube-system"},
            "spec": {"ports": [{"port": 9200}]}}


def endpoints(*ips):
    return {"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "elasticsearch-logging", "namespace": "kube-system"},
            "subsets": [{"addresses": [{"ip": ip} for ip in ips],
                         "ports": [{"port": 9200}]}] if ips else []}


def section(version, objects, default_rejected=True, efk_rules=True):
    efk = {"name": EFK, "token": "tok-efk"}
    if efk_rules:
        # the addon's ClusterRole: get on services, namespaces, endpoints
        efk["rules"] = [{"verbs": ["get"], "resources": ["services", "namespaces", "endpoints"]}]
    return {"version": version,
            "identities": [{"name": DEFAULT, "token": "tok-default",
                            "rejected": default_rejected}, efk],
            "objects": objects}


class SeedOnFake(unittest.TestCase):
    def run_helper(self, apis, identity, extra=None, args=()):
        env = fakes.clean_env({"KUBERNETES_SERVICE_HOST": apis.env["KUBERNETES_SERVICE_HOST"],
                               "KUBERNETES_SERVICE_PORT": apis.env["KUBERNETES_SERVICE_PORT"],
                               "EFKSIM_SA_DIR": apis.sa_dir(identity),
                               "NAMESPACE": "kube-system",
                               "ES_DISCOVERY_TIME_SCALE": "0.01"})
        env.update(extra or {})
        return subprocess.run([sutload.sut_path("es-discovery")] + list(args), env=env,
                              capture_output=True, text=True, timeout=120)

    def test_default_account_401_seed_text_and_run_sh(self):
        apis = fakes.Apiserver(self, APIS, section("1.3", [service(),
                                                         endpoints("172.30.0.11",
                                                                   "172.30.192.15")]))
        r = self.run_helper(apis, DEFAULT)
        self.assertEqual(r.returncode, 255)
        self.assertEqual(r.stdout, "")
        self.assertRegex(r.stderr.splitlines()[0],
                         r"^F\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ elasticsearch_logging_discovery"
                         r"\.go:60\] " + re.escape(SEED_F) + "$")
        self.assertEqual(apis.paths(), ["/api/v1/namespaces/kube-system"])
        j = apis.journal()[0]
        self.assertEqual(j["status"], 401)
        self.assertEqual(j["headers"]["authorization"], "Bearer tok-default")
        # run.sh of the seed's image: no unicast hosts, "Elasticsearch" starts anyway
        with tempfile.TemporaryDirectory() as home:
            env = fakes.clean_env({"KUBERNETES_SERVICE_HOST": apis.env["KUBERNETES_SERVICE_HOST"],
                                   "KUBERNETES_SERVICE_PORT": apis.env["KUBERNETES_SERVICE_PORT"],
                                   "EFKSIM_SA_DIR": apis.sa_dir(DEFAULT),
                                   "NAMESPACE": "kube-system", "ES_HOME": home})
            r = subprocess.run([sutload.sut_path("es-run.sh"), "echo", "started"], env=env,
                               capture_output=True, text=True, timeout=60)
            self.assertEqual((r.returncode, r.stdout), (0, "started\n"))
            with open(os.path.join(home, "config", "elasticsearch.yml")) as f:
                yml = f.read()
            self.assertNotIn("unicast.hosts", yml)
            self.assertIn("discovery.zen.minimum_master_nodes", yml)

    def test_dedicated_account_gets_the_two_pod_ips(self):
        sec = section("1.3", [])
        del sec["objects"]
        sec["object_files"] = [os.path.join(sutload.SOURCE_DIR, "fixtures", "objects",
                                            "seed-es-logging.json")]
        apis = fakes.Apiserver(self, APIS, sec)
        with tempfile.TemporaryDirectory() as home:
            env = fakes.clean_env({"KUBERNETES_SERVICE_HOST": apis.env["KUBERNETES_SERVICE_HOST"],
                                   "KUBERNETES_SERVICE_PORT": apis.env["KUBERNETES_SERVICE_PORT"],
                                   "EFKSIM_SA_DIR": apis.sa_dir(EFK),
                                   "NAMESPACE": "kube-system", "ES_HOME": home,
                                   "ES_DISCOVERY_TIME_SCALE": "0.01"})
            r = subprocess.run([sutload.sut_path("es-run.sh")], env=env, capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(home, "config", "elasticsearch.yml")) as f:
                yml = f.read()
        self.assertTrue(yml.endswith('discovery.zen.ping.multicast.enabled: false\n'
                                     'discovery.zen.ping.unicast.hosts: ["172.30.0.11", '
                                     '"172.30.192.15"]\n'), yml)
        self.assertEqual(apis.paths(), ["/api/v1/namespaces/kube-system",
                                        "/api/v1/namespaces/kube-system/services/"
                                        "elasticsearch-logging", EP_PATH, EP_PATH])

    def test_current_apiserver_401_and_403_wording(self):
        apis = fakes.Apiserver(self, APIS, section("1.33", [service(), endpoints("10.0.0.1")],
                                                   efk_rules=False))
        r = self.run_helper(apis, DEFAULT, {"ES_DISCOVERY_BUILD": "2021"})
        self.assertEqual(r.returncode, 255)
        self.assertIn(":107] kube-system namespace doesn't exist: Unauthorized\n", r.stderr)
        # the network.host line was already out when the Fatal came
        self.assertRegex(r.stdout, r'^network\.host: "[^"]+"\n\n$')
        apis2 = fakes.Apiserver(self, APIS, {
            "version": "1.33",
            "identities": [{"name": DEFAULT, "token": "tok-default",
                            "rules": [{"verbs": ["list"], "resources": ["pods"]}]}],
            "objects": [service()]})
        r = self.run_helper(apis2, DEFAULT, {"ES_DISCOVERY_BUILD": "2019"})
        self.assertEqual(r.returncode, 255)
        self.assertIn(':79] kube-system namespace doesn\'t exist: namespaces "kube-system" is '
                      'forbidden: User "system:serviceaccount:kube-system:default" cannot get '
                      'resource "namespaces" in API group "" in the namespace "kube-system"\n',
                      r.stderr)

    def test_endpoints_appear_late(self):
        apis = fakes.Apiserver(self, APIS, section("1.20", [service()]))
        env = fakes.clean_env({"KUBERNETES_SERVICE_HOST": apis.env["KUBERNETES_SERVICE_HOST"],
                               "KUBERNETES_SERVICE_PORT": apis.env["KUBERNETES_SERVICE_PORT"],
                               "EFKSIM_SA_DIR": apis.sa_dir(EFK), "NAMESPACE": "kube-system",
                               "ES_DISCOVERY_BUILD": "2019", "MINIMUM_MASTER_NODES": "2",
                               "ES_DISCOVERY_TIME_SCALE": "0.02"})
        p = subprocess.Popen([sutload.sut_path("es-discovery")], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        fakes.wait_for(lambda: apis.paths().count(EP_PATH) >= 2, what="two endpoint polls")
        apis.command("apply " + __import__("json").dumps(endpoints("10.1.0.5")))
        fakes.wait_for(lambda: apis.paths().count(EP_PATH) >= 4, what="polls after one IP")
        apis.command("apply " + __import__("json").dumps(endpoints("10.1.0.5", "10.1.0.6")))
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(out, 'discovery.seed_hosts: ["10.1.0.5", "10.1.0.6"]\n'
                              'cluster.initial_master_nodes: ["10.1.0.5", "10.1.0.6"]\n')
        statuses = [e["status"] for e in apis.journal() if e["path"] == EP_PATH]
        self.assertEqual(statuses[:2], [404, 404])
        self.assertEqual(statuses[-1], 200)

    def test_too_few_endpoints_waits_out_the_deadline(self):
        apis = fakes.Apiserver(self, APIS, section("1.20", [service(), endpoints("10.1.0.5")]))
        r = self.run_helper(apis, EFK, {"ES_DISCOVERY_BUILD": "2019",
                                        "MINIMUM_MASTER_NODES": "2",
                                        "ES_DISCOVERY_TIME_SCALE": "0.005"})
        self.assertEqual(r.returncode, 0, r.stderr)
        # 30 polls 10 s apart in a 5 min window; the time the requests take
        # comes out of the window, as in the real loop
        self.assertIn(apis.paths().count(EP_PATH), (28, 29, 30))
        self.assertEqual(r.stdout, 'discovery.seed_hosts: ["10.1.0.5"]\n'
                                   'cluster.initial_master_nodes: ["10.1.0.5"]\n')


if __name__ == "__main__":
    APIS = os.path.abspath(sys.argv.pop(1))
    unittest.main()
