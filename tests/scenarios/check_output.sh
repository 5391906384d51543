#!/bin/sh
# check_output.sh EXIT EXPECTED -- COMMAND...
# Run COMMAND, capturing stdout and stderr together. Pass when it exits with
# EXIT and every non-empty line of the file EXPECTED occurs in its output
# (as a fixed string); a line starting with "= " must instead equal a whole
# output line (the rest of it). Print the output and what is missing
# otherwise.
set -u
want_exit=$1
expected=$2
shift 2
[ "$1" = "--" ] && shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" >"$out" 2>&1
got=$?
ok=1
if [ "$got" != "$want_exit" ]; then
    echo "check_output: exit status $got, expected $want_exit"
    ok=0
fi
while IFS= read -r line || [ -n "$line" ]; do
    [ -z "$line" ] && continue
    case "$line" in
    "= "*)
        if ! grep -Fxq -- "${line#= }" "$out"; then
            echo "check_output: no output line equals: ${line#= }"
            ok=0
        fi
        ;;
    *)
        if ! grep -Fq -- "$line" "$out"; then
            echo "check_output: missing from the output: $line"
            ok=0
        fi
        ;;
    esac
done <"$expected"
if [ $ok = 0 ]; then
    echo "---- output of: $*"
    cat "$out"
    exit 1
fi
exit 0
