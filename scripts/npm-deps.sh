#!/usr/bin/env bash
# Installs the npm packages pinned in package-lock.json (Swagger UI and
# GraphiQL with React, which the build embeds; the OpenAPI linter; the
# client libraries, graphql-js, graphql-http's audits and the browser
# driver the tests use) with `npm ci` when node_modules is missing or older
# than the lock file. No package's install scripts run: none is needed, and
# one (swagger-ui-dist's @scarf/scarf) would report the install over the
# network.
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_UPDATE_NOTIFIER=1
if [ ! -d node_modules ] || [ ! -e node_modules/.package-lock.json ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
