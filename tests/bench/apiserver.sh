#!/bin/bash
# Benchmark of the fake API server (by hand; never a test):
#  1. GETs of one pod over keep-alive HTTPS with a bearer token: wrk -t1 -c4
#     for $DURATION seconds (default 5) against apis_serve, requests/s, and
#     the same against nginx serving that pod's JSON as a static answer over
#     HTTPS with the same certificate (the TLS loopback limit, measured in the
#     same run) and the ratio of the two;
#  2. watch fan-out: 100 watchers over HTTPS, the time from a write to the
#     last watcher's event (apiserver_fanout).
# Usage: tests/bench/apiserver.sh [BUILD_DIR]   (default: build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
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
  [ -n "${NGINX_PID:-}" ] && kill "$NGINX_PID" 2>/dev/null || true
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
wrk -t1 -c4 -d"${DURATION}s" -H "Authorization: Bearer bench-token" "$URL" > "$TMP/fake.wrk"
grep -E "Requests/sec|Latency|requests in" "$TMP/fake.wrk"
FAKE_RPS=$(awk '/Requests\/sec/ {print $2}' "$TMP/fake.wrk")

# the baseline: nginx answering the same bytes over HTTPS with the same key
NP=$(free_port)
if NGINX=$(nginx_conf "$TMP/nginx" "server { listen 127.0.0.1:$NP ssl; ssl_certificate $TMP/work/pki/server.crt; ssl_certificate_key $TMP/work/pki/server.key; location / { default_type application/json; alias $TMP/pod.json; } }"); then
  curl -sf --cacert "$EFKSIM_CA" -H "Authorization: Bearer bench-token" "$URL" > "$TMP/pod.json"
  "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" &
  NGINX_PID=$!
  for _ in $(seq 100); do
    curl -sf --cacert "$EFKSIM_CA" -o /dev/null "https://127.0.0.1:$NP/pod" && break
    sleep 0.05
  done
  echo "== the same answer from nginx over HTTPS (a static file: the TLS loopback limit)"
  wrk -t1 -c4 -d"${DURATION}s" -H "Authorization: Bearer bench-token" "https://127.0.0.1:$NP/pod" > "$TMP/nginx.wrk"
  grep -E "Requests/sec|Latency|requests in" "$TMP/nginx.wrk"
  NGINX_RPS=$(awk '/Requests\/sec/ {print $2}' "$TMP/nginx.wrk")
  kill "$NGINX_PID"; NGINX_PID=
  awk -v f="$FAKE_RPS" -v n="$NGINX_RPS" 'BEGIN { printf "fake / nginx static HTTPS: %.2f\n", f / n }'
fi
kill "$SERVE_PID"; SERVE_PID=

echo "== watch fan-out"
"$FANOUT" 100 50
