"""Unit tests for fixtures/sut/es-discovery: its logic with a scripted API and
a virtual clock, client-go's error wording, and its HTTP path (the official
Python client) against a minimal local HTTP listener.

Run: /usr/bin/python3 -m unittest discover -s tests/clients/sut -p 'test_es*'
"""

import datetime
import http.server
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sutload  # noqa: E402

D = sutload.load("es-discovery", "es_discovery")

SEED_F = ("kube-system namespace doesn't exist: the server has asked for the client to "
          "provide credentials (get namespaces kube-system)")


class FakeIO:
    def __init__(self, environ=None, tmpdir=None, addr="192.0.2.2"):
        self.environ = dict(environ or {})
        if tmpdir:
            self.environ.setdefault("TMPDIR", tmpdir)
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()
        self.pid = 8
        self.program = "elasticsearch_logging_discovery"
        self.t = 0.0
        self.sleeps = []
        self.addr = addr

    def now(self):
        return datetime.datetime(2017, 3, 2, 3, 59, 41, 36697) + datetime.timedelta(seconds=self.t)

    def monotonic(self):
        return self.t

    def sleep(self, s):
        self.sleeps.append(s)
        self.t += s

    def hostname(self):
        return "elasticsearch-logging-v1-3bzt6.example"

    def username(self):
        return "root"

    def advertise_address(self):
        return self.addr


def eps(*ips):
    return types.SimpleNamespace(subsets=[types.SimpleNamespace(
        addresses=[types.SimpleNamespace(ip=ip) for ip in ips])])


class FakeApi:
    """Answers scripted per call; the last answer repeats. Each answer is an
    object or a GoError. Calls are recorded with the virtual time."""

    def __init__(self, fio, namespace=None, service=None, endpoints=None):
        self.fio = fio
        self.script = {"namespace": list(namespace or [object()]),
                       "service": list(service or [object()]),
                       "endpoints": list(endpoints or [eps()])}
        self.calls = []

    def _answer(self, kind, *args):
        self.calls.append((kind, args, self.fio.t))
        s = self.script[kind]
        a = s.pop(0) if len(s) > 1 else s[0]
        if isinstance(a, Exception):
            raise a
        return a

    def get_namespace(self, name):
        return self._answer("namespace", name)

    def get_service(self, ns, name):
        return self._answer("service", ns, name)

    def get_endpoints(self, ns, name):
        return self._answer("endpoints", ns, name)

    def kinds(self):
        return [c[0] for c in self.calls]


def run(environ, api_kw=None, argv=None, tmp=None):
    fio = FakeIO(environ, tmpdir=tmp)
    api = FakeApi(fio, **(api_kw or {}))
    code = D.run(argv or ["/elasticsearch_logging_discovery"], fio, api_factory=lambda b: api)
    return code, fio, api


class ClientGoErrors(unittest.TestCase):
    def test_seed_401_text_body(self):
        # kube-apiserver 1.3 answered 401 with a text/plain "Unauthorized".
        msg = D.client_go_error(1, 401, "text/plain; charset=utf-8", b"Unauthorized\n", "get",
                                "namespaces", "kube-system")
        self.assertEqual(msg, "the server has asked for the client to provide credentials "
                              "(get namespaces kube-system)")

    def test_401_status_json_is_its_message(self):
        body = json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {},
                           "status": "Failure", "message": "Unauthorized",
                           "reason": "Unauthorized", "code": 401})
        self.assertEqual(D.client_go_error(3, 401, "application/json", body, "get",
                                           "namespaces", "kube-system"), "Unauthorized")

    def test_403_status_pre_2018_wording_passes_through(self):
        m = ('namespaces "kube-system" is forbidden: User "system:serviceaccount:kube-system:'
             'default" cannot get namespaces in the namespace "kube-system"')
        body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                           "message": m, "reason": "Forbidden", "code": 403})
        self.assertEqual(D.client_go_error(1, 403, "application/json", body, "get",
                                           "namespaces", "kube-system"), m)

    def test_403_text_keeps_server_text(self):
        self.assertEqual(D.client_go_error(3, 403, "text/plain", "no way\n", "get", "services",
                                           "es"), "no way (get services es)")

    def test_non_status_json_is_unknown(self):
        self.assertEqual(D.client_go_error(3, 403, "application/json", "{}", "get",
                                           "namespaces", "x"), "unknown (get namespaces x)")
        self.assertEqual(D.client_go_error(3, 401, "application/json", '{"kind":"Status",'
                                           '"status":"Success"}', "get", "namespaces", "x"),
                         "the server has asked for the client to provide credentials "
                         "(get namespaces x)")

    def test_missing_content_type_counts_as_text(self):
        self.assertEqual(D.client_go_error(3, 500, None, "boom", "get", "endpoints", "e"),
                         'an error on the server ("boom") has prevented the request from '
                         'succeeding (get endpoints e)')
        self.assertEqual(D.client_go_error(3, 500, "text/html", "<b>\"x\"</b>\n", "get",
                                           "endpoints", "e"),
                         'an error on the server ("<b>\\"x\\"</b>") has prevented the request '
                         'from succeeding (get endpoints e)')

    def test_503_and_504_by_era(self):
        self.assertEqual(D.client_go_error(1, 503, "text/plain", "down", "get", "services",
                                           "s"),
                         'an error on the server ("down") has prevented the request from '
                         'succeeding (get services s)')
        self.assertEqual(D.client_go_error(3, 503, "text/plain", "down", "get", "services",
                                           "s"),
                         "the server is currently unable to handle the request "
                         "(get services s)")
        self.assertTrue(D.client_go_error(1, 504, "", "", "get", "services", "s").startswith(
            "the server cannot complete the requested operation at this time"))
        self.assertTrue(D.client_go_error(3, 504, "", "", "get", "services", "s").startswith(
            "the server was unable to return a response in the time allotted"))
        self.assertEqual(D.client_go_error(3, 418, "", "", "get", "services", "s"),
                         "the server responded with the status code 418 but did not return "
                         "more information (get services s)")

    def test_transport_wording_by_go_release(self):
        e = ConnectionRefusedError(111, "Connection refused")
        url = "https://127.0.0.1:1/api/v1/namespaces/kube-system"
        self.assertEqual(D.transport_error((1, 7), url, e),
                         "Get https://127.0.0.1:1/api/v1/namespaces/kube-system: dial tcp "
                         "127.0.0.1:1: getsockopt: connection refused")
        self.assertEqual(D.transport_error((1, 16), url, e),
                         'Get "https://127.0.0.1:1/api/v1/namespaces/kube-system": dial tcp '
                         '127.0.0.1:1: connect: connection refused')

    def test_go_atoi(self):
        self.assertEqual(D.go_atoi("2"), 2)
        self.assertEqual(D.go_atoi("+3"), 3)
        self.assertEqual(D.go_atoi(" 2"), 0)
        self.assertEqual(D.go_atoi("two"), 0)
        self.assertEqual(D.go_atoi(""), 0)
        self.assertEqual(D.go_atoi("99999999999999999999"), (1 << 63) - 1)


class Builds(unittest.TestCase):
    def test_defaults_and_majors(self):
        b, m = D.select_build({})
        self.assertEqual((b["name"], m), ("2016", 2))
        b, m = D.select_build({"ES_DISCOVERY_ES_MAJOR": "7"})
        self.assertEqual((b["name"], m), ("2019", 7))
        b, m = D.select_build({"ES_DISCOVERY_ES_MAJOR": "6", "ES_DISCOVERY_BUILD": "2019"})
        self.assertEqual((b["name"], m), ("2019", 6))
        for bad in ({"ES_DISCOVERY_BUILD": "2017"}, {"ES_DISCOVERY_ES_MAJOR": "8"},
                    {"ES_DISCOVERY_BUILD": "2016", "ES_DISCOVERY_ES_MAJOR": "7"},
                    {"ES_DISCOVERY_BUILD": "2021", "ES_DISCOVERY_ES_MAJOR": "6"}):
            with self.assertRaises(D.ConfigError):
                D.select_build(bad)

    def test_bad_knob_exits_64_with_message(self):
        code, fio, api = run({"ES_DISCOVERY_TIME_SCALE": "0"})
        self.assertEqual(code, 64)
        self.assertIn("ES_DISCOVERY_TIME_SCALE='0'", fio.stderr.getvalue())
        self.assertEqual(api.calls, [])


class Seed(unittest.TestCase):
    """The seed: build 2016, NAMESPACE set, the default account gets 401."""

    def test_401_is_fatal_with_the_seed_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            code, fio, api = run({"NAMESPACE": "kube-system"},
                                 {"namespace": [D.GoError(D.client_go_error(
                                     1, 401, "text/plain", "Unauthorized", "get", "namespaces",
                                     "kube-system"))]}, tmp=tmp)
            self.assertEqual(code, 255)
            self.assertEqual(fio.stdout.getvalue(), "")
            err = fio.stderr.getvalue().splitlines()
            self.assertEqual(err[0], "F0302 03:59:41.036697       8 "
                                     "elasticsearch_logging_discovery.go:60] " + SEED_F)
            self.assertEqual(err[1], "goroutine 1 [running]:")
            self.assertTrue(err[2].startswith(
                "k8s.io/kubernetes/vendor/github.com/golang/glog.stacks("))
            self.assertIn("main.main()", err)
            self.assertEqual(api.kinds(), ["namespace"])
            # glog: the I line went only to the INFO file, the F line to all files
            info = os.path.join(tmp, "elasticsearch_logging_discovery.INFO")
            with open(info) as f:
                text = f.read()
            self.assertIn("Log line format: [IWEF]mmdd hh:mm:ss.uuuuuu threadid file:line] msg",
                          text)
            self.assertIn("Running on machine: elasticsearch-logging-v1-3bzt6\n", text)
            self.assertIn("elasticsearch_logging_discovery.go:45] Kubernetes Elasticsearch "
                          "logging discovery\n", text)
            self.assertIn(":60] " + SEED_F, text)
            self.assertTrue(os.readlink(info).startswith(
                "elasticsearch_logging_discovery.elasticsearch-logging-v1-3bzt6.root.log."
                "INFO.20170302-035941.8"))
            self.assertTrue(os.path.exists(os.path.join(
                tmp, "elasticsearch_logging_discovery.FATAL")))
            self.assertNotIn("Kubernetes Elasticsearch logging discovery",
                             fio.stderr.getvalue())

    def test_dedicated_account_prints_the_two_ips(self):
        with tempfile.TemporaryDirectory() as tmp:
            code, fio, api = run({"NAMESPACE": "kube-system"},
                                 {"endpoints": [eps("172.30.0.11", "172.30.192.15")]}, tmp=tmp)
            self.assertEqual(code, 0)
            self.assertEqual(fio.stdout.getvalue(),
                             'discovery.zen.ping.unicast.hosts: ["172.30.0.11", '
                             '"172.30.192.15"]\n')
            self.assertEqual(fio.stderr.getvalue(), "")
            # the old rule: two polls with the same non-zero count, 10 s apart
            self.assertEqual(api.kinds(), ["namespace", "service", "endpoints", "endpoints"])
            self.assertEqual([c[2] for c in api.calls], [0, 0, 0, 10.0])
            self.assertEqual(api.calls[1][1], ("kube-system", "elasticsearch-logging"))
            with open(os.path.join(tmp, "elasticsearch_logging_discovery.INFO")) as f:
                text = f.read()
            self.assertIn(':91] Found ["172.30.0.11" "172.30.192.15"]\n', text)
            self.assertIn(':103] Endpoints = ["172.30.0.11" "172.30.192.15"]\n', text)

    def test_no_namespace_env_skips_the_namespace_call(self):
        code, fio, api = run({"ELASTICSEARCH_SERVICE_NAME": "ignored-in-2016"},
                             {"endpoints": [eps("10.0.0.1")]}, tmp=tempfile.gettempdir(),
                             argv=["x", "-logtostderr"])
        self.assertEqual(code, 0)
        self.assertEqual(api.kinds(), ["service", "endpoints", "endpoints"])
        self.assertEqual(api.calls[0][1], ("kube-system", "elasticsearch-logging"))
        # -logtostderr: the I lines are on stderr
        self.assertRegex(fio.stderr.getvalue(), r"^I0302 03:59:41\.036697       8 "
                         r"elasticsearch_logging_discovery\.go:45\] Kubernetes Elasticsearch "
                         r"logging discovery\n")


class Waiting(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def test_endpoints_appear_late_then_stabilise(self):
        code, fio, api = run({}, {"endpoints": [eps(), eps(), eps("10.0.0.1"),
                                                eps("10.0.0.1", "10.0.0.2"),
                                                eps("10.0.0.1", "10.0.0.2")]},
                             tmp=self.tmp.name)
        self.assertEqual(code, 0)
        self.assertEqual([c[2] for c in api.calls if c[0] == "endpoints"],
                         [0, 10.0, 20.0, 30.0, 40.0])
        self.assertEqual(fio.stdout.getvalue(),
                         'discovery.zen.ping.unicast.hosts: ["10.0.0.1", "10.0.0.2"]\n')

    def test_service_missing_for_a_while(self):
        nf = D.GoError("services \"elasticsearch-logging\" not found")
        code, fio, api = run({}, {"service": [nf, nf, nf, object()],
                                  "endpoints": [eps("10.0.0.1")]}, tmp=self.tmp.name)
        self.assertEqual(code, 0)
        self.assertEqual([c[2] for c in api.calls if c[0] == "service"], [0, 10, 20, 30])
        self.assertEqual([c[2] for c in api.calls if c[0] == "endpoints"], [30, 40])

    def test_service_never_found_still_polls_endpoints(self):
        # The typed client returns an empty object with the error, so the
        # real helper never takes its "Failed to find" branch.
        nf = D.GoError("x")
        code, fio, api = run({}, {"service": [nf], "endpoints": [D.GoError("gone")]},
                             tmp=self.tmp.name, argv=["x", "-logtostderr"])
        self.assertEqual(code, 0)
        self.assertEqual(len([k for k in api.kinds() if k == "service"]), 30)
        self.assertEqual(len([k for k in api.kinds() if k == "endpoints"]), 30)
        self.assertEqual(fio.stdout.getvalue(), "")
        self.assertNotIn("Failed to find", fio.stderr.getvalue())
        self.assertRegex(fio.stderr.getvalue(),
                         r"\nW0302 04:09:41\.036697       8 elasticsearch_logging_discovery"
                         r"\.go:99\] Error finding endpoints: gone\n$")

    def test_too_few_endpoints_minimum_rule_prints_what_it_has(self):
        code, fio, api = run({"ES_DISCOVERY_BUILD": "2019", "MINIMUM_MASTER_NODES": "2",
                              "ES_DISCOVERY_TIME_SCALE": "0.01"},
                             {"endpoints": [eps("10.0.0.1")]}, tmp=self.tmp.name)
        self.assertEqual(code, 0)
        ep_times = [round(c[2], 6) for c in api.calls if c[0] == "endpoints"]
        self.assertEqual(len(ep_times), 30)
        self.assertEqual(ep_times[:3], [0, 0.1, 0.2])
        self.assertEqual(fio.stdout.getvalue(),
                         'discovery.seed_hosts: ["10.0.0.1"]\n'
                         'cluster.initial_master_nodes: ["10.0.0.1"]\n')

    def test_minimum_rule_stops_when_enough(self):
        code, fio, api = run({"ES_DISCOVERY_ES_MAJOR": "6", "ES_DISCOVERY_BUILD": "2019",
                              "MINIMUM_MASTER_NODES": "2"},
                             {"endpoints": [eps("10.0.0.1"), eps("10.0.0.1", "10.0.0.2")]},
                             tmp=self.tmp.name)
        self.assertEqual(code, 0)
        self.assertEqual([c[2] for c in api.calls if c[0] == "endpoints"], [0, 10])
        self.assertEqual(fio.stdout.getvalue(),
                         'discovery.zen.ping.unicast.hosts: ["10.0.0.1", "10.0.0.2"]\n')

    def test_minimum_unset_takes_first_non_empty(self):
        code, fio, api = run({"ES_DISCOVERY_BUILD": "2019"},
                             {"endpoints": [eps(), eps("10.0.0.9")]}, tmp=self.tmp.name)
        self.assertEqual([c[2] for c in api.calls if c[0] == "endpoints"], [0, 10])
        self.assertIn('discovery.seed_hosts: ["10.0.0.9"]', fio.stdout.getvalue())

    def test_stable_rule_timeout_prints_unstable_list(self):
        seq = [eps("10.0.0.%d" % (i % 2 + 1)) if i % 2 else eps("10.0.0.1", "10.0.0.2")
               for i in range(40)]
        code, fio, api = run({}, {"endpoints": seq}, tmp=self.tmp.name)
        self.assertEqual(len(api.calls) - 1, 30)
        self.assertEqual(code, 0)
        self.assertTrue(fio.stdout.getvalue().startswith("discovery.zen.ping.unicast.hosts: ["))


class Builds2021(unittest.TestCase):
    def test_network_host_ipv6_and_klog2_on_stderr(self):
        code, fio, api = run({"ES_DISCOVERY_BUILD": "2021", "NAMESPACE": "logging",
                              "ELASTICSEARCH_SERVICE_NAME": "es"},
                             {"endpoints": [eps("fd00::10", "10.0.0.2")]})
        self.assertEqual(code, 0)
        self.assertEqual(fio.stdout.getvalue(),
                         'network.host: "192.0.2.2"\n\n'
                         'discovery.seed_hosts: ["[fd00::10]", "10.0.0.2"]\n'
                         'cluster.initial_master_nodes: ["[fd00::10]", "10.0.0.2"]\n')
        self.assertEqual(api.calls[0][1], ("logging",))
        self.assertEqual(api.calls[1][1], ("logging", "es"))
        err = fio.stderr.getvalue()
        self.assertIn(":86] Kubernetes Elasticsearch logging discovery\n", err)
        self.assertIn(':143] Found ["[fd00::10]" "10.0.0.2"]\n', err)

    def test_no_advertise_address_is_fatal_after_nothing_printed(self):
        fio = FakeIO({"ES_DISCOVERY_BUILD": "2021"}, addr=None)
        code = D.run(["x"], fio, api_factory=lambda b: self.fail("no API use"))
        self.assertEqual(code, 255)
        self.assertEqual(fio.stdout.getvalue(), "")
        self.assertIn(":90] Failed to get valid advertise address: no non-loopback address "
                      "is available\ngoroutine 1 [running]:", fio.stderr.getvalue())
        self.assertIn("goroutine 6 [chan receive]:", fio.stderr.getvalue())

    def test_klog_builds_take_no_flags(self):
        code, fio, api = run({"ES_DISCOVERY_BUILD": "2019"}, argv=["/x", "-logtostderr"])
        self.assertEqual(code, 2)
        self.assertEqual(fio.stderr.getvalue(),
                         "flag provided but not defined: -logtostderr\nUsage of /x:\n")
        self.assertEqual(api.calls, [])

    def test_glog_flag_errors(self):
        code, fio, _ = run({}, argv=["/x", "-bogus"])
        self.assertEqual(code, 2)
        self.assertTrue(fio.stderr.getvalue().startswith(
            "flag provided but not defined: -bogus\nUsage of /x:\n  -alsologtostderr\n"))
        code, fio, _ = run({}, argv=["/x", "-log_dir"])
        self.assertEqual(code, 2)
        self.assertTrue(fio.stderr.getvalue().startswith("flag needs an argument: -log_dir\n"))


class Http(unittest.TestCase):
    """The real HTTP path (python3-kubernetes) against a local listener that
    records requests: APISERVER_HOST (plain HTTP, build 2018) and the exact
    wording for the answers a real apiserver gives."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            srv = self.server
            srv.seen.append((self.path, dict(self.headers)))
            code, ctype, body, extra = srv.answer(self.path, len(srv.seen))
            data = body.encode()
            self.send_response(code)
            if ctype:
                self.send_header("Content-Type", ctype)
            for k, v in extra.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def serve(self, answer):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self.Handler)
        srv.seen = []
        srv.answer = answer
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        return srv

    def exe(self, env):
        e = {"PATH": "/usr/bin:/bin", "TMPDIR": tempfile.gettempdir()}
        e.update(env)
        return subprocess.run([sutload.sut_path("es-discovery")], env=e, capture_output=True,
                              text=True, timeout=60)

    def test_401_text_over_http(self):
        srv = self.serve(lambda p, n: (401, "text/plain; charset=utf-8", "Unauthorized\n", {}))
        r = self.exe({"ES_DISCOVERY_BUILD": "2018", "NAMESPACE": "kube-system",
                      "APISERVER_HOST": "http://127.0.0.1:%d" % srv.server_port})
        self.assertEqual(r.returncode, 255)
        self.assertEqual(r.stdout, "")
        self.assertRegex(r.stderr.splitlines()[0],
                         r"^F\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ elasticsearch_logging_discovery"
                         r"\.go:78\] " + re.escape(SEED_F) + "$")
        self.assertEqual([s[0] for s in srv.seen], ["/api/v1/namespaces/kube-system"])
        self.assertNotIn("Authorization", srv.seen[0][1])
        self.assertTrue(srv.seen[0][1]["User-Agent"].startswith("es-discovery/v0.0.0 "))

    def test_403_status_and_success_path(self):
        forbidden = json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {},
                                "status": "Failure", "message": "namespaces \"kube-system\" "
                                "is forbidden: nope", "reason": "Forbidden", "code": 403})
        srv = self.serve(lambda p, n: (403, "application/json", forbidden, {}))
        r = self.exe({"ES_DISCOVERY_BUILD": "2018", "NAMESPACE": "kube-system",
                      "APISERVER_HOST": "http://127.0.0.1:%d" % srv.server_port})
        self.assertEqual(r.returncode, 255)
        self.assertIn(':78] kube-system namespace doesn\'t exist: namespaces "kube-system" is '
                      'forbidden: nope\n', r.stderr)

        def ok(path, n):
            if path.endswith("/endpoints/es-logging"):
                return (200, "application/json", json.dumps({
                    "kind": "Endpoints", "apiVersion": "v1",
                    "metadata": {"name": "es-logging", "namespace": "logging"},
                    "subsets": [{"addresses": [{"ip": "10.1.0.5"}, {"ip": "10.1.0.6"}],
                                 "notReadyAddresses": [{"ip": "10.1.0.7"}]}]}), {})
            if "/services/" in path:
                return (200, "application/json", json.dumps({
                    "kind": "Service", "apiVersion": "v1",
                    "metadata": {"name": "es-logging", "namespace": "logging"}}), {})
            return (200, "application/json", json.dumps({
                "kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "logging"}}), {})
        srv = self.serve(ok)
        r = self.exe({"ES_DISCOVERY_BUILD": "2018", "NAMESPACE": "logging",
                      "ELASTICSEARCH_SERVICE_NAME": "es-logging",
                      "ES_DISCOVERY_TIME_SCALE": "0.001",
                      "APISERVER_HOST": "http://127.0.0.1:%d" % srv.server_port})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, 'discovery.zen.ping.unicast.hosts: ["10.1.0.5", "10.1.0.6"]\n')
        self.assertEqual([s[0] for s in srv.seen],
                         ["/api/v1/namespaces/logging", "/api/v1/namespaces/logging/services/"
                          "es-logging", "/api/v1/namespaces/logging/endpoints/es-logging",
                          "/api/v1/namespaces/logging/endpoints/es-logging"])

    def test_retry_after_is_honoured_ten_times(self):
        srv = self.serve(lambda p, n: (429, "application/json", "{}", {"Retry-After": "1"}))
        r = self.exe({"ES_DISCOVERY_BUILD": "2018", "NAMESPACE": "kube-system",
                      "ES_DISCOVERY_TIME_SCALE": "0.001",
                      "APISERVER_HOST": "http://127.0.0.1:%d" % srv.server_port})
        self.assertEqual(r.returncode, 255)
        self.assertEqual(len(srv.seen), 11)
        self.assertIn("namespace doesn't exist: the server has received too many requests and "
                      "has asked us to try again later (get namespaces kube-system)\n", r.stderr)

    def test_connection_refused_wording(self):
        srv = self.serve(lambda p, n: (200, "", "", {}))
        port = srv.server_port
        srv.shutdown()
        srv.server_close()
        r = self.exe({"ES_DISCOVERY_BUILD": "2018", "NAMESPACE": "kube-system",
                      "APISERVER_HOST": "http://127.0.0.1:%d" % port})
        self.assertEqual(r.returncode, 255)
        self.assertIn("kube-system namespace doesn't exist: Get http://127.0.0.1:%d/api/v1/"
                      "namespaces/kube-system: dial tcp 127.0.0.1:%d: connect: connection "
                      "refused\n" % (port, port), r.stderr)

    def test_in_cluster_config_errors(self):
        with tempfile.TemporaryDirectory() as sa:
            r = self.exe({"NAMESPACE": "kube-system"})
            self.assertEqual(r.returncode, 255)
            self.assertIn(":49] Failed to make client: unable to load in-cluster configuration,"
                          " KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined\n",
                          r.stderr)
            r = self.exe({"EFKSIM_SA_DIR": sa, "KUBERNETES_SERVICE_HOST": "127.0.0.1",
                          "KUBERNETES_SERVICE_PORT": "1"})
            self.assertEqual(r.returncode, 255)
            self.assertIn(":49] Failed to make client: open %s/token: no such file or "
                          "directory\n" % sa, r.stderr)

    def test_in_cluster_configuration(self):
        with tempfile.TemporaryDirectory() as sa:
            with open(os.path.join(sa, "token"), "w") as f:
                f.write("tok-123")
            with open(os.path.join(sa, "ca.crt"), "w") as f:
                f.write("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
            build, _ = D.select_build({"ES_DISCOVERY_BUILD": "2021"})
            log = D.GoLog("klog2", "x", FakeIO())
            cfg = D.make_configuration(build, {"EFKSIM_SA_DIR": sa,
                                               "KUBERNETES_SERVICE_HOST": "::1",
                                               "KUBERNETES_SERVICE_PORT": "6443"}, log)
            self.assertEqual(cfg.host, "https://[::1]:6443")
            self.assertEqual(cfg.ssl_ca_cert, os.path.join(sa, "ca.crt"))
            self.assertEqual(cfg.get_api_key_with_prefix("authorization"), "Bearer tok-123")
            os.unlink(os.path.join(sa, "ca.crt"))
            fio = FakeIO()
            log = D.GoLog("klog2", "x", fio)
            cfg = D.make_configuration(build, {"EFKSIM_SA_DIR": sa,
                                               "KUBERNETES_SERVICE_HOST": "127.0.0.1",
                                               "KUBERNETES_SERVICE_PORT": "6443"}, log)
            self.assertEqual(cfg.host, "https://127.0.0.1:6443")
            self.assertRegex(fio.stderr.getvalue(),
                             r"^E0302 03:59:41\.036697       8 config\.go:489\] Expected to load "
                             r"root CA config from " + re.escape(sa) + r"/ca\.crt, but got err: "
                             r"open " + re.escape(sa) + r"/ca\.crt: no such file or directory\n$")


if __name__ == "__main__":
    unittest.main()
