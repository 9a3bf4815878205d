#!/usr/bin/env bash
# Runs every Fuzz target of the module for FUZZTIME each (default 30s). `go test -fuzz` accepts one
# target per package per run, so the targets are found here and run one after the other. A crasher
# is written to the package's testdata/fuzz/<Target>/; fix the code and commit the file, so that
# plain `go test` (make test) runs it as a seed from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-30s}"

mapfile -t dirs < <(grep -rl --include='*_test.go' '^func Fuzz' cmd internal api 2>/dev/null | xargs -r -n1 dirname | sort -u)
if [ "${#dirs[@]}" -eq 0 ]; then
	echo "no fuzz targets found" >&2
	exit 1
fi
for dir in "${dirs[@]}"; do
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | cut -d' ' -f2 | sort -u); do
		echo "==> $target in ./$dir for $fuzztime"
		go test "./$dir" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime"
	done
done
