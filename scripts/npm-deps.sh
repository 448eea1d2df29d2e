#!/usr/bin/env bash
# Installs the npm packages pinned in package-lock.json (the OpenAPI linter,
# and node-vault for the Vault door's client tests) with `npm ci` when
# node_modules is missing or older than the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_UPDATE_NOTIFIER=1
if [ ! -d node_modules ] || [ ! -e node_modules/.package-lock.json ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
