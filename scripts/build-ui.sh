#!/usr/bin/env bash
# Builds the page of `telepresence ui` (ui/: TypeScript, React, Vite) into OUT_DIR. Installs its
# npm packages first (npm ci, from the committed lock file) when they are missing or older than
# the lock file. Several builds (build/, build/asan, build/tsa) may call it at once: one at a time.
# MODE "extension" builds the page for the Docker Desktop extension (scripts/build-extension.sh).
# usage: scripts/build-ui.sh OUT_DIR [MODE]
set -euo pipefail

out=${1:?usage: scripts/build-ui.sh OUT_DIR [MODE]}
mode=${2:-production}
ui=$(cd "$(dirname "${BASH_SOURCE[0]}")/../ui" && pwd)
cd "$ui"
if ! command -v npm >/dev/null; then
  echo "build-ui: npm is missing; run scripts/install-deps.sh (it installs nodejs and npm)" >&2
  exit 1
fi
exec 9<"$ui/package-lock.json"
flock 9
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "build-ui: npm ci (ui/package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
fi
mkdir -p "$out"
# tsc --noEmit (the types hold), then vite build into $out.
npm run --silent build -- --mode "$mode" --logLevel warn --outDir "$out" --emptyOutDir
