#!/bin/sh
# doc_examples.sh EFKSIM SRC_DIR - every example of docs/scenario-format.md is
# a complete scenario: run them all (they must pass), as the docs say.
set -u
efksim=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/docs"
/usr/bin/python3 - "$src/docs/scenario-format.md" "$tmp/docs" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
for i, block in enumerate(re.findall(r"```json\n(.*?)```", text, re.S), 1):
    open("%s/example-%02d.json" % (sys.argv[2], i), "w").write(block)
PY
"$efksim" run --jobs 2 --workdir "$tmp/w" "$tmp/docs"
