#!/usr/bin/env bash
# `make e2e`: builds the manager's image (as `make image` does) and a pause image, brings up the
# single-node cluster of hack/e2e-node.sh, runs test/e2e against it, and tears it down whatever the
# tests did, then checks the machine is as it was. Exit status: the tests', or 1 if the machine is not
# left clean.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

export E2E_DIR=${E2E_DIR:-/tmp/orgsync-e2e}
images=$(mktemp -d /tmp/orgsync-e2e-images.XXXXXX)
logs=${E2E_LOGS:-/tmp/orgsync-e2e-logs}

finish() {
  local rc=$? clean=0
  hack/e2e-node.sh down || true
  hack/e2e-node.sh check || clean=1
  rm -rf "$logs" && mkdir -p "$logs" && cp -r "$E2E_DIR/logs/." "$logs/" 2> /dev/null || true
  [[ -e $E2E_DIR/after ]] && cp -r "$E2E_DIR/after" "$logs/machine-after" 2> /dev/null
  rm -rf "$E2E_DIR" "$images"
  echo ">> Node logs in $logs" >&2
  if ((rc == 0 && clean != 0)); then rc=1; fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

start=$(date +%s)
echo ">> Building the images" >&2
make --no-print-directory image IMG=orgsync/controller:e2e IMAGE_TAR="$images/controller.tar" > "$images/build.log" 2>&1 ||
  { cat "$images/build.log" >&2; exit 1; }
# The same image under a second tag, for the chart's upgrade.
go run ./hack/image --binary "$images/controller.tar.manager" --ca-bundle "${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}" \
  --tag orgsync/controller:e2e-2 --out "$images/controller-2.tar" > /dev/null
CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$images/pause" ./hack/image/pause
go run ./hack/image --binary "$images/pause" --entrypoint /pause --tag orgsync.local/pause:e2e --out "$images/pause.tar" > /dev/null
export E2E_PAUSE_TAR="$images/pause.tar" E2E_IMAGES="$images/controller.tar $images/controller-2.tar"

hack/e2e-node.sh up
export E2E_KUBECONFIG="$E2E_DIR/admin.kubeconfig" E2E_NODE_IP=10.213.0.1 E2E_IMAGE=orgsync/controller:e2e \
  E2E_IMAGE_2=orgsync/controller:e2e-2 E2E_KUBECTL="${K8S_BIN_DIR:-$root/bin/k8s}/kubectl" E2E_HELM="${HELM:-$root/bin/helm}"
go test -tags e2e ./test/e2e -count=1 -v -timeout 20m ${E2E_RUN:+-run "$E2E_RUN"}
echo ">> e2e passed in $(($(date +%s) - start))s" >&2
