#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, builds, runs every test,
# and ends with a plain "N passed, N failed" line. Exit code 0 only when nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh || exit 1

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund || { echo "npm ci failed"; exit 1; }
fi

echo "==> build (tsc -b)"
npx tsc -b || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
# The browser SDK bundle (esbuild) that the server serves at /sdk/tus-edge.mjs.
npm run build --silent -w @tus-edge/client-sdk || { echo "SDK bundle build failed"; echo "0 passed, 1 failed"; exit 1; }
echo "==> type-check the tests (tsc -p tsconfig.test.json)"
npx tsc -p tsconfig.test.json || { echo "test type-check failed"; echo "0 passed, 1 failed"; exit 1; }
npx tsc -p client-sdk/test/tsconfig.json || { echo "SDK test type-check failed"; echo "0 passed, 1 failed"; exit 1; }
echo "==> no import cycle between folders (scripts/check-cycles.mjs)"
node scripts/check-cycles.mjs || { echo "0 passed, 1 failed"; exit 1; }

report="$(mktemp -t vitest-report.XXXXXX.json)"
echo "==> vitest"
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
node scripts/summarize-tests.mjs "$report" "$status"
