#!/usr/bin/env bash
# Runs kansoku serve on the embedded defaults (or with the flags given, e.g.
# --config kansoku.yaml), after installing what running needs (not the test
# tools: scripts/test.sh installs those).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run >&2
echo "run: building kansoku" >&2
go build -o .bin/kansoku ./cmd/kansoku
exec .bin/kansoku serve "$@"
