#!/usr/bin/env bash
# Sets up a bare Debian 12 machine for tsfuse: system tools the tests and benchmarks use, npm packages, build.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=$(cat scripts/debian-packages.txt)
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q $missing
fi
npm ci --no-audit --no-fund
npm run build
