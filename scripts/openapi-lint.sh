#!/usr/bin/env bash
# Lints api/openapi.yaml with the OpenAPI linter pinned in package-lock.json
# (@redocly/cli). Installs it (scripts/npm-deps.sh) when missing or outdated.
set -euo pipefail
cd "$(dirname "$0")/.."
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
[ -x node_modules/.bin/redocly ] && [ ! package-lock.json -nt node_modules/.package-lock.json ] || scripts/npm-deps.sh
node_modules/.bin/redocly lint --format=stylish api/openapi.yaml
