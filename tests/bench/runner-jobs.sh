#!/bin/sh
# runner-jobs.sh BUILD_DIR [ROUNDS] - `efksim run --jobs 2` against `--jobs 1`
# over the runner's own scenario suite (tests/scenarios/pass and fail):
# wall time of each (best of ROUNDS, default 3) and whether the results
# (each scenario's name and PASS/FAIL/ERROR, from JUnit) are identical.
set -eu
build=$(cd "${1:?usage: runner-jobs.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-3}
src=$(cd "$(dirname "$0")/../.." && pwd)
efksim=$build/bin/efksim
export EFKSIM_BIN="$build/bin" EFKSIM_SCHEMA_DIR="$src/scenarios"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results() {
    # name and outcome of every testcase, sorted
    /usr/bin/python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
for c in sorted(ET.parse(sys.argv[1]).getroot().iter('testcase'), key=lambda c: c.get('name')):
    out = 'FAIL' if c.find('failure') is not None else 'ERROR' if c.find('error') is not None else 'PASS'
    print(c.get('name'), out)
PY
}
for jobs in 1 2; do
    best=
    for r in $(seq "$rounds"); do
        start=$(date +%s%N)
        "$efksim" run --jobs "$jobs" --junit "$tmp/j$jobs.xml" --workdir "$tmp/w$jobs" \
            "$src/tests/scenarios/pass" "$src/tests/scenarios/fail" >"$tmp/out$jobs" 2>&1 || true
        end=$(date +%s%N)
        ms=$(( (end - start) / 1000000 ))
        results "$tmp/j$jobs.xml" >"$tmp/r$jobs.$r"
        if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
    done
    grep '^efksim: ' "$tmp/out$jobs" >"$tmp/sum$jobs" || true
    eval "best$jobs=$best"
    n=$(wc -l <"$tmp/r$jobs.1")
    echo "--jobs $jobs: best of $rounds: ${best} ms for $n scenarios ($(cat "$tmp/sum$jobs"))"
done
same=yes
for r in $(seq "$rounds"); do
    cmp -s "$tmp/r1.1" "$tmp/r1.$r" || same=no
    cmp -s "$tmp/r1.1" "$tmp/r2.$r" || same=no
done
echo "results identical across all runs: $same"
echo "speed-up: $(awk "BEGIN { printf \"%.2f\", $best1 / $best2 }")x"
[ "$same" = yes ]
