#!/usr/bin/env bash
# Installs what kansoku needs on a fresh Debian machine with Go, idempotently
# (a second run installs nothing), and says what it does at each step.
#   scripts/setup.sh run   what `kansoku serve` needs: scripts/deps/run.apt, Go modules
#   scripts/setup.sh       (or `test`) everything the test suite needs as well:
#                          every scripts/deps/*.apt, Go modules, staticcheck
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-test}
case "$mode" in
  run) lists=(scripts/deps/run.apt) ;;
  test) lists=(scripts/deps/*.apt) ;;
  *) echo "usage: scripts/setup.sh [run|test]" >&2; exit 2 ;;
esac

t0=$SECONDS
step() { echo "setup: $* ($((SECONDS - t0)) s)"; }

want=$(cat "${lists[@]}" 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=()
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # Wait for a dpkg lock held by another apt (unattended upgrades, a second
  # set-up) instead of failing.
  apt=(-o DPkg::Lock::Timeout=600)
  step "updating the Debian package lists"
  $SUDO apt-get "${apt[@]}" update -qq
  step "installing ${#missing[@]} Debian packages: ${missing[*]}"
  $SUDO apt-get "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  step "Debian packages installed"
else
  step "Debian packages: all $(echo "$want" | wc -w) present"
fi

step "downloading Go modules"
go mod download
step "Go modules present"
if [ "$mode" = test ]; then
  mkdir -p .bin
  if [ ! -x .bin/staticcheck ]; then
    step "installing staticcheck"
    GOBIN="$PWD/.bin" go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
  fi
  step "staticcheck present"
fi
