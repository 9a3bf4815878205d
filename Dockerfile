# syntax=docker/dockerfile:1
# Build the manager binary.
# Keep the Go version in step with go.mod (go 1.26) and the toolchain used in CI.
FROM golang:1.26.8 AS builder
ARG TARGETOS
ARG TARGETARCH
# Stamped into the binary (internal/version.Version); `make docker-build` passes `git describe`.
ARG VERSION=dev

WORKDIR /workspace
# Copy the Go Modules manifests and download the modules first, so that this layer is
# cached and only rebuilt when the dependencies change.
COPY go.mod go.mod
COPY go.sum go.sum
RUN go mod download

# Copy the Go source (see .dockerignore: only the manager's sources reach the build context).
COPY cmd/main.go cmd/main.go
COPY api/ api/
COPY internal/ internal/

# Build a static binary. GOARCH has no default so that the binary matches the platform the
# image is built for (docker buildx --platform sets TARGETOS/TARGETARCH).
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath \
      -ldflags "-s -w -X github.com/orgsync/orgsync/internal/version.Version=${VERSION}" \
      -o manager cmd/main.go

# Use distroless as minimal base image to package the manager binary.
# Refer to https://github.com/GoogleContainerTools/distroless for more details.
FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532

ENTRYPOINT ["/manager"]
