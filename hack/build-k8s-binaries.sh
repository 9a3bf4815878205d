#!/usr/bin/env bash
# Builds kube-apiserver, etcd and kubectl from the Go module proxy into bin/k8s/, at the Kubernetes
# version that matches go.mod's k8s.io/api (v0.Y.Z -> v1.Y.Z). No release binaries are downloaded:
# this machine reaches only the module proxy. A stamp file makes later runs a no-op.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${K8S_BIN_DIR:-$root/bin/k8s}
api_version=$(cd "$root" && go list -m -f '{{.Version}}' k8s.io/api)
kube_version="v1.${api_version#v0.}"
stamp="$out/.version"

binaries=(kube-apiserver etcd kubectl)
# A per-user cache outside the checkout lets a fresh clone on the same machine skip the build.
cache=${ORGSYNC_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/orgsync/k8s/$kube_version}

have_all() { for b in "${binaries[@]}"; do [[ -x $1/$b ]] || return 1; done; }

if have_all "$out" && [[ "$(cat "$stamp" 2>/dev/null)" == "$kube_version" ]]; then
  exit 0
fi
if have_all "$cache"; then
  mkdir -p "$out"
  for b in "${binaries[@]}"; do cp "$cache/$b" "$out/$b.tmp" && mv "$out/$b.tmp" "$out/$b"; done
  echo "$kube_version" > "$stamp"
  echo ">> Kubernetes test binaries $kube_version copied from $cache" >&2
  exit 0
fi

echo ">> Building kube-apiserver, etcd and kubectl $kube_version into $out (first run only; about fifteen minutes on two cores)" >&2
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The kubernetes module points its staging repositories at ./staging; outside its tree each one must
# be replaced with the published module of the matching v0.Y.Z version.
kube_mod="$work/kubernetes.mod"
(cd "$work" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$kube_version") |
  sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p' | xargs -I{} cp {} "$kube_mod"

mkdir -p "$work/kube"
{
  echo "module orgsync.local/k8s-binaries"
  echo
  echo "go $(go env GOVERSION | sed 's/^go//; s/\.[0-9]*$//').0"
  echo
  echo "require k8s.io/kubernetes $kube_version"
  echo
  awk '/^require \(/{in_req=1; next} in_req && /^\)/{in_req=0} in_req && $1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' "$kube_mod" |
    sort -u | while read -r mod; do echo "replace $mod => $mod $api_version"; done
} > "$work/kube/go.mod"

# go build -v names each package as it is compiled; counting them shows progress during a long first
# build without flooding the log. The full output is kept for when something fails.
build() {
  local what=$1; shift
  local log="$work/build-$what.log" count=0 line
  echo ">> Compiling $what" >&2
  # Created before the build starts: the progress loop below may look before the background job has
  # opened it, and under set -e a missing file would end the script.
  : > "$log"
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -v -trimpath "$@" > "$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    count=$(wc -l < "$log")
    printf '\r   %s: %d packages compiled' "$what" "$count" >&2
    sleep 5
  done
  if ! wait "$pid"; then
    echo >&2
    cat "$log" >&2
    echo ">> Building $what failed" >&2
    return 1
  fi
  printf '\r   %s: done (%d packages)            \n' "$what" "$(wc -l < "$log")" >&2
}

ldflags="-s -w \
  -X k8s.io/component-base/version.gitVersion=$kube_version \
  -X k8s.io/component-base/version.gitMajor=1 \
  -X k8s.io/component-base/version.gitMinor=$(echo "$api_version" | cut -d. -f2) \
  -X k8s.io/client-go/pkg/version.gitVersion=$kube_version"

(
  cd "$work/kube"
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  echo ">> Resolving modules for kube-apiserver $kube_version" >&2
  GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true
  build kube-apiserver -ldflags "$ldflags" -o "$out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  build kubectl -ldflags "$ldflags" -o "$out/kubectl" k8s.io/kubernetes/cmd/kubectl
)

# etcd at the server version the kubernetes module itself depends on.
etcd_version=$(awk '$1 == "go.etcd.io/etcd/server/v3" {print $2}' "$kube_mod")
mkdir -p "$work/etcd"
(
  cd "$work/etcd"
  printf 'module orgsync.local/etcd-binary\n\ngo 1.26.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$etcd_version" > go.mod
  cat > tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true
  build "etcd $etcd_version" -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3
)

echo "$kube_version" > "$stamp"
if mkdir -p "$cache" 2>/dev/null; then
  for b in "${binaries[@]}"; do cp "$out/$b" "$cache/$b.tmp" && mv "$cache/$b.tmp" "$cache/$b"; done
fi
echo ">> Kubernetes test binaries ready in $out" >&2
