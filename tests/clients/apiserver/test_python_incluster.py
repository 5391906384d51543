"""The official Python client (python3-kubernetes) in in-cluster mode:
KUBERNETES_SERVICE_HOST/PORT from the env file and the service-account
files (token, ca.crt) of EFKSIM_SA_DIR. List, get, and a watch that
receives ADDED and MODIFIED events, including a token rotation picked up
from the file."""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from harness import Fake, Checks, wait_for  # noqa: E402

from kubernetes import client, watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402
from kubernetes.config import incluster_config  # noqa: E402

CONFIG = {
    "identities": [
        {"name": "system:serviceaccount:logging:fluentd",
         "rules": [{"verbs": ["get", "list", "watch"], "resources": ["pods", "namespaces"]}]},
        {"name": "admin", "groups": ["system:masters"]},
    ],
    "objects": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "logging"}},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "web-1", "namespace": "logging", "labels": {"app": "web"}},
         "spec": {"nodeName": "node-1", "containers": [{"name": "nginx", "image": "nginx"}]},
         "status": {"phase": "Running", "podIP": "10.1.0.5"}},
    ],
}


def main():
    c = Checks()
    with Fake(sys.argv[1], CONFIG) as fake:
        env = fake.env
        os.environ["KUBERNETES_SERVICE_HOST"] = env["KUBERNETES_SERVICE_HOST"]
        os.environ["KUBERNETES_SERVICE_PORT"] = env["KUBERNETES_SERVICE_PORT"]
        sa = env["EFKSIM_SA_DIR"]
        c.check(sa.endswith("system_serviceaccount_logging_fluentd"), "the SA dir of the first "
                "identity", sa)
        c.check(open(os.path.join(sa, "namespace")).read().strip() == "logging",
                "the namespace file says logging")
        cfg = client.Configuration()
        loader = incluster_config.InClusterConfigLoader(
            token_filename=os.path.join(sa, "token"), cert_filename=os.path.join(sa, "ca.crt"),
            try_refresh_token=True)
        loader.load_and_set(cfg)
        c.check(cfg.host == "https://%s:%s" % (env["KUBERNETES_SERVICE_HOST"],
                                                env["KUBERNETES_SERVICE_PORT"]),
                "in-cluster host", cfg.host)
        api = client.CoreV1Api(client.ApiClient(cfg))
        pods = api.list_namespaced_pod("logging")
        c.check([p.metadata.name for p in pods.items] == ["web-1"]
                and pods.items[0].status.pod_ip == "10.1.0.5"
                and int(pods.metadata.resource_version) > 0, "list pods")
        pods = api.list_pod_for_all_namespaces(field_selector="spec.nodeName=node-1")
        c.check(len(pods.items) == 1, "list with a field selector")
        ns = api.read_namespace("logging")
        c.check(ns.status.phase == "Active" and ns.metadata.uid, "get a namespace")
        p = api.read_namespaced_pod("web-1", "logging")
        c.check(p.spec.node_name == "node-1" and p.metadata.labels == {"app": "web"}, "get a pod")
        try:
            api.read_namespaced_pod("nope", "logging")
            c.check(False, "404 raises")
        except ApiException as e:
            c.check(e.status == 404 and '"message":"pods \\"nope\\" not found"' in e.body,
                    "a missing pod is a 404 Status", e.body)
        try:
            api.list_namespaced_secret("logging")
            c.check(False, "403 raises")
        except ApiException as e:
            c.check(e.status == 403 and "cannot list resource \\\"secrets\\\"" in e.body,
                    "not allowed: 403", e.body)

        # a watch from the list's version receives ADDED and MODIFIED
        rv = api.list_namespaced_pod("logging").metadata.resource_version
        events = []
        done = threading.Event()

        def watcher():
            w = watch.Watch()
            for ev in w.stream(api.list_namespaced_pod, "logging", resource_version=rv,
                               timeout_seconds=20):
                events.append((ev["type"], ev["object"].metadata.name,
                               ev["object"].status.phase))
                if len(events) >= 2:
                    w.stop()
            done.set()

        t = threading.Thread(target=watcher)
        t.start()
        wait_for(lambda: fake.cmd("watches") == "1", 20, "the python watch")
        fake.cmd('apply {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-2",'
                 '"namespace":"logging"},"spec":{"containers":[{"name":"c","image":"x"}]},'
                 '"status":{"phase":"Pending"}}')
        fake.cmd('patch pods logging web-2 {"status":{"phase":"Running"}}')
        done.wait(30)
        t.join(5)
        c.check(events == [("ADDED", "web-2", "Pending"), ("MODIFIED", "web-2", "Running")],
                "the watch gets ADDED then MODIFIED", events)

        # token rotation: the file is rewritten, the old token gets 401
        old = open(os.path.join(sa, "token")).read()
        new = fake.cmd("rotate system:serviceaccount:logging:fluentd")
        c.check(new and new != old and open(os.path.join(sa, "token")).read() == new,
                "rotate rewrites the token file")
        try:
            api.list_namespaced_pod("logging")
            c.check(False, "the old token is refused")
        except ApiException as e:
            c.check(e.status == 401 and e.body == '{"kind":"Status","apiVersion":"v1",'
                    '"metadata":{},"status":"Failure","message":"Unauthorized",'
                    '"reason":"Unauthorized","code":401}', "the old token is refused", e.body)
        cfg2 = client.Configuration()
        incluster_config.InClusterConfigLoader(
            token_filename=os.path.join(sa, "token"),
            cert_filename=os.path.join(sa, "ca.crt")).load_and_set(cfg2)
        api2 = client.CoreV1Api(client.ApiClient(cfg2))
        c.check(len(api2.list_namespaced_pod("logging").items) == 2,
                "re-reading the file works again")
    return c.done()


sys.exit(main())
