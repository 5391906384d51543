#!/bin/sh
# cli.sh EFKSIM SRC_DIR - `efksim run` options and exit codes: --shard splits
# the selection into disjoint parts that cover it, --filter and --tag select,
# --tap and --junit report (JUnit read back by an XML parser), exit 0/1/2,
# bad usage is 2, and a scenario that cannot run is 2.
set -u
efksim=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # description, then a command that must succeed
    d=$1
    shift
    if "$@"; then echo "ok - $d"; else echo "not ok - $d"; fails=$((fails + 1)); fi
}
fast="$src/tests/scenarios/fail"
# the quick ones: step, file, journal (each well under a second)
sel="--filter fail-[fjs]*"

# --shard: two halves, disjoint, together the whole selection
"$efksim" run $sel --shard 1/2 --tap --workdir "$tmp/w" "$fast" >"$tmp/s1" 2>/dev/null
"$efksim" run $sel --shard 2/2 --tap --workdir "$tmp/w" "$fast" >"$tmp/s2" 2>/dev/null
"$efksim" run $sel --tap --workdir "$tmp/w" "$fast" >"$tmp/all" 2>/dev/null
names() { grep -E '^(not )?ok ' "$1" | sed 's/^.* - //; s/ #.*//' | sort; }
names "$tmp/s1" >"$tmp/n1"
names "$tmp/s2" >"$tmp/n2"
names "$tmp/all" >"$tmp/na"
check "shards are disjoint" [ -z "$(comm -12 "$tmp/n1" "$tmp/n2")" ]
check "shards cover the selection" sh -c "sort -m '$tmp/n1' '$tmp/n2' | cmp -s - '$tmp/na'"
check "the selection has the 4 quick scenarios" [ "$(wc -l <"$tmp/na")" = 4 ]
check "TAP plan" grep -qx '1\.\.4' "$tmp/all"
check "TAP version line" grep -qx 'TAP version 13' "$tmp/all"
check "TAP failure detail" grep -q '^    - |$' "$tmp/all"

# --tag and --filter on names
"$efksim" run --tag runner-fail --filter 'fail-step' "$fast" >"$tmp/t" 2>&1
code=$?
check "--tag with --filter runs one scenario" grep -q '^\[1/1\] FAIL  fail-step ' "$tmp/t"
check "a failure exits 1" [ $code = 1 ]
check "the summary line" grep -qx 'efksim: 0 passed, 1 failed' "$tmp/t"
check "no colours when not on a terminal" sh -c "! grep -q \"$(printf '\033')\" '$tmp/t'"
"$efksim" run --tag no-such-tag "$fast" >"$tmp/t" 2>&1
check "an empty selection exits 2" [ $? = 2 ]

# exit 0, and JUnit read back
"$efksim" run --junit "$tmp/j.xml" "$src/tests/scenarios/pass/es-curl.json" >"$tmp/p" 2>&1
check "all passed exits 0" [ $? = 0 ]
check "JUnit parses and says 1 test, 0 failures" sh -c "/usr/bin/python3 -c \"
import xml.etree.ElementTree as ET
r = ET.parse('$tmp/j.xml').getroot()
assert (r.get('tests'), r.get('failures'), r.get('errors')) == ('1', '0', '0'), r.attrib
c = r.find('testsuite/testcase')
assert c.get('name') == 'runner-es-curl' and c.find('failure') is None
\""

# a broken file among good ones: 2, and reported with its place
"$efksim" run --junit "$tmp/j2.xml" "$src/tests/scenarios/broken/bad-duration.json" \
    "$fast/step.json" >"$tmp/b" 2>&1
check "a scenario that cannot run exits 2" [ $? = 2 ]
check "the broken file's error with its place" grep -q 'bad-duration.json:7:12: /timeline/3/at: expected a duration like "5s"' "$tmp/b"
check "JUnit has an error and a failure" sh -c "/usr/bin/python3 -c \"
import xml.etree.ElementTree as ET
r = ET.parse('$tmp/j2.xml').getroot()
assert (r.get('tests'), r.get('failures'), r.get('errors')) == ('2', '1', '1'), r.attrib
\""

# bad usage
"$efksim" run --jobs 0 "$fast/step.json" >/dev/null 2>&1
check "--jobs 0 is bad usage (2)" [ $? = 2 ]
"$efksim" run --shard 3/2 "$fast/step.json" >/dev/null 2>&1
check "--shard 3/2 is bad usage (2)" [ $? = 2 ]
"$efksim" run --frobnicate "$fast/step.json" >/dev/null 2>&1
check "an unknown option is bad usage (2)" [ $? = 2 ]
"$efksim" run >/dev/null 2>&1
check "no path is bad usage (2)" [ $? = 2 ]
"$efksim" run "$tmp/none" >/dev/null 2>&1
check "a missing path exits 2" [ $? = 2 ]

# --seed overrides every seed, and reports print it
"$efksim" run --seed 424242 "$fast/step.json" >"$tmp/seed" 2>&1
check "--seed is used and printed" grep -q 'seed 424242$' "$tmp/seed"

# validate
"$efksim" validate "$src/tests/scenarios/pass" "$fast" >"$tmp/v" 2>&1
check "validate takes directories" [ $? = 0 ]
check "validate checked every file" [ "$(grep -c ': ok (' "$tmp/v")" = "$(ls "$src"/tests/scenarios/pass/*.json "$fast"/*.json | wc -l)" ]
"$efksim" validate "$fast/step.json" "$src/tests/scenarios/broken" >"$tmp/v" 2>&1
check "validate of the broken corpus exits 1" [ $? = 1 ]
"$efksim" validate "$fast/step.json" >"$tmp/v" 2>&1
check "validate ok exits 0" [ $? = 0 ]
check "validate says ok" grep -q 'step.json: ok (fail-step: 0 processes, 1 steps, 1 expectations)' "$tmp/v"
"$efksim" validate --set fakes.rbd.release=jewel --set seed=3 >"$tmp/v" 2>&1
check "validate with only --set (no file) exits 0" [ $? = 0 ]

echo "$fails failed"
[ $fails = 0 ]
