#!/usr/bin/env bash
# Builds the control-plane binaries that the integration tests run
# (internal/kubetest): kube-apiserver from tools/kube and etcd from tools/etcd.
# With the argument "conformance" it also builds what the Gateway API
# conformance harness (test/conformance) runs besides them:
# kube-controller-manager from tools/kube and the suite's echo server,
# echo-basic, at the version test/conformance requires.
#
# They go to .cache/kube/bin (or $STRAIT_KUBE_BIN when set). A binary is
# rebuilt only when its inputs (its module's go.mod and go.sum, its main
# package's files, the Go version, the build flags) changed since it was
# built: a stamp holding a sha256 of those inputs is kept next to each
# binary.
#
# From cold Go caches on 2 cores (while other builds shared the machine):
# etcd about 3 minutes, kube-apiserver 9 to 13 minutes, kube-controller-manager
# about 15 minutes alone but under 5 once kube-apiserver is built (they share
# most packages), echo-basic about 1 minute. When only the stamps changed:
# about 25 seconds for each Kubernetes binary, 3 for echo-basic. Nothing is
# downloaded except Go modules.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export PATH="/usr/local/go/bin:$PATH"
export GOWORK=off

what=${1:-}
case $what in
  "" | conformance) ;;
  *) echo "usage: $0 [conformance]" >&2; exit 2 ;;
esac

bin=${STRAIT_KUBE_BIN:-$root/.cache/kube/bin}
mkdir -p "$bin"

kube_version=v1.37.2
kube_ldflags="-X k8s.io/component-base/version.gitVersion=$kube_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"

# build NAME MODULE_DIR PACKAGE LDFLAGS builds PACKAGE (a directory
# relative to MODULE_DIR, or an import path) to $bin/NAME, unless
# $bin/NAME.stamp says it was built from the same inputs.
build() {
  local name=$1 dir=$2 pkg=$3 ldflags=$4
  local out=$bin/$name stamp=$bin/$name.stamp
  local want
  want=$(cd "$dir" && {
    cat go.mod go.sum
    # A package of the module itself: its sources are inputs too.
    if [ -d "$pkg" ]; then cat "$pkg"/*.go; fi
    echo "package=$pkg"
    go version
    echo "ldflags=$ldflags"
  } | sha256sum | cut -d' ' -f1)
  if [ -x "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "build-kube: $name is up to date ($out)"
    return 0
  fi
  echo "build-kube: building $name from ${dir#"$root"/} into $out"
  local start=$SECONDS
  rm -f "$stamp"
  (cd "$dir" && go build -mod=readonly -buildvcs=false -trimpath -ldflags "$ldflags" -o "$out.tmp.$$" "$pkg")
  mv -f "$out.tmp.$$" "$out"
  echo "$want" > "$stamp"
  echo "build-kube: built $name in $((SECONDS - start))s ($(du -h "$out" | cut -f1))"
}

total=$SECONDS
trap 'rm -f "$bin"/*.tmp.$$' EXIT
build etcd "$root/tools/etcd" . ""
build kube-apiserver "$root/tools/kube" ./kube-apiserver "$kube_ldflags"
# Check that both binaries run (not through head: SIGPIPE + pipefail).
etcd_version=$("$bin/etcd" --version)
echo "${etcd_version%%$'\n'*}"
"$bin/kube-apiserver" --version
if [ "$what" = conformance ]; then
  build kube-controller-manager "$root/tools/kube" ./kube-controller-manager "$kube_ldflags"
  build echo-basic "$root/test/conformance" sigs.k8s.io/gateway-api/conformance/echo-basic ""
  "$bin/kube-controller-manager" --version
fi
echo "build-kube: done in $((SECONDS - total))s"
