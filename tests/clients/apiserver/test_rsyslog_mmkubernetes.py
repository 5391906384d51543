"""rsyslog's mmkubernetes (Debian bookworm, 8.2302) enriches a container log
line with pod and namespace metadata from the fake over https with a bearer
token file; then, with the identity rejected, the 401 case: rsyslog logs
mmkubernetes' Unauthorized message and the record carries only what the
file name says."""
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from harness import Fake, Checks, wait_for  # noqa: E402

RSYSLOGD = "/usr/sbin/rsyslogd"
CID = "0123456789abcdef" * 4

CONFIG = {
    "identities": [
        {"name": "system:serviceaccount:kube-system:rsyslog",
         "rules": [{"verbs": ["get"], "resources": ["pods", "namespaces"]}]},
    ],
    "objects": [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": "logging", "labels": {"team": "obs"}}},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "web", "namespace": "logging",
                      "labels": {"app": "web", "app.kubernetes.io/version": "2"}},
         "spec": {"nodeName": "node-1", "containers": [{"name": "nginx", "image": "nginx"}]},
         "status": {"phase": "Running", "podIP": "10.1.0.5"}},
    ],
}


def rsyslog_conf(work, url, ca, token, out, internal):
    return f"""
global(workDirectory="{work}" processInternalMessages="on")
module(load="imfile" mode="inotify")
module(load="mmkubernetes" kubernetesurl="{url}" tls.cacert="{ca}" tokenfile="{token}"
       filenamerules="rule=:{work}/containers/%pod_name:char-to:_%_%namespace_name:char-to:_%_%container_name_and_id:char-to:.%.log")
template(name="all" type="string" string="%$!%\\n")
input(type="imfile" file="{work}/containers/*.log" tag="kubernetes" addMetadata="on"
      ruleset="k8s")
ruleset(name="k8s") {{
  action(type="mmkubernetes")
  action(type="omfile" file="{out}" template="all")
}}
action(type="omfile" file="{internal}")
"""


def run_rsyslog(fake, name, line):
    work = os.path.join(fake.tmp, name)
    os.makedirs(os.path.join(work, "containers"))
    sa = fake.identity_dir("system:serviceaccount:kube-system:rsyslog")
    out = os.path.join(work, "out.json")
    internal = os.path.join(work, "internal.log")
    conf = os.path.join(work, "rsyslog.conf")
    open(conf, "w").write(rsyslog_conf(work, fake.env["EFKSIM_APISERVER_URL"],
                                       os.path.join(sa, "ca.crt"), os.path.join(sa, "token"),
                                       out, internal))
    log = os.path.join(work, "containers", "web_logging_nginx-%s.log" % CID)
    with open(log, "w") as f:
        f.write(json.dumps({"log": line + "\n", "stream": "stdout",
                            "time": "2026-01-01T00:00:00Z"}) + "\n")
    p = subprocess.Popen([RSYSLOGD, "-n", "-f", conf, "-i", os.path.join(work, "pid")],
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "err"), "w"))
    try:
        wait_for(lambda: os.path.exists(out) and open(out).read().count("\n") >= 1, 30,
                 "rsyslog's output")
        rec = json.loads(open(out).readline())
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    internal_text = open(internal).read() if os.path.exists(internal) else ""
    return rec, internal_text


def main():
    c = Checks()
    if not os.access(RSYSLOGD, os.X_OK):
        print("rsyslogd not installed")
        return 1
    with Fake(sys.argv[1], CONFIG) as fake:
        rec, _ = run_rsyslog(fake, "good", "hello from web")
        k = rec.get("kubernetes", {})
        c.check(k.get("pod_name") == "web" and k.get("namespace_name") == "logging"
                and k.get("container_name") == "nginx", "names from the file name", rec)
        c.check(k.get("host") == "node-1", "host from the pod's spec.nodeName", k)
        c.check(k.get("labels") == {"app": "web", "app_kubernetes_io/version": "2"},
                "labels from the fake, de-dotted", k.get("labels"))
        c.check(k.get("namespace_labels") == {"team": "obs",
                                              "kubernetes_io/metadata_name": "logging"},
                "namespace labels from the fake", k.get("namespace_labels"))
        c.check(len(k.get("pod_id", "")) == 36 and len(k.get("namespace_id", "")) == 36,
                "pod and namespace uids", k)
        c.check(rec.get("docker", {}).get("container_id") == CID, "container id", rec)
        gets = [(e["method"], e["path"], e["status"]) for e in fake.journal()]
        c.check(("GET", "/api/v1/namespaces/logging", 200) in gets
                and ("GET", "/api/v1/namespaces/logging/pods/web", 200) in gets,
                "the journal shows mmkubernetes' two GETs", gets)
        auth = [e.get("headers", {}).get("authorization", "") for e in fake.journal()]
        c.check(all(a.startswith("Bearer ") for a in auth) and auth,
                "with the token from the file", auth)
        # the 401 case: the identity is rejected; a fresh rsyslog cannot enrich
        fake.cmd("reject system:serviceaccount:kube-system:rsyslog")
        rec, internal = run_rsyslog(fake, "rejected", "hello again")
        k = rec.get("kubernetes", {})
        c.check(k.get("pod_name") == "web" and "pod_id" not in k and "labels" not in k,
                "rejected: only file-name metadata", rec)
        c.check("Unauthorized: not allowed to view url - check token/auth credentials" in internal,
                "rsyslog logs mmkubernetes' Unauthorized message", internal)
        statuses = [e["status"] for e in fake.journal()]
        c.check(statuses.count(401) >= 1, "the journal records the 401", statuses)
    return c.done()


sys.exit(main())
