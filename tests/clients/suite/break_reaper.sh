#!/bin/sh
# break_reaper.sh EFKSIM SOURCE_DIR WORKDIR
# Break what scenarios/reaper/locker-alive-watcher.json protects: a copy of
# fixtures/sut/rbd-lock-reaper made here, whose `rbd status` watcher check is
# cut out (every image looks unwatched), runs the scenario through efksim.
# The scenario must fail, naming the expectations that caught it (see
# break-reaper.expected); a copy that did not get the patch is an error.
set -eu
efksim=$1
src=$2
work=$3
rm -rf "$work"
mkdir -p "$work/sut"
patched="$work/sut/rbd-lock-reaper"
sed 's/^\( *\)watchers = self\.tools\.watchers(spec)$/\1watchers = []  # broken: no watcher check/' \
    "$src/fixtures/sut/rbd-lock-reaper" > "$patched"
chmod +x "$patched"
if [ "$(grep -c '# broken: no watcher check' "$patched")" != 1 ]; then
    echo "break_reaper: the watcher check of fixtures/sut/rbd-lock-reaper was not found; update the sed" >&2
    exit 1
fi
exec sh "$src/tests/scenarios/check_output.sh" 1 "$src/tests/clients/suite/break-reaper.expected" -- \
    "$efksim" run --workdir "$work/run" --set "processes.reaper.argv.0=$patched" \
    "$src/scenarios/reaper/locker-alive-watcher.json"
