#!/usr/bin/env bash
# Runs every test file under test/ with Node's own runner and fails when no test ran.
# Node 20 does not expand globs, so the files are listed here; pass file paths to run a subset.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' -not -path '*/node_modules/*' | sort); fi
if [ "${#files[@]}" -eq 0 ]; then echo "test/run.sh: no test files found under test/" >&2; exit 1; fi
# A real PostgreSQL for the tests: AIDP_TEST_DATABASE_URL, else the machine's on
# 127.0.0.1:5432, else aidp's embedded server (first start takes a few seconds).
if [ -z "${AIDP_TEST_DATABASE_URL:-}" ] && ! node -e "require('net').connect(5432, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))"; then
  echo "test/run.sh: no PostgreSQL on 127.0.0.1:5432; starting aidp's embedded server for the tests" >&2
  AIDP_TEST_DATABASE_URL=$(node --import tsx test/support/test-server.ts)
  export AIDP_TEST_DATABASE_URL
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
set +e
node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -E '^ℹ pass [0-9]+' "$out" | tail -1 | awk '{print $3}')
if [ "$status" -eq 0 ] && [ "${passed:-0}" -eq 0 ]; then echo "test/run.sh: zero tests ran" >&2; exit 1; fi
exit "$status"
