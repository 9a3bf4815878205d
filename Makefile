# Image URL to use all building/pushing image targets
IMG ?= orgsync/controller:latest

# Get the currently used golang install path (in GOPATH/bin, unless GOBIN is set)
ifeq (,$(shell go env GOBIN))
GOBIN=$(shell go env GOPATH)/bin
else
GOBIN=$(shell go env GOBIN)
endif

# Setting SHELL to bash allows bash commands to be executed by recipes.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS ?= -X github.com/orgsync/orgsync/internal/version.Version=$(VERSION)

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs and RBAC from the markers in api/ and internal/controller/.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run go fmt against code.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet against code.
	go vet ./...

.PHONY: verify-generated
verify-generated: manifests generate build-installer ## Fail when committed generated files (api, config, dist) differ from what the markers produce.
	@if [ -n "$$(git status --porcelain -- api config dist)" ]; then \
		echo "Generated files are stale; run 'make manifests generate build-installer' and commit:"; \
		git status --porcelain -- api config dist; git --no-pager diff --stat -- api config dist; exit 1; \
	fi

.PHONY: test
test: manifests generate fmt vet k8s-binaries kustomize helm ## Run unit and envtest integration tests against a real API server, and the bench smoke run.
	KUBEBUILDER_ASSETS="$(K8S_BIN_DIR)" go test ./... -race -count=1 -timeout 30m -coverprofile cover.out

BENCH_FLAGS ?=
.PHONY: e2e
e2e: k8s-binaries k8s-node-binaries helm ## Run the manager's image on a real single-node cluster (root; containerd, the kubelet, kube-proxy): install.yaml, the chart, leader failover, metrics, garbage collection.
	K8S_BIN_DIR="$(K8S_BIN_DIR)" K8S_NODE_BIN_DIR="$(K8S_NODE_BIN_DIR)" HELM="$(HELM)" hack/e2e.sh

.PHONY: bench
bench: k8s-binaries ## Measure orgsync at scale: 10,000 OrgUsers, every scenario of docs/benchmarks.md (about half an hour on 2 cores); prints the table.
	go run ./test/bench --assets "$(K8S_BIN_DIR)" $(BENCH_FLAGS)

.PHONY: bench-smoke
bench-smoke: k8s-binaries ## Run every bench scenario once with 100 OrgUsers and short intervals (make test runs it as test/bench's TestBenchSmoke).
	go run ./test/bench --assets "$(K8S_BIN_DIR)" --smoke

FUZZTIME ?= 30s
.PHONY: fuzz
fuzz: ## Run every Fuzz target for FUZZTIME each (default 30s; a count such as 30000x runs that many inputs); crashers land in the package's testdata/fuzz.
	FUZZTIME="$(FUZZTIME)" hack/fuzz.sh

.PHONY: lint
lint: golangci-lint ## Run golangci-lint.
	$(GOLANGCI_LINT) run

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and apply its fixes.
	$(GOLANGCI_LINT) run --fix

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary.
	go build -ldflags "$(LDFLAGS)" -o bin/manager cmd/main.go

KEEP ?=
.PHONY: demo
demo: k8s-binaries ## Run orgsync end to end on a local control plane and a simulated upstream (KEEP=1 keeps it running).
	go run ./cmd/demo --assets "$(K8S_BIN_DIR)" $(if $(KEEP),--keep)

.PHONY: run
run: manifests generate fmt vet ## Run the manager against the cluster of the current kubeconfig.
	go run -ldflags "$(LDFLAGS)" ./cmd/main.go

.PHONY: docker-build
docker-build: ## Build the manager image (needs a Docker engine).
	docker build --build-arg VERSION=$(VERSION) -t ${IMG} .

IMAGE_TAR ?= bin/orgsync-controller.tar
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
.PHONY: image
image: ## Build the manager image as an OCI tarball (IMAGE_TAR, tagged IMG) with no registry or container engine: ctr images import / kind load image-archive / docker load.
	mkdir -p "$(dir $(IMAGE_TAR))"
	CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w $(LDFLAGS)" -o "$(IMAGE_TAR).manager" cmd/main.go
	go run ./hack/image --binary "$(IMAGE_TAR).manager" --ca-bundle "$(CA_BUNDLE)" --tag "$(IMG)" --out "$(IMAGE_TAR)"

.PHONY: build-installer
build-installer: manifests generate kustomize helm-chart-files ## Generate dist/install.yaml (CRDs, namespace, RBAC, Deployment, metrics Service) with image IMG; commit it.
	mkdir -p dist
	cd config/manager && $(KUSTOMIZE) edit set image controller=${IMG}
	$(KUSTOMIZE) build config/default > dist/install.yaml

CHART_DIR ?= dist/chart
# The chart renders the CRDs and RBAC roles from verbatim copies of config/ kept in $(CHART_DIR)/files,
# so they never drift from what the markers generate. Everything else in the chart is hand-written.
.PHONY: helm-chart-files
helm-chart-files: manifests ## Copy the generated CRDs and the RBAC roles of config/ into the Helm chart (dist/chart/files).
	rm -rf $(CHART_DIR)/files/crds $(CHART_DIR)/files/rbac
	mkdir -p $(CHART_DIR)/files/crds $(CHART_DIR)/files/rbac
	cp config/crd/bases/*.yaml $(CHART_DIR)/files/crds/
	cp config/rbac/*role.yaml $(CHART_DIR)/files/rbac/

.PHONY: helm-lint
helm-lint: helm ## Lint the Helm chart in dist/chart (strict), with its default values and with the optional parts off.
	$(HELM) lint --strict $(CHART_DIR)
	$(HELM) lint --strict $(CHART_DIR) --set replicaCount=2 --set metrics.enabled=false --set rbacHelpers.enabled=false --set crd.enabled=false
	$(HELM) lint --strict $(CHART_DIR) --set networkPolicy.enabled=true --set 'networkPolicy.apiServer.cidrs={10.96.0.1/32}'
	$(HELM) template orgsync $(CHART_DIR) --namespace orgsync-system > /dev/null

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests kustomize ## Install the CRDs into the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) apply --server-side -f -

.PHONY: uninstall
uninstall: manifests kustomize ## Remove the CRDs from the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: manifests kustomize ## Deploy the controller to the cluster of the current kubeconfig.
	cd config/manager && $(KUSTOMIZE) edit set image controller=${IMG}
	$(KUSTOMIZE) build config/default | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: kustomize ## Remove the controller from the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/default | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

##@ Dependencies

LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p $(LOCALBIN)

KUBECTL ?= kubectl
K8S_BIN_DIR ?= $(LOCALBIN)/k8s
K8S_NODE_BIN_DIR ?= $(K8S_BIN_DIR)
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
KUSTOMIZE ?= $(LOCALBIN)/kustomize
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint
HELM ?= $(LOCALBIN)/helm

CONTROLLER_TOOLS_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.8.2
GOLANGCI_LINT_VERSION ?= v2.15.0
HELM_VERSION ?= v3.22.0

.PHONY: k8s-binaries
k8s-binaries: ## Build kube-apiserver, etcd and kubectl from the Go module proxy into bin/k8s (once).
	K8S_BIN_DIR="$(K8S_BIN_DIR)" hack/build-k8s-binaries.sh

.PHONY: k8s-node-binaries
k8s-node-binaries: ## Build kubelet, kube-proxy, kube-scheduler and kube-controller-manager from the Go module proxy into bin/k8s (once), for make e2e.
	K8S_NODE_BIN_DIR="$(K8S_NODE_BIN_DIR)" hack/build-k8s-node-binaries.sh

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Install controller-gen locally.
$(CONTROLLER_GEN): $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Install kustomize locally.
$(KUSTOMIZE): $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Install golangci-lint locally.
$(GOLANGCI_LINT): $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

.PHONY: helm
helm: $(HELM) ## Install helm locally.
$(HELM): $(LOCALBIN)
	$(call go-install-tool,$(HELM),helm.sh/helm/v3/cmd/helm,$(HELM_VERSION))

# go-install-tool will 'go install' any package with custom target and name of binary, if it doesn't exist
# $1 - target path with name of binary
# $2 - package url which can be installed
# $3 - specific version of package
define go-install-tool
@[ -f "$(1)-$(3)" ] && [ "$$(readlink -- "$(1)" 2>/dev/null)" = "$(notdir $(1))-$(3)" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Downloading $${package}" ;\
rm -f "$(1)" ;\
GOBIN="$(LOCALBIN)" go install $${package} ;\
mv "$(LOCALBIN)/$$(basename "$(1)")" "$(1)-$(3)" ;\
} ;\
ln -sf "$$(basename "$(1)")-$(3)" "$(1)"
endef
