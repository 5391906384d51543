#!/usr/bin/python3
"""rsyslog's omelasticsearch (bulkmode on, errorfile set) ships log lines
into the fake; then, with one injected item 429, the rejected line is
written to the error file (request and reply) and reported lost by the
delivery accounting, exactly as rsyslog 8.2302 behaves against a real ES.

rsyslogd runs in the foreground (-n) with a private config, work dir and pid
file; the system rsyslog is never touched.

usage: rsyslog_omes.py   (EFKSIM_BUILD_DIR points at the build tree)
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import harness  # noqa: E402

BIN = os.path.join(os.environ["EFKSIM_BUILD_DIR"], "bin", "es_testserver")
RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
failures = []


def check(name, got, want):
    if got != want:
        failures.append(name)
        print(f"FAIL {name}: got {got!r}, want {want!r}")


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, json.loads(r.read() or b"null")


def wait_for(what, fn, timeout=30):
    """harness.wait_for, with a timeout counted as a failed check."""
    try:
        return harness.wait_for(fn, timeout, what)
    except AssertionError as e:
        failures.append(what)
        print(f"FAIL {what}: {e}")
        return None


def delivery(url, stream):
    return http("GET", f"{url}/_efksim/delivery?stream={stream}")[1]["streams"].get(stream, {})


tmp = tempfile.mkdtemp(prefix="efksim-rsyslog-")
es = subprocess.Popen([BIN, "-c", '{"version":"7.17"}'], stdin=subprocess.PIPE,
                      stdout=subprocess.PIPE, text=True)
url = None
for line in es.stdout:
    if line.startswith("EFKSIM_ES_URL="):
        url = line.strip().split("=", 1)[1]
    if line.strip() == "ready":
        break
port = url.rsplit(":", 1)[1]
log = os.path.join(tmp, "app.log")
errfile = os.path.join(tmp, "es-errors.json")
work = os.path.join(tmp, "work")
os.mkdir(work)
open(log, "w").close()
conf = os.path.join(tmp, "rsyslog.conf")
with open(conf, "w") as f:
    f.write(f"""
global(workDirectory="{work}")
module(load="imfile")
module(load="omelasticsearch")
template(name="doc" type="list" option.jsonf="on") {{
    property(outname="message" name="msg" format="jsonf")
    property(outname="tag" name="syslogtag" format="jsonf")
}}
input(type="imfile" file="{log}" tag="app" ruleset="toes")
ruleset(name="toes") {{
    action(type="omelasticsearch" server="127.0.0.1" serverport="{port}"
           template="doc" searchIndex="rsyslog" bulkmode="on"
           errorfile="{errfile}" action.resumeRetryCount="-1")
}}
""")
rs = subprocess.Popen([RSYSLOGD, "-n", "-f", conf, "-i", os.path.join(tmp, "rsyslogd.pid")],
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
try:
    # 1. lines arrive
    with open(log, "a") as f:
        for i in range(1, 101):
            f.write(f"efk:rs:{i} hello from rsyslog line {i}\n")
    d = wait_for("100 lines delivered", lambda: (lambda r: r if r.get("delivered") == 100 else None)(
        delivery(url, "rs")))
    if d:
        check("lost", d["lost"], 0)
        check("duplicated", d["duplicated"], 0)
    st, cnt = http("GET", f"{url}/rsyslog/_count")
    check("count", cnt["count"], 100)
    st, hits = http("POST", f"{url}/rsyslog/_search",
                    {"query": {"match_phrase": {"message": "efk:rs:42 hello"}}})
    check("search finds line 42", hits["hits"]["total"]["value"], 1)
    # rsyslog 8.2302 sends a _type: the 7.17 persona takes it
    check("type", hits["hits"]["hits"][0]["_type"] if hits["hits"]["hits"] else None, "events")
    check("no error file yet", os.path.exists(errfile), False)

    # 2. one item rejected with 429: rsyslog writes request and reply to the
    # error file and does not retry, so that line is lost
    st, _ = http("POST", f"{url}/_efksim/faults",
                 {"id": "reject-one", "match": {"path": "*_bulk"}, "action": "es_items",
                  "params": {"status": 429, "positions": [1]}, "times": 1})
    check("fault added", st, 201)
    with open(log, "a") as f:
        f.write("efk:rs:101 this one is rejected\n")
    wait_for("error file written", lambda: os.path.exists(errfile) and os.path.getsize(errfile) > 0)
    with open(log, "a") as f:
        for i in range(102, 111):
            f.write(f"efk:rs:{i} after the fault\n")
    d = wait_for("110 lines accounted", lambda: (lambda r: r if r.get("max_seq") == 110 and
                                                 r.get("delivered") == 109 else None)(delivery(url, "rs")))
    if d:
        check("lost after 429", d["lost"], 1)
        check("lost range", d["lost_ranges"], [[101, 101]])
    entries = [json.loads(l) for l in open(errfile) if l.strip()]
    check("error file entries", len(entries), 1)
    if entries:
        e = entries[0]
        check("errorfile url", e["request"]["url"].endswith("/_bulk"), True)
        check("errorfile postdata", "efk:rs:101 this one is rejected" in e["request"]["postdata"], True)
        check("errorfile action line", '"_type":"events"' in e["request"]["postdata"], True)
        reply = e["reply"]
        check("errorfile reply keys", list(reply.keys()), ["took", "errors", "items"])
        check("errorfile errors", reply["errors"], True)
        item = reply["items"][0]["index"]
        check("errorfile item status", item["status"], 429)
        check("errorfile item error", item["error"]["type"], "es_rejected_execution_exception")
finally:
    rs.send_signal(signal.SIGTERM)
    try:
        out, _ = rs.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        rs.kill()
        out, _ = rs.communicate()
    es.stdin.close()
    check("server exit status", es.wait(timeout=10), 0)
    if failures:
        print("rsyslogd output:\n" + (out or ""))
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{0 if failures else 1} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
