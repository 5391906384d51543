"""Tests for fixtures/rsyslog/rsyslog.conf.in with the real rsyslogd 8.2302:

- every variant the parameters give is a configuration rsyslogd accepts;
- the pipeline (imfile -> mmjsonparse/mmnormalize -> mmkubernetes ->
  omelasticsearch) enriches and ships a line;
- what mmkubernetes 8.2302 does after a 401, measured: the records of a pod
  first seen during the 401 carry only what the file name gives, and keep
  that after the API server accepts the token again, until `cacheentryttl`
  (default 3600 s) has passed; `cacheexpireinterval=-1` (the default) does not
  make entries immortal, since the per-entry TTL is checked on lookup.

rsyslogd runs in the foreground with its own config, pid file and work dir
(`rsyslogd -n -f CONF -i PIDFILE`); the system daemon is never touched.
"""

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtmpl  # noqa: E402
from fakes import wait_for  # noqa: E402
import stubsrv  # noqa: E402
import sutload  # noqa: E402

TEMPLATE = os.path.join(sutload.SOURCE_DIR, "fixtures", "rsyslog", "rsyslog.conf.in")
RSYSLOGD = shutil.which("rsyslogd", path="/usr/sbin:/usr/bin:/sbin:/bin")
CID = "0123456789abcdef" * 4

PARSERS = {"docker": '    action(type="mmjsonparse" cookie="")',
           "cri": '    action(type="mmnormalize" rule=["rule=:%time:word% %stream:word% '
                  '%logtag:word% %log:rest%"])'}


class Agent:
    """A rendered config in a private work dir, and rsyslogd running it."""

    def __init__(self, test, params, api_url, es_url, ca=None, sa_dir=None):
        self.dir = tempfile.mkdtemp(prefix="efk-rsyslog-")
        test.addCleanup(shutil.rmtree, self.dir, True)
        os.makedirs(os.path.join(self.dir, "var", "log", "containers"))
        self.ca = ca or os.path.join(self.dir, "ca.crt")
        if ca is None:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                            os.path.join(self.dir, "ca.key"), "-out", self.ca, "-days", "1",
                            "-subj", "/CN=efksim-test-ca"], check=True, capture_output=True)
        with open(os.path.join(self.dir, "token"), "w") as f:
            f.write("tok-rsyslog")
        if ca is None:
            shutil.copy(self.ca, os.path.join(self.dir, "client.crt"))
            shutil.copy(os.path.join(self.dir, "ca.key"), os.path.join(self.dir, "client.key"))
        self.sa_dir = sa_dir or self.dir
        values = {"workdir": self.dir, "apiserver.url": api_url, "es.url": es_url,
                  "ca": self.ca}
        values.update(("vars." + k, v)
                      for k, v in params.items())
        with open(TEMPLATE) as f:
            self.conf_text = rtmpl.render(f.read(), values)
        self.conf = os.path.join(self.dir, "rsyslog.conf")
        with open(self.conf, "w") as f:
            f.write(self.conf_text)
        self.proc = None
        self.test = test

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def environ(self):
        """What the runner gives a process: EFKSIM_WORKDIR, and EFKSIM_SA_DIR
        of its identity (here a dir with token, client.crt, client.key)."""
        env = dict(os.environ)
        env["EFKSIM_WORKDIR"] = self.dir
        env["EFKSIM_SA_DIR"] = self.sa_dir
        return env

    def check(self):
        return subprocess.run([RSYSLOGD, "-N1", "-f", self.conf], capture_output=True,
                              text=True, timeout=30, env=self.environ())

    def start(self):
        with open(self.path("rsyslogd.stderr"), "w") as err:
            self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", self.conf, "-i",
                                          self.path("rsyslogd.pid")],
                                         stdout=subprocess.DEVNULL, stderr=err,
                                         env=self.environ())
        self.test.addCleanup(self.stop)
        wait_for(lambda: "start" in self.read("rsyslog-internal.log"), what="rsyslogd start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def read(self, name):
        try:
            with open(self.path(name)) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def records(self):
        return [json.loads(l) for l in self.read("rsyslog-out.json").splitlines() if l]

    def write_docker(self, pod, text, ns="default", container="app"):
        with open(self.path("var", "log", "containers",
                            "%s_%s_%s-%s.log" % (pod, ns, container, CID)), "a") as f:
            f.write(json.dumps({"log": text + "\n", "stream": "stdout",
                                "time": "2017-03-02T03:59:41.036697Z"}) + "\n")

    def write_cri(self, pod, text, ns="default", container="app"):
        with open(self.path("var", "log", "containers",
                            "%s_%s_%s-%s.log" % (pod, ns, container, CID)), "a") as f:
            f.write("2017-03-02T03:59:41.036697000Z stdout F %s\n" % text)


def base_params(**over):
    p = {"log_parser": PARSERS["docker"],
         "k8s_auth": '           tokenfile=`echo $EFKSIM_SA_DIR/token`',
         "k8s_options": "",
         "es_version_line": "",
         "es_errorfile_line": "",
         "es_retry_line": "",
         "es_queue_lines": ""}
    p.update(over)
    return p


@unittest.skipIf(RSYSLOGD is None, "rsyslogd (Debian package rsyslog) is not installed")
class Variants(unittest.TestCase):
    def test_every_variant_is_a_valid_config(self):
        auth = {"token": '           tokenfile=`echo $EFKSIM_SA_DIR/token`',
                "cert": '           tls.mycert=`echo $EFKSIM_SA_DIR/client.crt` '
                        'tls.myprivkey=`echo $EFKSIM_SA_DIR/client.key`'}
        version = {"0": "", "7": '           esVersion.major="7"',
                   "8": '           esVersion.major="8"'}
        errorfile = {"off": "", "on": '           errorfile=`echo $EFKSIM_WORKDIR/es-errors.json`'}
        retry = {"off": "", "on": '           retryfailures="on" retryruleset="efk_es"'}
        queue = {"direct": "",
                 "disk": '           queue.type="LinkedList" queue.size="100000"\n'
                         '           queue.filename="efk_es" queue.maxDiskSpace="64m"\n'
                         '           action.resumeRetryCount="-1" action.resumeInterval="1"'}
        combos = list(itertools.product(PARSERS, auth, version, errorfile, retry, queue))
        for parser, a, v, e, r, q in combos[::3] + [combos[-1]]:
            agent = Agent(self, base_params(log_parser=PARSERS[parser], k8s_auth=auth[a],
                                            es_version_line=version[v],
                                            es_errorfile_line=errorfile[e],
                                            es_retry_line=retry[r], es_queue_lines=queue[q]),
                          "http://127.0.0.1:1", "http://127.0.0.1:2")
            res = agent.check()
            self.assertEqual(res.returncode, 0, (parser, a, v, e, r, q, res.stderr))
            self.assertNotIn("error", res.stderr.lower(), (parser, a, v, e, r, q))

    def test_a_bad_parameter_is_refused(self):
        agent = Agent(self, base_params(es_version_line='           esVersion.mayor="7"'),
                      "http://127.0.0.1:1", "http://127.0.0.1:2")
        res = agent.check()
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("esVersion.mayor", res.stderr)

    def test_template_names_only_known_values(self):
        with open(TEMPLATE) as f:
            text = f.read()
        with self.assertRaises(KeyError):
            rtmpl.render(text, {"workdir": "/w"})


@unittest.skipIf(RSYSLOGD is None, "rsyslogd (Debian package rsyslog) is not installed")
class Pipeline(unittest.TestCase):
    def setUp(self):
        self.stub = stubsrv.Stub("tok-rsyslog")
        self.addCleanup(self.stub.close)

    def test_docker_line_enriched_and_bulked(self):
        self.stub.set_accept(True)
        agent = Agent(self, base_params(es_version_line='           esVersion.major="7"'),
                      self.stub.url, self.stub.url)
        agent.start()
        agent.write_docker("index-api-3362878852-9tm9j", "efk:web:1 hello")
        rec = wait_for(agent.records, what="an enriched record")[0]
        self.assertEqual(rec["log"], "efk:web:1 hello\n")
        k = rec["kubernetes"]
        self.assertEqual(k["pod_name"], "index-api-3362878852-9tm9j")
        self.assertEqual(k["namespace_name"], "default")
        self.assertEqual(k["container_name"], "app")
        self.assertEqual(k["pod_id"], "pod-uid-index-api-3362878852-9tm9j")
        self.assertEqual(k["namespace_id"], "ns-uid-default")
        self.assertEqual(k["host"], "node2")
        self.assertEqual(k["labels"], {"app": "index-api-3362878852-9tm9j"})
        self.assertEqual(rec["docker"]["container_id"], CID)
        self.assertEqual(self.stub.gets(), ["/api/v1/namespaces/default",
                                            "/api/v1/namespaces/default/pods/"
                                            "index-api-3362878852-9tm9j"])
        auth = [r[2].get("Authorization") for r in self.stub.requests if r[1].startswith("/api")]
        self.assertEqual(set(auth), {"Bearer tok-rsyslog"})
        bulk = wait_for(self.stub.bulks, what="a bulk request")[0]
        self.assertEqual(bulk[1], "/_bulk")
        self.assertEqual(bulk[2]["Content-Type"], "application/json; charset=utf-8")
        lines = bulk[3].decode().split("\n")
        self.assertEqual(json.loads(lines[0]), {"index": {"_index": "kubernetes-logs",
                                                          "_type": "events"}})
        self.assertEqual(json.loads(lines[1])["log"], "efk:web:1 hello\n")

    def test_cri_line(self):
        self.stub.set_accept(True)
        agent = Agent(self, base_params(log_parser=PARSERS["cri"],
                                        es_version_line='           esVersion.major="8"'),
                      self.stub.url, self.stub.url)
        agent.start()
        agent.write_cri("web-0", "efk:web:7 from cri")
        rec = wait_for(agent.records, what="an enriched record")[0]
        self.assertEqual(rec["log"], "efk:web:7 from cri")
        self.assertEqual(rec["stream"], "stdout")
        self.assertEqual(rec["kubernetes"]["pod_id"], "pod-uid-web-0")
        bulk = wait_for(self.stub.bulks, what="a bulk request")[0]
        self.assertEqual(json.loads(bulk[3].decode().split("\n")[0]),
                         {"index": {"_index": "kubernetes-logs"}})

    def test_item_failure_goes_to_the_errorfile(self):
        self.stub.set_accept(True)
        self.stub.bulk_items = [429]
        agent = Agent(self, base_params(es_errorfile_line='           errorfile=`echo '
                                                          '$EFKSIM_WORKDIR/es-errors.json`'),
                      self.stub.url, self.stub.url)
        agent.start()
        agent.write_docker("web-1", "efk:web:1 rejected")
        text = wait_for(lambda: agent.read("es-errors.json"), what="the errorfile")
        err = json.loads(text.splitlines()[0])
        self.assertEqual(err["request"]["url"], self.stub.url + "/_bulk")
        self.assertIn("efk:web:1 rejected", err["request"]["postdata"])
        self.assertEqual(err["reply"]["items"][0]["index"]["status"], 429)


@unittest.skipIf(RSYSLOGD is None, "rsyslogd (Debian package rsyslog) is not installed")
class Unauthorized(unittest.TestCase):
    """What rsyslog 8.2302's mmkubernetes does with a 401 (issue 7's claim)."""

    def setUp(self):
        self.stub = stubsrv.Stub("tok-rsyslog")
        self.addCleanup(self.stub.close)

    def run_case(self, ttl_line, ttl_wait):
        agent = Agent(self, base_params(k8s_options=ttl_line), self.stub.url, self.stub.url)
        agent.start()
        agent.write_docker("pod-a", "efk:a:1 during-401")
        wait_for(lambda: len(agent.records()) >= 1, what="record a:1")
        self.assertIn("mmkubernetes: Unauthorized: not allowed to view url - check token/auth "
                      "credentials [%s/api/v1/namespaces/default]" % self.stub.url,
                      agent.read("rsyslog-internal.log"))
        fixed_at = time.monotonic()
        self.stub.set_accept(True)
        agent.write_docker("pod-a", "efk:a:2 after-fix")
        agent.write_docker("pod-b", "efk:b:1 new-pod-after-fix")
        wait_for(lambda: len(agent.records()) >= 3, what="records a:2, b:1")
        if ttl_wait:
            # let the cache TTL pass (a duration under test, not a readiness wait)
            time.sleep(max(0.0, ttl_wait - (time.monotonic() - fixed_at)))
        agent.write_docker("pod-a", "efk:a:3 later")
        wait_for(lambda: len(agent.records()) >= 4, what="record a:3")
        return {r["log"].split()[0]: r["kubernetes"] for r in agent.records()}

    def test_default_ttl_keeps_pods_seen_during_the_401_without_metadata(self):
        k = self.run_case("", 0)
        for key in ("efk:a:1", "efk:a:2", "efk:a:3"):
            self.assertEqual(sorted(k[key]), ["container_name", "master_url", "namespace_name",
                                              "pod_name"], key)
        # a pod first seen after the fix gets its pod metadata, but the
        # namespace looked up during the 401 stays empty
        self.assertEqual(k["efk:b:1"]["pod_id"], "pod-uid-pod-b")
        self.assertNotIn("namespace_id", k["efk:b:1"])
        # nothing asked the API server for pod-a again
        self.assertEqual(self.stub.gets().count("/api/v1/namespaces/default/pods/pod-a"), 1)

    def test_short_ttl_recovers_after_it_expires(self):
        k = self.run_case('           cacheentryttl="2"', 3.0)
        self.assertNotIn("pod_id", k["efk:a:2"])
        self.assertEqual(k["efk:a:3"]["pod_id"], "pod-uid-pod-a")
        self.assertEqual(k["efk:a:3"]["namespace_id"], "ns-uid-default")
        self.assertEqual(self.stub.gets().count("/api/v1/namespaces/default/pods/pod-a"), 2)


if __name__ == "__main__":
    unittest.main()
