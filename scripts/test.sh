#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, gofmt, go vet, staticcheck,
# and go test -race over the whole tree (fuzz seed corpora included).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.bin/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
echo "== go vet"
go vet ./...
echo "== staticcheck"
if ! .bin/staticcheck ./...; then
  echo "staticcheck reported findings (listed above)"; exit 1
fi
echo "== go test -race"
mkdir -p artifacts
go test -race -count=1 -timeout 25m "$@" ./... 2>&1 | tee artifacts/test.log
