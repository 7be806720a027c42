# syntax=docker/dockerfile:1
# modshop in one static binary on distroless. Build:
#   docker build --build-arg VERSION=$(git describe --always --dirty) -t modshop .

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
COPY cmd ./cmd
COPY platform ./platform
COPY modules ./modules
ARG VERSION=dev
# The cache mounts keep modules and compiled packages between builds; only
# the modules the binary imports are downloaded (go.mod also lists the lint
# tools, which the image does not need).
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/modshop/modshop/platform/app.Version=${VERSION}" \
      -o /out/modshop ./cmd/modshop && \
    mkdir -p /out/data

# static-debian12 has CA certificates, tzdata and a nonroot user (65532), and
# no shell or HTTP client: probe GET /healthz (alive) and GET /readyz (ready)
# from outside (a Kubernetes httpGet probe, a load balancer), or run
# `/modshop probe` in the container, which asks /readyz itself (docker
# compose's replicas profile does). No HEALTHCHECK is declared here: where
# the image runs decides how readiness is checked.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/modshop /modshop
# The data folder holds the SQLite database (when MODSHOP_DATABASE_URL is not
# set) and the generated JWT key (when MODSHOP_JWT_SECRET is not set).
COPY --from=build --chown=65532:65532 /out/data /data
ENV MODSHOP_DATA_DIR=/data
VOLUME /data
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/modshop"]
CMD ["serve"]
