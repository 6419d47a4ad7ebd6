#!/usr/bin/env bash
# Installs everything kansoku's run and test commands need on a fresh Debian
# machine with Go: the Debian packages listed in scripts/deps/*.apt, the Go
# modules, and staticcheck. Idempotent: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(cat scripts/deps/*.apt 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=()
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

go mod download
mkdir -p .bin
if [ ! -x .bin/staticcheck ]; then
  echo "setup: installing staticcheck"
  GOBIN="$PWD/.bin" go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
