#!/usr/bin/env bash
# Builds the helm command that the tests of the Helm chart (test/chart) run,
# from the module in tools/helm (helm.sh/helm/v3 at the version its go.mod
# requires), into .cache/helm/bin (or $STRAIT_HELM_BIN when set).
#
# helm is rebuilt only when its inputs (tools/helm's go.mod and go.sum, the
# Go version, the build flags) changed since it was built: a stamp holding
# a sha256 of those inputs is kept next to the binary.
#
# From a cold build cache on 2 cores (Go modules already downloaded, other
# builds sharing the machine): about 4.5 minutes, a 76 MB binary; nothing
# when up to date. Nothing is downloaded except Go modules.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export PATH="/usr/local/go/bin:$PATH"
export GOWORK=off

bin=${STRAIT_HELM_BIN:-$root/.cache/helm/bin}
mkdir -p "$bin"
dir=$root/tools/helm
pkg=helm.sh/helm/v3/cmd/helm

# The version helm reports, and the Kubernetes version its lint rules and
# its default capabilities (helm template without a cluster) assume: those
# of the modules tools/helm builds with, as Helm's own Makefile sets them.
helm_version=$(cd "$dir" && go list -m -f '{{.Version}}' helm.sh/helm/v3)
k8s_minor=$(cd "$dir" && go list -m -f '{{.Version}}' k8s.io/client-go | cut -d. -f2)
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$k8s_minor"
done

out=$bin/helm stamp=$bin/helm.stamp
want=$(cd "$dir" && { cat go.mod go.sum; go version; echo "ldflags=$ldflags"; } | sha256sum | cut -d' ' -f1)
if [ -x "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "build-helm: helm is up to date ($out)"
else
  echo "build-helm: building helm $helm_version from tools/helm into $out"
  start=$SECONDS
  trap 'rm -f "$out.tmp.$$"' EXIT
  rm -f "$stamp"
  (cd "$dir" && go build -mod=readonly -buildvcs=false -trimpath -ldflags "$ldflags" -o "$out.tmp.$$" "$pkg")
  mv -f "$out.tmp.$$" "$out"
  echo "$want" > "$stamp"
  echo "build-helm: built helm in $((SECONDS - start))s ($(du -h "$out" | cut -f1))"
fi
"$out" version --short
