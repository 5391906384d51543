#!/bin/sh
# interrupt.sh EFKSIM SRC_DIR SIGNAL - SIGINT/SIGTERM to `efksim run` stops
# every process (their groups, and a daemon that left its group), writes the
# report for what ran, and exits 128+signal.
set -u
efksim=$1
src=$2
sig=${3:-INT}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PIDS="$tmp/pids"
: >"$PIDS"
"$efksim" run --junit "$tmp/j.xml" --workdir "$tmp/w" "$src/tests/scenarios/data/interrupt.json" \
    >"$tmp/out" 2>&1 &
runner=$!
# wait (with a deadline) until all three programs are up
i=0
while [ "$(wc -l <"$PIDS")" -lt 3 ] || [ ! -s "$PIDS.ready" ]; do
    i=$((i + 1))
    if [ $i -gt 1000 ]; then echo "programs did not start"; cat "$tmp/out"; exit 1; fi
    sleep 0.01
done
kill -"$sig" $runner
wait $runner
code=$?
fails=0
case $sig in INT) want=130 ;; TERM) want=143 ;; esac
[ $code = "$want" ] || { echo "exit $code, expected $want"; fails=1; }
for p in $(cat "$PIDS"); do
    if kill -0 "$p" 2>/dev/null; then echo "process $p is still alive"; fails=1; fi
done
grep -q 'interrupted' "$tmp/out" || { echo "no 'interrupted' in the report"; fails=1; }
/usr/bin/python3 -c "
import xml.etree.ElementTree as ET
r = ET.parse('$tmp/j.xml').getroot()
assert (r.get('tests'), r.get('errors')) == ('1', '1'), r.attrib
e = r.find('testsuite/testcase/error')
assert e is not None and e.get('message') == 'interrupted', e
" || { echo "the JUnit report is not as expected"; fails=1; }
if [ $fails != 0 ]; then cat "$tmp/out"; exit 1; fi
echo "ok: SIG$sig stopped everything, exit $code, report written"
