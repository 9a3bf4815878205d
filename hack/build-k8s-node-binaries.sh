#!/usr/bin/env bash
# Builds the node side of a single-node cluster for `make e2e` (kubelet, kube-proxy, kube-scheduler,
# kube-controller-manager) from the Go module proxy into bin/k8s/, the way hack/build-k8s-binaries.sh
# builds kube-apiserver: same Kubernetes version (go.mod's k8s.io/api v0.Y.Z -> v1.Y.Z), same per-user
# cache, so a fresh clone on the same machine copies instead of compiling (about five minutes on two
# cores the first time).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${K8S_NODE_BIN_DIR:-${K8S_BIN_DIR:-$root/bin/k8s}}
api_version=$(cd "$root" && go list -m -f '{{.Version}}' k8s.io/api)
kube_version="v1.${api_version#v0.}"
stamp="$out/.node-version"

binaries=(kubelet kube-proxy kube-scheduler kube-controller-manager)
cache=${ORGSYNC_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/orgsync/k8s/$kube_version}

have_all() { for b in "${binaries[@]}"; do [[ -x $1/$b ]] || return 1; done; }

if have_all "$out" && [[ "$(cat "$stamp" 2>/dev/null)" == "$kube_version" ]]; then
  exit 0
fi
if have_all "$cache"; then
  mkdir -p "$out"
  for b in "${binaries[@]}"; do cp "$cache/$b" "$out/$b.tmp" && mv "$out/$b.tmp" "$out/$b"; done
  echo "$kube_version" > "$stamp"
  echo ">> Kubernetes node binaries $kube_version copied from $cache" >&2
  exit 0
fi

echo ">> Building ${binaries[*]} $kube_version into $out (first run only; about five minutes on two cores)" >&2
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# As in hack/build-k8s-binaries.sh: outside its own tree, each staging module the kubernetes module
# points at ./staging is replaced with the published v0.Y.Z module.
kube_mod="$work/kubernetes.mod"
(cd "$work" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$kube_version") |
  sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p' | xargs -I{} cp {} "$kube_mod"

mkdir -p "$work/kube"
{
  echo "module orgsync.local/k8s-node-binaries"
  echo
  echo "go $(go env GOVERSION | sed 's/^go//; s/\.[0-9]*$//').0"
  echo
  echo "require k8s.io/kubernetes $kube_version"
  echo
  awk '/^require \(/{in_req=1; next} in_req && /^\)/{in_req=0} in_req && $1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' "$kube_mod" |
    sort -u | while read -r mod; do echo "replace $mod => $mod $api_version"; done
} > "$work/kube/go.mod"

ldflags="-s -w \
  -X k8s.io/component-base/version.gitVersion=$kube_version \
  -X k8s.io/component-base/version.gitMajor=1 \
  -X k8s.io/component-base/version.gitMinor=$(echo "$api_version" | cut -d. -f2) \
  -X k8s.io/client-go/pkg/version.gitVersion=$kube_version"

cd "$work/kube"
{
  echo '//go:build tools'
  echo
  echo 'package tools'
  echo
  echo 'import ('
  for b in "${binaries[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$b\""; done
  echo ')'
} > tools.go
echo ">> Resolving modules for the node binaries $kube_version" >&2
GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true

# One go build for all four shares the compile of the packages they have in common; -v lines counted
# show progress without flooding the log.
log="$work/build.log"
: > "$log"
pkgs=()
for b in "${binaries[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -v -trimpath -ldflags "$ldflags" -o "$work/out/" "${pkgs[@]}" > "$log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  printf '\r   node binaries: %d packages compiled' "$(wc -l < "$log")" >&2
  sleep 5
done
if ! wait "$pid"; then
  echo >&2
  cat "$log" >&2
  echo ">> Building the node binaries failed" >&2
  exit 1
fi
printf '\r   node binaries: done (%d packages)            \n' "$(wc -l < "$log")" >&2
for b in "${binaries[@]}"; do mv "$work/out/$b" "$out/$b.tmp" && mv "$out/$b.tmp" "$out/$b"; done

echo "$kube_version" > "$stamp"
if mkdir -p "$cache" 2>/dev/null; then
  for b in "${binaries[@]}"; do cp "$out/$b" "$cache/$b.tmp" && mv "$cache/$b.tmp" "$cache/$b"; done
fi
echo ">> Kubernetes node binaries ready in $out" >&2
