#!/bin/sh
# serve.sh EFKSIM SRC_DIR - `efksim serve SCENARIO` sets the scenario up
# (fakes, logs, files, processes) and runs its timeline without checking it,
# writes the env file, and on SIGTERM stops everything and exits 0.
set -u
efksim=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PIDS="$tmp/pids"
: >"$PIDS"
"$efksim" serve "$src/tests/scenarios/data/serve.json" --workdir "$tmp/w" --env-file "$tmp/env" \
    --set seed=5 >"$tmp/out" 2>&1 &
srv=$!
fails=0
i=0
until grep -qx 'efksim: ready' "$tmp/out" && [ -s "$PIDS" ]; do
    i=$((i + 1))
    if [ $i -gt 1000 ] || ! kill -0 $srv 2>/dev/null; then echo "not ready"; cat "$tmp/out"; exit 1; fi
    sleep 0.01
done
. "$tmp/env"
[ -n "${EFKSIM_ES_URL:-}" ] || { echo "no EFKSIM_ES_URL in the env file"; fails=1; }
[ "$(cat "$tmp/w/etc/es.txt")" = "$EFKSIM_ES_URL" ] || { echo "etc/es.txt not rendered"; fails=1; }
ls "$tmp/w/var/log/containers/"p_default_c-*.log >/dev/null 2>&1 || { echo "no generated log"; fails=1; }
# the timeline step (at 100ms) makes es answer 418
i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$EFKSIM_ES_URL/")" = 418 ]; do
    i=$((i + 1))
    if [ $i -gt 500 ]; then echo "the timeline did not run"; fails=1; break; fi
    sleep 0.01
done
grep -q "es is $EFKSIM_ES_URL" "$tmp/w/proc/bg.stdout" || { echo "the process did not run with the env"; fails=1; }
kill -TERM $srv
wait $srv
code=$?
[ $code = 0 ] || { echo "serve exited $code"; fails=1; }
for p in $(cat "$PIDS"); do
    if kill -0 "$p" 2>/dev/null; then echo "process $p is still alive"; fails=1; fi
done
if [ $fails != 0 ]; then cat "$tmp/out"; exit 1; fi
echo "ok: serve ran the scenario's setup and timeline, and stopped cleanly"
