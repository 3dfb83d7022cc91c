# syntax=docker/dockerfile:1.7
#
# taskd: one image for every role (`taskd serve --role=api|worker|all`).
#
#   docker build -t taskd --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg REVISION=$(git rev-parse HEAD) .
#
# Checked offline by deploy/checks/docker (buildkit's parser): pinned bases,
# static build, non-root USER, OCI labels, no HEALTHCHECK, no secrets. The Go
# version below must equal the `go` line of go.mod (the check compares them).
# Base images are pinned by version or digest; bump them deliberately.

# ---- build: a static binary --------------------------------------------------
FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm AS build
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
WORKDIR /src

# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/taskd ./cmd/taskd

# The embedded mode's data directory, owned by the runtime user (65532).
RUN mkdir -p /out/data && chown 65532:65532 /out/data

# ---- runtime: distroless static, no shell, runs as nonroot (65532) ----------
# gcr.io/distroless/static-debian12:nonroot as of 2026-08-26
# (update: crane digest gcr.io/distroless/static-debian12:nonroot)
FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab AS runtime
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="taskd" \
      org.opencontainers.image.description="Team task tracker: API and event workers in one binary" \
      org.opencontainers.image.source="https://github.com/taskd/taskd" \
      org.opencontainers.image.licenses="UNLICENSED" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

COPY --from=build /out/taskd /taskd
COPY --from=build --chown=65532:65532 /out/data /data

# Listen on every interface inside the container (the binary's default is
# loopback); everything else comes from the orchestrator's environment.
ENV TASKD_ADDR=0.0.0.0:8080 \
    TASKD_DATA_DIR=/data
EXPOSE 8080
USER 65532:65532
# No HEALTHCHECK: ECS, Kubernetes and compose probe /healthz and /readyz.
ENTRYPOINT ["/taskd"]
CMD ["serve", "--role=all"]
