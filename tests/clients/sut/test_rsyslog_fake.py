"""rsyslog 8.2302 with fixtures/rsyslog/rsyslog.conf.in against efksim's fake
API server (HTTPS, test CA) and fake Elasticsearch.

Usage: test_rsyslog_fake.py PATH/TO/apis_serve PATH/TO/es_testserver
"""

import json
import os
import subprocess
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakes  # noqa: E402
import test_rsyslog as T  # noqa: E402

APIS = ES = None
DEFAULT = "system:serviceaccount:kube-system:default"
COLLECTOR = "system:serviceaccount:kube-system:rsyslog"


def pod(name, ns="default", labels=None):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {"app": name}},
            "spec": {"nodeName": "10.46.181.146",
                     "containers": [{"name": "app", "image": "bigwhite/index-api:1.0"}]},
            "status": {"phase": "Running", "podIP": "172.16.57.7"}}


class Es:
    def __init__(self, test):
        self.proc = subprocess.Popen([ES], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        test.addCleanup(self.stop)
        self.url = self.proc.stdout.readline().strip().split("=", 1)[1]
        assert self.proc.stdout.readline().strip() == "ready"

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return json.loads(r.read())

    def delivered(self, stream):
        """The stream's `delivered` count in the delivery report (0 if unseen)."""
        d = self.get("/_efksim/delivery?stream=" + stream)
        return (d.get("streams", {}).get(stream) or {}).get("delivered", 0)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(10)
        self.proc.stdout.close()


def section(rejected):
    return {"version": "1.33",
            "identities": [
                {"name": DEFAULT, "token": "tok-default", "rejected": rejected},
                {"name": COLLECTOR, "token": None, "cert": True,
                 "rules": [{"verbs": ["get", "list", "watch"],
                            "resources": ["pods", "namespaces"]}]}],
            "objects": [pod("pod-a"), pod("pod-b")]}


class AgentOnFakes(unittest.TestCase):
    def agent(self, apis, es, identity, auth, options=""):
        return T.Agent(self, T.base_params(k8s_auth=auth, k8s_options=options,
                                           es_version_line='           esVersion.major="7"'),
                       apis.url, es.url, ca=os.path.join(apis.workdir, "pki", "ca.crt"),
                       sa_dir=apis.sa_dir(identity))

    def test_default_account_401_then_accepted(self):
        apis = fakes.Apiserver(self, APIS, section(rejected=True))
        es = Es(self)
        a = self.agent(apis, es, DEFAULT, T.base_params()["k8s_auth"])
        a.start()
        a.write_docker("pod-a", "efk:a:1 during-401")
        T.wait_for(lambda: len(a.records()) >= 1, what="record a:1")
        self.assertIn("mmkubernetes: Unauthorized: not allowed to view url - check token/auth "
                      "credentials [%s/api/v1/namespaces/default]" % apis.url,
                      a.read("rsyslog-internal.log"))
        apis.command("accept " + DEFAULT)
        a.write_docker("pod-a", "efk:a:2 after-accept")
        a.write_docker("pod-b", "efk:b:1 new-pod")
        T.wait_for(lambda: len(a.records()) >= 3, what="records a:2, b:1")
        k = {r["log"].split()[0]: r["kubernetes"] for r in a.records()}
        self.assertNotIn("pod_id", k["efk:a:1"])
        self.assertNotIn("pod_id", k["efk:a:2"])           # cached for cacheentryttl
        self.assertIn("pod_id", k["efk:b:1"])
        self.assertNotIn("namespace_id", k["efk:b:1"])     # the namespace entry too
        self.assertEqual(k["efk:b:1"]["host"], "10.46.181.146")
        statuses = [(e["path"], e["status"]) for e in apis.journal()
                    if e["path"].startswith("/api/v1/namespaces/default")]
        self.assertEqual(statuses, [("/api/v1/namespaces/default", 401),
                                    ("/api/v1/namespaces/default/pods/pod-a", 401),
                                    ("/api/v1/namespaces/default/pods/pod-b", 200)])
        # everything still reached Elasticsearch, with or without metadata
        T.wait_for(lambda: es.delivered("a") == 2, what="a:1 and a:2 delivered")
        self.assertEqual(es.delivered("b"), 1)

    def test_client_certificate_every_line_has_metadata(self):
        apis = fakes.Apiserver(self, APIS, section(rejected=True))
        es = Es(self)
        a = self.agent(apis, es, COLLECTOR, '           tls.mycert=`echo $EFKSIM_SA_DIR/'
                                            'client.crt` tls.myprivkey=`echo $EFKSIM_SA_DIR/'
                                            'client.key`')
        a.start()
        for i in range(1, 6):
            a.write_docker("pod-a", "efk:c:%d line" % i)
        T.wait_for(lambda: len(a.records()) >= 5, what="5 records")
        for r in a.records():
            k = r["kubernetes"]
            self.assertEqual((k["pod_name"], k["namespace_name"], k["container_name"]),
                             ("pod-a", "default", "app"))
            self.assertEqual(k["labels"], {"app": "pod-a"})
            self.assertIn("pod_id", k)
            self.assertIn("namespace_id", k)
        ids = {e["identity"] for e in apis.journal() if e["path"].startswith("/api/v1/")}
        self.assertEqual(ids, {COLLECTOR})
        T.wait_for(lambda: es.delivered("c") == 5, what="5 delivered in ES")


if __name__ == "__main__":
    APIS = os.path.abspath(sys.argv.pop(1))
    ES = os.path.abspath(sys.argv.pop(1))
    unittest.main()
