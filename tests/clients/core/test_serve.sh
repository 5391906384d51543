#!/bin/sh
# efksim serve end to end: bad invocations exit 2 with one line naming the
# problem; a good one prints "efksim: ready" after writing an env file that
# holds the whole contract, every fake answers at its URL with the test CA,
# and SIGTERM stops it with exit 0 and nothing left behind.
set -u
EFKSIM=${EFKSIM:?set EFKSIM to the efksim binary}
T=$(mktemp -d "${TMPDIR:-/tmp}/efksim-serve-test-XXXXXX")
trap 'kill $pid 2>/dev/null; rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { echo "ok: $*"; }

# --- bad invocations: exit 2, one line on stderr that names the problem
bad() { # expected-substring args...
    want=$1; shift
    "$EFKSIM" serve "$@" >"$T/out" 2>"$T/err"
    rc=$?
    lines=$(wc -l <"$T/err")
    if [ $rc -ne 2 ]; then fail "serve $* exited $rc, want 2"
    elif [ "$lines" -ne 1 ]; then fail "serve $*: $lines lines on stderr, want 1: $(cat "$T/err")"
    elif ! grep -qF -- "$want" "$T/err"; then fail "serve $*: stderr lacks '$want': $(cat "$T/err")"
    elif [ -s "$T/out" ]; then fail "serve $*: printed on stdout: $(cat "$T/out")"
    else pass "serve $* -> 2: $(cat "$T/err")"; fi
}
bad 'unknown option "--bogus"' --bogus
bad 'cannot read scenario "/nonexistent/x.json"' /nonexistent/x.json
bad '/proc/efksim-nope' --workdir /proc/efksim-nope
touch "$T/afile"
bad "$T/afile is not a directory" --workdir "$T/afile"
bad 'cannot write the env file "/proc/efksim-nope/env"' --env-file /proc/efksim-nope/env
bad '--workdir needs a value' --workdir
bad '--set wants KEY=VALUE' --set fakes.es.version
printf '{"nme": "x"}\n' >"$T/bad.json"
bad "$T/bad.json:1:2: /nme: unknown key" "$T/bad.json"
bad 'fakes.es.vrsion' --set fakes.es.vrsion=8.15

# --- a good one
# a private TMPDIR for serve, so other processes' temp files cannot confuse us
mkdir "$T/tmp"
TMPDIR="$T/tmp" "$EFKSIM" serve --workdir "$T/work" --env-file "$T/env" >"$T/out" 2>"$T/err" &
pid=$!
i=0
until grep -q '^efksim: ready$' "$T/out" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 200 ] || ! kill -0 $pid 2>/dev/null; then
        fail "no ready line in 10 s: $(cat "$T/out" "$T/err")"; exit 1
    fi
    sleep 0.05
done
pass "ready"
[ "$(cat "$T/out")" = "efksim: ready" ] && pass "stdout is exactly the ready line" ||
    fail "stdout: $(cat "$T/out")"
for n in EFKSIM_WORKDIR EFKSIM_CA EFKSIM_APISERVER_URL EFKSIM_APISERVER_INSECURE_URL \
         KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT EFKSIM_TOKEN EFKSIM_SA_DIR KUBECONFIG \
         EFKSIM_ES_URL EFKSIM_RBD_MON EFKSIM_BIN EFKSIM_LOG_DIR; do
    grep -q "^export $n='" "$T/env" && pass "env has $n" || fail "env lacks $n"
done
grep -qv '^export \(EFKSIM_\|KUBERNETES_\|KUBECONFIG=\)' "$T/env" &&
    fail "env has more than the contract: $(grep -v '^export \(EFKSIM_\|KUBERNETES_\|KUBECONFIG=\)' "$T/env")"
# shellcheck disable=SC1090
. "$T/env"
[ "$EFKSIM_WORKDIR" = "$T/work" ] && pass "workdir" || fail "EFKSIM_WORKDIR=$EFKSIM_WORKDIR"
[ "$EFKSIM_LOG_DIR" = "$T/work/var/log/containers" ] && [ -d "$EFKSIM_LOG_DIR" ] &&
    pass "log dir" || fail "EFKSIM_LOG_DIR=$EFKSIM_LOG_DIR"
for f in token ca.crt namespace; do
    [ -s "$EFKSIM_SA_DIR/$f" ] && pass "SA dir has $f" || fail "SA dir lacks $f"
done
[ "$(cat "$EFKSIM_SA_DIR/token")" = "$EFKSIM_TOKEN" ] && pass "SA token is EFKSIM_TOKEN" ||
    fail "SA token differs"
[ -x "$EFKSIM_BIN/rbd" ] && [ -x "$EFKSIM_BIN/ceph" ] && pass "rbd and ceph in EFKSIM_BIN" ||
    fail "no tools in $EFKSIM_BIN"
[ "$EFKSIM_APISERVER_URL" = "https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT" ] &&
    pass "service host/port match the URL" || fail "service host/port vs $EFKSIM_APISERVER_URL"

# every fake answers whoami, with the test CA and nothing from the environment
c() { env -u CURL_CA_BUNDLE -u SSL_CERT_FILE curl -sS --noproxy '*' --max-time 10 "$@"; }
for u in "$EFKSIM_APISERVER_URL" "$EFKSIM_APISERVER_INSECURE_URL" "$EFKSIM_ES_URL" \
         "http://$EFKSIM_RBD_MON"; do
    name=$(c --cacert "$EFKSIM_CA" "$u/_efksim/whoami" | /usr/bin/python3 -c \
        'import json,sys; d=json.load(sys.stdin); print(d["name"], d["pid"])' 2>/dev/null)
    case "$name" in
        *" $pid") pass "whoami at $u: $name" ;;
        *) fail "whoami at $u: '$name'" ;;
    esac
done
# the default identity is accepted, over https with the token
code=$(c --cacert "$EFKSIM_CA" -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer $EFKSIM_TOKEN" "$EFKSIM_APISERVER_URL/api/v1/namespaces")
[ "$code" = 200 ] && pass "token accepted" || fail "GET namespaces with the token: $code"
code=$(c --cacert "$EFKSIM_CA" -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer wrong" "$EFKSIM_APISERVER_URL/api/v1/namespaces")
[ "$code" = 401 ] && pass "a wrong token is 401" || fail "wrong token: $code"
# kubectl is part of the machine (see README); its absence is a failure, not a skip
kubectl get namespaces >/dev/null 2>"$T/kerr" && pass "kubectl with KUBECONFIG" ||
    fail "kubectl get namespaces: $(cat "$T/kerr")"
# an empty store has no pools, so ask the monitor for the blocklist instead
"$EFKSIM_BIN/ceph" -m "$EFKSIM_RBD_MON" osd blocklist ls >/dev/null 2>"$T/rerr" &&
    grep -qx 'listed 0 entries' "$T/rerr" && pass "ceph osd blocklist ls" ||
    fail "ceph osd blocklist ls: $(cat "$T/rerr")"

# --- SIGTERM: exit 0, no child process, no temp files outside the work dir
kids=$(ps -o pid= --ppid $pid | tr -d ' ')
[ -z "$kids" ] && pass "no child processes" || fail "child processes: $kids"
kill -TERM $pid
i=0
while kill -0 $pid 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 200 ] && { fail "still running 10 s after SIGTERM"; break; }
    sleep 0.05
done
wait $pid; rc=$?
[ $rc -eq 0 ] && pass "exit 0 on SIGTERM" || fail "exit $rc on SIGTERM"
new=$(ls -A "$T/tmp")
[ -z "$new" ] && pass "no temp files left outside the work dir" || fail "left in TMPDIR: $new"
[ -d "$T/work/pki" ] && pass "a given work dir is kept" || fail "the work dir went away"

# SIGINT too
TMPDIR="$T/tmp" "$EFKSIM" serve --env-file "$T/env2" >"$T/out2" 2>/dev/null &
pid=$!
i=0
until grep -q ready "$T/out2" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 200 ] && { fail "no ready (2)"; break; }; sleep 0.05; done
wd=$(sed -n "s/^export EFKSIM_WORKDIR='\(.*\)'$/\1/p" "$T/env2")
kill -INT $pid; wait $pid; rc=$?
[ $rc -eq 0 ] && pass "exit 0 on SIGINT" || fail "exit $rc on SIGINT"
[ -n "$wd" ] && [ ! -e "$wd" ] && pass "a temporary work dir is removed" ||
    fail "temporary work dir $wd still there"
[ -z "$(ls -A "$T/tmp")" ] && pass "nothing left in TMPDIR" || fail "left in TMPDIR: $(ls -A "$T/tmp")"

echo "$fails failure(s)"
[ $fails -eq 0 ]
