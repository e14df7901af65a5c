#!/usr/bin/env bash
# Runs the formatting check, go vet and every test. Measurements that tests
# log (route propagation under churn) are printed; the full verbose log is
# kept in .cache/test.log and printed when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
go vet ./...
# The integration tests need etcd and kube-apiserver; build them when
# missing (cached in .cache/kube/bin).
bash scripts/build-kube.sh
mkdir -p .cache
status=0
# -p 1: packages run one at a time, so that timing measurements (route
# propagation under churn) are not distorted by other packages competing
# for the two cores.
go test -p 1 -count=1 -timeout 30m -v ./... > .cache/test.log 2>&1 || status=$?
grep -E '^(ok|FAIL|---|panic:)|^\s+--- FAIL|churn_test.go:[0-9]+: ' .cache/test.log | grep -v -E '^\s*--- PASS' || true
# Each fuzz target of the parsers of user input runs briefly; a crash
# fails the run. Longer local runs: go test PKG -run XXX -fuzz NAME.
fuzztime=${FUZZTIME:-5s}
for target in \
  ./internal/annotations:FuzzParseSize \
  ./internal/annotations:FuzzParseCIDRs \
  ./internal/annotations:FuzzParseRedirectURL \
  ./internal/annotations:FuzzParseBoolInt \
  ./internal/proxy:FuzzParseRequest; do
  pkg=${target%%:*} name=${target##*:}
  if go test "$pkg" -run XXX -fuzz "^${name}\$" -fuzztime "$fuzztime" > .cache/fuzz.log 2>&1; then
    echo "fuzz $name $fuzztime: ok"
  else
    echo "fuzz $name: FAILED"; cat .cache/fuzz.log; status=1
  fi
done
if [ "$status" -ne 0 ]; then
  echo "tests failed; full log follows"
  cat .cache/test.log
fi
exit "$status"
