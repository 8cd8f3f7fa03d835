#!/usr/bin/env bash
# Runs every test file under test/ with Node's own runner and fails when no test ran.
# Node 20 does not expand globs, so the files are listed here; pass file paths to run a subset.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' -not -path '*/node_modules/*' | sort); fi
if [ "${#files[@]}" -eq 0 ]; then echo "test/run.sh: no test files found under test/" >&2; exit 1; fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
set +e
node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -E '^ℹ pass [0-9]+' "$out" | tail -1 | awk '{print $3}')
if [ "$status" -eq 0 ] && [ "${passed:-0}" -eq 0 ]; then echo "test/run.sh: zero tests ran" >&2; exit 1; fi
exit "$status"
