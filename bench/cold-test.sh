#!/usr/bin/env bash
# Measures `make test` on a cold cache and records it in bench/cold-test.txt,
# which `make bench` carries forward into bench/results.md (row P6).
#
# "Cold" is what a fresh CI runner or a new contributor's machine sees:
#   - a fresh clone of HEAD (committed work only; no bin/, .cache/, .sandbox/),
#   - an empty Go build cache (GOCACHE) and an empty module cache
#     (GOMODCACHE): every module is downloaded from the Go module proxy,
#   - so `make test` also builds every pinned tool (aws-lambda-rie, opa,
#     OpenTofu) from source before the tests.
# The wall time runs from `make test` starting to it exiting; cloning and
# removing the temporary directory are not counted. make runs with -k so a
# failing test does not cut the measurement short (the remaining test
# targets still run); the exit status and the failed tests are recorded.
#
# Usage: bench/cold-test.sh [RECORD]   (default RECORD: bench/cold-test.txt)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
record=${1:-$root/bench/cold-test.txt}
log=$root/bench/raw/cold-test.log
mkdir -p "$root/bench/raw" "$(dirname "$record")"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cold-test.XXXXXX")
# The module cache is read-only by design; make it removable first.
cleanup() { chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

commit=$(git -C "$root" rev-parse --short=12 HEAD)
git clone --quiet "$root" "$tmp/src"
# Clones check out the branch HEAD points at; pin the exact commit.
git -C "$tmp/src" checkout --quiet --detach "$commit"

export GOCACHE=$tmp/gocache GOMODCACHE=$tmp/gomodcache GOPATH=$tmp/gopath GOTOOLCHAIN=local
load=$(cut -d' ' -f1 /proc/loadavg)
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "cold-test: make test in a fresh clone of $commit (GOCACHE and GOMODCACHE empty); log: $log"
start=$(date +%s.%N)
status=0
make -k -C "$tmp/src" test >"$log" 2>&1 || status=$?
end=$(date +%s.%N)
seconds=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')

{
  echo "# Written by bench/cold-test.sh (make bench-cold): make test on a cold cache."
  echo "# Fresh clone of the commit, empty GOCACHE and GOMODCACHE, tools built from source."
  echo "date: $date"
  echo "commit: $commit"
  echo "seconds: $seconds"
  echo "exit: $status"
  echo "load: $load"
  echo "cores: $(nproc)"
  failed=$(grep -E -- '^\s*--- FAIL: ' "$log" | awk '{print $3}' | head -n 5 | paste -sd' ' - || true)
  if [ -n "$failed" ]; then echo "failed: $failed"; fi
} >"$record.tmp"
mv "$record.tmp" "$record"
echo "cold-test: make test took ${seconds}s, exit $status (load average $load at start); recorded in $record"
if [ "$status" -ne 0 ]; then
  echo "cold-test: make test failed; last lines of $log:"
  tail -n 30 "$log"
fi
exit "$status"
