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
# The live view's browser test (internal/live) drives Debian's headless
# Chromium, with a font for its screenshots: installed when missing (as
# root; elsewhere the test fails and says what to install).
if ! command -v chromium >/dev/null || [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core
  fi
fi
# The Helm chart's tests (test/chart) need helm; built from tools/helm when
# missing or out of date (cached in .cache/helm/bin).
bash scripts/build-helm.sh
mkdir -p .cache
status=0
# -p 1: packages run one at a time, so that timing measurements (route
# propagation under churn) are not distorted by other packages competing
# for the two cores.
go test -p 1 -count=1 -timeout 30m -v ./... > .cache/test.log 2>&1 || status=$?
grep -E '^(ok|FAIL|---|panic:)|^\s+--- FAIL|(churn|propagation)_test.go:[0-9]+: ' .cache/test.log | grep -v -E '^\s*--- PASS|kubetest: cluster started' || true
# Each fuzz target of the parsers of user input runs briefly; a crash
# fails the run. Longer local runs: go test PKG -run XXX -fuzz NAME.
fuzztime=${FUZZTIME:-5s}
# Every fuzz target in the module is found and run, so that a new parser's
# target cannot be left out.
targets=$(for pkg in $(go list ./...); do
  # Packages without fuzz targets list none: grep finding nothing is fine.
  go test "$pkg" -list '^Fuzz' 2>/dev/null | { grep '^Fuzz' || true; } | sed "s|^|$pkg:|"
done)
if [ -z "$targets" ]; then
  echo "no fuzz targets found"; exit 1
fi
for target in $targets; do
  pkg=${target%%:*} name=${target##*:}
  # A crash always writes its input under testdata/fuzz. Go's fuzzer can
  # also fail with "context deadline exceeded" when -fuzztime ends while
  # a new input is being minimised (golang/go#56238): that is no crash, so
  # it is retried once and then reported without failing the run.
  ok=
  for attempt in 1 2; do
    if go test "$pkg" -run XXX -fuzz "^${name}\$" -fuzztime "$fuzztime" > .cache/fuzz.log 2>&1; then
      ok=yes; break
    fi
    if grep -q 'Failing input written' .cache/fuzz.log || ! grep -q 'context deadline exceeded' .cache/fuzz.log; then
      ok=no; break
    fi
  done
  case $ok in
    yes) echo "fuzz $name $fuzztime: ok" ;;
    no) echo "fuzz $name: FAILED"; cat .cache/fuzz.log; status=1 ;;
    *) echo "fuzz $name $fuzztime: no crash (the fuzzer stopped on its deadline twice, golang/go#56238)" ;;
  esac
done
if [ "$status" -ne 0 ]; then
  echo "tests failed; full log follows"
  cat .cache/test.log
fi
exit "$status"
