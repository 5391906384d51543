"""A minimal in-test HTTP listener that answers the few GETs mmkubernetes
makes and the bulk POSTs omelasticsearch makes, recording every request.

It exists only to test the fixtures' own logic (their configuration and the
agent's reaction to a 401) before efksim's fakes are on main; the same
behaviours are then exercised against the real fakes in scenarios. Nothing
here tries to be faithful beyond what those tests assert.
"""

import http.server
import json
import threading


class Stub:
    def __init__(self, token):
        self.token = token
        self.accept = False          # False: every API GET gets a 401 Status
        self.requests = []           # (method, path, headers, body)
        self.bulk_items = None       # None: every item 201; else a list of statuses
        self.lock = threading.Lock()
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def reply(self, code, obj):
                b = json.dumps(obj, separators=(",", ":")).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(b)))
                self.end_headers()
                self.wfile.write(b)

            def do_GET(self):
                with stub.lock:
                    stub.requests.append(("GET", self.path, dict(self.headers), b""))
                    accept = stub.accept
                if self.path.startswith("/_cat/health"):
                    return self.reply(200, [])
                if not accept or self.headers.get("Authorization") != "Bearer " + stub.token:
                    return self.reply(401, {"kind": "Status", "apiVersion": "v1",
                                            "metadata": {}, "status": "Failure",
                                            "message": "Unauthorized", "reason": "Unauthorized",
                                            "code": 401})
                p = self.path.split("/")
                if len(p) == 5 and p[3] == "namespaces":
                    return self.reply(200, {"kind": "Namespace", "apiVersion": "v1",
                                            "metadata": {"name": p[4], "uid": "ns-uid-" + p[4],
                                                         "labels": {"team": "logging"},
                                                         "creationTimestamp":
                                                             "2017-01-01T00:00:00Z"}})
                if len(p) == 7 and p[5] == "pods":
                    return self.reply(200, {"kind": "Pod", "apiVersion": "v1",
                                            "metadata": {"name": p[6], "namespace": p[4],
                                                         "uid": "pod-uid-" + p[6],
                                                         "labels": {"app": p[6]}},
                                            "spec": {"nodeName": "node2"}, "status": {}})
                return self.reply(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                        "reason": "NotFound", "code": 404, "message": "nope"})

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with stub.lock:
                    stub.requests.append(("POST", self.path, dict(self.headers), body))
                    statuses = stub.bulk_items
                lines = [l for l in body.decode().split("\n") if l]
                items = []
                for i in range(len(lines) // 2):
                    st = statuses.pop(0) if statuses else 201
                    item = {"_index": "kubernetes-logs", "_type": "_doc", "_id": str(i),
                            "status": st}
                    if st >= 300:
                        item["error"] = {"type": "es_rejected_execution_exception",
                                         "reason": "rejected execution"}
                    items.append({"index": item})
                self.reply(200, {"took": 1, "errors": any(i["index"]["status"] >= 300
                                                          for i in items), "items": items})

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = "http://127.0.0.1:%d" % self.server.server_port

    def set_accept(self, v):
        with self.lock:
            self.accept = v

    def gets(self):
        with self.lock:
            return [r[1] for r in self.requests if r[0] == "GET" and r[1].startswith("/api/")]

    def bulks(self):
        with self.lock:
            return [r for r in self.requests if r[0] == "POST"]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
