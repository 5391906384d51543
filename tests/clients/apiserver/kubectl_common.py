"""kubectl of a fixed version against the fake over https: the Must-show
list of issue 3 (create namespace, apply a pod and an endpoints object,
get pods as a table, get endpoints -o json, get pods -w receiving a change
made by another client, delete, the 401 and 403 messages)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from harness import Fake, Checks, wait_for  # noqa: E402

MANIFEST = """apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: logging
  labels:
    app: web
spec:
  containers:
  - name: nginx
    image: nginx:1.25
    ports:
    - containerPort: 80
---
apiVersion: v1
kind: Endpoints
metadata:
  name: elasticsearch-logging
  namespace: logging
subsets:
- addresses:
  - ip: 10.0.0.1
  - ip: 10.0.0.2
  ports:
  - port: 9200
"""

CONFIG = {
    "identities": [
        {"name": "admin", "groups": ["system:masters"], "cert": True},
        {"name": "viewer", "rules": [{"verbs": ["get", "list", "watch"], "resources": ["pods"]}]},
    ]
}


def kubectl_path(version):
    base = os.path.dirname(os.path.realpath("/usr/bin/kubectl"))
    return os.path.join(base, "kubectl." + version)


def run(version, serve_bin):
    c = Checks()
    kubectl = kubectl_path(version)
    if not os.access(kubectl, os.X_OK):
        print("kubectl %s not found at %s" % (version, kubectl))
        return 1
    home = tempfile.mkdtemp(prefix="efksim-kubectl-")
    with Fake(serve_bin, CONFIG) as fake:
        env = dict(os.environ)
        env.update({"KUBECONFIG": fake.env["KUBECONFIG"], "HOME": home,
                    "KUBECACHEDIR": os.path.join(home, "cache")})

        def k(*args, kubeconfig=None, timeout=60):
            e = dict(env)
            if kubeconfig:
                e["KUBECONFIG"] = kubeconfig
            p = subprocess.run([kubectl] + list(args), env=e, capture_output=True, text=True,
                               timeout=timeout)
            return p.returncode, p.stdout, p.stderr

        rc, out, err = k("create", "namespace", "logging")
        c.check(rc == 0 and out.strip() == "namespace/logging created",
                "create namespace", out + err)
        mf = os.path.join(home, "manifest.yaml")
        open(mf, "w").write(MANIFEST)
        rc, out, err = k("apply", "-f", mf)
        c.check(rc == 0 and out.split("\n")[:2] == ["pod/web created",
                                                     "endpoints/elasticsearch-logging created"],
                "apply -f creates a pod and an endpoints object", out + err)
        open(mf, "w").write(MANIFEST.replace("nginx:1.25", "nginx:1.26")
                            .replace("app: web", "app: web\n    tier: front"))
        rc, out, err = k("apply", "-f", mf)
        # endpoints "configured" too: its port got protocol TCP by default and
        # subsets is an atomic list, so the three-way patch replaces it, as
        # against a real server
        c.check(rc == 0 and out.split("\n")[:2] == ["pod/web configured",
                                                     "endpoints/elasticsearch-logging configured"],
                "apply -f again patches", out + err)
        pod = json.loads(k("-n", "logging", "get", "pod", "web", "-o", "json")[1])
        c.check(pod["spec"]["containers"][0]["image"] == "nginx:1.26"
                and pod["metadata"]["labels"] == {"app": "web", "tier": "front"}
                and "kubectl.kubernetes.io/last-applied-configuration"
                in pod["metadata"]["annotations"],
                "the strategic merge patch reached the store", pod.get("metadata"))
        rc, out, err = k("-n", "logging", "get", "pods")
        lines = out.splitlines()
        c.check(rc == 0 and len(lines) == 2
                and lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
                and lines[1].split()[:4] == ["web", "0/1", "Pending", "0"],
                "get pods prints the server's table", out + err)
        rc, out, err = k("-n", "logging", "get", "endpoints", "-o", "json")
        try:
            doc = json.loads(out)
            ips = [a["ip"] for a in doc["items"][0]["subsets"][0]["addresses"]]
        except (ValueError, KeyError, IndexError):
            doc, ips = {}, []
        c.check(rc == 0 and doc.get("kind") == "List" and ips == ["10.0.0.1", "10.0.0.2"],
                "get endpoints -o json", out + err)
        # get -w: a change made by another client arrives
        e = dict(env)
        w = subprocess.Popen([kubectl, "-n", "logging", "get", "pods", "-w"], env=e,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = []
        try:
            wait_for(lambda: fake.cmd("watches") == "1", 20, "kubectl's watch")
            fake.cmd('patch pods logging web {"status":{"phase":"Running","podIP":"10.1.1.7"}}')
            end = time.monotonic() + 20
            while time.monotonic() < end:
                line = w.stdout.readline()
                if not line:
                    break
                seen.append(line.rstrip())
                if "Running" in line:
                    break
        finally:
            w.kill()
            w.wait()
        c.check(any(l.split()[:3] == ["web", "0/1", "Running"] for l in seen),
                "get pods -w shows a change made by another client", "\n".join(seen))
        rc, out, err = k("-n", "logging", "delete", "pod", "web")
        c.check(rc == 0 and out.strip() == 'pod "web" deleted', "delete", out + err)
        rc, out, err = k("-n", "logging", "get", "pods")
        c.check(rc == 0 and "No resources found in logging namespace." in out + err,
                "the pod is gone", out + err)
        # 401: a kubeconfig with a bad token (no client certificate)
        bad = os.path.join(home, "bad.kubeconfig")
        json.dump({"apiVersion": "v1", "kind": "Config",
                   "clusters": [{"name": "c", "cluster": {
                       "server": fake.env["EFKSIM_APISERVER_URL"],
                       "certificate-authority": fake.env["EFKSIM_CA"]}}],
                   "users": [{"name": "u", "user": {"token": "not-a-valid-token"}}],
                   "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                   "current-context": "x"}, open(bad, "w"))
        rc, out, err = k("get", "pods", kubeconfig=bad)
        c.check(rc == 1 and err.strip().splitlines()[-1]
                == "error: You must be logged in to the server (Unauthorized)",
                "a bad token gets kubectl's Unauthorized line", err)
        # a rejected identity: the same
        fake.cmd("reject viewer")
        viewer_kc = os.path.join(fake.identity_dir("viewer"), "kubeconfig")
        rc, out, err = k("-n", "logging", "get", "pods", kubeconfig=viewer_kc)
        c.check(rc == 1 and "error: You must be logged in to the server (Unauthorized)" in err,
                "a rejected identity gets 401", err)
        fake.cmd("accept viewer")
        rc, out, err = k("-n", "logging", "get", "pods", kubeconfig=viewer_kc)
        c.check(rc == 0, "accepted again, it may list pods", out + err)
        # 403 in the wording of the persona (1.33)
        rc, out, err = k("get", "namespaces", kubeconfig=viewer_kc)
        c.check(rc == 1 and err.strip() == 'Error from server (Forbidden): namespaces is '
                'forbidden: User "viewer" cannot list resource "namespaces" in API group "" '
                'at the cluster scope', "a forbidden identity gets the 403 message", err)
    with Fake(serve_bin, dict(CONFIG, version="1.9")) as fake:
        # the pre-2018 wording, from a 1.9 persona
        env = dict(os.environ, HOME=home, KUBECACHEDIR=os.path.join(home, "cache19"),
                   KUBECONFIG=os.path.join(fake.identity_dir("viewer"), "kubeconfig"))
        p = subprocess.run([kubectl, "get", "namespaces"], env=env, capture_output=True,
                           text=True, timeout=60)
        c.check(p.returncode == 1 and p.stderr.strip().splitlines()[-1]
                == 'Error from server (Forbidden): namespaces is forbidden: User "viewer" '
                'cannot list namespaces at the cluster scope.',
                "a 1.9 persona's 403 wording", p.stderr)
    shutil.rmtree(home, ignore_errors=True)
    return c.done()
