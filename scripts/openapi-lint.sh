#!/usr/bin/env bash
# Lints api/openapi.yaml with the OpenAPI linter pinned in package-lock.json
# (@redocly/cli). Installs it with `npm ci` when missing or outdated.
set -euo pipefail
cd "$(dirname "$0")/.."
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
if [ ! -x node_modules/.bin/redocly ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
node_modules/.bin/redocly lint --format=stylish api/openapi.yaml
