#!/usr/bin/env bash
# Installs every Debian package latchkey needs to build, run, test and bench.
# Idempotent, and fast when everything is present (one dpkg query).
# Runs apt-get as root, or through sudo when not root.
set -euo pipefail

PACKAGES=(
  # build (python3-yaml: api/openapi.yaml becomes the embedded /v1/openapi.json)
  gcc meson ninja-build pkg-config python3 python3-yaml
  libh2o-evloop-dev libssl-dev libjansson-dev libsqlite3-dev zlib1g-dev
  # the PostgreSQL store: libpq, and a server the tests start for themselves
  libpq-dev postgresql-15
  # expiry notices: SMTP and webhook delivery
  libcurl4-openssl-dev
  # tests
  libcmocka-dev python3-pytest python3-requests openssl sqlite3 curl
  # the Vault door is tested with a real Vault client library (hvac 0.11.2)
  python3-hvac
  # a real local SMTP server for the notice tests
  python3-aiosmtpd
  # the CLI's password prompt, driven through a pseudo-terminal
  python3-pexpect
  # Node.js: the build embeds Swagger UI from npm, and the OpenAPI linter and
  # client tests run on it (npm packages pinned in package-lock.json)
  nodejs
  # the browser the Swagger UI test drives (through npm's playwright-core)
  chromium
  # lint, fuzzing and bench
  clang-format cppcheck clang libclang-rt-14-dev wrk nginx-light
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done
# Debian ships npm apart from nodejs; some Node.js builds bundle it.
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# Keep package installs from starting services (nginx) on this machine.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
