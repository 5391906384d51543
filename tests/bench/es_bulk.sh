#!/bin/bash
# Bulk throughput of the fake Elasticsearch against its peers, in one run:
#
#   nginx     `return 200` without reading the body: the loopback limit
#   fake      es_testserver, fully parsing, storing and answering every item
#   WireMock  a static stub for the same request (npm "wiremock", on Java)
#   mountebank a static stub (npm "mountebank")
#
# Each gets the same 1000-document bulk body shaped like a log agent's
# (~360 KB: action line + a document with a timestamp, the log line carrying
# the efksim marker, the stream and Kubernetes metadata), from wrk -t1 -c4,
# a warm-up round of WARM seconds each, then ROUNDS rounds of DUR seconds,
# interleaved; the
# script prints requests/s of each and the ratios. Every server runs in its
# own process group, and while one is measured the others are stopped
# (SIGSTOP), so an idle JVM's garbage collector or JIT, or node's timers,
# never steal the two cores from the server being measured.
#
# Store: at thousands of requests/s the fake stores ~1 GB/s, so the fake
# runs with store_limit 16G and the index is deleted after the warm-up and
# after every round (a round stores at most DUR x rate x 360 KB, under the
# limit); each round's document count is checked against wrk's request
# count. "fake-fresh" is the warm-up round, storing into fresh memory only;
# "fake" the measured rounds, which reuse the memory freed by the deletions.
# The warm-up (below) leaves the fake holding more freed memory than a
# round stores, so every round measures reuse, not a part-fresh mix that
# grows with the previous round's count. On a VM, memory the guest never
# touched before costs a host fault on top of the zeroing, so the fresh
# rate depends on what ran on the machine before; the reuse rate does not.
#
# usage: tests/bench/es_bulk.sh [BUILD_DIR]   (env: DUR=3 ROUNDS=3 WARM=3*DUR)
# peers: (cd tests/bench && npm install) — missing peers are skipped.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-${EFKSIM_BUILD_DIR:-$HERE/../../build}}
DUR=${DUR:-3}
ROUNDS=${ROUNDS:-3}
WARM=${WARM:-$((3 * DUR))}
SERVER="$BUILD/bin/es_testserver"
[ -x "$SERVER" ] || { echo "no $SERVER: build first (cmake --build build --target es_testserver)"; exit 2; }
command -v wrk >/dev/null || { echo "wrk is not installed"; exit 2; }
TMP=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -CONT -- "-$p" 2>/dev/null; kill -- "-$p" 2>/dev/null; kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT

. "$HERE/lib.sh"

wait_http() { # url
    local deadline=$((SECONDS + 60))
    until curl -s -o /dev/null "$1"; do
        ((SECONDS > deadline)) && { echo "no answer from $1"; exit 1; }
        sleep 0.1
    done
}

# ---- the body
/usr/bin/python3 - "$TMP/body.ndjson" <<'EOF'
import sys
out = []
for i in range(1, 1001):
    out.append('{"index":{"_index":"logstash-2024.01.01"}}')
    msg = (f"efk:bench:{i} 2024-01-01T12:00:00.{i % 1000:03d}Z INFO [main] request handled "
           "path=/api/v1/orders status=200 duration_ms=12 trace=4bf92f3577b34da6a3ce9")
    out.append('{"@timestamp":"2024-01-01T12:00:00.%03dZ","log":"%s","stream":"stdout",'
               '"kubernetes":{"pod_name":"orders-7d4b9c-xk2lp","namespace_name":"shop",'
               '"container_name":"orders","host":"node-1"}}' % (i % 1000, msg))
open(sys.argv[1], "w").write("\n".join(out) + "\n")
EOF
BYTES=$(stat -c %s "$TMP/body.ndjson")
cat >"$TMP/post.lua" <<EOF
local f = io.open("$TMP/body.ndjson", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/x-ndjson"
EOF

run_wrk() { # url seconds -> prints "reqs_per_s total_requests"
    wrk -t1 -c4 -d"$2"s -s "$TMP/post.lua" "$1" >"$TMP/wrk.out" 2>&1
    local rps reqs
    rps=$(awk '/Requests\/sec/ {print $2}' "$TMP/wrk.out")
    reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
    if grep -q "Non-2xx" "$TMP/wrk.out"; then
        echo "non-2xx answers from $1:" >&2
        cat "$TMP/wrk.out" >&2
    fi
    echo "${rps:-0} ${reqs:-0}"
}

mean() { awk '{s += $1} END {if (NR) printf "%.0f", s / NR; else print 0}'; }

declare -A RESULT URLS PGID
ORDER=()

# pause every server group but k's, for k's round
freeze_others() { # key STOP|CONT
    local g
    for g in $(printf '%s\n' "${PGID[@]}" | sort -u); do
        [ "$g" = "${PGID[$1]}" ] || kill -"$2" -- "-$g" 2>/dev/null
    done
}

# ---- start everything first; the measured rounds are interleaved (one round
# of each server in turn), so load from other work on the machine falls on
# all of them alike.

# nginx
NP=$(free_port)
if NGINX=$(nginx_conf "$TMP/nginx" "server { listen 127.0.0.1:$NP; location / { return 200 '{\"took\":0,\"errors\":false,\"items\":[]}'; } }"); then
    setsid "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" &
    PIDS+=($!)
    PGID[nginx]=$!
    wait_http "http://127.0.0.1:$NP/"
    URLS[nginx]="http://127.0.0.1:$NP/_bulk"
    ORDER+=(nginx)
fi

# the fake
FIFO="$TMP/fake.in"
mkfifo "$FIFO"
setsid "$SERVER" -c '{"version":"7.17","store_limit":"16G"}' <"$FIFO" >"$TMP/fake.out" &
PIDS+=($!)
FAKE_PID=$!
PGID[fake]=$FAKE_PID
exec 9>"$FIFO"
until grep -q '^ready$' "$TMP/fake.out" 2>/dev/null; do sleep 0.05; done
URL=$(sed -n 's/^EFKSIM_ES_URL=//p' "$TMP/fake.out")
ANSWER=$(curl -s -H 'Content-Type: application/x-ndjson' --data-binary @"$TMP/body.ndjson" "$URL/_bulk")
ITEMS=$(echo "$ANSWER" | jq '[.items[] | select(.index.status == 201)] | length')
ERRS=$(echo "$ANSWER" | jq .errors)
[ "$ITEMS" = 1000 ] && [ "$ERRS" = false ] || { echo "the fake did not take the body: $ITEMS items, errors $ERRS"; exit 1; }
echo "$ANSWER" >"$TMP/answer.json"
curl -s -XDELETE "$URL/logstash-2024.01.01" >/dev/null
URLS[fake]="$URL/_bulk"
ORDER+=(fake)

# The peers answer with a static stub: "full" is the fake's own answer for
# this body (215 KB: the same bytes the fake sends), "min" is the smallest
# answer a shipper accepts ({"took":0,"errors":false,"items":[]}), the
# peers' best case.
printf '{"took":0,"errors":false,"items":[]}' >"$TMP/answer.min"

# WireMock
WMJAR=$(ls "$HERE"/node_modules/wiremock/build/wiremock-standalone-*.jar 2>/dev/null | head -1)
if [ -n "$WMJAR" ] && command -v java >/dev/null; then
    for variant in full min; do
        answer="$TMP/answer.json"
        [ $variant = min ] && answer="$TMP/answer.min"
        WP=$(free_port)
        mkdir -p "$TMP/wm-$variant/mappings"
        jq -n --rawfile b "$answer" \
            '{request: {method: "POST", url: "/_bulk"}, response: {status: 200, body: $b, headers: {"Content-Type": "application/json; charset=UTF-8"}}}' \
            >"$TMP/wm-$variant/mappings/bulk.json"
        setsid java -jar "$WMJAR" --port "$WP" --bind-address 127.0.0.1 --root-dir "$TMP/wm-$variant" \
            --no-request-journal --disable-banner >"$TMP/wm-$variant.log" 2>&1 &
        PIDS+=($!)
        PGID[wiremock-$variant]=$!
        wait_http "http://127.0.0.1:$WP/__admin/mappings"
        URLS[wiremock-$variant]="http://127.0.0.1:$WP/_bulk"
        ORDER+=(wiremock-$variant)
    done
else
    echo "WireMock skipped (cd tests/bench && npm install)"
fi

# mountebank
MB="$HERE/node_modules/.bin/mb"
if [ -x "$MB" ]; then
    MP=$(free_port)
    setsid "$MB" start --port "$MP" --localOnly --nologfile --loglevel warn >"$TMP/mb.log" 2>&1 &
    PIDS+=($!)
    MB_PGID=$!
    wait_http "http://127.0.0.1:$MP/imposters"
    for variant in full min; do
        answer="$TMP/answer.json"
        [ $variant = min ] && answer="$TMP/answer.min"
        IP=$(free_port)
        jq -n --rawfile b "$answer" --argjson p "$IP" \
            '{port: $p, protocol: "http", recordRequests: false, stubs: [{responses: [{is: {statusCode: 200, headers: {"Content-Type": "application/json; charset=UTF-8"}, body: $b}}]}]}' |
            curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary @- "http://127.0.0.1:$MP/imposters"
        wait_http "http://127.0.0.1:$IP/"
        URLS[mountebank-$variant]="http://127.0.0.1:$IP/_bulk"
        PGID[mountebank-$variant]=$MB_PGID
        ORDER+=(mountebank-$variant)
    done
else
    echo "mountebank skipped (cd tests/bench && npm install)"
fi

# ---- warm-up, in two parts for every server (the JVM compiles; the fake's
# pages get faulted in). Every page the fake stores into is fresh memory the
# kernel must zero, the dearest part of storing on a VM; the index is deleted
# after each part and after every round, and the fake reuses the freed
# memory (up to store_limit), as a cluster that drops old indices does.
#   1. WARM seconds: the fake's figure here is its fresh-memory rate;
#   2. SETTLE seconds (2 x DUR) at the reuse rate, so the freed memory the
#      fake holds covers a whole round: a round that stored more than any
#      earlier part would run its excess on fresh memory again, and its
#      figure would mix the two rates.
SETTLE=$((2 * DUR))
for part in fresh settle; do
    secs=$WARM
    [ $part = settle ] && secs=$SETTLE
    for k in "${ORDER[@]}"; do
        freeze_others "$k" STOP
        read -r rps reqs < <(run_wrk "${URLS[$k]}" "$secs")
        freeze_others "$k" CONT
        if [ "$k" = fake ]; then
            count=$(curl -s "$URL/logstash-2024.01.01/_count" | jq .count)
            if [ $part = fresh ]; then
                echo "  fake warm-up (fresh memory): $rps req/s, $reqs requests, $count documents stored"
                RESULT[fake-fresh]=${rps%.*}
            else
                echo "  fake warm-up (reused memory): $rps req/s, $reqs requests, $count documents stored"
            fi
            curl -s -XDELETE "$URL/logstash-2024.01.01" >/dev/null
        fi
    done
done

# ---- measured rounds, interleaved
for r in $(seq "$ROUNDS"); do
    for k in "${ORDER[@]}"; do
        freeze_others "$k" STOP
        read -r rps reqs < <(run_wrk "${URLS[$k]}" "$DUR")
        freeze_others "$k" CONT
        echo "$rps" >>"$TMP/$k.rounds"
        if [ "$k" = fake ]; then
            count=$(curl -s "$URL/logstash-2024.01.01/_count" | jq .count)
            rss=$(awk '/VmRSS/ {print $2}' /proc/"$FAKE_PID"/status)
            echo "  fake round $r: $rps req/s, $reqs requests, $count documents stored (want $((reqs * 1000))), RSS ${rss} kB"
            [ "$count" -ge $((reqs * 1000)) ] || echo "  WARNING: fewer documents stored than requests answered"
            curl -s -XDELETE "$URL/logstash-2024.01.01" >/dev/null
        fi
    done
done
for k in "${ORDER[@]}"; do
    RESULT[$k]=$(mean <"$TMP/$k.rounds")
done
exec 9>&-

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo
echo "bulk body: 1000 documents, $BYTES bytes; wrk -t1 -c4, $ROUNDS x ${DUR}s after a ${WARM}s + ${SETTLE}s warm-up"
printf "%-16s %10s\n" server "req/s"
for k in nginx fake-fresh fake wiremock-full wiremock-min mountebank-full mountebank-min; do
    [ -n "${RESULT[$k]:-}" ] && printf "%-16s %10s\n" "$k" "${RESULT[$k]}"
done
echo
for k in wiremock-full wiremock-min; do
    [ -n "${RESULT[$k]:-}" ] && echo "fake / $k:   $(ratio "${RESULT[fake]}" "${RESULT[$k]}")  (target >= 1)"
done
for k in mountebank-full mountebank-min; do
    [ -n "${RESULT[$k]:-}" ] && echo "fake / $k: $(ratio "${RESULT[fake]}" "${RESULT[$k]}")  (target >= 10)"
done
[ -n "${RESULT[nginx]:-}" ] && echo "fake / nginx:           $(ratio "${RESULT[fake]}" "${RESULT[nginx]}")  (the loopback limit)"
echo "fake documents/s: $((RESULT[fake] * 1000))"
