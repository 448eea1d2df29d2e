#!/usr/bin/env bash
# Fails if C sources use calls the house style bans (see docs/architecture.md):
# unbounded string copies and unchecked integer parsing.
set -euo pipefail
cd "$(dirname "$0")/.."
if grep -rnE '\b(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|atol|atoll|gets)\s*\(' src tests/unit \
     --include='*.c' --include='*.h'; then
  echo "banned.sh: banned calls above; use snprintf, memcpy with checked lengths, strtol/strtoull with checks" >&2
  exit 1
fi
echo "banned.sh: no banned calls"
