#!/usr/bin/env bash
# Runs kansoku serve on the embedded defaults (or with the flags given, e.g.
# --config kansoku.yaml), after installing what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2
go build -o .bin/kansoku ./cmd/kansoku
exec .bin/kansoku serve "$@"
