#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, gofmt, go vet, staticcheck,
# and go test -race over the whole tree (fuzz seed corpora included). Each
# package is printed as it finishes, failing tests' output at once, and at the
# end every skipped test with its reason and a "N passed, N failed, N skipped"
# line. The full `go test -json` stream is kept in artifacts/test.json.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
step() { echo "== $* ($((SECONDS - t0)) s)"; }

step "set-up"
scripts/setup.sh test

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.bin/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
step "go vet"
go vet ./...
step "staticcheck"
if ! .bin/staticcheck ./...; then
  echo "staticcheck reported findings (listed above)"; exit 1
fi
step "building the test report tool"
mkdir -p artifacts .bin
go build -o .bin/testreport ./scripts/testreport
step "go test -race (each package is listed as it finishes)"
set +e
go test -race -count=1 -json -timeout 25m "$@" ./... 2>&1 | tee artifacts/test.json | .bin/testreport
status=("${PIPESTATUS[@]}")
set -e
step "done"
if [ "${status[0]}" -ne 0 ] || [ "${status[2]}" -ne 0 ]; then
  echo "FAIL (go test exit ${status[0]}, report exit ${status[2]})"
  exit 1
fi
