#!/bin/bash
# Benchmark of the fake API server (by hand; never a test):
#  1. GETs of one pod over keep-alive HTTPS with a bearer token: wrk -t1 -c4
#     for $DURATION seconds (default 5) against apis_serve, requests/s;
#  2. watch fan-out: 100 watchers over HTTPS, the time from a write to the
#     last watcher's event (apiserver_fanout).
# Usage: tests/bench/apiserver.sh [BUILD_DIR]   (default: build)
set -euo pipefail
BUILD=${1:-build}
DURATION=${DURATION:-5}
SERVE=$BUILD/bin/apis_serve
FANOUT=$BUILD/bin/apiserver_fanout
for b in "$SERVE" "$FANOUT"; do
  [ -x "$b" ] || { echo "missing $b: build first (cmake --build $BUILD)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }

TMP=$(mktemp -d)
cleanup() {
  [ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null || true
  [ -n "${HOLD_PID:-}" ] && kill "$HOLD_PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
cat > "$TMP/cfg.json" <<'JSON'
{"identities": [{"name": "admin", "groups": ["system:masters"], "token": "bench-token"}],
 "objects": [{"apiVersion": "v1", "kind": "Pod",
              "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
              "spec": {"nodeName": "node-1", "containers": [{"name": "nginx", "image": "nginx:1.25"}]},
              "status": {"phase": "Running", "podIP": "10.1.0.5"}}]}
JSON
mkfifo "$TMP/in"
sleep 3600 > "$TMP/in" &
HOLD_PID=$!
"$SERVE" --workdir "$TMP/work" --config "$TMP/cfg.json" < "$TMP/in" > "$TMP/out" 2>&1 &
SERVE_PID=$!
for _ in $(seq 100); do grep -q "efksim: ready" "$TMP/out" 2>/dev/null && break; sleep 0.05; done
. "$TMP/work/env"
URL="$EFKSIM_APISERVER_URL/api/v1/namespaces/default/pods/web"
curl -sf --cacert "$EFKSIM_CA" -H "Authorization: Bearer bench-token" "$URL" > /dev/null
echo "== GET one pod, keep-alive HTTPS, bearer token (wrk -t1 -c4 -d${DURATION}s)"
wrk -t1 -c4 -d"${DURATION}s" -H "Authorization: Bearer bench-token" "$URL" | grep -E "Requests/sec|Latency|requests in"
kill "$SERVE_PID"; SERVE_PID=
echo "== watch fan-out"
"$FANOUT" 100 50
